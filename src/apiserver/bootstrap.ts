// What exists from the first start, created through the normal write path: the system
// namespaces (default, kube-system, kube-public, kube-node-lease) and the system priority
// classes (system-node-critical, system-cluster-critical), as upstream's bootstrap controllers do.
import { StatusError } from "./status.js";
import type { ResourceStore } from "./rest/store.js";
import type { KubeObject } from "./registry/types.js";
import { systemPriorityClasses } from "./resources/scheduling.js";

export const SYSTEM_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"] as const;

export const SYSTEM_USER = { username: "system:apiserver", groups: ["system:masters"] } as const;

async function ensure(store: ResourceStore, obj: KubeObject): Promise<void> {
  try {
    await store.create(obj, { namespace: "", user: SYSTEM_USER, now: new Date(), dryRun: false });
  } catch (err) {
    if (err instanceof StatusError && err.code === 409) return;
    throw err;
  }
}

export async function bootstrap(stores: { readonly namespaces?: ResourceStore; readonly priorityClasses?: ResourceStore }): Promise<void> {
  if (stores.namespaces) for (const name of SYSTEM_NAMESPACES) await ensure(stores.namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name } });
  if (stores.priorityClasses) {
    for (const pc of systemPriorityClasses) await ensure(stores.priorityClasses, { apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", ...structuredClone(pc) } as KubeObject);
  }
}
