// The CronJob controller: informer handlers that map CronJob and Job events to CronJob keys,
// one work queue, and the shared reconcile runner over CronJobSyncer.sync, which also says
// when to look at a CronJob again (its next scheduled time).
import type { CronJob, Job } from "kubernetes-types/batch/v1.js";
import type { OwnerReference } from "kubernetes-types/meta/v1.js";
import { realClock, type Clock } from "../../client/clock.js";
import { runController } from "../../client/controller.js";
import type { Lister } from "../../client/informer.js";
import { DeletedFinalStateUnknown, keyOf, sameOwnerRef, type DeepReadonly, type KubeObject } from "../../client/objects.js";
import { WorkQueue } from "../../client/workqueue.js";
import type { Logger } from "../../util/log.js";
import type { Controller, ControllerContext } from "../context.js";
import { controllerRefOf, type RCronJob, type RJob } from "./jobs.js";
import { CRONJOB_CONTROLLER, CronJobSyncer, nextScheduleDelay, scheduleOf } from "./sync.js";

/** A Controller that also exposes one reconcile, for tests and tools. */
export interface SyncingController extends Controller {
  /** One reconcile; resolves to the delay after which the key is due again, if any. */
  sync(key: string): Promise<number | undefined>;
}

/**
 * Maps informer events to CronJob keys (upstream addJob/updateJob/deleteJob/updateCronJob).
 * Only computes keys, and for a changed schedule when the key is due: all decisions happen in sync.
 */
export class CronJobEventHandlers {
  constructor(
    private readonly cronJobs: Lister<CronJob>,
    private readonly clock: Clock,
    private readonly enqueue: (key: string) => void,
    private readonly enqueueAfter: (key: string, ms: number) => void,
  ) {}

  cronJobAdded(cj: RCronJob): void {
    this.enqueue(keyOf(cj as DeepReadonly<KubeObject>));
  }

  cronJobUpdated(old: RCronJob, cur: RCronJob): void {
    const key = keyOf(cur as DeepReadonly<KubeObject>);
    if (old.spec?.schedule === cur.spec?.schedule && (old.spec?.timeZone ?? undefined) === (cur.spec?.timeZone ?? undefined)) {
      this.enqueue(key);
      return;
    }
    // A new schedule takes effect from its next time, not at once: syncing now could start a
    // Job for a time of the new schedule that fell between the last run and now.
    let delay: number | undefined;
    try {
      delay = nextScheduleDelay(cur, scheduleOf(cur), this.clock.now());
    } catch {
      // Unparseable (or an unknown zone): sync reports it.
      delay = 0;
    }
    if (delay === undefined) return;
    this.enqueueAfter(key, delay);
  }

  cronJobDeleted(obj: RCronJob | DeletedFinalStateUnknown<CronJob>): void {
    this.enqueue(keyOf(obj instanceof DeletedFinalStateUnknown ? obj : (obj as DeepReadonly<KubeObject>)));
  }

  /** The CronJob a controllerRef points at, if it is a CronJob and still the same object. */
  private resolve(namespace: string, ref: DeepReadonly<OwnerReference> | undefined): RCronJob | undefined {
    if (!ref || ref.kind !== "CronJob") return undefined;
    const cj = this.cronJobs.get(`${namespace}/${ref.name}`);
    return cj && cj.metadata?.uid === ref.uid ? cj : undefined;
  }

  private enqueueOwner(job: RJob, ref: DeepReadonly<OwnerReference> | undefined): void {
    const cj = this.resolve(job.metadata?.namespace ?? "", ref);
    if (cj) this.enqueue(keyOf(cj as DeepReadonly<KubeObject>));
  }

  jobAdded(job: RJob): void {
    // After a restart a Job may first be seen already terminating: that is a deletion.
    if (job.metadata?.deletionTimestamp) {
      this.jobDeleted(job);
      return;
    }
    this.enqueueOwner(job, controllerRefOf(job));
  }

  jobUpdated(old: RJob, cur: RJob): void {
    // Resyncs repeat the same version: nothing changed.
    if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
    const curRef = controllerRefOf(cur);
    const oldRef = controllerRefOf(old);
    if (!sameOwnerRef(curRef, oldRef) && oldRef) this.enqueueOwner(old, oldRef);
    this.enqueueOwner(cur, curRef);
  }

  jobDeleted(obj: RJob | DeletedFinalStateUnknown<Job>): void {
    const job = obj instanceof DeletedFinalStateUnknown ? obj.obj : obj;
    this.enqueueOwner(job, controllerRefOf(job));
  }
}

export interface CronJobControllerOptions {
  readonly clock?: Clock;
}

export function newCronJobController(ctx: ControllerContext, opts: CronJobControllerOptions = {}): SyncingController {
  const clock = opts.clock ?? realClock;
  const log: Logger = ctx.log.child({ controller: CRONJOB_CONTROLLER });
  const queue = new WorkQueue<string>({ clock });
  const cronJobs = ctx.informers.forKind("batch/v1", "CronJob");
  const jobs = ctx.informers.forKind("batch/v1", "Job");
  const syncer = new CronJobSyncer({ api: ctx.client, cronJobs: cronJobs.lister, jobs: jobs.lister, events: ctx.events, clock, log });
  const h = new CronJobEventHandlers(cronJobs.lister, clock, (key) => queue.add(key), (key, ms) => queue.addAfter(key, ms));
  const regs = [
    cronJobs.addEventHandler({ onAdd: (o) => h.cronJobAdded(o), onUpdate: (a, b) => h.cronJobUpdated(a, b), onDelete: (o) => h.cronJobDeleted(o) }),
    jobs.addEventHandler({ onAdd: (j) => h.jobAdded(j), onUpdate: (a, b) => h.jobUpdated(a, b), onDelete: (j) => h.jobDeleted(j) }),
  ];
  /** A reconcile, then the key back in the queue for the next scheduled time. */
  const syncAndRequeue = async (key: string, keyLog: Logger): Promise<void> => {
    const after = await syncer.sync(key, keyLog);
    if (after !== undefined) queue.addAfter(key, after);
  };
  return {
    name: CRONJOB_CONTROLLER,
    sync: (key) => syncer.sync(key),
    async run(signal, workers) {
      try {
        const synced = (await Promise.all([cronJobs.waitForSync(signal), jobs.waitForSync(signal)])).every(Boolean);
        if (!synced) {
          queue.shutDown();
          return;
        }
        await runController({ name: CRONJOB_CONTROLLER, queue, workers, sync: (key, _signal, keyLog) => syncAndRequeue(key, keyLog), log: ctx.log, signal, metrics: ctx.metrics });
      } finally {
        for (const r of regs) r.remove();
      }
    },
  };
}
