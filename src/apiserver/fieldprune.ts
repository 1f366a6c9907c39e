// Decoding a body against the kind's OpenAPI v3 schema, as decoding into the Go types does
// upstream: a value of the wrong JSON type is a 400 (`json: cannot unmarshal object into Go
// struct field ObjectMeta.metadata.name of type string`), null means "not set", and unknown
// fields are dropped and reported (for fieldValidation Strict/Warn).
import type { KubeObject } from "./registry/types.js";

export interface SchemaObject {
  type?: string | string[];
  format?: string;
  properties?: Record<string, SchemaObject>;
  items?: SchemaObject;
  additionalProperties?: SchemaObject | boolean;
  allOf?: SchemaObject[];
  oneOf?: SchemaObject[];
  $ref?: string;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-int-or-string"?: boolean;
}

export interface SchemaCheck {
  /** Paths of fields the schema does not know (removed from the object). */
  readonly unknown: string[];
  /** The first value of the wrong type, as Go's decoder words it. */
  typeError?: string;
}

const refPrefix = "#/components/schemas/";
const INT32 = 2 ** 31;

function jsonTypeOf(v: unknown): string {
  if (Array.isArray(v)) return "array";
  if (v === null) return "null";
  if (typeof v === "object") return "object";
  return typeof v;
}

export class SchemaWalker {
  constructor(private readonly schemas: Readonly<Record<string, SchemaObject>>) {}

  private resolve(s: SchemaObject | undefined, depth = 0): SchemaObject | undefined {
    if (!s || depth > 8) return s;
    if (s.$ref) return this.resolve(this.schemas[s.$ref.slice(refPrefix.length)], depth + 1);
    if (s.allOf && s.allOf.length === 1 && !s.properties) return this.resolve(s.allOf[0], depth + 1);
    return s;
  }

  /** Checks `obj` against `definition`, removing unknown and null fields; see SchemaCheck. */
  check(definition: string, obj: KubeObject): SchemaCheck {
    const result: SchemaCheck = { unknown: [] };
    const root = this.schemas[definition];
    if (root) this.walk(obj, root, "", result, 0);
    return result;
  }


  private typeError(result: SchemaCheck, value: unknown, path: string, goType: string): void {
    const shown = typeof value === "number" ? `number ${value}` : jsonTypeOf(value);
    result.typeError ??= `json: cannot unmarshal ${shown} into Go struct field .${path} of type ${goType}`;
  }

  private walk(value: unknown, schema: SchemaObject | undefined, path: string, result: SchemaCheck, depth: number): void {
    const s = this.resolve(schema);
    if (!s || s["x-kubernetes-preserve-unknown-fields"] || result.typeError) return;
    if (depth > 64) {
      result.typeError ??= `json: exceeded max depth at .${path}`;
      return;
    }
    if (s.oneOf) {
      const t = jsonTypeOf(value);
      const ok = s.oneOf.some((o) => o.type === t || (o.type === "integer" && typeof value === "number" && Number.isInteger(value)) || (o.type === "number" && typeof value === "number"));
      if (!ok && value !== null) this.typeError(result, value, path, s.format === "int-or-string" ? "intstr.IntOrString" : "resource.Quantity");
      return;
    }
    const type = Array.isArray(s.type) ? s.type[0] : s.type;
    switch (type) {
      case "string":
        if (typeof value !== "string") this.typeError(result, value, path, "string");
        return;
      case "boolean":
        if (typeof value !== "boolean") this.typeError(result, value, path, "bool");
        return;
      case "integer":
        if (typeof value !== "number" || !Number.isInteger(value) || (s.format === "int32" && (value >= INT32 || value < -INT32)) || !Number.isSafeInteger(value)) {
          this.typeError(result, value, path, s.format ?? "int64");
        }
        return;
      case "number":
        if (typeof value !== "number") this.typeError(result, value, path, "float64");
        return;
      case "array":
        if (!Array.isArray(value)) {
          this.typeError(result, value, path, "[]");
          return;
        }
        value.forEach((v, i) => {
          if (v !== null) this.walk(v, s.items, `${path}[${i}]`, result, depth + 1);
        });
        return;
      default:
        break;
    }
    if (!s.properties && typeof s.additionalProperties !== "object") {
      // A free-form object (RawExtension, FieldsV1, JSON): anything goes.
      if (type === "object" && (typeof value !== "object" || value === null || Array.isArray(value))) this.typeError(result, value, path, "map[string]interface {}");
      return;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      this.typeError(result, value, path, s.properties ? "struct" : "map");
      return;
    }
    const rec = value as Record<string, unknown>;
    for (const key of Object.keys(rec)) {
      const p = path === "" ? key : `${path}.${key}`;
      const v = rec[key];
      if (s.properties) {
        const prop = s.properties[key];
        if (prop === undefined) {
          // apiVersion/kind are always accepted on objects that embed them.
          if (key === "apiVersion" || key === "kind") continue;
          result.unknown.push(p);
          delete rec[key];
          continue;
        }
        if (v === null) {
          delete rec[key];
          continue;
        }
        this.walk(v, prop, p, result, depth + 1);
      } else {
        if (v === null) {
          delete rec[key];
          continue;
        }
        this.walk(v, s.additionalProperties as SchemaObject, p, result, depth + 1);
      }
    }
  }
}
