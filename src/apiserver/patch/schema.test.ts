import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { schemaFromOpenAPI, type OpenAPIDocument } from "./schema.js";
import { isPatchError } from "./errors.js";
import { defs, openapi } from "./testdata.js";

void describe("schemaFromOpenAPI", () => {
  const pod = schemaFromOpenAPI(openapi, defs.pod);
  const deployment = schemaFromOpenAPI(openapi, defs.deployment);

  const cases: {
    path: string;
    schema: typeof pod;
    want: Partial<Record<"type" | "patchStrategy" | "patchMergeKey" | "listType" | "mapType", string>> & { listMapKeys?: string[]; preserveUnknownFields?: boolean };
  }[] = [
    { path: "spec", schema: pod, want: { type: "object" } },
    { path: "spec.containers", schema: pod, want: { type: "array", patchStrategy: "merge", patchMergeKey: "name", listType: "map", listMapKeys: ["name"] } },
    { path: "spec.containers[].ports", schema: pod, want: { type: "array", patchMergeKey: "containerPort", listMapKeys: ["containerPort", "protocol"] } },
    { path: "spec.containers[].env", schema: pod, want: { patchStrategy: "merge", patchMergeKey: "name" } },
    { path: "spec.containers[].volumeMounts", schema: pod, want: { patchMergeKey: "mountPath" } },
    { path: "spec.containers[].command", schema: pod, want: { type: "array", listType: "atomic" } },
    { path: "spec.containers[].resources.limits{}", schema: pod, want: { type: "string" } },
    { path: "spec.volumes", schema: pod, want: { patchStrategy: "merge,retainKeys", patchMergeKey: "name" } },
    { path: "spec.nodeSelector", schema: pod, want: { type: "object", mapType: "atomic" } },
    { path: "metadata.finalizers", schema: pod, want: { patchStrategy: "merge", listType: "set" } },
    { path: "metadata.ownerReferences[]", schema: pod, want: { type: "object", mapType: "atomic" } },
    { path: "metadata.labels{}", schema: pod, want: { type: "string" } },
    { path: "status.conditions", schema: pod, want: { patchMergeKey: "type", listType: "map" } },
    { path: "spec.strategy", schema: deployment, want: { type: "object", patchStrategy: "retainKeys" } },
    { path: "spec.selector", schema: deployment, want: { type: "object", mapType: "atomic" } },
    { path: "spec.strategy.rollingUpdate.maxSurge", schema: deployment, want: { type: "string" } },
    { path: "spec.template.spec.containers[].env", schema: deployment, want: { patchMergeKey: "name" } },
  ];

  for (const c of cases) {
    void it(`resolves ${c.path}`, () => {
      let s: typeof pod | undefined = c.schema;
      for (const part of c.path.split(".")) {
        const name = part.replace(/(\[\]|\{\})$/, "");
        s = s?.property(name);
        if (part.endsWith("[]")) s = s?.items();
        if (part.endsWith("{}")) s = s?.additionalProperties();
      }
      assert.ok(s !== undefined, `no schema at ${c.path}`);
      for (const [k, v] of Object.entries(c.want)) assert.deepStrictEqual(s[k as keyof typeof s], v, `${c.path} ${k}`);
    });
  }

  void it("has no schema for unknown fields, items of non-lists or values of non-maps", () => {
    assert.equal(pod.property("nope"), undefined);
    assert.equal(pod.property("spec")?.property("containers")?.items()?.property("nope"), undefined);
    assert.equal(pod.property("spec")?.items(), undefined);
    assert.equal(pod.property("spec")?.additionalProperties(), undefined);
    assert.equal(pod.property("toString"), undefined);
  });

  void it("walks recursive definitions lazily", () => {
    const node = schemaFromOpenAPI(openapi, defs.node);
    let s = node;
    for (let i = 0; i < 50; i++) {
      const next = i % 2 === 0 ? s.property("children")?.items() : s.property("byName")?.additionalProperties();
      assert.ok(next !== undefined);
      s = next;
    }
    assert.equal(s.property("name")?.type, "string");
    assert.equal(node.property("anything")?.preserveUnknownFields, true);
    // Property views are cached: the same view every time.
    assert.equal(node.property("children"), node.property("children"));
  });

  void it("lets the wrapper's extensions win over the target's", () => {
    const doc: OpenAPIDocument = {
      components: {
        schemas: {
          T: { type: "object", properties: { f: { allOf: [{ $ref: "#/components/schemas/U" }], "x-kubernetes-map-type": "granular" } } },
          U: { type: "object", "x-kubernetes-map-type": "atomic", properties: { g: { type: "integer" } } },
        },
      },
    };
    const f = schemaFromOpenAPI(doc, "T").property("f");
    assert.equal(f?.mapType, "granular");
    assert.equal(f?.property("g")?.type, "integer");
  });

  void it("reports unknown definitions and unresolvable references as SchemaError", () => {
    assert.throws(() => schemaFromOpenAPI(openapi, "io.k8s.api.core.v1.Nope"), (e: unknown) => isPatchError(e, "SchemaError"));
    const doc: OpenAPIDocument = { components: { schemas: { T: { type: "object", properties: { f: { $ref: "#/components/schemas/Missing" } } } } } };
    assert.throws(() => schemaFromOpenAPI(doc, "T").property("f"), (e: unknown) => isPatchError(e, "SchemaError"));
  });

  void it("survives a definition that refers to itself directly", () => {
    const doc: OpenAPIDocument = { components: { schemas: { T: { allOf: [{ $ref: "#/components/schemas/T" }], type: "object" } } } };
    assert.equal(schemaFromOpenAPI(doc, "T").type, "object");
  });
});
