// Where each built-in kind lives on the wire: group, version, plural, scope. This is the
// client's static RESTMapper for the kinds k8ts components use; anything else (CRDs) is named
// explicitly with `client.resource(group, version, plural, { namespaced, kind })`.
import type * as admissionregistrationv1 from "kubernetes-types/admissionregistration/v1.js";
import type * as apiextensionsv1 from "kubernetes-types/apiextensions/v1.js";
import type * as appsv1 from "kubernetes-types/apps/v1.js";
import type * as autoscalingv1 from "kubernetes-types/autoscaling/v1.js";
import type * as autoscalingv2 from "kubernetes-types/autoscaling/v2.js";
import type * as batchv1 from "kubernetes-types/batch/v1.js";
import type * as certificatesv1 from "kubernetes-types/certificates/v1.js";
import type * as coordinationv1 from "kubernetes-types/coordination/v1.js";
import type * as corev1 from "kubernetes-types/core/v1.js";
import type * as discoveryv1 from "kubernetes-types/discovery/v1.js";
import type * as eventsv1 from "kubernetes-types/events/v1.js";
import type * as networkingv1 from "kubernetes-types/networking/v1.js";
import type * as nodev1 from "kubernetes-types/node/v1.js";
import type * as policyv1 from "kubernetes-types/policy/v1.js";
import type * as rbacv1 from "kubernetes-types/rbac/v1.js";
import type * as schedulingv1 from "kubernetes-types/scheduling/v1.js";
import type * as storagev1 from "kubernetes-types/storage/v1.js";
import type { KubeObject } from "./objects.js";

export interface ResourceInfo {
  /** "" for the core group. */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

/** The TypeScript type of each built-in kind, by apiVersion then kind. */
export interface BuiltinKinds {
  v1: {
    Binding: corev1.Binding;
    ConfigMap: corev1.ConfigMap;
    Endpoints: corev1.Endpoints;
    Event: corev1.Event;
    LimitRange: corev1.LimitRange;
    Namespace: corev1.Namespace;
    Node: corev1.Node;
    PersistentVolume: corev1.PersistentVolume;
    PersistentVolumeClaim: corev1.PersistentVolumeClaim;
    Pod: corev1.Pod;
    PodTemplate: corev1.PodTemplate;
    ReplicationController: corev1.ReplicationController;
    ResourceQuota: corev1.ResourceQuota;
    Secret: corev1.Secret;
    Service: corev1.Service;
    ServiceAccount: corev1.ServiceAccount;
  };
  "apps/v1": {
    ControllerRevision: appsv1.ControllerRevision;
    DaemonSet: appsv1.DaemonSet;
    Deployment: appsv1.Deployment;
    ReplicaSet: appsv1.ReplicaSet;
    StatefulSet: appsv1.StatefulSet;
  };
  "autoscaling/v1": { HorizontalPodAutoscaler: autoscalingv1.HorizontalPodAutoscaler };
  "autoscaling/v2": { HorizontalPodAutoscaler: autoscalingv2.HorizontalPodAutoscaler };
  "batch/v1": { CronJob: batchv1.CronJob; Job: batchv1.Job };
  "coordination.k8s.io/v1": { Lease: coordinationv1.Lease };
  "discovery.k8s.io/v1": { EndpointSlice: discoveryv1.EndpointSlice };
  "events.k8s.io/v1": { Event: eventsv1.Event };
  "networking.k8s.io/v1": { Ingress: networkingv1.Ingress; IngressClass: networkingv1.IngressClass; NetworkPolicy: networkingv1.NetworkPolicy };
  "node.k8s.io/v1": { RuntimeClass: nodev1.RuntimeClass };
  "policy/v1": { PodDisruptionBudget: policyv1.PodDisruptionBudget };
  "rbac.authorization.k8s.io/v1": { ClusterRole: rbacv1.ClusterRole; ClusterRoleBinding: rbacv1.ClusterRoleBinding; Role: rbacv1.Role; RoleBinding: rbacv1.RoleBinding };
  "scheduling.k8s.io/v1": { PriorityClass: schedulingv1.PriorityClass };
  "storage.k8s.io/v1": { CSIDriver: storagev1.CSIDriver; CSINode: storagev1.CSINode; StorageClass: storagev1.StorageClass; VolumeAttachment: storagev1.VolumeAttachment };
  "apiextensions.k8s.io/v1": { CustomResourceDefinition: apiextensionsv1.CustomResourceDefinition };
  "admissionregistration.k8s.io/v1": {
    MutatingWebhookConfiguration: admissionregistrationv1.MutatingWebhookConfiguration;
    ValidatingWebhookConfiguration: admissionregistrationv1.ValidatingWebhookConfiguration;
  };
  "certificates.k8s.io/v1": { CertificateSigningRequest: certificatesv1.CertificateSigningRequest };
}

/** The type of kind `K` in `AV`, or KubeObject for kinds the table does not know. */
export type KindType<AV extends string, K extends string> = AV extends keyof BuiltinKinds ? (K extends keyof BuiltinKinds[AV] ? BuiltinKinds[AV][K] : KubeObject) : KubeObject;

type Row = readonly [plural: string, kind: string, namespaced: boolean];

const table: Readonly<Record<string, readonly Row[]>> = {
  v1: [
    ["bindings", "Binding", true],
    ["componentstatuses", "ComponentStatus", false],
    ["configmaps", "ConfigMap", true],
    ["endpoints", "Endpoints", true],
    ["events", "Event", true],
    ["limitranges", "LimitRange", true],
    ["namespaces", "Namespace", false],
    ["nodes", "Node", false],
    ["persistentvolumeclaims", "PersistentVolumeClaim", true],
    ["persistentvolumes", "PersistentVolume", false],
    ["pods", "Pod", true],
    ["podtemplates", "PodTemplate", true],
    ["replicationcontrollers", "ReplicationController", true],
    ["resourcequotas", "ResourceQuota", true],
    ["secrets", "Secret", true],
    ["serviceaccounts", "ServiceAccount", true],
    ["services", "Service", true],
  ],
  "apps/v1": [
    ["controllerrevisions", "ControllerRevision", true],
    ["daemonsets", "DaemonSet", true],
    ["deployments", "Deployment", true],
    ["replicasets", "ReplicaSet", true],
    ["statefulsets", "StatefulSet", true],
  ],
  "autoscaling/v1": [["horizontalpodautoscalers", "HorizontalPodAutoscaler", true]],
  "autoscaling/v2": [["horizontalpodautoscalers", "HorizontalPodAutoscaler", true]],
  "batch/v1": [
    ["cronjobs", "CronJob", true],
    ["jobs", "Job", true],
  ],
  "coordination.k8s.io/v1": [["leases", "Lease", true]],
  "discovery.k8s.io/v1": [["endpointslices", "EndpointSlice", true]],
  "events.k8s.io/v1": [["events", "Event", true]],
  "networking.k8s.io/v1": [
    ["ingressclasses", "IngressClass", false],
    ["ingresses", "Ingress", true],
    ["networkpolicies", "NetworkPolicy", true],
  ],
  "node.k8s.io/v1": [["runtimeclasses", "RuntimeClass", false]],
  "policy/v1": [["poddisruptionbudgets", "PodDisruptionBudget", true]],
  "rbac.authorization.k8s.io/v1": [
    ["clusterrolebindings", "ClusterRoleBinding", false],
    ["clusterroles", "ClusterRole", false],
    ["rolebindings", "RoleBinding", true],
    ["roles", "Role", true],
  ],
  "scheduling.k8s.io/v1": [["priorityclasses", "PriorityClass", false]],
  "storage.k8s.io/v1": [
    ["csidrivers", "CSIDriver", false],
    ["csinodes", "CSINode", false],
    ["csistoragecapacities", "CSIStorageCapacity", true],
    ["storageclasses", "StorageClass", false],
    ["volumeattachments", "VolumeAttachment", false],
  ],
  "apiextensions.k8s.io/v1": [["customresourcedefinitions", "CustomResourceDefinition", false]],
  "admissionregistration.k8s.io/v1": [
    ["mutatingwebhookconfigurations", "MutatingWebhookConfiguration", false],
    ["validatingwebhookconfigurations", "ValidatingWebhookConfiguration", false],
  ],
  "apiregistration.k8s.io/v1": [["apiservices", "APIService", false]],
  "certificates.k8s.io/v1": [["certificatesigningrequests", "CertificateSigningRequest", false]],
  "authentication.k8s.io/v1": [["tokenreviews", "TokenReview", false]],
  "authorization.k8s.io/v1": [
    ["localsubjectaccessreviews", "LocalSubjectAccessReview", true],
    ["selfsubjectaccessreviews", "SelfSubjectAccessReview", false],
    ["selfsubjectrulesreviews", "SelfSubjectRulesReview", false],
    ["subjectaccessreviews", "SubjectAccessReview", false],
  ],
};

export function splitApiVersion(apiVersion: string): { readonly group: string; readonly version: string } {
  const i = apiVersion.indexOf("/");
  return i < 0 ? { group: "", version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

export function apiVersionOf(r: Pick<ResourceInfo, "group" | "version">): string {
  return r.group === "" ? r.version : `${r.group}/${r.version}`;
}

const byKind = new Map<string, ResourceInfo>();
const byResource = new Map<string, ResourceInfo>();
for (const [apiVersion, rows] of Object.entries(table)) {
  const { group, version } = splitApiVersion(apiVersion);
  for (const [plural, kind, namespaced] of rows) {
    const info: ResourceInfo = Object.freeze({ group, version, plural, kind, namespaced });
    byKind.set(`${apiVersion}|${kind}`, info);
    byResource.set(`${group}|${version}|${plural}`, info);
  }
}

export function builtinByKind(apiVersion: string, kind: string): ResourceInfo | undefined {
  return byKind.get(`${apiVersion}|${kind}`);
}

export function builtinByResource(group: string, version: string, plural: string): ResourceInfo | undefined {
  return byResource.get(`${group}|${version}|${plural}`);
}
