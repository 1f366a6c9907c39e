import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FakeClock } from "./clock.js";
import { BucketRateLimiter, ItemExponentialFailureRateLimiter, MaxOfRateLimiter, WorkQueue, defaultControllerRateLimiter } from "./workqueue.js";

/** Lets every settled promise callback run. */
const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

void describe("WorkQueue", () => {
  void it("hands items out in order and coalesces duplicates", async () => {
    const q = new WorkQueue();
    q.add("a");
    q.add("b");
    q.add("a");
    assert.equal(q.len(), 2);
    assert.equal(await q.get(), "a");
    assert.equal(await q.get(), "b");
    assert.equal(q.len(), 0);
  });

  void it("never hands out an item that is being processed; re-queues it on done", async () => {
    const q = new WorkQueue();
    q.add("a");
    const first = await q.get();
    assert.equal(first, "a");
    q.add("a");
    q.add("a");
    assert.equal(q.len(), 0, "dirty but processing: not queued");
    let second: string | undefined;
    const p = q.get().then((v) => (second = v));
    await flush();
    assert.equal(second, undefined, "a second worker must wait");
    q.done("a");
    await p;
    assert.equal(second, "a", "re-queued exactly once after done");
    q.done("a");
    assert.equal(q.len(), 0);
  });

  void it("wakes a waiting get on add, and each item goes to one getter", async () => {
    const q = new WorkQueue();
    const got: (string | undefined)[] = [];
    const ps = [q.get().then((v) => got.push(v)), q.get().then((v) => got.push(v))];
    q.add("x");
    q.add("y");
    await Promise.all(ps);
    assert.deepEqual(got.sort(), ["x", "y"]);
  });

  void it("done of an item not being processed changes nothing", async () => {
    const q = new WorkQueue();
    q.add("a");
    q.done("a");
    assert.equal(q.len(), 1);
    assert.equal(await q.get(), "a");
  });

  void it("shutDown: drains what is queued, then resolves undefined; adds are ignored", async () => {
    const q = new WorkQueue();
    q.add("a");
    const waiting = new WorkQueue();
    const pending = waiting.get();
    waiting.shutDown();
    assert.equal(await pending, undefined);

    q.shutDown();
    assert.equal(q.shuttingDown(), true);
    q.add("b");
    assert.equal(await q.get(), "a");
    assert.equal(await q.get(), undefined);
    assert.equal(await q.get(), undefined);
  });

  void it("shutDownWithDrain resolves once in-flight items are done", async () => {
    const q = new WorkQueue();
    q.add("a");
    const item = await q.get();
    let drained = false;
    const p = q.shutDownWithDrain().then(() => (drained = true));
    await flush();
    assert.equal(drained, false);
    q.done(item!);
    await p;
    assert.equal(drained, true);
  });

  void it("keeps one worker per key under concurrent workers", async () => {
    const q = new WorkQueue();
    const active = new Set<string>();
    let overlaps = 0;
    let processed = 0;
    const worker = async (): Promise<void> => {
      for (;;) {
        const k = await q.get();
        if (k === undefined) return;
        if (active.has(k)) overlaps++;
        active.add(k);
        await flush();
        // Adds while processing must be deferred, not handed to another worker.
        if (processed < 200) q.add(k);
        processed++;
        active.delete(k);
        q.done(k);
      }
    };
    for (let i = 0; i < 10; i++) q.add(`k${i % 3}`);
    const workers = Array.from({ length: 4 }, () => worker());
    while (processed < 200) await flush();
    await q.shutDownWithDrain();
    await Promise.all(workers);
    assert.equal(overlaps, 0);
    assert.ok(processed >= 200);
  });
});

void describe("WorkQueue delays", () => {
  void it("addAfter adds when the delay has passed; the earliest deadline wins", async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.addAfter("a", 100);
    q.addAfter("a", 50);
    q.addAfter("a", 500);
    q.addAfter("b", 0);
    assert.equal(q.len(), 1, "zero delay adds at once");
    assert.equal(await q.get(), "b");
    clock.step(49);
    assert.equal(q.len(), 0);
    clock.step(1);
    assert.equal(q.len(), 1);
    clock.step(1000);
    assert.equal(q.len(), 1, "the later deadlines were folded into the earlier one");
    assert.equal(clock.pending, 0);
  });

  void it("shutDown drops delayed items and cancels their timers", () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.addAfter("a", 10);
    q.shutDown();
    assert.equal(clock.pending, 0);
    q.addAfter("b", 10);
    clock.step(100);
    assert.equal(q.len(), 0);
  });

  void it("addRateLimited backs off exponentially per item; forget resets", async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, rateLimiter: new ItemExponentialFailureRateLimiter(5, 1_000_000) });
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const t0 = clock.now();
      q.addRateLimited("a");
      clock.step(clock.nextTimerAt()! - clock.now());
      delays.push(clock.now() - t0);
      const k = await q.get();
      q.done(k!);
    }
    assert.deepEqual(delays, [5, 10, 20, 40]);
    assert.equal(q.numRequeues("a"), 4);
    q.forget("a");
    assert.equal(q.numRequeues("a"), 0);
    q.addRateLimited("a");
    assert.equal(clock.nextTimerAt()! - clock.now(), 5);
  });
});

void describe("rate limiters", () => {
  void it("ItemExponentialFailureRateLimiter caps at the max delay", () => {
    const l = new ItemExponentialFailureRateLimiter<string>(5, 1_000_000);
    const ds = Array.from({ length: 30 }, () => l.when("x"));
    assert.deepEqual(ds.slice(0, 3), [5, 10, 20]);
    assert.equal(ds[17], 5 * 2 ** 17);
    assert.equal(ds[18], 1_000_000, "5ms · 2^18 > 1000 s");
    assert.equal(ds[29], 1_000_000);
    assert.equal(l.when("y"), 5, "items are independent");
    for (let i = 0; i < 2000; i++) l.when("z");
    assert.equal(l.when("z"), 1_000_000, "no overflow to NaN/Infinity");
  });

  void it("BucketRateLimiter allows the burst at once, then one item per 1/qps", () => {
    const clock = new FakeClock();
    const l = new BucketRateLimiter<string>(10, 100, clock);
    for (let i = 0; i < 100; i++) assert.equal(l.when(`i${i}`), 0);
    assert.equal(Math.round(l.when("x")), 100);
    assert.equal(Math.round(l.when("y")), 200);
    clock.step(1000);
    // 10 tokens refilled against 2 owed: 8 go at once, the ninth waits 1/qps.
    for (let i = 0; i < 8; i++) assert.equal(l.when(`j${i}`), 0);
    assert.equal(Math.round(l.when("z")), 100);
    assert.equal(l.numRequeues("x"), 0);
  });

  void it("MaxOf and the default controller limiter take the larger delay", () => {
    const clock = new FakeClock();
    const l = defaultControllerRateLimiter<string>(clock);
    assert.equal(l.when("a"), 5);
    assert.equal(l.when("a"), 10);
    for (let i = 0; i < 98; i++) l.when(`other${i}`);
    // The bucket is now empty: the next failure waits for a token even on its first retry.
    assert.equal(Math.round(l.when("b")), 100);
    assert.equal(l.numRequeues("a"), 2);
    l.forget("a");
    assert.equal(l.numRequeues("a"), 0);

    const m = new MaxOfRateLimiter<string>(new ItemExponentialFailureRateLimiter(1, 8), new ItemExponentialFailureRateLimiter(3, 5));
    assert.deepEqual([m.when("k"), m.when("k"), m.when("k"), m.when("k")], [3, 5, 5, 8]);
  });
});
