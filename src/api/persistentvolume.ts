// Persistent volumes and claims: the names, annotations and finalizers the volume components
// agree on, and the claim-to-volume matching that the PV controller and the scheduler's
// VolumeBinding plugin both use (upstream component-helpers/storage/volume: pv_helpers.go,
// helpers.go; pkg/controller/volume/persistentvolume/util).
import type { PersistentVolume, PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1.js";
import type { StorageClass } from "kubernetes-types/storage/v1.js";
import { labelSelectorAsSelector, type Labels } from "./labels.js";
import { nodeSelectorMatches } from "./nodeaffinity.js";
import { quantityOf } from "./quantity.js";

/** The PV controller finished binding (on the claim): it no longer waits for the volume's side. */
export const ANN_BIND_COMPLETED = "pv.kubernetes.io/bind-completed";
/** The PV controller, not the user, bound this (on the claim, on the volume's claimRef). */
export const ANN_BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller";
/** The node the scheduler chose for a WaitForFirstConsumer claim: a provisioner makes the volume there. */
export const ANN_SELECTED_NODE = "volume.kubernetes.io/selected-node";
/** Which provisioner is to make the claim's volume (set by the PV controller). */
export const ANN_STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner";
export const ANN_BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner";
/** On a PV: the provisioner that made it (and is to delete it). */
export const ANN_DYNAMICALLY_PROVISIONED = "pv.kubernetes.io/provisioned-by";
/** The class before spec.storageClassName existed; still read first, as upstream does. */
export const ANN_BETA_STORAGE_CLASS = "volume.beta.kubernetes.io/storage-class";

export const PVC_PROTECTION_FINALIZER = "kubernetes.io/pvc-protection";
export const PV_PROTECTION_FINALIZER = "kubernetes.io/pv-protection";

export const DEFAULT_STORAGE_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class";
export const BETA_DEFAULT_STORAGE_CLASS_ANNOTATION = "storageclass.beta.kubernetes.io/is-default-class";
/** A class whose volumes are made by hand (local volumes): nothing provisions for it. */
export const NO_PROVISIONER = "kubernetes.io/no-provisioner";

/** k8ts's node-local provisioner (the agent's): hostPath volumes under the node's data dir. */
export const LOCAL_PATH_PROVISIONER = "k8ts.io/local-path";
/** The default StorageClass the agent makes for it. */
export const LOCAL_PATH_STORAGE_CLASS = "local-path";

type Annotated = { readonly metadata?: { readonly annotations?: Readonly<Record<string, string>> } };

/** storageutil.IsDefaultAnnotation: either annotation set to "true". */
export function isDefaultStorageClass(sc: Annotated): boolean {
  const a = sc.metadata?.annotations ?? {};
  return a[DEFAULT_STORAGE_CLASS_ANNOTATION] === "true" || a[BETA_DEFAULT_STORAGE_CLASS_ANNOTATION] === "true";
}

/**
 * The default class, as the DefaultStorageClass admission plugin and the PV controller pick it:
 * of several marked default, the newest (then the first by name).
 */
export function defaultStorageClass<T extends StorageClass>(classes: Iterable<T>): T | undefined {
  let best: T | undefined;
  for (const sc of classes) {
    if (!isDefaultStorageClass(sc)) continue;
    if (best === undefined) {
      best = sc;
      continue;
    }
    const a = sc.metadata?.creationTimestamp ?? "";
    const b = best.metadata?.creationTimestamp ?? "";
    if (a > b || (a === b && (sc.metadata?.name ?? "") < (best.metadata?.name ?? ""))) best = sc;
  }
  return best;
}

/** GetPersistentVolumeClaimClass: the beta annotation, else spec.storageClassName, else "". */
export function claimClass(claim: PersistentVolumeClaim): string {
  const ann = claim.metadata?.annotations?.[ANN_BETA_STORAGE_CLASS];
  if (ann !== undefined) return ann;
  return claim.spec?.storageClassName ?? "";
}

/** GetPersistentVolumeClass: the beta annotation, else spec.storageClassName, else "". */
export function volumeClass(pv: PersistentVolume): string {
  const ann = pv.metadata?.annotations?.[ANN_BETA_STORAGE_CLASS];
  if (ann !== undefined) return ann;
  return pv.spec?.storageClassName ?? "";
}

/** The claim asks for the volume: claimRef names it (and, when it carries one, its uid). */
export function isVolumeBoundToClaim(pv: PersistentVolume, claim: PersistentVolumeClaim): boolean {
  const ref = pv.spec?.claimRef;
  if (!ref) return false;
  if (ref.name !== claim.metadata?.name || (ref.namespace ?? "") !== (claim.metadata?.namespace ?? "")) return false;
  return ref.uid === undefined || ref.uid === "" || ref.uid === claim.metadata?.uid;
}

/** Every access mode the claim asks for is one the volume offers. */
export function volumeHasAccessModes(claim: PersistentVolumeClaim, pv: PersistentVolume): boolean {
  const offered = new Set(pv.spec?.accessModes ?? []);
  return (claim.spec?.accessModes ?? []).every((m) => offered.has(m));
}

/** Filesystem unless set, on both sides. */
export function volumeModeMismatch(claim: PersistentVolumeClaim, pv: PersistentVolume): boolean {
  return (claim.spec?.volumeMode ?? "Filesystem") !== (pv.spec?.volumeMode ?? "Filesystem");
}

/** The node a volume can be used from; a volume without required node affinity fits every node. */
export function volumeFitsNode(pv: PersistentVolume, node: { readonly metadata?: { readonly name?: string; readonly labels?: Labels } }): boolean {
  const required = pv.spec?.nodeAffinity?.required;
  if (!required) return true;
  return nodeSelectorMatches(required, node.metadata?.labels ?? {}, node.metadata?.name ?? "");
}

export interface MatchOptions {
  /** The node the pod would run on (the scheduler's question); undefined for the PV controller. */
  readonly node?: { readonly metadata?: { readonly name?: string; readonly labels?: Labels } };
  /** Volumes already chosen for other claims of the same pod. */
  readonly excluded?: ReadonlySet<string>;
  /**
   * The claim's class binds on first consumer: without a node, only a volume pre-bound to the
   * claim matches (the scheduler binds the rest).
   */
  readonly delayBinding?: boolean;
}

/**
 * FindMatchingVolume: a volume pre-bound to the claim if there is one that fits, else the
 * smallest Available volume of the claim's class, modes and selector that holds the request.
 */
export function findMatchingVolume<T extends PersistentVolume>(claim: PersistentVolumeClaim, volumes: Iterable<T>, o: MatchOptions = {}): T | undefined {
  const requested = quantityOf(claim.spec?.resources?.requests?.["storage"]);
  const cls = claimClass(claim);
  const selector = claim.spec?.selector ? labelSelectorAsSelector(claim.spec.selector) : undefined;
  let smallest: T | undefined;
  let smallestSize: ReturnType<typeof quantityOf> = undefined;
  for (const pv of volumes) {
    const name = pv.metadata?.name ?? "";
    if (o.excluded?.has(name)) continue;
    const size = quantityOf(pv.spec?.capacity?.["storage"]);
    if (volumeModeMismatch(claim, pv)) continue;
    if (pv.metadata?.deletionTimestamp) continue;
    const fitsNode = o.node === undefined || volumeFitsNode(pv, o.node);
    const holds = requested === undefined || (size !== undefined && size.cmp(requested) >= 0);
    if (isVolumeBoundToClaim(pv, claim)) {
      // Pre-bound: this one or none. Upstream checks neither class nor selector here: the
      // user (or a provisioner) named the claim, and that wins.
      if (!holds) continue;
      return fitsNode ? pv : undefined;
    }
    if (o.node === undefined && o.delayBinding) continue;
    if (pv.status?.phase !== "Available") continue;
    if (pv.spec?.claimRef) continue;
    if (selector && !selector.matches(pv.metadata?.labels ?? {})) continue;
    if (volumeClass(pv) !== cls) continue;
    if (!fitsNode) continue;
    if (!volumeHasAccessModes(claim, pv)) continue;
    if (!holds) continue;
    if (smallest === undefined || (size !== undefined && smallestSize !== undefined && smallestSize.cmp(size) > 0)) {
      smallest = pv;
      smallestSize = size;
    }
  }
  return smallest;
}

/**
 * The claims a pod's volumes use, by volume name: persistentVolumeClaim volumes by their claim,
 * generic ephemeral volumes by the claim the ephemeral volume controller makes for them
 * (`<pod>-<volume>`).
 */
export function podClaims(pod: Pod): { readonly volume: string; readonly claim: string; readonly ephemeral: boolean; readonly readOnly: boolean }[] {
  const out: { volume: string; claim: string; ephemeral: boolean; readOnly: boolean }[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim) out.push({ volume: v.name, claim: v.persistentVolumeClaim.claimName, ephemeral: false, readOnly: v.persistentVolumeClaim.readOnly === true });
    else if (v.ephemeral) out.push({ volume: v.name, claim: ephemeralClaimName(pod, v.name), ephemeral: true, readOnly: false });
  }
  return out;
}

/** ephemeral.VolumeClaimName. */
export function ephemeralClaimName(pod: Pod, volume: string): string {
  return `${pod.metadata?.name ?? ""}-${volume}`;
}

/** ephemeral.VolumeIsForPod: the claim was made for this pod (owned by it as controller). */
export function ephemeralClaimIsForPod(pod: Pod, claim: PersistentVolumeClaim): boolean {
  const uid = pod.metadata?.uid;
  return (claim.metadata?.ownerReferences ?? []).some((r) => r.controller === true && r.uid === uid);
}
