// `k8ts dns`: the flags commander parsed → the DNS server in the foreground until SIGINT/SIGTERM.
// The flag definitions are in dns.ts; the server and its flag handling live in src/dns.
import { DEFAULT_DNS_FLAGS, runDns, type DnsFlags } from "../dns/run.js";
import { DnsError } from "../dns/errors.js";

export interface DnsCommandFlags {
  readonly kubeconfig?: string;
  readonly listen: string[];
  readonly clusterDomain: string;
  readonly upstream: string[];
  readonly resolvConf: string;
  readonly ttl: string;
  readonly httpAddress: string;
  readonly healthPort: string;
  readonly readyPort: string;
  readonly metricsPort: string;
  readonly logLevel: string;
}

function int(v: string, flag: string): number {
  if (!/^\d+$/.test(v.trim())) throw new DnsError("InvalidOptions", `invalid argument ${JSON.stringify(v)} for ${flag}: not a whole number`);
  return Number(v);
}

export function dnsFlagsFromCommand(f: DnsCommandFlags): DnsFlags {
  return {
    ...(f.kubeconfig !== undefined ? { kubeconfig: f.kubeconfig } : {}),
    listen: f.listen.length ? f.listen : DEFAULT_DNS_FLAGS.listen,
    clusterDomain: f.clusterDomain,
    upstreams: f.upstream,
    resolvConf: f.resolvConf,
    ttl: int(f.ttl, "--ttl"),
    httpAddress: f.httpAddress,
    healthPort: int(f.healthPort, "--health-port"),
    readyPort: int(f.readyPort, "--ready-port"),
    metricsPort: int(f.metricsPort, "--metrics-port"),
    logLevel: f.logLevel,
  };
}

export async function runDnsCommand(f: DnsCommandFlags): Promise<void> {
  const flags = dnsFlagsFromCommand(f);
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await runDns(flags, stop.signal, {
      onReady: (server) => process.stdout.write(`k8ts dns serving ${server.ports.map((p) => `${p.address}:${p.port}`).join(", ")} (zone ${server.options.clusterDomain}, upstreams ${server.upstreams.map((u) => u.label).join(", ") || "none"})\n`),
    });
  } catch (err) {
    if (err instanceof DnsError && err.code === "Stopped") return;
    throw err;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
