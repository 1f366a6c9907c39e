// Automatic compaction, shared by every backend: history is kept for at least `minRevisions`
// revisions *and* at least `minAgeMs`, so a client that lists and then watches a few minutes
// later (a slow informer, a restarted controller) still finds its revision. The age of a
// revision is learnt by sampling (time, current revision) every interval: every revision at
// or below a sample's was written before that sample's time. Samples start when the
// compactor does, so history written before a restart counts as new: it is kept longer,
// never shorter.
import { isStorageError } from "./errors.js";
import type { Store } from "./interface.js";
import type { CompactionOptions } from "./options.js";

export interface CompactorConfig {
  readonly store: Pick<Store, "currentRevision" | "compact">;
  readonly options: CompactionOptions;
  /** Receives errors of a run; the compactor keeps running. Default: ignore them. */
  readonly onError?: (err: unknown) => void;
  /** Clock in ms (tests replace it). */
  readonly now?: () => number;
}

interface Sample {
  readonly time: number;
  readonly revision: number;
}

export class Compactor {
  readonly #store: Pick<Store, "currentRevision" | "compact">;
  readonly #options: CompactionOptions;
  readonly #onError: (err: unknown) => void;
  readonly #now: () => number;
  #samples: Sample[] = [];
  #compacted = 0;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(config: CompactorConfig) {
    this.#store = config.store;
    this.#options = config.options;
    this.#onError = config.onError ?? (() => {});
    this.#now = config.now ?? Date.now;
  }

  /** The newest revision this compactor has compacted to (0 if none). */
  get compactedRevision(): number {
    return this.#compacted;
  }

  /** Takes the first sample now and runs every intervalMs; does nothing when intervalMs is 0. */
  start(): void {
    if (this.#timer !== undefined || this.#options.intervalMs <= 0) return;
    this.#kick();
    this.#timer = setInterval(() => this.#kick(), this.#options.intervalMs);
    this.#timer.unref();
  }

  /** Stops the timer and waits for a run in progress to finish. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /**
   * One round: samples the current revision and compacts to the newest revision old enough
   * on both counts. Returns the revision compacted to, or undefined when nothing was due.
   */
  async runOnce(): Promise<number | undefined> {
    const revision = await this.#store.currentRevision();
    const now = this.#now();
    this.#samples.push({ time: now, revision });

    const ageLimit = now - this.#options.minAgeMs;
    let aged = -1;
    for (let i = this.#samples.length - 1; i >= 0; i--) {
      if ((this.#samples[i] as Sample).time <= ageLimit) {
        aged = i;
        break;
      }
    }
    if (aged < 0) return undefined;
    // Older samples than the newest aged one can never give a newer target again.
    const agedRevision = (this.#samples[aged] as Sample).revision;
    this.#samples = this.#samples.slice(aged);

    const target = Math.min(agedRevision, revision - this.#options.minRevisions);
    if (target <= this.#compacted || target <= 0) return undefined;
    try {
      await this.#store.compact(target);
    } catch (err) {
      // Someone compacted further already (another server on the same etcd, a manual request).
      if (!isStorageError(err, "Compacted")) throw err;
    }
    this.#compacted = target;
    return target;
  }

  #kick(): void {
    if (this.#running !== undefined) return;
    this.#running = this.runOnce().then(
      () => {
        this.#running = undefined;
      },
      (err: unknown) => {
        this.#running = undefined;
        this.#onError(err);
      },
    );
  }
}
