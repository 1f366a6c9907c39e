import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { pino } from "pino";
import { Registry } from "prom-client";
import { FakeClock } from "./clock.js";
import { ERROR_AFTER_REQUEUES, keyOf, newControllerMetrics, runController, splitKey, type ControllerMetrics, type ReconcileResult } from "./controller.js";
import { ApiError, ClientError } from "./errors.js";
import { DeletedFinalStateUnknown } from "./objects.js";
import { WorkQueue } from "./workqueue.js";

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

function capture(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split("\n")) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { log: pino({ level: "debug" }, stream), lines };
}

class RecordingMetrics implements ControllerMetrics {
  readonly results: [string, ReconcileResult][] = [];
  observe(controller: string, result: ReconcileResult): void {
    this.results.push([controller, result]);
  }
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await flush();
  }
}

void describe("runController", () => {
  void it("forgets on success, retries failures with backoff, counts both, stops on signal", async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue({ clock });
    const { log, lines } = capture();
    const metrics = new RecordingMetrics();
    const ac = new AbortController();
    const calls: string[] = [];
    let failuresLeft = 2;
    const run = runController({
      name: "test",
      queue,
      workers: 2,
      log,
      signal: ac.signal,
      metrics,
      async sync(key, _signal, keyLog) {
        calls.push(key);
        keyLog.info("reconciling");
        if (key === "ns/bad" && failuresLeft-- > 0) throw new Error("boom");
      },
    });
    queue.add("ns/good");
    queue.add("ns/bad");
    await until(() => calls.length === 2 && clock.pending === 1, "first pass and one retry timer");
    assert.equal(queue.numRequeues("ns/good"), 0);
    assert.equal(queue.numRequeues("ns/bad"), 1);
    clock.step(5);
    await until(() => calls.length === 3 && clock.pending === 1, "second failure");
    assert.equal(clock.nextTimerAt()! - clock.now(), 10, "second retry backs off twice as long");
    clock.step(10);
    await until(() => calls.length === 4, "third attempt");
    await until(() => metrics.results.length === 4, "metrics");
    assert.equal(queue.numRequeues("ns/bad"), 0, "forgotten after success");
    assert.deepEqual(metrics.results.map((r) => r[1]).sort(), ["error", "error", "success", "success"]);

    const failure = lines.find((l) => l["msg"] === "reconcile failed; will retry");
    assert.ok(failure);
    assert.equal(failure["controller"], "test");
    assert.equal(failure["key"], "ns/bad");
    assert.equal((failure["err"] as { message: string }).message, "boom");
    const child = lines.find((l) => l["msg"] === "reconciling");
    assert.equal(child?.["key"], "ns/good");
    assert.equal(child?.["controller"], "test");

    ac.abort();
    await run;
    assert.equal(queue.shuttingDown(), true);
  });

  void it("names the queue, not the controller again, when the logger names its controller already", async () => {
    const { log, lines } = capture();
    const queue = new WorkQueue<string>({ clock: new FakeClock() });
    const ac = new AbortController();
    const seen: string[] = [];
    const run = runController({
      name: "lifecycle-pods",
      queue,
      workers: 1,
      log: log.child({ controller: "lifecycle" }),
      signal: ac.signal,
      async sync(key, _signal, keyLog) {
        seen.push(key);
        keyLog.info("reconciling");
      },
    });
    queue.add("ns/p");
    await until(() => seen.length === 1, "one reconcile");
    ac.abort();
    await run;
    const line = lines.find((l) => l["msg"] === "reconciling");
    assert.equal(line?.["controller"], "lifecycle");
    assert.equal(line?.["queue"], "lifecycle-pods");
  });

  void it("logs a write race at debug, other failures as warnings, and as errors once a key keeps failing", async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue({ clock });
    const { log, lines } = capture();
    const ac = new AbortController();
    const conflict = new ApiError({ kind: "Status", apiVersion: "v1", status: "Failure", code: 409, reason: "Conflict", message: 'Operation cannot be fulfilled on deployments.apps "web": the object has been modified' });
    const forbidden = new ApiError({ kind: "Status", apiVersion: "v1", status: "Failure", code: 403, reason: "Forbidden", message: 'pods "web-1" is forbidden: exceeded quota' });
    let calls = 0;
    const run = runController({
      name: "test",
      queue,
      workers: 1,
      log,
      signal: ac.signal,
      async sync(key) {
        calls++;
        throw key === "ns/race" ? conflict : forbidden;
      },
    });
    queue.add("ns/race");
    await until(() => calls === 1 && clock.pending === 1, "the race and its retry timer");
    const raced = lines.find((l) => l["key"] === "ns/race" && l["msg"] !== "reconciling");
    assert.equal(raced?.["level"], 20, "debug");
    assert.equal(raced?.["reason"], "Conflict");
    assert.equal(raced?.["err"], undefined, "an API error is logged by its Status, without a stack");

    queue.add("ns/quota");
    for (let n = 1; n <= ERROR_AFTER_REQUEUES + 1; n++) {
      await until(() => lines.filter((l) => l["key"] === "ns/quota").length === n, `failure ${n}`);
      clock.step(60_000);
    }
    const levels = lines.filter((l) => l["key"] === "ns/quota").map((l) => l["level"]);
    assert.deepEqual(levels, [...Array<number>(ERROR_AFTER_REQUEUES).fill(40), 50], "warn, then error once it keeps failing");
    const last = lines.filter((l) => l["key"] === "ns/quota").at(-1)!;
    assert.equal(last["error"], forbidden.message);
    assert.equal(last["code"], 403);

    ac.abort();
    await run;
  });

  void it("waits for in-flight reconciles on stop and hands them the aborted signal", async () => {
    const queue = new WorkQueue();
    const ac = new AbortController();
    let sawAbort = false;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started = false;
    const run = runController({
      name: "slow",
      queue,
      workers: 1,
      log: capture().log,
      signal: ac.signal,
      async sync(_key, signal) {
        started = true;
        await gate;
        sawAbort = signal.aborted;
        throw new Error("interrupted");
      },
    });
    queue.add("k");
    await until(() => started, "reconcile start");
    let finished = false;
    const done = run.then(() => (finished = true));
    ac.abort();
    await flush();
    assert.equal(finished, false, "stop waits for the running reconcile");
    release();
    await done;
    assert.equal(sawAbort, true);
    assert.equal(queue.len(), 0, "a failure during shutdown is not re-queued");
  });

  void it("does not work through the backlog once stopped", async () => {
    const queue = new WorkQueue();
    const ac = new AbortController();
    const seen: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const run = runController({
      name: "backlog",
      queue,
      workers: 1,
      log: capture().log,
      signal: ac.signal,
      async sync(key) {
        seen.push(key);
        await gate;
      },
    });
    for (let i = 0; i < 5; i++) queue.add(`k${i}`);
    await until(() => seen.length === 1, "first key");
    ac.abort();
    release();
    await run;
    assert.deepEqual(seen, ["k0"]);
  });

  void it("catches synchronous throws from sync", async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue({ clock });
    const ac = new AbortController();
    let n = 0;
    const run = runController({
      name: "sync-throw",
      queue,
      workers: 1,
      log: capture().log,
      signal: ac.signal,
      sync: (() => {
        n++;
        throw new Error("not async");
      }) as unknown as (key: string) => Promise<void>,
    });
    queue.add("a");
    await until(() => n === 1 && clock.pending === 1, "retry scheduled");
    ac.abort();
    await run;
  });

  void it("counts outcomes in a prom-client registry", async () => {
    const registry = new Registry();
    const m = newControllerMetrics(registry);
    m.observe("deployment", "success", 0.01);
    m.observe("deployment", "error", 0.02);
    m.observe("deployment", "error", 0.02);
    const text = await registry.metrics();
    assert.match(text, /k8ts_controller_reconcile_total\{controller="deployment",result="error"\} 2/);
    assert.match(text, /k8ts_controller_reconcile_duration_seconds_count\{controller="deployment"\} 3/);
  });
});

void describe("keys", () => {
  void it("keyOf and splitKey round-trip; tombstones keep their key", () => {
    assert.equal(keyOf({ metadata: { namespace: "ns", name: "a" } }), "ns/a");
    assert.equal(keyOf({ metadata: { name: "node1" } }), "node1");
    assert.equal(keyOf(new DeletedFinalStateUnknown("ns/gone", { metadata: { name: "other" } })), "ns/gone");
    assert.deepEqual(splitKey("ns/a"), { namespace: "ns", name: "a" });
    assert.deepEqual(splitKey("node1"), { namespace: "", name: "node1" });
    assert.throws(() => splitKey("a/b/c"), (e: unknown) => e instanceof ClientError && e.code === "InvalidKey");
  });
});
