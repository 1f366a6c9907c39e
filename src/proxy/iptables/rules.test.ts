import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import { buildServicePorts } from "../model.js";
import { IptablesNames } from "../names.js";
import { iptablesJumps, iptablesRuleset, parseSave, planRestore, restoreScript, type IptablesConfig, type IptablesRuleset } from "./rules.js";

const cfg: IptablesConfig = { names: new IptablesNames("KUBE"), clusterCIDR: "10.0.0.0/8", masqueradeMark: "0x4000", nodeIPs: [], localhostNodePorts: false };

function svc(ns: string, name: string, spec: Service["spec"]): Service {
  return { metadata: { name, namespace: ns }, spec };
}

function slice(ns: string, svcName: string, eps: { ip: string; node?: string; ready?: boolean }[]): EndpointSlice {
  return {
    metadata: { name: `${svcName}-abc`, namespace: ns, labels: { "kubernetes.io/service-name": svcName } },
    addressType: "IPv4",
    ports: [{ name: "p80", port: 80, protocol: "TCP" }],
    endpoints: eps.map((e) => ({ addresses: [e.ip], conditions: { ready: e.ready ?? true }, ...(e.node ? { nodeName: e.node } : {}) })),
  };
}

function rules(services: Service[], slices: EndpointSlice[], c: IptablesConfig = cfg): IptablesRuleset {
  return iptablesRuleset(buildServicePorts(services, slices, "me"), c);
}

function chain(rs: IptablesRuleset, table: "filter" | "nat", name: string): string[] {
  const lines = rs[table].get(name);
  assert.ok(lines, `chain ${table}/${name} exists`);
  return lines;
}

describe("iptables rules", () => {
  it("a cluster IP service in upstream's shape, with upstream's chain names", () => {
    const rs = rules([svc("ns1", "svc1", { clusterIP: "172.30.0.41", ports: [{ name: "p80", port: 80 }] })], [slice("ns1", "svc1", [{ ip: "10.180.0.1" }])]);
    assert.deepEqual(chain(rs, "nat", "KUBE-SERVICES"), [
      `-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O`,
      `-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS`,
    ]);
    assert.deepEqual(chain(rs, "nat", "KUBE-SVC-XPGD46QRK7WJZT7O"), [
      `-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ`,
      `-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j KUBE-SEP-SXIVWICOYRO3J4NJ`,
    ]);
    assert.deepEqual(chain(rs, "nat", "KUBE-SEP-SXIVWICOYRO3J4NJ"), [
      `-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ`,
      `-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80`,
    ]);
    assert.deepEqual(chain(rs, "nat", "KUBE-POSTROUTING"), [
      "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
      "-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000",
      `-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully`,
    ]);
    assert.deepEqual(chain(rs, "nat", "KUBE-MARK-MASQ"), ["-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000"]);
    assert.deepEqual(chain(rs, "filter", "KUBE-SERVICES"), []);
  });

  it("spreads endpoints with statistic probabilities 1/n, 1/(n-1), ..., and pins clients with recent", () => {
    const eps = [{ ip: "10.180.0.1" }, { ip: "10.180.0.2" }, { ip: "10.180.0.3" }];
    const plain = rules([svc("ns", "s", { clusterIP: "172.30.0.9", ports: [{ name: "p80", port: 80 }] })], [slice("ns", "s", eps)], { ...cfg, clusterCIDR: undefined });
    const svcChain = [...plain.nat.keys()].find((c) => c.startsWith("KUBE-SVC-"))!;
    const lines = chain(plain, "nat", svcChain);
    assert.equal(lines.length, 3, "no masquerade rule without a cluster CIDR");
    assert.match(lines[0]!, /-m statistic --mode random --probability 0\.3333333333 -j KUBE-SEP-/);
    assert.match(lines[1]!, /-m statistic --mode random --probability 0\.5000000000 -j KUBE-SEP-/);
    assert.doesNotMatch(lines[2]!, /statistic/);

    const sticky = rules([svc("ns", "s", { clusterIP: "172.30.0.9", sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, ports: [{ name: "p80", port: 80 }] })], [slice("ns", "s", eps)]);
    const sl = chain(sticky, "nat", svcChain);
    const seps = [...sticky.nat.keys()].filter((c) => c.startsWith("KUBE-SEP-"));
    assert.equal(sl.filter((l) => l.includes("--rcheck --seconds 60 --reap")).length, 3);
    for (const sep of seps) {
      assert.ok(sl.some((l) => l.includes(`-m recent --name ${sep} --rcheck --seconds 60 --reap -j ${sep}`)));
      assert.match(chain(sticky, "nat", sep)[1]!, new RegExp(`-m recent --name ${sep} --set -m tcp -p tcp -j DNAT`));
    }
  });

  it("rejects a service without endpoints in the filter table and writes no nat chain for it", () => {
    const rs = rules([svc("ns6", "svc6", { type: "NodePort", clusterIP: "172.30.0.46", ports: [{ name: "p80", port: 80, nodePort: 30006 }] })], [slice("ns6", "svc6", [{ ip: "10.1.1.1", ready: false }])]);
    assert.deepEqual(chain(rs, "filter", "KUBE-SERVICES"), [`-A KUBE-SERVICES -m comment --comment "ns6/svc6:p80 has no endpoints" -m tcp -p tcp -d 172.30.0.46 --dport 80 -j REJECT`]);
    assert.deepEqual(chain(rs, "filter", "KUBE-EXTERNAL-SERVICES"), [
      `-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns6/svc6:p80 has no endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30006 -j REJECT`,
    ]);
    assert.deepEqual([...rs.nat.keys()].filter((c) => /-(SVC|SEP|EXT|SVL)-/.test(c)), []);
    assert.deepEqual(chain(rs, "nat", "KUBE-NODEPORTS"), []);
  });

  it("NodePort with Cluster policy masquerades; with Local policy keeps the source and uses local endpoints only", () => {
    const spec = (etp: "Cluster" | "Local"): Service["spec"] => ({ type: "NodePort", clusterIP: "172.30.0.42", externalTrafficPolicy: etp, externalIPs: ["192.168.99.22"], ports: [{ name: "p80", port: 80, nodePort: 3001 }] });
    const eps = [{ ip: "10.180.0.2", node: "me" }, { ip: "10.180.0.3", node: "other" }];
    const cluster = rules([svc("ns2", "svc2", spec("Cluster"))], [slice("ns2", "svc2", eps)]);
    assert.deepEqual(chain(cluster, "nat", "KUBE-NODEPORTS"), [`-A KUBE-NODEPORTS -m comment --comment ns2/svc2:p80 -m tcp -p tcp --dport 3001 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT`]);
    assert.deepEqual(chain(cluster, "nat", "KUBE-EXT-GNZBNJ2PO5MGZ6GT"), [
      `-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "masquerade traffic for ns2/svc2:p80 external destinations" -j KUBE-MARK-MASQ`,
      `-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -j KUBE-SVC-GNZBNJ2PO5MGZ6GT`,
    ]);
    assert.ok(chain(cluster, "nat", "KUBE-SERVICES").includes(`-A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 external IP" -m tcp -p tcp -d 192.168.99.22 --dport 80 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT`));
    const lb = rules([{ ...svc("ns2", "svc2", { ...spec("Cluster"), type: "LoadBalancer" }), status: { loadBalancer: { ingress: [{ ip: "192.0.2.80", ipMode: "VIP" }] } } }], [slice("ns2", "svc2", eps)]);
    assert.ok(chain(lb, "nat", "KUBE-SERVICES").includes(`-A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 loadbalancer IP" -m tcp -p tcp -d 192.0.2.80 --dport 80 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT`));

    const local = rules([svc("ns2", "svc2", spec("Local"))], [slice("ns2", "svc2", eps)]);
    const svl = [...local.nat.keys()].find((c) => c.startsWith("KUBE-SVL-"))!;
    assert.deepEqual(chain(local, "nat", "KUBE-EXT-GNZBNJ2PO5MGZ6GT"), [
      `-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "pod traffic for ns2/svc2:p80 external destinations" -s 10.0.0.0/8 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT`,
      `-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "masquerade LOCAL traffic for ns2/svc2:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`,
      `-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "route LOCAL traffic for ns2/svc2:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-SVC-GNZBNJ2PO5MGZ6GT`,
      `-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -j ${svl}`,
    ]);
    assert.deepEqual(
      chain(local, "nat", svl).map((l) => /--comment "([^"]+)"/.exec(l)?.[1]),
      ["ns2/svc2:p80 -> 10.180.0.2:80"],
    );
    // The cluster chain still has both, for pod and host traffic.
    assert.equal(chain(local, "nat", "KUBE-SVC-GNZBNJ2PO5MGZ6GT").filter((l) => l.includes("-j KUBE-SEP-")).length, 2);

    const noLocal = rules([svc("ns2", "svc2", spec("Local"))], [slice("ns2", "svc2", [{ ip: "10.180.0.3", node: "other" }])]);
    assert.deepEqual(chain(noLocal, "filter", "KUBE-EXTERNAL-SERVICES"), [
      `-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m tcp -p tcp -d 192.168.99.22 --dport 80 -j DROP`,
      `-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 3001 -j DROP`,
    ]);
    assert.equal(chain(noLocal, "nat", "KUBE-EXT-GNZBNJ2PO5MGZ6GT").length, 3, "short-circuit rules only, no jump to an empty local chain");
  });

  it("internalTrafficPolicy Local sends cluster IP traffic to the local chain, and drops it when no endpoint is local", () => {
    const s = svc("ns", "itp", { clusterIP: "172.30.0.50", internalTrafficPolicy: "Local", ports: [{ name: "p80", port: 80 }] });
    const rs = rules([s], [slice("ns", "itp", [{ ip: "10.0.0.5", node: "me" }, { ip: "10.0.0.6", node: "other" }])]);
    const line = chain(rs, "nat", "KUBE-SERVICES")[0]!;
    assert.match(line, /-j KUBE-SVL-/);
    assert.equal([...rs.nat.keys()].filter((c) => c.startsWith("KUBE-SEP-")).length, 1);
    const none = rules([s], [slice("ns", "itp", [{ ip: "10.0.0.6", node: "other" }])]);
    assert.deepEqual(chain(none, "filter", "KUBE-SERVICES"), [`-A KUBE-SERVICES -m comment --comment "ns/itp:p80 has no local endpoints" -m tcp -p tcp -d 172.30.0.50 --dport 80 -j DROP`]);
  });

  it("node IPs restrict NodePorts; localhost NodePorts add 127.0.0.1 and the martian filter", () => {
    const rs = rules([], [], { ...cfg, nodeIPs: ["192.0.2.1"], localhostNodePorts: true });
    assert.deepEqual(chain(rs, "nat", "KUBE-SERVICES").map((l) => /-d (\S+)/.exec(l)?.[1]), ["192.0.2.1", "127.0.0.1"]);
    assert.match(chain(rs, "filter", "KUBE-FIREWALL")[0]!, /-d 127\.0\.0\.0\/8 ! -s 127\.0\.0\.0\/8 .* -j DROP$/);
    assert.ok(iptablesJumps({ ...cfg, localhostNodePorts: true }).some((j) => j.builtin === "INPUT" && j.target === "KUBE-FIREWALL"));
  });

  it("a custom prefix names every chain, and hashes shrink so names stay within 28 characters", () => {
    const c = { ...cfg, names: new IptablesNames("KT12345678") };
    const rs = rules([svc("ns", "s", { type: "NodePort", clusterIP: "172.30.0.9", externalTrafficPolicy: "Local", ports: [{ name: "p80", port: 80, nodePort: 30001 }] })], [slice("ns", "s", [{ ip: "10.1.1.1", node: "me" }])], c);
    for (const t of ["filter", "nat"] as const) {
      for (const name of rs[t].keys()) {
        assert.ok(name.startsWith("KT12345678-"), name);
        assert.ok(name.length <= 28, name);
      }
    }
  });

  it("a restore after the first rewrites only the chains that changed, and deletes the ones that went", () => {
    const s = svc("ns1", "svc1", { clusterIP: "172.30.0.41", ports: [{ name: "p80", port: 80 }] });
    const other = svc("ns1", "other", { clusterIP: "172.30.0.40", ports: [{ name: "p80", port: 80 }] });
    const before = rules([s, other], [slice("ns1", "svc1", [{ ip: "10.180.0.1" }]), slice("ns1", "other", [{ ip: "10.180.0.9" }])]);
    const after = rules([s, other], [slice("ns1", "svc1", [{ ip: "10.180.0.2" }]), slice("ns1", "other", [{ ip: "10.180.0.9" }])]);
    const same = planRestore(before, before, { filter: before.filter.keys(), nat: before.nat.keys() });
    assert.equal(restoreScript(before, { ...same, addJumps: [], dropJumps: [] }).text, "", "nothing changed, nothing written");

    const plan = planRestore(after, before, { filter: before.filter.keys(), nat: before.nat.keys() });
    const { text, rules: written } = restoreScript(after, { ...plan, addJumps: [], dropJumps: [] });
    const lines = text.trim().split("\n");
    const newSep = [...after.nat.keys()].find((c) => c.startsWith("KUBE-SEP-") && !before.nat.has(c))!;
    assert.deepEqual(lines.filter((l) => l.startsWith(":")), [`:${newSep} - [0:0]`, ":KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]", ":KUBE-SEP-SXIVWICOYRO3J4NJ - [0:0]"]);
    assert.ok(lines.includes("-X KUBE-SEP-SXIVWICOYRO3J4NJ"));
    assert.equal(lines[0], "*nat");
    assert.equal(lines.at(-1), "COMMIT");
    assert.equal(written, 4, "two rules of the service chain, two of the new endpoint chain");
    assert.ok(!text.includes("10.180.0.9"), "the other service is not touched");
  });

  it("reads our chains and the jumps to them from iptables-save", () => {
    const save = [
      "*filter",
      ":INPUT ACCEPT [0:0]",
      ":KUBE-FORWARD - [0:0]",
      ":DOCKER - [0:0]",
      '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
      "-A FORWARD -j DOCKER",
      "-A KUBE-FORWARD -j ACCEPT",
      "COMMIT",
      "*nat",
      ":PREROUTING ACCEPT [0:0]",
      ":KUBE-SEP-AAAA - [0:0]",
      "COMMIT",
      "*mangle",
      ":KUBE-SERVICES - [0:0]",
      "COMMIT",
    ].join("\n");
    const parsed = parseSave(save, (c) => cfg.names.isOurs(c));
    assert.deepEqual(parsed.filter.chains, ["KUBE-FORWARD"]);
    assert.deepEqual(parsed.filter.jumps, [{ builtin: "FORWARD", target: "KUBE-FORWARD", spec: '-m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD' }]);
    assert.deepEqual(parsed.nat.chains, ["KUBE-SEP-AAAA"]);
  });
});
