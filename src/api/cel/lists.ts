// Kubernetes' lists library (apiserver/pkg/cel/library/lists.go) and cel-go's sets extension,
// which Kubernetes enables: isSorted, sum, min, max, indexOf, lastIndexOf; sets.contains,
// sets.equivalent, sets.intersects.
import { EvaluationError, type Environment } from "@marcbachmann/cel-js";
import { celCompare, celEquals, checkedInt, isDuration, isUint } from "./values.js";

const TS = "google.protobuf.Timestamp";
const DUR = "google.protobuf.Duration";
const COMPARABLE = ["int", "uint", "double", "bool", DUR, TS, "string", "bytes"];
const SUMMABLE = ["int", "uint", "double", DUR];

function isSorted(list: readonly unknown[]): boolean {
  for (let i = 1; i < list.length; i++) if (celCompare(list[i - 1], list[i]) > 0) return false;
  return true;
}

/** The least (sign -1) or greatest (sign 1) element; the first of equals, as upstream. */
function extreme(name: string, sign: number) {
  return (list: readonly unknown[]): unknown => {
    if (list.length === 0) throw new EvaluationError(`${name} called on empty list`);
    let best = list[0];
    for (const v of list.slice(1)) if (celCompare(v, best) * sign > 0) best = v;
    return best;
  };
}

function sum(list: readonly unknown[]): unknown {
  const [first] = list;
  if (first === undefined) return 0n;
  if (typeof first === "bigint") return checkedInt(list.reduce<bigint>((a, v) => a + (v as bigint), 0n));
  if (typeof first === "number") return list.reduce<number>((a, v) => a + (v as number), 0);
  if (isUint(first)) {
    const total = list.reduce<bigint>((a, v) => a + (isUint(v) ? v.value : 0n), 0n);
    if (total >= 2n ** 64n) throw new EvaluationError("unsigned integer overflow");
    const Ctor = first.constructor as new (v: bigint) => unknown;
    return new Ctor(total);
  }
  if (isDuration(first)) return list.slice(1).reduce((a: typeof first, v) => a.addDuration(v as typeof first), first);
  throw new EvaluationError("no such overload: sum");
}

export function listIndexOf(list: readonly unknown[], item: unknown): bigint {
  return BigInt(list.findIndex((v) => celEquals(v, item)));
}

export function listLastIndexOf(list: readonly unknown[], item: unknown): bigint {
  return BigInt(list.findLastIndex((v) => celEquals(v, item)));
}

/** The `sets` namespace: `sets.contains(a, b)` is a method call on the constant `sets`. */
class SetsNamespace {}

export function registerListsLibrary(env: Environment): void {
  for (const t of COMPARABLE) {
    env.registerFunction(`list<${t}>.isSorted(): bool`, isSorted);
    env.registerFunction(`list<${t}>.min(): ${t}`, extreme("min", -1));
    env.registerFunction(`list<${t}>.max(): ${t}`, extreme("max", 1));
  }
  for (const t of SUMMABLE) env.registerFunction(`list<${t}>.sum(): ${t}`, sum);
  // indexOf and lastIndexOf on lists are registered with the strings library's (strings.ts): one
  // override macro per name and arity serves both receivers.

  env.registerType("k8ts.SetsNamespace", SetsNamespace);
  env.registerConstant("sets", "k8ts.SetsNamespace", new SetsNamespace());
  const has = (list: readonly unknown[], v: unknown): boolean => list.some((x) => celEquals(x, v));
  const contains = (a: readonly unknown[], b: readonly unknown[]): boolean => b.every((v) => has(a, v));
  env.registerFunction("k8ts.SetsNamespace.contains(list<A>, list<A>): bool", (_: unknown, a: unknown[], b: unknown[]) => contains(a, b));
  env.registerFunction("k8ts.SetsNamespace.equivalent(list<A>, list<A>): bool", (_: unknown, a: unknown[], b: unknown[]) =>
    contains(a, b) && contains(b, a),
  );
  env.registerFunction("k8ts.SetsNamespace.intersects(list<A>, list<A>): bool", (_: unknown, a: unknown[], b: unknown[]) =>
    a.some((v) => has(b, v)),
  );
}
