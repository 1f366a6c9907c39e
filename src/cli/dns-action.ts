// `k8ts dns`: the flags commander parsed → the DNS server in the foreground until SIGINT/SIGTERM.
// The flag definitions are in dns.ts; turning flags into options, and running, live in src/dns
// (shared with the standalone program the DNS image runs).
import { dnsFlagsFromArgs, runDnsUntilSignalled, type DnsArgs } from "../dns/run.js";

/** What commander hands the action: the names and strings of DnsArgs. */
export type DnsCommandFlags = DnsArgs;

export async function runDnsCommand(f: DnsCommandFlags): Promise<void> {
  await runDnsUntilSignalled(dnsFlagsFromArgs(f), {
    onReady: (server) => process.stdout.write(`k8ts dns serving ${server.ports.map((p) => `${p.address}:${p.port}`).join(", ")} (zone ${server.options.clusterDomain}, upstreams ${server.upstreams.map((u) => u.label).join(", ") || "none"})\n`),
  });
}
