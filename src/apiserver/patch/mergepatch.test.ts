import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { applyMergePatch } from "./mergepatch.js";
import { isPatchError } from "./errors.js";
import type { JsonValue } from "./json.js";

void describe("applyMergePatch (RFC 7386)", () => {
  // The examples of RFC 7386 appendix A, then kubectl's own patches.
  const cases: { name: string; doc: JsonValue; patch: JsonValue; want: JsonValue }[] = [
    { name: "replace a value", doc: { a: "b" }, patch: { a: "c" }, want: { a: "c" } },
    { name: "add a key", doc: { a: "b" }, patch: { b: "c" }, want: { a: "b", b: "c" } },
    { name: "null removes", doc: { a: "b" }, patch: { a: null }, want: {} },
    { name: "null removes one of two", doc: { a: "b", b: "c" }, patch: { a: null }, want: { b: "c" } },
    { name: "list replaces", doc: { a: ["b"] }, patch: { a: "c" }, want: { a: "c" } },
    { name: "value becomes a list", doc: { a: "c" }, patch: { a: ["b"] }, want: { a: ["b"] } },
    { name: "nested merge", doc: { a: { b: "c" } }, patch: { a: { b: "d", c: null } }, want: { a: { b: "d" } } },
    { name: "lists are not merged", doc: { a: [{ b: "c" }] }, patch: { a: [1] }, want: { a: [1] } },
    { name: "lists of objects replace", doc: ["a", "b"], patch: { a: "c" } as JsonValue, want: { a: "c" } },
    { name: "nulls inside new objects are dropped", doc: { e: null }, patch: { a: 1, c: { d: null } }, want: { e: null, a: 1, c: {} } },
    { name: "an empty patch changes nothing", doc: { a: 1 }, patch: {}, want: { a: 1 } },
    {
      name: "kubectl label",
      doc: { metadata: { name: "p", labels: { app: "web" } } },
      patch: { metadata: { labels: { tier: "fe", app: null } } },
      want: { metadata: { name: "p", labels: { tier: "fe" } } },
    },
    {
      name: "kubectl annotate on an object without annotations",
      doc: { metadata: { name: "p" } },
      patch: { metadata: { annotations: { note: "x" } } },
      want: { metadata: { name: "p", annotations: { note: "x" } } },
    },
    {
      name: "kubectl scale",
      doc: { spec: { replicas: 1, selector: { matchLabels: { app: "web" } } } },
      patch: { spec: { replicas: 4 } },
      want: { spec: { replicas: 4, selector: { matchLabels: { app: "web" } } } },
    },
    {
      name: "containers list is replaced whole (no merge keys in JSON merge patch)",
      doc: { spec: { containers: [{ name: "a", image: "a:1" }, { name: "b", image: "b:1" }] } },
      patch: { spec: { containers: [{ name: "a", image: "a:2" }] } },
      want: { spec: { containers: [{ name: "a", image: "a:2" }] } },
    },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      const before = JSON.stringify([c.doc, c.patch]);
      assert.deepStrictEqual(applyMergePatch(c.doc, c.patch), c.want);
      assert.equal(JSON.stringify([c.doc, c.patch]), before, "inputs were modified");
    });
  }

  for (const patch of [null, "x", 1, true]) {
    void it(`rejects a ${JSON.stringify(patch)} patch with 400 Invalid JSON Patch`, () => {
      assert.throws(
        () => applyMergePatch({ a: 1 }, patch),
        (e: unknown) => isPatchError(e, "BadPatch") && e.httpCode === 400 && e.message === "Invalid JSON Patch",
      );
    });
  }

  void it("returns an array patch as the document, as upstream does (the caller rejects it)", () => {
    assert.deepStrictEqual(applyMergePatch({ a: 1 }, [{ b: null }]), [{}]);
  });

  void it("stores __proto__ as a plain key", () => {
    const out = applyMergePatch({ data: {} }, JSON.parse(`{"data":{"__proto__":{"x":"1"}}}`)) as { data: object };
    assert.equal(Object.getPrototypeOf(out.data), Object.prototype);
    assert.deepStrictEqual(Object.keys(out.data), ["__proto__"]);
  });
});
