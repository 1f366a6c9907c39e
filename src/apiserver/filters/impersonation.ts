// Impersonation (kubectl --as, --as-group, --as-uid): a caller acts as another user when the
// authorizer lets it `impersonate` that user, each of those groups, extras and uid, as
// upstream's WithImpersonation does. The request then goes on as the impersonated user, who is
// authenticated (system:authenticated is added unless system:anonymous is impersonated or
// either group was asked for); the Impersonate-* headers go no further.
import type { IncomingMessage } from "node:http";
import type { Filter, UserInfo } from "../http.js";
import { badRequest, forbidden } from "../status.js";
import { ANONYMOUS_USERNAME as ANONYMOUS, AUTHENTICATED_GROUP as AUTHENTICATED, UNAUTHENTICATED_GROUP as UNAUTHENTICATED } from "../authn/types.js";
import { SERVICE_ACCOUNTS_GROUP } from "../serviceaccount/authenticator.js";
import { serviceAccountUsername, splitServiceAccountUsername } from "../serviceaccount/jwt.js";
import type { AuthorizationAttributes, Authorizer } from "./authorization.js";

const USER = "impersonate-user";
const GROUP = "impersonate-group";
const UID = "impersonate-uid";
const EXTRA_PREFIX = "impersonate-extra-";

/** One thing the caller asks to act as, and the resource the authorizer is asked about. */
interface ImpersonationRequest {
  readonly resource: "users" | "serviceaccounts" | "groups" | "userextras" | "uids";
  readonly apiGroup: string;
  readonly namespace: string;
  readonly name: string;
  /** For userextras: the extra's key. */
  readonly subresource: string;
}

function headerValues(req: IncomingMessage, name: string): string[] {
  return (req.headersDistinct[name] ?? []).filter((v) => v !== "");
}

/** Whether any Impersonate-* header came (most requests: none, and headersDistinct is not built for them). */
function asksToImpersonate(req: IncomingMessage): boolean {
  for (const h in req.headers) if (h.startsWith("impersonate-")) return true;
  return false;
}

/** What the request's Impersonate-* headers ask for; empty when they ask for nothing. */
export function impersonationRequests(req: IncomingMessage): ImpersonationRequest[] {
  const out: ImpersonationRequest[] = [];
  if (!asksToImpersonate(req)) return out;
  const user = headerValues(req, USER)[0];
  if (user !== undefined) {
    const sa = splitServiceAccountUsername(user);
    out.push(sa ? { resource: "serviceaccounts", apiGroup: "", namespace: sa.namespace, name: sa.name, subresource: "" } : { resource: "users", apiGroup: "", namespace: "", name: user, subresource: "" });
  }
  for (const g of headerValues(req, GROUP)) out.push({ resource: "groups", apiGroup: "", namespace: "", name: g, subresource: "" });
  for (const header of Object.keys(req.headersDistinct)) {
    if (!header.startsWith(EXTRA_PREFIX)) continue;
    const key = unescapeExtraKey(header.slice(EXTRA_PREFIX.length));
    for (const v of headerValues(req, header)) out.push({ resource: "userextras", apiGroup: "authentication.k8s.io", namespace: "", name: v, subresource: key });
  }
  const uid = headerValues(req, UID)[0];
  if (uid !== undefined) out.push({ resource: "uids", apiGroup: "authentication.k8s.io", namespace: "", name: uid, subresource: "" });
  if (user === undefined && out.length > 0) {
    // Upstream answers 500 here; it is the caller's mistake.
    throw badRequest(`requested ${out.map((r) => `${r.resource} ${JSON.stringify(r.name)}`).join(", ")} without impersonating a user`);
  }
  return out;
}

/** An extra's key travels percent-encoded in the header's name (upstream's unescapeExtraKey). */
function unescapeExtraKey(key: string): string {
  try {
    return decodeURIComponent(key);
  } catch {
    return key;
  }
}

/** The user a caller becomes by what it asked for (each asking already allowed). */
export function impersonatedUser(requests: readonly ImpersonationRequest[], groupsAsked: boolean): UserInfo {
  let username = "";
  let uid: string | undefined;
  const groups: string[] = [];
  const extra: Record<string, string[]> = {};
  for (const r of requests) {
    if (r.resource === "users") username = r.name;
    else if (r.resource === "serviceaccounts") {
      username = serviceAccountUsername(r.namespace, r.name);
      // A service account's groups are known (as its tokens authenticate it); they are its own unless groups were asked for.
      if (!groupsAsked) groups.push(SERVICE_ACCOUNTS_GROUP, `${SERVICE_ACCOUNTS_GROUP}:${r.namespace}`);
    } else if (r.resource === "groups") groups.push(r.name);
    else if (r.resource === "userextras") (extra[r.subresource] ??= []).push(r.name);
    else uid = r.name;
  }
  if (username === ANONYMOUS) {
    if (!groups.includes(UNAUTHENTICATED)) groups.push(UNAUTHENTICATED);
  } else if (!groups.includes(AUTHENTICATED) && !groups.includes(UNAUTHENTICATED)) groups.push(AUTHENTICATED);
  return { username, groups, ...(uid !== undefined ? { uid } : {}), ...(Object.keys(extra).length > 0 ? { extra } : {}) };
}

export function impersonation(authorizer: Authorizer): Filter {
  return async (ctx, next) => {
    const requests = impersonationRequests(ctx.req);
    if (requests.length === 0) return next(ctx);
    const caller = ctx.user!;
    for (const r of requests) {
      const attrs: AuthorizationAttributes = { user: caller, verb: "impersonate", isResourceRequest: true, namespace: r.namespace, apiGroup: r.apiGroup, apiVersion: "", resource: r.resource, subresource: r.subresource, name: r.name, path: "" };
      const decision = await authorizer.authorize(attrs);
      if (!decision.allowed) {
        const what = `${r.resource}${r.apiGroup ? "." + r.apiGroup : ""} "${r.name}" is forbidden: User "${caller.username}" cannot impersonate resource "${r.resource}${r.subresource ? "/" + r.subresource : ""}" in API group "${r.apiGroup}"${r.namespace ? ` in the namespace "${r.namespace}"` : " at the cluster scope"}`;
        throw forbidden(decision.reason ? `${what}: ${decision.reason}` : what, { group: r.apiGroup, resource: r.resource }, r.name);
      }
    }
    ctx.impersonator = caller;
    ctx.user = impersonatedUser(requests, requests.some((r) => r.resource === "groups"));
    for (const h of Object.keys(ctx.req.headers)) if (h === USER || h === GROUP || h === UID || h.startsWith(EXTRA_PREFIX)) delete ctx.req.headers[h];
    await next(ctx);
  };
}
