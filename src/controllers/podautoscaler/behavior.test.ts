import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { HorizontalPodAutoscalerBehavior } from "kubernetes-types/autoscaling/v2.js";
import { FakeClock } from "../../client/clock.js";
import { Recommender, behaviorWithDefaults, type NormalizeArgs } from "./behavior.js";

const T0 = Date.UTC(2024, 0, 1);
const KEY = "ns/web";

function args(current: number, desired: number, behavior?: HorizontalPodAutoscalerBehavior, min = 1, max = 100): NormalizeArgs {
  return { key: KEY, behavior, minReplicas: min, maxReplicas: max, currentReplicas: current, desiredReplicas: desired };
}

void describe("behaviorWithDefaults", () => {
  void it("fills upstream's defaults for what is unset, the scale-down window from the controller's flag", () => {
    assert.deepEqual(behaviorWithDefaults({}), {
      scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: "Max", policies: [{ type: "Pods", value: 4, periodSeconds: 15 }, { type: "Percent", value: 100, periodSeconds: 15 }] },
      scaleDown: { stabilizationWindowSeconds: 300, selectPolicy: "Max", policies: [{ type: "Percent", value: 100, periodSeconds: 15 }] },
    });
    assert.equal(behaviorWithDefaults({ scaleDown: { selectPolicy: "Min" } }, 60).scaleDown.stabilizationWindowSeconds, 60);
  });
});

void describe("Recommender without behavior (legacy rules)", () => {
  void it("scales up by at most max(2 × current, 4) and says so in ScalingLimited", () => {
    const r = new Recommender(new FakeClock(T0));
    r.recordInitial(KEY, 3);
    const n = r.normalize(args(3, 20));
    assert.equal(n.replicas, 6);
    assert.deepEqual(n.scalingLimited, { status: "True", reason: "ScaleUpLimit", message: "the desired replica count is increasing faster than the maximum scale rate" });
    assert.deepEqual(n.ableToScale.reason, "ReadyForNewScale");
  });

  void it("holds a scale down at the highest recommendation of the last 5 minutes", () => {
    const clock = new FakeClock(T0);
    const r = new Recommender(clock);
    r.recordInitial(KEY, 5);
    const n = r.normalize(args(5, 2));
    assert.deepEqual([n.replicas, n.ableToScale.reason], [5, "ScaleDownStabilized"]);
    clock.step(301_000);
    assert.equal(r.normalize(args(5, 2)).replicas, 2, "the initial recommendation left the window");
  });

  void it("bounds by minReplicas and maxReplicas", () => {
    const r = new Recommender(new FakeClock(T0));
    const few = r.normalize(args(2, 0, undefined, 2, 10));
    assert.deepEqual([few.replicas, few.scalingLimited.reason, few.scalingLimited.status], [2, "TooFewReplicas", "True"]);
    const many = new Recommender(new FakeClock(T0)).normalize(args(8, 12, undefined, 1, 10));
    assert.deepEqual([many.replicas, many.scalingLimited.reason], [10, "TooManyReplicas"]);
    const inside = new Recommender(new FakeClock(T0)).normalize(args(4, 5));
    assert.deepEqual(inside.scalingLimited, { status: "False", reason: "DesiredWithinRange", message: "the desired count is within the acceptable range" });
  });
});

void describe("Recommender with behavior", () => {
  void it("applies the default policies: the larger of 4 pods and 100 % per 15 s up", () => {
    const clock = new FakeClock(T0);
    const r = new Recommender(clock);
    assert.equal(r.normalize(args(1, 50, {})).replicas, 5, "max(1 + 4, 2)");
    assert.equal(new Recommender(clock).normalize(args(10, 50, {})).replicas, 20, "max(14, 20)");
  });

  void it("counts the period's scale events against the budget", () => {
    const clock = new FakeClock(T0);
    const r = new Recommender(clock);
    const b: HorizontalPodAutoscalerBehavior = { scaleUp: { policies: [{ type: "Pods", value: 2, periodSeconds: 60 }] } };
    assert.equal(r.normalize(args(2, 10, b)).replicas, 4);
    r.recordScale(KEY, b, 2, 4);
    clock.step(30_000);
    const n = r.normalize(args(4, 10, b));
    assert.deepEqual([n.replicas, n.scalingLimited.reason], [4, "ScaleUpLimit"], "the 2 pods of this minute are spent");
    clock.step(31_000);
    assert.equal(r.normalize(args(4, 10, b)).replicas, 6);
  });

  void it("selectPolicy Min picks the smallest change, Disabled none", () => {
    const policies = [
      { type: "Pods", value: 1, periodSeconds: 15 },
      { type: "Percent", value: 50, periodSeconds: 15 },
    ];
    const clock = new FakeClock(T0);
    assert.equal(new Recommender(clock).normalize(args(10, 30, { scaleUp: { selectPolicy: "Max", policies } })).replicas, 15);
    assert.equal(new Recommender(clock).normalize(args(10, 30, { scaleUp: { selectPolicy: "Min", policies } })).replicas, 11);
    const off = new Recommender(clock).normalize(args(10, 30, { scaleUp: { selectPolicy: "Disabled" } }));
    assert.deepEqual([off.replicas, off.scalingLimited.reason], [10, "ScaleUpLimit"]);
    const down = { scaleDown: { stabilizationWindowSeconds: 0, selectPolicy: "Min", policies } };
    assert.equal(new Recommender(clock).normalize(args(10, 1, down)).replicas, 9, "Min on the way down: the smaller cut");
    const downMax = { scaleDown: { stabilizationWindowSeconds: 0, policies } };
    const n = new Recommender(clock).normalize(args(10, 1, downMax));
    assert.deepEqual([n.replicas, n.scalingLimited.reason], [5, "ScaleDownLimit"], "Max: int(10 × 0.5)");
  });

  void it("stabilizes a scale down over the window (default 300 s) and a scale up over its own", () => {
    const clock = new FakeClock(T0);
    const r = new Recommender(clock);
    r.recordInitial(KEY, 6);
    const held = r.normalize(args(6, 2, {}));
    assert.deepEqual([held.replicas, held.ableToScale.reason], [6, "ScaleDownStabilized"]);
    clock.step(200_000);
    assert.equal(r.normalize(args(6, 3, {})).replicas, 6, "6 is still in the window");
    clock.step(101_000);
    assert.equal(r.normalize(args(6, 3, {})).replicas, 3, "6 left; the highest left is 3 (2 left too)");

    const up = new Recommender(clock);
    const b = { scaleUp: { stabilizationWindowSeconds: 60 } };
    up.recordInitial(KEY, 2);
    const n = up.normalize(args(2, 8, b));
    assert.deepEqual([n.replicas, n.ableToScale.reason, n.ableToScale.message], [2, "ScaleUpStabilized", "recent recommendations were lower than current one, applying the lowest recent recommendation"]);
    clock.step(61_000);
    assert.equal(up.normalize(args(2, 8, b)).replicas, 6, "stabilized at 8, then 4 pods per 15 s: max(2 + 4, 4)");
  });

  void it("forgets an HPA's history", () => {
    const clock = new FakeClock(T0);
    const r = new Recommender(clock);
    r.recordInitial(KEY, 6);
    r.forget(KEY);
    assert.equal(r.normalize(args(6, 2, { scaleDown: { stabilizationWindowSeconds: 300 } })).replicas, 2);
  });
});
