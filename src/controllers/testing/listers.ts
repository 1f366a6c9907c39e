// Caches without a server: an Indexer (with the indexes the shared informers carry) filled
// with deep-frozen copies of the given objects, so that a controller under test reads exactly
// what it would read from an informer, and a controller that mutates a cached object throws.
import { Indexer, Lister, NAMESPACE_INDEX, NODE_NAME_INDEX, OWNER_UID_INDEX, namespaceIndexFunc, nodeNameIndexFunc, ownerUidIndexFunc, type IndexFunc } from "../../client/informer.js";
import { deepFreeze, keyOf, type DeepReadonly, type KubeObject } from "../../client/objects.js";

/** The namespace, owner-uid and node-name indexes, as on the shared informers. */
export function standardIndexers<T extends KubeObject>(): Record<string, IndexFunc<T>> {
  return {
    [NAMESPACE_INDEX]: namespaceIndexFunc as IndexFunc<T>,
    [OWNER_UID_INDEX]: ownerUidIndexFunc as IndexFunc<T>,
    [NODE_NAME_INDEX]: nodeNameIndexFunc as unknown as IndexFunc<T>,
  };
}

/** An Indexer holding frozen copies of `objs`, with the standard indexes plus `extra`. */
export function seedIndexer<T extends KubeObject>(objs: readonly T[] = [], extra: Readonly<Record<string, IndexFunc<T>>> = {}): Indexer<T> {
  const indexer = new Indexer<T>({ ...standardIndexers<T>(), ...extra });
  for (const o of objs) indexer.upsert(deepFreeze(structuredClone(o)));
  return indexer;
}

/** A Lister over seedIndexer(objs). */
export function seedLister<T extends KubeObject>(objs: readonly T[] = []): Lister<T> {
  return new Lister<T>(seedIndexer(objs));
}

/** Puts (a frozen copy of) the object into the cache, replacing one with the same key. */
export function cachePut<T extends KubeObject>(indexer: Indexer<T>, obj: T): DeepReadonly<T> {
  const frozen = deepFreeze(structuredClone(obj));
  indexer.upsert(frozen);
  return frozen;
}

export function cacheDelete<T extends KubeObject>(indexer: Indexer<T>, obj: T | DeepReadonly<T>): void {
  indexer.remove(keyOf(obj as KubeObject));
}
