import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ConfigMap, Secret } from "kubernetes-types/core/v1.js";
import { signDetached, verifyDetached } from "../../api/bootstraptoken.js";
import { DeletedFinalStateUnknown } from "../../client/objects.js";
import { FakeApi, conflictError, notFoundError, seedLister } from "../testing/index.js";
import { createLogger } from "../../util/log.js";
import { BootstrapSigner, CLUSTER_INFO_KEY, signedData, signingToken } from "./bootstrapsigner.js";

const log = createLogger("silent");
const NOW = Date.parse("2026-06-01T12:00:00Z");
const KUBECONFIG = "apiVersion: v1\nclusters:\n- cluster:\n    server: https://10.0.0.1:6443\n  name: \"\"\n";
const b64 = (s: string): string => Buffer.from(s).toString("base64");

function token(id: string, o: { secret?: string; signing?: boolean; expiration?: string; name?: string; namespace?: string; type?: string } = {}): Secret {
  const data: Record<string, string> = {
    "token-id": id,
    "token-secret": o.secret ?? `${id}0123456789`,
    "usage-bootstrap-authentication": "true",
    ...(o.signing === false ? {} : { "usage-bootstrap-signing": "true" }),
    ...(o.expiration ? { expiration: o.expiration } : {}),
  };
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: o.name ?? `bootstrap-token-${id}`, namespace: o.namespace ?? "kube-system", uid: `uid-${id}` },
    type: o.type ?? "bootstrap.kubernetes.io/token",
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
  };
}

function clusterInfo(data: Record<string, string>): ConfigMap {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cluster-info", namespace: "kube-public", uid: "cm", resourceVersion: "9" }, data };
}

function signer(api: FakeApi, cms: ConfigMap[], secrets: Secret[]): BootstrapSigner {
  api.seed("", "configmaps", ...structuredClone(cms));
  return new BootstrapSigner({ api, configMaps: seedLister(cms), secrets: seedLister(secrets), log, now: () => NOW });
}

describe("bootstrap signer", () => {
  it("signs the kubeconfig with every valid signing token, and keeps the rest of the ConfigMap", async () => {
    const api = new FakeApi();
    const tokens = [
      token("aaaaaa"),
      token("bbbbbb", { expiration: "2026-06-02T00:00:00Z" }),
      token("cccccc", { signing: false }),
      token("dddddd", { expiration: "2026-06-01T11:00:00Z" }),
      token("eeeeee", { name: "bootstrap-token-ffffff" }),
      token("gggggg", { namespace: "default" }),
      token("hhhhhh", { type: "Opaque" }),
    ];
    const s = signer(api, [clusterInfo({ kubeconfig: KUBECONFIG, other: "kept" })], tokens);
    await s.sync(CLUSTER_INFO_KEY);
    assert.deepEqual(api.verbs(), ["update configmaps kube-public/cluster-info"]);
    const data = (api.writes()[0]!.object as ConfigMap).data!;
    assert.deepEqual(Object.keys(data).sort(), ["jws-kubeconfig-aaaaaa", "jws-kubeconfig-bbbbbb", "kubeconfig", "other"]);
    assert.ok(verifyDetached(KUBECONFIG, data["jws-kubeconfig-aaaaaa"]!, { id: "aaaaaa", secret: "aaaaaa0123456789" }));
    assert.ok(verifyDetached(KUBECONFIG, data["jws-kubeconfig-bbbbbb"]!, { id: "bbbbbb", secret: "bbbbbb0123456789" }));
    assert.equal((api.writes()[0]!.object as ConfigMap).metadata?.resourceVersion, "9", "the update is conditional on what the cache saw");
    s.queue.shutDown();
  });

  it("writes nothing when the signatures are right, and nothing without cluster-info or its kubeconfig", async () => {
    const api = new FakeApi();
    const t = token("aaaaaa");
    const right = clusterInfo({ kubeconfig: KUBECONFIG, "jws-kubeconfig-aaaaaa": signDetached(KUBECONFIG, { id: "aaaaaa", secret: "aaaaaa0123456789" }) });
    await signer(api, [right], [t]).sync(CLUSTER_INFO_KEY);
    await signer(api, [], [t]).sync(CLUSTER_INFO_KEY);
    await signer(api, [clusterInfo({ other: "x" })], [t]).sync(CLUSTER_INFO_KEY);
    assert.deepEqual(api.verbs(), []);
  });

  it("removes signatures of tokens that are gone, and re-signs a changed kubeconfig or secret", async () => {
    const api = new FakeApi();
    const old = signDetached("old kubeconfig", { id: "aaaaaa", secret: "aaaaaa0123456789" });
    const s = signer(api, [clusterInfo({ kubeconfig: KUBECONFIG, "jws-kubeconfig-aaaaaa": old, "jws-kubeconfig-zzzzzz": "stale..sig" })], [token("aaaaaa")]);
    await s.sync(CLUSTER_INFO_KEY);
    const data = (api.writes()[0]!.object as ConfigMap).data!;
    assert.deepEqual(Object.keys(data).sort(), ["jws-kubeconfig-aaaaaa", "kubeconfig"]);
    assert.notEqual(data["jws-kubeconfig-aaaaaa"], old);
    s.queue.shutDown();
  });

  it("a ConfigMap deleted meanwhile is done; a conflict is retried", async () => {
    const api = new FakeApi();
    const s = signer(api, [clusterInfo({ kubeconfig: KUBECONFIG })], [token("aaaaaa")]);
    api.failOn({ verb: "update" }, notFoundError("configmaps", "cluster-info"), { times: 1 });
    await s.sync(CLUSTER_INFO_KEY);
    api.failOn({ verb: "update" }, conflictError("configmaps", "cluster-info"), { times: 1 });
    await assert.rejects(s.sync(CLUSTER_INFO_KEY), /the object has been modified/);
    s.queue.shutDown();
  });

  it("queues cluster-info for its own changes and for kube-system's token Secrets, deleted ones included", () => {
    const s = new BootstrapSigner({ api: new FakeApi(), configMaps: seedLister<ConfigMap>([]), secrets: seedLister<Secret>([]), log });
    s.configMapChanged({ metadata: { name: "other", namespace: "kube-public" } });
    s.secretChanged(token("aaaaaa", { type: "Opaque" }));
    s.secretChanged(token("aaaaaa", { namespace: "default" }));
    assert.equal(s.queue.len(), 0);
    s.secretChanged(new DeletedFinalStateUnknown("kube-system/bootstrap-token-aaaaaa", token("aaaaaa")));
    assert.equal(s.queue.len(), 1);
    s.configMapChanged(clusterInfo({}));
    assert.equal(s.queue.len(), 1, "one key for everything");
    s.queue.shutDown();
  });

  it("judges tokens as upstream's validateSecretForSigning, and leaves data alone when nothing changes", () => {
    assert.equal(signingToken(token("aaaaaa", { expiration: "2026-06-01T12:00:00Z" }), NOW), undefined, "expired at now");
    assert.deepEqual(signingToken(token("aaaaaa", { expiration: "2026-06-01T12:00:01Z" }), NOW), { id: "aaaaaa", secret: "aaaaaa0123456789", expiry: NOW + 1000 });
    const t = { id: "aaaaaa", secret: "aaaaaa0123456789" };
    assert.equal(signedData({ kubeconfig: KUBECONFIG, "jws-kubeconfig-aaaaaa": signDetached(KUBECONFIG, t) }, [t]), undefined);
    assert.deepEqual(signedData({ kubeconfig: KUBECONFIG, "jws-kubeconfig-aaaaaa": "x" }, []), { kubeconfig: KUBECONFIG });
  });
});
