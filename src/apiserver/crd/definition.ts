// apiextensions.k8s.io/v1 CustomResourceDefinitions as a served resource: upstream's defaulting
// (SetDefaults_CustomResourceDefinition*), create/update strategy (status reset on create,
// storedVersions kept, generation on spec changes) and validation (ValidateCustomResourceDefinition),
// with the schema checks of each version left to the CRD schema library.
import type { CustomResourceDefinition, CustomResourceDefinitionVersion, JSONSchemaProps } from "kubernetes-types/apiextensions/v1.js";
import { FieldPath, forbidden, invalid, notSupported, required, type FieldError } from "../../api/fielderrors.js";
import { isDNS1035Label, isDNS1123Subdomain, nameIsDNSSubdomain } from "../../api/validation.js";
import { validateStructuralSchema } from "../../api/crd/schema.js";
import type { KubeObject, ResourceDefinition, StrategyContext } from "../registry/types.js";
import { immutable } from "../resources/common.js";
import { genericMeta as validateMeta, genericMetaUpdate as validateMetaUpdate } from "./meta.js";
import { nameColumn, column } from "../resources/print.js";
import { isObj } from "../resources/util.js";
import { parseJSONPath } from "./jsonpath.js";
import { setStatusCondition } from "../../api/conditions.js";

export const CRD_GROUP = "apiextensions.k8s.io";
/** The finalizer that holds a CRD until its custom resources are gone (upstream's). */
export const CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io";

type Crd = CustomResourceDefinition;

const SPEC = FieldPath.of("spec");

function crdOf(obj: KubeObject): Crd {
  return obj as unknown as Crd;
}

/** SetDefaults for v1: conversion None, singular and listKind from kind, printer column priority 0, served-less versions false. */
export function defaultCRD(obj: KubeObject): void {
  const spec = obj["spec"];
  if (!isObj(spec)) return;
  if (spec["conversion"] === undefined) spec["conversion"] = { strategy: "None" };
  else if (isObj(spec["conversion"])) {
    const conv = spec["conversion"];
    if (conv["strategy"] === undefined) conv["strategy"] = "None";
    if (conv["strategy"] === "Webhook" && isObj(conv["webhook"]) && isObj(conv["webhook"]["clientConfig"])) {
      const svc = conv["webhook"]["clientConfig"]["service"];
      if (isObj(svc) && svc["port"] === undefined) svc["port"] = 443;
    }
  }
  const names = spec["names"];
  if (isObj(names) && typeof names["kind"] === "string" && names["kind"] !== "") {
    if (names["singular"] === undefined || names["singular"] === "") names["singular"] = names["kind"].toLowerCase();
    if (names["listKind"] === undefined || names["listKind"] === "") names["listKind"] = `${names["kind"]}List`;
  }
}

/** The version objects are stored in. */
export function storageVersionOf(crd: Crd): string | undefined {
  return crd.spec?.versions?.find((v) => v.storage)?.name;
}

function addStoredVersion(obj: KubeObject): void {
  const crd = crdOf(obj);
  const storage = storageVersionOf(crd);
  if (storage === undefined) return;
  const status = (isObj(obj["status"]) ? obj["status"] : (obj["status"] = {})) as Record<string, unknown>;
  const stored = Array.isArray(status["storedVersions"]) ? (status["storedVersions"] as string[]) : [];
  if (!stored.includes(storage)) status["storedVersions"] = [...stored, storage];
}

const dns1035 = (value: string, path: FieldPath, prefix = ""): FieldError[] => {
  const errs = isDNS1035Label(prefix === "" ? value : value.toLowerCase());
  return errs.length > 0 ? [invalid(path, value, prefix + errs.join(","))] : [];
};

function validateNames(names: Crd["spec"]["names"] | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!names) return errs;
  if (names.plural) errs.push(...dns1035(names.plural, path.child("plural")));
  if (names.singular) errs.push(...dns1035(names.singular, path.child("singular")));
  if (names.kind) errs.push(...dns1035(names.kind, path.child("kind"), "may have mixed case, but should otherwise match: "));
  if (names.listKind) errs.push(...dns1035(names.listKind, path.child("listKind"), "may have mixed case, but should otherwise match: "));
  (names.shortNames ?? []).forEach((s, i) => errs.push(...dns1035(s, path.child("shortNames").index(i))));
  if (names.kind && names.kind === names.listKind) errs.push(invalid(path.child("listKind"), names.listKind, "kind and listKind may not be the same"));
  (names.categories ?? []).forEach((c, i) => errs.push(...dns1035(c, path.child("categories").index(i))));
  return errs;
}

const COLUMN_TYPES = ["boolean", "date", "integer", "number", "string"];
const COLUMN_FORMATS = ["byte", "date", "date-time", "int32", "int64", "float", "double", "password", "email", "hostname", "ipv4", "ipv6", "uri", "uuid", "binary", "name"];

function validateVersion(v: CustomResourceDefinitionVersion, path: FieldPath, statusEnabledSomewhere: boolean, warnings: string[] | undefined): FieldError[] {
  void statusEnabledSomewhere;
  const errs: FieldError[] = [];
  const schema = v.schema?.openAPIV3Schema;
  if (schema === undefined || schema === null) errs.push(required(path.child("schema", "openAPIV3Schema"), "schemas are required"));
  else {
    const schemaPath = path.child("schema", "openAPIV3Schema");
    if (!isObj(schema)) errs.push(invalid(schemaPath, "", "must be an object"));
    else {
      // With a status subresource upstream restricts the root's keywords (the library says how).
      // Rules calling CEL functions k8ts lacks are accepted with a warning (the library says which).
      const statusSubresource = v.subresources?.status !== undefined && v.subresources.status !== null;
      errs.push(...validateStructuralSchema(schema as JSONSchemaProps, schemaPath, { statusSubresource, ...(warnings ? { warnings } : {}) }));
    }
  }
  const subs = v.subresources;
  if (subs?.scale) {
    const sp = path.child("subresources", "scale");
    const checkPath = (p: string | undefined, field: string, requiredField: boolean): void => {
      if (p === undefined || p === "") {
        if (requiredField) errs.push(required(sp.child(field), ""));
        return;
      }
      if (!/^\.[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/.test(p)) errs.push(invalid(sp.child(field), p, "must be a valid JSON path"));
      else if (field === "specReplicasPath" && !p.startsWith(".spec.")) errs.push(invalid(sp.child(field), p, "should be a json path under .spec"));
      else if (field !== "specReplicasPath" && !p.startsWith(".status.")) errs.push(invalid(sp.child(field), p, "should be a json path under .status"));
    };
    checkPath(subs.scale.specReplicasPath, "specReplicasPath", true);
    checkPath(subs.scale.statusReplicasPath, "statusReplicasPath", true);
    checkPath(subs.scale.labelSelectorPath ?? undefined, "labelSelectorPath", false);
  }
  (v.additionalPrinterColumns ?? []).forEach((c, i) => {
    const cp = path.child("additionalPrinterColumns").index(i);
    if (!c.name) errs.push(required(cp.child("name"), ""));
    if (!c.type) errs.push(required(cp.child("type"), ""));
    else if (!COLUMN_TYPES.includes(c.type)) errs.push(notSupported(cp.child("type"), c.type, COLUMN_TYPES));
    if (c.format && !COLUMN_FORMATS.includes(c.format)) errs.push(notSupported(cp.child("format"), c.format, COLUMN_FORMATS));
    if (c.priority !== undefined && c.priority < 0) errs.push(invalid(cp.child("priority"), c.priority, "must be greater than or equal to 0"));
    if (!c.jsonPath) errs.push(required(cp.child("jsonPath"), ""));
    else {
      const e = parseJSONPath(c.jsonPath).error;
      if (e !== undefined) errs.push(invalid(cp.child("jsonPath"), c.jsonPath, `must be a simple json path: ${e}`));
    }
  });
  return errs;
}

/** ValidateCustomResourceDefinition (v1): metadata, spec and status. */
export function validateCRD(obj: KubeObject, ctx?: StrategyContext): FieldError[] {
  const crd = crdOf(obj);
  const spec = crd.spec ?? ({} as Crd["spec"]);
  const names = spec.names ?? ({} as Crd["spec"]["names"]);
  const nameFn = (name: string, prefix: boolean): string[] => {
    const r = nameIsDNSSubdomain(name, prefix);
    if (name !== `${names.plural ?? ""}.${spec.group ?? ""}`) r.push(`must be spec.names.plural+"."+spec.group`);
    return r;
  };
  const errs = validateMeta(obj, false, nameFn);
  const group = spec.group ?? "";
  if (group === "") errs.push(required(SPEC.child("group"), ""));
  else if (isDNS1123Subdomain(group).length > 0) errs.push(invalid(SPEC.child("group"), group, isDNS1123Subdomain(group).join(",")));
  else if (group.split(".").length < 2) errs.push(invalid(SPEC.child("group"), group, "should be a domain with at least one dot"));
  const scope = spec.scope ?? "";
  if (scope === "") errs.push(required(SPEC.child("scope"), ""));
  else if (scope !== "Cluster" && scope !== "Namespaced") errs.push(notSupported(SPEC.child("scope"), scope, ["Cluster", "Namespaced"]));

  const versions = Array.isArray(spec.versions) ? spec.versions : [];
  const vpath = SPEC.child("versions");
  if (versions.length === 0) errs.push(required(vpath, "must have exactly one version marked as storage version"));
  const seen = new Set<string>();
  let storage = 0;
  let unique = true;
  const statusAnywhere = versions.some((v) => v.subresources?.status);
  versions.forEach((v, i) => {
    if (v.storage) storage++;
    if (seen.has(v.name)) unique = false;
    seen.add(v.name);
    const p = vpath.index(i);
    if (!v.name) errs.push(required(p.child("name"), ""));
    else errs.push(...dns1035(v.name, p.child("name")));
    errs.push(...validateVersion(v, p, statusAnywhere, ctx?.warnings));
  });
  if (!unique) errs.push(invalid(vpath, versionsValue(versions), "must contain unique version names"));
  if (versions.length > 0 && storage !== 1) errs.push(invalid(vpath, versionsValue(versions), "must have exactly one version marked as storage version"));
  if (versions.length > 0 && !versions.some((v) => v.served)) errs.push(invalid(vpath, versionsValue(versions), "must have at least one version marked as served"));

  const np = SPEC.child("names");
  if (!names.plural) errs.push(required(np.child("plural"), ""));
  if (!names.singular) errs.push(required(np.child("singular"), ""));
  if (!names.kind) errs.push(required(np.child("kind"), ""));
  if (!names.listKind) errs.push(required(np.child("listKind"), ""));
  errs.push(...validateNames(names, np));

  const conversion = spec.conversion;
  const strategy = conversion?.strategy ?? "None";
  if (strategy === "Webhook") {
    // k8ts serves custom resources in every version by rewriting apiVersion only (strategy None).
    errs.push(forbidden(SPEC.child("conversion", "strategy"), "k8ts does not call conversion webhooks: only strategy None is supported (every served version must share one schema shape)"));
  } else if (strategy !== "None") {
    errs.push(notSupported(SPEC.child("conversion", "strategy"), strategy, ["None", "Webhook"]));
  } else if (conversion?.webhook !== undefined && conversion.webhook !== null) {
    errs.push(forbidden(SPEC.child("conversion", "webhook"), "should not be set when strategy is not set to Webhook"));
  }
  errs.push(...validateStatus(obj));
  return errs;
}

function versionsValue(versions: readonly CustomResourceDefinitionVersion[]): unknown {
  return versions.map((v) => v.name);
}

function validateStatus(obj: KubeObject): FieldError[] {
  const crd = crdOf(obj);
  return validateNames(crd.status?.acceptedNames, FieldPath.of("status", "acceptedNames"));
}

function isEstablished(crd: Crd): boolean {
  return (crd.status?.conditions ?? []).some((c) => c.type === "Established" && c.status === "True");
}

/** ValidateCustomResourceDefinitionUpdate. */
export function validateCRDUpdate(obj: KubeObject, old: KubeObject, ctx?: StrategyContext): FieldError[] {
  const errs = validateCRD(obj, ctx).filter((e) => !e.field.startsWith("metadata."));
  errs.unshift(...validateMetaUpdate(obj, old));
  const crd = crdOf(obj);
  const prev = crdOf(old);
  if (isEstablished(prev)) {
    errs.push(...immutable(crd.spec?.scope, prev.spec?.scope, SPEC.child("scope")));
    errs.push(...immutable(crd.spec?.names?.kind, prev.spec?.names?.kind, SPEC.child("names", "kind")));
  }
  errs.push(...immutable(crd.spec?.group, prev.spec?.group, SPEC.child("group")));
  errs.push(...immutable(crd.spec?.names?.plural, prev.spec?.names?.plural, SPEC.child("names", "plural")));
  const versions = new Set((crd.spec?.versions ?? []).map((v) => v.name));
  (crd.status?.storedVersions ?? []).forEach((v, i) => {
    if (!versions.has(v)) errs.push(invalid(FieldPath.of("status", "storedVersions").index(i), v, "must appear in spec.versions"));
  });
  return errs;
}

function validateCRDStatusUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  return [...validateMetaUpdate(obj, old), ...validateStatus(obj)];
}

function ageOf(ts: unknown, now: Date): string {
  return typeof ts === "string" ? ts : now.toISOString();
}

export const customResourceDefinitions: ResourceDefinition = {
  group: CRD_GROUP,
  version: "v1",
  kind: "CustomResourceDefinition",
  plural: "customresourcedefinitions",
  singular: "customresourcedefinition",
  shortNames: ["crd", "crds"],
  categories: ["api-extensions"],
  namespaced: false,
  definition: "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition",
  subresources: ["status"],
  strategy: {
    defaults: defaultCRD,
    prepareForCreate(obj) {
      // The server owns status: names and conditions come from its naming and establishing work.
      obj["status"] = { acceptedNames: { kind: "", plural: "" }, conditions: [], storedVersions: [] };
      addStoredVersion(obj);
    },
    prepareForUpdate(obj) {
      addStoredVersion(obj);
    },
    validate: validateCRD,
    validateUpdate: validateCRDUpdate,
    validateStatusUpdate: validateCRDStatusUpdate,
    specFields: ["spec"],
    // Deleting a CRD first deletes its custom resources: upstream's REST delete adds the cleanup
    // finalizer and the Terminating condition, which the server's CRD work then acts on.
    deletionBlocked: (obj) => !obj.metadata?.deletionTimestamp,
    prepareForDeletion: prepareCRDForDeletion,
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: false,
  },
  table: {
    // `kubectl get crd`: NAME, CREATED AT (upstream's default columns for kinds without a printer).
    columns: [nameColumn(), { ...column("Created At", "date", "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata") }],
    row: (obj, now) => [obj.metadata?.name ?? "", ageOf(obj.metadata?.creationTimestamp, now)],
  },
};

type Condition = { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string };

/** Upstream's REST delete of a CRD: the cleanup finalizer and a Terminating condition, set as deletion starts. */
export function prepareCRDForDeletion(obj: KubeObject): void {
  const meta = obj.metadata ?? (obj.metadata = {});
  const finalizers = meta.finalizers ?? [];
  if (!finalizers.includes(CLEANUP_FINALIZER)) meta.finalizers = [...finalizers, CLEANUP_FINALIZER];
  const status = (obj["status"] ?? (obj["status"] = {})) as { conditions?: Condition[] };
  const conditions = (status.conditions ?? []).map((c) => ({ ...c }));
  setStatusCondition(conditions, { type: "Terminating", status: "True", reason: "InstanceDeletionPending", message: "CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon" }, new Date());
  status.conditions = conditions;
}
