// storage.k8s.io/v1 storage classes: defaults (reclaimPolicy Delete, volumeBindingMode
// Immediate), upstream's validation with its immutable provisioner/parameters/reclaimPolicy,
// and the table that marks the default class.
import { duplicate, FieldPath, forbidden, invalid, notSupported, required, tooLong, type FieldError } from "../../api/fielderrors.js";
import { isDefaultStorageClass } from "../../api/persistentvolume.js";
import { validateLabelName } from "../../api/validation.js";
import type { ResourceDefinition } from "../registry/types.js";
import { immutable, qualifiedName, validateMeta, validateMetaUpdate } from "./common.js";
import { D } from "./descriptions.js";
import { ageColumn, column, nameColumn, since } from "./print.js";
import { asArr, asBool, asStr, creationOf, jsonEqual, nameOf, objs, setDefault, strMap, type Json } from "./util.js";

const MAX_PARAMETERS = 512;
const MAX_PARAMETERS_SIZE = 256 * 1024;

function defaultStorageClassFields(sc: Json): void {
  setDefault(sc, "reclaimPolicy", "Delete");
  setDefault(sc, "volumeBindingMode", "Immediate");
}

function validateProvisioner(provisioner: string, path: FieldPath): FieldError[] {
  if (provisioner.length === 0) return [required(path, "")];
  return qualifiedName(provisioner.toLowerCase(), path);
}

function validateParameters(params: Record<string, string>, path: FieldPath): FieldError[] {
  const keys = Object.keys(params);
  if (keys.length > MAX_PARAMETERS) return [tooLong(path, MAX_PARAMETERS)];
  const errs: FieldError[] = [];
  let size = 0;
  for (const k of keys) {
    if (k.length < 1) errs.push(invalid(path, k, "field can not be empty."));
    size += Buffer.byteLength(k) + Buffer.byteLength(params[k] ?? "");
  }
  if (size > MAX_PARAMETERS_SIZE) errs.push(tooLong(path, MAX_PARAMETERS_SIZE));
  return errs;
}

/** ValidateTopologySelectorTerm for each allowed topology, plus duplicate terms. */
function validateAllowedTopologies(terms: Json[], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const seen: Record<string, string[]>[] = [];
  terms.forEach((term, i) => {
    const termPath = path.index(i);
    const exprPath = termPath.child("matchLabelExpressions");
    const exprMap: Record<string, string[]> = {};
    objs(term.matchLabelExpressions).forEach((req, j) => {
      const idx = exprPath.index(j);
      const values = (asArr(req.values) ?? []).map(String);
      if (values.length === 0) errs.push(required(idx.child("values"), ""));
      const set = new Set<string>();
      values.forEach((v, k) => {
        if (set.has(v)) errs.push(duplicate(idx.child("values").index(k), v));
        set.add(v);
      });
      const key = asStr(req.key) ?? "";
      errs.push(...validateLabelName(key, idx.child("key")));
      if (key in exprMap) errs.push(duplicate(idx.child("key"), key));
      exprMap[key] = [...set].sort();
    });
    if (Object.keys(exprMap).length === 0) {
      errs.push(required(exprPath, "must have at least one label key"));
      return;
    }
    for (const t of seen) if (jsonEqual(t, exprMap)) errs.push(duplicate(exprPath, ""));
    seen.push(exprMap);
  });
  return errs;
}

function validateStorageClass(sc: Json): FieldError[] {
  const errs = validateMeta(sc, false);
  errs.push(...validateProvisioner(asStr(sc.provisioner) ?? "", FieldPath.of("provisioner")));
  errs.push(...validateParameters(strMap(sc.parameters), FieldPath.of("parameters")));
  const reclaim = asStr(sc.reclaimPolicy) ?? "";
  if (reclaim.length > 0 && reclaim !== "Delete" && reclaim !== "Retain") errs.push(notSupported(FieldPath.of("reclaimPolicy"), reclaim, ["Delete", "Retain"]));
  const mode = sc.volumeBindingMode;
  if (mode === undefined || mode === null) errs.push(required(FieldPath.of("volumeBindingMode"), ""));
  else if (mode !== "Immediate" && mode !== "WaitForFirstConsumer") errs.push(notSupported(FieldPath.of("volumeBindingMode"), mode, ["Immediate", "WaitForFirstConsumer"]));
  errs.push(...validateAllowedTopologies(objs(sc.allowedTopologies), FieldPath.of("allowedTopologies")));
  return errs;
}

function validateStorageClassUpdate(sc: Json, old: Json): FieldError[] {
  const errs = validateMetaUpdate(sc, old);
  if (!jsonEqual(sc.parameters ?? null, old.parameters ?? null)) errs.push(forbidden(FieldPath.of("parameters"), "updates to parameters are forbidden."));
  if ((asStr(sc.provisioner) ?? "") !== (asStr(old.provisioner) ?? "")) errs.push(forbidden(FieldPath.of("provisioner"), "updates to provisioner are forbidden."));
  if ((asStr(sc.reclaimPolicy) ?? "") !== (asStr(old.reclaimPolicy) ?? "")) errs.push(forbidden(FieldPath.of("reclaimPolicy"), "updates to reclaimPolicy are forbidden."));
  errs.push(...immutable(sc.volumeBindingMode, old.volumeBindingMode, FieldPath.of("volumeBindingMode")));
  return errs;
}

export const storageClasses: ResourceDefinition = {
  group: "storage.k8s.io",
  version: "v1",
  kind: "StorageClass",
  plural: "storageclasses",
  returnsDeletedObject: true,
  singular: "storageclass",
  shortNames: ["sc"],
  namespaced: false,
  definition: "io.k8s.api.storage.v1.StorageClass",
  strategy: {
    defaults: defaultStorageClassFields,
    validate: validateStorageClass,
    validateUpdate: (sc, old) => [...validateStorageClass(sc), ...validateStorageClassUpdate(sc, old)],
    statusFields: [],
    specFields: [],
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
  },
  table: {
    columns: [
      nameColumn(),
      column("Provisioner", "string", D.scProvisioner),
      column("ReclaimPolicy", "string", D.scReclaimPolicy),
      column("VolumeBindingMode", "string", D.scVolumeBindingMode),
      column("AllowVolumeExpansion", "string", D.scAllowVolumeExpansion),
      ageColumn,
    ],
    row: (sc, now) => [
      isDefaultStorageClass(sc) ? `${nameOf(sc)} (default)` : nameOf(sc),
      asStr(sc.provisioner) ?? "",
      asStr(sc.reclaimPolicy) ?? "Delete",
      asStr(sc.volumeBindingMode) ?? "Immediate",
      asBool(sc.allowVolumeExpansion) ?? false,
      since(creationOf(sc), now),
    ],
  },
};

export const storageResources: readonly ResourceDefinition[] = [storageClasses];
