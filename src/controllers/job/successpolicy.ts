// A Job's successPolicy (upstream pkg/controller/job/success_policy.go): an Indexed Job may be
// declared succeeded before every index succeeded, once the succeeded indexes meet one rule.
import type { SuccessPolicy } from "kubernetes-types/batch/v1.js";
import type { DeepReadonly } from "../../client/objects.js";
import { parseIndexes } from "./indexes.js";

/** Reason of the SuccessCriteriaMet and Complete conditions of a Job that met its successPolicy. */
export const SUCCESS_POLICY_REASON = "SuccessPolicy";

/**
 * Upstream's matchSuccessPolicy: the message of the first rule that `succeeded` meets
 * ("Matched rules at index N"), or undefined. A rule with succeededIndexes is met when all of
 * them succeeded, or at least succeededCount of them; a rule with only succeededCount when
 * that many indexes succeeded.
 */
export function matchSuccessPolicy(policy: DeepReadonly<SuccessPolicy> | undefined, completions: number, succeeded: ReadonlySet<number>): string | undefined {
  if (!policy || succeeded.size === 0) return undefined;
  for (const [index, rule] of (policy.rules ?? []).entries()) {
    if (rule.succeededIndexes !== undefined) {
      const required = parseIndexes(rule.succeededIndexes, completions);
      // Nothing parsable (or all past completions): the rule can never be met.
      if (required.size === 0) continue;
      let contains = 0;
      for (const i of required) if (succeeded.has(i)) contains++;
      if (contains === required.size || (rule.succeededCount !== undefined && contains >= rule.succeededCount)) return `Matched rules at index ${index}`;
    } else if (rule.succeededCount !== undefined && succeeded.size >= rule.succeededCount) {
      return `Matched rules at index ${index}`;
    }
  }
  return undefined;
}
