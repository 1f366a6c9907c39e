// persistentVolumeClaim and generic ephemeral volumes: the claim is followed to its bound
// PersistentVolume, whose source is what the containers get. The checks and their messages are
// upstream's volume manager's (desired_state_of_world_populator.go: createVolumeSpec,
// getPVCExtractPV, getPVSpec; component-helpers ephemeral.VolumeIsForPod): a pod waits until
// its claim is Bound to a volume that names the claim back.
import { stat } from "node:fs/promises";
import type { PersistentVolume, PersistentVolumeClaim, Pod, Volume } from "kubernetes-types/core/v1.js";
import { ephemeralClaimIsForPod, ephemeralClaimName } from "../../api/persistentvolume.js";
import { goQuote } from "../../api/fielderrors.js";
import type { MountedVolume, ObjectSource } from "../types.js";
import { checkHostPath } from "./hostpath.js";

/** The PV sources k8ts mounts: directories on this node. */
export const SUPPORTED_PV_SOURCES = ["hostPath", "local"] as const;

/** PersistentVolumeSpec fields that are not the volume's source. */
const NOT_A_SOURCE = new Set(["accessModes", "capacity", "claimRef", "mountOptions", "nodeAffinity", "persistentVolumeReclaimPolicy", "storageClassName", "volumeMode", "volumeAttributesClassName"]);

/** A claim volume that cannot be set up (yet); `message` is what the FailedMount event says. */
export class ClaimVolumeError extends Error {
  override readonly name = "ClaimVolumeError";
  constructor(
    message: string,
    /** the volume's source is one k8ts does not mount (the volume is invalid, not waiting) */
    readonly unsupported = false,
  ) {
    super(message);
  }
}

/** The claim a volume names, and whether the pod's volume asks for read-only. */
export function claimOfVolume(pod: Pod, v: Volume): { readonly claim: string; readonly ephemeral: boolean; readonly readOnly: boolean } | undefined {
  if (v.persistentVolumeClaim) return { claim: v.persistentVolumeClaim.claimName, ephemeral: false, readOnly: v.persistentVolumeClaim.readOnly === true };
  if (v.ephemeral) return { claim: ephemeralClaimName(pod, v.name), ephemeral: true, readOnly: false };
  return undefined;
}

/** getPVCExtractPV: the claim must exist, not be being deleted, and be Bound to a named volume. */
async function boundClaim(objects: ObjectSource, namespace: string, name: string): Promise<PersistentVolumeClaim> {
  let claim: PersistentVolumeClaim | undefined;
  try {
    claim = await objects.persistentVolumeClaim(namespace, name);
  } catch (err) {
    throw new ClaimVolumeError(`failed to fetch PVC from API server: ${(err as Error).message}`);
  }
  // The Go client's NotFound error, as upstream's message carries it.
  if (!claim) throw new ClaimVolumeError(`failed to fetch PVC from API server: persistentvolumeclaims ${goQuote(name)} not found`);
  // Pods that use a claim being deleted must not start (StorageObjectInUseProtection).
  if (claim.metadata?.deletionTimestamp) throw new ClaimVolumeError("PVC is being deleted");
  if (claim.status?.phase !== "Bound") throw new ClaimVolumeError("PVC is not bound");
  if (!claim.spec?.volumeName) throw new ClaimVolumeError("PVC has empty pvc.Spec.VolumeName");
  return claim;
}

/** getPVSpec: the volume must exist and its claimRef must name the claim by uid. */
async function boundVolume(objects: ObjectSource, name: string, claimUid: string): Promise<PersistentVolume> {
  let pv: PersistentVolume | undefined;
  try {
    pv = await objects.persistentVolume(name);
  } catch (err) {
    throw new ClaimVolumeError(`failed to fetch PV ${name} from API server: ${(err as Error).message}`);
  }
  if (!pv) throw new ClaimVolumeError(`failed to fetch PV ${name} from API server: persistentvolumes ${goQuote(name)} not found`);
  const ref = pv.spec?.claimRef;
  if (!ref) throw new ClaimVolumeError(`found PV object ${name} but it has a nil pv.Spec.ClaimRef indicating it is not yet bound to the claim`);
  if ((ref.uid ?? "") !== claimUid) throw new ClaimVolumeError(`found PV object ${name} but its pv.Spec.ClaimRef.UID ${ref.uid ?? ""} does not point to claim.UID ${claimUid}`);
  return pv;
}

function mountedByContainers(pod: Pod, volume: string): boolean {
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? []), ...(pod.spec?.ephemeralContainers ?? [])];
  return containers.some((c) => (c.volumeMounts ?? []).some((m) => m.name === volume));
}

/**
 * The host directory of a claim volume, checked as the volume's plugin checks it: a hostPath
 * PV by its type (DirectoryOrCreate makes it), a local PV's path must be a directory. Throws
 * ClaimVolumeError while the pod must wait, or when the volume cannot be mounted here.
 */
export async function setUpClaimVolume(objects: ObjectSource, pod: Pod, v: Volume): Promise<MountedVolume> {
  const ref = claimOfVolume(pod, v);
  if (!ref) throw new ClaimVolumeError(`volume ${goQuote(v.name)} names no claim`);
  const namespace = pod.metadata?.namespace ?? "default";
  const processing = (message: string): string => `error processing PVC ${namespace}/${ref.claim}: ${message}`;

  let claim: PersistentVolumeClaim;
  try {
    claim = await boundClaim(objects, namespace, ref.claim);
  } catch (err) {
    if (err instanceof ClaimVolumeError) throw new ClaimVolumeError(processing(err.message));
    throw err;
  }
  // A claim of the ephemeral volume's name that its pod did not make is someone else's data.
  if (ref.ephemeral && (claim.metadata?.namespace !== pod.metadata?.namespace || !ephemeralClaimIsForPod(pod, claim))) {
    throw new ClaimVolumeError(`PVC ${namespace}/${ref.claim} was not created for pod ${namespace}/${pod.metadata?.name ?? ""} (pod is not owner)`);
  }
  let pv: PersistentVolume;
  try {
    pv = await boundVolume(objects, claim.spec!.volumeName!, claim.metadata?.uid ?? "");
  } catch (err) {
    if (err instanceof ClaimVolumeError) throw new ClaimVolumeError(processing(err.message));
    throw err;
  }

  const mode = pv.spec?.volumeMode ?? "Filesystem";
  if (mode !== "Filesystem") {
    if (mountedByContainers(pod, v.name)) throw new ClaimVolumeError(`volume ${v.name} has volumeMode ${mode}, but is specified in volumeMounts`);
    throw new ClaimVolumeError(`volume ${v.name} has volumeMode ${mode}: k8ts does not support raw block volumes (volumeDevices)`, true);
  }
  // As upstream's NewSpecFromPersistentVolume: read-only is the pod's volume's say.
  const readOnly = ref.readOnly;
  const spec = pv.spec!;
  if (spec.hostPath) {
    try {
      await checkHostPath(spec.hostPath.path, spec.hostPath.type ?? "");
    } catch (err) {
      throw new ClaimVolumeError((err as Error).message);
    }
    return { hostPath: spec.hostPath.path, readOnly };
  }
  if (spec.local) {
    await checkLocalPath(spec.local.path);
    return { hostPath: spec.local.path, readOnly };
  }
  const source = Object.keys(spec).find((k) => !NOT_A_SOURCE.has(k) && (spec as Record<string, unknown>)[k] != null) ?? "(none)";
  throw new ClaimVolumeError(`PersistentVolume ${pv.metadata?.name ?? ""} has a ${source} source: k8ts mounts PersistentVolumes with ${SUPPORTED_PV_SOURCES.join(" or ")} sources only`, true);
}

/** The local volume plugin's check: the path must be a directory (block devices are not formatted here). */
async function checkLocalPath(path: string): Promise<void> {
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Go's os.Stat error text, which upstream's plugin reports.
    if (code === "ENOENT") throw new ClaimVolumeError(`stat ${path}: no such file or directory`);
    throw new ClaimVolumeError(`stat ${path}: ${(err as Error).message}`);
  }
  if (st.isDirectory()) return;
  if (st.isBlockDevice()) throw new ClaimVolumeError(`local volume ${path} is a block device: k8ts mounts local volumes on directories only`, true);
  throw new ClaimVolumeError("only directory and block device are supported");
}
