// Custom resource validation against upstream's own expectations: the messages below are the
// ones apiextensions-apiserver's pkg/apiserver/validation tests and kube-openapi assert.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { JSONSchemaProps } from "kubernetes-types/apiextensions/v1.js";
import { compileSchema, validateObject, validateObjectUpdate, validateStatus } from "./schema.js";

type Obj = Record<string, unknown>;

function errs(schema: JSONSchemaProps, obj: Obj): string[] {
  return validateObject(compileSchema(schema), obj).map((e) => e.toString());
}

function expectSet(schema: JSONSchemaProps, obj: Obj, want: string[]): void {
  assert.deepEqual([...new Set(errs(schema, obj))].sort(), [...want].sort());
}

function field(f: JSONSchemaProps): JSONSchemaProps {
  return { type: "object", properties: { field: f } };
}

describe("types and nullable", () => {
  const kinds: [unknown, string][] = [
    ["foo", "string"],
    [42, "integer"],
    [true, "boolean"],
    [1.2, "number"],
    [[], "array"],
  ];

  it("reports the JSON type of a mismatching value", () => {
    const s = field({ type: "object" });
    expectSet(s, {}, []);
    expectSet(s, { field: {} }, []);
    for (const [v, t] of kinds) {
      expectSet(s, { field: v }, [`field: Invalid value: "${t}": field in body must be of type object: "${t}"`]);
    }
    expectSet(s, { field: null }, [`field: Invalid value: "null": field in body must be of type object: "null"`]);
  });

  it("nullable admits null only", () => {
    const s = field({ type: "object", nullable: true });
    expectSet(s, { field: null }, []);
    expectSet(s, { field: "foo" }, [`field: Invalid value: "string": field in body must be of type object: "string"`]);
  });

  it("no type admits anything", () => {
    const s = field({ nullable: true });
    for (const v of ["foo", 42, true, 1.2, [], {}, null]) expectSet(s, { field: v }, []);
  });

  it("an integral float is an integer; integers are numbers", () => {
    expectSet(field({ type: "integer" }), { field: 3 }, []);
    expectSet(field({ type: "number" }), { field: 3 }, []);
    expectSet(field({ type: "integer" }), { field: 3.5 }, [
      `field: Invalid value: "number": field in body must be of type integer: "number"`,
      `<nil>: Invalid value: "": Checked value must be of type integer (default format) in field`,
    ]);
  });

  it("nested paths name properties and indices", () => {
    const s: JSONSchemaProps = {
      type: "object",
      properties: { spec: { type: "object", properties: { ports: { type: "array", items: { type: "object", properties: { port: { type: "integer" } } } } } } },
    };
    expectSet(s, { spec: { ports: [{ port: 1 }, { port: "x" }] } }, [
      `spec.ports[1].port: Invalid value: "string": spec.ports[1].port in body must be of type integer: "string"`,
    ]);
  });
});

describe("x-kubernetes-int-or-string", () => {
  it("admits integers and strings", () => {
    const s = field({ "x-kubernetes-int-or-string": true } as JSONSchemaProps);
    expectSet(s, { field: 42 }, []);
    expectSet(s, { field: "foo" }, []);
    expectSet(s, { field: null }, [`field: Invalid value: "null": field in body must be of type integer,string: "null"`]);
    expectSet(s, { field: true }, [`field: Invalid value: "boolean": field in body must be of type integer,string: "boolean"`]);
    expectSet(s, { field: 1.2 }, [`field: Invalid value: "number": field in body must be of type integer,string: "number"`]);
    expectSet(s, { field: {} }, [`field: Invalid value: "object": field in body must be of type integer,string: "object"`]);
  });

  it("with the anyOf pattern reports the anyOf failure and the best branch", () => {
    const s = field({ nullable: true, "x-kubernetes-int-or-string": true, anyOf: [{ type: "integer" }, { type: "string" }] } as JSONSchemaProps);
    expectSet(s, { field: null }, []);
    expectSet(s, { field: true }, [
      `<nil>: Invalid value: "": "field" must validate at least one schema (anyOf)`,
      `field: Invalid value: "boolean": field in body must be of type integer,string: "boolean"`,
      `field: Invalid value: "boolean": field in body must be of type integer: "boolean"`,
    ]);
    expectSet(s, { field: 1.2 }, [
      `<nil>: Invalid value: "": "field" must validate at least one schema (anyOf)`,
      `field: Invalid value: "number": field in body must be of type integer,string: "number"`,
      `field: Invalid value: "number": field in body must be of type integer: "number"`,
      `<nil>: Invalid value: "": Checked value must be of type integer (default format) in field`,
    ]);
  });

  it("with the allOf pattern reports allOf and anyOf", () => {
    const s = field({ nullable: true, "x-kubernetes-int-or-string": true, allOf: [{ anyOf: [{ type: "integer" }, { type: "string" }] }] } as JSONSchemaProps);
    expectSet(s, { field: [] }, [
      `<nil>: Invalid value: "": "field" must validate all the schemas (allOf). None validated`,
      `<nil>: Invalid value: "": "field" must validate at least one schema (anyOf)`,
      `field: Invalid value: "array": field in body must be of type integer,string: "array"`,
      `field: Invalid value: "array": field in body must be of type integer: "array"`,
    ]);
  });
});

describe("value rules", () => {
  it("an invalid pattern is reported with Go's parse error", () => {
    expectSet(field({ type: "string", pattern: "+" }), { field: "foo" }, [
      "field: Invalid value: \"foo\": field in body should match '+, but pattern is invalid: error parsing regexp: missing argument to repetition operator: `+`'",
    ]);
  });

  it("pattern, minLength, maxLength (runes)", () => {
    const s = field({ type: "string", pattern: "^[a-z]+$", minLength: 2, maxLength: 3 });
    expectSet(s, { field: "abc" }, []);
    expectSet(s, { field: "ABC" }, [`field: Invalid value: "ABC": field in body should match '^[a-z]+$'`]);
    expectSet(s, { field: "a" }, [`field: Invalid value: "a": field in body should be at least 2 chars long`]);
    expectSet(s, { field: "abcd" }, [`field: Too long: may not be more than 3 bytes`]);
    // Three runes, six bytes: within maxLength as upstream counts runes.
    expectSet(field({ type: "string", maxLength: 3 }), { field: "äöü" }, []);
  });

  it("required, at the root and nested", () => {
    const s: JSONSchemaProps = {
      type: "object",
      required: ["field"],
      properties: { field: { type: "object", required: ["nested"], properties: { nested: {} } } },
    };
    expectSet(s, { test: "a" }, [`field: Required value`]);
    expectSet(s, { field: {} }, [`field.nested: Required value`]);
  });

  it("enum reports Unsupported value with quoted choices", () => {
    const s = field({
      type: "object",
      required: ["nestedint", "nestedstring"],
      properties: { nestedint: { type: "integer", enum: [1, 2] }, nestedstring: { type: "string", enum: ["a", "b"] } },
    });
    expectSet(s, { field: {} }, [`field.nestedint: Required value`, `field.nestedstring: Required value`]);
    expectSet(s, { field: { nestedint: "x", nestedstring: true } }, [
      `field.nestedint: Invalid value: "string": field.nestedint in body must be of type integer: "string"`,
      `field.nestedint: Unsupported value: "x": supported values: "1", "2"`,
      `field.nestedstring: Invalid value: "boolean": field.nestedstring in body must be of type string: "boolean"`,
      `field.nestedstring: Unsupported value: true: supported values: "a", "b"`,
    ]);
    expectSet(s, { field: { nestedint: 2, nestedstring: "b" } }, []);
    expectSet(field({ enum: ["a"] }), { field: null }, [`field: Unsupported value: null: supported values: "a"`]);
  });

  it("maxProperties, maxItems, minItems, minProperties", () => {
    expectSet({ type: "object", properties: { fieldX: { type: "object", maxProperties: 2 } } }, { fieldX: { a: true, b: true, c: true } }, [
      `fieldX: Too many: 3: must have at most 2 items`,
    ]);
    expectSet({ type: "object", properties: { fieldX: { type: "array", maxItems: 2 } } }, { fieldX: ["a", "b", "c"] }, [
      `fieldX: Too many: 3: must have at most 2 items`,
    ]);
    expectSet(field({ type: "array", minItems: 2 }), { field: ["a"] }, [`field: Invalid value: 1: field in body should have at least 2 items`]);
    expectSet(field({ type: "object", minProperties: 2 }), { field: { a: 1 } }, [`field: Invalid value: 1: field in body should have at least 2 properties`]);
  });

  it("minimum, maximum, exclusive bounds, multipleOf", () => {
    const s = field({ type: "integer", minimum: 1, maximum: 10 });
    expectSet(s, { field: 5 }, []);
    expectSet(s, { field: 11 }, [`field: Invalid value: 11: field in body should be less than or equal to 10`]);
    expectSet(s, { field: 0 }, [`field: Invalid value: 0: field in body should be greater than or equal to 1`]);
    const x = field({ type: "number", minimum: 1, exclusiveMinimum: true, maximum: 1000000, exclusiveMaximum: true });
    expectSet(x, { field: 1 }, [`field: Invalid value: 1: field in body should be greater than 1`]);
    expectSet(x, { field: 2000000.5 }, [`field: Invalid value: 2.0000005e+06: field in body should be less than 1e+06`]);
    expectSet(field({ type: "integer", multipleOf: 5 }), { field: 12 }, [`field: Invalid value: 12: field in body should be a multiple of 5`]);
    expectSet(field({ type: "number", multipleOf: 0.1 }), { field: 0.3 }, []);
    expectSet(field({ type: "number", multipleOf: 0.5 }), { field: 0.3 }, [`field: Invalid value: 0.3: field in body should be a multiple of 0.5`]);
  });

  it("numeric formats check ranges", () => {
    const s: JSONSchemaProps = {
      type: "object",
      properties: {
        intThirtyTwo: { type: "integer", format: "int32" },
        intSixtyFour: { type: "integer", format: "int64" },
        floatThreeTwo: { type: "number", format: "float" },
      },
    };
    expectSet(s, { intThirtyTwo: -2147483648, intSixtyFour: 0, floatThreeTwo: -3.4028234663852886e38 }, []);
    expectSet(s, { intThirtyTwo: 2147483648 }, [`<nil>: Invalid value: "": Checked value must be of type integer with format int32 in intThirtyTwo`]);
    expectSet(s, { intSixtyFour: 2 ** 63 * 1.1 }, [
      `intSixtyFour: Invalid value: "float64": intSixtyFour in body must be of type int64: "float64"`,
      `<nil>: Invalid value: "": Checked value must be of type integer with format int64 in intSixtyFour`,
    ]);
    expectSet(s, { floatThreeTwo: 3.4028234663852886e38 * 1.1 }, [`<nil>: Invalid value: "": Checked value must be of type number with format float in floatThreeTwo`]);
  });

  it("string formats", () => {
    const s: JSONSchemaProps = {
      type: "object",
      properties: {
        u: { type: "string", format: "uuid" },
        d: { type: "string", format: "date-time" },
        day: { type: "string", format: "date" },
        ip: { type: "string", format: "ipv4" },
        ip6: { type: "string", format: "ipv6" },
        cidr: { type: "string", format: "cidr" },
        mac: { type: "string", format: "mac" },
        b: { type: "string", format: "byte" },
        host: { type: "string", format: "hostname" },
        mail: { type: "string", format: "email" },
        uri: { type: "string", format: "uri" },
        dur: { type: "string", format: "duration" },
        long: { type: "string", format: "k8s-long-name" },
        short: { type: "string", format: "k8s-short-name" },
        odd: { type: "string", format: "no-such-format" },
      },
    };
    const good = {
      u: "5c0e7b5e-4a3c-11ee-be56-0242ac120002",
      d: "2024-02-29T12:30:00Z",
      day: "2024-02-29",
      ip: "10.0.0.1",
      ip6: "2001:db8::1",
      cidr: "10.0.0.0/8",
      mac: "01:23:45:67:89:ab",
      b: "aGVsbG8=",
      host: "example.com",
      mail: "a@example.com",
      uri: "https://example.com/x?y=1",
      dur: "1h30m",
      long: "a.b-c",
      short: "abc",
      odd: "anything",
    };
    expectSet(s, good, []);
    expectSet(s, { dur: "3 days" }, []);
    const bad: Obj = {
      u: "nope",
      d: "2024-02-29 12:30:00",
      day: "2023-02-29",
      ip: "10.0.0",
      ip6: "10.0.0.1",
      cidr: "10.0.0.0",
      mac: "01:23:45",
      b: "abc",
      host: "-bad",
      mail: "nobody",
      uri: "example.com",
      dur: "forever",
      long: "a.-",
      short: "a-",
    };
    const formats: Record<string, string> = {
      u: "uuid",
      d: "date-time",
      day: "date",
      ip: "ipv4",
      ip6: "ipv6",
      cidr: "cidr",
      mac: "mac",
      b: "byte",
      host: "hostname",
      mail: "email",
      uri: "uri",
      dur: "duration",
      long: "k8s-long-name",
      short: "k8s-short-name",
    };
    for (const [k, v] of Object.entries(bad)) {
      expectSet(s, { [k]: v }, [`${k}: Invalid value: "${String(v)}": ${k} in body must be of type ${formats[k]}: "${String(v)}"`]);
    }
  });

  it("formats the API server does not support for a type are ignored", () => {
    expectSet(field({ type: "integer", format: "uuid" }), { field: 3 }, []);
    expectSet(field({ type: "boolean", format: "int32" }), { field: true }, []);
  });

  it("additionalProperties with a schema validates each value under its key", () => {
    const s = field({ type: "object", additionalProperties: { type: "string" } });
    expectSet(s, { field: { a: "x", b: 1 } }, [`field.b: Invalid value: "integer": field.b in body must be of type string: "integer"`]);
  });

  it("oneOf and not", () => {
    const one = field({ type: "integer", oneOf: [{ minimum: 5 }, { maximum: 10 }] });
    expectSet(one, { field: 7 }, [`<nil>: Invalid value: "": "field" must validate one and only one schema (oneOf). Found 2 valid alternatives`]);
    expectSet(one, { field: 12 }, []);
    const not = field({ type: "string", not: { enum: ["x"] } });
    expectSet(not, { field: "x" }, [`<nil>: Invalid value: "": "field" must not validate the schema (not)`]);
    expectSet(not, { field: "y" }, []);
  });

  it("embedded resources need apiVersion and kind", () => {
    const s = field({ type: "object", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true } as JSONSchemaProps);
    expectSet(s, { field: { apiVersion: "v1", kind: "Pod", metadata: { name: "x" } } }, []);
    expectSet(s, { field: {} }, [`field.apiVersion: Required value`, `field.kind: Required value`]);
    expectSet(s, { field: { apiVersion: "a/b/c", kind: "Pod_X" } }, [
      `field.apiVersion: Invalid value: "a/b/c": unexpected GroupVersion string: a/b/c`,
      `field.kind: Invalid value: "Pod_X": may have mixed case, but should otherwise match: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
    ]);
    expectSet(s, { field: { apiVersion: "v1", kind: "Pod", metadata: { name: "a/b" } } }, [`field.metadata.name: Invalid value: "a/b": may not contain '/'`]);
  });

  it("list-type set and map report duplicates as upstream renders them", () => {
    const s: JSONSchemaProps = {
      type: "object",
      properties: {
        set: { type: "array", items: { type: "string" } },
        objs: { type: "array", items: { type: "object", "x-kubernetes-map-type": "atomic", properties: { a: { type: "integer" } } } as JSONSchemaProps },
        m: { type: "array", items: { type: "object", properties: { k: { type: "string" }, v: { type: "integer" } } } },
        m2: { type: "array", items: { type: "object", properties: { k: { type: "string" }, p: { type: "integer" } } } },
      },
    };
    const ext = s.properties!;
    Object.assign(ext["set"]!, { "x-kubernetes-list-type": "set" });
    Object.assign(ext["objs"]!, { "x-kubernetes-list-type": "set" });
    Object.assign(ext["m"]!, { "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["k"] });
    Object.assign(ext["m2"]!, { "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["k", "p"] });
    expectSet(s, { set: ["a", "b", "a", "a"], objs: [{ a: 1 }, { a: 1 }], m: [{ k: "x", v: 1 }, { k: "x", v: 2 }, {}, {}], m2: [{ k: "a", p: 1 }, { p: 1, k: "a" }, "s"] }, [
      `set[2]: Duplicate value: "a"`,
      `objs[1]: Duplicate value: map[string]interface {}{"a":1}`,
      `m[1]: Duplicate value: map[string]interface {}{"k":"x"}`,
      `m[3]: Duplicate value: map[string]interface {}{}`,
      `m2[2]: Invalid value: "s": must be an object for an array of list-type map`,
      `m2[2]: Invalid value: "string": m2[2] in body must be of type object: "string"`,
    ]);
  });

  it("the status subresource validates status alone, names relative to it", () => {
    const c = compileSchema({ type: "object", properties: { status: { type: "object", properties: { replicas: { type: "integer" } } } } });
    assert.deepEqual(
      validateStatus(c, { status: { replicas: "x" } }).map(String),
      [`status.replicas: Invalid value: "string": replicas in body must be of type integer: "string"`],
    );
  });
});

describe("speed", () => {
  it("validates a 5 KB object well under a millisecond", () => {
    const item: JSONSchemaProps = {
      type: "object",
      required: ["name"],
      properties: {
        name: { type: "string", pattern: "^[a-z0-9-]+$", maxLength: 63 },
        port: { type: "integer", minimum: 1, maximum: 65535 },
        protocol: { type: "string", enum: ["TCP", "UDP"] },
        labels: { type: "object", additionalProperties: { type: "string" } },
      },
    };
    const schema: JSONSchemaProps = {
      type: "object",
      properties: { spec: { type: "object", properties: { replicas: { type: "integer" }, items: { type: "array", items: item } } } },
    };
    const items = Array.from({ length: 60 }, (_, i) => ({ name: `item-${i}`, port: 1000 + i, protocol: "TCP", labels: { app: "web", tier: "x" } }));
    const obj = { apiVersion: "x/v1", kind: "X", metadata: { name: "a" }, spec: { replicas: 3, items } };
    assert.ok(JSON.stringify(obj).length >= 4500);
    const c = compileSchema(schema);
    for (let i = 0; i < 200; i++) validateObject(c, obj);
    const n = 1000;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) assert.equal(validateObject(c, obj).length, 0);
    const perCallMs = Number(process.hrtime.bigint() - t0) / 1e6 / n;
    assert.ok(perCallMs < 0.5, `${perCallMs} ms per validation`);
  });
});

describe("ratcheting on update", () => {
  const schema: JSONSchemaProps = {
    type: "object",
    properties: {
      spec: {
        type: "object",
        properties: {
          a: { type: "string", maxLength: 3 },
          b: { type: "integer", minimum: 0 },
          items: { type: "array", items: { type: "string", maxLength: 1 } },
          ports: {
            type: "array",
            items: { type: "object", properties: { name: { type: "string" }, port: { type: "integer", maximum: 100 } } },
          },
        },
      },
    },
  };
  Object.assign(schema.properties!["spec"]!.properties!["ports"]!, { "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"] });
  const c = compileSchema(schema);
  const upd = (obj: Obj, old: Obj): string[] => validateObjectUpdate(c, obj, old).map(String);

  it("keeps an invalid value that did not change, reports one that did", () => {
    const old = { spec: { a: "toolong", b: -1 } };
    assert.deepEqual(upd({ spec: { a: "toolong", b: 5 } }, old), []);
    assert.deepEqual(upd({ spec: { a: "toolong!", b: -1 } }, old), [`spec.a: Too long: may not be more than 3 bytes`]);
    assert.equal(errs(schema, { spec: { a: "toolong", b: 5 } }).length, 1, "a create is not ratcheted");
  });

  it("correlates list items by index, and map lists by key", () => {
    assert.deepEqual(upd({ spec: { items: ["xx", "y"] } }, { spec: { items: ["xx"] } }), []);
    assert.deepEqual(upd({ spec: { items: ["y", "xx"] } }, { spec: { items: ["xx"] } }), [`spec.items[1]: Too long: may not be more than 1 bytes`]);
    const old = { spec: { ports: [{ name: "a", port: 500 }] } };
    assert.deepEqual(upd({ spec: { ports: [{ name: "b", port: 1 }, { name: "a", port: 500 }] } }, old), []);
    assert.deepEqual(upd({ spec: { ports: [{ name: "a", port: 501 }] } }, old), [
      `spec.ports[0].port: Invalid value: 501: spec.ports[0].port in body should be less than or equal to 100`,
    ]);
  });
});
