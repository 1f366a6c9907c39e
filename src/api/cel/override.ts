// Replacing a method of cel-js's standard library. cel-js refuses to register an overload that
// overlaps a built-in one (its registry's overlap check) and has no way to remove one, yet some
// built-ins must change: `string.matches` hands patterns to JavaScript's backtracking RegExp, and
// the string functions count UTF-16 code units where CEL counts code points. Its parser, though,
// consults macros by name and arity before any overload, whatever the receiver's type: a macro
// named `indexOf` with one argument takes every `x.indexOf(y)` call away from the built-ins.
// The macro type-checks and evaluates the call itself, choosing among the overloads given here by
// the static types, then by the runtime values. It is declared on a receiver type of its own so
// that the overlap check, which compares receiver types, accepts it; that type is never a value.
import { EvaluationError, type Environment } from "@marcbachmann/cel-js";
import { typeName } from "./values.js";

/** One overload of an overridden method: CEL type names (`string`, `int`, `list`, `dyn`) and its implementation. */
export interface MethodOverload {
  readonly receiver: string;
  readonly args: readonly string[];
  readonly returns: string;
  readonly impl: (receiver: never, ...args: never[]) => unknown;
}

// The parts of cel-js's checker, evaluator, contexts and AST that a macro sees (untyped in its .d.ts).
export interface AstNode {
  readonly op: string;
  readonly args: unknown;
}
export interface TypeDecl {
  readonly name: string;
  readonly kind: string;
  readonly keyType?: TypeDecl;
  readonly valueType?: TypeDecl;
}
export interface Checker {
  check(node: AstNode, ctx: unknown): TypeDecl;
  getType(name: string): TypeDecl;
  createError(code: string, message: string, node: AstNode): Error;
}
export interface Evaluator {
  run(node: AstNode, ctx: unknown): unknown;
}
/** A checking or evaluation context: forkWithVariable declares a variable, setIterValue binds it. */
export interface MacroContext {
  forkWithVariable(name: string, type: TypeDecl): MacroContext;
  setIterValue(value: unknown, ev: Evaluator): MacroContext;
}
export interface MacroCall {
  readonly ast: AstNode;
  readonly receiver: AstNode | null;
  readonly args: readonly AstNode[];
}

function staticMatch(declared: string, t: TypeDecl): boolean {
  if (declared === "dyn" || t.name === "dyn") return true;
  if (declared === "list" || declared === "map") return t.kind === declared;
  return t.name === declared;
}

function runtimeMatch(declared: string, v: unknown): boolean {
  return declared === "dyn" || typeName(v) === declared;
}

/** Type-checks a literal's elements one by one, so that they need not share a type. */
function looseCheck(chk: Checker, n: AstNode, ctx: unknown): TypeDecl {
  if (n.op === "list" && Array.isArray(n.args)) {
    for (const e of n.args as AstNode[]) looseCheck(chk, e, ctx);
    return chk.getType("list");
  }
  if (n.op === "map" && Array.isArray(n.args)) {
    for (const [k, v] of n.args as [AstNode, AstNode][]) {
      looseCheck(chk, k, ctx);
      looseCheck(chk, v, ctx);
    }
    return chk.getType("map");
  }
  return chk.check(n, ctx);
}

function looseEval(ev: Evaluator, n: AstNode, ctx: unknown): unknown {
  if (n.op === "list" && Array.isArray(n.args)) return (n.args as AstNode[]).map((e) => looseEval(ev, e, ctx));
  if (n.op === "map" && Array.isArray(n.args)) {
    return new Map((n.args as [AstNode, AstNode][]).map(([k, v]) => [looseEval(ev, k, ctx), looseEval(ev, v, ctx)]));
  }
  return ev.run(n, ctx);
}

class OverriddenMethods {}

/** Declares the receiver type the override macros hang on; once per environment, before overrideMethod. */
export function registerMethodOverrides(env: Environment): void {
  env.registerType("k8ts.OverriddenMethods", OverriddenMethods);
}

export interface OverrideOptions {
  /**
   * List and map literals written as arguments (and nested in them) may mix element types, as
   * cel-go's homogeneous-literal validator allows inside `format` calls: they are type-checked
   * and evaluated element by element.
   */
  readonly heterogeneousLiteralArgs?: boolean;
}

/** Makes `name` with `arity` arguments, on any receiver, resolve to these overloads only. */
export function overrideMethod(
  env: Environment,
  name: string,
  arity: number,
  overloads: readonly MethodOverload[],
  opts: OverrideOptions = {},
): void {
  // cel-js makes a declaration a macro only when one of its parameters is an `ast`.
  if (arity < 1) throw new Error(`cannot override ${name}(): cel-js macros take at least one argument`);
  const params = Array.from({ length: arity }, () => "ast").join(", ");
  env.registerFunction(`k8ts.OverriddenMethods.${name}(${params}): dyn`, ({ ast, receiver, args }: MacroCall) => {
    if (!receiver) throw new EvaluationError(`${name}() must be called on a receiver`, ast as never);
    return {
      async: false,
      typeCheck(chk: Checker, _m: unknown, ctx: unknown): TypeDecl {
        const r = chk.check(receiver, ctx);
        const a = args.map((n) => (opts.heterogeneousLiteralArgs ? looseCheck(chk, n, ctx) : chk.check(n, ctx)));
        const fits = overloads.filter((o) => staticMatch(o.receiver, r) && o.args.every((d, i) => a[i] && staticMatch(d, a[i])));
        if (fits.length === 0) {
          const applied = `${r.name}.(${a.map((t) => t.name).join(", ")})`;
          throw chk.createError("no_matching_overload", `found no matching overload for '${name}' applied to '${applied}'`, ast);
        }
        const returns = new Set(fits.map((o) => o.returns));
        return chk.getType(returns.size === 1 ? (fits[0]?.returns ?? "dyn") : "dyn");
      },
      evaluate(ev: Evaluator, _m: unknown, ctx: unknown): unknown {
        const r = ev.run(receiver, ctx);
        const a = args.map((n) => (opts.heterogeneousLiteralArgs ? looseEval(ev, n, ctx) : ev.run(n, ctx)));
        const o = overloads.find((o) => runtimeMatch(o.receiver, r) && o.args.every((d, i) => runtimeMatch(d, a[i])));
        if (!o) throw new EvaluationError(`no such overload: ${typeName(r)}.${name}(${a.map(typeName).join(", ")})`, ast as never);
        return o.impl(r as never, ...(a as never[]));
      },
    };
  });
}
