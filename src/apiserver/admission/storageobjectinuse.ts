// StorageObjectInUseProtection (upstream plugin/pkg/admission/storage/storageobjectinuseprotection):
// every PersistentVolumeClaim is created with the `kubernetes.io/pvc-protection` finalizer and
// every PersistentVolume with `kubernetes.io/pv-protection`, so that deleting a claim a pod
// still uses, or a volume a claim is bound to, only marks it Terminating: the PVC/PV
// protection controllers remove the finalizer once nothing uses the object any more.
import { PV_PROTECTION_FINALIZER, PVC_PROTECTION_FINALIZER } from "../../api/persistentvolume.js";
import type { AdmissionPlugin } from "./types.js";

const FINALIZER_OF: Readonly<Record<string, string>> = {
  persistentvolumeclaims: PVC_PROTECTION_FINALIZER,
  persistentvolumes: PV_PROTECTION_FINALIZER,
};

export function storageObjectInUseProtection(): AdmissionPlugin {
  return {
    name: "StorageObjectInUseProtection",
    admit(a) {
      if (a.operation !== "CREATE" || a.resource.group !== "" || a.subresource !== "") return;
      const finalizer = FINALIZER_OF[a.resource.plural];
      const obj = a.object as { metadata?: { finalizers?: unknown } } | undefined;
      if (finalizer === undefined || !obj) return;
      const md = (obj.metadata ??= {});
      const current = Array.isArray(md.finalizers) ? (md.finalizers as unknown[]) : [];
      if (!current.includes(finalizer)) md.finalizers = [...current, finalizer];
    },
  };
}
