// Server-side printing: metav1.Table responses (what `kubectl get` asks for with
// `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`) and PartialObjectMetadata.
import type { KubeObject, ResourceDefinition, TableColumn } from "./registry/types.js";
import { negotiateOutput, parseAccept, type HttpContext, type MediaRange } from "./http.js";
import { badRequest } from "./status.js";

/** Upstream's default columns for kinds without a printer. */
const defaultColumns: readonly TableColumn[] = [
  { name: "Name", type: "string", format: "name", description: "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names", priority: 0 },
  { name: "Created At", type: "date", description: "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata", priority: 0 },
];

export type Rendering = "object" | "table" | "metadata";

/** What the client asked to receive, from its Accept header (first supported range wins). */
export function renderingFor(accept: readonly MediaRange[]): Rendering {
  for (const r of accept) {
    if (r.type !== "application/json" && r.type !== "*/*" && r.type !== "application/*") continue;
    const as = r.params["as"];
    if (!as) return "object";
    if (r.params["g"] !== "meta.k8s.io") continue;
    if (as === "Table") return "table";
    if (as === "PartialObjectMetadata" || as === "PartialObjectMetadataList") return "metadata";
  }
  return "object";
}

export type IncludeObject = "None" | "Metadata" | "Object";

/** The includeObject query parameter of a table request (Metadata when absent); 400 for another value. */
export function includeObjectOf(q: URLSearchParams): IncludeObject {
  const inc = q.get("includeObject") ?? "Metadata";
  if (inc !== "None" && inc !== "Metadata" && inc !== "Object") throw badRequest(`includeObject: Unsupported value: "${inc}"`);
  return inc;
}

/**
 * What a read answers with, from its Accept header and query: the encoding (set on `ctx`; a
 * watch streams JSON only), objects or a table or metadata, and what a table's rows carry.
 */
export function answerShape(ctx: HttpContext, watch = false): { readonly rendering: Rendering; readonly include: IncludeObject } {
  const accept = parseAccept(ctx.req.headers.accept);
  ctx.output = negotiateOutput(accept, watch);
  return { rendering: renderingFor(accept), include: includeObjectOf(ctx.url.searchParams) };
}

export function partialMetadata(obj: Readonly<KubeObject>): KubeObject {
  return { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: obj.metadata ?? {} };
}

/** The kind's printer (def.table), or upstream's default one; a subresource's printer stands in for its kind's. */
type Printed = Pick<ResourceDefinition, "table">;

export function columnsOf(def: Printed): readonly TableColumn[] {
  return def.table?.columns ?? defaultColumns;
}

export function rowOf(def: Printed, obj: Readonly<KubeObject>, now: Date, include: IncludeObject): { cells: unknown[]; object?: unknown } {
  const cells = def.table ? def.table.row(obj, now) : [obj.metadata?.name ?? "", obj.metadata?.creationTimestamp ?? null];
  if (include === "None") return { cells };
  return { cells, object: include === "Object" ? obj : partialMetadata(obj) };
}

export function buildTable(def: Printed, objs: readonly Readonly<KubeObject>[], meta: Record<string, unknown>, include: IncludeObject, withColumns = true): KubeObject {
  const now = new Date();
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: meta,
    ...(withColumns ? { columnDefinitions: columnsOf(def) } : {}),
    rows: objs.map((o) => rowOf(def, o, now, include)),
  };
}
