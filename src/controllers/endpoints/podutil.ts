// What the Endpoints and EndpointSlice controllers both ask of Services and Pods (upstream
// pkg/api/v1/pod FindPort and IsPodReady, pkg/controller/util/endpoint and
// staging endpointslice/util): which pods a service selects, which of them belong in its
// endpoints, the address of a pod for the service's family, its port for a service port
// (named target ports resolved per pod), and when a pod change can change endpoints.
import type { Pod, Service, ServicePort } from "kubernetes-types/core/v1.js";
import { selectorFromSet, type Selector } from "../../api/labels.js";
import type { DeepReadonly } from "../../client/objects.js";
import { jsonEqual } from "../../util/json.js";


export type RPod = DeepReadonly<Pod>;
export type RService = DeepReadonly<Service>;

/** The selector of a service that wants controller-managed endpoints; undefined for none (no or empty selector). */
export function serviceSelector(svc: RService): Selector | undefined {
  const sel = svc.spec?.selector;
  if (!sel || Object.keys(sel).length === 0) return undefined;
  return selectorFromSet(sel);
}

export function isPodReady(pod: RPod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
}

/** Succeeded or Failed: the pod runs no more. */
export function isPodTerminal(pod: RPod): boolean {
  return pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
}

/** Upstream ShouldPodBeInEndpoints: not terminal, has an address, and not terminating unless those count. */
export function shouldPodBeInEndpoints(pod: RPod, includeTerminating: boolean): boolean {
  if (isPodTerminal(pod)) return false;
  if (!pod.status?.podIP && (pod.status?.podIPs ?? []).length === 0) return false;
  if (!includeTerminating && pod.metadata?.deletionTimestamp) return false;
  return true;
}

/** A pod's hostname is published for the service its subdomain names (DNS `hostname.subdomain`). */
export function shouldSetHostname(pod: RPod, svc: RService): boolean {
  return Boolean(pod.spec?.hostname) && pod.spec?.subdomain === svc.metadata?.name && pod.metadata?.namespace === svc.metadata?.namespace;
}

function familyOf(ip: string): "IPv4" | "IPv6" {
  return ip.includes(":") ? "IPv6" : "IPv4";
}

/** The family a service's endpoints are of: its first ipFamily, else its cluster IP's, else IPv4. */
export function serviceFamily(svc: RService): "IPv4" | "IPv6" {
  const fam = svc.spec?.ipFamilies?.[0];
  if (fam === "IPv4" || fam === "IPv6") return fam;
  const ip = svc.spec?.clusterIP;
  return ip && ip !== "None" ? familyOf(ip) : "IPv4";
}

/** The pod's address of the given family, or undefined. */
export function podIPOfFamily(pod: RPod, family: "IPv4" | "IPv6"): string | undefined {
  const ips = (pod.status?.podIPs ?? []).map((p) => p.ip).filter((ip): ip is string => typeof ip === "string" && ip !== "");
  if (ips.length === 0 && pod.status?.podIP) ips.push(pod.status.podIP);
  return ips.find((ip) => familyOf(ip) === family);
}

/**
 * The container port a service port reaches on this pod: a number as given, a name looked up
 * among the pod's containers (and sidecar init containers) with the same protocol. Undefined
 * when the pod has no such named port.
 */
export function findPort(pod: RPod, sp: DeepReadonly<ServicePort>): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === "number") return target;
  const protocol = sp.protocol ?? "TCP";
  const sidecars = (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === "Always");
  for (const c of [...(pod.spec?.containers ?? []), ...sidecars]) {
    for (const p of c.ports ?? []) {
      if (p.name === target && (p.protocol ?? "TCP") === protocol) return p.containerPort;
    }
  }
  return undefined;
}

/** The named or numbered ports of each container, in order (what port resolution reads). */
function samePorts(a: RPod, b: RPod): boolean {
  const ca = a.spec?.containers ?? [];
  const cb = b.spec?.containers ?? [];
  if (ca.length !== cb.length || !ca.every((c, i) => jsonEqual(c.ports, cb[i]!.ports))) return false;
  const ia = a.spec?.initContainers ?? [];
  const ib = b.spec?.initContainers ?? [];
  return ia.length === ib.length && ia.every((c, i) => c.restartPolicy === ib[i]!.restartPolicy && jsonEqual(c.ports, ib[i]!.ports));
}

/**
 * Whether a pod change can change any endpoints (upstream podEndpointsChanged, plus what ports
 * resolve from): labels, addresses, readiness, being terminal or terminating, node, hostname,
 * subdomain, uid, and container ports. Runs on every pod update: field by field, cheapest first.
 */
export function podEndpointsChanged(old: RPod, cur: RPod): { readonly changed: boolean; readonly labelsChanged: boolean } {
  const labelsChanged = !jsonEqual(old.metadata?.labels ?? {}, cur.metadata?.labels ?? {});
  const changed =
    labelsChanged ||
    old.status?.podIP !== cur.status?.podIP ||
    old.spec?.nodeName !== cur.spec?.nodeName ||
    old.spec?.hostname !== cur.spec?.hostname ||
    old.spec?.subdomain !== cur.spec?.subdomain ||
    old.metadata?.uid !== cur.metadata?.uid ||
    !old.metadata?.deletionTimestamp !== !cur.metadata?.deletionTimestamp ||
    isPodReady(old) !== isPodReady(cur) ||
    isPodTerminal(old) !== isPodTerminal(cur) ||
    !jsonEqual(old.status?.podIPs, cur.status?.podIPs) ||
    !samePorts(old, cur);
  return { changed, labelsChanged };
}

/** Keys of the services in the pod's namespace whose selector matches the pod's labels. */
export function servicesSelecting(services: readonly RService[], labels: Readonly<Record<string, string>> | undefined): string[] {
  const out: string[] = [];
  for (const svc of services) {
    const sel = serviceSelector(svc);
    if (sel && sel.matches(labels)) out.push(`${svc.metadata?.namespace ?? ""}/${svc.metadata?.name ?? ""}`);
  }
  return out;
}

