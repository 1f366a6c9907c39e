// `k8ts agent`: flag definitions only; the work is in agent-action.ts.
import { Option, type Command } from "commander";
import { runAgent, type AgentFlags } from "./agent-action.js";
import { defaultDataDir } from "./defaults.js";
import { DEFAULT_CLUSTER_DOMAIN } from "../api/dns.js";

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** The node flags `k8ts agent` and `k8ts server` (for its embedded agent) share. */
export function addNodeFlags(cmd: Command): Command {
  return cmd
    .option("--node-name <name>", "name of this node (default: the host name, lowercased)")
    .option("--node-ip <ip>", "address other nodes and the API server reach this node on (default: the address of the default route's interface)")
    .option("--container-runtime-endpoint <url>", "CRI endpoint to use (default: start our own containerd under <data-dir>/agent/containerd)")
    .option("--pod-manifest-path <dir>", "run the pods described by the manifests in this directory (static pods)")
    .option("--manifest-url <url>", "run the pods described at this URL (static pods)")
    .option("--kubelet-port <port>", "the kubelet's HTTPS port (logs, exec, port-forward)", "10250")
    .option("--cluster-dns <ip>", "DNS server address for pods with dnsPolicy ClusterFirst (repeatable; default: the 10th address of the service range)", collect)
    .option("--cluster-domain <domain>", "the cluster's DNS domain", DEFAULT_CLUSTER_DOMAIN)
    .option("--node-label <key=value>", "label to register the node with (repeatable)", collect)
    .option("--node-taint <key=value:effect>", "taint to register the node with (repeatable)", collect)
    .option("--cni-bridge <name>", "Linux bridge of the pod network", "cni0")
    .option("--cni-network-name <name>", "name of the CNI network (it also tags the nat rules the plugins add)", "k8ts")
    .option("--cgroup-root <name>", "top-level cgroup the node's pods live under", "k8ts")
    .option("--proxy-mode <mode>", "how the node's kube-proxy routes Service traffic: iptables or nftables", "iptables")
    .option("--disable-kube-proxy", "do not run kube-proxy on this node")
    .option("--disable-network-policy", "do not enforce NetworkPolicies on this node's pods (for a pod network that enforces them itself)")
    .option("--disable-local-storage", "do not provision node-local volumes (k8ts.io/local-path) nor create the default local-path StorageClass, for clusters with their own storage")
    .addOption(new Option("--proxy-chain-prefix <prefix>", "prefix of kube-proxy's iptables chains and of the nftables tables (tests keep apart with it)").hideHelp());
}

export function registerAgentCommand(program: Command): void {
  addNodeFlags(
    program
      .command("agent")
      .description("run a node, joining with a bootstrap token (--server, --token) or a kubeconfig: the kubelet (registers the node, runs the pods bound to it with containerd and runc, serves logs/exec/port-forward), kube-proxy and the network policy controller")
      .option("--server <url>", "the API server to join (e.g. https://10.0.0.1:6443); with --kubeconfig, instead of the kubeconfig's")
      .option("--token <token>", "bootstrap token to join with (<id>.<secret>; the server's default one is in its <data-dir>/node-token, `k8ts token create` makes more)")
      .option("--discovery-token-ca-cert-hash <sha256:hex>", "trust the cluster CA only if its public key has this hash (repeatable; `k8ts token create --print-join-command` prints it)", collect)
      .option("--discovery-token-unsafe-skip-ca-verification", "join with --token without pinning the CA with --discovery-token-ca-cert-hash")
      .option("--kubeconfig <file>", "join with the credentials of this kubeconfig instead of a token (its user is who the node acts as)")
      .option("--data-dir <dir>", "where the node keeps containerd, pod state and logs (under <data-dir>/agent)", defaultDataDir())
      .option("--cluster-cidr <cidr>", "range of the pods' addresses: traffic to Services from outside it is masqueraded", "10.42.0.0/16"),
  )
    .option("--log-level <level>", "trace, debug, info, warn, error or silent", "info")
    .action(async (flags: AgentFlags) => {
      await runAgent(flags);
    });
}
