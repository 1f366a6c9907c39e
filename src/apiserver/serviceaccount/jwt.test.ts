import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { AuthenticationError } from "../authn/types.js";
import { issueToken, signingKeyFromPem, ServiceAccountTokenError, verifyToken, type KubernetesClaims, type SigningKey } from "./jwt.js";
import { serviceAccountTokenAuthenticator, EXTRA_POD_NAME, EXTRA_POD_UID, EXTRA_CREDENTIAL_ID } from "./authenticator.js";
import { MapLookup } from "./testing.js";

const ISSUER = "https://kubernetes.default.svc.cluster.local";
const ecPem = (): string => generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const key = signingKeyFromPem(ecPem());
const T0 = new Date("2030-01-01T00:00:00Z");
const claims: KubernetesClaims = { namespace: "team", serviceaccount: { name: "builder", uid: "sa-uid" } };

async function token(o: { key?: SigningKey; issuer?: string; audiences?: string[]; at?: Date; seconds?: number; kubernetes?: KubernetesClaims } = {}): Promise<string> {
  const issued = await issueToken(o.key ?? key, { issuer: o.issuer ?? ISSUER, audiences: o.audiences ?? [ISSUER], issuedAt: o.at ?? T0, expirationSeconds: o.seconds ?? 3600, kubernetes: o.kubernetes ?? claims });
  return issued.token;
}

const verify = (t: string, at = T0, audiences = [ISSUER]): ReturnType<typeof verifyToken> => verifyToken(t, { issuer: ISSUER, audiences, keys: [key.publicKey], now: at });
const code = (c: ServiceAccountTokenError["code"]) => (err: unknown): boolean => err instanceof ServiceAccountTokenError && err.code === c;

void describe("service account JWTs", () => {
  void it("carry upstream's claims and a kid from the public key", async () => {
    const t = await token({ kubernetes: { ...claims, pod: { name: "p", uid: "pod-uid" } } });
    const header = decodeProtectedHeader(t);
    assert.deepEqual(header, { alg: "ES256", kid: key.kid, typ: "JWT" });
    const p = decodeJwt(t);
    assert.equal(p.iss, ISSUER);
    assert.equal(p.sub, "system:serviceaccount:team:builder");
    assert.deepEqual(p.aud, [ISSUER]);
    assert.equal(p.iat, T0.getTime() / 1000);
    assert.equal(p.nbf, p.iat);
    assert.equal(p.exp, p.iat! + 3600);
    assert.match(String(p.jti), /^[0-9a-f-]{36}$/);
    assert.deepEqual(p["kubernetes.io"], { namespace: "team", pod: { name: "p", uid: "pod-uid" }, serviceaccount: { name: "builder", uid: "sa-uid" } });
    const v = await verify(t);
    assert.deepEqual(v.kubernetes, { namespace: "team", serviceaccount: { name: "builder", uid: "sa-uid" }, pod: { name: "p", uid: "pod-uid" } });
    assert.equal(v.jti, p.jti);
  });

  void it("expire at exp, with upstream's 60 s of leeway, and are not valid before nbf", async () => {
    const t = await token({ seconds: 600 });
    await verify(t, new Date(T0.getTime() + 600_000 + 59_000));
    await assert.rejects(verify(t, new Date(T0.getTime() + 600_000 + 61_000)), code("Expired"));
    await verify(t, new Date(T0.getTime() - 59_000));
    await assert.rejects(verify(t, new Date(T0.getTime() - 120_000)), code("NotYetValid"));
  });

  void it("must name one of the accepted audiences", async () => {
    const t = await token({ audiences: ["vault", "api"] });
    assert.deepEqual((await verify(t, T0, ["api", ISSUER])).audiences, ["api"]);
    await assert.rejects(verify(t), (err: unknown) => code("InvalidAudience")(err) && /token audiences \["vault","api"\] is invalid for the target audiences/.test((err as Error).message));
  });

  void it("reject a tampered payload, another key's signature, and another issuer", async () => {
    const t = await token();
    const [h, , s] = t.split(".");
    const forged = Buffer.from(JSON.stringify({ ...decodeJwt(t), sub: "system:serviceaccount:team:admin", "kubernetes.io": { ...claims, serviceaccount: { name: "admin", uid: "sa-uid" } } })).toString("base64url");
    await assert.rejects(verify(`${h}.${forged}.${s}`), code("InvalidSignature"));
    const other = signingKeyFromPem(ecPem());
    await assert.rejects(verify(await token({ key: other })), code("InvalidSignature"));
    // Several keys: the one that signed is found (a key being rotated in).
    await verifyToken(await token({ key: other }), { issuer: ISSUER, audiences: [ISSUER], keys: [key.publicKey, other.publicKey], now: T0 });
    await assert.rejects(verify(await token({ issuer: "https://elsewhere" })), code("InvalidClaims"));
    await assert.rejects(verify("not.a.jwt"), code("Malformed"));
  });

  void it("sign with RSA keys too (a kubeadm sa.key), as RS256", async () => {
    const rsa = signingKeyFromPem(generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString());
    assert.equal(rsa.alg, "RS256");
    const t = await token({ key: rsa });
    await verifyToken(t, { issuer: ISSUER, audiences: [ISSUER], keys: [rsa.publicKey], now: T0 });
    assert.throws(() => signingKeyFromPem("nonsense"), code("UnsupportedKey"));
  });
});

function request(authorization?: string): IncomingMessage {
  return { headers: authorization ? { authorization } : {} } as IncomingMessage;
}

void describe("serviceAccountTokenAuthenticator", () => {
  const sa = { metadata: { namespace: "team", name: "builder", uid: "sa-uid" } };
  const pod = { metadata: { namespace: "team", name: "p", uid: "pod-uid" } };
  const secret = { metadata: { namespace: "team", name: "s", uid: "secret-uid" } };
  const setup = (now = T0) => {
    const lookups = { serviceAccounts: new MapLookup([sa]), pods: new MapLookup([pod]), secrets: new MapLookup([secret]) };
    // Each check made afresh: these tests are of what a check finds (the cache has its own).
    const authn = serviceAccountTokenAuthenticator({ issuer: ISSUER, audiences: [ISSUER], keys: [key.publicKey], ...lookups, now: () => now, successCacheMs: 0 });
    return { ...lookups, authn };
  };

  void it("takes a token found good as good for 10 s, as upstream's token cache", async () => {
    let now = T0;
    const lookups = { serviceAccounts: new MapLookup([sa]), pods: new MapLookup([pod]), secrets: new MapLookup([secret]) };
    const authn = serviceAccountTokenAuthenticator({ issuer: ISSUER, audiences: [ISSUER], keys: [key.publicKey], ...lookups, now: () => now });
    const podToken = `Bearer ${await token({ kubernetes: { ...claims, pod: { name: "p", uid: "pod-uid" } } })}`;
    assert.equal((await authn.authenticate(request(podToken)))?.username, "system:serviceaccount:team:builder");
    lookups.pods.delete("team", "p");
    now = new Date(T0.getTime() + 9_000);
    assert.equal((await authn.authenticate(request(podToken)))?.username, "system:serviceaccount:team:builder", "within 10 s: the cached answer");
    now = new Date(T0.getTime() + 10_001);
    await assert.rejects(authn.authenticate(request(podToken)), rejected(/has been invalidated/));
  });
  const rejected = (re: RegExp) => (err: unknown): boolean => err instanceof AuthenticationError && err.code === "InvalidToken" && re.test(err.message);

  void it("names the service account, its groups and the bound pod", async () => {
    const { authn } = setup();
    const t = await token({ kubernetes: { ...claims, pod: { name: "p", uid: "pod-uid" } } });
    const user = await authn.authenticate(request(`Bearer ${t}`));
    assert.equal(user?.username, "system:serviceaccount:team:builder");
    assert.equal(user?.uid, "sa-uid");
    assert.deepEqual(user?.groups, ["system:serviceaccounts", "system:serviceaccounts:team", "system:authenticated"]);
    assert.deepEqual(user?.extra?.[EXTRA_POD_NAME], ["p"]);
    assert.deepEqual(user?.extra?.[EXTRA_POD_UID], ["pod-uid"]);
    assert.match(user?.extra?.[EXTRA_CREDENTIAL_ID]?.[0] ?? "", /^JTI=/);
  });

  void it("has no opinion on requests without a bearer token or with another issuer's", async () => {
    const { authn } = setup();
    assert.equal(await authn.authenticate(request()), undefined);
    assert.equal(await authn.authenticate(request("Bearer static-token")), undefined);
    assert.equal(await authn.authenticate(request(`Bearer ${await token({ issuer: "https://dex.example" })}`)), undefined);
  });

  void it("rejects an expired token, a wrong audience and a bad signature", async () => {
    const { authn } = setup(new Date(T0.getTime() + 7200_000));
    await assert.rejects(authn.authenticate(request(`Bearer ${await token()}`)), rejected(/has expired/));
    const fresh = setup();
    await assert.rejects(fresh.authn.authenticate(request(`Bearer ${await token({ audiences: ["vault"] })}`)), rejected(/audiences/));
    await assert.rejects(fresh.authn.authenticate(request(`Bearer ${await token({ key: signingKeyFromPem(ecPem()) })}`)), rejected(/invalid signature/));
  });

  void it("rejects a token whose service account, pod or secret is gone or was recreated", async () => {
    const s = setup();
    const podToken = await token({ kubernetes: { ...claims, pod: { name: "p", uid: "pod-uid" } } });
    const secretToken = await token({ kubernetes: { ...claims, secret: { name: "s", uid: "secret-uid" } } });
    await s.authn.authenticate(request(`Bearer ${secretToken}`));
    s.pods.put({ metadata: { namespace: "team", name: "p", uid: "new-pod-uid" } });
    await assert.rejects(s.authn.authenticate(request(`Bearer ${podToken}`)), rejected(/pod UID \(new-pod-uid\) does not match/));
    s.pods.delete("team", "p");
    await assert.rejects(s.authn.authenticate(request(`Bearer ${podToken}`)), rejected(/has been invalidated/));
    s.secrets.delete("team", "s");
    await assert.rejects(s.authn.authenticate(request(`Bearer ${secretToken}`)), rejected(/has been invalidated/));
    s.serviceAccounts.put({ metadata: { namespace: "team", name: "builder", uid: "other" } });
    await assert.rejects(s.authn.authenticate(request(`Bearer ${await token()}`)), rejected(/service account UID \(other\) does not match claim \(sa-uid\)/));
    s.serviceAccounts.delete("team", "builder");
    await assert.rejects(s.authn.authenticate(request(`Bearer ${await token()}`)), rejected(/not found/));
  });

  void it("accepts a bound pod being deleted for up to the leeway, not after", async () => {
    const s = setup();
    const podToken = await token({ kubernetes: { ...claims, pod: { name: "p", uid: "pod-uid" } } });
    s.pods.put({ metadata: { ...pod.metadata, deletionTimestamp: new Date(T0.getTime() - 30_000).toISOString() } });
    await s.authn.authenticate(request(`Bearer ${podToken}`));
    s.pods.put({ metadata: { ...pod.metadata, deletionTimestamp: new Date(T0.getTime() - 90_000).toISOString() } });
    await assert.rejects(s.authn.authenticate(request(`Bearer ${podToken}`)), rejected(/has been invalidated/));
  });
});
