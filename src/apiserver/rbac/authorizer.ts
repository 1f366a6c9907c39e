// Authorization modes (`k8ts server --authorization-mode`): RBAC (the default), Node (kubelets
// limited to their own node's objects: ../nodeauthz), AlwaysAllow and AlwaysDeny, asked in the order given as upstream's union authorizer asks them: the first that
// allows decides, and a request nobody allows is forbidden with what each said. With RBAC on,
// members of system:masters may do anything without a rule being looked up (upstream's
// privileged-group authorizer, which the API server's own loopback identity relies on).
import type { Authorizer, AuthorizationAttributes, Decision } from "../filters/authorization.js";
import { ruleAllows } from "./rules.js";
import { aggregateMessage } from "../../util/errors.js";
import { describeSource, type RuleResolver } from "./resolver.js";

export const PRIVILEGED_GROUP = "system:masters";

export const AUTHORIZATION_MODES = ["RBAC", "Node", "AlwaysAllow", "AlwaysDeny"] as const;
export type AuthorizationMode = (typeof AUTHORIZATION_MODES)[number];

/** `--authorization-mode`: a comma-separated list of modes, each at most once. */
export function parseAuthorizationModes(flag: string): AuthorizationMode[] {
  const modes = flag.split(",").map((m) => m.trim());
  const seen = new Set<string>();
  for (const m of modes) {
    if (!(AUTHORIZATION_MODES as readonly string[]).includes(m)) throw new RangeError(`--authorization-mode: unknown mode ${JSON.stringify(m)} (supported: ${AUTHORIZATION_MODES.join(", ")})`);
    if (seen.has(m)) throw new RangeError(`--authorization-mode: ${m} given more than once`);
    seen.add(m);
  }
  return modes as AuthorizationMode[];
}

/** RBAC over a rule resolver: allowed by the first rule that matches, with upstream's reason. */
export function rbacAuthorizer(resolver: RuleResolver): Authorizer {
  return {
    async authorize(a) {
      let reason = "";
      const errors: string[] = [];
      resolver.visitRulesFor(a.user, a.namespace, (source, rule, err) => {
        if (rule && source && ruleAllows(a, rule)) {
          reason = `RBAC: allowed by ${describeSource(source)}`;
          return false;
        }
        if (err) errors.push(err.message);
        return true;
      });
      if (reason) return { allowed: true, reason };
      // No opinion; a role a binding names but that is missing is worth saying.
      return { allowed: false, reason: errors.length === 0 ? "" : `RBAC: ${aggregateMessage(errors)}` };
    },
  };
}

const alwaysAllow: Authorizer = { authorize: async () => ({ allowed: true }) };
const alwaysDeny: Authorizer = { authorize: async () => ({ allowed: false, reason: "Everything is forbidden." }) };

/** Allows members of system:masters outright. */
const privilegedGroup: Authorizer = {
  authorize: async (a) => (a.user.groups.includes(PRIVILEGED_GROUP) ? { allowed: true } : { allowed: false, reason: "" }),
};

/** Asks each in turn; the first that allows decides, else forbidden with their reasons joined. */
export function unionAuthorizer(authorizers: readonly Authorizer[]): Authorizer {
  return {
    async authorize(a: AuthorizationAttributes): Promise<Decision> {
      const reasons: string[] = [];
      for (const z of authorizers) {
        const d = await z.authorize(a);
        if (d.allowed) return d;
        if (d.reason) reasons.push(d.reason);
      }
      return { allowed: false, reason: reasons.join("\n") };
    },
  };
}

/**
 * The authorizer for a list of modes; `rbac` is asked for only when RBAC is among them, `node`
 * (the Node authorizer over the server's node graph) only when Node is.
 */
export function authorizerFor(modes: readonly AuthorizationMode[], rbac: () => Authorizer, node?: () => Authorizer): Authorizer {
  const chain: Authorizer[] = [];
  if (modes.includes("RBAC")) chain.push(privilegedGroup);
  for (const m of modes) {
    if (m === "Node" && !node) throw new RangeError("--authorization-mode: Node needs the node graph");
    chain.push(m === "RBAC" ? rbac() : m === "Node" ? node!() : m === "AlwaysAllow" ? alwaysAllow : alwaysDeny);
  }
  return chain.length === 1 ? chain[0]! : unionAuthorizer(chain);
}
