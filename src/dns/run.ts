// Running the DNS server as a program: flags (from `k8ts dns` or the standalone bundle's argv)
// → compiled options → the server until the signal aborts. In a pod (no --kubeconfig) it
// talks to the API server through the `kubernetes` Service with its ServiceAccount token.
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Level } from "pino";
import { createClientFromKubeconfig, createInClusterClient, type RestClient } from "../client/rest.js";
import { createLogger, type Logger } from "../util/log.js";
import { VERSION } from "../util/version.js";
import { DnsError } from "./errors.js";
import { DnsServer, type DnsServerOptions, type ListenAddress } from "./server.js";

export interface DnsFlags {
  /** absent: in-cluster configuration */
  readonly kubeconfig?: string;
  /** `ip:port`, `[ip6]:port` or `:port` (all IPv4 addresses) */
  readonly listen: readonly string[];
  readonly clusterDomain: string;
  /** the address the HTTP ports below are served on */
  readonly httpAddress: string;
  /** /health (and the rest) — 0 turns a port off */
  readonly healthPort: number;
  readonly readyPort: number;
  readonly metricsPort: number;
  /** empty: the nameservers of `resolvConf` */
  readonly upstreams: readonly string[];
  readonly resolvConf: string;
  readonly ttl: number;
  readonly logLevel: string;
}

export const DEFAULT_DNS_FLAGS: DnsFlags = {
  listen: ["0.0.0.0:53"],
  clusterDomain: "cluster.local",
  httpAddress: "0.0.0.0",
  healthPort: 8080,
  readyPort: 8181,
  metricsPort: 9153,
  upstreams: [],
  resolvConf: "/etc/resolv.conf",
  ttl: 5,
  logLevel: "info",
};

export function parseListenAddress(spec: string): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/.exec(spec.trim());
  if (!m) throw new DnsError("InvalidOptions", `listen address ${JSON.stringify(spec)} is not ip:port`);
  const address = m[1] ?? (m[2] || "0.0.0.0");
  return { address, port: Number(m[3]) };
}

function port(n: number, flag: string): number {
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new DnsError("InvalidOptions", `${flag} must be a port number (0 turns it off), got ${n}`);
  return n;
}

/** Flags → the server's options, except the client and logger the caller makes. */
export function dnsOptionsFromFlags(f: DnsFlags): Omit<DnsServerOptions, "client" | "log"> {
  const http = [port(f.healthPort, "--health-port"), port(f.readyPort, "--ready-port"), port(f.metricsPort, "--metrics-port")]
    .filter((p, i, all) => p !== 0 && all.indexOf(p) === i)
    .map((p) => ({ address: f.httpAddress, port: p }));
  if (!Number.isInteger(f.ttl)) throw new DnsError("InvalidOptions", `--ttl must be whole seconds, got ${f.ttl}`);
  return {
    listen: f.listen.map(parseListenAddress),
    clusterDomain: f.clusterDomain,
    http,
    ttl: f.ttl,
    resolvConf: f.resolvConf,
    ...(f.upstreams.length ? { upstreams: f.upstreams } : {}),
  };
}

export interface RunDnsHooks {
  readonly log?: Logger;
  /** called once the server answers */
  readonly onReady?: (server: DnsServer) => void;
}

/** Runs the server until `signal` aborts; rejects when it cannot start. */
export async function runDns(f: DnsFlags, signal: AbortSignal, hooks: RunDnsHooks = {}): Promise<void> {
  const log = hooks.log ?? createLogger(f.logLevel as Level, "k8ts-dns");
  const options = dnsOptionsFromFlags(f);
  const clientOptions = { component: "dns", qps: 20, burst: 40 };
  const client: RestClient = f.kubeconfig ? await createClientFromKubeconfig(resolve(f.kubeconfig), clientOptions) : await createInClusterClient(clientOptions);
  const server = new DnsServer({ ...options, client, log });
  try {
    await server.start(signal);
    hooks.onReady?.(server);
    if (!signal.aborted) await new Promise<void>((done) => signal.addEventListener("abort", () => done(), { once: true }));
  } finally {
    await server.stop();
    client.close();
  }
}

export const DNS_USAGE = `Usage: k8ts-dns [options]

The k8ts cluster DNS server: Services and EndpointSlices from the API server answered as the
Kubernetes DNS specification says, other names forwarded to the upstream resolvers.

Options:
  --kubeconfig <file>       kubeconfig to reach the API server (default: in-cluster config:
                            KUBERNETES_SERVICE_HOST/PORT and the ServiceAccount token)
  --listen <ip:port>        where to answer DNS over UDP and TCP, repeatable (default 0.0.0.0:53)
  --cluster-domain <name>   the cluster domain (default cluster.local)
  --upstream <ip[:port]>    resolver for other names, repeatable (default: nameservers of --resolv-conf)
  --resolv-conf <file>      where upstream resolvers are read from (default /etc/resolv.conf)
  --ttl <seconds>           TTL of cluster records (default 5)
  --http-address <ip>       address of the HTTP ports (default 0.0.0.0)
  --health-port <port>      /health (liveness); 0: off (default 8080)
  --ready-port <port>       /ready (readiness); 0: off (default 8181)
  --metrics-port <port>     /metrics (Prometheus); 0: off (default 9153)
  --log-level <level>       trace, debug, info, warn, error or silent (default info)
  --version                 print the version
  -h, --help                print this help
`;

/** The standalone program's argv (after `node script`) → flags; undefined for --help/--version (already printed). */
export function parseDnsArgv(argv: readonly string[], out: (s: string) => void): DnsFlags | undefined {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        kubeconfig: { type: "string" },
        listen: { type: "string", multiple: true },
        "cluster-domain": { type: "string" },
        upstream: { type: "string", multiple: true },
        "resolv-conf": { type: "string" },
        ttl: { type: "string" },
        "http-address": { type: "string" },
        "health-port": { type: "string" },
        "ready-port": { type: "string" },
        "metrics-port": { type: "string" },
        "log-level": { type: "string" },
        version: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    throw new DnsError("InvalidOptions", (err as Error).message, { cause: err });
  }
  const v = parsed.values;
  if (v.help) {
    out(DNS_USAGE);
    return undefined;
  }
  if (v.version) {
    out(`k8ts-dns ${VERSION.gitVersion}\n`);
    return undefined;
  }
  const num = (s: string | undefined, dflt: number, flag: string): number => {
    if (s === undefined) return dflt;
    if (!/^\d+$/.test(s)) throw new DnsError("InvalidOptions", `${flag}: ${JSON.stringify(s)} is not a number`);
    return Number(s);
  };
  const d = DEFAULT_DNS_FLAGS;
  return {
    ...(v.kubeconfig !== undefined ? { kubeconfig: v.kubeconfig } : {}),
    listen: v.listen?.length ? v.listen : d.listen,
    clusterDomain: v["cluster-domain"] ?? d.clusterDomain,
    httpAddress: v["http-address"] ?? d.httpAddress,
    healthPort: num(v["health-port"], d.healthPort, "--health-port"),
    readyPort: num(v["ready-port"], d.readyPort, "--ready-port"),
    metricsPort: num(v["metrics-port"], d.metricsPort, "--metrics-port"),
    upstreams: v.upstream ?? [],
    resolvConf: v["resolv-conf"] ?? d.resolvConf,
    ttl: num(v.ttl, d.ttl, "--ttl"),
    logLevel: v["log-level"] ?? d.logLevel,
  };
}
