// The API server: compiled options → store, certificates, watch cache, handler chain, HTTPS.
// `start()` returns once it serves; `stop()` drains (model: k3s's server, one component of
// the same shape as every other).
import { createServer, type Server as HttpsServer } from "node:https";
import { ServerResponse, type IncomingMessage } from "node:http";
import type { Lease } from "kubernetes-types/coordination/v1.js";
import type { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from "kubernetes-types/rbac/v1.js";
import type { Duplex } from "node:stream";
import type { AddressInfo } from "node:net";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import { openStore, DEFAULT_STORE_URL, type StoreOptionsInput } from "../storage/index.js";
import type { Store } from "../storage/interface.js";
import { ensureClusterPKI, type ClusterPKI } from "../util/pki.js";
import { buildKubeconfig, writeKubeconfig } from "../util/kubeconfig.js";
import { x509Authenticator } from "./authn/x509.js";
import { tokenFileAuthenticator } from "./authn/token.js";
import { bootstrapTokenAuthenticator } from "./authn/bootstraptoken.js";
import { union, type Authenticator } from "./authn/types.js";
import { AdmissionChain, type AdmissionPlugin } from "./admission/types.js";
import { namespaceLifecycle } from "./admission/namespacelifecycle.js";
import { defaultTolerationSeconds } from "./admission/defaulttolerationseconds.js";
import { limitRanger } from "./admission/limitranger.js";
import { defaultStorageClassAdmission } from "./admission/defaultstorageclass.js";
import { storageObjectInUseProtection } from "./admission/storageobjectinuse.js";
import { runtimeClassAdmission } from "./admission/runtimeclass.js";
import { NODE_RESTRICTION_PLUGIN, nodeRestriction } from "./admission/noderestriction.js";
import { nodeAuthorizer } from "./nodeauthz/authorizer.js";
import { NodeGraph, type GraphResource } from "./nodeauthz/graph.js";
import { resourceQuota, type QuotaAccess } from "./admission/resourcequota.js";
import { MUTATING_WEBHOOK_PLUGIN, VALIDATING_WEBHOOK_PLUGIN, mutatingWebhookAdmission, validatingWebhookAdmission } from "./admission/webhook/plugin.js";
import { VALIDATING_ADMISSION_POLICY_PLUGIN, validatingAdmissionPolicy } from "./admission/policy/plugin.js";
import { CERTIFICATE_APPROVAL_PLUGIN, CERTIFICATE_SIGNING_PLUGIN, CERTIFICATE_SUBJECT_RESTRICTION_PLUGIN, certificateApproval, certificateSigning, certificateSubjectRestriction } from "./admission/certificates.js";
import { cachedPolicySource, cachedWebhookSource } from "./admission/webhook/source.js";
import { notFound } from "./status.js";
import { DEFAULT_SERVICE_ACCOUNT_ISSUER, SERVICE_ACCOUNT_PLUGIN, ServiceAccounts } from "./serviceaccount/index.js";
import { chain, type HttpContext, type UserInfo } from "./http.js";
import { recovery } from "./filters/recovery.js";
import { requestInfo } from "./filters/requestinfo.js";
import { authentication } from "./filters/authentication.js";
import { maxInFlight } from "./filters/maxinflight.js";
import { audit, type AuditSink } from "./filters/audit.js";
import { authorization, type Authorizer } from "./filters/authorization.js";
import { authorizerFor, rbacAuthorizer, type AuthorizationMode } from "./rbac/authorizer.js";
import { RuleResolver, type RbacSource } from "./rbac/resolver.js";
import { reconcileBootstrapPolicy } from "./rbac/reconcile.js";
import { rbacWriteHooks } from "./rbac/escalation.js";
import { impersonation } from "./filters/impersonation.js";
import { Registry, resourcePrefix } from "./registry/registry.js";
import type { KubeObject, ResourceDefinition } from "./registry/types.js";
import { ResourceStore, type WriteHooks } from "./rest/store.js";
import { RBAC_GROUP } from "./resources/rbac.js";
import { DEFAULT_HISTORY_WINDOW_MS, WatchCache, type DecodedObjects } from "./watchcache.js";
import { legacyBindingResource, restHandler, notFoundResource } from "./handlers/rest.js";
import type { SchemaChecker } from "./decode.js";
import { Discovery } from "./handlers/discovery.js";
import { reviewResources, serveReview } from "./handlers/reviews.js";
import { componentStatusApi, componentStatusResource, leaseHealth, storeComponentName, storeHealth, type ComponentCheck } from "./handlers/componentstatus.js";
import { metricsApi, metricsResources } from "./metricsapi/handler.js";
import { Scraper } from "./metricsapi/scraper.js";
import { serveMisc, type HealthCheck } from "./handlers/misc.js";
import { createPatcher, managedFieldsTracker } from "./handlers/patch.js";
import { ApiServerMetrics } from "./metrics.js";
import { bootstrap } from "./bootstrap.js";
import type { NamespacePhase } from "./admission/namespacelifecycle.js";
import { OpenAPIService } from "./handlers/openapi.js";
import { ensureKubeletClientCert } from "./proxy/certs.js";
import { CrdManager } from "./crd/manager.js";
import { CRD_GROUP } from "./crd/definition.js";
import { subresourceProxy, upgradeHeads } from "./proxy/index.js";
import { DEFAULT_SERVICE_CLUSTER_IP_RANGE, DEFAULT_SERVICE_NODE_PORT_RANGE, PortRange, ServiceNetworking, defaultAdvertiseAddress, parseServiceCIDRs, type ServiceCIDR } from "./allocators/index.js";

/** Why a request's signal fired: its response closed (sent, or the client went away). */
const CONNECTION_CLOSED = new Error("the connection closed");

export interface ApiServerOptionsInput {
  readonly dataDir: string;
  /** Store URL; default sqlite://<dataDir>/state.db. */
  readonly storeUrl?: string;
  readonly storeOptions?: StoreOptionsInput;
  readonly port?: number;
  readonly bindAddress?: string;
  /** Extra names and addresses for the serving certificate. */
  readonly extraSANs?: readonly string[];
  readonly resources: readonly ResourceDefinition[];
  readonly log: Logger;
  readonly maxRequestsInflight?: number;
  readonly maxMutatingRequestsInflight?: number;
  readonly tokenAuthFile?: string;
  readonly auditSink?: AuditSink;
  /** --authorization-mode: default Node,RBAC (as kubeadm sets it). */
  readonly authorizationModes?: readonly AuthorizationMode[];
  /** Replaces the modes' authorizer (tests). */
  readonly authorizer?: Authorizer;
  readonly admissionPlugins?: readonly AdmissionPlugin[];
  /** Events kept per resource in the watch cache. */
  readonly watchCacheHistory?: number;
  /** --service-cluster-ip-range: one CIDR, or two of different families; default 10.43.0.0/16. */
  readonly serviceClusterIPRange?: string;
  /** --service-node-port-range; default 30000-32767. */
  readonly serviceNodePortRange?: string;
  /** --advertise-address: this server's address in the `kubernetes` endpoints; default from the bind address. */
  readonly advertiseAddress?: string;
  /** --service-account-issuer: the `iss` of ServiceAccount tokens; default https://kubernetes.default.svc.cluster.local. */
  readonly serviceAccountIssuer?: string;
  /** --api-audiences: audiences a token must name one of, and the default of a TokenRequest; default [issuer]. */
  readonly apiAudiences?: readonly string[];
  /**
   * --disable-admission-plugins: built-in plugins to leave out (BUILTIN_ADMISSION_PLUGINS:
   * NamespaceLifecycle, LimitRanger, ServiceAccount, NodeRestriction, DefaultTolerationSeconds, …).
   */
  readonly disableAdmissionPlugins?: readonly string[];
}

export interface ApiServerOptions {
  readonly dataDir: string;
  readonly storeUrl: string;
  readonly storeOptions: StoreOptionsInput;
  readonly port: number;
  readonly bindAddress: string;
  readonly extraSANs: readonly string[];
  readonly resources: readonly ResourceDefinition[];
  readonly log: Logger;
  readonly maxRequestsInflight: number;
  readonly maxMutatingRequestsInflight: number;
  readonly tokenAuthFile: string | undefined;
  readonly auditSink: AuditSink | undefined;
  readonly authorizationModes: readonly AuthorizationMode[];
  readonly authorizer: Authorizer | undefined;
  readonly admissionPlugins: readonly AdmissionPlugin[];
  readonly watchCacheHistory: number;
  /** events younger than this stay in each resource's history (upstream's 75 s); 0 when watchCacheHistory was given (a fixed size, for tests) */
  readonly watchCacheHistoryWindowMs: number;
  readonly serviceCIDRs: readonly ServiceCIDR[];
  readonly nodePortRange: PortRange;
  readonly advertiseAddress: string | undefined;
  readonly serviceAccountIssuer: string;
  readonly apiAudiences: readonly string[];
  readonly disableAdmissionPlugins: readonly string[];
}

export function compileApiServerOptions(input: ApiServerOptionsInput): ApiServerOptions {
  const port = input.port ?? 6443;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`--port must be 0..65535, got ${port}`);
  return {
    dataDir: input.dataDir,
    storeUrl: input.storeUrl ?? DEFAULT_STORE_URL(input.dataDir),
    storeOptions: input.storeOptions ?? {},
    port,
    bindAddress: input.bindAddress ?? "127.0.0.1",
    extraSANs: input.extraSANs ?? [],
    resources: input.resources,
    log: input.log,
    maxRequestsInflight: positiveInt("--max-requests-inflight", input.maxRequestsInflight ?? 400),
    maxMutatingRequestsInflight: positiveInt("--max-mutating-requests-inflight", input.maxMutatingRequestsInflight ?? 200),
    tokenAuthFile: input.tokenAuthFile,
    auditSink: input.auditSink,
    authorizationModes: input.authorizationModes ?? ["Node", "RBAC"],
    authorizer: input.authorizer,
    admissionPlugins: input.admissionPlugins ?? [],
    watchCacheHistory: input.watchCacheHistory ?? 10_000,
    watchCacheHistoryWindowMs: input.watchCacheHistory === undefined ? DEFAULT_HISTORY_WINDOW_MS : 0,
    serviceCIDRs: parseServiceCIDRs(input.serviceClusterIPRange ?? DEFAULT_SERVICE_CLUSTER_IP_RANGE),
    nodePortRange: PortRange.parse(input.serviceNodePortRange ?? DEFAULT_SERVICE_NODE_PORT_RANGE),
    advertiseAddress: input.advertiseAddress ?? defaultAdvertiseAddress(input.bindAddress ?? "127.0.0.1"),
    ...serviceAccountOptions(input),
  };
}

/** Every built-in plugin --disable-admission-plugins may name. */
const BUILTIN_ADMISSION_PLUGINS = [
  "NamespaceLifecycle",
  "LimitRanger",
  SERVICE_ACCOUNT_PLUGIN,
  NODE_RESTRICTION_PLUGIN,
  "DefaultTolerationSeconds",
  "DefaultStorageClass",
  "StorageObjectInUseProtection",
  "RuntimeClass",
  CERTIFICATE_APPROVAL_PLUGIN,
  CERTIFICATE_SIGNING_PLUGIN,
  CERTIFICATE_SUBJECT_RESTRICTION_PLUGIN,
  MUTATING_WEBHOOK_PLUGIN,
  VALIDATING_ADMISSION_POLICY_PLUGIN,
  VALIDATING_WEBHOOK_PLUGIN,
  "ResourceQuota",
];

function serviceAccountOptions(input: ApiServerOptionsInput): Pick<ApiServerOptions, "serviceAccountIssuer" | "apiAudiences" | "disableAdmissionPlugins"> {
  const issuer = input.serviceAccountIssuer ?? DEFAULT_SERVICE_ACCOUNT_ISSUER;
  if (issuer === "" || (issuer.includes(":") && !/^https:\/\//.test(issuer))) throw new RangeError(`--service-account-issuer must be a string without a colon or an https:// URL, got ${JSON.stringify(issuer)}`);
  const audiences = input.apiAudiences ?? [issuer];
  if (audiences.length === 0 || audiences.some((a) => a === "")) throw new RangeError("--api-audiences must name at least one non-empty audience");
  const disabled = input.disableAdmissionPlugins ?? [];
  for (const name of disabled) if (!BUILTIN_ADMISSION_PLUGINS.includes(name)) throw new RangeError(`--disable-admission-plugins: unknown plugin "${name}"`);
  return { serviceAccountIssuer: issuer, apiAudiences: audiences, disableAdmissionPlugins: disabled };
}

function positiveInt(flag: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${flag} must be a positive integer, got ${v}`);
  return v;
}

const IP = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]+:[0-9a-fA-F:]*)$/;

export class ApiServer {
  private store: Store | undefined;
  private cache: WatchCache | undefined;
  private server: HttpsServer | undefined;
  private pki: ClusterPKI | undefined;
  /** Responses in progress, ended when the server stops (watches would otherwise hold it open). */
  private readonly active = new Set<ServerResponse>();
  private ready = false;
  readonly metrics = new ApiServerMetrics();
  readonly registry: Registry;
  private stores = new Map<ResourceDefinition, ResourceStore>();
  private serviceNetworking: ServiceNetworking | undefined;
  private metricsScraper: Scraper | undefined;
  private crdManager: CrdManager | undefined;

  constructor(readonly options: ApiServerOptions) {
    this.registry = new Registry(options.resources);
  }

  /** https://host:port the server listens on (after start). */
  get url(): string {
    const addr = this.server?.address() as AddressInfo | null;
    if (!addr) throw new Error("API server is not listening");
    const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address === "0.0.0.0" ? "127.0.0.1" : addr.address;
    return `https://${host}:${addr.port}`;
  }

  get kubeconfigPath(): string {
    return join(this.options.dataDir, "admin.kubeconfig");
  }

  get caPath(): string {
    return this.pki!.paths.caCert;
  }

  async start(): Promise<void> {
    const o = this.options;
    const log = o.log;
    mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
    this.pki = await ensureClusterPKI(o.dataDir, {
      sans: {
        dnsNames: o.extraSANs.filter((s) => !IP.test(s)),
        // The `kubernetes` Service's ClusterIP (first address of each service range): in-cluster clients dial it.
        ipAddresses: [...o.extraSANs.filter((s) => IP.test(s)), ...(o.bindAddress !== "0.0.0.0" && o.bindAddress !== "::" ? [o.bindAddress] : []), ...o.serviceCIDRs.map((c) => c.indexedIP(1))],
      },
    });
    // The client certificate kubelets know us by (pods/log, exec, attach, portforward, nodes/proxy).
    const kubeletClient = await ensureKubeletClientCert(this.pki.paths.dir, this.pki.ca);
    const store = this.metrics.instrument(await openStore(o.storeUrl, o.storeOptions));
    this.store = store;
    const cache = new WatchCache(store, this.registry.storagePrefixes(), {
      historySize: o.watchCacheHistory,
      ...(o.watchCacheHistoryWindowMs > 0 ? { historyWindowMs: o.watchCacheHistoryWindowMs } : {}),
      watcherQueueLimit: 10_000,
      root: "/registry/",
      onError: (err) => log.warn({ err }, "watch cache restarting its storage watch"),
    });
    await cache.start();
    this.cache = cache;

    const nsDef = this.registry.lookup("", "v1", "namespaces");
    /** An object as the watch cache holds it now. */
    const cachedObject = (def: ResourceDefinition, namespace: string, name: string): Readonly<KubeObject> | undefined => cache.resource(resourcePrefix(def)).get(resourcePrefix(def, namespace) + name)?.object;
    /** A resource's objects in a namespace ("" for all), as the watch cache holds them now. */
    const cachedList = (def: ResourceDefinition, namespace: string): readonly Readonly<KubeObject>[] => cache.resource(resourcePrefix(def)).list(resourcePrefix(def, namespace)).map((c) => c.object);
    /** A cluster-scoped object: the cache's copy, or the store's (the truth) when the cache lags one written a moment ago. */
    const cachedOrStored = async (def: ResourceDefinition, name: string): Promise<Readonly<KubeObject> | undefined> => cachedObject(def, "", name) ?? (await this.stores.get(def)!.get("", name).catch(() => undefined));
    const phaseOf = async (name: string): Promise<NamespacePhase | undefined> => {
      if (!nsDef) return "Active";
      const cached = await cachedOrStored(nsDef, name);
      if (!cached) return undefined;
      return (cached["status"] as { phase?: NamespacePhase } | undefined)?.phase ?? "Active";
    };
    // ServiceAccount tokens signed with the PKI's sa.key (made on first start, kept after);
    // their lookups go through the stores made below, resolved per request.
    const coreStore = (plural: string): ResourceStore | undefined => {
      const def = this.registry.lookup("", "v1", plural);
      return def ? this.stores.get(def) : undefined;
    };
    // A TokenRequest is admitted by NodeRestriction alone (made below): a node gets tokens only for its own pods.
    const saDef = this.registry.lookup("", "v1", "serviceaccounts");
    const admitTokenRequest = (req: KubeObject, namespace: string, name: string, user: UserInfo): Promise<void> | void =>
      saDef && !o.disableAdmissionPlugins.includes(NODE_RESTRICTION_PLUGIN) ? nodeRestrictionPlugin.validate?.({ operation: "CREATE", resource: saDef, subresource: "token", namespace, name, object: req, oldObject: undefined, user, dryRun: false }) : undefined;
    const serviceAccounts = new ServiceAccounts({ signingKeyPem: this.pki.serviceAccount.privateKeyPem, issuer: o.serviceAccountIssuer, audiences: o.apiAudiences, store: coreStore, namespacePhase: phaseOf, admitTokenRequest });
    /** A core resource's objects in a namespace, as the watch cache holds them (admission's view of LimitRanges and quotas). */
    const cachedIn = (plural: string) => {
      const def = this.registry.lookup("", "v1", plural);
      return (namespace: string): readonly Readonly<KubeObject>[] => (def ? cachedList(def, namespace) : []);
    };
    // ResourceQuota admission charges quotas through their store, made below with the chain.
    const quotas: QuotaAccess = {
      quotasOf: cachedIn("resourcequotas"),
      updateStatus: async (namespace, name, next) => {
        const store = coreStore("resourcequotas");
        if (!store) return;
        const ctx = { namespace, user: { username: "system:apiserver", groups: ["system:masters"] }, now: new Date(), dryRun: false };
        await store.update(
          namespace,
          name,
          (current) => {
            if (!current) throw notFound({ group: "", resource: "resourcequotas" }, name);
            return next(current);
          },
          ctx,
          { subresource: "status", borrow: true },
        );
      },
    };
    const rcDef = this.registry.lookup("node.k8s.io", "v1", "runtimeclasses");
    const runtimeClass = async (name: string): Promise<Readonly<KubeObject> | undefined> => (rcDef ? cachedOrStored(rcDef, name) : undefined);
    const scDef = this.registry.lookup("storage.k8s.io", "v1", "storageclasses");
    const storageClasses = (): readonly Readonly<KubeObject>[] => (scDef ? cachedList(scDef, "") : []);
    const cacheAccess = { lookup: (group: string, version: string, plural: string) => this.registry.lookup(group, version, plural), list: cachedList, get: cachedOrStored, definitions: () => this.registry.definitions };
    const webhooks = cachedWebhookSource(cacheAccess);
    const webhookLog = log.child({ component: "admission-webhook" });
    const policySource = cachedPolicySource(cacheAccess);
    // What a node may touch: the Node authorizer's graph (pods, volumes, attachments) follows the
    // watch cache; NodeRestriction reads the pods and Nodes it holds.
    const podDefForNodes = this.registry.lookup("", "v1", "pods");
    const nodeDefForNodes = this.registry.lookup("", "v1", "nodes");
    const graphDefs: Record<GraphResource, ResourceDefinition | undefined> = {
      pods: podDefForNodes,
      persistentvolumes: this.registry.lookup("", "v1", "persistentvolumes"),
      volumeattachments: this.registry.lookup("storage.k8s.io", "v1", "volumeattachments"),
    };
    const nodeGraph = new NodeGraph({
      watch: (resource) => {
        const def = graphDefs[resource];
        return def ? cache.resource(resourcePrefix(def)).watch(resourcePrefix(def), undefined, undefined) : undefined;
      },
    });
    const nodeRestrictionPlugin = nodeRestriction({ pod: (namespace, name) => (podDefForNodes ? cachedObject(podDefForNodes, namespace, name) : undefined), node: (name) => (nodeDefForNodes ? cachedObject(nodeDefForNodes, "", name) : undefined) });
    // In upstream's order (AllOrderedPlugins): NodeRestriction after ServiceAccount, the webhooks after the built-in mutating plugins, ResourceQuota last.
    const builtinPlugins = [
      namespaceLifecycle(phaseOf),
      limitRanger(cachedIn("limitranges")),
      serviceAccounts.admission(),
      nodeRestrictionPlugin,
      defaultTolerationSeconds(),
      defaultStorageClassAdmission(storageClasses),
      storageObjectInUseProtection(),
      runtimeClassAdmission(runtimeClass),
      // The authorizer is made below, after the chain; the plugins ask for it per request.
      certificateApproval(() => authorizer),
      certificateSigning(() => authorizer),
      certificateSubjectRestriction(),
      mutatingWebhookAdmission(webhooks, webhookLog),
      validatingAdmissionPolicy(policySource, log.child({ component: "admission-policy" })),
      validatingWebhookAdmission(webhooks, webhookLog),
      resourceQuota(quotas),
    ].filter((p) => !o.disableAdmissionPlugins.includes(p.name));
    const admission = new AdmissionChain([...builtinPlugins, ...o.admissionPlugins]);
    /** Resources served by their own handlers, listed in discovery and OpenAPI beside the registry's. */
    const virtualResources = [legacyBindingResource, ...reviewResources, ...metricsResources, componentStatusResource];
    const openapi = new OpenAPIService(this.registry, virtualResources);
    const trackManagedFields = managedFieldsTracker((def) => openapi.patchSchema(def));
    const svcDef = this.registry.lookup("", "v1", "services");
    const networking = svcDef ? new ServiceNetworking({ store, serviceCIDRs: o.serviceCIDRs, nodePortRange: o.nodePortRange, log: log.child({ component: "service-networking" }) }) : undefined;
    // RBAC reads roles and bindings from the watch cache; their writes are checked for escalation.
    const rbacDef = (plural: string): ResourceDefinition | undefined => this.registry.lookup(RBAC_GROUP, "v1", plural);
    const rbacDefs = { roles: rbacDef("roles"), clusterRoles: rbacDef("clusterroles"), roleBindings: rbacDef("rolebindings"), clusterRoleBindings: rbacDef("clusterrolebindings") };
    // Asked on every request of anyone outside system:masters: read from the cache's decoded
    // snapshots, which stay parsed until the resource changes.
    const decodedOf = (def: ResourceDefinition): DecodedObjects => cache.resource(resourcePrefix(def)).decoded();
    const rbacSource: RbacSource = {
      clusterRoleBindings: () => (rbacDefs.clusterRoleBindings ? decodedOf(rbacDefs.clusterRoleBindings).list : []) as unknown as readonly ClusterRoleBinding[],
      roleBindings: (namespace) => (rbacDefs.roleBindings ? decodedOf(rbacDefs.roleBindings).list.filter((b) => b.metadata?.namespace === namespace) : []) as unknown as readonly RoleBinding[],
      clusterRole: (name) => (rbacDefs.clusterRoles ? decodedOf(rbacDefs.clusterRoles).byKey.get(resourcePrefix(rbacDefs.clusterRoles) + name) : undefined) as unknown as ClusterRole | undefined,
      role: (namespace, name) => (rbacDefs.roles ? decodedOf(rbacDefs.roles).byKey.get(resourcePrefix(rbacDefs.roles, namespace) + name) : undefined) as unknown as Role | undefined,
    };
    const ruleResolver = new RuleResolver(rbacSource);
    const authorizer = o.authorizer ?? authorizerFor(o.authorizationModes, () => rbacAuthorizer(ruleResolver), () => nodeAuthorizer(nodeGraph));
    const rbacEnabled = o.authorizer === undefined && o.authorizationModes.includes("RBAC");
    const rbacHooks = rbacWriteHooks({ resolver: ruleResolver, authorizer });
    const hooksOf = (def: ResourceDefinition): WriteHooks | undefined => {
      if (networking && def === svcDef) return networking.hooks();
      if (def.group === RBAC_GROUP) return rbacHooks[def.plural as keyof typeof rbacHooks];
      return undefined;
    };
    for (const def of o.resources) {
      const hooks = hooksOf(def);
      this.stores.set(def, new ResourceStore(def, { store, cache, admission, trackManagedFields, ...(hooks ? { hooks } : {}) }));
    }
    const pcDef = this.registry.lookup("scheduling.k8s.io", "v1", "priorityclasses");
    await bootstrap({ ...(nsDef ? { namespaces: this.stores.get(nsDef)! } : {}), ...(pcDef ? { priorityClasses: this.stores.get(pcDef)! } : {}) });
    // The default roles and bindings (cluster-admin, admin/edit/view, system:*), kept up to date.
    if (rbacDefs.roles && rbacDefs.clusterRoles && rbacDefs.roleBindings && rbacDefs.clusterRoleBindings) {
      await reconcileBootstrapPolicy(
        { roles: this.stores.get(rbacDefs.roles)!, clusterRoles: this.stores.get(rbacDefs.clusterRoles)!, roleBindings: this.stores.get(rbacDefs.roleBindings)!, clusterRoleBindings: this.stores.get(rbacDefs.clusterRoleBindings)! },
        log.child({ component: "rbac-bootstrap" }),
      );
    }
    // CustomResourceDefinitions in the store are served again before the server reports ready.
    const crdDef = this.registry.lookup(CRD_GROUP, "v1", "customresourcedefinitions");
    if (crdDef) {
      this.crdManager = new CrdManager({
        crds: this.stores.get(crdDef)!,
        registry: this.registry,
        cache,
        stores: this.stores,
        makeStore: (def) => new ResourceStore(def, { store, cache, admission, trackManagedFields }),
        log: log.child({ component: "customresourcedefinitions" }),
      });
      await this.crdManager.start();
    }

    // Bearer tokens: the token file's, bootstrap tokens (kube-system/bootstrap-token-<id>, read from the
    // watch cache), then ServiceAccount tokens; asked by requests and by TokenReviews.
    const secretDef = this.registry.lookup("", "v1", "secrets");
    const bootstrapTokens = bootstrapTokenAuthenticator((name) => (secretDef ? cachedObject(secretDef, "kube-system", name) : undefined), undefined, o.apiAudiences);
    const tokens = [...(o.tokenAuthFile ? [await tokenFileAuthenticator(o.tokenAuthFile, o.apiAudiences)] : []), bootstrapTokens, serviceAccounts.authenticator()];
    const authenticators: Authenticator[] = [x509Authenticator({ clientCA: this.pki.ca.certPem }), ...tokens];
    const patcher = createPatcher((def) => openapi.patchSchema(def));
    const checkSchema: SchemaChecker = (def, obj) => openapi.checkSchema(def, obj);
    const rest = restHandler({
      registry: this.registry,
      stores: this.stores,
      patcher,
      checkSchema,
      log,
      watchTimeoutSeconds: () => Math.floor(1800 * (1 + Math.random())),
    });
    const discovery = new Discovery(this.registry, virtualResources);
    const proxy = subresourceProxy({ pods: coreStore("pods"), nodes: coreStore("nodes"), services: coreStore("services"), endpoints: coreStore("endpoints"), kubeletClient });
    // metrics.k8s.io (`kubectl top`) from the kubelets' resource metrics, scraped while it is used.
    const nodeDef = this.registry.lookup("", "v1", "nodes");
    const podDef = this.registry.lookup("", "v1", "pods");
    let serveMetrics: ((ctx: HttpContext) => Promise<boolean>) | undefined;
    if (nodeDef && podDef) {
      this.metricsScraper = new Scraper({ nodes: () => cachedList(nodeDef, ""), kubeletClient, log: log.child({ component: "metrics" }) });
      serveMetrics = metricsApi({ scraper: this.metricsScraper, nodes: nodeDef, pods: podDef, list: cachedList, get: cachedObject });
    }
    // `kubectl get componentstatuses`: the scheduler and controller-manager by their leader-election Leases, and the store.
    const leaseDef = this.registry.lookup("coordination.k8s.io", "v1", "leases");
    const heldLease = (component: string, name: string): ComponentCheck => ({
      name: component,
      check: async () => leaseHealth(leaseDef ? (cachedObject(leaseDef, "kube-system", name) as Lease | undefined) : undefined, `kube-system/${name}`, component, Date.now()),
    });
    const serveComponentStatus = componentStatusApi([heldLease("scheduler", "kube-scheduler"), heldLease("controller-manager", "kube-controller-manager"), { name: storeComponentName(o.storeUrl), check: () => storeHealth(() => store.currentRevision()) }]);
    const checks: HealthCheck[] = [
      { name: "ping", check: () => true },
      { name: "log", check: () => true },
      { name: "etcd", check: () => this.ready },
      { name: "poststarthook/start-watch-cache", check: () => this.ready },
    ];
    const route = async (ctx: HttpContext): Promise<void> => {
      if (await serveMisc(ctx, { checks, metrics: this.metrics.registry })) return;
      if (openapi.handle(ctx)) return;
      // serviceaccounts/token and the token issuer's discovery documents.
      if (await serviceAccounts.serve(ctx)) return;
      if (ctx.info.isResourceRequest) {
        if (await serveReview(ctx, { authorizer, ...(rbacEnabled ? { rules: ruleResolver } : {}), tokens, checkSchema })) return;
        // pods/{log,exec,attach,portforward,proxy}, nodes/{name}/proxy and services/{name}/proxy go to kubelets and pods.
        if (await proxy(ctx)) return;
        if (serveMetrics && (await serveMetrics(ctx))) return;
        if (await serveComponentStatus(ctx)) return;
        return rest(ctx);
      }
      if (discovery.handle(ctx)) return;
      throw notFoundResource();
    };
    const handler = chain(
      [recovery(log), requestInfo, authentication(union(authenticators)), impersonation(authorizer), this.metrics.filter(), maxInFlight({ readOnly: o.maxRequestsInflight, mutating: o.maxMutatingRequestsInflight }), audit(o.auditSink), authorization(authorizer)],
      route,
    );

    const serve = (req: IncomingMessage, res: ServerResponse): void => {
      // The request's signal is made only for the handlers that read it (watches, proxies):
      // an AbortController per request, and the DOMException abort() makes without a reason,
      // were ~2 s of CPU in a 10,000-pod density run.
      let abort: AbortController | undefined;
      let closed = false;
      this.active.add(res);
      res.once("close", () => {
        this.active.delete(res);
        closed = true;
        abort?.abort(CONNECTION_CLOSED);
      });
      let url: URL;
      try {
        url = new URL(req.url ?? "/", "https://localhost");
      } catch {
        res.writeHead(400).end();
        return;
      }
      const ctx: HttpContext = {
        req,
        res,
        url,
        info: undefined as never,
        user: undefined,
        startedAt: Date.now(),
        get signal(): AbortSignal {
          if (abort === undefined) {
            abort = new AbortController();
            if (closed) abort.abort(CONNECTION_CLOSED);
          }
          return abort.signal;
        },
        code: 0,
        warnings: [],
      };
      handler(ctx).catch((err: unknown) => {
        log.error({ err }, "request failed outside the handler chain");
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      });
    };
    const server = createServer(
      {
        cert: this.pki.server.certPem,
        key: this.pki.server.keyPem,
        ca: this.pki.ca.certPem,
        requestCert: true,
        rejectUnauthorized: false,
        // kubectl keeps connections open for watches and reuses them.
        keepAlive: true,
      },
      serve,
    );
    // Upgrades (exec/attach/portforward streams, proxied WebSockets) take the same handler
    // chain: a response bound to the raw socket carries any error Status, and the proxy takes
    // the socket over (with the bytes that followed the headers) once the request is allowed.
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      upgradeHeads.set(req, head);
      const res = new ServerResponse(req);
      res.shouldKeepAlive = false;
      res.assignSocket(socket as never);
      // An error answered instead of the upgrade ends the connection (nothing reads it further).
      res.once("finish", () => socket.end());
      serve(req, res);
    });
    server.requestTimeout = 0;
    server.headersTimeout = 60_000;
    // As kube-apiserver's IdleTimeout (the keep-alive of Go's and client-go's transports): with
    // node's 5 s, every component opened a new TLS connection (a TLS handshake: 100 at once
    // take ~70 ms over loopback on this project's VMs) whenever it had been quiet for 5 s.
    server.keepAliveTimeout = 90_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      const failed = (err: NodeJS.ErrnoException): void =>
        reject(err.code === "EADDRINUSE" ? new Error(`port ${o.port} on ${o.bindAddress} is in use by another process (is another API server running? choose another with --port)`, { cause: err }) : err);
      server.once("error", failed);
      // A deep accept queue, as Go's listeners (and so kube-apiserver) take the system's
      // maximum (net.core.somaxconn, which the kernel clamps this to): with node's 511, a burst
      // of new connections (sim-nodes at 5000 nodes opening ~700 at once) overflowed it, and
      // the dropped SYNs came back only after TCP's 1-31 s retries.
      server.listen({ port: o.port, host: o.bindAddress, backlog: 65535 }, () => {
        server.off("error", failed);
        resolve();
      });
    });
    if (networking && svcDef) {
      const store = (group: string, plural: string): ResourceStore | undefined => {
        const def = this.registry.lookup(group, "v1", plural);
        return def ? this.stores.get(def) : undefined;
      };
      const [endpoints, endpointSlices, events] = [store("", "endpoints"), store("discovery.k8s.io", "endpointslices"), store("", "events")];
      await networking.start({
        services: this.stores.get(svcDef)!,
        servicesPrefix: resourcePrefix(svcDef),
        ...(endpoints ? { endpoints } : {}),
        ...(endpointSlices ? { endpointSlices } : {}),
        ...(events ? { events } : {}),
        apiserverPort: (server.address() as AddressInfo).port,
        advertiseAddress: o.advertiseAddress,
      });
      this.serviceNetworking = networking;
    }
    await writeKubeconfig(
      this.kubeconfigPath,
      buildKubeconfig({
        clusterName: "k8ts",
        server: this.url,
        caPem: this.pki.ca.certPem,
        userName: "k8ts-admin",
        clientCertPem: this.pki.admin.certPem,
        clientKeyPem: this.pki.admin.keyPem,
        contextName: "k8ts",
      }),
    );
    this.ready = true;
  }

  /** Service allocation and the `kubernetes` Service (after start). */
  get services(): ServiceNetworking | undefined {
    return this.serviceNetworking;
  }

  async stop(): Promise<void> {
    this.ready = false;
    this.metricsScraper?.stop();
    await this.crdManager?.stop();
    // Takes this server out of the `kubernetes` endpoints while the store is still open.
    await this.serviceNetworking?.stop();
    this.serviceNetworking = undefined;
    const server = this.server;
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Watches never finish on their own: end them, let short requests finish, then cut the rest.
      await this.cache?.stop();
      const deadline = Date.now() + 2000;
      while (this.active.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      for (const res of this.active) res.destroy();
      server.closeAllConnections();
      await closed;
    }
    await this.cache?.stop();
    await this.store?.close();
  }
}
