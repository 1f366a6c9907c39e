// CRD-time checks of a version's openAPIV3Schema, as upstream's
// validateCustomResourceDefinitionValidation runs them for a new apiextensions.k8s.io/v1 CRD
// (every "require*" option on): the keyword/extension rules of
// ValidateCustomResourceDefinitionOpenAPISchema, the structural schema rules of
// schema.ValidateStructural (sorted by message, as upstream), and, when the schema is
// structural, that every default validates and is pruned. x-kubernetes-validations rules are
// checked for shape, then, when the schema has no other error, compiled (cel.ts).
import type { JSONSchemaProps } from "kubernetes-types/apiextensions/v1.js";
import {
  FieldError,
  FieldPath,
  aggregateMessage,
  forbidden,
  invalid,
  notSupported,
  required,
  GoRendered,
} from "../fielderrors.js";
import { compileCelRules, defaultRuleErrors } from "./cel.js";
import { badValue } from "./gofmt.js";
import { ext } from "./props.js";
import { compileGoRegexp } from "./regex.js";
import { asResourceRoot, coerceEmbedded, pruneUnknown, toStructural, validateEmbedded, type SNode } from "./structural.js";
import { compileValueSchema, jsonEqual, validateAgainst } from "./validate.js";

export interface StructuralSchemaOptions {
  /** The version has the status subresource: the root may then use only a few keywords. */
  readonly statusSubresource?: boolean;
  /** Where to say which rules are accepted but not evaluated (library functions k8ts lacks). */
  readonly warnings?: string[];
}

type Props = JSONSchemaProps;

const openapiV3Types = ["array", "boolean", "integer", "number", "object", "string"];
const metaFields = new Set(["metadata", "kind", "apiVersion"]);

function nonEmpty(o: object | undefined | null): boolean {
  return o !== undefined && o !== null && Object.keys(o).length > 0;
}

function has<T>(v: T | undefined | null): v is T {
  return v !== undefined && v !== null;
}

function isSchema(x: unknown): x is Props {
  return x !== null && typeof x === "object" && !Array.isArray(x);
}

// ---- the status-subresource root restriction ---------------------------------------------

/** JSONSchemaProps' Go fields in declaration order, with their JSON names. */
const goFields: [string, string][] = [
  ["ID", "id"],
  ["Schema", "$schema"],
  ["Ref", "$ref"],
  ["Description", "description"],
  ["Type", "type"],
  ["Nullable", "nullable"],
  ["Format", "format"],
  ["Title", "title"],
  ["Default", "default"],
  ["Maximum", "maximum"],
  ["ExclusiveMaximum", "exclusiveMaximum"],
  ["Minimum", "minimum"],
  ["ExclusiveMinimum", "exclusiveMinimum"],
  ["MaxLength", "maxLength"],
  ["MinLength", "minLength"],
  ["Pattern", "pattern"],
  ["MaxItems", "maxItems"],
  ["MinItems", "minItems"],
  ["UniqueItems", "uniqueItems"],
  ["MultipleOf", "multipleOf"],
  ["Enum", "enum"],
  ["MaxProperties", "maxProperties"],
  ["MinProperties", "minProperties"],
  ["Required", "required"],
  ["Items", "items"],
  ["AllOf", "allOf"],
  ["OneOf", "oneOf"],
  ["AnyOf", "anyOf"],
  ["Not", "not"],
  ["Properties", "properties"],
  ["AdditionalProperties", "additionalProperties"],
  ["PatternProperties", "patternProperties"],
  ["Dependencies", "dependencies"],
  ["AdditionalItems", "additionalItems"],
  ["Definitions", "definitions"],
  ["ExternalDocs", "externalDocs"],
  ["Example", "example"],
  ["XPreserveUnknownFields", "x-kubernetes-preserve-unknown-fields"],
  ["XEmbeddedResource", "x-kubernetes-embedded-resource"],
  ["XIntOrString", "x-kubernetes-int-or-string"],
  ["XListMapKeys", "x-kubernetes-list-map-keys"],
  ["XListType", "x-kubernetes-list-type"],
  ["XMapType", "x-kubernetes-map-type"],
  ["XValidations", "x-kubernetes-validations"],
];

const allowedAtRoot = [
  "Description",
  "Type",
  "Format",
  "Title",
  "Maximum",
  "ExclusiveMaximum",
  "Minimum",
  "ExclusiveMinimum",
  "MaxLength",
  "MinLength",
  "Pattern",
  "MaxItems",
  "MinItems",
  "UniqueItems",
  "MultipleOf",
  "Required",
  "Items",
  "Properties",
  "ExternalDocs",
  "Example",
  "XPreserveUnknownFields",
  "XValidations",
];

function isZero(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === "") return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === "object") return Object.keys(v).length === 0;
  return false;
}

function statusRootErrors(schema: Props, path: FieldPath): FieldError[] {
  const raw = schema as Record<string, unknown>;
  for (const [goName, jsonName] of goFields) {
    const v = raw[jsonName];
    if (isZero(v)) continue;
    if (goName === "Type") {
      if (schema.type !== "object") {
        return [invalid(path.child("type"), schema.type, `only "object" is allowed as the type at the root of the schema if the status subresource is enabled`)];
      }
      continue;
    }
    if (!allowedAtRoot.includes(goName)) {
      return [invalid(path, new GoRendered(JSON.stringify(schema)), `only [${allowedAtRoot.join(" ")}] fields are allowed at the root of the schema if the status subresource is enabled`)];
    }
  }
  return [];
}

// ---- NewStructural's errors -------------------------------------------------------------

function unsupportedFieldError(s: Props): string | undefined {
  if (s.id) return "OpenAPIV3Schema 'id' is not supported";
  if (s.$schema) return "OpenAPIV3Schema 'schema' is not supported";
  if (s.$ref) return "OpenAPIV3Schema '$ref' is not supported";
  if (nonEmpty(s.patternProperties)) return "OpenAPIV3Schema 'patternProperties' is not supported";
  if (nonEmpty(s.dependencies)) return "OpenAPIV3Schema 'dependencies' is not supported";
  if (has(s.additionalItems)) return "OpenAPIV3Schema 'additionalItems' is not supported";
  if (nonEmpty(s.definitions)) return "OpenAPIV3Schema 'definitions' is not supported";
  return undefined;
}

/** The error upstream's NewStructural returns for this schema, if any (depth first, as it converts). */
function newStructuralError(s: Props | undefined, nested = false): string | undefined {
  if (!s) return undefined;
  const u = unsupportedFieldError(s);
  if (u) return u;
  // newValueValidation: not, allOf, anyOf, oneOf (nested conversions).
  let e = newStructuralError(s.not, true);
  if (e) return e;
  for (const x of [...(s.allOf ?? []), ...(s.anyOf ?? []), ...(s.oneOf ?? [])]) {
    e = newStructuralError(x, true);
    if (e) return e;
  }
  if (ext(s)["x-kubernetes-preserve-unknown-fields"] === false) return "internal error: 'x-kubernetes-preserve-unknown-fields' must be true or undefined";
  if (has(s.items)) {
    if (Array.isArray(s.items)) return "OpenAPIV3Schema 'items' must be a schema, but is an array";
    e = newStructuralError(s.items as Props, nested);
    if (e) return e;
  }
  for (const p of Object.values(s.properties ?? {})) {
    e = newStructuralError(p, nested);
    if (e) return e;
  }
  const ap = s.additionalProperties as unknown;
  if (isSchema(ap)) return newStructuralError(ap, nested);
  return undefined;
}

// ---- ValidateStructural -------------------------------------------------------------------

type Level = "root" | "item" | "field";

function isIntOrStringPair(list: readonly Props[] | undefined): boolean {
  if (!list || list.length !== 2) return false;
  const only = (x: Props, t: string): boolean => {
    const keys = Object.keys(x).filter((k) => (x as Record<string, unknown>)[k] !== undefined);
    return keys.length === 1 && keys[0] === "type" && x.type === t;
  };
  return only(list[0]!, "integer") && only(list[1]!, "string");
}

function apSchema(s: Props): Props | undefined {
  const ap = s.additionalProperties as unknown;
  return isSchema(ap) ? ap : undefined;
}

function apPresent(s: Props): boolean {
  return has(s.additionalProperties as unknown);
}

function patternError(s: Props, path: FieldPath): FieldError[] {
  if (!s.pattern) return [];
  const c = compileGoRegexp(s.pattern);
  if ("error" in c) return [invalid(path.child("pattern"), s.pattern, `must be a valid regular expression, but isn't: ${c.error}`)];
  return [];
}

function valueValidationErrors(s: Props, skipAnyOf: boolean, skipFirstAllOfAnyOf: boolean, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!skipAnyOf) (s.anyOf ?? []).forEach((x, i) => errs.push(...nestedErrors(x, false, path.child("anyOf").index(i))));
  (s.allOf ?? []).forEach((x, i) => errs.push(...nestedErrors(x, skipFirstAllOfAnyOf && i === 0, path.child("allOf").index(i))));
  (s.oneOf ?? []).forEach((x, i) => errs.push(...nestedErrors(x, false, path.child("oneOf").index(i))));
  if (s.not) errs.push(...nestedErrors(s.not, false, path.child("not")));
  errs.push(...patternError(s, path));
  return errs;
}

/** validateNestedValueValidation: a node under allOf/anyOf/oneOf/not may only restrict values. */
function nestedErrors(v: Props, skipAnyOf: boolean, path: FieldPath): FieldError[] {
  const errs = valueValidationErrors(v, skipAnyOf, false, path);
  const x = ext(v);
  if (has(v.items) && !Array.isArray(v.items)) errs.push(...nestedErrors(v.items as Props, false, path.child("items")));
  for (const [k, p] of Object.entries(v.properties ?? {})) errs.push(...nestedErrors(p, false, path.child("properties").key(k)));
  if (v.type) errs.push(forbidden(path.child("type"), "must be empty to be structural"));
  const ap = v.additionalProperties as unknown;
  if (isSchema(ap) || ap === true) errs.push(forbidden(path.child("additionalProperties"), "must be undefined to be structural"));
  if (has(v.default)) errs.push(forbidden(path.child("default"), "must be undefined to be structural"));
  if (v.title) errs.push(forbidden(path.child("title"), "must be empty to be structural"));
  if (v.description) errs.push(forbidden(path.child("description"), "must be empty to be structural"));
  if (v.nullable) errs.push(forbidden(path.child("nullable"), "must be false to be structural"));
  if (x["x-kubernetes-preserve-unknown-fields"]) errs.push(forbidden(path.child("x-kubernetes-preserve-unknown-fields"), "must be false to be structural"));
  if (x["x-kubernetes-embedded-resource"]) errs.push(forbidden(path.child("x-kubernetes-embedded-resource"), "must be false to be structural"));
  if (x["x-kubernetes-int-or-string"]) errs.push(forbidden(path.child("x-kubernetes-int-or-string"), "must be false to be structural"));
  if ((x["x-kubernetes-list-map-keys"] ?? []).length > 0) errs.push(forbidden(path.child("x-kubernetes-list-map-keys"), "must be empty to be structural"));
  if (has(x["x-kubernetes-list-type"])) errs.push(forbidden(path.child("x-kubernetes-list-type"), "must be undefined to be structural"));
  if (has(x["x-kubernetes-map-type"])) errs.push(forbidden(path.child("x-kubernetes-map-type"), "must be undefined to be structural"));
  if ((x["x-kubernetes-validations"] ?? []).length > 0) errs.push(forbidden(path.child("x-kubernetes-validations"), "must be empty to be structural"));
  if (v.properties && "metadata" in v.properties) errs.push(forbidden(path.child("properties").key("metadata"), "must not be specified in a nested context"));
  return errs;
}

function metadataErrors(m: Props, checkMetadata: boolean, lvl: Level, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (checkMetadata && m.type !== "object") errs.push(invalid(path.child("type"), m.type ?? "", "must be object"));
  if (lvl === "root") {
    // Only name and generateName may be restricted; type and default are checked elsewhere.
    const props = Object.keys(m.properties ?? {});
    const onlyNames = props.length > 0 && props.every((k) => k === "name" || k === "generateName");
    const other = Object.entries(m).filter(([k, v]) => {
      if (v === undefined || k === "type" || k === "default") return false;
      if (k === "properties") return !(onlyNames || props.length === 0);
      if (v === false && k !== "x-kubernetes-preserve-unknown-fields") return false;
      if (v === null) return false;
      return true;
    });
    if (other.length > 0) errs.push(forbidden(path, "must not specify anything other than name and generateName, but metadata is implicitly specified"));
  }
  return errs;
}

function structuralInvariants(s: Props, lvl: Level, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const x = ext(s);
  const items = has(s.items) && !Array.isArray(s.items) ? (s.items as Props) : undefined;
  if (s.type === "array" && !items) errs.push(required(path.child("items"), "must be specified"));
  if (items) errs.push(...structuralInvariants(items, "item", path.child("items")));
  for (const [k, p] of Object.entries(s.properties ?? {})) errs.push(...structuralInvariants(p, "field", path.child("properties").key(k)));
  if (apPresent(s)) {
    if (lvl === "root") errs.push(forbidden(path.child("additionalProperties"), "must not be used at the root"));
    const ap = apSchema(s);
    if (ap) errs.push(...structuralInvariants(ap, "field", path.child("additionalProperties")));
  }
  if (x["x-kubernetes-int-or-string"] && x["x-kubernetes-preserve-unknown-fields"]) {
    errs.push(invalid(path.child("x-kubernetes-preserve-unknown-fields"), true, "must be false if x-kubernetes-int-or-string is true"));
  }
  if (x["x-kubernetes-int-or-string"] && x["x-kubernetes-embedded-resource"]) {
    errs.push(invalid(path.child("x-kubernetes-embedded-resource"), true, "must be false if x-kubernetes-int-or-string is true"));
  }
  const skipAnyOf = isIntOrStringPair(s.anyOf);
  const skipFirstAllOfAnyOf = (s.allOf ?? []).length >= 1 && isIntOrStringPair(s.allOf![0]!.anyOf);
  errs.push(...valueValidationErrors(s, skipAnyOf, skipFirstAllOfAnyOf, path));

  const embedded = x["x-kubernetes-embedded-resource"] === true;
  const checkMetadata = lvl === "root" || embedded;
  const type = s.type ?? "";
  if (embedded && type !== "object") {
    if (type === "") errs.push(required(path.child("type"), "must be object if x-kubernetes-embedded-resource is true"));
    else errs.push(invalid(path.child("type"), type, "must be object if x-kubernetes-embedded-resource is true"));
  } else if (type === "" && !x["x-kubernetes-int-or-string"] && !x["x-kubernetes-preserve-unknown-fields"]) {
    const where = lvl === "root" ? "at the root" : lvl === "item" ? "for specified array items" : "for specified object fields";
    errs.push(required(path.child("type"), `must not be empty ${where}`));
  }
  if (embedded && apPresent(s)) errs.push(forbidden(path.child("additionalProperties"), "must not be used if x-kubernetes-embedded-resource is set"));
  if (lvl === "root" && type !== "" && type !== "object") errs.push(invalid(path.child("type"), type, "must be object at the root"));
  const props = s.properties ?? {};
  if (checkMetadata && props["kind"] && props["kind"].type !== "string") {
    errs.push(invalid(path.child("properties").key("kind").child("type"), props["kind"].type ?? "", "must be string"));
  }
  if (checkMetadata && props["apiVersion"] && props["apiVersion"].type !== "string") {
    errs.push(invalid(path.child("properties").key("apiVersion").child("type"), props["apiVersion"].type ?? "", "must be string"));
  }
  if (props["metadata"]) errs.push(...metadataErrors(props["metadata"], checkMetadata, lvl, path.child("properties").key("metadata")));
  if (embedded && !x["x-kubernetes-preserve-unknown-fields"] && Object.keys(props).length === 0) {
    errs.push(required(path.child("properties"), "must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields"));
  }
  return errs;
}

function becauseDefined(sPath: FieldPath, vPath: FieldPath): FieldError {
  return required(sPath, `because it is defined in ${vPath.toString()}`);
}

function completenessVV(v: Props, s: Props | undefined, sPath: FieldPath, vPath: FieldPath): FieldError[] {
  if (!s) return [becauseDefined(sPath, vPath)];
  const errs: FieldError[] = [];
  if (v.not) errs.push(...completenessNested(v.not, s, sPath, vPath.child("not")));
  (v.allOf ?? []).forEach((x, i) => errs.push(...completenessNested(x, s, sPath, vPath.child("allOf").index(i))));
  (v.anyOf ?? []).forEach((x, i) => errs.push(...completenessNested(x, s, sPath, vPath.child("anyOf").index(i))));
  (v.oneOf ?? []).forEach((x, i) => errs.push(...completenessNested(x, s, sPath, vPath.child("oneOf").index(i))));
  return errs;
}

function completenessNested(v: Props | undefined, s: Props | undefined, sPath: FieldPath, vPath: FieldPath): FieldError[] {
  if (!v) return [];
  if (!s) return [becauseDefined(sPath, vPath)];
  const errs = completenessVV(v, s, sPath, vPath);
  const vItems = has(v.items) && !Array.isArray(v.items) ? (v.items as Props) : undefined;
  const sItems = has(s.items) && !Array.isArray(s.items) ? (s.items as Props) : undefined;
  errs.push(...completenessNested(vItems, sItems, sPath.child("items"), vPath.child("items")));
  for (const [k, vf] of Object.entries(v.properties ?? {})) {
    const sf = s.properties?.[k];
    if (!sf) errs.push(becauseDefined(sPath.child("properties").key(k), vPath.child("properties").key(k)));
    else errs.push(...completenessNested(vf, sf, sPath.child("properties").key(k), vPath.child("properties").key(k)));
  }
  return errs;
}

function byteCompare(a: string, b: string): number {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return Buffer.compare(x, y);
}

/** schema.ValidateStructural, errors sorted by their message as upstream sorts them. */
export function validateStructural(s: Props, path: FieldPath): FieldError[] {
  const errs = [...structuralInvariants(s, "root", path), ...completenessVV(s, s, path, path)];
  return errs.sort((a, b) => byteCompare(a.toString(), b.toString()));
}

// ---- ValidateDefaults -----------------------------------------------------------------------

type Surround = (v: unknown) => Record<string, unknown> | undefined;

/** The resource a default inside TypeMeta/ObjectMeta ends up in (upstream's SurroundingObjectFunc). */
const resourceRoot: Surround = (v) => {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return undefined;
  const obj = v as Record<string, unknown>;
  if (!("kind" in obj)) obj["kind"] = "Validation";
  if (!("apiVersion" in obj)) obj["apiVersion"] = "validation/v1";
  return obj;
};

/** defaulting.ValidateDefaults: every default validates (as metadata inside TypeMeta/ObjectMeta) and is pruned. */
function defaultErrors(p: Props, s: SNode, path: FieldPath, insideMeta: boolean, root: SNode, surround: Surround): FieldError[] {
  const errs: FieldError[] = [];
  if (s.embeddedResource) {
    insideMeta = false;
    root = s;
    surround = resourceRoot;
  }
  if (s.default !== undefined) {
    const dp = path.child("default");
    if (insideMeta) {
      const obj = surround(structuredClone(s.default));
      const rs = asResourceRoot(root);
      const coerceErr = obj ? coerceEmbedded(obj, rs, null, []) : undefined;
      const metaErrs = obj && !coerceErr ? validateEmbedded(obj, rs, null) : [];
      if (coerceErr) errs.push(invalid(dp, badValue(s.default), `must result in valid metadata: ${coerceErr.toString()}`));
      else if (metaErrs.length > 0) errs.push(invalid(dp, badValue(s.default), `must result in valid metadata: ${aggregateMessage(metaErrs)}`));
      else errs.push(...validateAgainst(compileValueSchema(p, { forResources: false }), structuredClone(s.default), dp));
    } else {
      const value = structuredClone(s.default);
      const pruned = structuredClone(s.default);
      pruneUnknown(pruned, s, s.embeddedResource, false);
      if (!jsonEqual(pruned, s.default)) errs.push(invalid(dp, badValue(s.default), "must not have unknown fields"));
      const coerceErr = coerceEmbedded(value, s, dp, []);
      if (coerceErr) {
        errs.push(coerceErr);
      } else {
        const metaErrs = validateEmbedded(value, s, dp);
        const valueErrs = metaErrs.length > 0 ? metaErrs : validateAgainst(compileValueSchema(p, { forResources: false }), value, dp);
        // A default that validates must also pass the node's x-kubernetes-validations rules.
        errs.push(...(valueErrs.length > 0 ? valueErrs : defaultRuleErrors(p, value, dp, s.embeddedResource)));
      }
    }
  }
  const items = has(p.items) && !Array.isArray(p.items) ? (p.items as Props) : undefined;
  if (items && s.items) errs.push(...defaultErrors(items, s.items, path.child("items"), insideMeta, root, (v) => surround([v])));
  for (const [k, sub] of Object.entries(p.properties ?? {})) {
    const ss = s.properties?.get(k);
    if (!ss) continue;
    const subInsideMeta = insideMeta || (s.embeddedResource && metaFields.has(k));
    errs.push(...defaultErrors(sub, ss, path.child("properties").key(k), subInsideMeta, root, (v) => surround({ [k]: v })));
  }
  return errs;
}

// ---- ValidateCustomResourceDefinitionOpenAPISchema ------------------------------------------

interface Ssv {
  readonly allowDefaults: boolean;
  readonly disallowDefaultsReason: string;
  readonly insideResourceMeta: boolean;
}

const supportedReasons = ["FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"];
const newline = /\r\n|\r|\n/;

function ssvErrors(s: Props, ssv: Ssv, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (s.type && !openapiV3Types.includes(s.type)) errs.push(notSupported(path.child("type"), s.type, openapiV3Types));
  if (has(s.default) && !ssv.allowDefaults) {
    errs.push(forbidden(path.child("default"), "must not be set" + (ssv.disallowDefaultsReason ? " " + ssv.disallowDefaultsReason : "")));
  }
  if (s.id) errs.push(forbidden(path.child("id"), "id is not supported"));
  if (has(s.additionalItems)) errs.push(forbidden(path.child("additionalItems"), "additionalItems is not supported"));
  if (nonEmpty(s.patternProperties)) errs.push(forbidden(path.child("patternProperties"), "patternProperties is not supported"));
  if (nonEmpty(s.definitions)) errs.push(forbidden(path.child("definitions"), "definitions is not supported"));
  if (has(s.dependencies)) errs.push(forbidden(path.child("dependencies"), "dependencies is not supported"));
  if (has(s.$ref)) errs.push(forbidden(path.child("$ref"), "$ref is not supported"));
  if (s.type === "null") errs.push(forbidden(path.child("type"), "type cannot be set to null, use nullable as an alternative"));
  if (Array.isArray(s.items) && s.items.length > 0) errs.push(forbidden(path.child("items"), "items must be a schema object and not an array"));
  if (ssv.insideResourceMeta && ext(s)["x-kubernetes-embedded-resource"]) {
    errs.push(forbidden(path.child("x-kubernetes-embedded-resource"), "must not be used inside of resource meta"));
  }
  return errs;
}

function openAPISchemaErrors(s: Props | undefined, path: FieldPath, ssv: Ssv, isRoot: boolean): FieldError[] {
  if (!s) return [];
  const errs = ssvErrors(s, ssv, path);
  const x = ext(s);
  if (s.uniqueItems) errs.push(forbidden(path.child("uniqueItems"), "uniqueItems cannot be set to true since the runtime complexity becomes quadratic"));
  if (apPresent(s)) {
    const ap = s.additionalProperties as unknown;
    if (nonEmpty(s.properties) && (ap === false || isSchema(ap))) {
      errs.push(forbidden(path.child("additionalProperties"), "additionalProperties and properties are mutual exclusive"));
    }
    const sub = ssv.insideResourceMeta ? { ...ssv, allowDefaults: false, disallowDefaultsReason: "inside additionalProperties applying to object metadata" } : ssv;
    if (isSchema(ap)) errs.push(...openAPISchemaErrors(ap, path.child("additionalProperties"), sub, false));
  }
  for (const [k, p] of Object.entries(s.properties ?? {})) {
    let sub = ssv;
    if ((isRoot || x["x-kubernetes-embedded-resource"]) && metaFields.has(k)) {
      sub = { ...sub, insideResourceMeta: true };
      if (isRoot) sub = { ...sub, allowDefaults: false, disallowDefaultsReason: `in top-level ${k}` };
    }
    errs.push(...openAPISchemaErrors(p, path.child("properties").key(k), sub, false));
  }
  if (s.not) errs.push(...openAPISchemaErrors(s.not, path.child("not"), ssv, false));
  (s.allOf ?? []).forEach((a, i) => errs.push(...openAPISchemaErrors(a, path.child("allOf").index(i), ssv, false)));
  (s.oneOf ?? []).forEach((a, i) => errs.push(...openAPISchemaErrors(a, path.child("oneOf").index(i), ssv, false)));
  (s.anyOf ?? []).forEach((a, i) => errs.push(...openAPISchemaErrors(a, path.child("anyOf").index(i), ssv, false)));
  for (const [k, d] of Object.entries(s.definitions ?? {})) errs.push(...openAPISchemaErrors(d, path.child("definitions").key(k), ssv, false));
  if (has(s.items)) {
    if (Array.isArray(s.items)) (s.items as Props[]).forEach((it, i) => errs.push(...openAPISchemaErrors(it, path.child("items").index(i), ssv, false)));
    else errs.push(...openAPISchemaErrors(s.items as Props, path.child("items"), ssv, false));
  }
  for (const [k, d] of Object.entries(s.dependencies ?? {})) {
    if (isSchema(d)) errs.push(...openAPISchemaErrors(d, path.child("dependencies").key(k), ssv, false));
  }
  if (x["x-kubernetes-preserve-unknown-fields"] === false) {
    errs.push(invalid(path.child("x-kubernetes-preserve-unknown-fields"), false, "must be true or undefined"));
  }
  const type = s.type ?? "";
  const mapType = x["x-kubernetes-map-type"];
  if (has(mapType) && type !== "object") {
    if (type === "") errs.push(required(path.child("type"), "must be object if x-kubernetes-map-type is specified"));
    else errs.push(invalid(path.child("type"), type, "must be object if x-kubernetes-map-type is specified"));
  }
  if (has(mapType) && mapType !== "atomic" && mapType !== "granular") {
    errs.push(notSupported(path.child("x-kubernetes-map-type"), mapType, ["atomic", "granular"]));
  }
  const listType = x["x-kubernetes-list-type"];
  const items = has(s.items) && !Array.isArray(s.items) ? (s.items as Props) : undefined;
  if (has(listType) && type !== "array") {
    if (type === "") errs.push(required(path.child("type"), "must be array if x-kubernetes-list-type is specified"));
    else errs.push(invalid(path.child("type"), type, "must be array if x-kubernetes-list-type is specified"));
  } else if (listType === "set" && items) {
    const ix = ext(items);
    if (items.type === "array") {
      const lt = ix["x-kubernetes-list-type"];
      if (has(lt) && lt !== "atomic") {
        errs.push(invalid(path.child("items").child("x-kubernetes-list-type"), lt, "must be atomic as item of a list with x-kubernetes-list-type=set"));
      }
    } else if (items.type === "object") {
      if (ix["x-kubernetes-map-type"] !== "atomic") {
        // Upstream reports the items' list type here (usually unset, so null).
        errs.push(invalid(path.child("items").child("x-kubernetes-map-type"), ix["x-kubernetes-list-type"] ?? null, "must be atomic as item of a list with x-kubernetes-list-type=set"));
      }
    }
  }
  if (has(listType) && listType !== "atomic" && listType !== "set" && listType !== "map") {
    errs.push(notSupported(path.child("x-kubernetes-list-type"), listType, ["atomic", "set", "map"]));
  }
  const mapKeys = x["x-kubernetes-list-map-keys"] ?? [];
  if (mapKeys.length > 0) {
    if (!has(listType)) errs.push(required(path.child("x-kubernetes-list-type"), "must be map if x-kubernetes-list-map-keys is non-empty"));
    else if (listType !== "map") errs.push(invalid(path.child("x-kubernetes-list-type"), listType, "must be map if x-kubernetes-list-map-keys is non-empty"));
  }
  if (listType === "map") {
    if (mapKeys.length === 0) errs.push(required(path.child("x-kubernetes-list-map-keys"), "must not be empty if x-kubernetes-list-type is map"));
    if (!has(s.items)) errs.push(required(path.child("items"), "must have a schema if x-kubernetes-list-type is map"));
    if (Array.isArray(s.items)) errs.push(invalid(path.child("items"), badValue(s.items), "must only have a single schema if x-kubernetes-list-type is map"));
    if (items && items.type !== "object") {
      errs.push(invalid(path.child("items").child("type"), items.type ?? "", "must be object if parent array's x-kubernetes-list-type is map"));
    }
    if (items && items.type === "object") {
      const seen = new Set<string>();
      for (const k of mapKeys) {
        const p = items.properties?.[k];
        if (p) {
          if (p.type === "array" || p.type === "object") {
            errs.push(invalid(path.child("items").child("properties").key(k).child("type"), items.type, "must be a scalar type if parent array's x-kubernetes-list-type is map"));
          }
        } else {
          errs.push(invalid(path.child("x-kubernetes-list-map-keys"), mapKeys, "entries must all be names of item properties"));
        }
        if (seen.has(k)) errs.push(invalid(path.child("x-kubernetes-list-map-keys"), mapKeys, "must not contain duplicate entries"));
        seen.add(k);
      }
    }
  }
  errs.push(...mapListKeysMapSetErrors(s, path));
  errs.push(...validationRuleErrors(s, path));
  return errs;
}

function mapListKeysMapSetErrors(s: Props, path: FieldPath): FieldError[] {
  const items = has(s.items) && !Array.isArray(s.items) ? (s.items as Props) : undefined;
  const listType = ext(s)["x-kubernetes-list-type"];
  if (!items || (listType !== "set" && listType !== "map")) return [];
  const errs: FieldError[] = [];
  if (items.nullable) errs.push(forbidden(path.child("items").child("nullable"), "cannot be nullable when x-kubernetes-list-type is " + listType));
  if (listType === "map") {
    const req = new Set(items.required ?? []);
    for (const k of ext(s)["x-kubernetes-list-map-keys"] ?? []) {
      const p = items.properties?.[k];
      if (!p) continue;
      if (!req.has(k) && !has(p.default)) {
        errs.push(required(path.child("items").child("properties").key(k).child("default"), "this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property"));
      }
      if (p.nullable) errs.push(forbidden(path.child("items").child("properties").key(k).child("nullable"), "this property is in x-kubernetes-list-map-keys, so it cannot be nullable"));
    }
  }
  return errs;
}

function validationRuleErrors(s: Props, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  (ext(s)["x-kubernetes-validations"] ?? []).forEach((rule, i) => {
    const rp = path.child("x-kubernetes-validations").index(i);
    const r = (rule.rule ?? "").trim();
    const msg = rule.message ?? "";
    const m = msg.trim();
    if (r === "") errs.push(required(rp.child("rule"), "rule is not specified"));
    else if (msg.length > 0 && m === "") errs.push(invalid(rp.child("message"), msg, "must be non-empty if specified"));
    else if (newline.test(m)) errs.push(invalid(rp.child("message"), msg, "must not contain line breaks"));
    else if (newline.test(r) && m === "") errs.push(required(rp.child("message"), "message must be specified if rule contains line breaks"));
    if ((rule.messageExpression ?? "").length > 0 && rule.messageExpression!.trim() === "") {
      errs.push(required(rp.child("messageExpression"), "messageExpression must be non-empty if specified"));
    }
    if (has(rule.reason) && !supportedReasons.includes(rule.reason)) errs.push(notSupported(rp.child("reason"), rule.reason, supportedReasons));
    const fp = rule.fieldPath ?? "";
    if (fp.length > 0 && fp.trim() === "") errs.push(invalid(rp.child("fieldPath"), fp, "must be non-empty if specified"));
    if (newline.test(fp)) errs.push(invalid(rp.child("fieldPath"), fp, "must not contain line breaks"));
  });
  return errs;
}

// ---- all together ---------------------------------------------------------------------------

/** validateCustomResourceDefinitionValidation for one version's schema, `path` naming openAPIV3Schema. */
export function validateCRDSchema(schema: Props, path: FieldPath, opts: StructuralSchemaOptions): FieldError[] {
  const errs: FieldError[] = [];
  if (opts.statusSubresource) errs.push(...statusRootErrors(schema, path));
  if (schema.nullable) errs.push(forbidden(path.child("nullable"), "nullable cannot be true at the root"));
  let initErr: FieldError | undefined;
  const structErr = newStructuralError(schema);
  if (structErr !== undefined) {
    initErr = invalid(path, "", structErr);
  } else {
    const se = validateStructural(schema, path);
    if (se.length > 0) errs.push(...se);
    else {
      const root = asResourceRoot(toStructural(schema));
      errs.push(...defaultErrors(schema, root, path, false, root, resourceRoot));
    }
  }
  errs.push(...openAPISchemaErrors(schema, path, { allowDefaults: true, disallowDefaultsReason: "", insideResourceMeta: false }, true));
  if (errs.length === 0 && initErr) errs.push(initErr);
  // Upstream compiles rules only where the schema is otherwise valid: a broken schema makes no
  // sensible CEL types, and its compile errors would not be actionable.
  if (errs.length === 0) {
    const cel = compileCelRules(schema, { path });
    errs.push(...cel.errors);
    opts.warnings?.push(...cel.warnings);
  }
  return errs;
}
