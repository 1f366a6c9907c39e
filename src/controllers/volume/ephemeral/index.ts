// The controller-manager's factory for the ephemeral volume controller
// ("ephemeral-volume-controller"): the shared pod (indexed by claim) and claim informers, one
// queue of pod keys.
import { runController } from "../../../client/controller.js";
import { WorkQueue } from "../../../client/workqueue.js";
import type { Controller, ControllerContext, ControllerFactory } from "../../context.js";
import { addPodPVCIndex, POD_PVC_INDEX } from "../common.js";
import { EPHEMERAL_VOLUME_CONTROLLER, EphemeralVolumeController, EphemeralVolumeEventHandlers, ephemeralVolumeMetrics } from "./controller.js";

export {
  EPHEMERAL_VOLUME_CONTROLLER,
  EPHEMERAL_VOLUME_EVENT_SOURCE,
  EphemeralVolumeController,
  EphemeralVolumeEventHandlers,
  ephemeralVolumeMetrics,
  type EphemeralVolumeDeps,
  type EphemeralVolumeMetrics,
} from "./controller.js";

/** Run by the manager with upstream's --concurrent-ephemeralvolume-syncs default of 5 workers. */
export const ephemeralVolumeController: ControllerFactory = (ctx: ControllerContext): Controller => {
  const pods = ctx.informers.forKind("v1", "Pod");
  const claims = ctx.informers.forKind("v1", "PersistentVolumeClaim");
  addPodPVCIndex(pods);
  const queue = new WorkQueue<string>();
  const c = new EphemeralVolumeController({
    api: ctx.client,
    pods: pods.lister,
    claims: claims.lister,
    events: ctx.events,
    log: ctx.log.child({ controller: EPHEMERAL_VOLUME_CONTROLLER }),
    metrics: ephemeralVolumeMetrics(ctx.registry),
  });
  const handlers = new EphemeralVolumeEventHandlers(
    (key) => queue.add(key),
    (key) => pods.indexer.byIndex(POD_PVC_INDEX, key),
  );
  const regs = [pods.addEventHandler(handlers.pods), claims.addEventHandler(handlers.claims)];
  return {
    name: EPHEMERAL_VOLUME_CONTROLLER,
    async run(signal, workers) {
      try {
        if (!(await pods.waitForSync(signal)) || !(await claims.waitForSync(signal))) {
          queue.shutDown();
          return;
        }
        await runController({ name: EPHEMERAL_VOLUME_CONTROLLER, queue, workers, sync: (key, _s, keyLog) => c.sync(key, keyLog), log: ctx.log, signal, metrics: ctx.metrics });
      } finally {
        for (const r of regs) r.remove();
      }
    },
  };
};
