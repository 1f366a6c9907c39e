import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { applyJSONPatch, maxJSONPatchOperations } from "./jsonpatch.js";
import { isPatchError, type PatchErrorCode } from "./errors.js";
import type { JsonValue } from "./json.js";

const deployment = {
  metadata: { name: "web", annotations: { "deployment.kubernetes.io/revision": "2" }, labels: { app: "web" } },
  spec: {
    replicas: 2,
    template: {
      metadata: { labels: { app: "web", "pod-template-hash": "abc" } },
      spec: { containers: [{ name: "nginx", image: "nginx:1.25" }] },
    },
  },
};

void describe("applyJSONPatch", () => {
  const ok: { name: string; patch: unknown; check: (out: JsonValue) => void }[] = [
    {
      name: "kubectl rollout undo replaces /spec/template and /metadata/annotations",
      patch: [
        { op: "replace", path: "/spec/template", value: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "nginx", image: "nginx:1.24" }] } } },
        { op: "replace", path: "/metadata/annotations", value: { "deployment.kubernetes.io/revision": "1" } },
      ],
      check: (out) => {
        const o = out as typeof deployment;
        assert.equal(o.spec.template.spec.containers[0]?.image, "nginx:1.24");
        assert.deepStrictEqual(o.spec.template.metadata.labels, { app: "web" });
        assert.deepStrictEqual(o.metadata.annotations, { "deployment.kubernetes.io/revision": "1" });
      },
    },
    {
      name: "add appends with - and escapes ~1 in keys",
      patch: [
        { op: "add", path: "/spec/template/spec/containers/-", value: { name: "side", image: "busybox" } },
        { op: "add", path: "/metadata/labels/app.kubernetes.io~1name", value: "web" },
      ],
      check: (out) => {
        const o = out as typeof deployment & { metadata: { labels: Record<string, string> } };
        assert.equal(o.spec.template.spec.containers.length, 2);
        assert.equal(o.metadata.labels["app.kubernetes.io/name"], "web");
      },
    },
    {
      name: "test then replace succeeds when the test holds",
      patch: [
        { op: "test", path: "/spec/replicas", value: 2 },
        { op: "replace", path: "/spec/replicas", value: 3 },
      ],
      check: (out) => assert.equal((out as typeof deployment).spec.replicas, 3),
    },
    {
      name: "remove, move and copy",
      patch: [
        { op: "copy", from: "/metadata/labels", path: "/metadata/annotations" },
        { op: "move", from: "/spec/replicas", path: "/spec/count" },
        { op: "remove", path: "/metadata/labels/app" },
      ],
      check: (out) => {
        const o = out as { metadata: { labels: object; annotations: object }; spec: Record<string, unknown> };
        assert.deepStrictEqual(o.metadata.labels, {});
        assert.deepStrictEqual(o.metadata.annotations, { app: "web" });
        assert.equal(o.spec["replicas"], undefined);
        assert.equal(o.spec["count"], 2);
      },
    },
    { name: "an empty patch returns an equal copy", patch: [], check: (out) => assert.deepStrictEqual(out, deployment) },
  ];
  for (const c of ok) {
    void it(c.name, () => {
      const before = JSON.stringify([deployment, c.patch]);
      const out = applyJSONPatch(deployment, c.patch);
      c.check(out);
      assert.notEqual(out, deployment);
      assert.equal(JSON.stringify([deployment, c.patch]), before, "inputs were modified");
    });
  }

  void it("does not let later operations alias values of earlier ones or the body", () => {
    const value = { a: "1" };
    const out = applyJSONPatch({ metadata: {} }, [
      { op: "add", path: "/metadata/labels", value },
      { op: "add", path: "/metadata/annotations", value },
      { op: "add", path: "/metadata/labels/b", value: "2" },
    ]) as { metadata: { labels: object; annotations: object } };
    assert.deepStrictEqual(out.metadata.labels, { a: "1", b: "2" });
    assert.deepStrictEqual(out.metadata.annotations, { a: "1" });
    assert.deepStrictEqual(value, { a: "1" });
  });

  const bad: { name: string; patch: unknown; code: PatchErrorCode; httpCode: number; message?: string }[] = [
    { name: "a body that is an object", patch: { op: "add" }, code: "BadPatch", httpCode: 400, message: "json: cannot unmarshal object into Go value of type jsonpatch.Patch" },
    { name: "an operation that is a string", patch: ["x"], code: "BadPatch", httpCode: 400, message: "json: cannot unmarshal string into Go value of type jsonpatch.Operation" },
    { name: "a failed test", patch: [{ op: "test", path: "/spec/replicas", value: 3 }], code: "JSONPatchFailed", httpCode: 422 },
    { name: "remove of a missing path", patch: [{ op: "remove", path: "/metadata/labels/nope" }], code: "JSONPatchFailed", httpCode: 422 },
    { name: "replace of a missing key", patch: [{ op: "replace", path: "/spec/paused", value: true }], code: "JSONPatchFailed", httpCode: 422 },
    { name: "add under a missing parent", patch: [{ op: "add", path: "/status/conditions/0", value: {} }], code: "JSONPatchFailed", httpCode: 422 },
    { name: "add past the end of a list", patch: [{ op: "add", path: "/spec/template/spec/containers/5", value: {} }], code: "JSONPatchFailed", httpCode: 422 },
    { name: "an unknown op", patch: [{ op: "_get", path: "/spec" }], code: "JSONPatchFailed", httpCode: 422 },
    { name: "a missing value", patch: [{ op: "add", path: "/spec/x" }], code: "JSONPatchFailed", httpCode: 422 },
    { name: "move without from", patch: [{ op: "move", path: "/spec/x" }], code: "JSONPatchFailed", httpCode: 422 },
    { name: "a path without a leading slash", patch: [{ op: "add", path: "spec", value: 1 }], code: "JSONPatchFailed", httpCode: 422 },
    { name: "__proto__ in a path", patch: [{ op: "add", path: "/__proto__/polluted", value: 1 }], code: "JSONPatchFailed", httpCode: 422 },
    {
      name: "more operations than upstream allows",
      patch: Array.from({ length: maxJSONPatchOperations + 1 }, () => ({ op: "test", path: "/spec/replicas", value: 2 })),
      code: "TooManyOperations",
      httpCode: 413,
      message: "The allowed maximum operations in a JSON patch is 10000, got 10001",
    },
  ];
  for (const c of bad) {
    void it(`rejects ${c.name}`, () => {
      assert.throws(
        () => applyJSONPatch(deployment, c.patch),
        (e: unknown) => {
          assert.ok(isPatchError(e), String(e));
          assert.equal(e.code, c.code);
          assert.equal(e.httpCode, c.httpCode);
          if (c.message !== undefined) assert.equal(e.message, c.message);
          if (c.code === "JSONPatchFailed") {
            assert.equal(e.message, "the server rejected our request due to an error in our request");
            assert.equal(e.toStatus().reason, "Invalid");
            assert.ok((e.extra.detail ?? "").length > 0);
          }
          return true;
        },
      );
    });
  }
  void it("leaves Object.prototype alone", () => {
    assert.equal(({} as Record<string, unknown>)["polluted"], undefined);
  });
});
