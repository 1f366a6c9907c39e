// The Deployment controller: informer handlers that map Deployment, ReplicaSet and pod
// events to Deployment keys, a work queue, and the shared reconcile runner over
// DeploymentSyncer.sync.
import type { Deployment, ReplicaSet } from "kubernetes-types/apps/v1.js";
import type { Pod } from "kubernetes-types/core/v1.js";
import { labelSelectorAsSelector, labelsEqual } from "../../api/labels.js";
import { realClock, type Clock } from "../../client/clock.js";
import { runController } from "../../client/controller.js";
import { DeletedFinalStateUnknown, finalStateOf, keyOf, type DeepReadonly, type KubeObject } from "../../client/objects.js";
import { WorkQueue } from "../../client/workqueue.js";
import type { ControllerContext } from "../context.js";
import type { SyncingController } from "../replicaset/controller.js";
import { controllerRefOf, type RPod } from "../replicaset/podutil.js";
import { DeploymentSyncer, type DeploymentCaches } from "./sync.js";
import type { RD, RRS } from "./util.js";

/** Maps events to Deployment keys (upstream addReplicaSet/updateReplicaSet/deletePod/...). */
export class DeploymentEventHandlers {
  constructor(
    private readonly caches: DeploymentCaches,
    private readonly enqueue: (key: string) => void,
  ) {}

  deploymentChanged(d: RD | DeletedFinalStateUnknown<Deployment>): void {
    this.enqueue(keyOf(d instanceof DeletedFinalStateUnknown ? d : (d as DeepReadonly<KubeObject>)));
  }

  private resolve(namespace: string, ref: ReturnType<typeof controllerRefOf>): RD | undefined {
    if (!ref || ref.kind !== "Deployment") return undefined;
    const d = this.caches.deployment(`${namespace}/${ref.name}`);
    return d && d.metadata?.uid === ref.uid ? d : undefined;
  }

  /** Deployments whose selector matches an orphan ReplicaSet (an empty selector matches nothing here). */
  private selecting(rs: RRS): RD[] {
    const out: RD[] = [];
    for (const d of this.caches.deployments(rs.metadata?.namespace ?? "")) {
      try {
        const sel = labelSelectorAsSelector(d.spec?.selector as Parameters<typeof labelSelectorAsSelector>[0]);
        if (!sel.isEmpty() && sel.matches(rs.metadata?.labels)) out.push(d);
      } catch {
        // An invalid selector selects nothing.
      }
    }
    return out;
  }

  replicaSetAdded(rs: RRS): void {
    if (rs.metadata?.deletionTimestamp) {
      this.replicaSetDeleted(rs);
      return;
    }
    const ref = controllerRefOf(rs);
    if (ref) {
      const d = this.resolve(rs.metadata?.namespace ?? "", ref);
      if (d) this.enqueue(keyOf(d as DeepReadonly<KubeObject>));
      return;
    }
    for (const d of this.selecting(rs)) this.enqueue(keyOf(d as DeepReadonly<KubeObject>));
  }

  replicaSetUpdated(old: RRS, cur: RRS): void {
    if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
    const ns = cur.metadata?.namespace ?? "";
    const curRef = controllerRefOf(cur);
    const oldRef = controllerRefOf(old);
    const refChanged = JSON.stringify(curRef ?? null) !== JSON.stringify(oldRef ?? null);
    if (refChanged && oldRef) {
      const d = this.resolve(ns, oldRef);
      if (d) this.enqueue(keyOf(d as DeepReadonly<KubeObject>));
    }
    if (curRef) {
      const d = this.resolve(ns, curRef);
      if (d) this.enqueue(keyOf(d as DeepReadonly<KubeObject>));
      return;
    }
    if (!labelsEqual(old.metadata?.labels, cur.metadata?.labels) || refChanged) for (const d of this.selecting(cur)) this.enqueue(keyOf(d as DeepReadonly<KubeObject>));
  }

  replicaSetDeleted(obj: RRS | DeletedFinalStateUnknown<ReplicaSet>): void {
    const rs = finalStateOf<ReplicaSet>(obj);
    const d = this.resolve(rs.metadata?.namespace ?? "", controllerRefOf(rs));
    if (d) this.enqueue(keyOf(d as DeepReadonly<KubeObject>));
  }

  /** A Recreate rollout waits for the old pods to be gone: their deletion is its cue. */
  podDeleted(obj: RPod | DeletedFinalStateUnknown<Pod>): void {
    const pod = finalStateOf<Pod>(obj);
    const ns = pod.metadata?.namespace ?? "";
    const rsRef = controllerRefOf(pod);
    if (!rsRef || rsRef.kind !== "ReplicaSet") return;
    const rs = this.caches.replicaSets(ns).find((x) => x.metadata?.name === rsRef.name && x.metadata?.uid === rsRef.uid);
    if (!rs) return;
    const d = this.resolve(ns, controllerRefOf(rs));
    if (d && d.spec?.strategy?.type === "Recreate") this.enqueue(keyOf(d as DeepReadonly<KubeObject>));
  }
}

export interface DeploymentControllerOptions {
  readonly clock?: Clock;
}

export function newDeploymentController(ctx: ControllerContext, opts: DeploymentControllerOptions = {}): SyncingController {
  const clock = opts.clock ?? realClock;
  const name = "deployment";
  const log = ctx.log.child({ controller: name });
  const queue = new WorkQueue<string>({ clock });
  const dInf = ctx.informers.informerFor(ctx.client.resource<Deployment>("apps", "v1", "deployments", { namespaced: true, kind: "Deployment" }));
  const rsInf = ctx.informers.informerFor(ctx.client.resource<ReplicaSet>("apps", "v1", "replicasets", { namespaced: true, kind: "ReplicaSet" }));
  const podInf = ctx.informers.informerFor(ctx.client.resource<Pod>("", "v1", "pods", { namespaced: true, kind: "Pod" }));
  const caches: DeploymentCaches = {
    deployment: (key) => dInf.indexer.get(key),
    deployments: (ns) => dInf.lister.namespace(ns).list(),
    replicaSets: (ns) => rsInf.lister.namespace(ns).list(),
    pods: (ns) => podInf.lister.namespace(ns).list(),
  };
  const syncer = new DeploymentSyncer({
    caches,
    api: ctx.client,
    events: ctx.events,
    clock,
    log,
    enqueueAfter: (key, ms) => queue.addAfter(key, ms),
    enqueueRateLimited: (key) => queue.addRateLimited(key),
  });
  const h = new DeploymentEventHandlers(caches, (key) => queue.add(key));
  const regs = [
    dInf.addEventHandler({ onAdd: (d) => h.deploymentChanged(d), onUpdate: (_o, d) => h.deploymentChanged(d), onDelete: (d) => h.deploymentChanged(d) }),
    rsInf.addEventHandler({ onAdd: (rs) => h.replicaSetAdded(rs), onUpdate: (a, b) => h.replicaSetUpdated(a, b), onDelete: (rs) => h.replicaSetDeleted(rs) }),
    podInf.addEventHandler({ onDelete: (p) => h.podDeleted(p) }),
  ];
  return {
    name,
    sync: (key) => syncer.sync(key),
    async run(signal, workers) {
      try {
        const synced = (await Promise.all([dInf.waitForSync(signal), rsInf.waitForSync(signal), podInf.waitForSync(signal)])).every(Boolean);
        if (!synced) {
          queue.shutDown();
          return;
        }
        await runController({ name, queue, workers, sync: (key, _signal, keyLog) => syncer.sync(key, keyLog), log: ctx.log, signal, metrics: ctx.metrics });
      } finally {
        for (const r of regs) r.remove();
      }
    },
  };
}
