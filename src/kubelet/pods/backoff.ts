// Per-key exponential back-off as the kubelet keeps it for crash loops and image pulls
// (client-go's flowcontrol.Backoff): the first failure waits `initialMs`, each further one
// doubles up to `maxMs`, and an entry that saw no failure for twice the maximum starts over
// (with the defaults, a container that ran 10 minutes gets a fresh 10 s back-off).

export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 10_000, maxMs: 300_000 };

interface Entry {
  backoffMs: number;
  /** the event time of the last failure counted, ms since the epoch */
  lastUpdate: number;
}

export class Backoff {
  private readonly entries = new Map<string, Entry>();

  constructor(
    readonly policy: BackoffPolicy,
    private readonly now: () => number = Date.now,
  ) {}

  private expired(e: Entry, eventTime: number): boolean {
    return eventTime - e.lastUpdate > 2 * this.policy.maxMs;
  }

  /** The current back-off of `key` in ms (0 when none). */
  get(key: string): number {
    return this.entries.get(key)?.backoffMs ?? 0;
  }

  /** Counts a failure that happened at `eventTime`: starts or doubles the back-off. */
  next(key: string, eventTime: number = this.now()): void {
    const e = this.entries.get(key);
    if (!e || this.expired(e, eventTime)) {
      this.entries.set(key, { backoffMs: this.policy.initialMs, lastUpdate: eventTime });
      return;
    }
    e.backoffMs = Math.min(e.backoffMs * 2, this.policy.maxMs);
    e.lastUpdate = eventTime;
  }

  /**
   * Ms left of the back-off that began with the failure at `eventTime` (0: not in back-off).
   * Used for containers: `eventTime` is when the last instance finished.
   */
  remainingSince(key: string, eventTime: number): number {
    const e = this.entries.get(key);
    if (!e || this.expired(e, eventTime)) return 0;
    return Math.max(0, eventTime + e.backoffMs - this.now());
  }

  /** Ms left since the last counted failure (image pulls: the failure time is the update time). */
  remainingSinceUpdate(key: string): number {
    const e = this.entries.get(key);
    if (!e) return 0;
    const now = this.now();
    if (this.expired(e, now)) return 0;
    return Math.max(0, e.lastUpdate + e.backoffMs - now);
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  /** Drops every entry whose key starts with `prefix` (a pod's keys, when it goes away). */
  forgetPrefix(prefix: string): void {
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k);
  }
}
