// Opening a k8ts SQLite file: recognise it, refuse what we cannot read, create the schema
// only in a file that holds nothing. Existing data is never reset or recreated.
//
// Schema (version 1):
//   log      every change, one row per revision. A delete row has no value: the deleted value
//            is its prev_revision row's, which compaction keeps as long as the delete is
//            newer than the compact revision.
//   current  key → revision of the key's live row, so latest reads, lists and counts are
//            index lookups and CAS needs no log scan. Absent keys have no row.
//   meta     schema_version, compact_revision (reads below it fail), compacted_through (how
//            far the row deletion of compaction has got: it runs in chunks and resumes).
import { accessSync, constants, existsSync, mkdirSync, statSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { StorageError, invalid, unavailable } from "../errors.js";

export const SCHEMA_VERSION = 1;
/** "k8ts" in ASCII, in the header field SQLite reserves for the application that owns a file. */
export const APPLICATION_ID = 0x6b387473;

/** log.type values. */
export const ROW_CREATE = 1;
export const ROW_UPDATE = 2;
export const ROW_DELETE = 3;

const SCHEMA_V1 = `
CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE log (
  revision INTEGER PRIMARY KEY,
  key TEXT NOT NULL,
  type INTEGER NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision INTEGER NOT NULL,
  value BLOB,
  ttl INTEGER NOT NULL
);
CREATE INDEX log_key_revision ON log (key, revision);
CREATE TABLE current (
  key TEXT PRIMARY KEY,
  revision INTEGER NOT NULL,
  create_revision INTEGER NOT NULL,
  expires_at INTEGER
) WITHOUT ROWID;
CREATE INDEX current_expiry ON current (expires_at) WHERE expires_at IS NOT NULL;
INSERT INTO meta (name, value) VALUES ('schema_version', ${SCHEMA_VERSION}), ('compact_revision', 0), ('compacted_through', 0);
`;

export interface OpenedDatabase {
  readonly db: Database.Database;
  readonly compactRevision: number;
  readonly compactedThrough: number;
  /** The newest revision written (the compact revision if every row up to it was compacted away). */
  readonly revision: number;
}

export interface OpenDatabaseOptions {
  readonly readonly?: boolean;
  readonly synchronous?: "FULL" | "NORMAL";
  /** Run SQLite's quick_check (reads every page) and refuse a damaged file. */
  readonly verify?: boolean;
}

/** Maps a SQLite error on `file` to a StorageError that says what happened and what to do. */
export function sqliteError(file: string, err: unknown): StorageError {
  if (err instanceof StorageError) return err;
  const code = (err as { code?: unknown }).code;
  const detail = (err as Error).message ?? String(err);
  if (typeof code !== "string") return unavailable(`SQLite store ${file}: ${detail}`);
  if (code.startsWith("SQLITE_CORRUPT") || code === "SQLITE_NOTADB") {
    return unavailable(`SQLite store ${file} is damaged (${detail}): stop k8ts, move the file aside and restore the last snapshot with \`k8ts snapshot restore\``);
  }
  if (code.startsWith("SQLITE_FULL")) return unavailable(`SQLite store ${file}: the disk is full; free space and retry`);
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) return unavailable(`SQLite store ${file} is locked by another process (${detail}); retry, or stop the other process`);
  if (code.startsWith("SQLITE_READONLY")) return unavailable(`SQLite store ${file} is read-only (${detail}); give this process write access to the file and its directory`);
  if (code.startsWith("SQLITE_CANTOPEN") || code.startsWith("SQLITE_PERM") || code.startsWith("SQLITE_AUTH")) {
    return unavailable(`cannot open SQLite store ${file} (${detail}); check that the path exists and is readable and writable by this process`);
  }
  return unavailable(`SQLite store ${file}: ${detail} (${code})`);
}

/**
 * Opens `file` as a k8ts store, creating its directory and the schema when there is nothing
 * there yet. Anything else that is not a k8ts store of a version we know is refused.
 */
export function openDatabase(file: string, opts: OpenDatabaseOptions = {}): OpenedDatabase {
  const readonly = opts.readonly ?? false;
  if (!readonly) {
    try {
      mkdirSync(dirname(file), { recursive: true });
    } catch (err) {
      throw unavailable(`cannot create the directory of SQLite store ${file}: ${(err as Error).message}`);
    }
  }
  if (existsSync(file)) {
    if (statSync(file).isDirectory()) throw invalid(`SQLite store ${file} is a directory; give the path of a database file, e.g. ${file}/state.db`);
    try {
      accessSync(file, readonly ? constants.R_OK : constants.R_OK | constants.W_OK);
    } catch (err) {
      throw unavailable(`cannot open SQLite store ${file}: ${(err as Error).message}; give this process read${readonly ? "" : " and write"} access`);
    }
  } else if (readonly) {
    throw unavailable(`SQLite file ${file} does not exist`);
  }

  let db: Database.Database;
  try {
    db = new Database(file, { readonly, fileMustExist: readonly, timeout: 5000 });
  } catch (err) {
    throw sqliteError(file, err);
  }
  try {
    const opened = inspect(db, file, readonly, opts.verify ?? false);
    if (!readonly) {
      db.pragma("journal_mode = WAL");
      db.pragma(`synchronous = ${opts.synchronous ?? "FULL"}`);
    }
    return opened;
  } catch (err) {
    db.close();
    throw err;
  }
}

function inspect(db: Database.Database, file: string, readonly: boolean, verify: boolean): OpenedDatabase {
  const damaged = (detail: string): StorageError =>
    invalid(`${file} is not a readable SQLite database (${detail}); k8ts will not overwrite it: restore a snapshot with \`k8ts snapshot restore\` or move the file aside to start empty`);
  let tables: string[];
  let applicationId: number;
  try {
    applicationId = db.pragma("application_id", { simple: true }) as number;
    tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]).filter((t) => !t.startsWith("sqlite_"));
  } catch (err) {
    throw damaged((err as Error).message);
  }

  if (tables.length === 0 && applicationId === 0) {
    if (readonly) throw invalid(`${file} is an empty SQLite database, not a k8ts store or snapshot`);
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.exec(`BEGIN IMMEDIATE; ${SCHEMA_V1} COMMIT;`);
  } else if (applicationId !== APPLICATION_ID || !tables.includes("meta")) {
    throw invalid(`${file} is a SQLite database that k8ts did not write (tables: ${tables.join(", ") || "none"}); give the path of a k8ts store or of a new file`);
  }

  let meta: Map<string, number>;
  try {
    meta = new Map((db.prepare("SELECT name, value FROM meta").raw().all() as Array<[string, number]>).map(([k, v]) => [k, v]));
  } catch (err) {
    throw damaged((err as Error).message);
  }
  const version = meta.get("schema_version");
  if (version === undefined) throw damaged("no schema_version in its meta table");
  if (version > SCHEMA_VERSION) {
    throw invalid(`${file} was written by a newer k8ts (schema version ${version}; this k8ts knows up to ${SCHEMA_VERSION}): run a k8ts release that knows it, or restore a snapshot taken by this release`);
  }
  if (version < 1) throw damaged(`schema_version ${version}`);

  if (verify) {
    let result: string[];
    try {
      result = db.pragma("quick_check", { simple: false }) as string[];
      result = (result as unknown as Array<{ quick_check: string }>).map((r) => r.quick_check);
    } catch (err) {
      throw damaged((err as Error).message);
    }
    if (result.length !== 1 || result[0] !== "ok") throw damaged(`integrity check: ${result.slice(0, 3).join("; ")}`);
  }

  let maxRevision: number;
  try {
    maxRevision = (db.prepare("SELECT coalesce(max(revision), 0) FROM log").pluck().get() as number) ?? 0;
  } catch (err) {
    throw damaged((err as Error).message);
  }
  const compactRevision = meta.get("compact_revision") ?? 0;
  return { db, compactRevision, compactedThrough: meta.get("compacted_through") ?? 0, revision: Math.max(maxRevision, compactRevision) };
}
