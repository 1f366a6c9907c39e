// The iptables ruleset in upstream kube-proxy's shape (pkg/proxy/iptables/proxier.go), as chain
// → rule lines in iptables-restore syntax, and the restore script that moves the kernel from
// what was last written to what is wanted, touching only the chains that differ.
//
//   nat  PREROUTING/OUTPUT → SERVICES: per cluster IP → SVC (or SVL), per external IP → EXT,
//        last rule → NODEPORTS: per node port → EXT
//        SVC/SVL: masquerade off-cluster sources, then per endpoint `statistic` → SEP
//        SEP: hairpin masquerade, DNAT; ClientIP affinity with `-m recent` named after the SEP
//        EXT: masquerade (Cluster policy) or keep the source (Local), → SVC/SVL
//        POSTROUTING → POSTROUTING: MASQUERADE what MARK-MASQ marked
//   filter  FORWARD/OUTPUT → SERVICES: REJECT services without endpoints (DROP: no local ones)
//           INPUT/FORWARD → EXTERNAL-SERVICES: same for node ports and external IPs
//           FORWARD → FORWARD: accept marked and established service traffic
//           INPUT/OUTPUT → FIREWALL: drop martian 127/8 traffic once route_localnet is on
import { FragmentMemo, sameLines } from "../fragments.js";
import { chainPlan, endpointString, externalAddresses, type EndpointInfo, type ServicePortInfo } from "../model.js";
import type { IptablesNames } from "../names.js";

export type Table = "filter" | "nat";
export const TABLES: readonly Table[] = ["filter", "nat"];

export interface IptablesConfig {
  readonly names: IptablesNames;
  /** Pods' CIDR: cluster IP traffic from outside it is masqueraded; pod traffic to external destinations is short-circuited. */
  readonly clusterCIDR: string | undefined;
  /** e.g. "0x4000" */
  readonly masqueradeMark: string;
  /** Addresses that accept NodePort traffic; empty: every local address. */
  readonly nodeIPs: readonly string[];
  /** route_localnet is on: NodePorts answer on 127.0.0.1 and martian 127/8 traffic must be dropped. */
  readonly localhostNodePorts: boolean;
}

/** chain → its rule lines (`-A CHAIN ...`), per table. Every chain listed is one of ours. */
export type IptablesRuleset = Record<Table, Map<string, string[]>>;

/** A rule in a built-in chain that hooks one of our chains in. */
export interface Jump {
  readonly table: Table;
  readonly builtin: string;
  readonly target: string;
  /** The rule after `-A BUILTIN`. */
  readonly spec: string;
}

function q(s: string): string {
  return /[\s"]/.test(s) ? `"${s.replace(/"/g, '\\"')}"` : s;
}

function comment(s: string): string {
  return `-m comment --comment ${q(s)}`;
}

export function iptablesJumps(cfg: IptablesConfig): Jump[] {
  const n = cfg.names;
  const portals = comment("kubernetes service portals");
  const external = comment("kubernetes externally-visible service portals");
  const jumps: Jump[] = [
    { table: "filter", builtin: "INPUT", target: n.externalServices, spec: `-m conntrack --ctstate NEW ${external} -j ${n.externalServices}` },
    { table: "filter", builtin: "FORWARD", target: n.forward, spec: `${comment("kubernetes forwarding rules")} -j ${n.forward}` },
    { table: "filter", builtin: "FORWARD", target: n.services, spec: `-m conntrack --ctstate NEW ${portals} -j ${n.services}` },
    { table: "filter", builtin: "FORWARD", target: n.externalServices, spec: `-m conntrack --ctstate NEW ${external} -j ${n.externalServices}` },
    { table: "filter", builtin: "OUTPUT", target: n.services, spec: `-m conntrack --ctstate NEW ${portals} -j ${n.services}` },
    { table: "nat", builtin: "PREROUTING", target: n.services, spec: `${portals} -j ${n.services}` },
    { table: "nat", builtin: "OUTPUT", target: n.services, spec: `${portals} -j ${n.services}` },
    { table: "nat", builtin: "POSTROUTING", target: n.postrouting, spec: `${comment("kubernetes postrouting rules")} -j ${n.postrouting}` },
  ];
  if (cfg.localhostNodePorts) {
    jumps.push({ table: "filter", builtin: "INPUT", target: n.firewall, spec: `-j ${n.firewall}` });
    jumps.push({ table: "filter", builtin: "OUTPUT", target: n.firewall, spec: `-j ${n.firewall}` });
  }
  return jumps;
}

interface Sink {
  chain(table: Table, name: string): void;
  add(table: Table, chain: string, rule: string): void;
}

class Builder implements Sink {
  readonly rs: IptablesRuleset = { filter: new Map(), nat: new Map() };

  chain(table: Table, name: string): string[] {
    let lines = this.rs[table].get(name);
    if (!lines) this.rs[table].set(name, (lines = []));
    return lines;
  }

  add(table: Table, chain: string, rule: string): void {
    this.chain(table, chain).push(`-A ${chain} ${rule}`);
  }
}

/** The rules of one service port: chains of its own, and its lines in the shared chains (KUBE-SERVICES, ...). */
export interface IptablesFragment {
  readonly own: readonly (readonly [Table, string, string[]])[];
  readonly shared: readonly (readonly [Table, string, string[]])[];
}

class FragmentBuilder implements Sink {
  private readonly own = new Map<string, [Table, string, string[]]>();
  private readonly shared = new Map<string, [Table, string, string[]]>();

  constructor(private readonly isShared: (chain: string) => boolean) {}

  private lines(table: Table, name: string): string[] {
    const m = this.isShared(name) ? this.shared : this.own;
    const key = `${table} ${name}`;
    let e = m.get(key);
    if (!e) m.set(key, (e = [table, name, []]));
    return e[2];
  }

  chain(table: Table, name: string): void {
    this.lines(table, name);
  }

  add(table: Table, chain: string, rule: string): void {
    this.lines(table, chain).push(`-A ${chain} ${rule}`);
  }

  fragment(): IptablesFragment {
    return { own: [...this.own.values()], shared: [...this.shared.values()] };
  }
}

export function iptablesRuleset(ports: readonly ServicePortInfo[], cfg: IptablesConfig, memo = new FragmentMemo<IptablesFragment>()): IptablesRuleset {
  const n = cfg.names;
  const b = new Builder();
  const mark = cfg.masqueradeMark;
  // Fixed chains first, so they exist even when empty.
  for (const c of [n.services, n.externalServices, n.forward]) b.chain("filter", c);
  for (const c of [n.services, n.nodePorts, n.postrouting, n.markMasq]) b.chain("nat", c);

  b.add("nat", n.postrouting, `-m mark ! --mark ${mark}/${mark} -j RETURN`);
  // Clear the mark so a packet that is re-processed (e.g. through a tunnel) is not masqueraded twice.
  b.add("nat", n.postrouting, `-j MARK --xor-mark ${mark}`);
  b.add("nat", n.postrouting, `${comment("kubernetes service traffic requiring SNAT")} -j MASQUERADE --random-fully`);
  b.add("nat", n.markMasq, `-j MARK --or-mark ${mark}`);
  b.add("filter", n.forward, `-m conntrack --ctstate INVALID -j DROP`);
  b.add("filter", n.forward, `${comment("kubernetes forwarding rules")} -m mark --mark ${mark}/${mark} -j ACCEPT`);
  b.add("filter", n.forward, `${comment("kubernetes forwarding conntrack rule")} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
  if (cfg.localhostNodePorts) {
    b.add("filter", n.firewall, `${comment("block incoming localnet connections")} -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP`);
  }

  const shared = new Set(n.fixed());
  const fragments = memo.fragments(ports, (sp) => {
    const fb = new FragmentBuilder((c) => shared.has(c));
    writeServicePort(fb, sp, cfg);
    return fb.fragment();
  });
  for (const f of fragments) {
    for (const [t, name, lines] of f.shared) b.chain(t, name).push(...lines);
    for (const [t, name, lines] of f.own) b.rs[t].set(name, lines);
  }

  const last = comment("kubernetes service nodeports; NOTE: this must be the last rule in this chain");
  if (cfg.nodeIPs.length === 0) {
    b.add("nat", n.services, `${last} -m addrtype --dst-type LOCAL -j ${n.nodePorts}`);
  } else {
    const ips = [...cfg.nodeIPs];
    if (cfg.localhostNodePorts && !ips.includes("127.0.0.1")) ips.push("127.0.0.1");
    for (const ip of ips) b.add("nat", n.services, `${last} -d ${ip} -j ${n.nodePorts}`);
  }
  return b.rs;
}

function writeServicePort(b: Sink, sp: ServicePortInfo, cfg: IptablesConfig): void {
  const n = cfg.names;
  const proto = sp.protocol.toLowerCase();
  const m = `-m ${proto} -p ${proto}`;
  const { cat, usesCluster, usesLocal, internalLocal, hasInternal, externalLocal, hasExternal, usesExt } = chainPlan(sp);
  const svcChain = n.svc(sp);
  const svlChain = n.svl(sp);
  const extChain = n.ext(sp);
  const internalChain = internalLocal ? svlChain : svcChain;
  const externalChain = externalLocal ? svlChain : svcChain;
  const filterTarget = cat.hasAny ? "DROP" : "REJECT";
  const filterComment = cat.hasAny ? `${sp.name} has no local endpoints` : `${sp.name} has no endpoints`;

  // Declare the chains in dependency order (endpoint chains, then policy chains, then EXT).
  for (const ep of cat.reachable) b.chain("nat", n.sep(sp, ep));
  if (usesCluster) b.chain("nat", svcChain);
  if (usesLocal) b.chain("nat", svlChain);
  if (usesExt) b.chain("nat", extChain);

  const dst = `${m} -d ${sp.clusterIP} --dport ${sp.port}`;
  if (hasInternal) b.add("nat", n.services, `${comment(`${sp.name} cluster IP`)} ${dst} -j ${internalChain}`);
  else b.add("filter", n.services, `${comment(filterComment)} ${dst} -j ${filterTarget}`);

  for (const [ip, what] of externalAddresses(sp)) {
    const edst = `${m} -d ${ip} --dport ${sp.port}`;
    if (cat.hasAny) b.add("nat", n.services, `${comment(`${sp.name} ${what}`)} ${edst} -j ${extChain}`);
    if (!hasExternal) b.add("filter", n.externalServices, `${comment(filterComment)} ${edst} -j ${filterTarget}`);
  }

  if (sp.nodePort !== 0) {
    if (cat.hasAny) b.add("nat", n.nodePorts, `${comment(sp.name)} ${m} --dport ${sp.nodePort} -j ${extChain}`);
    if (!hasExternal) b.add("filter", n.externalServices, `${comment(filterComment)} -m addrtype --dst-type LOCAL ${m} --dport ${sp.nodePort} -j ${filterTarget}`);
  }

  // Off-cluster clients of a cluster IP are masqueraded so replies come back through this node
  // (a static route for the service range may point at any node).
  if (hasInternal && cfg.clusterCIDR) {
    b.add("nat", internalChain, `${comment(`${sp.name} cluster IP`)} ${dst} ! -s ${cfg.clusterCIDR} -j ${n.markMasq}`);
  }

  if (usesExt) {
    if (!sp.externalPolicyLocal) {
      // Cluster policy may send the packet to another node: masquerade so the reply returns here.
      b.add("nat", extChain, `${comment(`masquerade traffic for ${sp.name} external destinations`)} -j ${n.markMasq}`);
    } else {
      // Local policy keeps the client's address; pods and the node itself still reach every endpoint.
      if (cfg.clusterCIDR) b.add("nat", extChain, `${comment(`pod traffic for ${sp.name} external destinations`)} -s ${cfg.clusterCIDR} -j ${svcChain}`);
      b.add("nat", extChain, `${comment(`masquerade LOCAL traffic for ${sp.name} external destinations`)} -m addrtype --src-type LOCAL -j ${n.markMasq}`);
      b.add("nat", extChain, `${comment(`route LOCAL traffic for ${sp.name} external destinations`)} -m addrtype --src-type LOCAL -j ${svcChain}`);
    }
    if (hasExternal) b.add("nat", extChain, `-j ${externalChain}`);
  }

  if (usesCluster) writeEndpointJumps(b, sp, svcChain, cat.cluster, cfg);
  if (usesLocal) writeEndpointJumps(b, sp, svlChain, cat.local, cfg);

  for (const ep of cat.reachable) {
    const sep = n.sep(sp, ep);
    // Hairpin: a pod that reaches itself through the service would see its own address as source.
    b.add("nat", sep, `${comment(sp.name)} -s ${ep.ip} -j ${n.markMasq}`);
    const affinity = sp.affinitySeconds !== undefined ? `-m recent --name ${sep} --set ` : "";
    b.add("nat", sep, `${comment(sp.name)} ${affinity}${m} -j DNAT --to-destination ${endpointString(ep)}`);
  }
}

/** Sticky endpoints first, then one rule per endpoint with probability 1/(remaining) so each is equally likely. */
function writeEndpointJumps(b: Sink, sp: ServicePortInfo, chain: string, eps: readonly EndpointInfo[], cfg: IptablesConfig): void {
  const n = cfg.names;
  if (sp.affinitySeconds !== undefined) {
    for (const ep of eps) {
      const sep = n.sep(sp, ep);
      b.add("nat", chain, `${comment(`${sp.name} -> ${endpointString(ep)}`)} -m recent --name ${sep} --rcheck --seconds ${sp.affinitySeconds} --reap -j ${sep}`);
    }
  }
  eps.forEach((ep, i) => {
    const left = eps.length - i;
    const stat = left > 1 ? ` -m statistic --mode random --probability ${(1 / left).toFixed(10)}` : "";
    b.add("nat", chain, `${comment(`${sp.name} -> ${endpointString(ep)}`)}${stat} -j ${n.sep(sp, ep)}`);
  });
}

/** What a restore must change: per table, chains to (re)write, chains to delete, jumps to add or remove. */
export interface RestorePlan {
  readonly write: Record<Table, string[]>;
  readonly remove: Record<Table, string[]>;
  readonly addJumps: readonly Jump[];
  /** Saved rule specs (after `-A BUILTIN `) of jumps to delete, with their table and chain. */
  readonly dropJumps: readonly { readonly table: Table; readonly builtin: string; readonly spec: string }[];
}

export function countRules(rs: IptablesRuleset): number {
  let n = 0;
  for (const t of TABLES) for (const lines of rs[t].values()) n += lines.length;
  return n;
}

/**
 * The chains of `desired` that differ from `applied` (all of them when nothing is known to be
 * applied), and those of `existing` (our chains in the kernel, or in `applied`) not wanted.
 */
export function planRestore(desired: IptablesRuleset, applied: IptablesRuleset | undefined, existing: Record<Table, Iterable<string>>): Pick<RestorePlan, "write" | "remove"> {
  const write: Record<Table, string[]> = { filter: [], nat: [] };
  const remove: Record<Table, string[]> = { filter: [], nat: [] };
  for (const t of TABLES) {
    for (const [chain, lines] of desired[t]) {
      const before = applied?.[t].get(chain);
      if (!before || !sameLines(before, lines)) write[t].push(chain);
    }
    for (const chain of existing[t]) if (!desired[t].has(chain)) remove[t].push(chain);
  }
  return { write, remove };
}

/** The iptables-restore --noflush input for a plan; empty when there is nothing to do. Also counts the rules it writes. */
export function restoreScript(desired: IptablesRuleset, plan: RestorePlan): { text: string; rules: number } {
  const out: string[] = [];
  let rules = 0;
  for (const t of TABLES) {
    const writes = plan.write[t];
    const removes = plan.remove[t];
    const adds = plan.addJumps.filter((j) => j.table === t);
    const drops = plan.dropJumps.filter((j) => j.table === t);
    if (writes.length + removes.length + adds.length + drops.length === 0) continue;
    out.push(`*${t}`);
    // A chain line flushes the chain (or creates it); a chain must be declared before -X.
    for (const c of writes) out.push(`:${c} - [0:0]`);
    for (const c of removes) out.push(`:${c} - [0:0]`);
    for (const j of drops) out.push(`-D ${j.builtin} ${j.spec}`);
    for (const c of writes) {
      const lines = desired[t].get(c) ?? [];
      rules += lines.length;
      for (const l of lines) out.push(l);
    }
    for (const c of removes) out.push(`-X ${c}`);
    for (const j of adds) {
      out.push(`-I ${j.builtin} ${j.spec}`);
      rules++;
    }
    out.push("COMMIT");
  }
  return { text: out.length > 0 ? out.join("\n") + "\n" : "", rules };
}

/** From iptables-save output: the chains of a table, and the rules of built-in chains that jump to one of `ours`. */
export function parseSave(save: string, isOurs: (chain: string) => boolean): Record<Table, { chains: string[]; jumps: { builtin: string; target: string; spec: string }[] }> {
  const out: Record<Table, { chains: string[]; jumps: { builtin: string; target: string; spec: string }[] }> = {
    filter: { chains: [], jumps: [] },
    nat: { chains: [], jumps: [] },
  };
  let table: Table | undefined;
  for (const raw of save.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("*")) {
      const t = line.slice(1);
      table = t === "filter" || t === "nat" ? t : undefined;
      continue;
    }
    if (!table) continue;
    if (line.startsWith(":")) {
      const chain = line.slice(1).split(" ")[0] ?? "";
      if (isOurs(chain)) out[table].chains.push(chain);
    } else if (line.startsWith("-A ")) {
      const rest = line.slice(3);
      const sp = rest.indexOf(" ");
      const chain = rest.slice(0, sp);
      if (isOurs(chain)) continue;
      const target = / -j (\S+)/.exec(rest)?.[1];
      if (target && isOurs(target)) out[table].jumps.push({ builtin: chain, target, spec: rest.slice(sp + 1) });
    }
  }
  return out;
}
