import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CidrError, CidrSet, formatCIDR, formatIP, parseCIDR, parseIP } from "./cidr.js";

void describe("CIDR parsing", () => {
  void it("reads IPv4 and IPv6 and clears host bits", () => {
    assert.equal(formatCIDR(parseCIDR("10.42.3.7/16")), "10.42.0.0/16");
    assert.equal(formatCIDR(parseCIDR("fd00:42::1/56")), "fd00:42::/56");
    assert.equal(formatCIDR(parseCIDR("::ffff:10.0.0.1/128")), "::ffff:a00:1/128");
    // As upstream's ParseCIDRSloppy (kube-controller-manager reads --cluster-cidr so), leading zeros are decimal.
    assert.equal(formatCIDR(parseCIDR("010.1.1.1/8")), "10.0.0.0/8");
    for (const bad of ["10.42.0.0", "10.42.0.256/16", "10.42.0.0/33", "fd00:::1/64", "1:2:3:4:5:6:7:8:9/64", ""]) {
      assert.throws(() => parseCIDR(bad), (e: unknown) => e instanceof CidrError && e.code === "InvalidCIDR", bad);
    }
  });

  void it("prints IPv6 as RFC 5952 does", () => {
    const v = (s: string): bigint => parseIP(s)!.value;
    assert.equal(formatIP(6, v("2001:0db8:0000:0000:0000:0000:0000:0001")), "2001:db8::1");
    assert.equal(formatIP(6, v("2001:db8:0:1:0:0:0:1")), "2001:db8:0:1::1");
    assert.equal(formatIP(6, v("2001:db8:0:0:1:0:0:1")), "2001:db8::1:0:0:1");
    assert.equal(formatIP(6, v("2001:db8:1:1:1:1:0:1")), "2001:db8:1:1:1:1:0:1");
    assert.equal(formatIP(6, 0n), "::");
  });
});

void describe("CidrSet", () => {
  void it("hands out /24s of 10.42.0.0/16 in order, never the same twice, and says when none is left", () => {
    const s = new CidrSet("10.42.0.0/16", 24);
    assert.equal(s.capacity, 256);
    assert.equal(s.allocateNext(), "10.42.0.0/24");
    assert.equal(s.allocateNext(), "10.42.1.0/24");
    const seen = new Set(["10.42.0.0/24", "10.42.1.0/24"]);
    for (let i = 2; i < 256; i++) seen.add(s.allocateNext());
    assert.equal(seen.size, 256);
    assert.throws(() => s.allocateNext(), (e: unknown) => e instanceof CidrError && e.code === "CIDRNotAvailable");
  });

  void it("skips occupied blocks, continues after the last one handed out and reuses released blocks only after wrapping", () => {
    const s = new CidrSet("10.42.0.0/22", 24);
    s.occupy("10.42.0.0/24");
    assert.equal(s.allocateNext(), "10.42.1.0/24");
    s.release("10.42.0.0/24");
    assert.equal(s.allocateNext(), "10.42.2.0/24");
    assert.equal(s.allocateNext(), "10.42.3.0/24");
    assert.equal(s.allocateNext(), "10.42.0.0/24");
    assert.throws(() => s.allocateNext(), /no free node CIDR/);
  });

  void it("occupies every block a wider CIDR covers, and the block a narrower one sits in; counts overlapping holders", () => {
    const s = new CidrSet("10.42.0.0/22", 24);
    s.occupy("10.42.0.0/23");
    assert.equal(s.allocated, 2);
    s.occupy("10.42.2.128/25");
    assert.equal(s.allocated, 3);
    assert.equal(s.allocateNext(), "10.42.3.0/24");
    s.occupy("10.42.3.0/24");
    s.release("10.42.3.0/24");
    assert.ok(s.isUsed("10.42.3.0/24"), "still held by the other holder");
    assert.throws(() => s.occupy("10.43.0.0/24"), (e: unknown) => e instanceof CidrError && e.code === "OutOfRange");
    assert.equal(s.contains("10.43.0.0/24"), false);
    assert.equal(s.contains("fd00::/64"), false);
  });

  void it("does IPv6 and refuses masks that do not fit", () => {
    const s = new CidrSet("fd00:42::/56", 64);
    assert.equal(s.capacity, 256);
    assert.equal(s.allocateNext(), "fd00:42::/64");
    assert.equal(s.allocateNext(), "fd00:42:0:1::/64");
    assert.throws(() => new CidrSet("10.42.0.0/16", 8), (e: unknown) => e instanceof CidrError && e.code === "MaskTooSmall");
    assert.throws(() => new CidrSet("10.0.0.0/8", 25), (e: unknown) => e instanceof CidrError && e.code === "SubnetTooBig");
    assert.throws(() => new CidrSet("fd00::/48", 129), (e: unknown) => e instanceof CidrError && e.code === "InvalidCIDR");
  });
});
