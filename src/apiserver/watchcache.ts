// The watch cache: every object the API server serves, kept in memory and fed by ONE storage
// watch over the whole registry. Lists at resourceVersion 0 and every watch are served from
// here (as upstream's cacher does), consistent lists wait until the cache has caught up with
// the store's current revision, and each event is serialized once per encoding no matter how
// many watchers receive it.
//
// History: each resource keeps its recent events so that a watch can resume from a
// resourceVersion instead of re-listing. A fixed number of events is minutes of history on an
// idle cluster and seconds on a busy one, so (as upstream's cacher, which keeps ~75 s) the
// history can be sized by time: every event younger than the window stays, between a floor and
// a ceiling of event counts. A watch that resumes is fed from the history lazily, one event at a
// time as its client takes them, so a long replay is not cut off by the live-event queue limit.
import type { KeyValue, Store, Watch, WatchEvent } from "../storage/interface.js";
import { isStorageError } from "../storage/errors.js";
import { freezeJson } from "../util/freeze.js";
import type { KubeObject } from "./registry/types.js";

export type EventType = "ADDED" | "MODIFIED" | "DELETED";

const decoder = new TextDecoder();

/**
 * Bounds how many cached objects keep their parsed form: only the `capacity` most recently
 * parsed do; older ones drop it and parse again from their bytes if asked. An object is read
 * parsed in bursts (watch filters when its event is dispatched, the watch encoding just after,
 * the next update's read of the current object), while tens of thousands of parsed objects
 * held for good make every garbage collection mark them: in a cache of 30,000 pods going
 * through 120,000 updates, holding every parsed object cost 2.6-3.0 s of GC against 0.5-0.6 s.
 */
export class ParsedObjects {
  private readonly ring: (CachedObject | undefined)[];
  private next = 0;

  constructor(readonly capacity: number) {
    this.ring = new Array<CachedObject | undefined>(Math.max(1, capacity));
  }

  /** Records that `o` was just parsed; returns its slot. The object in that slot before gives up its parsed form. */
  track(o: CachedObject): number {
    const slot = this.next;
    this.ring[slot]?.dropParsed(slot);
    this.ring[slot] = o;
    this.next = (slot + 1) % this.ring.length;
    return slot;
  }
}

/**
 * An object as stored, with metadata.resourceVersion set from its revision. Decoded on first
 * use: most events of a write-heavy resource are never read by a filtering watcher.
 */
export class CachedObject {
  private encoded: string | undefined;
  private decoded: Readonly<KubeObject> | undefined;
  /** The ParsedObjects slot holding this object's parsed form (-1: none). */
  private slot = -1;
  /**
   * Watchers' filters and their verdicts on this object, in pairs, kept when the parsed form is
   * dropped: at the object's next event each watcher asks again about it (as the previous
   * object), often after the parsed ring has moved on; without them, 24,000 of the 140,000
   * parses in a 10,000-pod density run were of previous objects parsed again.
   */
  private verdicts: (ObjectFilter | boolean)[] | undefined;
  /** False once superseded: only replaying watchers ask about it then, each once. */
  private current = true;
  private constructor(
    readonly key: string,
    readonly revision: number,
    private readonly raw: Uint8Array | undefined,
    decoded: Readonly<KubeObject> | undefined,
    private readonly parsed: ParsedObjects | undefined,
  ) {
    this.decoded = decoded;
  }

  /** Drops the parsed form if it is still the one `slot` tracked (ParsedObjects calls this). */
  dropParsed(slot: number): void {
    if (this.slot !== slot || this.raw === undefined) return;
    this.decoded = undefined;
    this.slot = -1;
  }

  /**
   * Drops the decoded and encoded forms of an object that is no longer current (only its
   * history events refer to it): they are computed again from the stored bytes if a resuming
   * watch asks, and the heap does not carry minutes of parsed history.
   */
  forget(): void {
    this.verdicts = undefined;
    this.current = false;
    if (this.raw === undefined) return;
    this.decoded = undefined;
    this.encoded = undefined;
    this.slot = -1;
  }

  /**
   * The object stored as `kv`, already in memory: `object` is what kv.value encodes (apiVersion,
   * kind and metadata first, no resourceVersion: ResourceStore.encode) and no one changes it
   * any more. Its served form is made without parsing the bytes, and drops out of `parsed`
   * like a parsed one.
   */
  static written(kv: KeyValue, object: Readonly<KubeObject>, parsed?: ParsedObjects): CachedObject {
    const o = new CachedObject(kv.key, kv.modRevision, kv.value, freezeJson(atRevision(object, kv.modRevision)), parsed);
    if (parsed) o.slot = parsed.track(o);
    return o;
  }

  static of(key: string, object: Readonly<KubeObject>, revision: number): CachedObject {
    return new CachedObject(key, revision, undefined, object, undefined);
  }

  /** With `parsed`, the object keeps its parsed form only while it is among the most recently parsed. */
  static decode(kv: KeyValue, revision = kv.modRevision, parsed?: ParsedObjects): CachedObject {
    return new CachedObject(kv.key, revision, kv.value, undefined, parsed);
  }

  /**
   * `filter`'s verdict on this object, remembered for up to MAX_VERDICTS filters (the watchers
   * of a resource that select, usually a handful; past that, asked each time).
   */
  matches(filter: ObjectFilter): boolean {
    const v = this.verdicts;
    if (v !== undefined) {
      for (let i = 0; i < v.length; i += 2) if (v[i] === filter) return v[i + 1] as boolean;
    }
    const verdict = filter(this.object);
    if (!this.current) return verdict;
    if (v === undefined) this.verdicts = [filter, verdict];
    else if (v.length < 2 * MAX_VERDICTS) v.push(filter, verdict);
    return verdict;
  }

  get object(): Readonly<KubeObject> {
    if (this.decoded === undefined) {
      const obj = parseStored(this.raw ?? new Uint8Array(), this.revision);
      // Every reader shares it (lists, watches, and updates, which start from the cached copy).
      this.decoded = freezeJson(obj);
      if (this.parsed) this.slot = this.parsed.track(this);
    }
    return this.decoded;
  }

  /**
   * The object's JSON, computed once. From the stored bytes whenever there are some (parsed
   * or not, the object is those bytes plus its resourceVersion): the store writes apiVersion,
   * kind and metadata first (ResourceStore.encode), so the resourceVersion goes in right after
   * the top-level `"metadata":{` without a parse or a stringify.
   */
  json(): string {
    if (this.encoded !== undefined) return this.encoded;
    if (this.raw !== undefined) {
      const spliced = storedJSON(this.raw, this.revision);
      if (spliced !== undefined) return (this.encoded = spliced);
    }
    return (this.encoded ??= JSON.stringify(this.object));
  }

  /**
   * json() as bytes between `head` and `tail` (a watch event's line): straight from the stored
   * bytes when there are some, so the served JSON is never a string that each watcher's socket
   * measures and encodes again.
   */
  jsonBytes(head: Buffer, tail: Buffer): Buffer {
    if (this.encoded === undefined && this.raw !== undefined) {
      const bytes = storedBytes(this.raw, this.revision, head, tail);
      if (bytes !== undefined) return bytes;
    }
    return Buffer.concat([head, Buffer.from(this.json()), tail]);
  }
}

/** A stored value's object, parsed (a private copy), with the resourceVersion of `revision`. */
export function parseStored(value: Uint8Array, revision: number): KubeObject {
  const obj = JSON.parse(decoder.decode(value)) as KubeObject;
  obj.metadata = { ...obj.metadata, resourceVersion: String(revision) };
  return obj;
}

/**
 * `object` (what ResourceStore.encode stored) as decoding its stored bytes at `revision` gives
 * it: the same keys in the same order, resourceVersion last in metadata. A new top level and
 * metadata; everything else is shared with `object`.
 */
export function atRevision(object: Readonly<KubeObject>, revision: number): KubeObject {
  const { apiVersion, kind, metadata, ...rest } = object;
  // Copied without the old key rather than copied and deleted from: a delete leaves the copy in
  // V8's slow (dictionary) mode, which every later read and JSON.stringify of it pays for.
  const { resourceVersion: _old, ...meta } = metadata ?? {};
  (meta as { resourceVersion?: string }).resourceVersion = String(revision);
  return { apiVersion, kind, metadata: meta, ...rest } as KubeObject;
}

const METADATA_OPEN = Buffer.from('"metadata":{');
const API_VERSION_FIRST = Buffer.from('{"apiVersion":');

/**
 * Where `"resourceVersion"` goes in a value stored by ResourceStore.encode: just inside its
 * top-level metadata, which follows apiVersion and kind (plain ASCII, nothing nested); -1 when
 * the bytes do not begin that way (then only a parse and a stringify will do).
 */
function resourceVersionAt(value: Uint8Array): number {
  const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  const at = bytes.indexOf(METADATA_OPEN);
  if (at <= 0 || bytes.compare(API_VERSION_FIRST, 0, API_VERSION_FIRST.length, 0, API_VERSION_FIRST.length) !== 0) return -1;
  for (let i = 1; i < at; i++) {
    const c = bytes[i]!;
    if (c === 0x7b || c === 0x5b || c >= 0x80) return -1;
  }
  return at + METADATA_OPEN.length;
}

/** What goes in at resourceVersionAt: the field, and a comma unless metadata is otherwise empty. */
const resourceVersionField = (value: Uint8Array, at: number, revision: number): string => `"resourceVersion":"${revision}"${value[at] === 0x7d ? "" : ","}`;

/** The served JSON of a value stored by ResourceStore.encode at `revision`: its bytes with the resourceVersion spliced in. */
function storedJSON(value: Uint8Array, revision: number): string | undefined {
  const at = resourceVersionAt(value);
  if (at < 0) return undefined;
  // Everything before `at` is ASCII, so its byte offset is its character offset.
  const text = decoder.decode(value);
  return text.slice(0, at) + resourceVersionField(value, at, revision) + text.slice(at);
}

/** storedJSON as bytes between `head` and `tail`, never made a string. */
function storedBytes(value: Uint8Array, revision: number, head: Buffer, tail: Buffer): Buffer | undefined {
  const at = resourceVersionAt(value);
  if (at < 0) return undefined;
  const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return Buffer.concat([head, bytes.subarray(0, at), Buffer.from(resourceVersionField(value, at, revision)), bytes.subarray(at), tail]);
}

const storedAs = new WeakMap<object, KeyValue>();

/**
 * Records that `obj` is the object stored as `kv` (what decoding kv.value at its revision
 * gives, and no one changes it any more), so that a response serializes it from the stored
 * bytes (jsonOfStored) instead of stringifying it again. Returns `obj`.
 */
export function markStored<T extends object>(obj: T, kv: KeyValue): T {
  storedAs.set(obj, kv);
  return obj;
}

const NOTHING = Buffer.alloc(0);

/**
 * The JSON of an object marked by markStored, as bytes straight from its stored bytes (a
 * response sends them as they are: no string to decode and encode again); undefined for any
 * other object.
 */
export function jsonOfStored(obj: object): Buffer | undefined {
  const kv = storedAs.get(obj);
  return kv === undefined ? undefined : storedBytes(kv.value, kv.modRevision, NOTHING, NOTHING);
}

export class CacheEvent {
  /** The first encoding asked for: usually the only one, every watcher of a resource asking for the same. */
  private encodingId: string | undefined;
  private encoding: Buffer | undefined;
  private encodings: Map<string, Buffer> | undefined;
  constructor(
    readonly type: EventType,
    readonly revision: number,
    /** The new object; for DELETED the last state, with resourceVersion = the deletion revision. */
    readonly object: CachedObject,
    readonly prev: CachedObject | undefined,
  ) {}

  /**
   * Serialized once per encoding id and reused for every watcher that asks for it, as bytes:
   * a string would be measured and encoded to UTF-8 again by every watcher's socket.
   */
  encode(id: string, encode: () => Buffer): Buffer {
    if (this.encodingId === id) return this.encoding!;
    if (this.encodingId === undefined) {
      this.encoding = encode();
      this.encodingId = id;
      return this.encoding;
    }
    let s = this.encodings?.get(id);
    if (s === undefined) {
      s = encode();
      (this.encodings ??= new Map()).set(id, s);
    }
    return s;
  }

  /**
   * Lets the serialized forms go once live watchers have taken the event: a history event
   * otherwise holds its JSON (a pod's is ~4 KiB) for the whole history window. A watcher still
   * asking later (a resumed watch, one far behind) serializes it again.
   */
  releaseEncodings(): void {
    this.encodingId = undefined;
    this.encoding = undefined;
    this.encodings = undefined;
  }
}

/** What a watcher receives: the cache's event, with the type this watcher sees after filtering. */
export interface WatcherEvent {
  readonly type: EventType;
  readonly event: CacheEvent;
  /** The object to send (for a filtered-out MODIFIED: the previous object, sent as DELETED). */
  readonly object: CachedObject;
}

export type ObjectFilter = (obj: Readonly<KubeObject>) => boolean;

/** Filters whose verdicts one cached object remembers. */
const MAX_VERDICTS = 8;

export class WatcherTooSlowError extends Error {
  override readonly name = "WatcherTooSlowError";
}

/** One client's watch on a resource: a bounded queue read by an async iterator. */
export class CacheWatcher implements AsyncIterable<WatcherEvent> {
  private readonly queue: WatcherEvent[] = [];
  private wake: (() => void) | undefined;
  private closedWith: Error | null | undefined;
  /**
   * Events owed from before the watch began (initial state or history replay), produced one at
   * a time on demand and always ahead of the queue; undefined once drained.
   */
  private backlog: (() => WatcherEvent | undefined) | undefined;

  constructor(
    private readonly prefix: string,
    /** Undefined: every object under the prefix, none parsed to find out. */
    private readonly filter: ObjectFilter | undefined,
    private readonly limit: number,
    private readonly onClose: (w: CacheWatcher) => void,
  ) {}

  /** What this watcher sees of a cache event (undefined: nothing, it is outside its selection). */
  private match(ev: CacheEvent): WatcherEvent | undefined {
    if (!ev.object.key.startsWith(this.prefix)) return undefined;
    const filter = this.filter;
    if (filter === undefined) return { type: ev.type, event: ev, object: ev.object };
    const now = ev.object.matches(filter);
    if (ev.type === "ADDED") return now ? { type: "ADDED", event: ev, object: ev.object } : undefined;
    if (ev.type === "DELETED") return now ? { type: "DELETED", event: ev, object: ev.object } : undefined;
    const before = ev.prev !== undefined && ev.prev.matches(filter);
    if (now && before) return { type: "MODIFIED", event: ev, object: ev.object };
    if (now) return { type: "ADDED", event: ev, object: ev.object };
    // Left the selection: upstream sends DELETED with the new object's state.
    if (before) return { type: "DELETED", event: ev, object: ev.object };
    return undefined;
  }

  /** Offers a live cache event; a watcher whose queue is full is cut off for being too slow. */
  offer(ev: CacheEvent): void {
    if (this.closedWith !== undefined) return;
    const out = this.match(ev);
    if (out) this.push(out);
  }

  /** The revision of the state a watch that began with it was sent (setInitial). */
  initialRevision: number | undefined;

  /** Owes the watcher `objects`, the state at `revision`, as ADDED events, before anything offered later. */
  setInitial(objects: readonly CachedObject[], revision: number): void {
    this.initialRevision = revision;
    let i = 0;
    this.setBacklog(() => {
      const o = objects[i++];
      return o && { type: "ADDED", event: new CacheEvent("ADDED", o.revision, o, undefined), object: o };
    });
  }

  /**
   * Owes the watcher what it sees of the events `next` yields (until it yields undefined),
   * before anything offered later. `next` throws WatcherTooSlowError when the history dropped
   * the events it was to yield.
   */
  setReplay(next: () => CacheEvent | undefined): void {
    this.setBacklog(() => {
      for (let ev = next(); ev; ev = next()) {
        const out = this.match(ev);
        if (out) return out;
      }
      return undefined;
    });
  }

  private setBacklog(pull: () => WatcherEvent | undefined): void {
    this.backlog = pull;
    this.wake?.();
  }

  private push(e: WatcherEvent): void {
    if (this.queue.length >= this.limit) {
      this.close(new WatcherTooSlowError(`watcher fell ${this.limit} events behind`));
      return;
    }
    this.queue.push(e);
    this.wake?.();
  }

  /** Ends the watch; with an error, the iterator throws it after draining nothing further. */
  close(err: Error | null = null): void {
    if (this.closedWith !== undefined) return;
    this.closedWith = err;
    if (err) {
      this.queue.length = 0;
      this.backlog = undefined;
    }
    this.onClose(this);
    this.wake?.();
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  /** Events queued and not yet taken (while a backlog is owed: at least one more). */
  get pending(): number {
    return this.queue.length + (this.backlog ? 1 : 0);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatcherEvent> {
    while (true) {
      const next = this.takeNow();
      if (next) {
        yield next;
        continue;
      }
      if (this.closedWith !== undefined) {
        if (this.closedWith) throw this.closedWith;
        return;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  /** The next event, if one is ready. */
  takeNow(): WatcherEvent | undefined {
    return this.takeOwed() ?? this.queue.shift();
  }

  /** The next event owed from before the watch began (its initial state, or history replayed), if any is left. */
  takeOwed(): WatcherEvent | undefined {
    if (!this.backlog) return undefined;
    let e: WatcherEvent | undefined;
    try {
      e = this.backlog();
    } catch (err) {
      this.close(err instanceof Error ? err : new WatcherTooSlowError(String(err)));
      return undefined;
    }
    if (!e) this.backlog = undefined;
    return e;
  }

  /** Resolves when an event is queued or the watcher closes (for loops that also send bookmarks). */
  waitForEvent(signal: AbortSignal, timeoutMs: number): Promise<void> {
    if (this.pending > 0 || this.closedWith !== undefined) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal.addEventListener("abort", done, { once: true });
      this.wake = done;
    });
  }

  /** The error the watch ended with, if any. */
  get error(): Error | null | undefined {
    return this.closedWith;
  }
}

export class TooOldError extends Error {
  override readonly name = "TooOldError";
  constructor(
    readonly requested: number,
    readonly oldest: number,
  ) {
    super(`too old resource version: ${requested} (${oldest})`);
  }
}

/** How long a resource's history reaches back, and how its objects keep their parsed form. */
export interface HistoryPolicy {
  /** Events younger than this are kept (up to `maxEvents`); 0: the history is `historySize` events, no more. */
  readonly windowMs: number;
  /** Never more events than this per resource, however young. */
  readonly maxEvents: number;
  readonly now: () => number;
  /** Shared by the caches of one WatchCache; undefined: objects keep their parsed form while cached. */
  readonly parsed: ParsedObjects | undefined;
}

/** Upstream's cacher keeps 75 s of events (its bookmark interval plus a margin), at most 100 Ki events per resource. */
export const DEFAULT_HISTORY_WINDOW_MS = 75_000;
export const DEFAULT_MAX_HISTORY_EVENTS = 100 * 1024;
/** A few seconds of a busy cluster's writes: an object read again soon after its event is still parsed. */
const DEFAULT_PARSED_OBJECTS = 4096;

/** History events that keep their serialized forms: live watchers take an event well before this many follow it. */
const ENCODED_EVENTS = 1024;

/** A resource's objects decoded (see ResourceCache.decoded): in key order, and by storage key. */
export interface DecodedObjects {
  readonly list: readonly Readonly<KubeObject>[];
  readonly byKey: ReadonlyMap<string, Readonly<KubeObject>>;
}

/** The cached state and recent history of one storage prefix (one resource). */
export class ResourceCache {
  private readonly items = new Map<string, CachedObject>();
  private sorted: CachedObject[] | undefined;
  private decodedAll: DecodedObjects | undefined;
  /**
   * History events in revision order from index `head`; each has a sequence number, `dropped`
   * plus its index, that stays valid while the array is compacted.
   */
  private history: CacheEvent[] = [];
  private recordedAt: number[] = [];
  private head = 0;
  private dropped = 0;
  /** Every event of this prefix with revision > historyStart is in `history`. */
  private historyStart: number;
  private readonly watchers = new Set<CacheWatcher>();
  private readonly policy: HistoryPolicy;

  constructor(
    readonly prefix: string,
    /** Events always kept (the whole history when the policy's window is 0). */
    private readonly historySize: number,
    private readonly watcherQueueLimit: number,
    private readonly revision: () => number,
    startRevision: number,
    policy?: Partial<HistoryPolicy>,
  ) {
    this.historyStart = startRevision;
    this.policy = { windowMs: policy?.windowMs ?? 0, maxEvents: Math.max(historySize, policy?.maxEvents ?? DEFAULT_MAX_HISTORY_EVENTS), now: policy?.now ?? Date.now, parsed: policy?.parsed };
  }

  /** Loads the initial state (before the storage watch starts). */
  load(objects: readonly CachedObject[]): void {
    for (const o of objects) this.items.set(o.key, o);
    this.sorted = undefined;
    this.decodedAll = undefined;
  }

  get(key: string): CachedObject | undefined {
    return this.items.get(key);
  }

  get size(): number {
    return this.items.size;
  }

  /** Events in the history now. */
  get historyLength(): number {
    return this.history.length - this.head;
  }

  /** Objects under `prefix` (this resource's prefix or a namespace within it), in key order. */
  list(prefix: string = this.prefix, filter?: ObjectFilter): CachedObject[] {
    if (!this.sorted) this.sorted = [...this.items.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    let from = 0;
    let to = this.sorted.length;
    if (prefix !== this.prefix) {
      from = lowerBound(this.sorted, prefix);
      to = lowerBound(this.sorted, prefix + "\uffff");
    }
    const out: CachedObject[] = [];
    for (let i = from; i < to; i++) {
      const o = this.sorted[i]!;
      if (!filter || filter(o.object)) out.push(o);
    }
    return out;
  }

  /**
   * Every object, decoded, held until the resource next changes: for small resources read on
   * every request (RBAC's roles and bindings), which must not be parsed again each time the
   * cache's ring of parsed objects has moved past them (a busy cluster's pod events do that
   * within seconds).
   */
  decoded(): DecodedObjects {
    if (!this.decodedAll) {
      const byKey = new Map<string, Readonly<KubeObject>>();
      for (const c of this.list()) byKey.set(c.key, c.object);
      this.decodedAll = { list: [...byKey.values()], byKey };
    }
    return this.decodedAll;
  }

  /** Applies a storage event; `written`: the object its value encodes, if the server has it in memory (see WrittenObjects). */
  apply(ev: WatchEvent, written?: Readonly<KubeObject>): void {
    let event: CacheEvent;
    const prev = this.items.get(ev.kv.key);
    if (ev.type === "delete") {
      const last = ev.prevKv ? CachedObject.decode(ev.prevKv, ev.revision, this.policy.parsed) : prev ? CachedObject.of(prev.key, { ...prev.object, metadata: { ...prev.object.metadata, resourceVersion: String(ev.revision) } }, ev.revision) : undefined;
      this.items.delete(ev.kv.key);
      if (!last) return;
      event = new CacheEvent("DELETED", ev.revision, last, prev);
    } else {
      const obj = written !== undefined ? CachedObject.written(ev.kv, written, this.policy.parsed) : CachedObject.decode(ev.kv, ev.kv.modRevision, this.policy.parsed);
      this.items.set(ev.kv.key, obj);
      event = new CacheEvent(prev ? "MODIFIED" : "ADDED", ev.revision, obj, prev);
    }
    this.sorted = undefined;
    this.decodedAll = undefined;
    this.record(event);
    for (const w of this.watchers) w.offer(event);
    // Superseded: from now on only history refers to it.
    prev?.forget();
  }

  private record(ev: CacheEvent): void {
    this.history.push(ev);
    this.history[this.history.length - 1 - ENCODED_EVENTS]?.releaseEncodings();
    const { windowMs, maxEvents, now } = this.policy;
    const at = windowMs > 0 ? now() : 0;
    this.recordedAt.push(at);
    while (this.history.length - this.head > this.historySize) {
      const full = this.history.length - this.head > maxEvents;
      if (!full && windowMs > 0 && at - this.recordedAt[this.head]! <= windowMs) break;
      this.historyStart = this.history[this.head]!.revision;
      this.head++;
    }
    // Compact now and then; sequence numbers (dropped + index) stay the same.
    if (this.head >= 1024 && this.head * 2 >= this.history.length) {
      this.history = this.history.slice(this.head);
      this.recordedAt = this.recordedAt.slice(this.head);
      this.dropped += this.head;
      this.head = 0;
    }
  }

  /** The sequence number of the first history event with a revision after `rev`. */
  private seqAfter(rev: number): number {
    let lo = this.head;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.history[mid]!.revision <= rev) lo = mid + 1;
      else hi = mid;
    }
    return this.dropped + lo;
  }

  /** History events from sequence number `from` up to (not including) `to`, read as they are taken. */
  private replay(from: number, to: number): () => CacheEvent | undefined {
    let seq = from;
    return () => {
      if (seq >= to) return undefined;
      const i = seq - this.dropped;
      if (i < this.head) throw new WatcherTooSlowError("the watch cache's history moved past this watch while it was replayed");
      seq++;
      return this.history[i];
    };
  }

  /**
   * A watch of objects under `prefix` that pass `filter`. Without a revision: synthetic ADDED
   * events for what exists now, then every change. With one: every change after it, or
   * TooOldError when the history no longer reaches back that far.
   */
  watch(prefix: string, filter: ObjectFilter | undefined, afterRevision: number | undefined): CacheWatcher {
    const w = new CacheWatcher(prefix, filter, this.watcherQueueLimit, (x) => this.watchers.delete(x));
    if (afterRevision === undefined) {
      w.setInitial(this.list(prefix, filter), this.revision());
    } else {
      if (afterRevision < this.historyStart) throw new TooOldError(afterRevision, this.historyStart + 1);
      const end = this.dropped + this.history.length;
      const from = this.seqAfter(afterRevision);
      if (from < end) w.setReplay(this.replay(from, end));
    }
    this.watchers.add(w);
    return w;
  }

  /** Ends every watch (the cache is being rebuilt or the server stops). */
  closeWatchers(err: Error | null): void {
    for (const w of [...this.watchers]) w.close(err);
  }

  get watcherCount(): number {
    return this.watchers.size;
  }

  /** The current revision of the whole cache (every prefix shares it). */
  get currentRevision(): number {
    return this.revision();
  }
}

function lowerBound(arr: readonly CachedObject[], key: string): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]!.key < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface WatchCacheOptions {
  /** Events each resource's history always keeps; with `historyWindowMs` 0 (the default), all it keeps. */
  readonly historySize: number;
  /**
   * Each resource's history also keeps every event younger than this (DEFAULT_HISTORY_WINDOW_MS
   * as upstream), up to DEFAULT_MAX_HISTORY_EVENTS; 0: a fixed `historySize` events.
   */
  readonly historyWindowMs?: number;
  readonly watcherQueueLimit: number;
  /** Root of every key the caches hold, e.g. "/registry/". */
  readonly root: string;
  readonly onError?: (err: unknown) => void;
}

/** Objects offered to the cache at most, waiting for their events; past it, the waiting ones are let go. */
const MAX_WRITTEN = 4096;

/**
 * Objects the server is writing, offered to the cache so that it need not parse the bytes
 * again when their events come back from storage (the server parsed or built each one just
 * before). Keyed by storage key; an offer is taken by the next event of its key only if that
 * event's value is byte for byte the value offered, so the object of a write that failed, or
 * was overtaken by another writer's, never reaches the cache.
 */
export class WrittenObjects {
  private readonly offers = new Map<string, { readonly value: Uint8Array; readonly object: Readonly<KubeObject> }>();

  /**
   * `value`: the bytes about to be written under `key`; `object`: what they encode, which no
   * one may change from now on (the cache serves it to every reader).
   */
  offer(key: string, value: Uint8Array, object: Readonly<KubeObject>): void {
    if (this.offers.size >= MAX_WRITTEN && !this.offers.has(key)) this.offers.clear();
    // Frozen, so that code changing an object after writing it fails there instead of silently
    // changing what the cache serves (freezing, in the density bench's server profile: ~0.4 s of
    // ~20 s busy for ~32,000 writes, ~13 µs per write).
    this.offers.set(key, { value, object: freezeJson(object) });
  }

  /** The object offered for `key`, if `value` is what was offered; any offer for the key is spent. */
  take(key: string, value: Uint8Array): Readonly<KubeObject> | undefined {
    const offer = this.offers.get(key);
    if (offer === undefined) return undefined;
    this.offers.delete(key);
    return sameBytes(offer.value, value) ? offer.object : undefined;
  }

  get size(): number {
    return this.offers.size;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  return a.byteLength === b.byteLength && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

/** The caches of every resource, fed by one storage watch over `root`. */
export class WatchCache {
  private readonly caches = new Map<string, ResourceCache>();
  private rev = 0;
  private watch: Watch | undefined;
  private pump: Promise<void> | undefined;
  private stopped = false;
  private readonly waiters: { rev: number; resolve: () => void }[] = [];
  private readonly parsed: ParsedObjects;
  private readonly written = new WrittenObjects();
  /**
   * This server's writes whose events have not come back from storage yet, by key (see
   * wrote). Over etcd a client that writes again with the resourceVersion it was just given
   * usually finds the cache one event behind: its event is still queued behind the requests.
   * Kept apart from `written`'s offers on purpose: an offer is spent by its key's next event,
   * often the previous write's, and this copy must outlive that (kept on the offers, 21 % of the
   * API bench's etcd updates at 32 clients read the store again).
   */
  private readonly ahead = new Map<string, CachedObject>();

  private readonly prefixes: Set<string>;
  /** Prefixes being added (addPrefix): their events wait here until the initial list is in. */
  private readonly adding = new Map<string, WatchEvent[]>();
  /** Events of a prefix at or below this revision are already in its initial list. */
  private readonly loadedAt = new Map<string, number>();

  constructor(
    private readonly store: Store,
    prefixes: readonly string[],
    private readonly opts: WatchCacheOptions,
  ) {
    this.prefixes = new Set(prefixes);
    this.parsed = new ParsedObjects(DEFAULT_PARSED_OBJECTS);
  }

  /**
   * Starts caching one more prefix while the cache runs (a CustomResourceDefinition's
   * resource): lists it at the store's current revision, then applies what the storage watch
   * brought for it meanwhile. Resolves once the cache has seen that revision.
   */
  async addPrefix(prefix: string): Promise<void> {
    if (this.prefixes.has(prefix) || this.adding.has(prefix)) return;
    const pending: WatchEvent[] = [];
    this.adding.set(prefix, pending);
    try {
      const rev = await this.store.currentRevision();
      const objs: CachedObject[] = [];
      let token: string | undefined;
      do {
        const page = await this.store.list(prefix, { revision: rev, limit: 5000, ...(token ? { continue: token } : {}) });
        for (const kv of page.kvs) objs.push(CachedObject.decode(kv, kv.modRevision, this.parsed));
        token = page.continue;
      } while (token);
      const cache = new ResourceCache(prefix, this.opts.historySize, this.opts.watcherQueueLimit, () => this.rev, rev, { windowMs: this.opts.historyWindowMs ?? 0, parsed: this.parsed });
      cache.load(objs);
      for (const ev of pending) if (ev.revision > rev) cache.apply(ev);
      this.loadedAt.set(prefix, rev);
      this.caches.set(prefix, cache);
      this.prefixes.add(prefix);
      await this.waitFor(rev, 3000);
    } finally {
      this.adding.delete(prefix);
    }
  }

  /** Stops caching a prefix added with addPrefix; its watches end. */
  removePrefix(prefix: string): void {
    this.prefixes.delete(prefix);
    this.loadedAt.delete(prefix);
    this.caches.get(prefix)?.closeWatchers(null);
    this.caches.delete(prefix);
  }

  /** Whether the cache holds `prefix`. */
  hasPrefix(prefix: string): boolean {
    return this.caches.has(prefix);
  }

  get revision(): number {
    return this.rev;
  }

  /** Lists every prefix at one revision, then starts the storage watch from there. */
  async start(): Promise<void> {
    await this.load();
    this.pump = this.run();
  }

  private async load(): Promise<void> {
    const rev = await this.store.currentRevision();
    const loaded = new Map<string, CachedObject[]>();
    for (const prefix of this.prefixes) {
      const objs: CachedObject[] = [];
      let token: string | undefined;
      do {
        const page = await this.store.list(prefix, { revision: rev, limit: 5000, ...(token ? { continue: token } : {}) });
        for (const kv of page.kvs) objs.push(CachedObject.decode(kv, kv.modRevision, this.parsed));
        token = page.continue;
      } while (token);
      loaded.set(prefix, objs);
    }
    for (const c of this.caches.values()) c.closeWatchers(new WatcherTooSlowError("watch cache is being rebuilt"));
    this.caches.clear();
    this.ahead.clear();
    this.loadedAt.clear();
    for (const prefix of this.prefixes) {
      const cache = new ResourceCache(prefix, this.opts.historySize, this.opts.watcherQueueLimit, () => this.rev, rev, { windowMs: this.opts.historyWindowMs ?? 0, parsed: this.parsed });
      cache.load(loaded.get(prefix) ?? []);
      this.caches.set(prefix, cache);
    }
    this.rev = rev;
    this.watch = await this.store.watch(this.opts.root, { afterRevision: rev, prefix: true });
    this.release();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        for await (const ev of this.watch!) {
          this.dispatch(ev);
        }
        if (this.stopped) return;
      } catch (err) {
        if (this.stopped) return;
        this.opts.onError?.(err);
        if (!isStorageError(err)) throw err;
      }
      // The storage watch ended (too slow or compacted): rebuild from a fresh list.
      await this.load();
    }
  }

  /**
   * Offers the object about to be stored as `value` under `key` (see WrittenObjects): call it
   * right before the storage write, with the exact bytes written and the object they encode.
   */
  offerWrite(key: string, value: Uint8Array, object: Readonly<KubeObject>): void {
    this.written.offer(key, value, object);
  }

  /**
   * A write of this server succeeded as `kv`, storing `object` (what kv.value encodes, which no
   * one changes any more). Until the cache applies its event, an update of the key starts from
   * it (forUpdate) instead of from a copy the store is known to have moved past.
   */
  wrote(kv: KeyValue, object: Readonly<KubeObject>): void {
    // Applied already: the store's event came before the write's answer (SQLite does that).
    if (kv.modRevision <= this.rev) return;
    if (this.ahead.size >= MAX_WRITTEN && !this.ahead.has(kv.key)) this.ahead.clear();
    this.ahead.set(kv.key, CachedObject.of(kv.key, freezeJson(atRevision(object, kv.modRevision)), kv.modRevision));
  }

  /**
   * The newest copy of `key` this server has: the cache's, or that of its own write the cache
   * has not applied yet. Only for an update's first try, whose write is conditional on that
   * copy's revision (a copy the store moved past fails there and is read again); reads serve
   * the cache's own state, whose revision the answer carries.
   */
  forUpdate(key: string): CachedObject | undefined {
    const cached = this.cacheForKey(key)?.get(key);
    const ahead = this.ahead.get(key);
    return ahead !== undefined && (cached === undefined || ahead.revision > cached.revision) ? ahead : cached;
  }

  private dispatch(ev: WatchEvent): void {
    let cache = this.cacheForKey(ev.kv.key);
    if (this.adding.size > 0 || this.loadedAt.size > 0) {
      for (const [prefix, pending] of this.adding) if (ev.kv.key.startsWith(prefix)) pending.push(ev);
      // An added prefix's initial list already holds what happened up to its revision.
      if (cache !== undefined && ev.revision <= (this.loadedAt.get(cache.prefix) ?? 0)) cache = undefined;
    }
    this.rev = ev.revision;
    const ahead = this.ahead.get(ev.kv.key);
    if (ahead !== undefined && ev.revision >= ahead.revision) this.ahead.delete(ev.kv.key);
    const written = ev.type === "delete" ? undefined : this.written.take(ev.kv.key, ev.kv.value);
    cache?.apply(ev, written);
    this.release();
  }

  private cacheForKey(key: string): ResourceCache | undefined {
    // Keys are <root><resource>/… for core resources and <root><group>/<resource>/… otherwise.
    const rest = key.slice(this.opts.root.length);
    const first = rest.indexOf("/");
    if (first === -1) return undefined;
    const one = this.caches.get(key.slice(0, this.opts.root.length + first + 1));
    if (one) return one;
    const second = rest.indexOf("/", first + 1);
    return second === -1 ? undefined : this.caches.get(key.slice(0, this.opts.root.length + second + 1));
  }

  private release(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (this.rev >= w.rev) {
        this.waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  resource(prefix: string): ResourceCache {
    const c = this.caches.get(prefix);
    if (!c) throw new Error(`no watch cache for ${prefix}`);
    return c;
  }

  /** Resolves once the cache has seen revision `rev`; false after the timeout. */
  waitFor(rev: number, timeoutMs: number): Promise<boolean> {
    if (this.rev >= rev) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const entry = {
        rev,
        resolve: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(entry);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(false);
      }, timeoutMs);
      this.waiters.push(entry);
    });
  }

  /** Waits until the cache reflects every write acknowledged so far. */
  async waitUntilFresh(timeoutMs = 3000): Promise<boolean> {
    return this.waitFor(await this.store.currentRevision(), timeoutMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watch?.stop();
    for (const c of this.caches.values()) c.closeWatchers(null);
    await this.pump?.catch(() => undefined);
  }
}
