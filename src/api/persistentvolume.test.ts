import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { PersistentVolume, PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1.js";
import type { StorageClass } from "kubernetes-types/storage/v1.js";
import type { LabelSelector } from "kubernetes-types/meta/v1.js";
import { claimClass, defaultStorageClass, ephemeralClaimIsForPod, ephemeralClaimName, findMatchingVolume, podClaims, volumeClass } from "./persistentvolume.js";

interface PVOpts {
  size?: string;
  modes?: string[];
  cls?: string;
  phase?: string;
  labels?: Record<string, string>;
  ref?: { name: string; namespace?: string; uid?: string };
  hostname?: string;
  volumeMode?: string;
  deleting?: boolean;
}

function pv(name: string, o: PVOpts = {}): PersistentVolume {
  return {
    metadata: { name, ...(o.labels ? { labels: o.labels } : {}), ...(o.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}) },
    spec: {
      capacity: { storage: o.size ?? "1Gi" },
      accessModes: o.modes ?? ["ReadWriteOnce"],
      ...(o.cls !== undefined ? { storageClassName: o.cls } : {}),
      ...(o.volumeMode ? { volumeMode: o.volumeMode } : {}),
      ...(o.ref ? { claimRef: { namespace: o.ref.namespace ?? "ns", name: o.ref.name, ...(o.ref.uid ? { uid: o.ref.uid } : {}) } } : {}),
      ...(o.hostname
        ? { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [o.hostname] }] }] } } }
        : {}),
    },
    status: { phase: o.phase ?? "Available" },
  };
}

function pvc(o: { size?: string; modes?: string[]; cls?: string; selector?: LabelSelector; volumeMode?: string } = {}): PersistentVolumeClaim {
  return {
    metadata: { name: "data", namespace: "ns", uid: "uid-data" },
    spec: {
      accessModes: o.modes ?? ["ReadWriteOnce"],
      resources: { requests: { storage: o.size ?? "1Gi" } },
      ...(o.cls !== undefined ? { storageClassName: o.cls } : {}),
      ...(o.selector ? { selector: o.selector } : {}),
      ...(o.volumeMode ? { volumeMode: o.volumeMode } : {}),
    },
  };
}

const node = (name: string) => ({ metadata: { name, labels: { "kubernetes.io/hostname": name } } });
const names = (v: PersistentVolume | undefined): string | undefined => v?.metadata?.name;

void describe("findMatchingVolume", () => {
  void it("picks the smallest Available volume that holds the request", () => {
    const vols = [pv("5g", { size: "5Gi" }), pv("small", { size: "500Mi" }), pv("2g", { size: "2Gi" }), pv("1g-bound", { size: "1Gi", phase: "Bound", ref: { name: "other", uid: "u" } })];
    assert.equal(names(findMatchingVolume(pvc({ size: "1Gi" }), vols)), "2g");
    assert.equal(names(findMatchingVolume(pvc({ size: "1500Mi" }), vols)), "2g");
    assert.equal(names(findMatchingVolume(pvc({ size: "3Gi" }), vols)), "5g");
    assert.equal(findMatchingVolume(pvc({ size: "10Gi" }), vols), undefined);
  });

  void it("skips volumes not Available: Pending, Released, or claimed by another claim", () => {
    assert.equal(findMatchingVolume(pvc(), [pv("p", { phase: "Pending" }), pv("r", { phase: "Released" })]), undefined);
    assert.equal(findMatchingVolume(pvc(), [pv("x", { ref: { name: "other" } })]), undefined, "reserved for another claim, even Available");
  });

  void it("returns the volume pre-bound to the claim before any other, whatever its class or selector, if it holds the request", () => {
    const vols = [pv("small", { size: "1Gi" }), pv("mine", { size: "10Gi", phase: "Bound", cls: "other", ref: { name: "data" } })];
    assert.equal(names(findMatchingVolume(pvc(), vols)), "mine");
    assert.equal(names(findMatchingVolume(pvc(), [pv("mine", { ref: { name: "data", uid: "uid-data" } })])), "mine", "the claim's uid matches");
    assert.equal(names(findMatchingVolume(pvc(), [pv("a", { ref: { name: "data", uid: "uid-older" } }), pv("b")])), "b", "the claimRef's uid is another claim's");
    assert.equal(names(findMatchingVolume(pvc({ size: "5Gi" }), [pv("mine", { size: "1Gi", ref: { name: "data" } }), pv("b", { size: "5Gi" })])), "b", "too small to be the one");
    assert.equal(names(findMatchingVolume(pvc(), [pv("elsewhere", { ref: { name: "data", namespace: "other" } })])), undefined, "another namespace's claim of that name");
  });

  void it("matches the class: \"\" and unset are the same, the beta annotation wins over the spec", () => {
    const vols = [pv("fast", { cls: "fast" }), pv("none")];
    assert.equal(names(findMatchingVolume(pvc({ cls: "fast" }), vols)), "fast");
    assert.equal(names(findMatchingVolume(pvc({ cls: "" }), vols)), "none");
    assert.equal(names(findMatchingVolume(pvc(), vols)), "none");
    assert.equal(findMatchingVolume(pvc({ cls: "slow" }), vols), undefined);
    const beta = pvc({ cls: "fast" });
    beta.metadata!.annotations = { "volume.beta.kubernetes.io/storage-class": "" };
    assert.equal(claimClass(beta), "");
    assert.equal(names(findMatchingVolume(beta, vols)), "none");
    const betaPV = pv("b");
    betaPV.metadata!.annotations = { "volume.beta.kubernetes.io/storage-class": "fast" };
    assert.equal(volumeClass(betaPV), "fast");
  });

  void it("needs every access mode the claim asks for, and the same volume mode", () => {
    const vols = [pv("rwo"), pv("rwx", { modes: ["ReadWriteMany", "ReadOnlyMany"], size: "2Gi" })];
    assert.equal(names(findMatchingVolume(pvc({ modes: ["ReadWriteMany"] }), vols)), "rwx");
    assert.equal(names(findMatchingVolume(pvc({ modes: ["ReadOnlyMany", "ReadWriteMany"] }), vols)), "rwx");
    assert.equal(findMatchingVolume(pvc({ modes: ["ReadWriteOnce", "ReadWriteMany"] }), vols), undefined);
    assert.equal(findMatchingVolume(pvc({ volumeMode: "Block" }), vols), undefined);
    assert.equal(names(findMatchingVolume(pvc({ volumeMode: "Block" }), [pv("blk", { volumeMode: "Block" })])), "blk");
    assert.equal(names(findMatchingVolume(pvc({ volumeMode: "Filesystem" }), [pv("fs")])), "fs", "Filesystem unless set");
    assert.equal(findMatchingVolume(pvc(), [pv("mine", { volumeMode: "Block", ref: { name: "data" } })]), undefined, "not even a pre-bound one");
  });

  void it("honours the claim's label selector", () => {
    const vols = [pv("a", { labels: { tier: "gold" } }), pv("b", { labels: { tier: "silver" } })];
    assert.equal(names(findMatchingVolume(pvc({ selector: { matchLabels: { tier: "silver" } } }), vols)), "b");
    assert.equal(names(findMatchingVolume(pvc({ selector: { matchExpressions: [{ key: "tier", operator: "NotIn", values: ["silver"] }] } }), vols)), "a");
    assert.equal(findMatchingVolume(pvc({ selector: { matchLabels: { tier: "bronze" } } }), vols), undefined);
  });

  void it("checks node affinity when given a node, for pre-bound volumes too", () => {
    const vols = [pv("on-a", { hostname: "a" }), pv("anywhere", { size: "5Gi" })];
    assert.equal(names(findMatchingVolume(pvc(), vols, { node: node("a") })), "on-a");
    assert.equal(names(findMatchingVolume(pvc(), vols, { node: node("b") })), "anywhere");
    assert.equal(names(findMatchingVolume(pvc(), vols)), "on-a", "without a node, affinity is not the PV controller's question");
    const prebound = [pv("mine", { hostname: "a", ref: { name: "data" } }), pv("other")];
    assert.equal(findMatchingVolume(pvc(), prebound, { node: node("b") }), undefined, "the pre-bound volume or none");
  });

  void it("with delayBinding and no node, matches only a pre-bound volume", () => {
    assert.equal(findMatchingVolume(pvc(), [pv("free")], { delayBinding: true }), undefined);
    assert.equal(names(findMatchingVolume(pvc(), [pv("free"), pv("mine", { ref: { name: "data" } })], { delayBinding: true })), "mine");
    assert.equal(names(findMatchingVolume(pvc(), [pv("free")], { delayBinding: true, node: node("a") })), "free", "the scheduler's question, with a node");
  });

  void it("skips volumes being deleted, and excluded ones", () => {
    assert.equal(findMatchingVolume(pvc(), [pv("going", { deleting: true })]), undefined);
    assert.equal(findMatchingVolume(pvc(), [pv("mine", { deleting: true, ref: { name: "data" } })]), undefined);
    assert.equal(names(findMatchingVolume(pvc(), [pv("a"), pv("b", { size: "2Gi" })], { excluded: new Set(["a"]) })), "b");
  });
});

void describe("podClaims", () => {
  void it("lists persistentVolumeClaim volumes by claim and ephemeral ones by the claim made for them", () => {
    const pod: Pod = {
      metadata: { name: "web", namespace: "ns", uid: "uid-web" },
      spec: {
        containers: [],
        volumes: [
          { name: "data", persistentVolumeClaim: { claimName: "shared", readOnly: true } },
          { name: "scratch", ephemeral: { volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } } } },
          { name: "cfg", configMap: { name: "c" } },
          { name: "logs", persistentVolumeClaim: { claimName: "logs" } },
        ],
      },
    };
    assert.deepEqual(podClaims(pod), [
      { volume: "data", claim: "shared", ephemeral: false, readOnly: true },
      { volume: "scratch", claim: "web-scratch", ephemeral: true, readOnly: false },
      { volume: "logs", claim: "logs", ephemeral: false, readOnly: false },
    ]);
    assert.deepEqual(podClaims({ metadata: { name: "bare" }, spec: { containers: [] } }), []);
    assert.equal(ephemeralClaimName(pod, "scratch"), "web-scratch");
  });

  void it("knows an ephemeral claim as the pod's only when the pod is its controller", () => {
    const pod: Pod = { metadata: { name: "web", namespace: "ns", uid: "uid-web" } };
    const claim = (refs: NonNullable<PersistentVolumeClaim["metadata"]>["ownerReferences"]): PersistentVolumeClaim => ({ metadata: { name: "web-scratch", namespace: "ns", ownerReferences: refs } });
    assert.equal(ephemeralClaimIsForPod(pod, claim([{ apiVersion: "v1", kind: "Pod", name: "web", uid: "uid-web", controller: true }])), true);
    assert.equal(ephemeralClaimIsForPod(pod, claim([{ apiVersion: "v1", kind: "Pod", name: "web", uid: "uid-web" }])), false, "an owner but not the controller");
    assert.equal(ephemeralClaimIsForPod(pod, claim([{ apiVersion: "v1", kind: "Pod", name: "web", uid: "uid-older", controller: true }])), false, "an earlier pod of the name");
    assert.equal(ephemeralClaimIsForPod(pod, claim(undefined)), false);
  });
});

void describe("defaultStorageClass", () => {
  const sc = (name: string, created: string, dflt: string | undefined, beta = false): StorageClass => ({
    metadata: { name, creationTimestamp: created, ...(dflt !== undefined ? { annotations: { [beta ? "storageclass.beta.kubernetes.io/is-default-class" : "storageclass.kubernetes.io/is-default-class"]: dflt } } : {}) },
    provisioner: "p",
  });

  void it("picks the newest class marked default, then the first by name", () => {
    assert.equal(defaultStorageClass([sc("a", "2026-01-01T00:00:00Z", undefined)]), undefined);
    assert.equal(defaultStorageClass([sc("a", "2026-01-01T00:00:00Z", "false")]), undefined);
    assert.equal(defaultStorageClass([sc("old", "2026-01-01T00:00:00Z", "true"), sc("new", "2026-02-01T00:00:00Z", "true", true)])?.metadata?.name, "new");
    assert.equal(defaultStorageClass([sc("b", "2026-01-01T00:00:00Z", "true"), sc("a", "2026-01-01T00:00:00Z", "true")])?.metadata?.name, "a");
  });
});
