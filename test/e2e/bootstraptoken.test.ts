// Bootstrap tokens end to end, against `k8ts server` with the official kubectl: `k8ts token
// create/list/delete`, a token as a bearer credential (`kubectl auth whoami`), expired and
// unknown tokens refused with 401, kube-public/cluster-info readable anonymously (and nothing
// else), and the bootstrap signer's detached JWS of it, which a joining node verifies with its
// token and whose CA matches --discovery-token-ca-cert-hash.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { get } from "node:https";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { caCertHash, parseBootstrapToken, verifyDetached } from "../../src/api/bootstraptoken.js";
import { kubectlOk, kubectlRunner, type Kubectl, type KubectlResult } from "../../src/testing/apiserver.js";
import { K8TS_CLI, K8tsProcess } from "../../src/testing/process.js";
import { freePort } from "../../src/testing/net.js";
import { until } from "../../src/testing/wait.js";

const UNAUTHORIZED = "error: You must be logged in to the server (Unauthorized)";

function k8ts(args: readonly string[]): Promise<KubectlResult> {
  return new Promise((resolve) =>
    execFile(process.execPath, [K8TS_CLI, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    }),
  );
}

/** A GET with no credential at all, as a node about to join makes it (kubectl would prompt for a user). */
function anonymousGet(url: string, ca: string): Promise<{ readonly status: number; readonly body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { ca }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    }).on("error", reject);
  });
}

describe("bootstrap tokens with kubectl and k8ts token", { timeout: 180_000 }, () => {
  let dir: string;
  let server: K8tsProcess | undefined;
  let admin: Kubectl;
  /** kubectl with the server and CA only: whatever credential the command line gives, or none. */
  let bare: Kubectl;
  let adminKubeconfig: string;
  let caPem: string;
  let serverUrl: string;
  const anonymous = (path: string) => anonymousGet(serverUrl + path, caPem);
  const clusterInfoData = async (): Promise<Record<string, string> | undefined> => {
    const r = await anonymous("/api/v1/namespaces/kube-public/configmaps/cluster-info");
    return r.status === 200 ? ((JSON.parse(r.body) as { data?: Record<string, string> }).data ?? {}) : undefined;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "k8ts-bootstraptoken-"));
    const port = await freePort();
    server = K8tsProcess.start("k8ts server", ["server", "--data-dir", dir, "--port", String(port), "--store", "memory://", "--disable-agent", "--disable-addons", "--log-level", process.env["K8TS_TEST_LOG"] ?? "warn"]);
    await server.ready("k8ts server ready");
    adminKubeconfig = join(dir, "admin.kubeconfig");
    admin = kubectlRunner(adminKubeconfig, join(dir, "kubectl-cache"), dir, 120_000);
    const config = parse(readFileSync(adminKubeconfig, "utf8")) as { clusters: { cluster: { server: string; "certificate-authority-data": string } }[] };
    const cluster = config.clusters[0]!.cluster;
    caPem = Buffer.from(cluster["certificate-authority-data"], "base64").toString("utf8");
    serverUrl = cluster.server;
    const bareKubeconfig = join(dir, "bare.kubeconfig");
    writeFileSync(
      bareKubeconfig,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: k8ts\n  cluster:\n    server: ${cluster.server}\n    certificate-authority-data: ${cluster["certificate-authority-data"]}\ncontexts:\n- name: bare\n  context:\n    cluster: k8ts\n    user: nobody\ncurrent-context: bare\nusers:\n- name: nobody\n  user: {}\n`,
    );
    bare = kubectlRunner(bareKubeconfig, join(dir, "kubectl-cache-bare"), dir, 120_000);
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("k8ts token create, list and delete", async () => {
    const created = await k8ts(["token", "create", "--kubeconfig", adminKubeconfig, "--description", "e2e round trip", "--ttl", "2h"]);
    assert.equal(created.code, 0, created.stderr);
    const token = created.stdout.trim();
    const parts = parseBootstrapToken(token);
    assert.ok(parts, `a token, got ${JSON.stringify(created.stdout)}`);
    const listed = await k8ts(["token", "list", "--kubeconfig", adminKubeconfig]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^TOKEN\s+TTL\s+EXPIRES\s+USAGES\s+DESCRIPTION\s+EXTRA GROUPS\n/);
    assert.match(listed.stdout, new RegExp(`\\n${token.replace(".", "\\.")}\\s+1h\\s+\\S+Z\\s+authentication,signing\\s+e2e round trip\\s+system:bootstrappers:k8ts:default-node-token\\n`));
    assert.match(await kubectlOk(admin, ["get", "secret", "-n", "kube-system", `bootstrap-token-${parts.id}`, "-o", "jsonpath={.type}"]), /^bootstrap.kubernetes.io\/token$/);
    const deleted = await k8ts(["token", "delete", "--kubeconfig", adminKubeconfig, token]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout, `bootstrap token "${parts.id}" deleted\n`);
    assert.doesNotMatch((await k8ts(["token", "list", "--kubeconfig", adminKubeconfig])).stdout, new RegExp(parts.id));
    const bad = await k8ts(["token", "create", "--kubeconfig", adminKubeconfig, "--groups", "system:masters"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /bootstrap group "system:masters" is invalid/);
  });

  it("a token authenticates as system:bootstrap:<id> with its groups", async () => {
    const token = (await k8ts(["token", "create", "--kubeconfig", adminKubeconfig])).stdout.trim();
    const id = parseBootstrapToken(token)?.id;
    assert.ok(id);
    // The authenticator reads the server's watch cache, which has the Secret a moment after the create.
    const out = await until("whoami as the token", async () => {
      const r = await bare(["--token", token, "auth", "whoami"]);
      return r.code === 0 ? r.stdout : undefined;
    });
    assert.match(out, /^ATTRIBUTE\s+VALUE\n/);
    assert.match(out, new RegExp(`\\nUsername\\s+system:bootstrap:${id}\\n`));
    assert.match(out, /\nGroups\s+\[system:bootstrappers system:bootstrappers:k8ts:default-node-token system:authenticated\]\n/);
  });

  it("an unknown, wrong or expired token is refused with 401, never taken as anonymous", async () => {
    const unknown = await bare(["--token", "zzzzzz.0123456789abcdef", "auth", "whoami"]);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr.trim(), UNAUTHORIZED);
    const token = (await k8ts(["token", "create", "--kubeconfig", adminKubeconfig])).stdout.trim();
    await until("the token works", async () => ((await bare(["--token", token, "auth", "whoami"])).code === 0 ? true : undefined));
    const wrong = `${token.split(".")[0]}.ffffffffffffffff`;
    assert.equal((await bare(["--token", wrong, "get", "--raw", "/api/v1/namespaces/kube-public/configmaps/cluster-info"])).stderr.trim(), UNAUTHORIZED);
    const expired = `apiVersion: v1
kind: Secret
metadata:
  name: bootstrap-token-expird
  namespace: kube-system
type: bootstrap.kubernetes.io/token
stringData:
  token-id: expird
  token-secret: 0123456789abcdef
  expiration: "2020-01-01T00:00:00Z"
  usage-bootstrap-authentication: "true"
`;
    await kubectlOk(admin, ["create", "-f", "-"], expired);
    const r = await bare(["--token", "expird.0123456789abcdef", "auth", "whoami"]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim(), UNAUTHORIZED);
    // The token cleaner deletes it.
    await until("the expired token deleted", async () => ((await admin(["get", "secret", "-n", "kube-system", "bootstrap-token-expird"])).code !== 0 ? true : undefined), 30_000, 200);
  });

  it("anonymous callers read cluster-info and nothing else", async () => {
    const data = await until("cluster-info readable anonymously", clusterInfoData);
    assert.match(data["kubeconfig"] ?? "", /^apiVersion: v1\nclusters:\n- cluster:\n {4}certificate-authority-data: \S+\n {4}server: https:\/\/\S+\n {2}name: ""\n/);
    for (const path of ["/api/v1/namespaces/kube-public/configmaps/other", "/api/v1/namespaces/kube-system/configmaps/cluster-info", "/api/v1/namespaces/kube-public/configmaps", "/api/v1/namespaces", "/api/v1/namespaces/kube-public/configmaps/cluster-info/status"]) {
      const r = await anonymous(path);
      assert.equal(r.status, 401, path);
      assert.equal((JSON.parse(r.body) as { reason?: string }).reason, "Unauthorized", path);
    }
    // Through kubectl, a credential the server does not know is 401 there too.
    const r = await bare(["--token", "zzzzzz.0123456789abcdef", "get", "--raw", "/api/v1/namespaces/kube-public/configmaps/cluster-info"]);
    assert.equal(r.stderr.trim(), UNAUTHORIZED);
  });

  it("the bootstrap signer's JWS of cluster-info verifies with the token, and its CA matches the join command's hash", async () => {
    const join = (await k8ts(["token", "create", "--kubeconfig", adminKubeconfig, "--print-join-command"])).stdout.trim();
    const m = /^k8ts agent --server (\S+) --token (\S+) --discovery-token-ca-cert-hash (sha256:[0-9a-f]{64})$/.exec(join);
    assert.ok(m, `a join command, got ${JSON.stringify(join)}`);
    const [, , token, hash] = m;
    const parts = parseBootstrapToken(token!)!;
    assert.equal(hash, caCertHash(caPem));
    const data = await until("cluster-info signed with the new token", async () => {
      const d = await clusterInfoData();
      return d?.[`jws-kubeconfig-${parts.id}`] !== undefined ? d : undefined;
    });
    const kubeconfig = data["kubeconfig"]!;
    assert.ok(verifyDetached(kubeconfig, data[`jws-kubeconfig-${parts.id}`]!, parts), "the signature verifies with the token");
    assert.ok(!verifyDetached(kubeconfig, data[`jws-kubeconfig-${parts.id}`]!, { ...parts, secret: "ffffffffffffffff" }));
    const cluster = (parse(kubeconfig) as { clusters: { cluster: { server: string; "certificate-authority-data": string } }[] }).clusters[0]!.cluster;
    assert.match(cluster.server, /^https:\/\//);
    assert.equal(caCertHash(Buffer.from(cluster["certificate-authority-data"], "base64").toString("utf8")), hash);
    // Deleting the token removes its signature.
    assert.equal((await k8ts(["token", "delete", "--kubeconfig", adminKubeconfig, parts.id])).code, 0);
    await until("the signature gone", async () => ((await clusterInfoData())?.[`jws-kubeconfig-${parts.id}`] === undefined ? true : undefined));
  });
});
