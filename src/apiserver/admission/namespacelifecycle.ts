// NamespaceLifecycle (upstream plugin of the same name): nothing is created in a namespace that
// does not exist or is terminating, and the namespaces the system needs cannot be deleted.
import { notFound } from "../status.js";
import { admissionForbidden, type AdmissionPlugin } from "./types.js";

export type NamespacePhase = "Active" | "Terminating";

export const IMMORTAL_NAMESPACES: ReadonlySet<string> = new Set(["default", "kube-system", "kube-public"]);

export function namespaceLifecycle(phaseOf: (namespace: string) => Promise<NamespacePhase | undefined>): AdmissionPlugin {
  return {
    name: "NamespaceLifecycle",
    async validate(a) {
      if (a.resource.group === "" && a.resource.plural === "namespaces") {
        if (a.operation === "DELETE" && IMMORTAL_NAMESPACES.has(a.name)) {
          throw admissionForbidden(a, "this namespace may not be deleted");
        }
        return;
      }
      if (!a.resource.namespaced || a.operation !== "CREATE") return;
      const phase = await phaseOf(a.namespace);
      if (phase === undefined) throw notFound({ group: "", resource: "namespaces" }, a.namespace);
      if (phase === "Terminating") {
        const err = admissionForbidden(a, `unable to create new content in namespace ${a.namespace} because it is being terminated`);
        err.status.details!.causes = [{ reason: "NamespaceTerminating", message: `namespace ${a.namespace} is being terminated`, field: "metadata.namespace" }];
        throw err;
      }
    },
  };
}
