// The controller-manager's factory for the CronJob controller ("cronjob-controller"): Jobs
// on a cron schedule, from informers on CronJobs and Jobs.
import { realClock, type Clock } from "../../client/clock.js";
import type { ControllerFactory } from "../context.js";
import { newCronJobController } from "./controller.js";

export { CRONJOB_CONTROLLER, CronJobSyncer, CronJobError, NEXT_SCHEDULE_DELTA_MS, nextScheduleDelay, scheduleOf, type CronJobErrorCode, type CronJobSyncDeps } from "./sync.js";
export { CronJobEventHandlers, newCronJobController, type CronJobControllerOptions, type SyncingController } from "./controller.js";
export { CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION, jobFromTemplate, jobName } from "./jobs.js";
export * from "./cron.js";

/** Upstream's --concurrent-cron-job-syncs default. */
export const CRONJOB_WORKERS = 5;

export function cronJobControllerFactory(clock: Clock = realClock): ControllerFactory {
  return (ctx) => newCronJobController(ctx, { clock });
}

export const cronJobController: ControllerFactory = cronJobControllerFactory();
