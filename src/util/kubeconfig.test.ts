import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  buildKubeconfig,
  inClusterConfig,
  KubeconfigError,
  loadKubeconfig,
  mergeIntoKubeconfig,
  parseKubeconfig,
  readKubeconfig,
  serializeKubeconfig,
  writeKubeconfig,
} from "./kubeconfig.js";

const run = promisify(execFile);
const KUBECTL = "/usr/bin/kubectl";

// Stand-ins for PEM text: these tests exercise the file format, not the crypto.
const CA = "-----BEGIN CERTIFICATE-----\nY2E=\n-----END CERTIFICATE-----\n";
const CERT = "-----BEGIN CERTIFICATE-----\nY2VydA==\n-----END CERTIFICATE-----\n";
const KEY = "-----BEGIN PRIVATE KEY-----\na2V5\n-----END PRIVATE KEY-----\n";

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "k8ts-kubeconfig-"));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const k8ts = (server = "https://127.0.0.1:6443") =>
  buildKubeconfig({ clusterName: "k8ts", server, caPem: CA, userName: "k8ts-admin", clientCertPem: CERT, clientKeyPem: KEY, contextName: "k8ts" });

const kubectl = async (kubeconfig: string, ...args: string[]): Promise<string> => (await run(KUBECTL, ["--kubeconfig", kubeconfig, ...args])).stdout;

function isKubeconfigError(code: KubeconfigError["code"]): (e: unknown) => boolean {
  return (e) => e instanceof KubeconfigError && e.code === code;
}

void test("what we write is byte for byte what kubectl writes back", () =>
  withTempDir(async (dir) => {
    const path = join(dir, "config");
    await writeKubeconfig(path, buildKubeconfig({ clusterName: "k8ts", server: "https://127.0.0.1:6443", caPem: CA, userName: "admin", clientCertPem: CERT, clientKeyPem: KEY, contextName: "k8ts", namespace: "kube-system" }));
    const ours = await readFile(path, "utf8");
    assert.equal(await kubectl(path, "config", "view", "--raw"), ours);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal((await kubectl(path, "config", "view", "--raw", "-o", "jsonpath={.users[0].user.client-key-data}")), Buffer.from(KEY).toString("base64"));
    assert.match(await kubectl(path, "config", "get-contexts"), /\*\s+k8ts\s+k8ts\s+admin\s+kube-system/);
  }));

void test("merge adds ours beside kubectl's entries, replaces by name, and sets current only when asked", () =>
  withTempDir(async (dir) => {
    const path = join(dir, ".kube", "config");
    await mkdir(join(dir, ".kube"));
    await kubectl(path, "config", "set-cluster", "prod", "--server=https://prod.example:443");
    await kubectl(path, "config", "set-credentials", "alice", "--token=secret");
    await kubectl(path, "config", "set-context", "prod", "--cluster=prod", "--user=alice", "--namespace=web");
    await kubectl(path, "config", "use-context", "prod");
    const before = await readKubeconfig(path);

    await mergeIntoKubeconfig(path, k8ts(), { contextName: "k8ts", setCurrent: false });
    let after = await readKubeconfig(path);
    assert.equal(after["current-context"], "prod");
    assert.deepEqual(after.clusters.map((c) => c.name), ["prod", "k8ts"]);
    assert.deepEqual(after.clusters[0], before.clusters[0]);
    assert.deepEqual(after.users[0], before.users[0]);
    assert.deepEqual(after.contexts[0], before.contexts[0]);
    assert.equal((await stat(path)).mode & 0o777, 0o600);

    await mergeIntoKubeconfig(path, k8ts("https://127.0.0.1:7443"), { contextName: "k8ts", setCurrent: true });
    after = await readKubeconfig(path);
    assert.equal(after["current-context"], "k8ts");
    assert.deepEqual(after.clusters.map((c) => c.name), ["prod", "k8ts"], "replaced, not duplicated");
    assert.equal(after.clusters[1]?.cluster.server, "https://127.0.0.1:7443");
    assert.deepEqual(after.users.map((u) => u.name), ["alice", "k8ts-admin"]);

    // kubectl still reads it and sees both contexts.
    const contexts = await kubectl(path, "config", "get-contexts", "-o", "name");
    assert.deepEqual(contexts.trim().split("\n").sort(), ["k8ts", "prod"]);
    // No temporary file is left behind.
    assert.deepEqual(await readdir(join(dir, ".kube")), ["config"]);
  }));

void test("merge creates a missing file and directory, and writes through a symlink", () =>
  withTempDir(async (dir) => {
    const fresh = join(dir, "home", ".kube", "config");
    await mergeIntoKubeconfig(fresh, k8ts(), { contextName: "k8ts", setCurrent: true });
    assert.equal((await loadKubeconfig(fresh)).server, "https://127.0.0.1:6443");
    assert.equal((await stat(join(dir, "home", ".kube"))).mode & 0o777, 0o700);

    const link = join(dir, "link");
    await symlink(fresh, link);
    await mergeIntoKubeconfig(link, k8ts("https://10.0.0.1:6443"), { contextName: "k8ts", setCurrent: true });
    assert.ok((await stat(link)).isFile());
    assert.equal((await loadKubeconfig(fresh)).server, "https://10.0.0.1:6443");

    await assert.rejects(mergeIntoKubeconfig(fresh, k8ts(), { contextName: "nope", setCurrent: true }), isKubeconfigError("NotFound"));
  }));

void test("load resolves -data fields, files relative to the kubeconfig, tokens and the chosen context", () =>
  withTempDir(async (dir) => {
    await mkdir(join(dir, "creds"));
    await writeFile(join(dir, "creds", "ca.crt"), CA);
    await writeFile(join(dir, "creds", "token"), "file-token\n");
    await writeFile(join(dir, "abs.key"), KEY);
    const path = join(dir, "config");
    await writeFile(
      path,
      [
        "apiVersion: v1",
        "kind: Config",
        "current-context: files",
        "clusters:",
        "- name: by-file",
        "  cluster: { server: 'https://a:1', certificate-authority: creds/ca.crt, tls-server-name: api.internal }",
        "- name: by-data",
        `  cluster: { server: 'https://b:2', certificate-authority-data: ${Buffer.from(CA).toString("base64")} }`,
        "- name: insecure",
        "  cluster: { server: 'https://c:3', insecure-skip-tls-verify: true }",
        "- name: both",
        "  cluster: { server: 'https://d:4', insecure-skip-tls-verify: true, certificate-authority: creds/ca.crt }",
        "users:",
        `- name: certs`,
        `  user: { client-certificate-data: ${Buffer.from(CERT).toString("base64")}, client-key: ${join(dir, "abs.key")} }`,
        "- name: tok",
        "  user: { token: inline-token }",
        "- name: tokfile",
        "  user: { tokenFile: creds/token }",
        "contexts:",
        "- { name: files, context: { cluster: by-file, user: certs } }",
        "- { name: data, context: { cluster: by-data, user: tok, namespace: team-a } }",
        "- { name: insecure, context: { cluster: insecure, user: tokfile } }",
        "- { name: both, context: { cluster: both, user: tok } }",
        "- { name: nouser, context: { cluster: by-data, user: ghost } }",
        "- { name: nocluster, context: { cluster: ghost, user: tok } }",
      ].join("\n"),
    );

    assert.deepEqual(await loadKubeconfig(path), {
      server: "https://a:1",
      caPem: CA,
      certPem: CERT,
      keyPem: KEY,
      insecureSkipTLSVerify: false,
      tlsServerName: "api.internal",
      namespace: "default",
      contextName: "files",
    });
    assert.deepEqual(await loadKubeconfig(path, { context: "data" }), { server: "https://b:2", caPem: CA, token: "inline-token", insecureSkipTLSVerify: false, namespace: "team-a", contextName: "data" });
    assert.deepEqual(await loadKubeconfig(path, { context: "insecure" }), { server: "https://c:3", token: "file-token", insecureSkipTLSVerify: true, namespace: "default", contextName: "insecure" });
    assert.deepEqual(await loadKubeconfig(path, { context: "nouser" }), { server: "https://b:2", caPem: CA, insecureSkipTLSVerify: false, namespace: "default", contextName: "nouser" });
    await assert.rejects(loadKubeconfig(path, { context: "both" }), isKubeconfigError("Invalid"));
    await assert.rejects(loadKubeconfig(path, { context: "nocluster" }), isKubeconfigError("NotFound"));
    await assert.rejects(loadKubeconfig(path, { context: "missing" }), isKubeconfigError("NotFound"));
  }));

void test("bad files are reported with stable codes", () =>
  withTempDir(async (dir) => {
    await assert.rejects(loadKubeconfig(join(dir, "absent")), isKubeconfigError("NotFound"));
    assert.throws(() => parseKubeconfig("clusters: [unclosed"), isKubeconfigError("Invalid"));
    assert.throws(() => parseKubeconfig("- a list"), isKubeconfigError("Invalid"));
    assert.throws(() => parseKubeconfig("clusters: {}"), isKubeconfigError("Invalid"));
    assert.throws(() => parseKubeconfig("clusters: [{ name: x }]"), isKubeconfigError("Invalid"));
    const empty = parseKubeconfig("");
    assert.deepEqual([empty.clusters, empty["current-context"]], [[], ""]);
    const path = join(dir, "config");
    await writeFile(path, serializeKubeconfig({ ...k8ts(), users: [{ name: "k8ts-admin", user: { "client-key": "missing.key" } }] }));
    await assert.rejects(loadKubeconfig(path), (e) => isKubeconfigError("NotFound")(e) && (e as KubeconfigError).path === join(dir, "missing.key"));
  }));

void test("in-cluster config comes from the Service env and the ServiceAccount mount", () =>
  withTempDir(async (dir) => {
    await writeFile(join(dir, "token"), "sa-token\n");
    await writeFile(join(dir, "ca.crt"), CA);
    await writeFile(join(dir, "namespace"), "team-b");
    assert.deepEqual(await inClusterConfig({ env: { KUBERNETES_SERVICE_HOST: "10.43.0.1", KUBERNETES_SERVICE_PORT: "443" }, dir }), {
      server: "https://10.43.0.1:443",
      caPem: CA,
      token: "sa-token",
      tokenFile: join(dir, "token"),
      namespace: "team-b",
      insecureSkipTLSVerify: false,
    });
    assert.equal((await inClusterConfig({ env: { KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "443" }, dir })).server, "https://[fd00::1]:443");
    await assert.rejects(inClusterConfig({ env: {}, dir }), isKubeconfigError("NotInCluster"));
    await assert.rejects(inClusterConfig({ env: { KUBERNETES_SERVICE_HOST: "h", KUBERNETES_SERVICE_PORT: "1" }, dir: join(dir, "nope") }), isKubeconfigError("NotInCluster"));
  }));
