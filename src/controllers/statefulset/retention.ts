// persistentVolumeClaimRetentionPolicy through ownerReferences (upstream isClaimOwnerUpToDate,
// updateClaimOwnerRefForSetAndPod; KEP-1847, GA in 1.32): the garbage collector deletes a
// claim with the set as its controller when the set goes (whenDeleted: Delete), and one with
// its pod as controller when that pod goes (whenScaled: Delete, only for ordinals scaled away).
//
//   Retain/Retain: no ref to set or pod   Retain on scale, Delete on delete: the set
//   Delete on scale, Retain on delete: the pod once scaled down
//   Delete/Delete: the pod once scaled down, the set otherwise
import type { OwnerReference } from "kubernetes-types/meta/v1.js";
import type { DeepReadonly } from "../../client/objects.js";
import type { RPod } from "../replicaset/podutil.js";
import { inOrdinalRange, retentionPolicy, STATEFULSET_API_VERSION, STATEFULSET_KIND, type RClaim, type RSet } from "./util.js";

type Ref = DeepReadonly<OwnerReference>;

interface Target {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
}

function setTarget(set: RSet): Target {
  return { apiVersion: STATEFULSET_API_VERSION, kind: STATEFULSET_KIND, name: set.metadata?.name ?? "", uid: set.metadata?.uid ?? "" };
}

function podTarget(pod: RPod): Target {
  return { apiVersion: "v1", kind: "Pod", name: pod.metadata?.name ?? "", uid: pod.metadata?.uid ?? "" };
}

/** Same kind and name, whatever the uid (upstream matchesRef). */
function matchesRef(ref: Ref, t: Target): boolean {
  return ref.apiVersion === t.apiVersion && ref.kind === t.kind && ref.name === t.name;
}

function hasOwnerRef(claim: RClaim, t: Target): boolean {
  return (claim.metadata?.ownerReferences ?? []).some((r) => r.uid === t.uid);
}

/** A ref to an earlier object of the same name: someone else's (upstream hasStaleOwnerRef). */
export function hasStaleOwnerRef(claim: RClaim, t: Target): boolean {
  const ref = (claim.metadata?.ownerReferences ?? []).find((r) => matchesRef(r, t));
  return ref !== undefined && ref.uid !== t.uid;
}

/** Whether a claim refers to a pod of that name other than this one: the old pod's claim, awaiting collection. */
export function claimIsStaleForPod(claim: RClaim, pod: RPod): boolean {
  return hasStaleOwnerRef(claim, podTarget(pod));
}

/** A controller other than the set or pod, or a ref to another object of their names (upstream hasUnexpectedController). */
function hasUnexpectedController(claim: RClaim, set: RSet, pod: RPod): boolean {
  const p = retentionPolicy(set);
  if (p.whenScaled === "Retain" && p.whenDeleted === "Retain") return false;
  const s = setTarget(set);
  const o = podTarget(pod);
  for (const ref of claim.metadata?.ownerReferences ?? []) {
    if (matchesRef(ref, s)) {
      if (ref.uid !== s.uid) return true;
      continue;
    }
    if (matchesRef(ref, o)) {
      if (ref.uid !== o.uid) return true;
      continue;
    }
    if (ref.controller === true) return true;
  }
  return false;
}

function hasNonControllerOwner(claim: RClaim, set: RSet, pod: RPod): boolean {
  const uids = new Set([set.metadata?.uid, pod.metadata?.uid]);
  return (claim.metadata?.ownerReferences ?? []).some((r) => uids.has(r.uid) && r.controller !== true);
}

/** Whether the claim's ownerReferences already say the set's policy for this pod (upstream isClaimOwnerUpToDate). */
export function isClaimOwnerUpToDate(claim: RClaim, set: RSet, pod: RPod): boolean {
  const s = setTarget(set);
  const o = podTarget(pod);
  // Managed by an earlier set or pod of the same name: left for the garbage collector.
  if (hasStaleOwnerRef(claim, s) || hasStaleOwnerRef(claim, o)) return true;
  if (hasUnexpectedController(claim, set, pod)) return !(hasOwnerRef(claim, s) || hasOwnerRef(claim, o));
  if (hasNonControllerOwner(claim, set, pod)) return false;
  const p = retentionPolicy(set);
  const scaledDown = !inOrdinalRange(pod, set);
  const wantSet = p.whenDeleted === "Delete" && !(p.whenScaled === "Delete" && scaledDown);
  const wantPod = p.whenScaled === "Delete" && scaledDown;
  return hasOwnerRef(claim, s) === wantSet && hasOwnerRef(claim, o) === wantPod;
}

function controllerRef(t: Target): OwnerReference {
  return { apiVersion: t.apiVersion, kind: t.kind, name: t.name, uid: t.uid, controller: true, blockOwnerDeletion: true };
}

/** The claim's ownerReferences as the policy wants them (upstream updateClaimOwnerRefForSetAndPod). */
export function claimOwnerRefs(claim: RClaim, set: RSet, pod: RPod): OwnerReference[] {
  const s = setTarget(set);
  const o = podTarget(pod);
  const unexpected = hasUnexpectedController(claim, set, pod);
  const refs = (structuredClone(claim.metadata?.ownerReferences ?? []) as OwnerReference[]).filter((r) => !matchesRef(r, s) && !matchesRef(r, o));
  // Another controller: ours are scrubbed and none added on top of it.
  if (unexpected) return refs;
  const p = retentionPolicy(set);
  const scaledDown = !inOrdinalRange(pod, set);
  if (p.whenScaled === "Delete" && scaledDown) refs.push(controllerRef(o));
  else if (p.whenDeleted === "Delete" && (p.whenScaled === "Retain" || p.whenScaled === "Delete")) refs.push(controllerRef(s));
  return refs;
}
