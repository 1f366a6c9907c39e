// The Recreate strategy (upstream recreate.go): scale every old ReplicaSet to 0, wait until
// none of their pods is left running, and only then create (or scale up) the new one, so
// old and new pods never run side by side.
import type { Deployment } from "kubernetes-types/apps/v1.js";
import { syncRolloutStatus } from "./progress.js";
import type { DeploymentSyncer, PodMap } from "./sync.js";
import { actualReplicas, deploymentComplete, filterActive, replicasOf, type RD, type RRS } from "./util.js";

export async function rolloutRecreate(s: DeploymentSyncer, d: Deployment, rsList: RRS[], podMap: PodMap): Promise<void> {
  // Not created yet, so that nothing is scaled up before the old pods are gone.
  let { newRS, oldRSs } = await s.getAllReplicaSetsAndSyncRevision(d, rsList, false);
  let allRSs: (RRS | undefined)[] = [...oldRSs, newRS];
  let scaledDown = false;
  for (const rs of filterActive(oldRSs)) if ((await s.scaleReplicaSetAndRecordEvent(rs, 0, d)).scaled) scaledDown = true;
  if (scaledDown) {
    await syncRolloutStatus(s, allRSs, newRS, d);
    return;
  }
  if (oldPodsRunning(newRS, oldRSs, podMap)) {
    await syncRolloutStatus(s, allRSs, newRS, d);
    return;
  }
  if (!newRS) {
    ({ newRS, oldRSs } = await s.getAllReplicaSetsAndSyncRevision(d, rsList, true));
    allRSs = [...oldRSs, newRS];
  }
  await s.scaleReplicaSetAndRecordEvent(newRS!, replicasOf(d as RD), d);
  if (deploymentComplete(d as RD, d.status ?? {})) await s.cleanupDeployment(oldRSs, d);
  await syncRolloutStatus(s, allRSs, newRS, d);
}

/**
 * Whether any pod of an old ReplicaSet may still run: old ReplicaSets report pods, or a pod
 * of theirs is in any phase but Succeeded/Failed (a terminating pod still runs).
 */
export function oldPodsRunning(newRS: RRS | undefined, oldRSs: readonly RRS[], podMap: PodMap): boolean {
  if (actualReplicas(oldRSs) > 0) return true;
  for (const [uid, pods] of podMap) {
    if (newRS && newRS.metadata?.uid === uid) continue;
    for (const p of pods) {
      const phase = p.status?.phase;
      if (phase === "Failed" || phase === "Succeeded") continue;
      return true;
    }
  }
  return false;
}
