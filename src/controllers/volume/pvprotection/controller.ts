// The PV protection controller (upstream pkg/controller/volume/pvprotection, run as
// "persistentvolume-protection-controller"): a volume carries the kubernetes.io/pv-protection
// finalizer while it lives, so deleting a volume that is still Bound to a claim only marks it;
// the finalizer comes off, and the volume goes, once it is not Bound any more. Admission adds
// the finalizer to new volumes; this adds it to volumes made before (or around) admission.
import type { PersistentVolume } from "kubernetes-types/core/v1.js";
import { PV_PROTECTION_FINALIZER } from "../../../api/persistentvolume.js";
import { isNotFound } from "../../../client/errors.js";
import type { EventHandler, Lister } from "../../../client/informer.js";
import { keyOf, mutableCopy, type DeepReadonly } from "../../../client/objects.js";
import type { Logger } from "../../../util/log.js";
import type { Api } from "../../api.js";

export const PV_PROTECTION_CONTROLLER = "persistentvolume-protection-controller";

type RPV = DeepReadonly<PersistentVolume>;

const hasFinalizer = (pv: RPV): boolean => (pv.metadata?.finalizers ?? []).includes(PV_PROTECTION_FINALIZER);
/** protectionutil.IsDeletionCandidate. */
export const isDeletionCandidate = (pv: RPV): boolean => pv.metadata?.deletionTimestamp !== undefined && hasFinalizer(pv);
/** protectionutil.NeedToAddFinalizer. */
export const needToAddFinalizer = (pv: RPV): boolean => pv.metadata?.deletionTimestamp === undefined && !hasFinalizer(pv);

export interface PVProtectionDeps {
  readonly api: Api;
  readonly volumes: Lister<PersistentVolume>;
  readonly log: Logger;
}

export class PVProtectionController {
  constructor(private readonly d: PVProtectionDeps) {}

  async sync(name: string, log: Logger = this.d.log): Promise<void> {
    const pv = this.d.volumes.get(name);
    if (!pv) return;
    if (isDeletionCandidate(pv)) {
      // The PV controller keeps the phase: Bound means a claim still holds the volume.
      if (pv.status?.phase !== "Bound") {
        await this.write(pv, (pv.metadata?.finalizers ?? []).filter((f) => f !== PV_PROTECTION_FINALIZER));
        log.info({ volume: name }, "removed protection finalizer from PV");
        return;
      }
      log.debug({ volume: name }, "keeping PV because it is being used");
    }
    if (needToAddFinalizer(pv)) {
      await this.write(pv, [...(pv.metadata?.finalizers ?? []), PV_PROTECTION_FINALIZER]);
      log.debug({ volume: name }, "added protection finalizer to PV");
    }
  }

  private async write(pv: RPV, finalizers: string[]): Promise<void> {
    const next = mutableCopy<PersistentVolume>(pv);
    next.metadata ??= {};
    next.metadata.finalizers = finalizers;
    try {
      await this.d.api.resource<PersistentVolume>("", "v1", "persistentvolumes").update(next);
    } catch (err) {
      // Gone: nothing left to protect.
      if (!isNotFound(err)) throw err;
    }
  }
}

/** pvAddedUpdated: only volumes that need the finalizer added or taken off. */
export class PVProtectionEventHandlers implements EventHandler<PersistentVolume> {
  constructor(private readonly enqueue: (key: string) => void) {}

  onAdd(pv: RPV): void {
    this.maybeEnqueue(pv);
  }

  onUpdate(_old: RPV, pv: RPV): void {
    this.maybeEnqueue(pv);
  }

  private maybeEnqueue(pv: RPV): void {
    if (needToAddFinalizer(pv) || isDeletionCandidate(pv)) this.enqueue(keyOf(pv));
  }
}
