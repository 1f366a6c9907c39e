// cel-go's two-variable comprehensions (ext.TwoVarComprehensions, in Kubernetes' environment since
// 1.32): all(i, v, p), exists(i, v, p), existsOne(i, v, p) (and exists_one), transformList(i, v,
// [filter,] expr), transformMap(k, v, [filter,] expr), transformMapEntry(k, v, [filter,] expr).
// Over a list the variables are the index and the element; over a map, the key and the value.
// They are cel-js macros that bind both variables in the checker's and the evaluator's contexts.
import { EvaluationError, type Environment } from "@marcbachmann/cel-js";
import type { AstNode, Checker, Evaluator, MacroCall, MacroContext, TypeDecl } from "./override.js";
import { celEquals } from "./values.js";

type Kind = "all" | "exists" | "existsOne" | "transformList" | "transformMap" | "transformMapEntry";

function identifier(n: AstNode | undefined, fn: string): string {
  if (n?.op === "id" && typeof n.args === "string") return n.args;
  throw new EvaluationError(`${fn}() variable name must be a simple identifier`, n as never);
}

/** The entries a comprehension ranges over: (index, element) of a list, (key, value) of a map. */
function entries(range: unknown, fn: string): [unknown, unknown][] {
  if (Array.isArray(range)) return range.map((v, i) => [BigInt(i), v]);
  if (range instanceof Map) return [...(range as Map<unknown, unknown>).entries()];
  if (typeof range === "object" && range !== null) return Object.entries(range);
  throw new EvaluationError(`${fn}() cannot range over a ${range === null ? "null" : typeof range}`);
}

function mapSet(out: Map<unknown, unknown>, k: unknown, v: unknown): void {
  for (const existing of out.keys()) {
    if (celEquals(existing, k)) throw new EvaluationError(`insert failed: key ${String(k)} already exists`);
  }
  out.set(k, v);
}

function register(env: Environment, kind: Kind, arity: number, name: string = kind): void {
  const params = Array.from({ length: arity }, () => "ast").join(", ");
  env.registerFunction(`k8ts.OverriddenMethods.${name}(${params}): dyn`, ({ ast, receiver, args }: MacroCall) => {
    if (!receiver) throw new EvaluationError(`${name}() must be called on a list or map`, ast as never);
    const first = identifier(args[0], name);
    const second = identifier(args[1], name);
    if (first === second) throw new EvaluationError(`${name}() variable names must be different`, ast as never);
    const filter = arity === 4 ? args[2] : undefined;
    const body = args[arity - 1];
    if (!body) throw new EvaluationError(`${name}() takes ${arity} arguments`, ast as never);
    let types: [TypeDecl, TypeDecl] | undefined;
    const bind = (ctx: MacroContext, ev: Evaluator, a: unknown, b: unknown): MacroContext => {
      if (!types) throw new EvaluationError(`${name}() was not type-checked`, ast as never);
      return ctx.forkWithVariable(first, types[0]).setIterValue(a, ev).forkWithVariable(second, types[1]).setIterValue(b, ev);
    };
    return {
      async: false,
      typeCheck(chk: Checker, _m: unknown, ctx: MacroContext): TypeDecl {
        const r = chk.check(receiver, ctx);
        const dyn = chk.getType("dyn");
        if (r.kind === "list") types = [chk.getType("int"), r.valueType ?? dyn];
        else if (r.kind === "map") types = [r.keyType ?? dyn, r.valueType ?? dyn];
        else if (r.kind === "dyn") types = [dyn, dyn];
        else throw chk.createError("invalid_comprehension_range", `${name}() cannot range over '${r.name}'`, receiver);
        const inner = ctx.forkWithVariable(first, types[0]).forkWithVariable(second, types[1]);
        for (const [n, what] of [
          [filter, "filter"],
          [kind === "all" || kind === "exists" || kind === "existsOne" ? body : undefined, "predicate"],
        ] as const) {
          if (!n) continue;
          const t = chk.check(n, inner);
          if (t.name !== "bool" && t.kind !== "dyn") throw chk.createError("invalid_macro_argument", `${name}() ${what} must return bool, got '${t.name}'`, n);
        }
        const result = chk.check(body, inner);
        if (kind === "transformMapEntry" && result.kind !== "map" && result.kind !== "dyn") {
          throw chk.createError("invalid_macro_argument", `${name}() expression must return a map, got '${result.name}'`, body);
        }
        if (kind === "transformList") return chk.getType("list");
        if (kind === "transformMap" || kind === "transformMapEntry") return chk.getType("map");
        return chk.getType("bool");
      },
      evaluate(ev: Evaluator, _m: unknown, ctx: MacroContext): unknown {
        const items = entries(ev.run(receiver, ctx), name);
        const truth = (n: AstNode, c: MacroContext): boolean => {
          const v = ev.run(n, c);
          if (typeof v !== "boolean") throw new EvaluationError(`${name}() ${n === filter ? "filter" : "predicate"} must return bool`);
          return v;
        };
        if (kind === "all" || kind === "exists") {
          // Like the one-variable macros: a decisive result wins over errors of other elements.
          const decisive = kind === "exists";
          let err: unknown;
          for (const [a, b] of items) {
            try {
              if (truth(body, bind(ctx, ev, a, b)) === decisive) return decisive;
            } catch (e) {
              err ??= e;
            }
          }
          if (err !== undefined) throw err;
          return !decisive;
        }
        if (kind === "existsOne") {
          let n = 0;
          for (const [a, b] of items) if (truth(body, bind(ctx, ev, a, b))) n++;
          return n === 1;
        }
        const list: unknown[] = [];
        const map = new Map<unknown, unknown>();
        for (const [a, b] of items) {
          const c = bind(ctx, ev, a, b);
          if (filter && !truth(filter, c)) continue;
          const v = ev.run(body, c);
          if (kind === "transformList") list.push(v);
          else if (kind === "transformMap") mapSet(map, a, v);
          else for (const [k, val] of entries(v, name)) mapSet(map, k, val);
        }
        return kind === "transformList" ? list : map;
      },
    };
  });
}

export function registerTwoVarComprehensions(env: Environment): void {
  register(env, "all", 3);
  register(env, "exists", 3);
  register(env, "existsOne", 3);
  register(env, "existsOne", 3, "exists_one");
  for (const kind of ["transformList", "transformMap", "transformMapEntry"] as const) {
    register(env, kind, 3);
    register(env, kind, 4);
  }
}
