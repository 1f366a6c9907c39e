// Reviews over real HTTPS: SubjectAccessReview and LocalSubjectAccessReview ask about another
// user, with upstream's validation; SelfSubjectAccessReview's spec is checked the same way;
// TokenReview says who a bearer token is, for the audiences asked about.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { apiServerForSuite, startTestApiServer, type TestApiServer } from "../../testing/apiserver.js";
import { adminClient, type RawClient } from "../../testing/client.js";

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
    const ok = await post(`${AUTHZ}/subjectaccessreviews`, sar({ user: "alice", groups: ["system:authenticated"], resourceAttributes: pods }));
    assert.equal(ok.status, 201, JSON.stringify(ok.json));
    assert.deepEqual(ok.json.metadata, { creationTimestamp: null });
    assert.equal(ok.json.status?.allowed, true);
    // kubectl's `creationTimestamp: null` is empty metadata, as upstream decodes it.
    assert.equal((await post(`${AUTHZ}/subjectaccessreviews`, sar({ user: "alice", resourceAttributes: pods }, { creationTimestamp: null }))).status, 201);
    const anonymous = await post(`${AUTHZ}/subjectaccessreviews`, sar({ user: "system:anonymous", groups: ["system:unauthenticated"], nonResourceAttributes: { path: "/api", verb: "get" } }));
    assert.equal(anonymous.status, 201);
    assert.equal(anonymous.json.status?.allowed, false);
    assert.ok(anonymous.json.status?.reason, "a denial says why");
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
    const ok = await post(`${AUTHZ}/namespaces/default/localsubjectaccessreviews`, local({ user: "alice", groups: ["system:authenticated"], resourceAttributes: pods }));
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
