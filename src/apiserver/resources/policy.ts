// policy/v1 pod disruption budgets: spec validation (minAvailable and maxUnavailable exclusive,
// each a non-negative int or a percentage ≤ 100%), the status checks including metav1
// conditions, generation on spec change, and the table.
import type { LabelSelector } from "kubernetes-types/meta/v1.js";
import { duplicate, FieldPath, invalid, notSupported, required, tooLong, type FieldError } from "../../api/fielderrors.js";
import { intOrStringToString, isNotMoreThan100Percent, validatePositiveIntOrPercent, type IntOrString } from "../../api/intstr.js";
import { regexError, validateLabelName, validateLabelSelector, validatePathSegmentName } from "../../api/validation.js";
import type { ResourceDefinition } from "../registry/types.js";
import { nonNegative, validateMeta, validateMetaUpdate } from "./common.js";
import { ageColumn, column, nameColumn, since } from "./print.js";
import { asNum, asObj, asStr, creationOf, isObj, nameOf, objs, type Json } from "./util.js";

const SPEC = FieldPath.of("spec");
const STATUS = FieldPath.of("status");

const CONDITION_REASON_FMT = "[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?";
const CONDITION_REASON_RE = new RegExp(`^${CONDITION_REASON_FMT}$`);
const CONDITION_REASON_MSG =
  "a condition reason must start with alphabetic character, optionally followed by a string of alphanumeric characters or '_,:', and must end with an alphanumeric character or '_'";
const MAX_REASON_LEN = 1024;
const MAX_MESSAGE_LEN = 32 * 1024;

/** metav1 validation.ValidateConditions: the rules every `[]metav1.Condition` status follows. */
export function validateConditions(conditions: unknown, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  objs(conditions).forEach((c, i) => {
    const p = path.index(i);
    const type = asStr(c.type) ?? "";
    if (seen.has(type)) errs.push(duplicate(p.child("type"), type));
    seen.add(type);
    errs.push(...validateLabelName(type, p.child("type")));
    if (c.status !== "True" && c.status !== "False" && c.status !== "Unknown") errs.push(notSupported(p.child("status"), c.status ?? "", ["False", "True", "Unknown"]));
    const og = asNum(c.observedGeneration);
    if (og !== undefined && og < 0) errs.push(invalid(p.child("observedGeneration"), og, "must be greater than or equal to zero"));
    if (!asStr(c.lastTransitionTime)) errs.push(required(p.child("lastTransitionTime"), "must be set"));
    const reason = asStr(c.reason) ?? "";
    if (reason.length === 0) errs.push(required(p.child("reason"), "must be set"));
    else {
      if (!CONDITION_REASON_RE.test(reason)) {
        errs.push(invalid(p.child("reason"), reason, regexError(CONDITION_REASON_MSG, CONDITION_REASON_FMT, "my_name", "MY_NAME", "MyName", "ReasonA,ReasonB", "ReasonA:ReasonB")));
      }
      if (reason.length > MAX_REASON_LEN) errs.push(tooLong(p.child("reason"), MAX_REASON_LEN));
    }
    if ((asStr(c.message) ?? "").length > MAX_MESSAGE_LEN) errs.push(tooLong(p.child("message"), MAX_MESSAGE_LEN));
  });
  return errs;
}

function intOrStr(v: unknown): IntOrString | undefined {
  return typeof v === "number" || typeof v === "string" ? v : undefined;
}

function validatePDBSpec(spec: Json, allowInvalidLabelValue: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const min = intOrStr(spec.minAvailable);
  const max = intOrStr(spec.maxUnavailable);
  if (min !== undefined && max !== undefined) errs.push(invalid(SPEC, spec, "minAvailable and maxUnavailable cannot be both set"));
  if (min !== undefined) {
    errs.push(...validatePositiveIntOrPercent(min, SPEC.child("minAvailable")), ...isNotMoreThan100Percent(min, SPEC.child("minAvailable")));
  }
  if (max !== undefined) {
    errs.push(...validatePositiveIntOrPercent(max, SPEC.child("maxUnavailable")), ...isNotMoreThan100Percent(max, SPEC.child("maxUnavailable")));
  }
  if (isObj(spec.selector)) errs.push(...validateLabelSelector(spec.selector as LabelSelector, { allowInvalidLabelValueInSelector: allowInvalidLabelValue }, SPEC.child("selector")));
  const policy = spec.unhealthyPodEvictionPolicy;
  if (policy !== undefined && policy !== null && policy !== "IfHealthyBudget" && policy !== "AlwaysAllow") {
    errs.push(notSupported(SPEC.child("unhealthyPodEvictionPolicy"), policy, ["AlwaysAllow", "IfHealthyBudget"]));
  }
  return errs;
}

function selectorHasInvalidLabelValue(sel: unknown): boolean {
  if (!isObj(sel)) return false;
  return validateLabelSelector(sel as LabelSelector, {}, SPEC).some((e) => e.field.includes(".values["));
}

/**
 * Upstream's PDB validation covers the spec only; the generic store then checks metadata
 * (names as path segments) and reports those errors only when the spec had none.
 */
function withMeta(specErrs: FieldError[], metaErrs: () => FieldError[]): FieldError[] {
  return specErrs.length > 0 ? specErrs : metaErrs();
}

const EMPTY_STATUS = { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };

export const podDisruptionBudgets: ResourceDefinition = {
  group: "policy",
  version: "v1",
  kind: "PodDisruptionBudget",
  plural: "poddisruptionbudgets",
  singular: "poddisruptionbudget",
  shortNames: ["pdb"],
  namespaced: true,
  definition: "io.k8s.api.policy.v1.PodDisruptionBudget",
  subresources: ["status"],
  strategy: {
    prepareForCreate: (pdb) => {
      pdb.status = { ...EMPTY_STATUS };
    },
    validate: (pdb) => withMeta(validatePDBSpec(asObj(pdb.spec) ?? {}, false), () => validateMeta(pdb, true, validatePathSegmentName)),
    validateUpdate: (pdb, old) =>
      withMeta(validatePDBSpec(asObj(pdb.spec) ?? {}, selectorHasInvalidLabelValue(asObj(old.spec)?.selector)), () => [...validateMetaUpdate(pdb, old), ...validateMeta(pdb, true, validatePathSegmentName)]),
    validateStatusUpdate: (pdb, old) => {
      const status = asObj(pdb.status) ?? {};
      const errs = [...validateMetaUpdate(pdb, old), ...validateConditions(status.conditions, STATUS.child("conditions"))];
      for (const f of ["disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods"]) errs.push(...nonNegative(status[f], STATUS.child(f)));
      return errs;
    },
    statusFields: ["status"],
    specFields: ["spec"],
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
  },
  table: {
    columns: [
      nameColumn(),
      column("Min Available", "string", "The minimum number of pods that must be available."),
      column("Max Unavailable", "string", "The maximum number of pods that may be unavailable."),
      column("Allowed Disruptions", "integer", "Calculated number of pods that may be disrupted at this time."),
      ageColumn,
    ],
    row: (pdb, now) => {
      const spec = asObj(pdb.spec) ?? {};
      const min = intOrStr(spec.minAvailable);
      const max = intOrStr(spec.maxUnavailable);
      return [
        nameOf(pdb),
        min === undefined ? "N/A" : intOrStringToString(min),
        max === undefined ? "N/A" : intOrStringToString(max),
        asNum(asObj(pdb.status)?.disruptionsAllowed) ?? 0,
        since(creationOf(pdb), now),
      ];
    },
  },
};

export const policyResources: readonly ResourceDefinition[] = [podDisruptionBudgets];
