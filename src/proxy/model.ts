// What the proxy programs, independent of the backend: every service port that needs rules,
// with its endpoints from the EndpointSlices of its service, and upstream's rules for which of
// those endpoints each kind of traffic may use (pkg/proxy/topology.go CategorizeEndpoints).
// Pure functions of the informer caches, so the rule generators can be tested on plain objects.
import type { Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import { parseIPSloppy } from "../api/validation.js";
import type { DeepReadonly } from "../client/objects.js";
import { SERVICE_NAME_LABEL } from "../api/labels.js";
import { CodedError } from "../util/errors.js";

export type ProxyMode = "iptables" | "nftables";

export type ProxyErrorCode = "InvalidOptions" | "CommandFailed" | "NotStarted";

export class ProxyError extends CodedError<ProxyErrorCode> {
  override readonly name = "ProxyError";
}

/** Services (and their slices) carrying this label belong to another proxy (upstream skips them too). */
export const SERVICE_PROXY_NAME_LABEL = "service.kubernetes.io/service-proxy-name";
/** The EndpointSlice controller marks the slices of headless services with this label. */
export const HEADLESS_LABEL = "service.kubernetes.io/headless";
/** The label selector kube-proxy lists services and slices with. */
export const PROXY_LABEL_SELECTOR = `!${SERVICE_PROXY_NAME_LABEL},!${HEADLESS_LABEL}`;

/** Upstream's default ClientIP affinity timeout (3 hours). */
export const DEFAULT_AFFINITY_SECONDS = 10800;

export type Protocol = "TCP" | "UDP" | "SCTP";

export interface EndpointInfo {
  readonly ip: string;
  readonly port: number;
  /** Conditions as upstream reads them: ready nil → true, serving nil → ready, terminating nil → false. */
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  /** endpoint.nodeName is this node. */
  readonly local: boolean;
}

export interface ServicePortInfo {
  readonly namespace: string;
  readonly service: string;
  readonly portName: string;
  /** Upstream's ServicePortName string: `ns/name:port`, or `ns/name` for an unnamed port. */
  readonly name: string;
  readonly protocol: Protocol;
  readonly clusterIP: string;
  readonly port: number;
  /** 0: none. */
  readonly nodePort: number;
  readonly externalIPs: readonly string[];
  /** A LoadBalancer service's `status.loadBalancer.ingress` addresses (ipMode VIP), less its external IPs. */
  readonly loadBalancerIPs: readonly string[];
  /** ClientIP affinity timeout in seconds; undefined: no affinity. */
  readonly affinitySeconds: number | undefined;
  readonly externalPolicyLocal: boolean;
  readonly internalPolicyLocal: boolean;
  /** Every endpoint of the port, sorted by address then port. */
  readonly endpoints: readonly EndpointInfo[];
}

/** Reached from outside the cluster network at all (NodePort, external or load balancer IPs). */
export function externallyAccessible(sp: ServicePortInfo): boolean {
  return sp.nodePort !== 0 || sp.externalIPs.length > 0 || sp.loadBalancerIPs.length > 0;
}

/** The addresses besides the cluster IP that lead to the service's external chain, with what upstream's rule comments call them. */
export function externalAddresses(sp: ServicePortInfo): (readonly [ip: string, what: "external IP" | "loadbalancer IP"])[] {
  return [...sp.externalIPs.map((ip) => [ip, "external IP"] as const), ...sp.loadBalancerIPs.map((ip) => [ip, "loadbalancer IP"] as const)];
}

/** The endpoint string of rule comments and chain hashes. */
export function endpointString(ep: EndpointInfo): string {
  return `${ep.ip}:${ep.port}`;
}

export interface CategorizedEndpoints {
  /** Endpoints for "Cluster" traffic policy (empty when the port never uses them). */
  readonly cluster: readonly EndpointInfo[];
  /** Endpoints on this node for "Local" traffic policy (empty when the port never uses them). */
  readonly local: readonly EndpointInfo[];
  /** cluster ∪ local: the endpoints that get a chain of their own. */
  readonly reachable: readonly EndpointInfo[];
  /** The service has a usable endpoint on some node. */
  readonly hasAny: boolean;
}

/** A port uses its Cluster endpoints if internal traffic is Cluster, or if it takes external traffic at all (pod traffic to external destinations is short-circuited to them). */
export function usesClusterEndpoints(sp: ServicePortInfo): boolean {
  return !sp.internalPolicyLocal || externallyAccessible(sp);
}

export function usesLocalEndpoints(sp: ServicePortInfo): boolean {
  return sp.internalPolicyLocal || (sp.externalPolicyLocal && externallyAccessible(sp));
}

/**
 * Ready endpoints; when none is ready, those still serving while terminating (upstream's
 * ProxyTerminatingEndpoints), so a rolling update does not drop connections with no endpoint
 * left.
 */
function usable(eps: readonly EndpointInfo[]): EndpointInfo[] {
  const ready = eps.filter((e) => e.ready);
  return ready.length > 0 ? ready : eps.filter((e) => e.serving && e.terminating);
}

export function categorizeEndpoints(sp: ServicePortInfo): CategorizedEndpoints {
  const cluster = usesClusterEndpoints(sp) ? usable(sp.endpoints) : [];
  const hasAny = sp.endpoints.some((e) => e.ready || (e.serving && e.terminating));
  if (!usesLocalEndpoints(sp)) return { cluster, local: [], reachable: cluster, hasAny };
  const local = usable(sp.endpoints.filter((e) => e.local));
  const seen = new Set(cluster.map(endpointString));
  const reachable = [...cluster, ...local.filter((e) => !seen.has(endpointString(e)))];
  return { cluster, local, reachable, hasAny };
}

/**
 * Which of a service port's chains both backends build, and where its internal and external
 * traffic goes: to the cluster-wide endpoints, or only to this node's (traffic policy Local).
 */
export interface ChainPlan {
  readonly cat: CategorizedEndpoints;
  readonly usesCluster: boolean;
  readonly usesLocal: boolean;
  /** internal traffic goes to the local chain (else the cluster chain) */
  readonly internalLocal: boolean;
  readonly hasInternal: boolean;
  readonly externalLocal: boolean;
  readonly hasExternal: boolean;
  /**
   * The external chain exists whenever the service has endpoints anywhere: its short-circuit
   * rules for pod and host traffic apply even when no endpoint is local.
   */
  readonly usesExt: boolean;
}

export function chainPlan(sp: ServicePortInfo): ChainPlan {
  const cat = categorizeEndpoints(sp);
  const usesLocal = cat.local.length > 0;
  return {
    cat,
    usesCluster: cat.cluster.length > 0,
    usesLocal,
    internalLocal: sp.internalPolicyLocal,
    hasInternal: cat.hasAny && (!sp.internalPolicyLocal || usesLocal),
    externalLocal: sp.externalPolicyLocal,
    hasExternal: cat.hasAny && (!sp.externalPolicyLocal || usesLocal),
    usesExt: cat.hasAny && externallyAccessible(sp),
  };
}

/** An IPv4 address in dotted form, as the API server's validation parses it. */
export function isIPv4(ip: string | undefined): ip is string {
  return ip !== undefined && parseIPSloppy(ip)?.length === 4;
}

function ipKey(ip: string): number {
  return ip.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
}

function compareEndpoints(a: EndpointInfo, b: EndpointInfo): number {
  return ipKey(a.ip) - ipKey(b.ip) || a.port - b.port;
}

type RService = DeepReadonly<Service>;
type RSlice = DeepReadonly<EndpointSlice>;

function protocolOf(p: string | undefined): Protocol | undefined {
  const v = p ?? "TCP";
  return v === "TCP" || v === "UDP" || v === "SCTP" ? v : undefined;
}

/** The IPv4 cluster IP the proxy serves for a service, or undefined (headless, ExternalName, IPv6-only). */
export function serviceClusterIPv4(svc: RService): string | undefined {
  const spec = svc.spec;
  if (!spec || spec.type === "ExternalName") return undefined;
  const ips = spec.clusterIPs && spec.clusterIPs.length > 0 ? spec.clusterIPs : [spec.clusterIP];
  return ips.find(isIPv4);
}

/**
 * The service ports to program on node `nodeName`: one per port of each IPv4 ClusterIP,
 * NodePort or LoadBalancer service (a LoadBalancer's ingress addresses are served like external
 * IPs, as upstream does for ipMode VIP), sorted by name so that generated rules are stable.
 */
export function buildServicePorts(services: readonly RService[], slices: readonly RSlice[], nodeName: string): ServicePortInfo[] {
  const slicesBySvc = new Map<string, RSlice[]>();
  for (const s of slices) {
    const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (!svc || s.addressType !== "IPv4") continue;
    const key = `${s.metadata?.namespace ?? ""}/${svc}`;
    let list = slicesBySvc.get(key);
    if (!list) slicesBySvc.set(key, (list = []));
    list.push(s);
  }
  const out: ServicePortInfo[] = [];
  for (const svc of services) {
    if (svc.metadata?.labels?.[SERVICE_PROXY_NAME_LABEL] !== undefined) continue;
    const clusterIP = serviceClusterIPv4(svc);
    if (!clusterIP) continue;
    const namespace = svc.metadata?.namespace ?? "";
    const service = svc.metadata?.name ?? "";
    const spec = svc.spec!;
    const svcSlices = [...(slicesBySvc.get(`${namespace}/${service}`) ?? [])].sort((a, b) => ((a.metadata?.name ?? "") < (b.metadata?.name ?? "") ? -1 : 1));
    const externalIPs = [...new Set((spec.externalIPs ?? []).filter(isIPv4))].sort();
    const lbIngress = spec.type === "LoadBalancer" ? svc.status?.loadBalancer?.ingress ?? [] : [];
    const loadBalancerIPs = [...new Set(lbIngress.filter((i) => i.ipMode !== "Proxy").map((i) => i.ip))].filter((ip): ip is string => isIPv4(ip) && !externalIPs.includes(ip)).sort();
    const affinitySeconds = spec.sessionAffinity === "ClientIP" ? spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS : undefined;
    const nodePortsAllowed = spec.type === "NodePort" || spec.type === "LoadBalancer";
    for (const p of spec.ports ?? []) {
      const protocol = protocolOf(p.protocol);
      if (!protocol || !p.port) continue;
      const portName = p.name ?? "";
      const nodePort = nodePortsAllowed ? p.nodePort ?? 0 : 0;
      const accessible = nodePort !== 0 || externalIPs.length > 0 || loadBalancerIPs.length > 0;
      out.push({
        namespace,
        service,
        portName,
        name: `${namespace}/${service}${portName ? `:${portName}` : ""}`,
        protocol,
        clusterIP,
        port: p.port,
        nodePort,
        externalIPs,
        loadBalancerIPs,
        affinitySeconds,
        // Upstream: externalTrafficPolicy only matters for externally accessible ports.
        externalPolicyLocal: accessible && spec.externalTrafficPolicy === "Local",
        internalPolicyLocal: spec.internalTrafficPolicy === "Local",
        endpoints: endpointsFor(svcSlices, portName, protocol, nodeName),
      });
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0));
}

/** The endpoints of one service port: slice ports match it by name and protocol; an address seen twice (slices overlap during updates) counts once. */
function endpointsFor(slices: readonly RSlice[], portName: string, protocol: Protocol, nodeName: string): EndpointInfo[] {
  const byKey = new Map<string, EndpointInfo>();
  for (const s of slices) {
    const sp = (s.ports ?? []).find((p) => (p.name ?? "") === portName && (p.protocol ?? "TCP") === protocol);
    if (!sp || sp.port === undefined || sp.port === null) continue;
    for (const ep of s.endpoints ?? []) {
      const ip = ep.addresses[0];
      if (!isIPv4(ip)) continue;
      const c = ep.conditions ?? {};
      const ready = c.ready ?? true;
      const info: EndpointInfo = {
        ip,
        port: sp.port,
        ready,
        serving: c.serving ?? ready,
        terminating: c.terminating ?? false,
        local: nodeName !== "" && ep.nodeName === nodeName,
      };
      const key = endpointString(info);
      if (!byKey.has(key)) byKey.set(key, info);
    }
  }
  return [...byKey.values()].sort(compareEndpoints);
}
