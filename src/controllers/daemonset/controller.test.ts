import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { deepFreeze } from "../../client/objects.js";
import { FakeClock } from "../../client/clock.js";
import { Expectations } from "../replicaset/expectations.js";
import { DaemonSetEventHandlers } from "./controller.js";
import type { DaemonSetCaches } from "./sync.js";
import { KEY, T0, daemonSet, node, pod } from "./testutil.js";

function handlers() {
  const ds = deepFreeze(daemonSet());
  const caches: DaemonSetCaches = { daemonSet: (k) => (k === KEY ? ds : undefined), daemonSets: () => [ds], nodes: () => [], claimable: () => [], revisions: () => [] };
  const expectations = new Expectations(new FakeClock(T0));
  const keys: string[] = [];
  const later: [string, number][] = [];
  const h = new DaemonSetEventHandlers(caches, expectations, (k) => keys.push(k), (k, ms) => later.push([k, ms]));
  return { h, keys, later, expectations };
}

void describe("DaemonSetEventHandlers", () => {
  void it("maps an owned pod's create to its DaemonSet and observes it; an orphan to the DaemonSets selecting it", () => {
    const { h, keys, expectations } = handlers();
    expectations.expectCreations(KEY, 1);
    h.podAdded(deepFreeze(pod("p", "n1")));
    assert.ok(expectations.satisfied(KEY));
    h.podAdded(deepFreeze(pod("o", "n1", { owned: false })));
    h.podAdded(deepFreeze(pod("x", "n1", { owned: false, labels: { app: "other" } })));
    assert.deepEqual(keys, [KEY, KEY]);
  });

  void it("counts a pod that starts terminating as deleted", () => {
    const { h, expectations } = handlers();
    expectations.expectDeletions(KEY, ["ns/p"]);
    h.podUpdated(deepFreeze(pod("p", "n1")), deepFreeze({ ...pod("p", "n1", { deleting: true }), metadata: { ...pod("p", "n1", { deleting: true }).metadata, resourceVersion: "2" } }));
    assert.ok(expectations.satisfied(KEY));
  });

  void it("enqueues on a node change only when it changes where the DaemonSet runs", () => {
    const { h, keys } = handlers();
    const n = deepFreeze(node("n1"));
    h.nodeUpdated(n, deepFreeze({ ...node("n1"), metadata: { ...node("n1").metadata, resourceVersion: "9" }, status: { allocatable: { cpu: "2" } } }));
    assert.deepEqual(keys, []);
    h.nodeUpdated(n, deepFreeze(node("n1", { spec: { taints: [{ key: "x", effect: "NoExecute" }] } })));
    assert.deepEqual(keys, [KEY]);
    h.nodeAdded(n);
    assert.deepEqual(keys, [KEY, KEY]);
  });

  void it("looks again minReadySeconds (+1 s) after a pod turns ready", () => {
    const ds = deepFreeze(daemonSet({ minReadySeconds: 10 }));
    const later: [string, number][] = [];
    const caches: DaemonSetCaches = { daemonSet: () => ds, daemonSets: () => [ds], nodes: () => [], claimable: () => [], revisions: () => [] };
    const h = new DaemonSetEventHandlers(caches, new Expectations(new FakeClock(T0)), () => undefined, (k, ms) => later.push([k, ms]));
    const notReady = pod("p", "n1", { ready: false });
    h.podUpdated(deepFreeze(notReady), deepFreeze({ ...pod("p", "n1"), metadata: { ...notReady.metadata, resourceVersion: "2" } }));
    assert.deepEqual(later, [[KEY, 11_000]]);
  });
});
