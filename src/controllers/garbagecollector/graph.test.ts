import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { OwnerReference } from "kubernetes-types/meta/v1.js";
import { deepFreeze, type DeepReadonly, type KubeObject } from "../../client/objects.js";
import { createLogger } from "../../util/log.js";
import { DependencyGraph, type GraphQueues } from "./graph.js";

const log = createLogger("silent");

class Recorder implements GraphQueues {
  readonly calls: string[] = [];
  attemptToDelete(uid: string): void {
    this.calls.push(`delete ${uid}`);
  }
  attemptToDeleteLater(uid: string): void {
    this.calls.push(`later ${uid}`);
  }
  attemptToOrphan(uid: string): void {
    this.calls.push(`orphan ${uid}`);
  }
  take(): string[] {
    return this.calls.splice(0);
  }
}

function o(kind: string, uid: string, extra: { ns?: string; owners?: OwnerReference[]; finalizers?: string[]; deleting?: boolean } = {}): DeepReadonly<KubeObject> {
  return deepFreeze({
    apiVersion: kind === "Pod" ? "v1" : "apps/v1",
    kind,
    metadata: {
      name: uid,
      namespace: extra.ns ?? "ns",
      uid,
      ...(extra.owners ? { ownerReferences: extra.owners } : {}),
      ...(extra.finalizers ? { finalizers: extra.finalizers } : {}),
      ...(extra.deleting ? { deletionTimestamp: "2025-01-01T00:00:00Z" } : {}),
    },
  });
}

const rsRef = (uid: string, block = false): OwnerReference => ({ apiVersion: "apps/v1", kind: "ReplicaSet", name: uid, uid, ...(block ? { blockOwnerDeletion: true } : {}) });

void describe("DependencyGraph", () => {
  void it("makes a virtual node for an owner not seen yet, verified once; seeing the owner makes it real", () => {
    const q = new Recorder();
    const g = new DependencyGraph(q, log);
    g.observeUpsert(o("Pod", "p1", { owners: [rsRef("rs")] }));
    g.observeUpsert(o("Pod", "p2", { owners: [rsRef("rs")] }));
    assert.deepEqual(q.take(), ["delete rs"]);
    assert.equal(g.nodes.get("rs")?.virtual, true);
    assert.equal(g.nodes.get("rs")?.dependents.size, 2);
    g.observeUpsert(o("ReplicaSet", "rs"));
    assert.equal(g.nodes.get("rs")?.virtual, false);
    assert.deepEqual(q.take(), []);
  });

  void it("queues dependents when an owner is deleted and remembers the owner as absent", () => {
    const q = new Recorder();
    const g = new DependencyGraph(q, log);
    const rs = o("ReplicaSet", "rs");
    g.observeUpsert(rs);
    g.observeUpsert(o("Pod", "p1", { owners: [rsRef("rs")] }));
    q.take();
    g.observeDelete(rs);
    assert.deepEqual(q.take(), ["delete p1"]);
    assert.equal(g.absentOwners.has({ apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "rs", namespace: "ns" }), true);
    assert.equal(g.nodes.has("rs"), false);
  });

  void it("tracks ownerReference changes: new owners gain the dependent, a released blocking reference wakes the owner", () => {
    const q = new Recorder();
    const g = new DependencyGraph(q, log);
    g.observeUpsert(o("ReplicaSet", "a"));
    g.observeUpsert(o("ReplicaSet", "b"));
    const p = o("Pod", "p", { owners: [rsRef("a", true)] });
    g.observeUpsert(p);
    const moved = o("Pod", "p", { owners: [rsRef("b")] });
    g.observeUpsert(moved, p);
    assert.equal(g.nodes.get("a")?.dependents.size, 0);
    assert.equal(g.nodes.get("b")?.dependents.size, 1);
    assert.deepEqual(q.take(), ["delete a"]);
    const unblocked = o("Pod", "p", { owners: [rsRef("b", true)] });
    g.observeUpsert(unblocked, moved);
    g.observeUpsert(o("Pod", "p", { owners: [rsRef("b")] }), unblocked);
    assert.deepEqual(q.take(), ["delete b"]);
  });

  void it("starts orphaning or foreground deletion on the transition only", () => {
    const q = new Recorder();
    const g = new DependencyGraph(q, log);
    const live = o("ReplicaSet", "rs");
    g.observeUpsert(live);
    g.observeUpsert(o("Pod", "p", { owners: [rsRef("rs", true)] }));
    q.take();
    const orphaning = o("ReplicaSet", "rs", { finalizers: ["orphan"], deleting: true });
    g.observeUpsert(orphaning, live);
    g.observeUpsert(orphaning, orphaning);
    assert.deepEqual(q.take(), ["orphan rs"]);
    const fg = o("ReplicaSet", "rs", { finalizers: ["foregroundDeletion"], deleting: true });
    g.observeUpsert(fg, orphaning);
    assert.deepEqual(q.take(), ["delete p", "delete rs"]);
    assert.equal(g.nodes.get("rs")?.deletingDependents, true);
    assert.deepEqual(g.nodes.get("rs")?.blockingDependents().map((n) => n.uid), ["p"]);
  });

  void it("a dependent's removal wakes an owner that waits for its dependents", () => {
    const q = new Recorder();
    const g = new DependencyGraph(q, log);
    g.observeUpsert(o("ReplicaSet", "rs", { finalizers: ["foregroundDeletion"], deleting: true }));
    const p = o("Pod", "p", { owners: [rsRef("rs", true)] });
    g.observeUpsert(p);
    q.take();
    g.observeDelete(p);
    assert.deepEqual(q.take(), ["delete rs"]);
  });

  void it("a virtual delete removes a virtual node but never a real one with other coordinates", () => {
    const q = new Recorder();
    const g = new DependencyGraph(q, log);
    g.observeUpsert(o("Pod", "p", { owners: [rsRef("rs")] }));
    q.take();
    g.virtualDelete({ apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "rs", namespace: "ns" });
    assert.equal(g.nodes.has("rs"), false);
    assert.deepEqual(q.take(), ["delete p"]);

    g.observeUpsert(o("ReplicaSet", "real"));
    g.observeUpsert(o("Pod", "q", { owners: [{ apiVersion: "v1", kind: "ConfigMap", name: "real", uid: "real" }] }));
    assert.deepEqual(q.take(), ["delete q"], "a reference with other coordinates than the observed owner is checked");
    g.virtualDelete({ apiVersion: "v1", kind: "ConfigMap", name: "real", uid: "real", namespace: "ns" });
    assert.equal(g.nodes.get("real")?.virtual, false);
    assert.deepEqual(q.take(), ["delete q"]);
  });
});
