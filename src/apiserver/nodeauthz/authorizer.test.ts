// The Node authorizer over its graph: upstream's decisions and reasons for node users, no
// opinion for anyone else, and a graph that follows pods, volumes and attachments as they change.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Pod, PersistentVolume } from "kubernetes-types/core/v1.js";
import type { AuthorizationAttributes } from "../filters/authorization.js";
import type { KubeObject } from "../registry/types.js";
import { NodeGraph, type GraphEvent, type GraphFeed, type GraphResource } from "./graph.js";
import { nodeAuthorizer } from "./authorizer.js";

/** A feed like the watch cache's: pushed events, taken synchronously; close() ends it. */
class FakeFeed implements GraphFeed {
  readonly queue: GraphEvent[] = [];
  closed = false;
  takeNow(): GraphEvent | undefined {
    return this.queue.shift();
  }
}

/** A source over objects kept here: a new watch starts with them as ADDED, later changes are pushed to open watches. */
class FakeSource {
  readonly objects = new Map<GraphResource, Map<string, KubeObject>>();
  readonly feeds: { resource: GraphResource; feed: FakeFeed }[] = [];
  opened = 0;

  watch(resource: GraphResource): GraphFeed {
    this.opened++;
    const feed = new FakeFeed();
    for (const o of this.objects.get(resource)?.values() ?? []) feed.queue.push({ type: "ADDED", object: { object: o } });
    this.feeds.push({ resource, feed });
    return feed;
  }

  put(resource: GraphResource, o: KubeObject): void {
    const m = this.objects.get(resource) ?? new Map<string, KubeObject>();
    this.objects.set(resource, m);
    const key = `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;
    const type = m.has(key) ? "MODIFIED" : "ADDED";
    m.set(key, o);
    for (const f of this.feeds) if (f.resource === resource && !f.feed.closed) f.feed.queue.push({ type, object: { object: o } });
  }

  remove(resource: GraphResource, o: KubeObject): void {
    this.objects.get(resource)?.delete(`${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`);
    for (const f of this.feeds) if (f.resource === resource && !f.feed.closed) f.feed.queue.push({ type: "DELETED", object: { object: o } });
  }
}

function pod(name: string, node: string, spec: Partial<NonNullable<Pod["spec"]>> = {}, annotations?: Record<string, string>): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "ns", ...(annotations ? { annotations } : {}) },
    spec: { containers: [{ name: "c", image: "i" }], ...(node ? { nodeName: node } : {}), ...spec },
  } as KubeObject;
}

function pv(name: string, claim: string | undefined, csi?: NonNullable<PersistentVolume["spec"]>["csi"]): KubeObject {
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name },
    spec: { ...(claim ? { claimRef: { namespace: "ns", name: claim } } : {}), ...(csi ? { csi } : {}) },
  } as KubeObject;
}

const NODE_USER = { username: "system:node:n1", groups: ["system:nodes", "system:authenticated"] };

const attrs = (o: Partial<AuthorizationAttributes>): AuthorizationAttributes => ({
  user: NODE_USER,
  verb: "get",
  isResourceRequest: true,
  namespace: "ns",
  apiGroup: "",
  apiVersion: "v1",
  resource: "secrets",
  subresource: "",
  name: "",
  path: "",
  ...o,
});

function setup() {
  const source = new FakeSource();
  const graph = new NodeGraph(source);
  const z = nodeAuthorizer(graph);
  const decide = (o: Partial<AuthorizationAttributes>, fieldSelector?: string) => z.authorize(fieldSelector === undefined ? attrs(o) : Object.assign(attrs(o), { fieldSelector }));
  return { source, graph, decide };
}

const NO_RELATION = { allowed: false, reason: "no relationship found between node 'n1' and this object" };

describe("Node authorizer", () => {
  it("has no opinion about users who are not nodes, and refuses a node without a name", async () => {
    const { decide } = setup();
    assert.deepEqual(await decide({ user: { username: "jane", groups: ["system:authenticated"] }, name: "s" }), { allowed: false, reason: "" });
    // The name alone, or the group alone, is no node.
    assert.deepEqual(await decide({ user: { username: "system:node:n1", groups: [] }, name: "s" }), { allowed: false, reason: "" });
    assert.deepEqual(await decide({ user: { username: "system:node:", groups: ["system:nodes"] }, name: "s" }), { allowed: false, reason: 'unknown node for user "system:node:"' });
  });

  it("lets a node read what its pods refer to: secrets, configmaps, claims, service accounts", async () => {
    const { source, decide } = setup();
    source.put(
      "pods",
      pod("web", "n1", {
        serviceAccountName: "sa",
        imagePullSecrets: [{ name: "pull" }],
        containers: [{ name: "c", image: "i", env: [{ name: "A", valueFrom: { secretKeyRef: { name: "env-secret", key: "k" } } }], envFrom: [{ configMapRef: { name: "env-cm" } }] }],
        volumes: [
          { name: "s", secret: { secretName: "vol-secret" } },
          { name: "p", projected: { sources: [{ configMap: { name: "proj-cm" } }, { secret: { name: "proj-secret" } }] } },
          { name: "c", persistentVolumeClaim: { claimName: "data" } },
          { name: "scratch", ephemeral: { volumeClaimTemplate: { spec: {} } } },
        ],
      }),
    );
    source.put("pods", pod("other", "n2", { volumes: [{ name: "s", secret: { secretName: "n2-secret" } }] }));
    for (const name of ["pull", "env-secret", "vol-secret", "proj-secret"]) assert.deepEqual(await decide({ name }), { allowed: true }, name);
    for (const verb of ["list", "watch"]) assert.deepEqual(await decide({ verb, name: "vol-secret" }), { allowed: true }, verb);
    for (const name of ["env-cm", "proj-cm"]) assert.deepEqual(await decide({ resource: "configmaps", name }), { allowed: true }, name);
    assert.deepEqual(await decide({ resource: "persistentvolumeclaims", name: "data" }), { allowed: true });
    assert.deepEqual(await decide({ resource: "persistentvolumeclaims", name: "web-scratch" }), { allowed: true });
    assert.deepEqual(await decide({ resource: "serviceaccounts", subresource: "token", verb: "create", name: "sa" }), { allowed: true });

    assert.deepEqual(await decide({ name: "n2-secret" }), NO_RELATION);
    assert.deepEqual(await decide({ namespace: "other", name: "vol-secret" }), NO_RELATION);
    assert.deepEqual(await decide({ resource: "serviceaccounts", subresource: "token", verb: "create", name: "default" }), NO_RELATION);
  });

  it("answers with upstream's reasons for verbs and shapes it never allows", async () => {
    const { source, decide } = setup();
    source.put("pods", pod("web", "n1", { volumes: [{ name: "s", secret: { secretName: "s" } }, { name: "c", persistentVolumeClaim: { claimName: "data" } }] }));
    assert.deepEqual(await decide({ verb: "update", name: "s" }), { allowed: false, reason: "can only read resources of this type" });
    assert.deepEqual(await decide({ verb: "list" }), { allowed: false, reason: "No Object name found" });
    assert.deepEqual(await decide({ subresource: "x", name: "s" }), { allowed: false, reason: "cannot read subresource" });
    assert.deepEqual(await decide({ namespace: "", verb: "list" }), { allowed: false, reason: "can only read namespaced object of this type" });
    assert.deepEqual(await decide({ resource: "persistentvolumeclaims", verb: "list" }), { allowed: false, reason: "can only get individual resources of this type" });
    assert.deepEqual(await decide({ resource: "persistentvolumeclaims", verb: "update", subresource: "status", name: "data" }), { allowed: true });
    assert.deepEqual(await decide({ resource: "persistentvolumeclaims", verb: "get", subresource: "status", name: "data" }), { allowed: false, reason: "can only get/update/patch this type" });
    assert.deepEqual(await decide({ resource: "serviceaccounts", verb: "get", name: "sa" }), { allowed: false, reason: "can only create tokens for individual service accounts" });
    assert.deepEqual(await decide({ resource: "serviceaccounts", verb: "create", name: "sa" }), { allowed: false, reason: "can only create token subresource of serviceaccount" });
  });

  it("follows a claim to its volume and the volume's node-side secrets", async () => {
    const { source, decide } = setup();
    source.put("pods", pod("db", "n1", { volumes: [{ name: "d", persistentVolumeClaim: { claimName: "data" } }] }));
    source.put("persistentvolumes", pv("pv-data", "data", { driver: "d", volumeHandle: "h", nodePublishSecretRef: { name: "publish", namespace: "ns" }, controllerPublishSecretRef: { name: "controller", namespace: "ns" } }));
    source.put("persistentvolumes", pv("pv-free", undefined));
    const pvGet = (name: string) => decide({ resource: "persistentvolumes", namespace: "", name });
    assert.deepEqual(await pvGet("pv-data"), { allowed: true });
    assert.deepEqual(await pvGet("pv-free"), NO_RELATION);
    assert.deepEqual(await decide({ name: "publish" }), { allowed: true });
    // What only the CSI controller reads is not the node's.
    assert.deepEqual(await decide({ name: "controller" }), NO_RELATION);
  });

  it("follows volume attachments to their node", async () => {
    const { source, decide } = setup();
    source.put("volumeattachments", { apiVersion: "storage.k8s.io/v1", kind: "VolumeAttachment", metadata: { name: "va1" }, spec: { nodeName: "n1" } } as KubeObject);
    source.put("volumeattachments", { apiVersion: "storage.k8s.io/v1", kind: "VolumeAttachment", metadata: { name: "va2" }, spec: { nodeName: "n2" } } as KubeObject);
    const va = (name: string) => decide({ apiGroup: "storage.k8s.io", resource: "volumeattachments", namespace: "", name });
    assert.deepEqual(await va("va1"), { allowed: true });
    assert.deepEqual(await va("va2"), NO_RELATION);
  });

  it("gives a mirror pod's node nothing but the pod", async () => {
    const { source, decide } = setup();
    source.put("pods", pod("static-n1", "n1", { volumes: [{ name: "s", secret: { secretName: "s" } }] }, { "kubernetes.io/config.mirror": "hash" }));
    assert.deepEqual(await decide({ name: "s" }), NO_RELATION);
  });

  it("follows pods as they are bound, changed and deleted", async () => {
    const { source, decide } = setup();
    const p = pod("web", "", { volumes: [{ name: "s", secret: { secretName: "s" } }] });
    source.put("pods", p);
    assert.deepEqual(await decide({ name: "s" }), NO_RELATION, "not bound yet");
    source.put("pods", pod("web", "n1", { volumes: [{ name: "s", secret: { secretName: "s" } }] }));
    assert.deepEqual(await decide({ name: "s" }), { allowed: true });
    // A second pod with the same secret keeps it reachable when the first goes.
    source.put("pods", pod("web2", "n1", { volumes: [{ name: "s", secret: { secretName: "s" } }] }));
    source.remove("pods", pod("web", "n1"));
    assert.deepEqual(await decide({ name: "s" }), { allowed: true });
    source.put("pods", pod("web2", "n1", { volumes: [{ name: "s", secret: { secretName: "t" } }] }));
    assert.deepEqual(await decide({ name: "s" }), NO_RELATION);
    assert.deepEqual(await decide({ name: "t" }), { allowed: true });
  });

  it("opens a watch again, from the current state, when the cache cut it off", async () => {
    const { source, decide } = setup();
    source.put("pods", pod("web", "n1", { volumes: [{ name: "s", secret: { secretName: "s" } }] }));
    assert.deepEqual(await decide({ name: "s" }), { allowed: true });
    const opened = source.opened;
    for (const f of source.feeds) f.feed.closed = true;
    // Changed while no watch was open: the new watch's initial state has it.
    source.objects.get("pods")!.set("ns/web", pod("web", "n1", { volumes: [{ name: "s", secret: { secretName: "t" } }] }));
    assert.deepEqual(await decide({ name: "s" }), NO_RELATION);
    assert.deepEqual(await decide({ name: "t" }), { allowed: true });
    assert.equal(source.opened, opened + 3, "each resource's watch opened again");
  });

  it("limits leases and CSINodes to the node's own", async () => {
    const { decide } = setup();
    const lease = (o: Partial<AuthorizationAttributes>) => decide({ apiGroup: "coordination.k8s.io", resource: "leases", namespace: "kube-node-lease", ...o });
    assert.deepEqual(await lease({ verb: "update", name: "n1" }), { allowed: true });
    assert.deepEqual(await lease({ verb: "create" }), { allowed: true });
    assert.deepEqual(await lease({ verb: "update", name: "n2" }), { allowed: false, reason: "can only access node lease with the same name as the requesting node" });
    assert.deepEqual(await lease({ verb: "get", name: "n1", namespace: "kube-system" }), { allowed: false, reason: 'can only access leases in the "kube-node-lease" system namespace' });
    assert.deepEqual(await lease({ verb: "list" }), { allowed: false, reason: "can only get, create, update, patch, or delete a node lease" });
    const csi = (o: Partial<AuthorizationAttributes>) => decide({ apiGroup: "storage.k8s.io", resource: "csinodes", namespace: "", ...o });
    assert.deepEqual(await csi({ verb: "patch", name: "n1" }), { allowed: true });
    assert.deepEqual(await csi({ verb: "get", name: "n2" }), { allowed: false, reason: "can only access CSINode with the same name as the requesting node" });
    assert.deepEqual(await csi({ verb: "watch", name: "n1" }), { allowed: false, reason: "can only get, create, update, patch, or delete a CSINode" });
  });

  it("reads its own Node only, and writes Nodes (NodeRestriction limits which)", async () => {
    const { decide } = setup();
    const nodes = (o: Partial<AuthorizationAttributes>) => decide({ resource: "nodes", namespace: "", ...o });
    assert.deepEqual(await nodes({ verb: "get", name: "n1" }), { allowed: true });
    assert.deepEqual(await nodes({ verb: "watch", name: "n1" }), { allowed: true });
    assert.deepEqual(await nodes({ verb: "get", name: "n2" }), { allowed: false, reason: "node 'n1' cannot read 'n2', only its own Node object" });
    assert.deepEqual(await nodes({ verb: "list" }), { allowed: false, reason: "node 'n1' cannot read all nodes, only its own Node object" });
    for (const verb of ["create", "update", "patch"]) assert.deepEqual(await nodes({ verb, name: "n2" }), { allowed: true }, verb);
    assert.deepEqual(await nodes({ verb: "update", subresource: "status", name: "n2" }), { allowed: true });
    assert.deepEqual(await nodes({ verb: "get", subresource: "status", name: "n1" }), { allowed: false, reason: "" });
    assert.deepEqual(await nodes({ verb: "delete", name: "n1" }), { allowed: false, reason: "" });
  });

  it("gets only pods related to it, and lists them only by spec.nodeName=<itself>", async () => {
    const { source, decide } = setup();
    source.put("pods", pod("mine", "n1"));
    source.put("pods", pod("theirs", "n2"));
    const pods = (o: Partial<AuthorizationAttributes>, fieldSelector?: string) => decide({ resource: "pods", ...o }, fieldSelector);
    assert.deepEqual(await pods({ name: "mine" }), { allowed: true });
    assert.deepEqual(await pods({ name: "theirs" }), NO_RELATION);
    assert.deepEqual(await pods({ verb: "list", namespace: "" }, "spec.nodeName=n1"), { allowed: true });
    assert.deepEqual(await pods({ verb: "watch", namespace: "" }, "status.phase!=Succeeded,spec.nodeName==n1"), { allowed: true });
    assert.deepEqual(await pods({ verb: "list", namespace: "" }, "spec.nodeName=n2"), { allowed: false, reason: "can only list/watch pods with spec.nodeName field selector" });
    assert.deepEqual(await pods({ verb: "list" }), { allowed: false, reason: "can only list/watch pods with spec.nodeName field selector" });
    assert.deepEqual(await pods({ verb: "watch", name: "mine" }, "metadata.name=mine"), { allowed: true });
    assert.deepEqual(await pods({ verb: "watch", name: "theirs" }, "metadata.name=theirs"), NO_RELATION);
    for (const verb of ["create", "delete"]) assert.deepEqual(await pods({ verb, name: "theirs" }), { allowed: true }, verb);
    assert.deepEqual(await pods({ verb: "patch", subresource: "status", name: "theirs" }), { allowed: true });
    assert.deepEqual(await pods({ verb: "create", subresource: "eviction", name: "theirs" }), { allowed: true });
    assert.deepEqual(await pods({ verb: "update", name: "mine" }), { allowed: false, reason: "" });
    assert.deepEqual(await pods({ verb: "get", subresource: "log", name: "mine" }), { allowed: false, reason: "" });
  });

  it("decides everything else by the system:node rules", async () => {
    const { decide } = setup();
    assert.deepEqual(await decide({ resource: "nodes", namespace: "", verb: "create" }), { allowed: true });
    assert.deepEqual(await decide({ resource: "nodes", namespace: "", verb: "patch", subresource: "status", name: "n1" }), { allowed: true });
    assert.deepEqual(await decide({ resource: "pods", verb: "patch", subresource: "status", name: "p" }), { allowed: true });
    assert.deepEqual(await decide({ resource: "events", verb: "create" }), { allowed: true });
    assert.deepEqual(await decide({ apiGroup: "certificates.k8s.io", resource: "certificatesigningrequests", namespace: "", verb: "create" }), { allowed: true });
    assert.deepEqual(await decide({ resource: "nodes", namespace: "", verb: "delete", name: "n1" }), { allowed: false, reason: "" });
    assert.deepEqual(await decide({ apiGroup: "apps", resource: "deployments", verb: "list" }), { allowed: false, reason: "" });
    assert.deepEqual(await decide({ isResourceRequest: false, resource: "", path: "/metrics" }), { allowed: false, reason: "" });
  });
});
