// `k8ts controller-manager`: flag definitions only (kube-controller-manager's names and
// defaults); the work is in controller-manager-action.ts.
import type { Command } from "commander";
import { runControllerManager, type ControllerManagerFlags } from "./controller-manager-action.js";

export function registerControllerManagerCommand(program: Command): void {
  program
    .command("controller-manager")
    .description("run the controllers (deployment, replicaset, replicationcontroller, garbage collector, namespace, serviceaccount) against an API server")
    .requiredOption("--kubeconfig <file>", "kubeconfig with the credentials and server to use")
    .option("--controllers <list>", "controllers to enable: '*' all, 'foo' enables foo, '-foo' disables foo (comma-separated)", "*")
    .option("--leader-elect [bool]", "run the controllers only while holding the leader lease (true/false)", true)
    .option("--leader-elect-lease-duration <duration>", "how long non-leaders wait after the last renewal before taking over", "15s")
    .option("--leader-elect-renew-deadline <duration>", "how long the leader tries to renew before it stops leading", "10s")
    .option("--leader-elect-retry-period <duration>", "wait between attempts to acquire or renew", "2s")
    .option("--leader-elect-resource-namespace <ns>", "namespace of the lease", "kube-system")
    .option("--leader-elect-resource-name <name>", "name of the lease", "kube-controller-manager")
    .option("--leader-elect-resource-lock <type>", "lock type (only leases)", "leases")
    .option("--bind-address <ip>", "address for /healthz and /metrics", "127.0.0.1")
    .option("--secure-port <port>", "port for /healthz and /metrics (plain HTTP); 0 disables", "10257")
    .option("--kube-api-qps <qps>", "requests per second to the API server", "20")
    .option("--kube-api-burst <n>", "burst of requests to the API server", "30")
    .option("--concurrent-deployment-syncs <n>", "deployments synced at once", "5")
    .option("--concurrent-replicaset-syncs <n>", "replica sets synced at once", "5")
    .option("--concurrent-rc-syncs <n>", "replication controllers synced at once", "5")
    .option("--concurrent-gc-syncs <n>", "garbage collector workers", "20")
    .option("--concurrent-namespace-syncs <n>", "namespaces synced at once", "10")
    .option("--allocate-node-cidrs [bool]", "give every node spec.podCIDR(s) from --cluster-cidr (true/false)", true)
    .option("--cluster-cidr <cidrs>", "the pod range node CIDRs are cut from; an IPv4 and an IPv6 CIDR separated by a comma for dual stack", "10.42.0.0/16")
    .option("--node-cidr-mask-size <bits>", "prefix length of each node's CIDR in a single-stack cluster (default 24 for IPv4, 64 for IPv6)")
    .option("--node-cidr-mask-size-ipv4 <bits>", "prefix length of each node's IPv4 CIDR in a dual-stack cluster", "24")
    .option("--node-cidr-mask-size-ipv6 <bits>", "prefix length of each node's IPv6 CIDR in a dual-stack cluster", "64")
    .option("--cluster-signing-cert-file <file>", "PEM CA certificate that signs approved kubernetes.io CertificateSigningRequests")
    .option("--cluster-signing-key-file <file>", "PEM private key of --cluster-signing-cert-file; without it no request is signed")
    .option("--cluster-signing-duration <duration>", "the longest certificate signed; a request's spec.expirationSeconds may ask for less", "8760h0m0s")
    .option("--use-service-account-credentials [bool]", "run each controller as its own ServiceAccount in kube-system (tokens from the TokenRequest API) instead of the kubeconfig's identity (true/false)", false)
    .option("--log-level <level>", "trace, debug, info, warn, error or silent", "info")
    .action(async (flags: ControllerManagerFlags) => {
      await runControllerManager(flags);
    });
}
