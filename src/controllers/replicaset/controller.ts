// The ReplicaSet / ReplicationController controller: informer handlers that only map events
// to the keys of the owners concerned (and note observed creates and deletes in the
// expectations), a work queue, and the shared reconcile runner over ReplicaSyncer.sync.
import type { Pod } from "kubernetes-types/core/v1.js";
import { realClock, type Clock } from "../../client/clock.js";
import { runController } from "../../client/controller.js";
import type { SharedInformer } from "../../client/informer.js";
import { DeletedFinalStateUnknown, finalStateOf, keyOf, sameOwnerRef, type DeepReadonly, type KubeObject } from "../../client/objects.js";
import { WorkQueue } from "../../client/workqueue.js";
import type { Logger } from "../../util/log.js";
import type { Controller, ControllerContext } from "../context.js";
import { Expectations } from "./expectations.js";
import type { ReplicaKind, ReplicaObject, RReplica } from "./kinds.js";
import { controllerRefOf, isPodReady, type RPod } from "./podutil.js";
import { ReplicaSyncer, type ReplicaCaches } from "./sync.js";
import { claimablePods, ensurePodControllerIndex } from "./podindex.js";
import { labelsEqual } from "../../api/labels.js";

/** A Controller that also exposes one reconcile, for tests and tools. */
export interface SyncingController extends Controller {
  sync(key: string): Promise<void>;
}

/**
 * Maps informer events to owner keys (upstream addPod/updatePod/deletePod/addRS/...). Only
 * computes keys and records observations: all decisions happen in sync.
 */
export class ReplicaEventHandlers {
  constructor(
    private readonly kind: ReplicaKind,
    private readonly caches: ReplicaCaches,
    private readonly expectations: Expectations,
    private readonly enqueue: (key: string) => void,
    private readonly enqueueAfter: (key: string, ms: number) => void,
  ) {}

  ownerAdded(obj: RReplica): void {
    this.enqueue(keyOf(obj as DeepReadonly<KubeObject>));
  }

  ownerUpdated(old: RReplica, cur: RReplica): void {
    // Deleted and recreated under the same name while the watch was down: forget the old one.
    if (old.metadata?.uid !== cur.metadata?.uid) this.ownerDeleted(old);
    this.enqueue(keyOf(cur as DeepReadonly<KubeObject>));
  }

  ownerDeleted(obj: RReplica | DeletedFinalStateUnknown<ReplicaObject>): void {
    const key = keyOf(obj instanceof DeletedFinalStateUnknown ? obj : (obj as DeepReadonly<KubeObject>));
    this.expectations.delete(key);
    this.enqueue(key);
  }

  /** The owner a controllerRef points at, if it is of our kind and still the same object. */
  private resolve(namespace: string, ref: ReturnType<typeof controllerRefOf>): RReplica | undefined {
    if (!ref || ref.kind !== this.kind.kind) return undefined;
    const owner = this.caches.owner(`${namespace}/${ref.name}`);
    return owner && owner.metadata?.uid === ref.uid ? owner : undefined;
  }

  /** Owners whose selector matches an orphan pod: each may want to adopt it. */
  private ownersSelecting(pod: RPod): RReplica[] {
    const out: RReplica[] = [];
    for (const o of this.caches.owners(pod.metadata?.namespace ?? "")) {
      try {
        if (this.kind.selector(o).matches(pod.metadata?.labels)) out.push(o);
      } catch {
        // An owner with an invalid selector selects nothing.
      }
    }
    return out;
  }

  podAdded(pod: RPod): void {
    // After a restart a pod may first be seen already terminating: that is a deletion, not a create.
    if (pod.metadata?.deletionTimestamp) {
      this.podDeleted(pod);
      return;
    }
    const ns = pod.metadata?.namespace ?? "";
    const ref = controllerRefOf(pod);
    if (ref) {
      const owner = this.resolve(ns, ref);
      if (!owner) return;
      const key = keyOf(owner as DeepReadonly<KubeObject>);
      this.expectations.creationObserved(key);
      this.enqueue(key);
      return;
    }
    for (const o of this.ownersSelecting(pod)) this.enqueue(keyOf(o as DeepReadonly<KubeObject>));
  }

  podUpdated(old: RPod, cur: RPod): void {
    if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
    const labelChanged = !labelsEqual(old.metadata?.labels, cur.metadata?.labels);
    if (cur.metadata?.deletionTimestamp) {
      // Graceful deletion: the pod is on its way out; count it as deleted now, for the owner
      // it had before and (if its labels changed) any owner that selected it.
      this.podDeleted(cur);
      if (labelChanged) this.podDeleted(old);
      return;
    }
    const ns = cur.metadata?.namespace ?? "";
    const curRef = controllerRefOf(cur);
    const oldRef = controllerRefOf(old);
    const refChanged = !sameOwnerRef(curRef, oldRef);
    if (refChanged && oldRef) {
      const prev = this.resolve(ns, oldRef);
      if (prev) this.enqueue(keyOf(prev as DeepReadonly<KubeObject>));
    }
    if (curRef) {
      const owner = this.resolve(ns, curRef);
      if (!owner) return;
      const key = keyOf(owner as DeepReadonly<KubeObject>);
      this.enqueue(key);
      // The pod turns available minReadySeconds after turning ready, and no event says so:
      // look again then (plus a second against timer skew, as upstream).
      const minReady = owner.spec?.minReadySeconds ?? 0;
      if (minReady > 0 && !isPodReady(old) && isPodReady(cur)) this.enqueueAfter(key, minReady * 1000 + 1000);
      return;
    }
    if (labelChanged || refChanged) for (const o of this.ownersSelecting(cur)) this.enqueue(keyOf(o as DeepReadonly<KubeObject>));
  }

  podDeleted(obj: RPod | DeletedFinalStateUnknown<Pod>): void {
    const pod = finalStateOf<Pod>(obj);
    const ref = controllerRefOf(pod);
    if (!ref) return;
    const owner = this.resolve(pod.metadata?.namespace ?? "", ref);
    if (!owner) return;
    const key = keyOf(owner as DeepReadonly<KubeObject>);
    this.expectations.deletionObserved(key, keyOf(pod as DeepReadonly<KubeObject>));
    this.enqueue(key);
  }
}

export interface ReplicaControllerOptions {
  readonly clock?: Clock;
  readonly burstReplicas?: number;
}

/** Caches over the shared informers of the owner kind and of pods. */
export function informerCaches(owners: SharedInformer<ReplicaObject>, pods: SharedInformer<Pod>): ReplicaCaches {
  ensurePodControllerIndex(pods);
  return {
    owner: (key) => owners.indexer.get(key),
    owners: (ns) => owners.lister.namespace(ns).list(),
    pods: (ns) => pods.lister.namespace(ns).list(),
    claimable: (ns, uid) => claimablePods(pods.indexer, ns, uid),
  };
}

export function newReplicaController(ctx: ControllerContext, kind: ReplicaKind, opts: ReplicaControllerOptions = {}): SyncingController {
  const clock = opts.clock ?? realClock;
  const log: Logger = ctx.log.child({ controller: kind.controllerName });
  const queue = new WorkQueue<string>({ clock });
  const expectations = new Expectations(clock);
  const ownerInformer = ctx.informers.informerFor(ctx.client.resource<ReplicaObject>(kind.group, kind.version, kind.plural, { namespaced: true, kind: kind.kind }));
  const podInformer = ctx.informers.informerFor(ctx.client.resource<Pod>("", "v1", "pods", { namespaced: true, kind: "Pod" }));
  const caches = informerCaches(ownerInformer, podInformer);
  const enqueueAfter = (key: string, ms: number): void => queue.addAfter(key, ms);
  const syncer = new ReplicaSyncer({ kind, caches, api: ctx.client, events: ctx.events, expectations, clock, enqueueAfter, log, ...(opts.burstReplicas !== undefined ? { burstReplicas: opts.burstReplicas } : {}) });
  const h = new ReplicaEventHandlers(kind, caches, expectations, (key) => queue.add(key), enqueueAfter);
  const regs = [
    ownerInformer.addEventHandler({ onAdd: (o) => h.ownerAdded(o), onUpdate: (a, b) => h.ownerUpdated(a, b), onDelete: (o) => h.ownerDeleted(o) }),
    podInformer.addEventHandler({ onAdd: (p) => h.podAdded(p), onUpdate: (a, b) => h.podUpdated(a, b), onDelete: (p) => h.podDeleted(p) }),
  ];
  return {
    name: kind.controllerName,
    sync: (key) => syncer.sync(key),
    async run(signal, workers) {
      try {
        const synced = (await Promise.all([ownerInformer.waitForSync(signal), podInformer.waitForSync(signal)])).every(Boolean);
        if (!synced) {
          queue.shutDown();
          return;
        }
        await runController({ name: kind.controllerName, queue, workers, sync: (key, _signal, keyLog) => syncer.sync(key, keyLog), log: ctx.log, signal, metrics: ctx.metrics });
      } finally {
        for (const r of regs) r.remove();
      }
    },
  };
}
