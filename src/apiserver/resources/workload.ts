// What the workload kinds share (apps/v1, batch/v1, core/v1 replication controllers): pod
// template defaulting and validation, the label selector rules with upstream's messages, the
// status counters' checks, and the scale subresource mapping.
import { FieldPath, forbidden, GoRendered, invalid, notSupported, required, type FieldError } from "../../api/fielderrors.js";
import { labelSelectorAsSelector, selectorFromSet, type Selector } from "../../api/labels.js";
import { validateAnnotations, validateLabels, validateLabelSelector } from "../../api/validation.js";
import type { KubeObject, ScaleSpec } from "../registry/types.js";
import { goLabelSelector, nonNegative, selectorView } from "./common.js";
import { defaultPodTemplate } from "./core/podspec-defaults.js";
import { validatePodSpec } from "./core/podspec-validation.js";
import { asArr, asNum, asObj, isObj, strMap, type Json } from "./util.js";

/** A label map as Go prints it in a field error (`map[string]string(nil)` when unset). */
export function goLabels(labels: unknown): unknown {
  return isObj(labels) ? labels : new GoRendered("map[string]string(nil)");
}

/** ValidatePodTemplateSpec: the template's labels are reported at `<path>.labels`, as upstream does. */
export function validatePodTemplateSpec(template: Json, path: FieldPath): FieldError[] {
  const md = asObj(template.metadata) ?? {};
  const errs = [...validateLabels(strMap(md.labels), path.child("labels")), ...validateAnnotations(strMap(md.annotations), path.child("annotations"))];
  const spec = asObj(template.spec) ?? {};
  errs.push(...validatePodSpec(spec, path.child("spec")));
  if ((asArr(spec.ephemeralContainers) ?? []).length > 0) {
    errs.push(forbidden(path.child("spec", "ephemeralContainers"), "ephemeral containers not allowed in pod template"));
  }
  return errs;
}

export interface SelectorCheck {
  readonly errs: FieldError[];
  /** The converted selector; undefined when it cannot be converted. */
  readonly selector: Selector | undefined;
}

/**
 * A workload's `spec.selector`: required, valid, not empty (`empty selector is invalid for
 * <kind>`), convertible. `kindWord` is upstream's word in the message ("deployment" for
 * replica sets too).
 */
export function validateWorkloadSelector(sel: unknown, path: FieldPath, kindWord: string, requireIt = true): SelectorCheck {
  const errs: FieldError[] = [];
  if (sel === undefined || sel === null) {
    if (requireIt) errs.push(required(path, ""));
  } else if (isObj(sel)) {
    errs.push(...validateLabelSelector(selectorView(sel), {}, path));
    const n = Object.keys(asObj(sel.matchLabels) ?? {}).length + (asArr(sel.matchExpressions) ?? []).length;
    if (n === 0) errs.push(invalid(path, goLabelSelector(sel), `empty selector is invalid for ${kindWord}`));
  }
  let selector: Selector | undefined;
  try {
    selector = labelSelectorAsSelector(selectorView(sel));
  } catch {
    selector = undefined;
  }
  return { errs, selector };
}

/**
 * ValidatePodTemplateSpecForReplicaSet (and its RC/StatefulSet twins): the selector must match
 * the template's labels, the template must be valid, restartPolicy Always, no deadline.
 */
/** What validateTemplateForController checks beyond the selector, labels and annotations. */
export interface TemplateChecks {
  /** restartPolicy Always and no activeDeadlineSeconds (default true). */
  readonly restartAlways?: boolean;
  /**
   * The pod spec (default true). Upstream's StatefulSet validation leaves it out: its
   * containers mount volumes that only the volumeClaimTemplates make, so the spec is checked
   * when each pod is created (ValidatePodTemplateSpecForStatefulSet).
   */
  readonly podSpec?: boolean;
}

export function validateTemplateForController(template: unknown, selector: Selector | undefined, path: FieldPath, kindName: string, o: TemplateChecks = {}): FieldError[] {
  if (!isObj(template)) return [required(path, "")];
  const errs: FieldError[] = [];
  const labels = asObj(asObj(template.metadata)?.labels);
  if (selector && !selector.isEmpty() && !selector.matches(strMap(labels))) {
    errs.push(invalid(path.child("metadata", "labels"), goLabels(labels), "`selector` does not match template `labels`"));
  }
  if (o.podSpec === false) {
    const md = asObj(template.metadata) ?? {};
    errs.push(...validateLabels(strMap(md.labels), path.child("labels")), ...validateAnnotations(strMap(md.annotations), path.child("annotations")));
  } else errs.push(...validatePodTemplateSpec(template, path));
  if (o.restartAlways !== false) {
    const spec = asObj(template.spec) ?? {};
    if (spec.restartPolicy !== "Always") errs.push(notSupported(path.child("spec", "restartPolicy"), spec.restartPolicy ?? "", ["Always"]));
    if (spec.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds !== null) {
      errs.push(forbidden(path.child("spec", "activeDeadlineSeconds"), `activeDeadlineSeconds in ${kindName} is not Supported`));
    }
  }
  return errs;
}

/** Defaults of a workload's `spec.template`. */
export function defaultTemplateOf(spec: Json | undefined): void {
  if (!spec) return;
  const t = spec.template;
  if (t === undefined || t === null) spec.template = {};
  defaultPodTemplate(asObj(spec.template));
}

/** Non-negative status counters, and upstream's "cannot be greater than" rules between them. */
export function validateReplicaStatus(status: Json, path: FieldPath, fields: readonly string[]): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of fields) errs.push(...nonNegative(status[f], path.child(f)));
  const replicas = asNum(status.replicas) ?? 0;
  const msg = "cannot be greater than status.replicas";
  for (const f of ["fullyLabeledReplicas", "updatedReplicas", "readyReplicas", "availableReplicas"]) {
    if (fields.includes(f) && (asNum(status[f]) ?? 0) > replicas) errs.push(invalid(path.child(f), asNum(status[f]) ?? 0, msg));
  }
  if ((asNum(status.availableReplicas) ?? 0) > (asNum(status.readyReplicas) ?? 0)) {
    errs.push(invalid(path.child("availableReplicas"), asNum(status.availableReplicas) ?? 0, "cannot be greater than readyReplicas"));
  }
  return errs;
}

/** The scale subresource of a kind whose selector is a metav1.LabelSelector at spec.selector. */
export const labelSelectorScale: ScaleSpec = {
  specReplicasPath: ["spec", "replicas"],
  statusReplicasPath: ["status", "replicas"],
  selector(obj: KubeObject): string {
    const sel = asObj(asObj(obj.spec)?.selector);
    try {
      return labelSelectorAsSelector(selectorView(sel)).toString();
    } catch {
      return "";
    }
  },
};

/** The scale subresource of replication controllers, whose selector is a plain label map. */
export const mapSelectorScale: ScaleSpec = {
  specReplicasPath: ["spec", "replicas"],
  statusReplicasPath: ["status", "replicas"],
  selector(obj: KubeObject): string {
    try {
      return selectorFromSet(strMap(asObj(obj.spec)?.selector)).toString();
    } catch {
      return "";
    }
  },
};
