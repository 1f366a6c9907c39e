import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { KubeObject, StrategyContext } from "../registry/types.js";
import { certificateSigningRequests as csrs, csrCondition, validateSignerName } from "./certificates.js";
import { FieldPath } from "../../api/fielderrors.js";

// A P-256 request for CN=jane, O=dev made with `openssl req -new`.
const REQUEST_PEM = `-----BEGIN CERTIFICATE REQUEST-----
MIHXMH8CAQAwHTENMAsGA1UEAwwEamFuZTEMMAoGA1UECgwDZGV2MFkwEwYHKoZI
zj0CAQYIKoZIzj0DAQcDQgAEbANt1IT9Qn4DzzHN+3OTkL2FFbHzCbaGnbdPKYAn
zTUSzpdjDJORRNJm/lCcQ3l3vbyr4nmeL0j4Eb3H6ksBTaAAMAoGCCqGSM49BAMC
A0gAMEUCIQDTc2LXP/V3vTLpKkxbJkVh8Q4i2N1UTjXdGf4Omq2NxwIgLoVK4OtW
ebE3ivrekNCgT5j2/t1eRUV3T1o0FWa6hS0=
-----END CERTIFICATE REQUEST-----
`;
const b64 = (s: string | Buffer): string => Buffer.from(s).toString("base64");
const REQUEST = b64(REQUEST_PEM);

const user = { username: "jane", uid: "u-1", groups: ["dev", "system:authenticated"], extra: { scopes: ["a", "b"] } };
const ctx = { namespace: "", now: new Date("2024-05-01T12:00:00Z"), user } as StrategyContext;
const strategy = csrs.strategy;

function csr(spec: Record<string, unknown> = {}, status?: Record<string, unknown>): KubeObject {
  return {
    apiVersion: "certificates.k8s.io/v1",
    kind: "CertificateSigningRequest",
    metadata: { name: "jane", uid: "00000000-0000-0000-0000-000000000001", resourceVersion: "1", creationTimestamp: "2024-05-01T11:00:00Z" },
    spec: { request: REQUEST, signerName: "example.com/signer", usages: ["client auth"], ...spec },
    ...(status ? { status } : {}),
  };
}

const texts = (errs: readonly { toString(): string }[] | undefined): string[] => (errs ?? []).map((e) => e.toString());
const approved = { type: "Approved", status: "True", reason: "KubectlApprove", message: "ok", lastUpdateTime: "2024-05-01T11:30:00Z", lastTransitionTime: "2024-05-01T11:30:00Z" };
const denied = { type: "Denied", status: "True", reason: "KubectlDeny", message: "no", lastUpdateTime: "2024-05-01T11:30:00Z", lastTransitionTime: "2024-05-01T11:30:00Z" };

describe("CertificateSigningRequest strategy", () => {
  it("records the requesting user on create, replacing what the client sent, and clears status", () => {
    const obj = csr({ username: "mallory", uid: "x", groups: ["system:masters"], extra: { k: ["v"] } }, { conditions: [approved], certificate: b64("x") });
    strategy.prepareForCreate!(obj, ctx);
    assert.deepEqual(obj.spec, { request: REQUEST, signerName: "example.com/signer", usages: ["client auth"], username: "jane", uid: "u-1", groups: ["dev", "system:authenticated"], extra: { scopes: ["a", "b"] } });
    assert.deepEqual(obj.status, {});
    assert.deepEqual(texts(strategy.validate!(obj, ctx)), []);
  });

  it("an update of the main resource keeps spec (status is the store's to keep)", () => {
    const old = csr({ username: "jane" });
    const obj = csr({ username: "mallory", signerName: "other.example/x" });
    strategy.prepareForUpdate!(obj, old, ctx);
    assert.deepEqual(obj.spec, old.spec);
    assert.deepEqual(texts(strategy.validateUpdate!(obj, old, ctx)), []);
  });

  it("/approval takes only the conditions, stamps their times, and validates as approval", () => {
    const approval = strategy.subresourceWrites!.approval!;
    const old = csr({}, { certificate: "" });
    const req = csr({ signerName: "changed.example/x" }, { conditions: [{ type: "Approved", status: "True", reason: "KubectlApprove" }], certificate: b64("nope") });
    const out = approval.prepare(req, old);
    assert.deepEqual(out.spec, old.spec);
    const status = out.status as { conditions: Record<string, unknown>[]; certificate?: string };
    assert.equal(status.certificate, "");
    assert.equal(status.conditions.length, 1);
    assert.match(String(status.conditions[0]!.lastUpdateTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(status.conditions[0]!.lastUpdateTime, status.conditions[0]!.lastTransitionTime);
    assert.deepEqual(texts(approval.validate(out, old, ctx)), []);
    // Approved and Denied together, and taking an approval back, are refused.
    const both = approval.prepare(csr({}, { conditions: [approved, denied] }), csr({}, { conditions: [approved] }));
    assert.deepEqual(texts(approval.validate(both, csr({}, { conditions: [approved] }), ctx)), ['status.conditions[1].type: Invalid value: "Denied": Approved and Denied conditions are mutually exclusive']);
    const removed = approval.prepare(csr({}, { conditions: [] }), csr({}, { conditions: [approved] }));
    assert.deepEqual(texts(approval.validate(removed, csr({}, { conditions: [approved] }), ctx)), ['status.conditions: Forbidden: updates may not remove a condition of type "Approved"']);
  });

  it("/status keeps spec and the stored Approved/Denied conditions, and may set the certificate once", () => {
    const status = strategy.subresourceWrites!.status!;
    const old = csr({}, { conditions: [approved] });
    const cert = b64("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    const out = status.prepare(csr({ usages: ["server auth"] }, { conditions: [{ ...approved, message: "changed" }], certificate: cert }), old);
    assert.deepEqual(out.spec, old.spec);
    assert.deepEqual((out.status as { conditions: unknown[] }).conditions, [approved]);
    // The certificate must parse: "AAAA" is no certificate.
    assert.deepEqual(texts(status.validate(out, old, ctx)), ['status.certificate: Invalid value: "<certificate data>": x509: malformed certificate']);
    // Adding an approval through /status is refused; so is the main resource setting a certificate.
    const added = status.prepare(csr({}, { conditions: [approved] }), csr());
    assert.deepEqual(texts(status.validate(added, csr(), ctx)), ['status.conditions: Forbidden: updates may not add a condition of type "Approved"']);
    const main = csr({}, { certificate: cert });
    assert.ok(texts(strategy.validateUpdate!(main, csr(), ctx)).includes("status.certificate: Forbidden: updates may not set certificate content"));
  });

  it("a certificate, once issued, cannot be replaced", () => {
    const status = strategy.subresourceWrites!.status!;
    const old = csr({}, { conditions: [approved], certificate: b64("old") });
    const out = status.prepare(csr({}, { conditions: [approved], certificate: b64("new") }), old);
    assert.ok(texts(status.validate(out, old, ctx)).includes("status.certificate: Forbidden: updates may not modify existing certificate content"));
  });
});

describe("CertificateSigningRequest validation", () => {
  const errs = (obj: KubeObject): string[] => texts(strategy.validate!(obj, ctx));

  it("accepts a signed request", () => {
    assert.deepEqual(errs(csr({ expirationSeconds: 600, usages: ["digital signature", "key encipherment", "client auth"] })), []);
  });

  it("spec.request must be a PEM CERTIFICATE REQUEST whose signature checks", () => {
    assert.deepEqual(errs(csr({ request: b64("ab") })), ["spec.request: Invalid value: []byte{0x61, 0x62}: PEM block type must be CERTIFICATE REQUEST"]);
    assert.deepEqual(errs(csr({ request: undefined })), ["spec.request: Invalid value: []byte(nil): PEM block type must be CERTIFICATE REQUEST"]);
    const wrongType = REQUEST_PEM.replaceAll("CERTIFICATE REQUEST", "CERTIFICATE");
    assert.match(errs(csr({ request: b64(wrongType) }))[0] ?? "", /^spec\.request: Invalid value: \[\]byte\{0x2d, 0x2d, .*\}: PEM block type must be CERTIFICATE REQUEST$/);
    // The last signature byte changed: the request no longer matches its key.
    const der = Buffer.from(REQUEST_PEM.split("\n").slice(1, -2).join(""), "base64");
    der.writeUInt8(der.readUInt8(der.length - 1) ^ 0x01, der.length - 1);
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString("base64")}\n-----END CERTIFICATE REQUEST-----\n`;
    assert.match(errs(csr({ request: b64(tampered) }))[0] ?? "", /: x509: ECDSA verification failure$/);
  });

  it("usages, signerName and expirationSeconds as upstream words them", () => {
    assert.deepEqual(errs(csr({ usages: [] })), ["spec.usages: Required value"]);
    const bad = errs(csr({ usages: ["client auth", "client auth", "flying"] }));
    assert.equal(bad[0]!.startsWith('spec.usages[2]: Unsupported value: "flying": supported values: "any", "cert sign", "client auth"'), true, bad[0]);
    assert.equal(bad[1], 'spec.usages[1]: Duplicate value: "client auth"');
    assert.deepEqual(errs(csr({ signerName: "" })), ["spec.signerName: Required value"]);
    assert.deepEqual(errs(csr({ signerName: "signer" })), ["spec.signerName: Invalid value: \"signer\": must be a fully qualified domain and path of the form 'example.com/signer-name'"]);
    assert.deepEqual(errs(csr({ signerName: "example/signer" })), ['spec.signerName: Invalid value: "example": should be a domain with at least two segments separated by dots']);
    assert.equal(errs(csr({ signerName: "Example.com/x" }))[0]?.startsWith('spec.signerName: Invalid value: "Example.com": validating label "Example": a lowercase RFC 1123 label must consist of'), true);
    assert.deepEqual(errs(csr({ signerName: "kubernetes.io/legacy-unknown" })), ['spec.signerName: Invalid value: "kubernetes.io/legacy-unknown": the legacy signerName is not allowed via this API version']);
    assert.deepEqual(errs(csr({ expirationSeconds: 599 })), ["spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 600 seconds (10 minutes)"]);
  });

  it("conditions: type required, True-only types, no duplicates", () => {
    const old = csr();
    const v = (conditions: unknown[]): string[] => texts(strategy.subresourceWrites!.approval!.validate(csr({}, { conditions }), old, ctx));
    assert.deepEqual(v([{ status: "True" }]), ["status.conditions[0].type: Required value"]);
    assert.deepEqual(v([{ type: "Approved", status: "False" }]), ['status.conditions[0].status: Unsupported value: "False": supported values: "True"']);
    assert.deepEqual(v([{ type: "Custom" }]), ["status.conditions[0].status: Required value"]);
    assert.deepEqual(v([{ type: "Custom", status: "Maybe" }]), ['status.conditions[0].status: Unsupported value: "Maybe": supported values: "False", "True", "Unknown"']);
    assert.deepEqual(v([approved, approved]), ['status.conditions[1].type: Duplicate value: "Approved"']);
  });

  it("signer names are checked as qualified domain/path names", () => {
    const p = FieldPath.of("spec", "signerName");
    assert.deepEqual(texts(validateSignerName("kubernetes.io/kube-apiserver-client", p)), []);
    assert.deepEqual(texts(validateSignerName("a.b/c.d/e", p)), ["spec.signerName: Invalid value: \"a.b/c.d/e\": must be a fully qualified domain and path of the form 'example.com/signer-name'"]);
  });
});

describe("CertificateSigningRequest table", () => {
  const now = new Date("2024-05-01T12:00:00Z");
  it("has upstream's columns", () => {
    assert.deepEqual(
      csrs.table!.columns.map((c) => c.name),
      ["Name", "Age", "SignerName", "Requestor", "RequestedDuration", "Condition"],
    );
  });

  it("prints signer, requestor, duration and the condition summary", () => {
    assert.deepEqual(csrs.table!.row(csr({ username: "jane", expirationSeconds: 86400 }), now), ["jane", "60m", "example.com/signer", "jane", "24h", "Pending"]);
    assert.deepEqual(csrs.table!.row({ metadata: { name: "x" } }, now), ["x", "<unknown>", "<none>", "", "<none>", "Pending"]);
    assert.equal(csrCondition(csr({}, { conditions: [approved], certificate: b64("c") })), "Approved,Issued");
    assert.equal(csrCondition(csr({}, { conditions: [denied] })), "Denied");
    assert.equal(csrCondition(csr({}, { conditions: [approved, { type: "Failed", status: "True" }] })), "Approved,Failed");
  });

  it("offers spec.signerName as a field selector", () => {
    assert.deepEqual(csrs.selectableFields!(csr()), { "spec.signerName": "example.com/signer" });
  });
});
