// Leader election on a coordination.k8s.io/v1 Lease, with client-go's rules
// (tools/leaderelection): a candidate takes the lease when it does not exist, is held by
// nobody, or has not been renewed for leaseDuration *as observed on the candidate's own clock*
// (never by comparing its clock with renewTime, so clock skew between machines is harmless).
// The leader renews every retryPeriod and gives up leading if it cannot renew within
// renewDeadline; since renewDeadline < leaseDuration, it stops acting before anyone else may
// take over. Every write is a compare-and-swap on the lease's resourceVersion.
import { hostname } from "node:os";
import { randomUUID } from "node:crypto";
import type { Lease } from "kubernetes-types/coordination/v1.js";
import type { Logger } from "../util/log.js";
import { realClock, sleep, type Clock } from "./clock.js";
import { ClientError, isConflict, isNotFound } from "./errors.js";
import type { ResourceClient } from "./rest.js";
import { rfc3339Micro } from "../util/time.js";

/** What a lock stores: the LeaseSpec fields, times as MicroTime strings. */
export interface LeaderElectionRecord {
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTime: string;
  readonly renewTime: string;
  readonly leaseTransitions: number;
}

/** Where the record lives. Writes must fail if the record changed since the last `get`. */
export interface ResourceLock {
  readonly identity: string;
  /** The current record and a canonical string of it, or undefined if there is none. */
  get(signal: AbortSignal): Promise<{ readonly record: LeaderElectionRecord; readonly raw: string } | undefined>;
  create(record: LeaderElectionRecord, signal: AbortSignal): Promise<void>;
  update(record: LeaderElectionRecord, signal: AbortSignal): Promise<void>;
  describe(): string;
}

function recordOf(lease: Lease): LeaderElectionRecord {
  const s = lease.spec ?? {};
  return {
    holderIdentity: s.holderIdentity ?? "",
    leaseDurationSeconds: s.leaseDurationSeconds ?? 0,
    acquireTime: s.acquireTime ?? "",
    renewTime: s.renewTime ?? "",
    leaseTransitions: s.leaseTransitions ?? 0,
  };
}

/** A lock on one Lease, as client-go's LeaseLock. */
export class LeaseLock implements ResourceLock {
  private lease: Lease | undefined;

  constructor(
    private readonly leases: ResourceClient<Lease>,
    readonly namespace: string,
    readonly name: string,
    readonly identity: string,
  ) {}

  async get(signal: AbortSignal): Promise<{ record: LeaderElectionRecord; raw: string } | undefined> {
    try {
      this.lease = await this.leases.namespace(this.namespace).get(this.name, { signal });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    const record = recordOf(this.lease);
    return { record, raw: JSON.stringify(record) };
  }

  async create(record: LeaderElectionRecord, signal: AbortSignal): Promise<void> {
    this.lease = await this.leases.namespace(this.namespace).create({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: this.name, namespace: this.namespace }, spec: { ...record } }, { signal });
  }

  async update(record: LeaderElectionRecord, signal: AbortSignal): Promise<void> {
    if (!this.lease) throw new ClientError("InvalidOptions", "lease lock: update before get/create");
    // The resourceVersion of the lease we read makes this a compare-and-swap.
    this.lease = await this.leases.namespace(this.namespace).update({ ...this.lease, spec: { ...this.lease.spec, ...record } }, { signal });
  }

  describe(): string {
    return `${this.namespace}/${this.name}`;
  }
}

/** A unique identity for this process: hostname plus a random suffix, as upstream components use. */
export function defaultIdentity(): string {
  return `${hostname()}_${randomUUID()}`;
}

export interface LeaderElectionOptions {
  readonly lock: ResourceLock;
  /** How long others wait after the last observed renewal before taking over; client-go's 15 s. */
  readonly leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before it stops leading; client-go's 10 s. */
  readonly renewDeadlineMs?: number;
  /** Time between attempts to acquire or renew; client-go's 2 s. */
  readonly retryPeriodMs?: number;
  /** On stop, hand the lease back at once instead of letting it expire. */
  readonly releaseOnCancel?: boolean;
  readonly log: Logger;
  readonly clock?: Clock;
  readonly random?: () => number;
}

export interface LeaderCallbacks {
  /** Called once leadership is acquired; `signal` aborts when it is lost or the elector stops. */
  onStartedLeading(signal: AbortSignal): Promise<void> | void;
  /** Called once leadership ends (never if it was never acquired). */
  onStoppedLeading?(): void;
  /** Called whenever a different holder is observed, including this candidate. */
  onNewLeader?(identity: string): void;
}

/** client-go's JitterFactor for acquire retries. */
const JITTER = 1.2;

export class LeaderElector {
  private readonly lock: ResourceLock;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly releaseOnCancel: boolean;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly random: () => number;
  private observed: LeaderElectionRecord | undefined;
  private observedRaw = "";
  private observedAt = 0;
  private reportedLeader = "";
  private running = false;

  constructor(o: LeaderElectionOptions) {
    this.lock = o.lock;
    this.leaseDurationMs = o.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = o.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = o.retryPeriodMs ?? 2_000;
    this.releaseOnCancel = o.releaseOnCancel ?? false;
    this.clock = o.clock ?? realClock;
    this.random = o.random ?? Math.random;
    if (!(this.retryPeriodMs > 0)) throw new ClientError("InvalidOptions", "retryPeriod must be greater than zero");
    if (!(this.leaseDurationMs > this.renewDeadlineMs)) throw new ClientError("InvalidOptions", "leaseDuration must be greater than renewDeadline");
    if (!(this.renewDeadlineMs > JITTER * this.retryPeriodMs)) throw new ClientError("InvalidOptions", `renewDeadline must be greater than retryPeriod*${JITTER}`);
    if (!this.lock.identity) throw new ClientError("InvalidOptions", "the lock needs an identity");
    this.log = o.log.child({ lock: this.lock.describe(), identity: this.lock.identity });
  }

  isLeader(): boolean {
    return this.observed?.holderIdentity === this.lock.identity;
  }

  /** The holder last observed ("" if none). */
  getLeader(): string {
    return this.observed?.holderIdentity ?? "";
  }

  /**
   * Campaigns until leadership is acquired, leads until it is lost or `signal` aborts, then
   * returns (after the leader's callback has returned, and the lease is released if asked).
   * Run again to campaign again. Never rejects.
   */
  async run(callbacks: LeaderCallbacks, signal: AbortSignal): Promise<void> {
    if (this.running) throw new ClientError("InvalidOptions", "the elector is already running");
    this.running = true;
    try {
      if (!(await this.acquire(callbacks, signal))) return;
      const leading = new AbortController();
      const work = (async () => callbacks.onStartedLeading(leading.signal))().catch((err: unknown) => this.log.error({ err }, "leader callback failed"));
      await this.renew(callbacks, signal);
      leading.abort();
      this.safely(() => callbacks.onStoppedLeading?.());
      await work;
      if (this.releaseOnCancel && signal.aborted) await this.release();
    } finally {
      this.running = false;
    }
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err }, "leader election callback threw");
    }
  }

  private async acquire(callbacks: LeaderCallbacks, signal: AbortSignal): Promise<boolean> {
    this.log.info("attempting to acquire leader lease");
    while (!signal.aborted) {
      const ok = await this.tryAcquireOrRenew(signal, this.renewDeadlineMs);
      this.reportTransition(callbacks);
      if (ok) {
        this.log.info("acquired lease");
        return true;
      }
      if (!(await sleep(this.clock, this.retryPeriodMs * (1 + this.random() * JITTER), signal))) break;
    }
    return false;
  }

  /** Returns when leadership is lost or `signal` aborts. */
  private async renew(callbacks: LeaderCallbacks, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const deadline = this.clock.now() + this.renewDeadlineMs;
      let renewed = false;
      while (!signal.aborted) {
        const remaining = deadline - this.clock.now();
        if (remaining <= 0) break;
        renewed = await this.tryAcquireOrRenew(signal, remaining);
        this.reportTransition(callbacks);
        if (renewed || signal.aborted) break;
        if (!(await sleep(this.clock, Math.min(this.retryPeriodMs, Math.max(0, deadline - this.clock.now())), signal))) break;
      }
      if (signal.aborted) return;
      if (!renewed) {
        this.log.warn("failed to renew lease within the renew deadline; leadership lost");
        return;
      }
      if (!(await sleep(this.clock, this.retryPeriodMs, signal))) return;
    }
  }

  /** One attempt; bounded by `budgetMs` on the injected clock and by `signal`. */
  private async tryAcquireOrRenew(signal: AbortSignal, budgetMs: number): Promise<boolean> {
    const attempt = new AbortController();
    const timer = this.clock.setTimer(budgetMs, () => attempt.abort(new ClientError("Timeout", "lease request exceeded the renew deadline")));
    const onAbort = (): void => attempt.abort(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      return await this.attempt(attempt.signal);
    } catch (err) {
      if (!signal.aborted) this.log.warn({ err }, "error acquiring or renewing the lease");
      return false;
    } finally {
      timer.cancel();
      signal.removeEventListener("abort", onAbort);
    }
  }

  private async attempt(signal: AbortSignal): Promise<boolean> {
    const now = this.clock.now();
    const fresh = (transitions: number, acquireTime: string): LeaderElectionRecord => ({
      holderIdentity: this.lock.identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTime,
      renewTime: rfc3339Micro(now),
      leaseTransitions: transitions,
    });
    const current = await this.lock.get(signal);
    if (!current) {
      const record = fresh(0, rfc3339Micro(now));
      await this.lock.create(record, signal);
      this.observe(record, JSON.stringify(record), now);
      return true;
    }
    if (current.raw !== this.observedRaw) this.observe(current.record, current.raw, now);
    const old = current.record;
    const valid = this.observedAt + old.leaseDurationSeconds * 1000 > now;
    if (old.holderIdentity !== "" && valid && !this.isLeader()) return false;
    const record = this.isLeader() ? fresh(old.leaseTransitions, old.acquireTime) : fresh(old.leaseTransitions + 1, rfc3339Micro(now));
    await this.lock.update(record, signal);
    this.observe(record, JSON.stringify(record), now);
    return true;
  }

  private observe(record: LeaderElectionRecord, raw: string, at: number): void {
    this.observed = record;
    this.observedRaw = raw;
    this.observedAt = at;
  }

  private reportTransition(callbacks: LeaderCallbacks): void {
    const holder = this.observed?.holderIdentity ?? "";
    if (holder === this.reportedLeader) return;
    this.reportedLeader = holder;
    if (holder) this.safely(() => callbacks.onNewLeader?.(holder));
  }

  /** Hands the lease back: no holder, a one-second duration, so a candidate takes it at once. */
  private async release(): Promise<void> {
    if (!this.isLeader() || !this.observed) return;
    const ac = new AbortController();
    const timer = this.clock.setTimer(this.renewDeadlineMs, () => ac.abort(new ClientError("Timeout", "releasing the lease took longer than the renew deadline")));
    try {
      const now = this.clock.now();
      const record: LeaderElectionRecord = { holderIdentity: "", leaseDurationSeconds: 1, acquireTime: rfc3339Micro(now), renewTime: rfc3339Micro(now), leaseTransitions: this.observed.leaseTransitions };
      try {
        await this.lock.update(record, ac.signal);
      } catch (err) {
        // A renewal cut short by the stop may still have been applied: the lease then has a
        // newer version than the one we hold. Re-read it and release if it is still ours.
        if (!isConflict(err)) throw err;
        const current = await this.lock.get(ac.signal);
        if (current?.record.holderIdentity !== this.lock.identity) return;
        await this.lock.update({ ...record, leaseTransitions: current.record.leaseTransitions }, ac.signal);
      }
      this.observe(record, JSON.stringify(record), now);
      this.log.info("released lease");
    } catch (err) {
      this.log.warn({ err }, "failed to release the lease; it will expire");
    } finally {
      timer.cancel();
    }
  }
}

export interface LeaderElectedOptions {
  /** false: no election, `lead` runs once until `signal` aborts. */
  readonly leaderElect: boolean;
  readonly leases: ResourceClient<Lease>;
  readonly leaseNamespace: string;
  readonly leaseName: string;
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly log: Logger;
  /** What stops when leadership is lost, for the log ("controllers", "scheduling"). */
  readonly what: string;
}

/**
 * How every leader-elected component runs (kube-controller-manager, kube-scheduler): `lead`
 * runs for each term this process leads, with a signal that aborts when the term ends; after
 * losing a term the component campaigns again, until `signal` aborts. The lease is released
 * on a clean stop so a standby takes over at once.
 */
export async function runLeaderElected(o: LeaderElectedOptions, lead: (term: AbortSignal) => Promise<void>, signal: AbortSignal): Promise<void> {
  if (!o.leaderElect) {
    await lead(signal);
    return;
  }
  const lock = new LeaseLock(o.leases, o.leaseNamespace, o.leaseName, o.identity);
  const elector = new LeaderElector({ lock, leaseDurationMs: o.leaseDurationMs, renewDeadlineMs: o.renewDeadlineMs, retryPeriodMs: o.retryPeriodMs, releaseOnCancel: true, log: o.log });
  while (!signal.aborted) {
    await elector.run(
      {
        onStartedLeading: (term) => lead(term),
        onStoppedLeading: () => {
          if (!signal.aborted) o.log.warn({ lease: `${o.leaseNamespace}/${o.leaseName}` }, `leader election lost; ${o.what} stopped, campaigning again`);
        },
        onNewLeader: (id) => o.log.info({ leader: id, self: id === o.identity }, "new leader observed"),
      },
      signal,
    );
  }
}
