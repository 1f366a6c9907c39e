// The controller-manager's factory for the PV controller ("persistentvolume-binder-controller"):
// the shared claim, volume, class and pod informers; a claim queue and a volume queue with one
// worker each, as upstream runs them (two claim syncs at once could bind one volume twice);
// every claim and volume resynced each 15 s (upstream's default --pvclaimbinder-sync-period),
// so a claim waiting for a volume or a default class finds it without an event.
import type { PersistentVolume, PersistentVolumeClaim } from "kubernetes-types/core/v1.js";
import { runController } from "../../../client/controller.js";
import type { EventHandler } from "../../../client/informer.js";
import { finalStateOf, keyOf, type DeepReadonly } from "../../../client/objects.js";
import { WorkQueue } from "../../../client/workqueue.js";
import type { Controller, ControllerContext, ControllerFactory } from "../../context.js";
import { addPodPVCIndex, POD_PVC_INDEX } from "../common.js";
import { PersistentVolumeController, PV_BINDER_CONTROLLER } from "./controller.js";

export { PersistentVolumeController, PV_BINDER_CONTROLLER, PV_CONTROLLER_EVENT_SOURCE, Reasons, type PVControllerDeps } from "./controller.js";

export const PV_BINDER_SYNC_PERIOD_MS = 15_000;

export interface PVControllerOptions {
  /** How often every claim and volume is synced again; default 15 s. */
  readonly syncPeriodMs?: number;
}

export function persistentVolumeBinderControllerFactory(o: PVControllerOptions = {}): ControllerFactory {
  return (ctx: ControllerContext): Controller => {
    const claims = ctx.informers.forKind("v1", "PersistentVolumeClaim");
    const volumes = ctx.informers.forKind("v1", "PersistentVolume");
    const classes = ctx.informers.forKind("storage.k8s.io/v1", "StorageClass");
    const pods = ctx.informers.forKind("v1", "Pod");
    addPodPVCIndex(pods);
    const claimQueue = new WorkQueue<string>();
    const volumeQueue = new WorkQueue<string>();
    const log = ctx.log.child({ controller: PV_BINDER_CONTROLLER });
    const c = new PersistentVolumeController({
      api: ctx.client,
      volumes: volumes.lister,
      claims: claims.lister,
      classes: classes.lister,
      podsOfClaim: (key) => pods.indexer.byIndex(POD_PVC_INDEX, key),
      events: ctx.events,
      log,
      enqueueClaim: (key) => claimQueue.add(key),
    });
    const resync = { resyncPeriodMs: o.syncPeriodMs ?? PV_BINDER_SYNC_PERIOD_MS };
    const claimHandler: EventHandler<PersistentVolumeClaim> = {
      onAdd: (claim) => claimQueue.add(keyOf(claim)),
      onUpdate: (_old, claim) => claimQueue.add(keyOf(claim)),
      onDelete: (obj) => {
        // deleteClaim: the volume it was bound to is to be released now, not at the next resync.
        c.forgetClaim(keyOf(obj));
        const volumeName = finalStateOf(obj).spec?.volumeName;
        if (volumeName) volumeQueue.add(volumeName);
      },
    };
    const volumeHandler: EventHandler<PersistentVolume> = {
      onAdd: (pv) => volumeQueue.add(keyOf(pv)),
      onUpdate: (_old, pv) => volumeQueue.add(keyOf(pv)),
      onDelete: (obj) => {
        // deleteVolume: the claim bound to it turns Lost now, not at the next resync.
        c.forgetVolume(keyOf(obj));
        const ref = (finalStateOf(obj) as DeepReadonly<PersistentVolume>).spec?.claimRef;
        if (ref?.name) claimQueue.add(`${ref.namespace ?? ""}/${ref.name}`);
      },
    };
    const regs = [claims.addEventHandler(claimHandler, resync), volumes.addEventHandler(volumeHandler, resync)];
    return {
      name: PV_BINDER_CONTROLLER,
      async run(signal) {
        try {
          for (const inf of [claims, volumes, classes, pods]) {
            if (!(await inf.waitForSync(signal))) {
              claimQueue.shutDown();
              volumeQueue.shutDown();
              return;
            }
          }
          const common = { workers: 1, log: ctx.log, signal, metrics: ctx.metrics };
          await Promise.all([
            runController({ ...common, name: `${PV_BINDER_CONTROLLER}-claims`, queue: claimQueue, sync: (key, _s, keyLog) => c.syncClaim(key, keyLog) }),
            runController({ ...common, name: `${PV_BINDER_CONTROLLER}-volumes`, queue: volumeQueue, sync: (key, _s, keyLog) => c.syncVolume(key, keyLog) }),
          ]);
        } finally {
          for (const r of regs) r.remove();
        }
      },
    };
  };
}

/** The manager runs it with one worker per queue, whatever it is given: upstream has no knob either. */
export const persistentVolumeBinderController: ControllerFactory = persistentVolumeBinderControllerFactory();
