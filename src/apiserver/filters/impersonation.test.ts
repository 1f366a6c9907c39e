// The impersonation filter with an authorizer that refuses some of what is asked: each thing
// impersonated is asked about on its own, and a refusal is upstream's 403.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { HttpContext, UserInfo } from "../http.js";
import { StatusError } from "../status.js";
import type { AuthorizationAttributes, Authorizer } from "./authorization.js";
import { audit, type AuditEvent } from "./audit.js";
import { impersonation } from "./impersonation.js";

const CALLER: UserInfo = { username: "bob", groups: ["system:authenticated"] };

/** Runs the filter on a request with these headers; what the next stage saw, or the error. */
async function run(headers: Record<string, string[]>, authorizer: Authorizer): Promise<{ user?: UserInfo; headers?: Record<string, unknown>; error?: StatusError }> {
  const flat: Record<string, string> = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.join(", ")]));
  const ctx = { req: { headersDistinct: headers, headers: { ...flat, accept: "application/json" } }, user: CALLER } as unknown as HttpContext;
  let seen: UserInfo | undefined;
  try {
    await impersonation(authorizer)(ctx, async (c) => {
      seen = c.user;
    });
  } catch (err) {
    if (err instanceof StatusError) return { error: err };
    throw err;
  }
  return { ...(seen ? { user: seen } : {}), headers: ctx.req.headers };
}

describe("impersonation", () => {
  it("asks the authorizer about each user, group, extra and uid, as the caller, with the verb impersonate", async () => {
    const asked: AuthorizationAttributes[] = [];
    const all: Authorizer = { authorize: async (a) => (asked.push(a), { allowed: true }) };
    const r = await run({ "impersonate-user": ["system:serviceaccount:ns1:robot"], "impersonate-group": ["devs"], "impersonate-extra-acme.com%2fteam": ["red"] }, all);
    assert.deepEqual(r.user, { username: "system:serviceaccount:ns1:robot", groups: ["devs", "system:authenticated"], extra: { "acme.com/team": ["red"] } });
    assert.deepEqual(
      asked.map((a) => [a.user.username, a.verb, a.resource, a.subresource, a.apiGroup, a.namespace, a.name]),
      [
        ["bob", "impersonate", "serviceaccounts", "", "", "ns1", "robot"],
        ["bob", "impersonate", "groups", "", "", "", "devs"],
        ["bob", "impersonate", "userextras", "acme.com/team", "authentication.k8s.io", "", "red"],
      ],
    );
    assert.deepEqual(r.headers, { accept: "application/json" }, "the Impersonate-* headers go no further");
    const none = await run({}, all);
    assert.deepEqual(none.user, CALLER);
  });

  it("refuses with upstream's 403 when one of them is not allowed", async () => {
    const noGroups: Authorizer = { authorize: async (a) => (a.resource === "groups" ? { allowed: false, reason: "" } : { allowed: true }) };
    const r = await run({ "impersonate-user": ["alice"], "impersonate-group": ["admins"] }, noGroups);
    assert.equal(r.error?.status.code, 403);
    assert.equal(r.error?.status.message, 'groups "admins" is forbidden: User "bob" cannot impersonate resource "groups" in API group "" at the cluster scope');
    assert.deepEqual((await run({ "impersonate-user": ["alice"] }, noGroups)).user, { username: "alice", groups: ["system:authenticated"] });
  });

  it("leaves the audit event the caller as its user and the one it acted as as its impersonatedUser", async () => {
    const events: AuditEvent[] = [];
    const allow: Authorizer = { authorize: async () => ({ allowed: true }) };
    const ctx = {
      req: { headersDistinct: { "impersonate-user": ["alice"] }, headers: { "impersonate-user": "alice" }, url: "/api/v1/pods", socket: { remoteAddress: "127.0.0.1" } },
      user: CALLER,
      info: { verb: "list", isResourceRequest: false },
      startedAt: Date.now(),
      code: 200,
    } as unknown as HttpContext;
    await audit({ record: (e) => events.push(e) })(ctx, (c) => impersonation(allow)(c, async () => undefined));
    assert.deepEqual(events[0]?.user, { username: "bob", groups: ["system:authenticated"] });
    assert.deepEqual(events[0]?.impersonatedUser, { username: "alice", groups: ["system:authenticated"] });
  });
});
