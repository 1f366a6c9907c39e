// cel-go's two-variable comprehensions, with examples from cel-go's documentation.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { celCheckError, celError, celEval } from "./testing.js";

describe("CEL two-variable comprehensions", () => {
  it("all, exists, existsOne over lists and maps", () => {
    assert.equal(celEval("[1, 2, 3].all(i, j, i < j)"), true);
    assert.equal(celEval("{'hello': 'world', 'taco': 'taco'}.all(k, v, k != v)"), false);
    assert.equal(celEval("{'h': ['hello', 'hi'], 'j': ['joke', 'jog']}.all(k, vals, vals.all(v, v.startsWith(k)))"), true);
    assert.equal(celEval("{'greeting': 'hello', 'farewell': 'goodbye'}.exists(k, v, k.startsWith('good') || v.endsWith('bye'))"), true);
    assert.equal(celEval("[1, 2, 1].existsOne(i, v, v == 2 && i == 1)"), true);
    assert.equal(celEval("[1, 2, 1].exists_one(i, v, v == 1)"), false);
    assert.equal(celEval("self.all(i, v, v > i)", { self: [1n, 2n] }), true);
  });
  it("transformList, transformMap, transformMapEntry", () => {
    assert.deepEqual(celEval("[1, 2, 3].transformList(indexVar, valueVar, (indexVar * valueVar) + valueVar)"), [1n, 4n, 9n]);
    assert.deepEqual(celEval("[1, 2, 3].transformList(indexVar, valueVar, indexVar % 2 == 0, (indexVar * valueVar) + valueVar)"), [1n, 9n]);
    assert.deepEqual(
      celEval("{'greeting': 'hello', 'farewell': 'goodbye'}.transformMap(k, v, k + v)"),
      new Map([
        ["greeting", "greetinghello"],
        ["farewell", "farewellgoodbye"],
      ]),
    );
    assert.deepEqual(celEval("[1, 2].transformMap(i, v, i + v)"), new Map([[0n, 1n], [1n, 3n]]));
    assert.deepEqual(
      celEval("{'a': 'x', 'b': 'y'}.transformMapEntry(k, v, {v: k})"),
      new Map([
        ["x", "a"],
        ["y", "b"],
      ]),
    );
    assert.match(celError("{'greeting': 'aloha', 'farewell': 'aloha'}.transformMapEntry(k, v, {v: k})"), /insert failed: key aloha already exists/);
  });
  it("checks its arguments", () => {
    assert.match(celCheckError("[1].all(i, v, v)") ?? "", /predicate must return bool/);
    assert.match(celCheckError("1.all(i, v, true)") ?? "", /cannot range over 'int'/);
  });
});
