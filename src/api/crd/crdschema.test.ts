// CRD-time schema checks: upstream's messages from apiextensions' validation.go (keywords and
// x-kubernetes-* rules), pkg/apiserver/schema/validation.go (structural rules) and
// defaulting/validation.go (defaults), under the path a v1 CRD's version schema has.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { JSONSchemaProps } from "kubernetes-types/apiextensions/v1.js";
import { FieldPath } from "../fielderrors.js";
import { validateStructuralSchema } from "./schema.js";

const P = "spec.versions[0].schema.openAPIV3Schema";
const base = (): FieldPath => FieldPath.of("spec", "versions").index(0).child("schema", "openAPIV3Schema");

function check(schema: object, opts: { statusSubresource?: boolean } = {}): string[] {
  return validateStructuralSchema(schema as JSONSchemaProps, base(), opts).map(String);
}

function spec(props: Record<string, object>): object {
  return { type: "object", properties: { spec: { type: "object", properties: props } } };
}

describe("structural schema rules", () => {
  it("accepts a typical schema", () => {
    assert.deepEqual(
      check({
        type: "object",
        properties: {
          spec: {
            type: "object",
            required: ["image"],
            properties: {
              image: { type: "string", pattern: "^[a-z]+$" },
              replicas: { type: "integer", minimum: 0, default: 1 },
              port: { "x-kubernetes-int-or-string": true, anyOf: [{ type: "integer" }, { type: "string" }] },
              labels: { type: "object", additionalProperties: { type: "string" } },
              free: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
              template: { type: "object", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true },
              ports: {
                type: "array",
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["port"],
                items: { type: "object", required: ["port"], properties: { port: { type: "integer" }, name: { type: "string" } } },
              },
            },
          },
          status: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
        },
      }),
      [],
    );
  });

  it("every specified field needs a type", () => {
    assert.deepEqual(check({ type: "object", properties: { spec: { properties: { a: { type: "string" } } } } }), [
      `${P}.properties[spec].type: Required value: must not be empty for specified object fields`,
    ]);
    assert.deepEqual(check({ properties: {} }), [`${P}.type: Required value: must not be empty at the root`]);
    assert.deepEqual(check(spec({ list: { type: "array", items: {} } })), [
      `${P}.properties[spec].properties[list].items.type: Required value: must not be empty for specified array items`,
    ]);
    assert.deepEqual(check(spec({ list: { type: "array" } })), [`${P}.properties[spec].properties[list].items: Required value: must be specified`]);
  });

  it("the root must be an object without additionalProperties, nullable or wrong type", () => {
    assert.deepEqual(check({ type: "string" }), [`${P}.type: Invalid value: "string": must be object at the root`]);
    assert.deepEqual(check({ type: "object", additionalProperties: { type: "string" } }), [
      `${P}.additionalProperties: Forbidden: must not be used at the root`,
    ]);
    assert.deepEqual(check({ type: "object", nullable: true }), [`${P}.nullable: Forbidden: nullable cannot be true at the root`]);
  });

  it("value validations under allOf/anyOf/oneOf/not may not specify structure", () => {
    assert.deepEqual(
      check(spec({ a: { type: "string", anyOf: [{ type: "string", description: "d", nullable: true, default: "x", "x-kubernetes-list-type": "set" }] } })),
      [
        `${P}.properties[spec].properties[a].anyOf[0].default: Forbidden: must be undefined to be structural`,
        `${P}.properties[spec].properties[a].anyOf[0].description: Forbidden: must be empty to be structural`,
        `${P}.properties[spec].properties[a].anyOf[0].nullable: Forbidden: must be false to be structural`,
        `${P}.properties[spec].properties[a].anyOf[0].type: Forbidden: must be empty to be structural`,
        `${P}.properties[spec].properties[a].anyOf[0].x-kubernetes-list-type: Forbidden: must be undefined to be structural`,
        // The keyword checks run inside anyOf too.
        `${P}.properties[spec].properties[a].anyOf[0].type: Invalid value: "string": must be array if x-kubernetes-list-type is specified`,
      ],
    );
  });

  it("value validations at the root may only name fields the structure specifies", () => {
    assert.deepEqual(check({ type: "object", properties: { a: { type: "string" } }, anyOf: [{ properties: { b: {} } }] }), [
      `${P}.properties[b]: Required value: because it is defined in ${P}.anyOf[0].properties[b]`,
    ]);
  });

  it("metadata at the root may only restrict name and generateName", () => {
    assert.deepEqual(check({ type: "object", properties: { metadata: { type: "object", properties: { name: { type: "string", maxLength: 10 } } } } }), []);
    assert.deepEqual(check({ type: "object", properties: { metadata: { type: "object", properties: { labels: { type: "object" } } } } }), [
      `${P}.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified`,
    ]);
    assert.deepEqual(check({ type: "object", properties: { metadata: { type: "string" } } }), [
      `${P}.properties[metadata].type: Invalid value: "string": must be object`,
    ]);
    assert.deepEqual(check({ type: "object", properties: { kind: { type: "integer" } } }), [
      `${P}.properties[kind].type: Invalid value: "integer": must be string`,
    ]);
  });

  it("embedded resources must be objects with properties or preserving unknown fields", () => {
    assert.deepEqual(check(spec({ e: { type: "string", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true } })), [
      `${P}.properties[spec].properties[e].type: Invalid value: "string": must be object if x-kubernetes-embedded-resource is true`,
    ]);
    assert.deepEqual(check(spec({ e: { type: "object", "x-kubernetes-embedded-resource": true } })), [
      `${P}.properties[spec].properties[e].properties: Required value: must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields`,
    ]);
  });

  it("an invalid pattern is reported with Go's regexp error", () => {
    assert.deepEqual(check(spec({ a: { type: "string", pattern: "(?=x)" } })), [
      `${P}.properties[spec].properties[a].pattern: Invalid value: "(?=x)": must be a valid regular expression, but isn't: error parsing regexp: invalid or unsupported Perl syntax: \`(?=\``,
    ]);
  });
});

describe("keywords and extensions", () => {
  it("rejects keywords CRDs do not support", () => {
    assert.deepEqual(check(spec({ a: { type: "string", uniqueItems: true } })), [
      `${P}.properties[spec].properties[a].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic`,
    ]);
    assert.deepEqual(check(spec({ a: { type: "null" } })), [
      `${P}.properties[spec].properties[a].type: Unsupported value: "null": supported values: "array", "boolean", "integer", "number", "object", "string"`,
      `${P}.properties[spec].properties[a].type: Forbidden: type cannot be set to null, use nullable as an alternative`,
    ]);
    // $ref is reported once by the keyword check; the structural conversion error is then not shown.
    assert.deepEqual(check(spec({ a: { $ref: "#/x" } })), [`${P}.properties[spec].properties[a].$ref: Forbidden: $ref is not supported`]);
    assert.deepEqual(check(spec({ a: { type: "object", properties: { b: { type: "string" } }, additionalProperties: { type: "string" } } })), [
      `${P}.properties[spec].properties[a].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive`,
    ]);
    assert.deepEqual(check(spec({ a: { type: "string", "x-kubernetes-preserve-unknown-fields": false } })), [
      `${P}.properties[spec].properties[a].x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined`,
    ]);
  });

  it("defaults are forbidden in top-level metadata and must validate and be pruned", () => {
    assert.deepEqual(check({ type: "object", properties: { metadata: { type: "object", default: {} } } }), [
      `${P}.properties[metadata].default: Forbidden: must not be set in top-level metadata`,
    ]);
    assert.deepEqual(check(spec({ replicas: { type: "integer", default: "x" } })), [
      `${P}.properties[spec].properties[replicas].default: Invalid value: "string":  in body must be of type integer: "string"`,
    ]);
    assert.deepEqual(check(spec({ o: { type: "object", properties: { a: { type: "string" } }, default: { a: "x", b: 1 } } })), [
      `${P}.properties[spec].properties[o].default: Invalid value: map[string]interface {}{"a":"x", "b":1}: must not have unknown fields`,
    ]);
    assert.deepEqual(check(spec({ o: { type: "object", required: ["a"], properties: { a: { type: "string" } }, default: {} } })), [
      `${P}.properties[spec].properties[o].default.a: Required value`,
    ]);
  });

  it("defaults inside an embedded resource's metadata must make valid metadata", () => {
    const t = { type: "object", "x-kubernetes-embedded-resource": true, properties: { metadata: { type: "object", properties: { name: { type: "string", default: "a/b" } } } } };
    assert.deepEqual(check(spec({ t })), [
      `${P}.properties[spec].properties[t].properties[metadata].properties[name].default: Invalid value: "a/b": must result in valid metadata: metadata.name: Invalid value: "a/b": may not contain '/'`,
    ]);
    const ok = { type: "object", "x-kubernetes-embedded-resource": true, properties: { metadata: { type: "object", properties: { name: { type: "string", default: "web" } } } } };
    assert.deepEqual(check(spec({ t: ok })), []);
  });

  it("list and map type rules", () => {
    assert.deepEqual(check(spec({ l: { type: "string", "x-kubernetes-list-type": "set" } })), [
      `${P}.properties[spec].properties[l].type: Invalid value: "string": must be array if x-kubernetes-list-type is specified`,
    ]);
    assert.deepEqual(check(spec({ l: { type: "array", items: { type: "string" }, "x-kubernetes-list-type": "bag" } })), [
      `${P}.properties[spec].properties[l].x-kubernetes-list-type: Unsupported value: "bag": supported values: "atomic", "set", "map"`,
    ]);
    assert.deepEqual(check(spec({ l: { type: "array", items: { type: "object", properties: { a: { type: "string" } } }, "x-kubernetes-list-type": "set" } })), [
      `${P}.properties[spec].properties[l].items.x-kubernetes-map-type: Invalid value: null: must be atomic as item of a list with x-kubernetes-list-type=set`,
    ]);
    assert.deepEqual(
      check(spec({ l: { type: "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["k", "x"], items: { type: "object", properties: { k: { type: "string" } } } } })),
      [
        `${P}.properties[spec].properties[l].x-kubernetes-list-map-keys: Invalid value: []string{"k", "x"}: entries must all be names of item properties`,
        `${P}.properties[spec].properties[l].items.properties[k].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property`,
      ],
    );
    assert.deepEqual(check(spec({ m: { type: "object", "x-kubernetes-map-type": "loose" } })), [
      `${P}.properties[spec].properties[m].x-kubernetes-map-type: Unsupported value: "loose": supported values: "atomic", "granular"`,
    ]);
  });

  it("x-kubernetes-validations are checked for shape (rules compile only once the schema has no other error)", () => {
    assert.deepEqual(check(spec({ a: { type: "string", "x-kubernetes-validations": [{ rule: " " }, { rule: "self.a\n&& b" }, { rule: "x", reason: "Nope" }] } })), [
      `${P}.properties[spec].properties[a].x-kubernetes-validations[0].rule: Required value: rule is not specified`,
      `${P}.properties[spec].properties[a].x-kubernetes-validations[1].message: Required value: message must be specified if rule contains line breaks`,
      `${P}.properties[spec].properties[a].x-kubernetes-validations[2].reason: Unsupported value: "Nope": supported values: "FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"`,
    ]);
  });

  it("with the status subresource the root may use only some keywords", () => {
    assert.deepEqual(check({ type: "object", properties: {} }, { statusSubresource: true }), []);
    assert.deepEqual(
      check({ type: "object", minProperties: 1, properties: {} }, { statusSubresource: true }).map((e) => e.replace(/Invalid value: .*: only/, "Invalid value: X: only")),
      [
        `${P}: Invalid value: X: only [Description Type Format Title Maximum ExclusiveMaximum Minimum ExclusiveMinimum MaxLength MinLength Pattern MaxItems MinItems UniqueItems MultipleOf Required Items Properties ExternalDocs Example XPreserveUnknownFields XValidations] fields are allowed at the root of the schema if the status subresource is enabled`,
      ],
    );
  });
});
