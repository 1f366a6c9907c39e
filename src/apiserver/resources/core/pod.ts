// core/v1 pods: defaulting, the pod strategy (status reset to Pending with its QoS class,
// graceful deletion), validation including upstream's narrow set of mutable spec fields, the
// table and the field selectors.
import { FieldPath, forbidden, invalid, required, type FieldError } from "../../../api/fielderrors.js";
import { inclusiveRangeError, isValidIP, nameIsDNSSubdomain } from "../../../api/validation.js";
import type { ResourceDefinition } from "../../registry/types.js";
import { MAX_INT32, validateMeta, validateMetaUpdate } from "../common.js";
import { asArr, asNum, asObj, asStr, child, clone, isObj, jsonEqual, objs, strMap, type Json } from "../util.js";
import { defaultPodOnly, defaultPodSpec } from "./podspec-defaults.js";
import { validatePodSpec } from "./podspec-validation.js";
import { mergeMatchLabelKeysIntoPodAffinity } from "./affinity-validation.js";
import { podTable } from "./pod-table.js";
import { podQOSClass } from "../../../api/qos.js";

const SPEC = FieldPath.of("spec");
/** Marks the API copy of a static pod (one the kubelet runs from a file). */
export const MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror";

function specOf(obj: Json): Json {
  return asObj(obj.spec) ?? {};
}

/** Upstream's fixed list of what a pod update may change, quoted in its Forbidden message. */
const POD_UPDATE_MESSAGE =
  "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/** Go field names where they are not the JSON name capitalized. */
const GO_FIELD_NAMES: Record<string, string> = { dnsPolicy: "DNSPolicy", dnsConfig: "DNSConfig", hostIPC: "HostIPC", hostPID: "HostPID", os: "OS", serviceAccount: "DeprecatedServiceAccount" };

function goFieldName(k: string): string {
  return GO_FIELD_NAMES[k] ?? k.charAt(0).toUpperCase() + k.slice(1);
}

/** A short account of which spec fields differ, standing in for upstream's cmp.Diff output. */
function specDiff(oldSpec: Json, newSpec: Json): string {
  const keys = [...new Set([...Object.keys(oldSpec), ...Object.keys(newSpec)])].sort();
  const lines: string[] = ["  core.PodSpec{"];
  for (const k of keys) {
    if (jsonEqual(oldSpec[k], newSpec[k])) continue;
    if (oldSpec[k] !== undefined) lines.push(`- \t${goFieldName(k)}: ${JSON.stringify(oldSpec[k])},`);
    if (newSpec[k] !== undefined) lines.push(`+ \t${goFieldName(k)}: ${JSON.stringify(newSpec[k])},`);
  }
  lines.push("  }");
  return lines.join("\n") + "\n";
}

function validateContainerUpdates(newList: unknown, oldList: unknown, path: FieldPath): { errs: FieldError[]; stop: boolean } {
  const n = objs(newList);
  const o = objs(oldList);
  if (n.length !== o.length) return { errs: [forbidden(path, "pod updates may not add or remove containers")], stop: true };
  const errs: FieldError[] = [];
  n.forEach((c, i) => {
    const image = asStr(c.image) ?? "";
    if (image === "") errs.push(required(path.index(i).child("image"), ""));
    if (image.trim().length !== image.length) errs.push(invalid(path.index(i).child("image"), image, "must not have leading or trailing whitespace"));
  });
  return { errs, stop: false };
}

function validateOnlyAddedTolerations(newT: unknown, oldT: unknown, path: FieldPath): FieldError[] {
  const news = objs(newT);
  for (const old of objs(oldT)) {
    const found = news.some((t) => jsonEqual({ ...old, tolerationSeconds: t.tolerationSeconds }, t));
    if (!found) return [forbidden(path, "existing toleration can not be modified except its tolerationSeconds")];
  }
  return [];
}

function validateOnlyDeletedSchedulingGates(newG: unknown, oldG: unknown, path: FieldPath): FieldError[] {
  const news = objs(newG);
  if (news.length === 0) return [];
  const oldNames = new Set(objs(oldG).map((g) => asStr(g.name) ?? ""));
  const errs: FieldError[] = [];
  news.forEach((g, i) => {
    const n = asStr(g.name) ?? "";
    if (!oldNames.has(n)) errs.push(forbidden(path.index(i).child("name"), `only deletion is allowed, but found new scheduling gate '${n}'`));
  });
  return errs;
}

export function validatePodCreate(pod: Json): FieldError[] {
  const spec = specOf(pod);
  const errs = [...validateMeta(pod, true), ...validatePodSpec(spec, SPEC, asStr(asObj(pod.metadata)?.name) ?? "")];
  if ((asArr(spec.ephemeralContainers) ?? []).length > 0) errs.push(forbidden(SPEC.child("ephemeralContainers"), "cannot be set on create"));
  if ((asStr(spec.nodeName) ?? "") !== "" && (asArr(spec.schedulingGates) ?? []).length > 0) {
    errs.push(forbidden(SPEC.child("nodeName"), "cannot be set until all schedulingGates have been cleared"));
  }
  return errs;
}

export function validatePodUpdate(pod: Json, old: Json): FieldError[] {
  const spec = specOf(pod);
  const oldSpec = specOf(old);
  const errs = [...validateMetaUpdate(pod, old), ...validateMeta(pod, true), ...validatePodSpec(spec, SPEC, asStr(asObj(pod.metadata)?.name) ?? "")];
  const containers = validateContainerUpdates(spec.containers, oldSpec.containers, SPEC.child("containers"));
  errs.push(...containers.errs);
  if (containers.stop) return errs;
  const inits = validateContainerUpdates(spec.initContainers, oldSpec.initContainers, SPEC.child("initContainers"));
  errs.push(...inits.errs);
  if (inits.stop) return errs;
  const ads = asNum(spec.activeDeadlineSeconds);
  const oldAds = asNum(oldSpec.activeDeadlineSeconds);
  if (ads !== undefined) {
    if (ads < 0 || ads > MAX_INT32) return [...errs, invalid(SPEC.child("activeDeadlineSeconds"), ads, inclusiveRangeError(0, MAX_INT32))];
    if (oldAds !== undefined && oldAds < ads) return [...errs, invalid(SPEC.child("activeDeadlineSeconds"), ads, "must be less than or equal to previous value")];
  } else if (oldAds !== undefined) {
    errs.push(invalid(SPEC.child("activeDeadlineSeconds"), null, "must not update from a positive integer to nil value"));
  }
  errs.push(...validateOnlyAddedTolerations(spec.tolerations, oldSpec.tolerations, SPEC.child("tolerations")));
  errs.push(...validateOnlyDeletedSchedulingGates(spec.schedulingGates, oldSpec.schedulingGates, SPEC.child("schedulingGates")));
  if (jsonEqual(spec, oldSpec)) return errs;

  const oldQOS = asStr(asObj(old.status)?.qosClass) ?? podQOSClass(oldSpec);
  if (oldQOS !== podQOSClass(spec)) errs.push(invalid(FieldPath.of("metadata"), asStr(asObj(pod.status)?.qosClass) ?? "", "Pod QoS is immutable"));

  // Put back what may change, then anything still different is a forbidden change.
  const munged = clone(spec);
  const oldContainers = objs(oldSpec.containers);
  objs(munged.containers).forEach((c, i) => (c.image = oldContainers[i]?.image));
  const oldInits = objs(oldSpec.initContainers);
  objs(munged.initContainers).forEach((c, i) => (c.image = oldInits[i]?.image));
  for (const f of ["activeDeadlineSeconds", "schedulingGates", "tolerations"]) {
    if (oldSpec[f] === undefined) delete munged[f];
    else munged[f] = oldSpec[f];
  }
  const oldGrace = asNum(oldSpec.terminationGracePeriodSeconds);
  if (oldGrace !== undefined && oldGrace < 0 && munged.terminationGracePeriodSeconds === 1) munged.terminationGracePeriodSeconds = oldGrace;
  if ((asArr(oldSpec.schedulingGates) ?? []).length > 0) {
    // A gated pod may gain nodeSelector entries and node affinity before it is scheduled.
    if (isObj(munged.nodeSelector) && isObj(oldSpec.nodeSelector)) {
      const oldSel = oldSpec.nodeSelector;
      const kept = Object.entries(oldSel).every(([k, v]) => munged.nodeSelector !== undefined && (munged.nodeSelector as Json)[k] === v);
      if (kept) munged.nodeSelector = clone(oldSel);
    } else if (isObj(munged.nodeSelector) && oldSpec.nodeSelector === undefined) {
      delete munged.nodeSelector;
    }
    if (munged.affinity !== undefined && oldSpec.affinity === undefined) delete munged.affinity;
  }
  if (!jsonEqual(munged, oldSpec)) errs.push(forbidden(SPEC, `${POD_UPDATE_MESSAGE}\n${specDiff(oldSpec, munged)}`));
  return errs;
}

/** The object a write to pods/ephemeralcontainers stores: the stored pod with the request's ephemeral containers (upstream's dropNonEphemeralContainerUpdates). */
function withEphemeralContainers(pod: Json, old: Json): Json {
  const spec = { ...specOf(old) };
  const ephemeral = specOf(pod).ephemeralContainers;
  if (ephemeral === undefined || ephemeral === null) delete spec.ephemeralContainers;
  else spec.ephemeralContainers = ephemeral;
  return { ...old, spec };
}

/** Upstream's ValidatePodEphemeralContainersUpdate: the new ones are valid, the existing ones stay as they were. */
export function validatePodEphemeralContainersUpdate(pod: Json, old: Json): FieldError[] {
  if ((asStr(asObj(asObj(old.metadata)?.annotations)?.[MIRROR_POD_ANNOTATION]) ?? "") !== "") return [forbidden(FieldPath.of(""), "static pods do not support ephemeral containers")];
  const errs = [...validateMetaUpdate(pod, old), ...validateMeta(pod, true), ...validatePodSpec(specOf(pod), SPEC, asStr(asObj(pod.metadata)?.name) ?? "")];
  const path = SPEC.child("ephemeralContainers");
  const requested = new Map(objs(specOf(pod).ephemeralContainers).map((c) => [asStr(c.name) ?? "", c]));
  for (const existing of objs(specOf(old).ephemeralContainers)) {
    const name = asStr(existing.name) ?? "";
    const now = requested.get(name);
    if (now === undefined) errs.push(forbidden(path, `existing ephemeral containers "${name}" may not be removed\n`));
    else if (!jsonEqual(existing, now)) errs.push(forbidden(path.key(name), `existing ephemeral containers "${name}" may not be changed\n`));
  }
  return errs;
}

function validatePodStatusUpdate(pod: Json, old: Json): FieldError[] {
  const errs = validateMetaUpdate(pod, old);
  const status = asObj(pod.status) ?? {};
  const oldStatus = asObj(old.status) ?? {};
  const statusPath = FieldPath.of("status");
  if ((asStr(specOf(pod).nodeName) ?? "") !== (asStr(specOf(old).nodeName) ?? "")) errs.push(forbidden(statusPath.child("nodeName"), "may not be changed directly"));
  const nominated = asStr(status.nominatedNodeName) ?? "";
  if (nominated !== "" && nominated !== oldStatus.nominatedNodeName) {
    for (const m of nameIsDNSSubdomain(nominated, false)) errs.push(invalid(statusPath.child("nominatedNodeName"), nominated, m));
  }
  const ips = objs(status.podIPs);
  ips.forEach((ip, i) => errs.push(...isValidIP(statusPath.child("podIPs").index(i), asStr(ip.ip) ?? "")));
  if (ips.length > 1) {
    const families = new Set(ips.map((ip) => ((asStr(ip.ip) ?? "").includes(":") ? 6 : 4)));
    if (families.size !== ips.length) errs.push(invalid(statusPath.child("podIPs"), status.podIPs, "may specify no more than one IP for each IP family"));
  }
  return errs;
}

function podDefaults(pod: Json): void {
  const spec = child(pod, "spec");
  if (!spec) return;
  defaultPodSpec(spec);
  defaultPodOnly(spec);
}

function podPrepareForCreate(pod: Json): void {
  const spec = specOf(pod);
  mergeMatchLabelKeysIntoPodAffinity(spec, strMap(asObj(pod.metadata)?.labels));
  const status: Json = { phase: "Pending", qosClass: podQOSClass(spec) };
  // A pod with scheduling gates says so in its PodScheduled condition from the start.
  if ((asArr(spec.schedulingGates) ?? []).length > 0) {
    status.conditions = [{ type: "PodScheduled", status: "False", lastProbeTime: null, lastTransitionTime: null, reason: "SchedulingGated", message: "Scheduling is blocked due to non-empty scheduling gates" }];
  }
  pod.status = status;
}

/** Upstream's CheckGracefulDelete for pods; undefined (delete at once) where it chooses 0. */
export function podGracePeriod(pod: Json, requested: number | undefined): number | undefined {
  const spec = specOf(pod);
  let period = requested ?? asNum(spec.terminationGracePeriodSeconds) ?? 0;
  if ((asStr(spec.nodeName) ?? "") === "") period = 0;
  const phase = asStr(asObj(pod.status)?.phase);
  if (phase === "Failed" || phase === "Succeeded") period = 0;
  if (period < 0) period = 1;
  return period === 0 ? undefined : period;
}

export function podSelectableFields(pod: Json): Record<string, string> {
  const spec = specOf(pod);
  const status = asObj(pod.status) ?? {};
  return {
    "spec.nodeName": asStr(spec.nodeName) ?? "",
    "spec.restartPolicy": asStr(spec.restartPolicy) ?? "",
    "spec.schedulerName": asStr(spec.schedulerName) ?? "",
    "spec.serviceAccountName": asStr(spec.serviceAccountName) ?? "",
    "spec.hostNetwork": String(spec.hostNetwork === true),
    "status.phase": asStr(status.phase) ?? "",
    "status.podIP": asStr(objs(status.podIPs)[0]?.ip) ?? "",
    "status.nominatedNodeName": asStr(status.nominatedNodeName) ?? "",
  };
}

export const pods: ResourceDefinition = {
  group: "",
  version: "v1",
  kind: "Pod",
  plural: "pods",
  returnsDeletedObject: true,
  singular: "pod",
  shortNames: ["po"],
  categories: ["all"],
  namespaced: true,
  definition: "io.k8s.api.core.v1.Pod",
  subresources: ["status", "binding", "eviction", "log", "exec", "attach", "portforward", "proxy", "ephemeralcontainers"],
  strategy: {
    defaults: podDefaults,
    prepareForCreate: podPrepareForCreate,
    validate: (obj) => validatePodCreate(obj),
    validateUpdate: (obj, old) => validatePodUpdate(obj, old),
    validateStatusUpdate: (obj, old) => validatePodStatusUpdate(obj, old),
    subresourceWrites: {
      ephemeralcontainers: { prepare: (obj, old) => withEphemeralContainers(obj, old), validate: (obj, old) => validatePodEphemeralContainersUpdate(obj, old) },
    },
    statusFields: ["status"],
    // Pods keep no metadata.generation in Kubernetes 1.32.
    specFields: [],
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
    gracePeriodSeconds: (obj, requested) => podGracePeriod(obj, requested),
  },
  table: podTable,
  selectableFields: (obj) => podSelectableFields(obj),
};
