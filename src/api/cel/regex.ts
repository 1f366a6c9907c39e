// Regular expressions in CEL are Go's (RE2). cel-js's built-in `string.matches` hands the pattern
// to JavaScript's backtracking RegExp, so a rule such as `self.matches('^(a+)+$')` written by
// whoever may create a CRD could stall the API server. Every regex function here compiles with
// re2js (compileGoRegexp), which matches in time linear in the input.
//
// cel-js's own `string.matches` is replaced through overrideMethod (see override.ts for how).

import { EvaluationError, type Environment } from "@marcbachmann/cel-js";
import type { RE2JS } from "re2js";
import { compileGoRegexp } from "../crd/regex.js";
import { overrideMethod } from "./override.js";

type Re2 = ReturnType<typeof RE2JS.compile>;

/**
 * Compiles a Go pattern (compileGoRegexp caches it), or throws `<prefix>error parsing regexp: …`
 * as Go words it. compileGoRegexp's matcher is an RE2JS object; its find/group API is used here.
 */
function re2(pattern: string, prefix: string): Re2 {
  const checked = compileGoRegexp(pattern);
  if ("error" in checked) throw new EvaluationError(`${prefix}${checked.error}`);
  return checked.re as Re2;
}

/** Go's MatchString: whether the pattern matches anywhere in s. */
export function re2Matches(s: string, pattern: string): boolean {
  return re2(pattern, "").matcher(s).find();
}

/** Go's FindString: the leftmost match, "" when there is none. */
function findString(s: string, pattern: string): string {
  const m = re2(pattern, "Illegal regex: ").matcher(s);
  return m.find() ? (m.group() ?? "") : "";
}

/**
 * Go's FindAllString(s, n): successive non-overlapping matches, at most n when n >= 0. An empty
 * match right after the previous match is skipped, and after an empty match the search moves on
 * by one character, as Go does.
 */
function findAllString(s: string, pattern: string, n: number): string[] {
  const m = re2(pattern, "Illegal regex: ").matcher(s);
  const out: string[] = [];
  let pos = 0;
  let prevEnd = -1;
  while ((n < 0 || out.length < n) && pos <= s.length) {
    if (!m.find(pos)) break;
    const start = m.start();
    const end = m.end();
    let accept = true;
    if (end === pos) {
      if (start === prevEnd) accept = false;
      const cp = s.codePointAt(pos);
      pos += cp !== undefined && cp > 0xffff ? 2 : 1;
    } else {
      pos = end;
    }
    prevEnd = end;
    if (accept) out.push(s.slice(start, end));
  }
  return out;
}

/** `string.matches(string)` (replacing cel-js's), `matches(string, string)`, and Kubernetes' regex library: find, findAll. */
export function registerRegexLibrary(env: Environment): void {
  overrideMethod(env, "matches", 1, [
    { receiver: "string", args: ["string"], returns: "bool", impl: (s: string, p: string) => re2Matches(s, p) },
  ]);
  env.registerFunction("matches(string, string): bool", (s: string, p: string) => re2Matches(s, p));
  env.registerFunction("string.find(string): string", (s: string, p: string) => findString(s, p));
  env.registerFunction("string.findAll(string): list<string>", (s: string, p: string) => findAllString(s, p, -1));
  env.registerFunction("string.findAll(string, int): list<string>", (s: string, p: string, n: bigint) =>
    findAllString(s, p, Number(n)),
  );
}
