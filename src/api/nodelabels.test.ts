import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { forbiddenNodeLabels, unknownKubeletLabels } from "./nodelabels.js";

describe("node labels", () => {
  it("knows which labels kubelets own", () => {
    assert.deepEqual(forbiddenNodeLabels(["topology.kubernetes.io/zone", "beta.kubernetes.io/arch", "a.node.kubernetes.io/x", "k8s.io/x", "sub.k8s.io/y", "x.node-restriction.kubernetes.io/z", "plain"]), ["k8s.io/x", "sub.k8s.io/y", "x.node-restriction.kubernetes.io/z"]);
  });

  it("finds the kubernetes.io and k8s.io labels a kubelet may not be started with", () => {
    assert.deepEqual(unknownKubeletLabels(["node-role.kubernetes.io/worker", "kubelet.kubernetes.io/x", "node.kubernetes.io/pool", "kubernetes.io/hostname", "example.com/tier", "k8s.io/z"]), ["k8s.io/z", "node-role.kubernetes.io/worker"]);
    assert.deepEqual(unknownKubeletLabels(["tier", "example.com/x"]), []);
  });
});
