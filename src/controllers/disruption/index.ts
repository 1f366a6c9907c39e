// The controller-manager's factory for the disruption controller ("disruption-controller"):
// informers on PDBs, pods and the four workload kinds whose scale a percentage resolves
// against; one queue of PDB keys and one of pods whose DisruptionTarget condition may go stale.
import { realClock, type Clock } from "../../client/clock.js";
import { runController } from "../../client/controller.js";
import { WorkQueue } from "../../client/workqueue.js";
import type { Controller, ControllerContext, ControllerFactory } from "../context.js";
import { DISRUPTION_CONTROLLER, DisruptionController, DisruptionEventHandlers } from "./controller.js";

export { DISRUPTION_CONTROLLER, DisruptionController, DisruptionEventHandlers, STALE_POD_DISRUPTION_TIMEOUT_MS, type DisruptionDeps, type DisruptionListers } from "./controller.js";
export * from "./status.js";

export function disruptionControllerFactory(clock: Clock = realClock): ControllerFactory {
  return (ctx: ControllerContext): Controller => {
    const queue = new WorkQueue<string>({ clock });
    const staleQueue = new WorkQueue<string>({ clock });
    const inf = {
      pdbs: ctx.informers.forKind("policy/v1", "PodDisruptionBudget"),
      pods: ctx.informers.forKind("v1", "Pod"),
      replicationControllers: ctx.informers.forKind("v1", "ReplicationController"),
      replicaSets: ctx.informers.forKind("apps/v1", "ReplicaSet"),
      deployments: ctx.informers.forKind("apps/v1", "Deployment"),
      statefulSets: ctx.informers.forKind("apps/v1", "StatefulSet"),
    };
    const enqueuePodAfter = (key: string, ms: number): void => staleQueue.addAfter(key, ms);
    const c = new DisruptionController({
      api: ctx.client,
      listers: {
        pdbs: inf.pdbs.lister,
        pods: inf.pods.lister,
        replicationControllers: inf.replicationControllers.lister,
        replicaSets: inf.replicaSets.lister,
        deployments: inf.deployments.lister,
        statefulSets: inf.statefulSets.lister,
      },
      events: ctx.events,
      clock,
      enqueueAfter: (key, ms) => queue.addAfter(key, ms),
      enqueuePodAfter,
    });
    const h = new DisruptionEventHandlers(c, (key) => queue.add(key), enqueuePodAfter);
    const regs = [
      inf.pdbs.addEventHandler({ onAdd: (o) => h.pdbChanged(o), onUpdate: (_o, n) => h.pdbChanged(n), onDelete: (o) => h.pdbChanged(o) }),
      inf.pods.addEventHandler({ onAdd: (p) => h.podAdded(p), onUpdate: (a, b) => h.podUpdated(a, b), onDelete: (p) => h.podDeleted(p) }),
    ];
    return {
      name: DISRUPTION_CONTROLLER,
      async run(signal, workers) {
        try {
          const synced = (await Promise.all(Object.values(inf).map((i) => i.waitForSync(signal)))).every(Boolean);
          if (!synced) {
            queue.shutDown();
            staleQueue.shutDown();
            return;
          }
          await Promise.all([
            runController({ name: DISRUPTION_CONTROLLER, queue, workers, sync: (key, _signal, keyLog) => c.sync(key, keyLog), log: ctx.log, signal, metrics: ctx.metrics }),
            runController({ name: `${DISRUPTION_CONTROLLER}-stale-pod-disruption`, queue: staleQueue, workers: 1, sync: (key, _signal, keyLog) => c.syncStalePod(key, keyLog), log: ctx.log, signal, metrics: ctx.metrics }),
          ]);
        } finally {
          for (const r of regs) r.remove();
        }
      },
    };
  };
}

export const disruptionController: ControllerFactory = disruptionControllerFactory();
