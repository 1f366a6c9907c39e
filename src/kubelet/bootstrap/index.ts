// A node's credentials: its own client certificate as system:node:<name>, in
// <data-dir>/agent/kubelet.kubeconfig. A joining node gets it with a bootstrap token (discovery,
// then TLS bootstrap); the server's embedded node has it signed by the server's own CA. Either
// way an existing kubeconfig is kept while it is valid, so restarts need no token (which may
// have expired since).
import { RestClient } from "../../client/rest.js";
import type { CertAndKey } from "../../util/pki.js";
import type { Logger } from "../../util/log.js";
import { checkDiscoveryFlags, discoverCluster } from "./discovery.js";
import { requestNodeCertificate } from "./csr.js";
import { nodeClientIdentity, nodeKubeconfigPath, usableNodeKubeconfig, writeNodeKubeconfig } from "./kubeconfig.js";
import { ensureSignedKubeconfig } from "../../util/clientkubeconfig.js";
import { BootstrapError } from "./errors.js";

export { BootstrapError, type BootstrapErrorCode } from "./errors.js";
export { checkDiscoveryFlags, discoverCluster, parseCACertHashes, parseTokenFlag, DEFAULT_DISCOVERY_TIMEOUT_MS, type DiscoveredCluster, type DiscoveryOptions } from "./discovery.js";
export { csrOutcome, nodeCSRName, requestNodeCertificate, DEFAULT_APPROVAL_TIMEOUT_MS, KUBELET_CLIENT_SIGNER, NODE_CLIENT_USAGES, type IssuedNodeCertificate } from "./csr.js";
export { nodeKubeconfigPath, usableNodeKubeconfig, writeNodeKubeconfig, NODE_KUBECONFIG_FILE, type NodeCredentials } from "./kubeconfig.js";

/** A joined node keeps its kubeconfig while its certificate has at least this long left. */
export const MIN_CERT_VALIDITY_MS = 10 * 60_000;

export interface JoinOptions {
  readonly dataDir: string;
  readonly nodeName: string;
  /** `--server`; required unless the node already has a usable kubeconfig. */
  readonly server?: string;
  /** `--token`; required unless the node already has a usable kubeconfig. */
  readonly token?: string;
  readonly caCertHashes: readonly string[];
  readonly unsafeSkipCAVerification?: boolean;
  readonly discoveryTimeoutMs?: number;
  readonly discoveryRetryMs?: number;
  readonly approvalTimeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly log: Logger;
}

/**
 * The path of a kubeconfig the node runs with: the existing one when usable, else one made by
 * joining with the bootstrap token (kubeadm's discovery, the kubelet's TLS bootstrap).
 */
export async function joinWithToken(o: JoinOptions): Promise<string> {
  const path = nodeKubeconfigPath(o.dataDir);
  const log = o.log.child({ component: "bootstrap", node: o.nodeName });
  const existing = await usableNodeKubeconfig(path, { nodeName: o.nodeName, minValidMs: MIN_CERT_VALIDITY_MS });
  if ("config" in existing) {
    log.info({ kubeconfig: path }, "the node's kubeconfig is valid: no bootstrap needed");
    return path;
  }
  if (!o.server || !o.token) {
    throw new BootstrapError("BadOption", `--server and --token are required to join a cluster (${existing.unusable}); or give --kubeconfig with credentials`);
  }
  // Flags are checked before anything is dialled.
  checkDiscoveryFlags({ token: o.token, caCertHashes: o.caCertHashes, ...(o.unsafeSkipCAVerification ? { unsafeSkipCAVerification: true } : {}) });
  log.info({ reason: existing.unusable }, "joining with the bootstrap token");
  const cluster = await discoverCluster({
    server: o.server,
    token: o.token,
    caCertHashes: o.caCertHashes,
    ...(o.unsafeSkipCAVerification ? { unsafeSkipCAVerification: true } : {}),
    ...(o.discoveryTimeoutMs !== undefined ? { timeoutMs: o.discoveryTimeoutMs } : {}),
    ...(o.discoveryRetryMs !== undefined ? { retryMs: o.discoveryRetryMs } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    log,
  });
  const client = new RestClient({ config: { server: cluster.server, caPem: cluster.caPem, token: o.token, namespace: "default", insecureSkipTLSVerify: false }, component: "agent", name: "tls-bootstrap" });
  try {
    const issued = await requestNodeCertificate({
      client,
      nodeName: o.nodeName,
      ...(o.approvalTimeoutMs !== undefined ? { timeoutMs: o.approvalTimeoutMs } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      log,
    });
    await writeNodeKubeconfig(path, { server: cluster.server, caPem: cluster.caPem, certPem: issued.certPem, keyPem: issued.keyPem });
  } finally {
    client.close();
  }
  log.info({ kubeconfig: path }, "the node joined: it runs as itself from now on");
  return path;
}

/**
 * The server's own node: its client certificate is signed directly with the cluster CA (the
 * server holds the key, so there is nothing to bootstrap), and re-issued when it nears expiry or
 * no longer names this node, server or CA.
 */
export function ensureLocalNodeKubeconfig(o: { readonly dataDir: string; readonly nodeName: string; readonly server: string; readonly ca: CertAndKey; readonly log: Logger }): Promise<string> {
  return ensureSignedKubeconfig({ path: nodeKubeconfigPath(o.dataDir), identity: nodeClientIdentity(o.nodeName), server: o.server, ca: o.ca, log: o.log });
}
