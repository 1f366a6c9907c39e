// A kubelet's identity end to end, with the official kubectl: a client certificate for
// system:node:n1 in system:nodes, against a server authorizing with Node,RBAC and admitting
// with NodeRestriction. The node reads what its pods need and nothing else (upstream's Forbidden
// messages), writes only its own Node and pods, and may make mirror pods for itself.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { kubectlOk, kubectlRunner, startTestApiServer, type Kubectl, type TestApiServer } from "../../src/testing/apiserver.js";
import { until } from "../../src/testing/wait.js";
import { clusterPKIPaths, issueCertificate } from "../../src/util/pki.js";

describe("a node's identity: the Node authorizer and NodeRestriction", { timeout: 180_000 }, () => {
  let server: TestApiServer | undefined;
  let admin: Kubectl;
  let node: Kubectl;
  let tls: { cert: string; key: string; ca: string };
  const ok = (args: readonly string[], stdin?: string): Promise<string> => kubectlOk(admin, args, stdin);
  const asNode = (args: readonly string[], stdin?: string): Promise<string> => kubectlOk(node, args, stdin);
  /** kubectl as the node, expected to fail; its stderr. */
  const refused = async (args: readonly string[], stdin?: string): Promise<string> => {
    const r = await node(args, stdin === undefined ? {} : { stdin });
    assert.notEqual(r.code, 0, `kubectl ${args.join(" ")} should have been refused:\n${r.stdout}`);
    return r.stderr;
  };

  const pod = (name: string, nodeName: string, secret: string, extra = ""): string => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: default}
spec:
  nodeName: ${nodeName}
  containers:
  - name: c
    image: busybox
    envFrom: [{configMapRef: {name: app-config}}]
  volumes:
  - name: s
    secret: {secretName: ${secret}}
${extra}`;

  /**
   * A request as the node, straight to the API (as the kubelet sends its status): kubectl patch
   * --subresource=status reads the object first, which nodes may not do on nodes/status.
   */
  const nodeRequest = (method: string, path: string, body: string, contentType: string): Promise<{ code: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = request(new URL(path, server!.url), { method, ...tls, headers: { "content-type": contentType, accept: "application/json" } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ code: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      });
      req.on("error", reject);
      req.end(body);
    });

  before(async () => {
    server = await startTestApiServer({ authorizationModes: ["Node", "RBAC"] });
    admin = server.kubectl;
    const paths = clusterPKIPaths(server.dataDir);
    const ca = { certPem: readFileSync(paths.caCert, "utf8"), keyPem: readFileSync(paths.caKey, "utf8") };
    const cert = await issueCertificate(ca, { commonName: "system:node:n1", organizations: ["system:nodes"], usages: "client", validityDays: 1 });
    const certFile = join(server.dataDir, "n1.crt");
    const keyFile = join(server.dataDir, "n1.key");
    writeFileSync(certFile, cert.certPem);
    writeFileSync(keyFile, cert.keyPem, { mode: 0o600 });
    tls = { cert: cert.certPem, key: cert.keyPem, ca: ca.certPem };
    const kubeconfig = join(server.dataDir, "n1.kubeconfig");
    writeFileSync(kubeconfig, readFileSync(server.kubeconfig));
    const setup = kubectlRunner(kubeconfig, join(server.dataDir, "n1-cache"), server.dataDir);
    await kubectlOk(setup, ["config", "set-credentials", "n1", `--client-key=${keyFile}`, `--client-certificate=${certFile}`, "--embed-certs=true"]);
    await kubectlOk(setup, ["config", "set-context", "--current", "--user=n1"]);
    node = setup;

    for (const n of ["n1", "n2"]) await ok(["create", "-f", "-"], `apiVersion: v1\nkind: Node\nmetadata: {name: ${n}}\n`);
    await ok(["create", "secret", "generic", "n1-secret", "--from-literal=k=v"]);
    await ok(["create", "secret", "generic", "n2-secret", "--from-literal=k=v"]);
    await ok(["create", "configmap", "app-config", "--from-literal=k=v"]);
    await ok(["create", "-f", "-"], pod("on-n1", "n1", "n1-secret"));
    await ok(["create", "-f", "-"], pod("on-n2", "n2", "n2-secret"));
  });
  after(async () => {
    await server?.stop();
  });

  it("is the node's user", async () => {
    const whoami = await asNode(["auth", "whoami"]);
    assert.match(whoami, /Username\s+system:node:n1\n/);
    assert.match(whoami, /Groups\s+\[system:nodes system:authenticated\]\n/);
  });

  it("reads the secrets and configmaps of its own pods, and no others", async () => {
    await until("the graph has n1's pod", async () => ((await node(["get", "secret", "n1-secret"])).code === 0 ? true : undefined), 10_000);
    assert.match(await asNode(["get", "configmap", "app-config", "-o", "name"]), /^configmap\/app-config\n$/);
    assert.match(await refused(["get", "secret", "n2-secret"]), /Error from server \(Forbidden\): secrets "n2-secret" is forbidden: User "system:node:n1" cannot get resource "secrets" in API group "" in the namespace "default": no relationship found between node 'n1' and this object\n/);
    assert.match(await refused(["get", "secrets"]), /secrets is forbidden: User "system:node:n1" cannot list resource "secrets" in API group "" in the namespace "default": No Object name found/);
    // A pod bound to n1 later gives n1 its secret.
    await ok(["create", "-f", "-"], pod("moved", "n1", "n2-secret"));
    await until("n1 may read n2-secret", async () => ((await node(["get", "secret", "n2-secret"])).code === 0 ? true : undefined), 10_000);
    await ok(["delete", "pod", "moved", "--grace-period=0", "--force"]);
    await until("n1 may no longer read n2-secret", async () => ((await node(["get", "secret", "n2-secret"])).code !== 0 ? true : undefined), 10_000);
  });

  it("gets only its own pods, and its own Node", async () => {
    assert.match(await asNode(["get", "pod", "on-n1", "-o", "name"]), /^pod\/on-n1\n$/);
    assert.match(await refused(["get", "pod", "on-n2"]), /pods "on-n2" is forbidden: User "system:node:n1" cannot get resource "pods" in API group "" in the namespace "default": no relationship found between node 'n1' and this object/);
    assert.match(await asNode(["get", "pods", "-A", "--field-selector", "spec.nodeName=n1", "-o", "name"]), /^pod\/on-n1\n$/);
    assert.match(await asNode(["get", "node", "n1", "-o", "name"]), /^node\/n1\n$/);
  });

  it("updates its own Node and its status, not another's, and sets only labels kubelets own", async () => {
    await asNode(["label", "node", "n1", "example.com/rack=r1"]);
    const status = (name: string) => nodeRequest("PATCH", `/api/v1/nodes/${name}/status`, '{"status":{"capacity":{"pods":"50"}}}', "application/merge-patch+json");
    assert.equal((await status("n1")).code, 200);
    assert.equal(await ok(["get", "node", "n1", "-o", "jsonpath={.status.capacity.pods}"]), "50");
    const other = await status("n2");
    assert.equal(other.code, 403);
    assert.equal((JSON.parse(other.body) as { message: string }).message, 'nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"');
    assert.match(await refused(["label", "node", "n2", "example.com/rack=r1"]), /nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"/);
    assert.match(await refused(["label", "node", "n1", "node-role.kubernetes.io/worker="]), /nodes "n1" is forbidden: is not allowed to modify labels: node-role.kubernetes.io\/worker/);
    assert.match(await refused(["delete", "node", "n2"]), /nodes "n2" is forbidden: User "system:node:n1" cannot delete resource "nodes" in API group "" at the cluster scope/);
  });

  it("creates only mirror pods for itself, and deletes only its own pods", async () => {
    const uid = await ok(["get", "node", "n1", "-o", "jsonpath={.metadata.uid}"]);
    const mirror = (nodeName: string) => `apiVersion: v1
kind: Pod
metadata:
  name: static-${nodeName}
  namespace: default
  annotations: {kubernetes.io/config.mirror: abc}
  ownerReferences: [{apiVersion: v1, kind: Node, name: n1, uid: ${uid}, controller: true}]
spec:
  nodeName: ${nodeName}
  containers: [{name: c, image: busybox}]
`;
    assert.match(await asNode(["create", "-f", "-"], mirror("n1")), /pod\/static-n1 created/);
    assert.match(await refused(["create", "-f", "-"], mirror("n2")), /pods "static-n2" is forbidden: node "n1" can only create pods with spec.nodeName set to itself/);
    assert.match(await refused(["create", "-f", "-"], pod("plain", "n1", "n1-secret")), /pods "plain" is forbidden: pod does not have "kubernetes.io\/config.mirror" annotation, node "n1" can only create mirror pods/);
    assert.match(await refused(["delete", "pod", "on-n2", "--wait=false"]), /pods "on-n2" is forbidden: node "n1" can only delete pods with spec.nodeName set to itself/);
    assert.match(await asNode(["delete", "pod", "static-n1", "--wait=false"]), /pod "static-n1" deleted/);
  });

  it("keeps only its own Lease", async () => {
    const lease = (name: string) => `apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: {name: ${name}, namespace: kube-node-lease}\nspec: {holderIdentity: ${name}}\n`;
    assert.match(await asNode(["create", "-f", "-"], lease("n1")), /lease.coordination.k8s.io\/n1 created/);
    assert.match(await refused(["create", "-f", "-"], lease("n2")), /leases.coordination.k8s.io "n2" is forbidden: can only access node lease with the same name as the requesting node/);
    await ok(["create", "-f", "-"], lease("n2"));
    assert.match(await refused(["get", "lease", "-n", "kube-node-lease", "n2"]), /User "system:node:n1" cannot get resource "leases" in API group "coordination.k8s.io" in the namespace "kube-node-lease": can only access node lease with the same name as the requesting node/);
  });
});
