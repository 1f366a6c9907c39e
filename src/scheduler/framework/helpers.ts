// Matching rules shared by several plugins and by `k8ts why`: tolerations against taints
// (upstream core/v1 helper ToleratesTaint) and node selector terms (component-helpers
// nodeaffinity), with the node's labels and name as the only inputs.
import type { NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Taint, Toleration } from "kubernetes-types/core/v1.js";
import type { DeepReadonly } from "../../client/objects.js";

export type RTaint = DeepReadonly<Taint>;
export type RToleration = DeepReadonly<Toleration>;
export type Labels = Readonly<Record<string, string>>;

export const LABEL_HOSTNAME = "kubernetes.io/hostname";
export const LABEL_ZONE = "topology.kubernetes.io/zone";
export const LABEL_REGION = "topology.kubernetes.io/region";
export const TAINT_NODE_UNSCHEDULABLE = "node.kubernetes.io/unschedulable";

export function toleratesTaint(t: RToleration, taint: RTaint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  switch (t.operator ?? "") {
    case "":
    case "Equal":
      return (t.value ?? "") === (taint.value ?? "");
    case "Exists":
      return true;
    default:
      return false;
  }
}

export function tolerationsTolerateTaint(tolerations: readonly RToleration[] | undefined, taint: RTaint): boolean {
  if (!tolerations) return false;
  for (const t of tolerations) if (toleratesTaint(t, taint)) return true;
  return false;
}

/** The first taint with a NoSchedule/NoExecute effect that no toleration tolerates. */
export function findUntoleratedTaint(taints: readonly RTaint[] | undefined, tolerations: readonly RToleration[] | undefined): RTaint | undefined {
  if (!taints) return undefined;
  for (const taint of taints) {
    if (taint.effect !== "NoSchedule" && taint.effect !== "NoExecute") continue;
    if (!tolerationsTolerateTaint(tolerations, taint)) return taint;
  }
  return undefined;
}

/** `key=value:Effect` (`key:Effect` without a value), as kubectl prints taints. */
export function taintString(t: RTaint): string {
  return `${t.key}${t.value ? `=${t.value}` : ""}:${t.effect}`;
}

/** Go's strconv.ParseInt(s, 10, 64) accepted range; NaN when not an integer. */
function parseInt64(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) return NaN;
  return Number(s);
}

function requirementMatches(r: DeepReadonly<NodeSelectorRequirement>, value: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case "In":
      return value !== undefined && values.includes(value);
    case "NotIn":
      return value === undefined || !values.includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
    case "Gt":
    case "Lt": {
      if (value === undefined || values.length !== 1) return false;
      const have = parseInt64(value);
      const want = parseInt64(values[0]!);
      if (Number.isNaN(have) || Number.isNaN(want)) return false;
      return r.operator === "Gt" ? have > want : have < want;
    }
    default:
      return false;
  }
}

/**
 * One NodeSelectorTerm: every expression over labels and every field (only metadata.name is
 * supported) must match. A term with neither matches nothing.
 */
export function nodeSelectorTermMatches(term: DeepReadonly<NodeSelectorTerm>, labels: Labels, nodeName: string): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  for (const r of exprs) if (!requirementMatches(r, labels[r.key])) return false;
  for (const f of fields) {
    if (f.key !== "metadata.name") return false;
    if (f.operator !== "In" && f.operator !== "NotIn") return false;
    if (!requirementMatches(f, nodeName)) return false;
  }
  return true;
}

/** A NodeSelector: its terms are ORed. */
export function nodeSelectorMatches(sel: DeepReadonly<NodeSelector>, labels: Labels, nodeName: string): boolean {
  for (const term of sel.nodeSelectorTerms ?? []) if (nodeSelectorTermMatches(term, labels, nodeName)) return true;
  return false;
}

/** Upstream's GetZoneKey: region and zone joined, "" for a node in no zone. */
export function zoneKeyOf(labels: Labels | undefined): string {
  if (!labels) return "";
  const zone = labels[LABEL_ZONE] ?? labels["failure-domain.beta.kubernetes.io/zone"] ?? "";
  const region = labels[LABEL_REGION] ?? labels["failure-domain.beta.kubernetes.io/region"] ?? "";
  if (zone === "" && region === "") return "";
  return `${region}:\x00:${zone}`;
}
