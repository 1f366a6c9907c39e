// Kubernetes' URL library, with upstream's documented examples.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { celError, celEval } from "./testing.js";

describe("CEL urls library", () => {
  it("url and isURL", () => {
    assert.equal(celEval("isURL('https://user:pass@example.com:80/path?query=val#fragment')"), true);
    assert.equal(celEval("isURL('/absolute-path')"), true);
    assert.equal(celEval("isURL('https://a:b:c/')"), false);
    assert.equal(celEval("isURL('../relative-path')"), false);
    assert.equal(celEval("isURL('')"), false);
    assert.equal(celEval("isURL('http://exa mple.com/')"), false);
    assert.equal(celEval("url('https://user:pass@example.com:80/path?query=val#fragment').getHost()"), "example.com:80");
    assert.equal(
      celError("url('https://a:b:c/')"),
      'URL parse error during conversion from string: parse "https://a:b:c/": invalid port ":c" after host',
    );
    assert.equal(
      celError("url('../relative-path')"),
      'URL parse error during conversion from string: parse "../relative-path": invalid URI for request',
    );
    assert.equal(celError("url('/a%zz')"), 'URL parse error during conversion from string: parse "/a%zz": invalid URL escape "%zz"');
  });
  it("components", () => {
    const cases: [string, unknown][] = [
      ["url('/path').getScheme()", ""],
      ["url('https://example.com/').getScheme()", "https"],
      ["url('https://example.com:80/').getHost()", "example.com:80"],
      ["url('https://example.com/').getHost()", "example.com"],
      ["url('https://[::1]:80/').getHost()", "[::1]:80"],
      ["url('https://[::1]/').getHost()", "[::1]"],
      ["url('/path').getHost()", ""],
      ["url('https://example.com:80/').getHostname()", "example.com"],
      ["url('https://127.0.0.1:80/').getHostname()", "127.0.0.1"],
      ["url('https://[::1]:80/').getHostname()", "::1"],
      ["url('/path').getHostname()", ""],
      ["url('https://example.com:80/').getPort()", "80"],
      ["url('https://example.com/').getPort()", ""],
      ["url('/path').getPort()", ""],
      ["url('https://example.com/path').getEscapedPath()", "/path"],
      ["url('https://example.com/path with spaces/').getEscapedPath()", "/path%20with%20spaces/"],
      ["url('https://example.com').getEscapedPath()", ""],
      ["url('https://example.com/a%2Fb').getEscapedPath()", "/a%2Fb"],
      ["url('https://example.com/path#frag').getEscapedPath()", "/path"],
    ];
    for (const [expr, want] of cases) assert.equal(celEval(expr), want, expr);
  });
  it("getQuery", () => {
    assert.deepEqual(
      celEval("url('https://example.com/path?k1=a&k2=b&k2=c').getQuery()"),
      new Map([
        ["k1", ["a"]],
        ["k2", ["b", "c"]],
      ]),
    );
    assert.deepEqual(
      celEval("url('https://example.com/path?key with spaces=value with spaces').getQuery()"),
      new Map([["key with spaces", ["value with spaces"]]]),
    );
    assert.deepEqual(celEval("url('https://example.com/path?').getQuery()"), new Map());
    assert.deepEqual(celEval("url('https://example.com/path').getQuery()"), new Map());
    assert.equal(celEval("url('https://example.com/?a=1&a=2').getQuery()['a'][1]"), "2");
    assert.equal(celEval("url('https://example.com/?x=1#frag').getQuery()['x'][0]"), "1");
  });
});
