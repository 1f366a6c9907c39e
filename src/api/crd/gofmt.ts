// Renderings of JSON values the way Go's fmt prints the `interface{}` values upstream holds
// after decoding a custom resource (integers as int64, other numbers as float64, objects as
// map[string]interface{}, arrays as []interface{}), for messages that embed them.
import { GoRendered, compareGoStrings, goFloat, goQuote } from "../fielderrors.js";

/** Whether a JSON number decodes to an int64 upstream (rather than a float64). */
export function isGoInt(n: number): boolean {
  return Number.isInteger(n) && Math.abs(n) < 2 ** 63;
}

/** A number as Go's %v prints the int64 or float64 it decodes to. */
export function goNumber(n: number): string {
  return isGoInt(n) ? BigInt(n).toString() : goFloat(n);
}

/** Go's %#v of a decoded JSON value: `map[string]interface {}{"a":1}`, `[]interface {}{"x"}`. */
export function goSharpV(v: unknown): string {
  if (v === null || v === undefined) return "interface {}(nil)";
  switch (typeof v) {
    case "string":
      return goQuote(v);
    case "number":
      return goNumber(v);
    case "boolean":
      return v ? "true" : "false";
    default:
      break;
  }
  if (Array.isArray(v)) return `[]interface {}{${v.map(goSharpV).join(", ")}}`;
  const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => compareGoStrings(a, b));
  return `map[string]interface {}{${entries.map(([k, x]) => `${goQuote(k)}:${goSharpV(x)}`).join(", ")}}`;
}

/** Go's %v of a decoded JSON value: `map[a:1 b:x]`, `[x y]`, `<nil>`. */
export function goV(v: unknown): string {
  if (v === null || v === undefined) return "<nil>";
  switch (typeof v) {
    case "string":
      return v;
    case "number":
      return goNumber(v);
    case "boolean":
      return v ? "true" : "false";
    default:
      break;
  }
  if (Array.isArray(v)) return `[${v.map(goV).join(" ")}]`;
  const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => compareGoStrings(a, b));
  return `map[${entries.map(([k, x]) => `${k}:${goV(x)}`).join(" ")}]`;
}

/**
 * A field error's bad value as upstream's ErrorBody prints the decoded value: scalars as they
 * are (the field error module prints them as Go does), objects and arrays with %#v.
 */
export function badValue(v: unknown): unknown {
  if (v !== null && typeof v === "object") return new GoRendered(goSharpV(v));
  return v;
}

/** Go's %q of a string. */
export const goQ = goQuote;
