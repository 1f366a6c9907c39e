// Reconciling the bootstrap policy: the pure decisions (what is added, what is kept, what is
// left alone), then a real server that puts back what was taken from its defaults at restart.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ClusterRole, ClusterRoleBinding, RoleBinding } from "kubernetes-types/rbac/v1.js";
import { freezeJson } from "../../util/freeze.js";
import { ApiServer, compileApiServerOptions } from "../server.js";
import { builtinResources } from "../resources/index.js";
import { createLogger } from "../../util/log.js";
import { adminClient } from "../../testing/client.js";
import type { KubeObject } from "../registry/types.js";
import type { ResourceStore, UpdateFunc, UpdateOptions } from "../rest/store.js";
import { alreadyExists, forbidden, internalError, modifiedConflict, notFound } from "../status.js";
import type { Logger } from "../../util/log.js";
import { reconcileBinding, reconcileBootstrapPolicy, reconcileRole, type RbacStores } from "./reconcile.js";
import { AUTOUPDATE_ANNOTATION, BOOTSTRAPPING_LABEL, bootstrapPolicy } from "./policy.js";

const meta = (name: string, extra: { labels?: Record<string, string>; annotations?: Record<string, string> } = {}) => ({
  name,
  labels: { [BOOTSTRAPPING_LABEL]: "rbac-defaults", ...extra.labels },
  annotations: { [AUTOUPDATE_ANNOTATION]: "true", ...extra.annotations },
});

const expectedRole: ClusterRole = {
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "ClusterRole",
  metadata: meta("system:test"),
  rules: [
    { apiGroups: [""], resources: ["pods", "services"], verbs: ["get", "list"] },
    { nonResourceURLs: ["/healthz"], verbs: ["get"] },
  ],
};

/** A stored copy: what the server adds (uid, resourceVersion), frozen to prove it is not changed. */
const stored = <T>(o: T, change: (o: T) => void = () => undefined): T => {
  const c = structuredClone(o) as T & { metadata: Record<string, unknown> };
  c.metadata = { ...c.metadata, uid: "u-1", resourceVersion: "7" };
  change(c);
  return freezeJson(c);
};

describe("reconcileRole", () => {
  it("creates a missing role", () => {
    const r = reconcileRole(undefined, expectedRole);
    assert.equal(r.operation, "create");
    assert.deepEqual(r.operation === "create" && r.object, expectedRole);
  });

  it("leaves a role that has everything, or more, alone", () => {
    assert.equal(reconcileRole(stored(expectedRole), expectedRole).operation, "none");
    const broader = stored(expectedRole, (o) => {
      o.rules = [{ apiGroups: [""], resources: ["*"], verbs: ["*"] }, { nonResourceURLs: ["/*"], verbs: ["get"] }];
      o.metadata!.labels!["team"] = "a";
    });
    assert.equal(reconcileRole(broader, expectedRole).operation, "none", "covered rules are not added again");
  });

  it("adds the missing broken-down rules after the existing ones, keeping extra rules", () => {
    const existing = stored(expectedRole, (o) => {
      o.rules = [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] }, { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get"] }];
    });
    const r = reconcileRole(existing, expectedRole);
    assert.equal(r.operation, "update");
    if (r.operation !== "update") return;
    const added = [
      { apiGroups: [""], resources: ["services"], verbs: ["get"] },
      { apiGroups: [""], resources: ["services"], verbs: ["list"] },
      { nonResourceURLs: ["/healthz"], verbs: ["get"] },
    ];
    assert.deepEqual(r.additions.rules, added);
    assert.deepEqual(r.object.rules, [...existing.rules!, ...added]);
    assert.equal(r.object.metadata?.resourceVersion, "7", "the update is of the stored object");
  });

  it("adds missing labels and annotations, keeping the existing values", () => {
    const existing = stored(expectedRole, (o) => {
      o.metadata = { ...o.metadata, labels: { [BOOTSTRAPPING_LABEL]: "mine", other: "x" }, annotations: {} };
    });
    const expected: ClusterRole = { ...expectedRole, metadata: meta("system:test", { labels: { extra: "y" } }) };
    const r = reconcileRole(existing, expected);
    assert.equal(r.operation, "update");
    if (r.operation !== "update") return;
    assert.deepEqual(r.object.metadata?.labels, { [BOOTSTRAPPING_LABEL]: "mine", other: "x", extra: "y" });
    assert.deepEqual(r.object.metadata?.annotations, { [AUTOUPDATE_ANNOTATION]: "true" });
    assert.deepEqual(r.additions.labels, ["extra"]);
    assert.deepEqual(r.additions.annotations, [AUTOUPDATE_ANNOTATION]);
  });

  it("skips a role annotated autoupdate=false, whatever it lacks", () => {
    const existing = stored(expectedRole, (o) => {
      o.rules = [];
      o.metadata!.annotations![AUTOUPDATE_ANNOTATION] = "false";
    });
    const r = reconcileRole(existing, expectedRole);
    assert.equal(r.operation, "skip");
    assert.equal(r.operation === "skip" && r.additions.rules.length, 5, "pods and services × get and list, and /healthz");
    assert.equal(reconcileRole(stored(expectedRole, (o) => (o.metadata!.annotations![AUTOUPDATE_ANNOTATION] = "false")), expectedRole).operation, "none");
  });

  it("adds an aggregated role's missing selectors and leaves its rules to the aggregation controller", () => {
    const expected: ClusterRole = { ...expectedRole, metadata: meta("view"), rules: undefined, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { "rbac.authorization.k8s.io/aggregate-to-view": "true" } }] } };
    delete expected.rules;
    const filled = stored(expected, (o) => {
      o.rules = [{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }];
    });
    assert.equal(reconcileRole(filled, expected).operation, "none");
    const mine = { matchLabels: { "example.com/aggregate-to-view": "true" } };
    const other = stored(filled, (o) => {
      o.aggregationRule = { clusterRoleSelectors: [mine] };
    });
    const r = reconcileRole(other, expected);
    assert.equal(r.operation, "update");
    if (r.operation !== "update") return;
    assert.deepEqual(r.object.aggregationRule?.clusterRoleSelectors, [mine, ...expected.aggregationRule!.clusterRoleSelectors!]);
    assert.deepEqual(r.object.rules, filled.rules);
    const plain = stored(filled, (o) => delete o.aggregationRule);
    const p = reconcileRole(plain, expected);
    assert.deepEqual(p.operation === "update" && p.object.aggregationRule, expected.aggregationRule, "a role that lost its aggregationRule gets it back");
  });
});

const expectedBinding: ClusterRoleBinding = {
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "ClusterRoleBinding",
  metadata: meta("system:test"),
  roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:test" },
  subjects: [
    { apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "system:authenticated" },
    { kind: "ServiceAccount", name: "test", namespace: "kube-system" },
  ],
};

describe("reconcileBinding", () => {
  it("creates a missing binding and leaves a complete one alone", () => {
    assert.equal(reconcileBinding(undefined, expectedBinding).operation, "create");
    assert.equal(reconcileBinding(stored(expectedBinding), expectedBinding).operation, "none");
  });

  it("keeps extra subjects and adds the missing ones", () => {
    const alice = { apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "alice" };
    const existing = stored(expectedBinding, (o) => {
      o.subjects = [alice, { kind: "ServiceAccount", name: "test", namespace: "kube-system", apiGroup: "" }];
    });
    const r = reconcileBinding(existing, expectedBinding);
    assert.equal(r.operation, "update");
    if (r.operation !== "update") return;
    assert.deepEqual(r.additions.subjects, [expectedBinding.subjects![0]]);
    assert.deepEqual(r.object.subjects, [...existing.subjects!, expectedBinding.subjects![0]]);
  });

  it("recreates a binding whose roleRef differs, unless it is protected", () => {
    const existing = stored(expectedBinding, (o) => {
      o.roleRef = { ...o.roleRef, name: "cluster-admin" };
      o.subjects = [...o.subjects!, { apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "alice" }];
    });
    const r = reconcileBinding(existing, expectedBinding);
    assert.equal(r.operation, "recreate");
    assert.deepEqual(r.operation === "recreate" && r.object, expectedBinding, "the subjects of the other role's binding do not carry over");
    const mine = stored(existing, (o) => (o.metadata!.annotations![AUTOUPDATE_ANNOTATION] = "false"));
    assert.equal(reconcileBinding(mine, expectedBinding).operation, "skip");
  });

  it("reconciles namespaced RoleBindings the same way", () => {
    const expected: RoleBinding = { ...expectedBinding, kind: "RoleBinding", metadata: { ...meta("system:test"), namespace: "kube-system" }, roleRef: { ...expectedBinding.roleRef, kind: "Role" } };
    const r = reconcileBinding(stored(expected, (o) => delete o.subjects), expected);
    assert.equal(r.operation, "update");
    assert.deepEqual(r.operation === "update" && r.object.subjects, expected.subjects);
  });
});

/**
 * A store of one resource in memory, as much of ResourceStore as the reconciler uses, with the
 * resourceVersion precondition of an update; `meddle` runs before each update, as another writer.
 */
class MemoryStore {
  readonly objects = new Map<string, KubeObject>();
  private rv = 0;
  meddle: ((name: string) => void) | undefined;
  /** Throws what it returns for a create of that name. */
  refuse: ((name: string) => Error | undefined) | undefined;

  private static key(namespace: string, name: string): string {
    return `${namespace}/${name}`;
  }
  private stamp(obj: KubeObject): KubeObject {
    const o = structuredClone(obj);
    o.metadata = { ...o.metadata, resourceVersion: String(++this.rv), uid: o.metadata?.uid ?? `uid-${this.rv}` };
    this.objects.set(MemoryStore.key(o.metadata.namespace ?? "", o.metadata.name ?? ""), o);
    return structuredClone(o);
  }
  /** Changes a stored object as another writer would: a new resourceVersion. */
  change(namespace: string, name: string, f: (o: KubeObject) => void): void {
    const o = structuredClone(this.objects.get(MemoryStore.key(namespace, name))!);
    f(o);
    this.stamp(o);
  }
  async get(namespace: string, name: string): Promise<KubeObject> {
    const o = this.objects.get(MemoryStore.key(namespace, name));
    if (!o) throw notFound({ group: "rbac.authorization.k8s.io", resource: "things" }, name);
    return structuredClone(o);
  }
  async create(obj: KubeObject): Promise<KubeObject> {
    const refused = this.refuse?.(obj.metadata?.name ?? "");
    if (refused) throw refused;
    if (this.objects.has(MemoryStore.key(obj.metadata?.namespace ?? "", obj.metadata?.name ?? ""))) throw alreadyExists({ group: "rbac.authorization.k8s.io", resource: "things" }, obj.metadata?.name ?? "");
    return this.stamp(obj);
  }
  async update(namespace: string, name: string, f: UpdateFunc, _ctx: unknown, opts: UpdateOptions = {}): Promise<{ object: KubeObject; created: boolean }> {
    this.meddle?.(name);
    const current = await this.get(namespace, name);
    if (opts.resourceVersion !== undefined && opts.resourceVersion !== current.metadata?.resourceVersion) throw modifiedConflict({ group: "rbac.authorization.k8s.io", resource: "things" }, name);
    return { object: this.stamp(await f(current)), created: false };
  }
  async delete(namespace: string, name: string): Promise<{ object: KubeObject; deleted: boolean }> {
    const object = await this.get(namespace, name);
    this.objects.delete(MemoryStore.key(namespace, name));
    return { object, deleted: true };
  }
}

/** A logger that keeps its info and warn lines. */
function recordingLogger(): { log: Logger; lines: { level: string; fields: Record<string, unknown>; msg: string }[] } {
  const lines: { level: string; fields: Record<string, unknown>; msg: string }[] = [];
  const log = {
    info: (fields: Record<string, unknown>, msg: string) => lines.push({ level: "info", fields, msg }),
    error: (fields: Record<string, unknown>, msg: string) => lines.push({ level: "error", fields, msg }),
    warn: (fields: Record<string, unknown>, msg: string) => lines.push({ level: "warn", fields, msg }),
  };
  return { log: log as unknown as Logger, lines };
}

describe("reconcileBootstrapPolicy", () => {
  const memoryStores = () => {
    const s = { roles: new MemoryStore(), clusterRoles: new MemoryStore(), roleBindings: new MemoryStore(), clusterRoleBindings: new MemoryStore() };
    return { s, stores: s as unknown as RbacStores & Record<keyof RbacStores, ResourceStore> };
  };

  it("creates everything once, logging a line per object, and then nothing", async () => {
    const { s, stores } = memoryStores();
    const first = recordingLogger();
    await reconcileBootstrapPolicy(stores, first.log);
    const p = bootstrapPolicy();
    const total = p.clusterRoles.length + p.clusterRoleBindings.length + p.roles.length + p.roleBindings.length;
    assert.equal(s.clusterRoles.objects.size + s.clusterRoleBindings.objects.size + s.roles.objects.size + s.roleBindings.objects.size, total);
    assert.equal(first.lines.length, total);
    assert.deepEqual(first.lines[0]?.fields, { clusterrole: "admin" });
    assert.ok(first.lines.some((l) => l.fields["role"] === "kube-system/extension-apiserver-authentication-reader"));
    const second = recordingLogger();
    await reconcileBootstrapPolicy(stores, second.log);
    assert.deepEqual(second.lines, []);
  });

  it("reads again and retries when another write comes first, keeping that write", async () => {
    const { s, stores } = memoryStores();
    await reconcileBootstrapPolicy(stores, recordingLogger().log);
    s.clusterRoles.change("", "system:kube-dns", (o) => (o["rules"] = []));
    let meddled = 0;
    s.clusterRoles.meddle = (name) => {
      if (name !== "system:kube-dns" || meddled++ > 0) return;
      s.clusterRoles.change("", name, (o) => (o.metadata!.labels = { ...o.metadata!.labels, mine: "yes" }));
    };
    const { log, lines } = recordingLogger();
    await reconcileBootstrapPolicy(stores, log);
    const dns = await s.clusterRoles.get("", "system:kube-dns");
    assert.equal(dns.metadata?.labels?.["mine"], "yes", "the other write stays");
    assert.equal((dns["rules"] as unknown[]).length, 4, "list and watch of endpoints and services, broken down");
    assert.equal(meddled, 2, "the update was tried twice");
    assert.deepEqual(
      lines.map((l) => [l.level, l.fields["clusterrole"]]),
      [["info", "system:kube-dns"]],
    );
  });

  it("recreates a binding to another role, and warns of a protected one it leaves short", async () => {
    const { s, stores } = memoryStores();
    await reconcileBootstrapPolicy(stores, recordingLogger().log);
    s.clusterRoleBindings.change("", "system:kube-dns", (o) => (o["roleRef"] = { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" }));
    s.clusterRoles.change("", "system:heapster", (o) => {
      o["rules"] = [];
      o.metadata!.annotations = { [AUTOUPDATE_ANNOTATION]: "false" };
    });
    const oldUid = (await s.clusterRoleBindings.get("", "system:kube-dns")).metadata?.uid;
    const { log, lines } = recordingLogger();
    await reconcileBootstrapPolicy(stores, log);
    const binding = await s.clusterRoleBindings.get("", "system:kube-dns");
    assert.equal((binding["roleRef"] as { name: string }).name, "system:kube-dns");
    assert.notEqual(binding.metadata?.uid, oldUid, "deleted and created again");
    assert.deepEqual((await s.clusterRoles.get("", "system:heapster"))["rules"], []);
    assert.deepEqual(
      lines.map((l) => [l.level, l.fields["clusterrole"] ?? l.fields["clusterrolebinding"]]),
      [
        ["warn", "system:heapster"],
        ["info", "system:kube-dns"],
      ],
    );
  });
});

describe("reconcileBootstrapPolicy when the API refuses", () => {
  it("logs an object the API refuses and reconciles the others; a store failure fails", async () => {
    const s = { roles: new MemoryStore(), clusterRoles: new MemoryStore(), roleBindings: new MemoryStore(), clusterRoleBindings: new MemoryStore() };
    const stores = s as unknown as RbacStores;
    s.roles.refuse = () => forbidden('roles.rbac.authorization.k8s.io "x" is forbidden: unable to create new content in namespace kube-public because it is being terminated');
    const { log, lines } = recordingLogger();
    await reconcileBootstrapPolicy(stores, log);
    const p = bootstrapPolicy();
    assert.equal(s.roles.objects.size, 0);
    assert.equal(s.roleBindings.objects.size, p.roleBindings.length, "the bindings are made all the same, as upstream's");
    assert.equal(lines.filter((l) => l.level === "error").length, p.roles.length);
    s.clusterRoles.objects.clear();
    s.clusterRoles.refuse = () => internalError("the store is gone");
    await assert.rejects(reconcileBootstrapPolicy(stores, log), /the store is gone/);
  });
});

describe("the bootstrap policy across restarts on the same data dir", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "k8ts-rbac-bootstrap-"));
  const newServer = (): ApiServer => new ApiServer(compileApiServerOptions({ dataDir, port: 0, resources: builtinResources(), log: createLogger("silent") }));
  let server: ApiServer | undefined;

  after(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const c = adminClient(server!.url, dataDir);
    try {
      const r = await c.request(method, path, body === undefined ? undefined : JSON.stringify(body));
      return { status: r.status, body: JSON.parse(r.body) as T };
    } finally {
      c.close();
    }
  }
  const CR = "/apis/rbac.authorization.k8s.io/v1/clusterroles";
  const CRB = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings";
  const get = async <T>(path: string): Promise<T> => {
    const r = await request<T>("GET", path);
    assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  async function put<T extends { metadata?: { name?: string } }>(base: string, obj: T): Promise<void> {
    const r = await request("PUT", `${base}/${obj.metadata!.name!}`, obj);
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }

  it("creates the defaults, puts back removed rules and subjects, keeps additions, leaves autoupdate=false alone", async () => {
    server = newServer();
    await server.start();
    for (const n of ["cluster-admin", "admin", "edit", "view", "system:node-proxier", "system:controller:deployment-controller"]) await get(`${CR}/${encodeURIComponent(n)}`);
    for (const n of ["cluster-admin", "system:public-info-viewer", "system:controller:deployment-controller"]) await get(`${CRB}/${encodeURIComponent(n)}`);
    await get("/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/roles/extension-apiserver-authentication-reader");
    await get("/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/rolebindings/system::leader-locking-kube-scheduler");
    const proxier = await get<ClusterRole>(`${CR}/system:node-proxier`);
    assert.equal(proxier.metadata?.labels?.[BOOTSTRAPPING_LABEL], "rbac-defaults");
    assert.equal(proxier.metadata?.annotations?.[AUTOUPDATE_ANNOTATION], "true");

    // An administrator's changes while the server runs: a rule taken out of one role, one role
    // emptied and protected, a binding's subject swapped for another.
    const lastProxierRule = proxier.rules!.at(-1)!;
    await put(CR, { ...proxier, rules: proxier.rules!.slice(0, -1) });
    const heapster = await get<ClusterRole>(`${CR}/system:heapster`);
    await put(CR, { ...heapster, metadata: { ...heapster.metadata, annotations: { [AUTOUPDATE_ANNOTATION]: "false" } }, rules: [] });
    const info = await get<ClusterRoleBinding>(`${CRB}/system:public-info-viewer`);
    const alice = { apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "alice" };
    await put(CRB, { ...info, subjects: [info.subjects![0]!, alice] });
    // A binding of a default's name to another role (roleRef is immutable: deleted, created anew).
    const dns = await request("DELETE", `${CRB}/system:kube-dns`);
    assert.equal(dns.status, 200, JSON.stringify(dns.body));
    const made = await request("POST", CRB, { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", metadata: { name: "system:kube-dns" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" }, subjects: [alice] });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const untouched = (await get<ClusterRoleBinding>(`${CRB}/cluster-admin`)).metadata?.resourceVersion;
    await server.stop();
    server = undefined;

    server = newServer();
    await server.start();
    const proxierAfter = await get<ClusterRole>(`${CR}/system:node-proxier`);
    // Back as upstream adds rules: broken down, one verb each.
    assert.deepEqual(
      proxierAfter.rules!.slice(-2),
      lastProxierRule.verbs.map((verb) => ({ ...lastProxierRule, verbs: [verb] })),
      "the removed rule is back",
    );
    assert.deepEqual(proxierAfter.rules!.slice(0, -2), proxier.rules!.slice(0, -1));
    const heapsterAfter = await get<ClusterRole>(`${CR}/system:heapster`);
    assert.deepEqual(heapsterAfter.rules ?? [], [], "autoupdate=false is left alone");
    assert.equal(heapsterAfter.metadata?.annotations?.[AUTOUPDATE_ANNOTATION], "false");
    const infoAfter = await get<ClusterRoleBinding>(`${CRB}/system:public-info-viewer`);
    assert.deepEqual(
      infoAfter.subjects?.map((s) => s.name),
      [info.subjects![0]!.name, "alice", info.subjects![1]!.name],
      "the extra subject stays, the missing one is back",
    );
    const dnsAfter = await get<ClusterRoleBinding>(`${CRB}/system:kube-dns`);
    assert.equal(dnsAfter.roleRef.name, "system:kube-dns");
    assert.deepEqual(dnsAfter.subjects, [{ kind: "ServiceAccount", name: "kube-dns", namespace: "kube-system" }]);
    assert.equal((await get<ClusterRoleBinding>(`${CRB}/cluster-admin`)).metadata?.resourceVersion, untouched, "an unchanged default is not written again");
  });
});
