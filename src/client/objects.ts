// The shapes every part of the client library shares: an API object, the read-only view of one
// that caches hand out, the tombstone of an object deleted while the watch was down, and the
// `namespace/name` keys that queues and caches use.
import type { ObjectMeta, OwnerReference } from "kubernetes-types/meta/v1.js";
import { ClientError } from "./errors.js";
import { freezeJson } from "../util/freeze.js";

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
 * `mutableCopy` (a deep copy).
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

/**
 * A private, mutable deep copy of a cached object: what structuredClone makes of it. Values of
 * JSON's shape (plain objects, arrays, primitives: everything a cache holds) are copied by a
 * plain walk, several times faster; anything else (a Date, a Map, a class instance, a cycle)
 * is handed to structuredClone whole. Unlike structuredClone, the walk does not keep two
 * references to one object as one: cached objects, parsed from JSON, never share any.
 */
export function mutableCopy<T>(obj: DeepReadonly<T>): T {
  try {
    return copyJson(obj, 0) as T;
  } catch (err) {
    if (err !== NOT_JSON) throw err;
    return structuredClone(obj) as T;
  }
}

const NOT_JSON = Symbol("not JSON");
/** Deeper than any real object; a walk this deep is taken for a cycle. */
const MAX_COPY_DEPTH = 512;

function copyJson(v: unknown, depth: number): unknown {
  if (typeof v !== "object" || v === null) {
    if (typeof v === "function" || typeof v === "symbol") throw NOT_JSON;
    return v;
  }
  if (depth > MAX_COPY_DEPTH) throw NOT_JSON;
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto === Array.prototype) {
    const a = v as readonly unknown[];
    const out = new Array<unknown>(a.length);
    for (let i = 0; i < a.length; i++) out[i] = copyJson(a[i], depth + 1);
    return out;
  }
  if (proto !== Object.prototype && proto !== null) throw NOT_JSON;
  const o = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k in o) out[k] = copyJson(o[k], depth + 1);
  return out;
}

/**
 * Freezes a plain JSON value in place, all the way down, and returns it as read-only. A value
 * already frozen is taken as frozen all the way down.
 */
export function deepFreeze<T>(value: T): DeepReadonly<T> {
  return freezeJson(value) as DeepReadonly<T>;
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

/** The object of a delete event, whether the watch saw it go or only a re-list noticed it gone. */
export function finalStateOf<T>(obj: DeepReadonly<T> | DeletedFinalStateUnknown<T>): DeepReadonly<T> {
  return obj instanceof DeletedFinalStateUnknown ? obj.obj : obj;
}

/**
 * The same owner reference, field by field (upstream compares controllerRefs with
 * reflect.DeepEqual); two absent ones are the same.
 */
export function sameOwnerRef(a: DeepReadonly<OwnerReference> | undefined, b: DeepReadonly<OwnerReference> | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.uid === b.uid && a.name === b.name && a.kind === b.kind && a.apiVersion === b.apiVersion && a.controller === b.controller && a.blockOwnerDeletion === b.blockOwnerDeletion;
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
