// CEL values as cel-js represents them (int: bigint, uint: UnsignedInt, double: number, bytes:
// Uint8Array, timestamp: Date, duration: Duration, list: array, map: Map or plain object), and
// CEL's equality and ordering over them, which the list and set libraries need.
import { EvaluationError } from "@marcbachmann/cel-js";

/** cel-js's UnsignedInt: a bigint in `value`, recognised by that shape (the class is not exported). */
interface UintValue {
  readonly value: bigint;
  verify(v: bigint): void;
}
/** cel-js's Duration. */
interface DurationValue {
  readonly seconds: bigint;
  readonly nanos: number;
  addDuration(other: DurationValue): DurationValue;
}

export function isUint(v: unknown): v is UintValue {
  return typeof v === "object" && v !== null && typeof (v as UintValue).value === "bigint" && typeof (v as UintValue).verify === "function";
}

export function isDuration(v: unknown): v is DurationValue {
  return typeof v === "object" && v !== null && typeof (v as DurationValue).seconds === "bigint" && typeof (v as DurationValue).addDuration === "function";
}

const MAX_INT = 2n ** 63n - 1n;
const MIN_INT = -(2n ** 63n);

/** CEL's int range check: results outside int64 are an overflow error. */
export function checkedInt(v: bigint): bigint {
  if (v > MAX_INT || v < MIN_INT) throw new EvaluationError("integer overflow");
  return v;
}

/** A numeric value as an exact rational-free comparable (bigint for ints, number for doubles). */
function numeric(v: unknown): bigint | number | undefined {
  if (typeof v === "bigint" || typeof v === "number") return v;
  if (isUint(v)) return v.value;
  return undefined;
}

function compareNumbers(a: bigint | number, b: bigint | number): number {
  if (typeof a === "number" && Number.isNaN(a)) return Number.NaN;
  if (typeof b === "number" && Number.isNaN(b)) return Number.NaN;
  // Mixed int/double comparisons are exact on the integer side, as CEL's heterogeneous ordering.
  if (typeof a === "bigint" && typeof b === "number") return -compareNumbers(b, a);
  if (typeof a === "number" && typeof b === "bigint") {
    if (!Number.isFinite(a)) return a > 0 ? 1 : -1;
    const fl = BigInt(Math.floor(a));
    if (fl !== b) return fl < b ? -1 : 1;
    return a > Math.floor(a) ? 1 : 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Strings order by code point (Go compares UTF-8 bytes, which orders the same). */
function compareStrings(a: string, b: string): number {
  const ai = a[Symbol.iterator]();
  const bi = b[Symbol.iterator]();
  for (;;) {
    const x = ai.next();
    const y = bi.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const cx = x.value.codePointAt(0) ?? 0;
    const cy = y.value.codePointAt(0) ?? 0;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** CEL ordering of two comparable values: negative, zero, positive; throws for values CEL cannot order. */
export function celCompare(a: unknown, b: unknown): number {
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== undefined && nb !== undefined) return compareNumbers(na, nb);
  if (typeof a === "string" && typeof b === "string") return compareStrings(a, b);
  if (typeof a === "boolean" && typeof b === "boolean") return a === b ? 0 : a ? 1 : -1;
  if (a instanceof Uint8Array && b instanceof Uint8Array) return compareBytes(a, b);
  if (a instanceof Date && b instanceof Date) return compareNumbers(a.getTime(), b.getTime());
  if (isDuration(a) && isDuration(b)) {
    if (a.seconds !== b.seconds) return a.seconds < b.seconds ? -1 : 1;
    return compareNumbers(a.nanos, b.nanos);
  }
  throw new EvaluationError(`no such overload: cannot compare ${typeName(a)} and ${typeName(b)}`);
}

export function typeName(v: unknown): string {
  if (v === null || v === undefined) return "null_type";
  if (typeof v === "bigint") return "int";
  if (typeof v === "number") return "double";
  if (typeof v === "string") return "string";
  if (typeof v === "boolean") return "bool";
  if (isUint(v)) return "uint";
  if (isDuration(v)) return "google.protobuf.Duration";
  if (v instanceof Date) return "google.protobuf.Timestamp";
  if (v instanceof Uint8Array) return "bytes";
  if (Array.isArray(v)) return "list";
  if (v instanceof Map || typeof v === "object") return "map";
  return typeof v;
}

function entries(v: object): [unknown, unknown][] {
  return v instanceof Map ? [...(v as Map<unknown, unknown>).entries()] : Object.entries(v);
}

/** CEL equality: numbers compare across int, uint and double; lists and maps element-wise. */
export function celEquals(a: unknown, b: unknown): boolean {
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== undefined || nb !== undefined) return na !== undefined && nb !== undefined && compareNumbers(na, nb) === 0;
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => celEquals(x, b[i]));
  }
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && compareBytes(a, b) === 0;
  }
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  if (isDuration(a) || isDuration(b)) return isDuration(a) && isDuration(b) && celCompare(a, b) === 0;
  if (a.constructor !== b.constructor && !(isPlainMap(a) && isPlainMap(b))) return false;
  if (!isPlainMap(a)) return false;
  const ea = entries(a);
  const eb = entries(b);
  if (ea.length !== eb.length) return false;
  return ea.every(([k, v]) => eb.some(([k2, v2]) => celEquals(k, k2) && celEquals(v, v2)));
}

function isPlainMap(v: object): boolean {
  return v instanceof Map || Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null;
}

/** Whether `parse` returns without a CEL evaluation error (the libraries' isIP, isSemver, ...); other throws propagate. */
export function parses(parse: () => unknown): boolean {
  try {
    parse();
    return true;
  } catch (e) {
    if (e instanceof EvaluationError) return false;
    throw e;
  }
}
