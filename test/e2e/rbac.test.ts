// RBAC end to end with the official kubectl against a real `k8ts server` (controllers included,
// so the aggregated admin/edit/view roles are filled): the default policy, what a user may do
// through the roles bound to it, service accounts, escalation prevention, and `auth can-i`
// answering for each of them.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kubectlRunner, type Kubectl, type KubectlResult, succeeded as ok } from "../../src/testing/apiserver.js";
import { K8tsProcess } from "../../src/testing/process.js";
import { freePort } from "../../src/testing/net.js";
import { until } from "../../src/testing/wait.js";

function refused(r: KubectlResult, what: string, message: RegExp): void {
  assert.notEqual(r.code, 0, `${what} should have been refused:\n${r.stdout}`);
  assert.match(r.stderr, message, what);
}

describe("RBAC with kubectl", () => {
  let dir: string;
  let server: K8tsProcess | undefined;
  let k: Kubectl;
  let port: number;

  /** `kubectl auth can-i` as someone, until it answers `want` (bindings reach the authorizer through its cache). */
  const canI = async (args: readonly string[], want: "yes" | "no", kubectl: Kubectl = k): Promise<void> => {
    let last = "";
    await until(`can-i ${args.join(" ")} → ${want}`, async () => {
      const r = await kubectl(["auth", "can-i", ...args]);
      last = `${r.code} ${r.stdout.trim()} ${r.stderr.trim()}`;
      return r.stdout.trim() === want && r.code === (want === "yes" ? 0 : 1) ? true : undefined;
    }).catch((err: unknown) => {
      throw new Error(`${String(err)}; last answer: ${last}`);
    });
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "k8ts-rbac-"));
    port = await freePort();
    server = K8tsProcess.start("k8ts server", ["server", "--data-dir", dir, "--port", String(port), "--store", "memory://", "--disable-agent", "--disable-addons", "--log-level", process.env["K8TS_TEST_LOG"] ?? "warn"]);
    await server.ready("k8ts server ready");
    k = kubectlRunner(join(dir, "admin.kubeconfig"), join(dir, "kubectl-cache"), dir, 120_000);
    ok(await k(["create", "namespace", "dev"]), "create ns dev");
  });
  after(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("starts with upstream's default roles and bindings; the aggregated ones are filled", async () => {
    const roles = ok(await k(["get", "clusterroles", "-o", "name"]), "get clusterroles");
    for (const name of ["cluster-admin", "admin", "edit", "view", "system:basic-user", "system:discovery", "system:public-info-viewer", "system:aggregate-to-view"]) {
      assert.ok(roles.split("\n").includes(`clusterrole.rbac.authorization.k8s.io/${name}`), `${name} in:\n${roles}`);
    }
    const binding = ok(await k(["get", "clusterrolebinding", "cluster-admin", "-o", "wide"]), "get crb");
    assert.match(binding, /cluster-admin\s+ClusterRole\/cluster-admin\s+\S+\s+system:masters/);
    const label = ok(await k(["get", "clusterrole", "view", "-o", "jsonpath={.metadata.labels.kubernetes\\.io/bootstrapping}"]), "label");
    assert.equal(label, "rbac-defaults");
    // The clusterrole-aggregation controller gives view the rules of system:aggregate-to-view.
    await until("view to aggregate rules", async () => {
      const r = await k(["get", "clusterrole", "view", "-o", "jsonpath={.rules[*].resources}"]);
      return r.code === 0 && r.stdout.includes("pods") && r.stdout.includes("deployments") ? true : undefined;
    });
  });

  it("lets the admin do anything and other users only what their roles grant", async () => {
    await canI(["*", "*"], "yes");
    await canI(["create", "deployments", "-n", "dev", "--as=jane"], "no");
    refused(await k(["get", "pods", "-n", "dev", "--as=jane"]), "get pods as jane", /Error from server \(Forbidden\): pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "dev"/);
    ok(await k(["create", "rolebinding", "jane-edit", "--clusterrole=edit", "--user=jane", "-n", "dev"]), "bind edit");
    await canI(["create", "deployments", "-n", "dev", "--as=jane"], "yes");
    await canI(["create", "deployments", "-n", "default", "--as=jane"], "no");
    await canI(["create", "rolebindings", "-n", "dev", "--as=jane"], "no");
    ok(await k(["create", "configmap", "settings", "--from-literal=a=b", "-n", "dev", "--as=jane"]), "create configmap as jane");
    ok(await k(["get", "pods", "-n", "dev", "--as=jane"]), "get pods as jane");
    // Through a group too; cluster-scoped resources need a ClusterRoleBinding.
    await canI(["list", "nodes", "--as=bob", "--as-group=ops"], "no");
    ok(await k(["create", "clusterrole", "node-reader", "--verb=get,list,watch", "--resource=nodes"]), "create clusterrole");
    ok(await k(["create", "clusterrolebinding", "ops-nodes", "--clusterrole=node-reader", "--group=ops"]), "bind group");
    await canI(["list", "nodes", "--as=bob", "--as-group=ops"], "yes");
    await canI(["delete", "nodes", "--as=bob", "--as-group=ops"], "no");
  });

  it("limits a rule with resourceNames to those objects", async () => {
    ok(await k(["create", "configmap", "app", "--from-literal=x=1", "-n", "dev"]), "create cm app");
    ok(await k(["create", "role", "app-config", "--verb=get", "--resource=configmaps", "--resource-name=app", "-n", "dev"]), "create role");
    ok(await k(["create", "rolebinding", "ann-app", "--role=app-config", "--user=ann", "-n", "dev"]), "bind");
    await canI(["get", "configmap/app", "-n", "dev", "--as=ann"], "yes");
    await canI(["get", "configmap/settings", "-n", "dev", "--as=ann"], "no");
    await canI(["list", "configmaps", "-n", "dev", "--as=ann"], "no");
    assert.match(ok(await k(["get", "configmap", "app", "-n", "dev", "--as=ann"]), "get app as ann"), /^app\s+1\s/m);
  });

  it("lists what a user may do (auth can-i --list)", async () => {
    await canI(["create", "deployments", "-n", "dev", "--as=jane"], "yes");
    const list = ok(await k(["auth", "can-i", "--list", "-n", "dev", "--as=jane"]), "can-i --list");
    assert.match(list, /^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs/m);
    assert.match(list, /^deployments\.apps\s+\[\]\s+\[\]\s+\[create delete deletecollection patch update get list watch\]/m);
    assert.match(list, /^selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]/m);
    assert.match(list, /^\s+\[\/api\/\*\]\s+\[\]\s+\[get\]/m);
    const ann = ok(await k(["auth", "can-i", "--list", "-n", "dev", "--as=ann"]), "can-i --list ann");
    assert.match(ann, /^configmaps\s+\[\]\s+\[app\]\s+\[get\]/m);
  });

  it("gives a service account nothing until a role is bound to it", async () => {
    ok(await k(["create", "serviceaccount", "robot", "-n", "dev"]), "create sa");
    const token = ok(await k(["create", "token", "robot", "-n", "dev"]), "create token").trim();
    // A kubeconfig with the token as its only credential (a client certificate would win).
    const robotConfig = join(dir, "robot.kubeconfig");
    writeFileSync(
      robotConfig,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: k8ts\n  cluster:\n    server: https://127.0.0.1:${port}\n    certificate-authority: ${join(dir, "tls", "ca.crt")}\nusers:\n- name: robot\n  user:\n    token: ${token}\ncontexts:\n- name: robot\n  context:\n    cluster: k8ts\n    user: robot\ncurrent-context: robot\n`,
    );
    const robot = kubectlRunner(robotConfig, join(dir, "robot-cache"), dir, 120_000);
    const who = ok(await robot(["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"]), "whoami");
    assert.equal(who, "system:serviceaccount:dev:robot");
    refused(await robot(["get", "pods", "-n", "dev"]), "get pods as robot", /pods is forbidden: User "system:serviceaccount:dev:robot" cannot list resource "pods" in API group "" in the namespace "dev"/);
    ok(await k(["create", "rolebinding", "robot-view", "--clusterrole=view", "--serviceaccount=dev:robot", "-n", "dev"]), "bind view");
    await until("the robot to list pods", async () => ((await robot(["get", "pods", "-n", "dev"])).code === 0 ? true : undefined));
    refused(await robot(["get", "secrets", "-n", "dev"]), "view may not read secrets", /secrets is forbidden/);
    refused(await robot(["delete", "configmap", "app", "-n", "dev"]), "view may not delete", /configmaps "app" is forbidden: User "system:serviceaccount:dev:robot" cannot delete resource "configmaps" in API group "" in the namespace "dev"/);
  });

  it("refuses to grant permissions the granter does not hold, unless it may escalate or bind", async () => {
    ok(await k(["create", "rolebinding", "lee-admin", "--clusterrole=admin", "--user=lee", "-n", "dev"]), "bind admin");
    await canI(["create", "roles", "-n", "dev", "--as=lee"], "yes");
    // A role with permissions lee holds: fine. One with more: refused, naming what is missing.
    ok(await k(["create", "role", "pod-reader", "--verb=get,list", "--resource=pods", "-n", "dev", "--as=lee"]), "create role within lee's rights");
    refused(
      await k(["create", "role", "node-admin", "--verb=delete", "--resource=nodes", "-n", "dev", "--as=lee"]),
      "create a role beyond lee's rights",
      /roles\.rbac\.authorization\.k8s\.io "node-admin" is forbidden: user "lee" \(groups=\["system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\[""\], Resources:\["nodes"\], Verbs:\["delete"\]\}/,
    );
    ok(await k(["create", "rolebinding", "kim-reads", "--role=pod-reader", "--user=kim", "-n", "dev", "--as=lee"]), "bind a role lee holds");
    refused(await k(["create", "rolebinding", "kim-root", "--clusterrole=cluster-admin", "--user=kim", "-n", "dev", "--as=lee"]), "bind cluster-admin", /rolebindings\.rbac\.authorization\.k8s\.io "kim-root" is forbidden: user "lee" .* is attempting to grant RBAC permissions not currently held/);
    // `bind` on that role lets lee grant it without holding it.
    ok(await k(["create", "clusterrole", "bind-cluster-admin", "--verb=bind", "--resource=clusterroles", "--resource-name=cluster-admin"]), "create bind role");
    ok(await k(["create", "rolebinding", "lee-may-bind", "--clusterrole=bind-cluster-admin", "--user=lee", "-n", "dev"]), "grant bind");
    await canI(["bind", "clusterroles/cluster-admin", "-n", "dev", "--as=lee"], "yes");
    ok(await k(["create", "rolebinding", "kim-root", "--clusterrole=cluster-admin", "--user=kim", "-n", "dev", "--as=lee"]), "bind cluster-admin with bind");
  });

  it("answers the same through kubectl 1.27 and 1.33", async () => {
    for (const v of ["1.27", "1.33"]) {
      const kv: Kubectl = (args, o) => k(args, { ...o, binary: `/usr/lib/google-cloud-sdk/bin/kubectl.${v}` });
      const fresh = kubectlRunner(join(dir, "admin.kubeconfig"), join(dir, `cache-${v}`), dir, 120_000);
      const kvf: Kubectl = (args, o) => fresh(args, { ...o, binary: `/usr/lib/google-cloud-sdk/bin/kubectl.${v}` });
      await canI(["create", "deployments", "-n", "dev", "--as=jane"], "yes", kvf);
      await canI(["create", "deployments", "-n", "default", "--as=jane"], "no", kv);
      refused(await kv(["get", "pods", "-n", "default", "--as=jane"]), `kubectl ${v} get pods as jane`, /pods is forbidden: User "jane" cannot list resource "pods"/);
    }
  });
});
