// Authorization: an Authorizer answers whether a user may do a verb on a resource (the
// attributes of upstream's authorizer.Attributes). Today every authenticated user may do
// everything; RBAC implements the same interface later.
import type { Filter, UserInfo } from "../http.js";
import type { RequestInfo } from "../requestinfo.js";
import { forbidden } from "../status.js";

export interface AuthorizationAttributes {
  readonly user: UserInfo;
  readonly verb: string;
  readonly isResourceRequest: boolean;
  readonly namespace: string;
  readonly apiGroup: string;
  readonly apiVersion: string;
  readonly resource: string;
  readonly subresource: string;
  readonly name: string;
  readonly path: string;
}

export type Decision = { readonly allowed: true; readonly reason?: string } | { readonly allowed: false; readonly reason: string };

export interface Authorizer {
  authorize(attrs: AuthorizationAttributes): Promise<Decision>;
}

/** Allows any authenticated user; anonymous users only where the authentication filter let them in. */
export const allowAuthenticated: Authorizer = {
  async authorize(a) {
    if (a.user.groups.includes("system:unauthenticated")) {
      return /^\/(healthz|livez|readyz|version)(\/.*)?$/.test(a.path) ? { allowed: true } : { allowed: false, reason: "anonymous access is not allowed" };
    }
    return { allowed: true, reason: "all authenticated users are allowed" };
  },
};

export function attributesOf(user: UserInfo, info: RequestInfo): AuthorizationAttributes {
  return {
    user,
    verb: info.verb,
    isResourceRequest: info.isResourceRequest,
    namespace: info.namespace,
    apiGroup: info.apiGroup,
    apiVersion: info.apiVersion,
    resource: info.resource,
    subresource: info.subresource,
    name: info.name,
    path: info.path,
  };
}

export function authorization(authorizer: Authorizer): Filter {
  return async (ctx, next) => {
    const user = ctx.user!;
    const decision = await authorizer.authorize(attributesOf(user, ctx.info));
    if (!decision.allowed) {
      const i = ctx.info;
      const what = i.isResourceRequest
        ? `${i.resource}${i.apiGroup ? "." + i.apiGroup : ""}${i.name ? ` "${i.name}"` : ""} is forbidden: User "${user.username}" cannot ${i.verb} resource "${i.resource}"${i.subresource ? `/${i.subresource}` : ""} in API group "${i.apiGroup}"${i.namespace ? ` in the namespace "${i.namespace}"` : i.resource === "namespaces" ? "" : " at the cluster scope"}`
        : `forbidden: User "${user.username}" cannot ${i.verb} path "${i.path}"`;
      throw forbidden(decision.reason ? `${what}: ${decision.reason}` : what, i.isResourceRequest ? { group: i.apiGroup, resource: i.resource } : undefined, i.name);
    }
    await next(ctx);
  };
}
