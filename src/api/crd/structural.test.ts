// Pruning and defaulting, with cases and expectations from upstream's pruning and
// defaulting algorithm tests, and the full decode pipeline through the schema.ts contract.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { JSONSchemaProps } from "kubernetes-types/apiextensions/v1.js";
import { applyDefaults, compileSchema, prune, pruneObject } from "./schema.js";
import { applyDefaultsTo, pruneNonNullableNulls, pruneUnknown, toStructural } from "./structural.js";

const X = (p: object): JSONSchemaProps => p as JSONSchemaProps;

describe("pruning", () => {
  it("removes unknown fields in objects inside arrays and objects, paths sorted", () => {
    const s = toStructural({
      properties: {
        array: { items: { properties: { a: {}, c: {} } } },
        specified: { properties: { a: {}, c: {} } },
      },
    });
    const obj = JSON.parse(`{"array":[{"a":1},{"b":1},{"a":1,"b":2,"c":3}],"unspecified":{"a":1},"specified":{"a":1,"b":2,"c":3}}`);
    assert.deepEqual(pruneUnknown(obj, s, false), ["array[1].b", "array[2].b", "specified.b", "unspecified"]);
    assert.deepEqual(obj, JSON.parse(`{"array":[{"a":1},{},{"a":1,"c":3}],"specified":{"a":1,"c":3}}`));
  });

  it("additionalProperties keeps keys and prunes their values by its schema", () => {
    const s = toStructural({ properties: { a: {}, c: { additionalProperties: { type: "integer" } } } });
    const obj = JSON.parse(`{"a":1,"b":1,"c":{"a":1,"b":2,"c":{"a":1}}}`);
    assert.deepEqual(pruneUnknown(obj, s, false), ["b", "c.c.a"]);
    assert.deepEqual(obj, JSON.parse(`{"a":1,"c":{"a":1,"b":2,"c":{}}}`));
  });

  it("additionalProperties false keeps keys but prunes everything below them", () => {
    const s = toStructural({ properties: { a: {}, c: { additionalProperties: false } } });
    const obj = JSON.parse(`{"a":1,"b":1,"c":{"a":1,"b":2,"c":{"a":1, "apiVersion": "unknown"}}}`);
    assert.deepEqual(pruneUnknown(obj, s, false), ["b", "c.c.a", "c.c.apiVersion"]);
    assert.deepEqual(obj, JSON.parse(`{"a":1,"c":{"a":1,"b":2,"c":{}}}`));
  });

  it("x-kubernetes-preserve-unknown-fields keeps unknown fields but prunes specified ones", () => {
    const s = toStructural(
      X({
        type: "object",
        properties: {
          free: { type: "object", "x-kubernetes-preserve-unknown-fields": true, properties: { strict: { type: "object", properties: { a: { type: "string" } } } } },
        },
      }),
    );
    const obj = { free: { anything: { deep: 1 }, strict: { a: "x", b: 2 } } };
    assert.deepEqual(pruneUnknown(obj, s, false), ["free.strict.b"]);
    assert.deepEqual(obj, { free: { anything: { deep: 1 }, strict: { a: "x" } } });
  });

  it("keeps apiVersion, kind and metadata at the root and in embedded resources", () => {
    const c = compileSchema(
      X({
        type: "object",
        properties: {
          spec: {
            type: "object",
            properties: { template: { type: "object", "x-kubernetes-embedded-resource": true, properties: { spec: { type: "object" } } } },
          },
        },
      }),
    );
    const obj = {
      apiVersion: "a/v1",
      kind: "A",
      metadata: { name: "x" },
      spec: { template: { apiVersion: "v1", kind: "Pod", metadata: { name: "p", bogus: 1, labels: { a: "b" } }, spec: {}, junk: 1 }, other: 1 },
      status: {},
    };
    assert.deepEqual(prune(c, obj), ["spec.other", "spec.template.junk", "status", "spec.template.metadata.bogus"]);
    assert.deepEqual(obj, { apiVersion: "a/v1", kind: "A", metadata: { name: "x" }, spec: { template: { apiVersion: "v1", kind: "Pod", metadata: { name: "p", labels: { a: "b" } }, spec: {} } } });
  });

  it("an embedded kind that is not a string fails decoding", () => {
    const c = compileSchema(X({ type: "object", properties: { t: { type: "object", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true } } }));
    const r = pruneObject(c, { t: { kind: 1 } });
    assert.equal(r.error?.toString(), "t.kind: Invalid value: 1: must be a string");
    const m = pruneObject(c, { t: { kind: "K", metadata: { name: 3 } } });
    assert.equal(m.error?.toString(), `t.metadata: Invalid value: map[string]interface {}{"name":3}: json: cannot unmarshal number into Go struct field ObjectMeta.name of type string`);
  });

  it("drops non-nullable nulls without defaults, keeps nullable ones and defaulted ones", () => {
    const s = toStructural(
      X({ type: "object", properties: { a: { type: "string" }, b: { type: "string", nullable: true }, c: { type: "string", default: "C" }, m: { type: "object", additionalProperties: { type: "string" } } } }),
    );
    const obj = { a: null, b: null, c: null, m: { k: null } };
    pruneNonNullableNulls(obj, s);
    assert.deepEqual(obj, { b: null, c: null, m: {} });
    applyDefaultsTo(obj, s);
    assert.deepEqual(obj, { b: null, c: "C", m: {} });
  });
});

describe("defaulting", () => {
  it("fills missing properties in arrays, objects and additionalProperties maps", () => {
    const s = toStructural({
      properties: {
        array: { items: { properties: { a: { default: "A" }, b: { default: "B" } } } },
        object: { properties: { a: { default: "N" }, b: { default: "O" } } },
        additionalProperties: { additionalProperties: { properties: { a: { default: "alpha" }, b: { default: "beta" } } } },
        foo: { default: "bar" },
      },
    });
    const obj = JSON.parse(`{"array":[{"a":1},{"b":2}],"object":{"a":1},"additionalProperties":{"x":{"a":1},"y":{"b":2}}}`);
    applyDefaultsTo(obj, s);
    assert.deepEqual(
      obj,
      JSON.parse(`{"array":[{"a":1,"b":"B"},{"a":"A","b":2}],"object":{"a":1,"b":"O"},"additionalProperties":{"x":{"a":1,"b":"beta"},"y":{"a":"alpha","b":2}},"foo":"bar"}`),
    );
  });

  it("empty values are kept; null takes the default unless nullable", () => {
    const s = toStructural({ items: { properties: { a: { default: "A" } } } });
    const obj = JSON.parse(`[{},{"a":1},{"a":0},{"a":""},{"a":null},{"a":[]},{"a":{}}]`);
    applyDefaultsTo(obj, s);
    assert.deepEqual(obj, JSON.parse(`[{"a":"A"},{"a":1},{"a":0},{"a":""},{"a":"A"},{"a":[]},{"a":{}}]`));
    const n = toStructural({ items: { properties: { a: { default: "A", nullable: true } } } });
    const o2 = [{ a: null }];
    applyDefaultsTo(o2, n);
    assert.deepEqual(o2, [{ a: null }]);
  });

  it("defaults apply top-down: a defaulted object gets its own properties' defaults", () => {
    const c = compileSchema({
      type: "object",
      properties: { spec: { type: "object", default: {}, properties: { replicas: { type: "integer", default: 1 }, nested: { type: "object", default: { x: 1 }, properties: { x: { type: "integer" }, y: { type: "string", default: "y" } } } } } },
    });
    const obj: Record<string, unknown> = { apiVersion: "a/v1", kind: "A" };
    applyDefaults(c, obj);
    assert.deepEqual(obj, { apiVersion: "a/v1", kind: "A", spec: { replicas: 1, nested: { x: 1, y: "y" } } });
    // Defaults are copies: changing one object does not change the schema.
    const spec = obj["spec"] as { nested: { x: number } };
    spec.nested.x = 5;
    const again: Record<string, unknown> = {};
    applyDefaults(c, again);
    assert.deepEqual(again, { spec: { replicas: 1, nested: { x: 1, y: "y" } } });
  });
});
