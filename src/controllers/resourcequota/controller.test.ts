import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Pod, ResourceQuota, Service } from "kubernetes-types/core/v1.js";
import { Lister, type Indexer } from "../../client/informer.js";
import { isConflict } from "../../client/errors.js";
import type { DeepReadonly, KubeObject } from "../../client/objects.js";
import { createLogger } from "../../util/log.js";
import { conflictError, FakeApi } from "../testing/index.js";
import { cachePut, seedIndexer } from "../testing/listers.js";
import { resourceKey, ResourceQuotaController, ResourceQuotaEventHandlers } from "./controller.js";
import { COUNTED_RESOURCES, type CountedResource } from "../../api/quota.js";

const log = createLogger("silent");

function pod(name: string, o: { cpu?: string; phase?: string; ns?: string } = {}): Pod {
  return {
    metadata: { name, namespace: o.ns ?? "ns", uid: `${name}-uid` },
    spec: { containers: [{ name: "app", ...(o.cpu ? { resources: { requests: { cpu: o.cpu } } } : {}) }] },
    status: { phase: o.phase ?? "Running" },
  };
}

function service(name: string, type: string, ports: number): Service {
  return { metadata: { name, namespace: "ns" }, spec: { type, ports: Array.from({ length: ports }, (_, i) => ({ port: 80 + i })) } };
}

function quota(name: string, spec: ResourceQuota["spec"], status?: ResourceQuota["status"]): ResourceQuota {
  return { apiVersion: "v1", kind: "ResourceQuota", metadata: { name, namespace: "ns", uid: `${name}-uid`, resourceVersion: "3" }, spec, ...(status ? { status } : {}) };
}

const POD: CountedResource = COUNTED_RESOURCES.find((r) => r.plural === "pods")!;
const CONFIGMAP: CountedResource = COUNTED_RESOURCES.find((r) => r.plural === "configmaps")!;

class World {
  readonly api = new FakeApi();
  readonly quotas: Indexer<ResourceQuota> = seedIndexer<ResourceQuota>();
  readonly caches = new Map(COUNTED_RESOURCES.map((r) => [resourceKey(r), seedIndexer<KubeObject>()]));
  readonly c = new ResourceQuotaController({
    api: this.api,
    quotas: new Lister(this.quotas),
    objects: new Map([...this.caches].map(([k, idx]) => [k, new Lister(idx)])),
  });
  readonly queued: string[] = [];
  readonly h = new ResourceQuotaEventHandlers(this.c, (k) => this.queued.push(k));

  put(group: string, plural: string, ...objs: KubeObject[]): void {
    for (const o of objs) cachePut(this.caches.get(resourceKey({ group, plural }))!, o);
  }

  addQuota(q: ResourceQuota): DeepReadonly<ResourceQuota> {
    this.api.seed("", "resourcequotas", q);
    return cachePut(this.quotas, q);
  }

  status(name: string): ResourceQuota["status"] {
    return this.api.object<ResourceQuota>("", "resourcequotas", "ns", name)?.status;
  }
}

void describe("ResourceQuotaController.sync", () => {
  void it("counts the namespace's covered objects for exactly the quota's names; ended pods count for nothing", async () => {
    const w = new World();
    const hard = { pods: "10", "count/pods": "10", "requests.cpu": "2", "services.nodeports": "5", "count/deployments.apps": "3", "count/ingresses.networking.k8s.io": "4" };
    w.addQuota(quota("compute", { hard }));
    w.put("", "pods", pod("a", { cpu: "100m" }), pod("b", { cpu: "250m" }), pod("done", { cpu: "1", phase: "Succeeded" }), pod("failed", { phase: "Failed" }), pod("elsewhere", { cpu: "1", ns: "other" }));
    w.put("", "services", service("np", "NodePort", 2), service("lb", "LoadBalancer", 1), service("ip", "ClusterIP", 3));
    w.put("apps", "deployments", { metadata: { name: "web", namespace: "ns" } }, { metadata: { name: "web", namespace: "other" } });
    w.put("", "configmaps", { metadata: { name: "cm", namespace: "ns" } });
    await w.c.sync("ns/compute", log);
    assert.deepEqual(w.api.verbs(), ["updateStatus resourcequotas/status ns/compute"]);
    assert.deepEqual(w.status("compute"), {
      hard,
      // count/ingresses.networking.k8s.io: a resource the controller does not watch reports 0.
      used: { pods: "2", "count/pods": "2", "requests.cpu": "350m", "services.nodeports": "3", "count/deployments.apps": "1", "count/ingresses.networking.k8s.io": "0" },
    });
  });

  void it("counts only best-effort pods under a BestEffort-scoped quota", async () => {
    const w = new World();
    w.addQuota(quota("be", { hard: { pods: "5", "count/configmaps": "5" }, scopes: ["BestEffort"] }));
    w.put("", "pods", pod("guaranteed", { cpu: "1" }), pod("be1"), pod("be2"), pod("be-ended", { phase: "Succeeded" }));
    w.put("", "configmaps", { metadata: { name: "cm", namespace: "ns" } });
    await w.c.sync("ns/be", log);
    // A scoped quota tracks pods only: the config map is not covered.
    assert.deepEqual(w.status("be")?.used, { pods: "2", "count/configmaps": "0" });
  });

  void it("writes nothing when the status already says so, quantities compared by value", async () => {
    const w = new World();
    w.addQuota(quota("q", { hard: { "requests.cpu": "1", pods: "4" } }, { hard: { "requests.cpu": "1000m", pods: "4" }, used: { "requests.cpu": "0.5", pods: "2" } }));
    w.put("", "pods", pod("a", { cpu: "200m" }), pod("b", { cpu: "300m" }));
    await w.c.sync("ns/q", log);
    assert.deepEqual(w.api.verbs(), []);
    // A quota of no names has nothing to report.
    w.addQuota(quota("empty", { hard: {} }));
    await w.c.sync("ns/empty", log);
    assert.deepEqual(w.api.verbs(), []);
    // A deleted quota is done.
    await w.c.sync("ns/gone", log);
    assert.deepEqual(w.api.verbs(), []);
  });

  void it("makes status.hard follow spec.hard, dropping the names spec no longer has", async () => {
    const w = new World();
    w.addQuota(quota("q", { hard: { pods: "5", services: "2" } }, { hard: { pods: "10", secrets: "3" }, used: { pods: "1", secrets: "1" } }));
    w.put("", "pods", pod("a"));
    await w.c.sync("ns/q", log);
    assert.deepEqual(w.status("q"), { hard: { pods: "5", services: "2" }, used: { pods: "1", services: "0" } });
  });

  void it("returns a conflict to the queue", async () => {
    const w = new World();
    w.addQuota(quota("q", { hard: { pods: "5" } }));
    w.api.failOn({ verb: "updateStatus", resource: "resourcequotas" }, conflictError("resourcequotas", "q"));
    await assert.rejects(w.c.sync("ns/q", log), isConflict);
  });
});

void describe("ResourceQuotaEventHandlers", () => {
  void it("recounts the namespace's quotas that name what an object counted for, before or after", () => {
    const w = new World();
    w.addQuota(quota("pods", { hard: { pods: "5" } }));
    w.addQuota(quota("cms", { hard: { configmaps: "5" } }));
    const running = cachePut(w.caches.get(resourceKey(POD))!, pod("a"));
    const ended = cachePut(w.caches.get(resourceKey(POD))!, pod("a", { phase: "Succeeded" }));
    // The update that ends the pod releases its share.
    w.h.objectChanged(POD, running, ended);
    assert.deepEqual(w.queued, ["ns/pods"]);
    w.queued.length = 0;
    // An ended pod's deletion changes no count; neither does anything in another namespace.
    w.h.objectChanged(POD, ended, undefined);
    w.h.objectChanged(POD, undefined, cachePut(w.caches.get(resourceKey(POD))!, pod("x", { ns: "other" })));
    assert.deepEqual(w.queued, []);
    w.h.objectChanged(CONFIGMAP, undefined, cachePut(w.caches.get(resourceKey(CONFIGMAP))!, { metadata: { name: "cm", namespace: "ns" } }));
    assert.deepEqual(w.queued, ["ns/cms"]);
  });

  void it("recounts a quota whose spec changed or on resync, not on a status-only change", () => {
    const w = new World();
    const synced = { hard: { pods: "5" }, used: { pods: "0" } };
    const old = w.addQuota(quota("q", { hard: { pods: "5" } }, synced));
    w.h.quotaUpdated(old, w.addQuota(quota("q", { hard: { pods: "5" } }, { ...synced, used: { pods: "1" } })));
    assert.deepEqual(w.queued, []);
    w.h.quotaUpdated(old, old);
    w.h.quotaUpdated(old, w.addQuota(quota("q", { hard: { pods: "6" } }, synced)));
    w.h.quotaAdded(old);
    assert.deepEqual(w.queued, ["ns/q", "ns/q", "ns/q"]);
  });
});
