// The horizontal pod autoscaler controller (kube-controller-manager's
// "horizontal-pod-autoscaler-controller"): every HPA is reconciled every 15 s
// (--horizontal-pod-autoscaler-sync-period), whatever happened. As upstream, the queue's rate
// limiter is a fixed interval: an HPA event or a finished (or failed) reconcile puts the key
// back after the period, and a key already waiting is not added twice, so a failing HPA is
// retried no faster than a healthy one is resynced.
import type { Pod } from "kubernetes-types/core/v1.js";
import { realClock, type Clock } from "../../client/clock.js";
import { runController } from "../../client/controller.js";
import { Lister } from "../../client/informer.js";
import { DeletedFinalStateUnknown, keyOf, type DeepReadonly, type KubeObject } from "../../client/objects.js";
import { WorkQueue, type RateLimiter } from "../../client/workqueue.js";
import type { Controller, ControllerContext } from "../context.js";
import { RestMetricsClient, type MetricsClient } from "./metrics.js";
import { RestScaleClient, type ScaleClient } from "./scale.js";
import { HPASyncer, type HPACaches, type HPASyncOptions, type RHPA } from "./sync.js";

export const HPA_CONTROLLER = "horizontal-pod-autoscaler-controller";
/** --horizontal-pod-autoscaler-sync-period. */
export const HPA_SYNC_PERIOD_MS = 15_000;
export const HPA_DEFAULT_WORKERS = 5;

/** Upstream's FixedItemIntervalRateLimiter: every item waits the same interval. */
export class FixedIntervalRateLimiter<T> implements RateLimiter<T> {
  constructor(private readonly intervalMs: number) {}
  when(_item: T): number {
    return this.intervalMs;
  }
  forget(_item: T): void {}
  numRequeues(_item: T): number {
    return 0;
  }
}

export interface HPAControllerOptions extends HPASyncOptions {
  readonly clock?: Clock;
  /** Where pod usage comes from; default metrics.k8s.io on the API server. */
  readonly metrics?: MetricsClient;
  /** The targets' scale subresource; default through the API server. */
  readonly scales?: ScaleClient;
  readonly syncPeriodMs?: number;
}

/** A Controller that also exposes one reconcile, for tests and tools. */
export interface SyncingHPAController extends Controller {
  sync(key: string): Promise<void>;
}

export function newHorizontalPodAutoscalerController(ctx: ControllerContext, opts: HPAControllerOptions = {}): SyncingHPAController {
  const clock = opts.clock ?? realClock;
  const log = ctx.log.child({ controller: HPA_CONTROLLER });
  const queue = new WorkQueue<string>({ clock, rateLimiter: new FixedIntervalRateLimiter<string>(opts.syncPeriodMs ?? HPA_SYNC_PERIOD_MS) });
  const hpaInformer = ctx.informers.informerFor(ctx.client.forKind("autoscaling/v2", "HorizontalPodAutoscaler"));
  const podInformer = ctx.informers.informerFor(ctx.client.resource<Pod>("", "v1", "pods", { namespaced: true, kind: "Pod" }));
  const pods = new Lister<Pod>(podInformer.indexer);
  const caches: HPACaches = {
    hpa: (key) => hpaInformer.indexer.get(key),
    pods: (ns, selector) => pods.namespace(ns).list(selector),
  };
  const syncer = new HPASyncer({
    caches,
    api: ctx.client,
    scales: opts.scales ?? new RestScaleClient(ctx.client),
    metrics: opts.metrics ?? new RestMetricsClient(ctx.client),
    events: ctx.events,
    clock,
    log,
    options: opts,
  });
  const sync = async (key: string): Promise<void> => {
    let requeue = true;
    try {
      requeue = (await syncer.sync(key)) !== "deleted";
    } finally {
      if (requeue) queue.addRateLimited(key);
    }
  };
  const enqueue = (obj: RHPA): void => queue.addRateLimited(keyOf(obj as DeepReadonly<KubeObject>));
  const regs = [
    hpaInformer.addEventHandler({
      onAdd: enqueue,
      onUpdate: (_old, cur) => enqueue(cur),
      // At once: the sync finds it gone and drops its recommendation history.
      onDelete: (obj) => queue.add(keyOf((obj instanceof DeletedFinalStateUnknown ? obj.obj : obj) as DeepReadonly<KubeObject>)),
    }),
  ];
  return {
    name: HPA_CONTROLLER,
    sync,
    async run(signal, workers) {
      try {
        const synced = (await Promise.all([hpaInformer.waitForSync(signal), podInformer.waitForSync(signal)])).every(Boolean);
        if (!synced) {
          queue.shutDown();
          return;
        }
        await runController({ name: HPA_CONTROLLER, queue, workers, sync, log: ctx.log, signal, metrics: ctx.metrics });
      } finally {
        for (const r of regs) r.remove();
      }
    },
  };
}

