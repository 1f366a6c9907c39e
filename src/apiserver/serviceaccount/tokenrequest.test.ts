import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { decodeJwt } from "jose";
import type { KubeObject } from "../registry/types.js";
import { StatusError } from "../status.js";
import { signingKeyFromPem } from "./jwt.js";
import { createToken, type TokenRequestDeps } from "./tokenrequest.js";
import { MapLookup } from "./testing.js";

const ISSUER = "https://kubernetes.default.svc.cluster.local";
const key = signingKeyFromPem(generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString());
const NOW = new Date("2030-01-01T00:00:00Z");

const deps: TokenRequestDeps = {
  key,
  issuer: ISSUER,
  audiences: [ISSUER],
  serviceAccounts: new MapLookup([{ metadata: { namespace: "ns", name: "default", uid: "sa-uid" } }, { metadata: { namespace: "ns", name: "robot", uid: "robot-uid" } }]),
  pods: new MapLookup([{ metadata: { namespace: "ns", name: "p", uid: "pod-uid" }, spec: { serviceAccountName: "default" } }]),
  secrets: new MapLookup([{ metadata: { namespace: "ns", name: "s", uid: "secret-uid" } }]),
  now: () => NOW,
};

const tr = (spec: unknown): KubeObject => ({ apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", metadata: {}, spec });

async function fails(req: KubeObject, code: number, message: string | RegExp, name = "default"): Promise<void> {
  await assert.rejects(createToken(req, "ns", name, deps), (err: unknown) => {
    assert.ok(err instanceof StatusError, String(err));
    assert.equal(err.code, code);
    if (typeof message === "string") assert.equal(err.status.message, message);
    else assert.match(err.status.message ?? "", message);
    return true;
  });
}

void describe("TokenRequest", () => {
  void it("defaults to one hour and the API audiences, and answers upstream's shape", async () => {
    const out = await createToken(tr({ audiences: null, expirationSeconds: null, boundObjectRef: null }), "ns", "default", deps);
    const status = out["status"] as { token: string; expirationTimestamp: string };
    assert.deepEqual({ ...out, status: { ...status, token: "…" } }, {
      kind: "TokenRequest",
      apiVersion: "authentication.k8s.io/v1",
      metadata: { name: "default", namespace: "ns", creationTimestamp: "2030-01-01T00:00:00Z" },
      spec: { audiences: [ISSUER], expirationSeconds: 3600, boundObjectRef: null },
      status: { token: "…", expirationTimestamp: "2030-01-01T01:00:00Z" },
    });
    const claims = decodeJwt(status.token);
    assert.equal(claims.exp, NOW.getTime() / 1000 + 3600);
    assert.deepEqual(claims["kubernetes.io"], { namespace: "ns", serviceaccount: { name: "default", uid: "sa-uid" } });
  });

  void it("binds to a pod or a secret of the namespace, by name and uid", async () => {
    const pod = await createToken(tr({ audiences: ["vault"], expirationSeconds: 600, boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "p", uid: "pod-uid" } }), "ns", "default", deps);
    const claims = decodeJwt((pod["status"] as { token: string }).token);
    assert.deepEqual(claims.aud, ["vault"]);
    assert.deepEqual((claims["kubernetes.io"] as { pod: unknown }).pod, { name: "p", uid: "pod-uid" });
    const secret = await createToken(tr({ boundObjectRef: { kind: "Secret", apiVersion: "v1", name: "s" } }), "ns", "robot", deps);
    assert.deepEqual((decodeJwt((secret["status"] as { token: string }).token)["kubernetes.io"] as { secret: unknown }).secret, { name: "s", uid: "secret-uid" });
  });

  void it("answers 404 for a missing service account or bound object", async () => {
    await fails(tr({}), 404, 'serviceaccounts "nobody" not found', "nobody");
    await fails(tr({ boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "gone" } }), 404, 'pods "gone" not found');
    await fails(tr({ boundObjectRef: { kind: "Secret", apiVersion: "v1", name: "gone" } }), 404, 'secrets "gone" not found');
  });

  void it("answers 422 for an expiration outside 10 minutes to 2^32 seconds", async () => {
    await fails(tr({ expirationSeconds: 599 }), 422, 'TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes');
    await fails(tr({ expirationSeconds: 2 ** 32 + 1 }), 422, /may not specify a duration larger than 2\^32 seconds/);
  });

  void it("answers 400 for wrong types, unsupported kinds, and a pod of another service account; 409 for a stale uid", async () => {
    await fails(tr({ expirationSeconds: "1h" }), 400, /cannot unmarshal .*expirationSeconds of type int64/);
    await fails(tr({ audiences: "api" }), 400, /audiences of type \[\]string/);
    await fails(tr({ boundObjectRef: { kind: "Node", apiVersion: "v1", name: "n1" } }), 400, "cannot bind token to object of type /v1, Kind=Node");
    await fails(tr({ boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "p" } }), 400, 'cannot bind token for serviceaccount "robot" to pod running with different serviceaccount name.', "robot");
    await fails(tr({ boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "p", uid: "old" } }), 409, /^Operation cannot be fulfilled on Pod "p": the UID in the bound object reference \(old\) does not match/);
  });
});
