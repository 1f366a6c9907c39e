import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CidrAllocator, IpPool, blockHostBits, internalIPFor, ipToInt, parseCidr } from "./network.js";
import { SimNodesError } from "./errors.js";

void describe("CidrAllocator", () => {
  void it("hands out /24 blocks from 10.128.0.0/9 lowest first, skipping blocks in use", () => {
    const a = new CidrAllocator(8, ["10.128.1.0/24", "10.244.0.0/16", "fd00::/64", "garbage"]);
    assert.deepEqual(a.next(), { podCIDR: "10.128.0.0/24", internalIP: "172.16.0.1" });
    assert.deepEqual(a.next(), { podCIDR: "10.128.2.0/24", internalIP: "172.16.0.3" });
  });

  void it("skips a larger block that overlaps several candidates", () => {
    const a = new CidrAllocator(8, ["10.128.0.0/22"]);
    assert.equal(a.next().podCIDR, "10.128.4.0/24");
  });

  void it("gives bigger blocks for more pods, and distinct node addresses", () => {
    assert.equal(blockHostBits(110), 8);
    assert.equal(blockHostBits(253), 8);
    assert.equal(blockHostBits(254), 9);
    const a = new CidrAllocator(blockHostBits(500), []);
    const x = a.next();
    const y = a.next();
    assert.deepEqual([x.podCIDR, y.podCIDR], ["10.128.0.0/23", "10.128.2.0/23"]);
    assert.notEqual(x.internalIP, y.internalIP);
  });

  void it("runs out with a coded error", () => {
    const a = new CidrAllocator(23, []);
    a.next();
    assert.throws(() => a.next(), (e: unknown) => e instanceof SimNodesError && e.code === "NoAddressSpace");
  });

  void it("derives node addresses from the block", () => {
    assert.equal(internalIPFor(ipToInt("10.128.255.0")), "172.16.1.0");
    assert.deepEqual(parseCidr("10.1.2.3/24"), { base: ipToInt("10.1.2.0"), size: 256 });
  });
});

void describe("IpPool", () => {
  void it("allocates host addresses after the gateway, never the broadcast address, and reuses released ones", () => {
    const p = new IpPool("10.128.3.0/24");
    assert.equal(p.allocate(), "10.128.3.2");
    assert.equal(p.allocate(), "10.128.3.3");
    const got = new Set<string>();
    for (;;) {
      const ip = p.allocate();
      if (ip === undefined) break;
      got.add(ip);
    }
    assert.equal(got.size + 2, 253);
    assert.ok(!got.has("10.128.3.255") && !got.has("10.128.3.1") && !got.has("10.128.3.0"));
    p.release("10.128.3.77");
    assert.equal(p.allocate(), "10.128.3.77");
  });

  void it("claims addresses of an earlier run and refuses ones outside the block", () => {
    const p = new IpPool("10.128.3.0/24");
    assert.equal(p.claim("10.128.3.2"), true);
    assert.equal(p.claim("10.9.9.9"), false);
    assert.equal(p.allocate(), "10.128.3.3");
    assert.equal(p.inUse, 2);
  });
});
