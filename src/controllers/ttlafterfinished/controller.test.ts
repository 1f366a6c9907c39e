import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Job, JobCondition } from "kubernetes-types/batch/v1.js";
import { Registry } from "prom-client";
import { FakeClock } from "../../client/clock.js";
import { Lister, type Indexer } from "../../client/informer.js";
import type { DeepReadonly } from "../../client/objects.js";
import { createLogger } from "../../util/log.js";
import { rfc3339 } from "../../util/time.js";
import { FakeApi, apiError, notFoundError } from "../testing/index.js";
import { cachePut, seedIndexer } from "../testing/listers.js";
import { TTLAfterFinishedController, TTLAfterFinishedEventHandlers, ttlAfterFinishedMetrics } from "./controller.js";

const log = createLogger("silent");
const T0 = Date.parse("2026-01-01T00:00:00Z");
const METRIC = "ttl_after_finished_controller_job_deletion_duration_seconds";

interface JobOpts {
  ttl?: number;
  /** The finished condition: its type, status and when it turned (default Complete, True, T0). */
  finished?: { type?: "Complete" | "Failed"; status?: string; at?: number | null };
  deleting?: boolean;
  rv?: string;
}

function job(o: JobOpts = {}): Job {
  const conditions: JobCondition[] = [];
  if (o.finished) {
    const at = o.finished.at === undefined ? T0 : o.finished.at;
    conditions.push({ type: o.finished.type ?? "Complete", status: o.finished.status ?? "True", ...(at !== null ? { lastTransitionTime: rfc3339(at) } : {}) });
  }
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "pi", namespace: "ns", uid: "uid-pi", resourceVersion: o.rv ?? "5", ...(o.deleting ? { deletionTimestamp: rfc3339(T0) } : {}) },
    spec: { template: {}, ...(o.ttl !== undefined ? { ttlSecondsAfterFinished: o.ttl } : {}) },
    status: { conditions },
  };
}

class World {
  readonly clock = new FakeClock(T0);
  readonly api = new FakeApi({ clock: this.clock });
  readonly jobs: Indexer<Job> = seedIndexer<Job>();
  readonly registry = new Registry();
  /** enqueueAfter calls: [key, ms]. */
  readonly requeued: [string, number][] = [];
  readonly c = new TTLAfterFinishedController({
    api: this.api,
    jobs: new Lister(this.jobs),
    log,
    clock: this.clock,
    enqueueAfter: (key, ms) => this.requeued.push([key, ms]),
    metrics: ttlAfterFinishedMetrics(this.registry),
  });

  /** The Job as the cache holds it and, unless `live` differs, as the API holds it. */
  add(cached: Job, live: Job | null = cached): void {
    cachePut(this.jobs, cached);
    if (live) this.api.seed("batch", "jobs", live);
  }

  calls(): string[] {
    return this.api.actions.map((a) => `${a.verb} ${a.resource} ${a.namespace}/${a.name}${a.error ? " (failed)" : ""}`);
  }
}

void describe("TTLAfterFinishedController.sync", () => {
  void it("leaves a Job that has not finished", async () => {
    const w = new World();
    w.add(job({ ttl: 0 }));
    await w.c.sync("ns/pi");
    assert.deepEqual(w.calls(), []);
    assert.deepEqual(w.requeued, []);
  });

  void it("leaves a finished Job without a TTL", async () => {
    const w = new World();
    w.add(job({ finished: {} }));
    w.clock.step(3_600_000);
    await w.c.sync("ns/pi");
    assert.deepEqual(w.calls(), []);
    assert.deepEqual(w.requeued, []);
  });

  void it("leaves a Job whose finished condition is False", async () => {
    const w = new World();
    w.add(job({ ttl: 0, finished: { status: "False" } }));
    await w.c.sync("ns/pi");
    assert.deepEqual(w.calls(), []);
    assert.deepEqual(w.requeued, []);
  });

  void it("leaves a Job that is being deleted", async () => {
    const w = new World();
    w.add(job({ ttl: 0, finished: {}, deleting: true }));
    await w.c.sync("ns/pi");
    assert.deepEqual(w.calls(), []);
    assert.deepEqual(w.requeued, []);
  });

  void it("leaves a Job missing from the cache", async () => {
    const w = new World();
    await w.c.sync("ns/pi");
    assert.deepEqual(w.calls(), []);
  });

  void it("re-enqueues a Job whose TTL has not run out after exactly the time left, without calling the API", async () => {
    const w = new World();
    w.add(job({ ttl: 100, finished: {} }));
    w.clock.step(40_250);
    await w.c.sync("ns/pi");
    assert.deepEqual(w.calls(), []);
    assert.deepEqual(w.requeued, [["ns/pi", 59_750]]);
  });

  void it("deletes an expired Job after reading it live: Foreground, on the live resourceVersion", async () => {
    const w = new World();
    w.add(job({ ttl: 60, finished: {}, rv: "5" }), job({ ttl: 60, finished: {}, rv: "7" }));
    w.clock.step(62_500);
    await w.c.sync("ns/pi");
    assert.deepEqual(w.calls(), ["get jobs ns/pi", "delete jobs ns/pi"]);
    assert.deepEqual(w.api.writes({ verb: "delete" })[0]?.deleteOptions, { propagationPolicy: "Foreground", preconditions: { uid: "uid-pi" } });
    assert.deepEqual(w.requeued, []);
    assert.equal(w.api.object("batch", "jobs", "ns", "pi"), undefined);
    const metric = await w.registry.getSingleMetricAsString(METRIC);
    assert.match(metric, /_count 1$/m);
    assert.match(metric, /_sum 2.5$/m);
  });

  void it("counts a Failed condition as finished", async () => {
    const w = new World();
    w.add(job({ ttl: 0, finished: { type: "Failed" } }));
    await w.c.sync("ns/pi");
    assert.deepEqual(w.calls(), ["get jobs ns/pi", "delete jobs ns/pi"]);
  });

  void it("does not delete when the live Job's TTL was removed", async () => {
    const w = new World();
    w.add(job({ ttl: 0, finished: {} }), job({ finished: {}, rv: "8" }));
    await w.c.sync("ns/pi");
    assert.deepEqual(w.calls(), ["get jobs ns/pi"]);
    assert.deepEqual(w.requeued, []);
  });

  void it("does not delete when the live Job's TTL was raised, and re-enqueues it for the new expiry", async () => {
    const w = new World();
    w.add(job({ ttl: 10, finished: {} }), job({ ttl: 300, finished: {}, rv: "8" }));
    w.clock.step(20_000);
    await w.c.sync("ns/pi");
    assert.deepEqual(w.calls(), ["get jobs ns/pi"]);
    assert.deepEqual(w.requeued, [["ns/pi", 280_000]]);
  });

  void it("is done when the Job is gone from the API, on the read or on the delete", async () => {
    const gone = new World();
    gone.add(job({ ttl: 0, finished: {} }), null);
    await gone.c.sync("ns/pi");
    assert.deepEqual(gone.calls(), ["get jobs ns/pi (failed)"]);

    const raced = new World();
    raced.add(job({ ttl: 0, finished: {} }));
    raced.api.failOn({ verb: "delete" }, notFoundError("jobs.batch", "pi"));
    await raced.c.sync("ns/pi");
    assert.deepEqual(raced.calls(), ["get jobs ns/pi", "delete jobs ns/pi (failed)"]);
    assert.match(await raced.registry.getSingleMetricAsString(METRIC), /_count 0$/m);
  });

  void it("returns other API errors, so the queue retries with backoff", async () => {
    const w = new World();
    w.add(job({ ttl: 0, finished: {} }));
    w.api.failOn({ verb: "get" }, apiError(500, "InternalError"), { times: 1 });
    await assert.rejects(w.c.sync("ns/pi"), (err: unknown) => (err as { code?: number }).code === 500);

    w.api.clear();
    w.api.failOn({ verb: "delete" }, apiError(409, "Conflict"), { times: 1 });
    await assert.rejects(w.c.sync("ns/pi"), (err: unknown) => (err as { code?: number }).code === 409);
    assert.deepEqual(w.calls(), ["get jobs ns/pi", "delete jobs ns/pi (failed)"]);
  });

  void it("logs and drops a finished Job whose condition has no lastTransitionTime (no API call, no requeue)", async () => {
    const w = new World();
    w.add(job({ ttl: 0, finished: { at: null } }));
    await w.c.sync("ns/pi");
    assert.deepEqual(w.calls(), []);
    assert.deepEqual(w.requeued, []);
  });
});

void describe("TTLAfterFinishedEventHandlers", () => {
  const ro = (j: Job): DeepReadonly<Job> => j as DeepReadonly<Job>;

  void it("enqueues a Job when an update finishes it, and only Jobs that need cleanup", () => {
    const keys: string[] = [];
    const h = new TTLAfterFinishedEventHandlers((k) => keys.push(k));
    h.onAdd(ro(job({ ttl: 30 })));
    h.onUpdate(ro(job({ ttl: 30 })), ro(job({ ttl: 30, rv: "6" })));
    assert.deepEqual(keys, [], "not finished yet");
    h.onUpdate(ro(job({ ttl: 30 })), ro(job({ ttl: 30, finished: {}, rv: "7" })));
    assert.deepEqual(keys, ["ns/pi"]);
    h.onAdd(ro(job({ finished: {} })));
    h.onAdd(ro(job({ ttl: 30, finished: {}, deleting: true })));
    h.onUpdate(ro(job({ ttl: 30, finished: {} })), ro(job({ ttl: 30, finished: { status: "False" } })));
    assert.deepEqual(keys, ["ns/pi"], "no TTL, being deleted, or not finished");
    h.onAdd(ro(job({ ttl: 30, finished: { type: "Failed" } })));
    assert.deepEqual(keys, ["ns/pi", "ns/pi"]);
  });
});
