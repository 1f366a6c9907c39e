import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { bootstrapTokenAuthenticator } from "./bootstraptoken.js";
import { call, startAuthServer, type TestServer } from "./testing.js";
import { AuthenticationError, type UserInfo } from "./types.js";
import type { KubeObject } from "../registry/types.js";

const NOW = new Date("2026-06-01T12:00:00Z");
const ID = "abcdef";
const SECRET = "0123456789abcdef";
const TOKEN = `${ID}.${SECRET}`;

const b64 = (s: string): string => Buffer.from(s).toString("base64");

function tokenSecret(o: { id?: string; name?: string; secret?: string; type?: string; data?: Record<string, string>; deleting?: boolean } = {}): KubeObject {
  const id = o.id ?? ID;
  const data: Record<string, string> = {
    "token-id": id,
    "token-secret": o.secret ?? SECRET,
    "usage-bootstrap-authentication": "true",
    "usage-bootstrap-signing": "true",
    ...o.data,
  };
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: o.name ?? `bootstrap-token-${id}`, namespace: "kube-system", ...(o.deleting ? { deletionTimestamp: "2026-06-01T11:00:00Z" } : {}) },
    type: o.type ?? "bootstrap.kubernetes.io/token",
    data: Object.fromEntries(Object.entries(data).filter(([, v]) => v !== "").map(([k, v]) => [k, b64(v)])),
  };
}

/** The authenticator over these Secrets (by name), at NOW. */
function authFor(...secrets: KubeObject[]) {
  const byName = new Map(secrets.map((s) => [s.metadata!.name!, s]));
  return bootstrapTokenAuthenticator((name) => byName.get(name), () => NOW, ["https://kubernetes.default.svc.cluster.local"]);
}

const req = (authorization?: string): IncomingMessage => ({ headers: authorization === undefined ? {} : { authorization } }) as IncomingMessage;

async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof AuthenticationError, `an AuthenticationError, got ${String(err)}`);
    assert.equal(err.code, "InvalidToken");
    return err.message;
  }
  assert.fail("the token was accepted");
}

describe("bootstrap token authenticator", () => {
  it("a valid token is system:bootstrap:<id> in system:bootstrappers, its extra groups and system:authenticated", async () => {
    const a = authFor(tokenSecret({ data: { "auth-extra-groups": "system:bootstrappers:k8ts:default-node-token" } }));
    const want: UserInfo = { username: `system:bootstrap:${ID}`, groups: ["system:bootstrappers", "system:bootstrappers:k8ts:default-node-token", "system:authenticated"] };
    assert.deepEqual(await a.authenticate(req(`Bearer ${TOKEN}`)), want);
    assert.deepEqual(await authFor(tokenSecret()).authenticate(req(`Bearer ${TOKEN}`)), { username: `system:bootstrap:${ID}`, groups: ["system:bootstrappers", "system:authenticated"] });
  });

  it("has no opinion on requests without a bearer token or with one not shaped like a bootstrap token", async () => {
    const a = authFor(tokenSecret());
    for (const h of [undefined, "Basic YTpi", "Bearer some-other-token", `Bearer ${ID}.${SECRET}x`, `Bearer ABCDEF.${SECRET}`, `Bearer ${ID}:${SECRET}`]) {
      assert.equal(await a.authenticate(req(h)), undefined, String(h));
    }
    assert.equal(await a.authenticateToken("eyJhbGciOi.x.y", []), undefined);
  });

  it("rejects a token shaped like one whose Secret is missing, being deleted, of another type or malformed", async () => {
    assert.match(await rejection(authFor().authenticate(req(`Bearer ${TOKEN}`))), /^No secret of name bootstrap-token-abcdef to match bootstrap bearer token$/);
    assert.match(await rejection(authFor(tokenSecret({ deleting: true })).authenticate(req(`Bearer ${TOKEN}`))), /is deleted and awaiting removal/);
    assert.match(await rejection(authFor(tokenSecret({ type: "Opaque" })).authenticate(req(`Bearer ${TOKEN}`))), /has invalid type, expected bootstrap.kubernetes.io\/token/);
    assert.match(await rejection(authFor(tokenSecret({ data: { "auth-extra-groups": "system:masters" } })).authenticate(req(`Bearer ${TOKEN}`))), /auth-extra-groups/);
    assert.match(await rejection(authFor(tokenSecret({ data: { expiration: "tomorrow" } })).authenticate(req(`Bearer ${TOKEN}`))), /expiration/);
  });

  it("rejects a wrong secret and a Secret whose token-id is not its name's", async () => {
    assert.match(await rejection(authFor(tokenSecret()).authenticate(req(`Bearer ${ID}.fedcba9876543210`))), /has invalid value for key token-secret/);
    // Secret bootstrap-token-abcdef claiming to be token zzzzzz.
    assert.match(await rejection(authFor(tokenSecret({ id: "zzzzzz", name: `bootstrap-token-${ID}` })).authenticate(req(`Bearer ${TOKEN}`))), /bootstrap-token-zzzzzz/);
  });

  it("rejects an expired token, accepts one that expires later", async () => {
    const expired = authFor(tokenSecret({ data: { expiration: "2026-06-01T12:00:00Z" } }));
    assert.match(await rejection(expired.authenticate(req(`Bearer ${TOKEN}`))), /expired at 2026-06-01T12:00:00.000Z/);
    const later = authFor(tokenSecret({ data: { expiration: "2026-06-01T12:00:01Z" } }));
    assert.equal((await later.authenticate(req(`Bearer ${TOKEN}`)))?.username, `system:bootstrap:${ID}`);
  });

  it("rejects a token not marked for authentication", async () => {
    const signingOnly = authFor(tokenSecret({ data: { "usage-bootstrap-authentication": "" } }));
    assert.match(await rejection(signingOnly.authenticate(req(`Bearer ${TOKEN}`))), /not marked usage-bootstrap-authentication=true/);
    const notTrue = authFor(tokenSecret({ data: { "usage-bootstrap-authentication": "yes" } }));
    assert.match(await rejection(notTrue.authenticate(req(`Bearer ${TOKEN}`))), /not marked usage-bootstrap-authentication=true/);
  });

  it("reads the Secret per request: a token deleted or added takes effect at once", async () => {
    const secrets = new Map<string, KubeObject>();
    const a = bootstrapTokenAuthenticator((name) => secrets.get(name), () => NOW);
    await rejection(a.authenticate(req(`Bearer ${TOKEN}`)));
    secrets.set(`bootstrap-token-${ID}`, tokenSecret());
    assert.ok(await a.authenticate(req(`Bearer ${TOKEN}`)));
    secrets.clear();
    await rejection(a.authenticate(req(`Bearer ${TOKEN}`)));
  });

  it("is audience-agnostic: good for the API server's audiences only (TokenReview)", async () => {
    const a = authFor(tokenSecret());
    assert.deepEqual((await a.authenticateToken(TOKEN, []))?.audiences, ["https://kubernetes.default.svc.cluster.local"]);
    assert.deepEqual((await a.authenticateToken(TOKEN, ["https://kubernetes.default.svc.cluster.local", "vault"]))?.audiences, ["https://kubernetes.default.svc.cluster.local"]);
    assert.match(await rejection(a.authenticateToken(TOKEN, ["vault"])), /is invalid for the target audiences/);
  });
});

describe("bootstrap token authenticator over HTTP", () => {
  let server: TestServer;
  before(async () => {
    server = await startAuthServer(authFor(tokenSecret()));
  });
  after(async () => {
    await server.close();
  });

  it("answers with the user, or 401 InvalidToken", async () => {
    assert.deepEqual(await call(server.url, { headers: { authorization: `Bearer ${TOKEN}` } }), { status: 200, user: { username: "system:bootstrap:abcdef", groups: ["system:bootstrappers", "system:authenticated"] } });
    assert.equal((await call(server.url, { headers: { authorization: "Bearer abcdef.xxxxxxxxxxxxxxxx" } })).code, "InvalidToken");
  });
});
