// CEL in admission (upstream: apiserver pkg/admission/plugin/cel): the expressions of
// ValidatingAdmissionPolicies (validations, messageExpressions, matchConditions, variables)
// and of admission webhooks' matchConditions, compiled when their object is written and
// evaluated against one request. They see the request as upstream declares it:
//
//   object, oldObject   the object as written and as stored (null on CREATE / DELETE)
//   request             the admission.k8s.io/v1 AdmissionRequest (kind, resource, name,
//                       namespace, operation, userInfo, dryRun, options, ...)
//   params              the policy's parameter object (policies only; null without one)
//   namespaceObject     the request's Namespace (policies only; null for cluster-scoped objects)
//   variables.<name>    the policy's variables, each evaluated once when first used
//
// Values have no schema: JSON integers are CEL ints, other numbers doubles, objects maps.
// Upstream's `authorizer` variable is not offered: an expression naming it is refused when its
// object is written rather than evaluated wrongly.
import type { Environment } from "@marcbachmann/cel-js";
import { kubernetesCelEnvironment } from "../../../api/cel/environment.js";
import { celIssue, dynVal, usesVariable } from "../../../api/crd/cel.js";
import type { AdmissionAttributes } from "../types.js";
import { admissionReview, type View } from "../webhook/view.js";

/** What an expression must yield: a bool (validations, match conditions), a string (messageExpression), anything (variables). */
export type ExpressionResult = "bool" | "string" | "any";

/** Which variables an expression may name. */
export interface ExpressionScope {
  /** `params` and `namespaceObject` (policies; not webhooks' match conditions). */
  readonly policy?: boolean;
  /** `variables` (a policy's expressions, and its variables after the first). */
  readonly variables?: boolean;
}

export interface CompiledExpression {
  readonly source: string;
  evaluate(activation: Activation): unknown;
}

/** The error of an expression that does not compile, in upstream's words (`compilation failed: ERROR: <input>:1:5: ...`). */
export interface CompileError {
  readonly error: string;
}

type CelType = "bool" | "string" | "dyn" | string;

let environments: Map<string, Environment> | undefined;

function environmentFor(scope: ExpressionScope): Environment {
  environments ??= new Map();
  const key = `${scope.policy ? "p" : ""}${scope.variables ? "v" : ""}`;
  let env = environments.get(key);
  if (!env) {
    env = kubernetesCelEnvironment().clone({ unlistedVariablesAreDyn: false });
    for (const name of ["object", "oldObject", "request"]) env.registerVariable(name, "dyn");
    if (scope.policy) for (const name of ["params", "namespaceObject"]) env.registerVariable(name, "dyn");
    if (scope.variables) env.registerVariable("variables", "dyn");
    environments.set(key, env);
  }
  return env;
}

const RESULT_WORDS: Record<Exclude<ExpressionResult, "any">, string> = { bool: "a bool", string: "a string" };

/** Compiles `source` for `scope`; an expression that yields dyn is checked again when it runs. */
export function compileAdmissionExpression(source: string, result: ExpressionResult, scope: ExpressionScope = {}): CompiledExpression | CompileError {
  const env = environmentFor(scope);
  const checked = env.check(source);
  if (!checked.valid) {
    const err = checked.error as Parameters<typeof celIssue>[0];
    if (err.code === "unknown_variable" && /\bauthorizer\b/.test(err.summary ?? err.message)) {
      return { error: "compilation failed: k8ts does not offer the authorizer variable to admission expressions" };
    }
    return { error: `compilation failed: ${celIssue(err, source)}` };
  }
  const type = checked.type as CelType;
  if (result !== "any" && type !== result && type !== "dyn") return { error: `must evaluate to ${RESULT_WORDS[result]}` };
  const program = env.parse(source);
  const names = ["object", "oldObject", "request", "params", "namespaceObject", "variables"].filter((n) => usesVariable(program.ast, n));
  return {
    source,
    evaluate(activation) {
      const vars: Record<string, unknown> = {};
      for (const n of names) vars[n] = activation.value(n);
      const v = program(vars);
      if (result === "bool" && typeof v !== "boolean") throw new TypeError(`expression '${source}' resulted in error: no such overload (got ${celTypeName(v)}, want bool)`);
      if (result === "string" && typeof v !== "string") throw new TypeError(`expression '${source}' resulted in error: no such overload (got ${celTypeName(v)}, want string)`);
      return v;
    },
  };
}

export function isCompileError<T extends object>(c: T | CompileError): c is CompileError {
  return "error" in c;
}

function celTypeName(v: unknown): string {
  if (v === null) return "null_type";
  if (typeof v === "bigint") return "int";
  if (typeof v === "number") return "double";
  if (Array.isArray(v)) return "list";
  if (v instanceof Map) return "map";
  return typeof v;
}

/** A policy variable, compiled. */
export interface CompiledVariable {
  readonly name: string;
  readonly expression: CompiledExpression;
}

export interface ActivationInput {
  readonly attrs: AdmissionAttributes;
  /** The request as the policy or webhook matched it (another served form under matchPolicy Equivalent, or a Scale). */
  readonly view: View;
  readonly params?: unknown;
  readonly namespaceObject?: unknown;
  readonly variables?: readonly CompiledVariable[];
}

/**
 * The values expressions of one request see, each converted when first asked for; a policy's
 * variables are evaluated on first use and remembered (an error too: every use fails alike).
 */
export class Activation {
  private readonly cache = new Map<string, unknown>();
  private readonly variables: Record<string, unknown> = {};

  constructor(private readonly input: ActivationInput) {
    for (const v of input.variables ?? []) {
      let outcome: { value: unknown } | { error: unknown } | undefined;
      // configurable: a later variable of the same name replaces an earlier one, as upstream.
      Object.defineProperty(this.variables, v.name, {
        enumerable: true,
        configurable: true,
        get: () => {
          if (!outcome) {
            try {
              outcome = { value: v.expression.evaluate(this) };
            } catch (error) {
              outcome = { error };
            }
          }
          if ("error" in outcome) throw outcome.error;
          return outcome.value;
        },
      });
    }
  }

  value(name: string): unknown {
    if (this.cache.has(name)) return this.cache.get(name);
    const v = this.compute(name);
    this.cache.set(name, v);
    return v;
  }

  private compute(name: string): unknown {
    const { attrs, view } = this.input;
    switch (name) {
      case "object":
        return dynVal(view.object);
      case "oldObject":
        return dynVal(view.oldObject);
      case "request":
        return dynVal(admissionReview("", attrs, view)["request"]);
      case "params":
        return this.input.params === undefined ? null : dynVal(this.input.params);
      case "namespaceObject":
        return this.input.namespaceObject === undefined ? null : dynVal(this.input.namespaceObject);
      case "variables":
        return this.variables;
      default:
        return undefined;
    }
  }
}

/** A list of match conditions, compiled (upstream's matchconditions.Matcher). */
export interface MatchConditions {
  readonly conditions: readonly { readonly name: string; readonly expression: CompiledExpression }[];
}

export type MatchOutcome = { readonly matches: true } | { readonly matches: false; readonly failed: string } | { readonly error: string };

/**
 * Every condition true: a match. Any false: no match (naming the first false one), even if
 * another failed to evaluate. Otherwise an evaluation error: the caller's failurePolicy decides.
 */
export function evaluateMatchConditions(m: MatchConditions, activation: Activation): MatchOutcome {
  let error: string | undefined;
  for (const c of m.conditions) {
    try {
      if (c.expression.evaluate(activation) === false) return { matches: false, failed: c.name };
    } catch (e) {
      error ??= `failed to evaluate match condition "${c.name}": ${e instanceof Error ? e.message : String(e)}`;
    }
  }
  return error === undefined ? { matches: true } : { error };
}

const compiledConditions = new WeakMap<object, MatchConditions | CompileError>();

/**
 * A stored list of match conditions, compiled once per list object (the watch cache hands out
 * the same frozen object until the configuration changes). A condition that no longer compiles
 * (it was stored by another server) is an error for the failure policy to decide.
 */
export function compileMatchConditions(list: readonly Readonly<{ name: string; expression: string }>[], scope: ExpressionScope = {}): MatchConditions | CompileError {
  let c = compiledConditions.get(list);
  if (!c) {
    const conditions: { name: string; expression: CompiledExpression }[] = [];
    for (const m of list) {
      const e = compileAdmissionExpression(m.expression, "bool", scope);
      if (isCompileError(e)) {
        c = { error: `match condition "${m.name}": ${e.error}` };
        break;
      }
      conditions.push({ name: m.name, expression: e });
    }
    c ??= { conditions };
    compiledConditions.set(list, c);
  }
  return c;
}
