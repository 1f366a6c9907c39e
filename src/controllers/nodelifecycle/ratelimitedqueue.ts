// Upstream's RateLimitedTimedQueue (pkg/controller/nodelifecycle/scheduler): a queue of node
// names, unique by name, ordered by when each may next be processed, drained through a token
// bucket. The node lifecycle controller puts NoExecute taints on nodes through one per zone,
// so that a zone losing many nodes at once is tainted (and evicted) gradually.
import type { Clock } from "../../client/clock.js";

export interface TimedValue {
  readonly value: string;
  readonly uid: string;
  readonly addedAt: number;
  processAt: number;
}

/** A token bucket that may be swapped for another rate; qps 0 never lets anything through. */
class Limiter {
  private tokens: number;
  private last: number;
  constructor(
    readonly qps: number,
    private readonly burst: number,
    private readonly clock: Clock,
  ) {
    this.tokens = burst;
    this.last = clock.now();
  }
  tryAccept(): boolean {
    if (this.qps <= 0) return false;
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** Upstream's EvictionRateLimiterBurst. */
export const EVICTION_RATE_LIMITER_BURST = 1;

export class RateLimitedTimedQueue {
  private readonly items: TimedValue[] = [];
  /** Every value added and not removed, processed or not: a processed node is not queued again until removed. */
  private readonly set = new Set<string>();
  private limiter: Limiter;

  constructor(
    qps: number,
    private readonly clock: Clock,
  ) {
    this.limiter = new Limiter(qps, EVICTION_RATE_LIMITER_BURST, clock);
  }

  get qps(): number {
    return this.limiter.qps;
  }

  /** Adds a node; false if it is queued already or was processed since it was last removed. */
  add(value: string, uid: string): boolean {
    if (this.set.has(value)) return false;
    this.set.add(value);
    const now = this.clock.now();
    this.insert({ value, uid, addedAt: now, processAt: now });
    return true;
  }

  /** Removes a node (so that it may be added again); false if it was not waiting. */
  remove(value: string): boolean {
    this.set.delete(value);
    const i = this.items.findIndex((x) => x.value === value);
    if (i < 0) return false;
    this.items.splice(i, 1);
    return true;
  }

  has(value: string): boolean {
    return this.items.some((i) => i.value === value);
  }

  get length(): number {
    return this.items.length;
  }

  clear(): void {
    this.items.length = 0;
    this.set.clear();
  }

  /** Replaces the rate (a new, full bucket unless the rate is 0), as upstream's SwapLimiter. */
  swapLimiter(qps: number): void {
    if (this.limiter.qps === qps) return;
    this.limiter = new Limiter(qps, EVICTION_RATE_LIMITER_BURST, this.clock);
  }

  private insert(v: TimedValue): void {
    let i = this.items.length;
    while (i > 0 && this.items[i - 1]!.processAt > v.processAt) i--;
    this.items.splice(i, 0, v);
  }

  /**
   * Processes due items in order while the bucket has tokens. `fn` returns true when done
   * with the item, or false and how long to wait before trying it again.
   */
  async try(fn: (v: TimedValue) => Promise<{ readonly done: boolean; readonly retryAfterMs?: number }>): Promise<void> {
    for (let head = this.items[0]; head; head = this.items[0]) {
      if (!this.limiter.tryAccept()) return;
      const now = this.clock.now();
      if (now < head.processAt) return;
      const { done, retryAfterMs = 0 } = await fn(head);
      const at = this.items.indexOf(head);
      if (at < 0) continue;
      this.items.splice(at, 1);
      if (!done) {
        head.processAt = now + retryAfterMs + 1;
        this.insert(head);
      }
    }
  }
}
