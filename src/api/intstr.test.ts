import { test } from "node:test";
import assert from "node:assert/strict";
import { FieldPath } from "./fielderrors.js";
import {
  goIntOrString,
  intOrStringIntValue,
  intOrStringToString,
  IntOrStringError,
  isNotMoreThan100Percent,
  parseIntOrString,
  percentValue,
  resolveFenceposts,
  scaledValueFromIntOrPercent,
  validatePositiveIntOrPercent,
  valueFromIntOrPercent,
  type IntOrString,
} from "./intstr.js";

void test("scaledValueFromIntOrPercent rounds percentages as asked and passes integers through", () => {
  const cases: [IntOrString, number, boolean, number][] = [
    [5, 100, true, 5],
    [5, 100, false, 5],
    [0, 10, true, 0],
    ["25%", 10, true, 3],
    ["25%", 10, false, 2],
    ["25%", 4, true, 1],
    ["25%", 4, false, 1],
    ["25%", 1, true, 1],
    ["25%", 1, false, 0],
    ["25%", 0, true, 0],
    ["0%", 10, true, 0],
    ["100%", 7, false, 7],
    ["150%", 10, true, 15],
    ["33%", 3, true, 1],
    ["33%", 3, false, 0],
    ["1%", 199, true, 2],
    ["1%", 199, false, 1],
    ["90%", 10, false, 9],
    ["-10%", 10, true, -1],
    ["-15%", 10, false, -2],
    ["+20%", 10, true, 2],
    ["07%", 100, true, 7],
  ];
  for (const [v, total, up, want] of cases) assert.equal(scaledValueFromIntOrPercent(v, total, up), want, `${v} of ${total} ${up ? "up" : "down"}`);
});

void test("scaledValueFromIntOrPercent errors as upstream", () => {
  const cases: [IntOrString | undefined, string][] = [
    [undefined, "nil value for IntOrString"],
    ["25", "invalid value for IntOrString: invalid type: string is not a percentage"],
    ["abc", "invalid value for IntOrString: invalid type: string is not a percentage"],
    ["abc%", 'invalid value for IntOrString: invalid value "abc%": strconv.Atoi: parsing "abc": invalid syntax'],
    ["%", 'invalid value for IntOrString: invalid value "%": strconv.Atoi: parsing "": invalid syntax'],
    ["1.5%", 'invalid value for IntOrString: invalid value "1.5%": strconv.Atoi: parsing "1.5": invalid syntax'],
    ["99999999999999999999%", 'invalid value for IntOrString: invalid value "99999999999999999999%": strconv.Atoi: parsing "99999999999999999999": value out of range'],
  ];
  for (const [v, msg] of cases) {
    assert.throws(() => scaledValueFromIntOrPercent(v, 10, true), (err: unknown) => err instanceof IntOrStringError && err.code === "InvalidIntOrString" && err.message === msg, String(v));
  }
});

void test("the deprecated valueFromIntOrPercent treats any string as a percentage", () => {
  assert.equal(valueFromIntOrPercent("25", 10, true), 3);
  assert.equal(valueFromIntOrPercent("25%", 10, false), 2);
  assert.equal(valueFromIntOrPercent("%2%5%", 10, false), 2);
  assert.equal(valueFromIntOrPercent(4, 10, false), 4);
  assert.throws(() => valueFromIntOrPercent("x", 10, false), /^IntOrStringError: invalid value for IntOrString: invalid value "x": strconv.Atoi: parsing "x": invalid syntax$/);
});

void test("resolveFenceposts: surge rounds up, unavailable down, never both zero", () => {
  const cases: [IntOrString | undefined, IntOrString | undefined, number, number, number][] = [
    ["25%", "25%", 10, 3, 2],
    ["25%", "25%", 1, 1, 0],
    ["25%", "25%", 0, 0, 1],
    [0, 0, 5, 0, 1],
    [1, 0, 5, 1, 0],
    [0, "10%", 5, 0, 1],
    [undefined, undefined, 3, 0, 1],
    ["50%", 1, 3, 2, 1],
  ];
  for (const [surge, unav, desired, s, u] of cases) {
    assert.deepEqual(resolveFenceposts(surge, unav, desired), { surge: s, unavailable: u }, `${surge}/${unav} of ${desired}`);
  }
});

void test("string and integer views", () => {
  assert.equal(intOrStringToString(8080), "8080");
  assert.equal(intOrStringToString("http"), "http");
  assert.equal(intOrStringIntValue(5), 5);
  assert.equal(intOrStringIntValue("42"), 42);
  assert.equal(intOrStringIntValue("50%"), 0);
  assert.equal(intOrStringIntValue("http"), 0);
  assert.equal(parseIntOrString("80"), 80);
  assert.equal(parseIntOrString("-1"), -1);
  assert.equal(parseIntOrString("2147483647"), 2147483647);
  assert.equal(parseIntOrString("2147483648"), "2147483648", "beyond int32 stays a string");
  assert.equal(parseIntOrString("http"), "http");
  assert.equal(percentValue("25%"), 25);
  assert.equal(percentValue("25"), undefined);
  assert.equal(percentValue(25), undefined);
});

void test("validation messages render the IntOrString as Go's %#v does", () => {
  const p = FieldPath.of("spec", "strategy", "rollingUpdate", "maxSurge");
  assert.equal(goIntOrString("50").text, 'intstr.IntOrString{Type:1, IntVal:0, StrVal:"50"}');
  assert.equal(goIntOrString(3).text, 'intstr.IntOrString{Type:0, IntVal:3, StrVal:""}');
  assert.deepEqual(validatePositiveIntOrPercent("25%", p), []);
  assert.deepEqual(validatePositiveIntOrPercent(0, p), []);
  assert.deepEqual(validatePositiveIntOrPercent(-1, p).map(String), ["spec.strategy.rollingUpdate.maxSurge: Invalid value: -1: must be greater than or equal to 0"]);
  assert.deepEqual(validatePositiveIntOrPercent("abc", p).map(String), [
    `spec.strategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"abc"}: a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')`,
  ]);
  assert.deepEqual(isNotMoreThan100Percent("100%", p), []);
  assert.deepEqual(isNotMoreThan100Percent(500, p), []);
  assert.deepEqual(isNotMoreThan100Percent("101%", p).map(String), [
    'spec.strategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"101%"}: must not be greater than 100%',
  ]);
});
