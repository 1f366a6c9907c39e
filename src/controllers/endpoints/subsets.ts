// Endpoints subsets as upstream builds them (pkg/api/v1/endpoints RepackSubsets and the
// endpoints controller's truncation): every address is filed under each port it serves; the
// addresses sharing exactly one set of ports (and readiness) form one subset; an address ready
// for a port in one place and not in another counts as ready. Output is sorted, so equal
// inputs give equal subsets and a no-op sync writes nothing.
import type { EndpointAddress, EndpointPort, EndpointSubset } from "kubernetes-types/core/v1.js";

/** Upstream's maxCapacity: at most this many addresses in one Endpoints object. */
export const MAX_ENDPOINTS_CAPACITY = 1000;
export const OVER_CAPACITY_ANNOTATION = "endpoints.kubernetes.io/over-capacity";

type Address = EndpointAddress;
type Port = EndpointPort;

/** One address serving one port (or, for a headless service without ports, none), ready or not. */
export interface AddressEntry {
  readonly address: Address;
  readonly port: Port | undefined;
  readonly ready: boolean;
}

function addressKey(a: Address): string {
  return `${a.ip}\u0000${a.targetRef?.uid ?? ""}`;
}

function portKey(p: Port | undefined): string {
  return p === undefined ? "" : JSON.stringify([p.name ?? "", p.port, p.protocol ?? "", p.appProtocol ?? ""]);
}

/** Upstream's LessEndpointAddress: by IP (as bytes of its text), then target UID. */
function compareAddresses(a: Address, b: Address): number {
  if (a.ip !== b.ip) return a.ip < b.ip ? -1 : 1;
  const ua = a.targetRef?.uid ?? "";
  const ub = b.targetRef?.uid ?? "";
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

function comparePorts(a: Port, b: Port): number {
  const ka = portKey(a);
  const kb = portKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** Groups entries into subsets of addresses with identical port sets. */
export function repackSubsets(entries: readonly AddressEntry[]): EndpointSubset[] {
  const addrs = new Map<string, Address>();
  // port → address → ready
  const byPort = new Map<string, { port: Port | undefined; ready: Map<string, boolean> }>();
  for (const e of entries) {
    const ak = addressKey(e.address);
    if (!addrs.has(ak)) addrs.set(ak, e.address);
    const pk = portKey(e.port);
    let slot = byPort.get(pk);
    if (!slot) byPort.set(pk, (slot = { port: e.port, ready: new Map() }));
    if (slot.ready.get(ak) !== true) slot.ready.set(ak, e.ready);
  }
  // The set of (address, readiness) a port has → the ports with exactly that set.
  const groups = new Map<string, { ready: Map<string, boolean>; ports: Port[] }>();
  for (const { port, ready } of byPort.values()) {
    const sig = JSON.stringify([...ready.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    let g = groups.get(sig);
    if (!g) groups.set(sig, (g = { ready, ports: [] }));
    if (port !== undefined) g.ports.push(port);
  }
  const out: EndpointSubset[] = [];
  for (const g of groups.values()) {
    const readyAddrs: Address[] = [];
    const notReady: Address[] = [];
    for (const [ak, r] of g.ready) (r ? readyAddrs : notReady).push(addrs.get(ak)!);
    readyAddrs.sort(compareAddresses);
    notReady.sort(compareAddresses);
    g.ports.sort(comparePorts);
    out.push({
      ...(readyAddrs.length > 0 ? { addresses: readyAddrs } : {}),
      ...(notReady.length > 0 ? { notReadyAddresses: notReady } : {}),
      ...(g.ports.length > 0 ? { ports: g.ports } : {}),
    });
  }
  const first = (s: EndpointSubset): Address | undefined => s.addresses?.[0] ?? s.notReadyAddresses?.[0];
  return out.sort((a, b) => {
    const fa = first(a);
    const fb = first(b);
    const c = fa && fb ? compareAddresses(fa, fb) : 0;
    return c !== 0 ? c : portKey(a.ports?.[0]) < portKey(b.ports?.[0]) ? -1 : 1;
  });
}

/**
 * Keeps at most MAX_ENDPOINTS_CAPACITY addresses, in proportion per subset: not-ready ones go
 * first; ready ones are cut only when they alone are too many (upstream truncateEndpoints).
 * Returns whether anything was cut.
 */
export function truncateSubsets(subsets: EndpointSubset[], max = MAX_ENDPOINTS_CAPACITY): boolean {
  let ready = 0;
  let notReady = 0;
  for (const s of subsets) {
    ready += s.addresses?.length ?? 0;
    notReady += s.notReadyAddresses?.length ?? 0;
  }
  if (ready + notReady <= max) return false;
  const cutReady = ready > max;
  const budget = cutReady ? max : max - ready;
  const total = cutReady ? ready : notReady;
  let left = budget;
  for (let i = 0; i < subsets.length; i++) {
    const s = subsets[i]!;
    const n = cutReady ? (s.addresses?.length ?? 0) : (s.notReadyAddresses?.length ?? 0);
    const take = Math.min(Math.ceil((n / total) * budget), left);
    if (cutReady) {
      const kept = (s.addresses ?? []).slice(0, take);
      subsets[i] = { ...(kept.length > 0 ? { addresses: kept } : {}), ...(s.ports ? { ports: s.ports } : {}) };
      left -= kept.length;
    } else {
      const kept = (s.notReadyAddresses ?? []).slice(0, take);
      subsets[i] = { ...(s.addresses ? { addresses: s.addresses } : {}), ...(kept.length > 0 ? { notReadyAddresses: kept } : {}), ...(s.ports ? { ports: s.ports } : {}) };
      left -= kept.length;
    }
  }
  // A subset left without addresses is not valid Endpoints.
  for (let i = subsets.length - 1; i >= 0; i--) if (!subsets[i]!.addresses && !subsets[i]!.notReadyAddresses) subsets.splice(i, 1);
  return true;
}
