// The kubelet's view of the objects its pods refer to, plus TokenRequests.
//
// Secrets and ConfigMaps as upstream's kubelet reads them with its "Watch" change detection
// strategy (pkg/kubelet/util/manager/watch_based_manager.go): the pods of this node are
// registered, and each Secret or ConfigMap they name gets its own watch (a list and watch in its
// namespace with fieldSelector metadata.name=<name>), started when the first pod refers to it
// and stopped when the last one that does is gone, or once the object is immutable. A node
// running as system:node:<name> may read nothing else: the Node authorizer lets a node get,
// list and watch only the Secrets and ConfigMaps of its own pods, by name.
//
// Services (nodes may list them all), and the claims and volumes of persistent storage (the
// node's local-path provisioner, same identity, is granted list/watch on them through the
// system:nodes binding) come from shared cluster-wide informers, managedFields dropped. A pod
// may name an object created a moment ago that the watch has not delivered yet, so a cache miss
// there is answered by one live GET; so is a lookup of a Secret or ConfigMap no registered pod
// names (the Node authorizer answers for it as for the pod that named it).
import type { ConfigMap, PersistentVolume, PersistentVolumeClaim, Pod, Secret, Service } from "kubernetes-types/core/v1.js";
import type { TokenRequest } from "kubernetes-types/authentication/v1.js";
import type { RuntimeClass } from "kubernetes-types/node/v1.js";
import { ClientError, isNotFound } from "../client/errors.js";
import { SharedInformer, SharedInformerFactory } from "../client/informer.js";
import type { DeepReadonly, KubeObject } from "../client/objects.js";
import { finalStateOf, keyOf, splitKey, type DeletedFinalStateUnknown } from "../client/objects.js";
import type { ResourceClient, RestClient } from "../client/rest.js";
import type { Logger } from "../util/log.js";
import { podConfigMapNames, podSecretNames } from "../api/podreferences.js";
import type { ObjectSource } from "./types.js";

export type ObjectKind = "ConfigMap" | "Secret" | "Service" | "PersistentVolumeClaim" | "PersistentVolume";
export type ObjectChangeListener = (kind: ObjectKind, namespace: string, name: string) => void;

export interface ApiObjectSourceOptions {
  readonly client: RestClient;
  readonly log: Logger;
  /**
   * The factory to take the cluster-wide informers from (the agent shares one with its
   * provisioner, which watches the same claims and volumes); default: one of its own. Either way
   * `start` starts them and `stop` stops them.
   */
  readonly informers?: SharedInformerFactory;
  /** How long a lookup waits for a new per-object watch to list before it GETs the object instead (default 1 s, upstream's). */
  readonly syncTimeoutMs?: number;
}

/** Succeeded or Failed: its containers never run again, so it needs no Secrets or ConfigMaps (upstream's pod manager unregisters it). */
const isTerminal = (pod: Pod): boolean => pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";

// ---- one watch per referenced object --------------------------------------------------------

interface WatchedObject<T extends KubeObject> {
  refs: number;
  readonly informer: SharedInformer<T>;
  readonly stop: AbortController;
  readonly run: Promise<void>;
  /** Immutable objects are watched no more (upstream stops their reflector); the cache keeps the object. */
  immutable: boolean;
}

/** Reference-counted single-object informers of one kind (upstream's objectCache). */
class ObjectWatches<T extends KubeObject & { immutable?: boolean }> {
  private readonly items = new Map<string, WatchedObject<T>>();

  constructor(
    private readonly o: {
      readonly kind: ObjectKind;
      readonly client: ResourceClient<T>;
      readonly log: Logger;
      readonly syncTimeoutMs: number;
      readonly stopped: AbortSignal;
      readonly handler: (informer: SharedInformer<T>) => void;
    },
  ) {}

  addReference(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    let item = this.items.get(key);
    if (!item) {
      const informer = new SharedInformer<T>({
        name: `${this.o.kind} ${key}`,
        lw: this.o.client.namespace(namespace),
        log: this.o.log,
        selectors: { fieldSelector: `metadata.name=${name}` },
        omitManagedFields: true,
      });
      this.o.handler(informer);
      const stop = new AbortController();
      const signal = AbortSignal.any([stop.signal, this.o.stopped]);
      // run() resolves once the watch is stopped and never rejects; the catch is for a broken promise of that.
      const run = informer.run(signal).catch((err: unknown) => this.o.log.error({ err, kind: this.o.kind, object: key }, "object watch stopped with an error"));
      item = { refs: 0, informer, stop, run, immutable: false };
      this.items.set(key, item);
    }
    item.refs++;
  }

  deleteReference(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    const item = this.items.get(key);
    if (!item) return;
    if (--item.refs > 0) return;
    item.stop.abort();
    this.items.delete(key);
  }

  /**
   * The object from its watch, once it has listed; undefined when it does not exist. When the
   * first list takes longer than syncTimeoutMs (a list refused, an API server slow to answer),
   * `fallback` answers instead, and with its error when there is one.
   */
  async get(namespace: string, name: string, fallback: () => Promise<T | undefined>): Promise<T | undefined> {
    const item = this.items.get(`${namespace}/${name}`);
    if (!item) return fallback();
    if (!item.immutable && !item.informer.hasSynced()) {
      const synced = await item.informer.waitForSync(AbortSignal.any([AbortSignal.timeout(this.o.syncTimeoutMs), item.stop.signal, this.o.stopped]));
      if (!synced) return fallback();
    }
    const obj = item.informer.lister.namespace(namespace).get(name) as T | undefined;
    if (obj?.immutable === true && !item.immutable) {
      item.immutable = true;
      item.stop.abort();
      this.o.log.debug({ kind: this.o.kind, object: `${namespace}/${name}` }, "stopped watching for changes - object is immutable");
    }
    return obj;
  }

  /** Namespace/name of every watched object, sorted (for tests and debugging). */
  watched(): string[] {
    return [...this.items.keys()].sort();
  }
}

interface PodReferences {
  readonly namespace: string;
  readonly secrets: readonly string[];
  readonly configMaps: readonly string[];
}

/**
 * Objects come from the informers' caches and are shared: callers must not change them (they
 * are frozen; the ObjectSource contract types them mutable only for convenience). The agent
 * tells the source about its pods (registerPod, unregisterPod) so that the Secrets and
 * ConfigMaps they name are watched.
 */
export class ApiObjectSource implements ObjectSource {
  private readonly log: Logger;
  private readonly factory: SharedInformerFactory;
  private readonly configMaps: ObjectWatches<ConfigMap>;
  private readonly secrets: ObjectWatches<Secret>;
  private readonly pods = new Map<string, PodReferences>();
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
    const perObject = { log: this.log, syncTimeoutMs: o.syncTimeoutMs ?? 1000, stopped: this.abort.signal };
    this.configMaps = new ObjectWatches<ConfigMap>({ ...perObject, kind: "ConfigMap", client: this.configMapClient, handler: (inf) => this.watch("ConfigMap", inf) });
    this.secrets = new ObjectWatches<Secret>({ ...perObject, kind: "Secret", client: this.secretClient, handler: (inf) => this.watch("Secret", inf) });
    this.servicesInf = this.factory.informerFor(this.serviceClient);
    this.claims = this.factory.informerFor(this.claimClient);
    this.volumes = this.factory.informerFor(this.volumeClient);
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

  /** Stops every watch, the per-object ones with the shared ones. */
  stop(): void {
    this.abort.abort();
  }

  /**
   * A pod of this node, new or changed: the Secrets and ConfigMaps it names are watched from now
   * on (a watch already kept for another pod is shared), those its previous version named and
   * this one does not are let go. A pod that has finished (Succeeded, Failed) needs none.
   */
  registerPod(pod: Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    if (isTerminal(pod)) {
      this.unregisterPod(uid);
      return;
    }
    const refs: PodReferences = { namespace: pod.metadata?.namespace || "default", secrets: podSecretNames(pod), configMaps: podConfigMapNames(pod) };
    const prev = this.pods.get(uid);
    this.pods.set(uid, refs);
    // References are added before the previous ones are dropped, so that a watch both versions need is kept.
    for (const n of refs.secrets) this.secrets.addReference(refs.namespace, n);
    for (const n of refs.configMaps) this.configMaps.addReference(refs.namespace, n);
    if (prev) this.release(prev);
  }

  /** A pod gone from this node (deleted, or done with): its references are dropped. Idempotent. */
  unregisterPod(uid: string): void {
    const prev = this.pods.get(uid);
    if (!prev) return;
    this.pods.delete(uid);
    this.release(prev);
  }

  private release(refs: PodReferences): void {
    for (const n of refs.secrets) this.secrets.deleteReference(refs.namespace, n);
    for (const n of refs.configMaps) this.configMaps.deleteReference(refs.namespace, n);
  }

  /** The Secrets and ConfigMaps watched now, as `Kind namespace/name`, sorted. */
  watchedObjects(): string[] {
    return [...this.secrets.watched().map((k) => `Secret ${k}`), ...this.configMaps.watched().map((k) => `ConfigMap ${k}`)].sort();
  }

  configMap(namespace: string, name: string): Promise<ConfigMap | undefined> {
    return this.configMaps.get(namespace, name, () => this.fetch(this.configMapClient, namespace, name));
  }

  secret(namespace: string, name: string): Promise<Secret | undefined> {
    return this.secrets.get(namespace, name, () => this.fetch(this.secretClient, namespace, name));
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
    return this.fetch(rc, namespace, name);
  }

  /** One live GET; undefined on 404. */
  private async fetch<T extends KubeObject>(rc: ResourceClient<T>, namespace: string, name: string): Promise<T | undefined> {
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
