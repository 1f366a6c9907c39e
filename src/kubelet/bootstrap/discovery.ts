// kubeadm's token discovery (`kubeadm join --token`): a node that knows only the API server's
// address and a bootstrap token learns the cluster's CA without trusting the network. It reads
// kube-public/cluster-info anonymously over TLS it does not verify yet, checks the detached JWS
// the bootstrap signer wrote for its token id (HS256 keyed by the token's secret: only someone
// who knows the token could have made it), and, when given --discovery-token-ca-cert-hash, that
// the CA there is one of the pinned keys; it then reads cluster-info a second time, now
// verifying the server against that CA, and requires the same kubeconfig.
import type { ConfigMap } from "kubernetes-types/core/v1.js";
import { RestClient } from "../../client/rest.js";
import { realClock, sleep } from "../../client/clock.js";
import {
  caCertHash,
  CLUSTER_INFO_JWS_PREFIX,
  CLUSTER_INFO_KUBECONFIG_KEY,
  CLUSTER_INFO_NAME,
  CLUSTER_INFO_NAMESPACE,
  parseBootstrapToken,
  verifyDetached,
  type TokenParts,
} from "../../api/bootstraptoken.js";
import { decodePem, encodePem } from "../../util/pki.js";
import { kubeconfigCluster, parseKubeconfig, type Cluster } from "../../util/kubeconfig.js";
import type { Logger } from "../../util/log.js";
import { BootstrapError } from "./errors.js";

/** kubeadm's discovery timeout (JoinConfiguration discovery.timeout) and retry interval. */
export const DEFAULT_DISCOVERY_TIMEOUT_MS = 5 * 60_000;
export const DISCOVERY_RETRY_MS = 5_000;

export interface DiscoveryOptions {
  /** The API server to read cluster-info from, `https://host:port` (`--server`). */
  readonly server: string;
  /** `<id>.<secret>` (`--token`). */
  readonly token: string;
  /** `sha256:<hex>` pins of the CA's public key (`--discovery-token-ca-cert-hash`). */
  readonly caCertHashes: readonly string[];
  /** `--discovery-token-unsafe-skip-ca-verification`: trust the CA on the token's word alone. */
  readonly unsafeSkipCAVerification?: boolean;
  readonly timeoutMs?: number;
  readonly retryMs?: number;
  readonly signal?: AbortSignal;
  readonly log: Logger;
}

/** What a joining node trusts once discovery succeeded: the server to use and its CA. */
export interface DiscoveredCluster {
  /** cluster-info's server, which the node uses from now on (as kubeadm's join does). */
  readonly server: string;
  readonly caPem: string;
}

/** The token's parts, or BadOption (kubeadm's validation text; the token itself is not echoed). */
export function parseTokenFlag(token: string): TokenParts {
  const parts = parseBootstrapToken(token);
  if (!parts) throw new BootstrapError("BadOption", "the bootstrap token is invalid: want <6 characters [a-z0-9]>.<16 characters [a-z0-9]>");
  return parts;
}

/** Checks `--discovery-token-ca-cert-hash` values as kubeadm's pubkeypin does; returns the lowercase hex of each. */
export function parseCACertHashes(hashes: readonly string[]): Set<string> {
  const pins = new Set<string>();
  for (const h of hashes) {
    const parts = h.split(":");
    let problem: string | undefined;
    if (parts.length !== 2) problem = `invalid hash, expected "format:hex-value". Known format(s) are: sha256`;
    else if (parts[0]!.toLowerCase() !== "sha256") problem = `unknown hash format ${JSON.stringify(parts[0])}. Known format(s) are: sha256`;
    else if (parts[1]!.length !== 64) problem = `invalid hash ${JSON.stringify(h)}, expected a 32 byte SHA-256 hash, found ${Math.floor(parts[1]!.length / 2)} bytes`;
    else if (!/^[0-9a-fA-F]{64}$/.test(parts[1]!)) problem = `invalid hash ${JSON.stringify(h)}, could not decode SHA-256 from hex`;
    if (problem) throw new BootstrapError("BadOption", `invalid discovery token CA certificate hash: ${problem}`);
    pins.add(parts[1]!.toLowerCase());
  }
  return pins;
}

/** Refuses flags kubeadm refuses before it dials anything. */
export function checkDiscoveryFlags(o: Pick<DiscoveryOptions, "token" | "caCertHashes" | "unsafeSkipCAVerification">): { readonly token: TokenParts; readonly pins: Set<string> } {
  const token = parseTokenFlag(o.token);
  const pins = parseCACertHashes(o.caCertHashes);
  if (pins.size === 0 && !o.unsafeSkipCAVerification) {
    throw new BootstrapError(
      "BadOption",
      "using token-based discovery without --discovery-token-ca-cert-hash can be unsafe (the hash is in what `k8ts token create --print-join-command` prints). Pass --discovery-token-unsafe-skip-ca-verification to continue without it",
    );
  }
  return { token, pins };
}

const clusterInfoPath = `/api/v1/namespaces/${CLUSTER_INFO_NAMESPACE}/configmaps/${CLUSTER_INFO_NAME}`;
const errText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Reads cluster-info until it carries a signature for the token (the bootstrap signer adds it a
 * little after the token exists), retrying every `retryMs` until the deadline; then throws the
 * last reason, as kubeadm does.
 */
async function getClusterInfo(client: RestClient, token: TokenParts, o: DiscoveryOptions, deadline: number): Promise<ConfigMap> {
  let last = "";
  for (;;) {
    if (o.signal?.aborted) throw new BootstrapError("Aborted", "discovery was interrupted");
    try {
      const cm = await client.request<ConfigMap>({ method: "GET", path: clusterInfoPath, ...(o.signal ? { signal: o.signal } : {}), timeoutMs: 10_000 });
      if (cm.data?.[CLUSTER_INFO_JWS_PREFIX + token.id] !== undefined) return cm;
      last = `could not find a JWS signature in the cluster-info ConfigMap for token ID ${JSON.stringify(token.id)}`;
    } catch (err) {
      if (o.signal?.aborted) throw new BootstrapError("Aborted", "discovery was interrupted");
      last = `failed to request the cluster-info ConfigMap: ${errText(err)}`;
    }
    const wait = Math.min(o.retryMs ?? DISCOVERY_RETRY_MS, deadline - Date.now());
    if (wait <= 0) throw new BootstrapError("Discovery", `couldn't validate the identity of the API Server: ${last}`);
    o.log.info({ server: o.server, reason: last }, "[discovery] retrying");
    if (!(await sleep(realClock, wait, o.signal))) throw new BootstrapError("Aborted", "discovery was interrupted");
  }
}

/** The signed kubeconfig of cluster-info, once its JWS for the token verifies (kubeadm's validateClusterInfoToken). */
function signedKubeconfig(cm: ConfigMap, token: TokenParts): string {
  const kubeconfig = cm.data?.[CLUSTER_INFO_KUBECONFIG_KEY];
  if (!kubeconfig) {
    throw new BootstrapError("Untrusted", `there is no ${CLUSTER_INFO_KUBECONFIG_KEY} key in the ${CLUSTER_INFO_NAME} ConfigMap. This API Server isn't set up for token bootstrapping, can't connect`);
  }
  const jws = cm.data?.[CLUSTER_INFO_JWS_PREFIX + token.id];
  if (!jws) {
    throw new BootstrapError("Untrusted", `token id ${JSON.stringify(token.id)} is invalid for this cluster or it has expired. Use "k8ts token create" on the control-plane node to create a new valid token`);
  }
  if (!verifyDetached(kubeconfig, jws, token)) throw new BootstrapError("Untrusted", "failed to verify JWS signature of received cluster info object, can't trust this API Server");
  return kubeconfig;
}

/** The cluster of cluster-info's kubeconfig, with a server and a CA, or why it cannot be trusted. */
function clusterOf(kubeconfigText: string): { readonly server: string; readonly caPem: string } {
  let cluster: Cluster | undefined;
  try {
    cluster = kubeconfigCluster(parseKubeconfig(kubeconfigText, "cluster-info"));
  } catch (err) {
    throw new BootstrapError("Untrusted", `couldn't parse the kubeconfig file in the ${CLUSTER_INFO_NAME} ConfigMap: ${errText(err)}`);
  }
  if (!cluster || typeof cluster.server !== "string" || cluster.server === "") throw new BootstrapError("Untrusted", `malformed kubeconfig in the ${CLUSTER_INFO_NAME} ConfigMap: no cluster with a server`);
  const caData = cluster["certificate-authority-data"];
  const caPem = caData ? Buffer.from(caData, "base64").toString("utf8") : "";
  const certs = caPem ? safeCerts(caPem) : [];
  if (certs.length === 0) throw new BootstrapError("Untrusted", `failed to parse cluster CA from the ${CLUSTER_INFO_NAME} ConfigMap: data does not contain any valid RSA or ECDSA certificates`);
  return { server: cluster.server, caPem };
}

function safeCerts(pem: string): string[] {
  try {
    return decodePem(pem)
      .filter((b) => b.label === "CERTIFICATE")
      .map((b) => encodePem("CERTIFICATE", b.der));
  } catch {
    return [];
  }
}

/** kubeadm's pubkeypin CheckAny: one of the CA bundle's keys must be pinned. */
function checkPinned(caPem: string, pins: Set<string>): void {
  const hashes: string[] = [];
  for (const cert of safeCerts(caPem)) {
    const h = caCertHash(cert);
    if (pins.has(h.slice("sha256:".length))) return;
    hashes.push(h);
  }
  throw new BootstrapError("Untrusted", `cluster CA found in ${CLUSTER_INFO_NAME} ConfigMap is invalid: none of the public keys ${JSON.stringify(hashes.join(":"))} are pinned`);
}

const isLoopback = (url: string): boolean => {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
    return host === "localhost" || host === "::1" || /^127\./.test(host);
  } catch {
    return false;
  }
};

/**
 * The server the node uses from now on: cluster-info's, as kubeadm's join does, except a
 * loopback address there while the node reached the server on another one (a server that could
 * only name itself by 127.0.0.1): that one would dial this machine, so the node keeps `--server`.
 */
function serverToUse(discovered: string, o: DiscoveryOptions): string {
  if (!isLoopback(discovered) || isLoopback(o.server)) return discovered;
  o.log.warn({ clusterInfo: discovered, server: o.server }, "[discovery] cluster-info names a loopback address: using --server instead");
  return o.server;
}

/** Runs token discovery against `o.server`; see the file's comment. */
export async function discoverCluster(o: DiscoveryOptions): Promise<DiscoveredCluster> {
  const { token, pins } = checkDiscoveryFlags(o);
  const deadline = Date.now() + (o.timeoutMs ?? DEFAULT_DISCOVERY_TIMEOUT_MS);
  const anonymous = (caPem?: string): RestClient =>
    new RestClient({ config: { server: o.server, namespace: "default", insecureSkipTLSVerify: caPem === undefined, ...(caPem !== undefined ? { caPem } : {}) }, component: "agent", name: "discovery", maxRetries: 0 });

  const insecure = anonymous();
  let first: string;
  try {
    first = signedKubeconfig(await getClusterInfo(insecure, token, o, deadline), token);
  } finally {
    insecure.close();
  }
  const cluster = clusterOf(first);
  if (pins.size === 0) {
    o.log.warn({ server: cluster.server }, "[discovery] cluster-info's signature is valid and no CA pinning was asked for (--discovery-token-unsafe-skip-ca-verification): trusting its CA");
    return { server: serverToUse(cluster.server, o), caPem: cluster.caPem };
  }
  checkPinned(cluster.caPem, pins);

  // Now that the CA is known, the same server must prove it holds a certificate from it.
  const secure = anonymous(cluster.caPem);
  let second: ConfigMap;
  try {
    second = await getClusterInfo(secure, token, o, deadline);
  } finally {
    secure.close();
  }
  if (second.data?.[CLUSTER_INFO_KUBECONFIG_KEY] !== first) {
    throw new BootstrapError("Untrusted", `the second kubeconfig from the ${CLUSTER_INFO_NAME} ConfigMap (using validated TLS) was different from the first`);
  }
  o.log.info({ server: cluster.server }, "[discovery] cluster-info's signature and contents are valid and its CA is pinned");
  return { server: serverToUse(cluster.server, o), caPem: cluster.caPem };
}
