// Storage benchmark: `npm run bench -- storage [--seconds S] [--only sqlite-full,sqlite-normal,etcd]`.
// Prints one JSON object per line on stdout (progress goes to stderr):
//   {"backend","op","concurrency","opsPerSec","p50Ms","p99Ms","baselineOpsPerSec","ratio",…}
// for create, update (compare-and-swap), get, list of 10k keys and watch delivery latency
// (100 watchers, writes issued at 1,000/s; latency from issuing the write to a watcher holding
// the event). Figures, not assertions.
//
// Each store figure has a baseline measured in the same run, on the same disk, with the same
// key and value sizes: for SQLite, raw better-sqlite3 on a fresh WAL database at the same
// `synchronous` (one single-row statement per commit; it is synchronous, so its concurrency
// is always 1); for etcd, the raw etcd3 client against the same server at the same
// concurrency (put for create and update, get, a prefix range, and raw etcd3 watchers). Store
// and baseline alternate in three slices each, so machine noise falls on both sides of a ratio.
// ratio = opsPerSec / baselineOpsPerSec. For watch, opsPerSec is the write rate achieved, p50/p99
// the delivery latency over every (write, watcher) pair, writeAckP50Ms/writeAckP99Ms the part of
// it the write itself takes, and baselineP50Ms/baselineP99Ms (etcd) that of 100 raw etcd3 watchers.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import { Etcd3 } from "etcd3";
import { openStore, type Store } from "../src/storage/index.js";
import { startEtcd, type RunningEtcd } from "../src/testing/etcd.js";

type Backend = "sqlite-full" | "sqlite-normal" | "etcd";

interface Args {
  readonly seconds: number;
  readonly only: readonly Backend[];
}

function parseArgs(argv: readonly string[]): Args {
  let seconds = 1.5;
  let only: Backend[] = ["sqlite-full", "sqlite-normal", "etcd"];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === "--seconds" && v !== undefined) {
      seconds = Number(v);
      i++;
    } else if (a === "--only" && v !== undefined) {
      only = v.split(",") as Backend[];
      i++;
    } else {
      process.stderr.write(`usage: storage [--seconds S] [--only sqlite-full,sqlite-normal,etcd]\n`);
      process.exit(2);
    }
  }
  if (!(seconds > 0)) throw new RangeError("--seconds must be positive");
  return { seconds, only };
}

const ARGS = parseArgs(process.argv.slice(2));
const CONCURRENCY = [1, 16] as const;
const LIST_KEYS = 10_000;
const GET_KEYS = 500;
const WATCHERS = 100;
const WATCH_RATE = 1000;
const WATCH_SECONDS = 3;
/** A small Kubernetes object's size. */
const VALUE = new Uint8Array(Buffer.from(JSON.stringify({ kind: "ConfigMap", apiVersion: "v1", metadata: { name: "x", namespace: "default" }, data: { k: "v".repeat(400) } })));

/**
 * VALUE with `i` written into it: SQLite skips writing a row whose bytes do not change, so an
 * update that stores the same value again would commit nothing and measure nothing.
 */
function stamped(i: number): Buffer {
  const v = Buffer.from(VALUE);
  v.write(String(i).padStart(12, "0"), v.length - 16, "latin1");
  return v;
}

interface Sample {
  readonly ops: number;
  readonly seconds: number;
  readonly latencies: number[];
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))] ?? Number.NaN;
}

const round = (x: number, digits = 3): number => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x);

interface Row {
  backend: Backend;
  op: string;
  concurrency: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  baselineOpsPerSec: number | null;
  ratio: number | null;
  [extra: string]: unknown;
}

function emit(backend: Backend, op: string, concurrency: number, s: Sample, baseline: Sample | undefined, extra: Record<string, unknown> = {}): void {
  const sorted = [...s.latencies].sort((a, b) => a - b);
  const opsPerSec = s.ops / s.seconds;
  const baselineOpsPerSec = baseline ? baseline.ops / baseline.seconds : null;
  const row: Row = {
    backend,
    op,
    concurrency,
    opsPerSec: round(opsPerSec, 1),
    p50Ms: round(percentile(sorted, 0.5)),
    p99Ms: round(percentile(sorted, 0.99)),
    baselineOpsPerSec: baselineOpsPerSec === null ? null : round(baselineOpsPerSec, 1),
    ratio: baselineOpsPerSec === null ? null : round(opsPerSec / baselineOpsPerSec, 2),
    ...extra,
  };
  if (baseline) {
    const b = [...baseline.latencies].sort((x, y) => x - y);
    row.baselineP50Ms = round(percentile(b, 0.5));
    row.baselineP99Ms = round(percentile(b, 0.99));
  }
  process.stdout.write(`${JSON.stringify(row)}\n`);
}

function progress(msg: string): void {
  process.stderr.write(`bench storage: ${msg}\n`);
}

/** Closed loop: `concurrency` workers call `op` back to back for `seconds`. */
async function closedLoop(concurrency: number, seconds: number, op: (worker: number, i: number) => Promise<unknown>): Promise<Sample> {
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let i = 0; performance.now() < end; i++) {
        const t = performance.now();
        await op(worker, i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { ops: latencies.length, seconds: (performance.now() - start) / 1000, latencies };
}

/** A synchronous baseline (better-sqlite3): one call after another for `seconds`. */
function syncLoop(seconds: number, op: (i: number) => unknown): Sample {
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  for (let i = 0; performance.now() < end; i++) {
    const t = performance.now();
    op(i);
    latencies.push(performance.now() - t);
  }
  return { ops: latencies.length, seconds: (performance.now() - start) / 1000, latencies };
}

/** Runs `op(0..count-1)` with `concurrency` in flight: loads data before a measurement. */
async function load(count: number, concurrency: number, op: (n: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await op(next++);
    }),
  );
}

/** Measures one slice of an operation, for the given time. Each call continues where the last stopped. */
type Measure = (seconds: number) => Promise<Sample>;

const ROUNDS = 3;

/**
 * The store and its baseline run in alternating slices, so drift of the machine (another
 * process's disk traffic, a checkpoint, the page cache warming) lands on both sides of a ratio.
 */
async function alternate(store: Measure, baseline: Measure): Promise<[Sample, Sample]> {
  const s: Sample[] = [];
  const b: Sample[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    s.push(await store(ARGS.seconds / ROUNDS));
    b.push(await baseline(ARGS.seconds / ROUNDS));
  }
  const merge = (xs: Sample[]): Sample => ({ ops: xs.reduce((n, x) => n + x.ops, 0), seconds: xs.reduce((n, x) => n + x.seconds, 0), latencies: xs.flatMap((x) => x.latencies) });
  return [merge(s), merge(b)];
}

/**
 * Open loop: issues `write(i)` at `rate` per second for `seconds` without waiting for earlier
 * writes (as independent clients would), recording when write i went out in `issuedAt[i]`.
 * Returns the write rate achieved (until the last acknowledgement) and the sorted ack latencies.
 */
async function openLoopWrites(write: (i: number) => Promise<unknown>, rate: number, seconds: number, issuedAt: number[]): Promise<{ writesPerSec: number; ackMs: number[] }> {
  const total = Math.round(rate * seconds);
  const ackMs: number[] = [];
  const pending: Promise<unknown>[] = [];
  const start = performance.now();
  while (issuedAt.length < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
    while (issuedAt.length < due) {
      const i = issuedAt.length;
      issuedAt.push(performance.now());
      const t = performance.now();
      pending.push(write(i).then(() => ackMs.push(performance.now() - t)));
    }
    await sleep(1);
  }
  await Promise.all(pending);
  return { writesPerSec: total / ((performance.now() - start) / 1000), ackMs: ackMs.sort((a, b) => a - b) };
}

/** Resolves when `done()` holds, checking after each event; rejects at the deadline. */
function whenDone(done: () => boolean, timeoutMs: number): { check: () => void; promise: Promise<void> } {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const timer = setTimeout(() => reject(new RangeError(`watchers did not receive every event within ${timeoutMs} ms`)), timeoutMs);
  const check = (): void => {
    if (done()) {
      clearTimeout(timer);
      resolve();
    }
  };
  return { check, promise };
}

const indexOfKey = (key: string): number => Number(key.slice(key.lastIndexOf("/") + 1));
const listKey = (n: number): string => String(n).padStart(6, "0");

/**
 * The same four operations, once through the Store and once through a raw client. Each returns
 * a Measure after loading what it needs; keys never repeat across slices.
 */
interface Workload {
  create(concurrency: number): Promise<Measure>;
  update(concurrency: number): Promise<Measure>;
  get(concurrency: number): Promise<Measure>;
  list(): Promise<Measure>;
}

// ---- the store under test ----------------------------------------------------------------

function storeWorkload(store: Store): Workload {
  let slice = 0;
  let getLoaded = false;
  return {
    create: async (c) => (seconds) => {
      const s = slice++;
      return closedLoop(c, seconds, (w, i) => store.create(`/bench/create/s${s}/w${w}/${i}`, VALUE));
    },
    update: async (c) => {
      const revs: number[] = [];
      for (let w = 0; w < c; w++) revs[w] = (await store.create(`/bench/update/c${c}/w${w}`, VALUE)).modRevision;
      return (seconds) =>
        closedLoop(c, seconds, async (w, i) => {
          revs[w] = (await store.update(`/bench/update/c${c}/w${w}`, stamped(i), revs[w] ?? 0)).modRevision;
        });
    },
    get: async (c) => {
      if (!getLoaded) await load(GET_KEYS, 16, (n) => store.create(`/bench/get/${n}`, VALUE));
      getLoaded = true;
      return (seconds) =>
        closedLoop(c, seconds, async (w, i) => {
          if ((await store.get(`/bench/get/${(i * 7919 + w) % GET_KEYS}`)).kv === undefined) throw new RangeError("benchmark key missing");
        });
    },
    list: async () => {
      await load(LIST_KEYS, 64, (n) => store.create(`/bench/list/${listKey(n)}`, VALUE));
      return (seconds) =>
        closedLoop(1, seconds, async () => {
          const r = await store.list("/bench/list/");
          if (r.kvs.length !== LIST_KEYS) throw new RangeError(`list returned ${r.kvs.length} keys`);
        });
    },
  };
}

async function benchStore(backend: Backend, store: Store, raw: RawClient): Promise<void> {
  const mine = storeWorkload(store);
  for (const op of ["create", "update", "get"] as const) {
    for (const c of CONCURRENCY) {
      progress(`${backend}: ${op} ×${c}`);
      const [s, b] = await alternate(await mine[op](c), await raw[op](c));
      emit(backend, op, c, s, b);
    }
  }
  progress(`${backend}: list of ${LIST_KEYS} keys`);
  const [s, b] = await alternate(await mine.list(), await raw.list());
  emit(backend, "list", 1, s, b, { keys: LIST_KEYS });

  progress(`${backend}: watch delivery, ${WATCHERS} watchers at ${WATCH_RATE} writes/s`);
  const total = WATCH_RATE * WATCH_SECONDS;
  const issuedAt: number[] = [];
  const latencies: number[] = [];
  let delivered = 0;
  const finished = whenDone(() => delivered === total * WATCHERS, 30_000);
  const watches = await Promise.all(Array.from({ length: WATCHERS }, () => store.watch("/bench/watch/")));
  const loops = watches.map(async (w) => {
    for await (const ev of w) {
      latencies.push(performance.now() - (issuedAt[indexOfKey(ev.kv.key)] ?? Number.NaN));
      delivered++;
      finished.check();
    }
  });
  const { writesPerSec, ackMs } = await openLoopWrites((i) => store.create(`/bench/watch/${i}`, VALUE), WATCH_RATE, WATCH_SECONDS, issuedAt);
  await finished.promise;
  for (const w of watches) w.stop();
  await Promise.all(loops);
  const base = await raw.watch();
  emit(backend, "watch", WATCHERS, { ops: total, seconds: total / writesPerSec, latencies }, undefined, {
    watchers: WATCHERS,
    targetWritesPerSec: WATCH_RATE,
    deliveredEvents: delivered,
    // How much of the delivery latency is the write itself (issue → acknowledged).
    writeAckP50Ms: round(percentile(ackMs, 0.5)),
    writeAckP99Ms: round(percentile(ackMs, 0.99)),
    ...(base ? { baselineP50Ms: round(percentile(base, 0.5)), baselineP99Ms: round(percentile(base, 0.99)) } : {}),
  });
}

// ---- baselines ---------------------------------------------------------------------------

interface RawClient extends Workload {
  /** Sorted delivery latencies of the raw client's own watchers, when there is such a thing. */
  watch(): Promise<number[] | undefined>;
  close(): void;
}

/**
 * Raw better-sqlite3 on a fresh WAL database, one single-row statement per commit. It is
 * synchronous, so it runs at concurrency 1 whatever the store's concurrency is.
 */
function sqliteRaw(file: string, synchronous: "FULL" | "NORMAL"): RawClient {
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${synchronous}`);
  db.exec("CREATE TABLE kv (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID");
  const insert = db.prepare("INSERT INTO kv (key, value) VALUES (?, ?)");
  const update = db.prepare("UPDATE kv SET value = ? WHERE key = ?");
  const get = db.prepare("SELECT value FROM kv WHERE key = ?");
  const range = db.prepare("SELECT key, value FROM kv WHERE key >= ? AND key < ? ORDER BY key");
  const value = Buffer.from(VALUE);
  let slice = 0;
  let updates = 0;
  const loaded = new Set<string>();
  const loadOnce = (what: string, prefix: string, count: number, name: (n: number) => string): void => {
    if (loaded.has(what)) return;
    loaded.add(what);
    db.transaction(() => {
      for (let n = 0; n < count; n++) insert.run(`${prefix}${name(n)}`, value);
    })();
  };
  return {
    create: async () => async (seconds) => {
      const s = slice++;
      return syncLoop(seconds, (i) => insert.run(`/bench/create/s${s}/${i}`, value));
    },
    update: async () => {
      loadOnce("update", "/bench/update/", 1, String);
      return async (seconds) => syncLoop(seconds, () => update.run(stamped(updates++), "/bench/update/0"));
    },
    get: async () => {
      loadOnce("get", "/bench/get/", GET_KEYS, String);
      return async (seconds) =>
        syncLoop(seconds, (i) => {
          if (get.get(`/bench/get/${(i * 7919) % GET_KEYS}`) === undefined) throw new RangeError("baseline key missing");
        });
    },
    list: async () => {
      loadOnce("list", "/bench/list/", LIST_KEYS, listKey);
      return async (seconds) =>
        syncLoop(seconds, () => {
          if (range.all("/bench/list/", "/bench/list0").length !== LIST_KEYS) throw new RangeError("baseline list short");
        });
    },
    watch: () => Promise.resolve(undefined),
    close: () => db.close(),
  };
}

/** The raw etcd3 client against the same etcd, at the store's concurrency. */
function etcdRaw(endpoint: string): RawClient {
  // A 10k-key range is ~5 MB, over gRPC's default 4 MiB receive limit (the store lifts it too).
  const client = new Etcd3({ hosts: endpoint, grpcOptions: { "grpc.max_receive_message_length": -1 } });
  const value = Buffer.from(VALUE);
  let slice = 0;
  let getLoaded = false;
  return {
    create: async (c) => (seconds) => {
      const s = slice++;
      return closedLoop(c, seconds, async (w, i) => client.put(`/raw/create/s${s}/w${w}/${i}`).value(value));
    },
    update: async (c) => {
      for (let w = 0; w < c; w++) await client.put(`/raw/update/c${c}/w${w}`).value(value);
      return (seconds) => closedLoop(c, seconds, async (w, i) => client.put(`/raw/update/c${c}/w${w}`).value(stamped(i)));
    },
    get: async (c) => {
      if (!getLoaded) await load(GET_KEYS, 16, async (n) => client.put(`/raw/get/${n}`).value(value));
      getLoaded = true;
      return (seconds) =>
        closedLoop(c, seconds, async (w, i) => {
          if ((await client.get(`/raw/get/${(i * 7919 + w) % GET_KEYS}`).buffer()) === null) throw new RangeError("baseline key missing");
        });
    },
    list: async () => {
      await load(LIST_KEYS, 64, async (n) => client.put(`/raw/list/${listKey(n)}`).value(value));
      return (seconds) =>
        closedLoop(1, seconds, async () => {
          const all = await client.getAll().prefix("/raw/list/").buffers();
          if (Object.keys(all).length !== LIST_KEYS) throw new RangeError("baseline list short");
        });
    },
    watch: async () => {
      const total = WATCH_RATE * WATCH_SECONDS;
      const issuedAt: number[] = [];
      const latencies: number[] = [];
      let delivered = 0;
      const finished = whenDone(() => delivered === total * WATCHERS, 30_000);
      const watchers = await Promise.all(Array.from({ length: WATCHERS }, () => client.watch().prefix("/raw/watch/").create()));
      for (const w of watchers) {
        w.on("put", (kv) => {
          latencies.push(performance.now() - (issuedAt[indexOfKey(kv.key.toString())] ?? Number.NaN));
          delivered++;
          finished.check();
        });
      }
      await openLoopWrites(async (i) => client.put(`/raw/watch/${i}`).value(value), WATCH_RATE, WATCH_SECONDS, issuedAt);
      await finished.promise;
      await Promise.all(watchers.map((w) => w.cancel()));
      return latencies.sort((a, b) => a - b);
    },
    close: () => client.close(),
  };
}

// ---- main --------------------------------------------------------------------------------

async function main(): Promise<void> {
  const t0 = performance.now();
  for (const backend of ARGS.only) {
    if (backend === "sqlite-full" || backend === "sqlite-normal") {
      const synchronous = backend === "sqlite-full" ? "FULL" : "NORMAL";
      const dir = await mkdtemp(join(tmpdir(), `k8ts-bench-${backend}-`));
      const raw = sqliteRaw(join(dir, "raw.db"), synchronous);
      const store = await openStore(`sqlite://${join(dir, "state.db")}?synchronous=${synchronous.toLowerCase()}`);
      try {
        await benchStore(backend, store, raw);
      } finally {
        await store.close();
        raw.close();
        await rm(dir, { recursive: true, force: true });
      }
    } else if (backend === "etcd") {
      let etcd: RunningEtcd | undefined;
      let raw: RawClient | undefined;
      let store: Store | undefined;
      try {
        etcd = await startEtcd();
        raw = etcdRaw(etcd.endpoint);
        store = await openStore(etcd.endpoint.replace(/^http:/, "etcd:"));
        await benchStore(backend, store, raw);
      } finally {
        await store?.close();
        raw?.close();
        await etcd?.stop();
      }
    } else {
      throw new RangeError(`unknown backend ${String(backend)} (sqlite-full, sqlite-normal, etcd)`);
    }
  }
  progress(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

await main();
