// CEL validation rules of CRD schemas (x-kubernetes-validations), as upstream's
// apiextensions-apiserver pkg/apiserver/schema/cel compiles and runs them:
// - `self` is typed from the schema node (SchemaDeclType): objects with properties are object
//   types whose fields are the exposed properties (names escaped: `__dash__`, `__dot__`, ...),
//   additionalProperties maps `map<string, T>`, arrays `list<T>`, integer `int`, number
//   `double`, string `string` (format byte → bytes, date/date-time → timestamp, duration →
//   duration), x-kubernetes-int-or-string `dyn`; resource roots (the custom resource and
//   embedded resources) expose apiVersion, kind and metadata.name/generateName only.
// - `oldSelf` is the correlated old value (objects and maps by key, list-type=map lists by
//   their keys); rules that use it run only on updates where that value exists, unless
//   optionalOldSelf makes it an optional.
// - Errors read `<path>: Invalid value: "object": <message>`, the value being the node's type.
// Compiled once per CRD generation with the Kubernetes CEL environment (src/api/cel).
import { Environment, Optional, type ASTNode, type ParseResult } from "@marcbachmann/cel-js";
import type { JSONSchemaProps } from "kubernetes-types/apiextensions/v1.js";
import { kubernetesCelEnvironment } from "../cel/environment.js";
import { isUnimplementedCelFunction } from "../cel/unimplemented.js";
import { FieldError, FieldPath, GoRendered, duplicate, forbidden, goQuote, internalError, invalid, required, type PathOrNil } from "../fielderrors.js";
import { ext, type ValidationRuleProps } from "./props.js";
import { jsonEqual } from "./validate.js";

type Props = JSONSchemaProps;
type Obj = Record<string, unknown>;

function isObj(x: unknown): x is Obj {
  return x !== null && typeof x === "object" && !Array.isArray(x);
}

function hasOwn(o: Obj, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}

/**
 * The per-request bound on rule evaluation (upstream's RuntimeCELCostBudget). cel-js tracks no
 * cost, so k8ts counts its own units: each rule evaluation costs 1 + the number of JSON nodes
 * in `self` (and `oldSelf` when the rule reads it) — a bound on the data a request makes the
 * rules look at, not on what nested comprehensions do with it.
 */
export const RUNTIME_CEL_COST_BUDGET = 10_000_000;

/** Upstream's MaxEvaluatedMessageExpressionSizeBytes. */
const MAX_MESSAGE_EXPRESSION_BYTES = 5 * 1024;

/**
 * Functions of upstream's CEL libraries for CRD rules (k8s.io/apiserver/pkg/cel/library and the
 * cel-go extensions it enables). A rule that fails to compile because it calls one of these that
 * the environment does not define at all (or one src/api/cel lists as unimplemented) is
 * accepted unevaluated with a warning, so that a CRD valid upstream is not refused for what
 * k8ts lacks; a wrong call of a function the environment has stays an error.
 */
const KUBERNETES_FUNCTIONS = new Set([
  // lists
  "isSorted", "sum", "min", "max", "indexOf", "lastIndexOf",
  // regex
  "find", "findAll",
  // urls
  "url", "isURL", "getScheme", "getHost", "getHostname", "getPort", "getEscapedPath", "getQuery",
  // quantity
  "quantity", "isQuantity", "sign", "isGreaterThan", "isLessThan", "compareTo", "asApproximateFloat", "asInteger", "isInteger", "add", "sub", "mul", "div", "divInt",
  // ip / cidr
  "ip", "isIP", "cidr", "isCIDR", "family", "isUnspecified", "isLoopback", "isLinkLocalMulticast", "isLinkLocalUnicast", "isGlobalUnicast", "isCanonical", "containsIP", "containsCIDR", "masked", "prefixLength",
  // semver
  "semver", "isSemver", "major", "minor", "patch",
  // format
  "validate", "named",
  // cel-go strings extension
  "charAt", "lowerAscii", "upperAscii", "replace", "split", "substring", "trim", "join", "quote", "format", "reverse",
  // cel-go two-variable comprehensions and lists extension
  "existsOne", "transformList", "transformMap", "transformMapEntry", "slice", "flatten", "distinct", "sort", "sortBy", "range",
]);

/** Namespaces of upstream's library functions (`sets.contains`, `format.dns1123Label()`, ...). */
const KUBERNETES_NAMESPACES = new Set(["sets", "format", "base64", "lists", "strings", "math"]);

// ---- names -----------------------------------------------------------------------------------

const reservedWords = new Set(["true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop", "package", "namespace", "return", "var", "void", "while"]);
const escapes: Record<string, string> = { __: "__underscores__", ".": "__dot__", "-": "__dash__", "/": "__slash__" };

/** A property name as CEL sees it (upstream's cel.Escape), or undefined when it cannot be exposed. */
export function escapePropertyName(name: string): string | undefined {
  if (reservedWords.has(name)) return `__${name}__`;
  const s = name.replace(/__|[./-]/g, (m) => escapes[m] ?? m);
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) ? s : undefined;
}

// ---- types and values (SchemaDeclType, UnstructuredToVal) ---------------------------------------

/** A schema node's CEL type and how its JSON values become CEL values. */
interface Decl {
  readonly cel: string;
  readonly toVal: (v: unknown) => unknown;
}

/** JSON without a schema as CEL values: integers as int, other numbers as double, objects as maps (admission policies' `object` too). */
export function dynVal(v: unknown): unknown {
  if (typeof v === "number") return Number.isInteger(v) ? BigInt(v) : v;
  if (Array.isArray(v)) return v.map(dynVal);
  if (isObj(v)) return new Map(Object.entries(v).map(([k, x]) => [k, dynVal(x)]));
  return v;
}

const DYN: Decl = { cel: "dyn", toVal: dynVal };
const INT: Decl = { cel: "int", toVal: (v) => (typeof v === "number" && Number.isInteger(v) ? BigInt(v) : dynVal(v)) };
const DOUBLE: Decl = { cel: "double", toVal: (v) => v };
const BOOL: Decl = { cel: "bool", toVal: (v) => v };
const STRING: Decl = { cel: "string", toVal: (v) => v };
const BYTES: Decl = { cel: "bytes", toVal: (v) => (typeof v === "string" ? new Uint8Array(Buffer.from(v, "base64")) : v) };
const TIMESTAMP: Decl = {
  cel: "google.protobuf.Timestamp",
  toVal: (v) => {
    if (typeof v !== "string") return v;
    const d = new Date(v);
    return Number.isNaN(d.getTime()) ? v : d;
  },
};

let parseDuration: ParseResult | undefined;
const DURATION: Decl = {
  cel: "google.protobuf.Duration",
  toVal: (v) => {
    if (typeof v !== "string") return v;
    parseDuration ??= new Environment().registerVariable("s", "string").parse("duration(s)");
    try {
      return parseDuration({ s: v }) as unknown;
    } catch {
      return v;
    }
  },
};

/** Upstream's WithTypeAndObjectMeta: a resource root exposes apiVersion, kind, metadata.name and metadata.generateName. */
function withTypeAndObjectMeta(p: Props): Props {
  const props = p.properties ?? {};
  const isString = (x: Props | undefined): boolean => x?.type === "string";
  const meta = props["metadata"];
  if (isString(props["kind"]) && isString(props["apiVersion"]) && meta?.type === "object" && isString(meta.properties?.["name"]) && isString(meta.properties?.["generateName"])) return p;
  const str: Props = { type: "string" };
  return { ...p, properties: { ...props, kind: str, apiVersion: str, metadata: { type: "object", properties: { name: str, generateName: str } } } };
}

/** Deep equality of CEL values, for the `==` of object types. */
function celEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === "bigint" || typeof b === "bigint" || typeof a === "number" || typeof b === "number") {
    return (typeof a === "bigint" || typeof a === "number") && (typeof b === "bigint" || typeof b === "number") && Number(a) === Number(b);
  }
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && a.length === b.length && a.every((x, i) => x === b[i]);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => celEqual(x, b[i]));
  }
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map) || !(b instanceof Map) || a.size !== b.size) return false;
    for (const [k, x] of a) if (!b.has(k) || !celEqual(x, b.get(k))) return false;
    return true;
  }
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const ak = Object.keys(a);
  if (ak.length !== Object.keys(b).length) return false;
  return ak.every((k) => hasOwn(b as Obj, k) && celEqual((a as Obj)[k], (b as Obj)[k]));
}

/** Registers the object types of one schema in an environment, memoized per schema node. */
class TypeRegistry {
  private n = 0;
  private readonly decls = new Map<Props, Decl | null>();

  constructor(private readonly env: Environment) {}

  /** SchemaDeclType: undefined when the node is not exposed to CEL. */
  declOf(p: Props, isResourceRoot: boolean): Decl | undefined {
    const known = this.decls.get(p);
    if (known !== undefined) return known ?? undefined;
    const d = this.build(p, isResourceRoot);
    this.decls.set(p, d ?? null);
    return d;
  }

  private build(p: Props, isResourceRoot: boolean): Decl | undefined {
    if (ext(p)["x-kubernetes-int-or-string"]) return DYN;
    const s = isResourceRoot ? withTypeAndObjectMeta(p) : p;
    switch (s.type) {
      case "array": {
        const items = itemsOf(s);
        const elem = items ? this.declOf(items, ext(items)["x-kubernetes-embedded-resource"] === true) : undefined;
        if (!elem) return undefined;
        return { cel: `list<${elem.cel}>`, toVal: (v) => (Array.isArray(v) ? v.map(elem.toVal) : dynVal(v)) };
      }
      case "object": {
        const ap = additionalOf(s);
        if (ap) {
          const elem = this.declOf(ap, ext(ap)["x-kubernetes-embedded-resource"] === true);
          if (!elem) return undefined;
          return { cel: `map<string, ${elem.cel}>`, toVal: (v) => (isObj(v) ? new Map(Object.entries(v).map(([k, x]) => [k, elem.toVal(x)])) : dynVal(v)) };
        }
        return this.objectType(s);
      }
      case "string":
        switch (s.format) {
          case "byte":
            return BYTES;
          case "duration":
            return DURATION;
          case "date":
          case "date-time":
            return TIMESTAMP;
          default:
            return STRING;
        }
      case "boolean":
        return BOOL;
      case "number":
        return DOUBLE;
      case "integer":
        return INT;
      default:
        return undefined;
    }
  }

  private objectType(s: Props): Decl {
    const fields: [string, string, Decl][] = [];
    for (const [name, prop] of Object.entries(s.properties ?? {})) {
      const d = this.declOf(prop, ext(prop)["x-kubernetes-embedded-resource"] === true);
      const escaped = escapePropertyName(name);
      if (d && escaped !== undefined) fields.push([name, escaped, d]);
    }
    const name = `selfType${this.n++}`;
    const ctor = class {};
    Object.defineProperty(ctor, "name", { value: name });
    this.env.registerType(name, { ctor, fields: Object.fromEntries(fields.map(([, e, d]) => [e, d.cel])) });
    this.env.registerOperator(`${name} == ${name}`, celEqual);
    return {
      cel: name,
      toVal: (v) => {
        if (!isObj(v)) return dynVal(v);
        const o = new ctor() as Obj;
        for (const [k, e, d] of fields) if (hasOwn(v, k)) o[e] = d.toVal(v[k]);
        return o;
      },
    };
  }
}

function itemsOf(p: Props): Props | undefined {
  return p.items && !Array.isArray(p.items) ? (p.items as Props) : undefined;
}

function additionalOf(p: Props): Props | undefined {
  const ap = p.additionalProperties as unknown;
  return ap !== null && typeof ap === "object" && !Array.isArray(ap) ? (ap as Props) : undefined;
}

function nonEmpty(o: object | undefined | null): boolean {
  return o !== undefined && o !== null && Object.keys(o).length > 0;
}

// ---- compilation --------------------------------------------------------------------------------

interface CompiledRule {
  readonly rule: ValidationRuleProps;
  /** Undefined for an empty rule or one skipped for a missing library function. */
  readonly program: ParseResult | undefined;
  readonly message: ParseResult | undefined;
  readonly usesOldSelf: boolean;
  readonly optionalOldSelf: boolean;
  /** The rule's fieldPath as upstream's ValidFieldPath renders it (`.a.b` → `a.b`, `.m['k']` → `m[k]`); "" for none. */
  readonly fieldPath: string;
  /** The compilation error, reported at run time if the CRD somehow carries a rule that does not compile. */
  readonly error: string | undefined;
}

/** The rules of one schema node and the nodes below it that have rules (upstream's Validator). */
export interface CelValidator {
  /** The node's schema type, the value upstream's errors show ("object", "string", ...). */
  readonly type: string;
  readonly decl: Decl;
  readonly rules: readonly CompiledRule[];
  readonly properties: ReadonlyMap<string, CelValidator>;
  readonly additionalProperties: CelValidator | undefined;
  readonly items: CelValidator | undefined;
  readonly listType: string | undefined;
  readonly listMapKeys: readonly string[];
  readonly mapType: string | undefined;
  /** The environment could not be built: every value at this node reports it (upstream's compilationErr). */
  readonly initError?: string;
}

export interface CelCompileResult {
  /** Undefined when the schema has no rules. */
  readonly validator: CelValidator | undefined;
  /** CRD-time errors under the schema's path (`...x-kubernetes-validations[0].rule`). */
  readonly errors: FieldError[];
  /** Rules accepted but not evaluated (library functions k8ts lacks). */
  readonly warnings: string[];
}

function hasRules(p: Props | undefined): boolean {
  if (!p) return false;
  if ((ext(p)["x-kubernetes-validations"] ?? []).length > 0) return true;
  if (hasRules(itemsOf(p)) || hasRules(additionalOf(p))) return true;
  return Object.values(p.properties ?? {}).some(hasRules);
}

/** Whether a schema carries x-kubernetes-validations anywhere (on its structural spine). */
export function schemaHasRules(p: Props): boolean {
  return hasRules(p);
}

/** Go's %#v of the internal apiextensions.ValidationRule, the bad value upstream shows for a rule that does not compile. */
function ruleValue(r: ValidationRuleProps): GoRendered {
  const ptr = (t: string, v: unknown): string => (v === undefined || v === null ? `(${t})(nil)` : `(${t})(0xc000000000)`);
  return new GoRendered(
    `apiextensions.ValidationRule{Rule:${goQuote(r.rule ?? "")}, Message:${goQuote(r.message ?? "")}, MessageExpression:${goQuote(r.messageExpression ?? "")}, ` +
      `Reason:${ptr("*apiextensions.FieldValueErrorReason", r.reason)}, FieldPath:${goQuote(r.fieldPath ?? "")}, OptionalOldSelf:${ptr("*bool", r.optionalOldSelf)}}`,
  );
}

interface CelError extends Error {
  readonly code?: string;
  readonly summary?: string;
  readonly range?: { readonly start: number; readonly end: number };
  readonly node?: { readonly op?: string; readonly args?: unknown };
}

const operatorNames: Record<string, string> = {
  "==": "_==_", "!=": "_!=_", "<": "_<_", "<=": "_<=_", ">": "_>_", ">=": "_>=_", "+": "_+_", "-": "_-_", "*": "_*_", "/": "_/_", "%": "_%_", in: "@in",
};

/** cel-js's wording of a compile error, brought to cel-go's where the meaning is the same. */
function issueMessage(e: CelError): string {
  const summary = e.summary ?? e.message;
  switch (e.code) {
    case "no_such_key":
      return `undefined field '${summary.replace(/^No such key: /, "")}'`;
    case "unknown_variable":
      return `undeclared reference to '${summary.replace(/^Unknown variable: /, "")}' (in container '')`;
    case "no_matching_overload": {
      const m = /^found no matching overload for '(.*)\((.*)\)'$/.exec(summary);
      if (!m) return summary;
      const head = m[1]!;
      const dot = head.lastIndexOf(".");
      return dot < 0 ? `found no matching overload for '${head}' applied to '(${m[2]})'` : `found no matching overload for '${head.slice(dot + 1)}' applied to '${head.slice(0, dot)}.(${m[2]})'`;
    }
    case "no_such_overload": {
      const m = /^no such overload: (.+) (==|!=|<=|>=|<|>|\+|-|\*|\/|%|in) (.+)$/.exec(summary);
      return m ? `found no matching overload for '${operatorNames[m[2]!]}' applied to '(${m[1]}, ${m[3]})'` : summary;
    }
    default:
      return e.name === "ParseError" ? `Syntax error: ${summary}` : summary;
  }
}

interface Ranged {
  readonly op?: unknown;
  readonly args?: unknown;
  readonly range?: { readonly start: number; readonly end: number };
}

/** Where cel-go places an error: a call at its '(', an operator at its token, a field selection at its '.'. */
function errorOffset(e: CelError, src: string): number {
  const start = e.range?.start ?? 0;
  const node = e.node as Ranged | undefined;
  const args = Array.isArray(node?.args) ? (node.args as unknown[]) : [];
  if (node?.op === "call") {
    const i = src.indexOf("(", start);
    return i < 0 ? start : i;
  }
  if (node?.op === "rcall") {
    const recv = args[1] as Ranged | undefined;
    const i = src.indexOf("(", recv?.range?.end ?? start);
    return i < 0 ? start : i;
  }
  if (typeof node?.op === "string" && node.op in operatorNames) {
    const left = args[0] as Ranged | undefined;
    const i = src.indexOf(node.op, left?.range?.end ?? start);
    return i < 0 ? start : i;
  }
  if (e.code === "no_such_key" && start > 0 && src[start - 1] === ".") return start - 1;
  return start;
}

/** cel-go's Issues.String(): `ERROR: <input>:line:col: message` and the source line with a caret. */
export function celIssue(e: CelError, src: string): string {
  const start = Math.min(errorOffset(e, src), src.length);
  const before = src.slice(0, start);
  const lineNo = before.split("\n").length;
  const lineStart = before.lastIndexOf("\n") + 1;
  const col = [...src.slice(lineStart, start)].length;
  const lineText = src.split("\n")[lineNo - 1] ?? "";
  return `ERROR: <input>:${lineNo}:${col + 1}: ${issueMessage(e)}\n | ${lineText}\n | ${".".repeat(col)}^`;
}

/**
 * The upstream library function a compile error says is missing, if that is what it says.
 * `defined` tells whether the environment has any function of a name.
 */
function missingLibraryFunction(e: CelError, src: string, defined: (name: string) => boolean): string | undefined {
  const node = e.node;
  if (!node) return undefined;
  const args = node.args as unknown[] | string | undefined;
  if (e.code === "no_matching_overload" && (node.op === "call" || node.op === "rcall") && Array.isArray(args) && typeof args[0] === "string") {
    const fn = args[0];
    if (node.op === "rcall") {
      const recv = args[1] as ASTNode | undefined;
      if (recv?.op === "id" && KUBERNETES_NAMESPACES.has(recv.args) && !defined(fn)) return `${recv.args}.${fn}`;
    }
    return isUnimplementedCelFunction(fn) || (KUBERNETES_FUNCTIONS.has(fn) && !defined(fn)) ? fn : undefined;
  }
  if (e.code === "unknown_variable" && node.op === "id" && typeof args === "string" && KUBERNETES_NAMESPACES.has(args)) {
    const fn = /^\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)/.exec(src.slice(e.range?.end ?? src.length));
    return fn ? `${args}.${fn[1]}` : args;
  }
  return undefined;
}

/** Whether the expression names a variable (the rule is a transition rule when it names oldSelf). */
export function usesVariable(node: unknown, name: string): boolean {
  if (Array.isArray(node)) return node.some((n) => usesVariable(n, name));
  if (node === null || typeof node !== "object") return false;
  const n = node as { op?: unknown; args?: unknown };
  if (n.op === "id") return n.args === name;
  return typeof n.op === "string" && usesVariable(n.args, name);
}

/** Upstream's ValidFieldPath: the rule's fieldPath as a path below the node, or why it is not one. */
export function validFieldPath(jsonPath: string, schema: Props): { readonly path: string } | { readonly error: string } {
  const tokens: string[] = [];
  for (let rest = jsonPath; rest.length > 0; ) {
    let n = rest.length;
    if (rest[0] === "'") {
      for (let i = 1; i < rest.length; i++) {
        if (rest[i] === "'" && rest[i - 1] !== "\\") {
          n = i + 1;
          break;
        }
      }
    } else {
      const i = rest.search(/[.[\]]/);
      n = i === 0 ? 1 : i < 0 ? rest.length : i;
    }
    tokens.push(rest.slice(0, n));
    rest = rest.slice(n);
  }
  let path = "";
  let s: Props | undefined = schema;
  const append = (name: string): string | undefined => {
    if (nonEmpty(s?.properties)) {
      path = path === "" ? name : `${path}.${name}`;
      s = s?.properties?.[name];
      return s ? undefined : "does not refer to a valid field";
    }
    if (s && s.additionalProperties !== undefined && s.additionalProperties !== null) {
      path = `${path}[${name}]`;
      s = additionalOf(s);
      return undefined;
    }
    return "does not refer to a valid field";
  };
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (tok === "[") {
      const q = tokens[++i];
      if (q === undefined) return { error: "unexpected end of JSON path" };
      if (q.length < 2 || !q.startsWith("'") || !q.endsWith("'")) return { error: `expected single quoted string but got ${q}` };
      const unescaped = unescapeSingleQuote(q.slice(1, -1));
      if ("error" in unescaped) return { error: `invalid string literal: ${unescaped.error}` };
      const e = append(unescaped.value);
      if (e) return { error: e };
      const close = tokens[++i];
      if (close === undefined) return { error: "unexpected end of JSON path" };
      if (close !== "]") return { error: `expected ] but got ${close}` };
    } else if (tok === ".") {
      const name = tokens[++i];
      if (name === undefined) return { error: "unexpected end of JSON path" };
      const e = append(name);
      if (e) return { error: e };
    } else {
      return { error: `expected [ or . but got: ${tok}` };
    }
  }
  return { path };
}

function unescapeSingleQuote(s: string): { readonly value: string } | { readonly error: string } {
  const map: Record<string, string> = { a: "\x07", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v", "'": "'", "\\": "\\" };
  let error: string | undefined;
  const value = s.replace(/\\./g, (m) => {
    const r = map[m[1]!];
    if (r === undefined) error ??= `invalid escape char ${m}`;
    return r ?? "";
  });
  return error === undefined ? { value } : { error };
}

interface Envs {
  readonly plain: Environment;
  readonly optional: Environment;
}

class Compiler {
  readonly errors: FieldError[] = [];
  readonly warnings: string[] = [];
  private readonly types: Environment;
  private readonly registry: TypeRegistry;
  private functionNames: Set<string> | undefined;

  constructor(environment: () => Environment) {
    // Rules may name only self and oldSelf: an unknown identifier is a compile error, as upstream.
    this.types = environment().clone({ unlistedVariablesAreDyn: false });
    this.registry = new TypeRegistry(this.types);
  }

  private readonly defined = (name: string): boolean => {
    this.functionNames ??= new Set(this.types.getDefinitions().functions.map((f) => f.name));
    return this.functionNames.has(name);
  };

  compile(root: Props, path: FieldPath, isResourceRoot: boolean): CelValidator | undefined {
    if (!hasRules(root)) return undefined;
    // Every type is registered before the first per-node environment is cloned (a clone freezes its parent).
    this.registerAll(root, isResourceRoot);
    return this.node(root, isResourceRoot, path, undefined);
  }

  private registerAll(p: Props, isResourceRoot: boolean): void {
    this.registry.declOf(p, isResourceRoot);
    const children = [...Object.values(p.properties ?? {}), additionalOf(p), itemsOf(p)];
    for (const c of children) if (c && hasRules(c)) this.registerAll(c, ext(c)["x-kubernetes-embedded-resource"] === true);
  }

  private node(p: Props, isResourceRoot: boolean, path: FieldPath, uncorrelatable: FieldPath | undefined): CelValidator | undefined {
    if (!hasRules(p)) return undefined;
    const decl = this.registry.declOf(p, isResourceRoot);
    if (!decl) return undefined;
    const x = ext(p);
    const rules = x["x-kubernetes-validations"] ?? [];
    let envs: Envs | undefined;
    const compiled = rules.map((rule, i) => {
      envs ??= this.envsFor(decl);
      return this.rule(rule, envs, p, path.child("x-kubernetes-validations").index(i), uncorrelatable);
    });
    const properties = new Map<string, CelValidator>();
    for (const [k, sub] of Object.entries(p.properties ?? {})) {
      const v = this.node(sub, ext(sub)["x-kubernetes-embedded-resource"] === true, path.child("properties").key(k), uncorrelatable);
      if (v) properties.set(k, v);
    }
    const ap = additionalOf(p);
    const items = itemsOf(p);
    const itemsUncorrelatable = uncorrelatable ?? (x["x-kubernetes-list-type"] === "map" ? undefined : path);
    return {
      type: p.type ?? "",
      decl,
      rules: compiled,
      properties,
      additionalProperties: ap ? this.node(ap, ext(ap)["x-kubernetes-embedded-resource"] === true, path.child("additionalProperties"), uncorrelatable) : undefined,
      items: items ? this.node(items, ext(items)["x-kubernetes-embedded-resource"] === true, path.child("items"), itemsUncorrelatable) : undefined,
      listType: x["x-kubernetes-list-type"],
      listMapKeys: x["x-kubernetes-list-map-keys"] ?? [],
      mapType: x["x-kubernetes-map-type"],
    };
  }

  private envsFor(decl: Decl): Envs {
    const plain = this.types.clone().registerVariable("self", decl.cel).registerVariable("oldSelf", decl.cel);
    const optional = this.types.clone().registerVariable("self", decl.cel).registerVariable("oldSelf", `optional<${decl.cel}>`);
    return { plain, optional };
  }

  private rule(rule: ValidationRuleProps, envs: Envs, p: Props, rp: FieldPath, uncorrelatable: FieldPath | undefined): CompiledRule {
    const src = rule.rule ?? "";
    const optionalOldSelf = rule.optionalOldSelf === true;
    const none: CompiledRule = { rule, program: undefined, message: undefined, usesOldSelf: false, optionalOldSelf, fieldPath: "", error: undefined };
    let fieldPath = "";
    if ((rule.fieldPath ?? "") !== "") {
      const fp = validFieldPath(rule.fieldPath!, p);
      if ("error" in fp) this.errors.push(invalid(rp.child("fieldPath"), rule.fieldPath, `fieldPath must be a valid path: ${fp.error}`));
      else fieldPath = fp.path;
    }
    // An empty rule is refused by the shape checks; there is nothing to compile.
    if (src.trim() === "") return none;
    const env = optionalOldSelf ? envs.optional : envs.plain;
    const fail = (detail: string): CompiledRule => {
      this.errors.push(invalid(rp.child("rule"), ruleValue(rule), detail));
      return { ...none, error: detail };
    };
    const checked = env.check(src);
    if (!checked.valid) {
      const err = checked.error as CelError;
      const missing = missingLibraryFunction(err, src, this.defined);
      if (missing !== undefined) {
        this.warnings.push(`${rp.child("rule").toString()}: the rule ${goQuote(src)} is not evaluated: k8ts does not have the CEL function ${missing}`);
        return none;
      }
      return fail(`compilation failed: ${celIssue(err, src)}`);
    }
    if (checked.type !== "bool") return fail("cel expression must evaluate to a bool");
    const program = env.parse(src);
    const usesOldSelf = usesVariable(program.ast, "oldSelf");
    if (usesOldSelf && uncorrelatable) {
      this.errors.push(invalid(rp.child("rule"), src, `oldSelf cannot be used on the uncorrelatable portion of the schema within ${uncorrelatable.toString()}`));
    }
    let message: ParseResult | undefined;
    const msgSrc = rule.messageExpression ?? "";
    if (msgSrc.trim() !== "") {
      const mc = env.check(msgSrc);
      if (!mc.valid) {
        const err = mc.error as CelError;
        const missing = missingLibraryFunction(err, msgSrc, this.defined);
        if (missing !== undefined) {
          this.warnings.push(`${rp.child("messageExpression").toString()}: the messageExpression ${goQuote(msgSrc)} is not evaluated: k8ts does not have the CEL function ${missing}`);
        } else {
          this.errors.push(invalid(rp.child("messageExpression"), ruleValue(rule), `messageExpression compilation failed: ${celIssue(err, msgSrc)}`));
        }
      } else if (mc.type !== "string") {
        this.errors.push(invalid(rp.child("messageExpression"), ruleValue(rule), "messageExpression must evaluate to a string"));
      } else {
        message = env.parse(msgSrc);
      }
    }
    return { rule, program, message, usesOldSelf, optionalOldSelf, fieldPath, error: undefined };
  }
}

export interface CelCompileOptions {
  /** Names the schema in CRD-time errors. */
  readonly path?: FieldPath;
  /** The CEL environment to compile in (default kubernetesCelEnvironment; tests give a smaller one). */
  readonly environment?: () => Environment;
  /** Whether the schema is a resource's root (default: it is, the custom resource's). */
  readonly isResourceRoot?: boolean;
}

/** Compiles every x-kubernetes-validations rule of a version's schema. */
export function compileCelRules(schema: Props, opts: CelCompileOptions = {}): CelCompileResult {
  const path = opts.path ?? FieldPath.of("openAPIV3Schema");
  if (!hasRules(schema)) return { validator: undefined, errors: [], warnings: [] };
  try {
    const c = new Compiler(opts.environment ?? kubernetesCelEnvironment);
    const validator = c.compile(schema, path, opts.isResourceRoot ?? true);
    return { validator, errors: c.errors, warnings: c.warnings };
  } catch (e) {
    // A broken environment (a library that fails to register) is the server's fault, not the CRD's.
    const msg = e instanceof Error ? e.message : String(e);
    const validator: CelValidator = {
      type: schema.type ?? "",
      decl: DYN,
      rules: [],
      properties: new Map(),
      additionalProperties: undefined,
      items: undefined,
      listType: undefined,
      listMapKeys: [],
      mapType: undefined,
      initError: msg,
    };
    return { validator, errors: [internalError(path.child("x-kubernetes-validations"), msg)], warnings: [] };
  }
}

// ---- evaluation ---------------------------------------------------------------------------------

/** The remaining evaluation budget of one request. */
export interface CelBudget {
  remaining: number;
}

/**
 * Ratcheting state (upstream's ratchetingOptions): the current node's correlated old value, or
 * the nearest ancestor that had one. Errors of rules without oldSelf are dropped (reported as
 * warnings) when that value did not change.
 */
interface Ratchet {
  readonly current: { readonly old: unknown } | undefined;
  readonly nearestParent: { readonly old: unknown; readonly value: unknown } | undefined;
  readonly value: unknown;
}

function ratchetKey(r: Ratchet | undefined, value: Obj, k: string): Ratchet | undefined {
  if (!r) return undefined;
  if (!r.current) return { current: undefined, nearestParent: r.nearestParent, value: value[k] };
  if (!r.nearestParent && (k === "apiVersion" || k === "kind")) return undefined;
  const old = r.current.old;
  const current = isObj(old) && hasOwn(old, k) && hasOwn(value, k) ? { old: old[k] } : undefined;
  return { current, nearestParent: { old: r.current.old, value }, value: value[k] };
}

function ratchetIndex(r: Ratchet | undefined, v: CelValidator, value: unknown[], i: number): Ratchet | undefined {
  if (!r) return undefined;
  if (!r.current) return { current: undefined, nearestParent: r.nearestParent, value: value[i] };
  const old = r.current.old;
  let current: { old: unknown } | undefined;
  if (Array.isArray(old)) {
    if (v.listType === "map") {
      const o = mapListOld(v, old, value[i]);
      if (o !== undefined) current = { old: o };
    } else if (v.listType === undefined && i < old.length) {
      current = { old: old[i] };
    }
  }
  return { current, nearestParent: { old: r.current.old, value }, value: value[i] };
}

function shouldRatchet(r: Ratchet | undefined): boolean {
  if (!r) return false;
  if (r.current) return jsonEqual(r.current.old, r.value);
  return r.nearestParent ? jsonEqual(r.nearestParent.old, r.nearestParent.value) : false;
}

/** The old element of a list-type=map list with the same key values. */
function mapListOld(v: CelValidator, old: readonly unknown[], item: unknown): unknown {
  if (!isObj(item)) return undefined;
  return old.find((o) => isObj(o) && v.listMapKeys.every((k) => jsonEqual(o[k], item[k])));
}

function jsonSize(v: unknown): number {
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + jsonSize(x), 1);
  if (isObj(v)) return Object.values(v).reduce((n: number, x) => n + jsonSize(x), 1);
  return 1;
}

function ruleErrorString(r: ValidationRuleProps): string {
  return (r.message ?? "").length > 0 ? r.message!.trim() : (r.rule ?? "").trim();
}

function evalErrorDetail(e: unknown, r: ValidationRuleProps): string {
  const ce = e as CelError;
  if (ce.code === "no_such_overload" || ce.code === "no_matching_overload") {
    return `'no such overload': call arguments did not match a supported operator, function or macro signature for rule: ${ruleErrorString(r)}`;
  }
  const summary = (ce.summary ?? (e instanceof Error ? e.message : String(e))).replace(/^No such key: /, "no such key: ");
  return `${summary} evaluating rule: ${ruleErrorString(r)}`;
}

function errorForReason(path: PathOrNil, type: string, detail: string, reason: string | undefined): FieldError {
  switch (reason) {
    case "FieldValueForbidden":
      return forbidden(path, detail);
    case "FieldValueRequired":
      return required(path, detail);
    case "FieldValueDuplicate":
      return duplicate(path, type);
    default:
      return invalid(path, type, detail);
  }
}

function childOf(path: PathOrNil, name: string): FieldPath {
  return path ? path.child(name) : FieldPath.of(name);
}

function keyOf(path: PathOrNil, k: string): FieldPath {
  return path ? path.key(k) : FieldPath.of(`[${k}]`);
}

function indexOf(path: PathOrNil, i: number): FieldPath {
  return path ? path.index(i) : FieldPath.of(`[${i}]`);
}

class Evaluation {
  readonly errors: FieldError[] = [];

  constructor(
    private readonly budget: CelBudget,
    private readonly warnings: string[] | undefined,
  ) {}

  private outOfBudget(path: PathOrNil, type: string): void {
    this.errors.push(invalid(path, type, "validation failed due to running out of cost budget, no further validation rules will be run"));
    this.budget.remaining = -1;
  }

  validate(v: CelValidator, value: unknown, old: unknown, path: PathOrNil, r: Ratchet | undefined): void {
    if (value === null || value === undefined) return;
    this.rules(v, value, old === null ? undefined : old, path, r);
    if (this.budget.remaining < 0) return;
    if (Array.isArray(value)) {
      if (!v.items) return;
      const oldList = Array.isArray(old) && v.listType === "map" ? old : undefined;
      for (let i = 0; i < value.length && this.budget.remaining >= 0; i++) {
        this.validate(v.items, value[i], oldList ? mapListOld(v, oldList, value[i]) : undefined, indexOf(path, i), ratchetIndex(r, v, value, i));
      }
      return;
    }
    if (!isObj(value)) return;
    // Maps of every map type correlate by key (upstream's MapIsCorrelatable).
    const oldMap = isObj(old) ? old : undefined;
    const correlatable = v.mapType === undefined || v.mapType === "granular" || v.mapType === "atomic";
    for (const k of Object.keys(value)) {
      if (this.budget.remaining < 0) return;
      const oldV = correlatable && oldMap && hasOwn(oldMap, k) ? oldMap[k] : undefined;
      if (v.additionalProperties) this.validate(v.additionalProperties, value[k], oldV, keyOf(path, k), ratchetKey(r, value, k));
      const sub = v.properties.get(k);
      if (sub) this.validate(sub, value[k], oldV, childOf(path, k), ratchetKey(r, value, k));
    }
  }

  private rules(v: CelValidator, value: unknown, old: unknown, path: PathOrNil, r: Ratchet | undefined): void {
    if (v.initError !== undefined) {
      this.errors.push(invalid(path, v.type, `rule compiler initialization error: ${v.initError}`));
      return;
    }
    if (v.rules.length === 0) return;
    if (this.budget.remaining <= 0) return this.outOfBudget(path, v.type);
    let self: unknown;
    let oldSelf: unknown;
    const selfCost = jsonSize(value);
    const oldCost = old === undefined ? 0 : jsonSize(old);
    for (const c of v.rules) {
      if (c.error !== undefined) {
        this.errors.push(invalid(path, v.type, `rule compile error: ${c.error}`));
        continue;
      }
      if (!c.program) continue;
      if (c.usesOldSelf && old === undefined && !c.optionalOldSelf) continue;
      this.budget.remaining -= 1 + selfCost + (c.usesOldSelf ? oldCost : 0);
      if (this.budget.remaining < 0) return this.outOfBudget(path, v.type);
      self ??= v.decl.toVal(value);
      if (old !== undefined) oldSelf ??= v.decl.toVal(old);
      const vars: Record<string, unknown> = { self };
      if (c.optionalOldSelf) vars["oldSelf"] = old === undefined ? Optional.none() : Optional.of(oldSelf);
      else if (old !== undefined) vars["oldSelf"] = oldSelf;
      let result: unknown;
      try {
        result = c.program(vars);
      } catch (e) {
        this.errors.push(invalid(path, v.type, evalErrorDetail(e, c.rule)));
        continue;
      }
      if (result === true) continue;
      const at = c.fieldPath !== "" ? childOf(path, c.fieldPath) : path;
      const err = errorForReason(at, v.type, this.message(c, vars), c.rule.reason);
      if (!c.usesOldSelf && shouldRatchet(r)) this.warnings?.push(err.toString());
      else this.errors.push(err);
    }
  }

  /** The evaluated messageExpression when it yields a usable message, else the rule's message (upstream's fallback). */
  private message(c: CompiledRule, vars: Record<string, unknown>): string {
    if (c.message) {
      try {
        const m = c.message(vars) as unknown;
        if (typeof m === "string") {
          const t = m.trim();
          if (t !== "" && !t.includes("\n") && Buffer.byteLength(t) <= MAX_MESSAGE_EXPRESSION_BYTES) return t;
        }
      } catch {
        // upstream logs a failing messageExpression and falls back to the message
      }
    }
    return (c.rule.message ?? "").length > 0 ? c.rule.message!.trim() : `failed rule: ${ruleErrorString(c.rule)}`;
  }
}

export interface CelValidateOptions {
  /** The correlated old object (updates): transition rules and ratcheting. */
  readonly old?: { readonly value: unknown };
  /** Where errors of rules on unchanged values go instead (upstream warns about them). */
  readonly warnings?: string[];
  readonly budget?: CelBudget;
  /** Correlate with `old` for oldSelf only, without ratcheting (a default checked at CRD time). */
  readonly noRatcheting?: boolean;
}

/** Runs the rules on a value (the whole custom resource for the root validator); errors under `path`. */
export function validateCel(v: CelValidator, value: unknown, path: PathOrNil, opts: CelValidateOptions = {}): FieldError[] {
  const ev = new Evaluation(opts.budget ?? { remaining: RUNTIME_CEL_COST_BUDGET }, opts.warnings);
  const r: Ratchet | undefined = opts.old && !opts.noRatcheting ? { current: { old: opts.old.value }, nearestParent: undefined, value } : undefined;
  ev.validate(v, value, opts.old?.value, path, r);
  return ev.errors;
}

/**
 * The rules of a schema node run on its default, as upstream's CRD-time default validation does
 * (oldSelf is the default itself); errors under `path` (`...properties[x].default`).
 */
export function defaultRuleErrors(p: Props, value: unknown, path: FieldPath, isResourceRoot: boolean): FieldError[] {
  if (!hasRules(p)) return [];
  const { validator } = compileCelRules(p, { isResourceRoot });
  return validator ? validateCel(validator, value, path, { old: { value }, noRatcheting: true }) : [];
}
