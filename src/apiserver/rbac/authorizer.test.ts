// The RBAC authorizer's pieces: rule matching, coverage, the resolver's bindings and subjects,
// the modes and their reasons (upstream's wording).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding } from "kubernetes-types/rbac/v1.js";
import type { AuthorizationAttributes } from "../filters/authorization.js";
import { compactRules, compactString, ruleAllows, uncoveredRules, type RuleRequest } from "./rules.js";
import { RuleResolver, type RbacSource } from "./resolver.js";
import { authorizerFor, parseAuthorizationModes, rbacAuthorizer } from "./authorizer.js";

const req = (o: Partial<RuleRequest>): RuleRequest => ({ verb: "get", isResourceRequest: true, apiGroup: "", resource: "pods", subresource: "", name: "", path: "", ...o });

describe("ruleAllows", () => {
  it("matches verbs, groups and resources, with * for any", () => {
    const rule: PolicyRule = { apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] };
    assert.equal(ruleAllows(req({}), rule), true);
    assert.equal(ruleAllows(req({ verb: "delete" }), rule), false);
    assert.equal(ruleAllows(req({ apiGroup: "apps" }), rule), false);
    assert.equal(ruleAllows(req({ resource: "services" }), rule), false);
    assert.equal(ruleAllows(req({ verb: "delete", apiGroup: "apps", resource: "deployments" }), { apiGroups: ["*"], resources: ["*"], verbs: ["*"] }), true);
  });

  it("needs a subresource named, or */subresource; pods/* is no pattern", () => {
    assert.equal(ruleAllows(req({ subresource: "log" }), { apiGroups: [""], resources: ["pods"], verbs: ["get"] }), false);
    assert.equal(ruleAllows(req({ subresource: "log" }), { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] }), true);
    assert.equal(ruleAllows(req({ apiGroup: "apps", resource: "deployments", subresource: "scale" }), { apiGroups: ["apps"], resources: ["*/scale"], verbs: ["get"] }), true);
    assert.equal(ruleAllows(req({ subresource: "log" }), { apiGroups: [""], resources: ["pods/*"], verbs: ["get"] }), false);
  });

  it("with resourceNames allows only those names, never a whole collection", () => {
    const rule: PolicyRule = { apiGroups: [""], resources: ["configmaps"], resourceNames: ["app"], verbs: ["get", "list"] };
    assert.equal(ruleAllows(req({ resource: "configmaps", name: "app" }), rule), true);
    assert.equal(ruleAllows(req({ resource: "configmaps", name: "other" }), rule), false);
    assert.equal(ruleAllows(req({ resource: "configmaps", verb: "list" }), rule), false);
  });

  it("matches non-resource URLs exactly, by a * suffix, or by *", () => {
    const nr = (path: string, verb = "get"): RuleRequest => req({ isResourceRequest: false, path, verb, resource: "" });
    const rule: PolicyRule = { nonResourceURLs: ["/healthz", "/apis/*"], verbs: ["get"] };
    assert.equal(ruleAllows(nr("/healthz"), rule), true);
    assert.equal(ruleAllows(nr("/healthz/etcd"), rule), false);
    assert.equal(ruleAllows(nr("/apis/apps/v1"), rule), true);
    assert.equal(ruleAllows(nr("/apis/apps/v1", "post"), rule), false);
    assert.equal(ruleAllows(nr("/metrics"), { nonResourceURLs: ["*"], verbs: ["get"] }), true);
    // A resource rule never allows a path, and the other way round.
    assert.equal(ruleAllows(nr("/healthz"), { apiGroups: ["*"], resources: ["*"], verbs: ["*"] }), false);
    assert.equal(ruleAllows(req({}), { nonResourceURLs: ["*"], verbs: ["*"] }), false);
  });
});

describe("uncoveredRules", () => {
  it("returns the broken-down rules the owner does not hold", () => {
    const owner: PolicyRule[] = [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] }];
    assert.deepEqual(uncoveredRules(owner, [{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }]), []);
    assert.deepEqual(uncoveredRules(owner, [{ apiGroups: [""], resources: ["pods", "secrets"], verbs: ["get", "delete"] }]), [
      { apiGroups: [""], resources: ["pods"], verbs: ["delete"] },
      { apiGroups: [""], resources: ["secrets"], verbs: ["get"] },
      { apiGroups: [""], resources: ["secrets"], verbs: ["delete"] },
    ]);
  });

  it("counts names: an owner limited to names does not cover all names", () => {
    const named: PolicyRule[] = [{ apiGroups: [""], resources: ["configmaps"], resourceNames: ["a", "b"], verbs: ["get"] }];
    assert.deepEqual(uncoveredRules(named, [{ apiGroups: [""], resources: ["configmaps"], resourceNames: ["a"], verbs: ["get"] }]), []);
    assert.equal(uncoveredRules(named, [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get"] }]).length, 1);
    assert.deepEqual(uncoveredRules([{ apiGroups: [""], resources: ["configmaps"], verbs: ["get"] }], named), []);
  });

  it("covers non-resource URLs by prefix and * , and cluster-admin covers everything", () => {
    const admin: PolicyRule[] = [
      { apiGroups: ["*"], resources: ["*"], verbs: ["*"] },
      { nonResourceURLs: ["*"], verbs: ["*"] },
    ];
    assert.deepEqual(uncoveredRules(admin, [{ apiGroups: ["x.io"], resources: ["a/b"], resourceNames: ["n"], verbs: ["bind"] }, { nonResourceURLs: ["/metrics"], verbs: ["get"] }]), []);
    assert.deepEqual(uncoveredRules([{ nonResourceURLs: ["/apis/*"], verbs: ["get"] }], [{ nonResourceURLs: ["/apis/apps"], verbs: ["get"] }]), []);
    assert.equal(uncoveredRules([{ nonResourceURLs: ["/apis/*"], verbs: ["get"] }], [{ nonResourceURLs: ["/api"], verbs: ["get"] }]).length, 1);
  });
});

describe("printing rules", () => {
  it("prints as upstream's CompactString", () => {
    assert.equal(compactString({ apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] }), '{APIGroups:[""], Resources:["pods"], Verbs:["get" "list"]}');
    assert.equal(compactString({ nonResourceURLs: ["/healthz"], verbs: ["get"] }), '{NonResourceURLs:["/healthz"], Verbs:["get"]}');
    assert.equal(compactString({ apiGroups: [""], resources: ["configmaps"], resourceNames: ["a"], verbs: ["get"] }), '{APIGroups:[""], Resources:["configmaps"], ResourceNames:["a"], Verbs:["get"]}');
  });

  it("compacts single group+resource rules into one per resource", () => {
    assert.deepEqual(
      compactRules([
        { apiGroups: [""], resources: ["pods"], verbs: ["get"] },
        { apiGroups: [""], resources: ["secrets"], verbs: ["get"] },
        { apiGroups: [""], resources: ["pods"], verbs: ["delete"] },
        { nonResourceURLs: ["/x"], verbs: ["get"] },
      ]),
      [
        { apiGroups: [""], resources: ["pods"], verbs: ["get", "delete"] },
        { apiGroups: [""], resources: ["secrets"], verbs: ["get"] },
        { nonResourceURLs: ["/x"], verbs: ["get"] },
      ],
    );
  });
});

// ---- the resolver and the authorizer over a fixed set of roles and bindings ---------------------

const RBAC = "rbac.authorization.k8s.io";
const clusterRoles: ClusterRole[] = [
  { metadata: { name: "pod-reader" }, rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] }] },
  { metadata: { name: "healthz" }, rules: [{ nonResourceURLs: ["/healthz"], verbs: ["get"] }] },
];
const roles: Role[] = [{ metadata: { name: "cm-writer", namespace: "team" }, rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["create", "update"] }] }];
const clusterRoleBindings: ClusterRoleBinding[] = [
  { metadata: { name: "readers" }, roleRef: { apiGroup: RBAC, kind: "ClusterRole", name: "pod-reader" }, subjects: [{ apiGroup: RBAC, kind: "Group", name: "readers" }] },
  { metadata: { name: "everyone-healthz" }, roleRef: { apiGroup: RBAC, kind: "ClusterRole", name: "healthz" }, subjects: [{ apiGroup: RBAC, kind: "Group", name: "system:authenticated" }] },
  { metadata: { name: "dangling" }, roleRef: { apiGroup: RBAC, kind: "ClusterRole", name: "gone" }, subjects: [{ apiGroup: RBAC, kind: "User", name: "carl" }] },
];
const roleBindings: RoleBinding[] = [
  { metadata: { name: "ci", namespace: "team" }, roleRef: { apiGroup: RBAC, kind: "Role", name: "cm-writer" }, subjects: [{ kind: "ServiceAccount", name: "ci" }] },
  { metadata: { name: "jane-reads", namespace: "team" }, roleRef: { apiGroup: RBAC, kind: "ClusterRole", name: "pod-reader" }, subjects: [{ apiGroup: RBAC, kind: "User", name: "jane" }] },
];
const source: RbacSource = {
  clusterRoleBindings: () => clusterRoleBindings,
  roleBindings: (ns) => roleBindings.filter((b) => b.metadata?.namespace === ns),
  clusterRole: (name) => clusterRoles.find((r) => r.metadata?.name === name),
  role: (ns, name) => roles.find((r) => r.metadata?.namespace === ns && r.metadata?.name === name),
};
const resolver = new RuleResolver(source);

const attrs = (username: string, groups: string[], o: Partial<AuthorizationAttributes>): AuthorizationAttributes => ({
  user: { username, groups: [...groups, "system:authenticated"] },
  verb: "get",
  isResourceRequest: true,
  namespace: "",
  apiGroup: "",
  apiVersion: "v1",
  resource: "pods",
  subresource: "",
  name: "",
  path: "",
  ...o,
});

describe("the RBAC authorizer", () => {
  const rbac = rbacAuthorizer(resolver);

  it("allows through a ClusterRoleBinding to a group, saying which", async () => {
    assert.deepEqual(await rbac.authorize(attrs("amy", ["readers"], { verb: "list" })), { allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "readers" of ClusterRole "pod-reader" to Group "readers"' });
    assert.equal((await rbac.authorize(attrs("amy", ["readers"], { verb: "delete", name: "p" }))).allowed, false);
  });

  it("applies a RoleBinding only in its namespace, with a ClusterRole's rules", async () => {
    assert.deepEqual(await rbac.authorize(attrs("jane", [], { namespace: "team" })), { allowed: true, reason: 'RBAC: allowed by RoleBinding "jane-reads/team" of ClusterRole "pod-reader" to User "jane"' });
    assert.equal((await rbac.authorize(attrs("jane", [], { namespace: "other" }))).allowed, false);
    assert.equal((await rbac.authorize(attrs("jane", [], { verb: "list" }))).allowed, false);
  });

  it("matches a ServiceAccount subject without a namespace in the binding's namespace", async () => {
    const sa = attrs("system:serviceaccount:team:ci", ["system:serviceaccounts", "system:serviceaccounts:team"], { namespace: "team", verb: "create", resource: "configmaps" });
    assert.deepEqual(await rbac.authorize(sa), { allowed: true, reason: 'RBAC: allowed by RoleBinding "ci/team" of Role "cm-writer" to ServiceAccount "ci/team"' });
    const otherNs = attrs("system:serviceaccount:prod:ci", [], { namespace: "team", verb: "create", resource: "configmaps" });
    assert.equal((await rbac.authorize(otherNs)).allowed, false);
  });

  it("allows non-resource paths by their rules", async () => {
    assert.equal((await rbac.authorize(attrs("x", [], { isResourceRequest: false, path: "/healthz", resource: "" }))).allowed, true);
    assert.equal((await rbac.authorize(attrs("x", [], { isResourceRequest: false, path: "/metrics", resource: "" }))).allowed, false);
  });

  it("says which role a binding names is missing", async () => {
    assert.deepEqual(await rbac.authorize(attrs("carl", [], {})), { allowed: false, reason: 'RBAC: clusterrole.rbac.authorization.k8s.io "gone" not found' });
  });

  it("resolves the rules a user holds in a namespace", () => {
    const { rules, errors } = resolver.rulesFor({ username: "jane", groups: ["system:authenticated"] }, "team");
    assert.deepEqual(rules, [clusterRoles[1]!.rules![0], clusterRoles[0]!.rules![0]]);
    assert.deepEqual(errors, []);
    assert.equal(resolver.rulesFor({ username: "carl", groups: [] }, "").errors.length, 1);
  });
});

describe("authorization modes", () => {
  const rbac = () => rbacAuthorizer(resolver);

  it("parses --authorization-mode", () => {
    assert.deepEqual(parseAuthorizationModes("RBAC"), ["RBAC"]);
    assert.deepEqual(parseAuthorizationModes("RBAC, AlwaysDeny"), ["RBAC", "AlwaysDeny"]);
    assert.deepEqual(parseAuthorizationModes("Node,RBAC"), ["Node", "RBAC"]);
    assert.throws(() => parseAuthorizationModes("Webhook,RBAC"), /unknown mode "Webhook" \(supported: RBAC, Node, AlwaysAllow, AlwaysDeny\)/);
    assert.throws(() => parseAuthorizationModes("RBAC,RBAC"), /more than once/);
  });

  it("lets system:masters do anything under RBAC", async () => {
    const z = authorizerFor(["RBAC"], rbac);
    assert.equal((await z.authorize(attrs("admin", ["system:masters"], { verb: "delete", resource: "nodes", name: "n" }))).allowed, true);
    assert.equal((await z.authorize(attrs("nobody", [], { verb: "delete", resource: "nodes", name: "n" }))).allowed, false);
  });

  it("asks in order: the first that allows decides, else every reason is kept", async () => {
    assert.equal((await authorizerFor(["RBAC", "AlwaysAllow"], rbac).authorize(attrs("nobody", [], {}))).allowed, true);
    assert.deepEqual(await authorizerFor(["AlwaysDeny"], rbac).authorize(attrs("admin", ["system:masters"], {})), { allowed: false, reason: "Everything is forbidden." });
    assert.deepEqual(await authorizerFor(["RBAC", "AlwaysDeny"], rbac).authorize(attrs("carl", [], {})), { allowed: false, reason: 'RBAC: clusterrole.rbac.authorization.k8s.io "gone" not found\nEverything is forbidden.' });
  });

  it("asks the Node authorizer where Node stands, and needs one to make it", async () => {
    const asked: string[] = [];
    const node = () => ({ authorize: async (a: AuthorizationAttributes) => (asked.push(a.user.username), { allowed: false as const, reason: "node says no" }) });
    const z = authorizerFor(["Node", "AlwaysDeny"], rbac, node);
    assert.deepEqual(await z.authorize(attrs("system:node:n1", ["system:nodes"], {})), { allowed: false, reason: "node says no\nEverything is forbidden." });
    assert.deepEqual(asked, ["system:node:n1"]);
    assert.throws(() => authorizerFor(["Node", "RBAC"], rbac), /Node needs the node graph/);
  });
});
