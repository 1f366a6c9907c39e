// x-kubernetes-validations: compilation at CRD time and evaluation on custom resources, with
// the examples of the Kubernetes docs ("Validation rules" of CustomResourceDefinitions) and the
// wording of apiextensions-apiserver's pkg/apiserver/schema/cel.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Environment } from "@marcbachmann/cel-js";
import type { JSONSchemaProps } from "kubernetes-types/apiextensions/v1.js";
import { FieldPath } from "../fielderrors.js";
import { compileCelRules, escapePropertyName, validateCel, validFieldPath } from "./cel.js";
import { compileSchema, validateObject, validateObjectUpdate, validateStatusUpdate, validateStructuralSchema } from "./schema.js";

type Obj = Record<string, unknown>;

const P = "spec.versions[0].schema.openAPIV3Schema";
const base = (): FieldPath => FieldPath.of("spec", "versions").index(0).child("schema", "openAPIV3Schema");

function crdErrors(schema: object, warnings?: string[]): string[] {
  return validateStructuralSchema(schema as JSONSchemaProps, base(), warnings ? { warnings } : {}).map(String);
}

/** A resource schema whose spec has the given properties and rules. */
function specSchema(props: Record<string, object>, rules: object[] = [], extra: object = {}): JSONSchemaProps {
  return { type: "object", properties: { spec: { type: "object", properties: props, "x-kubernetes-validations": rules, ...extra } } } as JSONSchemaProps;
}

function resource(spec: unknown, more: Obj = {}): Obj {
  return { apiVersion: "stable.example.com/v1", kind: "CronTab", metadata: { name: "a", namespace: "default" }, spec, ...more };
}

function create(schema: JSONSchemaProps, obj: Obj): string[] {
  return validateObject(compileSchema(schema), obj).map(String);
}

function update(schema: JSONSchemaProps, obj: Obj, old: Obj, warnings: string[] = []): string[] {
  return validateObjectUpdate(compileSchema(schema), obj, old, { warnings }).map(String);
}

const replicas = { replicas: { type: "integer" }, minReplicas: { type: "integer" }, maxReplicas: { type: "integer" } };

describe("validation rules on create", () => {
  it("the docs' replicas rules: message, and `failed rule:` without one", () => {
    const s = specSchema(replicas, [
      { rule: "self.minReplicas <= self.replicas", message: "replicas should be greater than or equal to minReplicas." },
      { rule: "self.replicas <= self.maxReplicas" },
    ]);
    assert.deepEqual(create(s, resource({ replicas: 5, minReplicas: 1, maxReplicas: 10 })), []);
    assert.deepEqual(create(s, resource({ replicas: 11, minReplicas: 12, maxReplicas: 10 })), [
      `spec: Invalid value: "object": replicas should be greater than or equal to minReplicas.`,
      `spec: Invalid value: "object": failed rule: self.replicas <= self.maxReplicas`,
    ]);
  });

  it("a missing field is an evaluation error, has() guards it", () => {
    const s = specSchema(replicas, [{ rule: "self.minReplicas <= self.replicas" }, { rule: "!has(self.maxReplicas) || self.replicas <= self.maxReplicas" }]);
    assert.deepEqual(create(s, resource({ replicas: 3 })), [`spec: Invalid value: "object": no such key: minReplicas evaluating rule: self.minReplicas <= self.replicas`]);
  });

  it("rules on list items, on lists and on maps: `self` is each value, paths are the values'", () => {
    const s = specSchema({
      tags: { type: "array", items: { type: "string", "x-kubernetes-validations": [{ rule: "self.size() < 10", message: "too long" }] }, "x-kubernetes-validations": [{ rule: "self.all(x, x.size() > 0)" }] },
      labels: { type: "object", additionalProperties: { type: "string" }, "x-kubernetes-validations": [{ rule: "self.all(k, k.startsWith('x-'))", message: "keys start with x-" }, { rule: "'x-a' in self" }] },
      ports: { type: "array", items: { type: "object", properties: { name: { type: "string" }, port: { type: "integer" } }, "x-kubernetes-validations": [{ rule: "self.port > 0 && self.name != ''" }] } },
    });
    assert.deepEqual(create(s, resource({ tags: ["ok", "", "waytoolongvalue"], labels: { "x-a": "1" }, ports: [{ name: "a", port: 1 }] })), [
      `spec.tags: Invalid value: "array": failed rule: self.all(x, x.size() > 0)`,
      `spec.tags[2]: Invalid value: "string": too long`,
    ]);
    assert.deepEqual(create(s, resource({ labels: { b: "1" }, ports: [{ name: "a", port: 1 }, { name: "", port: 0 }] })), [
      `spec.labels: Invalid value: "object": keys start with x-`,
      `spec.labels: Invalid value: "object": failed rule: 'x-a' in self`,
      `spec.ports[1]: Invalid value: "object": failed rule: self.port > 0 && self.name != ''`,
    ]);
  });

  it("the standard library: exists, exists_one, map, filter, string functions, optionals", () => {
    const s = specSchema({ items: { type: "array", items: { type: "string" } }, name: { type: "string" }, d: { type: "number" } }, [
      { rule: "self.items.exists(i, i == 'a')" },
      { rule: "self.items.exists_one(i, i.contains('b'))" },
      { rule: "self.items.map(i, i + '!').filter(i, i.endsWith('c!')).size() == 1" },
      { rule: "self.name.startsWith('my-') && self.name.matches('^[a-z-]+$')" },
      { rule: "self.?d.orValue(1.0) > 0.5" },
    ]);
    assert.deepEqual(create(s, resource({ items: ["a", "b", "c"], name: "my-name" })), []);
    assert.deepEqual(create(s, resource({ items: ["b", "bb"], name: "my-name", d: 0.1 })), [
      `spec: Invalid value: "object": failed rule: self.items.exists(i, i == 'a')`,
      `spec: Invalid value: "object": failed rule: self.items.exists_one(i, i.contains('b'))`,
      `spec: Invalid value: "object": failed rule: self.items.map(i, i + '!').filter(i, i.endsWith('c!')).size() == 1`,
      `spec: Invalid value: "object": failed rule: self.?d.orValue(1.0) > 0.5`,
    ]);
  });

  it("messageExpression, reason and fieldPath", () => {
    const s = specSchema({ x: { type: "integer" }, m: { type: "object", additionalProperties: { type: "string" } } }, [
      { rule: "self.x <= 10", messageExpression: "'x is ' + string(self.x) + ', at most 10'" },
      { rule: "self.x != 11", reason: "FieldValueForbidden", fieldPath: ".x", message: "x may not be 11" },
      { rule: "has(self.m)", reason: "FieldValueRequired", message: "m is required" },
      { rule: "self.x != 12", reason: "FieldValueDuplicate" },
      { rule: "!has(self.m) || !('a' in self.m) || self.m.a != 'b'", fieldPath: ".m['a']" },
    ]);
    assert.deepEqual(create(s, resource({ x: 11 })), [
      `spec: Invalid value: "object": x is 11, at most 10`,
      `spec.x: Forbidden: x may not be 11`,
      `spec: Required value: m is required`,
    ]);
    assert.deepEqual(create(s, resource({ x: 12, m: { a: "b" } })), [`spec: Invalid value: "object": x is 12, at most 10`, `spec: Duplicate value: "object"`, `spec.m[a]: Invalid value: "object": failed rule: !has(self.m) || !('a' in self.m) || self.m.a != 'b'`]);
  });

  it("a messageExpression that fails or yields nothing falls back to the message", () => {
    const s = specSchema({ x: { type: "integer" } }, [{ rule: "self.x < 0", message: "negative only", messageExpression: "self.x == 1 ? '' : string(self.y)" }]);
    assert.deepEqual(create(s, resource({ x: 1 })), [`spec: Invalid value: "object": negative only`]);
  });

  it("the root sees apiVersion, kind and metadata.name/generateName only", () => {
    const s: JSONSchemaProps = {
      type: "object",
      properties: { spec: { type: "object", properties: { prefix: { type: "string" } } } },
      "x-kubernetes-validations": [{ rule: "self.metadata.name.startsWith(self.spec.prefix)", messageExpression: "self.kind + ' ' + self.metadata.name + ' must start with ' + self.spec.prefix" }],
    } as JSONSchemaProps;
    assert.deepEqual(create(s, resource({ prefix: "a" })), []);
    assert.deepEqual(create(s, resource({ prefix: "b" })), [`<nil>: Invalid value: "object": CronTab a must start with b`]);
    assert.match(crdErrors({ ...s, "x-kubernetes-validations": [{ rule: "self.metadata.namespace == 'x'" }] }).join(), /undefined field 'namespace'/);
  });

  it("int-or-string is dyn, types checked at run time", () => {
    const s = specSchema({ v: { "x-kubernetes-int-or-string": true, "x-kubernetes-validations": [{ rule: "type(self) == int ? self < 5 : self.endsWith('%')" }] } });
    assert.deepEqual(create(s, resource({ v: 3 })), []);
    assert.deepEqual(create(s, resource({ v: "50%" })), []);
    assert.deepEqual(create(s, resource({ v: 7 })), [`spec.v: Invalid value: "": failed rule: type(self) == int ? self < 5 : self.endsWith('%')`]);
  });

  it("date-time and duration formats are timestamps and durations", () => {
    const s = specSchema({
      at: { type: "string", format: "date-time", "x-kubernetes-validations": [{ rule: "self > timestamp('2020-01-01T00:00:00Z')" }] },
      every: { type: "string", format: "duration", "x-kubernetes-validations": [{ rule: "self >= duration('1m')" }] },
    });
    assert.deepEqual(create(s, resource({ at: "2024-05-01T10:00:00Z", every: "1h" })), []);
    assert.deepEqual(create(s, resource({ at: "2019-05-01T10:00:00Z", every: "30s" })), [
      `spec.at: Invalid value: "string": failed rule: self > timestamp('2020-01-01T00:00:00Z')`,
      `spec.every: Invalid value: "string": failed rule: self >= duration('1m')`,
    ]);
  });

  it("Kubernetes library functions: lists, quantity, url, ip, format", () => {
    const s = specSchema({
      endpoint: { type: "string", "x-kubernetes-validations": [{ rule: "isURL(self) && url(self).getScheme() == 'https'", message: "an https URL" }] },
      address: { type: "string", "x-kubernetes-validations": [{ rule: "isIP(self) && ip(self).family() == 4", message: "an IPv4 address" }] },
      host: { type: "string", "x-kubernetes-validations": [{ rule: "!format.dns1123Label().validate(self).hasValue()", message: "a DNS label" }] },
      nums: { type: "array", items: { type: "integer" }, "x-kubernetes-validations": [{ rule: "self.isSorted() && self.sum() < 10", message: "sorted, summing under 10" }] },
      memory: { type: "string", "x-kubernetes-validations": [{ rule: "isQuantity(self) && quantity(self).isLessThan(quantity('1Gi'))", message: "under 1Gi" }] },
    });
    assert.deepEqual(create(s, resource({ nums: [1, 2, 3], memory: "512Mi", endpoint: "https://example.com/x", address: "10.0.0.1", host: "web-1" })), []);
    assert.deepEqual(create(s, resource({ nums: [3, 1], memory: "2Gi", endpoint: "http://example.com", address: "::1", host: "Web_1" })), [
      `spec.nums: Invalid value: "array": sorted, summing under 10`,
      `spec.memory: Invalid value: "string": under 1Gi`,
      `spec.endpoint: Invalid value: "string": an https URL`,
      `spec.address: Invalid value: "string": an IPv4 address`,
      `spec.host: Invalid value: "string": a DNS label`,
    ]);
  });

  it("an embedded resource is a resource root: apiVersion, kind, metadata.name and its own fields", () => {
    const s = specSchema({
      template: {
        type: "object",
        "x-kubernetes-embedded-resource": true,
        "x-kubernetes-preserve-unknown-fields": true,
        properties: { spec: { type: "object", properties: { size: { type: "integer" } } } },
        "x-kubernetes-validations": [{ rule: "self.kind == 'Pod' && self.metadata.name.size() > 0 && self.spec.size > 0" }],
      },
    });
    assert.deepEqual(create(s, resource({ template: { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { size: 1 } } })), []);
    assert.deepEqual(create(s, resource({ template: { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { size: 0 } } })), [
      `spec.template: Invalid value: "object": failed rule: self.kind == 'Pod' && self.metadata.name.size() > 0 && self.spec.size > 0`,
    ]);
  });

  it("a request's evaluation budget runs out with upstream's message", () => {
    const s = specSchema({ big: { type: "array", items: { type: "integer" }, "x-kubernetes-validations": [{ rule: "self.all(x, x >= 0)" }, { rule: "self.size() > 0" }] } });
    const v = compileCelRules(s).validator!;
    const obj = resource({ big: Array.from({ length: 100 }, (_, i) => i) });
    assert.deepEqual(validateCel(v, obj, null, { budget: { remaining: 150 } }).map(String), [
      `spec.big: Invalid value: "array": validation failed due to running out of cost budget, no further validation rules will be run`,
    ]);
    assert.deepEqual(validateCel(v, obj, null, { budget: { remaining: 250 } }).map(String), []);
  });

  it("a blocking schema error skips the rules, as upstream", () => {
    const s = specSchema(replicas, [{ rule: "self.replicas < 0" }]);
    assert.deepEqual(create(s, resource({ replicas: "many" })), [
      `spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"`,
      `<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation`,
    ]);
  });
});

describe("transition rules and ratcheting on update", () => {
  it("`self == oldSelf` immutability with the docs' message", () => {
    const s = specSchema({ x: { type: "string", "x-kubernetes-validations": [{ rule: "self == oldSelf", message: "Value is immutable" }] } });
    assert.deepEqual(create(s, resource({ x: "a" })), [], "transition rules do not run on create");
    assert.deepEqual(update(s, resource({ x: "a" }), resource({ x: "a" })), []);
    assert.deepEqual(update(s, resource({ x: "b" }), resource({ x: "a" })), [`spec.x: Invalid value: "string": Value is immutable`]);
    assert.deepEqual(update(s, resource({ x: "b" }), resource({})), [], "no old value: not evaluated");
  });

  it("objects compare whole; list-type=map items correlate by key, other lists not", () => {
    const item = { type: "object", properties: { name: { type: "string" }, v: { type: "integer" } }, required: ["name"], "x-kubernetes-validations": [{ rule: "self.v >= oldSelf.v", message: "v may not decrease" }] };
    const s = specSchema({ byKey: { type: "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"], items: item } }, [{ rule: "self == oldSelf || self.byKey.size() > 0", message: "spec changed" }]);
    const old = resource({ byKey: [{ name: "a", v: 2 }, { name: "b", v: 5 }] });
    assert.deepEqual(update(s, resource({ byKey: [{ name: "b", v: 5 }, { name: "a", v: 3 }] }), old), []);
    assert.deepEqual(update(s, resource({ byKey: [{ name: "b", v: 4 }, { name: "c", v: 0 }] }), old), [`spec.byKey[0]: Invalid value: "object": v may not decrease`]);
    assert.deepEqual(update(s, resource({ byKey: [] }), old), [`spec: Invalid value: "object": spec changed`]);
  });

  it("oldSelf in an uncorrelatable list is refused at CRD time", () => {
    const s = specSchema({ l: { type: "array", items: { type: "string", "x-kubernetes-validations": [{ rule: "self == oldSelf" }] } } });
    assert.deepEqual(crdErrors(s), [
      `${P}.properties[spec].properties[l].items.x-kubernetes-validations[0].rule: Invalid value: "self == oldSelf": oldSelf cannot be used on the uncorrelatable portion of the schema within ${P}.properties[spec].properties[l]`,
    ]);
  });

  it("optionalOldSelf: the rule runs on create too, oldSelf an optional", () => {
    const s = specSchema(replicas, [{ rule: "oldSelf.hasValue() ? self.replicas >= oldSelf.value().replicas : self.replicas <= 3", optionalOldSelf: true, message: "start at most 3, never scale down" }]);
    assert.deepEqual(create(s, resource({ replicas: 2 })), []);
    assert.deepEqual(create(s, resource({ replicas: 4 })), [`spec: Invalid value: "object": start at most 3, never scale down`]);
    assert.deepEqual(update(s, resource({ replicas: 8 }), resource({ replicas: 6 })), []);
    assert.deepEqual(update(s, resource({ replicas: 5 }), resource({ replicas: 6 })), [`spec: Invalid value: "object": start at most 3, never scale down`]);
  });

  it("a rule's error on an unchanged value is ratcheted into a warning", () => {
    const s = specSchema({ a: { type: "string", "x-kubernetes-validations": [{ rule: "self.size() < 3", message: "short" }] }, b: { type: "integer" } });
    const old = resource({ a: "long", b: 1 });
    const warnings: string[] = [];
    assert.deepEqual(update(s, resource({ a: "long", b: 2 }), old, warnings), []);
    assert.deepEqual(warnings, [`spec.a: Invalid value: "string": short`]);
    assert.deepEqual(update(s, resource({ a: "longer", b: 2 }), old), [`spec.a: Invalid value: "string": short`]);
  });

  it("through /status the rules run on the whole object, spec unchanged so ratcheted", () => {
    const s = specSchema({ n: { type: "integer" } }, [{ rule: "self.n < 0", message: "spec rule" }]);
    (s.properties!["status"] = { type: "object", properties: { ready: { type: "integer" } }, "x-kubernetes-validations": [{ rule: "self.ready <= 3", message: "at most 3" }] } as JSONSchemaProps);
    const cs = compileSchema(s);
    const warnings: string[] = [];
    const old = resource({ n: 1 }, { status: { ready: 1 } });
    assert.deepEqual(validateStatusUpdate(cs, resource({ n: 1 }, { status: { ready: 5 } }), old, { warnings }).map(String), [`status: Invalid value: "object": at most 3`]);
    assert.deepEqual(warnings, [`spec: Invalid value: "object": spec rule`]);
  });
});

describe("compilation at CRD time", () => {
  it("accepts rules that compile, with upstream's errors for those that do not", () => {
    const s = specSchema(replicas, [
      { rule: "self.minReplicas <= self.replicas" },
      { rule: "self.nope == 1" },
      { rule: "self.replicas + 'x' == 1" },
      { rule: "self.replicas" },
      { rule: "self.replicas >" },
      { rule: "self.replicas > 0", messageExpression: "self.replicas" },
    ]);
    const rv = (rule: string, me = ""): string =>
      `apiextensions.ValidationRule{Rule:${JSON.stringify(rule)}, Message:"", MessageExpression:${JSON.stringify(me)}, Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:"", OptionalOldSelf:(*bool)(nil)}`;
    const at = `${P}.properties[spec].x-kubernetes-validations`;
    assert.deepEqual(crdErrors(s), [
      `${at}[1].rule: Invalid value: ${rv("self.nope == 1")}: compilation failed: ERROR: <input>:1:5: undefined field 'nope'\n | self.nope == 1\n | ....^`,
      `${at}[2].rule: Invalid value: ${rv("self.replicas + 'x' == 1")}: compilation failed: ERROR: <input>:1:15: found no matching overload for '_+_' applied to '(int, string)'\n | self.replicas + 'x' == 1\n | ..............^`,
      `${at}[3].rule: Invalid value: ${rv("self.replicas")}: cel expression must evaluate to a bool`,
      `${at}[4].rule: Invalid value: ${rv("self.replicas >")}: compilation failed: ERROR: <input>:1:16: Syntax error: Unexpected token: EOF\n | self.replicas >\n | ...............^`,
      `${at}[5].messageExpression: Invalid value: ${rv("self.replicas > 0", "self.replicas")}: messageExpression must evaluate to a string`,
    ]);
  });

  it("an unknown identifier is a compile error", () => {
    assert.match(crdErrors(specSchema(replicas, [{ rule: "replicas > 1" }])).join(), /undeclared reference to 'replicas' \(in container ''\)/);
  });

  it("fieldPath must be a valid path below the node", () => {
    const s = specSchema({ a: { type: "object", properties: { b: { type: "string" } } }, m: { type: "object", additionalProperties: { type: "string" } } }, [
      { rule: "true", fieldPath: ".a.b" },
      { rule: "true", fieldPath: ".m['x.y']" },
      { rule: "true", fieldPath: ".a.c" },
      { rule: "true", fieldPath: ".a[0]" },
    ]);
    const at = `${P}.properties[spec].x-kubernetes-validations`;
    assert.deepEqual(crdErrors(s), [
      `${at}[2].fieldPath: Invalid value: ".a.c": fieldPath must be a valid path: does not refer to a valid field`,
      `${at}[3].fieldPath: Invalid value: ".a[0]": fieldPath must be a valid path: expected single quoted string but got 0`,
    ]);
  });

  it("a rule calling a Kubernetes library function the environment lacks is accepted, unevaluated, with a warning", () => {
    // The bare cel-js environment stands for one without Kubernetes' libraries.
    const bare = (): Environment => new Environment({ enableOptionalTypes: true });
    const s = specSchema({
      u: {
        type: "string",
        "x-kubernetes-validations": [{ rule: "isURL(self)" }, { rule: "self.someFutureLibraryCall()" }, { rule: "!format.dns1123Label().validate(self).hasValue()" }, { rule: "self.size() > 3" }],
      },
    });
    const r = compileCelRules(s, { path: base(), environment: bare });
    const at = `${P}.properties[spec].properties[u].x-kubernetes-validations`;
    assert.deepEqual(r.errors.map((e) => e.field), [`${at}[1].rule`]);
    assert.deepEqual(r.warnings, [
      `${at}[0].rule: the rule "isURL(self)" is not evaluated: k8ts does not have the CEL function isURL`,
      `${at}[2].rule: the rule "!format.dns1123Label().validate(self).hasValue()" is not evaluated: k8ts does not have the CEL function format.dns1123Label`,
    ]);
    // With Kubernetes' environment, a wrong call of a library function it has is an error.
    assert.match(compileCelRules(specSchema({ u: { type: "string", "x-kubernetes-validations": [{ rule: "isURL(1)" }] } })).errors.join(), /compilation failed: .*isURL/);
    // The rules that compiled still run; one that did not (were it stored) says so, as upstream.
    assert.deepEqual(validateCel(r.validator!, resource({ u: "ab" }), null).map(String), [
      `spec.u: Invalid value: "string": rule compile error: compilation failed: ERROR: <input>:1:27: found no matching overload for 'someFutureLibraryCall' applied to 'string.()'\n | self.someFutureLibraryCall()\n | ..........................^`,
      `spec.u: Invalid value: "string": failed rule: self.size() > 3`,
    ]);
  });

  it("a default must pass the rules of its node", () => {
    const s = specSchema({ n: { type: "integer", default: 0, "x-kubernetes-validations": [{ rule: "self >= 1" }, { rule: "self == oldSelf" }] } });
    assert.deepEqual(crdErrors(s), [`${P}.properties[spec].properties[n].default: Invalid value: "integer": failed rule: self >= 1`]);
  });

  it("rules are not compiled while the schema has other errors", () => {
    assert.deepEqual(crdErrors(specSchema({ a: { type: "strin", "x-kubernetes-validations": [{ rule: "self.x" }] } })), [
      `${P}.properties[spec].properties[a].type: Unsupported value: "strin": supported values: "array", "boolean", "integer", "number", "object", "string"`,
    ]);
  });
});

describe("helpers", () => {
  it("escapes property names as upstream", () => {
    assert.equal(escapePropertyName("foo-bar"), "foo__dash__bar");
    assert.equal(escapePropertyName("a.b/c"), "a__dot__b__slash__c");
    assert.equal(escapePropertyName("a__b"), "a__underscores__b");
    assert.equal(escapePropertyName("namespace"), "__namespace__");
    assert.equal(escapePropertyName("1a"), undefined);
    assert.equal(escapePropertyName("a b"), undefined);
  });

  it("normalizes fieldPaths as ValidFieldPath renders them", () => {
    const s = { type: "object", properties: { a: { type: "object", properties: { b: { type: "string" } } }, m: { type: "object", additionalProperties: { type: "string" } } } } as JSONSchemaProps;
    assert.deepEqual(validFieldPath(".a.b", s), { path: "a.b" });
    assert.deepEqual(validFieldPath("['a'].b", s), { path: "a.b" });
    assert.deepEqual(validFieldPath(".m['x.y']", s), { path: "m[x.y]" });
    assert.deepEqual(validFieldPath("a", s), { error: "expected [ or . but got: a" });
  });

  it("an escaped property is reachable under its escaped name", () => {
    const s = specSchema({ "max-size": { type: "integer" } }, [{ rule: "self.max__dash__size < 10" }]);
    assert.deepEqual(create(s, resource({ "max-size": 20 })), [`spec: Invalid value: "object": failed rule: self.max__dash__size < 10`]);
  });
});
