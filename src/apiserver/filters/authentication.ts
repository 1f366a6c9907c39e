// Authentication: the first authenticator with an opinion decides who the caller is. Anonymous
// callers may reach only the health and version endpoints (upstream's default RBAC for
// system:unauthenticated) and read kube-public/cluster-info, which a node about to join fetches
// before it has any credential (kubeadm's token discovery; RBAC lets system:anonymous get it);
// everything else answers 401.
import type { Filter, HttpContext } from "../http.js";
import { CLUSTER_INFO_NAME, CLUSTER_INFO_NAMESPACE } from "../../api/bootstraptoken.js";
import { unauthorized } from "../status.js";
import { ANONYMOUS_USER } from "../authn/anonymous.js";
import type { Authenticator, UserInfo } from "../authn/types.js";

const anonymousPaths = /^\/(healthz|livez|readyz|version)(\/.*)?$/;
const CLUSTER_INFO_PATH = `/api/v1/namespaces/${CLUSTER_INFO_NAMESPACE}/configmaps/${CLUSTER_INFO_NAME}`;

/** Whether a request without credentials may go on as system:anonymous. */
export function anonymousAllowed(ctx: Pick<HttpContext, "url" | "info">): boolean {
  if (anonymousPaths.test(ctx.url.pathname)) return true;
  // A get of that one object: not a watch, list or write of it.
  return ctx.url.pathname === CLUSTER_INFO_PATH && ctx.info.verb === "get";
}

export function authentication(authenticator: Authenticator): Filter {
  return async (ctx, next) => {
    let user: UserInfo | undefined;
    try {
      user = await authenticator.authenticate(ctx.req);
    } catch {
      throw unauthorized();
    }
    if (!user) {
      if (!anonymousAllowed(ctx)) throw unauthorized();
      user = ANONYMOUS_USER;
    }
    ctx.user = user;
    // Credentials are for us alone; never pass them on to proxied backends.
    delete ctx.req.headers.authorization;
    await next(ctx);
  };
}
