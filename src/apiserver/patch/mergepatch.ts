// RFC 7386 JSON merge patch (`application/merge-patch+json`): what `kubectl label`, `annotate`,
// `scale` and client-side apply on custom resources send. Objects merge key by key, `null`
// deletes, everything else (lists included) replaces. Upstream's library (evanphx/json-patch v4)
// answers a `null` or scalar patch with 400 "Invalid JSON Patch".
import { badPatch } from "./errors.js";
import { clone, get, isObject, set, type JsonObject, type JsonValue } from "./json.js";

/** Applies `patch` (the decoded request body) to `doc`; neither argument is modified. */
export function applyMergePatch(doc: JsonValue, patch: unknown): JsonValue {
  if (Array.isArray(patch)) return pruneNulls(clone(patch as JsonValue));
  if (!isObject(patch)) throw badPatch("Invalid JSON Patch");
  if (!isObject(doc)) return pruneNulls(clone(patch));
  const out = clone(doc);
  mergeInto(out, patch);
  return out;
}

function mergeInto(target: JsonObject, patch: JsonObject): void {
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) {
      delete target[k];
      continue;
    }
    const cur = get(target, k);
    if (isObject(cur) && isObject(v)) mergeInto(cur, v);
    else set(target, k, pruneNulls(clone(v)));
  }
}

/** Drops null-valued object keys at every depth (a merge patch cannot store a null). */
export function pruneNulls<T extends JsonValue>(v: T): T {
  if (Array.isArray(v)) {
    for (const item of v) pruneNulls(item);
  } else if (isObject(v)) {
    for (const [k, item] of Object.entries(v)) {
      if (item === null) delete v[k];
      else pruneNulls(item);
    }
  }
  return v;
}
