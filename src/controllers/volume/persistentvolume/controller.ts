// The PersistentVolume controller (upstream pkg/controller/volume/persistentvolume, run by
// kube-controller-manager as "persistentvolume-binder-controller"): binds claims to volumes in
// both directions (volume.spec.claimRef, claim.spec.volumeName), keeps both phases true, hands
// claims of provisioning classes to their provisioner by annotation, and reclaims volumes whose
// claim is gone. Volumes are never made or deleted here: every provisioner is external to k8ts's
// controller-manager (k8ts's own, k8ts.io/local-path, runs in the agent), so a volume to delete
// is left to the provisioner that made it, and one without a provisioner fails as upstream's
// does when no in-tree plugin can delete or recycle it.
//
// Two queues, as upstream: claims (`namespace/name`) and volumes (`name`), each reconciled from
// the caches laid over with the versions this controller wrote (cache.ts).
import type { PersistentVolume, PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1.js";
import type { StorageClass } from "kubernetes-types/storage/v1.js";
import {
  ANN_BETA_STORAGE_PROVISIONER,
  ANN_BOUND_BY_CONTROLLER,
  ANN_DYNAMICALLY_PROVISIONED,
  ANN_STORAGE_PROVISIONER,
  claimClass,
  defaultStorageClass,
  isVolumeBoundToClaim,
  volumeModeMismatch,
} from "../../../api/persistentvolume.js";
import { isNotFound } from "../../../client/errors.js";
import type { Lister } from "../../../client/informer.js";
import { keyOf, mutableCopy, splitKey, type DeepReadonly, type KubeObject } from "../../../client/objects.js";
import type { Logger } from "../../../util/log.js";
import type { Api, ResourceApi } from "../../api.js";
import type { EventSink } from "../../context.js";
import { isPodTerminated } from "../common.js";
import {
  bestMatchForClaim,
  claimBoundToVolume,
  claimHasClass,
  claimStatusFor,
  isBindCompleted,
  isBoundByController,
  isDelayBindingMode,
  isDelayBindingProvisioning,
  volumeBoundToClaim,
  volumeUnsatisfiedReason,
  type ClaimPhase,
  type RPV,
  type RPVC,
} from "./binding.js";
import { WrittenVersions } from "./cache.js";

export const PV_BINDER_CONTROLLER = "persistentvolume-binder-controller";
/** The source of its events, as upstream's recorder names it. */
export const PV_CONTROLLER_EVENT_SOURCE = "persistentvolume-controller";

/** Upstream's event reasons (pkg/controller/volume/events). */
export const Reasons = {
  FailedBinding: "FailedBinding",
  VolumeMismatch: "VolumeMismatch",
  ProvisioningFailed: "ProvisioningFailed",
  ExternalProvisioning: "ExternalProvisioning",
  WaitForFirstConsumer: "WaitForFirstConsumer",
  WaitForPodScheduled: "WaitForPodScheduled",
  ClaimLost: "ClaimLost",
  ClaimMisbound: "ClaimMisbound",
  VolumeFailedRecycle: "VolumeFailedRecycle",
  VolumeFailedDelete: "VolumeFailedDelete",
  VolumeUnknownReclaimPolicy: "VolumeUnknownReclaimPolicy",
} as const;

type VolumePhase = "Pending" | "Available" | "Bound" | "Released" | "Failed";

/** In-tree plugin names: none of them provisions, deletes or recycles in k8ts. */
const IN_TREE_PREFIX = "kubernetes.io/";

export interface PVControllerDeps {
  readonly api: Api;
  readonly volumes: Lister<PersistentVolume>;
  readonly claims: Lister<PersistentVolumeClaim>;
  readonly classes: Lister<StorageClass>;
  /** Pods that use the claim `namespace/name` (the pod informer's claim index). */
  readonly podsOfClaim: (claimKey: string) => readonly DeepReadonly<Pod>[];
  readonly events: EventSink;
  readonly log: Logger;
  /** Puts a claim key into the claim queue (a volume sync that needs the claim side done). */
  readonly enqueueClaim: (key: string) => void;
}

export class PersistentVolumeController {
  private readonly writtenVolumes = new WrittenVersions<PersistentVolume>();
  private readonly writtenClaims = new WrittenVersions<PersistentVolumeClaim>();

  constructor(private readonly d: PVControllerDeps) {}

  private get pvs(): ResourceApi<PersistentVolume> {
    return this.d.api.resource<PersistentVolume>("", "v1", "persistentvolumes");
  }

  private pvcs(namespace: string): ResourceApi<PersistentVolumeClaim> {
    return this.d.api.resource<PersistentVolumeClaim>("", "v1", "persistentvolumeclaims").namespace(namespace);
  }

  private event(obj: RPV | RPVC, type: "Normal" | "Warning", reason: string, message: string): void {
    this.d.events.event(obj as KubeObject, type, reason, message);
  }

  /** A volume as this controller last knew it. */
  volume(name: string): RPV | undefined {
    return this.writtenVolumes.latest(this.d.volumes.get(name));
  }

  claim(key: string): RPVC | undefined {
    return this.writtenClaims.latest(this.d.claims.get(key));
  }

  private allVolumes(): RPV[] {
    return this.d.volumes.list().map((pv) => this.writtenVolumes.latest(pv) ?? pv);
  }

  /** The informer saw the object go: nothing written under its key is current any more. */
  forgetVolume(name: string): void {
    this.writtenVolumes.forget(name);
  }

  forgetClaim(key: string): void {
    this.writtenClaims.forget(key);
  }

  // ---- claims ----------------------------------------------------------------------------

  /** syncClaim: a claim that has not completed binding, or one that has. */
  async syncClaim(key: string, log: Logger = this.d.log): Promise<void> {
    const claim = this.claim(key);
    if (!claim) return;
    if (!isBindCompleted(claim)) await this.syncUnboundClaim(claim, log);
    else await this.syncBoundClaim(claim);
  }

  private async syncUnboundClaim(claim: RPVC, log: Logger): Promise<void> {
    const volumeName = claim.spec?.volumeName ?? "";
    if (volumeName === "") {
      const delayBinding = isDelayBindingMode(claim, (n) => this.d.classes.get(n));
      const volume = bestMatchForClaim(claim, this.allVolumes(), delayBinding);
      if (volume) {
        log.debug({ claim: keyOf(claim as KubeObject), volume: volume.metadata?.name }, "binding claim to matching volume");
        await this.bind(volume, claim);
        return;
      }
      // Retroactive default class: a claim made before any default existed gets it now.
      if (await this.assignDefaultStorageClass(claim, log)) return;
      if (delayBinding && !isDelayBindingProvisioning(claim)) {
        this.emitWaitingForConsumer(claim);
      } else if (claimClass(claim as PersistentVolumeClaim) !== "") {
        // The provisioner (or the administrator) makes the volume; the next sync binds it.
        await this.provisionClaim(claim);
        return;
      } else {
        this.event(claim, "Normal", Reasons.FailedBinding, "no persistent volumes available for this claim and no storage class is set");
      }
      await this.updateClaimStatus(claim, "Pending", undefined);
      return;
    }

    // The user asked for a specific volume.
    const volume = this.volume(volumeName);
    if (!volume) {
      await this.updateClaimStatus(claim, "Pending", undefined);
      return;
    }
    const ref = volume.spec?.claimRef;
    if (!ref) {
      const why = volumeUnsatisfiedReason(volume, claim);
      if (why !== undefined) {
        this.event(claim, "Warning", Reasons.VolumeMismatch, `Cannot bind to requested volume ${JSON.stringify(volumeName)}: ${why}`);
        await this.updateClaimStatus(claim, "Pending", undefined);
        return;
      }
      await this.bind(volume, claim);
      return;
    }
    if (isVolumeBoundToClaim(volume as PersistentVolume, claim as PersistentVolumeClaim)) {
      // Pre-bound both ways (or half done): finish it, filling in the claim's uid.
      await this.bind(volume, claim);
      return;
    }
    this.event(claim, "Warning", Reasons.FailedBinding, `volume ${JSON.stringify(volumeName)} already bound to a different claim.`);
    if (!isBoundByController(claim)) {
      // The user's choice: wait until that volume is free.
      await this.updateClaimStatus(claim, "Pending", undefined);
      return;
    }
    throw new Error(`invalid binding of claim ${JSON.stringify(keyOf(claim as KubeObject))} to volume ${JSON.stringify(volumeName)}: volume already claimed by ${JSON.stringify(`${ref.namespace ?? ""}/${ref.name ?? ""}`)}`);
  }

  private async syncBoundClaim(claim: RPVC): Promise<void> {
    const volumeName = claim.spec?.volumeName ?? "";
    if (volumeName === "") {
      await this.updateClaimStatusWithEvent(claim, "Lost", "Warning", Reasons.ClaimLost, "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!");
      return;
    }
    const volume = this.volume(volumeName);
    if (!volume) {
      await this.updateClaimStatusWithEvent(claim, "Lost", "Warning", Reasons.ClaimLost, "Bound claim has lost its PersistentVolume. Data on the volume is lost!");
      return;
    }
    const ref = volume.spec?.claimRef;
    if (!ref || (ref.uid ?? "") === (claim.metadata?.uid ?? "")) {
      // Unbound on the volume's side (or our write not seen yet), or all is well: bind() makes
      // every part true and writes nothing that already is.
      await this.bind(volume, claim);
      return;
    }
    await this.updateClaimStatusWithEvent(claim, "Lost", "Warning", Reasons.ClaimMisbound, "Two claims are bound to the same volume, this one is bound incorrectly");
  }

  /** assignDefaultStorageClass: a claim with no class at all (nil, not "") gets the default one. */
  private async assignDefaultStorageClass(claim: RPVC, log: Logger): Promise<boolean> {
    if (claimHasClass(claim)) return false;
    const sc = defaultStorageClass(this.d.classes.list() as StorageClass[]);
    if (!sc) return false;
    const name = sc.metadata?.name ?? "";
    const next = mutableCopy<PersistentVolumeClaim>(claim);
    next.spec ??= {};
    next.spec.storageClassName = name;
    this.writtenClaims.remember(await this.pvcs(claim.metadata?.namespace ?? "").update(next));
    log.info({ claim: keyOf(claim as KubeObject), storageClass: name }, "assigned the default StorageClass to the claim");
    return true;
  }

  /** emitEventForUnboundDelayBindingClaim: says whether a pod is waiting on the scheduler. */
  private emitWaitingForConsumer(claim: RPVC): void {
    const pods = this.d
      .podsOfClaim(keyOf(claim as KubeObject))
      .filter((p) => !isPodTerminated(p) && !p.spec?.nodeName)
      .map((p) => p.metadata?.name ?? "");
    if (pods.length === 0) {
      this.event(claim, "Normal", Reasons.WaitForFirstConsumer, "waiting for first consumer to be created before binding");
      return;
    }
    const message = pods.length > 1 ? `waiting for pods ${pods.join(",")} to be scheduled` : `waiting for pod ${pods[0]} to be scheduled`;
    this.event(claim, "Normal", Reasons.WaitForPodScheduled, message);
  }

  /**
   * provisionClaim with every provisioner external: annotate the claim with the class's
   * provisioner, which watches for that, and say so. Upstream repeats the event on every sync
   * while the claim waits (the recorder folds the repeats into a count).
   */
  private async provisionClaim(claim: RPVC): Promise<void> {
    const name = claimClass(claim as PersistentVolumeClaim);
    const sc = this.d.classes.get(name);
    if (!sc) {
      this.event(claim, "Warning", Reasons.ProvisioningFailed, `storageclass.storage.k8s.io ${JSON.stringify(name)} not found`);
      return;
    }
    const provisioner = sc.provisioner ?? "";
    if (provisioner.startsWith(IN_TREE_PREFIX)) {
      // No in-tree plugin provisions here (kubernetes.io/no-provisioner least of all): the
      // error upstream's plugin manager gives for a name it does not have.
      this.event(claim, "Warning", Reasons.ProvisioningFailed, `no volume plugin matched name: ${provisioner}`);
      return;
    }
    let current = claim;
    const a = claim.metadata?.annotations ?? {};
    if (a[ANN_STORAGE_PROVISIONER] !== provisioner || a[ANN_BETA_STORAGE_PROVISIONER] !== provisioner) {
      const next = mutableCopy<PersistentVolumeClaim>(claim);
      next.metadata ??= {};
      next.metadata.annotations = { ...next.metadata.annotations, [ANN_BETA_STORAGE_PROVISIONER]: provisioner, [ANN_STORAGE_PROVISIONER]: provisioner };
      const saved = await this.pvcs(claim.metadata?.namespace ?? "").update(next);
      this.writtenClaims.remember(saved);
      current = saved;
    }
    this.event(
      current,
      "Normal",
      Reasons.ExternalProvisioning,
      `Waiting for a volume to be created either by the external provisioner '${provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
    );
  }

  // ---- volumes ---------------------------------------------------------------------------

  /** syncVolume: the volume's phase from its claimRef and the claim it names. */
  async syncVolume(name: string, log: Logger = this.d.log): Promise<void> {
    const volume = this.volume(name);
    if (!volume) return;
    const ref = volume.spec?.claimRef;
    if (!ref) {
      await this.updateVolumePhase(volume, "Available", "");
      return;
    }
    const claimKey = `${ref.namespace ?? ""}/${ref.name ?? ""}`;
    if (!ref.uid) {
      // Reserved for a claim that has not bound to it yet: the claim's sync binds it (and fills
      // in the uid) once the claim exists.
      await this.updateVolumePhase(volume, "Available", "");
      if (this.claim(claimKey)) this.d.enqueueClaim(claimKey);
      return;
    }
    let claim = this.claim(claimKey);
    const phase = volume.status?.phase;
    if (!claim && phase !== "Released" && phase !== "Failed") {
      // A provisioner or the scheduler may have written the volume before this cache saw the
      // claim: ask the API before releasing anything.
      claim = await this.liveClaim(claimKey);
    }
    if (claim && claim.metadata?.uid !== ref.uid) {
      // The claim was deleted and made again under its name; the cache may lag, so ask.
      claim = await this.liveClaim(claimKey);
      if (claim && claim.metadata?.uid !== ref.uid) claim = undefined;
    }

    if (!claim) {
      let released = volume;
      if (phase !== "Released" && phase !== "Failed") {
        log.info({ volume: name, reclaimPolicy: volume.spec?.persistentVolumeReclaimPolicy }, "volume is released and reclaim policy will be executed");
        released = await this.updateVolumePhase(volume, "Released", "");
      }
      await this.reclaimVolume(released, log);
      return;
    }
    const boundTo = claim.spec?.volumeName ?? "";
    if (boundTo === "") {
      if (volumeModeMismatch(claim as PersistentVolumeClaim, volume as PersistentVolume)) {
        this.event(volume, "Warning", Reasons.VolumeMismatch, `Cannot bind PersistentVolume to requested PersistentVolumeClaim ${JSON.stringify(claim.metadata?.name ?? "")} due to incompatible volumeMode.`);
        this.event(claim, "Warning", Reasons.VolumeMismatch, `Cannot bind PersistentVolume ${JSON.stringify(name)} to requested PersistentVolumeClaim due to incompatible volumeMode.`);
        return;
      }
      // The claim's side is not done (a provisioned or pre-bound volume): its sync does it.
      this.d.enqueueClaim(claimKey);
      return;
    }
    if (boundTo === name) {
      await this.updateVolumePhase(volume, "Bound", "");
      return;
    }
    // The claim went to another volume.
    if (volume.metadata?.annotations?.[ANN_DYNAMICALLY_PROVISIONED] !== undefined && volume.spec?.persistentVolumeReclaimPolicy === "Delete") {
      // Provisioned for this claim, which no longer needs it: release it for its provisioner.
      let released = volume;
      if (phase !== "Released" && phase !== "Failed") released = await this.updateVolumePhase(volume, "Released", "");
      await this.reclaimVolume(released, log);
      return;
    }
    await this.unbindVolume(volume);
  }

  private async liveClaim(key: string): Promise<RPVC | undefined> {
    const { namespace, name } = splitKey(key);
    try {
      return await this.pvcs(namespace).get(name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** unbindVolume: a controller-made binding is undone; a user's pre-binding keeps its name, loses the uid. */
  private async unbindVolume(volume: RPV): Promise<void> {
    const next = mutableCopy<PersistentVolume>(volume);
    next.spec ??= {};
    if (isBoundByController(volume)) {
      delete next.spec.claimRef;
      const annotations = { ...next.metadata?.annotations };
      delete annotations[ANN_BOUND_BY_CONTROLLER];
      if (next.metadata) {
        if (Object.keys(annotations).length === 0) delete next.metadata.annotations;
        else next.metadata.annotations = annotations;
      }
    } else if (next.spec.claimRef) {
      next.spec.claimRef.uid = "";
    }
    const saved = await this.pvs.update(next);
    this.writtenVolumes.remember(saved);
    await this.updateVolumePhase(saved, "Available", "");
  }

  /** reclaimVolume by the volume's policy, with no plugin to delete or recycle anything. */
  private async reclaimVolume(volume: RPV, log: Logger): Promise<void> {
    const name = volume.metadata?.name ?? "";
    switch (volume.spec?.persistentVolumeReclaimPolicy) {
      case "Retain":
        log.debug({ volume: name }, "reclaim policy is Retain, nothing to do");
        return;
      case "Recycle":
        await this.recycleVolume(volume);
        return;
      case "Delete":
        await this.deleteVolume(volume, log);
        return;
      default:
        await this.updateVolumePhaseWithEvent(volume, "Failed", "Warning", Reasons.VolumeUnknownReclaimPolicy, "Volume has unrecognized PersistentVolumeReclaimPolicy");
    }
  }

  /** recycleVolumeOperation up to finding a recycler, which k8ts does not have. */
  private async recycleVolume(volume: RPV): Promise<void> {
    const fresh = await this.liveVolume(volume.metadata?.name ?? "");
    if (!fresh || !this.isVolumeReleased(fresh)) return;
    const ref = fresh.spec?.claimRef;
    const claimKey = `${ref?.namespace ?? ""}/${ref?.name ?? ""}`;
    const users = this.d
      .podsOfClaim(claimKey)
      .filter((p) => !isPodTerminated(p))
      .map((p) => p.metadata?.name ?? "");
    if (users.length > 0 && !this.claim(claimKey)) {
      this.event(fresh, "Normal", Reasons.VolumeFailedRecycle, `Volume is used by pods: ${users.join(",")}`);
      return;
    }
    await this.updateVolumePhaseWithEvent(fresh, "Failed", "Warning", Reasons.VolumeFailedRecycle, "No recycler plugin found for the volume!");
  }

  /**
   * deleteVolumeOperation up to finding a deleter: a volume an external provisioner made is
   * that provisioner's to delete; any other has no deleter here.
   */
  private async deleteVolume(volume: RPV, log: Logger): Promise<void> {
    const name = volume.metadata?.name ?? "";
    const fresh = await this.liveVolume(name);
    if (!fresh || !this.isVolumeReleased(fresh)) return;
    const provisionedBy = fresh.metadata?.annotations?.[ANN_DYNAMICALLY_PROVISIONED] ?? "";
    let failure: string;
    if (provisionedBy !== "" && !provisionedBy.startsWith(IN_TREE_PREFIX)) {
      log.debug({ volume: name, provisioner: provisionedBy }, "external deleter for volume requested, ignoring");
      return;
    } else if (provisionedBy !== "") {
      failure = `no volume plugin matched name: ${provisionedBy}`;
    } else {
      failure = `error getting deleter volume plugin for volume ${JSON.stringify(name)}: no deletable volume plugin matched`;
    }
    await this.updateVolumePhaseWithEvent(fresh, "Failed", "Warning", Reasons.VolumeFailedDelete, failure);
  }

  private async liveVolume(name: string): Promise<RPV | undefined> {
    try {
      const pv = await this.pvs.get(name);
      this.writtenVolumes.remember(pv);
      return pv;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** isVolumeReleased: bound (with a uid) to a claim that is gone, or that went to another volume. */
  private isVolumeReleased(volume: RPV): boolean {
    const ref = volume.spec?.claimRef;
    if (!ref?.uid) return false;
    const claim = this.claim(`${ref.namespace ?? ""}/${ref.name ?? ""}`);
    if (claim && claim.metadata?.uid === ref.uid) {
      const boundTo = claim.spec?.volumeName ?? "";
      return boundTo !== "" && boundTo !== volume.metadata?.name;
    }
    return true;
  }

  // ---- writes ----------------------------------------------------------------------------

  /**
   * bind: volume.spec.claimRef, volume phase Bound, claim.spec.volumeName, claim status Bound —
   * in that order, each written only if it differs. A failure part way leaves the rest to the
   * next sync of either object.
   */
  async bind(volume: RPV, claim: RPVC): Promise<void> {
    let pv = volume;
    const boundVolume = volumeBoundToClaim(pv, claim);
    if (boundVolume) {
      pv = await this.pvs.update(boundVolume);
      this.writtenVolumes.remember(pv);
    }
    pv = await this.updateVolumePhase(pv, "Bound", "");
    let pvc = claim;
    const boundClaim = claimBoundToVolume(pvc, pv);
    if (boundClaim) {
      pvc = await this.pvcs(claim.metadata?.namespace ?? "").update(boundClaim);
      this.writtenClaims.remember(pvc);
    }
    await this.updateClaimStatus(pvc, "Bound", pv);
  }

  private async updateVolumePhase(volume: RPV, phase: VolumePhase, message: string): Promise<RPV> {
    if (volume.status?.phase === phase) return volume;
    const copy = mutableCopy<PersistentVolume>(volume);
    const status = { ...copy.status, phase };
    if (message === "") delete status.message;
    else status.message = message;
    // kubernetes-types marks status read-only: the copy gets a new one instead.
    const next: PersistentVolume = { ...copy, status };
    const saved = await this.pvs.updateStatus(next);
    this.writtenVolumes.remember(saved);
    return saved;
  }

  private async updateVolumePhaseWithEvent(volume: RPV, phase: VolumePhase, type: "Normal" | "Warning", reason: string, message: string): Promise<void> {
    if (volume.status?.phase === phase) return;
    const saved = await this.updateVolumePhase(volume, phase, message);
    this.event(saved, type, reason, message);
  }

  private async updateClaimStatus(claim: RPVC, phase: ClaimPhase, volume: RPV | undefined): Promise<RPVC> {
    const status = claimStatusFor(claim, phase, volume);
    if (!status) return claim;
    const next: PersistentVolumeClaim = { ...mutableCopy<PersistentVolumeClaim>(claim), status };
    const saved = await this.pvcs(claim.metadata?.namespace ?? "").updateStatus(next);
    this.writtenClaims.remember(saved);
    return saved;
  }

  private async updateClaimStatusWithEvent(claim: RPVC, phase: ClaimPhase, type: "Normal" | "Warning", reason: string, message: string): Promise<void> {
    if (claim.status?.phase === phase) return;
    const saved = await this.updateClaimStatus(claim, phase, undefined);
    this.event(saved, type, reason, message);
  }
}
