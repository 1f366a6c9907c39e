// The fan-out every backend shares: one ordered stream of changes goes in (`publish`), many
// watchers come out, each with its own bounded queue. Recent events stay in a ring so a
// watcher that starts from a recent revision begins from memory; an older start revision is
// read from the backend (the HistorySource) and then joined to the live stream. The join is
// exact because the watcher registers for live events *before* the history read starts and
// the history read stops at the revision the hub had published at that moment: everything
// up to that revision comes from the read or the ring, everything after it from the live
// stream.
import type { Watch, WatchEvent } from "./interface.js";
import { StorageError, compacted, invalid, unavailable } from "./errors.js";

/**
 * Reads the stored changes with afterRevision < revision <= upToRevision that match key
 * (exactly, or as a prefix), in revision order, with prevKv on updates and deletes. Rejects
 * with a Compacted StorageError when afterRevision is no longer readable.
 */
export type HistoryReader = (key: string, prefix: boolean, afterRevision: number, upToRevision: number) => Promise<readonly WatchEvent[]>;

/** A plain function, or an object whose `readHistory` method is one (whichever reads better in a backend). */
export type HistorySource = HistoryReader | { readHistory: HistoryReader };

export interface WatchHubOptions {
  /**
   * Live events a watcher may have queued when the next publish arrives; beyond that it is
   * cut off as too slow. A queue holds at most this plus one publish call's events.
   */
  readonly queueLimit: number;
  /** How many of the most recent events stay in memory for new watchers. */
  readonly historySize: number;
  readonly source: HistorySource;
  /** The store's compacted revision: watches that start before it fail with Compacted. */
  readonly compactedRevision: () => number;
  /**
   * The store's revision when the hub is created (default 0). Must be given for a store that
   * already holds data: the hub serves from its ring only the events it saw published, and
   * asks the source for everything at or before this revision.
   */
  readonly revision?: number;
}

export const SLOW_WATCHER_MESSAGE = "watcher too slow; re-list and watch again";

export class WatchHub {
  readonly #queueLimit: number;
  readonly #capacity: number;
  readonly #read: HistoryReader;
  readonly #compactedRevision: () => number;

  #revision: number;
  /** Circular buffer of the newest published events, oldest at #ringStart. */
  readonly #ring: (WatchEvent | undefined)[];
  #ringStart = 0;
  #ringLength = 0;
  /** Every published event with a revision above this one is in the ring. */
  #ringFloor: number;

  readonly #exact = new Map<string, Set<HubWatch>>();
  readonly #prefixed = new Set<HubWatch>();
  /** Counts publish calls, so a watcher can tell one batch from the next. */
  #batch = 0;
  #closed = false;

  constructor(options: WatchHubOptions) {
    if (!(options.queueLimit > 0) || !(options.historySize > 0)) throw new RangeError("WatchHub: queueLimit and historySize must be positive");
    this.#queueLimit = options.queueLimit;
    this.#capacity = Math.floor(options.historySize);
    const source = options.source;
    this.#read = typeof source === "function" ? source : (k, p, a, u) => source.readHistory(k, p, a, u);
    this.#compactedRevision = options.compactedRevision;
    this.#revision = options.revision ?? 0;
    this.#ringFloor = this.#revision;
    this.#ring = new Array<WatchEvent | undefined>(this.#capacity);
  }

  /** The revision of the last published event (or the starting revision). */
  get revision(): number {
    return this.#revision;
  }

  /** How many watchers are registered (live or catching up). */
  get watcherCount(): number {
    let n = this.#prefixed.size;
    for (const set of this.#exact.values()) n += set.size;
    return n;
  }

  /**
   * Hands committed changes to every matching watcher. Revisions must not go backwards and
   * the first event must be newer than `revision`; several events may share a revision only
   * within one call (a multi-key transaction).
   */
  publish(events: readonly WatchEvent[]): void {
    if (this.#closed || events.length === 0) return;
    let last = this.#revision;
    for (let i = 0; i < events.length; i++) {
      const rev = (events[i] as WatchEvent).revision;
      if (!Number.isSafeInteger(rev) || rev < last || (i === 0 && rev === last)) {
        throw invalid(`WatchHub.publish: event revision ${rev} after revision ${last} is out of order`);
      }
      last = rev;
    }
    const batch = ++this.#batch;
    for (const ev of events) {
      this.#remember(ev);
      const exact = this.#exact.get(ev.kv.key);
      if (exact !== undefined) for (const w of exact) w.deliver(ev, batch);
      for (const w of this.#prefixed) if (ev.kv.key.startsWith(w.key)) w.deliver(ev, batch);
    }
    this.#revision = last;
  }

  /**
   * Starts a watch of `key` (a prefix when `prefix`) delivering every change with a revision
   * above `afterRevision`, which may also be ahead of the hub (the watch then waits for it).
   * Rejects with Compacted when afterRevision is older than the compacted revision.
   */
  async subscribe(key: string, prefix: boolean, afterRevision: number): Promise<Watch> {
    if (this.#closed) throw unavailable("store is closed");
    if (!Number.isSafeInteger(afterRevision) || afterRevision < 0) throw invalid(`watch revision must be a non-negative integer, got ${afterRevision}`);
    const compactRevision = this.#compactedRevision();
    if (afterRevision < compactRevision) throw compacted(afterRevision + 1, compactRevision);

    const watch = new HubWatch(key, prefix, afterRevision, this.#queueLimit, (w) => this.#unregister(w));
    this.#register(watch);
    if (afterRevision >= this.#ringFloor) {
      watch.prepend(this.#fromRing(watch, afterRevision));
      return watch;
    }

    // Older than the ring: the read covers (afterRevision, ringFloor], the ring copy taken
    // now covers (ringFloor, revision], and events published during the read queue up live.
    const upTo = this.#ringFloor;
    const fromRing = this.#fromRing(watch, upTo);
    let history: readonly WatchEvent[];
    try {
      history = await this.#read(key, prefix, afterRevision, upTo);
    } catch (err) {
      watch.stop();
      throw err;
    }
    const matching = history.filter((ev) => ev.revision > afterRevision && ev.revision <= upTo && watch.matches(ev));
    const failure = watch.failure;
    if (failure !== undefined) throw failure;
    watch.prepend(matching.length === 0 ? fromRing : [...matching, ...fromRing]);
    return watch;
  }

  /** Ends every watch (their iteration finishes) and stops accepting events. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const all = [...this.#prefixed];
    for (const set of this.#exact.values()) all.push(...set);
    for (const w of all) w.stop();
    this.#ring.fill(undefined);
    this.#ringLength = 0;
  }

  #remember(ev: WatchEvent): void {
    if (this.#ringLength === this.#capacity) {
      const oldest = this.#ring[this.#ringStart] as WatchEvent;
      this.#ringFloor = oldest.revision;
      this.#ring[this.#ringStart] = ev;
      this.#ringStart = (this.#ringStart + 1) % this.#capacity;
      // Events sharing the evicted revision cannot be served from the ring any more either.
      while (this.#ringLength > 1 && (this.#ring[this.#ringStart] as WatchEvent).revision === this.#ringFloor) {
        this.#ring[this.#ringStart] = undefined;
        this.#ringStart = (this.#ringStart + 1) % this.#capacity;
        this.#ringLength--;
      }
      return;
    }
    this.#ring[(this.#ringStart + this.#ringLength) % this.#capacity] = ev;
    this.#ringLength++;
  }

  /** Matching ring events with a revision above `after`, oldest first. */
  #fromRing(watch: HubWatch, after: number): WatchEvent[] {
    const at = (i: number): WatchEvent => this.#ring[(this.#ringStart + i) % this.#capacity] as WatchEvent;
    let lo = 0;
    let hi = this.#ringLength;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (at(mid).revision <= after) lo = mid + 1;
      else hi = mid;
    }
    const out: WatchEvent[] = [];
    for (let i = lo; i < this.#ringLength; i++) {
      const ev = at(i);
      if (watch.matches(ev)) out.push(ev);
    }
    return out;
  }

  #register(w: HubWatch): void {
    if (w.prefix) {
      this.#prefixed.add(w);
      return;
    }
    let set = this.#exact.get(w.key);
    if (set === undefined) this.#exact.set(w.key, (set = new Set()));
    set.add(w);
  }

  #unregister(w: HubWatch): void {
    if (w.prefix) {
      this.#prefixed.delete(w);
      return;
    }
    const set = this.#exact.get(w.key);
    if (set === undefined) return;
    set.delete(w);
    if (set.size === 0) this.#exact.delete(w.key);
  }
}

type Waiter = { resolve: (r: IteratorResult<WatchEvent>) => void; reject: (err: unknown) => void };

const DONE: IteratorResult<WatchEvent> = { done: true, value: undefined };

class HubWatch implements Watch {
  /** Queued events; consumed from #head so taking one is O(1). */
  #queue: WatchEvent[] = [];
  #head = 0;
  /** Events at the front of the queue that came from history; they do not count against the limit. */
  #backlog = 0;
  #waiters: Waiter[] = [];
  /** The publish call the last delivered event came from. */
  #batch = 0;
  #failure: StorageError | undefined;
  #stopped = false;

  constructor(
    readonly key: string,
    readonly prefix: boolean,
    private readonly after: number,
    private readonly limit: number,
    private readonly onStop: (w: HubWatch) => void,
  ) {}

  get failure(): StorageError | undefined {
    return this.#failure;
  }

  matches(ev: WatchEvent): boolean {
    return this.prefix ? ev.kv.key.startsWith(this.key) : ev.kv.key === this.key;
  }

  /**
   * A live event already known to match the key, from publish call number `batch`. The
   * limit is checked against what was still queued from earlier batches: one batch arrives
   * synchronously, so even a consumer that keeps up has no chance to take from it before it
   * is all queued, and a batch larger than the limit must not cut off every watcher.
   */
  deliver(ev: WatchEvent, batch: number): void {
    if (this.#stopped || ev.revision <= this.after) return;
    if (batch !== this.#batch) {
      this.#batch = batch;
      if (this.#queue.length - this.#head - this.#backlog >= this.limit) {
        this.#fail(unavailable(SLOW_WATCHER_MESSAGE));
        return;
      }
    }
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      waiter.resolve({ done: false, value: ev });
      return;
    }
    this.#queue.push(ev);
  }

  /** Puts history in front of whatever arrived live while it was read. */
  prepend(events: readonly WatchEvent[]): void {
    if (this.#stopped || events.length === 0) return;
    this.#queue = [...events, ...this.#queue.slice(this.#head)];
    this.#head = 0;
    this.#backlog = events.length;
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#drop();
    this.onStop(this);
    for (const w of this.#waiters.splice(0)) w.resolve(DONE);
  }

  #fail(err: StorageError): void {
    this.#failure = err;
    this.#stopped = true;
    this.#drop();
    this.onStop(this);
    for (const w of this.#waiters.splice(0)) w.reject(err);
  }

  #drop(): void {
    this.#queue = [];
    this.#head = 0;
    this.#backlog = 0;
  }

  #next(): Promise<IteratorResult<WatchEvent>> {
    if (this.#head < this.#queue.length) {
      const value = this.#queue[this.#head] as WatchEvent;
      this.#queue[this.#head] = undefined as unknown as WatchEvent;
      this.#head++;
      if (this.#backlog > 0) this.#backlog--;
      if (this.#head === this.#queue.length) this.#drop();
      else if (this.#head >= 1024 && this.#head * 2 >= this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      return Promise.resolve({ done: false, value });
    }
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#stopped) return Promise.resolve(DONE);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    return {
      next: () => this.#next(),
      return: () => {
        this.stop();
        return Promise.resolve(DONE);
      },
    };
  }
}
