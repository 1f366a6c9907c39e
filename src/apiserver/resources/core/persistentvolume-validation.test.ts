import { test } from "node:test";
import assert from "node:assert/strict";
import type { KubeObject, StrategyContext } from "../../registry/types.js";
import { strategyDriver } from "../../../testing/strategy.js";
import { pods } from "./pod.js";
import { persistentVolumeClaims, persistentVolumes } from "./other.js";

const ctx: StrategyContext = { namespace: "default", now: new Date("2024-05-01T12:00:00Z"), user: { username: "admin", groups: [] } };
const { create, update } = strategyDriver(ctx);

const pv = (spec: Record<string, unknown>, md: Record<string, unknown> = {}): KubeObject => ({ metadata: { name: "pv", resourceVersion: "1", ...md }, spec });
const okPV = (extra: Record<string, unknown> = {}): KubeObject => pv({ capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"], hostPath: { path: "/data" }, ...extra });
const pvc = (spec: Record<string, unknown>, md: Record<string, unknown> = {}, status?: Record<string, unknown>): KubeObject => ({
  metadata: { name: "c", namespace: "default", resourceVersion: "1", ...md },
  spec,
  ...(status ? { status } : {}),
});
/** As stored: defaulted and prepared by a create (the status given kept). */
function stored(obj: KubeObject): KubeObject {
  const status = obj.status;
  create(persistentVolumeClaims, obj);
  if (status) obj.status = status;
  return obj;
}
const okSpec = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, ...extra });

void test("PersistentVolume: access modes, capacity, reclaim policy, one volume source, in upstream's order", () => {
  assert.deepEqual(create(persistentVolumes, okPV()), []);
  assert.deepEqual(create(persistentVolumes, pv({})), [
    "spec.accessModes: Required value",
    "spec.capacity: Required value",
    'spec.capacity: Unsupported value: core.ResourceList(nil): supported values: "storage"',
    "spec: Required value: must specify a volume type",
  ]);
  assert.deepEqual(create(persistentVolumes, okPV({ accessModes: ["ReadWriteOncePod", "ReadWriteOnce"] })), ["spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes"]);
  // An unknown mode is refused as such, not also as "another mode" beside ReadWriteOncePod.
  assert.deepEqual(create(persistentVolumes, okPV({ accessModes: ["ReadWriteOncePod", "WriteOnly"] })), [
    'spec.accessModes: Unsupported value: "WriteOnly": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"',
  ]);
  assert.deepEqual(create(persistentVolumes, okPV({ capacity: { storage: "0" } })), ['spec.capacity[storage]: Invalid value: "0": must be greater than zero']);
  assert.deepEqual(create(persistentVolumes, okPV({ persistentVolumeReclaimPolicy: "Keep" })), ['spec.persistentVolumeReclaimPolicy: Unsupported value: "Keep": supported values: "Delete", "Recycle", "Retain"']);
  assert.deepEqual(create(persistentVolumes, okPV({ nfs: { server: "s", path: "/x" }, csi: { driver: "d", volumeHandle: "h" } })), [
    "spec.nfs: Forbidden: may not specify more than 1 volume type",
    "spec.csi: Forbidden: may not specify more than 1 volume type",
  ]);
  assert.deepEqual(create(persistentVolumes, okPV({ hostPath: { path: "/", type: "Dir" }, persistentVolumeReclaimPolicy: "Recycle" })), [
    'spec.hostPath.type: Unsupported value: "Dir": supported values: "", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"',
    "spec.persistentVolumeReclaimPolicy: Forbidden: may not be 'recycle' for a hostPath mount of '/'",
  ]);
  assert.deepEqual(create(persistentVolumes, okPV({ hostPath: { path: "/data/../etc" } })), ["spec.hostPath.path: Invalid value: \"/data/../etc\": must not contain '..'"]);
  assert.deepEqual(create(persistentVolumes, okPV({ hostPath: {} })), ["spec.hostPath.path: Required value"]);
  assert.deepEqual(create(persistentVolumes, okPV({ hostPath: undefined, csi: { driver: "" } })), [
    "spec.csi.driver: Required value",
    "spec.csi.driver: Invalid value: \"\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    "spec.csi.volumeHandle: Required value",
  ]);
  assert.deepEqual(create(persistentVolumes, okPV({ hostPath: undefined, local: { path: "" }, nodeAffinity: { required: { nodeSelectorTerms: [{}] } } })), ["spec.local.path: Required value"]);
  assert.deepEqual(create(persistentVolumes, okPV({ storageClassName: "Fast" })).length, 1);
});

void test("PersistentVolume updates: the source and volume mode stay; volumeAttributesClassName is dropped (gate off in 1.32)", () => {
  const old = okPV();
  assert.deepEqual(create(persistentVolumes, old), []);
  assert.deepEqual(update(persistentVolumes, okPV({ hostPath: { path: "/other" } }), old), ["spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after creation"]);
  assert.deepEqual(update(persistentVolumes, okPV({ volumeMode: "Block" }), old), ['volumeMode: Invalid value: "Block": field is immutable']);
  const withVac = okPV({ volumeAttributesClassName: "gold" });
  assert.deepEqual(create(persistentVolumes, withVac), []);
  assert.equal((withVac.spec as Record<string, unknown>).volumeAttributesClassName, undefined);
  // A CSI volume may be given the controllerExpandSecretRef it lacked.
  const csi = pv({ capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"], csi: { driver: "d.example.com", volumeHandle: "h" } });
  create(persistentVolumes, csi);
  const expanded = pv({ capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"], csi: { driver: "d.example.com", volumeHandle: "h", controllerExpandSecretRef: { name: "s", namespace: "ns" } } });
  assert.deepEqual(update(persistentVolumes, expanded, csi), []);
});

void test("PersistentVolumeClaim: upstream's order and messages", () => {
  assert.deepEqual(create(persistentVolumeClaims, pvc(okSpec())), []);
  assert.deepEqual(create(persistentVolumeClaims, pvc({ selector: { matchExpressions: [{ key: "a", operator: "In" }] }, accessModes: ["Sometimes"], resources: { requests: { storage: "-1Gi" } } })), [
    'spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is \'In\' or \'NotIn\'',
    'spec.accessModes: Unsupported value: "Sometimes": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"',
    'spec.resources[storage]: Invalid value: "-1Gi": must be greater than zero',
  ]);
  assert.deepEqual(create(persistentVolumeClaims, pvc({ selector: { matchLabels: { a: "b" } } })), ["spec.accessModes: Required value: at least 1 access mode is required", "spec.resources[storage]: Required value"]);
  assert.deepEqual(create(persistentVolumeClaims, pvc(okSpec({ accessModes: ["ReadWriteOncePod", "ReadOnlyMany"] }))), ["spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes"]);
  // dataSource: a claim or snapshot is kept and copied to dataSourceRef; anything else is
  // silently dropped unless dataSourceRef asks for it, then it is validated.
  const cloned = pvc(okSpec({ dataSource: { kind: "PersistentVolumeClaim", name: "src" } }));
  assert.deepEqual(create(persistentVolumeClaims, cloned), []);
  assert.deepEqual((cloned.spec as Record<string, unknown>).dataSourceRef, { kind: "PersistentVolumeClaim", name: "src" });
  const dropped = pvc(okSpec({ dataSource: { kind: "Snapshot", name: "s" } }));
  assert.deepEqual(create(persistentVolumeClaims, dropped), []);
  assert.equal((dropped.spec as Record<string, unknown>).dataSource, undefined);
  const populated = pvc(okSpec({ dataSourceRef: { kind: "Snapshot", name: "s" } }));
  assert.deepEqual(create(persistentVolumeClaims, populated), [
    'spec.dataSource: Invalid value: "Snapshot": must be \'PersistentVolumeClaim\' when referencing the default apiGroup',
    'spec.dataSourceRef: Invalid value: "Snapshot": must be \'PersistentVolumeClaim\' when referencing the default apiGroup',
  ]);
  assert.deepEqual(create(persistentVolumeClaims, pvc(okSpec({ dataSource: { kind: "PersistentVolumeClaim", name: "a" }, dataSourceRef: { kind: "PersistentVolumeClaim", name: "b" } }))), [
    'spec: Invalid value: "spec.dataSource": must match dataSourceRef',
  ]);
  const vac = pvc(okSpec({ volumeAttributesClassName: "gold" }));
  assert.deepEqual(create(persistentVolumeClaims, vac), []);
  assert.equal((vac.spec as Record<string, unknown>).volumeAttributesClassName, undefined);
});

void test("PersistentVolumeClaim updates: immutable spec but for binding, a class given once, and a bound claim's size", () => {
  const old = stored(pvc(okSpec(), {}, { phase: "Pending" }));
  const IMMUTABLE = "spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims";
  // Binding sets volumeName once.
  assert.deepEqual(update(persistentVolumeClaims, pvc(okSpec({ volumeName: "pv1" })), old), []);
  // A claim without a class may be given one (the retroactive default), once.
  const classed = stored(pvc(okSpec({ storageClassName: "local-path" })));
  assert.deepEqual(update(persistentVolumeClaims, classed, old), []);
  assert.deepEqual(update(persistentVolumeClaims, pvc(okSpec({ storageClassName: "other" })), classed), [IMMUTABLE]);
  // An explicit "" is a class too: it stays.
  const none = stored(pvc(okSpec({ storageClassName: "" })));
  assert.deepEqual(update(persistentVolumeClaims, pvc(okSpec({ storageClassName: "local-path" })), none), [IMMUTABLE]);
  // The beta annotation may not change, but may be carried over into the field.
  const annotated = stored(pvc(okSpec(), { annotations: { "volume.beta.kubernetes.io/storage-class": "slow" } }));
  assert.deepEqual(update(persistentVolumeClaims, pvc(okSpec({ storageClassName: "slow" }), { annotations: { "volume.beta.kubernetes.io/storage-class": "slow" } }), annotated), []);
  assert.deepEqual(update(persistentVolumeClaims, pvc(okSpec(), { annotations: { "volume.beta.kubernetes.io/storage-class": "fast" } }), annotated), [
    'metadata.annotations.volume.beta.kubernetes.io/storage-class: Invalid value: "fast": field is immutable',
  ]);
  assert.deepEqual(update(persistentVolumeClaims, pvc(okSpec({ storageClassName: "fast" }), { annotations: { "volume.beta.kubernetes.io/storage-class": "slow" } }), annotated), [IMMUTABLE]);
  // An unbound claim may not resize; a bound one may grow, and shrink only while above its capacity.
  assert.deepEqual(update(persistentVolumeClaims, pvc(okSpec({ resources: { requests: { storage: "2Gi" } } })), old), [IMMUTABLE]);
  const bound = stored(pvc(okSpec({ volumeName: "pv1", resources: { requests: { storage: "2Gi" } } }), {}, { phase: "Bound", capacity: { storage: "1Gi" } }));
  const grown = pvc(okSpec({ volumeName: "pv1", resources: { requests: { storage: "5Gi" } } }));
  assert.deepEqual(update(persistentVolumeClaims, grown, bound), []);
  assert.deepEqual(update(persistentVolumeClaims, pvc(okSpec({ volumeName: "pv1", resources: { requests: { storage: "1536Mi" } } })), bound), []);
  assert.deepEqual(update(persistentVolumeClaims, pvc(okSpec({ volumeName: "pv1", resources: { requests: { storage: "1Gi" } } })), bound), [
    "spec.resources.requests.storage: Forbidden: field can not be less than status.capacity",
  ]);
  assert.deepEqual(update(persistentVolumeClaims, pvc(okSpec({ volumeName: "pv1", accessModes: ["ReadWriteMany"], resources: { requests: { storage: "2Gi" } } })), bound), [IMMUTABLE]);
  assert.deepEqual(update(persistentVolumeClaims, pvc(okSpec({ volumeMode: "Block" })), old), [IMMUTABLE, 'volumeMode: Invalid value: "Block": field is immutable']);
});

void test("PersistentVolumeClaim status updates", () => {
  const old = pvc(okSpec(), {}, { phase: "Pending" });
  create(persistentVolumeClaims, old);
  const s = (status: Record<string, unknown>, spec = okSpec()): string[] => (persistentVolumeClaims.strategy.validateStatusUpdate?.(pvc(spec, {}, status), old, ctx) ?? []).map(String);
  assert.deepEqual(s({ phase: "Bound", capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"] }), []);
  assert.deepEqual(s({ phase: "Bound" }, okSpec({ accessModes: [] })), ["Spec.accessModes: Required value"]);
  assert.deepEqual(s({ allocatedResourceStatuses: { storage: "Resizing" }, allocatedResources: { cpu: "1" } }), [
    'status.allocatedResourceStatus: Unsupported value: "storage": supported values: "ControllerResizeInProgress", "ControllerResizeInfeasible", "NodeResizeInProgress", "NodeResizeInfeasible", "NodeResizePending"',
    'status.allocatedResources: Unsupported value: "cpu": supported values: "storage"',
  ]);
});

void test("a generic ephemeral volume's claim template is a valid claim with labels and annotations only", () => {
  const p: KubeObject = {
    metadata: { name: "p", namespace: "default" },
    spec: { containers: [{ name: "c", image: "busybox" }], volumes: [{ name: "scratch", ephemeral: { volumeClaimTemplate: { metadata: { name: "x", labels: { a: "b" } }, spec: { accessModes: ["ReadWriteOnce"] } } } }] },
  };
  assert.deepEqual(create(pods, p), [
    "spec.volumes[0].ephemeral.volumeClaimTemplate.metadata.name: Forbidden: cannot be set",
    "spec.volumes[0].ephemeral.volumeClaimTemplate.spec.resources[storage]: Required value",
  ]);
});

void test("a pod's generic ephemeral volumes: the claim name they make must be valid, and no claim volume may name it", () => {
  const p = (name: string, volumes: unknown[]): KubeObject => ({ metadata: { name, namespace: "default" }, spec: { containers: [{ name: "c", image: "busybox" }], volumes } });
  const eph = (name: string): Record<string, unknown> => ({ name, ephemeral: { volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } } } });
  assert.deepEqual(create(pods, p("web", [eph("scratch")])), []);
  const long = "a".repeat(250);
  assert.deepEqual(create(pods, p(long, [eph("scratch")])), [`spec.volumes[0].name: Invalid value: "scratch": PVC name "${long}-scratch": must be no more than 253 characters`]);
  assert.deepEqual(create(pods, p("web", [eph("scratch"), { name: "other", persistentVolumeClaim: { claimName: "web-scratch" } }])), [
    'spec.volumes[1].persistentVolumeClaim.claimName: Invalid value: "web-scratch": must not reference a PVC that gets created for an ephemeral volume',
  ]);
});
