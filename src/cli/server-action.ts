// `k8ts server`: the control plane in the foreground until SIGINT/SIGTERM.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ApiServer, compileApiServerOptions } from "../apiserver/server.js";
import { builtinResources } from "../apiserver/resources/index.js";
import { createLogger, type Logger } from "../util/log.js";
import { fileAuditSink } from "../apiserver/filters/audit.js";
import { parseAuthorizationModes } from "../apiserver/rbac/authorizer.js";
import { ControllerManager, compileControllerManagerOptions } from "../controllers/manager.js";
import { Scheduler, compileSchedulerOptions } from "../scheduler/index.js";
import type { Level } from "pino";
import { Agent, defaultNodeName } from "../kubelet/agent.js";
import { ensureLocalNodeKubeconfig } from "../kubelet/bootstrap/index.js";
import { clusterPKIPaths } from "../util/pki.js";
import { agentOptionsFromFlags, NodeProcess, untilSignal, type NodeFlags } from "./agent-action.js";
import { builtinAddons, ensureAddons } from "./addons.js";
import { publishJoinInfo } from "./join.js";
import { createClientFromKubeconfig } from "../client/rest.js";
import { ensureSignedKubeconfig, type ClientIdentity } from "../util/clientkubeconfig.js";

export interface ServerFlags extends NodeFlags {
  readonly dataDir: string;
  readonly store?: string;
  readonly port: string;
  readonly bindAddress: string;
  readonly advertiseAddress?: string;
  readonly serviceClusterIpRange?: string;
  readonly serviceNodePortRange?: string;
  readonly tlsSan?: readonly string[];
  readonly tokenAuthFile?: string;
  readonly auditLogPath?: string;
  readonly serviceAccountIssuer?: string;
  readonly apiAudiences?: string;
  readonly disableAdmissionPlugins?: string;
  readonly authorizationMode?: string;
  readonly maxRequestsInflight?: string;
  readonly maxMutatingRequestsInflight?: string;
  readonly logLevel: string;
  readonly disableControllers?: boolean;
  readonly disableScheduler?: boolean;
  readonly disableAgent?: boolean;
  readonly disableAddons?: boolean;
  readonly clusterCidr: string;
}

const list = (v: string): string[] => v.split(",").map((x) => x.trim()).filter(Boolean);

/** Starts the server; resolves with a function that stops it. */
export async function startServer(flags: ServerFlags): Promise<ApiServer> {
  const log = createLogger(flags.logLevel as Level);
  const server = new ApiServer(
    compileApiServerOptions({
      dataDir: resolve(flags.dataDir),
      ...(flags.store ? { storeUrl: flags.store } : {}),
      port: Number(flags.port),
      bindAddress: flags.bindAddress,
      ...(flags.advertiseAddress ? { advertiseAddress: flags.advertiseAddress } : {}),
      ...(flags.serviceClusterIpRange ? { serviceClusterIPRange: flags.serviceClusterIpRange } : {}),
      ...(flags.serviceNodePortRange ? { serviceNodePortRange: flags.serviceNodePortRange } : {}),
      extraSANs: flags.tlsSan ?? [],
      resources: builtinResources(),
      log: log.child({ component: "apiserver" }),
      ...(flags.tokenAuthFile ? { tokenAuthFile: flags.tokenAuthFile } : {}),
      ...(flags.maxRequestsInflight ? { maxRequestsInflight: Number(flags.maxRequestsInflight) } : {}),
      ...(flags.maxMutatingRequestsInflight ? { maxMutatingRequestsInflight: Number(flags.maxMutatingRequestsInflight) } : {}),
      ...(flags.auditLogPath ? { auditSink: fileAuditSink(resolve(flags.auditLogPath)) } : {}),
      ...(flags.serviceAccountIssuer ? { serviceAccountIssuer: flags.serviceAccountIssuer } : {}),
      ...(flags.apiAudiences ? { apiAudiences: list(flags.apiAudiences) } : {}),
      ...(flags.disableAdmissionPlugins ? { disableAdmissionPlugins: list(flags.disableAdmissionPlugins) } : {}),
      ...(flags.authorizationMode ? { authorizationModes: parseAuthorizationModes(flags.authorizationMode) } : {}),
    }),
  );
  await server.start();
  return server;
}

/**
 * The controller-manager embedded in the server process: it talks to the server over HTTPS
 * like any other client (no in-process shortcuts), as system:kube-controller-manager with each
 * controller under its own ServiceAccount, with leader election on so that servers sharing one
 * store never run controllers twice.
 */
export async function startEmbeddedControllers(server: ApiServer, logLevel: string, clusterCIDR?: string): Promise<ControllerManager> {
  const log = createLogger(logLevel as Level);
  // The cluster CA signs approved CertificateSigningRequests (csrsigning-controller), as kubeadm points kube-controller-manager's --cluster-signing-*-file at it.
  const tls = join(server.options.dataDir, "tls");
  const signing = existsSync(join(tls, "ca.key")) ? { clusterSigningCert: readFileSync(join(tls, "ca.crt"), "utf8"), clusterSigningKey: readFileSync(join(tls, "ca.key"), "utf8") } : {};
  // As kubeadm's controller-manager.conf: the manager is system:kube-controller-manager (a
  // certificate the server signs; its role lists and watches everything, creates accounts and
  // their tokens), and each controller talks as its own kube-system ServiceAccount
  // (--use-service-account-credentials, as kubeadm and k3s run it), bound to upstream's
  // system:controller:<name> role.
  const kubeconfig = await signedKubeconfig(server, "controller-manager.kubeconfig", { commonName: CONTROLLER_MANAGER_USER, organizations: [] }, log);
  const manager = new ControllerManager(compileControllerManagerOptions({ kubeconfig, useServiceAccountCredentials: true, serve: false, log, ...signing, ...(clusterCIDR ? { clusterCIDR } : {}) }));
  await manager.start();
  return manager;
}

/**
 * The scheduler embedded in the server process, an HTTPS client like the controllers, as
 * system:kube-scheduler (kubeadm's scheduler.conf: a certificate the server signs, under
 * <data-dir>/scheduler.kubeconfig), which the bootstrap policy gives upstream's scheduler roles.
 * Without the CA key on this machine it runs with the admin kubeconfig.
 */
export async function startEmbeddedScheduler(server: ApiServer, logLevel: string): Promise<Scheduler> {
  const log = createLogger(logLevel as Level).child({ component: "scheduler" });
  const kubeconfig = await signedKubeconfig(server, "scheduler.kubeconfig", { commonName: SCHEDULER_USER, organizations: [] }, log);
  const scheduler = new Scheduler(compileSchedulerOptions({ kubeconfig, serve: false, log }));
  await scheduler.start();
  return scheduler;
}

const SCHEDULER_USER = "system:kube-scheduler";
const CONTROLLER_MANAGER_USER = "system:kube-controller-manager";

/** A kubeconfig in the data dir for one of the server's own clients, its certificate signed with the cluster CA; the admin kubeconfig when the CA key is not here. */
async function signedKubeconfig(server: ApiServer, file: string, identity: ClientIdentity, log: Logger): Promise<string> {
  const dataDir = resolve(server.options.dataDir);
  const pki = clusterPKIPaths(dataDir);
  if (!existsSync(pki.caKey)) return server.kubeconfigPath;
  const ca = { certPem: readFileSync(pki.caCert, "utf8"), keyPem: readFileSync(pki.caKey, "utf8") };
  return ensureSignedKubeconfig({ path: join(dataDir, file), identity, server: server.url, ca, log });
}

/** The kube-dns Service's address: the 10th of the server's (first) service range, as kubeadm and k3s choose it. */
function clusterDNSAddress(server: ApiServer): string {
  return server.options.serviceCIDRs[0]!.indexedIP(10);
}

/**
 * The node embedded in the server process (as k3s's server runs an agent): an API client as
 * itself, system:node:<name> in system:nodes, with a client certificate the server signs with
 * the cluster CA (nothing to bootstrap: the server holds the key), so the Node authorizer and
 * NodeRestriction hold it to what its pods need like any other node. Its kubelet serving
 * certificate is signed by the cluster CA too. Without the Node authorizer (an
 * --authorization-mode list without Node) a node user could do next to nothing, and without the
 * CA key on this machine nothing can sign for it: the node then runs with the admin kubeconfig.
 */
export async function startEmbeddedAgent(server: ApiServer, flags: ServerFlags): Promise<NodeProcess> {
  const log = createLogger(flags.logLevel as Level);
  const dataDir = resolve(flags.dataDir);
  const pki = clusterPKIPaths(dataDir);
  const asItself = (server.options.authorizationModes as readonly string[]).includes("Node") && existsSync(pki.caKey);
  const kubeconfig = asItself
    ? await ensureLocalNodeKubeconfig({
        dataDir,
        nodeName: flags.nodeName ?? defaultNodeName(),
        server: server.url,
        ca: { certPem: readFileSync(pki.caCert, "utf8"), keyPem: readFileSync(pki.caKey, "utf8") },
        log,
      })
    : server.kubeconfigPath;
  const agent = new Agent(
    agentOptionsFromFlags(flags, {
      kubeconfig,
      dataDir: resolve(flags.dataDir),
      log,
      clusterCIDR: flags.clusterCidr,
      clusterDNS: [clusterDNSAddress(server)],
      caKeyDir: resolve(flags.dataDir, "tls"),
      // A node may not label itself with node-role.kubernetes.io/* (NodeRestriction): the server
      // marks its own node as kubeadm's mark-control-plane phase does, below.
      ...(asItself ? {} : { labels: CONTROL_PLANE_LABEL }),
    }),
  );
  const node = new NodeProcess(agent);
  await node.start(flags, { kubeconfig, clusterCIDR: flags.clusterCidr, log });
  if (asItself) await markControlPlane(server.kubeconfigPath, agent.nodeName);
  return node;
}

const CONTROL_PLANE_LABEL = { "node-role.kubernetes.io/control-plane": "true" };

/** Labels the server's own node as the control plane, with the admin's credentials (once registered, as start() leaves it). */
async function markControlPlane(adminKubeconfig: string, nodeName: string): Promise<void> {
  const client = await createClientFromKubeconfig(adminKubeconfig, { component: "server", name: "mark-control-plane" });
  try {
    await client.forKind("v1", "Node").patch(nodeName, "merge", { metadata: { labels: CONTROL_PLANE_LABEL } });
  } finally {
    client.close();
  }
}

/**
 * The address other machines reach this server on, for cluster-info: the advertise address (the
 * host's primary one when bound to 0.0.0.0, which the serving certificate names), else the URL
 * the server listens on.
 */
function advertisedURL(server: ApiServer): string {
  const address = server.options.advertiseAddress;
  if (!address) return server.url;
  return `https://${address.includes(":") ? `[${address}]` : address}:${new URL(server.url).port}`;
}

export async function runServer(flags: ServerFlags): Promise<void> {
  const server = await startServer(flags);
  // What nodes join with: kube-public/cluster-info (the bootstrap signer signs it) and the
  // default node token in <data-dir>/node-token.
  try {
    const dataDir = resolve(flags.dataDir);
    await publishJoinInfo(server.kubeconfigPath, { server: advertisedURL(server), caPem: readFileSync(clusterPKIPaths(dataDir).caCert, "utf8"), dataDir });
  } catch (err) {
    await server.stop();
    throw err;
  }
  let signalled = false;
  const stopped = untilSignal().then(() => (signalled = true));
  // The node starts beside the controllers and the scheduler, not after them: it registers and
  // starts containerd meanwhile, and waits (on a watch) for the podCIDR the controllers assign.
  // The control plane stays up when the node cannot start (e.g. not root): it still serves the
  // API, and another node can join.
  let node: NodeProcess | undefined;
  const nodeStarting = flags.disableAgent
    ? undefined
    : startEmbeddedAgent(server, flags).then(
        (n) => {
          node = n;
          if (!signalled) process.stdout.write(`k8ts agent ready: node ${n.agent.nodeName}, kubelet on port ${n.agent.kubeletPort}${n.proxier ? `, kube-proxy (${flags.proxyMode})` : ""}${n.networkPolicy ? ", network policy" : ""}\n`);
        },
        (err: unknown) => process.stderr.write(`k8ts: the node could not start: ${err instanceof Error ? err.message : String(err)} (the control plane keeps running; --disable-agent runs it without a node)\n`),
      );
  let controllers: ControllerManager | undefined;
  let scheduler: Scheduler | undefined;
  try {
    [controllers, scheduler] = await Promise.all([
      flags.disableControllers ? undefined : startEmbeddedControllers(server, flags.logLevel, flags.clusterCidr),
      flags.disableScheduler ? undefined : startEmbeddedScheduler(server, flags.logLevel),
    ]);
  } catch (err) {
    await nodeStarting;
    await Promise.allSettled([node?.stop(), controllers?.stop(), scheduler?.stop()]);
    await server.stop();
    throw err;
  }
  if (!flags.disableAddons) {
    await ensureAddons(server.kubeconfigPath, builtinAddons({ clusterDNSIP: clusterDNSAddress(server), clusterDomain: flags.clusterDomain }), createLogger(flags.logLevel as Level)).catch((err: unknown) =>
      process.stderr.write(`k8ts: addons could not be installed: ${err instanceof Error ? err.message : String(err)}\n`),
    );
  }
  const running = [controllers ? "controllers" : "", scheduler ? "scheduler" : ""].filter(Boolean).join(" and ");
  process.stdout.write(`k8ts server ready at ${server.url}; kubeconfig ${server.kubeconfigPath}${running ? `; ${running} running` : ""}\n`);
  if (nodeStarting) {
    await Promise.race([nodeStarting, stopped]);
    if (signalled) await nodeStarting;
  }
  await stopped;
  // Clients first: they need the server to finish their in-flight work and release their leases.
  await Promise.allSettled([node?.stop(), controllers?.stop(), scheduler?.stop()]);
  await server.stop();
}
