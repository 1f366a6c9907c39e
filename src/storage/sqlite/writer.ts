// The SQLite store's writes. BatchWriter commits a batch of writes in one transaction on a
// connection; the store runs it on its own connection, or, when commits take long enough to
// stall its event loop (a slow fsync under synchronous=FULL), in a worker thread that owns a
// second, writing connection (SqliteWriterThread). better-sqlite3 is synchronous, so only a
// thread takes a commit off the event loop; handing work to it costs two thread wake-ups and
// copies per batch, which is more than a fast commit costs.
//
// Writes are decided the same way in both places: refusals (exists, missing, conflict) are
// found before a write touches a table, so they leave the transaction clean for the others;
// revisions are assigned in batch order after the revision the store gives with the batch.
import { closeSync, openSync, readSync, writeFileSync } from "node:fs";
import { Worker, isMainThread, parentPort, workerData, type MessagePort } from "node:worker_threads";
import { performance } from "node:perf_hooks";
import Database from "better-sqlite3";
import { ROW_CREATE, ROW_DELETE, ROW_UPDATE } from "./schema.js";

/** A write as the store hands it over. */
export type WriteOp =
  | { readonly kind: "create"; readonly key: string; readonly value: Uint8Array; readonly ttl: number }
  | { readonly kind: "update"; readonly key: string; readonly value: Uint8Array; readonly ttl: number; readonly expected: number }
  | { readonly kind: "delete"; readonly key: string; readonly expected: number | undefined };

/** A row as the writer read it. */
export interface RowData {
  readonly revision: number;
  readonly createRevision: number;
  readonly value: Uint8Array;
  readonly ttl: number;
}

/** What became of one write of a committed batch. */
export type WriteResult =
  | { readonly ok: true; readonly revision: number; readonly createRevision: number; readonly prev?: RowData }
  | { readonly ok: false; readonly refused: "AlreadyExists" | "NotFound" }
  | { readonly ok: false; readonly refused: "Conflict"; readonly current: RowData };

export interface Committed {
  /** In the order of the batch's writes. */
  readonly results: readonly WriteResult[];
  /**
   * How long COMMIT (writing the batch to the WAL and, under synchronous=FULL, its fsync) kept
   * the thread asleep, waiting for the disk: its duration less the time the thread ran or
   * waited for a CPU (Linux; elsewhere the whole duration). On one CPU only waiting is worth
   * moving to another thread (its work would take the same CPU, with the hand-off on top); the
   * store's offload policy says which of waitMs and commitMs it goes by. Measured on one commit
   * in sixteen (absent on the others): reading the clock costs two reads of a /proc file.
   */
  readonly waitMs?: number;
  /** How long COMMIT took (ms), on the same commits as waitMs. */
  readonly commitMs?: number;
}

/** This thread's CPU time and run-queue wait (ns) from /proc/thread-self/schedstat, where Linux has it. */
class ThreadClock {
  readonly #fd: number | undefined;
  readonly #buf = Buffer.alloc(96);

  constructor() {
    try {
      this.#fd = openSync("/proc/thread-self/schedstat", "r");
    } catch {
      this.#fd = undefined;
    }
  }

  /** Nanoseconds this thread ran or was ready to run, or undefined where that is not known. */
  busyNs(): number | undefined {
    if (this.#fd === undefined) return undefined;
    const n = readSync(this.#fd, this.#buf, 0, this.#buf.length, 0);
    const [ran, queued] = this.#buf.toString("latin1", 0, n).split(" ");
    const total = Number(ran) + Number(queued);
    return Number.isFinite(total) ? total : undefined;
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
  }
}

/** Schema changes and compaction go through the same writer as the batches. */
export interface Maintenance {
  setMeta(name: string, value: number): void | Promise<void>;
  /** Deletes the log rows in (from, to] that no read at or above `upTo` needs, and records how far compaction got. */
  compactRange(from: number, to: number, upTo: number): void | Promise<void>;
}

interface Row {
  readonly revision: number;
  readonly create_revision: number;
  readonly value: Buffer | null;
  readonly ttl: number;
}

/** The store's writes on one connection. A method that throws has committed nothing. */
export class BatchWriter implements Maintenance {
  readonly #db: Database.Database;
  readonly #s;
  readonly #compact: (from: number, to: number, upTo: number) => void;
  readonly #clock = new ThreadClock();
  #commits = 0;

  /**
   * `ownValues`: copy the values of rows read into buffers of their own (to hand them to
   * another thread) instead of viewing SQLite's buffers.
   */
  constructor(
    db: Database.Database,
    private readonly ownValues = false,
  ) {
    this.#db = db;
    const ROW = "l.revision, l.create_revision, l.value, l.ttl";
    this.#s = {
      begin: db.prepare("BEGIN IMMEDIATE"),
      commit: db.prepare("COMMIT"),
      rollback: db.prepare("ROLLBACK"),
      exists: db.prepare<[string], { revision: number }>("SELECT revision FROM current WHERE key = ?"),
      getLatest: db.prepare<[string], Row>(`SELECT ${ROW} FROM current c JOIN log l ON l.revision = c.revision WHERE c.key = ?`),
      insertLog: db.prepare<[number, string, number, number, number, Uint8Array | null, number]>(
        "INSERT INTO log (revision, key, type, create_revision, prev_revision, value, ttl) VALUES (?, ?, ?, ?, ?, ?, ?)",
      ),
      upsertCurrent: db.prepare<[string, number, number, number | null]>(
        "INSERT INTO current (key, revision, create_revision, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET revision = excluded.revision, create_revision = excluded.create_revision, expires_at = excluded.expires_at",
      ),
      deleteCurrent: db.prepare<[string]>("DELETE FROM current WHERE key = ?"),
      setMeta: db.prepare<[number, string]>("UPDATE meta SET value = ? WHERE name = ?"),
      // A row at or below the compact revision is needed only while it is its key's newest
      // such row and not a deletion: that is what a read at the compact revision returns, and
      // what a later update or delete refers to as its previous value.
      compactRange: db.prepare<[{ from: number; to: number; upTo: number }]>(
        `DELETE FROM log WHERE revision > $from AND revision <= $to AND (type = ${ROW_DELETE} OR revision < (SELECT max(m.revision) FROM log m WHERE m.key = log.key AND m.revision <= $upTo))`,
      ),
    };
    this.#compact = db.transaction((from: number, to: number, upTo: number) => {
      this.#s.compactRange.run({ from, to, upTo });
      this.#s.setMeta.run(to, "compacted_through");
    });
  }

  /** Commits `ops` in one transaction, numbering the writes that succeed from `revision` + 1. */
  commit(ops: readonly WriteOp[], revision: number): Committed {
    const s = this.#s;
    s.begin.run();
    try {
      let rev = revision;
      const results = ops.map((op) => {
        const r = this.#apply(op, rev);
        if (r.ok) rev = r.revision;
        return r;
      });
      if (this.#commits++ % 16 !== 0) {
        s.commit.run();
        return { results };
      }
      const busyBefore = this.#clock.busyNs();
      const started = performance.now();
      s.commit.run();
      const ms = performance.now() - started;
      const busyAfter = this.#clock.busyNs();
      const waitMs = busyBefore === undefined || busyAfter === undefined ? ms : Math.max(0, ms - (busyAfter - busyBefore) / 1e6);
      return { results, waitMs, commitMs: ms };
    } catch (err) {
      // A failed COMMIT may leave the transaction open (SQLITE_BUSY) or have rolled it back.
      if (this.#db.inTransaction) s.rollback.run();
      throw err;
    }
  }

  setMeta(name: string, value: number): void {
    this.#s.setMeta.run(value, name);
  }

  /** Releases what the writer holds besides the connection (which its owner closes). */
  close(): void {
    this.#clock.close();
  }

  compactRange(from: number, to: number, upTo: number): void {
    this.#compact(from, to, upTo);
  }

  #apply(op: WriteOp, revision: number): WriteResult {
    const s = this.#s;
    const { key } = op;
    if (op.kind === "create") {
      if (s.exists.get(key) !== undefined) return { ok: false, refused: "AlreadyExists" };
      const rev = revision + 1;
      s.insertLog.run(rev, key, ROW_CREATE, rev, 0, op.value, op.ttl);
      s.upsertCurrent.run(key, rev, rev, expiry(op.ttl));
      return { ok: true, revision: rev, createRevision: rev };
    }
    const row = s.getLatest.get(key);
    if (row === undefined) return { ok: false, refused: "NotFound" };
    const prev = this.#rowData(row);
    if (op.expected !== undefined && row.revision !== op.expected) return { ok: false, refused: "Conflict", current: prev };
    const rev = revision + 1;
    if (op.kind === "update") {
      s.insertLog.run(rev, key, ROW_UPDATE, row.create_revision, row.revision, op.value, op.ttl);
      s.upsertCurrent.run(key, rev, row.create_revision, expiry(op.ttl));
    } else {
      s.insertLog.run(rev, key, ROW_DELETE, row.create_revision, row.revision, null, 0);
      s.deleteCurrent.run(key);
    }
    return { ok: true, revision: rev, createRevision: row.create_revision, prev };
  }

  #rowData(row: Row): RowData {
    const b = row.value;
    // A plain Uint8Array (not a Buffer), so values compare equal across backends.
    const value = b === null ? new Uint8Array(0) : this.ownValues ? new Uint8Array(b) : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    return { revision: row.revision, createRevision: row.create_revision, value, ttl: row.ttl };
  }
}

function expiry(ttl: number): number | null {
  return ttl > 0 ? Date.now() + ttl * 1000 : null;
}

// ---- the writer thread ----------------------------------------------------------------------

/** A request the writer thread failed (nothing of it was committed), or every request once the thread is gone. */
export class WriterError extends Error {
  override readonly name = "WriterError";
  constructor(
    message: string,
    /** SQLite's error code (SQLITE_BUSY, SQLITE_FULL, ...) when SQLite failed the request. */
    readonly code?: string,
  ) {
    super(message);
  }
}

type Request =
  | { readonly id: number; readonly type: "batch"; readonly ops: readonly WriteOp[]; readonly revision: number }
  | { readonly id: number; readonly type: "checkpoint" }
  | { readonly id: number; readonly type: "setMeta"; readonly name: string; readonly value: number }
  | { readonly id: number; readonly type: "compactRange"; readonly from: number; readonly to: number; readonly upTo: number }
  | { readonly id: number; readonly type: "close" };

type Body<T> = T extends unknown ? Omit<T, "id"> : never;

interface Failure {
  readonly code?: string;
  readonly message: string;
}

export interface WalState {
  readonly pages: number;
  readonly copied: number;
}

type Response =
  | { readonly id: number; readonly ok: true; readonly committed?: Committed; readonly wal?: WalState }
  /** Id -1: the thread could not open the database and serves nothing. */
  | { readonly id: number; readonly ok: false; readonly failure: Failure };

interface ThreadData {
  readonly kind: "k8ts-sqlite-writer";
  readonly file: string;
  readonly synchronous: "FULL" | "NORMAL";
}

/**
 * A BatchWriter in a worker thread with its own connection to `file`. Requests are served in
 * the order they are sent; the thread keeps the process alive only while one is outstanding.
 */
export class SqliteWriterThread implements Maintenance {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, { resolve(r: Extract<Response, { ok: true }>): void; reject(err: unknown): void }>();
  #next = 1;
  #gone: Error | undefined;
  #closing = false;
  readonly #exited: Promise<void>;

  constructor(file: string, synchronous: "FULL" | "NORMAL") {
    const data: ThreadData = { kind: "k8ts-sqlite-writer", file, synchronous };
    this.#worker = new Worker(new URL(import.meta.url), { workerData: data });
    this.#worker.unref();
    this.#worker.on("message", (m: Response) => {
      if (m.id === -1 && !m.ok) return this.#fail(new WriterError(m.failure.message, m.failure.code));
      const w = this.#waiting.get(m.id);
      if (w === undefined) return;
      this.#waiting.delete(m.id);
      if (this.#waiting.size === 0 && !this.#closing) this.#worker.unref();
      if (m.ok) w.resolve(m);
      else w.reject(new WriterError(m.failure.message, m.failure.code));
    });
    this.#worker.on("error", (err) => this.#fail(err));
    this.#exited = new Promise((resolve) =>
      this.#worker.once("exit", (code) => {
        this.#fail(new WriterError(`the SQLite writer thread exited (code ${code})`));
        resolve();
      }),
    );
  }

  /** BatchWriter.commit in the thread. The values are copied there: the caller keeps its own. */
  async commit(ops: readonly WriteOp[], revision: number): Promise<Committed> {
    const r = await this.#call({ type: "batch", ops, revision });
    return r.committed ?? { results: [] };
  }

  async setMeta(name: string, value: number): Promise<void> {
    await this.#call({ type: "setMeta", name, value });
  }

  /**
   * Copies what the WAL holds into the database file (SQLite's PASSIVE checkpoint: it waits for
   * no reader or writer, and the store's connection may commit meanwhile). Returns the pages
   * the WAL held and how many of them are in the database file now.
   */
  async checkpoint(): Promise<WalState> {
    const r = await this.#call({ type: "checkpoint" });
    return r.wal ?? { pages: 0, copied: 0 };
  }

  async compactRange(from: number, to: number, upTo: number): Promise<void> {
    await this.#call({ type: "compactRange", from, to, upTo });
  }

  /** Closes the thread's connection (after every request sent before) and ends the thread. */
  async close(): Promise<void> {
    // Held until the thread has exited, so that a caller awaiting close() is not cut short.
    this.#closing = true;
    this.#worker.ref();
    if (this.#gone === undefined) await this.#call({ type: "close" }).catch(() => undefined);
    await this.#exited;
  }

  #call(req: Body<Request>): Promise<Extract<Response, { ok: true }>> {
    if (this.#gone !== undefined) return Promise.reject(this.#gone);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      if (this.#waiting.size === 1) this.#worker.ref();
      this.#worker.postMessage({ ...req, id });
    });
  }

  #fail(err: Error): void {
    this.#gone ??= err;
    for (const w of this.#waiting.values()) w.reject(this.#gone);
    this.#waiting.clear();
  }
}

/** What `top -H` and /proc call the writer thread (Linux keeps 15 characters). */
export const WRITER_THREAD_NAME = "k8ts-sqlite";

function serve(port: MessagePort, data: ThreadData): void {
  try {
    writeFileSync("/proc/thread-self/comm", WRITER_THREAD_NAME);
  } catch {
    // Not Linux, or no /proc: the thread keeps its name.
  }
  let db: Database.Database;
  let writer: BatchWriter;
  try {
    db = new Database(data.file, { timeout: 5000 });
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${data.synchronous}`);
    // The store asks for checkpoints when its writes have filled the WAL enough (sqlite.ts).
    db.pragma("wal_autocheckpoint = 0");
    writer = new BatchWriter(db, true);
  } catch (err) {
    port.postMessage({ id: -1, ok: false, failure: failure(err) } satisfies Response);
    return;
  }
  port.on("message", (req: Request) => {
    let res: Response;
    const transfer: ArrayBuffer[] = [];
    try {
      switch (req.type) {
        case "batch": {
          const committed = writer.commit(req.ops, req.revision);
          // The values read were copied into buffers of their own: they move to the store's thread.
          for (const r of committed.results) {
            const v = r.ok ? r.prev?.value : r.refused === "Conflict" ? r.current.value : undefined;
            if (v !== undefined && v.byteLength > 0) transfer.push(v.buffer as ArrayBuffer);
          }
          res = { id: req.id, ok: true, committed };
          break;
        }
        case "setMeta":
          writer.setMeta(req.name, req.value);
          res = { id: req.id, ok: true };
          break;
        case "checkpoint": {
          const [r] = db.pragma("wal_checkpoint(PASSIVE)") as Array<{ log: number; checkpointed: number }>;
          res = { id: req.id, ok: true, wal: { pages: r?.log ?? 0, copied: r?.checkpointed ?? 0 } };
          break;
        }
        case "compactRange":
          writer.compactRange(req.from, req.to, req.upTo);
          res = { id: req.id, ok: true };
          break;
        case "close":
          writer.close();
          db.close();
          port.postMessage({ id: req.id, ok: true } satisfies Response);
          port.close();
          return;
      }
    } catch (err) {
      res = { id: req.id, ok: false, failure: failure(err) };
    }
    port.postMessage(res, transfer);
  });
}

function failure(err: unknown): Failure {
  const code = (err as { code?: unknown }).code;
  return { ...(typeof code === "string" ? { code } : {}), message: err instanceof Error ? err.message : String(err) };
}

if (!isMainThread && parentPort !== null && (workerData as Partial<ThreadData> | null)?.kind === "k8ts-sqlite-writer") {
  serve(parentPort, workerData as ThreadData);
}
