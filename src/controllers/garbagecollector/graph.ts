// The dependency graph of the garbage collector (upstream pkg/controller/garbagecollector/
// graph.go and graph_builder.go): one node per object uid, edges from ownerReferences. The
// graph is a derived index of the informer caches, like an Indexer, so it is updated straight
// from informer events; every decision taken from it (delete, orphan, drop a finalizer) goes
// through the work queues and re-reads the API first.
//
// A node for an owner that no informer has shown yet is "virtual": it stands in for an object
// the dependents name but the graph has not seen, and is verified against the API.
import type { OwnerReference } from "kubernetes-types/meta/v1.js";
import { sameOwnerRef, type DeepReadonly, type KubeObject } from "../../client/objects.js";
import { splitApiVersion } from "../../client/resources.js";
import type { Logger } from "../../util/log.js";

export const FINALIZER_ORPHAN = "orphan";
export const FINALIZER_FOREGROUND = "foregroundDeletion";

/** What names an object to the garbage collector: an owner reference's coordinates plus the namespace ("" for cluster-scoped). */
export interface ObjectIdentity {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly namespace: string;
}

export function identityString(id: ObjectIdentity): string {
  return `[${id.apiVersion}/${id.kind}, namespace: ${id.namespace}, name: ${id.name}, uid: ${id.uid}]`;
}

/**
 * Same object as far as references go. Versions of one group name the same objects, so only
 * the group is compared (an owner reference may use another served version than the informer).
 */
export function sameCoordinates(a: Omit<ObjectIdentity, "namespace">, b: Omit<ObjectIdentity, "namespace">): boolean {
  return a.uid === b.uid && a.name === b.name && a.kind === b.kind && splitApiVersion(a.apiVersion).group === splitApiVersion(b.apiVersion).group;
}

function sameIdentity(a: ObjectIdentity, b: ObjectIdentity): boolean {
  return sameCoordinates(a, b) && a.namespace === b.namespace;
}

export class GraphNode {
  readonly dependents = new Set<GraphNode>();
  owners: readonly DeepReadonly<OwnerReference>[] = [];
  /** deletionTimestamp was seen. */
  beingDeleted = false;
  /** Being deleted with the foregroundDeletion finalizer: waits for its blocking dependents. */
  deletingDependents = false;

  constructor(
    public identity: ObjectIdentity,
    /** Not (yet) seen by an informer: only named by dependents. */
    public virtual: boolean,
  ) {}

  get uid(): string {
    return this.identity.uid;
  }

  /** Dependents whose reference to this node has blockOwnerDeletion: foreground deletion waits for them. */
  blockingDependents(): GraphNode[] {
    const out: GraphNode[] = [];
    for (const dep of this.dependents) {
      if (dep.owners.some((r) => r.uid === this.uid && r.blockOwnerDeletion === true)) out.push(dep);
    }
    return out;
  }
}

/** Owners known not to exist (by full identity, uid included), so dependents need no lookup. A small LRU. */
export class AbsentOwnerCache {
  private readonly keys = new Map<string, true>();
  constructor(private readonly max = 500) {}

  private static key(id: ObjectIdentity): string {
    return `${splitApiVersion(id.apiVersion).group}|${id.kind}|${id.namespace}|${id.name}|${id.uid}`;
  }

  add(id: ObjectIdentity): void {
    const k = AbsentOwnerCache.key(id);
    this.keys.delete(k);
    this.keys.set(k, true);
    if (this.keys.size > this.max) this.keys.delete(this.keys.keys().next().value!);
  }

  has(id: ObjectIdentity): boolean {
    const k = AbsentOwnerCache.key(id);
    if (!this.keys.has(k)) return false;
    this.keys.delete(k);
    this.keys.set(k, true);
    return true;
  }
}

/** Where the graph sends work: uids into the collector's queues. */
export interface GraphQueues {
  attemptToDelete(uid: string): void;
  /** For a virtual node given a new identity: retry later, not at once. */
  attemptToDeleteLater(uid: string): void;
  attemptToOrphan(uid: string): void;
}

/** Something a dependent got wrong about its owner, worth an Event on the dependent. */
export type InvalidOwnerReport = (dependent: ObjectIdentity, ownerUid: string) => void;

function hasFinalizer(obj: DeepReadonly<KubeObject> | undefined, f: string): boolean {
  return (obj?.metadata?.finalizers ?? []).includes(f);
}

function deleting(obj: DeepReadonly<KubeObject> | undefined): boolean {
  return obj?.metadata?.deletionTimestamp !== undefined && obj.metadata.deletionTimestamp !== null;
}

/** The object starts being deleted with `finalizer` (it was not, before this event). */
function startsWaitingFor(finalizer: string, old: DeepReadonly<KubeObject> | undefined, obj: DeepReadonly<KubeObject>): boolean {
  if (!deleting(obj) || !hasFinalizer(obj, finalizer)) return false;
  return !(old && deleting(old) && hasFinalizer(old, finalizer));
}

export function identityOf(obj: DeepReadonly<KubeObject>): ObjectIdentity {
  const m = obj.metadata ?? {};
  return { apiVersion: obj.apiVersion ?? "", kind: obj.kind ?? "", name: m.name ?? "", uid: m.uid ?? "", namespace: m.namespace ?? "" };
}

function ownerIdentity(ref: DeepReadonly<OwnerReference>, dependentNamespace: string): ObjectIdentity {
  return { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, uid: ref.uid, namespace: dependentNamespace };
}

interface ChangedRef {
  readonly oldRef: DeepReadonly<OwnerReference>;
  readonly newRef: DeepReadonly<OwnerReference>;
}

const NO_DIFFS = { added: [], removed: [], changed: [] } as const;

function referencesDiffs(old: readonly DeepReadonly<OwnerReference>[], next: readonly DeepReadonly<OwnerReference>[]): { readonly added: readonly DeepReadonly<OwnerReference>[]; readonly removed: readonly DeepReadonly<OwnerReference>[]; readonly changed: readonly ChangedRef[] } {
  // Nearly every update leaves the references as they were: say so without building maps.
  if (old.length === next.length && old.every((r, i) => sameOwnerRef(r, next[i]!))) return NO_DIFFS;
  const oldByUid = new Map(old.map((r) => [r.uid, r]));
  const newByUid = new Map(next.map((r) => [r.uid, r]));
  const added = next.filter((r) => !oldByUid.has(r.uid));
  const removed = old.filter((r) => !newByUid.has(r.uid));
  const changed: ChangedRef[] = [];
  for (const r of next) {
    const o = oldByUid.get(r.uid);
    if (o && !sameOwnerRef(o, r)) changed.push({ oldRef: o, newRef: r });
  }
  return { added, removed, changed };
}

export class DependencyGraph {
  readonly nodes = new Map<string, GraphNode>();
  readonly absentOwners = new AbsentOwnerCache();

  constructor(
    private readonly q: GraphQueues,
    private readonly log: Logger,
    private readonly reportInvalid: InvalidOwnerReport = () => {},
  ) {}

  /** An informer saw `obj` added or changed (`old`: its previous state, if any). */
  observeUpsert(obj: DeepReadonly<KubeObject>, old?: DeepReadonly<KubeObject>): void {
    const id = identityOf(obj);
    if (!id.uid) return;
    let node = this.nodes.get(id.uid);
    if (node) this.markObserved(node, id);
    const refs = obj.metadata?.ownerReferences ?? [];
    if (!node) {
      node = new GraphNode(id, false);
      node.owners = refs;
      node.beingDeleted = deleting(obj);
      node.deletingDependents = node.beingDeleted && hasFinalizer(obj, FINALIZER_FOREGROUND);
      this.nodes.set(id.uid, node);
      this.addDependentToOwners(node, refs);
    } else {
      const { added, removed, changed } = referencesDiffs(node.owners, refs);
      if (added.length || removed.length || changed.length) {
        this.addUnblockedOwnersToDeleteQueue(removed, changed);
        node.owners = refs;
        this.addDependentToOwners(node, added);
        this.removeDependentFromOwners(node, removed);
      }
      if (deleting(obj)) node.beingDeleted = true;
    }
    this.processTransitions(old, obj, node);
  }

  /** An informer saw `obj` deleted. */
  observeDelete(obj: DeepReadonly<KubeObject>): void {
    const id = identityOf(obj);
    const node = this.nodes.get(id.uid);
    if (!node) return;
    this.markObserved(node, id);
    this.removeNodeAndNotify(node, id);
  }

  /**
   * The API said the object `id` does not exist (a virtual delete event). Dependents that
   * name it so are re-examined; a node observed under other coordinates stays.
   */
  virtualDelete(id: ObjectIdentity): void {
    const node = this.nodes.get(id.uid);
    if (!node) return;
    if (node.virtual) {
      const { matching, nonMatching } = this.partitionDependents(node, id);
      if (nonMatching.length > 0) {
        // Dependents disagree on this owner's coordinates: keep the node for the others.
        if (matching.length > 0) {
          this.absentOwners.add(id);
          for (const dep of matching) this.q.attemptToDelete(dep.uid);
        }
        if (sameIdentity(node.identity, id)) {
          const first = nonMatching[0]!;
          const ref = first.owners.find((r) => r.uid === id.uid);
          if (ref) {
            node.identity = ownerIdentity(ref, first.identity.namespace);
            this.q.attemptToDeleteLater(node.uid);
          }
        }
        return;
      }
    } else if (!sameIdentity(node.identity, id)) {
      // A real node never goes on a virtual event; only dependents that named it wrongly are affected.
      const { matching } = this.partitionDependents(node, id);
      if (matching.length > 0) {
        this.absentOwners.add(id);
        for (const dep of matching) this.q.attemptToDelete(dep.uid);
      }
      return;
    }
    this.removeNodeAndNotify(node, id);
  }

  private removeNodeAndNotify(node: GraphNode, id: ObjectIdentity): void {
    this.nodes.delete(node.uid);
    this.removeDependentFromOwners(node, node.owners);
    if (node.dependents.size > 0) this.absentOwners.add(id);
    for (const dep of node.dependents) this.q.attemptToDelete(dep.uid);
    for (const ref of node.owners) {
      const owner = this.nodes.get(ref.uid);
      // An owner waiting for its dependents may now be free to go.
      if (owner?.deletingDependents) this.q.attemptToDelete(owner.uid);
    }
  }

  /** A virtual node shown by an informer becomes real; dependents that named it otherwise are re-examined. */
  private markObserved(node: GraphNode, observed: ObjectIdentity): void {
    if (!node.virtual) return;
    if (!sameIdentity(node.identity, observed)) {
      const { nonMatching } = this.partitionDependents(node, observed);
      for (const dep of nonMatching) {
        if (observed.namespace && dep.identity.namespace !== observed.namespace) this.reportInvalid(dep.identity, observed.uid);
        this.q.attemptToDelete(dep.uid);
      }
      node.identity = observed;
    }
    node.virtual = false;
  }

  private partitionDependents(node: GraphNode, id: ObjectIdentity): { matching: GraphNode[]; nonMatching: GraphNode[] } {
    const matching: GraphNode[] = [];
    const nonMatching: GraphNode[] = [];
    const ownerNamespaced = id.namespace !== "";
    for (const dep of node.dependents) {
      let match = false;
      for (const ref of dep.owners) {
        if (ref.uid !== id.uid) continue;
        match = sameCoordinates(ref, id) && (!ownerNamespaced || dep.identity.namespace === id.namespace);
        break;
      }
      (match ? matching : nonMatching).push(dep);
    }
    return { matching, nonMatching };
  }

  private addDependentToOwners(node: GraphNode, refs: readonly DeepReadonly<OwnerReference>[]): void {
    let potentiallyInvalid = false;
    for (const ref of refs) {
      let owner = this.nodes.get(ref.uid);
      if (!owner) {
        owner = new GraphNode(ownerIdentity(ref, node.identity.namespace), true);
        this.nodes.set(ref.uid, owner);
        owner.dependents.add(node);
        // The API decides whether it exists; a confirmed absence comes back as a virtual delete.
        this.q.attemptToDelete(owner.uid);
        continue;
      }
      owner.dependents.add(node);
      if (potentiallyInvalid) continue;
      const ownerNamespaced = owner.identity.namespace !== "";
      if (ownerNamespaced && owner.identity.namespace !== node.identity.namespace) {
        if (!owner.virtual) {
          this.log.debug({ dependent: identityString(node.identity), owner: identityString(owner.identity) }, "item references an owner in another namespace");
          this.reportInvalid(node.identity, ref.uid);
        }
        potentiallyInvalid = true;
      } else if (!sameCoordinates(ref, owner.identity)) {
        potentiallyInvalid = true;
      } else if (!ownerNamespaced && owner.identity.namespace !== node.identity.namespace && owner.virtual) {
        // A virtual cluster-scoped owner of a namespaced dependent may really be a missing namespaced object (upstream #98040).
        potentiallyInvalid = true;
      }
    }
    if (potentiallyInvalid) this.q.attemptToDelete(node.uid);
  }

  private removeDependentFromOwners(node: GraphNode, refs: readonly DeepReadonly<OwnerReference>[]): void {
    for (const ref of refs) this.nodes.get(ref.uid)?.dependents.delete(node);
  }

  /** A dependent stopped blocking: owners waiting on it get another look. */
  private addUnblockedOwnersToDeleteQueue(removed: readonly DeepReadonly<OwnerReference>[], changed: readonly ChangedRef[]): void {
    for (const ref of removed) {
      if (ref.blockOwnerDeletion === true && this.nodes.has(ref.uid)) this.q.attemptToDelete(ref.uid);
    }
    for (const c of changed) {
      if (c.oldRef.blockOwnerDeletion === true && c.newRef.blockOwnerDeletion !== true && this.nodes.has(c.newRef.uid)) this.q.attemptToDelete(c.newRef.uid);
    }
  }

  private processTransitions(old: DeepReadonly<KubeObject> | undefined, obj: DeepReadonly<KubeObject>, node: GraphNode): void {
    if (startsWaitingFor(FINALIZER_ORPHAN, old, obj)) {
      this.q.attemptToOrphan(node.uid);
      return;
    }
    if (startsWaitingFor(FINALIZER_FOREGROUND, old, obj)) {
      node.deletingDependents = true;
      for (const dep of node.dependents) this.q.attemptToDelete(dep.uid);
      this.q.attemptToDelete(node.uid);
    }
  }
}
