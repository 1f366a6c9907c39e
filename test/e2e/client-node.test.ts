// @kubernetes/client-node (1.4, the line that runs on Node 20) against a real k8ts API server:
// typed CRUD, the generic object API, an informer built on list+watch, every patch type, and the
// resource metrics API.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as k8s from "@kubernetes/client-node";
import { startTestApiServer, type TestApiServer } from "../../src/testing/apiserver.js";

async function eventually(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 10; !check(); delay = Math.min(delay * 2, 200)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
  }
}

describe("@kubernetes/client-node", () => {
  let s: TestApiServer;
  let kc: k8s.KubeConfig;
  before(async () => {
    s = await startTestApiServer();
    kc = new k8s.KubeConfig();
    kc.loadFromFile(s.kubeconfig);
  });
  after(async () => {
    await s?.stop();
  });

  it("does typed CRUD on ConfigMaps", async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const created = await core.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: "typed" }, data: { a: "1" } } });
    assert.equal(created.metadata?.name, "typed");
    assert.ok(created.metadata?.uid);
    const read = await core.readNamespacedConfigMap({ name: "typed", namespace: "default" });
    assert.deepEqual(read.data, { a: "1" });
    read.data = { a: "2" };
    const replaced = await core.replaceNamespacedConfigMap({ name: "typed", namespace: "default", body: read });
    assert.equal(replaced.data?.["a"], "2");
    assert.notEqual(replaced.metadata?.resourceVersion, read.metadata?.resourceVersion);
    // A stale resourceVersion is a 409 Conflict.
    await assert.rejects(core.replaceNamespacedConfigMap({ name: "typed", namespace: "default", body: read }), (e: unknown) => (e as { code?: number }).code === 409);
    const list = await core.listNamespacedConfigMap({ namespace: "default" });
    assert.ok(list.items.some((c) => c.metadata?.name === "typed"));
    await core.deleteNamespacedConfigMap({ name: "typed", namespace: "default" });
    await assert.rejects(core.readNamespacedConfigMap({ name: "typed", namespace: "default" }), (e: unknown) => (e as { code?: number }).code === 404);
  });

  it("uses KubernetesObjectApi for any kind", async () => {
    const api = k8s.KubernetesObjectApi.makeApiClient(kc);
    const spec = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "generic", namespace: "default" }, spec: { selector: { matchLabels: { app: "g" } }, template: { metadata: { labels: { app: "g" } }, spec: { containers: [{ name: "c", image: "busybox:1.35" }] } } } };
    const created = await api.create(spec);
    assert.equal(created.metadata?.name, "generic");
    const read = (await api.read({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "generic", namespace: "default" } })) as k8s.V1Deployment;
    assert.equal(read.spec?.replicas, 1);
    await api.delete({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "generic", namespace: "default" } });
  });

  it("keeps an informer in sync through list and watch", async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const informer = k8s.makeInformer(kc, "/api/v1/namespaces/default/configmaps", () => core.listNamespacedConfigMap({ namespace: "default" }));
    const seen: string[] = [];
    informer.on("add", (o) => seen.push(`add:${o.metadata?.name}`));
    informer.on("update", (o) => seen.push(`update:${o.metadata?.name}`));
    informer.on("delete", (o) => seen.push(`delete:${o.metadata?.name}`));
    await core.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: "before" } } });
    await informer.start();
    try {
      await eventually(() => seen.includes("add:before"), "the listed object");
      await core.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: "inf" }, data: { a: "1" } } });
      await eventually(() => seen.includes("add:inf"), "ADDED");
      await core.patchNamespacedConfigMap({ name: "inf", namespace: "default", body: { data: { a: "2" } } }, k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch));
      await eventually(() => seen.includes("update:inf"), "MODIFIED");
      await core.deleteNamespacedConfigMap({ name: "inf", namespace: "default" });
      await eventually(() => seen.includes("delete:inf"), "DELETED");
      assert.equal(informer.get("before", "default")?.metadata?.name, "before");
    } finally {
      await informer.stop();
    }
  });

  it("reads the resource metrics API (its Metrics class, behind top-style tools)", async () => {
    // No node answers here: the lists are empty, and their shape is what the client reads.
    const metrics = new k8s.Metrics(kc);
    const nodes = await metrics.getNodeMetrics();
    assert.equal(nodes.kind, "NodeMetricsList");
    assert.equal(nodes.apiVersion, "metrics.k8s.io/v1beta1");
    assert.deepEqual(nodes.items, []);
    const pods = await metrics.getPodMetrics("default");
    assert.equal(pods.kind, "PodMetricsList");
    assert.deepEqual(pods.items, []);
    assert.equal((await metrics.getPodMetrics()).kind, "PodMetricsList");
  });

  it("applies every patch type", async () => {
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    await apps.createNamespacedDeployment({ namespace: "default", body: { metadata: { name: "p" }, spec: { selector: { matchLabels: { app: "p" } }, template: { metadata: { labels: { app: "p" } }, spec: { containers: [{ name: "a", image: "busybox:1.35" }, { name: "b", image: "busybox:1.35" }] } } } } });
    const patch = (body: object, type: string, extra: Record<string, string> = {}): Promise<k8s.V1Deployment> =>
      apps.patchNamespacedDeployment({ name: "p", namespace: "default", body, ...extra }, k8s.setHeaderOptions("Content-Type", type));
    let d = await patch([{ op: "replace", path: "/spec/replicas", value: 3 }], k8s.PatchStrategy.JsonPatch);
    assert.equal(d.spec?.replicas, 3);
    d = await patch({ metadata: { labels: { merged: "yes" } } }, k8s.PatchStrategy.MergePatch);
    assert.equal(d.metadata?.labels?.["merged"], "yes");
    // Strategic merge: the container list merges by name, so "a" keeps its place and "b" is untouched.
    d = await patch({ spec: { template: { spec: { containers: [{ name: "b", image: "busybox:1.36" }] } } } }, k8s.PatchStrategy.StrategicMergePatch);
    assert.deepEqual(d.spec?.template.spec?.containers.map((c) => `${c.name}=${c.image}`), ["a=busybox:1.35", "b=busybox:1.36"]);
    d = await patch({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "p" }, spec: { replicas: 4 } }, k8s.PatchStrategy.ServerSideApply, { fieldManager: "client-node", force: true } as { fieldManager: string });
    assert.equal(d.spec?.replicas, 4);
    assert.ok(d.metadata?.managedFields?.some((m) => m.manager === "client-node" && m.operation === "Apply"));
  });
});
