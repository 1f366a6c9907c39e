// The etcd v3 backend: the Store contract mapped onto a real etcd the way Kubernetes' etcd3
// storage and kine's etcd bridge do it — every write is a transaction that compares a
// revision, reads return etcd's own revisions, TTLs are etcd leases, and one etcd watch feeds
// the shared WatchHub that fans changes out to every watcher.
import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { access, mkdir, open as openFile, readFile, readdir, rename, rm, rmdir } from "node:fs/promises";
import { dirname } from "node:path";
import { rootCertificates } from "node:tls";
import { promisify } from "node:util";
import {
  Etcd3,
  type IDuplexStream,
  type IEvent,
  type IKeyValue,
  type IOptions,
  type IRangeRequest,
  type IRangeResponse,
  type IRequestOp,
  type ICompare,
  type ITxnResponse,
  type IWatchRequest,
  type IWatchResponse,
  type ISnapshotResponse,
} from "etcd3";
import { Compactor } from "./compactor.js";
import { decodeContinue, encodeContinue } from "./continue.js";
import { StorageError, alreadyExists, compacted, conflict, invalid, isStorageError, notFound, unavailable } from "./errors.js";
import { MAX_KEY_BYTES, MAX_VALUE_BYTES, type GetOptions, type GetResult, type KeyValue, type ListOptions, type ListResult, type Store, type Watch, type WatchEvent, type WatchOptions, type WriteOptions } from "./interface.js";
import { validateKey, validateTtl, validateValue } from "./keys.js";
import type { StoreOptions } from "./options.js";
import { WatchHub } from "./watchhub.js";

const execFileP = promisify(execFile);

/** Connection settings beyond the shared StoreOptions. */
export interface EtcdConnectOptions {
  /**
   * Prepended to every key in etcd, so several stores can share one etcd (Kubernetes'
   * --etcd-prefix). Keys handed in and out of the Store never include it. Default "".
   */
  readonly keyPrefix?: string;
  /** How long open() waits for etcd to answer before failing with Unavailable (default 5 s). */
  readonly dialTimeoutMs?: number;
  /** Deadline of every single request (default 10 s). */
  readonly requestTimeoutMs?: number;
  /** Receives errors of background work (watch feed reconnects, automatic compaction). */
  readonly onBackgroundError?: (err: unknown) => void;
}

export interface EtcdRestoreOptions {
  /** Member name the restored data dir is for; etcd must be started with the same --name. Default "default". */
  readonly name?: string;
  /** The member's peer URL written into the restored cluster membership. Default etcd's own, http://localhost:2380. */
  readonly peerUrl?: string;
  /** The etcdctl binary (Debian: etcd-client). Default "etcdctl" on PATH. */
  readonly etcdctl?: string;
}

/**
 * etcd's --max-request-bytes must be at least this for values up to MAX_VALUE_BYTES to fit in
 * one request with their key (etcd's own default, 1.5 MiB, leaves no room for the key).
 */
export const ETCD_MIN_MAX_REQUEST_BYTES = MAX_VALUE_BYTES + 2 * MAX_KEY_BYTES + 64 * 1024;

const COMPACTED_MESSAGE = "required revision has been compacted";
const FUTURE_MESSAGE = "required revision is a future revision";
/** How long a read of old watch history may take before the watcher is told to re-list. */
const HISTORY_READ_TIMEOUT_MS = 30_000;
const LEASE_CACHE_LIMIT = 100_000;
/** Lease TTL look-ups in flight at once when a read returns keys under many unknown leases. */
const LEASE_LOOKUP_BATCH = 64;
/** key and range_end of a watch over every key in etcd. */
const ALL_KEYS = Buffer.from([0]);

type RawWatchStream = IDuplexStream<IWatchRequest, IWatchResponse>;

/**
 * cockatiel's policy shape, as etcd3 takes it: run the call once. The client's default
 * policies retry every call (writes too, which can apply twice) and open a 5-second circuit
 * breaker after three failures; retries here are decided per call instead (see #rpc).
 */
type Policy = NonNullable<NonNullable<IOptions["faultHandling"]>["global"]>;
const runOnce: Policy = {
  _altReturn: undefined as never,
  onSuccess: () => ({ dispose: () => {} }),
  onFailure: () => ({ dispose: () => {} }),
  execute: async (fn) => fn({ signal: new AbortController().signal }),
};

const bytes = (s: string): Buffer => Buffer.from(s, "utf8");

/** The first key after every key that starts with `p` (etcd's prefix range end); "\0" means "to the end". */
function rangeEnd(p: Buffer): Buffer {
  for (let i = p.length - 1; i >= 0; i--) {
    const b = p[i] as number;
    if (b < 0xff) {
      const end = Buffer.from(p.subarray(0, i + 1));
      end[i] = b + 1;
      return end;
    }
  }
  return Buffer.from([0]);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function hasMessage(err: unknown, text: string): boolean {
  return err instanceof Error && err.message.includes(text);
}

/** gRPC failures where the request never reached a server, so sending it again cannot apply it twice. */
function notSent(err: unknown): boolean {
  const m = errorMessage(err);
  return /No connection established|ECONNREFUSED|Name resolution failed|connect ETIMEDOUT|ENETUNREACH|EHOSTUNREACH/.test(m);
}

/** Failures that say nothing about the request itself: the connection, the deadline, or etcd's availability. */
function transient(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const name = err.constructor.name;
  return (
    /GRPCUnavailableError|GRPCDeadlineExceededError|GRPCCancelledError|GRPCInternalError|GRPCUnknownError|GRPCAbortedError|GRPCResourceExhastedError|BrokenCircuitError|ClientClosedError/.test(name) ||
    /etcdserver: (no leader|request timed out|leader changed|server stopped|too many requests|not capable)|UNAVAILABLE|DEADLINE_EXCEEDED/.test(err.message)
  );
}

export class EtcdStore implements Store {
  readonly backend = "etcd";

  readonly #client: Etcd3;
  readonly #endpoints: readonly string[];
  readonly #secure: boolean;
  readonly #prefix: Buffer;
  readonly #options: StoreOptions;
  readonly #onBackgroundError: (err: unknown) => void;
  readonly #leaseTtl = new Map<string, number>();
  #compactRevision: number;
  #hub: WatchHub;
  /** Set when the hub of a generation missed events (its watchers must re-list). */
  #hubLost = new WeakSet<WatchHub>();
  /**
   * Every change up to this revision has reached the hub (or was given up on when the hub was
   * restarted), and the store's etcd watch will not deliver anything at or below it again:
   * etcd has moved that watch past it, or it is yet to be created from here.
   */
  #fed: number;
  readonly #fedWaiters = new Set<{ readonly revision: number; readonly wake: (reached: boolean) => void }>();
  /** Resolved when etcd first confirms that the store's watch exists. */
  readonly #feedCreated: Promise<void>;
  #markFeedCreated: () => void = () => {};
  /** Why the store's watch last failed, for the error open() gives when it never starts. */
  #feedError: unknown;
  #feedStream: RawWatchStream | undefined;
  readonly #feedDone: Promise<void>;
  readonly #requestTimeoutMs: number;
  readonly #compactor: Compactor;
  readonly #retryTimers = new Set<{ cancel: () => void }>();
  readonly #tempStreams = new Set<RawWatchStream>();
  #closed = false;

  private constructor(init: {
    client: Etcd3;
    endpoints: readonly string[];
    secure: boolean;
    keyPrefix: string;
    options: StoreOptions;
    revision: number;
    compactRevision: number;
    requestTimeoutMs: number;
    onBackgroundError: (err: unknown) => void;
  }) {
    this.#client = init.client;
    this.#endpoints = init.endpoints;
    this.#secure = init.secure;
    this.#prefix = bytes(init.keyPrefix);
    this.#options = init.options;
    this.#onBackgroundError = init.onBackgroundError;
    this.#compactRevision = init.compactRevision;
    this.#requestTimeoutMs = init.requestTimeoutMs;
    this.#fed = init.revision;
    this.#hub = this.#newHub(init.revision);
    this.#feedCreated = new Promise((resolve) => (this.#markFeedCreated = resolve));
    this.#feedDone = this.#runFeed();
    this.#compactor = new Compactor({ store: this, options: init.options.compaction, onError: (err) => this.#onBackgroundError(err) });
    this.#compactor.start();
  }

  /**
   * Connects to etcd at `endpoints` (`host:port`, `http://host:port` or `https://host:port`),
   * checks that it answers and starts the store's watch, all within the dial timeout;
   * Unavailable otherwise.
   */
  static async open(endpoints: readonly string[], options: StoreOptions, connect: EtcdConnectOptions = {}): Promise<EtcdStore> {
    if (endpoints.length === 0) throw invalid("no etcd endpoints given: name at least one, e.g. etcd://127.0.0.1:2379");
    const tls = options.tls;
    const anyTls = tls.caFile !== undefined || tls.certFile !== undefined || tls.keyFile !== undefined;
    if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
      throw invalid("etcd TLS needs both a client certificate and its key (certFile and keyFile), or neither");
    }
    const hosts = endpoints.map((e) => {
      const trimmed = e.trim();
      if (/^https?:\/\//.test(trimmed)) return trimmed.replace(/\/+$/, "");
      if (trimmed.includes("://")) throw invalid(`etcd endpoint ${e} must be host:port, http://host:port or https://host:port`);
      return `${anyTls ? "https" : "http"}://${trimmed}`;
    });
    const secure = anyTls || hosts.some((h) => h.startsWith("https://"));
    if (secure && hosts.some((h) => h.startsWith("http://"))) throw invalid(`etcd endpoints mix http and https (${hosts.join(", ")}); TLS applies to all of them`);

    let credentials: IOptions["credentials"];
    if (anyTls) {
      const read = async (what: string, file: string | undefined): Promise<Buffer | undefined> => {
        if (file === undefined) return undefined;
        try {
          return await readFile(file);
        } catch (err) {
          throw invalid(`cannot read the etcd ${what} file ${file}: ${errorMessage(err)}`);
        }
      };
      const ca = (await read("CA certificate", tls.caFile)) ?? Buffer.from(rootCertificates.join("\n"));
      const certChain = await read("client certificate", tls.certFile);
      const privateKey = await read("client key", tls.keyFile);
      credentials = { rootCertificate: ca, ...(certChain ? { certChain } : {}), ...(privateKey ? { privateKey } : {}) };
    }

    const requestTimeoutMs = connect.requestTimeoutMs ?? 10_000;
    const client = new Etcd3({
      hosts,
      ...(credentials ? { credentials } : {}),
      faultHandling: { host: () => runOnce, global: runOnce },
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + requestTimeoutMs }),
      grpcOptions: {
        // Values up to 1.5 MiB plus the key and framing must fit in one message both ways.
        "grpc.max_receive_message_length": -1,
        "grpc.max_send_message_length": -1,
        "grpc.keepalive_time_ms": 30_000,
        "grpc.keepalive_timeout_ms": 10_000,
      },
    });
    const dialTimeoutMs = connect.dialTimeoutMs ?? 5000;
    const keyPrefix = connect.keyPrefix ?? "";
    let revision: number;
    let compactRevision: number;
    try {
      const probe = bytes(keyPrefix.length > 0 ? keyPrefix : "/");
      const res = await client.kv.range({ key: probe, count_only: true }, { deadline: Date.now() + dialTimeoutMs });
      revision = Number(res.header.revision);
      compactRevision = await learnCompactRevision(client, probe, 0, dialTimeoutMs);
    } catch (err) {
      client.close();
      throw unavailable(
        `cannot reach etcd at ${hosts.join(", ")} within ${dialTimeoutMs} ms (${errorMessage(err)}). ` +
          `Check that etcd is running and listening on that address and port` +
          (secure
            ? ", and that the CA, client certificate and key are the ones that etcd's --trusted-ca-file and --client-cert-auth expect."
            : "; if etcd serves TLS, name its CA and a client certificate and key in the store URL: etcd://host:port?cacert=FILE&cert=FILE&key=FILE."),
      );
    }
    const store = new EtcdStore({ client, endpoints: hosts, secure, keyPrefix, options, revision, compactRevision, requestTimeoutMs, onBackgroundError: connect.onBackgroundError ?? (() => {}) });
    try {
      await store.#startWatching(dialTimeoutMs);
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  /**
   * Waits until etcd confirms the store's watch and that watch has delivered every revision
   * etcd had reached by then. Whether etcd counts a watch as caught up ("synced") cannot be
   * asked of etcd 3.4: it answers a progress request at once, ahead of events a lagging watch
   * has yet to send. What the store can know is how far its watch has delivered.
   */
  async #startWatching(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const created = await Promise.race([
      this.#feedCreated.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (!created) {
      const why = this.#feedError === undefined ? "" : ` (${errorMessage(this.#feedError)})`;
      throw unavailable(`etcd at ${this.#endpoints.join(", ")} did not start the store's watch within ${timeoutMs} ms${why}; check that etcd is healthy and lets this client watch`);
    }
    const current = await this.currentRevision();
    if (!(await this.#waitFed(current, Math.max(0, deadline - Date.now())))) {
      throw unavailable(`the store's etcd watch did not catch up to revision ${current} within ${timeoutMs} ms (it delivered up to ${this.#fed}); check etcd's load`);
    }
  }

  /** True once the store's watch has delivered `revision`; false when `timeoutMs` passes first or the store closes. */
  async #waitFed(revision: number, timeoutMs: number): Promise<boolean> {
    if (this.#fed >= revision) return true;
    if (this.#closed) return false;
    return new Promise((resolve) => {
      const waiter = {
        revision,
        wake: (reached: boolean) => {
          clearTimeout(timer);
          this.#fedWaiters.delete(waiter);
          resolve(reached);
        },
      };
      const timer = setTimeout(() => waiter.wake(false), timeoutMs);
      this.#fedWaiters.add(waiter);
    });
  }

  #advanceFed(revision: number): void {
    if (revision <= this.#fed) return;
    this.#fed = revision;
    for (const w of [...this.#fedWaiters]) if (w.revision <= revision) w.wake(true);
  }

  /**
   * Restores a file written by snapshot() into `dataDir`, which must not exist yet (or be an
   * empty directory): etcd is then started on it with the same member name. Uses etcdctl
   * (etcd 3.4 has no etcdutl), which checks the snapshot's integrity hash.
   */
  static async restore(snapshotFile: string, dataDir: string, opts: EtcdRestoreOptions = {}): Promise<void> {
    try {
      await access(snapshotFile, constants.R_OK);
    } catch (err) {
      throw invalid(`cannot read the etcd snapshot ${snapshotFile}: ${errorMessage(err)}`);
    }
    let entries: string[] | undefined;
    try {
      entries = await readdir(dataDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw invalid(`cannot use ${dataDir} as the restored etcd data dir: ${errorMessage(err)}`);
    }
    if (entries !== undefined && entries.length > 0) throw invalid(`refusing to restore into ${dataDir}: it already holds data; pick a new, empty directory`);
    // etcdctl refuses an existing directory, even an empty one.
    if (entries !== undefined) await rmdir(dataDir);
    await mkdir(dirname(dataDir), { recursive: true });
    const name = opts.name ?? "default";
    const peerUrl = opts.peerUrl ?? "http://localhost:2380";
    const etcdctl = opts.etcdctl ?? "etcdctl";
    try {
      await execFileP(etcdctl, ["snapshot", "restore", snapshotFile, `--data-dir=${dataDir}`, `--name=${name}`, `--initial-cluster=${name}=${peerUrl}`, `--initial-advertise-peer-urls=${peerUrl}`], {
        env: { ...process.env, ETCDCTL_API: "3" },
        maxBuffer: 16 * 1024 * 1024,
      });
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      await rm(dataDir, { recursive: true, force: true });
      if (e.code === "ENOENT") throw unavailable(`${etcdctl} not found: restoring an etcd snapshot needs etcdctl (Debian package etcd-client)`);
      const detail = (e.stderr ?? "").trim().split("\n").slice(-3).join(" ");
      throw invalid(`etcdctl could not restore ${snapshotFile} into ${dataDir}: ${detail || errorMessage(err)}`);
    }
  }

  // ---- keys ----------------------------------------------------------------------------

  #key(key: string): Buffer {
    return this.#prefix.length === 0 ? bytes(key) : Buffer.concat([this.#prefix, bytes(key)]);
  }

  /** The store key of an etcd key, or undefined when it lies outside the store's prefix. */
  #storeKey(raw: Buffer): string | undefined {
    if (this.#prefix.length === 0) return raw.toString("utf8");
    if (raw.length < this.#prefix.length || !raw.subarray(0, this.#prefix.length).equals(this.#prefix)) return undefined;
    return raw.subarray(this.#prefix.length).toString("utf8");
  }

  /** [start, end) of every etcd key under the store key prefix `p`. */
  #range(p: string): { key: Buffer; range_end: Buffer } {
    const start = this.#key(p);
    return { key: start.length === 0 ? Buffer.from([0]) : start, range_end: rangeEnd(start) };
  }

  #kv(raw: IKeyValue, key?: string): KeyValue {
    return {
      key: key ?? this.#storeKey(raw.key) ?? raw.key.toString("utf8"),
      value: raw.value,
      createRevision: Number(raw.create_revision),
      modRevision: Number(raw.mod_revision),
      ttlSeconds: raw.lease === "0" || raw.lease === "" ? 0 : (this.#leaseTtl.get(raw.lease) ?? 0),
    };
  }

  /** Makes sure the granted TTL of every lease in `kvs` is known (leases written by other clients are looked up once). */
  async #learnLeases(kvs: Iterable<IKeyValue | undefined>): Promise<void> {
    const missing = new Set<string>();
    for (const kv of kvs) if (kv && kv.lease !== "0" && kv.lease !== "" && !this.#leaseTtl.has(kv.lease)) missing.add(kv.lease);
    const ids = [...missing];
    for (let i = 0; i < ids.length; i += LEASE_LOOKUP_BATCH) {
      await Promise.all(
        ids.slice(i, i + LEASE_LOOKUP_BATCH).map(async (id) => {
          // A lease that expired since the read has no TTL left to report.
          const res = await this.#rpc("read", () =>
            this.#client.leaseClient.leaseTimeToLive({ ID: id }).catch((err: unknown) => (hasMessage(err, "requested lease not found") ? undefined : Promise.reject(err))),
          );
          const granted = Number(res?.grantedTTL ?? 0);
          if (granted > 0) this.#rememberLease(id, granted);
        }),
      );
    }
  }

  #rememberLease(id: string, ttl: number): void {
    if (this.#leaseTtl.size >= LEASE_CACHE_LIMIT) {
      const oldest = this.#leaseTtl.keys().next();
      if (!oldest.done) this.#leaseTtl.delete(oldest.value);
    }
    this.#leaseTtl.set(id, ttl);
  }

  // ---- requests ------------------------------------------------------------------------

  /**
   * Runs one request and turns failures into StorageErrors. Reads are retried on any transient
   * failure (another endpoint may answer); writes only when the request was never sent.
   */
  async #rpc<T>(kind: "read" | "write", fn: () => Promise<T>, ctx: { revision?: number } = {}): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      if (this.#closed) throw unavailable("etcd store is closed");
      try {
        return await fn();
      } catch (err) {
        if (isStorageError(err)) throw err;
        const retry = attempt < Math.max(3, this.#endpoints.length + 1) && transient(err) && (kind === "read" || notSent(err));
        if (!retry) throw await this.#translate(err, ctx);
        await this.#sleep(25 * 2 ** attempt);
      }
    }
  }

  async #translate(err: unknown, ctx: { revision?: number }): Promise<StorageError> {
    if (isStorageError(err)) return err;
    if (hasMessage(err, COMPACTED_MESSAGE)) {
      const requested = ctx.revision ?? 0;
      const c = await this.#refreshCompacted().catch(() => this.#compactRevision);
      return compacted(requested, Math.max(c, requested));
    }
    if (hasMessage(err, FUTURE_MESSAGE)) return invalid(`revision ${ctx.revision ?? "?"} is newer than etcd's current revision`);
    if (hasMessage(err, "etcdserver: request is too large")) {
      return invalid("etcd rejected the request as too large: start etcd with --max-request-bytes=${ETCD_MIN_MAX_REQUEST_BYTES} or more so values up to 1.5 MiB fit");
    }
    if (hasMessage(err, "etcdserver: mvcc: database space exceeded")) {
      return unavailable(`etcd at ${this.#endpoints.join(", ")} is out of space (NOSPACE alarm): compact, defragment and disarm the alarm (etcdctl alarm disarm)`);
    }
    if (this.#closed) return unavailable("etcd store is closed");
    return unavailable(
      `etcd at ${this.#endpoints.join(", ")} is unavailable (${errorMessage(err)}); check that it is running and reachable` +
        (this.#secure ? " and that the CA, client certificate and key match the server" : ""),
    );
  }

  /** A delay that close() cuts short. */
  async #sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const handle = {
        cancel: () => {
          clearTimeout(timer);
          this.#retryTimers.delete(handle);
          resolve();
        },
      };
      const timer = setTimeout(handle.cancel, ms);
      this.#retryTimers.add(handle);
    });
  }

  async #txn(kind: "write", compare: ICompare[], success: IRequestOp[], failure: IRequestOp[]): Promise<ITxnResponse> {
    return this.#rpc(kind, () => this.#client.kv.txn({ compare, success, failure }));
  }

  async #grantLease(key: string, ttl: number): Promise<string> {
    if (ttl === 0) return "0";
    const res = await this.#rpc("write", () => this.#client.leaseClient.leaseGrant({ TTL: ttl, ID: 0 }));
    if (res.error) throw invalid(`etcd refused a lease of ${ttl} s for ${key}: ${res.error}`, key);
    this.#rememberLease(res.ID, ttl);
    return res.ID;
  }

  /** A lease granted for a write that did not happen would only expire; give it back now. */
  async #dropLease(id: string): Promise<void> {
    if (id === "0") return;
    this.#leaseTtl.delete(id);
    await this.#client.leaseClient.leaseRevoke({ ID: id }).catch(() => undefined);
  }

  // ---- Store: reads --------------------------------------------------------------------

  async get(key: string, opts: GetOptions = {}): Promise<GetResult> {
    validateKey(key);
    const revision = opts.revision ?? 0;
    const res = await this.#read({ key: this.#key(key), ...(revision > 0 ? { revision } : {}) }, revision);
    const raw = res.kvs[0];
    await this.#learnLeases([raw]);
    return { revision: revision > 0 ? revision : Number(res.header.revision), kv: raw ? this.#kv(raw, key) : undefined };
  }

  async #read(req: IRangeRequest, revision: number): Promise<IRangeResponse> {
    if (!Number.isSafeInteger(revision) || revision < 0) throw invalid(`revision must be a non-negative integer, got ${revision}`);
    return this.#rpc("read", () => this.#client.kv.range(req), { revision });
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    const limit = opts.limit ?? 0;
    if (!Number.isSafeInteger(limit) || limit < 0) throw invalid(`limit must be a non-negative integer, got ${limit}`);
    const { key: start, range_end } = this.#range(prefix);
    let from = start;
    let revision = opts.revision ?? 0;
    if (opts.continue !== undefined && opts.continue !== "") {
      const pos = decodeContinue(prefix, opts.continue);
      if (revision !== 0 && revision !== pos.revision) throw invalid(`a continue token lists at revision ${pos.revision}; it cannot be combined with revision ${revision}`);
      revision = pos.revision;
      from = this.#key(pos.startKey);
      try {
        return await this.#listPage(prefix, from, range_end, revision, limit);
      } catch (err) {
        if (isStorageError(err, "Compacted")) {
          throw new StorageError(
            "Expired",
            `the continue token's revision ${revision} has been compacted (oldest available: ${err.details.compactRevision ?? "?"}); start the list again without it`,
            err.details,
          );
        }
        throw err;
      }
    }
    return this.#listPage(prefix, from, range_end, revision, limit);
  }

  async #listPage(prefix: string, from: Buffer, end: Buffer, revision: number, limit: number): Promise<ListResult> {
    const res = await this.#read({ key: from, range_end: end, ...(revision > 0 ? { revision } : {}), ...(limit > 0 ? { limit } : {}) }, revision);
    const at = revision > 0 ? revision : Number(res.header.revision);
    await this.#learnLeases(res.kvs);
    const kvs = res.kvs.map((raw) => this.#kv(raw));
    const last = kvs[kvs.length - 1];
    if (!res.more || last === undefined) return { kvs, revision: at };
    return { kvs, revision: at, continue: encodeContinue(prefix, last.key, at), remainingItemCount: Number(res.count) - kvs.length };
  }

  async count(prefix: string): Promise<{ readonly revision: number; readonly count: number }> {
    const res = await this.#read({ ...this.#range(prefix), count_only: true }, 0);
    return { revision: Number(res.header.revision), count: Number(res.count) };
  }

  async currentRevision(): Promise<number> {
    const res = await this.#read({ key: this.#probeKey(), count_only: true }, 0);
    return Number(res.header.revision);
  }

  #probeKey(): Buffer {
    return this.#prefix.length > 0 ? this.#prefix : bytes("/");
  }

  // ---- Store: writes -------------------------------------------------------------------

  async create(key: string, value: Uint8Array, opts: WriteOptions = {}): Promise<KeyValue> {
    validateKey(key);
    validateValue(key, value);
    const ttl = validateTtl(key, opts.ttlSeconds);
    const k = this.#key(key);
    const lease = await this.#grantLease(key, ttl);
    let res: ITxnResponse;
    try {
      res = await this.#txn(
        "write",
        [{ key: k, target: "Create", result: "Equal", create_revision: 0 }],
        [{ request_put: { key: k, value: Buffer.from(value.buffer, value.byteOffset, value.byteLength), lease } }],
        [],
      );
    } catch (err) {
      await this.#dropLease(lease);
      throw err;
    }
    if (!res.succeeded) {
      await this.#dropLease(lease);
      throw alreadyExists(key);
    }
    const rev = Number(res.header.revision);
    return { key, value, createRevision: rev, modRevision: rev, ttlSeconds: ttl };
  }

  async update(key: string, value: Uint8Array, expectedModRevision: number, opts: WriteOptions = {}): Promise<KeyValue> {
    validateKey(key);
    validateValue(key, value);
    const ttl = validateTtl(key, opts.ttlSeconds);
    if (!Number.isSafeInteger(expectedModRevision) || expectedModRevision < 0) throw invalid(`expected revision must be a non-negative integer, got ${expectedModRevision}`, key);
    const k = this.#key(key);
    const lease = await this.#grantLease(key, ttl);
    let res: ITxnResponse;
    try {
      res = await this.#txn(
        "write",
        // The create_revision guard keeps an expected revision of 0 from creating an absent key.
        [
          { key: k, target: "Mod", result: "Equal", mod_revision: expectedModRevision },
          { key: k, target: "Create", result: "Greater", create_revision: 0 },
        ],
        [{ request_put: { key: k, value: Buffer.from(value.buffer, value.byteOffset, value.byteLength), lease, prev_kv: true } }],
        [{ request_range: { key: k } }],
      );
    } catch (err) {
      await this.#dropLease(lease);
      throw err;
    }
    if (!res.succeeded) {
      await this.#dropLease(lease);
      throw await this.#casFailure(key, expectedModRevision, res);
    }
    const rev = Number(res.header.revision);
    const prev = res.responses[0]?.response_put?.prev_kv;
    return { key, value, createRevision: prev ? Number(prev.create_revision) : rev, modRevision: rev, ttlSeconds: ttl };
  }

  async delete(key: string, expectedModRevision?: number): Promise<{ readonly revision: number; readonly prevKv: KeyValue }> {
    validateKey(key);
    if (expectedModRevision !== undefined && (!Number.isSafeInteger(expectedModRevision) || expectedModRevision < 0)) {
      throw invalid(`expected revision must be a non-negative integer, got ${expectedModRevision}`, key);
    }
    const k = this.#key(key);
    const compare: ICompare[] = [{ key: k, target: "Create", result: "Greater", create_revision: 0 }];
    if (expectedModRevision !== undefined) compare.push({ key: k, target: "Mod", result: "Equal", mod_revision: expectedModRevision });
    const res = await this.#txn("write", compare, [{ request_delete_range: { key: k, prev_kv: true } }], [{ request_range: { key: k } }]);
    if (!res.succeeded) throw await this.#casFailure(key, expectedModRevision ?? 0, res);
    const prev = res.responses[0]?.response_delete_range?.prev_kvs[0];
    if (prev === undefined) throw notFound(key);
    await this.#learnLeases([prev]);
    return { revision: Number(res.header.revision), prevKv: this.#kv(prev, key) };
  }

  /** NotFound when the key is absent, otherwise Conflict carrying what is stored now. */
  async #casFailure(key: string, expected: number, res: ITxnResponse): Promise<StorageError> {
    const current = res.responses[0]?.response_range?.kvs[0];
    if (current === undefined) return notFound(key);
    await this.#learnLeases([current]);
    return conflict(key, expected, this.#kv(current, key));
  }

  // ---- compaction ----------------------------------------------------------------------

  async compactedRevision(): Promise<number> {
    return this.#refreshCompacted();
  }

  /**
   * What etcd has compacted to, cheaply: a read at the newest compact revision we know of
   * still succeeds unless someone compacted further, and only then is the exact revision
   * asked of etcd (a watch from a compacted revision is refused with it).
   */
  async #refreshCompacted(): Promise<number> {
    if (this.#closed) return this.#compactRevision;
    const learned = await learnCompactRevision(this.#client, this.#probeKey(), this.#compactRevision, 10_000);
    if (learned > this.#compactRevision) this.#compactRevision = learned;
    return this.#compactRevision;
  }

  async compact(revision?: number): Promise<void> {
    const target = revision ?? (await this.currentRevision());
    if (!Number.isSafeInteger(target) || target < 0) throw invalid(`compaction revision must be a non-negative integer, got ${target}`);
    if (target === 0 || target === this.#compactRevision) return;
    await this.#catchUp(target);
    await this.#rpc("write", () => this.#client.kv.compact({ revision: target, physical: false }), { revision: target });
    if (target > this.#compactRevision) this.#compactRevision = target;
  }

  /**
   * Waits until the store's own watch has delivered `revision`. etcd cancels a watch that is
   * still catching up once a compaction passes the next revision it has to send, and the
   * store would then have to end every watcher (re-list); a revision the watch has delivered
   * is one etcd has moved it past, so compacting to it cannot do that.
   */
  async #catchUp(revision: number): Promise<void> {
    if (revision <= this.#fed) return;
    // etcd refuses to compact to a revision it has not reached; let it say so (Invalid).
    if (revision > (await this.currentRevision())) return;
    if (await this.#waitFed(revision, this.#requestTimeoutMs)) return;
    if (this.#closed) throw unavailable("etcd store is closed");
    throw unavailable(
      `nothing was compacted: the store's etcd watch has delivered up to revision ${this.#fed}, not yet ${revision}, after ${this.#requestTimeoutMs} ms, ` +
        `and compacting past it would end every watcher of this store; try again when etcd keeps up`,
    );
  }

  // ---- watch ---------------------------------------------------------------------------

  async watch(key: string, opts: WatchOptions = {}): Promise<Watch> {
    if (key !== "") validateKey(key);
    if (this.#closed) throw unavailable("etcd store is closed");
    const prefix = opts.prefix ?? true;
    let after = opts.afterRevision ?? 0;
    if (!Number.isSafeInteger(after) || after < 0) throw invalid(`watch revision must be a non-negative integer, got ${after}`);
    if (after === 0) after = await this.currentRevision();
    else if (after < this.#hub.revision) await this.#refreshCompacted();
    const hub = this.#hub;
    const inner = await hub.subscribe(key, prefix, after);
    return new EtcdWatch(inner, () => this.#hubLost.has(hub));
  }

  #newHub(revision: number): WatchHub {
    return new WatchHub({
      queueLimit: this.#options.watchQueueLimit,
      historySize: this.#options.watchHistory,
      revision,
      compactedRevision: () => this.#compactRevision,
      source: (key, prefix, after, upTo) => this.#readHistory(key, prefix, after, upTo),
    });
  }

  /** Opens a raw etcd watch stream and sends one create request on it. */
  async #openWatch(req: NonNullable<IWatchRequest["create_request"]>): Promise<RawWatchStream> {
    const stream = await this.#rpc("read", () => this.#client.watchClient.watch());
    stream.on("error", () => undefined);
    stream.write({ create_request: req });
    return stream;
  }

  /**
   * The single etcd watch that feeds the hub. It covers every key in etcd, not only the
   * store's prefix: every etcd revision has an event somewhere, so the watch's progress is
   * known at every revision (compact() waits on it), which a prefix-only watch could not tell
   * across revisions written outside the prefix. Events outside the prefix are dropped here.
   *
   * It starts at #fed itself, not after it, and skips the events at #fed that etcd sends
   * again: etcd cancels a watch with its compact revision whenever a compaction passes the
   * next revision that watch has to send, so any compaction beyond what the hub has (before
   * the watch exists or while it catches up) is reported, never silently skipped. Started
   * after #fed, a compaction to exactly #fed + 1 would go unreported, and compaction drops
   * the deletes made at its revision. When a compaction is reported, the events in between
   * are gone: every current watcher is ended with Unavailable (re-list) and a new hub starts
   * at the current revision.
   */
  async #runFeed(): Promise<void> {
    let delay = 100;
    while (!this.#closed) {
      let stream: RawWatchStream | undefined;
      try {
        stream = await this.#openWatch({ key: ALL_KEYS, range_end: ALL_KEYS, start_revision: Math.max(this.#fed, 1), prev_kv: true });
        this.#feedStream = stream;
        for await (const resp of stream as unknown as AsyncIterable<IWatchResponse>) {
          if (resp.compact_revision !== "0" && resp.compact_revision !== "") {
            await this.#restartHub(Number(resp.compact_revision));
            break;
          }
          if (resp.canceled) throw unavailable(`etcd cancelled the store's watch: ${resp.cancel_reason || "no reason given"}`);
          if (resp.created) this.#markFeedCreated();
          if (resp.events.length === 0) continue;
          await this.#feed(resp.events);
          delay = 100;
        }
      } catch (err) {
        if (this.#closed) break;
        this.#feedError = err;
        this.#onBackgroundError(err);
      } finally {
        stream?.cancel();
        if (this.#feedStream === stream) this.#feedStream = undefined;
      }
      if (this.#closed) break;
      await this.#sleep(delay);
      delay = Math.min(delay * 2, 5000);
    }
  }

  /** Publishes the store's events of one etcd watch response and records how far the watch has come. */
  async #feed(raw: readonly IEvent[]): Promise<void> {
    const last = Number((raw[raw.length - 1] as IEvent).kv.mod_revision);
    if (last <= this.#fed) return;
    const fed = this.#fed;
    const ours = raw.filter((ev) => Number(ev.kv.mod_revision) > fed && this.#inPrefix(ev.kv.key));
    if (ours.length > 0) {
      const events = await this.#events(ours);
      if (events.length > 0) this.#hub.publish(events);
    }
    this.#advanceFed(last);
  }

  #inPrefix(raw: Buffer): boolean {
    return this.#prefix.length === 0 || (raw.length >= this.#prefix.length && raw.subarray(0, this.#prefix.length).equals(this.#prefix));
  }

  async #restartHub(compactRevision: number): Promise<void> {
    if (compactRevision > this.#compactRevision) this.#compactRevision = compactRevision;
    const revision = await this.currentRevision();
    const old = this.#hub;
    this.#hubLost.add(old);
    this.#hub = this.#newHub(revision);
    this.#advanceFed(revision);
    old.close();
    this.#onBackgroundError(unavailable(`etcd compacted to revision ${compactRevision} before the store's watch had delivered everything up to it (disconnected, or lagging behind); watchers were told to re-list`));
  }

  /** Converts etcd events (all inside the store prefix) to WatchEvents. */
  async #events(raw: readonly IEvent[]): Promise<WatchEvent[]> {
    await this.#learnLeases(raw.flatMap((e) => [e.kv, e.prev_kv]));
    const out: WatchEvent[] = [];
    for (const ev of raw) {
      const key = this.#storeKey(ev.kv.key);
      if (key === undefined) continue;
      const revision = Number(ev.kv.mod_revision);
      const prevKv = ev.prev_kv ? this.#kv(ev.prev_kv, key) : undefined;
      if (ev.type === "Delete") {
        const kv: KeyValue = prevKv ? { ...prevKv, modRevision: revision } : { key, value: new Uint8Array(0), createRevision: 0, modRevision: revision, ttlSeconds: 0 };
        out.push(prevKv ? { type: "delete", revision, kv, prevKv } : { type: "delete", revision, kv });
        continue;
      }
      const kv = this.#kv(ev.kv, key);
      if (kv.createRevision === kv.modRevision || prevKv === undefined) out.push({ type: kv.createRevision === kv.modRevision ? "create" : "update", revision, kv });
      else out.push({ type: "update", revision, kv, prevKv });
    }
    return out;
  }

  /**
   * Changes in (after, upTo] for a watcher that starts before the hub's memory. A temporary
   * etcd watch replays them; it covers the whole keyspace because every etcd revision is a
   * write with at least one event there, so the event at `upTo` is the sign that the replay
   * is complete (a key-range watch could wait forever for a change that never comes).
   */
  async #readHistory(key: string, prefix: boolean, after: number, upTo: number): Promise<readonly WatchEvent[]> {
    if (upTo <= after) return [];
    // The interface refuses afterRevision below the compacted revision; etcd itself would still
    // start a watch at exactly the compact revision, whose delete events compaction removed.
    if (after > 0) await this.#read({ key: this.#probeKey(), count_only: true, revision: after }, after);
    const stream = await this.#openWatch({ key: Buffer.from([0]), range_end: Buffer.from([0]), start_revision: after + 1, prev_kv: true });
    this.#tempStreams.add(stream);
    const collected: IEvent[] = [];
    const timer = setTimeout(() => stream.cancel(), HISTORY_READ_TIMEOUT_MS);
    let complete = false;
    try {
      for await (const resp of stream as unknown as AsyncIterable<IWatchResponse>) {
        if (resp.compact_revision !== "0" && resp.compact_revision !== "") {
          const c = Number(resp.compact_revision);
          if (c > this.#compactRevision) this.#compactRevision = c;
          throw compacted(after + 1, c);
        }
        if (resp.canceled) throw unavailable(`etcd cancelled a history watch: ${resp.cancel_reason || "no reason given"}`);
        for (const ev of resp.events) {
          const rev = Number(ev.kv.mod_revision);
          if (rev >= upTo) complete = true;
          if (rev > upTo) break;
          const k = this.#storeKey(ev.kv.key);
          if (k !== undefined && (prefix ? k.startsWith(key) : k === key)) collected.push(ev);
        }
        if (complete) break;
      }
    } catch (err) {
      if (isStorageError(err)) throw err;
      if (!complete) throw await this.#translate(err, { revision: after + 1 });
    } finally {
      clearTimeout(timer);
      stream.cancel();
      this.#tempStreams.delete(stream);
    }
    if (!complete) throw unavailable(`reading watch history from revision ${after + 1} to ${upTo} did not finish; re-list and watch again`);
    return this.#events(collected);
  }

  // ---- snapshot, close -----------------------------------------------------------------

  async snapshot(file: string): Promise<void> {
    const part = `${file}.part`;
    const out = await openFile(part, "w", 0o600);
    let ok = false;
    try {
      const stream = await this.#rpc("read", () => this.#client.maintenance.snapshot());
      for await (const chunk of stream as unknown as AsyncIterable<ISnapshotResponse>) {
        if (chunk.blob.length > 0) await out.write(chunk.blob);
      }
      await out.sync();
      ok = true;
    } catch (err) {
      throw await this.#translate(err, {});
    } finally {
      await out.close();
      if (!ok) await rm(part, { force: true });
    }
    await rename(part, file);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // A compaction in progress may be waiting for the watch: release it before waiting for it.
    for (const w of [...this.#fedWaiters]) w.wake(false);
    await this.#compactor.stop();
    this.#hub.close();
    this.#feedStream?.cancel();
    for (const s of this.#tempStreams) s.cancel();
    for (const t of [...this.#retryTimers]) t.cancel();
    await this.#feedDone;
    this.#client.close();
  }
}

/**
 * The revision etcd has compacted to. A count-only read at `known` (a revision believed
 * readable) succeeds unless etcd compacted past it; then a watch from that revision is
 * refused with the exact compact revision.
 */
async function learnCompactRevision(client: Etcd3, probe: Buffer, known: number, timeoutMs: number): Promise<number> {
  const opts = { deadline: Date.now() + timeoutMs };
  const at = Math.max(known, 1);
  try {
    await client.kv.range({ key: probe, count_only: true, revision: at }, opts);
    return known;
  } catch (err) {
    if (!hasMessage(err, COMPACTED_MESSAGE)) throw err;
  }
  const stream = await client.watchClient.watch(opts);
  let timer: NodeJS.Timeout | undefined;
  try {
    const answer = new Promise<number>((resolve, reject) => {
      stream.on("data", (resp: IWatchResponse) => {
        if (resp.compact_revision !== "0" && resp.compact_revision !== "") resolve(Number(resp.compact_revision));
        else if (resp.canceled) reject(unavailable(`etcd refused a watch: ${resp.cancel_reason}`));
        else if (resp.events.length > 0) reject(unavailable("etcd replayed a revision it reported as compacted"));
      });
      stream.on("error", reject);
      stream.on("end", () => reject(unavailable("etcd closed a watch stream without answering")));
      timer = setTimeout(() => reject(unavailable(`etcd did not say within ${timeoutMs} ms how far it has compacted`)), timeoutMs);
    });
    stream.write({ create_request: { key: probe, start_revision: at } });
    return await answer;
  } finally {
    clearTimeout(timer);
    stream.cancel();
  }
}

/** A hub watch that fails with Unavailable, instead of ending quietly, when its hub lost events. */
class EtcdWatch implements Watch {
  #stopped = false;
  constructor(
    private readonly inner: Watch,
    private readonly lost: () => boolean,
  ) {}

  stop(): void {
    this.#stopped = true;
    this.inner.stop();
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    const it = this.inner[Symbol.asyncIterator]();
    return {
      next: async () => {
        const r = await it.next();
        if (r.done && !this.#stopped && this.lost()) throw unavailable("the store's etcd watch missed events that were compacted; re-list and watch again");
        return r;
      },
      return: async () => {
        this.stop();
        return (await it.return?.()) ?? { done: true, value: undefined };
      },
    };
  }
}
