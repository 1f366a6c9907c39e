import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Agent } from "node:https";
import type { Pod } from "kubernetes-types/core/v1.js";
import { createLogger } from "../util/log.js";
import { compileSimNodesOptions, defaultSimWorkers, SIM_MAX_SOCKETS, simClientSockets } from "./options.js";
import { trimNode, trimPod } from "./simulator.js";

const pod: Pod = {
  metadata: { name: "p", namespace: "ns", uid: "u", resourceVersion: "7", labels: { a: "b" }, managedFields: [{ manager: "x" }], deletionTimestamp: "2026-01-01T00:00:00Z", deletionGracePeriodSeconds: 30 },
  spec: {
    nodeName: "sim-1",
    restartPolicy: "Never",
    containers: [{ name: "c", image: "i", env: [{ name: "E", value: "v" }], readinessProbe: { initialDelaySeconds: 5, periodSeconds: 3 } }],
    initContainers: [{ name: "s", image: "j", restartPolicy: "Always" }],
    volumes: [{ name: "v", emptyDir: {} }],
  },
  status: { phase: "Running", podIP: "10.128.0.2" },
};

void describe("trimPod and trimNode", () => {
  void it("keep what a kubelet needs of its own pods", () => {
    assert.deepEqual(trimPod(structuredClone(pod), new Set(["sim-1"])), {
      metadata: { name: "p", namespace: "ns", uid: "u", resourceVersion: "7", deletionTimestamp: "2026-01-01T00:00:00Z", deletionGracePeriodSeconds: 30 },
      spec: { nodeName: "sim-1", restartPolicy: "Never", containers: [{ name: "c", image: "i", readinessProbe: { initialDelaySeconds: 5 } }], initContainers: [{ name: "s", image: "j", restartPolicy: "Always" }] },
      status: { phase: "Running", podIP: "10.128.0.2" },
    });
  });

  void it("keep a Job controller reference of their own pods, and no other owner reference", () => {
    const job = { apiVersion: "batch/v1", kind: "Job", name: "j", uid: "ju", controller: true, blockOwnerDeletion: true };
    const rs = { apiVersion: "apps/v1", kind: "ReplicaSet", name: "r", uid: "ru", controller: true };
    const owned = (ownerReferences: NonNullable<Pod["metadata"]>["ownerReferences"]): Pod => ({ ...structuredClone(pod), metadata: { ...structuredClone(pod.metadata), ownerReferences } });
    assert.deepEqual(trimPod(owned([rs, job]), new Set(["sim-1"])).metadata?.ownerReferences, [{ apiVersion: "batch/v1", kind: "Job", name: "j", uid: "ju", controller: true }]);
    assert.equal(trimPod(owned([rs, { ...job, controller: false }]), new Set(["sim-1"])).metadata?.ownerReferences, undefined);
    assert.equal(trimPod(owned([job]), new Set(["sim-2"])).metadata?.ownerReferences, undefined);
  });

  void it("keep only identity and node of other nodes' pods", () => {
    assert.deepEqual(trimPod(structuredClone(pod), new Set(["sim-2"])), {
      metadata: { name: "p", namespace: "ns", uid: "u", resourceVersion: "7", deletionTimestamp: "2026-01-01T00:00:00Z", deletionGracePeriodSeconds: 30 },
      spec: { nodeName: "sim-1", containers: [] },
    });
  });

  void it("keep a node's identity, CIDRs, conditions and addresses", () => {
    const n = trimNode({
      metadata: { name: "n", uid: "u", resourceVersion: "3", labels: { a: "b" } },
      spec: { podCIDR: "10.128.0.0/24", podCIDRs: ["10.128.0.0/24"], taints: [{ key: "k", effect: "NoSchedule" }] },
      status: { conditions: [{ type: "Ready", status: "True" }], addresses: [{ type: "InternalIP", address: "172.16.0.1" }], capacity: { cpu: "1" }, nodeInfo: { kubeletVersion: "v" } as never },
    });
    assert.deepEqual(n, {
      metadata: { name: "n", uid: "u", resourceVersion: "3" },
      spec: { podCIDR: "10.128.0.0/24", podCIDRs: ["10.128.0.0/24"] },
      status: { conditions: [{ type: "Ready", status: "True" }], addresses: [{ type: "InternalIP", address: "172.16.0.1" }] },
    });
  });
});

void describe("compiled options", () => {
  void it("start pods with one worker per 10 nodes unless told, between 64 and 128", () => {
    const base = { client: {} as never, log: createLogger("silent") };
    assert.deepEqual([1, 640, 1000, 5000, 20_000].map((count) => compileSimNodesOptions({ ...base, count }).workers), [64, 64, 100, 128, 128]);
    assert.equal(compileSimNodesOptions({ ...base, count: 5000, workers: 8 }).workers, 8);
  });
  void it("run a Job's pod 1s after it turned ready unless told, and refuse a negative run time", () => {
    const base = { client: {} as never, log: createLogger("silent"), count: 1 };
    assert.equal(compileSimNodesOptions(base).jobPodRunTimeMs, 1000);
    assert.equal(compileSimNodesOptions({ ...base, jobPodRunTimeMs: 0 }).jobPodRunTimeMs, 0);
    assert.throws(() => compileSimNodesOptions({ ...base, jobPodRunTimeMs: -1 }), /--job-pod-run-time must be a duration >= 0/);
  });
  void it("gives the client sockets for both lanes and the lease renewals, never more than an agent keeps idle", () => {
    assert.equal(simClientSockets(64), 64 + 32 + 64);
    assert.equal(simClientSockets(100), 100 + 50 + 64);
    // Default workers at any node count fit without a socket the agent would close when idle.
    for (const count of [1, 1000, 5000, 100_000]) assert.equal(simClientSockets(defaultSimWorkers(count)) <= SIM_MAX_SOCKETS, true, `count ${count}`);
    assert.equal(simClientSockets(500), SIM_MAX_SOCKETS);
    assert.equal(SIM_MAX_SOCKETS, new Agent({ keepAlive: true }).maxFreeSockets);
  });
});
