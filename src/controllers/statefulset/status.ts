// A StatefulSet's status as pure functions (upstream computeReplicaStatus, completeRollingUpdate,
// inconsistentStatus). `kubectl rollout status sts/NAME` reads these: it waits for
// observedGeneration, readyReplicas = replicas and, without a partition, for currentRevision
// to become updateRevision; with one, for updatedReplicas to cover the ordinals above it.
import type { StatefulSetStatus } from "kubernetes-types/apps/v1.js";
import type { RPod } from "../replicaset/podutil.js";
import { isCreated, isRunningAndAvailable, isRunningAndReady, isTerminating, podRevision, type RSet } from "./util.js";

export interface ReplicaCounts {
  replicas: number;
  readyReplicas: number;
  availableReplicas: number;
  currentReplicas: number;
  updatedReplicas: number;
}

/** Counts over the pods the API server has seen; a pod being deleted is on no revision. */
export function computeStatus(pods: readonly RPod[], minReadySeconds: number, currentRevision: string, updateRevision: string, now: number): ReplicaCounts {
  const c: ReplicaCounts = { replicas: 0, readyReplicas: 0, availableReplicas: 0, currentReplicas: 0, updatedReplicas: 0 };
  for (const p of pods) {
    if (isCreated(p)) c.replicas++;
    if (isRunningAndReady(p)) {
      c.readyReplicas++;
      if (isRunningAndAvailable(p, minReadySeconds, now)) c.availableReplicas++;
    }
    if (isCreated(p) && !isTerminating(p)) {
      const rev = podRevision(p);
      if (rev === currentRevision) c.currentReplicas++;
      if (rev === updateRevision) c.updatedReplicas++;
    }
  }
  return c;
}

/** A rolling update is done once every pod is updated and ready: the update revision becomes current. */
export function completeRollingUpdate(set: RSet, status: StatefulSetStatus): void {
  if (set.spec?.updateStrategy?.type === "OnDelete") return;
  if (status.updatedReplicas === status.replicas && status.readyReplicas === status.replicas) {
    status.currentReplicas = status.updatedReplicas;
    status.currentRevision = status.updateRevision;
  }
}

/** Whether the status must be written (upstream inconsistentStatus: collisionCount alone does not). */
export function statusChanged(set: RSet, status: StatefulSetStatus): boolean {
  const s = set.status;
  return (
    (status.observedGeneration ?? 0) > (s?.observedGeneration ?? 0) ||
    status.replicas !== (s?.replicas ?? 0) ||
    (status.currentReplicas ?? 0) !== (s?.currentReplicas ?? 0) ||
    (status.readyReplicas ?? 0) !== (s?.readyReplicas ?? 0) ||
    (status.updatedReplicas ?? 0) !== (s?.updatedReplicas ?? 0) ||
    (status.currentRevision ?? "") !== (s?.currentRevision ?? "") ||
    (status.availableReplicas ?? 0) !== (s?.availableReplicas ?? 0) ||
    (status.updateRevision ?? "") !== (s?.updateRevision ?? "")
  );
}
