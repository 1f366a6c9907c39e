import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { deepEqual } from "./meta.js";

void describe("deepEqual", () => {
  void it("compares JSON values, with keys set to undefined counting as absent", () => {
    assert.equal(deepEqual({ a: 1, b: [1, { c: "x" }] }, { b: [1, { c: "x" }], a: 1 }), true);
    assert.equal(deepEqual({ a: 1, u: undefined }, { a: 1 }), true);
    assert.equal(deepEqual({ a: 1 }, { a: 1, u: undefined }), true);
    assert.equal(deepEqual({ a: 1 }, { a: 1, b: 2 }), false);
    assert.equal(deepEqual({ a: 1, b: 2 }, { a: 1, c: 2 }), false);
    assert.equal(deepEqual({ a: undefined, b: 1 }, { b: 1, c: undefined }), true);
    assert.equal(deepEqual({ a: null }, { a: undefined }), false);
    assert.equal(deepEqual([1, 2], [1, 2, 3]), false);
    assert.equal(deepEqual([], {}), false);
    assert.equal(deepEqual({ a: { b: [] } }, { a: { b: [] } }), true);
    assert.equal(deepEqual({ a: { b: [1] } }, { a: { b: ["1"] } }), false);
  });
});
