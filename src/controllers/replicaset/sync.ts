// One reconcile of a ReplicaSet (or RC), as upstream's syncReplicaSet: read the object and the
// pods of its namespace from the caches, claim pods (adopt orphans, release strays), create
// or delete pods towards spec.replicas unless earlier writes are still unobserved, then write
// the status. Everything is read from listers; every write goes through the Api interface,
// so a unit test drives it with the recording fake.
import type { Pod, PodSpec } from "kubernetes-types/core/v1.js";
import type { ObjectMeta } from "kubernetes-types/meta/v1.js";
import type { Logger } from "../../util/log.js";
import type { Clock } from "../../client/clock.js";
import { isConflict, isNamespaceTerminating, isNotFound } from "../../client/errors.js";
import { keyOf, type DeepReadonly, type KubeObject } from "../../client/objects.js";
import type { EventSink } from "../context.js";
import type { Api, ResourceApi } from "../api.js";
import { claimObjects, adoptPatch, controllerRefFor, releasePatch } from "./claim.js";
import { WorkloadError } from "./errors.js";
import type { Expectations } from "./expectations.js";
import { desiredReplicas, type ReplicaKind, type ReplicaObject, type RReplica } from "./kinds.js";
import { controllerRefOf, isPodActive, podsToDelete, type RPod } from "./podutil.js";
import { calculateStatus, statusEqual } from "./status.js";

/** Upstream's BurstReplicas: at most this many creates or deletes per sync. */
export const BURST_REPLICAS = 500;
/** Upstream's SlowStartInitialBatchSize. */
export const SLOW_START_INITIAL_BATCH = 1;

/** The read side: what the controller needs of its caches. */
export interface ReplicaCaches {
  /** The ReplicaSet/RC by `namespace/name`. */
  owner(key: string): RReplica | undefined;
  /** Every ReplicaSet/RC of a namespace (to find indirectly related pods). */
  owners(namespace: string): readonly RReplica[];
  /** Every pod of a namespace (to rank a scale-down by the pods of sibling ReplicaSets). */
  pods(namespace: string): readonly RPod[];
  /**
   * The pods of a namespace that an owner with this uid may claim: those whose controllerRef
   * has its uid and those without a controllerRef (see claimablePods).
   */
  claimable(namespace: string, ownerUid: string): readonly RPod[];
}

export interface ReplicaSyncDeps {
  readonly kind: ReplicaKind;
  readonly caches: ReplicaCaches;
  readonly api: Api;
  readonly events: EventSink;
  readonly expectations: Expectations;
  readonly clock: Clock;
  /** Asks for another sync of `key` after `ms` (the work queue's addAfter). */
  readonly enqueueAfter: (key: string, ms: number) => void;
  readonly log: Logger;
  readonly burstReplicas?: number;
}

/**
 * Calls `fn` `count` times in batches of 1, 2, 4, … (each batch concurrently), stopping after
 * the first batch with a failure: a create that fails for a reason that will not go away
 * (quota, admission) is tried a handful of times per sync, not `count` times.
 */
export async function slowStartBatch(count: number, initial: number, fn: () => Promise<void>): Promise<{ successes: number; error?: unknown }> {
  let remaining = count;
  let successes = 0;
  for (let size = Math.min(remaining, initial); size > 0; size = Math.min(2 * size, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: size }, () => fn()));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    successes += size - failed.length;
    if (failed.length > 0) return { successes, error: failed[0]!.reason };
    remaining -= size;
  }
  return { successes };
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class ReplicaSyncer {
  private readonly ownerApi: ResourceApi<ReplicaObject>;
  private readonly podApi: ResourceApi<Pod>;
  private readonly burst: number;

  constructor(private readonly d: ReplicaSyncDeps) {
    this.ownerApi = d.api.resource<ReplicaObject>(d.kind.group, d.kind.version, d.kind.plural, { namespaced: true, kind: d.kind.kind });
    this.podApi = d.api.resource<Pod>("", "v1", "pods", { namespaced: true, kind: "Pod" });
    this.burst = d.burstReplicas ?? BURST_REPLICAS;
  }

  async sync(key: string, log: Logger = this.d.log): Promise<void> {
    const { kind, caches, expectations } = this.d;
    const obj = caches.owner(key);
    if (!obj) {
      expectations.delete(key);
      return;
    }
    const needsSync = expectations.satisfied(key);
    let selector;
    try {
      selector = kind.selector(obj);
    } catch (err) {
      // An invalid selector will not fix itself by retrying; the next update re-queues it.
      log.error({ err }, "cannot convert the selector");
      return;
    }
    const ns = obj.metadata?.namespace ?? "";
    const active = caches.claimable(ns, obj.metadata?.uid ?? "").filter(isPodActive);
    const { claimed, errors } = await claimObjects<Pod>(this.owner(obj), selector, active, {
      canAdopt: () => this.canAdopt(obj),
      adopt: (p) => this.podApi.namespace(ns).patch(p.metadata?.name ?? "", "strategic", adoptPatch(this.owner(obj), p.metadata?.uid ?? "")),
      release: (p) => this.podApi.namespace(ns).patch(p.metadata?.name ?? "", "strategic", releasePatch(obj.metadata?.uid ?? "", p.metadata?.uid ?? "")),
    });
    if (errors.length > 0) throw errors[0];

    let manageError: unknown;
    if (needsSync && !obj.metadata?.deletionTimestamp) {
      try {
        await this.manageReplicas(key, obj, claimed, log);
      } catch (err) {
        manageError = err;
      }
    }
    const now = this.d.clock.now();
    const status = calculateStatus(obj, claimed, manageError, now);
    const updated = await this.writeStatus(obj, status);
    // A last line of defence against clock skew: look again once the ready pods must be available.
    const minReady = updated.spec?.minReadySeconds ?? 0;
    const desired = desiredReplicas(updated);
    if (manageError === undefined && minReady > 0 && (updated.status?.readyReplicas ?? 0) === desired && (updated.status?.availableReplicas ?? 0) !== desired) {
      this.d.enqueueAfter(key, minReady * 1000);
    }
    if (manageError !== undefined) throw manageError;
  }

  private owner(obj: RReplica): { apiVersion: string; kind: string; metadata?: RReplica["metadata"] } {
    return { apiVersion: this.d.kind.apiVersion, kind: this.d.kind.kind, metadata: obj.metadata };
  }

  private async canAdopt(obj: RReplica): Promise<void> {
    const fresh = await this.ownerApi.namespace(obj.metadata?.namespace ?? "").get(obj.metadata?.name ?? "");
    if (fresh.metadata?.uid !== obj.metadata?.uid) throw new WorkloadError("CannotAdopt", `original ${this.d.kind.kind} ${keyOf(obj as DeepReadonly<KubeObject>)} is gone: got uid ${fresh.metadata?.uid ?? ""}, wanted ${obj.metadata?.uid ?? ""}`);
    if (fresh.metadata?.deletionTimestamp) throw new WorkloadError("CannotAdopt", `${this.d.kind.kind} ${keyOf(obj as DeepReadonly<KubeObject>)} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
  }

  private async manageReplicas(key: string, obj: RReplica, pods: readonly RPod[], log: Logger): Promise<void> {
    const { expectations } = this.d;
    const desired = desiredReplicas(obj);
    const diff = pods.length - desired;
    if (diff < 0) {
      const count = Math.min(-diff, this.burst);
      expectations.expectCreations(key, count);
      log.debug({ desired, creating: count }, "too few replicas");
      const { successes, error } = await slowStartBatch(count, SLOW_START_INITIAL_BATCH, () => this.createPod(obj));
      // Creates never attempted (or failed) will never be observed; a later sync retries them.
      for (let i = successes; i < count; i++) expectations.creationObserved(key);
      if (error !== undefined) throw error;
      return;
    }
    if (diff > 0) {
      const count = Math.min(diff, this.burst);
      const doomed = podsToDelete(pods, this.relatedPods(obj), count, this.d.clock.now());
      log.debug({ desired, deleting: count }, "too many replicas");
      expectations.expectDeletions(
        key,
        doomed.map((p) => keyOf(p as DeepReadonly<KubeObject>)),
      );
      const results = await Promise.allSettled(doomed.map((p) => this.deletePod(obj, p)));
      let firstError: unknown;
      results.forEach((r, i) => {
        if (r.status === "fulfilled") return;
        const p = doomed[i]!;
        expectations.deletionObserved(key, keyOf(p as DeepReadonly<KubeObject>));
        if (!isNotFound(r.reason) && firstError === undefined) firstError = r.reason;
      });
      if (firstError !== undefined) throw firstError;
    }
  }

  /** Pods of every ReplicaSet that shares this one's controller (the ranking's colocation count). */
  private relatedPods(obj: RReplica): RPod[] {
    const ref = controllerRefOf(obj);
    if (!ref) return [];
    const ns = obj.metadata?.namespace ?? "";
    const seen = new Set<string>();
    const out: RPod[] = [];
    const pods = this.d.caches.pods(ns);
    for (const sibling of this.d.caches.owners(ns)) {
      if (controllerRefOf(sibling)?.uid !== ref.uid) continue;
      let sel;
      try {
        sel = this.d.kind.selector(sibling);
      } catch {
        continue;
      }
      for (const p of pods) {
        const uid = p.metadata?.uid ?? keyOf(p as DeepReadonly<KubeObject>);
        if (seen.has(uid) || !sel.matches(p.metadata?.labels)) continue;
        seen.add(uid);
        out.push(p);
      }
    }
    return out;
  }

  private podFromTemplate(obj: RReplica): Pod {
    const t = obj.spec?.template;
    const labels = { ...(t?.metadata?.labels ?? {}) };
    if (Object.keys(labels).length === 0) throw new WorkloadError("NoLabels", "unable to create pods, no labels");
    const m = t?.metadata;
    return {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        generateName: `${obj.metadata?.name ?? ""}-`,
        namespace: obj.metadata?.namespace ?? "",
        labels,
        ...(m?.annotations ? { annotations: { ...m.annotations } } : {}),
        ...(m?.finalizers ? { finalizers: [...m.finalizers] } : {}),
        ownerReferences: [controllerRefFor(this.owner(obj))],
      },
      // The cached (frozen) spec itself: the create only serializes it, and a deep copy per
      // pod was a measurable part of the controller's CPU.
      spec: t?.spec ? (t.spec as PodSpec) : { containers: [] },
    };
  }

  private async createPod(obj: RReplica): Promise<void> {
    let pod: Pod;
    try {
      pod = this.podFromTemplate(obj);
      // Only the created pod's name is read: the rest of the answer need not be decoded.
      const created = await this.podApi.namespace(obj.metadata?.namespace ?? "").create(pod, { answer: "metadata" });
      this.d.events.event(this.eventTarget(obj), "Normal", "SuccessfulCreate", `Created pod: ${created.metadata?.name ?? ""}`);
    } catch (err) {
      // A terminating namespace refuses every create; nothing to report or retry.
      if (isNamespaceTerminating(err)) return;
      this.d.events.event(this.eventTarget(obj), "Warning", "FailedCreate", `Error creating: ${errMessage(err)}`);
      throw err;
    }
  }

  private async deletePod(obj: RReplica, p: RPod): Promise<void> {
    const name = p.metadata?.name ?? "";
    try {
      await this.podApi.namespace(obj.metadata?.namespace ?? "").delete(name);
    } catch (err) {
      if (!isNotFound(err)) this.d.events.event(this.eventTarget(obj), "Warning", "FailedDelete", `Error deleting: ${errMessage(err)}`);
      throw err;
    }
    this.d.events.event(this.eventTarget(obj), "Normal", "SuccessfulDelete", `Deleted pod: ${name}`);
  }

  /** What an event's involvedObject is made of (copying the whole metadata per pod created cost more than the create's own work). */
  private eventTarget(obj: RReplica): KubeObject {
    const m = obj.metadata;
    const metadata: ObjectMeta = { name: m?.name, namespace: m?.namespace, uid: m?.uid, resourceVersion: m?.resourceVersion };
    return { apiVersion: this.d.kind.apiVersion, kind: this.d.kind.kind, metadata };
  }

  /**
   * Writes the status unless it already says this (with observedGeneration current). A
   * conflict is retried once on a fresh copy, as upstream does; a second failure is thrown
   * and the key is retried through the queue.
   */
  private async writeStatus(obj: RReplica, status: ReturnType<typeof calculateStatus>): Promise<RReplica> {
    const generation = obj.metadata?.generation;
    if (statusEqual(obj.status, status) && obj.status?.observedGeneration === generation) return obj;
    const next = { ...status };
    if (generation !== undefined) next.observedGeneration = generation;
    // Shallow: the write only serializes the object, so the cached parts are shared, not copied.
    const copy = { ...obj, status: next } as ReplicaObject;
    const api = this.ownerApi.namespace(obj.metadata?.namespace ?? "");
    try {
      return await api.updateStatus(copy);
    } catch (err) {
      if (!isConflict(err)) throw err;
      const fresh = await api.get(obj.metadata?.name ?? "");
      if (fresh.metadata?.uid !== obj.metadata?.uid) throw err;
      // observedGeneration stays the generation these counts were computed for.
      fresh.status = next;
      return await api.updateStatus(fresh);
    }
  }
}

/** The pods a ReplicaSet/RC key is waiting on, as keys; exported for the handlers. */
export function podKey(p: RPod): string {
  return keyOf(p as DeepReadonly<KubeObject>);
}
