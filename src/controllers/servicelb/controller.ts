// The service load balancer of a small cluster (upstream's service controller with the
// "cloud" being the nodes themselves, as k3s's ServiceLB): a Service of type LoadBalancer is
// given the addresses of the cluster's Ready nodes as `status.loadBalancer.ingress` (ipMode
// VIP), and kube-proxy on every node sends what arrives at those addresses on the service's
// ports to its endpoints. So `kubectl expose --type=LoadBalancer` ends with an EXTERNAL-IP a
// client outside the cluster can use.
//
// Every load balancer lives on the same addresses, so a port (with its protocol) belongs to one
// Service: the one that has it keeps it (else the oldest takes it), another stays pending with a
// SyncLoadBalancerFailed event until the port is free; the API server's and the kubelets' ports are never given away.
// Nodes labelled node.kubernetes.io/exclude-from-external-load-balancers are left out (as
// upstream), and simulated nodes (no kube-proxy behind their addresses); so are Services that name a loadBalancerClass (another implementation's) or
// ask for loadBalancerSourceRanges (which these rules do not enforce: better pending than
// open to everyone). A Service that stops being a LoadBalancer has its status cleared.
import type { Endpoints, LoadBalancerIngress, Node, Service } from "kubernetes-types/core/v1.js";
import { SIMULATED_NODE_ANNOTATION } from "../../api/labels.js";
import { isNotFound } from "../../client/errors.js";
import type { Lister } from "../../client/informer.js";
import type { DeepReadonly } from "../../client/objects.js";
import { WorkQueue } from "../../client/workqueue.js";
import type { Logger } from "../../util/log.js";
import type { Api } from "../api.js";
import type { EventSink } from "../context.js";

export const SERVICE_LB_CONTROLLER = "service-lb-controller";
/** Events carry upstream's component name (`kubectl describe service`'s "From"). */
export const SERVICE_LB_EVENT_SOURCE = "service-controller";
export const EXCLUDE_LB_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers";

type RService = DeepReadonly<Service>;
type RNode = DeepReadonly<Node>;

export interface ServiceLBDeps {
  readonly api: Api;
  readonly services: Lister<Service>;
  readonly nodes: Lister<Node>;
  readonly endpoints: Lister<Endpoints>;
  readonly events: EventSink;
  readonly log: Logger;
}

function key(svc: RService): string {
  return `${svc.metadata?.namespace ?? ""}/${svc.metadata?.name ?? ""}`;
}

/** Upstream's wantsLoadBalancer, for the services this controller serves. */
export function servedHere(svc: RService): boolean {
  return svc.spec?.type === "LoadBalancer" && !svc.spec.loadBalancerClass;
}

function isReady(node: RNode): boolean {
  return node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;
}

/** A node's address for load balancers: its ExternalIP, else its InternalIP (IPv4). */
function nodeAddress(node: RNode): string | undefined {
  const addrs = node.status?.addresses ?? [];
  const v4 = (type: string): string | undefined => addrs.find((a) => a.type === type && /^\d+\.\d+\.\d+\.\d+$/.test(a.address))?.address;
  return v4("ExternalIP") ?? v4("InternalIP");
}

function portKey(protocol: string | undefined, port: number): string {
  return `${port}/${protocol ?? "TCP"}`;
}

/** Oldest first; names break ties. */
function older(a: RService, b: RService): number {
  const ta = a.metadata?.creationTimestamp ?? "";
  const tb = b.metadata?.creationTimestamp ?? "";
  return ta < tb ? -1 : ta > tb ? 1 : key(a).localeCompare(key(b));
}

function sameIngress(a: readonly DeepReadonly<LoadBalancerIngress>[] | undefined, b: readonly LoadBalancerIngress[]): boolean {
  const x = a ?? [];
  return x.length === b.length && x.every((e, i) => e.ip === b[i]!.ip && e.ipMode === b[i]!.ipMode && !e.hostname && !e.ports);
}

export class ServiceLBController {
  readonly queue = new WorkQueue<string>();

  constructor(private readonly d: ServiceLBDeps) {}

  serviceChanged(svc: RService, old?: RService): void {
    this.queue.add(key(svc));
    // A load balancer that goes away (or changes ports) may free a port another one waits for.
    if ((old && servedHere(old)) || servedHere(svc)) this.enqueueAll();
  }

  /** Nodes come, go, get ready or change address: every load balancer's addresses may change. */
  enqueueAll(): void {
    for (const svc of this.d.services.list()) if (servedHere(svc) || (svc.status?.loadBalancer?.ingress?.length ?? 0) > 0) this.queue.add(key(svc));
  }

  /** Ports of the node addresses that are not load balancers' to take: the API server's and the kubelets'. */
  private reservedPorts(addresses: ReadonlySet<string>): Map<string, string> {
    const out = new Map<string, string>();
    const apiserver = this.d.endpoints.get("default/kubernetes");
    for (const subset of apiserver?.subsets ?? []) {
      if (!(subset.addresses ?? []).some((a) => addresses.has(a.ip))) continue;
      for (const p of subset.ports ?? []) out.set(portKey(p.protocol, p.port), "the API server");
    }
    for (const node of this.d.nodes.list()) {
      const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
      if (port) out.set(portKey("TCP", port), `the kubelet of node ${node.metadata?.name ?? ""}`);
    }
    return out;
  }

  /** Why `svc` cannot have its load balancer now, or undefined. */
  private refusal(svc: RService, addresses: ReadonlySet<string>): string | undefined {
    if ((svc.spec?.loadBalancerSourceRanges?.length ?? 0) > 0) return "loadBalancerSourceRanges are not supported by k8ts's service load balancer";
    const reserved = this.reservedPorts(addresses);
    const mine = (svc.spec?.ports ?? []).map((p) => portKey(p.protocol, p.port));
    for (const p of mine) {
      const holder = reserved.get(p);
      if (holder) return `port ${p} is used by ${holder}`;
    }
    const holds = (s: RService): boolean => (s.status?.loadBalancer?.ingress?.length ?? 0) > 0;
    for (const other of this.d.services.list()) {
      if (key(other) === key(svc) || !servedHere(other) || (other.spec?.loadBalancerSourceRanges?.length ?? 0) > 0) continue;
      // A load balancer in place keeps its ports; between two waiting (or two in place), the older wins.
      const first = holds(other) !== holds(svc) ? holds(other) : older(other, svc) < 0;
      if (!first) continue;
      for (const p of other.spec?.ports ?? []) {
        const k = portKey(p.protocol, p.port);
        if (mine.includes(k)) return `port ${k} is already used by LoadBalancer service ${key(other)}`;
      }
    }
    return undefined;
  }

  async sync(k: string, _signal?: AbortSignal, log: Logger = this.d.log): Promise<void> {
    const svc = this.d.services.get(k);
    if (!svc) return;
    let ingress: LoadBalancerIngress[] = [];
    if (servedHere(svc)) {
      const nodes = this.d.nodes.list().filter((n) => isReady(n) && n.metadata?.labels?.[EXCLUDE_LB_LABEL] === undefined && n.metadata?.annotations?.[SIMULATED_NODE_ANNOTATION] === undefined);
      const addresses = new Set(nodes.map(nodeAddress).filter((a): a is string => a !== undefined));
      const why = this.refusal(svc, addresses);
      if (why) {
        this.d.events.event(svc as Service, "Warning", "SyncLoadBalancerFailed", `Error syncing load balancer: failed to ensure load balancer: ${why}`);
        log.debug({ service: k, reason: why }, "load balancer pending");
      } else {
        ingress = [...addresses].sort(compareIPs).map((ip) => ({ ip, ipMode: "VIP" }));
      }
    } else if (svc.spec?.loadBalancerClass && svc.spec.type === "LoadBalancer") {
      return; // another implementation's
    }
    if (sameIngress(svc.status?.loadBalancer?.ingress, ingress)) return;
    const copy = structuredClone(svc) as Service;
    const next: Service = { ...copy, status: { ...copy.status, loadBalancer: ingress.length > 0 ? { ingress } : {} } };
    try {
      await this.d.api.resource<Service>("", "v1", "services").namespace(svc.metadata?.namespace ?? "").updateStatus(next);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    // Both after the write: a sync on a stale cache that loses the race (409, retried) says nothing.
    if (servedHere(svc) && ingress.length > 0) {
      this.d.events.event(svc as Service, "Normal", "EnsuringLoadBalancer", "Ensuring load balancer");
      this.d.events.event(svc as Service, "Normal", "EnsuredLoadBalancer", "Ensured load balancer");
    }
    else if (!servedHere(svc)) this.d.events.event(svc as Service, "Normal", "DeletedLoadBalancer", "Deleted load balancer");
    log.info({ service: k, ingress: ingress.map((i) => i.ip) }, "load balancer status updated");
  }
}

function compareIPs(a: string, b: string): number {
  const n = (ip: string): number => ip.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
  return n(a) - n(b);
}
