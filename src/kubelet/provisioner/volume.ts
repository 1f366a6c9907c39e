// What the node-local provisioner makes and removes, as pure functions and one careful
// directory removal: the StorageClass it offers, the claims it may provision (rancher's
// local-path-provisioner's rules and messages), the PersistentVolume it writes for a claim, and
// which Released volumes are its own to delete.
import { lstat, mkdir, chmod, rm, unlink } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { PersistentVolume, PersistentVolumeClaim } from "kubernetes-types/core/v1.js";
import type { StorageClass } from "kubernetes-types/storage/v1.js";
import {
  ANN_DYNAMICALLY_PROVISIONED,
  ANN_SELECTED_NODE,
  ANN_STORAGE_PROVISIONER,
  claimClass,
  DEFAULT_STORAGE_CLASS_ANNOTATION,
  LOCAL_PATH_PROVISIONER,
  LOCAL_PATH_STORAGE_CLASS,
  volumeFitsNode,
} from "../../api/persistentvolume.js";
import { goQuote } from "../../api/fielderrors.js";
import type { DeepReadonly } from "../../client/objects.js";
import { CodedError } from "../../util/errors.js";
import { mountsUnder } from "../volumes/mounts.js";

export class ProvisionerError extends CodedError<"NotOurs" | "Mounted"> {
  override readonly name = "ProvisionerError";
}

export const HOSTNAME_LABEL = "kubernetes.io/hostname";

/** The class the agent offers when none of its name exists (k3s's local-path class, our provisioner). */
export function localPathStorageClass(): StorageClass {
  return {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: LOCAL_PATH_STORAGE_CLASS, annotations: { [DEFAULT_STORAGE_CLASS_ANNOTATION]: "true" } },
    provisioner: LOCAL_PATH_PROVISIONER,
    // A node-local directory exists on one node: the scheduler picks the node first.
    volumeBindingMode: "WaitForFirstConsumer",
    reclaimPolicy: "Delete",
  };
}

type Claim = DeepReadonly<PersistentVolumeClaim>;
type Class = DeepReadonly<StorageClass>;
type Volume = DeepReadonly<PersistentVolume>;

/** What to do with a claim, seen from one node's provisioner. */
export type ClaimDecision =
  /** not this provisioner's, not yet, or not this node's */
  | { readonly action: "ignore" }
  /** this node's to provision, in `className` */
  | { readonly action: "provision"; readonly className: string }
  /** this provisioner's, but it cannot be provisioned; `message` is the ProvisioningFailed event */
  | { readonly action: "refuse"; readonly message: string };

/**
 * The external-provisioner's shouldProvision, for one node: an unbound claim of a class of this
 * provisioner (or annotated for it by the PV controller), whose selected node is this node.
 */
export function decideClaim(claim: Claim, classOf: (name: string) => Class | undefined, nodeName: string): ClaimDecision {
  if (claim.spec?.volumeName || claim.metadata?.deletionTimestamp) return { action: "ignore" };
  const className = claimClass(claim as PersistentVolumeClaim);
  const cls = classOf(className);
  if (!cls || cls.provisioner !== LOCAL_PATH_PROVISIONER) return { action: "ignore" };
  const annotated = claim.metadata?.annotations?.[ANN_STORAGE_PROVISIONER];
  if (annotated !== undefined && annotated !== LOCAL_PATH_PROVISIONER) return { action: "ignore" };
  const selected = claim.metadata?.annotations?.[ANN_SELECTED_NODE];
  if (selected === undefined || selected === "") {
    // An Immediate class: no node will ever be chosen for the claim. (Every node's provisioner
    // says so; each event names its node.)
    if (cls.volumeBindingMode !== "WaitForFirstConsumer") {
      return {
        action: "refuse",
        message: failed(className, `configuration error, no node was specified (${LOCAL_PATH_PROVISIONER} makes volumes on one node: StorageClass ${goQuote(className)} must have volumeBindingMode WaitForFirstConsumer)`),
      };
    }
    return { action: "ignore" };
  }
  if (selected !== nodeName) return { action: "ignore" };
  if (claim.spec?.volumeMode === "Block") return { action: "refuse", message: `${LOCAL_PATH_PROVISIONER} does not support block volume provisioning` };
  const selector = claim.spec?.selector;
  if (selector && (Object.keys(selector.matchLabels ?? {}).length > 0 || (selector.matchExpressions ?? []).length > 0)) {
    return { action: "refuse", message: failed(className, "claim.Spec.Selector is not supported") };
  }
  // A directory on one node cannot be shared by pods of several nodes.
  for (const mode of claim.spec?.accessModes ?? []) {
    if (mode !== "ReadWriteOnce" && mode !== "ReadWriteOncePod") {
      return { action: "refuse", message: failed(className, "NodePath only supports ReadWriteOnce and ReadWriteOncePod (1.22+) access modes") };
    }
  }
  if (claim.spec?.dataSource || claim.spec?.dataSourceRef) {
    return { action: "refuse", message: failed(className, `${LOCAL_PATH_PROVISIONER} does not populate volumes from a dataSource`) };
  }
  if (claim.spec?.resources?.requests?.["storage"] === undefined) {
    return { action: "refuse", message: failed(className, "configuration error, no volume size was specified") };
  }
  return { action: "provision", className };
}

/** The external-provisioner's ProvisioningFailed message. */
export function failed(className: string, reason: string): string {
  return `failed to provision volume with StorageClass ${goQuote(className)}: ${reason}`;
}

/** The PV a claim gets: `pvc-<claim uid>`, as the external-provisioner names it. */
export function volumeName(claim: Claim): string {
  return `pvc-${claim.metadata?.uid ?? ""}`;
}

const PATH_ELEMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** `<storage root>/pvc-<uid>_<namespace>_<name>` (rancher's folder naming); throws on names that are not plain path elements. */
export function volumeDir(storageRoot: string, claim: Claim): string {
  const md = claim.metadata ?? {};
  const parts = [md.uid ?? "", md.namespace ?? "", md.name ?? ""];
  if (!parts.every((p) => PATH_ELEMENT.test(p))) throw new ProvisionerError("NotOurs", `claim ${md.namespace ?? ""}/${md.name ?? ""} (uid ${md.uid ?? ""}) does not name a usable directory`);
  return join(storageRoot, `pvc-${parts.join("_")}`);
}

/** The PersistentVolume for a claim provisioned on this node, in `dir`. */
export function provisionedVolume(claim: Claim, cls: Class, className: string, dir: string, nodeHostname: string): PersistentVolume {
  const md = claim.metadata ?? {};
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name: volumeName(claim), annotations: { [ANN_DYNAMICALLY_PROVISIONED]: LOCAL_PATH_PROVISIONER } },
    spec: {
      capacity: { storage: claim.spec!.resources!.requests!["storage"]! },
      accessModes: [...(claim.spec?.accessModes ?? ["ReadWriteOnce"])],
      volumeMode: claim.spec?.volumeMode ?? "Filesystem",
      storageClassName: className,
      persistentVolumeReclaimPolicy: cls.reclaimPolicy ?? "Delete",
      hostPath: { path: dir, type: "DirectoryOrCreate" },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: HOSTNAME_LABEL, operator: "In", values: [nodeHostname] }] }] } },
      // The PV controller completes the binding from this side (pre-bound to the claim).
      claimRef: {
        kind: "PersistentVolumeClaim",
        apiVersion: "v1",
        namespace: md.namespace ?? "",
        name: md.name ?? "",
        uid: md.uid ?? "",
        ...(md.resourceVersion ? { resourceVersion: md.resourceVersion } : {}),
      },
      ...(cls.mountOptions?.length ? { mountOptions: [...cls.mountOptions] } : {}),
    },
  };
}

/**
 * A volume this node's provisioner made and is to delete now: provisioned by it, Released,
 * reclaim policy Delete, its node affinity naming this node (hostname label).
 */
export function isReleasedForDeletion(pv: Volume, nodeName: string, nodeHostname: string): boolean {
  if (pv.metadata?.annotations?.[ANN_DYNAMICALLY_PROVISIONED] !== LOCAL_PATH_PROVISIONER) return false;
  if (pv.status?.phase !== "Released" || pv.spec?.persistentVolumeReclaimPolicy !== "Delete") return false;
  return isOnNode(pv, nodeName, nodeHostname);
}

/** The volume's required node affinity selects this node (and it has one: ours always do). */
export function isOnNode(pv: Volume, nodeName: string, nodeHostname: string): boolean {
  if (!pv.spec?.nodeAffinity?.required) return false;
  return volumeFitsNode(pv as PersistentVolume, { metadata: { name: nodeName, labels: { [HOSTNAME_LABEL]: nodeHostname } } });
}

/** Makes a claim's directory, 0777 as rancher's helper makes it (any container user may write). */
export async function makeVolumeDir(storageRoot: string, dir: string): Promise<void> {
  await mkdir(storageRoot, { recursive: true, mode: 0o700 });
  try {
    await mkdir(dir, { mode: 0o777 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return;
    throw err;
  }
  await chmod(dir, 0o777);
}

/**
 * Removes a volume's directory: only a direct child of the storage root named pvc-…; a
 * symlink there is unlinked, never followed, and nothing inside is followed either (fs.rm
 * unlinks symlinks); nothing mounted below it is deleted through. Gone already is done.
 */
export async function removeVolumeDir(storageRoot: string, path: string): Promise<void> {
  const root = resolve(storageRoot);
  const target = resolve(path);
  if (target !== path || dirname(target) !== root || !/^pvc-[^/]+$/.test(basename(target))) {
    throw new ProvisionerError("NotOurs", `${path} is not a volume directory of ${root}: not deleted`);
  }
  let st;
  try {
    st = await lstat(target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  if (!st.isDirectory()) {
    await unlink(target);
    return;
  }
  const mounted = await mountsUnder(target);
  if (mounted.length > 0) throw new ProvisionerError("Mounted", `${target} has mounts below it (${mounted.join(", ")}): not deleted`);
  await rm(target, { recursive: true, force: true });
}
