import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Node, Pod, Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import { Lister, type Indexer } from "../../client/informer.js";
import { createLogger } from "../../util/log.js";
import { cacheDelete, cachePut, FakeApi, RecordingEventSink, seedIndexer } from "../testing/index.js";
import { node, pod, service } from "../endpoints/testutil.js";
import { EndpointSliceController, EndpointSliceError } from "./controller.js";
import { CONTROLLER_NAME, MANAGED_BY_LABEL } from "./reconciler.js";
import { SERVICE_NAME_LABEL } from "./tracker.js";

/** The controller over seeded caches; `settle` plays the informer: written slices land in the cache. */
function harness(services: Service[], pods: Pod[], nodes: Node[] = []) {
  const api = new FakeApi();
  const events = new RecordingEventSink();
  const slices: Indexer<EndpointSlice> = seedIndexer<EndpointSlice>([]);
  const podCache = seedIndexer(pods);
  const c = new EndpointSliceController({
    api,
    services: new Lister(seedIndexer(services)),
    pods: new Lister(podCache),
    slices: new Lister(slices),
    nodes: new Lister(seedIndexer(nodes)),
    events,
    log: createLogger("silent"),
    staleCacheWaitMs: 0,
  });
  const stored = (): EndpointSlice[] => api.objects("discovery.k8s.io", "endpointslices") as EndpointSlice[];
  const settle = (): void => {
    for (const s of slices.list()) if (!stored().some((x) => x.metadata?.uid === s.metadata?.uid)) cacheDelete<EndpointSlice>(slices, s);
    for (const s of stored()) cachePut(slices, s);
  };
  const sizes = (): number[] => stored().map((s) => s.endpoints?.length ?? 0).sort((a, b) => b - a);
  const setPods = (ps: Pod[]): void => {
    for (const p of podCache.list()) podCache.remove(`${p.metadata?.namespace}/${p.metadata?.name}`);
    for (const p of ps) cachePut(podCache, p);
  };
  const sync = async (): Promise<string[]> => {
    api.clear();
    await c.sync("ns/web");
    const verbs = api.verbs();
    settle();
    // Generated names of new slices vary; updates and deletes name the slice they touch.
    return verbs.map((v) => (v.startsWith("create ") ? v.replace(/web-[a-z0-9]{5}$/, "web-*") : v));
  };
  return { api, events, c, stored, settle, sizes, setPods, sync };
}

const ready = (n: number) => pod(n, { node: "n1" });

void describe("EndpointSliceController.sync", () => {
  void it("writes one slice with the service's labels, owner, ports and per-endpoint conditions", async () => {
    const svc = service("web", { labels: { tier: "fe", [SERVICE_NAME_LABEL]: "spoof" } });
    const h = harness([svc], [ready(1), pod(2, { ready: false }), pod(3, { deleting: true, node: "n1" }), pod(4, { ip: null })], [node("n1", "zone-a")]);
    assert.deepEqual(await h.sync(), ["create endpointslices ns/web-*"]);
    const [slice] = h.stored();
    assert.match(slice!.metadata!.name!, /^web-/);
    assert.deepEqual(slice!.metadata!.labels, { tier: "fe", [SERVICE_NAME_LABEL]: "web", [MANAGED_BY_LABEL]: CONTROLLER_NAME });
    assert.deepEqual(slice!.metadata!.ownerReferences, [{ apiVersion: "v1", kind: "Service", name: "web", uid: "web-uid", controller: true, blockOwnerDeletion: true }]);
    assert.equal(slice!.addressType, "IPv4");
    assert.deepEqual(slice!.ports, [{ name: "http", port: 8080, protocol: "TCP" }]);
    const byName = new Map(slice!.endpoints.map((e) => [e.targetRef?.name, e]));
    assert.deepEqual(byName.get("web-1"), { addresses: ["10.42.0.2"], conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: "Pod", namespace: "ns", name: "web-1", uid: "web-1-uid" }, nodeName: "n1", zone: "zone-a" });
    assert.deepEqual(byName.get("web-2")!.conditions, { ready: false, serving: false, terminating: false });
    assert.deepEqual(byName.get("web-3")!.conditions, { ready: false, serving: true, terminating: true });
    assert.equal(byName.size, 3, "the pod without an address is skipped");
    assert.deepEqual(await h.sync(), [], "in step: nothing to write");
  });

  void it("keeps slices at 100 endpoints: 250 pods make 3 slices", async () => {
    const h = harness([service("web")], Array.from({ length: 250 }, (_, i) => ready(i)), [node("n1")]);
    assert.deepEqual(await h.sync(), ["create endpointslices ns/web-*", "create endpointslices ns/web-*", "create endpointslices ns/web-*"]);
    assert.deepEqual(h.sizes(), [100, 100, 50]);
    const all = h.stored().flatMap((s) => s.endpoints.map((e) => e.addresses[0]));
    assert.equal(new Set(all).size, 250);
  });

  void it("updates in place when scaling down and up, and fills existing slices before creating new ones", async () => {
    const h = harness([service("web")], [ready(1), ready(2), ready(3)], [node("n1")]);
    await h.sync();
    const name = h.stored()[0]!.metadata!.name!;
    h.setPods([ready(1)]);
    assert.deepEqual(await h.sync(), [`update endpointslices ns/${name}`]);
    assert.deepEqual(h.sizes(), [1]);
    h.setPods([ready(1), ready(2), ready(3)]);
    assert.deepEqual(await h.sync(), [`update endpointslices ns/${name}`]);
    assert.deepEqual(h.sizes(), [3]);

    // 150 → slices of 100 and 50; 30 more go into the 50 (closest to full that fits), not a new slice.
    h.setPods(Array.from({ length: 150 }, (_, i) => ready(i)));
    await h.sync();
    assert.deepEqual(h.sizes(), [100, 50]);
    h.setPods(Array.from({ length: 180 }, (_, i) => ready(i)));
    const verbs = await h.sync();
    assert.equal(verbs.length, 1);
    assert.match(verbs[0]!, /^update /);
    assert.deepEqual(h.sizes(), [100, 80]);
    // Ten pods leave the full slice while ten arrive: they replace them there, in one update.
    const full = h.stored().find((s) => s.endpoints.length === 100)!;
    const leaving = new Set(full.endpoints.slice(0, 10).map((e) => e.targetRef!.name));
    const kept = Array.from({ length: 180 }, (_, i) => ready(i)).filter((p) => !leaving.has(p.metadata!.name!));
    h.setPods([...kept, ...Array.from({ length: 10 }, (_, i) => ready(500 + i))]);
    assert.deepEqual(await h.sync(), [`update endpointslices ns/${full.metadata!.name!}`]);
    assert.deepEqual(h.sizes(), [100, 80]);
  });

  void it("keeps one empty placeholder slice for a service without endpoints, and reuses it", async () => {
    const h = harness([service("web")], [], [node("n1")]);
    assert.deepEqual(await h.sync(), ["create endpointslices ns/web-*"]);
    assert.deepEqual(h.stored().map((s) => [s.endpoints, s.ports]), [[[], []]]);
    assert.deepEqual(await h.sync(), []);
    const placeholder = h.stored()[0]!.metadata!.name!;
    h.setPods([ready(1)]);
    h.api.clear();
    await h.c.sync("ns/web");
    // The placeholder (no ports) is turned into the real slice rather than deleted and recreated.
    assert.deepEqual(h.api.verbs(), [`update endpointslices ns/${placeholder}`]);
  });

  void it("groups endpoints by the ports their pods resolve; a pod without the named port gets a slice without it", async () => {
    const svc = service("web", { ports: [{ name: "http", port: 80, protocol: "TCP", targetPort: "http" }] });
    const pods = [
      pod(1, { ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }] }),
      pod(2, { ports: [{ name: "http", containerPort: 9090, protocol: "TCP" }] }),
      pod(3, { ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }] }),
      pod(4),
    ];
    const h = harness([svc], pods);
    await h.sync();
    const shape = h.stored()
      .map((s) => [s.ports?.map((p) => p.port).join(",") ?? "", s.endpoints.map((e) => e.targetRef!.name).sort().join(",")])
      .sort();
    assert.deepEqual(shape, [
      ["", "web-4"],
      ["8080", "web-1,web-3"],
      ["9090", "web-2"],
    ]);
  });

  void it("publishes every address as ready with publishNotReadyAddresses, and hostnames of the subdomain", async () => {
    const svc = service("web", { publishNotReadyAddresses: true, clusterIP: "None" });
    const h = harness([svc], [pod(1, { ready: false, hostname: "h1", subdomain: "web" }), pod(2, { deleting: true })]);
    await h.sync();
    const [slice] = h.stored();
    assert.equal(slice!.metadata!.labels!["service.kubernetes.io/headless"], "");
    const eps = slice!.endpoints.sort((a, b) => a.targetRef!.name!.localeCompare(b.targetRef!.name!));
    assert.deepEqual(eps.map((e) => [e.hostname, e.conditions]), [
      ["h1", { ready: true, serving: false, terminating: false }],
      [undefined, { ready: true, serving: true, terminating: true }],
    ]);
  });

  void it("leaves services without a selector alone", async () => {
    const h = harness([service("web", { selector: null })], [ready(1)]);
    assert.deepEqual(await h.sync(), []);
  });

  void it("waits for the cache to show its own writes instead of writing twice", async () => {
    const h = harness([service("web")], [ready(1)], [node("n1")]);
    h.api.clear();
    await h.c.sync("ns/web");
    assert.deepEqual(h.api.verbs().length, 1);
    // The created slice is not in the cache yet: the next sync must not create another.
    await assert.rejects(h.c.sync("ns/web"), (e: unknown) => e instanceof EndpointSliceError && e.code === "StaleInformerCache");
    assert.equal(h.api.verbs().length, 1);
    h.settle();
    await h.c.sync("ns/web");
    assert.equal(h.api.verbs().length, 1);
  });

  void it("leaves out pods on nodes it does not know and retries; pods not yet bound are in", async () => {
    const h = harness([service("web")], [pod(1, { node: "ghost" }), pod(2)], [node("n1")]);
    await assert.rejects(h.c.sync("ns/web"), (e: unknown) => e instanceof EndpointSliceError && e.code === "NodeNotFound");
    h.settle();
    assert.deepEqual(h.stored().flatMap((s) => s.endpoints.map((e) => e.targetRef!.name)), ["web-2"]);
  });
});
