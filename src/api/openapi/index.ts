// The OpenAPI v3 documents kube-apiserver publishes under /openapi/v3, built from the schemas
// scripts/gen-openapi.mjs generates at build time out of kubernetes-types.
//
// kubectl reads them for three things, and each fixes part of the shape:
// - `apply`/`create` validation (cli-runtime resource/query_param_verifier_v3.go): it looks for
//   the PATCH operation whose `x-kubernetes-group-version-kind` is the manifest's kind and
//   trusts the server to validate when that operation has a `fieldValidation` query parameter.
//   It stops at the first PATCH with that kind, so every one of them (status too) carries it.
// - client-side `apply` (kubectl pkg/cmd/apply/patcher.go): when the PATCH request body lists
//   application/strategic-merge-patch+json, it computes the patch from the schema whose
//   x-kubernetes-group-version-kind names the kind, reading x-kubernetes-patch-* on the way.
// - `explain` (kubectl pkg/explain/v2): finds the kind through the GVK of an operation on
//   /api/v1/<plural> or /apis/<g>/<v>[/namespaces/{namespace}]/<plural>[/{name}], then walks
//   components.schemas, printing `description`s.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { CodedError } from "../../util/errors.js";

/** A JSON Schema / OpenAPI object as published: plain JSON. */
export interface SchemaObject {
  [key: string]: unknown;
}

export interface GroupVersion {
  readonly group: string;
  readonly version: string;
}

export interface GroupVersionKind extends GroupVersion {
  readonly kind: string;
}

/** A subresource of a served resource, as its operations appear in the document. */
export interface OpenAPISubresource {
  /** status, scale, binding, eviction, token, approval, ephemeralcontainers, resize, finalize, log, exec, attach, portforward, proxy. */
  readonly name: string;
  /**
   * Definition of the body read and written. Defaults: the resource's own for status, approval,
   * ephemeralcontainers, resize and finalize; autoscaling/v1 Scale for scale; core/v1 Binding, policy/v1
   * Eviction, authentication/v1 TokenRequest for binding, eviction and token.
   */
  readonly definition?: string;
}

export interface OpenAPIResource {
  readonly kind: string;
  /** Lower-case plural, the URL segment. */
  readonly plural: string;
  readonly namespaced: boolean;
  /** Definition name of the kind, e.g. io.k8s.api.apps.v1.Deployment. */
  readonly definition: string;
  /** Definition name of its list, e.g. io.k8s.api.apps.v1.DeploymentList. */
  readonly listDefinition: string;
  /** create, delete, deletecollection, get, list, patch, update, watch (as discovery lists them). */
  readonly verbs: readonly string[];
  readonly subresources: readonly OpenAPISubresource[];
}

/** An OpenAPI v3 document for one group-version. */
export interface OpenAPIDocument {
  readonly openapi: "3.0.0";
  readonly info: { readonly title: string; readonly version: string };
  readonly paths: Record<string, SchemaObject>;
  readonly components: { readonly schemas: Record<string, SchemaObject>; readonly securitySchemes: Record<string, SchemaObject> };
}

export type OpenAPIErrorCode =
  /** dist/generated/openapi-definitions.json is missing or unreadable: the build step did not run. */
  | "DefinitionsMissing"
  /** A resource names a definition the generated schemas do not have. */
  | "UnknownDefinition"
  /** A resource declares a subresource this module does not know how to describe. */
  | "UnknownSubresource";

export class OpenAPIError extends CodedError<OpenAPIErrorCode> {
  override readonly name = "OpenAPIError";
}

// ---- Generated definitions ------------------------------------------------------------------

// This module compiles to dist/src/api/openapi/index.js; the build writes dist/generated/.
const definitionsFile = new URL("../../../generated/openapi-definitions.json", import.meta.url);

interface DefinitionsFile {
  source: string;
  definitions: Record<string, SchemaObject>;
}

let loaded: DefinitionsFile | undefined;

function load(): DefinitionsFile {
  if (loaded !== undefined) return loaded;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(definitionsFile, "utf8"));
  } catch (err) {
    throw new OpenAPIError("DefinitionsMissing", `cannot read ${definitionsFile.pathname} (run \`npm run build\`): ${(err as Error).message}`);
  }
  const file = parsed as Partial<DefinitionsFile> | null;
  if (file === null || typeof file !== "object" || typeof file.source !== "string" || typeof file.definitions !== "object" || file.definitions === null) {
    throw new OpenAPIError("DefinitionsMissing", `${definitionsFile.pathname} is not a definitions file`);
  }
  loaded = { source: file.source, definitions: file.definitions };
  return loaded;
}

/**
 * Every generated definition by upstream name (`io.k8s.api.core.v1.Pod`, ...), loaded on first
 * use and shared: callers must not modify what they get.
 */
export function openAPIDefinitions(): Readonly<Record<string, Readonly<SchemaObject>>> {
  return load().definitions;
}

export function openAPIDefinition(name: string): Readonly<SchemaObject> | undefined {
  const defs = load().definitions;
  return Object.prototype.hasOwnProperty.call(defs, name) ? defs[name] : undefined;
}

/** Where the definitions came from, e.g. "kubernetes-types@1.30.0". */
export function openAPIDefinitionsSource(): string {
  return load().source;
}

// ---- Group-version documents ----------------------------------------------------------------

const refPrefix = "#/components/schemas/";
const ref = (definition: string): SchemaObject => ({ $ref: refPrefix + definition });
const title = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
/** "a Pod", "an Event", "Endpoints": the article rule of upstream's operation descriptions. */
const withArticle = (kind: string): string =>
  kind.endsWith("s") && !kind.endsWith("ss") ? kind : `${/^[aeiou]/i.test(kind) ? "an" : "a"} ${kind}`;

const meta = "io.k8s.apimachinery.pkg.apis.meta.v1.";
const statusDef = `${meta}Status`;
const deleteOptionsDef = `${meta}DeleteOptions`;
const patchDef = `${meta}Patch`;
const watchEventDef = `${meta}WatchEvent`;
const apiResourceListDef = `${meta}APIResourceList`;

/** Media types of responses. The server speaks JSON only (no protobuf, no CBOR). */
const objectMedia = ["application/json"];
const streamMedia = ["application/json", "application/json;stream=watch"];
/** The patch types the PATCH handler accepts, in the request body of every PATCH operation. */
const patchMedia = ["application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json"];

type ParamLocation = "query" | "path";
interface Param {
  readonly name: string;
  readonly in: ParamLocation;
  readonly type: "string" | "integer" | "boolean";
  readonly description: string;
}

const q = (name: string, type: Param["type"], description: string): Param => ({ name, in: "query", type, description });

const P = {
  allowWatchBookmarks: q("allowWatchBookmarks", "boolean", 'allowWatchBookmarks requests watch events with type "BOOKMARK". Servers may ignore it and send bookmarks at their discretion; it is ignored when not watching.'),
  continue: q("continue", "string", "The continue token of a previous paginated list call, to get the next page of results. The token is opaque and expires; an expired token is answered with 410 ResourceExpired."),
  dryRun: q("dryRun", "string", "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed"),
  fieldManager: q("fieldManager", "string", "fieldManager is a name associated with the actor or entity that is making these changes. The value must be at most 128 characters long and only contain printable characters."),
  fieldManagerPatch: q("fieldManager", "string", "fieldManager is a name associated with the actor or entity that is making these changes. The value must be at most 128 characters long and only contain printable characters. Required for apply requests (application/apply-patch+yaml), optional for the other patch types."),
  fieldSelector: q("fieldSelector", "string", "A selector to restrict the list of returned objects by their fields. Defaults to everything."),
  fieldValidation: q("fieldValidation", "string", "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: unknown fields are silently dropped and all but the last duplicate field are ignored. - Warn: as Ignore, with a warning in the Warning response header for each unknown and duplicate field. - Strict: the request fails with BadRequest listing every unknown and duplicate field."),
  force: q("force", "boolean", 'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.'),
  gracePeriodSeconds: q("gracePeriodSeconds", "integer", "The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately. If this value is nil, the default grace period for the specified type will be used."),
  labelSelector: q("labelSelector", "string", "A selector to restrict the list of returned objects by their labels. Defaults to everything."),
  limit: q("limit", "integer", "limit is a maximum number of responses to return for a list call. If more items exist, the server sets the `continue` field on the list metadata to a token that fetches the next results with the same query."),
  orphanDependents: q("orphanDependents", "boolean", 'Deprecated: please use the PropagationPolicy. Should the dependent objects be orphaned. If true/false, the "orphan" finalizer will be added to/removed from the object\'s finalizers list. Either this field or PropagationPolicy may be set, but not both.'),
  pretty: q("pretty", "string", "If 'true', then the output is pretty printed."),
  propagationPolicy: q("propagationPolicy", "string", "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be set, but not both. Acceptable values are: 'Orphan' - orphan the dependents; 'Background' - allow the garbage collector to delete the dependents in the background; 'Foreground' - a cascading policy that deletes all dependents in the foreground."),
  resourceVersion: q("resourceVersion", "string", "resourceVersion sets a constraint on what resource versions a request may be served from. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset"),
  resourceVersionMatch: q("resourceVersionMatch", "string", "resourceVersionMatch determines how resourceVersion is applied to list calls. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset"),
  sendInitialEvents: q("sendInitialEvents", "boolean", '`sendInitialEvents=true` may be set together with `watch=true`: the watch stream then begins with synthetic events for the current state of the collection, followed by a "Bookmark" event annotated `"k8s.io/initial-events-end": "true"`.'),
  timeoutSeconds: q("timeoutSeconds", "integer", "Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity."),
  watch: q("watch", "boolean", "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion."),
} as const;

const listParams: readonly Param[] = [
  P.allowWatchBookmarks, P.continue, P.fieldSelector, P.labelSelector, P.limit,
  P.resourceVersion, P.resourceVersionMatch, P.sendInitialEvents, P.timeoutSeconds, P.watch,
];
const writeParams: readonly Param[] = [P.dryRun, P.fieldManager, P.fieldValidation];
const patchParams: readonly Param[] = [P.dryRun, P.fieldManagerPatch, P.fieldValidation, P.force];
const deleteParams: readonly Param[] = [P.dryRun, P.gracePeriodSeconds, P.orphanDependents, P.propagationPolicy];
const deleteCollectionParams: readonly Param[] = [
  P.continue, P.dryRun, P.fieldSelector, P.gracePeriodSeconds, P.labelSelector, P.limit, P.orphanDependents,
  P.propagationPolicy, P.resourceVersion, P.resourceVersionMatch, P.sendInitialEvents, P.timeoutSeconds,
];

function pathParam(name: string, description: string): Param {
  return { name, in: "path", type: "string", description };
}

function renderParams(params: readonly Param[]): SchemaObject[] {
  return [...params]
    .sort((a, b) => cmp(a.name, b.name))
    .map((p) => ({
      description: p.description,
      in: p.in,
      name: p.name,
      ...(p.in === "path" ? { required: true } : {}),
      // uniqueItems mirrors what kube-apiserver publishes for every parameter.
      schema: { type: p.type, uniqueItems: true },
    }));
}

function content(media: readonly string[], schema: SchemaObject): SchemaObject {
  return Object.fromEntries(media.map((m) => [m, { schema }]));
}

function responses(codes: Readonly<Record<string, string>>, media: readonly string[], schema: SchemaObject): SchemaObject {
  const out: SchemaObject = {};
  for (const [code, description] of Object.entries(codes)) out[code] = { content: content(media, schema), description };
  out["401"] = { description: "Unauthorized" };
  return out;
}

/** "" → "Core", "rbac.authorization.k8s.io" → "RbacAuthorization" (upstream operationId and tag style). */
function groupWord(group: string): string {
  if (group === "") return "Core";
  return group
    .replace(/\.k8s\.io$/, "")
    .split(/[.-]/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join("");
}


/** Where a group-version is served: "api/v1", "apis/apps/v1". */
export function groupVersionPath(gv: GroupVersion): string {
  return gv.group === "" ? `api/${gv.version}` : `apis/${gv.group}/${gv.version}`;
}

interface OpSpec {
  readonly action: string;
  readonly operationId: string;
  readonly description: string;
  readonly params?: readonly Param[];
  readonly requestBody?: SchemaObject;
  readonly responses: SchemaObject;
  readonly gvk?: GroupVersionKind;
}

class DocumentBuilder {
  readonly paths: Record<string, SchemaObject> = {};
  readonly roots = new Set<string>([statusDef, apiResourceListDef]);
  private readonly idPrefix: string;
  private readonly tag: string;
  readonly prefix: string;

  constructor(
    readonly gv: GroupVersion,
    private readonly defs: Readonly<Record<string, Readonly<SchemaObject>>>,
  ) {
    const word = groupWord(gv.group);
    this.idPrefix = `${word}${title(gv.version)}`;
    this.tag = `${word.charAt(0).toLowerCase()}${word.slice(1)}_${gv.version}`;
    this.prefix = `/${groupVersionPath(gv)}`;
  }

  use(definition: string): string {
    if (!Object.prototype.hasOwnProperty.call(this.defs, definition)) {
      throw new OpenAPIError("UnknownDefinition", `no OpenAPI definition ${definition}`);
    }
    this.roots.add(definition);
    return definition;
  }

  /** The GVK a definition declares for itself, if it declares exactly one. */
  gvkOf(definition: string): GroupVersionKind | undefined {
    const list = this.defs[definition]?.["x-kubernetes-group-version-kind"];
    if (!Array.isArray(list) || list.length !== 1) return undefined;
    const g = list[0] as Partial<GroupVersionKind>;
    return typeof g.group === "string" && typeof g.version === "string" && typeof g.kind === "string" ? { group: g.group, version: g.version, kind: g.kind } : undefined;
  }

  id(verb: string, rest: string): string {
    return `${verb}${this.idPrefix}${rest}`;
  }

  op(path: string, method: string, spec: OpSpec, pathParams?: readonly Param[]): void {
    const item = (this.paths[path] ??= {});
    if (pathParams !== undefined) item["parameters"] = renderParams(pathParams);
    item[method] = {
      description: spec.description,
      operationId: spec.operationId,
      ...(spec.params !== undefined && spec.params.length > 0 ? { parameters: renderParams(spec.params) } : {}),
      ...(spec.requestBody !== undefined ? { requestBody: spec.requestBody } : {}),
      responses: spec.responses,
      tags: [this.tag],
      "x-kubernetes-action": spec.action,
      ...(spec.gvk !== undefined ? { "x-kubernetes-group-version-kind": { group: spec.gvk.group, kind: spec.gvk.kind, version: spec.gvk.version } } : {}),
    };
  }

  /**
   * Moves the parameters every operation of a path shares to the path, as kube-apiserver
   * publishes them (a watch path carries its list parameters itself). Paths with a patch
   * action keep them on the operations: kubectl looks for fieldValidation among the PATCH
   * operation's own parameters.
   */
  hoistSharedParameters(): void {
    for (const item of Object.values(this.paths)) {
      const ops = Object.entries(item).filter(([k]) => k !== "parameters").map(([, v]) => v as SchemaObject);
      if (ops.length === 0 || ops.some((op) => op["x-kubernetes-action"] === "patch")) continue;
      const key = (p: SchemaObject): string => `${String(p["in"])}:${String(p["name"])}`;
      const lists = ops.map((op) => (Array.isArray(op["parameters"]) ? (op["parameters"] as SchemaObject[]) : []));
      const shared = (lists[0] ?? []).filter((p) => lists.every((l) => l.some((q) => key(q) === key(p))));
      if (shared.length === 0) continue;
      const sharedKeys = new Set(shared.map(key));
      for (const op of ops) {
        const rest = (op["parameters"] as SchemaObject[]).filter((p) => !sharedKeys.has(key(p)));
        if (rest.length > 0) op["parameters"] = rest;
        else delete op["parameters"];
      }
      const merged = [...(Array.isArray(item["parameters"]) ? (item["parameters"] as SchemaObject[]) : []), ...shared];
      item["parameters"] = merged.sort((a, b) => cmp(String(a["name"]), String(b["name"])));
    }
  }

  apiResources(): void {
    this.paths[`${this.prefix}/`] = {
      get: {
        description: "get available resources",
        operationId: this.id("get", "APIResources"),
        responses: responses({ "200": "OK" }, objectMedia, ref(apiResourceListDef)),
        tags: [this.tag],
      },
    };
  }

  resource(r: OpenAPIResource): void {
    const def = this.use(r.definition);
    // Only a listable resource needs a list kind (reviews and bindings are create-only and have none).
    const listDef = r.verbs.includes("list") ? this.use(r.listDefinition) : r.listDefinition;
    const gvk: GroupVersionKind = { ...this.gv, kind: r.kind };
    const verbs = new Set(r.verbs);
    const ns = r.namespaced ? "Namespaced" : "";
    const nsParam = pathParam("namespace", "object name and auth scope, such as for teams and projects");
    const nameParam = pathParam("name", `name of the ${r.kind}`);
    const scope = r.namespaced ? [nsParam] : [];
    const collection = r.namespaced ? `${this.prefix}/namespaces/{namespace}/${r.plural}` : `${this.prefix}/${r.plural}`;
    const item = `${collection}/{name}`;
    const body = (schema: SchemaObject, required: boolean): SchemaObject => ({ content: { "*/*": { schema } }, ...(required ? { required: true } : {}) });

    if (verbs.has("list")) {
      this.op(collection, "get", {
        action: "list", operationId: this.id("list", `${ns}${r.kind}`), description: `list or watch objects of kind ${r.kind}`,
        params: listParams, responses: responses({ "200": "OK" }, streamMedia, ref(listDef)), gvk,
      }, [...scope, P.pretty]);
      if (r.namespaced) {
        this.op(`${this.prefix}/${r.plural}`, "get", {
          action: "list", operationId: this.id("list", `${r.kind}ForAllNamespaces`), description: `list or watch objects of kind ${r.kind}`,
          responses: responses({ "200": "OK" }, streamMedia, ref(listDef)), gvk,
        }, [...listParams, P.pretty]);
      }
    }
    if (verbs.has("create")) {
      this.op(collection, "post", {
        action: "post", operationId: this.id("create", `${ns}${r.kind}`), description: `create ${withArticle(r.kind)}`,
        params: writeParams, requestBody: body(ref(def), true),
        responses: responses({ "200": "OK", "201": "Created", "202": "Accepted" }, objectMedia, ref(def)), gvk,
      }, [...scope, P.pretty]);
    }
    if (verbs.has("delete") || verbs.has("deletecollection")) this.use(deleteOptionsDef);
    if (verbs.has("deletecollection")) {
      this.op(collection, "delete", {
        action: "deletecollection", operationId: this.id("delete", `Collection${ns}${r.kind}`), description: `delete collection of ${r.kind}`,
        params: deleteCollectionParams, requestBody: body(ref(deleteOptionsDef), false),
        responses: responses({ "200": "OK" }, objectMedia, ref(statusDef)), gvk,
      }, [...scope, P.pretty]);
    }
    const itemParams = [nameParam, ...scope, P.pretty];
    if (verbs.has("get")) {
      this.op(item, "get", {
        action: "get", operationId: this.id("read", `${ns}${r.kind}`), description: `read the specified ${r.kind}`,
        responses: responses({ "200": "OK" }, objectMedia, ref(def)), gvk,
      }, itemParams);
    }
    if (verbs.has("update")) {
      this.op(item, "put", {
        action: "put", operationId: this.id("replace", `${ns}${r.kind}`), description: `replace the specified ${r.kind}`,
        params: writeParams, requestBody: body(ref(def), true),
        responses: responses({ "200": "OK", "201": "Created" }, objectMedia, ref(def)), gvk,
      }, itemParams);
    }
    if (verbs.has("patch")) this.patchOp(item, `${ns}${r.kind}`, `the specified ${r.kind}`, def, gvk, itemParams);
    if (verbs.has("delete")) {
      this.op(item, "delete", {
        action: "delete", operationId: this.id("delete", `${ns}${r.kind}`), description: `delete ${withArticle(r.kind)}`,
        params: deleteParams, requestBody: body(ref(deleteOptionsDef), false),
        responses: responses({ "200": "OK", "202": "Accepted" }, objectMedia, ref(statusDef)), gvk,
      }, itemParams);
    }
    if (verbs.has("watch")) {
      this.use(watchEventDef);
      const watchResponses = responses({ "200": "OK" }, streamMedia, ref(watchEventDef));
      const watchBase = r.namespaced ? `${this.prefix}/watch/namespaces/{namespace}/${r.plural}` : `${this.prefix}/watch/${r.plural}`;
      this.op(watchBase, "get", {
        action: "watchlist", operationId: this.id("watch", `${ns}${r.kind}List`),
        description: `watch individual changes to a list of ${r.kind}. deprecated: use the 'watch' parameter with a list operation instead.`,
        responses: watchResponses, gvk,
      }, [...listParams, ...scope, P.pretty]);
      this.op(`${watchBase}/{name}`, "get", {
        action: "watch", operationId: this.id("watch", `${ns}${r.kind}`),
        description: `watch changes to an object of kind ${r.kind}. deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter.`,
        responses: watchResponses, gvk,
      }, [...listParams, nameParam, ...scope, P.pretty]);
      if (r.namespaced) {
        this.op(`${this.prefix}/watch/${r.plural}`, "get", {
          action: "watchlist", operationId: this.id("watch", `${r.kind}ListForAllNamespaces`),
          description: `watch individual changes to a list of ${r.kind}. deprecated: use the 'watch' parameter with a list operation instead.`,
          responses: watchResponses, gvk,
        }, [...listParams, P.pretty]);
      }
    }
    for (const sub of r.subresources) this.subresource(r, sub, item, itemParams, scope);
  }

  private patchOp(path: string, idRest: string, what: string, def: string, gvk: GroupVersionKind, pathParams: readonly Param[]): void {
    this.use(patchDef);
    this.op(path, "patch", {
      action: "patch", operationId: this.id("patch", idRest), description: `partially update ${what}`,
      params: patchParams, requestBody: { content: content(patchMedia, ref(patchDef)), required: true },
      responses: responses({ "200": "OK", "201": "Created" }, objectMedia, ref(def)), gvk,
    }, pathParams);
  }

  private subresource(r: OpenAPIResource, sub: OpenAPISubresource, item: string, itemParams: readonly Param[], scope: readonly Param[]): void {
    const ns = r.namespaced ? "Namespaced" : "";
    const path = `${item}/${sub.name}`;
    const idRest = `${ns}${r.kind}${title(sub.name)}`;
    const named = (kind: string): Param[] => [pathParam("name", `name of the ${kind}`), ...scope];
    switch (sub.name) {
      case "status":
      case "scale":
      case "approval":
      case "ephemeralcontainers":
      case "resize": {
        const def = this.use(sub.definition ?? (sub.name === "scale" ? "io.k8s.api.autoscaling.v1.Scale" : r.definition));
        const gvk = this.gvkOf(def) ?? { ...this.gv, kind: r.kind };
        const what = `${sub.name} of the specified ${r.kind}`;
        const params = [...named(gvk.kind), P.pretty];
        this.op(path, "get", {
          action: "get", operationId: this.id("read", idRest), description: `read ${what}`,
          responses: responses({ "200": "OK" }, objectMedia, ref(def)), gvk,
        }, params);
        this.op(path, "put", {
          action: "put", operationId: this.id("replace", idRest), description: `replace ${what}`,
          params: writeParams, requestBody: { content: { "*/*": { schema: ref(def) } }, required: true },
          responses: responses({ "200": "OK", "201": "Created" }, objectMedia, ref(def)), gvk,
        }, params);
        this.patchOp(path, idRest, what, def, gvk, params);
        return;
      }
      case "finalize": {
        const def = this.use(sub.definition ?? r.definition);
        const gvk = this.gvkOf(def) ?? { ...this.gv, kind: r.kind };
        this.op(path, "put", {
          action: "put", operationId: this.id("replace", idRest), description: `replace ${sub.name} of the specified ${r.kind}`,
          params: writeParams, requestBody: { content: { "*/*": { schema: ref(def) } }, required: true },
          responses: responses({ "200": "OK", "201": "Created" }, objectMedia, ref(def)), gvk,
        }, [...named(gvk.kind), P.pretty]);
        return;
      }
      case "binding":
      case "eviction":
      case "token": {
        const def = this.use(sub.definition ?? (createBodies[sub.name] as string));
        const gvk = this.gvkOf(def) ?? { ...this.gv, kind: r.kind };
        this.op(path, "post", {
          action: "post", operationId: this.id("create", idRest), description: `create ${sub.name} of ${withArticle(r.kind)}`,
          params: writeParams, requestBody: { content: { "*/*": { schema: ref(def) } }, required: true },
          responses: responses({ "200": "OK", "201": "Created", "202": "Accepted" }, objectMedia, ref(def)), gvk,
        }, [...named(gvk.kind), P.pretty]);
        return;
      }
      case "log": {
        this.op(path, "get", {
          action: "get", operationId: this.id("read", idRest), description: `read log of the specified ${r.kind}`,
          params: logParams, responses: responses({ "200": "OK" }, ["text/plain"], { type: "string" }),
          gvk: { ...this.gv, kind: r.kind },
        }, itemParams);
        return;
      }
      case "exec":
      case "attach":
      case "portforward":
      case "proxy": {
        const gvk: GroupVersionKind = { ...this.gv, kind: `${r.kind}${connectOptions[sub.name]}` };
        const methods = sub.name === "proxy" ? ["delete", "get", "head", "options", "patch", "post", "put"] : ["get", "post"];
        const params = connectParams[sub.name];
        for (const m of methods) {
          this.op(path, m, {
            action: "connect", operationId: this.id("connect", `${title(m)}${idRest}`), description: `connect ${m.toUpperCase()} requests to ${sub.name} of ${r.kind}`,
            params, responses: responses({ "200": "OK" }, ["*/*"], { type: "string" }), gvk,
          }, named(gvk.kind));
          if (sub.name === "proxy") {
            this.op(`${path}/{path}`, m, {
              action: "connect", operationId: this.id("connect", `${title(m)}${idRest}WithPath`), description: `connect ${m.toUpperCase()} requests to ${sub.name} of ${r.kind}`,
              params, responses: responses({ "200": "OK" }, ["*/*"], { type: "string" }), gvk,
            }, [...named(gvk.kind), pathParam("path", "path to the resource")]);
          }
        }
        return;
      }
      default:
        throw new OpenAPIError("UnknownSubresource", `cannot describe subresource ${r.plural}/${sub.name}`);
    }
  }
}

const createBodies: Readonly<Record<string, string>> = {
  binding: "io.k8s.api.core.v1.Binding",
  eviction: "io.k8s.api.policy.v1.Eviction",
  token: "io.k8s.api.authentication.v1.TokenRequest",
};

const connectOptions: Readonly<Record<string, string>> = { exec: "ExecOptions", attach: "AttachOptions", portforward: "PortForwardOptions", proxy: "ProxyOptions" };

const logParams: readonly Param[] = [
  q("container", "string", "The container for which to stream logs. Defaults to only container if there is one container in the pod."),
  q("follow", "boolean", "Follow the log stream of the pod. Defaults to false."),
  q("insecureSkipTLSVerifyBackend", "boolean", "insecureSkipTLSVerifyBackend indicates that the apiserver should not confirm the validity of the serving certificate of the backend it is connecting to."),
  q("limitBytes", "integer", "If set, the number of bytes to read from the server before terminating the log output."),
  q("previous", "boolean", "Return previous terminated container logs. Defaults to false."),
  q("sinceSeconds", "integer", "A relative time in seconds before the current time from which to show logs. Only one of sinceSeconds or sinceTime may be specified."),
  q("sinceTime", "string", "An RFC3339 timestamp from which to show logs. Only one of sinceSeconds or sinceTime may be specified."),
  q("tailLines", "integer", "If set, the number of lines from the end of the logs to show."),
  q("timestamps", "boolean", "If true, add an RFC3339 timestamp at the beginning of every line of log output. Defaults to false."),
];

const streamFlags = (what: string): Param[] => [
  q("container", "string", `The container in which to ${what}. Defaults to only container if there is only one container in the pod.`),
  q("stderr", "boolean", `Redirect the standard error stream of the pod for this call.`),
  q("stdin", "boolean", `Redirect the standard input stream of the pod for this call. Defaults to false.`),
  q("stdout", "boolean", `Redirect the standard output stream of the pod for this call.`),
  q("tty", "boolean", `TTY if true indicates that a tty will be allocated for the ${what} call. Defaults to false.`),
];

const connectParams: Readonly<Record<string, readonly Param[]>> = {
  exec: [q("command", "string", "Command is the remote command to execute. argv array. Not executed within a shell."), ...streamFlags("execute the command")],
  attach: streamFlags("attach"),
  portforward: [q("ports", "integer", "List of ports to forward. Required when using WebSockets")],
  proxy: [q("path", "string", "Path is the URL path to use for the current proxy request.")],
};

/** Every definition `roots` reach through $ref, in name order. */
function closure(defs: Readonly<Record<string, Readonly<SchemaObject>>>, roots: Iterable<string>): string[] {
  const seen = new Set<string>();
  const queue = [...roots];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const x of node) visit(x);
    } else if (node !== null && typeof node === "object") {
      for (const [k, v] of Object.entries(node)) {
        if (k === "$ref" && typeof v === "string" && v.startsWith(refPrefix)) queue.push(v.slice(refPrefix.length));
        else visit(v);
      }
    }
  };
  while (queue.length > 0) {
    const name = queue.pop() as string;
    if (seen.has(name)) continue;
    const def = Object.prototype.hasOwnProperty.call(defs, name) ? defs[name] : undefined;
    if (def === undefined) throw new OpenAPIError("UnknownDefinition", `dangling reference to ${name}`);
    seen.add(name);
    visit(def);
  }
  return [...seen].sort();
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== "object") return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
  return out;
}

/**
 * The document kube-apiserver serves at /openapi/v3/api/v1 or /openapi/v3/apis/<group>/<version>:
 * paths for every resource (namespaced and all-namespaces lists, items, deletecollection, the
 * deprecated watch paths, subresources) and the schemas they reach. The result is a fresh
 * object with sorted keys; build it once per registry and serialize it with
 * serializeOpenAPIDocument.
 */
export function buildGroupVersionDocument(gv: GroupVersion, resources: readonly OpenAPIResource[]): OpenAPIDocument {
  const defs = openAPIDefinitions();
  const b = new DocumentBuilder(gv, defs);
  b.apiResources();
  for (const r of resources) b.resource(r);
  b.hoistSharedParameters();
  const schemas: Record<string, SchemaObject> = {};
  for (const name of closure(defs, b.roots)) schemas[name] = defs[name] as SchemaObject;
  // Every group registers the meta kinds; say so for this one as upstream does.
  for (const [name, kind] of [[deleteOptionsDef, "DeleteOptions"], [watchEventDef, "WatchEvent"]] as const) {
    const s = schemas[name];
    if (s === undefined || gv.group === "") continue;
    const gvks = Array.isArray(s["x-kubernetes-group-version-kind"]) ? (s["x-kubernetes-group-version-kind"] as unknown[]) : [];
    schemas[name] = { ...s, "x-kubernetes-group-version-kind": [...gvks, { group: gv.group, kind, version: gv.version }] };
  }
  return sortKeys({
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: "unversioned" },
    paths: b.paths,
    components: {
      schemas,
      securitySchemes: { BearerToken: { description: "Bearer Token authentication", in: "header", name: "authorization", type: "apiKey" } },
    },
  }) as OpenAPIDocument;
}

// ---- Serving: bytes, hashes, the root --------------------------------------------------------

/**
 * The bytes to serve and their hash: SHA-512 in upper-case hex, as kube-openapi computes it.
 * The hash is the `?hash=` of the root's serverRelativeURL and the (quoted) ETag.
 */
export function serializeOpenAPIDocument(doc: OpenAPIDocument): { readonly body: Buffer; readonly hash: string } {
  const body = Buffer.from(JSON.stringify(doc));
  return { body, hash: createHash("sha512").update(body).digest("hex").toUpperCase() };
}

/**
 * GET /openapi/v3: `{"paths":{"api/v1":{"serverRelativeURL":"/openapi/v3/api/v1?hash=H"},...}}`.
 * `hashes` maps groupVersionPath(gv) to the hash of that document. client-go keys its cache of
 * group-version documents by serverRelativeURL, so a changed document must change its hash.
 */
export function buildOpenAPIv3Root(groupVersions: readonly GroupVersion[], hashes: ReadonlyMap<string, string>): { paths: Record<string, { serverRelativeURL: string }> } {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const gv of [...groupVersions].sort((a, b) => cmp(groupVersionPath(a), groupVersionPath(b)))) {
    const p = groupVersionPath(gv);
    const hash = hashes.get(p);
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}${hash === undefined ? "" : `?hash=${hash}`}` };
  }
  return { paths };
}


/**
 * How kube-openapi answers GET /openapi/v3/<gv path>[?hash=...] (handler3): with a hash that is
 * not the current one, a 301 to the current URL; otherwise the document with `ETag: "<hash>"`,
 * and, when the request named the current hash, headers that let clients cache it for good.
 */
export function openAPIv3ResponseHeaders(
  gv: GroupVersion,
  hash: string,
  requestedHash: string | undefined,
  now: Date,
): { readonly status: 200 | 301; readonly headers: Readonly<Record<string, string>> } {
  const etag = JSON.stringify(hash);
  if (requestedHash !== undefined && requestedHash !== "" && requestedHash !== hash) {
    return { status: 301, headers: { Location: `/openapi/v3/${groupVersionPath(gv)}?hash=${hash}`, ETag: etag } };
  }
  const headers: Record<string, string> = { "Content-Type": "application/json", ETag: etag };
  if (requestedHash !== undefined && requestedHash !== "") {
    const expires = new Date(now);
    expires.setUTCFullYear(expires.getUTCFullYear() + 1);
    headers["Vary"] = "Accept";
    headers["Cache-Control"] = "public, immutable";
    headers["Expires"] = expires.toUTCString();
  }
  return { status: 200, headers };
}

// ---- OpenAPI v2 ------------------------------------------------------------------------------

/**
 * The Content-Type kube-openapi answers protobuf requests for /openapi/v2 with. Clients ask with
 * "...spec.v2@v1.0+protobuf" in Accept, but Go's media-type parser rejects "@" in a response.
 */
export const openAPIv2ProtobufContentType = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

function protoBytesField(field: number, value: Buffer): Buffer {
  const len: number[] = [];
  let n = value.length;
  do {
    len.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>>= 7;
  } while (n > 0);
  return Buffer.concat([Buffer.from([(field << 3) | 2, ...len]), value]);
}

/**
 * /openapi/v2 as protobuf: a document with no paths and no definitions (gnostic
 * openapi_v2.Document: swagger = 1, info = 2 with title = 1, version = 2).
 *
 * kubectl 1.27 and 1.28 download and parse /openapi/v2 before every validating write
 * (`create`/`apply` without --validate=false) and before `explain`, and abort when it is
 * missing; they then verify fieldValidation and explain kinds with the v3 documents. Newer
 * kubectl only falls back to v2 when v3 lacks a kind. Without definitions, v2 lookups find
 * nothing and kubectl falls back to its compiled-in types, which is what it does for
 * built-in kinds anyway.
 */
export function openAPIv2Protobuf(): Buffer {
  const info = Buffer.concat([protoBytesField(1, Buffer.from("Kubernetes")), protoBytesField(2, Buffer.from("unversioned"))]);
  return Buffer.concat([protoBytesField(1, Buffer.from("2.0")), protoBytesField(2, info)]);
}
