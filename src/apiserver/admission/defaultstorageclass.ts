// DefaultStorageClass (upstream plugin/pkg/admission/storage/storageclass/setdefault): a claim
// created without asking for a class — neither spec.storageClassName nor the beta
// `volume.beta.kubernetes.io/storage-class` annotation, not even as "" — gets the cluster's
// default StorageClass in spec.storageClassName. An explicit "" means "no class" (bind only to
// volumes without one) and is left alone; with no default class the claim is left as it is
// (the PV controller may still give it one later, upstream's retroactive default).
import type { StorageClass } from "kubernetes-types/storage/v1.js";
import { ANN_BETA_STORAGE_CLASS, defaultStorageClass } from "../../api/persistentvolume.js";
import type { KubeObject } from "../registry/types.js";
import type { AdmissionPlugin } from "./types.js";

/** The StorageClasses as the watch cache holds them now. */
export type StorageClassList = () => readonly Readonly<KubeObject>[];

interface ClaimLike {
  metadata?: { annotations?: Record<string, string> | null };
  spec?: { storageClassName?: string | null } | null;
}

/** helper.PersistentVolumeClaimHasClass: the annotation is there (any value) or spec.storageClassName is set (even ""). */
function claimHasClass(claim: ClaimLike): boolean {
  const annotations = claim.metadata?.annotations;
  if (annotations && Object.prototype.hasOwnProperty.call(annotations, ANN_BETA_STORAGE_CLASS)) return true;
  return typeof claim.spec?.storageClassName === "string";
}

export function defaultStorageClassAdmission(classes: StorageClassList): AdmissionPlugin {
  return {
    name: "DefaultStorageClass",
    admit(a) {
      if (a.operation !== "CREATE" || a.resource.group !== "" || a.resource.plural !== "persistentvolumeclaims" || a.subresource !== "") return;
      const claim = a.object as ClaimLike | undefined;
      if (!claim || claimHasClass(claim)) return;
      const def = defaultStorageClass(classes() as unknown as readonly StorageClass[]);
      const name = def?.metadata?.name;
      if (!name) return;
      if (typeof claim.spec !== "object" || claim.spec === null) claim.spec = {};
      claim.spec.storageClassName = name;
    },
  };
}
