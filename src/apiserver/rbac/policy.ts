// The bootstrap policy: the roles and bindings every cluster starts with (upstream's
// plugin/pkg/auth/authorizer/rbac/bootstrappolicy), labelled kubernetes.io/bootstrapping=rbac-defaults
// and annotated rbac.authorization.kubernetes.io/autoupdate=true.
import type { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from "kubernetes-types/rbac/v1.js";

export const AUTOUPDATE_ANNOTATION = "rbac.authorization.kubernetes.io/autoupdate";
export const BOOTSTRAPPING_LABEL = "kubernetes.io/bootstrapping";

export interface BootstrapPolicy {
  readonly clusterRoles: readonly ClusterRole[];
  readonly clusterRoleBindings: readonly ClusterRoleBinding[];
  /** Roles in kube-system and kube-public. */
  readonly roles: readonly Role[];
  readonly roleBindings: readonly RoleBinding[];
}

const meta = (name: string, labels: Record<string, string> = {}) => ({
  name,
  labels: { [BOOTSTRAPPING_LABEL]: "rbac-defaults", ...labels },
  annotations: { [AUTOUPDATE_ANNOTATION]: "true" },
});

const clusterRole = (name: string, rules: ClusterRole["rules"]): ClusterRole => ({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: meta(name), rules });

const groupBinding = (name: string, role: string, groups: readonly string[]): ClusterRoleBinding => ({
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "ClusterRoleBinding",
  metadata: meta(name),
  roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
  subjects: groups.map((g) => ({ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: g })),
});

export function bootstrapPolicy(): BootstrapPolicy {
  return {
    clusterRoles: [
      clusterRole("cluster-admin", [
        { apiGroups: ["*"], resources: ["*"], verbs: ["*"] },
        { nonResourceURLs: ["*"], verbs: ["*"] },
      ]),
      clusterRole("system:discovery", [{ nonResourceURLs: ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"], verbs: ["get"] }]),
      clusterRole("system:basic-user", [
        { apiGroups: ["authorization.k8s.io"], resources: ["selfsubjectaccessreviews", "selfsubjectrulesreviews"], verbs: ["create"] },
        { apiGroups: ["authentication.k8s.io"], resources: ["selfsubjectreviews"], verbs: ["create"] },
      ]),
      clusterRole("system:public-info-viewer", [{ nonResourceURLs: ["/healthz", "/livez", "/readyz", "/version", "/version/"], verbs: ["get"] }]),
    ],
    clusterRoleBindings: [
      groupBinding("cluster-admin", "cluster-admin", ["system:masters"]),
      groupBinding("system:discovery", "system:discovery", ["system:authenticated"]),
      groupBinding("system:basic-user", "system:basic-user", ["system:authenticated"]),
      groupBinding("system:public-info-viewer", "system:public-info-viewer", ["system:authenticated", "system:unauthenticated"]),
    ],
    roles: [],
    roleBindings: [],
  };
}
