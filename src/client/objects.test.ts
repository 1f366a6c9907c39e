import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.js";
import { deepFreeze, mutableCopy, type DeepReadonly } from "./objects.js";

const pod = (): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p", namespace: "ns", labels: { app: "web" }, ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "u", controller: true }] },
  spec: { containers: [{ name: "c", image: "busybox", args: ["sleep", "1"], resources: { requests: { cpu: "10m" } } }], nodeName: undefined, priority: 0 },
  status: { phase: "Running", conditions: [{ type: "Ready", status: "True", lastProbeTime: null as unknown as string }] },
});

void describe("mutableCopy", () => {
  void it("copies a frozen JSON object into an equal, unfrozen, unshared one", () => {
    const cached = deepFreeze(pod());
    const copy = mutableCopy<Pod>(cached);
    assert.deepEqual(copy, structuredClone(cached));
    assert.deepEqual(Object.keys(copy.spec!), Object.keys(cached.spec!), "keys keep their order, undefined ones included");
    assert.ok(!Object.isFrozen(copy) && !Object.isFrozen(copy.metadata) && !Object.isFrozen(copy.spec!.containers[0]!.args));
    copy.spec!.containers[0]!.args!.push("more");
    copy.metadata!.labels!["app"] = "db";
    assert.deepEqual(cached.spec!.containers[0]!.args, ["sleep", "1"]);
    assert.equal(cached.metadata!.labels!["app"], "web");
  });

  void it("copies parts and primitives, and objects without a prototype as plain ones", () => {
    assert.equal(mutableCopy<string>("x"), "x");
    assert.equal(mutableCopy<null>(null), null);
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { a: [1, { b: 2 }] });
    const copy = mutableCopy<Record<string, unknown>>(bare as DeepReadonly<Record<string, unknown>>);
    assert.equal(Object.getPrototypeOf(copy), Object.prototype);
    assert.deepEqual(copy, { a: [1, { b: 2 }] });
  });

  void it("hands what is not JSON-shaped to structuredClone: dates, maps, cycles; functions still throw", () => {
    const when = new Date(5);
    const withDate = mutableCopy<{ at: Date; m: Map<string, number> }>({ at: when, m: new Map([["k", 1]]) } as never);
    assert.ok(withDate.at instanceof Date && withDate.at !== when && withDate.at.getTime() === 5);
    assert.ok(withDate.m instanceof Map && withDate.m.get("k") === 1);
    const cyclic: { self?: unknown; n: number } = { n: 1 };
    cyclic.self = cyclic;
    const c = mutableCopy<typeof cyclic>(cyclic as never);
    assert.ok(c !== cyclic && c.self === c && c.n === 1);
    assert.throws(() => mutableCopy<{ f: () => void }>({ f: () => {} } as never), (e: unknown) => (e as Error).name === "DataCloneError");
  });
});

void describe("deepFreeze", () => {
  void it("freezes every object and array of a JSON value and returns it", () => {
    const p = pod();
    const frozen = deepFreeze(p);
    assert.equal(frozen as unknown, p);
    for (const o of [p, p.metadata, p.metadata!.labels, p.metadata!.ownerReferences, p.metadata!.ownerReferences![0], p.spec!.containers, p.spec!.containers[0]!.args, p.spec!.containers[0]!.resources!.requests, p.status!.conditions![0]]) {
      assert.ok(Object.isFrozen(o));
    }
    assert.throws(() => {
      (p.spec!.containers[0]!.args as string[]).push("x");
    }, TypeError);
  });

  void it("freezes inside objects without a prototype and class instances too", () => {
    class Box {
      constructor(readonly inner: { v: number[] }) {}
    }
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { box: new Box({ v: [1] }) });
    deepFreeze(bare);
    const box = bare["box"] as Box;
    assert.ok(Object.isFrozen(box) && Object.isFrozen(box.inner) && Object.isFrozen(box.inner.v));
  });
});
