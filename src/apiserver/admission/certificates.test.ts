import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KubeObject, ResourceDefinition } from "../registry/types.js";
import { StatusError } from "../status.js";
import type { AdmissionAttributes } from "./types.js";
import type { AuthorizationAttributes, Authorizer } from "../filters/authorization.js";
import { certificateApproval, certificateSigning, certificateSubjectRestriction } from "./certificates.js";

const csrDef = { group: "certificates.k8s.io", version: "v1", plural: "certificatesigningrequests", kind: "CertificateSigningRequest", namespaced: false } as unknown as ResourceDefinition;

function request(subject: string): string {
  const dir = mkdtempSync(join(tmpdir(), "k8ts-csr-"));
  try {
    execFileSync("openssl", ["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "k"), "-out", join(dir, "r"), "-subj", subject], { stdio: "ignore" });
    return readFileSync(join(dir, "r")).toString("base64");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function attrs(subject: string, signerName: string, o: Partial<AdmissionAttributes> = {}): AdmissionAttributes {
  const object = { apiVersion: "certificates.k8s.io/v1", kind: "CertificateSigningRequest", metadata: { name: "x" }, spec: { request: request(subject), signerName, usages: ["client auth"] } } as KubeObject;
  return { operation: "CREATE", resource: csrDef, subresource: "", namespace: "", name: "x", object, oldObject: undefined, user: { username: "u", groups: [] }, dryRun: false, ...o };
}

describe("CertificateSubjectRestriction", { skip: existsSync("/usr/bin/openssl") ? false : "needs /usr/bin/openssl" }, () => {
  const plugin = certificateSubjectRestriction();

  it("refuses system:masters for kube-apiserver-client, as upstream words it", async () => {
    await assert.rejects(
      async () => plugin.validate!(attrs("/CN=mallory/O=dev/O=system:masters", "kubernetes.io/kube-apiserver-client")),
      (err: unknown) => err instanceof StatusError && err.code === 403 && err.status.message === `certificatesigningrequests.certificates.k8s.io "x" is forbidden: use of kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed`,
    );
  });

  it("lets other groups, other signers and other operations through", async () => {
    await plugin.validate!(attrs("/CN=jane/O=dev", "kubernetes.io/kube-apiserver-client"));
    await plugin.validate!(attrs("/CN=mallory/O=system:masters", "example.com/my-signer"));
    await plugin.validate!(attrs("/CN=mallory/O=system:masters", "kubernetes.io/kube-apiserver-client", { operation: "UPDATE" }));
  });
});

describe("CertificateApproval and CertificateSigning", () => {
  const asked: string[] = [];
  /** Allows `verb` on signers named in `allowed`. */
  const authorizer = (allowed: readonly string[]): (() => Authorizer) => () => ({
    authorize(attrs: AuthorizationAttributes) {
      asked.push(`${attrs.verb} ${attrs.apiGroup}/${attrs.resource}/${attrs.name}`);
      return Promise.resolve(allowed.includes(`${attrs.verb} ${attrs.name}`) ? { allowed: true } : { allowed: false, reason: "" });
    },
  });
  const csr = (certificate?: string): KubeObject =>
    ({ apiVersion: "certificates.k8s.io/v1", kind: "CertificateSigningRequest", metadata: { name: "x" }, spec: { signerName: "example.com/signer", request: "" }, status: certificate ? { certificate } : {} }) as KubeObject;
  const update = (subresource: string, object: KubeObject, oldObject: KubeObject): AdmissionAttributes => ({ operation: "UPDATE", resource: csrDef, subresource, namespace: "", name: "x", object, oldObject, user: { username: "approver", groups: [] }, dryRun: false });

  it("approving needs approve on the signer, by its name or its domain's wildcard", async () => {
    asked.length = 0;
    await assert.rejects(
      async () => certificateApproval(authorizer([])).validate!(update("approval", csr(), csr())),
      (err: unknown) => err instanceof StatusError && err.code === 403 && err.status.message === `certificatesigningrequests.certificates.k8s.io "x" is forbidden: user not permitted to approve requests with signerName "example.com/signer"`,
    );
    assert.deepEqual(asked, ["approve certificates.k8s.io/signers/example.com/signer", "approve certificates.k8s.io/signers/example.com/*"]);
    await certificateApproval(authorizer(["approve example.com/signer"])).validate!(update("approval", csr(), csr()));
    await certificateApproval(authorizer(["approve example.com/*"])).validate!(update("approval", csr(), csr()));
    await certificateApproval(authorizer([])).validate!(update("status", csr(), csr()));
  });

  it("setting the certificate needs sign; a status write that leaves it alone does not", async () => {
    await assert.rejects(async () => certificateSigning(authorizer(["approve example.com/signer"])).validate!(update("status", csr("Y2VydA=="), csr())), /user not permitted to sign requests with signerName "example.com\/signer"/);
    await certificateSigning(authorizer(["sign example.com/signer"])).validate!(update("status", csr("Y2VydA=="), csr()));
    await certificateSigning(authorizer([])).validate!(update("status", csr("Y2VydA=="), csr("Y2VydA==")));
  });
});
