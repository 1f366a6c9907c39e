// `k8ts snapshot save|restore`, without argv (STYLE.md 11): the CLI definitions in snapshot.ts
// only parse flags and print what these return.
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { DEFAULT_STORE_URL, openStore, parseStoreUrl, restoreSnapshot, type StoreOptionsInput } from "../storage/index.js";
import { StorageError, invalid } from "../storage/errors.js";
import { defaultDataDir } from "./defaults.js";


/**
 * The CLI opens a store that a running server may be using at the same moment, so it must not
 * write: no automatic compaction and no TTL sweep (the longest interval a timer takes) in this
 * short-lived process. Either would change revisions behind the server's back.
 */
const PASSIVE: StoreOptionsInput = { compaction: { intervalMs: 0 }, ttlSweepMs: 2 ** 31 - 1 };

export interface StoreSelection {
  /** A store URL (memory://, sqlite://…, etcd://…). */
  readonly store?: string;
  /** Where k8ts keeps its state; the store is `sqlite://<dataDir>/state.db`. */
  readonly dataDir?: string;
}

/** The store URL a command works on: --store, else the SQLite file in --data-dir (default /var/lib/k8ts). */
export function selectStoreUrl(sel: StoreSelection): string {
  if (sel.store !== undefined && sel.dataDir !== undefined) throw invalid("give either --store or --data-dir, not both");
  return sel.store ?? DEFAULT_STORE_URL(resolve(sel.dataDir ?? defaultDataDir()));
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}

export interface SaveOptions extends StoreSelection {
  readonly file: string;
  /** Replace FILE if it exists. */
  readonly force?: boolean;
}

export interface SaveResult {
  readonly store: string;
  readonly backend: string;
  readonly file: string;
  /** The store's revision when the snapshot began; the snapshot holds at least this much. */
  readonly revision: number;
  readonly bytes: number;
}

export async function saveSnapshot(opts: SaveOptions): Promise<SaveResult> {
  const url = selectStoreUrl(opts);
  const target = parseStoreUrl(url);
  const file = resolve(opts.file);
  if (target.backend === "memory") throw invalid("a memory:// store lives inside the process that opened it; there is nothing to save from here");
  // Opening a SQLite path creates a store; saving must not invent an empty one from a typo.
  if (target.backend === "sqlite" && !(await exists(target.path))) {
    throw new StorageError("NotFound", `no store at ${target.path}: check --data-dir or --store (a SQLite store is the state.db file in the data dir)`);
  }
  if (!opts.force && (await exists(file))) throw new StorageError("AlreadyExists", `${file} exists; choose another file or pass --force to replace it`);
  const store = await openStore(url, PASSIVE);
  try {
    const revision = await store.currentRevision();
    await store.snapshot(file);
    return { store: url, backend: store.backend, file, revision, bytes: (await stat(file)).size };
  } finally {
    await store.close();
  }
}

export interface RestoreActionOptions extends StoreSelection {
  readonly file: string;
  /** SQLite: replace an existing database (stop every k8ts process on it first). */
  readonly force?: boolean;
  /** etcd: the new data directory to restore into. */
  readonly etcdDataDir?: string;
  /** etcd: the member name etcd will run with (default "default"). */
  readonly etcdName?: string;
}

export interface RestoreActionResult {
  readonly store: string;
  readonly backend: "sqlite" | "etcd";
  /** The database file or etcd data directory written. */
  readonly target: string;
  /** SQLite: the restored store's revision and key count, read back after the restore. */
  readonly revision?: number;
  readonly keys?: number;
  /** What the user does next, when there is something to do. */
  readonly next?: string;
}

export async function restoreSnapshotFile(opts: RestoreActionOptions): Promise<RestoreActionResult> {
  const url = selectStoreUrl(opts);
  const done = await restoreSnapshot(url, resolve(opts.file), {
    ...(opts.force === undefined ? {} : { force: opts.force }),
    ...(opts.etcdDataDir === undefined ? {} : { etcdDataDir: opts.etcdDataDir }),
    ...(opts.etcdName === undefined ? {} : { etcdName: opts.etcdName }),
  });
  if (done.backend === "etcd") {
    const name = opts.etcdName ?? "default";
    return { store: url, ...done, next: `start etcd with --data-dir ${done.target} --name ${name}, then point k8ts at it with --store ${url}` };
  }
  // Read the restored file back: proof it opens, and figures the user can check.
  const store = await openStore(url, PASSIVE);
  try {
    const revision = await store.currentRevision();
    const { count } = await store.count("/");
    return { store: url, ...done, revision, keys: count };
  } finally {
    await store.close();
  }
}
