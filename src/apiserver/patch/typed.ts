// Schema-aware walks over objects for server-side apply, with structured-merge-diff's semantics
// (typed package): which paths a value sets (toFieldSet), what changed between two values
// (compare), merging an applied configuration into a live object (merge) and removing owned
// items (removeItems).
//
// The schema decides how each node behaves:
// - lists: `x-kubernetes-list-type` map (items keyed by `x-kubernetes-list-map-keys`) or set;
//   without a list type, `x-kubernetes-patch-strategy: merge` makes the list keyed by its merge
//   key (a set without one); anything else is atomic and replaced whole;
// - maps are granular (each key owned separately) unless `x-kubernetes-map-type: atomic`;
// - fields without a schema are "deduced": maps granular, lists atomic.
import { PatchError } from "./errors.js";
import { FieldSet, fieldPE, pathString, peKey, type Path, type PathElement } from "./fieldpath.js";
import { get, has, isObject, set, type JsonObject, type JsonValue } from "./json.js";
import { jsonEqual } from "../../util/json.js";
import type { PatchSchema } from "./schema.js";

type ListAtom = { readonly t: "list"; readonly associative: boolean; readonly keys: readonly string[]; readonly item: PatchSchema | undefined };
type MapAtom = { readonly t: "map"; readonly atomic: boolean; readonly schema: PatchSchema | undefined };
type Atom = { readonly t: "scalar" } | ListAtom | MapAtom;

const scalar: Atom = { t: "scalar" };
const untypedList: ListAtom = { t: "list", associative: false, keys: [], item: undefined };
const untypedMap: MapAtom = { t: "map", atomic: false, schema: undefined };
/** Atoms depend only on the (immutable) schema and whether the value is a list or a map: built once per schema. */
const atoms = new WeakMap<PatchSchema, { list?: Atom; map?: Atom }>();

/** How a node behaves, from its schema and (for nodes without one) from its value. */
function atomOf(schema: PatchSchema | undefined, v: JsonValue | undefined): Atom {
  if (Array.isArray(v) || (v === undefined && schema?.type === "array")) {
    if (schema === undefined || schema.type !== "array") return untypedList;
    const cached = cachedAtoms(schema);
    return (cached.list ??= { t: "list", ...listRelationship(schema), item: schema.items() });
  }
  if (isObject(v) || (v === undefined && schema?.type === "object")) {
    if (schema === undefined) return untypedMap;
    if (schema.type !== undefined && schema.type !== "object") return scalar;
    const cached = cachedAtoms(schema);
    return (cached.map ??= { t: "map", atomic: schema.mapType === "atomic", schema });
  }
  return scalar;
}

function cachedAtoms(schema: PatchSchema): { list?: Atom; map?: Atom } {
  let c = atoms.get(schema);
  if (c === undefined) {
    c = {};
    atoms.set(schema, c);
  }
  return c;
}

function listRelationship(s: PatchSchema): { associative: boolean; keys: readonly string[] } {
  if (s.listType === "atomic") return { associative: false, keys: [] };
  if (s.listType === "set") return { associative: true, keys: [] };
  if (s.listType === "map") return { associative: true, keys: s.listMapKeys ?? [] };
  // Types published before list types existed are keyed by their patch merge key.
  if (s.patchStrategy === "merge" || s.patchStrategy === "merge,retainKeys") {
    return { associative: true, keys: s.patchMergeKey === undefined ? [] : [s.patchMergeKey] };
  }
  return { associative: false, keys: [] };
}

/** The schema of a map's key: a declared field, else the map's value schema. */
function fieldSchema(m: MapAtom, key: string): PatchSchema | undefined {
  if (m.schema === undefined) return undefined;
  return m.schema.property(key) ?? m.schema.additionalProperties();
}

/** A struct that declares its fields and accepts no others. */
function closed(m: MapAtom): boolean {
  const s = m.schema;
  if (s === undefined || s.preserveUnknownFields === true || s.additionalProperties() !== undefined) return false;
  return (s.propertyNames?.().length ?? 0) > 0;
}

function isDeclared(m: MapAtom, key: string): boolean {
  return m.schema?.property(key) !== undefined;
}

/**
 * The value Go serializes for a field of a zero struct, when it serializes one at all: `{}` for
 * a struct held by value (schema `default: {}`), `null` for a field without omitempty (listed as
 * required). The apiserver compares against zero objects on create, so such fields are never
 * "added" there; comparing with their zero value keeps ownership sets identical to upstream's.
 */
function zeroOf(m: MapAtom, key: string): JsonValue | undefined {
  const f = m.schema?.property(key);
  if (f === undefined) return undefined;
  if (isObject(f.default) && Object.keys(f.default).length === 0) return {};
  return m.schema?.required?.includes(key) === true ? null : undefined;
}

export class TypedError extends Error {
  override readonly name = "TypedError";
  constructor(
    readonly path: string,
    readonly detail: string,
  ) {
    super(path === "" ? detail : `${path}: ${detail}`);
  }
}

const goQuoteList = (l: readonly string[]): string => `[${l.map((s) => JSON.stringify(s)).join(" ")}]`;

/** The path element of a list item: its key fields, or its value in a set. */
export function itemPE(list: ListAtom, item: JsonValue): PathElement {
  if (list.keys.length > 0) {
    if (item === null) throw new Error("associative list with keys may not have a null element");
    if (!isObject(item)) throw new Error("associative list with keys may not have non-map elements");
    if (list.keys.length === 1) {
      const k = list.keys[0] as string;
      const v = get(item, k);
      if (typeof v === "string") return internedKeyPE(k, v);
    }
    const fields: [string, JsonValue][] = [];
    for (const k of list.keys) {
      const v = get(item, k);
      if (v !== undefined) fields.push([k, v]);
      else {
        // A missing key field takes its schema default (container ports: protocol "TCP").
        const d = list.item?.property(k)?.default;
        if (d !== undefined && d !== null) fields.push([k, d as JsonValue]);
      }
    }
    if (fields.length === 0) {
      throw new Error(`associative list with keys has an element that omits all key fields ${goQuoteList(list.keys)} (and doesn't have default values for any key fields)`);
    }
    fields.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return { kind: "key", fields };
  }
  if (isObject(item)) throw new Error("associative list without keys has an element that's a map type");
  if (Array.isArray(item)) throw new Error("not supported: associative list with lists as elements");
  if (item === null) throw new Error("associative list without keys has an element that's an explicit null");
  return { kind: "value", value: item };
}

// Items of the common lists are keyed by one string field (containers by name, conditions by
// type); the same keys come back on every write of every object of a kind. One element per key
// (elements are immutable) also keeps its FieldsV1 key, computed once.
const keyPEs = new Map<string, Map<string, PathElement>>();
let keyPECount = 0;
const maxKeyPEs = 4096;

function internedKeyPE(field: string, value: string): PathElement {
  let byValue = keyPEs.get(field);
  if (byValue === undefined) {
    byValue = new Map();
    keyPEs.set(field, byValue);
  }
  let pe = byValue.get(value);
  if (pe === undefined) {
    if (keyPECount >= maxKeyPEs) {
      keyPEs.clear();
      keyPECount = 0;
      keyPEs.set(field, byValue);
      byValue.clear();
    }
    pe = { kind: "key", fields: [[field, value]] };
    byValue.set(value, pe);
    keyPECount++;
  }
  return pe;
}

/** Indexes a list by path element; duplicates map to `null` (they are not merged). */
function indexList(list: ListAtom, items: readonly JsonValue[], at: Path, allowDuplicates: boolean): { pes: PathElement[]; byKey: Map<string, JsonValue | null> } {
  const pes: PathElement[] = [];
  const byKey = new Map<string, JsonValue | null>();
  items.forEach((item, i) => {
    let pe: PathElement;
    try {
      pe = itemPE(list, item);
    } catch (e) {
      throw new TypedError(pathString(at), `element ${i}: ${(e as Error).message}`);
    }
    const k = peKey(pe);
    if (byKey.has(k)) {
      if (!allowDuplicates) throw new TypedError(pathString(at), `duplicate entries for key ${pathString([pe])}`);
      byKey.set(k, null);
    } else byKey.set(k, item);
    pes.push(pe);
  });
  return { pes, byKey };
}

/**
 * Checks an applied configuration against the schema as upstream does before applying it:
 * fields the schema does not declare, list items without keys, duplicate keys.
 */
export function validateApplied(value: JsonValue, schema: PatchSchema | undefined): string[] {
  const errors: string[] = [];
  const walk = (v: JsonValue, s: PatchSchema | undefined, at: PathElement[]): void => {
    const atom = atomOf(s, v);
    if (atom.t === "map" && isObject(v)) {
      for (const k of Object.keys(v)) {
        const here = [...at, fieldPE(k)];
        if (closed(atom) && !isDeclared(atom, k)) {
          errors.push(`${pathString(here)}: field not declared in schema`);
          continue;
        }
        walk(v[k] as JsonValue, fieldSchema(atom, k), here);
      }
    } else if (atom.t === "list" && Array.isArray(v)) {
      if (!atom.associative) {
        v.forEach((item, i) => walk(item, atom.item, [...at, { kind: "index", index: i }]));
        return;
      }
      const seen = new Set<string>();
      for (let i = 0; i < v.length; i++) {
        const item = v[i] as JsonValue;
        let pe: PathElement;
        try {
          pe = itemPE(atom, item);
        } catch (e) {
          errors.push(`${pathString(at)}: element ${i}: ${(e as Error).message}`);
          return;
        }
        if (seen.has(peKey(pe))) errors.push(`${pathString(at)}: duplicate entries for key ${pathString([pe])}`);
        seen.add(peKey(pe));
        walk(item, atom.item, [...at, pe]);
      }
    }
  };
  walk(value, schema, []);
  return errors;
}

/** Every path a value sets (structured-merge-diff ToFieldSet). */
export function toFieldSet(value: JsonValue, schema: PatchSchema | undefined): FieldSet {
  const out = new FieldSet();
  const walk = (v: JsonValue, s: PatchSchema | undefined, at: PathElement[]): void => {
    const atom = atomOf(s, v);
    if (atom.t === "scalar") {
      out.insert(at);
    } else if (atom.t === "list") {
      if (!atom.associative) return void out.insert(at);
      if (!Array.isArray(v)) return;
      const seen = new Set<string>();
      const dup = new Set<string>();
      const pes = v.map((item) => safeItemPE(atom, item));
      for (const pe of pes) {
        if (pe === undefined) continue;
        const k = peKey(pe);
        if (seen.has(k) && !dup.has(k)) {
          out.insert([...at, pe]);
          dup.add(k);
        }
        seen.add(k);
      }
      v.forEach((item, i) => {
        const pe = pes[i];
        if (pe === undefined || dup.has(peKey(pe))) return;
        const here = [...at, pe];
        walk(item, atom.item, here);
        out.insert(here);
      });
    } else {
      if (atom.atomic) return void out.insert(at);
      if (!isObject(v)) return;
      for (const k of Object.keys(v)) {
        const val = v[k] as JsonValue;
        const here = [...at, fieldPE(k)];
        walk(val, fieldSchema(atom, k), here);
        if (val === null || (isObject(val) && Object.keys(val).length === 0) || !isDeclared(atom, k)) out.insert(here);
      }
    }
  };
  walk(value, schema, []);
  return out;
}

function safeItemPE(list: ListAtom, item: JsonValue): PathElement | undefined {
  try {
    return itemPE(list, item);
  } catch {
    return undefined;
  }
}

export interface Comparison {
  readonly added: FieldSet;
  readonly removed: FieldSet;
  readonly modified: FieldSet;
}

/**
 * What changed from `lhs` to `rhs`, path by path (structured-merge-diff Compare). With `skip`,
 * the paths of `skip` and everything below them are left out, as a recursiveDifference with
 * it would (the reset fields nobody owns: a /status write need not walk the spec).
 */
export function compare(lhs: JsonValue | undefined, rhs: JsonValue | undefined, schema: PatchSchema | undefined, skip?: FieldSet): Comparison {
  const c = { added: new FieldSet(), removed: new FieldSet(), modified: new FieldSet() };
  // The path of the node being compared; sets copy what they keep of it.
  const at: PathElement[] = [];
  // The part of `skip` below `at`.
  let skipAt = skip !== undefined && !skip.isEmpty() ? skip : undefined;
  const leaf = (l: JsonValue | undefined, r: JsonValue | undefined): void => {
    if (l === undefined) c.added.insert(at);
    else if (r === undefined) c.removed.insert(at);
    else if (!jsonEqual(l, r)) c.modified.insert(at);
  };
  const walk = (l: JsonValue | undefined, r: JsonValue | undefined, s: PatchSchema | undefined): void => {
    const atom = atomOf(s, l !== undefined && l !== null ? l : r ?? l);
    if (atom.t === "scalar") return leaf(l, r);
    if (atom.t === "list") {
      const ll = Array.isArray(l) ? l : noItems;
      const rl = Array.isArray(r) ? r : noItems;
      // Both empty or null: a leaf, so that empty and null stay distinct.
      if (!atom.associative || (ll.length === 0 && rl.length === 0)) return leaf(l, r);
      compareItems(atom, ll, rl);
    } else {
      const lm = isObject(l) ? l : undefined;
      const rm = isObject(r) ? r : undefined;
      const lKeys = lm === undefined ? noKeys : Object.keys(lm);
      const rKeys = rm === undefined ? noKeys : Object.keys(rm);
      if (atom.atomic || (lKeys.length === 0 && rKeys.length === 0)) return leaf(l, r);
      for (const k of lKeys) field(atom, lm, rm, k);
      for (const k of rKeys) if (lm === undefined || !has(lm, k)) field(atom, lm, rm, k);
    }
    if (at.length > 0) {
      if (l === undefined) c.added.insert(at);
      else if (r === undefined) c.removed.insert(at);
    }
  };
  const field = (atom: MapAtom, lm: JsonObject | undefined, rm: JsonObject | undefined, k: string): void => {
    const pe = fieldPE(k);
    const skipHere = skipAt;
    const skipBelow = skipHere === undefined ? undefined : skipHere.hasMember(pe) ? null : skipHere.childSet(pe);
    if (skipBelow === null) return;
    let lv = lm === undefined ? undefined : get(lm, k);
    let rv = rm === undefined ? undefined : get(rm, k);
    // An unchanged field has nothing to report below it: most writes change a few leaves of a
    // large object, and comparing plain JSON is much cheaper than walking it by schema.
    if (lv !== undefined && rv !== undefined && typeof lv === "object" && jsonEqual(lv, rv)) return;
    // A key whose value is undefined on both sides is no field (JSON has no such value).
    if (lv === undefined && rv === undefined) return;
    if (lv === undefined !== (rv === undefined)) {
      const zero = zeroOf(atom, k);
      if (lm !== undefined) lv ??= zero;
      if (rm !== undefined) rv ??= zero;
    }
    at.push(pe);
    skipAt = skipBelow;
    walk(lv, rv, fieldSchema(atom, k));
    skipAt = skipHere;
    at.pop();
  };
  const compareItems = (atom: ListAtom, l: readonly JsonValue[], r: readonly JsonValue[]): void => {
    const lv = groupItems(atom, l, at);
    const rv = groupItems(atom, r, at);
    const all = new Map<string, PathElement>();
    for (const [k, g] of lv) all.set(k, g.pe);
    for (const [k, g] of rv) if (!all.has(k)) all.set(k, g.pe);
    for (const [k, pe] of all) {
      const ls = lv.get(k)?.items ?? noItems;
      const rs = rv.get(k)?.items ?? noItems;
      if (ls.length === 1 && rs.length === 1 && jsonEqual(ls[0], rs[0])) continue;
      const skipHere = skipAt;
      if (skipHere !== undefined && skipHere.hasMember(pe)) continue;
      skipAt = skipHere?.childSet(pe);
      at.push(pe);
      if (ls.length <= 1 && rs.length <= 1) walk(ls[0], rs[0], atom.item);
      else if (ls.length >= 2 && rs.length >= 2) {
        if (!jsonEqual(ls, rs)) c.modified.insert(at);
      } else if (ls.length >= 2) {
        if (rs.length !== 0) walk(undefined, rs[0], atom.item);
        c.removed.insert(at);
      } else {
        if (ls.length !== 0) walk(ls[0], undefined, atom.item);
        c.added.insert(at);
      }
      at.pop();
      skipAt = skipHere;
    }
  };
  walk(lhs, rhs, schema);
  return c;
}

const noItems: readonly JsonValue[] = [];
const noKeys: readonly string[] = [];

function groupItems(atom: ListAtom, items: readonly JsonValue[], at: Path): Map<string, { pe: PathElement; items: JsonValue[] }> {
  const out = new Map<string, { pe: PathElement; items: JsonValue[] }>();
  items.forEach((item, i) => {
    let pe: PathElement;
    try {
      pe = itemPE(atom, item);
    } catch (e) {
      throw new TypedError(pathString(at), `element ${i}: ${(e as Error).message}`);
    }
    const k = peKey(pe);
    const g = out.get(k);
    if (g === undefined) out.set(k, { pe, items: [item] });
    else g.items.push(item);
  });
  return out;
}

/**
 * Merges an applied configuration into a live object (structured-merge-diff Merge with the
 * keep-right rule): granular maps merge key by key, associative lists item by item in an order
 * that keeps the configuration's order for the items it names, everything else is replaced.
 */
export function merge(lhs: JsonValue | undefined, rhs: JsonValue | undefined, schema: PatchSchema | undefined): JsonValue | undefined {
  return mergeAt(lhs, rhs, schema, []);
}

function mergeAt(l: JsonValue | undefined, r: JsonValue | undefined, s: PatchSchema | undefined, at: PathElement[]): JsonValue | undefined {
  const atom = atomOf(s, r !== undefined && r !== null ? r : l ?? r);
  if (atom.t === "scalar") return r !== undefined ? r : l;
  if (atom.t === "list") {
    const ll = Array.isArray(l) ? l : [];
    const rl = Array.isArray(r) ? r : [];
    if (!atom.associative || (ll.length === 0 && rl.length === 0)) return r !== undefined ? r : l;
    return mergeItems(atom, ll, rl, at);
  }
  const lm = isObject(l) ? l : undefined;
  const rm = isObject(r) ? r : undefined;
  const lEmpty = lm === undefined || Object.keys(lm).length === 0;
  const rEmpty = rm === undefined || Object.keys(rm).length === 0;
  if (atom.atomic || (lEmpty && rEmpty)) return r !== undefined ? r : l;
  const out: JsonObject = {};
  const keys = [...Object.keys(lm ?? {}), ...Object.keys(rm ?? {}).filter((k) => lm === undefined || !has(lm, k))];
  for (const k of keys) {
    const v = mergeAt(lm === undefined ? undefined : get(lm, k), rm === undefined ? undefined : get(rm, k), fieldSchema(atom, k), [...at, fieldPE(k)]);
    if (v !== undefined) set(out, k, v);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function mergeItems(atom: ListAtom, lhs: JsonValue[], rhs: JsonValue[], at: PathElement[]): JsonValue[] | undefined {
  const right = indexList(atom, rhs, at, false);
  const left = indexList(atom, lhs, at, true);
  const inLeft = (pe: PathElement): boolean => left.byKey.has(peKey(pe));
  const inRight = (pe: PathElement): boolean => right.byKey.has(peKey(pe));
  // The items both sides have, in the configuration's order.
  const shared = right.pes.filter(inLeft);
  let next = shared.shift();
  const mergedRight = new Set<string>();
  const out: JsonValue[] = [];
  const push = (v: JsonValue | undefined): void => {
    if (v !== undefined) out.push(v);
  };
  // A duplicated live item is indexed as null: it is not merged with the configuration's item.
  const mergeItem = (pe: PathElement, l: JsonValue | undefined, r: JsonValue | undefined): JsonValue | undefined => mergeAt(l, r, atom.item, [...at, pe]);
  let li = 0;
  let ri = 0;
  while (li < left.pes.length || ri < right.pes.length) {
    if (li < left.pes.length && ri < right.pes.length) {
      const pe = left.pes[li] as PathElement;
      if (peKey(pe) === peKey(right.pes[ri] as PathElement)) {
        mergedRight.add(peKey(pe));
        push(mergeItem(pe, left.byKey.get(peKey(pe)), right.byKey.get(peKey(pe))));
        li++;
        ri++;
        next = shared.shift();
        continue;
      }
      // A shared item that the configuration wants later: hold it back.
      if (inRight(pe) && next !== undefined && peKey(next) !== peKey(pe)) {
        li++;
        continue;
      }
    }
    if (li < left.pes.length) {
      const pe = left.pes[li] as PathElement;
      if (!inRight(pe)) {
        push(mergeItem(pe, lhs[li], undefined));
        li++;
        continue;
      } else if (mergedRight.has(peKey(pe))) {
        li++;
      }
    }
    if (ri < right.pes.length) {
      const pe = right.pes[ri] as PathElement;
      mergedRight.add(peKey(pe));
      push(mergeItem(pe, left.byKey.get(peKey(pe)), right.byKey.get(peKey(pe))));
      ri++;
      if (next !== undefined && peKey(next) === peKey(pe)) next = shared.shift();
    }
  }
  return out.length > 0 ? out : undefined;
}

/**
 * The value without the paths of `toRemove` (structured-merge-diff RemoveItems). A map or list
 * emptied by the removal goes away, except structs Go holds by value, which stay as `{}`.
 */
export function removeItems(value: JsonValue, toRemove: FieldSet, schema: PatchSchema | undefined): JsonValue {
  return removeAt(value, toRemove, schema) ?? null;
}

function removeAt(v: JsonValue, toRemove: FieldSet, s: PatchSchema | undefined): JsonValue | undefined {
  const atom = atomOf(s, v);
  if (atom.t === "scalar") return v;
  if (atom.t === "list") {
    if (!Array.isArray(v) || v.length === 0 || !atom.associative) return v;
    const out: JsonValue[] = [];
    for (const item of v) {
      const pe = safeItemPE(atom, item);
      if (pe === undefined) {
        out.push(item);
        continue;
      }
      if (toRemove.hasMember(pe)) continue;
      const sub = toRemove.withPrefix(pe);
      const kept = sub.isEmpty() ? item : removeAt(item, sub, atom.item);
      out.push(kept ?? null);
    }
    return out.length > 0 ? out : undefined;
  }
  if (!isObject(v) || Object.keys(v).length === 0 || atom.atomic) return v;
  const out: JsonObject = {};
  for (const k of Object.keys(v)) {
    const pe = fieldPE(k);
    if (toRemove.hasMember(pe)) continue;
    const sub = toRemove.withPrefix(pe);
    const val = v[k] as JsonValue;
    if (sub.isEmpty()) {
      set(out, k, val);
      continue;
    }
    const kept = removeAt(val, sub, fieldSchema(atom, k));
    if (kept !== undefined) set(out, k, kept);
    else if (isObject(atom.schema?.property(k)?.default)) set(out, k, {});
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * The set plus every declared struct field that has paths below it (structured-merge-diff
 * EnsureNamedFieldsAreMembers), so that removing the set also removes emptied structs.
 */
export function ensureNamedFieldsAreMembers(fs: FieldSet, schema: PatchSchema | undefined): FieldSet {
  const out = new FieldSet();
  const walk = (s: FieldSet, sch: PatchSchema | undefined, at: PathElement[]): void => {
    for (const pe of s.memberElements()) out.insert([...at, pe]);
    for (const { pe, set: sub } of s.childEntries()) {
      let child: PatchSchema | undefined;
      if (pe.kind === "field" && sch !== undefined && sch.type !== "array") {
        if (sch.property(pe.name) !== undefined) out.insert([...at, pe]);
        child = sch.property(pe.name) ?? sch.additionalProperties();
      } else if (pe.kind === "key" && sch?.type === "array") {
        child = sch.items();
      }
      walk(sub, child, [...at, pe]);
    }
  };
  walk(fs, schema, []);
  return out;
}

/** Raised for objects that do not fit the schema where upstream fails the request. */
export function typedFailure(prefix: string, err: unknown): PatchError {
  return new PatchError("ApplyFailed", `${prefix}: ${err instanceof Error ? err.message : String(err)}`);
}
