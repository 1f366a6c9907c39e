// Kubernetes' IP and CIDR libraries, with upstream's documented examples.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { celError, celEval } from "./testing.js";

describe("CEL ip library", () => {
  it("ip and isIP", () => {
    assert.equal(celEval("string(ip('127.0.0.1'))"), "127.0.0.1");
    assert.equal(celEval("string(ip('2001:DB8::0:0:ABCD'))"), "2001:db8::abcd");
    assert.equal(
      celError("ip('127.0.0.256')"),
      'IP Address "127.0.0.256" parse error during conversion from string: ParseAddr("127.0.0.256"): IPv4 field has value >255',
    );
    assert.match(celError("ip(':::1')"), /^IP Address ":::1" parse error during conversion from string: ParseAddr\(":::1"\): /);
    assert.match(celError("ip('127.0.0.01')"), /IPv4 field has octet with leading zero/);
    assert.equal(celError("ip('fe80::1%eth0')"), 'IP address "fe80::1%eth0" with zone value is not allowed');
    assert.equal(celError("ip('::ffff:1.2.3.4')"), 'IPv4-mapped IPv6 address "::ffff:1.2.3.4" is not allowed');
    assert.equal(celEval("isIP('127.0.0.1')"), true);
    assert.equal(celEval("isIP('::1')"), true);
    assert.equal(celEval("isIP('127.0.0.256')"), false);
    assert.equal(celEval("isIP(':::1')"), false);
    assert.equal(celEval("isIP('::ffff:1.2.3.4')"), false);
  });
  it("ip.isCanonical", () => {
    assert.equal(celEval("ip.isCanonical('127.0.0.1')"), true);
    assert.equal(celEval("ip.isCanonical('2001:db8::abcd')"), true);
    assert.equal(celEval("ip.isCanonical('2001:DB8::ABCD')"), false);
    assert.equal(celEval("ip.isCanonical('2001:db8::0:0:0:abcd')"), false);
  });
  it("family and address classes", () => {
    const cases: [string, unknown][] = [
      ["ip('127.0.0.1').family()", 4n],
      ["ip('::1').family()", 6n],
      ["ip('127.0.0.1').family() == 4", true],
      ["ip('0.0.0.0').isUnspecified()", true],
      ["ip('127.0.0.1').isUnspecified()", false],
      ["ip('::').isUnspecified()", true],
      ["ip('::1').isUnspecified()", false],
      ["ip('127.0.0.1').isLoopback()", true],
      ["ip('192.168.0.1').isLoopback()", false],
      ["ip('::1').isLoopback()", true],
      ["ip('2001:db8::abcd').isLoopback()", false],
      ["ip('224.0.0.1').isLinkLocalMulticast()", true],
      ["ip('224.0.1.1').isLinkLocalMulticast()", false],
      ["ip('ff02::1').isLinkLocalMulticast()", true],
      ["ip('fd00::1').isLinkLocalMulticast()", false],
      ["ip('169.254.169.254').isLinkLocalUnicast()", true],
      ["ip('192.168.0.1').isLinkLocalUnicast()", false],
      ["ip('fe80::1').isLinkLocalUnicast()", true],
      ["ip('fd80::1').isLinkLocalUnicast()", false],
      ["ip('192.168.0.1').isGlobalUnicast()", true],
      ["ip('255.255.255.255').isGlobalUnicast()", false],
      ["ip('2001:db8::abcd').isGlobalUnicast()", true],
      ["ip('ff00::1').isGlobalUnicast()", false],
      ["ip('::1') == ip('0:0::1')", true],
    ];
    for (const [expr, want] of cases) assert.equal(celEval(expr), want, expr);
  });
});

describe("CEL cidr library", () => {
  it("cidr and isCIDR", () => {
    assert.equal(celEval("string(cidr('192.168.0.0/16'))"), "192.168.0.0/16");
    assert.equal(celEval("string(cidr('::1/128'))"), "::1/128");
    assert.match(celError("cidr('192.168.0.0/33')"), /netip.ParsePrefix\("192.168.0.0\/33"\): prefix length out of range$/);
    assert.match(celError("cidr('::1/129')"), /prefix length out of range$/);
    assert.match(celError("cidr('192.168.0.0')"), /no '\/'$/);
    assert.equal(celEval("isCIDR('192.168.0.0/16')"), true);
    assert.equal(celEval("isCIDR('::1/128')"), true);
    assert.equal(celEval("isCIDR('192.168.0.0/33')"), false);
    assert.equal(celEval("isCIDR('::1/129')"), false);
    assert.equal(celEval("isCIDR('192.168.0.0/016')"), false);
  });
  it("containsIP, containsCIDR, ip, masked, prefixLength", () => {
    const cases: [string, unknown][] = [
      ["cidr('192.168.0.0/24').containsIP(ip('192.168.0.1'))", true],
      ["cidr('192.168.0.0/24').containsIP(ip('192.168.1.1'))", false],
      ["cidr('192.168.0.0/24').containsIP('192.168.0.1')", true],
      ["cidr('192.168.0.0/24').containsIP('192.168.1.1')", false],
      ["cidr('192.168.0.0/24').containsIP('::1')", false],
      ["cidr('192.168.0.0/16').containsCIDR(cidr('192.168.10.0/24'))", true],
      ["cidr('192.168.1.0/24').containsCIDR(cidr('192.168.2.0/24'))", false],
      ["cidr('192.168.0.0/16').containsCIDR('192.168.10.0/24')", true],
      ["cidr('192.168.1.0/24').containsCIDR('192.168.2.0/24')", false],
      ["cidr('192.168.10.0/24').containsCIDR('192.168.0.0/16')", false],
      ["cidr('192.168.0.1/24').ip() == ip('192.168.0.1')", true],
      ["cidr('192.168.0.1/24').ip().family()", 4n],
      ["cidr('::1/128').ip() == ip('::1')", true],
      ["cidr('::1/128').ip().family()", 6n],
      ["cidr('192.168.0.0/24').masked() == cidr('192.168.0.0/24')", true],
      ["cidr('192.168.0.1/24').masked() == cidr('192.168.0.0/24')", true],
      ["cidr('192.168.0.0/24') == cidr('192.168.0.0/24').masked()", true],
      ["cidr('192.168.0.1/24') == cidr('192.168.0.1/24').masked()", false],
      ["cidr('192.168.0.0/16').prefixLength()", 16n],
      ["cidr('::1/128').prefixLength()", 128n],
      ["string(cidr('2001:db8::1/32').masked())", "2001:db8::/32"],
    ];
    for (const [expr, want] of cases) assert.equal(celEval(expr), want, expr);
  });
});
