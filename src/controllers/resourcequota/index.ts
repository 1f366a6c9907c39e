// The controller-manager's factory for the resource quota controller ("resourcequota-controller"):
// the shared informer of ResourceQuotas and one of every counted resource (COUNTED_RESOURCES),
// one queue of quota keys.
import type { ResourceQuota } from "kubernetes-types/core/v1.js";
import { realClock, type Clock } from "../../client/clock.js";
import { runController } from "../../client/controller.js";
import type { Lister, SharedInformer } from "../../client/informer.js";
import type { KubeObject } from "../../client/objects.js";
import { WorkQueue } from "../../client/workqueue.js";
import type { Controller, ControllerContext, ControllerFactory } from "../context.js";
import { RESOURCE_QUOTA_CONTROLLER, RESOURCE_QUOTA_RESYNC_MS, ResourceQuotaController, ResourceQuotaEventHandlers, resourceKey } from "./controller.js";
import { COUNTED_RESOURCES } from "../../api/quota.js";

export { RESOURCE_QUOTA_CONTROLLER, RESOURCE_QUOTA_RESYNC_MS, ResourceQuotaController, ResourceQuotaEventHandlers, resourceKey, type ResourceQuotaDeps } from "./controller.js";
export * from "./status.js";

export function resourceQuotaControllerFactory(clock: Clock = realClock): ControllerFactory {
  return (ctx: ControllerContext): Controller => {
    const queue = new WorkQueue<string>({ clock });
    const quotas = ctx.informers.forKind("v1", "ResourceQuota");
    const tracked = COUNTED_RESOURCES.map((r) => ({ r, inf: ctx.informers.informerFor<KubeObject>(ctx.client.resource(r.group, r.version, r.plural)) }));
    const c = new ResourceQuotaController({
      api: ctx.client,
      quotas: quotas.lister as Lister<ResourceQuota>,
      objects: new Map(tracked.map(({ r, inf }) => [resourceKey(r), inf.lister])),
    });
    const h = new ResourceQuotaEventHandlers(c, (key) => queue.add(key));
    const regs = [
      quotas.addEventHandler({ onAdd: (q) => h.quotaAdded(q), onUpdate: (o, n) => h.quotaUpdated(o, n) }, { resyncPeriodMs: RESOURCE_QUOTA_RESYNC_MS }),
      ...tracked.map(({ r, inf }) =>
        inf.addEventHandler({ onAdd: (o) => h.objectChanged(r, undefined, o), onUpdate: (o, n) => h.objectChanged(r, o, n), onDelete: (o) => h.objectChanged(r, o, undefined) }),
      ),
    ];
    const informers: SharedInformer<KubeObject>[] = [quotas as unknown as SharedInformer<KubeObject>, ...tracked.map((t) => t.inf)];
    return {
      name: RESOURCE_QUOTA_CONTROLLER,
      async run(signal, workers) {
        try {
          const synced = (await Promise.all(informers.map((i) => i.waitForSync(signal)))).every(Boolean);
          if (!synced) {
            queue.shutDown();
            return;
          }
          await runController({ name: RESOURCE_QUOTA_CONTROLLER, queue, workers, sync: (key, _signal, keyLog) => c.sync(key, keyLog), log: ctx.log, signal, metrics: ctx.metrics });
        } finally {
          for (const reg of regs) reg.remove();
        }
      },
    };
  };
}

export const resourceQuotaController: ControllerFactory = resourceQuotaControllerFactory();
