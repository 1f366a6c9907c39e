import { describe, it } from "node:test";
import assert from "node:assert/strict";
import dnsPacket from "dns-packet";
import { canonicalName, dashedIP, inZone, ipFromDashed, ipv6Bytes, reverseName } from "./names.js";
import { MalformedMessage, parseQuery, RCODE, TYPE, udpLimit, WireWriter, type ResourceRecord } from "./wire.js";

const a = (name: string, ip: string): ResourceRecord => ({ name, ttl: 5, data: { type: TYPE.A, addr: Buffer.from(ip.split(".").map(Number)) } });

void describe("names", () => {
  void it("keys names in lower case without the root dot, and knows zone membership", () => {
    assert.equal(canonicalName("Web.Default.SVC.cluster.local."), "web.default.svc.cluster.local");
    assert.equal(inZone("a.cluster.local", "cluster.local"), true);
    assert.equal(inZone("cluster.local", "cluster.local"), true);
    assert.equal(inZone("xcluster.local", "cluster.local"), false);
    assert.equal(inZone("local", "cluster.local"), false);
  });

  void it("reverses IPv4 and IPv6 addresses", () => {
    assert.equal(reverseName("10.43.0.1"), "1.0.43.10.in-addr.arpa");
    assert.equal(reverseName("fd00::1"), `1.${"0.".repeat(29)}d.f.ip6.arpa`);
    assert.equal(reverseName("nope"), undefined);
    assert.deepEqual([...ipv6Bytes("::ffff:1.2.3.4")], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]);
    assert.deepEqual([...ipv6Bytes("2001:db8::")], [0x20, 0x01, 0x0d, 0xb8, ...Array<number>(12).fill(0)]);
  });

  void it("turns pod labels into addresses and back", () => {
    assert.equal(ipFromDashed("10-244-1-5"), "10.244.1.5");
    assert.equal(ipFromDashed("fd00--5"), "fd00::5");
    assert.equal(ipFromDashed("10-244-1-500"), undefined);
    assert.equal(ipFromDashed("web"), undefined);
    assert.equal(dashedIP("10.1.2.3"), "10-1-2-3");
  });
});

void describe("wire", () => {
  void it("reads the question and the OPT record of a query", () => {
    const q = dnsPacket.encode({ type: "query", id: 4242, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: "SRV", name: "_http._tcp.Web.default.svc.cluster.local" }], additionals: [{ type: "OPT", name: ".", udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] });
    const p = parseQuery(q);
    assert.equal(p.id, 4242);
    assert.equal(p.recursionDesired, true);
    assert.deepEqual(p.question, { name: "_http._tcp.Web.default.svc.cluster.local", type: TYPE.SRV, class: 1 });
    assert.deepEqual(p.edns, { udpSize: 4096, version: 0 });
  });

  void it("refuses what is not a query", () => {
    const isMalformed = (e: unknown): boolean => e instanceof MalformedMessage;
    assert.throws(() => parseQuery(Buffer.from([1, 2, 3])), isMalformed);
    const response = dnsPacket.encode({ type: "response", id: 1, questions: [{ type: "A", name: "x" }] });
    assert.throws(() => parseQuery(response), isMalformed);
    const q = dnsPacket.encode({ type: "query", id: 1, questions: [{ type: "A", name: "example.com" }] });
    assert.throws(() => parseQuery(q.subarray(0, q.length - 3)), isMalformed);
    // a label length that runs past the end
    const bad = Buffer.from(q);
    bad[12] = 60;
    assert.throws(() => parseQuery(bad), isMalformed);
  });

  void it("writes answers dns-packet reads back, compressing names", () => {
    const w = new WireWriter();
    const name = "Web.default.svc.cluster.local";
    const msg = w.encode({
      id: 7,
      opcode: 0,
      rcode: RCODE.NOERROR,
      authoritative: true,
      recursionDesired: true,
      question: { name, type: TYPE.A, class: 1 },
      answers: [a(name, "10.0.0.1"), a(name, "10.0.0.2")],
      additionals: [{ name: "_http._tcp.web.default.svc.cluster.local", ttl: 5, data: { type: TYPE.SRV, priority: 0, weight: 100, port: 80, target: "web.default.svc.cluster.local" } }],
      authorities: [{ name: "cluster.local", ttl: 5, data: { type: TYPE.SOA, mname: "ns.dns.cluster.local", rname: "hostmaster.cluster.local", serial: 9, refresh: 7200, retry: 1800, expire: 86400, minimum: 5 } }],
      edns: { udpSize: 1232 },
    });
    const d = dnsPacket.decode(msg);
    assert.equal(d.id, 7);
    assert.equal(d.flag_aa, true);
    assert.equal(d.flag_qr, true);
    assert.equal(d.flag_rd, true);
    assert.equal(d.flag_ra, true);
    assert.equal(d.questions?.[0]?.name, name);
    assert.deepEqual(d.answers?.map((x) => [x.name, x.type, (x as dnsPacket.StringAnswer).data]), [[name, "A", "10.0.0.1"], [name, "A", "10.0.0.2"]]);
    assert.deepEqual((d.authorities?.[0] as dnsPacket.SoaAnswer | undefined)?.data, { mname: "ns.dns.cluster.local", rname: "hostmaster.cluster.local", serial: 9, refresh: 7200, retry: 1800, expire: 86400, minimum: 5 });
    assert.deepEqual(d.additionals?.map((x) => x.type), ["SRV", "OPT"]);
    // the second answer's owner is a 2-byte pointer: far smaller than dns-packet's own encoding
    assert.ok(msg.length < dnsPacket.encode(d).length - 40, `${msg.length}`);
  });

  void it("cuts answers that do not fit with TC set, and drops additionals without it", () => {
    const w = new WireWriter();
    const name = "many.default.svc.cluster.local";
    const answers = Array.from({ length: 100 }, (_, i) => a(name, `10.0.${i >> 8}.${i & 255}`));
    const small = dnsPacket.decode(w.encode({ id: 1, opcode: 0, rcode: 0, authoritative: true, recursionDesired: true, question: { name, type: 1, class: 1 }, answers }, udpLimit(undefined)));
    assert.equal(small.flag_tc, true);
    assert.ok((small.answers?.length ?? 0) > 20 && (small.answers?.length ?? 0) < 100, `${small.answers?.length}`);
    const big = dnsPacket.decode(w.encode({ id: 1, opcode: 0, rcode: 0, authoritative: true, recursionDesired: true, question: { name, type: 1, class: 1 }, answers }, 65535));
    assert.equal(big.flag_tc, false);
    assert.equal(big.answers?.length, 100);
    const extra = dnsPacket.decode(w.encode({ id: 1, opcode: 0, rcode: 0, authoritative: true, recursionDesired: true, question: { name, type: 1, class: 1 }, answers: answers.slice(0, 2), additionals: answers }, 512));
    assert.equal(extra.flag_tc, false);
    assert.equal(extra.answers?.length, 2);
    assert.ok((extra.additionals?.length ?? 0) < 100);
  });
});
