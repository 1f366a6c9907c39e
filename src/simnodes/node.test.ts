import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Node } from "kubernetes-types/core/v1.js";
import { NODE_STATUS_REPORT_MS } from "../client/nodelease.js";
import { addressesOf, conditionReport, simNode, SIM_KUBELET_VERSION } from "./node.js";

const shape = { cpu: "32", memory: "256Gi", pods: 110, ephemeralStorage: "1Ti" };
const t0 = Date.parse("2026-01-02T03:04:05.678Z");

void describe("simNode", () => {
  void it("is labelled, annotated and tainted as kwok's nodes, with capacity, addresses and node info", () => {
    const n = simNode("sim-3", { podCIDR: "10.128.3.0/24", internalIP: "172.16.0.4" }, shape, t0);
    assert.equal(n.metadata?.labels?.["type"], "kwok");
    assert.equal(n.metadata?.labels?.["kubernetes.io/hostname"], "sim-3");
    assert.equal(n.metadata?.labels?.["kubernetes.io/os"], "linux");
    assert.equal(n.metadata?.labels?.["kubernetes.io/arch"], "amd64");
    assert.equal(n.metadata?.annotations?.["kwok.x-k8s.io/node"], "fake");
    assert.deepEqual(n.spec?.taints, [{ key: "kwok.x-k8s.io/node", value: "fake", effect: "NoSchedule" }]);
    assert.deepEqual(n.spec?.podCIDRs, ["10.128.3.0/24"]);
    assert.deepEqual(n.status?.capacity, { cpu: "32", memory: "256Gi", pods: "110", "ephemeral-storage": "1Ti" });
    assert.deepEqual(n.status?.allocatable, n.status?.capacity);
    assert.equal(n.status?.nodeInfo?.kubeletVersion, SIM_KUBELET_VERSION);
    assert.deepEqual(n.status?.addresses, [{ type: "InternalIP", address: "172.16.0.4" }, { type: "Hostname", address: "sim-3" }]);
    const ready = n.status?.conditions?.find((c) => c.type === "Ready");
    assert.deepEqual(ready, { type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is posting ready status", lastHeartbeatTime: "2026-01-02T03:04:05Z", lastTransitionTime: "2026-01-02T03:04:05Z" });
    assert.deepEqual(addressesOf(n), { podCIDR: "10.128.3.0/24", internalIP: "172.16.0.4" });
  });
});

void describe("conditionReport", () => {
  const ready = (n: Node) => n.status!.conditions!.find((c) => c.type === "Ready")!;

  void it("posts nothing for a healthy node until a report is due, then all four with a fresh heartbeat", () => {
    const n: Node = simNode("a", { podCIDR: "10.128.0.0/24", internalIP: "172.16.0.1" }, shape, t0);
    assert.deepEqual(conditionReport(n, t0 + 60_000, false), []);
    const due = conditionReport(n, t0 + NODE_STATUS_REPORT_MS, true);
    assert.deepEqual(
      due.map((c) => [c.type, c.status, c.lastHeartbeatTime, c.lastTransitionTime]),
      ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"].map((t) => [t, t === "Ready" ? "True" : "False", "2026-01-02T03:09:05Z", "2026-01-02T03:04:05Z"]),
    );
  });

  void it("repairs what someone else changed at once: the changed condition gets a new transition time", () => {
    const n: Node = simNode("a", { podCIDR: "10.128.0.0/24", internalIP: "172.16.0.1" }, shape, t0);
    Object.assign(ready(n), { status: "Unknown", reason: "NodeStatusUnknown", message: "Kubelet stopped posting node status." });
    const report = conditionReport(n, t0 + 60_000, false);
    assert.equal(report.length, 4);
    const r = report.find((c) => c.type === "Ready")!;
    assert.deepEqual([r.status, r.reason, r.lastTransitionTime, r.lastHeartbeatTime], ["True", "KubeletReady", "2026-01-02T03:05:05Z", "2026-01-02T03:05:05Z"]);
    assert.equal(report.find((c) => c.type === "DiskPressure")!.lastTransitionTime, "2026-01-02T03:04:05Z");
    assert.equal(conditionReport({ metadata: { name: "x" } }, t0, false).length, 4);
  });
});
