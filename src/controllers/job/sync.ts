// One reconcile of a Job, as upstream's syncJob (pkg/controller/job) with the features 1.32
// enables by default (JobPodReplacementPolicy, JobManagedBy, JobSuccessPolicy,
// JobBackoffLimitPerIndex, and the GA JobPodFailurePolicy):
//  - pods are tracked through the `batch.kubernetes.io/job-tracking` finalizer: a pod that
//    finished is first recorded in status.uncountedTerminatedPods, then loses the finalizer,
//    then moves into the succeeded/failed counters, so that no pod is counted twice or lost
//    even if the pod is deleted or the controller restarts in between;
//  - success (completions reached, a successPolicy rule met, or for a Job without completions
//    any pod succeeded) first sets SuccessCriteriaMet, failure (a podFailurePolicy FailJob
//    rule, backoffLimit exceeded, activeDeadlineSeconds passed, failed indexes)
//    FailureTarget; the remaining pods are deleted, and the terminal Complete or Failed
//    condition follows once none is left running or terminating;
//  - a failed pod's podFailurePolicy (podfailurepolicy.ts) decides whether its failure counts
//    (Ignore: not in status.failed nor towards any limit), fails the Job (FailJob) or its
//    index (FailIndex); with a policy only pods in phase Failed are failed, so a terminating
//    pod is neither counted nor replaced until it is;
//  - failed pods are replaced after an exponential backoff (10 s doubling, at most 6 min);
//    with backoffLimitPerIndex the backoff and the failure count are per index: the count
//    travels on the index's pods as annotations, an index past its limit is recorded in
//    status.failedIndexes and not retried, and the Job fails once every index is done and
//    one failed, or once more than maxFailedIndexes failed;
//  - suspend deletes the active pods and resets startTime; Indexed Jobs run one pod per
//    completion index and report status.completedIndexes.
// With restartPolicy OnFailure the container restarts of the active pods count towards
// backoffLimit too. Not done here: the adoption of orphan pods (Jobs' selectors are generated
// from their uid, so orphans are rare).
import type { EnvVar, Pod, PodSpec } from "kubernetes-types/core/v1.js";
import type { Job, JobCondition, JobStatus } from "kubernetes-types/batch/v1.js";
import type { Logger } from "../../util/log.js";
import type { Clock } from "../../client/clock.js";
import { isNamespaceTerminating, isNotFound } from "../../client/errors.js";
import { keyOf, mutableCopy, type DeepReadonly, type KubeObject } from "../../client/objects.js";
import { jsonEqual } from "../../util/json.js";
import { rfc3339 } from "../../util/time.js";
import type { EventSink } from "../context.js";
import type { Api, ResourceApi } from "../api.js";
import { controllerRefFor } from "../replicaset/claim.js";
import type { Expectations } from "../replicaset/expectations.js";
import { controllerRefOf, isPodReady, podsToDelete, timeOf, type RPod } from "../replicaset/podutil.js";
import { slowStartBatch } from "../replicaset/sync.js";
import {
  COMPLETION_INDEX_ANNOTATION,
  INDEX_FAILURE_COUNT_ANNOTATION,
  INDEX_IGNORED_FAILURE_COUNT_ANNOTATION,
  JOB_COMPLETION_INDEX_ENV,
  completionIndexOf,
  formatIndexes,
  indexAbsoluteFailureCount,
  indexFailureCount,
  indexIgnoredFailureCount,
  parseIndexes,
} from "./indexes.js";
import { matchPodFailurePolicy } from "./podfailurepolicy.js";
import { SUCCESS_POLICY_REASON, matchSuccessPolicy } from "./successpolicy.js";

export const JOB_TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking";
export const JOB_CONTROLLER_MANAGER = "kubernetes.io/job-controller";
/** Upstream's MaxPodCreateDeletePerSync. */
export const MAX_POD_CREATE_DELETE_PER_SYNC = 500;
/** Upstream's DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff. */
export const POD_FAILURE_BACKOFF_MS = 10_000;
export const MAX_POD_FAILURE_BACKOFF_MS = 6 * 60_000;

export type RJob = DeepReadonly<Job>;

/** The read side: the Job and the pods it controls, from the informers' caches. */
export interface JobCaches {
  job(key: string): RJob | undefined;
  /** A pod by `namespace/name`. */
  pod(key: string): RPod | undefined;
  /** Pods of `namespace` whose controllerRef has this uid. */
  pods(namespace: string, jobUid: string): readonly RPod[];
}

/** What manage needs of the sync's findings. */
interface ManageState {
  readonly completions: number | undefined;
  readonly indexed: boolean;
  readonly parallelism: number;
  readonly succeeded: number;
  readonly completed: ReadonlySet<number>;
  readonly terminating: number;
  readonly perIndex: boolean;
  readonly failedIndexes: ReadonlySet<number>;
  /** Per index, the failed pod its replacement inherits the failure counts from (backoffLimitPerIndex). */
  readonly delayed: ReadonlyMap<number, RPod>;
}

/** The failures of an index before its new pod, written on the pod with backoffLimitPerIndex. */
export interface IndexFailureCounts {
  readonly failed: number;
  readonly ignored: number;
}

/** Per Job: failures since its last success and when the last one happened (upstream's backoffRecord). */
interface BackoffRecord {
  failuresAfterLastSuccess: number;
  lastFailureAt: number;
}

export interface JobSyncDeps {
  readonly caches: JobCaches;
  readonly api: Api;
  readonly events: EventSink;
  readonly expectations: Expectations;
  /**
   * Uids of pods whose finalizer removal was sent but not yet seen in the cache, per Job key:
   * such a pod still looks unfinished-business in the cache and must not be counted again.
   */
  readonly finalizerRemovals: FinalizerRemovals;
  readonly clock: Clock;
  readonly enqueueAfter: (key: string, ms: number) => void;
  readonly log: Logger;
}

/** Pods whose tracking finalizer the controller removed, until the cache shows it gone. */
export class FinalizerRemovals {
  private readonly byJob = new Map<string, Set<string>>();

  expect(jobKey: string, podUid: string): void {
    let s = this.byJob.get(jobKey);
    if (!s) this.byJob.set(jobKey, (s = new Set()));
    s.add(podUid);
  }

  observed(jobKey: string, podUid: string): void {
    const s = this.byJob.get(jobKey);
    if (!s) return;
    s.delete(podUid);
    if (s.size === 0) this.byJob.delete(jobKey);
  }

  pending(jobKey: string, podUid: string): boolean {
    return this.byJob.get(jobKey)?.has(podUid) ?? false;
  }

  delete(jobKey: string): void {
    this.byJob.delete(jobKey);
  }
}

/** Queue keys of pods to release from the finalizer are the pod's key after this prefix (Job keys never contain a colon). */
const ORPHAN_POD_PREFIX = "orphan-pod:";
export const orphanPodKey = (podKey: string): string => ORPHAN_POD_PREFIX + podKey;

/** The strategic merge patch that takes the tracking finalizer off a pod (upstream's removeTrackingFinalizerPatch). */
const RELEASE_PATCH = { metadata: { "$deleteFromPrimitiveList/finalizers": [JOB_TRACKING_FINALIZER] } };

const hasFinalizer = (p: RPod): boolean => p.metadata?.finalizers?.includes(JOB_TRACKING_FINALIZER) ?? false;
const isTerminal = (p: RPod): boolean => p.status?.phase === "Succeeded" || p.status?.phase === "Failed";

/** Neither finished nor being deleted. */
function isActive(p: RPod): boolean {
  return !isTerminal(p) && !p.metadata?.deletionTimestamp;
}

/** Upstream's onlyReplaceFailedPods: podReplacementPolicy Failed, or a pod failure policy (which implies it). */
function onlyReplaceFailedPods(job: RJob): boolean {
  return job.spec?.podReplacementPolicy === "Failed" || job.spec?.podFailurePolicy !== undefined;
}

/**
 * Upstream's isPodFailed: a Failed pod, or (unless only failed pods are replaced) a pod deleted
 * before it succeeded, which may never get to report a phase.
 */
function isPodFailed(p: RPod, job: RJob): boolean {
  if (p.status?.phase === "Failed") return true;
  if (onlyReplaceFailedPods(job)) return false;
  return p.metadata?.deletionTimestamp !== undefined && p.status?.phase !== "Succeeded";
}

/** The message of the first failed pod that a FailJob rule of the pod failure policy matches (upstream's getFailJobMessage). */
function firstFailJobMessage(job: RJob, pods: readonly RPod[]): string | undefined {
  for (const p of pods) {
    if (!isPodFailed(p, job)) continue;
    const m = matchPodFailurePolicy(job.spec?.podFailurePolicy, p).failJobMessage;
    if (m !== undefined) return m;
  }
  return undefined;
}

/**
 * Upstream's isIndexFailed: the pod failed and either a FailIndex rule matched it or, its
 * failure counting, the failures of its index before it already reached backoffLimitPerIndex.
 */
function isIndexFailed(job: RJob, p: RPod, backoffLimitPerIndex: number): boolean {
  if (!isPodFailed(p, job)) return false;
  const m = matchPodFailurePolicy(job.spec?.podFailurePolicy, p);
  if (m.action === "FailIndex") return true;
  return m.countFailed && indexFailureCount(p) >= backoffLimitPerIndex;
}

function addIndex(set: Set<number>, i: number | undefined): void {
  if (i !== undefined) set.add(i);
}

/**
 * Upstream's getPodsWithDelayedDeletionPerIndex: per index that is neither done nor running,
 * its last failed pod (the most failures before it, finished last). That pod keeps its
 * finalizer, uncounted, until the replacement pod exists: the replacement's failure counts are
 * that pod's plus one, and its backoff delay starts when that pod finished.
 */
function podsAwaitingReplacement(failedPods: readonly RPod[], indexOf: (p: RPod) => number | undefined, settled: (i: number) => boolean): Map<number, RPod> {
  const out = new Map<number, RPod>();
  for (const p of failedPods) {
    const i = indexOf(p);
    if (i === undefined || settled(i)) continue;
    const last = out.get(i);
    if (!last || (indexAbsoluteFailureCount(last) <= indexAbsoluteFailureCount(p) && (finishedAt(p) ?? 0) >= (finishedAt(last) ?? 0))) out.set(i, p);
  }
  return out;
}

/** The failure-count annotations of the pod that replaces `replaced` in its index (upstream's getNewIndexFailureCounts). */
function replacementFailureCounts(job: RJob, replaced: RPod | undefined): IndexFailureCounts {
  if (!replaced) return { failed: 0, ignored: 0 };
  const failed = indexFailureCount(replaced);
  const ignored = indexIgnoredFailureCount(replaced);
  return matchPodFailurePolicy(job.spec?.podFailurePolicy, replaced).countFailed ? { failed: failed + 1, ignored } : { failed, ignored: ignored + 1 };
}

/** How long an index still waits before its pod is created again, after its last failed pod (upstream's getRemainingTimePerIndex). */
export function remainingIndexBackoff(lastFailed: RPod | undefined, now: number): number {
  if (!lastFailed) return 0;
  const failures = indexAbsoluteFailureCount(lastFailed) + 1;
  const delay = Math.min(POD_FAILURE_BACKOFF_MS * 2 ** (failures - 1), MAX_POD_FAILURE_BACKOFF_MS);
  const at = finishedAt(lastFailed) ?? now;
  return Math.max(0, at + delay - now);
}

export function conditionTrue(job: RJob | { readonly status?: DeepReadonly<JobStatus> }, type: string): boolean {
  return job.status?.conditions?.some((c) => c.type === type && c.status === "True") ?? false;
}

/** Complete or Failed: nothing more happens to the Job. */
export function isFinished(job: RJob): boolean {
  return conditionTrue(job, "Complete") || conditionTrue(job, "Failed");
}

/**
 * When the pod ended (upstream's getFinishedTime): the latest finishedAt of its containers if
 * all of them (sidecars included) terminated, else when Ready turned False, else when it was
 * deleted less its grace period, else when it was created.
 */
function finishedAt(p: RPod): number | undefined {
  let latest: number | undefined;
  const sidecars = new Set((p.spec?.initContainers ?? []).filter((c) => c.restartPolicy === "Always").map((c) => c.name));
  const statuses = [...(p.status?.containerStatuses ?? []), ...(p.status?.initContainerStatuses ?? []).filter((c) => sidecars.has(c.name))];
  for (const c of statuses) {
    const t = timeOf(c.state?.terminated?.finishedAt);
    if (t === undefined) {
      latest = undefined;
      break;
    }
    if (latest === undefined || t > latest) latest = t;
  }
  if (latest !== undefined) return latest;
  const ready = p.status?.conditions?.find((c) => c.type === "Ready");
  const readyFalse = ready?.status === "False" ? timeOf(ready.lastTransitionTime) : undefined;
  if (readyFalse !== undefined) return readyFalse;
  const deleted = timeOf(p.metadata?.deletionTimestamp);
  if (deleted !== undefined) return deleted - (p.metadata?.deletionGracePeriodSeconds ?? 0) * 1000;
  return timeOf(p.metadata?.creationTimestamp);
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class JobSyncer {
  private readonly jobApi: ResourceApi<Job>;
  private readonly podApi: ResourceApi<Pod>;
  private readonly backoff = new Map<string, BackoffRecord>();

  constructor(private readonly d: JobSyncDeps) {
    this.jobApi = d.api.resource<Job>("batch", "v1", "jobs", { namespaced: true, kind: "Job" });
    this.podApi = d.api.resource<Pod>("", "v1", "pods", { namespaced: true, kind: "Pod" });
  }

  /** The Job was deleted: forget what was kept for it. */
  forget(key: string): void {
    this.backoff.delete(key);
    this.d.expectations.delete(key);
    this.d.finalizerRemovals.delete(key);
  }

  async sync(key: string): Promise<void> {
    if (key.startsWith(ORPHAN_POD_PREFIX)) return this.releaseOrphan(key.slice(ORPHAN_POD_PREFIX.length));
    const job = this.d.caches.job(key);
    if (!job) {
      this.forget(key);
      return;
    }
    const managedBy = job.spec?.managedBy;
    if (managedBy !== undefined && managedBy !== JOB_CONTROLLER_MANAGER) return;
    const ns = job.metadata?.namespace ?? "";
    const uid = job.metadata?.uid ?? "";
    const pods = this.d.caches.pods(ns, uid);
    if (isFinished(job)) {
      // Pods left with the finalizer (a sync that ended early) must not stay undeletable.
      await this.removeFinalizers(key, job, pods.filter(hasFinalizer));
      return;
    }
    const now = this.d.clock.now();
    const completions = job.spec?.completions ?? undefined;
    const indexed = job.spec?.completionMode === "Indexed" && completions !== undefined;
    /** The indexes of an Indexed Job are 0 to indexCount-1. */
    const indexCount = indexed ? completions : 0;
    const parallelism = job.spec?.parallelism ?? 1;
    const backoffLimit = job.spec?.backoffLimit ?? 6;
    const backoffLimitPerIndex = indexed ? (job.spec?.backoffLimitPerIndex ?? undefined) : undefined;
    const perIndex = backoffLimitPerIndex !== undefined;
    const policy = job.spec?.podFailurePolicy;
    const status = job.status ?? {};
    const indexOf = (p: RPod): number | undefined => (indexed ? completionIndexOf(p, completions) : undefined);
    // An earlier sync decided the Job's outcome: its pods are only being wound down.
    const successMet = conditionTrue(job, "SuccessCriteriaMet");
    const decided = successMet || conditionTrue(job, "FailureTarget");

    const active = pods.filter(isActive);
    const terminating = pods.filter((p) => !isTerminal(p) && p.metadata?.deletionTimestamp !== undefined).length;
    const uncountedSucceeded = new Set(status.uncountedTerminatedPods?.succeeded ?? []);
    const uncountedFailed = new Set(status.uncountedTerminatedPods?.failed ?? []);
    /** Pods not counted yet (their finalizer is on, and its removal not underway). */
    const notCounted = (p: RPod): boolean => hasFinalizer(p) && !this.d.finalizerRemovals.pending(key, p.metadata?.uid ?? "");

    // 0. backoffLimitPerIndex: which indexes failed for good, and which failed pods keep their
    //    finalizer until their index's replacement pod exists (it inherits their failure count).
    const failedIndexes = perIndex ? parseIndexes(status.failedIndexes, indexCount) : new Set<number>();
    let delayed = new Map<number, RPod>();
    if (perIndex) {
      for (const p of pods) {
        const i = indexOf(p);
        if (i !== undefined && hasFinalizer(p) && isIndexFailed(job, p, backoffLimitPerIndex)) failedIndexes.add(i);
      }
      if (!decided && !job.metadata?.deletionTimestamp) {
        const succeededIndexes = parseIndexes(status.completedIndexes, indexCount);
        for (const p of pods) if (p.status?.phase === "Succeeded" && hasFinalizer(p)) addIndex(succeededIndexes, indexOf(p));
        const activeIndexes = new Set<number>();
        for (const p of active) addIndex(activeIndexes, indexOf(p));
        const candidates = pods.filter((p) => notCounted(p) && !uncountedFailed.has(p.metadata?.uid ?? "") && isPodFailed(p, job));
        delayed = podsAwaitingReplacement(candidates, indexOf, (i) => succeededIndexes.has(i) || failedIndexes.has(i) || activeIndexes.has(i));
      }
    }
    const isDelayed = (p: RPod): boolean => {
      const i = indexOf(p);
      return i !== undefined && delayed.get(i) === p;
    };

    // 1. Finished pods still carrying the finalizer become uncounted, then lose the finalizer.
    //    A failure the pod failure policy ignores loses the finalizer without being counted.
    const releaseUncounted = new Set<string>();
    let newFailures = 0;
    let lastFailure: number | undefined;
    let newSuccess = false;
    for (const p of pods) {
      const pu = p.metadata?.uid ?? "";
      if (!notCounted(p) || uncountedSucceeded.has(pu) || uncountedFailed.has(pu) || isDelayed(p)) continue;
      if (p.status?.phase === "Succeeded") {
        uncountedSucceeded.add(pu);
        newSuccess = true;
        continue;
      }
      // Once the outcome is decided, a pod deleted before it finished is done too (upstream
      // counts every unfinished pod of a failing Job as failed, and none of a succeeding one).
      if (!isPodFailed(p, job) && !(decided && p.metadata?.deletionTimestamp)) continue;
      if (successMet && p.status?.phase !== "Failed") {
        releaseUncounted.add(pu);
        continue;
      }
      newFailures++;
      const at = finishedAt(p) ?? now;
      if (lastFailure === undefined || at > lastFailure) lastFailure = at;
      if (matchPodFailurePolicy(policy, p).countFailed) uncountedFailed.add(pu);
      else releaseUncounted.add(pu);
    }
    this.recordBackoff(key, newSuccess, newFailures, lastFailure);
    const uncountedChanged = uncountedSucceeded.size !== (status.uncountedTerminatedPods?.succeeded?.length ?? 0) || uncountedFailed.size !== (status.uncountedTerminatedPods?.failed?.length ?? 0);
    const failedIndexesText = perIndex ? formatIndexes(failedIndexes) : undefined;

    const startTime = job.spec?.suspend === true ? undefined : (status.startTime ?? rfc3339(now));
    const base = (): JobStatus => {
      const out: JobStatus = {
        ...mutableCopy<JobStatus>(status),
        active: active.length,
        ready: active.filter(isPodReady).length,
        terminating,
        uncountedTerminatedPods: uncountedOf(uncountedSucceeded, uncountedFailed),
        ...(failedIndexesText !== undefined ? { failedIndexes: failedIndexesText } : {}),
      };
      if (startTime !== undefined) out.startTime = startTime;
      else delete out.startTime;
      return out;
    };
    let resourceVersion = job.metadata?.resourceVersion;
    if (uncountedChanged || failedIndexesText !== (status.failedIndexes ?? undefined)) {
      // Recorded before any finalizer goes: if the removals land and this sync dies, the uids
      // still say which pods are to be counted, and failedIndexes which indexes not to retry.
      resourceVersion = await this.writeStatus(job, resourceVersion, base());
    }
    const toRelease = pods.filter((p) => {
      const u = p.metadata?.uid ?? "";
      return hasFinalizer(p) && (uncountedSucceeded.has(u) || uncountedFailed.has(u) || releaseUncounted.has(u));
    });
    const released = await this.removeFinalizers(key, job, toRelease);

    // 2. Uncounted pods whose finalizer is gone (or that are gone) move into the counters.
    const byUid = new Map(pods.map((p) => [p.metadata?.uid ?? "", p] as const));
    const counted = (u: string): boolean => released.has(u) || !byUid.has(u) || !hasFinalizer(byUid.get(u)!);
    let succeeded = status.succeeded ?? 0;
    let failed = status.failed ?? 0;
    const completed = indexed ? parseIndexes(status.completedIndexes, completions) : new Set<number>();
    for (const u of [...uncountedSucceeded]) {
      if (!counted(u)) continue;
      uncountedSucceeded.delete(u);
      const p = byUid.get(u);
      const index = p ? indexOf(p) : undefined;
      if (indexed) {
        if (index !== undefined && !completed.has(index)) {
          completed.add(index);
          succeeded++;
        }
      } else succeeded++;
    }
    for (const u of [...uncountedFailed]) {
      if (!counted(u)) continue;
      uncountedFailed.delete(u);
      failed++;
    }
    const allCounted = uncountedSucceeded.size === 0 && uncountedFailed.size === 0;
    // Decisions count the pods that finished, counted or not yet.
    const succeededSoFar = succeeded + uncountedSucceeded.size;
    const failedSoFar = failed + uncountedFailed.size;
    const succeededIndexesSoFar = new Set(completed);
    for (const u of uncountedSucceeded) {
      const p = byUid.get(u);
      if (p) addIndex(succeededIndexesSoFar, indexOf(p));
    }

    // 3. Conditions: an interim one first, the terminal one once no pod is left.
    const conditions = mutableCopy<JobCondition[]>(status.conditions ?? []);
    const nowStr = rfc3339(now);
    let interim = conditions.find((c) => (c.type === "FailureTarget" || c.type === "SuccessCriteriaMet") && c.status === "True");
    if (!interim) {
      const deadline = job.spec?.activeDeadlineSeconds;
      const started = timeOf(startTime);
      const maxFailedIndexes = job.spec?.maxFailedIndexes ?? undefined;
      const failJobMessage = policy ? firstFailJobMessage(job, pods) : undefined;
      const successPolicyMessage = indexed ? matchSuccessPolicy(job.spec?.successPolicy, completions, succeededIndexesSoFar) : undefined;
      if (failJobMessage !== undefined) interim = newCondition("FailureTarget", "PodFailurePolicy", failJobMessage, nowStr);
      else if (failedSoFar > backoffLimit || pastBackoffLimitOnFailure(job, active, backoffLimit)) {
        interim = newCondition("FailureTarget", "BackoffLimitExceeded", "Job has reached the specified backoff limit", nowStr);
      }
      else if (deadline !== undefined && started !== undefined && job.spec?.suspend !== true && now - started >= deadline * 1000) {
        interim = newCondition("FailureTarget", "DeadlineExceeded", "Job was active longer than specified deadline", nowStr);
      } else if (perIndex && maxFailedIndexes !== undefined && failedIndexes.size > maxFailedIndexes) {
        interim = newCondition("FailureTarget", "MaxFailedIndexesExceeded", "Job has exceeded the specified maximal number of failed indexes", nowStr);
      } else if (perIndex && failedIndexes.size > 0 && failedIndexes.size + succeededIndexesSoFar.size >= indexCount) {
        interim = newCondition("FailureTarget", "FailedIndexes", "Job has failed indexes", nowStr);
      } else if (successPolicyMessage !== undefined) {
        interim = newCondition("SuccessCriteriaMet", SUCCESS_POLICY_REASON, successPolicyMessage, nowStr);
      } else if (completions !== undefined ? (indexed ? completed.size >= completions : succeededSoFar >= completions) : succeededSoFar > 0 && active.length === 0) {
        interim = newCondition("SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods", nowStr);
      }
      if (interim) conditions.push(interim);
    }

    let completionTime = status.completionTime;
    // Events of what the status write records, sent once it landed (a Conflict retries the sync).
    const afterWrite: (() => void)[] = [];
    if (interim) {
      // The Job's outcome is decided: its remaining pods go, and then it is finished. Failed
      // pods kept for their index's replacement are counted by the next sync, which sees the
      // interim condition.
      await this.deletePods(key, job, active, active.length);
      const left = active.length + terminating;
      if (left === 0 && allCounted && delayed.size === 0) {
        const terminal = interim.type === "SuccessCriteriaMet" ? "Complete" : "Failed";
        if (!conditions.some((c) => c.type === terminal && c.status === "True")) {
          conditions.push(newCondition(terminal, interim.reason ?? "", interim.message ?? "", nowStr));
          if (terminal === "Complete") {
            completionTime = nowStr;
            afterWrite.push(() => this.d.events.event(eventTarget(job), "Normal", "Completed", "Job completed"));
          } else {
            const { reason = "Failed", message = "" } = interim;
            afterWrite.push(() => this.d.events.event(eventTarget(job), "Warning", reason, message));
          }
        }
      }
    } else {
      const suspendChanged = this.suspendCondition(job, conditions, nowStr, afterWrite);
      if (job.spec?.suspend === true) await this.deletePods(key, job, active, active.length);
      else if (this.d.expectations.satisfied(key) && !suspendChanged) {
        await this.manage(key, job, active, pods, { completions, indexed, parallelism, succeeded: succeededSoFar, completed, terminating, failedIndexes, delayed, perIndex });
      }
      const until = deadlineRequeue(job, startTime, now);
      if (until !== undefined) this.d.enqueueAfter(key, until);
    }

    const finished = conditions.some((c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True");
    const next: JobStatus = {
      ...base(),
      succeeded,
      failed,
      conditions,
      uncountedTerminatedPods: uncountedOf(uncountedSucceeded, uncountedFailed),
      ...(finished ? { active: 0, ready: 0, terminating: 0 } : {}),
      ...(indexed ? { completedIndexes: formatIndexes(completed) } : {}),
      ...(completionTime !== undefined ? { completionTime } : {}),
    };
    if (next.conditions?.length === 0) delete next.conditions;
    omitZeroCounters(next);
    if (!jsonEqual(next, status)) await this.writeStatus(job, resourceVersion, next);
    for (const send of afterWrite) send();
  }

  /** Removes the tracking finalizer from a pod whose Job is gone (or that no Job controls any more). */
  private async releaseOrphan(podKey: string): Promise<void> {
    const pod = this.d.caches.pod(podKey);
    if (!pod || !hasFinalizer(pod)) return;
    const ref = controllerRefOf(pod);
    if (ref?.kind === "Job" && this.d.caches.job(`${pod.metadata?.namespace ?? ""}/${ref.name}`)?.metadata?.uid === ref.uid) return;
    try {
      await this.podApi.namespace(pod.metadata?.namespace ?? "").patch(pod.metadata?.name ?? "", "strategic", RELEASE_PATCH, { answer: "metadata" });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** Records new failures and successes for the pod creation backoff. */
  private recordBackoff(key: string, success: boolean, failures: number, lastFailure: number | undefined): void {
    if (success) this.backoff.delete(key);
    if (failures === 0) return;
    const r = this.backoff.get(key) ?? { failuresAfterLastSuccess: 0, lastFailureAt: 0 };
    r.failuresAfterLastSuccess += failures;
    if (lastFailure !== undefined && lastFailure > r.lastFailureAt) r.lastFailureAt = lastFailure;
    this.backoff.set(key, r);
  }

  /** How long pod creation still waits after the last failures (0: not at all). */
  remainingBackoff(key: string, now: number): number {
    const r = this.backoff.get(key);
    if (!r || r.failuresAfterLastSuccess === 0) return 0;
    const delay = Math.min(POD_FAILURE_BACKOFF_MS * 2 ** (r.failuresAfterLastSuccess - 1), MAX_POD_FAILURE_BACKOFF_MS);
    return Math.max(0, r.lastFailureAt + delay - now);
  }

  /** Sets Suspended True or False as spec.suspend says; true when it changed. */
  private suspendCondition(job: RJob, conditions: JobCondition[], nowStr: string, afterWrite: (() => void)[]): boolean {
    const i = conditions.findIndex((c) => c.type === "Suspended");
    const suspended = job.spec?.suspend === true;
    if (suspended) {
      if (i >= 0 && conditions[i]!.status === "True") return false;
      const c = newCondition("Suspended", "JobSuspended", "Job suspended", nowStr);
      if (i >= 0) conditions[i] = c;
      else conditions.push(c);
      afterWrite.push(() => this.d.events.event(eventTarget(job), "Normal", "Suspended", "Job suspended"));
      return true;
    }
    if (i < 0 || conditions[i]!.status !== "True") return false;
    conditions[i] = { ...newCondition("Suspended", "JobResumed", "Job resumed", nowStr), status: "False" };
    afterWrite.push(() => this.d.events.event(eventTarget(job), "Normal", "Resumed", "Job resumed"));
    return true;
  }

  /** Creates or deletes pods towards the number that should be running. */
  private async manage(key: string, job: RJob, active: readonly RPod[], pods: readonly RPod[], o: ManageState): Promise<void> {
    if (o.indexed && o.completions !== undefined) {
      await this.manageIndexed(key, job, active, pods, o.completions, o);
      return;
    }
    let want: number;
    if (o.completions === undefined) want = o.succeeded > 0 ? active.length : o.parallelism;
    else want = Math.max(0, Math.min(o.completions - o.succeeded, o.parallelism));
    if (active.length > want) {
      await this.deletePods(key, job, active, active.length - want);
      return;
    }
    // Replacing only failed pods: a terminating pod still holds its place until it failed.
    const holding = active.length + (onlyReplaceFailedPods(job) ? o.terminating : 0);
    if (holding < want) await this.createPods(key, job, Array.from({ length: want - holding }, () => undefined));
  }

  private async manageIndexed(key: string, job: RJob, active: readonly RPod[], pods: readonly RPod[], completions: number, o: ManageState): Promise<void> {
    // Pods without a valid index, of a completed index, or a second one of an index, go.
    const running = new Map<number, RPod>();
    const extra: RPod[] = [];
    for (const p of active) {
      const i = completionIndexOf(p, completions);
      if (i === undefined || o.completed.has(i) || running.has(i)) extra.push(p);
      else running.set(i, p);
    }
    // A succeeded pod not counted yet still holds its index; a failed index is not retried;
    // when only failed pods are replaced, a terminating pod holds its index until it failed.
    const taken = new Set<number>([...o.completed, ...running.keys(), ...o.failedIndexes]);
    const replaceOnlyFailed = onlyReplaceFailedPods(job);
    for (const p of pods) {
      const i = completionIndexOf(p, completions);
      if (i === undefined) continue;
      if (p.status?.phase === "Succeeded" || (replaceOnlyFailed && !isTerminal(p) && p.metadata?.deletionTimestamp !== undefined)) taken.add(i);
    }
    const over = Math.max(0, running.size - o.parallelism);
    if (extra.length > 0 || over > 0) {
      const byIndexDesc = [...running.entries()].sort((a, b) => b[0] - a[0]).map(([, p]) => p);
      await this.deletePods(key, job, [...extra, ...byIndexDesc.slice(0, over)], extra.length + over);
      return;
    }
    const missing: number[] = [];
    for (let i = 0; i < completions && running.size + missing.length < o.parallelism; i++) if (!taken.has(i)) missing.push(i);
    if (missing.length === 0) return;
    if (!o.perIndex) {
      await this.createPods(key, job, missing);
      return;
    }
    // backoffLimitPerIndex: each index waits out the backoff of its own failures; when none
    // may start yet, the sync comes back when the first may.
    const now = this.d.clock.now();
    const wait = new Map(missing.map((i) => [i, remainingIndexBackoff(o.delayed.get(i), now)] as const));
    const ready = missing.filter((i) => wait.get(i) === 0);
    if (ready.length === 0) {
      this.d.enqueueAfter(key, Math.min(...wait.values()));
      return;
    }
    await this.createPods(key, job, ready, (i) => replacementFailureCounts(job, o.delayed.get(i)));
  }

  /**
   * Creates one pod per entry (an index for Indexed Jobs). Without `failureCounts` (the
   * per-index annotations, with backoffLimitPerIndex) only after the Job's failure backoff.
   */
  private async createPods(key: string, job: RJob, indexes: readonly (number | undefined)[], failureCounts?: (index: number) => IndexFailureCounts): Promise<void> {
    const wait = failureCounts ? 0 : this.remainingBackoff(key, this.d.clock.now());
    if (wait > 0) {
      this.d.enqueueAfter(key, wait);
      return;
    }
    const batch = indexes.slice(0, MAX_POD_CREATE_DELETE_PER_SYNC);
    this.d.expectations.expectCreations(key, batch.length);
    let next = 0;
    const { successes, error } = await slowStartBatch(batch.length, 1, async () => {
      const index = batch[next++];
      try {
        const counts = index !== undefined ? failureCounts?.(index) : undefined;
        const created = await this.podApi.namespace(job.metadata?.namespace ?? "").create(podFor(job, index, counts), { answer: "metadata" });
        this.d.events.event(eventTarget(job), "Normal", "SuccessfulCreate", `Created pod: ${created.metadata?.name ?? ""}`);
      } catch (err) {
        this.d.expectations.creationObserved(key);
        if (isNamespaceTerminating(err)) return;
        this.d.events.event(eventTarget(job), "Warning", "FailedCreate", `Error creating: ${errMessage(err)}`);
        throw err;
      }
    });
    // Creates never attempted will never be observed either.
    for (let i = successes + (error === undefined ? 0 : 1); i < batch.length; i++) this.d.expectations.creationObserved(key);
    if (error !== undefined) throw error;
  }

  /** Deletes `count` of `candidates`, the ones a scale-down would pick first. */
  private async deletePods(key: string, job: RJob, candidates: readonly RPod[], count: number): Promise<void> {
    if (count <= 0) return;
    const victims = podsToDelete(candidates, [], Math.min(count, MAX_POD_CREATE_DELETE_PER_SYNC), this.d.clock.now());
    this.d.expectations.expectDeletions(key, victims.map((p) => keyOf(p as DeepReadonly<KubeObject>)));
    let firstError: unknown;
    await Promise.all(
      victims.map(async (p) => {
        const name = p.metadata?.name ?? "";
        try {
          await this.podApi.namespace(p.metadata?.namespace ?? "").delete(name, { preconditions: { uid: p.metadata?.uid ?? "" } });
          this.d.events.event(eventTarget(job), "Normal", "SuccessfulDelete", `Deleted pod: ${name}`);
        } catch (err) {
          this.d.expectations.deletionObserved(key, keyOf(p as DeepReadonly<KubeObject>));
          if (isNotFound(err)) return;
          this.d.events.event(eventTarget(job), "Warning", "FailedDelete", `Error deleting: ${errMessage(err)}`);
          firstError ??= err;
        }
      }),
    );
    if (firstError !== undefined) throw firstError;
  }

  /** Removes the tracking finalizer from `pods`; returns the uids it is gone from. */
  private async removeFinalizers(key: string, job: RJob, pods: readonly RPod[]): Promise<Set<string>> {
    const done = new Set<string>();
    let firstError: unknown;
    await Promise.all(
      pods.map(async (p) => {
        const u = p.metadata?.uid ?? "";
        try {
          this.d.finalizerRemovals.expect(key, u);
          await this.podApi.namespace(p.metadata?.namespace ?? "").patch(p.metadata?.name ?? "", "strategic", RELEASE_PATCH, { answer: "metadata" });
          done.add(u);
        } catch (err) {
          if (isNotFound(err)) {
            done.add(u);
            return;
          }
          this.d.finalizerRemovals.observed(key, u);
          firstError ??= err;
        }
      }),
    );
    if (firstError !== undefined) this.d.log.warn({ job: key, err: errMessage(firstError) }, "removing job tracking finalizers failed; will retry");
    if (firstError !== undefined && done.size === 0) throw firstError;
    if (firstError !== undefined) this.d.enqueueAfter(key, 1000);
    return done;
  }

  /**
   * Writes the status over the Job at `resourceVersion`; returns the new resourceVersion. A
   * Conflict (the Job changed meanwhile) fails the sync, which runs again on the new Job.
   */
  private async writeStatus(job: RJob, resourceVersion: string | undefined, status: JobStatus): Promise<string | undefined> {
    const obj = mutableCopy<Job>(job);
    obj.metadata = { ...obj.metadata, ...(resourceVersion !== undefined ? { resourceVersion } : {}) };
    obj.status = omitZeroCounters(status);
    const written = await this.jobApi.namespace(job.metadata?.namespace ?? "").updateStatus(obj, { answer: "metadata" });
    return written.metadata?.resourceVersion;
  }
}

/**
 * Upstream's pastBackoffLimitOnFailure: with restartPolicy OnFailure a failing container is
 * restarted in its pod instead of failing it, so the restarts of the running and pending pods'
 * containers count towards backoffLimit (any restart at all when it is 0).
 */
function pastBackoffLimitOnFailure(job: RJob, active: readonly RPod[], backoffLimit: number): boolean {
  if (job.spec?.template?.spec?.restartPolicy !== "OnFailure") return false;
  let restarts = 0;
  for (const p of active) {
    if (p.status?.phase !== "Running" && p.status?.phase !== "Pending") continue;
    for (const c of [...(p.status.initContainerStatuses ?? []), ...(p.status.containerStatuses ?? [])]) restarts += c.restartCount ?? 0;
  }
  return backoffLimit === 0 ? restarts > 0 : restarts >= backoffLimit;
}

/** What an event about the Job names (its involvedObject). */
function eventTarget(job: RJob): KubeObject {
  const m = job.metadata;
  return { apiVersion: "batch/v1", kind: "Job", metadata: { name: m?.name, namespace: m?.namespace, uid: m?.uid, resourceVersion: m?.resourceVersion } };
}

function newCondition(type: string, reason: string, message: string, now: string): JobCondition {
  return { type, status: "True", lastProbeTime: now, lastTransitionTime: now, reason, message };
}

function uncountedOf(succeeded: ReadonlySet<string>, failed: ReadonlySet<string>): NonNullable<JobStatus["uncountedTerminatedPods"]> {
  return { ...(succeeded.size > 0 ? { succeeded: [...succeeded] } : {}), ...(failed.size > 0 ? { failed: [...failed] } : {}) };
}

/** Drops the counters that are zero: they are omitempty in the API's Go types, so upstream never writes them. */
function omitZeroCounters(status: JobStatus): JobStatus {
  for (const f of ["active", "succeeded", "failed"] as const) if (status[f] === 0) delete status[f];
  return status;
}

/** ms until activeDeadlineSeconds runs out for a started, unsuspended Job; undefined otherwise. */
function deadlineRequeue(job: RJob, startTime: string | undefined, now: number): number | undefined {
  const deadline = job.spec?.activeDeadlineSeconds;
  const started = timeOf(startTime);
  if (deadline === undefined || started === undefined || job.spec?.suspend === true) return undefined;
  return Math.max(0, started + deadline * 1000 - now);
}

/**
 * The pod a Job creates: its template, controlled by the Job, tracked by the finalizer; for
 * Indexed Jobs, of one index, and with backoffLimitPerIndex carrying its index's failures so far.
 */
export function podFor(job: RJob, index: number | undefined, failureCounts?: IndexFailureCounts): Pod {
  const t = job.spec?.template;
  const name = job.metadata?.name ?? "";
  const labels: Record<string, string> = { ...(t?.metadata?.labels ?? {}) };
  const annotations: Record<string, string> = { ...(t?.metadata?.annotations ?? {}) };
  let spec: PodSpec = t?.spec ? mutableCopy<PodSpec>(t.spec) : { containers: [] };
  if (index !== undefined) {
    annotations[COMPLETION_INDEX_ANNOTATION] = String(index);
    labels[COMPLETION_INDEX_ANNOTATION] = String(index);
    const env: EnvVar = { name: JOB_COMPLETION_INDEX_ENV, valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${COMPLETION_INDEX_ANNOTATION}']` } } };
    const withIndex = <C extends { env?: EnvVar[] }>(c: C): C => (c.env?.some((e) => e.name === JOB_COMPLETION_INDEX_ENV) ? c : { ...c, env: [...(c.env ?? []), env] });
    spec = { ...spec, containers: spec.containers.map(withIndex), ...(spec.initContainers ? { initContainers: spec.initContainers.map(withIndex) } : {}) };
    if (!spec.hostname) spec.hostname = `${name}-${index}`;
    if (failureCounts) {
      annotations[INDEX_FAILURE_COUNT_ANNOTATION] = String(failureCounts.failed);
      if (failureCounts.ignored > 0) annotations[INDEX_IGNORED_FAILURE_COUNT_ANNOTATION] = String(failureCounts.ignored);
    }
  }
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      generateName: index !== undefined ? `${name}-${index}-` : `${name}-`,
      namespace: job.metadata?.namespace ?? "",
      labels,
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
      finalizers: [...(t?.metadata?.finalizers ?? []), JOB_TRACKING_FINALIZER],
      ownerReferences: [controllerRefFor({ apiVersion: "batch/v1", kind: "Job", metadata: { name, uid: job.metadata?.uid ?? "" } })],
    },
    spec,
  };
}
