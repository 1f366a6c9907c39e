import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.js";
import { DeletedFinalStateUnknown, deepFreeze } from "../../client/objects.js";
import { seedIndexer } from "../testing/index.js";
import { StatefulSetEventHandlers } from "./controller.js";
import type { StatefulSetCaches } from "./sync.js";
import { KEY, pod, statefulSet } from "./testutil.js";

function handlers(minReadySeconds = 0) {
  const set = statefulSet({ minReadySeconds });
  const sets = seedIndexer([set]);
  const caches: StatefulSetCaches = { statefulSet: (k) => sets.get(k), statefulSets: () => sets.list(), claimable: () => [], revisions: () => [], claim: () => undefined };
  const queued: string[] = [];
  const later: [string, number][] = [];
  const h = new StatefulSetEventHandlers(caches, (k) => queued.push(k), (k, ms) => later.push([k, ms]));
  return { set, h, queued, later };
}

const frozen = (p: Pod) => deepFreeze(structuredClone(p));

void describe("StatefulSetEventHandlers", () => {
  void it("maps a pod to the set its controllerRef names, if that is still the same set", () => {
    const { set, h, queued } = handlers();
    h.podAdded(frozen(pod(set, 0)));
    const other = pod(set, 1);
    other.metadata!.ownerReferences = [{ ...other.metadata!.ownerReferences![0]!, uid: "another-set" }];
    h.podAdded(frozen(other));
    assert.deepEqual(queued, [KEY]);
  });

  void it("maps an orphan to every set whose selector matches it, and a deleted pod (also a tombstone) to its set", () => {
    const { set, h, queued } = handlers();
    const orphan = pod(set, 0);
    orphan.metadata!.ownerReferences = [];
    h.podAdded(frozen(orphan));
    h.podAdded(frozen({ ...orphan, metadata: { ...orphan.metadata, labels: { app: "other" } } }));
    h.podDeleted(new DeletedFinalStateUnknown<Pod>("ns/web-1", frozen(pod(set, 1))));
    assert.deepEqual(queued, [KEY, KEY]);
  });

  void it("ignores resyncs, and looks again minReadySeconds (plus one) after a pod turns ready", () => {
    const { set, h, queued, later } = handlers(10);
    const notReady = frozen(pod(set, 0, { ready: false }));
    h.podUpdated(notReady, notReady);
    assert.deepEqual(queued, []);
    const p = pod(set, 0);
    const ready = { ...p, metadata: { ...p.metadata, resourceVersion: "6" } };
    h.podUpdated(notReady, frozen(ready));
    assert.deepEqual(queued, [KEY]);
    assert.deepEqual(later, [[KEY, 11_000]]);
  });

  void it("enqueues the set itself on every set event", () => {
    const { set, h, queued } = handlers();
    const s = deepFreeze(structuredClone(set));
    h.setAdded(s);
    h.setUpdated(s, s);
    h.setDeleted(s);
    assert.deepEqual(queued, [KEY, KEY, KEY]);
  });
});
