// The kubelet's view of the objects its pods refer to: ConfigMaps, Secrets, Services and the
// claims and volumes of persistent storage from shared informers (one cluster-wide watch each,
// managedFields dropped), plus TokenRequests. A pod may name an object created a moment ago
// that the watch has not delivered yet, so a cache miss is answered by one live GET.
import type { ConfigMap, PersistentVolume, PersistentVolumeClaim, Secret, Service } from "kubernetes-types/core/v1.js";
import type { TokenRequest } from "kubernetes-types/authentication/v1.js";
import type { RuntimeClass } from "kubernetes-types/node/v1.js";
import { ClientError, isNotFound } from "../client/errors.js";
import { SharedInformerFactory, type SharedInformer } from "../client/informer.js";
import type { DeepReadonly, KubeObject } from "../client/objects.js";
import { finalStateOf, keyOf, splitKey, type DeletedFinalStateUnknown } from "../client/objects.js";
import type { ResourceClient, RestClient } from "../client/rest.js";
import type { Logger } from "../util/log.js";
import type { ObjectSource } from "./types.js";

export type ObjectKind = "ConfigMap" | "Secret" | "Service" | "PersistentVolumeClaim" | "PersistentVolume";
export type ObjectChangeListener = (kind: ObjectKind, namespace: string, name: string) => void;

export interface ApiObjectSourceOptions {
  readonly client: RestClient;
  readonly log: Logger;
  /**
   * The factory to take the informers from (the agent shares one with its provisioner, which
   * watches the same claims and volumes); default: one of its own. Either way `start` starts
   * them and `stop` stops them.
   */
  readonly informers?: SharedInformerFactory;
}

/**
 * Objects come from the informers' caches and are shared: callers must not change them (they
 * are frozen; the ObjectSource contract types them mutable only for convenience).
 */
export class ApiObjectSource implements ObjectSource {
  private readonly log: Logger;
  private readonly factory: SharedInformerFactory;
  private readonly configMaps: SharedInformer<ConfigMap>;
  private readonly secrets: SharedInformer<Secret>;
  private readonly servicesInf: SharedInformer<Service>;
  private readonly claims: SharedInformer<PersistentVolumeClaim>;
  private readonly volumes: SharedInformer<PersistentVolume>;
  private readonly configMapClient: ResourceClient<ConfigMap>;
  private readonly secretClient: ResourceClient<Secret>;
  private readonly serviceClient: ResourceClient<Service>;
  private readonly serviceAccountClient: ResourceClient<KubeObject>;
  private readonly runtimeClassClient: ResourceClient<RuntimeClass>;
  private readonly claimClient: ResourceClient<PersistentVolumeClaim>;
  private readonly volumeClient: ResourceClient<PersistentVolume>;
  private readonly listeners: ObjectChangeListener[] = [];
  private readonly abort = new AbortController();

  constructor(o: ApiObjectSourceOptions) {
    this.log = o.log.child({ component: "objects" });
    this.factory = o.informers ?? new SharedInformerFactory({ client: o.client, log: this.log, omitManagedFields: true });
    this.configMapClient = o.client.forKind("v1", "ConfigMap");
    this.secretClient = o.client.forKind("v1", "Secret");
    this.serviceClient = o.client.forKind("v1", "Service");
    this.serviceAccountClient = o.client.resource("", "v1", "serviceaccounts", { namespaced: true, kind: "ServiceAccount" });
    this.runtimeClassClient = o.client.forKind("node.k8s.io/v1", "RuntimeClass");
    this.claimClient = o.client.forKind("v1", "PersistentVolumeClaim");
    this.volumeClient = o.client.forKind("v1", "PersistentVolume");
    this.configMaps = this.factory.informerFor(this.configMapClient);
    this.secrets = this.factory.informerFor(this.secretClient);
    this.servicesInf = this.factory.informerFor(this.serviceClient);
    this.claims = this.factory.informerFor(this.claimClient);
    this.volumes = this.factory.informerFor(this.volumeClient);
    this.watch("ConfigMap", this.configMaps);
    this.watch("Secret", this.secrets);
    this.watch("Service", this.servicesInf);
    this.watch("PersistentVolumeClaim", this.claims);
    // A volume is cluster-scoped; the pods that wait for it are those of its claim's namespace.
    this.watch("PersistentVolume", this.volumes, (pv) => (pv.spec?.claimRef?.namespace ? { namespace: pv.spec.claimRef.namespace, name: pv.metadata?.name ?? "" } : undefined));
  }

  private watch<T extends KubeObject>(kind: ObjectKind, inf: SharedInformer<T>, refOf?: (obj: DeepReadonly<T>) => { namespace: string; name: string } | undefined): void {
    const fire = (event: DeepReadonly<T> | DeletedFinalStateUnknown<T>): void => {
      const obj = finalStateOf(event);
      const md = (obj as DeepReadonly<KubeObject>).metadata;
      const ref = refOf ? refOf(obj) : md ? { namespace: md.namespace ?? "", name: md.name ?? "" } : splitKey(keyOf(event));
      if (!ref) return;
      const { namespace, name } = ref;
      for (const l of this.listeners) {
        try {
          l(kind, namespace, name);
        } catch (err) {
          this.log.error({ err, kind }, "object change listener threw");
        }
      }
    };
    inf.addEventHandler({
      // Objects of the first list are news to nobody: no pod has been synced against them yet.
      onAdd: (obj, initial) => {
        if (!initial) fire(obj);
      },
      onUpdate: (_old, obj) => fire(obj),
      onDelete: (obj) => fire(obj),
    });
  }

  /** Starts the informers and resolves once each has listed; rejects if stopped first. */
  async start(): Promise<void> {
    this.factory.start(this.abort.signal);
    const synced = await this.factory.waitForCacheSync(this.abort.signal);
    if (!synced) throw new ClientError("Timeout", "object source stopped before its caches synced");
  }

  onChange(listener: (kind: string, namespace: string, name: string) => void): void {
    this.listeners.push(listener);
  }

  stop(): void {
    this.abort.abort();
  }

  configMap(namespace: string, name: string): Promise<ConfigMap | undefined> {
    return this.lookup(this.configMaps, this.configMapClient, namespace, name);
  }

  secret(namespace: string, name: string): Promise<Secret | undefined> {
    return this.lookup(this.secrets, this.secretClient, namespace, name);
  }

  persistentVolumeClaim(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined> {
    return this.lookup(this.claims, this.claimClient, namespace, name);
  }

  persistentVolume(name: string): Promise<PersistentVolume | undefined> {
    return this.lookup(this.volumes, this.volumeClient, "", name);
  }

  /** Read when a sandbox is made, which is rare enough not to keep an informer of the classes. */
  async runtimeHandler(runtimeClassName: string): Promise<string | undefined> {
    try {
      return (await this.runtimeClassClient.get(runtimeClassName, { omitManagedFields: true })).handler;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async services(namespace: string): Promise<Service[]> {
    if (this.servicesInf.hasSynced()) return this.servicesInf.lister.namespace(namespace).list() as Service[];
    return (await this.serviceClient.namespace(namespace).list()).items;
  }

  private async lookup<T extends KubeObject>(inf: SharedInformer<T>, rc: ResourceClient<T>, namespace: string, name: string): Promise<T | undefined> {
    const cached = namespace === "" ? inf.lister.get(name) : inf.lister.namespace(namespace).get(name);
    if (cached) return cached as T;
    try {
      return await (namespace === "" ? rc : rc.namespace(namespace)).get(name, { omitManagedFields: true });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async serviceAccountToken(
    namespace: string,
    serviceAccount: string,
    request: { readonly audiences: readonly string[]; readonly expirationSeconds: number; readonly podName: string; readonly podUid: string },
  ): Promise<{ readonly token: string; readonly expirationTimestamp: string }> {
    const body: TokenRequest = {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      metadata: { name: serviceAccount, namespace },
      spec: {
        audiences: [...request.audiences],
        expirationSeconds: request.expirationSeconds,
        boundObjectRef: { kind: "Pod", apiVersion: "v1", name: request.podName, uid: request.podUid },
      },
    };
    const answer = await this.serviceAccountClient.namespace(namespace).subresource<TokenRequest>("POST", serviceAccount, "token", body);
    const token = answer.status?.token;
    const expirationTimestamp = answer.status?.expirationTimestamp;
    if (!token || !expirationTimestamp) throw new ClientError("Decode", `TokenRequest for ${namespace}/${serviceAccount} answered without status.token and status.expirationTimestamp`);
    return { token, expirationTimestamp };
  }
}
