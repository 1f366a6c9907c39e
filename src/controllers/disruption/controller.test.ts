import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Pod, ReplicationController } from "kubernetes-types/core/v1.js";
import type { Deployment, ReplicaSet, StatefulSet } from "kubernetes-types/apps/v1.js";
import type { PodDisruptionBudget } from "kubernetes-types/policy/v1.js";
import { FakeClock } from "../../client/clock.js";
import { Lister, type Indexer } from "../../client/informer.js";
import { createLogger } from "../../util/log.js";
import { FakeApi, RecordingEventSink } from "../testing/index.js";
import { cachePut, seedIndexer } from "../testing/listers.js";
import { DisruptionController, DisruptionEventHandlers, STALE_POD_DISRUPTION_TIMEOUT_MS } from "./controller.js";
import { DELETION_TIMEOUT_MS } from "./status.js";
import { rfc3339 } from "../../util/time.js";

const log = createLogger("silent");
const T0 = Date.parse("2026-03-01T12:00:00Z");

const owner = (kind: string, name: string, apiVersion = "apps/v1") => [{ apiVersion, kind, name, uid: `${name}-uid`, controller: true }];

function pod(name: string, o: { ready?: boolean; deleting?: boolean; rs?: string; labels?: Record<string, string>; disruptionTargetAt?: number } = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: "ns",
      uid: `${name}-uid`,
      resourceVersion: "7",
      labels: o.labels ?? { app: "web" },
      ownerReferences: owner("ReplicaSet", o.rs ?? "web-1"),
      ...(o.deleting ? { deletionTimestamp: rfc3339(T0) } : {}),
    },
    spec: { containers: [] },
    status: {
      phase: "Running",
      conditions: [
        { type: "Ready", status: o.ready === false ? "False" : "True" },
        ...(o.disruptionTargetAt !== undefined ? [{ type: "DisruptionTarget", status: "True", reason: "EvictionByEvictionAPI", lastTransitionTime: rfc3339(o.disruptionTargetAt) }] : []),
      ],
    },
  };
}

function pdb(spec: PodDisruptionBudget["spec"], status?: PodDisruptionBudget["status"]): PodDisruptionBudget {
  return { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "pdb", namespace: "ns", generation: 2, uid: "pdb-uid" }, spec: { selector: { matchLabels: { app: "web" } }, ...spec }, ...(status ? { status } : {}) };
}

class World {
  readonly clock = new FakeClock(T0);
  readonly api = new FakeApi({ clock: this.clock });
  readonly events = new RecordingEventSink();
  readonly pdbs: Indexer<PodDisruptionBudget> = seedIndexer<PodDisruptionBudget>();
  readonly pods: Indexer<Pod> = seedIndexer<Pod>();
  readonly rcs: Indexer<ReplicationController> = seedIndexer<ReplicationController>();
  readonly rss: Indexer<ReplicaSet> = seedIndexer<ReplicaSet>();
  readonly deployments: Indexer<Deployment> = seedIndexer<Deployment>();
  readonly statefulSets: Indexer<StatefulSet> = seedIndexer<StatefulSet>();
  readonly rechecks: [string, number][] = [];
  readonly podRechecks: [string, number][] = [];
  readonly c: DisruptionController;

  constructor() {
    this.c = new DisruptionController({
      api: this.api,
      listers: { pdbs: new Lister(this.pdbs), pods: new Lister(this.pods), replicationControllers: new Lister(this.rcs), replicaSets: new Lister(this.rss), deployments: new Lister(this.deployments), statefulSets: new Lister(this.statefulSets) },
      events: this.events,
      clock: this.clock,
      enqueueAfter: (k, ms) => this.rechecks.push([k, ms]),
      enqueuePodAfter: (k, ms) => this.podRechecks.push([k, ms]),
    });
  }

  addPdb(p: PodDisruptionBudget): void {
    this.api.seed("policy", "poddisruptionbudgets", p);
    cachePut(this.pdbs, p);
  }

  /** A Deployment of `replicas` owning ReplicaSet web-1. */
  addDeployment(replicas: number): void {
    cachePut(this.deployments, { metadata: { name: "web", namespace: "ns", uid: "web-uid" }, spec: { replicas, selector: {}, template: {} } });
    cachePut(this.rss, { metadata: { name: "web-1", namespace: "ns", uid: "web-1-uid", ownerReferences: owner("Deployment", "web") }, spec: { replicas: 1, selector: {} } });
  }

  status(): PodDisruptionBudget["status"] {
    return this.api.object<PodDisruptionBudget>("policy", "poddisruptionbudgets", "ns", "pdb")?.status;
  }
}

void describe("DisruptionController.sync", () => {
  void it("writes the status of an integer minAvailable over Ready pods, skipping unready and terminating ones", async () => {
    const w = new World();
    w.addPdb(pdb({ minAvailable: 2 }));
    for (const p of [pod("a"), pod("b"), pod("c"), pod("d", { ready: false }), pod("e", { deleting: true }), pod("other", { labels: { app: "db" } })]) cachePut(w.pods, p);
    await w.c.sync("ns/pdb", log);
    assert.deepEqual(w.api.verbs(), ["updateStatus poddisruptionbudgets/status ns/pdb"]);
    const st = w.status();
    assert.deepEqual({ ...st, conditions: undefined }, { currentHealthy: 3, desiredHealthy: 2, expectedPods: 5, disruptionsAllowed: 1, observedGeneration: 2, conditions: undefined });
    assert.deepEqual(st?.conditions, [{ type: "DisruptionAllowed", status: "True", reason: "SufficientPods", message: "", observedGeneration: 2, lastTransitionTime: rfc3339(T0) }]);

    // Level-triggered and idempotent: the same world again writes nothing.
    cachePut(w.pdbs, w.api.object<PodDisruptionBudget>("policy", "poddisruptionbudgets", "ns", "pdb")!);
    w.api.clear();
    await w.c.sync("ns/pdb", log);
    assert.deepEqual(w.api.verbs(), []);
  });

  void it("resolves percentages against the Deployment that owns the pods' ReplicaSet", async () => {
    const w = new World();
    w.addDeployment(4);
    w.addPdb(pdb({ maxUnavailable: "25%" }));
    for (const n of ["a", "b", "c", "d"]) cachePut(w.pods, pod(n));
    await w.c.sync("ns/pdb", log);
    assert.deepEqual([w.status()?.expectedPods, w.status()?.desiredHealthy, w.status()?.currentHealthy, w.status()?.disruptionsAllowed], [4, 3, 4, 1]);
  });

  void it("reads the scale of ReplicaSets, StatefulSets and ReplicationControllers", async () => {
    const w = new World();
    cachePut(w.rss, { metadata: { name: "rs", namespace: "ns", uid: "rs-uid" }, spec: { replicas: 2, selector: {} } });
    cachePut(w.statefulSets, { metadata: { name: "ss", namespace: "ns", uid: "ss-uid" }, spec: { replicas: 3, selector: {}, template: {}, serviceName: "" } });
    cachePut(w.rcs, { metadata: { name: "rc", namespace: "ns", uid: "rc-uid" }, spec: { replicas: 5 } });
    w.addPdb(pdb({ minAvailable: "100%" }));
    cachePut(w.pods, { ...pod("r"), metadata: { ...pod("r").metadata, ownerReferences: owner("ReplicaSet", "rs") } });
    cachePut(w.pods, { ...pod("s"), metadata: { ...pod("s").metadata, ownerReferences: owner("StatefulSet", "ss") } });
    cachePut(w.pods, { ...pod("c"), metadata: { ...pod("c").metadata, ownerReferences: owner("ReplicationController", "rc", "v1") } });
    await w.c.sync("ns/pdb", log);
    assert.deepEqual([w.status()?.expectedPods, w.status()?.desiredHealthy, w.status()?.disruptionsAllowed], [10, 10, 0]);
    assert.equal(w.status()?.conditions?.[0]?.reason, "InsufficientPods");
  });

  void it("fails safe when a pod's controller cannot be found: no disruption allowed, SyncFailed, retried", async () => {
    const w = new World();
    w.addPdb(pdb({ minAvailable: "50%" }, { currentHealthy: 3, desiredHealthy: 1, expectedPods: 3, disruptionsAllowed: 2, observedGeneration: 2 }));
    cachePut(w.pods, pod("a"));
    await assert.rejects(w.c.sync("ns/pdb", log), /found no controllers for pod "a"/);
    assert.equal(w.status()?.disruptionsAllowed, 0);
    assert.deepEqual(
      w.status()?.conditions?.map((c) => [c.status, c.reason, c.message]),
      [["False", "SyncFailed", 'found no controllers for pod "a"']],
    );
    assert.ok(w.events.events.some((e) => e.reason === "CalculateExpectedPodCountFailed"));
  });

  void it("keeps fresh disruptedPods out of currentHealthy, drops stale and gone ones, and looks again when the next runs out", async () => {
    const w = new World();
    const fresh = rfc3339(T0 - 60_000);
    w.addPdb(pdb({ minAvailable: 1 }, { currentHealthy: 3, desiredHealthy: 1, expectedPods: 3, disruptionsAllowed: 1, observedGeneration: 2, disruptedPods: { a: fresh, b: rfc3339(T0 - DELETION_TIMEOUT_MS - 1000), gone: fresh } }));
    for (const n of ["a", "b", "c"]) cachePut(w.pods, pod(n));
    await w.c.sync("ns/pdb", log);
    assert.deepEqual(w.status()?.disruptedPods, { a: fresh });
    assert.equal(w.status()?.currentHealthy, 2);
    assert.equal(w.status()?.disruptionsAllowed, 1);
    assert.deepEqual(w.rechecks, [["ns/pdb", 60_000]]);
    assert.ok(w.events.events.some((e) => e.reason === "NotDeleted"));
  });

  void it("does nothing for a PDB that is gone, and says so for one without pods", async () => {
    const w = new World();
    await w.c.sync("ns/pdb", log);
    assert.deepEqual(w.api.verbs(), []);
    w.addPdb(pdb({ maxUnavailable: 1 }));
    await w.c.sync("ns/pdb", log);
    assert.deepEqual([w.status()?.expectedPods, w.status()?.disruptionsAllowed], [0, 0]);
    assert.ok(w.events.events.some((e) => e.reason === "NoPods" && e.message === "No matching pods found"));
  });
});

void describe("DisruptionEventHandlers", () => {
  void it("maps pod events to the PDBs selecting the pod (old and new labels); empty selectors select nothing", () => {
    const w = new World();
    w.addPdb(pdb({ minAvailable: 1 }));
    cachePut(w.pdbs, { ...pdb({ minAvailable: 1 }), metadata: { name: "db", namespace: "ns" }, spec: { selector: { matchLabels: { app: "db" } } } });
    cachePut(w.pdbs, { ...pdb({ minAvailable: 1 }), metadata: { name: "all", namespace: "ns" }, spec: { selector: {} } });
    const keys: string[] = [];
    const h = new DisruptionEventHandlers(w.c, (k) => keys.push(k), () => undefined);
    h.podAdded(pod("a"));
    assert.deepEqual(keys, ["ns/pdb"]);
    keys.length = 0;
    h.podUpdated(pod("a"), pod("a", { labels: { app: "db" } }));
    assert.deepEqual(keys.sort(), ["ns/db", "ns/pdb"]);
    assert.deepEqual(w.events.events.map((e) => e.reason), [], "one PDB per pod so far");
  });

  void it("warns on a pod that several PDBs select (its evictions will be refused)", () => {
    const w = new World();
    w.addPdb(pdb({ minAvailable: 1 }));
    cachePut(w.pdbs, { ...pdb({ minAvailable: 1 }), metadata: { name: "second", namespace: "ns" } });
    const keys: string[] = [];
    const h = new DisruptionEventHandlers(w.c, (k) => keys.push(k), () => undefined);
    h.podAdded(pod("a"));
    assert.deepEqual(keys.sort(), ["ns/pdb", "ns/second"]);
    const warned = w.events.events.filter((e) => e.reason === "MultiplePodDisruptionBudgets");
    assert.equal(warned.length, 1);
    assert.equal(warned[0]?.type, "Warning");
    assert.match(warned[0]?.message ?? "", /^Pod "ns"\/"a" matches multiple PodDisruptionBudgets \("(pdb|second)", "(pdb|second)"\)/);
  });
});

void describe("stale DisruptionTarget conditions", () => {
  void it("waits out the timeout, then sets the condition False on a pod that was not deleted", async () => {
    const w = new World();
    const p = pod("a", { disruptionTargetAt: T0 - 30_000 });
    w.api.seed("", "pods", p);
    cachePut(w.pods, p);
    await w.c.syncStalePod("ns/a", log);
    assert.deepEqual(w.podRechecks, [["ns/a", STALE_POD_DISRUPTION_TIMEOUT_MS - 30_000]]);
    assert.deepEqual(w.api.verbs(), []);
    w.clock.step(STALE_POD_DISRUPTION_TIMEOUT_MS);
    await w.c.syncStalePod("ns/a", log);
    assert.deepEqual(w.api.verbs(), ["patch pods/status ns/a"]);
    const cond = w.api.object<Pod>("", "pods", "ns", "a")?.status?.conditions?.find((c) => c.type === "DisruptionTarget");
    assert.equal(cond?.status, "False");
    assert.equal(cond?.reason, "EvictionByEvictionAPI");
    // A terminating pod's condition is never stale.
    assert.equal(w.c.staleConditionDelay(pod("b", { deleting: true, disruptionTargetAt: T0 - 1e9 })), undefined);
  });
});
