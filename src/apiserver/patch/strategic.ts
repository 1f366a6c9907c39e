// Strategic merge patch (`application/strategic-merge-patch+json`), applied the way upstream's
// server does (apimachinery pkg/util/strategicpatch, StrategicMergeMapPatch): maps merge and
// `null` deletes; a list whose schema says `x-kubernetes-patch-strategy: merge` merges by its
// `x-kubernetes-patch-merge-key` (or, for primitives, as a union); every other list replaces.
// Directives: `$patch: replace|delete` on maps, `$patch: replace|delete` items in merging lists,
// `$retainKeys`, `$deleteFromPrimitiveList/<f>` and `$setElementOrder/<f>`. kubectl's
// client-side apply, edit, patch, set image and rollout all send these.
//
// Merged lists are ordered as upstream orders them (the client relies on it to keep the user's
// order): `$setElementOrder` first, then patch order for patched items, then live order for items
// only the server has. Fields without a schema (no such property, preserve-unknown-fields) merge
// like a JSON merge patch: maps merge, lists replace.
import { PatchError, badDirective, badPatch, invalidStrategic, strategicFailed } from "./errors.js";
import { clone, get, goFormat, goTypeName, has, isObject, set, type JsonObject, type JsonValue } from "./json.js";
import { jsonEqual } from "../../util/json.js";
import type { PatchSchema } from "./schema.js";

const directiveMarker = "$patch";
const retainKeysDirective = "$retainKeys";
const deleteFromPrimitiveListPrefix = "$deleteFromPrimitiveList";
const setElementOrderPrefix = "$setElementOrder";

export interface StrategicMergeOptions {
  /**
   * The result may share with `original` what the patch leaves alone (maps and lists it does
   * not change are the original's, not copies): for callers that change none of it, such as
   * a /status write that keeps only the status it patched.
   */
  readonly share?: boolean;
}

/**
 * Applies a strategic merge patch (the decoded request body) to `original` using `schema` for the
 * patch strategies and merge keys. Neither argument is modified. Throws PatchError with the
 * status upstream answers.
 */
export function applyStrategicMergePatch(original: JsonValue, patch: unknown, schema: PatchSchema | undefined, opts: StrategicMergeOptions = {}): JsonObject {
  if (!isObject(original)) throw strategicFailed("invalid JSON document");
  // Upstream decodes the body into a Go map: `null` decodes to an empty patch, anything else that
  // is not an object is a decoding error.
  if (patch === null) return clone(original);
  if (!isObject(patch)) throw badPatch(`json: cannot unmarshal ${jsonKind(patch)} into Go value of type map[string]interface {}`);
  // mergeMap copies every map it changes; lists are built anew. So the result is the caller's
  // own wherever the patch reached, and the original's elsewhere unless it was copied first.
  return mergeMap(opts.share ? original : clone(original), clone(patch), schema);
}

type Kind = "null" | "object" | "array" | "string" | "number" | "boolean";

function kindOf(v: JsonValue): Kind {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v as "object" | "string" | "number" | "boolean";
}

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return "array";
  return typeof v === "boolean" ? "bool" : typeof v;
}

/** The schema of field `key` of an object (or of a map's values). */
function fieldSchema(schema: PatchSchema | undefined, key: string): PatchSchema | undefined {
  if (schema === undefined) return undefined;
  return schema.property(key) ?? schema.additionalProperties();
}

/** The list/map strategy of a field, with `retainKeys` (a directive the patch carries) set aside. */
function strategyOf(field: PatchSchema | undefined): string {
  const raw = field?.patchStrategy;
  if (raw === undefined || raw === "") return "";
  const parts = raw.split(",");
  if (parts.length === 1) return parts[0] === "retainKeys" ? "" : (parts[0] ?? "");
  if (parts.length === 2) {
    if (parts[0] === "retainKeys") return parts[1] ?? "";
    if (parts[1] === "retainKeys") return parts[0] ?? "";
  }
  throw strategicFailed(`unexpected patch strategy: [${parts.join(" ")}]`);
}

const noMergeKey = (m: JsonValue, key: string): PatchError =>
  strategicFailed(`map: ${goFormat(m)} does not contain declared merge key: ${key}`);

const badArgType = (expected: string, actual: JsonValue | undefined): PatchError =>
  strategicFailed(`expected a ${expected}, but received a ${goTypeName(actual)}`);

function mergeMap(from: JsonObject, patch: JsonObject, schema: PatchSchema | undefined): JsonObject {
  if (has(patch, directiveMarker)) return mapDirective(patch);
  // A copy of the top level, changed below; what it holds is copied in turn where it changes.
  const original: JsonObject = { ...from };
  applyRetainKeys(original, patch);
  mergeOrderedLists(original, patch, schema);

  for (const key of Object.keys(patch)) {
    const patchV = patch[key] as JsonValue;
    let k = key;
    let isDeleteList = false;
    if (key.startsWith(deleteFromPrimitiveListPrefix)) {
      k = extractKey(key, deleteFromPrimitiveListPrefix);
      isDeleteList = true;
    }
    if (patchV === null) {
      delete original[k];
      continue;
    }
    const origV = get(original, k);
    if (origV === undefined || kindOf(origV) !== kindOf(patchV)) {
      // A deletion list for a list that is not there deletes nothing.
      if (!isDeleteList) setSanitized(original, k, patchV);
      continue;
    }
    if (isObject(origV) && isObject(patchV)) {
      const field = fieldSchema(schema, k);
      if (strategyOf(field) === "replace") setSanitized(original, k, patchV);
      else set(original, k, mergeMap(origV, patchV, field));
    } else if (Array.isArray(origV) && Array.isArray(patchV)) {
      const field = fieldSchema(schema, k);
      set(original, k, mergeListField(origV, patchV, field, isDeleteList));
    } else {
      set(original, k, patchV);
    }
  }
  return original;
}

/** `$patch` on a map: `replace` keeps only the patch's own content, `delete` empties the map. */
function mapDirective(patch: JsonObject): JsonObject {
  const directive = patch[directiveMarker];
  if (directive === "replace") {
    delete patch[directiveMarker];
    return sanitizeMap(patch);
  }
  if (directive === "delete") return {};
  throw strategicFailed(`unknown patch type: ${goFormat(directive)} in map: ${goFormat(patch)}`);
}

function extractKey(key: string, prefix: string): string {
  const slash = key.indexOf("/");
  if (slash < 0 || key.slice(0, slash) !== prefix) {
    throw badDirective(prefix === deleteFromPrimitiveListPrefix ? "invalid patch format of primitive list" : "invalid patch format of setElementOrder list");
  }
  return key.slice(slash + 1);
}

/**
 * `$retainKeys: [...]` (fields with `retainKeys` strategy such as Deployment `spec.strategy` and
 * volumes): live keys not listed are cleared, and the patch may only set listed keys.
 */
function applyRetainKeys(original: JsonObject, patch: JsonObject): void {
  if (!has(patch, retainKeysDirective)) return;
  const list = patch[retainKeysDirective];
  delete patch[retainKeysDirective];
  if (!Array.isArray(list)) throw badDirective("invalid patch format of retainKeys");
  const keep = new Set<JsonValue>(list);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(deleteFromPrimitiveListPrefix) || k.startsWith(setElementOrderPrefix)) continue;
    if (!keep.has(k)) throw badDirective("invalid patch format of retainKeys");
  }
  for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
}

/**
 * Handles every `$setElementOrder/<f>` of the patch together with the patch's `<f>`: merges the
 * list, then orders it by the directive (items only the server has keep their live neighbours).
 */
function mergeOrderedLists(original: JsonObject, patch: JsonObject, schema: PatchSchema | undefined): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(setElementOrderPrefix)) continue;
    const order = patch[key] as JsonValue;
    delete patch[key];
    if (!Array.isArray(order)) throw badArgType("[]interface {}", order);
    const listKey = extractKey(key, setElementOrderPrefix);
    const origV = get(original, listKey);
    const patchV = get(patch, listKey);
    if (origV !== undefined && !Array.isArray(origV)) throw badArgType("[]interface {}", origV);
    if (patchV !== undefined && !Array.isArray(patchV)) throw badArgType("[]interface {}", patchV);
    const field = fieldSchema(schema, listKey);
    const mergeKey = field?.patchMergeKey ?? "";
    validateOrder(patchV ?? [], order, mergeKey);

    let merged: JsonValue[];
    if (origV !== undefined && patchV !== undefined) merged = mergeListField(origV, patchV, field, false);
    else if (origV !== undefined) merged = origV;
    else if (patchV !== undefined) merged = sanitizeList(patchV);
    else continue;
    delete patch[listKey];

    const kind = merged.length === 0 ? undefined : elementKind(origV ?? [], patchV ?? []);
    // Upstream cannot order lists of maps that have no merge key (it would panic); they stay as merged.
    if (kind === undefined || (kind === "object" && mergeKey === "")) {
      set(original, listKey, merged);
      continue;
    }
    const [patchItems, serverOnly] = partition(merged, order, mergeKey);
    set(original, listKey, normalizeElementOrder(patchItems, serverOnly, order, origV ?? [], mergeKey, kind));
  }
}

/** The items of the patch list must appear in `$setElementOrder` in the same relative order. */
function validateOrder(patchList: JsonValue[], order: JsonValue[], mergeKey: string): void {
  if (order.length === 0 || patchList.length === 0) return;
  const nonDelete = mergeKey === "" ? patchList : splitDeletes(patchList)[0];
  let pi = 0;
  let oi = 0;
  while (pi < nonDelete.length && oi < order.length) {
    const item = nonDelete[pi] as JsonValue;
    if (isObject(item) && has(item, directiveMarker)) {
      pi++;
      continue;
    }
    if (mergeKeyValueEqual(item, order[oi] as JsonValue, mergeKey)) pi++;
    oi++;
  }
  if (pi < nonDelete.length && oi >= order.length) {
    throw strategicFailed(`The order in patch list:\n${goFormat(patchList)}\n doesn't match ${setElementOrderPrefix} list:\n${goFormat(order)}\n`);
  }
}

function mergeKeyValueEqual(left: JsonValue, right: JsonValue, mergeKey: string): boolean {
  if (mergeKey === "") return jsonEqual(left, right);
  if (!isObject(left)) throw badArgType("map[string]interface {}", left);
  if (!isObject(right)) throw badArgType("map[string]interface {}", right);
  if (!has(left, mergeKey)) throw noMergeKey(left, mergeKey);
  if (!has(right, mergeKey)) throw noMergeKey(right, mergeKey);
  return jsonEqual(left[mergeKey], right[mergeKey]);
}

/** Splits a patch list of maps into its items and its `$patch: delete` items. */
function splitDeletes(list: JsonValue[]): [JsonValue[], JsonValue[]] {
  const keep: JsonValue[] = [];
  const del: JsonValue[] = [];
  for (const v of list) {
    if (!isObject(v)) throw badArgType("map[string]interface {}", v);
    if (v[directiveMarker] === "delete") del.push(v);
    else keep.push(v);
  }
  return [keep, del];
}

function mergeListField(origV: JsonValue[], patchV: JsonValue[], field: PatchSchema | undefined, isDeleteList: boolean): JsonValue[] {
  // Deletion lists apply whatever the field's strategy is.
  if (strategyOf(field) === "merge" || isDeleteList) return mergeList(origV, patchV, field?.items(), field?.patchMergeKey ?? "", isDeleteList);
  return sanitizeList(patchV);
}

function mergeList(original: JsonValue[], patch: JsonValue[], items: PatchSchema | undefined, mergeKey: string, isDeleteList: boolean): JsonValue[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = elementKind(original, patch);
  let merged: JsonValue[];
  if (kind !== "object") {
    if (isDeleteList) return original.filter((v) => !patch.some((d) => jsonEqual(d, v)));
    merged = dedupe([...original, ...patch]);
  } else {
    if (mergeKey === "") throw strategicFailed("cannot merge lists without merge key for struct");
    [original, patch] = applyListDirectives(original, patch, mergeKey);
    merged = mergeByKey(original, patch, mergeKey, items);
  }
  const [patchItems, serverOnly] = partition(merged, patch, mergeKey);
  return normalizeElementOrder(patchItems, serverOnly, patch, original, mergeKey, kind);
}

/** The one kind every element of the lists has; lists of lists are not supported. */
function elementKind(...lists: JsonValue[][]): Kind {
  let kind: Kind | undefined;
  for (const list of lists) {
    for (const v of list) {
      const k = kindOf(v);
      if (kind === undefined) {
        if (k === "array") throw invalidStrategic("lists of lists are not supported");
        kind = k;
      } else if (k !== kind) {
        throw strategicFailed(`list element types are not identical: ${goFormat(lists)}`);
      }
    }
  }
  if (kind === undefined) throw strategicFailed("no elements in any of the given slices");
  return kind;
}

/**
 * Removes duplicates the way upstream does (each duplicate is overwritten by the last element),
 * so the union of two primitive lists has upstream's order before it is normalized.
 */
function dedupe(s: JsonValue[]): JsonValue[] {
  let last = s.length - 1;
  for (let i = 0; i < last; i++) {
    for (let j = i + 1; j <= last; j++) {
      if (jsonEqual(s[i], s[j])) {
        s[j] = s[last] as JsonValue;
        s.length = last;
        last--;
        j--;
      }
    }
  }
  return s;
}

/** `$patch: delete|replace` items of a merging list of maps. */
function applyListDirectives(original: JsonValue[], patch: JsonValue[], mergeKey: string): [JsonValue[], JsonValue[]] {
  const rest: JsonValue[] = [];
  let replace = false;
  for (const v of patch) {
    const item = v as JsonObject;
    if (!has(item, directiveMarker)) {
      rest.push(item);
      continue;
    }
    const directive = item[directiveMarker];
    if (directive === "delete") {
      if (!has(item, mergeKey)) throw noMergeKey(item, mergeKey);
      const value = item[mergeKey];
      original = original.filter((o) => !(isObject(o) && has(o, mergeKey) && jsonEqual(o[mergeKey], value)));
    } else if (directive === "replace") {
      replace = true;
    } else if (directive === "merge") {
      throw strategicFailed("merging lists cannot yet be specified in the patch");
    } else {
      throw strategicFailed(`unknown patch type: ${goFormat(directive)} in map: ${goFormat(item)}`);
    }
  }
  if (replace) return [sanitizeList(rest), []];
  return [original, rest];
}

/** Merges each patch item into the live item with the same merge key, or appends it. */
function mergeByKey(original: JsonValue[], patch: JsonValue[], mergeKey: string, items: PatchSchema | undefined): JsonValue[] {
  const merged = [...original];
  for (const v of patch) {
    const item = v as JsonObject;
    if (!has(item, mergeKey)) throw noMergeKey(item, mergeKey);
    const value = item[mergeKey];
    // Later patch items with the same key merge into earlier ones, as upstream's in-place append does.
    const idx = merged.findIndex((o) => isObject(o) && has(o, mergeKey) && jsonEqual(o[mergeKey], value));
    if (idx >= 0) merged[idx] = mergeMap(merged[idx] as JsonObject, item, items);
    else merged.push(sanitizeMap(item));
  }
  return merged;
}

/** Splits `merged` into the items present in `by` (by merge key for maps) and the rest. */
function partition(merged: JsonValue[], by: JsonValue[], mergeKey: string): [JsonValue[], JsonValue[]] {
  const inBy: JsonValue[] = [];
  const rest: JsonValue[] = [];
  if (mergeKey === "") {
    const lookup = new Lookup(by, undefined);
    for (const v of merged) (lookup.index(v) >= 0 ? inBy : rest).push(v);
    return [inBy, rest];
  }
  by.forEach((b, i) => {
    if (!isObject(b)) throw strategicFailed(`value for key ${i} is not a map`);
  });
  const lookup = new Lookup(by, mergeKey, true);
  for (const v of merged) {
    if (!isObject(v)) throw badArgType("map[string]interface {}", v);
    if (!has(v, mergeKey)) throw noMergeKey(v, mergeKey);
    (lookup.index(v) >= 0 ? inBy : rest).push(v);
  }
  return [inBy, rest];
}

/**
 * Orders a merged list: patch items sorted by `patchOrder`, server-only items sorted by
 * `serverOrder`, then the two interleaved so that server-only items keep their place relative to
 * the patched items they preceded in the live list.
 */
function normalizeElementOrder(
  patchItems: JsonValue[],
  serverOnly: JsonValue[],
  patchOrder: JsonValue[],
  serverOrder: JsonValue[],
  mergeKey: string,
  kind: Kind,
): JsonValue[] {
  const sortedPatch = sortByOrder(patchItems, patchOrder, mergeKey, kind);
  const sortedServer = sortByOrder(serverOnly, serverOrder, mergeKey, kind);
  const live = new Lookup(serverOrder, kind === "object" ? mergeKey : undefined);
  const out: JsonValue[] = [];
  let i = 0;
  let j = 0;
  while (i < sortedServer.length || j < sortedPatch.length) {
    if (i >= sortedServer.length) out.push(sortedPatch[j++] as JsonValue);
    else if (j >= sortedPatch.length) out.push(sortedServer[i++] as JsonValue);
    else {
      const li = live.index(sortedServer[i] as JsonValue);
      const ri = live.index(sortedPatch[j] as JsonValue);
      if (li >= 0 && ri >= 0 && li < ri) out.push(sortedServer[i++] as JsonValue);
      else out.push(sortedPatch[j++] as JsonValue);
    }
  }
  return out;
}

function sortByOrder(toSort: JsonValue[], order: JsonValue[], mergeKey: string, kind: Kind): JsonValue[] {
  let deletes: JsonValue[] = [];
  if (kind === "object") {
    for (const list of [toSort, order]) {
      for (const v of list) {
        if (!isObject(v)) throw badArgType("map[string]interface {}", v);
        if (!has(v, mergeKey)) throw noMergeKey(v, mergeKey);
      }
    }
    [toSort, deletes] = splitDeletes(toSort);
  }
  const lookup = new Lookup(order, kind === "object" ? mergeKey : undefined);
  const keyed = toSort.map((v) => ({ v, at: lookup.index(v) }));
  // Upstream sorts with a "less" that is true whenever either item is missing from the order.
  // For the short lists real objects have, run the same stable insertion sort so such items land
  // where upstream puts them; long lists (where every item is found in practice) use a stable sort.
  const less = (a: { at: number }, b: { at: number }): boolean => (a.at >= 0 && b.at >= 0 ? a.at < b.at : true);
  if (keyed.length <= 20) {
    for (let x = 1; x < keyed.length; x++) {
      for (let y = x; y > 0 && less(keyed[y] as { at: number }, keyed[y - 1] as { at: number }); y--) {
        const t = keyed[y] as { v: JsonValue; at: number };
        keyed[y] = keyed[y - 1] as { v: JsonValue; at: number };
        keyed[y - 1] = t;
      }
    }
  } else {
    keyed.sort((a, b) => (a.at >= 0 && b.at >= 0 ? a.at - b.at : 0));
  }
  return [...keyed.map((e) => e.v), ...deletes];
}

/**
 * Position of an item in a list: by the value of the merge key for maps (a missing key matches
 * a missing key, as upstream's nil == nil does), by value otherwise. Primitive keys are indexed
 * once so long lists stay linear.
 */
class Lookup {
  private readonly first = new Map<unknown, number>();
  private readonly complex: { key: JsonValue | undefined; at: number }[] = [];

  constructor(
    list: JsonValue[],
    private readonly mergeKey: string | undefined,
    private readonly onlyWithKey = false,
  ) {
    list.forEach((item, at) => {
      if (onlyWithKey && !(isObject(item) && has(item, mergeKey ?? ""))) return;
      const key = this.keyOf(item);
      if (typeof key === "object" && key !== null) this.complex.push({ key, at });
      else if (!this.first.has(key)) this.first.set(key, at);
    });
  }

  private keyOf(item: JsonValue): JsonValue | undefined {
    if (this.mergeKey === undefined) return item;
    return isObject(item) ? get(item, this.mergeKey) : undefined;
  }

  index(item: JsonValue): number {
    const key = this.keyOf(item);
    if (typeof key === "object" && key !== null) return this.complex.find((c) => jsonEqual(c.key, key))?.at ?? -1;
    return this.first.get(key) ?? -1;
  }
}

function setSanitized(o: JsonObject, k: string, v: JsonValue): void {
  const [value, keep] = sanitize(v);
  if (keep) set(o, k, value);
  else delete o[k];
}

function sanitizeMap(m: JsonObject): JsonObject {
  const [value] = sanitize(m, true);
  return value as JsonObject;
}

function sanitizeList(l: JsonValue[]): JsonValue[] {
  return sanitize(l)[0] as JsonValue[];
}

/**
 * Prepares patch content that lands in the object as is: maps that carry `$patch` are dropped,
 * directive keys and null map values removed (upstream's typed decoding drops both; we store
 * JSON, so we drop them here).
 */
function sanitize(v: JsonValue, top = false): [JsonValue, boolean] {
  if (Array.isArray(v)) {
    const out: JsonValue[] = [];
    for (const item of v) {
      const [value, keep] = sanitize(item);
      if (keep) out.push(value);
    }
    return [out, true];
  }
  if (!isObject(v)) return [v, true];
  if (!top && has(v, directiveMarker)) return [null, false];
  for (const k of Object.keys(v)) {
    const item = v[k] as JsonValue;
    if (item === null || isDirectiveKey(k)) {
      delete v[k];
      continue;
    }
    const [value, keep] = sanitize(item);
    if (keep) set(v, k, value);
    else delete v[k];
  }
  return [v, true];
}

function isDirectiveKey(k: string): boolean {
  return k === directiveMarker || k === retainKeysDirective || k.startsWith(`${deleteFromPrimitiveListPrefix}/`) || k.startsWith(`${setElementOrderPrefix}/`);
}
