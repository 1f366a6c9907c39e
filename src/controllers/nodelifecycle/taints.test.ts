import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Node, Toleration } from "kubernetes-types/core/v1.js";
import { conditionNoScheduleTaints, isControllerNoScheduleTaint, matchingTolerations, minTolerationMs, swapTaints, toleratesTaint, zoneKey, UNREACHABLE_NO_EXECUTE, NOT_READY_NO_EXECUTE } from "./taints.js";
import { RateLimitedTimedQueue } from "./ratelimitedqueue.js";
import { FakeClock } from "../../client/clock.js";
import { computeZoneState } from "./controller.js";

void describe("taints", () => {
  void it("tolerate as upstream's ToleratesTaint", () => {
    const t = { key: "k", value: "v", effect: "NoExecute" };
    assert.equal(toleratesTaint({ key: "k", operator: "Equal", value: "v" }, t), true);
    assert.equal(toleratesTaint({ key: "k", value: "v", effect: "NoExecute" }, t), true);
    assert.equal(toleratesTaint({ key: "k", operator: "Equal", value: "w" }, t), false);
    assert.equal(toleratesTaint({ key: "k", operator: "Exists", effect: "NoSchedule" }, t), false);
    assert.equal(toleratesTaint({ operator: "Exists" }, t), true);
    assert.equal(toleratesTaint({ key: "other", operator: "Exists" }, t), false);
    assert.equal(toleratesTaint({ key: "k", operator: "Bogus" }, t), false);
  });

  void it("match every taint with the first toleration for it, or none at all", () => {
    const taints = [UNREACHABLE_NO_EXECUTE, { key: "x", effect: "NoExecute" }];
    const a: Toleration = { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 };
    const b: Toleration = { key: "x", operator: "Exists" };
    assert.deepEqual(matchingTolerations(taints, [a, b]), { all: true, used: [a, b] });
    assert.deepEqual(matchingTolerations(taints, [a]), { all: false, used: [] });
    assert.deepEqual(matchingTolerations([], []), { all: true, used: [] });
    assert.deepEqual(matchingTolerations(taints, []), { all: false, used: [] });
  });

  void it("take the shortest toleration, forever when none has seconds, none at once", () => {
    assert.equal(minTolerationMs([{ tolerationSeconds: 300 }, { tolerationSeconds: 20 }, {}]), 20_000);
    assert.equal(minTolerationMs([{}, {}]), -1);
    assert.equal(minTolerationMs([{ tolerationSeconds: -5 }, { tolerationSeconds: 20 }]), 0);
    assert.equal(minTolerationMs([]), 0);
  });

  void it("swap taints by key and effect, stamping added ones, and say when nothing changes", () => {
    const now = "2026-01-01T00:00:00Z";
    const cur = [{ key: "a", value: "1", effect: "NoSchedule" }, { ...NOT_READY_NO_EXECUTE, timeAdded: "2025-01-01T00:00:00Z" }];
    assert.deepEqual(swapTaints(cur, [UNREACHABLE_NO_EXECUTE], [NOT_READY_NO_EXECUTE], now), [
      { key: "a", value: "1", effect: "NoSchedule" },
      { key: "node.kubernetes.io/unreachable", effect: "NoExecute", timeAdded: now },
    ]);
    assert.equal(swapTaints(cur, [NOT_READY_NO_EXECUTE], [], now), undefined);
    assert.equal(swapTaints(cur, [], [UNREACHABLE_NO_EXECUTE], now), undefined);
    assert.deepEqual(swapTaints(undefined, [], [UNREACHABLE_NO_EXECUTE], now), undefined);
  });

  void it("derive NoSchedule taints from conditions and spec.unschedulable", () => {
    const node: Node = {
      spec: { unschedulable: true },
      status: { conditions: [{ type: "Ready", status: "Unknown" }, { type: "MemoryPressure", status: "True" }, { type: "DiskPressure", status: "False" }, { type: "PIDPressure", status: "Unknown" }] },
    };
    assert.deepEqual(conditionNoScheduleTaints(node).map((t) => t.key), ["node.kubernetes.io/unreachable", "node.kubernetes.io/memory-pressure", "node.kubernetes.io/unschedulable"]);
    assert.equal(isControllerNoScheduleTaint({ key: "node.kubernetes.io/not-ready", effect: "NoSchedule" }), true);
    assert.equal(isControllerNoScheduleTaint({ key: "node.kubernetes.io/not-ready", effect: "NoExecute" }), false);
    assert.equal(isControllerNoScheduleTaint({ key: "kwok.x-k8s.io/node", effect: "NoSchedule" }), false);
  });

  void it("key zones by region and zone labels", () => {
    assert.equal(zoneKey({ metadata: { labels: {} } }), "");
    assert.equal(zoneKey({ metadata: { labels: { "topology.kubernetes.io/region": "r", "topology.kubernetes.io/zone": "z" } } }), "r:\x00:z");
    assert.equal(zoneKey({ metadata: { labels: { "failure-domain.beta.kubernetes.io/zone": "z" } } }), ":\x00:z");
  });
});

void describe("computeZoneState", () => {
  const c = (status: string) => ({ type: "Ready", status });
  void it("is full disruption with no ready node, partial past the threshold with more than two not ready", () => {
    assert.deepEqual(computeZoneState([c("Unknown"), undefined], 0.55), { notReady: 2, state: "FullDisruption" });
    assert.deepEqual(computeZoneState([c("True"), c("False"), c("Unknown"), undefined], 0.55), { notReady: 3, state: "PartialDisruption" });
    assert.deepEqual(computeZoneState([c("True"), c("True"), c("False"), c("Unknown")], 0.55), { notReady: 2, state: "Normal" });
    assert.deepEqual(computeZoneState([c("True"), c("True"), c("True"), c("False"), c("False"), c("False")], 0.55), { notReady: 3, state: "Normal" });
  });
});

void describe("RateLimitedTimedQueue", () => {
  void it("keeps nodes unique, hands them out at the rate, and retries the ones not done later", async () => {
    const clock = new FakeClock(0);
    const q = new RateLimitedTimedQueue(1, clock);
    assert.equal(q.add("a", "1"), true);
    assert.equal(q.add("a", "1"), false);
    q.add("b", "2");
    const seen: string[] = [];
    await q.try((v) => {
      seen.push(v.value);
      return Promise.resolve({ done: true });
    });
    assert.deepEqual(seen, ["a"], "one token: one node");
    clock.step(1000);
    await q.try((v) => {
      seen.push(v.value);
      return Promise.resolve({ done: false, retryAfterMs: 5000 });
    });
    assert.deepEqual(seen, ["a", "b"]);
    assert.equal(q.length, 1);
    clock.step(1000);
    await q.try(() => assert.fail("not due yet"));
    clock.step(5000);
    await q.try((v) => {
      seen.push(v.value);
      return Promise.resolve({ done: true });
    });
    assert.deepEqual(seen, ["a", "b", "b"]);
    assert.equal(q.length, 0);
    assert.equal(q.add("a", "1"), false, "a processed node is not queued again until removed");
    assert.equal(q.remove("a"), false);
    assert.equal(q.add("a", "1"), true);
  });

  void it("lets nothing through at rate 0", async () => {
    const clock = new FakeClock(0);
    const q = new RateLimitedTimedQueue(0, clock);
    q.add("a", "1");
    await q.try(() => assert.fail("rate 0"));
    q.swapLimiter(10);
    let n = 0;
    await q.try(() => {
      n++;
      return Promise.resolve({ done: true });
    });
    assert.equal(n, 1);
  });
});
