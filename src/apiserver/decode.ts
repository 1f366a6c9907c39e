// Request body decoding: JSON or YAML into an object of the endpoint's kind, then field
// validation (Strict / Warn / Ignore) of unknown fields against the kind's schema.
import { parseDocument } from "yaml";
import type { KubeObject, ResourceDefinition } from "./registry/types.js";
import { badRequest, requestEntityTooLarge, unsupportedMediaType } from "./status.js";
import { mediaType } from "./http.js";
import { decodeProtobufObject, ProtobufDecodeError, PROTOBUF_CONTENT_TYPE } from "./protobuf/decode.js";

export type FieldValidation = "Strict" | "Warn" | "Ignore";

export function parseFieldValidation(v: string | null): FieldValidation {
  if (v === null || v === "") return "Warn";
  if (v === "Strict" || v === "Warn" || v === "Ignore") return v;
  throw badRequest(`fieldValidation: Unsupported value: "${v}": supported values: "Ignore", "Strict", "Warn"`);
}

/** What an object is decoded against: its kind's OpenAPI definition in its group-version. */
export type SchemaTarget = Pick<ResourceDefinition, "group" | "version" | "kind" | "definition">;

/**
 * Checks `obj` against the kind's schema as decoding into the Go types does: wrong JSON types
 * are reported, unknown fields dropped and their paths returned (e.g. `spec.foo`).
 */
export type SchemaChecker = (def: SchemaTarget, obj: KubeObject) => { readonly unknown: readonly string[]; readonly typeError?: string };

/** Parses JSON or YAML; anything else is 415. Duplicate JSON keys are reported as upstream does under Strict. */
export function parseBody(body: Buffer, contentType: string | undefined): { value: unknown; duplicates: string[] } {
  const type = mediaType(contentType) || "application/json";
  const text = body.toString("utf8");
  if (type === "application/json" || type === "application/merge-patch+json" || type === "application/json-patch+json" || type === "application/strategic-merge-patch+json") {
    try {
      return { value: JSON.parse(text) as unknown, duplicates: [] };
    } catch (err) {
      throw badRequest(`error decoding request body: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (type === "application/yaml" || type === "application/apply-patch+yaml" || type === "text/yaml" || type === "application/x-yaml") {
    const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: false });
    if (doc.errors.length > 0) throw badRequest(`error converting YAML to JSON: ${doc.errors[0]!.message}`);
    return { value: doc.toJS({ maxAliasCount: 100 }) as unknown, duplicates: [] };
  }
  if (type === PROTOBUF_CONTENT_TYPE) {
    try {
      return { value: decodeProtobufObject(body).object, duplicates: [] };
    } catch (err) {
      if (err instanceof ProtobufDecodeError) {
        if (err.httpStatus === 415) throw unsupportedMediaType(`${type} (${err.message})`);
        if ((err.httpStatus as number) === 413) throw requestEntityTooLarge(`error decoding protobuf request body: ${err.message}`);
        throw badRequest(`error decoding protobuf request body: ${err.message}`);
      }
      throw err;
    }
  }
  throw unsupportedMediaType(type);
}

/** Checks apiVersion/kind against the endpoint and fills them when absent. */
export function checkKind(value: unknown, expect: { apiVersion: string; kind: string }): KubeObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw badRequest(`the body of the request must be a ${expect.kind} object`);
  }
  const obj = value as KubeObject;
  if (obj.apiVersion !== undefined && obj.apiVersion !== expect.apiVersion) {
    throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${expect.apiVersion})`);
  }
  if (obj.kind !== undefined && obj.kind !== expect.kind) {
    throw badRequest(`the kind in the data (${String(obj.kind)}) does not match the expected kind (${expect.kind})`);
  }
  if (obj.metadata !== undefined && (typeof obj.metadata !== "object" || obj.metadata === null || Array.isArray(obj.metadata))) {
    throw badRequest(`metadata must be an object`);
  }
  obj.apiVersion = expect.apiVersion;
  obj.kind = expect.kind;
  return obj;
}

/**
 * Decodes against the schema: a wrong type is a 400 whatever the mode; unknown fields then
 * follow the field validation mode: Strict fails, Warn adds warnings, Ignore drops silently.
 */
export function validateFields(def: SchemaTarget, obj: KubeObject, mode: FieldValidation, check: SchemaChecker | undefined, warnings: string[], duplicates: readonly string[] = []): void {
  const result = check ? check(def, obj) : { unknown: [] };
  if (result.typeError) {
    throw badRequest(`${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: ${result.typeError}`);
  }
  const unknown = result.unknown;
  const problems = [...duplicates.map((d) => `duplicate field "${d}"`), ...unknown.map((u) => `unknown field "${u}"`)];
  if (problems.length === 0 || mode === "Ignore") return;
  if (mode === "Strict") throw badRequest(`strict decoding error: ${problems.join(", ")}`);
  warnings.push(...problems);
}
