import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { deepFreeze } from "../../client/objects.js";
import { compareForDeletion, isPodActive, isPodAvailable, msUntilAvailable, podsToDelete } from "./podutil.js";
import { T0, pod, type PodOpts } from "./testutil.js";

const p = (name: string, o: PodOpts = {}) => deepFreeze(pod(name, o));

void describe("pod readiness", () => {
  void it("counts a pod available minReadySeconds after it turned ready, not before", () => {
    const x = p("x", { node: "n", readySince: T0 - 10_000 });
    assert.equal(isPodAvailable(x, 0, T0), true);
    assert.equal(isPodAvailable(x, 5, T0), true);
    assert.equal(isPodAvailable(x, 10, T0), false, "exactly minReadySeconds is not yet more than it");
    assert.equal(isPodAvailable(x, 30, T0), false);
    assert.equal(msUntilAvailable(x, 30, T0), 20_001);
    assert.equal(isPodAvailable(p("y", { node: "n" }), 0, T0), false);
  });

  void it("treats finished and terminating pods as inactive", () => {
    assert.equal(isPodActive(p("a", { phase: "Running" })), true);
    assert.equal(isPodActive(p("a", { phase: "Succeeded" })), false);
    assert.equal(isPodActive(p("a", { phase: "Failed" })), false);
    assert.equal(isPodActive(p("a", { deleting: true })), false);
  });
});

void describe("compareForDeletion", () => {
  const before = (a: ReturnType<typeof p>, b: ReturnType<typeof p>, ra = 0, rb = 0) => {
    assert.ok(compareForDeletion(a, ra, b, rb, T0) < 0, `${a.metadata?.name} should go before ${b.metadata?.name}`);
    assert.ok(compareForDeletion(b, rb, a, ra, T0) > 0, `and not the other way round`);
  };

  void it("orders by upstream's rules, each deciding only when the earlier ones tie", () => {
    before(p("unassigned", { phase: "Running", readySince: T0 - 1000 }), p("assigned", { node: "n", phase: "Pending" }));
    before(p("pending", { node: "n", phase: "Pending" }), p("unknown", { node: "n", phase: "Unknown" }));
    before(p("unknown", { node: "n", phase: "Unknown" }), p("running", { node: "n", phase: "Running" }));
    before(p("not-ready", { node: "n" }), p("ready", { node: "n", readySince: T0 - 1000 }));
    const ready = T0 - 3600_000;
    before(p("cheap", { node: "n", readySince: ready, annotations: { "controller.kubernetes.io/pod-deletion-cost": "-5" } }), p("costly", { node: "n", readySince: ready, annotations: { "controller.kubernetes.io/pod-deletion-cost": "100" } }));
    before(p("doubled", { node: "n", readySince: ready }), p("alone", { node: "m", readySince: ready }), 3, 1);
    before(p("ready-recently", { node: "n", readySince: T0 - 1000 }), p("ready-long", { node: "n", readySince: T0 - 86400_000 }));
    before(p("restarts", { node: "n", readySince: ready, restarts: 3 }), p("steady", { node: "n", readySince: ready, restarts: 0 }));
    before(p("newer", { node: "n", readySince: ready, created: T0 - 1000 }), p("older", { node: "n", readySince: ready, created: T0 - 86400_000 }));
  });

  void it("compares ages on a log2 scale: pods of about the same age are spread by uid", () => {
    const a = p("a", { node: "n", created: T0 - 100_000, uid: "b-uid" });
    const b = p("b", { node: "n", created: T0 - 101_000, uid: "a-uid" });
    assert.ok(compareForDeletion(b, 0, a, 0, T0) < 0, "same log2 bucket: the smaller uid goes first although it is older");
    assert.ok(compareForDeletion(a, 0, b, 0) < 0, "without a reference time, newer goes first");
  });

  void it("an invalid deletion cost counts as 0", () => {
    const ready = T0 - 3600_000;
    before(p("zero", { node: "n", readySince: ready, annotations: { "controller.kubernetes.io/pod-deletion-cost": "abc" } }), p("one", { node: "n", readySince: ready, annotations: { "controller.kubernetes.io/pod-deletion-cost": "1" } }));
  });
});

void describe("podsToDelete", () => {
  void it("takes all when asked for all, else the best-ranked, counting related pods per node", () => {
    const ready = T0 - 3600_000;
    const mine = [p("n1-a", { node: "n1", readySince: ready }), p("n2-a", { node: "n2", readySince: ready })];
    assert.equal(podsToDelete(mine, [], 2, T0).length, 2);
    const related = [...mine, p("n2-b", { node: "n2", readySince: ready }), p("n2-gone", { node: "n2", phase: "Succeeded" })];
    assert.deepEqual(podsToDelete(mine, related, 1, T0).map((x) => x.metadata?.name), ["n2-a"]);
  });
});
