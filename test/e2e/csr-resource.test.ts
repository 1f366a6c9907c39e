// CertificateSigningRequests as a resource, with the official kubectl against a real API server:
// a request made with openssl created from a manifest (the requestor is whoever sent it), listed
// in upstream's columns, approved and denied through /approval by `kubectl certificate`,
// described, explained, and refused with upstream's messages when the request is not one.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestApiServer, succeeded as ok, type KubectlResult, type TestApiServer } from "../../src/testing/apiserver.js";

const skip = existsSync("/usr/bin/openssl") ? false : "needs /usr/bin/openssl";

function manifest(name: string, requestPem: string, extra = ""): string {
  return `apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata: {name: ${name}}
spec:
  request: ${Buffer.from(requestPem).toString("base64")}
  signerName: example.com/test-signer
  expirationSeconds: 86400
  usages: [client auth]
  username: someone-else
  groups: [system:masters]
${extra}`;
}

void describe("CertificateSigningRequest resource with kubectl", { skip }, () => {
  let s: TestApiServer;
  let dir: string;
  let requestPem: string;
  const k = (args: string[], stdin?: string): Promise<KubectlResult> => s.kubectl(args, stdin !== undefined ? { stdin } : {});
  const table = (out: string): string[][] => out.trimEnd().split("\n").map((l) => l.trim().split(/\s{2,}/));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "csr-resource-"));
    execFileSync("/usr/bin/openssl", ["req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=jane/O=dev", "-keyout", join(dir, "jane.key"), "-out", join(dir, "jane.csr")], { stdio: "pipe" });
    requestPem = readFileSync(join(dir, "jane.csr"), "utf8");
    s = await startTestApiServer();
  });
  after(async () => {
    await s?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  void it("is listed by api-resources and explained", async () => {
    const res = ok(await k(["api-resources", "--api-group=certificates.k8s.io", "--no-headers"]), "api-resources");
    assert.match(res, /^certificatesigningrequests\s+csr\s+certificates\.k8s\.io\/v1\s+false\s+CertificateSigningRequest$/m);
    const explain = ok(await k(["explain", "csr.spec.signerName"]), "explain");
    assert.match(explain, /signerName indicates the requested signer/);
  });

  void it("creates, lists, approves, denies and describes requests", async () => {
    assert.match(ok(await k(["create", "-f", "-"], manifest("jane", requestPem)), "create"), /certificatesigningrequest\.certificates\.k8s\.io\/jane created/);
    const got = JSON.parse(ok(await k(["get", "csr", "jane", "-o", "json"]), "get -o json")) as { spec: { username: string; groups: string[] }; status?: unknown };
    // The requestor is who sent the request, not what the body claims.
    assert.equal(got.spec.username, "kubernetes-admin");
    assert.ok(got.spec.groups.includes("system:authenticated"), JSON.stringify(got.spec.groups));

    let rows = table(ok(await k(["get", "csr"]), "get csr"));
    assert.deepEqual(rows[0], ["NAME", "AGE", "SIGNERNAME", "REQUESTOR", "REQUESTEDDURATION", "CONDITION"]);
    assert.deepEqual([rows[1]![0], ...rows[1]!.slice(2)], ["jane", "example.com/test-signer", "kubernetes-admin", "24h", "Pending"]);

    assert.match(ok(await k(["certificate", "approve", "jane"]), "approve"), /certificatesigningrequest\.certificates\.k8s\.io\/jane approved/);
    rows = table(ok(await k(["get", "csr", "jane", "--no-headers"]), "get csr jane"));
    assert.equal(rows[0]!.at(-1), "Approved");
    const approved = JSON.parse(ok(await k(["get", "csr", "jane", "-o", "json"]), "get approved")) as { status: { conditions: { type: string; status: string; reason: string; lastUpdateTime: string }[] } };
    assert.equal(approved.status.conditions[0]!.type, "Approved");
    assert.equal(approved.status.conditions[0]!.reason, "KubectlApprove");
    assert.ok(approved.status.conditions[0]!.lastUpdateTime);

    // A second request, denied; an approved one cannot be denied too (kubectl checks that
    // itself, so the server is asked directly).
    ok(await k(["create", "-f", "-"], manifest("joe", requestPem)), "create joe");
    assert.match(ok(await k(["certificate", "deny", "joe"]), "deny"), /certificatesigningrequest\.certificates\.k8s\.io\/joe denied/);
    rows = table(ok(await k(["get", "csr", "joe", "--no-headers"]), "get csr joe"));
    assert.equal(rows[0]!.at(-1), "Denied");
    approved.status.conditions.push({ type: "Denied", status: "True", reason: "Test", lastUpdateTime: approved.status.conditions[0]!.lastUpdateTime });
    const both = await k(["replace", "--raw", "/apis/certificates.k8s.io/v1/certificatesigningrequests/jane/approval", "-f", "-"], JSON.stringify(approved));
    assert.notEqual(both.code, 0);
    assert.match(both.stderr, /Approved and Denied conditions are mutually exclusive/);

    const described = ok(await k(["describe", "csr", "jane"]), "describe");
    assert.match(described, /^Name:\s+jane$/m);
    assert.match(described, /^Requesting User:\s+kubernetes-admin$/m);
    assert.match(described, /^Signer:\s+example\.com\/test-signer$/m);
    assert.match(described, /^Requested Duration:\s+24h$/m);
    assert.match(described, /^Status:\s+Approved$/m);
    assert.match(described, /Common Name:\s+jane/);
    assert.match(described, /Organization:\s+dev/);
  });

  void it("refuses what is not a certificate request with upstream's messages", async () => {
    const r = await k(["create", "-f", "-"], manifest("bad", "not a request", "  expirationSeconds: 60\n").replace("  expirationSeconds: 86400\n", ""));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /spec\.request: Invalid value: \[\]byte\{0x6e, 0x6f, 0x74, .*\}: PEM block type must be CERTIFICATE REQUEST/);
    assert.match(r.stderr, /spec\.expirationSeconds: Invalid value: 60: may not specify a duration less than 600 seconds \(10 minutes\)/);
  });
});
