// Who is a node (upstream's nodeidentifier): a user named `system:node:<name>` in the group
// `system:nodes`, as a kubelet's client certificate says (CN and O). The Node authorizer and the
// NodeRestriction admission plugin limit such users to their own node's objects.

export const NODES_GROUP = "system:nodes";
export const NODE_USER_PREFIX = "system:node:";

export const nodeUserName = (nodeName: string): string => NODE_USER_PREFIX + nodeName;

/**
 * The node a user is, or undefined when the user is not a node. A node user with an empty name
 * (`system:node:`) is a node whose name is unknown: "" (upstream denies it everything).
 */
export function nodeIdentity(user: { readonly username: string; readonly groups: readonly string[] }): string | undefined {
  if (!user.username.startsWith(NODE_USER_PREFIX)) return undefined;
  if (!user.groups.includes(NODES_GROUP)) return undefined;
  return user.username.slice(NODE_USER_PREFIX.length);
}
