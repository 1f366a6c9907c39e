// What several plugins and `k8ts why` share: the matching rules of tolerations and node
// selector terms (src/api/nodeaffinity.ts, which the controllers use too), well-known labels,
// and how taints print.
import type { Taint, Toleration } from "kubernetes-types/core/v1.js";
import type { DeepReadonly } from "../../client/objects.js";

export { findUntoleratedTaint, nodeSelectorMatches, nodeSelectorTermMatches, toleratesTaint, tolerationsTolerateTaint } from "../../api/nodeaffinity.js";

export type RTaint = DeepReadonly<Taint>;
export type RToleration = DeepReadonly<Toleration>;
export type Labels = Readonly<Record<string, string>>;

export const LABEL_HOSTNAME = "kubernetes.io/hostname";
export const LABEL_ZONE = "topology.kubernetes.io/zone";
export const LABEL_REGION = "topology.kubernetes.io/region";
export const TAINT_NODE_UNSCHEDULABLE = "node.kubernetes.io/unschedulable";

/** `key=value:Effect` (`key:Effect` without a value), as kubectl prints taints. */
export function taintString(t: RTaint): string {
  return `${t.key}${t.value ? `=${t.value}` : ""}:${t.effect}`;
}

/** Upstream's GetZoneKey: region and zone joined, "" for a node in no zone. */
export function zoneKeyOf(labels: Labels | undefined): string {
  if (!labels) return "";
  const zone = labels[LABEL_ZONE] ?? labels["failure-domain.beta.kubernetes.io/zone"] ?? "";
  const region = labels[LABEL_REGION] ?? labels["failure-domain.beta.kubernetes.io/region"] ?? "";
  if (zone === "" && region === "") return "";
  return `${region}:\x00:${zone}`;
}
