// labelSelector and fieldSelector query parameters → one object filter. Field selectors accept
// metadata.name and metadata.namespace on every kind, plus what the kind declares.
import { parseSelector } from "../../api/labels.js";
import { parseFieldSelector } from "../../api/fields.js";
import type { KubeObject, ResourceDefinition } from "../registry/types.js";
import { badRequest } from "../status.js";
import type { ObjectFilter } from "../watchcache.js";

/**
 * Selectable fields of objects already asked about. Every field-selecting watcher of a resource
 * asks about each object of its events (the scheduler, sim-nodes, kubelets: several per pod
 * event); objects read through the API are never changed, so their fields are computed once.
 */
const fieldsSeen = new WeakMap<object, { readonly def: ResourceDefinition; readonly fields: Record<string, string> }>();

function fieldsOf(def: ResourceDefinition, obj: Readonly<KubeObject>): Record<string, string> {
  const seen = fieldsSeen.get(obj);
  if (seen !== undefined && seen.def === def) return seen.fields;
  const base: Record<string, string> = { "metadata.name": obj.metadata?.name ?? "" };
  if (def.namespaced) base["metadata.namespace"] = obj.metadata?.namespace ?? "";
  const fields = def.selectableFields ? { ...base, ...def.selectableFields(obj) } : base;
  fieldsSeen.set(obj, { def, fields });
  return fields;
}

export function selectionFilter(def: ResourceDefinition, q: URLSearchParams): ObjectFilter | undefined {
  const ls = q.get("labelSelector") ?? "";
  const fs = q.get("fieldSelector") ?? "";
  let labels: ReturnType<typeof parseSelector> | undefined;
  let fields: ReturnType<typeof parseFieldSelector> | undefined;
  if (ls.trim() !== "") {
    try {
      labels = parseSelector(ls);
    } catch (err) {
      // The parser's message is upstream's labels.Parse error, "unable to parse requirement: …" already.
      throw badRequest(err instanceof Error ? err.message : String(err));
    }
  }
  if (fs.trim() !== "") {
    try {
      fields = parseFieldSelector(fs);
    } catch (err) {
      throw badRequest(err instanceof Error ? err.message : String(err));
    }
    // Only fields the kind offers may be selected on (upstream: field label not supported).
    const supported = new Set(Object.keys(fieldsOf(def, { metadata: {} })));
    for (const f of fields.fieldNames()) {
      if (!supported.has(f)) throw badRequest(`field label not supported: ${f}`);
    }
  }
  if (!labels && !fields) return undefined;
  return (obj) => {
    if (labels && !labels.matches(obj.metadata?.labels ?? {})) return false;
    if (fields && !fields.matches(fieldsOf(def, obj))) return false;
    return true;
  };
}
