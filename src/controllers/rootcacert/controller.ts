// The root CA certificate publisher (upstream pkg/controller/certificates/rootcacertpublisher):
// every active namespace has the ConfigMap kube-root-ca.crt whose `ca.crt` is the CA that
// signed the API server's serving certificate, which the kube-api-access volume of every pod
// projects next to its token. Edited or deleted, the ConfigMap is put back. Keys are
// namespace names.
import type { ConfigMap, Namespace } from "kubernetes-types/core/v1.js";
import { runController } from "../../client/controller.js";
import { isForbidden, isNamespaceTerminating, isNotFound } from "../../client/errors.js";
import type { Lister } from "../../client/informer.js";
import { DeletedFinalStateUnknown, type DeepReadonly } from "../../client/objects.js";
import { WorkQueue } from "../../client/workqueue.js";
import type { Logger } from "../../util/log.js";
import type { Api } from "../api.js";
import type { Controller, ControllerContext } from "../context.js";
import { CodedError } from "../../util/errors.js";

export const ROOT_CA_CERT_PUBLISHER = "root-ca-certificate-publisher-controller";
export const ROOT_CA_CONFIGMAP = "kube-root-ca.crt";
export const DESCRIPTION_ANNOTATION = "kubernetes.io/description";
/** upstream's text, word for word: clients read it to learn what the ConfigMap is for. */
export const DESCRIPTION =
  "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";

export type RootCACertPublisherErrorCode = "NoRootCA";

export class RootCACertPublisherError extends CodedError<RootCACertPublisherErrorCode> {
  override readonly name = "RootCACertPublisherError";
}

export interface RootCACertPublisherDeps {
  readonly api: Api;
  readonly namespaces: Lister<Namespace>;
  readonly configMaps: Lister<ConfigMap>;
  /** PEM bundle to publish. */
  readonly rootCA: string;
  readonly log: Logger;
}

export class RootCACertPublisher {
  readonly queue = new WorkQueue<string>();

  constructor(private readonly d: RootCACertPublisherDeps) {}

  namespaceAdded(ns: DeepReadonly<Namespace>): void {
    if (ns.metadata?.name) this.queue.add(ns.metadata.name);
  }

  namespaceUpdated(ns: DeepReadonly<Namespace>): void {
    if (ns.metadata?.name && ns.status?.phase === "Active") this.queue.add(ns.metadata.name);
  }

  configMapChanged(cm: DeepReadonly<ConfigMap> | DeletedFinalStateUnknown<ConfigMap>): void {
    const obj = cm instanceof DeletedFinalStateUnknown ? cm.obj : cm;
    if (obj.metadata?.name === ROOT_CA_CONFIGMAP && obj.metadata.namespace) this.queue.add(obj.metadata.namespace);
  }

  async sync(key: string, _signal?: AbortSignal, log: Logger = this.d.log): Promise<void> {
    const ns = this.d.namespaces.get(key);
    // Terminating namespaces refuse creates; a gone one needs nothing.
    if (!ns || (ns.status?.phase !== undefined && ns.status.phase !== "Active")) return;
    const configMaps = this.d.api.resource<ConfigMap>("", "v1", "configmaps").namespace(key);
    const data = { "ca.crt": this.d.rootCA };
    const cm = this.d.configMaps.get(`${key}/${ROOT_CA_CONFIGMAP}`);
    if (!cm) {
      const fresh: ConfigMap = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: ROOT_CA_CONFIGMAP, namespace: key, annotations: { [DESCRIPTION_ANNOTATION]: DESCRIPTION } }, data };
      try {
        await configMaps.create(fresh);
        log.info({ configMap: `${key}/${ROOT_CA_CONFIGMAP}` }, "published the root CA");
      } catch (err) {
        // The namespace went away or started terminating meanwhile: nothing to publish into.
        // AlreadyExists (the cache lags) is retried: by then the cache shows what to compare.
        if (isNotFound(err) || (isForbidden(err) && isNamespaceTerminating(err))) return;
        throw err;
      }
      return;
    }
    const current = cm.data ?? {};
    const same = Object.keys(current).length === 1 && current["ca.crt"] === this.d.rootCA;
    if (same && (cm.metadata?.annotations?.[DESCRIPTION_ANNOTATION] ?? "") !== "") return;
    const next = structuredClone(cm) as ConfigMap;
    const meta = { ...next.metadata, annotations: { ...next.metadata?.annotations, [DESCRIPTION_ANNOTATION]: DESCRIPTION } };
    try {
      await configMaps.update({ ...next, metadata: meta, data });
      log.info({ configMap: `${key}/${ROOT_CA_CONFIGMAP}` }, "restored the root CA");
    } catch (err) {
      // Deleted since the cache saw it: its delete event requeues the namespace.
      if (isNotFound(err)) return;
      throw err;
    }
  }
}

/** NamespaceLifecycle's refusal carries the cause NamespaceTerminating (upstream's HasStatusCause test). */
/**
 * The controller over the shared informers. The CA is `rootCA` when given, else the one the
 * controller-manager's own kubeconfig trusts the API server with (certificate-authority-data).
 */
export function rootCACertPublisherController(ctx: ControllerContext, rootCA?: string): Controller {
  const ca = rootCA ?? ctx.client.config.caPem;
  if (!ca) throw new RootCACertPublisherError("NoRootCA", "no root CA to publish: the kubeconfig has no certificate-authority(-data) and no rootCA was given");
  const namespaces = ctx.informers.forKind("v1", "Namespace");
  const configMaps = ctx.informers.forKind("v1", "ConfigMap");
  const log = ctx.log.child({ controller: ROOT_CA_CERT_PUBLISHER });
  const c = new RootCACertPublisher({ api: ctx.client, namespaces: namespaces.lister, configMaps: configMaps.lister, rootCA: ca, log });
  namespaces.addEventHandler({ onAdd: (ns) => c.namespaceAdded(ns), onUpdate: (_old, ns) => c.namespaceUpdated(ns) });
  configMaps.addEventHandler({ onUpdate: (_old, cm) => c.configMapChanged(cm), onDelete: (cm) => c.configMapChanged(cm) });
  return {
    name: ROOT_CA_CERT_PUBLISHER,
    async run(signal, workers) {
      if (!(await namespaces.waitForSync(signal)) || !(await configMaps.waitForSync(signal))) return;
      await runController({ name: ROOT_CA_CERT_PUBLISHER, queue: c.queue, workers, sync: (key, s, l) => c.sync(key, s, l), log: ctx.log, signal, metrics: ctx.metrics });
    },
  };
}
