// The storage layer's front door: a store URL picks the backend (STYLE.md 7, as kine's
// datastore endpoint does), options from the URL and from code are merged and compiled once,
// and the backend module is loaded only when it is used (the etcd client pulls in gRPC, which
// a SQLite-only `k8ts up` should not pay for at startup).
//
// Accepted URLs:
//   memory://                                    nothing persists; for tests
//   sqlite:///abs/path/state.db                  an absolute path (three slashes)
//   sqlite://relative/path/state.db              relative to the current directory
//     ?synchronous=full|normal                   full (default) fsyncs every commit
//   etcd://host:port[,host:port…]                plain gRPC; port defaults to 2379
//     ?cacert=FILE&cert=FILE&key=FILE            TLS: any of these switches the connection to
//                                                TLS; cert and key (a client certificate) go together
// Paths in a URL are percent-decoded, so a path holding '?', '#' or '%' is written %3F, %23, %25.
import { access, constants } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { invalid, type StorageError } from "./errors.js";
import type { Store } from "./interface.js";
import { compileStoreOptions, type StoreOptions, type StoreOptionsInput, type TlsOptions } from "./options.js";

export type { GetOptions, GetResult, KeyValue, ListOptions, ListResult, Store, Watch, WatchEvent, WatchEventType, WatchOptions, WriteOptions } from "./interface.js";
export { MAX_KEY_BYTES, MAX_VALUE_BYTES } from "./interface.js";
export { StorageError, isStorageError, type StorageErrorCode } from "./errors.js";
export { compileStoreOptions, DEFAULT_COMPACTION, type CompactionOptions, type StoreOptions, type StoreOptionsInput, type TlsOptions } from "./options.js";

export const ACCEPTED_STORE_URLS =
  "memory://, sqlite:///absolute/path/state.db or sqlite://relative/path/state.db (optionally ?synchronous=full|normal), " +
  "etcd://host:port[,host:port…] (optionally ?cacert=FILE&cert=FILE&key=FILE for TLS)";

const DEFAULT_ETCD_PORT = 2379;

/** What a store URL names, with the options its query carries (not yet merged with code's). */
export type StoreTarget =
  | { readonly backend: "memory"; readonly options: StoreOptionsInput }
  | { readonly backend: "sqlite"; readonly path: string; readonly options: StoreOptionsInput }
  | {
      readonly backend: "etcd";
      /** `http://host:port`, or `https://host:port` when TLS is configured. */
      readonly endpoints: readonly string[];
      readonly options: StoreOptionsInput;
    };

/** The store URL `k8ts` uses when none is given: SQLite in the data directory. */
export function DEFAULT_STORE_URL(dataDir: string): string {
  return `sqlite://${encodePath(dataDir)}/state.db`;
}

function encodePath(path: string): string {
  return path.replace(/[%?#]/g, (c) => encodeURIComponent(c));
}

function bad(url: string, why: string): StorageError {
  return invalid(`invalid store URL ${JSON.stringify(url)}: ${why}; accepted forms: ${ACCEPTED_STORE_URLS}`);
}

function decode(url: string, text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw bad(url, `cannot percent-decode ${JSON.stringify(text)} (write a literal '%' as %25)`);
  }
}

function parseQuery(url: string, query: string | undefined, allowed: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  if (query === undefined || query === "") return out;
  for (const part of query.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const name = decode(url, eq < 0 ? part : part.slice(0, eq));
    const value = decode(url, eq < 0 ? "" : part.slice(eq + 1));
    if (!allowed.includes(name)) {
      throw bad(url, allowed.length === 0 ? `this backend takes no parameters (got ${JSON.stringify(name)})` : `unknown parameter ${JSON.stringify(name)} (this backend takes ${allowed.join(", ")})`);
    }
    if (out.has(name)) throw bad(url, `parameter ${JSON.stringify(name)} given twice`);
    if (value === "") throw bad(url, `parameter ${JSON.stringify(name)} has no value`);
    out.set(name, value);
  }
  return out;
}

/** Parses a store URL; relative SQLite paths resolve against `cwd`. Invalid on anything else. */
export function parseStoreUrl(url: string, cwd: string = process.cwd()): StoreTarget {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^?#]*)(?:\?([^#]*))?(#.*)?$/s.exec(url);
  if (!m) throw bad(url, "expected SCHEME://…");
  const scheme = (m[1] ?? "").toLowerCase();
  const body = m[2] ?? "";
  if (m[4] !== undefined) throw bad(url, "a fragment ('#…') is not allowed (write '#' in a path as %23)");
  switch (scheme) {
    case "memory": {
      if (body !== "") throw bad(url, "memory:// takes no path");
      parseQuery(url, m[3], []);
      return { backend: "memory", options: {} };
    }
    case "sqlite": {
      if (body === "" || body === "/") throw bad(url, "no database file path");
      const path = decode(url, body);
      if (path.endsWith("/")) throw bad(url, "the path names a directory; name the database file, e.g. …/state.db");
      if (path.includes("\0")) throw bad(url, "the path contains a NUL byte");
      const q = parseQuery(url, m[3], ["synchronous"]);
      const options: { sqliteSynchronous?: StoreOptions["sqliteSynchronous"] } = {};
      const sync = q.get("synchronous");
      if (sync !== undefined) {
        const upper = sync.toUpperCase();
        if (upper !== "FULL" && upper !== "NORMAL") throw bad(url, `synchronous must be full or normal, got ${JSON.stringify(sync)}`);
        options.sqliteSynchronous = upper;
      }
      return { backend: "sqlite", path: isAbsolute(path) ? path : resolve(cwd, path), options };
    }
    case "etcd": {
      const hosts = body.replace(/\/$/, "");
      if (hosts === "") throw bad(url, "no etcd endpoint");
      if (hosts.includes("/")) throw bad(url, "etcd URLs take no path; list endpoints as host:port,host:port");
      const q = parseQuery(url, m[3], ["cacert", "cert", "key"]);
      const tls: { caFile?: string; certFile?: string; keyFile?: string } = {};
      const ca = q.get("cacert");
      const cert = q.get("cert");
      const key = q.get("key");
      if (ca !== undefined) tls.caFile = resolve(cwd, ca);
      if (cert !== undefined) tls.certFile = resolve(cwd, cert);
      if (key !== undefined) tls.keyFile = resolve(cwd, key);
      if ((cert === undefined) !== (key === undefined)) throw bad(url, "cert and key go together (a client certificate and its private key)");
      const scheme = q.size > 0 ? "https" : "http";
      const endpoints = hosts.split(",").map((h) => `${scheme}://${parseHostPort(url, h)}`);
      return { backend: "etcd", endpoints, options: q.size > 0 ? { tls } : {} };
    }
    default:
      throw bad(url, `unknown scheme ${JSON.stringify(`${scheme}://`)}`);
  }
}

function parseHostPort(url: string, text: string): string {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d+))?$/.exec(text);
  if (!m) throw bad(url, `endpoint ${JSON.stringify(text)} is not host:port`);
  const port = m[2] === undefined ? DEFAULT_ETCD_PORT : Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad(url, `port ${m[2] ?? ""} is out of range`);
  return `${m[1] ?? ""}:${port}`;
}

/** URL options and code options may both be given, but must not disagree. */
function mergeOptions(url: string, fromUrl: StoreOptionsInput, fromCode: StoreOptionsInput): StoreOptionsInput {
  if (fromUrl.sqliteSynchronous !== undefined && fromCode.sqliteSynchronous !== undefined && fromUrl.sqliteSynchronous !== fromCode.sqliteSynchronous) {
    throw bad(url, `synchronous=${fromUrl.sqliteSynchronous.toLowerCase()} in the URL contradicts ${fromCode.sqliteSynchronous} given in the options`);
  }
  const tls: { -readonly [K in keyof TlsOptions]: TlsOptions[K] } = { ...fromCode.tls };
  for (const k of ["caFile", "certFile", "keyFile"] as const) {
    const u = fromUrl.tls?.[k];
    if (u === undefined) continue;
    if (tls[k] !== undefined && tls[k] !== u) throw bad(url, `TLS ${k} in the URL contradicts the one given in the options`);
    tls[k] = u;
  }
  return { ...fromCode, ...fromUrl, tls };
}

function compile(url: string, input: StoreOptionsInput): StoreOptions {
  try {
    return compileStoreOptions(input);
  } catch (err) {
    if (err instanceof RangeError) throw invalid(`store options for ${url}: ${err.message}`);
    throw err;
  }
}

async function requireReadable(file: string, what: string): Promise<void> {
  try {
    await access(file, constants.R_OK);
  } catch (err) {
    throw invalid(`${what} ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/**
 * Opens the store a URL names. A SQLite file that does not exist yet is created (with its
 * schema); one that exists is opened as it is — never reset or recreated.
 */
export async function openStore(url: string, options: StoreOptionsInput = {}): Promise<Store> {
  const target = parseStoreUrl(url);
  const compiled = compile(url, mergeOptions(url, target.options, options));
  switch (target.backend) {
    case "memory": {
      const { MemoryStore } = await import("./memory.js");
      return MemoryStore.open(compiled);
    }
    case "sqlite": {
      const { SqliteStore } = await import("./sqlite.js");
      return SqliteStore.open(target.path, compiled);
    }
    case "etcd": {
      const { caFile, certFile, keyFile } = compiled.tls;
      if (caFile !== undefined) await requireReadable(caFile, "etcd CA certificate");
      if (certFile !== undefined) await requireReadable(certFile, "etcd client certificate");
      if (keyFile !== undefined) await requireReadable(keyFile, "etcd client key");
      const { EtcdStore } = await import("./etcd.js");
      return EtcdStore.open([...target.endpoints], compiled);
    }
  }
}

export interface RestoreOptions {
  /**
   * etcd only: the new data directory to restore into (absent or empty). etcd is then started
   * with `--data-dir` pointing at it (and `--name` as below); a running etcd is never touched.
   */
  readonly etcdDataDir?: string;
  /** etcd only: the member name etcd will be started with (default "default"). */
  readonly etcdName?: string;
  /**
   * SQLite only: replace a database that exists at the target. Only with every k8ts process
   * on that file stopped: a server still running on it would keep writing to the old data.
   */
  readonly force?: boolean;
}

export interface RestoreResult {
  readonly backend: "sqlite" | "etcd";
  /** The database file (SQLite) or data directory (etcd) that now holds the restored data. */
  readonly target: string;
}

/**
 * Restores a file written by `Store.snapshot()` into the place the URL names. Refuses to write
 * over existing data (AlreadyExists/Invalid) unless `force` is given for SQLite.
 */
export async function restoreSnapshot(url: string, file: string, opts: RestoreOptions = {}): Promise<RestoreResult> {
  const target = parseStoreUrl(url);
  await requireReadable(file, "snapshot file");
  switch (target.backend) {
    case "memory":
      throw invalid(`cannot restore into ${url}: a memory store keeps nothing; restore into a sqlite:// or etcd:// store`);
    case "sqlite": {
      if (opts.etcdDataDir !== undefined) throw invalid(`an etcd data directory was given, but ${url} is a SQLite store`);
      const { SqliteStore } = await import("./sqlite.js");
      await SqliteStore.restore(file, target.path, { overwrite: opts.force === true });
      return { backend: "sqlite", target: target.path };
    }
    case "etcd": {
      if (opts.etcdDataDir === undefined) {
        throw invalid("an etcd snapshot is restored into a new etcd data directory: give one (--etcd-data-dir DIR), then start etcd with --data-dir DIR");
      }
      if (opts.force === true) throw invalid("etcd restores only into a new, empty data directory; --force does not apply");
      const dataDir = resolve(opts.etcdDataDir);
      const { EtcdStore } = await import("./etcd.js");
      await EtcdStore.restore(file, dataDir, opts.etcdName === undefined ? {} : { name: opts.etcdName });
      return { backend: "etcd", target: dataDir };
    }
  }
}
