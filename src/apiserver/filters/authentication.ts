// Authentication: the first authenticator with an opinion decides who the caller is. Anonymous
// callers may reach only the health and version endpoints (upstream's default RBAC for
// system:unauthenticated); everything else answers 401.
import type { Filter } from "../http.js";
import { unauthorized } from "../status.js";
import { ANONYMOUS_USER } from "../authn/anonymous.js";
import type { Authenticator, UserInfo } from "../authn/types.js";

const anonymousPaths = /^\/(healthz|livez|readyz|version)(\/.*)?$/;

export function authentication(authenticator: Authenticator): Filter {
  return async (ctx, next) => {
    let user: UserInfo | undefined;
    try {
      user = await authenticator.authenticate(ctx.req);
    } catch {
      throw unauthorized();
    }
    if (!user) {
      if (!anonymousPaths.test(ctx.url.pathname)) throw unauthorized();
      user = ANONYMOUS_USER;
    }
    ctx.user = user;
    // Credentials are for us alone; never pass them on to proxied backends.
    delete ctx.req.headers.authorization;
    await next(ctx);
  };
}
