import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.js";
import { SharedInformer } from "../../client/informer.js";
import type { ListerWatcher } from "../../client/reflector.js";
import { createLogger } from "../../util/log.js";
import { cacheDelete, cachePut, seedIndexer } from "../testing/index.js";
import { REPLICA_SET } from "./kinds.js";
import { POD_CONTROLLER_INDEX, claimablePods, ensurePodControllerIndex, podControllerIndexFunc } from "./podindex.js";
import { harness, ownedPod, pod, replicaSet } from "./testutil.js";

const web = replicaSet("web", 2);
const names = (pods: readonly { metadata?: { name?: string } }[]): string[] => pods.map((p) => p.metadata?.name ?? "").sort();
const indexed = (pods: Pod[]) => seedIndexer<Pod>(pods, { [POD_CONTROLLER_INDEX]: podControllerIndexFunc });

void describe("pod controller index", () => {
  void it("offers an owner its own pods and its namespace's orphans, nothing another controller owns or of another namespace", () => {
    const idx = indexed([
      ownedPod("mine", web),
      pod("orphan", { labels: { app: "web" } }),
      pod("unrelated-orphan", { labels: { app: "other" } }),
      pod("theirs", { labels: { app: "web" }, owner: { name: "other", uid: "other-uid" } }),
      ownedPod("elsewhere", web, { ns: "other-ns" }),
      pod("orphan-elsewhere", { labels: { app: "web" }, ns: "other-ns" }),
      // A non-controller reference does not make a pod owned.
      { ...pod("weakly-owned", { labels: { app: "web" } }), metadata: { ...pod("weakly-owned", { labels: { app: "web" } }).metadata, ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "c", uid: "web-uid" }] } },
    ]);
    assert.deepEqual(names(claimablePods(idx, "ns", "web-uid")), ["mine", "orphan", "unrelated-orphan", "weakly-owned"]);
    assert.deepEqual(names(claimablePods(idx, "other-ns", "web-uid")), ["elsewhere", "orphan-elsewhere"]);
    assert.deepEqual(names(claimablePods(idx, "ns", "nobody")), ["orphan", "unrelated-orphan", "weakly-owned"]);
  });

  void it("moves a pod between buckets as it gains, changes and loses its controllerRef, and forgets it when deleted", () => {
    const idx = indexed([pod("p", { labels: { app: "web" } })]);
    assert.deepEqual(names(claimablePods(idx, "ns", "nobody")), ["p"]);
    cachePut(idx, ownedPod("p", web, { rv: "2" }));
    assert.deepEqual(names(claimablePods(idx, "ns", "nobody")), [], "no longer an orphan");
    assert.deepEqual(names(claimablePods(idx, "ns", "web-uid")), ["p"]);
    cachePut(idx, pod("p", { labels: { app: "web" }, owner: { name: "api", uid: "api-uid" }, rv: "3" }));
    assert.deepEqual(names(claimablePods(idx, "ns", "web-uid")), [], "taken over by another controller");
    assert.deepEqual(names(claimablePods(idx, "ns", "api-uid")), ["p"]);
    cachePut(idx, pod("p", { labels: { app: "web" }, rv: "4" }));
    assert.deepEqual(names(claimablePods(idx, "ns", "api-uid")), ["p"], "released: an orphan again");
    assert.deepEqual(names(claimablePods(idx, "ns", "web-uid")), ["p"]);
    cacheDelete(idx, pod("p"));
    assert.deepEqual(names(claimablePods(idx, "ns", "web-uid")), []);
  });

  void it("keeps a pod whose labels change in its bucket, so the owner's sync releases or adopts it", async () => {
    const h = harness(REPLICA_SET, [web], [ownedPod("a", web), ownedPod("b", web)]);
    cachePut(h.pods, ownedPod("b", web, { labels: { app: "moved" }, rv: "2" }));
    cachePut(h.pods, pod("c", { labels: { app: "other" } }));
    await h.syncer.sync("ns/web");
    const patches = h.api.writes({ verb: "patch", resource: "pods" });
    assert.deepEqual(
      patches.map((w) => w.name),
      ["b"],
      "releases the relabelled pod only",
    );
    h.api.clear();
    cachePut(h.pods, pod("b", { labels: { app: "moved" }, rv: "3" }));
    cachePut(h.pods, pod("c", { labels: { app: "web" }, rv: "2" }));
    await h.syncer.sync("ns/web");
    assert.deepEqual(
      h.api.writes({ verb: "patch", resource: "pods" }).map((w) => w.name),
      ["c"],
      "adopts the orphan whose labels came to match",
    );
    assert.deepEqual(h.api.writes({ verb: "create" }), [], "a and the adopted c make two");
  });

  void it("is added once to a pod informer shared by several controllers, filing what is already cached", () => {
    const lw = {} as ListerWatcher<Pod>;
    const inf = new SharedInformer<Pod>({ name: "pods", lw, log: createLogger("silent") });
    inf.indexer.upsert(ownedPod("a", web) as never);
    ensurePodControllerIndex(inf);
    ensurePodControllerIndex(inf);
    assert.deepEqual(names(claimablePods(inf.indexer, "ns", "web-uid")), ["a"]);
  });
});
