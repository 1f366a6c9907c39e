// Helpers for the CEL library tests: evaluate with Kubernetes' environment, or get the error.
import { kubernetesCelEnvironment } from "./environment.js";

const env = kubernetesCelEnvironment();

/** Evaluates `expr` (type-checked first, as the API server compiles rules before running them). */
export function celEval(expr: string, vars: Record<string, unknown> = {}): unknown {
  return env.evaluate(expr, vars);
}

/** The message of the error evaluating `expr` throws; fails if it throws none. */
export function celError(expr: string, vars: Record<string, unknown> = {}): string {
  try {
    env.evaluate(expr, vars);
  } catch (e) {
    return e instanceof Error ? ((e as { summary?: string }).summary ?? e.message) : String(e);
  }
  throw new Error(`expected ${expr} to fail`);
}

/** The type-check error of `expr`, undefined when it checks. */
export function celCheckError(expr: string): string | undefined {
  const r = env.check(expr);
  if (r.valid) return undefined;
  return r.error?.summary ?? r.error?.message;
}
