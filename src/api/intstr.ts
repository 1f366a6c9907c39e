// IntOrString helpers as Kubernetes apimachinery pkg/util/intstr implements them. On the wire an
// IntOrString is a JSON number or a JSON string, which is exactly `number | string` here.
// Deployments resolve maxSurge rounding up and maxUnavailable rounding down (upstream's
// deployment util ResolveFenceposts), so `25%` of 10 replicas is a surge of 3 and 2 unavailable.
import { GoRendered, goQuote, invalid, type FieldError, type FieldPath } from "./fielderrors.js";
import { isValidPercent, validateNonnegativeField } from "./validation.js";

export type IntOrString = number | string;

export class IntOrStringError extends Error {
  override readonly name = "IntOrStringError";
  readonly code = "InvalidIntOrString" as const;
}

/** Go's strconv.Atoi for a 64-bit int, with its error text. */
function atoi(s: string): number {
  const fail = (why: string): never => {
    throw new IntOrStringError(`strconv.Atoi: parsing ${goQuote(s)}: ${why}`);
  };
  if (!/^[+-]?[0-9]+$/.test(s)) return fail("invalid syntax");
  const v = BigInt(s);
  if (v > 2n ** 63n - 1n || v < -(2n ** 63n)) return fail("value out of range");
  return Number(v);
}

/**
 * Upstream's GetScaledValueFromIntOrPercent: an integer is used as is; a string must be a
 * percentage ("25%") of `total`, rounded up or down. Anything else throws IntOrStringError
 * with upstream's message (`invalid value for IntOrString: ...`).
 */
export function scaledValueFromIntOrPercent(v: IntOrString | null | undefined, total: number, roundUp: boolean): number {
  if (v === null || v === undefined) throw new IntOrStringError("nil value for IntOrString");
  if (typeof v === "number") return Math.trunc(v);
  if (!v.endsWith("%")) throw new IntOrStringError("invalid value for IntOrString: invalid type: string is not a percentage");
  let pct: number;
  try {
    pct = atoi(v.slice(0, -1));
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new IntOrStringError(`invalid value for IntOrString: invalid value ${goQuote(v)}: ${msg}`);
  }
  // Upstream computes in float64; with integer inputs this is exact for any realistic total.
  const scaled = (pct * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

/**
 * Upstream's deprecated GetValueFromIntOrPercent, which still backs some callers: every
 * string counts as a percentage, with or without its '%'.
 */
export function valueFromIntOrPercent(v: IntOrString | null | undefined, total: number, roundUp: boolean): number {
  if (v === null || v === undefined) throw new IntOrStringError("nil value for IntOrString");
  if (typeof v === "number") return Math.trunc(v);
  let pct: number;
  try {
    pct = atoi(v.replaceAll("%", ""));
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new IntOrStringError(`invalid value for IntOrString: invalid value ${goQuote(v)}: ${msg}`);
  }
  const scaled = (pct * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

/**
 * A Deployment's rolling-update bounds for `desired` replicas: surge rounds up, unavailability
 * rounds down, and if both come out 0 one pod may be unavailable so a rollout can progress.
 * Missing values count as 0 (defaulting has normally filled in 25%).
 */
export function resolveFenceposts(maxSurge: IntOrString | undefined, maxUnavailable: IntOrString | undefined, desired: number): { surge: number; unavailable: number } {
  const surge = scaledValueFromIntOrPercent(maxSurge ?? 0, desired, true);
  let unavailable = scaledValueFromIntOrPercent(maxUnavailable ?? 0, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

/** The IntOrString's string form: the string, or the integer in decimal. */
export function intOrStringToString(v: IntOrString): string {
  return typeof v === "string" ? v : String(Math.trunc(v));
}

/**
 * Upstream's IntValue(): the integer, or the string parsed as an integer (0 if it is not one;
 * "50%" is 0).
 */
export function intOrStringIntValue(v: IntOrString): number {
  if (typeof v === "number") return Math.trunc(v);
  try {
    return atoi(v);
  } catch {
    return 0;
  }
}

/** Upstream's intstr.Parse: a string that is an int32 becomes the integer, else stays a string. */
export function parseIntOrString(s: string): IntOrString {
  if (!/^[+-]?[0-9]+$/.test(s)) return s;
  const v = BigInt(s);
  return v >= -(2n ** 31n) && v < 2n ** 31n ? Number(v) : s;
}

/**
 * How Go prints an IntOrString value in a field error (%#v of the struct, since its String
 * method has a pointer receiver): `intstr.IntOrString{Type:1, IntVal:0, StrVal:"50"}`.
 */
export function goIntOrString(v: IntOrString): GoRendered {
  return typeof v === "string"
    ? new GoRendered(`intstr.IntOrString{Type:1, IntVal:0, StrVal:${goQuote(v)}}`)
    : new GoRendered(`intstr.IntOrString{Type:0, IntVal:${Math.trunc(v)}, StrVal:""}`);
}

/** A percentage string ("25%") is valid: digits then '%'. */
export function isValidPercentString(s: string): boolean {
  return isValidPercent(s).length === 0;
}

/** The integer of a valid percentage string, or undefined for integers and invalid strings. */
export function percentValue(v: IntOrString): number | undefined {
  if (typeof v !== "string" || !isValidPercentString(v)) return undefined;
  return Number(v.slice(0, -1));
}

/** Upstream's ValidatePositiveIntOrPercent (apps validation): integers ≥ 0, strings "N%". */
export function validatePositiveIntOrPercent(v: IntOrString, path: FieldPath): FieldError[] {
  if (typeof v === "string") return isValidPercent(v).map((m) => invalid(path, goIntOrString(v), m));
  return validateNonnegativeField(Math.trunc(v), path);
}

/** Upstream's IsNotMoreThan100Percent: only percentage strings are checked. */
export function isNotMoreThan100Percent(v: IntOrString, path: FieldPath): FieldError[] {
  const pct = percentValue(v);
  if (pct === undefined || pct <= 100) return [];
  return [invalid(path, goIntOrString(v), "must not be greater than 100%")];
}
