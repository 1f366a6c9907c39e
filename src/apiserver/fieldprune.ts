// Decoding a body against the kind's OpenAPI v3 schema, as decoding into the Go types does
// upstream: a value of the wrong JSON type is a 400 (`json: cannot unmarshal object into Go
// struct field ObjectMeta.metadata.name of type string`), a null field is not set, a null list
// element or map value is its type's zero value, and unknown fields are dropped and reported
// (for fieldValidation Strict/Warn).
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
  /** Schemas are immutable once built: each reference is followed once. */
  private readonly resolved = new WeakMap<SchemaObject, SchemaObject | undefined>();
  /**
   * The path of the value being walked, one element per level (a key, or an index): written
   * out only for the rare error or unknown field, instead of a new string for every field of
   * every body.
   */
  private readonly at: (string | number)[] = [];

  constructor(private readonly schemas: Readonly<Record<string, SchemaObject>>) {}

  private resolve(s: SchemaObject | undefined): SchemaObject | undefined {
    if (!s) return s;
    if (!s.$ref && !s.allOf) return s;
    let r = this.resolved.get(s);
    if (r === undefined && !this.resolved.has(s)) {
      r = this.follow(s, 0);
      this.resolved.set(s, r);
    }
    return r;
  }

  private follow(s: SchemaObject | undefined, depth: number): SchemaObject | undefined {
    if (!s || depth > 8) return s;
    if (s.$ref) return this.follow(this.schemas[s.$ref.slice(refPrefix.length)], depth + 1);
    if (s.allOf && s.allOf.length === 1 && !s.properties) return this.follow(s.allOf[0], depth + 1);
    return s;
  }

  /** Checks `obj` against `definition`, removing unknown and null fields; see SchemaCheck. */
  check(definition: string, obj: KubeObject): SchemaCheck {
    const result: SchemaCheck = { unknown: [] };
    const root = this.schemas[definition];
    this.at.length = 0;
    if (root) this.walk(obj, root, result, 0);
    return result;
  }

  private path(): string {
    let p = "";
    for (const e of this.at) p += typeof e === "number" ? `[${e}]` : p === "" ? e : `.${e}`;
    return p;
  }

  private typeError(result: SchemaCheck, value: unknown, goType: string): void {
    const shown = typeof value === "number" ? `number ${value}` : jsonTypeOf(value);
    result.typeError ??= `json: cannot unmarshal ${shown} into Go struct field .${this.path()} of type ${goType}`;
  }

  /** The JSON of a Go zero value of `schema`'s type; null where Go's is nil (a slice, a map, a free-form value). */
  private zeroOf(schema: SchemaObject | undefined): unknown {
    const s = this.resolve(schema);
    if (!s || s["x-kubernetes-preserve-unknown-fields"]) return null;
    if (s.oneOf) return s.format === "int-or-string" || s["x-kubernetes-int-or-string"] ? 0 : "0";
    switch (Array.isArray(s.type) ? s.type[0] : s.type) {
      case "string":
        return "";
      case "boolean":
        return false;
      case "integer":
      case "number":
        return 0;
      default:
        return s.properties ? {} : null;
    }
  }

  private walk(value: unknown, schema: SchemaObject | undefined, result: SchemaCheck, depth: number): void {
    // A frozen value is shared with the watch cache: a stored object's, decoded when it was
    // written (a /status patch keeps the parts of the stored pod it does not change).
    if (typeof value === "object" && value !== null && Object.isFrozen(value)) return;
    const s = this.resolve(schema);
    if (!s || s["x-kubernetes-preserve-unknown-fields"] || result.typeError) return;
    if (depth > 64) {
      result.typeError ??= `json: exceeded max depth at .${this.path()}`;
      return;
    }
    if (s.oneOf) {
      const t = jsonTypeOf(value);
      const ok = s.oneOf.some((o) => o.type === t || (o.type === "integer" && typeof value === "number" && Number.isInteger(value)) || (o.type === "number" && typeof value === "number"));
      if (!ok && value !== null) this.typeError(result, value, s.format === "int-or-string" ? "intstr.IntOrString" : "resource.Quantity");
      return;
    }
    const type = Array.isArray(s.type) ? s.type[0] : s.type;
    switch (type) {
      case "string":
        if (typeof value !== "string") this.typeError(result, value, "string");
        return;
      case "boolean":
        if (typeof value !== "boolean") this.typeError(result, value, "bool");
        return;
      case "integer":
        if (typeof value !== "number" || !Number.isInteger(value) || (s.format === "int32" && (value >= INT32 || value < -INT32)) || !Number.isSafeInteger(value)) {
          this.typeError(result, value, s.format ?? "int64");
        }
        return;
      case "number":
        if (typeof value !== "number") this.typeError(result, value, "float64");
        return;
      case "array":
        if (!Array.isArray(value)) {
          this.typeError(result, value, "[]");
          return;
        }
        for (let i = 0; i < value.length; i++) {
          const v: unknown = value[i];
          if (v === null) {
            // Go decodes a null element as the zero value of the element type: validation then
            // judges an empty port or container instead of code tripping over a null.
            const zero = this.zeroOf(s.items);
            if (zero !== null) value[i] = zero;
            continue;
          }
          this.at.push(i);
          this.walk(v, s.items, result, depth + 1);
          this.at.pop();
        }
        return;
      default:
        break;
    }
    if (!s.properties && typeof s.additionalProperties !== "object") {
      // A free-form object (RawExtension, FieldsV1, JSON): anything goes.
      if (type === "object" && (typeof value !== "object" || value === null || Array.isArray(value))) this.typeError(result, value, "map[string]interface {}");
      return;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      this.typeError(result, value, s.properties ? "struct" : "map");
      return;
    }
    const rec = value as Record<string, unknown>;
    const props = s.properties;
    for (const key of Object.keys(rec)) {
      const v = rec[key];
      let child: SchemaObject;
      if (props) {
        const prop = Object.prototype.hasOwnProperty.call(props, key) ? props[key] : undefined;
        if (prop === undefined) {
          // apiVersion/kind are always accepted on objects that embed them.
          if (key === "apiVersion" || key === "kind") continue;
          this.at.push(key);
          result.unknown.push(this.path());
          this.at.pop();
          delete rec[key];
          continue;
        }
        child = prop;
      } else child = s.additionalProperties as SchemaObject;
      if (v === null) {
        // A null field is unset; a map keeps a null entry's key with the value type's zero
        // value, as Go's decoder does (`labels: {a: null}` is the label a=""; a nil slice or map
        // stays null).
        if (props) delete rec[key];
        else rec[key] = this.zeroOf(child);
        continue;
      }
      this.at.push(key);
      this.walk(v, child, result, depth + 1);
      this.at.pop();
    }
  }
}
