import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { DeploymentStatus } from "kubernetes-types/apps/v1.js";
import { deepFreeze } from "../../client/objects.js";
import { deployment, rsOf, T0 } from "./testutil.js";
import {
  computeHash,
  equalIgnoreHash,
  findActiveOrLatest,
  findNewReplicaSet,
  lastRevision,
  maxSurge,
  maxUnavailable,
  newCondition,
  newRSNewReplicas,
  proportion,
  safeEncodeString,
  setCondition,
  type RD,
  type RRS,
} from "./util.js";

const fd = (d: ReturnType<typeof deployment>) => deepFreeze(d) as RD;
const frs = (rs: ReturnType<typeof rsOf>) => deepFreeze(rs) as RRS;

void describe("pod-template hash", () => {
  void it("encodes like upstream SafeEncodeString", () => {
    assert.equal(safeEncodeString("0123456789"), "456789bcdf");
  });

  void it("is stable, changes with the template, and changes with the collision count", () => {
    const t = deployment("web").spec!.template;
    const h = computeHash(t, undefined);
    assert.match(h, /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    assert.equal(computeHash(structuredClone(t), undefined), h);
    const reordered = { spec: t.spec, metadata: { labels: { app: "web" } } };
    assert.equal(computeHash(reordered, undefined), h, "key order does not matter");
    const other = structuredClone(t);
    other.spec!.containers[0]!.image = "img:2";
    assert.notEqual(computeHash(other, undefined), h);
    assert.notEqual(computeHash(t, 1), h);
    assert.notEqual(computeHash(t, 1), computeHash(t, 2));
  });

  void it("template equality ignores the pod-template-hash label and empty values", () => {
    const d = deployment("web");
    const rs = rsOf(d, { replicas: 1 });
    assert.ok(equalIgnoreHash(d.spec!.template, rs.spec!.template));
    const withEmpty = structuredClone(d.spec!.template);
    withEmpty.metadata!.annotations = {};
    assert.ok(equalIgnoreHash(withEmpty, rs.spec!.template));
    assert.ok(!equalIgnoreHash(deployment("web", { image: "img:2" }).spec!.template, rs.spec!.template));
  });

  void it("answers the same for cached (frozen) templates, compared repeatedly, as for mutable ones", () => {
    const d = deployment("web");
    const rs = frs(rsOf(d, { replicas: 1 }));
    const other = frs(rsOf(deployment("web", { image: "img:2" }), { replicas: 1 }));
    const mutable = structuredClone(d.spec!.template);
    for (let i = 0; i < 2; i++) {
      assert.ok(equalIgnoreHash(mutable, rs.spec!.template));
      assert.ok(!equalIgnoreHash(mutable, other.spec!.template));
      assert.ok(!equalIgnoreHash(rs.spec!.template, other.spec!.template));
    }
    // The mutable template changes after it was compared: the answer follows.
    mutable.spec!.containers[0]!.image = "img:2";
    assert.ok(equalIgnoreHash(mutable, other.spec!.template));
    assert.ok(!equalIgnoreHash(mutable, rs.spec!.template));
  });
});

void describe("surge and unavailability", () => {
  void it("resolves percentages (surge up, unavailable down) and ints", () => {
    const d = fd(deployment("d", { replicas: 10 }));
    assert.equal(maxSurge(d), 3);
    assert.equal(maxUnavailable(d), 2);
    const ints = fd(deployment("d", { replicas: 3, strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } }));
    assert.equal(maxSurge(ints), 0);
    assert.equal(maxUnavailable(ints), 1, "0/0 would never progress: one may be unavailable");
    const big = fd(deployment("d", { replicas: 2, strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 5 } } }));
    assert.equal(maxUnavailable(big), 2, "never more than replicas");
    const recreate = fd(deployment("d", { replicas: 4, strategy: { type: "Recreate" } }));
    assert.equal(maxSurge(recreate), 0);
    assert.equal(maxUnavailable(recreate), 0);
  });

  void it("grows the new ReplicaSet within spec.replicas + maxSurge", () => {
    const d = fd(deployment("d", { replicas: 4, strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } } }));
    const old = frs(rsOf(d as never, { replicas: 4, image: "old" }));
    const fresh = frs(rsOf(d as never, { replicas: 0 }));
    assert.equal(newRSNewReplicas(d, [old, fresh], fresh), 1);
    const fresh2 = frs(rsOf(d as never, { replicas: 2 }));
    const old2 = frs(rsOf(d as never, { replicas: 2, image: "old" }));
    assert.equal(newRSNewReplicas(d, [old2, fresh2], fresh2), 3);
    assert.equal(newRSNewReplicas(fd(deployment("d", { replicas: 4, strategy: { type: "Recreate" } })), [old, fresh], fresh), 4);
  });
});

void describe("which ReplicaSet", () => {
  void it("takes the oldest one with the Deployment's template as new", () => {
    const d = deployment("web");
    const a = rsOf(d, { replicas: 1, age: 10 });
    const b = { ...rsOf(d, { replicas: 1, age: 100 }), metadata: { ...rsOf(d, { replicas: 1, age: 100 }).metadata, name: "web-dup", uid: "dup" } };
    const other = rsOf(d, { replicas: 1, image: "x" });
    assert.equal(findNewReplicaSet(fd(d), [frs(a), frs(b), frs(other)])?.metadata?.name, "web-dup");
  });

  void it("finds the one active ReplicaSet, or the newest when none is active", () => {
    const d = deployment("web");
    const newRS = frs(rsOf(d, { replicas: 0, age: 1 }));
    const old1 = frs(rsOf(d, { replicas: 0, image: "a", age: 100 }));
    const old2 = frs(rsOf(d, { replicas: 2, image: "b", age: 50 }));
    assert.equal(findActiveOrLatest(newRS, [old1, old2]), old2);
    assert.equal(findActiveOrLatest(newRS, [old1]), newRS);
    assert.equal(findActiveOrLatest(undefined, [old1, frs(rsOf(d, { replicas: 0, image: "c", age: 10 }))])?.spec?.template?.spec?.containers[0]?.image, "c");
    assert.equal(findActiveOrLatest(frs(rsOf(d, { replicas: 1 })), [old2]), undefined);
  });

  void it("knows the previous revision", () => {
    const d = deployment("web");
    assert.equal(lastRevision([frs(rsOf(d, { replicas: 0, revision: 3 })), frs(rsOf(d, { replicas: 0, image: "a", revision: 7 })), frs(rsOf(d, { replicas: 0, image: "b", revision: 5 }))]), 5);
    assert.equal(lastRevision([frs(rsOf(d, { replicas: 0, revision: 3 }))]), 0);
  });
});

void describe("proportion", () => {
  void it("spreads a resize over ReplicaSets by their share of the last size", () => {
    const d = fd(deployment("web", { replicas: 15, strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 3, maxUnavailable: 0 } }, status: { replicas: 13 } }));
    const old = frs(rsOf(d as never, { replicas: 8, image: "old", max: 13 }));
    const fresh = frs(rsOf(d as never, { replicas: 5, max: 13 }));
    // 18 allowed now, 13 running: +5 shared 8:5 of 18/13 → +3 (11.08 → 11) and +2 (6.92 → 7).
    const a = proportion(old, d, 5, 0);
    assert.equal(a, 3);
    assert.equal(proportion(fresh, d, 5, a), 2);
    assert.equal(proportion(fresh, d, 5, 5), 0, "nothing left to hand out");
    const toZero = fd(deployment("web", { replicas: 0 }));
    assert.equal(proportion(old, toZero, -13, 0), -8);
  });
});

void describe("conditions", () => {
  void it("keeps lastTransitionTime while the status stays, and ignores a repeat of the same reason", () => {
    const s: DeploymentStatus = {};
    setCondition(s, newCondition("Progressing", "True", "A", "a", T0));
    setCondition(s, newCondition("Progressing", "True", "A", "other message", T0 + 5000));
    assert.equal(s.conditions?.[0]?.message, "a");
    setCondition(s, newCondition("Progressing", "True", "B", "b", T0 + 10_000));
    assert.equal(s.conditions?.[0]?.lastTransitionTime, "2024-01-01T00:00:00Z");
    assert.equal(s.conditions?.[0]?.lastUpdateTime, "2024-01-01T00:00:10Z");
    setCondition(s, newCondition("Progressing", "False", "C", "c", T0 + 20_000));
    assert.equal(s.conditions?.[0]?.lastTransitionTime, "2024-01-01T00:00:20Z");
  });
});
