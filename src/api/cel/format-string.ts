// `string.format(list)` of cel-go's strings extension (version 1+): printf-style clauses %s, %d,
// %f, %e, %b, %x, %X, %o with an optional precision (`%.2f`), and `%%`. Numbers in %f and %e
// are printed as cel-go prints them for its default locale, en-US (grouped thousands; %e in
// the `×10ⁿ` notation of golang.org/x/text).
import { EvaluationError } from "@marcbachmann/cel-js";
import { isDuration, isUint, typeName } from "./values.js";

const DEFAULT_PRECISION = 6;

function fail(message: string): never {
  throw new EvaluationError(`error during formatting: ${message}`);
}

function goQuote(s: string): string {
  return JSON.stringify(s);
}

function timestampString(d: Date): string {
  return d.toISOString().replace(/\.000Z$/, "Z");
}

function durationString(d: { seconds: bigint; nanos: number }): string {
  if (d.nanos === 0) return `${d.seconds}s`;
  const total = Number(d.seconds) + d.nanos / 1e9;
  return `${total}s`;
}

function doubleString(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

/** %s: the value as CEL's string() renders it; lists and maps as CEL literals. */
function formatS(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return v;
  if (typeof v === "bigint" || typeof v === "boolean") return String(v);
  if (typeof v === "number") return doubleString(v);
  if (isUint(v)) return String(v.value);
  if (v instanceof Uint8Array) return Buffer.from(v).toString("utf8");
  if (v instanceof Date) return timestampString(v);
  if (isDuration(v)) return durationString(v);
  if (Array.isArray(v)) return `[${v.map(literal).join(", ")}]`;
  if (typeof v === "object") {
    const pairs = (v instanceof Map ? [...(v as Map<unknown, unknown>).entries()] : Object.entries(v)).map(([k, val]) => {
      if (typeof k !== "string" && typeof k !== "boolean" && typeof k !== "bigint" && !isUint(k)) {
        fail(`no formatting function for map key of type ${typeName(k)}`);
      }
      return [literal(k), literal(val)] as const;
    });
    pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return `{${pairs.map(([k, val]) => `${k}:${val}`).join(", ")}}`;
  }
  fail(`string clause can only be used on strings, bools, bytes, ints, doubles, maps, lists, types, durations, and timestamps, was given ${typeName(v)}`);
}

/** A list or map member rendered so that it reads as a CEL literal. */
function literal(v: unknown): string {
  if (typeof v === "string") return goQuote(v);
  if (v instanceof Uint8Array) return `b${goQuote(Buffer.from(v).toString("utf8"))}`;
  if (typeof v === "number") return Number.isFinite(v) ? v.toFixed(DEFAULT_PRECISION) : goQuote(doubleString(v));
  if (v instanceof Date) return `timestamp(${goQuote(timestampString(v))})`;
  if (isDuration(v)) return `duration(${goQuote(durationString(v))})`;
  return formatS(v);
}

function integer(v: unknown, clause: string): bigint {
  if (typeof v === "bigint") return v;
  if (isUint(v)) return v.value;
  return fail(`${clause} clause can only be used on integers, was given ${typeName(v)}`);
}

function double(v: unknown, clause: string): number {
  if (typeof v === "number") return v;
  if (v === "NaN") return Number.NaN;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  return fail(`${clause} clause can only be used on doubles, was given ${typeName(v)}`);
}

function nonFinite(v: number): string | undefined {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "∞" : "-∞";
  return undefined;
}

function fixed(v: number, precision: number): string {
  const nf = nonFinite(v);
  if (nf) return nf;
  const [int = "", frac] = Math.abs(v).toFixed(precision).split(".");
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${v < 0 ? "-" : ""}${grouped}${frac === undefined ? "" : `.${frac}`}`;
}

const SUPERSCRIPT = "⁰¹²³⁴⁵⁶⁷⁸⁹";

function scientific(v: number, precision: number): string {
  const nf = nonFinite(v);
  if (nf) return nf;
  const [mantissa = "", exp = "0"] = v.toExponential(precision).split("e");
  const e = Number(exp);
  const digits = String(Math.abs(e)).padStart(2, "0");
  const sup = [...digits].map((d) => SUPERSCRIPT[Number(d)] ?? d).join("");
  return `${mantissa}\u202f×\u202f10${e < 0 ? "⁻" : ""}${sup}`;
}

function hex(v: unknown, upper: boolean): string {
  let out: string;
  if (typeof v === "string") out = Buffer.from(v, "utf8").toString("hex");
  else if (v instanceof Uint8Array) out = Buffer.from(v).toString("hex");
  else if (typeof v === "bigint" || isUint(v)) {
    const n = typeof v === "bigint" ? v : v.value;
    out = (n < 0n ? "-" : "") + (n < 0n ? -n : n).toString(16);
  } else return fail(`only integers, byte buffers, and strings can be formatted as hex, was given ${typeName(v)}`);
  return upper ? out.toUpperCase() : out;
}

function radix(v: unknown, base: number, what: string): string {
  if (base === 2 && typeof v === "boolean") return v ? "1" : "0";
  if (typeof v !== "bigint" && !isUint(v)) return fail(`${what}, was given ${typeName(v)}`);
  const n = typeof v === "bigint" ? v : v.value;
  return (n < 0n ? "-" : "") + (n < 0n ? -n : n).toString(base);
}

/** `<string>.format(<list>)`. */
export function formatString(format: string, args: readonly unknown[]): string {
  let out = "";
  let next = 0;
  const arg = (): unknown => {
    if (next >= args.length) throw new EvaluationError(`index ${next} out of range`);
    return args[next++];
  };
  for (let i = 0; i < format.length; i++) {
    const c = format[i];
    if (c !== "%") {
      out += c;
      continue;
    }
    if (format[i + 1] === "%") {
      out += "%";
      i++;
      continue;
    }
    let precision: number | undefined;
    let j = i + 1;
    if (format[j] === ".") {
      const m = /^\d+/.exec(format.slice(j + 1));
      if (!m) throw new EvaluationError(`could not parse formatting clause: error while parsing precision: unable to convert precision specifier to integer`);
      precision = Number(m[0]);
      j += 1 + m[0].length;
    }
    const verb = format[j];
    i = j;
    switch (verb) {
      case "s":
        out += formatS(arg());
        break;
      case "d":
        out += String(integer(arg(), "decimal"));
        break;
      case "f":
        out += fixed(double(arg(), "fixed-point"), precision ?? DEFAULT_PRECISION);
        break;
      case "e":
        out += scientific(double(arg(), "scientific"), precision ?? DEFAULT_PRECISION);
        break;
      case "b":
        out += radix(arg(), 2, "only integers and bools can be formatted as binary");
        break;
      case "x":
      case "X":
        out += hex(arg(), verb === "X");
        break;
      case "o":
        out += radix(arg(), 8, "octal clause can only be used on integers");
        break;
      default:
        throw new EvaluationError(`could not parse formatting clause: unrecognized formatting clause "${verb ?? ""}"`);
    }
  }
  return out;
}
