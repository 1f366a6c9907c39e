// Kubernetes' lists library and cel-go's sets extension, with upstream's documented examples.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { celCheckError, celError, celEval } from "./testing.js";

describe("CEL lists library", () => {
  it("isSorted", () => {
    assert.equal(celEval("[1, 2, 3].isSorted()"), true);
    assert.equal(celEval("['a', 'b', 'b', 'c'].isSorted()"), true);
    assert.equal(celEval("[2.0, 1.0].isSorted()"), false);
    assert.equal(celEval("[1].isSorted()"), true);
    assert.equal(celEval("[].isSorted()"), true);
    assert.equal(celEval("[false, true].isSorted()"), true);
    assert.equal(celEval("[duration('1s'), duration('1m')].isSorted()"), true);
    assert.equal(celEval("[timestamp('2023-01-02T00:00:00Z'), timestamp('2023-01-01T00:00:00Z')].isSorted()"), false);
    assert.equal(celEval("self.isSorted()", { self: [1n, 3n, 2n] }), false);
  });
  it("sum", () => {
    assert.equal(celEval("[1, 3].sum()"), 4n);
    assert.equal(celEval("[1.0, 3.0].sum()"), 4);
    assert.equal(celEval("[duration('1m'), duration('1s')].sum() == duration('1m1s')"), true);
    assert.equal(celEval("[1u, 2u].sum() == 3u"), true);
    assert.equal(celEval("[].sum()"), 0n);
    assert.equal(celEval("self.sum()", { self: [] }), 0n);
    assert.equal(celError("[9223372036854775807, 1].sum()"), "integer overflow");
  });
  it("min and max", () => {
    assert.equal(celEval("[1, 3].min()"), 1n);
    assert.equal(celEval("[1, 3].max()"), 3n);
    assert.equal(celEval("[1].min()"), 1n);
    assert.equal(celEval("([0] + self).min()", { self: [] }), 0n);
    assert.equal(celEval("['b', 'a', 'c'].max()"), "c");
    assert.equal(celError("[].min()"), "min called on empty list");
    assert.equal(celError("[].max()"), "max called on empty list");
  });
  it("indexOf and lastIndexOf", () => {
    assert.equal(celEval("[1, 2, 2, 3].indexOf(2)"), 1n);
    assert.equal(celEval("['a', 'b', 'b', 'c'].lastIndexOf('b')"), 2n);
    assert.equal(celEval("[1.0].indexOf(1.1)"), -1n);
    assert.equal(celEval("[].indexOf('string')"), -1n);
    assert.equal(celEval("[[1], [2]].indexOf([2])"), 1n);
    assert.equal(celEval("self.indexOf('x')", { self: ["a", "x"] }), 1n);
    // The string overloads stay the strings library's.
    assert.equal(celEval("'abcb'.indexOf('b')"), 1n);
    assert.equal(celEval("'abcb'.lastIndexOf('b')"), 3n);
  });
  it("rejects lists of types that are not comparable", () => {
    assert.match(celCheckError("[{'a': 1}].min()") ?? "", /no matching overload/);
    assert.match(celCheckError("['a'].sum()") ?? "", /no matching overload/);
  });
});

describe("CEL sets extension", () => {
  it("sets.contains", () => {
    assert.equal(celEval("sets.contains([], [])"), true);
    assert.equal(celEval("sets.contains([1], [])"), true);
    assert.equal(celEval("sets.contains([1, 2, 3, 4], [2, 3])"), true);
    assert.equal(celEval("sets.contains([[1], [2, 3]], [[2, 3]])"), true);
    assert.equal(celEval("sets.contains([1, 2, 3], [4])"), false);
  });
  it("sets.equivalent", () => {
    assert.equal(celEval("sets.equivalent([], [])"), true);
    assert.equal(celEval("sets.equivalent([1], [1, 1])"), true);
    assert.equal(celEval("sets.equivalent([[1], [2, 3]], [[1], [2, 3]])"), true);
    assert.equal(celEval("sets.equivalent([1, 2], [2, 2, 2])"), false);
  });
  it("sets.intersects", () => {
    assert.equal(celEval("sets.intersects([1], [1, 2])"), true);
    assert.equal(celEval("sets.intersects([[1], [2, 3]], [[1, 2], [2, 3]])"), true);
    assert.equal(celEval("sets.intersects([1], [])"), false);
    assert.equal(celEval("sets.intersects([1], [2])"), false);
  });
});
