import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { AllocatorError, PortRange, ServiceCIDR, canonicalIP, formatIP, parseIP, parseServiceCIDRs } from "./ranges.js";

void describe("ServiceCIDR", () => {
  void it("masks host bits and skips the network and broadcast addresses of IPv4", () => {
    const c = ServiceCIDR.parse("10.43.5.5/16");
    assert.equal(c.toString(), "10.43.0.0/16");
    assert.equal(formatIP(c.first, "IPv4"), "10.43.0.1");
    assert.equal(formatIP(c.last, "IPv4"), "10.43.255.254");
    assert.equal(c.size, 65534n);
    assert.equal(c.indexedIP(1), "10.43.0.1");
    assert.equal(c.indexedIP(10), "10.43.0.10");
  });

  void it("sizes the static band as upstream: min(max(16, size/16), 256), none for 16 addresses or fewer", () => {
    assert.equal(ServiceCIDR.parse("10.0.0.0/28").staticBand, 0n);
    assert.equal(ServiceCIDR.parse("10.0.0.0/27").staticBand, 16n);
    assert.equal(ServiceCIDR.parse("10.0.0.0/24").staticBand, 16n);
    assert.equal(ServiceCIDR.parse("10.0.0.0/21").staticBand, 128n);
    assert.equal(ServiceCIDR.parse("10.43.0.0/16").staticBand, 256n);
    assert.equal(ServiceCIDR.parse("fd00:10:96::/112").staticBand, 256n);
  });

  void it("uses the last address of an IPv6 range", () => {
    const c = ServiceCIDR.parse("fd00:10:96::/112");
    assert.equal(c.family, "IPv6");
    assert.equal(formatIP(c.first, "IPv6"), "fd00:10:96::1");
    assert.equal(formatIP(c.last, "IPv6"), "fd00:10:96::ffff");
  });

  void it("refuses what is not a usable range, with a stable code", () => {
    for (const bad of ["10.43.0.0", "10.43.0.0/31", "fd00::/48", "nonsense/8"]) {
      assert.throws(() => ServiceCIDR.parse(bad), (e: unknown) => e instanceof AllocatorError && e.code === "InvalidRange", bad);
    }
    assert.deepEqual(parseServiceCIDRs("10.43.0.0/16, fd00:43::/112").map((c) => c.family), ["IPv4", "IPv6"]);
    assert.throws(() => parseServiceCIDRs("10.43.0.0/16,10.44.0.0/16"), /different IP families/);
  });
});

void describe("addresses", () => {
  void it("print as Go prints them (RFC 5952 for IPv6)", () => {
    const v6 = (s: string): string => formatIP(parseIP(s)!.value, "IPv6");
    assert.equal(v6("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");
    assert.equal(v6("2001:0db8:0000:0000:0000:0000:0000:0001"), "2001:db8::1");
    assert.equal(v6("0:0:0:0:0:0:0:1"), "::1");
    assert.equal(v6("::"), "::");
    assert.equal(v6("fe80:0:0:0:0:0:0:0"), "fe80::");
    assert.equal(v6("1:0:1:0:1:0:1:0"), "1:0:1:0:1:0:1:0");
    assert.equal(canonicalIP("::ffff:10.43.0.7"), "10.43.0.7");
    assert.equal(canonicalIP("10.43.0.x"), undefined);
  });
});

void describe("PortRange", () => {
  void it("parses base-max and base+offset, with upstream's band of min(max(16, size/32), 128)", () => {
    const r = PortRange.parse("30000-32767");
    assert.equal(r.size, 2768);
    assert.equal(r.staticBand, 86);
    assert.equal(r.toString(), "30000-32767");
    assert.equal(PortRange.parse("30000+2767").toString(), "30000-32767");
    assert.equal(PortRange.parse("30000-30015").staticBand, 0);
    assert.equal(PortRange.parse("20000-29999").staticBand, 128);
    assert.ok(r.contains(30000) && r.contains(32767) && !r.contains(32768) && !r.contains(29999));
    for (const bad of ["x", "32767-30000", "0-10", "1-70000"]) assert.throws(() => PortRange.parse(bad), (e: unknown) => e instanceof AllocatorError && e.code === "InvalidRange", bad);
  });
});
