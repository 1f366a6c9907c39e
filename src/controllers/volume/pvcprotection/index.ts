// The controller-manager's factory for the PVC protection controller
// ("persistentvolumeclaim-protection-controller"): the shared claim and pod informers (pods
// indexed by claim), one queue of claim keys.
import type { Pod } from "kubernetes-types/core/v1.js";
import { runController } from "../../../client/controller.js";
import { WorkQueue } from "../../../client/workqueue.js";
import type { Controller, ControllerContext, ControllerFactory } from "../../context.js";
import { addPodPVCIndex, POD_PVC_INDEX } from "../common.js";
import { PVC_PROTECTION_CONTROLLER, PVCProtectionController, PVCProtectionEventHandlers } from "./controller.js";

export { PVC_PROTECTION_CONTROLLER, PVCProtectionController, PVCProtectionEventHandlers, isDeletionCandidate, needToAddFinalizer, podIsShutDown, podUsesClaim, type PVCProtectionDeps } from "./controller.js";

/** Run by the manager with upstream's one worker. */
export const pvcProtectionController: ControllerFactory = (ctx: ControllerContext): Controller => {
  const claims = ctx.informers.forKind("v1", "PersistentVolumeClaim");
  const pods = ctx.informers.forKind("v1", "Pod");
  addPodPVCIndex(pods);
  const queue = new WorkQueue<string>();
  const c = new PVCProtectionController({
    api: ctx.client,
    claims: claims.lister,
    podsOfClaim: (key) => pods.indexer.byIndex(POD_PVC_INDEX, key),
    livePods: async (ns) => (await ctx.client.forKind("v1", "Pod").namespace(ns).listAll()).items as Pod[],
    log: ctx.log.child({ controller: PVC_PROTECTION_CONTROLLER }),
  });
  const handlers = new PVCProtectionEventHandlers((key) => queue.add(key));
  const regs = [claims.addEventHandler(handlers.claims), pods.addEventHandler(handlers.pods)];
  return {
    name: PVC_PROTECTION_CONTROLLER,
    async run(signal, workers) {
      try {
        if (!(await claims.waitForSync(signal)) || !(await pods.waitForSync(signal))) {
          queue.shutDown();
          return;
        }
        await runController({ name: PVC_PROTECTION_CONTROLLER, queue, workers, sync: (key, _s, keyLog) => c.sync(key, keyLog), log: ctx.log, signal, metrics: ctx.metrics });
      } finally {
        for (const r of regs) r.remove();
      }
    },
  };
};
