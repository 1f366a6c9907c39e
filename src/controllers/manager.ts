// The controller-manager (upstream cmd/kube-controller-manager): every enabled controller in
// one process, over one client and — per term of leadership — one SharedInformerFactory, so
// controllers watching the same kind share one watch and one cache. With leader election on
// (the default) the controllers run only while this process holds the Lease
// kube-system/kube-controller-manager, so two managers never both act; leadership lost stops
// them (informers, queues and event recorders included) and the manager campaigns again,
// starting from fresh caches. /healthz, /readyz and /metrics are served on a local port.
import { setMaxListeners } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Gauge, Registry } from "prom-client";
import { newControllerMetrics, type ControllerMetrics } from "../client/controller.js";
import { EventRecorder } from "../client/events.js";
import { SharedInformerFactory, type SharedInformer, type SharedInformerFactoryOptions } from "../client/informer.js";
import type { KubeObject } from "../client/objects.js";
import { defaultIdentity, runLeaderElected } from "../client/leaderelection.js";
import { ResourceClient, RestClient, type TokenSource } from "../client/rest.js";
import { loadKubeconfig, type ClientConfig } from "../util/kubeconfig.js";
import type { Logger } from "../util/log.js";
import type { Controller, ControllerContext, ControllerFactory } from "./context.js";
import { deploymentController } from "./deployment/index.js";
import { DAEMONSET_CONTROLLER, DAEMONSET_WORKERS, daemonSetController } from "./daemonset/index.js";
import { disruptionController, DISRUPTION_CONTROLLER } from "./disruption/index.js";
import { endpointsController, ENDPOINTS_CONTROLLER } from "./endpoints/index.js";
import { endpointSliceController, ENDPOINTSLICE_CONTROLLER } from "./endpointslice/index.js";
import { garbageCollectorController, GARBAGE_COLLECTOR_CONTROLLER } from "./garbagecollector/controller.js";
import { jobController, JOB_CONTROLLER } from "./job/index.js";
import { STATEFULSET_CONTROLLER, STATEFULSET_WORKERS, statefulSetController } from "./statefulset/index.js";
import { cronJobController, CRONJOB_CONTROLLER } from "./cronjob/index.js";
import { HPA_CONTROLLER, HPA_DEFAULT_WORKERS, horizontalPodAutoscalerController } from "./podautoscaler/index.js";
import { ttlAfterFinishedController, TTL_AFTER_FINISHED_CONTROLLER } from "./ttlafterfinished/index.js";
import { namespaceController, NAMESPACE_CONTROLLER } from "./namespace/controller.js";
import { replicaSetController, replicationControllerController } from "./replicaset/index.js";
import { serviceAccountsController, SERVICE_ACCOUNT_CONTROLLER } from "./serviceaccount/controller.js";
import { nodeLifecycleController, NODE_LIFECYCLE_CONTROLLER, taintEvictionController, TAINT_EVICTION_CONTROLLER } from "./nodelifecycle/index.js";
import { podGCController, POD_GC_CONTROLLER } from "./podgc/index.js";
import { NODE_IPAM_CONTROLLER, NodeIpamError, nodeIpamControllerFactory, type NodeIpamOptionsInput } from "./nodeipam/index.js";
import { resourceQuotaController, RESOURCE_QUOTA_CONTROLLER } from "./resourcequota/index.js";
import { rootCACertPublisherController, ROOT_CA_CERT_PUBLISHER } from "./rootcacert/controller.js";
import { CLUSTER_ROLE_AGGREGATION_CONTROLLER, CLUSTER_ROLE_AGGREGATION_WORKERS, clusterRoleAggregationController } from "./clusterroleaggregation/index.js";
import { persistentVolumeBinderController, PV_BINDER_CONTROLLER, PV_CONTROLLER_EVENT_SOURCE } from "./volume/persistentvolume/index.js";
import { pvcProtectionController, PVC_PROTECTION_CONTROLLER } from "./volume/pvcprotection/index.js";
import { pvProtectionController, PV_PROTECTION_CONTROLLER } from "./volume/pvprotection/index.js";
import { EPHEMERAL_VOLUME_CONTROLLER, EPHEMERAL_VOLUME_EVENT_SOURCE, ephemeralVolumeController } from "./volume/ephemeral/index.js";
import { SERVICE_LB_CONTROLLER, SERVICE_LB_EVENT_SOURCE, serviceLBController } from "./servicelb/index.js";
import { CSR_APPROVING_CONTROLLER, CSR_APPROVING_WORKERS, CSR_CLEANER_CONTROLLER, CSR_CLEANER_WORKERS, CSR_SIGNING_CONTROLLER, CSR_SIGNING_WORKERS, csrApprovingController, csrCleanerController, csrSigningControllerFactory, type CSRSigningOptions } from "./certificates/index.js";
import { BOOTSTRAP_SIGNER_CONTROLLER, BOOTSTRAP_SIGNER_WORKERS, bootstrapSignerController, TOKEN_CLEANER_CONTROLLER, TOKEN_CLEANER_WORKERS, tokenCleanerController } from "./bootstrap/index.js";
import { checkSigningPair, PkiError } from "../util/pki.js";
import { CodedError } from "../util/errors.js";
import { ServiceAccountTokens } from "./satokens.js";

/** A controller the manager knows: upstream's name, the short alias older flags use, its default worker count. */
export interface KnownController {
  readonly name: string;
  readonly aliases: readonly string[];
  readonly factory: ControllerFactory;
  /** Upstream's --concurrent-*-syncs default. */
  readonly workers: number;
  /** The source component of its Events when upstream's differs from its name (`kubectl describe`'s "From"). */
  readonly eventSource?: string;
  /**
   * Its ServiceAccount in kube-system, upstream's name for it (bound by the bootstrap policy to
   * system:controller:<account>): the controller's identity under --use-service-account-credentials.
   * Default: the controller's name.
   */
  readonly serviceAccount?: string;
}

/** The controllers `k8ts controller-manager` runs, with kube-controller-manager's names and defaults. */
export function builtinControllers(o: { readonly nodeIpam?: NodeIpamOptionsInput; readonly rootCA?: string; readonly csrSigning?: CSRSigningOptions } = {}): KnownController[] {
  return [
    { name: "deployment-controller", aliases: ["deployment"], factory: deploymentController, workers: 5, serviceAccount: "deployment-controller" },
    { name: "replicaset-controller", aliases: ["replicaset"], factory: replicaSetController, workers: 5, serviceAccount: "replicaset-controller" },
    { name: "replicationcontroller-controller", aliases: ["replicationcontroller"], factory: replicationControllerController, workers: 5, serviceAccount: "replication-controller" },
    { name: STATEFULSET_CONTROLLER, aliases: ["statefulset"], factory: statefulSetController, workers: STATEFULSET_WORKERS, serviceAccount: "statefulset-controller" },
    { name: DAEMONSET_CONTROLLER, aliases: ["daemonset"], factory: daemonSetController, workers: DAEMONSET_WORKERS, serviceAccount: "daemon-set-controller" },
    { name: JOB_CONTROLLER, aliases: ["job"], factory: jobController, workers: 5, serviceAccount: "job-controller" },
    { name: CRONJOB_CONTROLLER, aliases: ["cronjob"], factory: cronJobController, workers: 5, serviceAccount: "cronjob-controller" },
    { name: HPA_CONTROLLER, aliases: ["horizontalpodautoscaling"], factory: horizontalPodAutoscalerController, workers: HPA_DEFAULT_WORKERS, eventSource: "horizontal-pod-autoscaler", serviceAccount: "horizontal-pod-autoscaler" },
    { name: TTL_AFTER_FINISHED_CONTROLLER, aliases: ["ttlafterfinished"], factory: ttlAfterFinishedController, workers: 5, serviceAccount: "ttl-after-finished-controller" },
    { name: GARBAGE_COLLECTOR_CONTROLLER, aliases: ["garbagecollector"], factory: garbageCollectorController, workers: 20, serviceAccount: "generic-garbage-collector" },
    { name: NAMESPACE_CONTROLLER, aliases: ["namespace"], factory: namespaceController, workers: 10, serviceAccount: "namespace-controller" },
    { name: SERVICE_ACCOUNT_CONTROLLER, aliases: ["serviceaccount"], factory: serviceAccountsController, workers: 1, serviceAccount: "service-account-controller" },
    { name: ENDPOINTS_CONTROLLER, aliases: ["endpoint"], factory: endpointsController, workers: 5, serviceAccount: "endpoint-controller" },
    { name: ENDPOINTSLICE_CONTROLLER, aliases: ["endpointslice"], factory: endpointSliceController, workers: 5, serviceAccount: "endpointslice-controller" },
    // Upstream runs it in the cloud-controller-manager (--concurrent-service-syncs 1); here the nodes are the load balancer.
    { name: SERVICE_LB_CONTROLLER, aliases: ["service"], factory: serviceLBController, workers: 1, eventSource: SERVICE_LB_EVENT_SOURCE, serviceAccount: "service-controller" },
    { name: NODE_LIFECYCLE_CONTROLLER, aliases: ["nodelifecycle"], factory: nodeLifecycleController, workers: 8, eventSource: "node-controller", serviceAccount: "node-controller" },
    { name: TAINT_EVICTION_CONTROLLER, aliases: [], factory: taintEvictionController, workers: 8, serviceAccount: "node-controller" },
    { name: POD_GC_CONTROLLER, aliases: ["podgc"], factory: podGCController, workers: 1, serviceAccount: "pod-garbage-collector" },
    { name: DISRUPTION_CONTROLLER, aliases: ["disruption"], factory: disruptionController, workers: 1, serviceAccount: "disruption-controller" },
    // Upstream's --concurrent-resource-quota-syncs default.
    { name: RESOURCE_QUOTA_CONTROLLER, aliases: ["resourcequota"], factory: resourceQuotaController, workers: 5, serviceAccount: "resourcequota-controller" },
    { name: NODE_IPAM_CONTROLLER, aliases: ["nodeipam"], factory: nodeIpamControllerFactory(o.nodeIpam), workers: 5, serviceAccount: "node-controller" },
    // Publishes o.rootCA, else the CA of the manager's kubeconfig (certificate-authority-data).
    { name: ROOT_CA_CERT_PUBLISHER, aliases: ["root-ca-cert-publisher"], factory: (ctx) => rootCACertPublisherController(ctx, o.rootCA), workers: 1, serviceAccount: "root-ca-cert-publisher" },
    // Signs with --cluster-signing-cert-file/--cluster-signing-key-file; idles without them.
    { name: CSR_SIGNING_CONTROLLER, aliases: ["csrsigning"], factory: csrSigningControllerFactory(o.csrSigning), workers: CSR_SIGNING_WORKERS, serviceAccount: "certificate-controller" },
    // Approves kubelet client CSRs whose requestor may create certificatesigningrequests/(self)nodeclient.
    { name: CSR_APPROVING_CONTROLLER, aliases: ["csrapproving"], factory: csrApprovingController, workers: CSR_APPROVING_WORKERS, serviceAccount: "certificate-controller" },
    { name: CSR_CLEANER_CONTROLLER, aliases: ["csrcleaner"], factory: csrCleanerController, workers: CSR_CLEANER_WORKERS, serviceAccount: "certificate-controller" },
    // Off by default upstream (kubeadm turns them on); here nodes join with bootstrap tokens, so on.
    { name: BOOTSTRAP_SIGNER_CONTROLLER, aliases: ["bootstrapsigner"], factory: bootstrapSignerController, workers: BOOTSTRAP_SIGNER_WORKERS, serviceAccount: "bootstrap-signer" },
    { name: TOKEN_CLEANER_CONTROLLER, aliases: ["tokencleaner"], factory: tokenCleanerController, workers: TOKEN_CLEANER_WORKERS, serviceAccount: "token-cleaner" },
    { name: CLUSTER_ROLE_AGGREGATION_CONTROLLER, aliases: ["clusterrole-aggregation"], factory: clusterRoleAggregationController, workers: CLUSTER_ROLE_AGGREGATION_WORKERS, serviceAccount: "clusterrole-aggregation-controller" },
    // One worker per queue (claims, volumes), as upstream, which has no knob for it.
    { name: PV_BINDER_CONTROLLER, aliases: ["persistentvolume-binder"], factory: persistentVolumeBinderController, workers: 1, eventSource: PV_CONTROLLER_EVENT_SOURCE, serviceAccount: "persistent-volume-binder" },
    { name: PVC_PROTECTION_CONTROLLER, aliases: ["pvc-protection"], factory: pvcProtectionController, workers: 1, serviceAccount: "pvc-protection-controller" },
    { name: PV_PROTECTION_CONTROLLER, aliases: ["pv-protection"], factory: pvProtectionController, workers: 1, serviceAccount: "pv-protection-controller" },
    // Upstream's --concurrent-ephemeralvolume-syncs default.
    { name: EPHEMERAL_VOLUME_CONTROLLER, aliases: ["ephemeral-volume"], factory: ephemeralVolumeController, workers: 5, eventSource: EPHEMERAL_VOLUME_EVENT_SOURCE, serviceAccount: "ephemeral-volume-controller" },
  ];
}

/** The ServiceAccount (in kube-system) a controller runs as under --use-service-account-credentials. */
export const controllerServiceAccount = (k: KnownController): string => k.serviceAccount ?? k.name;

export type ControllerManagerErrorCode = "InvalidOptions" | "NotStarted";

export class ControllerManagerError extends CodedError<ControllerManagerErrorCode> {
  override readonly name = "ControllerManagerError";
}

export interface ControllerManagerOptionsInput {
  /** Admin (or controller-manager) kubeconfig: every controller talks to the API through it. */
  readonly kubeconfig: string;
  /** kube-controller-manager's --controllers: `*` all, `foo` enables, `-foo` disables. Default ["*"]. */
  readonly controllers?: readonly string[];
  readonly leaderElect?: boolean;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  readonly leaseNamespace?: string;
  readonly leaseName?: string;
  /** Holder identity in the Lease; default hostname_uuid. */
  readonly identity?: string;
  /** Where /healthz and /metrics are served; false: not served. Default 127.0.0.1:10257 (upstream's secure port). */
  readonly serve?: { readonly host: string; readonly port: number } | false;
  /** Client throttle; upstream's --kube-api-qps 20 / --kube-api-burst 30. */
  readonly qps?: number;
  readonly burst?: number;
  /** Workers per controller name (or alias), overriding the defaults. */
  readonly workers?: Readonly<Record<string, number>>;
  readonly log: Logger;
  /** The controllers known; default builtinControllers(). */
  readonly known?: readonly KnownController[];
  /** --allocate-node-cidrs: run the node IPAM controller (default true). */
  readonly allocateNodeCIDRs?: boolean;
  /** --root-ca-file contents: the CA bundle published as kube-root-ca.crt; default the kubeconfig's CA. */
  readonly rootCA?: string;
  /** --cluster-cidr: the pod range node CIDRs are cut from (default 10.42.0.0/16; "v4,v6" for dual stack). */
  readonly clusterCIDR?: string;
  /** --node-cidr-mask-size (default 24 for IPv4, 64 for IPv6), and the per-family flags of a dual-stack cluster. */
  readonly nodeCIDRMaskSize?: number;
  readonly nodeCIDRMaskSizeIPv4?: number;
  readonly nodeCIDRMaskSizeIPv6?: number;
  /** --cluster-signing-cert-file contents (PEM): the CA the csrsigning-controller signs with. */
  readonly clusterSigningCert?: string;
  /** --cluster-signing-key-file contents (PEM); without it no request is signed. */
  readonly clusterSigningKey?: string;
  /** --cluster-signing-duration: the longest certificate signed (default 8760h). */
  readonly clusterSigningDurationMs?: number;
  /**
   * --use-service-account-credentials: each controller talks to the API as its own ServiceAccount
   * (kube-system/<serviceAccount>, with tokens from the TokenRequest API); the shared informers
   * and leader election stay on the kubeconfig's identity. Default false, as upstream.
   */
  readonly useServiceAccountCredentials?: boolean;
}

export interface ControllerManagerOptions {
  readonly kubeconfig: string;
  readonly enabled: readonly { readonly controller: KnownController; readonly workers: number }[];
  readonly leaderElect: boolean;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly leaseNamespace: string;
  readonly leaseName: string;
  readonly identity: string;
  readonly serve: { readonly host: string; readonly port: number } | false;
  readonly qps: number;
  readonly burst: number;
  readonly useServiceAccountCredentials: boolean;
  readonly log: Logger;
}

/** Whether `name` (or an alias) is enabled by a --controllers list, as upstream's IsControllerEnabled. */
export function isControllerEnabled(k: KnownController, list: readonly string[]): boolean {
  const names = [k.name, ...k.aliases];
  let star = false;
  for (const entry of list) {
    if (names.some((n) => entry === `-${n}`)) return false;
    if (names.includes(entry)) return true;
    if (entry === "*") star = true;
  }
  return star;
}

export function compileControllerManagerOptions(i: ControllerManagerOptionsInput): ControllerManagerOptions {
  const bad = (msg: string): never => {
    throw new ControllerManagerError("InvalidOptions", msg);
  };
  if (!i.kubeconfig) bad("a kubeconfig is required");
  let known = i.known;
  if (!known) {
    const nodeIpam: NodeIpamOptionsInput = {
      ...(i.clusterCIDR !== undefined ? { clusterCIDR: i.clusterCIDR } : {}),
      ...(i.nodeCIDRMaskSize !== undefined ? { nodeCIDRMaskSize: i.nodeCIDRMaskSize } : {}),
      ...(i.nodeCIDRMaskSizeIPv4 !== undefined ? { nodeCIDRMaskSizeIPv4: i.nodeCIDRMaskSizeIPv4 } : {}),
      ...(i.nodeCIDRMaskSizeIPv6 !== undefined ? { nodeCIDRMaskSizeIPv6: i.nodeCIDRMaskSizeIPv6 } : {}),
    };
    const csrSigning = compileCSRSigning(i, bad);
    try {
      known = builtinControllers({ nodeIpam, csrSigning, ...(i.rootCA !== undefined ? { rootCA: i.rootCA } : {}) });
    } catch (err) {
      if (err instanceof NodeIpamError) bad(err.message);
      throw err;
    }
  }
  const list = (i.controllers ?? ["*"]).map((s) => s.trim()).filter((s) => s !== "");
  const allNames = new Set(known.flatMap((k) => [k.name, ...k.aliases]));
  for (const entry of list) {
    const name = entry.startsWith("-") ? entry.slice(1) : entry;
    if (name !== "*" && !allNames.has(name)) bad(`"${name}" is not in the list of known controllers`);
  }
  for (const [name, n] of Object.entries(i.workers ?? {})) {
    if (!allNames.has(name)) bad(`workers given for unknown controller "${name}"`);
    if (!Number.isInteger(n) || n < 1) bad(`workers for ${name} must be a positive integer, got ${n}`);
  }
  const enabled = known
    // Upstream starts node IPAM only with --allocate-node-cidrs.
    .filter((k) => isControllerEnabled(k, list) && !(k.name === NODE_IPAM_CONTROLLER && i.allocateNodeCIDRs === false))
    .map((controller) => {
      const w = [controller.name, ...controller.aliases].map((n) => i.workers?.[n]).find((v) => v !== undefined);
      return { controller, workers: w ?? controller.workers };
    });
  const leaseDurationMs = i.leaseDurationMs ?? 15_000;
  const renewDeadlineMs = i.renewDeadlineMs ?? 10_000;
  const retryPeriodMs = i.retryPeriodMs ?? 2_000;
  if (!(retryPeriodMs > 0)) bad("--leader-elect-retry-period must be greater than zero");
  if (!(leaseDurationMs > renewDeadlineMs)) bad("--leader-elect-lease-duration must be greater than --leader-elect-renew-deadline");
  if (!(renewDeadlineMs > 1.2 * retryPeriodMs)) bad("--leader-elect-renew-deadline must be greater than 1.2 × --leader-elect-retry-period");
  const serve = i.serve === undefined ? { host: "127.0.0.1", port: 10257 } : i.serve;
  if (serve && !(Number.isInteger(serve.port) && serve.port >= 0 && serve.port < 65536)) bad(`invalid port ${serve.port}`);
  const qps = i.qps ?? 20;
  const burst = i.burst ?? 30;
  if (!(qps > 0)) bad(`--kube-api-qps must be > 0, got ${qps}`);
  if (!(Number.isInteger(burst) && burst >= 1)) bad(`--kube-api-burst must be a positive integer, got ${burst}`);
  return {
    kubeconfig: i.kubeconfig,
    enabled,
    leaderElect: i.leaderElect ?? true,
    leaseDurationMs,
    renewDeadlineMs,
    retryPeriodMs,
    leaseNamespace: i.leaseNamespace ?? "kube-system",
    leaseName: i.leaseName ?? "kube-controller-manager",
    identity: i.identity ?? defaultIdentity(),
    serve,
    qps,
    burst,
    useServiceAccountCredentials: i.useServiceAccountCredentials ?? false,
    log: i.log,
  };
}

/** The signing pair must be both halves of one key pair (upstream refuses to start otherwise). */
function compileCSRSigning(i: ControllerManagerOptionsInput, bad: (msg: string) => never): CSRSigningOptions {
  const durationMs = i.clusterSigningDurationMs;
  if (durationMs !== undefined && !(durationMs > 0)) bad(`--cluster-signing-duration must be positive, got ${durationMs}ms`);
  const { clusterSigningCert: certPem, clusterSigningKey: keyPem } = i;
  if (!keyPem) return durationMs !== undefined ? { durationMs } : {};
  if (!certPem) bad("--cluster-signing-key-file is given without --cluster-signing-cert-file");
  try {
    checkSigningPair({ certPem, keyPem });
  } catch (err) {
    if (err instanceof PkiError) bad(`cluster signing certificate and key: ${err.message}`);
    throw err;
  }
  return { ca: { certPem, keyPem }, ...(durationMs !== undefined ? { durationMs } : {}) };
}

/**
 * The term's informer factory. Whatever client a controller names a resource with, the shared
 * informer lists and watches with the factory's own: upstream's shared informers run as the
 * manager (system:kube-controller-manager may list and watch everything), not as whichever
 * controller asked first, whose account need not list that resource.
 */
class ManagerInformerFactory extends SharedInformerFactory {
  private readonly own: RestClient;

  constructor(o: SharedInformerFactoryOptions) {
    super(o);
    this.own = o.client;
  }

  override informerFor<T extends KubeObject>(rc: ResourceClient<T>): SharedInformer<T> {
    return super.informerFor(new ResourceClient<T>(this.own, rc.info, rc.scope));
  }
}

export class ControllerManager {
  readonly registry = new Registry();
  private readonly metrics: ControllerMetrics;
  private readonly leaderGauge: Gauge;
  private readonly log: Logger;
  private readonly stopper = new AbortController();
  private config: ClientConfig | undefined;
  private client: RestClient | undefined;
  private http: Server | undefined;
  private loop: Promise<void> | undefined;
  private leading = false;
  private terms = 0;
  private leadWaiters: (() => void)[] = [];

  constructor(readonly options: ControllerManagerOptions) {
    this.log = options.log.child({ component: "controller-manager" });
    this.metrics = newControllerMetrics(this.registry);
    this.leaderGauge = new Gauge({ name: "leader_election_master_status", help: "1 while this instance is the leader, else 0.", labelNames: ["name"], registers: [this.registry] });
    this.leaderGauge.set({ name: options.leaseName }, 0);
  }

  /** Resolves once the health server listens and the campaign (or, without election, the controllers) started. */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.loop) throw new ControllerManagerError("InvalidOptions", "the controller-manager was already started");
    const o = this.options;
    this.config = await loadKubeconfig(o.kubeconfig);
    // The lease gets a client of its own, so that no amount of controller traffic can throttle
    // a renewal past the renew deadline.
    this.client = this.newClient("leader-election");
    if (o.serve) this.http = await this.listen(o.serve.host, o.serve.port);
    signal?.addEventListener("abort", () => void this.stop().catch((err: unknown) => this.log.error({ err }, "stopping failed")), { once: true });
    this.log.info({ controllers: o.enabled.map((e) => e.controller.name), leaderElect: o.leaderElect, identity: o.identity, health: this.healthUrl }, "controller-manager starting");
    this.loop = this.run(this.client).catch((err: unknown) => this.log.error({ err }, "controller-manager loop failed"));
  }

  /** Stops the controllers (in-flight reconciles finish), releases the lease, closes the server and client. */
  async stop(): Promise<void> {
    this.stopper.abort();
    await this.loop;
    if (this.http) {
      const http = this.http;
      this.http = undefined;
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    }
    this.client?.close();
    for (const w of this.leadWaiters.splice(0)) w();
  }

  /** `http://host:port` of /healthz and /metrics, when served. */
  get healthUrl(): string | undefined {
    const a = this.http?.address() as AddressInfo | null | undefined;
    if (!a) return undefined;
    const host = a.family === "IPv6" ? `[${a.address}]` : a.address;
    return `http://${host}:${a.port}`;
  }

  /** True while the controllers run (this instance leads, or election is off). */
  isLeading(): boolean {
    return this.leading;
  }

  /** How many times the controllers were started (terms of leadership). */
  get leadershipTerms(): number {
    return this.terms;
  }

  /** Resolves true once the controllers run, false if stopped or `signal` aborts first. */
  waitUntilLeading(signal?: AbortSignal): Promise<boolean> {
    if (this.leading) return Promise.resolve(true);
    if (this.stopper.signal.aborted || signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = (): void => resolve(false);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.leadWaiters.push(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve(this.leading);
      });
    });
  }

  /**
   * A client named `<user agent>/<name>` with its own throttle, as upstream gives every
   * controller (and the shared informers, and the election) its own, so one busy controller
   * cannot starve the others.
   */
  private newClient(name: string, tokenSource?: TokenSource): RestClient {
    const o = this.options;
    if (!tokenSource) return new RestClient({ config: this.config!, component: "controller-manager", name, qps: o.qps, burst: o.burst });
    // The server and its CA from the kubeconfig, none of its credentials (upstream's
    // AnonymousClientConfig): the token is the only identity this client shows.
    const { server, caPem, insecureSkipTLSVerify, tlsServerName, namespace, contextName } = this.config!;
    const config: ClientConfig = { server, insecureSkipTLSVerify, namespace, ...(caPem !== undefined ? { caPem } : {}), ...(tlsServerName !== undefined ? { tlsServerName } : {}), ...(contextName !== undefined ? { contextName } : {}) };
    return new RestClient({ config, component: "controller-manager", name, qps: o.qps, burst: o.burst, tokenSource });
  }

  private async run(client: RestClient): Promise<void> {
    const o = this.options;
    const signal = this.stopper.signal;
    setMaxListeners(0, signal);
    await runLeaderElected(
      { ...o, leases: client.forKind("coordination.k8s.io/v1", "Lease"), log: this.log, what: "controllers" },
      (term) => this.lead(term),
      signal,
    );
  }

  /** One term: fresh informers and recorders, every enabled controller, until `signal` aborts. */
  private async lead(signal: AbortSignal): Promise<void> {
    // Every informer, queue and controller of the term listens on this one signal.
    setMaxListeners(0, signal);
    const o = this.options;
    const log = this.log;
    const informerClient = this.newClient("shared-informers");
    const clients = [informerClient];
    // Caches drop managedFields (nothing here reads them), as upstream's components do.
    const informers = new ManagerInformerFactory({ client: informerClient, log, omitManagedFields: true });
    const recorders: EventRecorder[] = [];
    const started: { name: string; controller: Controller; workers: number }[] = [];
    let tokens: ServiceAccountTokens | undefined;
    if (o.useServiceAccountCredentials) {
      // The manager's own identity creates the accounts and asks for their tokens.
      const tokensClient = this.newClient("serviceaccount-tokens");
      clients.push(tokensClient);
      const source = new ServiceAccountTokens({ client: tokensClient, log });
      tokens = source;
      // Every account has its first token before any controller starts, as upstream's client
      // builder makes sure of each account before handing out its client.
      const accounts = [...new Set(o.enabled.map((e) => controllerServiceAccount(e.controller)))];
      const ready = await Promise.all(accounts.map((a) => source.ensure(a, signal)));
      if (ready.some((ok) => !ok)) {
        source.close();
        for (const c of clients) c.close();
        return;
      }
    }
    for (const { controller: k, workers } of o.enabled) {
      const client = this.newClient(k.name, tokens?.tokenSource(controllerServiceAccount(k)));
      clients.push(client);
      const events = EventRecorder.forClient(client, { component: k.eventSource ?? k.name, log });
      recorders.push(events);
      const ctx: ControllerContext = { client, informers, events, log, metrics: this.metrics, registry: this.registry };
      try {
        started.push({ name: k.name, controller: k.factory(ctx), workers });
      } catch (err) {
        log.error({ err, controller: k.name }, "controller could not be constructed; not started");
      }
    }
    informers.start(signal);
    const runs = started.map(({ name, controller, workers }) =>
      controller.run(signal, workers).catch((err: unknown) => log.error({ err, controller: name }, "controller stopped with an error")),
    );
    this.terms++;
    this.leading = true;
    this.leaderGauge.set({ name: o.leaseName }, 1);
    for (const w of this.leadWaiters.splice(0)) w();
    try {
      await Promise.all(runs);
    } finally {
      this.leading = false;
      this.leaderGauge.set({ name: o.leaseName }, 0);
      await informers.shutdown();
      await Promise.all(recorders.map((r) => r.shutdown()));
      tokens?.close();
      for (const c of clients) c.close();
    }
  }

  private listen(host: string, port: number): Promise<Server> {
    const server = createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0];
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405).end();
        return;
      }
      if (path === "/healthz" || path === "/livez" || path === "/readyz") {
        res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" }).end("ok");
        return;
      }
      if (path === "/metrics") {
        this.registry.metrics().then(
          (text) => res.writeHead(200, { "Content-Type": this.registry.contentType }).end(text),
          (err: unknown) => res.writeHead(500).end(String(err)),
        );
        return;
      }
      res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("404 page not found\n");
    });
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve(server);
      });
    });
  }
}
