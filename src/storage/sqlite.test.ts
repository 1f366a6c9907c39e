import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { isStorageError } from "./errors.js";
import type { KeyValue, Store, WatchEvent } from "./interface.js";
import { MAX_VALUE_BYTES } from "./interface.js";
import { compileStoreOptions, type StoreOptionsInput } from "./options.js";
import { SqliteStore, type SqliteOpenOptions } from "./sqlite.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const text = (kv: KeyValue | undefined): string | undefined => (kv === undefined ? undefined : dec.decode(kv.value));

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "k8ts-sqlite-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function withStore(file: string, fn: (s: SqliteStore) => Promise<void>, input: StoreOptionsInput = {}, open: SqliteOpenOptions = {}): Promise<void> {
  const s = await SqliteStore.open(file, compileStoreOptions({ compaction: { intervalMs: 0 }, ...input }), open);
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

async function next(it: AsyncIterator<WatchEvent>): Promise<WatchEvent> {
  const r = await it.next();
  assert.equal(r.done, false);
  return r.value as WatchEvent;
}

/** Everything a store holds that must survive a restart or a restore. */
async function dump(s: Store, revision?: number): Promise<unknown> {
  const list = await s.list("", revision === undefined ? {} : { revision });
  return list.kvs.map((kv) => ({ ...kv, value: dec.decode(kv.value) }));
}

/** A short history touching every kind of change, with values big and empty. */
async function writeHistory(s: Store): Promise<void> {
  for (let i = 0; i < 30; i++) await s.create(`/registry/pods/ns${i % 3}/p${i}`, enc.encode(`v${i}`));
  for (let i = 0; i < 30; i += 2) {
    const kv = (await s.get(`/registry/pods/ns${i % 3}/p${i}`)).kv as KeyValue;
    await s.update(kv.key, enc.encode(`v${i}-2`), kv.modRevision);
  }
  for (let i = 0; i < 30; i += 5) await s.delete(`/registry/pods/ns${i % 3}/p${i}`);
  await s.create("/registry/empty", new Uint8Array(0));
  await s.create("/registry/big", new Uint8Array(MAX_VALUE_BYTES).fill(7));
  await s.create("/registry/leases/l1", enc.encode("lease"), { ttlSeconds: 3600 });
}

void test("CRUD, CAS and reads at older revisions, latest from the current table and old ones from the log", () =>
  withDir((dir) =>
    withStore(join(dir, "s.db"), async (s) => {
      const a = await s.create("/r/a", enc.encode("a1"));
      await s.create("/r/b", enc.encode("b1"));
      await assert.rejects(s.create("/r/a", enc.encode("x")), (e: unknown) => isStorageError(e, "AlreadyExists"));
      const a2 = await s.update("/r/a", enc.encode("a2"), a.modRevision);
      assert.deepEqual([a2.createRevision, a2.modRevision], [1, 3]);
      await assert.rejects(s.update("/r/a", enc.encode("x"), a.modRevision), (e: unknown) => isStorageError(e, "Conflict") && text(e.details.current) === "a2");
      await assert.rejects(s.delete("/r/a", 1), (e: unknown) => isStorageError(e, "Conflict") && e.details.current?.modRevision === 3);
      const del = await s.delete("/r/b");
      assert.deepEqual([del.revision, text(del.prevKv)], [4, "b1"]);
      await assert.rejects(s.delete("/r/b"), (e: unknown) => isStorageError(e, "NotFound"));
      await assert.rejects(s.update("/r/b", enc.encode("x"), 2), (e: unknown) => isStorageError(e, "NotFound"));

      assert.equal(text((await s.get("/r/a", { revision: 2 })).kv), "a1");
      assert.equal(text((await s.get("/r/b", { revision: 3 })).kv), "b1");
      assert.equal((await s.get("/r/b")).kv, undefined);
      assert.deepEqual((await s.list("/r/", { revision: 2 })).kvs.map(text), ["a1", "b1"]);
      assert.deepEqual((await s.list("/r/")).kvs.map(text), ["a2"]);
      await assert.rejects(s.get("/r/a", { revision: 9 }), (e: unknown) => isStorageError(e, "Invalid"));
      await assert.rejects(s.create("/r/big", new Uint8Array(MAX_VALUE_BYTES + 1)), (e: unknown) => isStorageError(e, "Invalid"));
      await assert.rejects(s.create("", enc.encode("x")), (e: unknown) => isStorageError(e, "Invalid"));
      // Values come back as plain Uint8Arrays (not Buffers), equal to what other backends return.
      assert.equal(Object.getPrototypeOf((await s.get("/r/a")).kv?.value), Uint8Array.prototype);
    }),
  ));

void test("pagination at the latest and at an older revision, with remaining counts", () =>
  withDir((dir) =>
    withStore(join(dir, "s.db"), async (s) => {
      for (let i = 0; i < 10; i++) await s.create(`/p/${i}`, enc.encode(String(i)));
      await s.create("/q/outside", enc.encode("x"));
      const p1 = await s.list("/p/", { limit: 4 });
      assert.deepEqual([p1.kvs.map(text), p1.remainingItemCount], [["0", "1", "2", "3"], 6]);
      // Writes between pages do not show: later pages are read at the first page's revision.
      await s.delete("/p/5");
      await s.create("/p/45", enc.encode("new"));
      const p2 = await s.list("/p/", { limit: 4, continue: p1.continue as string });
      assert.deepEqual([p2.revision, p2.kvs.map(text), p2.remainingItemCount], [p1.revision, ["4", "5", "6", "7"], 2]);
      const p3 = await s.list("/p/", { limit: 4, continue: p2.continue as string });
      assert.deepEqual([p3.kvs.map(text), p3.continue], [["8", "9"], undefined]);
      const now = await s.list("/p/", { limit: 20 });
      assert.deepEqual(now.kvs.map(text), ["0", "1", "2", "3", "4", "new", "6", "7", "8", "9"]);
      assert.equal((await s.count("/p/")).count, 10);
      assert.equal((await s.count("")).count, 11);
      await s.compact();
      await assert.rejects(s.list("/p/", { limit: 4, continue: p1.continue as string }), (e: unknown) => isStorageError(e, "Expired"));
    }),
  ));

void test("writes issued together commit together; a refused one does not disturb the others", () =>
  withDir((dir) =>
    withStore(join(dir, "s.db"), async (s) => {
      await s.create("/g/taken", enc.encode("x"));
      const results = await Promise.allSettled([
        ...Array.from({ length: 50 }, (_, i) => s.create(`/g/${i}`, enc.encode(String(i)))),
        s.create("/g/taken", enc.encode("y")),
        s.update("/g/taken", enc.encode("z"), 999),
      ]);
      const ok = results.filter((r): r is PromiseFulfilledResult<KeyValue> => r.status === "fulfilled").map((r) => r.value.modRevision);
      assert.deepEqual(ok, Array.from({ length: 50 }, (_, i) => i + 2), "revisions are contiguous in issue order");
      assert.equal(results.filter((r) => r.status === "rejected").length, 2);
      assert.equal(await s.currentRevision(), 51);
      assert.equal((await s.count("/g/")).count, 51);
    }),
  ));

void test("reads while a batch commits in the writer thread show the store at the revision they report", () =>
  withDir((dir) =>
    withStore(join(dir, "s.db"), async (s) => {
      for (let i = 0; i < 20; i++) await s.create(`/c/${i}`, enc.encode("0"));
      const lists: Array<{ revision: number; kvs: readonly KeyValue[] }> = [];
      const gets: Array<{ key: string; revision: number; kv: KeyValue | undefined }> = [];
      for (let round = 1; round <= 30; round++) {
        const { kvs } = await s.list("/c/");
        let settled = false;
        const key = `/c/${round % 20}`;
        const writes = Promise.all([
          ...kvs.map((kv) => (kv.key === key ? s.delete(kv.key, kv.modRevision) : s.update(kv.key, enc.encode(String(round)), kv.modRevision))),
          kvs.length < 20 ? s.create(`/c/${(round + 19) % 20}`, enc.encode(String(round))) : Promise.resolve(),
        ]).finally(() => (settled = true));
        // The reads land while the batch is being committed: the writer thread may have written
        // rows this thread has not been told of yet.
        while (!settled) {
          lists.push(await s.list("/c/"));
          const got = await s.get(key);
          gets.push({ key, ...got });
          const counted = await s.count("/c/");
          assert.equal(counted.count, (await s.list("/c/", { revision: counted.revision })).kvs.length);
          await new Promise((r) => setImmediate(r));
        }
        await writes;
      }
      assert.ok(lists.length >= 30);
      for (const read of lists) {
        for (const kv of read.kvs) assert.ok(kv.modRevision <= read.revision, `${kv.key} at ${kv.modRevision} in a list at ${read.revision}`);
        assert.deepEqual(read.kvs, (await s.list("/c/", { revision: read.revision })).kvs);
      }
      for (const read of gets) assert.deepEqual(read.kv, (await s.get(read.key, { revision: read.revision })).kv, `${read.key} at ${read.revision}`);
    }, {}, { writer: "thread" }),
  ));

void test("commits move between the event loop and the writer thread between batches without losing order or a write", () =>
  withDir((dir) =>
    withStore(
      join(dir, "s.db"),
      async (s) => {
        const w = await s.watch("/m/");
        const places = new Set<string>();
        const expected = new Map<string, string>();
        for (let round = 0; round < 40; round++) {
          places.add(s.committingIn);
          const ops = Array.from({ length: 5 }, async (_, i) => {
            const key = `/m/${(round * 3 + i) % 12}`;
            const value = `${round}.${i}`;
            const { kv } = await s.get(key);
            try {
              if (kv === undefined) await s.create(key, enc.encode(value));
              else if (round % 7 === 0) {
                await s.delete(key, kv.modRevision);
                expected.delete(key);
                return;
              } else await s.update(key, enc.encode(value), kv.modRevision);
              expected.set(key, value);
            } catch (err) {
              // Two writers of a round on one key: the second loses the race, as it should.
              if (!isStorageError(err, "Conflict") && !isStorageError(err, "AlreadyExists")) throw err;
            }
          });
          await Promise.all(ops);
          if (round === 20) await s.compact();
        }
        assert.deepEqual([...places].sort(), ["loop", "thread"]);
        const { kvs, revision } = await s.list("/m/");
        assert.deepEqual(new Map(kvs.map((kv) => [kv.key, text(kv)])), expected);
        const seen: number[] = [];
        const it = w[Symbol.asyncIterator]();
        while (seen.length < revision) seen.push((await next(it)).revision);
        assert.deepEqual(seen, Array.from({ length: revision }, (_, i) => i + 1), "every revision once, in order");
        w.stop();
      },
      {},
      { writer: "auto", offload: { aboveMs: 0, belowMs: Number.POSITIVE_INFINITY, minBatch: 0 } },
    ),
  ));

void test("auto commits on the event loop while commits are quick or writers do not overlap, and in the writer thread once they are slow and do", () =>
  withDir(async (dir) => {
    await withStore(join(dir, "quick.db"), async (s) => {
      for (let i = 0; i < 20; i++) await s.create(`/q/${i}`, enc.encode("x"));
      assert.equal(s.committingIn, "loop");
    }, {}, { offload: { aboveMs: 60_000, belowMs: 0, minBatch: 0 } });
    await withStore(join(dir, "slow.db"), async (s) => {
      await s.create("/q/first", enc.encode("x"));
      assert.equal(s.committingIn, "thread");
      for (let i = 0; i < 20; i++) await s.create(`/q/${i}`, enc.encode("x"));
      assert.equal(s.committingIn, "thread");
      assert.equal((await s.count("/q/")).count, 21);
    }, {}, { offload: { aboveMs: 0, belowMs: 0, minBatch: 0 } });
    // Slow commits, but a lone writer: it would wait for its commit in the thread too.
    await withStore(join(dir, "lone.db"), async (s) => {
      for (let i = 0; i < 50; i++) await s.create(`/q/${i}`, enc.encode("x"));
      assert.equal(s.committingIn, "loop");
      for (let round = 0; round < 50 && s.committingIn === "loop"; round++) await Promise.all(Array.from({ length: 16 }, (_, i) => s.create(`/q/${round}/${i}`, enc.encode("x"))));
      assert.equal(s.committingIn, "thread");
    }, {}, { offload: { aboveMs: 0, belowMs: 0, minBatch: 2 } });
  }));

void test("the WAL is checkpointed off the event loop as writes go on and stays bounded, wherever batches commit", () =>
  withDir(async (dir) => {
    const value = new Uint8Array(64 * 1024).fill(1);
    for (const writer of ["loop", "thread"] as const) {
      await withStore(
        join(dir, `${writer}.db`),
        async (s) => {
          // 48 MiB in batches of 16 rows; without checkpoints the WAL would hold all of it.
          let peak = 0;
          for (let round = 0; round < 48; round++) {
            await Promise.all(Array.from({ length: 16 }, (_, i) => s.create(`/wal/${round}/${i}`, value)));
            peak = Math.max(peak, statSync(join(dir, `${writer}.db-wal`)).size);
          }
          // In the thread, checkpoints take turns with batches (~4 MiB here). On the loop, batches
          // wait once the WAL has grown a checkpoint's worth (~4 MiB) behind a running one, however
          // late the thread gets a CPU: 8.6 MiB here at load ~7, where 12-36 MiB was seen before they waited.
          const bound = (writer === "thread" ? 8 : 14) * 1024 * 1024;
          assert.ok(peak < bound, `${writer}: the WAL reached ${peak} bytes during 48 MiB of writes`);
          assert.equal(s.committingIn, writer);
          assert.equal((await s.count("/wal/")).count, 48 * 16);
        },
        {},
        { writer },
      );
    }
  }));

void test("restart keeps every key at the same revisions, the compact revision, and history for watches", () =>
  withDir(async (dir) => {
    const file = join(dir, "nested", "deeper", "state.db");
    let before: unknown;
    let beforeOld: unknown;
    let revision = 0;
    await withStore(file, async (s) => {
      await writeHistory(s);
      await s.compact(10);
      before = await dump(s);
      beforeOld = await dump(s, 40);
      revision = await s.currentRevision();
    });
    assert.ok(existsSync(file), "the directory of the store path is created");
    await withStore(file, async (s) => {
      assert.equal(await s.currentRevision(), revision);
      assert.equal(await s.compactedRevision(), 10);
      assert.deepEqual(await dump(s), before);
      assert.deepEqual(await dump(s, 40), beforeOld);
      await assert.rejects(s.get("/registry/pods/ns0/p0", { revision: 9 }), (e: unknown) => isStorageError(e, "Compacted"));

      // A watch from before the restart is served from the log, prevKv included, then goes live.
      const w = await s.watch("/registry/pods/", { afterRevision: 44 });
      const it = w[Symbol.asyncIterator]();
      const first = await next(it);
      assert.equal(first.revision, 45);
      assert.equal(first.type, "update");
      assert.ok(first.prevKv !== undefined && first.prevKv.modRevision < 45);
      const rest: WatchEvent[] = [];
      for (let r = 46; r <= 51; r++) rest.push(await next(it));
      assert.deepEqual(
        rest.map((e) => e.type),
        ["delete", "delete", "delete", "delete", "delete", "delete"],
      );
      for (const e of rest) assert.equal(e.kv.modRevision, e.revision);
      for (const e of rest) assert.equal(text(e.kv), text(e.prevKv));
      const created = await s.create("/registry/pods/ns9/new", enc.encode("n"));
      assert.equal(created.modRevision, revision + 1);
      let live = await next(it);
      while (live.revision <= 51) live = await next(it);
      assert.equal(live.revision, revision + 1);
      w.stop();
    });
  }));

void test("compaction removes the log rows no read needs and keeps reads at the compact revision exact", () =>
  withDir(async (dir) => {
    const file = join(dir, "s.db");
    await withStore(file, async (s) => {
      let kv = await s.create("/c/hot", enc.encode("0"));
      for (let i = 1; i <= 20; i++) kv = await s.update("/c/hot", enc.encode(String(i)), kv.modRevision);
      await s.create("/c/gone", enc.encode("g"));
      await s.delete("/c/gone");
      await s.create("/c/kept", enc.encode("k"));
      const atCompact = await dump(s, 24);
      await s.compact(24);
      assert.deepEqual(await dump(s, 24), atCompact);
      kv = await s.update("/c/hot", enc.encode("after"), kv.modRevision);
      // The update after the compact revision still finds its previous value for watchers.
      const w = await s.watch("/c/", { afterRevision: 24 });
      const ev = await next(w[Symbol.asyncIterator]());
      assert.equal(text(ev.prevKv), "20");
      w.stop();
    });
    const raw = new Database(file, { readonly: true });
    try {
      const rows = raw.prepare("SELECT key, revision FROM log ORDER BY revision").all() as Array<{ key: string; revision: number }>;
      assert.deepEqual(
        rows.map((r) => [r.key, r.revision]),
        [
          ["/c/hot", 21],
          ["/c/kept", 24],
          ["/c/hot", 25],
        ],
      );
      assert.equal(raw.prepare("SELECT value FROM meta WHERE name = 'compacted_through'").pluck().get(), 24);
    } finally {
      raw.close();
    }
  }));

void test("TTL expiry is persisted: a key written before a restart expires after it and watchers see the delete", () =>
  withDir(async (dir) => {
    const file = join(dir, "s.db");
    await withStore(file, async (s) => {
      await s.create("/leases/a", enc.encode("a"), { ttlSeconds: 1 });
      await s.create("/leases/b", enc.encode("b"));
    });
    await withStore(
      file,
      async (s) => {
        const w = await s.watch("/leases/", { afterRevision: 2 });
        // The store's sweeper timer does not hold the process open; this deadline does.
        const deadline = setTimeout(() => w.stop(), 5000);
        const r = await w[Symbol.asyncIterator]().next();
        clearTimeout(deadline);
        w.stop();
        assert.equal(r.done, false, "no expiry within 5 s");
        const ev = r.value as WatchEvent;
        assert.deepEqual([ev.type, ev.kv.key, ev.revision, text(ev.prevKv), ev.prevKv?.ttlSeconds], ["delete", "/leases/a", 3, "a", 1]);
        assert.deepEqual((await s.list("/leases/")).kvs.map((kv) => kv.key), ["/leases/b"]);
      },
      { ttlSweepMs: 50 },
    );
  }));

void test("a database from a newer schema version is refused and left as it was", () =>
  withDir(async (dir) => {
    const file = join(dir, "s.db");
    await withStore(file, async (s) => {
      await s.create("/k", enc.encode("v"));
    });
    const raw = new Database(file);
    raw.prepare("UPDATE meta SET value = 99 WHERE name = 'schema_version'").run();
    raw.close();
    await assert.rejects(
      SqliteStore.open(file, compileStoreOptions()),
      (e: unknown) => isStorageError(e, "Invalid") && e.message.includes(file) && /newer k8ts \(schema version 99/.test(e.message),
    );
    const again = new Database(file, { readonly: true });
    try {
      assert.equal(again.prepare("SELECT count(*) FROM log").pluck().get(), 1);
    } finally {
      again.close();
    }
  }));

void test("a file that is not a database, a damaged database, or another program's database is refused, never reset", () =>
  withDir(async (dir) => {
    const garbage = join(dir, "garbage.db");
    const bytes = Buffer.from("this is not an SQLite file at all; ".repeat(300));
    await writeFile(garbage, bytes);
    await assert.rejects(SqliteStore.open(garbage, compileStoreOptions()), (e: unknown) => isStorageError(e, "Invalid") && e.message.includes(garbage) && /snapshot restore|move the file aside/.test(e.message));
    assert.deepEqual(readFileSync(garbage), bytes);

    const damaged = join(dir, "damaged.db");
    await withStore(damaged, async (s) => {
      await Promise.all(Array.from({ length: 2000 }, (_, i) => s.create(`/d/${i}`, enc.encode("x".repeat(500)))));
    });
    const size = statSync(damaged).size;
    const content = readFileSync(damaged);
    content.fill(0x5a, Math.floor(size / 2 / 4096) * 4096, Math.floor(size / 2 / 4096) * 4096 + 3 * 4096);
    await writeFile(damaged, content);
    await assert.rejects(SqliteStore.open(damaged, compileStoreOptions()), (e: unknown) => isStorageError(e, "Invalid") && e.message.includes(damaged) && /malformed/.test(e.message));
    assert.deepEqual(readFileSync(damaged), content);

    const foreign = join(dir, "foreign.db");
    const raw = new Database(foreign);
    raw.exec("CREATE TABLE users (id INTEGER PRIMARY KEY); INSERT INTO users VALUES (1)");
    raw.close();
    await assert.rejects(SqliteStore.open(foreign, compileStoreOptions()), (e: unknown) => isStorageError(e, "Invalid") && /did not write \(tables: users\)/.test(e.message));

    await assert.rejects(SqliteStore.open(dir, compileStoreOptions()), (e: unknown) => isStorageError(e, "Invalid") && /is a directory/.test(e.message));
  }));

void test("snapshot while writes go on, then restore: every key and revision matches the store at the snapshot's revision", () =>
  withDir(async (dir) => {
    const file = join(dir, "live.db");
    const snap = join(dir, "backups", "snap.db");
    const target = join(dir, "restored", "state.db");
    await withStore(file, async (s) => {
      await writeHistory(s);
      await s.compact(5);
      let writing = true;
      const writer = (async () => {
        for (let i = 0; writing; i++) await s.create(`/registry/during/${i}`, enc.encode(String(i)));
      })();
      await s.snapshot(snap);
      writing = false;
      await writer;

      await SqliteStore.restore(snap, target);
      await withStore(target, async (r) => {
        const at = await r.currentRevision();
        // Every write acknowledged before the snapshot began (writeHistory's 54 revisions) is in
        // it; how many of the concurrent ones are depends on when the copy's last step ran.
        assert.ok(at >= 54 && at <= (await s.currentRevision()));
        assert.deepEqual(await dump(r), await dump(s, at));
        // History travels with the snapshot: older reads match too.
        assert.equal(await r.compactedRevision(), 5);
        assert.deepEqual(await dump(r, 20), await dump(s, 20));
        assert.equal((await r.get("/registry/leases/l1")).kv?.ttlSeconds, 3600);
        assert.equal((await r.get("/registry/big")).kv?.value.byteLength, MAX_VALUE_BYTES);
        assert.equal((await r.get("/registry/empty")).kv?.value.byteLength, 0);
      });
    });

    // An existing database is not replaced unless asked; a bad snapshot leaves the target alone.
    await assert.rejects(SqliteStore.restore(snap, target), (e: unknown) => isStorageError(e, "AlreadyExists") && e.message.includes(target));
    const bad = join(dir, "bad.db");
    await writeFile(bad, "garbage".repeat(1000));
    const before = readFileSync(target);
    await assert.rejects(SqliteStore.restore(bad, target, { overwrite: true }), (e: unknown) => isStorageError(e, "Invalid") && e.message.includes(bad));
    assert.deepEqual(readFileSync(target), before);
    // Not even with overwrite while a server has the target open.
    await withStore(target, async () => {
      await assert.rejects(SqliteStore.restore(snap, target, { overwrite: true }), (e: unknown) => isStorageError(e, "Unavailable") && /running process/.test(e.message));
    });
    await SqliteStore.restore(snap, target, { overwrite: true });
    await withStore(target, async (r) => {
      assert.ok((await r.currentRevision()) >= 54);
    });
  }));

void test("a slow watcher is cut off while a fast one on the same store keeps every event", () =>
  withDir((dir) =>
    withStore(
      join(dir, "s.db"),
      async (s) => {
        const slow = await s.watch("/w/");
        const fast = await s.watch("/w/");
        const seen: number[] = [];
        const reader = (async () => {
          for await (const ev of fast) {
            seen.push(ev.revision);
            if (seen.length === 200) break;
          }
        })();
        await Promise.all(Array.from({ length: 200 }, (_, i) => s.create(`/w/${i}`, enc.encode("x"))));
        await reader;
        assert.deepEqual(seen, Array.from({ length: 200 }, (_, i) => i + 1));
        // The slow watcher still holds the whole first batch when the next write arrives.
        await s.create("/w/next", enc.encode("x"));
        await assert.rejects(slow[Symbol.asyncIterator]().next(), (e: unknown) => isStorageError(e, "Unavailable"));
      },
      { watchQueueLimit: 16 },
    ),
  ));

void test("writes accepted before close are committed; after close the store is Unavailable", () =>
  withDir(async (dir) => {
    const file = join(dir, "s.db");
    const s = await SqliteStore.open(file, compileStoreOptions());
    const pending = Array.from({ length: 10 }, (_, i) => s.create(`/z/${i}`, enc.encode("x")));
    await s.close();
    assert.equal((await Promise.all(pending)).length, 10);
    await assert.rejects(s.create("/z/late", enc.encode("x")), (e: unknown) => isStorageError(e, "Unavailable"));
    await withStore(file, async (r) => assert.equal((await r.count("/z/")).count, 10));
  }));

void test("a snapshot taken by a second opener of the file (the CLI beside a server) completes while the server writes", { timeout: 60_000 }, () =>
  withDir(async (dir) => {
    const file = join(dir, "live.db");
    const snap = join(dir, "snap.db");
    const target = join(dir, "restored.db");
    await withStore(file, async (server) => {
      // Enough pages that the copy takes several steps, so the server's writes land in between.
      await Promise.all(Array.from({ length: 3000 }, (_, i) => server.create(`/registry/seed/${i}`, enc.encode("s".repeat(2000)))));
      let writing = true;
      let written = 0;
      const writer = (async () => {
        for (let i = 0; writing; i++) {
          await server.create(`/registry/during/${i}`, enc.encode(String(i)));
          written++;
        }
      })();
      try {
        await withStore(file, (cli) => cli.snapshot(snap), { ttlSweepMs: 2 ** 31 - 1 });
      } finally {
        writing = false;
        await writer;
      }
      assert.ok(written > 0, "the server wrote while the snapshot ran");
      await SqliteStore.restore(snap, target);
      await withStore(target, async (r) => {
        const at = await r.currentRevision();
        assert.ok(at >= 3000);
        assert.deepEqual(await dump(r), await dump(server, at));
      });
    });
  }));
