// The nftables ruleset in upstream kube-proxy's shape (pkg/proxy/nftables, see its README): one
// table of our own; verdict maps from service IP . protocol . port (and protocol . node port) to
// a chain per service port; `numgen random` spreads connections over per-endpoint DNAT chains;
// ClientIP affinity with a dynamic set per endpoint; services without endpoints are rejected
// from the filter hooks through a map of their own. And the `nft -f` transaction that moves the
// kernel from what was last written to what is wanted.
import { FragmentMemo, sameLines } from "../fragments.js";
import { chainPlan, endpointString, externalAddresses, type EndpointInfo, type ServicePortInfo } from "../model.js";
import type { NftNames } from "../names.js";

export interface NftConfig {
  readonly table: string;
  readonly names: NftNames;
  readonly clusterCIDR: string | undefined;
  /** e.g. "0x4000" */
  readonly masqueradeMark: string;
  /** Addresses that accept NodePort traffic; empty: every local address but 127/8 (as upstream, no localhost NodePorts). */
  readonly nodeIPs: readonly string[];
}

export interface NftSet {
  readonly kind: "set" | "map";
  /** The declaration body, e.g. `type ipv4_addr . inet_proto . inet_service : verdict`. */
  readonly spec: string;
  /** key → value ("" for sets); undefined: the kernel fills it (affinity sets), we never touch its elements. */
  readonly elements: Map<string, string> | undefined;
}

export interface NftRuleset {
  /** Base chain → its hook declaration. */
  readonly base: Map<string, string>;
  /** Every chain (base ones too) → its rules, in order. */
  readonly chains: Map<string, string[]>;
  readonly sets: Map<string, NftSet>;
}

// Chains hooked to netfilter, at upstream's priorities: filtering before DNAT sees service
// addresses; DNAT at dstnat; masquerade at srcnat.
const BASE_CHAINS: readonly [string, string][] = [
  ["filter-input", "type filter hook input priority -110"],
  ["filter-forward", "type filter hook forward priority -110"],
  ["filter-output", "type filter hook output priority -110"],
  ["nat-prerouting", "type nat hook prerouting priority -100"],
  ["nat-output", "type nat hook output priority -100"],
  ["nat-postrouting", "type nat hook postrouting priority 100"],
];

export const SERVICE_IPS = "service-ips";
export const SERVICE_NODEPORTS = "service-nodeports";
export const NO_ENDPOINT_SERVICES = "no-endpoint-services";
export const NO_ENDPOINT_NODEPORTS = "no-endpoint-nodeports";
export const NODEPORT_IPS = "nodeport-ips";
const SERVICES = "services";
const ENDPOINTS_CHECK = "endpoints-check";
const REJECT = "reject-chain";
const MARK_MASQ = "mark-for-masquerade";
const MASQUERADING = "masquerading";

const IP_PORT_MAP = "type ipv4_addr . inet_proto . inet_service : verdict";
const PORT_MAP = "type inet_proto . inet_service : verdict";

interface Sink {
  chain(name: string): void;
  add(chain: string, rule: string): void;
  element(map: string, spec: string, key: string, value: string): void;
  set(name: string, set: NftSet): void;
}

class Builder implements Sink {
  readonly rs: NftRuleset = { base: new Map(), chains: new Map(), sets: new Map() };

  chain(name: string): string[] {
    let rules = this.rs.chains.get(name);
    if (!rules) this.rs.chains.set(name, (rules = []));
    return rules;
  }

  add(chain: string, rule: string): void {
    this.chain(chain).push(rule);
  }

  map(name: string, spec: string): Map<string, string> {
    const s = this.rs.sets.get(name);
    if (s?.elements) return s.elements;
    const elements = new Map<string, string>();
    this.rs.sets.set(name, { kind: "map", spec, elements });
    return elements;
  }

  element(map: string, spec: string, key: string, value: string): void {
    this.map(map, spec).set(key, value);
  }

  set(name: string, set: NftSet): void {
    this.rs.sets.set(name, set);
  }
}

/** The rules of one service port: its chains, its elements in the shared maps, its affinity sets. */
export interface NftFragment {
  readonly chains: readonly (readonly [string, string[]])[];
  readonly elements: readonly (readonly [string, string, string, string])[];
  readonly sets: readonly (readonly [string, NftSet])[];
}

class FragmentBuilder implements Sink {
  private readonly chains = new Map<string, string[]>();
  private readonly elements: [string, string, string, string][] = [];
  private readonly sets: [string, NftSet][] = [];

  chain(name: string): void {
    if (!this.chains.has(name)) this.chains.set(name, []);
  }

  add(chain: string, rule: string): void {
    this.chain(chain);
    this.chains.get(chain)!.push(rule);
  }

  element(map: string, spec: string, key: string, value: string): void {
    this.elements.push([map, spec, key, value]);
  }

  set(name: string, set: NftSet): void {
    this.sets.push([name, set]);
  }

  fragment(): NftFragment {
    return { chains: [...this.chains], elements: this.elements, sets: this.sets };
  }
}

export function nftRuleset(ports: readonly ServicePortInfo[], cfg: NftConfig, memo = new FragmentMemo<NftFragment>()): NftRuleset {
  const b = new Builder();
  for (const [name, hook] of BASE_CHAINS) {
    b.rs.base.set(name, hook);
    b.chain(name);
  }
  for (const c of [ENDPOINTS_CHECK, REJECT, SERVICES, MARK_MASQ, MASQUERADING]) b.chain(c);
  // reject is only allowed on the input, forward and output paths (before kernel 5.9 not in prerouting).
  for (const c of ["filter-input", "filter-forward", "filter-output"]) b.add(c, `ct state new jump ${ENDPOINTS_CHECK}`);
  b.add("nat-prerouting", `jump ${SERVICES}`);
  b.add("nat-output", `jump ${SERVICES}`);
  b.add("nat-postrouting", `jump ${MASQUERADING}`);
  const mark = cfg.masqueradeMark;
  b.add(MARK_MASQ, `mark set mark or ${mark}`);
  b.add(MASQUERADING, `mark and ${mark} == 0 return`);
  b.add(MASQUERADING, `mark set mark xor ${mark}`);
  b.add(MASQUERADING, "masquerade fully-random");
  b.add(REJECT, "reject");

  b.map(SERVICE_IPS, IP_PORT_MAP);
  b.map(SERVICE_NODEPORTS, PORT_MAP);
  b.map(NO_ENDPOINT_SERVICES, IP_PORT_MAP);
  b.map(NO_ENDPOINT_NODEPORTS, PORT_MAP);
  let nodePortDst: string;
  if (cfg.nodeIPs.length === 0) {
    nodePortDst = "fib daddr type local ip daddr != 127.0.0.0/8";
  } else {
    b.rs.sets.set(NODEPORT_IPS, { kind: "set", spec: "type ipv4_addr", elements: new Map(cfg.nodeIPs.map((ip) => [ip, ""])) });
    nodePortDst = `ip daddr @${NODEPORT_IPS}`;
  }
  b.add(ENDPOINTS_CHECK, `ip daddr . meta l4proto . th dport vmap @${NO_ENDPOINT_SERVICES}`);
  b.add(ENDPOINTS_CHECK, `${nodePortDst} meta l4proto . th dport vmap @${NO_ENDPOINT_NODEPORTS}`);
  b.add(SERVICES, `ip daddr . meta l4proto . th dport vmap @${SERVICE_IPS}`);
  b.add(SERVICES, `${nodePortDst} meta l4proto . th dport vmap @${SERVICE_NODEPORTS}`);

  const fragments = memo.fragments(ports, (sp) => {
    const fb = new FragmentBuilder();
    writeServicePort(fb, sp, cfg);
    return fb.fragment();
  });
  for (const f of fragments) {
    for (const [name, rules] of f.chains) b.rs.chains.set(name, rules);
    for (const [map, spec, k, v] of f.elements) b.element(map, spec, k, v);
    for (const [name, set] of f.sets) b.set(name, set);
  }
  return b.rs;
}

function writeServicePort(b: Sink, sp: ServicePortInfo, cfg: NftConfig): void {
  const n = cfg.names;
  const proto = sp.protocol.toLowerCase();
  const { cat, usesCluster, usesLocal, internalLocal, hasInternal, externalLocal, hasExternal, usesExt } = chainPlan(sp);
  const clusterChain = n.service(sp);
  const localChain = n.local(sp);
  const extChain = n.external(sp);
  const internalChain = internalLocal ? localChain : clusterChain;
  const externalChain = externalLocal ? localChain : clusterChain;
  const noEndpointVerdict = cat.hasAny ? "drop" : `goto ${REJECT}`;

  for (const ep of cat.reachable) b.chain(n.endpoint(sp, ep));
  if (usesCluster) b.chain(clusterChain);
  if (usesLocal) b.chain(localChain);
  if (usesExt) b.chain(extChain);

  const key = `${sp.clusterIP} . ${proto} . ${sp.port}`;
  if (hasInternal) b.element(SERVICE_IPS, IP_PORT_MAP, key, `goto ${internalChain}`);
  else b.element(NO_ENDPOINT_SERVICES, IP_PORT_MAP, key, noEndpointVerdict);

  for (const [ip] of externalAddresses(sp)) {
    const k = `${ip} . ${proto} . ${sp.port}`;
    if (cat.hasAny) b.element(SERVICE_IPS, IP_PORT_MAP, k, `goto ${extChain}`);
    if (!hasExternal) b.element(NO_ENDPOINT_SERVICES, IP_PORT_MAP, k, noEndpointVerdict);
  }
  if (sp.nodePort !== 0) {
    const k = `${proto} . ${sp.nodePort}`;
    if (cat.hasAny) b.element(SERVICE_NODEPORTS, PORT_MAP, k, `goto ${extChain}`);
    if (!hasExternal) b.element(NO_ENDPOINT_NODEPORTS, PORT_MAP, k, noEndpointVerdict);
  }

  // Off-cluster clients of a cluster IP are masqueraded so replies come back through this node.
  if (hasInternal && cfg.clusterCIDR) {
    b.add(internalChain, `ip daddr ${sp.clusterIP} ${proto} dport ${sp.port} ip saddr != ${cfg.clusterCIDR} jump ${MARK_MASQ}`);
  }

  if (usesExt) {
    if (!sp.externalPolicyLocal) {
      b.add(extChain, `jump ${MARK_MASQ}`);
    } else {
      // Local policy keeps the client's address; pods and the node itself still reach every endpoint.
      if (cfg.clusterCIDR) b.add(extChain, `ip saddr ${cfg.clusterCIDR} goto ${clusterChain}`);
      b.add(extChain, `fib saddr type local jump ${MARK_MASQ}`);
      b.add(extChain, `fib saddr type local goto ${clusterChain}`);
    }
    if (hasExternal) b.add(extChain, `goto ${externalChain}`);
  }

  if (sp.affinitySeconds !== undefined) {
    for (const ep of cat.reachable) {
      b.set(n.affinity(sp, ep), { kind: "set", spec: `type ipv4_addr ; flags dynamic,timeout ; timeout ${sp.affinitySeconds}s`, elements: undefined });
    }
  }
  if (usesCluster) writeEndpointJumps(b, sp, clusterChain, cat.cluster, cfg);
  if (usesLocal) writeEndpointJumps(b, sp, localChain, cat.local, cfg);

  for (const ep of cat.reachable) {
    const chain = n.endpoint(sp, ep);
    // Hairpin: a pod that reaches itself through the service would see its own address as source.
    b.add(chain, `ip saddr ${ep.ip} jump ${MARK_MASQ}`);
    if (sp.affinitySeconds !== undefined) b.add(chain, `update @${n.affinity(sp, ep)} { ip saddr }`);
    b.add(chain, `meta l4proto ${proto} dnat to ${endpointString(ep)}`);
  }
}

function writeEndpointJumps(b: Sink, sp: ServicePortInfo, chain: string, eps: readonly EndpointInfo[], cfg: NftConfig): void {
  const n = cfg.names;
  if (sp.affinitySeconds !== undefined) {
    for (const ep of eps) b.add(chain, `ip saddr @${n.affinity(sp, ep)} goto ${n.endpoint(sp, ep)}`);
  }
  const arms = eps.map((ep, i) => `${i} : goto ${n.endpoint(sp, ep)}`).join(", ");
  b.add(chain, `numgen random mod ${eps.length} vmap { ${arms} }`);
}

export function countNftRules(rs: NftRuleset): number {
  let n = 0;
  for (const rules of rs.chains.values()) n += rules.length;
  for (const s of rs.sets.values()) n += s.elements?.size ?? 0;
  return n;
}

/** What the kernel holds after our last successful transaction. */
export interface NftApplied {
  readonly rs: NftRuleset;
  /** Flushed chains no longer wanted → when they were flushed (deleted a second later). */
  readonly stale: Map<string, number>;
}

/** Chains that were flushed this long ago have no references the kernel still counts (kernels before 6.2 lag after a map element is deleted). */
export const STALE_CHAIN_DELAY_MS = 1000;

export interface NftScript {
  readonly text: string;
  readonly rules: number;
  /** Chains left flushed for a later deletion, with the time they became stale. */
  readonly stale: Map<string, number>;
}

/**
 * The `nft -f` transaction from `applied` (undefined: unknown, start from a fresh table) to
 * `desired`. `full` rewrites every chain and map of ours even when unchanged.
 */
export function nftScript(table: string, desired: NftRuleset, applied: NftApplied | undefined, full: boolean, now: number): NftScript {
  const T = `ip ${table}`;
  const out: string[] = [];
  let rules = 0;
  const prev = applied?.rs;
  const stale = new Map(applied?.stale ?? []);

  if (!applied) out.push(`add table ${T}`, `delete table ${T}`);
  if (!applied || full) out.push(`add table ${T}`);

  // 1. Chains and sets that do not exist yet (rules and elements may name them).
  for (const [name, hook] of desired.base) if (!prev?.base.has(name) || full) out.push(`add chain ${T} ${name} { ${hook} ; }`);
  for (const name of desired.chains.keys()) {
    if (desired.base.has(name)) continue;
    if (!prev?.chains.has(name) || full) out.push(`add chain ${T} ${name}`);
  }
  const respec: string[] = [];
  for (const [name, s] of desired.sets) {
    const before = prev?.sets.get(name);
    if (!before || full) {
      if (before && before.spec !== s.spec) respec.push(name);
      else out.push(`add ${s.kind} ${T} ${name} { ${s.spec} ; }`);
    } else if (before.spec !== s.spec) respec.push(name);
  }

  // 2. Empty the chains to rewrite and those no longer wanted.
  const rewrite: string[] = [];
  for (const [name, lines] of desired.chains) {
    const before = prev?.chains.get(name);
    if (!before) {
      rewrite.push(name);
      continue;
    }
    if (full || !sameLines(before, lines) || lines.some((l) => respec.some((r) => l.includes(`@${r} `)))) {
      out.push(`flush chain ${T} ${name}`);
      rewrite.push(name);
    }
  }
  for (const name of prev?.chains.keys() ?? []) {
    if (desired.chains.has(name)) continue;
    out.push(`flush chain ${T} ${name}`);
    stale.set(name, now);
  }
  for (const name of desired.chains.keys()) stale.delete(name);

  // 3. Elements that go (dropping references to stale chains).
  const adds: [string, NftSet, [string, string][]][] = [];
  for (const [name, s] of desired.sets) {
    if (!s.elements || respec.includes(name)) continue;
    const before = prev?.sets.get(name)?.elements;
    if (!before) {
      adds.push([name, s, [...s.elements]]);
      continue;
    }
    if (full) {
      out.push(`flush ${s.kind} ${T} ${name}`);
      adds.push([name, s, [...s.elements]]);
      continue;
    }
    const gone: string[] = [];
    const added: [string, string][] = [];
    for (const [k, v] of before) {
      const now2 = s.elements.get(k);
      if (now2 === undefined || now2 !== v) gone.push(k);
    }
    for (const [k, v] of s.elements) if (before.get(k) !== v) added.push([k, v]);
    for (const chunk of chunks(gone)) out.push(`delete element ${T} ${name} { ${chunk.join(", ")} }`);
    adds.push([name, s, added]);
  }

  // 4. Sets that go, and sets whose declaration changed (an affinity timeout): referencing rules were flushed above.
  for (const [name, s] of prev?.sets ?? []) if (!desired.sets.has(name)) out.push(`delete ${s.kind} ${T} ${name}`);
  for (const name of respec) {
    const s = desired.sets.get(name)!;
    out.push(`delete ${s.kind} ${T} ${name}`, `add ${s.kind} ${T} ${name} { ${s.spec} ; }`);
    if (s.elements) adds.push([name, s, [...s.elements]]);
  }

  // 5. Rules.
  for (const name of rewrite) {
    for (const r of desired.chains.get(name) ?? []) {
      out.push(`add rule ${T} ${name} ${r}`);
      rules++;
    }
  }

  // 6. Elements that come.
  for (const [name, s, els] of adds) {
    for (const chunk of chunks(els)) out.push(`add element ${T} ${name} { ${chunk.map(([k, v]) => (s.kind === "map" ? `${k} : ${v}` : k)).join(", ")} }`);
    rules += els.length;
  }

  // 7. Chains flushed at least a second ago.
  for (const [name, at] of [...stale]) {
    if (now - at < STALE_CHAIN_DELAY_MS) continue;
    out.push(`delete chain ${T} ${name}`);
    stale.delete(name);
  }

  const wrote = out.length > 0;
  return { text: wrote ? out.join("\n") + "\n" : "", rules, stale };
}

function chunks<T>(items: readonly T[], size = 500): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
