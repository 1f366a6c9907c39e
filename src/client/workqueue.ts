// The controller work queue with client-go's contract (util/workqueue): Type + Delaying +
// RateLimiting in one class.
//
// - An item is in at most one of: waiting in the queue, being processed. `dirty` holds items
//   that need processing; `processing` holds items handed out by `get` and not yet `done`.
// - `add` of an item that is already dirty is a no-op (coalescing); `add` of an item being
//   processed marks it dirty and it is queued again when `done` is called, so one key is
//   never worked on by two workers at once and no change is lost.
// - After `shutDown`, adds are ignored, `get` still hands out what is queued, and then
//   resolves `undefined` to every caller.
import { realClock, type Clock, type Timer } from "./clock.js";
import { TokenBucket } from "./ratelimit.js";

export interface RateLimiter<T> {
  /** How long to wait before the item is processed again; records a failure. */
  when(item: T): number;
  /** Clears the item's failure history (it was processed successfully). */
  forget(item: T): void;
  numRequeues(item: T): number;
}

/** baseDelay · 2^failures, capped at maxDelay: client-go's per-item backoff. */
export class ItemExponentialFailureRateLimiter<T> implements RateLimiter<T> {
  private readonly failures = new Map<T, number>();
  constructor(
    private readonly baseDelayMs: number,
    private readonly maxDelayMs: number,
  ) {}

  when(item: T): number {
    const exp = this.failures.get(item) ?? 0;
    this.failures.set(item, exp + 1);
    const backoff = this.baseDelayMs * 2 ** exp;
    return backoff > this.maxDelayMs || !Number.isFinite(backoff) ? this.maxDelayMs : backoff;
  }

  forget(item: T): void {
    this.failures.delete(item);
  }

  numRequeues(item: T): number {
    return this.failures.get(item) ?? 0;
  }
}

/** One token bucket over all items: bounds the overall retry rate, keeps no per-item state. */
export class BucketRateLimiter<T> implements RateLimiter<T> {
  private readonly bucket: TokenBucket;
  constructor(qps: number, burst: number, clock: Clock = realClock) {
    this.bucket = new TokenBucket(qps, burst, clock);
  }

  when(_item: T): number {
    return this.bucket.reserve();
  }

  forget(_item: T): void {}

  numRequeues(_item: T): number {
    return 0;
  }
}

/** The longest delay of several limiters; every limiter records every failure. */
export class MaxOfRateLimiter<T> implements RateLimiter<T> {
  private readonly limiters: readonly RateLimiter<T>[];
  constructor(...limiters: RateLimiter<T>[]) {
    this.limiters = limiters;
  }

  when(item: T): number {
    let max = 0;
    for (const l of this.limiters) max = Math.max(max, l.when(item));
    return max;
  }

  forget(item: T): void {
    for (const l of this.limiters) l.forget(item);
  }

  numRequeues(item: T): number {
    let max = 0;
    for (const l of this.limiters) max = Math.max(max, l.numRequeues(item));
    return max;
  }
}

/**
 * client-go's DefaultControllerRateLimiter: per-item exponential backoff 5 ms → 1000 s, and an
 * overall bucket of 10 qps with a burst of 100 (which only matters under massive failure).
 */
export function defaultControllerRateLimiter<T>(clock: Clock = realClock): RateLimiter<T> {
  return new MaxOfRateLimiter<T>(new ItemExponentialFailureRateLimiter<T>(5, 1_000_000), new BucketRateLimiter<T>(10, 100, clock));
}

export interface WorkQueueOptions<T> {
  readonly clock?: Clock;
  /** Default: defaultControllerRateLimiter(). */
  readonly rateLimiter?: RateLimiter<T>;
}

/**
 * A rate-limited, delaying work queue. Items are compared with `===` (use string keys such as
 * `namespace/name`). `T` excludes undefined so that `get` can use it to mean "shut down".
 */
export class WorkQueue<T extends NonNullable<unknown> = string> {
  private readonly clock: Clock;
  private readonly limiter: RateLimiter<T>;
  private queue: T[] = [];
  private head = 0;
  private readonly dirty = new Set<T>();
  private readonly processing = new Set<T>();
  private readonly waiting = new Map<T, { readonly at: number; readonly timer: Timer }>();
  private getters: ((item: T | undefined) => void)[] = [];
  private drainWaiters: (() => void)[] = [];
  private shutdown = false;

  constructor(opts: WorkQueueOptions<T> = {}) {
    this.clock = opts.clock ?? realClock;
    this.limiter = opts.rateLimiter ?? defaultControllerRateLimiter<T>(this.clock);
  }

  /** Marks the item as needing processing. */
  add(item: T): void {
    if (this.shutdown || this.dirty.has(item)) return;
    this.dirty.add(item);
    if (this.processing.has(item)) return;
    this.push(item);
  }

  private push(item: T): void {
    const getter = this.getters.shift();
    if (getter) {
      this.handOut(item);
      getter(item);
      return;
    }
    this.queue.push(item);
  }

  private handOut(item: T): void {
    this.processing.add(item);
    this.dirty.delete(item);
  }

  /** Items waiting to be handed out (not counting delayed or in-process ones). */
  len(): number {
    return this.queue.length - this.head;
  }

  /**
   * The next item to process, waiting for one if need be; `undefined` once the queue is shut
   * down and empty. Every item received must be passed to `done`.
   */
  get(): Promise<T | undefined> {
    if (this.head < this.queue.length) {
      const item = this.queue[this.head]!;
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      this.handOut(item);
      return Promise.resolve(item);
    }
    if (this.shutdown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Ends processing of an item; if it was added meanwhile, it is queued again. */
  done(item: T): void {
    if (!this.processing.delete(item)) return;
    if (this.dirty.has(item)) this.push(item);
    if (this.processing.size === 0) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Stops accepting items; pending `get`s resolve `undefined`; delayed adds are dropped. */
  shutDown(): void {
    if (this.shutdown) return;
    this.shutdown = true;
    for (const { timer } of this.waiting.values()) timer.cancel();
    this.waiting.clear();
    const getters = this.getters;
    this.getters = [];
    for (const g of getters) g(undefined);
  }

  /** Shuts down, then resolves once every item handed out has been marked done. */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  shuttingDown(): boolean {
    return this.shutdown;
  }

  /** Adds the item after `delayMs`. If it is already waiting, the earlier deadline wins. */
  addAfter(item: T, delayMs: number): void {
    if (this.shutdown) return;
    if (delayMs <= 0) {
      this.add(item);
      return;
    }
    const at = this.clock.now() + delayMs;
    const existing = this.waiting.get(item);
    if (existing) {
      if (existing.at <= at) return;
      existing.timer.cancel();
    }
    const timer = this.clock.setTimer(delayMs, () => {
      this.waiting.delete(item);
      this.add(item);
    });
    this.waiting.set(item, { at, timer });
  }

  /** Adds the item after the rate limiter says it may be retried (records one failure). */
  addRateLimited(item: T): void {
    this.addAfter(item, this.limiter.when(item));
  }

  /** Clears the item's retry history; call after it was processed successfully. */
  forget(item: T): void {
    this.limiter.forget(item);
  }

  numRequeues(item: T): number {
    return this.limiter.numRequeues(item);
  }
}
