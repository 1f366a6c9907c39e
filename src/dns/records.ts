// The records of one Service, a pure function of the Service and its EndpointSlices, as the
// Kubernetes DNS-Based Service Discovery specification (kubernetes/dns docs/specification.md)
// lays them out:
//   ClusterIP:    <svc>.<ns>.svc.<zone> A/AAAA <cluster IPs>; SRV _<port>._<proto>.<svc>... per
//                 named port, target the service name; PTR for each cluster IP.
//   headless:     <svc>.<ns>.svc.<zone> A/AAAA for every ready endpoint address, and
//                 <hostname>.<svc>... for each (the endpoint's hostname, or its address with
//                 dashes as CoreDNS names unnamed endpoints); SRV per named port and endpoint,
//                 target the endpoint's name; PTR per address. No ready endpoint: no records
//                 (the spec's NXDOMAIN).
//   ExternalName: <svc>.<ns>.svc.<zone> CNAME <externalName>.
import type { Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import type { DeepReadonly } from "../client/objects.js";
import { canonicalName, dashedIP, ipFamily, ipv4Bytes, ipv6Bytes, reverseName } from "./names.js";
import { TYPE, type Rdata } from "./wire.js";
import { SERVICE_NAME_LABEL } from "../api/labels.js";

/** The pre-EndpointSlice way of publishing not-ready endpoints; the spec still honours it. */
export const TOLERATE_UNREADY_ANNOTATION = "service.alpha.kubernetes.io/tolerate-unready-endpoints";

/** Reported at dns-version.<zone>: the schema version the spec describes (1.1.0 added EndpointSlices). */
export const DNS_SCHEMA_VERSION = "1.1.0";

/** The key a Service's records are filed under (namespace/name). */
export function serviceKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** The Service a slice belongs to, or undefined for slices no Service owns. */
export function sliceServiceKey(slice: DeepReadonly<EndpointSlice>): string | undefined {
  const svc = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
  const ns = slice.metadata?.namespace;
  return svc && ns ? serviceKey(ns, svc) : undefined;
}

export function addressRecord(ip: string): Rdata | undefined {
  const family = ipFamily(ip);
  if (family === 4) return { type: TYPE.A, addr: ipv4Bytes(ip) };
  if (family === 6) return { type: TYPE.AAAA, addr: ipv6Bytes(ip) };
  return undefined;
}

class Builder {
  readonly out = new Map<string, Rdata[]>();
  private readonly seen = new Set<string>();

  add(name: string, rd: Rdata, identity: string): void {
    const id = `${name}|${rd.type}|${identity}`;
    if (this.seen.has(id)) return;
    this.seen.add(id);
    let list = this.out.get(name);
    if (!list) this.out.set(name, (list = []));
    list.push(rd);
  }
}

function isHeadless(svc: DeepReadonly<Service>): boolean {
  return svc.spec?.clusterIP === "None";
}

/** The records of one Service under `zone` (canonical); the cluster DNS Service also names the zone's server. */
export function serviceRecords(svc: DeepReadonly<Service>, slices: readonly DeepReadonly<EndpointSlice>[], zone: string): Map<string, Rdata[]> {
  const b = new Builder();
  const ns = svc.metadata?.namespace;
  const name = svc.metadata?.name;
  if (!ns || !name) return b.out;
  const base = canonicalName(`${name}.${ns}.svc.${zone}`);
  const spec = svc.spec ?? {};

  if (spec.type === "ExternalName") {
    if (spec.externalName) b.add(base, { type: TYPE.CNAME, target: canonicalName(spec.externalName) }, "");
    return b.out;
  }

  if (!isHeadless(svc)) {
    const ips = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
    for (const ip of ips) {
      const rd = addressRecord(ip);
      if (!rd) continue;
      b.add(base, rd, ip);
      const rev = reverseName(ip);
      if (rev) b.add(rev, { type: TYPE.PTR, target: base }, base);
      // CoreDNS answers its zone's NS with the cluster DNS Service's address.
      if (ns === "kube-system" && name === "kube-dns") b.add(`ns.dns.${zone}`, rd, ip);
    }
    if (b.out.has(base)) {
      for (const p of spec.ports ?? []) {
        if (!p.name) continue;
        const srvName = `_${p.name.toLowerCase()}._${(p.protocol ?? "TCP").toLowerCase()}.${base}`;
        b.add(srvName, { type: TYPE.SRV, priority: 0, weight: 100, port: p.port, target: base }, "");
      }
    }
    return b.out;
  }

  const tolerate = spec.publishNotReadyAddresses === true || svc.metadata?.annotations?.[TOLERATE_UNREADY_ANNOTATION] === "true";
  const srvTargets = new Map<string, { port: number; target: string }[]>();
  const addresses = new Set<string>();
  for (const slice of slices) {
    if (slice.addressType === "FQDN") continue;
    const ports = (slice.ports ?? []).filter((p) => p.name && p.port !== undefined);
    for (const ep of slice.endpoints ?? []) {
      // EndpointSlice: a missing `ready` means ready (discovery/v1 EndpointConditions).
      if (!tolerate && ep.conditions?.ready === false) continue;
      for (const ip of ep.addresses ?? []) {
        const rd = addressRecord(ip);
        // The same address in two slices (one moving between them mid-update) counts once.
        if (!rd || addresses.has(ip)) continue;
        addresses.add(ip);
        const host = canonicalName(`${ep.hostname ?? dashedIP(ip)}.${base}`);
        b.add(base, rd, ip);
        b.add(host, rd, ip);
        const rev = reverseName(ip);
        if (rev) b.add(rev, { type: TYPE.PTR, target: host }, host);
        for (const p of ports) {
          const srvName = `_${p.name!.toLowerCase()}._${(p.protocol ?? "TCP").toLowerCase()}.${base}`;
          let list = srvTargets.get(srvName);
          if (!list) srvTargets.set(srvName, (list = []));
          if (!list.some((t) => t.target === host && t.port === p.port)) list.push({ port: p.port!, target: host });
        }
      }
    }
  }
  for (const [srvName, targets] of srvTargets) {
    // RFC 2782 weights: equal shares of 100 among the endpoints.
    const weight = Math.max(1, Math.floor(100 / targets.length));
    for (const t of targets) b.add(srvName, { type: TYPE.SRV, priority: 0, weight, port: t.port, target: t.target }, `${t.target}:${t.port}`);
  }
  return b.out;
}

/** Records that exist whatever the cluster holds: the schema version and the zone's name server. */
export function zoneRecords(zone: string): Map<string, Rdata[]> {
  return new Map<string, Rdata[]>([
    [`dns-version.${zone}`, [{ type: TYPE.TXT, text: [DNS_SCHEMA_VERSION] }]],
    [zone, [{ type: TYPE.NS, target: `ns.dns.${zone}` }]],
  ]);
}
