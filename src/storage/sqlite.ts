// The embedded store (`sqlite:///path/state.db`): better-sqlite3 in WAL mode, one writer per
// file. Schema and file checks are in sqlite/schema.ts.
//
// Writes go through a queue whose waiting writes are committed together in one transaction
// (group commit): with synchronous=FULL each commit costs an fsync, and concurrent writers
// then share one instead of queueing behind one each. One batch commits at a time: the writes
// of one turn of the event loop form a batch, and whatever arrives while a batch commits forms
// the next. A write is acknowledged only after the transaction that holds it has committed,
// and its event is published to watchers at the same moment (batches in revision order), so a
// watcher never sees a write that could still be lost.
//
// better-sqlite3 is synchronous: a commit, fsync included, stops the event loop. Batches are
// committed on this thread's connection while commits are quick, and in a worker thread with
// a writing connection of its own (sqlite/writer.ts) once they take long enough on average to
// stall the requests the loop serves (a disk with a slow fsync); a hand-off costs two thread
// wake-ups and copies per batch, more than a quick commit does.
import { randomBytes } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { mkdir, open as openFile, rename, rm } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { availableParallelism } from "node:os";
import Database from "better-sqlite3";
import { Compactor } from "./compactor.js";
import { decodeContinue, encodeContinue } from "./continue.js";
import { StorageError, alreadyExists, compacted, conflict, invalid, notFound, unavailable } from "./errors.js";
import type { GetOptions, GetResult, KeyValue, ListOptions, ListResult, Store, Watch, WatchEvent, WatchOptions, WriteOptions } from "./interface.js";
import { prefixEnd, validateKey, validateTtl, validateValue } from "./keys.js";
import { compileStoreOptions, type StoreOptions } from "./options.js";
import { ROW_CREATE, ROW_DELETE, ROW_UPDATE, openDatabase, sqliteError } from "./sqlite/schema.js";
import { BatchWriter, SqliteWriterThread, type Committed, type Maintenance, type RowData, type WriteOp, type WriteResult } from "./sqlite/writer.js";
import { WatchHub } from "./watchhub.js";

/** Most writes committed in one transaction (bounds its time and memory); the rest wait for the next. */
const MAX_BATCH = 1000;
/** Revisions whose log rows one compaction transaction goes through, so readers and writers get turns. */
const COMPACT_CHUNK = 5000;

interface Row {
  readonly revision: number;
  readonly key: string;
  readonly type: number;
  readonly create_revision: number;
  readonly value: Buffer | null;
  readonly ttl: number;
}

interface HistoryRow extends Row {
  readonly p_revision: number | null;
  readonly p_create: number | null;
  readonly p_value: Buffer | null;
  readonly p_ttl: number | null;
}

type DeleteResult = { readonly revision: number; readonly prevKv: KeyValue };

/** A write waiting for its batch, with whom to tell the outcome. */
type Op = WriteOp & { readonly done: Settle<KeyValue> | Settle<DeleteResult> };

interface Settle<T> {
  resolve(v: T): void;
  reject(err: unknown): void;
}

export interface SqliteRestoreOptions {
  /** Replace a target that already holds a database. */
  readonly overwrite?: boolean;
}

export interface SqliteOpenOptions {
  /**
   * Where batches commit: "auto" (default) on the event loop while commits are quick and in
   * the writer thread while they are slow; "thread" or "loop" always there (for tests and
   * measurements).
   */
  readonly writer?: WriterPlacement;
  /** For "auto": when commits move to the writer thread and back (defaults: DEFAULT_OFFLOAD). */
  readonly offload?: OffloadPolicy;
}

export type WriterPlacement = "auto" | "thread" | "loop";

/**
 * "auto" commits in the writer thread while, on average, a COMMIT takes at least `aboveMs` —
 * counting only its wait for the disk (its fsync, mostly) with `by: "wait"`, its whole time
 * with `by: "time"` (the default: "time" where there is more than one CPU) — and batches hold
 * at least `minBatch` writes; it comes back once that falls below `belowMs` or batches below
 * half of `minBatch`. With belowMs above aboveMs and minBatch 0, commits alternate between the
 * two places (tests).
 */
export interface OffloadPolicy {
  readonly aboveMs: number;
  readonly belowMs: number;
  readonly minBatch: number;
  readonly by?: "wait" | "time";
}

// Only writers that overlap gain from the thread: a lone writer waits for its commit wherever it
// runs, and pays the hand-off (two thread wake-ups and copies, ~0.05-0.1 ms) on top. On one CPU
// only the disk wait is worth moving (the thread's work takes the same CPU), and below ~1 ms
// the hand-off costs about what it saves. With more CPUs, the whole COMMIT is: under load the
// event loop is the server's bottleneck and a COMMIT of a few writes is ~0.6 ms of it, mostly
// CPU (writing the WAL) on this project's VMs; in the thread it runs beside the loop. Density
// bench (1,000 nodes, load ~2, before 0719d7d removed the connection tail that dominated the
// p99), two back-to-back pairs, commits on the loop vs in the thread: saturation startup p99
// 1.94 vs 1.21 s and 1.95 vs 1.44 s, the same server CPU, throughput within one whole-second
// window (625 vs 625 and 625 vs 667 pods/s as the bench counted then).
const DEFAULT_OFFLOAD: OffloadPolicy = availableParallelism() > 1 ? { aboveMs: 0.3, belowMs: 0.15, minBatch: 2, by: "time" } : { aboveMs: 1, belowMs: 0.5, minBatch: 2, by: "wait" };

/**
 * The writer thread checkpoints the WAL (copies it into the database file) once about this
 * many pages were committed since the last checkpoint began (one at a time). SQLite would do
 * it inside the commit that takes the WAL past 1000 pages, stalling the event loop for the copy
 * and the database file's fsync (~10 ms here).
 */
const CHECKPOINT_PAGES = 1000;
/** A WAL this long (pages) is made to start over: the next checkpoint finishes between two batches. */
const WAL_RESTART_PAGES = 1000;
/**
 * Batches committed on the event loop's connection go on while the writer thread checkpoints,
 * and the WAL grows behind the checkpoint. Once this many pages were committed since it began,
 * batches wait for it (and for the pass that finishes it), so the WAL stays bounded even when
 * the thread gets a CPU late: 48 MiB of 64 KiB creates on the loop reach an 8.6 MiB WAL with
 * the wait, 12-36 MiB without it (load ~7).
 */
const WAL_HOLD_PAGES = CHECKPOINT_PAGES;

function toBytes(b: Buffer | null): Uint8Array {
  // A plain Uint8Array view (no copy), so values compare equal across backends.
  return b === null ? new Uint8Array(0) : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function rowKv(r: Row): KeyValue {
  return { key: r.key, value: toBytes(r.value), createRevision: r.create_revision, modRevision: r.revision, ttlSeconds: r.ttl };
}

export class SqliteStore implements Store {
  readonly backend = "sqlite";
  readonly file: string;

  readonly #db: Database.Database;
  /** Commits on this thread's connection. */
  readonly #loopWriter: BatchWriter;
  /** Started the first time a batch is to commit in a thread. */
  #threadWriter: SqliteWriterThread | undefined;
  readonly #placement: WriterPlacement;
  readonly #offload: OffloadPolicy;
  #inThread: boolean;
  /** Moving average of what a COMMIT takes (ms): its wait for the disk or its whole time, per the offload policy. */
  #commitMs = 0;
  /** Moving average of the writes per batch. */
  #batchSize = 0;
  /** Pages committed since the last checkpoint began, estimated: a row's page and its value's pages each. */
  #walPages = 0;
  #checkpointing: Promise<void> | undefined;
  /** Something was committed on this thread's connection since the running checkpoint began. */
  #wroteBesideCheckpoint = false;
  readonly #options: StoreOptions;
  readonly #hub: WatchHub;
  readonly #compactor: Compactor;
  #revision: number;
  #compactRevision: number;
  #compactedThrough: number;

  #pending: Op[] = [];
  /** Compaction's writes, served between batches. */
  #maintenance: Array<{ run(w: Maintenance): void | Promise<void>; inThread: boolean; resolve(): void; reject(err: unknown): void }> = [];
  /** A batch or maintenance write is with the writer thread. */
  #busy = false;
  /** Settled when the work with the writer thread is (for close). */
  #busyDone: Promise<void> = Promise.resolve();
  /** The keys of the batch in the writer thread: until it is settled, reads of them are made at #revision. */
  #inFlightKeys = new Set<string>();
  #flushTimer: NodeJS.Immediate | undefined;
  #sweeper: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;
  #compacting: Promise<void> = Promise.resolve();
  #closed = false;

  readonly #s: ReturnType<typeof prepare>;

  private constructor(file: string, options: StoreOptions, opened: ReturnType<typeof openDatabase>, placement: WriterPlacement, offload: OffloadPolicy) {
    this.file = file;
    this.#db = opened.db;
    this.#options = options;
    this.#revision = opened.revision;
    this.#compactRevision = opened.compactRevision;
    this.#compactedThrough = opened.compactedThrough;
    this.#s = prepare(this.#db);
    this.#db.pragma("wal_autocheckpoint = 0");
    this.#loopWriter = new BatchWriter(this.#db);
    this.#placement = placement;
    this.#offload = offload;
    this.#inThread = placement === "thread";
    this.#hub = new WatchHub({
      queueLimit: options.watchQueueLimit,
      historySize: options.watchHistory,
      revision: this.#revision,
      compactedRevision: () => this.#compactRevision,
      source: (key, prefix, after, upTo) => Promise.resolve(this.#history(key, prefix, after, upTo)),
    });
    this.#compactor = new Compactor({ store: this, options: options.compaction });
  }

  /**
   * Opens (or creates) the store at `path`, creating its directory if needed. A file that is
   * not a k8ts store, is damaged, or was written by a newer k8ts is refused with an error
   * that says what to do; it is never reset.
   */
  static async open(path: string, options: StoreOptions = compileStoreOptions(), openOptions: SqliteOpenOptions = {}): Promise<SqliteStore> {
    if (typeof path !== "string" || path === "") throw invalid("sqlite store needs a file path, e.g. sqlite:///var/lib/k8ts/state.db");
    const file = resolve(path);
    // quick_check reads every page (~70 ms for 140 MB when cached): a damaged file is refused
    // at startup instead of failing some requests later.
    const opened = openDatabase(file, { synchronous: options.sqliteSynchronous, verify: true });
    const placement = openOptions.writer ?? "auto";
    if (placement !== "auto" && placement !== "thread" && placement !== "loop") throw invalid(`sqlite writer must be auto, thread or loop, got ${String(placement)}`);
    const offload = openOptions.offload ?? DEFAULT_OFFLOAD;
    if (!(offload.aboveMs >= 0 && offload.belowMs >= 0 && offload.minBatch >= 0)) throw invalid(`sqlite offload policy must be non-negative numbers, got ${JSON.stringify(offload)}`);
    const store = new SqliteStore(file, options, opened, placement, offload);
    store.#start();
    return store;
  }

  /**
   * Makes `targetPath` a copy of the snapshot in `snapshotFile` (written by `snapshot()`),
   * with every key, revision and the history the snapshot holds. Refuses to replace an
   * existing database unless `overwrite`; never touches the target when the snapshot is bad.
   */
  static async restore(snapshotFile: string, targetPath: string, opts: SqliteRestoreOptions = {}): Promise<void> {
    const source = resolve(snapshotFile);
    const target = resolve(targetPath);
    if (source === target) throw invalid(`snapshot ${source} and restore target are the same file`);
    const snap = openDatabase(source, { readonly: true, verify: true });
    try {
      const holdsData = (f: string): boolean => existsSync(f) && statSync(f).size > 0;
      if (!opts.overwrite && (holdsData(target) || holdsData(`${target}-wal`))) {
        throw new StorageError("AlreadyExists", `${target} already holds a database; restore into a new path, or pass overwrite (--force) to replace it`, { key: target });
      }
      if (existsSync(target) && inUse(target)) {
        throw unavailable(`${target} is open in a running process (a k8ts server?); stop it before restoring over its database`);
      }
      await mkdir(dirname(target), { recursive: true });
      const tmp = `${target}.restore-${randomBytes(4).toString("hex")}`;
      try {
        await snap.db.backup(tmp);
        await fsyncFile(tmp);
        // A WAL left beside the old file would be replayed into the restored one.
        await rm(`${target}-wal`, { force: true });
        await rm(`${target}-shm`, { force: true });
        await rename(tmp, target);
        await fsyncFile(dirname(target));
      } catch (err) {
        await rm(tmp, { force: true });
        throw err instanceof StorageError ? err : unavailable(`cannot restore ${source} into ${target}: ${(err as Error).message}`);
      }
    } finally {
      snap.db.close();
    }
  }

  #start(): void {
    this.#sweeper = setInterval(() => this.#sweep(), this.#options.ttlSweepMs);
    this.#sweeper.unref();
    this.#compactor.start();
    if (this.#compactedThrough < this.#compactRevision) this.#compacting = this.#removeCompacted().catch(() => {});
  }

  /** Where the next batch commits: on the event loop or in the writer thread. */
  get committingIn(): "loop" | "thread" {
    return this.#inThread ? "thread" : "loop";
  }

  async get(key: string, opts: GetOptions = {}): Promise<GetResult> {
    this.#ensureOpen();
    const revision = this.#readRevision(opts.revision);
    return this.#read(() => {
      const row = revision === this.#revision && !this.#inFlightKeys.has(key) ? this.#s.getLatest.get(key) : this.#s.getAt.get(key, revision);
      return { revision, kv: row === undefined || row.type === ROW_DELETE ? undefined : rowKv(row) };
    });
  }

  create(key: string, value: Uint8Array, opts: WriteOptions = {}): Promise<KeyValue> {
    return this.#enqueue((done) => {
      validateKey(key);
      validateValue(key, value);
      return { kind: "create", key, value: new Uint8Array(value), ttl: validateTtl(key, opts.ttlSeconds), done: done as Settle<KeyValue> };
    });
  }

  update(key: string, value: Uint8Array, expectedModRevision: number, opts: WriteOptions = {}): Promise<KeyValue> {
    return this.#enqueue((done) => {
      validateKey(key);
      validateValue(key, value);
      return { kind: "update", key, value: new Uint8Array(value), ttl: validateTtl(key, opts.ttlSeconds), expected: expectedModRevision, done: done as Settle<KeyValue> };
    });
  }

  delete(key: string, expectedModRevision?: number): Promise<DeleteResult> {
    return this.#enqueue<DeleteResult>((done) => ({ kind: "delete", key, expected: expectedModRevision, done }));
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.#ensureOpen();
    let revision: number;
    let start = prefix;
    if (opts.continue !== undefined && opts.continue !== "") {
      const pos = decodeContinue(prefix, opts.continue);
      if (opts.revision && opts.revision !== pos.revision) throw invalid(`list revision ${opts.revision} differs from the continue token's revision ${pos.revision}`);
      if (pos.revision < this.#compactRevision) throw expired(this.#compactRevision);
      if (pos.revision > this.#revision) throw invalid(`continue token revision ${pos.revision} is newer than the store (${this.#revision})`);
      revision = pos.revision;
      start = pos.startKey;
    } else {
      revision = this.#readRevision(opts.revision);
    }
    const limit = opts.limit ?? 0;
    if (!Number.isSafeInteger(limit) || limit < 0) throw invalid(`list limit must be a non-negative integer, got ${limit}`);

    const end = prefixEnd(prefix);
    const latest = revision === this.#revision && !this.#inFlightUnder(prefix);
    return this.#read(() => {
      const rows = latest ? this.#s.listLatest(end, start, limit === 0 ? -1 : limit + 1) : this.#s.listAt(end, start, revision, limit === 0 ? -1 : limit + 1);
      if (limit === 0 || rows.length <= limit) return { kvs: rows.map(rowKv), revision };
      const kvs = rows.slice(0, limit).map(rowKv);
      const total = latest ? this.#s.countLatest(end, start) : this.#s.countAt(end, start, revision);
      const last = kvs[kvs.length - 1] as KeyValue;
      return { kvs, revision, continue: encodeContinue(prefix, last.key, revision), remainingItemCount: total - limit };
    });
  }

  async count(prefix: string): Promise<{ readonly revision: number; readonly count: number }> {
    this.#ensureOpen();
    const revision = this.#revision;
    return this.#read(() => ({
      revision,
      count: this.#inFlightUnder(prefix) ? this.#s.countAt(prefixEnd(prefix), prefix, revision) : this.#s.countLatest(prefixEnd(prefix), prefix),
    }));
  }

  async watch(key: string, opts: WatchOptions = {}): Promise<Watch> {
    this.#ensureOpen();
    return this.#hub.subscribe(key, opts.prefix ?? true, opts.afterRevision || this.#revision);
  }

  async currentRevision(): Promise<number> {
    this.#ensureOpen();
    return this.#revision;
  }

  async compactedRevision(): Promise<number> {
    this.#ensureOpen();
    return this.#compactRevision;
  }

  /**
   * Raises the compact revision at once (reads below it fail from now on), then deletes the
   * log rows no later read can need, in chunks, resuming after a restart if interrupted.
   */
  async compact(revision?: number): Promise<void> {
    this.#ensureOpen();
    const target = revision ?? this.#revision;
    if (!Number.isSafeInteger(target) || target < 0) throw invalid(`compact revision must be a non-negative integer, got ${target}`);
    if (target > this.#revision) throw invalid(`cannot compact to revision ${target}: the current revision is ${this.#revision}`);
    if (target < this.#compactRevision) throw compacted(target, this.#compactRevision);
    if (target === this.#compactRevision) return this.#compacting;
    const previous = this.#compactRevision;
    this.#compactRevision = target;
    const run = this.#compacting.then(async () => {
      try {
        await this.#maintain((w) => w.setMeta("compact_revision", target));
      } catch (err) {
        if (this.#compactRevision === target) this.#compactRevision = previous;
        throw sqliteError(this.file, err);
      }
      await this.#removeCompacted();
    });
    this.#compacting = run.catch(() => {});
    return run;
  }

  async #removeCompacted(): Promise<void> {
    while (!this.#closed && this.#compactedThrough < this.#compactRevision) {
      const upTo = this.#compactRevision;
      const from = this.#compactedThrough;
      const to = Math.min(from + COMPACT_CHUNK, upTo);
      try {
        await this.#maintain((w) => w.compactRange(from, to, upTo));
      } catch (err) {
        throw sqliteError(this.file, err);
      }
      this.#compactedThrough = to;
      // Readers and writers get turns between chunks.
      await new Promise<void>((r) => setImmediate(r));
    }
  }

  /** Writes a consistent copy of the database to `file` (SQLite's online backup) while writes go on. */
  async snapshot(file: string): Promise<void> {
    this.#ensureOpen();
    const target = resolve(file);
    if (target === this.file) throw invalid(`snapshot target ${target} is the store itself`);
    await mkdir(dirname(target), { recursive: true });
    const tmp = `${target}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      await this.#db.backup(tmp, { progress: backupPace() });
      await fsyncFile(tmp);
      await rename(tmp, target);
      await fsyncFile(dirname(target));
    } catch (err) {
      await rm(tmp, { force: true });
      throw sqliteError(target, err);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweeper);
    await this.#compactor.stop();
    // Writes accepted before close are committed (and acknowledged) before the file closes.
    await this.#drain();
    await this.#sweeping;
    await this.#compacting;
    await this.#checkpointing;
    await this.#drain();
    this.#hub.close();
    await this.#threadWriter?.close();
    this.#loopWriter.close();
    this.#db.close();
  }

  #ensureOpen(): void {
    if (this.#closed) throw unavailable(`SQLite store ${this.file} is closed`);
  }

  #read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw sqliteError(this.file, err);
    }
  }

  #readRevision(requested: number | undefined): number {
    if (requested === undefined || requested === 0) return this.#revision;
    if (!Number.isSafeInteger(requested) || requested < 0) throw invalid(`revision must be a non-negative integer, got ${requested}`);
    if (requested < this.#compactRevision) throw compacted(requested, this.#compactRevision);
    if (requested > this.#revision) throw invalid(`revision ${requested} is newer than the current revision ${this.#revision}`);
    return requested;
  }

  /** Whether a key under `prefix` is in the batch being committed (reads under it are then made at #revision). */
  #inFlightUnder(prefix: string): boolean {
    if (this.#inFlightKeys.size === 0) return false;
    if (prefix === "") return true;
    for (const k of this.#inFlightKeys) if (k.startsWith(prefix)) return true;
    return false;
  }

  #enqueue<T>(make: (done: Settle<T>) => Op): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#closed) throw unavailable(`SQLite store ${this.file} is closed`);
      this.#pending.push(make({ resolve, reject }));
      this.#schedule();
    });
  }

  /**
   * Maintenance writes wait for the batch being committed and go before the next one, where
   * batches commit (or in the writer thread when `inThread`; batches wait for it meanwhile).
   */
  #maintain(run: (w: Maintenance) => void | Promise<void>, inThread = false): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#maintenance.push({ run, inThread, resolve, reject });
      this.#schedule();
    });
  }

  /** Flushes at the next turn of the loop (so the writes of this turn go together), unless the writer thread is busy: its settling flushes. */
  #schedule(): void {
    if (this.#busy || this.#flushTimer !== undefined) return;
    this.#flushTimer = setImmediate(() => {
      this.#flushTimer = undefined;
      this.#flush();
    });
  }

  /** Writes everything queued; for close. */
  async #drain(): Promise<void> {
    if (this.#flushTimer !== undefined) clearImmediate(this.#flushTimer);
    this.#flushTimer = undefined;
    while (this.#busy || this.#pending.length > 0 || this.#maintenance.length > 0) {
      if (this.#busy) await this.#busyDone;
      else if (this.#maintenance.length === 0 && this.#holdForCheckpoint()) await this.#checkpointing;
      else this.#flush();
    }
  }

  #writerThread(): SqliteWriterThread {
    return (this.#threadWriter ??= new SqliteWriterThread(this.file, this.#options.sqliteSynchronous));
  }

  /** Commits the next maintenance write, or up to MAX_BATCH waiting writes in one transaction. */
  #flush(): void {
    if (this.#busy) return;
    const task = this.#maintenance.shift();
    if (task !== undefined) {
      if (!this.#inThread && !task.inThread) {
        this.#wroteBesideCheckpoint = true;
        try {
          void task.run(this.#loopWriter);
          task.resolve();
        } catch (err) {
          task.reject(err);
        }
        this.#afterWrite();
        return;
      }
      this.#busy = true;
      this.#busyDone = Promise.resolve(task.run(this.#writerThread())).then(task.resolve, task.reject).finally(() => {
        this.#busy = false;
        this.#afterWrite();
      });
      return;
    }
    if (this.#pending.length === 0 || this.#holdForCheckpoint()) return;
    const batch = this.#pending.length <= MAX_BATCH ? this.#pending : this.#pending.slice(0, MAX_BATCH);
    this.#pending = this.#pending.length <= MAX_BATCH ? [] : this.#pending.slice(MAX_BATCH);
    if (!this.#inThread) {
      this.#wroteBesideCheckpoint = true;
      let committed: Committed;
      try {
        committed = this.#loopWriter.commit(batch, this.#revision);
      } catch (err) {
        this.#refuse(batch, err);
        return;
      }
      this.#observe(committed, batch.length);
      this.#settle(batch, committed.results);
      return;
    }
    this.#busy = true;
    for (const op of batch) this.#inFlightKeys.add(op.key);
    this.#busyDone = this.#writerThread()
      .commit(batch.map(wireOp), this.#revision)
      .then(
        (committed) => {
          this.#observe(committed, batch.length);
          this.#settle(batch, committed.results);
        },
        (err: unknown) => this.#refuse(batch, err),
      );
  }

  /** Moves commits to the writer thread while they wait long for the disk and writers overlap, and back once either stops. */
  #observe(committed: Committed, writes: number): void {
    const p = this.#offload;
    const ms = p.by === "time" ? committed.commitMs : committed.waitMs;
    // A rare long commit moves the average only a little: the placement follows what commits
    // take most of the time.
    if (ms !== undefined) this.#commitMs += (Math.min(ms, 5 * p.aboveMs) - this.#commitMs) * 0.3;
    this.#batchSize += (writes - this.#batchSize) * 0.1;
    if (this.#placement !== "auto") return;
    if (!this.#inThread && this.#commitMs >= p.aboveMs && this.#batchSize >= p.minBatch) this.#inThread = true;
    else if (this.#inThread && (this.#commitMs < p.belowMs || this.#batchSize < p.minBatch / 2)) this.#inThread = false;
  }

  /**
   * A write is done: the writer thread (when it was used) is free for the next one at once;
   * on the loop, what is left goes at the next turn, as if it had just arrived.
   */
  #afterWrite(): void {
    this.#busy = false;
    this.#inFlightKeys.clear();
    if (this.#closed) return;
    if (this.#inThread) this.#flush();
    else if (this.#pending.length > 0 || this.#maintenance.length > 0) this.#schedule();
  }

  /** A committed batch: the revision moves on, the next batch goes, then watchers and writers hear. */
  #settle(batch: readonly Op[], results: readonly WriteResult[]): void {
    const events: WatchEvent[] = [];
    const outcomes: Array<{ readonly op: Op; readonly event?: WatchEvent; readonly error?: StorageError }> = [];
    batch.forEach((op, i) => {
      const r = results[i];
      if (r === undefined) {
        outcomes.push({ op, error: unavailable(`SQLite store ${this.file}: the writer answered ${results.length} of ${batch.length} writes`) });
        return;
      }
      if (!r.ok) {
        let error: StorageError;
        if (r.refused === "Conflict") error = conflict(op.key, op.kind === "create" ? 0 : (op.expected ?? 0), rowKvOf(op.key, r.current));
        else error = r.refused === "AlreadyExists" ? alreadyExists(op.key) : notFound(op.key);
        outcomes.push({ op, error });
        return;
      }
      this.#revision = r.revision;
      let event: WatchEvent;
      if (op.kind === "create") {
        event = { type: "create", revision: r.revision, kv: { key: op.key, value: op.value, createRevision: r.revision, modRevision: r.revision, ttlSeconds: op.ttl } };
      } else {
        const prevKv = rowKvOf(op.key, r.prev as RowData);
        event =
          op.kind === "update"
            ? { type: "update", revision: r.revision, kv: { key: op.key, value: op.value, createRevision: r.createRevision, modRevision: r.revision, ttlSeconds: op.ttl }, prevKv }
            : { type: "delete", revision: r.revision, kv: { ...prevKv, modRevision: r.revision }, prevKv };
      }
      events.push(event);
      outcomes.push({ op, event });
    });
    this.#afterWrite();
    for (const op of batch) this.#walPages += 1 + (op.kind === "delete" ? 0 : Math.ceil(op.value.byteLength / 4096));
    this.#checkpointSoon();
    try {
      this.#hub.publish(events);
    } finally {
      // Committed is committed: the writers hear so even if fan-out broke.
      for (const { op, event, error } of outcomes) {
        if (event === undefined) op.done.reject(error);
        else if (op.kind === "delete") (op.done as Settle<DeleteResult>).resolve({ revision: event.revision, prevKv: event.prevKv as KeyValue });
        else (op.done as Settle<KeyValue>).resolve(event.kv);
      }
    }
  }

  /**
   * Checkpoints in the writer thread after CHECKPOINT_PAGES, without holding batches up. Only
   * a checkpoint that copies all of the WAL lets the next commit start it over. In the thread,
   * batches and checkpoints take turns, so one copies everything; batches committed on the loop
   * meanwhile are not copied (and, past WAL_HOLD_PAGES, wait): then, once the WAL is
   * WAL_RESTART_PAGES long, one more checkpoint runs between two batches, copying only what
   * was written since the one before.
   */
  #checkpointSoon(): void {
    if (this.#walPages < CHECKPOINT_PAGES || this.#checkpointing !== undefined || this.#closed) return;
    this.#walPages = 0;
    this.#wroteBesideCheckpoint = false;
    const thread = this.#writerThread();
    // A checkpoint that fails leaves the WAL longer until the next one; writes go on either way.
    this.#checkpointing = thread
      .checkpoint()
      .then(async (wal) => {
        if ((wal.copied < wal.pages || this.#wroteBesideCheckpoint) && wal.pages >= WAL_RESTART_PAGES) {
          await this.#maintain(() => thread.checkpoint().then(() => undefined), true);
          // Batches waited for that pass, which copied everything before it.
          this.#walPages = 0;
        }
      })
      .catch(() => undefined)
      .finally(() => {
        this.#checkpointing = undefined;
        if (!this.#closed && this.#pending.length > 0) this.#schedule();
      });
  }

  /**
   * Whether batches on the loop wait for the running checkpoint: the WAL has grown
   * WAL_HOLD_PAGES behind it. Batches for the thread queue behind the checkpoint there anyway.
   */
  #holdForCheckpoint(): boolean {
    return !this.#inThread && this.#checkpointing !== undefined && this.#walPages >= WAL_HOLD_PAGES;
  }

  /** A batch the writer failed: nothing of it was committed. */
  #refuse(batch: readonly Op[], err: unknown): void {
    const code = (err as { code?: unknown }).code;
    // Revisions are assigned in this process; a taken one means someone else writes here too.
    const error =
      code === "SQLITE_CONSTRAINT_PRIMARYKEY"
        ? unavailable(`another process has written to SQLite store ${this.file}: only one k8ts server may own a store; stop the other one, then restart this one`)
        : sqliteError(this.file, err);
    this.#afterWrite();
    for (const op of batch) op.done.reject(error);
  }

  #history(key: string, prefix: boolean, after: number, upTo: number): WatchEvent[] {
    if (after < this.#compactRevision) throw compacted(after + 1, this.#compactRevision);
    const rows = this.#read(() => (prefix ? this.#s.historyPrefix(prefixEnd(key), key, after, upTo) : this.#s.historyKey.all(key, after, upTo)));
    return rows.map((r): WatchEvent => {
      const prevKv: KeyValue | undefined =
        r.p_revision === null ? undefined : { key: r.key, value: toBytes(r.p_value), createRevision: r.p_create as number, modRevision: r.p_revision, ttlSeconds: r.p_ttl as number };
      if (r.type === ROW_CREATE) return { type: "create", revision: r.revision, kv: rowKv(r) };
      if (r.type === ROW_UPDATE) return prevKv === undefined ? { type: "update", revision: r.revision, kv: rowKv(r) } : { type: "update", revision: r.revision, kv: rowKv(r), prevKv };
      const kv: KeyValue = prevKv === undefined ? rowKv(r) : { ...prevKv, modRevision: r.revision };
      return prevKv === undefined ? { type: "delete", revision: r.revision, kv } : { type: "delete", revision: r.revision, kv, prevKv };
    });
  }

  /** Deletes expired keys through the write path, so watchers see them go; a key rewritten meanwhile is left alone (CAS). */
  #sweep(): void {
    if (this.#closed || this.#sweeping !== undefined) return;
    let due: Array<{ key: string; revision: number }>;
    try {
      due = this.#s.expired.all(Date.now());
    } catch {
      return;
    }
    if (due.length === 0) return;
    this.#sweeping = Promise.allSettled(due.map((d) => this.delete(d.key, d.revision))).then(() => {
      this.#sweeping = undefined;
    });
  }
}

/** The write without its callbacks, as the writer thread gets it. */
function wireOp(op: Op): WriteOp {
  if (op.kind === "create") return { kind: "create", key: op.key, value: op.value, ttl: op.ttl };
  if (op.kind === "update") return { kind: "update", key: op.key, value: op.value, ttl: op.ttl, expected: op.expected };
  return { kind: "delete", key: op.key, expected: op.expected };
}

function rowKvOf(key: string, r: RowData): KeyValue {
  return { key, value: r.value, createRevision: r.createRevision, modRevision: r.revision, ttlSeconds: r.ttl };
}

function expired(compactRevision: number): StorageError {
  return new StorageError(
    "Expired",
    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
    { compactRevision },
  );
}

/** Whether another connection has `file` open: an exclusive lock is refused while one does. */
function inUse(file: string): boolean {
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { timeout: 0 });
    db.pragma("locking_mode = EXCLUSIVE");
    db.exec("BEGIN EXCLUSIVE; COMMIT;");
    return false;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    // Anything else (a damaged file being replaced on purpose) is not a sign of a live user.
    return typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"));
  } finally {
    db?.close();
  }
}

/**
 * Pages per backup step. Steps let the event loop run between them, and writes through this
 * connection update the copy as it goes. A write by another process (a server, while
 * `k8ts snapshot save` runs beside it) restarts the copy instead; once that is seen, the rest
 * is copied in one step, inside one read transaction, so a busy writer cannot starve it.
 */
function backupPace(): (p: { totalPages: number; remainingPages: number }) => number {
  let last = Number.POSITIVE_INFINITY;
  let allAtOnce = false;
  return ({ remainingPages }) => {
    if (remainingPages > last) allAtOnce = true;
    last = remainingPages;
    return allAtOnce ? 0x7fffffff : 1000;
  };
}

async function fsyncFile(path: string): Promise<void> {
  const fh = await openFile(path, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Every statement the store runs, prepared once. Range queries come in two shapes: with an upper key bound and without (prefix ""). */
function prepare(db: Database.Database) {
  const ROW = "l.revision, l.key, l.type, l.create_revision, l.value, l.ttl";
  const ranged = <P extends unknown[], R>(withEnd: string, withoutEnd: string) => {
    const a = db.prepare<P, R>(withEnd);
    const b = db.prepare<P, R>(withoutEnd);
    return { withEnd: a, withoutEnd: b };
  };
  const listLatest = ranged<unknown[], Row>(
    `SELECT ${ROW} FROM current c JOIN log l ON l.revision = c.revision WHERE c.key >= ? AND c.key < ? ORDER BY c.key LIMIT ?`,
    `SELECT ${ROW} FROM current c JOIN log l ON l.revision = c.revision WHERE c.key >= ? ORDER BY c.key LIMIT ?`,
  );
  const atRevision = (range: string) =>
    `SELECT ${ROW} FROM (SELECT key AS k, max(revision) AS r FROM log WHERE ${range} AND revision <= ? GROUP BY key) g JOIN log l ON l.revision = g.r WHERE l.type != ${ROW_DELETE}`;
  const listAt = ranged<unknown[], Row>(`${atRevision("key >= ? AND key < ?")} ORDER BY g.k LIMIT ?`, `${atRevision("key >= ?")} ORDER BY g.k LIMIT ?`);
  const countAt = ranged<unknown[], number>(`SELECT count(*) FROM (${atRevision("key >= ? AND key < ?")})`, `SELECT count(*) FROM (${atRevision("key >= ?")})`);
  const countLatest = ranged<unknown[], number>("SELECT count(*) FROM current WHERE key >= ? AND key < ?", "SELECT count(*) FROM current WHERE key >= ?");
  const HISTORY = `SELECT ${ROW}, p.revision AS p_revision, p.create_revision AS p_create, p.value AS p_value, p.ttl AS p_ttl FROM log l LEFT JOIN log p ON p.revision = l.prev_revision`;
  const historyPrefix = ranged<unknown[], HistoryRow>(
    `${HISTORY} WHERE l.revision > ? AND l.revision <= ? AND l.key >= ? AND l.key < ? ORDER BY l.revision`,
    `${HISTORY} WHERE l.revision > ? AND l.revision <= ? AND l.key >= ? ORDER BY l.revision`,
  );
  countAt.withEnd.pluck();
  countAt.withoutEnd.pluck();
  countLatest.withEnd.pluck();
  countLatest.withoutEnd.pluck();

  return {
    getLatest: db.prepare<[string], Row>(`SELECT ${ROW} FROM current c JOIN log l ON l.revision = c.revision WHERE c.key = ?`),
    getAt: db.prepare<[string, number], Row>(`SELECT ${ROW} FROM log l WHERE l.key = ? AND l.revision <= ? ORDER BY l.revision DESC LIMIT 1`),
    expired: db.prepare<[number], { key: string; revision: number }>("SELECT key, revision FROM current WHERE expires_at IS NOT NULL AND expires_at <= ? ORDER BY expires_at LIMIT 1000"),
    historyKey: db.prepare<[string, number, number], HistoryRow>(`${HISTORY} WHERE l.key = ? AND l.revision > ? AND l.revision <= ? ORDER BY l.revision`),
    listLatest: (end: string | undefined, start: string, limit: number): Row[] => (end === undefined ? listLatest.withoutEnd.all(start, limit) : listLatest.withEnd.all(start, end, limit)),
    listAt: (end: string | undefined, start: string, revision: number, limit: number): Row[] =>
      end === undefined ? listAt.withoutEnd.all(start, revision, limit) : listAt.withEnd.all(start, end, revision, limit),
    countLatest: (end: string | undefined, start: string): number => (end === undefined ? countLatest.withoutEnd.get(start) : countLatest.withEnd.get(start, end)) ?? 0,
    countAt: (end: string | undefined, start: string, revision: number): number =>
      (end === undefined ? countAt.withoutEnd.get(start, revision) : countAt.withEnd.get(start, end, revision)) ?? 0,
    historyPrefix: (end: string | undefined, start: string, after: number, upTo: number): HistoryRow[] =>
      end === undefined ? historyPrefix.withoutEnd.all(after, upTo, start) : historyPrefix.withEnd.all(after, upTo, start, end),
  };
}
