// The node's own kubeconfig, <data-dir>/agent/kubelet.kubeconfig: the API server, the cluster CA
// and the node's client certificate (system:node:<name> in system:nodes) and key, all embedded,
// written 0600 in the shape the kubelet's bootstrap writes (default-cluster, default-auth,
// default-context), so the official kubectl reads it too.
import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { nodeUserName, NODES_GROUP } from "../../api/nodeidentity.js";
import { buildKubeconfig, loadKubeconfig, writeKubeconfig, type ClientConfig } from "../../util/kubeconfig.js";
import { certificateFromPem, isIssuedBy } from "../../util/pki.js";

export const NODE_KUBECONFIG_FILE = "kubelet.kubeconfig";

/** <dataDir>/agent/kubelet.kubeconfig */
export function nodeKubeconfigPath(dataDir: string): string {
  return join(dataDir, "agent", NODE_KUBECONFIG_FILE);
}

export interface NodeCredentials {
  readonly server: string;
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

export async function writeNodeKubeconfig(path: string, c: NodeCredentials): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeKubeconfig(
    path,
    buildKubeconfig({ clusterName: "default-cluster", server: c.server, caPem: c.caPem, userName: "default-auth", clientCertPem: c.certPem, clientKeyPem: c.keyPem, contextName: "default-context", namespace: "default" }),
  );
}

export interface UsableOptions {
  readonly nodeName: string;
  /** The certificate must stay valid at least this much longer. */
  readonly minValidMs: number;
  /** When given, the kubeconfig must name this server and this CA. */
  readonly server?: string;
  readonly caPem?: string;
  readonly now?: number;
}

/**
 * The node kubeconfig at `path` when it can be used as it is: readable, with a CA and a client
 * certificate that the CA issued, for this node's user, valid for at least `minValidMs` more
 * (and naming `server` and `caPem` when those are given); otherwise the reason it cannot.
 */
export async function usableNodeKubeconfig(path: string, o: UsableOptions): Promise<{ readonly config: ClientConfig } | { readonly unusable: string }> {
  let config: ClientConfig;
  try {
    config = await loadKubeconfig(path);
  } catch (err) {
    return { unusable: err instanceof Error ? err.message : String(err) };
  }
  const { caPem, certPem, keyPem } = config;
  if (!caPem || !certPem || !keyPem) return { unusable: `${path} has no CA, client certificate or key` };
  if (o.server !== undefined && config.server !== o.server) return { unusable: `${path} names the server ${config.server}, not ${o.server}` };
  if (o.caPem !== undefined && !samePem(caPem, o.caPem)) return { unusable: `${path} names another CA` };
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
    if (!isIssuedBy(certPem, caPem)) return { unusable: `${path}: the client certificate was not issued by its CA` };
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return { unusable: `${path}: the client key does not match the certificate` };
  } catch (err) {
    return { unusable: `${path}: ${err instanceof Error ? err.message : String(err)}` };
  }
  const notAfter = new Date(cert.validTo).getTime();
  if (notAfter - (o.now ?? Date.now()) < o.minValidMs) return { unusable: `${path}: the client certificate expires at ${new Date(notAfter).toISOString()}` };
  const subject = certificateFromPem(certPem).subjectName.toJSON();
  const cn = subject.flatMap((rdn) => rdn["CN"] ?? []).at(-1);
  const orgs = subject.flatMap((rdn) => rdn["O"] ?? []);
  if (cn !== nodeUserName(o.nodeName) || !orgs.includes(NODES_GROUP)) return { unusable: `${path}: the client certificate is for ${cn ?? "nobody"}, not ${nodeUserName(o.nodeName)} in ${NODES_GROUP}` };
  return { config };
}

const samePem = (a: string, b: string): boolean => a.replace(/\s+/g, "") === b.replace(/\s+/g, "");
