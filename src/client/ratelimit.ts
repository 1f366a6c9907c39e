// A token bucket with reservations, as golang.org/x/time/rate's Limiter behaves: the bucket
// starts full, refills at `qps` up to `burst`, and a reservation may drive it negative, which
// is how a caller learns how long to wait. Client request throttling (client-go's
// flowcontrol.NewTokenBucketRateLimiter), the workqueue's BucketRateLimiter and the event
// spam filter all use it.
import { realClock, sleep, type Clock } from "./clock.js";

export class TokenBucket {
  private tokens: number;
  private last: number;

  /** `qps` may be Infinity (never throttles); `burst` must be at least 1 otherwise. */
  constructor(
    readonly qps: number,
    readonly burst: number,
    private readonly clock: Clock = realClock,
  ) {
    if (!(qps > 0)) throw new RangeError(`token bucket qps must be > 0 (Infinity for unlimited), got ${qps}`);
    if (qps !== Infinity && !(burst >= 1)) throw new RangeError(`token bucket burst must be >= 1, got ${burst}`);
    this.tokens = burst;
    this.last = clock.now();
  }

  private advance(): number {
    const now = this.clock.now();
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
      this.last = now;
    }
    return now;
  }

  /** Takes a token if one is available now; never waits. */
  tryAccept(): boolean {
    if (this.qps === Infinity) return true;
    this.advance();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Takes a token, possibly on credit, and returns how many ms to wait before using it. */
  reserve(): number {
    if (this.qps === Infinity) return 0;
    this.advance();
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }

  /** Gives back a reserved token that will not be used (the waiter gave up). */
  unreserve(): void {
    if (this.qps === Infinity) return;
    this.advance();
    this.tokens = Math.min(this.burst, this.tokens + 1);
  }

  /**
   * Waits for a token: `true` at once when one is free (no promise, for callers on a hot path),
   * else a promise of whether it came before `signal` aborted (the token is returned then).
   */
  wait(signal?: AbortSignal): true | Promise<boolean> {
    const delay = this.reserve();
    if (delay <= 0) return true;
    return sleep(this.clock, delay, signal).then((ok) => {
      if (!ok) this.unreserve();
      return ok;
    });
  }
}
