// The RBAC rule resolver (upstream's DefaultRuleResolver): the rules a user holds in a namespace,
// from every ClusterRoleBinding and the namespace's RoleBindings that name the user, one of its
// groups or its ServiceAccount. It reads roles and bindings from an RbacSource (the API server's
// watch cache), so a binding written a moment ago counts as soon as the cache has it.
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject } from "kubernetes-types/rbac/v1.js";
import type { UserInfo } from "../authn/types.js";

export type { ClusterRole, ClusterRoleBinding, Role, RoleBinding, RoleRef, Subject };

/** Where the resolver reads roles and bindings. */
export interface RbacSource {
  clusterRoleBindings(): readonly Readonly<ClusterRoleBinding>[];
  /** The RoleBindings of one namespace. */
  roleBindings(namespace: string): readonly Readonly<RoleBinding>[];
  clusterRole(name: string): Readonly<ClusterRole> | undefined;
  role(namespace: string, name: string): Readonly<Role> | undefined;
}

const SA_PREFIX = "system:serviceaccount:";

/** The username of a ServiceAccount's tokens. */
export function serviceAccountUsername(namespace: string, name: string): string {
  return `${SA_PREFIX}${namespace}:${name}`;
}

/**
 * Whether a binding's subject names the user. A ServiceAccount subject without a namespace means
 * the binding's own (RoleBindings only; a ClusterRoleBinding's must name one).
 */
export function appliesTo(user: UserInfo, subject: Readonly<Subject>, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case "User":
      return user.username === subject.name;
    case "Group":
      return user.groups.includes(subject.name);
    case "ServiceAccount": {
      const namespace = subject.namespace || bindingNamespace;
      return namespace !== "" && user.username === serviceAccountUsername(namespace, subject.name);
    }
    default:
      return false;
  }
}

/** upstream's describeSubject: `User "jane"`, `ServiceAccount "default/ns"` (name/namespace, as upstream prints it). */
function describeSubject(s: Readonly<Subject>, bindingNamespace: string): string {
  if (s.kind === "ServiceAccount") return `${s.kind} ${JSON.stringify(`${s.name}/${s.namespace || bindingNamespace}`)}`;
  return `${s.kind} ${JSON.stringify(s.name)}`;
}

/** What granted a rule, as upstream's authorizer names it in its reasons. */
export interface RuleSource {
  readonly kind: "ClusterRoleBinding" | "RoleBinding";
  readonly binding: string;
  readonly namespace: string;
  readonly roleRef: Readonly<RoleRef>;
  readonly subject: Readonly<Subject>;
}

/** `ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" to Group "system:masters"` (RoleBindings as `"name/namespace"`). */
export function describeSource(s: RuleSource): string {
  const binding = s.kind === "RoleBinding" ? `${s.binding}/${s.namespace}` : s.binding;
  return `${s.kind} ${JSON.stringify(binding)} of ${s.roleRef.kind} ${JSON.stringify(s.roleRef.name)} to ${describeSubject(s.subject, s.namespace)}`;
}

/** Why a binding's role could not be read: upstream's NotFound message for the role. */
export class RoleNotFoundError extends Error {
  override readonly name = "RoleNotFoundError";
  constructor(kind: string, name: string) {
    super(`${kind === "Role" ? "role" : "clusterrole"}.rbac.authorization.k8s.io ${JSON.stringify(name)} not found`);
  }
}

/**
 * Called with each rule the user holds (and where it came from), or with an error for a
 * binding whose role is missing; return false to stop.
 */
export type RuleVisitor = (source: RuleSource | undefined, rule: Readonly<PolicyRule> | undefined, err: Error | undefined) => boolean;

export interface ResolvedRules {
  readonly rules: readonly Readonly<PolicyRule>[];
  /** Bindings whose roles could not be read: the rules may be incomplete. */
  readonly errors: readonly Error[];
}

export class RuleResolver {
  constructor(private readonly source: RbacSource) {}

  /** The rules a role reference grants in a namespace ("" for a ClusterRoleBinding's). */
  roleReferenceRules(ref: Readonly<RoleRef>, namespace: string): readonly Readonly<PolicyRule>[] {
    if (ref.kind === "ClusterRole") {
      const role = this.source.clusterRole(ref.name);
      if (!role) throw new RoleNotFoundError("ClusterRole", ref.name);
      return role.rules ?? [];
    }
    if (ref.kind === "Role") {
      const role = namespace === "" ? undefined : this.source.role(namespace, ref.name);
      if (!role) throw new RoleNotFoundError("Role", ref.name);
      return role.rules ?? [];
    }
    throw new Error(`unsupported role reference kind: ${JSON.stringify(ref.kind)}`);
  }

  /**
   * Visits the user's rules: ClusterRoleBindings first, then (for a namespace) its RoleBindings,
   * each binding once, with the first of its subjects that names the user.
   */
  visitRulesFor(user: UserInfo, namespace: string, visit: RuleVisitor): void {
    for (const b of this.source.clusterRoleBindings()) {
      const subject = b.subjects?.find((s) => appliesTo(user, s, ""));
      if (!subject) continue;
      if (!this.visitBinding({ kind: "ClusterRoleBinding", binding: b.metadata?.name ?? "", namespace: "", roleRef: b.roleRef, subject }, visit)) return;
    }
    if (namespace === "") return;
    for (const b of this.source.roleBindings(namespace)) {
      const subject = b.subjects?.find((s) => appliesTo(user, s, namespace));
      if (!subject) continue;
      if (!this.visitBinding({ kind: "RoleBinding", binding: b.metadata?.name ?? "", namespace, roleRef: b.roleRef, subject }, visit)) return;
    }
  }

  private visitBinding(source: RuleSource, visit: RuleVisitor): boolean {
    let rules: readonly Readonly<PolicyRule>[];
    try {
      rules = this.roleReferenceRules(source.roleRef, source.namespace);
    } catch (err) {
      return visit(source, undefined, err as Error);
    }
    for (const rule of rules) if (!visit(source, rule, undefined)) return false;
    return true;
  }

  /** Every rule the user holds in the namespace (cluster-wide ones included). */
  rulesFor(user: UserInfo, namespace: string): ResolvedRules {
    const rules: Readonly<PolicyRule>[] = [];
    const errors: Error[] = [];
    this.visitRulesFor(user, namespace, (_source, rule, err) => {
      if (rule) rules.push(rule);
      if (err) errors.push(err);
      return true;
    });
    return { rules, errors };
  }
}
