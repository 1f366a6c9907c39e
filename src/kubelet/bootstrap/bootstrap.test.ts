// Joining with a bootstrap token against a real API server: discovery of cluster-info (its JWS,
// the CA pin, kubeadm's refusals), the TLS bootstrap (a CSR as the bootstrap user, approved
// with kubectl and signed by the csrsigning controller), the node kubeconfig that results, and
// the server's own node whose certificate is signed locally.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import type { CertificateSigningRequest } from "kubernetes-types/certificates/v1.js";
import { startTestApiServer, type TestApiServer } from "../../testing/apiserver.js";
import { until } from "../../testing/wait.js";
import { createClientFromKubeconfig, RestClient } from "../../client/rest.js";
import { SharedInformerFactory } from "../../client/informer.js";
import { newControllerMetrics } from "../../client/controller.js";
import { csrSigningControllerFactory, CSR_SIGNING_WORKERS } from "../../controllers/certificates/index.js";
import { RecordingEventSink } from "../../controllers/testing/events.js";
import {
  bootstrapTokenSecretData,
  bootstrapTokenSecretName,
  caCertHash,
  CLUSTER_INFO_JWS_PREFIX,
  DEFAULT_NODE_TOKEN_GROUP,
  signDetached,
} from "../../api/bootstraptoken.js";
import { certificateFromPem, clusterPKIPaths, createCA, isIssuedBy, parseCertificateRequest } from "../../util/pki.js";
import { createLogger } from "../../util/log.js";
import { BootstrapError, csrOutcome, discoverCluster, ensureLocalNodeKubeconfig, joinWithToken, nodeCSRName, nodeKubeconfigPath, requestNodeCertificate, usableNodeKubeconfig } from "./index.js";

const log = createLogger((process.env["K8TS_TEST_LOG"] as "info" | undefined) ?? "silent");
const TOKEN = { id: "abcdef", secret: "0123456789abcdef" };
const TOKEN_TEXT = `${TOKEN.id}.${TOKEN.secret}`;
const ANOTHER = { id: "zzzzzz", secret: "0123456789abcdef" };

const rejection = async (p: Promise<unknown>, code: string, message: RegExp): Promise<void> => {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof BootstrapError, String(err));
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    return true;
  });
};

describe("joining with a bootstrap token", { timeout: 120_000 }, () => {
  let srv: TestApiServer;
  let admin: RestClient;
  let tokenDir: string;
  let caPem: string;
  let stopSigner: (() => Promise<void>) | undefined;

  before(async () => {
    // The token authenticates through the bootstrap token Secret; a static token file says the
    // same for a server whose bootstrap authenticator is not wired in.
    tokenDir = mkdtempSync(join(tmpdir(), "k8ts-bootstrap-test-"));
    const tokenFile = join(tokenDir, "tokens.csv");
    writeFileSync(tokenFile, `${TOKEN_TEXT},system:bootstrap:${TOKEN.id},,"system:bootstrappers,${DEFAULT_NODE_TOKEN_GROUP}"\n`);
    // On every address, so that a node can reach it by another than cluster-info's 127.0.0.1.
    srv = await startTestApiServer({ tokenAuthFile: tokenFile, bindAddress: "0.0.0.0" });
    admin = await createClientFromKubeconfig(srv.kubeconfig, { qps: Infinity });
    caPem = readFileSync(clusterPKIPaths(srv.dataDir).caCert, "utf8");
    await admin.forKind("v1", "Secret").create({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: bootstrapTokenSecretName(TOKEN.id), namespace: "kube-system" },
      type: "bootstrap.kubernetes.io/token",
      stringData: bootstrapTokenSecretData({ ...TOKEN, usages: ["authentication", "signing"], extraGroups: [DEFAULT_NODE_TOKEN_GROUP] }),
    });
    // cluster-info as the server and the bootstrap signer make it.
    const kubeconfig = `apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: ${Buffer.from(caPem).toString("base64")}\n    server: ${srv.url}\n  name: ""\ncontexts: null\ncurrent-context: ""\nkind: Config\npreferences: {}\nusers: null\n`;
    await admin.forKind("v1", "ConfigMap").create({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "cluster-info", namespace: "kube-public" },
      data: { kubeconfig, [CLUSTER_INFO_JWS_PREFIX + TOKEN.id]: signDetached(kubeconfig, TOKEN), [CLUSTER_INFO_JWS_PREFIX + ANOTHER.id]: "eyJhbGciOiJIUzI1NiIsImtpZCI6Inp6enp6eiJ9..AAAA" },
    });
    // The csrsigning controller with the cluster CA, as the embedded controller-manager runs it.
    const informers = new SharedInformerFactory({ client: admin, log });
    const registry = new Registry();
    const signer = csrSigningControllerFactory({ ca: { certPem: caPem, keyPem: readFileSync(clusterPKIPaths(srv.dataDir).caKey, "utf8") } })({
      client: admin,
      informers,
      events: new RecordingEventSink(),
      log,
      metrics: newControllerMetrics(registry),
      registry,
    });
    const ac = new AbortController();
    informers.start(ac.signal);
    const run = signer.run(ac.signal, CSR_SIGNING_WORKERS);
    stopSigner = async () => {
      ac.abort();
      await run;
      await informers.shutdown();
    };
  });

  after(async () => {
    await stopSigner?.();
    admin?.close();
    await srv?.stop();
    if (tokenDir) rmSync(tokenDir, { recursive: true, force: true });
  });

  describe("discovery", () => {
    it("trusts cluster-info's server and CA when the JWS verifies and the CA is pinned", async () => {
      const c = await discoverCluster({ server: srv.url, token: TOKEN_TEXT, caCertHashes: [caCertHash(caPem)], log });
      assert.equal(c.server, srv.url);
      assert.equal(c.caPem, caPem);
    });

    it("keeps --server when cluster-info names a loopback address and the node came by another", { skip: otherAddress() ? false : "no non-loopback IPv4 address" }, async () => {
      const server = srv.url.replace("127.0.0.1", otherAddress()!);
      const c = await discoverCluster({ server, token: TOKEN_TEXT, caCertHashes: [caCertHash(caPem)], log });
      assert.equal(c.server, server);
    });

    it("accepts an unpinned CA only with --discovery-token-unsafe-skip-ca-verification", async () => {
      await rejection(discoverCluster({ server: srv.url, token: TOKEN_TEXT, caCertHashes: [], log }), "BadOption", /^using token-based discovery without --discovery-token-ca-cert-hash can be unsafe \(the hash is in what `k8ts token create --print-join-command` prints\)\. Pass --discovery-token-unsafe-skip-ca-verification to continue without it$/);
      const c = await discoverCluster({ server: srv.url, token: TOKEN_TEXT, caCertHashes: [], unsafeSkipCAVerification: true, log });
      assert.equal(c.caPem, caPem);
    });

    it("refuses a CA whose key is not pinned, with kubeadm's message", async () => {
      const other = await createCA("another");
      await rejection(
        discoverCluster({ server: srv.url, token: TOKEN_TEXT, caCertHashes: [caCertHash(other.certPem)], log }),
        "Untrusted",
        new RegExp(`^cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "${caCertHash(caPem)}" are pinned$`),
      );
    });

    it("refuses malformed tokens and hashes before dialling", async () => {
      await rejection(discoverCluster({ server: "https://127.0.0.1:1", token: "not-a-token", caCertHashes: [], unsafeSkipCAVerification: true, log }), "BadOption", /^the bootstrap token is invalid/);
      await rejection(discoverCluster({ server: "https://127.0.0.1:1", token: TOKEN_TEXT, caCertHashes: ["md5:00"], log }), "BadOption", /^invalid discovery token CA certificate hash: unknown hash format "md5"\. Known format\(s\) are: sha256$/);
      await rejection(discoverCluster({ server: "https://127.0.0.1:1", token: TOKEN_TEXT, caCertHashes: ["sha256:abcd"], log }), "BadOption", /expected a 32 byte SHA-256 hash, found 2 bytes$/);
    });

    it("a signature that does not verify with the token: can't trust this API Server", async () => {
      await rejection(
        discoverCluster({ server: srv.url, token: `${ANOTHER.id}.${ANOTHER.secret}`, caCertHashes: [caCertHash(caPem)], log }),
        "Untrusted",
        /^failed to verify JWS signature of received cluster info object, can't trust this API Server$/,
      );
      // The right id with a wrong secret fails the same way.
      await rejection(discoverCluster({ server: srv.url, token: `${TOKEN.id}.ffffffffffffffff`, caCertHashes: [caCertHash(caPem)], log }), "Untrusted", /failed to verify JWS signature/);
    });

    it("waits for a signature for its token id, then gives kubeadm's reason", async () => {
      const started = Date.now();
      await rejection(
        discoverCluster({ server: srv.url, token: "qqqqqq.0123456789abcdef", caCertHashes: [caCertHash(caPem)], timeoutMs: 400, retryMs: 50, log }),
        "Discovery",
        /^couldn't validate the identity of the API Server: could not find a JWS signature in the cluster-info ConfigMap for token ID "qqqqqq"$/,
      );
      assert.ok(Date.now() - started >= 350, "it retried until its deadline");
    });

    it("retries a server that does not answer yet, until its deadline", async () => {
      await rejection(discoverCluster({ server: "https://127.0.0.1:1", token: TOKEN_TEXT, caCertHashes: [caCertHash(caPem)], timeoutMs: 200, retryMs: 50, log }), "Discovery", /failed to request the cluster-info ConfigMap: /);
    });
  });

  describe("TLS bootstrap", () => {
    const bootstrapClient = (): RestClient => new RestClient({ config: { server: srv.url, caPem, token: TOKEN_TEXT, namespace: "default", insecureSkipTLSVerify: false } });
    const approveWhenCreated = async (nodeName: string, verb: "approve" | "deny"): Promise<CertificateSigningRequest> => {
      const csr = await until(`the CSR of ${nodeName}`, async () => {
        const list = await admin.forKind("certificates.k8s.io/v1", "CertificateSigningRequest").list();
        return list.items.find((c) => c.spec.username === `system:bootstrap:${TOKEN.id}` && !c.status?.conditions?.length && certSubjectOf(c) === `system:node:${nodeName}`);
      });
      const r = await srv.kubectl(["certificate", verb, csr.metadata!.name!]);
      assert.equal(r.code, 0, r.stderr);
      return csr;
    };

    it("asks for system:node:<name> in system:nodes as the bootstrap user and gets the certificate once approved", async () => {
      const client = bootstrapClient();
      try {
        const [issued, csr] = await Promise.all([requestNodeCertificate({ client, nodeName: "n1", log }), approveWhenCreated("n1", "approve")]);
        assert.equal(issued.csrName, csr.metadata?.name);
        assert.equal(issued.csrName, nodeCSRName(issued.keyPem, "system:node:n1", ["system:nodes"], ["digital signature", "client auth"]));
        assert.equal(csr.spec.signerName, "kubernetes.io/kube-apiserver-client-kubelet");
        assert.deepEqual(csr.spec.usages, ["digital signature", "client auth"]);
        assert.ok(csr.spec.groups?.includes(DEFAULT_NODE_TOKEN_GROUP));
        assert.ok(isIssuedBy(issued.certPem, caPem));
        assert.match(certificateFromPem(issued.certPem).subject, /CN=system:node:n1/);
        assert.match(certificateFromPem(issued.certPem).subject, /O=system:nodes/);
      } finally {
        client.close();
      }
    });

    it("fails with the Denied condition's reason and message", async () => {
      const client = bootstrapClient();
      try {
        await Promise.all([
          rejection(requestNodeCertificate({ client, nodeName: "n2", log }), "Certificate", /^certificate signing request is denied, reason: KubectlDeny, message: This CSR was denied by kubectl certificate deny\.$/),
          approveWhenCreated("n2", "deny"),
        ]);
      } finally {
        client.close();
      }
    });

    it("gives up after its deadline, naming the request to approve", async () => {
      const client = bootstrapClient();
      try {
        await rejection(requestNodeCertificate({ client, nodeName: "n3", timeoutMs: 300, log }), "Certificate", /^timed out after 0 s waiting for certificate signing request node-csr-\S+ to be approved and issued \(kubectl certificate approve node-csr-\S+\)$/);
      } finally {
        client.close();
      }
    });

    it("reads client-go's outcomes off a request's conditions", () => {
      const csr = (conditions: { type: string; reason?: string; message?: string }[], certificate?: string): CertificateSigningRequest => ({
        metadata: { name: "x", uid: "u" },
        spec: { request: "", signerName: "s" },
        status: { conditions: conditions.map((c) => ({ status: "True", ...c })), ...(certificate ? { certificate } : {}) },
      });
      assert.equal(csrOutcome(csr([]), "u"), undefined);
      assert.equal(csrOutcome(csr([{ type: "Approved" }]), "u"), undefined);
      assert.deepEqual(csrOutcome(csr([{ type: "Approved" }], Buffer.from("PEM").toString("base64")), "u"), { certPem: "PEM" });
      assert.deepEqual(csrOutcome(csr([{ type: "Approved" }, { type: "Failed", reason: "SignerValidationFailure", message: "m" }]), "u"), { failed: "certificate signing request failed, reason: SignerValidationFailure, message: m" });
      assert.deepEqual(csrOutcome(csr([]), "other"), { failed: 'certificate signing request "x" changed UIDs' });
    });
  });

  describe("the node's kubeconfig", () => {
    it("joins once, then restarts on the kubeconfig without a token; kubectl acts as the node", async () => {
      const dataDir = mkdtempSync(join(tmpdir(), "k8ts-join-test-"));
      try {
        const [path] = await Promise.all([
          joinWithToken({ dataDir, nodeName: "joiner", server: srv.url, token: TOKEN_TEXT, caCertHashes: [caCertHash(caPem)], log }),
          (async () => {
            const csr = await until("the joiner's CSR", async () => (await admin.forKind("certificates.k8s.io/v1", "CertificateSigningRequest").list()).items.find((c) => certSubjectOf(c) === "system:node:joiner"));
            const r = await srv.kubectl(["certificate", "approve", csr.metadata!.name!]);
            assert.equal(r.code, 0, r.stderr);
          })(),
        ]);
        assert.equal(path, nodeKubeconfigPath(dataDir));
        assert.equal(statSync(path).mode & 0o777, 0o600);
        const whoami = await srv.kubectl(["--kubeconfig", path, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username} {.status.userInfo.groups}"]);
        assert.equal(whoami.code, 0, whoami.stderr);
        assert.match(whoami.stdout, /^system:node:joiner \[.*"system:nodes".*\]$/);
        const before = readFileSync(path, "utf8");
        // A restart: no token, no server, the kubeconfig as it is.
        assert.equal(await joinWithToken({ dataDir, nodeName: "joiner", caCertHashes: [], log }), path);
        assert.equal(readFileSync(path, "utf8"), before);
        // Another node name on the same data dir needs a new certificate, so a token.
        await rejection(joinWithToken({ dataDir, nodeName: "renamed", caCertHashes: [], log }), "BadOption", /^--server and --token are required to join a cluster \(.*not system:node:renamed in system:nodes\); or give --kubeconfig with credentials$/);
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    });

    it("a kubeconfig is not usable when its certificate nears its end, comes from another CA or is for another node", async () => {
      const dataDir = mkdtempSync(join(tmpdir(), "k8ts-usable-test-"));
      try {
        const ca = { certPem: caPem, keyPem: readFileSync(clusterPKIPaths(srv.dataDir).caKey, "utf8") };
        const path = await ensureLocalNodeKubeconfig({ dataDir, nodeName: "n", server: srv.url, ca, log });
        const usable = (o: Partial<Parameters<typeof usableNodeKubeconfig>[1]>): Promise<string> =>
          usableNodeKubeconfig(path, { nodeName: "n", minValidMs: 60_000, ...o }).then((r) => ("config" in r ? "usable" : r.unusable));
        assert.equal(await usable({}), "usable");
        assert.match(await usable({ minValidMs: 400 * 24 * 3600 * 1000 }), /the client certificate expires at /);
        assert.match(await usable({ nodeName: "m" }), /the client certificate is for system:node:n, not system:node:m in system:nodes$/);
        assert.match(await usable({ caPem: (await createCA("other")).certPem }), /names another CA$/);
        assert.match(await usable({ server: "https://10.0.0.1:6443" }), /names the server https:\/\/127\.0\.0\.1:\d+, not https:\/\/10\.0\.0\.1:6443$/);
        const other = await createCA("other");
        const foreign = await ensureLocalNodeKubeconfig({ dataDir: join(dataDir, "x"), nodeName: "n", server: srv.url, ca: other, log });
        // The certificate of one CA under the name of another.
        writeFileSync(path, readFileSync(foreign, "utf8").replace(/certificate-authority-data: \S+/, `certificate-authority-data: ${Buffer.from(caPem).toString("base64")}`));
        assert.match(await usable({}), /the client certificate was not issued by its CA$/);
        assert.match((await usableNodeKubeconfig(join(dataDir, "none"), { nodeName: "n", minValidMs: 0 }) as { unusable: string }).unusable, /does not exist$/);
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    });

    it("the server's own node: signed with the CA, kept while valid, re-issued for another name", async () => {
      const dataDir = mkdtempSync(join(tmpdir(), "k8ts-local-node-test-"));
      try {
        const ca = { certPem: caPem, keyPem: readFileSync(clusterPKIPaths(srv.dataDir).caKey, "utf8") };
        const path = await ensureLocalNodeKubeconfig({ dataDir, nodeName: "server-node", server: srv.url, ca, log });
        const first = readFileSync(path, "utf8");
        assert.ok("config" in (await usableNodeKubeconfig(path, { nodeName: "server-node", minValidMs: 1000, server: srv.url, caPem })));
        assert.equal(await ensureLocalNodeKubeconfig({ dataDir, nodeName: "server-node", server: srv.url, ca, log }), path);
        assert.equal(readFileSync(path, "utf8"), first, "a valid kubeconfig is kept");
        const whoami = await srv.kubectl(["--kubeconfig", path, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"]);
        assert.equal(whoami.stdout, "system:node:server-node", whoami.stderr);
        await ensureLocalNodeKubeconfig({ dataDir, nodeName: "renamed", server: srv.url, ca, log });
        assert.notEqual(readFileSync(path, "utf8"), first);
        const again = await srv.kubectl(["--kubeconfig", path, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"]);
        assert.equal(again.stdout, "system:node:renamed", again.stderr);
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });
});

/** An address of this machine other than loopback, if it has one. */
function otherAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((a) => a && !a.internal && a.family === "IPv4")?.address;
}

/** The CN a CSR asks for. */
function certSubjectOf(csr: CertificateSigningRequest): string | undefined {
  try {
    return parseCertificateRequest(Buffer.from(csr.spec.request, "base64").toString("utf8")).commonName;
  } catch {
    return undefined;
  }
}
