import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { labelSelectorAsSelector } from "../../api/labels.js";
import { makeNode, makePod } from "../fixtures.js";
import { SchedulerCache } from "./cache.js";
import { fitErrorMessage } from "./fiterror.js";
import { newPodInfo, withNodeName } from "./podinfo.js";
import { Code, NodeToStatus, Status } from "./types.js";

describe("SchedulerCache", () => {
  it("assume counts a pod at once; the informer's bound pod confirms it; forget after confirm is a no-op", () => {
    const c = new SchedulerCache();
    c.addNode(makeNode("n1", { cpu: "4" }));
    const pod = newPodInfo(makePod("p", { cpu: "1" }));
    c.assumePod(withNodeName(pod, "n1"));
    assert.equal(c.isAssumed(pod.uid), true);
    assert.equal(c.get("n1")!.requested.milliCPU, 1000);
    c.addPod(newPodInfo(makePod("p", { cpu: "1", nodeName: "n1" })));
    assert.equal(c.isAssumed(pod.uid), false);
    assert.equal(c.get("n1")!.requested.milliCPU, 1000, "confirmed, not counted twice");
    assert.equal(c.forgetPod(pod.uid), undefined);
    assert.equal(c.get("n1")!.pods.length, 1);
  });

  it("forget undoes an assumption; a confirmation on another node moves the pod", () => {
    const c = new SchedulerCache();
    c.addNode(makeNode("n1"));
    c.addNode(makeNode("n2"));
    const pod = newPodInfo(makePod("p", { cpu: "1" }));
    c.assumePod(withNodeName(pod, "n1"));
    assert.ok(c.forgetPod(pod.uid));
    assert.equal(c.get("n1")!.pods.length, 0);
    c.assumePod(withNodeName(pod, "n1"));
    c.addPod(newPodInfo(makePod("p", { cpu: "1", nodeName: "n2" })));
    assert.equal(c.get("n1")!.pods.length, 0);
    assert.equal(c.get("n2")!.requested.milliCPU, 1000);
  });

  it("keeps pods of a node that is not (yet or any more) there, and hides that node", () => {
    const c = new SchedulerCache();
    c.addPod(newPodInfo(makePod("early", { nodeName: "late", cpu: "1" })));
    assert.equal(c.get("late"), undefined);
    assert.equal(c.numNodes(), 0);
    c.addNode(makeNode("late"));
    assert.equal(c.get("late")!.requested.milliCPU, 1000);
    c.removeNode("late");
    assert.equal(c.list().length, 0);
    c.addNode(makeNode("late"));
    assert.equal(c.get("late")!.pods.length, 1);
  });

  it("lists nodes round robin over zones", () => {
    const c = new SchedulerCache();
    for (const [n, z] of [["a1", "a"], ["a2", "a"], ["a3", "a"], ["b1", "b"], ["c1", "c"], ["c2", "c"]] as const) c.addNode(makeNode(n, { labels: { "topology.kubernetes.io/zone": z } }));
    assert.deepEqual(c.list().map((n) => n.name), ["a1", "b1", "c1", "a2", "c2", "a3"]);
  });

  it("tracks nodes with affinity pods, term groups and the label index as pods come and go", () => {
    const c = new SchedulerCache();
    c.addNode(makeNode("n1"));
    c.addNode(makeNode("n2"));
    const anti = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: "w" } }, topologyKey: "kubernetes.io/hostname" }] } };
    const w1 = newPodInfo(makePod("w1", { nodeName: "n1", labels: { app: "w" }, spec: { affinity: anti } }));
    const w2 = newPodInfo(makePod("w2", { nodeName: "n2", labels: { app: "w" }, spec: { affinity: anti } }));
    c.addPod(w1);
    c.addPod(w2);
    assert.deepEqual(c.havePodsWithRequiredAntiAffinity().map((n) => n.name).sort(), ["n1", "n2"]);
    const groups = [...c.termGroups("requiredAntiAffinity")];
    assert.equal(groups.length, 1, "identical terms share one group");
    assert.deepEqual(Object.fromEntries(groups[0]!.nodes), { n1: 1, n2: 1 });
    assert.deepEqual([...c.candidatePods(new Set(["default"]), labelSelectorAsSelector({ matchLabels: { app: "w" } }))].map((p) => p.name).sort(), ["w1", "w2"]);
    assert.deepEqual([...c.candidatePods(new Set(["other"]), labelSelectorAsSelector({ matchLabels: { app: "w" } }))], []);
    c.removePod(w1.uid);
    c.removePod(w2.uid);
    assert.equal(c.havePodsWithRequiredAntiAffinity().length, 0);
    assert.equal(c.termGroups("requiredAntiAffinity").size, 0);
  });

  it("bumps the node shape generation only when labels or taints change", () => {
    const c = new SchedulerCache();
    c.addNode(makeNode("n1"));
    const g = c.nodeShapeGeneration;
    c.updateNode(makeNode("n1", { cpu: "8" }));
    assert.equal(c.nodeShapeGeneration, g);
    c.updateNode(makeNode("n1", { cpu: "8", labels: { x: "y" } }));
    assert.equal(c.nodeShapeGeneration, g + 1);
  });
});

describe("fitErrorMessage", () => {
  it("sorts the reason histogram as Go's sort.Strings does", () => {
    const st = new NodeToStatus();
    for (let i = 0; i < 10; i++) st.set(`a${i}`, new Status(Code.Unschedulable, ["Insufficient cpu"]));
    st.set("b", new Status(Code.Unschedulable, ["Insufficient cpu", "Insufficient memory"]));
    st.set("c", new Status(Code.UnschedulableAndUnresolvable, ["node(s) were unschedulable"]));
    st.set("d", new Status(Code.UnschedulableAndUnresolvable, ["node(s) were unschedulable"]));
    // "11 ..." sorts before "2 ..." byte-wise, exactly as upstream prints it.
    assert.equal(fitErrorMessage(13, st, ""), "0/13 nodes are available: 1 Insufficient memory, 11 Insufficient cpu, 2 node(s) were unschedulable.");
  });

  it("counts absent nodes under the absent status; a PreFilter message replaces the histogram", () => {
    const st = new NodeToStatus();
    st.set("a", new Status(Code.Unschedulable, ["Insufficient cpu"]));
    st.absent = new Status(Code.UnschedulableAndUnresolvable, ["node(s) didn't satisfy plugin(s) [NodeAffinity]"]);
    assert.equal(fitErrorMessage(5, st, ""), "0/5 nodes are available: 1 Insufficient cpu, 4 node(s) didn't satisfy plugin(s) [NodeAffinity].");
    assert.equal(fitErrorMessage(5, st, "pod affinity terms conflict", "preemption: x."), "0/5 nodes are available: pod affinity terms conflict. preemption: x.");
  });
});
