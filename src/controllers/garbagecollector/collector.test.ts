import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { OwnerReference } from "kubernetes-types/meta/v1.js";
import type { KubeObject } from "../../client/objects.js";
import { deepFreeze } from "../../client/objects.js";
import { FakeApi } from "../testing/index.js";
import { createLogger } from "../../util/log.js";
import { ResourceMapper, type ApiResource } from "../discovery.js";
import { GarbageCollector } from "./collector.js";

const log = createLogger("silent");
const verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
const resources: ApiResource[] = [
  { group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true, verbs },
  { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true, verbs },
  { group: "", version: "v1", plural: "persistentvolumes", kind: "PersistentVolume", namespaced: false, verbs },
  { group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false, verbs },
  { group: "apps", version: "v1", plural: "replicasets", kind: "ReplicaSet", namespaced: true, verbs },
  { group: "apps", version: "v1", plural: "deployments", kind: "Deployment", namespaced: true, verbs },
];
const GROUP_OF: Record<string, [string, string, string]> = {
  Pod: ["", "v1", "pods"],
  ConfigMap: ["", "v1", "configmaps"],
  PersistentVolume: ["", "v1", "persistentvolumes"],
  ReplicaSet: ["apps", "apps/v1", "replicasets"],
  Deployment: ["apps", "apps/v1", "deployments"],
};

interface Obj extends KubeObject {
  spec?: unknown;
}

function obj(kind: string, name: string, opts: { ns?: string; uid?: string; owners?: OwnerReference[]; finalizers?: string[]; deleting?: boolean } = {}): Obj {
  const [, apiVersion] = GROUP_OF[kind]!;
  return {
    apiVersion,
    kind,
    metadata: {
      name,
      ...(opts.ns !== null && kind !== "PersistentVolume" ? { namespace: opts.ns ?? "ns" } : {}),
      uid: opts.uid ?? `${kind.toLowerCase()}-${name}`,
      ...(opts.owners ? { ownerReferences: opts.owners } : {}),
      ...(opts.finalizers ? { finalizers: opts.finalizers } : {}),
      ...(opts.deleting ? { deletionTimestamp: "2025-01-01T00:00:00Z" } : {}),
    },
  };
}

function ref(o: Obj, extra: Partial<OwnerReference> = {}): OwnerReference {
  return { apiVersion: o.apiVersion!, kind: o.kind!, name: o.metadata!.name!, uid: o.metadata!.uid!, ...extra };
}

/** A collector over a FakeApi; `stored` objects exist in the API, `observed` ones were seen by informers. */
function setup(stored: Obj[], observed: Obj[] = stored): { api: FakeApi; gc: GarbageCollector } {
  const api = new FakeApi();
  for (const o of stored) api.seed(GROUP_OF[o.kind!]![0], GROUP_OF[o.kind!]![2], o);
  const mapper = new ResourceMapper(resources);
  const gc = new GarbageCollector({ api, mapper: () => mapper, log });
  for (const o of observed) gc.graph.observeUpsert(deepFreeze(structuredClone(o)));
  return { api, gc };
}

/** Everything the attemptToDelete queue holds right now, in order. */
async function drain(gc: GarbageCollector, queue = gc.attemptToDelete): Promise<string[]> {
  const out: string[] = [];
  while (queue.len() > 0) {
    const k = (await queue.get())!;
    queue.done(k);
    out.push(k);
  }
  return out;
}

void describe("GarbageCollector.syncDelete", () => {
  void it("background: an owner the API does not have is confirmed absent, then its dependents are deleted", async () => {
    const rs = obj("ReplicaSet", "web-1");
    const pod = obj("Pod", "web-1-a", { owners: [ref(rs, { controller: true, blockOwnerDeletion: true })] });
    const { api, gc } = setup([pod]);
    assert.equal(gc.graph.nodes.get("replicaset-web-1")?.virtual, true);
    assert.deepEqual(await drain(gc), ["replicaset-web-1"]);

    await gc.syncDelete("replicaset-web-1");
    assert.equal(gc.graph.nodes.has("replicaset-web-1"), false, "the virtual delete removed the node");
    assert.deepEqual(await drain(gc), ["pod-web-1-a"]);

    await gc.syncDelete("pod-web-1-a");
    assert.deepEqual(api.verbs(), ["delete pods ns/web-1-a"]);
    assert.deepEqual(api.writes()[0]!.deleteOptions, { preconditions: { uid: "pod-web-1-a" }, propagationPolicy: "Background" });
    // The owner's absence was remembered: the pod's owner was not looked up again.
    assert.equal(api.actions.filter((a) => a.verb === "get" && a.resource === "replicasets").length, 1);
  });

  void it("a solid owner keeps the object; dangling references are removed with a uid-guarded strategic patch", async () => {
    const rs = obj("ReplicaSet", "live");
    const gone = obj("ConfigMap", "gone");
    const pod = obj("Pod", "p", { owners: [ref(rs), ref(gone)] });
    const { api, gc } = setup([rs, pod], [rs, pod]);
    await drain(gc);
    await gc.syncDelete("pod-p");
    assert.deepEqual(api.verbs(), ["patch pods ns/p"]);
    assert.deepEqual(api.writes()[0]!.patch, { metadata: { ownerReferences: [{ $patch: "delete", uid: "configmap-gone" }], uid: "pod-p" } });
    assert.deepEqual(api.object<Obj>("", "pods", "ns", "p")?.metadata?.ownerReferences?.map((r) => r.uid), ["replicaset-live"]);
  });

  void it("an owner replaced by a namesake (other uid) is dangling", async () => {
    const oldRs = obj("ReplicaSet", "web", { uid: "old" });
    const newRs = obj("ReplicaSet", "web", { uid: "new" });
    const pod = obj("Pod", "p", { owners: [ref(oldRs)] });
    const { api, gc } = setup([newRs, pod], [pod]);
    await gc.syncDelete("pod-p");
    assert.deepEqual(api.verbs(), ["delete pods ns/p"]);
  });

  void it("honours an orphan or foreground finalizer already on the object when deleting it", async () => {
    const owner = obj("ConfigMap", "gone");
    const a = obj("Pod", "a", { owners: [ref(owner)], finalizers: ["orphan"] });
    const b = obj("Pod", "b", { owners: [ref(owner)], finalizers: ["foregroundDeletion"] });
    const { api, gc } = setup([a, b], [a, b]);
    await gc.syncDelete("pod-a");
    await gc.syncDelete("pod-b");
    assert.deepEqual(
      api.writes().map((w) => w.deleteOptions?.propagationPolicy),
      ["Orphan", "Foreground"],
    );
  });

  void it("does nothing for objects without owners or already being deleted, or gone from the API", async () => {
    const owner = obj("ConfigMap", "gone");
    const free = obj("Pod", "free");
    const dying = obj("Pod", "dying", { owners: [ref(owner)], deleting: true });
    const vanished = obj("Pod", "vanished", { owners: [ref(owner)] });
    const { api, gc } = setup([free, dying], [free, dying, vanished]);
    await gc.syncDelete("pod-free");
    await gc.syncDelete("pod-dying");
    await gc.syncDelete("pod-vanished");
    await gc.syncDelete("no-such-uid");
    assert.deepEqual(api.verbs(), []);
    assert.equal(gc.graph.nodes.has("pod-vanished"), false, "a NotFound is a virtual delete of the node");
  });

  void it("a cluster-scoped object naming a namespaced owner is left alone without retries", async () => {
    const owner = obj("ConfigMap", "cm");
    const pv = obj("PersistentVolume", "pv", { owners: [ref(owner)] });
    const { api, gc } = setup([pv, owner], [pv]);
    await gc.syncDelete("persistentvolume-pv");
    assert.deepEqual(api.verbs(), []);
  });

  void it("a virtual owner that exists in the API is looked at again later, not deleted", async () => {
    const rs = obj("ReplicaSet", "web");
    const pod = obj("Pod", "p", { owners: [ref(rs)] });
    const { api, gc } = setup([rs, pod], [pod]);
    await drain(gc);
    await gc.syncDelete("replicaset-web");
    assert.deepEqual(api.verbs(), []);
    assert.equal(gc.graph.nodes.get("replicaset-web")?.virtual, true);
    gc.attemptToDelete.shutDown();
  });
});

void describe("GarbageCollector foreground deletion", () => {
  void it("deletes dependents that have dependents in the foreground, waits for blocking ones, then drops the finalizer", async () => {
    const d = obj("Deployment", "web", { finalizers: ["foregroundDeletion"], deleting: true });
    const rs = obj("ReplicaSet", "web-1", { owners: [ref(d, { controller: true, blockOwnerDeletion: true })] });
    const pod = obj("Pod", "web-1-a", { owners: [ref(rs, { controller: true, blockOwnerDeletion: true })] });
    const { api, gc } = setup([d, rs, pod], [rs, pod, d]);
    assert.deepEqual((await drain(gc)).sort(), ["deployment-web", "replicaset-web-1"]);

    await gc.syncDelete("deployment-web");
    assert.deepEqual(api.verbs(), [], "the deployment waits: its replica set blocks it");
    assert.deepEqual(await drain(gc), ["replicaset-web-1"]);

    await gc.syncDelete("replicaset-web-1");
    assert.deepEqual(api.verbs(), ["delete replicasets ns/web-1"]);
    assert.equal(api.writes()[0]!.deleteOptions?.propagationPolicy, "Foreground");

    // The replica set goes (its own pods handled the same way); the deployment is free.
    gc.graph.observeDelete(deepFreeze(structuredClone(rs)));
    assert.deepEqual(await drain(gc), ["pod-web-1-a", "deployment-web"]);
    api.clear();
    await gc.syncDelete("deployment-web");
    assert.deepEqual(api.verbs(), ["patch deployments ns/web"]);
    const patch = api.writes()[0]!.patch as { metadata: { resourceVersion?: string; finalizers: null } };
    assert.equal(api.writes()[0]!.patchType, "merge");
    assert.deepEqual(patch, { metadata: { resourceVersion: patch.metadata.resourceVersion, finalizers: null } });
    assert.match(patch.metadata.resourceVersion ?? "", /^\d+$/, "guarded by the resourceVersion it read");
    assert.equal(api.object<Obj>("apps", "deployments", "ns", "web")?.metadata?.finalizers, undefined);
  });

  void it("a leaf dependent of a foreground owner is deleted in the background", async () => {
    const rs = obj("ReplicaSet", "web-1", { finalizers: ["foregroundDeletion"], deleting: true });
    const pod = obj("Pod", "a", { owners: [ref(rs, { blockOwnerDeletion: true })] });
    const { api, gc } = setup([rs, pod]);
    await gc.syncDelete("pod-a");
    assert.deepEqual(api.verbs(), ["delete pods ns/a"]);
    assert.equal(api.writes()[0]!.deleteOptions?.propagationPolicy, "Background");
  });

  void it("unblocks its own owner references when an owner and a dependent both wait in the foreground", async () => {
    const d = obj("Deployment", "web", { finalizers: ["foregroundDeletion"], deleting: true });
    const rs = obj("ReplicaSet", "web-1", { owners: [ref(d, { blockOwnerDeletion: true })] });
    const pod = obj("Pod", "a", { owners: [ref(rs, { blockOwnerDeletion: true })], finalizers: ["foregroundDeletion"], deleting: true });
    const { api, gc } = setup([d, rs, pod]);
    await gc.syncDelete("replicaset-web-1");
    assert.deepEqual(api.verbs(), ["patch replicasets ns/web-1", "delete replicasets ns/web-1"]);
    assert.deepEqual(api.writes()[0]!.patch, { metadata: { ownerReferences: [{ uid: "deployment-web", blockOwnerDeletion: false }], uid: "replicaset-web-1" } });
  });
});

void describe("GarbageCollector.syncOrphan", () => {
  void it("removes the owner's reference from every dependent, then the orphan finalizer", async () => {
    const d = obj("Deployment", "web", { finalizers: ["orphan"], deleting: true });
    const other = obj("ConfigMap", "keep");
    const a = obj("ReplicaSet", "a", { owners: [ref(d, { controller: true, blockOwnerDeletion: true }), ref(other)] });
    const b = obj("ReplicaSet", "b", { owners: [ref(d)] });
    const { api, gc } = setup([d, a, b, other]);
    assert.deepEqual(await drain(gc, gc.attemptToOrphan), ["deployment-web"]);
    await gc.syncOrphan("deployment-web");
    assert.deepEqual(api.verbs().sort(), ["patch deployments ns/web", "patch replicasets ns/a", "patch replicasets ns/b"]);
    assert.deepEqual(api.object<Obj>("apps", "replicasets", "ns", "a")?.metadata?.ownerReferences?.map((r) => r.uid), ["configmap-keep"]);
    assert.equal(api.object<Obj>("apps", "replicasets", "ns", "b")?.metadata?.ownerReferences, undefined);
    assert.equal(api.object<Obj>("apps", "deployments", "ns", "web")?.metadata?.finalizers, undefined);
    assert.equal(api.verbs()[api.verbs().length - 1], "patch deployments ns/web", "the finalizer goes last");
  });

  void it("keeps the finalizer when a dependent cannot be freed, so the key is retried", async () => {
    const d = obj("Deployment", "web", { finalizers: ["orphan"], deleting: true });
    const a = obj("ReplicaSet", "a", { owners: [ref(d)] });
    const { api, gc } = setup([d, a]);
    api.failOn({ verb: "patch", resource: "replicasets" }, new Error("connection reset"));
    await assert.rejects(gc.syncOrphan("deployment-web"), /connection reset/);
    assert.deepEqual(api.object<Obj>("apps", "deployments", "ns", "web")?.metadata?.finalizers, ["orphan"]);
  });
});
