// The controller-manager's factory for the TTL-after-finished controller
// ("ttl-after-finished-controller"): the shared Job informer, one queue of Job keys.
import { realClock, type Clock } from "../../client/clock.js";
import { runController } from "../../client/controller.js";
import { WorkQueue } from "../../client/workqueue.js";
import type { Controller, ControllerContext, ControllerFactory } from "../context.js";
import { TTL_AFTER_FINISHED_CONTROLLER, TTLAfterFinishedController, TTLAfterFinishedEventHandlers, ttlAfterFinishedMetrics } from "./controller.js";

export {
  TTL_AFTER_FINISHED_CONTROLLER,
  TTLAfterFinishedController,
  TTLAfterFinishedEventHandlers,
  ttlAfterFinishedMetrics,
  jobFinishTime,
  needsCleanup,
  type TTLAfterFinishedDeps,
  type TTLAfterFinishedMetrics,
} from "./controller.js";

export function ttlAfterFinishedControllerFactory(clock: Clock = realClock): ControllerFactory {
  return (ctx: ControllerContext): Controller => {
    const queue = new WorkQueue<string>({ clock });
    const jobs = ctx.informers.forKind("batch/v1", "Job");
    const c = new TTLAfterFinishedController({
      api: ctx.client,
      jobs: jobs.lister,
      log: ctx.log.child({ controller: TTL_AFTER_FINISHED_CONTROLLER }),
      clock,
      enqueueAfter: (key, ms) => queue.addAfter(key, ms),
      metrics: ttlAfterFinishedMetrics(ctx.registry),
    });
    const reg = jobs.addEventHandler(new TTLAfterFinishedEventHandlers((key) => queue.add(key)));
    return {
      name: TTL_AFTER_FINISHED_CONTROLLER,
      async run(signal, workers) {
        try {
          if (!(await jobs.waitForSync(signal))) {
            queue.shutDown();
            return;
          }
          await runController({ name: TTL_AFTER_FINISHED_CONTROLLER, queue, workers, sync: (key, _signal, keyLog) => c.sync(key, keyLog), log: ctx.log, signal, metrics: ctx.metrics });
        } finally {
          reg.remove();
        }
      },
    };
  };
}

/** Run by the manager with upstream's --concurrent-ttl-after-finished-syncs default of 5 workers. */
export const ttlAfterFinishedController: ControllerFactory = ttlAfterFinishedControllerFactory();
