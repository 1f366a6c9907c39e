import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Pod, PodCondition } from "kubernetes-types/core/v1.js";
import type { Job, JobSpec, JobStatus } from "kubernetes-types/batch/v1.js";
import { FakeClock } from "../../client/clock.js";
import { createLogger } from "../../util/log.js";
import { rfc3339 } from "../../util/time.js";
import { FakeApi, RecordingEventSink, seedIndexer, cachePut, cacheDelete } from "../testing/index.js";
import { Expectations } from "../replicaset/expectations.js";
import { POD_CONTROLLER_INDEX, controlledBucket, podControllerIndexFunc } from "../replicaset/podindex.js";
import { FinalizerRemovals, JOB_TRACKING_FINALIZER, JobSyncer, POD_FAILURE_BACKOFF_MS, podFor, type JobCaches } from "./sync.js";
import { formatIndexes, parseIndexes } from "./indexes.js";

const T0 = Date.UTC(2024, 0, 1);
const KEY = "ns/pi";

function job(spec: Partial<JobSpec> = {}, status: JobStatus = {}): Job {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "pi", namespace: "ns", uid: "job-uid", resourceVersion: "5" },
    spec: {
      parallelism: 1,
      completions: 1,
      backoffLimit: 6,
      completionMode: "NonIndexed",
      template: { metadata: { labels: { "batch.kubernetes.io/job-name": "pi" } }, spec: { restartPolicy: "Never", containers: [{ name: "c", image: "perl" }] } },
      ...spec,
    },
    status,
  };
}

interface PodOpts {
  phase?: string;
  finalizer?: boolean;
  deleting?: boolean;
  index?: number;
  ready?: boolean;
  finishedAt?: number;
  /** A terminated container "c" with this exit code (finished 20 s before T0 unless finishedAt says). */
  exitCode?: number;
  conditions?: PodCondition[];
  annotations?: Record<string, string>;
}

function pod(name: string, o: PodOpts = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: "ns",
      uid: `${name}-uid`,
      resourceVersion: "1",
      creationTimestamp: rfc3339(T0 - 60_000),
      labels: { "batch.kubernetes.io/job-name": "pi" },
      ...(o.index !== undefined || o.annotations ? { annotations: { ...(o.index !== undefined ? { "batch.kubernetes.io/job-completion-index": String(o.index) } : {}), ...o.annotations } } : {}),
      ...(o.finalizer === false ? {} : { finalizers: [JOB_TRACKING_FINALIZER] }),
      ...(o.deleting ? { deletionTimestamp: rfc3339(T0) } : {}),
      ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name: "pi", uid: "job-uid", controller: true, blockOwnerDeletion: true }],
    },
    spec: { nodeName: "n1", containers: [{ name: "c", image: "perl" }] },
    status: {
      phase: o.phase ?? "Running",
      conditions: [{ type: "Ready", status: o.ready ? "True" : "False" }, ...(o.conditions ?? [])],
      ...(o.finishedAt !== undefined || o.exitCode !== undefined
        ? { containerStatuses: [{ name: "c", image: "perl", imageID: "", ready: false, restartCount: 0, state: { terminated: { exitCode: o.exitCode ?? 1, finishedAt: rfc3339(o.finishedAt ?? T0 - 20_000) } } }] }
        : {}),
    },
  };
}

function harness(j: Job, pods: Pod[] = []) {
  const clock = new FakeClock(T0);
  const api = new FakeApi({ clock: { now: () => clock.now() } });
  api.seed("batch", "jobs", j);
  api.seed("", "pods", ...pods);
  const jobs = seedIndexer<Job>([j]);
  const podIdx = seedIndexer<Pod>(pods, { [POD_CONTROLLER_INDEX]: podControllerIndexFunc });
  const caches: JobCaches = { job: (k) => jobs.get(k), pod: (k) => podIdx.get(k), pods: (ns, uid) => podIdx.byIndex(POD_CONTROLLER_INDEX, controlledBucket(ns, uid)) };
  const events = new RecordingEventSink();
  const expectations = new Expectations(clock);
  const after: [string, number][] = [];
  const syncer = new JobSyncer({ caches, api, events, expectations, finalizerRemovals: new FinalizerRemovals(), clock, enqueueAfter: (k, ms) => after.push([k, ms]), log: createLogger("silent") });
  /** The Job as the API now has it; also what the next sync's cache shows. */
  const stored = (): Job => api.bucket("batch", "jobs").get(KEY) as Job;
  const refreshJob = (): void => void cachePut(jobs, stored());
  const refresh = (): void => {
    cachePut(jobs, stored());
    for (const p of api.bucket("", "pods").values()) cachePut(podIdx, p as Pod);
  };
  return { api, clock, events, expectations, syncer, stored, refresh, refreshJob, after, pods: podIdx };
}

/** The last status write's status. */
function lastStatus(api: FakeApi): JobStatus {
  const w = api.writes({ verb: "updateStatus" });
  return ((w[w.length - 1]?.object as Job | undefined)?.status ?? {}) as JobStatus;
}

void describe("JobSyncer", () => {
  void it("creates the pods a new Job needs, tracked by the finalizer, and sets startTime", async () => {
    const h = harness(job({ parallelism: 2, completions: 3 }));
    await h.syncer.sync(KEY);
    const creates = h.api.writes({ verb: "create" });
    assert.equal(creates.length, 2, "min(parallelism, completions)");
    const created = creates[0]!.object as Pod;
    assert.deepEqual(created.metadata?.finalizers, [JOB_TRACKING_FINALIZER]);
    assert.equal(created.metadata?.generateName, "pi-");
    assert.deepEqual(created.metadata?.ownerReferences, [{ apiVersion: "batch/v1", kind: "Job", name: "pi", uid: "job-uid", controller: true, blockOwnerDeletion: true }]);
    assert.deepEqual(lastStatus(h.api), { startTime: rfc3339(T0), ready: 0, terminating: 0, uncountedTerminatedPods: {} });
    assert.deepEqual(
      h.events.events.map((e) => e.reason),
      ["SuccessfulCreate", "SuccessfulCreate"],
    );
  });

  void it("counts a succeeded pod through uncountedTerminatedPods, then removes its finalizer, then completes", async () => {
    const h = harness(job({}, { startTime: rfc3339(T0 - 10_000), active: 1 }), [pod("a", { phase: "Succeeded" })]);
    await h.syncer.sync(KEY);
    const [first, second] = h.api.writes({ verb: "updateStatus" }).map((w) => (w.object as Job).status!);
    assert.deepEqual(first?.uncountedTerminatedPods, { succeeded: ["a-uid"] }, "recorded before the finalizer goes");
    assert.equal(first?.succeeded, undefined);
    assert.deepEqual(h.api.writes({ verb: "patch" })[0]?.patch, { metadata: { "$deleteFromPrimitiveList/finalizers": [JOB_TRACKING_FINALIZER] } });
    assert.equal(second?.succeeded, 1);
    assert.deepEqual(second?.uncountedTerminatedPods, {});
    assert.deepEqual(
      second?.conditions?.map((c) => [c.type, c.status, c.reason]),
      [
        ["SuccessCriteriaMet", "True", "CompletionsReached"],
        ["Complete", "True", "CompletionsReached"],
      ],
    );
    assert.equal(second?.completionTime, rfc3339(T0));
    assert.equal(second?.active, undefined, "zero counters are not written");
    assert.deepEqual(
      h.events.events.map((e) => e.reason),
      ["Completed"],
    );
    assert.deepEqual(h.api.writes({ verb: "create" }), [], "no pod after completions are reached");
  });

  void it("does not count a pod twice while its finalizer removal is not in the cache yet", async () => {
    const h = harness(job({ completions: 3 }, { startTime: rfc3339(T0 - 10_000) }), [pod("a", { phase: "Succeeded" })]);
    await h.syncer.sync(KEY);
    assert.equal(h.stored().status?.succeeded, 1);
    // The Job's cache catches up; the pod's still shows the finalizer.
    h.refreshJob();
    await h.syncer.sync(KEY);
    assert.equal(h.stored().status?.succeeded, 1, "counted once");
    assert.deepEqual(h.stored().status?.uncountedTerminatedPods, {});
  });

  void it("fails with FailureTarget then Failed once failures pass backoffLimit", async () => {
    const h = harness(job({ backoffLimit: 1, completions: 2, parallelism: 2 }, { startTime: rfc3339(T0 - 10_000), failed: 1 }), [pod("a", { phase: "Failed" }), pod("b")]);
    await h.syncer.sync(KEY);
    const s = h.stored().status!;
    assert.equal(s.failed, 2);
    assert.deepEqual(
      s.conditions?.map((c) => [c.type, c.reason, c.message]),
      [["FailureTarget", "BackoffLimitExceeded", "Job has reached the specified backoff limit"]],
    );
    assert.deepEqual(h.api.verbs({ verb: "delete" }), ["delete pods ns/b"], "the running pod goes");
    assert.equal(s.active, 1, "b is still active until the cache shows it terminating");
    // The deleted pod terminates, is counted and released; then the Job is Failed.
    h.api.bucket("", "pods").set("ns/b", pod("b", { deleting: true }));
    h.refresh();
    h.api.clear();
    await h.syncer.sync(KEY);
    h.api.bucket("", "pods").delete("ns/b");
    cacheDelete(h.pods, pod("b"));
    h.refresh();
    const podsLeft = [...h.api.bucket("", "pods").keys()];
    assert.deepEqual(podsLeft, ["ns/a"]);
    await h.syncer.sync(KEY);
    const done = h.stored().status!;
    assert.deepEqual(
      done.conditions?.map((c) => c.type),
      ["FailureTarget", "Failed"],
    );
    assert.equal(done.failed, 3, "the deleted pod counts as failed, as upstream's isPodFailed");
    assert.ok(h.events.events.some((e) => e.reason === "BackoffLimitExceeded" && e.type === "Warning"));
  });

  void it("with restartPolicy OnFailure, counts the active pods' container restarts towards backoffLimit", async () => {
    const restarting = (name: string, restartCount: number): Pod => {
      const p = pod(name);
      return { ...p, status: { ...p.status, containerStatuses: [{ name: "c", image: "perl", imageID: "", ready: false, restartCount }] } };
    };
    const onFailure = (backoffLimit: number): Job => {
      const j = job({ backoffLimit, parallelism: 2, completions: 2 }, { startTime: rfc3339(T0 - 10_000) });
      return { ...j, spec: { ...j.spec!, template: { ...j.spec!.template, spec: { ...j.spec!.template.spec!, restartPolicy: "OnFailure" } } } };
    };
    const below = harness(onFailure(3), [restarting("a", 1), restarting("b", 1)]);
    await below.syncer.sync(KEY);
    assert.equal(below.stored().status?.conditions, undefined, "2 restarts are below a limit of 3");
    const at = harness(onFailure(3), [restarting("a", 2), restarting("b", 1)]);
    await at.syncer.sync(KEY);
    assert.deepEqual(
      at.stored().status?.conditions?.map((c) => [c.type, c.reason]),
      [["FailureTarget", "BackoffLimitExceeded"]],
    );
    assert.deepEqual(at.api.verbs({ verb: "delete" }).sort(), ["delete pods ns/a", "delete pods ns/b"]);
    const zero = harness(onFailure(0), [restarting("a", 1)]);
    await zero.syncer.sync(KEY);
    assert.equal(zero.stored().status?.conditions?.[0]?.reason, "BackoffLimitExceeded", "with a limit of 0 any restart fails the Job");
    const never = harness(job({ backoffLimit: 1 }, { startTime: rfc3339(T0 - 10_000) }), [restarting("a", 5)]);
    await never.syncer.sync(KEY);
    assert.equal(never.stored().status?.conditions, undefined, "restartPolicy Never: restarts do not count");
  });

  void it("replaces a failed pod only after the failure backoff", async () => {
    const h = harness(job({}, { startTime: rfc3339(T0 - 60_000) }), [pod("a", { phase: "Failed", finishedAt: T0 - 1000 })]);
    await h.syncer.sync(KEY);
    assert.deepEqual(h.api.writes({ verb: "create" }), [], "no pod within the first 10 s");
    assert.deepEqual(h.after.at(-1), [KEY, POD_FAILURE_BACKOFF_MS - 1000]);
    h.refresh();
    h.clock.step(POD_FAILURE_BACKOFF_MS);
    await h.syncer.sync(KEY);
    assert.equal(h.api.writes({ verb: "create" }).length, 1);
  });

  void it("fails a Job past activeDeadlineSeconds, and requeues for the deadline before that", async () => {
    const early = harness(job({ activeDeadlineSeconds: 30 }, { startTime: rfc3339(T0 - 10_000) }), [pod("a")]);
    await early.syncer.sync(KEY);
    assert.deepEqual(early.after.at(-1), [KEY, 20_000]);
    const late = harness(job({ activeDeadlineSeconds: 30 }, { startTime: rfc3339(T0 - 30_000) }), [pod("a")]);
    await late.syncer.sync(KEY);
    assert.deepEqual(
      late.stored().status?.conditions?.map((c) => [c.type, c.reason]),
      [["FailureTarget", "DeadlineExceeded"]],
    );
    assert.deepEqual(late.api.verbs({ verb: "delete" }), ["delete pods ns/a"]);
  });

  void it("suspends: deletes active pods, drops startTime, sets Suspended; resumes with JobResumed", async () => {
    const h = harness(job({ suspend: true }, { startTime: rfc3339(T0 - 10_000) }), [pod("a")]);
    await h.syncer.sync(KEY);
    const s = h.stored().status!;
    assert.equal(s.startTime, undefined);
    assert.deepEqual(
      s.conditions?.map((c) => [c.type, c.status, c.reason]),
      [["Suspended", "True", "JobSuspended"]],
    );
    assert.deepEqual(h.api.verbs({ verb: "delete" }), ["delete pods ns/a"]);
    const resumed = harness(job({ suspend: false }, { conditions: s.conditions! }));
    await resumed.syncer.sync(KEY);
    const r = resumed.stored().status!;
    assert.deepEqual(
      r.conditions?.map((c) => [c.type, c.status, c.reason]),
      [["Suspended", "False", "JobResumed"]],
    );
    assert.equal(r.startTime, rfc3339(T0));
  });

  void it("Indexed: one pod per missing index with its annotation, label, hostname and env, and completedIndexes", async () => {
    const h = harness(job({ completionMode: "Indexed", completions: 4, parallelism: 2 }, { startTime: rfc3339(T0 - 10_000), succeeded: 1, completedIndexes: "0" }), [pod("p1", { index: 1, phase: "Succeeded" })]);
    await h.syncer.sync(KEY);
    assert.equal(h.stored().status?.completedIndexes, "0,1");
    assert.equal(h.stored().status?.succeeded, 2);
    const created = h.api.writes({ verb: "create" }).map((w) => w.object as Pod);
    assert.deepEqual(
      created.map((p) => p.metadata?.annotations?.["batch.kubernetes.io/job-completion-index"]),
      ["2", "3"],
    );
    const p2 = created[0]!;
    assert.equal(p2.metadata?.generateName, "pi-2-");
    assert.equal(p2.metadata?.labels?.["batch.kubernetes.io/job-completion-index"], "2");
    assert.equal(p2.spec?.hostname, "pi-2");
    assert.deepEqual(p2.spec?.containers[0]?.env, [{ name: "JOB_COMPLETION_INDEX", valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } }]);
  });

  void it("leaves Jobs managed by another controller alone, and releases the pods of a finished Job", async () => {
    const other = harness(job({ managedBy: "example.com/other" }));
    await other.syncer.sync(KEY);
    assert.deepEqual(other.api.verbs(), []);
    const finished = harness(job({}, { conditions: [{ type: "Complete", status: "True" }] }), [pod("a", { phase: "Succeeded" })]);
    await finished.syncer.sync(KEY);
    assert.deepEqual(finished.api.verbs(), ["patch pods ns/a"]);
  });

  void it("podFor keeps the template's own finalizers and annotations", () => {
    const j = job({ template: { metadata: { labels: { a: "b" }, annotations: { x: "y" }, finalizers: ["example.com/f"] }, spec: { containers: [{ name: "c", image: "i" }] } } });
    const p = podFor(j, undefined);
    assert.deepEqual(p.metadata?.finalizers, ["example.com/f", JOB_TRACKING_FINALIZER]);
    assert.deepEqual(p.metadata?.annotations, { x: "y" });
  });
});

void describe("completion indexes", () => {
  void it("formats runs as ranges and parses them back, dropping what is out of range", () => {
    assert.equal(formatIndexes([5, 0, 1, 2, 7, 8]), "0-2,5,7,8", "two consecutive indexes are not a range, as upstream");
    assert.equal(formatIndexes([]), "");
    assert.deepEqual([...parseIndexes("0-2,5,7-8,12", 10)].sort((a, b) => a - b), [0, 1, 2, 5, 7, 8]);
    assert.deepEqual([...parseIndexes("x,3", 10)], [3]);
  });
});

const cond = (s: JobStatus | undefined): string[][] => (s?.conditions ?? []).map((c) => [c.type, c.reason ?? "", c.message ?? ""]);
const createdPods = (api: FakeApi): Pod[] => api.writes({ verb: "create" }).map((w) => w.object as Pod);
const FAILURE_COUNT = "batch.kubernetes.io/job-index-failure-count";
const IGNORED_COUNT = "batch.kubernetes.io/job-index-ignored-failure-count";
const STARTED = { startTime: rfc3339(T0 - 60_000) };

void describe("JobSyncer podFailurePolicy", () => {
  void it("FailJob: a pod failing with a matching exit code fails the Job with upstream's message", async () => {
    const policy = { rules: [{ action: "FailJob", onExitCodes: { operator: "In", values: [42] } }] };
    const h = harness(job({ podFailurePolicy: policy, completions: 2, parallelism: 2 }, STARTED), [pod("a", { phase: "Failed", exitCode: 42 }), pod("b")]);
    await h.syncer.sync(KEY);
    const message = "Container c for pod ns/a failed with exit code 42 matching FailJob rule at index 0";
    assert.deepEqual(cond(h.stored().status), [["FailureTarget", "PodFailurePolicy", message]]);
    assert.equal(h.stored().status?.failed, 1);
    assert.deepEqual(h.api.verbs({ verb: "delete" }), ["delete pods ns/b"]);
    // b terminates without reaching Failed; the Job being failed, it counts as failed all the same.
    h.api.bucket("", "pods").set("ns/b", pod("b", { deleting: true }));
    h.refresh();
    h.api.clear();
    await h.syncer.sync(KEY);
    assert.deepEqual(h.api.verbs({ verb: "patch" }), ["patch pods ns/b"]);
    assert.equal(h.stored().status?.failed, 2);
    h.api.bucket("", "pods").delete("ns/b");
    cacheDelete(h.pods, pod("b"));
    h.refresh();
    await h.syncer.sync(KEY);
    assert.deepEqual(cond(h.stored().status), [
      ["FailureTarget", "PodFailurePolicy", message],
      ["Failed", "PodFailurePolicy", message],
    ]);
    assert.ok(h.events.events.some((e) => e.type === "Warning" && e.reason === "PodFailurePolicy" && e.message === message));
  });

  void it("FailJob on a pod condition names the condition and the rule's index", async () => {
    const policy = {
      rules: [
        { action: "Ignore", onExitCodes: { operator: "In", values: [3] } },
        { action: "FailJob", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
      ],
    };
    const h = harness(job({ podFailurePolicy: policy }, STARTED), [pod("a", { phase: "Failed", exitCode: 137, conditions: [{ type: "DisruptionTarget", status: "True" }] })]);
    await h.syncer.sync(KEY);
    assert.deepEqual(cond(h.stored().status)[0], ["FailureTarget", "PodFailurePolicy", "Pod ns/a has condition DisruptionTarget matching FailJob rule at index 1"]);
  });

  void it("Ignore: the failure is not counted, the pod is released and replaced", async () => {
    const policy = { rules: [{ action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] }] };
    const h = harness(job({ podFailurePolicy: policy, backoffLimit: 0 }, STARTED), [pod("a", { phase: "Failed", exitCode: 1, conditions: [{ type: "DisruptionTarget", status: "True" }] })]);
    await h.syncer.sync(KEY);
    const s = h.stored().status;
    assert.equal(s?.failed, undefined, "not in status.failed");
    assert.deepEqual(cond(s), [], "backoffLimit 0 is not exceeded");
    assert.deepEqual(h.api.verbs({ verb: "patch" }), ["patch pods ns/a"]);
    assert.deepEqual(h.api.writes({ verb: "updateStatus" }).map((w) => (w.object as Job).status?.uncountedTerminatedPods), [{}], "never recorded as uncounted");
    assert.equal(createdPods(h.api).length, 1, "replaced");
  });

  void it("Count, or no rule matching: counted; a pod still terminating is neither counted nor replaced until it failed", async () => {
    const policy = { rules: [{ action: "Ignore", onExitCodes: { operator: "In", values: [5] } }, { action: "Count", onExitCodes: { operator: "In", values: [1] } }] };
    const h = harness(job({ podFailurePolicy: policy, completions: 3, parallelism: 3 }, STARTED), [
      pod("a", { phase: "Failed", exitCode: 1 }),
      pod("b", { phase: "Failed", exitCode: 2 }),
      pod("c", { deleting: true }),
    ]);
    await h.syncer.sync(KEY);
    assert.equal(h.stored().status?.failed, 2);
    assert.deepEqual(h.api.verbs({ verb: "patch" }).sort(), ["patch pods ns/a", "patch pods ns/b"]);
    assert.equal(createdPods(h.api).length, 2, "c still holds its place");
  });
});

void describe("JobSyncer backoffLimitPerIndex", () => {
  const perIndex = (o: Partial<JobSpec> = {}): Job => job({ completionMode: "Indexed", completions: 2, parallelism: 2, backoffLimitPerIndex: 1, backoffLimit: 2147483647, ...o }, STARTED);

  void it("keeps a failed pod until its index's replacement exists, which carries the index's failure count", async () => {
    const h = harness(perIndex(), [pod("a", { index: 0, phase: "Failed", exitCode: 1 }), pod("b", { index: 1 })]);
    await h.syncer.sync(KEY);
    assert.deepEqual(h.api.verbs({ verb: "patch" }), [], "a keeps its finalizer");
    const [created] = createdPods(h.api);
    assert.equal(created?.metadata?.annotations?.["batch.kubernetes.io/job-completion-index"], "0");
    assert.equal(created?.metadata?.annotations?.[FAILURE_COUNT], "1");
    assert.equal(created?.metadata?.annotations?.[IGNORED_COUNT], undefined);
    assert.equal(h.stored().status?.failed, undefined, "counted once replaced");
    assert.equal(h.stored().status?.failedIndexes, "");
    // The replacement shows up: a is counted and released.
    h.refresh();
    h.api.clear();
    await h.syncer.sync(KEY);
    assert.deepEqual(h.api.verbs({ verb: "patch" }), ["patch pods ns/a"]);
    assert.equal(h.stored().status?.failed, 1);
    assert.equal(h.stored().status?.failedIndexes, "");
  });

  void it("fails an index past backoffLimitPerIndex, and the Job with FailedIndexes once every index is done", async () => {
    const h = harness(perIndex(), [pod("a", { index: 0, phase: "Failed", exitCode: 1, annotations: { [FAILURE_COUNT]: "1" } }), pod("b", { index: 1, phase: "Succeeded" })]);
    await h.syncer.sync(KEY);
    const s = h.stored().status!;
    assert.equal(s.failedIndexes, "0");
    assert.equal(s.completedIndexes, "1");
    assert.equal(s.failed, 1);
    assert.deepEqual(cond(s), [
      ["FailureTarget", "FailedIndexes", "Job has failed indexes"],
      ["Failed", "FailedIndexes", "Job has failed indexes"],
    ]);
    assert.deepEqual(createdPods(h.api), [], "a failed index is not retried");
    assert.equal(h.api.writes({ verb: "updateStatus" })[0]?.object && (h.api.writes({ verb: "updateStatus" })[0]!.object as Job).status?.failedIndexes, "0", "recorded before the finalizer goes");
  });

  void it("a failed index is not retried while other indexes run", async () => {
    const h = harness(perIndex({ completions: 3, parallelism: 3 }), [pod("a", { index: 0, phase: "Failed", exitCode: 1, annotations: { [FAILURE_COUNT]: "1" } }), pod("b", { index: 1 })]);
    await h.syncer.sync(KEY);
    assert.equal(h.stored().status?.failedIndexes, "0");
    assert.deepEqual(cond(h.stored().status), []);
    assert.deepEqual(
      createdPods(h.api).map((p) => p.metadata?.annotations?.["batch.kubernetes.io/job-completion-index"]),
      ["2"],
    );
  });

  void it("fails the Job with MaxFailedIndexesExceeded as soon as failed indexes exceed maxFailedIndexes", async () => {
    const h = harness(perIndex({ completions: 3, parallelism: 3, backoffLimitPerIndex: 0, maxFailedIndexes: 0 }), [pod("a", { index: 0, phase: "Failed", exitCode: 1 }), pod("b", { index: 1 }), pod("c", { index: 2 })]);
    await h.syncer.sync(KEY);
    assert.deepEqual(cond(h.stored().status), [["FailureTarget", "MaxFailedIndexesExceeded", "Job has exceeded the specified maximal number of failed indexes"]]);
    assert.deepEqual(h.api.verbs({ verb: "delete" }).sort(), ["delete pods ns/b", "delete pods ns/c"]);
  });

  void it("FailIndex fails the pod's index at its first failure", async () => {
    const policy = { rules: [{ action: "FailIndex", onExitCodes: { operator: "In", values: [3] } }] };
    const h = harness(perIndex({ backoffLimitPerIndex: 5, podFailurePolicy: policy }), [pod("a", { index: 0, phase: "Failed", exitCode: 3 }), pod("b", { index: 1 })]);
    await h.syncer.sync(KEY);
    assert.equal(h.stored().status?.failedIndexes, "0");
    assert.equal(h.stored().status?.failed, 1);
    assert.deepEqual(createdPods(h.api), []);
  });

  void it("waits out each index's own backoff, counting ignored failures in the delay and the ignored annotation", async () => {
    const policy = { rules: [{ action: "Ignore", onExitCodes: { operator: "In", values: [5] } }] };
    const h = harness(perIndex({ completions: 1, parallelism: 1, backoffLimitPerIndex: 2, podFailurePolicy: policy }), [
      pod("a", { index: 0, phase: "Failed", exitCode: 5, finishedAt: T0 - 1000, annotations: { [FAILURE_COUNT]: "1" } }),
    ]);
    await h.syncer.sync(KEY);
    assert.deepEqual(createdPods(h.api), []);
    assert.deepEqual(h.after.at(-1), [KEY, 2 * POD_FAILURE_BACKOFF_MS - 1000], "the index's second failure: 20 s after it");
    h.refreshJob();
    h.clock.step(2 * POD_FAILURE_BACKOFF_MS - 1000);
    await h.syncer.sync(KEY);
    const [created] = createdPods(h.api);
    assert.deepEqual([created?.metadata?.annotations?.[FAILURE_COUNT], created?.metadata?.annotations?.[IGNORED_COUNT]], ["1", "1"]);
    assert.equal(h.stored().status?.failed, undefined);
  });
});

void describe("JobSyncer successPolicy", () => {
  void it("succeededIndexes: SuccessCriteriaMet, the remaining pods go without counting as failed, then Complete", async () => {
    const j = job({ completionMode: "Indexed", completions: 3, parallelism: 3, successPolicy: { rules: [{ succeededIndexes: "0" }] } }, STARTED);
    const h = harness(j, [pod("p0", { index: 0, phase: "Succeeded" }), pod("p1", { index: 1 }), pod("p2", { index: 2 })]);
    await h.syncer.sync(KEY);
    assert.deepEqual(cond(h.stored().status), [["SuccessCriteriaMet", "SuccessPolicy", "Matched rules at index 0"]]);
    assert.deepEqual(h.api.verbs({ verb: "delete" }).sort(), ["delete pods ns/p1", "delete pods ns/p2"]);
    assert.equal(h.stored().status?.completedIndexes, "0");
    h.api.bucket("", "pods").set("ns/p1", pod("p1", { index: 1, deleting: true }));
    h.api.bucket("", "pods").set("ns/p2", pod("p2", { index: 2, deleting: true }));
    h.refresh();
    h.api.clear();
    await h.syncer.sync(KEY);
    assert.deepEqual(h.api.verbs({ verb: "patch" }).sort(), ["patch pods ns/p1", "patch pods ns/p2"]);
    assert.equal(h.stored().status?.failed, undefined);
    for (const n of ["p1", "p2"]) {
      h.api.bucket("", "pods").delete(`ns/${n}`);
      cacheDelete(h.pods, pod(n));
    }
    h.refresh();
    await h.syncer.sync(KEY);
    const s = h.stored().status!;
    assert.deepEqual(cond(s), [
      ["SuccessCriteriaMet", "SuccessPolicy", "Matched rules at index 0"],
      ["Complete", "SuccessPolicy", "Matched rules at index 0"],
    ]);
    assert.equal(s.completionTime, rfc3339(T0));
  });

  void it("succeededCount: met by any indexes; no more pods are created", async () => {
    const j = job({ completionMode: "Indexed", completions: 4, parallelism: 2, successPolicy: { rules: [{ succeededIndexes: "3" }, { succeededCount: 2 }] } }, STARTED);
    const h = harness(j, [pod("p0", { index: 0, phase: "Succeeded" }), pod("p1", { index: 1, phase: "Succeeded" })]);
    await h.syncer.sync(KEY);
    assert.deepEqual(cond(h.stored().status), [
      ["SuccessCriteriaMet", "SuccessPolicy", "Matched rules at index 1"],
      ["Complete", "SuccessPolicy", "Matched rules at index 1"],
    ]);
    assert.deepEqual(createdPods(h.api), []);
  });
});
