// core/v1 replication controllers, persistent volumes and claims, resource quotas, limit
// ranges and pod templates.
import { FieldPath, invalid, required, type FieldError } from "../../../api/fielderrors.js";
import { selectorFromSet } from "../../../api/labels.js";
import { ANN_BETA_STORAGE_CLASS } from "../../../api/persistentvolume.js";
import { IS_NEGATIVE_ERROR_MSG, isQualifiedName } from "../../../api/validation.js";
import type { ResourceDefinition } from "../../registry/types.js";
import { nonNegative, oneOf, validateMeta, validateMetaUpdate } from "../common.js";
import { D } from "../descriptions.js";
import { ageColumn, column, containerCells, containersColumn, defaultTable, formatLabels, imagesColumn, nameColumn, since } from "../print.js";
import { asArr, asNum, asObj, asStr, child, clone, creationOf, deletionOf, isObj, keepStatus, meta, nameOf, objs, setDefault, setValue, strMap, type Json } from "../util.js";
import { mapSelectorScale, validatePodTemplateSpec, validateReplicaStatus, validateTemplateForController } from "../workload.js";
import { defaultPodTemplate, defaultPVCSpec, defaultVolume } from "./podspec-defaults.js";
import { quantityOf } from "../../../api/quantity.js";
import { canonicalizeQuantities } from "./resources.js";
import {
  dropDisabledVolumeAttributesClass,
  preparePersistentVolumeClaim,
  validatePersistentVolume,
  validatePersistentVolumeClaimSpec,
  validatePersistentVolumeClaimStatusUpdate,
  validatePersistentVolumeClaimUpdate,
  validatePersistentVolumeUpdate,
} from "./persistentvolume-validation.js";
import { rfc3339 } from "../../../util/time.js";

const SPEC = FieldPath.of("spec");
const TEMPLATE = FieldPath.of("template");

function specOf(obj: Json): Json {
  return asObj(obj.spec) ?? {};
}

// ---- replication controllers ----------------------------------------------------------------

function defaultRC(rc: Json): void {
  const spec = child(rc, "spec");
  if (!spec) return;
  const template = asObj(spec.template);
  const labels = asObj(asObj(template?.metadata)?.labels);
  // The selector and the RC's own labels default to the template's labels.
  if (labels) {
    if (Object.keys(asObj(spec.selector) ?? {}).length === 0) spec.selector = clone(labels);
    const md = meta(rc);
    if (Object.keys(asObj(md.labels) ?? {}).length === 0) {
      md.labels = clone(labels);
      rc.metadata = md;
    }
  }
  setDefault(spec, "replicas", 1);
  if (template) defaultPodTemplate(template);
}

function validateRCSpec(rc: Json): FieldError[] {
  const spec = specOf(rc);
  const errs = nonNegative(spec.minReadySeconds, SPEC.child("minReadySeconds"));
  const selMap = strMap(spec.selector);
  if (Object.keys(selMap).length === 0) errs.push(required(SPEC.child("selector"), ""));
  if (spec.replicas === undefined || spec.replicas === null) errs.push(required(SPEC.child("replicas"), ""));
  else errs.push(...nonNegative(spec.replicas, SPEC.child("replicas")));
  let selector;
  try {
    selector = selectorFromSet(selMap);
  } catch {
    selector = undefined;
  }
  errs.push(...validateTemplateForController(spec.template, selector, SPEC.child("template"), "ReplicationController"));
  return errs;
}

export const replicationControllers: ResourceDefinition = {
  group: "",
  version: "v1",
  kind: "ReplicationController",
  plural: "replicationcontrollers",
  singular: "replicationcontroller",
  shortNames: ["rc"],
  categories: ["all"],
  namespaced: true,
  definition: "io.k8s.api.core.v1.ReplicationController",
  subresources: ["status", "scale"],
  scale: mapSelectorScale,
  strategy: {
    defaults: defaultRC,
    prepareForCreate: (obj) => {
      obj.status = { replicas: 0 };
    },
    validate: (obj) => [...validateMeta(obj, true), ...validateRCSpec(obj)],
    validateUpdate: (obj, old) => [...validateMetaUpdate(obj, old), ...validateRCSpec(obj)],
    validateStatusUpdate: (obj, old) => [
      ...validateMetaUpdate(obj, old),
      ...validateReplicaStatus(asObj(obj.status) ?? {}, FieldPath.of("status"), ["replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas", "observedGeneration"]),
    ],
    statusFields: ["status"],
    specFields: ["spec"],
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
  },
  table: {
    columns: [
      nameColumn(),
      column("Desired", "integer", D.rcSpecReplicas),
      column("Current", "integer", D.rcStatusReplicas),
      column("Ready", "integer", D.rcStatusReadyReplicas),
      ageColumn,
      containersColumn,
      imagesColumn,
      column("Selector", "string", D.rcSpecSelector, 1),
    ],
    row(obj, now) {
      const spec = specOf(obj);
      const status = asObj(obj.status) ?? {};
      const [names, images] = containerCells(objs(asObj(asObj(spec.template)?.spec)?.containers));
      return [nameOf(obj), asNum(spec.replicas) ?? 0, asNum(status.replicas) ?? 0, asNum(status.readyReplicas) ?? 0, since(creationOf(obj), now), names, images, formatLabels(strMap(spec.selector))];
    },
  },
  selectableFields: (obj) => ({ "status.replicas": String(asNum(asObj(obj.status)?.replicas) ?? 0) }),
};

// ---- persistent volumes and claims ----------------------------------------------------------


/** RWO,ROX,RWX,RWOP in that order, as GetAccessModesAsString prints them. */
export function accessModesString(modes: unknown): string {
  const set = new Set((asArr(modes) ?? []).map(String));
  const out: string[] = [];
  for (const [mode, short] of [
    ["ReadWriteOnce", "RWO"],
    ["ReadOnlyMany", "ROX"],
    ["ReadWriteMany", "RWX"],
    ["ReadWriteOncePod", "RWOP"],
  ] as const) {
    if (set.has(mode)) out.push(short);
  }
  return out.join(",");
}

function quantityString(v: unknown): string {
  return quantityOf(v)?.toString() ?? "0";
}

function pvClass(pv: Json): string {
  return asStr(asObj(meta(pv).annotations)?.[ANN_BETA_STORAGE_CLASS]) ?? asStr(specOf(pv).storageClassName) ?? "";
}

export const persistentVolumes: ResourceDefinition = {
  group: "",
  version: "v1",
  kind: "PersistentVolume",
  plural: "persistentvolumes",
  returnsDeletedObject: true,
  singular: "persistentvolume",
  shortNames: ["pv"],
  namespaced: false,
  definition: "io.k8s.api.core.v1.PersistentVolume",
  subresources: ["status"],
  strategy: {
    defaults: (obj) => {
      const spec = child(obj, "spec");
      if (spec) {
        setDefault(spec, "persistentVolumeReclaimPolicy", "Retain", true);
        setDefault(spec, "volumeMode", "Filesystem");
        canonicalizeQuantities(spec.capacity);
        // The sources a PV shares with pod volumes take the same defaults
        // (SetDefaults_HostPathVolumeSource, _ISCSIPersistentVolumeSource, _RBDPersistentVolumeSource,
        // _AzureDiskVolumeSource, _ScaleIOPersistentVolumeSource).
        const sources: Json = {};
        for (const src of ["hostPath", "iscsi", "rbd", "azureDisk", "scaleIO"]) if (isObj(spec[src])) sources[src] = spec[src];
        if (Object.keys(sources).length > 0) defaultVolume(sources);
      }
      const status = asObj(obj.status);
      if (status) setDefault(status, "phase", "Pending", true);
    },
    prepareForCreate: (obj, ctx) => {
      obj.status = { phase: "Pending", lastPhaseTransitionTime: rfc3339(ctx.now) };
      dropDisabledVolumeAttributesClass(obj);
    },
    prepareForUpdate: (obj, old) => dropDisabledVolumeAttributesClass(obj, old),
    validate: (obj) => validatePersistentVolume(obj),
    validateUpdate: (obj, old) => validatePersistentVolumeUpdate(obj, old),
    validateStatusUpdate: (obj, old) => validateMetaUpdate(obj, old),
    statusFields: ["status"],
    specFields: [],
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
  },
  table: {
    columns: [
      nameColumn(),
      column("Capacity", "string", D.pvCapacity),
      column("Access Modes", "string", D.pvAccessModes),
      column("Reclaim Policy", "string", D.pvReclaimPolicy),
      column("Status", "string", D.pvPhase),
      column("Claim", "string", D.pvClaimRef),
      column("StorageClass", "string", "StorageClass of the pv"),
      column("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv"),
      column("Reason", "string", D.pvReason),
      ageColumn,
      column("VolumeMode", "string", D.pvVolumeMode, 1),
    ],
    row(obj, now) {
      const spec = specOf(obj);
      const status = asObj(obj.status) ?? {};
      const claim = asObj(spec.claimRef);
      const phase = deletionOf(obj) !== undefined ? "Terminating" : (asStr(status.phase) ?? "");
      return [
        nameOf(obj),
        quantityString(asObj(spec.capacity)?.storage),
        accessModesString(spec.accessModes),
        asStr(spec.persistentVolumeReclaimPolicy) ?? "",
        phase,
        claim ? `${asStr(claim.namespace) ?? ""}/${asStr(claim.name) ?? ""}` : "",
        pvClass(obj),
        asStr(spec.volumeAttributesClassName) ?? "<unset>",
        asStr(status.reason) ?? "",
        since(creationOf(obj), now),
        asStr(spec.volumeMode) ?? "<unset>",
      ];
    },
  },
};

export const persistentVolumeClaims: ResourceDefinition = {
  group: "",
  version: "v1",
  kind: "PersistentVolumeClaim",
  plural: "persistentvolumeclaims",
  returnsDeletedObject: true,
  singular: "persistentvolumeclaim",
  shortNames: ["pvc"],
  namespaced: true,
  definition: "io.k8s.api.core.v1.PersistentVolumeClaim",
  subresources: ["status"],
  strategy: {
    defaults: (obj) => {
      defaultPVCSpec(child(obj, "spec"));
      const status = asObj(obj.status);
      if (status) setDefault(status, "phase", "Pending", true);
    },
    prepareForCreate: (obj) => {
      obj.status = { phase: "Pending" };
      preparePersistentVolumeClaim(obj);
    },
    prepareForUpdate: (obj, old) => {
      keepStatus(obj, old);
      preparePersistentVolumeClaim(obj, old);
    },
    validate: (obj) => [...validateMeta(obj, true), ...validatePersistentVolumeClaimSpec(specOf(obj), SPEC)],
    validateUpdate: (obj, old) => validatePersistentVolumeClaimUpdate(obj, old),
    validateStatusUpdate: (obj, old) => validatePersistentVolumeClaimStatusUpdate(obj, old),
    statusFields: ["status"],
    specFields: [],
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
  },
  table: {
    columns: [
      nameColumn(),
      column("Status", "string", D.pvcPhase),
      column("Volume", "string", D.pvcVolumeName),
      column("Capacity", "string", D.pvcCapacity),
      column("Access Modes", "string", D.pvcAccessModes),
      column("StorageClass", "string", "StorageClass of the pvc"),
      column("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc"),
      ageColumn,
      column("VolumeMode", "string", D.pvcVolumeMode, 1),
    ],
    row(obj, now) {
      const spec = specOf(obj);
      const status = asObj(obj.status) ?? {};
      const phase = deletionOf(obj) !== undefined ? "Terminating" : (asStr(status.phase) ?? "");
      const volumeName = asStr(spec.volumeName) ?? "";
      const bound = volumeName !== "";
      const cls = asStr(asObj(meta(obj).annotations)?.[ANN_BETA_STORAGE_CLASS]) ?? asStr(spec.storageClassName) ?? "";
      return [
        nameOf(obj),
        phase,
        volumeName,
        bound ? quantityString(asObj(status.capacity)?.storage) : "",
        bound ? accessModesString(status.accessModes) : "",
        cls,
        asStr(spec.volumeAttributesClassName) ?? "<unset>",
        since(creationOf(obj), now),
        asStr(spec.volumeMode) ?? "<unset>",
      ];
    },
  },
};

// ---- resource quotas and limit ranges -------------------------------------------------------

const QUOTA_SCOPES = ["BestEffort", "CrossNamespacePodAffinity", "NotBestEffort", "NotTerminating", "PriorityClass", "Terminating"];

function validateQuantityMap(list: unknown, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  for (const [name, raw] of Object.entries(asObj(list) ?? {})) {
    const p = path.key(name);
    for (const m of isQualifiedName(name)) errs.push(invalid(p, name, m));
    const q = quantityOf(raw);
    if (!q) errs.push(invalid(p, raw, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
    else if (q.sign() < 0) errs.push(invalid(p, q.toString(), IS_NEGATIVE_ERROR_MSG));
  }
  return errs;
}

function validateQuota(rq: Json): FieldError[] {
  const spec = specOf(rq);
  const errs = validateQuantityMap(spec.hard, SPEC.child("hard"));
  for (const s of asArr(spec.scopes) ?? []) {
    if (!QUOTA_SCOPES.includes(String(s))) errs.push(invalid(SPEC.child("scopes"), s, "unsupported scope"));
  }
  return errs;
}

function quotaCells(rq: Json): [string, string] {
  const status = asObj(rq.status) ?? {};
  const hard = asObj(status.hard) ?? {};
  const used = asObj(status.used) ?? {};
  const request: string[] = [];
  const limit: string[] = [];
  for (const name of Object.keys(hard).sort()) {
    const text = `${name}: ${quantityString(used[name])}/${quantityString(hard[name])}`;
    const parts = name.split(".");
    (parts.length > 1 && parts[0] === "limits" ? limit : request).push(text);
  }
  return [request.join(", "), limit.join(", ")];
}

export const resourceQuotas: ResourceDefinition = {
  group: "",
  version: "v1",
  kind: "ResourceQuota",
  plural: "resourcequotas",
  singular: "resourcequota",
  shortNames: ["quota"],
  namespaced: true,
  definition: "io.k8s.api.core.v1.ResourceQuota",
  subresources: ["status"],
  strategy: {
    defaults: (obj) => {
      canonicalizeQuantities(asObj(obj.spec)?.hard);
      const status = asObj(obj.status);
      if (status) {
        canonicalizeQuantities(status.hard);
        canonicalizeQuantities(status.used);
      }
    },
    prepareForCreate: (obj) => {
      obj.status = {};
    },
    validate: (obj) => [...validateMeta(obj, true), ...validateQuota(obj)],
    validateUpdate: (obj, old) => [...validateMetaUpdate(obj, old), ...validateQuota(obj)],
    validateStatusUpdate: (obj, old) => [
      ...validateMetaUpdate(obj, old),
      ...validateQuantityMap(asObj(obj.status)?.hard, FieldPath.of("status", "hard")),
      ...validateQuantityMap(asObj(obj.status)?.used, FieldPath.of("status", "used")),
    ],
    statusFields: ["status"],
    specFields: [],
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
  },
  table: {
    columns: [
      nameColumn(),
      column("Request", "string", "Request represents a minimum amount of cpu/memory that a container may consume."),
      column("Limit", "string", "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node."),
      ageColumn,
    ],
    row(obj, now) {
      const [request, limit] = quotaCells(obj);
      return [nameOf(obj), request, limit, since(creationOf(obj), now)];
    },
  },
};

const LIMIT_FIELDS = ["max", "min", "default", "defaultRequest", "maxLimitRequestRatio"];

function defaultLimitRange(lr: Json): void {
  for (const item of objs(asObj(lr.spec)?.limits)) {
    for (const f of LIMIT_FIELDS) canonicalizeQuantities(item[f]);
    if (item.type !== "Container") continue;
    // A default limit falls back to max, a default request to the default limit, then to min.
    const def: Json = { ...(asObj(item.default) ?? {}) };
    const defReq: Json = { ...(asObj(item.defaultRequest) ?? {}) };
    for (const [k, v] of Object.entries(asObj(item.max) ?? {})) if (!(k in def)) def[k] = v;
    for (const [k, v] of Object.entries(def)) if (!(k in defReq)) defReq[k] = v;
    for (const [k, v] of Object.entries(asObj(item.min) ?? {})) if (!(k in defReq)) defReq[k] = v;
    if (Object.keys(def).length > 0) setValue(item, "default", def);
    if (Object.keys(defReq).length > 0) setValue(item, "defaultRequest", defReq);
  }
}

function validateLimitRange(lr: Json): FieldError[] {
  const errs: FieldError[] = [];
  objs(asObj(lr.spec)?.limits).forEach((item, i) => {
    const p = SPEC.child("limits").index(i);
    errs.push(...oneOf(item.type, ["Container", "PersistentVolumeClaim", "Pod"], p.child("type")));
    for (const f of LIMIT_FIELDS) errs.push(...validateQuantityMap(item[f], p.child(f)));
  });
  return errs;
}

export const limitRanges: ResourceDefinition = {
  group: "",
  version: "v1",
  kind: "LimitRange",
  plural: "limitranges",
  singular: "limitrange",
  shortNames: ["limits"],
  namespaced: true,
  definition: "io.k8s.api.core.v1.LimitRange",
  strategy: {
    defaults: defaultLimitRange,
    validate: (obj) => [...validateMeta(obj, true), ...validateLimitRange(obj)],
    validateUpdate: (obj, old) => [...validateMetaUpdate(obj, old), ...validateLimitRange(obj)],
    statusFields: [],
    specFields: [],
    allowCreateOnUpdate: true,
    allowUnconditionalUpdate: true,
  },
  table: defaultTable(),
};

// ---- pod templates --------------------------------------------------------------------------

/** A PodTemplate: a pod's template kept as an object of its own (upstream's podTemplateStrategy). */
export const podTemplates: ResourceDefinition = {
  group: "",
  version: "v1",
  kind: "PodTemplate",
  plural: "podtemplates",
  singular: "podtemplate",
  namespaced: true,
  returnsDeletedObject: true,
  definition: "io.k8s.api.core.v1.PodTemplate",
  strategy: {
    defaults: (obj) => {
      if (obj.template === undefined || obj.template === null) obj.template = {};
      defaultPodTemplate(asObj(obj.template));
    },
    validate: (obj) => [...validateMeta(obj, true), ...validatePodTemplateSpec(asObj(obj.template) ?? {}, TEMPLATE)],
    validateUpdate: (obj, old) => [...validateMetaUpdate(obj, old), ...validatePodTemplateSpec(asObj(obj.template) ?? {}, TEMPLATE)],
    statusFields: [],
    // The generation counts changes of the template.
    specFields: ["template"],
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
  },
  // Upstream's columns: no AGE, the containers and images always shown.
  table: {
    columns: [nameColumn(), { ...containersColumn, priority: 0 }, { ...imagesColumn, priority: 0 }, column("Pod Labels", "string", "The labels for the pod template.")],
    row(obj) {
      const template = asObj(obj.template);
      const [names, images] = containerCells(objs(asObj(template?.spec)?.containers));
      return [nameOf(obj), names, images, formatLabels(strMap(asObj(template?.metadata)?.labels))];
    },
  },
};
