// Taints and tolerations as the node lifecycle and taint-eviction controllers use them
// (upstream pkg/util/taints, core/v1 helper ToleratesTaint and GetMatchingTolerations).
import type { Node, Taint, Toleration } from "kubernetes-types/core/v1.js";
import type { DeepReadonly } from "../../client/objects.js";
import { toleratesTaint } from "../../api/nodeaffinity.js";

export { toleratesTaint };

export const TAINT_NODE_NOT_READY = "node.kubernetes.io/not-ready";
export const TAINT_NODE_UNREACHABLE = "node.kubernetes.io/unreachable";
export const TAINT_NODE_UNSCHEDULABLE = "node.kubernetes.io/unschedulable";
export const TAINT_NODE_MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure";
export const TAINT_NODE_DISK_PRESSURE = "node.kubernetes.io/disk-pressure";
export const TAINT_NODE_NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable";
export const TAINT_NODE_PID_PRESSURE = "node.kubernetes.io/pid-pressure";
export const TAINT_NODE_OUT_OF_SERVICE = "node.kubernetes.io/out-of-service";

export const NOT_READY_NO_EXECUTE: Readonly<Taint> = Object.freeze({ key: TAINT_NODE_NOT_READY, effect: "NoExecute" });
export const UNREACHABLE_NO_EXECUTE: Readonly<Taint> = Object.freeze({ key: TAINT_NODE_UNREACHABLE, effect: "NoExecute" });

type TaintLike = DeepReadonly<Taint> | Readonly<Taint>;

/** Upstream's nodeConditionToTaintKeyStatusMap: the NoSchedule taint each condition status stands for. */
const CONDITION_TAINTS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  Ready: { False: TAINT_NODE_NOT_READY, Unknown: TAINT_NODE_UNREACHABLE },
  MemoryPressure: { True: TAINT_NODE_MEMORY_PRESSURE },
  DiskPressure: { True: TAINT_NODE_DISK_PRESSURE },
  NetworkUnavailable: { True: TAINT_NODE_NETWORK_UNAVAILABLE },
  PIDPressure: { True: TAINT_NODE_PID_PRESSURE },
};

const CONDITION_TAINT_KEYS = new Set(Object.values(CONDITION_TAINTS).flatMap((m) => Object.values(m)));

/** Same key and effect: how taints are identified (values and timeAdded do not count). */
export function sameTaint(a: TaintLike, b: TaintLike): boolean {
  return a.key === b.key && a.effect === b.effect;
}

export function taintExists(taints: readonly TaintLike[] | undefined, t: TaintLike): boolean {
  return (taints ?? []).some((x) => sameTaint(x, t));
}

export function noExecuteTaints(node: DeepReadonly<Node> | undefined): DeepReadonly<Taint>[] {
  return (node?.spec?.taints ?? []).filter((t) => t.effect === "NoExecute");
}

/** The NoSchedule taints the node's conditions and spec.unschedulable call for (TaintNodesByCondition). */
export function conditionNoScheduleTaints(node: DeepReadonly<Node>): Taint[] {
  const out: Taint[] = [];
  for (const c of node.status?.conditions ?? []) {
    const key = CONDITION_TAINTS[c.type]?.[c.status];
    if (key) out.push({ key, effect: "NoSchedule" });
  }
  if (node.spec?.unschedulable) out.push({ key: TAINT_NODE_UNSCHEDULABLE, effect: "NoSchedule" });
  return out;
}

/** Whether a NoSchedule taint is one the controller owns (condition taints and the unschedulable taint). */
export function isControllerNoScheduleTaint(t: TaintLike): boolean {
  return t.effect === "NoSchedule" && (t.key === TAINT_NODE_UNSCHEDULABLE || CONDITION_TAINT_KEYS.has(t.key));
}

/**
 * The taint list after removing `remove` and adding `add` (each added taint stamped with
 * `timeAdded`, as upstream's SwapNodeControllerTaint does), or undefined if nothing changes.
 */
export function swapTaints(current: readonly TaintLike[] | undefined, add: readonly TaintLike[], remove: readonly TaintLike[], timeAdded: string): Taint[] | undefined {
  const now = (current ?? []).map((t) => structuredClone(t) as Taint);
  let changed = false;
  const kept = now.filter((t) => {
    const drop = remove.some((r) => sameTaint(r, t)) && !add.some((a) => sameTaint(a, t));
    if (drop) changed = true;
    return !drop;
  });
  for (const a of add) {
    if (kept.some((t) => sameTaint(t, a))) continue;
    kept.push({ key: a.key, ...(a.value !== undefined ? { value: a.value } : {}), effect: a.effect, timeAdded });
    changed = true;
  }
  return changed ? kept : undefined;
}

/**
 * Whether every taint is tolerated, and the first toleration that tolerates each (upstream's
 * GetMatchingTolerations: with taints but no tolerations, nothing is tolerated).
 */
export function matchingTolerations(taints: readonly TaintLike[], tolerations: readonly (DeepReadonly<Toleration> | Toleration)[]): { readonly all: boolean; readonly used: (DeepReadonly<Toleration> | Toleration)[] } {
  const used: (DeepReadonly<Toleration> | Toleration)[] = [];
  for (const taint of taints) {
    const tol = tolerations.find((t) => toleratesTaint(t, taint));
    if (!tol) return { all: false, used: [] };
    used.push(tol);
  }
  return { all: true, used };
}

/**
 * The shortest tolerationSeconds among the tolerations, in ms; -1 when they all tolerate
 * forever; 0 for none or any non-positive value (upstream's getMinTolerationTime).
 */
export function minTolerationMs(used: readonly (DeepReadonly<Toleration> | Toleration)[]): number {
  if (used.length === 0) return 0;
  let min = Infinity;
  for (const t of used) {
    if (t.tolerationSeconds === undefined || t.tolerationSeconds === null) continue;
    if (t.tolerationSeconds <= 0) return 0;
    min = Math.min(min, t.tolerationSeconds);
  }
  return min === Infinity ? -1 : min * 1000;
}

/** The zone a node belongs to for disruption accounting (upstream's GetZoneKey). */
export function zoneKey(node: DeepReadonly<Node>): string {
  const l = node.metadata?.labels ?? {};
  const region = l["topology.kubernetes.io/region"] ?? l["failure-domain.beta.kubernetes.io/region"] ?? "";
  const zone = l["topology.kubernetes.io/zone"] ?? l["failure-domain.beta.kubernetes.io/zone"] ?? "";
  return region === "" && zone === "" ? "" : `${region}:\x00:${zone}`;
}
