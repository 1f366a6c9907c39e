import { test } from "node:test";
import assert from "node:assert/strict";
import {
  aggregateMessage,
  byteLength,
  childPath,
  compareGoStrings,
  duplicate,
  FieldError,
  FieldPath,
  forbidden,
  formatBadValue,
  goFormatNumber,
  goQuote,
  GoRendered,
  groupKindString,
  internalError,
  invalid,
  invalidMessage,
  newInvalid,
  newPath,
  notFound,
  notSupported,
  required,
  tooLong,
  tooMany,
  typeInvalid,
} from "./fielderrors.js";

void test("FieldPath renders children, indexes and keys as upstream", () => {
  const cases: [FieldPath, string][] = [
    [FieldPath.of("spec"), "spec"],
    [FieldPath.of("spec", "template", "spec"), "spec.template.spec"],
    [FieldPath.of("spec").child("containers").index(0).child("name"), "spec.containers[0].name"],
    [FieldPath.of("metadata").child("labels").key("x"), "metadata.labels[x]"],
    [FieldPath.of("metadata").child("annotations").key("example.com/a b"), "metadata.annotations[example.com/a b]"],
    [FieldPath.of("spec").child("a", "b").index(3).index(4).key("k").child("c"), "spec.a.b[3][4][k].c"],
    [FieldPath.of("items").index(-1), "items[-1]"],
    [FieldPath.of(""), "[]"],
    [childPath(null, "key"), "key"],
    [newPath("spec").child("containers").index(0).key("x"), "spec.containers[0][x]"],
    [childPath(FieldPath.of("selector"), "values"), "selector.values"],
  ];
  for (const [p, want] of cases) assert.equal(p.toString(), want);
  const base = FieldPath.of("spec");
  const a = base.child("a");
  const b = base.child("b");
  assert.equal(a.toString(), "spec.a");
  assert.equal(b.toString(), "spec.b", "builders never mutate the parent");
  assert.equal(a.child("x").root().toString(), "spec");
});

void test("error constructors produce upstream's type strings and messages", () => {
  const p = FieldPath.of("spec").child("replicas");
  const cases: [FieldError, string, string][] = [
    [invalid(p, -1, "must be greater than or equal to 0"), "FieldValueInvalid", "spec.replicas: Invalid value: -1: must be greater than or equal to 0"],
    [required(FieldPath.of("metadata", "name"), "name or generateName is required"), "FieldValueRequired", "metadata.name: Required value: name or generateName is required"],
    [required(FieldPath.of("metadata", "namespace")), "FieldValueRequired", "metadata.namespace: Required value"],
    [
      notSupported(FieldPath.of("spec", "restartPolicy"), "Sometimes", ["Always", "OnFailure", "Never"]),
      "FieldValueNotSupported",
      'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
    ],
    [notSupported(FieldPath.of("x"), "y", []), "FieldValueNotSupported", 'x: Unsupported value: "y"'],
    [duplicate(FieldPath.of("spec", "ports").index(1), "http"), "FieldValueDuplicate", 'spec.ports[1]: Duplicate value: "http"'],
    [forbidden(FieldPath.of("metadata", "namespace"), "not allowed on this type"), "FieldValueForbidden", "metadata.namespace: Forbidden: not allowed on this type"],
    [tooLong(FieldPath.of("metadata", "annotations"), 262144), "FieldValueTooLong", "metadata.annotations: Too long: may not be more than 262144 bytes"],
    [tooLong(FieldPath.of("x"), -1), "FieldValueTooLong", "x: Too long: value is too long"],
    [tooMany(FieldPath.of("items"), 5, 3), "FieldValueTooMany", "items: Too many: 5: must have at most 3 items"],
    [tooMany(FieldPath.of("items"), -1, 3), "FieldValueTooMany", "items: Too many: must have at most 3 items"],
    [tooMany(FieldPath.of("items"), 5, -1), "FieldValueTooMany", "items: Too many: 5: has too many items"],
    [notFound(FieldPath.of("spec", "volume"), "data"), "FieldValueNotFound", 'spec.volume: Not found: "data"'],
    [internalError(FieldPath.of("spec"), new Error("boom")), "InternalError", "spec: Internal error: boom"],
    [typeInvalid(FieldPath.of("spec", "replicas"), "three", "must be an integer"), "FieldValueTypeInvalid", 'spec.replicas: Invalid value: "three": must be an integer'],
    [invalid(null, "a@", "bad key"), "FieldValueInvalid", '<nil>: Invalid value: "a@": bad key'],
    [invalid(p, "x", ""), "FieldValueInvalid", 'spec.replicas: Invalid value: "x"'],
  ];
  for (const [e, type, msg] of cases) {
    assert.equal(e.type, type, msg);
    assert.equal(e.toString(), msg);
    assert.equal(e.body(), msg.slice(e.field.length + 2));
  }
});

void test("bad values print as Go prints the upstream value", () => {
  const cases: [unknown, string][] = [
    ["abc", '"abc"'],
    ['say "hi"\\', '"say \\"hi\\"\\\\"'],
    ["tab\there\nnl", '"tab\\there\\nnl"'],
    ["\x00\x1f\x7f", '"\\x00\\x1f\\x7f"'],
    ["é ü 日本", '"é ü 日本"'],
    ["\u00a0", '"\\u00a0"'],
    ["\u200b", '"\\u200b"'],
    ["😀", '"😀"'],
    ["\u{e0001}", '"\\U000e0001"'],
    ["\ud800", '"\ufffd"'],
    [5, "5"],
    [-1, "-1"],
    [0, "0"],
    [2147483648, "2147483648"],
    [1.5, "1.5"],
    [0.0001, "0.0001"],
    [0.00001, "1e-05"],
    [1234567.5, "1.2345675e+06"],
    [123456.5, "123456.5"],
    [-2.25, "-2.25"],
    [10n ** 20n, "100000000000000000000"],
    [true, "true"],
    [false, "false"],
    [null, "null"],
    [undefined, "null"],
    [["a", "b"], '[]string{"a", "b"}'],
    [[], "[]string{}"],
    [{ b: "2", a: "1" }, 'map[string]string{"a":"1", "b":"2"}'],
    [new GoRendered('intstr.IntOrString{Type:1, IntVal:0, StrVal:"x"}'), 'intstr.IntOrString{Type:1, IntVal:0, StrVal:"x"}'],
    [{ n: 1 }, '{"n":1}'],
    [[1, 2], "[1,2]"],
  ];
  for (const [v, want] of cases) assert.equal(formatBadValue(v), want, JSON.stringify(String(v)));
});

void test("goFormatNumber follows strconv 'g' shortest for fractions", () => {
  const cases: [number, string][] = [
    [0.5, "0.5"],
    [0.1, "0.1"],
    [1e-7, "1e-07"],
    [1.5e-10, "1.5e-10"],
    [999999.5, "999999.5"],
    [1e21, "1e+21"],
    [-1e300, "-1e+300"],
    [NaN, "NaN"],
    [Infinity, "+Inf"],
    [-Infinity, "-Inf"],
  ];
  for (const [n, want] of cases) assert.equal(goFormatNumber(n), want, String(n));
});

void test("goQuote matches strconv.Quote for the escapes it defines", () => {
  assert.equal(goQuote(""), '""');
  assert.equal(goQuote("\x07\b\f\v\r"), '"\\a\\b\\f\\v\\r"');
  assert.equal(goQuote("a'b"), `"a'b"`);
});

void test("aggregate and NewInvalid messages follow upstream", () => {
  const e1 = invalid(FieldPath.of("spec", "replicas"), -1, "must be greater than or equal to 0");
  const e2 = required(FieldPath.of("spec", "selector"), "");
  assert.equal(aggregateMessage([]), "");
  assert.equal(aggregateMessage([e1]), e1.toString());
  assert.equal(aggregateMessage([e1, e2]), `[${e1.toString()}, ${e2.toString()}]`);
  assert.equal(aggregateMessage([e1, e1]), e1.toString(), "a duplicated message collapses to one, without brackets");
  assert.equal(aggregateMessage([e1, e2, e1]), `[${e1.toString()}, ${e2.toString()}]`);

  assert.equal(groupKindString({ group: "", kind: "Pod" }), "Pod");
  assert.equal(groupKindString({ group: "apps", kind: "Deployment" }), "Deployment.apps");
  assert.equal(
    invalidMessage({ group: "apps", kind: "Deployment" }, "web", [e1]),
    'Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0',
  );
  assert.equal(invalidMessage({ group: "", kind: "Pod" }, "p", []), 'Pod "p" is invalid');
  assert.equal(
    invalidMessage({ group: "", kind: "ConfigMap" }, 'we"ird', [e1, e2]),
    `ConfigMap "we\\"ird" is invalid: [${e1.toString()}, ${e2.toString()}]`,
  );
});

void test("InvalidObjectError carries code Invalid and builds the 422 Status", () => {
  const e1 = invalid(FieldPath.of("spec", "replicas"), -1, "must be greater than or equal to 0");
  const e2 = required(FieldPath.of("metadata", "name"), "name or generateName is required");
  const err = newInvalid({ group: "apps", kind: "Deployment" }, "web", [e1, e2]);
  assert.equal(err.code, "Invalid");
  assert.ok(err instanceof Error);
  const status = err.toStatus();
  assert.deepEqual(status, {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: err.message,
    reason: "Invalid",
    details: {
      name: "web",
      group: "apps",
      kind: "Deployment",
      causes: [
        { reason: "FieldValueInvalid", message: "Invalid value: -1: must be greater than or equal to 0", field: "spec.replicas" },
        { reason: "FieldValueRequired", message: "Required value: name or generateName is required", field: "metadata.name" },
      ],
    },
    code: 422,
  });
  // Go serializes struct fields in declaration order; kubectl does not care, but diffs do.
  assert.deepEqual(Object.keys(status), ["kind", "apiVersion", "metadata", "status", "message", "reason", "details", "code"]);
  const core = newInvalid({ group: "", kind: "Pod" }, "p", []).toStatus();
  assert.deepEqual(core.details, { name: "p", kind: "Pod" });
  assert.equal(core.message, 'Pod "p" is invalid');
});

void test("compareGoStrings orders by code point like Go's byte order", () => {
  const words = ["b", "a", "\uffff", "\u{10000}", "ab", "", "B"];
  assert.deepEqual([...words].sort(compareGoStrings), ["", "B", "a", "ab", "b", "\uffff", "\u{10000}"]);
  assert.equal(compareGoStrings("x", "x"), 0);
});

void test("byteLength counts UTF-8 bytes", () => {
  const cases: [string, number][] = [
    ["", 0],
    ["abc", 3],
    ["é", 2],
    ["日", 3],
    ["😀", 4],
    ["\ud800", 3],
  ];
  for (const [s, n] of cases) assert.equal(byteLength(s), n, s);
});
