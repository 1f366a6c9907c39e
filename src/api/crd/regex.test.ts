// Go (RE2) patterns: Go's parse errors, and matching as Go matches.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compileGoRegexp } from "./regex.js";

function matches(pattern: string, s: string): boolean {
  const c = compileGoRegexp(pattern);
  if ("error" in c) throw new Error(c.error);
  return c.re.test(s);
}

function error(pattern: string): string | undefined {
  const c = compileGoRegexp(pattern);
  return "error" in c ? c.error : undefined;
}

describe("Go regexp parse errors", () => {
  const cases: [string, string][] = [
    ["+", "error parsing regexp: missing argument to repetition operator: `+`"],
    ["a**", "error parsing regexp: invalid nested repetition operator: `**`"],
    ["a{2}{3}", "error parsing regexp: invalid nested repetition operator: `{2}{3}`"],
    ["(abc", "error parsing regexp: missing closing ): `(abc`"],
    ["abc)", "error parsing regexp: unexpected ): `abc)`"],
    ["[a-", "error parsing regexp: missing closing ]: `[a-`"],
    ["[z-a]", "error parsing regexp: invalid character class range: `z-a`"],
    ["(a)\\1", "error parsing regexp: invalid escape sequence: `\\1`"],
    ["\\e", "error parsing regexp: invalid escape sequence: `\\e`"],
    ["x{1001}", "error parsing regexp: invalid repeat count: `{1001}`"],
    ["(?=x)", "error parsing regexp: invalid or unsupported Perl syntax: `(?=`"],
    ["(?!x)", "error parsing regexp: invalid or unsupported Perl syntax: `(?!`"],
    ["a\\", "error parsing regexp: trailing backslash at end of expression: ``"],
    ["(?<=x)", "error parsing regexp: invalid named capture: `(?<=x)`"],
    ["(?P<x>a)(?P<x>b)", "error parsing regexp: duplicate capture group name: `x`"],
    ["x{2,1}", "error parsing regexp: invalid repeat count: `{2,1}`"],
    ["(a{1000}){1000}", "error parsing regexp: invalid repeat count: `{1000}`"],
    ["\\x{110000}", "error parsing regexp: invalid escape sequence: `\\x{110000`"],
    ["[[:foo:]]", "error parsing regexp: invalid character class range: `[:foo:]`"],
    ["\\p{Foo}", "error parsing regexp: invalid character class range: `\\p{Foo}`"],
    ["\\C", "error parsing regexp: invalid escape sequence: `\\C`"],
  ];
  for (const [p, want] of cases) it(p, () => assert.equal(error(p), want));

  it("accepts what RE2 accepts", () => {
    for (const p of ["(?P<1a>x)", "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "(?P<x>a)", "(?<y>b)", "a{,3}", "[]a]", "\\Q.*\\E", "(?i)abc", "a(?i:b)c", "[[:alpha:]]+", "\\pL\\p{Greek}", "\\x{263a}", "a*?", "[\\d\\s]"]) {
      assert.equal(error(p), undefined, p);
    }
  });
});

describe("matching as Go does", () => {
  it("anchors and $ at the very end only", () => {
    assert.ok(matches("^a$", "a"));
    assert.ok(!matches("^a$", "a\n"));
    assert.ok(matches("b", "abc"), "unanchored patterns match anywhere");
    assert.ok(matches("\\Aa\\z", "a"));
    assert.ok(matches("(?m)^b$", "a\nb\nc"));
  });

  it("\\s is ASCII whitespace without \\v", () => {
    assert.ok(matches("^\\s$", "\t"));
    assert.ok(!matches("^\\s$", "\v"));
    assert.ok(!matches("^\\s$", "\u00a0"));
    assert.ok(matches("^\\S$", "\v"));
  });

  it("case-insensitive flags, at the start and inside", () => {
    assert.ok(matches("(?i)^abc$", "AbC"));
    assert.ok(matches("^a(?i)bc$", "aBC"));
    assert.ok(!matches("^a(?i)bc$", "ABC"));
    assert.ok(matches("^a(?i:b)c$", "aBc"));
    assert.ok(!matches("^a(?i:b)c$", "aBC"));
    assert.ok(matches("^(?i)[a-c]+$", "AbC"));
  });

  it("literal braces, leading ] in a class, quoting, POSIX and Unicode classes", () => {
    assert.ok(matches("^a{,3}$", "a{,3}"));
    assert.ok(matches("^[]a]+$", "]a]"));
    assert.ok(matches("^\\Q.*\\E$", ".*"));
    assert.ok(!matches("^\\Q.*\\E$", "ab"));
    assert.ok(matches("^[[:alpha:]]+$", "abcXYZ"));
    assert.ok(!matches("^[[:alpha:]]+$", "ab1"));
    assert.ok(matches("^\\pL+$", "héllo"));
    assert.ok(matches("^\\p{Greek}+$", "αβγ"));
    assert.ok(matches("^\\x{263a}$", "\u263a"));
    assert.ok(matches("^.$", "😀"), ". matches one code point");
    assert.ok(!matches("^.$", "\n"));
    assert.ok(matches("(?s)^.$", "\n"));
  });

  it("escaped punctuation and class ranges", () => {
    assert.ok(matches("^\\-\\#\\:$", "-#:"));
    assert.ok(matches("^[\\w.-]+@[a-z]+\\.com$", "a.b-c@x.com"));
    assert.ok(matches("^[^/]+$", "abc"));
    assert.ok(!matches("^[^/]+$", "a/c"));
  });
});

describe("linear-time matching", () => {
  // A backtracking engine takes exponential time here (2^36 paths); RE2 is linear in the input.
  it("a nested-quantifier pattern against a long non-matching string returns", { timeout: 5000 }, () => {
    const s = "a".repeat(36) + "b";
    assert.equal(matches("^(a+)+$", s), false);
    assert.equal(matches("^(a|a)*$", s), false);
    assert.equal(matches("^(a*)*b$", "a".repeat(5000) + "c"), false);
    assert.equal(matches("^(a+)+$", "a".repeat(36)), true);
  });

  it("Go-only syntax through the RE2 engine", { timeout: 5000 }, () => {
    assert.ok(matches("(?i)^straße$", "STRASSE") === false, "simple folding only, as Go");
    assert.ok(matches("(?i)^k$", "\u212a"), "Kelvin sign folds to k, as Go");
    assert.ok(matches("^\\Qa+b\\E+$", "a+bbb"));
    assert.ok(!matches("^\\Qa+b\\E$", "aab"));
    assert.ok(matches("^[[:^digit:]]+$", "abc"));
    assert.ok(!matches("^[[:^digit:]]+$", "a1"));
    assert.ok(matches("^[[:xdigit:][:space:]]+$", "dead beef"));
    assert.ok(matches("^\\pL\\PL$", "é1"));
    assert.ok(!matches("^\\pL$", "1"));
    assert.ok(matches("^\\p{Han}+$", "漢字"));
    assert.ok(matches("^\\p{^Greek}$", "a"));
    assert.ok(matches("^(?U)a+$", "aaa"), "ungreedy still matches the whole");
    assert.ok(matches("^(?P<n>x)(?<m>y)$", "xy"));
    assert.ok(matches("^\\101\\x41\\x{41}$", "AAA"), "octal and hex escapes");
    assert.ok(matches("^a{,2}$", "a{,2}"), "a brace that starts no repeat is literal");
  });
});
