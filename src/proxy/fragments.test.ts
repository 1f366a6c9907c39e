import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FragmentMemo, sameLines } from "./fragments.js";
import type { ServicePortInfo } from "./model.js";
import { servicePort } from "./testutil.js";

const port = (name: string, clusterIP = "10.43.0.1"): ServicePortInfo => servicePort({ service: name, name: `ns/${name}`, clusterIP });

describe("FragmentMemo", () => {
  it("rebuilds only the ports that changed, and forgets the ports the last call did not have", () => {
    const memo = new FragmentMemo<{ readonly of: string }>();
    const built: string[] = [];
    const build = (sp: ServicePortInfo) => {
      built.push(sp.service);
      return { of: `${sp.service} ${sp.clusterIP}` };
    };
    const [a1, b1] = memo.fragments([port("a"), port("b")], build);
    const [a2, b2] = memo.fragments([port("a"), port("b", "10.43.0.2")], build);
    assert.equal(a2, a1, "unchanged: the same fragment object");
    assert.notEqual(b2, b1);
    assert.deepEqual(b2, { of: "b 10.43.0.2" });
    memo.fragments([port("b", "10.43.0.2")], build);
    memo.fragments([port("a"), port("b", "10.43.0.2")], build);
    assert.deepEqual(built, ["a", "b", "b", "a"]);
  });

  it("sameLines: the same array, or equal lines", () => {
    const a = ["-A X -j Y"];
    assert.ok(sameLines(a, a));
    assert.ok(sameLines(a, ["-A X -j Y"]));
    assert.ok(!sameLines(a, ["-A X -j Z"]));
    assert.ok(!sameLines(a, [...a, "-A X -j Z"]));
  });
});
