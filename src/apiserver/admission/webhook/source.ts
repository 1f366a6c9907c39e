// The webhook plugins' view of the cluster, read from the API server's watch cache: the two
// configuration kinds, namespaces for namespaceSelector, Services and EndpointSlices for
// service references. A kind the registry does not serve reads as empty.
import type { MutatingWebhookConfiguration, ValidatingWebhookConfiguration } from "kubernetes-types/admissionregistration/v1.js";
import type { Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import type { KubeObject, ResourceDefinition } from "../../registry/types.js";
import { ADMISSION_REGISTRATION_GROUP } from "./match.js";
import type { WebhookSource } from "./plugin.js";

export interface CacheAccess {
  lookup(group: string, version: string, plural: string): ResourceDefinition | undefined;
  /** A resource's objects in a namespace ("" for all), as the watch cache holds them. */
  list(def: ResourceDefinition, namespace: string): readonly Readonly<KubeObject>[];
  /** A cluster-scoped object: the cache's copy, or the store's when the cache lags. */
  get(def: ResourceDefinition, name: string): Promise<Readonly<KubeObject> | undefined>;
  /** Every served resource (the registry's definitions, custom resources included). */
  definitions(): readonly ResourceDefinition[];
}

/** Which stored resource a served one is: forms that share storage are equivalent. */
function storedAs(d: ResourceDefinition): string {
  return d.storage ? `${d.storage.group}/${d.storage.resource}` : `${d.group}/${d.plural}`;
}

/** The label that ties an EndpointSlice to its Service. */
const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

export function cachedWebhookSource(c: CacheAccess): WebhookSource {
  // Looked up per call: the kinds may be registered after the plugins are made.
  const all = (group: string, plural: string): readonly Readonly<KubeObject>[] => {
    const def = c.lookup(group, "v1", plural);
    return def ? c.list(def, "") : [];
  };
  return {
    mutatingWebhookConfigurations: () => all(ADMISSION_REGISTRATION_GROUP, "mutatingwebhookconfigurations") as readonly Readonly<MutatingWebhookConfiguration>[],
    validatingWebhookConfigurations: () => all(ADMISSION_REGISTRATION_GROUP, "validatingwebhookconfigurations") as readonly Readonly<ValidatingWebhookConfiguration>[],
    namespaceLabels: async (name) => {
      const def = c.lookup("", "v1", "namespaces");
      if (!def) return {};
      const ns = await c.get(def, name);
      return ns ? (ns.metadata?.labels ?? {}) : undefined;
    },
    service: (namespace, name) => {
      const def = c.lookup("", "v1", "services");
      return def ? (c.list(def, namespace).find((s) => s.metadata?.name === name) as Readonly<Service> | undefined) : undefined;
    },
    equivalents: (def) => {
      const id = storedAs(def);
      return c.definitions().filter((d) => d !== def && storedAs(d) === id);
    },
    endpointSlices: (namespace, name) => {
      const def = c.lookup("discovery.k8s.io", "v1", "endpointslices");
      return def ? (c.list(def, namespace).filter((s) => s.metadata?.labels?.[SERVICE_NAME_LABEL] === name) as unknown as readonly Readonly<EndpointSlice>[]) : [];
    },
  };
}
