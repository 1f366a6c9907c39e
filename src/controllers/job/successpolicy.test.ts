import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { matchSuccessPolicy } from "./successpolicy.js";

void describe("matchSuccessPolicy", () => {
  void it("succeededIndexes: met when all of them succeeded", () => {
    const policy = { rules: [{ succeededIndexes: "0,2-3" }] };
    assert.equal(matchSuccessPolicy(policy, 5, new Set([0, 2])), undefined);
    assert.equal(matchSuccessPolicy(policy, 5, new Set([0, 2, 3])), "Matched rules at index 0");
  });

  void it("succeededIndexes with succeededCount: only the listed indexes count", () => {
    // The API reference's example: indexes 1-4, count 3, and 1, 3, 5 succeeded is not enough.
    const policy = { rules: [{ succeededIndexes: "1-4", succeededCount: 3 }] };
    assert.equal(matchSuccessPolicy(policy, 6, new Set([1, 3, 5])), undefined);
    assert.equal(matchSuccessPolicy(policy, 6, new Set([1, 3, 4])), "Matched rules at index 0");
  });

  void it("succeededCount alone: any indexes; rules in order, the first met is named", () => {
    const policy = { rules: [{ succeededIndexes: "4" }, { succeededCount: 2 }] };
    assert.equal(matchSuccessPolicy(policy, 5, new Set([0])), undefined);
    assert.equal(matchSuccessPolicy(policy, 5, new Set([0, 1])), "Matched rules at index 1");
    assert.equal(matchSuccessPolicy(undefined, 5, new Set([0, 1])), undefined);
  });
});
