import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { addUsage, exceeded, growth, podConstraintProblem, prettyPrint, quotaCovers, totalUsage, tracksName, usageOf, type Usage } from "./quota.js";

const plain = (u: Usage): Record<string, string> => Object.fromEntries([...u].map(([k, q]) => [k, q.toString()]));

const pod = (containers: unknown[], extra: Record<string, unknown> = {}, status?: Record<string, unknown>) => ({ spec: { containers, ...extra }, ...(status ? { status } : {}) });

describe("quota usage", () => {
  it("counts a pod's objects and compute resources, init containers and sidecars as upstream's PodRequests", () => {
    const p = pod([{ name: "a", resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "200m" } } }, { name: "b", resources: { requests: { cpu: "300m" } } }], {
      initContainers: [
        { name: "side", restartPolicy: "Always", resources: { requests: { cpu: "50m" } } },
        { name: "big-init", resources: { requests: { cpu: "1" } } },
      ],
    });
    assert.deepEqual(plain(usageOf("", "pods", p)), {
      "count/pods": "1",
      pods: "1",
      // max(400m + 50m sidecar, 1 + 50m sidecar before it)
      "requests.cpu": "1050m",
      cpu: "1050m",
      "requests.memory": "64Mi",
      memory: "64Mi",
      "limits.cpu": "200m",
    });
  });

  it("adds the pod's overhead to its requests, and to each limit its containers set", () => {
    const p = pod([{ name: "a", resources: { requests: { cpu: "100m" }, limits: { cpu: "200m" } } }], { overhead: { cpu: "250m", memory: "120Mi" } });
    assert.deepEqual(plain(usageOf("", "pods", p)), {
      "count/pods": "1",
      pods: "1",
      "requests.cpu": "350m",
      cpu: "350m",
      "requests.memory": "120Mi",
      memory: "120Mi",
      // No container limits memory: the pod's memory limit stays unset.
      "limits.cpu": "450m",
    });
  });

  it("counts an ended pod for nothing", () => {
    assert.deepEqual(plain(usageOf("", "pods", pod([{ name: "a" }], {}, { phase: "Succeeded" }))), {});
    assert.deepEqual(plain(usageOf("", "pods", pod([{ name: "a" }], {}, { phase: "Failed" }))), {});
    assert.equal(usageOf("", "pods", pod([{ name: "a" }], {}, { phase: "Running" })).get("pods")?.toString(), "1");
  });

  it("counts services' node ports and load balancers, claims' storage, and any resource under count/", () => {
    assert.deepEqual(plain(usageOf("", "services", { spec: { type: "LoadBalancer", ports: [{}, {}] } })), { "count/services": "1", services: "1", "services.loadbalancers": "1", "services.nodeports": "2" });
    assert.deepEqual(plain(usageOf("", "services", { spec: { ports: [{}] } })), { "count/services": "1", services: "1" });
    assert.deepEqual(plain(usageOf("", "persistentvolumeclaims", { spec: { resources: { requests: { storage: "2Gi" } } } })), { "count/persistentvolumeclaims": "1", persistentvolumeclaims: "1", "requests.storage": "2Gi" });
    assert.deepEqual(plain(usageOf("apps", "deployments", {})), { "count/deployments.apps": "1" });
    assert.deepEqual(plain(usageOf("", "events", {})), { "count/events": "1" });
    assert.ok(tracksName("", "pods", "limits.memory"));
    assert.ok(tracksName("apps", "deployments", "count/deployments.apps"));
    assert.ok(!tracksName("apps", "deployments", "pods"));
    assert.ok(!tracksName("", "configmaps", "requests.storage"));
    // Counted resources only: the controller does not count the others, so nothing charges them.
    assert.ok(!tracksName("networking.k8s.io", "ingresses", "count/ingresses.networking.k8s.io"));
  });

  it("matches scopes: best effort, terminating, priority class", () => {
    const bestEffort = pod([{ name: "a" }]);
    const sized = pod([{ name: "a", resources: { requests: { cpu: "1" } } }], { activeDeadlineSeconds: 30, priorityClassName: "high" });
    assert.ok(quotaCovers({ scopes: ["BestEffort"] }, "", "pods", bestEffort));
    assert.ok(!quotaCovers({ scopes: ["BestEffort"] }, "", "pods", sized));
    // Best effort is the pod's QoS class: a zero request asks for nothing.
    assert.ok(quotaCovers({ scopes: ["BestEffort"] }, "", "pods", pod([{ name: "a", resources: { requests: { cpu: "0" } } }])));
    assert.ok(quotaCovers({ scopes: ["NotBestEffort", "Terminating"] }, "", "pods", sized));
    assert.ok(!quotaCovers({ scopes: ["NotTerminating"] }, "", "pods", sized));
    assert.ok(quotaCovers({ scopeSelector: { matchExpressions: [{ scopeName: "PriorityClass", operator: "In", values: ["high"] }] } }, "", "pods", sized));
    assert.ok(!quotaCovers({ scopeSelector: { matchExpressions: [{ scopeName: "PriorityClass", operator: "Exists" }] } }, "", "pods", bestEffort));
    assert.ok(!quotaCovers({ scopes: ["BestEffort"] }, "", "configmaps", {}), "scoped quotas track pods only");
    assert.ok(quotaCovers({}, "", "configmaps", {}));
  });

  it("words upstream's pod constraint, and adds, totals and compares usage", () => {
    const p = pod([{ name: "a", resources: { limits: { memory: "1Gi" } } }, { name: "b" }]);
    assert.equal(podConstraintProblem({ "limits.memory": "2Gi", cpu: "1", pods: "3" }, p), "must specify cpu for: a,b; limits.memory for: b");
    assert.equal(podConstraintProblem({ pods: "3" }, p), undefined);
    const delta = usageOf("", "pods", pod([{ name: "a", resources: { requests: { cpu: "250m" } } }]));
    assert.deepEqual(addUsage({ pods: "1", "requests.cpu": "750m" }, new Map([...delta].filter(([k]) => k === "pods" || k === "requests.cpu"))), { pods: "2", "requests.cpu": "1" });
    assert.deepEqual(exceeded(delta, { pods: "3", "requests.cpu": "800m" }, { pods: "3", "requests.cpu": "1" }), ["pods", "requests.cpu"]);
    assert.deepEqual(exceeded(delta, { pods: "2", "requests.cpu": "750m" }, { pods: "3", "requests.cpu": "1" }), []);
    assert.deepEqual(totalUsage(["pods", "requests.cpu", "services"], [delta, delta]), { pods: "2", "requests.cpu": "500m", services: "0" });
    assert.equal(prettyPrint({ b: "2", a: "1" }), "a=1,b=2");
    const before = usageOf("", "services", { spec: { ports: [{}, {}] } });
    const after = usageOf("", "services", { spec: { type: "NodePort", ports: [{}, {}] } });
    assert.deepEqual(plain(growth(after, before)), { "services.nodeports": "2" });
    assert.deepEqual(plain(growth(before, after)), {}, "nothing shrinks into a credit");
  });
});
