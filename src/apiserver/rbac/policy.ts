// The bootstrap policy: the roles and bindings every cluster starts with, as kube-apiserver
// creates them (upstream's plugin/pkg/auth/authorizer/rbac/bootstrappolicy; its testdata
// fixtures are the reference for the data below). Every object is labelled
// kubernetes.io/bootstrapping=rbac-defaults and annotated
// rbac.authorization.kubernetes.io/autoupdate=true, so that each start adds back what is missing
// (reconcile.ts) unless someone set the annotation to "false".
//
// Left out: the roles of controllers for APIs k8ts does not serve (dynamic resource allocation's
// resource-claim-controller and device-taint-eviction-controller). system:coredns is the DNS
// add-on's own (src/dns/addon.ts).
import type { AggregationRule, ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, Subject } from "kubernetes-types/rbac/v1.js";
import { CLUSTER_INFO_NAME, CLUSTER_INFO_NAMESPACE, DEFAULT_NODE_TOKEN_GROUP } from "../../api/bootstraptoken.js";
import { NODES_GROUP } from "../../api/nodeidentity.js";

export const AUTOUPDATE_ANNOTATION = "rbac.authorization.kubernetes.io/autoupdate";
export const BOOTSTRAPPING_LABEL = "kubernetes.io/bootstrapping";
const RBAC_API_GROUP = "rbac.authorization.k8s.io";
const RBAC_API_VERSION = `${RBAC_API_GROUP}/v1`;

export interface BootstrapPolicy {
  readonly clusterRoles: readonly ClusterRole[];
  readonly clusterRoleBindings: readonly ClusterRoleBinding[];
  /** Roles in kube-system and kube-public. */
  readonly roles: readonly Role[];
  readonly roleBindings: readonly RoleBinding[];
}

// ---- building blocks ------------------------------------------------------------------------

const CORE = "";
const READ = ["get", "list", "watch"];
const READ_WRITE = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
const WRITE = ["create", "delete", "deletecollection", "patch", "update"];
const AGGREGATE_TO = (role: "admin" | "edit" | "view"): Record<string, string> => ({ [`rbac.authorization.k8s.io/aggregate-to-${role}`]: "true" });

const rule = (verbs: readonly string[], apiGroups: readonly string[], resources: readonly string[], resourceNames?: readonly string[]): PolicyRule => ({
  apiGroups: [...apiGroups],
  resources: [...resources],
  ...(resourceNames ? { resourceNames: [...resourceNames] } : {}),
  verbs: [...verbs],
});

const urls = (verbs: readonly string[], nonResourceURLs: readonly string[]): PolicyRule => ({ nonResourceURLs: [...nonResourceURLs], verbs: [...verbs] });

/** Recording events, in both the core and the events.k8s.io group: nearly every controller does it. */
const EVENTS = rule(["create", "patch", "update"], [CORE, "events.k8s.io"], ["events"]);

function meta(name: string, labels: Record<string, string> = {}, namespace?: string) {
  return {
    name,
    ...(namespace ? { namespace } : {}),
    labels: { [BOOTSTRAPPING_LABEL]: "rbac-defaults", ...labels },
    annotations: { [AUTOUPDATE_ANNOTATION]: "true" },
  };
}

function clusterRole(name: string, rules: readonly PolicyRule[], o: { readonly labels?: Record<string, string>; readonly aggregationRule?: AggregationRule } = {}): ClusterRole {
  return {
    apiVersion: RBAC_API_VERSION,
    kind: "ClusterRole",
    metadata: meta(name, o.labels),
    ...(o.aggregationRule ? { aggregationRule: o.aggregationRule } : { rules: [...rules] }),
  };
}

/** A role whose rules the clusterrole-aggregation controller fills from the roles its selector picks. */
const aggregated = (name: string, from: "admin" | "edit" | "view", labels?: Record<string, string>): ClusterRole =>
  clusterRole(name, [], { ...(labels ? { labels } : {}), aggregationRule: { clusterRoleSelectors: [{ matchLabels: AGGREGATE_TO(from) }] } });

const group = (name: string): Subject => ({ apiGroup: RBAC_API_GROUP, kind: "Group", name });
const user = (name: string): Subject => ({ apiGroup: RBAC_API_GROUP, kind: "User", name });
const serviceAccount = (name: string, namespace = "kube-system"): Subject => ({ kind: "ServiceAccount", name, namespace });

function clusterRoleBinding(name: string, subjects: readonly Subject[], role = name): ClusterRoleBinding {
  return {
    apiVersion: RBAC_API_VERSION,
    kind: "ClusterRoleBinding",
    metadata: meta(name),
    roleRef: { apiGroup: RBAC_API_GROUP, kind: "ClusterRole", name: role },
    ...(subjects.length > 0 ? { subjects: [...subjects] } : {}),
  };
}

const role = (namespace: string, name: string, rules: readonly PolicyRule[]): Role => ({ apiVersion: RBAC_API_VERSION, kind: "Role", metadata: meta(name, {}, namespace), rules: [...rules] });

const roleBinding = (namespace: string, name: string, roleName: string, subjects: readonly Subject[]): RoleBinding => ({
  apiVersion: RBAC_API_VERSION,
  kind: "RoleBinding",
  metadata: meta(name, {}, namespace),
  roleRef: { apiGroup: RBAC_API_GROUP, kind: "Role", name: roleName },
  subjects: [...subjects],
});

// ---- cluster roles --------------------------------------------------------------------------

function userFacingRoles(): ClusterRole[] {
  return [
    aggregated("admin", "admin"),
    clusterRole("cluster-admin", [rule(["*"], ["*"], ["*"]), urls(["*"], ["*"])]),
    aggregated("edit", "edit", AGGREGATE_TO("admin")),
    clusterRole(
      "system:aggregate-to-admin",
      [rule(["create"], ["authorization.k8s.io"], ["localsubjectaccessreviews"]), rule(READ_WRITE, [RBAC_API_GROUP], ["rolebindings", "roles"])],
      { labels: AGGREGATE_TO("admin") },
    ),
    clusterRole(
      "system:aggregate-to-edit",
      [
        rule(READ, [CORE], ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"]),
        rule(["impersonate"], [CORE], ["serviceaccounts"]),
        rule(WRITE, [CORE], ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"]),
        rule(["create"], [CORE], ["pods/eviction"]),
        rule(WRITE, [CORE], ["configmaps", "events", "persistentvolumeclaims", "replicationcontrollers", "replicationcontrollers/scale", "secrets", "serviceaccounts", "services", "services/proxy"]),
        rule(["create"], [CORE], ["serviceaccounts/token"]),
        rule(WRITE, ["apps"], ["daemonsets", "deployments", "deployments/rollback", "deployments/scale", "replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale"]),
        rule(WRITE, ["autoscaling"], ["horizontalpodautoscalers"]),
        rule(WRITE, ["batch"], ["cronjobs", "jobs"]),
        rule(WRITE, ["extensions"], ["daemonsets", "deployments", "deployments/rollback", "deployments/scale", "ingresses", "networkpolicies", "replicasets", "replicasets/scale", "replicationcontrollers/scale"]),
        rule(WRITE, ["policy"], ["poddisruptionbudgets"]),
        rule(WRITE, ["networking.k8s.io"], ["ingresses", "networkpolicies"]),
        rule(READ_WRITE, ["coordination.k8s.io"], ["leases"]),
      ],
      { labels: AGGREGATE_TO("edit") },
    ),
    clusterRole(
      "system:aggregate-to-view",
      [
        rule(READ, [CORE], ["configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/status"]),
        rule(READ, [CORE], ["bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status", "replicationcontrollers/status", "resourcequotas", "resourcequotas/status"]),
        rule(READ, [CORE], ["namespaces"]),
        rule(READ, ["discovery.k8s.io"], ["endpointslices"]),
        rule(READ, ["apps"], ["controllerrevisions", "daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status", "replicasets", "replicasets/scale", "replicasets/status", "statefulsets", "statefulsets/scale", "statefulsets/status"]),
        rule(READ, ["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
        rule(READ, ["batch"], ["cronjobs", "cronjobs/status", "jobs", "jobs/status"]),
        rule(READ, ["extensions"], ["daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status", "ingresses", "ingresses/status", "networkpolicies", "replicasets", "replicasets/scale", "replicasets/status", "replicationcontrollers/scale"]),
        rule(READ, ["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
        rule(READ, ["networking.k8s.io"], ["ingresses", "ingresses/status", "networkpolicies"]),
      ],
      { labels: AGGREGATE_TO("view") },
    ),
    aggregated("view", "view", AGGREGATE_TO("edit")),
  ];
}

const approver = (name: string, signer: string): ClusterRole => clusterRole(name, [rule(["approve"], ["certificates.k8s.io"], ["signers"], [signer])]);

function systemRoles(): ClusterRole[] {
  const reviews = [rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]), rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"])];
  const leader = (name: string): PolicyRule[] => [rule(["create"], ["coordination.k8s.io"], ["leases"]), rule(["get", "update"], ["coordination.k8s.io"], ["leases"], [name])];
  return [
    clusterRole("system:auth-delegator", reviews),
    clusterRole("system:basic-user", [rule(["create"], ["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]), rule(["create"], ["authentication.k8s.io"], ["selfsubjectreviews"])]),
    clusterRole("system:certificates.k8s.io:certificatesigningrequests:nodeclient", [rule(["create"], ["certificates.k8s.io"], ["certificatesigningrequests/nodeclient"])]),
    clusterRole("system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", [rule(["create"], ["certificates.k8s.io"], ["certificatesigningrequests/selfnodeclient"])]),
    approver("system:certificates.k8s.io:kube-apiserver-client-approver", "kubernetes.io/kube-apiserver-client"),
    approver("system:certificates.k8s.io:kube-apiserver-client-kubelet-approver", "kubernetes.io/kube-apiserver-client-kubelet"),
    approver("system:certificates.k8s.io:kubelet-serving-approver", "kubernetes.io/kubelet-serving"),
    approver("system:certificates.k8s.io:legacy-unknown-approver", "kubernetes.io/legacy-unknown"),
    clusterRole("system:discovery", [urls(["get"], ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"])]),
    clusterRole("system:heapster", [rule(READ, [CORE], ["events", "namespaces", "nodes", "pods"]), rule(READ, ["extensions"], ["deployments"])]),
    clusterRole("system:kube-aggregator", [rule(READ, [CORE], ["endpoints", "services"])]),
    clusterRole("system:kube-controller-manager", [
      EVENTS,
      ...leader("kube-controller-manager"),
      rule(["create"], [CORE], ["secrets", "serviceaccounts"]),
      rule(["delete"], [CORE], ["secrets"]),
      rule(["get"], [CORE], ["configmaps", "namespaces", "secrets", "serviceaccounts"]),
      rule(["update"], [CORE], ["secrets", "serviceaccounts"]),
      ...reviews,
      rule(["list", "watch"], ["*"], ["*"]),
      rule(["create"], [CORE], ["serviceaccounts/token"]),
    ]),
    clusterRole("system:kube-dns", [rule(["list", "watch"], [CORE], ["endpoints", "services"])]),
    clusterRole("system:kube-scheduler", [
      EVENTS,
      ...leader("kube-scheduler"),
      rule(READ, [CORE], ["nodes"]),
      rule(["delete", "get", "list", "watch"], [CORE], ["pods"]),
      rule(["create"], [CORE], ["bindings", "pods/binding"]),
      rule(["patch", "update"], [CORE], ["pods/status"]),
      rule(READ, [CORE], ["replicationcontrollers", "services"]),
      rule(READ, ["apps", "extensions"], ["replicasets"]),
      rule(READ, ["apps"], ["statefulsets"]),
      rule(READ, ["policy"], ["poddisruptionbudgets"]),
      rule(READ, [CORE], ["persistentvolumeclaims", "persistentvolumes"]),
      ...reviews,
      rule(READ, ["storage.k8s.io"], ["csinodes"]),
      rule(READ, [CORE], ["namespaces"]),
      rule(READ, ["storage.k8s.io"], ["csidrivers"]),
      rule(READ, ["storage.k8s.io"], ["csistoragecapacities"]),
    ]),
    clusterRole("system:kubelet-api-admin", [rule(READ, [CORE], ["nodes"]), rule(["proxy"], [CORE], ["nodes"]), rule(["*"], [CORE], ["nodes/log", "nodes/metrics", "nodes/proxy", "nodes/stats"])]),
    clusterRole("system:monitoring", [urls(["get"], ["/healthz", "/healthz/*", "/livez", "/livez/*", "/metrics", "/metrics/slis", "/readyz", "/readyz/*"])]),
    clusterRole("system:node", [
      rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
      rule(["create"], ["authorization.k8s.io"], ["localsubjectaccessreviews", "subjectaccessreviews"]),
      rule(READ, [CORE], ["services"]),
      rule(["create", "get", "list", "watch"], [CORE], ["nodes"]),
      rule(["patch", "update"], [CORE], ["nodes/status"]),
      rule(["patch", "update"], [CORE], ["nodes"]),
      rule(["create", "patch", "update"], [CORE], ["events"]),
      rule(READ, [CORE], ["pods"]),
      rule(["create", "delete"], [CORE], ["pods"]),
      rule(["patch", "update"], [CORE], ["pods/status"]),
      rule(["create"], [CORE], ["pods/eviction"]),
      rule(READ, [CORE], ["configmaps", "secrets"]),
      rule(["get"], [CORE], ["persistentvolumeclaims", "persistentvolumes"]),
      rule(["get"], [CORE], ["endpoints"]),
      rule(["create", "get", "list", "watch"], ["certificates.k8s.io"], ["certificatesigningrequests"]),
      rule(["create", "delete", "get", "patch", "update"], ["coordination.k8s.io"], ["leases"]),
      rule(["get"], ["storage.k8s.io"], ["volumeattachments"]),
      rule(["create"], [CORE], ["serviceaccounts/token"]),
      rule(["get", "patch", "update"], [CORE], ["persistentvolumeclaims/status"]),
      rule(READ, ["storage.k8s.io"], ["csidrivers"]),
      rule(["create", "delete", "get", "patch", "update"], ["storage.k8s.io"], ["csinodes"]),
      rule(READ, ["node.k8s.io"], ["runtimeclasses"]),
    ]),
    clusterRole("system:node-bootstrapper", [rule(["create", "get", "list", "watch"], ["certificates.k8s.io"], ["certificatesigningrequests"])]),
    clusterRole("system:node-problem-detector", [rule(["get"], [CORE], ["nodes"]), rule(["patch"], [CORE], ["nodes/status"]), EVENTS]),
    clusterRole("system:node-proxier", [rule(["list", "watch"], [CORE], ["endpoints", "services"]), rule(READ, [CORE], ["nodes"]), EVENTS, rule(["list", "watch"], ["discovery.k8s.io"], ["endpointslices"])]),
    clusterRole("system:persistent-volume-provisioner", [
      rule(["create", "delete", "get", "list", "watch"], [CORE], ["persistentvolumes"]),
      rule(["get", "list", "update", "watch"], [CORE], ["persistentvolumeclaims"]),
      rule(READ, ["storage.k8s.io"], ["storageclasses"]),
      rule(["watch"], [CORE], ["events"]),
      EVENTS,
    ]),
    clusterRole("system:public-info-viewer", [urls(["get"], ["/healthz", "/livez", "/readyz", "/version", "/version/"])]),
    clusterRole("system:service-account-issuer-discovery", [urls(["get"], ["/.well-known/openid-configuration", "/openid/v1/jwks"])]),
    clusterRole("system:volume-scheduler", [
      rule(["get", "list", "patch", "update", "watch"], [CORE], ["persistentvolumes"]),
      rule(READ, ["storage.k8s.io"], ["storageclasses"]),
      rule(["get", "list", "patch", "update", "watch"], [CORE], ["persistentvolumeclaims"]),
    ]),
  ];
}

/**
 * The roles of kube-controller-manager's controllers, each bound to the ServiceAccount of the
 * same name in kube-system (the controller-manager runs each controller with its own account
 * when --use-service-account-credentials is set). Keyed by controller name.
 */
function controllerRoles(): ReadonlyArray<readonly [string, readonly PolicyRule[]]> {
  const scaleRead = rule(["get"], ["*"], ["*/scale"]);
  return [
    [
      "attachdetach-controller",
      [
        rule(["list", "watch"], [CORE], ["persistentvolumeclaims", "persistentvolumes"]),
        rule(READ, [CORE], ["nodes"]),
        rule(["patch", "update"], [CORE], ["nodes/status"]),
        rule(["list", "watch"], [CORE], ["pods"]),
        EVENTS,
        rule(["create", "delete", "get", "list", "watch"], ["storage.k8s.io"], ["volumeattachments"]),
        rule(READ, ["storage.k8s.io"], ["csidrivers"]),
        rule(READ, ["storage.k8s.io"], ["csinodes"]),
      ],
    ],
    [
      "certificate-controller",
      [
        rule(["delete", "get", "list", "watch"], ["certificates.k8s.io"], ["certificatesigningrequests"]),
        rule(["update"], ["certificates.k8s.io"], ["certificatesigningrequests/approval", "certificatesigningrequests/status"]),
        rule(["approve"], ["certificates.k8s.io"], ["signers"], ["kubernetes.io/kube-apiserver-client-kubelet"]),
        rule(["sign"], ["certificates.k8s.io"], ["signers"], ["kubernetes.io/kube-apiserver-client", "kubernetes.io/kube-apiserver-client-kubelet", "kubernetes.io/kubelet-serving", "kubernetes.io/legacy-unknown"]),
        rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"]),
        EVENTS,
      ],
    ],
    ["clusterrole-aggregation-controller", [rule(["escalate", "get", "list", "patch", "update", "watch"], [RBAC_API_GROUP], ["clusterroles"])]],
    [
      "cronjob-controller",
      [
        rule(["get", "list", "update", "watch"], ["batch"], ["cronjobs"]),
        rule(["create", "delete", "get", "list", "patch", "update", "watch"], ["batch"], ["jobs"]),
        rule(["update"], ["batch"], ["cronjobs/status"]),
        rule(["update"], ["batch"], ["cronjobs/finalizers"]),
        rule(["delete", "list", "watch"], [CORE], ["pods"]),
        EVENTS,
      ],
    ],
    [
      "daemon-set-controller",
      [
        rule(READ, ["apps", "extensions"], ["daemonsets"]),
        rule(["update"], ["apps", "extensions"], ["daemonsets/status"]),
        rule(["update"], ["apps", "extensions"], ["daemonsets/finalizers"]),
        rule(["list", "watch"], [CORE], ["nodes"]),
        rule(["create", "delete", "list", "patch", "watch"], [CORE], ["pods"]),
        rule(["create"], [CORE], ["pods/binding"]),
        rule(["create", "delete", "get", "list", "patch", "update", "watch"], ["apps"], ["controllerrevisions"]),
        EVENTS,
      ],
    ],
    [
      "deployment-controller",
      [
        rule(["get", "list", "update", "watch"], ["apps", "extensions"], ["deployments"]),
        // k8ts's own: its deployment controller writes the revision annotation with a merge patch
        // (resourceVersion as precondition) where upstream's sends it with the status.
        rule(["patch"], ["apps"], ["deployments"]),
        rule(["update"], ["apps", "extensions"], ["deployments/status"]),
        rule(["update"], ["apps", "extensions"], ["deployments/finalizers"]),
        rule(["create", "delete", "get", "list", "patch", "update", "watch"], ["apps", "extensions"], ["replicasets"]),
        rule(["get", "list", "update", "watch"], [CORE], ["pods"]),
        EVENTS,
      ],
    ],
    [
      "disruption-controller",
      [
        rule(READ, ["apps", "extensions"], ["deployments"]),
        rule(READ, ["apps", "extensions"], ["replicasets"]),
        rule(READ, [CORE], ["replicationcontrollers"]),
        rule(READ, ["policy"], ["poddisruptionbudgets"]),
        rule(READ, ["apps"], ["statefulsets"]),
        rule(["update"], ["policy"], ["poddisruptionbudgets/status"]),
        rule(["patch", "update"], [CORE], ["pods/status"]),
        scaleRead,
        EVENTS,
      ],
    ],
    [
      "endpoint-controller",
      [
        rule(READ, [CORE], ["pods", "services"]),
        rule(["create", "delete", "get", "list", "update", "watch"], [CORE], ["endpoints"]),
        rule(["create"], [CORE], ["endpoints/restricted"]),
        EVENTS,
      ],
    ],
    [
      "endpointslice-controller",
      [
        rule(READ, [CORE], ["nodes", "pods", "services"]),
        rule(["update"], [CORE], ["services/finalizers"]),
        rule(["create", "delete", "get", "list", "update", "watch"], ["discovery.k8s.io"], ["endpointslices"]),
        EVENTS,
      ],
    ],
    [
      "endpointslicemirroring-controller",
      [
        rule(READ, [CORE], ["endpoints", "services"]),
        rule(["update"], [CORE], ["services/finalizers"]),
        rule(["update"], [CORE], ["endpoints/finalizers"]),
        rule(["create", "delete", "get", "list", "update", "watch"], ["discovery.k8s.io"], ["endpointslices"]),
        EVENTS,
      ],
    ],
    [
      "ephemeral-volume-controller",
      [rule(READ, [CORE], ["pods"]), rule(["update"], [CORE], ["pods/finalizers"]), rule(["create", "get", "list", "watch"], [CORE], ["persistentvolumeclaims"]), EVENTS],
    ],
    [
      "expand-controller",
      [
        rule(["get", "list", "patch", "update", "watch"], [CORE], ["persistentvolumes"]),
        rule(["patch", "update"], [CORE], ["persistentvolumeclaims/status"]),
        rule(READ, [CORE], ["persistentvolumeclaims"]),
        EVENTS,
      ],
    ],
    ["generic-garbage-collector", [rule(["delete", "get", "list", "patch", "update", "watch"], ["*"], ["*"]), EVENTS]],
    [
      "horizontal-pod-autoscaler",
      [
        rule(READ, ["autoscaling"], ["horizontalpodautoscalers"]),
        rule(["update"], ["autoscaling"], ["horizontalpodautoscalers/status"]),
        rule(["get", "update"], ["*"], ["*/scale"]),
        rule(["list", "watch"], [CORE], ["pods"]),
        rule(["list", "watch"], ["metrics.k8s.io"], ["pods"]),
        rule(READ, ["custom.metrics.k8s.io"], ["*"]),
        rule(READ, ["external.metrics.k8s.io"], ["*"]),
        EVENTS,
      ],
    ],
    [
      "job-controller",
      [
        rule(["get", "list", "patch", "update", "watch"], ["batch"], ["jobs"]),
        rule(["update"], ["batch"], ["jobs/status"]),
        rule(["update"], ["batch"], ["jobs/finalizers"]),
        rule(["create", "delete", "list", "patch", "watch"], [CORE], ["pods"]),
        EVENTS,
      ],
    ],
    [
      "legacy-service-account-token-cleaner",
      [rule(["get"], [CORE], ["configmaps"], ["kube-apiserver-legacy-service-account-token-tracking"]), rule(["delete", "patch"], [CORE], ["secrets"])],
    ],
    [
      "namespace-controller",
      [
        rule(["delete", "get", "list", "watch"], [CORE], ["namespaces"]),
        rule(["update"], [CORE], ["namespaces/finalize", "namespaces/status"]),
        rule(["delete", "deletecollection", "get", "list", "watch"], ["*"], ["*"]),
      ],
    ],
    [
      "node-controller",
      [
        rule(["delete", "get", "list", "patch", "update", "watch"], [CORE], ["nodes"]),
        rule(["patch", "update"], [CORE], ["nodes/status"]),
        rule(["patch", "update"], [CORE], ["pods/status"]),
        rule(["delete", "get", "list", "watch"], [CORE], ["pods"]),
        EVENTS,
      ],
    ],
    [
      "persistent-volume-binder",
      [
        rule(["create", "delete", "get", "list", "update", "watch"], [CORE], ["persistentvolumes"]),
        rule(["update"], [CORE], ["persistentvolumes/status"]),
        rule(["get", "list", "update", "watch"], [CORE], ["persistentvolumeclaims"]),
        rule(["update"], [CORE], ["persistentvolumeclaims/status"]),
        rule(["create", "delete", "get", "list", "watch"], [CORE], ["pods"]),
        rule(READ, ["storage.k8s.io"], ["storageclasses"]),
        rule(["list", "watch"], [CORE], ["nodes"]),
        EVENTS,
        rule(["watch"], [CORE], ["events"]),
      ],
    ],
    ["pod-garbage-collector", [rule(["delete", "list", "watch"], [CORE], ["pods"]), rule(READ, [CORE], ["nodes"]), rule(["patch"], [CORE], ["pods/status"])]],
    ["pv-protection-controller", [rule(["get", "list", "update", "watch"], [CORE], ["persistentvolumes"]), EVENTS]],
    [
      "pvc-protection-controller",
      [rule(["get", "list", "update", "watch"], [CORE], ["persistentvolumeclaims"]), rule(["update"], [CORE], ["persistentvolumeclaims/status"]), rule(READ, [CORE], ["pods"]), EVENTS],
    ],
    [
      "replicaset-controller",
      [
        rule(["get", "list", "update", "watch"], ["apps", "extensions"], ["replicasets"]),
        rule(["update"], ["apps", "extensions"], ["replicasets/status"]),
        rule(["update"], ["apps", "extensions"], ["replicasets/finalizers"]),
        rule(["create", "delete", "list", "patch", "watch"], [CORE], ["pods"]),
        EVENTS,
      ],
    ],
    [
      "replication-controller",
      [
        rule(["get", "list", "update", "watch"], [CORE], ["replicationcontrollers"]),
        rule(["update"], [CORE], ["replicationcontrollers/status"]),
        rule(["update"], [CORE], ["replicationcontrollers/finalizers"]),
        rule(["create", "delete", "list", "patch", "watch"], [CORE], ["pods"]),
        EVENTS,
      ],
    ],
    ["resourcequota-controller", [rule(["list", "watch"], ["*"], ["*"]), rule(["update"], [CORE], ["resourcequotas/status"]), EVENTS]],
    ["root-ca-cert-publisher", [rule(["create", "update"], [CORE], ["configmaps"]), EVENTS]],
    ["route-controller", [rule(["list", "watch"], [CORE], ["nodes"]), rule(["patch"], [CORE], ["nodes/status"]), EVENTS]],
    [
      "selinux-warning-controller",
      [EVENTS, rule(READ, [CORE], ["persistentvolumes"]), rule(READ, [CORE], ["persistentvolumeclaims"]), rule(READ, [CORE], ["pods"]), rule(READ, ["storage.k8s.io"], ["csidrivers"])],
    ],
    ["service-account-controller", [rule(["create"], [CORE], ["serviceaccounts"]), EVENTS]],
    [
      "service-cidrs-controller",
      [
        rule(["get", "list", "patch", "update", "watch"], ["networking.k8s.io"], ["servicecidrs"]),
        rule(["patch", "update"], ["networking.k8s.io"], ["servicecidrs/finalizers"]),
        rule(["patch", "update"], ["networking.k8s.io"], ["servicecidrs/status"]),
        rule(READ, ["networking.k8s.io"], ["ipaddresses"]),
        EVENTS,
      ],
    ],
    ["service-controller", [rule(READ, [CORE], ["services"]), rule(["patch", "update"], [CORE], ["services/status"]), rule(["list", "watch"], [CORE], ["nodes"]), EVENTS]],
    [
      "statefulset-controller",
      [
        rule(["list", "watch"], [CORE], ["pods"]),
        rule(READ, ["apps"], ["statefulsets"]),
        rule(["update"], ["apps"], ["statefulsets/status"]),
        rule(["update"], ["apps"], ["statefulsets/finalizers"]),
        rule(["create", "delete", "get", "patch", "update"], [CORE], ["pods"]),
        rule(["create", "delete", "get", "list", "patch", "update", "watch"], ["apps"], ["controllerrevisions"]),
        rule(["create", "get", "list", "watch"], [CORE], ["persistentvolumeclaims"]),
        rule(["delete", "update"], [CORE], ["persistentvolumeclaims"]),
        rule(["update"], [CORE], ["pods/finalizers"]),
        EVENTS,
      ],
    ],
    ["ttl-after-finished-controller", [rule(["delete", "get", "list", "watch"], ["batch"], ["jobs"]), EVENTS]],
    ["ttl-controller", [rule(["list", "patch", "update", "watch"], [CORE], ["nodes"]), EVENTS]],
    [
      "validatingadmissionpolicy-status-controller",
      [rule(READ, ["admissionregistration.k8s.io"], ["validatingadmissionpolicies"]), rule(["get", "patch", "update"], ["admissionregistration.k8s.io"], ["validatingadmissionpolicies/status"]), EVENTS],
    ],
    [
      "volumeattributesclass-protection-controller",
      [rule(READ, [CORE], ["persistentvolumeclaims"]), rule(READ, [CORE], ["persistentvolumes"]), rule(["get", "list", "update", "watch"], ["storage.k8s.io"], ["volumeattributesclasses"]), EVENTS],
    ],
  ];
}

// ---- namespaced roles -----------------------------------------------------------------------

function namespacedRoles(): Role[] {
  const leaderLocking = [rule(["create", "get", "list", "update", "watch"], ["coordination.k8s.io"], ["leases"]), rule(["create", "get", "list", "update", "watch"], ["coordination.k8s.io"], ["leasecandidates"])];
  return [
    role("kube-public", "system:controller:bootstrap-signer", [rule(READ, [CORE], ["configmaps"]), rule(["update"], [CORE], ["configmaps"], ["cluster-info"]), EVENTS]),
    role("kube-system", "extension-apiserver-authentication-reader", [rule(READ, [CORE], ["configmaps"], ["extension-apiserver-authentication"])]),
    role("kube-system", "system::leader-locking-kube-controller-manager", leaderLocking),
    role("kube-system", "system::leader-locking-kube-scheduler", leaderLocking),
    role("kube-system", "system:controller:bootstrap-signer", [rule(READ, [CORE], ["secrets"])]),
    role("kube-system", "system:controller:cloud-provider", [rule(["create", "get", "list", "watch"], [CORE], ["configmaps"])]),
    role("kube-system", "system:controller:token-cleaner", [rule(["delete", "get", "list", "watch"], [CORE], ["secrets"]), EVENTS]),
  ];
}

function namespacedRoleBindings(): RoleBinding[] {
  return [
    roleBinding("kube-public", "system:controller:bootstrap-signer", "system:controller:bootstrap-signer", [serviceAccount("bootstrap-signer")]),
    roleBinding("kube-system", "system::extension-apiserver-authentication-reader", "extension-apiserver-authentication-reader", [user("system:kube-controller-manager"), user("system:kube-scheduler")]),
    roleBinding("kube-system", "system::leader-locking-kube-controller-manager", "system::leader-locking-kube-controller-manager", [
      user("system:kube-controller-manager"),
      serviceAccount("kube-controller-manager"),
      serviceAccount("leader-election-controller"),
    ]),
    roleBinding("kube-system", "system::leader-locking-kube-scheduler", "system::leader-locking-kube-scheduler", [user("system:kube-scheduler"), serviceAccount("kube-scheduler")]),
    roleBinding("kube-system", "system:controller:bootstrap-signer", "system:controller:bootstrap-signer", [serviceAccount("bootstrap-signer")]),
    roleBinding("kube-system", "system:controller:cloud-provider", "system:controller:cloud-provider", [serviceAccount("cloud-provider")]),
    roleBinding("kube-system", "system:controller:token-cleaner", "system:controller:token-cleaner", [serviceAccount("token-cleaner")]),
  ];
}

// ---- nodes joining with a token (what kubeadm adds at init; k8ts's own names), and what ------
// ---- k8ts's own components need beyond upstream's roles --------------------------------------

/**
 * A node joins with a bootstrap token (its user system:bootstrap:<id> in
 * DEFAULT_NODE_TOKEN_GROUP): it reads cluster-info anonymously, asks for a client certificate
 * (CSRs, auto-approved by the csrapproving controller for whoever may create
 * `certificatesigningrequests/nodeclient`), and then runs as system:node:<name> in system:nodes
 * under the Node authorizer. What the node's other parts read and write (kube-proxy, the network
 * policy controller, the local-path provisioner, which upstream would run under identities of
 * their own) is granted to the system:nodes group.
 */
function nodeJoiningPolicy(): { clusterRoles: ClusterRole[]; clusterRoleBindings: ClusterRoleBinding[]; roles: Role[]; roleBindings: RoleBinding[] } {
  const tokenGroup = group(DEFAULT_NODE_TOKEN_GROUP);
  const nodes = group(NODES_GROUP);
  return {
    clusterRoles: [
      clusterRole("k8ts:get-nodes", [rule(["get"], [CORE], ["nodes"])]),
      // k8ts's scheduler also reads PriorityClasses (upstream's takes pods' priorities as admission set them).
      clusterRole("k8ts:kube-scheduler", [rule(READ, ["scheduling.k8s.io"], ["priorityclasses"])]),
      clusterRole("k8ts:node-agent", [
        rule(["list", "watch"], [CORE], ["pods", "namespaces"]),
        rule(["list", "watch"], ["networking.k8s.io"], ["networkpolicies"]),
        rule(["create"], ["storage.k8s.io"], ["storageclasses"]),
      ]),
    ],
    clusterRoleBindings: [
      clusterRoleBinding("k8ts:kubelet-bootstrap", [tokenGroup], "system:node-bootstrapper"),
      clusterRoleBinding("k8ts:node-autoapprove-bootstrap", [tokenGroup], "system:certificates.k8s.io:certificatesigningrequests:nodeclient"),
      clusterRoleBinding("k8ts:node-autoapprove-certificate-rotation", [nodes], "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient"),
      clusterRoleBinding("k8ts:get-nodes", [tokenGroup]),
      clusterRoleBinding("k8ts:kube-scheduler", [user("system:kube-scheduler")]),
      clusterRoleBinding("k8ts:node-agent", [nodes]),
      clusterRoleBinding("k8ts:node-proxier", [nodes], "system:node-proxier"),
      clusterRoleBinding("k8ts:local-path-provisioner", [nodes], "system:persistent-volume-provisioner"),
    ],
    roles: [role(CLUSTER_INFO_NAMESPACE, "k8ts:bootstrap-signer-clusterinfo", [rule(["get"], [CORE], ["configmaps"], [CLUSTER_INFO_NAME])])],
    roleBindings: [roleBinding(CLUSTER_INFO_NAMESPACE, "k8ts:bootstrap-signer-clusterinfo", "k8ts:bootstrap-signer-clusterinfo", [user("system:anonymous")])],
  };
}

// ---- the whole policy -----------------------------------------------------------------------

const CONTROLLER_PREFIX = "system:controller:";

/** The policy, as new objects each call (callers may change them; the rules above share parts). */
export function bootstrapPolicy(): BootstrapPolicy {
  const controllers = controllerRoles();
  const joining = nodeJoiningPolicy();
  return structuredClone({
    clusterRoles: [...userFacingRoles(), ...systemRoles(), ...controllers.map(([name, rules]) => clusterRole(CONTROLLER_PREFIX + name, rules)), ...joining.clusterRoles],
    clusterRoleBindings: [
      clusterRoleBinding("cluster-admin", [group("system:masters")]),
      clusterRoleBinding("system:basic-user", [group("system:authenticated")]),
      clusterRoleBinding("system:discovery", [group("system:authenticated")]),
      clusterRoleBinding("system:kube-controller-manager", [user("system:kube-controller-manager")]),
      clusterRoleBinding("system:kube-dns", [serviceAccount("kube-dns")]),
      clusterRoleBinding("system:kube-scheduler", [user("system:kube-scheduler")]),
      clusterRoleBinding("system:monitoring", [group("system:monitoring")]),
      // Bound to nobody, as upstream since 1.8: kubelets get their access from the Node
      // authorizer, not from the system:nodes group.
      clusterRoleBinding("system:node", []),
      clusterRoleBinding("system:node-proxier", [user("system:kube-proxy")]),
      clusterRoleBinding("system:public-info-viewer", [group("system:authenticated"), group("system:unauthenticated")]),
      clusterRoleBinding("system:service-account-issuer-discovery", [group("system:serviceaccounts")]),
      clusterRoleBinding("system:volume-scheduler", [user("system:kube-scheduler")]),
      ...controllers.map(([name]) => clusterRoleBinding(CONTROLLER_PREFIX + name, [serviceAccount(name)])),
      ...joining.clusterRoleBindings,
    ],
    roles: [...namespacedRoles(), ...joining.roles],
    roleBindings: [...namespacedRoleBindings(), ...joining.roleBindings],
  });
}
