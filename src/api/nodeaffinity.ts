// Matching a node against what a pod asks of it: tolerations against taints (upstream core/v1
// helper ToleratesTaint) and node selector terms (component-helpers nodeaffinity). The
// scheduler's filters and the controllers that decide where pods belong (the DaemonSet
// controller, taint-based eviction) must agree exactly, or a controller would make pods the
// scheduler can never place: so there is one implementation, here.
/** The parts of a Taint these rules read: a Taint, cached (read-only) or not. */
export interface TaintLike {
  readonly key: string;
  readonly value?: string | undefined;
  readonly effect: string;
}

/** The parts of a Toleration these rules read. */
export interface TolerationLike {
  readonly key?: string | undefined;
  readonly operator?: string | undefined;
  readonly value?: string | undefined;
  readonly effect?: string | undefined;
}

interface RequirementLike {
  readonly key: string;
  readonly operator: string;
  readonly values?: readonly string[] | undefined;
}

/** The parts of a NodeSelectorTerm these rules read. */
export interface TermLike {
  readonly matchExpressions?: readonly RequirementLike[] | undefined;
  readonly matchFields?: readonly RequirementLike[] | undefined;
}

export type Labels = Readonly<Record<string, string>>;

/** metav1.ObjectNameField: the only field a node selector term's matchFields may name. */
export const OBJECT_NAME_FIELD = "metadata.name";

/** Upstream's Toleration.ToleratesTaint. */
export function toleratesTaint(tol: TolerationLike, taint: TaintLike): boolean {
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

export function tolerationsTolerateTaint(tolerations: readonly TolerationLike[] | undefined, taint: TaintLike): boolean {
  if (!tolerations) return false;
  for (const t of tolerations) if (toleratesTaint(t, taint)) return true;
  return false;
}

/**
 * The first taint passing `filter` (by default: a NoSchedule or NoExecute effect) that no
 * toleration tolerates (v1helper.FindMatchingUntoleratedTaint).
 */
export function findUntoleratedTaint<T extends TaintLike>(
  taints: readonly T[] | undefined,
  tolerations: readonly TolerationLike[] | undefined,
  filter: (t: T) => boolean = (t) => t.effect === "NoSchedule" || t.effect === "NoExecute",
): T | undefined {
  if (!taints) return undefined;
  for (const taint of taints) if (filter(taint) && !tolerationsTolerateTaint(tolerations, taint)) return taint;
  return undefined;
}

const INT64 = /^[+-]?\d+$/;

/**
 * One requirement against a value (undefined: the label is absent); undefined when the
 * requirement itself is invalid (In/NotIn without values, Exists/DoesNotExist with some, Gt/Lt
 * without exactly one integer), which makes its term match nothing, as upstream drops a term
 * that fails to parse.
 */
function requirementMatches(r: RequirementLike, value: string | undefined): boolean | undefined {
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
 * One term: its label expressions and its fields ANDed. A term with neither, or with an
 * invalid requirement, matches nothing. The only field is metadata.name, with In or NotIn and
 * exactly one value.
 */
export function nodeSelectorTermMatches(term: TermLike, labels: Labels, nodeName: string): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  for (const r of exprs) if (requirementMatches(r, labels[r.key]) !== true) return false;
  for (const f of fields) {
    if (f.key !== OBJECT_NAME_FIELD || (f.operator !== "In" && f.operator !== "NotIn") || f.values?.length !== 1) return false;
    if (requirementMatches(f, nodeName) !== true) return false;
  }
  return true;
}

/** A NodeSelector: its terms are ORed. */
export function nodeSelectorMatches(sel: { readonly nodeSelectorTerms?: readonly TermLike[] | undefined }, labels: Labels, nodeName: string): boolean {
  for (const term of sel.nodeSelectorTerms ?? []) if (nodeSelectorTermMatches(term, labels, nodeName)) return true;
  return false;
}
