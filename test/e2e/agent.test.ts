// `k8ts agent` as a process of its own joining a control plane that runs without a node
// (`k8ts server --disable-agent`), as a second machine would join: the node registers, gets a
// podCIDR, runs a pod, and kubectl reaches the pod's logs and exec through it.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Node, Pod } from "kubernetes-types/core/v1.js";
import { startTestCluster, type TestCluster } from "../../src/testing/cluster.js";
import { runtimeSkipReason } from "../../src/testing/runtime.js";
import { until } from "../../src/testing/wait.js";

describe("k8ts agent joining a server", { skip: runtimeSkipReason(), timeout: 300_000 }, () => {
  let c: TestCluster;
  before(async () => {
    c = await startTestCluster({ separateAgent: true });
  });
  after(async () => {
    await c?.stop();
  });

  it("registers a Ready node with a podCIDR and runs a pod that kubectl reaches", async () => {
    const node = (await c.client.forKind("v1", "Node").get(c.nodeName)) as Node;
    assert.equal(node.spec?.podCIDR, c.podCIDR);
    assert.ok(node.status?.daemonEndpoints?.kubeletEndpoint?.Port === c.kubeletPort);
    const r = await c.kubectl(["run", "hello", "--image=busybox:1.35", "--restart=Never", "--", "sh", "-c", "echo hello from the agent; sleep 3600"]);
    assert.equal(r.code, 0, r.stderr);
    const pod = await until("hello running", async () => {
      const p = (await c.client.forKind("v1", "Pod").namespace("default").get("hello")) as Pod;
      return p.status?.phase === "Running" ? p : undefined;
    }, 90_000, 200);
    assert.equal(pod.spec?.nodeName, c.nodeName);
    const logs = await until("logs", async () => {
      const l = await c.kubectl(["logs", "hello"]);
      return l.code === 0 && l.stdout.includes("hello") ? l.stdout : undefined;
    }, 30_000, 200);
    assert.equal(logs, "hello from the agent\n");
    const exec = await c.kubectl(["exec", "hello", "--", "cat", "/var/run/secrets/kubernetes.io/serviceaccount/namespace"]);
    assert.equal(exec.code, 0, exec.stderr);
    assert.equal(exec.stdout, "default");
  });
});
