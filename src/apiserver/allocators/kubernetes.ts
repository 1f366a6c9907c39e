// The `kubernetes` Service in `default` and its endpoints (upstream's kubernetesservice
// controller and lease endpoint reconciler): the Service gets the first address of the
// service CIDR and port 443 → the API server's port; every API server sharing the store keeps
// a lease key /registry/masterleases/<address> alive (TTL 15 s, renewed every 10 s), and the
// Endpoints and EndpointSlice `kubernetes` list the addresses whose leases are alive. A server
// that stops removes its lease and its address.
import type { Logger } from "../../util/log.js";
import type { Store } from "../../storage/interface.js";
import { isStorageError } from "../../storage/errors.js";
import { notFound, StatusError } from "../status.js";
import type { KubeObject } from "../registry/types.js";
import type { RequestContext, ResourceStore } from "../rest/store.js";
import { familyOfIP } from "./ranges.js";
import { SERVICE_NAME_LABEL } from "../../api/labels.js";
import { rfc3339 } from "../../util/time.js";

export const KUBERNETES_SERVICE = "kubernetes";
export const MASTER_LEASES_PREFIX = "/registry/masterleases/";
/** Upstream's --endpoint-reconciler-type=lease defaults. */
export const DEFAULT_LEASE_TTL_SECONDS = 15;
export const DEFAULT_RECONCILE_INTERVAL_MS = 10_000;

const SKIP_MIRROR = "endpointslice.kubernetes.io/skip-mirror";

export interface KubernetesServiceOptions {
  readonly store: Store;
  readonly services: ResourceStore;
  readonly endpoints?: ResourceStore;
  readonly endpointSlices?: ResourceStore;
  /** The Service's cluster IP: the first address of the primary service CIDR. */
  readonly serviceIP: string;
  /** The port the API server serves on (the Service's targetPort and the endpoints' port). */
  readonly apiserverPort: number;
  /** This server's address in the endpoints; undefined: the Service only, no endpoints. */
  readonly advertiseAddress: string | undefined;
  readonly log: Logger;
  readonly leaseTtlSeconds?: number;
  readonly intervalMs?: number;
}

const encoder = new TextEncoder();

function ctx(namespace: string): RequestContext {
  return { namespace, user: { username: "system:apiserver", groups: ["system:masters"] }, now: new Date(), dryRun: false };
}

interface PortFields {
  name?: string;
  port?: number;
  protocol?: string;
  targetPort?: number | string;
}

function isConflictLike(err: unknown): boolean {
  return err instanceof StatusError && (err.code === 409 || err.code === 404);
}

export class KubernetesServiceReconciler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;
  private readonly ttl: number;
  private readonly intervalMs: number;

  constructor(private readonly o: KubernetesServiceOptions) {
    this.ttl = o.leaseTtlSeconds ?? DEFAULT_LEASE_TTL_SECONDS;
    this.intervalMs = o.intervalMs ?? DEFAULT_RECONCILE_INTERVAL_MS;
  }

  /** Reconciles once (the Service and endpoints exist when it resolves), then keeps them so every interval. */
  async start(): Promise<void> {
    await this.reconcileOnce();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.reconcileOnce()
        .catch((err: unknown) => this.o.log.warn({ err }, "reconciling the kubernetes service failed; retrying"))
        .finally(() => this.schedule());
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Stops reconciling; this server's lease and address are removed. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
    const ip = this.o.advertiseAddress;
    if (ip === undefined) return;
    try {
      await this.o.store.delete(MASTER_LEASES_PREFIX + ip).catch((err: unknown) => {
        if (!isStorageError(err, "NotFound")) throw err;
      });
      await this.reconcileEndpoints(await this.liveAddresses(undefined));
    } catch (err) {
      this.o.log.warn({ err }, "removing this API server from the kubernetes endpoints failed");
    }
  }

  async reconcileOnce(): Promise<void> {
    await this.ensureService();
    const ip = this.o.advertiseAddress;
    if (ip === undefined) return;
    await this.renewLease(ip);
    await this.reconcileEndpoints(await this.liveAddresses(ip));
  }

  private desiredPorts(): PortFields[] {
    return [{ name: "https", port: 443, protocol: "TCP", targetPort: this.o.apiserverPort }];
  }

  /** Creates the Service, or puts its type and ports back (the cluster IP cannot change). */
  private async ensureService(): Promise<void> {
    const ports = this.desiredPorts();
    const svc: KubeObject = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: KUBERNETES_SERVICE, namespace: "default", labels: { component: "apiserver", provider: "kubernetes" } },
      spec: { type: "ClusterIP", clusterIP: this.o.serviceIP, clusterIPs: [this.o.serviceIP], ports, sessionAffinity: "None" },
    };
    const existing = await this.o.services.get("default", KUBERNETES_SERVICE).catch((err: unknown) => {
      if (err instanceof StatusError && err.code === 404) return undefined;
      throw err;
    });
    if (!existing) {
      try {
        await this.o.services.create(svc, ctx("default"));
        this.o.log.info({ clusterIP: this.o.serviceIP }, "created the kubernetes service");
      } catch (err) {
        // Another API server on the store is creating it right now (it holds the address or
        // the name): the next round sees its Service.
        if (!isConflictLike(err) && !(err instanceof StatusError && err.code === 422)) throw err;
        if (err instanceof StatusError && err.code === 422) this.o.log.warn({ err: err.message }, "creating the kubernetes service failed; retrying");
      }
      return;
    }
    const spec = (existing["spec"] ?? {}) as { type?: string; clusterIP?: string; ports?: PortFields[] };
    if (spec.clusterIP !== this.o.serviceIP) {
      this.o.log.error({ clusterIP: spec.clusterIP, expected: this.o.serviceIP }, "the kubernetes service has a cluster IP outside the first address of the service CIDR (was --service-cluster-ip-range changed?); delete it to have it recreated");
    }
    const samePorts =
      (spec.ports ?? []).length === ports.length &&
      ports.every((p, i) => {
        const q = spec.ports![i]!;
        return q.name === p.name && q.port === p.port && q.protocol === p.protocol && q.targetPort === p.targetPort;
      });
    if (spec.type === "ClusterIP" && samePorts) return;
    await this.o.services.update(
      "default",
      KUBERNETES_SERVICE,
      (cur) => {
        if (!cur) throw notFound({ group: "", resource: "services" }, KUBERNETES_SERVICE);
        const s = (cur["spec"] ?? {}) as { type?: string; ports?: PortFields[] };
        s.type = "ClusterIP";
        s.ports = ports;
        cur["spec"] = s;
        return cur;
      },
      ctx("default"),
    ).catch((err: unknown) => {
      if (!isConflictLike(err)) throw err;
    });
  }

  private async renewLease(ip: string): Promise<void> {
    const key = MASTER_LEASES_PREFIX + ip;
    const value = encoder.encode(JSON.stringify({ kind: "Endpoints", apiVersion: "v1", metadata: { name: ip, creationTimestamp: rfc3339(new Date()) }, subsets: [{ addresses: [{ ip }] }] }));
    for (let attempt = 0; attempt < 3; attempt++) {
      const { kv } = await this.o.store.get(key);
      try {
        if (kv) await this.o.store.update(key, value, kv.modRevision, { ttlSeconds: this.ttl });
        else await this.o.store.create(key, value, { ttlSeconds: this.ttl });
        return;
      } catch (err) {
        if (!isStorageError(err, "Conflict") && !isStorageError(err, "AlreadyExists") && !isStorageError(err, "NotFound")) throw err;
      }
    }
  }

  /** Addresses with a live lease, plus `own` (a server counts itself even if its lease read lags). */
  private async liveAddresses(own: string | undefined): Promise<string[]> {
    const { kvs } = await this.o.store.list(MASTER_LEASES_PREFIX);
    const ips = new Set(kvs.map((kv) => kv.key.slice(MASTER_LEASES_PREFIX.length)));
    if (own !== undefined) ips.add(own);
    else if (this.o.advertiseAddress !== undefined) ips.delete(this.o.advertiseAddress);
    return [...ips].sort();
  }

  private async reconcileEndpoints(ips: readonly string[]): Promise<void> {
    const port = { name: "https", port: this.o.apiserverPort, protocol: "TCP" };
    if (this.o.endpoints) {
      const desired: KubeObject = {
        apiVersion: "v1",
        kind: "Endpoints",
        metadata: { name: KUBERNETES_SERVICE, namespace: "default", labels: { [SKIP_MIRROR]: "true" } },
        subsets: ips.length > 0 ? [{ addresses: ips.map((ip) => ({ ip })), ports: [port] }] : [],
      };
      await this.upsert(this.o.endpoints, desired, (cur) => sameJSON(cur["subsets"] ?? [], desired["subsets"]) && cur.metadata?.labels?.[SKIP_MIRROR] === "true", (cur) => {
        cur["subsets"] = desired["subsets"];
        cur.metadata = { ...cur.metadata, labels: { ...cur.metadata?.labels, [SKIP_MIRROR]: "true" } };
      });
    }
    if (this.o.endpointSlices) {
      const addressType = ips.length > 0 && ips.every((ip) => familyOfIP(ip) === "IPv6") ? "IPv6" : "IPv4";
      const desired: KubeObject = {
        apiVersion: "discovery.k8s.io/v1",
        kind: "EndpointSlice",
        metadata: { name: KUBERNETES_SERVICE, namespace: "default", labels: { [SERVICE_NAME_LABEL]: KUBERNETES_SERVICE } },
        addressType,
        endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
        ports: [port],
      };
      await this.upsert(
        this.o.endpointSlices,
        desired,
        (cur) => cur["addressType"] === addressType && sameJSON(cur["endpoints"] ?? [], desired["endpoints"]) && sameJSON(cur["ports"] ?? [], desired["ports"]) && cur.metadata?.labels?.[SERVICE_NAME_LABEL] === KUBERNETES_SERVICE,
        (cur) => {
          cur["endpoints"] = desired["endpoints"];
          cur["ports"] = desired["ports"];
          cur.metadata = { ...cur.metadata, labels: { ...cur.metadata?.labels, [SERVICE_NAME_LABEL]: KUBERNETES_SERVICE } };
        },
      );
    }
  }

  private async upsert(store: ResourceStore, desired: KubeObject, correct: (cur: KubeObject) => boolean, fix: (cur: KubeObject) => void): Promise<void> {
    const cur = await store.get("default", KUBERNETES_SERVICE).catch((err: unknown) => {
      if (err instanceof StatusError && err.code === 404) return undefined;
      throw err;
    });
    try {
      if (!cur) await store.create(structuredClone(desired), ctx("default"));
      else if (!correct(cur)) {
        // An address family change cannot be an update (addressType is immutable): replace the slice.
        if (desired["addressType"] !== undefined && cur["addressType"] !== desired["addressType"]) {
          await store.delete("default", KUBERNETES_SERVICE, {}, ctx("default"));
          await store.create(structuredClone(desired), ctx("default"));
          return;
        }
        await store.update(
          "default",
          KUBERNETES_SERVICE,
          (live) => {
            const next = live ?? structuredClone(desired);
            fix(next);
            return next;
          },
          ctx("default"),
        );
      }
    } catch (err) {
      // Another API server wrote it at the same moment: the next round checks again.
      if (!isConflictLike(err)) throw err;
    }
  }
}

function sameJSON(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
