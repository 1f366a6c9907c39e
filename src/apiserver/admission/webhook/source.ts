// The webhook and admission policy plugins' view of the cluster, read from the API server's
// watch cache: the configuration and policy kinds, namespaces for namespaceSelector (and
// policies' namespaceObject), Services and EndpointSlices for service references, policies'
// parameter objects. A kind the registry does not serve reads as empty.
import type { MutatingWebhookConfiguration, ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding, ValidatingWebhookConfiguration } from "kubernetes-types/admissionregistration/v1.js";
import type { Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import type { KubeObject, ResourceDefinition } from "../../registry/types.js";
import { ADMISSION_REGISTRATION_GROUP } from "./match.js";
import type { WebhookSource } from "./plugin.js";
import type { PolicySource } from "../policy/plugin.js";

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

/** Every object of a cluster-wide kind; looked up per call: the kinds may be registered after the plugins are made. */
function allOf(c: CacheAccess, group: string, plural: string): readonly Readonly<KubeObject>[] {
  const def = c.lookup(group, "v1", plural);
  return def ? c.list(def, "") : [];
}

async function namespaceOf(c: CacheAccess, name: string): Promise<Readonly<KubeObject> | undefined | null> {
  const def = c.lookup("", "v1", "namespaces");
  return def ? c.get(def, name) : null;
}

async function namespaceLabelsOf(c: CacheAccess, name: string): Promise<Readonly<Record<string, string>> | undefined> {
  const ns = await namespaceOf(c, name);
  if (ns === null) return {};
  return ns ? (ns.metadata?.labels ?? {}) : undefined;
}

function equivalentsOf(c: CacheAccess, def: ResourceDefinition): readonly ResourceDefinition[] {
  const id = storedAs(def);
  return c.definitions().filter((d) => d !== def && storedAs(d) === id);
}

export function cachedPolicySource(c: CacheAccess): PolicySource {
  return {
    policies: () => allOf(c, ADMISSION_REGISTRATION_GROUP, "validatingadmissionpolicies") as readonly Readonly<ValidatingAdmissionPolicy>[],
    bindings: () => allOf(c, ADMISSION_REGISTRATION_GROUP, "validatingadmissionpolicybindings") as readonly Readonly<ValidatingAdmissionPolicyBinding>[],
    namespaceLabels: (name) => namespaceLabelsOf(c, name),
    namespace: async (name) => (await namespaceOf(c, name)) ?? undefined,
    equivalents: (def) => equivalentsOf(c, def),
    resourceOfKind: (apiVersion, kind) => {
      const slash = apiVersion.indexOf("/");
      const [group, version] = slash < 0 ? ["", apiVersion] : [apiVersion.slice(0, slash), apiVersion.slice(slash + 1)];
      return c.definitions().find((d) => d.group === group && d.version === version && d.kind === kind);
    },
    list: (def, namespace) => c.list(def, namespace),
  };
}

export function cachedWebhookSource(c: CacheAccess): WebhookSource {
  return {
    mutatingWebhookConfigurations: () => allOf(c, ADMISSION_REGISTRATION_GROUP, "mutatingwebhookconfigurations") as readonly Readonly<MutatingWebhookConfiguration>[],
    validatingWebhookConfigurations: () => allOf(c, ADMISSION_REGISTRATION_GROUP, "validatingwebhookconfigurations") as readonly Readonly<ValidatingWebhookConfiguration>[],
    namespaceLabels: (name) => namespaceLabelsOf(c, name),
    service: (namespace, name) => {
      const def = c.lookup("", "v1", "services");
      return def ? (c.list(def, namespace).find((s) => s.metadata?.name === name) as Readonly<Service> | undefined) : undefined;
    },
    equivalents: (def) => equivalentsOf(c, def),
    endpointSlices: (namespace, name) => {
      const def = c.lookup("discovery.k8s.io", "v1", "endpointslices");
      return def ? (c.list(def, namespace).filter((s) => s.metadata?.labels?.[SERVICE_NAME_LABEL] === name) as unknown as readonly Readonly<EndpointSlice>[]) : [];
    },
  };
}
