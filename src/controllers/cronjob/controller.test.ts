import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { CronJob, CronJobSpec, CronJobStatus, Job } from "kubernetes-types/batch/v1.js";
import { FakeClock } from "../../client/clock.js";
import { Lister, type Indexer } from "../../client/informer.js";
import { createLogger } from "../../util/log.js";
import { FakeApi, RecordingEventSink, seedIndexer, cachePut, notFoundError } from "../testing/index.js";
import { CronJobEventHandlers } from "./controller.js";
import { CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION, jobRef } from "./jobs.js";
import { CronJobSyncer, NEXT_SCHEDULE_DELTA_MS } from "./sync.js";

const log = createLogger("silent");
const at = (iso: string): number => Date.parse(iso);
const MIN = 60_000;
const HOUR = 60 * MIN;

// Upstream's test fixture: created a minute before 10:00, hourly on the hour.
const CREATED = "2016-05-19T09:59:00Z";
const KEY = "snazzycats/mycronjob";
const JOB_AT_10 = "mycronjob-24394200"; // 10:00 in Unix minutes
const JOB_AT_9 = "mycronjob-24394140";

function cronJob(spec: Partial<CronJobSpec> = {}, status: CronJobStatus = {}): CronJob {
  return {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name: "mycronjob", namespace: "snazzycats", uid: "1a2b3c", resourceVersion: "7", creationTimestamp: CREATED },
    spec: {
      schedule: "0 * * * ?",
      concurrencyPolicy: "Allow",
      jobTemplate: {
        metadata: { labels: { a: "b" }, annotations: { x: "y" } },
        spec: { parallelism: 1, completions: 1, template: { metadata: { labels: { foo: "bar" } }, spec: { containers: [{ name: "c", image: "foo/bar" }], restartPolicy: "OnFailure" } } },
      },
      ...spec,
    },
    status,
  };
}

interface JobOpts {
  readonly finished?: "Complete" | "Failed";
  readonly started?: string;
  readonly completed?: string;
  readonly owner?: string;
}

function job(name: string, o: JobOpts = {}): Job {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name,
      namespace: "snazzycats",
      uid: `uid-${name}`,
      resourceVersion: "3",
      ownerReferences: [{ apiVersion: "batch/v1", kind: "CronJob", name: "mycronjob", uid: o.owner ?? "1a2b3c", controller: true, blockOwnerDeletion: true }],
    },
    spec: { template: { spec: { containers: [] } } },
    status: {
      ...(o.started ? { startTime: o.started } : {}),
      ...(o.completed ? { completionTime: o.completed } : {}),
      ...(o.finished ? { conditions: [{ type: o.finished, status: "True" }] } : {}),
    },
  };
}

class World {
  readonly clock: FakeClock;
  readonly api: FakeApi;
  readonly events = new RecordingEventSink();
  readonly cronJobs: Indexer<CronJob> = seedIndexer<CronJob>();
  readonly jobs: Indexer<Job> = seedIndexer<Job>();
  readonly syncer: CronJobSyncer;

  constructor(now: string, cj: CronJob, jobs: readonly Job[] = []) {
    this.clock = new FakeClock(at(now));
    this.api = new FakeApi({ clock: this.clock });
    this.api.seed("batch", "cronjobs", cj);
    cachePut(this.cronJobs, cj);
    for (const j of jobs) this.addJob(j);
    this.syncer = new CronJobSyncer({ api: this.api, cronJobs: new Lister(this.cronJobs), jobs: new Lister(this.jobs), events: this.events, clock: this.clock, log });
  }

  addJob(j: Job, inCache = true): void {
    this.api.seed("batch", "jobs", j);
    if (inCache) cachePut(this.jobs, j);
  }

  sync(): Promise<number | undefined> {
    return this.syncer.sync(KEY);
  }

  /** The status the controller last wrote. */
  status(): CronJobStatus | undefined {
    const writes = this.api.writes({ verb: "updateStatus" });
    return (writes[writes.length - 1]?.object as CronJob | undefined)?.status;
  }

  created(): Job | undefined {
    return this.api.writes({ verb: "create", resource: "jobs" })[0]?.object as Job | undefined;
  }
}

const activeRef = (j: Job): ReturnType<typeof jobRef> => jobRef(j);

void describe("CronJobSyncer", () => {
  void it("creates the Job of the first scheduled time from the template, owned by the CronJob, and records it", async () => {
    const w = new World("2016-05-19T10:01:00Z", cronJob());
    const after = await w.sync();
    assert.deepEqual(w.api.verbs(), [`create jobs snazzycats/${JOB_AT_10}`, "updateStatus cronjobs/status snazzycats/mycronjob"]);
    const created = w.created()!;
    assert.deepEqual(created.metadata, {
      name: JOB_AT_10,
      namespace: "snazzycats",
      labels: { a: "b" },
      annotations: { x: "y", [CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION]: "2016-05-19T10:00:00Z" },
      ownerReferences: [{ apiVersion: "batch/v1", kind: "CronJob", name: "mycronjob", uid: "1a2b3c", controller: true, blockOwnerDeletion: true }],
    });
    assert.deepEqual(created.spec, cronJob().spec!.jobTemplate.spec);
    const stored = w.api.object<Job>("batch", "jobs", "snazzycats", JOB_AT_10)!;
    assert.deepEqual(w.status(), {
      active: [{ kind: "Job", namespace: "snazzycats", name: JOB_AT_10, uid: stored.metadata!.uid!, apiVersion: "batch/v1", resourceVersion: stored.metadata!.resourceVersion! }],
      lastScheduleTime: "2016-05-19T10:00:00Z",
    });
    assert.deepEqual(w.events.lines(), [`Normal SuccessfulCreate Created job ${JOB_AT_10}`]);
    assert.equal(after, HOUR - MIN + NEXT_SCHEDULE_DELTA_MS);
  });

  void it("schedules in spec.timeZone and stamps the scheduled time in that zone", async () => {
    // 06:00 in New York is 10:00 UTC in May (EDT).
    const w = new World("2016-05-19T10:01:00Z", cronJob({ schedule: "0 6 * * *", timeZone: "America/New_York" }));
    const after = await w.sync();
    assert.equal(w.created()?.metadata?.name, JOB_AT_10);
    assert.equal(w.created()?.metadata?.annotations?.[CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION], "2016-05-19T06:00:00-04:00");
    assert.equal(after, 24 * HOUR - MIN + NEXT_SCHEDULE_DELTA_MS);
  });

  void it("does nothing before the scheduled time and asks to be back just after it", async () => {
    const w = new World("2016-05-19T09:59:30Z", cronJob());
    const after = await w.sync();
    assert.deepEqual(w.api.actions, []);
    assert.deepEqual(w.events.lines(), []);
    assert.equal(after, 30_000 + NEXT_SCHEDULE_DELTA_MS);
  });

  void it("does not start a scheduled time twice", async () => {
    const w = new World("2016-05-19T10:30:00Z", cronJob({}, { lastScheduleTime: "2016-05-19T10:00:00Z" }));
    const after = await w.sync();
    assert.deepEqual(w.api.actions, []);
    assert.equal(after, 30 * MIN + NEXT_SCHEDULE_DELTA_MS);
  });

  void it("skips a run while a Job is active under Forbid", async () => {
    const running = job(JOB_AT_9, { started: "2016-05-19T09:00:00Z" });
    const w = new World("2016-05-19T10:01:00Z", cronJob({ concurrencyPolicy: "Forbid" }, { active: [activeRef(running)], lastScheduleTime: "2016-05-19T09:00:00Z" }), [running]);
    const after = await w.sync();
    assert.deepEqual(w.api.verbs(), []);
    assert.deepEqual(w.events.lines(), ["Normal JobAlreadyActive Not starting job because prior execution is running and concurrency policy is Forbid"]);
    assert.equal(after, HOUR - MIN + NEXT_SCHEDULE_DELTA_MS);
  });

  void it("deletes the active Job and then creates the next under Replace", async () => {
    const running = job(JOB_AT_9, { started: "2016-05-19T09:00:00Z" });
    const w = new World("2016-05-19T10:01:00Z", cronJob({ concurrencyPolicy: "Replace" }, { active: [activeRef(running)], lastScheduleTime: "2016-05-19T09:00:00Z" }), [running]);
    await w.sync();
    assert.deepEqual(w.api.verbs(), [`delete jobs snazzycats/${JOB_AT_9}`, `create jobs snazzycats/${JOB_AT_10}`, "updateStatus cronjobs/status snazzycats/mycronjob"]);
    assert.deepEqual(w.api.writes({ verb: "delete" })[0]!.deleteOptions, { propagationPolicy: "Background" });
    assert.deepEqual(w.status()?.active?.map((r) => r.name), [JOB_AT_10]);
    assert.deepEqual(w.events.lines(), [`Normal SuccessfulDelete Deleted job ${JOB_AT_9}`, `Normal SuccessfulCreate Created job ${JOB_AT_10}`]);
  });

  void it("runs concurrently under Allow", async () => {
    const running = job(JOB_AT_9, { started: "2016-05-19T09:00:00Z" });
    const w = new World("2016-05-19T10:01:00Z", cronJob({}, { active: [activeRef(running)], lastScheduleTime: "2016-05-19T09:00:00Z" }), [running]);
    await w.sync();
    assert.deepEqual(w.status()?.active?.map((r) => r.name), [JOB_AT_9, JOB_AT_10]);
  });

  void it("starts nothing while suspended", async () => {
    const w = new World("2016-05-19T10:01:00Z", cronJob({ suspend: true }));
    assert.equal(await w.sync(), undefined);
    assert.deepEqual(w.api.actions, []);
    assert.deepEqual(w.events.lines(), []);
  });

  void it("starts nothing for a CronJob being deleted", async () => {
    const cj = cronJob();
    const w = new World("2016-05-19T10:01:00Z", { ...cj, metadata: { ...cj.metadata, deletionTimestamp: "2016-05-19T10:00:30Z", finalizers: ["f"] } });
    assert.equal(await w.sync(), undefined);
    assert.deepEqual(w.api.actions, []);
  });

  void it("lets a scheduled time past startingDeadlineSeconds go, and waits for the next one", async () => {
    // 10:00 plus 10 s is long past at 10:12. Upstream looks for missed times no further back
    // than the deadline, so the time is simply not found: no Job, and no MissSchedule event.
    const w = new World("2016-05-19T10:12:00Z", cronJob({ startingDeadlineSeconds: 10 }));
    const after = await w.sync();
    assert.deepEqual(w.api.actions, []);
    assert.deepEqual(w.events.lines(), []);
    assert.equal(after, 48 * MIN + NEXT_SCHEDULE_DELTA_MS);
  });

  void it("starts a Job still within startingDeadlineSeconds", async () => {
    const w = new World("2016-05-19T10:00:05Z", cronJob({ startingDeadlineSeconds: 10 }));
    await w.sync();
    assert.equal(w.created()?.metadata?.name, JOB_AT_10);
  });

  void it("moves finished Jobs out of status.active and records the latest success", async () => {
    const done = job("mycronjob-1", { finished: "Complete", started: "2016-05-19T08:00:00Z", completed: "2016-05-19T08:30:00Z" });
    const failed = job("mycronjob-2", { finished: "Failed", started: "2016-05-19T09:00:00Z" });
    const olderDone = job("mycronjob-0", { finished: "Complete", started: "2016-05-19T07:00:00Z", completed: "2016-05-19T07:30:00Z" });
    const w = new World(
      "2016-05-19T09:59:30Z",
      cronJob({}, { active: [activeRef(done), activeRef(failed)], lastScheduleTime: "2016-05-19T09:00:00Z", lastSuccessfulTime: "2016-05-19T07:30:00Z" }),
      [done, failed, olderDone],
    );
    await w.sync();
    assert.deepEqual(w.api.verbs(), ["updateStatus cronjobs/status snazzycats/mycronjob"]);
    assert.deepEqual(w.status(), { lastScheduleTime: "2016-05-19T09:00:00Z", lastSuccessfulTime: "2016-05-19T08:30:00Z" });
    assert.deepEqual(w.events.lines(), ["Normal SawCompletedJob Saw completed job: mycronjob-1, condition: Complete", "Normal SawCompletedJob Saw completed job: mycronjob-2, condition: Failed"]);
  });

  void it("forgets an active Job that no longer exists", async () => {
    const gone = job(JOB_AT_9);
    const w = new World("2016-05-19T09:59:30Z", cronJob({}, { active: [activeRef(gone)], lastScheduleTime: "2016-05-19T09:00:00Z" }));
    await w.sync();
    assert.deepEqual(
      w.api.actions.map((a) => `${a.verb} ${a.resource} ${a.name}${a.error ? " (failed)" : ""}`),
      [`get jobs ${JOB_AT_9} (failed)`, "updateStatus cronjobs mycronjob"],
    );
    assert.equal(w.status()?.active, undefined);
    assert.deepEqual(w.events.lines(), [`Normal MissingJob Active job went missing: ${JOB_AT_9}`]);
  });

  void it("keeps an active Job the cache has not seen yet", async () => {
    const fresh = job(JOB_AT_9);
    const w = new World("2016-05-19T09:59:30Z", cronJob({}, { active: [activeRef(fresh)], lastScheduleTime: "2016-05-19T09:00:00Z" }));
    w.addJob(fresh, false);
    await w.sync();
    assert.deepEqual(w.api.verbs(), []);
  });

  void it("deletes the oldest finished Jobs beyond the history limits", async () => {
    const jobs = [
      job("ok-a", { finished: "Complete", started: "2016-05-19T05:00:00Z" }),
      job("ok-b", { finished: "Complete", started: "2016-05-19T03:00:00Z" }),
      job("ok-c", { finished: "Complete", started: "2016-05-19T04:00:00Z" }),
      job("ok-d", { finished: "Complete" }), // never started: sorts last, kept
      job("ok-e", { finished: "Complete", started: "2016-05-19T03:00:00Z" }),
      job("bad-a", { finished: "Failed", started: "2016-05-19T06:00:00Z" }),
      job("bad-b", { finished: "Failed", started: "2016-05-19T02:00:00Z" }),
      job("running", { started: "2016-05-19T01:00:00Z" }),
      job("not-ours", { finished: "Failed", started: "2016-05-19T01:00:00Z", owner: "someone-else" }),
    ];
    const w = new World("2016-05-19T09:59:30Z", cronJob({ successfulJobsHistoryLimit: 2, failedJobsHistoryLimit: 1 }, { active: [activeRef(jobs[7]!)], lastScheduleTime: "2016-05-19T09:00:00Z" }), jobs);
    await w.sync();
    assert.deepEqual(w.api.verbs({ verb: "delete" }), ["delete jobs snazzycats/ok-b", "delete jobs snazzycats/ok-e", "delete jobs snazzycats/ok-c", "delete jobs snazzycats/bad-b"]);
    assert.ok(w.api.writes({ verb: "delete" }).every((a) => a.deleteOptions?.propagationPolicy === "Background"));
    assert.deepEqual(w.events.lines(), ["Normal SuccessfulDelete Deleted job ok-b", "Normal SuccessfulDelete Deleted job ok-e", "Normal SuccessfulDelete Deleted job ok-c", "Normal SuccessfulDelete Deleted job bad-b"]);
  });

  void it("records a Job that already exists from an earlier sync instead of failing", async () => {
    const w = new World("2016-05-19T10:01:00Z", cronJob({}, { lastScheduleTime: "2016-05-19T09:00:00Z" }));
    // Created just before a crash: in the API, not yet in the cache or the status.
    w.addJob(job(JOB_AT_10), false);
    const after = await w.sync();
    assert.deepEqual(
      w.api.actions.map((a) => `${a.verb} ${a.resource} ${a.name}${a.error ? " (failed)" : ""}`),
      [`create jobs ${JOB_AT_10} (failed)`, `get jobs ${JOB_AT_10}`, "updateStatus cronjobs mycronjob"],
    );
    assert.deepEqual(w.status()?.active?.map((r) => r.uid), [`uid-${JOB_AT_10}`]);
    assert.equal(w.status()?.lastScheduleTime, "2016-05-19T10:00:00Z");
    assert.deepEqual(w.events.lines(), []);
    assert.equal(after, HOUR - MIN + NEXT_SCHEDULE_DELTA_MS);
  });

  void it("leaves a same-named Job of someone else alone", async () => {
    const w = new World("2016-05-19T10:01:00Z", cronJob());
    w.addJob(job(JOB_AT_10, { owner: "other" }), false);
    assert.equal(await w.sync(), undefined);
    assert.deepEqual(w.api.verbs(), [`create jobs snazzycats/${JOB_AT_10}`]);
  });

  void it("reports a failed create and retries", async () => {
    const w = new World("2016-05-19T10:01:00Z", cronJob());
    w.api.failOn({ verb: "create", resource: "jobs" }, notFoundError("namespaces", "snazzycats"));
    await assert.rejects(w.sync());
    assert.deepEqual(w.events.lines(), [`Warning FailedCreate Error creating job: namespaces "snazzycats" not found`]);
  });

  void it("warns of too many missed times and still starts the most recent", async () => {
    const w = new World("2016-05-19T12:00:30Z", cronJob({ schedule: "* * * * *" }));
    await w.sync();
    assert.deepEqual(w.events.lines(), ["Warning TooManyMissedTimes too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew", "Normal SuccessfulCreate Created job mycronjob-24394320"]);
    assert.equal(w.status()?.lastScheduleTime, "2016-05-19T12:00:00Z");
  });

  void it("reports schedules that cannot run", async () => {
    const never = new World("2016-05-19T10:01:00Z", cronJob({ schedule: "59 23 31 2 *" }));
    assert.equal(await never.sync(), undefined);
    assert.deepEqual(never.events.lines(), ["Warning InvalidSchedule invalid schedule: 59 23 31 2 * : time difference between two schedules is less than 1 second"]);
    const zone = new World("2016-05-19T10:01:00Z", cronJob({ timeZone: "Mars/Olympus" }));
    assert.equal(await zone.sync(), undefined);
    assert.deepEqual(zone.events.lines(), ['Warning UnknownTimeZone invalid timeZone: "Mars/Olympus": unknown time zone Mars/Olympus']);
    const bad = new World("2016-05-19T10:01:00Z", cronJob({ schedule: "0 * * *" }));
    assert.equal(await bad.sync(), undefined);
    assert.deepEqual(bad.events.lines(), ['Warning UnparseableSchedule unparseable schedule: "0 * * *" : expected exactly 5 fields, found 4: [0 * * *]']);
    for (const w of [never, zone, bad]) assert.deepEqual(w.api.actions, []);
  });

  void it("ignores a CronJob that is gone", async () => {
    const w = new World("2016-05-19T10:01:00Z", cronJob());
    assert.equal(await w.syncer.sync("snazzycats/other"), undefined);
    assert.deepEqual(w.api.actions, []);
  });
});

void describe("CronJobEventHandlers", () => {
  function handlers(now: string, cj: CronJob): { h: CronJobEventHandlers; added: string[]; after: [string, number][] } {
    const added: string[] = [];
    const after: [string, number][] = [];
    const h = new CronJobEventHandlers(new Lister(seedIndexer([cj])), new FakeClock(at(now)), (k) => added.push(k), (k, ms) => after.push([k, ms]));
    return { h, added, after };
  }

  void it("wakes the CronJob that controls a Job, and only that one", () => {
    const { h, added } = handlers("2016-05-19T10:01:00Z", cronJob());
    h.jobAdded(job("a"));
    h.jobAdded(job("b", { owner: "stale-uid" }));
    const old = job("a");
    const cur = { ...job("a", { finished: "Complete" }), metadata: { ...job("a").metadata, resourceVersion: "4" } };
    h.jobUpdated(old, cur);
    h.jobUpdated(old, old);
    h.jobDeleted(job("a"));
    assert.deepEqual(added, [KEY, KEY, KEY]);
  });

  void it("requeues a CronJob whose schedule changed for the new schedule's next time", () => {
    const old = cronJob();
    const { h, added, after } = handlers("2016-05-19T10:01:00Z", old);
    h.cronJobUpdated(old, cronJob({ schedule: "30 * * * *" }, { lastScheduleTime: "2016-05-19T10:00:00Z" }));
    assert.deepEqual(after, [[KEY, 29 * MIN + NEXT_SCHEDULE_DELTA_MS]]);
    h.cronJobUpdated(old, cronJob({ suspend: true }));
    assert.deepEqual(added, [KEY]);
  });
});
