// The node's heartbeat (upstream's nodelease controller): the Lease kube-node-lease/<node>,
// holderIdentity the node name, leaseDurationSeconds 40, renewTime moved forward every renew
// interval (10 s), owned by the Node so that the garbage collector removes it with the node.
// A renewal is a PUT of the last Lease the server returned (no GET); a Conflict re-reads it,
// a NotFound creates it again. A failed renewal is retried after 200 ms, doubling up to 7 s,
// so a lease that lapses while the server is away is renewed as soon as it answers.
import type { Lease } from "kubernetes-types/coordination/v1.js";
import { realClock, type Clock, type Timer } from "../../client/clock.js";
import { isAlreadyExists, isConflict, isNotFound } from "../../client/errors.js";
import { NODE_LEASE_NAMESPACE, type LeaseApi } from "../../client/nodelease.js";
import type { Logger } from "../../util/log.js";
import { rfc3339Micro } from "../../util/time.js";

const RETRY_BASE_MS = 200;
const RETRY_MAX_MS = 7_000;

export interface NodeLeaseOptions {
  readonly api: LeaseApi;
  readonly nodeName: string;
  /** the Node's uid once known: the lease gets its owner reference then */
  readonly nodeUid: () => string | undefined;
  readonly durationSeconds: number;
  readonly renewIntervalMs: number;
  readonly log: Logger;
  readonly clock?: Clock;
}

export class NodeLease {
  private last: Lease | undefined;
  private timer: Timer | undefined;
  private stopped = false;
  private inFlight: Promise<void> | undefined;
  private failures = 0;
  private readonly clock: Clock;

  constructor(private readonly o: NodeLeaseOptions) {
    this.clock = o.clock ?? realClock;
  }

  /** The last Lease the server returned. */
  get lease(): Lease | undefined {
    return this.last;
  }

  /** Renews once now (failures are logged and retried by the loop) and keeps renewing until stop(). */
  async start(): Promise<void> {
    this.stopped = false;
    await this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    await this.inFlight;
  }

  private desired(from: Lease | undefined): Lease {
    const uid = this.o.nodeUid();
    const owners = (from?.metadata?.ownerReferences ?? []).filter((r) => !(r.kind === "Node" && r.apiVersion === "v1"));
    return {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: {
        ...(from?.metadata ?? {}),
        name: this.o.nodeName,
        namespace: NODE_LEASE_NAMESPACE,
        ...(uid ? { ownerReferences: [...owners, { apiVersion: "v1", kind: "Node", name: this.o.nodeName, uid }] } : from?.metadata?.ownerReferences ? { ownerReferences: from.metadata.ownerReferences } : {}),
      },
      spec: { ...(from?.spec ?? {}), holderIdentity: this.o.nodeName, leaseDurationSeconds: this.o.durationSeconds, renewTime: rfc3339Micro(this.clock.now()) },
    };
  }

  /** One renewal: update the last lease, or read/create it when that is stale or gone. */
  async renew(): Promise<Lease> {
    const api = this.o.api;
    try {
      this.last = this.last ? await api.update(this.desired(this.last)) : await this.getOrCreate();
    } catch (err) {
      if (isConflict(err)) this.last = await api.update(this.desired(await api.get(this.o.nodeName)));
      else if (isNotFound(err)) this.last = await api.create(this.desired(undefined));
      else throw err;
    }
    return this.last;
  }

  private async getOrCreate(): Promise<Lease> {
    try {
      return await this.o.api.update(this.desired(await this.o.api.get(this.o.nodeName)));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    try {
      return await this.o.api.create(this.desired(undefined));
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      return this.o.api.update(this.desired(await this.o.api.get(this.o.nodeName)));
    }
  }

  private tick(): Promise<void> {
    const p = this.renew().then(
      () => {
        if (this.failures > 0) this.o.log.info({ node: this.o.nodeName, failures: this.failures }, "node lease renewed again");
        this.failures = 0;
        this.schedule(this.o.renewIntervalMs);
      },
      (err: unknown) => {
        this.failures++;
        const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (this.failures - 1));
        // One line per failure streak step, not per attempt at full speed: the delay grows to 7 s.
        this.o.log.warn({ err, node: this.o.nodeName, failures: this.failures, retryMs: delay }, "failed to renew the node lease; will retry");
        this.schedule(delay);
      },
    );
    this.inFlight = p;
    return p;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimer(ms, () => {
      this.timer = undefined;
      if (!this.stopped) void this.tick();
    });
  }
}
