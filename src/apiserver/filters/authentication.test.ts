// The authentication filter: who goes on as whom, and which requests without credentials may go
// on as system:anonymous (health, version, and a get of kube-public/cluster-info).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { HttpContext, UserInfo } from "../http.js";
import { parseRequestInfo } from "../requestinfo.js";
import { StatusError } from "../status.js";
import { AuthenticationError, type Authenticator } from "../authn/types.js";
import { anonymousAllowed, authentication } from "./authentication.js";

function ctxFor(method: string, path: string, authorization?: string): HttpContext {
  const url = new URL(path, "https://127.0.0.1:6443");
  return { req: { method, headers: authorization ? { authorization } : {} }, url, info: parseRequestInfo(method, url), user: undefined } as unknown as HttpContext;
}

/** Runs the filter; the user the next stage saw, or the HTTP code it answered. */
async function run(a: Authenticator, method: string, path: string, authorization?: string): Promise<UserInfo | number> {
  const ctx = ctxFor(method, path, authorization);
  let seen: UserInfo | undefined;
  try {
    await authentication(a)(ctx, async (c) => {
      seen = c.user;
    });
  } catch (err) {
    if (err instanceof StatusError) return err.status.code ?? 0;
    throw err;
  }
  return seen ?? 0;
}

const nobody: Authenticator = { authenticate: async () => undefined };
const rejects: Authenticator = {
  authenticate: async () => {
    throw new AuthenticationError("InvalidToken", "invalid bearer token");
  },
};
const alice: Authenticator = { authenticate: async () => ({ username: "alice", groups: ["system:authenticated"] }) };
const ANONYMOUS = { username: "system:anonymous", groups: ["system:unauthenticated"] };
const CLUSTER_INFO = "/api/v1/namespaces/kube-public/configmaps/cluster-info";

describe("authentication filter", () => {
  it("anonymous callers may get cluster-info, health and version, and nothing else", async () => {
    for (const path of [CLUSTER_INFO, `${CLUSTER_INFO}?resourceVersion=0`, "/healthz", "/readyz/ping", "/livez", "/version"]) {
      assert.deepEqual(await run(nobody, "GET", path), ANONYMOUS, path);
    }
    for (const [method, path] of [
      ["GET", "/api/v1/namespaces/kube-public/configmaps/other"],
      ["GET", "/api/v1/namespaces/kube-public/configmaps"],
      ["GET", "/api/v1/namespaces/kube-public/configmaps?watch=1"],
      ["GET", "/api/v1/namespaces/kube-system/configmaps/cluster-info"],
      ["GET", `${CLUSTER_INFO}/status`],
      ["PUT", CLUSTER_INFO],
      ["DELETE", CLUSTER_INFO],
      ["PATCH", CLUSTER_INFO],
      ["GET", "/api"],
      ["GET", "/apis"],
      ["GET", "/api/v1/namespaces"],
    ] as const) {
      assert.equal(await run(nobody, method, path), 401, `${method} ${path}`);
    }
  });

  it("rejected credentials answer 401 even where anonymous callers are let in", async () => {
    assert.equal(await run(rejects, "GET", CLUSTER_INFO, "Bearer abcdef.0123456789abcdef"), 401);
    assert.equal(await run(rejects, "GET", "/healthz", "Bearer x"), 401);
  });

  it("an authenticated caller goes on as itself, and its credentials go no further", async () => {
    const ctx = ctxFor("GET", "/api/v1/pods", "Bearer t");
    let user: UserInfo | undefined;
    await authentication(alice)(ctx, async (c) => {
      user = c.user;
    });
    assert.equal(user?.username, "alice");
    assert.equal(ctx.req.headers.authorization, undefined);
  });

  it("anonymousAllowed looks at the path and the verb only", () => {
    const at = (method: string, path: string): boolean => {
      const url = new URL(path, "https://h");
      return anonymousAllowed({ url, info: parseRequestInfo(method, url) });
    };
    assert.equal(at("GET", CLUSTER_INFO), true);
    assert.equal(at("HEAD", CLUSTER_INFO), true, "HEAD is a get, as upstream's request info says");
    assert.equal(at("POST", "/api/v1/namespaces/kube-public/configmaps"), false);
  });
});
