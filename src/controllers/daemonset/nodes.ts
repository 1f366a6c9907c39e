// Which nodes a DaemonSet's pods belong on, and how a daemon pod is pinned to its node
// (upstream pkg/controller/daemon NodeShouldRunDaemonPod and daemon/util; the matching rules
// of component-helpers' nodeaffinity and core/v1 helper ToleratesTaint). The controller layer
// may not import the scheduler, so the few matching rules it needs are written here: the
// controller must agree with the scheduler's NodeAffinity and TaintToleration filters, or it
// would create pods the scheduler can never place.
import type { Affinity, Node, NodeSelectorRequirement, NodeSelectorTerm, PodSpec, Taint, Toleration } from "kubernetes-types/core/v1.js";
import type { DaemonSet } from "kubernetes-types/apps/v1.js";
import type { DeepReadonly } from "../../client/objects.js";
import type { RPod } from "../replicaset/podutil.js";

export type RDaemonSet = DeepReadonly<DaemonSet>;
export type RNode = DeepReadonly<Node>;
type RToleration = DeepReadonly<Toleration> | Toleration;
type RTaint = DeepReadonly<Taint> | Taint;

export const TAINT_NODE_NOT_READY = "node.kubernetes.io/not-ready";
export const TAINT_NODE_UNREACHABLE = "node.kubernetes.io/unreachable";
export const TAINT_NODE_DISK_PRESSURE = "node.kubernetes.io/disk-pressure";
export const TAINT_NODE_MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure";
export const TAINT_NODE_PID_PRESSURE = "node.kubernetes.io/pid-pressure";
export const TAINT_NODE_UNSCHEDULABLE = "node.kubernetes.io/unschedulable";
export const TAINT_NODE_NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable";

/** metav1.ObjectNameField: the only field a node selector's matchFields may name. */
export const OBJECT_NAME_FIELD = "metadata.name";

/**
 * The tolerations every daemon pod gets (upstream AddOrUpdateDaemonPodTolerations): it must
 * survive taint-based eviction of a not-ready or unreachable node (NoExecute, forever), and it
 * must be placed on nodes tainted for pressure or cordoned (TaintNodesByCondition); a
 * host-network pod also tolerates an unconfigured pod network.
 */
export function daemonPodTolerations(hostNetwork: boolean): Toleration[] {
  const t = (key: string, effect: "NoExecute" | "NoSchedule"): Toleration => ({ key, operator: "Exists", effect });
  const out = [
    t(TAINT_NODE_NOT_READY, "NoExecute"),
    t(TAINT_NODE_UNREACHABLE, "NoExecute"),
    t(TAINT_NODE_DISK_PRESSURE, "NoSchedule"),
    t(TAINT_NODE_MEMORY_PRESSURE, "NoSchedule"),
    t(TAINT_NODE_PID_PRESSURE, "NoSchedule"),
    t(TAINT_NODE_UNSCHEDULABLE, "NoSchedule"),
  ];
  if (hostNetwork) out.push(t(TAINT_NODE_NETWORK_UNAVAILABLE, "NoSchedule"));
  return out;
}

function sameToleration(a: RToleration, b: RToleration): boolean {
  return (
    (a.key ?? "") === (b.key ?? "") &&
    (a.effect ?? "") === (b.effect ?? "") &&
    (a.operator ?? "") === (b.operator ?? "") &&
    (a.value ?? "") === (b.value ?? "") &&
    (a.tolerationSeconds ?? undefined) === (b.tolerationSeconds ?? undefined)
  );
}

/**
 * The pod's tolerations with the daemon tolerations added (v1helper.AddOrUpdateTolerationInPodSpec):
 * a user toleration with the same key, effect, operator and value is replaced by the daemon's
 * (so a not-ready toleration with tolerationSeconds becomes one without), others are kept.
 */
export function withDaemonTolerations(tolerations: readonly RToleration[] | undefined, hostNetwork: boolean): Toleration[] {
  const out = (tolerations ?? []).map((t) => structuredClone(t) as Toleration);
  for (const want of daemonPodTolerations(hostNetwork)) {
    const i = out.findIndex((t) => (t.key ?? "") === want.key && (t.effect ?? "") === want.effect && (t.operator ?? "") === want.operator && (t.value ?? "") === "");
    if (i < 0) out.push(want);
    else if (!sameToleration(out[i]!, want)) out[i] = want;
  }
  return out;
}

/** Upstream Toleration.ToleratesTaint. */
export function toleratesTaint(tol: RToleration, taint: RTaint): boolean {
  if (tol.effect && tol.effect !== taint.effect) return false;
  if (tol.key && tol.key !== taint.key) return false;
  switch (tol.operator ?? "") {
    case "":
    case "Equal":
      return (tol.value ?? "") === (taint.value ?? "");
    case "Exists":
      return true;
    default:
      return false;
  }
}

/** The first taint passing `filter` that no toleration tolerates (v1helper.FindMatchingUntoleratedTaint). */
function untoleratedTaint(taints: readonly RTaint[], tolerations: readonly RToleration[], filter: (t: RTaint) => boolean): RTaint | undefined {
  return taints.find((t) => filter(t) && !tolerations.some((tol) => toleratesTaint(tol, t)));
}

const INT64 = /^[+-]?\d+$/;

/** One requirement against a value (undefined: the label is absent); undefined when the requirement is invalid. */
function requirementMatches(r: DeepReadonly<NodeSelectorRequirement>, value: string | undefined): boolean | undefined {
  const values = r.values ?? [];
  switch (r.operator) {
    case "In":
      return values.length === 0 ? undefined : value !== undefined && values.includes(value);
    case "NotIn":
      return values.length === 0 ? undefined : value === undefined || !values.includes(value);
    case "Exists":
      return values.length !== 0 ? undefined : value !== undefined;
    case "DoesNotExist":
      return values.length !== 0 ? undefined : value === undefined;
    case "Gt":
    case "Lt": {
      if (values.length !== 1 || !INT64.test(values[0]!)) return undefined;
      if (value === undefined || !INT64.test(value)) return false;
      return r.operator === "Gt" ? Number(value) > Number(values[0]) : Number(value) < Number(values[0]);
    }
    default:
      return undefined;
  }
}

/**
 * One term (component-helpers nodeaffinity): its label expressions and its fields ANDed. A term
 * with neither, or with an invalid requirement, matches nothing (upstream drops terms that fail
 * to parse). The only field is metadata.name, with In or NotIn and exactly one value.
 */
export function nodeSelectorTermMatches(term: DeepReadonly<NodeSelectorTerm>, node: RNode): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata?.labels ?? {};
  for (const r of exprs) if (requirementMatches(r, labels[r.key]) !== true) return false;
  for (const f of fields) {
    if (f.key !== OBJECT_NAME_FIELD || (f.operator !== "In" && f.operator !== "NotIn") || f.values?.length !== 1) return false;
    if (requirementMatches(f, node.metadata?.name ?? "") !== true) return false;
  }
  return true;
}

/** The pod's nodeSelector and required node affinity both match (nodeaffinity.GetRequiredNodeAffinity(pod).Match). */
export function requiredNodeAffinityMatches(spec: DeepReadonly<PodSpec> | undefined, node: RNode): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const required = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required) return true;
  return (required.nodeSelectorTerms ?? []).some((t) => nodeSelectorTermMatches(t, node));
}

export interface NodeFit {
  /** A daemon pod should be created on the node if it has none. */
  readonly shouldRun: boolean;
  /** A daemon pod already on the node may stay. */
  readonly shouldContinueRunning: boolean;
}

/**
 * Upstream NodeShouldRunDaemonPod: the template's nodeName (if set) is this node, its node
 * selector and required node affinity match, and the node's NoSchedule and NoExecute taints
 * are tolerated, counting the tolerations the controller adds (so a cordoned node still runs
 * daemon pods). A node tainted NoSchedule that a pod already runs on keeps it while every
 * NoExecute taint is tolerated.
 */
export function nodeShouldRunDaemonPod(node: RNode, ds: RDaemonSet): NodeFit {
  const spec = ds.spec?.template?.spec;
  const nodeName = spec?.nodeName ?? "";
  if (nodeName !== "" && nodeName !== (node.metadata?.name ?? "")) return { shouldRun: false, shouldContinueRunning: false };
  if (!requiredNodeAffinityMatches(spec, node)) return { shouldRun: false, shouldContinueRunning: false };
  const taints = node.spec?.taints ?? [];
  const tolerations = withDaemonTolerations(spec?.tolerations, spec?.hostNetwork === true);
  if (untoleratedTaint(taints, tolerations, (t) => t.effect === "NoSchedule" || t.effect === "NoExecute") === undefined) return { shouldRun: true, shouldContinueRunning: true };
  return { shouldRun: false, shouldContinueRunning: untoleratedTaint(taints, tolerations, (t) => t.effect === "NoExecute") === undefined };
}

/**
 * The pod's affinity with its required node affinity replaced by one term that selects exactly
 * `nodeName` by metadata.name (upstream ReplaceDaemonSetPodNodeNameNodeAffinity). The node was
 * chosen because it matches the template's own terms, so replacing them loses nothing, and the
 * scheduler then binds the pod to that node and no other. Preferred terms and pod (anti-)affinity
 * are kept.
 */
export function pinToNode(affinity: DeepReadonly<Affinity> | undefined, nodeName: string): Affinity {
  const out = structuredClone((affinity ?? {}) as Affinity);
  out.nodeAffinity ??= {};
  out.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = { nodeSelectorTerms: [{ matchFields: [{ key: OBJECT_NAME_FIELD, operator: "In", values: [nodeName] }] }] };
  return out;
}

/**
 * The node a daemon pod is for (upstream GetTargetNodeName): its nodeName once bound, else the
 * single metadata.name In value of its required node affinity; undefined when it names none
 * (or several).
 */
export function targetNodeName(pod: RPod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const term of terms) {
    for (const f of term.matchFields ?? []) {
      if (f.key === OBJECT_NAME_FIELD && f.operator === "In") return f.values?.length === 1 ? f.values[0] : undefined;
    }
  }
  return undefined;
}
