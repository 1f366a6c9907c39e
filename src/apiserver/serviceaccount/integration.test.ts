// ServiceAccount tokens end to end: a real API server with ServiceAccount admission on, the
// serviceaccount and root CA publisher controllers in process, the official kubectl.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ConfigMap, Pod } from "kubernetes-types/core/v1.js";
import { createLocalJWKSet, jwtVerify } from "jose";
import { ControllerManager, compileControllerManagerOptions } from "../../controllers/manager.js";
import { KUBECTL, startTestApiServer, type KubectlResult, type TestApiServer } from "../../testing/apiserver.js";
import { adminClient, type RawClient, type RawResponse } from "../../testing/client.js";
import { until } from "../../testing/wait.js";
import { createLogger } from "../../util/log.js";
import { issueToken, signingKeyFromPem } from "./jwt.js";

const ISSUER = "https://kubernetes.default.svc.cluster.local";
const log = createLogger("silent");

void describe("ServiceAccount tokens (API server + controllers + kubectl)", () => {
  let srv: TestApiServer;
  let admin: RawClient;
  let anon: RawClient;
  let manager: ControllerManager;
  let ca: string;

  before(async () => {
    srv = await startTestApiServer({ disableAdmissionPlugins: [] });
    admin = adminClient(srv.url, srv.dataDir);
    anon = adminClient(srv.url, srv.dataDir, { anonymous: true });
    ca = readFileSync(srv.server.caPath, "utf8");
    manager = new ControllerManager(compileControllerManagerOptions({ kubeconfig: srv.kubeconfig, controllers: ["serviceaccount", "root-ca-cert-publisher"], leaderElect: false, serve: false, log }));
    await manager.start();
    await until("the default ServiceAccount", async () => ((await admin.request("GET", "/api/v1/namespaces/default/serviceaccounts/default")).status === 200 ? true : undefined));
  });

  after(async () => {
    await manager?.stop();
    admin?.close();
    anon?.close();
    await srv?.stop();
  });

  const json = <T>(r: RawResponse, status: number): T => {
    assert.equal(r.status, status, r.body);
    return JSON.parse(r.body) as T;
  };
  const post = (path: string, body: unknown): Promise<RawResponse> => admin.request("POST", path, JSON.stringify(body));
  const requestToken = async (ns: string, sa: string, spec: Record<string, unknown> = {}): Promise<string> =>
    json<{ status: { token: string } }>(await post(`/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`, { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec }), 201).status.token;
  const as = (token: string, method: string, path: string, body?: unknown): Promise<RawResponse> =>
    anon.request(method, path, body === undefined ? undefined : JSON.stringify(body), { Authorization: `Bearer ${token}` });
  const whoami = async (token: string): Promise<{ username: string; uid?: string; groups: string[]; extra?: Record<string, string[]> }> =>
    json<{ status: { userInfo: { username: string; groups: string[] } } }>(await as(token, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" }), 201).status.userInfo;

  /** kubectl with no kubeconfig at all: only the flags given. */
  const bareKubectl = (args: readonly string[]): Promise<KubectlResult> => {
    const empty = join(srv.dataDir, "empty.kubeconfig");
    writeFileSync(empty, "apiVersion: v1\nkind: Config\n");
    return new Promise((resolve) => {
      execFile(KUBECTL, ["--kubeconfig", empty, "--cache-dir", join(srv.dataDir, "bare-cache"), ...args], { env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: srv.dataDir }, timeout: 60_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0, stdout, stderr }),
      );
    });
  };

  void it("TokenRequest: 201 with a token that authenticates as the service account; 404 and 422 as upstream", async () => {
    json(await post("/api/v1/namespaces/default/serviceaccounts", { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "robot" } }), 201);
    const r = json<{ kind: string; spec: { audiences: string[]; expirationSeconds: number }; status: { token: string; expirationTimestamp: string } }>(
      await post("/api/v1/namespaces/default/serviceaccounts/robot/token", { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 1200 } }),
      201,
    );
    assert.equal(r.kind, "TokenRequest");
    assert.deepEqual(r.spec.audiences, [ISSUER]);
    const left = Date.parse(r.status.expirationTimestamp) - Date.now();
    assert.ok(left > 1100_000 && left <= 1200_000, `expires in ${left} ms`);
    const user = await whoami(r.status.token);
    assert.equal(user.username, "system:serviceaccount:default:robot");
    assert.deepEqual(user.groups, ["system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"]);
    // Authenticated, and with no role bound, allowed nothing but what every user may do (RBAC).
    const denied = json<{ message: string }>(await as(r.status.token, "GET", "/api/v1/namespaces/default/pods"), 403);
    assert.equal(denied.message, 'pods is forbidden: User "system:serviceaccount:default:robot" cannot list resource "pods" in API group "" in the namespace "default"');

    assert.equal((await post("/api/v1/namespaces/default/serviceaccounts/nobody/token", { spec: {} })).status, 404);
    const invalid = json<{ reason: string; message: string }>(await post("/api/v1/namespaces/default/serviceaccounts/robot/token", { spec: { expirationSeconds: 60 } }), 422);
    assert.equal(invalid.message, 'TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes');
    assert.equal((await admin.request("GET", "/api/v1/namespaces/default/serviceaccounts/robot/token")).status, 405);
    // Deleting the service account ends its tokens.
    json(await admin.request("DELETE", "/api/v1/namespaces/default/serviceaccounts/robot"), 200);
    await until("the token to stop working", async () => ((await as(r.status.token, "GET", "/api/v1/namespaces/default/pods")).status === 401 ? true : undefined));
  });

  void it("`kubectl create token default` prints a token kubectl can then use", async () => {
    const created = await srv.kubectl(["create", "token", "default"]);
    assert.equal(created.code, 0, created.stderr);
    const token = created.stdout.trim();
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    const flags = ["--server", srv.url, "--certificate-authority", srv.server.caPath, "--token", token];
    const who = await bareKubectl([...flags, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"]);
    assert.equal(who.code, 0, who.stderr);
    assert.equal(who.stdout, "system:serviceaccount:default:default");
    const refused = await bareKubectl([...flags, "get", "pods"]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /pods is forbidden: User "system:serviceaccount:default:default" cannot list resource "pods" in API group "" in the namespace "default"/);
    // A role bound to the service account lets it.
    for (const args of [
      ["create", "role", "pod-reader", "--verb=get,list,watch", "--resource=pods"],
      ["create", "rolebinding", "default-reads-pods", "--role=pod-reader", "--serviceaccount=default:default"],
    ]) {
      const r = await srv.kubectl(args);
      assert.equal(r.code, 0, r.stderr);
    }
    await until("the service account to list pods", async () => ((await bareKubectl([...flags, "get", "pods"])).code === 0 ? true : undefined));
    const bad = await bareKubectl(["--server", srv.url, "--certificate-authority", srv.server.caPath, "--token", token.slice(0, -4) + "AAAA", "get", "pods"]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Unauthorized|must be logged in/);
  });

  void it("a created pod gets the kube-api-access volume; a token bound to it dies with it", async () => {
    const pod = json<Pod>(await post("/api/v1/namespaces/default/pods", { apiVersion: "v1", kind: "Pod", metadata: { name: "bound" }, spec: { containers: [{ name: "c", image: "busybox:1.35" }] } }), 201);
    assert.equal(pod.spec?.serviceAccountName, "default");
    const volume = pod.spec?.volumes?.find((v) => v.name.startsWith("kube-api-access-"));
    assert.ok(volume, JSON.stringify(pod.spec?.volumes));
    assert.match(volume.name, /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.deepEqual(volume.projected?.sources?.map((s) => Object.keys(s)[0]), ["serviceAccountToken", "configMap", "downwardAPI"]);
    assert.deepEqual(pod.spec?.containers[0]?.volumeMounts, [{ name: volume.name, readOnly: true, mountPath: "/var/run/secrets/kubernetes.io/serviceaccount" }]);

    const token = await requestToken("default", "default", { boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "bound", uid: pod.metadata?.uid } });
    const user = await whoami(token);
    assert.deepEqual(user.extra?.["authentication.kubernetes.io/pod-name"], ["bound"]);
    assert.deepEqual(user.extra?.["authentication.kubernetes.io/pod-uid"], [pod.metadata?.uid]);
    json(await admin.request("DELETE", "/api/v1/namespaces/default/pods/bound?gracePeriodSeconds=0"), 200);
    await until("the pod to be gone", async () => ((await admin.request("GET", "/api/v1/namespaces/default/pods/bound")).status === 404 ? true : undefined));
    // The authenticator reads the watch cache, which may trail storage by a moment.
    const r = await until("the bound token to be refused", async () => {
      const res = await as(token, "GET", "/api/v1/namespaces/default/pods");
      return res.status === 200 ? undefined : res;
    });
    assert.equal(r.status, 401, r.body);
    assert.equal((JSON.parse(r.body) as { reason: string }).reason, "Unauthorized");
  });

  void it("a pod created right after its namespace waits for `default`; an unknown service account is refused", async () => {
    json(await post("/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "fresh" } }), 201);
    const pod = json<Pod>(await post("/api/v1/namespaces/fresh/pods", { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "busybox:1.35" }] } }), 201);
    assert.ok(pod.spec?.volumes?.some((v) => v.name.startsWith("kube-api-access-")));
    const refused = json<{ reason: string; message: string }>(
      await post("/api/v1/namespaces/fresh/pods", { apiVersion: "v1", kind: "Pod", metadata: { name: "q" }, spec: { serviceAccountName: "ghost", containers: [{ name: "c", image: "busybox:1.35" }] } }),
      403,
    );
    assert.equal(refused.message, 'pods "q" is forbidden: error looking up service account fresh/ghost: serviceaccount "ghost" not found');
    // A missing namespace is still NamespaceLifecycle's 404, at once.
    assert.equal((await post("/api/v1/namespaces/nowhere/pods", { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "x" }] } })).status, 404);
  });

  void it("kube-root-ca.crt appears in a new namespace and is restored after an edit or a delete", async () => {
    json(await post("/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "ca-test" } }), 201);
    const path = "/api/v1/namespaces/ca-test/configmaps/kube-root-ca.crt";
    const get = async (): Promise<ConfigMap | undefined> => {
      const r = await admin.request("GET", path);
      return r.status === 200 ? (JSON.parse(r.body) as ConfigMap) : undefined;
    };
    const published = await until("kube-root-ca.crt", get);
    assert.equal(published.data?.["ca.crt"], ca);
    assert.match(published.metadata?.annotations?.["kubernetes.io/description"] ?? "", /^Contains a CA bundle/);
    json(await admin.request("PATCH", path, JSON.stringify({ data: { "ca.crt": "tampered" } }), { "Content-Type": "application/merge-patch+json" }), 200);
    await until("the CA restored", async () => ((await get())?.data?.["ca.crt"] === ca ? true : undefined));
    json(await admin.request("DELETE", path), 200);
    await until("the ConfigMap recreated", async () => ((await get())?.data?.["ca.crt"] === ca ? true : undefined));
  });

  void it("rejects tokens signed by another key (401) and publishes the key that verifies ours", async () => {
    const sa = json<{ metadata: { uid: string } }>(await admin.request("GET", "/api/v1/namespaces/default/serviceaccounts/default"), 200);
    const foreign = signingKeyFromPem(generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString());
    const forged = await issueToken(foreign, { issuer: ISSUER, audiences: [ISSUER], issuedAt: new Date(), expirationSeconds: 600, kubernetes: { namespace: "default", serviceaccount: { name: "default", uid: sa.metadata.uid } } });
    assert.equal((await as(forged.token, "GET", "/api/v1/namespaces/default/pods")).status, 401);

    const config = json<{ issuer: string; jwks_uri: string }>(await admin.request("GET", "/.well-known/openid-configuration"), 200);
    assert.deepEqual([config.issuer, config.jwks_uri], [ISSUER, `${ISSUER}/openid/v1/jwks`]);
    const jwks = json<{ keys: [] }>(await admin.request("GET", "/openid/v1/jwks"), 200);
    const token = await requestToken("default", "default", { audiences: ["vault"] });
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer: ISSUER, audience: "vault" });
    assert.equal(payload.sub, "system:serviceaccount:default:default");
    // A token for another audience is not one the API server accepts.
    assert.equal((await as(token, "GET", "/api/v1/namespaces/default/pods")).status, 401);
  });
});
