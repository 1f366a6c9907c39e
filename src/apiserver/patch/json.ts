// JSON value helpers shared by the patchers. Objects here are plain data decoded from JSON or
// YAML: no prototypes, no undefined, no cycles.

export type JsonPrimitive = null | boolean | number | string;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A deep copy of a JSON value (much faster than structuredClone for plain data). */
export function clone<T extends JsonValue>(v: T): T {
  if (typeof v !== "object" || v === null) return v;
  if (Array.isArray(v)) return v.map((x: JsonValue) => clone(x)) as T;
  const out: JsonObject = {};
  for (const k of Object.keys(v)) set(out, k, clone((v as JsonObject)[k] as JsonValue));
  return out as T;
}

/** The name Go's reflect gives a decoded JSON value's type; upstream error texts use these. */
export function goTypeName(v: unknown): string {
  if (v === null || v === undefined) return "<nil>";
  if (Array.isArray(v)) return "[]interface {}";
  switch (typeof v) {
    case "object":
      return "map[string]interface {}";
    case "string":
      return "string";
    case "boolean":
      return "bool";
    case "number":
      return Number.isInteger(v) ? "int64" : "float64";
    default:
      return typeof v;
  }
}

/**
 * Formats a value the way Go's `%v` prints decoded JSON (`map[k:v]` with sorted keys, `[a b]`),
 * because kubectl shows upstream's strategic-merge-patch errors verbatim
 * (`map: map[image:nginx] does not contain declared merge key: name`).
 */
export function goFormat(v: unknown): string {
  if (v === null || v === undefined) return "<nil>";
  if (Array.isArray(v)) return `[${v.map(goFormat).join(" ")}]`;
  if (typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `map[${Object.keys(o).sort().map((k) => `${k}:${goFormat(o[k])}`).join(" ")}]`;
  }
  if (typeof v === "number") return goNumber(v);
  return String(v);
}

function goNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  // Go's %v of a float64 is %g: exponent form with a signed two-digit exponent.
  const s = String(n);
  return s.replace(/e([+-])(\d)$/, "e$10$2");
}

/** Whether `o` has its own key `k` (never an inherited one such as `toString`). */
export function has(o: object, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}

/** `o[k]` for an own key only. */
export function get(o: JsonObject, k: string): JsonValue | undefined {
  return has(o, k) ? o[k] : undefined;
}

/**
 * Sets `o[k] = v` as an own data property. A plain assignment to `__proto__` would replace the
 * object's prototype, and `__proto__` is a legal ConfigMap key.
 */
export function set(o: JsonObject, k: string, v: JsonValue): void {
  if (k === "__proto__") Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  else o[k] = v;
}
