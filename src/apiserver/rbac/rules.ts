// RBAC policy rules: whether a rule allows a request, whether one set of rules covers another
// (what escalation prevention and the bootstrap reconciler ask), and how upstream prints a rule
// in its messages. The semantics are upstream's rbac/v1 helpers:
//
// - `*` in verbs, apiGroups or resources matches anything; resources match `pods/log` exactly,
//   and `*/log` matches the `log` subresource of any resource (`pods/*` is not a pattern);
// - empty resourceNames match any name, else the request must name one of them (so a rule with
//   names never allows create, list or watch of a whole collection);
// - a non-resource URL rule is `*`, an exact path, or a prefix ending in `*` (`/apis/*`).
import type { PolicyRule } from "kubernetes-types/rbac/v1.js";

export type { PolicyRule };

/** What a rule is checked against: upstream's authorizer.Attributes, as much as RBAC reads. */
export interface RuleRequest {
  readonly verb: string;
  readonly isResourceRequest: boolean;
  readonly apiGroup: string;
  readonly resource: string;
  readonly subresource: string;
  readonly name: string;
  readonly path: string;
}

const ALL = "*";

const list = (v: readonly string[] | undefined): readonly string[] => v ?? [];

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.some((v) => v === ALL || v === verb);
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return list(rule.apiGroups).some((g) => g === ALL || g === group);
}

/** `combined` is `resource` or `resource/subresource`. */
export function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  for (const r of list(rule.resources)) {
    if (r === ALL || r === combined) return true;
    if (subresource !== "" && r === `*/${subresource}`) return true;
  }
  return false;
}

export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = list(rule.resourceNames);
  return names.length === 0 || names.includes(name);
}

export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  for (const u of list(rule.nonResourceURLs)) {
    if (u === ALL || u === path) return true;
    if (u.endsWith(ALL) && path.startsWith(u.slice(0, -1))) return true;
  }
  return false;
}

/** upstream's RuleAllows. */
export function ruleAllows(req: RuleRequest, rule: PolicyRule): boolean {
  if (!verbMatches(rule, req.verb)) return false;
  if (!req.isResourceRequest) return nonResourceURLMatches(rule, req.path);
  const combined = req.subresource ? `${req.resource}/${req.subresource}` : req.resource;
  return apiGroupMatches(rule, req.apiGroup) && resourceMatches(rule, combined, req.subresource) && resourceNameMatches(rule, req.name);
}

// ---- coverage -------------------------------------------------------------------------------

/** One rule per verb × group × resource × name (or per verb × URL): upstream's BreakdownRule. */
export function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const group of list(rule.apiGroups)) {
    for (const resource of list(rule.resources)) {
      for (const verb of rule.verbs) {
        const names = list(rule.resourceNames);
        if (names.length === 0) out.push({ apiGroups: [group], resources: [resource], verbs: [verb] });
        else for (const name of names) out.push({ apiGroups: [group], resources: [resource], resourceNames: [name], verbs: [verb] });
      }
    }
  }
  for (const url of list(rule.nonResourceURLs)) for (const verb of rule.verbs) out.push({ nonResourceURLs: [url], verbs: [verb] });
  return out;
}

const has = (set: readonly string[], v: string): boolean => set.includes(v);

function coversAll(owner: readonly string[], servant: readonly string[]): boolean {
  return has(owner, ALL) || servant.every((s) => has(owner, s));
}

function resourcesCovered(owner: readonly string[], servant: readonly string[]): boolean {
  if (coversAll(owner, servant)) return true;
  return servant.every((s) => {
    if (has(owner, s)) return true;
    // `*/status` in the owner's rules covers the status subresource of any resource.
    const slash = s.indexOf("/");
    return slash > 0 && has(owner, `*${s.slice(slash)}`);
  });
}

function urlsCovered(owner: readonly string[], servant: readonly string[]): boolean {
  return servant.every((s) => owner.some((o) => o === ALL || o === s || (o.endsWith(ALL) && s.startsWith(o.slice(0, -1)))));
}

/** Whether one rule grants everything another (broken down) rule does: upstream's ruleCovers. */
export function ruleCovers(owner: PolicyRule, servant: PolicyRule): boolean {
  if (!coversAll(owner.verbs, servant.verbs)) return false;
  if (!coversAll(list(owner.apiGroups), list(servant.apiGroups))) return false;
  if (!resourcesCovered(list(owner.resources), list(servant.resources))) return false;
  if (!urlsCovered(list(owner.nonResourceURLs), list(servant.nonResourceURLs))) return false;
  const ownerNames = list(owner.resourceNames);
  const servantNames = list(servant.resourceNames);
  if (ownerNames.length === 0) return true;
  return servantNames.length > 0 && servantNames.every((n) => has(ownerNames, n));
}

/** The servant's (broken down) rules that no owner rule covers: empty when the owner holds them all. */
export function uncoveredRules(owner: readonly PolicyRule[], servant: readonly PolicyRule[]): PolicyRule[] {
  const missing: PolicyRule[] = [];
  for (const rule of servant) for (const one of breakdownRule(rule)) if (!owner.some((o) => ruleCovers(o, one))) missing.push(one);
  return missing;
}

// ---- printing -------------------------------------------------------------------------------

/** Go's %q of a []string: `["a" "b"]`. */
function goStrings(v: readonly string[]): string {
  return `[${v.map((s) => JSON.stringify(s)).join(" ")}]`;
}

/** upstream's PolicyRule.CompactString: `{APIGroups:[""], Resources:["pods"], Verbs:["get" "list"]}`. */
export function compactString(rule: PolicyRule): string {
  const parts: string[] = [];
  if (list(rule.apiGroups).length > 0) parts.push(`APIGroups:${goStrings(list(rule.apiGroups))}`);
  if (list(rule.resources).length > 0) parts.push(`Resources:${goStrings(list(rule.resources))}`);
  if (list(rule.nonResourceURLs).length > 0) parts.push(`NonResourceURLs:${goStrings(list(rule.nonResourceURLs))}`);
  if (list(rule.resourceNames).length > 0) parts.push(`ResourceNames:${goStrings(list(rule.resourceNames))}`);
  if (rule.verbs.length > 0) parts.push(`Verbs:${goStrings(rule.verbs)}`);
  return `{${parts.join(", ")}}`;
}

/**
 * upstream's CompactRules: rules of one group and one resource without names and URLs are
 * merged into one rule per group+resource with all their verbs; others are kept as they are.
 */
export function compactRules(rules: readonly PolicyRule[]): PolicyRule[] {
  const out: PolicyRule[] = [];
  const merged = new Map<string, { apiGroups: string[]; resources: string[]; verbs: string[] }>();
  for (const r of rules) {
    const groups = list(r.apiGroups);
    const resources = list(r.resources);
    if (groups.length === 1 && resources.length === 1 && list(r.resourceNames).length === 0 && list(r.nonResourceURLs).length === 0) {
      const key = `${groups[0]}\u0000${resources[0]}`;
      const m = merged.get(key);
      if (m) {
        for (const v of r.verbs) if (!m.verbs.includes(v)) m.verbs.push(v);
        continue;
      }
      const rule = { apiGroups: [groups[0]!], resources: [resources[0]!], verbs: [...r.verbs] };
      merged.set(key, rule);
      out.push(rule);
      continue;
    }
    out.push(r);
  }
  return out;
}
