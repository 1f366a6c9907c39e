// The PV controller's decisions as pure functions of the objects (upstream pv_controller.go's
// getBindVolumeToClaim, bindClaimToVolume, updateClaimStatus, checkVolumeSatisfyClaim, and
// index.go's findBestMatchForClaim): each returns the changed copy, or undefined when nothing
// needs writing, so the controller writes only what differs.
import type { ObjectReference, PersistentVolume, PersistentVolumeClaim, PersistentVolumeClaimStatus } from "kubernetes-types/core/v1.js";
import type { StorageClass } from "kubernetes-types/storage/v1.js";
import {
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  ANN_BETA_STORAGE_CLASS,
  ANN_SELECTED_NODE,
  claimClass,
  findMatchingVolume,
  isVolumeBoundToClaim,
  volumeClass,
  volumeHasAccessModes,
  volumeModeMismatch,
} from "../../../api/persistentvolume.js";
import { quantityOf } from "../../../api/quantity.js";
import { mutableCopy, type DeepReadonly } from "../../../client/objects.js";
import { jsonEqual } from "../../../util/json.js";

export type RPV = DeepReadonly<PersistentVolume>;
export type RPVC = DeepReadonly<PersistentVolumeClaim>;

function hasAnnotation(obj: { readonly metadata?: { readonly annotations?: Readonly<Record<string, string>> } }, key: string): boolean {
  return obj.metadata?.annotations?.[key] !== undefined;
}

function setAnnotation(obj: PersistentVolume | PersistentVolumeClaim, key: string, value: string): void {
  obj.metadata ??= {};
  obj.metadata.annotations = { ...obj.metadata.annotations, [key]: value };
}

export const isBindCompleted = (claim: RPVC): boolean => hasAnnotation(claim, ANN_BIND_COMPLETED);
export const isBoundByController = (obj: RPV | RPVC): boolean => hasAnnotation(obj, ANN_BOUND_BY_CONTROLLER);

/** reference.GetReference of a claim: what a volume's claimRef holds. */
export function claimRefFor(claim: RPVC): ObjectReference {
  const m = claim.metadata;
  return {
    kind: "PersistentVolumeClaim",
    namespace: m?.namespace ?? "",
    name: m?.name ?? "",
    uid: m?.uid ?? "",
    apiVersion: "v1",
    resourceVersion: m?.resourceVersion ?? "",
  };
}

const asPV = (pv: RPV): PersistentVolume => pv as PersistentVolume;
const asPVC = (claim: RPVC): PersistentVolumeClaim => claim as PersistentVolumeClaim;

/**
 * GetBindVolumeToClaim: the volume with claimRef pointing at this claim (uid included), and
 * bound-by-controller when the controller, not the user, chose the pair. Undefined: already so.
 */
export function volumeBoundToClaim(volume: RPV, claim: RPVC): PersistentVolume | undefined {
  const byController = !isVolumeBoundToClaim(asPV(volume), asPVC(claim));
  const ref = volume.spec?.claimRef;
  const m = claim.metadata;
  let out: PersistentVolume | undefined;
  if (!ref || ref.name !== m?.name || (ref.namespace ?? "") !== (m?.namespace ?? "") || (ref.uid ?? "") !== (m?.uid ?? "")) {
    out = mutableCopy<PersistentVolume>(volume);
    out.spec ??= {};
    out.spec.claimRef = claimRefFor(claim);
  }
  if (byController && !isBoundByController(volume)) {
    out ??= mutableCopy<PersistentVolume>(volume);
    setAnnotation(out, ANN_BOUND_BY_CONTROLLER, "yes");
  }
  return out;
}

/**
 * bindClaimToVolume: spec.volumeName (with bound-by-controller when the controller set it) and
 * bind-completed. Undefined: already so.
 */
export function claimBoundToVolume(claim: RPVC, volume: RPV): PersistentVolumeClaim | undefined {
  const name = volume.metadata?.name ?? "";
  let out: PersistentVolumeClaim | undefined;
  if (claim.spec?.volumeName !== name) {
    out = mutableCopy<PersistentVolumeClaim>(claim);
    out.spec ??= {};
    out.spec.volumeName = name;
    if (!isBoundByController(claim)) setAnnotation(out, ANN_BOUND_BY_CONTROLLER, "yes");
  }
  if (!isBindCompleted(claim)) {
    out ??= mutableCopy<PersistentVolumeClaim>(claim);
    setAnnotation(out, ANN_BIND_COMPLETED, "yes");
  }
  return out;
}

export type ClaimPhase = "Pending" | "Bound" | "Lost";

/**
 * updateClaimStatus: the phase, and the volume's access modes and capacity (capacity only when
 * the claim becomes Bound: a later difference may be a resize in progress); without a volume
 * both are cleared. Undefined: the status already says so.
 */
export function claimStatusFor(claim: RPVC, phase: ClaimPhase, volume: RPV | undefined): PersistentVolumeClaimStatus | undefined {
  const cur = claim.status ?? {};
  const next: PersistentVolumeClaimStatus = mutableCopy<PersistentVolumeClaimStatus>(cur);
  let dirty = false;
  if (cur.phase !== phase) {
    next.phase = phase;
    dirty = true;
  }
  if (volume === undefined) {
    if (cur.accessModes !== undefined) {
      delete next.accessModes;
      dirty = true;
    }
    if (cur.capacity !== undefined) {
      delete next.capacity;
      dirty = true;
    }
  } else {
    const modes = volume.spec?.accessModes;
    if (!jsonEqual(cur.accessModes, modes)) {
      if (modes === undefined) delete next.accessModes;
      else next.accessModes = [...modes];
      dirty = true;
    }
    if (cur.phase !== phase) {
      const volumeCap = quantityOf(volume.spec?.capacity?.["storage"]);
      const claimCap = quantityOf(cur.capacity?.["storage"]);
      if (volumeCap !== undefined && (claimCap === undefined || volumeCap.cmp(claimCap) !== 0)) {
        next.capacity = { ...volume.spec?.capacity };
        dirty = true;
      }
    }
  }
  return dirty ? next : undefined;
}

/** checkVolumeSatisfyClaim: why a volume the claim names cannot serve it, or undefined if it can. */
export function volumeUnsatisfiedReason(volume: RPV, claim: RPVC): string | undefined {
  if (volume.metadata?.deletionTimestamp) return `the volume is marked for deletion ${JSON.stringify(volume.metadata.name ?? "")}`;
  const requested = quantityOf(claim.spec?.resources?.requests?.["storage"]);
  const size = quantityOf(volume.spec?.capacity?.["storage"]);
  if (requested !== undefined && (size === undefined || size.cmp(requested) < 0)) return "requested PV is too small";
  if (volumeClass(asPV(volume)) !== claimClass(asPVC(claim))) return "storageClassName does not match";
  if (volumeModeMismatch(asPVC(claim), asPV(volume))) return "incompatible volumeMode";
  if (!volumeHasAccessModes(asPVC(claim), asPV(volume))) return "incompatible accessMode";
  return undefined;
}

/**
 * findBestMatchForClaim: the volumes are grouped by their set of access modes; of the sets that
 * hold every mode the claim asks for, the smallest set is tried first (a ReadWriteOnce claim
 * takes a ReadWriteOnce volume before a ReadWriteOnce+ReadOnlyMany one), and the first match
 * wins.
 */
export function bestMatchForClaim(claim: RPVC, volumes: readonly RPV[], delayBinding: boolean): RPV | undefined {
  const groups = new Map<string, { size: number; volumes: PersistentVolume[] }>();
  for (const pv of volumes) {
    const modes = [...new Set(pv.spec?.accessModes ?? [])].sort();
    const key = modes.join(",");
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { size: modes.length, volumes: [] }));
    g.volumes.push(asPV(pv));
  }
  const wanted = claim.spec?.accessModes ?? [];
  const candidates = [...groups.entries()]
    .filter(([key]) => {
      const offered = new Set(key === "" ? [] : key.split(","));
      return wanted.every((m) => offered.has(m));
    })
    .sort((a, b) => a[1].size - b[1].size || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [, g] of candidates) {
    const match = findMatchingVolume(asPVC(claim), g.volumes, { delayBinding });
    if (match) return match;
  }
  return undefined;
}

/** PersistentVolumeClaimHasClass: the claim named a class (even ""), in the spec or the beta annotation. */
export function claimHasClass(claim: RPVC): boolean {
  return hasAnnotation(claim, ANN_BETA_STORAGE_CLASS) || claim.spec?.storageClassName !== undefined;
}

/** IsDelayBindingProvisioning: the scheduler picked a node for the claim's volume. */
export function isDelayBindingProvisioning(claim: RPVC): boolean {
  return hasAnnotation(claim, ANN_SELECTED_NODE);
}

export class VolumeBindingModeError extends Error {
  override readonly name = "VolumeBindingModeError";
}

/**
 * IsDelayBindingMode: the claim's class binds on first consumer. No class, or a class that
 * does not exist (yet), binds at once; a class without a mode is an error (the API server
 * defaults it, so only a broken object gets here).
 */
export function isDelayBindingMode(claim: RPVC, getClass: (name: string) => DeepReadonly<StorageClass> | undefined): boolean {
  const name = claimClass(asPVC(claim));
  if (name === "") return false;
  const sc = getClass(name);
  if (!sc) return false;
  if (sc.volumeBindingMode === undefined) throw new VolumeBindingModeError(`VolumeBindingMode not set for StorageClass ${JSON.stringify(name)}`);
  return sc.volumeBindingMode === "WaitForFirstConsumer";
}
