// ApiObjectSource against a real API server.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ConfigMap, PersistentVolume, PersistentVolumeClaim, Pod, Secret, Service, ServiceAccount } from "kubernetes-types/core/v1.js";
import { createClientFromKubeconfig, RestClient } from "../client/rest.js";
import { ApiError, isClientError, isNotFound } from "../client/errors.js";
import { loadKubeconfig } from "../util/kubeconfig.js";
import { startTestApiServer, type TestApiServer } from "../testing/apiserver.js";
import { until } from "../testing/wait.js";
import { createLogger } from "../util/log.js";
import { ApiObjectSource } from "./objects.js";
import { podConfigMapNames, podSecretNames } from "../api/podreferences.js";

const log = createLogger("silent");

/** A pod of this node that names the given Secrets and ConfigMaps (as volumes). */
function podUsing(uid: string, o: { secrets?: string[]; configMaps?: string[]; phase?: string; namespace?: string } = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: `pod-${uid}`, namespace: o.namespace ?? "default", uid },
    spec: {
      containers: [{ name: "c", image: "busybox" }],
      volumes: [...(o.secrets ?? []).map((n) => ({ name: `s-${n}`, secret: { secretName: n } })), ...(o.configMaps ?? []).map((n) => ({ name: `c-${n}`, configMap: { name: n } }))],
    },
    ...(o.phase ? { status: { phase: o.phase } } : {}),
  };
}

describe("the Secrets and ConfigMaps a pod names (upstream's VisitPodSecretNames, VisitPodConfigmapNames)", () => {
  it("image pull secrets, env and envFrom of every kind of container, volumes and projected sources", () => {
    const pod: Pod = {
      metadata: { name: "p", namespace: "default", uid: "u" },
      spec: {
        imagePullSecrets: [{ name: "pull" }, { name: "" }],
        initContainers: [{ name: "i", env: [{ name: "A", valueFrom: { secretKeyRef: { name: "init-env", key: "k" } } }, { name: "B", valueFrom: { configMapKeyRef: { name: "init-cm", key: "k" } } }] }],
        containers: [
          { name: "c", envFrom: [{ secretRef: { name: "env-from" } }, { configMapRef: { name: "cm-from" } }], env: [{ name: "C", value: "plain" }, { name: "D", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }] },
        ],
        ephemeralContainers: [{ name: "e", env: [{ name: "E", valueFrom: { secretKeyRef: { name: "debug", key: "k" } } }] }],
        volumes: [
          { name: "v1", secret: { secretName: "vol" } },
          { name: "v2", configMap: { name: "cm-vol" } },
          { name: "v3", projected: { sources: [{ secret: { name: "proj" } }, { configMap: { name: "cm-proj" } }, { serviceAccountToken: { path: "t" } }] } },
          { name: "v4", csi: { driver: "d", nodePublishSecretRef: { name: "csi" } } },
          { name: "v5", emptyDir: {} },
        ],
      },
    };
    assert.deepEqual([...podSecretNames(pod)].sort(), ["csi", "debug", "env-from", "init-env", "proj", "pull", "vol"]);
    assert.deepEqual([...podConfigMapNames(pod)].sort(), ["cm-from", "cm-proj", "cm-vol", "init-cm"]);
    assert.deepEqual(podSecretNames({ metadata: { name: "bare" } }), []);
  });
});

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

  it("watches the Secrets and ConfigMaps of registered pods only, each as long as a pod names it", () => {
    const s = new ApiObjectSource({ client, log });
    sources.push(s);
    s.registerPod(podUsing("a", { secrets: ["shared", "only-a"], configMaps: ["cm-a"] }));
    s.registerPod(podUsing("b", { secrets: ["shared"] }));
    s.registerPod(podUsing("c", { secrets: ["elsewhere"], namespace: "other" }));
    assert.deepEqual(s.watchedObjects(), ["ConfigMap default/cm-a", "Secret default/only-a", "Secret default/shared", "Secret other/elsewhere"]);
    // A new version of a pod: what it names now is watched, what it no longer names is let go.
    s.registerPod(podUsing("a", { secrets: ["shared"], configMaps: ["cm-a2"] }));
    assert.deepEqual(s.watchedObjects(), ["ConfigMap default/cm-a2", "Secret default/shared", "Secret other/elsewhere"]);
    s.unregisterPod("a");
    assert.deepEqual(s.watchedObjects(), ["Secret default/shared", "Secret other/elsewhere"]);
    s.unregisterPod("a");
    // A pod that has finished needs nothing.
    s.registerPod(podUsing("b", { secrets: ["shared"], phase: "Succeeded" }));
    s.unregisterPod("c");
    assert.deepEqual(s.watchedObjects(), []);
    s.stop();
  });

  it("reads a registered pod's configmap from its own watch, without managedFields; the first list is no change", async () => {
    source.registerPod(podUsing("cm-reader", { configMaps: ["pre"] }));
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

  it("an immutable object is watched no more once read: the cache keeps it", async () => {
    const rc = client.forKind("v1", "ConfigMap").namespace("default");
    await rc.create({ ...cm("frozen", { k: "ice" }), immutable: true });
    await rc.create(cm("marker", { n: "0" }));
    source.registerPod(podUsing("frozen-reader", { configMaps: ["frozen", "marker"] }));
    assert.deepEqual((await source.configMap("default", "frozen"))?.data, { k: "ice" });
    assert.deepEqual((await source.configMap("default", "marker"))?.data, { n: "0" });
    await rc.delete("frozen");
    // A later change of a watched object, delivered after the deletion would have been.
    const cur = await rc.get("marker");
    await rc.update({ ...cur, data: { n: "1" } });
    await until("onChange for the marker", () => (changes.includes("ConfigMap default/marker") ? true : undefined));
    assert.ok(!changes.includes("ConfigMap default/frozen"));
    assert.deepEqual((await source.configMap("default", "frozen"))?.data, { k: "ice" });
    source.unregisterPod("frozen-reader");
  });

  it("secrets: add and delete fire onChange; a deleted secret is undefined", async () => {
    source.registerPod(podUsing("secret-reader", { secrets: ["creds"] }));
    assert.equal(await source.secret("default", "creds"), undefined);
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

// What the Node authorizer allows a kubelet: get, list and watch of its pods' Secrets and
// ConfigMaps by name. RBAC's resourceNames grant the same (a list or watch with
// fieldSelector=metadata.name=<name> is about that name), so an identity limited that way is
// enough for the source.
describe("ApiObjectSource as an identity that may read only its pods' Secrets and ConfigMaps by name", () => {
  const dir = mkdtempSync(join(tmpdir(), "k8ts-objects-"));
  let srv: TestApiServer;
  let admin: RestClient;
  let limited: RestClient;
  let source: ApiObjectSource | undefined;
  const changes: string[] = [];

  before(async () => {
    const tokens = join(dir, "tokens.csv");
    writeFileSync(tokens, "kubelet-token,kubelet-user,2001\n");
    srv = await startTestApiServer({ tokenAuthFile: tokens });
    admin = await createClientFromKubeconfig(srv.kubeconfig, { qps: Infinity });
    const subjects = [{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "kubelet-user" }];
    await admin.forKind("rbac.authorization.k8s.io/v1", "Role").create({
      metadata: { name: "pod-objects", namespace: "default" },
      rules: [
        { apiGroups: [""], resources: ["secrets"], resourceNames: ["allowed-secret"], verbs: ["get", "list", "watch"] },
        { apiGroups: [""], resources: ["configmaps"], resourceNames: ["allowed-cm"], verbs: ["get", "list", "watch"] },
      ],
    });
    await admin.forKind("rbac.authorization.k8s.io/v1", "RoleBinding").create({ metadata: { name: "pod-objects", namespace: "default" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "pod-objects" }, subjects });
    await admin.forKind("rbac.authorization.k8s.io/v1", "ClusterRole").create({
      metadata: { name: "test:node-lists" },
      rules: [{ apiGroups: [""], resources: ["services", "persistentvolumeclaims", "persistentvolumes"], verbs: ["list", "watch"] }],
    });
    await admin.forKind("rbac.authorization.k8s.io/v1", "ClusterRoleBinding").create({ metadata: { name: "test:node-lists" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "test:node-lists" }, subjects });
    await admin.forKind("v1", "Secret").create({ metadata: { name: "allowed-secret", namespace: "default" }, stringData: { k: "v1" } });
    await admin.forKind("v1", "Secret").create({ metadata: { name: "other-secret", namespace: "default" }, stringData: { k: "no" } });
    await admin.forKind("v1", "ConfigMap").create({ metadata: { name: "allowed-cm", namespace: "default" }, data: { k: "cm" } });
    const config = await loadKubeconfig(srv.kubeconfig);
    limited = new RestClient({ config: { server: config.server, ...(config.caPem ? { caPem: config.caPem } : {}), token: "kubelet-token", insecureSkipTLSVerify: false, namespace: "default" }, qps: Infinity });
    // The bindings reach the authorizer a moment after they are written.
    await until("the limited identity's grants in effect", async () => ((await limited.forKind("v1", "Secret").namespace("default").get("allowed-secret")).metadata?.name ? true : undefined));
    await until("the limited identity may list services", async () => ((await limited.forKind("v1", "Service").list()).items ? true : undefined));
  });
  after(async () => {
    source?.stop();
    limited?.close();
    admin?.close();
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("syncs without listing Secrets or ConfigMaps, reads and follows its pods' ones, and is refused others", async () => {
    const s = (source = new ApiObjectSource({ client: limited, log, syncTimeoutMs: 300 }));
    s.onChange((kind, ns, name) => changes.push(`${kind} ${ns}/${name}`));
    await s.start();
    s.registerPod(podUsing("p1", { secrets: ["allowed-secret"], configMaps: ["allowed-cm"] }));
    assert.equal(Buffer.from((await s.secret("default", "allowed-secret"))?.data?.["k"] ?? "", "base64").toString(), "v1");
    assert.deepEqual((await s.configMap("default", "allowed-cm"))?.data, { k: "cm" });

    const rc = admin.forKind("v1", "Secret").namespace("default");
    await rc.update({ ...(await rc.get("allowed-secret")), stringData: { k: "v2" } });
    await until("onChange for the secret", () => (changes.includes("Secret default/allowed-secret") ? true : undefined));
    assert.equal(Buffer.from((await s.secret("default", "allowed-secret"))?.data?.["k"] ?? "", "base64").toString(), "v2");

    // Not named by a pod: a live GET, which this identity may not make.
    await assert.rejects(s.secret("default", "other-secret"), (err: unknown) => err instanceof ApiError && err.code === 403);
    // Named by a pod but not readable: the watch cannot list, so the lookup asks once and fails as the GET does.
    s.registerPod(podUsing("p2", { secrets: ["other-secret"] }));
    await assert.rejects(s.secret("default", "other-secret"), (err: unknown) => err instanceof ApiError && err.code === 403);
    s.unregisterPod("p2");
  });
});
