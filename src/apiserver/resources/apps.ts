// apps/v1: deployments, replica sets, stateful sets, daemon sets and controller revisions, with
// upstream's defaults (SetDefaults_Deployment, ...), strategies (status reset, generation on
// spec change, immutable selectors), validation and tables.
import { FieldPath, forbidden, GoRendered, invalid, notSupported, required, type FieldError } from "../../api/fielderrors.js";
import { goIntOrString, intOrStringIntValue, isNotMoreThan100Percent, percentValue, validatePositiveIntOrPercent, type IntOrString } from "../../api/intstr.js";
import { nameIsDNSLabel } from "../../api/validation.js";
import type { KubeObject, ResourceDefinition, TableDefinition } from "../registry/types.js";
import { goLabelSelector, immutable, nonNegative, SPEC, validateMeta, validateMetaUpdate } from "./common.js";
import { defaultPVCTemplate } from "./core/podspec-defaults.js";
import { D } from "./descriptions.js";
import { ageColumn, column, containerCells, containersColumn, formatLabels, imagesColumn, labelSelectorString, formatLabelSelector, nameColumn, since } from "./print.js";
import { asNum, asObj, asStr, child, creationOf, isObj, jsonEqual, nameOf, objs, resetStatus, setDefault, setValue, strMap, type Json } from "./util.js";
import { defaultTemplateOf, labelSelectorScale, validateReplicaStatus, validateTemplateForController, validateWorkloadSelector } from "./workload.js";

const STATUS = FieldPath.of("status");

function specOf(obj: Json): Json {
  return asObj(obj.spec) ?? {};
}

function containersOf(spec: Json): Json[] {
  return objs(asObj(asObj(spec.template)?.spec)?.containers);
}

/** An IntOrString field as validation sees it; a missing pointer reads as the zero value. */
function intOrStr(v: unknown): IntOrString {
  return typeof v === "number" || typeof v === "string" ? v : 0;
}

function intOrPercentValue(v: IntOrString): number {
  return percentValue(v) ?? intOrStringIntValue(v);
}

// ---- deployments ----------------------------------------------------------------------------

function defaultDeployment(d: Json): void {
  const spec = child(d, "spec");
  if (!spec) return;
  setDefault(spec, "replicas", 1);
  const strategy = child(spec, "strategy");
  if (strategy) {
    setDefault(strategy, "type", "RollingUpdate", true);
    if (strategy.type === "RollingUpdate") {
      const ru = child(strategy, "rollingUpdate");
      if (ru) {
        setDefault(ru, "maxUnavailable", "25%");
        setDefault(ru, "maxSurge", "25%");
      }
    }
  }
  setDefault(spec, "revisionHistoryLimit", 10);
  setDefault(spec, "progressDeadlineSeconds", 600);
  defaultTemplateOf(spec);
}

function goDeploymentStrategy(strategy: Json): GoRendered {
  const ru = isObj(strategy.rollingUpdate) ? "(*apps.RollingUpdateDeployment)(0xc000a3e1d0)" : "(*apps.RollingUpdateDeployment)(nil)";
  return new GoRendered(`apps.DeploymentStrategy{Type:"${asStr(strategy.type) ?? ""}", RollingUpdate:${ru}}`);
}

function validateDeploymentStrategy(strategy: Json, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  switch (strategy.type) {
    case "Recreate":
      if (isObj(strategy.rollingUpdate)) errs.push(forbidden(path.child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"));
      break;
    case "RollingUpdate": {
      const ru = asObj(strategy.rollingUpdate);
      if (!ru) {
        errs.push(required(path.child("rollingUpdate"), "this should be defaulted and never be nil"));
        break;
      }
      const p = path.child("rollingUpdate");
      const mu = intOrStr(ru.maxUnavailable);
      const ms = intOrStr(ru.maxSurge);
      errs.push(...validatePositiveIntOrPercent(mu, p.child("maxUnavailable")));
      errs.push(...validatePositiveIntOrPercent(ms, p.child("maxSurge")));
      if (intOrPercentValue(mu) === 0 && intOrPercentValue(ms) === 0) errs.push(invalid(p.child("maxUnavailable"), goIntOrString(mu), "may not be 0 when `maxSurge` is 0"));
      errs.push(...isNotMoreThan100Percent(mu, p.child("maxUnavailable")));
      break;
    }
    default:
      errs.push(notSupported(path, goDeploymentStrategy(strategy), ["Recreate", "RollingUpdate"]));
  }
  return errs;
}

function validateDeploymentSpec(spec: Json): FieldError[] {
  const errs = nonNegative(spec.replicas, SPEC.child("replicas"));
  const sel = validateWorkloadSelector(spec.selector, SPEC.child("selector"), "deployment");
  errs.push(...sel.errs);
  if (!sel.selector) errs.push(invalid(SPEC.child("selector"), goLabelSelector(spec.selector), "invalid label selector"));
  else errs.push(...validateTemplateForController(spec.template, sel.selector, SPEC.child("template"), "ReplicaSet"));
  errs.push(...validateDeploymentStrategy(asObj(spec.strategy) ?? {}, SPEC.child("strategy")));
  errs.push(...nonNegative(spec.minReadySeconds, SPEC.child("minReadySeconds")));
  errs.push(...nonNegative(spec.revisionHistoryLimit, SPEC.child("revisionHistoryLimit")));
  const pds = asNum(spec.progressDeadlineSeconds);
  if (pds !== undefined) {
    errs.push(...nonNegative(pds, SPEC.child("progressDeadlineSeconds")));
    if (pds <= (asNum(spec.minReadySeconds) ?? 0)) errs.push(invalid(SPEC.child("progressDeadlineSeconds"), pds, "must be greater than minReadySeconds"));
  }
  return errs;
}

/** apps/v1 forbids changing a controller's selector (upstream checks it in the strategies). */
function selectorImmutable(obj: Json, old: Json): FieldError[] {
  const a = specOf(obj).selector;
  const b = specOf(old).selector;
  if (jsonEqual(a ?? null, b ?? null)) return [];
  return [invalid(SPEC.child("selector"), goLabelSelector(a), "field is immutable")];
}

const DEPLOYMENT_STATUS_FIELDS = ["observedGeneration", "replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "unavailableReplicas", "collisionCount"];

const deploymentTable: TableDefinition = {
  columns: [
    nameColumn(),
    column("Ready", "string", "Number of the pod with ready state"),
    column("Up-to-date", "string", D.deployUpdated),
    column("Available", "string", D.deployAvailable),
    ageColumn,
    containersColumn,
    imagesColumn,
    column("Selector", "string", D.deploySelector, 1),
  ],
  row(obj, now) {
    const spec = specOf(obj);
    const status = asObj(obj.status) ?? {};
    const [names, images] = containerCells(containersOf(spec));
    const sel = labelSelectorString(asObj(spec.selector));
    return [
      nameOf(obj),
      `${asNum(status.readyReplicas) ?? 0}/${asNum(spec.replicas) ?? 0}`,
      asNum(status.updatedReplicas) ?? 0,
      asNum(status.availableReplicas) ?? 0,
      since(creationOf(obj), now),
      names,
      images,
      sel === undefined ? "<invalid>" : sel,
    ];
  },
};

export const deployments: ResourceDefinition = {
  group: "apps",
  version: "v1",
  kind: "Deployment",
  plural: "deployments",
  singular: "deployment",
  shortNames: ["deploy"],
  categories: ["all"],
  namespaced: true,
  definition: "io.k8s.api.apps.v1.Deployment",
  subresources: ["status", "scale"],
  scale: labelSelectorScale,
  strategy: {
    defaults: defaultDeployment,
    prepareForCreate: (obj) => resetStatus(obj),
    validate: (obj) => [...validateMeta(obj, true), ...validateDeploymentSpec(specOf(obj))],
    validateUpdate: (obj, old) => [...validateMetaUpdate(obj, old), ...validateDeploymentSpec(specOf(obj)), ...selectorImmutable(obj, old)],
    validateStatusUpdate: (obj, old) => [...validateMetaUpdate(obj, old), ...validateReplicaStatus(asObj(obj.status) ?? {}, STATUS, DEPLOYMENT_STATUS_FIELDS)],
    statusFields: ["status"],
    specFields: ["spec"],
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
  },
  table: deploymentTable,
};

// ---- replica sets ---------------------------------------------------------------------------

function defaultReplicaSet(rs: Json): void {
  const spec = child(rs, "spec");
  if (!spec) return;
  setDefault(spec, "replicas", 1);
  defaultTemplateOf(spec);
}

function validateReplicaSetSpec(spec: Json): FieldError[] {
  const errs = [...nonNegative(spec.replicas, SPEC.child("replicas")), ...nonNegative(spec.minReadySeconds, SPEC.child("minReadySeconds"))];
  // Upstream's message says "deployment" for replica sets too.
  const sel = validateWorkloadSelector(spec.selector, SPEC.child("selector"), "deployment");
  errs.push(...sel.errs);
  if (!sel.selector) errs.push(invalid(SPEC.child("selector"), goLabelSelector(spec.selector), "invalid label selector"));
  else errs.push(...validateTemplateForController(spec.template, sel.selector, SPEC.child("template"), "ReplicaSet"));
  return errs;
}

export function replicaSetTable(withSelectorDesc: string): TableDefinition {
  return {
    columns: [
      nameColumn(),
      column("Desired", "integer", D.rsSpecReplicas),
      column("Current", "integer", D.rsStatusReplicas),
      column("Ready", "integer", D.rsStatusReadyReplicas),
      ageColumn,
      containersColumn,
      imagesColumn,
      column("Selector", "string", withSelectorDesc, 1),
    ],
    row(obj, now) {
      const spec = specOf(obj);
      const status = asObj(obj.status) ?? {};
      const [names, images] = containerCells(containersOf(spec));
      return [nameOf(obj), asNum(spec.replicas) ?? 0, asNum(status.replicas) ?? 0, asNum(status.readyReplicas) ?? 0, since(creationOf(obj), now), names, images, formatLabelSelector(asObj(spec.selector))];
    },
  };
}

const RS_STATUS_FIELDS = ["replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas", "observedGeneration"];

export const replicaSets: ResourceDefinition = {
  group: "apps",
  version: "v1",
  kind: "ReplicaSet",
  plural: "replicasets",
  singular: "replicaset",
  shortNames: ["rs"],
  categories: ["all"],
  namespaced: true,
  definition: "io.k8s.api.apps.v1.ReplicaSet",
  subresources: ["status", "scale"],
  scale: labelSelectorScale,
  strategy: {
    defaults: defaultReplicaSet,
    prepareForCreate: (obj) => resetStatus(obj, { replicas: 0 }),
    validate: (obj) => [...validateMeta(obj, true), ...validateReplicaSetSpec(specOf(obj))],
    validateUpdate: (obj, old) => [...validateMetaUpdate(obj, old), ...validateReplicaSetSpec(specOf(obj)), ...selectorImmutable(obj, old)],
    validateStatusUpdate: (obj, old) => [...validateMetaUpdate(obj, old), ...validateReplicaStatus(asObj(obj.status) ?? {}, STATUS, RS_STATUS_FIELDS)],
    statusFields: ["status"],
    specFields: ["spec"],
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
  },
  table: replicaSetTable(D.rsSpecSelector),
  selectableFields: (obj) => ({ "status.replicas": String(asNum(asObj(obj.status)?.replicas) ?? 0) }),
};

// ---- stateful sets --------------------------------------------------------------------------

function defaultStatefulSet(sts: Json): void {
  const spec = child(sts, "spec");
  if (!spec) return;
  setDefault(spec, "podManagementPolicy", "OrderedReady", true);
  const us = child(spec, "updateStrategy");
  if (us) {
    if (us.type === undefined || us.type === null || us.type === "") {
      us.type = "RollingUpdate";
      setDefault(us, "rollingUpdate", {});
    }
    const ru = asObj(us.rollingUpdate);
    if (us.type === "RollingUpdate" && ru) setDefault(ru, "partition", 0);
  }
  const retention = child(spec, "persistentVolumeClaimRetentionPolicy");
  if (retention) {
    setDefault(retention, "whenDeleted", "Retain", true);
    setDefault(retention, "whenScaled", "Retain", true);
  }
  setDefault(spec, "replicas", 1);
  setDefault(spec, "revisionHistoryLimit", 10);
  defaultTemplateOf(spec);
  for (const pvc of objs(spec.volumeClaimTemplates)) {
    // The v1 conversion stamps the templates' TypeMeta, so clients see it.
    setValue(pvc, "apiVersion", "v1");
    setValue(pvc, "kind", "PersistentVolumeClaim");
    defaultPVCTemplate(pvc);
  }
}

function validateStatefulSetSpec(spec: Json): FieldError[] {
  const errs: FieldError[] = [];
  const pmp = spec.podManagementPolicy;
  if (pmp === undefined || pmp === null || pmp === "") errs.push(required(SPEC.child("podManagementPolicy"), ""));
  else if (pmp !== "OrderedReady" && pmp !== "Parallel") errs.push(invalid(SPEC.child("podManagementPolicy"), pmp, "must be 'OrderedReady' or 'Parallel'"));
  const us = asObj(spec.updateStrategy) ?? {};
  const usPath = SPEC.child("updateStrategy");
  switch (us.type) {
    case undefined:
    case null:
    case "":
      errs.push(required(usPath, ""));
      break;
    case "OnDelete":
      if (isObj(us.rollingUpdate)) errs.push(invalid(usPath.child("rollingUpdate"), us.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'"));
      break;
    case "RollingUpdate": {
      const ru = asObj(us.rollingUpdate);
      if (ru) {
        errs.push(...nonNegative(ru.partition, usPath.child("rollingUpdate", "partition")));
        if (ru.maxUnavailable !== undefined && ru.maxUnavailable !== null) {
          const mu = intOrStr(ru.maxUnavailable);
          const p = usPath.child("rollingUpdate", "maxUnavailable");
          errs.push(...validatePositiveIntOrPercent(mu, p));
          if (intOrPercentValue(mu) === 0) errs.push(invalid(p, goIntOrString(mu), "cannot be 0"));
          errs.push(...isNotMoreThan100Percent(mu, p));
        }
      }
      break;
    }
    default:
      errs.push(invalid(usPath, us, "must be 'RollingUpdate' or 'OnDelete'"));
  }
  errs.push(...nonNegative(spec.revisionHistoryLimit, SPEC.child("revisionHistoryLimit")));
  errs.push(...nonNegative(spec.replicas, SPEC.child("replicas")));
  errs.push(...nonNegative(spec.minReadySeconds, SPEC.child("minReadySeconds")));
  const ordinals = asObj(spec.ordinals);
  if (ordinals) errs.push(...nonNegative(ordinals.start, SPEC.child("ordinals", "start")));
  const sel = validateWorkloadSelector(spec.selector, SPEC.child("selector"), "statefulset");
  errs.push(...sel.errs);
  if (!sel.selector) errs.push(invalid(SPEC.child("selector"), goLabelSelector(spec.selector), ""));
  else errs.push(...validateTemplateForController(spec.template, sel.selector, SPEC.child("template"), "StatefulSet", { restartAlways: false, podSpec: false }));
  const tspec = asObj(asObj(spec.template)?.spec) ?? {};
  if (tspec.restartPolicy !== "Always") errs.push(notSupported(SPEC.child("template", "spec", "restartPolicy"), tspec.restartPolicy ?? "", ["Always"]));
  if (tspec.activeDeadlineSeconds !== undefined && tspec.activeDeadlineSeconds !== null) {
    errs.push(forbidden(SPEC.child("template", "spec", "activeDeadlineSeconds"), "activeDeadlineSeconds in StatefulSet is not Supported"));
  }
  const retention = asObj(spec.persistentVolumeClaimRetentionPolicy);
  if (retention) {
    for (const f of ["whenDeleted", "whenScaled"]) {
      const v = retention[f];
      if (v !== "Retain" && v !== "Delete") errs.push(notSupported(SPEC.child("persistentVolumeClaimRetentionPolicy", f), v ?? "", ["Retain", "Delete"]));
    }
  }
  return errs;
}

const STS_MUTABLE = ["replicas", "template", "updateStrategy", "minReadySeconds", "ordinals", "revisionHistoryLimit", "persistentVolumeClaimRetentionPolicy"];

function validateStatefulSetUpdate(obj: Json, old: Json): FieldError[] {
  const errs = [...validateMetaUpdate(obj, old), ...validateStatefulSetSpec(specOf(obj))];
  const a = { ...specOf(obj) };
  const b = { ...specOf(old) };
  for (const f of STS_MUTABLE) {
    delete a[f];
    delete b[f];
  }
  if (!jsonEqual(a, b)) {
    errs.push(
      forbidden(
        SPEC,
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
      ),
    );
  }
  return errs;
}

const STS_STATUS_FIELDS = ["observedGeneration", "replicas", "readyReplicas", "currentReplicas", "updatedReplicas", "availableReplicas", "collisionCount"];

export const statefulSets: ResourceDefinition = {
  group: "apps",
  version: "v1",
  kind: "StatefulSet",
  plural: "statefulsets",
  singular: "statefulset",
  shortNames: ["sts"],
  categories: ["all"],
  namespaced: true,
  definition: "io.k8s.api.apps.v1.StatefulSet",
  subresources: ["status", "scale"],
  scale: labelSelectorScale,
  strategy: {
    defaults: defaultStatefulSet,
    prepareForCreate: (obj) => resetStatus(obj, { replicas: 0, availableReplicas: 0 }),
    validate: (obj) => [...validateMeta(obj, true, nameIsDNSLabel), ...validateStatefulSetSpec(specOf(obj))],
    validateUpdate: (obj, old) => validateStatefulSetUpdate(obj, old),
    validateStatusUpdate: (obj, old) => {
      const status = asObj(obj.status) ?? {};
      const errs = [...validateMetaUpdate(obj, old)];
      for (const f of STS_STATUS_FIELDS) errs.push(...nonNegative(status[f], STATUS.child(f)));
      for (const f of ["readyReplicas", "currentReplicas", "updatedReplicas", "availableReplicas"]) {
        if ((asNum(status[f]) ?? 0) > (asNum(status.replicas) ?? 0)) errs.push(invalid(STATUS.child(f), asNum(status[f]) ?? 0, "cannot be greater than status.replicas"));
      }
      if ((asNum(status.availableReplicas) ?? 0) > (asNum(status.readyReplicas) ?? 0)) {
        errs.push(invalid(STATUS.child("availableReplicas"), asNum(status.availableReplicas) ?? 0, "cannot be greater than status.readyReplicas"));
      }
      return errs;
    },
    statusFields: ["status"],
    specFields: ["spec"],
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
  },
  table: {
    columns: [nameColumn(), column("Ready", "string", "Number of the pod with ready state"), ageColumn, containersColumn, imagesColumn],
    row(obj, now) {
      const spec = specOf(obj);
      const status = asObj(obj.status) ?? {};
      const [names, images] = containerCells(containersOf(spec));
      return [nameOf(obj), `${asNum(status.readyReplicas) ?? 0}/${asNum(spec.replicas) ?? 0}`, since(creationOf(obj), now), names, images];
    },
  },
};

// ---- daemon sets ----------------------------------------------------------------------------

function defaultDaemonSet(ds: Json): void {
  const spec = child(ds, "spec");
  if (!spec) return;
  const us = child(spec, "updateStrategy");
  if (us) {
    setDefault(us, "type", "RollingUpdate", true);
    if (us.type === "RollingUpdate") {
      const ru = child(us, "rollingUpdate");
      if (ru) {
        setDefault(ru, "maxUnavailable", 1);
        setDefault(ru, "maxSurge", 0);
      }
    }
  }
  setDefault(spec, "revisionHistoryLimit", 10);
  defaultTemplateOf(spec);
}

function goDaemonSetStrategy(us: Json): GoRendered {
  const ru = isObj(us.rollingUpdate) ? "(*apps.RollingUpdateDaemonSet)(0xc000a3e1d0)" : "(*apps.RollingUpdateDaemonSet)(nil)";
  return new GoRendered(`apps.DaemonSetUpdateStrategy{Type:"${asStr(us.type) ?? ""}", RollingUpdate:${ru}}`);
}

function validateDaemonSetSpec(spec: Json): FieldError[] {
  const sel = validateWorkloadSelector(spec.selector, SPEC.child("selector"), "daemonset");
  const errs: FieldError[] = [];
  const template = asObj(spec.template) ?? {};
  const labels = asObj(asObj(template.metadata)?.labels);
  if (spec.selector === undefined || spec.selector === null) errs.push(required(SPEC.child("selector"), ""));
  const selErrs = sel.errs.filter((e) => !e.detail.startsWith("empty selector") && e.type !== "FieldValueRequired");
  errs.push(...selErrs);
  if (sel.selector && !sel.selector.matches(strMap(labels))) {
    errs.push(invalid(SPEC.child("template", "metadata", "labels"), isObj(labels) ? labels : new GoRendered("map[string]string(nil)"), "`selector` does not match template `labels`"));
  }
  errs.push(...sel.errs.filter((e) => e.detail.startsWith("empty selector")));
  errs.push(...validateTemplateForController(template, undefined, SPEC.child("template"), "DaemonSet", { restartAlways: false }));
  const tspec = asObj(template.spec) ?? {};
  if (tspec.restartPolicy !== "Always") errs.push(notSupported(SPEC.child("template", "spec", "restartPolicy"), tspec.restartPolicy ?? "", ["Always"]));
  if (tspec.activeDeadlineSeconds !== undefined && tspec.activeDeadlineSeconds !== null) {
    errs.push(invalid(SPEC.child("template", "spec", "activeDeadlineSeconds"), tspec.activeDeadlineSeconds, "activeDeadlineSeconds in DaemonSet is not Supported"));
  }
  errs.push(...nonNegative(spec.minReadySeconds, SPEC.child("minReadySeconds")));
  const us = asObj(spec.updateStrategy) ?? {};
  const usPath = SPEC.child("updateStrategy");
  if (us.type === "RollingUpdate") {
    const ru = asObj(us.rollingUpdate);
    if (!ru) errs.push(required(usPath.child("rollingUpdate"), ""));
    else {
      const p = usPath.child("rollingUpdate");
      const mu = intOrStr(ru.maxUnavailable);
      const ms = intOrStr(ru.maxSurge);
      errs.push(...validatePositiveIntOrPercent(mu, p.child("maxUnavailable")));
      errs.push(...validatePositiveIntOrPercent(ms, p.child("maxSurge")));
      errs.push(...isNotMoreThan100Percent(mu, p.child("maxUnavailable")));
      errs.push(...isNotMoreThan100Percent(ms, p.child("maxSurge")));
      const hasUnavailable = intOrPercentValue(mu) !== 0;
      const hasSurge = intOrPercentValue(ms) !== 0;
      if (hasUnavailable && hasSurge) errs.push(invalid(p.child("maxSurge"), goIntOrString(ms), "may not be set when maxUnavailable is non-zero"));
      else if (!hasUnavailable && !hasSurge) errs.push(required(p.child("maxUnavailable"), "cannot be 0 when maxSurge is 0"));
    }
  } else if (us.type !== "OnDelete") {
    errs.push(notSupported(usPath, goDaemonSetStrategy(us), ["RollingUpdate", "OnDelete"]));
  }
  errs.push(...nonNegative(spec.revisionHistoryLimit, SPEC.child("revisionHistoryLimit")));
  return errs;
}

const DS_STATUS_FIELDS = ["currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled", "numberReady", "observedGeneration", "updatedNumberScheduled", "numberAvailable", "numberUnavailable", "collisionCount"];

export const daemonSets: ResourceDefinition = {
  group: "apps",
  version: "v1",
  kind: "DaemonSet",
  plural: "daemonsets",
  singular: "daemonset",
  shortNames: ["ds"],
  categories: ["all"],
  namespaced: true,
  definition: "io.k8s.api.apps.v1.DaemonSet",
  subresources: ["status"],
  strategy: {
    defaults: defaultDaemonSet,
    prepareForCreate: (obj) => resetStatus(obj, { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 }),
    validate: (obj) => [...validateMeta(obj, true), ...validateDaemonSetSpec(specOf(obj))],
    validateUpdate: (obj, old) => [...validateMetaUpdate(obj, old), ...validateDaemonSetSpec(specOf(obj)), ...selectorImmutable(obj, old)],
    validateStatusUpdate: (obj, old) => {
      const status = asObj(obj.status) ?? {};
      const errs = [...validateMetaUpdate(obj, old)];
      for (const f of DS_STATUS_FIELDS) errs.push(...nonNegative(status[f], STATUS.child(f)));
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
      column("Desired", "integer", D.dsDesired),
      column("Current", "integer", D.dsCurrent),
      column("Ready", "integer", D.dsReady),
      column("Up-to-date", "integer", D.dsUpdated),
      column("Available", "integer", D.dsAvailable),
      column("Node Selector", "string", D.podNodeSelector),
      ageColumn,
      containersColumn,
      imagesColumn,
      column("Selector", "string", D.dsSelector, 1),
    ],
    row(obj, now) {
      const spec = specOf(obj);
      const status = asObj(obj.status) ?? {};
      const [names, images] = containerCells(containersOf(spec));
      const n = (f: string): number => asNum(status[f]) ?? 0;
      const nodeSelector = formatLabels(strMap(asObj(asObj(spec.template)?.spec)?.nodeSelector));
      return [nameOf(obj), n("desiredNumberScheduled"), n("currentNumberScheduled"), n("numberReady"), n("updatedNumberScheduled"), n("numberAvailable"), nodeSelector, since(creationOf(obj), now), names, images, formatLabelSelector(asObj(spec.selector))];
    },
  },
};

// ---- controller revisions -------------------------------------------------------------------

/** The owning controller as `statefulset.apps/web` (printers' formatResourceName with kind). */
function controllerOf(obj: KubeObject): string {
  const ref = objs(asObj(obj.metadata)?.ownerReferences).find((r) => r.controller === true);
  if (!ref) return "<none>";
  const apiVersion = asStr(ref.apiVersion) ?? "";
  const group = apiVersion.includes("/") ? apiVersion.split("/")[0]! : "";
  const kind = asStr(ref.kind) ?? "";
  const gk = group === "" ? kind : `${kind}.${group}`;
  return gk === "" ? asStr(ref.name) ?? "" : `${gk.toLowerCase()}/${asStr(ref.name) ?? ""}`;
}

export const controllerRevisions: ResourceDefinition = {
  group: "apps",
  version: "v1",
  kind: "ControllerRevision",
  plural: "controllerrevisions",
  singular: "controllerrevision",
  namespaced: true,
  definition: "io.k8s.api.apps.v1.ControllerRevision",
  strategy: {
    validate: (obj) => {
      const errs = [...validateMeta(obj, true), ...nonNegative(obj.revision, FieldPath.of("revision"))];
      if (obj.data === undefined || obj.data === null) errs.push(required(FieldPath.of("data"), "data is mandatory"));
      return errs;
    },
    validateUpdate: (obj, old) => [...validateMetaUpdate(obj, old), ...nonNegative(obj.revision, FieldPath.of("revision")), ...immutable(obj.data, old.data, FieldPath.of("data"))],
    statusFields: [],
    specFields: [],
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
  },
  table: {
    columns: [nameColumn(), column("Controller", "string", "Controller of the object"), column("Revision", "string", D.controllerRevisionRevision), ageColumn],
    row: (obj, now) => [nameOf(obj), controllerOf(obj), asNum(obj.revision) ?? 0, since(creationOf(obj), now)],
  },
};

export const appsResources: readonly ResourceDefinition[] = [controllerRevisions, daemonSets, deployments, replicaSets, statefulSets];
