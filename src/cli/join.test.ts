// What a server publishes for nodes to join with, against a real API server: cluster-info in
// kubeadm's shape, kept pointing at this server and CA, and the default node token.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ConfigMap, Secret } from "kubernetes-types/core/v1.js";
import { bootstrapTokenFromSecret, type BootstrapToken } from "../api/bootstraptoken.js";
import { createClientFromKubeconfig, type RestClient } from "../client/rest.js";
import { startTestApiServer, type TestApiServer } from "../testing/apiserver.js";
import { clusterInfoKubeconfig, clusterOfKubeconfig, ensureClusterInfo, ensureNodeToken, JoinError, NODE_TOKEN_DESCRIPTION } from "./join.js";

const CA = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";

describe("cluster-info and the node token", () => {
  let srv: TestApiServer;
  let client: RestClient;
  let dir: string;
  before(async () => {
    srv = await startTestApiServer();
    client = await createClientFromKubeconfig(srv.kubeconfig, { qps: Infinity });
    dir = mkdtempSync(join(tmpdir(), "k8ts-join-"));
  });
  after(async () => {
    client?.close();
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const clusterInfo = async (): Promise<ConfigMap> => client.forKind("v1", "ConfigMap").namespace("kube-public").get("cluster-info");

  it("cluster-info's kubeconfig is kubeadm's: one cluster named \"\", no users or contexts", () => {
    assert.equal(
      clusterInfoKubeconfig("https://10.0.0.1:6443", CA),
      `apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: ${Buffer.from(CA).toString("base64")}\n    server: https://10.0.0.1:6443\n  name: ""\ncontexts: null\ncurrent-context: ""\nkind: Config\npreferences: {}\nusers: null\n`,
    );
    assert.deepEqual(clusterOfKubeconfig(clusterInfoKubeconfig("https://h:1", CA)), { server: "https://h:1", caPem: CA });
    assert.equal(clusterOfKubeconfig("::: not yaml"), undefined);
  });

  it("creates cluster-info, leaves it when right, replaces only its kubeconfig when the server or CA changed", async () => {
    assert.equal(await ensureClusterInfo(client, { server: "https://10.0.0.1:6443", caPem: CA }), "created");
    assert.deepEqual((await clusterInfo()).data, { kubeconfig: clusterInfoKubeconfig("https://10.0.0.1:6443", CA) });
    assert.equal(await ensureClusterInfo(client, { server: "https://10.0.0.1:6443", caPem: CA }), "unchanged");
    // A signature the signer wrote stays (the signer recomputes it).
    const cm = await clusterInfo();
    await client.forKind("v1", "ConfigMap").namespace("kube-public").update({ ...cm, data: { ...cm.data, "jws-kubeconfig-abcdef": "x..y" } });
    assert.equal(await ensureClusterInfo(client, { server: "https://10.0.0.2:6443", caPem: CA }), "updated");
    assert.deepEqual((await clusterInfo()).data, { kubeconfig: clusterInfoKubeconfig("https://10.0.0.2:6443", CA), "jws-kubeconfig-abcdef": "x..y" });
  });

  it("the node token: made once, written 0600, its Secret never expiring, made again if the store lost it", async () => {
    const token = await ensureNodeToken(client, dir);
    const file = join(dir, "node-token");
    assert.equal(readFileSync(file, "utf8"), `${token}\n`);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(await ensureNodeToken(client, dir), token, "the same token again");
    const id = token.split(".")[0]!;
    const secrets = client.forKind("v1", "Secret").namespace("kube-system");
    const t = bootstrapTokenFromSecret((await secrets.get(`bootstrap-token-${id}`)) as Secret) as BootstrapToken;
    assert.deepEqual(t, { id, secret: token.split(".")[1], description: NODE_TOKEN_DESCRIPTION, usages: ["authentication", "signing"], extraGroups: ["system:bootstrappers:k8ts:default-node-token"] });
    await secrets.delete(`bootstrap-token-${id}`);
    assert.equal(await ensureNodeToken(client, dir), token);
    assert.ok(await secrets.get(`bootstrap-token-${id}`));
  });

  it("refuses a node-token file that holds no token", async () => {
    const other = mkdtempSync(join(tmpdir(), "k8ts-join-"));
    try {
      writeFileSync(join(other, "node-token"), "K10abc::server:pw\n");
      await assert.rejects(ensureNodeToken(client, other), (e: unknown) => e instanceof JoinError && e.code === "InvalidNodeToken");
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
