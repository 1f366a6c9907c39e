// The PVC protection controller (upstream pkg/controller/volume/pvcprotection, run as
// "persistentvolumeclaim-protection-controller"): a claim carries the
// kubernetes.io/pvc-protection finalizer while it lives, so deleting a claim a pod still uses
// only marks it; the finalizer comes off once no scheduled pod uses the claim. "Uses" is
// upstream's: a scheduled pod (spec.nodeName set) naming the claim in a persistentVolumeClaim
// volume, whatever its phase, or one whose generic ephemeral volume's claim it is, unless the
// kubelet is done with that pod. The informer is asked first; only when it knows no user is a
// live list of the namespace's pods asked, since the cache may not have seen a new pod yet.
import type { PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1.js";
import { PVC_PROTECTION_FINALIZER, ephemeralClaimIsForPod, ephemeralClaimName } from "../../../api/persistentvolume.js";
import { isNotFound } from "../../../client/errors.js";
import type { EventHandler, Lister } from "../../../client/informer.js";
import { finalStateOf, keyOf, mutableCopy, splitKey, type DeepReadonly, type DeletedFinalStateUnknown } from "../../../client/objects.js";
import type { Logger } from "../../../util/log.js";
import type { Api } from "../../api.js";
import { isPodTerminated } from "../common.js";
import { podClaims } from "../../../api/persistentvolume.js";

export const PVC_PROTECTION_CONTROLLER = "persistentvolumeclaim-protection-controller";

type RPVC = DeepReadonly<PersistentVolumeClaim>;
type RPod = DeepReadonly<Pod>;

const hasFinalizer = (pvc: RPVC): boolean => (pvc.metadata?.finalizers ?? []).includes(PVC_PROTECTION_FINALIZER);
/** protectionutil.IsDeletionCandidate. */
export const isDeletionCandidate = (pvc: RPVC): boolean => pvc.metadata?.deletionTimestamp !== undefined && hasFinalizer(pvc);
/** protectionutil.NeedToAddFinalizer. */
export const needToAddFinalizer = (pvc: RPVC): boolean => pvc.metadata?.deletionTimestamp === undefined && !hasFinalizer(pvc);

/**
 * podIsShutDown: deleted with a zero grace period — the kubelet is done with it, or it was
 * force-deleted. Its ephemeral claim does not hold up the claim's deletion (which the pod's own
 * finalizers might be waiting on).
 */
export function podIsShutDown(pod: RPod): boolean {
  return pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionGracePeriodSeconds === 0;
}

/** podUsesPVC. */
export function podUsesClaim(pod: RPod, pvc: RPVC): boolean {
  // Only a scheduled pod counts: the kubelet sees pods once scheduled, and refuses to start
  // one whose claim is being deleted.
  if (!pod.spec?.nodeName) return false;
  if ((pod.metadata?.namespace ?? "") !== (pvc.metadata?.namespace ?? "")) return false;
  const name = pvc.metadata?.name;
  return (pod.spec.volumes ?? []).some(
    (v) =>
      v.persistentVolumeClaim?.claimName === name ||
      (v.ephemeral !== undefined && !podIsShutDown(pod) && ephemeralClaimName(pod as Pod, v.name) === name && ephemeralClaimIsForPod(pod as Pod, pvc as PersistentVolumeClaim)),
  );
}

export interface PVCProtectionDeps {
  readonly api: Api;
  readonly claims: Lister<PersistentVolumeClaim>;
  /** Cached pods that use the claim `namespace/name` (the pod informer's claim index). */
  readonly podsOfClaim: (claimKey: string) => readonly RPod[];
  /** A live list of the namespace's pods. */
  readonly livePods: (namespace: string) => Promise<readonly RPod[]>;
  readonly log: Logger;
}

export class PVCProtectionController {
  constructor(private readonly d: PVCProtectionDeps) {}

  async sync(key: string, log: Logger = this.d.log): Promise<void> {
    const pvc = this.d.claims.get(key);
    if (!pvc) return;
    if (isDeletionCandidate(pvc)) {
      if (!(await this.isBeingUsed(key, pvc, log))) {
        await this.write(pvc, (pvc.metadata?.finalizers ?? []).filter((f) => f !== PVC_PROTECTION_FINALIZER));
        log.info({ claim: key }, "removed protection finalizer from PVC");
        return;
      }
      log.debug({ claim: key }, "keeping PVC because it is being used");
    }
    if (needToAddFinalizer(pvc)) {
      // Admission adds it to new claims; this is for claims made without it.
      await this.write(pvc, [...(pvc.metadata?.finalizers ?? []), PVC_PROTECTION_FINALIZER]);
      log.debug({ claim: key }, "added protection finalizer to PVC");
    }
  }

  private async isBeingUsed(key: string, pvc: RPVC, log: Logger): Promise<boolean> {
    const cached = this.d.podsOfClaim(key).find((p) => podUsesClaim(p, pvc));
    if (cached) {
      log.debug({ claim: key, pod: keyOf(cached) }, "pod uses PVC");
      return true;
    }
    const live = (await this.d.livePods(splitKey(key).namespace)).find((p) => podUsesClaim(p, pvc));
    if (live) log.debug({ claim: key, pod: keyOf(live) }, "pod uses PVC (live list)");
    return live !== undefined;
  }

  private async write(pvc: RPVC, finalizers: string[]): Promise<void> {
    const next = mutableCopy<PersistentVolumeClaim>(pvc);
    next.metadata ??= {};
    next.metadata.finalizers = finalizers;
    try {
      await this.d.api.resource<PersistentVolumeClaim>("", "v1", "persistentvolumeclaims").namespace(pvc.metadata?.namespace ?? "").update(next);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

/** pvcAddedUpdated, and podAddedDeletedUpdated: the claims a pod that stopped using them held. */
export class PVCProtectionEventHandlers {
  constructor(private readonly enqueue: (key: string) => void) {}

  readonly claims: EventHandler<PersistentVolumeClaim> = {
    onAdd: (pvc) => this.claimChanged(pvc),
    onUpdate: (_old, pvc) => this.claimChanged(pvc),
  };

  readonly pods: EventHandler<Pod> = {
    onAdd: (pod) => this.enqueueClaims(pod, false),
    onUpdate: (old, pod) => {
      this.enqueueClaims(pod, false);
      // An update may hide the deletion of one pod and the creation of another under its name:
      // the old one may have been all that held a claim the new one does not use.
      if (old.metadata?.uid !== pod.metadata?.uid) this.enqueueClaims(old, true);
    },
    onDelete: (obj: RPod | DeletedFinalStateUnknown<Pod>) => this.enqueueClaims(finalStateOf(obj), true),
  };

  private claimChanged(pvc: RPVC): void {
    if (needToAddFinalizer(pvc) || isDeletionCandidate(pvc)) this.enqueue(keyOf(pvc));
  }

  /** enqueuePVCs: only pods that may have stopped holding a claim (gone, finished, or never scheduled). */
  private enqueueClaims(pod: RPod, deleted: boolean): void {
    if (!deleted && !isPodTerminated(pod) && pod.spec?.nodeName) return;
    const ns = pod.metadata?.namespace ?? "";
    for (const c of podClaims(pod as Pod)) this.enqueue(`${ns}/${c.claim}`);
  }
}
