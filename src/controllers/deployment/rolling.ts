// The RollingUpdate strategy (upstream rolling.go): grow the new ReplicaSet while the total
// stays within spec.replicas + maxSurge; shrink old ones while at least spec.replicas −
// maxUnavailable stay available, unhealthy old replicas first; one step per sync, each
// write waking the next sync through the informers.
import type { Deployment } from "kubernetes-types/apps/v1.js";
import { syncRolloutStatus } from "./progress.js";
import type { DeploymentSyncer } from "./sync.js";
import { availableReplicas, newRSNewReplicas, byCreation, deploymentComplete, filterActive, maxUnavailable, replicasOf, rsReplicas, specReplicas, type RD, type RRS } from "./util.js";

export async function rolloutRolling(s: DeploymentSyncer, d: Deployment, rsList: RRS[]): Promise<void> {
  const got = await s.getAllReplicaSetsAndSyncRevision(d, rsList, true);
  const newRS = got.newRS!;
  const oldRSs = got.oldRSs;
  const allRSs = [...oldRSs, newRS];
  if (await reconcileNewReplicaSet(s, allRSs, newRS, d)) {
    await syncRolloutStatus(s, allRSs, newRS, d);
    return;
  }
  if (await reconcileOldReplicaSets(s, allRSs, filterActive(oldRSs), newRS, d)) {
    await syncRolloutStatus(s, allRSs, newRS, d);
    return;
  }
  if (deploymentComplete(d as RD, d.status ?? {})) await s.cleanupDeployment(oldRSs, d);
  await syncRolloutStatus(s, allRSs, newRS, d);
}

/** Scales the new ReplicaSet towards spec.replicas as far as maxSurge allows; true if it scaled. */
export async function reconcileNewReplicaSet(s: DeploymentSyncer, allRSs: readonly RRS[], newRS: RRS, d: Deployment): Promise<boolean> {
  const want = replicasOf(d as RD);
  if (rsReplicas(newRS) === want) return false;
  if (rsReplicas(newRS) > want) return (await s.scaleReplicaSetAndRecordEvent(newRS, want, d)).scaled;
  return (await s.scaleReplicaSetAndRecordEvent(newRS, newRSNewReplicas(d as RD, allRSs, newRS), d)).scaled;
}

/**
 * Scales old ReplicaSets down as far as availability allows: how many pods may go is the
 * total minus the minimum available minus the new ReplicaSet's unavailable pods (those
 * cannot be counted on). Unhealthy old replicas go first, since removing them costs no
 * availability; true if anything was scaled down.
 */
export async function reconcileOldReplicaSets(s: DeploymentSyncer, allRSs: readonly RRS[], oldRSs: RRS[], newRS: RRS, d: Deployment): Promise<boolean> {
  if (specReplicas(oldRSs) === 0) return false;
  const allPods = specReplicas(allRSs);
  const minAvailable = replicasOf(d as RD) - maxUnavailable(d as RD);
  const newUnavailable = rsReplicas(newRS) - (newRS.status?.availableReplicas ?? 0);
  const maxScaledDown = allPods - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return false;
  const cleaned = await cleanupUnhealthyReplicas(s, oldRSs, d, maxScaledDown);
  const scaledDown = await scaleDownOldReplicaSetsForRollingUpdate(s, [...cleaned.oldRSs, newRS], cleaned.oldRSs, d);
  return cleaned.count + scaledDown > 0;
}

/** Scales old ReplicaSets down by their unavailable replicas, oldest first, up to `maxCleanup` in all. */
export async function cleanupUnhealthyReplicas(s: DeploymentSyncer, oldRSs: RRS[], d: Deployment, maxCleanup: number): Promise<{ oldRSs: RRS[]; count: number }> {
  const sorted = [...oldRSs].sort(byCreation);
  let total = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (total >= maxCleanup) break;
    const rs = sorted[i]!;
    const size = rsReplicas(rs);
    const available = rs.status?.availableReplicas ?? 0;
    if (size === 0 || size === available) continue;
    const count = Math.min(maxCleanup - total, size - available);
    sorted[i] = (await s.scaleReplicaSetAndRecordEvent(rs, size - count, d)).rs;
    total += count;
  }
  return { oldRSs: sorted, count: total };
}

/** Scales old ReplicaSets down, oldest first, while more than the minimum are available. */
export async function scaleDownOldReplicaSetsForRollingUpdate(s: DeploymentSyncer, allRSs: readonly RRS[], oldRSs: readonly RRS[], d: Deployment): Promise<number> {
  const minAvailable = replicasOf(d as RD) - maxUnavailable(d as RD);
  const available = availableReplicas(allRSs);
  if (available <= minAvailable) return 0;
  const toScaleDown = available - minAvailable;
  let total = 0;
  for (const rs of [...oldRSs].sort(byCreation)) {
    if (total >= toScaleDown) break;
    if (rsReplicas(rs) === 0) continue;
    const count = Math.min(rsReplicas(rs), toScaleDown - total);
    await s.scaleReplicaSetAndRecordEvent(rs, rsReplicas(rs) - count, d);
    total += count;
  }
  return total;
}
