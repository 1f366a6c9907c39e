// DefaultTolerationSeconds (upstream admission plugin of the same name): every pod that does
// not already tolerate the node-lifecycle NoExecute taints `node.kubernetes.io/not-ready` and
// `node.kubernetes.io/unreachable` gets a toleration for each, bounded by 300 s, so that the
// taint-eviction controller evicts its pods from a failed node five minutes after the taint
// appears rather than at once. A toleration counts when its key is the taint's key or empty
// (tolerates every key) and its effect is NoExecute or empty (every effect), as upstream.
import type { AdmissionPlugin } from "./types.js";

export const TAINT_NODE_NOT_READY = "node.kubernetes.io/not-ready";
export const TAINT_NODE_UNREACHABLE = "node.kubernetes.io/unreachable";

/** Upstream's --default-not-ready-toleration-seconds and --default-unreachable-toleration-seconds. */
export const DEFAULT_TOLERATION_SECONDS = 300;

export interface DefaultTolerationSecondsOptions {
  readonly notReadySeconds?: number;
  readonly unreachableSeconds?: number;
}

interface TolerationLike {
  key?: unknown;
  effect?: unknown;
}

function tolerates(tolerations: readonly TolerationLike[], key: string): boolean {
  return tolerations.some((t) => (t.key === key || t.key === undefined || t.key === "") && (t.effect === "NoExecute" || t.effect === undefined || t.effect === ""));
}

export function defaultTolerationSeconds(o: DefaultTolerationSecondsOptions = {}): AdmissionPlugin {
  const wanted: readonly [string, number][] = [
    [TAINT_NODE_NOT_READY, o.notReadySeconds ?? DEFAULT_TOLERATION_SECONDS],
    [TAINT_NODE_UNREACHABLE, o.unreachableSeconds ?? DEFAULT_TOLERATION_SECONDS],
  ];
  return {
    name: "DefaultTolerationSeconds",
    admit(a) {
      // Pods proper only: status, binding and the other subresources carry no spec to change.
      if (a.resource.group !== "" || a.resource.plural !== "pods" || a.subresource !== "") return;
      if (a.operation !== "CREATE" && a.operation !== "UPDATE") return;
      const pod = a.object as { spec?: { tolerations?: unknown } } | undefined;
      if (!pod || typeof pod.spec !== "object" || pod.spec === null) return;
      const spec = pod.spec;
      const current = Array.isArray(spec.tolerations) ? (spec.tolerations as unknown[]) : [];
      const existing = current.filter((t): t is TolerationLike => typeof t === "object" && t !== null);
      const added = wanted.filter(([key]) => !tolerates(existing, key)).map(([key, seconds]) => ({ key, operator: "Exists", effect: "NoExecute", tolerationSeconds: seconds }));
      if (added.length > 0) spec.tolerations = [...current, ...added];
    },
  };
}
