import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { PersistentVolume, PersistentVolumeClaim, Volume } from "kubernetes-types/core/v1.js";
import { FakeClock } from "../../client/clock.js";
import { cacheWith, FakeSchedulerApi, FakeVolumes, makeClaim, makeNode, makeStorageClass, makeVolume, podInfo } from "../fixtures.js";
import type { PodInfo } from "../framework/podinfo.js";
import { Code, CycleState, type Status } from "../framework/types.js";
import {
  claimEventKey,
  ERR_REASON_BIND_CONFLICT,
  ERR_REASON_NODE_CONFLICT,
  ERR_REASON_PV_NOT_EXIST,
  podEventKey,
  VolumeBinding,
  VolumeEvents,
  volumeObjectEventKeys,
  type RPV,
  type RPVC,
} from "./volumebinding.js";

const nodes = [
  makeNode("a", { labels: { "topology.kubernetes.io/zone": "z1" } }),
  makeNode("b", { labels: { "topology.kubernetes.io/zone": "z2" } }),
];

/** Classes: wffc (provisions), local (no provisioner), immediate, zoned (provisions in z1 only). */
const classes = [
  makeStorageClass("wffc"),
  makeStorageClass("local", { provisioner: "kubernetes.io/no-provisioner" }),
  makeStorageClass("immediate", { mode: "Immediate" }),
  makeStorageClass("zoned", { zones: ["z1"] }),
];

function claimVolume(claim: string, name = claim): Volume {
  return { name, persistentVolumeClaim: { claimName: claim } };
}

function podWith(name: string, volumes: Volume[], uid?: string): PodInfo {
  return podInfo(name, { spec: { volumes }, ...(uid ? { uid } : {}) });
}

function setup(objs: readonly Parameters<FakeVolumes["add"]>[0][]) {
  const volumes = new FakeVolumes([...classes, ...objs]);
  const { cache, handle } = cacheWith(nodes);
  const api = new FakeSchedulerApi();
  api.volumes = volumes;
  const events = new VolumeEvents();
  volumes.onChange = (obj) => events.changed(...volumeObjectEventKeys(obj));
  const clock = new FakeClock(0);
  const pods = new Map<string, PodInfo>();
  const pl = new VolumeBinding({ volumes, handle, api, events, clock, currentPod: (p) => pods.get(p.key) });
  /** PreFilter, then Filter on each node: the verdicts by node name. */
  const run = (pod: PodInfo): { state: CycleState; pre: Status | null; byNode: Record<string, Status | null> } => {
    pods.set(pod.key, pod);
    const state = new CycleState();
    const pre = pl.preFilter(state, pod).status;
    const byNode: Record<string, Status | null> = {};
    if (pre === null) for (const n of cache.list()) byNode[n.name] = pl.filter(state, pod, n);
    return { state, pre, byNode };
  };
  return { volumes, cache, handle, api, events, clock, pl, run, pods };
}

const reasons = (s: Status | null | undefined): readonly string[] | undefined => s?.reasons;

describe("VolumeBinding PreFilter", () => {
  it("skips pods without claims, writing no state", () => {
    const h = setup([]);
    const state = new CycleState();
    const r = h.pl.preFilter(state, podInfo("p", { spec: { volumes: [{ name: "cfg", configMap: { name: "c" } }] } }));
    assert.equal(r.status?.code, Code.Skip);
    assert.equal(h.pl.preFilter(state, podInfo("q")).status, r.status, "a shared status: nothing allocated");
    assert.equal(h.pl.reserve(state, podInfo("p"), "a"), null);
  });

  const rejects: { name: string; objs: (RPV | RPVC)[]; volumes: Volume[]; want: string }[] = [
    { name: "a missing claim", objs: [], volumes: [claimVolume("data")], want: 'persistentvolumeclaim "data" not found' },
    { name: "a claim being deleted", objs: [makeClaim("data", { deleting: true })], volumes: [claimVolume("data")], want: 'persistentvolumeclaim "data" is being deleted' },
    { name: "a lost claim", objs: [makeClaim("data", { boundTo: "gone", phase: "Lost" })], volumes: [claimVolume("data")], want: 'persistentvolumeclaim "data" bound to non-existent persistentvolume "gone"' },
    {
      name: "a missing ephemeral claim",
      objs: [],
      volumes: [{ name: "scratch", ephemeral: { volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"] } } } }],
      want: 'waiting for ephemeral volume controller to create the persistentvolumeclaim "p-scratch"',
    },
    {
      name: "an ephemeral claim of another pod",
      objs: [makeClaim("p-scratch", { ownerUid: "someone-else" })],
      volumes: [{ name: "scratch", ephemeral: { volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"] } } } }],
      want: "PVC default/p-scratch was not created for pod default/p (pod is not owner)",
    },
    { name: "an unbound claim of an Immediate class", objs: [makeClaim("data", { storageClassName: "immediate" })], volumes: [claimVolume("data")], want: "pod has unbound immediate PersistentVolumeClaims" },
    { name: "an unbound claim without a class", objs: [makeClaim("data", { storageClassName: null })], volumes: [claimVolume("data")], want: "pod has unbound immediate PersistentVolumeClaims" },
    { name: "an unbound claim of a class that does not exist", objs: [makeClaim("data", { storageClassName: "nope" })], volumes: [claimVolume("data")], want: "pod has unbound immediate PersistentVolumeClaims" },
  ];
  for (const c of rejects) {
    it(`rejects ${c.name}`, () => {
      const h = setup(c.objs);
      const r = h.run(podWith("p", c.volumes));
      assert.equal(r.pre?.code, Code.UnschedulableAndUnresolvable);
      assert.deepEqual(reasons(r.pre), [c.want]);
      assert.equal(r.pre?.plugin, "VolumeBinding");
    });
  }

  it("accepts an ephemeral claim the pod owns", () => {
    const h = setup([makeClaim("p-scratch", { ownerUid: "uid-p" })]);
    const r = h.run(podWith("p", [{ name: "scratch", ephemeral: { volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"] } } } }], "uid-p"));
    assert.equal(r.pre, null);
    assert.deepEqual(r.byNode, { a: null, b: null });
  });
});

describe("VolumeBinding Filter", () => {
  it("bound volumes: their node affinity decides", () => {
    const h = setup([makeClaim("data", { boundTo: "pv-a" }), makeVolume("pv-a", { hosts: ["a"], claimRef: { namespace: "default", name: "data" } })]);
    const r = h.run(podWith("p", [claimVolume("data")]));
    assert.equal(r.byNode["a"], null);
    assert.equal(r.byNode["b"]?.code, Code.UnschedulableAndUnresolvable);
    assert.deepEqual(reasons(r.byNode["b"]), [ERR_REASON_NODE_CONFLICT]);
  });

  it("a claim bound to a volume that does not exist fits no node", () => {
    const h = setup([makeClaim("data", { boundTo: "gone" })]);
    const r = h.run(podWith("p", [claimVolume("data")]));
    assert.deepEqual(reasons(r.byNode["a"]), [ERR_REASON_PV_NOT_EXIST]);
    assert.deepEqual(reasons(r.byNode["b"]), [ERR_REASON_PV_NOT_EXIST]);
  });

  it("an unbound WaitForFirstConsumer claim of a class without provisioner needs a static volume on the node", () => {
    const h = setup([makeClaim("data", { storageClassName: "local" }), makeVolume("pv-a", { storageClassName: "local", hosts: ["a"] })]);
    const r = h.run(podWith("p", [claimVolume("data")]));
    assert.equal(r.byNode["a"], null);
    assert.deepEqual(reasons(r.byNode["b"]), [ERR_REASON_BIND_CONFLICT]);
  });

  it("a volume too small, of another class, or taken does not count", () => {
    const h = setup([
      makeClaim("data", { storageClassName: "local", storage: "5Gi" }),
      makeVolume("small", { storageClassName: "local", storage: "1Gi" }),
      makeVolume("other", { storageClassName: "wffc", storage: "10Gi" }),
      makeVolume("taken", { storageClassName: "local", storage: "10Gi", claimRef: { namespace: "default", name: "x", uid: "u" } }),
    ]);
    const r = h.run(podWith("p", [claimVolume("data")]));
    assert.deepEqual(reasons(r.byNode["a"]), [ERR_REASON_BIND_CONFLICT]);
  });

  it("two claims cannot both take the one volume", () => {
    const h = setup([makeClaim("d1", { storageClassName: "local" }), makeClaim("d2", { storageClassName: "local" }), makeVolume("pv1", { storageClassName: "local" })]);
    const r = h.run(podWith("p", [claimVolume("d1"), claimVolume("d2")]));
    assert.deepEqual(reasons(r.byNode["a"]), [ERR_REASON_BIND_CONFLICT]);
    h.volumes.add(makeVolume("pv2", { storageClassName: "local" }));
    assert.equal(h.run(podWith("p", [claimVolume("d1"), claimVolume("d2")])).byNode["a"], null);
  });

  it("a provisioning class fits every node its allowedTopologies allow", () => {
    const h = setup([makeClaim("data", { storageClassName: "zoned" })]);
    const r = h.run(podWith("p", [claimVolume("data")]));
    assert.equal(r.byNode["a"], null);
    assert.deepEqual(reasons(r.byNode["b"]), [ERR_REASON_BIND_CONFLICT]);
    const h2 = setup([makeClaim("data")]);
    assert.deepEqual(h2.run(podWith("p", [claimVolume("data")])).byNode, { a: null, b: null });
  });

  it("a claim already handed to a provisioner for one node fits only that node", () => {
    const h = setup([makeClaim("data", { annotations: { "volume.kubernetes.io/selected-node": "b" } })]);
    const r = h.run(podWith("p", [claimVolume("data")]));
    assert.deepEqual(reasons(r.byNode["a"]), [ERR_REASON_BIND_CONFLICT]);
    assert.equal(r.byNode["b"], null);
  });

  it("names both conflicts when a bound volume and an unbound claim both fail", () => {
    const h = setup([
      makeClaim("bound", { boundTo: "pv-a" }),
      makeVolume("pv-a", { hosts: ["a"], claimRef: { namespace: "default", name: "bound" } }),
      makeClaim("free", { storageClassName: "local" }),
    ]);
    const r = h.run(podWith("p", [claimVolume("bound"), claimVolume("free")]));
    assert.deepEqual(reasons(r.byNode["b"]), [ERR_REASON_NODE_CONFLICT, ERR_REASON_BIND_CONFLICT]);
  });
});

describe("VolumeBinding Reserve and Unreserve", () => {
  it("a static volume chosen for one pod is not offered to the next until unreserved", () => {
    const h = setup([makeClaim("d1", { storageClassName: "local" }), makeClaim("d2", { storageClassName: "local" }), makeVolume("pv1", { storageClassName: "local" })]);
    const p1 = h.run(podWith("p1", [claimVolume("d1")]));
    assert.equal(p1.byNode["a"], null);
    assert.equal(h.pl.reserve(p1.state, podWith("p1", [claimVolume("d1")]), "a"), null);
    assert.equal(h.pl.assumedCount, 1);
    const assumed = h.pl.volumeView("pv1")!;
    assert.equal(assumed.spec?.claimRef?.name, "d1");
    const p2 = h.run(podWith("p2", [claimVolume("d2")]));
    assert.deepEqual(reasons(p2.byNode["a"]), [ERR_REASON_BIND_CONFLICT], "pv1 is taken by p1's assumption");
    h.pl.unreserve(p1.state);
    assert.equal(h.pl.assumedCount, 0);
    assert.equal(h.run(podWith("p2", [claimVolume("d2")])).byNode["a"], null);
  });

  it("a newer informer version replaces the assumption", () => {
    const h = setup([makeClaim("d1", { storageClassName: "local" }), makeVolume("pv1", { storageClassName: "local" })]);
    const p1 = h.run(podWith("p1", [claimVolume("d1")]));
    h.pl.reserve(p1.state, podWith("p1", [claimVolume("d1")]), "a");
    h.volumes.put({ ...structuredClone(h.volumes.volume("pv1")) } as PersistentVolume);
    assert.equal(h.pl.volumeView("pv1")?.spec?.claimRef, undefined);
    assert.equal(h.pl.assumedCount, 0);
  });

  it("a claim to provision is assumed with the selected node: a pod sharing it may only go there", () => {
    const h = setup([makeClaim("shared")]);
    const p1 = h.run(podWith("p1", [claimVolume("shared")]));
    assert.equal(h.pl.reserve(p1.state, podWith("p1", [claimVolume("shared")]), "b"), null);
    assert.equal(h.pl.claimView("default", "shared")?.metadata?.annotations?.["volume.kubernetes.io/selected-node"], "b");
    const p2 = h.run(podWith("p2", [claimVolume("shared")]));
    assert.deepEqual(reasons(p2.byNode["a"]), [ERR_REASON_BIND_CONFLICT]);
    assert.equal(p2.byNode["b"], null);
    h.pl.unreserve(p1.state);
    assert.equal(h.pl.claimView("default", "shared")?.metadata?.annotations?.["volume.kubernetes.io/selected-node"], undefined);
  });

  it("pods whose claims are all bound have nothing to bind", async () => {
    const h = setup([makeClaim("data", { boundTo: "pv" }), makeVolume("pv", { claimRef: { namespace: "default", name: "data" } })]);
    const pod = podWith("p", [claimVolume("data")]);
    const r = h.run(pod);
    assert.equal(h.pl.reserve(r.state, pod, "a"), null);
    assert.equal(h.pl.assumedCount, 0);
    assert.equal(await h.pl.preBind(r.state, pod, "a", new AbortController().signal), null);
    assert.equal(h.api.volumeWrites.length, 0);
  });
});

/** What the PV controller does once a volume's claimRef names a claim: the claim is bound to it. */
function completeBinding(volumes: FakeVolumes, claim: string, pvName: string): void {
  const old = structuredClone(volumes.claim("default", claim)!) as PersistentVolumeClaim;
  volumes.put<PersistentVolumeClaim>({
    ...old,
    metadata: { ...old.metadata, annotations: { ...old.metadata?.annotations, "pv.kubernetes.io/bind-completed": "yes" } },
    spec: { ...old.spec, volumeName: pvName },
    status: { phase: "Bound" },
  });
}

describe("VolumeBinding PreBind", () => {
  async function reserved(h: ReturnType<typeof setup>, pod: PodInfo, node: string): Promise<CycleState> {
    const r = h.run(pod);
    assert.equal(r.byNode[node], null);
    assert.equal(h.pl.reserve(r.state, pod, node), null);
    return Promise.resolve(r.state);
  }

  it("static binding: writes the volume's claimRef, then waits until the claim is bound", async () => {
    const h = setup([makeClaim("data", { storageClassName: "local" }), makeVolume("pv-a", { storageClassName: "local", hosts: ["a"] })]);
    const pod = podWith("p", [claimVolume("data")]);
    const state = await reserved(h, pod, "a");
    let settled: Status | null | "pending" = "pending";
    const done = h.pl.preBind(state, pod, "a", new AbortController().signal).then((s) => (settled = s));
    await new Promise((r) => setImmediate(r));
    assert.equal(h.api.volumeWrites.length, 1);
    const pv = h.api.volumeWrites[0] as PersistentVolume;
    assert.deepEqual(pv.spec?.claimRef, { kind: "PersistentVolumeClaim", namespace: "default", name: "data", uid: "uid-pvc-default-data", apiVersion: "v1", resourceVersion: "1" });
    assert.equal(pv.metadata?.annotations?.["pv.kubernetes.io/bound-by-controller"], "yes");
    assert.equal(settled, "pending", "waits for the PV controller");
    completeBinding(h.volumes, "data", "pv-a");
    await done;
    assert.equal(settled, null);
    assert.equal(h.events.waiting, 0);
  });

  it("provisioning: writes the selected node on the claim and waits for the provisioned volume", async () => {
    const h = setup([makeClaim("data")]);
    const pod = podWith("p", [claimVolume("data")]);
    const state = await reserved(h, pod, "b");
    const done = h.pl.preBind(state, pod, "b", new AbortController().signal);
    await new Promise((r) => setImmediate(r));
    const written = h.api.volumeWrites[0] as PersistentVolumeClaim;
    assert.equal(written.kind, "PersistentVolumeClaim");
    assert.equal(written.metadata?.annotations?.["volume.kubernetes.io/selected-node"], "b");
    // The provisioner makes the volume on b, the PV controller binds.
    h.volumes.put(structuredClone(makeVolume("pvc-uid", { hosts: ["b"], claimRef: { namespace: "default", name: "data", uid: "uid-pvc-default-data" } })) as PersistentVolume);
    completeBinding(h.volumes, "data", "pvc-uid");
    assert.equal(await done, null);
  });

  it("fails when the API refuses the write", async () => {
    const h = setup([makeClaim("data")]);
    const pod = podWith("p", [claimVolume("data")]);
    const state = await reserved(h, pod, "a");
    h.api.failVolumeWrites = new Error('Operation cannot be fulfilled on persistentvolumeclaims "data": the object has been modified');
    const s = await h.pl.preBind(state, pod, "a", new AbortController().signal);
    assert.equal(s?.code, Code.Error);
    assert.match(s!.message(), /the object has been modified/);
  });

  it("fails when the provisioner gives up (selected-node removed)", async () => {
    const h = setup([makeClaim("data")]);
    const pod = podWith("p", [claimVolume("data")]);
    const state = await reserved(h, pod, "a");
    const done = h.pl.preBind(state, pod, "a", new AbortController().signal);
    await new Promise((r) => setImmediate(r));
    const pvc = structuredClone(h.volumes.claim("default", "data")!) as PersistentVolumeClaim;
    delete pvc.metadata!.annotations!["volume.kubernetes.io/selected-node"];
    h.volumes.put(pvc);
    assert.equal((await done)?.message(), 'binding volumes: selectedNode annotation reset for PVC "data"');
  });

  it("fails when the claim is deleted meanwhile, or the pod", async () => {
    const h = setup([makeClaim("data")]);
    const pod = podWith("p", [claimVolume("data")]);
    let state = await reserved(h, pod, "a");
    let done = h.pl.preBind(state, pod, "a", new AbortController().signal);
    await new Promise((r) => setImmediate(r));
    h.volumes.claims.delete("default/data");
    h.events.changed(claimEventKey("default", "data"));
    assert.equal((await done)?.message(), 'binding volumes: failed to check provisioning pvc: persistentvolumeclaim "data" not found');
    h.pl.unreserve(state);

    h.volumes.add(makeClaim("data"));
    state = await reserved(h, pod, "a");
    done = h.pl.preBind(state, pod, "a", new AbortController().signal);
    await new Promise((r) => setImmediate(r));
    h.pods.delete(pod.key);
    h.events.changed(podEventKey("default", "p"));
    assert.equal((await done)?.message(), 'binding volumes: pod does not exist any more: pod "p" not found');
  });

  it("gives up after bindTimeoutSeconds (600 s), and at once when aborted", async () => {
    const h = setup([makeClaim("data")]);
    const pod = podWith("p", [claimVolume("data")]);
    let state = await reserved(h, pod, "a");
    let done = h.pl.preBind(state, pod, "a", new AbortController().signal);
    await new Promise((r) => setImmediate(r));
    h.clock.step(599_000);
    h.events.changed(claimEventKey("default", "data"));
    h.clock.step(1_000);
    assert.equal((await done)?.message(), "binding volumes: context deadline exceeded");
    assert.equal(h.events.waiting, 0);

    h.pl.unreserve(state);
    state = await reserved(h, pod, "a");
    const abort = new AbortController();
    done = h.pl.preBind(state, pod, "a", abort.signal);
    await new Promise((r) => setImmediate(r));
    abort.abort();
    assert.equal((await done)?.message(), "binding volumes: context canceled");
  });
});

describe("VolumeEvents", () => {
  it("wakes only the waiters of the keys that changed, and forgets unsubscribed ones", () => {
    const ev = new VolumeEvents();
    const woken: string[] = [];
    const offA = ev.subscribe([claimEventKey("ns", "a"), podEventKey("ns", "p")], () => woken.push("a"));
    ev.subscribe([claimEventKey("ns", "b")], () => woken.push("b"));
    ev.changed(claimEventKey("ns", "a"), podEventKey("ns", "p"));
    ev.changed(claimEventKey("ns", "c"));
    assert.deepEqual(woken, ["a"]);
    // A volume's event concerns the claim its claimRef names.
    ev.changed(...volumeObjectEventKeys(makeVolume("pv", { claimRef: { namespace: "ns", name: "b" } })));
    assert.deepEqual(woken, ["a", "b"]);
    offA();
    offA();
    ev.changed(claimEventKey("ns", "a"));
    assert.deepEqual(woken, ["a", "b"]);
    assert.equal(ev.waiting, 1);
  });
});
