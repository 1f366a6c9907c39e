// Small helpers for reading and defaulting JSON objects whose shape is not yet validated: every
// defaulting and printing function runs on client input, so each access is guarded and a
// field of the wrong type is left for validation to report instead of throwing here.
import { jsonEqual } from "../../util/json.js";
import type { KubeObject } from "../registry/types.js";

export type Json = Record<string, unknown>;

export function isObj(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The object at `v`, or undefined when it is absent or not an object. */
export function asObj(v: unknown): Json | undefined {
  return isObj(v) ? v : undefined;
}

export function asArr(v: unknown): unknown[] | undefined {
  return Array.isArray(v) ? v : undefined;
}

/** The objects of an array field (non-objects skipped). */
export function objs(v: unknown): Json[] {
  return Array.isArray(v) ? v.filter(isObj) : [];
}

export function asStr(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

export function asNum(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

export function asBool(v: unknown): boolean | undefined {
  return typeof v === "boolean" ? v : undefined;
}

/** The string-valued entries of a map field. */
export function strMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObj(v)) return out;
  for (const [k, x] of Object.entries(v)) if (typeof x === "string") out[k] = x;
  return out;
}

/**
 * The child object `key` of `parent`, created empty when missing or null. Returns undefined
 * when the field holds something else, so defaulting leaves it for validation.
 */
export function child(parent: Json, key: string): Json | undefined {
  const v = parent[key];
  if (v === undefined || v === null) {
    const o: Json = {};
    parent[key] = o;
    return o;
  }
  return isObj(v) ? v : undefined;
}

/**
 * Sets `parent[key]` to `value` unless it already holds an equal value. Defaulting also runs
 * over stored objects, whose parts a /status write shares frozen with the watch cache: a
 * defaulter writes only what it changes.
 */
export function setValue(parent: Json, key: string, value: unknown): void {
  if (!jsonEqual(parent[key], value)) parent[key] = value;
}

/** Sets `parent[key]` to `value` when it is unset (undefined, null; "" too with `emptyToo`). */
export function setDefault(parent: Json, key: string, value: unknown, emptyToo = false): void {
  const v = parent[key];
  if (v === undefined || v === null || (emptyToo && v === "")) parent[key] = value;
}

/** Reads a nested value along a path of keys; undefined when any step is missing. */
export function dig(root: unknown, ...path: (string | number)[]): unknown {
  let cur: unknown = root;
  for (const p of path) {
    if (typeof p === "number") {
      if (!Array.isArray(cur)) return undefined;
      cur = cur[p];
    } else {
      if (!isObj(cur)) return undefined;
      cur = cur[p];
    }
  }
  return cur;
}

export function meta(obj: KubeObject): Json {
  return asObj(obj.metadata) ?? {};
}

/** The object's name ("" when unset), for printing. */
export function nameOf(obj: Readonly<KubeObject>): string {
  return asStr(asObj(obj.metadata)?.name) ?? "";
}

export function creationOf(obj: Readonly<KubeObject>): string | undefined {
  return asStr(asObj(obj.metadata)?.creationTimestamp);
}

export function deletionOf(obj: Readonly<KubeObject>): string | undefined {
  return asStr(asObj(obj.metadata)?.deletionTimestamp);
}

export { jsonEqual };

export function clone<T>(v: T): T {
  return structuredClone(v);
}

/** Drops status on create: the status a client sends is not the object's status. */
export function resetStatus(obj: KubeObject, status: Json = {}): void {
  obj.status = status;
}

/** Keeps the stored status on a write to the main resource. */
export function keepStatus(obj: KubeObject, old: KubeObject, field = "status"): void {
  if (old[field] === undefined) delete obj[field];
  else obj[field] = clone(old[field]);
}
