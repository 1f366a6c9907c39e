import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import { buildServicePorts } from "../model.js";
import { NftNames } from "../names.js";
import { nftRuleset, nftScript, STALE_CHAIN_DELAY_MS, type NftConfig, type NftRuleset } from "./rules.js";

const cfg: NftConfig = { table: "k8ts", names: new NftNames(), clusterCIDR: "10.0.0.0/8", masqueradeMark: "0x4000", nodeIPs: [] };

function svc(ns: string, name: string, spec: Service["spec"]): Service {
  return { metadata: { name, namespace: ns }, spec };
}

function slice(ns: string, svcName: string, eps: { ip: string; node?: string }[]): EndpointSlice {
  return {
    metadata: { name: `${svcName}-abc`, namespace: ns, labels: { "kubernetes.io/service-name": svcName } },
    addressType: "IPv4",
    ports: [{ name: "p80", port: 80, protocol: "TCP" }],
    endpoints: eps.map((e) => ({ addresses: [e.ip], ...(e.node ? { nodeName: e.node } : {}) })),
  };
}

function ruleset(services: Service[], slices: EndpointSlice[], c: NftConfig = cfg): NftRuleset {
  return nftRuleset(buildServicePorts(services, slices, "me"), c);
}

const svc1 = svc("ns1", "svc1", { clusterIP: "172.30.0.41", ports: [{ name: "p80", port: 80 }] });
const SVC1 = "service-ULMVA6XW-ns1/svc1/tcp/p80";
const EP1 = "endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80";

describe("nftables rules", () => {
  it("dispatches cluster IPs through a verdict map to a chain per service, with upstream's names", () => {
    const rs = ruleset([svc1], [slice("ns1", "svc1", [{ ip: "10.180.0.1" }])]);
    assert.deepEqual([...rs.sets.get("service-ips")!.elements!], [["172.30.0.41 . tcp . 80", `goto ${SVC1}`]]);
    assert.deepEqual(rs.chains.get(SVC1), [
      `ip daddr 172.30.0.41 tcp dport 80 ip saddr != 10.0.0.0/8 jump mark-for-masquerade`,
      `numgen random mod 1 vmap { 0 : goto ${EP1} }`,
    ]);
    assert.deepEqual(rs.chains.get(EP1), [`ip saddr 10.180.0.1 jump mark-for-masquerade`, `meta l4proto tcp dnat to 10.180.0.1:80`]);
    assert.deepEqual(rs.chains.get("services"), [
      "ip daddr . meta l4proto . th dport vmap @service-ips",
      "fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports",
    ]);
    assert.deepEqual(rs.chains.get("masquerading"), ["mark and 0x4000 == 0 return", "mark set mark xor 0x4000", "masquerade fully-random"]);
    assert.equal(rs.base.get("nat-prerouting"), "type nat hook prerouting priority -100");
  });

  it("spreads endpoints with numgen and pins clients with a dynamic set per endpoint", () => {
    const s = svc("ns", "s", { clusterIP: "172.30.0.9", sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIP: { timeoutSeconds: 30 } }, ports: [{ name: "p80", port: 80 }] });
    const rs = ruleset([s], [slice("ns", "s", [{ ip: "10.1.0.1" }, { ip: "10.1.0.2" }, { ip: "10.1.0.3" }])]);
    const chain = [...rs.chains.keys()].find((c) => c.startsWith("service-"))!;
    const rules = rs.chains.get(chain)!;
    assert.equal(rules.filter((r) => /^ip saddr @affinity-\S+ goto endpoint-/.test(r)).length, 3);
    assert.match(rules.at(-1)!, /^numgen random mod 3 vmap \{ 0 : goto endpoint-\S+, 1 : goto endpoint-\S+, 2 : goto endpoint-\S+ \}$/);
    const sets = [...rs.sets].filter(([n]) => n.startsWith("affinity-"));
    assert.equal(sets.length, 3);
    for (const [, set] of sets) {
      assert.equal(set.spec, "type ipv4_addr ; flags dynamic,timeout ; timeout 30s");
      assert.equal(set.elements, undefined, "the kernel fills affinity sets");
    }
  });

  it("rejects services without endpoints and drops Local traffic without local endpoints", () => {
    const none = ruleset([svc("ns", "e", { type: "NodePort", clusterIP: "172.30.0.5", ports: [{ name: "p80", port: 80, nodePort: 30005 }] })], []);
    assert.deepEqual([...none.sets.get("no-endpoint-services")!.elements!], [["172.30.0.5 . tcp . 80", "goto reject-chain"]]);
    assert.deepEqual([...none.sets.get("no-endpoint-nodeports")!.elements!], [["tcp . 30005", "goto reject-chain"]]);
    assert.equal(none.sets.get("service-ips")!.elements!.size, 0);

    const local = ruleset([svc("ns", "l", { type: "NodePort", clusterIP: "172.30.0.6", externalTrafficPolicy: "Local", ports: [{ name: "p80", port: 80, nodePort: 30006 }] })], [slice("ns", "l", [{ ip: "10.1.0.9", node: "other" }])]);
    assert.deepEqual([...local.sets.get("no-endpoint-nodeports")!.elements!], [["tcp . 30006", "drop"]]);
    const ext = [...local.chains.keys()].find((c) => c.startsWith("external-"))!;
    assert.deepEqual(local.chains.get(ext)!.map((r) => r.replace(/\S+\/p80/g, "X")), ["ip saddr 10.0.0.0/8 goto X", "fib saddr type local jump mark-for-masquerade", "fib saddr type local goto X"]);
  });

  it("node IPs become a set that NodePort dispatch matches", () => {
    const rs = ruleset([], [], { ...cfg, nodeIPs: ["192.0.2.1"] });
    assert.deepEqual([...rs.sets.get("nodeport-ips")!.elements!.keys()], ["192.0.2.1"]);
    assert.equal(rs.chains.get("services")![1], "ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports");
  });

  it("the first transaction replaces the table; later ones touch only what changed and delete stale chains a second later", () => {
    const before = ruleset([svc1], [slice("ns1", "svc1", [{ ip: "10.180.0.1" }])]);
    const first = nftScript("k8ts", before, undefined, true, 0);
    const lines = first.text.trim().split("\n");
    assert.deepEqual(lines.slice(0, 3), ["add table ip k8ts", "delete table ip k8ts", "add table ip k8ts"]);
    assert.ok(lines.includes(`add element ip k8ts service-ips { 172.30.0.41 . tcp . 80 : goto ${SVC1} }`));

    assert.equal(nftScript("k8ts", before, { rs: before, stale: new Map() }, false, 1).text, "", "no change, no transaction");

    const after = ruleset([svc1], [slice("ns1", "svc1", [{ ip: "10.180.0.2" }])]);
    const second = nftScript("k8ts", after, { rs: before, stale: new Map() }, false, 100);
    const EP2 = [...after.chains.keys()].find((c) => c.startsWith("endpoint-"))!;
    assert.deepEqual(second.text.trim().split("\n"), [
      `add chain ip k8ts ${EP2}`,
      `flush chain ip k8ts ${SVC1}`,
      `flush chain ip k8ts ${EP1}`,
      `add rule ip k8ts ${EP2} ip saddr 10.180.0.2 jump mark-for-masquerade`,
      `add rule ip k8ts ${EP2} meta l4proto tcp dnat to 10.180.0.2:80`,
      `add rule ip k8ts ${SVC1} ip daddr 172.30.0.41 tcp dport 80 ip saddr != 10.0.0.0/8 jump mark-for-masquerade`,
      `add rule ip k8ts ${SVC1} numgen random mod 1 vmap { 0 : goto ${EP2} }`,
    ]);
    assert.equal(second.rules, 4);
    assert.deepEqual([...second.stale], [[EP1, 100]]);

    const early = nftScript("k8ts", after, { rs: after, stale: second.stale }, false, 100 + STALE_CHAIN_DELAY_MS - 1);
    assert.equal(early.text, "");
    const later = nftScript("k8ts", after, { rs: after, stale: second.stale }, false, 100 + STALE_CHAIN_DELAY_MS);
    assert.equal(later.text, `delete chain ip k8ts ${EP1}\n`);
    assert.equal(later.stale.size, 0);
  });

  it("a changed affinity timeout re-creates the sets and rewrites the chains that use them", () => {
    const spec = (t: number): Service["spec"] => ({ clusterIP: "172.30.0.9", sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIP: { timeoutSeconds: t } }, ports: [{ name: "p80", port: 80 }] });
    const a = ruleset([svc("ns", "s", spec(30))], [slice("ns", "s", [{ ip: "10.1.0.1" }])]);
    const b = ruleset([svc("ns", "s", spec(60))], [slice("ns", "s", [{ ip: "10.1.0.1" }])]);
    const text = nftScript("k8ts", b, { rs: a, stale: new Map() }, false, 0).text;
    const set = [...b.sets.keys()].find((n) => n.startsWith("affinity-"))!;
    const lines = text.trim().split("\n");
    const flushes = lines.filter((l) => l.startsWith("flush chain")).length;
    assert.equal(flushes, 2, "service and endpoint chains name the set");
    const del = lines.indexOf(`delete set ip k8ts ${set}`);
    assert.ok(del > lines.findLastIndex((l) => l.startsWith("flush chain")));
    assert.equal(lines[del + 1], `add set ip k8ts ${set} { type ipv4_addr ; flags dynamic,timeout ; timeout 60s ; }`);
    assert.ok(lines.findIndex((l) => l.startsWith("add rule")) > del + 1);
  });
});
