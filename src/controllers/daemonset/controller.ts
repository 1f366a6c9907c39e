// The DaemonSet controller (kube-controller-manager's "daemonset-controller"): informer
// handlers that only map DaemonSet, pod, node and ControllerRevision events to DaemonSet keys
// (noting observed pod creates and deletes in the expectations), a work queue, and the shared
// reconcile runner over DaemonSetSyncer.sync.
import type { ControllerRevision, DaemonSet } from "kubernetes-types/apps/v1.js";
import type { Node, Pod } from "kubernetes-types/core/v1.js";
import type { OwnerReference } from "kubernetes-types/meta/v1.js";
import { labelSelectorAsSelector, labelsEqual } from "../../api/labels.js";
import { realClock, type Clock } from "../../client/clock.js";
import { runController } from "../../client/controller.js";
import { DeletedFinalStateUnknown, finalStateOf, keyOf, sameOwnerRef, type DeepReadonly, type KubeObject } from "../../client/objects.js";
import { WorkQueue } from "../../client/workqueue.js";
import type { Controller, ControllerContext } from "../context.js";
import { Expectations } from "../replicaset/expectations.js";
import { claimablePods, ensurePodControllerIndex } from "../replicaset/podindex.js";
import { controllerRefOf, isPodReady, type RPod } from "../replicaset/podutil.js";
import { FailedPodsBackoff } from "./backoff.js";
import type { RRevision } from "../history/history.js";
import { nodeShouldRunDaemonPod, type RDaemonSet, type RNode } from "./nodes.js";
import { DaemonSetSyncer, type DaemonSetCaches } from "./sync.js";
import { DAEMONSET_KIND } from "./util.js";

export const DAEMONSET_CONTROLLER = "daemonset-controller";

/** A Controller that also exposes one reconcile, for tests and tools. */
export interface SyncingDaemonSetController extends Controller {
  sync(key: string): Promise<void>;
}

/** The node conditions that are True, as a set (upstream nodeInSameCondition compares these). */
function trueConditions(n: RNode): string {
  return (n.status?.conditions ?? [])
    .filter((c) => c.status === "True")
    .map((c) => c.type)
    .sort()
    .join(",");
}

/**
 * Upstream shouldIgnoreNodeUpdate: a node update matters only if its labels, spec or set of
 * True conditions changed (heartbeats and resource usage do not move a daemon pod).
 */
export function nodeUpdateIrrelevant(old: RNode, cur: RNode): boolean {
  return trueConditions(old) === trueConditions(cur) && labelsEqual(old.metadata?.labels, cur.metadata?.labels) && JSON.stringify(old.spec ?? {}) === JSON.stringify(cur.spec ?? {});
}

/** Maps informer events to DaemonSet keys (upstream addPod/updatePod/.../updateNode). Decides nothing. */
export class DaemonSetEventHandlers {
  constructor(
    private readonly caches: DaemonSetCaches,
    private readonly expectations: Expectations,
    private readonly enqueue: (key: string) => void,
    private readonly enqueueAfter: (key: string, ms: number) => void,
  ) {}

  private key(ds: RDaemonSet): string {
    return keyOf(ds as DeepReadonly<KubeObject>);
  }

  daemonSetAdded(ds: RDaemonSet): void {
    this.enqueue(this.key(ds));
  }

  daemonSetUpdated(old: RDaemonSet, cur: RDaemonSet): void {
    // Deleted and recreated under the same name while the watch was down: forget the old one.
    if (old.metadata?.uid !== cur.metadata?.uid) this.daemonSetDeleted(old);
    this.enqueue(this.key(cur));
  }

  daemonSetDeleted(obj: RDaemonSet | DeletedFinalStateUnknown<DaemonSet>): void {
    const key = keyOf(obj instanceof DeletedFinalStateUnknown ? obj : (obj as DeepReadonly<KubeObject>));
    this.expectations.delete(key);
    this.enqueue(key);
  }

  /** The DaemonSet a controllerRef points at, if it is one and still the same object. */
  private resolve(namespace: string, ref: DeepReadonly<OwnerReference> | undefined): RDaemonSet | undefined {
    if (!ref || ref.kind !== DAEMONSET_KIND) return undefined;
    const ds = this.caches.daemonSet(`${namespace}/${ref.name}`);
    return ds && ds.metadata?.uid === ref.uid ? ds : undefined;
  }

  /** DaemonSets whose selector matches an orphan's labels: each may want to adopt it. */
  private selecting(namespace: string, labels: Readonly<Record<string, string>> | undefined): RDaemonSet[] {
    const out: RDaemonSet[] = [];
    for (const ds of this.caches.daemonSets(namespace)) {
      const sel = ds.spec?.selector;
      if (!sel || (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0)) continue;
      try {
        if (labelSelectorAsSelector(sel as Parameters<typeof labelSelectorAsSelector>[0]).matches(labels)) out.push(ds);
      } catch {
        // An invalid selector selects nothing.
      }
    }
    return out;
  }

  podAdded(pod: RPod): void {
    // After a restart a pod may first be seen already terminating: that is no create.
    if (pod.metadata?.deletionTimestamp) {
      this.podDeleted(pod);
      return;
    }
    const ns = pod.metadata?.namespace ?? "";
    const ref = controllerRefOf(pod);
    if (ref) {
      const ds = this.resolve(ns, ref);
      if (!ds) return;
      this.expectations.creationObserved(this.key(ds));
      this.enqueue(this.key(ds));
      return;
    }
    for (const ds of this.selecting(ns, pod.metadata?.labels)) this.enqueue(this.key(ds));
  }

  podUpdated(old: RPod, cur: RPod): void {
    if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
    if (cur.metadata?.deletionTimestamp) {
      // Graceful deletion: count it as deleted now, so the replacement is not held up for the grace period.
      this.podDeleted(cur);
      return;
    }
    const ns = cur.metadata?.namespace ?? "";
    const curRef = controllerRefOf(cur);
    const oldRef = controllerRefOf(old);
    const refChanged = !sameOwnerRef(curRef, oldRef);
    if (refChanged && oldRef) {
      const prev = this.resolve(ns, oldRef);
      if (prev) this.enqueue(this.key(prev));
    }
    if (curRef) {
      const ds = this.resolve(ns, curRef);
      if (!ds) return;
      this.enqueue(this.key(ds));
      // The pod turns available minReadySeconds after turning ready, and no event says so:
      // look again then (plus a second against timer skew, as upstream).
      const minReady = ds.spec?.minReadySeconds ?? 0;
      if (minReady > 0 && !isPodReady(old) && isPodReady(cur)) this.enqueueAfter(this.key(ds), minReady * 1000 + 1000);
      return;
    }
    if (refChanged || !labelsEqual(old.metadata?.labels, cur.metadata?.labels)) for (const ds of this.selecting(ns, cur.metadata?.labels)) this.enqueue(this.key(ds));
  }

  podDeleted(obj: RPod | DeletedFinalStateUnknown<Pod>): void {
    const pod = finalStateOf<Pod>(obj);
    const ds = this.resolve(pod.metadata?.namespace ?? "", controllerRefOf(pod));
    if (!ds) return;
    this.expectations.deletionObserved(this.key(ds), keyOf(pod as DeepReadonly<KubeObject>));
    this.enqueue(this.key(ds));
  }

  nodeAdded(node: RNode): void {
    for (const ds of this.caches.daemonSets()) if (nodeShouldRunDaemonPod(node, ds).shouldRun) this.enqueue(this.key(ds));
  }

  nodeUpdated(old: RNode, cur: RNode): void {
    if (nodeUpdateIrrelevant(old, cur)) return;
    for (const ds of this.caches.daemonSets()) {
      const a = nodeShouldRunDaemonPod(old, ds);
      const b = nodeShouldRunDaemonPod(cur, ds);
      if (a.shouldRun !== b.shouldRun || a.shouldContinueRunning !== b.shouldContinueRunning) this.enqueue(this.key(ds));
    }
  }

  revisionAdded(rev: RRevision): void {
    if (rev.metadata?.deletionTimestamp) {
      this.revisionDeleted(rev);
      return;
    }
    // One of ours appearing needs nothing: the sync that created it already moved on.
    if (controllerRefOf(rev)) return;
    for (const ds of this.selecting(rev.metadata?.namespace ?? "", rev.metadata?.labels)) this.enqueue(this.key(ds));
  }

  revisionUpdated(old: RRevision, cur: RRevision): void {
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
      const ds = this.resolve(ns, curRef);
      if (ds) this.enqueue(this.key(ds));
      return;
    }
    if (refChanged || !labelsEqual(old.metadata?.labels, cur.metadata?.labels)) for (const ds of this.selecting(ns, cur.metadata?.labels)) this.enqueue(this.key(ds));
  }

  revisionDeleted(obj: RRevision | DeletedFinalStateUnknown<ControllerRevision>): void {
    const rev = finalStateOf<ControllerRevision>(obj);
    const ds = this.resolve(rev.metadata?.namespace ?? "", controllerRefOf(rev));
    if (ds) this.enqueue(this.key(ds));
  }
}

export interface DaemonSetControllerOptions {
  readonly clock?: Clock;
  readonly burstReplicas?: number;
}

export function newDaemonSetController(ctx: ControllerContext, opts: DaemonSetControllerOptions = {}): SyncingDaemonSetController {
  const clock = opts.clock ?? realClock;
  const log = ctx.log.child({ controller: DAEMONSET_CONTROLLER });
  const queue = new WorkQueue<string>({ clock });
  const expectations = new Expectations(clock);
  const dsInformer = ctx.informers.informerFor(ctx.client.resource<DaemonSet>("apps", "v1", "daemonsets", { namespaced: true, kind: "DaemonSet" }));
  const revInformer = ctx.informers.informerFor(ctx.client.resource<ControllerRevision>("apps", "v1", "controllerrevisions", { namespaced: true, kind: "ControllerRevision" }));
  const podInformer = ctx.informers.informerFor(ctx.client.resource<Pod>("", "v1", "pods", { namespaced: true, kind: "Pod" }));
  const nodeInformer = ctx.informers.informerFor(ctx.client.resource<Node>("", "v1", "nodes", { namespaced: false, kind: "Node" }));
  ensurePodControllerIndex(podInformer);
  const caches: DaemonSetCaches = {
    daemonSet: (key) => dsInformer.indexer.get(key),
    daemonSets: (ns) => (ns === undefined ? dsInformer.lister.list() : dsInformer.lister.namespace(ns).list()),
    nodes: () => nodeInformer.lister.list(),
    claimable: (ns, uid) => claimablePods(podInformer.indexer, ns, uid),
    revisions: (ns) => revInformer.lister.namespace(ns).list(),
  };
  const enqueueAfter = (key: string, ms: number): void => queue.addAfter(key, ms);
  const syncer = new DaemonSetSyncer({ caches, api: ctx.client, events: ctx.events, expectations, backoff: new FailedPodsBackoff(clock), clock, enqueueAfter, log, ...(opts.burstReplicas !== undefined ? { burstReplicas: opts.burstReplicas } : {}) });
  const h = new DaemonSetEventHandlers(caches, expectations, (key) => queue.add(key), enqueueAfter);
  const regs = [
    dsInformer.addEventHandler({ onAdd: (o) => h.daemonSetAdded(o), onUpdate: (a, b) => h.daemonSetUpdated(a, b), onDelete: (o) => h.daemonSetDeleted(o) }),
    revInformer.addEventHandler({ onAdd: (o) => h.revisionAdded(o), onUpdate: (a, b) => h.revisionUpdated(a, b), onDelete: (o) => h.revisionDeleted(o) }),
    podInformer.addEventHandler({ onAdd: (p) => h.podAdded(p), onUpdate: (a, b) => h.podUpdated(a, b), onDelete: (p) => h.podDeleted(p) }),
    nodeInformer.addEventHandler({ onAdd: (n) => h.nodeAdded(n), onUpdate: (a, b) => h.nodeUpdated(a, b) }),
  ];
  return {
    name: DAEMONSET_CONTROLLER,
    sync: (key) => syncer.sync(key),
    async run(signal, workers) {
      try {
        const synced = (await Promise.all([dsInformer, revInformer, podInformer, nodeInformer].map((i) => i.waitForSync(signal)))).every(Boolean);
        if (!synced) {
          queue.shutDown();
          return;
        }
        log.info("starting controller");
        await runController({ name: DAEMONSET_CONTROLLER, queue, workers, sync: (key, _signal, keyLog) => syncer.sync(key, keyLog), log: ctx.log, signal, metrics: ctx.metrics });
      } finally {
        for (const r of regs) r.remove();
      }
    },
  };
}
