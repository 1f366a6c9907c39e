// The structural view of a CRD schema (apiextensions pkg/apiserver/schema Structural) and
// the algorithms that run over it for every custom resource: pruning of unknown fields,
// removal of non-nullable nulls, defaulting, embedded-resource coercion and validation, and
// the x-kubernetes-list-type set/map uniqueness check.
import type { JSONSchemaProps } from "kubernetes-types/apiextensions/v1.js";
import type { ObjectMeta } from "kubernetes-types/meta/v1.js";
import { FieldError, FieldPath, childPath, duplicate, invalid, required, type PathOrNil } from "../fielderrors.js";
import { isDNS1035Label, validateObjectMeta, validatePathSegmentName } from "../validation.js";
import { badValue } from "./gofmt.js";
import { ext } from "./props.js";

export interface SNode {
  readonly type: string;
  readonly nullable: boolean;
  /** The default value, or undefined when there is none (a JSON null default counts as none, as upstream). */
  readonly default: unknown;
  readonly preserveUnknownFields: boolean;
  readonly embeddedResource: boolean;
  readonly intOrString: boolean;
  readonly listType: string | undefined;
  readonly listMapKeys: readonly string[];
  readonly properties: ReadonlyMap<string, SNode> | undefined;
  /** additionalProperties: `schema` set for a schema, else the boolean. */
  readonly additionalProperties: { readonly allows: boolean; readonly schema: SNode | undefined } | undefined;
  readonly items: SNode | undefined;
  /** Whether this node or any below it is an embedded resource / has a list type (walks skip the rest). */
  readonly hasEmbedded: boolean;
  readonly hasListType: boolean;
}

export function toStructural(p: JSONSchemaProps): SNode {
  let properties: Map<string, SNode> | undefined;
  if (p.properties && Object.keys(p.properties).length > 0) {
    properties = new Map();
    for (const [k, v] of Object.entries(p.properties)) properties.set(k, toStructural(v));
  }
  const ap = p.additionalProperties as JSONSchemaProps | boolean | undefined | null;
  let additionalProperties: SNode["additionalProperties"];
  if (ap !== undefined && ap !== null) {
    additionalProperties = typeof ap === "boolean" ? { allows: ap, schema: undefined } : { allows: true, schema: toStructural(ap) };
  }
  const items = p.items && !Array.isArray(p.items) ? toStructural(p.items as JSONSchemaProps) : undefined;
  const children = [...(properties?.values() ?? []), ...(additionalProperties?.schema ? [additionalProperties.schema] : []), ...(items ? [items] : [])];
  const listType = ext(p)["x-kubernetes-list-type"];
  return {
    hasEmbedded: ext(p)["x-kubernetes-embedded-resource"] === true || children.some((c) => c.hasEmbedded),
    hasListType: listType === "set" || listType === "map" || children.some((c) => c.hasListType),
    type: p.type ?? "",
    nullable: p.nullable === true,
    default: p.default === null ? undefined : p.default,
    preserveUnknownFields: ext(p)["x-kubernetes-preserve-unknown-fields"] === true,
    embeddedResource: ext(p)["x-kubernetes-embedded-resource"] === true,
    intOrString: ext(p)["x-kubernetes-int-or-string"] === true,
    listType: ext(p)["x-kubernetes-list-type"],
    listMapKeys: ext(p)["x-kubernetes-list-map-keys"] ?? [],
    properties,
    additionalProperties,
    items,
  };
}

/** The root treated as an embedded resource, as upstream does for pruning and default checks. */
export function asResourceRoot(s: SNode): SNode {
  return s.embeddedResource ? s : { ...s, embeddedResource: true, hasEmbedded: true };
}

type Obj = Record<string, unknown>;

function isObj(x: unknown): x is Obj {
  return x !== null && typeof x === "object" && !Array.isArray(x);
}

const metaFields = new Set(["apiVersion", "kind", "metadata"]);

// ---- pruning ------------------------------------------------------------------------------

/** Tracks the path of the value being walked in upstream's unknown-field notation (`spec.a[0].b`). */
class PathTracker {
  readonly unknown: string[] = [];
  private parts: string[] = [];

  constructor(private readonly track: boolean) {}

  mark(): number {
    return this.parts.length;
  }

  reset(n: number): void {
    if (this.track) this.parts.length = n;
  }

  key(k: string): void {
    if (!this.track) return;
    if (this.parts.length > 0) this.parts.push(".");
    this.parts.push(k);
  }

  index(i: number): void {
    if (this.track) this.parts.push(`[${i}]`);
  }

  record(k: string): void {
    if (!this.track) return;
    const n = this.parts.length;
    this.key(k);
    this.unknown.push(this.parts.join(""));
    this.parts.length = n;
  }

  get depth(): number {
    return this.parts.length;
  }
}

/**
 * Removes the fields `s` does not know. Below x-kubernetes-preserve-unknown-fields (`keep`)
 * unknown fields stay, but the fields the schema does specify are still pruned inside; so do
 * the items of a kept array.
 */
function pruneValue(x: unknown, s: SNode | undefined, t: PathTracker, keep = false): void {
  if (s?.preserveUnknownFields) keep = true;
  if (keep && !s) return;
  const at = t.mark();
  if (isObj(x)) {
    for (const k of Object.keys(x)) {
      if (!s) {
        t.record(k);
        delete x[k];
        continue;
      }
      if (s.embeddedResource && metaFields.has(k)) continue;
      const prop = s.properties?.get(k);
      if (prop) {
        t.key(k);
        pruneValue(x[k], prop, t);
        t.reset(at);
      } else if (s.additionalProperties) {
        t.key(k);
        pruneValue(x[k], s.additionalProperties.schema, t);
        t.reset(at);
      } else if (!keep) {
        if (!metaFields.has(k) || t.depth > 0) t.record(k);
        delete x[k];
      }
    }
  } else if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) {
      t.index(i);
      pruneValue(x[i], s?.items, t, keep);
      t.reset(at);
    }
  }
}

/** Upstream's pruning.PruneWithOptions: removes unknown fields, returns their paths sorted. */
export function pruneUnknown(x: unknown, s: SNode, isResourceRoot: boolean, track = true): string[] {
  const t = new PathTracker(track);
  pruneValue(x, isResourceRoot ? asResourceRoot(s) : s, t);
  return t.unknown.sort();
}

function schemaForField(k: string, s: SNode | undefined): SNode | undefined {
  if (!s) return undefined;
  const p = s.properties?.get(k);
  if (p) return p;
  return s.additionalProperties?.schema;
}

/** Upstream's PruneNonNullableNullsWithoutDefaults: drops nulls that neither nullable nor a default allows. */
export function pruneNonNullableNulls(x: unknown, s: SNode | undefined): void {
  if (isObj(x)) {
    for (const k of Object.keys(x)) {
      const fs = schemaForField(k, s);
      const v = x[k];
      if (v === null && fs && !fs.nullable && fs.default === undefined) delete x[k];
      else pruneNonNullableNulls(v, fs);
    }
  } else if (Array.isArray(x)) {
    for (const v of x) pruneNonNullableNulls(v, s?.items);
  }
}

// ---- defaulting ---------------------------------------------------------------------------

function isNonNullableNull(x: unknown, s: SNode | undefined): boolean {
  return x === null && s !== undefined && !s.nullable;
}

/** Upstream's structural defaulting: defaults fill missing properties top-down; non-nullable nulls take the default. */
export function applyDefaultsTo(x: unknown, s: SNode | undefined): void {
  if (!s) return;
  if (isObj(x)) {
    if (s.properties) {
      for (const [k, prop] of s.properties) {
        if (prop.default === undefined) continue;
        if (!Object.prototype.hasOwnProperty.call(x, k) || isNonNullableNull(x[k], prop)) x[k] = structuredClone(prop.default);
      }
    }
    for (const k of Object.keys(x)) {
      const prop = s.properties?.get(k);
      if (prop) {
        applyDefaultsTo(x[k], prop);
      } else if (s.additionalProperties) {
        const as = s.additionalProperties.schema;
        if (isNonNullableNull(x[k], as) && as!.default !== undefined) x[k] = structuredClone(as!.default);
        applyDefaultsTo(x[k], as);
      }
    }
  } else if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) {
      if (isNonNullableNull(x[i], s.items) && s.items!.default !== undefined) x[i] = structuredClone(s.items!.default);
      applyDefaultsTo(x[i], s.items);
    }
  }
}

// ---- embedded resources: metadata coercion and validation --------------------------------

type MetaKind = "string" | "int64" | "time" | "stringMap" | "stringList" | "objectList";

const objectMetaFields: Record<string, MetaKind> = {
  name: "string",
  generateName: "string",
  namespace: "string",
  selfLink: "string",
  uid: "string",
  resourceVersion: "string",
  generation: "int64",
  creationTimestamp: "time",
  deletionTimestamp: "time",
  deletionGracePeriodSeconds: "int64",
  labels: "stringMap",
  annotations: "stringMap",
  ownerReferences: "objectList",
  finalizers: "stringList",
  managedFields: "objectList",
};

function jsonKind(v: unknown): string {
  if (typeof v === "string") return "string";
  if (typeof v === "number") return "number";
  if (typeof v === "boolean") return "bool";
  if (Array.isArray(v)) return "array";
  return "object";
}

function unmarshalError(v: unknown, field: string, goType: string): string {
  return `json: cannot unmarshal ${jsonKind(v)} into Go struct field ObjectMeta.${field} of type ${goType}`;
}

/**
 * Decodes embedded metadata as upstream's GetObjectMeta round trip through metav1.ObjectMeta
 * does: unknown fields dropped (and reported), nulls and empty values left out, a value of the
 * wrong JSON type an error.
 */
function coerceObjectMeta(v: unknown, prefix: string, unknown: string[]): { meta?: Obj; error?: string } {
  if (!isObj(v)) {
    if (v === null) return { meta: {} };
    return { error: `json: cannot unmarshal ${jsonKind(v)} into Go value of type v1.ObjectMeta` };
  }
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) {
    const kind = objectMetaFields[k];
    if (!kind) {
      unknown.push(`${prefix}.${k}`);
      continue;
    }
    if (x === null) continue;
    switch (kind) {
      case "string":
        if (typeof x !== "string") return { error: unmarshalError(x, k, "string") };
        if (x !== "") out[k] = x;
        break;
      case "int64":
        if (typeof x !== "number" || !Number.isInteger(x)) return { error: unmarshalError(x, k, "int64") };
        if (x !== 0 || k === "deletionGracePeriodSeconds") out[k] = x;
        break;
      case "time":
        if (typeof x !== "string") return { error: unmarshalError(x, k, "v1.Time") };
        if (x !== "") out[k] = x;
        break;
      case "stringMap": {
        if (!isObj(x)) return { error: unmarshalError(x, k, "map[string]string") };
        const m: Obj = {};
        for (const [mk, mv] of Object.entries(x)) {
          if (mv !== null && typeof mv !== "string") return { error: unmarshalError(mv, k, "string") };
          m[mk] = mv ?? "";
        }
        if (Object.keys(m).length > 0) out[k] = m;
        break;
      }
      case "stringList":
        if (!Array.isArray(x)) return { error: unmarshalError(x, k, "[]string") };
        for (const s of x) if (s !== null && typeof s !== "string") return { error: unmarshalError(s, k, "string") };
        if (x.length > 0) out[k] = x.map((s) => s ?? "");
        break;
      case "objectList":
        if (!Array.isArray(x)) return { error: unmarshalError(x, k, k === "ownerReferences" ? "[]v1.OwnerReference" : "[]v1.ManagedFieldsEntry") };
        if (x.length > 0) out[k] = x;
        break;
    }
  }
  return { meta: out };
}

/**
 * Upstream's objectmeta.CoerceWithOptions below the root: apiVersion/kind of embedded resources
 * must be strings, their metadata is normalized and its unknown fields removed and reported.
 */
export function coerceEmbedded(x: unknown, s: SNode | undefined, path: PathOrNil, unknown: string[]): FieldError | undefined {
  if (!s?.hasEmbedded) return undefined;
  if (isObj(x)) {
    for (const k of Object.keys(x)) {
      const v = x[k];
      if (s.embeddedResource) {
        if ((k === "apiVersion" || k === "kind") && typeof v !== "string") return invalid(childPath(path, k), badValue(v), "must be a string");
        if (k === "metadata") {
          const prefix = path === null ? "metadata" : path.child("metadata").toString();
          const c = coerceObjectMeta(v, prefix, unknown);
          if (c.error !== undefined) return invalid(childPath(path, "metadata"), badValue(v), c.error);
          x[k] = c.meta;
        }
      }
      const prop = s.properties?.get(k);
      if (prop) {
        const e = coerceEmbedded(x[k], prop, childPath(path, k), unknown);
        if (e) return e;
      } else if (s.additionalProperties) {
        const e = coerceEmbedded(x[k], s.additionalProperties.schema, keyPath(path, k), unknown);
        if (e) return e;
      }
    }
  } else if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) {
      const e = coerceEmbedded(x[i], s.items, indexPath(path, i), unknown);
      if (e) return e;
    }
  }
  return undefined;
}

// Upstream's Key/Index on a nil path yield a path printing as "[k]".
function keyPath(p: PathOrNil, k: string): FieldPath {
  return p === null ? FieldPath.of(`[${k}]`) : p.key(k);
}

function indexPath(p: PathOrNil, i: number): FieldPath {
  return p === null ? FieldPath.of(`[${i}]`) : p.index(i);
}

/** schema.ParseGroupVersion's error for an apiVersion, if any. */
function parseGroupVersionError(gv: string): string | undefined {
  return gv.split("/").length > 2 ? `unexpected GroupVersion string: ${gv}` : undefined;
}

function validateEmbeddedResource(path: PathOrNil, x: Obj): FieldError[] {
  const errs: FieldError[] = [];
  if (!("apiVersion" in x)) errs.push(required(childPath(path, "apiVersion")));
  if (!("kind" in x)) errs.push(required(childPath(path, "kind")));
  for (const [k, v] of Object.entries(x)) {
    if (k === "apiVersion") {
      if (typeof v !== "string") errs.push(invalid(childPath(path, k), badValue(v), "must be a string"));
      else if (v === "") errs.push(invalid(childPath(path, k), v, "must not be empty"));
      else {
        const e = parseGroupVersionError(v);
        if (e) errs.push(invalid(childPath(path, k), v, e));
      }
    } else if (k === "kind") {
      if (typeof v !== "string") errs.push(invalid(childPath(path, k), badValue(v), "must be a string"));
      else if (v === "") errs.push(invalid(childPath(path, k), v, "must not be empty"));
      else {
        const e = isDNS1035Label(v.toLowerCase());
        if (e.length > 0) errs.push(invalid(childPath(path, k), v, "may have mixed case, but should otherwise match: " + e.join(",")));
      }
    } else if (k === "metadata") {
      const c = coerceObjectMeta(v, "", []);
      const mp = childPath(path, "metadata");
      if (c.error !== undefined) {
        errs.push(invalid(mp, badValue(v), c.error));
      } else {
        const meta = { ...(c.meta as ObjectMeta) };
        if (!meta.name) meta.name = "fakename";
        errs.push(...validateObjectMeta(meta, (meta.namespace ?? "").length > 0, validatePathSegmentName, mp));
      }
    }
  }
  return errs;
}

/** Upstream's objectmeta.Validate (not at the root): embedded resources' apiVersion, kind and metadata. */
export function validateEmbedded(x: unknown, s: SNode | undefined, path: PathOrNil): FieldError[] {
  if (!s?.hasEmbedded) return [];
  const errs: FieldError[] = [];
  if (isObj(x)) {
    if (s.embeddedResource) errs.push(...validateEmbeddedResource(path, x));
    for (const [k, v] of Object.entries(x)) {
      const prop = s.properties?.get(k);
      if (prop) errs.push(...validateEmbedded(v, prop, childPath(path, k)));
      else if (s.additionalProperties) errs.push(...validateEmbedded(v, s.additionalProperties.schema, keyPath(path, k)));
    }
  } else if (Array.isArray(x)) {
    x.forEach((v, i) => errs.push(...validateEmbedded(v, s.items, indexPath(path, i))));
  }
  return errs;
}

// ---- x-kubernetes-list-type set/map uniqueness ---------------------------------------------

const UNSPECIFIED = Symbol("unspecified key");

function scalarKey(x: unknown): unknown {
  // Go compares int64 and float64 keys by type too; decoded JSON cannot tell 1 from 1.0 here.
  return x;
}

/** Indices of the second occurrence of each repeated element (upstream reports each once). */
function nonUnique(items: readonly unknown[]): number[] {
  if (items.length <= 1) return [];
  const seenScalar = new Map<unknown, number>();
  const seenCompound = new Map<string, number>();
  const out: number[] = [];
  items.forEach((x, i) => {
    if (x !== null && typeof x === "object") {
      const k = goJSON(x);
      const n = seenCompound.get(k) ?? 0;
      if (n === 1) out.push(i);
      seenCompound.set(k, n + 1);
    } else {
      const k = scalarKey(x);
      const n = seenScalar.get(k) ?? 0;
      if (n === 1) out.push(i);
      seenScalar.set(k, n + 1);
    }
  });
  return out;
}

/** encoding/json output for decoded JSON: object keys sorted. */
function goJSON(x: unknown): string {
  if (x === null || typeof x !== "object") return JSON.stringify(x);
  if (Array.isArray(x)) return `[${x.map(goJSON).join(",")}]`;
  const keys = Object.keys(x).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${goJSON((x as Obj)[k])}`).join(",")}}`;
}

function validateListMap(path: PathOrNil, s: SNode, list: unknown[]): FieldError[] {
  for (let i = 0; i < list.length; i++) {
    const x = list[i];
    if (x !== null && !isObj(x)) return [invalid(indexPath(path, i), badValue(x), "must be an object for an array of list-type map")];
  }
  if (list.length <= 1) return [];
  if (s.listMapKeys.length === 1) {
    const kf = s.listMapKeys[0]!;
    const keys = list.map((x) => (x === null || !Object.prototype.hasOwnProperty.call(x, kf) ? UNSPECIFIED : (x as Obj)[kf]));
    return nonUnique(keys).map((i) => {
      const k = keys[i];
      return duplicate(indexPath(path, i), k === UNSPECIFIED ? badValue({}) : badValue({ [kf]: k }));
    });
  }
  const keys = list.map((x) => {
    const key: Obj = {};
    if (x === null) return key;
    for (const kf of s.listMapKeys) if (Object.prototype.hasOwnProperty.call(x, kf)) key[kf] = (x as Obj)[kf];
    return key;
  });
  return nonUnique(keys).map((i) => duplicate(indexPath(path, i), badValue(keys[i])));
}

function validateListsInArray(path: PathOrNil, s: SNode, list: unknown[]): FieldError[] {
  const errs: FieldError[] = [];
  if (s.listType === "set") {
    for (const i of nonUnique(list)) errs.push(duplicate(indexPath(path, i), badValue(list[i])));
  } else if (s.listType === "map") {
    errs.push(...validateListMap(path, s, list));
  }
  if (s.items) list.forEach((x, i) => errs.push(...validateListsIn(indexPath(path, i), s.items!, x)));
  return errs;
}

function validateListsIn(path: PathOrNil, s: SNode, x: unknown): FieldError[] {
  if (!s.hasListType) return [];
  if (Array.isArray(x)) return validateListsInArray(path, s, x);
  if (isObj(x)) return validateListSetsAndMaps(path, s, x);
  return [];
}

/** Upstream's listtype.ValidateListSetsAndMaps. */
export function validateListSetsAndMaps(path: PathOrNil, s: SNode, obj: Obj): FieldError[] {
  if (!s.hasListType) return [];
  const errs: FieldError[] = [];
  const as = s.additionalProperties?.schema;
  if (as) for (const [k, v] of Object.entries(obj)) errs.push(...validateListsIn(keyPath(path, k), as, v));
  if (s.properties) {
    for (const [k, v] of Object.entries(obj)) {
      const sub = s.properties.get(k);
      if (sub) errs.push(...validateListsIn(childPath(path, k), sub, v));
    }
  }
  return errs;
}
