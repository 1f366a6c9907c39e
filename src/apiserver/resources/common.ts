// Pieces every resource declaration shares: metadata validation with the kind's name rule,
// the usual field checks wrapped into field errors at a path, and strategy building blocks.
import type { LabelSelector, ObjectMeta } from "kubernetes-types/meta/v1.js";
import { compareGoStrings, FieldPath, goQuote, GoRendered, invalid, notSupported, required, type FieldError } from "../../api/fielderrors.js";
import {
  isDNS1123Label,
  isDNS1123Subdomain,
  isDNS1035Label,
  isQualifiedName,
  IS_NEGATIVE_ERROR_MSG,
  nameIsDNSSubdomain,
  parseIPSloppy,
  validateImmutableField,
  validateObjectMeta,
  validateObjectMetaUpdate,
  type NameValidator,
} from "../../api/validation.js";
import type { KubeObject } from "../registry/types.js";
import { asObj, isObj, jsonEqual, strMap, type Json } from "./util.js";

export const META = FieldPath.of("metadata");
export const SPEC = FieldPath.of("spec");

function typedFields(o: Json, strings: readonly string[], booleans: readonly string[]): Json {
  const out: Json = {};
  for (const k of strings) if (typeof o[k] === "string") out[k] = o[k];
  for (const k of booleans) if (typeof o[k] === "boolean") out[k] = o[k];
  return out;
}

/**
 * The metadata as the validators expect it: fields of the wrong JSON type are left out (the
 * decoder reports those), so a malformed body cannot make a validator throw.
 */
function metaOf(obj: KubeObject): ObjectMeta {
  const md = asObj(obj.metadata) ?? {};
  const out: Json = {};
  for (const [k, v] of Object.entries(md)) {
    switch (k) {
      case "labels":
      case "annotations":
        if (isObj(v)) out[k] = strMap(v);
        break;
      case "finalizers":
        if (Array.isArray(v)) out[k] = v.filter((x) => typeof x === "string");
        break;
      case "ownerReferences":
        if (Array.isArray(v)) out[k] = v.filter(isObj).map((x) => typedFields(x, ["apiVersion", "kind", "name", "uid"], ["controller", "blockOwnerDeletion"]));
        break;
      case "managedFields":
        if (Array.isArray(v)) out[k] = v.filter(isObj).map((x) => typedFields(x, ["manager", "operation", "apiVersion", "time", "fieldsType", "subresource"], []));
        break;
      case "generation":
      case "deletionGracePeriodSeconds":
        if (typeof v === "number") out[k] = v;
        break;
      default:
        if (typeof v === "string") out[k] = v;
    }
  }
  return out as ObjectMeta;
}

/** A label selector with only well-typed parts, for the validators and the converter. */
export function selectorView(sel: unknown): LabelSelector | undefined {
  if (!isObj(sel)) return undefined;
  const out: LabelSelector = {};
  if (isObj(sel.matchLabels)) out.matchLabels = strMap(sel.matchLabels);
  if (Array.isArray(sel.matchExpressions)) {
    out.matchExpressions = sel.matchExpressions.filter(isObj).map((e) => ({
      key: typeof e.key === "string" ? e.key : "",
      operator: typeof e.operator === "string" ? e.operator : "",
      ...(Array.isArray(e.values) ? { values: e.values.filter((v): v is string => typeof v === "string") } : {}),
    }));
  }
  return out;
}

const STANDARD_FINALIZERS = new Set(["kubernetes", "orphan", "foregroundDeletion"]);

/** Core's extra finalizer rule: a name without a domain must be one of the standard ones. */
export function validateKubeFinalizerName(name: string, path: FieldPath): FieldError[] {
  if (!name.includes("/") && !STANDARD_FINALIZERS.has(name)) return [invalid(path, name, "name is neither a standard finalizer name nor is it fully qualified")];
  return [];
}

function kubeFinalizers(meta: ObjectMeta): FieldError[] {
  return (meta.finalizers ?? []).flatMap((f) => (typeof f === "string" ? validateKubeFinalizerName(f, META.child("finalizers")) : []));
}

/** ValidateObjectMeta for a kind, with its name rule (DNS subdomain unless the kind says otherwise). */
export function validateMeta(obj: KubeObject, namespaced: boolean, nameFn: NameValidator = nameIsDNSSubdomain): FieldError[] {
  const meta = metaOf(obj);
  return [...validateObjectMeta(meta, namespaced, nameFn, META), ...kubeFinalizers(meta)];
}

export function validateMetaUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const meta = metaOf(obj);
  return [...validateObjectMetaUpdate(meta, metaOf(old), META), ...kubeFinalizers(meta)];
}

/** ValidateNonSpecialIP: a valid address outside the unspecified, loopback and link-local ranges. */
export function validateNonSpecialIP(ip: string, path: FieldPath): FieldError[] {
  const b = parseIPSloppy(ip);
  if (!b) return [invalid(path, ip, "must be a valid IP address")];
  const v4 = b.length === 4 ? b : b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff ? b.slice(12) : undefined;
  const errs: FieldError[] = [];
  if (b.every((x) => x === 0)) errs.push(invalid(path, ip, `may not be unspecified (${ip})`));
  const loopback = v4 ? v4[0] === 127 : b.slice(0, 15).every((x) => x === 0) && b[15] === 1;
  if (loopback) errs.push(invalid(path, ip, "may not be in the loopback range (127.0.0.0/8, ::1/128)"));
  const linkLocal = v4 ? v4[0] === 169 && v4[1] === 254 : b[0] === 0xfe && ((b[1] ?? 0) & 0xc0) === 0x80;
  if (linkLocal) errs.push(invalid(path, ip, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"));
  const llMulticast = v4 ? v4[0] === 224 && v4[1] === 0 && v4[2] === 0 : b[0] === 0xff && ((b[1] ?? 0) & 0x0f) === 0x02;
  if (llMulticast) errs.push(invalid(path, ip, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"));
  return errs;
}

export function dns1123Label(value: string, path: FieldPath): FieldError[] {
  return isDNS1123Label(value).map((m) => invalid(path, value, m));
}

export function dns1123Subdomain(value: string, path: FieldPath): FieldError[] {
  return isDNS1123Subdomain(value).map((m) => invalid(path, value, m));
}

export function dns1035Label(value: string, path: FieldPath): FieldError[] {
  return isDNS1035Label(value).map((m) => invalid(path, value, m));
}

export function qualifiedName(value: string, path: FieldPath): FieldError[] {
  return isQualifiedName(value).map((m) => invalid(path, value, m));
}

export function nonNegative(value: unknown, path: FieldPath): FieldError[] {
  return typeof value === "number" && value < 0 ? [invalid(path, value, IS_NEGATIVE_ERROR_MSG)] : [];
}

/** An enumeration with upstream's Required for "" and NotSupported (values in upstream's order). */
export function oneOf(value: unknown, supported: readonly string[], path: FieldPath, requiredWhenEmpty = true): FieldError[] {
  if (value === undefined || value === null || value === "") return requiredWhenEmpty ? [required(path, "")] : [];
  return typeof value === "string" && supported.includes(value) ? [] : [notSupported(path, value, supported)];
}

/** `field is immutable` when the value changed (compared as JSON). */
export function immutable(newVal: unknown, oldVal: unknown, path: FieldPath): FieldError[] {
  if (jsonEqual(newVal ?? null, oldVal ?? null)) return [];
  if (typeof newVal === "string" || newVal === undefined) return validateImmutableField(newVal, oldVal, path);
  return [invalid(path, newVal, "field is immutable")];
}

export const MAX_INT32 = 2147483647;

function goStringSlice(v: unknown): string {
  if (!Array.isArray(v)) return "[]string(nil)";
  return `[]string{${v.map((x) => goQuote(String(x))).join(", ")}}`;
}

function goStringMap(v: unknown): string {
  if (!isObj(v)) return "map[string]string(nil)";
  const entries = Object.entries(v).sort(([a], [b]) => compareGoStrings(a, b));
  return `map[string]string{${entries.map(([k, x]) => `${goQuote(k)}:${goQuote(String(x))}`).join(", ")}}`;
}

/**
 * A metav1.LabelSelector as Go's %#v prints it in field errors, e.g.
 * `v1.LabelSelector{MatchLabels:map[string]string{"app":"web"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}`.
 */
export function goLabelSelector(sel: unknown): GoRendered {
  const s = isObj(sel) ? sel : {};
  const exprs = Array.isArray(s.matchExpressions)
    ? `[]v1.LabelSelectorRequirement{${s.matchExpressions
        .map((e) => {
          const r = isObj(e) ? e : {};
          return `v1.LabelSelectorRequirement{Key:${goQuote(String(r.key ?? ""))}, Operator:${goQuote(String(r.operator ?? ""))}, Values:${goStringSlice(r.values)}}`;
        })
        .join(", ")}}`
    : "[]v1.LabelSelectorRequirement(nil)";
  return new GoRendered(`v1.LabelSelector{MatchLabels:${goStringMap(s.matchLabels)}, MatchExpressions:${exprs}}`);
}
