// Authorization: an Authorizer answers whether a user may do a verb on a resource (the
// attributes of upstream's authorizer.Attributes). The modes (RBAC, AlwaysAllow, AlwaysDeny)
// are in ../rbac/authorizer.ts.
import type { Filter, UserInfo } from "../http.js";
import type { RequestInfo } from "../requestinfo.js";
import { forbidden } from "../status.js";
import { isValidPathSegmentName } from "../../api/validation.js";
import { parseFieldSelector } from "../../api/fields.js";

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
  /**
   * The field selector of a list, watch or deletecollection, as sent (upstream's
   * AuthorizeWithSelectors): the Node authorizer lets a node list pods with spec.nodeName=<itself>.
   */
  readonly fieldSelector?: string;
}

export type Decision = { readonly allowed: true; readonly reason?: string } | { readonly allowed: false; readonly reason: string };

export interface Authorizer {
  authorize(attrs: AuthorizationAttributes): Promise<Decision>;
}

/**
 * What a request asks to do. A list or watch of one object (`fieldSelector=metadata.name=x`,
 * as `kubectl get pod x -w` asks) is about that name, as upstream's request info makes it, so
 * that a rule with resourceNames can allow it.
 */
export function attributesOf(user: UserInfo, info: RequestInfo, query?: URLSearchParams): AuthorizationAttributes {
  const name = info.name === "" && (info.verb === "list" || info.verb === "watch") && query ? exactName(query.get("fieldSelector")) : info.name;
  const fieldSelector = (info.verb === "list" || info.verb === "watch" || info.verb === "deletecollection") && query ? (query.get("fieldSelector") ?? "") : "";
  return {
    user,
    verb: info.verb,
    isResourceRequest: info.isResourceRequest,
    namespace: info.namespace,
    apiGroup: info.apiGroup,
    apiVersion: info.apiVersion,
    resource: info.resource,
    subresource: info.subresource,
    name,
    path: info.path,
    ...(fieldSelector ? { fieldSelector } : {}),
  };
}

/** The name a field selector requires (`metadata.name=x` or `==`), if it is a valid path segment. */
function exactName(selector: string | null): string {
  if (!selector) return "";
  let name: string | undefined;
  try {
    name = parseFieldSelector(selector).requiresExactMatch("metadata.name");
  } catch {
    return ""; // the handler answers a malformed selector with its 400
  }
  return name && isValidPathSegmentName(name).length === 0 ? name : "";
}

export function authorization(authorizer: Authorizer): Filter {
  return async (ctx, next) => {
    const user = ctx.user!;
    const decision = await authorizer.authorize(attributesOf(user, ctx.info, ctx.url.searchParams));
    if (!decision.allowed) {
      const i = ctx.info;
      const what = i.isResourceRequest
        ? `${i.resource}${i.apiGroup ? "." + i.apiGroup : ""}${i.name ? ` "${i.name}"` : ""} is forbidden: User "${user.username}" cannot ${i.verb} resource "${i.resource}${i.subresource ? `/${i.subresource}` : ""}" in API group "${i.apiGroup}"${i.namespace ? ` in the namespace "${i.namespace}"` : i.resource === "namespaces" ? "" : " at the cluster scope"}`
        : `forbidden: User "${user.username}" cannot ${i.verb} path "${i.path}"`;
      throw forbidden(decision.reason ? `${what}: ${decision.reason}` : what, i.isResourceRequest ? { group: i.apiGroup, resource: i.resource } : undefined, i.name);
    }
    await next(ctx);
  };
}
