// One reconcile of a CronJob (upstream ControllerV2.sync, cleanupFinishedJobs and
// syncCronJob): read the CronJob and the Jobs it controls from the caches, bring status.active
// and lastSuccessfulTime up to date, delete finished Jobs beyond the history limits, and start
// the Job of the most recent unmet scheduled time unless the CronJob is suspended, being
// deleted, past its starting deadline or held back by its concurrency policy. All changes to
// the status are written once, at the end. The result is when to look again: just after the
// next scheduled time.
import type { CronJob, Job } from "kubernetes-types/batch/v1.js";
import { goQuote } from "../../api/fielderrors.js";
import type { Clock } from "../../client/clock.js";
import { isAlreadyExists, isNamespaceTerminating, isNotFound } from "../../client/errors.js";
import type { Lister } from "../../client/informer.js";
import { mutableCopy, splitKey } from "../../client/objects.js";
import { CodedError } from "../../util/errors.js";
import type { Logger } from "../../util/log.js";
import { rfc3339, timeOf } from "../../util/time.js";
import type { Api, ResourceApi } from "../api.js";
import type { EventSink } from "../context.js";
import { CronScheduleError, isKnownTimeZone, loadZone, MANY_MISSED, mostRecentScheduleTime, parseSchedule, type Schedule } from "./cron.js";
import {
  byJobStartTime,
  deleteFromActiveList,
  finishedCondition,
  inActiveList,
  inActiveListByName,
  isControlledBy,
  jobFromTemplate,
  jobName,
  jobRef,
  type RCronJob,
  type RJob,
} from "./jobs.js";

export const CRONJOB_CONTROLLER = "cronjob-controller";

/**
 * Added to the time until the next scheduled time (upstream's nextScheduleDelta), so that a
 * clock a little behind the API server's does not wake the controller just before it.
 */
export const NEXT_SCHEDULE_DELTA_MS = 100;

export type CronJobErrorCode = "ReplaceFailed";

export class CronJobError extends CodedError<CronJobErrorCode> {
  override readonly name = "CronJobError";
}

export interface CronJobSyncDeps {
  readonly api: Api;
  readonly cronJobs: Lister<CronJob>;
  readonly jobs: Lister<Job>;
  readonly events: EventSink;
  readonly clock: Clock;
  readonly log: Logger;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Where the search for missed scheduled times starts: the last one the CronJob ran, else its creation. */
function lastKnownStart(cj: RCronJob | CronJob): number {
  return timeOf(cj.status?.lastScheduleTime) ?? timeOf(cj.metadata?.creationTimestamp) ?? 0;
}

/**
 * Upstream's nextScheduleTimeDuration: how long until just after the next scheduled time
 * following the most recent one (or the last known start when none was missed, or now when
 * the schedule cannot say); undefined for a schedule that never fires again.
 */
export function nextScheduleDelay(cj: RCronJob | CronJob, schedule: Schedule, now: number): number | undefined {
  const earliest = lastKnownStart(cj);
  let base: number;
  try {
    const r = mostRecentScheduleTime(schedule, earliest, now);
    base = r.time ?? (r.missed === 0 ? earliest : now);
  } catch (err) {
    if (!(err instanceof CronScheduleError)) throw err;
    base = now;
  }
  const next = schedule.next(base);
  return next === undefined ? undefined : next + NEXT_SCHEDULE_DELTA_MS - now;
}

/** The CronJob's schedule in its time zone (spec.timeZone, else UTC); throws CronParseError. */
export function scheduleOf(cj: RCronJob | CronJob): Schedule {
  return parseSchedule(cj.spec?.schedule ?? "", cj.spec?.timeZone ?? undefined);
}

/** The copy of the CronJob a sync changes, and whether its status needs writing. */
interface Work {
  cj: CronJob;
  updateStatus: boolean;
}

export class CronJobSyncer {
  constructor(private readonly d: CronJobSyncDeps) {}

  private jobsApi(ns: string): ResourceApi<Job> {
    return this.d.api.resource<Job>("batch", "v1", "jobs").namespace(ns);
  }

  private cronJobsApi(ns: string): ResourceApi<CronJob> {
    return this.d.api.resource<CronJob>("batch", "v1", "cronjobs").namespace(ns);
  }

  private event(w: Work, type: "Normal" | "Warning", reason: string, msg: string): void {
    this.d.events.event(w.cj, type, reason, msg);
  }

  /**
   * Reconciles the CronJob named by `key`; resolves to the milliseconds after which to look at
   * it again, or undefined when only a change to it can make a difference. Throws to be retried.
   */
  async sync(key: string, log: Logger = this.d.log): Promise<number | undefined> {
    const { namespace } = splitKey(key);
    const cached = this.d.cronJobs.get(key);
    if (!cached) return undefined;
    // Jobs whose labels no longer match the template still count: only the controllerRef matters.
    const jobs = this.d.jobs
      .namespace(namespace)
      .list()
      .filter((j) => isControlledBy(j, cached));
    const w: Work = { cj: mutableCopy<CronJob>(cached), updateStatus: false };
    await this.cleanupFinishedJobs(w, jobs, log);
    let requeue: number | undefined;
    let failure: unknown;
    try {
      requeue = await this.syncCronJob(w, jobs, log);
    } catch (err) {
      failure = err;
    }
    if (w.updateStatus) await this.cronJobsApi(namespace).updateStatus(w.cj);
    if (failure !== undefined) throw failure;
    return requeue;
  }

  /** Deletes the oldest finished Jobs beyond the history limits; an unset limit keeps all. */
  private async cleanupFinishedJobs(w: Work, jobs: readonly RJob[], log: Logger): Promise<void> {
    const successfulLimit = w.cj.spec?.successfulJobsHistoryLimit;
    const failedLimit = w.cj.spec?.failedJobsHistoryLimit;
    if (successfulLimit !== undefined) await this.removeOldestJobs(w, jobs.filter((j) => finishedCondition(j) === "Complete"), successfulLimit, log);
    if (failedLimit !== undefined) await this.removeOldestJobs(w, jobs.filter((j) => finishedCondition(j) === "Failed"), failedLimit, log);
  }

  private async removeOldestJobs(w: Work, jobs: RJob[], limit: number, log: Logger): Promise<void> {
    const excess = jobs.length - limit;
    if (excess <= 0) return;
    log.debug({ deleting: excess, jobs: jobs.length }, "cleaning up finished jobs");
    for (const job of jobs.sort(byJobStartTime).slice(0, excess)) await this.deleteJob(w, job, log);
  }

  /** Upstream's deleteJob: the Job and (through the garbage collector) its pods, and its place in status.active. */
  private async deleteJob(w: Work, job: RJob, log: Logger): Promise<boolean> {
    const name = job.metadata?.name ?? "";
    try {
      await this.jobsApi(job.metadata?.namespace ?? "").delete(name, { propagationPolicy: "Background" });
    } catch (err) {
      this.event(w, "Warning", "FailedDelete", `Deleted job: ${message(err)}`);
      log.error({ err, job: name }, "error deleting job from cronjob");
      return false;
    }
    deleteFromActiveList(w.cj, job.metadata?.uid ?? "");
    w.updateStatus = true;
    this.event(w, "Normal", "SuccessfulDelete", `Deleted job ${name}`);
    return true;
  }

  /** Upstream's syncCronJob, on the copy in `w`. */
  private async syncCronJob(w: Work, jobs: readonly RJob[], log: Logger): Promise<number | undefined> {
    const now = this.d.clock.now();
    const ns = w.cj.metadata?.namespace ?? "";
    const name = w.cj.metadata?.name ?? "";

    const children = new Set<string>();
    for (const j of jobs) {
      const uid = j.metadata?.uid ?? "";
      children.add(uid);
      const found = inActiveList(w.cj, uid);
      const finished = finishedCondition(j);
      if (!found && finished === undefined) {
        // Either the cache has not seen our last status write yet, or a Job appeared that we
        // did not create (or created and crashed before recording): ask the API server.
        const live = await this.cronJobsApi(ns).get(name);
        if (inActiveList(live, uid)) {
          w.cj = live;
          continue;
        }
        this.event(w, "Warning", "UnexpectedJob", `Saw a job that the controller did not create or forgot: ${j.metadata?.name ?? ""}`);
      } else if (finished !== undefined) {
        if (found) {
          deleteFromActiveList(w.cj, uid);
          this.event(w, "Normal", "SawCompletedJob", `Saw completed job: ${j.metadata?.name ?? ""}, condition: ${finished}`);
          w.updateStatus = true;
        }
        // A Job that succeeded counts for lastSuccessfulTime whether or not it was still listed as active.
        const completed = timeOf(j.status?.completionTime);
        if (finished === "Complete" && completed !== undefined) {
          const last = timeOf(w.cj.status?.lastSuccessfulTime);
          if (last === undefined || completed > last) {
            w.cj.status = { ...w.cj.status, lastSuccessfulTime: j.status?.completionTime };
            w.updateStatus = true;
          }
        }
      }
    }

    // An active Job the cache does not have may just be newer than the cache: look it up
    // before forgetting it, or the CronJob could count it active forever.
    for (const ref of [...(w.cj.status?.active ?? [])]) {
      if (children.has(ref.uid ?? "")) continue;
      try {
        await this.jobsApi(ref.namespace || ns).get(ref.name ?? "");
      } catch (err) {
        if (!isNotFound(err)) throw err;
        this.event(w, "Normal", "MissingJob", `Active job went missing: ${ref.name ?? ""}`);
        deleteFromActiveList(w.cj, ref.uid ?? "");
        w.updateStatus = true;
      }
    }

    if (w.cj.metadata?.deletionTimestamp) return undefined;

    const timeZone = w.cj.spec?.timeZone ?? undefined;
    if (timeZone !== undefined && timeZone !== "Local" && !isKnownTimeZone(timeZone)) {
      log.debug({ timeZone }, "not starting job because timeZone is invalid");
      this.event(w, "Warning", "UnknownTimeZone", `invalid timeZone: ${goQuote(timeZone)}: unknown time zone ${timeZone}`);
      return undefined;
    }

    if (w.cj.spec?.suspend === true) {
      log.debug("not starting job because the cron is suspended");
      return undefined;
    }

    const spec = w.cj.spec?.schedule ?? "";
    // Upstream's formatSchedule: a TZ= prefix still works (and wins over spec.timeZone), but
    // only spec.timeZone is supported.
    if (spec.includes("TZ")) {
      this.event(w, "Warning", "UnsupportedSchedule", `CRON_TZ or TZ used in schedule ${goQuote(spec)} is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details`);
    }
    let schedule: Schedule;
    try {
      schedule = scheduleOf(w.cj);
    } catch (err) {
      log.info({ schedule: spec, error: message(err) }, "unparseable schedule");
      this.event(w, "Warning", "UnparseableSchedule", `unparseable schedule: ${goQuote(spec)} : ${message(err)}`);
      return undefined;
    }
    const requeue = (): number | undefined => nextScheduleDelay(w.cj, schedule, now);

    // Upstream's nextScheduleTime: the latest scheduled time since the last known start,
    // looking no further back than the starting deadline, so that a time past its deadline is
    // never a candidate (and a long outage with a deadline set warns of no missed times).
    let earliest = lastKnownStart(w.cj);
    const deadline = w.cj.spec?.startingDeadlineSeconds;
    if (deadline !== undefined && deadline !== null) earliest = Math.max(earliest, now - deadline * 1000);
    let scheduled: number | undefined;
    try {
      const r = mostRecentScheduleTime(schedule, earliest, now);
      scheduled = r.time;
      if (scheduled !== undefined && r.missed > MANY_MISSED) {
        log.info({ missed: r.missed }, "too many missed times");
        this.event(w, "Warning", "TooManyMissedTimes", "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew");
      }
    } catch (err) {
      if (!(err instanceof CronScheduleError)) throw err;
      log.info({ schedule: spec, error: err.message }, "invalid schedule");
      this.event(w, "Warning", "InvalidSchedule", `invalid schedule: ${spec} : ${err.message}`);
      return undefined;
    }
    if (scheduled === undefined) return requeue();

    if (inActiveListByName(w.cj, ns, jobName(w.cj, scheduled)) || timeOf(w.cj.status?.lastScheduleTime) === scheduled) {
      log.debug({ scheduled: rfc3339(scheduled) }, "not starting job because the scheduled time is already processed");
      return requeue();
    }

    const policy = w.cj.spec?.concurrencyPolicy ?? "Allow";
    if (policy === "Forbid" && (w.cj.status?.active?.length ?? 0) > 0) {
      // The active list can lag (a Job created but not yet recorded), so Forbid can still
      // overlap runs that are close together; upstream accepts that too.
      log.debug("not starting job because prior execution is still running and concurrency policy is Forbid");
      this.event(w, "Normal", "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid");
      return requeue();
    }
    if (policy === "Replace") {
      for (const ref of [...(w.cj.status?.active ?? [])]) {
        const refNs = ref.namespace || ns;
        let job: Job;
        try {
          job = await this.jobsApi(refNs).get(ref.name ?? "");
        } catch (err) {
          this.event(w, "Warning", "FailedGet", `Get job: ${message(err)}`);
          throw err;
        }
        if (!(await this.deleteJob(w, job, log))) throw new CronJobError("ReplaceFailed", `could not replace job ${refNs}/${ref.name ?? ""}`);
      }
    }

    const request = jobFromTemplate(w.cj, scheduled, loadZone(timeZone ?? ""));
    let job: Job;
    let existed = false;
    try {
      job = await this.jobsApi(ns).create(request);
    } catch (err) {
      // A terminating namespace refuses every create: nothing to report, the CronJob goes too.
      if (isNamespaceTerminating(err)) throw err;
      if (!isAlreadyExists(err)) {
        this.event(w, "Warning", "FailedCreate", `Error creating job: ${message(err)}`);
        throw err;
      }
      // Made by an earlier sync that did not get to record it, or by someone else.
      job = await this.jobsApi(ns).get(request.metadata?.name ?? "");
      if (!isControlledBy(job, w.cj)) return undefined;
      if (inActiveList(w.cj, job.metadata?.uid ?? "")) return undefined;
      existed = true;
    }
    if (existed) {
      log.info({ job: job.metadata?.name }, "job already exists");
    } else {
      log.debug({ job: job.metadata?.name, scheduled: rfc3339(scheduled) }, "created job");
      this.event(w, "Normal", "SuccessfulCreate", `Created job ${job.metadata?.name ?? ""}`);
    }
    w.cj.status = { ...w.cj.status, active: [...(w.cj.status?.active ?? []), jobRef(job)], lastScheduleTime: rfc3339(scheduled) };
    w.updateStatus = true;
    return requeue();
  }
}
