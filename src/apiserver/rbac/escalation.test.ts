// Escalation prevention: the checks over a fake RBAC source, and a real API server refusing a
// static-token user roles and bindings that would grant more than she holds.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PolicyRule } from "kubernetes-types/rbac/v1.js";
import type { AuthorizationAttributes, Authorizer } from "../filters/authorization.js";
import type { KubeObject } from "../registry/types.js";
import type { RequestContext, WriteHooks } from "../rest/store.js";
import { StatusError } from "../status.js";
import { authorizerFor, rbacAuthorizer } from "./authorizer.js";
import { escalationError, rbacWriteHooks } from "./escalation.js";
import { RuleResolver, type ClusterRole, type ClusterRoleBinding, type RbacSource, type Role, type RoleBinding } from "./resolver.js";
import { startTestApiServer, type TestApiServer } from "../../testing/apiserver.js";
import { adminClient, type RawClient } from "../../testing/client.js";
import { until } from "../../testing/wait.js";

const GROUP = "rbac.authorization.k8s.io";
const V1 = `${GROUP}/v1`;

interface Objects {
  readonly roles?: Role[];
  readonly clusterRoles?: ClusterRole[];
  readonly roleBindings?: RoleBinding[];
  readonly clusterRoleBindings?: ClusterRoleBinding[];
}

/** An RbacSource over fixed objects. */
function sourceOf(o: Objects): RbacSource {
  return {
    clusterRoleBindings: () => o.clusterRoleBindings ?? [],
    roleBindings: (ns) => (o.roleBindings ?? []).filter((b) => b.metadata?.namespace === ns),
    clusterRole: (name) => (o.clusterRoles ?? []).find((r) => r.metadata?.name === name),
    role: (ns, name) => (o.roles ?? []).find((r) => r.metadata?.namespace === ns && r.metadata?.name === name),
  };
}

const role = (namespace: string, name: string, rules: PolicyRule[]): Role => ({ apiVersion: V1, kind: "Role", metadata: { namespace, name }, rules });
const clusterRole = (name: string, rules: PolicyRule[], selectors?: object[]): ClusterRole => ({ apiVersion: V1, kind: "ClusterRole", metadata: { name }, rules, ...(selectors ? { aggregationRule: { clusterRoleSelectors: selectors } } : {}) });
const roleBinding = (namespace: string, name: string, kind: "Role" | "ClusterRole", roleName: string, user = "jane"): RoleBinding => ({
  apiVersion: V1,
  kind: "RoleBinding",
  metadata: { namespace, name },
  roleRef: { apiGroup: GROUP, kind, name: roleName },
  subjects: [{ apiGroup: GROUP, kind: "User", name: user }],
});
const clusterRoleBinding = (name: string, roleName: string, user = "jane"): ClusterRoleBinding => ({
  apiVersion: V1,
  kind: "ClusterRoleBinding",
  metadata: { name },
  roleRef: { apiGroup: GROUP, kind: "ClusterRole", name: roleName },
  subjects: [{ apiGroup: GROUP, kind: "User", name: user }],
});

const jane = { username: "jane", groups: ["system:authenticated"] };
const ctxFor = (namespace: string, user: { username: string; groups: readonly string[] } = jane): RequestContext => ({ namespace, user, now: new Date(), dryRun: false });
const asObject = (o: object): KubeObject => structuredClone(o) as unknown as KubeObject;

const getPods: PolicyRule = { apiGroups: [""], resources: ["pods"], verbs: ["get"] };

/** The hooks over these objects, with RBAC as the server runs it (system:masters privileged). */
function hooksOver(o: Objects, authorizer?: Authorizer): ReturnType<typeof rbacWriteHooks> {
  const resolver = new RuleResolver(sourceOf(o));
  return rbacWriteHooks({ resolver, authorizer: authorizer ?? authorizerFor(["RBAC"], () => rbacAuthorizer(resolver)) });
}

async function refusal(p: Promise<unknown>): Promise<StatusError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof StatusError) return err;
    throw err;
  }
  assert.fail("the write was allowed");
}

const create = async (h: WriteHooks, obj: object, ctx: RequestContext): Promise<void> => {
  const finish = await h.beginCreate!(asObject(obj), ctx);
  await finish(true);
};
const update = async (h: WriteHooks, obj: object, old: object, ctx: RequestContext): Promise<void> => {
  const finish = await h.beginUpdate!(asObject(obj), asObject(old), ctx);
  await finish(true);
};

describe("escalationError", () => {
  it("is undefined when the user's rules cover the role's", () => {
    const resolver = new RuleResolver(sourceOf({ roles: [role("ns", "r", [{ apiGroups: [""], resources: ["pods", "services"], verbs: ["get", "list"] }])], roleBindings: [roleBinding("ns", "b", "Role", "r")] }));
    assert.equal(escalationError(resolver, jane, "ns", [getPods, { apiGroups: [""], resources: ["services"], verbs: ["list"] }]), undefined);
    assert.equal(escalationError(resolver, jane, "ns", []), undefined);
  });

  it("names what is missing as upstream: compacted, one rule a line, sorted, with the user and its groups", () => {
    const resolver = new RuleResolver(sourceOf({ roles: [role("ns", "r", [getPods])], roleBindings: [roleBinding("ns", "b", "Role", "r")] }));
    const wanted: PolicyRule[] = [
      { apiGroups: [""], resources: ["services", "pods"], verbs: ["get", "update", "delete"] },
      { apiGroups: ["apps"], resources: ["deployments"], resourceNames: ["web"], verbs: ["get"] },
      { nonResourceURLs: ["/metrics"], verbs: ["get"] },
    ];
    assert.equal(
      escalationError(resolver, { username: "jane", groups: ["dev", "system:authenticated"] }, "ns", wanted),
      [
        'user "jane" (groups=["dev" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:',
        '{APIGroups:[""], Resources:["pods"], Verbs:["update" "delete"]}',
        '{APIGroups:[""], Resources:["services"], Verbs:["get" "update" "delete"]}',
        '{APIGroups:["apps"], Resources:["deployments"], ResourceNames:["web"], Verbs:["get"]}',
        '{NonResourceURLs:["/metrics"], Verbs:["get"]}',
      ].join("\n"),
    );
    // Rules held in another namespace do not count.
    assert.match(escalationError(resolver, jane, "other", [getPods]) ?? "", /not currently held:\n\{APIGroups:\[""\], Resources:\["pods"\], Verbs:\["get"\]\}$/);
  });

  it("adds the bindings whose roles could not be read", () => {
    const resolver = new RuleResolver(sourceOf({ roleBindings: [roleBinding("ns", "b", "Role", "gone"), roleBinding("ns", "c", "ClusterRole", "lost")] }));
    assert.equal(
      escalationError(resolver, jane, "ns", [getPods]),
      'user "jane" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["pods"], Verbs:["get"]}; resolution errors: [[role.rbac.authorization.k8s.io "gone" not found, clusterrole.rbac.authorization.k8s.io "lost" not found]]',
    );
    const one = new RuleResolver(sourceOf({ roleBindings: [roleBinding("ns", "b", "Role", "gone")] }));
    assert.match(escalationError(one, jane, "ns", [getPods]) ?? "", /; resolution errors: \[role\.rbac\.authorization\.k8s\.io "gone" not found\]$/);
  });
});

describe("role and cluster role writes", () => {
  const held: Objects = { roles: [role("ns", "reader", [getPods])], roleBindings: [roleBinding("ns", "jane-reads", "Role", "reader")] };
  const deleter = role("ns", "deleter", [{ apiGroups: [""], resources: ["pods"], verbs: ["delete"] }]);

  it("allows a role granting what the user holds, refuses one granting more with upstream's 403", async () => {
    const h = hooksOver(held);
    await create(h.roles, role("ns", "mine", [getPods]), ctxFor("ns"));
    const err = await refusal(create(h.roles, deleter, ctxFor("ns")));
    assert.equal(err.code, 403);
    assert.deepEqual(err.status, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message:
        'roles.rbac.authorization.k8s.io "deleter" is forbidden: user "jane" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}',
      reason: "Forbidden",
      details: { name: "deleter", group: GROUP, kind: "roles" },
      code: 403,
    });
    // The same rules in a namespace where she holds nothing.
    assert.equal((await refusal(create(h.roles, role("other", "mine", [getPods]), ctxFor("other")))).code, 403);
  });

  it("lets system:masters and users who may escalate write any role", async () => {
    await create(hooksOver(held).roles, deleter, ctxFor("ns", { username: "root", groups: ["system:masters"] }));
    const seen: AuthorizationAttributes[] = [];
    const escalator: Authorizer = {
      authorize: async (a) => {
        seen.push(a);
        return a.verb === "escalate" ? { allowed: true } : { allowed: false, reason: "" };
      },
    };
    const h = hooksOver(held, escalator);
    await create(h.roles, deleter, ctxFor("ns"));
    await update(h.clusterroles, clusterRole("big", [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }]), clusterRole("big", []), ctxFor(""));
    // As upstream, the request's name: none for a create, which posts to the collection.
    assert.deepEqual(
      seen.map((a) => [a.verb, a.apiGroup, a.apiVersion, a.resource, a.namespace, a.name]),
      [
        ["escalate", GROUP, "*", "roles", "ns", ""],
        ["escalate", GROUP, "*", "clusterroles", "", "big"],
      ],
    );
    // `escalate` through RBAC itself.
    const viaRbac = hooksOver({ ...held, roles: [...held.roles!, role("ns", "escalate", [{ apiGroups: [GROUP], resources: ["roles"], verbs: ["escalate"] }])], roleBindings: [...held.roleBindings!, roleBinding("ns", "jane-escalates", "Role", "escalate")] });
    await create(viaRbac.roles, deleter, ctxFor("ns"));
  });

  it("checks updates, but not those that change only what the garbage collector writes", async () => {
    const h = hooksOver(held);
    const stored = { ...deleter, metadata: { ...deleter.metadata, resourceVersion: "5", uid: "u1", managedFields: [{ manager: "kubectl", operation: "Update" }] } };
    const owned = { ...stored, metadata: { ...stored.metadata, ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: "u2" }], finalizers: ["example.com/keep"], managedFields: [{ manager: "gc", operation: "Update" }] } };
    await update(h.roles, owned, stored, ctxFor("ns"));
    await update(h.roles, stored, owned, ctxFor("ns"));
    const relabelled = { ...stored, metadata: { ...stored.metadata, labels: { a: "b" } } };
    assert.equal((await refusal(update(h.roles, relabelled, stored, ctxFor("ns")))).code, 403);
    const wider = { ...stored, rules: [getPods, { apiGroups: [""], resources: ["secrets"], verbs: ["get"] }] };
    assert.match((await refusal(update(h.roles, wider, role("ns", "deleter", [getPods]), ctxFor("ns")))).message, /not currently held:\n\{APIGroups:\[""\], Resources:\["secrets"\], Verbs:\["get"\]\}$/);
  });

  it("checks a cluster role against the user's cluster-wide rules only", async () => {
    const h = hooksOver(held);
    const err = await refusal(create(h.clusterroles, clusterRole("pods", [getPods]), ctxFor("")));
    assert.match(err.message, /^clusterroles\.rbac\.authorization\.k8s\.io "pods" is forbidden: user "jane"/);
    const clusterWide = hooksOver({ clusterRoles: [clusterRole("reader", [getPods])], clusterRoleBindings: [clusterRoleBinding("jane-reads", "reader")] });
    await create(clusterWide.clusterroles, clusterRole("pods", [getPods]), ctxFor(""));
  });

  it("takes full authority to set, change or drop an aggregationRule", async () => {
    // Much, but not `*` verbs (which would include `escalate`, letting her write any role).
    const almostAll = hooksOver({ clusterRoles: [clusterRole("almost", [{ apiGroups: ["*"], resources: ["*"], verbs: ["get", "list", "create", "update"] }, { nonResourceURLs: ["*"], verbs: ["get"] }])], clusterRoleBindings: [clusterRoleBinding("jane-almost", "almost")] });
    const aggregated = clusterRole("agg", [], [{ matchLabels: { "example.com/aggregate": "true" } }]);
    const err = await refusal(create(almostAll.clusterroles, aggregated, ctxFor("")));
    assert.equal(err.message, 'clusterroles.rbac.authorization.k8s.io "agg" is forbidden: must have cluster-admin privileges to use the aggregationRule');
    const dropped = await refusal(update(almostAll.clusterroles, clusterRole("agg", []), aggregated, ctxFor("")));
    assert.equal(dropped.message, 'clusterroles.rbac.authorization.k8s.io "agg" is forbidden: must have cluster-admin privileges to use the aggregationRule');
    // Without one, the rules she holds are enough; an empty selector list is no rule.
    await create(almostAll.clusterroles, clusterRole("plain", [getPods], []), ctxFor(""));
    const admin = hooksOver({ clusterRoles: [clusterRole("all", [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }, { nonResourceURLs: ["*"], verbs: ["*"] }])], clusterRoleBindings: [clusterRoleBinding("jane-all", "all")] });
    await create(admin.clusterroles, aggregated, ctxFor(""));
  });
});

describe("role binding and cluster role binding writes", () => {
  const held: Objects = {
    roles: [role("ns", "reader", [getPods]), role("ns", "deleter", [{ apiGroups: [""], resources: ["pods"], verbs: ["delete"] }])],
    clusterRoles: [clusterRole("view-pods", [getPods]), clusterRole("cluster-admin", [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }, { nonResourceURLs: ["*"], verbs: ["*"] }])],
    roleBindings: [roleBinding("ns", "jane-reads", "Role", "reader")],
  };

  it("allows binding a role whose rules the user holds in the binding's namespace", async () => {
    const h = hooksOver(held);
    await create(h.rolebindings, roleBinding("ns", "bob-reads", "Role", "reader", "bob"), ctxFor("ns"));
    await create(h.rolebindings, roleBinding("ns", "bob-views", "ClusterRole", "view-pods", "bob"), ctxFor("ns"));
    const err = await refusal(create(h.rolebindings, roleBinding("ns", "bob-deletes", "Role", "deleter", "bob"), ctxFor("ns")));
    assert.equal(err.message, 'rolebindings.rbac.authorization.k8s.io "bob-deletes" is forbidden: user "jane" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}');
    assert.deepEqual(err.status.details, { name: "bob-deletes", group: GROUP, kind: "rolebindings" });
    // A ClusterRoleBinding needs the rules cluster-wide; her RoleBinding's do not count.
    assert.match((await refusal(create(h.clusterrolebindings, clusterRoleBinding("bob-views", "view-pods", "bob"), ctxFor("")))).message, /^clusterrolebindings\.rbac\.authorization\.k8s\.io "bob-views" is forbidden: user "jane"/);
    // Changing the subjects of a binding is checked too.
    const admins = roleBinding("ns", "admins", "ClusterRole", "cluster-admin", "root");
    assert.equal((await refusal(update(h.rolebindings, roleBinding("ns", "admins", "ClusterRole", "cluster-admin", "jane"), admins, ctxFor("ns")))).code, 403);
  });

  it("refuses a binding to a missing role with its NotFound message", async () => {
    const err = await refusal(create(hooksOver(held).rolebindings, roleBinding("ns", "b", "Role", "nope", "bob"), ctxFor("ns")));
    assert.equal(err.code, 403);
    assert.equal(err.message, 'rolebindings.rbac.authorization.k8s.io "b" is forbidden: role.rbac.authorization.k8s.io "nope" not found');
    const cluster = await refusal(create(hooksOver(held).clusterrolebindings, clusterRoleBinding("b", "nope", "bob"), ctxFor("")));
    assert.equal(cluster.message, 'clusterrolebindings.rbac.authorization.k8s.io "b" is forbidden: clusterrole.rbac.authorization.k8s.io "nope" not found');
  });

  it("allows binding any role the user may `bind`, asked about the role in the binding's namespace", async () => {
    const seen: AuthorizationAttributes[] = [];
    const binder: Authorizer = {
      authorize: async (a) => {
        seen.push(a);
        return a.verb === "bind" && a.name === "cluster-admin" ? { allowed: true } : { allowed: false, reason: "" };
      },
    };
    const h = hooksOver(held, binder);
    await create(h.rolebindings, roleBinding("ns", "bob-admin", "ClusterRole", "cluster-admin", "bob"), ctxFor("ns"));
    await create(h.clusterrolebindings, clusterRoleBinding("bob-admin", "cluster-admin", "bob"), ctxFor(""));
    assert.equal((await refusal(create(h.rolebindings, roleBinding("ns", "bob-deletes", "Role", "deleter", "bob"), ctxFor("ns")))).code, 403);
    assert.deepEqual(
      seen.map((a) => [a.verb, a.apiGroup, a.resource, a.namespace, a.name]),
      [
        ["bind", GROUP, "clusterroles", "ns", "cluster-admin"],
        ["bind", GROUP, "clusterroles", "", "cluster-admin"],
        ["bind", GROUP, "roles", "ns", "deleter"],
      ],
    );
    // `bind` through RBAC, limited to one role by name.
    const viaRbac = hooksOver({ ...held, roles: [...held.roles!, role("ns", "binder", [{ apiGroups: [GROUP], resources: ["clusterroles"], resourceNames: ["cluster-admin"], verbs: ["bind"] }])], roleBindings: [...held.roleBindings!, roleBinding("ns", "jane-binds", "Role", "binder")] });
    await create(viaRbac.rolebindings, roleBinding("ns", "bob-admin", "ClusterRole", "cluster-admin", "bob"), ctxFor("ns"));
    assert.equal((await refusal(create(viaRbac.rolebindings, roleBinding("ns", "bob-deletes", "Role", "deleter", "bob"), ctxFor("ns")))).code, 403);
  });

  it("lets system:masters bind anything, even a missing role", async () => {
    const root = ctxFor("ns", { username: "root", groups: ["system:masters"] });
    const h = hooksOver({});
    await create(h.rolebindings, roleBinding("ns", "x", "Role", "nope"), root);
    await create(h.clusterrolebindings, clusterRoleBinding("x", "cluster-admin"), { ...root, namespace: "" });
  });
});

describe("escalation prevention on a real API server", () => {
  let server: TestApiServer;
  let admin: RawClient;
  let anonymous: RawClient;
  const dir = mkdtempSync(join(tmpdir(), "k8ts-escalation-"));
  const RBAC = `/apis/${V1}`;
  before(async () => {
    const file = join(dir, "tokens.csv");
    writeFileSync(file, "jane-token,jane,1001\n");
    server = await startTestApiServer({ tokenAuthFile: file });
    admin = adminClient(server.url, server.dataDir);
    anonymous = adminClient(server.url, server.dataDir, { anonymous: true });
  });
  after(async () => {
    admin?.close();
    anonymous?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  interface Answer {
    readonly status: number;
    readonly json: { message?: string; reason?: string; metadata?: { resourceVersion?: string } };
  }
  const send = async (client: RawClient, method: string, path: string, obj: unknown, headers: Record<string, string> = {}): Promise<Answer> => {
    const r = await client.request(method, path, JSON.stringify(obj), headers);
    return { status: r.status, json: JSON.parse(r.body) as Answer["json"] };
  };
  const asAdmin = async (path: string, obj: unknown): Promise<void> => {
    const r = await send(admin, "POST", path, obj);
    assert.equal(r.status, 201, JSON.stringify(r.json));
  };
  const asJane = (method: string, path: string, obj: unknown): Promise<Answer> => send(anonymous, method, path, obj, { Authorization: "Bearer jane-token" });
  /** What jane gets once the watch cache has seen the roles and bindings written before. */
  const janeUntil = (what: string, method: string, path: string, obj: unknown, status: number): Promise<Answer> =>
    until(what, async () => {
      const r = await asJane(method, path, obj);
      return r.status === status ? r : undefined;
    });

  it("lets a user grant and bind only what she holds, unless she may escalate or bind", async () => {
    await asAdmin(`${RBAC}/namespaces/default/roles`, role("default", "jane-powers", [getPods, { apiGroups: [GROUP], resources: ["roles", "rolebindings"], verbs: ["create", "update", "get"] }]));
    await asAdmin(`${RBAC}/namespaces/default/rolebindings`, roleBinding("default", "jane-powers", "Role", "jane-powers"));

    const reader = role("default", "reader", [getPods]);
    await janeUntil("jane to create a role granting what she holds", "POST", `${RBAC}/namespaces/default/roles`, reader, 201);
    const deleter = role("default", "deleter", [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "delete"] }]);
    const refused = await asJane("POST", `${RBAC}/namespaces/default/roles`, deleter);
    assert.equal(refused.status, 403, JSON.stringify(refused.json));
    assert.equal(refused.json.reason, "Forbidden");
    assert.equal(
      refused.json.message,
      'roles.rbac.authorization.k8s.io "deleter" is forbidden: user "jane" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}',
    );
    // Nor by widening the role she made.
    const stored = await asJane("GET", `${RBAC}/namespaces/default/roles/reader`, undefined);
    const widened = await asJane("PUT", `${RBAC}/namespaces/default/roles/reader`, { ...reader, metadata: { ...reader.metadata, resourceVersion: stored.json.metadata?.resourceVersion }, rules: deleter.rules });
    assert.equal(widened.status, 403, JSON.stringify(widened.json));

    // Bindings: to a role she holds all of, yes; to cluster-admin, no.
    assert.equal((await asJane("POST", `${RBAC}/namespaces/default/rolebindings`, roleBinding("default", "bob-reads", "Role", "reader", "bob"))).status, 201);
    const toAdmin = roleBinding("default", "bob-admin", "ClusterRole", "cluster-admin", "bob");
    const admins = await asJane("POST", `${RBAC}/namespaces/default/rolebindings`, toAdmin);
    assert.equal(admins.status, 403, JSON.stringify(admins.json));
    assert.match(admins.json.message ?? "", /^rolebindings\.rbac\.authorization\.k8s\.io "bob-admin" is forbidden: user "jane" \(groups=\["system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:\n/);
    assert.ok(admins.json.message?.includes('\n{APIGroups:["*"], Resources:["*"], Verbs:["*"]}'), admins.json.message);
    assert.ok(admins.json.message?.includes('\n{NonResourceURLs:["*"], Verbs:["*"]}'), admins.json.message);

    // Given `escalate` on roles and `bind` on cluster-admin, she may do both.
    await asAdmin(`${RBAC}/namespaces/default/roles`, role("default", "jane-escalates", [{ apiGroups: [GROUP], resources: ["roles"], verbs: ["escalate"] }, { apiGroups: [GROUP], resources: ["clusterroles"], resourceNames: ["cluster-admin"], verbs: ["bind"] }]));
    await asAdmin(`${RBAC}/namespaces/default/rolebindings`, roleBinding("default", "jane-escalates", "Role", "jane-escalates"));
    await janeUntil("jane to create a role with more than she holds, given escalate", "POST", `${RBAC}/namespaces/default/roles`, deleter, 201);
    await janeUntil("jane to bind cluster-admin, given bind", "POST", `${RBAC}/namespaces/default/rolebindings`, toAdmin, 201);
  });
});
