// cel-go's strings extension (version 2, as Kubernetes enables it), with its documented examples.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { celCheckError, celError, celEval } from "./testing.js";

describe("CEL strings extension", () => {
  it("charAt", () => {
    assert.equal(celEval("'hello'.charAt(4)"), "o");
    assert.equal(celEval("'hello'.charAt(5)"), "");
    assert.equal(celEval("'a😀b'.charAt(1)"), "😀");
    assert.equal(celError("'hello'.charAt(-1)"), "index out of range: -1");
  });
  it("indexOf", () => {
    assert.equal(celEval("'hello mellow'.indexOf('')"), 0n);
    assert.equal(celEval("'hello mellow'.indexOf('ello')"), 1n);
    assert.equal(celEval("'hello mellow'.indexOf('jello')"), -1n);
    assert.equal(celEval("'hello mellow'.indexOf('', 2)"), 2n);
    assert.equal(celEval("'hello mellow'.indexOf('ello', 2)"), 7n);
    assert.equal(celEval("'😀ab'.indexOf('b')"), 2n);
    assert.equal(celError("'hello mellow'.indexOf('ello', 20)"), "index out of range: 20");
  });
  it("lastIndexOf", () => {
    assert.equal(celEval("'hello mellow'.lastIndexOf('')"), 12n);
    assert.equal(celEval("'hello mellow'.lastIndexOf('ello')"), 7n);
    assert.equal(celEval("'hello mellow'.lastIndexOf('jello')"), -1n);
    assert.equal(celEval("'hello mellow'.lastIndexOf('ello', 6)"), 1n);
    assert.equal(celError("'hello mellow'.lastIndexOf('ello', -1)"), "index out of range: -1");
  });
  it("indexOf on a list still works beside the string overloads", () => {
    assert.equal(celEval("[1, 2, 2].lastIndexOf(2)"), 2n);
    assert.equal(celEval("x.indexOf(y)", { x: ["a", "b"], y: "b" }), 1n);
    assert.equal(celEval("x.indexOf(y)", { x: "ab", y: "b" }), 1n);
    assert.match(celCheckError("1.indexOf(2)") ?? "", /found no matching overload for 'indexOf' applied to 'int.\(int\)'/);
  });
  it("join", () => {
    assert.equal(celEval("['hello', 'mellow'].join()"), "hellomellow");
    assert.equal(celEval("['hello', 'mellow'].join(' ')"), "hello mellow");
    assert.equal(celEval("[].join()"), "");
    assert.equal(celEval("[].join('/')"), "");
  });
  it("lowerAscii and upperAscii (cel-js's: beyond ASCII they differ from cel-go)", () => {
    assert.equal(celEval("'TacoCat'.lowerAscii()"), "tacocat");
    assert.equal(celEval("'TacoCat Xii'.upperAscii()"), "TACOCAT XII");
  });
  it("strings.quote", () => {
    assert.equal(celEval(`strings.quote('single-quote with "double quote"')`), '"single-quote with \\"double quote\\""');
    assert.equal(celEval('strings.quote("two escape sequences \\a\\n")'), '"two escape sequences \\a\\n"');
  });
  it("replace", () => {
    assert.equal(celEval("'hello hello'.replace('he', 'we')"), "wello wello");
    assert.equal(celEval("'hello hello'.replace('he', 'we', -1)"), "wello wello");
    assert.equal(celEval("'hello hello'.replace('he', 'we', 1)"), "wello hello");
    assert.equal(celEval("'hello hello'.replace('he', 'we', 0)"), "hello hello");
    assert.equal(celEval("'ab'.replace('', '-')"), "-a-b-");
  });
  it("split", () => {
    assert.deepEqual(celEval("'hello hello hello'.split(' ')"), ["hello", "hello", "hello"]);
    assert.deepEqual(celEval("'hello hello hello'.split(' ', 0)"), []);
    assert.deepEqual(celEval("'hello hello hello'.split(' ', 1)"), ["hello hello hello"]);
    assert.deepEqual(celEval("'hello hello hello'.split(' ', 2)"), ["hello", "hello hello"]);
    assert.deepEqual(celEval("'hello hello hello'.split(' ', -1)"), ["hello", "hello", "hello"]);
    assert.deepEqual(celEval("'a😀'.split('')"), ["a", "😀"]);
  });
  it("substring", () => {
    assert.equal(celEval("'tacocat'.substring(4)"), "cat");
    assert.equal(celEval("'tacocat'.substring(0, 4)"), "taco");
    assert.equal(celEval("'😀cat'.substring(1, 2)"), "c");
    assert.equal(celError("'tacocat'.substring(-1)"), "index out of range: -1");
    assert.equal(celError("'tacocat'.substring(2, 1)"), "invalid substring range. start: 2, end: 1");
    assert.equal(celError("'tacocat'.substring(0, 8)"), "index out of range: 8");
  });
  it("trim removes Unicode white space", () => {
    assert.equal(celEval("'  \\ttrim\\n    '.trim()"), "trim");
    assert.equal(celEval("'\\u00a0x\\u3000'.trim()"), "x");
  });
});

describe("CEL string.format", () => {
  it("formats upstream's documented examples", () => {
    assert.equal(celEval(`"this is a string: %s\\nand an integer: %d".format(["str", 42])`), "this is a string: str\nand an integer: 42");
    assert.equal(celEval(`"a double substituted with %%s: %s".format([64.2])`), "a double substituted with %s: 64.2");
    assert.equal(celEval(`"timestamp: %s".format([timestamp("2023-02-03T23:31:20+00:00")])`), "timestamp: 2023-02-03T23:31:20Z");
    assert.equal(celEval(`"duration: %s".format([duration("1h45m47s")])`), "duration: 6347s");
    assert.equal(celEval(`"%f".format([3.14])`), "3.140000");
    assert.equal(celEval(`"%.2f".format([1234.5])`), "1,234.50");
    assert.equal(celEval(`"scientific notation: %e".format([2.71828])`), "scientific notation: 2.718280\u202f\u00d7\u202f10\u2070\u2070");
    assert.equal(celEval(`"5 in binary: %b".format([5])`), "5 in binary: 101");
    assert.equal(celEval(`"26 in hex: %x".format([26])`), "26 in hex: 1a");
    assert.equal(celEval(`"26 in hex (uppercase): %X".format([26])`), "26 in hex (uppercase): 1A");
    assert.equal(celEval(`"30 in octal: %o".format([30])`), "30 in octal: 36");
    assert.equal(celEval(`"%x".format(["Hi"])`), "4869");
    assert.equal(
      celEval(`"a map inside a list: %s".format([[1, 2, 3, {"a": "x", "b": "y", "c": "z"}]])`),
      'a map inside a list: [1, 2, 3, {"a":"x", "b":"y", "c":"z"}]',
    );
    assert.equal(celEval(`"true bool: %s - false bool: %s\\nbinary bool: %b".format([true, false, true])`), "true bool: true - false bool: false\nbinary bool: 1");
  });
  it("rejects clauses and arguments that do not fit", () => {
    // Kubernetes' environment has homogeneous aggregate literals, except inside format's arguments.
    assert.match(celCheckError(`["a", 1].size()`) ?? "", /List elements must have the same type/);
    assert.equal(celCheckError(`"%s %d".format(["a", 1])`), undefined);
    assert.equal(celEval(`"%s".format([{"a": 1, "b": "x"}])`), '{"a":1, "b":"x"}');
    assert.equal(celEval(`f.format(args)`, { f: "%s-%d", args: ["a", 1n] }), "a-1");
    assert.equal(celError(`"%d".format(["a"])`), "error during formatting: decimal clause can only be used on integers, was given string");
    assert.equal(celError(`"%d %d".format([1])`), "index 1 out of range");
    assert.equal(celError(`"%z".format([1])`), 'could not parse formatting clause: unrecognized formatting clause "z"');
  });
});
