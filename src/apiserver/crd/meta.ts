// Metadata validation as the apiextensions-apiserver does it: apimachinery's generic
// ValidateObjectMeta (finalizers need only be qualified names), not the core API's stricter
// finalizer rule.
import { FieldPath, type FieldError } from "../../api/fielderrors.js";
import { nameIsDNSSubdomain, validateObjectMeta, validateObjectMetaUpdate, type NameValidator } from "../../api/validation.js";
import type { KubeObject } from "../registry/types.js";

const META = FieldPath.of("metadata");

export function genericMeta(obj: KubeObject, namespaced: boolean, nameFn: NameValidator = nameIsDNSSubdomain): FieldError[] {
  return validateObjectMeta(obj.metadata ?? {}, namespaced, nameFn, META);
}

export function genericMetaUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  return validateObjectMetaUpdate(obj.metadata ?? {}, old.metadata ?? {}, META);
}
