import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Lease } from "kubernetes-types/coordination/v1.js";
import type { Node, NodeCondition, Pod } from "kubernetes-types/core/v1.js";
import { FakeClock } from "../../client/clock.js";
import { Lister, type Indexer } from "../../client/informer.js";
import { createLogger } from "../../util/log.js";
import { FakeApi, RecordingEventSink } from "../testing/index.js";
import { cachePut, seedIndexer } from "../testing/listers.js";
import { DEFAULT_NODE_LIFECYCLE_OPTIONS, NodeLifecycleController, type NodeLifecycleOptions } from "./controller.js";
import { rfc3339, rfc3339Micro } from "../../util/time.js";

const log = createLogger("silent");
const T0 = Date.parse("2026-01-01T00:00:00Z");

function healthy(at: number): NodeCondition[] {
  const t = rfc3339(at);
  return [
    { type: "MemoryPressure", status: "False", reason: "KubeletHasSufficientMemory", lastHeartbeatTime: t, lastTransitionTime: t },
    { type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is posting ready status", lastHeartbeatTime: t, lastTransitionTime: t },
  ];
}

function node(name: string, opts: { conditions?: NodeCondition[]; zone?: string; taints?: Node["spec"] extends infer S ? (S extends { taints?: infer T } ? T : never) : never; unschedulable?: boolean } = {}): Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, uid: `uid-${name}`, resourceVersion: "1", creationTimestamp: rfc3339(T0 - 3600_000), labels: opts.zone ? { "topology.kubernetes.io/zone": opts.zone } : {} },
    spec: { ...(opts.taints ? { taints: opts.taints } : {}), ...(opts.unschedulable ? { unschedulable: true } : {}) },
    status: { conditions: opts.conditions ?? healthy(T0) },
  };
}

function lease(name: string, at: number): Lease {
  return { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name, namespace: "kube-node-lease" }, spec: { holderIdentity: name, renewTime: rfc3339Micro(at) } };
}

function readyPod(name: string, nodeName: string): Pod {
  return { apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "ns", uid: `uid-${name}` }, spec: { nodeName, containers: [] }, status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] } };
}

class World {
  readonly clock = new FakeClock(T0);
  readonly api = new FakeApi({ clock: this.clock });
  readonly nodes: Indexer<Node> = seedIndexer<Node>();
  readonly leases: Indexer<Lease> = seedIndexer<Lease>();
  readonly pods: Indexer<Pod> = seedIndexer<Pod>();
  readonly events = new RecordingEventSink();
  readonly c: NodeLifecycleController;

  constructor(options: Partial<NodeLifecycleOptions> = {}) {
    this.c = new NodeLifecycleController({
      api: this.api,
      nodes: new Lister(this.nodes),
      leases: new Lister(this.leases),
      pods: this.pods,
      events: this.events,
      log,
      clock: this.clock,
      options: { ...DEFAULT_NODE_LIFECYCLE_OPTIONS, evictionLimiterQPS: 1000, ...options },
    });
  }

  /** The API's object and the cache agree (what the informers show a moment after a write). */
  put(n: Node): void {
    const stored = this.api.object<Node>("", "nodes", "", n.metadata!.name!);
    if (stored) this.api.seed("", "nodes", { ...n, metadata: { ...n.metadata, resourceVersion: stored.metadata?.resourceVersion } });
    else this.api.seed("", "nodes", n);
    cachePut(this.nodes, this.api.object<Node>("", "nodes", "", n.metadata!.name!)!);
  }

  /** Copies what the API holds now into the caches. */
  sync(): void {
    for (const n of this.api.objects<Node>("", "nodes")) cachePut(this.nodes, n);
    for (const p of this.api.objects<Pod>("", "pods")) cachePut(this.pods, p);
  }

  renew(name: string): void {
    cachePut(this.leases, lease(name, this.clock.now()));
  }

  addPod(p: Pod): void {
    this.api.seed("", "pods", p);
    cachePut(this.pods, p);
  }

  stored(name: string): Node {
    return this.api.object<Node>("", "nodes", "", name)!;
  }

  async pass(): Promise<void> {
    await this.c.monitorNodeHealth();
    await this.c.doNoExecuteTaintingPass();
    this.sync();
  }
}

const ready = (n: Node): string | undefined => n.status?.conditions?.find((c) => c.type === "Ready")?.status;
const taintKeys = (n: Node): string[] => (n.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`);

void describe("NodeLifecycleController.monitorNodeHealth", () => {
  void it("leaves nodes whose leases are renewed alone", async () => {
    const w = new World();
    for (const n of ["a", "b"]) {
      w.put(node(n));
      w.renew(n);
    }
    await w.pass();
    for (let i = 0; i < 10; i++) {
      w.clock.step(10_000);
      w.renew("a");
      w.renew("b");
      await w.pass();
    }
    assert.deepEqual(w.api.verbs(), []);
    assert.deepEqual(w.events.lines().sort(), ["Normal RegisteredNode Registered Node a in Controller", "Normal RegisteredNode Registered Node b in Controller"]);
  });

  void it("marks a node whose lease stops Unknown, its pods not ready, taints it unreachable, and untaints it when it is back", async () => {
    const w = new World();
    for (const n of ["a", "b", "c"]) {
      w.put(node(n));
      w.renew(n);
    }
    w.addPod(readyPod("p1", "a"));
    w.addPod(readyPod("p2", "b"));
    await w.pass();
    // b and c keep renewing; a stops.
    for (let i = 0; i < 4; i++) {
      w.clock.step(10_000);
      w.renew("b");
      w.renew("c");
      await w.pass();
    }
    assert.deepEqual(w.api.verbs(), [], "40 s is not past the grace period");
    w.clock.step(1_000);
    w.renew("b");
    w.renew("c");
    await w.pass();
    const a = w.stored("a");
    assert.equal(ready(a), "Unknown");
    const cond = a.status!.conditions!.find((c) => c.type === "Ready")!;
    assert.deepEqual([cond.reason, cond.message, cond.lastHeartbeatTime, cond.lastTransitionTime], ["NodeStatusUnknown", "Kubelet stopped posting node status.", rfc3339(T0), rfc3339(w.clock.now())]);
    assert.equal(a.status!.conditions!.find((c) => c.type === "MemoryPressure")!.status, "Unknown");
    assert.deepEqual(
      a.status!.conditions!.filter((c) => c.type === "DiskPressure" || c.type === "PIDPressure").map((c) => [c.type, c.status, c.reason]),
      [["DiskPressure", "Unknown", "NodeStatusNeverUpdated"], ["PIDPressure", "Unknown", "NodeStatusNeverUpdated"]],
    );
    assert.equal(w.api.object<Pod>("", "pods", "ns", "p1")!.status!.conditions!.find((c) => c.type === "Ready")!.status, "False");
    assert.equal(w.api.object<Pod>("", "pods", "ns", "p2")!.status!.conditions!.find((c) => c.type === "Ready")!.status, "True");
    assert.ok(w.events.lines().includes("Normal NodeNotReady Node a status is now: NodeNotReady"));
    assert.ok(w.events.lines().includes("Warning NodeNotReady Node is not ready"));
    assert.deepEqual(taintKeys(a), [], "tainted on the next pass, from the Unknown the controller wrote");

    w.clock.step(5_000);
    await w.pass();
    const tainted = w.stored("a");
    assert.deepEqual(taintKeys(tainted), ["node.kubernetes.io/unreachable:NoExecute"]);
    assert.equal(tainted.spec!.taints![0]!.timeAdded, rfc3339(w.clock.now()));
    assert.deepEqual(taintKeys(w.stored("b")), []);

    // The kubelet comes back: a new heartbeat and lease.
    w.clock.step(5_000);
    w.renew("a");
    const back = w.stored("a");
    back.status!.conditions = healthy(w.clock.now());
    w.put(back);
    await w.pass();
    assert.deepEqual(taintKeys(w.stored("a")), []);
  });

  void it("swaps unreachable for not-ready at once when the kubelet reports Ready=False", async () => {
    const w = new World();
    w.put(node("a", { conditions: [{ type: "Ready", status: "False", reason: "KubeletNotReady", lastHeartbeatTime: rfc3339(T0), lastTransitionTime: rfc3339(T0) }], taints: [{ key: "node.kubernetes.io/unreachable", effect: "NoExecute" }] }));
    w.put(node("b"));
    w.renew("a");
    w.renew("b");
    await w.pass();
    // The first pass takes NoExecute taints off newly seen nodes; then Ready=False taints not-ready.
    w.clock.step(5_000);
    w.renew("a");
    w.renew("b");
    await w.pass();
    assert.deepEqual(taintKeys(w.stored("a")), ["node.kubernetes.io/not-ready:NoExecute"]);
    const t = w.stored("a");
    t.spec!.taints = [{ key: "node.kubernetes.io/unreachable", effect: "NoExecute" }];
    w.put(t);
    w.clock.step(5_000);
    w.renew("a");
    w.renew("b");
    await w.c.monitorNodeHealth();
    assert.deepEqual(taintKeys(w.stored("a")), ["node.kubernetes.io/not-ready:NoExecute"]);
  });

  void it("taints nothing when every node is lost (master disruption mode)", async () => {
    const w = new World();
    for (const n of ["a", "b"]) {
      w.put(node(n));
      w.renew(n);
    }
    await w.pass();
    w.clock.step(41_000);
    await w.pass();
    w.clock.step(5_000);
    await w.pass();
    w.clock.step(5_000);
    await w.pass();
    assert.equal(ready(w.stored("a")), "Unknown");
    assert.equal(ready(w.stored("b")), "Unknown");
    assert.deepEqual(taintKeys(w.stored("a")), []);
    assert.deepEqual(taintKeys(w.stored("b")), []);
    assert.equal(w.c.zoneState(""), "FullDisruption");
  });

  void it("taints the nodes of a zone one by one at --node-eviction-rate", async () => {
    const w = new World({ evictionLimiterQPS: 0.1 });
    const names = ["a", "b", "c", "d", "e", "f", "g"];
    for (const n of names) {
      w.put(node(n));
      w.renew(n);
    }
    await w.pass();
    const alive = ["d", "e", "f", "g"];
    const advance = async (ms: number): Promise<void> => {
      w.clock.step(ms);
      for (const n of alive) w.renew(n);
      await w.pass();
    };
    await advance(41_000);
    await advance(5_000);
    const tainted = (): string[] => ["a", "b", "c"].filter((n) => taintKeys(w.stored(n)).length > 0);
    assert.equal(tainted().length, 1);
    assert.equal(w.c.zoneState(""), "Normal");
    await advance(5_000);
    assert.equal(tainted().length, 1, "the next token comes 10 s after the first");
    await advance(5_000);
    assert.equal(tainted().length, 2);
    await advance(10_000);
    assert.equal(tainted().length, 3);
  });

  void it("stops tainting a small zone that lost most of its nodes", async () => {
    const w = new World();
    for (const n of ["a", "b", "c", "d"]) {
      w.put(node(n, { zone: "z1" }));
      w.renew(n);
    }
    w.put(node("x", { zone: "z2" }));
    w.renew("x");
    await w.pass();
    for (const ms of [41_000, 5_000, 5_000]) {
      w.clock.step(ms);
      w.renew("d");
      w.renew("x");
      await w.pass();
    }
    assert.equal(w.c.zoneState(":\x00:z1"), "PartialDisruption");
    assert.deepEqual(["a", "b", "c"].map((n) => ready(w.stored(n))), ["Unknown", "Unknown", "Unknown"]);
    assert.ok(["a", "b", "c"].filter((n) => taintKeys(w.stored(n)).length > 0).length <= 1, "at most one was tainted before the zone state was known");
  });
});

void describe("NodeLifecycleController queues", () => {
  void it("keeps NoSchedule taints in step with conditions and spec.unschedulable", async () => {
    const w = new World();
    w.put(node("a", { conditions: [{ type: "Ready", status: "False" }, { type: "DiskPressure", status: "True" }], unschedulable: true, taints: [{ key: "dedicated", value: "x", effect: "NoSchedule" }, { key: "node.kubernetes.io/memory-pressure", effect: "NoSchedule" }] }));
    await w.c.syncNoScheduleTaints("a");
    assert.deepEqual(taintKeys(w.stored("a")), ["dedicated:NoSchedule", "node.kubernetes.io/not-ready:NoSchedule", "node.kubernetes.io/disk-pressure:NoSchedule", "node.kubernetes.io/unschedulable:NoSchedule"]);
    w.sync();
    const fixed = w.stored("a");
    fixed.status!.conditions = healthy(T0);
    fixed.spec!.unschedulable = false;
    w.put(fixed);
    await w.c.syncNoScheduleTaints("a");
    assert.deepEqual(taintKeys(w.stored("a")), ["dedicated:NoSchedule"]);
    w.api.clear();
    w.sync();
    await w.c.syncNoScheduleTaints("a");
    await w.c.syncNoScheduleTaints("gone");
    assert.deepEqual(w.api.verbs(), []);
  });

  void it("retries a taint write that conflicts, from a fresh read", async () => {
    const w = new World();
    w.put(node("a", { conditions: [{ type: "Ready", status: "False" }] }));
    const stale = w.stored("a");
    const moved = w.stored("a");
    moved.metadata!.labels = { moved: "yes" };
    w.api.seed("", "nodes", { ...moved, metadata: { ...moved.metadata, resourceVersion: "999" } });
    cachePut(w.nodes, stale);
    await w.c.syncNoScheduleTaints("a");
    assert.deepEqual(w.api.actions.map((a) => `${a.verb}${a.error ? " (failed)" : ""}`), ["patch (failed)", "get", "patch"]);
    assert.equal(w.stored("a").metadata!.labels!["moved"], "yes");
  });

  void it("marks a pod bound to a node that is not ready not ready", async () => {
    const w = new World();
    w.put(node("a"));
    w.renew("a");
    await w.pass();
    w.clock.step(41_000);
    await w.pass();
    w.addPod(readyPod("late", "a"));
    await w.c.syncPod("ns/late");
    assert.equal(w.api.object<Pod>("", "pods", "ns", "late")!.status!.conditions!.find((c) => c.type === "Ready")!.status, "False");
    w.c.podChanged(undefined, readyPod("x", "a"));
    w.c.podChanged(readyPod("x", "a"), readyPod("x", "a"));
    assert.equal(w.c.podQueue.len(), 1);
    w.c.podQueue.shutDown();
    w.c.nodeQueue.shutDown();
  });
});
