// A second machine joins as kubeadm's nodes do: `k8ts agent --server --token
// --discovery-token-ca-cert-hash` with the server's node token. The node's CSR is approved by the
// csrapproving controller and signed by the csrsigning controller; the node then runs as
// system:node:<name> under the Node authorizer: it runs a pod that mounts a Secret and a
// ConfigMap, and its kubeconfig cannot read a Secret no pod on it uses.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Pod } from "kubernetes-types/core/v1.js";
import { startTestCluster, type TestCluster } from "../../src/testing/cluster.js";
import { kubectlOk } from "../../src/testing/apiserver.js";
import { runtimeSkipReason } from "../../src/testing/runtime.js";
import { until } from "../../src/testing/wait.js";

describe("k8ts agent joining with a bootstrap token", { skip: runtimeSkipReason(), timeout: 300_000 }, () => {
  let c: TestCluster;
  let nodeKubeconfig: string;
  let tokenId: string;
  before(async () => {
    c = await startTestCluster({ joinWithToken: true });
    nodeKubeconfig = join(c.dataDir, "agent", "kubelet.kubeconfig");
    tokenId = readFileSync(join(c.dataDir, "node-token"), "utf8").trim().split(".")[0]!;
  });
  after(async () => {
    await c?.stop();
  });

  it("the node's CSR was asked by the bootstrap user and auto-approved and issued", async () => {
    const names = await kubectlOk(c.kubectl, ["get", "csr", "-o", `jsonpath={range .items[?(@.spec.username=="system:bootstrap:${tokenId}")]}{.metadata.name}{"\\n"}{end}`]);
    const name = names.trim().split("\n")[0] ?? "";
    assert.match(name, /^node-csr-[A-Za-z0-9_-]+$/);
    const row = await kubectlOk(c.kubectl, ["get", "csr", name]);
    assert.match(row, new RegExp(`^NAME\\s+AGE\\s+SIGNERNAME\\s+REQUESTOR\\s+REQUESTEDDURATION\\s+CONDITION\\n${name}\\s+\\S+\\s+kubernetes.io/kube-apiserver-client-kubelet\\s+system:bootstrap:${tokenId}\\s+<none>\\s+Approved,Issued\\n$`));
    const reason = await kubectlOk(c.kubectl, ["get", "csr", name, "-o", `jsonpath={.status.conditions[?(@.type=="Approved")].reason}`]);
    assert.equal(reason, "AutoApproved");
  });

  it("runs as system:node:<name> in system:nodes", async () => {
    const who = await kubectlOk(c.kubectl, ["--kubeconfig", nodeKubeconfig, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username} {.status.userInfo.groups}"]);
    assert.match(who, new RegExp(`^system:node:${c.nodeName} \\[.*"system:nodes".*\\]$`));
  });

  it("runs a pod that mounts a Secret and a ConfigMap (the Node authorizer lets it read them)", async () => {
    await kubectlOk(c.kubectl, ["apply", "-f", "-"], `apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: fast}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {password: s3cret}
---
apiVersion: v1
kind: Pod
metadata: {name: configured}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: main
    image: busybox:1.35
    command: ["sh", "-c", "cat /etc/cfg/mode; echo; cat /etc/sec/password; echo; echo $PASSWORD; sleep 3600"]
    env:
    - {name: PASSWORD, valueFrom: {secretKeyRef: {name: creds, key: password}}}
    volumeMounts:
    - {name: cfg, mountPath: /etc/cfg}
    - {name: sec, mountPath: /etc/sec}
  volumes:
  - {name: cfg, configMap: {name: settings}}
  - {name: sec, secret: {secretName: creds}}
`);
    const pod = await until("configured running", async () => {
      const p = (await c.client.forKind("v1", "Pod").namespace("default").get("configured")) as Pod;
      return p.status?.phase === "Running" ? p : undefined;
    }, 90_000, 200);
    assert.equal(pod.spec?.nodeName, c.nodeName);
    const logs = await until("the pod's output", async () => {
      const l = await c.kubectl(["logs", "configured"]);
      return l.code === 0 && l.stdout.split("\n").length > 3 ? l.stdout : undefined;
    }, 30_000, 200);
    assert.equal(logs, "fast\ns3cret\ns3cret\n");
  });

  it("restarts on its kubeconfig: no second CSR", async () => {
    const before = readFileSync(nodeKubeconfig, "utf8");
    await c.restart();
    assert.equal(readFileSync(nodeKubeconfig, "utf8"), before);
    const names = await kubectlOk(c.kubectl, ["get", "csr", "-o", `jsonpath={range .items[?(@.spec.username=="system:bootstrap:${tokenId}")]}{.metadata.name}{"\\n"}{end}`]);
    assert.equal(names.trim().split("\n").length, 1, names);
  });

  it("cannot read a Secret that no pod on the node uses", async () => {
    await kubectlOk(c.kubectl, ["create", "secret", "generic", "elsewhere", "--from-literal=k=v"]);
    const r = await c.kubectl(["--kubeconfig", nodeKubeconfig, "get", "secret", "elsewhere"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`^Error from server \\(Forbidden\\): secrets "elsewhere" is forbidden: User "system:node:${c.nodeName}" cannot get resource "secrets" in API group "" in the namespace "default": no relationship found between node '${c.nodeName}' and this object\\n$`));
    const list = await c.kubectl(["--kubeconfig", nodeKubeconfig, "get", "secrets"]);
    assert.notEqual(list.code, 0);
    assert.match(list.stderr, /Forbidden/);
  });
});
