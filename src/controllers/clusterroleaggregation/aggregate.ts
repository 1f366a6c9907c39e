// What an aggregated ClusterRole's rules should be (upstream's syncClusterRole, as pure
// functions): for each of its clusterRoleSelectors in order, the other ClusterRoles that
// selector matches in name order, and every rule of theirs not already taken.
import type { AggregationRule, ClusterRole, PolicyRule } from "kubernetes-types/rbac/v1.js";
import { labelSelectorAsSelector } from "../../api/labels.js";
import type { DeepReadonly } from "../../client/objects.js";
import { compareGoStrings } from "../../api/fielderrors.js";

/** The fields of a PolicyRule, in the order of upstream's struct. */
const RULE_FIELDS = ["verbs", "apiGroups", "resources", "resourceNames", "nonResourceURLs"] as const;

/**
 * equality.Semantic.DeepEqual on two rules: a missing list and an empty one are the same (Go
 * has nil and empty slices compare equal there), and order within a list matters.
 */
export function rulesEqual(a: DeepReadonly<PolicyRule>, b: DeepReadonly<PolicyRule>): boolean {
  return RULE_FIELDS.every((f) => {
    const x = a[f] ?? [];
    const y = b[f] ?? [];
    return x.length === y.length && x.every((v, i) => v === y[i]);
  });
}

/** Two rule lists compared as Semantic.DeepEqual does (a missing list equals an empty one). */
export function ruleListsEqual(a: readonly DeepReadonly<PolicyRule>[] | undefined, b: readonly DeepReadonly<PolicyRule>[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  return x.length === y.length && x.every((r, i) => rulesEqual(r, y[i]!));
}

/** A copy of a rule with just the fields a PolicyRule has, lists that are absent left out. */
function copyRule(rule: DeepReadonly<PolicyRule>): PolicyRule {
  const out: PolicyRule = { verbs: [...(rule.verbs ?? [])] };
  for (const f of RULE_FIELDS) {
    const v = rule[f];
    if (v !== undefined) out[f] = [...v];
  }
  return out;
}

/**
 * The rules `role`'s aggregationRule gathers from `all` (every ClusterRole, itself included:
 * it is skipped). Throws LabelSelectorError on a selector that does not convert, which API
 * validation should have refused.
 */
export function aggregatedRules(aggregationRule: DeepReadonly<AggregationRule>, self: string, all: readonly DeepReadonly<ClusterRole>[]): PolicyRule[] {
  const rules: PolicyRule[] = [];
  for (const selectorSpec of aggregationRule.clusterRoleSelectors ?? []) {
    // The conversion only reads the selector.
    const selector = labelSelectorAsSelector(selectorSpec as Parameters<typeof labelSelectorAsSelector>[0]);
    const matched = all.filter((r) => selector.matches(r.metadata?.labels)).sort((a, b) => compareGoStrings(a.metadata?.name ?? "", b.metadata?.name ?? ""));
    for (const source of matched) {
      if (source.metadata?.name === self) continue;
      for (const rule of source.rules ?? []) {
        if (!rules.some((r) => rulesEqual(r, rule))) rules.push(copyRule(rule));
      }
    }
  }
  return rules;
}
