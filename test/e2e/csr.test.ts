// Certificate signing requests end to end, as the Kubernetes documentation adds a normal user:
// a key and request made with openssl, `kubectl create -f` of the CertificateSigningRequest,
// `kubectl certificate approve`, the certificate the embedded controller-manager's signer
// issues, and a kubeconfig with it that the API server accepts as that user (RBAC decides
// what it may do).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kubectlOk, kubectlRunner, type Kubectl } from "../../src/testing/apiserver.js";
import { K8tsProcess } from "../../src/testing/process.js";
import { freePort } from "../../src/testing/net.js";
import { until } from "../../src/testing/wait.js";
import { certificateFromPem, isIssuedBy } from "../../src/util/pki.js";

const skip = existsSync("/usr/bin/openssl") ? false : "needs /usr/bin/openssl";

describe("certificate signing requests with kubectl", { skip, timeout: 180_000 }, () => {
  let dir: string;
  let server: K8tsProcess | undefined;
  let k: Kubectl;
  const ok = (args: readonly string[], stdin?: string): Promise<string> => kubectlOk(k, args, stdin);

  function request(cn: string, org: string): { key: string; csr: string } {
    const key = join(dir, `${cn}.key`);
    const csr = join(dir, `${cn}.csr`);
    execFileSync("openssl", ["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", `/CN=${cn}/O=${org}`], { stdio: "ignore" });
    return { key, csr };
  }

  function csrObject(name: string, csrFile: string, extra = ""): string {
    return `apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata:
  name: ${name}
spec:
  request: ${readFileSync(csrFile).toString("base64")}
  signerName: kubernetes.io/kube-apiserver-client
  expirationSeconds: 86400
  usages: [client auth]
${extra}`;
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "k8ts-csr-"));
    const port = await freePort();
    server = K8tsProcess.start("k8ts server", ["server", "--data-dir", dir, "--port", String(port), "--store", "memory://", "--disable-agent", "--disable-addons", "--log-level", process.env["K8TS_TEST_LOG"] ?? "warn"]);
    await server.ready("k8ts server ready");
    k = kubectlRunner(join(dir, "admin.kubeconfig"), join(dir, "kubectl-cache"), dir, 120_000);
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a normal user: request, approve, the issued certificate, and a kubeconfig the API server accepts", async () => {
    const { key, csr } = request("jane", "dev");
    assert.match(await ok(["create", "-f", "-"], csrObject("jane", csr)), /certificatesigningrequest.certificates.k8s.io\/jane created/);
    assert.match(await ok(["get", "csr", "jane"]), /^NAME\s+AGE\s+SIGNERNAME\s+REQUESTOR\s+REQUESTEDDURATION\s+CONDITION\njane\s+\d+s\s+kubernetes.io\/kube-apiserver-client\s+kubernetes-admin\s+24h\s+Pending\n$/);
    assert.match(await ok(["certificate", "approve", "jane"]), /certificatesigningrequest.certificates.k8s.io\/jane approved/);
    const pem = await until("the certificate is issued", async () => {
      const b64 = await ok(["get", "csr", "jane", "-o", "jsonpath={.status.certificate}"]);
      return b64 === "" ? undefined : Buffer.from(b64, "base64").toString("utf8");
    }, 30_000, 200);
    assert.match(await ok(["get", "csr", "jane"]), /\s+Approved,Issued\n$/);
    const caPem = readFileSync(join(dir, "tls", "ca.crt"), "utf8");
    assert.ok(isIssuedBy(pem, caPem), "signed by the cluster CA");
    const cert = certificateFromPem(pem);
    assert.equal(cert.subject, "CN=jane, O=dev");
    const lifetimeH = (cert.notAfter.getTime() - cert.notBefore.getTime()) / 3_600_000;
    assert.ok(Math.abs(lifetimeH - 24) < 0.02, `the 24 h asked for, got ${lifetimeH} h`);
    assert.ok(cert.notBefore.getTime() <= Date.now() - 4 * 60_000, "valid from 5 minutes back, as upstream backdates for clock skew");

    // The user's kubeconfig, made with kubectl as the documentation does.
    const certFile = join(dir, "jane.crt");
    writeFileSync(certFile, pem);
    const kubeconfig = join(dir, "jane.kubeconfig");
    writeFileSync(kubeconfig, readFileSync(join(dir, "admin.kubeconfig")));
    await ok(["--kubeconfig", kubeconfig, "config", "set-credentials", "jane", `--client-key=${key}`, `--client-certificate=${certFile}`, "--embed-certs=true"]);
    await ok(["--kubeconfig", kubeconfig, "config", "set-context", "jane", "--cluster=k8ts", "--user=jane"]);
    await ok(["--kubeconfig", kubeconfig, "config", "use-context", "jane"]);
    const whoami = await ok(["--kubeconfig", kubeconfig, "auth", "whoami"]);
    assert.match(whoami, /Username\s+jane\n/);
    assert.match(whoami, /Groups\s+\[dev system:authenticated\]\n/);
    const denied = await k(["--kubeconfig", kubeconfig, "get", "pods"]);
    assert.match(denied.stderr, /pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "default"/);
    await ok(["create", "rolebinding", "jane-view", "--clusterrole=view", "--user=jane"]);
    await until("jane may list pods", async () => ((await k(["--kubeconfig", kubeconfig, "get", "pods"])).code === 0 ? true : undefined), 10_000);
  });

  it("approving takes approve on the signer besides update on certificatesigningrequests/approval", async () => {
    const { csr } = request("carol", "dev");
    await ok(["create", "-f", "-"], csrObject("carol", csr));
    await ok(["create", "clusterrole", "csr-approver", "--verb=get,list,update", "--resource=certificatesigningrequests,certificatesigningrequests/approval"]);
    await ok(["create", "clusterrolebinding", "csr-approver", "--clusterrole=csr-approver", "--user=approver"]);
    const refused = await k(["certificate", "approve", "carol", "--as=approver"]);
    assert.match(refused.stderr, /certificatesigningrequests.certificates.k8s.io "carol" is forbidden: user not permitted to approve requests with signerName "kubernetes.io\/kube-apiserver-client"/);
    // `signers` is no served resource (kubectl create clusterrole refuses it): a manifest, as the docs write it.
    await ok(["apply", "-f", "-"], `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: client-signer-approver}
rules:
- apiGroups: [certificates.k8s.io]
  resources: [signers]
  resourceNames: [kubernetes.io/kube-apiserver-client]
  verbs: [approve]
`);
    await ok(["create", "clusterrolebinding", "client-signer-approver", "--clusterrole=client-signer-approver", "--user=approver"]);
    await until("approver may approve", async () => ((await k(["certificate", "approve", "carol", "--as=approver"])).code === 0 ? true : undefined), 10_000);
  });

  it("system:masters is never requested; a denied request gets no certificate; one the signer refuses is Failed", async () => {
    const masters = request("mallory", "system:masters");
    const refused = await k(["create", "-f", "-"], { stdin: csrObject("mallory", masters.csr) });
    assert.match(refused.stderr, /certificatesigningrequests.certificates.k8s.io "mallory" is forbidden: use of kubernetes.io\/kube-apiserver-client signer with system:masters group is not allowed/);

    const { csr } = request("bob", "dev");
    await ok(["create", "-f", "-"], csrObject("bob", csr));
    assert.match(await ok(["certificate", "deny", "bob"]), /certificatesigningrequest.certificates.k8s.io\/bob denied/);
    assert.match(await ok(["get", "csr", "bob"]), /\s+Denied\n$/);

    const serving = request("web", "web");
    await ok(["create", "-f", "-"], csrObject("server-usage", serving.csr).replace("usages: [client auth]", "usages: [server auth]"));
    await ok(["certificate", "approve", "server-usage"]);
    await until("the signer refuses it", async () => ((await ok(["get", "csr", "server-usage"])).includes("Approved,Failed") ? true : undefined), 30_000, 200);
    assert.equal(await ok(["get", "csr", "server-usage", "-o", "jsonpath={.status.certificate}"]), "");
  });
});
