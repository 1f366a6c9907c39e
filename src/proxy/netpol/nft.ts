// A node's network policy filters as one nftables table (family ip), written whole in one
// atomic `nft -f` transaction:
//
//   forward (hook forward) and input (hook input), policy accept:
//     ct state established,related accept      replies of allowed connections
//     ip saddr vmap @egress                    a local pod isolated for egress → its egress chain
//     ip daddr vmap @ingress                   (forward only) a local pod isolated for ingress → its ingress chain
//   ingress-N: a rule per match → accept; then drop
//   egress-N:  a rule per match → return (the destination's ingress is still checked); then drop
//
// The input hook sees what a pod sends to the node itself (a NodePort on the node's address,
// the API server behind its service IP), so an egress policy covers that too; what the node
// sends to its pods (the kubelet's probes) leaves through output and is never filtered.
// Chains with the same matches and address sets with the same members are written once.
import type { AddressRange, Endpoint, Match, NodeFilters, PodFilter, PortMatch, Protocol } from "./model.js";
import { numberToIP } from "./model.js";

/** nftables accepts comments of at most 128 bytes. */
function comment(text: string): string {
  const clean = text.replace(/["\\\n]/g, "");
  return `comment "${clean.length > 120 ? `${clean.slice(0, 117)}...` : clean}"`;
}

function rangeText(r: AddressRange): string {
  return r.first === r.last ? numberToIP(r.first) : `${numberToIP(r.first)}-${numberToIP(r.last)}`;
}

function portText(p: PortMatch): string {
  return p.first === p.last ? String(p.first) : `${p.first}-${p.last}`;
}

const PROTOCOLS: readonly Protocol[] = ["TCP", "UDP", "SCTP"];

/** The `meta l4proto … th dport …` parts of a match's ports, one per protocol. */
function portClauses(ports: readonly PortMatch[]): string[] {
  const out: string[] = [];
  for (const protocol of PROTOCOLS) {
    const mine = ports.filter((p) => p.protocol === protocol);
    if (mine.length === 0) continue;
    const proto = `meta l4proto ${protocol.toLowerCase()}`;
    if (mine.some((p) => p.first === undefined)) out.push(proto);
    else {
      const list = mine.map(portText);
      out.push(`${proto} th dport ${list.length === 1 ? list[0] : `{ ${list.join(", ")} }`}`);
    }
  }
  return out;
}

export interface RenderResult {
  readonly script: string;
  /** Rules, set and map elements written: what the sync reports. */
  readonly rules: number;
}

/**
 * The nft script that replaces table `table` with `filters`. Creating the table first makes
 * the delete valid when it does not exist yet; all three run in one transaction.
 */
export function renderTable(table: string, filters: NodeFilters): RenderResult {
  const sets: string[] = [];
  const setNames = new Map<string, string>();
  const chains: string[] = [];
  const chainNames = new Map<string, string>();
  let rules = 0;

  // The model hands every pod the same array for the same rule's peers: its set is found by identity first.
  const setOf = new Map<readonly AddressRange[], string>();
  const peerSet = (ranges: readonly AddressRange[]): string => {
    const known = setOf.get(ranges);
    if (known) return known;
    const elements = ranges.map(rangeText).join(", ");
    let name = setNames.get(`p:${elements}`);
    if (!name) {
      name = `peers-${setNames.size}`;
      setNames.set(`p:${elements}`, name);
      sets.push(`  set ${name} {\n    type ipv4_addr\n    flags interval\n    elements = { ${elements} }\n  }`);
      rules += ranges.length;
    }
    setOf.set(ranges, `@${name}`);
    return `@${name}`;
  };
  const endpointSet = (endpoints: readonly Endpoint[]): string => {
    const elements = endpoints.map((e) => `${e.ip} . ${e.protocol.toLowerCase()} . ${e.port}`).join(", ");
    let name = setNames.get(`e:${elements}`);
    if (!name) {
      name = `endpoints-${setNames.size}`;
      setNames.set(`e:${elements}`, name);
      sets.push(`  set ${name} {\n    type ipv4_addr . inet_proto . inet_service\n    elements = { ${elements} }\n  }`);
      rules += endpoints.length;
    }
    return `@${name}`;
  };

  const matchRules = (m: Match, dir: "ingress" | "egress"): string[] => {
    const verdict = dir === "ingress" ? "accept" : "return";
    const tail = `${verdict} ${comment(m.source)}`;
    if (m.endpoints) return [`ip daddr . meta l4proto . th dport ${endpointSet(m.endpoints)} ${tail}`];
    const peer = m.peers ? `ip ${dir === "ingress" ? "saddr" : "daddr"} ${peerSet(m.peers)} ` : "";
    if (!m.ports) return [`${peer}${tail}`];
    return portClauses(m.ports).map((p) => `${peer}${p} ${tail}`);
  };

  const chainFor = (f: PodFilter, dir: "ingress" | "egress"): string => {
    const body = [...f.matches.flatMap((m) => matchRules(m, dir)), "drop"];
    const key = `${dir}:${body.join("\n")}`;
    let name = chainNames.get(key);
    if (!name) {
      name = `${dir}-${chainNames.size}`;
      chainNames.set(key, name);
      chains.push(`  chain ${name} {\n${body.map((r) => `    ${r}\n`).join("")}  }`);
      rules += body.length;
    }
    return name;
  };

  const map = (name: string, filters: readonly PodFilter[], dir: "ingress" | "egress"): string => {
    const elements = filters.map((f) => `${f.ip} : jump ${chainFor(f, dir)}`);
    rules += elements.length;
    return `  map ${name} {\n    type ipv4_addr : verdict\n${elements.length > 0 ? `    elements = { ${elements.join(", ")} }\n` : ""}  }`;
  };
  // Chains and sets come into being while the maps are rendered; they are written first.
  const maps = [map("ingress", filters.ingress, "ingress"), map("egress", filters.egress, "egress")];
  const base = [
    "  chain forward {\n    type filter hook forward priority filter; policy accept;\n    ct state established,related accept\n    ip saddr vmap @egress\n    ip daddr vmap @ingress\n  }",
    "  chain input {\n    type filter hook input priority filter; policy accept;\n    ct state established,related accept\n    ip saddr vmap @egress\n  }",
  ];
  rules += 5;
  const body = [...sets, ...maps, ...chains, ...base].join("\n");
  return { script: `table ip ${table} { }\ndelete table ip ${table}\ntable ip ${table} {\n${body}\n}\n`, rules };
}
