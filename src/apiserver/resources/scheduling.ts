// scheduling.k8s.io/v1 priority classes: cluster-scoped, immutable value and preemption
// policy, the `system-` prefix reserved for the two built-in classes.
import { FieldPath, forbidden, notSupported, required, type FieldError } from "../../api/fielderrors.js";
import type { ResourceDefinition } from "../registry/types.js";
import { immutable, validateMeta, validateMetaUpdate } from "./common.js";
import { D } from "./descriptions.js";
import { ageColumn, column, nameColumn, since } from "./print.js";
import { asBool, asNum, asStr, creationOf, nameOf, setDefault, type Json } from "./util.js";

/** Priorities above this are reserved for system classes. */
export const HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000;
export const SYSTEM_CRITICAL_PRIORITY = 2 * HIGHEST_USER_DEFINABLE_PRIORITY;

/** The classes the API server creates at start (upstream's scheduling bootstrap hook). */
export const systemPriorityClasses: readonly Json[] = [
  {
    metadata: { name: "system-node-critical" },
    value: SYSTEM_CRITICAL_PRIORITY + 1000,
    description: "Used for system critical pods that must not be moved from their current node.",
  },
  {
    metadata: { name: "system-cluster-critical" },
    value: SYSTEM_CRITICAL_PRIORITY,
    description: "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
  },
];

const SYSTEM_PREFIX = "system-";

function knownSystemClassError(name: string, value: number | undefined, globalDefault: boolean): string | undefined {
  const known = systemPriorityClasses.find((c) => (c.metadata as Json).name === name);
  if (!known) return `${name} is not a known system priority class`;
  if (known.value !== value) return `value of ${name} PriorityClass must be ${String(known.value)}`;
  if (globalDefault) return `globalDefault of ${name} PriorityClass must be false`;
  return undefined;
}

function validatePreemptionPolicy(v: unknown, path: FieldPath): FieldError[] {
  if (v === undefined || v === null) return [];
  if (v === "PreemptLowerPriority" || v === "Never") return [];
  if (v === "") return [required(path, "")];
  return [notSupported(path, v, ["PreemptLowerPriority", "Never"])];
}

function validatePriorityClass(pc: Json): FieldError[] {
  const errs = validateMeta(pc, false);
  const name = asStr((pc.metadata as Json | undefined)?.name) ?? "";
  const value = asNum(pc.value) ?? 0;
  if (name.startsWith(SYSTEM_PREFIX)) {
    const why = knownSystemClassError(name, value, asBool(pc.globalDefault) ?? false);
    if (why) errs.push(forbidden(FieldPath.of("metadata", "name"), `priority class names with '${SYSTEM_PREFIX}' prefix are reserved for system use only. error: ${why}`));
  } else if (value > HIGHEST_USER_DEFINABLE_PRIORITY) {
    errs.push(forbidden(FieldPath.of("value"), `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`));
  }
  errs.push(...validatePreemptionPolicy(pc.preemptionPolicy, FieldPath.of("preemptionPolicy")));
  return errs;
}

function validatePriorityClassUpdate(pc: Json, old: Json): FieldError[] {
  const errs = validateMetaUpdate(pc, old);
  if ((asNum(pc.value) ?? 0) !== (asNum(old.value) ?? 0)) errs.push(forbidden(FieldPath.of("value"), "may not be changed in an update."));
  errs.push(...immutable(pc.preemptionPolicy, old.preemptionPolicy, FieldPath.of("preemptionPolicy")));
  return errs;
}

export const priorityClasses: ResourceDefinition = {
  group: "scheduling.k8s.io",
  version: "v1",
  kind: "PriorityClass",
  plural: "priorityclasses",
  singular: "priorityclass",
  shortNames: ["pc"],
  namespaced: false,
  definition: "io.k8s.api.scheduling.v1.PriorityClass",
  strategy: {
    defaults: (pc) => setDefault(pc, "preemptionPolicy", "PreemptLowerPriority"),
    validate: validatePriorityClass,
    // Upstream validates the whole object again on update, then the update rules.
    validateUpdate: (pc, old) => [...validatePriorityClass(pc), ...validatePriorityClassUpdate(pc, old)],
    statusFields: [],
    specFields: [],
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
  },
  table: {
    columns: [
      nameColumn(),
      column("Value", "integer", D.pcValue),
      column("Global-Default", "boolean", D.pcGlobalDefault),
      ageColumn,
      column("PreemptionPolicy", "string", D.pcPreemptionPolicy),
    ],
    row: (pc, now) => [nameOf(pc), asNum(pc.value) ?? 0, asBool(pc.globalDefault) ?? false, since(creationOf(pc), now), asStr(pc.preemptionPolicy) ?? ""],
  },
};

export const schedulingResources: readonly ResourceDefinition[] = [priorityClasses];
