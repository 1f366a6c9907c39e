// The provisioner's decisions and its directory handling, without an API server.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PersistentVolume, PersistentVolumeClaim } from "kubernetes-types/core/v1.js";
import type { StorageClass } from "kubernetes-types/storage/v1.js";
import { ANN_SELECTED_NODE, ANN_STORAGE_PROVISIONER, LOCAL_PATH_PROVISIONER } from "../../api/persistentvolume.js";
import { decideClaim, isReleasedForDeletion, localPathStorageClass, makeVolumeDir, ProvisionerError, provisionedVolume, removeVolumeDir, volumeDir } from "./volume.js";

const classes: Record<string, StorageClass> = {
  "local-path": localPathStorageClass(),
  now: { metadata: { name: "now" }, provisioner: LOCAL_PATH_PROVISIONER, volumeBindingMode: "Immediate" },
  other: { metadata: { name: "other" }, provisioner: "ebs.csi.aws.com", volumeBindingMode: "WaitForFirstConsumer" },
};
const classOf = (n: string): StorageClass | undefined => classes[n];

function claim(over: Partial<NonNullable<PersistentVolumeClaim["spec"]>> = {}, annotations: Record<string, string> = { [ANN_SELECTED_NODE]: "n1" }): PersistentVolumeClaim {
  return {
    metadata: { name: "data", namespace: "ns", uid: "u-1", resourceVersion: "7", annotations },
    spec: { storageClassName: "local-path", accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "2Gi" } }, ...over },
  };
}

describe("decideClaim", () => {
  it("provisions an unbound claim of its class whose selected node is this node", () => {
    assert.deepEqual(decideClaim(claim(), classOf, "n1"), { action: "provision", className: "local-path" });
    assert.deepEqual(decideClaim(claim({ accessModes: ["ReadWriteOncePod"] }), classOf, "n1"), { action: "provision", className: "local-path" });
  });

  it("ignores other nodes' claims, bound or deleted claims, other provisioners' classes, and claims still waiting for a node", () => {
    const ignore = { action: "ignore" };
    assert.deepEqual(decideClaim(claim(), classOf, "n2"), ignore);
    assert.deepEqual(decideClaim(claim({ volumeName: "pv" }), classOf, "n1"), ignore);
    assert.deepEqual(decideClaim({ ...claim(), metadata: { ...claim().metadata, deletionTimestamp: "2026-01-01T00:00:00Z" } }, classOf, "n1"), ignore);
    assert.deepEqual(decideClaim(claim({ storageClassName: "other" }), classOf, "n1"), ignore);
    assert.deepEqual(decideClaim(claim({ storageClassName: "absent" }), classOf, "n1"), ignore);
    assert.deepEqual(decideClaim(claim({}, {}), classOf, "n1"), ignore);
    assert.deepEqual(decideClaim(claim({}, { [ANN_SELECTED_NODE]: "n1", [ANN_STORAGE_PROVISIONER]: "someone.else" }), classOf, "n1"), ignore);
  });

  it("refuses what a node-local directory cannot be, with rancher's and the external-provisioner's messages", () => {
    const refuse = (message: string): unknown => ({ action: "refuse", message });
    assert.deepEqual(
      decideClaim(claim({ accessModes: ["ReadWriteMany"] }), classOf, "n1"),
      refuse('failed to provision volume with StorageClass "local-path": NodePath only supports ReadWriteOnce and ReadWriteOncePod (1.22+) access modes'),
    );
    assert.deepEqual(decideClaim(claim({ accessModes: ["ReadWriteOnce", "ReadOnlyMany"] }), classOf, "n1"), refuse('failed to provision volume with StorageClass "local-path": NodePath only supports ReadWriteOnce and ReadWriteOncePod (1.22+) access modes'));
    assert.deepEqual(decideClaim(claim({ volumeMode: "Block" }), classOf, "n1"), refuse("k8ts.io/local-path does not support block volume provisioning"));
    assert.deepEqual(decideClaim(claim({ selector: { matchLabels: { a: "b" } } }), classOf, "n1"), refuse('failed to provision volume with StorageClass "local-path": claim.Spec.Selector is not supported'));
    assert.equal(decideClaim(claim({ storageClassName: "now" }, {}), classOf, "n1").action, "refuse");
    assert.match(
      (decideClaim(claim({ storageClassName: "now" }, {}), classOf, "n1") as { message: string }).message,
      /^failed to provision volume with StorageClass "now": configuration error, no node was specified \(.*must have volumeBindingMode WaitForFirstConsumer\)$/,
    );
  });
});

describe("provisionedVolume", () => {
  it("a hostPath PV pre-bound to the claim, on this node, of the claim's size and modes and the class's policy", () => {
    const c = claim();
    const pv = provisionedVolume(c, { ...localPathStorageClass(), reclaimPolicy: "Retain" }, "local-path", "/data/agent/storage/pvc-u-1_ns_data", "host-1");
    assert.deepEqual(pv, {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: "pvc-u-1", annotations: { "pv.kubernetes.io/provisioned-by": "k8ts.io/local-path" } },
      spec: {
        capacity: { storage: "2Gi" },
        accessModes: ["ReadWriteOnce"],
        volumeMode: "Filesystem",
        storageClassName: "local-path",
        persistentVolumeReclaimPolicy: "Retain",
        hostPath: { path: "/data/agent/storage/pvc-u-1_ns_data", type: "DirectoryOrCreate" },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["host-1"] }] }] } },
        claimRef: { kind: "PersistentVolumeClaim", apiVersion: "v1", namespace: "ns", name: "data", uid: "u-1", resourceVersion: "7" },
      },
    });
    assert.equal(volumeDir("/root", c), "/root/pvc-u-1_ns_data");
    assert.throws(() => volumeDir("/root", { metadata: { uid: "../x", namespace: "ns", name: "n" } }), ProvisionerError);
  });

  it("only Released Delete volumes it made on this node are its to delete", () => {
    const pv = (over: Partial<PersistentVolume> = {}): PersistentVolume => ({
      ...provisionedVolume(claim(), localPathStorageClass(), "local-path", "/s/pvc-u-1_ns_data", "host-1"),
      status: { phase: "Released" },
      ...over,
    });
    assert.ok(isReleasedForDeletion(pv(), "n1", "host-1"));
    assert.ok(!isReleasedForDeletion(pv(), "n2", "host-2"));
    assert.ok(!isReleasedForDeletion(pv({ status: { phase: "Bound" } }), "n1", "host-1"));
    const retained = pv();
    retained.spec!.persistentVolumeReclaimPolicy = "Retain";
    assert.ok(!isReleasedForDeletion(retained, "n1", "host-1"));
    assert.ok(!isReleasedForDeletion({ ...pv(), metadata: { name: "pvc-u-1" } }, "n1", "host-1"));
    const anywhere = pv();
    delete anywhere.spec!.nodeAffinity;
    assert.ok(!isReleasedForDeletion(anywhere, "n1", "host-1"));
  });
});

describe("volume directories", () => {
  let root: string;
  let outside: string;
  before(() => {
    const base = mkdtempSync(join(tmpdir(), "k8ts-provisioner-"));
    root = join(base, "storage");
    outside = join(base, "outside");
    mkdirSync(outside);
    writeFileSync(join(outside, "precious"), "keep");
  });
  after(() => rmSync(join(root, ".."), { recursive: true, force: true }));

  it("makes 0777 directories (again is fine) and removes them without following symlinks", async () => {
    const dir = join(root, "pvc-a_ns_data");
    await makeVolumeDir(root, dir);
    assert.equal(statSync(dir).mode & 0o777, 0o777);
    await makeVolumeDir(root, dir);
    writeFileSync(join(dir, "file"), "x");
    mkdirSync(join(dir, "sub"));
    symlinkSync(outside, join(dir, "sub", "link"));
    await removeVolumeDir(root, dir);
    assert.ok(!existsSync(dir));
    assert.equal(readFileSync(join(outside, "precious"), "utf8"), "keep");
    await removeVolumeDir(root, dir);

    // A pvc-… symlink in the root is unlinked, its target left.
    const link = join(root, "pvc-b_ns_data");
    symlinkSync(outside, link);
    await removeVolumeDir(root, link);
    assert.ok(!existsSync(link));
    assert.equal(readFileSync(join(outside, "precious"), "utf8"), "keep");
  });

  it("refuses anything but a pvc-… child of the storage root", async () => {
    for (const p of [outside, join(root, "not-a-pvc"), join(root, "pvc-x", "deeper"), join(root, "..", "outside"), root, join(root, "pvc-x/../../outside")]) {
      await assert.rejects(removeVolumeDir(root, p), (err: unknown) => err instanceof ProvisionerError && err.code === "NotOurs", p);
    }
    assert.ok(existsSync(join(outside, "precious")));
  });
});
