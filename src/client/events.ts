// The event recorder (client-go tools/record): components report what they did to an object
// as core/v1 Events, fire-and-forget. Events go through a bounded queue (full: dropped, as
// upstream's broadcaster does) drained by one worker, which runs upstream's EventCorrelator:
//
// - aggregation: more than 9 distinct messages for the same object+reason+source within 10
//   minutes fold into one event whose message is "(combined from similar events): <latest>";
// - deduplication: an event identical to one already written (same object, reason, message,
//   type, source) PATCHes that event's count, lastTimestamp and message instead of creating one;
// - spam filter: per source+object, a token bucket of 25 events refilled at 1 per 5 minutes.
//
// Events are named `<object name>.<hex nanoseconds>` in the object's namespace ("default" for
// cluster-scoped objects), as upstream names them.
import { hostname } from "node:os";
import type { Event as CoreEvent, ObjectReference } from "kubernetes-types/core/v1.js";
import type { Logger } from "../util/log.js";
import { realClock, sleep, type Clock } from "./clock.js";
import { ApiError, isNotFound } from "./errors.js";
import { TokenBucket } from "./ratelimit.js";
import type { RestClient } from "./rest.js";
import { rfc3339 } from "../util/time.js";

export type { CoreEvent };

export type EventType = "Normal" | "Warning";

/** Anything that identifies an API object; informer objects (DeepReadonly) and plain ones both fit. */
export interface InvolvedObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly uid?: string; readonly resourceVersion?: string };
  /** a part of the object, e.g. `spec.containers{web}` for a pod's container (as the kubelet reports) */
  readonly fieldPath?: string;
}

/** Where recorded events are written: the API (apiEventWriter) or a fake in tests. */
export interface EventWriter {
  create(event: CoreEvent, signal: AbortSignal): Promise<CoreEvent>;
  /** A strategic-merge patch of the named event. */
  patch(event: CoreEvent, patch: Readonly<Record<string, unknown>>, signal: AbortSignal): Promise<CoreEvent>;
}

export function apiEventWriter(client: RestClient): EventWriter {
  const events = client.forKind("v1", "Event");
  return {
    create: (event, signal) => events.namespace(event.metadata.namespace ?? "default").create(event, { signal }),
    patch: (event, patch, signal) => events.namespace(event.metadata.namespace ?? "default").patch(event.metadata.name ?? "", "strategic", patch, { signal }),
  };
}

// ---- correlation (pure, clock-driven) -------------------------------------------------------

const LRU_SIZE = 4096;
const AGGREGATE_MAX_EVENTS = 10;
const AGGREGATE_INTERVAL_MS = 600_000;
const SPAM_BURST = 25;
const SPAM_QPS = 1 / 300;
const WRITE_TIMEOUT_MS = 30_000;
const DROP_LOG_INTERVAL_MS = 10_000;
export const COMBINED_PREFIX = "(combined from similar events): ";

class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: string, v: V): void {
    this.map.delete(key);
    this.map.set(key, v);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }
}

const join = (parts: readonly (string | undefined)[]): string => parts.map((p) => p ?? "").join("\u0000");

function refKey(e: CoreEvent): (string | undefined)[] {
  const o = e.involvedObject;
  return [e.source?.component, e.source?.host, o.kind, o.namespace, o.name, o.uid, o.apiVersion];
}

/** Source, object, type, reason and message: identical events share it. */
export function eventKey(e: CoreEvent): string {
  return join([...refKey(e), e.involvedObject.fieldPath, e.type, e.reason, e.message]);
}

function aggregateKey(e: CoreEvent): string {
  return join([...refKey(e), e.type, e.reason, e.reportingComponent, e.reportingInstance]);
}

export interface Correlation {
  /** The event to write; with `patch` it updates an existing event instead of creating one. */
  readonly event: CoreEvent;
  readonly patch?: { readonly count: number; readonly lastTimestamp: string; readonly message: string };
}

/** upstream's EventCorrelator: aggregate, then deduplicate, then filter spam. */
export class EventCorrelator {
  private readonly aggregates = new Lru<{ keys: Set<string>; last: number }>(LRU_SIZE);
  private readonly seen = new Lru<{ count: number; firstTimestamp: string; name: string; resourceVersion: string }>(LRU_SIZE);
  private readonly spam = new Lru<TokenBucket>(LRU_SIZE);

  constructor(
    private readonly clock: Clock,
    private readonly name: (objectName: string) => string,
  ) {}

  /** The event to write, or undefined when the spam filter drops it. */
  correlate(input: CoreEvent): Correlation | undefined {
    const { event: aggregated, key } = this.aggregate(input);
    const observed = this.observe(aggregated, key);
    if (!this.allow(observed.event)) return undefined;
    return observed;
  }

  /** Records what the server answered (its name, resourceVersion and count). */
  updateState(stored: CoreEvent): void {
    this.seen.set(eventKey(stored), {
      count: stored.count ?? 1,
      firstTimestamp: stored.firstTimestamp ?? "",
      name: stored.metadata.name ?? "",
      resourceVersion: stored.metadata.resourceVersion ?? "",
    });
  }

  private aggregate(e: CoreEvent): { event: CoreEvent; key: string } {
    const now = this.clock.now();
    const akey = aggregateKey(e);
    let record = this.aggregates.get(akey);
    if (!record || now - record.last > AGGREGATE_INTERVAL_MS) record = { keys: new Set(), last: now };
    record.keys.add(e.message ?? "");
    record.last = now;
    this.aggregates.set(akey, record);
    if (record.keys.size < AGGREGATE_MAX_EVENTS) return { event: e, key: eventKey(e) };
    // Keep the set at its bound: forget one message (upstream pops an arbitrary one).
    record.keys.delete(record.keys.values().next().value!);
    const t = rfc3339(now);
    const combined: CoreEvent = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: this.name(e.involvedObject.name ?? ""), namespace: e.metadata.namespace ?? "default" },
      involvedObject: e.involvedObject,
      reason: e.reason ?? "",
      message: COMBINED_PREFIX + (e.message ?? ""),
      type: e.type ?? "",
      count: 1,
      firstTimestamp: t,
      lastTimestamp: t,
      source: e.source ?? {},
      reportingComponent: e.reportingComponent ?? "",
      reportingInstance: e.reportingInstance ?? "",
    };
    return { event: combined, key: akey };
  }

  private observe(e: CoreEvent, key: string): Correlation {
    const last = this.seen.get(key);
    let event = e;
    let patch: Correlation["patch"];
    if (last && last.count > 0) {
      event = {
        ...e,
        metadata: { ...e.metadata, name: last.name, resourceVersion: last.resourceVersion },
        firstTimestamp: last.firstTimestamp,
        count: last.count + 1,
      };
      patch = { count: last.count + 1, lastTimestamp: event.lastTimestamp ?? "", message: event.message ?? "" };
    }
    this.seen.set(key, { count: event.count ?? 1, firstTimestamp: event.firstTimestamp ?? "", name: event.metadata.name ?? "", resourceVersion: event.metadata.resourceVersion ?? "" });
    return patch ? { event, patch } : { event };
  }

  private allow(e: CoreEvent): boolean {
    const key = join(refKey(e));
    let bucket = this.spam.get(key);
    if (!bucket) bucket = new TokenBucket(SPAM_QPS, SPAM_BURST, this.clock);
    this.spam.set(key, bucket);
    return bucket.tryAccept();
  }
}

// ---- the recorder ---------------------------------------------------------------------------

export interface EventRecorderOptions {
  readonly writer: EventWriter;
  /** `source.component` and `reportingComponent`, e.g. "deployment-controller". */
  readonly component: string;
  /** `source.host` and `reportingInstance`; default: none for controllers (upstream leaves it empty). */
  readonly host?: string;
  readonly log: Logger;
  readonly clock?: Clock;
  /** Events waiting to be written; beyond it new events are dropped. Default 1000. */
  readonly queueSize?: number;
  /** Attempts per event when the server cannot be reached; default 12. */
  readonly maxTries?: number;
  /** Wait between attempts (the first one randomized); default 10 s. */
  readonly retryDelayMs?: number;
  /** In [0, 1): the first retry's delay, and the part of an event's name below the millisecond. */
  readonly random?: () => number;
}

/**
 * Records events about objects. `event` never blocks and never throws; `shutdown` writes
 * what is queued (one attempt each) and stops the worker.
 */
export class EventRecorder {
  private readonly writer: EventWriter;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly random: () => number;
  private lastNanos = 0n;
  private readonly queueSize: number;
  private readonly maxTries: number;
  private readonly retryDelayMs: number;
  private readonly correlator: EventCorrelator;
  private readonly queue: CoreEvent[] = [];
  private wake: (() => void) | undefined;
  private idleWaiters: (() => void)[] = [];
  private busy = false;
  private closing = false;
  private readonly stop = new AbortController();
  private readonly worker: Promise<void>;
  /** Events dropped since the last time that was logged. */
  private drops = 0;
  private lastDropLog = Number.NEGATIVE_INFINITY;

  constructor(private readonly o: EventRecorderOptions) {
    this.writer = o.writer;
    this.log = o.log.child({ component: "event-recorder", source: o.component });
    this.clock = o.clock ?? realClock;
    this.random = o.random ?? Math.random;
    this.queueSize = o.queueSize ?? 1000;
    this.maxTries = o.maxTries ?? 12;
    this.retryDelayMs = o.retryDelayMs ?? 10_000;
    this.correlator = new EventCorrelator(this.clock, (n) => this.eventName(n));
    this.worker = this.work().catch((err: unknown) => this.log.error({ err }, "event worker failed"));
  }

  /** A recorder that writes to the API server through `client`. */
  static forClient(client: RestClient, opts: Omit<EventRecorderOptions, "writer">): EventRecorder {
    return new EventRecorder({ ...opts, writer: apiEventWriter(client) });
  }

  /** Records an event about `obj` (which needs kind, apiVersion and name). */
  event(obj: InvolvedObject, type: EventType, reason: string, message: string): void {
    this.annotatedEvent(obj, undefined, type, reason, message);
  }

  annotatedEvent(obj: InvolvedObject, annotations: Readonly<Record<string, string>> | undefined, type: EventType, reason: string, message: string): void {
    if (this.closing) return;
    if (type !== "Normal" && type !== "Warning") {
      this.log.error({ type }, "unsupported event type; dropped");
      return;
    }
    const m = obj.metadata;
    if (!obj.kind || !obj.apiVersion || !m?.name) {
      this.log.error({ kind: obj.kind, name: m?.name, reason }, "cannot reference the object (kind, apiVersion and name needed); event dropped");
      return;
    }
    if (this.queue.length >= this.queueSize) {
      this.dropped(m, reason);
      return;
    }
    const involvedObject: ObjectReference = {
      kind: obj.kind,
      apiVersion: obj.apiVersion,
      name: m.name,
      ...(m.namespace ? { namespace: m.namespace } : {}),
      ...(m.uid ? { uid: m.uid } : {}),
      ...(m.resourceVersion ? { resourceVersion: m.resourceVersion } : {}),
      ...(obj.fieldPath ? { fieldPath: obj.fieldPath } : {}),
    };
    const t = rfc3339(this.clock.now());
    const host = this.o.host ?? "";
    this.queue.push({
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: this.eventName(m.name), namespace: m.namespace || "default", ...(annotations ? { annotations: { ...annotations } } : {}) },
      involvedObject,
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: t,
      lastTimestamp: t,
      source: { component: this.o.component, ...(host ? { host } : {}) },
      reportingComponent: this.o.component,
      reportingInstance: host,
    });
    this.wake?.();
  }

  /**
   * Counts an event dropped on a full queue. A recorder that cannot keep up drops thousands in
   * a burst, and a log line for each would cost more than the events: one line per interval
   * names the first and says how many.
   */
  private dropped(m: NonNullable<InvolvedObject["metadata"]>, reason: string): void {
    this.drops++;
    const now = this.clock.now();
    if (now - this.lastDropLog < DROP_LOG_INTERVAL_MS) return;
    this.log.error({ object: `${m.namespace ?? ""}/${m.name ?? ""}`, reason, dropped: this.drops, queueSize: this.queueSize }, "too many queued events; events dropped");
    this.lastDropLog = now;
    this.drops = 0;
  }

  /** Resolves once every queued event has been written or given up on. */
  idle(): Promise<void> {
    if (this.queue.length === 0 && !this.busy) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops accepting events, tries each queued one once more, and stops the worker. */
  async shutdown(): Promise<void> {
    this.closing = true;
    this.stop.abort();
    this.wake?.();
    await this.worker;
    if (this.drops > 0) this.log.error({ dropped: this.drops, queueSize: this.queueSize }, "too many queued events; events dropped");
  }

  private eventName(objectName: string): string {
    // Upstream names an event by the time in nanoseconds. Our clock has milliseconds: the part
    // below one is random, so that another recorder (here or in another process) naming an event
    // for the same object in the same millisecond does not take the same name and lose its event
    // to AlreadyExists; within this recorder names only grow.
    let nanos = BigInt(this.clock.now()) * 1_000_000n + BigInt(Math.floor(this.random() * 1_000_000));
    if (nanos <= this.lastNanos) nanos = this.lastNanos + 1n;
    this.lastNanos = nanos;
    return `${objectName}.${nanos.toString(16)}`;
  }

  private async work(): Promise<void> {
    for (;;) {
      const next = this.queue.shift();
      if (!next) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
        if (this.closing) return;
        await new Promise<void>((r) => (this.wake = r));
        this.wake = undefined;
        continue;
      }
      this.busy = true;
      try {
        await this.record(next);
      } catch (err) {
        this.log.error({ err }, "recording an event failed");
      } finally {
        this.busy = false;
      }
    }
  }

  private async record(input: CoreEvent): Promise<void> {
    const result = this.correlator.correlate(input);
    if (!result) return;
    for (let tries = 1; ; tries++) {
      if (await this.write(result)) return;
      if (this.closing || tries >= this.maxTries) {
        this.log.error({ reason: result.event.reason, object: result.event.involvedObject.name }, "unable to write event; giving up");
        return;
      }
      // Spread the first retry so that clients that lost the server together do not return together.
      const delay = tries === 1 ? this.retryDelayMs * this.random() : this.retryDelayMs;
      if (!(await sleep(this.clock, delay, this.stop.signal))) return;
    }
  }

  /** True when done (written, or refused for good); false to retry. */
  private async write(c: Correlation): Promise<boolean> {
    // Not the stop signal: shutdown ends retries, but lets a write in flight finish.
    const signal = AbortSignal.timeout(WRITE_TIMEOUT_MS);
    try {
      let stored: CoreEvent | undefined;
      if (c.patch) {
        try {
          stored = await this.writer.patch(c.event, c.patch, signal);
        } catch (err) {
          // The event expired or was deleted meanwhile: write it anew.
          if (!isNotFound(err)) throw err;
        }
      }
      if (!stored) {
        const { resourceVersion: _rv, ...metadata } = c.event.metadata;
        stored = await this.writer.create({ ...c.event, metadata }, signal);
      }
      this.correlator.updateState(stored);
      return true;
    } catch (err) {
      if (err instanceof ApiError) {
        // The server understood and refused (invalid, forbidden, namespace terminating, already
        // exists): the same event would be refused again.
        if (err.reason === "AlreadyExists") this.log.debug({ err: err.message }, "server rejected event");
        else this.log.error({ err: err.message, reason: c.event.reason }, "server rejected event; not retrying");
        return true;
      }
      this.log.warn({ err }, "unable to write event; may retry");
      return false;
    }
  }
}

/** `source.host` for node components (kubelet, proxy): this machine's hostname. */
export function defaultEventHost(): string {
  return hostname();
}
