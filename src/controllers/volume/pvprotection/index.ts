// The controller-manager's factory for the PV protection controller
// ("persistentvolume-protection-controller"): the shared PV informer, one queue of volume names.
import { runController } from "../../../client/controller.js";
import { WorkQueue } from "../../../client/workqueue.js";
import type { Controller, ControllerContext, ControllerFactory } from "../../context.js";
import { PV_PROTECTION_CONTROLLER, PVProtectionController, PVProtectionEventHandlers } from "./controller.js";

export { PV_PROTECTION_CONTROLLER, PVProtectionController, PVProtectionEventHandlers, isDeletionCandidate, needToAddFinalizer, type PVProtectionDeps } from "./controller.js";

/** Run by the manager with upstream's one worker. */
export const pvProtectionController: ControllerFactory = (ctx: ControllerContext): Controller => {
  const volumes = ctx.informers.forKind("v1", "PersistentVolume");
  const queue = new WorkQueue<string>();
  const c = new PVProtectionController({ api: ctx.client, volumes: volumes.lister, log: ctx.log.child({ controller: PV_PROTECTION_CONTROLLER }) });
  const reg = volumes.addEventHandler(new PVProtectionEventHandlers((key) => queue.add(key)));
  return {
    name: PV_PROTECTION_CONTROLLER,
    async run(signal, workers) {
      try {
        if (!(await volumes.waitForSync(signal))) {
          queue.shutDown();
          return;
        }
        await runController({ name: PV_PROTECTION_CONTROLLER, queue, workers, sync: (key, _s, keyLog) => c.sync(key, keyLog), log: ctx.log, signal, metrics: ctx.metrics });
      } finally {
        reg.remove();
      }
    },
  };
};
