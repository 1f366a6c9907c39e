// The schema library behind CustomResourceDefinitions (apiextensions.k8s.io/v1): CRD-time
// checks of a version's openAPIV3Schema and, per custom resource, pruning, defaulting and
// validation with upstream's paths and messages. Pure functions, no I/O.
//
// The order the API server applies them in, as upstream's decoder and strategy do:
// prune (unknown fields, non-nullable nulls, embedded metadata) → applyDefaults →
// validateObject. x-kubernetes-validations (CEL rules) are accepted in schemas and checked for
// shape at CRD time, but not evaluated: there is no CEL interpreter here.
import type { JSONSchemaProps } from "kubernetes-types/apiextensions/v1.js";
import { FieldPath, type FieldError } from "../fielderrors.js";
import { validateCRDSchema, type StructuralSchemaOptions } from "./crdschema.js";
import {
  applyDefaultsTo,
  coerceEmbedded,
  pruneNonNullableNulls,
  pruneUnknown,
  toStructural,
  validateEmbedded,
  validateListSetsAndMaps,
  type SNode,
} from "./structural.js";
import { compileValueSchema, validateAgainst, type ValueSchema } from "./validate.js";

/** A CRD version's schema, prepared once per CRD generation. */
export interface CompiledSchema {
  readonly root: JSONSchemaProps;
  /** @internal the structural view (pruning, defaulting, list types, embedded resources). */
  readonly structural: SNode;
  /** @internal the value validator for whole resources. */
  readonly validator: ValueSchema;
  /** @internal the value validator of properties.status, for the status subresource. */
  readonly statusValidator: ValueSchema | undefined;
}

export function compileSchema(schema: JSONSchemaProps): CompiledSchema {
  const status = schema.properties?.["status"];
  return {
    root: schema,
    structural: toStructural(schema),
    validator: compileValueSchema(schema, { forResources: true }),
    statusValidator: status ? compileValueSchema(status, { forResources: true }) : undefined,
  };
}

export type { StructuralSchemaOptions };

/**
 * CRD-time checks of openAPIV3Schema (structural schema rules, allowed keywords,
 * x-kubernetes-* rules), with upstream's paths/messages under `path`
 * (e.g. spec.versions[0].schema.openAPIV3Schema).
 */
export function validateStructuralSchema(schema: JSONSchemaProps, path: FieldPath, opts: StructuralSchemaOptions = {}): FieldError[] {
  return validateCRDSchema(schema, path, opts);
}

export interface PruneResult {
  /** Paths of the removed unknown fields, as upstream prints them for fieldValidation (`spec.foo`). */
  readonly unknownFields: string[];
  /**
   * An embedded resource's apiVersion/kind not a string, or its metadata not decodable as
   * ObjectMeta: upstream fails decoding the request with this error (400).
   */
  readonly error: FieldError | undefined;
}

/**
 * What upstream's decoder does to a custom resource below its root metadata: removes unknown
 * fields (PruneWithOptions, root apiVersion/kind/metadata untouched), drops nulls that are
 * neither nullable nor defaulted, and normalizes embedded resources' metadata (unknown fields
 * removed and reported as `spec.template.metadata.foo`).
 */
export function pruneObject(s: CompiledSchema, obj: Record<string, unknown>): PruneResult {
  const unknownFields = pruneUnknown(obj, s.structural, true);
  pruneNonNullableNulls(obj, s.structural);
  const metaUnknown: string[] = [];
  const error = coerceEmbedded(obj, s.structural, null, metaUnknown);
  unknownFields.push(...metaUnknown.sort());
  return { unknownFields, error };
}

/**
 * Removes fields the schema does not know (except under x-kubernetes-preserve-unknown-fields,
 * embedded resources' metadata rules, apiVersion/kind/metadata at the root); returns their
 * paths as upstream prints them for fieldValidation (e.g. `spec.foo`). See pruneObject for
 * the error an embedded resource can raise.
 */
export function prune(s: CompiledSchema, obj: Record<string, unknown>): string[] {
  return pruneObject(s, obj).unknownFields;
}

/** Applies `default`s as upstream's structural defaulting does (after pruning). */
export function applyDefaults(s: CompiledSchema, obj: Record<string, unknown>): void {
  applyDefaultsTo(obj, s.structural);
}

/**
 * Validates a custom resource against the schema: upstream's messages and paths (e.g.
 * `spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"`).
 * Root metadata is validated by the API server, not here. Also checks embedded resources
 * (apiVersion/kind required, metadata valid) and x-kubernetes-list-type set/map uniqueness.
 * x-kubernetes-validations rules are not evaluated.
 */
export function validateObject(s: CompiledSchema, obj: Record<string, unknown>): FieldError[] {
  const errs = validateAgainst(s.validator, obj, null);
  errs.push(...validateEmbedded(obj, s.structural, null));
  errs.push(...validateListSetsAndMaps(null, s.structural, obj));
  return errs;
}

/**
 * An update's validation with upstream's ratcheting (CRDValidationRatcheting, on since 1.30,
 * GA in 1.33): schema errors of a value equal to its old counterpart are dropped (objects
 * correlate by key, list-type map lists by their keys, lists without a list type by index; set
 * and atomic lists only as a whole; apiVersion/kind at the root never); list-type set/map
 * uniqueness is checked only when the old object passed it.
 */
export function validateObjectUpdate(s: CompiledSchema, obj: Record<string, unknown>, old: Record<string, unknown>): FieldError[] {
  const errs = validateAgainst(s.validator, obj, null, { value: old });
  errs.push(...validateEmbedded(obj, s.structural, null));
  if (validateListSetsAndMaps(null, s.structural, old).length === 0) errs.push(...validateListSetsAndMaps(null, s.structural, obj));
  return errs;
}

/** validateStatus for an update, with ratcheting against the old object's status. */
export function validateStatusUpdate(s: CompiledSchema, obj: Record<string, unknown>, old: Record<string, unknown>): FieldError[] {
  if (!s.statusValidator || !Object.prototype.hasOwnProperty.call(obj, "status")) return [];
  return validateAgainst(s.statusValidator, obj["status"], FieldPath.of("status"), { value: old["status"] });
}

/**
 * The status subresource's validation (upstream validates only `status`, against
 * properties.status, under the path `status`: messages then name fields relative to status,
 * e.g. `status.replicas: Invalid value: "string": replicas in body must be of type integer: "string"`).
 */
export function validateStatus(s: CompiledSchema, obj: Record<string, unknown>): FieldError[] {
  if (!s.statusValidator || !Object.prototype.hasOwnProperty.call(obj, "status")) return [];
  return validateAgainst(s.statusValidator, obj["status"], FieldPath.of("status"));
}
