// The DaemonSet controller against a real API server, through the real client, informers and
// work queue: its pods, revisions and status writes pass the server's validation.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ControllerRevision, DaemonSet } from "kubernetes-types/apps/v1.js";
import type { Node, Pod } from "kubernetes-types/core/v1.js";
import { type RestClient } from "../../client/rest.js";
import { until as waitUntil } from "../../testing/wait.js";
import { runControllersAgainstApiServer, type ControllersAgainstApiServer } from "../../testing/controllers.js";
import { CONTROLLER_REVISION_HASH_LABEL } from "../history/history.js";
import { DAEMONSET_WORKERS, daemonSetController } from "./index.js";

const until = <T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 15_000): Promise<T> => waitUntil(what, probe, ms);

void describe("daemonset controller against an API server", () => {
  let h: ControllersAgainstApiServer;
  let client: RestClient;

  before(async () => {
    h = await runControllersAgainstApiServer((ctx) => [[daemonSetController(ctx), DAEMONSET_WORKERS]]);
    client = h.client;
  });

  after(() => h?.stop());

  void it("puts one pod per node, pinned by matchFields, records the revision and reports the status; a template change rolls the pods", async () => {
    const nodes = client.forKind("v1", "Node");
    for (const name of ["worker-1", "worker-2"]) await nodes.create({ apiVersion: "v1", kind: "Node", metadata: { name, labels: { "kubernetes.io/hostname": name } } } as Node);
    const dsApi = client.forKind("apps/v1", "DaemonSet").namespace("default");
    const pods = client.forKind("v1", "Pod").namespace("default");
    const ds = await dsApi.create({
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "agent" },
      spec: {
        selector: { matchLabels: { app: "agent" } },
        template: { metadata: { labels: { app: "agent" } }, spec: { containers: [{ name: "c", image: "agent:1" }] } },
      },
    } as DaemonSet);
    const uid = ds.metadata!.uid!;
    const owned = async (): Promise<Pod[]> => (await pods.list()).items.filter((p) => !p.metadata?.deletionTimestamp && p.metadata?.ownerReferences?.some((r) => r.uid === uid && r.controller));
    const created = await until("2 pods owned by the DaemonSet", async () => {
      const o = await owned();
      return o.length === 2 ? o : undefined;
    });
    const target = (p: Pod): unknown => p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
    assert.deepEqual(created.map(target).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))), [
      [{ matchFields: [{ key: "metadata.name", operator: "In", values: ["worker-1"] }] }],
      [{ matchFields: [{ key: "metadata.name", operator: "In", values: ["worker-2"] }] }],
    ]);
    for (const p of created) {
      assert.match(p.metadata!.name!, /^agent-[a-z0-9]{5}$/);
      assert.ok(p.spec?.tolerations?.some((t) => t.key === "node.kubernetes.io/unschedulable" && t.effect === "NoSchedule"));
    }
    const revisions = (await client.forKind("apps/v1", "ControllerRevision").namespace("default").list()).items as ControllerRevision[];
    assert.equal(revisions.length, 1);
    const hash = revisions[0]!.metadata!.labels![CONTROLLER_REVISION_HASH_LABEL]!;
    assert.equal(revisions[0]!.metadata!.name, `agent-${hash}`);
    assert.ok(created.every((p) => p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] === hash));
    await until("status: 2 desired, 2 scheduled, 2 up to date", async () => {
      const s = (await dsApi.get("agent")).status;
      return s?.desiredNumberScheduled === 2 && s.currentNumberScheduled === 2 && s.updatedNumberScheduled === 2 && s.numberUnavailable === 2 && s.observedGeneration === 1 ? s : undefined;
    });
    const out = await h.srv.kubectl(["get", "ds", "agent", "-o", "jsonpath={.status.desiredNumberScheduled}/{.status.currentNumberScheduled}"]);
    assert.equal(out.stdout, "2/2", out.stderr);

    // None of the pods is available (nothing runs them), so every one may be replaced at once.
    await dsApi.patch("agent", "merge", { spec: { template: { spec: { containers: [{ name: "c", image: "agent:2" }] } } } });
    const rolled = await until("2 pods of a new revision", async () => {
      const o = await owned();
      const hashes = new Set(o.map((p) => p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL]));
      return o.length === 2 && hashes.size === 1 && !hashes.has(hash) ? o : undefined;
    });
    assert.ok(rolled.every((p) => p.spec?.containers[0]?.image === "agent:2"));
    const revs = (await client.forKind("apps/v1", "ControllerRevision").namespace("default").list()).items;
    assert.deepEqual(revs.map((r) => r.revision).sort(), [1, 2]);
  });
});
