import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { makeNode, podInfo } from "../fixtures.js";
import { NodeInfo } from "../framework/nodeinfo.js";
import { Code, CycleState } from "../framework/types.js";
import { NodeUnschedulable } from "./nodeunschedulable.js";
import { NodeName } from "./nodename.js";

describe("NodeUnschedulable", () => {
  const cases = [
    { name: "schedulable node", unschedulable: false, tolerations: undefined, fits: true },
    { name: "cordoned node", unschedulable: true, tolerations: undefined, fits: false },
    { name: "cordoned node, pod tolerates the unschedulable taint", unschedulable: true, tolerations: [{ key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" }], fits: true },
    { name: "cordoned node, toleration for another effect", unschedulable: true, tolerations: [{ key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoExecute" }], fits: false },
    { name: "cordoned node, tolerate-everything toleration", unschedulable: true, tolerations: [{ operator: "Exists" }], fits: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const node = new NodeInfo(makeNode("n1", { unschedulable: c.unschedulable }));
      const pod = podInfo("p", c.tolerations ? { tolerations: c.tolerations } : {});
      const s = new NodeUnschedulable().filter(new CycleState(), pod, node);
      if (c.fits) assert.equal(s, null);
      else {
        assert.equal(s?.code, Code.UnschedulableAndUnresolvable);
        assert.deepEqual(s?.reasons, ["node(s) were unschedulable"]);
        assert.equal(s?.plugin, "NodeUnschedulable");
      }
    });
  }
});

describe("NodeName", () => {
  it("passes pods without a node name and the named node; rejects others", () => {
    const n1 = new NodeInfo(makeNode("n1"));
    const pl = new NodeName();
    assert.equal(pl.filter(new CycleState(), podInfo("p"), n1), null);
    assert.equal(pl.filter(new CycleState(), podInfo("p", { spec: { nodeName: "n1" } }), n1), null);
    const s = pl.filter(new CycleState(), podInfo("p", { spec: { nodeName: "n2" } }), n1);
    assert.equal(s?.code, Code.UnschedulableAndUnresolvable);
    assert.deepEqual(s?.reasons, ["node(s) didn't match the requested node name"]);
  });
});
