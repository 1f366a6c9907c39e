// Reviews over real HTTPS: SubjectAccessReview and LocalSubjectAccessReview ask about another
// user, with upstream's validation; SelfSubjectAccessReview's spec is checked the same way;
// TokenReview says who a bearer token is, for the audiences asked about; SelfSubjectRulesReview
// lists the rules RBAC gives the asking user (`kubectl auth can-i --list`).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { apiServerForSuite, kubectlOk, kubectlRunner, startTestApiServer, type TestApiServer } from "../../testing/apiserver.js";
import { adminClient, type RawClient } from "../../testing/client.js";
import { until } from "../../testing/wait.js";

const AUTHZ = "/apis/authorization.k8s.io/v1";

interface Answer {
  readonly status: number;
  readonly json: { metadata?: Record<string, unknown>; status?: { allowed: boolean; reason?: string }; message?: string; details?: { causes?: { field: string }[] } };
}

describe("access reviews", () => {
  const suite = apiServerForSuite();
  const post = async (path: string, body: unknown): Promise<Answer> => {
    const r = await suite.client.request("POST", path, JSON.stringify(body));
    return { status: r.status, json: JSON.parse(r.body) as Answer["json"] };
  };
  const sar = (spec: unknown, metadata?: unknown): unknown => ({ apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview", ...(metadata ? { metadata } : {}), spec });
  const pods = { verb: "list", resource: "pods", namespace: "default" };

  it("answers whether the user the spec names may do it", async () => {
    const ok = await post(`${AUTHZ}/subjectaccessreviews`, sar({ user: "alice", groups: ["system:masters", "system:authenticated"], resourceAttributes: pods }));
    assert.equal(ok.status, 201, JSON.stringify(ok.json));
    assert.deepEqual(ok.json.metadata, { creationTimestamp: null });
    assert.equal(ok.json.status?.allowed, true);
    // Under RBAC, an authenticated user no role grants it to may not.
    const plain = await post(`${AUTHZ}/subjectaccessreviews`, sar({ user: "alice", groups: ["system:authenticated"], resourceAttributes: pods }));
    assert.equal(plain.status, 201, JSON.stringify(plain.json));
    assert.deepEqual(plain.json.status, { allowed: false });
    // kubectl's `creationTimestamp: null` is empty metadata, as upstream decodes it.
    assert.equal((await post(`${AUTHZ}/subjectaccessreviews`, sar({ user: "alice", resourceAttributes: pods }, { creationTimestamp: null }))).status, 201);
    const anonymous = await post(`${AUTHZ}/subjectaccessreviews`, sar({ user: "system:anonymous", groups: ["system:unauthenticated"], nonResourceAttributes: { path: "/api", verb: "get" } }));
    assert.equal(anonymous.status, 201);
    // No rule allows it, and RBAC has nothing more to say (as upstream, where no authorizer
    // giving an opinion leaves the reason empty).
    assert.deepEqual(anonymous.json.status, { allowed: false });
  });

  it("refuses a spec or metadata upstream refuses, with a cause per field", async () => {
    const cases: [unknown, string, string][] = [
      [sar({ resourceAttributes: pods }), "spec.user", 'spec.user: Invalid value: "": at least one of user or group must be specified'],
      [sar({ user: "a" }), "spec.resourceAttributes", 'spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified'],
      [sar({ user: "a", resourceAttributes: pods, nonResourceAttributes: { path: "/", verb: "get" } }), "spec.nonResourceAttributes", "cannot be specified in combination with resourceAttributes"],
      [sar({ user: "a", resourceAttributes: pods }, { name: "x" }), "metadata", "must be empty"],
    ];
    for (const [body, field, text] of cases) {
      const r = await post(`${AUTHZ}/subjectaccessreviews`, body);
      assert.equal(r.status, 422, JSON.stringify(r.json));
      assert.match(r.json.message ?? "", /^SubjectAccessReview\.authorization\.k8s\.io "" is invalid: /);
      assert.ok(r.json.message?.includes(text), r.json.message);
      assert.deepEqual(r.json.details?.causes?.map((c) => c.field), [field]);
    }
    for (const spec of [{ user: "a", groups: 5, resourceAttributes: pods }, { user: 7, resourceAttributes: pods }, { user: "a", resourceAttributes: "pods" }, { user: "a", extra: { k: "v" }, resourceAttributes: pods }, { user: "a", resourceAttributes: { ...pods, verb: 1 } }]) {
      const r = await post(`${AUTHZ}/subjectaccessreviews`, sar(spec));
      assert.equal(r.status, 400, `${JSON.stringify(spec)}: ${JSON.stringify(r.json)}`);
      assert.match(r.json.message ?? "", /^SubjectAccessReview in version "v1" cannot be handled as a SubjectAccessReview: /);
    }
    const self = await post(`${AUTHZ}/selfsubjectaccessreviews`, { apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", spec: {} });
    assert.equal(self.status, 422, JSON.stringify(self.json));
    assert.deepEqual(self.json.details?.causes?.map((c) => c.field), ["spec.resourceAttributes"]);
  });

  it("answers a local review only about its own namespace's resources", async () => {
    const local = (spec: unknown): unknown => ({ apiVersion: "authorization.k8s.io/v1", kind: "LocalSubjectAccessReview", spec });
    const ok = await post(`${AUTHZ}/namespaces/default/localsubjectaccessreviews`, local({ user: "alice", groups: ["system:masters"], resourceAttributes: pods }));
    assert.equal(ok.status, 201, JSON.stringify(ok.json));
    assert.deepEqual(ok.json.metadata, { namespace: "default", creationTimestamp: null });
    assert.equal(ok.json.status?.allowed, true);
    const elsewhere = await post(`${AUTHZ}/namespaces/default/localsubjectaccessreviews`, local({ user: "alice", resourceAttributes: { ...pods, namespace: "kube-system" } }));
    assert.equal(elsewhere.status, 400);
    assert.equal(elsewhere.json.message, "spec.resourceAttributes.namespace must match namespace: default");
    const nonResource = await post(`${AUTHZ}/namespaces/default/localsubjectaccessreviews`, local({ user: "alice", nonResourceAttributes: { path: "/", verb: "get" } }));
    assert.equal(nonResource.status, 422);
    assert.ok(nonResource.json.message?.includes("spec.nonResourceAttributes: Invalid value"), nonResource.json.message);
    assert.equal((await suite.client.request("POST", `${AUTHZ}/localsubjectaccessreviews`, JSON.stringify(local({ user: "a", resourceAttributes: pods })))).status, 404, "no cluster-wide local review");
    assert.equal((await suite.client.request("POST", `${AUTHZ}/namespaces/default/subjectaccessreviews`, JSON.stringify(sar({ user: "a", resourceAttributes: pods })))).status, 404, "no namespaced cluster review");
  });

  it("lists both in discovery", async () => {
    const list = JSON.parse((await suite.client.request("GET", AUTHZ)).body) as { resources: { name: string; namespaced: boolean; verbs: string[] }[] };
    const of = (name: string) => list.resources.find((r) => r.name === name);
    assert.deepEqual([of("subjectaccessreviews")?.namespaced, of("subjectaccessreviews")?.verbs], [false, ["create"]]);
    assert.deepEqual([of("localsubjectaccessreviews")?.namespaced, of("localsubjectaccessreviews")?.verbs], [true, ["create"]]);
  });
});

describe("token reviews", () => {
  let server: TestApiServer;
  let client: RawClient;
  const audience = "https://k8ts.test";
  const dir = mkdtempSync(join(tmpdir(), "k8ts-tokens-"));
  before(async () => {
    const file = join(dir, "tokens.csv");
    writeFileSync(file, 't0k,bot,42,"bots,ops"\n');
    server = await startTestApiServer({ tokenAuthFile: file, apiAudiences: [audience], disableAdmissionPlugins: [] });
    client = adminClient(server.url, server.dataDir);
  });
  after(async () => {
    client?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const review = async (spec: unknown): Promise<{ status: number; json: { status?: { authenticated?: boolean; user?: { username?: string; uid?: string; groups?: string[] }; audiences?: string[]; error?: string }; message?: string } }> => {
    const r = await client.request("POST", "/apis/authentication.k8s.io/v1/tokenreviews", JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec }));
    return { status: r.status, json: JSON.parse(r.body) as never };
  };

  it("names the user of a static token, good for the server's own audiences only", async () => {
    const ok = await review({ token: "t0k" });
    assert.equal(ok.status, 201, JSON.stringify(ok.json));
    assert.deepEqual(ok.json.status, { authenticated: true, user: { username: "bot", uid: "42", groups: ["bots", "ops", "system:authenticated"] }, audiences: [audience] });
    const elsewhere = await review({ token: "t0k", audiences: ["vault"] });
    assert.equal(elsewhere.json.status?.authenticated, undefined);
    assert.match(elsewhere.json.status?.error ?? "", /invalid for the target audiences/);
    const unknown = await review({ token: "nope" });
    assert.equal(unknown.status, 201);
    assert.deepEqual(unknown.json.status, { user: {}, error: "invalid bearer token" });
    for (const spec of [{ token: 5 }, { token: "t0k", audiences: "a" }, "spec"]) assert.equal((await review(spec)).status, 400, JSON.stringify(spec));
    const empty = await review({ token: "" });
    assert.equal(empty.status, 400);
    assert.equal(empty.json.message, "token is required for TokenReview in authentication.k8s.io");
  });

  it("names the service account of a token for the audiences it was made for", async () => {
    const sa = await client.request("POST", "/api/v1/namespaces/default/serviceaccounts", JSON.stringify({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "robot" } }));
    assert.equal(sa.status, 201, sa.body);
    const made = await client.request("POST", "/api/v1/namespaces/default/serviceaccounts/robot/token", JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { audiences: ["vault"] } }));
    assert.equal(made.status, 201, made.body);
    const token = (JSON.parse(made.body) as { status: { token: string } }).status.token;
    const forVault = await review({ token, audiences: ["vault", "other"] });
    assert.equal(forVault.json.status?.authenticated, true, JSON.stringify(forVault.json));
    assert.equal(forVault.json.status?.user?.username, "system:serviceaccount:default:robot");
    assert.deepEqual(forVault.json.status?.audiences, ["vault"]);
    // Asked about no audience, it must be good for the server's, which it is not.
    const forServer = await review({ token });
    assert.equal(forServer.json.status?.authenticated, undefined);
    assert.match(forServer.json.status?.error ?? "", /invalid for the target audiences/);
  });
});

describe("self subject rules reviews", () => {
  let server: TestApiServer;
  let admin: RawClient;
  /** Without a client certificate, so that the bearer token says who is asking. */
  let anonymous: RawClient;
  const dir = mkdtempSync(join(tmpdir(), "k8ts-rules-"));
  const RBAC = "/apis/rbac.authorization.k8s.io/v1";
  before(async () => {
    const file = join(dir, "tokens.csv");
    writeFileSync(file, "jane-token,jane,1001\n");
    server = await startTestApiServer({ tokenAuthFile: file });
    admin = adminClient(server.url, server.dataDir);
    anonymous = adminClient(server.url, server.dataDir, { anonymous: true });
    const make = async (path: string, obj: unknown): Promise<void> => {
      const r = await admin.request("POST", path, JSON.stringify(obj));
      assert.equal(r.status, 201, r.body);
    };
    await make(`${RBAC}/namespaces/default/roles`, { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "pod-reader" }, rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] }, { apiGroups: ["apps"], resources: ["deployments"], resourceNames: ["web"], verbs: ["get"] }] });
    const binding = (name: string, role: string): unknown => ({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role }, subjects: [{ kind: "User", name: "jane" }] });
    await make(`${RBAC}/namespaces/default/rolebindings`, binding("jane-reads", "pod-reader"));
    await make(`${RBAC}/namespaces/default/rolebindings`, binding("jane-gone", "gone"));
  });
  after(async () => {
    admin?.close();
    anonymous?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  interface RulesReview {
    spec?: unknown;
    status?: { resourceRules: { verbs: string[]; apiGroups?: string[]; resources?: string[]; resourceNames?: string[] }[]; nonResourceRules: { verbs: string[]; nonResourceURLs?: string[] }[]; incomplete: boolean; evaluationError?: string };
    message?: string;
  }
  const review = async (namespace: string | undefined): Promise<{ status: number; json: RulesReview }> => {
    const body = { apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectRulesReview", spec: namespace === undefined ? {} : { namespace } };
    const r = await anonymous.request("POST", `${AUTHZ}/selfsubjectrulesreviews`, JSON.stringify(body), { Authorization: "Bearer jane-token" });
    return { status: r.status, json: JSON.parse(r.body) as RulesReview };
  };

  it("lists the user's rules in the namespace, with the bindings whose roles are missing", async () => {
    const got = await until("jane's role binding to be seen", async () => {
      const r = await review("default");
      return r.json.status?.resourceRules.some((x) => x.resources?.includes("pods")) ? r : undefined;
    });
    assert.equal(got.status, 201, JSON.stringify(got.json));
    assert.deepEqual(got.json.spec, {});
    const status = got.json.status!;
    assert.deepEqual(
      status.resourceRules.filter((r) => r.apiGroups?.includes("") || r.apiGroups?.includes("apps")),
      [
        { verbs: ["get", "list"], apiGroups: [""], resources: ["pods"] },
        { verbs: ["get"], apiGroups: ["apps"], resources: ["deployments"], resourceNames: ["web"] },
      ],
    );
    // The cluster-wide rules every authenticated user holds come too.
    assert.ok(status.resourceRules.some((r) => r.resources?.includes("selfsubjectrulesreviews")), JSON.stringify(status));
    assert.ok(status.nonResourceRules.some((r) => r.nonResourceURLs?.includes("/version") && r.verbs.includes("get")), JSON.stringify(status));
    assert.ok(status.nonResourceRules.every((r) => !("resources" in r)));
    // As upstream's RBAC rule resolver: a missing role is an evaluation error, not an incomplete list.
    assert.equal(status.incomplete, false);
    assert.equal(status.evaluationError, 'role.rbac.authorization.k8s.io "gone" not found');

    // Elsewhere jane holds only the cluster-wide rules.
    const elsewhere = await review("kube-system");
    assert.equal(elsewhere.status, 201);
    assert.ok(!elsewhere.json.status?.resourceRules.some((r) => r.resources?.includes("pods")));
    assert.equal(elsewhere.json.status?.evaluationError, undefined);

    const none = await review(undefined);
    assert.equal(none.status, 400);
    assert.equal(none.json.message, "no namespace on request");
  });

  it("`kubectl auth can-i --list` prints them", async () => {
    const kubeconfig = join(dir, "jane.kubeconfig");
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "k8ts", cluster: { server: server.url, "certificate-authority": server.server.caPath } }],
        users: [{ name: "jane", user: { token: "jane-token" } }],
        contexts: [{ name: "jane", context: { cluster: "k8ts", user: "jane", namespace: "default" } }],
        "current-context": "jane",
      }),
    );
    const kubectl = kubectlRunner(kubeconfig, join(dir, "kubectl-cache"), dir);
    const out = await until("kubectl to list jane's pod rules", async () => {
      const o = await kubectlOk(kubectl, ["auth", "can-i", "--list"]);
      return /^pods\s/m.test(o) ? o : undefined;
    });
    assert.match(out, /^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs$/m);
    assert.match(out, /^pods\s+\[\]\s+\[\]\s+\[get list\]$/m);
    assert.match(out, /^deployments\.apps\s+\[\]\s+\[web\]\s+\[get\]$/m);
    assert.match(out, /^selfsubjectrulesreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]$/m);
    assert.match(out, /^\s+\[\/version\]\s+\[\]\s+\[get\]$/m);
    const system = await kubectlOk(kubectl, ["auth", "can-i", "--list", "-n", "kube-system"]);
    assert.doesNotMatch(system, /^pods\s/m);
  });
});
