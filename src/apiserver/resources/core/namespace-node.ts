// core/v1 namespaces and nodes: the two cluster-scoped kinds every cluster starts with.
import { duplicate, FieldError, FieldPath, forbidden, GoRendered, goQuote, invalid } from "../../../api/fielderrors.js";
import { isValidCIDR, isValidLabelValue, validateFinalizerName, validateLabelName, validateNamespaceName } from "../../../api/validation.js";
import type { ResourceDefinition } from "../../registry/types.js";
import { oneOf, validateKubeFinalizerName, validateMeta, validateMetaUpdate } from "../common.js";
import { D } from "../descriptions.js";
import { ageColumn, column, nameColumn, since } from "../print.js";
import { asArr, asObj, asStr, child, creationOf, keepStatus, meta, nameOf, objs, type Json } from "../util.js";
import { canonicalizeQuantities } from "./resources.js";

const LABEL_METADATA_NAME = "kubernetes.io/metadata.name";

// ---- namespaces -----------------------------------------------------------------------------

/**
 * Every named namespace carries its own name as a label (upstream defaulting + canonicalize).
 * Written only when missing or wrong: defaults also run on stored objects, whose parts a /status
 * patch shares frozen with the watch cache.
 */
function labelWithName(ns: Json): void {
  const md = meta(ns);
  const name = asStr(md.name) ?? "";
  if (name === "") return;
  if (asObj(md.labels)?.[LABEL_METADATA_NAME] === name) return;
  const labels = child(md, "labels");
  if (labels) labels[LABEL_METADATA_NAME] = name;
  if (!ns.metadata) ns.metadata = md;
}

function prepareNamespaceCreate(ns: Json): void {
  ns.status = { phase: "Active" };
  // Namespaces are created with the "kubernetes" finalizer the namespace controller removes.
  const spec = child(ns, "spec");
  if (!spec) return;
  const finalizers = asArr(spec.finalizers) ?? [];
  if (!finalizers.includes("kubernetes")) spec.finalizers = [...finalizers, "kubernetes"];
  labelWithName(ns);
}

function prepareNamespaceUpdate(ns: Json, old: Json): void {
  // spec.finalizers only changes through the finalize subresource.
  const spec = child(ns, "spec");
  const oldFinalizers = asObj(old.spec)?.finalizers;
  if (spec) {
    if (oldFinalizers === undefined) delete spec.finalizers;
    else spec.finalizers = structuredClone(oldFinalizers);
  }
  keepStatus(ns, old);
  labelWithName(ns);
}

function validateNamespaceFinalizers(ns: Json): FieldError[] {
  const errs: FieldError[] = [];
  const path = FieldPath.of("spec", "finalizers");
  for (const f of asArr(asObj(ns.spec)?.finalizers) ?? []) {
    const name = String(f);
    errs.push(...validateFinalizerName(name, path), ...validateKubeFinalizerName(name, path));
  }
  return errs;
}

function validateNamespaceStatus(ns: Json, old: Json): FieldError[] {
  const errs = validateMetaUpdate(ns, old);
  const phase = asStr(asObj(ns.status)?.phase) ?? "";
  const path = FieldPath.of("status", "Phase");
  if (!meta(ns).deletionTimestamp) {
    if (phase !== "Active") errs.push(invalid(path, phase, "may only be 'Active' if `deletionTimestamp` is empty"));
  } else if (phase !== "Terminating") {
    errs.push(invalid(path, phase, "may only be 'Terminating' if `deletionTimestamp` is not empty"));
  }
  return errs;
}

export const namespaces: ResourceDefinition = {
  group: "",
  version: "v1",
  kind: "Namespace",
  plural: "namespaces",
  returnsDeletedObject: true,
  singular: "namespace",
  shortNames: ["ns"],
  namespaced: false,
  definition: "io.k8s.api.core.v1.Namespace",
  // Upstream serves no deletecollection on namespaces.
  verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
  subresources: ["status", "finalize"],
  strategy: {
    defaults: (obj) => {
      labelWithName(obj);
      const status = asObj(obj.status);
      if (status && (status.phase === undefined || status.phase === "")) status.phase = "Active";
    },
    prepareForCreate: (obj) => prepareNamespaceCreate(obj),
    prepareForUpdate: (obj, old) => prepareNamespaceUpdate(obj, old),
    validate: (obj) => [...validateMeta(obj, false, validateNamespaceName), ...validateNamespaceFinalizers(obj)],
    validateUpdate: (obj, old) => [...validateMetaUpdate(obj, old), ...validateNamespaceFinalizers(obj)],
    validateStatusUpdate: (obj, old) => validateNamespaceStatus(obj, old),
    statusFields: ["status"],
    specFields: [],
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
    // A namespace is removed only after the namespace controller emptied it and cleared
    // spec.finalizers through /finalize; until then it shows Terminating.
    deletionBlocked: (obj) => (asObj(obj.spec)?.finalizers as unknown[] | undefined)?.length !== undefined && (asObj(obj.spec)!.finalizers as unknown[]).length > 0,
    prepareForDeletion: (obj) => {
      obj.status = { ...asObj(obj.status), phase: "Terminating" };
    },
  },
  table: {
    columns: [nameColumn(), column("Status", "string", "The status of the namespace"), ageColumn],
    row: (obj, now) => [nameOf(obj), asStr(asObj(obj.status)?.phase) ?? "", since(creationOf(obj), now)],
  },
  selectableFields: (obj) => ({ "status.phase": asStr(asObj(obj.status)?.phase) ?? "", name: nameOf(obj) }),
};

// ---- nodes ----------------------------------------------------------------------------------

function goTaint(t: Json): GoRendered {
  const added = asStr(t.timeAdded);
  return new GoRendered(
    `core.Taint{Key:${goQuote(asStr(t.key) ?? "")}, Value:${goQuote(asStr(t.value) ?? "")}, Effect:${goQuote(asStr(t.effect) ?? "")}, TimeAdded:${added ? "(*v1.Time)(0xc000a3e1d0)" : "(*v1.Time)(nil)"}}`,
  );
}

function validateTaints(taints: unknown, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const unique = new Map<string, Set<string>>();
  objs(taints).forEach((t, i) => {
    const p = path.index(i);
    const key = asStr(t.key) ?? "";
    const effect = asStr(t.effect) ?? "";
    errs.push(...validateLabelName(key, p.child("key")));
    const vm = isValidLabelValue(asStr(t.value) ?? "");
    if (vm.length > 0) errs.push(invalid(p.child("value"), asStr(t.value) ?? "", vm.join(";")));
    errs.push(...oneOf(t.effect, ["NoSchedule", "PreferNoSchedule", "NoExecute"], p.child("effect")));
    const seen = unique.get(effect);
    if (seen?.has(key)) {
      errs.push(new FieldError("FieldValueDuplicate", p.toString(), goTaint(t), "taints must be unique by key and effect pair"));
      return;
    }
    unique.set(effect, (seen ?? new Set<string>()).add(key));
  });
  return errs;
}

function validateNodeSpec(node: Json): FieldError[] {
  const spec = asObj(node.spec) ?? {};
  const errs = validateTaints(spec.taints, FieldPath.of("spec", "taints"));
  const cidrs = (asArr(spec.podCIDRs) ?? []).map(String);
  cidrs.forEach((c, i) => errs.push(...isValidCIDR(FieldPath.of("spec", "podCIDRs").index(i), c)));
  if (cidrs.length > 2) errs.push(invalid(FieldPath.of("spec", "podCIDRs"), cidrs, "may specify no more than one CIDR for each IP family"));
  return errs;
}

function validateNodeUpdate(node: Json, old: Json): FieldError[] {
  const errs = [...validateMetaUpdate(node, old), ...validateNodeSpec(node)];
  const seen = new Set<string>();
  objs(asObj(node.status)?.addresses).forEach((a, i) => {
    const key = `${asStr(a.type) ?? ""}/${asStr(a.address) ?? ""}`;
    if (seen.has(key)) {
      errs.push(duplicate(FieldPath.of("status", "addresses").index(i), new GoRendered(`core.NodeAddress{Type:${goQuote(asStr(a.type) ?? "")}, Address:${goQuote(asStr(a.address) ?? "")}}`)));
    }
    seen.add(key);
  });
  const spec = asObj(node.spec) ?? {};
  const oldSpec = asObj(old.spec) ?? {};
  const oldCIDRs = (asArr(oldSpec.podCIDRs) ?? []).map(String);
  const newCIDRs = (asArr(spec.podCIDRs) ?? []).map(String);
  if (oldCIDRs.length > 0) {
    const msg = 'node updates may not change podCIDR except from "" to valid';
    if (oldCIDRs.length !== newCIDRs.length) errs.push(forbidden(FieldPath.of("spec", "podCIDRs"), msg));
    else oldCIDRs.forEach((c, i) => c !== newCIDRs[i] && errs.push(forbidden(FieldPath.of("spec", "podCIDRs"), msg)));
  }
  const oldProvider = asStr(oldSpec.providerID) ?? "";
  if (oldProvider !== "" && oldProvider !== (asStr(spec.providerID) ?? "")) {
    errs.push(forbidden(FieldPath.of("spec", "providerID"), 'node updates may not change providerID except from "" to valid'));
  }
  return errs;
}

function nodeStatusCell(node: Json): string {
  const status = asObj(node.status) ?? {};
  const ready = objs(status.conditions).find((c) => c.type === "Ready");
  const parts: string[] = [];
  if (ready) parts.push(ready.status === "True" ? "Ready" : "NotReady");
  else parts.push("Unknown");
  if (asObj(node.spec)?.unschedulable === true) parts.push("SchedulingDisabled");
  return parts.join(",");
}

/** Roles from `node-role.kubernetes.io/<role>` labels and the older `kubernetes.io/role`. */
function nodeRoles(node: Json): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(asObj(meta(node).labels) ?? {})) {
    if (k.startsWith("node-role.kubernetes.io/")) {
      const role = k.slice("node-role.kubernetes.io/".length);
      if (role !== "") roles.add(role);
    } else if (k === "kubernetes.io/role" && typeof v === "string" && v !== "") {
      roles.add(v);
    }
  }
  const s = [...roles].sort().join(",");
  return s === "" ? "<none>" : s;
}

function nodeAddress(node: Json, type: string): string {
  return asStr(objs(asObj(node.status)?.addresses).find((a) => a.type === type)?.address) ?? "<none>";
}

function defaultNode(node: Json): void {
  const status = asObj(node.status);
  if (!status) return;
  canonicalizeQuantities(status.capacity);
  canonicalizeQuantities(status.allocatable);
  // Allocatable defaults to capacity (SetDefaults_NodeStatus).
  if ((status.allocatable === undefined || status.allocatable === null) && asObj(status.capacity)) status.allocatable = structuredClone(status.capacity);
}

export const nodes: ResourceDefinition = {
  group: "",
  version: "v1",
  kind: "Node",
  plural: "nodes",
  singular: "node",
  shortNames: ["no"],
  namespaced: false,
  definition: "io.k8s.api.core.v1.Node",
  subresources: ["status", "proxy"],
  strategy: {
    defaults: defaultNode,
    // Nodes keep the status they are created with: the kubelet registers itself with it.
    prepareForCreate: (obj) => {
      const spec = asObj(obj.spec);
      if (spec) delete spec.configSource;
      const status = asObj(obj.status);
      if (status) delete status.config;
    },
    validate: (obj) => [...validateMeta(obj, false), ...validateNodeSpec(obj)],
    validateUpdate: (obj, old) => validateNodeUpdate(obj, old),
    validateStatusUpdate: (obj, old) => validateNodeUpdate(obj, old),
    statusFields: ["status"],
    specFields: [],
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
  },
  table: {
    columns: [
      nameColumn(),
      column("Status", "string", "The status of the node"),
      column("Roles", "string", "The roles of the node"),
      ageColumn,
      column("Version", "string", D.nodeKubeletVersion),
      column("Internal-IP", "string", D.nodeAddresses, 1),
      column("External-IP", "string", D.nodeAddresses, 1),
      column("OS-Image", "string", D.nodeOSImage, 1),
      column("Kernel-Version", "string", D.nodeKernelVersion, 1),
      column("Container-Runtime", "string", D.nodeContainerRuntime, 1),
    ],
    row(obj, now) {
      const info = asObj(asObj(obj.status)?.nodeInfo) ?? {};
      const orUnknown = (v: unknown): string => asStr(v) || "<unknown>";
      return [
        nameOf(obj),
        nodeStatusCell(obj),
        nodeRoles(obj),
        since(creationOf(obj), now),
        asStr(info.kubeletVersion) ?? "",
        nodeAddress(obj, "InternalIP"),
        nodeAddress(obj, "ExternalIP"),
        orUnknown(info.osImage),
        orUnknown(info.kernelVersion),
        orUnknown(info.containerRuntimeVersion),
      ];
    },
  },
  selectableFields: (obj) => ({ "spec.unschedulable": String(asObj(obj.spec)?.unschedulable === true) }),
};
