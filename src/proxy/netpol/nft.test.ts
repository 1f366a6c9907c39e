import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { commandRunner } from "../exec.js";
import { ipToNumber, type NodeFilters } from "./model.js";
import { renderTable } from "./nft.js";

const range = (a: string, b = a) => ({ first: ipToNumber(a), last: ipToNumber(b) });

const filters: NodeFilters = {
  ingress: [
    { ip: "10.42.0.10", pod: "default/web-1", policies: ["default/p"], matches: [{ source: "default/p ingress[0]", peers: [range("10.42.0.11"), range("10.42.1.0", "10.42.1.255")], ports: [{ protocol: "TCP", first: 80, last: 80 }, { protocol: "TCP", first: 9000, last: 9010 }, { protocol: "UDP" }] }] },
    { ip: "10.42.0.12", pod: "default/web-2", policies: ["default/p"], matches: [{ source: "default/p ingress[0]", peers: [range("10.42.0.11"), range("10.42.1.0", "10.42.1.255")], ports: [{ protocol: "TCP", first: 80, last: 80 }, { protocol: "TCP", first: 9000, last: 9010 }, { protocol: "UDP" }] }] },
    { ip: "10.42.0.13", pod: "default/db", policies: ["default/deny"], matches: [] },
  ],
  egress: [
    {
      ip: "10.42.0.11",
      pod: "default/client",
      policies: ["default/out"],
      matches: [
        { source: "default/out egress[0]", endpoints: [{ ip: "10.42.0.10", protocol: "TCP", port: 8080 }, { ip: "10.42.0.12", protocol: "UDP", port: 53 }] },
        { source: "default/out egress[1]", peers: [range("10.42.0.11"), range("10.42.1.0", "10.42.1.255")] },
        { source: `${"x".repeat(200)} "quoted"`, ports: [{ protocol: "SCTP", first: 5000, last: 5000 }] },
        { source: "default/out egress[3]" },
      ],
    },
  ],
};

describe("renderTable", () => {
  const { script, rules } = renderTable("k8ts-netpol", filters);

  it("replaces the table in one transaction", () => {
    assert.ok(script.startsWith("table ip k8ts-netpol { }\ndelete table ip k8ts-netpol\ntable ip k8ts-netpol {\n"), script);
  });

  it("writes a set of peers and a chain once, however many rules and pods use them", () => {
    assert.equal(script.match(/set peers-/g)?.length, 1, script);
    assert.match(script, /set peers-0 \{\n {4}type ipv4_addr\n {4}flags interval\n {4}elements = \{ 10\.42\.0\.11, 10\.42\.1\.0-10\.42\.1\.255 \}\n {2}\}/);
    assert.match(script, /elements = \{ 10\.42\.0\.10 : jump ingress-0, 10\.42\.0\.12 : jump ingress-0, 10\.42\.0\.13 : jump ingress-1 \}/);
    assert.match(script, /chain ingress-0 \{\n {4}ip saddr @peers-0 meta l4proto tcp th dport \{ 80, 9000-9010 \} accept comment "default\/p ingress\[0\]"\n {4}ip saddr @peers-0 meta l4proto udp accept comment "default\/p ingress\[0\]"\n {4}drop\n {2}\}/);
    assert.match(script, /chain ingress-1 \{\n {4}drop\n {2}\}/, "an isolated pod without matches drops everything");
  });

  it("egress: returns on a match (the destination's ingress still decides), named ports as address . protocol . port", () => {
    assert.match(script, /set endpoints-1 \{\n {4}type ipv4_addr \. inet_proto \. inet_service\n {4}elements = \{ 10\.42\.0\.10 \. tcp \. 8080, 10\.42\.0\.12 \. udp \. 53 \}/);
    assert.match(script, /ip daddr \. meta l4proto \. th dport @endpoints-1 return comment "default\/out egress\[0\]"/);
    assert.match(script, /ip daddr @peers-0 return comment "default\/out egress\[1\]"/);
    assert.match(script, /meta l4proto sctp th dport 5000 return comment "x{117}\.\.\."/, "comments fit nftables' 128 bytes, without quotes");
    assert.match(script, /\n {4}return comment "default\/out egress\[3\]"\n {4}drop\n/);
  });

  it("hooks forward (egress, then ingress) and input (egress only), replies first", () => {
    assert.match(script, /chain forward \{\n {4}type filter hook forward priority filter; policy accept;\n {4}ct state established,related accept\n {4}ip saddr vmap @egress\n {4}ip daddr vmap @ingress\n {2}\}/);
    assert.match(script, /chain input \{\n {4}type filter hook input priority filter; policy accept;\n {4}ct state established,related accept\n {4}ip saddr vmap @egress\n {2}\}/);
    assert.ok(rules > 15, String(rules));
  });

  it("empty filters give empty maps", () => {
    const empty = renderTable("t", { ingress: [], egress: [] }).script;
    assert.match(empty, /map ingress \{\n {4}type ipv4_addr : verdict\n {2}\}/);
    assert.doesNotMatch(empty, /chain (ingress|egress)-/);
  });

  const canCheck = process.getuid?.() === 0 && ["/usr/sbin", "/sbin", "/usr/bin"].some((d) => existsSync(`${d}/nft`));
  it("nft accepts the script (nft -c: checked, not applied)", { skip: canCheck ? false : "needs root and nft" }, async () => {
    await commandRunner(undefined)(["nft", "-c", "-f", "-"], script);
    await commandRunner(undefined)(["nft", "-c", "-f", "-"], renderTable("t", { ingress: [], egress: [] }).script);
  });
});
