import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DeletedFinalStateUnknown, deepFreeze } from "../../client/objects.js";
import type { Pod } from "kubernetes-types/core/v1.js";
import { seedIndexer } from "../testing/index.js";
import { ReplicaEventHandlers } from "./controller.js";
import { Expectations } from "./expectations.js";
import { REPLICA_SET, type ReplicaObject } from "./kinds.js";
import { T0, ownedPod, pod, replicaSet } from "./testutil.js";

function setup(owners: ReplicaObject[]) {
  const idx = seedIndexer<ReplicaObject>(owners);
  const expectations = new Expectations();
  const queued: string[] = [];
  const after: [string, number][] = [];
  const h = new ReplicaEventHandlers(
    REPLICA_SET,
    { owner: (k) => idx.get(k), owners: (ns) => idx.byIndex("namespace", ns), pods: () => [], claimable: () => [] },
    expectations,
    (k) => queued.push(k),
    (k, ms) => after.push([k, ms]),
  );
  return { h, expectations, queued, after };
}

const f = (x: Pod) => deepFreeze(x);

void describe("ReplicaEventHandlers", () => {
  const web = replicaSet("web", 2, { minReadySeconds: 10 });
  const api = replicaSet("api", 1);

  void it("maps an owned pod to its owner and observes the create", () => {
    const s = setup([web, api]);
    s.expectations.expectCreations("ns/web", 1);
    s.h.podAdded(f(ownedPod("a", web)));
    assert.deepEqual(s.queued, ["ns/web"]);
    assert.ok(s.expectations.satisfied("ns/web"));
  });

  void it("ignores a controllerRef whose uid does not match the cached owner", () => {
    const s = setup([web]);
    s.h.podAdded(f(pod("a", { labels: { app: "web" }, owner: { name: "web", uid: "old-uid" } })));
    assert.deepEqual(s.queued, []);
  });

  void it("wakes every owner whose selector matches an orphan", () => {
    const s = setup([web, api, replicaSet("all", 1, { selector: {} })]);
    s.h.podAdded(f(pod("o", { labels: { app: "web" } })));
    assert.deepEqual(s.queued.sort(), ["ns/all", "ns/web"]);
  });

  void it("counts a pod seen first as terminating as a deletion", () => {
    const s = setup([web]);
    s.expectations.expectDeletions("ns/web", ["ns/a"]);
    s.h.podAdded(f(ownedPod("a", web, { deleting: true })));
    assert.ok(s.expectations.satisfied("ns/web"));
  });

  void it("on update: skips resyncs, observes graceful deletion, wakes old and new owners, and looks again after minReadySeconds", () => {
    const s = setup([web, api]);
    const a = ownedPod("a", web, { node: "n" });
    s.h.podUpdated(f(a), f(a));
    assert.deepEqual(s.queued, [], "same resourceVersion: nothing changed");
    const ready = ownedPod("a", web, { node: "n", readySince: T0, rv: "2" });
    s.h.podUpdated(f(a), f(ready));
    assert.deepEqual(s.queued, ["ns/web"]);
    assert.deepEqual(s.after, [["ns/web", 11_000]]);
    s.queued.length = 0;
    const moved = ownedPod("a", api, { rv: "3" });
    s.h.podUpdated(f(ready), f(moved));
    assert.deepEqual(s.queued, ["ns/web", "ns/api"]);
    s.queued.length = 0;
    s.expectations.expectDeletions("ns/api", ["ns/a"]);
    const dying = ownedPod("a", api, { deleting: true, rv: "4" });
    s.h.podUpdated(f(moved), f(dying));
    assert.ok(s.expectations.satisfied("ns/api"));
  });

  void it("on delete (also from a tombstone) observes the deletion and wakes the owner", () => {
    const s = setup([web]);
    s.expectations.expectDeletions("ns/web", ["ns/a", "ns/b"]);
    s.h.podDeleted(f(ownedPod("a", web)));
    s.h.podDeleted(new DeletedFinalStateUnknown<Pod>("ns/b", f(ownedPod("b", web))));
    assert.ok(s.expectations.satisfied("ns/web"));
    assert.deepEqual(s.queued, ["ns/web", "ns/web"]);
  });

  void it("drops the expectations of a deleted owner", () => {
    const s = setup([web]);
    s.expectations.expectCreations("ns/web", 3);
    s.h.ownerDeleted(new DeletedFinalStateUnknown<ReplicaObject>("ns/web", deepFreeze(web as ReplicaObject)));
    assert.equal(s.expectations.pending("ns/web"), undefined);
    assert.deepEqual(s.queued, ["ns/web"]);
  });
});
