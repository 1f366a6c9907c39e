// A Job's podFailurePolicy (upstream pkg/controller/job/pod_failure_policy.go): the first rule
// that matches a failed pod decides what its failure means. The rules look only at what the
// pod reports once terminal: its containers' exit codes and its conditions (DisruptionTarget
// from an eviction or preemption, for instance).
import type { ContainerStatus, PodCondition } from "kubernetes-types/core/v1.js";
import type { PodFailurePolicy, PodFailurePolicyOnExitCodesRequirement, PodFailurePolicyOnPodConditionsPattern } from "kubernetes-types/batch/v1.js";
import type { DeepReadonly } from "../../client/objects.js";
import type { RPod } from "../replicaset/podutil.js";

export type RPodFailurePolicy = DeepReadonly<PodFailurePolicy>;

/** The matched rule's action, if any, and whether the failure counts (towards backoffLimit, status.failed, an index's failures). */
export interface PodFailureMatch {
  readonly action: "FailJob" | "FailIndex" | "Ignore" | "Count" | undefined;
  readonly countFailed: boolean;
  /** For a FailJob rule: the message of the Job's FailureTarget and Failed conditions. */
  readonly failJobMessage?: string;
}

const NO_MATCH: PodFailureMatch = { action: undefined, countFailed: true };

/**
 * Upstream's matchPodFailurePolicy. A rule with an action this controller does not know is
 * skipped, as the API asks clients to do with actions added later.
 */
export function matchPodFailurePolicy(policy: RPodFailurePolicy | undefined, pod: RPod): PodFailureMatch {
  if (!policy) return NO_MATCH;
  const ns = pod.metadata?.namespace ?? "";
  const name = pod.metadata?.name ?? "";
  for (const [index, rule] of (policy.rules ?? []).entries()) {
    let failJobMessage: string | undefined;
    if (rule.onExitCodes) {
      const c = matchOnExitCodes(pod, rule.onExitCodes);
      if (!c) continue;
      failJobMessage = `Container ${c.name} for pod ${ns}/${name} failed with exit code ${c.state?.terminated?.exitCode ?? 0} matching ${rule.action} rule at index ${index}`;
    } else if (rule.onPodConditions) {
      const cond = matchOnPodConditions(pod, rule.onPodConditions);
      if (!cond) continue;
      failJobMessage = `Pod ${ns}/${name} has condition ${cond.type} matching ${rule.action} rule at index ${index}`;
    } else continue;
    switch (rule.action) {
      case "Ignore":
        return { action: "Ignore", countFailed: false };
      case "FailIndex":
        return { action: "FailIndex", countFailed: true };
      case "Count":
        return { action: "Count", countFailed: true };
      case "FailJob":
        return { action: "FailJob", countFailed: true, failJobMessage };
    }
  }
  return NO_MATCH;
}

/** A terminated container (regular ones first, then init containers) whose exit code meets the requirement. */
function matchOnExitCodes(pod: RPod, req: DeepReadonly<PodFailurePolicyOnExitCodesRequirement>): DeepReadonly<ContainerStatus> | undefined {
  return matchingContainer(pod.status?.containerStatuses, req) ?? matchingContainer(pod.status?.initContainerStatuses, req);
}

function matchingContainer(statuses: readonly DeepReadonly<ContainerStatus>[] | undefined, req: DeepReadonly<PodFailurePolicyOnExitCodesRequirement>): DeepReadonly<ContainerStatus> | undefined {
  for (const s of statuses ?? []) {
    const exitCode = s.state?.terminated?.exitCode;
    // A container still running has no exit code; one that exited 0 succeeded, and the
    // requirement excludes it for either operator (NotIn does not match a clean exit).
    if (exitCode === undefined || exitCode === 0) continue;
    if (req.containerName !== undefined && req.containerName !== s.name) continue;
    if (exitCodeMatches(exitCode, req)) return s;
  }
  return undefined;
}

function exitCodeMatches(exitCode: number, req: DeepReadonly<PodFailurePolicyOnExitCodesRequirement>): boolean {
  const listed = (req.values ?? []).includes(exitCode);
  if (req.operator === "In") return listed;
  if (req.operator === "NotIn") return !listed;
  // An operator added later: the requirement is not met.
  return false;
}

/** The first of the pod's conditions (in the pod's order) that one of the patterns matches. */
function matchOnPodConditions(pod: RPod, patterns: readonly DeepReadonly<PodFailurePolicyOnPodConditionsPattern>[]): DeepReadonly<PodCondition> | undefined {
  for (const c of pod.status?.conditions ?? []) {
    // The API defaults a pattern's status to True; a policy read from elsewhere may lack it.
    if (patterns.some((p) => p.type === c.type && (p.status ?? "True") === c.status)) return c;
  }
  return undefined;
}
