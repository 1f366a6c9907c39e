import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Condition } from "kubernetes-types/meta/v1.js";
import { setStatusCondition } from "./conditions.js";

const T1 = Date.parse("2026-01-01T00:00:00Z");
const T2 = Date.parse("2026-01-01T00:05:00.750Z");

function ready(status: string, reason: string, lastTransitionTime: string, message = ""): Condition {
  return { type: "Ready", status, reason, message, lastTransitionTime };
}

void describe("setStatusCondition", () => {
  void it("appends a new type, stamped with now at second precision", () => {
    const conds: Condition[] = [ready("True", "Up", "2025-12-31T00:00:00Z")];
    setStatusCondition(conds, { type: "Synced", status: "False", reason: "Failed", message: "boom" }, T2);
    assert.deepEqual(conds, [ready("True", "Up", "2025-12-31T00:00:00Z"), { type: "Synced", status: "False", reason: "Failed", message: "boom", lastTransitionTime: "2026-01-01T00:05:00Z" }]);
  });

  void it("keeps the transition time while the status stays, and takes the rest of the new condition", () => {
    const other: Condition = { type: "Other", status: "True", reason: "R", message: "", lastTransitionTime: "2025-01-01T00:00:00Z" };
    const conds: Condition[] = [ready("False", "Down", "2026-01-01T00:00:00Z", "old"), other];
    setStatusCondition(conds, { type: "Ready", status: "False", reason: "StillDown", message: "new", observedGeneration: 3 }, T2);
    assert.deepEqual(conds[0], { type: "Ready", status: "False", reason: "StillDown", message: "new", observedGeneration: 3, lastTransitionTime: "2026-01-01T00:00:00Z" });
    assert.deepEqual(conds[1], other, "replaced in place: the order of the list is kept");
    assert.equal(conds.length, 2);
  });

  void it("moves the transition time when the status flips", () => {
    const conds: Condition[] = [ready("False", "Down", "2026-01-01T00:00:00Z")];
    setStatusCondition(conds, { type: "Ready", status: "True", reason: "Up", message: "" }, new Date(T2));
    assert.deepEqual(conds, [ready("True", "Up", "2026-01-01T00:05:00Z")]);
  });

  void it("stamps an existing entry that has no transition time", () => {
    const conds: { type: string; status: string; lastTransitionTime?: string; lastProbeTime?: string | null }[] = [{ type: "DisruptionTarget", status: "True", lastProbeTime: null }];
    setStatusCondition(conds, { type: "DisruptionTarget", status: "True", lastProbeTime: null }, T1);
    assert.deepEqual(conds, [{ type: "DisruptionTarget", status: "True", lastProbeTime: null, lastTransitionTime: "2026-01-01T00:00:00Z" }]);
  });

  void it("does not change the condition it was given", () => {
    const c = { type: "Ready", status: "True", reason: "Up", message: "" };
    const conds: Condition[] = [];
    setStatusCondition(conds, c, T1);
    assert.deepEqual(c, { type: "Ready", status: "True", reason: "Up", message: "" });
  });
});
