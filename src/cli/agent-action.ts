// `k8ts agent`: flags in, the agent in the foreground until SIGINT/SIGTERM.
import { resolve } from "node:path";
import type { Level } from "pino";
import type { Taint } from "kubernetes-types/core/v1.js";
import { Agent, AgentError, defaultNodeName, type AgentOptions } from "../kubelet/agent.js";
import { joinWithToken } from "../kubelet/bootstrap/index.js";
import { createClientFromKubeconfig, type RestClient } from "../client/rest.js";
import { NetworkPolicyController, netpolTableFor, nftTableFor, Proxier, type ProxyMode } from "../proxy/index.js";
import { createLogger, type Logger } from "../util/log.js";
import { KUBELET_LABEL_NAMESPACES, KUBELET_LABELS, unknownKubeletLabels } from "../api/nodelabels.js";

/** The node flags, as commander hands them over (see addNodeFlags). */
export interface NodeFlags {
  readonly nodeName?: string;
  readonly nodeIp?: string;
  readonly containerRuntimeEndpoint?: string;
  readonly podManifestPath?: string;
  readonly manifestUrl?: string;
  readonly kubeletPort: string;
  readonly clusterDns?: readonly string[];
  readonly clusterDomain: string;
  readonly nodeLabel?: readonly string[];
  readonly nodeTaint?: readonly string[];
  readonly cniBridge: string;
  readonly cniNetworkName: string;
  readonly cgroupRoot: string;
  readonly proxyMode: string;
  readonly disableKubeProxy?: boolean;
  readonly disableNetworkPolicy?: boolean;
  readonly disableLocalStorage?: boolean;
  readonly proxyChainPrefix?: string;
}

export interface AgentFlags extends NodeFlags {
  readonly kubeconfig?: string;
  readonly server?: string;
  readonly token?: string;
  readonly discoveryTokenCaCertHash?: readonly string[];
  readonly discoveryTokenUnsafeSkipCaVerification?: boolean;
  readonly clusterCidr: string;
  readonly dataDir: string;
  readonly logLevel: string;
}

function parseLabels(items: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new AgentError("BadOption", `invalid --node-label ${JSON.stringify(item)}: want key=value`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  // As upstream's kubelet: the labels a node may not give itself are refused before it starts (NodeRestriction would refuse the registration).
  const unknown = unknownKubeletLabels(Object.keys(out));
  if (unknown.length > 0) {
    throw new AgentError(
      "BadOption",
      `unknown 'kubernetes.io' or 'k8s.io' labels specified with --node-label: [${unknown.join(" ")}]\n--node-label in the 'kubernetes.io' namespace must begin with an allowed prefix (${KUBELET_LABEL_NAMESPACES.join(", ")}) or be in the specifically allowed set (${KUBELET_LABELS.join(", ")})`,
    );
  }
  return out;
}

function parseTaints(items: readonly string[] = []): Taint[] {
  return items.map((item) => {
    const m = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(item);
    if (!m) throw new AgentError("BadOption", `invalid --node-taint ${JSON.stringify(item)}: want key[=value]:NoSchedule|PreferNoSchedule|NoExecute`);
    return { key: m[1]!, ...(m[2] ? { value: m[2] } : {}), effect: m[3]! };
  });
}

/** Node flags → agent options (throws AgentError on bad values). */
export function agentOptionsFromFlags(f: NodeFlags, base: { kubeconfig: string; dataDir: string; log: Logger; clusterCIDR: string; clusterDNS?: readonly string[]; caKeyDir?: string; labels?: Record<string, string> }): AgentOptions {
  const port = Number(f.kubeletPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new AgentError("BadOption", `invalid --kubelet-port ${JSON.stringify(f.kubeletPort)}`);
  const clusterDNS = f.clusterDns?.length ? f.clusterDns : base.clusterDNS;
  return {
    kubeconfig: base.kubeconfig,
    dataDir: base.dataDir,
    log: base.log,
    kubeletPort: port,
    clusterDomain: f.clusterDomain,
    clusterCIDR: base.clusterCIDR,
    labels: { ...base.labels, ...parseLabels(f.nodeLabel) },
    taints: parseTaints(f.nodeTaint),
    cniBridge: f.cniBridge,
    cniNetworkName: f.cniNetworkName,
    cgroupRoot: f.cgroupRoot,
    ...(clusterDNS ? { clusterDNS } : {}),
    ...(base.caKeyDir ? { caKeyDir: base.caKeyDir } : {}),
    ...(f.nodeName ? { nodeName: f.nodeName } : {}),
    ...(f.nodeIp ? { nodeIP: f.nodeIp } : {}),
    ...(f.containerRuntimeEndpoint ? { containerRuntimeEndpoint: f.containerRuntimeEndpoint } : {}),
    ...(f.podManifestPath ? { podManifestPath: resolve(f.podManifestPath) } : {}),
    ...(f.manifestUrl ? { manifestUrl: f.manifestUrl } : {}),
    ...(f.disableLocalStorage ? { disableLocalStorage: true } : {}),
  };
}

/** A node: the kubelet (Agent) and, unless disabled, kube-proxy and the network policy controller, side by side. */
export class NodeProcess {
  proxier: Proxier | undefined;
  networkPolicy: NetworkPolicyController | undefined;
  private readonly clients: RestClient[] = [];
  constructor(readonly agent: Agent) {}

  /** Starts the kubelet, then kube-proxy for the node's address and the policy filters; on failure stops what started. */
  async start(f: NodeFlags, o: { kubeconfig: string; server?: string; clusterCIDR: string; log: Logger }): Promise<void> {
    // A bad flag is refused before anything starts.
    if (!f.disableKubeProxy && f.proxyMode !== "iptables" && f.proxyMode !== "nftables") throw new AgentError("BadOption", `invalid --proxy-mode ${JSON.stringify(f.proxyMode)}: iptables or nftables`);
    await this.agent.start();
    const client = async (name: string): Promise<RestClient> => {
      const c = await createClientFromKubeconfig(o.kubeconfig, { ...(o.server ? { server: o.server } : {}), name, qps: 50, burst: 100 });
      this.clients.push(c);
      return c;
    };
    try {
      if (!f.disableKubeProxy) {
        this.proxier = new Proxier({
          client: await client("kube-proxy"),
          nodeName: this.agent.nodeName,
          mode: f.proxyMode as ProxyMode,
          nodeIPs: this.agent.nodeIP ? [this.agent.nodeIP] : [],
          clusterCIDR: o.clusterCIDR,
          ...(f.proxyChainPrefix ? { chainPrefix: f.proxyChainPrefix } : {}),
          log: o.log.child({ component: "kube-proxy" }),
        });
        await this.proxier.start();
      }
      if (!f.disableNetworkPolicy) {
        this.networkPolicy = new NetworkPolicyController({
          client: await client("network-policy"),
          nodeName: this.agent.nodeName,
          table: netpolTableFor(nftTableFor(f.proxyChainPrefix ? { chainPrefix: f.proxyChainPrefix } : {})),
          log: o.log,
        });
        await this.networkPolicy.start();
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    await this.networkPolicy?.stop().catch(() => undefined);
    await this.proxier?.stop().catch(() => undefined);
    for (const c of this.clients) c.close();
    await this.agent.stop();
  }
}

/** Resolves when the process was asked to stop. */
export function untilSignal(): Promise<void> {
  return new Promise<void>((done) => {
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      done();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

/**
 * The kubeconfig the node runs with and the server override that goes with it: --kubeconfig as
 * given (with --server replacing its server), else the node's own, made by joining with the
 * bootstrap token unless a valid one is there from an earlier start.
 */
export async function agentCredentials(flags: AgentFlags, o: { readonly log: Logger; readonly signal?: AbortSignal }): Promise<{ readonly kubeconfig: string; readonly server?: string }> {
  if (flags.kubeconfig) {
    if (flags.token) throw new AgentError("BadOption", "--token and --kubeconfig cannot be used together: the token joins, the kubeconfig has credentials already");
    return { kubeconfig: resolve(flags.kubeconfig), ...(flags.server ? { server: flags.server } : {}) };
  }
  const kubeconfig = await joinWithToken({
    dataDir: resolve(flags.dataDir),
    nodeName: flags.nodeName ?? defaultNodeName(),
    ...(flags.server ? { server: flags.server } : {}),
    ...(flags.token ? { token: flags.token } : {}),
    caCertHashes: flags.discoveryTokenCaCertHash ?? [],
    ...(flags.discoveryTokenUnsafeSkipCaVerification ? { unsafeSkipCAVerification: true } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    log: o.log,
  });
  return { kubeconfig };
}

export async function runAgent(flags: AgentFlags): Promise<void> {
  const log = createLogger(flags.logLevel as Level);
  let signalled = false;
  const joining = new AbortController();
  const stopped = untilSignal().then(() => {
    signalled = true;
    joining.abort();
  });
  // Bad node flags are refused before the node joins.
  const options = agentOptionsFromFlags(flags, { kubeconfig: "", dataDir: resolve(flags.dataDir), log, clusterCIDR: flags.clusterCidr });
  let credentials: { readonly kubeconfig: string; readonly server?: string };
  try {
    credentials = await agentCredentials(flags, { log, signal: joining.signal });
  } catch (err) {
    if (signalled) return;
    throw err;
  }
  const { kubeconfig, server } = credentials;
  const agent = new Agent({ ...options, kubeconfig, ...(server ? { server } : {}) });
  const node = new NodeProcess(agent);
  const starting = node.start(flags, { kubeconfig, ...(server ? { server } : {}), clusterCIDR: flags.clusterCidr, log });
  await Promise.race([starting, stopped]);
  if (signalled) {
    await node.stop();
    await starting.catch(() => undefined);
    return;
  }
  process.stdout.write(`k8ts agent ready: node ${agent.nodeName}, kubelet on port ${agent.kubeletPort}, runtime ${agent.runtimeEndpoint ?? "?"}${node.proxier ? `, kube-proxy (${flags.proxyMode})` : ""}${node.networkPolicy ? ", network policy" : ""}\n`);
  await stopped;
  await node.stop();
}
