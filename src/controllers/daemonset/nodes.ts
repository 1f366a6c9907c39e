// Which nodes a DaemonSet's pods belong on, and how a daemon pod is pinned to its node
// (upstream pkg/controller/daemon NodeShouldRunDaemonPod and daemon/util). The matching rules
// are the scheduler's own (src/api/nodeaffinity.ts): the controller must agree with its
// NodeAffinity and TaintToleration filters, or it would create pods the scheduler can never
// place.
import type { Affinity, Node, PodSpec, Toleration } from "kubernetes-types/core/v1.js";
import type { DaemonSet } from "kubernetes-types/apps/v1.js";
import type { DeepReadonly } from "../../client/objects.js";
import { findUntoleratedTaint, nodeSelectorMatches, OBJECT_NAME_FIELD } from "../../api/nodeaffinity.js";
import type { RPod } from "../replicaset/podutil.js";

export type RDaemonSet = DeepReadonly<DaemonSet>;
export type RNode = DeepReadonly<Node>;
type RToleration = DeepReadonly<Toleration> | Toleration;

export const TAINT_NODE_NOT_READY = "node.kubernetes.io/not-ready";
export const TAINT_NODE_UNREACHABLE = "node.kubernetes.io/unreachable";
export const TAINT_NODE_DISK_PRESSURE = "node.kubernetes.io/disk-pressure";
export const TAINT_NODE_MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure";
export const TAINT_NODE_PID_PRESSURE = "node.kubernetes.io/pid-pressure";
export const TAINT_NODE_UNSCHEDULABLE = "node.kubernetes.io/unschedulable";
export const TAINT_NODE_NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable";

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

/** The pod's nodeSelector and required node affinity both match (nodeaffinity.GetRequiredNodeAffinity(pod).Match). */
export function requiredNodeAffinityMatches(spec: DeepReadonly<PodSpec> | undefined, node: RNode): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const required = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required) return true;
  return nodeSelectorMatches(required, labels, node.metadata?.name ?? "");
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
  if (findUntoleratedTaint(taints, tolerations) === undefined) return { shouldRun: true, shouldContinueRunning: true };
  return { shouldRun: false, shouldContinueRunning: findUntoleratedTaint(taints, tolerations, (t) => t.effect === "NoExecute") === undefined };
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
