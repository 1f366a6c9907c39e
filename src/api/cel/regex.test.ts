// Regex functions of Kubernetes' CEL environment: RE2 semantics in linear time.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { kubernetesCelEnvironment } from "./environment.js";
import { celCheckError, celError, celEval } from "./testing.js";

describe("CEL matches uses RE2", () => {
  it("does not backtrack on a catastrophic pattern", () => {
    const start = performance.now();
    assert.equal(celEval("'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!'.matches('^(a+)+$')"), false);
    assert.equal(celEval("s.matches('^(a+)+$')", { s: "a".repeat(5000) + "!" }), false);
    assert.ok(performance.now() - start < 1000, "matching took too long");
  });
  it("matches anywhere in the string, as Go's MatchString", () => {
    assert.equal(celEval("'hubba'.matches('ubb')"), true);
    assert.equal(celEval("'hubba'.matches('^ubb')"), false);
    assert.equal(celEval("matches('hubba', 'b+a$')"), true);
    assert.equal(celEval("self.matches('^[a-z]+$')", { self: "abc" }), true);
  });
  it("uses Go syntax, not ECMAScript's", () => {
    assert.equal(celEval("'abc'.matches('(?i)ABC')"), true);
    assert.equal(celEval("'ab'.matches('\\\\Aab\\\\z')"), true);
    assert.equal(celError("'a'.matches('(?<=a)b')"), "error parsing regexp: invalid named capture: `(?<=a)b`");
  });
  it("reports Go's parse error", () => {
    assert.equal(celError("'a'.matches('(a')"), "error parsing regexp: missing closing ): `(a`");
  });
  it("type-checks its receiver and argument", () => {
    assert.match(celCheckError("1.matches('a')") ?? "", /no matching overload/);
    assert.match(celCheckError("'a'.matches(1)") ?? "", /no matching overload/);
    assert.equal(celCheckError("'a'.matches('a') || x.matches(y)"), undefined);
  });
});

describe("CEL regex library: find, findAll", () => {
  it("find returns the first match or ''", () => {
    assert.equal(celEval("'abc 123'.find('[0-9]+')"), "123");
    assert.equal(celEval("'abc 123'.find('xyz')"), "");
  });
  it("findAll returns all matches, at most the limit", () => {
    assert.deepEqual(celEval("'123 abc 456'.findAll('[0-9]+')"), ["123", "456"]);
    assert.deepEqual(celEval("'123 abc 456'.findAll('[0-9]+', 1)"), ["123"]);
    assert.deepEqual(celEval("'123 abc 456'.findAll('[0-9]+', -1)"), ["123", "456"]);
    assert.deepEqual(celEval("'123 abc 456'.findAll('xyz')"), []);
  });
  it("findAll keeps Go's empty matches", () => {
    // Go: regexp.MustCompile(`[0-9]*`).FindAllString("123 abc 456", -1)
    assert.deepEqual(celEval("'123 abc 456'.findAll('[0-9]*')"), ["123", "", "", "", "", "456"]);
    assert.deepEqual(celEval("'abc'.findAll('')"), ["", "", "", ""]);
  });
  it("an invalid pattern is an error", () => {
    assert.equal(celError("'a'.find('[')"), "Illegal regex: error parsing regexp: missing closing ]: `[`");
    assert.equal(celError("'a'.findAll('[')"), "Illegal regex: error parsing regexp: missing closing ]: `[`");
  });
});

describe("CEL regex functions in context", () => {
  it("work inside macros and on variables of a cloned environment", () => {
    const env = kubernetesCelEnvironment().clone();
    env.registerVariable("self", "dyn");
    assert.equal(env.evaluate("self.all(x, x.matches('^[a-z]+$'))", { self: ["abc", "def"] }), true);
    assert.equal(env.evaluate("self.exists(x, x.matches('^(a+)+$'))", { self: ["a".repeat(50) + "!"] }), false);
    assert.equal(env.evaluate("cel.bind(p, '^x', self.filter(s, s.matches(p)))", { self: ["xa", "b"] }).length, 1);
    assert.equal(env.evaluate("self.map(s, s.find('[0-9]+'))[0]", { self: ["ab12"] }), "12");
  });
});
