import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Affinity } from "kubernetes-types/core/v1.js";
import { makeNode, podInfo } from "../fixtures.js";
import { NodeInfo } from "../framework/nodeinfo.js";
import { Code, CycleState } from "../framework/types.js";
import { NodeAffinity } from "./nodeaffinity.js";

const zoneA = makeNode("a", { labels: { zone: "a", gen: "3", disk: "ssd" } });
const zoneB = makeNode("b", { labels: { zone: "b", gen: "5" } });

function required(terms: NonNullable<NonNullable<Affinity["nodeAffinity"]>["requiredDuringSchedulingIgnoredDuringExecution"]>["nodeSelectorTerms"]): Affinity {
  return { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } };
}

describe("NodeAffinity filter", () => {
  const cases: { name: string; spec: Parameters<typeof podInfo>[1]; fitsA: boolean; fitsB: boolean }[] = [
    { name: "nodeSelector", spec: { spec: { nodeSelector: { zone: "a" } } }, fitsA: true, fitsB: false },
    { name: "nodeSelector with two labels", spec: { spec: { nodeSelector: { zone: "a", disk: "hdd" } } }, fitsA: false, fitsB: false },
    { name: "In", spec: { spec: { affinity: required([{ matchExpressions: [{ key: "zone", operator: "In", values: ["b", "c"] }] }]) } }, fitsA: false, fitsB: true },
    { name: "NotIn matches a node without the label", spec: { spec: { affinity: required([{ matchExpressions: [{ key: "disk", operator: "NotIn", values: ["ssd"] }] }]) } }, fitsA: false, fitsB: true },
    { name: "Exists", spec: { spec: { affinity: required([{ matchExpressions: [{ key: "disk", operator: "Exists" }] }]) } }, fitsA: true, fitsB: false },
    { name: "DoesNotExist", spec: { spec: { affinity: required([{ matchExpressions: [{ key: "disk", operator: "DoesNotExist" }] }]) } }, fitsA: false, fitsB: true },
    { name: "Gt", spec: { spec: { affinity: required([{ matchExpressions: [{ key: "gen", operator: "Gt", values: ["4"] }] }]) } }, fitsA: false, fitsB: true },
    { name: "Lt", spec: { spec: { affinity: required([{ matchExpressions: [{ key: "gen", operator: "Lt", values: ["4"] }] }]) } }, fitsA: true, fitsB: false },
    { name: "terms are ORed", spec: { spec: { affinity: required([{ matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] }, { matchExpressions: [{ key: "zone", operator: "In", values: ["b"] }] }]) } }, fitsA: true, fitsB: true },
    { name: "expressions in a term are ANDed", spec: { spec: { affinity: required([{ matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }, { key: "gen", operator: "In", values: ["5"] }] }]) } }, fitsA: false, fitsB: false },
    { name: "an empty term matches nothing", spec: { spec: { affinity: required([{}]) } }, fitsA: false, fitsB: false },
    { name: "matchFields metadata.name", spec: { spec: { affinity: required([{ matchFields: [{ key: "metadata.name", operator: "In", values: ["b"] }] }]) } }, fitsA: false, fitsB: true },
    { name: "nodeSelector and affinity must both match", spec: { spec: { nodeSelector: { zone: "a" }, affinity: required([{ matchExpressions: [{ key: "gen", operator: "In", values: ["5"] }] }]) } }, fitsA: false, fitsB: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const pl = new NodeAffinity();
      const pod = podInfo("p", c.spec);
      const state = new CycleState();
      const pre = pl.preFilter(state, pod);
      assert.equal(pre.status, null);
      for (const [node, fits] of [[zoneA, c.fitsA], [zoneB, c.fitsB]] as const) {
        const s = pl.filter(state, pod, new NodeInfo(node));
        if (fits) assert.equal(s, null, node.metadata?.name);
        else {
          assert.equal(s?.code, Code.UnschedulableAndUnresolvable);
          assert.deepEqual(s?.reasons, ["node(s) didn't match Pod's node affinity/selector"]);
        }
      }
    });
  }

  it("PreFilter skips pods without constraints", () => {
    assert.equal(new NodeAffinity().preFilter(new CycleState(), podInfo("p")).status?.code, Code.Skip);
  });

  it("PreFilter narrows to the nodes named by matchFields", () => {
    const pod = podInfo("p", { spec: { affinity: required([{ matchFields: [{ key: "metadata.name", operator: "In", values: ["a", "c"] }] }, { matchFields: [{ key: "metadata.name", operator: "In", values: ["d"] }] }]) } });
    const r = new NodeAffinity().preFilter(new CycleState(), pod);
    assert.deepEqual([...(r.result?.nodeNames ?? [])].sort(), ["a", "c", "d"]);
  });

  it("PreFilter does not narrow when some term does not pin names", () => {
    const pod = podInfo("p", { spec: { affinity: required([{ matchFields: [{ key: "metadata.name", operator: "In", values: ["a"] }] }, { matchExpressions: [{ key: "zone", operator: "Exists" }] }]) } });
    assert.equal(new NodeAffinity().preFilter(new CycleState(), pod).result, undefined);
  });

  it("PreFilter rejects terms that pin conflicting names", () => {
    const pod = podInfo("p", { spec: { affinity: required([{ matchFields: [{ key: "metadata.name", operator: "In", values: ["a"] }, { key: "metadata.name", operator: "In", values: ["b"] }] }]) } });
    const r = new NodeAffinity().preFilter(new CycleState(), pod);
    assert.equal(r.status?.code, Code.UnschedulableAndUnresolvable);
  });
});

describe("NodeAffinity score", () => {
  it("sums the weights of matching preferred terms and normalizes to 100", () => {
    const pod = podInfo("p", {
      spec: {
        affinity: {
          nodeAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              { weight: 10, preference: { matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] } },
              { weight: 30, preference: { matchExpressions: [{ key: "gen", operator: "Exists" }] } },
            ],
          },
        },
      },
    });
    const pl = new NodeAffinity();
    const state = new CycleState();
    assert.equal(pl.preScore(state, pod), null);
    const nodes = [new NodeInfo(zoneA), new NodeInfo(zoneB), new NodeInfo(makeNode("c"))];
    const scores = new Float64Array(nodes.map((n) => pl.score(state, pod, n)));
    assert.deepEqual([...scores], [40, 30, 0]);
    pl.normalizeScore(state, pod, scores);
    assert.deepEqual([...scores], [100, 75, 0]);
  });

  it("skips scoring without preferred terms", () => {
    assert.equal(new NodeAffinity().preScore(new CycleState(), podInfo("p"))?.code, Code.Skip);
  });
});
