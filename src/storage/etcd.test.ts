// etcd-specific behaviour on a real etcd (the shared contract is in etcd.conformance.test.ts):
// TLS with client certificates, clear errors for an unreachable or silent endpoint, snapshot
// and restore through etcdctl, leases seen by other clients, compaction done by another
// client, history replay from etcd beyond the hub's memory, the store's watch surviving an
// etcd restart, key prefixes that keep stores apart, and compaction right behind a store's
// own writes while its watch is still catching up.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { freePort, startEtcd, type RunningEtcd } from "../testing/etcd.js";
import { isStorageError, type StorageErrorCode } from "./errors.js";
import { EtcdStore, type EtcdConnectOptions } from "./etcd.js";
import type { KeyValue, Watch, WatchEvent } from "./interface.js";
import { compileStoreOptions, type StoreOptionsInput } from "./options.js";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (v: Uint8Array | undefined): string => (v === undefined ? "<none>" : Buffer.from(v).toString("utf8"));
const plain = (kv: KeyValue | undefined): unknown =>
  kv && { key: kv.key, value: dec(kv.value), createRevision: kv.createRevision, modRevision: kv.modRevision, ttlSeconds: kv.ttlSeconds };

async function rejectsWith(p: Promise<unknown>, code: StorageErrorCode, what: string): Promise<Error> {
  try {
    await p;
  } catch (err) {
    assert.ok(isStorageError(err, code), `${what}: expected StorageError ${code}, got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    return err;
  }
  return assert.fail(`${what}: expected StorageError ${code}, but it succeeded`);
}

/** Reads a watch in the background; `until` waits for a condition with a deadline. */
class Collector {
  readonly events: WatchEvent[] = [];
  error: unknown;
  done = false;
  readonly #loop: Promise<void>;
  #wake: (() => void) | undefined;
  constructor(readonly watch: Watch) {
    this.#loop = (async () => {
      try {
        for await (const ev of watch) {
          this.events.push(ev);
          this.#wake?.();
        }
      } catch (err) {
        this.error = err;
      } finally {
        this.done = true;
        this.#wake?.();
      }
    })();
  }
  async until(pred: (events: readonly WatchEvent[]) => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.events)) {
      if (this.done) assert.fail(`watch ended before ${what}: ${String(this.error)}`);
      const left = deadline - Date.now();
      if (left <= 0) assert.fail(`timed out waiting for ${what} (${this.events.length} events)`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }
  async stop(): Promise<void> {
    this.watch.stop();
    await this.#loop;
  }
}

/** Opens a store that is closed when the test ends, pass or fail. */
async function openStore(t: TestContext, endpoints: string[], input: StoreOptionsInput = {}, connect: EtcdConnectOptions = {}): Promise<EtcdStore> {
  const store = await EtcdStore.open(endpoints, compileStoreOptions({ compaction: { intervalMs: 0 }, ...input }), connect);
  t.after(() => store.close());
  return store;
}

function watchOn(t: TestContext, w: Watch): Collector {
  const c = new Collector(w);
  t.after(() => c.stop());
  return c;
}

let shared: RunningEtcd | undefined;
let prefixCounter = 0;
const server = (): RunningEtcd => {
  assert.ok(shared, "the shared etcd did not start");
  return shared;
};
/** A key prefix of its own for each case on the shared etcd. */
const fresh = (): string => `/etcd-test/${process.pid}-${++prefixCounter}/`;

void before(async () => {
  shared = await startEtcd();
});
void after(async () => {
  await shared?.stop();
});

void describe("etcd connection", () => {
  void it("talks TLS with a client certificate, and refuses to connect without one", { timeout: 60_000 }, async (t) => {
    const etcd = await startEtcd({ tls: true });
    t.after(() => etcd.stop());
    const tls = etcd.clientTls;
    assert.ok(tls);
    const store = await openStore(t, [etcd.endpoint], { tls });
    const c = watchOn(t, await store.watch("/tls/"));
    const kv = await store.create("/tls/a", enc("over TLS"));
    assert.equal(dec((await store.get("/tls/a")).kv?.value), "over TLS");
    await c.until((e) => e.length === 1, "the create event over TLS");
    assert.equal(c.events[0]?.revision, kv.modRevision);

    // Same server without the client certificate: the server refuses the handshake.
    const started = Date.now();
    const noCert = await rejectsWith(EtcdStore.open([etcd.endpoint], compileStoreOptions({ tls: { caFile: tls.caFile } }), { dialTimeoutMs: 3000 }), "Unavailable", "TLS without a client certificate");
    assert.ok(Date.now() - started < 8000, `the refusal took ${Date.now() - started} ms`);
    assert.match(noCert.message, /client certificate/);
    // Plain HTTP against a TLS port.
    const plainUrl = etcd.endpoint.replace("https://", "http://");
    await rejectsWith(EtcdStore.open([plainUrl], compileStoreOptions({}), { dialTimeoutMs: 2000 }), "Unavailable", "http:// to a TLS etcd");
    await rejectsWith(EtcdStore.open([etcd.endpoint], compileStoreOptions({ tls: { caFile: "/nonexistent/ca.crt" } })), "Invalid", "unreadable CA file");
    await rejectsWith(EtcdStore.open([etcd.endpoint], compileStoreOptions({ tls: { caFile: tls.caFile, certFile: tls.certFile } })), "Invalid", "certificate without key");
  });

  void it("fails fast with Unavailable naming the endpoint when nothing listens there", async () => {
    const port = await freePort();
    const started = Date.now();
    const err = await rejectsWith(EtcdStore.open([`127.0.0.1:${port}`], compileStoreOptions({})), "Unavailable", "closed port");
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
    assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
    assert.match(err.message, /[Cc]heck that etcd is running/);
  });

  void it("gives up after the dial timeout when the endpoint accepts but never answers", async (t) => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => {
      sockets.add(s);
      s.on("error", () => undefined);
    });
    silent.listen(0, "127.0.0.1");
    await new Promise((resolve) => silent.once("listening", resolve));
    t.after(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });
    const addr = silent.address() as net.AddressInfo;
    const started = Date.now();
    const err = await rejectsWith(EtcdStore.open([`127.0.0.1:${addr.port}`], compileStoreOptions({}), { dialTimeoutMs: 700 }), "Unavailable", "silent endpoint");
    const took = Date.now() - started;
    assert.ok(took >= 600 && took < 5000, `gave up after ${took} ms with a 700 ms dial timeout`);
    assert.match(err.message, /within 700 ms/);
  });

  void it("rejects bad endpoints before dialling", async () => {
    await rejectsWith(EtcdStore.open([], compileStoreOptions({})), "Invalid", "no endpoints");
    await rejectsWith(EtcdStore.open(["ftp://127.0.0.1:1"], compileStoreOptions({})), "Invalid", "unknown scheme");
    await rejectsWith(EtcdStore.open(["http://127.0.0.1:1", "https://127.0.0.1:2"], compileStoreOptions({})), "Invalid", "mixed http and https");
  });
});

void describe("etcd store", () => {
  void it("keeps stores with different key prefixes apart on one etcd", async (t) => {
    const p = fresh();
    const a = await openStore(t, [server().endpoint], {}, { keyPrefix: `${p}a` });
    const b = await openStore(t, [server().endpoint], {}, { keyPrefix: `${p}b` });
    const wa = watchOn(t, await a.watch("/"));
    await a.create("/k", enc("in a"));
    await b.create("/k", enc("in b"));
    const last = await a.create("/k2", enc("in a again"));
    assert.equal(dec((await a.get("/k")).kv?.value), "in a");
    assert.equal(dec((await b.get("/k")).kv?.value), "in b");
    assert.deepEqual((await a.list("")).kvs.map((kv) => kv.key), ["/k", "/k2"]);
    assert.equal((await b.count("/")).count, 1);
    await wa.until((e) => e.some((ev) => ev.revision === last.modRevision), "a's second create");
    assert.deepEqual(
      wa.events.map((ev) => ev.kv.key),
      ["/k", "/k2"],
      "a's watcher sees only a's keys, without the prefix",
    );
  });

  void it("reports the TTL of a key written by another client, and its expiry reaches every watcher", { timeout: 30_000 }, async (t) => {
    const p = fresh();
    const writer = await openStore(t, [server().endpoint]);
    const reader = await openStore(t, [server().endpoint]);
    const c = watchOn(t, await reader.watch(p));
    const kv = await writer.create(`${p}lease`, enc("expiring"), { ttlSeconds: 2 });
    assert.equal(kv.ttlSeconds, 2);
    assert.equal((await reader.get(`${p}lease`)).kv?.ttlSeconds, 2, "the reader looked the lease up");
    assert.equal((await reader.list(p)).kvs[0]?.ttlSeconds, 2);
    await c.until((e) => e.some((ev) => ev.type === "delete"), "the expiry delete", 15_000);
    const [created, deleted] = c.events;
    assert.equal(created?.type, "create");
    assert.equal(created?.kv.ttlSeconds, 2);
    assert.equal(deleted?.type, "delete");
    assert.deepEqual(plain(deleted?.prevKv), plain(kv));
    assert.equal(deleted?.kv.modRevision, deleted?.revision);
    assert.equal((await writer.get(`${p}lease`)).kv, undefined);
  });

  void it("learns a compaction done by another client: Compacted with its revision, Expired continue tokens", async (t) => {
    const p = fresh();
    const store = await openStore(t, [server().endpoint]);
    const other = await openStore(t, [server().endpoint]);
    for (let i = 0; i < 4; i++) await store.create(`${p}k${i}`, enc(String(i)));
    const page = await store.list(p, { limit: 2 });
    assert.ok(page.continue);
    const old = page.revision;
    await store.create(`${p}k4`, enc("4"));
    const target = await store.currentRevision();
    await other.compact(target);

    assert.equal(await store.compactedRevision(), target, "compactedRevision asks etcd, not only its own memory");
    const err = await rejectsWith(store.get(`${p}k0`, { revision: old }), "Compacted", "get below the compaction");
    assert.ok(isStorageError(err) && err.details.compactRevision === target, `compactRevision ${String(isStorageError(err) && err.details.compactRevision)} != ${target}`);
    await rejectsWith(store.list(p, { limit: 2, continue: page.continue }), "Expired", "continue token from before the compaction");
    await rejectsWith(store.watch(p, { afterRevision: old }), "Compacted", "watch from below the compaction");
    assert.equal((await store.get(`${p}k0`, { revision: target })).kv?.modRevision !== undefined, true, "the compact revision itself stays readable");
    await store.compact(target);
    await rejectsWith(store.compact(target - 1), "Compacted", "compacting below the compacted revision");
    await rejectsWith(store.get(`${p}k0`, { revision: target + 1000 }), "Invalid", "a future revision");
  });

  void it("replays history older than the hub's memory from etcd, then continues live", async (t) => {
    const p = fresh();
    const store = await openStore(t, [server().endpoint], { watchHistory: 4 });
    const first = await store.create(`${p}a`, enc("0"));
    let mod = first.modRevision;
    const writes: number[] = [mod];
    for (let i = 1; i <= 10; i++) {
      mod = (await store.update(`${p}a`, enc(String(i)), mod)).modRevision;
      writes.push(mod);
      await store.create(`${p}other${i}`, enc("noise"));
    }
    const del = await store.delete(`${p}a`);
    writes.push(del.revision);
    // Opened after the writes: its hub holds none of them, so all come from etcd.
    const late = await openStore(t, [server().endpoint], { watchHistory: 4 });
    const c = watchOn(t, await late.watch(`${p}a`, { prefix: false, afterRevision: first.modRevision - 1 }));
    await c.until((e) => e.length === writes.length, "every change of the key");
    assert.deepEqual(c.events.map((e) => e.revision), writes);
    assert.deepEqual(c.events.map((e) => e.type), ["create", ...Array<string>(10).fill("update"), "delete"]);
    assert.equal(dec(c.events[5]?.prevKv?.value), "4", "updates carry the previous value");
    assert.equal(dec(c.events[11]?.kv.value), "10", "the delete carries the deleted value");
    const again = await late.create(`${p}a`, enc("live"));
    await c.until((e) => e.length === writes.length + 1, "the live create after the replay");
    assert.equal(c.events[writes.length]?.revision, again.modRevision);

    // The first store's hub had only 4 events in memory: the rest came from etcd there too.
    const c2 = watchOn(t, await store.watch(p, { afterRevision: first.modRevision - 1 }));
    const total = writes.length + 10 + 1;
    await c2.until((e) => e.length === total, "every change under the prefix");
    const revs = c2.events.map((e) => e.revision);
    assert.deepEqual(revs, [...revs].sort((x, y) => x - y));
    assert.equal(new Set(revs).size, revs.length, "no duplicates");
    assert.equal(revs[revs.length - 1], again.modRevision);
  });

  void it("keeps its watchers across an etcd restart without losing an event; with etcd gone, writes fail fast with Unavailable", { timeout: 60_000 }, async (t) => {
    const etcd = await startEtcd();
    t.after(() => etcd.stop());
    const store = await openStore(t, [etcd.endpoint], {}, { requestTimeoutMs: 2000 });
    const c = watchOn(t, await store.watch("/r/"));
    const before = await store.create("/r/before", enc("1"));
    await c.until((e) => e.length === 1, "the event before the restart");

    // A second client writes right after the restart, most likely before the store's watch
    // has reconnected: the resumed watch must still deliver it, once.
    await etcd.restart();
    const other = await openStore(t, [etcd.endpoint]);
    const during = await other.create("/r/while-reconnecting", enc("2"));
    const afterRestart = await store.create("/r/after", enc("3"));
    await c.until((e) => e.length === 3, "the events written after the restart", 20_000);
    assert.deepEqual(
      c.events.map((e) => e.revision),
      [before.modRevision, during.modRevision, afterRestart.modRevision],
    );

    // Stopped for good: a write must fail quickly with a clear error, not hang.
    await etcd.stop();
    const started = Date.now();
    const err = await rejectsWith(store.create("/r/down", enc("x")), "Unavailable", "write while etcd is down");
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    assert.match(err.message, new RegExp(etcd.endpoint.replace(/[.:/]/g, "\\$&")));
  });
});

/**
 * Writes to `prefix` through `store` in a loop until stopped, so that etcd's revision moves
 * between any two requests of the code under test (a store's own watch then starts behind
 * etcd's head and must catch up).
 */
function writeInBackground(store: EtcdStore, prefix: string): { stop(): Promise<number> } {
  let running = true;
  let n = 0;
  const loop = (async () => {
    while (running) await store.create(`${prefix}${++n}`, enc("noise"));
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return n;
    },
  };
}

void describe("etcd store compacting right behind its writes", () => {
  // etcd cancels a watcher that is still catching up (not yet "synced") when a compaction
  // passes its next revision. A store that compacted before its own watch had caught up
  // ended every watcher with Unavailable: compact() must wait for its watch first.
  const rounds = 25;

  void it(`keeps its watchers across open → write → compact(current), ${rounds} rounds while another client writes`, { timeout: 120_000 }, async (t) => {
    const p = fresh();
    const noise = await openStore(t, [server().endpoint]);
    const background = writeInBackground(noise, `${p}noise/`);
    t.after(() => background.stop());
    for (let round = 0; round < rounds; round++) {
      const q = `${p}r${round}/`;
      const store = await EtcdStore.open([server().endpoint], compileStoreOptions({ compaction: { intervalMs: 0 } }));
      try {
        const before = new Collector(await store.watch(q));
        try {
          const a = await store.create(`${q}a`, enc("1"));
          const gone = await store.create(`${q}gone`, enc("x"));
          const del = await store.delete(`${q}gone`);
          const target = await store.currentRevision();
          await store.compact(target);
          const after = new Collector(await store.watch(q, { afterRevision: target }));
          try {
            const next = await store.update(`${q}a`, enc("2"), a.modRevision);
            await after.until((e) => e.length >= 1, `round ${round}: the first change after compaction`);
            assert.equal(after.events[0]?.revision, next.modRevision, `round ${round}`);
            await before.until((e) => e.some((ev) => ev.revision === next.modRevision), `round ${round}: every change on the watch opened before compaction`);
            assert.deepEqual(
              before.events.map((ev) => [ev.type, ev.revision]),
              [
                ["create", a.modRevision],
                ["create", gone.modRevision],
                ["delete", del.revision],
                ["update", next.modRevision],
              ],
              `round ${round}: the watch from before compaction saw every change, the delete included`,
            );
          } finally {
            await after.stop();
          }
        } finally {
          await before.stop();
        }
      } finally {
        await store.close();
      }
    }
    assert.ok((await background.stop()) > rounds, "the other client kept writing throughout");
  });

  void it("with a key prefix, compacts to a revision written outside it without cutting off its watchers", { timeout: 60_000 }, async (t) => {
    const p = fresh();
    const noise = await openStore(t, [server().endpoint]);
    const background = writeInBackground(noise, `${p}outside/`);
    t.after(() => background.stop());
    for (let round = 0; round < 10; round++) {
      const store = await EtcdStore.open([server().endpoint], compileStoreOptions({ compaction: { intervalMs: 0 } }), { keyPrefix: `${p}inside${round}` });
      try {
        const c = new Collector(await store.watch("/"));
        try {
          const a = await store.create("/a", enc("1"));
          // Written by the other client after our last write: nothing under our prefix changes at it.
          const target = (await noise.create(`${p}outside-${round}`, enc("last"))).modRevision;
          await store.compact(target);
          assert.ok((await store.compactedRevision()) >= target);
          const b = await store.update("/a", enc("2"), a.modRevision);
          await c.until((e) => e.some((ev) => ev.revision === b.modRevision), `round ${round}: the change after compaction`);
          assert.deepEqual(c.events.map((ev) => ev.revision), [a.modRevision, b.modRevision], `round ${round}: only our keys, none missed`);
        } finally {
          await c.stop();
        }
      } finally {
        await store.close();
      }
    }
  });
});

/** A loopback TCP proxy to etcd that a test can cut (every connection dropped, no new ones) and heal. */
async function startProxy(t: TestContext, target: string): Promise<{ endpoint: string; cut(): Promise<void>; heal(): Promise<void> }> {
  const { hostname, port: targetPort } = new URL(target);
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket): void => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => undefined);
  };
  const server = net.createServer((down) => {
    const up = net.connect(Number(targetPort), hostname);
    track(down);
    track(up);
    down.pipe(up);
    up.pipe(down);
  });
  const port = await freePort();
  const listen = async (): Promise<void> => {
    server.listen(port, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
  };
  const cut = async (): Promise<void> => {
    const closed = new Promise((resolve) => server.close(resolve));
    for (const s of sockets) s.destroy();
    await closed;
  };
  await listen();
  t.after(() => (server.listening ? cut() : undefined));
  return { endpoint: `http://127.0.0.1:${port}`, cut, heal: listen };
}

void describe("etcd store behind a broken connection", () => {
  void it("ends its watchers with Unavailable when etcd compacted the events it missed while disconnected", { timeout: 60_000 }, async (t) => {
    const p = fresh();
    const proxy = await startProxy(t, server().endpoint);
    const store = await openStore(t, [proxy.endpoint], {}, { requestTimeoutMs: 2000 });
    const direct = await openStore(t, [server().endpoint]);
    const c = watchOn(t, await store.watch(p));
    await store.create(`${p}a`, enc("1"));
    await c.until((e) => e.length === 1, "the event before the cut");

    await proxy.cut();
    // The sharpest case: etcd would let the watch resume at exactly the compact revision,
    // but compaction removed the delete made there, so resuming would skip it silently.
    const missed = await direct.delete(`${p}a`);
    await direct.compact(missed.revision);
    await rejectsWith(store.get(`${p}a`), "Unavailable", "a read while the connection is cut");
    await proxy.heal();

    // The resumed watch cannot deliver `missed` (compacted), so the watcher must hear about it.
    await c.until(() => c.done, "the watcher to end", 20_000).catch(() => undefined);
    assert.ok(c.done, "the watcher ended");
    assert.ok(isStorageError(c.error, "Unavailable"), `the watcher failed with Unavailable, got ${String(c.error)}`);
    assert.ok(!c.events.some((e) => e.revision === missed.revision));

    // A new watch from the current revision works again.
    const c2 = watchOn(t, await store.watch(p));
    const next = await direct.create(`${p}a`, enc("3"));
    await c2.until((e) => e.some((ev) => ev.revision === next.modRevision), "a live event on a new watch", 20_000);
    assert.equal(dec((await store.get(`${p}a`)).kv?.value), "3");
  });
});

void describe("etcd snapshot and restore", () => {
  void it("restores every key with its revisions into a fresh data dir, and refuses to overwrite one", { timeout: 60_000 }, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "k8ts-etcd-restore-test-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const p = fresh();
    const store = await openStore(t, [server().endpoint]);
    const a = await store.create(`${p}a`, enc("a1"));
    await store.update(`${p}a`, enc("a2"), a.modRevision);
    await store.create(`${p}b`, enc("b"));
    await store.delete(`${p}b`);
    await store.create(`${p}leased`, enc("with a lease"), { ttlSeconds: 600 });
    const big = new Uint8Array(1024 * 1024).fill(7);
    await store.create(`${p}big`, big);
    const file = join(dir, "snap.db");
    await store.snapshot(file);
    const rev = await store.currentRevision();
    const want = await store.list("", { revision: rev });

    const dataDir = join(dir, "restored");
    await EtcdStore.restore(file, dataDir, { name: "restored" });
    const restoredEtcd = await startEtcd({ dataDir, name: "restored" });
    t.after(() => restoredEtcd.stop());
    const restored = await openStore(t, [restoredEtcd.endpoint]);
    assert.equal(await restored.currentRevision(), rev, "the revision counter is restored");
    const got = await restored.list("");
    assert.deepEqual(got.kvs.map(plain), want.kvs.map(plain), "every key, value, revision and TTL");
    assert.equal(dec((await restored.get(`${p}a`, { revision: a.modRevision })).kv?.value), "a1", "history is restored too");
    const next = await restored.create(`${p}c`, enc("c"));
    assert.equal(next.modRevision, rev + 1);

    await rejectsWith(EtcdStore.restore(file, dataDir), "Invalid", "restoring over a data dir in use");
    const nonEmpty = join(dir, "non-empty");
    await mkdir(nonEmpty);
    await writeFile(join(nonEmpty, "keep-me"), "x");
    await rejectsWith(EtcdStore.restore(file, nonEmpty), "Invalid", "restoring into a non-empty dir");
    const corrupt = join(dir, "corrupt.db");
    await writeFile(corrupt, Buffer.alloc(4096, 1));
    await rejectsWith(EtcdStore.restore(corrupt, join(dir, "from-corrupt")), "Invalid", "a corrupt snapshot");
    await rejectsWith(EtcdStore.restore(join(dir, "missing.db"), join(dir, "from-missing")), "Invalid", "a missing snapshot");
  });
});
