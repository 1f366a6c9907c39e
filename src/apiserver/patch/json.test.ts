import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { goFormat, goTypeName } from "./json.js";

void describe("goFormat prints values as Go's %v prints decoded JSON", () => {
  const cases: [unknown, string][] = [
    [{ name: "nginx", image: "nginx:1" }, "map[image:nginx:1 name:nginx]"],
    [[1, "a", true, null], "[1 a true <nil>]"],
    [{ a: { b: [1.5, 2] } }, "map[a:map[b:[1.5 2]]]"],
    [{}, "map[]"],
    [1e21, "1e+21"],
    [1e-7, "1e-07"],
  ];
  for (const [v, want] of cases) void it(want, () => assert.equal(goFormat(v), want));
});

void describe("goTypeName", () => {
  void it("names decoded JSON types like reflect does", () => {
    assert.equal(goTypeName({}), "map[string]interface {}");
    assert.equal(goTypeName([]), "[]interface {}");
    assert.equal(goTypeName("s"), "string");
    assert.equal(goTypeName(1), "int64");
    assert.equal(goTypeName(1.5), "float64");
    assert.equal(goTypeName(false), "bool");
    assert.equal(goTypeName(null), "<nil>");
  });
});
