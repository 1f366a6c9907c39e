import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Deployment, ReplicaSet } from "kubernetes-types/apps/v1.js";
import type { Pod } from "kubernetes-types/core/v1.js";
import { DeletedFinalStateUnknown, deepFreeze } from "../../client/objects.js";
import { seedIndexer } from "../testing/index.js";
import { DeploymentEventHandlers } from "./controller.js";
import { deployment, rsOf } from "./testutil.js";

function setup(ds: Deployment[], rss: ReplicaSet[] = []) {
  const di = seedIndexer(ds);
  const ri = seedIndexer(rss);
  const queued: string[] = [];
  const h = new DeploymentEventHandlers(
    { deployment: (k) => di.get(k), deployments: (ns) => di.byIndex("namespace", ns), replicaSets: (ns) => ri.byIndex("namespace", ns), pods: () => [] },
    (k) => queued.push(k),
  );
  return { h, queued };
}

void describe("DeploymentEventHandlers", () => {
  const web = deployment("web");
  const recreate = deployment("rec", { strategy: { type: "Recreate" } });

  void it("maps an owned ReplicaSet to its Deployment and an orphan to every Deployment selecting it", () => {
    const s = setup([web, deployment("other")]);
    s.h.replicaSetAdded(deepFreeze(rsOf(web, { replicas: 1 })));
    assert.deepEqual(s.queued, ["ns/web"]);
    s.queued.length = 0;
    s.h.replicaSetAdded(deepFreeze(rsOf(web, { replicas: 1, owned: false })));
    assert.deepEqual(s.queued, ["ns/web"]);
  });

  void it("on update wakes the old and the new controller and skips resyncs", () => {
    const other = deployment("other");
    const s = setup([web, other]);
    const a = rsOf(web, { replicas: 1 });
    s.h.replicaSetUpdated(deepFreeze(a), deepFreeze(a));
    assert.deepEqual(s.queued, []);
    const b = structuredClone(a);
    b.metadata!.ownerReferences![0] = { ...b.metadata!.ownerReferences![0]!, name: "other", uid: "other-uid" };
    (b.metadata as { resourceVersion?: string }).resourceVersion = "6";
    s.h.replicaSetUpdated(deepFreeze(a), deepFreeze(b));
    assert.deepEqual(s.queued, ["ns/web", "ns/other"]);
  });

  void it("wakes a Recreate Deployment when one of its pods is deleted, not a rolling one", () => {
    const rrs = rsOf(recreate, { replicas: 0 });
    const wrs = rsOf(web, { replicas: 1 });
    const s = setup([web, recreate], [rrs, wrs]);
    const podOf = (rs: ReplicaSet): Pod => ({ metadata: { name: "p", namespace: "ns", ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: rs.metadata!.name!, uid: rs.metadata!.uid!, controller: true }] } });
    s.h.podDeleted(deepFreeze(podOf(wrs)));
    s.h.podDeleted(new DeletedFinalStateUnknown<Pod>("ns/p", deepFreeze(podOf(rrs))));
    assert.deepEqual(s.queued, ["ns/rec"]);
  });
});
