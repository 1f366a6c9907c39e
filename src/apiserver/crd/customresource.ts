// The resources a CustomResourceDefinition serves: one ResourceDefinition per served version,
// all stored once under /registry/<group>/<plural>/ in the storage version (conversion None:
// only apiVersion is rewritten, as upstream's nopConverter). Each carries the version's
// compiled schema for pruning, defaulting and validation, its printer columns and its
// status/scale subresources.
import type { CustomResourceColumnDefinition, CustomResourceDefinition, CustomResourceDefinitionVersion, JSONSchemaProps } from "kubernetes-types/apiextensions/v1.js";
import { applyDefaults, compileSchema, pruneObject, validateObject, validateObjectUpdate, validateStatusUpdate, type CompiledSchema } from "../../api/crd/schema.js";
import type { FieldError } from "../../api/fielderrors.js";
import type { ColumnType, KubeObject, ResourceDefinition, StrategyContext, SubresourceName, TableColumn } from "../registry/types.js";
import { genericMeta as validateMeta, genericMetaUpdate as validateMetaUpdate } from "./meta.js";
import { since } from "../resources/print.js";
import { evaluate, parseJSONPath } from "./jsonpath.js";
import { getPath } from "../../util/json.js";

/** What the server keeps about a custom resource beyond its ResourceDefinition. */
export interface CustomResourceInfo {
  readonly crdName: string;
  readonly schema: CompiledSchema;
  /** The version's openAPIV3Schema as the CRD gives it (for OpenAPI). */
  readonly rawSchema: JSONSchemaProps;
  readonly listKind: string;
  readonly storageVersion: string;
  /** The Warning every request to this version gets when the version is deprecated. */
  readonly deprecationWarning: string | undefined;
  /** Deletion of the CRD has begun: creates are refused. */
  terminating: boolean;
}

const infos = new WeakMap<ResourceDefinition, CustomResourceInfo>();

/** The custom resource behind a definition, or undefined for built-in resources. */
export function customResourceInfo(def: ResourceDefinition): CustomResourceInfo | undefined {
  return infos.get(def);
}

/** `stable.example.com` → `com.example.stable` (upstream's OpenAPI definition names for CRs). */
export function reverseGroup(group: string): string {
  return group.split(".").reverse().join(".");
}

const nameColumnDescription =
  "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";

/** A printer column's cell, as upstream's CR table convertor renders JSON values. */
function cell(type: string, values: readonly unknown[], now: Date): unknown {
  if (values.length === 0) return null;
  const v = values[0];
  if (v === null || v === undefined) return null;
  switch (type) {
    case "integer":
      return typeof v === "number" && Number.isInteger(v) ? v : null;
    case "number":
      return typeof v === "number" ? v : null;
    case "boolean":
      return typeof v === "boolean" ? v : null;
    case "date":
      return typeof v === "string" ? (Number.isNaN(Date.parse(v)) ? "<invalid>" : since(v, now)) : null;
    default:
      // A string column prints what the path finds the way kubectl's jsonpath prints it.
      return typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v);
  }
}

function tableOf(columns: readonly CustomResourceColumnDefinition[]): ResourceDefinition["table"] {
  const cols = columns.length > 0 ? columns : [{ name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp", description: undefined, priority: 0 } as CustomResourceColumnDefinition];
  const parsed = cols.map((c) => parseJSONPath(c.jsonPath));
  const defs: TableColumn[] = [
    { name: "Name", type: "string", format: "name", description: nameColumnDescription, priority: 0 },
    ...cols.map((c) => ({ name: c.name, type: c.type as ColumnType, ...(c.format ? { format: c.format } : {}), description: c.description ?? "", priority: c.priority ?? 0 })),
  ];
  return {
    columns: defs,
    row: (obj, now) => [obj.metadata?.name ?? "", ...cols.map((c, i) => cell(c.type, parsed[i]!.error ? [] : evaluate(parsed[i]!, obj), now))],
  };
}

function pathOf(jsonPath: string): string[] {
  return jsonPath.replace(/^\./, "").split(".");
}

type Obj = Record<string, unknown>;

/** Metadata first; the schema's rules are skipped when metadata has a blocking error (upstream's strategy). */
function validateCreate(schema: CompiledSchema, namespaced: boolean, obj: KubeObject, ctx: StrategyContext): FieldError[] {
  const meta = validateMeta(obj, namespaced);
  return [...meta, ...validateObject(schema, obj as Obj, { priorErrors: meta, ...(ctx.warnings ? { warnings: ctx.warnings } : {}) })];
}

function validateUpdate(schema: CompiledSchema, obj: KubeObject, old: KubeObject, ctx: StrategyContext, status: boolean): FieldError[] {
  const meta = validateMetaUpdate(obj, old);
  const opts = { priorErrors: meta, ...(ctx.warnings ? { warnings: ctx.warnings } : {}) };
  return [...meta, ...(status ? validateStatusUpdate(schema, obj as Obj, old as Obj, opts) : validateObjectUpdate(schema, obj as Obj, old as Obj, opts))];
}

/** Version names in upstream's priority order (GA > beta > alpha, higher numbers first, others by name). */
export function sortVersions(names: readonly string[]): string[] {
  const parse = (v: string): [number, number, number] | undefined => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return undefined;
    return [m[2] === undefined ? 3 : m[2] === "beta" ? 2 : 1, Number(m[1]), m[3] === undefined ? 0 : Number(m[3])];
  };
  return [...names].sort((a, b) => {
    const pa = parse(a);
    const pb = parse(b);
    if (pa && pb) return pb[0] - pa[0] || pb[1] - pa[1] || pb[2] - pa[2];
    if (pa) return -1;
    if (pb) return 1;
    return a < b ? -1 : a > b ? 1 : 0;
  });
}

/** The resources an established CRD serves, one per served version, in version priority order. */
export function customResourceDefinitionsOf(crd: CustomResourceDefinition): ResourceDefinition[] {
  const spec = crd.spec;
  const accepted = crd.status?.acceptedNames;
  const group = spec.group;
  const plural = spec.names.plural;
  const kind = accepted?.kind || spec.names.kind;
  const storageVersion = spec.versions.find((v) => v.storage)?.name ?? spec.versions[0]?.name ?? "";
  const served = spec.versions.filter((v) => v.served);
  const order = sortVersions(served.map((v) => v.name));
  const byName = new Map(served.map((v) => [v.name, v] as const));
  return order.map((name) => versionDefinition(crd, byName.get(name)!, group, plural, kind, storageVersion));
}

function versionDefinition(crd: CustomResourceDefinition, v: CustomResourceDefinitionVersion, group: string, plural: string, kind: string, storageVersion: string): ResourceDefinition {
  const spec = crd.spec;
  const names = crd.status?.acceptedNames ?? spec.names;
  const namespaced = spec.scope === "Namespaced";
  const rawSchema = (v.schema?.openAPIV3Schema ?? { type: "object", "x-kubernetes-preserve-unknown-fields": true }) as JSONSchemaProps;
  const schema = compileSchema(rawSchema);
  const hasStatus = v.subresources?.status !== undefined && v.subresources.status !== null;
  const scale = v.subresources?.scale ?? undefined;
  const subresources: SubresourceName[] = [...(hasStatus ? (["status"] as const) : []), ...(scale ? (["scale"] as const) : [])];
  const apiVersion = `${group}/${v.name}`;
  const storageApiVersion = `${group}/${storageVersion}`;
  const withApiVersion = (o: KubeObject, to: string): KubeObject => (o.apiVersion === to ? o : { ...o, apiVersion: to });
  const def: ResourceDefinition = {
    group,
    version: v.name,
    kind,
    plural,
    singular: names.singular || kind.toLowerCase(),
    ...(names.shortNames?.length ? { shortNames: names.shortNames } : {}),
    ...(names.categories?.length ? { categories: names.categories } : {}),
    namespaced,
    definition: `${reverseGroup(group)}.${v.name}.${kind}`,
    ...(subresources.length > 0 ? { subresources } : {}),
    ...(scale
      ? {
          scale: {
            specReplicasPath: pathOf(scale.specReplicasPath),
            statusReplicasPath: pathOf(scale.statusReplicasPath),
            selector: (obj: KubeObject) => {
              const s = scale.labelSelectorPath ? getPath(obj, pathOf(scale.labelSelectorPath)) : undefined;
              return typeof s === "string" ? s : "";
            },
          },
        }
      : {}),
    strategy: {
      defaults: (obj) => applyDefaults(schema, obj as Record<string, unknown>),
      prepareForCreate: (obj) => {
        if (hasStatus) delete obj["status"];
      },
      validate: (obj, ctx) => validateCreate(schema, namespaced, obj, ctx),
      // Updates ratchet (upstream's CRDValidationRatcheting): a value that did not change may stay invalid.
      validateUpdate: (obj, old, ctx) => validateUpdate(schema, obj, old, ctx, false),
      // Through /status only status is validated against the schema, the rules against the whole object (upstream's status strategy).
      validateStatusUpdate: (obj, old, ctx) => validateUpdate(schema, obj, old, ctx, true),
      // Without a status subresource status is ordinary content: written with the rest, and a
      // change of anything but metadata bumps generation (upstream's CR strategy).
      statusFields: hasStatus ? ["status"] : [],
      allowCreateOnUpdate: false,
      allowUnconditionalUpdate: false,
    },
    table: tableOf(v.additionalPrinterColumns ?? []),
    // Every version reads and writes the one stored copy; conversion None rewrites apiVersion only.
    storage: {
      resource: plural,
      group,
      conversion: {
        toStorage: (o) => withApiVersion(o, storageApiVersion),
        fromStorage: (o) => withApiVersion(o, apiVersion),
      },
    },
  };
  infos.set(def, { crdName: crd.metadata?.name ?? "", schema, rawSchema, listKind: names.listKind || `${kind}List`, storageVersion, deprecationWarning: deprecationWarning(crd, v, kind), terminating: false });
  return def;
}

/**
 * Upstream's warning for a deprecated version: the CRD's own, or "<group>/<version> <Kind> is
 * deprecated", naming the best served, not deprecated version of higher priority if there is one.
 */
function deprecationWarning(crd: CustomResourceDefinition, v: CustomResourceDefinitionVersion, kind: string): string | undefined {
  if (!v.deprecated) return undefined;
  if (v.deprecationWarning !== undefined && v.deprecationWarning !== null) return v.deprecationWarning;
  const group = crd.spec.group;
  const msg = `${group}/${v.name} ${kind} is deprecated`;
  const ordered = sortVersions(crd.spec.versions.filter((x) => x.served && (!x.deprecated || x.name === v.name)).map((x) => x.name));
  const better = ordered.slice(0, ordered.indexOf(v.name));
  return better.length > 0 ? `${msg}; use ${group}/${better[0]} ${kind}` : msg;
}

/**
 * Prunes unknown fields of a custom resource; their paths as fieldValidation reports them
 * (`spec.foo`), and upstream's decode error when an embedded resource is not object-shaped.
 */
export function pruneCustomResource(info: CustomResourceInfo, obj: KubeObject): { readonly unknown: string[]; readonly error?: string } {
  const r = pruneObject(info.schema, obj as Record<string, unknown>);
  return r.error ? { unknown: r.unknownFields, error: String(r.error) } : { unknown: r.unknownFields };
}
