// Field-level validation errors as Kubernetes apimachinery models them
// (k8s.io/apimachinery/pkg/util/validation/field). kubectl prints these messages verbatim —
// `The Deployment "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or
// equal to 0` — and reads `details.causes[].reason` as the machine-readable type, so both the
// type strings and the rendering of the offending value follow upstream exactly.
import type { Status, StatusCause } from "kubernetes-types/meta/v1.js";

/** The `metav1.StatusCause.reason` values upstream uses for field errors. */
export type FieldErrorType =
  | "FieldValueNotFound"
  | "FieldValueRequired"
  | "FieldValueDuplicate"
  | "FieldValueInvalid"
  | "FieldValueNotSupported"
  | "FieldValueForbidden"
  | "FieldValueTooLong"
  | "FieldValueTooMany"
  | "InternalError"
  | "FieldValueTypeInvalid";

const typeText: Record<FieldErrorType, string> = {
  FieldValueNotFound: "Not found",
  FieldValueRequired: "Required value",
  FieldValueDuplicate: "Duplicate value",
  FieldValueInvalid: "Invalid value",
  FieldValueNotSupported: "Unsupported value",
  FieldValueForbidden: "Forbidden",
  FieldValueTooLong: "Too long",
  FieldValueTooMany: "Too many",
  InternalError: "Internal error",
  FieldValueTypeInvalid: "Invalid value",
};

/** The human-readable name of an error type ("Invalid value", "Required value", ...). */
export function fieldErrorTypeText(type: FieldErrorType): string {
  return typeText[type];
}

/**
 * A path from an object's root to one field: `spec.containers[0].image`, `metadata.labels[app]`.
 * Immutable; every builder returns a new path that shares its parent.
 */
export class FieldPath {
  private constructor(
    private readonly parent: FieldPath | undefined,
    /** The field name, or "" when this element is a subscript. */
    private readonly name: string,
    /** The subscript (array index or map key) when name is "". */
    private readonly subscript: string,
  ) {}

  /** A root path; extra names become successive children (`FieldPath.of("spec", "template")`). */
  static of(name: string, ...more: string[]): FieldPath {
    let p = new FieldPath(undefined, name, "");
    for (const n of more) p = new FieldPath(p, n, "");
    return p;
  }

  child(name: string, ...more: string[]): FieldPath {
    let p = new FieldPath(this, name, "");
    for (const n of more) p = new FieldPath(p, n, "");
    return p;
  }

  index(i: number): FieldPath {
    return new FieldPath(this, "", String(i));
  }

  key(k: string): FieldPath {
    return new FieldPath(this, "", k);
  }

  root(): FieldPath {
    return this.parent ? this.parent.root() : this;
  }

  toString(): string {
    const elems: FieldPath[] = [this];
    for (let p = this.parent; p; p = p.parent) elems.push(p);
    let out = "";
    for (let i = elems.length - 1; i >= 0; i--) {
      const e = elems[i]!;
      if (e.name.length > 0) {
        if (e.parent) out += ".";
        out += e.name;
      } else {
        out += `[${e.subscript}]`;
      }
    }
    return out;
  }
}

/** Upstream's field.NewPath: a root path with optional further children. */
export function newPath(name: string, ...more: string[]): FieldPath {
  return FieldPath.of(name, ...more);
}

/**
 * Upstream lets callers pass a nil path in a few places (the label selector parser does); such
 * an error names its field "<nil>". `null` stands for that nil path here.
 */
export type PathOrNil = FieldPath | null;

/** `child` on a possibly-nil path: upstream's Child on nil yields a fresh root. */
export function childPath(path: PathOrNil, name: string, ...more: string[]): FieldPath {
  return path ? path.child(name, ...more) : FieldPath.of(name, ...more);
}

function pathString(path: PathOrNil): string {
  return path === null ? "<nil>" : path.toString();
}

/**
 * A value already rendered the way Go's fmt would print the upstream Go value, for bad values
 * whose Go type has no JSON-shaped equivalent (e.g. `intstr.IntOrString{Type:1, IntVal:0, StrVal:"x"}`).
 */
export class GoRendered {
  constructor(readonly text: string) {}
}

/** Marker for "no value to print" (upstream's omitValue). */
export const OMIT_VALUE: unique symbol = Symbol("omitValue");

export class FieldError {
  constructor(
    readonly type: FieldErrorType,
    /** The rendered path, e.g. "spec.replicas". */
    readonly field: string,
    /** The offending value; see formatBadValue for how it is printed. */
    readonly badValue: unknown,
    readonly detail: string,
  ) {}

  /** The message without the field, as it appears in `metav1.StatusCause.message`. */
  body(): string {
    let s: string;
    switch (this.type) {
      case "FieldValueRequired":
      case "FieldValueForbidden":
      case "FieldValueTooLong":
      case "InternalError":
        s = typeText[this.type];
        break;
      default:
        s = this.badValue === OMIT_VALUE ? typeText[this.type] : `${typeText[this.type]}: ${formatBadValue(this.badValue)}`;
    }
    if (this.detail.length > 0) s += `: ${this.detail}`;
    return s;
  }

  toString(): string {
    return `${this.field}: ${this.body()}`;
  }

  toStatusCause(): StatusCause {
    const cause: StatusCause = {};
    // Go's StatusCause has omitempty on every field.
    cause.reason = this.type;
    if (this.body()) cause.message = this.body();
    if (this.field) cause.field = this.field;
    return cause;
  }
}

export type FieldErrorList = FieldError[];

export function required(path: PathOrNil, detail = ""): FieldError {
  return new FieldError("FieldValueRequired", pathString(path), "", detail);
}

export function invalid(path: PathOrNil, value: unknown, detail: string): FieldError {
  return new FieldError("FieldValueInvalid", pathString(path), value, detail);
}

export function typeInvalid(path: PathOrNil, value: unknown, detail: string): FieldError {
  return new FieldError("FieldValueTypeInvalid", pathString(path), value, detail);
}

export function notFound(path: PathOrNil, value: unknown): FieldError {
  return new FieldError("FieldValueNotFound", pathString(path), value, "");
}

export function duplicate(path: PathOrNil, value: unknown): FieldError {
  return new FieldError("FieldValueDuplicate", pathString(path), value, "");
}

/** Lists the supported values each quoted as Go's strconv.Quote does, in the order given. */
export function notSupported(path: PathOrNil, value: unknown, validValues: readonly string[]): FieldError {
  const detail = validValues.length > 0 ? "supported values: " + validValues.map((v) => goQuote(v)).join(", ") : "";
  return new FieldError("FieldValueNotSupported", pathString(path), value, detail);
}

export function forbidden(path: PathOrNil, detail: string): FieldError {
  return new FieldError("FieldValueForbidden", pathString(path), "", detail);
}

/** A negative maxLength means "unknown limit" upstream, which changes the wording. */
export function tooLong(path: PathOrNil, maxLength: number): FieldError {
  const msg = maxLength >= 0 ? `may not be more than ${maxLength} bytes` : "value is too long";
  return new FieldError("FieldValueTooLong", pathString(path), "<value omitted>", msg);
}

/** A negative actual count omits the count from the message. */
export function tooMany(path: PathOrNil, actualQuantity: number, maxQuantity: number): FieldError {
  const msg = maxQuantity >= 0 ? `must have at most ${maxQuantity} items` : "has too many items";
  return new FieldError("FieldValueTooMany", pathString(path), actualQuantity >= 0 ? actualQuantity : OMIT_VALUE, msg);
}

export function internalError(path: PathOrNil, err: Error | string): FieldError {
  return new FieldError("InternalError", pathString(path), null, typeof err === "string" ? err : err.message);
}

/**
 * The error list as one message, as upstream's ErrorList.ToAggregate().Error() builds it:
 * duplicates (same rendered message) dropped, one error bare, several as `[a, b]`.
 */
export function aggregateMessage(errs: readonly FieldError[]): string {
  const seen = new Set<string>();
  const msgs: string[] = [];
  for (const e of errs) {
    const m = e.toString();
    if (seen.has(m)) continue;
    seen.add(m);
    msgs.push(m);
  }
  if (msgs.length === 0) return "";
  if (msgs.length === 1) return msgs[0]!;
  return `[${msgs.join(", ")}]`;
}

export interface GroupKind {
  readonly group: string;
  readonly kind: string;
}

/** `Deployment.apps`, or just `Pod` for the core group, as schema.GroupKind.String() does. */
export function groupKindString(gk: GroupKind): string {
  return gk.group.length === 0 ? gk.kind : `${gk.kind}.${gk.group}`;
}

/** The message of upstream's errors.NewInvalid: `Deployment.apps "web" is invalid: [..]`. */
export function invalidMessage(gk: GroupKind, name: string, errs: readonly FieldError[]): string {
  const agg = aggregateMessage(errs);
  const head = `${groupKindString(gk)} ${goQuote(name)} is invalid`;
  return agg === "" ? head : `${head}: ${agg}`;
}

/**
 * An object failed validation: HTTP 422 with one cause per field error. Callers switch on
 * `code`, never on the message.
 */
export class InvalidObjectError extends Error {
  override readonly name = "InvalidObjectError";
  readonly code = "Invalid" as const;
  constructor(
    readonly groupKind: GroupKind,
    readonly objectName: string,
    readonly errors: readonly FieldError[],
  ) {
    super(invalidMessage(groupKind, objectName, errors));
  }

  /** The `metav1.Status` body upstream sends for this error (field order as Go serializes it). */
  toStatus(): Status {
    const details: NonNullable<Status["details"]> = {};
    if (this.objectName) details.name = this.objectName;
    if (this.groupKind.group) details.group = this.groupKind.group;
    if (this.groupKind.kind) details.kind = this.groupKind.kind;
    if (this.errors.length > 0) details.causes = this.errors.map((e) => e.toStatusCause());
    return {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: "Invalid",
      details,
      code: 422,
    };
  }
}

export function newInvalid(gk: GroupKind, name: string, errs: readonly FieldError[]): InvalidObjectError {
  return new InvalidObjectError(gk, name, errs);
}

// ---- Go value rendering -------------------------------------------------------------------

/**
 * Renders a bad value the way upstream's ErrorBody prints the Go value it would have held:
 * strings with %q, numbers and booleans with %v, null/undefined as "null", string slices and
 * string maps with %#v (`[]string{"a", "b"}`, `map[string]string{"k":"v"}`), GoRendered as given.
 * Integral numbers print as integers because upstream's numeric fields are integers; other
 * objects fall back to JSON, since Go's %#v of a struct has no faithful JSON-side equivalent.
 */
export function formatBadValue(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (v instanceof GoRendered) return v.text;
  switch (typeof v) {
    case "string":
      return goQuote(v);
    case "number":
      return goFormatNumber(v);
    case "bigint":
      return v.toString();
    case "boolean":
      return v ? "true" : "false";
    default:
      break;
  }
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) {
    return `[]string{${(v as string[]).map((x) => goQuote(x)).join(", ")}}`;
  }
  if (typeof v === "object" && !Array.isArray(v)) {
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.every(([, x]) => typeof x === "string")) {
      entries.sort(([a], [b]) => compareGoStrings(a, b));
      return `map[string]string{${entries.map(([k, x]) => `${goQuote(k)}:${goQuote(x as string)}`).join(", ")}}`;
    }
  }
  return JSON.stringify(v) ?? String(v);
}

/** Go's %v for a number: integers in decimal, others as a float64 (goFloat). */
export function goFormatNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return BigInt(n).toString();
  return goFloat(n);
}

/** Go's %v of a float64: strconv 'g' with the shortest precision, %e from exponent 6 (1e+06). */
export function goFloat(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  if (n === 0) return Object.is(n, -0) ? "-0" : "0";
  const [mant = "0", expStr = "0"] = Math.abs(n).toExponential().split("e");
  const digits = mant.replace(".", "");
  const exp = Number(expStr);
  const sign = n < 0 ? "-" : "";
  if (exp < -4 || exp >= 6) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp).toString().padStart(2, "0");
    return `${sign}${m}e${exp < 0 ? "-" : "+"}${e}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
  const frac = digits.slice(exp + 1);
  return frac ? `${sign}${intPart}.${frac}` : `${sign}${intPart}`;
}

const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** Go's strconv.Quote: the string in double quotes with Go escapes for non-printable runes. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    let cp = ch.codePointAt(0)!;
    // A lone surrogate cannot exist in a Go string; JSON decoding turns it into U+FFFD.
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
    const c = String.fromCodePoint(cp);
    switch (cp) {
      case 0x22:
        out += '\\"';
        continue;
      case 0x5c:
        out += "\\\\";
        continue;
      case 0x07:
        out += "\\a";
        continue;
      case 0x08:
        out += "\\b";
        continue;
      case 0x0c:
        out += "\\f";
        continue;
      case 0x0a:
        out += "\\n";
        continue;
      case 0x0d:
        out += "\\r";
        continue;
      case 0x09:
        out += "\\t";
        continue;
      case 0x0b:
        out += "\\v";
        continue;
      default:
        break;
    }
    if (printable.test(c)) out += c;
    else if (cp < 0x20 || cp === 0x7f) out += "\\x" + cp.toString(16).padStart(2, "0");
    else if (cp < 0x10000) out += "\\u" + cp.toString(16).padStart(4, "0");
    else out += "\\U" + cp.toString(16).padStart(8, "0");
  }
  return out + '"';
}

/**
 * Go compares strings bytewise (UTF-8), which is code point order; JS `<` compares UTF-16
 * code units, which differs for characters above U+FFFF versus U+E000–U+FFFF. Sorting that
 * feeds a canonical string (selectors, map renderings) uses this.
 */
export function compareGoStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** The length of a string in UTF-8 bytes, which is what Go's len() measures. */
export function byteLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}
