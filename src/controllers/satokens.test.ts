// The controllers' ServiceAccount tokens on a fake clock and a fake API: the account made when
// missing, a token asked for 3600 s and renewed at 80% of its lifetime, retries keeping the old
// token, an early renewal after a 401, nothing after close().
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { TokenRequest } from "kubernetes-types/authentication/v1.js";
import { FakeClock } from "../client/clock.js";
import { ApiError } from "../client/errors.js";
import type { RestClient } from "../client/rest.js";
import { createLogger } from "../util/log.js";
import { SA_TOKEN_EXPIRATION_SECONDS, serviceAccountUser, ServiceAccountTokens, tokenRefreshDelayMs } from "./satokens.js";

const log = createLogger("silent");
const MIN = 60_000;

const notFound = (what: string): ApiError => ApiError.fromResponse(404, JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404, message: `${what} not found` }));

/** An API with ServiceAccounts and Namespaces in memory, and TokenRequests answered from the clock. */
function fakeApi(clock: FakeClock) {
  const accounts = new Set<string>();
  const namespaces = new Set(["kube-system"]);
  const calls: string[] = [];
  let issued = 0;
  let failTokens = 0;
  let lifetimeSeconds: number | undefined;
  const client = {
    forKind(_apiVersion: string, kind: string) {
      if (kind === "Namespace") {
        return {
          get: (name: string) => (calls.push(`get namespace ${name}`), namespaces.has(name) ? Promise.resolve({}) : Promise.reject(notFound(name))),
          create: (ns: { metadata: { name: string } }) => (calls.push(`create namespace ${ns.metadata.name}`), namespaces.add(ns.metadata.name), Promise.resolve(ns)),
        };
      }
      return {
        namespace: (ns: string) => ({
          get: (name: string) => (calls.push(`get serviceaccount ${ns}/${name}`), accounts.has(`${ns}/${name}`) ? Promise.resolve({}) : Promise.reject(notFound(name))),
          create: (sa: { metadata: { name: string } }) => (calls.push(`create serviceaccount ${ns}/${sa.metadata.name}`), accounts.add(`${ns}/${sa.metadata.name}`), Promise.resolve(sa)),
          subresource: (_method: string, name: string, sub: string, body: TokenRequest): Promise<TokenRequest> => {
            calls.push(`${sub} ${ns}/${name} ${body.spec.expirationSeconds}`);
            if (failTokens > 0) {
              failTokens--;
              return Promise.reject(new Error("connection refused"));
            }
            const seconds = lifetimeSeconds ?? body.spec.expirationSeconds ?? 3600;
            return Promise.resolve({ ...body, status: { token: `${name}-${++issued}`, expirationTimestamp: new Date(clock.now() + seconds * 1000).toISOString() } });
          },
        }),
      };
    },
  };
  return {
    client: client as unknown as RestClient,
    calls,
    tokenCalls: () => calls.filter((c) => c.startsWith("token ")),
    failNextTokens: (n: number) => void (failTokens = n),
    setLifetime: (s: number) => void (lifetimeSeconds = s),
  };
}

/** Lets the promise chains a timer started run to their end. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

void describe("tokenRefreshDelayMs", () => {
  void it("renews at 80% of the lifetime, counting a lifetime under 10 minutes as 10 minutes", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    assert.equal(tokenRefreshDelayMs("2026-01-01T01:00:00Z", now), 48 * MIN);
    assert.equal(tokenRefreshDelayMs("2026-01-01T00:05:00Z", now), 8 * MIN);
    assert.equal(tokenRefreshDelayMs("2025-12-31T00:00:00Z", now), 8 * MIN, "an expiry in the past is clock skew");
    assert.equal(tokenRefreshDelayMs("not a time", now), 8 * MIN);
    assert.equal(tokenRefreshDelayMs("2026-01-01T01:00:00Z", now, 50), 30 * MIN);
  });

  void it("names the account's user as the authenticator does", () => {
    assert.equal(serviceAccountUser("kube-system", "deployment-controller"), "system:serviceaccount:kube-system:deployment-controller");
  });
});

void describe("ServiceAccountTokens", () => {
  void it("creates a missing account, asks for a 3600 s token, and renews it at 80% of its lifetime", async () => {
    const clock = new FakeClock(Date.parse("2026-01-01T00:00:00Z"));
    const api = fakeApi(clock);
    const tokens = new ServiceAccountTokens({ client: api.client, clock, log });
    try {
      assert.equal(await tokens.ensure("deployment-controller"), true);
      assert.deepEqual(api.calls, ["get serviceaccount kube-system/deployment-controller", "get namespace kube-system", "create serviceaccount kube-system/deployment-controller", `token kube-system/deployment-controller ${SA_TOKEN_EXPIRATION_SECONDS}`]);
      const source = tokens.tokenSource("deployment-controller");
      assert.equal(source.token(), "deployment-controller-1");

      clock.step(48 * MIN - 1);
      await settle();
      assert.equal(api.tokenCalls().length, 1, "not renewed before 80% of the lifetime");
      clock.step(1);
      await settle();
      assert.equal(api.tokenCalls().length, 2);
      assert.equal(source.token(), "deployment-controller-2", "the client sends the new token from then on");
      assert.equal(api.calls.filter((c) => c.startsWith("create")).length, 1, "the account is made once");

      clock.step(48 * MIN);
      await settle();
      assert.equal(source.token(), "deployment-controller-3");
    } finally {
      tokens.close();
    }
  });

  void it("shares one account among controllers and one renewal among callers", async () => {
    const clock = new FakeClock();
    const api = fakeApi(clock);
    const tokens = new ServiceAccountTokens({ client: api.client, clock, log });
    try {
      const ready = await Promise.all([tokens.ensure("node-controller"), tokens.ensure("node-controller"), tokens.ensure("certificate-controller")]);
      assert.deepEqual(ready, [true, true, true]);
      assert.equal(api.tokenCalls().length, 2);
    } finally {
      tokens.close();
    }
  });

  void it("keeps the old token while a renewal fails, retrying with backoff", async () => {
    const clock = new FakeClock(Date.parse("2026-01-01T00:00:00Z"));
    const api = fakeApi(clock);
    const tokens = new ServiceAccountTokens({ client: api.client, clock, log });
    try {
      await tokens.ensure("job-controller");
      api.failNextTokens(3);
      clock.step(48 * MIN);
      await settle();
      assert.equal(tokens.token("job-controller"), "job-controller-1", "the old token stays in use");
      // Retries after 500 ms, 1 s and 2 s; the fourth attempt succeeds.
      for (const ms of [500, 1000, 2000]) {
        clock.step(ms);
        await settle();
      }
      assert.equal(api.tokenCalls().length, 5);
      assert.equal(tokens.token("job-controller"), "job-controller-2");
    } finally {
      tokens.close();
    }
  });

  void it("asks for a new token at once when the server refuses the current one", async () => {
    const clock = new FakeClock(Date.parse("2026-01-01T00:00:00Z"));
    const api = fakeApi(clock);
    const tokens = new ServiceAccountTokens({ client: api.client, clock, log });
    try {
      await tokens.ensure("replicaset-controller");
      const source = tokens.tokenSource("replicaset-controller");
      source.unauthorized?.();
      await settle();
      assert.equal(api.tokenCalls().length, 1, "not again within a second of the last one");
      clock.step(2_000);
      source.unauthorized?.();
      source.unauthorized?.();
      await settle();
      assert.equal(api.tokenCalls().length, 2, "one renewal for many refusals");
      assert.equal(source.token(), "replicaset-controller-2");
    } finally {
      tokens.close();
    }
  });

  void it("renews a short-lived token after 8 minutes, and nothing after close()", async () => {
    const clock = new FakeClock(Date.parse("2026-01-01T00:00:00Z"));
    const api = fakeApi(clock);
    api.setLifetime(300);
    const tokens = new ServiceAccountTokens({ client: api.client, clock, log });
    await tokens.ensure("pod-garbage-collector");
    clock.step(8 * MIN);
    await settle();
    assert.equal(api.tokenCalls().length, 2);
    tokens.close();
    assert.equal(clock.pending, 0, "no timer left");
    clock.step(60 * MIN);
    await settle();
    assert.equal(api.tokenCalls().length, 2);
    assert.equal(await tokens.ensure("another-controller"), false, "a closed source gives no new tokens");
  });
});
