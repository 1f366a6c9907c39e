// Kubernetes' quantity library (apiserver/pkg/cel/library/quantity.go): quantity(), isQuantity,
// sign, isInteger, asInteger, asApproximateFloat, add, sub, compareTo, isGreaterThan,
// isLessThan, mul, on resource.Quantity as src/api/quantity.ts implements it. Quantities compare
// equal (==) when their values are equal, as upstream's Quantity.Equal.
import { EvaluationError, type Environment } from "@marcbachmann/cel-js";
import { Quantity, QuantityError } from "../quantity.js";

const Q = "kubernetes.Quantity";
const MAX_INT64 = 2n ** 63n - 1n;
const MIN_INT64 = -(2n ** 63n);

function parse(s: string): Quantity {
  try {
    return Quantity.parse(s);
  } catch (e) {
    if (e instanceof QuantityError) throw new EvaluationError(e.message);
    throw e;
  }
}

/** Upstream's AsInt64: the value when it is a whole number within int64. */
function asInt64(q: Quantity): bigint | undefined {
  const { quantity, exact } = q.roundUp(0);
  if (!exact) return undefined;
  if (quantity.exponent > 19 && quantity.mantissa !== 0n) return undefined;
  const v = quantity.mantissa * 10n ** BigInt(Math.max(0, quantity.exponent));
  return v > MAX_INT64 || v < MIN_INT64 ? undefined : v;
}

function isQuantity(s: string): boolean {
  try {
    Quantity.parse(s);
    return true;
  } catch (e) {
    if (e instanceof QuantityError) return false;
    throw e;
  }
}

export function registerQuantityLibrary(env: Environment): void {
  env.registerType(Q, { ctor: Quantity, fields: {} });
  env.registerFunction(`quantity(string): ${Q}`, parse);
  env.registerFunction("isQuantity(string): bool", isQuantity);
  // Upstream declares sign as a global overload although its documentation calls it as a method; both work here.
  env.registerFunction(`sign(${Q}): int`, (q: Quantity) => BigInt(q.sign()));
  env.registerFunction(`${Q}.sign(): int`, (q: Quantity) => BigInt(q.sign()));
  env.registerFunction(`${Q}.isInteger(): bool`, (q: Quantity) => asInt64(q) !== undefined);
  env.registerFunction(`${Q}.asInteger(): int`, (q: Quantity) => {
    const v = asInt64(q);
    if (v === undefined) throw new EvaluationError("cannot convert value to integer");
    return v;
  });
  env.registerFunction(`${Q}.asApproximateFloat(): double`, (q: Quantity) => q.asApproximateFloat64());
  env.registerFunction(`${Q}.add(${Q}): ${Q}`, (q: Quantity, o: Quantity) => q.add(o));
  env.registerFunction(`${Q}.add(int): ${Q}`, (q: Quantity, n: bigint) => q.add(Quantity.fromInt(n, "DecimalExponent")));
  env.registerFunction(`${Q}.sub(${Q}): ${Q}`, (q: Quantity, o: Quantity) => q.sub(o));
  env.registerFunction(`${Q}.sub(int): ${Q}`, (q: Quantity, n: bigint) => q.sub(Quantity.fromInt(n, "DecimalExponent")));
  env.registerFunction(`${Q}.mul(int): ${Q}`, (q: Quantity, n: bigint) => q.mul(n));
  env.registerFunction(`${Q}.compareTo(${Q}): int`, (q: Quantity, o: Quantity) => BigInt(q.cmp(o)));
  env.registerFunction(`${Q}.isGreaterThan(${Q}): bool`, (q: Quantity, o: Quantity) => q.cmp(o) > 0);
  env.registerFunction(`${Q}.isLessThan(${Q}): bool`, (q: Quantity, o: Quantity) => q.cmp(o) < 0);
  env.registerOperator(`${Q} == ${Q}`, (a: Quantity, b: Quantity) => a.cmp(b) === 0);
}
