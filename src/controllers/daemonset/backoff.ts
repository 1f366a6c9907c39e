// Per-key exponential backoff for deleting failed daemon pods (client-go flowcontrol.Backoff as
// the DaemonSet controller uses it: 1 s doubling to 15 min). A kubelet that rejects a daemon
// pod (e.g. for lack of a resource) fails it at once; without backoff the controller and the
// kubelet would create and fail pods on that node in a hot loop.
import type { Clock } from "../../client/clock.js";

export const FAILED_POD_BACKOFF_INITIAL_MS = 1000;
export const FAILED_POD_BACKOFF_MAX_MS = 15 * 60 * 1000;

interface Entry {
  backoffMs: number;
  lastUpdate: number;
}

export class FailedPodsBackoff {
  private readonly entries = new Map<string, Entry>();

  constructor(
    readonly clock: Clock,
    private readonly initialMs = FAILED_POD_BACKOFF_INITIAL_MS,
    private readonly maxMs = FAILED_POD_BACKOFF_MAX_MS,
  ) {}

  /** An entry untouched for twice the maximum starts over (flowcontrol's hasExpired). */
  private expired(e: Entry, now: number): boolean {
    return now - e.lastUpdate > 2 * this.maxMs;
  }

  /** Whether `now` is still within the delay set by the last `next` (IsInBackOffSinceUpdate). */
  inBackoff(key: string, now: number): boolean {
    const e = this.entries.get(key);
    return e !== undefined && now - e.lastUpdate < e.backoffMs;
  }

  /** The current delay of `key`, 0 when it has none. */
  delay(key: string): number {
    return this.entries.get(key)?.backoffMs ?? 0;
  }

  /** Records an attempt at `now`: the first (or first after expiry) waits initialMs, each next one twice as long, up to maxMs. */
  next(key: string, now: number): void {
    const e = this.entries.get(key);
    if (!e || this.expired(e, now)) this.entries.set(key, { backoffMs: this.initialMs, lastUpdate: now });
    else {
      e.backoffMs = Math.min(2 * e.backoffMs, this.maxMs);
      e.lastUpdate = now;
    }
  }

  /** Drops expired entries (upstream runs this every minute; the controller calls it per sync). */
  gc(now: number): void {
    for (const [k, e] of this.entries) if (this.expired(e, now)) this.entries.delete(k);
  }

  get size(): number {
    return this.entries.size;
  }
}
