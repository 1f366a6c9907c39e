import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Namespace, NamespaceCondition } from "kubernetes-types/core/v1.js";
import type { KubeObject } from "../../client/objects.js";
import { FakeApi, apiError, seedLister, type ResourceApi } from "../testing/index.js";
import { createLogger } from "../../util/log.js";
import { staticDiscovery, type ApiResource } from "../discovery.js";
import type { CollectionApi, NamespaceApi } from "./deleter.js";
import { NamespaceController } from "./controller.js";
import { updateConditions } from "./conditions.js";

const log = createLogger("silent");
const NOW = Date.parse("2025-01-01T00:00:10Z");

/**
 * The shared FakeApi plus the collection verbs the namespace deleter needs (list,
 * deletecollection, the finalize subresource); deletecollection deletes each stored object
 * through the fake, so the deletes are recorded there, and these calls are logged here.
 */
class CollectionFake implements NamespaceApi {
  readonly calls: string[] = [];
  constructor(readonly fake: FakeApi) {}

  resource<T extends KubeObject = KubeObject>(group: string, version: string, plural: string, opts: { readonly namespaced?: boolean; readonly kind?: string } = {}): CollectionApi<T> {
    return this.wrap<T>(this.fake.resource<T>(group, version, plural, opts), group, plural, undefined);
  }

  private wrap<T extends KubeObject>(base: ResourceApi<T>, group: string, plural: string, scope: string | undefined): CollectionApi<T> {
    const at = `${group ? `${plural}.${group}` : plural}${scope ? ` ${scope}` : ""}`;
    return {
      namespace: (ns) => this.wrap(base.namespace(ns), group, plural, ns),
      get: (n, o) => base.get(n, o),
      create: (o, w) => base.create(o, w),
      update: (o, w) => base.update(o, w),
      updateStatus: (o, w) => base.updateStatus(o, w),
      patch: (n, t, b, o) => base.patch(n, t, b, o),
      delete: (n, o) => base.delete(n, o),
      list: () => {
        this.calls.push(`list ${at}`);
        return Promise.resolve({ metadata: {}, items: this.fake.objects<T>(group, plural, scope) });
      },
      deleteCollection: async (o) => {
        this.calls.push(`deletecollection ${at} ${o?.propagationPolicy ?? ""}`);
        for (const item of this.fake.objects<T>(group, plural, scope)) await base.delete(item.metadata!.name!, o);
        return {};
      },
      subresource: <R>(method: string, name: string, sub: string, body?: unknown) => {
        this.calls.push(`${method} ${at}/${sub} ${name}`);
        const obj = structuredClone(body) as KubeObject;
        this.fake.seed(group, plural, obj);
        return Promise.resolve(obj as R);
      },
    };
  }
}

const resources: ApiResource[] = [
  { group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true, verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"] },
  { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true, verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"] },
  { group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false, verbs: ["create", "delete", "get", "list", "patch", "update", "watch"] },
  { group: "apps", version: "v1", plural: "deployments", kind: "Deployment", namespaced: true, verbs: ["create", "delete", "get", "list", "patch", "update", "watch"] },
  { group: "authorization.k8s.io", version: "v1", plural: "localsubjectaccessreviews", kind: "LocalSubjectAccessReview", namespaced: true, verbs: ["create"] },
];

function terminating(name: string, extra: Partial<Namespace["status"]> = {}): Namespace {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name, uid: `uid-${name}`, deletionTimestamp: "2025-01-01T00:00:00Z", resourceVersion: "10" },
    spec: { finalizers: ["kubernetes"] },
    status: { phase: "Terminating", ...extra },
  };
}

function setup(ns: Namespace, opts: { failed?: Map<string, string> } = {}): { fake: FakeApi; api: CollectionFake; c: NamespaceController } {
  const fake = new FakeApi({ clock: { now: () => NOW } });
  fake.seed("", "namespaces", ns);
  const api = new CollectionFake(fake);
  const c = new NamespaceController({ api, namespaces: seedLister([ns]), discover: staticDiscovery(resources, opts.failed), log, now: () => NOW });
  return { fake, api, c };
}

function conditionsOf(fake: FakeApi): Record<string, string> {
  const statusWrites = fake.writes({ verb: "updateStatus", resource: "namespaces" });
  const last = statusWrites[statusWrites.length - 1]?.object as Namespace | undefined;
  return Object.fromEntries((last?.status?.conditions ?? []).map((c) => [c.type, `${c.status} ${c.reason} ${c.message}`]));
}

void describe("NamespaceController.sync", () => {
  void it("ignores namespaces that are not being deleted", async () => {
    const ns: Namespace = { metadata: { name: "live", uid: "u" }, spec: { finalizers: ["kubernetes"] }, status: { phase: "Active" } };
    const { fake, api, c } = setup(ns);
    await c.sync("live");
    await c.sync("missing");
    assert.deepEqual(fake.actions, []);
    assert.deepEqual(api.calls, []);
  });

  void it("deletes every namespaced deletable resource, sets the all-clear conditions, then finalizes", async () => {
    const { fake, api, c } = setup(terminating("shop"));
    fake.seed("", "pods", { metadata: { name: "p1", namespace: "shop" }, spec: { terminationGracePeriodSeconds: 30 }, status: { phase: "Pending" } } as KubeObject);
    fake.seed("", "configmaps", { metadata: { name: "cm", namespace: "shop" } }, { metadata: { name: "elsewhere", namespace: "other" } });
    fake.seed("apps", "deployments", { metadata: { name: "web", namespace: "shop" } });
    await c.sync("shop");

    assert.deepEqual(fake.verbs({ verb: "delete" }).sort(), ["delete configmaps shop/cm", "delete deployments shop/web", "delete pods shop/p1"]);
    assert.equal(fake.writes({ verb: "delete" }).every((a) => a.deleteOptions?.propagationPolicy === "Background"), true);
    // deletecollection where served; list-and-delete for deployments (no deletecollection verb)
    assert.ok(api.calls.includes("deletecollection pods shop Background"));
    assert.ok(api.calls.includes("deletecollection configmaps shop Background"));
    assert.ok(!api.calls.some((x) => x.startsWith("deletecollection deployments")));
    assert.ok(!api.calls.some((x) => x.includes("localsubjectaccessreviews") || x.includes("namespaces shop")));
    assert.equal(fake.objects("", "configmaps").length, 1, "other namespaces keep their content");

    assert.deepEqual(conditionsOf(fake), {
      NamespaceDeletionDiscoveryFailure: "False ResourcesDiscovered All resources successfully discovered",
      NamespaceDeletionGroupVersionParsingFailure: "False ParsedGroupVersions All legacy kube types successfully parsed",
      NamespaceDeletionContentFailure: "False ContentDeleted All content successfully deleted, may be waiting on finalization",
      NamespaceContentRemaining: "False ContentRemoved All content successfully removed",
      NamespaceFinalizersRemaining: "False ContentHasNoFinalizers All content-preserving finalizers finished",
    });
    assert.equal(api.calls[api.calls.length - 1], "PUT namespaces/finalize shop");
    assert.deepEqual(fake.object<Namespace>("", "namespaces", "", "shop")?.spec?.finalizers, []);
  });

  void it("waits (no finalize, no error) while objects are held by finalizers, and says which", async () => {
    const { fake, api, c } = setup(terminating("held"));
    fake.seed("", "configmaps", { metadata: { name: "cm", namespace: "held", finalizers: ["example.com/hold"] } });
    fake.seed("apps", "deployments", { metadata: { name: "d", namespace: "held", finalizers: ["foregroundDeletion"] } });
    await c.sync("held");
    assert.ok(!api.calls.some((x) => x.includes("/finalize")));
    const conds = conditionsOf(fake);
    assert.equal(conds["NamespaceContentRemaining"], "True SomeResourcesRemain Some resources are remaining: configmaps. has 1 resource instances, deployments.apps has 1 resource instances");
    assert.equal(conds["NamespaceFinalizersRemaining"], "True SomeFinalizersRemain Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances, foregroundDeletion in 1 resource instances");
    assert.equal(conds["NamespaceDeletionContentFailure"]?.startsWith("False"), true);
    c.queue.shutDown();
  });

  void it("reports discovery failures and failed deletions as True conditions and throws to retry", async () => {
    const { fake, api, c } = setup(terminating("bad"), { failed: new Map([["metrics.k8s.io/v1beta1", "the server is currently unable to handle the request"]]) });
    fake.seed("", "configmaps", { metadata: { name: "cm", namespace: "bad" } });
    fake.failOn({ verb: "delete", resource: "configmaps" }, apiError(500, "InternalError", "etcd is sad"));
    await assert.rejects(c.sync("bad"), /unable to retrieve the complete list of server APIs/);
    const conds = conditionsOf(fake);
    assert.equal(
      conds["NamespaceDeletionDiscoveryFailure"],
      "True DiscoveryFailed Discovery failed for some groups, 1 failing: unable to retrieve the complete list of server APIs: metrics.k8s.io/v1beta1: the server is currently unable to handle the request",
    );
    assert.equal(conds["NamespaceDeletionContentFailure"], "True ContentDeletionFailed Failed to delete all resource types, 1 remaining: etcd is sad");
    assert.ok(!api.calls.some((x) => x.includes("/finalize")));
  });

  void it("moves a namespace that is not yet Terminating to Terminating first", async () => {
    const ns = terminating("t");
    ns.status = { phase: "Active" };
    const { fake, c } = setup(ns);
    await c.sync("t");
    const first = fake.writes({ verb: "updateStatus" })[0]!.object as Namespace;
    assert.equal(first.status?.phase, "Terminating");
  });

  void it("leaves a namespace alone once the kubernetes finalizer is gone", async () => {
    const ns = terminating("done");
    ns.spec = { finalizers: ["example.com/other"] };
    const { fake, api, c } = setup(ns);
    fake.seed("", "configmaps", { metadata: { name: "cm", namespace: "done" } });
    await c.sync("done");
    assert.deepEqual(fake.verbs(), []);
    assert.deepEqual(api.calls, []);
  });
});

void describe("updateConditions", () => {
  const ok = { contentErrors: [], remaining: new Map(), finalizersRemaining: new Map() };
  void it("moves lastTransitionTime only when the status flips and reports no change when equal", () => {
    const first = updateConditions(undefined, { ...ok, remaining: new Map([["pods.", 2]]) }, "T1")!;
    const pods = (c: NamespaceCondition[]): NamespaceCondition => c.find((x) => x.type === "NamespaceContentRemaining")!;
    assert.equal(pods(first).status, "True");
    assert.equal(updateConditions(first, { ...ok, remaining: new Map([["pods.", 2]]) }, "T2"), undefined);
    const fewer = updateConditions(first, { ...ok, remaining: new Map([["pods.", 1]]) }, "T3")!;
    assert.equal(pods(fewer).lastTransitionTime, "T1");
    assert.equal(pods(fewer).message, "Some resources are remaining: pods. has 1 resource instances");
    const clear = updateConditions(fewer, ok, "T4")!;
    assert.deepEqual({ ...pods(clear) }, { type: "NamespaceContentRemaining", status: "False", lastTransitionTime: "T4", reason: "ContentRemoved", message: "All content successfully removed" });
  });
});
