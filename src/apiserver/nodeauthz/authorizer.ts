// The Node authorizer (authorization mode "Node"; upstream's plugin/pkg/auth/authorizer/node):
// a kubelet, known by its user system:node:<name> in system:nodes, may read the Secrets,
// ConfigMaps, PersistentVolumeClaims and PersistentVolumes its own pods need, make tokens for
// its pods' ServiceAccounts, and keep its own Lease and CSINode; everything else it may do is
// the same for every node (upstream's NodeRules, the system:node ClusterRole's rules). Anyone
// who is not a node gets no opinion, so the next mode (RBAC) decides.
//
// Nodes and pods are decided as upstream 1.32 does with AuthorizeNodeWithSelectors (beta, on by
// default): a node reads its own Node only, gets only pods related to it, and lists or watches
// pods only with the field selector spec.nodeName=<itself>, which it reads from the attributes'
// `fieldSelector` when the request info carries one (without it, such a list is left to RBAC).
// Writes of Nodes and pods are allowed here and limited to the node's own by the NodeRestriction
// admission plugin, which sees the objects.
import type { PolicyRule } from "kubernetes-types/rbac/v1.js";
import type { Authorizer, AuthorizationAttributes, Decision } from "../filters/authorization.js";
import { nodeIdentity } from "../../api/nodeidentity.js";
import { bootstrapPolicy } from "../rbac/policy.js";
import { ruleAllows } from "../rbac/rules.js";
import { parseFieldSelector } from "../../api/fields.js";
import type { VertexType } from "./graph.js";

/** What the authorizer asks of the graph (NodeGraph). */
export interface NodeRelations {
  hasPathFrom(node: string, type: VertexType, namespace: string, name: string): boolean;
}

/** Where node leases live (upstream's api.NamespaceNodeLease). */
export const NODE_LEASE_NAMESPACE = "kube-node-lease";

/** Upstream's NodeRules: the rules of the system:node ClusterRole of the bootstrap policy. */
export function nodeRules(): PolicyRule[] {
  return bootstrapPolicy().clusterRoles.find((r) => r.metadata?.name === "system:node")?.rules ?? [];
}

const NO_OPINION: Decision = { allowed: false, reason: "" };

/** The field a list or watch selects on must equal `value` (upstream reads the selector's requirements, `=` or `==`). */
function selectsExactly(a: AuthorizationAttributes, field: string, value: string): boolean {
  const selector = "fieldSelector" in a && typeof a.fieldSelector === "string" ? a.fieldSelector : "";
  if (selector === "") return false;
  try {
    return parseFieldSelector(selector).requiresExactMatch(field) === value;
  } catch {
    return false;
  }
}
const ALLOW: Decision = { allowed: true };
const deny = (reason: string): Decision => ({ allowed: false, reason });

export function nodeAuthorizer(graph: NodeRelations, rules: readonly PolicyRule[] = nodeRules()): Authorizer {
  const related = (node: string, type: VertexType, a: AuthorizationAttributes): Decision => {
    if (a.name === "") return deny("No Object name found");
    return graph.hasPathFrom(node, type, a.namespace, a.name) ? ALLOW : deny(`no relationship found between node '${node}' and this object`);
  };

  /** get, list and watch of one namespaced object related to the node (secrets, configmaps). */
  const readNamespaced = (node: string, type: VertexType, a: AuthorizationAttributes): Decision => {
    if (a.verb !== "get" && a.verb !== "list" && a.verb !== "watch") return deny("can only read resources of this type");
    if (a.subresource !== "") return deny("cannot read subresource");
    if (a.namespace === "") return deny("can only read namespaced object of this type");
    return related(node, type, a);
  };

  const get = (node: string, type: VertexType, a: AuthorizationAttributes): Decision => {
    if (a.verb !== "get") return deny("can only get individual resources of this type");
    if (a.subresource !== "") return deny("cannot get subresource");
    return related(node, type, a);
  };

  const statusUpdate = (node: string, type: VertexType, a: AuthorizationAttributes): Decision => {
    if (a.verb !== "update" && a.verb !== "patch") return deny("can only get/update/patch this type");
    return related(node, type, a);
  };

  const createToken = (node: string, a: AuthorizationAttributes): Decision => {
    if (a.verb !== "create" || a.name === "") return deny("can only create tokens for individual service accounts");
    if (a.subresource !== "token") return deny("can only create token subresource of serviceaccount");
    return graph.hasPathFrom(node, "serviceaccount", a.namespace, a.name) ? ALLOW : deny(`no relationship found between node '${node}' and this object`);
  };

  const lease = (node: string, a: AuthorizationAttributes): Decision => {
    if (!["get", "create", "update", "patch", "delete"].includes(a.verb)) return deny("can only get, create, update, patch, or delete a node lease");
    if (a.namespace !== NODE_LEASE_NAMESPACE) return deny(`can only access leases in the "${NODE_LEASE_NAMESPACE}" system namespace`);
    // A create carries no name here; NodeRestriction checks the new object's.
    if (a.verb !== "create" && a.name !== node) return deny("can only access node lease with the same name as the requesting node");
    return ALLOW;
  };

  const csiNode = (node: string, a: AuthorizationAttributes): Decision => {
    if (!["get", "create", "update", "patch", "delete"].includes(a.verb)) return deny("can only get, create, update, patch, or delete a CSINode");
    if (a.subresource !== "") return deny("cannot authorize CSINode subresources");
    if (a.verb !== "create" && a.name !== node) return deny("can only access CSINode with the same name as the requesting node");
    return ALLOW;
  };

  const nodeObject = (node: string, a: AuthorizationAttributes): Decision => {
    if (a.subresource === "") {
      // NodeRestriction limits a node to creating and updating its own Node.
      if (a.verb === "create" || a.verb === "update" || a.verb === "patch") return ALLOW;
      if (a.verb === "get" || a.verb === "list" || a.verb === "watch") {
        // By name rather than through the graph, so a kubelet may look for its Node before creating it.
        if (a.name === node) return ALLOW;
        return deny(a.name === "" ? `node '${node}' cannot read all nodes, only its own Node object` : `node '${node}' cannot read '${a.name}', only its own Node object`);
      }
    }
    if (a.subresource === "status" && (a.verb === "update" || a.verb === "patch")) return ALLOW;
    return NO_OPINION;
  };

  const podObject = (node: string, a: AuthorizationAttributes): Decision => {
    switch (a.subresource) {
      case "":
        if (a.verb === "get") return get(node, "pod", a);
        if (a.verb === "list" || a.verb === "watch") {
          if (selectsExactly(a, "spec.nodeName", node)) return ALLOW;
          if (a.name !== "") return related(node, "pod", a);
          return deny("can only list/watch pods with spec.nodeName field selector");
        }
        // Mirror pods; NodeRestriction limits them to pods bound to the node.
        if (a.verb === "create" || a.verb === "delete") return ALLOW;
        break;
      case "status":
        if (a.verb === "update" || a.verb === "patch") return ALLOW;
        break;
      case "eviction":
        if (a.verb === "create") return ALLOW;
        break;
    }
    return NO_OPINION;
  };

  const subdivided = (node: string, a: AuthorizationAttributes): Decision | undefined => {
    switch (`${a.apiGroup}/${a.resource}`) {
      case "/secrets":
        return readNamespaced(node, "secret", a);
      case "/configmaps":
        return readNamespaced(node, "configmap", a);
      case "/persistentvolumeclaims":
        return a.subresource === "status" ? statusUpdate(node, "persistentvolumeclaim", a) : get(node, "persistentvolumeclaim", a);
      case "/persistentvolumes":
        return get(node, "persistentvolume", a);
      case "storage.k8s.io/volumeattachments":
        return get(node, "volumeattachment", a);
      case "/serviceaccounts":
        return createToken(node, a);
      case "coordination.k8s.io/leases":
        return lease(node, a);
      case "storage.k8s.io/csinodes":
        return csiNode(node, a);
      case "/nodes":
        return nodeObject(node, a);
      case "/pods":
        return podObject(node, a);
      default:
        return undefined;
    }
  };

  return {
    async authorize(a) {
      const node = nodeIdentity(a.user);
      if (node === undefined) return NO_OPINION;
      if (node === "") return deny(`unknown node for user "${a.user.username}"`);
      const d = a.isResourceRequest ? subdivided(node, a) : undefined;
      if (d) return d;
      return rules.some((r) => ruleAllows(a, r)) ? ALLOW : NO_OPINION;
    },
  };
}
