import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Node, Pod } from "kubernetes-types/core/v1.js";
import { Registry } from "prom-client";
import { FakeClock } from "../../client/clock.js";
import { Lister, type Indexer } from "../../client/informer.js";
import { createLogger } from "../../util/log.js";
import { FakeApi, apiError } from "../testing/index.js";
import { cachePut, seedIndexer } from "../testing/listers.js";
import { DEFAULT_POD_GC_OPTIONS, PodGCController, podGCMetrics, type PodGCOptions } from "./controller.js";
import { rfc3339 } from "../../util/time.js";

const log = createLogger("silent");
const T0 = Date.parse("2026-01-01T00:00:00Z");

function pod(name: string, o: { node?: string; phase?: string; reason?: string; created?: number; deleting?: boolean } = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "ns", uid: `uid-${name}`, creationTimestamp: rfc3339(o.created ?? T0), ...(o.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z", deletionGracePeriodSeconds: 30 } : {}) },
    spec: { containers: [], ...(o.node ? { nodeName: o.node } : {}) },
    status: { phase: o.phase ?? "Running", ...(o.reason ? { reason: o.reason } : {}) },
  };
}

function node(name: string, ready = true, taints: { key: string; effect: string }[] = []): Node {
  return { apiVersion: "v1", kind: "Node", metadata: { name }, spec: { taints }, status: { conditions: [{ type: "Ready", status: ready ? "True" : "False" }] } };
}

class World {
  readonly clock = new FakeClock(T0);
  readonly api = new FakeApi({ clock: this.clock });
  readonly pods: Indexer<Pod> = seedIndexer<Pod>();
  readonly nodes: Indexer<Node> = seedIndexer<Node>();
  readonly registry = new Registry();
  readonly c: PodGCController;

  constructor(o: Partial<PodGCOptions> = {}) {
    this.c = new PodGCController({ api: this.api, pods: new Lister(this.pods), nodes: new Lister(this.nodes), log, clock: this.clock, options: { ...DEFAULT_POD_GC_OPTIONS, ...o }, metrics: podGCMetrics(this.registry) });
  }

  addPod(p: Pod): void {
    this.api.seed("", "pods", p);
    cachePut(this.pods, p);
  }

  addNode(n: Node, inApi = true): void {
    if (inApi) this.api.seed("", "nodes", n);
    cachePut(this.nodes, n);
  }

  deleted(): string[] {
    return this.api.writes({ verb: "delete" }).map((a) => a.name);
  }
}

void describe("PodGCController", () => {
  void it("deletes the oldest terminated pods beyond the threshold, evicted ones first, without touching their status", async () => {
    const w = new World({ terminatedPodThreshold: 2 });
    w.addPod(pod("old-done", { phase: "Succeeded", created: T0 - 3000 }));
    w.addPod(pod("new-failed", { phase: "Failed", created: T0 }));
    w.addPod(pod("evicted", { phase: "Failed", reason: "Evicted", created: T0 + 5000 }));
    w.addPod(pod("mid", { phase: "Failed", created: T0 - 1000 }));
    w.addPod(pod("running", { phase: "Running", created: T0 - 9000 }));
    await w.c.gc();
    assert.deepEqual(w.deleted().sort(), ["evicted", "old-done"]);
    assert.deepEqual(w.api.writes({ verb: "patch" }), []);
    assert.deepEqual(w.api.writes({ verb: "delete" }).map((a) => a.deleteOptions?.gracePeriodSeconds), [0, 0]);
    const metric = await w.registry.getSingleMetricAsString("pod_gc_collector_force_delete_pods_total");
    assert.match(metric, /reason="PodGCReasonTerminated"\} 2/);
  });

  void it("keeps terminated pods with threshold 0", async () => {
    const w = new World({ terminatedPodThreshold: 0 });
    for (let i = 0; i < 5; i++) w.addPod(pod(`p${i}`, { phase: "Succeeded" }));
    await w.c.gc();
    assert.deepEqual(w.deleted(), []);
  });

  void it("force-deletes pods of a deleted node only after the quarantine and a live lookup, marking them Failed first", async () => {
    const w = new World();
    w.addPod(pod("orphan", { node: "gone" }));
    w.addPod(pod("late-node", { node: "new" }));
    w.addPod(pod("fine", { node: "here" }));
    w.addNode(node("here"));
    // "new" exists in the API but not in the cache yet.
    w.api.seed("", "nodes", node("new"));
    await w.c.gc();
    assert.equal(w.api.actions.length, 0);
    w.clock.step(39_000);
    await w.c.gc();
    assert.equal(w.api.actions.length, 0);
    w.clock.step(1_000);
    await w.c.gc();
    assert.deepEqual(w.api.actions.map((a) => `${a.verb} ${a.resource}${a.subresource ? `/${a.subresource}` : ""} ${a.name}${a.error ? " (failed)" : ""}`).sort(), [
      "delete pods orphan",
      "get nodes gone (failed)",
      "get nodes new",
      "patch pods/status orphan",
    ]);
    const patched = w.api.writes({ verb: "patch" })[0]!.patch as { status: { phase: string; conditions: { type: string; reason: string; message: string }[] } };
    assert.equal(patched.status.phase, "Failed");
    assert.deepEqual(patched.status.conditions.map((c) => [c.type, c.reason, c.message]), [["DisruptionTarget", "DeletionByPodGC", "PodGC: node no longer exists"]]);
    assert.deepEqual(w.api.writes({ verb: "delete" })[0]!.deleteOptions, { gracePeriodSeconds: 0, preconditions: { uid: "uid-orphan" } });
  });

  void it("lets a node that shows up during quarantine keep its pods", async () => {
    const w = new World({ quarantineMs: 1000 });
    w.addPod(pod("p", { node: "slow" }));
    await w.c.gc();
    w.addNode(node("slow"));
    w.clock.step(2000);
    await w.c.gc();
    assert.equal(w.api.actions.length, 0);
  });

  void it("force-deletes terminating pods on not-ready out-of-service nodes, and unscheduled terminating pods", async () => {
    const w = new World();
    w.addNode(node("oos", false, [{ key: "node.kubernetes.io/out-of-service", effect: "NoExecute" }]));
    w.addNode(node("down", false));
    w.addNode(node("oos-but-ready", true, [{ key: "node.kubernetes.io/out-of-service", effect: "NoExecute" }]));
    w.addPod(pod("a", { node: "oos", deleting: true }));
    w.addPod(pod("b", { node: "down", deleting: true }));
    w.addPod(pod("c", { node: "oos-but-ready", deleting: true }));
    w.addPod(pod("d", { node: "oos" }));
    w.addPod(pod("e", { deleting: true, phase: "Pending" }));
    await w.c.gc();
    assert.deepEqual(w.deleted().sort(), ["a", "e"]);
    assert.deepEqual(w.api.writes({ verb: "patch" }).map((a) => a.name).sort(), ["a", "e"]);
  });

  void it("counts failures and carries on", async () => {
    const w = new World({ terminatedPodThreshold: 1 });
    w.addPod(pod("x", { phase: "Failed", created: T0 - 1 }));
    w.addPod(pod("y", { phase: "Failed", created: T0 }));
    w.api.failOn({ verb: "delete" }, apiError(500, "InternalError", "boom"));
    await w.c.gc();
    const metric = await w.registry.getSingleMetricAsString("pod_gc_collector_force_delete_pod_errors_total");
    assert.match(metric, /reason="PodGCReasonTerminated"\} 1/);
  });
});
