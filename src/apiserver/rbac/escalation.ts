// Escalation prevention for RBAC writes (upstream's policybased role and binding storage):
// a user may create or update a role only with the permissions it grants, and a binding only to
// a role whose permissions it holds, unless it may `escalate` or `bind` (or is in system:masters).
import type { PolicyRule } from "kubernetes-types/rbac/v1.js";
import type { Authorizer } from "../filters/authorization.js";
import type { UserInfo } from "../authn/types.js";
import type { KubeObject } from "../registry/types.js";
import type { FinishWrite, RequestContext, WriteHooks } from "../rest/store.js";
import { forbidden, type StatusError } from "../status.js";
import { jsonEqual } from "../../util/json.js";
import { aggregateMessage } from "../../util/errors.js";
import { PRIVILEGED_GROUP } from "./authorizer.js";
import type { ClusterRole, RoleRef, RuleResolver } from "./resolver.js";
import { compactRules, compactString, uncoveredRules } from "./rules.js";

export interface RbacWriteHooks {
  readonly roles: WriteHooks;
  readonly clusterroles: WriteHooks;
  readonly rolebindings: WriteHooks;
  readonly clusterrolebindings: WriteHooks;
}

export interface EscalationDeps {
  readonly resolver: RuleResolver;
  readonly authorizer: Authorizer;
}

import { RBAC_GROUP } from "../resources/rbac.js";

/** What an aggregationRule needs, since it can gather any permission: everything. */
const FULL_AUTHORITY: readonly PolicyRule[] = [
  { apiGroups: ["*"], resources: ["*"], verbs: ["*"] },
  { nonResourceURLs: ["*"], verbs: ["*"] },
];

/**
 * upstream's ConfirmNoEscalation: undefined when the user's rules in the namespace ("" for
 * cluster-wide ones only) cover `rules`, else the message naming what is missing, compacted,
 * one rule per line, sorted.
 */
export function escalationError(resolver: RuleResolver, user: UserInfo, namespace: string, rules: readonly PolicyRule[]): string | undefined {
  const held = resolver.rulesFor(user, namespace);
  const missing = uncoveredRules(held.rules, rules);
  if (missing.length === 0) return undefined;
  const lines = [...new Set(compactRules(missing).map(compactString))].sort();
  const groups = `[${user.groups.map((g) => JSON.stringify(g)).join(" ")}]`;
  let msg = `user ${JSON.stringify(user.username)} (groups=${groups}) is attempting to grant RBAC permissions not currently held:\n${lines.join("\n")}`;
  // upstream prints the resolver's aggregate error inside a one-element list.
  if (held.errors.length > 0) msg += `; resolution errors: [${aggregateMessage(held.errors)}]`;
  return msg;
}

/** upstream's errors.NewForbidden for an RBAC resource: `roles.rbac.authorization.k8s.io "name" is forbidden: why`. */
function refused(plural: string, name: string, why: string): StatusError {
  const subject = name === "" ? `${plural}.${RBAC_GROUP}` : `${plural}.${RBAC_GROUP} ${JSON.stringify(name)}`;
  return forbidden(`${subject} is forbidden: ${why}`, { group: RBAC_GROUP, resource: plural }, name);
}

/** Members of system:masters may write anything: the API server's own loopback identity is one. */
function escalationAllowed(user: UserInfo): boolean {
  return user.groups.includes(PRIVILEGED_GROUP);
}

/**
 * upstream's IsOnlyMutatingGCFields: an update that changes nothing but ownerReferences and
 * finalizers (what the garbage collector writes) grants nothing. managedFields are set aside
 * too: the write's own field manager entry changes with any update, the GC's included.
 */
function onlyGarbageCollectorFields(obj: KubeObject, old: KubeObject): boolean {
  const meta = { ...obj.metadata };
  const oldMeta = old.metadata ?? {};
  for (const k of ["ownerReferences", "finalizers", "selfLink", "managedFields"] as const) {
    if (oldMeta[k] === undefined) delete meta[k];
    else (meta as Record<string, unknown>)[k] = oldMeta[k];
  }
  return jsonEqual({ ...obj, metadata: meta }, old);
}

const done: FinishWrite = async () => undefined;

type Check = (obj: KubeObject, old: KubeObject | undefined, ctx: RequestContext) => Promise<void>;

/**
 * Hooks that run `check` on creates and updates unless the user is trusted: in system:masters,
 * or (for roles) `trusted` says so; updates of garbage collector fields only are not checked.
 */
function guard(check: Check, trusted?: (obj: KubeObject, ctx: RequestContext, update: boolean) => Promise<boolean>): WriteHooks {
  return {
    async beginCreate(obj, ctx) {
      if (!escalationAllowed(ctx.user) && !(await trusted?.(obj, ctx, false))) await check(obj, undefined, ctx);
      return done;
    },
    async beginUpdate(obj, old, ctx) {
      if (escalationAllowed(ctx.user) || (await trusted?.(obj, ctx, true))) return done;
      if (!onlyGarbageCollectorFields(obj, old)) await check(obj, old, ctx);
      return done;
    },
  };
}

export function rbacWriteHooks({ resolver, authorizer }: EscalationDeps): RbacWriteHooks {
  /**
   * upstream's RoleEscalationAuthorized: may the user `escalate` on this kind of role? As
   * upstream it asks about the request's name, which a create (a POST to the collection) has not.
   */
  const mayEscalate = (plural: string) => async (obj: KubeObject, ctx: RequestContext, update: boolean): Promise<boolean> => {
    const d = await authorizer.authorize({
      user: ctx.user,
      verb: "escalate",
      isResourceRequest: true,
      namespace: ctx.namespace,
      apiGroup: RBAC_GROUP,
      apiVersion: "*",
      resource: plural,
      subresource: "",
      name: update ? (obj.metadata?.name ?? "") : "",
      path: "",
    });
    return d.allowed;
  };

  const confirm = (plural: string, name: string, user: UserInfo, namespace: string, rules: readonly PolicyRule[]): void => {
    const why = escalationError(resolver, user, namespace, rules);
    if (why !== undefined) throw refused(plural, name, why);
  };

  const roleCheck =
    (plural: "roles" | "clusterroles"): Check =>
    async (obj, old, ctx) => {
      const name = obj.metadata?.name ?? "";
      confirm(plural, name, ctx.user, ctx.namespace, ((obj as unknown as ClusterRole).rules ?? []) as PolicyRule[]);
      if (plural !== "clusterroles") return;
      // An aggregationRule gathers whatever the selected roles grant, now and later: setting,
      // changing or dropping one takes full authority.
      if (hasAggregationRule(obj) || (old !== undefined && hasAggregationRule(old))) {
        if (escalationError(resolver, ctx.user, ctx.namespace, FULL_AUTHORITY) !== undefined) throw refused(plural, name, "must have cluster-admin privileges to use the aggregationRule");
      }
    };

  /**
   * upstream's BindingAuthorized, then the role's rules: may the user `bind` the role (in the
   * binding's namespace, "" for a ClusterRoleBinding), or does it hold what the role grants?
   */
  const bindingCheck =
    (plural: "rolebindings" | "clusterrolebindings"): Check =>
    async (obj, _old, ctx) => {
      const name = obj.metadata?.name ?? "";
      const ref = (obj as unknown as { roleRef?: RoleRef }).roleRef;
      if (!ref) return; // validation requires one
      const resource = ref.kind === "ClusterRole" ? "clusterroles" : ref.kind === "Role" ? "roles" : "";
      if (resource !== "") {
        const d = await authorizer.authorize({ user: ctx.user, verb: "bind", isResourceRequest: true, namespace: ctx.namespace, apiGroup: ref.apiGroup ?? "", apiVersion: "", resource, subresource: "", name: ref.name, path: "" });
        if (d.allowed) return;
      }
      let rules: readonly PolicyRule[];
      try {
        rules = resolver.roleReferenceRules(ref, ctx.namespace) as PolicyRule[];
      } catch (err) {
        throw refused(plural, name, err instanceof Error ? err.message : String(err));
      }
      confirm(plural, name, ctx.user, ctx.namespace, rules);
    };

  return {
    roles: guard(roleCheck("roles"), mayEscalate("roles")),
    clusterroles: guard(roleCheck("clusterroles"), mayEscalate("clusterroles")),
    rolebindings: guard(bindingCheck("rolebindings")),
    clusterrolebindings: guard(bindingCheck("clusterrolebindings")),
  };
}

function hasAggregationRule(obj: KubeObject): boolean {
  return ((obj as unknown as ClusterRole).aggregationRule?.clusterRoleSelectors ?? []).length > 0;
}
