// rbac.authorization.k8s.io/v1 roles, cluster roles and their bindings: stored and served with
// upstream's defaults (roleRef and subject API groups) and validation (rules, subjects,
// immutable roleRef). Enforcement is the authorizer's business, not this file's.
import type { LabelSelector } from "kubernetes-types/meta/v1.js";
import { FieldPath, GoRendered, goQuote, invalid, notSupported, required, type FieldError } from "../../api/fielderrors.js";
import { labelSelectorAsSelector } from "../../api/labels.js";
import { isValidPathSegmentName, nameIsDNSSubdomain, validateLabelSelector, type NameValidator } from "../../api/validation.js";
import type { KubeObject, ResourceDefinition, TableDefinition } from "../registry/types.js";
import { validateMeta, validateMetaUpdate } from "./common.js";
import { D } from "./descriptions.js";
import { ageColumn, column, defaultTable, nameColumn, since } from "./print.js";
import { asArr, asObj, asStr, child, creationOf, nameOf, objs, type Json } from "./util.js";

export const RBAC_GROUP = "rbac.authorization.k8s.io";

/** Role and binding names only need to be safe in a URL path (ValidateRBACName). */
const validateRBACName: NameValidator = (name) => isValidPathSegmentName(name);

function strings(v: unknown): string[] {
  return (asArr(v) ?? []).filter((x): x is string => typeof x === "string");
}

function validatePolicyRule(rule: Json, namespaced: boolean, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (strings(rule.verbs).length === 0) errs.push(required(path.child("verbs"), "verbs must contain at least one value"));
  const urls = strings(rule.nonResourceURLs);
  if (urls.length > 0) {
    if (namespaced) errs.push(invalid(path.child("nonResourceURLs"), urls, "namespaced rules cannot apply to non-resource URLs"));
    if (strings(rule.apiGroups).length > 0 || strings(rule.resources).length > 0 || strings(rule.resourceNames).length > 0) {
      errs.push(invalid(path.child("nonResourceURLs"), urls, "rules cannot apply to both regular resources and non-resource URLs"));
    }
    return errs;
  }
  if (strings(rule.apiGroups).length === 0) errs.push(required(path.child("apiGroups"), "resource rules must supply at least one api group"));
  if (strings(rule.resources).length === 0) errs.push(required(path.child("resources"), "resource rules must supply at least one resource"));
  return errs;
}

function validateRules(obj: Json, namespaced: boolean): FieldError[] {
  return objs(obj.rules).flatMap((r, i) => validatePolicyRule(r, namespaced, FieldPath.of("rules").index(i)));
}

function validateClusterRole(obj: Json, allowInvalidLabelValue: boolean): FieldError[] {
  const errs = [...validateMeta(obj, false, validateRBACName), ...validateRules(obj, false)];
  const agg = asObj(obj.aggregationRule);
  if (agg) {
    const selectors = objs(agg.clusterRoleSelectors);
    const path = FieldPath.of("aggregationRule", "clusterRoleSelectors");
    if (selectors.length === 0) errs.push(required(path, "at least one clusterRoleSelector required if aggregationRule is non-nil"));
    selectors.forEach((sel, i) => {
      errs.push(...validateLabelSelector(sel as LabelSelector, { allowInvalidLabelValueInSelector: allowInvalidLabelValue }, path.index(i)));
      try {
        labelSelectorAsSelector(sel as LabelSelector);
      } catch {
        errs.push(invalid(path.index(i), sel, "invalid label selector."));
      }
    });
  }
  return errs;
}

function selectorsHaveInvalidLabelValue(obj: Json): boolean {
  return objs(asObj(obj.aggregationRule)?.clusterRoleSelectors).some((sel) => validateLabelSelector(sel as LabelSelector, {}, FieldPath.of("s")).some((e) => e.field.includes(".values[")));
}

// ---- bindings ----------------------------------------------------------------------------------

function defaultBinding(obj: Json): void {
  const ref = child(obj, "roleRef");
  if (ref && (asStr(ref.apiGroup) ?? "") === "") ref.apiGroup = RBAC_GROUP;
  for (const s of objs(obj.subjects)) {
    if ((asStr(s.apiGroup) ?? "") !== "") continue;
    // SetDefaults_Subject gives a ServiceAccount the core group "", which omitempty drops from
    // the wire: nothing to write (and nothing to write again into a stored, frozen subject).
    if (s.kind === "User" || s.kind === "Group") s.apiGroup = RBAC_GROUP;
  }
}

function validateSubject(s: Json, namespaced: boolean, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const name = asStr(s.name) ?? "";
  const apiGroup = asStr(s.apiGroup) ?? "";
  if (name.length === 0) errs.push(required(path.child("name"), ""));
  switch (s.kind) {
    case "ServiceAccount":
      if (name.length > 0) for (const m of nameIsDNSSubdomain(name, false)) errs.push(invalid(path.child("name"), name, m));
      if (apiGroup.length > 0) errs.push(notSupported(path.child("apiGroup"), apiGroup, [""]));
      if (!namespaced && (asStr(s.namespace) ?? "").length === 0) errs.push(required(path.child("namespace"), ""));
      break;
    case "User":
    case "Group":
      if (apiGroup !== RBAC_GROUP) errs.push(notSupported(path.child("apiGroup"), apiGroup, [RBAC_GROUP]));
      break;
    default:
      errs.push(notSupported(path.child("kind"), s.kind ?? "", ["ServiceAccount", "User", "Group"]));
  }
  return errs;
}

function validateBinding(obj: Json, namespaced: boolean): FieldError[] {
  const errs = validateMeta(obj, namespaced, validateRBACName);
  const ref = asObj(obj.roleRef) ?? {};
  const apiGroup = asStr(ref.apiGroup) ?? "";
  if (apiGroup !== RBAC_GROUP) errs.push(notSupported(FieldPath.of("roleRef", "apiGroup"), apiGroup, [RBAC_GROUP]));
  const kinds = namespaced ? ["Role", "ClusterRole"] : ["ClusterRole"];
  const kind = asStr(ref.kind) ?? "";
  if (!kinds.includes(kind)) errs.push(notSupported(FieldPath.of("roleRef", "kind"), kind, kinds));
  const name = asStr(ref.name) ?? "";
  if (name.length === 0) errs.push(required(FieldPath.of("roleRef", "name"), ""));
  else for (const m of isValidPathSegmentName(name)) errs.push(invalid(FieldPath.of("roleRef", "name"), name, m));
  objs(obj.subjects).forEach((s, i) => errs.push(...validateSubject(s, namespaced, FieldPath.of("subjects").index(i))));
  return errs;
}

/** rbac.RoleRef as Go's %#v prints it. */
function goRoleRef(ref: Json): GoRendered {
  const f = (k: string): string => goQuote(asStr(ref[k]) ?? "");
  return new GoRendered(`rbac.RoleRef{APIGroup:${f("apiGroup")}, Kind:${f("kind")}, Name:${f("name")}}`);
}

function validateBindingUpdate(obj: Json, old: Json, namespaced: boolean): FieldError[] {
  const errs = [...validateBinding(obj, namespaced), ...validateMetaUpdate(obj, old)];
  const ref = asObj(obj.roleRef) ?? {};
  const oldRef = asObj(old.roleRef) ?? {};
  if (["apiGroup", "kind", "name"].some((k) => (asStr(ref[k]) ?? "") !== (asStr(oldRef[k]) ?? ""))) errs.push(invalid(FieldPath.of("roleRef"), goRoleRef(ref), "cannot change roleRef"));
  return errs;
}

/** The printers' SubjectsStrings: users, groups and service accounts (as namespace/name). */
function subjectCells(obj: Json): [string, string, string] {
  const users: string[] = [];
  const groups: string[] = [];
  const sas: string[] = [];
  for (const s of objs(obj.subjects)) {
    const name = asStr(s.name) ?? "";
    if (s.kind === "ServiceAccount") sas.push(`${asStr(s.namespace) ?? ""}/${name}`);
    else if (s.kind === "User") users.push(name);
    else if (s.kind === "Group") groups.push(name);
  }
  return [users.join(", "), groups.join(", "), sas.join(", ")];
}

function bindingTable(roleRefDescription: string, what: string): TableDefinition {
  return {
    columns: [
      nameColumn(),
      column("Role", "string", roleRefDescription),
      ageColumn,
      column("Users", "string", `Users in the ${what}`, 1),
      column("Groups", "string", `Groups in the ${what}`, 1),
      column("ServiceAccounts", "string", `ServiceAccounts in the ${what}`, 1),
    ],
    row: (obj: Readonly<KubeObject>, now: Date) => {
      const ref = asObj(obj.roleRef) ?? {};
      return [nameOf(obj), `${asStr(ref.kind) ?? ""}/${asStr(ref.name) ?? ""}`, since(creationOf(obj), now), ...subjectCells(obj)];
    },
  };
}

// RBAC objects keep no status and no generation, and a PUT may create one (for reconcilers).
const noStatusNoGeneration = { statusFields: [], specFields: [], allowCreateOnUpdate: true, allowUnconditionalUpdate: true } as const;

export const roles: ResourceDefinition = {
  group: RBAC_GROUP,
  version: "v1",
  kind: "Role",
  plural: "roles",
  singular: "role",
  namespaced: true,
  definition: "io.k8s.api.rbac.v1.Role",
  strategy: {
    validate: (obj) => [...validateMeta(obj, true, validateRBACName), ...validateRules(obj, true)],
    validateUpdate: (obj, old) => [...validateMeta(obj, true, validateRBACName), ...validateRules(obj, true), ...validateMetaUpdate(obj, old)],
    ...noStatusNoGeneration,
  },
  table: defaultTable(),
};

export const clusterRoles: ResourceDefinition = {
  group: RBAC_GROUP,
  version: "v1",
  kind: "ClusterRole",
  plural: "clusterroles",
  singular: "clusterrole",
  namespaced: false,
  definition: "io.k8s.api.rbac.v1.ClusterRole",
  strategy: {
    validate: (obj) => validateClusterRole(obj, false),
    validateUpdate: (obj, old) => [...validateClusterRole(obj, selectorsHaveInvalidLabelValue(old)), ...validateMetaUpdate(obj, old)],
    ...noStatusNoGeneration,
  },
  table: defaultTable(),
};

export const roleBindings: ResourceDefinition = {
  group: RBAC_GROUP,
  version: "v1",
  kind: "RoleBinding",
  plural: "rolebindings",
  singular: "rolebinding",
  namespaced: true,
  definition: "io.k8s.api.rbac.v1.RoleBinding",
  strategy: {
    defaults: defaultBinding,
    validate: (obj) => validateBinding(obj, true),
    validateUpdate: (obj, old) => validateBindingUpdate(obj, old, true),
    ...noStatusNoGeneration,
  },
  table: bindingTable(D.roleBindingRoleRef, "roleBinding"),
};

export const clusterRoleBindings: ResourceDefinition = {
  group: RBAC_GROUP,
  version: "v1",
  kind: "ClusterRoleBinding",
  plural: "clusterrolebindings",
  singular: "clusterrolebinding",
  namespaced: false,
  definition: "io.k8s.api.rbac.v1.ClusterRoleBinding",
  strategy: {
    defaults: defaultBinding,
    validate: (obj) => validateBinding(obj, false),
    validateUpdate: (obj, old) => validateBindingUpdate(obj, old, false),
    ...noStatusNoGeneration,
  },
  table: bindingTable(D.clusterRoleBindingRoleRef, "clusterRoleBinding"),
};

export const rbacResources: readonly ResourceDefinition[] = [clusterRoleBindings, clusterRoles, roleBindings, roles];

