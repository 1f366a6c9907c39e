// The generic store of one resource (model: the apiserver's registry/generic Store): create,
// read, update, delete and watch with Kubernetes semantics on top of the storage contract.
// Kind-specific rules come from the ResourceDefinition's strategy; HTTP lives elsewhere.
import type { KeyValue, Store } from "../../storage/interface.js";
import { isStorageError } from "../../storage/errors.js";
import type { AdmissionChain, AdmissionOperation, AdmissionUser } from "../admission/types.js";
import { objectKey, resourcePrefix } from "../registry/registry.js";
import type { KubeObject, ResourceDefinition, StrategyContext, SubresourceWrite } from "../registry/types.js";
import * as status from "../status.js";
import { TooOldError, atRevision, markStored, parseStored, type CacheWatcher, type ObjectFilter, type WatchCache } from "../watchcache.js";
import { generateName, metaOf, newUID, specChanged } from "./meta.js";
import { jsonEqual } from "../../util/json.js";
import { invalidFromFieldErrors } from "./invalid.js";
import { validateImmutableField } from "../../api/validation.js";
import { FieldPath, type FieldError } from "../../api/fielderrors.js";
import { clone, type JsonObject } from "../patch/json.js";
import { rfc3339 } from "../../util/time.js";

export interface RequestContext {
  readonly namespace: string;
  readonly user: AdmissionUser;
  readonly now: Date;
  readonly dryRun: boolean;
  /**
   * Record this write in metadata.managedFields as an Update by this manager. Absent when the
   * request tracked ownership itself (server-side apply) or for system writes.
   */
  readonly fieldManager?: string;
  /** The response's Warning headers, for admission (webhooks' warnings). */
  readonly warnings?: string[];
}

/** managedFields bookkeeping for ordinary writes (upstream's field manager). */
export type ManagedFieldsTracker = (def: ResourceDefinition, live: KubeObject | undefined, obj: KubeObject, manager: string, subresource: string, now: Date) => KubeObject;

export interface ReadOptions {
  readonly resourceVersion?: string;
}

export interface ListOptions extends ReadOptions {
  readonly resourceVersionMatch?: string;
  readonly limit?: number;
  readonly continue?: string;
  readonly filter?: ObjectFilter;
}

export interface ListResult {
  readonly items: readonly Readonly<KubeObject>[];
  /** The items already serialized, when the watch cache had them so (no conversion needed). */
  readonly itemsJSON?: readonly string[];
  readonly resourceVersion: string;
  readonly continue?: string;
  readonly remainingItemCount?: number;
}

export interface DeleteOptions {
  readonly gracePeriodSeconds?: number;
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string };
  readonly propagationPolicy?: "Orphan" | "Background" | "Foreground";
  readonly orphanDependents?: boolean;
}

export interface DeleteResult {
  readonly object: Readonly<KubeObject>;
  /** False when deletion only started (graceful period or finalizers pending). */
  readonly deleted: boolean;
}

/** Mutates the current object into the desired one; throw a StatusError to abort. */
export type UpdateFunc = (current: KubeObject | undefined) => Promise<KubeObject> | KubeObject;

export interface UpdateOptions {
  /** "status" writes only the status fields; "" (and "scale", which differs only in whose write managedFields record) everything else. */
  readonly subresource?: "" | "status" | "scale" | "finalize" | "binding" | "approval" | "ephemeralcontainers";
  /** The client sent a resourceVersion that must match (else the update retries on conflicts). */
  readonly requireResourceVersion?: boolean;
  /** Admission operation to report (patch and update are both UPDATE). */
  readonly forceAllowCreate?: boolean;
  /**
   * The update function replaces the object whole and never reads the current one (PUT): it
   * is called with undefined, saving a copy of the stored object per write.
   */
  readonly replace?: boolean;
  /**
   * The update function never changes the object it is given: it builds what it returns as
   * new objects (a new top level at least), sharing what it keeps. It is given the current
   * object itself, which may be the watch cache's shared, frozen copy, instead of a private
   * copy of it (patches copy what they patch; a binding changes two fields).
   */
  readonly borrow?: boolean;
  /**
   * The uid the stored object must have (upstream's UID precondition, which an update takes
   * from the object it sends; patches send none).
   */
  readonly uid?: string;
  /** The resourceVersion the stored object must have (upstream's ResourceVersion precondition). */
  readonly resourceVersion?: string;
}

const encoder = new TextEncoder();
const UID_PATH = FieldPath.of("metadata", "uid");
/**
 * Tries of a write whose compare-and-swap keeps losing to other writers. Upstream's
 * GuaranteedUpdate and conditional delete retry without end (every Conflict means another
 * write got through); the bound only stops a store that answers Conflict for no reason from
 * spinning for ever. N clients patching one object at once need up to N tries (one wins per
 * commit).
 */
const MAX_CONFLICT_RETRIES = 1000;
/** An update that creates the object and meets another create of it tries again, this many times. */
const MAX_CREATE_RACE_RETRIES = 8;
const FOREGROUND = "foregroundDeletion";
const ORPHAN = "orphan";

/** Told whether the write it prepared landed. */
export type FinishWrite = (success: boolean) => Promise<void>;

/**
 * Work a resource needs around its writes beyond what a strategy can do, because it touches
 * storage outside the object (upstream's Store.BeginCreate/BeginUpdate/AfterDelete; services
 * allocate cluster IPs and node ports here). Begin hooks run after validation and admission,
 * right before the write, and may fill fields of the object; the FinishWrite they return
 * keeps or gives back what they took. afterDelete runs once the object is gone from storage.
 */
export interface WriteHooks {
  beginCreate?(obj: KubeObject, ctx: RequestContext): Promise<FinishWrite>;
  beginUpdate?(obj: KubeObject, old: KubeObject, ctx: RequestContext): Promise<FinishWrite>;
  afterDelete?(obj: Readonly<KubeObject>, ctx: RequestContext): Promise<void>;
}

export interface ResourceStoreDeps {
  readonly store: Store;
  readonly cache: WatchCache;
  readonly admission: AdmissionChain;
  readonly trackManagedFields?: ManagedFieldsTracker;
  readonly hooks?: WriteHooks;
  /** Makes a name from a generateName prefix (upstream's generator unless a test makes names collide). */
  readonly generateName?: (prefix: string) => string;
}

/**
 * How many names a create with generateName tries before a collision reaches the client, as
 * upstream's apiserver since RetryGenerateName (GA in 1.32): without retries a 5-character
 * suffix collides with even odds by ~5,000 names under one prefix, with 8 tries by then with
 * about none (below 0.1 % up to a million names).
 */
const MAX_NAME_GENERATION_CREATE_ATTEMPTS = 8;

export class ResourceStore {
  readonly qualified: status.QualifiedResource;
  private readonly statusFields: readonly string[];

  constructor(
    readonly def: ResourceDefinition,
    private readonly deps: ResourceStoreDeps,
  ) {
    this.qualified = { group: def.group, resource: def.plural };
    this.statusFields = def.strategy.statusFields ?? ["status"];
  }

  key(namespace: string, name: string): string {
    return objectKey(this.def, namespace, name);
  }

  // ---- encoding -------------------------------------------------------------------------

  /** A stored value → the served object (conversion for shared storage), resourceVersion set. */
  fromStored(o: Readonly<KubeObject>): KubeObject {
    return this.def.storage ? this.def.storage.conversion.fromStorage(o as KubeObject) : (o as KubeObject);
  }

  /** A private copy of a stored object (the cache's copies are shared, and frozen). */
  private decode(kv: KeyValue): KubeObject {
    return this.fromStored(parseStored(kv.value, kv.modRevision));
  }

  /**
   * What a write returns: the object it stored, as decoding the stored bytes would give it
   * (same keys in the same order, resourceVersion last in metadata), without parsing them
   * again. `obj` is the caller's, given up to the write; kinds stored through a conversion are
   * decoded, since the conversion need not be its own inverse.
   */
  private written(obj: KubeObject, kv: KeyValue): KubeObject {
    if (this.def.storage) return this.decode(kv);
    this.deps.cache.wrote(kv, obj);
    // The response is serialized from the stored bytes, not stringified again.
    return markStored(atRevision(obj, kv.modRevision), kv);
  }

  /**
   * apiVersion, kind and metadata first: the watch cache relies on it to serve JSON without a
   * parse. The bytes are about to be written under `key`: the cache is offered `obj` for the
   * event that write makes, instead of parsing the bytes again — which is why, from here on,
   * nobody changes `obj` or the objects it holds (what a write returns shares them).
   */
  private encode(obj: KubeObject, key: string): Uint8Array {
    const { apiVersion, kind, metadata, ...rest } = this.def.storage ? this.def.storage.conversion.toStorage(obj) : obj;
    // Copied without the key rather than copied and deleted from: a delete leaves the copy in
    // V8's slow (dictionary) mode, which the stringify below pays for.
    const { resourceVersion: _served, ...meta } = metadata ?? {};
    const bytes = encoder.encode(JSON.stringify({ apiVersion, kind, metadata: meta, ...rest }));
    if (!this.def.storage) this.deps.cache.offerWrite(key, bytes, obj);
    return bytes;
  }

  private notFound(name: string): status.StatusError {
    return status.notFound(this.qualified, name);
  }

  private storageError(err: unknown, name: string): unknown {
    return status.fromStorageError(err, this.qualified, name) ?? err;
  }

  // ---- reads ----------------------------------------------------------------------------

  async get(namespace: string, name: string, opts: ReadOptions = {}): Promise<KubeObject> {
    const key = this.key(namespace, name);
    const rv = parseResourceVersion(opts.resourceVersion);
    if (rv === undefined) {
      const { kv } = await this.deps.store.get(key).catch((e: unknown) => {
        throw this.storageError(e, name);
      });
      if (!kv) throw this.notFound(name);
      return this.decode(kv);
    }
    if (rv > 0) await this.waitForCache(rv);
    const cached = this.cache().get(key);
    if (!cached) throw this.notFound(name);
    return this.fromStored(cached.object);
  }

  private cache() {
    return this.deps.cache.resource(resourcePrefix(this.def));
  }

  /** The newest revision the watch cache has seen. */
  currentRevision(): number {
    return this.deps.cache.revision;
  }

  private async waitForCache(rv: number): Promise<void> {
    if (!(await this.deps.cache.waitFor(rv, 3000))) {
      const err = status.timeout(`Too large resource version: ${rv}, current: ${this.deps.cache.revision}`);
      err.status.details = { causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }], retryAfterSeconds: 1 };
      throw err;
    }
  }

  async list(namespace: string, opts: ListOptions = {}): Promise<ListResult> {
    const prefix = resourcePrefix(this.def, namespace);
    const rv = parseResourceVersion(opts.resourceVersion);
    const paged = (opts.limit ?? 0) > 0 || Boolean(opts.continue);
    const exact = opts.resourceVersionMatch === "Exact";
    if (opts.resourceVersionMatch && opts.resourceVersionMatch !== "Exact" && opts.resourceVersionMatch !== "NotOlderThan") {
      throw status.badRequest(`resourceVersionMatch: Unsupported value: "${opts.resourceVersionMatch}": supported values: "Exact", "NotOlderThan"`);
    }
    if (opts.resourceVersionMatch && rv === undefined) throw status.badRequest("resourceVersionMatch is forbidden unless resourceVersion is provided");
    if (opts.continue && rv !== undefined && rv !== 0) throw status.badRequest("specifying resource version is not allowed when using continue");
    // Served from the store: paginated lists (a continue token pins one revision) and exact reads.
    if ((paged && rv === undefined) || exact || opts.continue) return this.listFromStore(prefix, opts, exact ? rv : undefined);
    // Served from the watch cache: consistent (after catching up) or not older than rv.
    if (rv === undefined) {
      if (!(await this.deps.cache.waitUntilFresh())) return this.listFromStore(prefix, opts, undefined);
    } else if (rv > 0) await this.waitForCache(rv);
    const cache = this.cache();
    const cached = cache.list(prefix, opts.filter);
    const resourceVersion = String(cache.currentRevision);
    if (this.def.storage) return { items: cached.map((c) => this.fromStored(c.object)), resourceVersion };
    return {
      get items() {
        return cached.map((c) => c.object);
      },
      itemsJSON: cached.map((c) => c.json()),
      resourceVersion,
    };
  }

  private async listFromStore(prefix: string, opts: ListOptions, revision: number | undefined): Promise<ListResult> {
    const limit = opts.limit ?? 0;
    const items: KubeObject[] = [];
    let token = opts.continue;
    let rev = revision;
    let cont: string | undefined;
    let remaining: number | undefined;
    try {
      while (true) {
        const page = await this.deps.store.list(prefix, { ...(rev ? { revision: rev } : {}), ...(limit > 0 ? { limit: limit - items.length } : {}), ...(token ? { continue: token } : {}) });
        rev = page.revision;
        for (const kv of page.kvs) {
          const obj = this.decode(kv);
          if (!opts.filter || opts.filter(obj)) items.push(obj);
        }
        cont = page.continue;
        remaining = page.remainingItemCount;
        if (!cont || limit === 0 || items.length >= limit) break;
        token = cont;
      }
    } catch (err) {
      if (isStorageError(err, "Compacted") && opts.continue) throw this.storageError(Object.assign(err, { code: "Expired" }), "");
      throw this.storageError(err, "");
    }
    return {
      items,
      resourceVersion: String(rev ?? 0),
      ...(cont ? { continue: cont } : {}),
      // With a filter the count of matching items is unknown; upstream omits it then.
      ...(cont && remaining !== undefined && !opts.filter ? { remainingItemCount: remaining } : {}),
    };
  }

  /**
   * A watch through the cache. Without `sendInitialEvents`, `resourceVersion` "" or "0" starts
   * with the current state and any other revision after it. With it (a streaming list), as
   * upstream: true starts with the state at least as new as `resourceVersion` (unset: every
   * write acknowledged so far; "0": what the cache has), false with the changes after it (after
   * the current state for "" or "0").
   */
  async watch(namespace: string, opts: ReadOptions & { readonly filter?: ObjectFilter; readonly sendInitialEvents?: boolean }): Promise<CacheWatcher> {
    const rv = parseResourceVersion(opts.resourceVersion);
    if (rv !== undefined && rv > 0) await this.waitForCache(rv);
    else if (rv === undefined && opts.sendInitialEvents !== undefined) await this.deps.cache.waitUntilFresh();
    let after: number | undefined = rv === undefined || rv === 0 ? undefined : rv;
    if (opts.sendInitialEvents === true) after = undefined;
    else if (opts.sendInitialEvents === false) after ??= this.cache().currentRevision;
    try {
      return this.cache().watch(resourcePrefix(this.def, namespace), opts.filter, after);
    } catch (err) {
      if (err instanceof TooOldError) throw status.expired(err.message);
      throw err;
    }
  }

  // ---- writes ---------------------------------------------------------------------------

  private strategyContext(ctx: RequestContext): StrategyContext {
    return { namespace: ctx.namespace, now: ctx.now, user: ctx.user, ...(ctx.warnings ? { warnings: ctx.warnings } : {}) };
  }

  private validateOrThrow(name: string, errs: readonly unknown[] | undefined): void {
    if (errs && errs.length > 0) throw invalidFromFieldErrors(this.def, name, errs);
  }

  private async admit(op: AdmissionOperation, obj: KubeObject | undefined, old: KubeObject | undefined, ctx: RequestContext, name: string, subresource = ""): Promise<void> {
    await this.deps.admission.admit({ operation: op, resource: this.def, subresource, namespace: ctx.namespace, name, object: obj, oldObject: old, user: ctx.user, dryRun: ctx.dryRun, ...(ctx.warnings ? { warnings: ctx.warnings } : {}) });
  }

  private async admitValidate(op: AdmissionOperation, obj: KubeObject | undefined, old: KubeObject | undefined, ctx: RequestContext, name: string, subresource = ""): Promise<void> {
    await this.deps.admission.validate({ operation: op, resource: this.def, subresource, namespace: ctx.namespace, name, object: obj, oldObject: old, user: ctx.user, dryRun: ctx.dryRun, ...(ctx.warnings ? { warnings: ctx.warnings } : {}) });
  }

  /** Everything a create does before the write: name, defaults, admission, system fields, validation. */
  async prepareCreate(obj: KubeObject, ctx: RequestContext): Promise<KubeObject> {
    let meta = metaOf(obj);
    if (this.def.namespaced) {
      if (meta.namespace && ctx.namespace && meta.namespace !== ctx.namespace) {
        throw status.badRequest("the namespace of the provided object does not match the namespace sent on the request");
      }
      meta.namespace = ctx.namespace || meta.namespace;
    } else {
      delete meta.namespace;
    }
    if (!meta.name && meta.generateName) meta.name = this.generatedName(meta.generateName);
    this.def.strategy.defaults?.(obj);
    // Ownership is recorded before mutating admission, as upstream's create handler does: what
    // admission adds (service account volumes, default tolerations) belongs to no manager.
    if (ctx.fieldManager !== undefined && this.deps.trackManagedFields) obj = this.deps.trackManagedFields(this.def, undefined, obj, ctx.fieldManager, "", ctx.now);
    await this.admit("CREATE", obj, undefined, ctx, meta.name ?? "");
    // The tracker hands back a new top level and metadata.
    meta = metaOf(obj);
    meta.uid = newUID();
    meta.creationTimestamp = rfc3339(ctx.now);
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.resourceVersion;
    delete meta.selfLink;
    if (this.def.strategy.specFields?.length !== 0 && this.tracksGeneration()) meta.generation = 1;
    else delete meta.generation;
    this.def.strategy.prepareForCreate?.(obj, this.strategyContext(ctx));
    this.validateOrThrow(obj.metadata?.name ?? "", this.def.strategy.validate?.(obj, this.strategyContext(ctx)));
    if (!obj.metadata?.name) {
      throw status.invalid(this.def.group, this.def.kind, "", [{ text: "metadata.name: Required value: name or generateName is required", cause: { reason: "FieldValueRequired", message: "Required value: name or generateName is required", field: "metadata.name" } }]);
    }
    await this.admitValidate("CREATE", obj, undefined, ctx, obj.metadata.name);
    return obj;
  }

  private tracksGeneration(): boolean {
    return this.def.strategy.specFields === undefined ? true : this.def.strategy.specFields.length > 0;
  }

  async create(obj: KubeObject, ctx: RequestContext): Promise<KubeObject> {
    const generated = !obj.metadata?.name && !!obj.metadata?.generateName;
    let prepared = await this.prepareCreate(obj, ctx);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.createPrepared(prepared, ctx);
      } catch (err) {
        const taken = err instanceof status.StatusError && err.status.reason === "AlreadyExists";
        if (!generated || !taken || attempt >= MAX_NAME_GENERATION_CREATE_ATTEMPTS) throw err;
        prepared = await this.renamed(prepared, ctx);
      }
    }
  }

  /**
   * A prepared create under a fresh generated name (and uid), validated again as upstream's
   * retry does. A new top level and metadata: the failed try's object was offered to the
   * watch cache with its bytes, and stays as it was.
   */
  private async renamed(prepared: KubeObject, ctx: RequestContext): Promise<KubeObject> {
    const meta = prepared.metadata!;
    const obj: KubeObject = { ...prepared, metadata: { ...meta, name: this.generatedName(meta.generateName!), uid: newUID() } };
    const name = obj.metadata!.name!;
    this.validateOrThrow(name, this.def.strategy.validate?.(obj, this.strategyContext(ctx)));
    await this.admitValidate("CREATE", obj, undefined, ctx, name);
    return obj;
  }

  private generatedName(prefix: string): string {
    return (this.deps.generateName ?? generateName)(prefix);
  }

  private async createPrepared(prepared: KubeObject, ctx: RequestContext): Promise<KubeObject> {
    const name = prepared.metadata!.name!;
    const finish = await this.deps.hooks?.beginCreate?.(prepared, ctx);
    let landed = false;
    try {
      if (ctx.dryRun) {
        const { kv } = await this.deps.store.get(this.key(ctx.namespace, name));
        if (kv) throw status.alreadyExists(this.qualified, name);
        landed = true;
        return prepared;
      }
      const key = this.key(ctx.namespace, name);
      const kv = await this.deps.store.create(key, this.encode(prepared, key), this.writeOptions());
      landed = true;
      return this.written(prepared, kv);
    } catch (err) {
      throw this.storageError(err, name);
    } finally {
      await finish?.(landed);
    }
  }

  private writeOptions(): { ttlSeconds?: number } {
    return this.def.ttlSeconds ? { ttlSeconds: this.def.ttlSeconds } : {};
  }

  /**
   * Read-modify-write with compare-and-swap, retried on conflicts unless the caller pinned a
   * resourceVersion (upstream GuaranteedUpdate). `update` returns the desired object.
   */
  async update(namespace: string, name: string, update: UpdateFunc, ctx: RequestContext, opts: UpdateOptions = {}): Promise<{ object: KubeObject; created: boolean }> {
    const key = this.key(namespace, name);
    // What the store is known to hold after a failed try (the check of a cached copy, or a
    // Conflict's answer): the next try starts from it instead of reading it again.
    let read: { readonly kv: KeyValue | undefined } | undefined;
    /** Whether the store moved past the cached copy; keeps what it read for the next try. */
    const storeMovedPast = async (revision: number): Promise<boolean> => {
      read = await this.deps.store.get(key);
      return read.kv?.modRevision !== revision;
    };
    for (let attempt = 0; ; attempt++) {
      // As upstream's GuaranteedUpdate with the cacher's copy: the first try works on the watch
      // cache's object (no store read, no parse), or on this server's own later write of it that
      // the cache has not applied yet, and writes only if the store still holds that revision;
      // whatever fails on it is checked against the store before it counts.
      const cached = attempt === 0 ? this.deps.cache.forUpdate(key) : undefined;
      let current: KubeObject | undefined;
      let revision = 0;
      if (cached) {
        current = this.fromStored(cached.object);
        revision = cached.revision;
      } else {
        const { kv } = read ?? (await this.deps.store.get(key));
        read = undefined;
        current = kv ? this.decode(kv) : undefined;
        revision = kv?.modRevision ?? 0;
      }
      try {
        if (opts.uid && opts.uid !== (current?.metadata?.uid ?? "")) throw this.preconditionFailed(key, name, `UID in precondition: ${opts.uid}, UID in object meta: ${current?.metadata?.uid ?? ""}`);
        if (opts.resourceVersion && current && opts.resourceVersion !== String(revision)) throw this.preconditionFailed(key, name, `ResourceVersion in precondition: ${opts.resourceVersion}, ResourceVersion in object meta: ${revision}`);
        // Stored objects are plain JSON: a JSON copy is several times cheaper than structuredClone.
        const desired = await update(current && !opts.replace ? (opts.borrow ? current : clone(current as JsonObject)) : undefined);
        if (!current) {
          if (!(this.def.strategy.allowCreateOnUpdate || opts.forceAllowCreate) || opts.subresource === "status") throw this.notFound(name);
          metaOf(desired).name ??= name;
          return { object: await this.create(desired, ctx), created: true };
        }
        const object = await this.writeUpdate(key, desired, current, revision, ctx, opts);
        // A no-op answers with the object as it is, which a cached copy must prove it still is.
        if (object === current && cached && (await storeMovedPast(cached.revision))) continue;
        return { object, created: false };
      } catch (err) {
        // The store's Conflict on this key carries what it holds now (etcd's else-branch read):
        // the next try starts from that, as upstream's does from the transaction's answer.
        if (isStorageError(err, "Conflict") && err.details.key === key && err.details.current) read = { kv: err.details.current };
        // A failure on the cached copy is the stored object's only if that copy was current (a
        // Conflict says it was not).
        if (cached && (isStorageError(err, "Conflict") || (await storeMovedPast(cached.revision)))) continue;
        if (isStorageError(err, "Conflict") && !opts.requireResourceVersion && attempt < MAX_CONFLICT_RETRIES) continue;
        if (isStorageError(err, "AlreadyExists") && attempt < MAX_CREATE_RACE_RETRIES) continue;
        throw this.storageError(err, name);
      }
    }
  }

  /** The storage layer's precondition failure, as upstream words it (the key is the storage key). */
  private preconditionFailed(key: string, name: string, what: string): status.StatusError {
    return status.conflict(this.qualified, name, `StorageError: invalid object, Code: 4, Key: ${key}, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: ${what}`);
  }

  private async writeUpdate(key: string, obj: KubeObject, old: KubeObject, oldRevision: number, ctx: RequestContext, opts: UpdateOptions): Promise<KubeObject> {
    const name = old.metadata?.name ?? "";
    const meta = metaOf(obj);
    const oldMeta = old.metadata ?? {};
    // A uid the request carries stays, to fail validation as immutable when it is not the
    // stored one (upstream's BeforeUpdate fills in the stored uid only when none is given);
    // status strategies keep the request's metadata for this check too.
    const requestedUid = meta.uid;
    if (meta.name !== undefined && meta.name !== name) {
      throw status.badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`);
    }
    if (this.def.namespaced && meta.namespace && meta.namespace !== oldMeta.namespace) {
      throw status.badRequest("the namespace of the provided object does not match the namespace sent on the request");
    }
    // Optimistic concurrency: a resourceVersion in the body must be the stored one.
    if (meta.resourceVersion) {
      if (meta.resourceVersion !== oldMeta.resourceVersion) throw status.modifiedConflict(this.qualified, name);
    } else if (opts.requireResourceVersion || !(this.def.strategy.allowUnconditionalUpdate ?? true)) {
      throw status.invalid(this.def.group, this.def.kind, name, [
        { text: "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update", cause: { reason: "FieldValueInvalid", message: "Invalid value: 0x0: must be specified for an update", field: "metadata.resourceVersion" } },
      ]);
    }
    const sctx = this.strategyContext(ctx);
    const subresource = opts.subresource ?? "";
    // A binding is the server's own change of a stored, hence already defaulted, pod (upstream's
    // BindingREST writes it without the update path's defaulting). A /status patch hands over an
    // object sharing the stored one's frozen parts: defaults write only what they change, which
    // on a stored (hence defaulted) part is nothing (resources/defaults.test.ts checks each kind).
    if (subresource !== "binding") this.def.strategy.defaults?.(obj);
    const subresourceWrite = subresource === "" ? undefined : this.def.strategy.subresourceWrites?.[subresource];
    if (subresourceWrite) {
      // Only the part the subresource owns changes; the rest, status included, is the stored object's.
      obj = subresourceWrite.prepare(obj, old);
    } else if (subresource === "status") {
      // Only status changes through /status: everything else is taken from the stored object.
      // Annotations may change with status (the Deployment controller records its revision
      // there); labels and everything else in metadata stay (upstream's status strategies).
      // What is taken from `old` is shared, not copied: only metadata (copied below) and the
      // status fields (the request's) are the write's own. `old` may be the watch cache's
      // frozen copy, so a later step that changed a shared part in place would fail loudly;
      // none does on /status (admission plugins leave subresources alone, validation reads).
      const annotations = obj.metadata?.annotations;
      const merged = { ...old } as KubeObject;
      merged.metadata = { ...old.metadata };
      if (annotations === undefined) delete merged.metadata.annotations;
      else merged.metadata.annotations = annotations;
      for (const f of this.statusFields) {
        if (obj[f] === undefined) delete merged[f];
        else merged[f] = obj[f];
      }
      obj = merged;
    } else if (subresource !== "binding") {
      // A binding sets spec.nodeName and the PodScheduled condition together; everything else keeps status.
      for (const f of this.statusFields) {
        if (old[f] === undefined) delete obj[f];
        else obj[f] = clone(old[f] as JsonObject);
      }
    }
    // Metadata is always the write's own (a borrowing update function may hand back the
    // stored object's).
    const newMeta = { ...obj.metadata };
    obj.metadata = newMeta;
    // System fields are not the client's to change.
    newMeta.name = name;
    if (this.def.namespaced) newMeta.namespace = oldMeta.namespace;
    newMeta.uid = requestedUid || oldMeta.uid;
    newMeta.creationTimestamp = oldMeta.creationTimestamp;
    newMeta.resourceVersion = oldMeta.resourceVersion;
    if (oldMeta.deletionTimestamp) {
      newMeta.deletionTimestamp = oldMeta.deletionTimestamp;
      if (oldMeta.deletionGracePeriodSeconds !== undefined) newMeta.deletionGracePeriodSeconds = oldMeta.deletionGracePeriodSeconds;
    } else {
      delete newMeta.deletionTimestamp;
      delete newMeta.deletionGracePeriodSeconds;
    }
    if (this.tracksGeneration()) {
      newMeta.generation = oldMeta.generation ?? 1;
      if (subresource !== "status" && specChanged(obj, old, this.def.strategy.specFields, this.statusFields)) newMeta.generation += 1;
    } else delete newMeta.generation;

    // Before mutating admission, as upstream's update handler orders its object transformers.
    if (ctx.fieldManager !== undefined && this.deps.trackManagedFields) obj = this.deps.trackManagedFields(this.def, old, obj, ctx.fieldManager, subresource, ctx.now);
    await this.admit("UPDATE", obj, old, ctx, name, subresource);
    // prepareForUpdate guards the main resource; /finalize exists to change what it guards.
    if (subresource === "" || subresource === "scale") this.def.strategy.prepareForUpdate?.(obj, old, sctx);
    const errs = this.validateUpdateOf(subresource, subresourceWrite, obj, old, sctx);
    this.validateOrThrow(name, errs.length === 0 && metaOf(obj).uid !== oldMeta.uid ? validateImmutableField(metaOf(obj).uid, oldMeta.uid, UID_PATH) : errs);
    await this.admitValidate("UPDATE", obj, old, ctx, name, subresource);

    // Hooks guard the main resource, like prepareForUpdate.
    const finish = subresource === "" || subresource === "scale" ? await this.deps.hooks?.beginUpdate?.(obj, old, ctx) : undefined;
    let landed = false;
    try {
      const written = await this.writeUpdated(key, obj, old, oldRevision, ctx);
      landed = true;
      return written;
    } finally {
      await finish?.(landed);
    }
  }

  /** The validation of an update through `subresource`. */
  private validateUpdateOf(subresource: string, subresourceWrite: SubresourceWrite | undefined, obj: KubeObject, old: KubeObject, sctx: StrategyContext): readonly FieldError[] {
    const strategy = this.def.strategy;
    if (subresourceWrite) return subresourceWrite.validate(obj, old, sctx);
    // A binding is the server's own write (upstream's BindingREST): pod update validation, which
    // forbids changing spec.nodeName, does not apply to it.
    if (subresource === "binding") return [];
    if (subresource === "status" && strategy.validateStatusUpdate) return strategy.validateStatusUpdate(obj, old, sctx);
    return strategy.validateUpdate?.(obj, old, sctx) ?? [];
  }

  private async writeUpdated(key: string, obj: KubeObject, old: KubeObject, oldRevision: number, ctx: RequestContext): Promise<KubeObject> {
    // A no-op update writes nothing, not even new managedFields timestamps (as upstream).
    if (equalIgnoringManagedFields(obj, old)) return old;
    if (ctx.dryRun) return obj;
    // Once every finalizer is gone from an object being deleted, the update completes the deletion.
    const m = metaOf(obj);
    if (m.deletionTimestamp && (m.finalizers ?? []).length === 0 && (m.deletionGracePeriodSeconds ?? 0) === 0 && !this.def.strategy.deletionBlocked?.(obj)) {
      const { revision } = await this.deps.store.delete(key, oldRevision);
      const gone = { ...obj, metadata: { ...m, resourceVersion: String(revision) } };
      await this.deps.hooks?.afterDelete?.(gone, ctx);
      return gone;
    }
    const kv = await this.deps.store.update(key, this.encode(obj, key), oldRevision, this.writeOptions());
    return this.written(obj, kv);
  }

  async delete(namespace: string, name: string, options: DeleteOptions, ctx: RequestContext): Promise<DeleteResult> {
    const key = this.key(namespace, name);
    for (let attempt = 0; ; attempt++) {
      const { kv } = await this.deps.store.get(key);
      if (!kv) throw this.notFound(name);
      const current = this.decode(kv);
      const meta = current.metadata ?? {};
      const pre = options.preconditions;
      if (pre?.uid && pre.uid !== meta.uid) {
        throw status.conflict(this.qualified, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${meta.uid ?? ""}`);
      }
      if (pre?.resourceVersion && pre.resourceVersion !== meta.resourceVersion) {
        throw status.conflict(this.qualified, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${meta.resourceVersion ?? ""}`);
      }
      await this.admitValidate("DELETE", undefined, current, ctx, name);
      try {
        const result = await this.deleteOnce(key, current, kv, options, ctx);
        return result;
      } catch (err) {
        if (isStorageError(err, "Conflict") && attempt < MAX_CONFLICT_RETRIES) continue;
        if (isStorageError(err, "NotFound")) throw this.notFound(name);
        throw this.storageError(err, name);
      }
    }
  }

  private async deleteOnce(key: string, current: KubeObject, kv: KeyValue, options: DeleteOptions, ctx: RequestContext): Promise<DeleteResult> {
    const next = clone(current as JsonObject) as KubeObject;
    const meta = metaOf(next);
    const finalizers = new Set(meta.finalizers ?? []);
    // Propagation is recorded as finalizers for the garbage collector (upstream deletionFinalizersForGarbageCollection).
    const policy = options.propagationPolicy ?? (options.orphanDependents === true ? "Orphan" : options.orphanDependents === false ? "Background" : undefined);
    if (policy === "Orphan") {
      finalizers.add(ORPHAN);
      finalizers.delete(FOREGROUND);
    } else if (policy === "Foreground") {
      finalizers.add(FOREGROUND);
      finalizers.delete(ORPHAN);
    } else if (policy === "Background") {
      finalizers.delete(ORPHAN);
      finalizers.delete(FOREGROUND);
    }
    const grace = this.def.strategy.gracePeriodSeconds?.(current, options.gracePeriodSeconds);
    const graceful = grace !== undefined && grace > 0;
    if (finalizers.size === 0 && !graceful && !this.def.strategy.deletionBlocked?.(current)) {
      if (ctx.dryRun) return { object: current, deleted: true };
      const { revision, prevKv } = await this.deps.store.delete(key, kv.modRevision);
      const last = this.decode(prevKv);
      metaOf(last).resourceVersion = String(revision);
      await this.deps.hooks?.afterDelete?.(last, ctx);
      return { object: last, deleted: true };
    }
    // Deletion starts: deletionTimestamp marks it; the object goes once finalizers and grace are done.
    if (meta.deletionTimestamp) {
      // Already terminating: only a shorter grace period changes anything (upstream BeforeDelete).
      const shorter = graceful && (meta.deletionGracePeriodSeconds === undefined || grace < meta.deletionGracePeriodSeconds);
      if (!shorter && sameSet(finalizers, meta.finalizers ?? [])) return { object: current, deleted: false };
      if (shorter) {
        meta.deletionGracePeriodSeconds = grace;
        meta.deletionTimestamp = rfc3339(new Date(ctx.now.getTime() + grace * 1000));
      }
    } else {
      meta.deletionTimestamp = rfc3339(new Date(ctx.now.getTime() + (graceful ? grace * 1000 : 0)));
      meta.deletionGracePeriodSeconds = graceful ? grace : 0;
    }
    meta.finalizers = [...finalizers];
    if (meta.finalizers.length === 0) delete meta.finalizers;
    this.def.strategy.prepareForDeletion?.(next);
    if (this.tracksGeneration()) meta.generation = (meta.generation ?? 1) + 1;
    if (ctx.dryRun) return { object: next, deleted: false };
    const updated = await this.deps.store.update(key, this.encode(next, key), kv.modRevision, this.writeOptions());
    return { object: this.decode(updated), deleted: false };
  }
}

function equalIgnoringManagedFields(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject): KubeObject => {
    const meta = { ...o.metadata };
    delete meta.managedFields;
    return { ...o, metadata: meta };
  };
  return jsonEqual(strip(a), strip(b));
}

function sameSet(a: ReadonlySet<string>, b: readonly string[]): boolean {
  return a.size === b.length && b.every((x) => a.has(x));
}

/** "" or absent → undefined (latest, consistent); "0" → 0 (any); "N" → N. Anything else is a 400. */
export function parseResourceVersion(rv: string | undefined): number | undefined {
  if (rv === undefined || rv === "") return undefined;
  if (!/^\d+$/.test(rv)) throw status.badRequest(`Invalid value: "${rv}": resourceVersion must be a non-negative integer`);
  const n = Number(rv);
  if (!Number.isSafeInteger(n)) throw status.badRequest(`Invalid value: "${rv}": resourceVersion is too large`);
  return n;
}
