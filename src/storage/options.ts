// Options every backend is opened with, compiled once at the boundary (defaults applied,
// everything required afterwards).

export interface CompactionOptions {
  /** Keep at least this many revisions of history. */
  readonly minRevisions: number;
  /** Keep at least this much history in time (ms). */
  readonly minAgeMs: number;
  /** How often the automatic compactor runs (ms); 0 disables it. */
  readonly intervalMs: number;
}

export interface TlsOptions {
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
}

export interface StoreOptions {
  readonly compaction: CompactionOptions;
  /** Events a watcher may have queued before it is cut off as too slow. */
  readonly watchQueueLimit: number;
  /** Recent events kept in memory so new watchers from a recent revision start without a read. */
  readonly watchHistory: number;
  /** SQLite: FULL (default) fsyncs every commit so an acknowledged write survives power loss. */
  readonly sqliteSynchronous: "FULL" | "NORMAL";
  /** etcd client TLS. */
  readonly tls: TlsOptions;
  /** How often expired TTL keys are swept on backends that sweep them (ms). */
  readonly ttlSweepMs: number;
}

export interface StoreOptionsInput {
  readonly compaction?: Partial<CompactionOptions>;
  readonly watchQueueLimit?: number;
  readonly watchHistory?: number;
  readonly sqliteSynchronous?: StoreOptions["sqliteSynchronous"];
  readonly tls?: TlsOptions;
  readonly ttlSweepMs?: number;
}

export const DEFAULT_COMPACTION: CompactionOptions = { minRevisions: 1000, minAgeMs: 5 * 60_000, intervalMs: 60_000 };

export function compileStoreOptions(input: StoreOptionsInput = {}): StoreOptions {
  const compaction = { ...DEFAULT_COMPACTION, ...input.compaction };
  for (const [k, v] of Object.entries(compaction)) {
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`compaction.${k} must be a non-negative number, got ${String(v)}`);
  }
  const sqliteSynchronous = input.sqliteSynchronous ?? "FULL";
  if (sqliteSynchronous !== "FULL" && sqliteSynchronous !== "NORMAL") throw new RangeError(`sqlite synchronous must be FULL or NORMAL, got ${String(sqliteSynchronous)}`);
  return {
    compaction,
    watchQueueLimit: positive("watchQueueLimit", input.watchQueueLimit ?? 10_000),
    watchHistory: positive("watchHistory", input.watchHistory ?? 10_000),
    sqliteSynchronous,
    tls: { ...input.tls },
    ttlSweepMs: positive("ttlSweepMs", input.ttlSweepMs ?? 1000),
  };
}

function positive(name: string, v: number): number {
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${name} must be a positive number, got ${String(v)}`);
  return v;
}
