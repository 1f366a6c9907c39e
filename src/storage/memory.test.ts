import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isStorageError } from "./errors.js";
import type { KeyValue, WatchEvent } from "./interface.js";
import { MAX_VALUE_BYTES } from "./interface.js";
import { MemoryStore } from "./memory.js";
import { compileStoreOptions } from "./options.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const text = (kv: KeyValue | undefined): string | undefined => (kv === undefined ? undefined : dec.decode(kv.value));

async function withStore(fn: (s: MemoryStore) => Promise<void>, input: Parameters<typeof compileStoreOptions>[0] = {}): Promise<void> {
  const s = await MemoryStore.open(compileStoreOptions(input));
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

void test("reads and lists at an older revision see the store as it was, until compacted", () =>
  withStore(async (s) => {
    const a1 = await s.create("/r/a", enc.encode("a1"));
    await s.create("/r/b", enc.encode("b1"));
    const a2 = await s.update("/r/a", enc.encode("a2"), a1.modRevision);
    const del = await s.delete("/r/b");
    assert.equal(a2.createRevision, a1.createRevision);
    assert.equal(text(del.prevKv), "b1");

    assert.equal(text((await s.get("/r/a", { revision: 1 })).kv), "a1");
    assert.equal((await s.get("/r/b", { revision: 4 })).kv, undefined);
    assert.deepEqual((await s.list("/r/", { revision: 2 })).kvs.map(text), ["a1", "b1"]);
    assert.deepEqual((await s.list("/r/")).kvs.map(text), ["a2"]);

    await s.compact(3);
    assert.equal(await s.compactedRevision(), 3);
    await assert.rejects(s.get("/r/a", { revision: 2 }), (e: unknown) => isStorageError(e, "Compacted"));
    // The compact revision itself stays readable.
    assert.deepEqual((await s.list("/r/", { revision: 3 })).kvs.map(text), ["a2", "b1"]);
    await s.compact(4);
    assert.equal((await s.get("/r/b", { revision: 4 })).kv, undefined);
    await assert.rejects(s.compact(2), (e: unknown) => isStorageError(e, "Compacted"));
    await assert.rejects(s.compact(99), (e: unknown) => isStorageError(e, "Invalid"));
  }));

void test("pagination keeps one revision; a continue token whose revision was compacted is Expired", () =>
  withStore(async (s) => {
    for (let i = 0; i < 5; i++) await s.create(`/p/${i}`, enc.encode(String(i)));
    const page1 = await s.list("/p/", { limit: 2 });
    assert.equal(page1.remainingItemCount, 3);
    await s.create("/p/0a", enc.encode("new"));
    await s.delete("/p/3");
    const page2 = await s.list("/p/", { limit: 2, continue: page1.continue as string });
    assert.equal(page2.revision, page1.revision);
    assert.deepEqual(page2.kvs.map(text), ["2", "3"]);
    await s.compact();
    await assert.rejects(s.list("/p/", { limit: 2, continue: page2.continue as string }), (e: unknown) => isStorageError(e, "Expired"));
  }));

void test("CAS errors carry the current value; bounds are Invalid", () =>
  withStore(async (s) => {
    const kv = await s.create("/c/x", enc.encode("1"));
    await assert.rejects(s.create("/c/x", enc.encode("1")), (e: unknown) => isStorageError(e, "AlreadyExists"));
    await s.update("/c/x", enc.encode("2"), kv.modRevision);
    await assert.rejects(s.update("/c/x", enc.encode("3"), kv.modRevision), (e: unknown) => isStorageError(e, "Conflict") && text(e.details.current) === "2");
    await assert.rejects(s.delete("/c/x", kv.modRevision), (e: unknown) => isStorageError(e, "Conflict"));
    await assert.rejects(s.update("/c/none", enc.encode("1"), 1), (e: unknown) => isStorageError(e, "NotFound"));
    await assert.rejects(s.create("/c/big", new Uint8Array(MAX_VALUE_BYTES + 1)), (e: unknown) => isStorageError(e, "Invalid"));
    await assert.rejects(s.create("/c/\ud800", enc.encode("1")), (e: unknown) => isStorageError(e, "Invalid"));
    await assert.rejects(s.create("/c/t", enc.encode("1"), { ttlSeconds: -1 }), (e: unknown) => isStorageError(e, "Invalid"));
  }));

void test("expired TTL keys are deleted through the normal path and watchers see the deletion", () =>
  withStore(
    async (s) => {
      const w = await s.watch("/lease/");
      await s.create("/lease/a", enc.encode("a"), { ttlSeconds: 1 });
      await s.create("/lease/b", enc.encode("b"));
      const events: WatchEvent[] = [];
      const deadline = setTimeout(() => w.stop(), 5000);
      for await (const ev of w) {
        events.push(ev);
        if (ev.type === "delete") break;
      }
      clearTimeout(deadline);
      assert.deepEqual(
        events.map((e) => [e.type, e.kv.key]),
        [
          ["create", "/lease/a"],
          ["create", "/lease/b"],
          ["delete", "/lease/a"],
        ],
      );
      assert.equal(events[0]?.kv.ttlSeconds, 1);
      assert.equal(text(events[2]?.prevKv), "a");
      assert.equal((await s.get("/lease/a")).kv, undefined);
      assert.equal((await s.count("/lease/")).count, 1);
    },
    { ttlSweepMs: 50 },
  ));

void test("an update without a TTL makes the key permanent again", () =>
  withStore(
    async (s) => {
      const kv = await s.create("/lease/x", enc.encode("1"), { ttlSeconds: 1 });
      await s.update("/lease/x", enc.encode("2"), kv.modRevision);
      const marker = await s.create("/lease/marker", enc.encode("m"), { ttlSeconds: 1 });
      // Wait until the sweeper has provably run past both expiries.
      const deadline = Date.now() + 5000;
      while ((await s.get("/lease/marker")).kv !== undefined) {
        assert.ok(Date.now() < deadline, "marker key never expired");
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(marker.modRevision > kv.modRevision);
      assert.equal(text((await s.get("/lease/x")).kv), "2");
    },
    { ttlSweepMs: 50 },
  ));

void test("watch from an old revision replays history; snapshot and restore keep every key and revision", async () => {
  const dir = await mkdtemp(join(tmpdir(), "k8ts-mem-"));
  try {
    await withStore(async (s) => {
      for (let i = 0; i < 20; i++) await s.create(`/s/${String(i).padStart(2, "0")}`, enc.encode(String(i)), i === 3 ? { ttlSeconds: 3600 } : {});
      const k5 = (await s.get("/s/05")).kv as KeyValue;
      await s.update("/s/05", enc.encode("five"), k5.modRevision);
      await s.delete("/s/07");
      const w = await s.watch("/s/", { afterRevision: 18 });
      const it = w[Symbol.asyncIterator]();
      const got: number[] = [];
      for (let i = 0; i < 4; i++) got.push(((await it.next()).value as WatchEvent).revision);
      w.stop();
      assert.deepEqual(got, [19, 20, 21, 22]);

      const file = join(dir, "snap.json");
      await s.snapshot(file);
      const r = await MemoryStore.restore(file);
      try {
        assert.equal(await r.currentRevision(), await s.currentRevision());
        assert.deepEqual((await r.list("/")).kvs, (await s.list("/")).kvs);
        assert.equal((await r.get("/s/03")).kv?.ttlSeconds, 3600);
        // History before the snapshot is gone; watching from it says so.
        await assert.rejects(r.watch("/s/", { afterRevision: 5 }), (e: unknown) => isStorageError(e, "Compacted"));
        const next = await r.create("/s/new", enc.encode("n"));
        assert.equal(next.modRevision, 23);
      } finally {
        await r.close();
      }

      await writeFile(join(dir, "bad.json"), "{not json");
      await assert.rejects(MemoryStore.restore(join(dir, "bad.json")), (e: unknown) => isStorageError(e, "Invalid") && e.message.includes("bad.json"));
      await assert.rejects(MemoryStore.restore(join(dir, "missing.json")), (e: unknown) => isStorageError(e, "Unavailable"));
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

void test("automatic compaction runs from the store's options", () =>
  withStore(
    async (s) => {
      for (let i = 0; i < 30; i++) await s.create(`/a/${i}`, enc.encode("x"));
      const deadline = Date.now() + 5000;
      while ((await s.compactedRevision()) < 20) {
        assert.ok(Date.now() < deadline, "automatic compaction never ran");
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(await s.compactedRevision(), 20);
    },
    { compaction: { intervalMs: 10, minRevisions: 10, minAgeMs: 0 } },
  ));

void test("operations after close are Unavailable and open watches end", async () => {
  const s = await MemoryStore.open(compileStoreOptions());
  const w = await s.watch("/");
  const waiting = w[Symbol.asyncIterator]().next();
  await s.close();
  assert.deepEqual(await waiting, { done: true, value: undefined });
  await assert.rejects(s.get("/x"), (e: unknown) => isStorageError(e, "Unavailable"));
});
