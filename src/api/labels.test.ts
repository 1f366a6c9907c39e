import { test } from "node:test";
import assert from "node:assert/strict";
import { FieldPath } from "./fielderrors.js";
import {
  everything,
  formatLabels,
  formatLabelSelector,
  labelSelectorAsSelector,
  labelsEqual,
  labelSetString,
  LabelSelectorError,
  newRequirement,
  nothing,
  parseSelector,
  parseToRequirements,
  requirementString,
  selectorFromSet,
  validatedSelectorFromSet,
  type Requirement,
} from "./labels.js";

// What kubectl 1.32 printed for `kubectl set selector --local -f service.yaml SELECTOR -o
// jsonpath={.spec.selector}`: it parses with upstream's labels.ParseToRequirements, so parse
// errors, requirement order, operators and de-duplicated sorted values are upstream's own.
// Recorded once from /usr/bin/kubectl; `renderLikeSetSelector` reproduces kubectl's wrapping.
const kubectlSetSelector: [string, string][] = [
  ["a=b", "{\"a\":\"b\"}"],
  ["a==b", "{\"a\":\"b\"}"],
  ["x=", "{\"x\":\"\"}"],
  ["x= ", "{\"x\":\"\"}"],
  ["x=,z= ", "{\"x\":\"\",\"z\":\"\"}"],
  [" a = b , c == d ", "{\"a\":\"b\",\"c\":\"d\"}"],
  ["a=b,a=c", "{\"a\":\"c\"}"],
  ["a@=b", "error: couldn't parse the selector string \"a@=b\": unable to parse requirement: <nil>: Invalid value: \"a@\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"],
  ["a=b@", "error: couldn't parse the selector string \"a=b@\": unable to parse requirement: values[0][a]: Invalid value: \"b@\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"],
  ["x in (a,b)", "error: match expression [{x In [a b]}] not supported on this object"],
  ["x in (b,a,a)", "error: match expression [{x In [a b]}] not supported on this object"],
  ["x in (a", "error: couldn't parse the selector string \"x in (a\": unable to parse requirement: found '', expected: ',' or ')'"],
  ["x in (", "error: couldn't parse the selector string \"x in (\": unable to parse requirement: found '', expected: ',', ')' or identifier"],
  ["x in", "error: couldn't parse the selector string \"x in\": unable to parse requirement: found '' expected: '('"],
  ["x in ()", "error: match expression [{x In []}] not supported on this object"],
  ["x in (,)", "error: match expression [{x In []}] not supported on this object"],
  ["x in (a,)", "error: match expression [{x In [ a]}] not supported on this object"],
  ["x in (,a)", "error: match expression [{x In [ a]}] not supported on this object"],
  ["x in (a,,b)", "error: match expression [{x In [ a b]}] not supported on this object"],
  ["k in (a,,)", "error: couldn't parse the selector string \"k in (a,,)\": unable to parse requirement: found ')', expected: ',', or identifier"],
  ["x notin ()", "error: match expression [{x NotIn []}] not supported on this object"],
  ["x notin (a)", "error: match expression [{x NotIn [a]}] not supported on this object"],
  ["x!=a", "error: \"!=\" is not a valid label selector operator"],
  ["x!=", "error: \"!=\" is not a valid label selector operator"],
  ["!x", "error: match expression [{x DoesNotExist []}] not supported on this object"],
  ["!x,y", "error: match expression [{x DoesNotExist []} {y Exists []}] not supported on this object"],
  ["!a=b", "error: couldn't parse the selector string \"!a=b\": found '=', expected: ',' or 'end of string'"],
  ["a==b==c", "error: couldn't parse the selector string \"a==b==c\": found '==', expected: ',' or 'end of string'"],
  ["x<a", "error: couldn't parse the selector string \"x<a\": unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be an integer"],
  ["x>1", "error: \"gt\" isn't supported in label selectors"],
  ["x>1,z<5", "error: \"gt\" isn't supported in label selectors"],
  ["a>", "error: couldn't parse the selector string \"a>\": unable to parse requirement: values[0]: Invalid value: \"\": for 'Gt', 'Lt' operators, the value must be an integer"],
  ["a>99999999999999999999", "error: couldn't parse the selector string \"a>99999999999999999999\": unable to parse requirement: values[0]: Invalid value: \"99999999999999999999\": for 'Gt', 'Lt' operators, the value must be an integer"],
  ["a>-1", "error: couldn't parse the selector string \"a>-1\": unable to parse requirement: values[0][a]: Invalid value: \"-1\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"],
  ["a,,b", "error: couldn't parse the selector string \"a,,b\": found ',', expected: identifier after ','"],
  [",a", "error: couldn't parse the selector string \",a\": found ',', expected: !, identifier, or 'end of string'"],
  ["a,", "error: couldn't parse the selector string \"a,\": found '', expected: identifier after ','"],
  ["a=(b)", "error: couldn't parse the selector string \"a=(b)\": unable to parse requirement: found '(', expected: identifier"],
  ["in in (notin)", "error: match expression [{in In [notin]}] not supported on this object"],
  ["notin=in", "{\"notin\":\"in\"}"],
  ["a b", "error: couldn't parse the selector string \"a b\": unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"],
  ["x=a||y=b", "error: couldn't parse the selector string \"x=a||y=b\": unable to parse requirement: values[0][x]: Invalid value: \"a||y\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"],
  ["a/b/c", "error: couldn't parse the selector string \"a/b/c\": unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"],
  ["example.com/a=b", "{\"example.com/a\":\"b\"}"],
  ["Example.com/a=b", "error: couldn't parse the selector string \"Example.com/a=b\": unable to parse requirement: <nil>: Invalid value: \"Example.com/a\": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"],
  ["exa_mple.com/a", "error: couldn't parse the selector string \"exa_mple.com/a\": unable to parse requirement: <nil>: Invalid value: \"exa_mple.com/a\": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"],
  ["/a", "error: couldn't parse the selector string \"/a\": unable to parse requirement: <nil>: Invalid value: \"/a\": prefix part must be non-empty"],
  ["a/", "error: couldn't parse the selector string \"a/\": unable to parse requirement: <nil>: Invalid value: \"a/\": name part must be non-empty; name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"],
  ["a@", "error: couldn't parse the selector string \"a@\": unable to parse requirement: <nil>: Invalid value: \"a@\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"],
  ["a-", "error: couldn't parse the selector string \"a-\": unable to parse requirement: <nil>: Invalid value: \"a-\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"],
  ["a.b_c-D=x", "{\"a.b_c-D\":\"x\"}"],
  ["a=b=c", "error: couldn't parse the selector string \"a=b=c\": found '=', expected: ',' or 'end of string'"],
  ["a=!b", "error: couldn't parse the selector string \"a=!b\": unable to parse requirement: found '!', expected: identifier"],
  ["a!b", "error: couldn't parse the selector string \"a!b\": unable to parse requirement: found '!', expected: in, notin, =, ==, !=, gt, lt"],
  ["a!!=b", "error: couldn't parse the selector string \"a!!=b\": unable to parse requirement: found '!', expected: in, notin, =, ==, !=, gt, lt"],
  ["a=>b", "error: couldn't parse the selector string \"a=>b\": unable to parse requirement: found '>', expected: identifier"],
  ["a>=1", "error: couldn't parse the selector string \"a>=1\": unable to parse requirement: found '=', expected: identifier"],
  ["a=<1", "error: couldn't parse the selector string \"a=<1\": unable to parse requirement: found '<', expected: identifier"],
  ["(a)", "error: couldn't parse the selector string \"(a)\": found '(', expected: !, identifier, or 'end of string'"],
  [")", "error: couldn't parse the selector string \")\": found ')', expected: !, identifier, or 'end of string'"],
  ["!", "error: couldn't parse the selector string \"!\": unable to parse requirement: found '', expected: identifier"],
  ["!!a", "error: couldn't parse the selector string \"!!a\": unable to parse requirement: found '!', expected: identifier"],
  ["!,a", "error: couldn't parse the selector string \"!,a\": unable to parse requirement: found ',', expected: identifier"],
  ["a in a", "error: couldn't parse the selector string \"a in a\": unable to parse requirement: found 'a' expected: '('"],
  ["a in (a b)", "error: couldn't parse the selector string \"a in (a b)\": unable to parse requirement: found 'b', expected: ',' or ')'"],
  ["a in (a)(b)", "error: couldn't parse the selector string \"a in (a)(b)\": found '(', expected: ',' or 'end of string'"],
  ["x=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "error: couldn't parse the selector string \"x=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": unable to parse requirement: values[0][x]: Invalid value: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": must be no more than 63 characters"],
  ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "error: couldn't parse the selector string \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": unable to parse requirement: <nil>: Invalid value: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": name part must be no more than 63 characters"],
  ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "error: match expression [{aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa Exists []}] not supported on this object"],
  ["UPPER.com/a", "error: couldn't parse the selector string \"UPPER.com/a\": unable to parse requirement: <nil>: Invalid value: \"UPPER.com/a\": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"],
  ["a.-b/c", "error: couldn't parse the selector string \"a.-b/c\": unable to parse requirement: <nil>: Invalid value: \"a.-b/c\": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"],
  ["é=1", "error: couldn't parse the selector string \"é=1\": unable to parse requirement: <nil>: Invalid value: \"é\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"],
  ["k=é", "error: couldn't parse the selector string \"k=é\": unable to parse requirement: values[0][k]: Invalid value: \"é\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"],
  ["x in (é)", "error: couldn't parse the selector string \"x in (é)\": unable to parse requirement: values[0][x]: Invalid value: \"é\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"],
  ["a\t=\tb", "{\"a\":\"b\"}"],
  ["a", "error: match expression [{a Exists []}] not supported on this object"],
  ["b=1,a=2,c in (z,y)", "error: match expression [{c In [y z]}] not supported on this object"],
  ["z notin (b),a=1,m", "error: match expression [{m Exists []} {z NotIn [b]}] not supported on this object"],
];

const exprOp: Record<string, string> = { in: "In", notin: "NotIn", exists: "Exists", "!": "DoesNotExist" };

/** kubectl's metav1.ParseToLabelSelector + the Service-only check of `set selector`. */
function renderLikeSetSelector(sel: string): string {
  let reqs: Requirement[];
  try {
    reqs = parseToRequirements(sel);
  } catch (err) {
    assert.ok(err instanceof LabelSelectorError);
    assert.equal(err.code, "InvalidLabelSelector");
    return `error: couldn't parse the selector string "${sel}": ${err.message}`;
  }
  const matchLabels: Record<string, string> = {};
  const exprs: string[] = [];
  for (const r of reqs) {
    if (r.operator === "=" || r.operator === "==") {
      matchLabels[r.key] = r.values[0]!;
      continue;
    }
    if (r.operator === "gt" || r.operator === "lt") return `error: "${r.operator}" isn't supported in label selectors`;
    const op = exprOp[r.operator];
    if (!op) return `error: "${r.operator}" is not a valid label selector operator`;
    exprs.push(`{${r.key} ${op} [${r.values.join(" ")}]}`);
  }
  if (exprs.length > 0) return `error: match expression [${exprs.join(" ")}] not supported on this object`;
  const keys = Object.keys(matchLabels).sort();
  return keys.length === 0 ? "" : JSON.stringify(Object.fromEntries(keys.map((k) => [k, matchLabels[k]])));
}

void test("the parser agrees with kubectl 1.32 on every recorded selector", () => {
  for (const [sel, want] of kubectlSetSelector) assert.equal(renderLikeSetSelector(sel), want, JSON.stringify(sel));
});

void test("canonical string form: requirements sorted by key, set values sorted", () => {
  const cases: [string, string][] = [
    ["", ""],
    ["  ", ""],
    ["x=a,y=b,z=c", "x=a,y=b,z=c"],
    ["z=c,x=a,y=b", "x=a,y=b,z=c"],
    ["x==a", "x==a"],
    ["x!=a", "x!=a"],
    ["x in (c,b,a)", "x in (a,b,c)"],
    ["x in (a,a,b)", "x in (a,b)"],
    ["x notin (b,a)", "x notin (a,b)"],
    ["x notin ()", "x notin ()"],
    ["x in (,a)", "x in (,a)"],
    ["x in ( a , b )", "x in (a,b)"],
    ["x", "x"],
    ["!x", "!x"],
    ["x>1", "x>1"],
    ["x<10", "x<10"],
    ["x=", "x="],
    ["b,!a,c in (z)", "!a,b,c in (z)"],
    ["app=web,env in (prod,dev),!canary", "app=web,!canary,env in (dev,prod)"],
    ["example.com/b=1,a=2", "a=2,example.com/b=1"],
    ["B=1,a=2", "B=1,a=2"],
    ["x=a,x!=b", "x=a,x!=b"],
  ];
  for (const [input, want] of cases) assert.equal(parseSelector(input).toString(), want, input);
  // Canonical strings parse back to themselves.
  for (const [, want] of cases) assert.equal(parseSelector(want).toString(), want, want);
});

void test("matching, including absent keys for != and notin", () => {
  const cases: [string, Record<string, string>, boolean][] = [
    ["", { x: "y" }, true],
    ["", {}, true],
    ["x=y", { x: "y" }, true],
    ["x==y", { x: "y" }, true],
    ["x=y,z=w", { x: "y", z: "w" }, true],
    ["x!=y,z!=w", { x: "z", z: "a" }, true],
    ["notin=in", { notin: "in" }, true],
    ["x", { x: "z" }, true],
    ["x", { x: "" }, true],
    ["!x", { y: "z" }, true],
    ["x>1", { x: "2" }, true],
    ["x<1", { x: "0" }, true],
    ["x<1", { x: "-5" }, true],
    ["x=z", {}, false],
    ["x=y", { x: "z" }, false],
    ["x=y,z=w", { x: "w", z: "w" }, false],
    ["x!=y,z!=w", { x: "z", z: "w" }, false],
    ["x", { y: "z" }, false],
    ["!x", { x: "z" }, false],
    ["x>1", { x: "0" }, false],
    ["x<1", { x: "2" }, false],
    ["x>1", { x: "abc" }, false],
    ["x>1", {}, false],
    ["x!=y", {}, true],
    ["x notin (a,b)", {}, true],
    ["x notin (a,b)", { x: "c" }, true],
    ["x notin (a,b)", { x: "a" }, false],
    ["x in (a,b)", { x: "b" }, true],
    ["x in (a,b)", {}, false],
    ["x in (,a)", { x: "" }, true],
    ["x=", { x: "" }, true],
    ["x=", {}, false],
    ["x!=", {}, true],
    ["x!=", { x: "" }, false],
    ["constructor", {}, false],
    ["!toString", {}, true],
    ["foo=bar,foobar=bar,baz=blah", { foo: "bar", baz: "blah" }, false],
  ];
  for (const [sel, labels, want] of cases) assert.equal(parseSelector(sel).matches(labels), want, `${sel} vs ${JSON.stringify(labels)}`);
  assert.equal(parseSelector("x").matches(undefined), false);
  assert.equal(parseSelector("!x").matches(undefined), true);
  assert.equal(parseSelector("x>9223372036854775806").matches({ x: "9223372036854775807" }), true, "64-bit comparisons are exact");
});

void test("empty, everything and nothing", () => {
  assert.equal(everything().isEmpty(), true);
  assert.equal(everything().matches({ a: "b" }), true);
  assert.equal(nothing().isEmpty(), false);
  assert.equal(nothing().matches({}), false);
  assert.equal(nothing().toString(), "");
  assert.equal(nothing().requirements().selectable, false);
  assert.equal(nothing().add(newRequirement("a", "exists", [])).matches({ a: "1" }), false);
  assert.equal(parseSelector("").isEmpty(), true);
  assert.equal(parseSelector("a").isEmpty(), false);
  assert.equal(selectorFromSet(undefined).isEmpty(), true);
  assert.equal(selectorFromSet({}).isEmpty(), true);
});

void test("selectorFromSet and validatedSelectorFromSet", () => {
  const s = selectorFromSet({ tier: "fe", app: "web" });
  assert.equal(s.toString(), "app=web,tier=fe");
  assert.equal(s.matches({ app: "web", tier: "fe", extra: "1" }), true);
  assert.equal(s.matches({ app: "web" }), false);
  assert.equal(selectorFromSet({ "a@": "b" }).toString(), "a@=b", "no validation");
  assert.equal(validatedSelectorFromSet({ b: "2", a: "1" }).toString(), "a=1,b=2");
  assert.throws(() => validatedSelectorFromSet({ a: "b@" }), (err: unknown) => {
    assert.ok(err instanceof LabelSelectorError);
    assert.match(err.message, /^values\[0\]\[a\]: Invalid value: "b@": a valid label must be/);
    return true;
  });
});

void test("newRequirement reports upstream's field errors", () => {
  const cases: [string, Parameters<typeof newRequirement>[1], string[], string | null][] = [
    ["x1", "in", ["foo"], null],
    ["x2", "notin", ["foo"], null],
    ["x3", "in", [], "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty"],
    ["x4", "=", ["a", "b"], `values: Invalid value: []string{"a", "b"}: exact-match compatibility requires one single value`],
    ["x5", "exists", ["foo"], `values: Invalid value: []string{"foo"}: values set must be empty for exists and does not exist`],
    ["x6", "gt", [], "values: Invalid value: []string{}: for 'Gt', 'Lt' operators, exactly one value is required"],
    ["x7", "lt", ["bar"], `values[0]: Invalid value: "bar": for 'Gt', 'Lt' operators, the value must be an integer`],
    ["x8", "gt", ["1"], null],
    [
      "a".repeat(254),
      "exists",
      [],
      `key: Invalid value: "${"a".repeat(254)}": name part must be no more than 63 characters`,
    ],
  ];
  for (const [key, op, vals, want] of cases) {
    if (want === null) {
      assert.equal(newRequirement(key, op, vals).key, key);
      continue;
    }
    assert.throws(() => newRequirement(key, op, vals), (err: unknown) => {
      assert.ok(err instanceof LabelSelectorError);
      assert.equal(err.message, want, key);
      return true;
    });
  }
  // Several errors aggregate in brackets; a given path prefixes each field.
  assert.throws(() => newRequirement("k@", "in", [], FieldPath.of("spec", "selector")), (err: unknown) => {
    assert.ok(err instanceof LabelSelectorError);
    assert.equal(err.fieldErrors.length, 2);
    assert.match(err.message, /^\[spec\.selector\.key: Invalid value: "k@": .*, spec\.selector\.values: Invalid value: \[\]string\{\}: .*\]$/);
    return true;
  });
});

void test("labelSelectorAsSelector converts metav1.LabelSelector", () => {
  assert.equal(labelSelectorAsSelector(null).isNothing(), true);
  assert.equal(labelSelectorAsSelector(undefined).matches({}), false);
  assert.equal(labelSelectorAsSelector({}).isEmpty(), true);
  assert.equal(labelSelectorAsSelector({ matchLabels: {}, matchExpressions: [] }).matches({ any: "x" }), true);
  const s = labelSelectorAsSelector({
    matchLabels: { tier: "fe", app: "web" },
    matchExpressions: [
      { key: "env", operator: "In", values: ["prod", "dev"] },
      { key: "canary", operator: "DoesNotExist" },
      { key: "track", operator: "NotIn", values: ["beta"] },
      { key: "zone", operator: "Exists" },
    ],
  });
  assert.equal(s.toString(), "app=web,!canary,env in (dev,prod),tier=fe,track notin (beta),zone");
  assert.equal(s.matches({ app: "web", tier: "fe", env: "dev", zone: "a" }), true);
  assert.equal(s.matches({ app: "web", tier: "fe", env: "dev", zone: "a", canary: "1" }), false);
  assert.equal(s.matches({ app: "web", tier: "fe", env: "dev", zone: "a", track: "beta" }), false);
  assert.equal(s.matches({ app: "web", tier: "fe", env: "qa", zone: "a" }), false);
  // A key present in both matchLabels and an expression: both requirements stay, matchLabels first.
  assert.equal(labelSelectorAsSelector({ matchLabels: { a: "1" }, matchExpressions: [{ key: "a", operator: "Exists" }] }).toString(), "a=1,a");

  const errCases: [Parameters<typeof labelSelectorAsSelector>[0], RegExp][] = [
    [{ matchExpressions: [{ key: "a", operator: "Foo" }] }, /^"Foo" is not a valid label selector operator$/],
    [{ matchExpressions: [{ key: "a", operator: "in", values: ["x"] }] }, /^"in" is not a valid label selector operator$/],
    [{ matchExpressions: [{ key: "a", operator: "In" }] }, /^values: Invalid value: \[\]string\{\}: for 'in', 'notin' operators, values set can't be empty$/],
    [{ matchExpressions: [{ key: "a", operator: "Exists", values: ["x"] }] }, /values set must be empty for exists and does not exist$/],
    [{ matchLabels: { "a@": "b" } }, /^key: Invalid value: "a@": name part must consist/],
  ];
  for (const [ps, re] of errCases) {
    assert.throws(() => labelSelectorAsSelector(ps), (err: unknown) => err instanceof LabelSelectorError && re.test(err.message), JSON.stringify(ps));
  }
  assert.equal(formatLabelSelector({ matchLabels: { b: "2", a: "1" } }), "a=1,b=2");
  assert.equal(formatLabelSelector({}), "<none>");
  assert.equal(formatLabelSelector(null), "<none>");
  assert.equal(formatLabelSelector({ matchExpressions: [{ key: "a", operator: "Foo" }] }), "<error>");
});

void test("requiresExactMatch and add", () => {
  const s = parseSelector("app=web,tier in (fe),env in (a,b),x!=y,z==1");
  assert.equal(s.requiresExactMatch("app"), "web");
  assert.equal(s.requiresExactMatch("tier"), "fe");
  assert.equal(s.requiresExactMatch("z"), "1");
  assert.equal(s.requiresExactMatch("env"), undefined);
  assert.equal(s.requiresExactMatch("x"), undefined);
  assert.equal(s.requiresExactMatch("missing"), undefined);
  const t = parseSelector("b=1").add(newRequirement("a", "notin", ["x", "w"]));
  assert.equal(t.toString(), "a notin (w,x),b=1");
  assert.equal(requirementString(newRequirement("k", "in", ["b", "a"])), "k in (a,b)");
  assert.equal(s.requirements().requirements.length, 5);
});

void test("label sets print as upstream", () => {
  assert.equal(formatLabels({}), "<none>");
  assert.equal(formatLabels(undefined), "<none>");
  assert.equal(formatLabels({ b: "2", a: "1" }), "a=1,b=2");
  assert.equal(labelSetString({ "app.kubernetes.io/name": "x", app: "y" }), "app.kubernetes.io/name=x,app=y");
});

void test("a NUL byte reads like the end of input, as in upstream's byte lexer", () => {
  assert.equal(parseSelector("a=b \0c=d").toString(), "a=b", "at a token start it ends the selector");
  assert.throws(() => parseSelector("a=b\0c=d"), /^LabelSelectorError: found 'c', expected: ',' or 'end of string'$/, "inside a token it only ends that token");
});

test("labelsEqual: the same keys and values, in any order; absent is empty", () => {
  assert.ok(labelsEqual({ a: "1", b: "2" }, { b: "2", a: "1" }));
  assert.ok(labelsEqual(undefined, {}));
  assert.ok(labelsEqual({}, undefined));
  assert.ok(!labelsEqual({ a: "1" }, { a: "2" }));
  assert.ok(!labelsEqual({ a: "1" }, { a: "1", b: "2" }));
  assert.ok(!labelsEqual({ a: "1", b: "2" }, { a: "1" }));
  assert.ok(!labelsEqual({ a: "" }, undefined));
});
