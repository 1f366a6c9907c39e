// The shapes every part of the client library shares: an API object, the read-only view of one
// that caches hand out, the tombstone of an object deleted while the watch was down, and the
// `namespace/name` keys that queues and caches use.
import type { ObjectMeta } from "kubernetes-types/meta/v1.js";
import { ClientError } from "./errors.js";

/** Any API object: what every kubernetes-types kind is assignable to. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

type Primitive = string | number | boolean | bigint | symbol | null | undefined;

/**
 * A recursively read-only view. Objects from informer caches are typed (and frozen) this way:
 * they are shared by every handler and lister. To change one, copy it first with
 * `mutableCopy` (a structuredClone).
 */
export type DeepReadonly<T> = T extends Primitive
  ? T
  : T extends (...args: never[]) => unknown
    ? T
    : T extends readonly (infer U)[]
      ? readonly DeepReadonly<U>[]
      : T extends ReadonlyMap<infer K, infer V>
        ? ReadonlyMap<DeepReadonly<K>, DeepReadonly<V>>
        : T extends ReadonlySet<infer U>
          ? ReadonlySet<DeepReadonly<U>>
          : { readonly [P in keyof T]: DeepReadonly<T[P]> };

/** A private, mutable deep copy of a cached object. */
export function mutableCopy<T>(obj: DeepReadonly<T>): T {
  return structuredClone(obj) as T;
}

/** Freezes a plain JSON value in place, all the way down, and returns it as read-only. */
export function deepFreeze<T>(value: T): DeepReadonly<T> {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value as DeepReadonly<T>;
}

/**
 * The last known state of an object whose deletion the informer did not see (it vanished
 * between a broken watch and the re-list). `obj` may be stale.
 */
export class DeletedFinalStateUnknown<T> {
  constructor(
    readonly key: string,
    readonly obj: DeepReadonly<T>,
  ) {}
}

/** `namespace/name` for namespaced objects, `name` for cluster-scoped ones (client-go's MetaNamespaceKeyFunc). */
export function keyOf(obj: DeepReadonly<KubeObject> | KubeObject | DeletedFinalStateUnknown<unknown>): string {
  if (obj instanceof DeletedFinalStateUnknown) return obj.key;
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? "";
  return ns ? `${ns}/${name}` : name;
}

/** The inverse of keyOf. Throws ClientError "InvalidKey" for more than one "/". */
export function splitKey(key: string): { readonly namespace: string; readonly name: string } {
  const parts = key.split("/");
  if (parts.length === 1) return { namespace: "", name: parts[0]! };
  if (parts.length === 2) return { namespace: parts[0]!, name: parts[1]! };
  throw new ClientError("InvalidKey", `unexpected key format: ${JSON.stringify(key)}`);
}
