import { test } from "node:test";
import assert from "node:assert/strict";
import { parseQuantity, Quantity, QuantityError, Scale, sumQuantities, type QuantityFormat } from "./quantity.js";

// What kubectl 1.32 wrote back for `kubectl set resources --local -f pod.yaml --limits=cpu=Q -o
// jsonpath=...`: it parses with upstream's resource.ParseQuantity and serializes the result, so
// the right column is upstream's canonical form (or its parse error, after "error: ").
// Recorded once from /usr/bin/kubectl.
const kubectlCanonical: [string, string][] = [
  ["1", "1"],
  ["0", "0"],
  ["00", "0"],
  ["-0", "0"],
  ["+", "0"],
  ["-", "0"],
  [".", "0"],
  ["1.", "1."],
  ["1.G", "1.G"],
  ["1.Ki", "1.Ki"],
  ["+1Ki", "+1Ki"],
  ["-1Ki", "-1Ki"],
  ["1000m", "1"],
  ["0.5", "500m"],
  ["1024Mi", "1Gi"],
  ["1.5Gi", "1536Mi"],
  ["1000E", "1"],
  ["12E", "12E"],
  ["1E", "1E"],
  ["1e3", "1e3"],
  ["1E3", "1E3"],
  ["1e03", "1e03"],
  ["1e+3", "1e+3"],
  ["10e3", "10e3"],
  ["1.5e3", "1500"],
  ["1.2e3", "1200"],
  ["1.3E+6", "1300e3"],
  ["0.5e-9", "1e-9"],
  ["1e-10", "1e-9"],
  ["1.1E-9", "2e-9"],
  ["3.001n", "4n"],
  ["0.0000000001", "1n"],
  ["0.00000012345", "124n"],
  ["9Ei", "9223372036854775807"],
  ["8Ei", "9223372036854775807"],
  ["7Ei", "7Ei"],
  ["9223372036854775807Ki", "9223372036854775807"],
  ["9223372036854775807", "9223372036854775807"],
  ["9223372036854775808", "9223372036854775808"],
  ["99999999999999999999", "99999999999999999999"],
  ["1234567890123456789", "1234567890123456789"],
  ["123456789012345678", "123456789012345678"],
  ["100.035Ki", "102435840m"],
  ["0.5Mi", "512Ki"],
  ["0.05Gi", "53687091200m"],
  ["0.025Ti", "27487790694400m"],
  ["0.000000000001Ki", "2n"],
  [".001", "1m"],
  [".0001k", "100m"],
  [".001Ki", "1024m"],
  [".000000001Ki", "1024n"],
  ["1.1.M", "error: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
  ["1+1.0M", "error: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
  ["0.1mi", "error: unable to parse quantity's suffix"],
  ["aoeu", "error: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
  [".5i", "error: unable to parse quantity's suffix"],
  ["1i", "error: unable to parse quantity's suffix"],
  ["-3.01e-", "error: unable to parse quantity's suffix"],
  [" 1", "error: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
  ["1 ", "error: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
  ["Ki", "0"],
  ["m", "0"],
  ["e-10", "error: unable to parse numeric part of quantity"],
  [".e-10", "error: unable to parse numeric part of quantity"],
  ["1ee3", "error: unable to parse quantity's suffix"],
  ["1K", "error: unable to parse quantity's suffix"],
  ["1Mi5", "error: unable to parse quantity's suffix"],
  ["1.5x", "error: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
  ["2.000k", "2k"],
  ["1.500k", "1.500k"],
  ["0100", "0100"],
  ["01", "01"],
  ["-01", "-01"],
  ["+1", "+1"],
  ["1024", "1024"],
  ["1025Ki", "1025Ki"],
  ["100Ki", "100Ki"],
  ["8Mi", "8Mi"],
  ["1023", "1023"],
  ["1536Mi", "1536Mi"],
  ["1536", "1536"],
  ["0.3Ki", "307200m"],
  ["-0.3Ki", "-307200m"],
  ["-1.5Gi", "-1536Mi"],
  ["-1.5", "-1500m"],
  ["-0.0000000001", "-1n"],
  ["100m", "100m"],
  ["250m", "250m"],
  ["2500m", "2500m"],
  ["1500m", "1500m"],
  ["0.001m", "1u"],
  ["1u", "1u"],
  ["1000u", "1m"],
  ["1000000u", "1"],
  ["1n", "1n"],
  ["1e-9", "1e-9"],
  ["1e-12", "1e-9"],
  ["1e100", "10e99"],
  ["1e18", "1e18"],
  ["1e19", "10e18"],
  ["1e21", "1e21"],
  ["5e-1", "500e-3"],
  ["0.5e0", "500e-3"],
  ["0.5e-1", "50e-3"],
  ["123.456e2", "12345600e-3"],
  ["1Pi", "1Pi"],
  ["1.5Pi", "1536Ti"],
  ["1024Pi", "1Ei"],
  ["1024Ti", "1Pi"],
  ["1Ti", "1Ti"],
  ["10Ti", "10Ti"],
  ["100Ti", "100Ti"],
  ["3Ei", "3Ei"],
  ["-8Ei", "-9223372036854775807"],
  ["-9Ei", "-9223372036854775807"],
  ["4e9", "4e9"],
  ["40T", "40T"],
  ["300T", "300T"],
  ["1.01E", "1010P"],
  ["6.987654321G", "6.987654321G"],
  ["7.123456M", "7.123456M"],
];

void test("parse + serialize agrees with kubectl 1.32 on every recorded quantity", () => {
  for (const [input, want] of kubectlCanonical) {
    let got: string;
    try {
      got = Quantity.parse(input).toString();
    } catch (err) {
      assert.ok(err instanceof QuantityError, input);
      got = `error: ${err.message}`;
    }
    assert.equal(got, want, JSON.stringify(input));
  }
});

void test("parse errors carry stable codes", () => {
  const cases: [string, string][] = [
    ["", "QuantityFormatWrong"],
    ["1.1.M", "QuantityFormatWrong"],
    ["abc", "QuantityFormatWrong"],
    ["1Q", "QuantityFormatWrong"],
    ["1K", "QuantitySuffix"],
    ["1mi", "QuantitySuffix"],
    ["1e", "QuantitySuffix"],
    ["1e99999999999999999999", "QuantitySuffix"],
    ["e-10", "QuantityNumeric"],
    ["-e-10", "QuantityNumeric"],
  ];
  for (const [input, code] of cases) {
    assert.throws(() => parseQuantity(input), (err: unknown) => err instanceof QuantityError && err.code === code, input);
  }
});

void test("parsed values are exact", () => {
  const cases: [string, bigint, number, QuantityFormat][] = [
    ["1", 1n, 0, "DecimalSI"],
    ["1Ki", 1024n, 0, "BinarySI"],
    ["3Ei", 3n * 2n ** 60n, 0, "BinarySI"],
    ["5n", 5n, -9, "DecimalSI"],
    ["50k", 50n, 3, "DecimalSI"],
    ["1E-3", 1n, -3, "DecimalExponent"],
    ["1.3E+6", 13n, 5, "DecimalExponent"],
    ["100.035k", 100035n, 0, "DecimalSI"],
    ["0.0005k", 5n, -1, "DecimalSI"],
    ["3.001n", 4n, -9, "DecimalSI"],
    ["0.00000012354", 124n, -9, "DecimalSI"],
    ["9Ei", 2n ** 63n - 1n, 0, "BinarySI"],
    ["12E", 12n, 18, "DecimalSI"],
    ["0.5Mi", 524288n, 0, "BinarySI"],
    ["0.000000000001Ki", 2n, -9, "DecimalSI"],
    ["99999999999999999999", 99999999999999999999n, 0, "DecimalSI"],
  ];
  for (const [input, mant, exp, format] of cases) {
    const q = parseQuantity(input);
    const want = Quantity.fromScaled(mant, exp);
    assert.equal(q.cmp(want), 0, `${input}: ${q.mantissa}e${q.exponent}`);
    assert.equal(q.format, format, input);
    assert.equal(parseQuantity("-" + input).cmp(want.neg()), 0, `-${input}`);
    assert.equal(parseQuantity("+" + input).cmp(want), 0, `+${input}`);
  }
});

void test("canonical strings of constructed quantities", () => {
  const cases: [Quantity, string][] = [
    [Quantity.fromInt(1024 ** 3, "BinarySI"), "1Gi"],
    [Quantity.fromInt(300 * 1024 * 1024, "BinarySI"), "300Mi"],
    [Quantity.fromInt(1001 * 1024 ** 3, "BinarySI"), "1001Gi"],
    [Quantity.fromInt(5, "BinarySI"), "5"],
    [Quantity.fromMilli(500, "BinarySI"), "500m"],
    [Quantity.fromInt(1025, "BinarySI"), "1025"],
    [Quantity.fromScaled(1, 9), "1G"],
    [Quantity.fromScaled(1080, -3), "1080m"],
    [Quantity.fromScaled(108, -2), "1080m"],
    [Quantity.fromScaled(10800, -4), "1080m"],
    [Quantity.fromScaled(1234567, 6), "1234567M"],
    [Quantity.fromScaled(1, 21), "1"],
    [Quantity.fromInt(0, "BinarySI"), "0"],
    [Quantity.fromInt(1, "DecimalExponent").mul(10n ** 9n), "1e9"],
    [Quantity.fromMilli(80, "DecimalExponent"), "80e-3"],
    [Quantity.fromMilli(1, "DecimalSI"), "1m"],
    [Quantity.fromMilli(1000, "DecimalSI"), "1"],
    [Quantity.fromMilli(1234000, "DecimalSI"), "1234"],
    [Quantity.fromMilli(1024, "BinarySI"), "1024m"],
    [Quantity.fromMilli(1024 * 1024, "BinarySI"), "1048576m"],
    [Quantity.fromInt(1000, "DecimalSI"), "1k"],
    [Quantity.fromInt(1234000, "DecimalSI"), "1234k"],
    [Quantity.fromInt(1024, "BinarySI"), "1Ki"],
    [Quantity.fromInt(1024 * 1024, "BinarySI"), "1Mi"],
    [Quantity.fromScaled(1000, Scale.Nano), "1u"],
    [Quantity.fromScaled(1000, Scale.Micro), "1m"],
    [Quantity.fromInt(2n ** 70n, "BinarySI"), "1"],
    [Quantity.fromInt(2n ** 64n, "BinarySI"), "16Ei"],
    [Quantity.fromScaled(901, -2).neg(), "-9010m"],
  ];
  for (const [q, want] of cases) assert.equal(q.toString(), want, `${q.mantissa}e${q.exponent} ${q.format}`);
  assert.equal(JSON.stringify({ cpu: parseQuantity("1000m") }), '{"cpu":"1"}');
});

void test("compare", () => {
  const cases: [string, string, number][] = [
    ["0", "0", 0],
    ["100m", "50m", 1],
    ["50m", "100m", -1],
    ["10000T", "100Gi", 1],
    ["1", "1000m", 0],
    ["1Ki", "1024", 0],
    ["1k", "1Ki", -1],
    ["-1", "0", -1],
    ["-1", "-2", 1],
    ["0", "-0", 0],
    ["1e100", "9Ei", 1],
    ["1e-9", "0", 1],
    ["999999999999999999999", "1e21", -1],
    ["1n", "0.000000001", 0],
  ];
  for (const [a, b, want] of cases) {
    assert.equal(parseQuantity(a).cmp(parseQuantity(b)), want, `${a} vs ${b}`);
    assert.equal(parseQuantity(b).cmp(parseQuantity(a)), want === 0 ? 0 : -want, `${b} vs ${a}`);
  }
  assert.equal(parseQuantity("1e1000000").cmp(parseQuantity("1")), 1, "huge exponents compare without expanding");
  assert.equal(parseQuantity("1500m").cmpInt(1), 1);
  assert.equal(parseQuantity("1").equals(parseQuantity("1000m")), true);
});

void test("add and sub are exact and keep the receiver's format (a zero takes the other's)", () => {
  const cases: [string, "+" | "-", string, string][] = [
    ["100m", "+", "0", "100m"],
    ["0", "+", "100m", "100m"],
    ["1Gi", "+", "0", "1Gi"],
    ["0", "+", "1Gi", "1Gi"],
    ["100m", "-", "0", "100m"],
    ["0", "-", "100m", "-100m"],
    ["0", "-", "1Gi", "-1Gi"],
    ["10", "+", "1e1", "20"],
    ["10", "+", "1Ki", "1034"],
    ["1Ki", "+", "10", "1034"],
    ["1Gi", "+", "512Mi", "1536Mi"],
    ["1Gi", "-", "1024Mi", "0"],
    ["100m", "+", "200m", "300m"],
    ["0.1", "+", "0.2", "300m"],
    ["1", "-", "1n", "999999999n"],
    ["8Ei", "+", "8Ei", "18446744073709551614"],
    ["9223372036854775807", "+", "1", "9223372036854775808"],
    ["250m", "-", "1", "-750m"],
  ];
  for (const [a, op, b, want] of cases) {
    const qa = parseQuantity(a);
    const qb = parseQuantity(b);
    const got = op === "+" ? qa.add(qb) : qa.sub(qb);
    assert.equal(got.toString(), want, `${a} ${op} ${b}`);
  }
  assert.equal(sumQuantities([parseQuantity("100m"), parseQuantity("250m"), parseQuantity("1")]).toString(), "1350m");
  assert.equal(sumQuantities([]).toString(), "0");
  const a = parseQuantity("+1");
  a.add(parseQuantity("1"));
  assert.equal(a.toString(), "+1", "quantities are immutable");
});

void test("value, milliValue and scaledValue round up away from zero", () => {
  const cases: [string, bigint, bigint][] = [
    ["1", 1n, 1000n],
    ["1500m", 2n, 1500n],
    ["1001m", 2n, 1001n],
    ["1m", 1n, 1n],
    ["1n", 1n, 1n],
    ["0.1m", 1n, 1n],
    ["0", 0n, 0n],
    ["1Ki", 1024n, 1024000n],
    ["1.5Gi", 1610612736n, 1610612736000n],
    ["-1500m", -2n, -1500n],
    ["-1n", -1n, -1n],
    ["9Ei", 9223372036854775807n, 0n],
  ];
  for (const [input, value, milli] of cases) {
    const q = parseQuantity(input);
    assert.equal(q.value(), value, `${input}.value()`);
    if (milli !== 0n) assert.equal(q.milliValue(), milli, `${input}.milliValue()`);
  }
  assert.throws(() => parseQuantity("9Ei").milliValue(), (err: unknown) => err instanceof QuantityError && err.code === "QuantityOverflow");
  assert.throws(() => parseQuantity("1e1000000").value(), (err: unknown) => err instanceof QuantityError && err.code === "QuantityOverflow");
  const scaled: [number, number, bigint][] = [
    [Scale.Nano, Scale.Nano, 1n],
    [Scale.Nano, Scale.Micro, 1n],
    [Scale.Nano, 0, 1n],
    [Scale.Micro, Scale.Nano, 1000n],
    [Scale.Milli, Scale.Nano, 1000000n],
    [0, Scale.Nano, 1000000000n],
    [0, Scale.Milli, 1000n],
    [2, -2, 10000n],
  ];
  for (const [from, to, want] of scaled) assert.equal(Quantity.fromScaled(1, from).scaledValue(to), want, `${from}→${to}`);
});

void test("roundUp, neg, sign, float approximation", () => {
  const cases: [string, number, string, boolean][] = [
    ["9.01", -3, "9010m", true],
    ["9.01", -2, "9010m", true],
    ["9.01", -1, "9100m", false],
    ["9.01", 0, "10", false],
    ["9.01", 1, "10", false],
    ["9.01", 2, "100", false],
    ["-9.01", -1, "-9100m", false],
    ["-9.01", 2, "-100", false],
  ];
  for (const [input, scale, want, exact] of cases) {
    const r = parseQuantity(input).roundUp(scale);
    assert.equal(r.quantity.toString(), want, `${input} @${scale}`);
    assert.equal(r.exact, exact, `${input} @${scale}`);
  }
  assert.equal(parseQuantity("1500m").neg().toString(), "-1500m");
  assert.equal(parseQuantity("-1500m").sign(), -1);
  assert.equal(parseQuantity("0").sign(), 0);
  assert.equal(parseQuantity("0").isZero(), true);
  assert.equal(parseQuantity("1.5Gi").asApproximateFloat64(), 1610612736);
  assert.equal(parseQuantity("250m").asApproximateFloat64(), 0.25);
  assert.equal(parseQuantity("1Ki").withFormat("DecimalSI").toString(), "1024");
  assert.equal(parseQuantity("1e100000").withFormat("BinarySI").toString(), "10", "printed as DecimalSI (which has no suffix that large) instead of expanding 10^100000");
});

void test("fromJSON trims strings like UnmarshalJSON and accepts numbers", () => {
  const cases: [unknown, string][] = [
    [" 1", "1"],
    ["1 ", "1"],
    [1, "1"],
    [10, "10"],
    [-1, "-1"],
    [0.5, "500m"],
    ["1Gi", "1Gi"],
  ];
  for (const [v, want] of cases) assert.equal(Quantity.fromJSON(v).toString(), want, JSON.stringify(v));
  for (const bad of [null, {}, NaN, "x"]) assert.throws(() => Quantity.fromJSON(bad), QuantityError);
});
