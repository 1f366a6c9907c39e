// The Job controller (kube-controller-manager's "job-controller"): informer handlers that map
// Job and pod events to Job keys, note observed creates, deletes and finalizer removals, and a
// work queue over JobSyncer.sync.
import type { Pod } from "kubernetes-types/core/v1.js";
import type { Job } from "kubernetes-types/batch/v1.js";
import { realClock, type Clock } from "../../client/clock.js";
import { runController } from "../../client/controller.js";
import { DeletedFinalStateUnknown, finalStateOf, keyOf, type DeepReadonly, type KubeObject } from "../../client/objects.js";
import { WorkQueue } from "../../client/workqueue.js";
import type { Controller, ControllerContext } from "../context.js";
import { Expectations } from "../replicaset/expectations.js";
import { POD_CONTROLLER_INDEX, controlledBucket, ensurePodControllerIndex } from "../replicaset/podindex.js";
import { controllerRefOf, type RPod } from "../replicaset/podutil.js";
import { FinalizerRemovals, JOB_TRACKING_FINALIZER, JobSyncer, isFinished, orphanPodKey, type JobCaches, type RJob } from "./sync.js";

export const JOB_CONTROLLER = "job-controller";

/** A Controller that also exposes one reconcile, for tests and tools. */
export interface SyncingJobController extends Controller {
  sync(key: string): Promise<void>;
}

/** Maps informer events to Job keys; records what the syncer waits to see. Decides nothing. */
export class JobEventHandlers {
  constructor(
    private readonly caches: JobCaches,
    private readonly expectations: Expectations,
    private readonly removals: FinalizerRemovals,
    private readonly enqueue: (key: string) => void,
    private readonly forget: (key: string) => void,
  ) {}

  jobAdded(job: RJob): void {
    this.enqueue(keyOf(job as DeepReadonly<KubeObject>));
  }

  jobUpdated(old: RJob, cur: RJob): void {
    if (old.metadata?.uid !== cur.metadata?.uid) this.forget(keyOf(old as DeepReadonly<KubeObject>));
    this.enqueue(keyOf(cur as DeepReadonly<KubeObject>));
  }

  jobDeleted(obj: RJob | DeletedFinalStateUnknown<Job>): void {
    const key = keyOf(finalStateOf<Job>(obj) as DeepReadonly<KubeObject>);
    this.forget(key);
    this.enqueue(key);
  }

  /**
   * The key of the Job controlling `pod`, if that Job is in the cache and is the same object.
   * A pod that carries the tracking finalizer but has no such Job (its Job was deleted, or it
   * was released) is queued under its own key, to lose the finalizer (upstream's orphan pods).
   */
  private owner(pod: RPod): string | undefined {
    const ref = controllerRefOf(pod);
    const ns = pod.metadata?.namespace ?? "";
    const key = ref && ref.kind === "Job" ? `${ns}/${ref.name}` : undefined;
    const job = key === undefined ? undefined : this.caches.job(key);
    if (job && job.metadata?.uid === ref?.uid) return key;
    if (pod.metadata?.finalizers?.includes(JOB_TRACKING_FINALIZER)) this.enqueue(orphanPodKey(keyOf(pod as DeepReadonly<KubeObject>)));
    return undefined;
  }

  podAdded(pod: RPod): void {
    const key = this.owner(pod);
    if (key === undefined) return;
    if (pod.metadata?.deletionTimestamp) this.expectations.deletionObserved(key, keyOf(pod as DeepReadonly<KubeObject>));
    else this.expectations.creationObserved(key);
    this.enqueue(key);
  }

  podUpdated(old: RPod, cur: RPod): void {
    if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
    const key = this.owner(cur);
    if (key === undefined) return;
    if (cur.metadata?.deletionTimestamp && !old.metadata?.deletionTimestamp) this.expectations.deletionObserved(key, keyOf(cur as DeepReadonly<KubeObject>));
    if (!cur.metadata?.finalizers?.includes(JOB_TRACKING_FINALIZER)) this.removals.observed(key, cur.metadata?.uid ?? "");
    this.enqueue(key);
  }

  podDeleted(obj: RPod | DeletedFinalStateUnknown<Pod>): void {
    const pod = finalStateOf<Pod>(obj);
    const key = this.owner(pod);
    if (key === undefined) return;
    this.expectations.deletionObserved(key, keyOf(pod as DeepReadonly<KubeObject>));
    this.removals.observed(key, pod.metadata?.uid ?? "");
    this.enqueue(key);
  }
}

export interface JobControllerOptions {
  readonly clock?: Clock;
}

export function newJobController(ctx: ControllerContext, opts: JobControllerOptions = {}): SyncingJobController {
  const clock = opts.clock ?? realClock;
  const log = ctx.log.child({ controller: JOB_CONTROLLER });
  const queue = new WorkQueue<string>({ clock });
  const expectations = new Expectations(clock);
  const removals = new FinalizerRemovals();
  const jobInformer = ctx.informers.informerFor(ctx.client.resource<Job>("batch", "v1", "jobs", { namespaced: true, kind: "Job" }));
  const podInformer = ctx.informers.informerFor(ctx.client.resource<Pod>("", "v1", "pods", { namespaced: true, kind: "Pod" }));
  ensurePodControllerIndex(podInformer);
  const caches: JobCaches = {
    job: (key) => jobInformer.indexer.get(key),
    pod: (key) => podInformer.indexer.get(key),
    pods: (ns, uid) => podInformer.indexer.byIndex(POD_CONTROLLER_INDEX, controlledBucket(ns, uid)),
  };
  const syncer = new JobSyncer({ caches, api: ctx.client, events: ctx.events, expectations, finalizerRemovals: removals, clock, enqueueAfter: (key, ms) => queue.addAfter(key, ms), log });
  const h = new JobEventHandlers(caches, expectations, removals, (key) => queue.add(key), (key) => syncer.forget(key));
  const regs = [
    jobInformer.addEventHandler({ onAdd: (j) => h.jobAdded(j), onUpdate: (a, b) => h.jobUpdated(a, b), onDelete: (j) => h.jobDeleted(j) }),
    podInformer.addEventHandler({ onAdd: (p) => h.podAdded(p), onUpdate: (a, b) => h.podUpdated(a, b), onDelete: (p) => h.podDeleted(p) }),
  ];
  return {
    name: JOB_CONTROLLER,
    sync: (key) => syncer.sync(key),
    async run(signal, workers) {
      try {
        const synced = (await Promise.all([jobInformer.waitForSync(signal), podInformer.waitForSync(signal)])).every(Boolean);
        if (!synced) {
          queue.shutDown();
          return;
        }
        log.info("starting controller");
        await runController({ name: JOB_CONTROLLER, queue, workers, sync: (key) => syncer.sync(key), log: ctx.log, signal, metrics: ctx.metrics });
      } finally {
        for (const r of regs) r.remove();
      }
    },
  };
}

export { isFinished };
