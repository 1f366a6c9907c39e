// Kubernetes' semver library (apiserver/pkg/cel/library/semverlib.go, version 1 as Kubernetes
// 1.33 enables it): semver(), isSemver (both with an optional `normalize`), major, minor, patch,
// compareTo, isGreaterThan, isLessThan, ==. Parsing follows github.com/blang/semver/v4's Parse,
// with its error messages.
import { EvaluationError, type Environment } from "@marcbachmann/cel-js";
import { parses } from "./values.js";

type PRPart = bigint | string;

/** A semantic version (kubernetes.Semver in CEL). */
export class Semver {
  constructor(
    readonly major: bigint,
    readonly minor: bigint,
    readonly patch: bigint,
    readonly pre: readonly PRPart[],
    readonly build: readonly string[],
  ) {}

  compare(o: Semver): -1 | 0 | 1 {
    for (const [a, b] of [
      [this.major, o.major],
      [this.minor, o.minor],
      [this.patch, o.patch],
    ] as const) {
      if (a !== b) return a < b ? -1 : 1;
    }
    // A version without prerelease parts ranks above one with them.
    if (this.pre.length === 0 || o.pre.length === 0) {
      if (this.pre.length === o.pre.length) return 0;
      return this.pre.length === 0 ? 1 : -1;
    }
    for (let i = 0; i < Math.min(this.pre.length, o.pre.length); i++) {
      const c = comparePR(this.pre[i] ?? "", o.pre[i] ?? "");
      if (c !== 0) return c;
    }
    if (this.pre.length === o.pre.length) return 0;
    return this.pre.length < o.pre.length ? -1 : 1;
  }
}

function comparePR(a: PRPart, b: PRPart): -1 | 0 | 1 {
  if (typeof a === "bigint" && typeof b === "bigint") return a === b ? 0 : a < b ? -1 : 1;
  if (typeof a === "bigint") return -1;
  if (typeof b === "bigint") return 1;
  return a === b ? 0 : a < b ? -1 : 1;
}

const NUMBERS = /^[0-9]*$/;
const ALPHANUMERICS = /^[A-Za-z0-9-]*$/;
const MAX_UINT64 = 2n ** 64n - 1n;

function hasLeadingZeroes(s: string): boolean {
  return s.length > 1 && s.startsWith("0");
}

function parseUint(s: string): bigint {
  if (s === "") throw new EvaluationError(`strconv.ParseUint: parsing "": invalid syntax`);
  const v = BigInt(s);
  if (v > MAX_UINT64) throw new EvaluationError(`strconv.ParseUint: parsing ${JSON.stringify(s)}: value out of range`);
  return v;
}

function number(s: string, what: string, capital: string): bigint {
  if (!NUMBERS.test(s)) throw new EvaluationError(`Invalid character(s) found in ${what} number ${JSON.stringify(s)}`);
  if (hasLeadingZeroes(s)) throw new EvaluationError(`${capital} number must not contain leading zeroes ${JSON.stringify(s)}`);
  return parseUint(s);
}

/** blang/semver's Parse. */
export function parseSemver(s: string): Semver {
  if (s === "") throw new EvaluationError("Version string empty");
  const dot1 = s.indexOf(".");
  const dot2 = dot1 < 0 ? -1 : s.indexOf(".", dot1 + 1);
  if (dot2 < 0) throw new EvaluationError("No Major.Minor.Patch elements found");
  const major = number(s.slice(0, dot1), "major", "Major");
  const minor = number(s.slice(dot1 + 1, dot2), "minor", "Minor");
  let patchStr = s.slice(dot2 + 1);
  let build: string[] = [];
  let preStrs: string[] = [];
  const plus = patchStr.indexOf("+");
  if (plus >= 0) {
    build = patchStr.slice(plus + 1).split(".");
    patchStr = patchStr.slice(0, plus);
  }
  const dash = patchStr.indexOf("-");
  if (dash >= 0) {
    preStrs = patchStr.slice(dash + 1).split(".");
    patchStr = patchStr.slice(0, dash);
  }
  const patch = number(patchStr, "patch", "Patch");
  const pre = preStrs.map((p): PRPart => {
    if (p === "") throw new EvaluationError("Prerelease is empty");
    if (NUMBERS.test(p)) {
      if (hasLeadingZeroes(p)) throw new EvaluationError(`Numeric PreRelease version must not contain leading zeroes ${JSON.stringify(p)}`);
      return parseUint(p);
    }
    if (ALPHANUMERICS.test(p)) return p;
    throw new EvaluationError(`Invalid character(s) found in prerelease ${JSON.stringify(p)}`);
  });
  for (const b of build) {
    if (b === "") throw new EvaluationError("Build meta data is empty");
    if (!ALPHANUMERICS.test(b)) throw new EvaluationError(`Invalid character(s) found in build meta data ${JSON.stringify(b)}`);
  }
  return new Semver(major, minor, patch, pre, build);
}

/** Upstream's normalizeAndParse: no "v" prefix, no leading zeros, missing minor/patch filled with 0. */
function normalizeAndParse(s: string): Semver {
  const trimmed = s.startsWith("v") ? s.slice(1) : s;
  const first = trimmed.indexOf(".");
  const second = first < 0 ? -1 : trimmed.indexOf(".", first + 1);
  const parts =
    first < 0 ? [trimmed] : second < 0 ? [trimmed.slice(0, first), trimmed.slice(first + 1)] : [trimmed.slice(0, first), trimmed.slice(first + 1, second), trimmed.slice(second + 1)];
  const cleaned = parts.map((p) => {
    if (p.length <= 1) return p;
    const t = p.replace(/^0+/, "");
    return t === "" || !/^[0-9]/.test(t) ? `0${t}` : t;
  });
  if (cleaned.length < 3) {
    if (/[+-]/.test(cleaned[cleaned.length - 1] ?? "")) throw new EvaluationError("short version cannot contain PreRelease/Build meta data");
    while (cleaned.length < 3) cleaned.push("0");
  }
  return parseSemver(cleaned.join("."));
}

const S = "kubernetes.Semver";

export function registerSemverLibrary(env: Environment): void {
  env.registerType(S, { ctor: Semver, fields: {} });
  env.registerFunction(`semver(string): ${S}`, parseSemver);
  env.registerFunction(`semver(string, bool): ${S}`, (s: string, normalize: boolean) => (normalize ? normalizeAndParse(s) : parseSemver(s)));
  env.registerFunction("isSemver(string): bool", (s: string) => parses(() => parseSemver(s)));
  env.registerFunction("isSemver(string, bool): bool", (s: string, normalize: boolean) => parses(() => (normalize ? normalizeAndParse(s) : parseSemver(s))));
  env.registerFunction(`${S}.major(): int`, (v: Semver) => v.major);
  env.registerFunction(`${S}.minor(): int`, (v: Semver) => v.minor);
  env.registerFunction(`${S}.patch(): int`, (v: Semver) => v.patch);
  env.registerFunction(`${S}.compareTo(${S}): int`, (a: Semver, b: Semver) => BigInt(a.compare(b)));
  env.registerFunction(`${S}.isGreaterThan(${S}): bool`, (a: Semver, b: Semver) => a.compare(b) > 0);
  env.registerFunction(`${S}.isLessThan(${S}): bool`, (a: Semver, b: Semver) => a.compare(b) < 0);
  env.registerOperator(`${S} == ${S}`, (a: Semver, b: Semver) => a.compare(b) === 0);
}
