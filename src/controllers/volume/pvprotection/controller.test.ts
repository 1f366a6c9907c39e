import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { PersistentVolume } from "kubernetes-types/core/v1.js";
import { Lister, type Indexer } from "../../../client/informer.js";
import type { DeepReadonly } from "../../../client/objects.js";
import { createLogger } from "../../../util/log.js";
import { FakeApi, cachePut, seedIndexer } from "../../testing/index.js";
import { PVProtectionController, PVProtectionEventHandlers } from "./controller.js";

const log = createLogger("silent");
const FIN = "kubernetes.io/pv-protection";

function pv(o: { finalizers?: string[]; deleting?: boolean; phase?: string } = {}): PersistentVolume {
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name: "pv1", uid: "uid-pv1", resourceVersion: "5", ...(o.finalizers ? { finalizers: o.finalizers } : {}), ...(o.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}) },
    spec: { capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"], hostPath: { path: "/tmp/pv1" } },
    status: { phase: o.phase ?? "Available" },
  };
}

function world(v: PersistentVolume): { api: FakeApi; c: PVProtectionController; finalizers: () => string[] | undefined } {
  const api = new FakeApi();
  const volumes: Indexer<PersistentVolume> = seedIndexer<PersistentVolume>();
  cachePut(volumes, v);
  api.seed("", "persistentvolumes", v);
  const c = new PVProtectionController({ api, volumes: new Lister(volumes), log });
  return { api, c, finalizers: () => api.object<PersistentVolume>("", "persistentvolumes", "", "pv1")?.metadata?.finalizers };
}

void describe("PVProtectionController.sync", () => {
  void it("adds the finalizer to a live volume without it", async () => {
    const w = world(pv());
    await w.c.sync("pv1");
    assert.deepEqual(w.api.verbs(), ["update persistentvolumes pv1"]);
    assert.deepEqual(w.finalizers(), [FIN]);
  });

  void it("keeps the finalizer on a deleting volume while it is Bound", async () => {
    const w = world(pv({ finalizers: [FIN], deleting: true, phase: "Bound" }));
    await w.c.sync("pv1");
    assert.deepEqual(w.api.verbs(), []);
  });

  void it("takes the finalizer off a deleting volume that is not Bound", async () => {
    for (const phase of ["Released", "Available", "Failed", "Pending"]) {
      const w = world(pv({ finalizers: ["x", FIN], deleting: true, phase }));
      await w.c.sync("pv1");
      assert.deepEqual(w.finalizers(), ["x"], phase);
    }
  });

  void it("leaves a deleting volume without the finalizer alone", async () => {
    const w = world(pv({ deleting: true, finalizers: ["x"] }));
    await w.c.sync("pv1");
    assert.deepEqual(w.api.verbs(), []);
  });
});

void describe("PVProtectionEventHandlers", () => {
  void it("enqueues only volumes that need the finalizer added or may lose it", () => {
    const keys: string[] = [];
    const h = new PVProtectionEventHandlers((k) => keys.push(k));
    const ro = (v: PersistentVolume): DeepReadonly<PersistentVolume> => v as DeepReadonly<PersistentVolume>;
    h.onAdd(ro(pv({ finalizers: [FIN] })));
    assert.deepEqual(keys, []);
    h.onAdd(ro(pv()));
    h.onUpdate(ro(pv({ finalizers: [FIN] })), ro(pv({ finalizers: [FIN], deleting: true })));
    assert.deepEqual(keys, ["pv1", "pv1"]);
  });
});
