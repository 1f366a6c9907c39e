// The update path defaults a /status patch's object, which shares everything outside status
// with the watch cache's frozen copy of the stored object (rest/store.ts): defaulting an object
// that is already defaulted must write nothing, or the patch fails on the frozen part.
//
// Every kind with defaults has bodies in testing/resource-cases.ts that reach each nested part
// its defaulter touches, and the once-defaulted object is checked against upstream's
// SetDefaults_* for the kind (pkg/apis/<group>/<version>/defaults.go).
import { test } from "node:test";
import assert from "node:assert/strict";
import { ABSENT, resourceCases } from "../../testing/resource-cases.js";
import { freezeJson } from "../../util/freeze.js";
import type { KubeObject, StrategyContext } from "../registry/types.js";
import { builtinResources } from "./index.js";
import { isObj, type Json } from "./util.js";

/**
 * `expected` is a part of `actual`: objects by the keys they name, arrays element by element
 * and of the same length, anything else equal.
 */
function assertPart(actual: unknown, expected: unknown, path: string): void {
  if (expected === ABSENT) {
    assert.equal(actual, undefined, `${path} should be unset`);
  } else if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual) && actual.length === expected.length, `${path}: ${JSON.stringify(actual)} is not an array of ${expected.length}`);
    expected.forEach((e, i) => assertPart(actual[i], e, `${path}[${i}]`));
  } else if (isObj(expected)) {
    assert.ok(isObj(actual), `${path}: ${JSON.stringify(actual)} is not an object`);
    for (const [k, v] of Object.entries(expected)) assertPart(actual[k], v, `${path}.${k}`);
  } else {
    assert.deepEqual(actual, expected, path);
  }
}

const ctx: StrategyContext = { namespace: "default", now: new Date("2024-01-01T00:00:00Z"), user: { username: "admin", groups: ["system:masters"] } };

const withDefaults = builtinResources().filter((def) => def.strategy.defaults);
const keyOf = (def: (typeof withDefaults)[number]): string => `${def.group ? `${def.group}/` : ""}${def.version}/${def.kind}`;

for (const def of withDefaults) {
  const key = keyOf(def);
  void test(`${key}: defaulting a defaulted object writes nothing, and gives upstream's defaults`, () => {
    const defaults = def.strategy.defaults!;
    const list = resourceCases[key];
    assert.ok(list && list.length > 0, `${key} has defaults but no body in testing/resource-cases.ts: add one that reaches every part its defaulter touches`);
    list.forEach((c, i) => {
      const name = `${key} #${i}`;
      const md = { name: "x", ...(def.namespaced ? { namespace: "default" } : {}) };
      const apiVersion = def.group ? `${def.group}/${def.version}` : def.version;
      const obj = structuredClone({ apiVersion, kind: def.kind, ...c.body, metadata: { ...md, ...asJson(c.body.metadata) } }) as KubeObject;
      defaults.call(def.strategy, obj);
      assertPart(obj, c.expect, name);
      const stored = freezeJson(structuredClone(obj));
      assert.doesNotThrow(() => defaults.call(def.strategy, stored), name);
      if (c.writtenBy !== undefined) return;
      // The body is one a client could send: valid once created (the store sets the uid first).
      const created = structuredClone(obj);
      created.metadata = { ...asJson(created.metadata), uid: "00000000-0000-0000-0000-0000000000aa" };
      def.strategy.prepareForCreate?.call(def.strategy, created, ctx);
      assert.deepEqual(def.strategy.validate?.call(def.strategy, created, ctx) ?? [], [], `${name} is not valid`);
    });
  });
}

void test("every body in testing/resource-cases.ts is for a kind with defaults", () => {
  assert.ok(withDefaults.length > 25, `${withDefaults.length} kinds with defaults`);
  const keys = new Set(withDefaults.map(keyOf));
  assert.deepEqual(
    Object.keys(resourceCases).filter((k) => !keys.has(k)),
    [],
  );
});

function asJson(v: unknown): Json {
  return isObj(v) ? v : {};
}
