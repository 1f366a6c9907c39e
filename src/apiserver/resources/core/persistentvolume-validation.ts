// Upstream's PersistentVolume and PersistentVolumeClaim validation (pkg/apis/core/validation:
// ValidatePersistentVolume(+Update, +StatusUpdate), ValidatePersistentVolumeClaim(+Update,
// +StatusUpdate), ValidatePersistentVolumeClaimTemplate), in upstream's order with its paths
// and messages, as Kubernetes 1.32 has them with its default feature gates:
// VolumeAttributesClass off (the field is dropped unless the stored object has it, and may not
// change), RecoverVolumeExpansionFailure on (a bound claim may shrink its request back down to
// just above status.capacity), MutablePVNodeAffinity off (a volume's node affinity, once set,
// is immutable).
import { FieldPath, forbidden, GoRendered, invalid, notSupported, required, type FieldError } from "../../../api/fielderrors.js";
import { quantityOf } from "../../../api/quantity.js";
import { FIELD_IMMUTABLE_ERROR_MSG, isDNS1123Subdomain, isQualifiedName, nameIsDNSSubdomain, validateAnnotations, validateLabels, validateLabelSelector, validateNamespaceName } from "../../../api/validation.js";
import { ANN_BETA_STORAGE_CLASS } from "../../../api/persistentvolume.js";
import { immutable, selectorView, validateMeta, validateMetaUpdate } from "../common.js";
import { asArr, asObj, asStr, clone, isObj, jsonEqual, meta, strMap, type Json } from "../util.js";
import { hasInvalidLabelValueInNodeSelectorTerms, validateVolumeNodeAffinity } from "./affinity-validation.js";

const SPEC = FieldPath.of("spec");
const QUANTITY_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/** Upstream's supportedAccessModes, as sets.List sorts them. */
const ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"];
const RECLAIM_POLICIES = ["Delete", "Recycle", "Retain"];
const VOLUME_MODES = ["Block", "Filesystem"];
const HOST_PATH_TYPES = ["", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"];

function specOf(obj: Json): Json {
  return asObj(obj.spec) ?? {};
}

export function validatePathNoBacksteps(target: string, path: FieldPath): FieldError[] {
  return target.split(/[\\/]/).includes("..") ? [invalid(path, target, "must not contain '..'")] : [];
}

/** validateHostPathVolumeSource, for pod volumes and PersistentVolumes alike: a path without '..', a known type. */
export function validateHostPathVolumeSource(o: Json, p: FieldPath): FieldError[] {
  const hp = asStr(o.path) ?? "";
  if (hp === "") return [required(p.child("path"), "")];
  const errs = validatePathNoBacksteps(hp, p.child("path"));
  if (o.type !== undefined && o.type !== null && !HOST_PATH_TYPES.includes(asStr(o.type) ?? "\0")) errs.push(notSupported(p.child("type"), o.type, HOST_PATH_TYPES));
  return errs;
}

/** The access modes: supported ones, and ReadWriteOncePod only alone (the required check is the caller's, as upstream orders it). */
function validateAccessModeValues(modes: unknown, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  let rwop = false;
  let other = false;
  for (const m of asArr(modes) ?? []) {
    if (!ACCESS_MODES.includes(String(m))) errs.push(notSupported(path, m, ACCESS_MODES));
    if (m === "ReadWriteOncePod") rwop = true;
    else if (ACCESS_MODES.includes(String(m))) other = true;
  }
  if (rwop && other) errs.push(forbidden(path, "may not use ReadWriteOncePod with other access modes"));
  return errs;
}

/** validateBasicResource + ValidatePositiveQuantityValue. */
function positiveQuantity(raw: unknown, path: FieldPath): FieldError[] {
  const q = quantityOf(raw);
  if (!q) return [invalid(path, raw, QUANTITY_ERROR)];
  return q.sign() <= 0 ? [invalid(path, q.toString(), "must be greater than zero")] : [];
}

function className(name: string, path: FieldPath): FieldError[] {
  return nameIsDNSSubdomain(name, false).map((m) => invalid(path, name, m));
}

/** ValidateCSIDriverName. */
function csiDriverName(name: string, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (name.length === 0) errs.push(required(path, ""));
  if (name.length > 63) errs.push(invalid(path, name, "must be no more than 63 characters"));
  for (const m of isDNS1123Subdomain(name.toLowerCase())) errs.push(invalid(path, name, m));
  return errs;
}

/** validatePVSecretReference. */
function pvSecretReference(ref: Json, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const name = asStr(ref.name) ?? "";
  if (name === "") errs.push(required(path.child("name"), ""));
  else for (const m of isDNS1123Subdomain(name)) errs.push(invalid(path.child("name"), name, m));
  const ns = asStr(ref.namespace) ?? "";
  if (ns === "") errs.push(required(path.child("namespace"), ""));
  else for (const m of validateNamespaceName(ns, false)) errs.push(invalid(path.child("namespace"), ns, m));
  return errs;
}

/**
 * The volume sources in the order upstream checks them: a second one is refused where it
 * stands. Upstream names two of them otherwise in its paths (gcePersistentDisk's errors at
 * `persistentDisk`, cephfs refused as `cephFS`).
 */
const PV_SOURCES = [
  "hostPath",
  "gcePersistentDisk",
  "awsElasticBlockStore",
  "glusterfs",
  "flocker",
  "nfs",
  "rbd",
  "quobyte",
  "cephfs",
  "iscsi",
  "cinder",
  "fc",
  "flexVolume",
  "azureFile",
  "vsphereVolume",
  "photonPersistentDisk",
  "portworxVolume",
  "azureDisk",
  "scaleIO",
  "local",
  "storageos",
  "csi",
];

/** The checks of one source k8ts's components use; other sources are accepted as the schema lets them through. */
function validatePVSource(src: string, o: Json, p: FieldPath): FieldError[] {
  switch (src) {
    case "hostPath":
      return validateHostPathVolumeSource(o, p);
    case "local": {
      const lp = asStr(o.path) ?? "";
      if (lp === "") return [required(p.child("path"), "")];
      return validatePathNoBacksteps(lp, p.child("path"));
    }
    case "nfs": {
      const errs: FieldError[] = [];
      if ((asStr(o.server) ?? "") === "") errs.push(required(p.child("server"), ""));
      const np = asStr(o.path) ?? "";
      if (np === "") errs.push(required(p.child("path"), ""));
      else if (!np.startsWith("/")) errs.push(invalid(p.child("path"), np, "must be an absolute path"));
      return errs;
    }
    case "csi": {
      const errs = csiDriverName(asStr(o.driver) ?? "", p.child("driver"));
      if ((asStr(o.volumeHandle) ?? "") === "") errs.push(required(p.child("volumeHandle"), ""));
      for (const ref of ["controllerPublishSecretRef", "controllerExpandSecretRef", "nodePublishSecretRef", "nodeExpandSecretRef"]) {
        const r = asObj(o[ref]);
        if (r) errs.push(...pvSecretReference(r, p.child(ref)));
      }
      return errs;
    }
    default:
      return [];
  }
}

/** path.Clean(p) == "/". */
function cleansToRoot(p: string): boolean {
  return p.startsWith("/") && p.split("/").every((s) => s === "" || s === ".");
}

/** ValidatePersistentVolumeSpec (not inline). */
export function validatePersistentVolumeSpec(spec: Json, allowInvalidLabelValueInRequiredNodeAffinity: boolean, path: FieldPath = SPEC): FieldError[] {
  const errs: FieldError[] = [];
  if ((asArr(spec.accessModes) ?? []).length === 0) errs.push(required(path.child("accessModes"), ""));
  errs.push(...validateAccessModeValues(spec.accessModes, path.child("accessModes")));
  const capacity = asObj(spec.capacity) ?? {};
  const capPath = path.child("capacity");
  if (Object.keys(capacity).length === 0) errs.push(required(capPath, ""));
  if (!("storage" in capacity) || Object.keys(capacity).length > 1) {
    // Go prints the ResourceList as %#v: exactly when it is empty; with quantities in it, as JSON here.
    const shown = Object.keys(capacity).length > 0 ? capacity : new GoRendered(isObj(spec.capacity) ? "core.ResourceList{}" : "core.ResourceList(nil)");
    errs.push(notSupported(capPath, shown, ["storage"]));
  }
  for (const [r, q] of Object.entries(capacity)) errs.push(...positiveQuantity(q, capPath.key(r)));
  const policy = asStr(spec.persistentVolumeReclaimPolicy) ?? "";
  if (policy !== "" && !RECLAIM_POLICIES.includes(policy)) errs.push(notSupported(path.child("persistentVolumeReclaimPolicy"), policy, RECLAIM_POLICIES));
  const affinity = validateVolumeNodeAffinity(spec.nodeAffinity, allowInvalidLabelValueInRequiredNodeAffinity, path.child("nodeAffinity"));
  errs.push(...affinity.errs);
  let n = 0;
  for (const src of PV_SOURCES) {
    if (spec[src] === undefined || spec[src] === null) continue;
    // Upstream counts a flexVolume without refusing it as a second source.
    if (n > 0 && src !== "flexVolume") {
      errs.push(forbidden(path.child(src === "cephfs" ? "cephFS" : src), "may not specify more than 1 volume type"));
      continue;
    }
    n++;
    errs.push(...validatePVSource(src, asObj(spec[src]) ?? {}, path.child(src === "gcePersistentDisk" ? "persistentDisk" : src)));
    if (src === "local" && !affinity.specified) errs.push(required(path.child("nodeAffinity"), "Local volume requires node affinity"));
  }
  if (n === 0) errs.push(required(path, "must specify a volume type"));
  const hostPath = asObj(spec.hostPath);
  if (hostPath && cleansToRoot(asStr(hostPath.path) ?? "") && policy === "Recycle") {
    errs.push(forbidden(path.child("persistentVolumeReclaimPolicy"), "may not be 'recycle' for a hostPath mount of '/'"));
  }
  const sc = asStr(spec.storageClassName) ?? "";
  if (sc !== "") errs.push(...className(sc, path.child("storageClassName")));
  if (spec.volumeMode !== undefined && spec.volumeMode !== null && !VOLUME_MODES.includes(String(spec.volumeMode))) errs.push(notSupported(path.child("volumeMode"), spec.volumeMode, VOLUME_MODES));
  return errs;
}

export function validatePersistentVolume(pv: Json, old?: Json): FieldError[] {
  // A volume stored with node affinity values no longer valid keeps them (ValidationOptionsForPersistentVolume).
  const allowInvalid = old !== undefined && hasInvalidLabelValueInNodeSelectorTerms(specOf(old).nodeAffinity);
  return [...validateMeta(pv, false), ...validatePersistentVolumeSpec(specOf(pv), allowInvalid)];
}

/** ValidatePersistentVolumeUpdate. */
export function validatePersistentVolumeUpdate(pv: Json, old: Json): FieldError[] {
  const errs = [...validateMetaUpdate(pv, old), ...validatePersistentVolume(pv, old)];
  const spec = specOf(pv);
  const oldSpec = specOf(old);
  const sourceOf = (s: Json): Json => Object.fromEntries(PV_SOURCES.filter((k) => s[k] !== undefined && s[k] !== null).map((k) => [k, s[k]]));
  const next = sourceOf(spec);
  // A CSI volume may be given a controllerExpandSecretRef it did not have.
  const oldCsi = asObj(oldSpec.csi);
  const newCsi = asObj(next.csi);
  if (oldCsi && newCsi && oldCsi.controllerExpandSecretRef === undefined && newCsi.controllerExpandSecretRef !== undefined) {
    const { controllerExpandSecretRef: _added, ...rest } = newCsi;
    next.csi = rest;
  }
  if (!jsonEqual(next, sourceOf(oldSpec))) errs.push(forbidden(SPEC.child("persistentvolumesource"), "spec.persistentvolumesource is immutable after creation"));
  errs.push(...immutable(spec.volumeMode, oldSpec.volumeMode, FieldPath.of("volumeMode")));
  // Node affinity may be set once; then it stays (MutablePVNodeAffinity is off).
  if (isObj(oldSpec.nodeAffinity) && !jsonEqual(spec.nodeAffinity ?? null, oldSpec.nodeAffinity)) errs.push(invalid(FieldPath.of("nodeAffinity"), spec.nodeAffinity ?? null, FIELD_IMMUTABLE_ERROR_MSG));
  return errs;
}

// ---- claims ---------------------------------------------------------------------------------

/** validateDataSource / validateDataSourceRef. */
function validateDataSource(ds: Json, path: FieldPath, isRef: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if ((asStr(ds.name) ?? "") === "") errs.push(required(path.child("name"), ""));
  const kind = asStr(ds.kind) ?? "";
  if (kind === "") errs.push(required(path.child("kind"), ""));
  const group = asStr(ds.apiGroup) ?? "";
  if (group === "" && kind !== "PersistentVolumeClaim") errs.push(invalid(path, kind, "must be 'PersistentVolumeClaim' when referencing the default apiGroup"));
  if (group !== "") for (const m of isDNS1123Subdomain(group)) errs.push(invalid(path.child("apiGroup"), group, m));
  const ns = asStr(ds.namespace) ?? "";
  if (isRef && ns !== "") for (const m of validateNamespaceName(ns, false)) errs.push(invalid(path.child("namespace"), ns, m));
  return errs;
}

/** ValidatePersistentVolumeClaimSpec. */
export function validatePersistentVolumeClaimSpec(spec: Json, path: FieldPath, allowInvalidLabelValueInSelector = false): FieldError[] {
  const errs: FieldError[] = [];
  if ((asArr(spec.accessModes) ?? []).length === 0) errs.push(required(path.child("accessModes"), "at least 1 access mode is required"));
  if (isObj(spec.selector)) errs.push(...validateLabelSelector(selectorView(spec.selector), { allowInvalidLabelValueInSelector }, path.child("selector")));
  errs.push(...validateAccessModeValues(spec.accessModes, path.child("accessModes")));
  const storagePath = path.child("resources").key("storage");
  const requests = asObj(asObj(spec.resources)?.requests) ?? {};
  if (!("storage" in requests)) errs.push(required(storagePath, ""));
  else errs.push(...positiveQuantity(requests.storage, storagePath));
  const sc = asStr(spec.storageClassName) ?? "";
  if (sc !== "") errs.push(...className(sc, path.child("storageClassName")));
  if (spec.volumeMode !== undefined && spec.volumeMode !== null && !VOLUME_MODES.includes(String(spec.volumeMode))) errs.push(notSupported(path.child("volumeMode"), spec.volumeMode, VOLUME_MODES));
  const ds = asObj(spec.dataSource);
  const ref = asObj(spec.dataSourceRef);
  if (ds) errs.push(...validateDataSource(ds, path.child("dataSource"), false));
  if (ref) errs.push(...validateDataSource(ref, path.child("dataSourceRef"), true));
  if (ref && (asStr(ref.namespace) ?? "") !== "") {
    if (ds) errs.push(invalid(path, path.child("dataSource").toString(), "may not be specified when dataSourceRef.namespace is specified"));
  } else if (ds && ref) {
    const same = (asStr(ds.apiGroup) ?? null) === (asStr(ref.apiGroup) ?? null) && ds.kind === ref.kind && ds.name === ref.name;
    if (!same) errs.push(invalid(path, path.child("dataSource").toString(), "must match dataSourceRef"));
  }
  return errs;
}

/** ObjectMeta fields a claim template may set; the rest, by Go field name, "cannot be set". */
const TEMPLATE_META_FIELDS: readonly (readonly [string, string])[] = [
  ["name", "name"],
  ["generateName", "generateName"],
  ["namespace", "namespace"],
  ["selfLink", "selfLink"],
  ["uid", "uID"],
  ["resourceVersion", "resourceVersion"],
  ["generation", "generation"],
  ["creationTimestamp", "creationTimestamp"],
  ["deletionTimestamp", "deletionTimestamp"],
  ["deletionGracePeriodSeconds", "deletionGracePeriodSeconds"],
  ["ownerReferences", "ownerReferences"],
  ["finalizers", "finalizers"],
  ["managedFields", "managedFields"],
];

function isZero(v: unknown): boolean {
  return v === undefined || v === null || v === "" || v === 0 || (Array.isArray(v) && v.length === 0);
}

/** ValidatePersistentVolumeClaimTemplate: a generic ephemeral volume's claim (labels and annotations only, and a valid claim spec). */
export function validatePersistentVolumeClaimTemplate(template: unknown, path: FieldPath): FieldError[] {
  const t = asObj(template) ?? {};
  const md = asObj(t.metadata) ?? {};
  const mdPath = path.child("metadata");
  const errs = [...validateAnnotations(strMap(md.annotations), mdPath.child("annotations")), ...validateLabels(strMap(md.labels), mdPath.child("labels"))];
  for (const [json, goName] of TEMPLATE_META_FIELDS) if (!isZero(md[json])) errs.push(forbidden(mdPath.child(goName), "cannot be set"));
  errs.push(...validatePersistentVolumeClaimSpec(specOf(t), path.child("spec")));
  return errs;
}

/**
 * VolumeAttributesClass is off in 1.32: a volume or claim keeps volumeAttributesClassName only
 * when the stored object already has one (pvutil/pvcutil DropDisabledFields).
 */
export function dropDisabledVolumeAttributesClass(obj: Json, old?: Json): void {
  const spec = asObj(obj.spec);
  if (!spec || spec.volumeAttributesClassName === undefined) return;
  const kept = old !== undefined && asStr(specOf(old).volumeAttributesClassName) !== undefined;
  if (!kept) delete spec.volumeAttributesClassName;
}

/** dataSourceIsPvcOrSnapshot. */
function isClaimOrSnapshot(ds: Json | undefined): boolean {
  if (!ds) return false;
  const group = asStr(ds.apiGroup) ?? "";
  return (ds.kind === "PersistentVolumeClaim" && group === "") || (ds.kind === "VolumeSnapshot" && group === "snapshot.storage.k8s.io");
}

/**
 * A claim's spec as upstream's strategy prepares it (pvcutil): disabled fields dropped
 * (volumeAttributesClassName; a cross-namespace dataSourceRef, CrossNamespaceVolumeDataSource
 * being off), a dataSource other than a claim or snapshot silently dropped when no
 * dataSourceRef is given (EnforceDataSourceBackwardsCompatibility), and on create dataSource
 * and dataSourceRef made to name the same thing (NormalizeDataSources).
 */
export function preparePersistentVolumeClaim(obj: Json, old?: Json): void {
  dropDisabledVolumeAttributesClass(obj, old);
  const spec = asObj(obj.spec);
  if (!spec) return;
  const oldSpec = old === undefined ? undefined : specOf(old);
  const ref = asObj(spec.dataSourceRef);
  if (ref && (asStr(ref.namespace) ?? "") !== "" && !isObj(oldSpec?.dataSourceRef)) delete spec.dataSourceRef;
  const inUse = oldSpec !== undefined && (isObj(oldSpec.dataSource) || isObj(oldSpec.dataSourceRef));
  if (!inUse && !isObj(spec.dataSourceRef) && spec.dataSource !== undefined && !isClaimOrSnapshot(asObj(spec.dataSource))) delete spec.dataSource;
  if (old !== undefined) return;
  const ds = asObj(spec.dataSource);
  const dsRef = asObj(spec.dataSourceRef);
  const copy = (from: Json): Json => ({ ...(asStr(from.apiGroup) !== undefined ? { apiGroup: from.apiGroup } : {}), kind: from.kind, name: from.name });
  if (ds && !dsRef) spec.dataSourceRef = copy(ds);
  else if (dsRef && !ds && (asStr(dsRef.namespace) ?? "") === "") spec.dataSource = copy(dsRef);
}

const annotationOf = (obj: Json): string | undefined => asStr(asObj(meta(obj).annotations)?.[ANN_BETA_STORAGE_CLASS]);

/** ValidatePersistentVolumeClaimUpdate. */
export function validatePersistentVolumeClaimUpdate(pvc: Json, old: Json): FieldError[] {
  const errs = [...validateMetaUpdate(pvc, old), ...validateMeta(pvc, true)];
  // A selector stored with label values no longer valid keeps them.
  const oldSelector = selectorView(specOf(old).selector);
  const allowInvalid = oldSelector !== undefined && validateLabelSelector(oldSelector, {}, SPEC.child("selector")).length > 0;
  errs.push(...validatePersistentVolumeClaimSpec(specOf(pvc), SPEC, allowInvalid));
  const spec = specOf(pvc);
  const oldSpec = specOf(old);
  const a = clone(spec);
  const b = clone(oldSpec);
  // The PV controller sets volumeName once, binding the claim.
  if ((asStr(oldSpec.volumeName) ?? "") === "") {
    if (a.volumeName === undefined) delete b.volumeName;
    else b.volumeName = a.volumeName;
  }
  const oldAnn = annotationOf(old);
  const newAnn = annotationOf(pvc);
  const oldClass = asStr(oldSpec.storageClassName);
  const newClass = asStr(spec.storageClassName);
  if (oldAnn !== undefined && oldClass === undefined && newClass !== undefined && newClass === oldAnn && (newAnn === undefined || newAnn === oldAnn)) {
    // The upgrade from the beta annotation to spec.storageClassName, to the same class.
    delete a.storageClassName;
  } else {
    if ((newAnn ?? "") !== (oldAnn ?? "")) errs.push(invalid(FieldPath.of("metadata", "annotations", ANN_BETA_STORAGE_CLASS), newAnn ?? "", FIELD_IMMUTABLE_ERROR_MSG));
    // A claim made without a class may be given one once (the retroactive default StorageClass).
    if (newClass !== undefined && oldClass === undefined && (oldAnn === undefined || newClass === oldAnn)) delete a.storageClassName;
  }
  // A bound claim may change its request (the size checks follow).
  const bound = asObj(pvc.status)?.phase === "Bound";
  if (bound) {
    const reqA = asObj(asObj(a.resources)?.requests);
    if (reqA) {
      const oldStorage = asObj(asObj(oldSpec.resources)?.requests)?.storage;
      if (oldStorage === undefined) delete reqA.storage;
      else reqA.storage = oldStorage;
    }
  }
  if (!jsonEqual(a, b)) errs.push(forbidden(SPEC, "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"));
  const newSize = quantityOf(asObj(asObj(spec.resources)?.requests)?.storage);
  const oldSize = quantityOf(asObj(asObj(oldSpec.resources)?.requests)?.storage);
  const statusSize = quantityOf(asObj(asObj(old.status)?.capacity)?.storage);
  // RecoverVolumeExpansionFailure: a smaller request is allowed while it stays above what the volume has.
  if (newSize && oldSize && newSize.cmp(oldSize) < 0 && (statusSize === undefined ? newSize.sign() <= 0 : newSize.cmp(statusSize) <= 0)) {
    errs.push(forbidden(FieldPath.of("spec", "resources", "requests", "storage"), "field can not be less than status.capacity"));
  }
  errs.push(...immutable(spec.volumeMode, oldSpec.volumeMode, FieldPath.of("volumeMode")));
  if (!jsonEqual(spec.volumeAttributesClassName ?? null, oldSpec.volumeAttributesClassName ?? null)) {
    errs.push(forbidden(SPEC.child("volumeAttributesClassName"), "update is forbidden when the VolumeAttributesClass feature gate is disabled"));
  }
  return errs;
}

/** The resize states a claim's status may record (sets.List order). */
const RESIZE_STATUSES = ["ControllerResizeInProgress", "ControllerResizeInfeasible", "NodeResizeInProgress", "NodeResizeInfeasible", "NodeResizePending"];

/** validatePersistentVolumeClaimResourceKey: a qualified name; of the native names only `storage`. */
function claimResourceKey(key: string, path: FieldPath): FieldError[] {
  const errs = isQualifiedName(key).map((m) => invalid(path, key, m));
  if (errs.length > 0) return errs;
  const native = !key.includes("/") || key.includes("kubernetes.io/");
  return native && key !== "storage" ? [notSupported(path, key, ["storage"])] : [];
}

/** ValidatePersistentVolumeClaimStatusUpdate. */
export function validatePersistentVolumeClaimStatusUpdate(pvc: Json, old: Json): FieldError[] {
  const errs = validateMetaUpdate(pvc, old);
  // Upstream's path, capital S and all.
  if ((asArr(specOf(pvc).accessModes) ?? []).length === 0) errs.push(required(FieldPath.of("Spec", "accessModes"), ""));
  const status = asObj(pvc.status) ?? {};
  const capPath = FieldPath.of("status", "capacity");
  for (const [r, q] of Object.entries(asObj(status.capacity) ?? {})) if (!quantityOf(q)) errs.push(invalid(capPath.key(r), q, QUANTITY_ERROR));
  const resizePath = FieldPath.of("status", "allocatedResourceStatus");
  for (const [k, v] of Object.entries(asObj(status.allocatedResourceStatuses) ?? {})) {
    errs.push(...claimResourceKey(k, resizePath));
    if (!RESIZE_STATUSES.includes(String(v))) errs.push(notSupported(resizePath, k, RESIZE_STATUSES));
  }
  const allocPath = FieldPath.of("status", "allocatedResources");
  for (const [r, q] of Object.entries(asObj(status.allocatedResources) ?? {})) {
    const keyErrs = claimResourceKey(r, allocPath);
    if (keyErrs.length > 0) {
      errs.push(...keyErrs);
      continue;
    }
    const qty = quantityOf(q);
    if (!qty) errs.push(invalid(allocPath.key(r), q, QUANTITY_ERROR));
    else if (qty.sign() < 0) errs.push(invalid(allocPath.key(r), qty.toString(), "must be greater than or equal to 0"));
  }
  return errs;
}
