import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { deepFreeze } from "../../client/objects.js";
import { nodeShouldRunDaemonPod, pinToNode, targetNodeName, withDaemonTolerations } from "./nodes.js";
import { daemonSet, node, pod } from "./testutil.js";

void describe("nodeShouldRunDaemonPod", () => {
  const ds = deepFreeze(daemonSet());
  void it("keeps a running pod on a node tainted NoSchedule, but not on one tainted NoExecute", () => {
    assert.deepEqual(nodeShouldRunDaemonPod(deepFreeze(node("n", { spec: { taints: [{ key: "x", effect: "NoSchedule" }] } })), ds), { shouldRun: false, shouldContinueRunning: true });
    assert.deepEqual(nodeShouldRunDaemonPod(deepFreeze(node("n", { spec: { taints: [{ key: "x", effect: "NoExecute" }] } })), ds), { shouldRun: false, shouldContinueRunning: false });
    assert.deepEqual(nodeShouldRunDaemonPod(deepFreeze(node("n", { spec: { taints: [{ key: "x", effect: "PreferNoSchedule" }] } })), ds), { shouldRun: true, shouldContinueRunning: true });
  });

  void it("matches matchFields on metadata.name and a template nodeName", () => {
    const byField = deepFreeze(daemonSet({}, { podSpec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "NotIn", values: ["n2"] }] }] } } } } }));
    assert.equal(nodeShouldRunDaemonPod(deepFreeze(node("n1")), byField).shouldRun, true);
    assert.equal(nodeShouldRunDaemonPod(deepFreeze(node("n2")), byField).shouldRun, false);
    const byName = deepFreeze(daemonSet({}, { podSpec: { nodeName: "n1" } }));
    assert.equal(nodeShouldRunDaemonPod(deepFreeze(node("n2")), byName).shouldContinueRunning, false);
  });

  void it("lets a host-network pod onto a node whose network is unavailable", () => {
    const n = deepFreeze(node("n", { spec: { taints: [{ key: "node.kubernetes.io/network-unavailable", effect: "NoSchedule" }] } }));
    assert.equal(nodeShouldRunDaemonPod(n, ds).shouldRun, false);
    assert.equal(nodeShouldRunDaemonPod(n, deepFreeze(daemonSet({}, { podSpec: { hostNetwork: true } }))).shouldRun, true);
  });
});

void describe("daemon pod helpers", () => {
  void it("replaces a matching user toleration and keeps the others", () => {
    const out = withDaemonTolerations([{ key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 30 }, { key: "a", operator: "Exists" }], false);
    assert.deepEqual(out.slice(0, 2), [{ key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" }, { key: "a", operator: "Exists" }]);
    assert.equal(out.length, 7);
  });

  void it("reads the target node from nodeName, else from the pinning affinity", () => {
    assert.equal(targetNodeName(deepFreeze(pod("p", "n1"))), "n1");
    assert.equal(targetNodeName(deepFreeze(pod("p", "n2", { unbound: true }))), "n2");
    assert.equal(targetNodeName(deepFreeze({ spec: { containers: [] } })), undefined);
    assert.deepEqual(pinToNode(undefined, "n"), { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: ["n"] }] }] } } });
  });
});
