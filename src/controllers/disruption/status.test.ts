import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.js";
import type { PodDisruptionBudget } from "kubernetes-types/policy/v1.js";
import { deepFreeze } from "../../client/objects.js";
import {
  buildDisruptedPods,
  conditionsAreUpToDate,
  countHealthyPods,
  DELETION_TIMEOUT_MS,
  DisruptionError,
  expectedPodCount,
  failSafeStatus,
  nextStatus,
  type RPdb,
  type RPod,
  type ScaleFinder,
} from "./status.js";
import { rfc3339 } from "../../util/time.js";

const T0 = Date.parse("2026-03-01T12:00:00Z");

function pod(name: string, o: { ready?: boolean; deleting?: boolean; owner?: string | null } = {}): RPod {
  const owner = o.owner === undefined ? "rs-uid" : o.owner;
  return deepFreeze<Pod>({
    metadata: {
      name,
      namespace: "ns",
      labels: { app: "web" },
      ...(owner ? { ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: owner, controller: true }] } : {}),
      ...(o.deleting ? { deletionTimestamp: rfc3339(T0) } : {}),
    },
    status: { phase: "Running", conditions: [{ type: "Ready", status: o.ready === false ? "False" : "True" }] },
  });
}

function pdb(spec: PodDisruptionBudget["spec"], status?: PodDisruptionBudget["status"], generation = 1): RPdb {
  return deepFreeze<PodDisruptionBudget>({ metadata: { name: "pdb", namespace: "ns", generation }, spec: { selector: { matchLabels: { app: "web" } }, ...spec }, ...(status ? { status } : {}) });
}

/** Every controllerRef resolves to a workload of `scale` replicas (uid shared by `same` refs). */
const scaleOf =
  (scale: number): ScaleFinder =>
  (ref) => ({ uid: ref.uid, scale });

const pods = (n: number, o: Parameters<typeof pod>[1] = {}): RPod[] => Array.from({ length: n }, (_, i) => pod(`p${i}`, o));

void describe("expectedPodCount", () => {
  void it("takes an integer minAvailable as is and expects the pods that exist", () => {
    assert.deepEqual(expectedPodCount(pdb({ minAvailable: 2 }), pods(3), scaleOf(10)), { expectedCount: 3, desiredHealthy: 2, unmanagedPods: [] });
  });

  void it("resolves a percentage minAvailable against the controllers' scale, rounding up", () => {
    assert.deepEqual(expectedPodCount(pdb({ minAvailable: "50%" }), pods(2), scaleOf(5)), { expectedCount: 5, desiredHealthy: 3, unmanagedPods: [] });
  });

  void it("resolves maxUnavailable (integer and percent) against the scale; never below zero", () => {
    assert.equal(expectedPodCount(pdb({ maxUnavailable: 1 }), pods(3), scaleOf(4)).desiredHealthy, 3);
    assert.equal(expectedPodCount(pdb({ maxUnavailable: "30%" }), pods(3), scaleOf(10)).desiredHealthy, 7);
    assert.equal(expectedPodCount(pdb({ maxUnavailable: 5 }), pods(3), scaleOf(3)).desiredHealthy, 0);
  });

  void it("counts each controller once, summing distinct ones", () => {
    const two = [pod("a", { owner: "u1" }), pod("b", { owner: "u1" }), pod("c", { owner: "u2" })];
    assert.equal(expectedPodCount(pdb({ maxUnavailable: 0 }), two, scaleOf(3)).expectedCount, 6);
    // Two ReplicaSets of one Deployment resolve to the Deployment: one scale.
    const viaDeployment: ScaleFinder = () => ({ uid: "deploy", scale: 4 });
    assert.equal(expectedPodCount(pdb({ maxUnavailable: 0 }), two, viaDeployment).expectedCount, 4);
  });

  void it("reports unmanaged pods with percentages and fails for a controller it cannot find", () => {
    const r = expectedPodCount(pdb({ minAvailable: "100%" }), [pod("a"), pod("lone", { owner: null })], scaleOf(1));
    assert.deepEqual(r.unmanagedPods, ["lone"]);
    assert.equal(r.expectedCount, 1);
    assert.throws(
      () => expectedPodCount(pdb({ minAvailable: "50%" }), [pod("a")], () => undefined),
      (e: unknown) => e instanceof DisruptionError && e.code === "NoControllers" && e.message === 'found no controllers for pod "a"',
    );
  });

  void it("expects nothing when neither field is set", () => {
    assert.deepEqual(expectedPodCount(pdb({}), pods(2), scaleOf(2)), { expectedCount: 0, desiredHealthy: 0, unmanagedPods: [] });
  });
});

void describe("countHealthyPods and buildDisruptedPods", () => {
  void it("counts Ready pods that are neither terminating nor recently evicted", () => {
    const ps = [pod("a"), pod("b", { ready: false }), pod("c", { deleting: true }), pod("d"), pod("e")];
    assert.equal(countHealthyPods(ps, {}, T0), 3);
    assert.equal(countHealthyPods(ps, { d: rfc3339(T0 - 1000) }, T0), 2);
    assert.equal(countHealthyPods(ps, { d: rfc3339(T0 - DELETION_TIMEOUT_MS - 1000) }, T0), 3, "an entry older than 2 minutes no longer counts");
  });

  void it("drops entries of pods that are gone, terminating or past the timeout, and says when to look again", () => {
    const recorded = { a: rfc3339(T0 - 30_000), b: rfc3339(T0 - DELETION_TIMEOUT_MS - 1000), gone: rfc3339(T0), c: rfc3339(T0 - 10_000) };
    const r = buildDisruptedPods([pod("a"), pod("b"), pod("c", { deleting: true })], pdb({ minAvailable: 1 }, { currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, disruptionsAllowed: 0, disruptedPods: recorded }), T0);
    assert.deepEqual(r.disruptedPods, { a: recorded.a });
    assert.equal(r.recheckAt, T0 - 30_000 + DELETION_TIMEOUT_MS);
    assert.deepEqual(
      r.expired.map((p) => p.metadata?.name),
      ["b"],
    );
    assert.equal(buildDisruptedPods([pod("a")], pdb({ minAvailable: 1 }), T0).recheckAt, undefined);
  });
});

void describe("nextStatus", () => {
  void it("allows currentHealthy - desiredHealthy disruptions, with SufficientPods", () => {
    const st = nextStatus(pdb({ minAvailable: 2 }), { currentHealthy: 3, desiredHealthy: 2, expectedCount: 3, disruptedPods: {} }, T0);
    assert.deepEqual(st, {
      currentHealthy: 3,
      desiredHealthy: 2,
      expectedPods: 3,
      disruptionsAllowed: 1,
      observedGeneration: 1,
      conditions: [{ type: "DisruptionAllowed", status: "True", reason: "SufficientPods", message: "", observedGeneration: 1, lastTransitionTime: rfc3339(T0) }],
    });
  });

  void it("allows none below the budget or while no pods are expected, with InsufficientPods", () => {
    const below = nextStatus(pdb({ minAvailable: 3 }), { currentHealthy: 2, desiredHealthy: 3, expectedCount: 3, disruptedPods: {} }, T0);
    assert.equal(below?.disruptionsAllowed, 0);
    assert.equal(below?.conditions?.[0]?.reason, "InsufficientPods");
    assert.equal(below?.conditions?.[0]?.status, "False");
    const none = nextStatus(pdb({ minAvailable: 0 }), { currentHealthy: 2, desiredHealthy: 0, expectedCount: 0, disruptedPods: {} }, T0);
    assert.equal(none?.disruptionsAllowed, 0);
  });

  void it("writes nothing when the stored status says it all, and keeps lastTransitionTime unless the condition flips", () => {
    const counts = { currentHealthy: 3, desiredHealthy: 2, expectedCount: 3, disruptedPods: { p0: rfc3339(T0) } };
    const first = nextStatus(pdb({ minAvailable: 2 }), counts, T0)!;
    assert.deepEqual(first.disruptedPods, { p0: rfc3339(T0) });
    assert.equal(nextStatus(pdb({ minAvailable: 2 }, first), counts, T0 + 5000), undefined);
    // A new generation must be observed even when the numbers did not change.
    const bumped = nextStatus(pdb({ minAvailable: 2 }, first, 2), counts, T0 + 5000)!;
    assert.equal(bumped.observedGeneration, 2);
    assert.equal(bumped.conditions?.[0]?.lastTransitionTime, rfc3339(T0));
    const flipped = nextStatus(pdb({ minAvailable: 2 }, first), { ...counts, currentHealthy: 2 }, T0 + 7000)!;
    assert.equal(flipped.conditions?.[0]?.lastTransitionTime, rfc3339(T0 + 7000));
    assert.equal(conditionsAreUpToDate(pdb({ minAvailable: 2 }, flipped)), true);
  });

  void it("fails safe: no disruption allowed, SyncFailed with the error", () => {
    const st = failSafeStatus(pdb({ minAvailable: "50%" }, { currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, disruptionsAllowed: 1, observedGeneration: 1 }), new DisruptionError("NoControllers", 'found no controllers for pod "a"'), T0);
    assert.equal(st.disruptionsAllowed, 0);
    assert.deepEqual(st.conditions, [{ type: "DisruptionAllowed", status: "False", reason: "SyncFailed", message: 'found no controllers for pod "a"', observedGeneration: 1, lastTransitionTime: rfc3339(T0) }]);
  });
});
