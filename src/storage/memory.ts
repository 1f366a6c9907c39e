// An in-memory MVCC store: the reference backend for tests and for `memory://`. Every key
// keeps its versions (a deletion is a version with no value) until compaction, so reads and
// lists at an older revision see exactly what the store held then. All state changes happen
// synchronously inside one call, so each operation is atomic without locks.
import { randomBytes } from "node:crypto";
import { open as openFile, readFile, rename, rm } from "node:fs/promises";
import { Compactor } from "./compactor.js";
import { decodeContinue, encodeContinue } from "./continue.js";
import { StorageError, alreadyExists, compacted, conflict, invalid, notFound, unavailable } from "./errors.js";
import type { GetOptions, GetResult, KeyValue, ListOptions, ListResult, Store, Watch, WatchEvent, WatchOptions, WriteOptions } from "./interface.js";
import { compareKeys, validateKey, validateTtl, validateValue } from "./keys.js";
import { compileStoreOptions, type StoreOptions } from "./options.js";
import { WatchHub } from "./watchhub.js";

interface Version {
  readonly revision: number;
  /** undefined: the key was deleted at `revision`. */
  readonly kv: KeyValue | undefined;
}

const SNAPSHOT_FORMAT = "k8ts-memory-snapshot";
const SNAPSHOT_VERSION = 1;

interface SnapshotFile {
  readonly format: typeof SNAPSHOT_FORMAT;
  readonly version: number;
  readonly revision: number;
  readonly keys: ReadonlyArray<{
    readonly key: string;
    readonly value: string;
    readonly createRevision: number;
    readonly modRevision: number;
    readonly ttlSeconds: number;
    /** ms since the epoch; absent when the key does not expire. */
    readonly expiresAt?: number;
  }>;
}

export class MemoryStore implements Store {
  readonly backend = "memory";

  #revision = 0;
  #compactRevision = 0;
  readonly #versions = new Map<string, Version[]>();
  /** Every key that has versions, in key order. */
  #sorted: string[] = [];
  /** Every event after #compactRevision, in order: event i has revision #compactRevision + 1 + i. */
  #log: WatchEvent[] = [];
  /** Live keys with a TTL → expiry time (ms since the epoch). */
  readonly #expiry = new Map<string, number>();

  readonly #options: StoreOptions;
  readonly #hub: WatchHub;
  readonly #compactor: Compactor;
  #sweeper: NodeJS.Timeout | undefined;
  #closed = false;

  private constructor(options: StoreOptions, revision: number) {
    this.#options = options;
    this.#revision = revision;
    this.#compactRevision = revision;
    this.#hub = new WatchHub({
      queueLimit: options.watchQueueLimit,
      historySize: options.watchHistory,
      revision,
      compactedRevision: () => this.#compactRevision,
      source: (key, prefix, after, upTo) => Promise.resolve(this.#history(key, prefix, after, upTo)),
    });
    this.#compactor = new Compactor({ store: this, options: options.compaction });
  }

  static async open(options: StoreOptions = compileStoreOptions()): Promise<MemoryStore> {
    const store = new MemoryStore(options, 0);
    store.#start();
    return store;
  }

  /** A store holding what `snapshot()` wrote to `file`, at the same revisions; older history is compacted. */
  static async restore(file: string, options: StoreOptions = compileStoreOptions()): Promise<MemoryStore> {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      throw unavailable(`cannot read memory snapshot ${file}: ${(err as Error).message}`);
    }
    const snap = parseSnapshot(file, text);
    const store = new MemoryStore(options, snap.revision);
    for (const k of snap.keys) {
      const kv: KeyValue = { key: k.key, value: new Uint8Array(Buffer.from(k.value, "base64")), createRevision: k.createRevision, modRevision: k.modRevision, ttlSeconds: k.ttlSeconds };
      store.#versions.set(k.key, [{ revision: k.modRevision, kv }]);
      store.#sorted.push(k.key);
      if (k.expiresAt !== undefined) store.#expiry.set(k.key, k.expiresAt);
    }
    store.#sorted.sort(compareKeys);
    store.#start();
    return store;
  }

  #start(): void {
    this.#sweeper = setInterval(() => this.#sweep(), this.#options.ttlSweepMs);
    this.#sweeper.unref();
    this.#compactor.start();
  }

  async get(key: string, opts: GetOptions = {}): Promise<GetResult> {
    this.#open();
    const revision = this.#readRevision(opts.revision);
    return { revision, kv: this.#at(key, revision) };
  }

  async create(key: string, value: Uint8Array, opts: WriteOptions = {}): Promise<KeyValue> {
    this.#open();
    validateKey(key);
    validateValue(key, value);
    const ttlSeconds = validateTtl(key, opts.ttlSeconds);
    if (this.#latest(key) !== undefined) throw alreadyExists(key);
    const revision = this.#revision + 1;
    const kv: KeyValue = { key, value: new Uint8Array(value), createRevision: revision, modRevision: revision, ttlSeconds };
    this.#commit(key, { revision, kv }, { type: "create", revision, kv });
    return kv;
  }

  async update(key: string, value: Uint8Array, expectedModRevision: number, opts: WriteOptions = {}): Promise<KeyValue> {
    this.#open();
    validateKey(key);
    validateValue(key, value);
    const ttlSeconds = validateTtl(key, opts.ttlSeconds);
    const prev = this.#latest(key);
    if (prev === undefined) throw notFound(key);
    if (prev.modRevision !== expectedModRevision) throw conflict(key, expectedModRevision, prev);
    const revision = this.#revision + 1;
    const kv: KeyValue = { key, value: new Uint8Array(value), createRevision: prev.createRevision, modRevision: revision, ttlSeconds };
    this.#commit(key, { revision, kv }, { type: "update", revision, kv, prevKv: prev });
    return kv;
  }

  async delete(key: string, expectedModRevision?: number): Promise<{ readonly revision: number; readonly prevKv: KeyValue }> {
    this.#open();
    return this.#delete(key, expectedModRevision);
  }

  #delete(key: string, expectedModRevision: number | undefined): { readonly revision: number; readonly prevKv: KeyValue } {
    const prev = this.#latest(key);
    if (prev === undefined) throw notFound(key);
    if (expectedModRevision !== undefined && prev.modRevision !== expectedModRevision) throw conflict(key, expectedModRevision, prev);
    const revision = this.#revision + 1;
    this.#commit(key, { revision, kv: undefined }, { type: "delete", revision, kv: { ...prev, modRevision: revision }, prevKv: prev });
    return { revision, prevKv: prev };
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.#open();
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

    const kvs: KeyValue[] = [];
    let remaining = 0;
    for (let i = this.#lowerBound(start); i < this.#sorted.length; i++) {
      const key = this.#sorted[i] as string;
      if (!key.startsWith(prefix)) break;
      const kv = this.#at(key, revision);
      if (kv === undefined) continue;
      if (limit === 0 || kvs.length < limit) kvs.push(kv);
      else remaining++;
    }
    if (remaining === 0) return { kvs, revision };
    const last = kvs[kvs.length - 1] as KeyValue;
    return { kvs, revision, continue: encodeContinue(prefix, last.key, revision), remainingItemCount: remaining };
  }

  async count(prefix: string): Promise<{ readonly revision: number; readonly count: number }> {
    this.#open();
    let count = 0;
    for (let i = this.#lowerBound(prefix); i < this.#sorted.length; i++) {
      const key = this.#sorted[i] as string;
      if (!key.startsWith(prefix)) break;
      if (this.#latest(key) !== undefined) count++;
    }
    return { revision: this.#revision, count };
  }

  async watch(key: string, opts: WatchOptions = {}): Promise<Watch> {
    this.#open();
    return this.#hub.subscribe(key, opts.prefix ?? true, opts.afterRevision || this.#revision);
  }

  async currentRevision(): Promise<number> {
    this.#open();
    return this.#revision;
  }

  async compactedRevision(): Promise<number> {
    this.#open();
    return this.#compactRevision;
  }

  async compact(revision?: number): Promise<void> {
    this.#open();
    const target = revision ?? this.#revision;
    if (!Number.isSafeInteger(target) || target < 0) throw invalid(`compact revision must be a non-negative integer, got ${target}`);
    if (target > this.#revision) throw invalid(`cannot compact to revision ${target}: the current revision is ${this.#revision}`);
    if (target < this.#compactRevision) throw compacted(target, this.#compactRevision);
    if (target === this.#compactRevision) return;

    // Only keys written in (old, target] can have versions that no read at or after target needs.
    const dropped = this.#log.slice(0, target - this.#compactRevision);
    this.#log = this.#log.slice(target - this.#compactRevision);
    this.#compactRevision = target;
    let removedKeys = false;
    for (const key of new Set(dropped.map((e) => e.kv.key))) {
      const versions = this.#versions.get(key);
      if (versions === undefined) continue;
      let keep = versionIndexAt(versions, target);
      if (keep >= 0 && (versions[keep] as Version).kv === undefined) keep++;
      if (keep <= 0) continue;
      versions.splice(0, keep);
      if (versions.length === 0) {
        this.#versions.delete(key);
        removedKeys = true;
      }
    }
    if (removedKeys) this.#sorted = this.#sorted.filter((k) => this.#versions.has(k));
  }

  /** Writes every live key with its revisions (and the store's revision) to `file`, atomically. */
  async snapshot(file: string): Promise<void> {
    this.#open();
    const keys: SnapshotFile["keys"][number][] = [];
    for (const key of this.#sorted) {
      const kv = this.#latest(key);
      if (kv === undefined) continue;
      const expiresAt = this.#expiry.get(key);
      keys.push({ key, value: Buffer.from(kv.value).toString("base64"), createRevision: kv.createRevision, modRevision: kv.modRevision, ttlSeconds: kv.ttlSeconds, ...(expiresAt === undefined ? {} : { expiresAt }) });
    }
    const snap: SnapshotFile = { format: SNAPSHOT_FORMAT, version: SNAPSHOT_VERSION, revision: this.#revision, keys };
    const tmp = `${file}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      const fh = await openFile(tmp, "wx");
      try {
        await fh.writeFile(JSON.stringify(snap));
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw unavailable(`cannot write memory snapshot ${file}: ${(err as Error).message}`);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweeper);
    await this.#compactor.stop();
    this.#hub.close();
  }

  #open(): void {
    if (this.#closed) throw unavailable("memory store is closed");
  }

  #commit(key: string, version: Version, event: WatchEvent): void {
    let versions = this.#versions.get(key);
    if (versions === undefined) {
      versions = [];
      this.#versions.set(key, versions);
      this.#sorted.splice(this.#lowerBound(key), 0, key);
    }
    versions.push(version);
    this.#revision = version.revision;
    const ttl = version.kv?.ttlSeconds ?? 0;
    if (ttl > 0) this.#expiry.set(key, Date.now() + ttl * 1000);
    else this.#expiry.delete(key);
    this.#log.push(event);
    this.#hub.publish([event]);
  }

  /** Deletes expired keys through the normal delete path, so watchers see the deletion. */
  #sweep(): void {
    if (this.#closed) return;
    const now = Date.now();
    for (const [key, at] of [...this.#expiry]) {
      if (at > now) continue;
      const kv = this.#latest(key);
      if (kv !== undefined) this.#delete(key, kv.modRevision);
    }
  }

  #readRevision(requested: number | undefined): number {
    if (requested === undefined || requested === 0) return this.#revision;
    if (!Number.isSafeInteger(requested) || requested < 0) throw invalid(`revision must be a non-negative integer, got ${requested}`);
    if (requested < this.#compactRevision) throw compacted(requested, this.#compactRevision);
    if (requested > this.#revision) throw invalid(`revision ${requested} is newer than the current revision ${this.#revision}`);
    return requested;
  }

  #latest(key: string): KeyValue | undefined {
    return this.#versions.get(key)?.at(-1)?.kv;
  }

  #at(key: string, revision: number): KeyValue | undefined {
    const versions = this.#versions.get(key);
    if (versions === undefined) return undefined;
    return versions[versionIndexAt(versions, revision)]?.kv;
  }

  #lowerBound(key: string): number {
    let lo = 0;
    let hi = this.#sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(this.#sorted[mid] as string, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #history(key: string, prefix: boolean, after: number, upTo: number): WatchEvent[] {
    if (after < this.#compactRevision) throw compacted(after + 1, this.#compactRevision);
    const from = after - this.#compactRevision;
    const to = Math.min(upTo, this.#revision) - this.#compactRevision;
    const out: WatchEvent[] = [];
    for (let i = from; i < to; i++) {
      const ev = this.#log[i] as WatchEvent;
      if (prefix ? ev.kv.key.startsWith(key) : ev.kv.key === key) out.push(ev);
    }
    return out;
  }
}

/** Index of the newest version at or before `revision`, or -1. */
function versionIndexAt(versions: readonly Version[], revision: number): number {
  let lo = 0;
  let hi = versions.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((versions[mid] as Version).revision <= revision) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

function expired(compactRevision: number): StorageError {
  return new StorageError(
    "Expired",
    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
    { compactRevision },
  );
}

function parseSnapshot(file: string, text: string): SnapshotFile {
  const bad = (why: string): StorageError => invalid(`${file} is not a k8ts memory snapshot (${why}); pass a file written by \`k8ts snapshot save\` from a memory:// store`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw bad("not JSON");
  }
  const snap = parsed as Partial<SnapshotFile> | null;
  if (snap === null || typeof snap !== "object" || snap.format !== SNAPSHOT_FORMAT) throw bad("wrong format marker");
  if (snap.version !== SNAPSHOT_VERSION) throw invalid(`${file} is a memory snapshot of version ${String(snap.version)}; this k8ts reads version ${SNAPSHOT_VERSION}: use a matching k8ts release`);
  if (!Number.isSafeInteger(snap.revision) || (snap.revision as number) < 0 || !Array.isArray(snap.keys)) throw bad("missing revision or keys");
  for (const k of snap.keys) {
    const ok =
      typeof k?.key === "string" &&
      typeof k.value === "string" &&
      Number.isSafeInteger(k.createRevision) &&
      Number.isSafeInteger(k.modRevision) &&
      k.createRevision <= k.modRevision &&
      k.modRevision <= (snap.revision as number) &&
      Number.isSafeInteger(k.ttlSeconds) &&
      (k.expiresAt === undefined || Number.isFinite(k.expiresAt));
    if (!ok) throw bad(`malformed entry ${JSON.stringify(k?.key)}`);
  }
  return snap as SnapshotFile;
}
