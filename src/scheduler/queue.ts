// The scheduling queue (upstream pkg/scheduler/backend/queue/scheduling_queue.go).
//
// - activeQ: pods ready to be tried, highest priority first, then the longest waiting.
// - backoffQ: pods that failed recently, each waiting out its own exponential backoff
//   (1 s, 2 s, 4 s ... capped at 10 s by attempt count) before going back to activeQ.
// - unschedulable: pods that no node fits. They stay until a cluster event that one of the
//   plugins that rejected them registered for (a node added, a pod deleted, ...) moves them
//   back, and are flushed back regardless after 5 minutes in case an event was missed.
//
// A pod that failed for a reason no plugin owns (an API error, a lost bind) goes straight to
// backoffQ. Pods with scheduling gates wait in `unschedulable` as gated until the gates are
// removed; no event moves them.
import type { Clock, Timer } from "../client/clock.js";
import { realClock } from "../client/clock.js";
import type { PodInfo, RPod } from "./framework/podinfo.js";
import type { ClusterEvent } from "./framework/types.js";
import { KeyedHeap } from "./heap.js";

export interface QueuedPodInfo {
  podInfo: PodInfo;
  readonly key: string;
  /** When the pod last entered a queue: orders activeQ and starts its backoff. */
  timestamp: number;
  /** When the pod was first popped. */
  initialAttemptTimestamp: number | undefined;
  /** Times popped for scheduling. */
  attempts: number;
  /** Plugins that rejected it in its last attempt; decides which events move it. */
  unschedulablePlugins: Set<string>;
  /** Held by scheduling gates. */
  gated: boolean;
}

export interface SchedulingQueueOptions {
  readonly podInfoOf: (pod: RPod) => PodInfo;
  /** The plugins that care about an event (the framework's registrations). */
  readonly pluginsInterestedIn: (event: ClusterEvent) => ReadonlySet<string>;
  readonly clock?: Clock;
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** How long a pod may sit in unschedulable before it is retried anyway (upstream: 5 min). */
  readonly maxInUnschedulableMs?: number;
  /** How often the unschedulable leftovers are checked (upstream: 30 s). */
  readonly unschedulableFlushIntervalMs?: number;
}

function isGated(pod: RPod): boolean {
  return (pod.spec?.schedulingGates ?? []).length > 0;
}

/** Whether the update could change the scheduling outcome: anything but status and bookkeeping. */
export function isPodUpdated(oldPod: RPod, newPod: RPod): boolean {
  if (oldPod === newPod) return false;
  const strip = (p: RPod): string => {
    const { resourceVersion: _rv, generation: _g, managedFields: _mf, finalizers: _f, ...meta } = p.metadata ?? {};
    return JSON.stringify([meta, p.spec]);
  };
  return strip(oldPod) !== strip(newPod);
}

export class SchedulingQueue {
  private readonly o: Required<Omit<SchedulingQueueOptions, "clock">>;
  private readonly clock: Clock;
  private readonly activeQ = new KeyedHeap<QueuedPodInfo>(
    (q) => q.key,
    (a, b) => a.podInfo.priority > b.podInfo.priority || (a.podInfo.priority === b.podInfo.priority && a.timestamp < b.timestamp),
  );
  private readonly backoffQ = new KeyedHeap<QueuedPodInfo>(
    (q) => q.key,
    (a, b) => this.backoffExpiry(a) < this.backoffExpiry(b),
  );
  private readonly unschedulable = new Map<string, QueuedPodInfo>();
  /** plugin → keys of unschedulable pods it rejected (pods with no plugin are under ""). */
  private readonly byPlugin = new Map<string, Set<string>>();
  private waiters: ((q: QueuedPodInfo | undefined) => void)[] = [];
  private cycle = 0;
  private moveRequestCycle = -1;
  private closed = false;
  private backoffTimer: { timer: Timer; at: number } | undefined;
  private flushTimer: Timer | undefined;

  constructor(opts: SchedulingQueueOptions) {
    this.clock = opts.clock ?? realClock;
    this.o = {
      podInfoOf: opts.podInfoOf,
      pluginsInterestedIn: opts.pluginsInterestedIn,
      initialBackoffMs: opts.initialBackoffMs ?? 1000,
      maxBackoffMs: opts.maxBackoffMs ?? 10_000,
      maxInUnschedulableMs: opts.maxInUnschedulableMs ?? 5 * 60_000,
      unschedulableFlushIntervalMs: opts.unschedulableFlushIntervalMs ?? 30_000,
    };
    this.scheduleUnschedulableFlush();
  }

  /** The number of pods popped so far: each scheduling attempt's cycle number. */
  get schedulingCycle(): number {
    return this.cycle;
  }

  get lengths(): { readonly active: number; readonly backoff: number; readonly unschedulable: number } {
    return { active: this.activeQ.size, backoff: this.backoffQ.size, unschedulable: this.unschedulable.size };
  }

  /** Where the pod waits, if it is queued. */
  where(key: string): "active" | "backoff" | "unschedulable" | undefined {
    if (this.activeQ.has(key)) return "active";
    if (this.backoffQ.has(key)) return "backoff";
    if (this.unschedulable.has(key)) return "unschedulable";
    return undefined;
  }

  get(key: string): QueuedPodInfo | undefined {
    return this.activeQ.get(key) ?? this.backoffQ.get(key) ?? this.unschedulable.get(key);
  }

  private newQueued(pod: RPod): QueuedPodInfo {
    const podInfo = this.o.podInfoOf(pod);
    return { podInfo, key: podInfo.key, timestamp: this.clock.now(), initialAttemptTimestamp: undefined, attempts: 0, unschedulablePlugins: new Set(), gated: false };
  }

  /** A new pending pod. */
  add(pod: RPod): void {
    if (this.closed) return;
    const q = this.newQueued(pod);
    if (this.get(q.key)) {
      this.update(undefined, pod);
      return;
    }
    this.toActive(q);
  }

  /** A pending pod changed. */
  update(oldPod: RPod | undefined, newPod: RPod): void {
    if (this.closed) return;
    const podInfo = this.o.podInfoOf(newPod);
    const key = podInfo.key;
    const inActive = this.activeQ.get(key);
    if (inActive) {
      inActive.podInfo = podInfo;
      this.activeQ.addOrUpdate(inActive);
      return;
    }
    const inBackoff = this.backoffQ.get(key);
    if (inBackoff) {
      inBackoff.podInfo = podInfo;
      this.backoffQ.addOrUpdate(inBackoff);
      return;
    }
    const q = this.unschedulable.get(key);
    if (q) {
      const before = q.podInfo.pod;
      q.podInfo = podInfo;
      if (q.gated) {
        if (!isGated(newPod)) {
          this.removeUnschedulable(q);
          q.gated = false;
          this.toActive(q);
        }
        return;
      }
      if (isPodUpdated(oldPod ?? before, newPod)) {
        this.removeUnschedulable(q);
        if (this.isBackingOff(q)) this.toBackoff(q);
        else this.toActive(q);
      }
      return;
    }
    this.toActive(this.newQueued(newPod));
  }

  /** A pending pod was deleted (or bound by someone else). */
  delete(key: string): void {
    this.activeQ.delete(key);
    this.backoffQ.delete(key);
    const q = this.unschedulable.get(key);
    if (q) this.removeUnschedulable(q);
  }

  /**
   * The next pod to try: resolves at once if activeQ has one, else when one arrives;
   * undefined once the queue is closed.
   */
  pop(): Promise<QueuedPodInfo | undefined> {
    const q = this.activeQ.pop();
    if (q) return Promise.resolve(this.popped(q));
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private popped(q: QueuedPodInfo): QueuedPodInfo {
    this.cycle++;
    q.attempts++;
    q.initialAttemptTimestamp ??= this.clock.now();
    return q;
  }

  /**
   * Puts back a pod whose attempt in `podCycle` failed. With rejecting plugins it waits in
   * unschedulable, unless a move request arrived since its attempt began (an event it could
   * not have seen); without (an error), it backs off.
   */
  addUnschedulableIfNotPresent(q: QueuedPodInfo, podCycle: number): void {
    if (this.closed || this.get(q.key)) return;
    q.timestamp = this.clock.now();
    if (this.moveRequestCycle >= podCycle || q.unschedulablePlugins.size === 0) {
      this.toBackoff(q);
      return;
    }
    this.toUnschedulable(q);
  }

  /**
   * A cluster event happened: unschedulable pods that a plugin interested in it rejected go
   * back to activeQ (or backoffQ while their backoff runs). `filter` can exclude pods.
   */
  moveAllToActiveOrBackoff(event: ClusterEvent, filter?: (q: QueuedPodInfo) => boolean): number {
    this.moveRequestCycle = this.cycle;
    if (this.unschedulable.size === 0) return 0;
    let candidates: Iterable<QueuedPodInfo>;
    if (event === "WildCard") {
      candidates = [...this.unschedulable.values()];
    } else {
      const keys = new Set<string>();
      for (const plugin of this.o.pluginsInterestedIn(event)) for (const k of this.byPlugin.get(plugin) ?? []) keys.add(k);
      for (const k of this.byPlugin.get("") ?? []) keys.add(k);
      candidates = [...keys].map((k) => this.unschedulable.get(k)!).filter((q) => q !== undefined);
    }
    let moved = 0;
    for (const q of candidates) {
      if (q.gated || (filter && !filter(q))) continue;
      this.removeUnschedulable(q);
      if (this.isBackingOff(q)) this.toBackoff(q);
      else this.toActive(q);
      moved++;
    }
    return moved;
  }

  /** Moves the named pods (wherever they wait, unless gated) to activeQ now. */
  activate(keys: Iterable<string>): void {
    for (const key of keys) {
      const q = this.backoffQ.delete(key) ?? this.unschedulable.get(key);
      if (!q || q.gated) continue;
      if (this.unschedulable.has(key)) this.removeUnschedulable(q);
      this.toActive(q);
    }
  }

  /** Stops the queue: pending and future pops resolve undefined; timers are cancelled. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.backoffTimer?.timer.cancel();
    this.backoffTimer = undefined;
    this.flushTimer?.cancel();
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(undefined);
  }

  // ---- internals -----------------------------------------------------------------------------

  backoffDuration(q: QueuedPodInfo): number {
    if (q.attempts === 0) return 0;
    let d = this.o.initialBackoffMs;
    for (let i = 1; i < q.attempts; i++) {
      if (d > this.o.maxBackoffMs - d) return this.o.maxBackoffMs;
      d += d;
    }
    return Math.min(d, this.o.maxBackoffMs);
  }

  private backoffExpiry(q: QueuedPodInfo): number {
    return q.timestamp + this.backoffDuration(q);
  }

  private isBackingOff(q: QueuedPodInfo): boolean {
    return this.backoffExpiry(q) > this.clock.now();
  }

  private toActive(q: QueuedPodInfo): void {
    if (isGated(q.podInfo.pod)) {
      q.gated = true;
      this.toUnschedulable(q);
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter(this.popped(q));
      return;
    }
    this.activeQ.addOrUpdate(q);
  }

  private toBackoff(q: QueuedPodInfo): void {
    if (!this.isBackingOff(q)) {
      this.toActive(q);
      return;
    }
    this.backoffQ.addOrUpdate(q);
    this.armBackoffTimer();
  }

  private toUnschedulable(q: QueuedPodInfo): void {
    this.unschedulable.set(q.key, q);
    const plugins = q.unschedulablePlugins.size === 0 ? [""] : q.unschedulablePlugins;
    for (const p of plugins) {
      let s = this.byPlugin.get(p);
      if (!s) this.byPlugin.set(p, (s = new Set()));
      s.add(q.key);
    }
  }

  private removeUnschedulable(q: QueuedPodInfo): void {
    if (!this.unschedulable.delete(q.key)) return;
    const plugins = q.unschedulablePlugins.size === 0 ? [""] : q.unschedulablePlugins;
    for (const p of plugins) {
      const s = this.byPlugin.get(p);
      s?.delete(q.key);
      if (s?.size === 0) this.byPlugin.delete(p);
    }
  }

  /** One timer, for the earliest backoff expiry. */
  private armBackoffTimer(): void {
    const head = this.backoffQ.peek();
    if (!head || this.closed) return;
    const at = this.backoffExpiry(head);
    if (this.backoffTimer && this.backoffTimer.at <= at) return;
    this.backoffTimer?.timer.cancel();
    const timer = this.clock.setTimer(at - this.clock.now(), () => {
      this.backoffTimer = undefined;
      this.flushBackoffCompleted();
    });
    this.backoffTimer = { timer, at };
  }

  /** Moves every pod whose backoff has expired to activeQ. */
  flushBackoffCompleted(): void {
    const now = this.clock.now();
    for (;;) {
      const head = this.backoffQ.peek();
      if (!head || this.backoffExpiry(head) > now) break;
      this.backoffQ.pop();
      this.toActive(head);
    }
    this.armBackoffTimer();
  }

  private scheduleUnschedulableFlush(): void {
    this.flushTimer = this.clock.setTimer(this.o.unschedulableFlushIntervalMs, () => {
      if (this.closed) return;
      this.flushUnschedulableLeftover();
      this.scheduleUnschedulableFlush();
    });
  }

  /** Retries pods that have sat in unschedulable longer than maxInUnschedulable. */
  flushUnschedulableLeftover(): number {
    const now = this.clock.now();
    const stale = [...this.unschedulable.values()].filter((q) => !q.gated && now - q.timestamp > this.o.maxInUnschedulableMs);
    for (const q of stale) {
      this.removeUnschedulable(q);
      if (this.isBackingOff(q)) this.toBackoff(q);
      else this.toActive(q);
    }
    return stale.length;
  }
}
