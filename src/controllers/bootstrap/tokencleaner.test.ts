import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Secret } from "kubernetes-types/core/v1.js";
import { FakeApi, apiError, conflictError, notFoundError, seedLister } from "../testing/index.js";
import { createLogger } from "../../util/log.js";
import { RECHECK_MS, TokenCleaner, tokenExpiry } from "./tokencleaner.js";

const log = createLogger("silent");
const NOW = Date.parse("2026-06-01T12:00:00Z");
const b64 = (s: string): string => Buffer.from(s).toString("base64");

function token(id: string, o: { expiration?: string; type?: string; namespace?: string } = {}): Secret {
  const data: Record<string, string> = { "token-id": id, "token-secret": "0123456789abcdef", "usage-bootstrap-authentication": "true", ...(o.expiration !== undefined ? { expiration: o.expiration } : {}) };
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: `bootstrap-token-${id}`, namespace: o.namespace ?? "kube-system", uid: `uid-${id}`, resourceVersion: "5" },
    type: o.type ?? "bootstrap.kubernetes.io/token",
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
  };
}

function cleaner(api: FakeApi, secrets: Secret[]): TokenCleaner {
  api.seed("", "secrets", ...structuredClone(secrets));
  return new TokenCleaner({ api, secrets: seedLister(secrets), log, now: () => NOW });
}

describe("token cleaner", () => {
  it("deletes expired tokens (and unreadable expirations, as upstream) with a uid precondition, and nothing else", async () => {
    const secrets = [
      token("expird", { expiration: "2026-06-01T11:59:59Z" }),
      token("justno", { expiration: "2026-06-01T12:00:00Z" }),
      token("garble", { expiration: "next tuesday" }),
      token("future", { expiration: "2026-06-01T13:00:00Z" }),
      token("foreve"),
      token("opaque", { expiration: "2020-01-01T00:00:00Z", type: "Opaque" }),
    ];
    const api = new FakeApi();
    const c = cleaner(api, secrets);
    for (const s of secrets) await c.sync(`kube-system/${s.metadata!.name!}`);
    await c.sync("kube-system/bootstrap-token-gone00");
    assert.deepEqual(api.verbs(), ["delete secrets kube-system/bootstrap-token-expird", "delete secrets kube-system/bootstrap-token-justno", "delete secrets kube-system/bootstrap-token-garble"]);
    assert.deepEqual(api.writes()[0]?.deleteOptions?.preconditions, { uid: "uid-expird" });
    c.queue.shutDown();
  });

  it("looks again when a token expires (at most a day ahead)", async () => {
    const api = new FakeApi();
    const c = cleaner(api, [token("future", { expiration: "2026-06-01T12:00:00.500Z" }), token("faraway", { expiration: "2027-06-01T12:00:00Z" })]);
    await c.sync("kube-system/bootstrap-token-future");
    await c.sync("kube-system/bootstrap-token-faraway");
    assert.deepEqual(api.verbs(), []);
    assert.equal(c.queue.len(), 0, "nothing is due yet");
    // The half-second wait ends: the key is back in the queue.
    assert.equal(await Promise.race([c.queue.get(), new Promise((r) => setTimeout(() => r("late"), 5000))]), "kube-system/bootstrap-token-future");
    c.queue.shutDown();
    assert.equal(RECHECK_MS, 24 * 3600_000);
  });

  it("a token already gone or replaced is done; other failures are retried", async () => {
    const api = new FakeApi();
    const c = cleaner(api, [token("goneaa", { expiration: "2020-01-01T00:00:00Z" }), token("replac", { expiration: "2020-01-01T00:00:00Z" }), token("failed", { expiration: "2020-01-01T00:00:00Z" })]);
    api.failOn({ verb: "delete", name: "bootstrap-token-goneaa" }, notFoundError("secrets", "bootstrap-token-goneaa"));
    api.failOn({ verb: "delete", name: "bootstrap-token-replac" }, conflictError("secrets", "bootstrap-token-replac"));
    api.failOn({ verb: "delete", name: "bootstrap-token-failed" }, apiError(500, "InternalError", "boom"));
    await c.sync("kube-system/bootstrap-token-goneaa");
    await c.sync("kube-system/bootstrap-token-replac");
    await assert.rejects(c.sync("kube-system/bootstrap-token-failed"), /boom/);
    c.queue.shutDown();
  });

  it("only kube-system's bootstrap tokens are queued", () => {
    const c = new TokenCleaner({ api: new FakeApi(), secrets: seedLister<Secret>([]), log });
    c.secretChanged(token("abcdef"));
    c.secretChanged(token("other1", { namespace: "default" }));
    c.secretChanged(token("opaque", { type: "Opaque" }));
    assert.equal(c.queue.len(), 1);
    c.queue.shutDown();
  });

  it("reads expirations as RFC 3339", () => {
    assert.equal(tokenExpiry(token("a", { expiration: "2026-06-01T12:00:00+02:00" })), Date.parse("2026-06-01T10:00:00Z"));
    assert.equal(tokenExpiry(token("a")), undefined);
    assert.equal(tokenExpiry(token("a", { expiration: "2026-06-01" })), -Infinity);
  });
});
