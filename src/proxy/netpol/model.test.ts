import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Namespace, Pod } from "kubernetes-types/core/v1.js";
import type { NetworkPolicy, NetworkPolicySpec } from "kubernetes-types/networking/v1.js";
import { buildNodeFilters, cidrRange, ipToNumber, normalizeRanges, numberToIP, subtractRanges, type AddressRange, type Match, type NodeFilters } from "./model.js";

const NODE = "node-a";

function pod(ns: string, name: string, ip: string | undefined, labels: Record<string, string> = {}, o: { node?: string; phase?: string; hostNetwork?: boolean; ports?: { name: string; containerPort: number; protocol?: string }[]; deleting?: boolean } = {}): Pod {
  return {
    metadata: { namespace: ns, name, labels, ...(o.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}) },
    spec: { nodeName: o.node ?? NODE, containers: [{ name: "c", ports: o.ports ?? [] }], ...(o.hostNetwork ? { hostNetwork: true } : {}) },
    status: { phase: o.phase ?? "Running", ...(ip ? { podIP: ip, podIPs: [{ ip }] } : {}) },
  };
}

function ns(name: string, labels: Record<string, string> = {}): Namespace {
  return { metadata: { name, labels: { "kubernetes.io/metadata.name": name, ...labels } } };
}

function policy(namespace: string, name: string, spec: NetworkPolicySpec): NetworkPolicy {
  return { metadata: { namespace, name }, spec };
}

const r = (a: string, b = a): AddressRange => ({ first: ipToNumber(a), last: ipToNumber(b) });

function build(pods: Pod[], policies: NetworkPolicy[], namespaces: Namespace[] = [ns("default"), ns("other", { team: "x" })]): NodeFilters {
  return buildNodeFilters({ nodeName: NODE, pods, namespaces, policies });
}

/** The matches of the ingress (or egress) filter of the pod at `ip`, or undefined when it is not isolated. */
function matchesOf(f: NodeFilters, dir: "ingress" | "egress", ip: string): readonly Match[] | undefined {
  return f[dir].find((p) => p.ip === ip)?.matches;
}

describe("address ranges", () => {
  it("cidrs, normalizing, subtracting, printing", () => {
    assert.deepEqual(cidrRange("10.0.0.0/8"), r("10.0.0.0", "10.255.255.255"));
    assert.deepEqual(cidrRange("10.1.2.3/24"), r("10.1.2.0", "10.1.2.255"));
    assert.deepEqual(cidrRange("0.0.0.0/0"), r("0.0.0.0", "255.255.255.255"));
    assert.deepEqual(cidrRange("192.168.1.1/32"), r("192.168.1.1"));
    assert.equal(cidrRange("fd00::/8"), undefined);
    assert.equal(numberToIP(ipToNumber("255.1.0.254")), "255.1.0.254");
    assert.deepEqual(normalizeRanges([r("10.0.0.5"), r("10.0.0.1", "10.0.0.4"), r("10.0.0.9"), r("10.0.0.2")]), [r("10.0.0.1", "10.0.0.5"), r("10.0.0.9")]);
    assert.deepEqual(subtractRanges([cidrRange("10.0.0.0/24")!], [cidrRange("10.0.0.0/26")!, r("10.0.0.100"), r("10.0.0.255")]), [r("10.0.0.64", "10.0.0.99"), r("10.0.0.101", "10.0.0.254")]);
    assert.deepEqual(subtractRanges([r("10.0.0.1", "10.0.0.3")], [cidrRange("10.0.0.0/8")!]), []);
  });
});

describe("buildNodeFilters", () => {
  const web = pod("default", "web", "10.42.0.10", { app: "web" }, { ports: [{ name: "http", containerPort: 8080 }, { name: "dns", containerPort: 5353, protocol: "UDP" }] });
  const client = pod("default", "client", "10.42.0.11", { app: "client" });
  const remote = pod("default", "remote", "10.42.1.20", { app: "client" }, { node: "node-b" });
  const otherNs = pod("other", "o", "10.42.0.30", { app: "client" });

  it("no policy selecting a pod: not isolated; deny-all isolates every pod of its namespace only", () => {
    assert.deepEqual(build([web, client, otherNs], []), { ingress: [], egress: [] });
    const f = build([web, client, otherNs], [policy("default", "deny", { podSelector: {} })]);
    assert.deepEqual(f.ingress.map((p) => [p.pod, p.ip, p.policies, p.matches]), [
      ["default/web", "10.42.0.10", ["default/deny"], []],
      ["default/client", "10.42.0.11", ["default/deny"], []],
    ]);
    assert.deepEqual(f.egress, [], "policyTypes defaults to Ingress alone");
  });

  it("only local pods are filtered; remote pods are peers", () => {
    const f = build([web, remote], [policy("default", "from-clients", { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { app: "client" } } }] }] })]);
    assert.deepEqual(f.ingress.map((p) => p.pod), ["default/web"]);
    assert.deepEqual(matchesOf(f, "ingress", "10.42.0.10"), [{ source: "default/from-clients ingress[0]", peers: [r("10.42.1.20")] }]);
  });

  it("podSelector, namespaceSelector, both, and ipBlock with except", () => {
    const pods = [web, client, otherNs, pod("other", "o2", "10.42.0.31", { app: "db" })];
    const f = build(pods, [
      policy("default", "p", {
        podSelector: { matchLabels: { app: "web" } },
        policyTypes: ["Ingress"],
        ingress: [
          { from: [{ podSelector: { matchLabels: { app: "client" } } }] },
          { from: [{ namespaceSelector: { matchLabels: { team: "x" } } }] },
          { from: [{ namespaceSelector: { matchExpressions: [{ key: "team", operator: "Exists" }] }, podSelector: { matchLabels: { app: "db" } } }] },
          { from: [{ ipBlock: { cidr: "192.168.0.0/16", except: ["192.168.1.0/24"] } }, { ipBlock: { cidr: "fd00::/8" } }] },
          { from: [{ podSelector: { matchLabels: { app: "nobody" } } }] },
        ],
      }),
    ]);
    assert.deepEqual(matchesOf(f, "ingress", "10.42.0.11"), undefined, "the client is not selected");
    assert.deepEqual(matchesOf(f, "ingress", "10.42.0.10"), [
      { source: "default/p ingress[0]", peers: [r("10.42.0.11")] },
      { source: "default/p ingress[1]", peers: [r("10.42.0.30", "10.42.0.31")] },
      { source: "default/p ingress[2]", peers: [r("10.42.0.31")] },
      { source: "default/p ingress[3]", peers: [r("192.168.0.0", "192.168.0.255"), r("192.168.2.0", "192.168.255.255")] },
    ], "a rule whose peers are nobody allows nothing");
  });

  it("ports: numbers, ranges, protocols, named ports of the destination; empty rule allows all", () => {
    const f = build([web, client], [
      policy("default", "p", {
        podSelector: { matchLabels: { app: "web" } },
        ingress: [
          { ports: [{ port: 80 }, { protocol: "UDP", port: 53 }, { port: 9000, endPort: 9010 }, { protocol: "SCTP" }] },
          { from: [{ podSelector: {} }], ports: [{ port: "http" }, { protocol: "UDP", port: "dns" }, { port: "dns" }, { port: "missing" }] },
          { ports: [{ port: "missing" }] },
          {},
        ],
      }),
    ]);
    assert.deepEqual(matchesOf(f, "ingress", "10.42.0.10"), [
      { source: "default/p ingress[0]", ports: [{ protocol: "TCP", first: 80, last: 80 }, { protocol: "UDP", first: 53, last: 53 }, { protocol: "TCP", first: 9000, last: 9010 }, { protocol: "SCTP" }] },
      { source: "default/p ingress[1]", peers: [r("10.42.0.10", "10.42.0.11")], ports: [{ protocol: "TCP", first: 8080, last: 8080 }, { protocol: "UDP", first: 5353, last: 5353 }] },
      { source: "default/p ingress[3]" },
    ]);
  });

  it("egress: policyTypes, numeric ports against peers, named ports against the peer pods that have them", () => {
    const f = build([web, client, otherNs], [
      policy("default", "out", {
        podSelector: { matchLabels: { app: "client" } },
        policyTypes: ["Egress"],
        egress: [
          { to: [{ podSelector: { matchLabels: { app: "web" } } }], ports: [{ port: "http" }, { port: 443 }] },
          { ports: [{ protocol: "UDP", port: "dns" }] },
        ],
      }),
    ]);
    assert.deepEqual(f.ingress, []);
    assert.deepEqual(f.egress.map((p) => p.pod), ["default/client"]);
    assert.deepEqual(matchesOf(f, "egress", "10.42.0.11"), [
      { source: "default/out egress[0]", peers: [r("10.42.0.10")], ports: [{ protocol: "TCP", first: 443, last: 443 }] },
      { source: "default/out egress[0]", endpoints: [{ ip: "10.42.0.10", protocol: "TCP", port: 8080 }] },
      { source: "default/out egress[1]", endpoints: [{ ip: "10.42.0.10", protocol: "UDP", port: 5353 }] },
    ]);
    const both = build([web, client], [policy("default", "both", { podSelector: {}, egress: [{}] })]);
    assert.equal(both.ingress.length, 2, "egress rules given: Ingress and Egress by default");
    assert.deepEqual(matchesOf(both, "egress", "10.42.0.10"), [{ source: "default/both egress[0]" }]);
  });

  it("several policies add up; the peers of each rule are its own", () => {
    const f = build([web, client], [
      policy("default", "b", { podSelector: { matchLabels: { app: "web" } }, ingress: [{ ports: [{ port: 443 }] }] }),
      policy("default", "a", { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { app: "client" } } }] }] }),
    ]);
    const filter = f.ingress.find((p) => p.pod === "default/web")!;
    assert.deepEqual(filter.policies, ["default/a", "default/b"]);
    assert.deepEqual(filter.matches.map((m) => m.source), ["default/a ingress[0]", "default/b ingress[0]"]);
  });

  it("host-network, finished and address-less pods are neither filtered nor peers; a pod being deleted yields its address", () => {
    const pods = [
      pod("default", "host", "10.0.0.1", { app: "client" }, { hostNetwork: true }),
      pod("default", "done", "10.42.0.50", { app: "client" }, { phase: "Succeeded" }),
      pod("default", "pending", undefined, { app: "client" }, { phase: "Pending" }),
      pod("default", "old", "10.42.0.60", { app: "old" }, { deleting: true }),
      pod("default", "new", "10.42.0.60", { app: "client" }),
      web,
    ];
    const f = build(pods, [policy("default", "p", { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { app: "client" } } }] }] })]);
    assert.deepEqual(f.ingress.map((p) => p.pod), ["default/web", "default/new"]);
    assert.deepEqual(matchesOf(f, "ingress", "10.42.0.10"), [{ source: "default/p ingress[0]", peers: [r("10.42.0.60")] }]);
  });

  it("a namespace selector matches namespaces by their labels, including kubernetes.io/metadata.name", () => {
    const f = build([web, otherNs], [policy("default", "p", { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "other" } } }] }] })]);
    assert.deepEqual(matchesOf(f, "ingress", "10.42.0.10"), [{ source: "default/p ingress[0]", peers: [r("10.42.0.30")] }]);
    const none = build([web, otherNs], [policy("default", "p", { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: "y" } } }] }] })]);
    assert.deepEqual(matchesOf(none, "ingress", "10.42.0.10"), []);
  });
});
