// The StatefulSet controller (kube-controller-manager's "statefulset-controller"): informer
// handlers that only map StatefulSet and pod events to StatefulSet keys, a work queue, and the
// shared reconcile runner over StatefulSetSyncer.sync. Revisions and claims are read through
// their listers only, as upstream: the controller's own writes to them need no event.
import type { ControllerRevision, StatefulSet } from "kubernetes-types/apps/v1.js";
import type { PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1.js";
import type { OwnerReference } from "kubernetes-types/meta/v1.js";
import { labelSelectorAsSelector, labelsEqual } from "../../api/labels.js";
import { realClock, type Clock } from "../../client/clock.js";
import { runController } from "../../client/controller.js";
import { DeletedFinalStateUnknown, keyOf, sameOwnerRef, type DeepReadonly, type KubeObject } from "../../client/objects.js";
import { WorkQueue } from "../../client/workqueue.js";
import type { Controller, ControllerContext } from "../context.js";
import { claimablePods, ensurePodControllerIndex } from "../replicaset/podindex.js";
import { controllerRefOf, isPodReady, type RPod } from "../replicaset/podutil.js";
import { StatefulSetSyncer, type StatefulSetCaches } from "./sync.js";
import { STATEFULSET_KIND, type RSet } from "./util.js";

export const STATEFULSET_CONTROLLER = "statefulset-controller";

/** A Controller that also exposes one reconcile, for tests and tools. */
export interface SyncingStatefulSetController extends Controller {
  sync(key: string): Promise<void>;
}

/** Maps informer events to StatefulSet keys (upstream addPod/updatePod/deletePod/enqueueStatefulSet). Decides nothing. */
export class StatefulSetEventHandlers {
  constructor(
    private readonly caches: StatefulSetCaches,
    private readonly enqueue: (key: string) => void,
    private readonly enqueueAfter: (key: string, ms: number) => void,
  ) {}

  private key(set: RSet | DeletedFinalStateUnknown<StatefulSet>): string {
    return keyOf(set instanceof DeletedFinalStateUnknown ? set : (set as DeepReadonly<KubeObject>));
  }

  setAdded(set: RSet): void {
    this.enqueue(this.key(set));
  }

  setUpdated(_old: RSet, cur: RSet): void {
    this.enqueue(this.key(cur));
  }

  setDeleted(obj: RSet | DeletedFinalStateUnknown<StatefulSet>): void {
    this.enqueue(this.key(obj));
  }

  /** The set a controllerRef points at, if it is one and still the same object. */
  private resolve(namespace: string, ref: DeepReadonly<OwnerReference> | undefined): RSet | undefined {
    if (!ref || ref.kind !== STATEFULSET_KIND) return undefined;
    const set = this.caches.statefulSet(`${namespace}/${ref.name}`);
    return set && set.metadata?.uid === ref.uid ? set : undefined;
  }

  /** Sets whose selector matches an orphan's labels: each may want to adopt it. */
  private selecting(namespace: string, labels: Readonly<Record<string, string>> | undefined): RSet[] {
    const out: RSet[] = [];
    for (const set of this.caches.statefulSets(namespace)) {
      try {
        if (labelSelectorAsSelector(set.spec?.selector as Parameters<typeof labelSelectorAsSelector>[0]).matches(labels)) out.push(set);
      } catch {
        // An invalid selector selects nothing.
      }
    }
    return out;
  }

  podAdded(pod: RPod): void {
    // After a restart a pod may first be seen already terminating.
    if (pod.metadata?.deletionTimestamp) {
      this.podDeleted(pod);
      return;
    }
    const ns = pod.metadata?.namespace ?? "";
    const ref = controllerRefOf(pod);
    if (ref) {
      const set = this.resolve(ns, ref);
      if (set) this.enqueue(this.key(set));
      return;
    }
    for (const set of this.selecting(ns, pod.metadata?.labels)) this.enqueue(this.key(set));
  }

  podUpdated(old: RPod, cur: RPod): void {
    if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
    const ns = cur.metadata?.namespace ?? "";
    const curRef = controllerRefOf(cur);
    const oldRef = controllerRefOf(old);
    const refChanged = !sameOwnerRef(curRef, oldRef);
    if (refChanged && oldRef) {
      const prev = this.resolve(ns, oldRef);
      if (prev) this.enqueue(this.key(prev));
    }
    if (curRef) {
      const set = this.resolve(ns, curRef);
      if (!set) return;
      this.enqueue(this.key(set));
      // The pod turns available minReadySeconds after turning ready, and no event says so:
      // look again then (plus a second against timer skew, as upstream).
      const minReady = set.spec?.minReadySeconds ?? 0;
      if (minReady > 0 && !isPodReady(old) && isPodReady(cur)) this.enqueueAfter(this.key(set), minReady * 1000 + 1000);
      return;
    }
    if (refChanged || !labelsEqual(old.metadata?.labels, cur.metadata?.labels)) for (const set of this.selecting(ns, cur.metadata?.labels)) this.enqueue(this.key(set));
  }

  podDeleted(obj: RPod | DeletedFinalStateUnknown<Pod>): void {
    const pod = obj instanceof DeletedFinalStateUnknown ? obj.obj : obj;
    const set = this.resolve(pod.metadata?.namespace ?? "", controllerRefOf(pod));
    if (set) this.enqueue(this.key(set));
  }
}

export interface StatefulSetControllerOptions {
  readonly clock?: Clock;
}

export function newStatefulSetController(ctx: ControllerContext, opts: StatefulSetControllerOptions = {}): SyncingStatefulSetController {
  const clock = opts.clock ?? realClock;
  const log = ctx.log.child({ controller: STATEFULSET_CONTROLLER });
  const queue = new WorkQueue<string>({ clock });
  const setInformer = ctx.informers.informerFor(ctx.client.resource<StatefulSet>("apps", "v1", "statefulsets", { namespaced: true, kind: "StatefulSet" }));
  const podInformer = ctx.informers.informerFor(ctx.client.resource<Pod>("", "v1", "pods", { namespaced: true, kind: "Pod" }));
  const revInformer = ctx.informers.informerFor(ctx.client.resource<ControllerRevision>("apps", "v1", "controllerrevisions", { namespaced: true, kind: "ControllerRevision" }));
  const pvcInformer = ctx.informers.informerFor(ctx.client.resource<PersistentVolumeClaim>("", "v1", "persistentvolumeclaims", { namespaced: true, kind: "PersistentVolumeClaim" }));
  ensurePodControllerIndex(podInformer);
  const caches: StatefulSetCaches = {
    statefulSet: (key) => setInformer.indexer.get(key),
    statefulSets: (ns) => (ns === undefined ? setInformer.lister.list() : setInformer.lister.namespace(ns).list()),
    claimable: (ns, uid) => claimablePods(podInformer.indexer, ns, uid),
    revisions: (ns) => revInformer.lister.namespace(ns).list(),
    claim: (ns, name) => pvcInformer.indexer.get(`${ns}/${name}`),
  };
  const enqueueAfter = (key: string, ms: number): void => queue.addAfter(key, ms);
  const syncer = new StatefulSetSyncer({ caches, api: ctx.client, events: ctx.events, clock, enqueueAfter, log });
  const h = new StatefulSetEventHandlers(caches, (key) => queue.add(key), enqueueAfter);
  const regs = [
    setInformer.addEventHandler({ onAdd: (o) => h.setAdded(o), onUpdate: (a, b) => h.setUpdated(a, b), onDelete: (o) => h.setDeleted(o) }),
    podInformer.addEventHandler({ onAdd: (p) => h.podAdded(p), onUpdate: (a, b) => h.podUpdated(a, b), onDelete: (p) => h.podDeleted(p) }),
  ];
  return {
    name: STATEFULSET_CONTROLLER,
    sync: (key) => syncer.sync(key),
    async run(signal, workers) {
      try {
        const synced = (await Promise.all([setInformer, podInformer, revInformer, pvcInformer].map((i) => i.waitForSync(signal)))).every(Boolean);
        if (!synced) {
          queue.shutDown();
          return;
        }
        log.info("starting controller");
        await runController({ name: STATEFULSET_CONTROLLER, queue, workers, sync: (key, _signal, keyLog) => syncer.sync(key, keyLog), log: ctx.log, signal, metrics: ctx.metrics });
      } finally {
        for (const r of regs) r.remove();
      }
    },
  };
}
