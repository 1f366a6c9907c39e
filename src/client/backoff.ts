// Exponential backoff with jitter and a reset after quiet periods, as client-go's
// ExponentialBackoffManager (what a reflector waits between failed list/watch cycles).
import { realClock, type Clock } from "./clock.js";

export interface BackoffOptions {
  /** First delay; client-go's reflector: 800 ms. */
  readonly initialMs: number;
  /** Largest delay before jitter; the reflector's: 30 s. */
  readonly maxMs: number;
  /** Growth per step; default 2. */
  readonly factor?: number;
  /** Up to this fraction of the delay is added at random; the reflector's: 1.0. */
  readonly jitter?: number;
  /** After this long without a backoff, start again from initialMs; the reflector's: 2 min. */
  readonly resetAfterMs?: number;
  readonly clock?: Clock;
  readonly random?: () => number;
}

export class Backoff {
  private current: number;
  private lastAt: number | undefined;
  private readonly clock: Clock;
  private readonly random: () => number;

  constructor(private readonly o: BackoffOptions) {
    this.current = o.initialMs;
    this.clock = o.clock ?? realClock;
    this.random = o.random ?? Math.random;
  }

  /** The delay to wait now; each call grows the next one. */
  next(): number {
    const now = this.clock.now();
    if (this.lastAt !== undefined && this.o.resetAfterMs !== undefined && now - this.lastAt > this.o.resetAfterMs) this.current = this.o.initialMs;
    this.lastAt = now;
    const base = this.current;
    this.current = Math.min(this.o.maxMs, base * (this.o.factor ?? 2));
    const jitter = this.o.jitter ?? 0;
    return jitter > 0 ? base + this.random() * jitter * base : base;
  }

  reset(): void {
    this.current = this.o.initialMs;
    this.lastAt = undefined;
  }
}
