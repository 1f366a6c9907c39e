// metadata.managedFields: who owns which fields, tracked on every write as the apiserver's field
// manager does (apimachinery pkg/util/managedfields/internal). Creates, updates and patches are
// recorded as "Update" entries for the request's field manager (the `fieldManager` query
// parameter, else the User-Agent up to its first "/": "kubectl", "kube-controller-manager");
// server-side apply (apply.ts) records "Apply" entries.
//
// Entries are keyed by manager, operation, subresource and (for updates) apiVersion; at most ten
// update entries are kept, older ones are folded into "ancient-changes". An object that has no
// managedFields gets none on update: tracking starts at create or at the first apply.
import { PatchError } from "./errors.js";
import { FieldSet, path, peKey, type Path } from "./fieldpath.js";
import { clone, get, has, isObject, type JsonObject, type JsonValue } from "./json.js";
import type { PatchSchema } from "./schema.js";
import { compare, TypedError } from "./typed.js";
import { rfc3339 } from "../../util/time.js";

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: JsonObject;
  subresource?: string;
}

/** One manager's ownership, as the field manager keeps it between decoding and encoding. */
export interface ManagerState {
  readonly manager: string;
  readonly applied: boolean;
  /** The version the field set is expressed in. */
  readonly apiVersion: string;
  readonly subresource: string;
  readonly set: FieldSet;
  readonly time?: string;
}

/** Managers by identifier (manager, operation, subresource, and apiVersion for updates). */
export type Managed = Map<string, ManagerState>;

export const maxUpdateManagers = 10;
const ancientChanges = "ancient-changes";
const fieldManagerMaxLength = 128;

/**
 * Fields never recorded as owned: identity and bookkeeping of the object
 * (upstream's stripMetaManager).
 */
export const strippedFields: FieldSet = FieldSet.of(
  path("apiVersion"),
  path("kind"),
  path("metadata"),
  path("metadata", "name"),
  path("metadata", "namespace"),
  path("metadata", "creationTimestamp"),
  path("metadata", "selfLink"),
  path("metadata", "uid"),
  path("metadata", "clusterName"),
  path("metadata", "generation"),
  path("metadata", "managedFields"),
  path("metadata", "resourceVersion"),
);

/** The identifier upstream builds: the entry's JSON without time, fields, and for appliers apiVersion. */
export function managerIdentifier(m: { manager: string; applied: boolean; apiVersion: string; subresource: string }): string {
  const id: Record<string, string> = {};
  if (m.manager !== "") id["manager"] = m.manager;
  id["operation"] = m.applied ? "Apply" : "Update";
  if (!m.applied && m.apiVersion !== "") id["apiVersion"] = m.apiVersion;
  if (m.subresource !== "") id["subresource"] = m.subresource;
  return JSON.stringify(id);
}

/**
 * The field manager of a request: the `fieldManager` parameter, else the User-Agent's part
 * before the first "/", without unprintable characters, at most 128 bytes.
 */
export function managerOrUserAgent(fieldManager: string | undefined, userAgent: string | undefined): string {
  if (fieldManager !== undefined && fieldManager !== "") return fieldManager;
  const prefix = (userAgent ?? "").split("/")[0] ?? "";
  let out = "";
  let bytes = 0;
  for (const ch of prefix) {
    if (!isPrintable(ch)) continue;
    const n = Buffer.byteLength(ch, "utf8");
    if (bytes + n > fieldManagerMaxLength) break;
    out += ch;
    bytes += n;
  }
  return out;
}

function isPrintable(ch: string): boolean {
  // Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
  return ch === " " || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch);
}

/**
 * Checks a `fieldManager` parameter as upstream does (ValidateFieldManager); returns the
 * problems as field-error messages, empty when it is fine.
 */
export function validateFieldManager(fieldManager: string): string[] {
  const errs: string[] = [];
  if (Buffer.byteLength(fieldManager, "utf8") > fieldManagerMaxLength) errs.push(`fieldManager: Too long: may not be more than ${fieldManagerMaxLength} bytes`);
  let i = 0;
  for (const ch of fieldManager) {
    if (!isPrintable(ch)) {
      const cp = ch.codePointAt(0) ?? 0;
      errs.push(`fieldManager: Invalid value: ${JSON.stringify(fieldManager)}: invalid character U+${cp.toString(16).toUpperCase().padStart(4, "0")} (at position ${i})`);
    }
    i += Buffer.byteLength(ch, "utf8");
  }
  return errs;
}

/** Reads managedFields entries; throws ApplyFailed with upstream's reason when one is malformed. */
export function decodeManagedFields(entries: unknown): Managed {
  const out: Managed = new Map();
  if (entries === undefined || entries === null) return out;
  if (!Array.isArray(entries)) throw decodeError("managedFields must be a list");
  entries.forEach((raw: unknown, i) => {
    const e = isObject(raw) ? raw : {};
    const operation = e["operation"];
    if (operation !== "Apply" && operation !== "Update") throw decodeError("operation must be `Apply` or `Update`");
    const apiVersion = e["apiVersion"];
    if (typeof apiVersion !== "string" || apiVersion === "") throw decodeError("apiVersion must not be empty");
    const fieldsType = e["fieldsType"];
    if (fieldsType === undefined || fieldsType === "") throw decodeError(`missing fieldsType in managed fields entry ${i}`);
    if (fieldsType !== "FieldsV1") throw decodeError(`invalid fieldsType ${JSON.stringify(fieldsType)} in managed fields entry ${i}`);
    const manager = typeof e["manager"] === "string" ? e["manager"] : "";
    const subresource = typeof e["subresource"] === "string" ? e["subresource"] : "";
    let set: FieldSet;
    try {
      set = e["fieldsV1"] === undefined || e["fieldsV1"] === null ? new FieldSet() : FieldSet.fromFieldsV1(e["fieldsV1"]);
    } catch (err) {
      throw decodeError(`error decoding set: ${(err as Error).message}`);
    }
    const state: ManagerState = {
      manager,
      applied: operation === "Apply",
      apiVersion,
      subresource,
      set,
      ...(typeof e["time"] === "string" ? { time: e["time"] } : {}),
    };
    out.set(managerIdentifier(state), state);
  });
  return out;
}

const decodeError = (message: string): PatchError => new PatchError("ApplyFailed", `failed to decode managed fields: ${message}`);

/** Writes managedFields entries in upstream's order (operation, time, manager, apiVersion, subresource). */
export function encodeManagedFields(managed: Managed): ManagedFieldsEntry[] {
  const entries: ManagedFieldsEntry[] = [];
  for (const m of managed.values()) {
    const e: ManagedFieldsEntry = {};
    if (m.manager !== "") e.manager = m.manager;
    e.operation = m.applied ? "Apply" : "Update";
    e.apiVersion = m.apiVersion;
    if (m.time !== undefined) e.time = m.time;
    e.fieldsType = "FieldsV1";
    e.fieldsV1 = m.set.toFieldsV1();
    if (m.subresource !== "") e.subresource = m.subresource;
    entries.push(e);
  }
  if (entries.length < 2) return entries;
  const cmp = (a: string | undefined, b: string | undefined): number => ((a ?? "") < (b ?? "") ? -1 : (a ?? "") > (b ?? "") ? 1 : 0);
  return entries.sort(
    (p, q) =>
      cmp(p.operation, q.operation) ||
      (p.time === q.time ? 0 : seconds(p.time) - seconds(q.time)) ||
      cmp(p.manager, q.manager) ||
      cmp(p.apiVersion, q.apiVersion) ||
      cmp(p.subresource, q.subresource),
  );
}

const seconds = (t: string | undefined): number => (t === undefined ? 0 : Math.floor(Date.parse(t) / 1000) || 0);

/** RFC 3339 in UTC with whole seconds, as metav1.Time serializes. */
export function formatTime(now: Date | string): string {
  return rfc3339(typeof now === "string" ? new Date(now) : now);
}

export interface TrackOptions {
  /** The request's field manager (see managerOrUserAgent); "" records as "unknown". */
  readonly manager: string;
  /** group/version of the request, e.g. "apps/v1" or "v1". */
  readonly apiVersion: string;
  /** "status", "scale", ... for subresource requests. */
  readonly subresource?: string;
  readonly schema: PatchSchema | undefined;
  readonly now: Date | string;
  /**
   * Paths the request cannot change and that nobody may own through it (the strategy's reset
   * fields: `status` on the main resource, everything but `status` on /status).
   */
  readonly resetFields?: readonly Path[];
}

export function resetFilter(resetFields: readonly Path[] | undefined): FieldSet {
  return FieldSet.of(...(resetFields ?? []));
}

/** Object metadata helpers (objects are plain JSON here). */
export function metadataOf(obj: JsonObject | undefined): JsonObject | undefined {
  const m = obj === undefined ? undefined : get(obj, "metadata");
  return isObject(m) ? m : undefined;
}

export function withoutManagedFields(obj: JsonObject): JsonObject {
  const out = clone(obj);
  const meta = metadataOf(out);
  if (meta !== undefined) delete meta["managedFields"];
  return out;
}

/**
 * `obj` without metadata.managedFields, sharing everything below the top level and metadata
 * with `obj`: what the field manager needs to compare, and to hand back with new entries.
 */
function withoutManagedFieldsShallow(obj: JsonObject): JsonObject {
  const meta = metadataOf(obj);
  const out = { ...obj };
  if (meta !== undefined) {
    // Not a copy and a delete: deleting a key other than the last one added leaves the object
    // in V8's slow dictionary mode, and this metadata is what gets stored and served.
    const { managedFields: _dropped, ...bare } = meta;
    out["metadata"] = bare;
  }
  return out;
}

export function setManagedFields(obj: JsonObject, managed: Managed): void {
  const entries = encodeManagedFields(managed);
  let meta = metadataOf(obj);
  if (entries.length === 0) {
    if (meta !== undefined) delete meta["managedFields"];
    return;
  }
  if (meta === undefined) {
    meta = {};
    obj["metadata"] = meta;
  }
  meta["managedFields"] = entries as unknown as JsonValue;
}

/**
 * The structured-merge-diff update step: what changed from `live` to `obj` now belongs to
 * `manager`, and is taken away from everyone else (nobody conflicts on an update). Fields that
 * were removed are removed from every manager.
 */
export function recordUpdate(managed: Managed, live: JsonValue, obj: JsonValue, managerId: string, schema: PatchSchema | undefined, reset: FieldSet, state: Omit<ManagerState, "set">): void {
  // compare leaves the reset paths out already.
  const { added, modified, removed } = compare(live, obj, schema, reset);
  const changed = modified.union(added);
  for (const [id, m] of managed) {
    if (id === managerId) continue;
    // A manager that owns none of what changed keeps its entry as it was, and the encoding
    // its set carries (most writes touch one manager's fields).
    if (!m.set.sharesMember(changed) && !m.set.sharesMember(removed) && !m.set.isEmpty()) continue;
    const left = m.set.difference(changed).difference(removed);
    if (left.isEmpty()) managed.delete(id);
    else managed.set(id, { ...m, set: left });
  }
  const previous = managed.get(managerId)?.set;
  // `changed` has nothing of `reset` already.
  const mine = previous === undefined ? changed : previous.difference(removed).union(modified).union(added).recursiveDifference(reset);
  if (mine.isEmpty()) managed.delete(managerId);
  else managed.set(managerId, { ...state, set: mine });
}

/**
 * The update path of the apiserver's field manager below "skip non-applied": records the write
 * of `manager` from `live` to `obj` into `managed` (mutated).
 */
export function trackUpdate(managed: Managed, live: JsonValue, obj: JsonValue, manager: string, o: TrackOptions): void {
  const { state, id } = updater(manager, o);
  // The change is first recorded for a scratch manager, so that this manager's earlier entry
  // loses what changed like every other entry, then the two are joined.
  const current = "current-operation";
  const before = managed.get(id)?.set;
  recordUpdate(managed, live, obj, current, o.schema, resetFilter(o.resetFields), state);
  const got = managed.get(current);
  if (got !== undefined) {
    managed.delete(current);
    const stripped = got.set.difference(strippedFields);
    if (!stripped.isEmpty()) {
      const previous = managed.get(id);
      let set = previous === undefined ? stripped : stripped.union(previous.set);
      // A manager that wrote only fields it owned already (a lease renewal, a controller's
      // status) owns what it owned: that set keeps its encoding, the object the next write
      // reads again.
      if (before !== undefined && set.sameAs(before)) set = before;
      managed.set(id, { ...state, set, time: formatTime(o.now) });
    }
  }
  capUpdateManagers(managed);
}

function updater(manager: string, o: TrackOptions): { state: Omit<ManagerState, "set">; id: string } {
  const state = { manager: manager === "" ? "unknown" : manager, applied: false, apiVersion: o.apiVersion, subresource: o.subresource ?? "" };
  return { state, id: managerIdentifier(state) };
}

/**
 * What creates recorded, by schema and by the created object's JSON without its name (which
 * is never owned): a controller creates the same object over and over under generated names
 * (a ReplicaSet's pods), and comparing each with nothing by schema and encoding the result
 * was most of what tracking a create cost. JSON.stringify leaves out keys whose value is
 * undefined, and so does compare (typed.ts). `null`: the create owned nothing. The sets carry
 * their encoding, so the objects created alike share one FieldsV1 object, as their managers'
 * sets do on later writes.
 */
const createdSets = new WeakMap<PatchSchema, Map<string, FieldSet | null>>();
const untypedCreatedSets = new Map<string, FieldSet | null>();
/** Per schema; kept in insertion order, the oldest dropped first. */
const maxCreatedSets = 256;

function createdSetsOf(schema: PatchSchema | undefined): Map<string, FieldSet | null> {
  if (schema === undefined) return untypedCreatedSets;
  let m = createdSets.get(schema);
  if (m === undefined) {
    m = new Map();
    createdSets.set(schema, m);
  }
  return m;
}

/**
 * The key of a create in createdSets: the reset fields, then the object with "" for its name.
 * `obj` is withoutManagedFieldsShallow's: its metadata is ours to change for a moment.
 */
function createdKey(obj: JsonObject, o: TrackOptions): string {
  let reset = "";
  for (const p of o.resetFields ?? []) reset += `${p.map(peKey).join("\u0000")}\u0001`;
  const meta = metadataOf(obj);
  if (meta === undefined || !has(meta, "name")) return `${reset}\n${JSON.stringify(obj)}`;
  const name = meta["name"] as JsonValue;
  meta["name"] = "";
  try {
    return `${reset}\n${JSON.stringify(obj)}`;
  } finally {
    meta["name"] = name;
  }
}

/**
 * Objects created under a generated name are the ones created alike again and again (by
 * controllers); an object named by its creator rarely repeats (an Event), and would only
 * pay for its key.
 */
function generatesName(obj: JsonObject): boolean {
  const g = get(metadataOf(obj) ?? {}, "generateName");
  return typeof g === "string" && g !== "";
}

/** trackUpdate of a create (`managed` empty, nothing live), through createdSets. */
function trackCreate(managed: Managed, obj: JsonObject, o: TrackOptions): void {
  const sets = createdSetsOf(o.schema);
  const key = createdKey(obj, o);
  const known = sets.get(key);
  if (known === undefined) {
    trackUpdate(managed, {}, obj, o.manager, o);
    const got = managed.values().next().value;
    if (got !== undefined) got.set.toFieldsV1();
    if (sets.size >= maxCreatedSets) sets.delete(sets.keys().next().value as string);
    sets.set(key, got === undefined ? null : got.set.copy());
    return;
  }
  if (known === null) return;
  const { state, id } = updater(o.manager, o);
  managed.set(id, { ...state, set: known.copy(), time: formatTime(o.now) });
}

/** Folds the oldest update entries into "ancient-changes" (one per apiVersion) beyond ten. */
export function capUpdateManagers(managed: Managed): void {
  let count = 0;
  for (const m of managed.values()) if (!m.applied) count++;
  if (count <= maxUpdateManagers) return;
  const updaters = [...managed.entries()].filter(([, m]) => !m.applied).map(([id]) => id);
  const secondsOf = (id: string): number => seconds(managed.get(id)?.time);
  updaters.sort((a, b) => secondsOf(a) - secondsOf(b) || (a < b ? -1 : a > b ? 1 : 0));
  const firstOfVersion = new Map<string, string>();
  let length = updaters.length;
  for (let i = 0; i < updaters.length && length > maxUpdateManagers; i++) {
    const id = updaters[i] as string;
    const m = managed.get(id);
    if (m === undefined) continue;
    const bucketState = { manager: ancientChanges, applied: false, apiVersion: m.apiVersion, subresource: "" };
    const bucket = managerIdentifier(bucketState);
    const first = firstOfVersion.get(m.apiVersion);
    if (first === undefined) {
      firstOfVersion.set(m.apiVersion, id);
      continue;
    }
    let into = managed.get(bucket);
    if (into === undefined) {
      const f = managed.get(first);
      managed.delete(first);
      into = { ...bucketState, set: f?.set ?? new FieldSet() };
    }
    managed.delete(id);
    managed.set(bucket, { ...bucketState, set: m.set.union(into.set), ...(m.time !== undefined ? { time: m.time } : {}) });
    length--;
  }
}

function isResetRequest(entries: unknown): boolean {
  if (!Array.isArray(entries)) return false;
  if (entries.length === 0) return true;
  return entries.length === 1 && isObject(entries[0]) && Object.keys(entries[0]).length === 0;
}

function decodeOrEmpty(entries: unknown): Managed {
  try {
    return decodeManagedFields(entries);
  } catch {
    return new Map();
  }
}

/**
 * Records a create, update or patch (`live` undefined for a create) in `obj`'s managedFields and
 * returns the object to store. A request may set managedFields itself (kept when they decode),
 * or send `[]` / `[{}]` to reset them; subresource requests cannot touch them. The result
 * shares everything but its top level and metadata with `obj`, which the caller gives up.
 */
export function updateManagedFields(live: JsonObject | undefined, obj: JsonObject, o: TrackOptions): JsonObject {
  const requested = get(metadataOf(obj) ?? {}, "managedFields");
  const liveEntries = get(metadataOf(live) ?? {}, "managedFields");
  let managed: Managed;
  if ((o.subresource ?? "") !== "") managed = decodeOrEmpty(liveEntries);
  else if (isResetRequest(requested)) managed = new Map();
  else {
    managed = decodeOrEmpty(requested);
    if (managed.size === 0) managed = decodeOrEmpty(liveEntries);
  }
  const out = withoutManagedFieldsShallow(obj);
  if (managed.size === 0 && live !== undefined && typeof get(metadataOf(live) ?? {}, "uid") === "string" && get(metadataOf(live) ?? {}, "uid") !== "") {
    // An existing object without managedFields stays untracked until it is applied.
    return out;
  }
  try {
    if (live === undefined && managed.size === 0 && generatesName(out)) trackCreate(managed, out, o);
    else trackUpdate(managed, live === undefined ? {} : withoutManagedFieldsShallow(live), out, o.manager, o);
  } catch (err) {
    if (!(err instanceof TypedError)) throw err;
    // Upstream keeps the live entries when tracking fails rather than failing the write.
    const meta = metadataOf(out);
    if (meta !== undefined && Array.isArray(liveEntries)) meta["managedFields"] = clone(liveEntries as JsonValue);
    return out;
  }
  setManagedFields(out, managed);
  return out;
}

