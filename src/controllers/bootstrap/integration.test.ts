// The bootstrap signer and token cleaner against a real API server: a signing token's signature
// appears in cluster-info, and a token that expires is deleted and its signature goes with it.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ConfigMap } from "kubernetes-types/core/v1.js";
import { bootstrapTokenSecretData, bootstrapTokenSecretName, verifyDetached } from "../../api/bootstraptoken.js";
import { isNotFound } from "../../client/errors.js";
import { runControllersAgainstApiServer, type ControllersAgainstApiServer } from "../../testing/controllers.js";
import { until } from "../../testing/wait.js";
import { BOOTSTRAP_SIGNER_WORKERS, TOKEN_CLEANER_WORKERS, bootstrapSignerController, tokenCleanerController } from "./index.js";

const KUBECONFIG = 'apiVersion: v1\nclusters:\n- cluster:\n    server: https://127.0.0.1:6443\n  name: ""\n';

describe("bootstrap token controllers against an API server", { timeout: 60_000 }, () => {
  let env: ControllersAgainstApiServer;
  before(async () => {
    env = await runControllersAgainstApiServer((ctx) => [
      [bootstrapSignerController(ctx), BOOTSTRAP_SIGNER_WORKERS],
      [tokenCleanerController(ctx), TOKEN_CLEANER_WORKERS],
    ]);
  });
  after(async () => {
    await env?.stop();
  });

  const secrets = () => env.client.forKind("v1", "Secret").namespace("kube-system");
  const clusterInfo = () => env.client.forKind("v1", "ConfigMap").namespace("kube-public");
  const createToken = (id: string, secret: string, expiration?: Date) =>
    secrets().create({ metadata: { name: bootstrapTokenSecretName(id) }, type: "bootstrap.kubernetes.io/token", stringData: bootstrapTokenSecretData({ id, secret, usages: ["authentication", "signing"], extraGroups: [], ...(expiration ? { expiration } : {}) }) });

  it("signs cluster-info with a new token, and drops the signature when the token expires and is deleted", async () => {
    await clusterInfo().create({ metadata: { name: "cluster-info" }, data: { kubeconfig: KUBECONFIG } });
    await createToken("abcdef", "0123456789abcdef");
    const sig = await until("the signature of abcdef", async () => ((await clusterInfo().get("cluster-info")) as ConfigMap).data?.["jws-kubeconfig-abcdef"]);
    assert.ok(verifyDetached(KUBECONFIG, sig, { id: "abcdef", secret: "0123456789abcdef" }));

    // Expiration has whole seconds: this one is 2-3 s ahead.
    await createToken("short1", "0123456789abcdef", new Date(Date.now() + 3000));
    await until("the signature of short1", async () => ((await clusterInfo().get("cluster-info")) as ConfigMap).data?.["jws-kubeconfig-short1"]);
    await until(
      "short1 deleted",
      async () => {
        try {
          await secrets().get(bootstrapTokenSecretName("short1"));
          return undefined;
        } catch (err) {
          return isNotFound(err) ? true : undefined;
        }
      },
      15_000,
      100,
    );
    const data = await until("short1's signature gone", async () => {
      const d = ((await clusterInfo().get("cluster-info")) as ConfigMap).data ?? {};
      return d["jws-kubeconfig-short1"] === undefined ? d : undefined;
    });
    assert.deepEqual(Object.keys(data).sort(), ["jws-kubeconfig-abcdef", "kubeconfig"]);
    assert.equal(data["jws-kubeconfig-abcdef"], sig, "the other token's signature is untouched");
  });
});
