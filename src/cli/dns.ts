// `k8ts dns`: the cluster DNS server (what runs in the coredns pods of kube-system, and what a
// developer can run against any cluster). Flag definitions only; the work is in dns-action.ts.
import type { Command } from "commander";
import { DEFAULT_DNS_FLAGS } from "../dns/run.js";
import { runDnsCommand, type DnsCommandFlags } from "./dns-action.js";

const collect = (v: string, prev: string[]): string[] => [...prev, v];

export function registerDnsCommand(program: Command): void {
  const d = DEFAULT_DNS_FLAGS;
  program
    .command("dns")
    .description("run the cluster DNS server: Services and EndpointSlices answered as the Kubernetes DNS spec says, other names forwarded")
    .option("--kubeconfig <file>", "kubeconfig to reach the API server (default: in-cluster config from the ServiceAccount)")
    .option("--listen <ip:port>", `where to answer DNS over UDP and TCP, repeatable (default ${d.listen.join(", ")})`, collect, [])
    .option("--cluster-domain <name>", "the cluster domain", d.clusterDomain)
    .option("--upstream <ip[:port]>", "resolver for names outside the cluster, repeatable (default: nameservers of --resolv-conf)", collect, [])
    .option("--resolv-conf <file>", "where the upstream resolvers are read from", d.resolvConf)
    .option("--ttl <seconds>", "TTL of cluster records", String(d.ttl))
    .option("--http-address <ip>", "address of the health, readiness and metrics ports", d.httpAddress)
    .option("--health-port <port>", "/health for liveness probes; 0 disables", String(d.healthPort))
    .option("--ready-port <port>", "/ready for readiness probes; 0 disables", String(d.readyPort))
    .option("--metrics-port <port>", "/metrics for Prometheus; 0 disables", String(d.metricsPort))
    .option("--log-level <level>", "trace, debug, info, warn, error or silent", d.logLevel)
    .action(async (flags: DnsCommandFlags) => {
      await runDnsCommand(flags);
    });
}
