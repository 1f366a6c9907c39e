// `k8ts proxy`: flags in, Proxier options out, the Proxier in the foreground until
// SIGINT/SIGTERM (or an abort signal, for tests); `--cleanup` removes the rules and returns.
// The flag definitions are in proxy.ts.
import { hostname } from "node:os";
import { resolve } from "node:path";
import type { Level } from "pino";
import { parseGoDuration } from "../api/cron.js";
import { createClientFromKubeconfig } from "../client/rest.js";
import { cleanupProxyRules, Proxier, ProxyError, type ProxierOptions, type ProxyMode } from "../proxy/index.js";
import { createLogger, type Logger } from "../util/log.js";

export interface ProxyFlags {
  readonly kubeconfig?: string;
  readonly nodeName?: string;
  readonly proxyMode: string;
  readonly clusterCidr: string;
  readonly nodeIp: string;
  readonly syncPeriod: string;
  readonly minSyncPeriod: string;
  readonly masqueradeBit: string;
  readonly cleanup?: boolean;
  readonly chainPrefix?: string;
  readonly netns?: string;
  readonly logLevel: string;
}

function bad(msg: string): never {
  throw new ProxyError("InvalidOptions", msg);
}

function duration(v: string, flag: string): number {
  try {
    return parseGoDuration(v);
  } catch (err) {
    return bad(`invalid argument ${JSON.stringify(v)} for ${flag}: ${(err as Error).message}`);
  }
}

function mode(v: string): ProxyMode {
  if (v === "iptables" || v === "nftables") return v;
  return bad(`invalid argument ${JSON.stringify(v)} for --proxy-mode: want iptables or nftables`);
}

/** The node name kube-proxy uses by default: the host name, lower-cased (upstream's --hostname-override default). */
export function defaultNodeName(): string {
  return hostname().toLowerCase();
}

/**
 * Flags → the Proxier's options; throws ProxyError on a malformed flag, and the Proxier's
 * constructor on a bad value. Not compiled here: the Proxier compiles what it is given, and
 * compiled options compiled again lose the masquerade bit (it becomes masqueradeMark).
 */
export async function proxyOptionsFromFlags(f: ProxyFlags, log: Logger): Promise<ProxierOptions> {
  if (!f.kubeconfig) bad("--kubeconfig is required");
  const bit = Number(f.masqueradeBit);
  if (!/^\d+$/.test(f.masqueradeBit)) bad(`invalid argument ${JSON.stringify(f.masqueradeBit)} for --masquerade-bit`);
  const opts = {
    nodeName: f.nodeName || defaultNodeName(),
    mode: mode(f.proxyMode),
    nodeIPs: f.nodeIp
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== ""),
    ...(f.clusterCidr !== "" ? { clusterCIDR: f.clusterCidr } : {}),
    syncPeriodMs: duration(f.syncPeriod, "--sync-period"),
    minSyncPeriodMs: duration(f.minSyncPeriod, "--min-sync-period"),
    masqueradeBit: bit,
    ...(f.chainPrefix ? { chainPrefix: f.chainPrefix } : {}),
    ...(f.netns ? { netns: f.netns } : {}),
    log,
  };
  const client = await createClientFromKubeconfig(resolve(f.kubeconfig), { component: "proxy" });
  return { ...opts, client };
}

/** Runs until SIGINT/SIGTERM or `signal` aborts. `out` receives the one ready line. */
export async function runProxy(f: ProxyFlags, o: { readonly signal?: AbortSignal; readonly out?: (line: string) => void } = {}): Promise<void> {
  const out = o.out ?? ((line: string) => void process.stdout.write(line + "\n"));
  const log = createLogger(f.logLevel as Level);
  if (f.cleanup) {
    await cleanupProxyRules({ ...(f.chainPrefix ? { chainPrefix: f.chainPrefix } : {}), ...(f.netns ? { netns: f.netns } : {}) });
    out("k8ts proxy: rules removed");
    return;
  }
  const proxier = new Proxier(await proxyOptionsFromFlags(f, log));
  await proxier.start();
  const s = proxier.lastSync;
  out(`k8ts proxy started (${proxier.options.mode} mode, node ${proxier.options.nodeName}; ${s?.services ?? 0} service ports, ${s?.totalRules ?? 0} rules in ${s?.durationMs ?? 0} ms)`);
  await new Promise<void>((done) => {
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      o.signal?.removeEventListener("abort", stop);
      proxier.stop().then(done, (err: unknown) => {
        log.error({ err }, "stopping failed");
        done();
      });
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    if (o.signal?.aborted) stop();
    else o.signal?.addEventListener("abort", stop, { once: true });
  });
}
