// One reconcile of a Deployment (upstream syncDeployment and sync.go): claim ReplicaSets,
// find or create the new one (named <deployment>-<pod-template-hash>), then either only
// scale (paused, or the Deployment was resized) or roll out with the Deployment's strategy,
// and write the status. Reads come from listers; writes go through the Api interface.
import type { Deployment, DeploymentStatus, ReplicaSet } from "kubernetes-types/apps/v1.js";
import type { PodTemplateSpec } from "kubernetes-types/core/v1.js";
import { LabelSelectorError, labelSelectorAsSelector, type Selector } from "../../api/labels.js";
import type { Clock } from "../../client/clock.js";
import { isAlreadyExists, isNamespaceTerminating, isNotFound } from "../../client/errors.js";
import { mutableCopy, type KubeObject } from "../../client/objects.js";
import type { Logger } from "../../util/log.js";
import type { EventSink } from "../context.js";
import { adoptPatch, claimObjects, controllerRefFor, releasePatch } from "../replicaset/claim.js";
import { WorkloadError } from "../replicaset/errors.js";
import { controllerRefOf, type RPod } from "../replicaset/podutil.js";
import type { Api, ResourceApi } from "../api.js";
import { calculateStatus } from "./progress.js";
import { rolloutRecreate } from "./recreate.js";
import { rollback, rollbackTo, setNewReplicaSetAnnotations } from "./rollback.js";
import { rolloutRolling } from "./rolling.js";
import {
  POD_TEMPLATE_HASH_LABEL,
  REVISION_ANNOTATION,
  bySizeNewer,
  bySizeOlder,
  byRevision,
  canonicalJson,
  cloneSelectorAndAddLabel,
  computeHash,
  desiredReplicasAnnotation,
  filterActive,
  findActiveOrLatest,
  findNewReplicaSet,
  findOldReplicaSets,
  getCondition,
  hasProgressDeadline,
  isRollingUpdate,
  isSaturated,
  maxRevision,
  maxSurge,
  newCondition,
  newRSNewReplicas,
  proportion,
  replicasAnnotationsNeedUpdate,
  replicasOf,
  rsReplicas,
  setCondition,
  setReplicasAnnotations,
  specReplicas,
  statusEqual,
  type RD,
  type RRS,
} from "./util.js";

export interface DeploymentCaches {
  deployment(key: string): RD | undefined;
  deployments(namespace: string): readonly RD[];
  replicaSets(namespace: string): readonly RRS[];
  pods(namespace: string): readonly RPod[];
}

export interface DeploymentSyncDeps {
  readonly caches: DeploymentCaches;
  readonly api: Api;
  readonly events: EventSink;
  readonly clock: Clock;
  readonly log: Logger;
  /** Asks for another sync of the key after `ms` (the queue's addAfter). */
  readonly enqueueAfter: (key: string, ms: number) => void;
  /** Asks for another sync with backoff (the queue's addRateLimited). */
  readonly enqueueRateLimited: (key: string) => void;
}

/** Pods of the Deployment's ReplicaSets, by ReplicaSet uid (what Recreate waits on). */
export type PodMap = ReadonlyMap<string, readonly RPod[]>;

export class DeploymentSyncer {
  readonly deployments: ResourceApi<Deployment>;
  readonly replicaSets: ResourceApi<ReplicaSet>;

  constructor(readonly deps: DeploymentSyncDeps) {
    this.deployments = deps.api.resource<Deployment>("apps", "v1", "deployments", { namespaced: true, kind: "Deployment" });
    this.replicaSets = deps.api.resource<ReplicaSet>("apps", "v1", "replicasets", { namespaced: true, kind: "ReplicaSet" });
  }

  now(): number {
    return this.deps.clock.now();
  }

  async sync(key: string, log: Logger = this.deps.log): Promise<void> {
    const cached = this.deps.caches.deployment(key);
    if (!cached) return;
    const d = workingCopy(cached);
    if (canonicalJson(d.spec?.selector ?? {}) === "{}") {
      this.event(d, "Warning", "SelectingAll", "This deployment is selecting all pods. A non-empty selector is required.");
      if ((d.status?.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) {
        d.status = { ...(d.status ?? {}), observedGeneration: d.metadata?.generation ?? 0 };
        await this.writeStatus(d);
      }
      return;
    }
    let selector: Selector;
    try {
      selector = labelSelectorAsSelector(d.spec?.selector as Parameters<typeof labelSelectorAsSelector>[0]);
    } catch (err) {
      if (!(err instanceof LabelSelectorError)) throw err;
      // Validation keeps such selectors out; retrying cannot help, the next update re-queues.
      log.error({ err: new WorkloadError("InvalidSelector", err.message, { cause: err }) }, "cannot convert the selector");
      return;
    }
    const rsList = await this.claimReplicaSets(d, selector);
    if (d.metadata?.deletionTimestamp) {
      await this.syncStatusOnly(d, rsList);
      return;
    }
    await this.checkPausedConditions(d);
    if (d.spec?.paused) {
      await this.scaleOnly(d, rsList);
      return;
    }
    if (rollbackTo(d) !== undefined) {
      await rollback(this, d, rsList);
      return;
    }
    if (await this.isScalingEvent(d, rsList)) {
      await this.scaleOnly(d, rsList);
      return;
    }
    const type = d.spec?.strategy?.type ?? "RollingUpdate";
    if (type === "Recreate") await rolloutRecreate(this, d, rsList, this.podMap(d, selector, rsList));
    else if (type === "RollingUpdate") await rolloutRolling(this, d, rsList);
    else log.error({ strategy: type }, "unexpected deployment strategy type");
  }

  /** The Deployment as an event's subject. */
  event(d: Deployment, type: "Normal" | "Warning", reason: string, message: string): void {
    this.deps.events.event({ apiVersion: "apps/v1", kind: "Deployment", metadata: d.metadata ?? {} } as KubeObject, type, reason, message);
  }

  keyOf(d: Deployment | RD): string {
    return `${d.metadata?.namespace ?? ""}/${d.metadata?.name ?? ""}`;
  }

  private owner(d: Deployment): { apiVersion: string; kind: string; metadata?: Deployment["metadata"] } {
    return { apiVersion: "apps/v1", kind: "Deployment", metadata: d.metadata };
  }

  /** ReplicaSets the Deployment controls, after adopting matching orphans and releasing strays. */
  private async claimReplicaSets(d: Deployment, selector: Selector): Promise<RRS[]> {
    const ns = d.metadata?.namespace ?? "";
    const rsApi = this.replicaSets.namespace(ns);
    const { claimed, errors } = await claimObjects<ReplicaSet>(this.owner(d), selector, this.deps.caches.replicaSets(ns), {
      canAdopt: async () => {
        const fresh = await this.deployments.namespace(ns).get(d.metadata?.name ?? "");
        if (fresh.metadata?.uid !== d.metadata?.uid) throw new WorkloadError("CannotAdopt", `original Deployment ${this.keyOf(d)} is gone: got uid ${fresh.metadata?.uid ?? ""}, wanted ${d.metadata?.uid ?? ""}`);
        if (fresh.metadata?.deletionTimestamp) throw new WorkloadError("CannotAdopt", `Deployment ${this.keyOf(d)} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
      },
      adopt: (rs) => rsApi.patch(rs.metadata?.name ?? "", "strategic", adoptPatch(this.owner(d), rs.metadata?.uid ?? "")),
      release: (rs) => rsApi.patch(rs.metadata?.name ?? "", "strategic", releasePatch(d.metadata?.uid ?? "", rs.metadata?.uid ?? "")),
    });
    if (errors.length > 0) throw errors[0];
    return claimed;
  }

  private podMap(d: Deployment, selector: Selector, rsList: readonly RRS[]): PodMap {
    const map = new Map<string, RPod[]>();
    for (const rs of rsList) map.set(rs.metadata?.uid ?? "", []);
    for (const p of this.deps.caches.pods(d.metadata?.namespace ?? "")) {
      if (!selector.matches(p.metadata?.labels)) continue;
      const ref = controllerRefOf(p);
      if (ref) map.get(ref.uid)?.push(p);
    }
    return map;
  }

  // ---- writes that keep the working copy current ----------------------------------------

  /** Writes d.status; the working copy takes the answer's resourceVersion and status. */
  async writeStatus(d: Deployment): Promise<void> {
    const out = await this.deployments.namespace(d.metadata?.namespace ?? "").updateStatus(d);
    this.take(d, out);
  }

  private take(d: Deployment, out: Deployment): void {
    d.metadata = { ...d.metadata, resourceVersion: out.metadata?.resourceVersion, annotations: out.metadata?.annotations ?? {} } as Deployment["metadata"];
    if (!out.metadata?.annotations) delete d.metadata!.annotations;
    (d as { status?: DeploymentStatus }).status = out.status ?? {};
  }

  /**
   * The Deployment's own revision annotation. Upstream writes it with the status (the
   * Deployment status strategy keeps annotation changes); a merge patch on the object, with
   * its resourceVersion as precondition, works whatever the server's /status does with
   * metadata.
   */
  async setDeploymentRevision(d: Deployment, revision: string): Promise<void> {
    if (d.metadata?.annotations?.[REVISION_ANNOTATION] === revision) return;
    const out = await this.deployments
      .namespace(d.metadata?.namespace ?? "")
      .patch(d.metadata?.name ?? "", "merge", { metadata: { resourceVersion: d.metadata?.resourceVersion, annotations: { [REVISION_ANNOTATION]: revision } } });
    d.metadata = { ...d.metadata, resourceVersion: out.metadata?.resourceVersion, annotations: { ...(d.metadata?.annotations ?? {}), [REVISION_ANNOTATION]: revision } } as Deployment["metadata"];
  }

  // ---- the new ReplicaSet ---------------------------------------------------------------

  /**
   * The new ReplicaSet (see getNewReplicaSet) and all the others. `rsList` is the sync's
   * working list: a ReplicaSet updated here replaces its cached copy in it, so a second call
   * in the same sync does not write again from a stale copy.
   */
  async getAllReplicaSetsAndSyncRevision(d: Deployment, rsList: RRS[], createIfMissing: boolean): Promise<{ newRS: RRS | undefined; oldRSs: RRS[] }> {
    const { all } = findOldReplicaSets(d, rsList);
    const newRS = await this.getNewReplicaSet(d, rsList, all, createIfMissing);
    return { newRS, oldRSs: all };
  }

  /**
   * The ReplicaSet whose template is the Deployment's, with its revision brought up to date
   * (max of the old ones + 1: that is how a rollback to an old template reuses its
   * ReplicaSet and moves it to the top of `rollout history`); created when missing and
   * `createIfMissing`.
   */
  private async getNewReplicaSet(d: Deployment, rsList: RRS[], oldRSs: readonly RRS[], createIfMissing: boolean): Promise<RRS | undefined> {
    const existing = findNewReplicaSet(d, rsList);
    const newRevision = String(maxRevision(oldRSs) + 1);
    const ns = d.metadata?.namespace ?? "";
    if (existing) {
      // Only the annotations and spec.minReadySeconds may change: copy those, share the rest.
      const annotations = existing.metadata?.annotations;
      const copy = { ...existing, metadata: { ...existing.metadata, ...(annotations ? { annotations: { ...annotations } } : {}) } } as ReplicaSet;
      const annotationsUpdated = setNewReplicaSetAnnotations(d, copy, newRevision, true);
      const minReady = d.spec?.minReadySeconds ?? 0;
      if (annotationsUpdated || (copy.spec?.minReadySeconds ?? 0) !== minReady) {
        copy.spec = { ...copy.spec!, minReadySeconds: minReady };
        if (minReady === 0) delete copy.spec.minReadySeconds;
        const updated = await this.replicaSets.namespace(ns).update(copy);
        const i = rsList.findIndex((x) => x.metadata?.uid === updated.metadata?.uid);
        if (i >= 0) rsList[i] = updated;
        return updated;
      }
      await this.setDeploymentRevision(d, copy.metadata?.annotations?.[REVISION_ANNOTATION] ?? "");
      if (hasProgressDeadline(d) && !getCondition(d.status, "Progressing")) {
        d.status ??= {};
        setCondition(d.status, newCondition("Progressing", "True", "FoundNewReplicaSet", `Found new replica set "${copy.metadata?.name ?? ""}"`, this.now()));
        await this.writeStatus(d);
      }
      return existing;
    }
    if (!createIfMissing) return undefined;

    const template = structuredClone(d.spec?.template ?? {}) as NonNullable<ReplicaSet["spec"]>["template"] & object;
    const hash = computeHash(d.spec?.template, d.status?.collisionCount);
    template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash } };
    const rs: ReplicaSet = {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: {
        name: `${d.metadata?.name ?? ""}-${hash}`,
        namespace: ns,
        ownerReferences: [controllerRefFor(this.owner(d))],
        labels: { ...template.metadata.labels },
      },
      spec: {
        replicas: 0,
        ...(d.spec?.minReadySeconds ? { minReadySeconds: d.spec.minReadySeconds } : {}),
        selector: cloneSelectorAndAddLabel(d.spec?.selector, POD_TEMPLATE_HASH_LABEL, hash),
        template,
      },
    };
    const replicas = newRSNewReplicas(d, [...oldRSs, rs as RRS], rs as RRS);
    rs.spec!.replicas = replicas;
    setNewReplicaSetAnnotations(d, rs, newRevision, false);
    let created: RRS;
    let alreadyExisted = false;
    try {
      created = await this.replicaSets.namespace(ns).create(rs);
    } catch (err) {
      if (isAlreadyExists(err)) {
        const found = this.deps.caches.replicaSets(ns).find((x) => x.metadata?.name === rs.metadata!.name);
        if (!found) throw err;
        const ref = controllerRefOf(found);
        if (ref?.uid === d.metadata?.uid && ref !== undefined && equalTemplates(d, found)) {
          created = found;
          alreadyExisted = true;
        } else {
          // A ReplicaSet of another template holds our name: change the hash and come back.
          const before = d.status?.collisionCount ?? 0;
          d.status = { ...(d.status ?? {}), collisionCount: before + 1 };
          await this.writeStatus(d);
          this.deps.log.info({ deployment: this.keyOf(d), collisionCount: before + 1 }, "pod template hash collision; bumped collisionCount");
          throw new WorkloadError("HashCollision", `replica set ${rs.metadata!.name!} exists with another template; collisionCount is now ${before + 1}`, { cause: err });
        }
      } else if (isNamespaceTerminating(err)) {
        throw err;
      } else {
        const msg = `Failed to create new replica set "${rs.metadata!.name!}": ${err instanceof Error ? err.message : String(err)}`;
        if (hasProgressDeadline(d)) {
          d.status ??= {};
          setCondition(d.status, newCondition("Progressing", "False", "ReplicaSetCreateError", msg, this.now()));
          // The create failure is the news; a failure to record it changes nothing.
          await this.writeStatus(d).catch(() => undefined);
        }
        this.event(d, "Warning", "ReplicaSetCreateError", msg);
        throw err;
      }
    }
    if (!alreadyExisted && replicas > 0) this.event(d, "Normal", "ScalingReplicaSet", `Scaled up replica set ${created.metadata?.name ?? ""} from 0 to ${replicas}`);
    await this.setDeploymentRevision(d, newRevision);
    if (!alreadyExisted && hasProgressDeadline(d)) {
      d.status ??= {};
      setCondition(d.status, newCondition("Progressing", "True", "NewReplicaSetCreated", `Created new replica set "${created.metadata?.name ?? ""}"`, this.now()));
      await this.writeStatus(d);
    }
    return created;
  }

  // ---- scaling --------------------------------------------------------------------------

  /** Scales `rs` to `newScale` (and refreshes its desired/max annotations); records ScalingReplicaSet. */
  async scaleReplicaSet(rs: RRS, newScale: number, d: Deployment, operation: "up" | "down" | ""): Promise<{ scaled: boolean; rs: RRS }> {
    const want = replicasOf(d);
    const max = want + maxSurge(d);
    const sizeNeedsUpdate = rsReplicas(rs) !== newScale;
    if (!sizeNeedsUpdate && !replicasAnnotationsNeedUpdate(rs, want, max)) return { scaled: false, rs };
    const oldScale = rsReplicas(rs);
    const copy = mutableCopy<ReplicaSet>(rs);
    copy.spec = { ...copy.spec!, replicas: newScale };
    setReplicasAnnotations(copy, want, max);
    const updated = await this.replicaSets.namespace(rs.metadata?.namespace ?? "").update(copy);
    if (sizeNeedsUpdate) this.event(d, "Normal", "ScalingReplicaSet", `Scaled ${operation} replica set ${updated.metadata?.name ?? ""} from ${oldScale} to ${newScale}`);
    return { scaled: sizeNeedsUpdate, rs: updated };
  }

  async scaleReplicaSetAndRecordEvent(rs: RRS, newScale: number, d: Deployment): Promise<{ scaled: boolean; rs: RRS }> {
    if (rsReplicas(rs) === newScale) return { scaled: false, rs };
    return this.scaleReplicaSet(rs, newScale, d, rsReplicas(rs) < newScale ? "up" : "down");
  }

  /** Active ReplicaSets whose desired-replicas annotation is not the Deployment's size: it was resized. */
  private async isScalingEvent(d: Deployment, rsList: RRS[]): Promise<boolean> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, false);
    for (const rs of filterActive([...oldRSs, newRS])) {
      const desired = desiredReplicasAnnotation(rs);
      if (desired !== undefined && desired !== replicasOf(d)) return true;
    }
    return false;
  }

  /** Paused or resized: only scale, clean up (when paused) and report (upstream's sync). */
  private async scaleOnly(d: Deployment, rsList: RRS[]): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, false);
    await this.scale(d, newRS, oldRSs);
    if (d.spec?.paused && rollbackTo(d) === undefined) await this.cleanupDeployment(oldRSs, d);
    await this.syncDeploymentStatus([...oldRSs, newRS], newRS, d);
  }

  /**
   * Brings the total to spec.replicas (+ surge during a rollout). One active ReplicaSet
   * takes all; a saturated new one leaves the old ones at 0; otherwise the change is spread
   * over the active ReplicaSets in proportion to their sizes (proportional scaling), the
   * rounding leftover going to the largest.
   */
  async scale(d: Deployment, newRS: RRS | undefined, oldRSs: RRS[]): Promise<void> {
    const want = replicasOf(d);
    const only = findActiveOrLatest(newRS, oldRSs);
    if (only) {
      if (rsReplicas(only) === want) return;
      await this.scaleReplicaSetAndRecordEvent(only, want, d);
      return;
    }
    if (isSaturated(d, newRS)) {
      for (const old of filterActive(oldRSs)) await this.scaleReplicaSetAndRecordEvent(old, 0, d);
      return;
    }
    if (!isRollingUpdate(d)) return;
    const all = filterActive([...oldRSs, newRS]);
    const allowed = want > 0 ? want + maxSurge(d) : 0;
    const toAdd = allowed - specReplicas(all);
    let operation: "up" | "down" | "" = "";
    if (toAdd > 0) {
      all.sort(bySizeNewer);
      operation = "up";
    } else if (toAdd < 0) {
      all.sort(bySizeOlder);
      operation = "down";
    }
    let added = 0;
    const sizes = new Map<string, number>();
    for (const rs of all) {
      if (toAdd !== 0) {
        const p = proportion(rs, d, toAdd, added);
        sizes.set(rs.metadata?.name ?? "", rsReplicas(rs) + p);
        added += p;
      } else sizes.set(rs.metadata?.name ?? "", rsReplicas(rs));
    }
    for (let i = 0; i < all.length; i++) {
      const rs = all[i]!;
      const name = rs.metadata?.name ?? "";
      if (i === 0 && toAdd !== 0) sizes.set(name, Math.max(0, sizes.get(name)! + (toAdd - added)));
      await this.scaleReplicaSet(rs, sizes.get(name)!, d, operation);
    }
  }

  // ---- cleanup and status ---------------------------------------------------------------

  /**
   * Deletes the oldest revisions beyond revisionHistoryLimit, only those that are fully
   * scaled down, have observed their spec and are not already being deleted.
   */
  async cleanupDeployment(oldRSs: readonly RRS[], d: Deployment): Promise<void> {
    const limit = d.spec?.revisionHistoryLimit;
    if (limit === undefined) return;
    const alive = oldRSs.filter((rs) => !rs.metadata?.deletionTimestamp);
    const diff = alive.length - limit;
    if (diff <= 0) return;
    alive.sort(byRevision);
    for (let i = 0; i < diff; i++) {
      const rs = alive[i]!;
      if ((rs.status?.replicas ?? 0) !== 0 || rsReplicas(rs) !== 0 || (rs.metadata?.generation ?? 0) > (rs.status?.observedGeneration ?? 0) || rs.metadata?.deletionTimestamp) continue;
      try {
        await this.replicaSets.namespace(rs.metadata?.namespace ?? "").delete(rs.metadata?.name ?? "");
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  /** Writes the counts (no progress estimate): for paused, resized and deleting Deployments. */
  async syncDeploymentStatus(allRSs: readonly (RRS | undefined)[], newRS: RRS | undefined, d: Deployment): Promise<void> {
    const status = calculateStatus(allRSs, newRS, d, this.now());
    if (statusEqual(d.status, status)) return;
    d.status = status;
    await this.writeStatus(d);
  }

  private async syncStatusOnly(d: Deployment, rsList: RRS[]): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, false);
    await this.syncDeploymentStatus([...oldRSs, newRS], newRS, d);
  }

  /**
   * Progressing is Unknown with reason DeploymentPaused while paused, and DeploymentResumed
   * right after, so that the time spent paused never counts against progressDeadlineSeconds.
   */
  private async checkPausedConditions(d: Deployment): Promise<void> {
    if (!hasProgressDeadline(d)) return;
    const cond = getCondition(d.status, "Progressing");
    if (cond?.reason === "ProgressDeadlineExceeded") return;
    const pausedCondExists = cond?.reason === "DeploymentPaused";
    d.status ??= {};
    if (d.spec?.paused && !pausedCondExists) setCondition(d.status, newCondition("Progressing", "Unknown", "DeploymentPaused", "Deployment is paused", this.now()));
    else if (!d.spec?.paused && pausedCondExists) setCondition(d.status, newCondition("Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed", this.now()));
    else return;
    await this.writeStatus(d);
  }
}

/**
 * A private copy of the Deployment to work on that shares the cached (frozen) pod template.
 * The template is only ever replaced whole (a rollback), never changed in place; shared, it
 * keeps its canonical form cached across the sync's several template comparisons and is not
 * deep-copied on every sync.
 */
function workingCopy(cached: RD): Deployment {
  if (!cached.spec?.template) return mutableCopy<Deployment>(cached);
  const { template, ...spec } = cached.spec;
  const copy = mutableCopy<Deployment>({ ...cached, spec } as RD);
  copy.spec!.template = template as PodTemplateSpec;
  return copy;
}

function equalTemplates(d: Deployment, rs: RRS): boolean {
  return findNewReplicaSet(d, [rs]) !== undefined;
}
