// Pod facts the workload controllers decide on (upstream pkg/api/v1/pod and
// pkg/controller/controller_utils.go): which pods still count, which are ready or available,
// and in what order a controller scaling down should delete them.
import type { Pod, PodCondition } from "kubernetes-types/core/v1.js";
import type { OwnerReference } from "kubernetes-types/meta/v1.js";
import type { DeepReadonly } from "../../client/objects.js";
import { timeOf } from "../../util/time.js";

export { timeOf };

export type RPod = DeepReadonly<Pod>;

/** The owner reference with controller: true, if any (metav1.GetControllerOf). */
export function controllerRefOf(obj: { readonly metadata?: { readonly ownerReferences?: readonly DeepReadonly<OwnerReference>[] } }): DeepReadonly<OwnerReference> | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller === true);
}

/** Neither finished (Succeeded/Failed) nor being deleted: such a pod counts toward replicas. */
export function isPodActive(p: RPod): boolean {
  const phase = p.status?.phase;
  return phase !== "Succeeded" && phase !== "Failed" && !p.metadata?.deletionTimestamp;
}

export function podReadyCondition(p: RPod): DeepReadonly<PodCondition> | undefined {
  return p.status?.conditions?.find((c) => c.type === "Ready");
}

export function isPodReady(p: RPod): boolean {
  return podReadyCondition(p)?.status === "True";
}

/**
 * Ready for at least minReadySeconds (upstream IsPodAvailable): with minReadySeconds 0 a ready
 * pod is available at once; otherwise its Ready condition must have turned True more than
 * minReadySeconds before `now`.
 */
export function isPodAvailable(p: RPod, minReadySeconds: number, now: number): boolean {
  if (!isPodReady(p)) return false;
  if (minReadySeconds <= 0) return true;
  const since = timeOf(podReadyCondition(p)?.lastTransitionTime);
  return since !== undefined && since + minReadySeconds * 1000 < now;
}

/** When a ready pod has to wait to turn available: ms until then, or undefined if it never will (not ready) or already is. */
export function msUntilAvailable(p: RPod, minReadySeconds: number, now: number): number | undefined {
  if (!isPodReady(p) || minReadySeconds <= 0) return undefined;
  const since = timeOf(podReadyCondition(p)?.lastTransitionTime);
  if (since === undefined) return undefined;
  const left = since + minReadySeconds * 1000 - now;
  return left >= 0 ? left + 1 : undefined;
}

const PHASE_ORDINAL: Readonly<Record<string, number>> = { Pending: 0, Unknown: 1, Running: 2 };

function phaseOrdinal(p: RPod): number {
  return PHASE_ORDINAL[p.status?.phase ?? ""] ?? 0;
}

function maxRestarts(p: RPod): number {
  let max = 0;
  for (const c of p.status?.containerStatuses ?? []) max = Math.max(max, c.restartCount ?? 0);
  return max;
}

/** controller.kubernetes.io/pod-deletion-cost: lower is deleted first; absent or invalid is 0. */
function deletionCost(p: RPod): number {
  const v = p.metadata?.annotations?.["controller.kubernetes.io/pod-deletion-cost"];
  if (v === undefined || !/^[+-]?\d+$/.test(v)) return 0;
  const n = Number(v);
  return n >= -(2 ** 31) && n < 2 ** 31 ? n : 0;
}

/** The order of magnitude (log2 of ns) of how long ago `t` was: equal buckets count as a tie. */
function logRank(t: number, now: number): number {
  const dNs = (now - t) * 1e6;
  return dNs > 0 ? Math.floor(Math.log2(dNs)) : -1;
}

/**
 * Compares two timestamps for deletion preference: missing < newer < older, compared on a
 * log2 scale when `now` is given (upstream's LogarithmicScaleDown, on by default), so pods of
 * about the same age are spread by uid instead of always taking the newest.
 */
function compareTimes(a: RPod, ta: number | undefined, b: RPod, tb: number | undefined, now: number | undefined): number {
  if (ta === tb) return 0;
  if (ta === undefined) return -1;
  if (tb === undefined) return 1;
  if (now !== undefined) {
    const diff = logRank(ta, now) - logRank(tb, now);
    if (diff !== 0) return diff;
    const ua = a.metadata?.uid ?? "";
    const ub = b.metadata?.uid ?? "";
    return ua < ub ? -1 : ua > ub ? 1 : 0;
  }
  return tb - ta;
}

/**
 * Negative when pod `a` should be deleted before pod `b` (upstream's ActivePodsWithRanks):
 * unassigned < assigned; Pending < Unknown < Running; not ready < ready; lower
 * pod-deletion-cost first; more related pods on the same node (rank) first; ready for less
 * time first; more container restarts first; newer first.
 */
export function compareForDeletion(a: RPod, rankA: number, b: RPod, rankB: number, now?: number): number {
  const na = a.spec?.nodeName ?? "";
  const nb = b.spec?.nodeName ?? "";
  if (na !== nb && (na === "" || nb === "")) return na === "" ? -1 : 1;
  const pa = phaseOrdinal(a);
  const pb = phaseOrdinal(b);
  if (pa !== pb) return pa - pb;
  const ra = isPodReady(a);
  const rb = isPodReady(b);
  if (ra !== rb) return ra ? 1 : -1;
  const ca = deletionCost(a);
  const cb = deletionCost(b);
  if (ca !== cb) return ca - cb;
  if (rankA !== rankB) return rankB - rankA;
  if (ra && rb) {
    const c = compareTimes(a, timeOf(podReadyCondition(a)?.lastTransitionTime), b, timeOf(podReadyCondition(b)?.lastTransitionTime), now);
    if (c !== 0) return c;
  }
  const xa = maxRestarts(a);
  const xb = maxRestarts(b);
  if (xa !== xb) return xb - xa;
  return compareTimes(a, timeOf(a.metadata?.creationTimestamp), b, timeOf(b.metadata?.creationTimestamp), now);
}

/**
 * The `count` pods to delete first. Each pod's rank is how many active `related` pods (those
 * of every ReplicaSet with the same owner) share its node, so a scale-down spreads pods out.
 */
export function podsToDelete(pods: readonly RPod[], related: readonly RPod[], count: number, now?: number): RPod[] {
  if (count >= pods.length) return [...pods];
  const onNode = new Map<string, number>();
  for (const p of related) if (isPodActive(p)) onNode.set(p.spec?.nodeName ?? "", (onNode.get(p.spec?.nodeName ?? "") ?? 0) + 1);
  const ranked = pods.map((p) => ({ p, rank: onNode.get(p.spec?.nodeName ?? "") ?? 0 }));
  ranked.sort((x, y) => compareForDeletion(x.p, x.rank, y.p, y.rank, now));
  return ranked.slice(0, count).map((r) => r.p);
}
