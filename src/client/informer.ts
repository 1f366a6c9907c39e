// Shared informers (client-go tools/cache/shared_informer.go): one reflector per resource
// feeds one indexed cache and any number of event handlers; listers read the cache.
//
// Cached objects are deep-frozen and typed DeepReadonly: every handler and lister sees the
// same instances, so a caller that wants to change one must copy it first (`mutableCopy`,
// a deep copy). Handlers run synchronously, in event order; they should only compute
// keys and enqueue them (STYLE.md 2). A handler that throws is logged and does not disturb
// the others.
import type { Logger } from "../util/log.js";
import type { Selector } from "../api/labels.js";
import { realClock, type Clock, type Timer } from "./clock.js";
import { ClientError } from "./errors.js";
import { DeletedFinalStateUnknown, deepFreeze, keyOf, type DeepReadonly, type KubeObject } from "./objects.js";
import { Reflector, type ListerWatcher, type ReflectorStore } from "./reflector.js";
import type { ResourceClient, RestClient, SelectorOptions } from "./rest.js";
import type { KindType } from "./resources.js";

// ---- indexer ------------------------------------------------------------------------------

/** The values an object is filed under in one index (none: not in the index). */
export type IndexFunc<T> = (obj: DeepReadonly<T>) => readonly string[];

export const NAMESPACE_INDEX = "namespace";
export const OWNER_UID_INDEX = "ownerUid";
export const NODE_NAME_INDEX = "nodeName";

/** By metadata.namespace ("" for cluster-scoped objects), as client-go's MetaNamespaceIndexFunc. */
export const namespaceIndexFunc: IndexFunc<KubeObject> = (obj) => [obj.metadata?.namespace ?? ""];

/** By the uid of each owner (metadata.ownerReferences[].uid): finds an owner's dependents. */
export const ownerUidIndexFunc: IndexFunc<KubeObject> = (obj) => (obj.metadata?.ownerReferences ?? []).map((r) => r.uid);

/** By spec.nodeName for pods; unscheduled pods are in no bucket. */
export const nodeNameIndexFunc: IndexFunc<{ spec?: { nodeName?: string } }> = (obj) => (obj.spec?.nodeName ? [obj.spec.nodeName] : []);

/** A keyed cache with secondary indexes, kept consistent on every write. */
export class Indexer<T extends KubeObject> {
  private readonly items = new Map<string, DeepReadonly<T>>();
  private readonly funcs = new Map<string, IndexFunc<T>>();
  /** index name → value → keys */
  private readonly indices = new Map<string, Map<string, Set<string>>>();

  constructor(indexers: Readonly<Record<string, IndexFunc<T>>> = {}) {
    this.addIndexers(indexers);
  }

  /** Adds indexes; existing items are filed at once. An index name may be added only once. */
  addIndexers(indexers: Readonly<Record<string, IndexFunc<T>>>): void {
    for (const [name, fn] of Object.entries(indexers)) {
      if (this.funcs.has(name)) throw new ClientError("InvalidOptions", `index ${name} already exists`);
      this.funcs.set(name, fn);
      const index = new Map<string, Set<string>>();
      this.indices.set(name, index);
      for (const [key, obj] of this.items) for (const v of fn(obj)) file(index, v, key);
    }
  }

  /** Adds or replaces the object under its key; returns the previous one. */
  upsert(obj: DeepReadonly<T>): DeepReadonly<T> | undefined {
    const key = keyOf(obj as DeepReadonly<KubeObject>);
    const old = this.items.get(key);
    this.items.set(key, obj);
    this.reindex(key, old, obj);
    return old;
  }

  /** Removes the object with this key; returns it. */
  remove(key: string): DeepReadonly<T> | undefined {
    const old = this.items.get(key);
    if (old === undefined) return undefined;
    this.items.delete(key);
    this.reindex(key, old, undefined);
    return old;
  }

  private reindex(key: string, old: DeepReadonly<T> | undefined, next: DeepReadonly<T> | undefined): void {
    for (const [name, fn] of this.funcs) {
      const index = this.indices.get(name)!;
      const before = old ? fn(old) : NO_VALUES;
      const after = next ? fn(next) : NO_VALUES;
      if (sameValues(before, after)) continue;
      for (const v of before) unfile(index, v, key);
      for (const v of after) file(index, v, key);
    }
  }

  get(key: string): DeepReadonly<T> | undefined {
    return this.items.get(key);
  }

  list(): DeepReadonly<T>[] {
    return [...this.items.values()];
  }

  listKeys(): string[] {
    return [...this.items.keys()];
  }

  get size(): number {
    return this.items.size;
  }

  /** Objects filed under `value` in index `indexName`. Throws for an unknown index. */
  byIndex(indexName: string, value: string): DeepReadonly<T>[] {
    // Straight from the set: listers call this per sync, on buckets of thousands of keys.
    const keys = this.index(indexName).get(value);
    if (!keys) return [];
    const out = new Array<DeepReadonly<T>>(keys.size);
    let i = 0;
    for (const k of keys) out[i++] = this.items.get(k)!;
    return out;
  }

  indexKeys(indexName: string, value: string): string[] {
    return [...(this.index(indexName).get(value) ?? [])];
  }

  private index(indexName: string): Map<string, Set<string>> {
    const index = this.indices.get(indexName);
    if (!index) throw new ClientError("InvalidOptions", `index ${indexName} does not exist`);
    return index;
  }

  /** The values index `indexName` currently has objects under. */
  indexValues(indexName: string): string[] {
    return [...this.index(indexName).keys()];
  }

  hasIndex(indexName: string): boolean {
    return this.indices.has(indexName);
  }
}

const NO_VALUES: readonly string[] = [];

function sameValues(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function file(index: Map<string, Set<string>>, value: string, key: string): void {
  let keys = index.get(value);
  if (!keys) index.set(value, (keys = new Set()));
  keys.add(key);
}

function unfile(index: Map<string, Set<string>>, value: string, key: string): void {
  const keys = index.get(value);
  if (!keys) return;
  keys.delete(key);
  if (keys.size === 0) index.delete(value);
}

// ---- listers ------------------------------------------------------------------------------

/** Read-only queries on an informer's cache. Results are shared: copy before changing. */
export class Lister<T extends KubeObject> {
  constructor(private readonly indexer: Indexer<T>) {}

  /** A cluster-scoped object by name, or a namespaced one by `namespace/name` key. */
  get(key: string): DeepReadonly<T> | undefined {
    return this.indexer.get(key);
  }

  /** Every cached object, or those whose labels match `selector`. */
  list(selector?: Selector): DeepReadonly<T>[] {
    return filterBy(this.indexer.list(), selector);
  }

  namespace(namespace: string): NamespaceLister<T> {
    return new NamespaceLister<T>(this.indexer, namespace);
  }
}

export class NamespaceLister<T extends KubeObject> {
  constructor(
    private readonly indexer: Indexer<T>,
    readonly namespaceName: string,
  ) {}

  get(name: string): DeepReadonly<T> | undefined {
    return this.indexer.get(`${this.namespaceName}/${name}`);
  }

  list(selector?: Selector): DeepReadonly<T>[] {
    const items = this.indexer.hasIndex(NAMESPACE_INDEX)
      ? this.indexer.byIndex(NAMESPACE_INDEX, this.namespaceName)
      : this.indexer.list().filter((o) => (o as DeepReadonly<KubeObject>).metadata?.namespace === this.namespaceName);
    return filterBy(items, selector);
  }
}

function filterBy<T extends KubeObject>(items: DeepReadonly<T>[], selector: Selector | undefined): DeepReadonly<T>[] {
  if (!selector || selector.isEmpty()) return items;
  return items.filter((o) => selector.matches((o as DeepReadonly<KubeObject>).metadata?.labels));
}

// ---- shared informer ----------------------------------------------------------------------

export interface EventHandler<T> {
  /** A new object; `isInInitialList` for objects of the first list (or already cached when the handler was added). */
  onAdd?(obj: DeepReadonly<T>, isInInitialList: boolean): void;
  /** A changed object; on resync `oldObj === newObj`. */
  onUpdate?(oldObj: DeepReadonly<T>, newObj: DeepReadonly<T>): void;
  /** A deleted object, or a tombstone when the deletion itself was missed. */
  onDelete?(obj: DeepReadonly<T> | DeletedFinalStateUnknown<T>): void;
}

export interface HandlerRegistration {
  /** Stops delivering events to the handler. */
  remove(): void;
  /** True once the handler has been told about every object of the first list. */
  hasSynced(): boolean;
}

export interface SharedInformerOptions<T extends KubeObject> {
  /** Names the informer in logs, e.g. "pods". */
  readonly name: string;
  readonly lw: ListerWatcher<T>;
  readonly log: Logger;
  readonly selectors?: SelectorOptions;
  readonly indexers?: Readonly<Record<string, IndexFunc<T>>>;
  /** Resync period for handlers added without one; 0 (default): never. */
  readonly resyncPeriodMs?: number;
  readonly clock?: Clock;
  readonly pageSize?: number;
  readonly minWatchTimeoutSeconds?: number;
  /** Applied to every object before it is cached. */
  readonly transform?: (obj: T) => T;
  /**
   * The cache holds no metadata.managedFields, which no controller reads (kube-scheduler and
   * kube-controller-manager strip them to save memory): watch events are decoded without them
   * (DecodeOptions, which costs less than parsing them) and listed objects lose them before
   * `transform`.
   */
  readonly omitManagedFields?: boolean;
}

/** Drops metadata.managedFields, which no controller reads and which is often most of an object's size. */
export function stripManagedFields<T extends KubeObject>(obj: T): T {
  if (obj.metadata?.managedFields === undefined) return obj;
  const { managedFields: _dropped, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

interface Listener<T> {
  readonly handler: EventHandler<T>;
  readonly resyncMs: number;
  timer: Timer | undefined;
  removed: boolean;
}

/** client-go's floor on resync periods: shorter ones are raised to this. */
const MIN_RESYNC_MS = 1000;

export class SharedInformer<T extends KubeObject> {
  readonly indexer: Indexer<T>;
  readonly lister: Lister<T>;
  private readonly reflector: Reflector<T>;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly listeners = new Set<Listener<T>>();
  /** `listeners` as an array, made again after a change, instead of a copy per event. */
  private listenerList: Listener<T>[] | undefined;
  private started = false;
  private running = false;
  private syncWaiters: ((synced: boolean) => void)[] = [];

  constructor(private readonly o: SharedInformerOptions<T>) {
    this.log = o.log.child({ informer: o.name });
    this.clock = o.clock ?? realClock;
    this.indexer = new Indexer<T>({ [NAMESPACE_INDEX]: namespaceIndexFunc as IndexFunc<T>, ...o.indexers });
    this.lister = new Lister<T>(this.indexer);
    const store: ReflectorStore<T> = {
      replace: (items) => this.replace(items),
      add: (obj) => this.upsert(obj),
      update: (obj) => this.upsert(obj),
      delete: (obj) => this.remove(obj),
    };
    this.reflector = new Reflector<T>({
      name: o.name,
      lw: o.omitManagedFields ? watchingWithoutManagedFields(o.lw) : o.lw,
      store,
      log: o.log,
      ...(o.selectors ? { selectors: o.selectors } : {}),
      ...(o.pageSize !== undefined ? { pageSize: o.pageSize } : {}),
      ...(o.minWatchTimeoutSeconds !== undefined ? { minWatchTimeoutSeconds: o.minWatchTimeoutSeconds } : {}),
      clock: this.clock,
    });
  }

  get name(): string {
    return this.o.name;
  }

  hasSynced(): boolean {
    return this.reflector.hasSynced();
  }

  get lastSyncResourceVersion(): string {
    return this.reflector.lastSyncResourceVersion;
  }

  /** Resolves once the first list is in the cache; false if `signal` aborts first. */
  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.hasSynced()) return Promise.resolve(true);
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = (): void => resolve(false);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.syncWaiters.push((synced) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(synced);
      });
    });
  }

  /** Adds indexes; allowed before and after start. */
  addIndexers(indexers: Readonly<Record<string, IndexFunc<T>>>): void {
    this.indexer.addIndexers(indexers);
  }

  /**
   * Adds a handler. A handler added after the cache filled is first told about every cached
   * object (onAdd with isInInitialList), as client-go does. `resyncPeriodMs` (default: the
   * informer's) redelivers every cached object as onUpdate(obj, obj) that often.
   */
  addEventHandler(handler: EventHandler<T>, opts: { readonly resyncPeriodMs?: number } = {}): HandlerRegistration {
    const period = opts.resyncPeriodMs ?? this.o.resyncPeriodMs ?? 0;
    const listener: Listener<T> = { handler, resyncMs: period > 0 ? Math.max(MIN_RESYNC_MS, period) : 0, timer: undefined, removed: false };
    this.listeners.add(listener);
    this.listenerList = undefined;
    for (const obj of this.indexer.list()) this.call(listener, "onAdd", () => handler.onAdd?.(obj, true));
    if (this.running) this.scheduleResync(listener);
    return {
      remove: () => {
        listener.removed = true;
        listener.timer?.cancel();
        this.listeners.delete(listener);
        this.listenerList = undefined;
      },
      hasSynced: () => this.hasSynced(),
    };
  }

  /** Lists and watches until `signal` aborts; resolves when stopped. Never rejects. Runs once. */
  async run(signal: AbortSignal): Promise<void> {
    if (this.started) throw new ClientError("InvalidOptions", `informer ${this.o.name} was already started`);
    this.started = true;
    this.running = true;
    for (const l of this.listeners) this.scheduleResync(l);
    try {
      await this.reflector.run(signal);
    } finally {
      this.running = false;
      for (const l of this.listeners) l.timer?.cancel();
      // Stopped before the first list: nobody will ever sync this informer now.
      const waiters = this.syncWaiters;
      this.syncWaiters = [];
      for (const w of waiters) w(this.hasSynced());
    }
  }

  get isStarted(): boolean {
    return this.started;
  }

  private scheduleResync(l: Listener<T>): void {
    if (l.resyncMs <= 0 || l.removed) return;
    l.timer = this.clock.setTimer(l.resyncMs, () => {
      if (!this.running || l.removed) return;
      if (this.hasSynced()) for (const obj of this.indexer.list()) this.call(l, "onUpdate", () => l.handler.onUpdate?.(obj, obj));
      this.scheduleResync(l);
    });
  }

  private call(l: Listener<T>, what: string, fn: () => void): void {
    if (l.removed) return;
    try {
      fn();
    } catch (err) {
      this.log.error({ err, handler: what }, "event handler threw");
    }
  }

  private notify(fn: (h: EventHandler<T>) => void, what: string): void {
    // A handler added while this runs hears from the next event on, as with a copy per event.
    const listeners = (this.listenerList ??= [...this.listeners]);
    for (const l of listeners) {
      if (l.removed) continue;
      try {
        fn(l.handler);
      } catch (err) {
        this.log.error({ err, handler: what }, "event handler threw");
      }
    }
  }

  private replace(items: T[]): void {
    const initial = !this.hasSynced();
    const seen = new Set<string>();
    for (const raw of items) {
      const obj = deepFreeze(this.transform(raw));
      const key = keyOf(obj as DeepReadonly<KubeObject>);
      seen.add(key);
      const old = this.indexer.get(key);
      if (old && rvOf(old) === rvOf(obj)) continue;
      this.indexer.upsert(obj);
      if (old) this.notify((h) => h.onUpdate?.(old, obj), "onUpdate");
      else this.notify((h) => h.onAdd?.(obj, initial), "onAdd");
    }
    for (const key of this.indexer.listKeys()) {
      if (seen.has(key)) continue;
      const old = this.indexer.remove(key)!;
      const tombstone = new DeletedFinalStateUnknown<T>(key, old);
      this.notify((h) => h.onDelete?.(tombstone), "onDelete");
    }
    if (initial) {
      // The reflector flips hasSynced right after replace returns; resolve waiters after that.
      const waiters = this.syncWaiters;
      this.syncWaiters = [];
      queueMicrotask(() => {
        for (const w of waiters) w(true);
      });
    }
  }

  private transform(raw: T): T {
    const lean = this.o.omitManagedFields ? stripManagedFields(raw) : raw;
    return this.o.transform ? this.o.transform(lean) : lean;
  }

  private upsert(raw: T): void {
    const obj = deepFreeze(this.transform(raw));
    const old = this.indexer.upsert(obj);
    if (old) this.notify((h) => h.onUpdate?.(old, obj), "onUpdate");
    else this.notify((h) => h.onAdd?.(obj, false), "onAdd");
  }

  private remove(raw: T): void {
    const obj = deepFreeze(this.transform(raw));
    const old = this.indexer.remove(keyOf(obj as DeepReadonly<KubeObject>));
    // A delete of something never seen carries no news (client-go's DeltaFIFO skips it too).
    if (old === undefined) return;
    this.notify((h) => h.onDelete?.(obj), "onDelete");
  }
}

/** `lw`, its watches decoding objects without metadata.managedFields. */
function watchingWithoutManagedFields<T extends KubeObject>(lw: ListerWatcher<T>): ListerWatcher<T> {
  return {
    list: (opts) => lw.list(opts),
    watch: (opts) => lw.watch({ ...opts, omitManagedFields: true }),
  };
}

function rvOf(obj: DeepReadonly<KubeObject> | DeepReadonly<unknown>): string | undefined {
  return (obj as DeepReadonly<KubeObject>).metadata?.resourceVersion;
}

// ---- factory ------------------------------------------------------------------------------

export interface SharedInformerFactoryOptions {
  readonly client: RestClient;
  readonly log: Logger;
  /** Watch only this namespace (default: all). */
  readonly namespace?: string;
  /** Selectors applied to every informer of the factory. */
  readonly selectors?: SelectorOptions;
  /** Default resync period of informers; 0 (default): never. */
  readonly resyncPeriodMs?: number;
  readonly clock?: Clock;
  readonly minWatchTimeoutSeconds?: number;
  /** Applied to every object of every informer before caching (see SharedInformerOptions.transform). */
  readonly transform?: (obj: KubeObject) => KubeObject;
  /** See SharedInformerOptions.omitManagedFields. */
  readonly omitManagedFields?: boolean;
}

/**
 * One informer per resource for a whole process: controllers that watch the same kind share
 * one watch and one cache. Ask for informers, then `start(signal)`; informers requested after
 * start are started by the next `start` call, as in client-go.
 */
export class SharedInformerFactory {
  private readonly informers = new Map<string, SharedInformer<KubeObject>>();
  private readonly runs = new Map<string, Promise<void>>();

  constructor(private readonly o: SharedInformerFactoryOptions) {}

  /** The shared informer of a resource client (its namespace scope is overridden by the factory's). */
  informerFor<T extends KubeObject>(rc: ResourceClient<T>): SharedInformer<T> {
    const scoped = this.o.namespace !== undefined && rc.info.namespaced ? rc.namespace(this.o.namespace) : rc;
    const { group, version, plural } = rc.info;
    const id = `${group}/${version}/${plural}@${scoped.scope ?? ""}`;
    let inf = this.informers.get(id);
    if (!inf) {
      inf = new SharedInformer<T>({
        name: group ? `${plural}.${group}` : plural,
        lw: scoped,
        log: this.o.log,
        ...(this.o.selectors ? { selectors: this.o.selectors } : {}),
        ...(this.o.resyncPeriodMs !== undefined ? { resyncPeriodMs: this.o.resyncPeriodMs } : {}),
        ...(this.o.clock ? { clock: this.o.clock } : {}),
        ...(this.o.minWatchTimeoutSeconds !== undefined ? { minWatchTimeoutSeconds: this.o.minWatchTimeoutSeconds } : {}),
        ...(this.o.transform ? { transform: this.o.transform as unknown as (obj: T) => T } : {}),
        ...(this.o.omitManagedFields !== undefined ? { omitManagedFields: this.o.omitManagedFields } : {}),
      }) as unknown as SharedInformer<KubeObject>;
      this.informers.set(id, inf);
    }
    return inf as unknown as SharedInformer<T>;
  }

  /** `factory.forKind("v1", "Pod")`: the informer of a built-in kind. */
  forKind<AV extends string, K extends string>(apiVersion: AV, kind: K): SharedInformer<KindType<AV, K>> {
    return this.informerFor(this.o.client.forKind(apiVersion, kind));
  }

  /** Starts every informer not yet started; they stop when `signal` aborts. */
  start(signal: AbortSignal): void {
    for (const [id, inf] of this.informers) {
      if (inf.isStarted) continue;
      this.runs.set(
        id,
        inf.run(signal).catch((err: unknown) => this.o.log.error({ err, informer: inf.name }, "informer stopped with an error")),
      );
    }
  }

  /** Resolves true once every started informer has synced, false if `signal` aborts first. */
  async waitForCacheSync(signal?: AbortSignal): Promise<boolean> {
    const started = [...this.informers.values()].filter((i) => i.isStarted);
    const results = await Promise.all(started.map((i) => i.waitForSync(signal)));
    return results.every(Boolean);
  }

  /** Resolves when every started informer has stopped (abort the start signal first). */
  async shutdown(): Promise<void> {
    await Promise.all(this.runs.values());
  }
}
