// The NodeRestriction admission plugin (upstream's plugin/pkg/admission/noderestriction): what
// the Node authorizer allows every node (create pods and Nodes, update pod and Node status,
// delete pods, write Leases and CSINodes, ask for tokens) is limited here to the node's own
// objects, checked against the object written:
//  - pods: create only mirror pods bound to itself, owned by its Node, referring to nothing
//    (no service account, secret, configmap, claim or cluster trust bundle); delete, evict and
//    update the status of only pods bound to itself, without relabelling them;
//  - nodes: write only its own Node; never taints or a config source, and no label under
//    node-restriction.kubernetes.io/ nor a kubernetes.io / k8s.io label kubelets do not set;
//  - persistentvolumeclaims: only the status fields a volume resize changes;
//  - serviceaccounts/token: only tokens bound to a pod on itself;
//  - leases (kube-node-lease) and CSINodes: only its own.
// Messages are upstream's, in its `<resource> "<name>" is forbidden: <why>` form.
import type { Node, PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1.js";
import type { TokenRequest } from "kubernetes-types/authentication/v1.js";
import { nodeIdentity } from "../../api/nodeidentity.js";
import { forbiddenNodeLabels } from "../../api/nodelabels.js";
import { notFound } from "../status.js";
import { MIRROR_POD_ANNOTATION } from "../resources/core/pod.js";
import { NODE_LEASE_NAMESPACE } from "../nodeauthz/authorizer.js";
import { podConfigMapNames, podSecretNames } from "../../api/podreferences.js";
import type { KubeObject } from "../registry/types.js";
import { admissionForbidden, type AdmissionAttributes, type AdmissionPlugin } from "./types.js";

export const NODE_RESTRICTION_PLUGIN = "NodeRestriction";

/** What the plugin reads besides the request: the server's current pods and nodes (its watch cache). */
export interface NodeRestrictionSource {
  pod(namespace: string, name: string): Readonly<KubeObject> | undefined;
  node(name: string): Readonly<KubeObject> | undefined;
}

/** Keys added, removed or changed between two label sets. */
function modifiedLabels(a: Readonly<Record<string, string>> = {}, b: Readonly<Record<string, string>> = {}): string[] {
  const out = new Set<string>();
  for (const [k, v] of Object.entries(a)) if (b[k] !== v) out.add(k);
  for (const [k, v] of Object.entries(b)) if (a[k] !== v) out.add(k);
  return [...out];
}

/** Drops empty arrays and objects, as upstream's semantic equality treats nil and empty alike. */
function normalized(v: unknown): unknown {
  if (Array.isArray(v)) {
    const items = v.map(normalized);
    return items.length === 0 ? undefined : items;
  }
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const n = normalized((v as Record<string, unknown>)[k]);
      if (n !== undefined) out[k] = n;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  return v;
}

const semanticEqual = (a: unknown, b: unknown): boolean => JSON.stringify(normalized(a) ?? null) === JSON.stringify(normalized(b) ?? null);

/** Field paths (dotted) where two JSON values differ, for a message. */
function differences(a: unknown, b: unknown, path: string, out: string[]): void {
  if (semanticEqual(a, b)) return;
  const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === "object" && !Array.isArray(x);
  if (isObj(a) && isObj(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) differences(a[k], b[k], path ? `${path}.${k}` : k, out);
    return;
  }
  out.push(path || "<root>");
}

export function nodeRestriction(source: NodeRestrictionSource): AdmissionPlugin {
  return {
    name: NODE_RESTRICTION_PLUGIN,
    // Upstream admits in the mutating phase; here it validates, the one phase every operation
    // (deletes included) goes through. The mutating plugins before it leave mirror pods alone.
    validate(a) {
      if (a.operation === "CONNECT") return;
      const node = nodeIdentity(a.user);
      if (node === undefined) return;
      if (node === "") throw admissionForbidden(a, `could not determine node from user "${a.user.username}"`);
      const r = a.resource;
      if (r.group === "") {
        switch (r.plural) {
          case "pods":
            return admitPod(node, a, source);
          case "nodes":
            return admitNode(node, a);
          case "persistentvolumeclaims":
            if (a.subresource !== "status") throw admissionForbidden(a, "may only update PVC status");
            return admitPVCStatus(node, a);
          case "serviceaccounts":
            return admitTokenRequest(node, a, source);
        }
      }
      if (r.group === "coordination.k8s.io" && r.plural === "leases") return admitLease(node, a);
      if (r.group === "storage.k8s.io" && r.plural === "csinodes") return admitCSINode(node, a);
    },
  };
}

const POD = { group: "", resource: "pods" };

function admitPod(node: string, a: AdmissionAttributes, source: NodeRestrictionSource): void {
  switch (a.subresource) {
    case "":
      if (a.operation === "CREATE") return admitMirrorPod(node, a, source);
      if (a.operation === "DELETE") {
        const existing = (a.oldObject ?? source.pod(a.namespace, a.name)) as Readonly<Pod> | undefined;
        if (!existing) throw notFound(POD, a.name);
        if ((existing.spec?.nodeName ?? "") !== node) throw admissionForbidden(a, `node "${node}" can only delete pods with spec.nodeName set to itself`);
        return;
      }
      throw admissionForbidden(a, `unexpected operation "${a.operation}", node "${node}" can only create and delete mirror pods`);
    case "status": {
      if (a.operation !== "UPDATE") throw admissionForbidden(a, `unexpected operation "${a.operation}"`);
      const old = a.oldObject as Readonly<Pod> | undefined;
      const pod = a.object as Readonly<Pod> | undefined;
      if ((old?.spec?.nodeName ?? "") !== node) throw admissionForbidden(a, `node "${node}" can only update pod status for pods with spec.nodeName set to itself`);
      if (!semanticEqual(old?.metadata?.labels, pod?.metadata?.labels)) throw admissionForbidden(a, `node "${node}" cannot update labels through pod status`);
      if (!resourceClaimStatusesEqual(old, pod)) throw admissionForbidden(a, `node "${node}" cannot update resource claim statues`);
      return;
    }
    case "eviction": {
      if (a.operation !== "CREATE") throw admissionForbidden(a, `unexpected operation ${a.operation}`);
      const podName = a.name || (a.object?.metadata?.name ?? "");
      if (podName === "") throw admissionForbidden(a, "could not determine pod from request data");
      const existing = source.pod(a.namespace, podName) as Readonly<Pod> | undefined;
      if (!existing) throw notFound(POD, podName);
      if ((existing.spec?.nodeName ?? "") !== node) throw admissionForbidden(a, `node ${node} can only evict pods with spec.nodeName set to itself`);
      return;
    }
    default:
      throw admissionForbidden(a, `unexpected pod subresource "${a.subresource}", only 'status' and 'eviction' are allowed`);
  }
}

function resourceClaimStatusesEqual(a: Readonly<Pod> | undefined, b: Readonly<Pod> | undefined): boolean {
  const x = a?.status?.resourceClaimStatuses ?? [];
  const y = b?.status?.resourceClaimStatuses ?? [];
  return x.length === y.length && x.every((s, i) => s.name === y[i]!.name && (s.resourceClaimName ?? null) === (y[i]!.resourceClaimName ?? null));
}

function admitMirrorPod(node: string, a: AdmissionAttributes, source: NodeRestrictionSource): void {
  const pod = a.object as Readonly<Pod> | undefined;
  if (!pod) throw admissionForbidden(a, "unexpected type <nil>");
  if (pod.metadata?.annotations?.[MIRROR_POD_ANNOTATION] === undefined) throw admissionForbidden(a, `pod does not have "${MIRROR_POD_ANNOTATION}" annotation, node "${node}" can only create mirror pods`);
  if ((pod.spec?.nodeName ?? "") !== node) throw admissionForbidden(a, `node "${node}" can only create pods with spec.nodeName set to itself`);
  const owners = pod.metadata?.ownerReferences ?? [];
  if (owners.length > 1) throw admissionForbidden(a, `node "${node}" can only create pods with a single owner reference set to itself`);
  const owner = owners[0];
  if (!owner || owner.apiVersion !== "v1" || owner.kind !== "Node" || owner.name !== node) throw admissionForbidden(a, `node "${node}" can only create pods with an owner reference set to itself`);
  if (owner.controller !== true) throw admissionForbidden(a, `node "${node}" can only create pods with a controller owner reference set to itself`);
  if (owner.blockOwnerDeletion === true) throw admissionForbidden(a, `node "${node}" must not set blockOwnerDeletion on an owner reference`);
  const current = source.node(node) as Readonly<Node> | undefined;
  if (!current) throw notFound({ group: "", resource: "nodes" }, node);
  if (owner.uid !== (current.metadata?.uid ?? "")) throw admissionForbidden(a, `node ${node} UID mismatch: expected ${owner.uid} got ${current.metadata?.uid ?? ""}`);
  // A node must not make itself a pod that grants it other objects through the Node authorizer.
  if (pod.spec?.serviceAccountName) throw admissionForbidden(a, `node "${node}" can not create pods that reference a service account`);
  if (podSecretNames(pod).length > 0) throw admissionForbidden(a, `node "${node}" can not create pods that reference secrets`);
  if (podConfigMapNames(pod).length > 0) throw admissionForbidden(a, `node "${node}" can not create pods that reference configmaps`);
  const volumes = pod.spec?.volumes ?? [];
  if (volumes.some((v) => v.projected?.sources?.some((s) => s.clusterTrustBundle !== undefined))) throw admissionForbidden(a, `node "${node}" can not create pods that reference clustertrustbundles`);
  if (volumes.some((v) => v.persistentVolumeClaim !== undefined)) throw admissionForbidden(a, `node "${node}" can not create pods that reference persistentvolumeclaims`);
}

function admitNode(node: string, a: AdmissionAttributes): void {
  if (a.name !== node) throw admissionForbidden(a, `node "${node}" is not allowed to modify node "${a.name}"`);
  const obj = a.object as Readonly<Node> | undefined;
  if (a.operation === "CREATE") {
    // Access is scoped to what Node.spec lists: a config source would widen it.
    if (obj?.spec?.configSource) throw admissionForbidden(a, `node "${node}" is not allowed to create pods with a non-nil configSource`);
    // Labels steer workloads; a node may not give itself ones that would steer privileged ones to it.
    const forbidden = forbiddenNodeLabels(modifiedLabels(obj?.metadata?.labels));
    if (forbidden.length > 0) throw admissionForbidden(a, `node "${node}" is not allowed to set the following labels: ${forbidden.join(", ")}`);
  }
  if (a.operation === "UPDATE") {
    const old = a.oldObject as Readonly<Node> | undefined;
    // Old kubelets drop the field in status updates: only a new non-nil config source counts.
    if (obj?.spec?.configSource && !semanticEqual(obj.spec.configSource, old?.spec?.configSource)) throw admissionForbidden(a, `node "${node}" is not allowed to update configSource to a new non-nil configSource`);
    if (!semanticEqual(obj?.spec?.taints, old?.spec?.taints)) throw admissionForbidden(a, `node "${node}" is not allowed to modify taints`);
    const forbidden = forbiddenNodeLabels(modifiedLabels(obj?.metadata?.labels, old?.metadata?.labels));
    if (forbidden.length > 0) throw admissionForbidden(a, `is not allowed to modify labels: ${forbidden.join(", ")}`);
  }
}

/** What a node may change in a claim's status: what resizing a volume reports (RecoverVolumeExpansionFailure on, as 1.32's default). */
function admitPVCStatus(node: string, a: AdmissionAttributes): void {
  if (a.operation !== "UPDATE") throw admissionForbidden(a, `unexpected operation "${a.operation}"`);
  const strip = (o: KubeObject | undefined): unknown => {
    const { metadata, status, ...rest } = (o ?? {}) as PersistentVolumeClaim;
    const { resourceVersion: _rv, managedFields: _mf, ...meta } = metadata ?? {};
    const { capacity: _c, conditions: _cs, allocatedResourceStatuses: _ars, allocatedResources: _ar, ...st } = status ?? {};
    return { ...rest, metadata: meta, status: st };
  };
  const before = strip(a.oldObject);
  const after = strip(a.object);
  if (semanticEqual(before, after)) return;
  const changed: string[] = [];
  differences(before, after, "", changed);
  throw admissionForbidden(a, `node "${node}" is not allowed to update fields other than status.capacity and status.conditions: ${changed.join(", ")}`);
}

function admitTokenRequest(node: string, a: AdmissionAttributes, source: NodeRestrictionSource): void {
  if (a.operation !== "CREATE" || a.subresource !== "token") return;
  const tr = a.object as Readonly<TokenRequest> | undefined;
  // A token from a node must be bound to a pod scheduled on it.
  const ref = tr?.spec?.boundObjectRef;
  if (!ref || ref.apiVersion !== "v1" || ref.kind !== "Pod" || !ref.name) throw admissionForbidden(a, "node requested token not bound to a pod");
  if (!ref.uid) throw admissionForbidden(a, "node requested token with a pod binding without a uid");
  const pod = source.pod(a.namespace, ref.name) as Readonly<Pod> | undefined;
  if (!pod) throw notFound(POD, ref.name);
  if (ref.uid !== pod.metadata?.uid) throw admissionForbidden(a, `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
  if ((pod.spec?.nodeName ?? "") !== node) throw admissionForbidden(a, "node requested token bound to a pod scheduled on a different node");
}

function admitLease(node: string, a: AdmissionAttributes): void {
  if (a.namespace !== NODE_LEASE_NAMESPACE) throw admissionForbidden(a, `can only access leases in the "${NODE_LEASE_NAMESPACE}" system namespace`);
  const name = a.operation === "CREATE" ? (a.object?.metadata?.name ?? "") : a.name;
  if (name !== node) throw admissionForbidden(a, "can only access node lease with the same name as the requesting node");
}

function admitCSINode(node: string, a: AdmissionAttributes): void {
  const name = a.operation === "CREATE" ? (a.object?.metadata?.name ?? "") : a.name;
  if (name !== node) throw admissionForbidden(a, "can only access CSINode with the same name as the requesting node");
}
