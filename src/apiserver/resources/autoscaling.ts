// autoscaling/v2 and autoscaling/v1 horizontal pod autoscalers, stored once in the v2 form.
// v1 sees the CPU utilization target as targetCPUUtilizationPercentage; everything v1 cannot
// express (other metrics, behavior, conditions, current metrics) rides in the upstream
// round-trip annotations, so an object read and written back through v1 loses nothing.
import { FieldPath, invalid, notSupported, required, type FieldError } from "../../api/fielderrors.js";
import { validatePathSegmentName } from "../../api/validation.js";
import type { Conversion, KubeObject, ResourceDefinition, TableDefinition } from "../registry/types.js";
import { validateMeta, validateMetaUpdate } from "./common.js";
import { quantityOf } from "../../api/quantity.js";
import { D } from "./descriptions.js";
import { ageColumn, column, nameColumn, since } from "./print.js";
import { asArr, asNum, asObj, asStr, child, clone, creationOf, isObj, meta, nameOf, objs, setDefault, setValue, type Json } from "./util.js";
import { canonicalizeQuantity } from "./core/resources.js";

const SPEC = FieldPath.of("spec");
const METRICS_ANNOTATION = "autoscaling.alpha.kubernetes.io/metrics";
const CURRENT_METRICS_ANNOTATION = "autoscaling.alpha.kubernetes.io/current-metrics";
const CONDITIONS_ANNOTATION = "autoscaling.alpha.kubernetes.io/conditions";
const BEHAVIOR_ANNOTATION = "autoscaling.alpha.kubernetes.io/behavior";
const ROUND_TRIP = [METRICS_ANNOTATION, CURRENT_METRICS_ANNOTATION, CONDITIONS_ANNOTATION, BEHAVIOR_ANNOTATION];
const DEFAULT_CPU_UTILIZATION = 80;

// ---- defaults (v2) --------------------------------------------------------------------------

function scalingRules(from: Json | undefined, defaults: Json): Json {
  if (!from) return defaults;
  const out = { ...defaults };
  if (from.selectPolicy !== undefined && from.selectPolicy !== null) out.selectPolicy = from.selectPolicy;
  if (from.stabilizationWindowSeconds !== undefined && from.stabilizationWindowSeconds !== null) out.stabilizationWindowSeconds = from.stabilizationWindowSeconds;
  if (from.policies !== undefined && from.policies !== null) out.policies = from.policies;
  if (from.tolerance !== undefined) out.tolerance = from.tolerance;
  return out;
}

export function defaultHPAv2(hpa: Json): void {
  const spec = child(hpa, "spec");
  if (!spec) return;
  setDefault(spec, "minReplicas", 1);
  if ((asArr(spec.metrics) ?? []).length === 0) {
    spec.metrics = [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: DEFAULT_CPU_UTILIZATION } } }];
  }
  const behavior = asObj(spec.behavior);
  if (behavior) {
    setValue(behavior, "scaleUp", scalingRules(asObj(behavior.scaleUp), {
      stabilizationWindowSeconds: 0,
      selectPolicy: "Max",
      policies: [
        { type: "Pods", value: 4, periodSeconds: 15 },
        { type: "Percent", value: 100, periodSeconds: 15 },
      ],
    }));
    // No scale-down window default: the controller's --horizontal-pod-autoscaler-downscale-stabilization applies.
    setValue(behavior, "scaleDown", scalingRules(asObj(behavior.scaleDown), { selectPolicy: "Max", policies: [{ type: "Percent", value: 100, periodSeconds: 15 }] }));
  }
  for (const m of objs(spec.metrics)) canonicalizeTargets(m);
}

/** Quantities in metric targets are stored canonically. */
function canonicalizeTargets(metric: Json): void {
  for (const src of ["resource", "containerResource", "pods", "object", "external"]) {
    const target = asObj(asObj(metric[src])?.target);
    if (!target) continue;
    for (const f of ["value", "averageValue"]) canonicalizeQuantity(target, f);
  }
}

// ---- v1 ↔ v2 conversion ---------------------------------------------------------------------

function isCPUUtilization(m: Json): boolean {
  const res = asObj(m.resource);
  return m.type === "Resource" && res?.name === "cpu" && asNum(asObj(res.target)?.averageUtilization) !== undefined;
}

/** A v2 MetricSpec in the v1 (v2beta1-shaped) form the round-trip annotation carries. */
function metricSpecToV1(m: Json): Json {
  const out: Json = { type: m.type };
  const t = (src: Json | undefined): Json => asObj(src?.target) ?? {};
  switch (m.type) {
    case "Resource":
    case "ContainerResource": {
      const key = m.type === "Resource" ? "resource" : "containerResource";
      const src = asObj(m[key]) ?? {};
      const r: Json = { name: src.name };
      if (src.container !== undefined) r.container = src.container;
      if (t(src).averageUtilization !== undefined) r.targetAverageUtilization = t(src).averageUtilization;
      if (t(src).averageValue !== undefined) r.targetAverageValue = t(src).averageValue;
      out[key] = r;
      break;
    }
    case "Pods": {
      const src = asObj(m.pods) ?? {};
      const metric = asObj(src.metric) ?? {};
      const p: Json = { metricName: metric.name, targetAverageValue: t(src).averageValue ?? "0" };
      if (metric.selector !== undefined) p.selector = metric.selector;
      out.pods = p;
      break;
    }
    case "Object": {
      const src = asObj(m.object) ?? {};
      const metric = asObj(src.metric) ?? {};
      const o: Json = { target: src.describedObject ?? {}, metricName: metric.name, targetValue: t(src).value ?? "0" };
      if (metric.selector !== undefined) o.selector = metric.selector;
      if (t(src).averageValue !== undefined) o.averageValue = t(src).averageValue;
      out.object = o;
      break;
    }
    case "External": {
      const src = asObj(m.external) ?? {};
      const metric = asObj(src.metric) ?? {};
      const e: Json = { metricName: metric.name };
      if (metric.selector !== undefined) e.metricSelector = metric.selector;
      if (t(src).value !== undefined) e.targetValue = t(src).value;
      if (t(src).averageValue !== undefined) e.targetAverageValue = t(src).averageValue;
      out.external = e;
      break;
    }
    default:
      break;
  }
  return out;
}

/** The inverse of metricSpecToV1. */
function metricSpecFromV1(m: Json): Json {
  const out: Json = { type: m.type };
  switch (m.type) {
    case "Resource":
    case "ContainerResource": {
      const key = m.type === "Resource" ? "resource" : "containerResource";
      const src = asObj(m[key]) ?? {};
      const target: Json = {};
      if (src.targetAverageUtilization !== undefined) {
        target.type = "Utilization";
        target.averageUtilization = src.targetAverageUtilization;
      } else {
        target.type = "AverageValue";
        target.averageValue = src.targetAverageValue;
      }
      const r: Json = { name: src.name, target };
      if (src.container !== undefined) r.container = src.container;
      out[key] = r;
      break;
    }
    case "Pods": {
      const src = asObj(m.pods) ?? {};
      const metric: Json = { name: src.metricName };
      if (src.selector !== undefined) metric.selector = src.selector;
      out.pods = { metric, target: { type: "AverageValue", averageValue: src.targetAverageValue } };
      break;
    }
    case "Object": {
      const src = asObj(m.object) ?? {};
      const metric: Json = { name: src.metricName };
      if (src.selector !== undefined) metric.selector = src.selector;
      const target: Json = src.averageValue !== undefined ? { type: "AverageValue", averageValue: src.averageValue } : { type: "Value", value: src.targetValue };
      out.object = { describedObject: src.target ?? {}, metric, target };
      break;
    }
    case "External": {
      const src = asObj(m.external) ?? {};
      const metric: Json = { name: src.metricName };
      if (src.metricSelector !== undefined) metric.selector = src.metricSelector;
      const target: Json = src.targetAverageValue !== undefined ? { type: "AverageValue", averageValue: src.targetAverageValue } : { type: "Value", value: src.targetValue };
      out.external = { metric, target };
      break;
    }
    default:
      break;
  }
  return out;
}

function parseAnnotation(ann: Json, key: string): unknown[] | Json | undefined {
  const raw = asStr(ann[key]);
  if (raw === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(raw);
    return Array.isArray(v) || isObj(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** autoscaling/v1 → the stored autoscaling/v2 form. */
export function hpaV1ToV2(obj: KubeObject): KubeObject {
  const md = clone(meta(obj));
  const out: KubeObject = { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", metadata: md };
  const ann = { ...(asObj(md.annotations) ?? {}) };
  const spec = asObj(obj.spec) ?? {};
  const v2spec: Json = {};
  if (spec.scaleTargetRef !== undefined) v2spec.scaleTargetRef = spec.scaleTargetRef;
  if (spec.minReplicas !== undefined) v2spec.minReplicas = spec.minReplicas;
  if (spec.maxReplicas !== undefined) v2spec.maxReplicas = spec.maxReplicas;
  const metrics: Json[] = [];
  const others = parseAnnotation(ann, METRICS_ANNOTATION);
  if (Array.isArray(others)) for (const m of others) if (isObj(m)) metrics.push(metricSpecFromV1(m));
  const cpu = asNum(spec.targetCPUUtilizationPercentage);
  if (cpu !== undefined) metrics.push({ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: cpu } } });
  if (metrics.length > 0) v2spec.metrics = metrics;
  const behavior = parseAnnotation(ann, BEHAVIOR_ANNOTATION);
  if (isObj(behavior)) v2spec.behavior = behavior;
  out.spec = v2spec;

  const status = asObj(obj.status);
  if (status) {
    const v2status: Json = {};
    for (const f of ["observedGeneration", "lastScaleTime", "currentReplicas", "desiredReplicas"]) if (status[f] !== undefined) v2status[f] = status[f];
    // v2's currentReplicas is omitempty, unlike v1's.
    if (v2status.currentReplicas === 0) delete v2status.currentReplicas;
    const current = parseAnnotation(ann, CURRENT_METRICS_ANNOTATION);
    const currentMetrics: Json[] = Array.isArray(current) ? current.filter(isObj) : [];
    const cpuNow = asNum(status.currentCPUUtilizationPercentage);
    if (cpuNow !== undefined) currentMetrics.push({ type: "Resource", resource: { name: "cpu", current: { averageUtilization: cpuNow } } });
    if (currentMetrics.length > 0) v2status.currentMetrics = currentMetrics;
    const conditions = parseAnnotation(ann, CONDITIONS_ANNOTATION);
    if (Array.isArray(conditions)) v2status.conditions = conditions;
    out.status = v2status;
  }
  for (const k of ROUND_TRIP) delete ann[k];
  if (Object.keys(ann).length > 0) md.annotations = ann;
  else delete md.annotations;
  return out;
}

/** The stored autoscaling/v2 form → autoscaling/v1. */
export function hpaV2ToV1(obj: KubeObject): KubeObject {
  const md = clone(meta(obj));
  const out: KubeObject = { apiVersion: "autoscaling/v1", kind: "HorizontalPodAutoscaler", metadata: md };
  const ann: Json = { ...(asObj(md.annotations) ?? {}) };
  for (const k of ROUND_TRIP) delete ann[k];
  const spec = asObj(obj.spec) ?? {};
  const v1spec: Json = {};
  if (spec.scaleTargetRef !== undefined) v1spec.scaleTargetRef = spec.scaleTargetRef;
  if (spec.minReplicas !== undefined) v1spec.minReplicas = spec.minReplicas;
  v1spec.maxReplicas = spec.maxReplicas ?? 0;
  const metrics = objs(spec.metrics);
  const cpu = metrics.find((m) => asObj(m.resource)?.name === "cpu" && m.type === "Resource");
  const cpuTarget = asNum(asObj(asObj(cpu?.resource)?.target)?.averageUtilization);
  if (cpuTarget !== undefined) v1spec.targetCPUUtilizationPercentage = cpuTarget;
  const others = metrics.filter((m) => !isCPUUtilization(m)).map(metricSpecToV1);
  if (others.length > 0) ann[METRICS_ANNOTATION] = JSON.stringify(others);
  if (isObj(spec.behavior)) ann[BEHAVIOR_ANNOTATION] = JSON.stringify(spec.behavior);
  out.spec = v1spec;

  const status = asObj(obj.status) ?? {};
  // v1's currentReplicas and desiredReplicas are always serialized.
  const v1status: Json = { currentReplicas: asNum(status.currentReplicas) ?? 0, desiredReplicas: asNum(status.desiredReplicas) ?? 0 };
  if (status.observedGeneration !== undefined) v1status.observedGeneration = status.observedGeneration;
  if (status.lastScaleTime !== undefined) v1status.lastScaleTime = status.lastScaleTime;
  const currents = objs(status.currentMetrics);
  const cpuCurrent = currents.find((m) => m.type === "Resource" && asObj(m.resource)?.name === "cpu");
  const cpuNow = asNum(asObj(asObj(cpuCurrent?.resource)?.current)?.averageUtilization);
  if (cpuNow !== undefined) v1status.currentCPUUtilizationPercentage = cpuNow;
  const otherCurrents = currents.filter((m) => m !== cpuCurrent || cpuNow === undefined);
  if (otherCurrents.length > 0) ann[CURRENT_METRICS_ANNOTATION] = JSON.stringify(otherCurrents);
  if (objs(status.conditions).length > 0) ann[CONDITIONS_ANNOTATION] = JSON.stringify(status.conditions);
  out.status = v1status;
  if (Object.keys(ann).length > 0) md.annotations = ann;
  else delete md.annotations;
  return out;
}

/**
 * Upstream decodes stored objects with the storage version's defaults, so a v1 autoscaler
 * without a CPU target reads back with v2's default metric (80% CPU) in both versions.
 */
export const hpaV1Conversion: Conversion = {
  toStorage: (obj) => {
    const v2 = hpaV1ToV2(obj);
    defaultHPAv2(v2);
    return v2;
  },
  fromStorage: hpaV2ToV1,
};

// ---- validation (v2 form) -------------------------------------------------------------------

const METRIC_TYPES = ["ContainerResource", "External", "Object", "Pods", "Resource"];
const TARGET_TYPES = ["AverageValue", "Utilization", "Value"];

function validateTarget(target: Json, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (target.type === undefined || target.type === null || target.type === "") errs.push(required(path.child("type"), "must specify a metric target type"));
  else if (!TARGET_TYPES.includes(asStr(target.type) ?? "")) errs.push(notSupported(path.child("type"), target.type, TARGET_TYPES));
  for (const f of ["value", "averageValue"]) {
    if (target[f] === undefined) continue;
    const q = quantityOf(target[f]);
    if (!q || q.sign() <= 0) errs.push(invalid(path.child(f), target[f], "must be positive"));
  }
  const util = asNum(target.averageUtilization);
  if (util !== undefined && util < 1) errs.push(invalid(path.child("averageUtilization"), util, "must be greater than 0"));
  return errs;
}

function validateMetrics(metrics: unknown, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  objs(metrics).forEach((m, i) => {
    const p = path.index(i);
    if (m.type === undefined || m.type === null || m.type === "") {
      errs.push(required(p.child("type"), "must specify a metric source type"));
      return;
    }
    if (!METRIC_TYPES.includes(asStr(m.type) ?? "")) {
      errs.push(notSupported(p.child("type"), m.type, METRIC_TYPES));
      return;
    }
    const key = { Resource: "resource", ContainerResource: "containerResource", Pods: "pods", Object: "object", External: "external" }[asStr(m.type) ?? "Resource"] ?? "resource";
    const src = asObj(m[key]);
    if (!src) {
      errs.push(required(p.child(key), `must populate information for the given metric source (only allowed when type is '${asStr(m.type) ?? ""}')`));
      return;
    }
    const sp = p.child(key);
    if (key === "resource" || key === "containerResource") {
      if ((asStr(src.name) ?? "") === "") errs.push(required(sp.child("name"), "must specify a resource name"));
      if (key === "containerResource" && (asStr(src.container) ?? "") === "") errs.push(required(sp.child("container"), "must specify a container"));
    } else if ((asStr(asObj(src.metric)?.name) ?? "") === "") {
      errs.push(required(sp.child("metric", "name"), "must specify a metric name"));
    }
    errs.push(...validateTarget(asObj(src.target) ?? {}, sp.child("target")));
  });
  return errs;
}

function validateScalingRules(rules: Json | undefined, path: FieldPath): FieldError[] {
  if (!rules) return [];
  const errs: FieldError[] = [];
  const window = asNum(rules.stabilizationWindowSeconds);
  if (window !== undefined && (window < 0 || window > 3600)) errs.push(invalid(path.child("stabilizationWindowSeconds"), window, window < 0 ? "must be greater than or equal to zero" : "must be less than or equal to 3600"));
  const policy = rules.selectPolicy;
  if (policy !== undefined && policy !== null && !["Disabled", "Max", "Min"].includes(asStr(policy) ?? "")) errs.push(notSupported(path.child("selectPolicy"), policy, ["Disabled", "Max", "Min"]));
  const policies = objs(rules.policies);
  if (policies.length === 0) errs.push(required(path.child("policies"), "must specify at least one Policy"));
  policies.forEach((pol, i) => {
    const p = path.child("policies").index(i);
    if (pol.type !== "Pods" && pol.type !== "Percent") errs.push(notSupported(p.child("type"), pol.type ?? "", ["Percent", "Pods"]));
    const value = asNum(pol.value) ?? 0;
    if (value <= 0) errs.push(invalid(p.child("value"), value, "must be greater than zero"));
    const period = asNum(pol.periodSeconds) ?? 0;
    if (period <= 0) errs.push(invalid(p.child("periodSeconds"), period, "must be greater than zero"));
    else if (period > 1800) errs.push(invalid(p.child("periodSeconds"), period, "must be less than or equal to 1800"));
  });
  return errs;
}

export function validateHPASpec(hpa: Json): FieldError[] {
  const spec = asObj(hpa.spec) ?? {};
  const errs: FieldError[] = [];
  const min = asNum(spec.minReplicas);
  const max = asNum(spec.maxReplicas) ?? 0;
  if (min !== undefined && min < 1) errs.push(invalid(SPEC.child("minReplicas"), min, "must be greater than or equal to 1"));
  if (max < 1) errs.push(invalid(SPEC.child("maxReplicas"), max, "must be greater than 0"));
  if (min !== undefined && max < min) errs.push(invalid(SPEC.child("maxReplicas"), max, "must be greater than or equal to `minReplicas`"));
  const ref = asObj(spec.scaleTargetRef) ?? {};
  const refPath = SPEC.child("scaleTargetRef");
  const refErrs: FieldError[] = [];
  for (const f of ["kind", "name"]) {
    const v = asStr(ref[f]) ?? "";
    if (v === "") refErrs.push(required(refPath.child(f), ""));
    else for (const m of validatePathSegmentName(v, false)) refErrs.push(invalid(refPath.child(f), v, m));
  }
  if (refErrs.length > 0) errs.push(...refErrs);
  else errs.push(...validateMetrics(spec.metrics, SPEC.child("metrics")));
  const behavior = asObj(spec.behavior);
  if (behavior) {
    errs.push(...validateScalingRules(asObj(behavior.scaleUp), SPEC.child("behavior", "scaleUp")));
    errs.push(...validateScalingRules(asObj(behavior.scaleDown), SPEC.child("behavior", "scaleDown")));
  }
  return errs;
}

// ---- table ----------------------------------------------------------------------------------

function q(v: unknown): string {
  return quantityOf(v)?.toString() ?? "0";
}

/** formatHPAMetrics: at most two targets, `current/target` each, then "+ N more...". */
function formatMetrics(specs: Json[], statuses: Json[]): string {
  if (specs.length === 0) return "<none>";
  const list: string[] = [];
  specs.forEach((spec, i) => {
    const st = statuses[i];
    const cur = (key: string): Json | undefined => asObj(asObj(st?.[key])?.current);
    switch (spec.type) {
      case "External":
      case "Object": {
        const key = spec.type === "External" ? "external" : "object";
        const target = asObj(asObj(spec[key])?.target) ?? {};
        if (target.averageValue !== undefined) {
          const c = cur(key)?.averageValue;
          list.push(`${c === undefined ? "<unknown>" : q(c)}/${q(target.averageValue)} (avg)`);
        } else {
          const c = cur(key);
          list.push(`${c === undefined ? "<unknown>" : q(c.value)}/${q(target.value)}`);
        }
        break;
      }
      case "Pods": {
        const target = asObj(asObj(spec.pods)?.target) ?? {};
        const c = cur("pods");
        list.push(`${c === undefined ? "<unknown>" : q(c.averageValue)}/${q(target.averageValue)}`);
        break;
      }
      case "Resource":
      case "ContainerResource": {
        const key = spec.type === "Resource" ? "resource" : "containerResource";
        const src = asObj(spec[key]) ?? {};
        const target = asObj(src.target) ?? {};
        const name = asStr(src.name) ?? "";
        if (target.averageValue !== undefined) {
          const c = cur(key);
          list.push(`${name}: ${c === undefined ? "<unknown>" : q(c.averageValue)}/${q(target.averageValue)}`);
        } else {
          const c = asNum(cur(key)?.averageUtilization);
          const t = asNum(target.averageUtilization);
          list.push(`${name}: ${c === undefined ? "<unknown>" : `${c}%`}/${t === undefined ? "<auto>" : `${t}%`}`);
        }
        break;
      }
      default:
        list.push("<unknown type>");
    }
  });
  const max = 2;
  if (list.length > max) return `${list.slice(0, max).join(", ")} + ${list.length - max} more...`;
  return list.join(", ");
}

const hpaTable: TableDefinition = {
  columns: [
    nameColumn(),
    column("Reference", "string", D.hpaScaleTargetRef),
    column("Targets", "string", D.hpaMetrics),
    column("MinPods", "string", D.hpaMinReplicas),
    column("MaxPods", "string", D.hpaMaxReplicas),
    column("Replicas", "string", D.hpaCurrentReplicas),
    ageColumn,
  ],
  row(obj, now) {
    const v2 = obj.apiVersion === "autoscaling/v1" ? hpaV1ToV2(obj as KubeObject) : obj;
    const spec = asObj(v2.spec) ?? {};
    const status = asObj(v2.status) ?? {};
    const ref = asObj(spec.scaleTargetRef) ?? {};
    const min = asNum(spec.minReplicas);
    return [
      nameOf(obj),
      `${asStr(ref.kind) ?? ""}/${asStr(ref.name) ?? ""}`,
      formatMetrics(objs(spec.metrics), objs(status.currentMetrics)),
      min === undefined ? "<unset>" : String(min),
      asNum(spec.maxReplicas) ?? 0,
      asNum(status.currentReplicas) ?? 0,
      since(creationOf(obj), now),
    ];
  },
};

function hpa(version: "v1" | "v2"): ResourceDefinition {
  const v1 = version === "v1";
  const toV2 = (o: KubeObject): Json => (v1 ? hpaV1ToV2(o) : o);
  return {
    group: "autoscaling",
    version,
    kind: "HorizontalPodAutoscaler",
    plural: "horizontalpodautoscalers",
    singular: "horizontalpodautoscaler",
    shortNames: ["hpa"],
    categories: ["all"],
    namespaced: true,
    definition: `io.k8s.api.autoscaling.${version}.HorizontalPodAutoscaler`,
    subresources: ["status"],
    strategy: {
      defaults: (obj) => {
        if (v1) setDefault(child(obj, "spec") ?? {}, "minReplicas", 1);
        else defaultHPAv2(obj);
      },
      // v2's desiredReplicas is not omitempty, so an empty status shows it; v1 shows both counters.
      prepareForCreate: (obj) => {
        obj.status = v1 ? { currentReplicas: 0, desiredReplicas: 0 } : { desiredReplicas: 0 };
      },
      validate: (obj) => [...validateMeta(obj, true), ...validateHPASpec(toV2(obj))],
      validateUpdate: (obj, old) => [...validateMetaUpdate(obj, old), ...validateHPASpec(toV2(obj))],
      validateStatusUpdate: (obj, old) => {
        const status = asObj(toV2(obj).status) ?? {};
        const errs = validateMetaUpdate(obj, old);
        for (const f of ["currentReplicas", "desiredReplicas"]) {
          const n = asNum(status[f]);
          if (n !== undefined && n < 0) errs.push(invalid(FieldPath.of("status", f), n, "must be greater than or equal to 0"));
        }
        return errs;
      },
      statusFields: ["status"],
      specFields: [],
      allowCreateOnUpdate: false,
      allowUnconditionalUpdate: true,
    },
    table: hpaTable,
    ...(v1 ? { storage: { resource: "horizontalpodautoscalers", group: "autoscaling", conversion: hpaV1Conversion } } : {}),
  };
}

export const hpaV2 = hpa("v2");
export const hpaV1 = hpa("v1");
