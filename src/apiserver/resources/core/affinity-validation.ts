// Upstream's validation of where a pod may run and of a volume's node affinity
// (pkg/apis/core/validation: ValidateNodeSelector and the functions under it,
// ValidatePreferredSchedulingTerms, validateAffinity with the pod (anti-)affinity terms,
// validateTopologySpreadConstraints, validateVolumeNodeAffinity), with its field paths and
// messages. The pod-template kinds reach these through the shared pod spec validation.
import { duplicate, forbidden, invalid, notSupported, required, type FieldError, type FieldPath } from "../../../api/fielderrors.js";
import { isValidLabelValue, nameIsDNSSubdomain, validateLabelName, validateLabelSelector, validateNamespaceName } from "../../../api/validation.js";
import { selectorView } from "../common.js";
import { asArr, asNum, asObj, asStr, isObj, objs, type Json } from "../util.js";

const IS_NOT_POSITIVE = "must be greater than zero";

/** A list of strings as sent (anything else in it counts as ""). */
function strings(v: unknown): string[] {
  return (asArr(v) ?? []).map((s) => (typeof s === "string" ? s : ""));
}

/**
 * ValidateNodeSelectorRequirement: the operator's rule for values, a label-name key, and label
 * values (except where upstream allows invalid values: preferred terms).
 */
export function validateNodeSelectorRequirement(rq: Json, allowInvalidLabelValue: boolean, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const values = strings(rq.values);
  const operator = asStr(rq.operator) ?? "";
  switch (operator) {
    case "In":
    case "NotIn":
      if (values.length === 0) errs.push(required(path.child("values"), "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case "Exists":
    case "DoesNotExist":
      if (values.length > 0) errs.push(forbidden(path.child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      break;
    case "Gt":
    case "Lt":
      if (values.length !== 1) errs.push(required(path.child("values"), "must be specified single value when `operator` is 'Lt' or 'Gt'"));
      break;
    default:
      errs.push(invalid(path.child("operator"), operator, "not a valid selector operator"));
  }
  errs.push(...validateLabelName(asStr(rq.key) ?? "", path.child("key")));
  if (!allowInvalidLabelValue) {
    values.forEach((v, i) => {
      for (const m of isValidLabelValue(v)) errs.push(invalid(path.child("values").index(i), v, m));
    });
  }
  return errs;
}

/** ValidateNodeFieldSelectorRequirement: only `metadata.name`, with In or NotIn and one node name. */
export function validateNodeFieldSelectorRequirement(req: Json, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const values = strings(req.values);
  const operator = asStr(req.operator) ?? "";
  if (operator === "In" || operator === "NotIn") {
    if (values.length !== 1) errs.push(required(path.child("values"), "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"));
  } else {
    errs.push(invalid(path.child("operator"), operator, "not a valid selector operator"));
  }
  const key = asStr(req.key) ?? "";
  if (key !== "metadata.name") {
    errs.push(invalid(path.child("key"), key, "not a valid field selector key"));
  } else {
    values.forEach((v, i) => {
      for (const m of nameIsDNSSubdomain(v, false)) errs.push(invalid(path.child("values").index(i), v, m));
    });
  }
  return errs;
}

/** ValidateNodeSelectorTerm: each matchExpressions and matchFields requirement. */
export function validateNodeSelectorTerm(term: Json, allowInvalidLabelValue: boolean, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  objs(term.matchExpressions).forEach((rq, j) => errs.push(...validateNodeSelectorRequirement(rq, allowInvalidLabelValue, path.child("matchExpressions").index(j))));
  objs(term.matchFields).forEach((rq, j) => errs.push(...validateNodeFieldSelectorRequirement(rq, path.child("matchFields").index(j))));
  return errs;
}

/** ValidateNodeSelector: at least one term, each valid. */
export function validateNodeSelector(sel: Json, allowInvalidLabelValue: boolean, path: FieldPath): FieldError[] {
  const termsPath = path.child("nodeSelectorTerms");
  const terms = asArr(sel.nodeSelectorTerms) ?? [];
  if (terms.length === 0) return [required(termsPath, "must have at least one node selector term")];
  const errs: FieldError[] = [];
  terms.forEach((t, i) => errs.push(...validateNodeSelectorTerm(asObj(t) ?? {}, allowInvalidLabelValue, termsPath.index(i))));
  return errs;
}

/** A weight of 1-100, as upstream checks preferred node and pod affinity terms. */
function validateWeight(weight: unknown, path: FieldPath): FieldError[] {
  const w = asNum(weight) ?? 0;
  return w <= 0 || w > 100 ? [invalid(path, w, "must be in the range 1-100")] : [];
}

/** ValidatePreferredSchedulingTerms: weights of 1-100; the preference's label values may be invalid. */
export function validatePreferredSchedulingTerms(terms: unknown, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  objs(terms).forEach((term, i) => {
    errs.push(...validateWeight(term.weight, path.index(i).child("weight")));
    errs.push(...validateNodeSelectorTerm(asObj(term.preference) ?? {}, true, path.index(i).child("preference")));
  });
  return errs;
}

/** The keys a label selector already uses, in upstream's sense (matchLabels, then matchExpressions). */
function selectorKeys(sel: Json): string[] {
  return [...Object.keys(asObj(sel.matchLabels) ?? {}), ...objs(sel.matchExpressions).map((e) => asStr(e.key) ?? "")];
}

/** validateLabelKeys: label-name keys, only beside a label selector. */
function validateLabelKeys(path: FieldPath, keys: string[], selector: Json | undefined): FieldError[] {
  if (keys.length === 0) return [];
  if (!selector) return [forbidden(path, "must not be specified when labelSelector is not set")];
  return keys.flatMap((k, i) => validateLabelName(k, path.index(i)));
}

/**
 * validateMatchLabelKeysAndMismatchLabelKeys. The pod's own values for matchLabelKeys were
 * already merged into the selector as `key In (value)` when the pod was created, so a key the
 * user's selector also names shows up there twice; upstream reports that at the term's path
 * indexed by the key's place in matchLabelKeys, as here.
 */
function validateMatchLabelKeysAndMismatchLabelKeys(path: FieldPath, match: string[], mismatch: string[], selector: Json | undefined): FieldError[] {
  const errs = [...validateLabelKeys(path.child("matchLabelKeys"), match, selector), ...validateLabelKeys(path.child("mismatchLabelKeys"), mismatch, selector)];
  if (selector) {
    const index = new Map<string, number>();
    match.forEach((k, i) => index.set(k, i));
    const seen = new Set(Object.keys(asObj(selector.matchLabels) ?? {}));
    for (const e of objs(selector.matchExpressions)) {
      const key = asStr(e.key) ?? "";
      const i = index.get(key);
      if (i !== undefined && seen.has(key)) errs.push(invalid(path.index(i), key, "exists in both matchLabelKeys and labelSelector"));
      seen.add(key);
    }
  }
  const mismatchSet = new Set(mismatch);
  match.forEach((k, i) => {
    if (mismatchSet.has(k)) errs.push(invalid(path.child("matchLabelKeys").index(i), k, "exists in both matchLabelKeys and mismatchLabelKeys"));
  });
  return errs;
}

/** validatePodAffinityTerm: the selectors, the namespaces' names, the label keys, a topology key. */
function validatePodAffinityTerm(term: Json, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...validateLabelSelector(selectorView(term.labelSelector), {}, path.child("labelSelector")));
  errs.push(...validateLabelSelector(selectorView(term.namespaceSelector), {}, path.child("namespaceSelector")));
  // Upstream names the path `namespace`, singular, and no index.
  for (const ns of strings(term.namespaces)) for (const m of validateNamespaceName(ns, false)) errs.push(invalid(path.child("namespace"), ns, m));
  errs.push(...validateMatchLabelKeysAndMismatchLabelKeys(path, strings(term.matchLabelKeys), strings(term.mismatchLabelKeys), asObj(term.labelSelector)));
  const topologyKey = asStr(term.topologyKey) ?? "";
  if (topologyKey === "") errs.push(required(path.child("topologyKey"), "can not be empty"));
  errs.push(...validateLabelName(topologyKey, path.child("topologyKey")));
  return errs;
}

/** validatePodAffinity / validatePodAntiAffinity: the required terms, then the weighted ones. */
function validatePodAffinityKind(aff: Json, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const requiredPath = path.child("requiredDuringSchedulingIgnoredDuringExecution");
  objs(aff.requiredDuringSchedulingIgnoredDuringExecution).forEach((t, i) => errs.push(...validatePodAffinityTerm(t, requiredPath.index(i))));
  const preferredPath = path.child("preferredDuringSchedulingIgnoredDuringExecution");
  objs(aff.preferredDuringSchedulingIgnoredDuringExecution).forEach((t, j) => {
    errs.push(...validateWeight(t.weight, preferredPath.index(j).child("weight")));
    errs.push(...validatePodAffinityTerm(asObj(t.podAffinityTerm) ?? {}, preferredPath.index(j).child("podAffinityTerm")));
  });
  return errs;
}

/** validateAffinity: node affinity (required terms with valid label values, preferred weights), pod affinity, pod anti-affinity. */
export function validateAffinity(affinity: unknown, path: FieldPath): FieldError[] {
  const a = asObj(affinity);
  if (!a) return [];
  const errs: FieldError[] = [];
  const na = asObj(a.nodeAffinity);
  if (na) {
    const p = path.child("nodeAffinity");
    const req = asObj(na.requiredDuringSchedulingIgnoredDuringExecution);
    if (req) errs.push(...validateNodeSelector(req, false, p.child("requiredDuringSchedulingIgnoredDuringExecution")));
    errs.push(...validatePreferredSchedulingTerms(na.preferredDuringSchedulingIgnoredDuringExecution, p.child("preferredDuringSchedulingIgnoredDuringExecution")));
  }
  const pa = asObj(a.podAffinity);
  if (pa) errs.push(...validatePodAffinityKind(pa, path.child("podAffinity")));
  const paa = asObj(a.podAntiAffinity);
  if (paa) errs.push(...validatePodAffinityKind(paa, path.child("podAntiAffinity")));
  return errs;
}

/**
 * The pod-creation half of upstream's MatchLabelKeysInPodAffinity (on by default since 1.31):
 * each pod (anti-)affinity term's matchLabelKeys and mismatchLabelKeys whose key the pod has
 * become `key In (value)` / `key NotIn (value)` in the term's label selector.
 */
export function mergeMatchLabelKeysIntoPodAffinity(spec: Json, podLabels: Readonly<Record<string, string>>): void {
  const affinity = asObj(spec.affinity);
  for (const kind of ["podAffinity", "podAntiAffinity"]) {
    const aff = asObj(affinity?.[kind]);
    if (!aff) continue;
    const terms = [...objs(aff.requiredDuringSchedulingIgnoredDuringExecution), ...objs(aff.preferredDuringSchedulingIgnoredDuringExecution).map((w) => asObj(w.podAffinityTerm) ?? {})];
    for (const term of terms) {
      const selector = asObj(term.labelSelector);
      const match = strings(term.matchLabelKeys);
      const mismatch = strings(term.mismatchLabelKeys);
      if (!selector || (match.length === 0 && mismatch.length === 0)) continue;
      const added: Json[] = [];
      for (const [keys, operator] of [
        [match, "In"],
        [mismatch, "NotIn"],
      ] as const) {
        for (const key of keys) {
          const value = podLabels[key];
          if (value !== undefined) added.push({ key, operator, values: [value] });
        }
      }
      if (added.length > 0) selector.matchExpressions = [...(asArr(selector.matchExpressions) ?? []), ...added];
    }
  }
}

/** validateTopologySpreadConstraints, constraint by constraint in upstream's order. */
export function validateTopologySpreadConstraints(constraints: unknown, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const list = objs(constraints);
  list.forEach((c, i) => {
    const p = path.index(i);
    const maxSkew = asNum(c.maxSkew) ?? 0;
    if (maxSkew <= 0) errs.push(invalid(p.child("maxSkew"), maxSkew, IS_NOT_POSITIVE));
    const topologyKey = asStr(c.topologyKey) ?? "";
    if (topologyKey === "") errs.push(required(p.child("topologyKey"), "can not be empty"));
    const action = asStr(c.whenUnsatisfiable) ?? "";
    if (action !== "DoNotSchedule" && action !== "ScheduleAnyway") errs.push(notSupported(p.child("whenUnsatisfiable"), action, ["DoNotSchedule", "ScheduleAnyway"]));
    // {topologyKey, whenUnsatisfiable} names one kind of constraint: a later repeat is refused at the first.
    if (list.slice(i + 1).some((r) => (asStr(r.topologyKey) ?? "") === topologyKey && (asStr(r.whenUnsatisfiable) ?? "") === action)) {
      errs.push(duplicate(p.child("{topologyKey, whenUnsatisfiable}"), `{${topologyKey}, ${action}}`));
    }
    if (c.minDomains !== undefined && c.minDomains !== null) {
      const minDomains = asNum(c.minDomains) ?? 0;
      if (minDomains <= 0) errs.push(invalid(p.child("minDomains"), minDomains, IS_NOT_POSITIVE));
      if (action !== "DoNotSchedule") errs.push(invalid(p.child("minDomains"), minDomains, `can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ${action}`));
    }
    for (const f of ["nodeAffinityPolicy", "nodeTaintsPolicy"]) {
      const policy = c[f];
      if (policy !== undefined && policy !== null && policy !== "Honor" && policy !== "Ignore") errs.push(notSupported(p.child(f), policy, ["Honor", "Ignore"]));
    }
    const selector = isObj(c.labelSelector) ? c.labelSelector : undefined;
    const keys = strings(c.matchLabelKeys);
    if (keys.length > 0) {
      const kp = p.child("matchLabelKeys");
      if (!selector) errs.push(forbidden(kp, "must not be specified when labelSelector is not set"));
      const used = new Set(selector ? selectorKeys(selector) : []);
      keys.forEach((k, j) => {
        errs.push(...validateLabelName(k, kp.index(j)));
        if (used.has(k)) errs.push(invalid(kp.index(j), k, "exists in both matchLabelKeys and labelSelector"));
      });
    }
    errs.push(...validateLabelSelector(selectorView(c.labelSelector), {}, p.child("labelSelector")));
  });
  return errs;
}

/**
 * validateVolumeNodeAffinity: a PersistentVolume's nodeAffinity needs its required node
 * selector. Returns whether nodeAffinity was given (a local volume needs it).
 */
export function validateVolumeNodeAffinity(nodeAffinity: unknown, allowInvalidLabelValue: boolean, path: FieldPath): { specified: boolean; errs: FieldError[] } {
  const na = asObj(nodeAffinity);
  if (!na) return { specified: false, errs: [] };
  const req = asObj(na.required);
  if (!req) return { specified: true, errs: [required(path.child("required"), "must specify required node constraints")] };
  return { specified: true, errs: validateNodeSelector(req, allowInvalidLabelValue, path.child("required")) };
}

/** helper.HasInvalidLabelValueInNodeSelectorTerms: what an old volume kept may stay. */
export function hasInvalidLabelValueInNodeSelectorTerms(nodeAffinity: unknown): boolean {
  const terms = objs(asObj(asObj(nodeAffinity)?.required)?.nodeSelectorTerms);
  return terms.some((t) => objs(t.matchExpressions).some((e) => strings(e.values).some((v) => isValidLabelValue(v).length > 0)));
}
