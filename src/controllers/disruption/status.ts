// The arithmetic of a PodDisruptionBudget's status (upstream pkg/controller/disruption and
// component-helpers/apps/poddisruptionbudget), as pure functions of the PDB, its pods, the
// scale of the pods' controllers and the time: expectedPods and desiredHealthy from
// minAvailable/maxUnavailable, currentHealthy from Ready pods, the disruptedPods the eviction
// handler recorded, and the DisruptionAllowed condition.
import type { OwnerReference } from "kubernetes-types/meta/v1.js";
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from "kubernetes-types/policy/v1.js";
import { setStatusCondition } from "../../api/conditions.js";
import { IntOrStringError, scaledValueFromIntOrPercent } from "../../api/intstr.js";
import type { DeepReadonly } from "../../client/objects.js";
import { controllerRefOf, isPodReady, type RPod } from "../replicaset/podutil.js";
import { CodedError } from "../../util/errors.js";

export type { RPod };
export type RPdb = DeepReadonly<PodDisruptionBudget>;

/**
 * How long an entry of status.disruptedPods (an eviction the API server approved) keeps its pod
 * out of currentHealthy while the pod is not yet seen terminating: upstream's DeletionTimeout.
 */
export const DELETION_TIMEOUT_MS = 2 * 60 * 1000;

export const DISRUPTION_ALLOWED_CONDITION = "DisruptionAllowed";
export const SUFFICIENT_PODS_REASON = "SufficientPods";
export const INSUFFICIENT_PODS_REASON = "InsufficientPods";
export const SYNC_FAILED_REASON = "SyncFailed";

export type DisruptionErrorCode = "NoControllers" | "InvalidIntOrPercent" | "InvalidSelector";

export class DisruptionError extends CodedError<DisruptionErrorCode> {
  override readonly name = "DisruptionError";
}

/** A controller found for a pod: its uid (the same controller counts once) and spec.replicas. */
export interface ControllerScale {
  readonly uid: string;
  readonly scale: number;
}

/**
 * Resolves a pod's controllerRef to the workload whose scale counts (a Deployment for a
 * ReplicaSet it owns); undefined when none of the known workloads is it.
 */
export type ScaleFinder = (ref: DeepReadonly<OwnerReference>, namespace: string) => ControllerScale | undefined;

export interface ExpectedCount {
  readonly expectedCount: number;
  readonly desiredHealthy: number;
  /** Names of selected pods without a controller (they make a percentage meaningless). */
  readonly unmanagedPods: readonly string[];
}

function scaled(v: number | string, total: number): number {
  try {
    return scaledValueFromIntOrPercent(v, total, true);
  } catch (err) {
    if (err instanceof IntOrStringError) throw new DisruptionError("InvalidIntOrPercent", err.message, { cause: err });
    throw err;
  }
}

/**
 * Upstream's getExpectedScale: the sum of the scales of the distinct controllers of `pods`.
 * Unmanaged pods are reported, not counted; a pod whose controller cannot be found is an error.
 */
export function expectedScale(pods: readonly RPod[], find: ScaleFinder): { expectedCount: number; unmanagedPods: string[] } {
  const scales = new Map<string, number>();
  const seenRefs = new Set<string>();
  const unmanagedPods: string[] = [];
  for (const pod of pods) {
    const ref = controllerRefOf(pod);
    if (!ref) {
      unmanagedPods.push(pod.metadata?.name ?? "");
      continue;
    }
    if (seenRefs.has(ref.uid)) continue;
    const found = find(ref, pod.metadata?.namespace ?? "");
    if (!found) throw new DisruptionError("NoControllers", `found no controllers for pod "${pod.metadata?.name ?? ""}"`);
    seenRefs.add(ref.uid);
    scales.set(found.uid, found.scale);
  }
  let expectedCount = 0;
  for (const s of scales.values()) expectedCount += s;
  return { expectedCount, unmanagedPods };
}

/**
 * Upstream's getExpectedPodCount. maxUnavailable (integer or percent) and a percentage
 * minAvailable are resolved against the controllers' scale, rounding up; an integer
 * minAvailable is taken as is and expects exactly the pods that exist.
 */
export function expectedPodCount(pdb: RPdb, pods: readonly RPod[], find: ScaleFinder): ExpectedCount {
  const { maxUnavailable, minAvailable } = pdb.spec ?? {};
  if (maxUnavailable !== undefined && maxUnavailable !== null) {
    const { expectedCount, unmanagedPods } = expectedScale(pods, find);
    const desiredHealthy = Math.max(0, expectedCount - scaled(maxUnavailable, expectedCount));
    return { expectedCount, desiredHealthy, unmanagedPods };
  }
  if (typeof minAvailable === "number") return { expectedCount: pods.length, desiredHealthy: minAvailable, unmanagedPods: [] };
  if (typeof minAvailable === "string") {
    const { expectedCount, unmanagedPods } = expectedScale(pods, find);
    return { expectedCount, desiredHealthy: scaled(minAvailable, expectedCount), unmanagedPods };
  }
  return { expectedCount: 0, desiredHealthy: 0, unmanagedPods: [] };
}

/**
 * Upstream's buildDisruptedPodMap: keeps the entries of pods that exist, are not yet
 * terminating and whose 2-minute wait has not run out; returns when the earliest kept entry
 * runs out (the controller looks again then) and the pods whose entry ran out.
 */
export function buildDisruptedPods(pods: readonly RPod[], pdb: RPdb, now: number): { disruptedPods: Record<string, string>; recheckAt?: number; expired: RPod[] } {
  const recorded = pdb.status?.disruptedPods ?? {};
  const disruptedPods: Record<string, string> = {};
  const expired: RPod[] = [];
  let recheckAt: number | undefined;
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    const name = pod.metadata?.name ?? "";
    const at = recorded[name];
    if (at === undefined) continue;
    const deadline = (Date.parse(at) || 0) + DELETION_TIMEOUT_MS;
    if (deadline < now) {
      expired.push(pod);
      continue;
    }
    if (recheckAt === undefined || deadline < recheckAt) recheckAt = deadline;
    disruptedPods[name] = at;
  }
  return { disruptedPods, ...(recheckAt !== undefined ? { recheckAt } : {}), expired };
}

/** Upstream's countHealthyPods: Ready pods that are neither terminating nor about to be evicted. */
export function countHealthyPods(pods: readonly RPod[], disruptedPods: Readonly<Record<string, string>>, now: number): number {
  let healthy = 0;
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    const at = disruptedPods[pod.metadata?.name ?? ""];
    if (at !== undefined && (Date.parse(at) || 0) + DELETION_TIMEOUT_MS > now) continue;
    if (isPodReady(pod)) healthy++;
  }
  return healthy;
}

type Condition = NonNullable<PodDisruptionBudgetStatus["conditions"]>[number];

/** component-helpers' UpdateDisruptionAllowedCondition. */
export function updateDisruptionAllowedCondition(status: PodDisruptionBudgetStatus, now: number): void {
  status.conditions ??= [];
  const allowed = status.disruptionsAllowed > 0;
  setStatusCondition(
    status.conditions,
    {
      type: DISRUPTION_ALLOWED_CONDITION,
      status: allowed ? "True" : "False",
      reason: allowed ? SUFFICIENT_PODS_REASON : INSUFFICIENT_PODS_REASON,
      message: "",
      ...(status.observedGeneration !== undefined ? { observedGeneration: status.observedGeneration } : {}),
    },
    now,
  );
}

/** component-helpers' ConditionsAreUpToDate. */
export function conditionsAreUpToDate(pdb: RPdb): boolean {
  const st = pdb.status;
  const cond = st?.conditions?.find((c) => c.type === DISRUPTION_ALLOWED_CONDITION);
  if (!st || !cond) return false;
  if ((st.observedGeneration ?? 0) !== (pdb.metadata?.generation ?? 0)) return false;
  if (st.disruptionsAllowed > 0) return cond.status === "True" && cond.reason === SUFFICIENT_PODS_REASON;
  return cond.status === "False" && cond.reason === INSUFFICIENT_PODS_REASON;
}

function sameMap(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a ?? {});
  return ka.length === Object.keys(b).length && ka.every((k) => a?.[k] === b[k]);
}

export interface Counts {
  readonly currentHealthy: number;
  readonly desiredHealthy: number;
  readonly expectedCount: number;
  readonly disruptedPods: Readonly<Record<string, string>>;
}

/**
 * Upstream's updatePdbStatus: the status to write, or undefined when the stored one already
 * says all of it. No disruption is allowed while the PDB expects no pods, so that a PDB whose
 * first pods just appeared is safe before this controller has counted them.
 */
export function nextStatus(pdb: RPdb, c: Counts, now: number): PodDisruptionBudgetStatus | undefined {
  let disruptionsAllowed = c.currentHealthy - c.desiredHealthy;
  if (c.expectedCount <= 0 || disruptionsAllowed <= 0) disruptionsAllowed = 0;
  const st = pdb.status;
  const generation = pdb.metadata?.generation ?? 0;
  if (
    st &&
    st.currentHealthy === c.currentHealthy &&
    st.desiredHealthy === c.desiredHealthy &&
    st.expectedPods === c.expectedCount &&
    st.disruptionsAllowed === disruptionsAllowed &&
    sameMap(st.disruptedPods, c.disruptedPods) &&
    (st.observedGeneration ?? 0) === generation &&
    conditionsAreUpToDate(pdb)
  ) {
    return undefined;
  }
  const status: PodDisruptionBudgetStatus = {
    currentHealthy: c.currentHealthy,
    desiredHealthy: c.desiredHealthy,
    expectedPods: c.expectedCount,
    disruptionsAllowed,
    observedGeneration: generation,
    ...(Object.keys(c.disruptedPods).length > 0 ? { disruptedPods: { ...c.disruptedPods } } : {}),
    conditions: structuredClone((st?.conditions ?? []) as Condition[]),
  };
  updateDisruptionAllowedCondition(status, now);
  return status;
}

/** Upstream's failSafe: no disruption allowed, and why, when the status cannot be computed. */
export function failSafeStatus(pdb: RPdb, err: unknown, now: number): PodDisruptionBudgetStatus {
  const st = structuredClone((pdb.status ?? { currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, disruptionsAllowed: 0 }) as PodDisruptionBudgetStatus);
  st.disruptionsAllowed = 0;
  st.conditions ??= [];
  setStatusCondition(
    st.conditions,
    {
      type: DISRUPTION_ALLOWED_CONDITION,
      status: "False",
      reason: SYNC_FAILED_REASON,
      message: err instanceof Error ? err.message : String(err),
      ...(st.observedGeneration !== undefined ? { observedGeneration: st.observedGeneration } : {}),
    },
    now,
  );
  return st;
}
