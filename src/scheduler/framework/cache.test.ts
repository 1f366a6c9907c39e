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

  it("takes a new version of a pod in its old one's place, and re-files one whose labels, node or affinity differ", () => {
    const c = new SchedulerCache();
    c.addNode(makeNode("n1", { cpu: "8" }));
    c.addNode(makeNode("n2", { cpu: "8" }));
    const sel = (labels: Record<string, string>): [Set<string>, ReturnType<typeof labelSelectorAsSelector>] => [new Set(["default"]), labelSelectorAsSelector({ matchLabels: labels })];
    const names = (labels: Record<string, string>): string[] => [...c.candidatePods(...sel(labels))].map((p) => p.name).sort();
    const other = newPodInfo(makePod("other", { nodeName: "n1", cpu: "1", labels: { app: "w" } }));
    c.addPod(other);
    const v1 = newPodHostPort("p", { cpu: "1", labels: { app: "w", tier: "a" } });
    c.assumePod(withNodeName(v1, "n1"));
    const v2 = newPodHostPort("p", { cpu: "1", nodeName: "n1", labels: { app: "w", tier: "a" } });
    c.addPod(v2);
    const n1 = c.get("n1")!;
    assert.equal(c.isAssumed(v2.uid), false, "confirmed");
    assert.equal(n1.pods.length, 2);
    assert.equal(n1.getPod(v2.uid), v2);
    assert.equal(n1.requested.milliCPU, 2000);
    const port = { protocol: "TCP", ip: "0.0.0.0", port: 8080 };
    assert.equal(n1.usedPorts.conflicts(port), true);
    assert.ok([...c.candidatePods(...sel({ tier: "a" }))].includes(v2), "the index holds the new version");
    assert.deepEqual(names({ app: "w" }), ["other", "p"]);

    const v3 = newPodHostPort("p", { cpu: "2", nodeName: "n1", labels: { app: "w", tier: "b" } });
    c.updatePod(v3);
    assert.equal(n1.requested.milliCPU, 3000, "sums follow the new requests");
    assert.deepEqual(names({ tier: "a" }), [], "re-filed under its new labels");
    assert.deepEqual(names({ tier: "b" }), ["p"]);

    const v4 = newPodHostPort("p", { cpu: "2", nodeName: "n2", labels: { app: "w", tier: "b" } });
    c.updatePod(v4);
    assert.equal(n1.pods.length, 1);
    assert.equal(n1.requested.milliCPU, 1000);
    assert.equal(c.get("n2")!.requested.milliCPU, 2000);
    assert.equal(n1.usedPorts.conflicts(port), false, "the port went with the pod");
    assert.equal(c.get("n2")!.usedPorts.conflicts(port), true);
    assert.deepEqual(names({ tier: "b" }), ["p"]);

    const anti = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: "w" } }, topologyKey: "kubernetes.io/hostname" }] } };
    c.updatePod(newPodInfo(makePod("p", { cpu: "2", nodeName: "n2", labels: { app: "w", tier: "b" }, spec: { affinity: anti } })));
    assert.deepEqual(c.havePodsWithRequiredAntiAffinity().map((n) => n.name), ["n2"]);
    c.updatePod(newPodInfo(makePod("p", { cpu: "2", nodeName: "n2", labels: { app: "w", tier: "b" } })));
    assert.equal(c.havePodsWithRequiredAntiAffinity().length, 0);
    assert.equal(c.termGroups("requiredAntiAffinity").size, 0);
    assert.equal(c.get("n2")!.podsWithAffinity.length, 0);

    c.removePod(v4.uid);
    assert.equal(c.get("n2")!.pods.length, 0);
    assert.equal(c.get("n2")!.requested.milliCPU, 0);
    assert.equal(c.get("n2")!.usedPorts.size, 0);
    assert.deepEqual(names({ app: "w" }), ["other"]);
    assert.deepEqual(names({ tier: "b" }), []);
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

/** A pod with host port 8080, so that port accounting is exercised by replacements too. */
function newPodHostPort(name: string, s: Parameters<typeof makePod>[1]): ReturnType<typeof newPodInfo> {
  return newPodInfo(makePod(name, { ...s, hostPorts: [8080] }));
}

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
