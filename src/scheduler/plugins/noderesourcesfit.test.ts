import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { makeNode, makePod, podInfo } from "../fixtures.js";
import { NodeInfo } from "../framework/nodeinfo.js";
import { newPodInfo } from "../framework/podinfo.js";
import { Code, CycleState } from "../framework/types.js";
import { fitsRequest, leastAllocatedScore, NodeResourcesFit } from "./noderesourcesfit.js";
import { balancedScore, balancedScore2, BalancedAllocation } from "./balancedallocation.js";

function nodeWith(spec: Parameters<typeof makeNode>[1], pods: Parameters<typeof makePod>[1][] = []): NodeInfo {
  const ni = new NodeInfo(makeNode("n", spec));
  pods.forEach((p, i) => ni.addPod(newPodInfo(makePod(`existing-${i}`, { ...p, nodeName: "n" }))));
  return ni;
}

describe("NodeResourcesFit filter", () => {
  const cases: { name: string; node: NodeInfo; pod: Parameters<typeof podInfo>[1]; reasons: string[] }[] = [
    { name: "fits an empty node", node: nodeWith({ cpu: "2", memory: "4Gi" }), pod: { cpu: "1", memory: "1Gi" }, reasons: [] },
    { name: "cpu exactly used up", node: nodeWith({ cpu: "2" }, [{ cpu: "1500m" }]), pod: { cpu: "500m" }, reasons: [] },
    { name: "insufficient cpu", node: nodeWith({ cpu: "2" }, [{ cpu: "1500m" }]), pod: { cpu: "501m" }, reasons: ["Insufficient cpu"] },
    { name: "insufficient cpu and memory", node: nodeWith({ cpu: "1", memory: "1Gi" }), pod: { cpu: "2", memory: "2Gi" }, reasons: ["Insufficient cpu", "Insufficient memory"] },
    { name: "too many pods", node: nodeWith({ pods: 1 }, [{}]), pod: {}, reasons: ["Too many pods"] },
    { name: "best-effort pod only needs a pod slot", node: nodeWith({ cpu: "1" }, [{ cpu: "1" }]), pod: {}, reasons: [] },
    { name: "extended resource", node: nodeWith({ extra: { "example.com/gpu": "1" } }, [{ extra: { "example.com/gpu": "1" } }]), pod: { extra: { "example.com/gpu": "1" } }, reasons: ["Insufficient example.com/gpu"] },
    { name: "extended resource the node lacks", node: nodeWith({}), pod: { extra: { "example.com/gpu": "1" } }, reasons: ["Insufficient example.com/gpu"] },
    { name: "init containers count at their peak, not summed", node: nodeWith({ cpu: "3" }), pod: { cpu: "1", initContainers: [{ name: "i1", resources: { requests: { cpu: "3" } } }, { name: "i2", resources: { requests: { cpu: "2" } } }] }, reasons: [] },
    { name: "an init container above allocatable", node: nodeWith({ cpu: "3" }), pod: { cpu: "1", initContainers: [{ name: "i1", resources: { requests: { cpu: "4" } } }] }, reasons: ["Insufficient cpu"] },
    { name: "sidecar init containers add to the containers", node: nodeWith({ cpu: "3" }), pod: { cpu: "2", initContainers: [{ name: "s", restartPolicy: "Always", resources: { requests: { cpu: "1500m" } } }] }, reasons: ["Insufficient cpu"] },
    { name: "pod overhead counts", node: nodeWith({ cpu: "1" }), pod: { cpu: "900m", spec: { overhead: { cpu: "200m" } } }, reasons: ["Insufficient cpu"] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const s = new NodeResourcesFit().filter(new CycleState(), podInfo("p", c.pod), c.node);
      if (c.reasons.length === 0) assert.equal(s, null);
      else {
        assert.equal(s?.code, Code.Unschedulable);
        assert.deepEqual(s?.reasons, c.reasons);
      }
    });
  }

  it("reports requested, used and capacity", () => {
    const r = fitsRequest(podInfo("p", { cpu: "2" }), nodeWith({ cpu: "4" }, [{ cpu: "3500m" }]));
    assert.deepEqual(r, [{ resourceName: "cpu", reason: "Insufficient cpu", requested: 2000, used: 3500, capacity: 4000 }]);
  });
});

describe("NodeResourcesFit score (LeastAllocated)", () => {
  it("scores the free share after placing the pod, averaged over cpu and memory", () => {
    // cpu: (4000-1000-1000)/4000 → 50; memory: (8Gi-2Gi-2Gi)/8Gi → 50
    const node = nodeWith({ cpu: "4", memory: "8Gi" }, [{ cpu: "1", memory: "2Gi" }]);
    assert.equal(leastAllocatedScore(podInfo("p", { cpu: "1", memory: "2Gi" }), node), 50);
    // An empty node with a pod asking nothing counts the 100m/200Mi defaults.
    const empty = nodeWith({ cpu: "1", memory: "1Gi" });
    assert.equal(leastAllocatedScore(podInfo("p"), empty), Math.trunc((90 + Math.trunc(((1024 - 200) * 100) / 1024)) / 2));
  });

  it("is 0 when the request exceeds capacity", () => {
    assert.equal(leastAllocatedScore(podInfo("p", { cpu: "8", memory: "16Gi" }), nodeWith({ cpu: "4", memory: "8Gi" })), 0);
  });
});

describe("BalancedAllocation", () => {
  it("scores 1 − std of the used fractions", () => {
    assert.equal(balancedScore([2, 4], [4, 8]), 100);
    assert.equal(balancedScore([4, 0], [4, 8]), 50);
    assert.equal(balancedScore([1, 3], [4, 4]), 75);
    assert.equal(balancedScore([8, 0], [4, 8]), 50);
  });

  it("balancedScore2 is balancedScore over two resources, zero allocatables included", () => {
    const values = [0, 1, 3, 4, 7, 8, 1000, 32000, 2 ** 38];
    for (const r0 of values) for (const a0 of values) for (const r1 of values) for (const a1 of values) {
      assert.equal(balancedScore2(r0, a0, r1, a1), balancedScore([r0, r1], [a0, a1]), `${r0}/${a0} ${r1}/${a1}`);
    }
  });

  it("prefers the node that stays balanced", () => {
    const pl = new BalancedAllocation();
    const pod = podInfo("p", { cpu: "1", memory: "1Gi" });
    const balanced = nodeWith({ cpu: "4", memory: "4Gi" }, [{ cpu: "1", memory: "1Gi" }]);
    const skewed = nodeWith({ cpu: "4", memory: "4Gi" }, [{ cpu: "2" }]);
    assert.ok(pl.score(new CycleState(), pod, balanced) > pl.score(new CycleState(), pod, skewed));
  });

  it("skips pods that request nothing", () => {
    assert.equal(new BalancedAllocation().preScore(new CycleState(), podInfo("p"))?.code, Code.Skip);
  });
});
