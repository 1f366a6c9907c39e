import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Endpoints, Node, Service } from "kubernetes-types/core/v1.js";
import { FakeApi, RecordingEventSink, seedLister } from "../testing/index.js";
import { createLogger } from "../../util/log.js";
import { EXCLUDE_LB_LABEL, ServiceLBController } from "./controller.js";

const log = createLogger("silent");

function node(name: string, o: { internal?: string; external?: string; ready?: boolean; labels?: Record<string, string>; simulated?: boolean; kubeletPort?: number } = {}): Node {
  return {
    metadata: { name, ...(o.labels ? { labels: o.labels } : {}), ...(o.simulated ? { annotations: { "kwok.x-k8s.io/node": "fake" } } : {}) },
    status: {
      addresses: [...(o.internal ? [{ type: "InternalIP", address: o.internal }] : []), ...(o.external ? [{ type: "ExternalIP", address: o.external }] : []), { type: "Hostname", address: name }],
      conditions: [{ type: "Ready", status: o.ready === false ? "False" : "True" }],
      daemonEndpoints: { kubeletEndpoint: { Port: o.kubeletPort ?? 10250 } },
    },
  };
}

function svc(name: string, ports: { port: number; protocol?: string }[], o: { type?: string; created?: string; ingress?: string[]; class?: string; sourceRanges?: string[] } = {}): Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: "default", uid: `uid-${name}`, resourceVersion: "5", creationTimestamp: o.created ?? "2026-01-01T00:00:00Z" },
    spec: {
      type: o.type ?? "LoadBalancer",
      ports: ports.map((p) => ({ port: p.port, ...(p.protocol ? { protocol: p.protocol } : {}) })),
      ...(o.class ? { loadBalancerClass: o.class } : {}),
      ...(o.sourceRanges ? { loadBalancerSourceRanges: o.sourceRanges } : {}),
    },
    status: { loadBalancer: o.ingress ? { ingress: o.ingress.map((ip) => ({ ip, ipMode: "VIP" })) } : {} },
  };
}

const apiserver: Endpoints = { metadata: { name: "kubernetes", namespace: "default" }, subsets: [{ addresses: [{ ip: "192.0.2.10" }], ports: [{ name: "https", port: 6443, protocol: "TCP" }] }] };

function controller(services: Service[], nodes: Node[] = [node("a", { internal: "192.0.2.10" }), node("b", { internal: "192.0.2.11", external: "203.0.113.5" })]) {
  const api = new FakeApi();
  api.seed("", "services", ...structuredClone(services));
  const events = new RecordingEventSink();
  const c = new ServiceLBController({ api, services: seedLister(services), nodes: seedLister(nodes), endpoints: seedLister([apiserver]), events, log });
  const status = (i = 0): unknown => (api.writes()[i]?.object as Service | undefined)?.status?.loadBalancer;
  return { api, events, c, status };
}

describe("ServiceLBController.sync", () => {
  it("gives a LoadBalancer service the Ready nodes' addresses (ExternalIP first), sorted, as VIPs", async () => {
    const t = controller([svc("web", [{ port: 80 }])], [
      node("a", { internal: "192.0.2.10" }),
      node("b", { internal: "192.0.2.11", external: "203.0.113.5" }),
      node("c", { internal: "192.0.2.9", ready: false }),
      node("d", { internal: "192.0.2.8", labels: { [EXCLUDE_LB_LABEL]: "" } }),
      node("sim-1", { internal: "10.0.0.1", simulated: true }),
    ]);
    await t.c.sync("default/web");
    assert.deepEqual(t.api.verbs(), ["updateStatus services/status default/web"]);
    assert.deepEqual(t.status(), { ingress: [{ ip: "192.0.2.10", ipMode: "VIP" }, { ip: "203.0.113.5", ipMode: "VIP" }] });
    assert.deepEqual(t.events.lines(), ["Normal EnsuringLoadBalancer Ensuring load balancer", "Normal EnsuredLoadBalancer Ensured load balancer"]);
  });

  it("writes nothing when the status is right; leaves other types and other classes alone", async () => {
    const t = controller([svc("web", [{ port: 80 }], { ingress: ["192.0.2.10", "203.0.113.5"] }), svc("plain", [{ port: 80 }], { type: "ClusterIP" }), svc("metal", [{ port: 80 }], { class: "example.com/lb", ingress: ["1.2.3.4"] })]);
    for (const k of ["default/web", "default/plain", "default/metal", "default/gone"]) await t.c.sync(k);
    assert.deepEqual(t.api.verbs(), []);
    assert.deepEqual(t.events.lines(), []);
  });

  it("a service that is no longer a LoadBalancer has its status cleared", async () => {
    const t = controller([svc("web", [{ port: 80 }], { type: "NodePort", ingress: ["192.0.2.10"] })]);
    await t.c.sync("default/web");
    assert.deepEqual(t.api.verbs(), ["updateStatus services/status default/web"]);
    assert.deepEqual(t.status(), {});
    assert.deepEqual(t.events.lines(), ["Normal DeletedLoadBalancer Deleted load balancer"]);
  });

  it("one port, one service: the holder keeps it, else the oldest; the other waits with upstream's event", async () => {
    const t = controller([
      svc("old", [{ port: 80 }], { created: "2026-01-01T00:00:00Z" }),
      svc("young", [{ port: 8080 }, { port: 80 }], { created: "2026-01-02T00:00:00Z" }),
      svc("udp", [{ port: 80, protocol: "UDP" }], { created: "2026-01-03T00:00:00Z" }),
    ]);
    await t.c.sync("default/young");
    await t.c.sync("default/udp");
    assert.deepEqual(t.api.verbs(), ["updateStatus services/status default/udp"], "80/UDP is another port");
    assert.deepEqual(t.events.lines()[0], "Warning SyncLoadBalancerFailed Error syncing load balancer: failed to ensure load balancer: port 80/TCP is already used by LoadBalancer service default/old");

    const held = controller([svc("old", [{ port: 80 }], { created: "2026-01-01T00:00:00Z" }), svc("young", [{ port: 80 }], { created: "2026-01-02T00:00:00Z", ingress: ["192.0.2.10", "203.0.113.5"] })]);
    await held.c.sync("default/old");
    await held.c.sync("default/young");
    assert.deepEqual(held.api.verbs(), []);
    assert.match(held.events.lines()[0]!, /port 80\/TCP is already used by LoadBalancer service default\/young$/);
  });

  it("the API server's and the kubelets' ports are not given away; source ranges are refused, not ignored", async () => {
    const t = controller([svc("api", [{ port: 6443 }]), svc("kubelet", [{ port: 10250 }]), svc("ranges", [{ port: 81 }], { sourceRanges: ["10.0.0.0/8"] })]);
    for (const k of ["default/api", "default/kubelet", "default/ranges"]) await t.c.sync(k);
    assert.deepEqual(t.api.verbs(), []);
    assert.deepEqual(t.events.lines().map((l) => l.replace(/^.*load balancer: /, "")), [
      "port 6443/TCP is used by the API server",
      "port 10250/TCP is used by the kubelet of node b",
      "loadBalancerSourceRanges are not supported by k8ts's service load balancer",
    ]);
  });

  it("no Ready node: the service waits without addresses", async () => {
    const t = controller([svc("web", [{ port: 80 }])], [node("a", { internal: "192.0.2.10", ready: false })]);
    await t.c.sync("default/web");
    assert.deepEqual(t.api.verbs(), []);
  });
});
