// The ReplicaSet and ReplicationController controllers against a real API server, through
// the real client, informers and work queue.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import type { Pod, ReplicationController } from "kubernetes-types/core/v1.js";
import type { ReplicaSet } from "kubernetes-types/apps/v1.js";
import { newControllerMetrics } from "../../client/controller.js";
import { SharedInformerFactory } from "../../client/informer.js";
import { createClientFromKubeconfig, type RestClient } from "../../client/rest.js";
import { startTestApiServer, type TestApiServer } from "../../testing/apiserver.js";
import { createLogger } from "../../util/log.js";
import type { ControllerContext } from "../context.js";
import { RecordingEventSink } from "../testing/index.js";
import { replicaSetController, replicationControllerController } from "./index.js";
import { until as waitUntil } from "../../testing/wait.js";
import { rfc3339 } from "../../util/time.js";

const until = <T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 15_000): Promise<T> => waitUntil(what, probe, ms);

void describe("replicaset controllers against an API server", () => {
  let srv: TestApiServer;
  let client: RestClient;
  const ac = new AbortController();
  const runs: Promise<void>[] = [];
  let informers: SharedInformerFactory;
  const events = new RecordingEventSink();

  before(async () => {
    srv = await startTestApiServer();
    client = await createClientFromKubeconfig(srv.kubeconfig, { qps: Infinity });
    const log = createLogger("silent");
    informers = new SharedInformerFactory({ client, log });
    const registry = new Registry();
    const ctx: ControllerContext = { client, informers, events, log, metrics: newControllerMetrics(registry), registry };
    const controllers = [replicaSetController(ctx), replicationControllerController(ctx)];
    informers.start(ac.signal);
    for (const c of controllers) runs.push(c.run(ac.signal, 2));
  });

  after(async () => {
    ac.abort();
    await Promise.all(runs);
    await informers?.shutdown();
    client?.close();
    await srv?.stop();
  });

  const pods = () => client.forKind("v1", "Pod").namespace("default");

  async function ownedBy(uid: string): Promise<Pod[]> {
    const list = await pods().list();
    return list.items.filter((p) => !p.metadata?.deletionTimestamp && p.metadata?.ownerReferences?.some((r) => r.uid === uid && r.controller));
  }

  async function markReady(p: Pod): Promise<void> {
    for (;;) {
      const fresh = await pods().get(p.metadata!.name!);
      (fresh as { status?: Pod["status"] }).status = { ...fresh.status, phase: "Running", conditions: [{ type: "Ready", status: "True", lastTransitionTime: rfc3339(Date.now()) }] };
      try {
        await pods().updateStatus(fresh);
        return;
      } catch (err) {
        if ((err as { code?: number }).code !== 409) throw err;
      }
    }
  }

  void it("adopts a matching orphan, creates the rest with owner refs, reports readiness, and scales down", async () => {
    const rsApi = client.forKind("apps/v1", "ReplicaSet").namespace("default");
    await pods().create({ metadata: { name: "pre", labels: { app: "web", tier: "fe" } }, spec: { containers: [{ name: "c", image: "busybox" }] } });
    // Watches of different resources are not ordered with each other: let the controller's
    // pod cache hold the orphan before the ReplicaSet appears, or it may first create 3.
    await until("the orphan in the pod cache", () => informers.forKind("v1", "Pod").lister.get("default/pre"));
    const rs = await rsApi.create({
      metadata: { name: "web" },
      spec: {
        replicas: 3,
        selector: { matchExpressions: [{ key: "tier", operator: "In", values: ["fe"] }, { key: "app", operator: "Exists" }] },
        template: { metadata: { labels: { app: "web", tier: "fe" } }, spec: { containers: [{ name: "c", image: "busybox" }] } },
      },
    } as ReplicaSet);
    const uid = rs.metadata!.uid!;
    const owned = await until("3 pods owned by the ReplicaSet", async () => {
      const o = await ownedBy(uid);
      return o.length === 3 ? o : undefined;
    });
    assert.ok(owned.some((p) => p.metadata?.name === "pre"), "the orphan was adopted");
    for (const p of owned) {
      assert.deepEqual(p.metadata?.ownerReferences, [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web", uid, controller: true, blockOwnerDeletion: true }]);
      if (p.metadata?.name !== "pre") assert.match(p.metadata!.name!, /^web-[a-z0-9]{5}$/);
    }
    for (const p of owned) await markReady(p);
    await until("status with 3 ready and available", async () => {
      const cur = await rsApi.get("web");
      const s = cur.status;
      return s?.replicas === 3 && s.readyReplicas === 3 && s.availableReplicas === 3 && s.fullyLabeledReplicas === 3 && s.observedGeneration === cur.metadata?.generation ? s : undefined;
    });

    await rsApi.patch("web", "merge", { spec: { replicas: 1 } });
    await until("1 pod left", async () => ((await ownedBy(uid)).length === 1 ? true : undefined));
    await until("status replicas 1", async () => {
      const cur = await rsApi.get("web");
      return cur.status?.replicas === 1 && cur.status.observedGeneration === 2 ? true : undefined;
    });
    // No extra creates happened on the way: 2 created, 2 deleted.
    const mine = events.events.filter((e) => e.name === "web");
    assert.equal(mine.filter((e) => e.reason === "SuccessfulCreate").length, 2);
    assert.equal(mine.filter((e) => e.reason === "SuccessfulDelete").length, 2);
  });

  void it("runs a ReplicationController with equality selectors", async () => {
    const rcApi = client.forKind("v1", "ReplicationController").namespace("default");
    const rc = await rcApi.create({
      metadata: { name: "legacy" },
      spec: { replicas: 2, selector: { app: "legacy" }, template: { metadata: { labels: { app: "legacy" } }, spec: { containers: [{ name: "c", image: "busybox" }] } } },
    } as ReplicationController);
    const owned = await until("2 pods owned by the RC", async () => {
      const o = await ownedBy(rc.metadata!.uid!);
      return o.length === 2 ? o : undefined;
    });
    assert.equal(owned[0]!.metadata!.ownerReferences![0]!.kind, "ReplicationController");
    await until("RC status replicas 2", async () => ((await rcApi.get("legacy")).status?.replicas === 2 ? true : undefined));
    const out = await srv.kubectl(["get", "rc", "legacy", "-o", "jsonpath={.status.replicas}/{.status.observedGeneration}"]);
    assert.equal(out.stdout, "2/1", out.stderr);
  });
});
