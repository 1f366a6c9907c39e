// The reflector (client-go tools/cache/reflector.go): keeps a store equal to the server's
// collection. It lists (paginated, one consistent snapshot), replaces the store with the
// result, then watches from the list's resourceVersion and applies every event. A watch that
// the server ends (its timeout) is resumed from the last resourceVersion seen — bookmarks
// advance it while nothing changes. A watch that breaks, is refused, or reports 410 (the
// history is gone) is followed by a fresh list after an exponential backoff (800 ms → 30 s,
// jittered, reset after 2 min of health), so a sick server is never hammered.
import type { Logger } from "../util/log.js";
import { Backoff } from "./backoff.js";
import { realClock, sleep, type Clock } from "./clock.js";
import { ApiError, ClientError, isClientError, isGoneOrExpired, isTooManyRequests } from "./errors.js";
import type { KubeObject } from "./objects.js";
import type { ListOptions, ObjectList, SelectorOptions, WatchEvent, WatchOptions } from "./rest.js";

/**
 * What a reflector reads from: ResourceClient satisfies it (optionally scoped to a namespace).
 * Both calls must settle soon after `opts.signal` aborts.
 */
export interface ListerWatcher<T extends KubeObject> {
  list(opts: ListOptions): Promise<ObjectList<T>>;
  watch(opts: WatchOptions): Promise<AsyncIterable<WatchEvent<T>> & { stop(): void }>;
}

/** What a reflector writes to. Objects passed in are the reflector's to give away. */
export interface ReflectorStore<T extends KubeObject> {
  /** The complete collection at `resourceVersion`: everything not in `items` is gone. */
  replace(items: T[], resourceVersion: string): void;
  add(obj: T): void;
  update(obj: T): void;
  delete(obj: T): void;
}

export interface ReflectorOptions<T extends KubeObject> {
  /** Names the reflector in logs, e.g. "pods". */
  readonly name: string;
  readonly lw: ListerWatcher<T>;
  readonly store: ReflectorStore<T>;
  readonly log: Logger;
  /** Label/field selectors for both list and watch. */
  readonly selectors?: SelectorOptions;
  /** List page size; client-go's 500. */
  readonly pageSize?: number;
  /** Watches last between this and twice this (client-go: 5 min), so that reconnects spread out. */
  readonly minWatchTimeoutSeconds?: number;
  readonly clock?: Clock;
  readonly random?: () => number;
}

/** A watch that ends this fast without one event is treated as broken, not as a timeout. */
const SHORT_WATCH_MS = 1000;

export class Reflector<T extends KubeObject> {
  private readonly o: ReflectorOptions<T>;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private synced = false;
  private rv = "";
  private running = false;

  constructor(opts: ReflectorOptions<T>) {
    this.o = opts;
    this.clock = opts.clock ?? realClock;
    this.random = opts.random ?? Math.random;
    this.log = opts.log.child({ reflector: opts.name });
    this.backoff = new Backoff({ initialMs: 800, maxMs: 30_000, factor: 2, jitter: 1, resetAfterMs: 120_000, clock: this.clock, random: this.random });
  }

  /** True once the first list has been stored (and from then on). */
  hasSynced(): boolean {
    return this.synced;
  }

  /** The resourceVersion of the last list, watch event or bookmark applied to the store. */
  get lastSyncResourceVersion(): string {
    return this.rv;
  }

  /** Lists and watches until `signal` aborts. Never rejects. */
  async run(signal: AbortSignal): Promise<void> {
    if (this.running) throw new ClientError("InvalidOptions", `reflector ${this.o.name} is already running`);
    this.running = true;
    try {
      while (!signal.aborted) {
        try {
          await this.listAndWatch(signal);
        } catch (err) {
          if (signal.aborted) break;
          if (isGoneOrExpired(err)) this.log.info({ err: (err as Error).message, resourceVersion: this.rv }, "watch history expired; re-listing");
          else this.log.warn({ err }, "list/watch failed; re-listing after backoff");
        }
        if (!(await sleep(this.clock, this.backoff.next(), signal))) break;
      }
    } finally {
      this.running = false;
    }
  }

  /** Returns only by throwing (or when `signal` aborts). */
  private async listAndWatch(signal: AbortSignal): Promise<void> {
    await this.list(signal);
    while (!signal.aborted) {
      const min = this.o.minWatchTimeoutSeconds ?? 300;
      const timeoutSeconds = Math.floor(min * (1 + this.random()));
      let watch: AsyncIterable<WatchEvent<T>> & { stop(): void };
      try {
        watch = await this.o.lw.watch({ ...this.o.selectors, resourceVersion: this.rv, allowWatchBookmarks: true, timeoutSeconds, signal });
      } catch (err) {
        if (signal.aborted) return;
        // The server is there but busy, or not reachable right now: the cache is still good,
        // so wait and resume the watch instead of paying for a re-list.
        if (isTooManyRequests(err) || isRefused(err)) {
          this.log.info({ err: (err as Error).message }, "watch not accepted; retrying after backoff");
          if (!(await sleep(this.clock, this.backoff.next(), signal))) return;
          continue;
        }
        throw err;
      }
      const started = this.clock.now();
      const events = await this.consume(watch, signal);
      if (signal.aborted) return;
      if (events === 0 && this.clock.now() - started < SHORT_WATCH_MS) {
        throw new ClientError("Transport", "very short watch: the server closed it within a second and sent nothing");
      }
    }
  }

  private async list(signal: AbortSignal): Promise<void> {
    const pageSize = this.o.pageSize ?? 500;
    let result: ObjectList<T>;
    try {
      result = await this.listPages(pageSize, signal);
    } catch (err) {
      // A continue token can outlive the server's history on a large list: take it in one go.
      if (!isGoneOrExpired(err) || pageSize <= 0) throw err;
      this.log.info("list continuation expired; listing without pages");
      result = await this.listPages(0, signal);
    }
    const rv = result.metadata.resourceVersion ?? "";
    this.o.store.replace(result.items, rv);
    this.rv = rv;
    this.synced = true;
    this.log.debug({ items: result.items.length, resourceVersion: rv }, "listed");
  }

  private async listPages(pageSize: number, signal: AbortSignal): Promise<ObjectList<T>> {
    const base = { ...this.o.selectors, signal, ...(pageSize > 0 ? { limit: pageSize } : {}) };
    const first = await this.o.lw.list(base);
    let page = first;
    while (page.metadata.continue) {
      page = await this.o.lw.list({ ...base, continue: page.metadata.continue });
      first.items.push(...page.items);
    }
    return first;
  }

  /** Applies events until the watch ends; returns how many. Throws on ERROR events. */
  private async consume(watch: AsyncIterable<WatchEvent<T>> & { stop(): void }, signal: AbortSignal): Promise<number> {
    let n = 0;
    // Do not rely on the watch honouring the signal: stop it ourselves.
    const stop = (): void => watch.stop();
    if (signal.aborted) stop();
    else signal.addEventListener("abort", stop, { once: true });
    try {
      for await (const ev of watch) {
        if (signal.aborted) break;
        n++;
        switch (ev.type) {
          case "ADDED":
            this.o.store.add(ev.object);
            break;
          case "MODIFIED":
            this.o.store.update(ev.object);
            break;
          case "DELETED":
            this.o.store.delete(ev.object);
            break;
          case "BOOKMARK":
            break;
          case "ERROR":
            throw new ApiError(ev.object);
        }
        const rv = ev.object.metadata?.resourceVersion;
        if (rv) this.rv = rv;
      }
    } finally {
      signal.removeEventListener("abort", stop);
      watch.stop();
    }
    return n;
  }
}

function isRefused(err: unknown): boolean {
  if (!isClientError(err, "Transport")) return false;
  const cause = err.cause as { code?: unknown } | undefined;
  return cause?.code === "ECONNREFUSED";
}
