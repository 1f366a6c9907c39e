// The SQLite store's writer: a worker thread that owns the store's one writing connection and
// commits each batch of writes it is sent in one transaction. better-sqlite3 is synchronous,
// so a commit (and its fsync under synchronous=FULL) run here instead of on the event loop
// that serves requests; the store's thread keeps a reading connection (WAL lets it read while
// this one writes) and hears of each batch once it has committed.
//
// Writes are decided here exactly as they were in the store: refusals (exists, missing,
// conflict) are found before a write touches a table, so they leave the transaction clean for
// the others; revisions are assigned in batch order, continuing from the revision the store
// opened at.
import { Worker, isMainThread, parentPort, workerData, type MessagePort } from "node:worker_threads";
import Database from "better-sqlite3";
import { ROW_CREATE, ROW_DELETE, ROW_UPDATE } from "./schema.js";

/** A write as the store's thread sends it. */
export type WriteOp =
  | { readonly kind: "create"; readonly key: string; readonly value: Uint8Array; readonly ttl: number }
  | { readonly kind: "update"; readonly key: string; readonly value: Uint8Array; readonly ttl: number; readonly expected: number }
  | { readonly kind: "delete"; readonly key: string; readonly expected: number | undefined };

/** A row as the writer read it (the value copied out of SQLite's buffer). */
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

/** A failure of a whole request (nothing of it was committed), as SQLite reported it. */
export interface WriterFailure {
  readonly code?: string;
  readonly message: string;
}

type Request =
  | { readonly id: number; readonly type: "batch"; readonly ops: readonly WriteOp[] }
  | { readonly id: number; readonly type: "setMeta"; readonly name: string; readonly value: number }
  | { readonly id: number; readonly type: "compactRange"; readonly from: number; readonly to: number; readonly upTo: number }
  | { readonly id: number; readonly type: "close" };

type Response =
  | { readonly id: number; readonly ok: true; readonly results?: readonly WriteResult[] }
  /** Id -1: the thread could not open the database and serves nothing. */
  | { readonly id: number; readonly ok: false; readonly failure: WriterFailure };

interface WriterData {
  readonly kind: "k8ts-sqlite-writer";
  readonly file: string;
  readonly synchronous: "FULL" | "NORMAL";
  readonly revision: number;
}

/** A request the writer failed (nothing of it was committed), or every request once the thread is gone. */
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

type Body<T> = T extends unknown ? Omit<T, "id"> : never;

/**
 * The store's side of the writer thread. Requests are answered in the order they were sent.
 * The thread keeps the process alive only while a request is outstanding.
 */
export class SqliteWriter {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, { resolve(r: Response): void; reject(err: unknown): void }>();
  #next = 1;
  #gone: Error | undefined;
  #closing = false;
  readonly #exited: Promise<void>;

  constructor(file: string, synchronous: "FULL" | "NORMAL", revision: number) {
    const data: WriterData = { kind: "k8ts-sqlite-writer", file, synchronous, revision };
    this.#worker = new Worker(new URL(import.meta.url), { workerData: data });
    this.#worker.unref();
    this.#worker.on("message", (m: Response) => {
      if (m.id === -1 && !m.ok) return this.#fail(new WriterError(m.failure.message, m.failure.code));
      const w = this.#waiting.get(m.id);
      if (w === undefined) return;
      this.#waiting.delete(m.id);
      if (this.#waiting.size === 0 && !this.#closing) this.#worker.unref();
      w.resolve(m);
    });
    this.#worker.on("error", (err) => this.#fail(err));
    this.#exited = new Promise((resolve) =>
      this.#worker.once("exit", (code) => {
        this.#fail(new WriterError(`the SQLite writer thread exited (code ${code})`));
        resolve();
      }),
    );
  }

  /** Commits `ops` in one transaction; the results are in the order of `ops`. */
  async batch(ops: readonly WriteOp[]): Promise<readonly WriteResult[]> {
    // The values are copied to the thread: the store keeps its own for the watch events.
    const r = await this.#call({ type: "batch", ops });
    return r.results ?? [];
  }

  async setMeta(name: string, value: number): Promise<void> {
    await this.#call({ type: "setMeta", name, value });
  }

  /** Deletes the log rows in (from, to] that no read at or above `upTo` needs, and records how far compaction got. */
  async compactRange(from: number, to: number, upTo: number): Promise<void> {
    await this.#call({ type: "compactRange", from, to, upTo });
  }

  /** Closes the writing connection (after every request sent before) and ends the thread. */
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
      this.#waiting.set(id, {
        resolve: (r) => (r.ok ? resolve(r) : reject(new WriterError(r.failure.message, r.failure.code))),
        reject,
      });
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

// ---- the thread ---------------------------------------------------------------------------

function serve(port: MessagePort, data: WriterData): void {
  let db: Database.Database;
  try {
    db = new Database(data.file, { timeout: 5000 });
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${data.synchronous}`);
  } catch (err) {
    port.postMessage({ id: -1, ok: false, failure: failure(err) } satisfies Response);
    return;
  }
  const ROW = "l.revision, l.key, l.type, l.create_revision, l.value, l.ttl";
  const s = {
    exists: db.prepare<[string], { revision: number }>("SELECT revision FROM current WHERE key = ?"),
    getLatest: db.prepare<[string], { revision: number; create_revision: number; value: Buffer | null; ttl: number }>(
      `SELECT ${ROW} FROM current c JOIN log l ON l.revision = c.revision WHERE c.key = ?`,
    ),
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
  let revision = data.revision;

  const apply = (op: WriteOp, transfer: ArrayBuffer[]): WriteResult => {
    const { key } = op;
    if (op.kind === "create") {
      if (s.exists.get(key) !== undefined) return { ok: false, refused: "AlreadyExists" };
      const rev = revision + 1;
      s.insertLog.run(rev, key, ROW_CREATE, rev, 0, op.value, op.ttl);
      s.upsertCurrent.run(key, rev, rev, expiry(op.ttl));
      revision = rev;
      return { ok: true, revision: rev, createRevision: rev };
    }
    const row = s.getLatest.get(key);
    if (row === undefined) return { ok: false, refused: "NotFound" };
    const prev = rowData(row, transfer);
    if (op.expected !== undefined && row.revision !== op.expected) return { ok: false, refused: "Conflict", current: prev };
    const rev = revision + 1;
    if (op.kind === "update") {
      s.insertLog.run(rev, key, ROW_UPDATE, row.create_revision, row.revision, op.value, op.ttl);
      s.upsertCurrent.run(key, rev, row.create_revision, expiry(op.ttl));
    } else {
      s.insertLog.run(rev, key, ROW_DELETE, row.create_revision, row.revision, null, 0);
      s.deleteCurrent.run(key);
    }
    revision = rev;
    return { ok: true, revision: rev, createRevision: row.create_revision, prev };
  };
  const commitBatch = db.transaction((ops: readonly WriteOp[], transfer: ArrayBuffer[]) => ops.map((op) => apply(op, transfer)));
  const compact = db.transaction((from: number, to: number, upTo: number) => {
    s.compactRange.run({ from, to, upTo });
    s.setMeta.run(to, "compacted_through");
  });

  port.on("message", (req: Request) => {
    const transfer: ArrayBuffer[] = [];
    let res: Response;
    try {
      switch (req.type) {
        case "batch": {
          const before = revision;
          try {
            res = { id: req.id, ok: true, results: commitBatch.immediate(req.ops, transfer) };
          } catch (err) {
            revision = before;
            transfer.length = 0;
            throw err;
          }
          break;
        }
        case "setMeta":
          s.setMeta.run(req.value, req.name);
          res = { id: req.id, ok: true };
          break;
        case "compactRange":
          compact(req.from, req.to, req.upTo);
          res = { id: req.id, ok: true };
          break;
        case "close":
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

/** A row's value in a buffer of its own, handed to the store's thread without a copy. */
function rowData(row: { revision: number; create_revision: number; value: Buffer | null; ttl: number }, transfer: ArrayBuffer[]): RowData {
  const value = row.value === null ? new Uint8Array(0) : new Uint8Array(row.value);
  if (value.byteLength > 0) transfer.push(value.buffer);
  return { revision: row.revision, createRevision: row.create_revision, value, ttl: row.ttl };
}

function expiry(ttl: number): number | null {
  return ttl > 0 ? Date.now() + ttl * 1000 : null;
}

function failure(err: unknown): WriterFailure {
  const code = (err as { code?: unknown }).code;
  return { ...(typeof code === "string" ? { code } : {}), message: err instanceof Error ? err.message : String(err) };
}

if (!isMainThread && parentPort !== null && (workerData as Partial<WriterData> | null)?.kind === "k8ts-sqlite-writer") {
  serve(parentPort, workerData as WriterData);
}
