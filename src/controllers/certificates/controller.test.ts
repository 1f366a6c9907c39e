import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { CertificateSigningRequest } from "kubernetes-types/certificates/v1.js";
import { conflictError, FakeApi, notFoundError, seedLister } from "../testing/index.js";
import { createLogger } from "../../util/log.js";
import { rfc3339 } from "../../util/time.js";
import { certificateFromPem, createCA, createCertificateRequest, isIssuedBy, type CertAndKey, type CertificateRequestOptions } from "../../util/pki.js";
import { CSRSigningController, SIGNER_VALIDATION_FAILURE } from "./controller.js";
import { certificateTTL, checkKubeAPIServerClient, checkKubeletClient, checkKubeletServing, DEFAULT_SIGNING_DURATION_MS } from "./signer.js";

const log = createLogger("silent");
const HOUR = 3600_000;
/** The controller's clock, fixed; the CA below is valid around it. */
const NOW = Date.now();

interface CsrOpts {
  readonly signer?: string;
  readonly usages?: string[];
  readonly conditions?: string[];
  readonly certificate?: string;
  readonly expirationSeconds?: number;
}

async function csr(name: string, req: CertificateRequestOptions, o: CsrOpts = {}): Promise<CertificateSigningRequest> {
  const { csrPem } = await createCertificateRequest(req);
  return {
    apiVersion: "certificates.k8s.io/v1",
    kind: "CertificateSigningRequest",
    metadata: { name, uid: `uid-${name}`, resourceVersion: "3" },
    spec: {
      request: Buffer.from(csrPem).toString("base64"),
      signerName: o.signer ?? "kubernetes.io/kube-apiserver-client",
      usages: o.usages ?? ["client auth"],
      ...(o.expirationSeconds !== undefined ? { expirationSeconds: o.expirationSeconds } : {}),
    },
    status: {
      conditions: (o.conditions ?? ["Approved"]).map((type) => ({ type, status: "True", reason: "Test", lastUpdateTime: "2026-03-01T11:00:00Z" })),
      ...(o.certificate ? { certificate: o.certificate } : {}),
    },
  };
}

let ca: CertAndKey;
before(async () => {
  ca = await createCA("cluster-ca");
});

function controller(csrs: CertificateSigningRequest[], durationMs = DEFAULT_SIGNING_DURATION_MS) {
  const api = new FakeApi();
  api.seed("certificates.k8s.io", "certificatesigningrequests", ...structuredClone(csrs));
  const c = new CSRSigningController({ api, csrs: seedLister(csrs), ca, durationMs, log, now: () => NOW });
  const written = (i = 0): CertificateSigningRequest | undefined => api.writes()[i]?.object as CertificateSigningRequest | undefined;
  const certificate = (i = 0): string => Buffer.from(written(i)?.status?.certificate ?? "", "base64").toString("utf8");
  return { api, c, written, certificate };
}

describe("CSRSigningController.sync", () => {
  it("signs an approved kube-apiserver-client request with the cluster CA through status", async () => {
    const t = controller([await csr("alice", { commonName: "alice", organizations: ["devs"] }, { usages: ["digital signature", "key encipherment", "client auth"] })]);
    await t.c.sync("alice");
    assert.deepEqual(t.api.verbs(), ["updateStatus certificatesigningrequests/status alice"]);
    const pem = t.certificate();
    assert.ok(isIssuedBy(pem, ca.certPem));
    assert.equal(certificateFromPem(pem).subject, "O=devs, CN=alice");
    assert.deepEqual(t.written()?.status?.conditions?.map((c) => c.type), ["Approved"]);
  });

  it("honours expirationSeconds within the signing duration, at least 10 minutes", async () => {
    assert.equal(certificateTTL(undefined, DEFAULT_SIGNING_DURATION_MS), 8760 * HOUR);
    assert.equal(certificateTTL(3600, DEFAULT_SIGNING_DURATION_MS), HOUR);
    assert.equal(certificateTTL(60, DEFAULT_SIGNING_DURATION_MS), 10 * 60_000);
    assert.equal(certificateTTL(10 * 8760 * 3600, 2 * HOUR), 2 * HOUR);
    const t = controller([await csr("short", { commonName: "bob" }, { expirationSeconds: 3600 })], 24 * HOUR);
    await t.c.sync("short");
    const cert = certificateFromPem(t.certificate());
    // One hour is short: no backdated end.
    assert.equal(cert.notAfter.getTime() - cert.notBefore.getTime(), HOUR + 5 * 60_000);
  });

  it("signs kubelet client and serving requests that follow the node rules", async () => {
    const t = controller([
      await csr("client", { commonName: "system:node:n1", organizations: ["system:nodes"] }, { signer: "kubernetes.io/kube-apiserver-client-kubelet", usages: ["digital signature", "client auth"] }),
      await csr("serving", { commonName: "system:node:n1", organizations: ["system:nodes"], dnsNames: ["n1"], ipAddresses: ["10.0.0.1"] }, { signer: "kubernetes.io/kubelet-serving", usages: ["digital signature", "key encipherment", "server auth"] }),
    ]);
    await t.c.sync("client");
    await t.c.sync("serving");
    assert.deepEqual(t.api.verbs(), ["updateStatus certificatesigningrequests/status client", "updateStatus certificatesigningrequests/status serving"]);
    assert.ok(isIssuedBy(t.certificate(1), ca.certPem));
  });

  it("marks a request its signer's policy refuses Failed with SignerValidationFailure and upstream's message", async () => {
    const t = controller([await csr("bad", { commonName: "system:node:n1", organizations: ["system:nodes", "extra"], dnsNames: ["n1"] }, { signer: "kubernetes.io/kubelet-serving", usages: ["digital signature", "server auth"] })]);
    await t.c.sync("bad");
    assert.deepEqual(t.api.verbs(), ["updateStatus certificatesigningrequests/status bad"]);
    const failed = t.written()?.status?.conditions?.find((c) => c.type === "Failed");
    assert.deepEqual(failed, { type: "Failed", status: "True", reason: SIGNER_VALIDATION_FAILURE, message: "subject organization is not system:nodes", lastUpdateTime: rfc3339(NOW) });
    assert.equal(t.written()?.status?.certificate, undefined);
  });

  it("leaves alone pending, denied, failed and issued requests, other signers' and gone ones", async () => {
    const t = controller([
      await csr("pending", { commonName: "a" }, { conditions: [] }),
      await csr("denied", { commonName: "a" }, { conditions: ["Approved", "Denied"] }),
      await csr("failed", { commonName: "a" }, { conditions: ["Approved", "Failed"] }),
      await csr("issued", { commonName: "a" }, { certificate: "Zm9v" }),
      await csr("legacy", { commonName: "a" }, { signer: "kubernetes.io/legacy-unknown" }),
      await csr("other", { commonName: "a" }, { signer: "example.com/signer" }),
    ]);
    for (const k of ["pending", "denied", "failed", "issued", "legacy", "other", "gone"]) await t.c.sync(k);
    assert.deepEqual(t.api.verbs(), []);
  });

  it("a request deleted before the write is done with; a conflict is retried", async () => {
    const req = await csr("alice", { commonName: "alice" });
    const t = controller([req]);
    t.api.failOn({ verb: "updateStatus" }, notFoundError("certificatesigningrequests", "alice"), { times: 1 });
    await t.c.sync("alice");
    const conflict = conflictError("certificatesigningrequests", "alice");
    t.api.failOn({ verb: "updateStatus" }, conflict, { times: 1 });
    await assert.rejects(t.c.sync("alice"), (e) => e === conflict);
  });
});

describe("signer policies (upstream's messages)", () => {
  const info = (o: Partial<Parameters<typeof checkKubeletServing>[0]> = {}) => ({ commonName: "system:node:n1", organizations: ["system:nodes"], dnsNames: [], ipAddresses: [], emailAddresses: [], uris: [], ...o });
  it("kubelet-serving", () => {
    const usages = ["digital signature", "server auth"];
    assert.equal(checkKubeletServing(info({ dnsNames: ["n1"] }), usages), undefined);
    assert.equal(checkKubeletServing(info({ ipAddresses: ["10.0.0.1"] }), ["key encipherment", "digital signature", "server auth"]), undefined);
    assert.equal(checkKubeletServing(info(), usages), "DNS or IP subjectAltName is required");
    assert.equal(checkKubeletServing(info({ dnsNames: ["n1"], emailAddresses: ["a@b"] }), usages), "Email subjectAltNames are not allowed");
    assert.equal(checkKubeletServing(info({ dnsNames: ["n1"], uris: ["spiffe://x"] }), usages), "URI subjectAltNames are not allowed");
    assert.equal(checkKubeletServing(info({ dnsNames: ["n1"] }), ["server auth"]), "usages did not match [digital signature key encipherment server auth]");
    assert.equal(checkKubeletServing(info({ dnsNames: ["n1"], commonName: "n1" }), usages), "subject common name does not begin with system:node:");
    assert.equal(checkKubeletServing(info({ dnsNames: ["n1"], organizations: [] }), usages), "subject organization is not system:nodes");
  });
  it("kube-apiserver-client-kubelet", () => {
    const usages = ["digital signature", "key encipherment", "client auth"];
    assert.equal(checkKubeletClient(info(), usages), undefined);
    assert.equal(checkKubeletClient(info({ dnsNames: ["n1"] }), usages), "DNS subjectAltNames are not allowed");
    assert.equal(checkKubeletClient(info({ ipAddresses: ["10.0.0.1"] }), usages), "IP subjectAltNames are not allowed");
    assert.equal(checkKubeletClient(info({ commonName: "x" }), usages), "subject common name does not begin with system:node:");
    assert.equal(checkKubeletClient(info(), ["client auth", "server auth"]), "usages did not match [client auth digital signature key encipherment]");
  });
  it("kube-apiserver-client", () => {
    assert.equal(checkKubeAPIServerClient(info({ organizations: ["system:masters"], dnsNames: ["anything"] }), ["client auth"]), undefined);
    assert.equal(checkKubeAPIServerClient(info(), ["client auth", "server auth"]), "invalid usage for client certificate: server auth");
    assert.equal(checkKubeAPIServerClient(info(), ["digital signature"]), "missing required usage for client certificate: client auth");
  });
});
