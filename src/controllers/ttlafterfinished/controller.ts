// The TTL-after-finished controller (upstream pkg/controller/ttlafterfinished): deletes a Job
// `spec.ttlSecondsAfterFinished` seconds after it finished (its Complete or Failed condition
// turned True), cascading to its pods in the foreground. A Job that is not due yet goes back
// into the queue for exactly the time it has left, so no Job is polled.
import type { Job } from "kubernetes-types/batch/v1.js";
import { exponentialBuckets, Histogram, type Registry } from "prom-client";
import type { Clock } from "../../client/clock.js";
import { isNotFound } from "../../client/errors.js";
import type { EventHandler, Lister } from "../../client/informer.js";
import { keyOf, splitKey, type DeepReadonly } from "../../client/objects.js";
import type { Logger } from "../../util/log.js";
import type { Api } from "../api.js";

export const TTL_AFTER_FINISHED_CONTROLLER = "ttl-after-finished-controller";

type RJob = DeepReadonly<Job>;

export interface TTLAfterFinishedMetrics {
  /** A Job was deleted `seconds` after its TTL ran out. */
  jobDeleted(seconds: number): void;
}

/** Upstream's ttl_after_finished_controller_job_deletion_duration_seconds; shared across terms of leadership. */
export function ttlAfterFinishedMetrics(registry: Registry): TTLAfterFinishedMetrics {
  const name = "ttl_after_finished_controller_job_deletion_duration_seconds";
  const histogram =
    (registry.getSingleMetric(name) as Histogram | undefined) ??
    new Histogram({
      name,
      help: "The time it took to delete the job since it became eligible for deletion",
      // Upstream's buckets: from 100 ms, the last one [~27 min, +Inf).
      buckets: exponentialBuckets(0.1, 2, 14),
      registers: [registry],
    });
  return { jobDeleted: (seconds) => histogram.observe(seconds) };
}

/** Upstream's jobutil.IsJobFinished: a Complete or Failed condition with status True. */
function finishedCondition(job: RJob): DeepReadonly<NonNullable<NonNullable<Job["status"]>["conditions"]>[number]> | undefined {
  return job.status?.conditions?.find((c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True");
}

/** Upstream's needsCleanup, plus the deletionTimestamp check every caller makes with it. */
export function needsCleanup(job: RJob): boolean {
  return job.metadata?.deletionTimestamp === undefined && job.spec?.ttlSecondsAfterFinished !== undefined && finishedCondition(job) !== undefined;
}

/** Upstream's jobFinishTime: when the finished condition turned True, or undefined when it does not say. */
export function jobFinishTime(job: RJob): number | undefined {
  const t = Date.parse(finishedCondition(job)?.lastTransitionTime ?? "");
  return Number.isNaN(t) ? undefined : t;
}

export interface TTLAfterFinishedDeps {
  readonly api: Api;
  readonly jobs: Lister<Job>;
  readonly log: Logger;
  readonly clock: Clock;
  /** Puts a Job key back in the queue after `ms`: when its TTL runs out. */
  readonly enqueueAfter: (key: string, ms: number) => void;
  readonly metrics?: TTLAfterFinishedMetrics;
}

export class TTLAfterFinishedController {
  constructor(private readonly d: TTLAfterFinishedDeps) {}

  /** Upstream's processJob: deletes the Job if its TTL has run out, on the cache's word and then on a live read's. */
  async sync(key: string, log: Logger = this.d.log): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.d.jobs.namespace(namespace).get(name);
    if (!cached || this.expiredAt(key, cached, log) === undefined) return;

    // The cache may be behind: the TTL may have been raised or removed since. Decide again on
    // the Job as it is now, and delete only that version of it.
    const jobs = this.d.api.resource<Job>("batch", "v1", "jobs").namespace(namespace);
    let fresh: Job;
    try {
      fresh = await jobs.get(name);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    const expireAt = this.expiredAt(key, fresh, log);
    if (expireAt === undefined) return;
    const uid = fresh.metadata?.uid;
    log.info({ job: key }, "cleaning up Job");
    try {
      // Foreground: the Job goes only once its pods have. The UID precondition (upstream's)
      // keeps a Job made again under the name from being deleted by a decision about this one.
      await jobs.delete(name, { propagationPolicy: "Foreground", ...(uid ? { preconditions: { uid } } : {}) });
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    this.d.metrics?.jobDeleted((this.d.clock.now() - expireAt) / 1000);
  }

  /**
   * Upstream's processTTL: when the Job's TTL ran out, if it has. A Job that needs cleanup
   * later is enqueued again for then; one that needs none is left alone.
   */
  private expiredAt(key: string, job: RJob, log: Logger): number | undefined {
    if (!needsCleanup(job)) return undefined;
    const finishedAt = jobFinishTime(job);
    if (finishedAt === undefined) {
      // Upstream retries this with backoff, but only a change to the Job can mend it, and
      // that change enqueues the Job again.
      log.error({ job: key }, "unable to find the time when the finished Job finished: its Complete or Failed condition has no valid lastTransitionTime");
      return undefined;
    }
    const now = this.d.clock.now();
    if (finishedAt > now) log.warn({ job: key }, "found Job finished in the future; this is likely due to time skew in the cluster; Job cleanup will be deferred");
    const expireAt = finishedAt + (job.spec?.ttlSecondsAfterFinished ?? 0) * 1000;
    const remaining = expireAt - now;
    if (remaining <= 0) return expireAt;
    log.debug({ job: key, remainingMs: remaining }, "Job's TTL has not run out yet");
    this.d.enqueueAfter(key, remaining);
    return undefined;
  }
}

/** Upstream's addJob/updateJob: enqueue the Jobs that need cleanup; a deleted Job needs nothing. */
export class TTLAfterFinishedEventHandlers implements EventHandler<Job> {
  constructor(private readonly enqueue: (key: string) => void) {}

  onAdd(job: RJob): void {
    if (needsCleanup(job)) this.enqueue(keyOf(job));
  }

  onUpdate(_old: RJob, cur: RJob): void {
    if (needsCleanup(cur)) this.enqueue(keyOf(cur));
  }
}
