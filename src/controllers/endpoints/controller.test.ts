import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Endpoints, Pod, Service } from "kubernetes-types/core/v1.js";
import { createLogger } from "../../util/log.js";
import { cachePut, FakeApi, RecordingEventSink, seedIndexer } from "../testing/index.js";
import { Lister } from "../../client/informer.js";
import { EndpointsController } from "./controller.js";
import { OVER_CAPACITY_ANNOTATION } from "./subsets.js";
import { pod, service } from "./testutil.js";

function harness(services: Service[], pods: Pod[], endpoints: Endpoints[] = []) {
  const api = new FakeApi();
  const events = new RecordingEventSink();
  const caches = { services: seedIndexer(services), pods: seedIndexer(pods), endpoints: seedIndexer(endpoints) };
  const c = new EndpointsController({
    api,
    services: new Lister(caches.services),
    pods: new Lister(caches.pods),
    endpoints: new Lister(caches.endpoints),
    events,
    log: createLogger("silent"),
  });
  const written = (): Endpoints => {
    const w = api.writes({ resource: "endpoints" }).at(-1);
    assert.ok(w?.object, `a write, got ${api.verbs().join(", ")}`);
    return w.object as Endpoints;
  };
  return { api, events, caches, c, written };
}

const ref = (n: number) => ({ kind: "Pod", namespace: "ns", name: `web-${n}`, uid: `web-${n}-uid` });

void describe("EndpointsController.sync", () => {
  void it("lists ready pods under addresses and the others under notReadyAddresses, with the service's labels", async () => {
    const h = harness([service("web", { labels: { tier: "fe" } })], [pod(1, { node: "n1" }), pod(2, { ready: false }), pod(3, { labels: { app: "other" } }), pod(4, { ip: null })]);
    await h.c.sync("ns/web");
    assert.deepEqual(h.api.verbs(), ["create endpoints ns/web"]);
    const ep = h.written();
    assert.deepEqual(ep.metadata?.labels, { tier: "fe" });
    assert.deepEqual(ep.subsets, [
      {
        addresses: [{ ip: "10.42.0.2", nodeName: "n1", targetRef: ref(1) }],
        notReadyAddresses: [{ ip: "10.42.0.3", targetRef: ref(2) }],
        ports: [{ name: "http", port: 8080, protocol: "TCP" }],
      },
    ]);
    // Once the cache holds what was written, a sync writes nothing.
    cachePut(h.caches.endpoints, { ...ep, metadata: { ...ep.metadata, resourceVersion: "9" } });
    h.api.clear();
    await h.c.sync("ns/web");
    assert.deepEqual(h.api.verbs(), []);
  });

  void it("resolves named target ports per pod, leaves out pods without the port and says so once", async () => {
    const svc = service("web", { ports: [{ name: "http", port: 80, protocol: "TCP", targetPort: "http" }, { name: "metrics", port: 9090, protocol: "TCP", targetPort: 9090 }] });
    const pods = [
      pod(1, { ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }] }),
      pod(2, { ports: [{ name: "http", containerPort: 8081, protocol: "TCP" }] }),
      pod(3, { ports: [{ name: "web", containerPort: 8080, protocol: "TCP" }] }),
      pod(4, { ports: [{ name: "http", containerPort: 8080, protocol: "UDP" }] }),
    ];
    const h = harness([svc], pods);
    await h.c.sync("ns/web");
    assert.equal(h.written().metadata?.labels, undefined, "a service without labels: none, not {}");
    const addr = (n: number) => ({ ip: `10.42.0.${n + 1}`, targetRef: ref(n) });
    assert.deepEqual(h.written().subsets, [
      { addresses: [addr(1)], ports: [{ name: "http", port: 8080, protocol: "TCP" }] },
      { addresses: [addr(1), addr(2), addr(3), addr(4)], ports: [{ name: "metrics", port: 9090, protocol: "TCP" }] },
      { addresses: [addr(2)], ports: [{ name: "http", port: 8081, protocol: "TCP" }] },
    ]);
    assert.deepEqual(h.events.lines(), ['Warning FailedToResolveTargetPort Selected pods without the named target port get no endpoint for it: port "http" (TCP) for service port "http": not found on pods web-3, web-4']);
    cachePut(h.caches.endpoints, h.written());
    await h.c.sync("ns/web");
    assert.equal(h.events.events.length, 1, "an unchanged situation is reported once");
  });

  void it("publishes not-ready and terminating pods only with publishNotReadyAddresses, and never terminal ones", async () => {
    const pods = [pod(1, { ready: false }), pod(2, { deleting: true }), pod(3, { phase: "Succeeded" }), pod(4)];
    let h = harness([service("web")], pods);
    await h.c.sync("ns/web");
    assert.deepEqual(h.written().subsets?.map((s) => [s.addresses?.map((a) => a.ip), s.notReadyAddresses?.map((a) => a.ip)]), [[["10.42.0.5"], ["10.42.0.2"]]]);
    h = harness([service("web", { publishNotReadyAddresses: true })], pods);
    await h.c.sync("ns/web");
    assert.deepEqual(h.written().subsets?.map((s) => [s.addresses?.map((a) => a.ip), s.notReadyAddresses]), [[["10.42.0.2", "10.42.0.3", "10.42.0.5"], undefined]]);
  });

  void it("publishes hostnames for pods whose subdomain is the service, and headless addresses without ports", async () => {
    const svc = service("db", { clusterIP: "None", ports: [], selector: { app: "db" } });
    const h = harness([svc], [pod(1, { labels: { app: "db" }, hostname: "db-0", subdomain: "db" }), pod(2, { labels: { app: "db" }, hostname: "x", subdomain: "other" })]);
    await h.c.sync("ns/db");
    const ep = h.written();
    assert.deepEqual(ep.metadata?.labels, { "service.kubernetes.io/headless": "" });
    assert.deepEqual(ep.subsets, [{ addresses: [{ ip: "10.42.0.2", hostname: "db-0", targetRef: ref(1) }, { ip: "10.42.0.3", targetRef: ref(2) }] }]);
  });

  void it("leaves services without a selector and ExternalName services alone, and deletes the Endpoints of a deleted service", async () => {
    const h = harness([service("manual", { selector: null }), service("ext", { type: "ExternalName" })], [pod(1)]);
    await h.c.sync("ns/manual");
    await h.c.sync("ns/ext");
    assert.deepEqual(h.api.verbs(), []);
    h.api.seed("", "endpoints", { apiVersion: "v1", kind: "Endpoints", metadata: { name: "gone", namespace: "ns" } });
    await h.c.sync("ns/gone");
    await h.c.sync("ns/never-there");
    assert.deepEqual(h.api.verbs(), ["delete endpoints ns/gone", "delete endpoints ns/never-there"]);
  });

  void it("updates existing Endpoints in place, keeping their metadata", async () => {
    const current: Endpoints = { apiVersion: "v1", kind: "Endpoints", metadata: { name: "web", namespace: "ns", resourceVersion: "5", annotations: { keep: "me" } }, subsets: [{ addresses: [{ ip: "10.42.9.9" }], ports: [{ name: "http", port: 8080, protocol: "TCP" }] }] };
    const h = harness([service("web")], [pod(1)], [current]);
    h.api.seed("", "endpoints", current);
    await h.c.sync("ns/web");
    assert.deepEqual(h.api.verbs(), ["update endpoints ns/web"]);
    const ep = h.written();
    assert.equal(ep.metadata?.resourceVersion, "5");
    assert.deepEqual(ep.metadata?.annotations, { keep: "me" });
    assert.deepEqual(ep.subsets?.[0]?.addresses?.map((a) => a.ip), ["10.42.0.2"]);
  });

  void it("keeps at most 1000 addresses and marks the Endpoints truncated", async () => {
    const pods = Array.from({ length: 1005 }, (_, i) => pod(i));
    const h = harness([service("web")], pods);
    await h.c.sync("ns/web");
    const ep = h.written();
    assert.equal(ep.subsets?.reduce((n, s) => n + (s.addresses?.length ?? 0), 0), 1000);
    assert.deepEqual(ep.metadata?.annotations, { [OVER_CAPACITY_ANNOTATION]: "truncated" });
  });
});

void describe("EndpointsController event handlers", () => {
  void it("enqueue the services a pod is selected by, only for changes that matter", () => {
    const h = harness([service("web"), service("all", { selector: { tier: "fe" } }), service("other", { selector: { app: "other" } })], []);
    const base = pod(1, { labels: { app: "web", tier: "fe" } });
    h.c.podAdded(base);
    assert.equal(h.c.queue.len(), 2);
    const drain = async (): Promise<string[]> => {
      const keys: string[] = [];
      while (h.c.queue.len() > 0) {
        const k = (await h.c.queue.get())!;
        keys.push(k);
        h.c.queue.done(k);
      }
      return keys.sort();
    };
    return (async () => {
      assert.deepEqual(await drain(), ["ns/all", "ns/web"]);
      h.c.podUpdated(base, { ...base, metadata: { ...base.metadata, resourceVersion: "2", annotations: { a: "b" } } });
      assert.deepEqual(await drain(), [], "an annotation change changes no endpoints");
      h.c.podUpdated(base, { ...base, metadata: { ...base.metadata, resourceVersion: "2" }, status: { ...base.status, conditions: [{ type: "Ready", status: "False" }] } });
      assert.deepEqual(await drain(), ["ns/all", "ns/web"]);
      h.c.podUpdated(base, { ...base, metadata: { ...base.metadata, resourceVersion: "3", labels: { app: "other" } } });
      assert.deepEqual(await drain(), ["ns/all", "ns/other", "ns/web"], "old and new selectors both hear of a relabel");
    })();
  });
});
