// Revisions and rollback. `kubectl rollout undo` patches the Deployment's template back to
// an old ReplicaSet's; the sync then finds that ReplicaSet as the new one and gives it
// revision max+1 here, keeping its earlier numbers in revision-history, so that the old
// ReplicaSet is reused instead of a new one being created. The deprecated
// `deprecated.deployment.rollback.to` annotation (what extensions/v1beta1 rollbackTo became)
// is still honoured: the controller copies the template of the named revision itself.
import type { Deployment, ReplicaSet } from "kubernetes-types/apps/v1.js";
import { mutableCopy } from "../../client/objects.js";
import type { DeploymentSyncer } from "./sync.js";
import {
  MAX_REV_HISTORY_LENGTH,
  POD_TEMPLATE_HASH_LABEL,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  ROLLBACK_TO_ANNOTATION,
  equalIgnoreHash,
  lastRevision,
  maxSurge,
  replicasOf,
  revisionOf,
  setReplicasAnnotations,
  skipCopyAnnotation,
  type RD,
  type RRS,
} from "./util.js";

/** Copies the Deployment's user annotations (change-cause among them) onto the ReplicaSet; true if any changed. */
function copyDeploymentAnnotations(d: Deployment, rs: ReplicaSet): boolean {
  rs.metadata ??= {};
  let changed = false;
  for (const [k, v] of Object.entries(d.metadata?.annotations ?? {})) {
    if (skipCopyAnnotation(k) || rs.metadata.annotations?.[k] === v) continue;
    (rs.metadata.annotations ??= {})[k] = v;
    changed = true;
  }
  return changed;
}

/**
 * Brings a (new or existing) new ReplicaSet's annotations up to date: the Deployment's own
 * annotations, the revision raised to `newRevision` (the old number appended to
 * revision-history, capped at 2000 characters by dropping the oldest), and for a ReplicaSet
 * about to be created the desired/max replica annotations. True if anything changed.
 */
export function setNewReplicaSetAnnotations(d: Deployment, rs: ReplicaSet, newRevision: string, exists: boolean, maxHistory = MAX_REV_HISTORY_LENGTH): boolean {
  let changed = copyDeploymentAnnotations(d, rs);
  rs.metadata ??= {};
  const a = (rs.metadata.annotations ??= {});
  const oldRevision = a[REVISION_ANNOTATION] ?? "";
  let oldInt = 0;
  if (oldRevision !== "") {
    if (!/^\d+$/.test(oldRevision)) return false;
    oldInt = Number(oldRevision);
  }
  if (!/^\d+$/.test(newRevision)) return false;
  const newInt = Number(newRevision);
  if (oldInt < newInt) {
    a[REVISION_ANNOTATION] = newRevision;
    changed = true;
  }
  if (oldRevision !== "" && oldInt < newInt) {
    const history = a[REVISION_HISTORY_ANNOTATION] ?? "";
    let old = history.split(",");
    if (old[0] === "") a[REVISION_HISTORY_ANNOTATION] = oldRevision;
    else {
      let total = history.length + oldRevision.length + 1;
      let start = 0;
      while (total > maxHistory && start < old.length) {
        total -= old[start]!.length + 1;
        start++;
      }
      if (total <= maxHistory) {
        old = [...old.slice(start), oldRevision];
        a[REVISION_HISTORY_ANNOTATION] = old.join(",");
      }
    }
  }
  if (!exists && setReplicasAnnotations(rs, replicasOf(d as RD), replicasOf(d as RD) + maxSurge(d as RD))) changed = true;
  return changed;
}

/** The revision asked for by the deprecated rollback annotation (0: the previous one), if any. */
export function rollbackTo(d: Deployment | RD): number | undefined {
  const v = d.metadata?.annotations?.[ROLLBACK_TO_ANNOTATION];
  if (v === undefined || v === "" || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

/** Serves the deprecated rollback annotation, then clears it with an update of the Deployment. */
export async function rollback(s: DeploymentSyncer, d: Deployment, rsList: RRS[]): Promise<void> {
  const { newRS, oldRSs } = await s.getAllReplicaSetsAndSyncRevision(d, rsList, true);
  const allRSs = [...oldRSs, ...(newRS ? [newRS] : [])];
  let target = rollbackTo(d) ?? 0;
  if (target === 0) {
    target = lastRevision(allRSs);
    if (target === 0) {
      s.event(d, "Warning", "DeploymentRollbackRevisionNotFound", "Unable to find last revision.");
      await clearRollbackTo(s, d);
      return;
    }
  }
  const rs = allRSs.find((x) => revisionOf(x) === target);
  if (!rs) {
    s.event(d, "Warning", "DeploymentRollbackRevisionNotFound", "Unable to find the revision to rollback to.");
    await clearRollbackTo(s, d);
    return;
  }
  if (equalIgnoreHash(d.spec?.template, rs.spec?.template)) {
    s.event(d, "Warning", "DeploymentRollbackTemplateUnchanged", `The rollback revision contains the same template as current deployment "${d.metadata?.name ?? ""}"`);
    await clearRollbackTo(s, d);
    return;
  }
  const template = mutableCopy<NonNullable<NonNullable<ReplicaSet["spec"]>["template"]>>(rs.spec!.template!);
  if (template.metadata?.labels) delete template.metadata.labels[POD_TEMPLATE_HASH_LABEL];
  d.spec = { ...d.spec!, template };
  // The ReplicaSet's annotations come back too, or the current ones (change-cause) would be copied onto it.
  const kept = Object.fromEntries(Object.entries(d.metadata?.annotations ?? {}).filter(([k]) => skipCopyAnnotation(k)));
  for (const [k, v] of Object.entries(rs.metadata?.annotations ?? {})) if (!skipCopyAnnotation(k)) kept[k] = v;
  d.metadata = { ...d.metadata, annotations: kept };
  await clearRollbackTo(s, d);
  s.event(d, "Normal", "DeploymentRollback", `Rolled back deployment "${d.metadata?.name ?? ""}" to revision ${target}`);
}

async function clearRollbackTo(s: DeploymentSyncer, d: Deployment): Promise<void> {
  if (d.metadata?.annotations) delete d.metadata.annotations[ROLLBACK_TO_ANNOTATION];
  await s.deployments.namespace(d.metadata?.namespace ?? "").update(d);
}
