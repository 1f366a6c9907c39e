// Reconciling the bootstrap policy at every start (upstream's rbac/bootstrap-roles post-start
// hook, with pkg/registry/rbac/reconciliation's semantics): a missing role or binding is
// created; one annotated rbac.authorization.kubernetes.io/autoupdate=false is left alone;
// otherwise what the policy has and the object lacks is added (labels, annotations, rules, an
// aggregated role's selectors, a binding's subjects) and nothing the object has is taken away,
// so an administrator's additions survive upgrades. A binding whose roleRef differs is deleted
// and created again, as roleRef is immutable.
//
// The decisions are pure functions (reconcileRole, reconcileBinding); reconcileBootstrapPolicy
// carries them out through the resource stores.
import { setTimeout as sleep } from "node:timers/promises";
import { isDeepStrictEqual } from "node:util";
import type { AggregationRule, ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject } from "kubernetes-types/rbac/v1.js";
import type { LabelSelector, ObjectMeta } from "kubernetes-types/meta/v1.js";
import type { KubeObject } from "../registry/types.js";
import type { RequestContext, ResourceStore } from "../rest/store.js";
import { StatusError } from "../status.js";
import { SYSTEM_USER } from "../bootstrap.js";
import type { Logger } from "../../util/log.js";
import { AUTOUPDATE_ANNOTATION, bootstrapPolicy } from "./policy.js";
import { compactString, uncoveredRules } from "./rules.js";

export interface RbacStores {
  readonly roles: ResourceStore;
  readonly clusterRoles: ResourceStore;
  readonly roleBindings: ResourceStore;
  readonly clusterRoleBindings: ResourceStore;
}

type AnyRole = ClusterRole | Role;
type AnyBinding = ClusterRoleBinding | RoleBinding;
/** What the decisions read of any object. */
interface WithMetadata {
  metadata?: ObjectMeta;
}

/** What reconciling one object adds to it. */
export interface Additions {
  readonly labels: readonly string[];
  readonly annotations: readonly string[];
  readonly rules: readonly PolicyRule[];
  readonly selectors: readonly LabelSelector[];
  readonly subjects: readonly Subject[];
}

export type Reconciliation<T> =
  | { readonly operation: "none" }
  /** autoupdate=false: the object lacks what `additions` lists and keeps lacking it. */
  | { readonly operation: "skip"; readonly additions: Additions }
  | { readonly operation: "create"; readonly object: T }
  | { readonly operation: "update"; readonly object: T; readonly additions: Additions }
  /** The roleRef differs: delete the object and create this one. */
  | { readonly operation: "recreate"; readonly object: T };

const NO_ADDITIONS: Additions = { labels: [], annotations: [], rules: [], selectors: [], subjects: [] };

function isProtected(existing: Readonly<WithMetadata>): boolean {
  return existing.metadata?.annotations?.[AUTOUPDATE_ANNOTATION] === "false";
}

/** Adds the entries of `want` whose keys `have` lacks; existing values win. Returns the keys added. */
function mergeMissing(have: Record<string, string>, want: Readonly<Record<string, string>> | undefined): string[] {
  const added: string[] = [];
  for (const [k, v] of Object.entries(want ?? {})) {
    if (Object.hasOwn(have, k)) continue;
    have[k] = v;
    added.push(k);
  }
  return added;
}

const empty = (a: Additions): boolean => a.labels.length + a.annotations.length + a.rules.length + a.selectors.length + a.subjects.length === 0;

/** The object's labels and annotations with the policy's missing ones added (in place on `object`). */
function mergeMetadata(object: WithMetadata, expected: Readonly<WithMetadata>): Pick<Additions, "labels" | "annotations"> {
  const meta = (object.metadata ??= {});
  const labels = { ...meta.labels };
  const annotations = { ...meta.annotations };
  const added = { labels: mergeMissing(labels, expected.metadata?.labels), annotations: mergeMissing(annotations, expected.metadata?.annotations) };
  if (added.labels.length > 0) meta.labels = labels;
  if (added.annotations.length > 0) meta.annotations = annotations;
  return added;
}

function decided<T extends WithMetadata>(existing: Readonly<T>, object: T, additions: Additions): Reconciliation<T> {
  if (empty(additions)) return { operation: "none" };
  if (isProtected(existing)) return { operation: "skip", additions };
  return { operation: "update", object, additions };
}

/**
 * A default Role or ClusterRole against what is stored. Rules are only ever added (the
 * broken-down rules of the policy that no stored rule covers); for an aggregated role the
 * selectors it lacks are added and its rules left to the clusterrole-aggregation controller.
 */
export function reconcileRole<T extends AnyRole>(existing: Readonly<T> | undefined, expected: Readonly<T>): Reconciliation<T> {
  if (!existing) return { operation: "create", object: structuredClone(expected) as T };
  const object = structuredClone(existing) as T;
  const metadata = mergeMetadata(object, expected);
  const rules = uncoveredRules(existing.rules ?? [], expected.rules ?? []);
  if (rules.length > 0) object.rules = [...(object.rules ?? []), ...rules];
  const selectors = missingSelectors(object as ClusterRole, (expected as ClusterRole).aggregationRule);
  return decided(existing, object, { ...NO_ADDITIONS, ...metadata, rules, selectors });
}

/** Adds the expected aggregation rule's selectors the role lacks (all of them when it has none). */
function missingSelectors(object: ClusterRole, expected: Readonly<AggregationRule> | undefined): LabelSelector[] {
  const want = expected?.clusterRoleSelectors ?? [];
  if (want.length === 0) return [];
  const have = object.aggregationRule?.clusterRoleSelectors ?? [];
  const missing = want.filter((w) => !have.some((h) => isDeepStrictEqual(h, w))).map((s) => structuredClone(s));
  if (missing.length > 0) object.aggregationRule = { ...object.aggregationRule, clusterRoleSelectors: [...have, ...missing] };
  return missing;
}

const sameRoleRef = (a: Readonly<RoleRef>, b: Readonly<RoleRef>): boolean => a.apiGroup === b.apiGroup && a.kind === b.kind && a.name === b.name;

const sameSubject = (a: Readonly<Subject>, b: Readonly<Subject>): boolean =>
  a.kind === b.kind && (a.apiGroup ?? "") === (b.apiGroup ?? "") && a.name === b.name && (a.namespace ?? "") === (b.namespace ?? "");

/**
 * A default RoleBinding or ClusterRoleBinding against what is stored: the subjects it lacks are
 * added, the ones it has kept. A binding to another role is replaced whole, its subjects
 * included: they were given that other role, not this one.
 */
export function reconcileBinding<T extends AnyBinding>(existing: Readonly<T> | undefined, expected: Readonly<T>): Reconciliation<T> {
  if (!existing) return { operation: "create", object: structuredClone(expected) as T };
  if (!sameRoleRef(existing.roleRef, expected.roleRef)) {
    return isProtected(existing) ? { operation: "skip", additions: NO_ADDITIONS } : { operation: "recreate", object: structuredClone(expected) as T };
  }
  const object = structuredClone(existing) as T;
  const metadata = mergeMetadata(object, expected);
  const have = existing.subjects ?? [];
  const subjects = (expected.subjects ?? []).filter((s) => !have.some((h) => sameSubject(h, s))).map((s) => structuredClone(s));
  if (subjects.length > 0) object.subjects = [...(object.subjects ?? []), ...subjects];
  return decided(existing, object, { ...NO_ADDITIONS, ...metadata, subjects });
}

// ---- carrying it out ------------------------------------------------------------------------

/** Tries of one object whose write keeps meeting someone else's (upstream's retry.DefaultBackoff). */
const TRIES = 4;
const FIRST_BACKOFF_MS = 10;
const BACKOFF_FACTOR = 5;

const systemWrite = (namespace: string): RequestContext => ({ namespace, user: SYSTEM_USER, now: new Date(), dryRun: false });

const isCode = (err: unknown, code: number): boolean => err instanceof StatusError && err.code === code;

async function read(store: ResourceStore, namespace: string, name: string): Promise<KubeObject | undefined> {
  try {
    return await store.get(namespace, name);
  } catch (err) {
    if (isCode(err, 404)) return undefined;
    throw err;
  }
}

/** The log fields of what an update added: counts, and the added rules as upstream prints them. */
function describeAdditions(a: Additions): Record<string, unknown> {
  return {
    ...(a.labels.length > 0 ? { labels: a.labels } : {}),
    ...(a.annotations.length > 0 ? { annotations: a.annotations } : {}),
    ...(a.rules.length > 0 ? { rules: a.rules.map(compactString) } : {}),
    ...(a.selectors.length > 0 ? { selectors: a.selectors.length } : {}),
    ...(a.subjects.length > 0 ? { subjects: a.subjects.map((s) => `${s.kind}:${s.namespace ? `${s.namespace}/` : ""}${s.name}`) } : {}),
  };
}

/**
 * Brings one object in line with the policy. A write that meets another (the object created,
 * changed or deleted meanwhile: 409, or 404 on a vanished one) reads it again and decides anew.
 */
async function reconcileObject<T extends AnyRole | AnyBinding>(store: ResourceStore, expected: T, decide: (existing: T | undefined, expected: T) => Reconciliation<T>, log: Logger): Promise<void> {
  const namespace = expected.metadata?.namespace ?? "";
  const name = expected.metadata?.name ?? "";
  const ref = { [(expected.kind ?? "").toLowerCase()]: namespace ? `${namespace}/${name}` : name };
  for (let attempt = 1; ; attempt++) {
    const existing = (await read(store, namespace, name)) as unknown as T | undefined;
    const r = decide(existing, expected);
    try {
      switch (r.operation) {
        case "none":
          return;
        case "skip":
          log.warn({ ...ref, missing: describeAdditions(r.additions) }, "skipped a reconcile-protected bootstrap object (autoupdate=false)");
          return;
        case "create":
          await store.create(r.object as unknown as KubeObject, systemWrite(namespace));
          log.info(ref, "created a bootstrap RBAC object");
          return;
        case "update":
          // The stored object's resourceVersion is the precondition: a write in between fails
          // with a Conflict and the object is read and reconciled again.
          await store.update(namespace, name, () => r.object as unknown as KubeObject, systemWrite(namespace), { resourceVersion: existing?.metadata?.resourceVersion ?? "" });
          log.info({ ...ref, added: describeAdditions(r.additions) }, "added what a bootstrap RBAC object lacked");
          return;
        case "recreate":
          await store.delete(namespace, name, { preconditions: { uid: existing?.metadata?.uid ?? "" } }, systemWrite(namespace));
          await store.create(r.object as unknown as KubeObject, systemWrite(namespace));
          log.info({ ...ref, roleRef: (r.object as AnyBinding).roleRef.name }, "recreated a bootstrap RBAC binding whose roleRef differed");
          return;
      }
    } catch (err) {
      if (!(isCode(err, 409) || isCode(err, 404)) || attempt >= TRIES) throw err;
      await sleep(FIRST_BACKOFF_MS * BACKOFF_FACTOR ** (attempt - 1));
    }
  }
}

/**
 * As upstream, one object the API refuses (a namespace being deleted, a write another check
 * turns down) is logged and the rest reconciled; a failing store (5xx, or no StatusError)
 * fails the start.
 */
async function reconcileOrLog<T extends AnyRole | AnyBinding>(store: ResourceStore, expected: T, decide: (existing: T | undefined, expected: T) => Reconciliation<T>, log: Logger): Promise<void> {
  try {
    await reconcileObject(store, expected, decide, log);
  } catch (err) {
    if (!(err instanceof StatusError) || err.code >= 500) throw err;
    const namespace = expected.metadata?.namespace;
    log.error({ [(expected.kind ?? "").toLowerCase()]: namespace ? `${namespace}/${expected.metadata?.name}` : expected.metadata?.name, err: err.message }, "unable to reconcile a bootstrap RBAC object");
  }
}

export async function reconcileBootstrapPolicy(stores: RbacStores, log: Logger): Promise<void> {
  const p = bootstrapPolicy();
  // Roles before the bindings that name them, cluster-wide before namespaced (as upstream).
  for (const r of p.clusterRoles) await reconcileOrLog(stores.clusterRoles, r, reconcileRole<ClusterRole>, log);
  for (const b of p.clusterRoleBindings) await reconcileOrLog(stores.clusterRoleBindings, b, reconcileBinding<ClusterRoleBinding>, log);
  for (const r of p.roles) await reconcileOrLog(stores.roles, r, reconcileRole<Role>, log);
  for (const b of p.roleBindings) await reconcileOrLog(stores.roleBindings, b, reconcileBinding<RoleBinding>, log);
}
