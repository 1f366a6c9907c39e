// Sets of field paths, the unit of ownership in server-side apply (structured-merge-diff's
// fieldpath package), and their FieldsV1 wire form as `metadata.managedFields[].fieldsV1` shows
// it: `{"f:spec":{"f:replicas":{}},"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{}}}}`.
//
// A path element is a field name (`f:`), the key fields of an associative-list item (`k:`,
// fields sorted by name), a set item's value (`v:`) or an index (`i:`). Sets print in upstream's
// order (fields, then keys, then values, then indices; each sorted), which is what kubectl shows.
import { PatchError } from "./errors.js";
import { has, isObject, type JsonObject, type JsonValue } from "./json.js";
import { jsonEqual } from "../../util/json.js";

export type PathElement =
  | { readonly kind: "field"; readonly name: string }
  | { readonly kind: "key"; readonly fields: readonly (readonly [string, JsonValue])[] }
  | { readonly kind: "value"; readonly value: JsonValue }
  | { readonly kind: "index"; readonly index: number };

export type Path = readonly PathElement[];

export const fieldPE = (name: string): PathElement => ({ kind: "field", name });

/** Builds a path from field names, e.g. path("metadata", "name"). */
export function path(...names: string[]): Path {
  return names.map(fieldPE);
}

/**
 * JSON as Go's encoding/json writes it (HTML-safe escapes), so `k:` and `v:` elements are
 * byte-identical to upstream's.
 */
export function goJSON(v: JsonValue): string {
  const s = JSON.stringify(v);
  return htmlUnsafe.test(s) ? s.replace(htmlUnsafeAll, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`) : s;
}

const htmlUnsafe = /[<>&\u2028\u2029]/;
const htmlUnsafeAll = /[<>&\u2028\u2029]/g;

// Elements are immutable, and keys of list items are asked for again and again while sets are
// built and combined.
const keyCache = new WeakMap<PathElement, string>();

// Field keys are looked up in sets and written as property names over and over; one string per
// name (a bounded number) is hashed once instead of a new concatenation each time.
const fieldKeys = new Map<string, string>();
const maxFieldKeys = 4096;

function fieldKey(name: string): string {
  let k = fieldKeys.get(name);
  if (k === undefined) {
    k = `f:${name}`;
    if (fieldKeys.size >= maxFieldKeys) fieldKeys.clear();
    fieldKeys.set(name, k);
  }
  return k;
}

/** The FieldsV1 key of an element: `f:name`, `k:{"name":"x"}`, `v:"x"`, `i:0`. */
export function peKey(pe: PathElement): string {
  if (pe.kind === "field") return fieldKey(pe.name);
  let k = keyCache.get(pe);
  if (k === undefined) {
    if (pe.kind === "key") k = `k:{${pe.fields.map(([n, v]) => `${goJSON(n)}:${goJSON(v)}`).join(",")}}`;
    else if (pe.kind === "value") k = `v:${goJSON(pe.value)}`;
    else k = `i:${pe.index}`;
    keyCache.set(pe, k);
  }
  return k;
}

// Keys of list items and set values recur in every managedFields entry of every object of a
// kind (`k:{"name":"nginx"}`); their elements are immutable, so parses are kept, a bounded number.
const parsed = new Map<string, PathElement>();
const maxParsed = 4096;

/** Parses a FieldsV1 key; undefined for an element type this version does not know. */
export function parsePE(key: string): PathElement | undefined {
  if (key.length < 2) throw badFields(`key must be 2 characters long: ${key}`);
  if (key[1] !== ":") throw badFields(`missing colon: ${key}`);
  const body = key.slice(2);
  switch (key[0]) {
    case "f":
      return { kind: "field", name: body };
    case "v":
    case "k": {
      let pe = parsed.get(key);
      if (pe === undefined) {
        pe = parseValueOrKey(key, body);
        if (parsed.size >= maxParsed) parsed.clear();
        parsed.set(key, pe);
      }
      return pe;
    }
    case "i": {
      if (!/^[+-]?\d+$/.test(body)) throw badFields(`invalid index: ${key}`);
      return { kind: "index", index: Number(body) };
    }
    default:
      return undefined;
  }
}

function parseValueOrKey(key: string, body: string): PathElement {
  if (key[0] === "v") return { kind: "value", value: parseJSON(body) };
  const obj = parseJSON(body);
  if (!isObject(obj)) throw badFields(`key element is not an object: ${key}`);
  const fields = Object.entries(obj).sort(([a], [b]) => compareStrings(a, b));
  return { kind: "key", fields };
}

function parseJSON(s: string): JsonValue {
  try {
    return JSON.parse(s) as JsonValue;
  } catch {
    throw badFields(`invalid JSON in path element: ${s}`);
  }
}

const badFields = (message: string): PatchError => new PatchError("ApplyFailed", message);

function isEmpty(o: JsonObject): boolean {
  for (const k in o) if (has(o, k)) return false;
  return true;
}

/** Byte order of UTF-8, as Go's strings.Compare sees it. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Below the surrogates UTF-16 units order as code points (and UTF-8 bytes) do; a
    // surrogate is part of a code point above the BMP.
    if (x < 0xd800 || y < 0xd800) return x < y ? -1 : 1;
    return compareFrom(a, b, i);
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

/** compareStrings from index `at` (the start of a code point in both), code point by code point. */
function compareFrom(a: string, b: string, at: number): number {
  const n = Math.min(a.length, b.length);
  for (let i = at; i < n; i++) {
    const x = a.codePointAt(i) ?? 0;
    const y = b.codePointAt(i) ?? 0;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

function rank(v: JsonValue): number {
  if (typeof v === "number") return 0;
  if (typeof v === "string") return 1;
  if (typeof v === "boolean") return 2;
  if (Array.isArray(v)) return 3;
  if (v !== null) return 4;
  return 5;
}

/** Total order of values (numbers, strings, bools, lists, maps, null), as upstream sorts them. */
export function compareValues(a: JsonValue, b: JsonValue): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if (typeof a === "number" && typeof b === "number") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "string" && typeof b === "string") return compareStrings(a, b);
  if (typeof a === "boolean" && typeof b === "boolean") return a === b ? 0 : a ? 1 : -1;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = compareValues(a[i] as JsonValue, b[i] as JsonValue);
      if (c !== 0) return c;
    }
    return a.length - b.length < 0 ? -1 : a.length > b.length ? 1 : 0;
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).sort(compareStrings);
    const kb = Object.keys(b).sort(compareStrings);
    for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
      const c = compareStrings(ka[i] as string, kb[i] as string) || compareValues(a[ka[i] as string] as JsonValue, b[kb[i] as string] as JsonValue);
      if (c !== 0) return c;
    }
    return ka.length < kb.length ? -1 : ka.length > kb.length ? 1 : 0;
  }
  return 0;
}

const kindRank = { field: 0, key: 1, value: 2, index: 3 } as const;

export function comparePE(a: PathElement, b: PathElement): number {
  if (a.kind !== b.kind) return kindRank[a.kind] < kindRank[b.kind] ? -1 : 1;
  switch (a.kind) {
    case "field":
      return compareStrings(a.name, (b as typeof a).name);
    case "key": {
      const bf = (b as typeof a).fields;
      for (let i = 0; ; i++) {
        const x = a.fields[i];
        const y = bf[i];
        if (x === undefined && y === undefined) return 0;
        if (x === undefined) return -1;
        if (y === undefined) return 1;
        const c = compareStrings(x[0], y[0]) || compareValues(x[1], y[1]);
        if (c !== 0) return c;
      }
    }
    case "value":
      return compareValues(a.value, (b as typeof a).value);
    case "index": {
      const bi = (b as typeof a).index;
      return a.index < bi ? -1 : a.index > bi ? 1 : 0;
    }
  }
}

/** How conflicts name a path: `.spec.containers[name="nginx"].image`. */
export function pathString(p: Path): string {
  return p.map(peString).join("");
}

function peString(pe: PathElement): string {
  switch (pe.kind) {
    case "field":
      return `.${pe.name}`;
    case "key":
      return `[${pe.fields.map(([n, v]) => `${n}=${valueString(v)}`).join(",")}]`;
    case "value":
      return `[=${valueString(pe.value)}]`;
    case "index":
      return `[${pe.index}]`;
  }
}

function valueString(v: JsonValue): string {
  if (v === null) return "null";
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(valueString).join(",")}]`;
  if (isObject(v)) return Object.entries(v).map(([k, x]) => `${k}=${valueString(x)}`).join("");
  return String(v);
}

export function peEqual(a: PathElement, b: PathElement): boolean {
  return a.kind === b.kind && peKey(a) === peKey(b) && (a.kind !== "value" || jsonEqual(a.value, (b as typeof a).value));
}

/**
 * FieldsV1 objects recently read, with the set read (a copy nobody changes: readers get copies
 * of it), the most recently used last. managedFields are decoded on every write, and an entry
 * the write leaves alone is encoded again as the very object it was read from (sets keep their
 * encoding), so the next write of the object finds it here; so do the entries that creates of
 * alike objects share (managedfields.ts). Keyed by identity, which relies on FieldsV1 being
 * plain JSON that nothing changes in place (as the encodings sets keep are). Bounded and
 * strong: a WeakMap entry made per read cost the collector more than the parse it saved.
 */
const readSets = new Map<JsonObject, FieldSet>();
const fieldTag = "f".charCodeAt(0);
/**
 * Every empty object FieldsV1 holds (leaves and ".") is this one: a quarter of a stored pod's
 * JSON objects were these, each allocated, and frozen by the watch cache, on every write.
 */
const emptyV1: JsonObject = Object.freeze({}) as JsonObject;
export const maxReadSets = 2048;

interface Child {
  readonly pe: PathElement;
  readonly set: FieldSet;
}

// Never written: sets replace them with tables of their own before adding anything.
const noMembers = new Map<string, PathElement>();
const noChildren = new Map<string, Child>();

/**
 * A set of paths, stored as a trie: the elements that end a path here, and subtrees.
 *
 * The algebra (union, difference, ...) returns new sets that share the subtrees an operation
 * leaves alone with its inputs instead of copying them: managedFields bookkeeping runs on every
 * write and mostly moves whole subtrees from one set to another. A shared subtree is marked
 * frozen; insert() copies a frozen node on its way down before changing it, so changing a
 * result never changes an input, nor the other way round.
 */
export class FieldSet {
  // Most nodes have no children and many no members: they share empty tables until written.
  private members: Map<string, PathElement> = noMembers;
  private children: Map<string, Child> = noChildren;
  /** Reachable from more than one set: never changed in place. */
  private frozen = false;
  /**
   * This node's FieldsV1 form, once built or read, and whether it carries "." (emit's
   * includeSelf). managedFields are decoded, adjusted and encoded again on every write, and
   * most subtrees come out as they went in: they are encoded once. Cleared on every change.
   * The object is shared with the managedFields it was read from or written to, which are
   * plain JSON that nothing changes in place.
   */
  private v1: JsonObject | undefined;
  private v1Self = false;

  static of(...paths: Path[]): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  insert(p: Path): void {
    const n = p.length;
    if (n === 0) return;
    // Only views (withPrefix, childEntries) can be frozen at the top; changing one would change the sets it belongs to.
    if (this.frozen) throw new PatchError("SchemaError", "a FieldSet view cannot be changed");
    let node = n > 1 ? this.descend(p[0] as PathElement) : this;
    for (let i = 1; i < n - 1; i++) node = node.descend(p[i] as PathElement);
    const last = p[n - 1] as PathElement;
    node.addMember(peKey(last), last);
  }

  /** The subtree under `pe`, created if missing (copied first if it is shared). */
  descend(pe: PathElement): FieldSet {
    this.v1 = undefined;
    const k = peKey(pe);
    const c = this.children.get(k);
    if (c === undefined) {
      const set = new FieldSet();
      this.setChild(k, { pe, set });
      return set;
    }
    if (!c.set.frozen) return c.set;
    const own = c.set.shallowCopy();
    this.setChild(k, { pe: c.pe, set: own });
    return own;
  }

  has(p: Path): boolean {
    const n = p.length;
    if (n === 0) return false;
    let node = n > 1 ? this.children.get(peKey(p[0] as PathElement))?.set : this;
    for (let i = 1; i < n - 1 && node !== undefined; i++) node = node.children.get(peKey(p[i] as PathElement))?.set;
    return node !== undefined && node.members.has(peKey(p[n - 1] as PathElement));
  }

  hasMember(pe: PathElement): boolean {
    return this.members.has(peKey(pe));
  }

  /** The paths below `pe`, undefined when there are none (a view: do not change it). */
  childSet(pe: PathElement): FieldSet | undefined {
    return this.children.get(peKey(pe))?.set;
  }

  /** The paths below `pe`, without `pe` itself (a view: do not change it). */
  withPrefix(pe: PathElement): FieldSet {
    return this.childSet(pe) ?? new FieldSet();
  }

  isEmpty(): boolean {
    if (this.members.size > 0) return false;
    for (const c of this.children.values()) if (!c.set.isEmpty()) return false;
    return true;
  }

  size(): number {
    let n = this.members.size;
    for (const c of this.children.values()) n += c.set.size();
    return n;
  }

  copy(): FieldSet {
    return this.shallowCopy();
  }

  union(o: FieldSet): FieldSet {
    // Most unions add what one side holds already (a manager writing its own fields again):
    // the other side is the result, and keeps its encoding.
    if (o.isSubsetOf(this)) return this.shallowCopy();
    if (this.isSubsetOf(o)) return o.shallowCopy();
    const out = new FieldSet();
    for (const [k, pe] of this.members) out.addMember(k, pe);
    for (const [k, pe] of o.members) out.addMember(k, pe);
    for (const [k, c] of this.children) {
      const oc = o.children.get(k);
      // A subtree that already holds everything `o` adds under it is kept whole (with its encoding).
      out.addChild(c.pe, oc === undefined || oc.set.isSubsetOf(c.set) ? c.set.share() : c.set.union(oc.set));
    }
    for (const [k, c] of o.children) if (!this.children.has(k)) out.addChild(c.pe, c.set.share());
    return out;
  }

  intersection(o: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) if (o.members.has(k)) out.addMember(k, pe);
    for (const [k, c] of this.children) {
      const oc = o.children.get(k);
      if (oc !== undefined) out.addChild(c.pe, c.set.intersection(oc.set));
    }
    return out;
  }

  /** Paths of this set that are not in `o` (a member of `o` does not remove the subtree below it). */
  difference(o: FieldSet): FieldSet {
    if (o.members.size === 0 && o.children.size === 0) return this.shallowCopy();
    const out = new FieldSet();
    for (const [k, pe] of this.members) if (!o.members.has(k)) out.addMember(k, pe);
    for (const [k, c] of this.children) {
      const oc = o.children.get(k);
      // A subtree that has no member of `o` loses nothing: kept whole (with its encoding).
      out.addChild(c.pe, oc === undefined || !c.set.sharesMember(oc.set) ? c.set.share() : c.set.difference(oc.set));
    }
    return out;
  }

  /** Whether both sets hold the same paths. */
  sameAs(o: FieldSet): boolean {
    return this === o || (this.isSubsetOf(o) && o.isSubsetOf(this));
  }

  /** Whether every path of this set is in `o`. */
  private isSubsetOf(o: FieldSet): boolean {
    for (const k of this.members.keys()) if (!o.members.has(k)) return false;
    for (const [k, c] of this.children) {
      const oc = o.children.get(k);
      if (oc === undefined ? !c.set.isEmpty() : !c.set.isSubsetOf(oc.set)) return false;
    }
    return true;
  }

  /**
   * Whether some path is a member of both sets; when not, `difference(o)` takes nothing from
   * this set.
   */
  sharesMember(o: FieldSet): boolean {
    for (const k of o.members.keys()) if (this.members.has(k)) return true;
    for (const [k, oc] of o.children) {
      const c = this.children.get(k);
      if (c !== undefined && c.set.sharesMember(oc.set)) return true;
    }
    return false;
  }

  /** Like difference, but a member of `o` also removes everything below it. */
  recursiveDifference(o: FieldSet): FieldSet {
    if (o.members.size === 0 && o.children.size === 0) return this.shallowCopy();
    const out = new FieldSet();
    for (const [k, pe] of this.members) if (!o.members.has(k)) out.addMember(k, pe);
    for (const [k, c] of this.children) {
      if (o.members.has(k)) continue;
      const oc = o.children.get(k);
      out.addChild(c.pe, oc === undefined ? c.set.share() : c.set.recursiveDifference(oc.set));
    }
    return out;
  }

  /** Only the paths that have nothing below them. */
  leaves(): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) if (!this.children.has(k)) out.addMember(k, pe);
    for (const c of this.children.values()) out.addChild(c.pe, c.set.leaves());
    return out;
  }

  /** Every path, members before subtrees, each level in upstream's element order. */
  paths(): PathElement[][] {
    const out: PathElement[][] = [];
    const walk = (s: FieldSet, prefix: PathElement[]): void => {
      for (const pe of [...s.members.values()].sort(comparePE)) out.push([...prefix, pe]);
      for (const c of [...s.children.values()].sort((a, b) => comparePE(a.pe, b.pe))) walk(c.set, [...prefix, c.pe]);
    };
    walk(this, []);
    return out;
  }

  /** Iterates the members and subtrees of the top level (for walkers that follow a value). */
  memberElements(): PathElement[] {
    return [...this.members.values()];
  }

  /** The subtrees of the top level (views: do not change them). */
  childEntries(): { readonly pe: PathElement; readonly set: FieldSet }[] {
    return [...this.children.values()];
  }

  equals(o: FieldSet): boolean {
    return JSON.stringify(this.toFieldsV1()) === JSON.stringify(o.toFieldsV1());
  }

  /** The FieldsV1 object (`.` marks a path that is a member and has children). */
  toFieldsV1(): JsonObject {
    return this.emit(false);
  }

  private emit(includeSelf: boolean): JsonObject {
    if (this.v1 !== undefined && this.v1Self === includeSelf) return this.v1;
    const keys: string[] = [];
    for (const k of this.members.keys()) keys.push(k);
    for (const k of this.children.keys()) if (!this.members.has(k)) keys.push(k);
    if (keys.length > 1) keys.sort((a, b) => this.compareKeys(a, b));
    const out: JsonObject = {};
    if (includeSelf && keys.length > 0) out["."] = emptyV1;
    for (const k of keys) {
      const c = this.children.get(k);
      const v = c === undefined ? emptyV1 : c.set.emit(this.members.has(k));
      if (k === "__proto__") Object.defineProperty(out, k, { value: v, writable: true, enumerable: true, configurable: true });
      else out[k] = v;
    }
    this.v1 = out;
    this.v1Self = includeSelf;
    return out;
  }

  /** comparePE of the elements of two keys of this node; field keys order as their names do. */
  private compareKeys(a: string, b: string): number {
    if (a.charCodeAt(0) === fieldTag && b.charCodeAt(0) === fieldTag) return compareStrings(a, b);
    return comparePE(this.elementOf(a), this.elementOf(b));
  }

  private elementOf(k: string): PathElement {
    return (this.members.get(k) ?? this.children.get(k)?.pe) as PathElement;
  }

  /** Parses FieldsV1; element types it does not know are dropped, as upstream does. */
  static fromFieldsV1(v: unknown): FieldSet {
    if (!isObject(v)) throw badFields("FieldsV1 must be a JSON object");
    const known = readSets.get(v);
    if (known !== undefined) {
      readSets.delete(v);
      readSets.set(v, known);
      return known.shallowCopy();
    }
    const [set] = FieldSet.readV1(v);
    const out = set ?? new FieldSet();
    if (readSets.size >= maxReadSets) readSets.delete(readSets.keys().next().value as JsonObject);
    readSets.set(v, out.shallowCopy());
    return out;
  }

  /**
   * Returns the subtree read from `o` (undefined when it has none), whether `o` is itself a
   * member, and whether `o` is exactly what encoding that subtree writes (then the subtree
   * keeps `o` as its encoding).
   */
  private static readV1(o: JsonObject): [FieldSet | undefined, boolean, boolean] {
    let children: FieldSet | undefined;
    let isMember = false;
    let canonical = true;
    let first = true;
    let prev: PathElement | undefined;
    for (const key of Object.keys(o)) {
      if (key === ".") {
        isMember = true;
        const dot = o[key];
        if (!first || !isObject(dot) || !isEmpty(dot)) canonical = false;
        first = false;
        continue;
      }
      first = false;
      const pe = parsePE(key);
      if (pe === undefined) {
        canonical = false;
        continue;
      }
      const sub = has(o, key) ? o[key] : undefined;
      if (!isObject(sub)) throw badFields(`value of ${key} must be an object`);
      const [grand, childIsMember, childCanonical] = FieldSet.readV1(sub);
      // A field's key is the element's own key already; the others are made canonical.
      const k = pe.kind === "field" ? key : peKey(pe);
      if (!childCanonical || k !== key || (prev !== undefined && comparePE(prev, pe) >= 0)) canonical = false;
      prev = pe;
      if (childIsMember) {
        children ??= new FieldSet();
        children.addMember(k, pe);
      }
      if (grand !== undefined) {
        children ??= new FieldSet();
        const existing = children.children.get(k);
        children.addChild(pe, existing === undefined ? grand : existing.set.union(grand));
      }
    }
    if (children === undefined) return [undefined, true, first];
    if (canonical) {
      children.v1 = o;
      children.v1Self = isMember;
    }
    return [children, isMember, canonical];
  }

  private addChild(pe: PathElement, set: FieldSet): void {
    if (!set.isEmpty()) this.setChild(peKey(pe), { pe, set });
  }

  private addMember(k: string, pe: PathElement): void {
    this.v1 = undefined;
    if (this.members === noMembers) this.members = new Map();
    this.members.set(k, pe);
  }

  private setChild(k: string, c: Child): void {
    this.v1 = undefined;
    if (this.children === noChildren) this.children = new Map();
    this.children.set(k, c);
  }

  /** This subtree, to be placed in another set as well. */
  private share(): FieldSet {
    this.frozen = true;
    return this;
  }

  /** A new top-level node over the same (now shared) subtrees; it encodes as this one does. */
  private shallowCopy(): FieldSet {
    const out = new FieldSet();
    if (this.members.size > 0) out.members = new Map(this.members);
    for (const [k, c] of this.children) {
      c.set.frozen = true;
      out.setChild(k, c);
    }
    out.v1 = this.v1;
    out.v1Self = this.v1Self;
    return out;
  }
}
