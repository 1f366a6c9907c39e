// storage.k8s.io/v1 CSI kinds, stored and served as upstream's: CSIDriver, CSINode,
// VolumeAttachment (with its status) and CSIStorageCapacity — defaults, validation (422 causes
// on upstream's paths, its `spec.attachedRequired` spelling included) and the tables upstream's
// storage serves. k8ts runs no
// CSI driver; these are the objects CSI drivers' installers create and the tools around them read.
import { duplicate, FieldPath, forbidden, invalid, notSupported, required, tooLong, type FieldError } from "../../api/fielderrors.js";
import { quantityOf } from "../../api/quantity.js";
import type { LabelSelector } from "kubernetes-types/meta/v1.js";
import { IS_NEGATIVE_ERROR_MSG, isDNS1123Subdomain, validateLabelSelector } from "../../api/validation.js";
import type { ResourceDefinition } from "../registry/types.js";
import { immutable, nonNegative, qualifiedName, validateMeta, validateMetaUpdate } from "./common.js";
import { D } from "./descriptions.js";
import { ageColumn, column, defaultTable, nameColumn, since } from "./print.js";
import { canonicalizeQuantity } from "./core/resources.js";
import { asArr, asBool, asObj, asStr, child, creationOf, isObj, jsonEqual, nameOf, objs, setDefault, type Json } from "./util.js";

const SPEC = FieldPath.of("spec");
const STATUS = FieldPath.of("status");
const CSI_DRIVER_NAME_MAX_LENGTH = 63;
const CSI_NODE_ID_MAX_LENGTH = 192;
const MAX_ATTACHED_VOLUME_METADATA_SIZE = 256 * 1024;
const MAX_VOLUME_ERROR_MESSAGE_SIZE = 1024;
const MIN_TOKEN_EXPIRATION_SECONDS = 600;
const FS_GROUP_POLICIES = ["File", "None", "ReadWriteOnceWithFSType"];
const LIFECYCLE_MODES = ["Persistent", "Ephemeral"];

/** upstream's core ValidateCSIDriverName: what a CSI driver calls itself (CSINode entries, attachers). */
function validateCSIDriverName(name: string, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (name.length === 0) errs.push(required(path, ""));
  if (name.length > CSI_DRIVER_NAME_MAX_LENGTH) errs.push(tooLong(path, CSI_DRIVER_NAME_MAX_LENGTH));
  for (const msg of isDNS1123Subdomain(name.toLowerCase())) errs.push(invalid(path, name, msg));
  return errs;
}

// ---- CSIDriver ------------------------------------------------------------------------------

function defaultCSIDriver(d: Json): void {
  const spec = child(d, "spec");
  if (!spec) return;
  setDefault(spec, "attachRequired", true);
  setDefault(spec, "podInfoOnMount", false);
  setDefault(spec, "storageCapacity", false);
  setDefault(spec, "fsGroupPolicy", "ReadWriteOnceWithFSType");
  setDefault(spec, "requiresRepublish", false);
  setDefault(spec, "seLinuxMount", false);
  if ((asArr(spec.volumeLifecycleModes) ?? []).length === 0) spec.volumeLifecycleModes = ["Persistent"];
}

function validateCSIDriverSpec(spec: Json): FieldError[] {
  const errs: FieldError[] = [];
  // upstream reports a missing attachRequired as spec.attachedRequired.
  if (typeof spec.attachRequired !== "boolean") errs.push(required(SPEC.child("attachedRequired"), ""));
  for (const f of ["podInfoOnMount", "storageCapacity", "seLinuxMount"]) if (typeof spec[f] !== "boolean") errs.push(required(SPEC.child(f), ""));
  if (spec.fsGroupPolicy !== undefined && spec.fsGroupPolicy !== null && !FS_GROUP_POLICIES.includes(String(spec.fsGroupPolicy))) errs.push(notSupported(SPEC.child("fsGroupPolicy"), spec.fsGroupPolicy, FS_GROUP_POLICIES));
  const audiences = new Set<string>();
  objs(spec.tokenRequests).forEach((t, i) => {
    const path = SPEC.child("tokenRequests").index(i);
    const audience = asStr(t.audience) ?? "";
    if (audiences.has(audience)) {
      errs.push(duplicate(path.child("audience"), audience));
      return;
    }
    audiences.add(audience);
    const exp = t.expirationSeconds;
    if (typeof exp !== "number") return;
    if (exp < MIN_TOKEN_EXPIRATION_SECONDS) errs.push(invalid(path.child("expirationSeconds"), exp, "may not specify a duration less than 10 minutes"));
    if (exp > 2 ** 32) errs.push(invalid(path.child("expirationSeconds"), exp, "may not specify a duration larger than 2^32 seconds"));
  });
  for (const mode of asArr(spec.volumeLifecycleModes) ?? []) {
    if (!LIFECYCLE_MODES.includes(String(mode))) errs.push(notSupported(SPEC.child("volumeLifecycleModes"), mode, LIFECYCLE_MODES));
  }
  return errs;
}

export const csiDrivers: ResourceDefinition = {
  group: "storage.k8s.io",
  version: "v1",
  kind: "CSIDriver",
  plural: "csidrivers",
  singular: "csidriver",
  namespaced: false,
  definition: "io.k8s.api.storage.v1.CSIDriver",
  returnsDeletedObject: true,
  strategy: {
    defaults: defaultCSIDriver,
    validate: (d) => [...validateMeta(d, false), ...validateCSIDriverSpec(asObj(d.spec) ?? {})],
    validateUpdate: (d, old) => {
      const spec = asObj(d.spec) ?? {};
      const oldSpec = asObj(old.spec) ?? {};
      return [
        ...validateMetaUpdate(d, old),
        ...validateCSIDriverSpec(spec),
        ...immutable(spec.attachRequired, oldSpec.attachRequired, SPEC.child("attachedRequired")),
        ...immutable(spec.volumeLifecycleModes, oldSpec.volumeLifecycleModes, SPEC.child("volumeLifecycleModes")),
      ];
    },
    statusFields: [],
    specFields: [],
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
  },
  table: {
    columns: [
      nameColumn(),
      column("AttachRequired", "boolean", D.csiAttachRequired),
      column("PodInfoOnMount", "boolean", D.csiPodInfoOnMount),
      column("StorageCapacity", "boolean", D.csiStorageCapacity),
      column("TokenRequests", "string", D.csiTokenRequests),
      column("RequiresRepublish", "boolean", D.csiRequiresRepublish),
      column("Modes", "string", D.csiVolumeLifecycleModes),
      ageColumn,
    ],
    row(d, now) {
      const spec = asObj(d.spec) ?? {};
      const modes = (asArr(spec.volumeLifecycleModes) ?? []).map(String).join(",");
      const tokens = spec.tokenRequests === undefined || spec.tokenRequests === null ? "<unset>" : objs(spec.tokenRequests).map((t) => asStr(t.audience) ?? "").join(",");
      return [nameOf(d), asBool(spec.attachRequired) ?? true, asBool(spec.podInfoOnMount) ?? false, asBool(spec.storageCapacity) ?? false, tokens, asBool(spec.requiresRepublish) ?? false, modes || "<none>", since(creationOf(d), now)];
    },
  },
};

// ---- CSINode --------------------------------------------------------------------------------

function validateCSINodeDrivers(drivers: Json[]): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  drivers.forEach((driver, i) => {
    const path = SPEC.child("drivers").index(i);
    const name = asStr(driver.name) ?? "";
    errs.push(...validateCSIDriverName(name, path.child("name")));
    const nodeID = asStr(driver.nodeID) ?? "";
    if (nodeID.length === 0) errs.push(required(path.child("nodeID"), nodeID));
    if (nodeID.length > CSI_NODE_ID_MAX_LENGTH) errs.push(invalid(path.child("nodeID"), nodeID, `must be ${CSI_NODE_ID_MAX_LENGTH} characters or less`));
    const count = asObj(driver.allocatable)?.count;
    if (count !== undefined && count !== null) errs.push(...nonNegative(count, path.child("allocatable", "count")));
    if (names.has(name)) errs.push(duplicate(path.child("name"), name));
    names.add(name);
    // upstream reports a topology key's problems on the driver's own path.
    const keys = new Set<string>();
    for (const key of (asArr(driver.topologyKeys) ?? []).map(String)) {
      if (key.length === 0) errs.push(required(path, key));
      if (keys.has(key)) errs.push(duplicate(path, key));
      keys.add(key);
      errs.push(...qualifiedName(key, path));
    }
  });
  return errs;
}

export const csiNodes: ResourceDefinition = {
  group: "storage.k8s.io",
  version: "v1",
  kind: "CSINode",
  plural: "csinodes",
  singular: "csinode",
  namespaced: false,
  definition: "io.k8s.api.storage.v1.CSINode",
  returnsDeletedObject: true,
  strategy: {
    validate: (n) => [...validateMeta(n, false), ...validateCSINodeDrivers(objs(asObj(n.spec)?.drivers))],
    validateUpdate: (n, old) => {
      const errs = [...validateMetaUpdate(n, old), ...validateCSINodeDrivers(objs(asObj(n.spec)?.drivers))];
      // A driver's entry, once registered, stays as it is (drivers may come and go).
      const now = objs(asObj(n.spec)?.drivers);
      for (const before of objs(asObj(old.spec)?.drivers)) {
        for (const after of now) if (after.name === before.name) errs.push(...immutable(after, before, SPEC.child("drivers")));
      }
      return errs;
    },
    statusFields: [],
    specFields: [],
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
  },
  table: {
    columns: [nameColumn(), column("Drivers", "integer", "Drivers indicates the number of CSI drivers registered on the node"), ageColumn],
    row: (n, now) => [nameOf(n), objs(asObj(n.spec)?.drivers).length, since(creationOf(n), now)],
  },
};

// ---- VolumeAttachment -----------------------------------------------------------------------

function validateVolumeAttachmentSpec(spec: Json): FieldError[] {
  const errs: FieldError[] = [];
  const attacher = asStr(spec.attacher) ?? "";
  if (attacher.length === 0) errs.push(required(SPEC.child("attacher"), ""));
  else errs.push(...validateCSIDriverName(attacher, SPEC.child("attacher")));
  const source = asObj(spec.source) ?? {};
  const sourcePath = SPEC.child("source");
  const hasInline = isObj(source.inlineVolumeSpec);
  const pvName = source.persistentVolumeName;
  const hasPV = pvName !== undefined && pvName !== null;
  const exactlyOne = "must specify exactly one of inlineVolumeSpec and persistentVolumeName";
  if (!hasInline && !hasPV) errs.push(required(sourcePath, exactlyOne));
  else if (hasInline && hasPV) errs.push(forbidden(sourcePath, exactlyOne));
  else if (hasPV) {
    const name = asStr(pvName) ?? "";
    if (name.length === 0) errs.push(required(sourcePath.child("persistentVolumeName"), "must specify non empty persistentVolumeName"));
    else for (const msg of isDNS1123Subdomain(name)) errs.push(invalid(sourcePath.child("persistentVolumeName"), name, msg));
  }
  const node = asStr(spec.nodeName) ?? "";
  for (const msg of isDNS1123Subdomain(node)) errs.push(invalid(SPEC.child("nodeName"), node, msg));
  return errs;
}

function validateVolumeAttachmentStatus(status: Json): FieldError[] {
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of Object.entries(asObj(status.attachmentMetadata) ?? {})) size += k.length + String(v).length;
  if (size > MAX_ATTACHED_VOLUME_METADATA_SIZE) errs.push(tooLong(STATUS.child("attachmentMetadata"), MAX_ATTACHED_VOLUME_METADATA_SIZE));
  for (const f of ["attachError", "detachError"]) {
    const message = asStr(asObj(status[f])?.message) ?? "";
    if (message.length > MAX_VOLUME_ERROR_MESSAGE_SIZE) errs.push(tooLong(STATUS.child(f, "message"), MAX_ATTACHED_VOLUME_METADATA_SIZE));
  }
  return errs;
}

function validateVolumeAttachment(va: Json): FieldError[] {
  return [...validateMeta(va, false), ...validateVolumeAttachmentSpec(asObj(va.spec) ?? {}), ...validateVolumeAttachmentStatus(asObj(va.status) ?? {})];
}

/** Upstream's "spec: field is immutable" of a kind whose spec never changes. */
function specImmutable(obj: Json, old: Json): FieldError[] {
  return jsonEqual(obj.spec ?? null, old.spec ?? null) ? [] : [invalid(SPEC, obj.spec, "field is immutable")];
}

export const volumeAttachments: ResourceDefinition = {
  group: "storage.k8s.io",
  version: "v1",
  kind: "VolumeAttachment",
  plural: "volumeattachments",
  singular: "volumeattachment",
  namespaced: false,
  definition: "io.k8s.api.storage.v1.VolumeAttachment",
  returnsDeletedObject: true,
  subresources: ["status"],
  strategy: {
    // Only the attacher reports the status, through /status.
    prepareForCreate: (va) => {
      va.status = { attached: false };
    },
    validate: validateVolumeAttachment,
    validateUpdate: (va, old) => [...validateMetaUpdate(va, old), ...validateVolumeAttachment(va), ...specImmutable(va, old)],
    validateStatusUpdate: (va, old) => [...validateMetaUpdate(va, old), ...validateVolumeAttachment(va), ...specImmutable(va, old)],
    statusFields: ["status"],
    specFields: ["spec"],
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
  },
  table: {
    columns: [
      nameColumn(),
      { ...column("Attacher", "string", D.vaAttacher), format: "name" },
      column("PV", "string", D.vaPersistentVolumeName),
      column("Node", "string", D.vaNodeName),
      column("Attached", "boolean", D.vaAttached),
      ageColumn,
    ],
    row(va, now) {
      const spec = asObj(va.spec) ?? {};
      return [nameOf(va), asStr(spec.attacher) ?? "", asStr(asObj(spec.source)?.persistentVolumeName) ?? "", asStr(spec.nodeName) ?? "", asBool(asObj(va.status)?.attached) ?? false, since(creationOf(va), now)];
    },
  },
};

// ---- CSIStorageCapacity ---------------------------------------------------------------------

function nonNegativeQuantity(value: unknown, path: FieldPath): FieldError[] {
  if (value === undefined || value === null) return [];
  const q = quantityOf(value);
  return q && q.sign() < 0 ? [invalid(path, String(value), IS_NEGATIVE_ERROR_MSG)] : [];
}

function validateCSIStorageCapacity(c: Json): FieldError[] {
  const errs = validateMeta(c, true);
  errs.push(...validateLabelSelector(asObj(c.nodeTopology) as LabelSelector | undefined, { allowInvalidLabelValueInSelector: false }, FieldPath.of("nodeTopology")));
  const sc = asStr(c.storageClassName) ?? "";
  for (const msg of isDNS1123Subdomain(sc)) errs.push(invalid(FieldPath.of("storageClassName"), sc, msg));
  errs.push(...nonNegativeQuantity(c.capacity, FieldPath.of("capacity")), ...nonNegativeQuantity(c.maximumVolumeSize, FieldPath.of("maximumVolumeSize")));
  return errs;
}

export const csiStorageCapacities: ResourceDefinition = {
  group: "storage.k8s.io",
  version: "v1",
  kind: "CSIStorageCapacity",
  plural: "csistoragecapacities",
  singular: "csistoragecapacity",
  namespaced: true,
  definition: "io.k8s.api.storage.v1.CSIStorageCapacity",
  strategy: {
    defaults: (c) => {
      canonicalizeQuantity(c, "capacity");
      canonicalizeQuantity(c, "maximumVolumeSize");
    },
    validate: validateCSIStorageCapacity,
    validateUpdate: (c, old) => {
      const errs = [...validateMetaUpdate(c, old), ...validateCSIStorageCapacity(c)];
      // What the driver was asked about (GetCapacity's input) is immutable.
      if (!jsonEqual(c.nodeTopology ?? null, old.nodeTopology ?? null)) errs.push(invalid(FieldPath.of("nodeTopology"), c.nodeTopology, "field is immutable"));
      if ((asStr(c.storageClassName) ?? "") !== (asStr(old.storageClassName) ?? "")) errs.push(invalid(FieldPath.of("storageClassName"), c.storageClassName, "field is immutable"));
      return errs;
    },
    statusFields: [],
    specFields: [],
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
  },
  // Upstream's storage serves the default table (NAME, CREATED AT), not its printer's columns.
  table: defaultTable(),
};

export const csiResources: readonly ResourceDefinition[] = [csiDrivers, csiNodes, volumeAttachments, csiStorageCapacities];
