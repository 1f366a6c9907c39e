// The AST validators of Kubernetes' base environment (cel-go's ValidateRegexLiterals,
// ValidateDurationLiterals, ValidateTimestampLiterals, enabled since 1.29): a constant argument
// of matches(), duration() or timestamp() that cannot work is a compile error, reported as
// cel-go does ("invalid matches argument"), rather than an error each time the rule runs.
import type { ASTNode } from "@marcbachmann/cel-js";
import { compileGoRegexp } from "../crd/regex.js";
import { kubernetesCelEnvironment } from "./environment.js";

export interface LiteralError {
  readonly message: string;
  /** Offset of the offending literal in the expression. */
  readonly offset: number;
}

interface Node {
  readonly op: string;
  readonly args: unknown;
  readonly start: number;
}

function isNode(v: unknown): v is Node {
  return typeof v === "object" && v !== null && typeof (v as Node).op === "string" && "args" in v;
}

/** The function name and arguments of a call node (`f(a)` or `x.f(a)`, receiver first). */
function callOf(n: Node): { name: string; args: unknown[] } | undefined {
  if (!Array.isArray(n.args)) return undefined;
  if (n.op === "call") {
    const [name, args] = n.args as [unknown, unknown];
    if (typeof name === "string" && Array.isArray(args)) return { name, args };
  }
  if (n.op === "rcall") {
    const [name, receiver, args] = n.args as [unknown, unknown, unknown];
    if (typeof name === "string" && Array.isArray(args)) return { name, args: [receiver, ...args] };
  }
  return undefined;
}

function stringLiteral(v: unknown): string | undefined {
  return isNode(v) && v.op === "value" && typeof v.args === "string" ? v.args : undefined;
}

const conversionEnv = kubernetesCelEnvironment();

function converts(fn: "duration" | "timestamp", value: string): boolean {
  try {
    conversionEnv.evaluate(`${fn}(s)`, { s: value });
    return true;
  } catch {
    return false;
  }
}

/** The literal errors of a parsed expression (`env.parse(expr).ast`), in source order. */
export function literalErrors(ast: ASTNode): LiteralError[] {
  const out: LiteralError[] = [];
  const seen = new Set<unknown>();
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const x of v) visit(x);
      return;
    }
    if (!isNode(v) || seen.has(v)) return;
    seen.add(v);
    const call = callOf(v);
    if (call) {
      // matches(s, re) and s.matches(re) both have the pattern second.
      const pattern = call.name === "matches" ? call.args[1] : undefined;
      const p = stringLiteral(pattern);
      if (p !== undefined && "error" in compileGoRegexp(p)) out.push({ message: "invalid matches argument", offset: (pattern as Node).start });
      if ((call.name === "duration" || call.name === "timestamp") && call.args.length === 1) {
        const lit = stringLiteral(call.args[0]);
        if (lit !== undefined && !converts(call.name, lit)) out.push({ message: `invalid ${call.name} argument`, offset: (call.args[0] as Node).start });
      }
    }
    visit(v.args);
  };
  visit(ast);
  return out.sort((a, b) => a.offset - b.offset);
}
