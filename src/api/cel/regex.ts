// Regular expressions in CEL are Go's (RE2). cel-js's built-in `string.matches` hands the pattern
// to JavaScript's backtracking RegExp, so a rule such as `self.matches('^(a+)+$')` written by
// whoever may create a CRD could stall the API server. Every regex function here compiles with
// re2js (compileGoRegexp), which matches in time linear in the input.
//
// cel-js refuses to register an overload that overlaps a built-in one (`string.matches(string)`)
// and has no way to remove one. Its parser, though, consults macros by name and arity before
// any overload, whatever the receiver's type: a macro named `matches` with one argument therefore
// takes every `x.matches(p)` call away from the built-in. The macro type-checks and evaluates
// the call itself, with RE2. It is declared on a receiver type of its own (Re2Matches) only so
// that the registry's overlap check, which compares receiver types, accepts it.

import { EvaluationError, type Environment } from "@marcbachmann/cel-js";
import { RE2JS } from "re2js";
import { compileGoRegexp, type GoMatcher } from "../crd/regex.js";

type Re2 = ReturnType<typeof RE2JS.compile>;

const compiled = new Map<string, Re2>();

/** Compiles a Go pattern with re2js, or throws `<prefix>error parsing regexp: …` as Go words it. */
function re2(pattern: string, prefix: string): Re2 {
  const hit = compiled.get(pattern);
  if (hit) return hit;
  const checked = compileGoRegexp(pattern);
  if ("error" in checked) throw new EvaluationError(`${prefix}${checked.error}`);
  const re = checked.re as GoMatcher & Re2;
  if (compiled.size > 1000) compiled.clear();
  compiled.set(pattern, re);
  return re;
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

// The macro's view of cel-js's checker and evaluator: the parts of their (undocumented in
// TypeScript) interfaces it uses.
interface AstNode {
  readonly op: string;
}
interface TypeDecl {
  readonly type: string;
}
interface Checker {
  check(node: AstNode, ctx: unknown): TypeDecl;
  getType(name: string): TypeDecl;
  createError(code: string, message: string, node: AstNode): Error;
}
interface Evaluator {
  run(node: AstNode, ctx: unknown): unknown;
}
interface MacroCall {
  readonly ast: AstNode;
  readonly receiver: AstNode | null;
  readonly args: readonly AstNode[];
}

function checkString(chk: Checker, node: AstNode, ctx: unknown, what: string): void {
  const t = chk.check(node, ctx).type;
  if (t !== "string" && t !== "dyn") {
    throw chk.createError("no_matching_overload", `found no matching overload for '${what}' applied to '${t}'`, node);
  }
}

function stringValue(v: unknown, node: AstNode): string {
  if (typeof v === "string") return v;
  throw new EvaluationError(`no such overload: matches applied to a ${v === null ? "null" : typeof v}`, node as never);
}

class Re2Matches {}

/** `string.matches(string)` (replacing cel-js's), `matches(string, string)`, and Kubernetes' regex library: find, findAll. */
export function registerRegexLibrary(env: Environment): void {
  env.registerType("k8ts.Re2Matches", Re2Matches);
  env.registerFunction("k8ts.Re2Matches.matches(ast): bool", ({ ast, receiver, args }: MacroCall) => {
    const pattern = args[0];
    if (!receiver || !pattern) throw new EvaluationError("matches() takes a receiver and one argument", ast as never);
    return {
      async: false,
      typeCheck(chk: Checker, _m: unknown, ctx: unknown): TypeDecl {
        checkString(chk, receiver, ctx, "string.matches");
        checkString(chk, pattern, ctx, "string.matches");
        return chk.getType("bool");
      },
      evaluate(ev: Evaluator, _m: unknown, ctx: unknown): boolean {
        const s = stringValue(ev.run(receiver, ctx), receiver);
        const p = stringValue(ev.run(pattern, ctx), pattern);
        return re2Matches(s, p);
      },
    };
  });
  env.registerFunction("matches(string, string): bool", (s: string, p: string) => re2Matches(s, p));
  env.registerFunction("string.find(string): string", (s: string, p: string) => findString(s, p));
  env.registerFunction("string.findAll(string): list<string>", (s: string, p: string) => findAllString(s, p, -1));
  env.registerFunction("string.findAll(string, int): list<string>", (s: string, p: string, n: bigint) =>
    findAllString(s, p, Number(n)),
  );
}
