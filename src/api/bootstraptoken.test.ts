// The bootstrap token contract: token format, Secret parsing, the user a token is, and
// cluster-info's detached JWS, checked against cluster-bootstrap's own test vectors.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import {
  BOOTSTRAP_GROUP_PATTERN,
  bootstrapTokenData,
  bootstrapTokenFromSecret,
  bootstrapTokenSecretData,
  bootstrapTokenSecretName,
  bootstrapTokenUser,
  caCertHash,
  generateBootstrapToken,
  isExpired,
  isValidTokenId,
  parseBootstrapToken,
  signDetached,
  verifyDetached,
  type BootstrapToken,
} from "./bootstraptoken.js";
import { createCA } from "../util/pki.js";

const b64 = (s: string): string => Buffer.from(s).toString("base64");

function secretOf(data: Record<string, string>, name = "bootstrap-token-abcdef", type = "bootstrap.kubernetes.io/token") {
  return { type, metadata: { name, namespace: "kube-system" }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])) };
}

describe("bootstrap token format", () => {
  it("parses <id>.<secret> of [a-z0-9]{6} and {16}, nothing else", () => {
    assert.deepEqual(parseBootstrapToken("abcdef.0123456789abcdef"), { id: "abcdef", secret: "0123456789abcdef" });
    for (const bad of ["", "abcdef", "abcdef.", "ABCDEF.0123456789abcdef", "abcde.0123456789abcdef", "abcdef.0123456789abcdefg", "abcdef:0123456789abcdef", " abcdef.0123456789abcdef", "abcdef.0123456789abcdef\n"]) {
      assert.equal(parseBootstrapToken(bad), undefined, JSON.stringify(bad));
    }
    assert.equal(isValidTokenId("abc123"), true);
    assert.equal(isValidTokenId("abc12"), false);
  });

  it("generates well-formed, different tokens", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const t = generateBootstrapToken();
      assert.deepEqual(parseBootstrapToken(t.token), { id: t.id, secret: t.secret });
      seen.add(t.token);
    }
    assert.equal(seen.size, 50);
  });

  it("extra groups follow upstream's BootstrapGroupPattern", () => {
    assert.ok(BOOTSTRAP_GROUP_PATTERN.test("system:bootstrappers:kubeadm:default-node-token"));
    assert.ok(BOOTSTRAP_GROUP_PATTERN.test("system:bootstrappers:k8ts:default-node-token"));
    for (const bad of ["system:bootstrappers", "system:bootstrappers:", "system:bootstrappers:x-", "system:masters", "system:bootstrappers:UP"]) assert.ok(!BOOTSTRAP_GROUP_PATTERN.test(bad), bad);
  });
});

describe("bootstrap token Secrets", () => {
  it("round-trips the data kubeadm writes", () => {
    const expiration = new Date("2026-06-02T12:00:00.123Z");
    const data = bootstrapTokenSecretData({ id: "abcdef", secret: "0123456789abcdef", expiration, description: "d", usages: ["authentication", "signing"], extraGroups: ["system:bootstrappers:k8ts:default-node-token"] });
    assert.deepEqual(data, {
      "token-id": "abcdef",
      "token-secret": "0123456789abcdef",
      description: "d",
      expiration: "2026-06-02T12:00:00Z",
      "usage-bootstrap-authentication": "true",
      "usage-bootstrap-signing": "true",
      "auth-extra-groups": "system:bootstrappers:k8ts:default-node-token",
    });
    const t = bootstrapTokenFromSecret(secretOf(data)) as BootstrapToken;
    assert.deepEqual(t, { id: "abcdef", secret: "0123456789abcdef", expiration: new Date("2026-06-02T12:00:00Z"), description: "d", usages: ["authentication", "signing"], extraGroups: ["system:bootstrappers:k8ts:default-node-token"] });
    assert.equal(bootstrapTokenSecretName("abcdef"), "bootstrap-token-abcdef");
    // stringData (as written, before the server folds it into data) reads the same.
    assert.deepEqual(bootstrapTokenData({ stringData: { a: "b" }, data: { c: b64("d") } }), { a: "b", c: "d" });
  });

  it("says why a Secret is not a usable token", () => {
    const good = { "token-id": "abcdef", "token-secret": "0123456789abcdef" };
    const invalid = (s: ReturnType<typeof secretOf>): string => (bootstrapTokenFromSecret(s) as { invalid: string }).invalid;
    assert.match(invalid(secretOf(good, undefined, "Opaque")), /type is "Opaque"/);
    assert.match(invalid(secretOf({ ...good, "token-id": "ABC" })), /token-id/);
    assert.match(invalid(secretOf({ ...good, "token-secret": "short" })), /token-secret/);
    assert.match(invalid(secretOf(good, "bootstrap-token-zzzzzz")), /must be bootstrap-token-abcdef/);
    assert.match(invalid(secretOf({ ...good, expiration: "2026-06-02" })), /RFC 3339/);
    assert.match(invalid(secretOf({ ...good, "auth-extra-groups": "system:masters" })), /auth-extra-groups/);
    const t = bootstrapTokenFromSecret(secretOf({ ...good, "usage-bootstrap-signing": "yes", "usage-bootstrap-authentication": "true" })) as BootstrapToken;
    assert.deepEqual(t.usages, ["authentication"], "only \"true\" turns a usage on");
    assert.equal(t.expiration, undefined);
  });

  it("expires at the expiration instant, not before", () => {
    const t = bootstrapTokenFromSecret(secretOf({ "token-id": "abcdef", "token-secret": "0123456789abcdef", expiration: "2026-06-01T12:00:00+02:00" })) as BootstrapToken;
    assert.equal(isExpired(t, new Date("2026-06-01T09:59:59Z")), false);
    assert.equal(isExpired(t, new Date("2026-06-01T10:00:00Z")), true);
    assert.equal(isExpired({ ...t, expiration: undefined } as BootstrapToken, new Date(8.64e15)), false);
  });

  it("authenticates as system:bootstrap:<id> in system:bootstrappers and the extra groups", () => {
    const t = bootstrapTokenFromSecret(secretOf({ "token-id": "abcdef", "token-secret": "0123456789abcdef", "auth-extra-groups": "system:bootstrappers:a,system:bootstrappers:b" })) as BootstrapToken;
    assert.deepEqual(bootstrapTokenUser(t), { username: "system:bootstrap:abcdef", groups: ["system:bootstrappers", "system:bootstrappers:a", "system:bootstrappers:b"] });
  });
});

describe("cluster-info's detached JWS", () => {
  // cluster-bootstrap's token/jws test vectors: the signatures kubeadm computes and compares.
  const content = "Hello from the other side. I must have called a thousand times.";
  const token = { id: "joshua", secret: "my voice is my passcode" };

  it("signs as upstream, byte for byte", () => {
    assert.equal(signDetached(content, token), "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..VShe2taLd-YTrmWuRkcL_8QTNDHYxQIEBsAYYiIj1_8");
    assert.equal(signDetached("", token), "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..7Ui1ALizW4jXphVUB7xUqC9vLYLL9RZeOFfVLoB7Tgk");
    assert.equal(signDetached(content, { id: "joshua", secret: "" }), "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..UfkqvDGiIFxrMnFseDj9LYJOLNrvjW8aHhF71mvvAs8");
  });

  it("verifies its signatures and refuses altered ones", () => {
    const sig = signDetached(content, token);
    assert.equal(verifyDetached(content, sig, token), true);
    assert.equal(verifyDetached(content, `${sig}foo`, token), false);
    assert.equal(verifyDetached(`${content}.`, sig, token), false);
    assert.equal(verifyDetached(content, sig, { ...token, secret: "another secret" }), false);
    assert.equal(verifyDetached(content, sig, { ...token, id: "other1" }), false, "kid names another token");
    const [header, , s] = sig.split(".");
    assert.equal(verifyDetached(content, `${header}.${Buffer.from(content).toString("base64url")}.${s}`, token), false, "not detached");
    assert.equal(verifyDetached(content, "not a jws", token), false);
    const none = Buffer.from(JSON.stringify({ alg: "none", kid: "joshua" })).toString("base64url");
    assert.equal(verifyDetached(content, `${none}..`, token), false);
  });
});

describe("caCertHash", { skip: existsSync("/usr/bin/openssl") ? false : "needs /usr/bin/openssl" }, () => {
  it("is sha256 of the CA's SubjectPublicKeyInfo, as kubeadm's openssl recipe computes it", async () => {
    const { certPem: caPem } = await createCA("test-ca");
    // kubeadm's documentation: openssl x509 -pubkey | openssl rsa/ec -pubin -outform der | openssl dgst -sha256
    const pub = execFileSync("openssl", ["x509", "-pubkey", "-noout"], { input: caPem });
    const der = execFileSync("openssl", ["pkey", "-pubin", "-outform", "der"], { input: pub });
    const hex = execFileSync("openssl", ["dgst", "-sha256", "-hex"], { input: der }).toString().trim().split(" ").pop();
    assert.equal(caCertHash(caPem), `sha256:${hex}`);
  });
});
