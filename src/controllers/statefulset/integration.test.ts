// The StatefulSet controller against a real API server, through the real client, informers and
// work queue: its revisions, claims, pods and status writes pass the server's validation, and
// OrderedReady waits for a kubelet (played by the test) to report web-0 Running and Ready.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ControllerRevision, StatefulSet } from "kubernetes-types/apps/v1.js";
import type { PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1.js";
import { type RestClient } from "../../client/rest.js";
import { until as waitUntil } from "../../testing/wait.js";
import { runControllersAgainstApiServer, type ControllersAgainstApiServer } from "../../testing/controllers.js";
import { CONTROLLER_REVISION_HASH_LABEL } from "../history/history.js";
import { STATEFULSET_WORKERS, statefulSetController } from "./index.js";

const until = <T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 15_000): Promise<T> => waitUntil(what, probe, ms);

void describe("statefulset controller against an API server", () => {
  let h: ControllersAgainstApiServer;
  let client: RestClient;

  before(async () => {
    h = await runControllersAgainstApiServer((ctx) => [[statefulSetController(ctx), STATEFULSET_WORKERS]]);
    client = h.client;
  });

  after(() => h?.stop());

  void it("creates web-0 and its claim, then web-1 only once web-0 is Running and Ready, reports the status for kubectl, and rolls a template change from web-1 down", async () => {
    const sets = client.forKind("apps/v1", "StatefulSet").namespace("default");
    const pods = client.forKind("v1", "Pod").namespace("default");
    const pvcs = client.forKind("v1", "PersistentVolumeClaim").namespace("default");
    await sets.create({
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "web" },
      spec: {
        replicas: 2,
        serviceName: "nginx",
        selector: { matchLabels: { app: "web" } },
        // No volumeMount of "www": this API server still rejects a mount of a claim template's
        // volume (upstream validates the template's pod spec without that check).
        template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "nginx", image: "nginx:1" }] } },
        volumeClaimTemplates: [{ metadata: { name: "www" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } }],
      },
    } as StatefulSet);
    const names = async (): Promise<string[]> => (await pods.list()).items.map((p) => p.metadata?.name ?? "").sort();

    const web0 = await until("web-0", async () => (await names()).includes("web-0") ? pods.get("web-0") : undefined);
    assert.equal(web0.spec?.hostname, "web-0");
    assert.equal(web0.spec?.subdomain, "nginx");
    assert.deepEqual(web0.spec?.volumes?.find((v) => v.name === "www")?.persistentVolumeClaim, { claimName: "www-web-0", readOnly: false });
    assert.equal(web0.metadata?.labels?.["statefulset.kubernetes.io/pod-name"], "web-0");
    assert.equal(web0.metadata?.labels?.["apps.kubernetes.io/pod-index"], "0");
    const claim0 = (await pvcs.get("www-web-0")) as PersistentVolumeClaim;
    assert.deepEqual(claim0.metadata?.labels, { app: "web" });
    const revisions = (await client.forKind("apps/v1", "ControllerRevision").namespace("default").list()).items as ControllerRevision[];
    assert.equal(revisions.length, 1);
    assert.equal(web0.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL], revisions[0]!.metadata?.name);

    // The status of the sync that saw web-0 Pending comes after web-0 is in the cache: by then
    // OrderedReady has had its chance to create web-1 and must not have.
    await until("status: 1 replica, observed", async () => {
      const s = (await sets.get("web")).status;
      return s?.replicas === 1 && s.observedGeneration === 1 ? s : undefined;
    });
    assert.deepEqual(await names(), ["web-0"]);

    const fresh = (await pods.get("web-0")) as Pod;
    const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    await pods.updateStatus({ ...fresh, status: { ...fresh.status, phase: "Running", conditions: [{ type: "Ready", status: "True", lastTransitionTime: now }] } });

    await until("web-1 and its claim", async () => ((await names()).includes("web-1") && (await pvcs.list()).items.some((c) => c.metadata?.name === "www-web-1") ? true : undefined));
    const status = await until("status: 2 replicas, 1 ready", async () => {
      const s = (await sets.get("web")).status;
      return s?.replicas === 2 && s.readyReplicas === 1 ? s : undefined;
    });
    assert.equal(status.currentRevision, revisions[0]!.metadata?.name);
    assert.equal(status.updateRevision, revisions[0]!.metadata?.name);
    assert.ok(h.events.lines().includes("Normal SuccessfulCreate create Pod web-1 in StatefulSet web successful"));

    const fresh1 = (await pods.get("web-1")) as Pod;
    await pods.updateStatus({ ...fresh1, status: { ...fresh1.status, phase: "Running", conditions: [{ type: "Ready", status: "True", lastTransitionTime: now }] } });
    await until("status: 2 ready", async () => ((await sets.get("web")).status?.readyReplicas === 2 ? true : undefined));
    const out = await h.srv.kubectl(["rollout", "status", "sts/web", "--timeout=10s"]);
    // partition 0 is set by defaulting, so kubectl reports a partitioned rollout.
    assert.match(out.stdout, /^partitioned roll out complete: 2 new pods have been updated/, out.stderr);

    // A template change rolls web-1, then web-0, each recreated from revision 2 once the one
    // above it is ready again; the test plays the kubelet for every pod that appears.
    const markReady = async (): Promise<void> => {
      for (const p of (await pods.list()).items as Pod[]) {
        if (p.metadata?.deletionTimestamp || p.status?.phase === "Running") continue;
        const ts = new Date().toISOString().replace(/\.\d+Z$/, "Z");
        await pods.updateStatus({ ...p, status: { ...p.status, phase: "Running", conditions: [{ type: "Ready", status: "True", lastTransitionTime: ts }] } });
      }
    };
    await sets.patch("web", "merge", { spec: { template: { spec: { containers: [{ name: "nginx", image: "nginx:2" }] } } } });
    const rolled = await until("currentRevision = updateRevision = revision 2, both pods ready", async () => {
      await markReady();
      const s = (await sets.get("web")).status;
      return s?.observedGeneration === 2 && s.updateRevision !== revisions[0]!.metadata?.name && s.currentRevision === s.updateRevision && s.readyReplicas === 2 && s.updatedReplicas === 2 ? s : undefined;
    });
    const after = (await pods.list()).items as Pod[];
    assert.deepEqual(after.map((p) => [p.metadata?.name, p.spec?.containers[0]?.image, p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL]]).sort(), [
      ["web-0", "nginx:2", rolled.updateRevision],
      ["web-1", "nginx:2", rolled.updateRevision],
    ]);
    const deletes = h.events.lines().filter((l) => l.startsWith("Normal SuccessfulDelete"));
    assert.deepEqual(deletes, ["Normal SuccessfulDelete delete Pod web-1 in StatefulSet web successful", "Normal SuccessfulDelete delete Pod web-0 in StatefulSet web successful"], "from the highest ordinal down");
    const revs = (await client.forKind("apps/v1", "ControllerRevision").namespace("default").list()).items;
    assert.deepEqual(revs.map((r) => r.revision).sort(), [1, 2]);

    // kubectl rollout undo applies revision 1's patch; the controller renumbers it to 3.
    const undo = await h.srv.kubectl(["rollout", "undo", "sts/web"]);
    assert.equal(undo.stderr, "");
    await until("revision 1 renumbered to 3 and rolled out", async () => {
      await markReady();
      const s = (await sets.get("web")).status;
      const r = (await client.forKind("apps/v1", "ControllerRevision").namespace("default").list()).items as ControllerRevision[];
      const first = r.find((x) => x.metadata?.name === revisions[0]!.metadata?.name);
      return first?.revision === 3 && s?.currentRevision === first.metadata?.name && s?.updatedReplicas === 2 && s?.readyReplicas === 2 ? true : undefined;
    });
    assert.deepEqual(((await pods.list()).items as Pod[]).map((p) => p.spec?.containers[0]?.image), ["nginx:1", "nginx:1"]);
    assert.ok(h.events.lines().includes("Normal SuccessfulCreate create Claim www-web-1 Pod web-1 in StatefulSet web success"));
  });
});
