// Deployment status and the progress estimate (upstream progress.go and calculateStatus):
// counts summed over the ReplicaSets, the Available condition from maxUnavailable, and the
// Progressing condition that turns ProgressDeadlineExceeded when a rollout has made no
// progress for progressDeadlineSeconds. Nothing watches a clock, so a rollout without
// progress asks to be looked at again when its deadline would pass.
import type { Deployment, DeploymentStatus } from "kubernetes-types/apps/v1.js";
import type { DeepReadonly } from "../../client/objects.js";
import type { DeploymentSyncer } from "./sync.js";
import {
  actualReplicas,
  availableReplicas,
  deploymentComplete,
  deploymentProgressing,
  deploymentTimedOut,
  getCondition,
  hasProgressDeadline,
  maxUnavailable,
  newCondition,
  readyReplicas,
  removeCondition,
  replicasOf,
  setCondition,
  specReplicas,
  statusEqual,
  type Condition,
  type RD,
  type RRS,
} from "./util.js";

/** The status the ReplicaSets add up to, with the Available condition; other conditions are carried over. */
export function calculateStatus(allRSs: readonly (RRS | undefined)[], newRS: RRS | undefined, d: Deployment | RD, now: number): DeploymentStatus {
  const available = availableReplicas(allRSs);
  const unavailable = Math.max(0, specReplicas(allRSs) - available);
  const status: DeploymentStatus = {};
  const gen = d.metadata?.generation ?? 0;
  if (gen) status.observedGeneration = gen;
  const put = (k: "replicas" | "updatedReplicas" | "readyReplicas" | "availableReplicas" | "unavailableReplicas", v: number): void => {
    if (v) status[k] = v;
  };
  put("replicas", actualReplicas(allRSs));
  put("updatedReplicas", actualReplicas([newRS]));
  put("readyReplicas", readyReplicas(allRSs));
  put("availableReplicas", available);
  put("unavailableReplicas", unavailable);
  if (d.status?.conditions?.length) status.conditions = d.status.conditions.map((c) => ({ ...c }));
  if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
  if (available >= replicasOf(d as RD) - maxUnavailable(d as RD)) setCondition(status, newCondition("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.", now));
  else setCondition(status, newCondition("Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.", now));
  return status;
}

/** ReplicaFailure conditions of the new ReplicaSet, else of any other, as Deployment conditions. */
export function replicaFailures(allRSs: readonly (RRS | undefined)[], newRS: RRS | undefined): Condition[] {
  const convert = (rs: RRS | undefined): Condition[] =>
    (rs?.status?.conditions ?? [])
      .filter((c) => c.type === "ReplicaFailure")
      .map((c) => ({
        type: c.type,
        status: c.status,
        ...(c.lastTransitionTime ? { lastTransitionTime: c.lastTransitionTime, lastUpdateTime: c.lastTransitionTime } : {}),
        ...(c.reason ? { reason: c.reason } : {}),
        ...(c.message ? { message: c.message } : {}),
      }));
  const fromNew = convert(newRS);
  if (fromNew.length > 0) return fromNew;
  return allRSs.flatMap((rs) => convert(rs));
}

/**
 * The status of a rollout in progress: counts, then (with a deadline, unless this rollout
 * already completed) Progressing as NewReplicaSetAvailable, ReplicaSetUpdated (any progress
 * refreshes lastUpdateTime) or ProgressDeadlineExceeded, and the ReplicaSets' ReplicaFailure.
 */
export async function syncRolloutStatus(s: DeploymentSyncer, allRSs: readonly (RRS | undefined)[], newRS: RRS | undefined, d: Deployment): Promise<void> {
  const now = s.now();
  const status = calculateStatus(allRSs, newRS, d, now);
  if (!hasProgressDeadline(d as RD)) removeCondition(status, "Progressing");
  const current = getCondition(d.status, "Progressing");
  const isComplete = (status.replicas ?? 0) === (status.updatedReplicas ?? 0) && current?.reason === "NewReplicaSetAvailable";
  if (hasProgressDeadline(d as RD) && !isComplete) {
    const subject = newRS ? `ReplicaSet "${newRS.metadata?.name ?? ""}"` : `Deployment "${d.metadata?.name ?? ""}"`;
    if (deploymentComplete(d as RD, status)) {
      setCondition(status, newCondition("Progressing", "True", "NewReplicaSetAvailable", `${subject} has successfully progressed.`, now));
    } else if (deploymentProgressing(d as RD, status)) {
      const cond = newCondition("Progressing", "True", "ReplicaSetUpdated", `${subject} is progressing.`, now);
      // Unlike other conditions, progress refreshes lastUpdateTime even with the same reason.
      if (current) {
        if (current.status === "True" && current.lastTransitionTime) cond.lastTransitionTime = current.lastTransitionTime;
        removeCondition(status, "Progressing");
      }
      setCondition(status, cond);
    } else if (deploymentTimedOut(d as RD, status, now)) {
      setCondition(status, newCondition("Progressing", "False", "ProgressDeadlineExceeded", `${subject} has timed out progressing.`, now));
    }
  }
  const failures = replicaFailures(allRSs, newRS);
  if (failures.length > 0) setCondition(status, failures[0]!);
  else removeCondition(status, "ReplicaFailure");
  if (statusEqual(d.status, status)) {
    requeueStuckDeployment(s, d, status);
    return;
  }
  d.status = status;
  await s.writeStatus(d);
}

/**
 * A rollout that made no progress this time is looked at again when its deadline would
 * pass (lastUpdateTime + progressDeadlineSeconds, plus a second), so that it can time out.
 * Returns the delay chosen, or -1 when none is needed.
 */
export function requeueStuckDeployment(s: DeploymentSyncer, d: Deployment, status: DeepReadonly<DeploymentStatus>): number {
  const cur = getCondition(d.status, "Progressing");
  if (!hasProgressDeadline(d as RD) || !cur) return -1;
  if (deploymentComplete(d as RD, status) || cur.reason === "ProgressDeadlineExceeded") return -1;
  const last = cur.lastUpdateTime ? Date.parse(cur.lastUpdateTime) : NaN;
  if (Number.isNaN(last)) return -1;
  const after = last + (d.spec?.progressDeadlineSeconds ?? 0) * 1000 - s.now();
  if (after < 1000) {
    s.deps.enqueueRateLimited(s.keyOf(d));
    return 0;
  }
  s.deps.enqueueAfter(s.keyOf(d), after + 1000);
  return after;
}
