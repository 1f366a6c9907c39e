import { test } from "node:test";
import assert from "node:assert/strict";
import type { KubeObject, StrategyContext } from "../registry/types.js";
import { csiDrivers, csiNodes, csiStorageCapacities, volumeAttachments } from "./csi.js";
import { strategyDriver } from "../../testing/strategy.js";

const now = new Date("2024-05-01T12:00:00Z");
const ctx: StrategyContext = { namespace: "", now, user: { username: "admin", groups: [] } };

function mk(extra: Record<string, unknown>, md: Record<string, unknown> = {}): KubeObject {
  return { metadata: { name: "csi.example.com", resourceVersion: "1", creationTimestamp: "2024-05-01T11:00:00Z", ...md }, ...extra };
}

const { create, update } = strategyDriver(ctx);

void test("CSIDriver: upstream's defaults, validation and columns", () => {
  const d = mk({ spec: { tokenRequests: [{ audience: "vault" }] } });
  assert.deepEqual(create(csiDrivers, d), []);
  assert.deepEqual(d["spec"], { tokenRequests: [{ audience: "vault" }], attachRequired: true, podInfoOnMount: false, storageCapacity: false, fsGroupPolicy: "ReadWriteOnceWithFSType", requiresRepublish: false, seLinuxMount: false, volumeLifecycleModes: ["Persistent"] });
  assert.deepEqual(csiDrivers.table!.row(d, now), ["csi.example.com", true, false, false, "vault", false, "Persistent", "60m"]);
  assert.deepEqual(csiDrivers.table!.row(mk({ spec: {} }), now).slice(4, 7), ["<unset>", false, "<none>"]);

  const bad = create(csiDrivers, mk({ spec: { fsGroupPolicy: "Sometimes", volumeLifecycleModes: ["Forever"], tokenRequests: [{ audience: "a", expirationSeconds: 60 }, { audience: "a" }, { audience: "b", expirationSeconds: 2 ** 33 }] } }));
  assert.deepEqual(bad, [
    'spec.fsGroupPolicy: Unsupported value: "Sometimes": supported values: "File", "None", "ReadWriteOnceWithFSType"',
    "spec.tokenRequests[0].expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes",
    'spec.tokenRequests[1].audience: Duplicate value: "a"',
    "spec.tokenRequests[2].expirationSeconds: Invalid value: 8589934592: may not specify a duration larger than 2^32 seconds",
    'spec.volumeLifecycleModes: Unsupported value: "Forever": supported values: "Persistent", "Ephemeral"',
  ]);
  // attachRequired keeps upstream's spelling of its path.
  const changed = update(csiDrivers, mk({ spec: { attachRequired: false } }), d);
  assert.deepEqual(changed, ["spec.attachedRequired: Invalid value: false: field is immutable"]);
  assert.deepEqual(update(csiDrivers, mk({ spec: { attachRequired: true, podInfoOnMount: true, tokenRequests: [{ audience: "vault" }] } }), d), []);
});

void test("CSINode: drivers' names, node IDs and topology keys, and registered entries immutable", () => {
  const n = mk({ spec: { drivers: [{ name: "csi.example.com", nodeID: "node-1", topologyKeys: ["topology.example.com/zone"], allocatable: { count: 8 } }] } }, { name: "node-1" });
  assert.deepEqual(create(csiNodes, n), []);
  assert.deepEqual(csiNodes.table!.row(n, now), ["node-1", 1, "60m"]);
  const bad = create(csiNodes, mk({ spec: { drivers: [{ name: "-bad-", nodeID: "" }, { name: "x.example.com", nodeID: "n".repeat(193), topologyKeys: ["", "k", "k"] }, { name: "x.example.com", nodeID: "n", allocatable: { count: -1 } }] } }, { name: "node-1" }));
  assert.ok(bad.some((e) => e.startsWith('spec.drivers[0].name: Invalid value: "-bad-": a lowercase RFC 1123 subdomain')), bad.join("\n"));
  assert.ok(bad.includes("spec.drivers[0].nodeID: Required value"), bad.join("\n"));
  assert.ok(bad.some((e) => e.startsWith("spec.drivers[1].nodeID: Invalid value: ") && e.endsWith("must be 192 characters or less")), bad.join("\n"));
  assert.ok(bad.includes('spec.drivers[1]: Duplicate value: "k"'), bad.join("\n"));
  assert.ok(bad.includes('spec.drivers[2].name: Duplicate value: "x.example.com"'), bad.join("\n"));
  assert.ok(bad.includes("spec.drivers[2].allocatable.count: Invalid value: -1: must be greater than or equal to 0"), bad.join("\n"));
  const moved = update(csiNodes, mk({ spec: { drivers: [{ name: "csi.example.com", nodeID: "node-2" }] } }, { name: "node-1" }), n);
  assert.ok(moved.length === 1 && moved[0]!.startsWith("spec.drivers: Invalid value: ") && moved[0]!.endsWith("field is immutable"), moved.join("\n"));
  assert.deepEqual(update(csiNodes, mk({ spec: { drivers: [] } }, { name: "node-1" }), n), [], "a driver may go");
});

void test("VolumeAttachment: exactly one source, a created one unattached, its spec immutable", () => {
  const spec = { attacher: "csi.example.com", nodeName: "node-1", source: { persistentVolumeName: "pv-1" } };
  const va = mk({ spec, status: { attached: true } }, { name: "csi-abc" });
  assert.deepEqual(create(volumeAttachments, va), []);
  assert.deepEqual(va["status"], { attached: false });
  assert.deepEqual(volumeAttachments.table!.row(va, now), ["csi-abc", "csi.example.com", "pv-1", "node-1", false, "60m"]);
  assert.deepEqual(create(volumeAttachments, mk({ spec: { ...spec, source: {} } }, { name: "a" })), ["spec.source: Required value: must specify exactly one of inlineVolumeSpec and persistentVolumeName"]);
  assert.deepEqual(create(volumeAttachments, mk({ spec: { ...spec, source: { persistentVolumeName: "pv", inlineVolumeSpec: {} } } }, { name: "a" })), ["spec.source: Forbidden: must specify exactly one of inlineVolumeSpec and persistentVolumeName"]);
  assert.deepEqual(create(volumeAttachments, mk({ spec: { ...spec, attacher: "" } }, { name: "a" })), ["spec.attacher: Required value"]);
  const moved = update(volumeAttachments, mk({ spec: { ...spec, nodeName: "node-2" } }, { name: "csi-abc" }), va);
  assert.ok(moved.length === 1 && moved[0]!.startsWith("spec: Invalid value: ") && moved[0]!.endsWith("field is immutable"), moved.join("\n"));
  const status = volumeAttachments.strategy.validateStatusUpdate!(mk({ spec, status: { attached: true, attachError: { message: "x".repeat(1025) } } }, { name: "csi-abc" }), va, ctx).map(String);
  assert.deepEqual(status, ["status.attachError.message: Too long: may not be more than 262144 bytes"]);
});

void test("CSIStorageCapacity: canonical quantities, no negative capacity, what the driver was asked immutable", () => {
  const c = mk({ storageClassName: "fast", capacity: "1024Mi", maximumVolumeSize: "0.5Gi", nodeTopology: { matchLabels: { zone: "a" } } }, { name: "cap-1", namespace: "kube-system" });
  assert.deepEqual(create(csiStorageCapacities, c), []);
  assert.deepEqual([c["capacity"], c["maximumVolumeSize"]], ["1Gi", "512Mi"]);
  // Upstream's storage of this kind serves the default table, not its printer's columns.
  assert.deepEqual(csiStorageCapacities.table!.columns.map((col) => col.name), ["Name", "Created At"]);
  assert.deepEqual(create(csiStorageCapacities, mk({ storageClassName: "fast", capacity: "-1Gi" }, { name: "cap-2", namespace: "kube-system" })), ['capacity: Invalid value: "-1Gi": must be greater than or equal to 0']);
  const moved = update(csiStorageCapacities, mk({ storageClassName: "slow", capacity: "2Gi", nodeTopology: { matchLabels: { zone: "a" } } }, { name: "cap-1", namespace: "kube-system" }), c);
  assert.deepEqual(moved, ['storageClassName: Invalid value: "slow": field is immutable']);
});
