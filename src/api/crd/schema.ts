// The schema library behind CustomResourceDefinitions (apiextensions.k8s.io/v1): CRD-time
// checks of a version's openAPIV3Schema and, per custom resource, pruning, defaulting and
// validation with upstream's paths and messages. Pure functions, no I/O.
//
// The order the API server applies them in, as upstream's decoder and strategy do:
// prune (unknown fields, non-nullable nulls, embedded metadata) → applyDefaults →
// validateObject. x-kubernetes-validations (CEL rules) are compiled at CRD time and with the
// schema, and run last in validateObject and its update/status forms (cel.ts).
import type { JSONSchemaProps } from "kubernetes-types/apiextensions/v1.js";
import { FieldPath, invalid, type FieldError, type FieldErrorType } from "../fielderrors.js";
import { compileCelRules, schemaHasRules, validateCel, type CelValidator } from "./cel.js";
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
  /** @internal the compiled x-kubernetes-validations rules, undefined when the schema has none. */
  readonly cel: CelValidator | undefined;
}

export function compileSchema(schema: JSONSchemaProps): CompiledSchema {
  const status = schema.properties?.["status"];
  return {
    root: schema,
    structural: toStructural(schema),
    validator: compileValueSchema(schema, { forResources: true }),
    statusValidator: status ? compileValueSchema(status, { forResources: true }) : undefined,
    // Rules that do not compile were refused when the CRD was written; if one is stored anyway,
    // evaluation reports it as upstream does ("rule compile error: ...").
    cel: schemaHasRules(schema) ? compileCelRules(schema).validator : undefined,
  };
}

/** What a custom resource's validation needs from its request besides the object. */
export interface ValidationOptions {
  /**
   * The response's warnings: errors of rules on values an update did not change are reported
   * here instead (upstream's ratcheting warns about them).
   */
  readonly warnings?: string[];
  /**
   * Errors already found outside the schema library (metadata). As upstream, rules are not
   * run when the object has a blocking error (wrong type, missing, too long, too many, not
   * supported): one error then says so.
   */
  readonly priorErrors?: readonly FieldError[];
}

const blocking = new Set<FieldErrorType>(["FieldValueNotSupported", "FieldValueRequired", "FieldValueTooLong", "FieldValueTooMany", "FieldValueTypeInvalid"]);

/** The CEL rules' errors for the whole object, after `found` (upstream's hasBlockingErr gate). */
function ruleErrors(s: CompiledSchema, obj: Record<string, unknown>, old: Record<string, unknown> | undefined, found: readonly FieldError[], opts: ValidationOptions): FieldError[] {
  if (!s.cel) return [];
  if ([...(opts.priorErrors ?? []), ...found].some((e) => blocking.has(e.type))) {
    return [invalid(null, null, "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation")];
  }
  return validateCel(s.cel, obj, null, { ...(old ? { old: { value: old } } : {}), ...(opts.warnings ? { warnings: opts.warnings } : {}) });
}

export type { StructuralSchemaOptions };

/**
 * CRD-time checks of openAPIV3Schema (structural schema rules, allowed keywords,
 * x-kubernetes-* rules, and the compilation of x-kubernetes-validations rules), with upstream's paths/messages under `path`
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
 * Then the x-kubernetes-validations rules (unless a blocking error came first), e.g.
 * `spec: Invalid value: "object": replicas should be greater than or equal to minReplicas.`
 */
export function validateObject(s: CompiledSchema, obj: Record<string, unknown>, opts: ValidationOptions = {}): FieldError[] {
  const errs = validateAgainst(s.validator, obj, null);
  errs.push(...validateEmbedded(obj, s.structural, null));
  errs.push(...validateListSetsAndMaps(null, s.structural, obj));
  errs.push(...ruleErrors(s, obj, undefined, errs, opts));
  return errs;
}

/**
 * An update's validation with upstream's ratcheting (CRDValidationRatcheting, on since 1.30,
 * GA in 1.33): schema errors of a value equal to its old counterpart are dropped (objects
 * correlate by key, list-type map lists by their keys, lists without a list type by index; set
 * and atomic lists only as a whole; apiVersion/kind at the root never); list-type set/map
 * uniqueness is checked only when the old object passed it. Rules see the old object's
 * correlated values as oldSelf (transition rules), and their errors on unchanged values become
 * warnings.
 */
export function validateObjectUpdate(s: CompiledSchema, obj: Record<string, unknown>, old: Record<string, unknown>, opts: ValidationOptions = {}): FieldError[] {
  const errs = validateAgainst(s.validator, obj, null, { value: old });
  errs.push(...validateEmbedded(obj, s.structural, null));
  if (validateListSetsAndMaps(null, s.structural, old).length === 0) errs.push(...validateListSetsAndMaps(null, s.structural, obj));
  errs.push(...ruleErrors(s, obj, old, errs, opts));
  return errs;
}

/**
 * validateStatus for an update, with ratcheting against the old object's status; the rules
 * then run on the whole object, as upstream's status strategy does (what /status cannot change
 * is unchanged, so its rule errors only warn).
 */
export function validateStatusUpdate(s: CompiledSchema, obj: Record<string, unknown>, old: Record<string, unknown>, opts: ValidationOptions = {}): FieldError[] {
  const errs = s.statusValidator && Object.prototype.hasOwnProperty.call(obj, "status") ? validateAgainst(s.statusValidator, obj["status"], FieldPath.of("status"), { value: old["status"] }) : [];
  errs.push(...ruleErrors(s, obj, old, errs, opts));
  return errs;
}

/**
 * The status subresource's validation (upstream validates only `status`, against
 * properties.status, under the path `status`: messages then name fields relative to status,
 * e.g. `status.replicas: Invalid value: "string": replicas in body must be of type integer: "string"`),
 * then the rules on the whole object.
 */
export function validateStatus(s: CompiledSchema, obj: Record<string, unknown>, opts: ValidationOptions = {}): FieldError[] {
  const errs = s.statusValidator && Object.prototype.hasOwnProperty.call(obj, "status") ? validateAgainst(s.statusValidator, obj["status"], FieldPath.of("status")) : [];
  errs.push(...ruleErrors(s, obj, undefined, errs, opts));
  return errs;
}
