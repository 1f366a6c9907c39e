// batch/v1: jobs and cron jobs, with upstream's defaults (SetDefaults_Job, SetDefaults_CronJob),
// the job strategy's generated selector and labels, validation (pkg/apis/batch/validation) with
// upstream's paths and messages, the status checks a managed-by aware server applies, and the
// printers' tables.
import type { LabelSelector } from "kubernetes-types/meta/v1.js";
import { CronParseError, isKnownTimeZone, parseStandardCron } from "../../api/cron.js";
import { duplicate, FieldPath, GoRendered, goQuote, invalid, notSupported, OMIT_VALUE, required, tooLong, tooMany, type FieldError } from "../../api/fielderrors.js";
import { labelSelectorAsSelector, type Selector } from "../../api/labels.js";
import { isDNS1123Label, isDomainPrefixedPath, validateLabelSelector } from "../../api/validation.js";
import type { KubeObject, ResourceDefinition, TableDefinition } from "../registry/types.js";
import { goLabelSelector, immutable, MAX_INT32, nonNegative, qualifiedName, SPEC, validateMeta, validateMetaUpdate } from "./common.js";
import { D } from "./descriptions.js";
import { ageColumn, column, containerCells, containersColumn, formatLabelSelector, humanDuration, imagesColumn, nameColumn, parseTime, since } from "./print.js";
import { asArr, asNum, asObj, asStr, child, clone, isObj, jsonEqual, nameOf, creationOf, deletionOf, objs, setDefault, strMap, type Json } from "./util.js";
import { defaultTemplateOf, goLabels, validatePodTemplateSpec } from "./workload.js";

const META = FieldPath.of("metadata");
const STATUS = FieldPath.of("status");

// Labels the job strategy stamps on the template (batch.LegacyJobNameLabel etc.).
export const JOB_NAME_LABEL = "batch.kubernetes.io/job-name";
export const CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid";
export const LEGACY_JOB_NAME_LABEL = "job-name";
export const LEGACY_CONTROLLER_UID_LABEL = "controller-uid";

const MAX_PARALLELISM_INDEXED = 100000;
const MAX_FAILED_INDEXES = 100000;
const COMPLETIONS_SOFT_LIMIT = 100000;
const PARALLELISM_LIMIT_HIGH_COMPLETIONS = 10000;
const MAX_FAILED_INDEXES_HIGH_COMPLETIONS = 10000;
const MAX_POD_FAILURE_POLICY_RULES = 20;
const MAX_ON_EXIT_CODES_VALUES = 255;
const MAX_ON_POD_CONDITIONS_PATTERNS = 20;
const MAX_MANAGED_BY_LENGTH = 63;
const MAX_SUCCEEDED_INDEXES_LENGTH = 64 * 1024;
const MAX_SUCCESS_POLICY_RULES = 20;

function specOf(obj: Json): Json {
  return asObj(obj.spec) ?? {};
}

function statusOf(obj: Json): Json {
  return asObj(obj.status) ?? {};
}

function templateOf(spec: Json): Json {
  return asObj(spec.template) ?? {};
}

function templateLabels(spec: Json): Json | undefined {
  return asObj(asObj(templateOf(spec).metadata)?.labels);
}

/** A Go []int32 as %#v prints it. */
function goInt32s(v: unknown): GoRendered {
  if (!Array.isArray(v)) return new GoRendered("[]int32(nil)");
  return new GoRendered(`[]int32{${v.map((x) => String(x)).join(", ")}}`);
}

/** fmt's %q of a []string: `["a" "b"]`. */
function goQuotedList(v: readonly string[]): string {
  return `[${v.map((s) => goQuote(s)).join(" ")}]`;
}

// ---- jobs: defaults and the generated selector ----------------------------------------------

function defaultJob(job: Json): void {
  const spec = child(job, "spec");
  if (!spec) return;
  if ((spec.completions === undefined || spec.completions === null) && (spec.parallelism === undefined || spec.parallelism === null)) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  setDefault(spec, "parallelism", 1);
  if (spec.backoffLimit === undefined || spec.backoffLimit === null) {
    spec.backoffLimit = spec.backoffLimitPerIndex !== undefined && spec.backoffLimitPerIndex !== null ? MAX_INT32 : 6;
  }
  copyTemplateLabels(job, spec);
  setDefault(spec, "completionMode", "NonIndexed");
  setDefault(spec, "suspend", false);
  setDefault(spec, "podReplacementPolicy", isObj(spec.podFailurePolicy) ? "Failed" : "TerminatingOrFailed");
  setDefault(spec, "manualSelector", false);
  for (const rule of objs(asObj(spec.podFailurePolicy)?.rules)) {
    for (const pattern of objs(rule.onPodConditions)) setDefault(pattern, "status", "True", true);
  }
  defaultTemplateOf(spec);
}

/** SetDefaults_Job: a job without labels of its own takes its template's. */
function copyTemplateLabels(job: Json, spec: Json): void {
  const labels = templateLabels(spec);
  if (!labels) return;
  const meta = child(job, "metadata");
  if (meta && Object.keys(asObj(meta.labels) ?? {}).length === 0) meta.labels = clone(labels);
}

/** generateSelector: template labels for name and uid, and a selector on the uid. */
function generateSelector(job: Json): void {
  const spec = child(job, "spec");
  if (!spec) return;
  const template = child(spec, "template");
  const tmeta = template && child(template, "metadata");
  const labels = tmeta && child(tmeta, "labels");
  const meta = asObj(job.metadata) ?? {};
  const name = asStr(meta.name) ?? "";
  const uid = asStr(meta.uid) ?? "";
  if (labels) {
    // A label the client set is kept; validation reports it when it conflicts.
    for (const key of [LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL]) if (!(key in labels)) labels[key] = name;
    for (const key of [LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL]) if (!(key in labels)) labels[key] = uid;
  }
  const selector = child(spec, "selector");
  const matchLabels = selector && child(selector, "matchLabels");
  if (matchLabels && !(CONTROLLER_UID_LABEL in matchLabels)) matchLabels[CONTROLLER_UID_LABEL] = uid;
}

function jobPrepareForCreate(job: Json): void {
  if (specOf(job).manualSelector !== true) generateSelector(job);
  job.status = {};
  // Upstream applies defaults again when it decodes what it stored, so the generated template
  // labels reach metadata.labels of a job that had none.
  const spec = asObj(job.spec);
  if (spec) copyTemplateLabels(job, spec);
}

// ---- jobs: validation -------------------------------------------------------------------------

interface JobValidationOptions {
  /** The prefixed batch.kubernetes.io labels are checked too (new jobs, and jobs that had them). */
  readonly requirePrefixedLabels: boolean;
  readonly allowInvalidLabelValueInSelector?: boolean;
}

function validateHasLabel(labels: Json | undefined, path: FieldPath, key: string, expected: string): FieldError[] {
  const p = path.child("labels").key(key);
  if (!labels || !(key in labels)) return [required(p, `must be '${expected}'`)];
  if (labels[key] !== expected) return [invalid(p, goLabels(labels), `must be '${expected}'`)];
  return [];
}

function selectorOf(sel: unknown): Selector | undefined {
  try {
    return labelSelectorAsSelector((isObj(sel) ? sel : undefined) as LabelSelector | undefined);
  } catch {
    return undefined;
  }
}

function validateGeneratedSelector(job: Json, opts: JobValidationOptions): FieldError[] {
  const spec = specOf(job);
  if (spec.manualSelector === true || !isObj(spec.selector)) return [];
  const meta = asObj(job.metadata) ?? {};
  const uid = asStr(meta.uid) ?? "";
  const name = asStr(meta.name) ?? "";
  const errs: FieldError[] = [];
  if (uid === "") errs.push(required(META.child("uid"), ""));
  const tmeta = SPEC.child("template", "metadata");
  const labels = templateLabels(spec);
  errs.push(...validateHasLabel(labels, tmeta, LEGACY_CONTROLLER_UID_LABEL, uid));
  errs.push(...validateHasLabel(labels, tmeta, LEGACY_JOB_NAME_LABEL, name));
  const expected: Record<string, string> = {};
  if (opts.requirePrefixedLabels) {
    errs.push(...validateHasLabel(labels, tmeta, CONTROLLER_UID_LABEL, uid));
    errs.push(...validateHasLabel(labels, tmeta, JOB_NAME_LABEL, name));
    expected[CONTROLLER_UID_LABEL] = uid;
    expected[JOB_NAME_LABEL] = name;
  }
  expected[LEGACY_CONTROLLER_UID_LABEL] = uid;
  expected[LEGACY_JOB_NAME_LABEL] = name;
  const selector = selectorOf(spec.selector);
  if (selector && !selector.matches(expected)) errs.push(invalid(SPEC.child("selector"), goLabelSelector(spec.selector), "`selector` not auto-generated"));
  return errs;
}

function validatePodFailurePolicy(spec: Json, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const rules = objs(asObj(spec.podFailurePolicy)?.rules);
  const rulesPath = path.child("rules");
  if (rules.length > MAX_POD_FAILURE_POLICY_RULES) errs.push(tooMany(rulesPath, rules.length, MAX_POD_FAILURE_POLICY_RULES));
  const tspec = asObj(templateOf(spec).spec) ?? {};
  const containerNames = new Set([...objs(tspec.containers), ...objs(tspec.initContainers)].map((c) => asStr(c.name) ?? ""));
  const actions = ["Count", "FailIndex", "FailJob", "Ignore"];
  rules.forEach((rule, i) => {
    const rulePath = rulesPath.index(i);
    const actionPath = rulePath.child("action");
    const action = rule.action;
    if (action === undefined || action === null || action === "") errs.push(required(actionPath, `valid values: ${goQuotedList(actions)}`));
    else if (action === "FailIndex") {
      if (spec.backoffLimitPerIndex === undefined || spec.backoffLimitPerIndex === null) errs.push(invalid(actionPath, action, "requires the backoffLimitPerIndex to be set"));
    } else if (typeof action !== "string" || !actions.includes(action)) errs.push(notSupported(actionPath, action, actions));
    const onExitCodes = asObj(rule.onExitCodes);
    const onPodConditions = objs(rule.onPodConditions);
    if (onExitCodes) errs.push(...validateOnExitCodes(onExitCodes, rulePath.child("onExitCodes"), containerNames));
    if (onPodConditions.length > 0) errs.push(...validateOnPodConditions(onPodConditions, rulePath.child("onPodConditions")));
    if (onExitCodes && onPodConditions.length > 0) errs.push(invalid(rulePath, OMIT_VALUE, "specifying both OnExitCodes and OnPodConditions is not supported"));
    if (!onExitCodes && onPodConditions.length === 0) errs.push(invalid(rulePath, OMIT_VALUE, "specifying one of OnExitCodes and OnPodConditions is required"));
  });
  return errs;
}

function validateOnPodConditions(patterns: Json[], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const statuses = ["False", "True", "Unknown"];
  if (patterns.length > MAX_ON_POD_CONDITIONS_PATTERNS) errs.push(tooMany(path, patterns.length, MAX_ON_POD_CONDITIONS_PATTERNS));
  patterns.forEach((p, j) => {
    const pp = path.index(j);
    errs.push(...qualifiedName(asStr(p.type) ?? "", pp.child("type")));
    if (p.status === undefined || p.status === null || p.status === "") errs.push(required(pp.child("status"), `valid values: ${goQuotedList(statuses)}`));
    else if (typeof p.status !== "string" || !statuses.includes(p.status)) errs.push(notSupported(pp.child("status"), p.status, statuses));
  });
  return errs;
}

function validateOnExitCodes(req: Json, path: FieldPath, containerNames: ReadonlySet<string>): FieldError[] {
  const errs: FieldError[] = [];
  const ops = ["In", "NotIn"];
  const opPath = path.child("operator");
  if (req.operator === undefined || req.operator === null || req.operator === "") errs.push(required(opPath, `valid values: ${goQuotedList(ops)}`));
  else if (typeof req.operator !== "string" || !ops.includes(req.operator)) errs.push(notSupported(opPath, req.operator, ops));
  const containerName = asStr(req.containerName);
  if (containerName !== undefined && !containerNames.has(containerName)) {
    errs.push(invalid(path.child("containerName"), containerName, "must be one of the container or initContainer names in the pod template"));
  }
  const valuesPath = path.child("values");
  const values = (asArr(req.values) ?? []).filter((v): v is number => typeof v === "number");
  if (values.length === 0) errs.push(invalid(valuesPath, goInt32s(req.values), "at least one value is required"));
  else if (values.length > MAX_ON_EXIT_CODES_VALUES) errs.push(tooMany(valuesPath, values.length, MAX_ON_EXIT_CODES_VALUES));
  let ordered = true;
  const seen = new Set<number>();
  values.forEach((v, j) => {
    if (req.operator === "In" && v === 0) errs.push(invalid(valuesPath.index(j), v, "must not be 0 for the In operator"));
    if (seen.has(v)) errs.push(duplicate(valuesPath.index(j), v));
    else seen.add(v);
    if (j > 0 && values[j - 1]! > v) ordered = false;
  });
  if (!ordered) errs.push(invalid(valuesPath, goInt32s(values), "must be ordered"));
  return errs;
}

/** Go's strconv.Atoi for index lists: an optional sign and decimal digits. */
function atoi(s: string): number | undefined {
  return /^[+-]?[0-9]+$/.test(s) ? Number(s) : undefined;
}

function parseIndexInterval(interval: string, completions: number): [number, number] {
  const limits = interval.split("-");
  if (limits.length > 2) throw new IndexFormatError(`the fragment ${goQuote(interval)} violates the requirement that an index interval can have at most two parts separated by '-'`);
  const x = atoi(limits[0]!);
  if (x === undefined) throw new IndexFormatError(`cannot convert string to integer for index: ${goQuote(limits[0]!)}`);
  if (x >= completions) throw new IndexFormatError(`too large index: ${goQuote(limits[0]!)}`);
  if (limits.length === 1) return [x, x];
  const y = atoi(limits[1]!);
  if (y === undefined) throw new IndexFormatError(`cannot convert string to integer for index: ${goQuote(limits[1]!)}`);
  if (y >= completions) throw new IndexFormatError(`too large index: ${goQuote(limits[1]!)}`);
  if (x >= y) throw new IndexFormatError(`non-increasing order, previous: ${x}, current: ${y}`);
  return [x, y];
}

class IndexFormatError extends Error {
  override readonly name = "IndexFormatError";
  readonly code = "IndexFormat" as const;
}

/** validateIndexesFormat: "1,3-5,7" within [0, completions), increasing; the number of indexes. */
function validateIndexesFormat(indexes: string, completions: number): number {
  if (indexes.length === 0) return 0;
  let last: number | undefined;
  let total = 0;
  for (const interval of indexes.split(",")) {
    const [x, y] = parseIndexInterval(interval, completions);
    if (last !== undefined && last >= x) throw new IndexFormatError(`non-increasing order, previous: ${last}, current: ${x}`);
    total += y - x + 1;
    last = y;
  }
  return total;
}

function indexesError(indexes: string, completions: number): string | undefined {
  try {
    validateIndexesFormat(indexes, completions);
    return undefined;
  } catch (err) {
    if (err instanceof IndexFormatError) return err.message;
    throw err;
  }
}

function validateSuccessPolicy(spec: Json, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const rules = objs(asObj(spec.successPolicy)?.rules);
  const rulesPath = path.child("rules");
  const completions = asNum(spec.completions) ?? 0;
  if (rules.length === 0) errs.push(required(rulesPath, "at least one rules must be specified when the successPolicy is specified"));
  if (rules.length > MAX_SUCCESS_POLICY_RULES) errs.push(tooMany(rulesPath, rules.length, MAX_SUCCESS_POLICY_RULES));
  rules.forEach((rule, i) => {
    const rp = rulesPath.index(i);
    const indexes = asStr(rule.succeededIndexes);
    const count = asNum(rule.succeededCount);
    if (indexes === undefined && count === undefined) errs.push(required(rp, "at least one of succeededCount or succeededIndexes must be specified"));
    let total = 0;
    if (indexes !== undefined) {
      const ip = rp.child("succeededIndexes");
      if (indexes.length > MAX_SUCCEEDED_INDEXES_LENGTH) errs.push(tooLong(ip, MAX_SUCCEEDED_INDEXES_LENGTH));
      try {
        total = validateIndexesFormat(indexes, completions);
      } catch (err) {
        if (!(err instanceof IndexFormatError)) throw err;
        errs.push(invalid(ip, indexes, `error parsing succeededIndexes: ${err.message}`));
      }
    }
    if (count !== undefined) {
      const cp = rp.child("succeededCount");
      errs.push(...nonNegative(count, cp));
      if (count > completions) errs.push(invalid(cp, count, `must be less than or equal to ${completions} (the number of specified completions)`));
      if (indexes !== undefined && count > total) errs.push(invalid(cp, count, `must be less than or equal to ${total} (the number of indexes in the specified succeededIndexes field)`));
    }
  });
  return errs;
}

function isSet(v: unknown): boolean {
  return v !== undefined && v !== null;
}

/** validateJobSpec: everything but the selector (shared with cron job templates). */
function validateJobSpecFields(spec: Json, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of ["parallelism", "completions", "activeDeadlineSeconds", "backoffLimit", "ttlSecondsAfterFinished", "backoffLimitPerIndex"]) {
    errs.push(...nonNegative(spec[f], path.child(f)));
  }
  if (isSet(spec.maxFailedIndexes)) {
    errs.push(...nonNegative(spec.maxFailedIndexes, path.child("maxFailedIndexes")));
    if (!isSet(spec.backoffLimitPerIndex)) errs.push(required(path.child("backoffLimitPerIndex"), "when maxFailedIndexes is specified"));
  }
  const managedBy = asStr(spec.managedBy);
  if (managedBy !== undefined) {
    errs.push(...isDomainPrefixedPath(path.child("managedBy"), managedBy));
    if (managedBy.length > MAX_MANAGED_BY_LENGTH) errs.push(tooLong(path.child("managedBy"), MAX_MANAGED_BY_LENGTH));
  }
  const mode = spec.completionMode;
  const completions = asNum(spec.completions);
  const parallelism = asNum(spec.parallelism);
  const maxFailed = asNum(spec.maxFailedIndexes);
  if (isSet(mode)) {
    if (mode !== "NonIndexed" && mode !== "Indexed") errs.push(notSupported(path.child("completionMode"), mode, ["NonIndexed", "Indexed"]));
    if (mode === "Indexed") {
      if (completions === undefined) errs.push(required(path.child("completions"), "when completion mode is Indexed"));
      if (parallelism !== undefined && parallelism > MAX_PARALLELISM_INDEXED) {
        errs.push(invalid(path.child("parallelism"), parallelism, `must be less than or equal to ${MAX_PARALLELISM_INDEXED} when completion mode is Indexed`));
      }
      if (completions !== undefined && maxFailed !== undefined && maxFailed > completions) errs.push(invalid(path.child("maxFailedIndexes"), maxFailed, "must be less than or equal to completions"));
      if (maxFailed !== undefined && maxFailed > MAX_FAILED_INDEXES) errs.push(invalid(path.child("maxFailedIndexes"), maxFailed, `must be less than or equal to ${MAX_FAILED_INDEXES}`));
      if (completions !== undefined && completions > COMPLETIONS_SOFT_LIMIT && isSet(spec.backoffLimitPerIndex)) {
        const suffix = `when completions are above ${COMPLETIONS_SOFT_LIMIT} and used with backoff limit per index`;
        if (maxFailed === undefined) errs.push(required(path.child("maxFailedIndexes"), `must be specified when completions is above ${COMPLETIONS_SOFT_LIMIT}`));
        if (parallelism !== undefined && parallelism > PARALLELISM_LIMIT_HIGH_COMPLETIONS) {
          errs.push(invalid(path.child("parallelism"), parallelism, `must be less than or equal to ${PARALLELISM_LIMIT_HIGH_COMPLETIONS} ${suffix}`));
        }
        if (maxFailed !== undefined && maxFailed > MAX_FAILED_INDEXES_HIGH_COMPLETIONS) {
          errs.push(invalid(path.child("maxFailedIndexes"), maxFailed, `must be less than or equal to ${MAX_FAILED_INDEXES_HIGH_COMPLETIONS} ${suffix}`));
        }
      }
    }
  }
  if (!isSet(mode) || mode === "NonIndexed") {
    if (isSet(spec.backoffLimitPerIndex)) errs.push(invalid(path.child("backoffLimitPerIndex"), spec.backoffLimitPerIndex, "requires indexed completion mode"));
    if (isSet(spec.maxFailedIndexes)) errs.push(invalid(path.child("maxFailedIndexes"), spec.maxFailedIndexes, "requires indexed completion mode"));
  }
  if (isObj(spec.podFailurePolicy)) errs.push(...validatePodFailurePolicy(spec, path.child("podFailurePolicy")));
  if (isObj(spec.successPolicy)) {
    if (mode !== "Indexed") errs.push(invalid(path.child("successPolicy"), spec.successPolicy, "requires indexed completion mode"));
    else errs.push(...validateSuccessPolicy(spec, path.child("successPolicy")));
  }
  const prp = spec.podReplacementPolicy;
  if (isSet(prp)) {
    if (isObj(spec.podFailurePolicy)) {
      if (prp !== "Failed") errs.push(notSupported(path.child("podReplacementPolicy"), prp, ["Failed"]));
    } else if (prp !== "Failed" && prp !== "TerminatingOrFailed") errs.push(notSupported(path.child("podReplacementPolicy"), prp, ["Failed", "TerminatingOrFailed"]));
  }
  const template = templateOf(spec);
  errs.push(...validatePodTemplateSpec(template, path.child("template")));
  const restartPolicy = asObj(template.spec)?.restartPolicy;
  const rpPath = path.child("template", "spec", "restartPolicy");
  // Pod defaulting makes an unset restartPolicy "Always", so both mean "not chosen" here.
  if (restartPolicy === "Always" || restartPolicy === undefined || restartPolicy === null || restartPolicy === "") {
    errs.push(required(rpPath, `valid values: "OnFailure", "Never"`));
  } else if (restartPolicy !== "OnFailure" && restartPolicy !== "Never") {
    errs.push(notSupported(rpPath, restartPolicy, ["OnFailure", "Never"]));
  } else if (isObj(spec.podFailurePolicy) && restartPolicy !== "Never") {
    errs.push(invalid(rpPath, restartPolicy, `only "Never" is supported when podFailurePolicy is specified`));
  }
  return errs;
}

function validateJobSpec(spec: Json, opts: JobValidationOptions): FieldError[] {
  const errs = validateJobSpecFields(spec, SPEC);
  if (!isSet(spec.selector)) errs.push(required(SPEC.child("selector"), ""));
  else errs.push(...validateLabelSelector(asObj(spec.selector) as LabelSelector | undefined, { allowInvalidLabelValueInSelector: opts.allowInvalidLabelValueInSelector ?? false }, SPEC.child("selector")));
  const selector = selectorOf(spec.selector);
  const labels = templateLabels(spec);
  if (selector && !selector.matches(strMap(labels))) {
    errs.push(invalid(SPEC.child("template", "metadata", "labels"), goLabels(labels), "`selector` does not match template `labels`"));
  }
  return errs;
}

function validateJob(job: Json, opts: JobValidationOptions): FieldError[] {
  const errs = [...validateMeta(job, true), ...validateGeneratedSelector(job, opts), ...validateJobSpec(specOf(job), opts)];
  const spec = specOf(job);
  const completions = asNum(spec.completions);
  if (spec.completionMode === "Indexed" && completions !== undefined && completions > 0) {
    // Indexed pods are named <job>-<index>; the longest must still be a DNS label.
    const name = nameOf(job);
    const hostname = `${name}-${completions - 1}`;
    if (isDNS1123Label(hostname).length > 0) errs.push(invalid(META.child("name"), name, `will not able to create pod with invalid DNS label: ${hostname}`));
  }
  return errs;
}

function hasLabel(spec: Json, key: string): boolean {
  const labels = templateLabels(spec);
  return labels !== undefined && key in labels;
}

/** Which scheduling directives a suspended job that never ran may still change. */
function mungeMutableSchedulingDirectives(template: Json, oldTemplate: Json): Json {
  const old = clone(oldTemplate);
  const tspec = asObj(template.spec) ?? {};
  const ospec = child(old, "spec") ?? {};
  const affinity = asObj(tspec.affinity);
  const oldAffinity = asObj(ospec.affinity);
  if (!affinity && oldAffinity) {
    delete oldAffinity.nodeAffinity;
    if (Object.keys(oldAffinity).length === 0) delete ospec.affinity;
  } else if (affinity && !oldAffinity) {
    ospec.affinity = affinity.nodeAffinity === undefined ? {} : { nodeAffinity: affinity.nodeAffinity };
  } else if (affinity && oldAffinity) {
    if (affinity.nodeAffinity === undefined) delete oldAffinity.nodeAffinity;
    else oldAffinity.nodeAffinity = affinity.nodeAffinity;
  }
  for (const f of ["nodeSelector", "tolerations", "schedulingGates"]) {
    if (tspec[f] === undefined) delete ospec[f];
    else ospec[f] = tspec[f];
  }
  const tmeta = asObj(template.metadata) ?? {};
  const ometa = child(old, "metadata") ?? {};
  for (const f of ["annotations", "labels"]) {
    if (tmeta[f] === undefined) delete ometa[f];
    else ometa[f] = tmeta[f];
  }
  return old;
}

function validateJobSpecUpdate(spec: Json, oldSpec: Json, allowMutableScheduling: boolean): FieldError[] {
  const errs: FieldError[] = [];
  // Completions of an Indexed job may change together with parallelism (elastic indexed jobs, GA in 1.31).
  if (spec.completionMode === "Indexed") {
    const c = asNum(spec.completions);
    if (!jsonEqual(spec.completions ?? null, oldSpec.completions ?? null) && c !== undefined && c !== asNum(spec.parallelism)) {
      errs.push(invalid(SPEC.child("completions"), c, "can only be modified in tandem with spec.parallelism"));
    }
  } else {
    errs.push(...immutable(spec.completions, oldSpec.completions, SPEC.child("completions")));
  }
  if (!jsonEqual(spec.selector ?? null, oldSpec.selector ?? null)) errs.push(invalid(SPEC.child("selector"), isSet(spec.selector) ? goLabelSelector(spec.selector) : null, "field is immutable"));
  const template = templateOf(spec);
  const oldTemplate = allowMutableScheduling ? mungeMutableSchedulingDirectives(template, templateOf(oldSpec)) : templateOf(oldSpec);
  if (!jsonEqual(template, oldTemplate)) errs.push(invalid(SPEC.child("template"), template, "field is immutable"));
  for (const f of ["completionMode", "podFailurePolicy", "backoffLimitPerIndex", "managedBy", "successPolicy"]) {
    errs.push(...immutable(spec[f], oldSpec[f], SPEC.child(f)));
  }
  return errs;
}

function validateJobUpdate(job: Json, old: Json): FieldError[] {
  const oldSpec = specOf(old);
  const opts: JobValidationOptions = {
    // Jobs created before the prefixed labels existed are not failed for lacking them.
    requirePrefixedLabels: hasLabel(oldSpec, JOB_NAME_LABEL) && hasLabel(oldSpec, CONTROLLER_UID_LABEL),
    allowInvalidLabelValueInSelector: selectorHasInvalidLabelValue(oldSpec.selector),
  };
  const allowMutableScheduling = oldSpec.suspend === true && !isSet(statusOf(old).startTime);
  return [...validateJob(job, opts), ...validateMetaUpdate(job, old), ...validateJobSpecUpdate(specOf(job), oldSpec, allowMutableScheduling)];
}

function selectorHasInvalidLabelValue(sel: unknown): boolean {
  if (!isObj(sel)) return false;
  return validateLabelSelector(sel as LabelSelector, {}, SPEC).some((e) => e.field.includes(".values["));
}

// ---- jobs: status ------------------------------------------------------------------------------

function conditionTrue(status: Json, type: string): boolean {
  return objs(status.conditions).some((c) => c.type === type && c.status === "True");
}

function jobFinished(status: Json): boolean {
  return conditionTrue(status, "Complete") || conditionTrue(status, "Failed");
}

/**
 * ValidateJobUpdateStatus with the options upstream derives when JobManagedBy is on (beta,
 * enabled in 1.32): most rules apply only when the fields they look at change, so a job whose
 * status is already off can still be updated in unrelated ways.
 */
function validateJobStatusUpdate(job: Json, old: Json): FieldError[] {
  const errs = validateMetaUpdate(job, old);
  const spec = specOf(job);
  const s = statusOf(job);
  const o = statusOf(old);
  const changed = (f: string): boolean => !jsonEqual(s[f] ?? null, o[f] ?? null);
  const isIndexed = spec.completionMode === "Indexed";
  const completeChanged = conditionTrue(s, "Complete") !== conditionTrue(o, "Complete");
  const failedChanged = conditionTrue(s, "Failed") !== conditionTrue(o, "Failed");
  const finishedChanged = jobFinished(s) !== jobFinished(o);
  const failureTargetChanged = conditionTrue(s, "FailureTarget") !== conditionTrue(o, "FailureTarget");
  const finished = jobFinished(s);
  const complete = conditionTrue(s, "Complete");
  const successCriteriaMet = conditionTrue(s, "SuccessCriteriaMet");

  for (const f of ["active", "succeeded", "failed", "ready", "terminating"]) errs.push(...nonNegative(s[f], STATUS.child(f)));
  const uncounted = asObj(s.uncountedTerminatedPods);
  if (uncounted) {
    const seen = new Set<string>();
    for (const kind of ["succeeded", "failed"]) {
      (asArr(uncounted[kind]) ?? []).forEach((uid, i) => {
        const p = STATUS.child("uncountedTerminatedPods", kind).index(i);
        if (uid === "") errs.push(invalid(p, uid, "must not be empty"));
        else if (typeof uid === "string" && seen.has(uid)) errs.push(duplicate(p, uid));
        else if (typeof uid === "string") seen.add(uid);
      });
    }
  }
  const conditions = STATUS.child("conditions");
  if ((completeChanged || failedChanged) && complete && conditionTrue(s, "Failed")) errs.push(invalid(conditions, OMIT_VALUE, "cannot set Complete=True and Failed=true conditions"));
  if ((completeChanged || failureTargetChanged) && complete && conditionTrue(s, "FailureTarget")) {
    errs.push(invalid(conditions, OMIT_VALUE, "cannot set Complete=True and FailureTarget=true conditions"));
  }
  if (completeChanged || changed("completionTime")) {
    if (isSet(s.completionTime) && !complete) errs.push(invalid(STATUS.child("completionTime"), s.completionTime, "cannot set completionTime when there is no Complete=True condition"));
    if (!isSet(s.completionTime) && complete) errs.push(required(STATUS.child("completionTime"), "completionTime is required for Complete jobs"));
  }
  if (changed("startTime") || changed("completionTime")) {
    const start = parseTime(asStr(s.startTime));
    const end = parseTime(asStr(s.completionTime));
    if (start !== undefined && end !== undefined && end < start) errs.push(invalid(STATUS.child("completionTime"), s.completionTime, "completionTime cannot be set before startTime"));
  }
  if ((finishedChanged || changed("active")) && (asNum(s.active) ?? 0) > 0 && finished) errs.push(invalid(STATUS.child("active"), asNum(s.active) ?? 0, "active>0 is invalid for finished job"));
  if ((finishedChanged || changed("startTime")) && !isSet(s.startTime) && finished) errs.push(required(STATUS.child("startTime"), "startTime is required for finished job"));
  if ((finishedChanged || changed("uncountedTerminatedPods")) && finished && uncounted && (asArr(uncounted.failed) ?? []).length + (asArr(uncounted.succeeded) ?? []).length > 0) {
    errs.push(invalid(STATUS.child("uncountedTerminatedPods"), uncounted, "uncountedTerminatedPods needs to be empty for finished job"));
  }
  const completions = asNum(spec.completions);
  const completedIndexes = asStr(s.completedIndexes) ?? "";
  const failedIndexes = asStr(s.failedIndexes);
  if (changed("completedIndexes") && completions !== undefined) {
    const e = indexesError(completedIndexes, completions);
    if (e) errs.push(invalid(STATUS.child("completedIndexes"), completedIndexes, `error parsing completedIndexes: ${e}`));
  }
  if (changed("failedIndexes") && completions !== undefined && isSet(spec.backoffLimitPerIndex) && failedIndexes !== undefined) {
    const e = indexesError(failedIndexes, completions);
    if (e) errs.push(invalid(STATUS.child("failedIndexes"), failedIndexes, `error parsing failedIndexes: ${e}`));
  }
  if (changed("completedIndexes") && completedIndexes !== "" && !isIndexed) {
    errs.push(invalid(STATUS.child("completedIndexes"), completedIndexes, "cannot set non-empty completedIndexes when non-indexed completion mode"));
  }
  if (changed("failedIndexes") && !isSet(spec.backoffLimitPerIndex) && failedIndexes !== undefined) {
    errs.push(invalid(STATUS.child("failedIndexes"), failedIndexes, "cannot set non-null failedIndexes when backoffLimitPerIndex is null"));
  }
  if ((finishedChanged || changed("terminating")) && (asNum(s.terminating) ?? 0) > 0 && finished) {
    errs.push(invalid(STATUS.child("terminating"), asNum(s.terminating) ?? 0, "terminating>0 is invalid for finished job"));
  }
  if ((changed("ready") || changed("active")) && (asNum(s.ready) ?? 0) > (asNum(s.active) ?? 0)) errs.push(invalid(STATUS.child("ready"), asNum(s.ready) ?? 0, "cannot set more ready pods than active"));
  if (successCriteriaMet && conditionTrue(s, "Failed")) errs.push(invalid(conditions, OMIT_VALUE, "cannot set SuccessCriteriaMet=True and Failed=true conditions"));
  if (successCriteriaMet && conditionTrue(s, "FailureTarget")) errs.push(invalid(conditions, OMIT_VALUE, "cannot set SuccessCriteriaMet=True and FailureTarget=true conditions"));
  if (isObj(spec.successPolicy) && !successCriteriaMet && complete) {
    errs.push(invalid(conditions, OMIT_VALUE, "cannot set Complete=True for Job with SuccessPolicy unless SuccessCriteriaMet=True"));
  }
  // Transitions.
  for (const t of ["Failed", "Complete", "FailureTarget"]) {
    if (conditionTrue(o, t) && !conditionTrue(s, t)) errs.push(invalid(conditions, OMIT_VALUE, `cannot disable the terminal ${t}=True condition`));
  }
  if ((asNum(s.failed) ?? 0) < (asNum(o.failed) ?? 0)) errs.push(invalid(STATUS.child("failed"), asNum(s.failed) ?? 0, "cannot decrease the failed counter"));
  const elastic = isIndexed && jsonEqual(spec.completions ?? null, spec.parallelism ?? null);
  if (!elastic && (asNum(s.succeeded) ?? 0) < (asNum(o.succeeded) ?? 0)) errs.push(invalid(STATUS.child("succeeded"), asNum(s.succeeded) ?? 0, "cannot decrease the succeeded counter"));
  if (isSet(s.completionTime) && isSet(o.completionTime) && s.completionTime !== o.completionTime) {
    errs.push(invalid(STATUS.child("completionTime"), s.completionTime, "completionTime cannot be mutated"));
  }
  if (changed("startTime") && isSet(o.startTime) && spec.suspend !== true) errs.push(required(STATUS.child("startTime"), "startTime cannot be removed for unsuspended job"));
  if (conditionTrue(o, "SuccessCriteriaMet") && !successCriteriaMet) errs.push(invalid(conditions, OMIT_VALUE, "cannot disable the SuccessCriteriaMet=True condition"));
  if (conditionTrue(o, "Complete") && !conditionTrue(o, "SuccessCriteriaMet") && successCriteriaMet) {
    errs.push(invalid(conditions, OMIT_VALUE, "cannot set SuccessCriteriaMet=True for Job already has Complete=true conditions"));
  }
  return errs;
}

// ---- jobs: table -------------------------------------------------------------------------------

/** The printers' hasJobCondition: the first condition of the type decides. */
function hasJobCondition(status: Json, type: string): boolean {
  const c = objs(status.conditions).find((x) => x.type === type);
  return c !== undefined && c.status === "True";
}

function jobStatusCell(job: KubeObject): string {
  const s = statusOf(job);
  if (hasJobCondition(s, "Complete")) return "Complete";
  if (hasJobCondition(s, "Failed")) return "Failed";
  if (deletionOf(job) !== undefined) return "Terminating";
  if (hasJobCondition(s, "Suspended")) return "Suspended";
  if (hasJobCondition(s, "FailureTarget")) return "FailureTarget";
  if (hasJobCondition(s, "SuccessCriteriaMet")) return "SuccessCriteriaMet";
  return "Running";
}

function jobCompletionsCell(job: KubeObject): string {
  const spec = specOf(job);
  const succeeded = asNum(statusOf(job).succeeded) ?? 0;
  const completions = asNum(spec.completions);
  if (completions !== undefined) return `${succeeded}/${completions}`;
  const parallelism = asNum(spec.parallelism) ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

function jobDurationCell(job: KubeObject, now: Date): string {
  const s = statusOf(job);
  const start = parseTime(asStr(s.startTime));
  if (start === undefined) return "";
  const end = parseTime(asStr(s.completionTime));
  return humanDuration((end ?? now.getTime()) - start);
}

function templateContainers(spec: Json): { name?: string; image?: string }[] {
  return objs(asObj(templateOf(spec).spec)?.containers).map((c) => ({ name: asStr(c.name) ?? "", image: asStr(c.image) ?? "" }));
}

const jobTable: TableDefinition = {
  columns: [
    nameColumn(),
    column("Status", "string", "Status of the job."),
    column("Completions", "string", D.jobSucceeded),
    column("Duration", "string", "Time required to complete the job."),
    ageColumn,
    containersColumn,
    imagesColumn,
    column("Selector", "string", D.jobSelector, 1),
  ],
  row(job, now) {
    const spec = specOf(job);
    const [names, images] = containerCells(templateContainers(spec));
    return [nameOf(job), jobStatusCell(job), jobCompletionsCell(job), jobDurationCell(job, now), since(creationOf(job), now), names, images, formatLabelSelector(asObj(spec.selector) as LabelSelector | undefined)];
  },
};

export const jobs: ResourceDefinition = {
  group: "batch",
  version: "v1",
  kind: "Job",
  plural: "jobs",
  singular: "job",
  categories: ["all"],
  namespaced: true,
  definition: "io.k8s.api.batch.v1.Job",
  subresources: ["status"],
  strategy: {
    defaults: defaultJob,
    prepareForCreate: jobPrepareForCreate,
    validate: (obj) => validateJob(obj, { requirePrefixedLabels: true }),
    validateUpdate: validateJobUpdate,
    validateStatusUpdate: validateJobStatusUpdate,
    statusFields: ["status"],
    specFields: ["spec"],
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
  },
  table: jobTable,
  selectableFields: (obj) => ({ "status.successful": String(asNum(statusOf(obj).succeeded) ?? 0) }),
};

// ---- cron jobs ---------------------------------------------------------------------------------

function defaultCronJob(cj: Json): void {
  const spec = child(cj, "spec");
  if (!spec) return;
  setDefault(spec, "concurrencyPolicy", "Allow", true);
  setDefault(spec, "suspend", false);
  setDefault(spec, "successfulJobsHistoryLimit", 3);
  setDefault(spec, "failedJobsHistoryLimit", 1);
  // Only the pod template inside is defaulted; SetDefaults_Job does not run on job templates.
  const jobTemplate = child(spec, "jobTemplate");
  const jobSpec = jobTemplate && child(jobTemplate, "spec");
  if (jobSpec) defaultTemplateOf(jobSpec);
}

// IANA's naming rules for zone name components (0-9 and + tolerated for legacy names).
const TZ_PART = /^[A-Za-z.\-_0-9+]{1,14}$/;

function validateTimeZone(tz: unknown, path: FieldPath): FieldError[] {
  if (!isSet(tz)) return [];
  const name = typeof tz === "string" ? tz : "";
  if (name.length === 0) return [invalid(path, name, "timeZone must be nil or non-empty string")];
  for (const part of name.split("/")) {
    if (part === "." || part === ".." || part.startsWith("-") || !TZ_PART.test(part)) return [invalid(path, name, `unknown time zone ${name}`)];
  }
  const errs: FieldError[] = [];
  if (name.toLowerCase() === "local") errs.push(invalid(path, name, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"));
  // Go's LoadLocation takes "Local" as the process's zone; every other name must be in tzdata.
  if (name !== "Local" && !isKnownTimeZone(name)) errs.push(invalid(path, name, `unknown time zone ${name}`));
  return errs;
}

function validateSchedule(schedule: string, allowTZ: boolean, timeZone: unknown, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  try {
    parseStandardCron(schedule);
  } catch (err) {
    if (!(err instanceof CronParseError)) throw err;
    errs.push(invalid(path, schedule, err.message));
  }
  if (allowTZ && schedule.includes("TZ") && isSet(timeZone)) errs.push(invalid(path, schedule, "cannot use both timeZone field and TZ or CRON_TZ in schedule"));
  else if (!allowTZ && schedule.includes("TZ")) errs.push(invalid(path, schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"));
  return errs;
}

function validateCronJobSpec(spec: Json, oldSpec: Json | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const schedule = asStr(spec.schedule) ?? "";
  if (schedule.length === 0) errs.push(required(SPEC.child("schedule"), ""));
  else errs.push(...validateSchedule(schedule, (asStr(oldSpec?.schedule) ?? "").includes("TZ"), spec.timeZone, SPEC.child("schedule")));
  errs.push(...nonNegative(spec.startingDeadlineSeconds, SPEC.child("startingDeadlineSeconds")));
  if (!oldSpec || !jsonEqual(oldSpec.timeZone ?? null, spec.timeZone ?? null)) errs.push(...validateTimeZone(spec.timeZone, SPEC.child("timeZone")));
  const cp = spec.concurrencyPolicy;
  const policies = ["Allow", "Forbid", "Replace"];
  if (cp === undefined || cp === null || cp === "") errs.push(required(SPEC.child("concurrencyPolicy"), ""));
  else if (typeof cp !== "string" || !policies.includes(cp)) errs.push(notSupported(SPEC.child("concurrencyPolicy"), cp, policies));
  const jt = asObj(spec.jobTemplate) ?? {};
  const jtPath = SPEC.child("jobTemplate");
  const jobSpec = asObj(jt.spec) ?? {};
  errs.push(...validateJobSpecFields(jobSpec, jtPath.child("spec")));
  if (isSet(jobSpec.selector)) errs.push(invalid(jtPath.child("spec", "selector"), goLabelSelector(jobSpec.selector), "`selector` will be auto-generated"));
  if (jobSpec.manualSelector === true) errs.push(notSupported(jtPath.child("spec", "manualSelector"), true, ["nil", "false"]));
  errs.push(...nonNegative(spec.successfulJobsHistoryLimit, SPEC.child("successfulJobsHistoryLimit")));
  errs.push(...nonNegative(spec.failedJobsHistoryLimit, SPEC.child("failedJobsHistoryLimit")));
  return errs;
}

function validateCronJobCreate(cj: Json): FieldError[] {
  const errs = [...validateMeta(cj, true), ...validateCronJobSpec(specOf(cj), undefined)];
  const name = nameOf(cj);
  // The controller names jobs <cronjob>-<11-character timestamp>, and those must be DNS labels.
  if (name.length > 63 - 11) errs.push(invalid(META.child("name"), name, "must be no more than 52 characters"));
  return errs;
}

const cronJobTable: TableDefinition = {
  columns: [
    nameColumn(),
    column("Schedule", "string", D.cronSchedule),
    column("Timezone", "string", D.cronTimeZone),
    column("Suspend", "boolean", D.cronSuspend),
    column("Active", "integer", D.cronActive),
    column("Last Schedule", "string", D.cronLastSchedule),
    ageColumn,
    containersColumn,
    imagesColumn,
    column("Selector", "string", D.jobSelector, 1),
  ],
  row(cj, now) {
    const spec = specOf(cj);
    const status = statusOf(cj);
    const jobSpec = asObj(asObj(spec.jobTemplate)?.spec) ?? {};
    const [names, images] = containerCells(templateContainers(jobSpec));
    const last = asStr(status.lastScheduleTime);
    const suspend = typeof spec.suspend === "boolean" ? (spec.suspend ? "True" : "False") : "<unset>";
    return [
      nameOf(cj),
      asStr(spec.schedule) ?? "",
      asStr(spec.timeZone) ?? "<none>",
      suspend,
      (asArr(status.active) ?? []).length,
      last === undefined ? "<none>" : since(last, now),
      since(creationOf(cj), now),
      names,
      images,
      formatLabelSelector(asObj(jobSpec.selector) as LabelSelector | undefined),
    ];
  },
};

export const cronJobs: ResourceDefinition = {
  group: "batch",
  version: "v1",
  kind: "CronJob",
  plural: "cronjobs",
  singular: "cronjob",
  shortNames: ["cj"],
  categories: ["all"],
  namespaced: true,
  definition: "io.k8s.api.batch.v1.CronJob",
  subresources: ["status"],
  strategy: {
    defaults: defaultCronJob,
    prepareForCreate: (obj) => {
      obj.status = {};
    },
    validate: validateCronJobCreate,
    validateUpdate: (obj, old) => [...validateMetaUpdate(obj, old), ...validateCronJobSpec(specOf(obj), specOf(old))],
    // Upstream's cron job status strategy validates nothing.
    validateStatusUpdate: () => [],
    statusFields: ["status"],
    specFields: ["spec"],
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
  },
  table: cronJobTable,
};

export const batchResources: readonly ResourceDefinition[] = [cronJobs, jobs];
