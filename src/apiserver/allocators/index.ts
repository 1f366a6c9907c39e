// Service networking in the API server, in one piece for the server to hold: the allocation
// hooks of the services store, the repair loop, and the `kubernetes` Service with its endpoints.
import { readFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { randomBytes } from "node:crypto";
import type { Logger } from "../../util/log.js";
import type { Store } from "../../storage/interface.js";
import type { KubeObject } from "../registry/types.js";
import type { ResourceStore, WriteHooks } from "../rest/store.js";
import { KubernetesServiceReconciler } from "./kubernetes.js";
import { parseIP, type PortRange, type ServiceCIDR } from "./ranges.js";
import { AllocationRepair, type RepairEventSink } from "./repair.js";
import { ServiceAllocator } from "./service.js";

export { ServiceAllocator, AllocationTransaction, clusterIPsOf, nodePortsOf } from "./service.js";
export { AllocationRepair, DEFAULT_REPAIR_INTERVAL_MS, DEFAULT_ORPHAN_GRACE_MS, type RepairResult } from "./repair.js";
export { KubernetesServiceReconciler, KUBERNETES_SERVICE, MASTER_LEASES_PREFIX } from "./kubernetes.js";
export { IPAllocator, PortAllocator, IP_ADDRESS_PREFIX, NODE_PORT_PREFIX } from "./allocator.js";
export { AllocationKeys, serviceRef, type ParentRef, type AllocationRecord } from "./keys.js";
export { ServiceCIDR, PortRange, AllocatorError, isAllocatorError, parseServiceCIDRs, parseIP, formatIP, canonicalIP, type IPFamily, type AllocatorErrorCode } from "./ranges.js";
import { rfc3339 } from "../../util/time.js";

export const DEFAULT_SERVICE_CLUSTER_IP_RANGE = "10.43.0.0/16";
export const DEFAULT_SERVICE_NODE_PORT_RANGE = "30000-32767";

export interface ServiceNetworkingOptions {
  readonly store: Store;
  readonly serviceCIDRs: readonly ServiceCIDR[];
  readonly nodePortRange: PortRange;
  readonly log: Logger;
  readonly repairIntervalMs?: number;
}

export interface ServiceNetworkingStores {
  readonly services: ResourceStore;
  /** Where services are stored, for the repair loop's consistent reads. */
  readonly servicesPrefix: string;
  readonly endpoints?: ResourceStore;
  readonly endpointSlices?: ResourceStore;
  readonly events?: ResourceStore;
  readonly apiserverPort: number;
  readonly advertiseAddress: string | undefined;
}

export class ServiceNetworking {
  readonly allocator: ServiceAllocator;
  private repair: AllocationRepair | undefined;
  private kubernetes: KubernetesServiceReconciler | undefined;

  constructor(private readonly o: ServiceNetworkingOptions) {
    this.allocator = new ServiceAllocator({ store: o.store, serviceCIDRs: o.serviceCIDRs, nodePortRange: o.nodePortRange, log: o.log });
  }

  /** For the services ResourceStore. */
  hooks(): WriteHooks {
    return this.allocator.hooks();
  }

  /** Repairs allocations once, makes sure the `kubernetes` Service and its endpoints exist, then keeps both up. */
  async start(s: ServiceNetworkingStores): Promise<void> {
    const log = this.o.log;
    this.repair = new AllocationRepair({
      allocator: this.allocator,
      store: this.o.store,
      servicesPrefix: s.servicesPrefix,
      services: s.services,
      log: log.child({ loop: "allocation-repair" }),
      ...(s.events ? { events: eventWriter(s.events) } : {}),
      ...(this.o.repairIntervalMs !== undefined ? { intervalMs: this.o.repairIntervalMs } : {}),
    });
    const first = await this.repair.runOnce();
    if (first.released.length + first.recreated.length + first.allocated.length > 0) log.info(first, "repaired service allocations");
    this.repair.start();
    if (s.advertiseAddress === undefined) log.warn("no address to advertise (bound to loopback or every address, and no host address found): the kubernetes service gets no endpoints; set --advertise-address");
    this.kubernetes = new KubernetesServiceReconciler({
      store: this.o.store,
      services: s.services,
      ...(s.endpoints ? { endpoints: s.endpoints } : {}),
      ...(s.endpointSlices ? { endpointSlices: s.endpointSlices } : {}),
      serviceIP: this.allocator.primaryCIDR.indexedIP(1),
      apiserverPort: s.apiserverPort,
      advertiseAddress: s.advertiseAddress,
      log: log.child({ loop: "kubernetes-service" }),
    });
    await this.kubernetes.start();
  }

  async stop(): Promise<void> {
    await this.kubernetes?.stop();
    await this.repair?.stop();
  }

  /** One pass over the `kubernetes` Service and its endpoints now (tests, tools). */
  async reconcileKubernetesService(): Promise<void> {
    if (!this.kubernetes) throw new RangeError("service networking is not started");
    await this.kubernetes.reconcileOnce();
  }

  /** One repair pass now (tests, tools). */
  async repairNow(): ReturnType<AllocationRepair["runOnce"]> {
    if (!this.repair) throw new RangeError("service networking is not started");
    return this.repair.runOnce();
  }
}

/** Repair findings as core/v1 Events on the service, from the component upstream names. */
function eventWriter(events: ResourceStore): RepairEventSink {
  return async (svc, type, reason, message) => {
    const ns = svc.metadata?.namespace ?? "default";
    const now = rfc3339(new Date());
    const ev: KubeObject = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: `${svc.metadata?.name ?? "service"}.${randomBytes(8).toString("hex")}`, namespace: ns },
      involvedObject: { kind: "Service", apiVersion: "v1", namespace: ns, name: svc.metadata?.name ?? "", uid: svc.metadata?.uid ?? "" },
      reason,
      message,
      type,
      source: { component: reason.startsWith("Port") ? "portallocator-repair-controller" : "ipallocator-repair-controller" },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    await events.create(ev, { namespace: ns, user: { username: "system:apiserver", groups: ["system:masters"] }, now: new Date(), dryRun: false });
  };
}

/**
 * The address this server puts in the `kubernetes` endpoints when none is given (upstream's
 * --advertise-address default): the bind address, unless it is loopback or unspecified; then
 * the IPv4 address of the interface holding the default route, or any global address.
 */
export function defaultAdvertiseAddress(bindAddress: string): string | undefined {
  const bind = parseIP(bindAddress);
  const loopback = bind !== undefined && (bind.family === "IPv4" ? bind.value >> 24n === 127n : bind.value === 1n);
  if (bind && bind.value !== 0n && !loopback) return bindAddress;
  const ifaces = networkInterfaces();
  const v4 = (name: string): string | undefined => (ifaces[name] ?? []).find((a) => a.family === "IPv4" && !a.internal && !a.address.startsWith("169.254."))?.address;
  try {
    // /proc/net/route: Iface Destination Gateway ...; the default route has destination 0.
    for (const line of readFileSync("/proc/net/route", "utf8").split("\n").slice(1)) {
      const [iface, dest] = line.trim().split(/\s+/);
      if (iface && dest === "00000000") {
        const a = v4(iface);
        if (a) return a;
      }
    }
  } catch {
    // Not Linux: fall back to the interfaces.
  }
  for (const name of Object.keys(ifaces)) {
    const a = v4(name);
    if (a) return a;
  }
  for (const addrs of Object.values(ifaces)) {
    const a = (addrs ?? []).find((x) => x.family === "IPv6" && !x.internal && !x.address.toLowerCase().startsWith("fe80"));
    if (a) return a.address;
  }
  return undefined;
}
