// What NetworkPolicies mean for the pods of one node, as networking.k8s.io/v1 defines it:
//
//  - A pod is isolated for ingress (egress) when some policy of its namespace selects it
//    (spec.podSelector) and lists Ingress (Egress) in spec.policyTypes. An isolated pod accepts
//    (sends) only what the union of those policies' rules allows; a pod no policy selects is
//    not isolated and everything goes. Replies of allowed connections always pass.
//  - A rule's peers (`from` / `to`) are pods picked by podSelector (in the policy's namespace),
//    namespaceSelector (every pod of the namespaces it picks), both (those pods of those
//    namespaces), or an ipBlock (a CIDR minus its `except` CIDRs); no peers: any address.
//  - A rule's ports: protocol (TCP by default, UDP, SCTP) with a port number, a range
//    (`endPort`), a named port (a container port of the destination pod) or none (every port
//    of the protocol); no ports: every port of every protocol.
//
// Pods on the host's network share the node's address: they are neither isolated nor peers
// (upstream leaves both undefined). Pods that finished (Succeeded, Failed) have given their
// address back and count for nothing. Only IPv4 is filtered.
//
// The result is per local pod address: an ordered list of matches, any one of which allows
// the packet. Everything here is pure, so it is tested without a kernel.
import type { NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort } from "kubernetes-types/networking/v1.js";
import type { Namespace, Pod } from "kubernetes-types/core/v1.js";
import { labelSelectorAsSelector, type LabelSelectorSpec, type Selector } from "../../api/labels.js";
import { parseCIDRSloppy } from "../../api/validation.js";
import type { DeepReadonly } from "../../client/objects.js";
import { isIPv4 } from "../model.js";

export type Protocol = "TCP" | "UDP" | "SCTP";

/** An inclusive range of IPv4 addresses as unsigned 32-bit numbers. */
export interface AddressRange {
  readonly first: number;
  readonly last: number;
}

/** Ports of one protocol; no `first`: all of them. */
export interface PortMatch {
  readonly protocol: Protocol;
  readonly first?: number;
  readonly last?: number;
}

/** A destination pod's named port, resolved: the packet must go to this address, protocol and port. */
export interface Endpoint {
  readonly ip: string;
  readonly protocol: Protocol;
  readonly port: number;
}

/**
 * One way a packet is allowed. `peers` undefined: any address, else the peer's address must
 * be in one of the (sorted, disjoint) ranges; `ports` undefined: any protocol and port, else
 * one of them. `endpoints`, when present, replaces both: the destination must be one of them
 * (an egress rule's named ports).
 */
export interface Match {
  /** `namespace/policy` and the rule's index, for the rules' comments. */
  readonly source: string;
  readonly peers?: readonly AddressRange[];
  readonly ports?: readonly PortMatch[];
  readonly endpoints?: readonly Endpoint[];
}

/** What one isolated direction of a local pod lets through; no matches: nothing. */
export interface PodFilter {
  readonly ip: string;
  /** `namespace/name` of the pod. */
  readonly pod: string;
  /** `namespace/name` of the policies that isolate it, sorted. */
  readonly policies: readonly string[];
  readonly matches: readonly Match[];
}

export interface NodeFilters {
  /** Local pods isolated for ingress, sorted by address. */
  readonly ingress: readonly PodFilter[];
  /** Local pods isolated for egress, sorted by address. */
  readonly egress: readonly PodFilter[];
}

type RPod = DeepReadonly<Pod>;
type RPolicy = DeepReadonly<NetworkPolicy>;
type RNamespace = DeepReadonly<Namespace>;

/** A pod that holds an IPv4 address of the pod network. */
interface PodAddress {
  readonly pod: RPod;
  readonly namespace: string;
  readonly key: string;
  readonly ip: string;
  /** The address as a number, for sorting and ranges. */
  readonly num: number;
  readonly labels: Readonly<Record<string, string>>;
}

export function ipToNumber(ip: string): number {
  return ip.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
}

export function numberToIP(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** The IPv4 range of a CIDR, or undefined when it is not IPv4. */
export function cidrRange(cidr: string): AddressRange | undefined {
  const c = parseCIDRSloppy(cidr);
  if (c?.ip.length !== 4) return undefined;
  const base = c.ip.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - c.bits);
  const first = base - (base % size);
  return { first, last: first + size - 1 };
}

/** Sorted, merged (adjacent ranges joined) copy of `ranges`. */
export function normalizeRanges(ranges: readonly AddressRange[]): AddressRange[] {
  const sorted = [...ranges].sort((a, b) => a.first - b.first || a.last - b.last);
  const out: AddressRange[] = [];
  for (const r of sorted) {
    const top = out[out.length - 1];
    if (top && r.first <= top.last + 1) out[out.length - 1] = { first: top.first, last: Math.max(top.last, r.last) };
    else out.push(r);
  }
  return out;
}

/** `ranges` (normalized) minus `holes`. */
export function subtractRanges(ranges: readonly AddressRange[], holes: readonly AddressRange[]): AddressRange[] {
  let out = normalizeRanges(ranges);
  for (const h of normalizeRanges(holes)) {
    const next: AddressRange[] = [];
    for (const r of out) {
      if (h.last < r.first || h.first > r.last) {
        next.push(r);
        continue;
      }
      if (h.first > r.first) next.push({ first: r.first, last: h.first - 1 });
      if (h.last < r.last) next.push({ first: h.last + 1, last: r.last });
    }
    out = next;
  }
  return out;
}

function protocolOf(p: string | undefined): Protocol | undefined {
  const v = p ?? "TCP";
  return v === "TCP" || v === "UDP" || v === "SCTP" ? v : undefined;
}

function isTerminal(pod: RPod): boolean {
  return pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
}

function podIPv4(pod: RPod): string | undefined {
  if (pod.spec?.hostNetwork || isTerminal(pod)) return undefined;
  const ips = pod.status?.podIPs?.length ? pod.status.podIPs.map((p) => p.ip) : [pod.status?.podIP];
  return ips.find(isIPv4);
}

/** The container ports a named port can name: regular containers and sidecars (restartable init containers). */
function namedPorts(pod: RPod, name: string, protocol: Protocol): number[] {
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === "Always")];
  const out = new Set<number>();
  for (const c of containers) for (const p of c.ports ?? []) if (p.name === name && (protocolOf(p.protocol) ?? "TCP") === protocol) out.add(p.containerPort);
  return [...out].sort((a, b) => a - b);
}

function selectorOf(s: LabelSelectorSpec | undefined): Selector | undefined {
  try {
    return labelSelectorAsSelector(s);
  } catch {
    // A selector the API server would have refused: it selects nothing.
    return undefined;
  }
}

/** Everything the policies of a cluster are matched against, indexed once per sync. */
class Cluster {
  /** By address: one pod per address (a pod not being deleted wins over one that is). */
  readonly pods: readonly PodAddress[];
  private readonly byNamespace = new Map<string, PodAddress[]>();
  private readonly namespaceLabels = new Map<string, Readonly<Record<string, string>>>();

  constructor(pods: readonly RPod[], namespaces: readonly RNamespace[]) {
    const byIP = new Map<string, PodAddress>();
    for (const pod of pods) {
      const ip = podIPv4(pod);
      if (ip === undefined) continue;
      const namespace = pod.metadata?.namespace ?? "";
      const entry: PodAddress = { pod, namespace, key: `${namespace}/${pod.metadata?.name ?? ""}`, ip, num: ipToNumber(ip), labels: pod.metadata?.labels ?? {} };
      const held = byIP.get(ip);
      if (held && !(held.pod.metadata?.deletionTimestamp && !pod.metadata?.deletionTimestamp)) continue;
      byIP.set(ip, entry);
    }
    this.pods = [...byIP.values()].sort((a, b) => a.num - b.num);
    for (const p of this.pods) {
      const list = this.byNamespace.get(p.namespace);
      if (list) list.push(p);
      else this.byNamespace.set(p.namespace, [p]);
    }
    for (const ns of namespaces) this.namespaceLabels.set(ns.metadata?.name ?? "", ns.metadata?.labels ?? {});
  }

  podsIn(namespace: string): readonly PodAddress[] {
    return this.byNamespace.get(namespace) ?? [];
  }

  namespacesMatching(selector: Selector): string[] {
    const out: string[] = [];
    for (const [name, labels] of this.namespaceLabels) if (selector.matches(labels)) out.push(name);
    return out;
  }
}

/** The pods a peer's selectors pick (undefined for an ipBlock peer). */
function peerPods(cluster: Cluster, policyNamespace: string, peer: DeepReadonly<NetworkPolicyPeer>): PodAddress[] | undefined {
  if (!peer.podSelector && !peer.namespaceSelector) return undefined;
  const podSel = peer.podSelector ? selectorOf(peer.podSelector) : undefined;
  if (peer.podSelector && !podSel) return [];
  let namespaces: string[];
  if (peer.namespaceSelector) {
    const nsSel = selectorOf(peer.namespaceSelector);
    namespaces = nsSel ? cluster.namespacesMatching(nsSel) : [];
  } else namespaces = [policyNamespace];
  const out: PodAddress[] = [];
  for (const ns of namespaces) for (const p of cluster.podsIn(ns)) if (!podSel || podSel.matches(p.labels)) out.push(p);
  return out;
}

function ipBlockRanges(peer: DeepReadonly<NetworkPolicyPeer>): AddressRange[] {
  const block = peer.ipBlock;
  if (!block) return [];
  const range = cidrRange(block.cidr);
  if (!range) return [];
  const holes = (block.except ?? []).map(cidrRange).filter((r): r is AddressRange => r !== undefined);
  return subtractRanges([range], holes);
}

interface ResolvedPeers {
  /** Undefined: any address. */
  readonly ranges: AddressRange[] | undefined;
  /** The pods among the peers (every pod of the cluster when any address is allowed). */
  readonly pods: readonly PodAddress[];
}

function resolvePeers(cluster: Cluster, namespace: string, peers: readonly DeepReadonly<NetworkPolicyPeer>[] | undefined): ResolvedPeers {
  if (!peers || peers.length === 0) return { ranges: undefined, pods: cluster.pods };
  const ranges: AddressRange[] = [];
  const pods: PodAddress[] = [];
  for (const peer of peers) {
    const picked = peerPods(cluster, namespace, peer);
    if (picked) {
      pods.push(...picked);
      for (const p of picked) ranges.push({ first: p.num, last: p.num });
    } else ranges.push(...ipBlockRanges(peer));
  }
  return { ranges: normalizeRanges(ranges), pods };
}

function numericPort(p: DeepReadonly<NetworkPolicyPort>, protocol: Protocol): PortMatch | undefined {
  if (p.port === undefined) return { protocol };
  if (typeof p.port !== "number") return undefined;
  const last = p.endPort !== undefined && p.endPort >= p.port ? p.endPort : p.port;
  return { protocol, first: p.port, last };
}

function samePorts(a: PortMatch, b: PortMatch): boolean {
  return a.protocol === b.protocol && a.first === b.first && a.last === b.last;
}

function pushPort(out: PortMatch[], p: PortMatch): void {
  if (!out.some((q) => samePorts(p, q))) out.push(p);
}

/** Appends the matches of one ingress rule of a policy selecting `target`. */
function ingressMatches(out: Match[], source: string, peers: ResolvedPeers, ports: readonly DeepReadonly<NetworkPolicyPort>[] | undefined, target: PodAddress): void {
  if (peers.ranges && peers.ranges.length === 0) return;
  const base = peers.ranges ? { source, peers: peers.ranges } : { source };
  if (!ports || ports.length === 0) {
    out.push(base);
    return;
  }
  const resolved: PortMatch[] = [];
  for (const p of ports) {
    const protocol = protocolOf(p.protocol);
    if (!protocol) continue;
    if (typeof p.port === "string") for (const n of namedPorts(target.pod, p.port, protocol)) pushPort(resolved, { protocol, first: n, last: n });
    else {
      const m = numericPort(p, protocol);
      if (m) pushPort(resolved, m);
    }
  }
  if (resolved.length > 0) out.push({ ...base, ports: resolved });
}

/** Appends the matches of one egress rule: numeric ports against the peers' addresses, named ports against the peer pods that have them. */
function egressMatches(out: Match[], source: string, peers: ResolvedPeers, ports: readonly DeepReadonly<NetworkPolicyPort>[] | undefined): void {
  if (peers.ranges && peers.ranges.length === 0) return;
  const base = peers.ranges ? { source, peers: peers.ranges } : { source };
  if (!ports || ports.length === 0) {
    out.push(base);
    return;
  }
  const numeric: PortMatch[] = [];
  const endpoints: (Endpoint & { readonly num: number })[] = [];
  const seen = new Set<string>();
  for (const p of ports) {
    const protocol = protocolOf(p.protocol);
    if (!protocol) continue;
    if (typeof p.port !== "string") {
      const m = numericPort(p, protocol);
      if (m) pushPort(numeric, m);
      continue;
    }
    for (const pod of peers.pods) {
      for (const port of namedPorts(pod.pod, p.port, protocol)) {
        const key = `${pod.ip}/${protocol}/${port}`;
        if (seen.has(key)) continue;
        seen.add(key);
        endpoints.push({ ip: pod.ip, num: pod.num, protocol, port });
      }
    }
  }
  if (numeric.length > 0) out.push({ ...base, ports: numeric });
  if (endpoints.length > 0) {
    endpoints.sort((a, b) => a.num - b.num || a.protocol.localeCompare(b.protocol) || a.port - b.port);
    out.push({ source, endpoints: endpoints.map(({ ip, protocol, port }) => ({ ip, protocol, port })) });
  }
}

function policyTypes(policy: RPolicy): { ingress: boolean; egress: boolean } {
  const types = policy.spec?.policyTypes;
  // The API server defaults policyTypes; an object written before that gets upstream's default.
  if (!types || types.length === 0) return { ingress: true, egress: (policy.spec?.egress?.length ?? 0) > 0 };
  return { ingress: types.includes("Ingress"), egress: types.includes("Egress") };
}

export interface NodeFilterInput {
  readonly nodeName: string;
  readonly pods: readonly RPod[];
  readonly namespaces: readonly RNamespace[];
  readonly policies: readonly RPolicy[];
}

/** The filters of node `nodeName`'s pods under `policies`. */
export function buildNodeFilters(input: NodeFilterInput): NodeFilters {
  if (input.policies.length === 0) return { ingress: [], egress: [] };
  const cluster = new Cluster(input.pods, input.namespaces);
  const policies = [...input.policies].sort((a, b) => policyKey(a).localeCompare(policyKey(b)));
  const ingress: PodFilter[] = [];
  const egress: PodFilter[] = [];
  // Peers are resolved once per rule, not once per selected pod.
  const peerCache = new Map<string, ResolvedPeers>();
  const peersOf = (policy: RPolicy, dir: "in" | "out", i: number, peers: readonly DeepReadonly<NetworkPolicyPeer>[] | undefined): ResolvedPeers => {
    const key = `${policyKey(policy)}/${dir}/${i}`;
    let r = peerCache.get(key);
    if (!r) peerCache.set(key, (r = resolvePeers(cluster, policy.metadata?.namespace ?? "", peers)));
    return r;
  };
  // Each policy's selector and types once, grouped by namespace: a pod is matched only against its namespace's.
  const byNamespace = new Map<string, { policy: RPolicy; key: string; selector: Selector | undefined; types: { ingress: boolean; egress: boolean } }[]>();
  for (const policy of policies) {
    const ns = policy.metadata?.namespace ?? "";
    let list = byNamespace.get(ns);
    if (!list) byNamespace.set(ns, (list = []));
    list.push({ policy, key: policyKey(policy), selector: selectorOf(policy.spec?.podSelector ?? {}), types: policyTypes(policy) });
  }
  for (const target of cluster.pods) {
    if (target.pod.spec?.nodeName !== input.nodeName) continue;
    const mine = byNamespace.get(target.namespace);
    if (!mine) continue;
    const inPolicies: string[] = [];
    const outPolicies: string[] = [];
    const inMatches: Match[] = [];
    const outMatches: Match[] = [];
    for (const { policy, key, selector, types } of mine) {
      if (!selector || !selector.matches(target.labels)) continue;
      if (types.ingress) {
        inPolicies.push(key);
        (policy.spec?.ingress ?? []).forEach((rule, i) => ingressMatches(inMatches, `${key} ingress[${i}]`, peersOf(policy, "in", i, rule.from), rule.ports, target));
      }
      if (types.egress) {
        outPolicies.push(key);
        (policy.spec?.egress ?? []).forEach((rule, i) => egressMatches(outMatches, `${key} egress[${i}]`, peersOf(policy, "out", i, rule.to), rule.ports));
      }
    }
    if (inPolicies.length > 0) ingress.push({ ip: target.ip, pod: target.key, policies: inPolicies, matches: inMatches });
    if (outPolicies.length > 0) egress.push({ ip: target.ip, pod: target.key, policies: outPolicies, matches: outMatches });
  }
  return { ingress, egress };
}

function policyKey(p: RPolicy): string {
  return `${p.metadata?.namespace ?? ""}/${p.metadata?.name ?? ""}`;
}
