// Deployment facts and arithmetic shared by the rollout strategies (upstream
// pkg/controller/deployment/util): annotations, revisions, the pod-template hash, which
// ReplicaSet is new, surge and unavailability bounds, proportions, conditions.
import type { Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet } from "kubernetes-types/apps/v1.js";
import type { PodTemplateSpec } from "kubernetes-types/core/v1.js";
import type { LabelSelector } from "kubernetes-types/meta/v1.js";
import { resolveFenceposts, scaledValueFromIntOrPercent } from "../../api/intstr.js";
import type { DeepReadonly } from "../../client/objects.js";
import { rfc3339 } from "../../util/time.js";
import { canonicalJson } from "../../util/json.js";

export { canonicalJson };

export type RD = DeepReadonly<Deployment>;
export type RRS = DeepReadonly<ReplicaSet>;

export const REVISION_ANNOTATION = "deployment.kubernetes.io/revision";
export const REVISION_HISTORY_ANNOTATION = "deployment.kubernetes.io/revision-history";
export const DESIRED_REPLICAS_ANNOTATION = "deployment.kubernetes.io/desired-replicas";
export const MAX_REPLICAS_ANNOTATION = "deployment.kubernetes.io/max-replicas";
export const ROLLBACK_TO_ANNOTATION = "deprecated.deployment.rollback.to";
export const CHANGE_CAUSE_ANNOTATION = "kubernetes.io/change-cause";
export const LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";
export const POD_TEMPLATE_HASH_LABEL = "pod-template-hash";
/** Upstream caps the revision-history annotation at this many characters. */
export const MAX_REV_HISTORY_LENGTH = 2000;

/** Deployment annotations that are the controller's own bookkeeping, never copied to ReplicaSets. */
const SKIPPED_ANNOTATIONS = new Set([LAST_APPLIED_ANNOTATION, REVISION_ANNOTATION, REVISION_HISTORY_ANNOTATION, DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION, ROLLBACK_TO_ANNOTATION]);

export function skipCopyAnnotation(key: string): boolean {
  return SKIPPED_ANNOTATIONS.has(key);
}

// ---- spec with defaults ------------------------------------------------------------------

export function replicasOf(d: RD): number {
  return d.spec?.replicas ?? 1;
}

export function rsReplicas(rs: RRS | undefined): number {
  return rs?.spec?.replicas ?? 0;
}

export function isRollingUpdate(d: RD): boolean {
  return (d.spec?.strategy?.type ?? "RollingUpdate") === "RollingUpdate";
}

function fenceposts(d: RD): { surge: number; unavailable: number } {
  const ru = d.spec?.strategy?.rollingUpdate;
  return resolveFenceposts(ru?.maxSurge ?? "25%", ru?.maxUnavailable ?? "25%", replicasOf(d));
}

/** How many pods above spec.replicas a rolling update may run (0 for Recreate). */
export function maxSurge(d: RD): number {
  return isRollingUpdate(d) ? fenceposts(d).surge : 0;
}

/** How many pods below spec.replicas a rolling update may leave unavailable, at most spec.replicas. */
export function maxUnavailable(d: RD): number {
  if (!isRollingUpdate(d) || replicasOf(d) === 0) return 0;
  return Math.min(fenceposts(d).unavailable, replicasOf(d));
}

/** maxSurge as NewRSNewReplicas reads it: scaled directly, without the fencepost fallback. */
export function rawMaxSurge(d: RD): number {
  return scaledValueFromIntOrPercent(d.spec?.strategy?.rollingUpdate?.maxSurge ?? "25%", replicasOf(d), true);
}

/** progressDeadlineSeconds set and not MaxInt32 (upstream's "no deadline"). */
export function hasProgressDeadline(d: RD): boolean {
  const p = d.spec?.progressDeadlineSeconds;
  return p !== undefined && p !== 2147483647;
}

/**
 * How big the new ReplicaSet may be now: Recreate wants all replicas at once; a rolling
 * update grows it while the total stays within spec.replicas + maxSurge, never past
 * spec.replicas.
 */
export function newRSNewReplicas(d: RD, allRSs: readonly (RRS | undefined)[], newRS: RRS): number {
  const want = replicasOf(d);
  if (!isRollingUpdate(d)) return want;
  const surge = rawMaxSurge(d);
  const current = specReplicas(allRSs);
  const maxTotal = want + surge;
  if (current >= maxTotal) return rsReplicas(newRS);
  return rsReplicas(newRS) + Math.min(maxTotal - current, want - rsReplicas(newRS));
}

// ---- revisions ---------------------------------------------------------------------------

/** The revision annotation as a number; 0 when missing or unparsable. */
export function revisionOf(obj: { readonly metadata?: { readonly annotations?: Readonly<Record<string, string>> } } | undefined): number {
  const v = obj?.metadata?.annotations?.[REVISION_ANNOTATION];
  if (v === undefined || !/^\d+$/.test(v)) return 0;
  return Number(v);
}

export function maxRevision(rss: readonly (RRS | undefined)[]): number {
  let max = 0;
  for (const rs of rss) if (rs) max = Math.max(max, revisionOf(rs));
  return max;
}

/** The second-highest revision: what `rollback to 0` means. */
export function lastRevision(rss: readonly (RRS | undefined)[]): number {
  let max = 0;
  let second = 0;
  for (const rs of rss) {
    if (!rs) continue;
    const v = revisionOf(rs);
    if (v >= max) {
      second = max;
      max = v;
    } else if (v > second) second = v;
  }
  return second;
}

// ---- canonical JSON, equality and the hash -------------------------------------------------


function withoutHash(t: DeepReadonly<PodTemplateSpec> | undefined): unknown {
  if (!t) return {};
  const labels = { ...(t.metadata?.labels ?? {}) };
  delete labels[POD_TEMPLATE_HASH_LABEL];
  return { ...t, metadata: { ...(t.metadata ?? {}), labels } };
}

/**
 * Canonical JSON of cached (deep-frozen) templates without their hash label: a Deployment sync
 * compares its template with every ReplicaSet's, and those templates do not change between
 * syncs. Only frozen objects are remembered, since a mutable one could change under its key.
 */
const templateKeys = new WeakMap<object, string>();

function templateKey(t: DeepReadonly<PodTemplateSpec> | undefined): string {
  if (!t || !Object.isFrozen(t)) return canonicalJson(withoutHash(t));
  let key = templateKeys.get(t);
  if (key === undefined) templateKeys.set(t, (key = canonicalJson(withoutHash(t))));
  return key;
}

/** Templates equal apart from the pod-template-hash label (upstream EqualIgnoreHash). */
export function equalIgnoreHash(a: DeepReadonly<PodTemplateSpec> | undefined, b: DeepReadonly<PodTemplateSpec> | undefined): boolean {
  return templateKey(a) === templateKey(b);
}

function fnv32a(bytes: Uint8Array, h = 0x811c9dc5): number {
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const SAFE_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789";

/** Upstream rand.SafeEncodeString: each byte mapped into an alphabet without vowels or look-alikes. */
export function safeEncodeString(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) out += SAFE_ALPHANUMS[s.charCodeAt(i) % SAFE_ALPHANUMS.length];
  return out;
}

/**
 * The pod-template hash: FNV-32a of the template (upstream hashes Go's deep printing of the
 * struct; we hash its canonical JSON, so names differ from a real cluster's but are just as
 * stable), then the collision count as 8 little-endian bytes when set, rendered as the
 * decimal of the sum through SafeEncodeString. A collision with a ReplicaSet of another
 * template bumps status.collisionCount, which changes the hash.
 */
export function computeHash(template: DeepReadonly<PodTemplateSpec> | undefined, collisionCount: number | undefined): string {
  let h = fnv32a(new TextEncoder().encode(canonicalJson(template ?? {})));
  if (collisionCount !== undefined) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv32a(b, h);
  }
  return safeEncodeString(String(h));
}

export function cloneSelectorAndAddLabel(sel: DeepReadonly<LabelSelector> | undefined, key: string, value: string): LabelSelector {
  const out = structuredClone((sel ?? {}) as LabelSelector);
  if (value === "") return out;
  out.matchLabels = { ...(out.matchLabels ?? {}), [key]: value };
  return out;
}

// ---- which ReplicaSet is which -----------------------------------------------------------

function createdMs(rs: RRS): number {
  const t = rs.metadata?.creationTimestamp ? Date.parse(rs.metadata.creationTimestamp) : NaN;
  return Number.isNaN(t) ? 0 : t;
}

/** Older first; equal times by name (upstream ReplicaSetsByCreationTimestamp). */
export function byCreation(a: RRS, b: RRS): number {
  const d = createdMs(a) - createdMs(b);
  if (d !== 0) return d;
  const na = a.metadata?.name ?? "";
  const nb = b.metadata?.name ?? "";
  return na < nb ? -1 : na > nb ? 1 : 0;
}

/** Lower revision first, then older (ReplicaSetsByRevision). */
export function byRevision(a: RRS, b: RRS): number {
  return revisionOf(a) - revisionOf(b) || byCreation(a, b);
}

/** Larger first; equal sizes newer first (ReplicaSetsBySizeNewer: who grows first). */
export function bySizeNewer(a: RRS, b: RRS): number {
  return rsReplicas(b) - rsReplicas(a) || byCreation(b, a);
}

/** Larger first; equal sizes older first (ReplicaSetsBySizeOlder: who shrinks first). */
export function bySizeOlder(a: RRS, b: RRS): number {
  return rsReplicas(b) - rsReplicas(a) || byCreation(a, b);
}

/** The oldest ReplicaSet whose template equals the Deployment's (ignoring the hash label). */
export function findNewReplicaSet(d: RD, rss: readonly RRS[]): RRS | undefined {
  const want = templateKey(d.spec?.template);
  return [...rss].sort(byCreation).find((rs) => templateKey(rs.spec?.template) === want);
}

/** Every other ReplicaSet (`all`), and those of them that still have replicas (`withReplicas`). */
export function findOldReplicaSets(d: RD, rss: readonly RRS[]): { withReplicas: RRS[]; all: RRS[] } {
  const fresh = findNewReplicaSet(d, rss);
  const all = rss.filter((rs) => !fresh || rs.metadata?.uid !== fresh.metadata?.uid);
  return { withReplicas: all.filter((rs) => rsReplicas(rs) !== 0), all };
}

export function filterActive(rss: readonly (RRS | undefined)[]): RRS[] {
  return rss.filter((rs): rs is RRS => rs !== undefined && rsReplicas(rs) > 0);
}

/** Sum of spec.replicas. */
export function specReplicas(rss: readonly (RRS | undefined)[]): number {
  return rss.reduce((n, rs) => n + rsReplicas(rs), 0);
}

/** Sum of status.replicas. */
export function actualReplicas(rss: readonly (RRS | undefined)[]): number {
  return rss.reduce((n, rs) => n + (rs?.status?.replicas ?? 0), 0);
}

export function readyReplicas(rss: readonly (RRS | undefined)[]): number {
  return rss.reduce((n, rs) => n + (rs?.status?.readyReplicas ?? 0), 0);
}

export function availableReplicas(rss: readonly (RRS | undefined)[]): number {
  return rss.reduce((n, rs) => n + (rs?.status?.availableReplicas ?? 0), 0);
}

/**
 * The one ReplicaSet that should carry all replicas when only one is active (or none is:
 * then the new one, else the newest old one); undefined when several are active.
 */
export function findActiveOrLatest(newRS: RRS | undefined, oldRSs: readonly RRS[]): RRS | undefined {
  if (!newRS && oldRSs.length === 0) return undefined;
  const olds = [...oldRSs].sort((a, b) => byCreation(b, a));
  const active = filterActive([...olds, newRS]);
  if (active.length === 0) return newRS ?? olds[0];
  if (active.length === 1) return active[0];
  return undefined;
}

function annotationInt(rs: RRS, key: string): number | undefined {
  const v = rs.metadata?.annotations?.[key];
  if (v === undefined || !/^-?\d+$/.test(v)) return undefined;
  return Number(v);
}

export function desiredReplicasAnnotation(rs: RRS): number | undefined {
  return annotationInt(rs, DESIRED_REPLICAS_ANNOTATION);
}

/** The new ReplicaSet has every replica the Deployment wants, all of them available. */
export function isSaturated(d: RD, rs: RRS | undefined): boolean {
  if (!rs) return false;
  const want = replicasOf(d);
  return desiredReplicasAnnotation(rs) === want && (rs.status?.availableReplicas ?? 0) === want && rsReplicas(rs) === want;
}

/** Go's math.Round: halves away from zero. */
function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/**
 * How many replicas `rs` gains (or loses) when the Deployment is resized mid-rollout by
 * `toAdd` in total (upstream GetProportion): in proportion to the size it had at the
 * Deployment's last size (the max-replicas annotation), never past what is left to hand out.
 */
export function proportion(rs: RRS, d: RD, toAdd: number, added: number): number {
  if (rsReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const allowed = toAdd - added;
  let fraction: number;
  if (replicasOf(d) === 0) fraction = -rsReplicas(rs);
  else {
    const deploymentReplicas = replicasOf(d) + maxSurge(d);
    const annotated = annotationInt(rs, MAX_REPLICAS_ANNOTATION) ?? d.status?.replicas ?? 0;
    fraction = annotated === 0 ? 0 : roundHalfAway((rsReplicas(rs) * deploymentReplicas) / annotated) - rsReplicas(rs);
  }
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

/** Whether the desired/max annotations differ from these values. */
export function replicasAnnotationsNeedUpdate(rs: RRS, desired: number, max: number): boolean {
  const a = rs.metadata?.annotations;
  return a?.[DESIRED_REPLICAS_ANNOTATION] !== String(desired) || a[MAX_REPLICAS_ANNOTATION] !== String(max);
}

/** Sets desired-replicas and max-replicas on a mutable ReplicaSet; true if anything changed. */
export function setReplicasAnnotations(rs: ReplicaSet, desired: number, max: number): boolean {
  rs.metadata ??= {};
  const a = (rs.metadata.annotations ??= {});
  let changed = false;
  if (a[DESIRED_REPLICAS_ANNOTATION] !== String(desired)) {
    a[DESIRED_REPLICAS_ANNOTATION] = String(desired);
    changed = true;
  }
  if (a[MAX_REPLICAS_ANNOTATION] !== String(max)) {
    a[MAX_REPLICAS_ANNOTATION] = String(max);
    changed = true;
  }
  return changed;
}

// ---- status and conditions ---------------------------------------------------------------

export type Condition = DeploymentCondition;

export function newCondition(type: string, status: "True" | "False" | "Unknown", reason: string, message: string, now: number): Condition {
  const t = rfc3339(now);
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message };
}

export function getCondition(status: DeepReadonly<DeploymentStatus> | undefined, type: string): DeepReadonly<Condition> | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/**
 * Sets a condition (upstream SetDeploymentCondition): nothing changes if one with the same
 * status and reason exists; the transition time is kept while the status stays the same.
 */
export function setCondition(status: DeploymentStatus, cond: Condition): void {
  const cur = status.conditions?.find((c) => c.type === cond.type);
  if (cur && cur.status === cond.status && cur.reason === cond.reason) return;
  const next = { ...cond };
  if (cur && cur.status === cond.status && cur.lastTransitionTime !== undefined) next.lastTransitionTime = cur.lastTransitionTime;
  status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== cond.type), next];
}

export function removeCondition(status: DeploymentStatus, type: string): void {
  if (!status.conditions) return;
  status.conditions = status.conditions.filter((c) => c.type !== type);
  if (status.conditions.length === 0) delete status.conditions;
}

/** Every replica updated and available, and the newest spec observed. */
export function deploymentComplete(d: RD, s: DeepReadonly<DeploymentStatus>): boolean {
  const want = replicasOf(d);
  return (s.updatedReplicas ?? 0) === want && (s.replicas ?? 0) === want && (s.availableReplicas ?? 0) === want && (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
}

/** Progress since the status we last wrote: more updated, fewer old, more ready or available. */
export function deploymentProgressing(d: RD, s: DeepReadonly<DeploymentStatus>): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (s.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) || newOld < oldOld || (s.readyReplicas ?? 0) > (old.readyReplicas ?? 0) || (s.availableReplicas ?? 0) > (old.availableReplicas ?? 0);
}

/** No progress reported for progressDeadlineSeconds (judged from the Progressing condition's lastUpdateTime). */
export function deploymentTimedOut(d: RD, s: DeepReadonly<DeploymentStatus>, now: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const c = getCondition(s, "Progressing");
  if (!c) return false;
  if (c.reason === "NewReplicaSetAvailable") return false;
  if (c.reason === "ProgressDeadlineExceeded") return true;
  const from = c.lastUpdateTime ? Date.parse(c.lastUpdateTime) : NaN;
  if (Number.isNaN(from)) return false;
  return from + (d.spec?.progressDeadlineSeconds ?? 0) * 1000 < now;
}

/** The status as the API returns it: zero counts and empty lists omitted (Go's omitempty). */
export function normalizeStatus(s: DeepReadonly<DeploymentStatus> | undefined): DeploymentStatus {
  const out: DeploymentStatus = {};
  if (!s) return out;
  for (const k of ["observedGeneration", "replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "unavailableReplicas"] as const) {
    const v = s[k];
    if (v) out[k] = v;
  }
  if (s.conditions?.length) out.conditions = s.conditions.map((c) => ({ ...c }));
  if (s.collisionCount !== undefined) out.collisionCount = s.collisionCount;
  return out;
}

export function statusEqual(a: DeepReadonly<DeploymentStatus> | undefined, b: DeepReadonly<DeploymentStatus> | undefined): boolean {
  return canonicalJson(normalizeStatus(a)) === canonicalJson(normalizeStatus(b));
}
