// resource.Quantity as Kubernetes apimachinery pkg/api/resource implements it: exact decimal
// arithmetic (a bigint mantissa and a base-10 exponent, never a float), the three suffix
// families, and the canonical string upstream serializes — which is what `kubectl get -o yaml`
// shows after a round trip through the server ("1000m" → "1", "1.5Gi" → "1536Mi"). Parsing
// keeps upstream's rules exactly, including two of its quirks: a string already in a canonical-
// looking form is echoed back verbatim ("+1" stays "+1", "1.500k" stays "1.500k"), and a
// DecimalSI value whose exponent has no suffix (beyond E) prints without one.

export type QuantityFormat = "DecimalExponent" | "BinarySI" | "DecimalSI";

export type QuantityErrorCode = "QuantityFormatWrong" | "QuantityNumeric" | "QuantitySuffix" | "QuantityOverflow";

const splitREString = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";

const messages: Record<Exclude<QuantityErrorCode, "QuantityOverflow">, string> = {
  QuantityFormatWrong: `quantities must match the regular expression '${splitREString}'`,
  QuantityNumeric: "unable to parse numeric part of quantity",
  QuantitySuffix: "unable to parse quantity's suffix",
};

export class QuantityError extends Error {
  override readonly name = "QuantityError";
  constructor(
    readonly code: QuantityErrorCode,
    message?: string,
  ) {
    super(message ?? (code === "QuantityOverflow" ? "quantity out of range" : messages[code]));
  }
}

/** Scales for scaledValue, as upstream's resource.Scale (powers of ten). */
export const Scale = { Nano: -9, Micro: -6, Milli: -3, Kilo: 3, Mega: 6, Giga: 9, Tera: 12, Peta: 15, Exa: 18 } as const;

const MAX_INT64 = 2n ** 63n - 1n;
const MIN_INT64 = -(2n ** 63n);
/** Beyond this many decimal digits we refuse to materialize a value (upstream would overflow). */
const MAX_EXPAND_DIGITS = 4096;

const decimalSuffix = new Map<number, string>([
  [-9, "n"],
  [-6, "u"],
  [-3, "m"],
  [0, ""],
  [3, "k"],
  [6, "M"],
  [9, "G"],
  [12, "T"],
  [15, "P"],
  [18, "E"],
]);
const binarySuffix = new Map<number, string>([
  [10, "Ki"],
  [20, "Mi"],
  [30, "Gi"],
  [40, "Ti"],
  [50, "Pi"],
  [60, "Ei"],
]);

interface Interpreted {
  base: 10 | 2;
  exponent: number;
  format: QuantityFormat;
}

function interpretSuffix(s: string): Interpreted | undefined {
  switch (s) {
    case "":
      return { base: 10, exponent: 0, format: "DecimalSI" };
    case "n":
      return { base: 10, exponent: -9, format: "DecimalSI" };
    case "u":
      return { base: 10, exponent: -6, format: "DecimalSI" };
    case "m":
      return { base: 10, exponent: -3, format: "DecimalSI" };
    case "k":
      return { base: 10, exponent: 3, format: "DecimalSI" };
    case "M":
      return { base: 10, exponent: 6, format: "DecimalSI" };
    case "G":
      return { base: 10, exponent: 9, format: "DecimalSI" };
    case "T":
      return { base: 10, exponent: 12, format: "DecimalSI" };
    case "P":
      return { base: 10, exponent: 15, format: "DecimalSI" };
    case "E":
      return { base: 10, exponent: 18, format: "DecimalSI" };
    case "Ki":
      return { base: 2, exponent: 10, format: "BinarySI" };
    case "Mi":
      return { base: 2, exponent: 20, format: "BinarySI" };
    case "Gi":
      return { base: 2, exponent: 30, format: "BinarySI" };
    case "Ti":
      return { base: 2, exponent: 40, format: "BinarySI" };
    case "Pi":
      return { base: 2, exponent: 50, format: "BinarySI" };
    case "Ei":
      return { base: 2, exponent: 60, format: "BinarySI" };
    default:
      break;
  }
  if (s.length > 1 && (s[0] === "e" || s[0] === "E")) {
    const rest = s.slice(1);
    if (!/^[+-]?[0-9]+$/.test(rest)) return undefined;
    const v = BigInt(rest);
    if (v < MIN_INT64 || v > MAX_INT64) return undefined;
    // Upstream parses an int64 and then truncates it to int32.
    return { base: 10, exponent: Number(BigInt.asIntN(32, v)), format: "DecimalExponent" };
  }
  return undefined;
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= "0" && c <= "9";

interface Scanned {
  positive: boolean;
  value: string;
  num: string;
  denom: string;
  suffix: string;
}

/** Upstream's scanner: sign, leading zeros, numerator, optional `.denominator`, suffix. */
function scanQuantity(str: string): Scanned {
  let positive = true;
  let pos = 0;
  const end = str.length;
  const out = (value: string, num: string, denom: string, suffix: string): Scanned => ({ positive, value, num, denom, suffix });
  if (pos < end) {
    if (str[0] === "-") {
      positive = false;
      pos++;
    } else if (str[0] === "+") pos++;
  }
  while (pos < end && str[pos] === "0") pos++;
  if (pos >= end) return out("0", "0", "", "");
  let i = pos;
  while (i < end && isDigit(str[i])) i++;
  if (i >= end) return out(str, str.slice(pos), "", "");
  let num = str.slice(pos, i);
  pos = i;
  if (num.length === 0) num = "0";
  let denom = "";
  if (pos < end && str[pos] === ".") {
    pos++;
    i = pos;
    while (i < end && isDigit(str[i])) i++;
    if (i >= end) return out(str, num, str.slice(pos), "");
    denom = str.slice(pos, i);
    pos = i;
  }
  const value = str.slice(0, pos);
  const suffixStart = pos;
  while (pos < end && "eEinumkKMGTP".includes(str[pos]!)) pos++;
  if (pos >= end) return out(value, num, denom, str.slice(suffixStart));
  if (str[pos] === "-" || str[pos] === "+") pos++;
  while (pos < end && isDigit(str[pos])) pos++;
  if (pos >= end) return out(value, num, denom, str.slice(suffixStart));
  throw new QuantityError("QuantityFormatWrong");
}

function pow10(n: number): bigint {
  return 10n ** BigInt(n);
}

function absBig(v: bigint): bigint {
  return v < 0n ? -v : v;
}

function digitCount(v: bigint): number {
  return absBig(v).toString().length;
}

/** Divides by 10^d rounding away from zero; `exact` tells whether nothing was lost. */
function divPow10AwayFromZero(v: bigint, d: number): { q: bigint; exact: boolean } {
  if (d <= 0) return { q: v * pow10(-d), exact: true };
  if (v === 0n) return { q: 0n, exact: true };
  if (d > digitCount(v)) return { q: v > 0n ? 1n : -1n, exact: false };
  const p = pow10(d);
  const q = v / p;
  const r = v % p;
  if (r === 0n) return { q, exact: true };
  return { q: v > 0n ? q + 1n : q - 1n, exact: false };
}

/** Removes factors of `base`; returns the rest and how many were removed. */
function removeFactors(v: bigint, base: bigint): { rest: bigint; times: number } {
  let rest = v;
  let times = 0;
  while (rest !== 0n && rest % base === 0n) {
    rest /= base;
    times++;
  }
  return { rest, times };
}

/**
 * A fixed-point quantity: value = mantissa × 10^exponent, exactly. Immutable: arithmetic
 * returns new quantities.
 */
export class Quantity {
  private constructor(
    /** The unscaled value. */
    readonly mantissa: bigint,
    /** The base-10 exponent. */
    readonly exponent: number,
    readonly format: QuantityFormat,
    /** The input string, kept when upstream would echo it back verbatim. */
    private readonly cached?: string,
  ) {}

  /** Parses a quantity string; throws QuantityError with upstream's message. */
  static parse(str: string): Quantity {
    if (str.length === 0) throw new QuantityError("QuantityFormatWrong");
    if (str === "0") return new Quantity(0n, 0, "DecimalSI", "0");
    const { positive, value, num, denom, suffix } = scanQuantity(str);
    const interp = interpretSuffix(suffix);
    if (!interp) throw new QuantityError("QuantitySuffix");
    const { base, exponent } = interp;
    let format = interp.format;

    // The fast path of upstream: it decides when the input string is reused verbatim.
    let precision: number;
    let scale: number;
    let multiplier = 1n;
    if (format === "BinarySI") {
      scale = 0;
      if (exponent >= 0 && denom.length === 0) {
        multiplier = 1n << BigInt(exponent);
        precision = 15 - num.length - Math.trunc((exponent * 3) / 10) - 1;
      } else {
        precision = -1;
      }
    } else {
      scale = exponent;
      precision = 18 - (num.length + denom.length);
    }
    if (precision >= 0) {
      scale -= denom.length;
      if (scale >= Scale.Nano) {
        const shifted = num + denom;
        const parsed = BigInt(shifted);
        const product = parsed * multiplier;
        if (product <= MAX_INT64) {
          const result = positive ? product : -product;
          let reuse: boolean;
          if (format === "BinarySI") reuse = exponent % 10 === 0 && (parsed & 7n) !== 0n;
          else reuse = scale % 3 === 0 && !shifted.endsWith("000") && shifted[0] !== "0";
          return new Quantity(result, scale, format, reuse ? str : undefined);
        }
      }
    }

    // The general path: exact decimal, rounded up to nano units, binary capped at 2^63-1.
    const m = /^([+-]?)([0-9]*)(?:\.([0-9]*))?$/.exec(value);
    if (!m || (m[2] ?? "") + (m[3] ?? "") === "") throw new QuantityError("QuantityNumeric");
    const frac = m[3] ?? "";
    let mant = BigInt((m[2] ?? "") + frac || "0");
    let exp = -frac.length;
    if (base === 10) exp += exponent;
    else mant *= 1n << BigInt(exponent);
    if (mant !== 0n && exp < Scale.Nano) {
      mant = divPow10AwayFromZero(mant, Scale.Nano - exp).q;
      exp = Scale.Nano;
    }
    const negative = m[1] === "-";
    if (format === "BinarySI" && compareMagnitude(mant, exp, MAX_INT64, 0) > 0) {
      mant = MAX_INT64;
      exp = 0;
    }
    if (format === "BinarySI" && mant !== 0n && compareMagnitude(mant, exp, 1n, 0) < 0) format = "DecimalSI";
    return new Quantity(negative ? -mant : mant, exp, format);
  }

  /**
   * Reads a quantity from decoded JSON as upstream's UnmarshalJSON: strings are trimmed of
   * surrounding whitespace; numbers go through their JS string form (so a JSON `1e3` reads as
   * "1000", where Go would keep the literal "1e3").
   */
  static fromJSON(v: unknown): Quantity {
    if (typeof v === "string") return Quantity.parse(v.trim());
    if (typeof v === "number" && Number.isFinite(v)) return Quantity.parse(String(v));
    throw new QuantityError("QuantityFormatWrong");
  }

  /** Upstream's NewQuantity: an integer value in the given format. */
  static fromInt(value: bigint | number, format: QuantityFormat): Quantity {
    return new Quantity(BigInt(value), 0, format);
  }

  /** Upstream's NewMilliQuantity: value/1000 in the given format. */
  static fromMilli(value: bigint | number, format: QuantityFormat): Quantity {
    return new Quantity(BigInt(value), -3, format);
  }

  /** Upstream's NewScaledQuantity: value × 10^scale, DecimalSI. */
  static fromScaled(value: bigint | number, scale: number): Quantity {
    return new Quantity(BigInt(value), scale, "DecimalSI");
  }

  static zero(format: QuantityFormat = "DecimalSI"): Quantity {
    return new Quantity(0n, 0, format);
  }

  isZero(): boolean {
    return this.mantissa === 0n;
  }

  sign(): -1 | 0 | 1 {
    return this.mantissa === 0n ? 0 : this.mantissa > 0n ? 1 : -1;
  }

  /** -1, 0 or 1 as this is less than, equal to or greater than `other`. */
  cmp(other: Quantity): -1 | 0 | 1 {
    const a = this.sign();
    const b = other.sign();
    if (a !== b) return a < b ? -1 : 1;
    if (a === 0) return 0;
    const mag = compareMagnitude(absBig(this.mantissa), this.exponent, absBig(other.mantissa), other.exponent);
    if (mag === 0) return 0;
    return a > 0 ? mag : mag === 1 ? -1 : 1;
  }

  equals(other: Quantity): boolean {
    return this.cmp(other) === 0;
  }

  /** Compares with an integer, as upstream's CmpInt64. */
  cmpInt(v: bigint | number): -1 | 0 | 1 {
    return this.cmp(new Quantity(BigInt(v), 0, "DecimalSI"));
  }

  /** The sum; a zero receiver takes the other's format, as upstream's Add. */
  add(other: Quantity): Quantity {
    const [x, y, exp] = align(this, other);
    return new Quantity(x + y, exp, this.isZero() ? other.format : this.format);
  }

  /** The difference; a zero receiver takes the other's format, as upstream's Sub. */
  sub(other: Quantity): Quantity {
    const [x, y, exp] = align(this, other);
    return new Quantity(x - y, exp, this.isZero() ? other.format : this.format);
  }

  neg(): Quantity {
    return new Quantity(-this.mantissa, this.exponent, this.format);
  }

  /** Multiplies by an integer (exact). */
  mul(n: bigint | number): Quantity {
    return new Quantity(this.mantissa * BigInt(n), this.exponent, this.format);
  }

  /** The same quantity in another format (for printing). */
  withFormat(format: QuantityFormat): Quantity {
    return new Quantity(this.mantissa, this.exponent, format);
  }

  /**
   * The value in units of 10^scale, rounded away from zero (upstream's ScaledValue; it wraps
   * silently past int64, this throws QuantityError "QuantityOverflow" instead).
   */
  scaledValue(scale: number): bigint {
    const shift = scale - this.exponent;
    if (shift < 0 && digitCount(this.mantissa) - shift > MAX_EXPAND_DIGITS) throw new QuantityError("QuantityOverflow");
    const v = divPow10AwayFromZero(this.mantissa, shift).q;
    if (v > MAX_INT64 || v < MIN_INT64) throw new QuantityError("QuantityOverflow");
    return v;
  }

  /** The value rounded away from zero to an integer (upstream's Value). */
  value(): bigint {
    return this.scaledValue(0);
  }

  /** ceil(value × 1000), away from zero (upstream's MilliValue). */
  milliValue(): bigint {
    return this.scaledValue(Scale.Milli);
  }

  /** The value rounded up (away from zero) to 10^scale; `exact` is false if that lost digits. */
  roundUp(scale: number): { quantity: Quantity; exact: boolean } {
    if (this.exponent >= scale) return { quantity: this, exact: true };
    const { q, exact } = divPow10AwayFromZero(this.mantissa, scale - this.exponent);
    return { quantity: new Quantity(q, scale, this.format), exact };
  }

  /** A float approximation, for display and ratios only. */
  asApproximateFloat64(): number {
    return Number(`${this.mantissa}e${this.exponent}`);
  }

  /** The canonical form upstream serializes (or the parsed string when upstream reuses it). */
  toString(): string {
    if (this.cached !== undefined) return this.cached;
    if (this.mantissa === 0n) return "0";
    let format = this.format;
    let binaryValue: bigint | undefined;
    if (format === "BinarySI") {
      // An astronomically large exponent is printed in decimal rather than expanded digit by digit.
      if (compareMagnitude(absBig(this.mantissa), this.exponent, 1024n, 0) < 0 || this.exponent > MAX_EXPAND_DIGITS) {
        format = "DecimalSI";
      } else {
        const { q, exact } = divPow10AwayFromZero(this.mantissa, -this.exponent);
        if (exact) binaryValue = q;
        else format = "DecimalSI";
      }
    }
    if (format === "BinarySI" && binaryValue !== undefined) {
      const { rest, times } = removeFactors(binaryValue, 1024n);
      return rest.toString() + (binarySuffix.get(times * 10) ?? "");
    }
    const stripped = removeFactors(this.mantissa, 10n);
    let mant = stripped.rest;
    let exp = this.exponent + stripped.times;
    while (exp % 3 !== 0) {
      mant *= 10n;
      exp--;
    }
    if (format === "DecimalSI") return mant.toString() + (decimalSuffix.get(exp) ?? "");
    return mant.toString() + (exp === 0 ? "" : `e${exp}`);
  }

  toJSON(): string {
    return this.toString();
  }
}

/** Compares |a|×10^ea with |b|×10^eb (both mantissas non-negative) without expanding huge powers. */
function compareMagnitude(a: bigint, ea: number, b: bigint, eb: number): -1 | 0 | 1 {
  if (a === 0n || b === 0n) return a === b ? 0 : a === 0n ? -1 : 1;
  const oa = digitCount(a) + ea;
  const ob = digitCount(b) + eb;
  if (oa !== ob) return oa < ob ? -1 : 1;
  const e = Math.min(ea, eb);
  const x = a * pow10(ea - e);
  const y = b * pow10(eb - e);
  return x === y ? 0 : x < y ? -1 : 1;
}

function align(a: Quantity, b: Quantity): [bigint, bigint, number] {
  if (a.mantissa === 0n) return [0n, b.mantissa, b.exponent];
  if (b.mantissa === 0n) return [a.mantissa, 0n, a.exponent];
  const e = Math.min(a.exponent, b.exponent);
  if (Math.max(a.exponent, b.exponent) - e > MAX_EXPAND_DIGITS) throw new QuantityError("QuantityOverflow");
  return [a.mantissa * pow10(a.exponent - e), b.mantissa * pow10(b.exponent - e), e];
}

/** Parses or throws QuantityError; a convenience for the common call. */
export function parseQuantity(s: string): Quantity {
  return Quantity.parse(s);
}

/** Parses a quantity field as upstream's decoder does (a string or a number); undefined when it is not one. */
export function quantityOf(v: unknown): Quantity | undefined {
  try {
    return Quantity.fromJSON(v);
  } catch {
    return undefined;
  }
}

/** Sums quantities; an empty list is a DecimalSI zero. */
export function sumQuantities(qs: Iterable<Quantity>): Quantity {
  let total = Quantity.zero();
  for (const q of qs) total = total.add(q);
  return total;
}
