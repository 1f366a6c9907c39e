import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { jsonEqual } from "./json.js";

void describe("jsonEqual", () => {
  void it("compares JSON values, with keys set to undefined counting as absent", () => {
    assert.equal(jsonEqual({ a: 1, b: [1, { c: "x" }] }, { b: [1, { c: "x" }], a: 1 }), true);
    assert.equal(jsonEqual({ a: 1, u: undefined }, { a: 1 }), true);
    assert.equal(jsonEqual({ a: 1 }, { a: 1, u: undefined }), true);
    assert.equal(jsonEqual({ a: 1 }, { a: 1, b: 2 }), false);
    assert.equal(jsonEqual({ a: 1, b: 2 }, { a: 1, c: 2 }), false);
    assert.equal(jsonEqual({ a: undefined, b: 1 }, { b: 1, c: undefined }), true);
    assert.equal(jsonEqual({ a: null }, { a: undefined }), false);
    assert.equal(jsonEqual([1, 2], [1, 2, 3]), false);
    assert.equal(jsonEqual([], {}), false);
    assert.equal(jsonEqual({ a: { b: [] } }, { a: { b: [] } }), true);
    assert.equal(jsonEqual({ a: { b: [1] } }, { a: { b: ["1"] } }), false);
  });
});

/** JSON with object keys sorted: what jsonEqual must agree with. */
function sortedJson(v: unknown): string | undefined {
  return JSON.stringify(v, (_k, val: unknown) => (val && typeof val === "object" && !Array.isArray(val) ? Object.fromEntries(Object.keys(val).sort().map((k) => [k, (val as Record<string, unknown>)[k]])) : val));
}

void describe("jsonEqual against key-sorted JSON", () => {
  void it("agrees with comparing key-sorted JSON", () => {
    const values: unknown[] = [
      undefined,
      null,
      0,
      1,
      "1",
      true,
      [],
      {},
      [1, 2],
      [2, 1],
      [undefined],
      [null],
      { a: 1 },
      { a: 1, b: undefined },
      { b: 2, a: 1 },
      { a: 1, b: 2 },
      { a: [{ x: 1, y: "s" }] },
      { a: [{ y: "s", x: 1 }] },
      { a: [{ x: 1 }] },
      { a: {} },
      { a: [] },
      { status: { conditions: [{ type: "Ready", status: "True", reason: undefined }], phase: "Running" } },
      { status: { phase: "Running", conditions: [{ status: "True", type: "Ready" }] } },
    ];
    for (const a of values) for (const b of values) assert.equal(jsonEqual(a, b), sortedJson(a) === sortedJson(b), `${sortedJson(a)} vs ${sortedJson(b)}`);
  });
});

void describe("jsonEqual on the patchers' JSON", () => {
  void it("compares JSON values structurally", () => {
    assert.ok(jsonEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }));
    assert.ok(!jsonEqual([1], { 0: 1 }));
    assert.ok(!jsonEqual({ a: null }, { a: 0 }));
    assert.ok(!jsonEqual({ a: null }, {}));
  });

  void it("counts a member set to undefined as absent, as the stored bytes do", () => {
    assert.ok(jsonEqual({ a: 1 }, { a: 1, b: undefined }));
  });
});
