// The garbage collector's decisions (upstream pkg/controller/garbagecollector/
// garbagecollector.go): two queues of object uids filled by the dependency graph.
//
// attemptToDelete: an object whose owners may be gone. It is re-read from the API, each owner
// reference is classified by asking the API for the owner (uid must match): dangling (gone or
// replaced), waiting (being deleted in the foreground) or solid. With a solid owner only the
// dangling/waiting references are removed; with none the object is deleted — in the foreground
// when an owner waits for it and it has dependents of its own, else honouring its existing
// finalizers, else in the background. An owner being deleted in the foreground is itself
// queued here too: once no dependent blocks it, its foregroundDeletion finalizer is removed.
//
// attemptToOrphan: an owner deleted with the orphan finalizer. Its reference is removed from
// every dependent, then the finalizer.
import type { OwnerReference } from "kubernetes-types/meta/v1.js";
import { ApiError, isConflict, isInvalid, isNotFound } from "../../client/errors.js";
import type { KubeObject } from "../../client/objects.js";
import { ItemExponentialFailureRateLimiter, WorkQueue } from "../../client/workqueue.js";
import type { Logger } from "../../util/log.js";
import type { Api, ResourceApi } from "../api.js";
import type { ResourceMapper } from "../discovery.js";
import { DependencyGraph, FINALIZER_FOREGROUND, FINALIZER_ORPHAN, identityString, type GraphNode, type InvalidOwnerReport, type ObjectIdentity } from "./graph.js";
import { CodedError } from "../../util/errors.js";

export type GarbageCollectorErrorCode =
  /** An owner reference or object names a kind the server does not serve (yet). */
  | "UnknownKind"
  /** A cluster-scoped object names a namespaced owner: never valid, not retried. */
  | "NamespacedOwnerOfClusterScopedObject";

export class GarbageCollectorError extends CodedError<GarbageCollectorErrorCode> {
  override readonly name = "GarbageCollectorError";
}

export interface GarbageCollectorDeps {
  readonly api: Api;
  /** The current kind → resource mapping (refreshed by discovery). */
  readonly mapper: () => ResourceMapper;
  readonly log: Logger;
  readonly reportInvalid?: InvalidOwnerReport;
}

/** 415: the resource serves no strategic merge patch (custom resources). */
function isUnsupportedMediaType(err: unknown): boolean {
  return err instanceof ApiError && (err.reason === "UnsupportedMediaType" || err.code === 415);
}

type Classified = { readonly solid: OwnerReference[]; readonly dangling: OwnerReference[]; readonly waiting: OwnerReference[] };

/** The outcome of one attempt on a node, for the worker to act on. */
type Attempt = "done" | "virtualDeleted";

export class GarbageCollector {
  readonly attemptToDelete = new WorkQueue<string>();
  readonly attemptToOrphan = new WorkQueue<string>();
  readonly graph: DependencyGraph;
  /** Backoff for re-checking virtual nodes the informers have not shown yet. */
  private readonly virtualBackoff = new ItemExponentialFailureRateLimiter<string>(5, 1_000_000);

  constructor(private readonly d: GarbageCollectorDeps) {
    this.graph = new DependencyGraph(
      {
        attemptToDelete: (uid) => this.attemptToDelete.add(uid),
        attemptToDeleteLater: (uid) => this.attemptToDelete.addRateLimited(uid),
        attemptToOrphan: (uid) => this.attemptToOrphan.add(uid),
      },
      d.log,
      d.reportInvalid,
    );
  }

  private client(id: ObjectIdentity): ResourceApi<KubeObject> {
    const r = this.d.mapper().resourceFor(id.apiVersion, id.kind);
    if (!r) throw new GarbageCollectorError("UnknownKind", `no served resource for ${id.kind} in ${id.apiVersion}`);
    const rc = this.d.api.resource<KubeObject>(r.group, r.version, r.plural, { namespaced: r.namespaced, kind: r.kind });
    return r.namespaced ? rc.namespace(id.namespace) : rc;
  }

  // ---- attemptToDelete ----------------------------------------------------------------------

  /** The attemptToDelete worker's body for one uid. Throws to be retried with backoff. */
  async syncDelete(uid: string, signal?: AbortSignal, log: Logger = this.d.log): Promise<void> {
    const node = this.graph.nodes.get(uid);
    if (!node) {
      this.virtualBackoff.forget(uid);
      return;
    }
    let outcome: Attempt;
    try {
      outcome = await this.attemptToDeleteItem(node, signal, log);
    } catch (err) {
      if (err instanceof GarbageCollectorError && err.code === "NamespacedOwnerOfClusterScopedObject") {
        log.info({ item: identityString(node.identity), err: err.message }, "cluster-scoped object refers to a namespaced owner; ignoring");
        return;
      }
      throw err;
    }
    if (outcome === "virtualDeleted") {
      this.virtualBackoff.forget(uid);
      return;
    }
    // A virtual node must be seen by an informer (or shown absent) eventually; look again
    // later, so one added and removed while a watch was down cannot linger (upstream #56121).
    if (node.virtual && this.graph.nodes.get(uid) === node) this.attemptToDelete.addAfter(uid, this.virtualBackoff.when(uid));
    else this.virtualBackoff.forget(uid);
  }

  private async attemptToDeleteItem(item: GraphNode, signal: AbortSignal | undefined, log: Logger): Promise<Attempt> {
    if (item.beingDeleted && !item.deletingDependents) return "done";
    const call = signal ? { signal } : {};
    let latest: KubeObject;
    try {
      latest = await this.client(item.identity).get(item.identity.name, call);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      this.graph.virtualDelete(item.identity);
      return "virtualDeleted";
    }
    if (latest.metadata?.uid !== item.uid) {
      this.graph.virtualDelete(item.identity);
      return "virtualDeleted";
    }
    if (item.deletingDependents) {
      await this.processDeletingDependents(item, signal, log);
      return "done";
    }
    const refs = latest.metadata?.ownerReferences ?? [];
    if (refs.length === 0) return "done";
    const { solid, dangling, waiting } = await this.classifyReferences(item, refs, signal);
    if (solid.length > 0) {
      if (dangling.length === 0 && waiting.length === 0) return "done";
      const drop = [...dangling, ...waiting].map((r) => r.uid);
      log.debug({ item: identityString(item.identity), remove: drop }, "removing dangling and waiting owner references");
      await this.patchOwnerRefs(item, { metadata: { ownerReferences: drop.map((u) => ({ $patch: "delete", uid: u })), uid: item.uid } }, (cur) => cur.filter((r) => !drop.includes(r.uid)), signal);
      return "done";
    }
    if (waiting.length > 0 && item.dependents.size > 0) {
      for (const dep of item.dependents) {
        if (!dep.deletingDependents) continue;
        // Both an owner and a dependent of this item wait in the foreground: unblock our own
        // references so the two cannot wait on each other forever.
        log.info({ item: identityString(item.identity) }, "owner and dependent both delete in the foreground; unblocking this item's owner references");
        const unblock = item.owners.filter((r) => r.blockOwnerDeletion === true).map((r) => ({ uid: r.uid, blockOwnerDeletion: false }));
        await this.patchOwnerRefs(item, { metadata: { ownerReferences: unblock, uid: item.uid } }, (cur) => cur.map((r) => (r.blockOwnerDeletion === true ? { ...r, blockOwnerDeletion: false } : r)), signal);
        break;
      }
      log.info({ item: identityString(item.identity) }, "an owner waits for this item's deletion and it has dependents: deleting it in the foreground");
      await this.deleteObject(item.identity, "Foreground", signal);
      return "done";
    }
    const finalizers = latest.metadata?.finalizers ?? [];
    const policy = finalizers.includes(FINALIZER_ORPHAN) ? "Orphan" : finalizers.includes(FINALIZER_FOREGROUND) ? "Foreground" : "Background";
    log.info({ item: identityString(item.identity), propagationPolicy: policy }, "deleting object: no owner remains");
    await this.deleteObject(item.identity, policy, signal);
    return "done";
  }

  private async processDeletingDependents(item: GraphNode, signal: AbortSignal | undefined, log: Logger): Promise<void> {
    const blocking = item.blockingDependents();
    if (blocking.length === 0) {
      log.info({ item: identityString(item.identity) }, "no dependent blocks it any more: removing the foregroundDeletion finalizer");
      await this.removeFinalizer(item, FINALIZER_FOREGROUND, signal);
      return;
    }
    for (const dep of blocking) if (!dep.deletingDependents) this.attemptToDelete.add(dep.uid);
  }

  private async classifyReferences(item: GraphNode, refs: readonly OwnerReference[], signal: AbortSignal | undefined): Promise<Classified> {
    const out: Classified = { solid: [], dangling: [], waiting: [] };
    for (const ref of refs) {
      const owner = await this.ownerIfPresent(ref, item, signal);
      if (!owner) out.dangling.push(ref);
      else if (owner.metadata?.deletionTimestamp && (owner.metadata.finalizers ?? []).includes(FINALIZER_FOREGROUND)) out.waiting.push(ref);
      else out.solid.push(ref);
    }
    return out;
  }

  /** The owner named by `ref`, read from the API; undefined when it is gone or was replaced (uid differs). */
  private async ownerIfPresent(ref: OwnerReference, item: GraphNode, signal: AbortSignal | undefined): Promise<KubeObject | undefined> {
    const coords = { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, uid: ref.uid };
    if (this.graph.absentOwners.has({ ...coords, namespace: "" }) || this.graph.absentOwners.has({ ...coords, namespace: item.identity.namespace })) return undefined;
    const r = this.d.mapper().resourceFor(ref.apiVersion, ref.kind);
    if (!r) throw new GarbageCollectorError("UnknownKind", `no served resource for owner kind ${ref.kind} in ${ref.apiVersion}`);
    if (r.namespaced && item.identity.namespace === "") {
      throw new GarbageCollectorError("NamespacedOwnerOfClusterScopedObject", `cluster-scoped ${identityString(item.identity)} refers to namespaced owner ${ref.kind} ${ref.name}`);
    }
    const id: ObjectIdentity = { ...coords, namespace: r.namespaced ? item.identity.namespace : "" };
    let owner: KubeObject;
    try {
      owner = await this.client(id).get(ref.name, signal ? { signal } : {});
    } catch (err) {
      if (!isNotFound(err)) throw err;
      this.graph.absentOwners.add(id);
      return undefined;
    }
    if (owner.metadata?.uid !== ref.uid) {
      this.graph.absentOwners.add(id);
      return undefined;
    }
    return owner;
  }

  private async deleteObject(id: ObjectIdentity, policy: "Orphan" | "Foreground" | "Background", signal: AbortSignal | undefined): Promise<void> {
    try {
      await this.client(id).delete(id.name, { preconditions: { uid: id.uid }, propagationPolicy: policy, ...(signal ? { signal } : {}) });
    } catch (err) {
      // Gone, or replaced by another object of that name: the informers will show it.
      if (isNotFound(err) || isConflict(err)) return;
      throw err;
    }
  }

  /**
   * Changes the item's ownerReferences: a strategic merge patch guarded by the item's uid (so
   * a replacement object is never touched), or, where strategic patches are not served (custom
   * resources), a merge patch of the whole list guarded by resourceVersion.
   */
  private async patchOwnerRefs(
    item: GraphNode,
    strategic: unknown,
    edit: (cur: readonly OwnerReference[]) => OwnerReference[],
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const rc = this.client(item.identity);
    const call = signal ? { signal } : {};
    try {
      await rc.patch(item.identity.name, "strategic", strategic, call);
      return;
    } catch (err) {
      if (isNotFound(err)) return;
      if (!isUnsupportedMediaType(err)) {
        if ((isConflict(err) || isInvalid(err)) && !(await this.stillSame(rc, item, signal))) return;
        throw err;
      }
    }
    for (let attempt = 0; ; attempt++) {
      let cur: KubeObject;
      try {
        cur = await rc.get(item.identity.name, call);
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
      if (cur.metadata?.uid !== item.uid) return;
      const refs = edit(cur.metadata?.ownerReferences ?? []);
      try {
        await rc.patch(item.identity.name, "merge", { metadata: { resourceVersion: cur.metadata?.resourceVersion, ownerReferences: refs.length ? refs : null } }, call);
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        if (!isConflict(err) || attempt >= 4) throw err;
      }
    }
  }

  /** True while the object with the item's name is still the item (same uid). */
  private async stillSame(rc: ResourceApi<KubeObject>, item: GraphNode, signal: AbortSignal | undefined): Promise<boolean> {
    try {
      return (await rc.get(item.identity.name, signal ? { signal } : {})).metadata?.uid === item.uid;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /** Removes one finalizer with a merge patch guarded by resourceVersion, re-reading on Conflict. */
  private async removeFinalizer(item: GraphNode, finalizer: string, signal: AbortSignal | undefined): Promise<void> {
    const rc = this.client(item.identity);
    const call = signal ? { signal } : {};
    for (let attempt = 0; ; attempt++) {
      let cur: KubeObject;
      try {
        cur = await rc.get(item.identity.name, call);
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
      if (cur.metadata?.uid !== item.uid) return;
      const finalizers = cur.metadata?.finalizers ?? [];
      if (!finalizers.includes(finalizer)) return;
      const rest = finalizers.filter((f) => f !== finalizer);
      try {
        await rc.patch(item.identity.name, "merge", { metadata: { resourceVersion: cur.metadata?.resourceVersion, finalizers: rest.length ? rest : null } }, call);
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        if (!isConflict(err) || attempt >= 4) throw err;
      }
    }
  }

  // ---- attemptToOrphan ----------------------------------------------------------------------

  /** The attemptToOrphan worker's body: free every dependent of the owner, then drop the orphan finalizer. */
  async syncOrphan(uid: string, signal?: AbortSignal, log: Logger = this.d.log): Promise<void> {
    const owner = this.graph.nodes.get(uid);
    if (!owner) return;
    const dependents = [...owner.dependents];
    const results = await Promise.allSettled(
      dependents.map((dep) =>
        this.patchOwnerRefs(dep, { metadata: { ownerReferences: [{ $patch: "delete", uid }], uid: dep.uid } }, (cur) => cur.filter((r) => r.uid !== uid), signal),
      ),
    );
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed.length > 0) throw failed[0]!.reason;
    log.info({ owner: identityString(owner.identity), dependents: dependents.length }, "orphaned dependents; removing the orphan finalizer");
    await this.removeFinalizer(owner, FINALIZER_ORPHAN, signal);
  }
}
