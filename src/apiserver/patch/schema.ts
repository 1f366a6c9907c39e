// The view of a type's schema that the patchers need, decoupled from where schemas come from.
// schemaFromOpenAPI adapts the OpenAPI v3 documents the server publishes (components.schemas,
// `$ref`/`allOf: [{$ref}]` properties, x-kubernetes-* extensions). Views are built lazily, one
// property at a time, because some definitions are recursive (JSONSchemaProps).
import { PatchError } from "./errors.js";

export type SchemaType = "object" | "array" | "string" | "integer" | "number" | "boolean";

export interface PatchSchema {
  readonly type?: SchemaType;
  /** The schema of an object field, or undefined when the type has no such field. */
  property(name: string): PatchSchema | undefined;
  /** The schema of an array's items. */
  items(): PatchSchema | undefined;
  /** The schema of a map's values. */
  additionalProperties(): PatchSchema | undefined;
  /** x-kubernetes-patch-strategy: "merge", "retainKeys", "merge,retainKeys", "replace". */
  readonly patchStrategy?: string;
  /** x-kubernetes-patch-merge-key. */
  readonly patchMergeKey?: string;
  readonly listType?: "atomic" | "set" | "map";
  readonly listMapKeys?: readonly string[];
  readonly mapType?: "atomic" | "granular";
  readonly preserveUnknownFields?: boolean;
  /**
   * The schema's `default`. Server-side apply reads it for list keys left out of an item
   * (container ports: protocol "TCP") and to know which structs Go holds by value (`{}`).
   */
  readonly default?: unknown;
  /** Fields listed as `required` (Go fields without omitempty: always serialized). */
  readonly required?: readonly string[];
  /** The declared field names of an object. */
  propertyNames?(): readonly string[];
}

/** The part of an OpenAPI v3 schema object these views read. */
export interface OpenAPISchemaObject {
  type?: string | string[];
  properties?: Record<string, OpenAPISchemaObject>;
  items?: OpenAPISchemaObject;
  additionalProperties?: OpenAPISchemaObject | boolean;
  allOf?: OpenAPISchemaObject[];
  $ref?: string;
  "x-kubernetes-patch-strategy"?: string;
  "x-kubernetes-patch-merge-key"?: string;
  "x-kubernetes-list-type"?: string;
  "x-kubernetes-list-map-keys"?: string[];
  "x-kubernetes-map-type"?: string;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  default?: unknown;
  required?: string[];
  [extension: string]: unknown;
}

export interface OpenAPIDocument {
  components?: { schemas?: Record<string, OpenAPISchemaObject> };
}

const refPrefix = "#/components/schemas/";
const schemaTypes: ReadonlySet<string> = new Set(["object", "array", "string", "integer", "number", "boolean"]);

/** The schema of definition `definitionName` (e.g. `io.k8s.api.apps.v1.Deployment`) in `doc`. */
export function schemaFromOpenAPI(doc: OpenAPIDocument, definitionName: string): PatchSchema {
  const defs = doc.components?.schemas ?? {};
  const def = Object.prototype.hasOwnProperty.call(defs, definitionName) ? defs[definitionName] : undefined;
  if (def === undefined) throw new PatchError("SchemaError", `no definition ${definitionName} in the OpenAPI document`);
  return new OpenAPIView(defs, def);
}

class OpenAPIView implements PatchSchema {
  readonly type?: SchemaType;
  readonly patchStrategy?: string;
  readonly patchMergeKey?: string;
  readonly listType?: "atomic" | "set" | "map";
  readonly listMapKeys?: readonly string[];
  readonly mapType?: "atomic" | "granular";
  readonly preserveUnknownFields?: boolean;
  readonly default?: unknown;
  readonly required?: readonly string[];
  /** The node and every schema it reaches through $ref/allOf, outermost first. */
  private readonly layers: readonly OpenAPISchemaObject[];
  private readonly props = new Map<string, PatchSchema | undefined>();
  private itemsView?: PatchSchema | undefined | null = null;
  private valuesView?: PatchSchema | undefined | null = null;

  constructor(
    private readonly defs: Record<string, OpenAPISchemaObject>,
    node: OpenAPISchemaObject,
  ) {
    this.layers = flatten(defs, node);
    const first = <K extends keyof OpenAPISchemaObject>(key: K): OpenAPISchemaObject[K] | undefined => {
      for (const l of this.layers) if (l[key] !== undefined) return l[key];
      return undefined;
    };
    const t = first("type");
    const typeName = Array.isArray(t) ? t.find((x) => x !== "null") : t;
    if (typeName !== undefined && schemaTypes.has(typeName)) this.type = typeName as SchemaType;
    else if (this.layers.some((l) => l.properties !== undefined)) this.type = "object";
    const strategy = first("x-kubernetes-patch-strategy");
    if (typeof strategy === "string") this.patchStrategy = strategy;
    const mergeKey = first("x-kubernetes-patch-merge-key");
    if (typeof mergeKey === "string") this.patchMergeKey = mergeKey;
    const listType = first("x-kubernetes-list-type");
    if (listType === "atomic" || listType === "set" || listType === "map") this.listType = listType;
    const keys = first("x-kubernetes-list-map-keys");
    if (Array.isArray(keys)) this.listMapKeys = keys.filter((k): k is string => typeof k === "string");
    const mapType = first("x-kubernetes-map-type");
    if (mapType === "atomic" || mapType === "granular") this.mapType = mapType;
    if (first("x-kubernetes-preserve-unknown-fields") === true) this.preserveUnknownFields = true;
    const dflt = first("default");
    if (dflt !== undefined) this.default = dflt;
    const required = this.layers.flatMap((l) => (Array.isArray(l.required) ? l.required.filter((r): r is string => typeof r === "string") : []));
    if (required.length > 0) this.required = required;
  }

  propertyNames(): readonly string[] {
    const names = new Set<string>();
    for (const l of this.layers) for (const k of Object.keys(l.properties ?? {})) names.add(k);
    return [...names];
  }

  property(name: string): PatchSchema | undefined {
    if (this.props.has(name)) return this.props.get(name);
    let view: PatchSchema | undefined;
    for (const l of this.layers) {
      if (l.properties !== undefined && Object.prototype.hasOwnProperty.call(l.properties, name)) {
        const node = l.properties[name];
        if (node !== undefined) view = new OpenAPIView(this.defs, node);
        break;
      }
    }
    this.props.set(name, view);
    return view;
  }

  items(): PatchSchema | undefined {
    if (this.itemsView === null) {
      const node = this.layers.find((l) => l.items !== undefined)?.items;
      this.itemsView = node === undefined ? undefined : new OpenAPIView(this.defs, node);
    }
    return this.itemsView;
  }

  additionalProperties(): PatchSchema | undefined {
    if (this.valuesView === null) {
      const node = this.layers.find((l) => l.additionalProperties !== undefined)?.additionalProperties;
      // `additionalProperties: true` allows any value: a view that knows nothing.
      this.valuesView = node === undefined || node === false ? undefined : new OpenAPIView(this.defs, node === true ? {} : node);
    }
    return this.valuesView;
  }
}

function flatten(defs: Record<string, OpenAPISchemaObject>, node: OpenAPISchemaObject): OpenAPISchemaObject[] {
  const out: OpenAPISchemaObject[] = [];
  const seen = new Set<OpenAPISchemaObject>();
  const visit = (n: OpenAPISchemaObject): void => {
    if (seen.has(n)) return;
    seen.add(n);
    out.push(n);
    if (typeof n.$ref === "string") {
      if (!n.$ref.startsWith(refPrefix)) throw new PatchError("SchemaError", `unsupported $ref ${n.$ref}`);
      const name = n.$ref.slice(refPrefix.length);
      const target = Object.prototype.hasOwnProperty.call(defs, name) ? defs[name] : undefined;
      if (target === undefined) throw new PatchError("SchemaError", `unable to resolve ${n.$ref} in OpenAPI V3`);
      visit(target);
    }
    for (const sub of n.allOf ?? []) visit(sub);
  };
  visit(node);
  return out;
}
