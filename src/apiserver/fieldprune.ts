// Unknown-field detection against the OpenAPI v3 schemas: what decoding a body into the Go
// types does upstream (unknown fields dropped; reported under fieldValidation Strict/Warn).
import type { KubeObject } from "./registry/types.js";

export interface SchemaObject {
  type?: string | string[];
  properties?: Record<string, SchemaObject>;
  items?: SchemaObject;
  additionalProperties?: SchemaObject | boolean;
  allOf?: SchemaObject[];
  $ref?: string;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-int-or-string"?: boolean;
}

const refPrefix = "#/components/schemas/";

export class SchemaWalker {
  constructor(private readonly schemas: Readonly<Record<string, SchemaObject>>) {}

  private resolve(s: SchemaObject | undefined, depth = 0): SchemaObject | undefined {
    if (!s || depth > 8) return s;
    if (s.$ref) return this.resolve(this.schemas[s.$ref.slice(refPrefix.length)], depth + 1);
    if (s.allOf && s.allOf.length === 1 && !s.properties) return this.resolve(s.allOf[0], depth + 1);
    return s;
  }

  /** Removes fields the schema does not know from `obj`; returns their paths (`spec.foo`, `spec.containers[0].bar`). */
  prune(definition: string, obj: KubeObject): string[] {
    const unknown: string[] = [];
    const root = this.schemas[definition];
    if (root) this.walk(obj, root, "", unknown);
    return unknown;
  }

  private walk(value: unknown, schema: SchemaObject | undefined, path: string, unknown: string[]): void {
    const s = this.resolve(schema);
    if (!s || s["x-kubernetes-preserve-unknown-fields"]) return;
    if (Array.isArray(value)) {
      if (s.items) value.forEach((v, i) => this.walk(v, s.items, `${path}[${i}]`, unknown));
      return;
    }
    if (typeof value !== "object" || value === null) return;
    const rec = value as Record<string, unknown>;
    if (s.properties) {
      for (const key of Object.keys(rec)) {
        const prop = s.properties[key];
        const p = path === "" ? key : `${path}.${key}`;
        if (prop === undefined) {
          // apiVersion/kind are always accepted on objects that embed them.
          if (key === "apiVersion" || key === "kind") continue;
          unknown.push(p);
          delete rec[key];
          continue;
        }
        this.walk(rec[key], prop, p, unknown);
      }
      return;
    }
    if (typeof s.additionalProperties === "object") {
      for (const key of Object.keys(rec)) this.walk(rec[key], s.additionalProperties, `${path}.${key}`, unknown);
    }
  }
}
