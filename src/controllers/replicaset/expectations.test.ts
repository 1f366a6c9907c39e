import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FakeClock } from "../../client/clock.js";
import { EXPECTATIONS_TTL_MS, Expectations } from "./expectations.js";

void describe("Expectations", () => {
  void it("holds a key until every expected create and delete is observed", () => {
    const e = new Expectations(new FakeClock());
    assert.ok(e.satisfied("k"), "no record: act");
    e.expectCreations("k", 2);
    assert.ok(!e.satisfied("k"));
    e.creationObserved("k");
    assert.ok(!e.satisfied("k"));
    e.creationObserved("k");
    assert.ok(e.satisfied("k"));
    e.expectDeletions("k", ["ns/a", "ns/b"]);
    e.deletionObserved("k", "ns/a");
    e.deletionObserved("k", "ns/a");
    assert.ok(!e.satisfied("k"), "observing the same deletion twice counts once");
    e.deletionObserved("k", "ns/b");
    assert.ok(e.satisfied("k"));
  });

  void it("expires, so that a lost event cannot stall a controller forever", () => {
    const clock = new FakeClock();
    const e = new Expectations(clock);
    e.expectCreations("k", 1);
    clock.step(EXPECTATIONS_TTL_MS);
    assert.ok(!e.satisfied("k"));
    clock.step(1);
    assert.ok(e.satisfied("k"));
    e.delete("k");
    assert.equal(e.pending("k"), undefined);
  });
});
