import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import { buildServicePorts, categorizeEndpoints, DEFAULT_AFFINITY_SECONDS } from "./model.js";
import { servicePort } from "./testutil.js";

function svc(name: string, spec: Service["spec"], ns = "ns1", labels?: Record<string, string>): Service {
  return { metadata: { name, namespace: ns, ...(labels ? { labels } : {}) }, spec };
}

function slice(svcName: string, name: string, ports: EndpointSlice["ports"], endpoints: EndpointSlice["endpoints"], ns = "ns1"): EndpointSlice {
  return { metadata: { name, namespace: ns, labels: { "kubernetes.io/service-name": svcName } }, addressType: "IPv4", ports, endpoints };
}

describe("buildServicePorts", () => {
  it("maps each service port to the slice port of the same name and protocol, deduplicating and sorting endpoints", () => {
    const services = [svc("web", { clusterIP: "10.43.0.10", ports: [{ name: "http", port: 80 }, { name: "dns", port: 53, protocol: "UDP" }] })];
    const slices = [
      slice("web", "web-b", [{ name: "http", port: 8080, protocol: "TCP" }], [
        { addresses: ["10.244.0.12"], conditions: { ready: true }, nodeName: "n1" },
        { addresses: ["10.244.0.2"], nodeName: "n2" },
      ]),
      slice("web", "web-a", [{ name: "http", port: 8080, protocol: "TCP" }, { name: "dns", port: 5353, protocol: "UDP" }], [{ addresses: ["10.244.0.12"], conditions: { ready: true }, nodeName: "n1" }]),
      slice("other", "other-a", [{ name: "http", port: 1, protocol: "TCP" }], [{ addresses: ["10.9.9.9"] }]),
    ];
    const ports = buildServicePorts(services, slices, "n1");
    assert.deepEqual(
      ports.map((p) => [p.name, p.protocol, p.endpoints.map((e) => `${e.ip}:${e.port}${e.local ? " local" : ""}`)]),
      [
        ["ns1/web:dns", "UDP", ["10.244.0.12:5353 local"]],
        ["ns1/web:http", "TCP", ["10.244.0.2:8080", "10.244.0.12:8080 local"]],
      ],
    );
  });

  it("skips headless, ExternalName, IPv6-only and other proxies' services; LoadBalancer keeps its node ports", () => {
    const services = [
      svc("headless", { clusterIP: "None", ports: [{ port: 80 }] }),
      svc("ext", { type: "ExternalName", externalName: "example.org", ports: [{ port: 80 }] }),
      svc("v6", { clusterIP: "fd00::1", clusterIPs: ["fd00::1"], ports: [{ port: 80 }] }),
      svc("mine", { clusterIP: "10.43.0.1", ports: [{ port: 80 }] }, "ns1", { "service.kubernetes.io/service-proxy-name": "other" }),
      svc("lb", { type: "LoadBalancer", clusterIP: "10.43.0.2", ports: [{ port: 80, nodePort: 30080 }] }),
      svc("cip", { type: "ClusterIP", clusterIP: "10.43.0.3", ports: [{ port: 80, nodePort: 30081 }] }),
    ];
    const ports = buildServicePorts(services, [], "n1");
    assert.deepEqual(
      ports.map((p) => [p.name, p.nodePort]),
      [
        ["ns1/cip", 0],
        ["ns1/lb", 30080],
      ],
    );
  });

  it("a LoadBalancer's ingress addresses (VIP, IPv4, not already external IPs) are its loadBalancerIPs; other types' are ignored", () => {
    const ingress = [{ ip: "192.0.2.20", ipMode: "VIP" }, { ip: "192.0.2.10" }, { ip: "192.0.2.30", ipMode: "Proxy" }, { ip: "fd00::1" }, { ip: "192.0.2.40" }, { hostname: "lb.example" }];
    const lb: Service = { ...svc("lb", { type: "LoadBalancer", clusterIP: "10.43.0.2", externalIPs: ["192.0.2.40"], ports: [{ port: 80, nodePort: 30080 }] }), status: { loadBalancer: { ingress } } };
    const was: Service = { ...svc("was", { type: "NodePort", clusterIP: "10.43.0.3", ports: [{ port: 80, nodePort: 30081 }] }), status: { loadBalancer: { ingress } } };
    const ports = buildServicePorts([lb, was], [], "n1");
    assert.deepEqual(ports.map((p) => [p.name, p.externalIPs, p.loadBalancerIPs]), [
      ["ns1/lb", ["192.0.2.40"], ["192.0.2.10", "192.0.2.20"]],
      ["ns1/was", [], []],
    ]);
  });

  it("reads affinity and traffic policies", () => {
    const [p] = buildServicePorts(
      [svc("s", { type: "NodePort", clusterIP: "10.43.0.5", sessionAffinity: "ClientIP", externalTrafficPolicy: "Local", internalTrafficPolicy: "Local", ports: [{ port: 80, nodePort: 30000 }] })],
      [],
      "n1",
    );
    assert.equal(p?.affinitySeconds, DEFAULT_AFFINITY_SECONDS);
    assert.equal(p?.externalPolicyLocal, true);
    assert.equal(p?.internalPolicyLocal, true);
    const [q] = buildServicePorts([svc("s", { clusterIP: "10.43.0.5", externalTrafficPolicy: "Local", ports: [{ port: 80 }] })], [], "n1");
    // Not externally accessible: the external policy does not apply.
    assert.equal(q?.externalPolicyLocal, false);
  });
});

describe("categorizeEndpoints", () => {
  const base = servicePort();
  const ep = (ip: string, o: { ready?: boolean; serving?: boolean; terminating?: boolean; local?: boolean } = {}) => ({
    ip,
    port: 80,
    ready: o.ready ?? true,
    serving: o.serving ?? o.ready ?? true,
    terminating: o.terminating ?? false,
    local: o.local ?? false,
  });

  it("uses ready endpoints, and serving terminating ones only when none is ready", () => {
    const c = categorizeEndpoints({ ...base, endpoints: [ep("10.0.0.1"), ep("10.0.0.2", { ready: false, serving: true, terminating: true })] });
    assert.deepEqual(c.cluster.map((e) => e.ip), ["10.0.0.1"]);
    const t = categorizeEndpoints({ ...base, endpoints: [ep("10.0.0.2", { ready: false, serving: true, terminating: true }), ep("10.0.0.3", { ready: false, serving: false })] });
    assert.deepEqual(t.cluster.map((e) => e.ip), ["10.0.0.2"]);
    assert.equal(t.hasAny, true);
    const none = categorizeEndpoints({ ...base, endpoints: [ep("10.0.0.3", { ready: false, serving: false })] });
    assert.equal(none.hasAny, false);
    assert.deepEqual(none.cluster, []);
  });

  it("internalTrafficPolicy Local uses only local endpoints", () => {
    const c = categorizeEndpoints({ ...base, internalPolicyLocal: true, endpoints: [ep("10.0.0.1", { local: true }), ep("10.0.0.2")] });
    assert.deepEqual(c.cluster, []);
    assert.deepEqual(c.local.map((e) => e.ip), ["10.0.0.1"]);
    assert.deepEqual(c.reachable.map((e) => e.ip), ["10.0.0.1"]);
  });

  it("externalTrafficPolicy Local keeps cluster endpoints for pod traffic and adds the local ones", () => {
    const c = categorizeEndpoints({ ...base, nodePort: 30000, externalPolicyLocal: true, endpoints: [ep("10.0.0.1", { local: true }), ep("10.0.0.2")] });
    assert.deepEqual(c.cluster.map((e) => e.ip), ["10.0.0.1", "10.0.0.2"]);
    assert.deepEqual(c.local.map((e) => e.ip), ["10.0.0.1"]);
    assert.deepEqual(c.reachable.map((e) => e.ip), ["10.0.0.1", "10.0.0.2"]);
  });
});
