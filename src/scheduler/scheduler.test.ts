import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.js";
import { FakeClock } from "../client/clock.js";
import { deepFreeze } from "../client/objects.js";
import { createLogger } from "../util/log.js";
import type { PersistentVolume, PersistentVolumeClaim } from "kubernetes-types/core/v1.js";
import { FakeSchedulerApi, FakeVolumes, makeClaim, makeNode, makePod, makeStorageClass, makeVolume, podInfo, RecordingEvents } from "./fixtures.js";
import { CycleState } from "./framework/types.js";
import type { RNode } from "./framework/nodeinfo.js";
import type { RPod } from "./framework/podinfo.js";
import type { RPV, RPVC, VolumeBinding } from "./plugins/volumebinding.js";
import { nodeEvents, numFeasibleNodesToFind, podSchedulingFailurePatch, SchedulerCore } from "./scheduler.js";

const log = createLogger("silent");

/** A scheduler core over a fake API whose binds and deletes show up "in the informer" at once. */
function harness(opts: { confirmBinds?: boolean; percentageOfNodesToScore?: number; volumes?: FakeVolumes } = {}) {
  const api = new FakeSchedulerApi();
  api.volumes = opts.volumes;
  const events = new RecordingEvents();
  const clock = new FakeClock(Date.parse("2024-06-01T00:00:00Z"));
  const pods = new Map<string, RPod>();
  const core = new SchedulerCore({
    api,
    events,
    log,
    clock,
    random: () => 0,
    lookupPod: (ns, name) => pods.get(`${ns}/${name}`),
    ...(opts.percentageOfNodesToScore !== undefined ? { percentageOfNodesToScore: opts.percentageOfNodesToScore } : {}),
    ...(opts.volumes ? { volumes: opts.volumes } : {}),
  });
  if (opts.volumes) {
    // The storage informers' handlers.
    opts.volumes.onChange = (obj, old) => {
      if (obj.kind === "PersistentVolumeClaim") {
        if (old) core.onClaimUpdate(old as RPVC, obj as RPVC);
        else core.onClaimAdd(obj as RPVC);
      } else if (old) core.onVolumeUpdate(old as RPV, obj as RPV);
      else core.onVolumeAdd(obj as RPV);
    };
  }
  if (opts.confirmBinds !== false) {
    api.onBind = (ns, name, node) => {
      const old = pods.get(`${ns}/${name}`)!;
      const bound = deepFreeze({ ...(old as Pod), spec: { ...(old as Pod).spec!, nodeName: node } }) as RPod;
      pods.set(`${ns}/${name}`, bound);
      core.onPodUpdate(old, bound);
    };
  }
  api.onDelete = (ns, name) => {
    const old = pods.get(`${ns}/${name}`);
    if (!old) return;
    pods.delete(`${ns}/${name}`);
    core.onPodDelete(old);
  };
  const addPod = (p: RPod): void => {
    pods.set(`${p.metadata!.namespace}/${p.metadata!.name}`, p);
    core.onPodAdd(p);
  };
  const addNode = (n: RNode): void => core.onNodeAdd(n);
  /** Runs scheduling cycles until activeQ is empty, then lets bindings finish. */
  const schedule = async (): Promise<void> => {
    while (core.queue.lengths.active > 0) {
      const q = await core.queue.pop();
      core.scheduleOne(q!);
    }
    await core.drain();
  };
  const nodeOf = (name: string): string | undefined => pods.get(`default/${name}`)?.spec?.nodeName;
  return { api, events, clock, core, pods, addPod, addNode, schedule, nodeOf };
}

describe("numFeasibleNodesToFind (percentageOfNodesToScore)", () => {
  const cases: [number, number, number][] = [
    [0, 50, 50],
    [0, 100, 100],
    [0, 1000, 420],
    [0, 1500, 570],
    [0, 5000, 500],
    [0, 6000, 300],
    [30, 1000, 300],
    [10, 500, 100],
  ];
  for (const [pct, nodes, want] of cases) it(`${pct}% of ${nodes} nodes → ${want}`, () => assert.equal(numFeasibleNodesToFind(pct, nodes), want));
});

describe("SchedulerCore", () => {
  it("binds pods where they fit and spreads them (LeastAllocated)", async () => {
    const h = harness();
    h.addNode(makeNode("n1", { cpu: "2" }));
    h.addNode(makeNode("n2", { cpu: "2" }));
    for (let i = 0; i < 4; i++) h.addPod(makePod(`p${i}`, { cpu: "1" }));
    await h.schedule();
    const placed = [0, 1, 2, 3].map((i) => h.nodeOf(`p${i}`));
    assert.equal(placed.filter((n) => n === "n1").length, 2);
    assert.equal(placed.filter((n) => n === "n2").length, 2);
    const scheduled = h.events.events.filter((e) => e.reason === "Scheduled");
    assert.equal(scheduled.length, 4);
    assert.equal(scheduled[0]!.type, "Normal");
    assert.match(scheduled[0]!.message, /^Successfully assigned default\/p\d to n[12]$/);
    assert.equal(h.core.stats.scheduled, 4);
  });

  it("an unschedulable pod gets upstream's message, condition and event, then fits when a node is added", async () => {
    const h = harness();
    const controlPlaneTaint = [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }];
    h.addNode(makeNode("cp1", { taints: controlPlaneTaint }));
    h.addNode(makeNode("cp2", { taints: controlPlaneTaint }));
    h.addNode(makeNode("worker", { cpu: "1" }));
    h.addPod(makePod("big", { cpu: "2" }));
    await h.schedule();
    const want =
      "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. " +
      "preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.";
    const failed = h.events.events.filter((e) => e.reason === "FailedScheduling");
    assert.deepEqual(failed, [{ object: "default/big", type: "Warning", reason: "FailedScheduling", message: want }]);
    assert.equal(h.api.statusPatches.length, 1);
    const patch = h.api.statusPatches[0]!.patch as { conditions: { type: string; status: string; reason: string; message: string }[] };
    assert.deepEqual(
      patch.conditions.map((c) => [c.type, c.status, c.reason, c.message]),
      [["PodScheduled", "False", "Unschedulable", want]],
    );
    assert.equal(h.core.queue.where("default/big"), "unschedulable");
    // A pod being bound elsewhere does not concern NodeResourcesFit: the pod stays put.
    h.addPod(makePod("other", { nodeName: "worker" }));
    assert.equal(h.core.queue.where("default/big"), "unschedulable");
    h.addNode(makeNode("large", { cpu: "8" }));
    assert.equal(h.core.queue.where("default/big"), "backoff");
    h.clock.step(1000);
    await h.schedule();
    assert.equal(h.nodeOf("big"), "large");
  });

  it("without a candidate anywhere, preemption is not helpful on every node", async () => {
    const h = harness();
    for (const n of ["a", "b", "c"]) h.addNode(makeNode(n, { labels: { zone: n } }));
    h.addPod(makePod("p", { spec: { nodeSelector: { zone: "nowhere" } } }));
    await h.schedule();
    assert.equal(
      h.events.events[0]?.message,
      "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
  });

  it("with no nodes at all the pod backs off", async () => {
    const h = harness();
    h.addPod(makePod("p"));
    await h.schedule();
    assert.equal(h.events.events[0]?.message, "no nodes available to schedule pods");
    assert.equal(h.core.queue.where("default/p"), "backoff");
  });

  it("counts assumed pods before their binding is observed", async () => {
    const h = harness({ confirmBinds: false });
    h.addNode(makeNode("n1", { cpu: "1" }));
    h.addPod(makePod("a", { cpu: "1" }));
    h.addPod(makePod("b", { cpu: "1" }));
    await h.schedule();
    assert.deepEqual(h.api.binds, [{ pod: "default/a", node: "n1" }]);
    assert.equal(h.core.queue.where("default/b"), "unschedulable");
  });

  it("a failed bind forgets the assumed pod and requeues it with backoff", async () => {
    const h = harness();
    h.addNode(makeNode("n1", { cpu: "1" }));
    h.api.failBinds.add("default/a");
    h.addPod(makePod("a", { cpu: "1" }));
    await h.schedule();
    assert.equal(h.core.stats.bindFailures, 1);
    assert.equal(h.core.cache.get("n1")!.requested.milliCPU, 0);
    assert.equal(h.core.queue.where("default/a"), "backoff");
    const patch = h.api.statusPatches[0]!.patch as { conditions: { reason: string; message: string }[] };
    assert.equal(patch.conditions[0]!.reason, "SchedulerError");
    assert.match(patch.conditions[0]!.message, /binding default\/a refused/);
    h.api.failBinds.clear();
    h.clock.step(1000);
    await h.schedule();
    assert.equal(h.nodeOf("a"), "n1");
  });

  it("a failing PreBind unreserves, forgets the assumed pod and requeues it with the error", async () => {
    const volumes = new FakeVolumes([makeStorageClass("wffc"), makeClaim("data")]);
    const h = harness({ volumes });
    const vb = h.core.framework.profile.preBind![0] as VolumeBinding;
    h.addNode(makeNode("n1", { cpu: "1" }));
    h.api.failVolumeWrites = new Error('Operation cannot be fulfilled on persistentvolumeclaims "data": the object has been modified; please apply your changes to the latest version and try again');
    h.addPod(makePod("a", { cpu: "1", spec: { volumes: [{ name: "d", persistentVolumeClaim: { claimName: "data" } }] } }));
    await h.schedule();
    assert.equal(h.core.stats.bindFailures, 1);
    assert.equal(h.api.binds.length, 0, "no Bind after a failed PreBind");
    assert.equal(h.core.cache.get("n1")!.requested.milliCPU, 0);
    assert.equal(vb.assumedCount, 0, "the claim's assumed selected node is forgotten");
    assert.equal(h.core.queue.where("default/a"), "backoff");
    const patch = h.api.statusPatches[0]!.patch as { conditions: { reason: string; message: string }[] };
    assert.equal(patch.conditions[0]!.reason, "SchedulerError");
    assert.equal(patch.conditions[0]!.message, 'running PreBind plugin "VolumeBinding": Operation cannot be fulfilled on persistentvolumeclaims "data": the object has been modified; please apply your changes to the latest version and try again');

    // The retry writes the selected node and binds once the claim is bound.
    h.api.failVolumeWrites = undefined;
    h.clock.step(1000);
    h.core.scheduleOne((await h.core.queue.pop())!);
    await waitUntil(() => h.api.volumeWrites.length === 1);
    const claim = volumes.claim("default", "data")!;
    assert.equal(claim.metadata?.annotations?.["volume.kubernetes.io/selected-node"], "n1");
    assert.equal(h.api.binds.length, 0, "waits for the claim to be bound");
    // What the provisioner and the PV controller do.
    volumes.put<PersistentVolume>(structuredClone(makeVolume("pv-1", { hosts: ["n1"], claimRef: { namespace: "default", name: "data", uid: claim.metadata!.uid! } })) as PersistentVolume);
    assert.equal(h.api.binds.length, 0);
    const c = structuredClone(claim) as PersistentVolumeClaim;
    volumes.put<PersistentVolumeClaim>({ ...c, spec: { ...c.spec, volumeName: "pv-1" }, status: { phase: "Bound" } });
    await h.core.drain();
    assert.equal(h.nodeOf("a"), "n1");
  });

  it("pods without claims skip PreBind (PreBindPreFlight) without awaiting anything", () => {
    const h = harness({ volumes: new FakeVolumes([makeStorageClass("wffc"), makeClaim("data")]) });
    const fwk = h.core.framework;
    const plain = podInfo("plain");
    const state = new CycleState();
    assert.equal(fwk.runPreFilter(state, plain).status, null);
    assert.equal(fwk.runReserve(state, plain, "n1"), null);
    assert.equal(fwk.runPreBind(state, plain, "n1", new AbortController().signal), null);
    const withClaim = podInfo("vol", { spec: { volumes: [{ name: "d", persistentVolumeClaim: { claimName: "data" } }] } });
    const state2 = new CycleState();
    fwk.runPreFilter(state2, withClaim);
    assert.ok(fwk.runPreBind(state2, withClaim, "n1", AbortSignal.abort()) instanceof Promise);
  });

  it("a pod whose claim is missing waits as unschedulable until that claim appears", async () => {
    const volumes = new FakeVolumes([makeStorageClass("wffc")]);
    const h = harness({ volumes });
    h.addNode(makeNode("n1"));
    h.addPod(makePod("a", { spec: { volumes: [{ name: "d", persistentVolumeClaim: { claimName: "data" } }] } }));
    await h.schedule();
    const failed = h.events.events.filter((e) => e.reason === "FailedScheduling");
    assert.equal(failed[0]?.message, '0/1 nodes are available: persistentvolumeclaim "data" not found. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.');
    assert.equal(h.core.queue.where("default/a"), "unschedulable");
    volumes.put<PersistentVolumeClaim>(structuredClone(makeClaim("other")) as PersistentVolumeClaim);
    assert.equal(h.core.queue.where("default/a"), "unschedulable", "another claim does not concern it");
    volumes.put<PersistentVolumeClaim>(structuredClone(makeClaim("data")) as PersistentVolumeClaim);
    assert.notEqual(h.core.queue.where("default/a"), "unschedulable");
  });

  it("a higher-priority pod preempts the pod holding its ReadWriteOncePod claim", async () => {
    const volumes = new FakeVolumes([makeStorageClass("wffc"), makeClaim("solo", { accessModes: ["ReadWriteOncePod"], boundTo: "pv-solo" }), makeVolume("pv-solo", { accessModes: ["ReadWriteOncePod"], claimRef: { namespace: "default", name: "solo" } })]);
    const h = harness({ volumes });
    h.addNode(makeNode("n1"));
    h.addNode(makeNode("n2"));
    const spec = { volumes: [{ name: "d", persistentVolumeClaim: { claimName: "solo" } }] };
    h.addPod(makePod("low", { priority: 0, nodeName: "n1", spec }));
    h.addPod(makePod("high", { priority: 100, spec }));
    await h.schedule();
    assert.deepEqual(h.api.deletes, ["default/low"]);
    const failed = h.events.events.find((e) => e.reason === "FailedScheduling" && e.object === "default/high");
    assert.equal(failed?.message, "0/2 nodes are available: 2 node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode.");
  });

  it("a bind refused because the pod got bound elsewhere leaves the pod alone", async () => {
    const h = harness();
    h.addNode(makeNode("n1"));
    h.addPod(makePod("a"));
    h.api.bind = (ns: string, name: string) => {
      const old = h.pods.get(`${ns}/${name}`)!;
      const bound = deepFreeze({ ...(old as Pod), spec: { ...(old as Pod).spec!, nodeName: "elsewhere" } }) as RPod;
      h.pods.set(`${ns}/${name}`, bound);
      h.core.onPodUpdate(old, bound);
      return Promise.reject(new Error(`pod ${name} is already assigned to node "elsewhere"`));
    };
    await h.schedule();
    assert.equal(h.core.stats.bindFailures, 1);
    assert.equal(h.core.queue.where("default/a"), undefined);
    assert.deepEqual(h.api.statusPatches, []);
    assert.equal(h.events.events.filter((e) => e.reason === "FailedScheduling").length, 0);
  });

  it("ignores pods of other schedulers and terminating pods", async () => {
    const h = harness();
    h.addNode(makeNode("n1"));
    h.addPod(makePod("mine"));
    h.addPod(makePod("theirs", { spec: { schedulerName: "other-scheduler" } }));
    h.addPod(makePod("going", { deleting: true }));
    await h.schedule();
    assert.deepEqual(h.api.binds, [{ pod: "default/mine", node: "n1" }]);
  });

  it("checks only percentageOfNodesToScore worth of nodes and starts the next cycle where it stopped", async () => {
    const h = harness();
    for (let i = 0; i < 250; i++) h.addNode(makeNode(`n${String(i).padStart(3, "0")}`));
    h.addPod(makePod("p1"));
    await h.schedule();
    // 250 nodes: 50% − 2 = 48% → 120 feasible nodes are enough.
    assert.equal(h.core.nextStartIndex, 120);
    h.addPod(makePod("p2"));
    await h.schedule();
    assert.equal(h.core.nextStartIndex, 240);
  });

  it("preempts a lower-priority pod, nominates the node, and binds there once the victim is gone", async () => {
    const h = harness();
    h.addNode(makeNode("n1", { cpu: "2" }));
    h.addPod(makePod("low", { cpu: "2", priority: 0, nodeName: "n1" }));
    h.addPod(makePod("high", { cpu: "2", priority: 1000 }));
    await h.schedule();
    assert.deepEqual(h.api.deletes, ["default/low"]);
    const disruption = h.api.statusPatches.find((p) => p.pod === "default/low")!.patch as { conditions: { type: string; reason: string; message: string }[] };
    assert.deepEqual(disruption.conditions.map((c) => [c.type, c.reason, c.message]), [["DisruptionTarget", "PreemptionByScheduler", "default-scheduler: preempting to accommodate a higher priority pod"]]);
    const nominated = h.api.statusPatches.find((p) => p.pod === "default/high")!.patch as { nominatedNodeName?: string; conditions: { message: string }[] };
    assert.equal(nominated.nominatedNodeName, "n1");
    assert.equal(nominated.conditions[0]!.message, "0/1 nodes are available: 1 Insufficient cpu.");
    assert.ok(h.events.events.some((e) => e.object === "default/low" && e.reason === "Preempted" && e.message === "Preempted by pod uid-default-high on node n1"));
    // The delete reached the informer: the preemptor is retried after its backoff.
    h.clock.step(1000);
    await h.schedule();
    assert.equal(h.nodeOf("high"), "n1");
  });

  it("does not preempt pods of equal or higher priority, nor with preemptionPolicy Never", async () => {
    const h = harness();
    h.addNode(makeNode("n1", { cpu: "2" }));
    h.addPod(makePod("peer", { cpu: "2", priority: 1000, nodeName: "n1" }));
    h.addPod(makePod("high", { cpu: "2", priority: 1000 }));
    h.addPod(makePod("polite", { cpu: "2", priority: 2000, spec: { preemptionPolicy: "Never" } }));
    await h.schedule();
    assert.deepEqual(h.api.deletes, []);
    const msgs = Object.fromEntries(h.events.events.map((e) => [e.object, e.message]));
    assert.equal(msgs["default/high"], "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.");
    assert.equal(msgs["default/polite"], "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.");
  });

  it("a nominated pod keeps its room from lower-priority pods", async () => {
    const h = harness({ confirmBinds: true });
    h.addNode(makeNode("n1", { cpu: "2" }));
    const nominatedPod = makePod("nominated", { cpu: "2", priority: 1000, nominatedNodeName: "n1", spec: { nodeSelector: { none: "x" } } });
    h.addPod(nominatedPod);
    // Drop it from the queue so that only the nomination is left.
    h.core.queue.delete("default/nominated");
    h.addPod(makePod("small", { cpu: "1", priority: 0 }));
    await h.schedule();
    assert.equal(h.nodeOf("small"), undefined);
    h.addPod(makePod("higher", { cpu: "1", priority: 5000 }));
    await h.schedule();
    assert.equal(h.nodeOf("higher"), "n1");
  });
});

describe("podSchedulingFailurePatch", () => {
  it("writes only when the condition or the nomination changes", () => {
    const now = Date.parse("2024-06-01T00:00:00Z");
    const pod = makePod("p");
    const first = podSchedulingFailurePatch(pod, "Unschedulable", "m", undefined, now);
    assert.deepEqual(first, { conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "m", lastProbeTime: null, lastTransitionTime: "2024-06-01T00:00:00Z" }] });
    const withCondition = deepFreeze({ ...(pod as Pod), status: { conditions: first!.conditions } }) as unknown as RPod;
    assert.equal(podSchedulingFailurePatch(withCondition, "Unschedulable", "m", undefined, now + 5000), undefined);
    const changed = podSchedulingFailurePatch(withCondition, "Unschedulable", "m2", undefined, now + 5000);
    assert.equal(changed?.conditions[0]!.lastTransitionTime, "2024-06-01T00:00:00Z", "still False: the transition time stays");
    assert.equal(podSchedulingFailurePatch(withCondition, "Unschedulable", "m", "n1", now)?.nominatedNodeName, "n1");
  });
});

describe("nodeEvents", () => {
  const base = makeNode("n", { labels: { zone: "a" } });
  const withStatus = (n: RNode, status: Record<string, unknown>): RNode => ({ ...n, status: { ...n.status, ...status } }) as RNode;
  const ready = (n: RNode, status: string, heartbeat: string): RNode => withStatus(n, { conditions: [{ type: "Ready", status, lastHeartbeatTime: heartbeat }] });

  it("names what changed for the scheduling queue, and nothing for a heartbeat", () => {
    assert.deepEqual(nodeEvents(base, makeNode("n", { labels: { zone: "a" }, cpu: "8" })), ["NodeAllocatable"]);
    assert.deepEqual(nodeEvents(base, makeNode("n", { labels: { zone: "b" } })), ["NodeLabel"]);
    assert.deepEqual(nodeEvents(base, makeNode("n", { labels: { zone: "a" }, taints: [{ key: "k", effect: "NoSchedule" }] })), ["NodeTaint"]);
    assert.deepEqual(nodeEvents(base, makeNode("n", { labels: { zone: "a" }, unschedulable: true })), ["NodeTaint"]);
    assert.deepEqual(nodeEvents(ready(base, "False", "t1"), ready(base, "True", "t2")), ["NodeCondition"]);
    assert.deepEqual(nodeEvents(ready(base, "True", "t1"), ready(base, "True", "t2")), []);
    // The same allocatable written in another key order is no change.
    const reordered = withStatus(base, { allocatable: Object.fromEntries(Object.entries(base.status?.allocatable ?? {}).reverse()) });
    assert.deepEqual(nodeEvents(base, reordered), []);
  });
});

async function waitUntil(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setImmediate(r));
  }
}
