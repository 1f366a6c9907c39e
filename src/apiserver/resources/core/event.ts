// Events, served as core/v1 and as events.k8s.io/v1 and stored once in the core form (upstream
// stores both in /registry/events). The events.k8s.io/v1 form renames fields (note ↔ message,
// regarding ↔ involvedObject, reportingController ↔ reportingComponent, deprecated* ↔ the
// legacy counters and timestamps); validation is upstream's legacy rules for core/v1 writes
// and the strict ones for events.k8s.io/v1 writes. Both expire an hour after their last write.
import { FieldPath, invalid, required, type FieldError } from "../../../api/fielderrors.js";
import { byteLength } from "../../../api/fielderrors.js";
import { isDNS1123Subdomain, nameIsDNSSubdomain } from "../../../api/validation.js";
import type { Conversion, KubeObject, ResourceDefinition, TableDefinition } from "../../registry/types.js";
import { immutable, qualifiedName, validateMeta, validateMetaUpdate } from "../common.js";
import { D } from "../descriptions.js";
import { column, nameColumn, parseTime, since } from "../print.js";
import { asNum, asObj, asStr, isObj, jsonEqual, meta, nameOf, setDefault, type Json } from "../util.js";

const EVENT_TTL_SECONDS = 3600;
const REPORTING_INSTANCE_LIMIT = 128;
const ACTION_LIMIT = 128;
const REASON_LIMIT = 128;
const NOTE_LIMIT = 1024;

/**
 * Fields of a core/v1 Event that Go always serializes (structs and non-omitempty strings), so a
 * stored event shows them even when the writer left them out.
 */
function defaultCoreEvent(ev: Json): void {
  setDefault(ev, "involvedObject", {});
  setDefault(ev, "source", {});
  for (const f of ["firstTimestamp", "lastTimestamp", "eventTime"]) if (!(f in ev)) ev[f] = null;
  setDefault(ev, "reportingComponent", "");
  setDefault(ev, "reportingInstance", "");
}

// ---- conversion -----------------------------------------------------------------------------

const COMMON = ["eventTime", "series", "reportingInstance", "action", "reason", "related", "type"] as const;

/** events.k8s.io/v1 → the stored core/v1 form. */
export function eventsV1ToCore(obj: KubeObject): KubeObject {
  const out: KubeObject = { apiVersion: "v1", kind: "Event", ...(obj.metadata !== undefined ? { metadata: obj.metadata } : {}) };
  for (const f of COMMON) if (obj[f] !== undefined) out[f] = obj[f];
  if (obj.regarding !== undefined) out.involvedObject = obj.regarding;
  if (obj.note !== undefined) out.message = obj.note;
  if (obj.reportingController !== undefined) out.reportingComponent = obj.reportingController;
  if (obj.deprecatedSource !== undefined) out.source = obj.deprecatedSource;
  if (obj.deprecatedFirstTimestamp !== undefined) out.firstTimestamp = obj.deprecatedFirstTimestamp;
  if (obj.deprecatedLastTimestamp !== undefined) out.lastTimestamp = obj.deprecatedLastTimestamp;
  if (obj.deprecatedCount !== undefined) out.count = obj.deprecatedCount;
  defaultCoreEvent(out);
  return out;
}

/** The stored core/v1 form → events.k8s.io/v1, with the fields Go always serializes there. */
export function coreToEventsV1(obj: KubeObject): KubeObject {
  const out: KubeObject = { apiVersion: "events.k8s.io/v1", kind: "Event", ...(obj.metadata !== undefined ? { metadata: obj.metadata } : {}) };
  for (const f of COMMON) if (obj[f] !== undefined) out[f] = obj[f];
  if (!("eventTime" in out)) out.eventTime = null;
  out.regarding = obj.involvedObject ?? {};
  if (typeof obj.message === "string" && obj.message !== "") out.note = obj.message;
  if (typeof obj.reportingComponent === "string" && obj.reportingComponent !== "") out.reportingController = obj.reportingComponent;
  if (out.reportingInstance === "") delete out.reportingInstance;
  out.deprecatedSource = obj.source ?? {};
  out.deprecatedFirstTimestamp = obj.firstTimestamp ?? null;
  out.deprecatedLastTimestamp = obj.lastTimestamp ?? null;
  if (typeof obj.count === "number" && obj.count !== 0) out.deprecatedCount = obj.count;
  return out;
}

export const eventsConversion: Conversion = { toStorage: eventsV1ToCore, fromStorage: coreToEventsV1 };

// ---- validation (on the core form; paths name core fields, as upstream's do) ---------------

function isZeroTime(v: unknown): boolean {
  return v === undefined || v === null || v === "" || parseTime(asStr(v)) === undefined;
}

function legacyValidate(ev: Json, strict: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const md = meta(ev);
  const ns = asStr(md.namespace) ?? "";
  const involved = asObj(ev.involvedObject) ?? {};
  const involvedNS = asStr(involved.namespace) ?? "";
  const nsPath = FieldPath.of("involvedObject", "namespace");
  const reportingField = strict ? "reportingController" : "reportingComponent";
  if (isZeroTime(ev.eventTime)) {
    if (involvedNS === "") {
      if (ns !== "" && ns !== "default") errs.push(invalid(nsPath, involvedNS, "does not match event.namespace"));
    } else if (ns !== involvedNS) {
      errs.push(invalid(nsPath, involvedNS, "does not match event.namespace"));
    }
  } else {
    if (involvedNS === "" && ns !== "default" && ns !== "kube-system") errs.push(invalid(nsPath, involvedNS, "does not match event.namespace"));
    const rc = asStr(ev.reportingComponent) ?? "";
    if (rc === "") errs.push(required(FieldPath.of(reportingField), ""));
    errs.push(...qualifiedName(rc, FieldPath.of(reportingField)));
    const ri = asStr(ev.reportingInstance) ?? "";
    if (ri === "") errs.push(required(FieldPath.of("reportingInstance"), ""));
    if (byteLength(ri) > REPORTING_INSTANCE_LIMIT) errs.push(invalid(FieldPath.of("reportingInstance"), "", `can have at most ${REPORTING_INSTANCE_LIMIT} characters`));
    const action = asStr(ev.action) ?? "";
    if (action === "") errs.push(required(FieldPath.of("action"), ""));
    if (byteLength(action) > ACTION_LIMIT) errs.push(invalid(FieldPath.of("action"), "", `can have at most ${ACTION_LIMIT} characters`));
    const reason = asStr(ev.reason) ?? "";
    if (reason === "") errs.push(required(FieldPath.of("reason"), ""));
    if (byteLength(reason) > REASON_LIMIT) errs.push(invalid(FieldPath.of("reason"), "", `can have at most ${REASON_LIMIT} characters`));
    if (byteLength(asStr(ev.message) ?? "") > NOTE_LIMIT) errs.push(invalid(FieldPath.of("message"), "", `can have at most ${NOTE_LIMIT} characters`));
  }
  for (const m of isDNS1123Subdomain(ns)) errs.push(invalid(FieldPath.of("namespace"), ns, m));
  return errs;
}

function validateSeries(ev: Json): FieldError[] {
  const series = asObj(ev.series);
  if (!series) return [];
  const errs: FieldError[] = [];
  const count = asNum(series.count) ?? 0;
  if (count < 2) errs.push(invalid(FieldPath.of("series", "count"), "", "should be at least 2"));
  if (isZeroTime(series.lastObservedTime)) errs.push(required(FieldPath.of("series", "lastObservedTime"), ""));
  return errs;
}

function strictCreate(ev: Json): FieldError[] {
  const errs = [...validateMeta(ev, true, nameIsDNSSubdomain), ...validateSeries(ev)];
  if (isZeroTime(ev.eventTime)) errs.push(required(FieldPath.of("eventTime"), ""));
  if (ev.type !== "Normal" && ev.type !== "Warning") errs.push(invalid(FieldPath.of("type"), "", `has invalid value: ${asStr(ev.type) ?? ""}`));
  if (!isZeroTime(ev.firstTimestamp)) errs.push(invalid(FieldPath.of("firstTimestamp"), "", "needs to be unset"));
  if (!isZeroTime(ev.lastTimestamp)) errs.push(invalid(FieldPath.of("lastTimestamp"), "", "needs to be unset"));
  if ((asNum(ev.count) ?? 0) !== 0) errs.push(invalid(FieldPath.of("count"), "", "needs to be unset"));
  const source = asObj(ev.source) ?? {};
  if ((asStr(source.component) ?? "") !== "" || (asStr(source.host) ?? "") !== "") errs.push(invalid(FieldPath.of("source"), "", "needs to be unset"));
  return errs;
}

function strictUpdate(ev: Json, old: Json): FieldError[] {
  const errs = validateMetaUpdate(ev, old);
  if (!jsonEqual(ev.series, old.series)) errs.push(...validateSeries(ev));
  const same = (f: string): FieldError[] => (jsonEqual(ev[f] ?? null, old[f] ?? null) ? [] : immutable(ev[f], old[f], FieldPath.of(f)));
  for (const f of ["involvedObject", "reason", "message", "source", "firstTimestamp", "lastTimestamp", "count", "reason", "type", "eventTime", "action", "related", "reportingComponent", "reportingInstance"]) {
    errs.push(...same(f));
  }
  return errs;
}

// ---- table and field selectors --------------------------------------------------------------

/** Age of a timestamp for the event columns; MicroTime and Time parse alike. */
function sinceOr(v: unknown, now: Date): string | undefined {
  const t = asStr(v);
  return t && parseTime(t) !== undefined ? since(t, now) : undefined;
}

export const eventTable: TableDefinition = {
  columns: [
    column("Last Seen", "string", D.eventLastTimestamp),
    column("Type", "string", D.eventType),
    column("Reason", "string", D.eventReason),
    column("Object", "string", D.eventInvolvedObject),
    column("Subobject", "string", D.eventFieldPath, 1),
    column("Source", "string", D.eventSource, 1),
    column("Message", "string", D.eventMessage),
    column("First Seen", "string", D.eventFirstTimestamp, 1),
    column("Count", "string", D.eventCount, 1),
    nameColumn(1),
  ],
  row(obj, now) {
    const ev = obj.apiVersion === "events.k8s.io/v1" ? eventsV1ToCore(obj as KubeObject) : obj;
    const first = sinceOr(ev.firstTimestamp, now) ?? sinceOr(ev.eventTime, now) ?? "<unknown>";
    let last = sinceOr(ev.lastTimestamp, now) ?? first;
    let count = asNum(ev.count) ?? 0;
    const series = asObj(ev.series);
    if (series) {
      last = sinceOr(series.lastObservedTime, now) ?? "<unknown>";
      count = asNum(series.count) ?? 0;
    } else if (count === 0) {
      count = 1;
    }
    const involved = asObj(ev.involvedObject) ?? {};
    const kind = (asStr(involved.kind) ?? "").toLowerCase();
    const target = (asStr(involved.name) ?? "") !== "" ? `${kind}/${asStr(involved.name) ?? ""}` : kind;
    const source = asObj(ev.source) ?? {};
    const component = asStr(source.component) || asStr(ev.reportingComponent) || "";
    const host = asStr(source.host) || asStr(ev.reportingInstance) || "";
    return [
      last,
      asStr(ev.type) ?? "",
      asStr(ev.reason) ?? "",
      target,
      asStr(involved.fieldPath) ?? "",
      host === "" ? component : `${component}, ${host}`,
      (asStr(ev.message) ?? "").trim(),
      first,
      count,
      nameOf(ev),
    ];
  },
};

export function coreEventFields(ev: Json): Record<string, string> {
  const involved = asObj(ev.involvedObject) ?? {};
  const source = asStr(asObj(ev.source)?.component) || asStr(ev.reportingComponent) || "";
  const s = (v: unknown): string => asStr(v) ?? "";
  return {
    "involvedObject.kind": s(involved.kind),
    "involvedObject.namespace": s(involved.namespace),
    "involvedObject.name": s(involved.name),
    "involvedObject.uid": s(involved.uid),
    "involvedObject.apiVersion": s(involved.apiVersion),
    "involvedObject.resourceVersion": s(involved.resourceVersion),
    "involvedObject.fieldPath": s(involved.fieldPath),
    reason: s(ev.reason),
    reportingComponent: s(ev.reportingComponent),
    source,
    type: s(ev.type),
  };
}

/** The events.k8s.io/v1 field selectors, named as that API names them (upstream's label conversion). */
function eventsV1Fields(ev: Json): Record<string, string> {
  const regarding = asObj(ev.regarding) ?? {};
  const s = (v: unknown): string => asStr(v) ?? "";
  return {
    "regarding.kind": s(regarding.kind),
    "regarding.namespace": s(regarding.namespace),
    "regarding.name": s(regarding.name),
    "regarding.uid": s(regarding.uid),
    "regarding.apiVersion": s(regarding.apiVersion),
    "regarding.resourceVersion": s(regarding.resourceVersion),
    "regarding.fieldPath": s(regarding.fieldPath),
    reason: s(ev.reason),
    reportingController: s(ev.reportingController),
    type: s(ev.type),
  };
}

export const coreEvents: ResourceDefinition = {
  group: "",
  version: "v1",
  kind: "Event",
  plural: "events",
  singular: "event",
  shortNames: ["ev"],
  namespaced: true,
  definition: "io.k8s.api.core.v1.Event",
  strategy: {
    defaults: defaultCoreEvent,
    validate: (obj) => legacyValidate(obj, false),
    validateUpdate: (obj) => legacyValidate(obj, false),
    statusFields: [],
    specFields: [],
    allowCreateOnUpdate: true,
    allowUnconditionalUpdate: true,
  },
  table: eventTable,
  selectableFields: (obj) => coreEventFields(obj),
  ttlSeconds: EVENT_TTL_SECONDS,
};

export const eventsV1: ResourceDefinition = {
  group: "events.k8s.io",
  version: "v1",
  kind: "Event",
  plural: "events",
  singular: "event",
  shortNames: ["ev"],
  namespaced: true,
  definition: "io.k8s.api.events.v1.Event",
  strategy: {
    defaults: (obj) => {
      if (!("eventTime" in obj)) obj.eventTime = null;
      if (!isObj(obj.regarding)) obj.regarding = {};
      if (!isObj(obj.deprecatedSource)) obj.deprecatedSource = {};
      for (const f of ["deprecatedFirstTimestamp", "deprecatedLastTimestamp"]) if (!(f in obj)) obj[f] = null;
    },
    validate: (obj) => {
      const ev = eventsV1ToCore(obj);
      return [...legacyValidate(ev, true), ...strictCreate(ev)];
    },
    validateUpdate: (obj, old) => {
      const ev = eventsV1ToCore(obj);
      return [...legacyValidate(ev, true), ...strictUpdate(ev, eventsV1ToCore(old))];
    },
    statusFields: [],
    specFields: [],
    allowCreateOnUpdate: true,
    allowUnconditionalUpdate: true,
  },
  table: eventTable,
  selectableFields: (obj) => eventsV1Fields(obj),
  storage: { resource: "events", group: "", conversion: eventsConversion },
  ttlSeconds: EVENT_TTL_SECONDS,
};
