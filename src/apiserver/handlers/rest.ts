// The REST handler: maps a resource request (already authenticated and authorized) onto the
// generic store of its resource, with Kubernetes' query parameters, content negotiation,
// subresources and watch streaming.
import { queryBool } from "../query.js";
import type { Logger } from "pino";
import { parseBody, checkKind, parseFieldValidation, validateFields, type SchemaChecker, type SchemaTarget } from "../decode.js";
import { readBody, sendJSON, type HttpContext, mediaType } from "../http.js";
import type { Registry } from "../registry/registry.js";
import type { KubeObject, ResourceDefinition } from "../registry/types.js";
import type { DeleteOptions, RequestContext, ResourceStore } from "../rest/store.js";
import * as status from "../status.js";
import { answerShape, buildTable, partialMetadata, type IncludeObject, type Rendering } from "../table.js";
import { serveWatch, serveWatchError } from "./watch.js";
import type { Patcher } from "./patch.js";
import { selectionFilter } from "./selection.js";
import { checkedListOptions } from "./listoptions.js";
import { managerOrUserAgent, validateFieldManager } from "../patch/index.js";
import { clone, type JsonObject } from "../patch/json.js";
import { getPath, setPath } from "../../util/json.js";
import { evictPod } from "./eviction.js";
import { scaleTable } from "../resources/print.js";
import { setStatusCondition } from "../../api/conditions.js";
import { schemaTargetOf, type VirtualResource } from "./virtual.js";
import { FieldPath, invalid, required, type FieldError } from "../../api/fielderrors.js";
import { invalidFromFieldErrors } from "../rest/invalid.js";
import { customResourceInfo } from "../crd/customresource.js";

export interface RestDeps {
  readonly registry: Registry;
  readonly stores: ReadonlyMap<ResourceDefinition, ResourceStore>;
  readonly patcher: Patcher;
  readonly checkSchema?: SchemaChecker;
  readonly log: Logger;
  /** How long a watch lasts when the client does not say (upstream: 30–60 min, randomized). */
  readonly watchTimeoutSeconds: () => number;
}

/**
 * The legacy core/v1 `bindings` resource (POST /api/v1/namespaces/NS/bindings): pods/binding
 * of the pod the Binding names. Still served and listed upstream.
 */
export const legacyBindingResource: VirtualResource = { group: "", version: "v1", kind: "Binding", plural: "bindings", singular: "binding", namespaced: true, verbs: ["create"] };

export const notFoundResource = (): status.StatusError => {
  const e = status.notFound({ group: "", resource: "" }, "");
  e.status.message = "the server could not find the requested resource";
  e.status.details = {};
  return e;
};

function apiVersionOf(def: Pick<ResourceDefinition, "group" | "version">): string {
  return def.group === "" ? def.version : `${def.group}/${def.version}`;
}

export function restHandler(deps: RestDeps): (ctx: HttpContext) => Promise<void> {
  return async (ctx) => {
    const info = ctx.info;
    // The legacy `bindings` resource: pods/binding of the pod the Binding names.
    const legacyBinding = info.apiGroup === "" && info.apiVersion === "v1" && info.resource === "bindings";
    const def = deps.registry.lookup(info.apiGroup, info.apiVersion, legacyBinding ? "pods" : info.resource);
    if (!def) throw notFoundResource();
    const store = deps.stores.get(def)!;
    // Every request to a deprecated custom resource version says so (upstream's crdHandler).
    const deprecation = customResourceInfo(def)?.deprecationWarning;
    if (deprecation !== undefined) ctx.warnings.push(deprecation);
    // A namespaced resource is reachable with or without a namespace (cluster-wide list/watch);
    // a cluster-scoped one never under /namespaces/NS/ (except namespaces themselves).
    if (!def.namespaced && info.namespace !== "" && def.plural !== "namespaces") throw notFoundResource();
    const namespace = def.namespaced ? info.namespace : "";
    // Namespaced resources are served cluster-wide for list and watch only.
    if (def.namespaced && namespace === "" && info.verb !== "list" && info.verb !== "watch") throw notFoundResource();
    const verbs = def.verbs ?? ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
    const q = ctx.url.searchParams;
    const rctx: RequestContext = {
      namespace,
      user: ctx.user!,
      now: new Date(),
      dryRun: parseDryRun(q.getAll("dryRun")),
      warnings: ctx.warnings,
    };
    const r = new Request(deps, def, store, ctx, rctx);
    if (legacyBinding) {
      if (info.name !== "" || info.subresource !== "") throw notFoundResource();
      if (info.verb !== "create") throw status.methodNotSupported({ group: "", resource: "bindings" }, info.verb);
      return r.bind(undefined);
    }

    if (info.subresource !== "") {
      const sub = info.subresource;
      if (def.plural === "namespaces" && sub === "finalize" && info.verb === "update") return r.finalizeNamespace(info.name);
      if (!(def.subresources ?? []).includes(sub as never)) throw notFoundResource();
      switch (sub) {
        case "status":
        case "approval":
        case "ephemeralcontainers":
          if (info.verb === "get") return r.get(info.name);
          if (info.verb === "update") return r.update(info.name, sub);
          if (info.verb === "patch") return r.patch(info.name, sub);
          throw status.methodNotSupported(store.qualified, info.verb);
        case "scale":
          if (info.verb === "get") return r.getScale(info.name);
          if (info.verb === "update" || info.verb === "patch") return r.writeScale(info.name, info.verb);
          throw status.methodNotSupported(store.qualified, info.verb);
        case "binding":
          if (info.verb === "create") return r.bind(info.name);
          throw status.methodNotSupported(store.qualified, info.verb);
        case "eviction":
          if (info.verb === "create") return r.evict(info.name);
          throw status.methodNotSupported(store.qualified, info.verb);
        default:
          throw notFoundResource();
      }
    }
    if (!verbs.includes(info.verb)) throw status.methodNotSupported(store.qualified, info.verb);
    // A CRD being deleted takes no new custom resources (upstream's crdHandler).
    if (info.verb === "create" && customResourceInfo(def)?.terminating) {
      const err = status.methodNotSupported(store.qualified, info.verb);
      err.status.message = "create not allowed while custom resource definition is terminating";
      throw err;
    }
    switch (info.verb) {
      case "get":
        return r.get(info.name);
      case "list":
        return r.list();
      case "watch":
        return r.watch();
      case "create":
        return r.create();
      case "update":
        return r.update(info.name, "");
      case "patch":
        return r.patch(info.name, "");
      case "delete":
        return r.delete(info.name);
      case "deletecollection":
        return r.deleteCollection();
      default:
        throw status.methodNotSupported(store.qualified, info.verb);
    }
  };
}

function parseDryRun(values: readonly string[]): boolean {
  for (const v of values) {
    if (v !== "All") throw status.badRequest(`dryRun: Unsupported value: "${v}": supported values: "All"`);
  }
  return values.length > 0;
}

function parseIntParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === "") return undefined;
  if (!/^-?\d+$/.test(v)) throw status.badRequest(`${name}: Invalid value: "${v}": must be an integer`);
  return Number(v);
}

/** One request's handling, with the pieces every verb needs at hand. */
class Request {
  private readonly q: URLSearchParams;
  private readonly rendering: Rendering;
  private readonly include: IncludeObject;
  constructor(
    private readonly deps: RestDeps,
    private readonly def: ResourceDefinition,
    private readonly store: ResourceStore,
    private readonly ctx: HttpContext,
    private readonly rctx: RequestContext,
  ) {
    this.q = ctx.url.searchParams;
    const shape = answerShape(ctx, ctx.info.verb === "watch");
    this.rendering = shape.rendering;
    this.include = shape.include;
  }

  private get apiVersion(): string {
    return apiVersionOf(this.def);
  }

  private send(code: number, obj: Readonly<KubeObject>): void {
    if (this.rendering === "table") {
      sendJSON(this.ctx, code, buildTable(this.def, [obj], { resourceVersion: obj.metadata?.resourceVersion ?? "" }, this.include));
    } else if (this.rendering === "metadata") {
      sendJSON(this.ctx, code, partialMetadata(obj));
    } else {
      sendJSON(this.ctx, code, obj);
    }
  }

  async get(name: string): Promise<void> {
    const rv = this.q.get("resourceVersion") ?? undefined;
    const obj = await this.store.get(this.rctx.namespace, name, rv === undefined ? {} : { resourceVersion: rv });
    this.send(200, obj);
  }

  async list(): Promise<void> {
    const options = checkedListOptions(this.q, false);
    const filter = selectionFilter(this.def, this.q);
    const limit = parseIntParam(this.q, "limit");
    const result = await this.store.list(this.rctx.namespace, {
      ...(options.resourceVersion !== undefined ? { resourceVersion: options.resourceVersion } : {}),
      ...(options.resourceVersionMatch ? { resourceVersionMatch: options.resourceVersionMatch } : {}),
      ...(limit !== undefined && limit > 0 ? { limit } : {}),
      ...(options.continue ? { continue: options.continue } : {}),
      ...(filter ? { filter } : {}),
    });
    const meta: Record<string, unknown> = { resourceVersion: result.resourceVersion };
    if (result.continue) meta["continue"] = result.continue;
    if (result.remainingItemCount !== undefined) meta["remainingItemCount"] = result.remainingItemCount;
    if (this.rendering === "table") {
      sendJSON(this.ctx, 200, buildTable(this.def, result.items, meta, this.include));
      return;
    }
    if (this.rendering === "metadata") {
      sendJSON(this.ctx, 200, { kind: "PartialObjectMetadataList", apiVersion: "meta.k8s.io/v1", metadata: meta, items: result.items.map(partialMetadata) });
      return;
    }
    // Items are already-serialized-friendly objects; build the list text without re-walking them twice.
    const head = JSON.stringify({ kind: `${this.def.kind}List`, apiVersion: this.apiVersion, metadata: meta }).slice(0, -1);
    const items = result.itemsJSON ?? result.items.map((i) => JSON.stringify(i));
    const body = `${head},"items":[${items.join(",")}]}`;
    sendJSON(this.ctx, 200, body);
  }

  async watch(): Promise<void> {
    const options = checkedListOptions(this.q, true);
    const filter = selectionFilter(this.def, this.q);
    const timeout = parseIntParam(this.q, "timeoutSeconds") ?? this.deps.watchTimeoutSeconds();
    const bookmarks = queryBool(this.q, "allowWatchBookmarks") === true;
    let watcher;
    try {
      watcher = await this.store.watch(this.rctx.namespace, {
        ...(options.resourceVersion !== undefined ? { resourceVersion: options.resourceVersion } : {}),
        ...(options.sendInitialEvents !== undefined ? { sendInitialEvents: options.sendInitialEvents } : {}),
        ...(filter ? { filter } : {}),
      });
    } catch (err) {
      // Too old: clients expect the 410 as an ERROR event on an open watch.
      if (err instanceof status.StatusError && err.code === 410) return serveWatchError(this.ctx, err.status);
      throw err;
    }
    await serveWatch(this.ctx, this.def, watcher, {
      rendering: this.rendering,
      include: this.include,
      timeoutSeconds: timeout,
      bookmarks,
      // A streaming list (a watch that began with the state) tells where that state ends, when the client takes bookmarks.
      ...(bookmarks && watcher.initialRevision !== undefined ? { initialEventsEnd: watcher.initialRevision } : {}),
      served: (o) => this.store.fromStored(o),
      currentRevision: () => this.store.currentRevision(),
    });
  }

  /** The request's object (the resource's own unless a subresource takes another kind), decoded and checked against its schema. */
  private async body(target: SchemaTarget = this.def): Promise<{ obj: KubeObject; raw: Buffer }> {
    const raw = await readBody(this.ctx.req);
    const { value, duplicates } = parseBody(raw, this.ctx.req.headers["content-type"]);
    const obj = checkKind(value, { apiVersion: apiVersionOf(target), kind: target.kind });
    validateFields(target, obj, parseFieldValidation(this.q.get("fieldValidation")), this.deps.checkSchema, this.ctx.warnings, duplicates);
    return { obj, raw };
  }

  private fieldManager(): string {
    const fm = this.q.get("fieldManager");
    if (fm !== null) {
      const errs = validateFieldManager(fm);
      if (errs.length > 0) throw status.badRequest(errs.join(", "));
    }
    return managerOrUserAgent(fm ?? undefined, this.ctx.req.headers["user-agent"]);
  }

  async create(): Promise<void> {
    const { obj } = await this.body();
    const created = await this.store.create(obj, { ...this.rctx, fieldManager: this.fieldManager() });
    this.send(201, created);
  }

  async update(name: string, subresource: "" | "status" | "approval" | "ephemeralcontainers"): Promise<void> {
    const { obj } = await this.body();
    // Each try gets its own copy (a try changes what it writes, and a stale cached copy makes
    // a second try common on etcd); the body is plain JSON, which a JSON copy takes several
    // times faster than structuredClone.
    const { object, created } = await this.store.update(this.rctx.namespace, name, () => clone(obj as JsonObject) as KubeObject, { ...this.rctx, fieldManager: this.fieldManager() }, { subresource, replace: true, requireResourceVersion: Boolean(obj.metadata?.resourceVersion), ...(obj.metadata?.uid ? { uid: obj.metadata.uid } : {}) });
    this.send(created ? 201 : 200, object);
  }

  async patch(name: string, subresource: "" | "status" | "approval" | "ephemeralcontainers"): Promise<void> {
    const contentType = mediaType(this.ctx.req.headers["content-type"]);
    const raw = await readBody(this.ctx.req);
    const manager = this.fieldManager();
    const force = queryBool(this.q, "force") === true;
    const isApply = contentType === "application/apply-patch+yaml";
    // Custom resources have no Go types to read patch strategies from: upstream refuses strategic merge patches.
    if (customResourceInfo(this.def) && contentType !== "application/json-patch+json" && contentType !== "application/merge-patch+json" && !isApply) {
      throw new status.StatusError({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`, reason: "UnsupportedMediaType", code: 415 });
    }
    if (isApply && this.q.get("fieldManager") === null) {
      throw status.invalid("meta.k8s.io", "PatchOptions", "", [{ text: "fieldManager: Required value: is required for apply patch", cause: { reason: "FieldValueRequired", message: "Required value: is required for apply patch", field: "fieldManager" } }]);
    }
    if (!isApply && this.q.get("force") !== null) throw status.badRequest("force: Invalid value: forcing is only applicable to apply requests");
    const mode = parseFieldValidation(this.q.get("fieldValidation"));
    const { object, created } = await this.store.update(
      this.rctx.namespace,
      name,
      async (current) => {
        if (!current && !isApply) throw status.notFound(this.store.qualified, name);
        const patched = await this.deps.patcher.apply({ def: this.def, contentType, current, patch: raw, manager, force, now: this.rctx.now, subresource });
        const obj = checkKind(patched, { apiVersion: this.apiVersion, kind: this.def.kind });
        validateFields(this.def, obj, mode, this.deps.checkSchema, this.ctx.warnings);
        // A resourceVersion in the patch is a precondition (a mismatch is a 409, never retried);
        // without one the patch applies to whatever is current and retries on conflicts.
        if (!obj.metadata?.resourceVersion && current) metaSetRV(obj, current.metadata?.resourceVersion);
        return obj;
      },
      // Apply records its own ownership; other patches are tracked as updates.
      isApply ? this.rctx : { ...this.rctx, fieldManager: manager },
      // Every patch type copies what it patches.
      { subresource, forceAllowCreate: isApply, borrow: true },
    );
    this.send(created ? 201 : 200, object);
  }

  /** The DeleteOptions of a delete, from its body or its query, and whether it is a dry run (the query's dryRun or the body's). */
  private async deleteOptions(): Promise<{ readonly options: DeleteOptions; readonly dryRun: boolean }> {
    const raw = await readBody(this.ctx.req);
    let opts: Record<string, unknown> = {};
    if (raw.length > 0) {
      const { value } = parseBody(raw, this.ctx.req.headers["content-type"]);
      if (typeof value !== "object" || value === null || Array.isArray(value)) throw status.badRequest("the body of a delete must be a DeleteOptions object");
      opts = value as Record<string, unknown>;
    }
    const grace = parseIntParam(this.q, "gracePeriodSeconds") ?? (typeof opts["gracePeriodSeconds"] === "number" ? opts["gracePeriodSeconds"] : undefined);
    if (grace !== undefined && grace < 0) throw status.badRequest("gracePeriodSeconds: Invalid value: must be greater than or equal to 0");
    const policy = this.q.get("propagationPolicy") ?? (opts["propagationPolicy"] as string | undefined);
    if (policy !== undefined && policy !== null && !["Orphan", "Background", "Foreground"].includes(policy)) {
      throw status.invalid("", "DeleteOptions", "", [{ text: `propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`, cause: { reason: "FieldValueNotSupported", field: "propagationPolicy", message: `Unsupported value: "${policy}"` } }]);
    }
    const orphan = queryBool(this.q, "orphanDependents") ?? (opts["orphanDependents"] as boolean | undefined);
    if (orphan !== undefined && policy) throw status.badRequest("orphanDependents and propagationPolicy may not both be set");
    const pre = (opts["preconditions"] ?? {}) as { uid?: string; resourceVersion?: string };
    const bodyDryRun = opts["dryRun"] === undefined || opts["dryRun"] === null ? [] : opts["dryRun"];
    if (!Array.isArray(bodyDryRun)) throw status.badRequest("dryRun: must be a list");
    for (const d of bodyDryRun) if (d !== "All") throw status.badRequest(`dryRun: Unsupported value: "${String(d)}": supported values: "All"`);
    const options: DeleteOptions = {
      ...(grace !== undefined ? { gracePeriodSeconds: grace } : {}),
      ...(policy ? { propagationPolicy: policy as DeleteOptions["propagationPolicy"] & string } : {}),
      ...(orphan !== undefined ? { orphanDependents: orphan } : {}),
      ...(pre.uid || pre.resourceVersion ? { preconditions: pre } : {}),
    };
    // kubectl sends `--dry-run=server` of a delete in the body's DeleteOptions, not the query.
    return { options, dryRun: this.rctx.dryRun || bodyDryRun.length > 0 };
  }

  async delete(name: string): Promise<void> {
    const { options, dryRun } = await this.deleteOptions();
    const { object, deleted } = await this.store.delete(this.rctx.namespace, name, options, { ...this.rctx, dryRun });
    if (deleted && !this.def.returnsDeletedObject) {
      sendJSON(this.ctx, 200, status.deletedStatus(this.store.qualified, object.metadata?.name ?? name, object.metadata?.uid));
      return;
    }
    const accepted = !deleted && (options.propagationPolicy === "Foreground" || options.propagationPolicy === "Background");
    this.send(accepted ? 202 : 200, object);
  }

  async deleteCollection(): Promise<void> {
    const { options, dryRun } = await this.deleteOptions();
    const filter = selectionFilter(this.def, this.q);
    const { items } = await this.store.list(this.rctx.namespace, filter ? { filter } : {});
    const deleted: KubeObject[] = [];
    for (const item of items) {
      try {
        const r = await this.store.delete(item.metadata?.namespace ?? "", item.metadata?.name ?? "", options, { ...this.rctx, namespace: item.metadata?.namespace ?? "", dryRun });
        deleted.push(r.object);
      } catch (err) {
        if (err instanceof status.StatusError && err.code === 404) continue;
        throw err;
      }
    }
    sendJSON(this.ctx, 200, { kind: `${this.def.kind}List`, apiVersion: this.apiVersion, metadata: {}, items: deleted });
  }

  // ---- subresources -----------------------------------------------------------------------

  private scaleOf(obj: KubeObject): KubeObject {
    const spec = this.def.scale!;
    const m = obj.metadata ?? {};
    return {
      kind: "Scale",
      apiVersion: "autoscaling/v1",
      metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
      spec: { replicas: (getPath(obj, spec.specReplicasPath) as number | undefined) ?? 0 },
      status: { replicas: (getPath(obj, spec.statusReplicasPath) as number | undefined) ?? 0, selector: spec.selector(obj) },
    };
  }

  /** A Scale, or its table (NAME DESIRED AVAILABLE AGE, `kubectl get --subresource=scale`). */
  private sendScale(scale: KubeObject): void {
    if (this.rendering === "table") sendJSON(this.ctx, 200, buildTable({ table: scaleTable }, [scale], { resourceVersion: scale.metadata?.resourceVersion ?? "" }, this.include));
    else sendJSON(this.ctx, 200, scale);
  }

  async getScale(name: string): Promise<void> {
    const obj = await this.store.get(this.rctx.namespace, name);
    this.sendScale(this.scaleOf(obj));
  }

  async writeScale(name: string, verb: "update" | "patch"): Promise<void> {
    const raw = await readBody(this.ctx.req);
    const contentType = mediaType(this.ctx.req.headers["content-type"]);
    const { object } = await this.store.update(
      this.rctx.namespace,
      name,
      async (current) => {
        if (!current) throw status.notFound(this.store.qualified, name);
        const scale = this.scaleOf(current);
        let next: KubeObject;
        if (verb === "update") {
          next = parseBody(raw, contentType).value as KubeObject;
        } else {
          next = (await this.deps.patcher.applyToScale(contentType, scale, raw)) as KubeObject;
        }
        const replicas = (next.spec as { replicas?: unknown } | undefined)?.replicas;
        if (typeof replicas !== "number" || !Number.isInteger(replicas) || replicas < 0) {
          throw status.invalid("autoscaling", "Scale", name, [{ text: `spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`, cause: { reason: "FieldValueInvalid", message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`, field: "spec.replicas" } }]);
        }
        const rv = next.metadata?.resourceVersion;
        if (rv && rv !== current.metadata?.resourceVersion) throw status.modifiedConflict(this.store.qualified, name);
        setPath(current, this.def.scale!.specReplicasPath, replicas);
        return current;
      },
      { ...this.rctx, fieldManager: this.fieldManager() },
      { subresource: "scale" },
    );
    this.sendScale(this.scaleOf(object));
  }

  /**
   * pods/binding, as upstream's BindingREST: the server's own change of the stored pod, straight
   * to storage — no defaulting, no update validation, and no managedFields entry (the scheduler
   * owns no field of a pod). The Binding's uid and resourceVersion, when set, are preconditions
   * (the scheduler sends the uid, so a pod deleted and made again under its name is not bound by
   * a decision about the old one); its annotations merge into the pod's.
   */
  async bind(named: string | undefined): Promise<void> {
    // Decoded as a Binding (a wrong JSON type is a 400, unknown fields follow fieldValidation).
    const binding = (await this.body(schemaTargetOf(legacyBindingResource))).obj as { metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string; annotations?: Record<string, string> }; target?: { kind?: string; name?: string } };
    // pods/NAME/binding names the pod in its path; the legacy `bindings` resource in the Binding.
    const name = named ?? binding.metadata?.name ?? "";
    const invalidBinding = (err: FieldError): never => {
      throw invalidFromFieldErrors({ group: "", kind: "Binding" }, name, [err]);
    };
    if (name === "") invalidBinding(required(FieldPath.of("metadata", "name"), "name is required"));
    if ((binding.metadata?.name ?? "") !== name) throw status.badRequest("name in URL does not match name in Binding object");
    if (binding.metadata?.namespace && binding.metadata.namespace !== this.rctx.namespace) throw status.badRequest("the namespace of the provided object does not match the namespace sent on the request");
    const target = binding.target?.name ?? "";
    if (target === "") invalidBinding(required(FieldPath.of("target", "name")));
    if (binding.target?.kind && binding.target.kind !== "Node") invalidBinding(invalid(FieldPath.of("target", "kind"), binding.target.kind, "must be empty or 'Node'"));
    const { uid, resourceVersion, annotations } = binding.metadata ?? {};
    // What refuses the binding itself is a Conflict on pods/binding, as upstream words it.
    const refused = (why: string): status.StatusError => status.conflict({ group: "", resource: "pods/binding" }, name, why);
    const { fieldManager: _none, ...rctx } = this.rctx;
    await this.store.update(
      this.rctx.namespace,
      name,
      (pod) => {
        if (!pod) throw status.notFound(this.store.qualified, name);
        // `pod` may be the watch cache's frozen copy: the result shares all but what changes.
        const spec = (pod.spec ?? {}) as { nodeName?: string; schedulingGates?: readonly unknown[] };
        if (pod.metadata?.deletionTimestamp) throw refused(`pod ${name} is being deleted, cannot be assigned to a host`);
        if (spec.nodeName) throw refused(`pod ${name} is already assigned to node "${spec.nodeName}"`);
        if ((spec.schedulingGates ?? []).length > 0) throw refused(`pod ${name} has non-empty .spec.schedulingGates`);
        // As upstream's UpdatePodCondition: the condition keeps its place, and its transition
        // time when it was True already; a reason or message of an earlier False goes.
        const st = (pod.status ?? {}) as { conditions?: readonly { type: string; status: string; lastTransitionTime?: string; lastProbeTime?: null }[] };
        const conds = [...(st.conditions ?? [])];
        setStatusCondition(conds, { type: "PodScheduled", status: "True", lastProbeTime: null }, this.rctx.now);
        const bound: KubeObject = { ...pod, spec: { ...spec, nodeName: target }, status: { ...st, conditions: conds } };
        if (annotations && Object.keys(annotations).length > 0) bound.metadata = { ...pod.metadata, annotations: { ...pod.metadata?.annotations, ...annotations } };
        return bound;
      },
      rctx,
      { subresource: "binding", borrow: true, ...(uid ? { uid } : {}), ...(resourceVersion ? { resourceVersion } : {}) },
    );
    sendJSON(this.ctx, 201, status.successStatus(undefined, 201));
  }

  async evict(name: string): Promise<void> {
    const raw = await readBody(this.ctx.req);
    const eviction = parseBody(raw, this.ctx.req.headers["content-type"]).value;
    const pdbDef = this.deps.registry.lookup("policy", "v1", "poddisruptionbudgets");
    const pdbs = pdbDef ? this.deps.stores.get(pdbDef) : undefined;
    const result = await evictPod({ pods: this.store, pdbs }, name, eviction, this.rctx);
    sendJSON(this.ctx, 201, { ...result, code: 201 });
  }

  async finalizeNamespace(name: string): Promise<void> {
    const { obj } = await this.body();
    const finalizers = ((obj.spec as { finalizers?: string[] } | undefined)?.finalizers ?? []).slice();
    const { object } = await this.store.update(
      "",
      name,
      (current) => {
        if (!current) throw status.notFound(this.store.qualified, name);
        current.spec = { ...(current.spec as object), finalizers };
        if (finalizers.length === 0) delete (current.spec as { finalizers?: string[] }).finalizers;
        return current;
      },
      { ...this.rctx, fieldManager: this.fieldManager() },
      { subresource: "finalize" },
    );
    this.send(200, object);
  }
}

function metaSetRV(obj: KubeObject, rv: string | undefined): void {
  obj.metadata = { ...obj.metadata, ...(rv ? { resourceVersion: rv } : {}) };
}


