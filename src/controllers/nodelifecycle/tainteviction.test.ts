import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Node, Pod, Toleration } from "kubernetes-types/core/v1.js";
import { FakeClock } from "../../client/clock.js";
import { Lister, type Indexer } from "../../client/informer.js";
import { createLogger } from "../../util/log.js";
import { FakeApi, RecordingEventSink, apiError } from "../testing/index.js";
import { cacheDelete, cachePut, seedIndexer } from "../testing/listers.js";
import { TaintEvictionController } from "./tainteviction.js";

const log = createLogger("silent");
const T0 = Date.parse("2026-01-01T00:00:00Z");
const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

const unreachable = { key: "node.kubernetes.io/unreachable", effect: "NoExecute", timeAdded: "2026-01-01T00:00:00Z" };

function node(name: string, taints: Node["spec"] extends infer S ? (S extends { taints?: infer T } ? T : never) : never = []): Node {
  return { apiVersion: "v1", kind: "Node", metadata: { name, uid: `uid-${name}` }, spec: { taints } };
}

function pod(name: string, nodeName: string, tolerations: Toleration[] = []): Pod {
  return { apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "ns", uid: `uid-${name}` }, spec: { nodeName, containers: [], tolerations }, status: { phase: "Running" } };
}

const tol = (seconds?: number): Toleration => ({ key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", ...(seconds !== undefined ? { tolerationSeconds: seconds } : {}) });

class World {
  readonly clock = new FakeClock(T0);
  readonly api = new FakeApi({ clock: this.clock });
  readonly nodes: Indexer<Node> = seedIndexer<Node>();
  readonly pods: Indexer<Pod> = seedIndexer<Pod>();
  readonly events = new RecordingEventSink();
  readonly c = new TaintEvictionController({ api: this.api, nodes: new Lister(this.nodes), pods: this.pods, events: this.events, log, clock: this.clock });

  setNode(n: Node): void {
    cachePut(this.nodes, n);
  }

  addPod(p: Pod): void {
    this.api.seed("", "pods", p);
    cachePut(this.pods, p);
  }

  deleted(): string[] {
    return this.api.writes({ verb: "delete" }).map((a) => a.name);
  }
}

void describe("TaintEvictionController", () => {
  void it("deletes pods that do not tolerate the taint at once, the others when their toleration runs out", async () => {
    const w = new World();
    w.addPod(pod("none", "a"));
    w.addPod(pod("zero", "a", [tol(0)]));
    w.addPod(pod("short", "a", [tol(30)]));
    w.addPod(pod("forever", "a", [tol()]));
    w.addPod(pod("elsewhere", "b"));
    w.setNode(node("a", [unreachable]));
    w.setNode(node("b"));
    await w.c.syncNode("a");
    await w.c.syncNode("b");
    w.clock.step(0);
    await settle();
    assert.deepEqual(w.deleted().sort(), ["none", "zero"]);
    const patch = w.api.writes({ verb: "patch", name: "none" })[0]!;
    assert.equal(patch.subresource, "status");
    assert.deepEqual((patch.patch as { status: { conditions: { type: string; reason: string; message: string }[] } }).status.conditions.map((c) => [c.type, c.reason, c.message]), [["DisruptionTarget", "DeletionByTaintManager", "Taint manager: deleting due to NoExecute taint"]]);
    assert.ok(w.events.lines().includes("Normal TaintManagerEviction Marking for deletion Pod ns/none"));
    assert.equal(w.c.scheduled("ns/short")?.fireAt, T0 + 30_000);
    w.clock.step(29_000);
    await settle();
    assert.deepEqual(w.deleted().sort(), ["none", "zero"]);
    w.clock.step(1_000);
    await settle();
    assert.deepEqual(w.deleted().sort(), ["none", "short", "zero"]);
    assert.equal(w.c.scheduled("ns/forever"), undefined);
  });

  void it("cancels evictions when the taint goes, with an event", async () => {
    const w = new World();
    w.addPod(pod("p", "a", [tol(60)]));
    w.setNode(node("a", [unreachable]));
    await w.c.syncNode("a");
    assert.ok(w.c.scheduled("ns/p"));
    w.clock.step(30_000);
    w.setNode(node("a"));
    await w.c.syncNode("a");
    w.clock.step(60_000);
    await settle();
    assert.deepEqual(w.deleted(), []);
    assert.deepEqual(w.events.lines(), ["Normal TaintManagerEviction Cancelling deletion of Pod ns/p"]);
  });

  void it("keeps the first decision when the node is updated again, and judges pods that arrive later", async () => {
    const w = new World();
    w.addPod(pod("p", "a", [tol(60)]));
    w.setNode(node("a", [unreachable]));
    await w.c.syncNode("a");
    w.clock.step(20_000);
    w.setNode(node("a", [unreachable, { key: "other", effect: "NoExecute" }]));
    const tolerateOther: Toleration = { key: "other", operator: "Exists", effect: "NoExecute" };
    const p = pod("p", "a", [tol(60), tolerateOther]);
    cachePut(w.pods, p);
    await w.c.syncNode("a");
    assert.equal(w.c.scheduled("ns/p")?.fireAt, T0 + 60_000);
    w.addPod(pod("late", "a", [tol(5), tolerateOther]));
    await w.c.syncPod("a|ns/late");
    assert.equal(w.c.scheduled("ns/late")?.fireAt, T0 + 25_000);
    w.clock.step(5_000);
    await settle();
    assert.deepEqual(w.deleted(), ["late"]);
  });

  void it("cancels when the pod goes away and ignores a stale node in the key", async () => {
    const w = new World();
    const p = pod("p", "a", [tol(60)]);
    w.addPod(p);
    w.setNode(node("a", [unreachable]));
    await w.c.syncNode("a");
    await w.c.syncPod("b|ns/p");
    assert.ok(w.c.scheduled("ns/p"));
    cacheDelete(w.pods, p);
    await w.c.syncPod("a|ns/p");
    assert.equal(w.c.scheduled("ns/p"), undefined);
  });

  void it("drops a failed eviction so that a later update schedules it again", async () => {
    const w = new World();
    w.addPod(pod("p", "a"));
    w.setNode(node("a", [unreachable]));
    w.api.failOn({ verb: "delete" }, apiError(500, "InternalError", "boom"));
    await w.c.syncNode("a");
    for (let i = 0; i < 10; i++) {
      w.clock.step(10);
      await settle();
    }
    assert.equal(w.api.writes({ verb: "delete" }).length, 5);
    assert.equal(w.c.scheduled("ns/p"), undefined);
  });

  void it("enqueues only tolerations, node and NoExecute taint changes", () => {
    const w = new World();
    const p = pod("p", "a");
    w.c.podChanged(p, { ...p, status: { phase: "Failed" } });
    w.c.nodeChanged(node("a", [{ key: "x", effect: "NoSchedule" }]), node("a"));
    assert.equal(w.c.podQueue.len() + w.c.nodeQueue.len(), 0);
    w.c.podChanged(p, pod("p", "a", [tol(1)]));
    w.c.podChanged(p, undefined);
    w.c.nodeChanged(node("a"), node("a", [unreachable]));
    assert.equal(w.c.podQueue.len(), 1);
    assert.equal(w.c.nodeQueue.len(), 1);
    w.c.podQueue.shutDown();
    w.c.nodeQueue.shutDown();
  });
});
