// The Job controller ("job-controller"): runs a Job's pods to completion (see sync.ts).
import type { ControllerFactory } from "../context.js";
import { newJobController } from "./controller.js";

export const jobController: ControllerFactory = (ctx) => newJobController(ctx);

export { JOB_CONTROLLER, JobEventHandlers, newJobController, type JobControllerOptions, type SyncingJobController } from "./controller.js";
export { FinalizerRemovals, JOB_TRACKING_FINALIZER, JobSyncer, podFor, isFinished, type JobCaches, type JobSyncDeps } from "./sync.js";
export { COMPLETION_INDEX_ANNOTATION, INDEX_FAILURE_COUNT_ANNOTATION, INDEX_IGNORED_FAILURE_COUNT_ANNOTATION, formatIndexes, parseIndexes } from "./indexes.js";
export { matchPodFailurePolicy, type PodFailureMatch } from "./podfailurepolicy.js";
export { matchSuccessPolicy } from "./successpolicy.js";
