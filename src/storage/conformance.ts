// The one conformance suite every storage backend passes (STYLE.md 7; kine runs one suite per
// backend the same way). A backend's test file calls runConformanceSuite with a factory; the
// suite registers node:test cases that speak only the Store interface, so the same test proves
// memory, SQLite and etcd keep the same contract.
//
// The cases never assume an empty store: each works under its own key prefix and reasons about
// revisions relative to what it wrote, so a backend may share one server (one etcd) between
// cases. Within a file the cases run one after another (node:test's default for describe).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { isStorageError, type StorageErrorCode } from "./errors.js";
import { MAX_KEY_BYTES, MAX_VALUE_BYTES, type KeyValue, type Store, type Watch, type WatchEvent } from "./interface.js";
import type { StoreOptionsInput } from "./options.js";

export interface ConformanceHarness {
  /** A freshly opened store. The suite closes it (and every store the hooks below return). */
  readonly store: Store;
  /** Opens the same data again after `store.close()`: persistent backends only. */
  readonly reopen?: () => Promise<Store>;
  /** Restores a file written by `store.snapshot()` into a new, empty store and opens it. */
  readonly restore?: (snapshotFile: string) => Promise<Store>;
  /** Opens another client of the same data while `store` stays open (e.g. a second etcd connection). */
  readonly connect?: () => Promise<Store>;
  /** Removes what the factory created (temp dirs, files); runs after the suite closed every store. */
  readonly cleanup: () => Promise<void>;
}

/** Opens a store with the given options merged over the backend's test defaults. */
export type ConformanceFactory = (options?: StoreOptionsInput) => Promise<ConformanceHarness>;

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (v: Uint8Array): string => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("utf8");

/** The comparable content of a KeyValue (Uint8Array vs Buffer must not make equal values differ). */
function plain(kv: KeyValue | undefined): { key: string; value: string; createRevision: number; modRevision: number; ttlSeconds: number } | undefined {
  if (kv === undefined) return undefined;
  return { key: kv.key, value: Buffer.from(kv.value.buffer, kv.value.byteOffset, kv.value.byteLength).toString("hex"), createRevision: kv.createRevision, modRevision: kv.modRevision, ttlSeconds: kv.ttlSeconds };
}

async function rejectsWith<T>(p: Promise<T>, code: StorageErrorCode, what: string): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    assert.ok(isStorageError(err, code), `${what}: expected StorageError ${code}, got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    return err;
  }
  return assert.fail(`${what}: expected StorageError ${code}, but it succeeded`);
}

/** Iterates a watch in the background so a case can wait for what it expects, with a deadline. */
class Collector {
  readonly events: WatchEvent[] = [];
  error: unknown = undefined;
  done = false;
  private wake: (() => void) | undefined;
  private readonly loop: Promise<void>;

  constructor(readonly watch: Watch) {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    try {
      for await (const ev of this.watch) {
        this.events.push(ev);
        this.wake?.();
      }
    } catch (err) {
      this.error = err;
    } finally {
      this.done = true;
      this.wake?.();
    }
  }

  /** Resolves once `pred(events)` holds; fails the test at the deadline or if the watch ends first. */
  async until(pred: (events: readonly WatchEvent[]) => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.events)) {
      if (this.done) assert.fail(`watch ended before ${what} (${this.events.length} events, error: ${describeError(this.error)})`);
      const left = deadline - Date.now();
      if (left <= 0) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what} (${this.events.length} events so far)`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** Waits for the watch to end by itself (error or close). */
  async ended(what: string, timeoutMs = 10_000): Promise<void> {
    await this.until(() => this.done, what, timeoutMs).catch((err: unknown) => {
      if (!this.done) throw err;
    });
    await this.loop;
  }

  async stop(): Promise<void> {
    this.watch.stop();
    await this.loop;
  }
}

function describeError(err: unknown): string {
  if (err === undefined) return "none";
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** What a case gets: the store, a private key prefix, and hooks that track what they open. */
interface Ctx {
  readonly store: Store;
  /** A key prefix no other case uses, ending in "/". */
  readonly p: string;
  readonly harness: ConformanceHarness;
  /** A path in a temp dir that is removed after the case. */
  tmpFile(name: string): string;
  /** Registers a store opened by a hook so it is closed after the case. */
  track(store: Store): Store;
  /** Closes a tracked store now (idempotent). */
  close(store: Store): Promise<void>;
  /** Registers something that must be stopped after the case (watch collectors). */
  defer(fn: () => Promise<void>): void;
}

async function withStore(t: TestContext, factory: ConformanceFactory, options: StoreOptionsInput, fn: (ctx: Ctx) => Promise<void>): Promise<void> {
  // Automatic compaction would race the cases that read old revisions; the compaction case turns it on.
  const harness = await factory({ compaction: { intervalMs: 0 }, ...options });
  const open = new Set<Store>([harness.store]);
  const closed = new Set<Store>();
  const deferred: Array<() => Promise<void>> = [];
  const dir = await mkdtemp(join(tmpdir(), "k8ts-conformance-"));
  const close = async (s: Store): Promise<void> => {
    if (closed.has(s)) return;
    closed.add(s);
    await s.close();
  };
  const slug = t.name.replace(/[^a-z0-9]+/gi, "-").slice(0, 40).toLowerCase();
  const ctx: Ctx = {
    store: harness.store,
    p: `/conformance/${slug}-${randomUUID().slice(0, 8)}/`,
    harness,
    tmpFile: (name) => join(dir, name),
    track: (s) => {
      open.add(s);
      return s;
    },
    close,
    defer: (f) => deferred.push(f),
  };
  try {
    await fn(ctx);
  } finally {
    const problems: unknown[] = [];
    for (const f of deferred.reverse()) await f().catch((e: unknown) => problems.push(e));
    for (const s of open) await close(s).catch((e: unknown) => problems.push(e));
    await harness.cleanup().catch((e: unknown) => problems.push(e));
    await rm(dir, { recursive: true, force: true });
    if (problems.length > 0) t.diagnostic(`cleanup problems: ${problems.map(describeError).join("; ")}`);
  }
}

async function startWatch(ctx: Ctx, store: Store, key: string, opts: { afterRevision?: number; prefix?: boolean } = {}): Promise<Collector> {
  const c = new Collector(await store.watch(key, opts));
  ctx.defer(() => c.stop());
  return c;
}

function revisionsOf(events: readonly WatchEvent[]): number[] {
  return events.map((e) => e.revision);
}


/**
 * A write loop on a synchronous backend resolves through microtasks only; yielding a macrotask
 * turn lets timers and I/O (a snapshot in progress, a test deadline) run between writes.
 */
async function yieldToEventLoop(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

/**
 * A revision to watch after that is not 0 (which means "from now"), written outside the case's
 * prefix so a fresh store has one too.
 */
async function baseRevision(store: Store, p: string): Promise<number> {
  return (await store.create(`${p.slice(0, -1)}.base`, enc("base"))).modRevision;
}

async function jitter(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 2));
}

const SLOW_WATCHER_LIMIT = 16;

/**
 * Fails unless watching fails with `code`: at the call, or on the first step of iteration
 * (the interface allows either).
 */
async function watchFailsWith(store: Store, key: string, afterRevision: number, code: StorageErrorCode, what: string): Promise<void> {
  let w: Watch;
  try {
    w = await store.watch(key, { afterRevision });
  } catch (err) {
    assert.ok(isStorageError(err, code), `${what}: expected StorageError ${code}, got ${describeError(err)}`);
    return;
  }
  const c = new Collector(w);
  try {
    await c.ended(what, 5_000);
  } finally {
    await c.stop();
  }
  assert.ok(isStorageError(c.error, code), `${what}: expected StorageError ${code}, got ${describeError(c.error)} after ${c.events.length} events`);
}

/**
 * Registers the suite under `describe(name …)`. Call it at the top level of a test file; the
 * factory is called once per case (with that case's options) and must hand back a fresh store.
 * describe/it return promises that node:test itself awaits, hence the `void`s.
 */
export function runConformanceSuite(name: string, factory: ConformanceFactory): void {
  const test = (title: string, fn: (ctx: Ctx, t: TestContext) => Promise<void>, options: StoreOptionsInput = {}, timeout = 30_000): void => {
    void it(title, { timeout }, (t) => withStore(t, factory, options, (ctx) => fn(ctx, t)));
  };

  void describe(`${name} storage conformance`, () => {
    void describe("create, get, update, delete", () => {
      test("round-trip keeps createRevision and advances modRevision", async ({ store, p }) => {
        const key = `${p}a`;
        const created = await store.create(key, enc("v1"));
        assert.equal(created.key, key);
        assert.equal(dec(created.value), "v1");
        assert.equal(created.createRevision, created.modRevision);
        assert.equal(created.ttlSeconds, 0);

        const got = await store.get(key);
        assert.deepEqual(plain(got.kv), plain(created));
        assert.ok(got.revision >= created.modRevision, "a read is served at or after the write it sees");

        const updated = await store.update(key, enc("v2"), created.modRevision);
        assert.equal(dec(updated.value), "v2");
        assert.equal(updated.createRevision, created.createRevision);
        assert.ok(updated.modRevision > created.modRevision);
        assert.deepEqual(plain((await store.get(key)).kv), plain(updated));

        const deleted = await store.delete(key, updated.modRevision);
        assert.ok(deleted.revision > updated.modRevision);
        assert.deepEqual(plain(deleted.prevKv), plain(updated));
        const after = await store.get(key);
        assert.equal(after.kv, undefined);
        assert.ok(after.revision >= deleted.revision);
      });

      test("create of an existing key is AlreadyExists and changes nothing", async ({ store, p }) => {
        const key = `${p}dup`;
        const first = await store.create(key, enc("first"));
        const rev = await store.currentRevision();
        await rejectsWith(store.create(key, enc("second")), "AlreadyExists", "second create");
        assert.deepEqual(plain((await store.get(key)).kv), plain(first));
        assert.equal(await store.currentRevision(), rev, "a failed write does not consume a revision");
      });

      test("update and delete are compare-and-swap; Conflict carries the stored value", async ({ store, p }) => {
        const key = `${p}cas`;
        const v1 = await store.create(key, enc("1"));
        const v2 = await store.update(key, enc("2"), v1.modRevision);

        const upd = await rejectsWith(store.update(key, enc("stale"), v1.modRevision), "Conflict", "update with a stale revision");
        assert.ok(isStorageError(upd));
        assert.deepEqual(plain(upd.details.current), plain(v2), "Conflict on update carries the current value");

        const del = await rejectsWith(store.delete(key, v1.modRevision), "Conflict", "delete with a stale revision");
        assert.ok(isStorageError(del));
        assert.deepEqual(plain(del.details.current), plain(v2), "Conflict on delete carries the current value");
        assert.equal(dec((await store.get(key)).kv?.value ?? enc("")), "2", "failed CAS writes change nothing");

        const unconditional = await store.delete(key);
        assert.deepEqual(plain(unconditional.prevKv), plain(v2), "delete without a revision deletes whatever is stored");
      });

      test("update or delete of a missing key is NotFound; a deleted key can be created again", async ({ store, p }) => {
        const key = `${p}gone`;
        await rejectsWith(store.update(key, enc("x"), 1), "NotFound", "update of a missing key");
        await rejectsWith(store.delete(key), "NotFound", "delete of a missing key");
        await rejectsWith(store.delete(key, 1), "NotFound", "conditional delete of a missing key");
        const a = await store.create(key, enc("a"));
        await store.delete(key);
        await rejectsWith(store.delete(key), "NotFound", "second delete");
        const b = await store.create(key, enc("b"));
        assert.ok(b.createRevision > a.createRevision, "a recreated key has a new createRevision");
        assert.equal(b.createRevision, b.modRevision);
      });

      test("every write advances one global revision by exactly one", async ({ store, p }) => {
        const start = await store.currentRevision();
        const a = await store.create(`${p}a`, enc("a"));
        const b = await store.create(`${p}b`, enc("b"));
        const a2 = await store.update(`${p}a`, enc("a2"), a.modRevision);
        const del = await store.delete(`${p}b`);
        assert.deepEqual([a.modRevision, b.modRevision, a2.modRevision, del.revision], [start + 1, start + 2, start + 3, start + 4]);
        assert.equal(await store.currentRevision(), start + 4);
        assert.equal((await store.get(`${p}a`)).revision, start + 4);
        assert.equal((await store.list(p)).revision, start + 4);
        assert.equal((await store.count(p)).revision, start + 4);
      });

      test("values near the limits: over MAX_VALUE_BYTES or MAX_KEY_BYTES is Invalid, 1 MiB round-trips", async ({ store, p }) => {
        const key = `${p}big`;
        const rev = await store.currentRevision();
        await rejectsWith(store.create(key, new Uint8Array(MAX_VALUE_BYTES + 1)), "Invalid", "create with an oversized value");
        assert.equal((await store.get(key)).kv, undefined);
        const mib = new Uint8Array(1024 * 1024).map((_, i) => i % 251);
        const kv = await store.create(key, mib);
        await rejectsWith(store.update(key, new Uint8Array(MAX_VALUE_BYTES + 1), kv.modRevision), "Invalid", "update with an oversized value");
        const got = (await store.get(key)).kv;
        assert.ok(got !== undefined);
        assert.ok(Buffer.from(got.value).equals(Buffer.from(mib)), "a 1 MiB value comes back byte for byte");
        await rejectsWith(store.create(p + "k".repeat(MAX_KEY_BYTES + 1), enc("x")), "Invalid", "create with an oversized key");
        assert.equal(await store.currentRevision(), rev + 1, "rejected writes do not consume revisions");
      });
    });

    void describe("revisions and reads", () => {
      test("get and list at an older revision see the store as it was", async ({ store, p }) => {
        const a1 = await store.create(`${p}a`, enc("a1"));
        const b1 = await store.create(`${p}b`, enc("b1"));
        const r1 = b1.modRevision;
        const a2 = await store.update(`${p}a`, enc("a2"), a1.modRevision);
        const delB = await store.delete(`${p}b`);
        await store.create(`${p}c`, enc("c1"));

        assert.equal(dec((await store.get(`${p}a`, { revision: r1 })).kv?.value ?? enc("")), "a1");
        assert.deepEqual(plain((await store.get(`${p}a`, { revision: r1 })).kv), plain(a1));
        assert.deepEqual(plain((await store.get(`${p}a`, { revision: a2.modRevision })).kv), plain(a2));
        assert.deepEqual(plain((await store.get(`${p}b`, { revision: delB.revision - 1 })).kv), plain(b1));
        assert.equal((await store.get(`${p}b`, { revision: delB.revision })).kv, undefined, "deleted at that revision");
        assert.equal((await store.get(`${p}c`, { revision: r1 })).kv, undefined, "not yet created at that revision");
        assert.equal((await store.get(`${p}a`, { revision: r1 })).revision, r1);

        const old = await store.list(p, { revision: r1 });
        assert.equal(old.revision, r1);
        assert.deepEqual(old.kvs.map(plain), [plain(a1), plain(b1)]);
        const now = await store.list(p);
        assert.deepEqual(now.kvs.map((kv) => `${kv.key.slice(p.length)}=${dec(kv.value)}`), ["a=a2", "c=c1"]);
      });

      test("list returns the keys under the prefix in byte order, not its siblings", async ({ store, p }) => {
        // Byte order of UTF-8 differs from JavaScript's UTF-16 order for astral characters, and
        // '-' (0x2d) sorts before '/' (0x2f): both trip a backend that sorts strings naively.
        const inside = ["a/b/x", "a/b/y/z", "a/b/\u{1F600}", "a/b/\uFFFD", "a/b/B", "a/b/a", "a/b/a-b", "a/b/a/b"];
        const outside = ["a/bc", "a/b", "a/a", "a/c/x", "a/bb/x"];
        for (const k of [...outside, ...inside]) await store.create(p + k, enc(k));
        const want = inside.map((k) => p + k).sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
        const list = await store.list(`${p}a/b/`);
        assert.deepEqual(list.kvs.map((kv) => kv.key), want);
        assert.equal(list.continue, undefined);
        assert.deepEqual(list.kvs.map((kv) => dec(kv.value)), want.map((k) => k.slice(p.length)));
        // The prefix is a plain byte prefix: without the slash, siblings that share it match.
        const raw = await store.list(`${p}a/b`);
        assert.deepEqual(raw.kvs.map((kv) => kv.key.slice(p.length)).sort(), [...inside, "a/b", "a/bb/x", "a/bc"].sort());
        assert.deepEqual((await store.list(`${p}zzz/`)).kvs, []);
      });

      test("count by prefix counts live keys only", async ({ store, p }) => {
        for (let i = 0; i < 12; i++) await store.create(`${p}items/${String(i).padStart(2, "0")}`, enc(String(i)));
        await store.create(`${p}itemsx`, enc("sibling"));
        await store.delete(`${p}items/03`);
        const c = await store.count(`${p}items/`);
        assert.equal(c.count, 11);
        assert.equal(c.revision, await store.currentRevision());
        assert.equal((await store.count(`${p}none/`)).count, 0);
      });
    });

    void describe("pagination", () => {
      test("limit and continue walk the prefix; remainingItemCount counts what follows", async ({ store, p }) => {
        for (let i = 0; i < 10; i++) await store.create(`${p}k${i}`, enc(String(i)));
        const all = await store.list(p);
        assert.equal(all.kvs.length, 10);

        const first = await store.list(p, { limit: 3 });
        assert.equal(first.kvs.length, 3);
        assert.ok(first.continue !== undefined, "a page with more after it has a continue token");
        assert.equal(first.remainingItemCount, 7);
        const seen = [...first.kvs];
        let token: string | undefined = first.continue;
        while (token !== undefined) {
          const page = await store.list(p, { limit: 3, continue: token });
          assert.equal(page.revision, first.revision, "every page is read at the first page's revision");
          seen.push(...page.kvs);
          if (page.continue !== undefined) assert.equal(page.remainingItemCount, 10 - seen.length);
          token = page.continue;
        }
        assert.deepEqual(seen.map(plain), all.kvs.map(plain));

        const half = await store.list(p, { limit: 5 });
        const rest = await store.list(p, { limit: 5, continue: half.continue });
        assert.equal(rest.kvs.length, 5);
        assert.equal(rest.continue, undefined, "a page that reaches exactly the end has no continue token");
        const exact = await store.list(p, { limit: 10 });
        assert.equal(exact.continue, undefined);
        assert.equal(exact.kvs.length, 10);
      });

      test("pages stay at one revision while other clients write", async (ctx) => {
        const { store, p } = ctx;
        const writer = ctx.harness.connect ? ctx.track(await ctx.harness.connect()) : store;
        const keys = Array.from({ length: 30 }, (_, i) => `${p}k${String(i).padStart(2, "0")}`);
        for (const k of keys) await store.create(k, enc("orig"));
        const before = await store.list(p);

        const first = await store.list(p, { limit: 7 });
        assert.equal(first.remainingItemCount, 23);
        let stop = false;
        let written = 0;
        // A concurrent writer churns every key (including ones on pages not read yet) and adds
        // keys between existing ones, while the reader pages through.
        const churn = (async () => {
          let i = 0;
          while (!stop) {
            const k = keys[i % keys.length] ?? "";
            const cur = (await writer.get(k)).kv;
            if (cur) {
              // The reader's deterministic deletes race this update: losing that race is expected.
              await writer.update(k, enc(`w${i}`), cur.modRevision).catch((err: unknown) => {
                if (!isStorageError(err, "Conflict") && !isStorageError(err, "NotFound")) throw err;
              });
            }
            await writer.create(`${k}-new${i}`, enc("new"));
            written++;
            i++;
            await yieldToEventLoop();
          }
        })();
        try {
          const seen = [...first.kvs];
          let token = first.continue;
          let pages = 1;
          while (token !== undefined) {
            // Writes land between pages, deterministically, on top of the concurrent churn.
            const victim = keys[7 * pages + 1];
            if (victim !== undefined) await writer.delete(victim);
            const page = await store.list(p, { limit: 7, continue: token });
            assert.equal(page.revision, first.revision);
            seen.push(...page.kvs);
            token = page.continue;
            pages++;
          }
          assert.deepEqual(seen.map(plain), before.kvs.map(plain), "the pages together are the list at the first page's revision");
        } finally {
          stop = true;
          await churn;
        }
        assert.ok(written > 0, "the writer ran while paging");
        assert.ok((await store.currentRevision()) > first.revision);
      });

      test("a malformed continue token is Invalid", async ({ store, p }) => {
        await store.create(`${p}a`, enc("a"));
        await rejectsWith(store.list(p, { limit: 1, continue: "not-a-token" }), "Invalid", "garbage continue token");
      });
    });

    void describe("compaction", () => {
      test("old revisions are Compacted for get, list and watch; latest values stay readable", async ({ store, p }) => {
        const keep = await store.create(`${p}keep`, enc("unchanged since before compaction"));
        const a1 = await store.create(`${p}a`, enc("1"));
        const a2 = await store.update(`${p}a`, enc("2"), a1.modRevision);
        const gone = await store.create(`${p}gone`, enc("x"));
        await store.delete(`${p}gone`);
        const target = await store.currentRevision();
        const older = a2.modRevision;

        await store.compact(target);
        assert.ok((await store.compactedRevision()) >= target, "compactedRevision reports the compaction");

        const g = await rejectsWith(store.get(`${p}a`, { revision: older }), "Compacted", "get below the compacted revision");
        assert.ok(isStorageError(g) && (g.details.compactRevision ?? 0) >= target, "Compacted says how far history was discarded");
        await rejectsWith(store.list(p, { revision: older }), "Compacted", "list below the compacted revision");
        await watchFailsWith(store, p, gone.modRevision - 1, "Compacted", "watch from below the compacted revision");

        assert.deepEqual(plain((await store.get(`${p}keep`)).kv), plain(keep), "a key untouched since long before compaction is intact");
        assert.deepEqual(plain((await store.get(`${p}a`)).kv), plain(a2));
        assert.equal((await store.get(`${p}gone`)).kv, undefined, "a key deleted before compaction stays deleted");
        assert.deepEqual((await store.list(p)).kvs.map((kv) => kv.key), [`${p}a`, `${p}keep`]);

        // Watching from exactly the compacted revision asks only for what comes after it.
        const w = await store.watch(p, { afterRevision: target });
        const c = new Collector(w);
        try {
          const a3 = await store.update(`${p}a`, enc("3"), a2.modRevision);
          await c.until((e) => e.length >= 1, "the first change after compaction");
          assert.equal(c.events[0]?.revision, a3.modRevision);
        } finally {
          await c.stop();
        }
        const next = await store.create(`${p}after`, enc("y"));
        assert.ok(next.modRevision > target, "the revision counter continues past compaction");
      });

      test("compact() without a revision compacts to the current revision", async ({ store, p }) => {
        const a = await store.create(`${p}a`, enc("1"));
        await store.update(`${p}a`, enc("2"), a.modRevision);
        const rev = await store.currentRevision();
        await store.compact();
        assert.equal(await store.compactedRevision(), rev);
        await rejectsWith(store.get(`${p}a`, { revision: a.modRevision }), "Compacted", "get below the compacted revision");
        assert.equal(dec((await store.get(`${p}a`)).kv?.value ?? enc("")), "2");
      });

      test("a continue token from before compaction is Expired", async ({ store, p }) => {
        for (let i = 0; i < 6; i++) await store.create(`${p}k${i}`, enc(String(i)));
        const page = await store.list(p, { limit: 2 });
        assert.ok(page.continue !== undefined);
        await store.update(`${p}k5`, enc("changed"), (await store.get(`${p}k5`)).kv?.modRevision ?? 0);
        await store.compact(await store.currentRevision());
        await rejectsWith(store.list(p, { limit: 2, continue: page.continue }), "Expired", "continue after compaction");
        const fresh = await store.list(p, { limit: 2 });
        assert.equal(fresh.kvs.length, 2, "a fresh list works after compaction");
      });

      test("automatic compaction keeps at least the configured number of revisions", async ({ store, p }) => {
        const first = await store.create(`${p}counter`, enc("0"));
        let mod = first.modRevision;
        for (let i = 1; i <= 40; i++) mod = (await store.update(`${p}counter`, enc(String(i)), mod)).modRevision;
        const deadline = Date.now() + 10_000;
        let compactedTo = await store.compactedRevision();
        while (compactedTo < first.modRevision) {
          assert.ok(Date.now() < deadline, `automatic compaction did not run within 10 s (compacted revision ${compactedTo})`);
          // No event announces a compaction; poll its revision, briefly.
          await new Promise((resolve) => setTimeout(resolve, 50));
          compactedTo = await store.compactedRevision();
        }
        assert.ok(compactedTo <= mod - 10, `compacted to ${compactedTo}, which keeps fewer than 10 of the revisions up to ${mod}`);
        const keptOld = await store.get(`${p}counter`, { revision: mod - 9 });
        assert.equal(dec(keptOld.kv?.value ?? enc("")), "31", "the last 10 revisions stay readable");
        assert.equal(dec((await store.get(`${p}counter`)).kv?.value ?? enc("")), "40");
      }, { compaction: { minRevisions: 10, minAgeMs: 0, intervalMs: 100 } });
    });

    void describe("watch", () => {
      test("a key watch sees create, update and delete with the previous value, and nothing else", async (ctx) => {
        const { store, p } = ctx;
        const key = `${p}k`;
        const c = await startWatch(ctx, store, key, { prefix: false });
        const created = await store.create(key, enc("v1"));
        await store.create(`${key}2`, enc("a key that merely shares the prefix"));
        const updated = await store.update(key, enc("v2"), created.modRevision);
        const deleted = await store.delete(key);
        await c.until((e) => e.length >= 3, "three events on the key");
        const [e1, e2, e3] = c.events;
        assert.ok(e1 && e2 && e3);
        assert.equal(e1.type, "create");
        assert.equal(e1.revision, created.modRevision);
        assert.deepEqual(plain(e1.kv), plain(created));
        assert.equal(e1.prevKv, undefined);
        assert.equal(e2.type, "update");
        assert.deepEqual(plain(e2.kv), plain(updated));
        assert.deepEqual(plain(e2.prevKv), plain(created));
        assert.equal(e3.type, "delete");
        assert.equal(e3.revision, deleted.revision);
        assert.equal(e3.kv.key, key);
        assert.equal(e3.kv.modRevision, deleted.revision);
        assert.equal(e3.kv.createRevision, created.createRevision);
        assert.equal(dec(e3.kv.value), "v2", "a delete event's kv holds the value the key had");
        assert.deepEqual(plain(e3.prevKv), plain(updated));
        // A sentinel write on the key proves nothing else was queued before it.
        const again = await store.create(key, enc("v3"));
        await c.until((e) => e.some((ev) => ev.revision === again.modRevision), "the sentinel");
        assert.deepEqual(revisionsOf(c.events), [created.modRevision, updated.modRevision, deleted.revision, again.modRevision]);
      });

      test("a prefix watch sees every key under the prefix and no sibling", async (ctx) => {
        const { store, p } = ctx;
        const c = await startWatch(ctx, store, `${p}dir/`);
        const writes: number[] = [];
        const x = await store.create(`${p}dir/x`, enc("x"));
        writes.push(x.modRevision);
        await store.create(`${p}dirx`, enc("sibling"));
        await store.create(`${p}di`, enc("shorter"));
        writes.push((await store.create(`${p}dir/sub/y`, enc("y"))).modRevision);
        writes.push((await store.update(`${p}dir/x`, enc("x2"), x.modRevision)).modRevision);
        writes.push((await store.delete(`${p}dir/sub/y`)).revision);
        await c.until((e) => e.length >= writes.length, "four events under the prefix");
        const sentinel = await store.create(`${p}dir/zz`, enc("end"));
        await c.until((e) => e.some((ev) => ev.revision === sentinel.modRevision), "the sentinel");
        assert.deepEqual(revisionsOf(c.events), [...writes, sentinel.modRevision]);
        assert.deepEqual(c.events.map((e) => e.type), ["create", "create", "update", "delete", "create"]);
        assert.equal(dec(c.events[3]?.prevKv?.value ?? enc("")), "y");
      });

      test("a watch from an older revision replays history, then continues live", async (ctx) => {
        const { store, p } = ctx;
        const start = await baseRevision(store, p);
        const a = await store.create(`${p}a`, enc("1"));
        const a2 = await store.update(`${p}a`, enc("2"), a.modRevision);
        const b = await store.create(`${p}b`, enc("b"));
        const del = await store.delete(`${p}a`);
        const c = await startWatch(ctx, store, p, { afterRevision: start });
        await c.until((e) => e.length >= 4, "the replayed history");
        assert.deepEqual(revisionsOf(c.events), [a.modRevision, a2.modRevision, b.modRevision, del.revision]);
        assert.deepEqual(c.events.map((e) => e.type), ["create", "update", "create", "delete"]);
        assert.equal(dec(c.events[1]?.prevKv?.value ?? enc("")), "1", "replayed updates carry the previous value");
        assert.equal(dec(c.events[3]?.prevKv?.value ?? enc("")), "2", "replayed deletes carry the previous value");
        const live = await store.create(`${p}c`, enc("c"));
        await c.until((e) => e.length >= 5, "the live event after the replay");
        assert.deepEqual(revisionsOf(c.events).slice(4), [live.modRevision]);

        const mid = await startWatch(ctx, store, p, { afterRevision: a2.modRevision });
        await mid.until((e) => e.length >= 3, "history after a mid revision");
        assert.deepEqual(revisionsOf(mid.events), [b.modRevision, del.revision, live.modRevision]);
      });

      test("a watch without a revision starts after the current one; stop() ends it", async (ctx) => {
        const { store, p } = ctx;
        await store.create(`${p}before`, enc("x"));
        const w = await store.watch(p);
        const c = new Collector(w);
        try {
          const after = await store.create(`${p}after`, enc("y"));
          await c.until((e) => e.length >= 1, "the first live event");
          assert.deepEqual(revisionsOf(c.events), [after.modRevision]);
        } finally {
          w.stop();
        }
        await c.ended("the watch to end after stop()");
        assert.equal(c.error, undefined, "stop() ends iteration without an error");
      });

      test("closing the store ends its watches", async (ctx) => {
        const { store, p } = ctx;
        const c = new Collector(await store.watch(p));
        await ctx.close(store);
        await c.ended("the watch to end after close()");
      });
    });

    void describe("concurrency", () => {
      test("concurrent compare-and-swap writers lose no update", async (ctx) => {
        const { store, p } = ctx;
        const clients = 20;
        const increments = 10;
        const stores = [store];
        if (ctx.harness.connect) for (let i = 0; i < 3; i++) stores.push(ctx.track(await ctx.harness.connect()));
        const key = `${p}counter`;
        await store.create(key, enc("0"));
        const won: number[] = [];
        let conflicts = 0;
        await Promise.all(
          Array.from({ length: clients }, async (_, client) => {
            const s = stores[client % stores.length] ?? store;
            let cur = (await s.get(key)).kv;
            for (let i = 0; i < increments; i++) {
              for (;;) {
                assert.ok(cur !== undefined, "the counter exists");
                try {
                  cur = await s.update(key, enc(String(Number(dec(cur.value)) + 1)), cur.modRevision);
                  won.push(cur.modRevision);
                  break;
                } catch (err) {
                  if (!isStorageError(err, "Conflict")) throw err;
                  conflicts++;
                  assert.ok(err.details.current !== undefined, "Conflict carries the current value");
                  cur = err.details.current;
                  await jitter();
                }
              }
            }
          }),
        );
        assert.equal(dec((await store.get(key)).kv?.value ?? enc("")), String(clients * increments), "final value equals the number of successful increments");
        assert.equal(new Set(won).size, won.length, "no two writers won the same revision");
        // Every client read the counter before the first increment, so collisions are certain.
        assert.ok(conflicts > 0, "the writers collided, so compare-and-swap was exercised");
      }, {}, 60_000);

      test("a prefix watcher under concurrent writers sees exactly the write revisions, in order", async (ctx) => {
        const { store, p } = ctx;
        const writers = [store];
        if (ctx.harness.connect) for (let i = 0; i < 3; i++) writers.push(ctx.track(await ctx.harness.connect()));
        const watcherStore = ctx.harness.connect ? ctx.track(await ctx.harness.connect()) : store;
        const start = await baseRevision(store, p);
        const live = await startWatch(ctx, watcherStore, p, { afterRevision: start });
        const clients = 10;
        const perClient = 20;
        const expected = new Map<number, { type: string; key: string }>();
        await Promise.all(
          Array.from({ length: clients }, async (_, client) => {
            const s = writers[client % writers.length] ?? store;
            const key = `${p}c${client}`;
            let kv = await s.create(key, enc("0"));
            expected.set(kv.modRevision, { type: "create", key });
            for (let i = 1; i < perClient - 1; i++) {
              kv = await s.update(key, enc(String(i)), kv.modRevision);
              expected.set(kv.modRevision, { type: "update", key });
            }
            const del = await s.delete(key, kv.modRevision);
            expected.set(del.revision, { type: "delete", key });
          }),
        );
        assert.equal(expected.size, clients * perClient, "every write got its own revision");
        const sentinel = await store.create(`${p}sentinel`, enc("end"));
        await live.until((e) => e.some((ev) => ev.revision === sentinel.modRevision), "every write and the sentinel", 20_000);
        const want = [...expected.keys()].sort((a, b) => a - b);
        const got = live.events.filter((e) => e.revision !== sentinel.modRevision);
        assert.deepEqual(revisionsOf(got), want, "the watcher saw exactly the write revisions, in order, once each");
        for (const e of got) {
          const w = expected.get(e.revision);
          assert.equal(e.type, w?.type, `event type at revision ${e.revision}`);
          assert.equal(e.kv.key, w?.key, `event key at revision ${e.revision}`);
        }
        // Replaying the same range afterwards gives the same sequence.
        const replay = await startWatch(ctx, store, p, { afterRevision: start });
        await replay.until((e) => e.some((ev) => ev.revision === sentinel.modRevision), "the replay to reach the sentinel", 20_000);
        assert.deepEqual(revisionsOf(replay.events), revisionsOf(live.events));
      }, {}, 60_000);

      test("a slow watcher is cut off with Unavailable while a fast one sees every event", async (ctx) => {
        const { store, p } = ctx;
        const writes = 200;
        const fast = await startWatch(ctx, store, p);
        const slowWatch = await store.watch(p);
        ctx.defer(async () => slowWatch.stop());
        const revs: number[] = [];
        for (let i = 0; i < writes; i++) {
          revs.push((await store.create(`${p}k${String(i).padStart(3, "0")}`, enc(String(i)))).modRevision);
          // Keep the fast watcher well inside its queue limit, whatever the backend's batching.
          if (i % 4 === 3) await fast.until((e) => e.length >= i + 1, `the fast watcher to see write ${i}`);
        }
        await fast.until((e) => e.length >= writes, "the fast watcher to see every write");
        assert.deepEqual(revisionsOf(fast.events), revs);

        // Only now does anyone read the slow watcher: it must fail rather than hold 200 events.
        const slow = new Collector(slowWatch);
        ctx.defer(() => slow.stop());
        await slow.ended("the slow watcher to be cut off");
        assert.ok(isStorageError(slow.error, "Unavailable"), `the slow watcher fails with Unavailable (got ${describeError(slow.error)} after ${slow.events.length} events)`);
        assert.ok(slow.events.length < writes, "the slow watcher was cut off before it could hold every event");
        assert.deepEqual(revisionsOf(slow.events), revs.slice(0, slow.events.length), "what the slow watcher got before the cut is an in-order prefix");

        const more = await store.create(`${p}after`, enc("x"));
        await fast.until((e) => e.some((ev) => ev.revision === more.modRevision), "the fast watcher to keep going after the cut");
      }, { watchQueueLimit: SLOW_WATCHER_LIMIT }, 60_000);
    });

    void describe("TTL", () => {
      test("a key with ttlSeconds disappears and its watcher sees delete", async (ctx) => {
        const { store, p } = ctx;
        const key = `${p}lease`;
        const c = await startWatch(ctx, store, key, { prefix: false });
        const kv = await store.create(key, enc("expiring"), { ttlSeconds: 1 });
        assert.equal(kv.ttlSeconds, 1);
        const forever = await store.create(`${p}forever`, enc("stays"));
        assert.equal(dec((await store.get(key)).kv?.value ?? enc("")), "expiring", "readable before it expires");
        await c.until((e) => e.some((ev) => ev.type === "delete"), "the expiry delete", 15_000);
        const del = c.events.find((ev) => ev.type === "delete");
        assert.ok(del !== undefined);
        assert.equal(del.kv.key, key);
        assert.deepEqual(plain(del.prevKv), plain(kv));
        assert.ok(del.revision > kv.modRevision);
        assert.equal((await store.get(key)).kv, undefined, "gone after expiry");
        assert.deepEqual(plain((await store.get(`${p}forever`)).kv), plain(forever), "keys without TTL stay");
        assert.ok((await store.currentRevision()) >= del.revision, "the expiry is a write with its own revision");
      }, { ttlSweepMs: 100 });

      test("updating a key with a new TTL keeps it alive past the first deadline", async (ctx) => {
        const { store, p } = ctx;
        const key = `${p}renewed`;
        const c = await startWatch(ctx, store, key, { prefix: false });
        const t0 = Date.now();
        const kv = await store.create(key, enc("a"), { ttlSeconds: 1 });
        const renewed = await store.update(key, enc("b"), kv.modRevision, { ttlSeconds: 3 });
        assert.equal(renewed.ttlSeconds, 3);
        await c.until((e) => e.some((ev) => ev.type === "delete"), "the expiry of the renewed key", 20_000);
        // 2.5 s rather than 3: the first TTL (1 s, or etcd's 2 s minimum lease) must not be the one that fired.
        assert.ok(Date.now() - t0 >= 2500, `expired after ${Date.now() - t0} ms, before its renewed TTL of 3 s`);
      }, { ttlSweepMs: 100 });
    });

    void describe("persistence", () => {
      test("close and reopen keeps every key at the same revisions; the counter continues", async (ctx, t) => {
        const { harness, p } = ctx;
        if (!harness.reopen) {
          t.skip(`${name} is not persistent`);
          return;
        }
        const store = harness.store;
        const a = await store.create(`${p}a`, enc("a1"));
        const a2 = await store.update(`${p}a`, enc("a2"), a.modRevision);
        await store.create(`${p}b`, enc("b"));
        await store.create(`${p}c`, enc("c"));
        await store.delete(`${p}b`);
        await store.compact(a2.modRevision);
        const del = await store.delete(`${p}c`);
        const before = await store.list("/");
        const rev = await store.currentRevision();
        assert.equal(rev, del.revision, "a delete is the latest revision");
        await ctx.close(store);

        const again = ctx.track(await harness.reopen());
        assert.equal(await again.currentRevision(), rev, "the revision survives a restart, even when the last write was a delete");
        assert.ok((await again.compactedRevision()) >= a2.modRevision, "the compacted revision survives a restart");
        const after = await again.list("/");
        assert.deepEqual(after.kvs.map(plain), before.kvs.map(plain));
        assert.equal(dec((await again.get(`${p}c`, { revision: del.revision - 1 })).kv?.value ?? enc("")), "c", "history after the compacted revision survives");
        const next = await again.create(`${p}d`, enc("d"));
        assert.equal(next.modRevision, rev + 1, "the counter continues where it stopped");
      });

      test("a snapshot taken while writing restores into a fresh store with every key and revision", async (ctx, t) => {
        const { harness, store, p } = ctx;
        if (!harness.restore) {
          t.skip(`${name} has no restore`);
          return;
        }
        for (let i = 0; i < 50; i++) await store.create(`${p}k${String(i).padStart(2, "0")}`, enc(`value ${i}`));
        for (let i = 0; i < 50; i += 5) await store.delete(`${p}k${String(i).padStart(2, "0")}`);
        const atStart = await store.currentRevision();
        const file = ctx.tmpFile("snapshot.db");
        let stop = false;
        const writer = (async () => {
          let i = 0;
          while (!stop) {
            await store.create(`${p}during/${i++}`, enc("during"));
            await yieldToEventLoop();
          }
        })();
        try {
          await store.snapshot(file);
        } finally {
          stop = true;
          await writer;
        }
        await store.create(`${p}after-snapshot`, enc("not in the snapshot"));

        const restored = ctx.track(await harness.restore(file));
        const rev = await restored.currentRevision();
        assert.ok(rev >= atStart, `the snapshot holds at least what was written before it began (restored revision ${rev} < ${atStart})`);
        const want = await store.list("/", { revision: rev });
        const got = await restored.list("/");
        assert.equal(got.kvs.length, want.kvs.length, "same number of keys");
        assert.deepEqual(got.kvs.map(plain), want.kvs.map(plain), "the restored store equals the original at the snapshot's revision");
        assert.equal((await restored.get(`${p}after-snapshot`)).kv, undefined);
        const next = await restored.create(`${p}new`, enc("x"));
        assert.equal(next.modRevision, rev + 1, "the restored store continues the revision counter");
      }, {}, 60_000);
    });
  });
}
