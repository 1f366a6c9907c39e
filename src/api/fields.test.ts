import { test } from "node:test";
import assert from "node:assert/strict";
import {
  escapeValue,
  everythingFields,
  fieldLabelConversion,
  fieldLabelNotSupported,
  fieldSelectorFromSet,
  FieldSelectorError,
  nothingFields,
  notAKnownFieldSelector,
  oneTermEqualSelector,
  oneTermNotEqualSelector,
  parseFieldSelector,
  unescapeValue,
} from "./fields.js";

void test("parse and print: terms sorted as raw strings, == printed as =, values re-escaped", () => {
  const cases: [string, string][] = [
    ["", ""],
    ["x=a,y=b,z=c", "x=a,y=b,z=c"],
    ["z=c,x=a,y=b", "x=a,y=b,z=c"],
    ["x!=a,y=b", "x!=a,y=b"],
    ["x==a", "x=a"],
    ["metadata.name=foo", "metadata.name=foo"],
    ["spec.nodeName=", "spec.nodeName="],
    ["spec.nodeName!=", "spec.nodeName!="],
    ["x=a||y\\=b", "x=a||y\\=b"],
    ["x=a\\=\\=b", "x=a\\=\\=b"],
    ["k=\\,,k2=v2", "k2=v2,k=\\,"],
    ["k=\\\\,k2=v2", "k2=v2,k=\\\\"],
    ["a=a,", "a=a"],
    [",a=a", "a=a"],
    ["a=1,,b=2", "a=1,b=2"],
    ["함=수,목=록", "목=록,함=수"],
    ["a==", "a="],
    [" a = b ", " a = b "],
    ["=v", "=v"],
  ];
  for (const [input, want] of cases) {
    const sel = parseFieldSelector(input);
    assert.equal(sel.toString(), want, input);
    assert.equal(parseFieldSelector(want).toString(), want, `round trip of ${want}`);
  }
  assert.deepEqual(parseFieldSelector("b==2,a!=1").requirements(), [
    { field: "a", operator: "!=", value: "1" },
    { field: "b", operator: "=", value: "2" },
  ]);
  assert.deepEqual(parseFieldSelector("x=a\\,b\\=c\\\\").requirements(), [{ field: "x", operator: "=", value: "a,b=c\\" }]);
});

void test("parse errors carry upstream's messages", () => {
  const cases: [string, string][] = [
    ["a", "invalid selector: 'a'; can't understand 'a'"],
    ["x=a,b", "invalid selector: 'x=a,b'; can't understand 'b'"],
    ["x=a=b", "invalid field selector: unescaped character in value: 61"],
    ["a!==b", "invalid field selector: unescaped character in value: 61"],
    ["a===b", "invalid field selector: unescaped character in value: 61"],
    ["x=a,b=c,d", "invalid selector: 'x=a,b=c,d'; can't understand 'd'"],
    ["x=\\a", "invalid field selector: invalid escape sequence: \\a"],
    ["x=a\\", "invalid field selector: invalid escape sequence: \\"],
    ["x=a\\\\\\", "invalid field selector: invalid escape sequence: \\"],
  ];
  for (const [input, msg] of cases) {
    assert.throws(
      () => parseFieldSelector(input),
      (err: unknown) => err instanceof FieldSelectorError && err.code === "InvalidFieldSelector" && err.message === msg,
      input,
    );
  }
});

void test("escapeValue and unescapeValue", () => {
  const pairs: [string, string][] = [
    ["", ""],
    ["a", "a"],
    ["=", "\\="],
    [",", "\\,"],
    ["\\", "\\\\"],
    ["\\=\\,\\", "\\\\\\=\\\\\\,\\\\"],
    ["한=,", "한\\=\\,"],
  ];
  for (const [raw, escaped] of pairs) {
    assert.equal(escapeValue(raw), escaped);
    assert.equal(unescapeValue(escaped), raw);
  }
  for (const bad of ["\\", "\\\\\\", "\\a"]) assert.throws(() => unescapeValue(bad), /invalid escape sequence/);
  assert.throws(() => unescapeValue("a,b"), /unescaped character in value: 44/);
});

void test("matching reads missing fields as empty", () => {
  const pod = { "metadata.name": "web-1", "metadata.namespace": "default", "spec.nodeName": "", "status.phase": "Running" };
  const cases: [string, Record<string, string>, boolean][] = [
    ["", pod, true],
    ["metadata.name=web-1", pod, true],
    ["metadata.name==web-1", pod, true],
    ["metadata.name=web-2", pod, false],
    ["metadata.name!=web-2", pod, true],
    ["metadata.name!=web-1", pod, false],
    ["spec.nodeName=", pod, true],
    ["spec.nodeName!=", pod, false],
    ["spec.nodeName=", {}, true],
    ["status.phase!=Succeeded,status.phase!=Failed", pod, true],
    ["status.phase!=Succeeded,status.phase!=Running", pod, false],
    ["metadata.name=web-1,metadata.namespace=default", pod, true],
    ["metadata.name=web-1,metadata.namespace=other", pod, false],
    ["constructor=", {}, true],
    ["x=a\\,b", { x: "a,b" }, true],
  ];
  for (const [sel, fields, want] of cases) assert.equal(parseFieldSelector(sel).matches(fields), want, `${sel} vs ${JSON.stringify(fields)}`);
});

void test("empty, nothing, constructors", () => {
  assert.equal(parseFieldSelector("").isEmpty(), true);
  assert.equal(parseFieldSelector(",,").isEmpty(), true);
  assert.equal(everythingFields().matches({}), true);
  assert.equal(nothingFields().matches({}), false);
  assert.equal(nothingFields().isEmpty(), false);
  assert.equal(nothingFields().isNothing(), true);
  assert.equal(oneTermEqualSelector("metadata.name", "a,b").toString(), "metadata.name=a\\,b");
  assert.equal(oneTermNotEqualSelector("status.phase", "Running").toString(), "status.phase!=Running");
  assert.equal(fieldSelectorFromSet({ "metadata.name": "x" }).toString(), "metadata.name=x");
  assert.equal(fieldSelectorFromSet(undefined).isEmpty(), true);
  const both = oneTermEqualSelector("a", "1").and(oneTermNotEqualSelector("b", "2"));
  assert.equal(both.toString(), "a=1,b!=2");
  assert.equal(both.and(nothingFields()).isNothing(), true);
});

void test("field names and exact-match extraction for the server's fast paths", () => {
  const s = parseFieldSelector("metadata.namespace=ns,metadata.name=foo,status.phase!=Running,metadata.name!=bar");
  assert.deepEqual(s.fieldNames(), ["metadata.name", "metadata.namespace", "status.phase"]);
  assert.equal(s.requiresExactMatch("metadata.name"), "foo");
  assert.equal(s.requiresExactMatch("metadata.namespace"), "ns");
  assert.equal(s.requiresExactMatch("status.phase"), undefined, "!= never counts");
  assert.equal(s.requiresExactMatch("spec.nodeName"), undefined);
  assert.equal(parseFieldSelector("metadata.name!=a,metadata.name=b").requiresExactMatch("metadata.name"), "b");
  assert.equal(parseFieldSelector("spec.nodeName=").requiresExactMatch("spec.nodeName"), "");
});

void test("field label conversions reject unsupported labels with upstream's messages", () => {
  const pods = fieldLabelConversion(
    ["metadata.name", "metadata.namespace", "spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP", "status.podIPs", "status.nominatedNodeName"],
    { "spec.host": "spec.nodeName" },
  );
  assert.equal(parseFieldSelector("spec.nodeName=n1,status.phase=Running", pods).toString(), "spec.nodeName=n1,status.phase=Running");
  assert.equal(parseFieldSelector("spec.host=n1", pods).toString(), "spec.nodeName=n1", "legacy label renamed");
  assert.throws(
    () => parseFieldSelector("spec.foo=bar", pods),
    (err: unknown) => err instanceof FieldSelectorError && err.code === "FieldLabelNotSupported" && err.message === "field label not supported: spec.foo" && err.label === "spec.foo",
  );
  const deflt = fieldLabelConversion();
  assert.equal(parseFieldSelector("metadata.name=x", deflt).toString(), "metadata.name=x");
  assert.throws(
    () => parseFieldSelector("spec.replicas=1", deflt),
    (err: unknown) => err instanceof FieldSelectorError && err.message === '"spec.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"',
  );
  assert.equal(fieldLabelNotSupported("x").message, "field label not supported: x");
  assert.equal(notAKnownFieldSelector('a"b').message, '"a\\"b" is not a known field selector: only "metadata.name", "metadata.namespace"');
  // A transform that blanks both sides drops the term, as upstream's Transform does.
  const dropped = parseFieldSelector("a=1,b=2").transform((f, v) => (f === "a" ? ["", ""] : [f, v]));
  assert.equal(dropped.toString(), "b=2");
  assert.equal(parseFieldSelector("a=1").transform(() => ["", ""]).isEmpty(), true);
});
