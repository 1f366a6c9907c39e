// The status a ReplicaSet (or RC) should report for the pods it controls (upstream
// calculateStatus): pure, so it is tested without any API.
import { selectorFromSet } from "../../api/labels.js";
import { isPodAvailable, isPodReady, type RPod } from "./podutil.js";
import { desiredReplicas, type ReplicaCondition, type ReplicaStatus, type RReplica } from "./kinds.js";
import type { DeepReadonly } from "../../client/objects.js";
import { rfc3339 } from "../../util/time.js";

export const REPLICA_FAILURE = "ReplicaFailure";

/**
 * Counts of the controlled (active, claimed) pods, and the ReplicaFailure condition: set when
 * the last attempt to create or delete pods failed (reason FailedCreate/FailedDelete, the error
 * as message), removed once an attempt succeeds. observedGeneration is left as it was; the
 * status writer sets it. Zero counts other than `replicas` are omitted, as the Go types do.
 */
export function calculateStatus(obj: RReplica, pods: readonly RPod[], manageError: unknown, now: number): ReplicaStatus {
  const templateLabels = selectorFromSet(obj.spec?.template?.metadata?.labels);
  const minReady = obj.spec?.minReadySeconds ?? 0;
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  for (const p of pods) {
    if (templateLabels.matches(p.metadata?.labels)) fullyLabeled++;
    if (isPodReady(p)) {
      ready++;
      if (isPodAvailable(p, minReady, now)) available++;
    }
  }
  let conditions: ReplicaCondition[] = (obj.status?.conditions ?? []).map((c) => ({ ...(c as DeepReadonly<ReplicaCondition>) }));
  const failure = conditions.find((c) => c.type === REPLICA_FAILURE);
  if (manageError !== undefined && failure === undefined) {
    const diff = pods.length - desiredReplicas(obj);
    const reason = diff < 0 ? "FailedCreate" : diff > 0 ? "FailedDelete" : "";
    conditions.push({ type: REPLICA_FAILURE, status: "True", lastTransitionTime: rfc3339(now), ...(reason ? { reason } : {}), message: manageError instanceof Error ? manageError.message : String(manageError) });
  } else if (manageError === undefined && failure !== undefined) {
    conditions = conditions.filter((c) => c.type !== REPLICA_FAILURE);
  }
  const status: ReplicaStatus = { replicas: pods.length };
  if (fullyLabeled) status.fullyLabeledReplicas = fullyLabeled;
  if (ready) status.readyReplicas = ready;
  if (available) status.availableReplicas = available;
  if (obj.status?.observedGeneration !== undefined) status.observedGeneration = obj.status.observedGeneration;
  if (conditions.length) status.conditions = conditions;
  return status;
}

/** Equal for the purpose of deciding whether to write (upstream compares the counts and conditions). */
export function statusEqual(a: DeepReadonly<ReplicaStatus> | undefined, b: ReplicaStatus): boolean {
  return (
    (a?.replicas ?? 0) === b.replicas &&
    (a?.fullyLabeledReplicas ?? 0) === (b.fullyLabeledReplicas ?? 0) &&
    (a?.readyReplicas ?? 0) === (b.readyReplicas ?? 0) &&
    (a?.availableReplicas ?? 0) === (b.availableReplicas ?? 0) &&
    JSON.stringify(a?.conditions ?? []) === JSON.stringify(b.conditions ?? [])
  );
}
