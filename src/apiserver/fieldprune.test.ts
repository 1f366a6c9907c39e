import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { SchemaWalker, type SchemaObject } from "./fieldprune.js";
import type { KubeObject } from "./registry/types.js";

const schemas: Record<string, SchemaObject> = {
  Thing: {
    type: "object",
    properties: {
      metadata: { $ref: "#/components/schemas/Meta" },
      spec: { allOf: [{ $ref: "#/components/schemas/Spec" }] },
    },
  },
  Meta: { type: "object", properties: { name: { type: "string" }, labels: { type: "object", additionalProperties: { type: "string" } } } },
  Spec: {
    type: "object",
    properties: {
      items: { type: "array", items: { type: "object", properties: { port: { type: "integer", format: "int32" } } } },
      names: { type: "array", items: { type: "string" } },
      flags: { type: "array", items: { type: "boolean" } },
      ports: { type: "array", items: { oneOf: [{ type: "integer" }, { type: "string" }], format: "int-or-string" } },
      sizes: { type: "array", items: { oneOf: [{ type: "string" }, { type: "number" }] } },
      nested: { type: "array", items: { type: "array", items: { type: "string" } } },
    },
  },
};

void describe("SchemaWalker", () => {
  const walker = new SchemaWalker(schemas);

  void it("drops and names unknown fields at every depth, and null fields; a null list element or map value is its type's zero value, as Go decodes it", () => {
    const obj = { apiVersion: "v1", kind: "Thing", metadata: { name: "a", extra: 1, labels: { x: "y", blank: null } }, spec: { items: [{ port: 1, what: true }, null, { port: 2 }], constructor: 1 }, top: {} } as unknown as KubeObject;
    const r = walker.check("Thing", obj);
    assert.equal(r.typeError, undefined);
    assert.deepEqual(r.unknown, ["metadata.extra", "spec.items[0].what", "spec.constructor", "top"]);
    assert.deepEqual(obj, { apiVersion: "v1", kind: "Thing", metadata: { name: "a", labels: { x: "y", blank: "" } }, spec: { items: [{ port: 1 }, {}, { port: 2 }] } });
    const lists = { spec: { names: ["a", null], flags: [null], ports: [null, "http"], sizes: [null], nested: [null, ["x"]] } } as unknown as KubeObject;
    walker.check("Thing", lists);
    // A nil slice stays null: Go has no other zero value for it.
    assert.deepEqual(lists.spec, { names: ["a", ""], flags: [false], ports: [0, "http"], sizes: ["0"], nested: [null, ["x"]] });
  });

  void it("leaves frozen values alone: they are the watch cache's, decoded when they were written", () => {
    const stored = Object.freeze({ items: Object.freeze([Object.freeze({ port: 1, legacy: null })]) });
    const obj = { metadata: { name: "a", extra: 1 }, spec: stored } as unknown as KubeObject;
    const r = walker.check("Thing", obj);
    assert.deepEqual(r.unknown, ["metadata.extra"]);
    assert.equal(obj.spec, stored);
    assert.deepEqual(stored, { items: [{ port: 1, legacy: null }] });
  });

  void it("words the first type error with its path as Go's decoder does", () => {
    const r = walker.check("Thing", { metadata: { name: "a" }, spec: { items: [{ port: 1 }, { port: "80" }, { port: 1.5 }] } } as unknown as KubeObject);
    assert.equal(r.typeError, "json: cannot unmarshal string into Go struct field .spec.items[1].port of type int32");
    const again = walker.check("Thing", { metadata: { labels: { a: 1 } } } as unknown as KubeObject);
    assert.equal(again.typeError, "json: cannot unmarshal number 1 into Go struct field .metadata.labels.a of type string");
  });
});
