// A StatefulSet pod's identity and storage (upstream stateful_set_utils.go): pod `<set>-<n>`
// for each ordinal n from spec.ordinals.start, labelled with its name and index, with hostname
// and subdomain so the headless service gives it a stable DNS name, and one claim
// `<template>-<set>-<n>` per volumeClaimTemplate mounted under the template's name.
import type { StatefulSet } from "kubernetes-types/apps/v1.js";
import type { PersistentVolumeClaim, Pod, PodSpec, PodTemplateSpec, Volume } from "kubernetes-types/core/v1.js";
import type { DeepReadonly } from "../../client/objects.js";
import { controllerRefFor, type Owner } from "../replicaset/claim.js";
import { isPodAvailable, isPodReady, type RPod } from "../replicaset/podutil.js";
import { CONTROLLER_REVISION_HASH_LABEL } from "../history/history.js";

export type RSet = DeepReadonly<StatefulSet>;
export type RClaim = DeepReadonly<PersistentVolumeClaim>;

export const STATEFULSET_KIND = "StatefulSet";
export const STATEFULSET_API_VERSION = "apps/v1";
/** apps/v1 StatefulSetPodNameLabel: lets a Service select exactly one member. */
export const POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name";
/** apps/v1 PodIndexLabel (feature PodIndexLabel, on by default since 1.28). */
export const POD_INDEX_LABEL = "apps.kubernetes.io/pod-index";

export function setOwner(set: RSet): Owner {
  return { apiVersion: STATEFULSET_API_VERSION, kind: STATEFULSET_KIND, metadata: set.metadata ?? {} };
}

const STATEFUL_POD = /^(.*)-([0-9]+)$/;

/** The set name and ordinal a pod name encodes; ordinal -1 when it encodes none (upstream getParentNameAndOrdinal). */
export function parentAndOrdinal(name: string | undefined): { parent: string; ordinal: number } {
  const m = STATEFUL_POD.exec(name ?? "");
  if (!m) return { parent: "", ordinal: -1 };
  const n = Number(m[2]);
  // ParseInt(…, 10, 32): an ordinal beyond int32 does not parse, but the parent still does.
  return { parent: m[1]!, ordinal: Number.isSafeInteger(n) && n <= 2 ** 31 - 1 ? n : -1 };
}

export function ordinalOf(pod: RPod): number {
  return parentAndOrdinal(pod.metadata?.name).ordinal;
}

export function startOrdinal(set: RSet): number {
  return set.spec?.ordinals?.start ?? 0;
}

export function replicasOf(set: RSet): number {
  return set.spec?.replicas ?? 1;
}

/** Whether the pod's ordinal is one the set currently wants (upstream podInOrdinalRange). */
export function inOrdinalRange(pod: RPod, set: RSet): boolean {
  const o = ordinalOf(pod);
  return o >= startOrdinal(set) && o < startOrdinal(set) + replicasOf(set);
}

export function podName(set: RSet, ordinal: number): string {
  return `${set.metadata?.name ?? ""}-${ordinal}`;
}

/** `<template>-<set>-<ordinal>`: a name the volume zone-spreading heuristics also parse. */
export function claimName(set: RSet, template: string, ordinal: number): string {
  return `${template}-${set.metadata?.name ?? ""}-${ordinal}`;
}

/** Upstream isMemberOf: the pod's name says it is one of this set's. */
export function isMemberOf(set: RSet, pod: RPod): boolean {
  return parentAndOrdinal(pod.metadata?.name).parent === (set.metadata?.name ?? "");
}

/** Upstream identityMatches (hostname and subdomain are immutable once the pod exists, so they are not compared). */
export function identityMatches(set: RSet, pod: RPod): boolean {
  const { parent, ordinal } = parentAndOrdinal(pod.metadata?.name);
  return ordinal >= 0 && parent === set.metadata?.name && pod.metadata?.name === podName(set, ordinal) && (pod.metadata?.namespace ?? "") === (set.metadata?.namespace ?? "") && pod.metadata?.labels?.[POD_NAME_LABEL] === pod.metadata?.name;
}

/** Upstream storageMatches: a volume per claim template, naming the pod's own claim. */
export function storageMatches(set: RSet, pod: RPod): boolean {
  const ordinal = ordinalOf(pod);
  if (ordinal < 0) return false;
  const volumes = new Map((pod.spec?.volumes ?? []).map((v) => [v.name, v]));
  for (const t of set.spec?.volumeClaimTemplates ?? []) {
    const v = volumes.get(t.metadata?.name ?? "");
    if (v?.persistentVolumeClaim?.claimName !== claimName(set, t.metadata?.name ?? "", ordinal)) return false;
  }
  return true;
}

export interface RetentionPolicy {
  readonly whenDeleted: string;
  readonly whenScaled: string;
}

export function retentionPolicy(set: RSet): RetentionPolicy {
  const p = set.spec?.persistentVolumeClaimRetentionPolicy;
  return { whenDeleted: p?.whenDeleted ?? "Retain", whenScaled: p?.whenScaled ?? "Retain" };
}

/**
 * The claims a pod of this ordinal uses, one per template in template order (upstream
 * getPersistentVolumeClaims): the template with its per-pod name and the set's matchLabels.
 */
export function claimsFor(set: RSet, ordinal: number): { template: string; claim: PersistentVolumeClaim }[] {
  const match = set.spec?.selector?.matchLabels ?? {};
  return (set.spec?.volumeClaimTemplates ?? []).map((t) => {
    const { status: _status, ...copy } = structuredClone(t) as PersistentVolumeClaim;
    const template = t.metadata?.name ?? "";
    const claim: PersistentVolumeClaim = {
      ...copy,
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { ...copy.metadata, name: claimName(set, template, ordinal), namespace: set.metadata?.namespace ?? "", labels: { ...(copy.metadata?.labels ?? {}), ...match } },
    };
    return { template, claim };
  });
}

/** Upstream updateIdentity: name, namespace and the name and index labels follow the ordinal. */
export function applyIdentity(set: RSet, pod: Pod): void {
  const ordinal = ordinalOf(pod);
  const name = podName(set, ordinal);
  pod.metadata = { ...pod.metadata, name, namespace: set.metadata?.namespace ?? "", labels: { ...(pod.metadata?.labels ?? {}), [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal) } };
}

/** Upstream updateStorage: a volume per claim template first, then the pod's other volumes (a template's claim replaces a volume of its name). */
export function applyStorage(set: RSet, pod: Pod): void {
  const claims = claimsFor(set, ordinalOf(pod));
  const names = new Set(claims.map((c) => c.template));
  const volumes: Volume[] = claims.map((c) => ({ name: c.template, persistentVolumeClaim: { claimName: c.claim.metadata?.name ?? "", readOnly: false } }));
  for (const v of pod.spec?.volumes ?? []) if (!names.has(v.name)) volumes.push(v);
  pod.spec = { ...(pod.spec as PodSpec), volumes };
}

/**
 * A new pod of `ordinal` from `template` (a revision's template), with the revision's name as
 * its controller-revision-hash (upstream newVersionedStatefulSetPod / newStatefulSetPod).
 */
export function newStatefulPod(set: RSet, template: DeepReadonly<PodTemplateSpec>, ordinal: number, revision: string): Pod {
  const m = template.metadata;
  const name = podName(set, ordinal);
  const pod: Pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: set.metadata?.namespace ?? "",
      labels: { ...(m?.labels ?? {}) },
      ...(m?.annotations ? { annotations: { ...m.annotations } } : {}),
      ...(m?.finalizers ? { finalizers: [...m.finalizers] } : {}),
      ownerReferences: [controllerRefFor(setOwner(set))],
    },
    spec: structuredClone((template.spec ?? { containers: [] }) as PodSpec),
  };
  applyIdentity(set, pod);
  // Only at creation: both are immutable afterwards.
  pod.spec!.hostname = name;
  if (set.spec?.serviceName) pod.spec!.subdomain = set.spec.serviceName;
  applyStorage(set, pod);
  pod.metadata!.labels![CONTROLLER_REVISION_HASH_LABEL] = revision;
  return pod;
}

/** The revision (a ControllerRevision's name) a pod was made from. */
export function podRevision(pod: RPod): string {
  return pod.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? "";
}

/** Seen by the API server, which sets a phase on every pod it stores (upstream isCreated). */
export function isCreated(pod: RPod): boolean {
  return (pod.status?.phase ?? "") !== "";
}

export function isTerminating(pod: RPod): boolean {
  return Boolean(pod.metadata?.deletionTimestamp);
}

export function isRunningAndReady(pod: RPod): boolean {
  return pod.status?.phase === "Running" && isPodReady(pod);
}

export function isRunningAndAvailable(pod: RPod, minReadySeconds: number, now: number): boolean {
  return isPodAvailable(pod, minReadySeconds, now);
}

export function isHealthy(pod: RPod): boolean {
  return isRunningAndReady(pod) && !isTerminating(pod);
}

/** Parallel pod management: no ordering between pods (upstream allowsBurst). */
export function allowsBurst(set: RSet): boolean {
  return set.spec?.podManagementPolicy === "Parallel";
}
