// One reconcile of a StatefulSet, as upstream's sync + defaultStatefulSetControl.UpdateStatefulSet:
// adopt orphan revisions, claim the member pods, find the current and update revisions, then
// lay the pods out by ordinal: every missing one in range is created (with its claims first),
// finished ones deleted to be recreated, those out of range deleted from the highest ordinal
// down; OrderedReady does each step only once every lower ordinal is Running, Ready and
// available, Parallel does them all at once. Then the rolling update deletes the highest pod
// not on the update revision (down to the partition) for the next sync to recreate, the
// status is written if it changed and the history trimmed. Reads come from listers; every
// write goes through the Api interface.
import type { StatefulSet, StatefulSetStatus } from "kubernetes-types/apps/v1.js";
import type { PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1.js";
import { LabelSelectorError, labelSelectorAsSelector, type Selector } from "../../api/labels.js";
import type { Clock } from "../../client/clock.js";
import { isAlreadyExists, isNotFound } from "../../client/errors.js";
import { keyOf, type DeepReadonly, type KubeObject } from "../../client/objects.js";
import type { Logger } from "../../util/log.js";
import type { Api, ResourceApi } from "../api.js";
import type { EventSink } from "../context.js";
import { adoptPatch, claimObjects, releasePatch } from "../replicaset/claim.js";
import { WorkloadError } from "../replicaset/errors.js";
import { controllerRefOf, type RPod } from "../replicaset/podutil.js";
import { slowStartBatch, SLOW_START_INITIAL_BATCH } from "../replicaset/sync.js";
import type { RRevision } from "../history/history.js";
import { StatefulSetError } from "./errors.js";
import { claimIsStaleForPod, claimOwnerRefs, isClaimOwnerUpToDate } from "./retention.js";
import { revisionTemplate, StatefulSetHistory, type SetRevisions } from "./revisions.js";
import { computeStatus, completeRollingUpdate, statusChanged } from "./status.js";
import {
  allowsBurst,
  applyIdentity,
  applyStorage,
  claimsFor,
  identityMatches,
  inOrdinalRange,
  isCreated,
  isHealthy,
  isMemberOf,
  isRunningAndAvailable,
  isRunningAndReady,
  isTerminating,
  newStatefulPod,
  ordinalOf,
  podRevision,
  replicasOf,
  retentionPolicy,
  setOwner,
  startOrdinal,
  storageMatches,
  STATEFULSET_API_VERSION,
  STATEFULSET_KIND,
  type RClaim,
  type RSet,
} from "./util.js";

/** The read side: what the controller needs of its caches. */
export interface StatefulSetCaches {
  statefulSet(key: string): RSet | undefined;
  statefulSets(namespace?: string): readonly RSet[];
  /** The pods of a namespace a set with this uid may claim: its own and the orphans. */
  claimable(namespace: string, ownerUid: string): readonly RPod[];
  revisions(namespace: string): readonly RRevision[];
  claim(namespace: string, name: string): RClaim | undefined;
}

export interface StatefulSetSyncDeps {
  readonly caches: StatefulSetCaches;
  readonly api: Api;
  readonly events: EventSink;
  readonly clock: Clock;
  readonly enqueueAfter: (key: string, ms: number) => void;
  readonly log: Logger;
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function capitalized(verb: string): string {
  return verb.charAt(0).toUpperCase() + verb.slice(1);
}

export class StatefulSetSyncer {
  private readonly setApi: ResourceApi<StatefulSet>;
  private readonly podApi: ResourceApi<Pod>;
  private readonly claimApi: ResourceApi<PersistentVolumeClaim>;
  private readonly history: StatefulSetHistory;

  constructor(private readonly d: StatefulSetSyncDeps) {
    this.setApi = d.api.resource<StatefulSet>("apps", "v1", "statefulsets", { namespaced: true, kind: STATEFULSET_KIND });
    this.podApi = d.api.resource<Pod>("", "v1", "pods", { namespaced: true, kind: "Pod" });
    this.claimApi = d.api.resource<PersistentVolumeClaim>("", "v1", "persistentvolumeclaims", { namespaced: true, kind: "PersistentVolumeClaim" });
    this.history = new StatefulSetHistory(d.api, (ns) => d.caches.revisions(ns));
  }

  async sync(key: string, log: Logger = this.d.log): Promise<void> {
    const set = this.d.caches.statefulSet(key);
    if (!set) return;
    let selector: Selector;
    try {
      selector = labelSelectorAsSelector(set.spec?.selector as Parameters<typeof labelSelectorAsSelector>[0]);
    } catch (err) {
      // Not transient: the next update of the set re-queues it.
      if (err instanceof LabelSelectorError) {
        log.error({ err }, "cannot convert the selector");
        return;
      }
      throw err;
    }
    await this.history.adoptOrphans(set, () => this.canAdopt(set));
    const pods = await this.claimPods(set, selector);
    const status = await this.updateStatefulSet(set, pods, log);
    // Pods turn available minReadySeconds after turning ready, and no event says so.
    const minReady = set.spec?.minReadySeconds ?? 0;
    if (minReady > 0 && status.availableReplicas !== replicasOf(set)) this.d.enqueueAfter(key, minReady * 1000);
  }

  private async canAdopt(set: RSet): Promise<void> {
    const fresh = await this.setApi.namespace(set.metadata?.namespace ?? "").get(set.metadata?.name ?? "");
    const key = keyOf(set as DeepReadonly<KubeObject>);
    if (fresh.metadata?.uid !== set.metadata?.uid) throw new WorkloadError("CannotAdopt", `original StatefulSet ${key} is gone: got uid ${fresh.metadata?.uid ?? ""}, wanted ${set.metadata?.uid ?? ""}`);
    if (fresh.metadata?.deletionTimestamp) throw new WorkloadError("CannotAdopt", `StatefulSet ${key} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
  }

  /**
   * The member pods the set controls (upstream getPodsForStatefulSet): a pod is claimed only
   * if the selector matches and its name is `<set>-<n>`; one of ours that stops being either
   * is released.
   */
  private async claimPods(set: RSet, selector: Selector): Promise<RPod[]> {
    const ns = set.metadata?.namespace ?? "";
    const uid = set.metadata?.uid ?? "";
    const owner = setOwner(set);
    const pods = this.podApi.namespace(ns);
    const release = (p: RPod): Promise<Pod> => pods.patch(p.metadata?.name ?? "", "strategic", releasePatch(uid, p.metadata?.uid ?? ""));
    const candidates = this.d.caches.claimable(ns, uid);
    const errors: unknown[] = [];
    if (!set.metadata?.deletionTimestamp) {
      for (const p of candidates) {
        if (isMemberOf(set, p) || controllerRefOf(p)?.uid !== uid) continue;
        try {
          await release(p);
        } catch (err) {
          if (!isNotFound(err)) errors.push(err);
        }
      }
    }
    const claim = await claimObjects<Pod>(
      owner,
      selector,
      candidates.filter((p) => isMemberOf(set, p)),
      { canAdopt: () => this.canAdopt(set), adopt: (p) => pods.patch(p.metadata?.name ?? "", "strategic", adoptPatch(owner, p.metadata?.uid ?? "")), release },
    );
    errors.push(...claim.errors);
    if (errors.length > 0) throw errors[0];
    return claim.claimed;
  }

  /**
   * Revisions, pods, status and history (upstream UpdateStatefulSet/performUpdate): the status
   * is written even when the pod work failed, and the history is trimmed either way.
   */
  private async updateStatefulSet(set: RSet, pods: readonly RPod[], log: Logger): Promise<StatefulSetStatus> {
    const revisions = this.history.list(set);
    let revs: SetRevisions | undefined;
    let status: StatefulSetStatus = { replicas: 0 };
    let err: unknown;
    try {
      revs = await this.history.construct(set, revisions);
      const r = await this.reconcilePods(set, revs, pods, log);
      status = r.status;
      err = r.error;
      try {
        await this.updateStatus(set, status);
      } catch (statusErr) {
        if (err === undefined) err = statusErr;
        else log.error({ err: statusErr }, "failed to update status");
      }
    } catch (e) {
      err = e;
    }
    try {
      await this.history.truncate(set, pods, revisions, revs?.current, revs?.update);
    } catch (e) {
      if (err === undefined) err = e;
      else log.error({ err: e }, "failed to trim the revision history");
    }
    if (err !== undefined) throw err;
    return status;
  }

  /** Upstream updateStatefulSet: returns the status of what it saw and did, and the error that stopped it, if any. */
  private async reconcilePods(set: RSet, revs: SetRevisions, pods: readonly RPod[], log: Logger): Promise<{ status: StatefulSetStatus; error?: unknown }> {
    const { current, update } = revs;
    const minReady = set.spec?.minReadySeconds ?? 0;
    const start = startOrdinal(set);
    const count = replicasOf(set);
    const slots: (RPod | undefined)[] = new Array<RPod | undefined>(count).fill(undefined);
    const condemned: RPod[] = [];
    for (const p of pods) {
      const ordinal = ordinalOf(p);
      if (inOrdinalRange(p, set)) slots[ordinal - start] = p;
      else if (ordinal >= 0) condemned.push(p);
    }
    // A missing pod is made from the current revision below the partition (so a rollout held
    // at a partition does not spread through recreated pods), else from the update revision.
    const rolling = set.spec?.updateStrategy?.type !== "OnDelete";
    const rollingUpdate = set.spec?.updateStrategy?.rollingUpdate;
    const partition = rollingUpdate?.partition ?? 0;
    // Without rollingUpdate (never, once the API server defaulted it) upstream keeps the first
    // status.currentReplicas ordinals on the current revision instead.
    const keepCurrent = !rolling ? 0 : rollingUpdate ? partition : (set.status?.currentReplicas ?? 0);
    const replicas: RPod[] = slots.map((p, i) => {
      if (p) return p;
      const rev = i < keepCurrent ? current : update;
      return newStatefulPod(set, revisionTemplate(rev), start + i, rev.metadata?.name ?? "");
    });
    condemned.sort((a, b) => ordinalOf(b) - ordinalOf(a));

    const now = this.d.clock.now();
    let firstUnhealthy: RPod | undefined = replicas.find((p) => !isHealthy(p));
    for (let i = condemned.length - 1; i >= 0 && !firstUnhealthy; i--) if (!isHealthy(condemned[i]!)) firstUnhealthy = condemned[i];
    if (firstUnhealthy) log.debug({ pod: firstUnhealthy.metadata?.name }, "StatefulSet has an unhealthy pod");

    const status = (): StatefulSetStatus => ({
      observedGeneration: set.metadata?.generation ?? 0,
      currentRevision: current.metadata?.name ?? "",
      updateRevision: update.metadata?.name ?? "",
      collisionCount: revs.collisionCount,
      ...computeStatus([...replicas, ...condemned], minReady, current.metadata?.name ?? "", update.metadata?.name ?? "", this.d.clock.now()),
    });
    // Being deleted: the garbage collector takes the pods; only the status is kept right.
    if (set.metadata?.deletionTimestamp) return { status: status() };
    const monotonic = !allowsBurst(set);
    try {
      if (await this.runForAll(replicas.length, (i) => this.processReplica(set, monotonic, replicas, i, now), monotonic)) return { status: status() };
      const fixClaims = async (i: number): Promise<boolean> => {
        if (!this.claimsMatchRetention(set, condemned[i]!)) await this.updateClaimsForRetention(set, condemned[i]!);
        return false;
      };
      if (await this.runForAll(condemned.length, fixClaims, monotonic)) return { status: status() };
      // In monotonic mode every replica is now Running, Ready and available: scale down, from
      // the highest ordinal, one at a time. Scaling goes before updates.
      if (await this.runForAll(condemned.length, (i) => this.processCondemned(set, firstUnhealthy, monotonic, condemned, i, now), monotonic)) return { status: status() };
    } catch (error) {
      return { status: status(), error };
    }
    const s = status();
    // OnDelete: pods are replaced only when a user deletes them.
    if (!rolling) return { status: s };
    // Delete the highest pod not on the update revision, down to the partition; the next sync
    // recreates it. A pod that is not healthy holds the rollout.
    for (let target = replicas.length - 1; target >= partition; target--) {
      const p = replicas[target]!;
      if (podRevision(p) !== update.metadata?.name && !isTerminating(p)) {
        log.info({ pod: p.metadata?.name, currentRevision: current.metadata?.name, updateRevision: update.metadata?.name }, "pod of StatefulSet is terminating for update");
        try {
          await this.deletePod(set, p);
        } catch (error) {
          if (!isNotFound(error)) return { status: s, error };
        }
        s.currentReplicas = (s.currentReplicas ?? 0) - 1;
        return { status: s };
      }
      if (!isHealthy(p)) {
        log.debug({ pod: p.metadata?.name }, "StatefulSet is waiting for pod to update");
        return { status: s };
      }
    }
    return { status: s };
  }

  /**
   * Runs `fn` over `count` items (upstream runForAll): in order, stopping at the first that
   * says so, in monotonic mode; otherwise all, in slow-start batches. True means stop here.
   */
  private async runForAll(count: number, fn: (i: number) => Promise<boolean>, monotonic: boolean): Promise<boolean> {
    if (monotonic) {
      for (let i = 0; i < count; i++) if (await fn(i)) return true;
      return false;
    }
    let next = 0;
    const { error } = await slowStartBatch(count, SLOW_START_INITIAL_BATCH, async () => {
      await fn(next++);
    });
    if (error !== undefined) throw error;
    return false;
  }

  /** One ordinal in range (upstream processReplica); true when the caller must go no further this sync. */
  private async processReplica(set: RSet, monotonic: boolean, replicas: readonly RPod[], i: number, now: number): Promise<boolean> {
    const pod = replicas[i]!;
    const phase = pod.status?.phase;
    if (phase === "Failed" || phase === "Succeeded") {
      // Deleted here and recreated by a later sync once it is gone: a StatefulSet pod's name is its identity.
      if (!isTerminating(pod)) {
        const ns = set.metadata?.namespace ?? "";
        if (phase === "Failed") this.d.events.event(this.eventTarget(set), "Warning", "RecreatingFailedPod", `StatefulSet ${ns}/${set.metadata?.name ?? ""} is recreating failed Pod ${pod.metadata?.name ?? ""}`);
        else this.d.events.event(this.eventTarget(set), "Normal", "RecreatingTerminatedPod", `StatefulSet ${ns}/${set.metadata?.name ?? ""} is recreating terminated Pod ${pod.metadata?.name ?? ""}`);
        await this.deletePod(set, pod);
      }
      return true;
    }
    if (!isCreated(pod)) {
      // A claim still owned by the previous pod of this name is about to be collected with it.
      if (this.podClaimIsStale(set, pod)) return true;
      await this.createPod(set, pod as Pod);
      return monotonic;
    }
    if (phase === "Pending") await this.createMissingClaims(set, pod);
    if (!monotonic) return this.fixPod(set, pod);
    if (isTerminating(pod) || !isRunningAndReady(pod) || !isRunningAndAvailable(pod, set.spec?.minReadySeconds ?? 0, now)) return true;
    return this.fixPod(set, pod);
  }

  /** Enforces the pod's identity, storage and claim ownership (the StatefulSet invariants). */
  private async fixPod(set: RSet, pod: RPod): Promise<boolean> {
    if (identityMatches(set, pod) && storageMatches(set, pod) && this.claimsMatchRetention(set, pod)) return false;
    await this.updatePod(set, pod);
    return false;
  }

  /** One ordinal out of range (upstream processCondemned); deletes it when its turn has come. */
  private async processCondemned(set: RSet, firstUnhealthy: RPod | undefined, monotonic: boolean, condemned: readonly RPod[], i: number, now: number): Promise<boolean> {
    const pod = condemned[i]!;
    // Monotonic: wait for a pod being deleted to be gone before the next.
    if (isTerminating(pod)) return monotonic;
    // Monotonic: only the first unhealthy pod may go while it is unhealthy, never another one.
    if (monotonic && pod !== firstUnhealthy && (!isRunningAndReady(pod) || !isRunningAndAvailable(pod, set.spec?.minReadySeconds ?? 0, now))) return true;
    this.d.log.info({ pod: pod.metadata?.name }, "pod of StatefulSet is terminating for scale down");
    await this.deletePod(set, pod);
    return true;
  }

  // ---- pods and claims (upstream StatefulPodControl) ----

  /** Creates the pod's claims, then the pod, then sets the claims' owners as far as possible (upstream CreateStatefulPod). */
  private async createPod(set: RSet, pod: Pod): Promise<void> {
    try {
      await this.createClaims(set, pod);
    } catch (err) {
      this.podEvent(set, pod, "create", err);
      throw err;
    }
    try {
      await this.podApi.namespace(set.metadata?.namespace ?? "").create(pod);
    } catch (err) {
      // An earlier sync created it and the cache has not shown it yet: retried, not reported.
      if (!isAlreadyExists(err)) this.podEvent(set, pod, "create", err);
      throw err;
    }
    try {
      await this.updateClaimsForRetention(set, pod);
    } catch (err) {
      this.podEvent(set, pod, "update", err);
      throw err;
    }
    this.podEvent(set, pod, "create");
  }

  /** Creates each of the pod's claims the cache does not have (upstream createPersistentVolumeClaims). */
  private async createClaims(set: RSet, pod: RPod): Promise<void> {
    const ns = set.metadata?.namespace ?? "";
    const errors: unknown[] = [];
    for (const { claim } of claimsFor(set, ordinalOf(pod))) {
      const name = claim.metadata?.name ?? "";
      const cached = this.d.caches.claim(ns, name);
      if (cached) {
        if (cached.metadata?.deletionTimestamp) errors.push(new StatefulSetError("ClaimTerminating", `pvc ${name} is being deleted`));
        continue;
      }
      try {
        await this.claimApi.namespace(ns).create(claim);
        this.claimEvent(set, pod, name);
      } catch (err) {
        if (!isAlreadyExists(err)) this.claimEvent(set, pod, name, err);
        errors.push(new StatefulSetError("ClaimCreate", `failed to create PVC ${name}: ${errMessage(err)}`, { cause: err }));
      }
    }
    if (errors.length > 0) throw errors[0];
  }

  /** A pending pod's claims may have been deleted under it: recreate them (upstream createMissingPersistentVolumeClaims). */
  private async createMissingClaims(set: RSet, pod: RPod): Promise<void> {
    await this.createClaims(set, pod);
    try {
      await this.updateClaimsForRetention(set, pod);
    } catch (err) {
      this.podEvent(set, pod, "update", err);
      throw err;
    }
  }

  private claimsMatchRetention(set: RSet, pod: RPod): boolean {
    const ns = set.metadata?.namespace ?? "";
    return claimsFor(set, ordinalOf(pod)).every(({ claim }) => {
      const cached = this.d.caches.claim(ns, claim.metadata?.name ?? "");
      // Not there yet: picked up by a later sync.
      return !cached || isClaimOwnerUpToDate(cached, set, pod);
    });
  }

  /** Rewrites the ownerReferences of the pod's claims that do not say the retention policy (upstream UpdatePodClaimForRetentionPolicy). */
  private async updateClaimsForRetention(set: RSet, pod: RPod): Promise<void> {
    const ns = set.metadata?.namespace ?? "";
    for (const { claim } of claimsFor(set, ordinalOf(pod))) {
      const cached = this.d.caches.claim(ns, claim.metadata?.name ?? "");
      if (!cached || isClaimOwnerUpToDate(cached, set, pod)) continue;
      const copy = structuredClone(cached) as PersistentVolumeClaim;
      copy.metadata = { ...copy.metadata, ownerReferences: claimOwnerRefs(cached, set, pod) };
      await this.claimApi.namespace(ns).update(copy);
    }
  }

  /** Whether a claim of the pod still belongs to an earlier pod of its name (upstream PodClaimIsStale); only whenScaled: Delete hands claims to pods. */
  private podClaimIsStale(set: RSet, pod: RPod): boolean {
    if (retentionPolicy(set).whenScaled === "Retain") return false;
    const ns = set.metadata?.namespace ?? "";
    return claimsFor(set, ordinalOf(pod)).some(({ claim }) => {
      const cached = this.d.caches.claim(ns, claim.metadata?.name ?? "");
      return cached !== undefined && claimIsStaleForPod(cached, pod);
    });
  }

  /** Fixes identity, storage and claim owners and writes the pod if anything changed (upstream UpdateStatefulPod). */
  private async updatePod(set: RSet, pod: RPod): Promise<void> {
    const copy = structuredClone(pod) as Pod;
    let consistent = true;
    if (!identityMatches(set, copy)) {
      applyIdentity(set, copy);
      consistent = false;
    }
    try {
      if (!storageMatches(set, copy)) {
        applyStorage(set, copy);
        consistent = false;
        await this.createClaims(set, copy);
      }
      if (!this.claimsMatchRetention(set, copy)) {
        await this.updateClaimsForRetention(set, copy);
        consistent = false;
      }
    } catch (err) {
      this.podEvent(set, copy, "update", err);
      throw err;
    }
    if (consistent) return;
    try {
      await this.podApi.namespace(set.metadata?.namespace ?? "").update(copy);
    } catch (err) {
      this.podEvent(set, copy, "update", err);
      throw err;
    }
    this.podEvent(set, copy, "update");
  }

  private async deletePod(set: RSet, pod: RPod): Promise<void> {
    try {
      await this.podApi.namespace(set.metadata?.namespace ?? "").delete(pod.metadata?.name ?? "");
    } catch (err) {
      this.podEvent(set, pod, "delete", err);
      throw err;
    }
    this.podEvent(set, pod, "delete");
  }

  /** Upstream recordPodEvent: "create Pod web-0 in StatefulSet web successful". */
  private podEvent(set: RSet, pod: RPod, verb: "create" | "update" | "delete", err?: unknown): void {
    const what = `${verb} Pod ${pod.metadata?.name ?? ""} in StatefulSet ${set.metadata?.name ?? ""}`;
    if (err === undefined) this.d.events.event(this.eventTarget(set), "Normal", `Successful${capitalized(verb)}`, `${what} successful`);
    else this.d.events.event(this.eventTarget(set), "Warning", `Failed${capitalized(verb)}`, `${what} failed error: ${errMessage(err)}`);
  }

  /** Upstream recordClaimEvent: "create Claim www-web-0 Pod web-0 in StatefulSet web success". */
  private claimEvent(set: RSet, pod: RPod, claim: string, err?: unknown): void {
    const p = pod.metadata?.name ?? "";
    const s = set.metadata?.name ?? "";
    if (err === undefined) this.d.events.event(this.eventTarget(set), "Normal", "SuccessfulCreate", `create Claim ${claim} Pod ${p} in StatefulSet ${s} success`);
    else this.d.events.event(this.eventTarget(set), "Warning", "FailedCreate", `create Claim ${claim} for Pod ${p} in StatefulSet ${s} failed error: ${errMessage(err)}`);
  }

  private eventTarget(set: RSet): KubeObject {
    const m = set.metadata;
    return { apiVersion: STATEFULSET_API_VERSION, kind: STATEFULSET_KIND, metadata: { name: m?.name, namespace: m?.namespace, uid: m?.uid, resourceVersion: m?.resourceVersion } };
  }

  /**
   * Completes a finished rollout (currentRevision becomes the update revision) and writes the
   * status if any field differs (upstream updateStatefulSetStatus); a failed write is retried
   * once on a fresh copy.
   */
  private async updateStatus(set: RSet, status: StatefulSetStatus): Promise<void> {
    completeRollingUpdate(set, status);
    if (!statusChanged(set, status)) return;
    const api = this.setApi.namespace(set.metadata?.namespace ?? "");
    const withStatus = (s: DeepReadonly<StatefulSetStatus> | undefined): StatefulSetStatus => ({ ...(s?.conditions ? { conditions: structuredClone(s.conditions) as StatefulSetStatus["conditions"] } : {}), ...status });
    try {
      await api.updateStatus({ ...set, status: withStatus(set.status) } as StatefulSet);
    } catch (err) {
      const fresh = await api.get(set.metadata?.name ?? "");
      if (fresh.metadata?.uid !== set.metadata?.uid) throw err;
      await api.updateStatus({ ...fresh, status: withStatus(fresh.status) });
    }
  }
}
