import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Taint, Toleration } from "kubernetes-types/core/v1.js";
import { makeNode, podInfo } from "../fixtures.js";
import { NodeInfo } from "../framework/nodeinfo.js";
import { Code, CycleState } from "../framework/types.js";
import { TaintToleration } from "./tainttoleration.js";

describe("TaintToleration filter", () => {
  const cases: { name: string; taints: Taint[]; tolerations?: Toleration[]; reason?: string }[] = [
    { name: "no taints", taints: [] },
    { name: "NoSchedule not tolerated", taints: [{ key: "gpu", value: "true", effect: "NoSchedule" }], reason: "node(s) had untolerated taint {gpu: true}" },
    { name: "control-plane taint without value", taints: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }], reason: "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }" },
    { name: "NoExecute not tolerated", taints: [{ key: "k", value: "v", effect: "NoExecute" }], reason: "node(s) had untolerated taint {k: v}" },
    { name: "PreferNoSchedule never filters", taints: [{ key: "k", value: "v", effect: "PreferNoSchedule" }] },
    { name: "Equal toleration", taints: [{ key: "gpu", value: "true", effect: "NoSchedule" }], tolerations: [{ key: "gpu", operator: "Equal", value: "true", effect: "NoSchedule" }] },
    { name: "Equal toleration, other value", taints: [{ key: "gpu", value: "true", effect: "NoSchedule" }], tolerations: [{ key: "gpu", value: "false" }], reason: "node(s) had untolerated taint {gpu: true}" },
    { name: "Exists toleration without effect", taints: [{ key: "gpu", value: "true", effect: "NoSchedule" }], tolerations: [{ key: "gpu", operator: "Exists" }] },
    { name: "toleration for the wrong effect", taints: [{ key: "gpu", value: "true", effect: "NoSchedule" }], tolerations: [{ key: "gpu", operator: "Exists", effect: "NoExecute" }], reason: "node(s) had untolerated taint {gpu: true}" },
    { name: "first untolerated taint is reported", taints: [{ key: "a", value: "1", effect: "NoSchedule" }, { key: "b", value: "2", effect: "NoSchedule" }], tolerations: [{ key: "a", operator: "Exists" }], reason: "node(s) had untolerated taint {b: 2}" },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const node = new NodeInfo(makeNode("n1", { taints: c.taints }));
      const s = new TaintToleration().filter(new CycleState(), podInfo("p", c.tolerations ? { tolerations: c.tolerations } : {}), node);
      if (!c.reason) assert.equal(s, null);
      else {
        assert.equal(s?.code, Code.UnschedulableAndUnresolvable);
        assert.deepEqual(s?.reasons, [c.reason]);
      }
    });
  }
});

describe("TaintToleration score", () => {
  it("prefers nodes with fewer intolerable PreferNoSchedule taints (reversed, normalized)", () => {
    const pl = new TaintToleration();
    const nodes = [
      new NodeInfo(makeNode("none")),
      new NodeInfo(makeNode("one", { taints: [{ key: "a", value: "1", effect: "PreferNoSchedule" }] })),
      new NodeInfo(makeNode("two", { taints: [{ key: "a", value: "1", effect: "PreferNoSchedule" }, { key: "b", value: "2", effect: "PreferNoSchedule" }] })),
      new NodeInfo(makeNode("tolerated", { taints: [{ key: "c", value: "3", effect: "PreferNoSchedule" }] })),
    ];
    const pod = podInfo("p", { tolerations: [{ key: "c", operator: "Exists", effect: "PreferNoSchedule" }] });
    const state = new CycleState();
    assert.equal(pl.preScore(state, pod), null);
    const scores = new Float64Array(nodes.map((n) => pl.score(state, pod, n)));
    assert.deepEqual([...scores], [0, 1, 2, 0]);
    pl.normalizeScore(state, pod, scores);
    assert.deepEqual([...scores], [100, 50, 0, 100]);
  });

  it("all nodes score 100 when none has such taints", () => {
    const scores = new Float64Array([0, 0]);
    new TaintToleration().normalizeScore(new CycleState(), podInfo("p"), scores);
    assert.deepEqual([...scores], [100, 100]);
  });
});

describe("TaintToleration verdicts shared by nodes with equal taints", () => {
  const gpu: Taint[] = [{ key: "gpu", value: "true", effect: "NoSchedule" }];
  it("gives each node the verdict of its own taints, across pods with different tolerations", () => {
    const pl = new TaintToleration();
    const state = new CycleState();
    const a = new NodeInfo(makeNode("a", { taints: gpu }));
    const b = new NodeInfo(makeNode("b", { taints: [{ key: "gpu", value: "true", effect: "NoSchedule" }] }));
    const other = new NodeInfo(makeNode("c", { taints: [{ key: "gpu", value: "false", effect: "NoSchedule" }] }));
    const timeAdded = new NodeInfo(makeNode("d", { taints: [{ key: "gpu", value: "true", effect: "NoSchedule", timeAdded: "2024-01-01T00:00:00Z" }] }));
    assert.equal(a.taintSetId, b.taintSetId);
    assert.equal(a.taintSetId, timeAdded.taintSetId);
    assert.notEqual(a.taintSetId, other.taintSetId);
    const tolerant = podInfo("t", { tolerations: [{ key: "gpu", operator: "Equal", value: "true" }] });
    const plain = podInfo("p");
    for (const round of [1, 2]) {
      assert.equal(pl.filter(state, tolerant, a), null, `round ${round}`);
      assert.equal(pl.filter(state, tolerant, b), null);
      assert.equal(pl.filter(state, tolerant, other)?.message(), "node(s) had untolerated taint {gpu: false}");
      assert.equal(pl.filter(state, plain, b)?.message(), "node(s) had untolerated taint {gpu: true}");
      assert.equal(pl.filter(state, plain, timeAdded)?.message(), "node(s) had untolerated taint {gpu: true}");
      assert.equal(pl.filter(state, plain, other)?.message(), "node(s) had untolerated taint {gpu: false}");
    }
  });

  it("counts PreferNoSchedule taints per node in the score", () => {
    const pl = new TaintToleration();
    const state = new CycleState();
    const pod = podInfo("p", { tolerations: [{ key: "x", operator: "Exists", effect: "PreferNoSchedule" }] });
    const two = new NodeInfo(makeNode("a", { taints: [{ key: "x", effect: "PreferNoSchedule" }, { key: "y", effect: "PreferNoSchedule" }, { key: "z", effect: "PreferNoSchedule" }] }));
    const one = new NodeInfo(makeNode("b", { taints: [{ key: "x", effect: "PreferNoSchedule" }, { key: "y", effect: "PreferNoSchedule" }] }));
    pl.preScore(state, pod);
    assert.deepEqual([pl.score(state, pod, two), pl.score(state, pod, one), pl.score(state, pod, two)], [2, 1, 2]);
  });
});
