// The storage contract: a revisioned key-value store with watch, as etcd v3 offers it and as
// Kubernetes' storage.Interface (and kine) consume it. Nothing above this file knows which
// backend runs underneath.
//
// Revisions: one global counter, strictly increasing by one per successful write (create,
// update or delete). Every stored value carries the revision that created its key and the
// revision of its last change (modRevision, exposed upward as metadata.resourceVersion).

export interface KeyValue {
  readonly key: string;
  readonly value: Uint8Array;
  readonly createRevision: number;
  readonly modRevision: number;
  /** Time-to-live in seconds given at the last write; 0 when the key does not expire. */
  readonly ttlSeconds: number;
}

export type WatchEventType = "create" | "update" | "delete";

export interface WatchEvent {
  readonly type: WatchEventType;
  /** The revision of this change. */
  readonly revision: number;
  /**
   * create/update: the new value. delete: the deleted key with the value it had,
   * createRevision as before and modRevision = `revision` (the deletion revision).
   */
  readonly kv: KeyValue;
  /** update and delete: the value before this change. */
  readonly prevKv?: KeyValue;
}

export interface WriteOptions {
  /** The key disappears this many seconds after the write; watchers see a delete. */
  readonly ttlSeconds?: number;
}

export interface GetOptions {
  /** Read as of this revision (0 or absent: the latest). Compacted if older than the compacted revision. */
  readonly revision?: number;
}

export interface GetResult {
  /** The revision the read was served at. */
  readonly revision: number;
  readonly kv: KeyValue | undefined;
}

export interface ListOptions {
  /** Read as of this revision (0 or absent: the latest). */
  readonly revision?: number;
  /** At most this many items; 0 or absent: all. */
  readonly limit?: number;
  /**
   * A token from a previous page. It carries the revision, so every page of one list is
   * consistent; Expired once that revision has been compacted.
   */
  readonly continue?: string;
}

export interface ListResult {
  readonly kvs: readonly KeyValue[];
  /** The revision every item was read at. */
  readonly revision: number;
  /** Present when more items follow. */
  readonly continue?: string;
  /** When `continue` is present: how many items follow this page. */
  readonly remainingItemCount?: number;
}

export interface WatchOptions {
  /**
   * Deliver every change with revision > afterRevision. Absent or 0: changes after the
   * current revision. Compacted if afterRevision < the compacted revision.
   */
  readonly afterRevision?: number;
  /** Watch every key that starts with `key` (default true). */
  readonly prefix?: boolean;
}

/**
 * A running watch. Iterating yields every matching change in revision order, none missed and
 * none repeated. Iteration ends when `stop()` is called or the store closes; it throws a
 * StorageError when the watcher fell too far behind (code Unavailable: re-list and watch
 * again) or its history was compacted away (code Compacted).
 */
export interface Watch extends AsyncIterable<WatchEvent> {
  stop(): void;
}

export interface Store {
  /** `memory`, `sqlite` or `etcd`. */
  readonly backend: string;

  get(key: string, opts?: GetOptions): Promise<GetResult>;
  /** AlreadyExists if the key exists. Returns the stored value with its revisions. */
  create(key: string, value: Uint8Array, opts?: WriteOptions): Promise<KeyValue>;
  /** Compare-and-swap: Conflict unless the stored modRevision equals expectedModRevision; NotFound if absent. */
  update(key: string, value: Uint8Array, expectedModRevision: number, opts?: WriteOptions): Promise<KeyValue>;
  /**
   * Deletes the key; with expectedModRevision, only if it still has that revision (Conflict
   * otherwise). NotFound if absent. Returns the deletion revision and the value deleted.
   */
  delete(key: string, expectedModRevision?: number): Promise<{ readonly revision: number; readonly prevKv: KeyValue }>;
  /** Keys that start with `prefix`, in byte order of the key, consistent at one revision. */
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  count(prefix: string): Promise<{ readonly revision: number; readonly count: number }>;
  watch(key: string, opts?: WatchOptions): Promise<Watch>;

  currentRevision(): Promise<number>;
  /** The newest revision whose history has been discarded (0 if none). */
  compactedRevision(): Promise<number>;
  /**
   * Discards history up to and including `revision` (default: the current revision). The
   * latest value of every key always stays readable.
   */
  compact(revision?: number): Promise<void>;

  /** Writes a consistent copy of the whole store to `file` while the store stays online. */
  snapshot(file: string): Promise<void>;
  close(): Promise<void>;
}

/** Bounds the API server relies on: etcd's defaults. */
export const MAX_KEY_BYTES = 1024 * 8;
export const MAX_VALUE_BYTES = 1.5 * 1024 * 1024;
