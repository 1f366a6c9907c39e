// `k8ts server`: flag definitions only; the work is in server-action.ts.
import type { Command } from "commander";
import { runServer, type ServerFlags } from "./server-action.js";
import { defaultDataDir } from "./defaults.js";
import { addNodeFlags } from "./agent.js";
import { DEFAULT_SERVICE_ACCOUNT_ISSUER } from "../apiserver/serviceaccount/index.js";

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function registerServerCommand(program: Command): void {
  const cmd = program
    .command("server")
    .description("run the control plane (API server, controllers, scheduler) and a node (the agent) in the foreground")
    .option("--data-dir <dir>", "where state, certificates and the admin kubeconfig live", defaultDataDir())
    .option("--store <url>", "store URL: sqlite:///path/state.db (default <data-dir>/state.db), etcd://host:port[,host:port], memory://")
    .option("--port <port>", "HTTPS port", "6443")
    .option("--bind-address <ip>", "address to listen on (pods reach the API server through the kubernetes Service, which leads to the node's address)", "0.0.0.0")
    .option("--advertise-address <ip>", "address of this server in the kubernetes service's endpoints (default: the bind address, or the host's primary address when bound to loopback or 0.0.0.0)")
    .option("--service-cluster-ip-range <cidr>", "range of cluster IPs for services (one CIDR, or an IPv4 and an IPv6 one separated by a comma)", "10.43.0.0/16")
    .option("--service-node-port-range <range>", "range of node ports for NodePort and LoadBalancer services", "30000-32767")
    .option("--tls-san <name>", "extra name or IP for the serving certificate (repeatable)", collect)
    .option("--token-auth-file <file>", "static bearer tokens (CSV: token,user,uid,\"group1,group2\")")
    .option("--max-requests-inflight <n>", "read-only requests served at once before 429", "400")
    .option("--max-mutating-requests-inflight <n>", "mutating requests served at once before 429", "200")
    .option("--service-account-issuer <url>", "issuer (iss) of the service account tokens the server signs", DEFAULT_SERVICE_ACCOUNT_ISSUER)
    .option("--api-audiences <list>", "comma-separated audiences a service account token must name one of (default: the issuer)")
    .option("--authorization-mode <list>", "comma-separated authorizers asked in order: Node (kubelets limited to their own node's objects), RBAC (members of system:masters may do anything), AlwaysAllow, AlwaysDeny", "Node,RBAC")
    .option("--disable-admission-plugins <list>", "comma-separated admission plugins to turn off (NamespaceLifecycle, LimitRanger, ServiceAccount, DefaultTolerationSeconds, DefaultStorageClass, StorageObjectInUseProtection, RuntimeClass, CertificateApproval, CertificateSigning, CertificateSubjectRestriction, MutatingAdmissionWebhook, ValidatingAdmissionPolicy, ValidatingAdmissionWebhook, ResourceQuota)")
    .option("--audit-log-path <file>", "append one JSON audit event per request to this file")
    .option("--disable-controllers", "do not run the controller-manager in this process")
    .option("--disable-scheduler", "do not run the scheduler in this process")
    .option("--disable-agent", "do not run a node (kubelet) in this process")
    .option("--disable-addons", "do not install the cluster DNS addon (Deployment coredns and Service kube-dns in kube-system)")
    .option("--cluster-cidr <cidr>", "range the pods' addresses come from; each node gets a /24 of it", "10.42.0.0/16")
    .option("--log-level <level>", "trace, debug, info, warn, error or silent", "info");
  addNodeFlags(cmd).action(async (flags: ServerFlags) => {
    await runServer(flags);
  });
}
