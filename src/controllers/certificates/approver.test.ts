import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CertificateSigningRequest } from "kubernetes-types/certificates/v1.js";
import type { SubjectAccessReview } from "kubernetes-types/authorization/v1.js";
import { conflictError, notFoundError, seedLister } from "../testing/index.js";
import { createLogger } from "../../util/log.js";
import { createCertificateRequest, type CertificateRequestOptions } from "../../util/pki.js";
import { runController } from "../../client/controller.js";
import { SharedInformerFactory } from "../../client/informer.js";
import { createClientFromKubeconfig, type RestClient } from "../../client/rest.js";
import { startTestApiServer, type TestApiServer } from "../../testing/apiserver.js";
import { adminClient, type RawClient } from "../../testing/client.js";
import { until } from "../../testing/wait.js";
import { approvalApi, AUTO_APPROVED, CSRApprovalError, CSRApprovingController, isNodeClientCert, isSelfNodeClientCert, type ApprovalApi } from "./approver.js";

const log = createLogger("silent");
const KUBELET_CLIENT = "kubernetes.io/kube-apiserver-client-kubelet";
const NODE_CLIENT_MESSAGE = "Auto approving kubelet client certificate after SubjectAccessReview.";
const SELF_NODE_CLIENT_MESSAGE = "Auto approving self kubelet client certificate after SubjectAccessReview.";

interface CsrOpts {
  readonly signer?: string;
  readonly usages?: string[];
  readonly username?: string;
  readonly groups?: string[];
  readonly conditions?: string[];
  readonly certificate?: string;
}

const nodeRequest = (node: string): CertificateRequestOptions => ({ commonName: `system:node:${node}`, organizations: ["system:nodes"] });

async function requestB64(req: CertificateRequestOptions): Promise<string> {
  return Buffer.from((await createCertificateRequest(req)).csrPem).toString("base64");
}

async function csr(name: string, req: CertificateRequestOptions, o: CsrOpts = {}): Promise<CertificateSigningRequest> {
  return {
    apiVersion: "certificates.k8s.io/v1",
    kind: "CertificateSigningRequest",
    metadata: { name, uid: `uid-${name}`, resourceVersion: "3" },
    spec: {
      request: await requestB64(req),
      signerName: o.signer ?? KUBELET_CLIENT,
      usages: o.usages ?? ["digital signature", "client auth"],
      username: o.username ?? "system:bootstrap:abcdef",
      uid: "u-1",
      groups: o.groups ?? ["system:bootstrappers", "system:authenticated"],
      extra: { scope: ["a", "b"] },
    },
    status: {
      conditions: (o.conditions ?? []).map((type) => ({ type, status: "True", reason: "Test", lastUpdateTime: "2026-03-01T11:00:00Z" })),
      ...(o.certificate ? { certificate: o.certificate } : {}),
    },
  };
}

/** Records reviews and approvals; `allowed` answers each review by its subresource. */
class FakeApprovalApi implements ApprovalApi {
  readonly reviews: SubjectAccessReview[] = [];
  readonly approvals: CertificateSigningRequest[] = [];
  approvalError: unknown;
  constructor(private readonly allowed: ReadonlySet<string>) {}
  createSubjectAccessReview(review: SubjectAccessReview): Promise<SubjectAccessReview> {
    this.reviews.push(structuredClone(review));
    return Promise.resolve({ ...review, status: { allowed: this.allowed.has(review.spec.resourceAttributes?.subresource ?? "") } });
  }
  updateApproval(obj: CertificateSigningRequest): Promise<CertificateSigningRequest> {
    if (this.approvalError !== undefined) return Promise.reject(this.approvalError);
    this.approvals.push(structuredClone(obj));
    return Promise.resolve(obj);
  }
}

function controller(csrs: CertificateSigningRequest[], allowed: string[]) {
  const api = new FakeApprovalApi(new Set(allowed));
  const c = new CSRApprovingController({ api, csrs: seedLister(csrs), log });
  return { api, c };
}

describe("recognisers (upstream's isNodeClientCert, isSelfNodeClientCert)", () => {
  const info = (o: Partial<Parameters<typeof isNodeClientCert>[1]> = {}) => ({ commonName: "system:node:n1", organizations: ["system:nodes"], dnsNames: [], ipAddresses: [], emailAddresses: [], uris: [], ...o });
  const spec = (o: { signerName?: string; usages?: string[]; username?: string } = {}) => ({ spec: { request: "", signerName: o.signerName ?? KUBELET_CLIENT, usages: o.usages ?? ["digital signature", "key encipherment", "client auth"], username: o.username ?? "system:bootstrap:abcdef" } });

  it("a node client request: the kubelet signer, O exactly system:nodes, CN system:node:*, no SANs, client usages", () => {
    assert.equal(isNodeClientCert(spec(), info()), true);
    assert.equal(isNodeClientCert(spec({ usages: ["client auth", "digital signature"] }), info()), true);
    assert.equal(isNodeClientCert(spec({ signerName: "kubernetes.io/kube-apiserver-client" }), info()), false);
    assert.equal(isNodeClientCert(spec(), info({ organizations: ["system:nodes", "admins"] })), false);
    assert.equal(isNodeClientCert(spec(), info({ organizations: [] })), false);
    assert.equal(isNodeClientCert(spec(), info({ commonName: "n1" })), false);
    assert.equal(isNodeClientCert(spec(), info({ dnsNames: ["n1"] })), false);
    assert.equal(isNodeClientCert(spec(), info({ ipAddresses: ["10.0.0.1"] })), false);
    assert.equal(isNodeClientCert(spec(), info({ emailAddresses: ["a@b"] })), false);
    assert.equal(isNodeClientCert(spec(), info({ uris: ["spiffe://x"] })), false);
    assert.equal(isNodeClientCert(spec({ usages: ["client auth"] }), info()), false);
    assert.equal(isNodeClientCert(spec({ usages: ["digital signature", "client auth", "server auth"] }), info()), false);
  });

  it("a self node client request is one whose requestor is the CN", () => {
    assert.equal(isSelfNodeClientCert(spec({ username: "system:node:n1" }), info()), true);
    assert.equal(isSelfNodeClientCert(spec(), info()), false);
    assert.equal(isSelfNodeClientCert(spec({ username: "system:node:n2" }), info()), false);
    assert.equal(isSelfNodeClientCert(spec({ username: "system:node:n1", usages: ["server auth"] }), info()), false);
  });
});

describe("CSRApprovingController.sync", () => {
  it("approves a bootstrap node client request its requestor may create as nodeclient, asking about the requestor", async () => {
    const t = controller([await csr("boot", nodeRequest("n1"))], ["nodeclient"]);
    await t.c.sync("boot");
    assert.equal(t.api.reviews.length, 1);
    assert.deepEqual(t.api.reviews[0]?.spec, {
      user: "system:bootstrap:abcdef",
      uid: "u-1",
      groups: ["system:bootstrappers", "system:authenticated"],
      extra: { scope: ["a", "b"] },
      resourceAttributes: { group: "certificates.k8s.io", resource: "certificatesigningrequests", verb: "create", subresource: "nodeclient" },
    });
    assert.equal(t.api.approvals.length, 1);
    assert.deepEqual(t.api.approvals[0]?.status?.conditions, [{ type: "Approved", status: "True", reason: AUTO_APPROVED, message: NODE_CLIENT_MESSAGE }]);
    assert.equal(t.api.approvals[0]?.metadata?.resourceVersion, "3");
  });

  it("a node renewing its own certificate is asked about as selfnodeclient first, then as nodeclient", async () => {
    const self = await csr("self", nodeRequest("n1"), { username: "system:node:n1", groups: ["system:nodes", "system:authenticated"] });
    const t = controller([self], ["selfnodeclient"]);
    await t.c.sync("self");
    assert.deepEqual(t.api.reviews.map((r) => r.spec.resourceAttributes?.subresource), ["selfnodeclient"]);
    assert.equal(t.api.approvals[0]?.status?.conditions?.[0]?.message, SELF_NODE_CLIENT_MESSAGE);

    const viaNodeClient = controller([self], ["nodeclient"]);
    await viaNodeClient.c.sync("self");
    assert.deepEqual(viaNodeClient.api.reviews.map((r) => r.spec.resourceAttributes?.subresource), ["selfnodeclient", "nodeclient"]);
    assert.equal(viaNodeClient.api.approvals[0]?.status?.conditions?.[0]?.message, NODE_CLIENT_MESSAGE);
  });

  it("a requestor not allowed leaves the request pending, with upstream's error to retry it later", async () => {
    const t = controller([await csr("jane", nodeRequest("n1"), { username: "jane" }), await csr("n1", nodeRequest("n1"), { username: "system:node:n1" })], []);
    await assert.rejects(t.c.sync("jane"), (e: unknown) => e instanceof CSRApprovalError && e.code === "NotApproved" && e.message === 'recognized csr "jane" as [nodeclient] but subject access review was not approved');
    await assert.rejects(t.c.sync("n1"), (e: unknown) => e instanceof CSRApprovalError && e.message === 'recognized csr "n1" as [selfnodeclient nodeclient] but subject access review was not approved');
    assert.equal(t.api.approvals.length, 0);
  });

  it("leaves alone other signers' requests, wrong subjects, decided and issued ones, and gone ones, without asking", async () => {
    const t = controller(
      [
        await csr("client", nodeRequest("n1"), { signer: "kubernetes.io/kube-apiserver-client" }),
        await csr("serving", { ...nodeRequest("n1"), dnsNames: ["n1"] }, { signer: "kubernetes.io/kubelet-serving", usages: ["digital signature", "server auth"] }),
        await csr("org", { commonName: "system:node:n1", organizations: ["system:masters"] }),
        await csr("cn", { commonName: "n1", organizations: ["system:nodes"] }),
        await csr("san", { ...nodeRequest("n1"), ipAddresses: ["10.0.0.1"] }),
        await csr("usages", nodeRequest("n1"), { usages: ["client auth"] }),
        await csr("approved", nodeRequest("n1"), { conditions: ["Approved"] }),
        await csr("denied", nodeRequest("n1"), { conditions: ["Denied"] }),
        await csr("failed", nodeRequest("n1"), { conditions: ["Failed"] }),
        await csr("issued", nodeRequest("n1"), { certificate: "Zm9v" }),
      ],
      ["nodeclient", "selfnodeclient"],
    );
    for (const k of ["client", "serving", "org", "cn", "san", "usages", "approved", "denied", "failed", "issued", "gone"]) await t.c.sync(k);
    assert.deepEqual(t.api.reviews, []);
    assert.deepEqual(t.api.approvals, []);
  });

  it("a request deleted before the approval is done with; a conflict is retried", async () => {
    const t = controller([await csr("boot", nodeRequest("n1"))], ["nodeclient"]);
    t.api.approvalError = notFoundError("certificatesigningrequests", "boot");
    await t.c.sync("boot");
    t.api.approvalError = conflictError("certificatesigningrequests", "boot");
    await assert.rejects(t.c.sync("boot"), (e: unknown) => e instanceof CSRApprovalError && e.code === "ApprovalFailed" && e.message.startsWith("error updating approval for csr: "));
  });
});

describe("csrapproving-controller on a real API server", () => {
  const dir = mkdtempSync(join(tmpdir(), "k8ts-csrapproving-"));
  let server: TestApiServer;
  let admin: RawClient;
  let anonymous: RawClient;
  let client: RestClient;
  let informers: SharedInformerFactory | undefined;
  const stop = new AbortController();
  let running: Promise<void> | undefined;
  /** Every sync's outcome, by key: "ok" or the error's code. */
  const outcomes: [string, string][] = [];

  const send = async (c: RawClient, method: string, path: string, obj: unknown, token?: string): Promise<{ status: number; json: CertificateSigningRequest & { message?: string } }> => {
    const r = await c.request(method, path, obj === undefined ? undefined : JSON.stringify(obj), token ? { Authorization: `Bearer ${token}` } : {});
    return { status: r.status, json: JSON.parse(r.body) as CertificateSigningRequest & { message?: string } };
  };
  const CSRS = "/apis/certificates.k8s.io/v1/certificatesigningrequests";
  const createAs = async (token: string, name: string, req: CertificateRequestOptions, signerName = KUBELET_CLIENT): Promise<void> => {
    const body = { apiVersion: "certificates.k8s.io/v1", kind: "CertificateSigningRequest", metadata: { name }, spec: { request: await requestB64(req), signerName, usages: ["digital signature", "client auth"] } };
    // The RBAC bindings made by the test reach the authorizer's cache a moment after they are written.
    await until(`${name} created`, async () => ((await send(anonymous, "POST", CSRS, body, token)).status === 201 ? true : undefined));
  };
  const conditions = async (name: string) => (await send(admin, "GET", `${CSRS}/${name}`, undefined)).json.status?.conditions ?? [];
  const syncedOnce = (name: string, outcome: string) => until(`a sync of ${name} ending ${outcome}`, () => (outcomes.some(([k, o]) => k === name && o === outcome) ? true : undefined));

  before(async () => {
    const tokens = join(dir, "tokens.csv");
    writeFileSync(
      tokens,
      ['boot-token,system:bootstrap:abcdef,,"system:bootstrappers,system:bootstrappers:k8ts:default-node-token"', 'node-token,system:node:n2,,"system:nodes"', "jane-token,jane,1001"].join("\n") + "\n",
    );
    server = await startTestApiServer({ tokenAuthFile: tokens });
    admin = adminClient(server.url, server.dataDir);
    anonymous = adminClient(server.url, server.dataDir, { anonymous: true });
    // jane may ask for certificates, but not for nodes'; nodes may ask (the Node authorizer lets them upstream).
    const binding = (name: string, subject: { kind: string; name: string }) => ({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:node-bootstrapper" },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", ...subject }],
    });
    for (const b of [binding("test:jane-csrs", { kind: "User", name: "jane" }), binding("test:nodes-csrs", { kind: "Group", name: "system:nodes" })]) {
      assert.equal((await send(admin, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", b)).status, 201);
    }

    client = await createClientFromKubeconfig(server.kubeconfig, { qps: Infinity });
    informers = new SharedInformerFactory({ client, log, omitManagedFields: true });
    const csrs = informers.forKind("certificates.k8s.io/v1", "CertificateSigningRequest");
    const c = new CSRApprovingController({ api: approvalApi(client), csrs: csrs.lister, log });
    csrs.addEventHandler({ onAdd: (o) => c.csrChanged(o), onUpdate: (_old, o) => c.csrChanged(o) });
    informers.start(stop.signal);
    assert.ok(await informers.waitForCacheSync(stop.signal));
    const sync = async (key: string, signal: AbortSignal, l: typeof log): Promise<void> => {
      try {
        await c.sync(key, signal, l);
        outcomes.push([key, "ok"]);
      } catch (err) {
        outcomes.push([key, err instanceof CSRApprovalError ? err.code : String(err)]);
        throw err;
      }
    };
    running = runController({ name: "csrapproving-controller", queue: c.queue, workers: 2, sync, log, signal: stop.signal });
  });
  after(async () => {
    stop.abort();
    await running;
    await informers?.shutdown();
    client?.close();
    admin?.close();
    anonymous?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  it("approves a bootstrap token's request for a node client certificate (kubeadm's nodeclient binding)", async () => {
    await createAs("boot-token", "node-n1", nodeRequest("n1"));
    const approved = await until("node-n1 approved", async () => (await conditions("node-n1")).find((c) => c.type === "Approved"));
    assert.equal(approved.status, "True");
    assert.equal(approved.reason, AUTO_APPROVED);
    assert.equal(approved.message, NODE_CLIENT_MESSAGE);
    assert.ok(approved.lastUpdateTime);
  });

  it("approves a node's request for its own client certificate (selfnodeclient)", async () => {
    await createAs("node-token", "node-n2", nodeRequest("n2"));
    const approved = await until("node-n2 approved", async () => (await conditions("node-n2")).find((c) => c.type === "Approved"));
    assert.equal(approved.message, SELF_NODE_CLIENT_MESSAGE);
  });

  it("leaves pending a request whose requestor may not create nodeclient", async () => {
    await createAs("jane-token", "jane-node", nodeRequest("n3"));
    await syncedOnce("jane-node", "NotApproved");
    assert.deepEqual(await conditions("jane-node"), []);
  });

  it("leaves alone another signer's request and a wrong subject, even from a bootstrap token", async () => {
    await createAs("boot-token", "other-signer", nodeRequest("n4"), "kubernetes.io/kube-apiserver-client");
    await createAs("boot-token", "wrong-subject", { commonName: "system:node:n5", organizations: ["system:nodes", "extra"] });
    await syncedOnce("other-signer", "ok");
    await syncedOnce("wrong-subject", "ok");
    assert.deepEqual(await conditions("other-signer"), []);
    assert.deepEqual(await conditions("wrong-subject"), []);
  });
});
