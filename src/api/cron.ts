// Cron schedules as the CronJob API accepts them: the standard 5-field format (minute, hour,
// day of month, month, day of week) with names, ranges, steps and `*`/`?`, the descriptors
// (@yearly, @monthly, @weekly, @daily, @midnight, @hourly, @every <duration>) and an optional
// `TZ=`/`CRON_TZ=` prefix. Upstream validates with robfig/cron v3's ParseStandard and puts its
// error text in the field error, so the messages here are that parser's, word for word.
import { goQuote } from "./fielderrors.js";

export class CronParseError extends Error {
  override readonly name = "CronParseError";
  readonly code = "CronParseError" as const;
}

/** One field's allowed values as a set of integers; `star` marks a `*` or `?` without a step. */
export interface CronField {
  readonly values: ReadonlySet<number>;
  readonly star: boolean;
}

export type CronSchedule =
  | {
      readonly kind: "spec";
      readonly minute: CronField;
      readonly hour: CronField;
      readonly dayOfMonth: CronField;
      readonly month: CronField;
      readonly dayOfWeek: CronField;
      /** IANA zone from a TZ=/CRON_TZ= prefix; undefined means the controller's local zone. */
      readonly timeZone?: string;
    }
  | { readonly kind: "every"; readonly everyMs: number; readonly timeZone?: string };

interface Bounds {
  readonly min: number;
  readonly max: number;
  readonly names?: Readonly<Record<string, number>>;
}

const MINUTES: Bounds = { min: 0, max: 59 };
const HOURS: Bounds = { min: 0, max: 23 };
const DOM: Bounds = { min: 1, max: 31 };
const MONTHS: Bounds = { min: 1, max: 12, names: { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 } };
const DOW: Bounds = { min: 0, max: 6, names: { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 } };

const MAX_INT64 = 9223372036854775807n;

/** Go's strconv.Atoi, with its error text. */
function atoi(s: string): number {
  const fail = (why: string): never => {
    throw new CronParseError(`strconv.Atoi: parsing ${goQuote(s)}: ${why}`);
  };
  if (!/^[+-]?[0-9]+$/.test(s)) fail("invalid syntax");
  const n = BigInt(s);
  if (n > MAX_INT64 || n < -MAX_INT64 - 1n) fail("value out of range");
  return Number(n);
}

function mustParseInt(expr: string): number {
  let n: number;
  try {
    n = atoi(expr);
  } catch (err) {
    throw new CronParseError(`failed to parse int from ${expr}: ${(err as Error).message}`);
  }
  if (n < 0) throw new CronParseError(`negative number (${n}) not allowed: ${expr}`);
  return n;
}

function parseIntOrName(expr: string, names: Bounds["names"]): number {
  const named = names?.[expr.toLowerCase()];
  return named ?? mustParseInt(expr);
}

function getRange(expr: string, r: Bounds, into: Set<number>): boolean {
  const rangeAndStep = expr.split("/");
  const lowAndHigh = rangeAndStep[0]!.split("-");
  const singleDigit = lowAndHigh.length === 1;
  let start: number;
  let end: number;
  let star = false;
  if (lowAndHigh[0] === "*" || lowAndHigh[0] === "?") {
    start = r.min;
    end = r.max;
    star = true;
  } else {
    start = parseIntOrName(lowAndHigh[0]!, r.names);
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) end = parseIntOrName(lowAndHigh[1]!, r.names);
    else throw new CronParseError(`too many hyphens: ${expr}`);
  }
  let step = 1;
  if (rangeAndStep.length === 2) {
    step = mustParseInt(rangeAndStep[1]!);
    // "N/step" means "N-max/step".
    if (singleDigit) end = r.max;
    if (step > 1) star = false;
  } else if (rangeAndStep.length > 2) {
    throw new CronParseError(`too many slashes: ${expr}`);
  }
  if (start < r.min) throw new CronParseError(`beginning of range (${start}) below minimum (${r.min}): ${expr}`);
  if (end > r.max) throw new CronParseError(`end of range (${end}) above maximum (${r.max}): ${expr}`);
  if (start > end) throw new CronParseError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  if (step === 0) throw new CronParseError(`step of range should be a positive number: ${expr}`);
  for (let i = start; i <= end; i += step) into.add(i);
  return star;
}

function getField(field: string, r: Bounds): CronField {
  const values = new Set<number>();
  let star = false;
  for (const expr of field.split(",").filter((e) => e !== "")) star = getRange(expr, r, values) || star;
  return { values, star };
}

function all(r: Bounds): CronField {
  const values = new Set<number>();
  for (let i = r.min; i <= r.max; i++) values.add(i);
  return { values, star: true };
}

function only(v: number): CronField {
  return { values: new Set([v]), star: false };
}

const UNIT_NS: Readonly<Record<string, number>> = { ns: 1, us: 1e3, "µs": 1e3, "μs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration, in milliseconds, with its error text. */
export function parseGoDuration(s: string): number {
  const orig = s;
  const quoted = goQuote(orig);
  const invalid = (): never => {
    throw new CronParseError(`time: invalid duration ${quoted}`);
  };
  let neg = false;
  if (s !== "" && (s[0] === "-" || s[0] === "+")) {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") invalid();
  let totalNs = 0;
  while (s !== "") {
    const num = /^([0-9]*)(\.([0-9]*))?/.exec(s)!;
    const intPart = num[1] ?? "";
    const fracPart = num[3] ?? "";
    if (intPart === "" && fracPart === "") invalid();
    s = s.slice(num[0].length);
    const unitMatch = /^[^0-9.]*/.exec(s)!;
    const unit = unitMatch[0];
    if (unit === "") throw new CronParseError(`time: missing unit in duration ${quoted}`);
    const scale = UNIT_NS[unit];
    if (scale === undefined) throw new CronParseError(`time: unknown unit ${goQuote(unit)} in duration ${quoted}`);
    s = s.slice(unit.length);
    totalNs += Number(`${intPart || "0"}.${fracPart || "0"}`) * scale;
    if (totalNs > Number.MAX_SAFE_INTEGER * 1024) invalid(); // 2^63 ns: Go's int64 overflow
  }
  const ms = totalNs / 1e6;
  return neg ? -ms : ms;
}

function parseDescriptor(descriptor: string, timeZone: string | undefined): CronSchedule {
  const tz = timeZone === undefined ? {} : { timeZone };
  const midnight = { minute: only(0), hour: only(0) };
  switch (descriptor) {
    case "@yearly":
    case "@annually":
      return { kind: "spec", ...midnight, dayOfMonth: only(1), month: only(1), dayOfWeek: all(DOW), ...tz };
    case "@monthly":
      return { kind: "spec", ...midnight, dayOfMonth: only(1), month: all(MONTHS), dayOfWeek: all(DOW), ...tz };
    case "@weekly":
      return { kind: "spec", ...midnight, dayOfMonth: all(DOM), month: all(MONTHS), dayOfWeek: only(0), ...tz };
    case "@daily":
    case "@midnight":
      return { kind: "spec", ...midnight, dayOfMonth: all(DOM), month: all(MONTHS), dayOfWeek: all(DOW), ...tz };
    case "@hourly":
      return { kind: "spec", minute: only(0), hour: all(HOURS), dayOfMonth: all(DOM), month: all(MONTHS), dayOfWeek: all(DOW), ...tz };
    default:
      break;
  }
  const every = "@every ";
  if (descriptor.startsWith(every)) {
    try {
      return { kind: "every", everyMs: parseGoDuration(descriptor.slice(every.length)), ...tz };
    } catch (err) {
      throw new CronParseError(`failed to parse duration ${descriptor}: ${(err as Error).message}`);
    }
  }
  throw new CronParseError(`unrecognized descriptor: ${descriptor}`);
}

/**
 * Whether an IANA zone name loads as Go's time.LoadLocation would find it in tzdata: names
 * are case-sensitive there, while Intl matches them case-insensitively.
 */
export function isKnownTimeZone(name: string): boolean {
  if (name === "" || name === "UTC") return true;
  try {
    const resolved = new Intl.DateTimeFormat("en-US", { timeZone: name }).resolvedOptions().timeZone;
    return !(resolved.toLowerCase() === name.toLowerCase() && resolved !== name);
  } catch {
    return false;
  }
}

/** Go's strings.Fields: split on runs of white space. */
function fields(s: string): string[] {
  return s.split(/[\t\n\v\f\r \u0085\u00a0]+/).filter((f) => f !== "");
}

/** Parses a schedule as robfig/cron's ParseStandard; throws CronParseError with its message. */
export function parseStandardCron(spec: string): CronSchedule {
  if (spec.length === 0) throw new CronParseError("empty spec string");
  let timeZone: string | undefined;
  if (spec.startsWith("TZ=") || spec.startsWith("CRON_TZ=")) {
    const space = spec.indexOf(" ");
    const eq = spec.indexOf("=");
    const name = space < 0 ? spec.slice(eq + 1) : spec.slice(eq + 1, space);
    if (space < 0 || !isKnownTimeZone(name) || name === "Local") {
      throw new CronParseError(`provided bad location ${name}: unknown time zone ${name}`);
    }
    timeZone = name;
    spec = spec.slice(space).trim();
  }
  if (spec.startsWith("@")) return parseDescriptor(spec, timeZone);
  const f = fields(spec);
  if (f.length !== 5) throw new CronParseError(`expected exactly 5 fields, found ${f.length}: [${f.join(" ")}]`);
  const [minute, hour, dom, month, dow] = f as [string, string, string, string, string];
  return {
    kind: "spec",
    minute: getField(minute, MINUTES),
    hour: getField(hour, HOURS),
    dayOfMonth: getField(dom, DOM),
    month: getField(month, MONTHS),
    dayOfWeek: getField(dow, DOW),
    ...(timeZone === undefined ? {} : { timeZone }),
  };
}
