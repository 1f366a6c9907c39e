import { test } from "node:test";
import assert from "node:assert/strict";
import { setImmediate as tick } from "node:timers/promises";
import type { Watch, WatchEvent } from "./interface.js";
import { isStorageError, compacted } from "./errors.js";
import { WatchHub, type HistoryReader } from "./watchhub.js";

const enc = new TextEncoder();

/** A stand-in backend: an append-only log that publishes into the hub after each "commit". */
class FakeLog {
  readonly events: WatchEvent[] = [];
  compactRevision = 0;
  historyReads = 0;
  readonly hub: WatchHub;

  constructor(opts: { queueLimit: number; historySize: number; readDelayTicks?: number }) {
    const read: HistoryReader = async (key, prefix, after, upTo) => {
      this.historyReads++;
      // The read yields several times so writes land while it is in flight, as on a real backend.
      for (let i = 0; i < (opts.readDelayTicks ?? 3); i++) await tick();
      if (after < this.compactRevision) throw compacted(after + 1, this.compactRevision);
      return this.events.filter((e) => e.revision > after && e.revision <= upTo && (prefix ? e.kv.key.startsWith(key) : e.kv.key === key));
    };
    this.hub = new WatchHub({ queueLimit: opts.queueLimit, historySize: opts.historySize, source: read, compactedRevision: () => this.compactRevision });
  }

  write(key: string): WatchEvent {
    const revision = this.events.length + 1;
    const ev: WatchEvent = { type: "create", revision, kv: { key, value: enc.encode(String(revision)), createRevision: revision, modRevision: revision, ttlSeconds: 0 } };
    this.events.push(ev);
    this.hub.publish([ev]);
    return ev;
  }
}

async function collect(w: Watch, count: number, deadlineMs = 5000): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  if (count === 0) return out;
  const timer = setTimeout(() => w.stop(), deadlineMs);
  try {
    for await (const ev of w) {
      out.push(ev);
      if (out.length >= count) break;
    }
  } finally {
    clearTimeout(timer);
  }
  return out;
}

void test("watchers that join at random points, from memory or history, see every matching change once and in order", async () => {
  const log = new FakeLog({ queueLimit: 100_000, historySize: 50 });
  const total = 2000;
  const keys = ["/registry/pods/a/", "/registry/pods/b/", "/registry/svc/a/"];
  const writers = Array.from({ length: 4 }, async (_, wi) => {
    for (let i = 0; i < total / 4; i++) {
      log.write(`${keys[(i + wi) % keys.length]}${wi}-${i}`);
      if (i % 7 === 0) await tick();
    }
  });
  type Sub = { prefix: string; after: number; watch: Promise<Watch> };
  const subs: Sub[] = [];
  const subscriber = (async () => {
    for (let i = 0; i < 60; i++) {
      await tick();
      const prefix = i % 2 === 0 ? "/registry/pods/" : (keys[i % keys.length] as string);
      // Half start near the head (ring), half far back (history read while writes continue).
      const after = i % 2 === 0 ? Math.max(0, log.hub.revision - 10) : Math.floor(log.hub.revision / 3);
      subs.push({ prefix, after, watch: log.hub.subscribe(prefix, true, after) });
    }
  })();
  await Promise.all([...writers, subscriber]);
  assert.equal(log.hub.revision, total);
  assert.ok(log.historyReads > 0, "some watchers must have been served from the history source");

  for (const s of subs) {
    const expected = log.events.filter((e) => e.revision > s.after && e.kv.key.startsWith(s.prefix)).map((e) => e.revision);
    const w = await s.watch;
    const got = (await collect(w, expected.length)).map((e) => e.revision);
    w.stop();
    assert.deepEqual(got, expected, `watch ${s.prefix} after ${s.after}`);
  }
  assert.equal(log.hub.watcherCount, 0);
});

void test("a watcher that does not consume is cut off with Unavailable; a fast one keeps everything", async () => {
  const log = new FakeLog({ queueLimit: 20, historySize: 10 });
  const slow = await log.hub.subscribe("/k/", true, 0);
  const fast = await log.hub.subscribe("/k/", true, 0);
  const seen: number[] = [];
  const fastDone = (async () => {
    for await (const ev of fast) {
      seen.push(ev.revision);
      if (seen.length === 500) break;
    }
  })();
  for (let i = 0; i < 500; i++) {
    log.write(`/k/${i}`);
    if (i % 5 === 0) await tick();
  }
  await fastDone;
  assert.deepEqual(seen, Array.from({ length: 500 }, (_, i) => i + 1));
  const it = slow[Symbol.asyncIterator]();
  await assert.rejects(it.next(), (err: unknown) => isStorageError(err, "Unavailable") && /too slow/.test(err.message));
  // The cut-off watcher let go of its queue and is no longer registered.
  assert.equal(log.hub.watcherCount, 0);
});

void test("a watcher that falls behind while waiting for its history read is rejected, not left unbounded", async () => {
  const log = new FakeLog({ queueLimit: 5, historySize: 2, readDelayTicks: 5 });
  for (let i = 0; i < 10; i++) log.write(`/k/${i}`);
  const pending = log.hub.subscribe("/k/", true, 1);
  for (let i = 10; i < 30; i++) log.write(`/k/${i}`);
  await assert.rejects(pending, (err: unknown) => isStorageError(err, "Unavailable"));
  assert.equal(log.hub.watcherCount, 0);
});

void test("the initial backlog from history does not count against the queue limit", async () => {
  const log = new FakeLog({ queueLimit: 5, historySize: 4 });
  for (let i = 0; i < 50; i++) log.write(`/k/${i}`);
  const w = await log.hub.subscribe("/k/", true, 0);
  log.write("/k/late");
  const got = await collect(w, 51);
  w.stop();
  assert.equal(got.length, 51);
  assert.equal(got.at(-1)?.kv.key, "/k/late");
});

void test("a start revision older than the compacted one is rejected with Compacted", async () => {
  const log = new FakeLog({ queueLimit: 10, historySize: 100 });
  for (let i = 0; i < 10; i++) log.write(`/k/${i}`);
  log.compactRevision = 6;
  await assert.rejects(log.hub.subscribe("/k/", true, 5), (err: unknown) => isStorageError(err, "Compacted") && err.details.compactRevision === 6);
  // Exactly the compacted revision is still watchable: it needs only later events.
  const w = await log.hub.subscribe("/k/", true, 6);
  assert.deepEqual((await collect(w, 4)).map((e) => e.revision), [7, 8, 9, 10]);
  w.stop();
});

void test("compaction that lands while the history read is in flight fails the watch", async () => {
  const log = new FakeLog({ queueLimit: 10, historySize: 2, readDelayTicks: 2 });
  for (let i = 0; i < 10; i++) log.write(`/k/${i}`);
  const pending = log.hub.subscribe("/k/", true, 1);
  log.compactRevision = 8;
  await assert.rejects(pending, (err: unknown) => isStorageError(err, "Compacted"));
  assert.equal(log.hub.watcherCount, 0);
});

void test("exact-key watches see only their key; a start revision ahead of the hub waits for it", async () => {
  const log = new FakeLog({ queueLimit: 10, historySize: 100 });
  const exact = await log.hub.subscribe("/k/a", false, 0);
  const ahead = await log.hub.subscribe("/k/", true, 3);
  for (const k of ["/k/a", "/k/ab", "/k/b", "/k/a", "/k/c"]) log.write(k);
  assert.deepEqual((await collect(exact, 2)).map((e) => e.revision), [1, 4]);
  assert.deepEqual((await collect(ahead, 2)).map((e) => e.revision), [4, 5]);
  exact.stop();
  ahead.stop();
});

void test("stop() and close() end iteration, including a consumer that is waiting", async () => {
  const log = new FakeLog({ queueLimit: 10, historySize: 10 });
  const a = await log.hub.subscribe("/", true, 0);
  const b = await log.hub.subscribe("/", true, 0);
  const waiting = a[Symbol.asyncIterator]().next();
  a.stop();
  assert.deepEqual(await waiting, { done: true, value: undefined });
  const bWaiting = b[Symbol.asyncIterator]().next();
  log.hub.close();
  assert.deepEqual(await bWaiting, { done: true, value: undefined });
  await assert.rejects(log.hub.subscribe("/", true, 0), (err: unknown) => isStorageError(err, "Unavailable"));
});

void test("publishing a revision that goes backwards is refused", () => {
  const log = new FakeLog({ queueLimit: 10, historySize: 10 });
  const ev = log.write("/k/1");
  assert.throws(() => log.hub.publish([ev]), (err: unknown) => isStorageError(err, "Invalid"));
});

void test("a hub started at a store's revision reads older history from the source", async () => {
  const log = new FakeLog({ queueLimit: 10, historySize: 10 });
  for (let i = 0; i < 5; i++) log.write(`/k/${i}`);
  const reads: Array<[number, number]> = [];
  const hub = new WatchHub({
    queueLimit: 10,
    historySize: 10,
    revision: 5,
    compactedRevision: () => 0,
    source: {
      readHistory: async (key, prefix, after, upTo) => {
        reads.push([after, upTo]);
        return log.events.filter((e) => e.revision > after && e.revision <= upTo);
      },
    },
  });
  const w = await hub.subscribe("/k/", true, 2);
  assert.deepEqual(reads, [[2, 5]]);
  assert.deepEqual((await collect(w, 3)).map((e) => e.revision), [3, 4, 5]);
  hub.close();
});

void test("one publish larger than the queue limit does not cut off a watcher that keeps up", async () => {
  const log = new FakeLog({ queueLimit: 10, historySize: 10 });
  const w = await log.hub.subscribe("/k/", true, 0);
  const burst = (from: number): WatchEvent[] =>
    Array.from({ length: 50 }, (_, i) => {
      const revision = from + i;
      const ev: WatchEvent = { type: "create", revision, kv: { key: `/k/${revision}`, value: enc.encode("x"), createRevision: revision, modRevision: revision, ttlSeconds: 0 } };
      log.events.push(ev);
      return ev;
    });
  // Iterated by hand: leaving a for-await loop would stop the watch.
  const it = w[Symbol.asyncIterator]();
  const take = async (n: number): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(((await it.next()).value as WatchEvent).revision);
    return out;
  };
  log.hub.publish(burst(1));
  assert.equal((await take(50)).length, 50);
  log.hub.publish(burst(51));
  const got = await take(50);
  assert.deepEqual([got[0], got.at(-1)], [51, 100]);
  // Not consuming: the next batch finds 50 queued and cuts the watcher off.
  log.hub.publish(burst(101));
  log.hub.publish(burst(151));
  await assert.rejects(it.next(), (err: unknown) => isStorageError(err, "Unavailable"));
});
