import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { PersistentVolume, PersistentVolumeClaim } from "kubernetes-types/core/v1.js";
import type { DeepReadonly } from "../../../client/objects.js";
import { claimBoundToVolume, claimStatusFor, isDelayBindingMode, volumeBoundToClaim, volumeUnsatisfiedReason } from "./binding.js";
import { WrittenVersions } from "./cache.js";

const ro = <T,>(v: T): DeepReadonly<T> => v as DeepReadonly<T>;
const claim = (o: Partial<PersistentVolumeClaim> = {}): DeepReadonly<PersistentVolumeClaim> =>
  ro({ metadata: { name: "data", namespace: "ns", uid: "u1", resourceVersion: "7" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } }, ...o });
const volume = (o: Partial<PersistentVolume> = {}): DeepReadonly<PersistentVolume> =>
  ro({ metadata: { name: "pv1" }, spec: { capacity: { storage: "2Gi" }, accessModes: ["ReadWriteOnce"] }, ...o });

void describe("volumeBoundToClaim", () => {
  void it("sets claimRef and bound-by-controller on a free volume; only the uid on a pre-bound one; nothing when done", () => {
    const free = volumeBoundToClaim(volume(), claim());
    assert.deepEqual(free?.spec?.claimRef, { kind: "PersistentVolumeClaim", namespace: "ns", name: "data", uid: "u1", apiVersion: "v1", resourceVersion: "7" });
    assert.deepEqual(free?.metadata?.annotations, { "pv.kubernetes.io/bound-by-controller": "yes" });

    const pre = volumeBoundToClaim(volume({ spec: { claimRef: { namespace: "ns", name: "data" } } }), claim());
    assert.equal(pre?.spec?.claimRef?.uid, "u1");
    assert.equal(pre?.metadata?.annotations, undefined);

    assert.equal(volumeBoundToClaim(ro(free!), claim()), undefined);
  });
});

void describe("claimBoundToVolume", () => {
  void it("sets volumeName with bound-by-controller, and bind-completed; nothing when done", () => {
    const c = claimBoundToVolume(claim(), volume());
    assert.equal(c?.spec?.volumeName, "pv1");
    assert.deepEqual(c?.metadata?.annotations, { "pv.kubernetes.io/bound-by-controller": "yes", "pv.kubernetes.io/bind-completed": "yes" });
    const named = claimBoundToVolume(claim({ spec: { volumeName: "pv1" } }), volume());
    assert.deepEqual(named?.metadata?.annotations, { "pv.kubernetes.io/bind-completed": "yes" }, "the user named the volume");
    assert.equal(claimBoundToVolume(ro(c!), volume()), undefined);
  });
});

void describe("claimStatusFor", () => {
  void it("copies capacity only when the claim becomes Bound, so a resize in progress is not undone", () => {
    assert.deepEqual(claimStatusFor(claim({ status: { phase: "Pending" } }), "Bound", volume()), { phase: "Bound", accessModes: ["ReadWriteOnce"], capacity: { storage: "2Gi" } });
    const bound = claim({ status: { phase: "Bound", accessModes: ["ReadWriteOnce"], capacity: { storage: "5Gi" } } });
    assert.equal(claimStatusFor(bound, "Bound", volume()), undefined);
    assert.deepEqual(claimStatusFor(bound, "Lost", undefined), { phase: "Lost" }, "no volume: modes and capacity cleared");
    assert.equal(claimStatusFor(claim({ status: { phase: "Pending" } }), "Pending", undefined), undefined);
  });
});

void describe("volumeUnsatisfiedReason", () => {
  void it("gives upstream's reasons", () => {
    assert.equal(volumeUnsatisfiedReason(volume(), claim()), undefined);
    assert.equal(volumeUnsatisfiedReason(volume({ metadata: { name: "pv1", deletionTimestamp: "2026-01-01T00:00:00Z" } }), claim()), 'the volume is marked for deletion "pv1"');
    assert.equal(volumeUnsatisfiedReason(volume({ spec: { capacity: { storage: "1Mi" }, accessModes: ["ReadWriteOnce"] } }), claim()), "requested PV is too small");
    assert.equal(volumeUnsatisfiedReason(volume({ spec: { capacity: { storage: "2Gi" }, accessModes: ["ReadWriteOnce"], storageClassName: "x" } }), claim()), "storageClassName does not match");
    assert.equal(volumeUnsatisfiedReason(volume({ spec: { capacity: { storage: "2Gi" }, accessModes: ["ReadWriteOnce"], volumeMode: "Block" } }), claim()), "incompatible volumeMode");
    assert.equal(volumeUnsatisfiedReason(volume({ spec: { capacity: { storage: "2Gi" }, accessModes: ["ReadOnlyMany"] } }), claim()), "incompatible accessMode");
  });
});

void describe("isDelayBindingMode", () => {
  void it("is true only for an existing WaitForFirstConsumer class; a class without a mode is an error", () => {
    const classes: Record<string, { volumeBindingMode?: string; provisioner: string }> = { wffc: { volumeBindingMode: "WaitForFirstConsumer", provisioner: "p" }, now: { volumeBindingMode: "Immediate", provisioner: "p" }, broken: { provisioner: "p" } };
    const get = (n: string) => (classes[n] ? ro({ metadata: { name: n }, ...classes[n] }) : undefined);
    const of = (cls: string) => claim({ spec: { storageClassName: cls } });
    assert.equal(isDelayBindingMode(of("wffc"), get), true);
    assert.equal(isDelayBindingMode(of("now"), get), false);
    assert.equal(isDelayBindingMode(of("missing"), get), false);
    assert.equal(isDelayBindingMode(of(""), get), false);
    assert.throws(() => isDelayBindingMode(of("broken"), get), /VolumeBindingMode not set for StorageClass "broken"/);
  });
});

void describe("WrittenVersions", () => {
  void it("lays a newer written copy over the cache until the cache catches up, never resurrecting a gone object", () => {
    const w = new WrittenVersions<PersistentVolume>();
    const at = (rv: string, uid = "a"): DeepReadonly<PersistentVolume> => ro({ metadata: { name: "pv1", uid, resourceVersion: rv } });
    w.remember(at("12") as PersistentVolume);
    assert.equal(w.latest(at("10"))?.metadata?.resourceVersion, "12");
    assert.equal(w.latest(undefined), undefined);
    assert.equal(w.latest(at("10", "b"))?.metadata?.uid, "b", "another object under the name");
    w.remember(at("12") as PersistentVolume);
    assert.equal(w.latest(at("13"))?.metadata?.resourceVersion, "13");
    assert.equal(w.size, 0, "caught up: dropped");
  });
});
