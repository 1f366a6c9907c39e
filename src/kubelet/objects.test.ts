// ApiObjectSource against a real API server.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ConfigMap, PersistentVolume, PersistentVolumeClaim, Pod, Secret, Service, ServiceAccount } from "kubernetes-types/core/v1.js";
import { createClientFromKubeconfig, RestClient } from "../client/rest.js";
import { ApiError, isClientError, isNotFound } from "../client/errors.js";
import { loadKubeconfig } from "../util/kubeconfig.js";
import { startTestApiServer, type TestApiServer } from "../testing/apiserver.js";
import { until } from "../testing/wait.js";
import { createLogger } from "../util/log.js";
import { ApiObjectSource } from "./objects.js";

const log = createLogger("silent");

describe("ApiObjectSource", () => {
  let srv: TestApiServer;
  let client: RestClient;
  let source: ApiObjectSource;
  const changes: string[] = [];
  const sources: ApiObjectSource[] = [];

  const cm = (name: string, data: Record<string, string>): ConfigMap => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "default" }, data });

  before(async () => {
    srv = await startTestApiServer();
    client = await createClientFromKubeconfig(srv.kubeconfig, { qps: Infinity });
    await client.forKind("v1", "ConfigMap").create(cm("pre", { k: "v1" }));
    source = new ApiObjectSource({ client, log });
    sources.push(source);
    source.onChange((kind, ns, name) => changes.push(`${kind} ${ns}/${name}`));
    await source.start();
  });
  after(async () => {
    for (const s of sources) s.stop();
    client?.close();
    await srv?.stop();
  });

  it("reads from the synced cache, without managedFields; the first list is no change", async () => {
    const got = await source.configMap("default", "pre");
    assert.deepEqual(got?.data, { k: "v1" });
    assert.equal(got?.metadata?.managedFields, undefined);
    assert.ok(!changes.includes("ConfigMap default/pre"));
  });

  it("an update reaches the cache and fires onChange", async () => {
    const rc = client.forKind("v1", "ConfigMap").namespace("default");
    const cur = await rc.get("pre");
    await rc.update({ ...cur, data: { k: "v2" } });
    await until("onChange for the update", () => (changes.includes("ConfigMap default/pre") ? true : undefined));
    assert.deepEqual((await source.configMap("default", "pre"))?.data, { k: "v2" });
  });

  it("secrets: add and delete fire onChange; a deleted secret is undefined", async () => {
    const rc = client.forKind("v1", "Secret").namespace("default");
    const secret: Secret = { apiVersion: "v1", kind: "Secret", metadata: { name: "creds", namespace: "default" }, data: { pass: Buffer.from("pw").toString("base64") } };
    await rc.create(secret);
    await until("onChange for the new secret", () => (changes.includes("Secret default/creds") ? true : undefined));
    assert.equal((await source.secret("default", "creds"))?.data?.["pass"], Buffer.from("pw").toString("base64"));
    const n = changes.length;
    await rc.delete("creds");
    await until("onChange for the deletion", () => (changes.slice(n).includes("Secret default/creds") ? true : undefined));
    assert.equal(await source.secret("default", "creds"), undefined);
  });

  it("services of a namespace come from the cache", async () => {
    const svc: Service = { apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "default" }, spec: { ports: [{ port: 80 }], selector: { app: "web" } } };
    await client.forKind("v1", "Service").create(svc);
    const names = await until("the service in the cache", async () => {
      const list = await source.services("default");
      return list.some((s) => s.metadata?.name === "web") ? list.map((s) => s.metadata?.name) : undefined;
    });
    assert.ok(names.includes("web"));
    assert.deepEqual(await source.services("elsewhere"), []);
  });

  it("claims and volumes come from the cache; a volume's change is news to its claim's namespace", async () => {
    const claim: PersistentVolumeClaim = {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "data", namespace: "default" },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, storageClassName: "" },
    };
    const created = await client.forKind("v1", "PersistentVolumeClaim").create(claim);
    await until("onChange for the claim", () => (changes.includes("PersistentVolumeClaim default/data") ? true : undefined));
    assert.equal((await source.persistentVolumeClaim("default", "data"))?.metadata?.uid, created.metadata?.uid);
    const pv: PersistentVolume = {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: "pv-data" },
      spec: {
        capacity: { storage: "1Gi" },
        accessModes: ["ReadWriteOnce"],
        hostPath: { path: "/tmp/pv-data" },
        claimRef: { kind: "PersistentVolumeClaim", apiVersion: "v1", namespace: "default", name: "data", uid: created.metadata!.uid! },
      },
    };
    await client.forKind("v1", "PersistentVolume").create(pv);
    await until("onChange for the volume", () => (changes.includes("PersistentVolume default/pv-data") ? true : undefined));
    assert.equal((await source.persistentVolume("pv-data"))?.spec?.hostPath?.path, "/tmp/pv-data");
    assert.equal(await source.persistentVolume("nope"), undefined);
    assert.equal(await source.persistentVolumeClaim("default", "nope"), undefined);
  });

  it("a missing object is undefined (404), other failures throw", async () => {
    assert.equal(await source.configMap("default", "nope"), undefined);
    assert.equal(await source.secret("nowhere", "nope"), undefined);
    // A server that cannot be reached: a failure, not an absence.
    const config = await loadKubeconfig(srv.kubeconfig);
    const down = new RestClient({ config: { ...config, server: "https://127.0.0.1:1" }, maxRetries: 0, timeoutMs: 5000 });
    try {
      const offline = new ApiObjectSource({ client: down, log });
      await assert.rejects(offline.configMap("default", "pre"), (err: unknown) => isClientError(err, "Transport"));
      await assert.rejects(offline.services("default"), (err: unknown) => isClientError(err, "Transport"));
    } finally {
      down.close();
    }
  });

  it("an object the cache has not seen is fetched live", async () => {
    const stale = new ApiObjectSource({ client, log });
    sources.push(stale);
    await stale.start();
    // Stopped informers: from here on only a live GET can know about new objects.
    stale.stop();
    await client.forKind("v1", "ConfigMap").create(cm("late", { fresh: "yes" }));
    const got = await stale.configMap("default", "late");
    assert.deepEqual(got?.data, { fresh: "yes" });
    assert.equal(got?.metadata?.managedFields, undefined);
    assert.equal(await stale.configMap("default", "never"), undefined);
    await client.forKind("v1", "PersistentVolume").create({ apiVersion: "v1", kind: "PersistentVolume", metadata: { name: "late-pv" }, spec: { capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"], hostPath: { path: "/tmp/late" } } });
    assert.equal((await stale.persistentVolume("late-pv"))?.spec?.hostPath?.path, "/tmp/late");
  });

  it("serviceAccountToken asks for a TokenRequest bound to the pod", async (t) => {
    const sa: ServiceAccount = { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "builder", namespace: "default" } };
    await client.forKind("v1", "ServiceAccount").create(sa);
    const pod: Pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "tok", namespace: "default" }, spec: { serviceAccountName: "builder", containers: [{ name: "c", image: "busybox" }] } };
    const created = await client.forKind("v1", "Pod").create(pod);
    const request = { audiences: ["vault"], expirationSeconds: 3600, podName: "tok", podUid: created.metadata!.uid! };
    let answer: { token: string; expirationTimestamp: string };
    try {
      answer = await source.serviceAccountToken("default", "builder", request);
    } catch (err) {
      // The serviceaccounts/token subresource is being added to the API server in parallel.
      if (err instanceof ApiError && err.code === 404 && err.details?.kind !== "serviceaccounts") {
        t.skip(`the API server has no serviceaccounts/token yet: ${err.message}`);
        return;
      }
      throw err;
    }
    const [, body] = answer.token.split(".");
    const claims = JSON.parse(Buffer.from(body ?? "", "base64url").toString("utf8")) as { aud?: string[]; sub?: string; "kubernetes.io"?: { pod?: { uid?: string } } };
    assert.deepEqual(claims.aud, ["vault"]);
    assert.equal(claims.sub, "system:serviceaccount:default:builder");
    assert.equal(claims["kubernetes.io"]?.pod?.uid, created.metadata!.uid);
    const ttl = Date.parse(answer.expirationTimestamp) - Date.now();
    assert.ok(ttl > 3500_000 && ttl <= 3601_000, `expires in ${ttl} ms`);
    await assert.rejects(source.serviceAccountToken("default", "ghost", request), (err: unknown) => isNotFound(err));
  });
});
