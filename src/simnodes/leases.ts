// Node heartbeats: one coordination.k8s.io Lease per node in kube-node-lease, renewed every
// interval as the kubelet does (renewTime, holderIdentity = node name, owner = the Node, so
// the garbage collector removes it with the node). One process renews thousands of leases, so
// the renewals are spread evenly over the interval — node i at offset i·interval/N — instead
// of arriving as one burst every ten seconds; a lease whose last renewal is still in flight
// is skipped rather than piled up. Each renewal is a PUT with the resourceVersion of the last
// answer (no GET) and without managedFields (the server keeps its own); a Conflict re-reads the
// lease and a NotFound recreates it.
import type { Lease } from "kubernetes-types/coordination/v1.js";
import { isAlreadyExists, isConflict, isNotFound } from "../client/errors.js";
import { rfc3339Micro } from "../util/time.js";
import type { Clock, Timer } from "../client/clock.js";
import { NODE_LEASE_NAMESPACE, type LeaseApi } from "../client/nodelease.js";
import type { Logger } from "../util/log.js";

export { NODE_LEASE_NAMESPACE };

export interface LeaseHolder {
  readonly name: string;
  readonly uid: string;
}

export interface LeaseRenewerOptions {
  readonly api: LeaseApi;
  readonly clock: Clock;
  readonly log: Logger;
  readonly intervalMs: number;
  readonly durationSeconds: number;
}

export interface LeaseStats {
  renewals: number;
  failures: number;
}

export class LeaseRenewer {
  readonly stats: LeaseStats = { renewals: 0, failures: 0 };
  private readonly holders: LeaseHolder[] = [];
  private readonly last = new Map<string, Lease>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private lastFailureLog = Number.NEGATIVE_INFINITY;

  constructor(private readonly o: LeaseRenewerOptions) {}

  private leaseFor(h: LeaseHolder, now: number, from?: Lease): Lease {
    // An update that leaves out managedFields keeps the server's; sending them back would only
    // make every renewal carry and decode them again.
    const { managedFields: _kept, ...meta } = from?.metadata ?? {};
    return {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: {
        ...meta,
        name: h.name,
        namespace: NODE_LEASE_NAMESPACE,
        ownerReferences: [{ apiVersion: "v1", kind: "Node", name: h.name, uid: h.uid }],
      },
      spec: { ...(from?.spec ?? {}), holderIdentity: h.name, leaseDurationSeconds: this.o.durationSeconds, renewTime: rfc3339Micro(now) },
    };
  }

  /**
   * Creates (or takes over) the node's lease now and adds the node to the renewal rota; a
   * failed first write is counted and left to the rota, which tries again next round.
   */
  async register(h: LeaseHolder): Promise<void> {
    try {
      await this.renewOnce(h);
    } catch (err) {
      this.failed(h, err);
    }
    this.holders.push(h);
  }

  private failed(h: LeaseHolder, err: unknown): void {
    this.stats.failures++;
    // Thousands of leases fail together when the server is away: one line per interval says it.
    const now = this.o.clock.now();
    if (now - this.lastFailureLog >= this.o.intervalMs) {
      this.lastFailureLog = now;
      this.o.log.warn({ err, node: h.name, failures: this.stats.failures }, "renewing node lease failed; will retry next interval");
    }
  }

  get size(): number {
    return this.holders.length;
  }

  private async renewOnce(h: LeaseHolder): Promise<void> {
    const api = this.o.api;
    const known = this.last.get(h.name);
    try {
      if (known) {
        this.last.set(h.name, await api.update(this.leaseFor(h, this.o.clock.now(), known)));
        return;
      }
      this.last.set(h.name, await api.create(this.leaseFor(h, this.o.clock.now())));
    } catch (err) {
      if (isConflict(err) || isAlreadyExists(err)) {
        const current = await api.get(h.name);
        this.last.set(h.name, await api.update(this.leaseFor(h, this.o.clock.now(), current)));
        return;
      }
      if (isNotFound(err)) {
        this.last.delete(h.name);
        this.last.set(h.name, await api.create(this.leaseFor(h, this.o.clock.now())));
        return;
      }
      throw err;
    }
  }

  private renew(h: LeaseHolder): void {
    if (this.inFlight.has(h.name)) return;
    const p = this.renewOnce(h).then(
      () => {
        this.stats.renewals++;
      },
      (err: unknown) => this.failed(h, err),
    );
    this.inFlight.set(h.name, p);
    void p.finally(() => this.inFlight.delete(h.name));
  }

  /**
   * Renews every registered lease once per interval, node i at offset i·interval/N of each
   * round, until `signal` aborts; resolves once renewals in flight have finished.
   */
  async run(signal: AbortSignal): Promise<void> {
    const clock = this.o.clock;
    const interval = this.o.intervalMs;
    let roundStart = clock.now();
    let next = 0;
    let timer: Timer | undefined;
    await new Promise<void>((done) => {
      if (signal.aborted) return done();
      const tick = (): void => {
        if (signal.aborted) return;
        const n = this.holders.length;
        const now = clock.now();
        // After a stall longer than a round, start the current round afresh instead of firing every missed one.
        if (now - roundStart >= 2 * interval) {
          roundStart = now - ((now - roundStart) % interval);
          next = 0;
        }
        while (n > 0) {
          if (next >= n) {
            next = 0;
            roundStart += interval;
          }
          const due = roundStart + Math.floor((next * interval) / n);
          if (due > now) break;
          this.renew(this.holders[next]!);
          next++;
        }
        const step = n > 0 ? Math.min(100, Math.max(10, interval / n)) : 100;
        timer = clock.setTimer(step, tick);
      };
      // The first round starts one interval after registration, which renewed every lease.
      roundStart += interval;
      timer = clock.setTimer(0, tick);
      signal.addEventListener(
        "abort",
        () => {
          timer?.cancel();
          done();
        },
        { once: true },
      );
    });
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** The last lease the server returned for the node. */
  lease(name: string): Lease | undefined {
    return this.last.get(name);
  }
}
