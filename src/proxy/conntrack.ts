// UDP has no connection to close: a conntrack entry made while an endpoint served a UDP
// service keeps sending that client's datagrams to the same (maybe gone) endpoint until it
// times out, and one made while the service had no endpoint keeps them going nowhere. After
// each sync, as upstream does (pkg/proxy/conntrack), we delete the entries of UDP service
// ports that lost an endpoint (by the endpoint they were DNATed to) and of those that just got
// their first endpoint. It uses the conntrack tool (Debian `conntrack`); without it, a warning.
import type { Logger } from "../util/log.js";
import type { CommandRunner } from "./exec.js";
import { categorizeEndpoints, type ServicePortInfo } from "./model.js";

interface UdpPort {
  readonly ips: readonly string[];
  readonly nodePort: number;
  readonly endpoints: ReadonlySet<string>;
}

function udpPorts(ports: readonly ServicePortInfo[]): Map<string, UdpPort> {
  const out = new Map<string, UdpPort>();
  for (const sp of ports) {
    if (sp.protocol !== "UDP") continue;
    out.set(`${sp.name}/${sp.port}`, { ips: [sp.clusterIP, ...sp.externalIPs, ...sp.loadBalancerIPs], nodePort: sp.nodePort, endpoints: new Set(categorizeEndpoints(sp).reachable.map((e) => e.ip)) });
  }
  return out;
}

/** The `conntrack -D` argument lists that clear stale UDP flows between two syncs' service ports. */
export function staleUdpFlows(before: readonly ServicePortInfo[], after: readonly ServicePortInfo[]): string[][] {
  const prev = udpPorts(before);
  const next = udpPorts(after);
  const out: string[][] = [];
  const seen = new Set<string>();
  const add = (argv: string[]): void => {
    const k = argv.join(" ");
    if (!seen.has(k)) {
      seen.add(k);
      out.push(argv);
    }
  };
  for (const [key, p] of prev) {
    const n = next.get(key);
    for (const ep of p.endpoints) {
      if (n?.endpoints.has(ep)) continue;
      for (const ip of p.ips) add(["-D", "-p", "udp", "--orig-dst", ip, "--dst-nat", ep]);
      if (p.nodePort !== 0) add(["-D", "-p", "udp", "--dport", String(p.nodePort), "--dst-nat", ep]);
    }
  }
  for (const [key, n] of next) {
    if (n.endpoints.size === 0 || (prev.get(key)?.endpoints.size ?? 0) > 0) continue;
    for (const ip of n.ips) add(["-D", "-p", "udp", "--orig-dst", ip]);
    if (n.nodePort !== 0) add(["-D", "-p", "udp", "--dport", String(n.nodePort)]);
  }
  return out;
}

/** Runs the deletions; "0 flow entries" (exit 1) is not an error, other failures are logged. */
export async function clearFlows(run: CommandRunner, flows: readonly string[][], log: Logger): Promise<void> {
  for (const argv of flows) {
    try {
      await run(["conntrack", ...argv]);
    } catch (err) {
      if (/0 flow entries/.test(String(err))) continue;
      log.warn({ err, args: argv.join(" ") }, "clearing stale UDP conntrack entries failed");
    }
  }
}
