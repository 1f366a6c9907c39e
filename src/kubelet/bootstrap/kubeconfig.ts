// The node's own kubeconfig, <data-dir>/agent/kubelet.kubeconfig: the API server, the cluster CA
// and the node's client certificate (system:node:<name> in system:nodes) and key, all embedded,
// written 0600 (util/clientkubeconfig.ts, shared with the server's other own clients).
import { join } from "node:path";
import { nodeUserName, NODES_GROUP } from "../../api/nodeidentity.js";
import type { ClientConfig } from "../../util/kubeconfig.js";
import { usableClientKubeconfig, writeClientKubeconfig, type ClientCredentials, type ClientIdentity } from "../../util/clientkubeconfig.js";

export const NODE_KUBECONFIG_FILE = "kubelet.kubeconfig";

/** <dataDir>/agent/kubelet.kubeconfig */
export function nodeKubeconfigPath(dataDir: string): string {
  return join(dataDir, "agent", NODE_KUBECONFIG_FILE);
}

export type NodeCredentials = ClientCredentials;
export const writeNodeKubeconfig = writeClientKubeconfig;

/** The user a node's client certificate names. */
export const nodeClientIdentity = (nodeName: string): ClientIdentity => ({ commonName: nodeUserName(nodeName), organizations: [NODES_GROUP] });

export interface UsableOptions {
  readonly nodeName: string;
  /** The certificate must stay valid at least this much longer. */
  readonly minValidMs: number;
  /** When given, the kubeconfig must name this server and this CA. */
  readonly server?: string;
  readonly caPem?: string;
  readonly now?: number;
}

/** The node kubeconfig at `path` when it can be used as it is (see usableClientKubeconfig), for this node's user; otherwise the reason it cannot. */
export function usableNodeKubeconfig(path: string, o: UsableOptions): Promise<{ readonly config: ClientConfig } | { readonly unusable: string }> {
  const { nodeName, ...rest } = o;
  return usableClientKubeconfig(path, { ...rest, identity: nodeClientIdentity(nodeName) });
}
