// Validation of a value against an OpenAPI v3 schema the way the API server validates custom
// resources (k8s.io/kube-openapi pkg/validation/validate, driven by apiextensions'
// pkg/apiserver/validation). What is reproduced, because it shows in messages:
// - the validators run in upstream's order (type, allOf/anyOf/oneOf/not, string, format,
//   number, array, enum, object), each only on the kinds it applies to;
// - names are kube-openapi's: "spec.replicas", items "spec.ports[0]", additionalProperties keys
//   "spec.labels.app" (".app" at the root), required ".spec" at the root;
// - "match counts" decide which failing anyOf/oneOf branch is reported, as upstream;
// - errors with the same message are reported once per result;
// - numbers: integral JSON numbers are int64 upstream, others float64, which changes which
//   comparisons and messages apply (`should be less than or equal to 10` vs `1e+06`).
// The result converts to field errors as upstream's kubeOpenAPIResultToFieldErrors does.
import type { JSONSchemaProps } from "kubernetes-types/apiextensions/v1.js";
import {
  FieldError,
  childPath,
  goQuote,
  goFloat,
  invalid,
  notSupported,
  required,
  tooLong,
  tooMany,
  typeInvalid,
  type PathOrNil,
} from "../fielderrors.js";
import { formatChecker, supportedFormat } from "./formats.js";
import { badValue, goV, isGoInt } from "./gofmt.js";
import { compileGoRegexp, type GoMatcher } from "./regex.js";
import { ext } from "./props.js";

export interface ValueSchema {
  readonly types: readonly string[];
  readonly nullable: boolean;
  readonly format: string;
  readonly formatCheck: ((s: string) => boolean) | undefined;
  /** The single type the number validator knows ("integer", "number" or ""), and its format. */
  readonly numType: string;
  readonly numFormat: string;
  readonly enum: readonly unknown[] | undefined;
  readonly maximum: number | undefined;
  readonly exclusiveMaximum: boolean;
  readonly minimum: number | undefined;
  readonly exclusiveMinimum: boolean;
  readonly multipleOf: number | undefined;
  /** Whether multipleOf/maximum/minimum fit the schema's number type and format (checked once). */
  readonly boundsFit: { readonly multipleOf: boolean; readonly maximum: boolean; readonly minimum: boolean };
  readonly maxLength: number | undefined;
  readonly minLength: number | undefined;
  readonly pattern: string;
  readonly re: GoMatcher | undefined;
  readonly reError: string | undefined;
  readonly maxItems: number | undefined;
  readonly minItems: number | undefined;
  readonly uniqueItems: boolean;
  readonly items: ValueSchema | undefined;
  readonly maxProperties: number | undefined;
  readonly minProperties: number | undefined;
  readonly required: readonly string[];
  readonly properties: ReadonlyMap<string, ValueSchema>;
  readonly additionalProperties: { readonly allows: boolean; readonly schema: ValueSchema | undefined } | undefined;
  readonly allOf: readonly ValueSchema[];
  readonly listType: string | undefined;
  readonly listMapKeys: readonly string[];
  readonly anyOf: readonly ValueSchema[];
  readonly oneOf: readonly ValueSchema[];
  readonly not: ValueSchema | undefined;
}

export interface CompileOptions {
  /**
   * Custom resources are validated with formats the API server does not support dropped and
   * x-kubernetes-int-or-string typed as integer-or-string; defaults are validated (at CRD
   * time) from the structural schema, which does neither.
   */
  readonly forResources: boolean;
}

export function compileValueSchema(p: JSONSchemaProps, opts: CompileOptions): ValueSchema {
  let types: string[] = p.type ? [p.type] : [];
  if (opts.forResources && ext(p)["x-kubernetes-int-or-string"]) types = ["integer", "string"];
  const rawFormat = p.format ?? "";
  const format = opts.forResources ? supportedFormat(types, rawFormat) : rawFormat;
  let numType = "";
  let numFormat = "";
  if (types.length === 1) {
    if (types[0] === "integer") {
      numType = "integer";
      if (format === "int32" || format === "int64") numFormat = format;
    } else if (types[0] === "number") {
      numType = "number";
      if (format === "float" || format === "double") numFormat = format;
    }
  }
  let re: GoMatcher | undefined;
  let reError: string | undefined;
  if (p.pattern) {
    const c = compileGoRegexp(p.pattern);
    if ("re" in c) re = c.re;
    else reError = c.error;
  }
  const properties = new Map<string, ValueSchema>();
  for (const [k, v] of Object.entries(p.properties ?? {})) properties.set(k, compileValueSchema(v, opts));
  let additionalProperties: ValueSchema["additionalProperties"];
  const ap = p.additionalProperties as JSONSchemaProps | boolean | undefined;
  if (ap !== undefined && ap !== null) {
    additionalProperties =
      typeof ap === "boolean" ? { allows: ap, schema: undefined } : { allows: true, schema: compileValueSchema(ap, opts) };
  }
  const items = p.items && !Array.isArray(p.items) ? compileValueSchema(p.items as JSONSchemaProps, opts) : undefined;
  return {
    types,
    nullable: p.nullable === true,
    format,
    formatCheck: format ? formatChecker(format) : undefined,
    numType,
    numFormat,
    enum: p.enum,
    maximum: p.maximum,
    exclusiveMaximum: p.exclusiveMaximum === true,
    minimum: p.minimum,
    exclusiveMinimum: p.exclusiveMinimum === true,
    multipleOf: p.multipleOf,
    boundsFit: {
      multipleOf: p.multipleOf === undefined || fitsRange(p.multipleOf, true, numType, numFormat),
      maximum: p.maximum === undefined || fitsRange(p.maximum, true, numType, numFormat),
      minimum: p.minimum === undefined || fitsRange(p.minimum, true, numType, numFormat),
    },
    maxLength: p.maxLength,
    minLength: p.minLength,
    pattern: p.pattern ?? "",
    re,
    reError,
    maxItems: p.maxItems,
    minItems: p.minItems,
    uniqueItems: p.uniqueItems === true,
    items,
    maxProperties: p.maxProperties,
    minProperties: p.minProperties,
    required: p.required ?? [],
    properties,
    additionalProperties,
    allOf: (p.allOf ?? []).map((x) => compileValueSchema(x, opts)),
    listType: ext(p)["x-kubernetes-list-type"],
    listMapKeys: ext(p)["x-kubernetes-list-map-keys"] ?? [],
    anyOf: (p.anyOf ?? []).map((x) => compileValueSchema(x, opts)),
    oneOf: (p.oneOf ?? []).map((x) => compileValueSchema(x, opts)),
    not: p.not ? compileValueSchema(p.not, opts) : undefined,
  };
}

// ---- results ------------------------------------------------------------------------------

type Code =
  | "InvalidType"
  | "Required"
  | "TooLong"
  | "TooShort"
  | "Pattern"
  | "Enum"
  | "MultipleOf"
  | "Max"
  | "Min"
  | "Unique"
  | "MaxItems"
  | "MinItems"
  | "TooFewProperties"
  | "TooManyProperties"
  | "UnallowedProperty"
  | "MultipleOfMustBePositive"
  /** Not a *Validation upstream (composite and range messages): reported at the base path. */
  | "Plain";

interface VErr {
  readonly code: Code;
  readonly name: string;
  readonly value: unknown;
  readonly valid?: number;
  readonly values?: readonly unknown[];
  readonly message: string;
}

class Result {
  errors: VErr[] = [];
  count = 0;

  add(e: VErr | undefined): void {
    if (!e) return;
    for (const x of this.errors) if (x.message === e.message) return;
    this.errors.push(e);
  }

  merge(o: Result | undefined): this {
    if (!o) return this;
    for (const e of o.errors) this.add(e);
    this.count += o.count;
    return this;
  }

  get valid(): boolean {
    return this.errors.length === 0;
  }
}

function single(e: VErr): Result {
  const r = new Result();
  r.errors.push(e);
  return r;
}

const IN = "body";

function invalidType(name: string, typeName: string, value: string): VErr {
  return { code: "InvalidType", name, value, message: `${name} in ${IN} must be of type ${typeName}: ${goQuote(value)}` };
}

function plain(message: string): VErr {
  return { code: "Plain", name: "", value: "", message };
}

// ---- Go number semantics ------------------------------------------------------------------

/** strconv.FormatFloat(f, 'f', -1, 64): shortest digits, no exponent. */
function formatFloatF(f: number): string {
  if (!Number.isFinite(f)) return String(f);
  if (f === 0) return "0";
  const [mant = "0", expStr = "0"] = Math.abs(f).toExponential().split("e");
  const digits = mant.replace(".", "");
  const exp = Number(expStr);
  const sign = f < 0 ? "-" : "";
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
  const frac = digits.slice(exp + 1);
  return frac ? `${sign}${intPart}.${frac}` : `${sign}${intPart}`;
}

function parseIntFits(s: string, bits: 32 | 64): boolean {
  if (!/^[+-]?\d+$/.test(s)) return false;
  const n = BigInt(s);
  const lim = 1n << BigInt(bits - 1);
  return n >= -lim && n < lim;
}

const FLOAT32_MAX = 3.4028234663852886e38;

function rangeMessage(typeName: string, format: string, prefix: string, path: string): VErr {
  return plain(
    format !== ""
      ? `${prefix} value must be of type ${typeName} with format ${format} in ${path}`
      : `${prefix} value must be of type ${typeName} (default format) in ${path}`,
  );
}

/** kube-openapi's IsValueValidAgainstRange: can the number be represented in the schema's type/format? */
function fitsRange(val: number, asFloat: boolean, typeName: string, format: string): boolean {
  if (typeName === "integer") {
    if (!asFloat && isGoInt(val)) return format !== "int32" || (val >= -(2 ** 31) && val < 2 ** 31);
    return parseIntFits(formatFloatF(val), format === "int32" ? 32 : 64);
  }
  if (format === "float") return Math.abs(val) <= FLOAT32_MAX;
  return true;
}

function rangeError(val: number, asFloat: boolean, typeName: string, format: string, prefix: string, path: string): VErr | undefined {
  return fitsRange(val, asFloat, typeName, format) ? undefined : rangeMessage(typeName, format, prefix, path);
}

/** swag.IsFloat64AJSONInteger. */
function isJSONInteger(f: number): boolean {
  if (!Number.isFinite(f) || Math.abs(f) > 2 ** 53) return false;
  if (Number.isInteger(f)) return true;
  const g = Math.trunc(f);
  const diff = Math.abs(f - g);
  if (g === 0) return false;
  return diff / (Math.abs(f) + Math.abs(g)) < 1e-9;
}

function exceeds(name: string, bound: string, max: boolean, exclusive: boolean, value: number): VErr {
  const rel = max ? (exclusive ? "less than" : "less than or equal to") : exclusive ? "greater than" : "greater than or equal to";
  return { code: max ? "Max" : "Min", name, value, message: `${name} in ${IN} should be ${rel} ${bound}` };
}

function checkMaximum(name: string, val: number, max: number, exclusive: boolean, native: boolean): VErr | undefined {
  if (native && isGoInt(val)) {
    const m = Math.trunc(max);
    if ((!exclusive && val > m) || (exclusive && val >= m)) return exceeds(name, BigInt(m).toString(), true, exclusive, val);
    return undefined;
  }
  if ((!exclusive && val > max) || (exclusive && val >= max)) return exceeds(name, goFloat(max), true, exclusive, val);
  return undefined;
}

function checkMinimum(name: string, val: number, min: number, exclusive: boolean, native: boolean): VErr | undefined {
  if (native && isGoInt(val)) {
    const m = Math.trunc(min);
    if ((!exclusive && val < m) || (exclusive && val <= m)) return exceeds(name, BigInt(m).toString(), false, exclusive, val);
    return undefined;
  }
  if ((!exclusive && val < min) || (exclusive && val <= min)) return exceeds(name, goFloat(min), false, exclusive, val);
  return undefined;
}

function checkMultipleOf(name: string, val: number, factor: number, native: boolean): VErr | undefined {
  if (native && isGoInt(val)) {
    const f = Math.trunc(factor);
    if (f <= 0) return { code: "MultipleOfMustBePositive", name, value: f, message: `factor MultipleOf declared for ${name} must be positive: ${f}` };
    if (val % f !== 0) return { code: "MultipleOf", name, value: val, message: `${name} in ${IN} should be a multiple of ${f}` };
    return undefined;
  }
  if (factor <= 0) {
    return { code: "MultipleOfMustBePositive", name, value: factor, message: `factor MultipleOf declared for ${name} must be positive: ${goFloat(factor)}` };
  }
  const mult = factor < 1 ? (1 / factor) * val : val / factor;
  if (!isJSONInteger(mult)) return { code: "MultipleOf", name, value: val, message: `${name} in ${IN} should be a multiple of ${goFloat(factor)}` };
  return undefined;
}

// ---- equality as reflect.DeepEqual sees decoded JSON --------------------------------------

export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ak = Object.keys(a as object);
  const bo = b as Record<string, unknown>;
  if (ak.length !== Object.keys(bo).length) return false;
  for (const k of ak) {
    if (!Object.prototype.hasOwnProperty.call(bo, k)) return false;
    if (!jsonEqual((a as Record<string, unknown>)[k], bo[k])) return false;
  }
  return true;
}

/**
 * Whether data matches one enum value as kube-openapi's enum check decides: the data is
 * converted to the enum value's Go type when Go allows it (float64 → int64 truncates,
 * int64 → string is a rune conversion), then compared deeply.
 */
function enumMatches(data: unknown, e: unknown): boolean {
  if (e === null || data === null) return false;
  if (typeof data === "number" && typeof e === "number") {
    if (isGoInt(e) && !isGoInt(data)) return Math.trunc(data) === e;
    return data === e;
  }
  if (typeof data === "number" && typeof e === "string") {
    if (!isGoInt(data)) return false;
    const valid = data >= 0 && data <= 0x10ffff && !(data >= 0xd800 && data <= 0xdfff);
    return (valid ? String.fromCodePoint(data) : "\ufffd") === e;
  }
  return jsonEqual(data, e);
}

// ---- ratcheting (updates) -------------------------------------------------------------------

/** A value's old counterpart and the schema that correlates their children (apiserver's CorrelatedObject). */
interface Corr {
  readonly old: unknown;
  readonly s: ValueSchema;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === "object" && !Array.isArray(x);
}

function childSchema(s: ValueSchema, k: string): ValueSchema | undefined {
  return s.properties.get(k) ?? s.additionalProperties?.schema;
}

function keyCorr(corr: Corr | undefined, path: string, data: Record<string, unknown>, k: string): Corr | undefined {
  if (!corr || (path === "" && (k === "kind" || k === "apiVersion"))) return undefined;
  const old = corr.old;
  if (!isObject(old) || !Object.prototype.hasOwnProperty.call(old, k) || !Object.prototype.hasOwnProperty.call(data, k)) return undefined;
  const cs = childSchema(corr.s, k);
  return cs ? { old: old[k], s: cs } : undefined;
}

function oldAtIndex(s: ValueSchema, data: unknown[], old: unknown, i: number): unknown {
  if (!Array.isArray(old) || i >= data.length) return undefined;
  switch (s.listType) {
    case "map": {
      const cur = data[i];
      if (!isObject(cur)) return undefined;
      return old.find((o) => isObject(o) && s.listMapKeys.every((k) => jsonEqual(o[k], cur[k])));
    }
    case "set":
    case "atomic":
      return undefined;
    default:
      return i < old.length ? old[i] : undefined;
  }
}

function indexCorr(corr: Corr | undefined, data: unknown[], i: number): Corr | undefined {
  if (!corr || !corr.s.items) return undefined;
  const o = oldAtIndex(corr.s, data, corr.old, i);
  return o === undefined || o === null ? undefined : { old: o, s: corr.s.items };
}

/** CorrelatedObject.CachedDeepEqual: map lists compare element by key, other lists as a whole. */
function corrEqual(corr: Corr, value: unknown): boolean {
  const old = corr.old;
  if ((value === null || value === undefined) && (old === null || old === undefined)) return true;
  if (value === null || value === undefined || old === null || old === undefined) return false;
  if (Array.isArray(value) || Array.isArray(old)) {
    if (!Array.isArray(value) || !Array.isArray(old) || value.length !== old.length) return false;
    for (let i = 0; i < value.length; i++) {
      const c = indexCorr(corr, value, i);
      if (!c) return corr.s.listType === "map" ? false : jsonEqual(old, value);
      if (!corrEqual(c, value[i])) return false;
    }
    return true;
  }
  if (isObject(value) || isObject(old)) {
    if (!isObject(value) || !isObject(old) || Object.keys(value).length !== Object.keys(old).length) return false;
    for (const k of Object.keys(value)) {
      if (!Object.prototype.hasOwnProperty.call(old, k)) return false;
      const cs = childSchema(corr.s, k);
      if (!cs || !corrEqual({ old: old[k], s: cs }, value[k])) return false;
    }
    return true;
  }
  return jsonEqual(old, value);
}

// ---- the validator ------------------------------------------------------------------------

function schType(data: unknown): string {
  if (typeof data === "string") return "string";
  if (typeof data === "boolean") return "boolean";
  if (typeof data === "number") return isGoInt(data) ? "integer" : "number";
  if (Array.isArray(data)) return "array";
  return "object";
}

function validateType(s: ValueSchema, path: string, data: unknown): Result {
  const r = new Result();
  r.count++;
  if (data === null || data === undefined) {
    if (s.types.length > 0 && !s.types.includes("null") && !s.nullable) return single(invalidType(path, s.types.join(","), "null"));
    return r;
  }
  const t = schType(data);
  const isNum = typeof data === "number";
  const fmt = isNum ? (isGoInt(data) ? "int64" : "float64") : "";
  const isFloatInt = t === "number" && isJSONInteger(data as number) && s.types.includes("integer");
  const isIntFloat = t === "integer" && s.types.includes("number");
  const isLowerInt = false; // decoded JSON has no int32 values
  const isStringOrSlice = typeof data === "string" || Array.isArray(data);
  if (!isStringOrSlice && s.format !== "" && !(s.types.includes(t) || fmt === s.format || isFloatInt || isIntFloat || isLowerInt)) {
    return single(invalidType(path, s.format, fmt));
  }
  if (!(s.types.includes("number") || s.types.includes("integer")) && s.format !== "" && isStringOrSlice) return r;
  if (!(s.types.includes(t) || isFloatInt || isIntFloat)) return single(invalidType(path, s.types.join(","), t));
  return r;
}

function validateEnum(s: ValueSchema, path: string, data: unknown): Result | undefined {
  if (!s.enum || s.enum.length === 0) return undefined;
  for (const e of s.enum) if (enumMatches(data, e)) return undefined;
  return single({ code: "Enum", name: path, value: data, values: s.enum, message: `${path} in ${IN} should be one of ${goV(s.enum)}` });
}

function validateString(s: ValueSchema, path: string, data: string): Result | undefined {
  if (s.maxLength !== undefined || s.minLength !== undefined) {
    let n = 0;
    for (const _ of data) n++;
    if (s.maxLength !== undefined && n > s.maxLength) {
      return single({ code: "TooLong", name: path, value: data, valid: s.maxLength, message: `${path} in ${IN} should be at most ${s.maxLength} chars long` });
    }
    if (s.minLength !== undefined && n < s.minLength) {
      return single({ code: "TooShort", name: path, value: data, valid: s.minLength, message: `${path} in ${IN} should be at least ${s.minLength} chars long` });
    }
  }
  if (s.pattern !== "") {
    if (s.reError !== undefined) {
      return single({ code: "Pattern", name: path, value: data, message: `${path} in ${IN} should match '${s.pattern}, but pattern is invalid: ${s.reError}'` });
    }
    if (!s.re!.test(data)) return single({ code: "Pattern", name: path, value: data, message: `${path} in ${IN} should match '${s.pattern}'` });
  }
  return undefined;
}

function validateNumber(s: ValueSchema, path: string, data: number): Result {
  const res = new Result();
  const rMul = new Result();
  const rMin = new Result();
  const rMax = new Result();
  res.add(rangeError(data, false, s.numType, s.numFormat, "Checked", path));
  if (s.multipleOf !== undefined) {
    const e = s.boundsFit.multipleOf ? undefined : rangeMessage(s.numType, s.numFormat, "MultipleOf", path);
    rMul.add(e);
    rMul.add(checkMultipleOf(path, data, s.multipleOf, e === undefined));
  }
  if (s.maximum !== undefined) {
    const e = s.boundsFit.maximum ? undefined : rangeMessage(s.numType, s.numFormat, "Maximum boundary", path);
    rMax.add(e);
    rMax.add(checkMaximum(path, data, s.maximum, s.exclusiveMaximum, e === undefined));
  }
  if (s.minimum !== undefined) {
    const e = s.boundsFit.minimum ? undefined : rangeMessage(s.numType, s.numFormat, "Minimum boundary", path);
    rMin.add(e);
    rMin.add(checkMinimum(path, data, s.minimum, s.exclusiveMinimum, e === undefined));
  }
  res.merge(rMul).merge(rMin).merge(rMax);
  res.count++;
  return res;
}

function validateSlice(s: ValueSchema, path: string, data: unknown[], corr: Corr | undefined): Result {
  const r = new Result();
  if (s.items) for (let i = 0; i < data.length; i++) r.merge(validateValue(s.items, `${path}[${i}]`, data[i], indexCorr(corr, data, i)));
  if (s.minItems !== undefined && data.length < s.minItems) {
    r.add({ code: "MinItems", name: path, value: data.length, valid: s.minItems, message: `${path} in ${IN} should have at least ${s.minItems} items` });
  }
  if (s.maxItems !== undefined && data.length > s.maxItems) {
    r.add({ code: "MaxItems", name: path, value: data.length, valid: s.maxItems, message: `${path} in ${IN} should have at most ${s.maxItems} items` });
  }
  if (s.uniqueItems) {
    outer: for (let i = 1; i < data.length; i++) {
      for (let j = 0; j < i; j++) {
        if (jsonEqual(data[i], data[j])) {
          r.add({ code: "Unique", name: path, value: undefined, message: `${path} in ${IN} shouldn't contain duplicates` });
          break outer;
        }
      }
    }
  }
  r.count++;
  return r;
}

function validateObjectValue(s: ValueSchema, path: string, data: Record<string, unknown>, corr: Corr | undefined): Result {
  const r = new Result();
  const keys = Object.keys(data);
  if (s.minProperties !== undefined && keys.length < s.minProperties) {
    r.add({ code: "TooFewProperties", name: path, value: keys.length, valid: s.minProperties, message: `${path} in ${IN} should have at least ${s.minProperties} properties` });
  }
  if (s.maxProperties !== undefined && keys.length > s.maxProperties) {
    r.add({ code: "TooManyProperties", name: path, value: keys.length, valid: s.maxProperties, message: `${path} in ${IN} should have at most ${s.maxProperties} properties` });
  }
  const ap = s.additionalProperties;
  if (ap && !ap.allows) {
    for (const k of keys) {
      if (!s.properties.has(k)) r.add({ code: "UnallowedProperty", name: path, value: k, message: `${path}.${k} in ${IN} is a forbidden property` });
    }
  } else if (ap?.schema) {
    for (const k of keys) if (!s.properties.has(k)) r.merge(validateValue(ap.schema, `${path}.${k}`, data[k], keyCorr(corr, path, data, k)));
  }
  for (const [k, ps] of s.properties) {
    if (Object.prototype.hasOwnProperty.call(data, k)) r.merge(validateValue(ps, path ? `${path}.${k}` : k, data[k], keyCorr(corr, path, data, k)));
  }
  for (const k of s.required) {
    if (!Object.prototype.hasOwnProperty.call(data, k)) {
      r.add({ code: "Required", name: `${path}.${k}`, value: undefined, message: `${path}.${k} in ${IN} is required` });
    }
  }
  return r;
}

function validateSchemaProps(s: ValueSchema, path: string, data: unknown, corr: Corr | undefined): Result {
  const main = new Result();
  if (s.anyOf.length > 0) {
    let best: Result | undefined;
    let firstSuccess: Result | undefined;
    let ok = false;
    for (const sub of s.anyOf) {
      const r = validateValue(sub, path, data, corr, false);
      if (r.valid) {
        best = undefined;
        ok = true;
        firstSuccess ??= r;
        break;
      }
      if (!best || r.count > best.count) best = r;
    }
    if (!ok) main.add(plain(`${goQuote(path)} must validate at least one schema (anyOf)`));
    if (best) main.merge(best);
    else if (firstSuccess) main.merge(firstSuccess);
  }
  if (s.oneOf.length > 0) {
    let best: Result | undefined;
    let firstSuccess: Result | undefined;
    let validated = 0;
    for (const sub of s.oneOf) {
      const r = validateValue(sub, path, data, corr, false);
      if (r.valid) {
        validated++;
        best = undefined;
        firstSuccess ??= r;
        continue;
      }
      if (validated === 0 && (!best || r.count > best.count)) best = r;
    }
    if (validated !== 1) {
      const more = validated === 0 ? "Found none valid" : `Found ${validated} valid alternatives`;
      main.add(plain(`${goQuote(path)} must validate one and only one schema (oneOf). ${more}`));
      if (best) main.merge(best);
    } else if (firstSuccess) {
      main.merge(firstSuccess);
    }
  }
  if (s.allOf.length > 0) {
    let validated = 0;
    for (const sub of s.allOf) {
      const r = validateValue(sub, path, data, corr, false);
      if (r.valid) validated++;
      main.merge(r);
    }
    if (validated !== s.allOf.length) {
      main.add(plain(`${goQuote(path)} must validate all the schemas (allOf)${validated === 0 ? ". None validated" : ""}`));
    }
  }
  if (s.not && validateValue(s.not, path, data, corr, false).valid) main.add(plain(`${goQuote(path)} must not validate the schema (not)`));
  main.count++;
  return main;
}

/**
 * kube-openapi's SchemaValidator.Validate; with a correlated old value (updates), upstream's
 * ratcheting: errors of a value equal to its old value are dropped. Branches of
 * allOf/anyOf/oneOf/not do not ratchet themselves, but their fields do.
 */
function validateValue(s: ValueSchema, path: string, data: unknown, corr?: Corr, ratchetSelf = true): Result {
  const r = validateValueOnce(s, path, data, corr);
  if (corr && ratchetSelf && !r.valid && corrEqual(corr, data)) {
    const w = new Result();
    w.count = r.count;
    return w;
  }
  return r;
}

function validateValueOnce(s: ValueSchema, path: string, data: unknown, corr: Corr | undefined): Result {
  const r = new Result();
  if (data === null || data === undefined) {
    r.merge(validateType(s, path, data));
    r.merge(validateEnum(s, path, data));
    return r;
  }
  if (s.types.length > 0 || s.format !== "") {
    r.merge(validateType(s, path, data));
    r.count++;
  }
  r.merge(validateSchemaProps(s, path, data, corr));
  r.count++;
  if (typeof data === "string") {
    r.merge(validateString(s, path, data));
    r.count++;
    if (s.formatCheck) {
      if (!s.formatCheck(data)) r.add({ code: "InvalidType", name: path, value: data, message: `${path} in ${IN} must be of type ${s.format}: ${goQuote(data)}` });
      r.count++;
    }
  } else if (typeof data === "number") {
    r.merge(validateNumber(s, path, data));
    r.count++;
  } else if (Array.isArray(data)) {
    r.merge(validateSlice(s, path, data, corr));
    r.count++;
  }
  r.merge(validateEnum(s, path, data));
  r.count++;
  if (typeof data === "object" && !Array.isArray(data)) {
    r.merge(validateObjectValue(s, path, data as Record<string, unknown>, corr));
    r.count++;
  }
  r.count++;
  return r;
}

/** The value's errors as upstream's kubeOpenAPIResultToFieldErrors reports them under `base`. */
export function validateAgainst(s: ValueSchema, value: unknown, base: PathOrNil, old?: { readonly value: unknown }): FieldError[] {
  const res = validateValue(s, "", value, old ? { old: old.value, s } : undefined);
  if (res.valid) return [];
  const out: FieldError[] = [];
  for (const e of res.errors) {
    if (e.code === "Plain") {
      out.push(invalid(base, "", e.message));
      continue;
    }
    const p = e.name !== "" && e.name !== "." ? childPath(base, e.name.startsWith(".") ? e.name.slice(1) : e.name) : base;
    switch (e.code) {
      case "Required":
        out.push(required(p));
        break;
      case "Enum":
        out.push(notSupported(p, badValue(e.value), (e.values ?? []).map((v) => (typeof v === "string" ? v : JSON.stringify(v)))));
        break;
      case "TooLong":
        out.push(tooLong(p, e.valid ?? -1));
        break;
      case "MaxItems":
      case "TooManyProperties":
        out.push(tooMany(p, typeof e.value === "number" ? e.value : -1, e.valid ?? -1));
        break;
      case "InvalidType":
        out.push(typeInvalid(p, e.value ?? "", e.message));
        break;
      default:
        out.push(invalid(p, e.value === undefined ? "" : badValue(e.value), e.message));
    }
  }
  return out;
}
