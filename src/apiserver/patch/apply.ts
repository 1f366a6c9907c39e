// Server-side apply (`application/apply-patch+yaml`, `kubectl apply --server-side`), as the
// apiserver's field manager and structured-merge-diff do it:
// - the applied configuration is merged into the live object by the schema (typed.ts);
// - the applier then owns exactly the fields its configuration sets;
// - fields it owned before and no longer sets are removed, unless another manager owns them;
// - changing a field another manager owns is a conflict (409, listing each field and its
//   owner) unless `force`, which takes the field over.
// kubectl's own manager ("kubectl") may take over fields it set through client-side apply
// (per the last-applied-configuration annotation) without conflict, and keeps that annotation
// in step with what it applies.
import { PatchError } from "./errors.js";
import { FieldSet, pathString, type Path } from "./fieldpath.js";
import { clone, get, isObject, type JsonObject, type JsonValue } from "./json.js";
import { jsonEqual } from "../../util/json.js";
import {
  decodeManagedFields,
  formatTime,
  managerIdentifier,
  metadataOf,
  resetFilter,
  setManagedFields,
  strippedFields,
  trackUpdate,
  withoutManagedFields,
  type Managed,
  type ManagerState,
  type TrackOptions,
} from "./managedfields.js";
import { pruneNulls } from "./mergepatch.js";
import type { PatchSchema } from "./schema.js";
import { compare, ensureNamedFieldsAreMembers, merge, removeItems, toFieldSet, validateApplied } from "./typed.js";

export const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration";
const beforeFirstApply = "before-first-apply";
/** ValidateAnnotationsSize: all annotations of an object together. */
const totalAnnotationSizeLimit = 256 * 1024;

export interface ApplyOptions extends TrackOptions {
  /** Take over fields other managers own instead of failing with a conflict. */
  readonly force?: boolean;
  /** The kind served at the request's path; the applied object must say the same. */
  readonly kind: string;
}

export interface ApplyResult {
  /** The object to store, with its new managedFields. Defaulting has not run on it. */
  readonly object: JsonObject;
  /** Whether any field other than managedFields changed. */
  readonly changed: boolean;
}

/** One field another manager owns that the apply would change. */
export interface ApplyConflict {
  readonly manager: ManagerState;
  readonly managerId: string;
  readonly path: Path;
}

class Conflicts extends Error {
  constructor(readonly list: ApplyConflict[]) {
    super("conflicts");
  }
}

/**
 * Applies `applied` (the decoded request body) for `o.manager` to `live` (undefined when the
 * object does not exist yet). Throws PatchError: BadApply (400) for a body of the wrong kind or
 * one that sets managedFields, ApplyFailed (500) for a body that does not fit the schema,
 * ApplyConflict (409) for conflicts.
 */
export function apply(live: JsonObject | undefined, applied: unknown, o: ApplyOptions): ApplyResult {
  if (!isObject(applied)) {
    throw new PatchError("BadApply", `error decoding patch: json: cannot unmarshal ${Array.isArray(applied) ? "array" : typeof applied} into Go value of type map[string]interface {}`);
  }
  const gvk = gvkString(applied);
  const [group, version] = splitAPIVersion(o.apiVersion);
  if (applied["kind"] !== o.kind || applied["apiVersion"] !== o.apiVersion) {
    throw new PatchError("BadApply", `invalid object type: ${gvk}`);
  }
  const appliedMeta = metadataOf(applied);
  if (appliedMeta !== undefined && get(appliedMeta, "managedFields") !== undefined && get(appliedMeta, "managedFields") !== null) {
    throw new PatchError("BadApply", "metadata.managedFields must be nil");
  }
  const problems = validateApplied(applied, o.schema);
  if (problems.length > 0) {
    const name = `${str(get(appliedMeta ?? {}, "namespace"))}/${str(get(appliedMeta ?? {}, "name"))}`;
    const detail = problems.length === 1 ? problems[0] : ["errors:", ...problems.map((p) => `  ${p}`)].join("\n");
    throw new PatchError("ApplyFailed", `failed to create typed patch object (${name}; ${group}/${version}, Kind=${o.kind}): ${detail}`);
  }

  const managed = decodeManagedFields(get(metadataOf(live) ?? {}, "managedFields"));
  const liveBare = live === undefined ? {} : withoutManagedFields(live);
  let result: { object: JsonObject; changed: boolean; managed: Managed };
  try {
    result = applyOnce(liveBare, applied, copyManaged(managed), o, o.force === true);
  } catch (err) {
    if (!(err instanceof Conflicts)) throw err;
    let remaining = err.list;
    if (o.manager === "kubectl") {
      // Fields kubectl set with client-side apply (and that still hold the values it set) may be
      // taken over by kubectl's server-side apply.
      const allowed = allowedFromLastApplied(liveBare, o);
      if (allowed !== undefined) remaining = remaining.filter((c) => !allowed.has(c.path));
    }
    if (remaining.length > 0) throw conflictError(remaining);
    result = applyOnce(liveBare, applied, copyManaged(managed), o, true);
  }
  const object = result.object;
  if (o.manager === "kubectl") syncLastApplied(object, applied);
  setManagedFields(object, result.managed);
  return { object, changed: result.changed };
}

function applyOnce(live: JsonObject, applied: JsonObject, managed: Managed, o: ApplyOptions, force: boolean): { object: JsonObject; changed: boolean; managed: Managed } {
  const schema = o.schema;
  const reset = resetFilter(o.resetFields);
  if (managed.size === 0) {
    // An object nobody tracked yet: whatever it holds belongs to "before-first-apply", so the
    // first applier conflicts with it instead of silently taking everything.
    trackUpdate(managed, {}, live, beforeFirstApply, o);
  }
  const state = { manager: o.manager === "" ? "unknown" : o.manager, applied: true, apiVersion: o.apiVersion, subresource: o.subresource ?? "" };
  const id = managerIdentifier(state);
  const previous = managed.get(id);
  const merged = (merge(live, applied, schema) ?? {}) as JsonValue;
  const configSet = toFieldSet(applied, schema).recursiveDifference(reset);
  managed.set(id, { ...state, set: configSet, ...(previous?.time !== undefined ? { time: previous.time } : {}) });

  const next = prune(merged, managed, previous?.set, schema);

  const c = compare(live, next, schema);
  const changedSet = c.modified.recursiveDifference(reset).union(c.added.recursiveDifference(reset));
  const removed = c.removed.recursiveDifference(reset);
  const conflicts: ApplyConflict[] = [];
  const taken = new Map<string, FieldSet>();
  for (const [mid, m] of managed) {
    if (mid === id) continue;
    const cs = m.set.intersection(changedSet);
    if (cs.isEmpty()) continue;
    taken.set(mid, cs);
    for (const p of cs.paths()) conflicts.push({ manager: m, managerId: mid, path: p });
  }
  if (conflicts.length > 0 && !force) throw new Conflicts(conflicts);
  for (const [mid, m] of [...managed]) {
    if (mid === id) continue;
    const left = m.set.difference(taken.get(mid) ?? new FieldSet()).difference(removed);
    if (left.isEmpty()) managed.delete(mid);
    else managed.set(mid, { ...m, set: left });
  }

  const mine = managed.get(id);
  if (mine !== undefined) {
    const set = mine.set.difference(strippedFields);
    if (set.isEmpty()) managed.delete(id);
    else managed.set(id, { ...mine, set });
  }
  const changed = !jsonEqual(live, next);
  if (!changed) return { object: clone(live), changed, managed };
  const m = managed.get(id);
  if (m !== undefined) managed.set(id, { ...m, time: formatTime(o.now) });
  const object = isObject(next) ? pruneNulls(clone(next)) : {};
  return { object, changed, managed };
}

/**
 * Removes what the applier set last time and no longer sets, unless someone else owns it
 * (structured-merge-diff's prune with its add-back passes).
 */
function prune(merged: JsonValue, managed: Managed, last: FieldSet | undefined, schema: PatchSchema | undefined): JsonValue {
  if (last === undefined || last.isEmpty()) return merged;
  const named = (s: FieldSet): FieldSet => ensureNamedFieldsAreMembers(s, schema);
  const lastNamed = named(last);
  const firstCut = removeItems(merged, lastNamed, schema);
  let owned = new FieldSet();
  for (const m of managed.values()) owned = owned.union(m.set);
  const mergedNamed = named(toFieldSet(merged, schema));
  const ownedBack = removeItems(merged, mergedNamed.difference(named(toFieldSet(firstCut, schema)).union(named(owned))), schema);
  return removeItems(merged, mergedNamed.difference(named(toFieldSet(ownedBack, schema))).intersection(lastNamed), schema);
}

function copyManaged(m: Managed): Managed {
  return new Map([...m].map(([k, v]) => [k, { ...v, set: v.set.copy() }]));
}

/** How conflict messages name a manager: `"kubectl-client-side-apply" using apps/v1`. */
function printManager(m: ManagerState): string {
  let s = JSON.stringify(m.manager);
  if (m.subresource !== "") s += ` with subresource ${JSON.stringify(m.subresource)}`;
  if (!m.applied) s += ` using ${m.apiVersion}`;
  return s;
}

function conflictError(conflicts: ApplyConflict[]): PatchError {
  const sorted = [...conflicts].sort((a, b) => (a.managerId < b.managerId ? -1 : a.managerId > b.managerId ? 1 : 0));
  const causes = sorted.map((c) => ({ type: "FieldManagerConflict", message: `conflict with ${printManager(c.manager)}`, field: pathString(c.path) }));
  let message: string;
  const first = sorted[0];
  if (sorted.length === 1 && first !== undefined) {
    message = `Apply failed with 1 conflict: conflict with ${printManager(first.manager)}: ${pathString(first.path)}`;
  } else {
    const lines: string[] = [];
    let current: string | undefined;
    for (const c of sorted) {
      if (c.managerId !== current) {
        current = c.managerId;
        lines.push(`conflicts with ${printManager(c.manager)}:`);
      }
      lines.push(`- ${pathString(c.path)}`);
    }
    message = `Apply failed with ${sorted.length} conflicts: ${lines.join("\n")}`;
  }
  return new PatchError("ApplyConflict", message, { causes });
}

/** The fields of the last-applied-configuration annotation that still hold the applied values. */
function allowedFromLastApplied(live: JsonObject, o: ApplyOptions): FieldSet | undefined {
  const annotations = get(metadataOf(live) ?? {}, "annotations");
  const raw = isObject(annotations) ? get(annotations, lastAppliedAnnotation) : undefined;
  if (typeof raw !== "string" || raw === "") return undefined;
  let last: unknown;
  try {
    last = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!isObject(last) || last["apiVersion"] !== o.apiVersion) return undefined;
  if (validateApplied(last, o.schema).length > 0) return undefined;
  const c = compare(last, live, o.schema);
  return toFieldSet(last, o.schema).difference(c.modified).difference(c.added).difference(c.removed);
}

/** Keeps an existing last-applied-configuration annotation equal to what kubectl applied. */
function syncLastApplied(object: JsonObject, applied: JsonObject): void {
  const meta = metadataOf(object);
  const annotations = meta === undefined ? undefined : get(meta, "annotations");
  if (!isObject(annotations)) return;
  const current = get(annotations, lastAppliedAnnotation);
  if (typeof current !== "string" || current === "") return;
  const config = clone(applied);
  const configAnnotations = get(metadataOf(config) ?? {}, "annotations");
  if (isObject(configAnnotations)) delete configAnnotations[lastAppliedAnnotation];
  annotations[lastAppliedAnnotation] = `${sortedGoJSON(config)}\n`;
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) size += k.length + (typeof v === "string" ? Buffer.byteLength(v) : 0);
  if (size > totalAnnotationSizeLimit) delete annotations[lastAppliedAnnotation];
}

/** JSON with map keys sorted and HTML-safe escapes, as Go encodes an unstructured object. */
export function sortedGoJSON(v: JsonValue): string {
  if (Array.isArray(v)) return `[${v.map(sortedGoJSON).join(",")}]`;
  if (isObject(v)) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${goString(k)}:${sortedGoJSON(v[k] as JsonValue)}`)
      .join(",")}}`;
  }
  if (typeof v === "string") return goString(v);
  return JSON.stringify(v);
}

function goString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function splitAPIVersion(apiVersion: string): [string, string] {
  const i = apiVersion.indexOf("/");
  return i < 0 ? ["", apiVersion] : [apiVersion.slice(0, i), apiVersion.slice(i + 1)];
}

/** GroupVersionKind.String() of an object: `apps/v1, Kind=Deployment`, `/v1, Kind=Pod`. */
function gvkString(o: JsonObject): string {
  const [g, v] = splitAPIVersion(str(o["apiVersion"]));
  return `${g}/${v}, Kind=${str(o["kind"])}`;
}

function str(v: JsonValue | undefined): string {
  return typeof v === "string" ? v : "";
}
