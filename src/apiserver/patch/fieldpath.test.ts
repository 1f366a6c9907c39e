import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FieldSet, comparePE, goJSON, maxReadSets, parsePE, path, pathString, peKey, type Path, type PathElement } from "./fieldpath.js";
import { isPatchError } from "./errors.js";

const f = (name: string): PathElement => ({ kind: "field", name });
const k = (...fields: [string, string | number][]): PathElement => ({ kind: "key", fields });
const v = (value: string | number | boolean): PathElement => ({ kind: "value", value });
const i = (index: number): PathElement => ({ kind: "index", index });

void describe("path elements", () => {
  const keys: [PathElement, string][] = [
    [f("spec"), "f:spec"],
    [k(["name", "nginx"]), 'k:{"name":"nginx"}'],
    [k(["containerPort", 80], ["protocol", "TCP"]), 'k:{"containerPort":80,"protocol":"TCP"}'],
    [v("example.com/protect"), 'v:"example.com/protect"'],
    [v(3), "v:3"],
    [i(2), "i:2"],
    [k(["name", "<a&b>"]), 'k:{"name":"\\u003ca\\u0026b\\u003e"}'],
  ];
  for (const [pe, key] of keys) {
    void it(`serializes ${key} and parses it back`, () => {
      assert.equal(peKey(pe), key);
      const back = parsePE(key);
      assert.ok(back !== undefined);
      assert.equal(peKey(back), key);
    });
  }

  void it("sorts key fields by name when parsing", () => {
    const pe = parsePE('k:{"protocol":"TCP","containerPort":80}');
    assert.ok(pe !== undefined);
    assert.equal(peKey(pe), 'k:{"containerPort":80,"protocol":"TCP"}');
  });

  void it("ignores unknown element types and rejects malformed ones", () => {
    assert.equal(parsePE("x:whatever"), undefined);
    for (const bad of ["f", "fspec", 'k:{"a":', "k:[1]", "i:x", 'v:"unterminated']) {
      assert.throws(() => parsePE(bad), (e: unknown) => isPatchError(e, "ApplyFailed"), bad);
    }
  });

  void it("orders fields, then keys, then values, then indices", () => {
    const sorted = [i(1), v("b"), k(["name", "b"]), f("b"), v(2), k(["name", "a"]), f("a"), i(0), v(true)].sort(comparePE).map(peKey);
    assert.deepStrictEqual(sorted, ["f:a", "f:b", 'k:{"name":"a"}', 'k:{"name":"b"}', "v:2", 'v:"b"', "v:true", "i:0", "i:1"]);
  });

  void it("names paths the way conflicts print them", () => {
    assert.equal(pathString(path("spec", "replicas")), ".spec.replicas");
    assert.equal(pathString([...path("spec", "template", "spec", "containers"), k(["name", "nginx"]), f("image")]), '.spec.template.spec.containers[name="nginx"].image');
    assert.equal(pathString([f("ports"), k(["port", 80], ["protocol", "TCP"])]), '.ports[port=80,protocol="TCP"]');
    assert.equal(pathString([...path("metadata", "finalizers"), v("x")]), '.metadata.finalizers[="x"]');
    assert.equal(pathString([f("args"), i(0)]), ".args[0]");
  });

  void it("writes JSON the way Go does", () => {
    assert.equal(goJSON("a<b>&c\u2028"), '"a\\u003cb\\u003e\\u0026c\\u2028"');
    assert.equal(goJSON({ x: [1, "y"] }), '{"x":[1,"y"]}');
  });
});

void describe("FieldSet", () => {
  const containers = [...path("spec", "containers")];
  const nginx = [...containers, k(["name", "nginx"])];
  const sample = (): FieldSet =>
    FieldSet.of(path("spec", "replicas"), path("metadata", "labels"), path("metadata", "labels", "app"), nginx, [...nginx, f("image")], [...nginx, f("name")], [...path("metadata", "finalizers"), v("a")]);

  void it("writes FieldsV1 with '.' for paths that are members and have children", () => {
    assert.deepStrictEqual(sample().toFieldsV1(), {
      "f:metadata": {
        "f:finalizers": { 'v:"a"': {} },
        "f:labels": { ".": {}, "f:app": {} },
      },
      "f:spec": {
        "f:containers": { 'k:{"name":"nginx"}': { ".": {}, "f:image": {}, "f:name": {} } },
        "f:replicas": {},
      },
    });
    assert.equal(JSON.stringify(sample().toFieldsV1()), '{"f:metadata":{"f:finalizers":{"v:\\"a\\"":{}},"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\\"name\\":\\"nginx\\"}":{".":{},"f:image":{},"f:name":{}}},"f:replicas":{}}}');
  });

  void it("reads FieldsV1 back into the same set", () => {
    const s = sample();
    const back = FieldSet.fromFieldsV1(JSON.parse(JSON.stringify(s.toFieldsV1())));
    assert.ok(back.equals(s));
    assert.equal(back.size(), s.size());
    assert.ok(back.has(path("metadata", "labels")));
    assert.ok(!back.has(path("metadata")));
  });

  void it("treats {'.': {}} like {} and drops unknown element types when reading", () => {
    const s = FieldSet.fromFieldsV1({ "f:a": { ".": {} }, "f:b": { "x:future": {}, "f:c": {} } });
    assert.deepStrictEqual(s.paths().map(pathString), [".a", ".b.c"]);
  });

  void it("rejects FieldsV1 that is not a tree of objects", () => {
    for (const bad of [[], "x", { "f:a": 1 }, { "k:[": {} }]) {
      assert.throws(() => FieldSet.fromFieldsV1(bad), (e: unknown) => isPatchError(e, "ApplyFailed"));
    }
  });

  void it("lists paths members first, each level sorted", () => {
    assert.deepStrictEqual(sample().paths().map(pathString), [
      ".metadata.labels",
      '.metadata.finalizers[="a"]',
      ".metadata.labels.app",
      ".spec.replicas",
      '.spec.containers[name="nginx"]',
      '.spec.containers[name="nginx"].image',
      '.spec.containers[name="nginx"].name',
    ]);
  });

  const a = FieldSet.of(path("a"), path("a", "b"), path("a", "c"), path("d", "e"));
  const b = FieldSet.of(path("a"), path("a", "c"), path("d"), path("x"));
  const algebra: [string, FieldSet, Path[]][] = [
    ["union", a.union(b), [path("a"), path("d"), path("x"), path("a", "b"), path("a", "c"), path("d", "e")]],
    ["intersection", a.intersection(b), [path("a"), path("a", "c")]],
    ["difference keeps children of removed members", a.difference(b), [path("a", "b"), path("d", "e")]],
    ["recursiveDifference removes them", a.recursiveDifference(b), []],
    ["leaves", a.leaves(), [path("a", "b"), path("a", "c"), path("d", "e")]],
  ];
  for (const [name, got, want] of algebra) {
    void it(name, () => {
      assert.deepStrictEqual(got.paths().map(pathString), want.map(pathString));
    });
  }

  void it("never shares subtrees between a result and its inputs", () => {
    const x = FieldSet.of(path("a", "b"));
    const y = x.union(new FieldSet());
    y.insert(path("a", "z"));
    assert.ok(!x.has(path("a", "z")));
    assert.ok(x.isEmpty() === false && new FieldSet().isEmpty());
  });
});

void describe("FieldSet encoding kept from decoding", () => {
  const canonical = {
    "f:metadata": { "f:labels": { ".": {}, "f:app": {} } },
    "f:spec": { "f:containers": { 'k:{"name":"c"}': { ".": {}, "f:image": {}, "f:name": {} } }, "f:replicas": {} },
  };
  const text = (o: unknown): string => JSON.stringify(o);

  void it("encodes a set read from canonical FieldsV1 to the same bytes, and changes made later show", () => {
    const input = structuredClone(canonical);
    const s = FieldSet.fromFieldsV1(input);
    assert.equal(text(s.toFieldsV1()), text(canonical));
    s.insert([f("spec"), f("containers"), k(["name", "c"]), f("args")]);
    s.insert([f("spec"), f("paused")]);
    assert.equal(text(s.toFieldsV1()), text({ "f:metadata": canonical["f:metadata"], "f:spec": { "f:containers": { 'k:{"name":"c"}': { ".": {}, "f:args": {}, "f:image": {}, "f:name": {} } }, "f:paused": {}, "f:replicas": {} } }));
    // What it was read from is not changed.
    assert.equal(text(input), text(canonical));
  });

  void it("leaves the inputs of set operations encoding as before", () => {
    const a = FieldSet.fromFieldsV1(structuredClone(canonical));
    const b = FieldSet.of([f("spec"), f("replicas")], [f("metadata"), f("labels"), f("team")]);
    const union = a.union(b);
    const diff = a.difference(b);
    assert.equal(text(a.toFieldsV1()), text(canonical));
    assert.equal(text(union.toFieldsV1()), text({ "f:metadata": { "f:labels": { ".": {}, "f:app": {}, "f:team": {} } }, "f:spec": canonical["f:spec"] }));
    assert.equal(text(diff.toFieldsV1()), text({ "f:metadata": canonical["f:metadata"], "f:spec": { "f:containers": canonical["f:spec"]["f:containers"] } }));
    assert.equal(text(a.toFieldsV1()), text(canonical));
  });

  void it("keeps subtrees whole through a union with a subset and a difference with a disjoint set, and stays correct", () => {
    const a = FieldSet.fromFieldsV1(structuredClone(canonical));
    const subset = FieldSet.of([f("spec"), f("containers"), k(["name", "c"]), f("image")], [f("metadata"), f("labels"), f("app")]);
    const disjoint = FieldSet.of([f("spec"), f("containers"), k(["name", "c"]), f("args")], [f("status"), f("phase")]);
    const u = a.union(subset);
    const d = a.difference(disjoint);
    assert.equal(text(u.toFieldsV1()), text(canonical));
    assert.equal(text(d.toFieldsV1()), text(canonical));
    // Results stay independent of their inputs and of each other.
    u.insert([f("spec"), f("containers"), k(["name", "c"]), f("args")]);
    d.insert([f("metadata"), f("labels"), f("team")]);
    assert.equal(u.has([f("spec"), f("containers"), k(["name", "c"]), f("args")]), true);
    assert.equal(a.has([f("spec"), f("containers"), k(["name", "c"]), f("args")]), false);
    assert.equal(d.has([f("metadata"), f("labels"), f("team")]), true);
    assert.equal(u.has([f("metadata"), f("labels"), f("team")]), false);
    assert.equal(text(a.toFieldsV1()), text(canonical));
    // A set that shares a member is still taken away.
    const shared = a.difference(FieldSet.of([f("spec"), f("containers"), k(["name", "c"]), f("image")]));
    assert.equal(shared.has([f("spec"), f("containers"), k(["name", "c"]), f("image")]), false);
    assert.equal(shared.has([f("spec"), f("containers"), k(["name", "c"]), f("name")]), true);
  });

  const nonCanonical: [string, unknown, unknown][] = [
    ["keys out of order", { "f:spec": {}, "f:metadata": {} }, { "f:metadata": {}, "f:spec": {} }],
    ["'.' not first", { "f:labels": { "f:app": {}, ".": {} } }, { "f:labels": { ".": {}, "f:app": {} } }],
    ["'.' alone", { "f:labels": { ".": {} } }, { "f:labels": {} }],
    ["a key element written another way", { "f:ports": { 'k:{"protocol":"TCP","containerPort":80}': {} } }, { "f:ports": { 'k:{"containerPort":80,"protocol":"TCP"}': {} } }],
    ["unknown element types", { "f:a": {}, "x:b": {} }, { "f:a": {} }],
    ["a '.' that is not empty", { "f:a": { ".": { "f:x": {} }, "f:b": {} } }, { "f:a": { ".": {}, "f:b": {} } }],
  ];
  for (const [what, input, want] of nonCanonical) {
    void it(`writes canonical FieldsV1 when it read ${what}`, () => {
      assert.equal(text(FieldSet.fromFieldsV1(input).toFieldsV1()), text(want));
    });
  }
});

void describe("FieldSet reuse between writes", () => {
  const canonical = {
    "f:metadata": { "f:labels": { ".": {}, "f:app": {} } },
    "f:spec": { "f:containers": { 'k:{"name":"c"}': { ".": {}, "f:image": {}, "f:name": {} } }, "f:replicas": {} },
  };
  const text = (o: unknown): string => JSON.stringify(o);
  const image = [f("spec"), f("containers"), k(["name", "c"]), f("image")];

  void it("reads the same FieldsV1 object again as an independent set, and re-encodes it as that object", () => {
    const input = structuredClone(canonical);
    const first = FieldSet.fromFieldsV1(input);
    first.insert([f("spec"), f("paused")]);
    const second = FieldSet.fromFieldsV1(input);
    // The first read's change is not in the second (nor in what later reads get).
    assert.equal(second.has([f("spec"), f("paused")]), false);
    assert.equal(second.toFieldsV1(), input);
    assert.equal(FieldSet.fromFieldsV1(input).has([f("spec"), f("paused")]), false);
    second.insert([f("status")]);
    assert.equal(FieldSet.fromFieldsV1(input).has([f("status")]), false);
    assert.equal(text(input), text(canonical));
  });

  void it("reads correctly past the bound of remembered reads", () => {
    const inputs = Array.from({ length: maxReadSets + 10 }, (_, n) => ({ "f:spec": { [`f:x${n}`]: {} } }));
    for (const o of inputs) FieldSet.fromFieldsV1(o);
    for (const n of [0, 5, maxReadSets + 9]) {
      const s = FieldSet.fromFieldsV1(inputs[n]);
      assert.deepStrictEqual(s.paths().map(pathString), [`.spec.x${n}`]);
    }
  });

  void it("keeps the encoding of a union that adds nothing new, on either side, and the result stays independent", () => {
    const input = structuredClone(canonical);
    const a = FieldSet.fromFieldsV1(input);
    const sub = FieldSet.of(image);
    const left = a.union(sub);
    const right = sub.union(a);
    assert.equal(left.toFieldsV1(), input);
    assert.equal(right.toFieldsV1(), input);
    right.insert([f("spec"), f("paused")]);
    assert.equal(a.has([f("spec"), f("paused")]), false);
    assert.equal(left.has([f("spec"), f("paused")]), false);
    assert.equal(text(a.toFieldsV1()), text(canonical));
    // A union that adds something is a new encoding.
    const grown = a.union(FieldSet.of([f("spec"), f("paused")]));
    assert.notEqual(grown.toFieldsV1(), input);
    assert.equal(grown.has([f("spec"), f("paused")]), true);
  });

  void it("tells whether two sets share a member, exactly when a difference takes something", () => {
    const a = FieldSet.fromFieldsV1(structuredClone(canonical));
    assert.equal(a.sharesMember(FieldSet.of(image)), true);
    assert.equal(a.difference(FieldSet.of(image)).has(image), false);
    // A path that only passes through a member's subtree is no shared member.
    const through = FieldSet.of([f("spec"), f("containers")], [f("metadata"), f("labels"), f("team")]);
    assert.equal(a.sharesMember(through), false);
    assert.equal(text(a.difference(through).toFieldsV1()), text(canonical));
  });

  void it("writes empty objects that compare equal to {} and cannot be changed in place", () => {
    const v1 = FieldSet.of([f("a")], [f("b"), f("c")], [f("b")]).toFieldsV1();
    assert.deepStrictEqual(v1, { "f:a": {}, "f:b": { ".": {}, "f:c": {} } });
    assert.equal(Object.isFrozen(v1["f:a"]), true);
    assert.throws(() => {
      (v1["f:a"] as Record<string, unknown>)["x"] = 1;
    }, TypeError);
  });
});
