// The bootstrap policy as data: upstream's names, labels and annotations, bindings that name
// roles of the policy, and what the user-facing roles grant once aggregated.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ClusterRole, PolicyRule } from "kubernetes-types/rbac/v1.js";
import { AUTOUPDATE_ANNOTATION, BOOTSTRAPPING_LABEL, bootstrapPolicy } from "./policy.js";
import { ruleAllows, type RuleRequest } from "./rules.js";

const policy = bootstrapPolicy();
const clusterRole = (name: string): ClusterRole => {
  const r = policy.clusterRoles.find((c) => c.metadata?.name === name);
  assert.ok(r, `cluster role ${name}`);
  return r;
};

/** The rules a role gathers from the roles its aggregationRule selects, as the controller would. */
function aggregatedRules(name: string): PolicyRule[] {
  const selectors = clusterRole(name).aggregationRule?.clusterRoleSelectors ?? [];
  const picked = policy.clusterRoles.filter((c) => selectors.some((s) => Object.entries(s.matchLabels ?? {}).every(([k, v]) => c.metadata?.labels?.[k] === v)));
  return picked.flatMap((c) => (c.aggregationRule ? aggregatedRules(c.metadata!.name!) : (c.rules ?? [])));
}

const allows = (rules: readonly PolicyRule[], o: Partial<RuleRequest>): boolean =>
  rules.some((r) => ruleAllows({ verb: "get", isResourceRequest: true, apiGroup: "", resource: "", subresource: "", name: "", path: "", ...o }, r));

describe("bootstrapPolicy", () => {
  it("has upstream's default roles and bindings", () => {
    const names = new Set(policy.clusterRoles.map((r) => r.metadata?.name));
    for (const n of [
      "cluster-admin",
      "admin",
      "edit",
      "view",
      "system:aggregate-to-admin",
      "system:aggregate-to-edit",
      "system:aggregate-to-view",
      "system:discovery",
      "system:basic-user",
      "system:public-info-viewer",
      "system:auth-delegator",
      "system:monitoring",
      "system:service-account-issuer-discovery",
      "system:kube-scheduler",
      "system:kube-controller-manager",
      "system:volume-scheduler",
      "system:node",
      "system:node-proxier",
      "system:kube-dns",
      "system:node-bootstrapper",
      "system:heapster",
      "system:controller:deployment-controller",
      "system:controller:clusterrole-aggregation-controller",
      "system:controller:namespace-controller",
    ]) {
      assert.ok(names.has(n), n);
    }
    const roles = policy.roles.map((r) => `${r.metadata?.namespace}/${r.metadata?.name}`);
    for (const n of ["kube-system/extension-apiserver-authentication-reader", "kube-system/system::leader-locking-kube-controller-manager", "kube-system/system::leader-locking-kube-scheduler", "kube-public/system:controller:bootstrap-signer"]) {
      assert.ok(roles.includes(n), n);
    }
    assert.ok(!names.has("system:coredns"), "the DNS add-on installs its own role");
  });

  it("labels and annotates every object as upstream, with unique names", () => {
    const all = [...policy.clusterRoles, ...policy.clusterRoleBindings, ...policy.roles, ...policy.roleBindings];
    for (const o of all) {
      assert.equal(o.metadata?.labels?.[BOOTSTRAPPING_LABEL], "rbac-defaults", o.metadata?.name);
      assert.equal(o.metadata?.annotations?.[AUTOUPDATE_ANNOTATION], "true", o.metadata?.name);
      assert.equal(o.apiVersion, "rbac.authorization.k8s.io/v1");
    }
    const keys = all.map((o) => `${o.kind}/${o.metadata?.namespace ?? ""}/${o.metadata?.name}`);
    assert.equal(new Set(keys).size, keys.length);
    for (const o of [...policy.roles, ...policy.roleBindings]) assert.ok(["kube-system", "kube-public"].includes(o.metadata?.namespace ?? ""), o.metadata?.name);
  });

  it("binds only roles the policy has; each controller role to its kube-system ServiceAccount", () => {
    for (const b of policy.clusterRoleBindings) {
      assert.equal(b.roleRef.kind, "ClusterRole");
      clusterRole(b.roleRef.name);
    }
    for (const b of policy.roleBindings) {
      assert.ok(
        policy.roles.some((r) => r.metadata?.name === b.roleRef.name && r.metadata.namespace === b.metadata?.namespace),
        `${b.metadata?.namespace}/${b.metadata?.name}`,
      );
    }
    const controllers = policy.clusterRoles.filter((r) => r.metadata?.name?.startsWith("system:controller:"));
    assert.ok(controllers.length > 30);
    for (const r of controllers) {
      const name = r.metadata!.name!;
      const binding = policy.clusterRoleBindings.find((b) => b.metadata?.name === name);
      assert.deepEqual(binding?.subjects, [{ kind: "ServiceAccount", name: name.slice("system:controller:".length), namespace: "kube-system" }]);
    }
    const subjects = (name: string) => policy.clusterRoleBindings.find((b) => b.metadata?.name === name)?.subjects?.map((s) => `${s.kind}:${s.name}`);
    assert.deepEqual(subjects("cluster-admin"), ["Group:system:masters"]);
    assert.deepEqual(subjects("system:public-info-viewer"), ["Group:system:authenticated", "Group:system:unauthenticated"]);
    assert.deepEqual(subjects("system:discovery"), ["Group:system:authenticated"]);
    assert.equal(subjects("system:node"), undefined, "system:node is bound to nobody");
  });

  it("admin, edit and view are aggregated, with no rules of their own, and nest admin ⊃ edit ⊃ view", () => {
    for (const n of ["admin", "edit", "view"]) {
      const r = clusterRole(n);
      assert.deepEqual(r.aggregationRule?.clusterRoleSelectors, [{ matchLabels: { [`rbac.authorization.k8s.io/aggregate-to-${n}`]: "true" } }]);
      assert.equal(r.rules, undefined);
    }
    const view = aggregatedRules("view");
    const edit = aggregatedRules("edit");
    const admin = aggregatedRules("admin");
    assert.ok(allows(view, { resource: "pods", verb: "list" }));
    assert.ok(!allows(view, { resource: "secrets" }), "view does not read secrets");
    assert.ok(!allows(view, { resource: "pods", verb: "create" }));
    assert.ok(allows(edit, { resource: "secrets" }));
    assert.ok(allows(edit, { apiGroup: "apps", resource: "deployments", verb: "update" }));
    assert.ok(allows(edit, { resource: "pods", verb: "list" }), "edit holds view's rules");
    assert.ok(!allows(edit, { apiGroup: "rbac.authorization.k8s.io", resource: "roles", verb: "create" }));
    assert.ok(allows(admin, { apiGroup: "rbac.authorization.k8s.io", resource: "roles", verb: "create" }));
    assert.ok(allows(admin, { apiGroup: "apps", resource: "deployments", verb: "delete" }), "admin holds edit's rules");
  });

  it("cluster-admin allows anything; system:discovery and system:public-info-viewer their URLs", () => {
    const admin = clusterRole("cluster-admin").rules ?? [];
    assert.ok(allows(admin, { apiGroup: "example.com", resource: "widgets", verb: "deletecollection" }));
    assert.ok(allows(admin, { isResourceRequest: false, path: "/metrics", verb: "get" }));
    const discovery = clusterRole("system:discovery").rules ?? [];
    assert.ok(allows(discovery, { isResourceRequest: false, path: "/apis/apps/v1" }));
    assert.ok(!allows(discovery, { isResourceRequest: false, path: "/metrics" }));
    const info = clusterRole("system:public-info-viewer").rules ?? [];
    assert.ok(allows(info, { isResourceRequest: false, path: "/version" }));
    assert.ok(!allows(info, { isResourceRequest: false, path: "/api" }));
  });

  it("returns new objects every call", () => {
    const a = bootstrapPolicy();
    a.clusterRoles[0]!.metadata!.labels!["x"] = "y";
    (a.clusterRoles.find((r) => r.metadata?.name === "cluster-admin")!.rules![0]!.verbs as string[]).push("nope");
    const b = bootstrapPolicy();
    assert.equal(b.clusterRoles[0]!.metadata!.labels!["x"], undefined);
    assert.deepEqual(b.clusterRoles.find((r) => r.metadata?.name === "cluster-admin")!.rules![0]!.verbs, ["*"]);
  });
});
