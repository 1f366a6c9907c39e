import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { PersistentVolume, PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1.js";
import type { StorageClass } from "kubernetes-types/storage/v1.js";
import { Lister, type Indexer } from "../../../client/informer.js";
import { createLogger } from "../../../util/log.js";
import { FakeApi, RecordingEventSink, cachePut, conflictError, seedIndexer } from "../../testing/index.js";
import { POD_PVC_INDEX, podPVCIndexFunc } from "../common.js";
import { PersistentVolumeController } from "./controller.js";

const log = createLogger("silent");

interface PVOpts {
  size?: string;
  modes?: string[];
  cls?: string;
  phase?: string;
  reclaim?: string;
  ref?: { name: string; uid?: string; namespace?: string };
  annotations?: Record<string, string>;
  rv?: string;
}

function pv(name: string, o: PVOpts = {}): PersistentVolume {
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name, uid: `uid-${name}`, resourceVersion: o.rv ?? "10", ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec: {
      capacity: { storage: o.size ?? "1Gi" },
      accessModes: o.modes ?? ["ReadWriteOnce"],
      persistentVolumeReclaimPolicy: o.reclaim ?? "Retain",
      ...(o.cls !== undefined ? { storageClassName: o.cls } : {}),
      hostPath: { path: `/tmp/${name}` },
      ...(o.ref ? { claimRef: { kind: "PersistentVolumeClaim", apiVersion: "v1", namespace: o.ref.namespace ?? "ns", name: o.ref.name, ...(o.ref.uid !== undefined ? { uid: o.ref.uid } : {}) } } : {}),
    },
    status: { phase: o.phase ?? "Available" },
  };
}

interface PVCOpts {
  size?: string;
  modes?: string[];
  cls?: string | null;
  volumeName?: string;
  annotations?: Record<string, string>;
  phase?: string;
  uid?: string;
  rv?: string;
}

function pvc(name: string, o: PVCOpts = {}): PersistentVolumeClaim {
  const cls = o.cls === undefined ? "" : o.cls;
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name, namespace: "ns", uid: o.uid ?? `uid-${name}`, resourceVersion: o.rv ?? "20", ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec: {
      accessModes: o.modes ?? ["ReadWriteOnce"],
      resources: { requests: { storage: o.size ?? "1Gi" } },
      ...(cls !== null ? { storageClassName: cls } : {}),
      ...(o.volumeName ? { volumeName: o.volumeName } : {}),
    },
    status: { phase: o.phase ?? "Pending" },
  };
}

function sc(name: string, o: { provisioner?: string; mode?: "Immediate" | "WaitForFirstConsumer"; isDefault?: boolean; created?: string } = {}): StorageClass {
  return {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name, creationTimestamp: o.created ?? "2026-01-01T00:00:00Z", ...(o.isDefault ? { annotations: { "storageclass.kubernetes.io/is-default-class": "true" } } : {}) },
    provisioner: o.provisioner ?? "example.com/ext",
    volumeBindingMode: o.mode ?? "Immediate",
  };
}

class World {
  readonly api = new FakeApi();
  readonly volumes: Indexer<PersistentVolume> = seedIndexer<PersistentVolume>();
  readonly claims: Indexer<PersistentVolumeClaim> = seedIndexer<PersistentVolumeClaim>();
  readonly classes: Indexer<StorageClass> = seedIndexer<StorageClass>();
  readonly pods: Indexer<Pod> = seedIndexer<Pod>([], { [POD_PVC_INDEX]: podPVCIndexFunc });
  readonly events = new RecordingEventSink();
  readonly enqueued: string[] = [];
  readonly c = new PersistentVolumeController({
    api: this.api,
    volumes: new Lister(this.volumes),
    claims: new Lister(this.claims),
    classes: new Lister(this.classes),
    podsOfClaim: (key) => this.pods.byIndex(POD_PVC_INDEX, key),
    events: this.events,
    log,
    enqueueClaim: (key) => this.enqueued.push(key),
  });

  /** In the cache and, unless `live` is null, in the API. */
  volume(v: PersistentVolume, live: PersistentVolume | null = v): this {
    cachePut(this.volumes, v);
    if (live) this.api.seed("", "persistentvolumes", live);
    return this;
  }

  claim(c: PersistentVolumeClaim, live: PersistentVolumeClaim | null = c): this {
    cachePut(this.claims, c);
    if (live) this.api.seed("", "persistentvolumeclaims", live);
    return this;
  }

  cls(s: StorageClass): this {
    cachePut(this.classes, s);
    return this;
  }

  storedPV(name: string): PersistentVolume {
    return this.api.object<PersistentVolume>("", "persistentvolumes", "", name)!;
  }

  storedPVC(name: string): PersistentVolumeClaim {
    return this.api.object<PersistentVolumeClaim>("", "persistentvolumeclaims", "ns", name)!;
  }
}

void describe("PersistentVolumeController.syncClaim", () => {
  void it("binds an unbound claim to a matching volume: claimRef, phases, volumeName, annotations, capacity and modes", async () => {
    const w = new World().volume(pv("pv1", { size: "2Gi", modes: ["ReadWriteOnce", "ReadOnlyMany"] })).claim(pvc("data"));
    await w.c.syncClaim("ns/data");
    assert.deepEqual(w.api.verbs(), ["update persistentvolumes pv1", "updateStatus persistentvolumes/status pv1", "update persistentvolumeclaims ns/data", "updateStatus persistentvolumeclaims/status ns/data"]);
    const v = w.storedPV("pv1");
    assert.deepEqual(v.spec?.claimRef, { kind: "PersistentVolumeClaim", namespace: "ns", name: "data", uid: "uid-data", apiVersion: "v1", resourceVersion: "20" });
    assert.equal(v.metadata?.annotations?.["pv.kubernetes.io/bound-by-controller"], "yes");
    assert.equal(v.status?.phase, "Bound");
    const c = w.storedPVC("data");
    assert.equal(c.spec?.volumeName, "pv1");
    assert.deepEqual(c.metadata?.annotations, { "pv.kubernetes.io/bound-by-controller": "yes", "pv.kubernetes.io/bind-completed": "yes" });
    assert.deepEqual(c.status, { phase: "Bound", accessModes: ["ReadWriteOnce", "ReadOnlyMany"], capacity: { storage: "2Gi" } });
    assert.deepEqual(w.events.lines(), []);
  });

  void it("prefers the volume with the fewest extra access modes, then the smallest", async () => {
    const w = new World()
      .volume(pv("rwo-rox-1g", { size: "1Gi", modes: ["ReadWriteOnce", "ReadOnlyMany"] }))
      .volume(pv("rwo-5g", { size: "5Gi" }))
      .volume(pv("rwo-3g", { size: "3Gi" }))
      .claim(pvc("data"));
    await w.c.syncClaim("ns/data");
    assert.equal(w.storedPVC("data").spec?.volumeName, "rwo-3g");
  });

  void it("does not bind one volume to two claims while the cache still shows it free", async () => {
    const w = new World().volume(pv("only")).claim(pvc("a")).claim(pvc("b", { uid: "uid-b" }));
    await w.c.syncClaim("ns/a");
    w.api.clear();
    await w.c.syncClaim("ns/b");
    assert.deepEqual(w.api.verbs(), [], "the volume this controller just bound is not Available any more");
    assert.deepEqual(w.events.lines(), ["Normal FailedBinding no persistent volumes available for this claim and no storage class is set"]);
  });

  void it("says no volume and no class; writes nothing to a claim already Pending", async () => {
    const w = new World().claim(pvc("data"));
    await w.c.syncClaim("ns/data");
    assert.deepEqual(w.api.verbs(), []);
    assert.deepEqual(w.events.lines(), ["Normal FailedBinding no persistent volumes available for this claim and no storage class is set"]);
  });

  void it("waits for the first consumer of a WaitForFirstConsumer claim, even with a matching volume", async () => {
    const w = new World().cls(sc("wffc", { mode: "WaitForFirstConsumer" })).volume(pv("pv1", { cls: "wffc" })).claim(pvc("data", { cls: "wffc" }));
    await w.c.syncClaim("ns/data");
    assert.deepEqual(w.api.verbs(), []);
    assert.deepEqual(w.events.lines(), ["Normal WaitForFirstConsumer waiting for first consumer to be created before binding"]);

    w.events.clear();
    const pod = (name: string, nodeName?: string): Pod => ({
      metadata: { name, namespace: "ns", uid: `uid-${name}` },
      spec: { ...(nodeName ? { nodeName } : {}), containers: [], volumes: [{ name: "v", persistentVolumeClaim: { claimName: "data" } }] },
    });
    cachePut(w.pods, pod("web-0"));
    cachePut(w.pods, pod("web-1", "node-a"));
    await w.c.syncClaim("ns/data");
    assert.deepEqual(w.events.lines(), ["Normal WaitForPodScheduled waiting for pod web-0 to be scheduled"]);
    cachePut(w.pods, pod("web-2"));
    w.events.clear();
    await w.c.syncClaim("ns/data");
    assert.deepEqual(w.events.lines(), ["Normal WaitForPodScheduled waiting for pods web-0,web-2 to be scheduled"]);
  });

  void it("binds a WaitForFirstConsumer claim pre-bound to a volume at once", async () => {
    const w = new World().cls(sc("wffc", { mode: "WaitForFirstConsumer" })).volume(pv("mine", { cls: "wffc", ref: { name: "data" } })).claim(pvc("data", { cls: "wffc" }));
    await w.c.syncClaim("ns/data");
    assert.equal(w.storedPVC("data").spec?.volumeName, "mine");
    assert.equal(w.storedPV("mine").spec?.claimRef?.uid, "uid-data");
    assert.equal(w.storedPV("mine").metadata?.annotations, undefined, "the user bound it, not the controller");
  });

  void it("hands a claim with a selected node to its class's external provisioner, annotating it once and saying so each time", async () => {
    const w = new World().cls(sc("wffc", { mode: "WaitForFirstConsumer", provisioner: "k8ts.io/local-path" })).claim(pvc("data", { cls: "wffc", annotations: { "volume.kubernetes.io/selected-node": "n1" } }));
    await w.c.syncClaim("ns/data");
    assert.deepEqual(w.api.verbs(), ["update persistentvolumeclaims ns/data"]);
    const a = w.storedPVC("data").metadata?.annotations;
    assert.equal(a?.["volume.kubernetes.io/storage-provisioner"], "k8ts.io/local-path");
    assert.equal(a?.["volume.beta.kubernetes.io/storage-provisioner"], "k8ts.io/local-path");
    const msg =
      "Normal ExternalProvisioning Waiting for a volume to be created either by the external provisioner 'k8ts.io/local-path' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.";
    assert.deepEqual(w.events.lines(), [msg]);

    cachePut(w.claims, w.storedPVC("data"));
    w.api.clear();
    await w.c.syncClaim("ns/data");
    assert.deepEqual(w.api.verbs(), []);
    assert.deepEqual(w.events.lines(), [msg, msg]);
  });

  void it("hands an Immediate claim of a provisioning class to the provisioner", async () => {
    const w = new World().cls(sc("fast")).claim(pvc("data", { cls: "fast" }));
    await w.c.syncClaim("ns/data");
    assert.equal(w.storedPVC("data").metadata?.annotations?.["volume.kubernetes.io/storage-provisioner"], "example.com/ext");
  });

  void it("fails provisioning for a class that does not exist, or whose provisioner is in-tree", async () => {
    const missing = new World().claim(pvc("data", { cls: "gold" }));
    await missing.c.syncClaim("ns/data");
    assert.deepEqual(missing.api.verbs(), []);
    assert.deepEqual(missing.events.lines(), ['Warning ProvisioningFailed storageclass.storage.k8s.io "gold" not found']);

    const local = new World().cls(sc("local", { provisioner: "kubernetes.io/no-provisioner" })).claim(pvc("data", { cls: "local" }));
    await local.c.syncClaim("ns/data");
    assert.deepEqual(local.api.verbs(), []);
    assert.deepEqual(local.events.lines(), ["Warning ProvisioningFailed no volume plugin matched name: kubernetes.io/no-provisioner"]);
  });

  void it("gives a claim with no class (nil, not \"\") the default class, and nothing else that sync", async () => {
    const w = new World()
      .cls(sc("new", { isDefault: true, created: "2026-02-01T00:00:00Z" }))
      .cls(sc("alpha", { isDefault: true }))
      .cls(sc("plain"))
      .claim(pvc("data", { cls: null }));
    await w.c.syncClaim("ns/data");
    assert.deepEqual(w.api.verbs(), ["update persistentvolumeclaims ns/data"]);
    assert.equal(w.storedPVC("data").spec?.storageClassName, "new", "of several defaults, the newest");
    assert.deepEqual(w.events.lines(), []);

    const empty = new World().cls(sc("std", { isDefault: true })).claim(pvc("data", { cls: "" }));
    await empty.c.syncClaim("ns/data");
    assert.deepEqual(empty.api.verbs(), [], '"" asks for no class');

    const beta = new World().cls(sc("std", { isDefault: true })).claim(pvc("data", { cls: null, annotations: { "volume.beta.kubernetes.io/storage-class": "" } }));
    await beta.c.syncClaim("ns/data");
    assert.deepEqual(beta.api.verbs(), [], "the beta annotation names a class too");
  });

  void it("binds to the volume the claim names, if it fits", async () => {
    const w = new World().volume(pv("pv1")).volume(pv("pv2")).claim(pvc("data", { volumeName: "pv2" }));
    await w.c.syncClaim("ns/data");
    assert.equal(w.storedPV("pv2").spec?.claimRef?.uid, "uid-data");
    const c = w.storedPVC("data");
    assert.equal(c.status?.phase, "Bound");
    assert.equal(c.metadata?.annotations?.["pv.kubernetes.io/bound-by-controller"], undefined, "the user chose the volume");
    assert.equal(c.metadata?.annotations?.["pv.kubernetes.io/bind-completed"], "yes");
  });

  void it("refuses a named volume that does not fit, or that another claim holds", async () => {
    const small = new World().volume(pv("pv1", { size: "500Mi" })).claim(pvc("data", { volumeName: "pv1" }));
    await small.c.syncClaim("ns/data");
    assert.deepEqual(small.api.verbs(), []);
    assert.deepEqual(small.events.lines(), ['Warning VolumeMismatch Cannot bind to requested volume "pv1": requested PV is too small']);

    const taken = new World().volume(pv("pv1", { ref: { name: "other", uid: "uid-other" }, phase: "Bound" })).claim(pvc("data", { volumeName: "pv1" }));
    await taken.c.syncClaim("ns/data");
    assert.deepEqual(taken.api.verbs(), []);
    assert.deepEqual(taken.events.lines(), ['Warning FailedBinding volume "pv1" already bound to a different claim.']);

    const missing = new World().claim(pvc("data", { volumeName: "nope", phase: "Lost" }));
    await missing.c.syncClaim("ns/data");
    assert.deepEqual(missing.api.verbs(), ["updateStatus persistentvolumeclaims/status ns/data"]);
    assert.equal(missing.storedPVC("data").status?.phase, "Pending");
  });

  void it("marks a bound claim Lost when its volume is gone, or Misbound when the volume holds another claim; once", async () => {
    const done = { "pv.kubernetes.io/bind-completed": "yes" };
    const gone = new World().claim(pvc("data", { volumeName: "pv1", annotations: done, phase: "Bound" }));
    await gone.c.syncClaim("ns/data");
    assert.equal(gone.storedPVC("data").status?.phase, "Lost");
    assert.deepEqual(gone.events.lines(), ["Warning ClaimLost Bound claim has lost its PersistentVolume. Data on the volume is lost!"]);
    cachePut(gone.claims, gone.storedPVC("data"));
    await gone.c.syncClaim("ns/data");
    assert.equal(gone.events.lines().length, 1);

    const unref = new World().claim(pvc("data", { annotations: done, phase: "Bound" }));
    await unref.c.syncClaim("ns/data");
    assert.deepEqual(unref.events.lines(), ["Warning ClaimLost Bound claim has lost reference to PersistentVolume. Data on the volume is lost!"]);

    const mis = new World().volume(pv("pv1", { ref: { name: "data", uid: "uid-older" }, phase: "Bound" })).claim(pvc("data", { volumeName: "pv1", annotations: done, phase: "Bound" }));
    await mis.c.syncClaim("ns/data");
    assert.equal(mis.storedPVC("data").status?.phase, "Lost");
    assert.deepEqual(mis.events.lines(), ["Warning ClaimMisbound Two claims are bound to the same volume, this one is bound incorrectly"]);
  });

  void it("writes nothing for a claim and volume already bound", async () => {
    const done = { "pv.kubernetes.io/bind-completed": "yes" };
    const w = new World()
      .volume(pv("pv1", { ref: { name: "data", uid: "uid-data" }, phase: "Bound" }))
      .claim({ ...pvc("data", { volumeName: "pv1", annotations: done, phase: "Bound" }), status: { phase: "Bound", accessModes: ["ReadWriteOnce"], capacity: { storage: "1Gi" } } });
    await w.c.syncClaim("ns/data");
    assert.deepEqual(w.api.verbs(), []);
  });

  void it("fails the sync on a conflict, for the queue to retry", async () => {
    const w = new World().volume(pv("pv1")).claim(pvc("data"));
    w.api.failOn({ verb: "update", resource: "persistentvolumes" }, conflictError("persistentvolumes", "pv1"));
    await assert.rejects(w.c.syncClaim("ns/data"), (err: unknown) => (err as { code?: number }).code === 409);
  });
});

void describe("PersistentVolumeController.syncVolume", () => {
  void it("makes a new volume Available", async () => {
    const w = new World().volume(pv("pv1", { phase: "Pending" }));
    await w.c.syncVolume("pv1");
    assert.deepEqual(w.api.verbs(), ["updateStatus persistentvolumes/status pv1"]);
    assert.equal(w.storedPV("pv1").status?.phase, "Available");
  });

  void it("keeps a volume pre-bound without a uid Available and hands its claim to the claim sync, which fills the uid", async () => {
    const w = new World().volume(pv("pv1", { phase: "Pending", ref: { name: "data" } })).claim(pvc("data"));
    await w.c.syncVolume("pv1");
    assert.equal(w.storedPV("pv1").status?.phase, "Available");
    assert.deepEqual(w.enqueued, ["ns/data"]);
    await w.c.syncClaim("ns/data");
    assert.equal(w.storedPV("pv1").spec?.claimRef?.uid, "uid-data");
    assert.equal(w.storedPV("pv1").status?.phase, "Bound");
    assert.equal(w.storedPVC("data").spec?.volumeName, "pv1");
  });

  void it("releases a volume whose claim is gone, from the cache and the API; Retain leaves it so", async () => {
    const w = new World().volume(pv("pv1", { phase: "Bound", ref: { name: "data", uid: "uid-data" } }));
    await w.c.syncVolume("pv1");
    assert.deepEqual(
      w.api.actions.map((a) => `${a.verb} ${a.resource}${a.error ? " (failed)" : ""}`),
      ["get persistentvolumeclaims (failed)", "updateStatus persistentvolumes"],
    );
    assert.equal(w.storedPV("pv1").status?.phase, "Released");
    assert.deepEqual(w.events.lines(), []);
  });

  void it("does not release a volume whose claim the cache has not seen yet but the API has", async () => {
    const w = new World().volume(pv("pv1", { phase: "Bound", ref: { name: "data", uid: "uid-data" } }));
    w.api.seed("", "persistentvolumeclaims", pvc("data", { volumeName: "pv1" }));
    await w.c.syncVolume("pv1");
    assert.equal(w.storedPV("pv1").status?.phase, "Bound");
    assert.deepEqual(w.api.verbs(), []);
  });

  void it("releases a volume whose claim was deleted and made again under its name", async () => {
    const w = new World().volume(pv("pv1", { phase: "Bound", ref: { name: "data", uid: "uid-old" } })).claim(pvc("data", { uid: "uid-new" }));
    await w.c.syncVolume("pv1");
    assert.equal(w.storedPV("pv1").status?.phase, "Released");
  });

  void it("leaves a released Delete volume to the external provisioner that made it", async () => {
    const w = new World().volume(pv("pvc-1", { phase: "Bound", reclaim: "Delete", ref: { name: "data", uid: "uid-data" }, annotations: { "pv.kubernetes.io/provisioned-by": "k8ts.io/local-path" } }));
    await w.c.syncVolume("pvc-1");
    assert.equal(w.storedPV("pvc-1").status?.phase, "Released");
    assert.deepEqual(w.events.lines(), []);
    assert.deepEqual(w.api.verbs({ verb: "delete" }), []);
  });

  void it("fails a released Delete volume no provisioner made, and a Recycle one: there is no plugin for either", async () => {
    const del = new World().volume(pv("pv1", { phase: "Bound", reclaim: "Delete", ref: { name: "data", uid: "uid-data" } }));
    await del.c.syncVolume("pv1");
    const msg = 'error getting deleter volume plugin for volume "pv1": no deletable volume plugin matched';
    assert.deepEqual(del.events.lines(), [`Warning VolumeFailedDelete ${msg}`]);
    assert.deepEqual(del.storedPV("pv1").status, { phase: "Failed", message: msg });
    // Failed stays Failed, with no new event, on the next sync.
    cachePut(del.volumes, del.storedPV("pv1"));
    await del.c.syncVolume("pv1");
    assert.equal(del.events.lines().length, 1);

    const intree = new World().volume(pv("pv1", { phase: "Released", reclaim: "Delete", ref: { name: "data", uid: "uid-data" }, annotations: { "pv.kubernetes.io/provisioned-by": "kubernetes.io/host-path" } }));
    await intree.c.syncVolume("pv1");
    assert.deepEqual(intree.events.lines(), ["Warning VolumeFailedDelete no volume plugin matched name: kubernetes.io/host-path"]);

    const rec = new World().volume(pv("pv1", { phase: "Bound", reclaim: "Recycle", ref: { name: "data", uid: "uid-data" } }));
    await rec.c.syncVolume("pv1");
    assert.deepEqual(rec.events.lines(), ["Warning VolumeFailedRecycle No recycler plugin found for the volume!"]);
    assert.deepEqual(rec.storedPV("pv1").status, { phase: "Failed", message: "No recycler plugin found for the volume!" });
  });

  void it("marks a bound volume Bound, and hands a claim not yet pointing back to the claim sync", async () => {
    const w = new World().volume(pv("pv1", { phase: "Available", ref: { name: "data", uid: "uid-data" } })).claim(pvc("data", { volumeName: "pv1" }));
    await w.c.syncVolume("pv1");
    assert.equal(w.storedPV("pv1").status?.phase, "Bound");

    const half = new World().volume(pv("pv1", { phase: "Bound", ref: { name: "data", uid: "uid-data" } })).claim(pvc("data"));
    await half.c.syncVolume("pv1");
    assert.deepEqual(half.api.verbs(), []);
    assert.deepEqual(half.enqueued, ["ns/data"]);
  });

  void it("unbinds a volume the controller bound to a claim that went to another volume; a user's pre-binding keeps its name", async () => {
    const w = new World()
      .volume(pv("pv1", { phase: "Bound", ref: { name: "data", uid: "uid-data" }, annotations: { "pv.kubernetes.io/bound-by-controller": "yes" } }))
      .claim(pvc("data", { volumeName: "pv2" }));
    await w.c.syncVolume("pv1");
    const v = w.storedPV("pv1");
    assert.equal(v.spec?.claimRef, undefined);
    assert.equal(v.metadata?.annotations, undefined);
    assert.equal(v.status?.phase, "Available");

    const user = new World().volume(pv("pv1", { phase: "Bound", ref: { name: "data", uid: "uid-data" } })).claim(pvc("data", { volumeName: "pv2" }));
    await user.c.syncVolume("pv1");
    assert.equal(user.storedPV("pv1").spec?.claimRef?.name, "data");
    assert.equal(user.storedPV("pv1").spec?.claimRef?.uid, "");
    assert.equal(user.storedPV("pv1").status?.phase, "Available");
  });

  void it("warns both sides of a volumeMode mismatch and binds nothing", async () => {
    const v = pv("pv1", { phase: "Bound", ref: { name: "data", uid: "uid-data" } });
    v.spec!.volumeMode = "Block";
    const w = new World().volume(v).claim(pvc("data"));
    await w.c.syncVolume("pv1");
    assert.deepEqual(w.events.lines(), [
      'Warning VolumeMismatch Cannot bind PersistentVolume to requested PersistentVolumeClaim "data" due to incompatible volumeMode.',
      'Warning VolumeMismatch Cannot bind PersistentVolume "pv1" to requested PersistentVolumeClaim due to incompatible volumeMode.',
    ]);
    assert.deepEqual(w.enqueued, []);
  });
});
