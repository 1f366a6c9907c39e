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
import { DEFAULT_CLUSTER_DOMAIN } from "../api/dns.js";

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
  clusterDomain: DEFAULT_CLUSTER_DOMAIN,
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

/**
 * runDns in the foreground until SIGINT or SIGTERM. As PID 1 of a container Node gets no
 * default signal handling, so these handlers are what makes `kubectl delete pod` stop it
 * promptly. A signal before the caches synced is a clean stop, not a failure.
 */
export async function runDnsUntilSignalled(f: DnsFlags, hooks: RunDnsHooks = {}): Promise<void> {
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await runDns(f, stop.signal, hooks);
  } catch (err) {
    if (err instanceof DnsError && err.code === "Stopped") return;
    throw err;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
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

/** Flags as a command line spells them (commander's camelCase names): strings, absent when not given. */
export interface DnsArgs {
  readonly kubeconfig?: string;
  readonly listen?: readonly string[];
  readonly clusterDomain?: string;
  readonly upstream?: readonly string[];
  readonly resolvConf?: string;
  readonly ttl?: string;
  readonly httpAddress?: string;
  readonly healthPort?: string;
  readonly readyPort?: string;
  readonly metricsPort?: string;
  readonly logLevel?: string;
}

/** Command-line strings → flags: DEFAULT_DNS_FLAGS for what is absent, whole numbers checked. */
export function dnsFlagsFromArgs(a: DnsArgs): DnsFlags {
  const num = (s: string | undefined, dflt: number, flag: string): number => {
    if (s === undefined) return dflt;
    if (!/^\d+$/.test(s.trim())) throw new DnsError("InvalidOptions", `invalid argument ${JSON.stringify(s)} for ${flag}: not a whole number`);
    return Number(s);
  };
  const d = DEFAULT_DNS_FLAGS;
  return {
    ...(a.kubeconfig !== undefined ? { kubeconfig: a.kubeconfig } : {}),
    listen: a.listen?.length ? a.listen : d.listen,
    clusterDomain: a.clusterDomain ?? d.clusterDomain,
    httpAddress: a.httpAddress ?? d.httpAddress,
    healthPort: num(a.healthPort, d.healthPort, "--health-port"),
    readyPort: num(a.readyPort, d.readyPort, "--ready-port"),
    metricsPort: num(a.metricsPort, d.metricsPort, "--metrics-port"),
    upstreams: a.upstream ?? [],
    resolvConf: a.resolvConf ?? d.resolvConf,
    ttl: num(a.ttl, d.ttl, "--ttl"),
    logLevel: a.logLevel ?? d.logLevel,
  };
}

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
  return dnsFlagsFromArgs({
    kubeconfig: v.kubeconfig,
    listen: v.listen,
    clusterDomain: v["cluster-domain"],
    upstream: v.upstream,
    resolvConf: v["resolv-conf"],
    ttl: v.ttl,
    httpAddress: v["http-address"],
    healthPort: v["health-port"],
    readyPort: v["ready-port"],
    metricsPort: v["metrics-port"],
    logLevel: v["log-level"],
  });
}
