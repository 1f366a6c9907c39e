// The schema library behind CustomResourceDefinitions (apiextensions.k8s.io/v1): CRD-time
// checks of a version's openAPIV3Schema and, per custom resource, pruning, defaulting and
// validation with upstream's paths and messages. Pure functions, no I/O.
import type { JSONSchemaProps } from "kubernetes-types/apiextensions/v1.js";
import type { FieldError, FieldPath } from "../fielderrors.js";

/** A CRD version's schema, prepared once per CRD generation. */
export interface CompiledSchema {
  readonly root: JSONSchemaProps;
}

export function compileSchema(schema: JSONSchemaProps): CompiledSchema {
  return { root: schema };
}

/**
 * CRD-time checks of openAPIV3Schema (structural schema rules, allowed keywords,
 * x-kubernetes-* rules), with upstream's paths/messages under `path`
 * (e.g. spec.versions[0].schema.openAPIV3Schema).
 */
export function validateStructuralSchema(schema: JSONSchemaProps, path: FieldPath): FieldError[] {
  void schema;
  void path;
  return [];
}

/**
 * Removes fields the schema does not know (except under x-kubernetes-preserve-unknown-fields,
 * embedded resources' metadata rules, apiVersion/kind/metadata at the root); returns their
 * paths as upstream prints them for fieldValidation (e.g. `.spec.foo`).
 */
export function prune(s: CompiledSchema, obj: Record<string, unknown>): string[] {
  void s;
  void obj;
  return [];
}

/** Applies `default`s as upstream's structural defaulting does (after pruning). */
export function applyDefaults(s: CompiledSchema, obj: Record<string, unknown>): void {
  void s;
  void obj;
}

/**
 * Validates a custom resource against the schema: upstream's messages and paths (e.g.
 * `spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"`).
 * Root metadata is validated by the API server, not here.
 */
export function validateObject(s: CompiledSchema, obj: Record<string, unknown>): FieldError[] {
  void s;
  void obj;
  return [];
}
