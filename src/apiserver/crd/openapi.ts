// OpenAPI v3 documents of group-versions that custom resources are served in: the paths a
// built-in resource would have (the shared builder makes them, with a stand-in definition),
// and components holding each version's openAPIV3Schema with apiVersion, kind and the standard
// ObjectMeta, marked with x-kubernetes-group-version-kind — what `kubectl explain` walks and
// what tells kubectl that the server validates fields (the PATCH's fieldValidation parameter).
import { buildGroupVersionDocument, openAPIDefinitions, type GroupVersion, type OpenAPIDocument, type OpenAPIResource, type SchemaObject } from "../../api/openapi/index.js";
import type { ResourceDefinition } from "../registry/types.js";
import type { CustomResourceInfo } from "./customresource.js";

const STAND_IN = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition";
const STAND_IN_LIST = `${STAND_IN}List`;
const REF = "#/components/schemas/";
const OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const LIST_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";

const API_VERSION_DESCRIPTION =
  "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources";
const KIND_DESCRIPTION =
  "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";
const METADATA_DESCRIPTION = "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

export interface CustomResourceForOpenAPI {
  readonly def: ResourceDefinition;
  readonly info: CustomResourceInfo;
  readonly resource: OpenAPIResource;
}

/** The schema of a custom resource kind as upstream publishes it (builder.go: apiVersion, kind, metadata added). */
function kindSchema(cr: CustomResourceForOpenAPI): SchemaObject {
  const raw = structuredClone(cr.info.rawSchema) as unknown as SchemaObject;
  const properties = { ...((raw["properties"] as Record<string, unknown> | undefined) ?? {}) };
  properties["apiVersion"] = { description: API_VERSION_DESCRIPTION, type: "string" };
  properties["kind"] = { description: KIND_DESCRIPTION, type: "string" };
  properties["metadata"] = { allOf: [{ $ref: REF + OBJECT_META }], description: METADATA_DESCRIPTION };
  return { ...raw, type: "object", properties, "x-kubernetes-group-version-kind": [{ group: cr.def.group, kind: cr.def.kind, version: cr.def.version }] };
}

function listSchema(cr: CustomResourceForOpenAPI): SchemaObject {
  return {
    description: `${cr.info.listKind} is a list of ${cr.def.kind}`,
    properties: {
      apiVersion: { description: API_VERSION_DESCRIPTION, type: "string" },
      items: { description: `List of ${cr.def.plural}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md`, items: { $ref: REF + cr.def.definition }, type: "array" },
      kind: { description: KIND_DESCRIPTION, type: "string" },
      metadata: { allOf: [{ $ref: REF + LIST_META }], description: "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds" },
    },
    required: ["items"],
    type: "object",
    "x-kubernetes-group-version-kind": [{ group: cr.def.group, kind: cr.info.listKind, version: cr.def.version }],
  };
}

/** Replaces stand-in references and the stand-in's kind in one path item's operations. */
function rewrite(node: unknown, cr: CustomResourceForOpenAPI): unknown {
  if (Array.isArray(node)) return node.map((x) => rewrite(x, cr));
  if (node === null || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === "$ref" && v === REF + STAND_IN) out[k] = REF + cr.def.definition;
    else if (k === "$ref" && v === REF + STAND_IN_LIST) out[k] = REF + `${cr.def.definition}List`;
    else if (k === "x-kubernetes-group-version-kind" && (v as { kind?: string }).kind === "CustomResourceDefinition") out[k] = { group: cr.def.group, kind: cr.def.kind, version: cr.def.version };
    else out[k] = rewrite(v, cr);
  }
  return out;
}

/**
 * Custom resources take no strategic merge patch (no Go types to carry patch strategies); a
 * PATCH that listed it would make client-side `kubectl apply` send one.
 */
function withoutStrategicPatch(item: SchemaObject): SchemaObject {
  for (const op of Object.values(item)) {
    if (op === null || typeof op !== "object" || (op as SchemaObject)["x-kubernetes-action"] !== "patch") continue;
    const content = ((op as SchemaObject)["requestBody"] as { content?: Record<string, unknown> } | undefined)?.content;
    if (content) delete content["application/strategic-merge-patch+json"];
  }
  return item;
}

function refsOf(node: unknown, into: string[]): void {
  if (Array.isArray(node)) for (const x of node) refsOf(x, into);
  else if (node !== null && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (k === "$ref" && typeof v === "string" && v.startsWith(REF)) into.push(v.slice(REF.length));
      else refsOf(v, into);
    }
  }
}

/** The document of a group-version holding custom resources (and any built-in ones beside them). */
export function buildCustomResourceDocument(gv: GroupVersion, custom: readonly CustomResourceForOpenAPI[], builtin: readonly OpenAPIResource[]): OpenAPIDocument {
  const standIns = custom.map((cr) => ({ ...cr.resource, definition: STAND_IN, listDefinition: STAND_IN_LIST }));
  const doc = buildGroupVersionDocument(gv, [...builtin, ...standIns]);
  const paths: Record<string, SchemaObject> = {};
  for (const [p, item] of Object.entries(doc.paths)) {
    const cr = custom.find((c) => new RegExp(`/${c.def.plural}(/|$)`).test(p));
    paths[p] = cr ? withoutStrategicPatch(rewrite(item, cr) as SchemaObject) : item;
  }
  const all: Record<string, SchemaObject> = { ...(openAPIDefinitions() as Record<string, SchemaObject>), ...doc.components.schemas };
  for (const cr of custom) {
    all[cr.def.definition] = kindSchema(cr);
    all[`${cr.def.definition}List`] = listSchema(cr);
  }
  // Every schema the paths and the custom kinds reach, the stand-in no longer among them.
  const seen = new Set<string>();
  const queue: string[] = [];
  refsOf(paths, queue);
  for (const cr of custom) queue.push(cr.def.definition, `${cr.def.definition}List`);
  for (const name of Object.keys(doc.components.schemas)) {
    // The document builder's roots that paths may not name (Status, APIResourceList) stay.
    if (name !== STAND_IN && name !== STAND_IN_LIST && !name.startsWith("io.k8s.apiextensions-apiserver.")) queue.push(name);
  }
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (seen.has(name) || all[name] === undefined) continue;
    seen.add(name);
    refsOf(all[name], queue);
  }
  const schemas: Record<string, SchemaObject> = {};
  for (const name of [...seen].sort()) schemas[name] = all[name]!;
  return { ...doc, paths, components: { ...doc.components, schemas } };
}
