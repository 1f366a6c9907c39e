// A recording fake of the API that controllers write through (client-go's fake clientset in
// spirit): every call is recorded as an Action, in order, and applied to a small in-memory
// store so that later calls in the same sync see its effects (generateName, uid,
// resourceVersion, Conflict on a stale update, NotFound on a missing object). Any call can be
// made to fail with `failOn`. Listers are not served from this store: a test seeds them
// separately (see listers.ts), exactly as a controller sees a cache that lags the API.
import jsonpatch from "fast-json-patch";
import type { Operation } from "fast-json-patch";
import { ApiError, ClientError, type Status } from "../../client/errors.js";
import type { KubeObject } from "../../client/objects.js";
import { builtinByResource } from "../../client/resources.js";
import type { Clock } from "../../client/clock.js";
import type { ObjectMeta } from "kubernetes-types/meta/v1.js";
import type { Api, DeleteOptions, GetOptions, PatchOptions, PatchType, ResourceApi, WriteOptions } from "../api.js";
import { rfc3339 } from "../../util/time.js";

export type Verb = "get" | "create" | "update" | "updateStatus" | "patch" | "delete";

export interface Action {
  readonly verb: Verb;
  readonly group: string;
  /** The plural resource name, e.g. "pods", "replicasets". */
  readonly resource: string;
  readonly subresource?: string;
  readonly namespace: string;
  /** The object's name; for a create with generateName, the name the fake gave it (or the generateName when the create failed). */
  readonly name: string;
  /** A copy of the body of create/update/updateStatus, as sent. */
  readonly object?: KubeObject;
  readonly patchType?: PatchType;
  readonly patch?: unknown;
  readonly deleteOptions?: DeleteOptions;
  /** Set when the call failed (by `failOn` or by the store's own rules). */
  readonly error?: unknown;
}

export interface ActionMatch {
  readonly verb?: Verb;
  readonly resource?: string;
  readonly group?: string;
  readonly subresource?: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly when?: (a: Action) => boolean;
}

interface Reactor {
  readonly match: ActionMatch;
  readonly error: (a: Action) => unknown;
  remaining: number;
}

/** An ApiError as the server would send it. */
export function apiError(code: number, reason: string, message = reason, details?: Status["details"]): ApiError {
  return new ApiError({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", code, reason, message, ...(details ? { details } : {}) });
}

export const conflictError = (resource: string, name: string): ApiError =>
  apiError(409, "Conflict", `Operation cannot be fulfilled on ${resource} "${name}": the object has been modified; please apply your changes to the latest version and try again`, { name, kind: resource });
export const notFoundError = (resource: string, name: string): ApiError => apiError(404, "NotFound", `${resource} "${name}" not found`, { name, kind: resource });
export const alreadyExistsError = (resource: string, name: string): ApiError => apiError(409, "AlreadyExists", `${resource} "${name}" already exists`, { name, kind: resource });
export const forbiddenError = (resource: string, name: string, why = "forbidden"): ApiError => apiError(403, "Forbidden", `${resource} "${name}" is forbidden: ${why}`, { name, kind: resource });
export const invalidError = (kind: string, name: string, why = "invalid"): ApiError => apiError(422, "Invalid", `${kind} "${name}" is invalid: ${why}`, { name, kind });

type Json = unknown;

type MutableMeta = { -readonly [K in keyof ObjectMeta]: ObjectMeta[K] };

/** The object's metadata, created if absent, with the server-owned fields writable. */
function meta(o: KubeObject): MutableMeta {
  o.metadata ??= {};
  return o.metadata as MutableMeta;
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

function matches(m: ActionMatch, a: Action): boolean {
  return (
    (m.verb === undefined || m.verb === a.verb) &&
    (m.resource === undefined || m.resource === a.resource) &&
    (m.group === undefined || m.group === a.group) &&
    (m.subresource === undefined || m.subresource === (a.subresource ?? "")) &&
    (m.namespace === undefined || m.namespace === a.namespace) &&
    (m.name === undefined || m.name === a.name) &&
    (m.when === undefined || m.when(a))
  );
}

export interface FakeApiOptions {
  /** Source of creationTimestamp/deletionTimestamp; default Date.now. */
  readonly clock?: Pick<Clock, "now">;
}

/**
 * The fake. `resource(...)` hands out ResourceApis over one shared action log and store.
 * Typical test: `const api = new FakeApi(); ...; await c.sync("ns/name"); assert.deepEqual(api.verbs(), [...])`.
 */
export class FakeApi implements Api {
  readonly actions: Action[] = [];
  private readonly reactors: Reactor[] = [];
  /** `group/plural` → key → object */
  private readonly store = new Map<string, Map<string, KubeObject>>();
  private seq = 0;
  private rv = 1000;

  constructor(private readonly o: FakeApiOptions = {}) {}

  resource<T extends KubeObject = KubeObject>(group: string, version: string, plural: string, opts: { readonly namespaced?: boolean; readonly kind?: string } = {}): ResourceApi<T> {
    const known = builtinByResource(group, version, plural);
    const namespaced = opts.namespaced ?? known?.namespaced ?? true;
    const kind = opts.kind ?? known?.kind ?? "";
    return new FakeResource<T>(this, { group, version, plural, kind, namespaced }, undefined);
  }

  /**
   * Makes matching calls fail with `error` (an Error, or a function of the action), `times`
   * times (default: always). The failed call is still recorded, with `error` set.
   */
  failOn(match: ActionMatch, error: unknown, opts: { readonly times?: number } = {}): void {
    this.reactors.push({ match, error: typeof error === "function" ? (error as (a: Action) => unknown) : () => error, remaining: opts.times ?? Infinity });
  }

  /** Puts objects into the store without recording anything (what exists before the test). */
  seed(group: string, plural: string, ...objs: readonly KubeObject[]): void {
    for (const obj of objs) {
      const o = clone(obj) as KubeObject;
      const m = meta(o);
      m.resourceVersion ??= String(++this.rv);
      this.bucket(group, plural).set(objKey(m.namespace ?? "", m.name ?? ""), o);
    }
  }

  /** The stored object, or undefined. */
  object<T extends KubeObject = KubeObject>(group: string, plural: string, namespace: string, name: string): T | undefined {
    const o = this.store.get(`${group}/${plural}`)?.get(objKey(namespace, name));
    return o === undefined ? undefined : (clone(o) as T);
  }

  /** Every stored object of a resource (in one namespace if given), sorted by name. */
  objects<T extends KubeObject = KubeObject>(group: string, plural: string, namespace?: string): T[] {
    return [...(this.store.get(`${group}/${plural}`)?.values() ?? [])]
      .filter((o) => namespace === undefined || (o.metadata?.namespace ?? "") === namespace)
      .sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""))
      .map((o) => clone(o) as T);
  }

  /** Actions except reads, optionally only those matching. */
  writes(match: ActionMatch = {}): Action[] {
    return this.actions.filter((a) => a.verb !== "get" && matches(match, a));
  }

  /** `verb resource[/sub] ns/name` per write: a compact shape for deepEqual. */
  verbs(match: ActionMatch = {}): string[] {
    return this.writes(match).map((a) => `${a.verb} ${a.resource}${a.subresource ? `/${a.subresource}` : ""} ${a.namespace ? `${a.namespace}/` : ""}${a.name}`);
  }

  clear(): void {
    this.actions.length = 0;
  }

  // ---- used by FakeResource ----

  /** @internal */
  bucket(group: string, plural: string): Map<string, KubeObject> {
    let b = this.store.get(`${group}/${plural}`);
    if (!b) this.store.set(`${group}/${plural}`, (b = new Map()));
    return b;
  }

  /** @internal Records the action; throws if a reactor fails it. */
  record(a: Action): void {
    for (const r of this.reactors) {
      if (r.remaining <= 0 || !matches(r.match, a)) continue;
      const err = r.error(a);
      if (err === undefined) continue;
      r.remaining--;
      this.actions.push({ ...a, error: err });
      throw err;
    }
    this.actions.push(a);
  }

  /** @internal Marks the last recorded action failed (store rule), then throws. */
  fail(err: unknown): never {
    const last = this.actions.pop();
    if (last) this.actions.push({ ...last, error: err });
    throw err;
  }

  /** @internal */
  nextRv(): string {
    return String(++this.rv);
  }

  /** @internal */
  nextSeq(): number {
    return ++this.seq;
  }

  /** @internal */
  now(): string {
    return rfc3339(this.o.clock?.now() ?? Date.now());
  }
}

const SUFFIX_CHARS = "bcdfghjklmnpqrstvwxz2456789";

/** Deterministic 5-character generateName suffixes in the server's alphabet. */
function suffix(n: number): string {
  let s = "";
  for (let i = 0; i < 5; i++) {
    s = SUFFIX_CHARS[n % SUFFIX_CHARS.length]! + s;
    n = Math.floor(n / SUFFIX_CHARS.length);
  }
  return s;
}

function objKey(ns: string, name: string): string {
  return ns ? `${ns}/${name}` : name;
}

interface Info {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

function specOf(o: KubeObject): string {
  const { metadata: _m, status: _s, ...rest } = o as KubeObject & { status?: unknown };
  return JSON.stringify(rest);
}

class FakeResource<T extends KubeObject> implements ResourceApi<T> {
  constructor(
    private readonly api: FakeApi,
    private readonly info: Info,
    private readonly scope: string | undefined,
  ) {}

  namespace(ns: string): ResourceApi<T> {
    return new FakeResource<T>(this.api, this.info, ns);
  }

  private ns(obj?: KubeObject): string {
    if (!this.info.namespaced) return "";
    const ns = this.scope ?? obj?.metadata?.namespace;
    if (!ns) throw new ClientError("NamespaceRequired", `${this.info.plural} are namespaced: scope the client with namespace(ns) or set metadata.namespace`);
    return ns;
  }

  private get bucket(): Map<string, KubeObject> {
    return this.api.bucket(this.info.group, this.info.plural);
  }

  private base(verb: Verb, namespace: string, name: string): Action {
    return { verb, group: this.info.group, resource: this.info.plural, namespace, name };
  }

  private stored(namespace: string, name: string): KubeObject {
    const o = this.bucket.get(objKey(namespace, name));
    if (!o) this.api.fail(notFoundError(this.qualified, name));
    return o;
  }

  private get qualified(): string {
    return this.info.group ? `${this.info.plural}.${this.info.group}` : this.info.plural;
  }

  /** A write's answer as the client library decodes it: the object, or its metadata alone (`answer: "metadata"`). */
  private answered(opts: WriteOptions, o: T): T {
    if (opts.answer !== "metadata") return o;
    const { managedFields: _, ...metadata } = o.metadata ?? {};
    return { metadata } as T;
  }

  private out(o: KubeObject): T {
    const c = clone(o);
    c.apiVersion ??= this.info.group ? `${this.info.group}/${this.info.version}` : this.info.version;
    if (this.info.kind) c.kind ??= this.info.kind;
    return c as T;
  }

  get(name: string, _opts?: GetOptions): Promise<T> {
    return Promise.resolve().then(() => {
      const ns = this.ns();
      this.api.record(this.base("get", ns, name));
      return this.out(this.stored(ns, name));
    });
  }

  create(obj: T, opts: WriteOptions = {}): Promise<T> {
    return Promise.resolve().then(() => {
      const ns = this.ns(obj);
      const o = clone(obj) as KubeObject;
      o.metadata ??= {};
      let name = o.metadata.name ?? "";
      if (!name && o.metadata.generateName) name = o.metadata.generateName + suffix(this.api.nextSeq());
      const action: Action = { ...this.base("create", ns, name || (obj.metadata?.generateName ?? "")), object: clone(obj) };
      this.api.record(action);
      if (!name) this.api.fail(invalidError(this.info.kind, "", "metadata.name: Required value: name or generateName is required"));
      if (this.bucket.has(objKey(ns, name))) this.api.fail(alreadyExistsError(this.qualified, name));
      const m = meta(o);
      m.name = name;
      if (this.info.namespaced) m.namespace = ns;
      m.uid = `uid-${name}-${this.api.nextSeq()}`;
      m.resourceVersion = this.api.nextRv();
      m.creationTimestamp = this.api.now();
      m.generation = 1;
      this.bucket.set(objKey(ns, name), o);
      return this.answered(opts, this.out(o));
    });
  }

  private replace(verb: "update" | "updateStatus", obj: T): T {
    const ns = this.ns(obj);
    const name = obj.metadata?.name ?? "";
    this.api.record({ ...this.base(verb, ns, name), ...(verb === "updateStatus" ? { subresource: "status" } : {}), object: clone(obj) });
    const old = this.stored(ns, name);
    const rv = obj.metadata?.resourceVersion;
    if (rv && rv !== old.metadata?.resourceVersion) this.api.fail(conflictError(this.qualified, name));
    return this.store(ns, name, old, clone(obj) as KubeObject, verb === "updateStatus" ? "status" : "main");
  }

  /** Writes `next` over `old` keeping what the endpoint cannot change, as the server does. */
  private store(ns: string, name: string, old: KubeObject, next: KubeObject, part: "main" | "status"): T {
    const o = part === "status" ? { ...clone(old), status: (next as { status?: unknown }).status } : next;
    if (part === "main" && "status" in old) (o as { status?: unknown }).status = clone((old as { status?: unknown }).status);
    o.metadata = part === "status" ? clone(old.metadata ?? {}) : { ...(o.metadata ?? {}) };
    o.metadata.name = name;
    if (this.info.namespaced) o.metadata.namespace = ns;
    for (const k of ["uid", "creationTimestamp", "deletionTimestamp", "generation"] as const) {
      const v = old.metadata?.[k];
      if (v === undefined) delete o.metadata[k];
      else (o.metadata as Record<string, unknown>)[k] = v;
    }
    if (part === "main" && specOf(o) !== specOf(old)) meta(o).generation = (old.metadata?.generation ?? 0) + 1;
    meta(o).resourceVersion = this.api.nextRv();
    this.bucket.set(objKey(ns, name), o);
    return this.out(o);
  }

  update(obj: T, opts: WriteOptions = {}): Promise<T> {
    return Promise.resolve().then(() => this.answered(opts, this.replace("update", obj)));
  }

  updateStatus(obj: T, opts: WriteOptions = {}): Promise<T> {
    return Promise.resolve().then(() => this.answered(opts, this.replace("updateStatus", obj)));
  }

  patch(name: string, type: PatchType, body: unknown, opts: PatchOptions & { readonly subresource?: string } = {}): Promise<T> {
    return Promise.resolve().then(() => {
      const ns = this.ns();
      const patch = typeof body === "string" ? (JSON.parse(body) as unknown) : clone(body);
      this.api.record({ ...this.base("patch", ns, name), ...(opts.subresource ? { subresource: opts.subresource } : {}), patchType: type, patch });
      const old = this.stored(ns, name);
      const pm = (patch as { metadata?: { uid?: unknown; resourceVersion?: unknown } } | null)?.metadata;
      if (type !== "json" && pm?.uid !== undefined && pm.uid !== old.metadata?.uid) this.api.fail(conflictError(this.qualified, name));
      if (type !== "json" && pm?.resourceVersion !== undefined && pm.resourceVersion !== old.metadata?.resourceVersion) this.api.fail(conflictError(this.qualified, name));
      let next: KubeObject;
      try {
        next = applyPatch(old, type, patch);
      } catch (err) {
        this.api.fail(err instanceof ApiError ? err : invalidError(this.info.kind, name, (err as Error).message));
      }
      return this.answered(opts, this.store(ns, name, old, next, opts.subresource === "status" ? "status" : "main"));
    });
  }

  delete(name: string, opts: DeleteOptions = {}): Promise<T | Status> {
    return Promise.resolve().then(() => {
      const ns = this.ns();
      this.api.record({ ...this.base("delete", ns, name), deleteOptions: { ...opts } });
      const old = this.stored(ns, name);
      const uid = opts.preconditions?.uid;
      if (uid && uid !== old.metadata?.uid) this.api.fail(conflictError(this.qualified, name));
      if ((old.metadata?.finalizers ?? []).length > 0) {
        const o = clone(old);
        meta(o).deletionTimestamp ??= this.api.now();
        meta(o).resourceVersion = this.api.nextRv();
        this.bucket.set(objKey(ns, name), o);
        return this.out(o);
      }
      this.bucket.delete(objKey(ns, name));
      return this.out(old);
    });
  }
}

// ---- patches --------------------------------------------------------------------------------

function applyPatch(old: KubeObject, type: PatchType, patch: unknown): KubeObject {
  switch (type) {
    case "json":
      return jsonpatch.applyPatch(clone(old), patch as Operation[], true, false).newDocument;
    case "merge":
      return mergePatch(clone(old), patch) as KubeObject;
    case "strategic":
      return strategicPatch(clone(old), patch, "") as KubeObject;
    case "apply":
      throw apiError(415, "UnsupportedMediaType", "the fake does not do server-side apply");
  }
}

function isObj(v: unknown): v is Record<string, Json> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** RFC 7386. */
function mergePatch(target: Json, patch: Json): Json {
  if (!isObj(patch)) return clone(patch);
  const out: Record<string, Json> = isObj(target) ? target : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** The merge keys of the lists controllers patch; other lists are replaced, as in a merge patch. */
const MERGE_KEYS: Readonly<Record<string, string>> = {
  ownerReferences: "uid",
  conditions: "type",
  containers: "name",
  initContainers: "name",
  env: "name",
  volumes: "name",
  volumeMounts: "mountPath",
  ports: "containerPort",
};

const PRIMITIVE_MERGE_LISTS = new Set(["finalizers"]);

/**
 * A strategic merge patch reduced to what controllers send: merge-keyed lists (with
 * `$patch: delete` entries), the merged primitive list `finalizers` (with
 * `$deleteFromPrimitiveList/finalizers`), `$setElementOrder`/`$retainKeys` ignored.
 */
function strategicPatch(target: Json, patch: Json, _field: string): Json {
  if (!isObj(patch)) return clone(patch);
  const out: Record<string, Json> = isObj(target) ? target : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith("$setElementOrder/") || k === "$retainKeys") continue;
    if (k.startsWith("$deleteFromPrimitiveList/")) {
      const f = k.slice("$deleteFromPrimitiveList/".length);
      const drop = new Set((v as Json[]) ?? []);
      if (Array.isArray(out[f])) out[f] = (out[f] as Json[]).filter((x) => !drop.has(x));
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    const key = MERGE_KEYS[k];
    if (Array.isArray(v) && key !== undefined) {
      const list = Array.isArray(out[k]) ? (out[k] as Json[]) : [];
      for (const item of v) {
        if (!isObj(item)) continue;
        const idx = list.findIndex((x) => isObj(x) && x[key] === item[key]);
        if (item["$patch"] === "delete") {
          if (idx >= 0) list.splice(idx, 1);
          continue;
        }
        if (idx >= 0) list[idx] = strategicPatch(list[idx], item, k);
        else list.push(clone(item));
      }
      if (list.length === 0) delete out[k];
      else out[k] = list;
      continue;
    }
    if (Array.isArray(v) && PRIMITIVE_MERGE_LISTS.has(k)) {
      const list = Array.isArray(out[k]) ? (out[k] as Json[]) : [];
      for (const x of v) if (!list.includes(x)) list.push(x);
      out[k] = list;
      continue;
    }
    out[k] = strategicPatch(out[k], v, k);
  }
  return out;
}
