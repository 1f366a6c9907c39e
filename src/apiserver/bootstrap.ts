// What exists from the first start (upstream's system namespaces controller): default,
// kube-system, kube-public and kube-node-lease, created through the normal write path.
import { StatusError } from "./status.js";
import type { ResourceStore } from "./rest/store.js";

export const SYSTEM_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"] as const;

export const SYSTEM_USER = { username: "system:apiserver", groups: ["system:masters"] } as const;

export async function bootstrapNamespaces(namespaces: ResourceStore): Promise<void> {
  for (const name of SYSTEM_NAMESPACES) {
    try {
      await namespaces.create({ apiVersion: "v1", kind: "Namespace", metadata: { name } }, { namespace: "", user: SYSTEM_USER, now: new Date(), dryRun: false });
    } catch (err) {
      if (err instanceof StatusError && err.code === 409) continue;
      throw err;
    }
  }
}
