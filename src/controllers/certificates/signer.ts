// The checks upstream's local signers make before signing (pkg/controller/certificates/signer
// and pkg/apis/certificates' ValidateKubelet*CSR), one per kubernetes.io signer this cluster
// signs for. Pure functions over the decoded request: the controller turns a message into the
// Failed condition, `undefined` into a certificate.
import type { CertificateRequestInfo } from "../../util/pki.js";

export const KUBE_APISERVER_CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client";
export const KUBE_APISERVER_CLIENT_KUBELET_SIGNER = "kubernetes.io/kube-apiserver-client-kubelet";
export const KUBELET_SERVING_SIGNER = "kubernetes.io/kubelet-serving";

/** The signers the csrsigning-controller signs for; legacy-unknown and others' are left alone. */
export const SIGNED_HERE: ReadonlySet<string> = new Set([KUBE_APISERVER_CLIENT_SIGNER, KUBE_APISERVER_CLIENT_KUBELET_SIGNER, KUBELET_SERVING_SIGNER]);

/** Why the request may not be signed (upstream's message), or undefined when it may. */
export type RequestCheck = (req: CertificateRequestInfo, usages: readonly string[]) => string | undefined;

const sameSet = (a: ReadonlySet<string>, b: readonly string[]): boolean => {
  const s = new Set(b);
  return s.size === a.size && [...a].every((x) => s.has(x));
};

/** Go's `%v` of a sorted string list: `[a b c]`. */
const goList = (xs: Iterable<string>): string => `[${[...xs].sort().join(" ")}]`;

const NODES_GROUP = "system:nodes";
const NODE_USER_PREFIX = "system:node:";
const ORG_NOT_NODES = "subject organization is not system:nodes";
const CN_NOT_NODE = "subject common name does not begin with system:node:";

const isNodesOnly = (req: CertificateRequestInfo): boolean => req.organizations.length === 1 && req.organizations[0] === NODES_GROUP;

// RSA keys need key encipherment, ECDSA and Ed25519 keys cannot use it: either set is accepted.
const KUBELET_SERVING_USAGES = new Set(["digital signature", "key encipherment", "server auth"]);
const KUBELET_SERVING_USAGES_NO_RSA = new Set(["digital signature", "server auth"]);
const KUBELET_CLIENT_USAGES = new Set(["digital signature", "key encipherment", "client auth"]);
const KUBELET_CLIENT_USAGES_NO_RSA = new Set(["digital signature", "client auth"]);

/** kubernetes.io/kubelet-serving: a node's serving certificate, named by DNS names or addresses. */
export function checkKubeletServing(req: CertificateRequestInfo, usages: readonly string[]): string | undefined {
  if (!isNodesOnly(req)) return ORG_NOT_NODES;
  if (req.dnsNames.length === 0 && req.ipAddresses.length === 0) return "DNS or IP subjectAltName is required";
  if (req.emailAddresses.length > 0) return "Email subjectAltNames are not allowed";
  if (req.uris.length > 0) return "URI subjectAltNames are not allowed";
  if (!sameSet(KUBELET_SERVING_USAGES, usages) && !sameSet(KUBELET_SERVING_USAGES_NO_RSA, usages)) return `usages did not match ${goList(KUBELET_SERVING_USAGES)}`;
  if (!req.commonName.startsWith(NODE_USER_PREFIX)) return CN_NOT_NODE;
  return undefined;
}

/** kubernetes.io/kube-apiserver-client-kubelet: a node's client certificate, no SANs at all. */
export function checkKubeletClient(req: CertificateRequestInfo, usages: readonly string[]): string | undefined {
  if (!isNodesOnly(req)) return ORG_NOT_NODES;
  if (req.dnsNames.length > 0) return "DNS subjectAltNames are not allowed";
  if (req.emailAddresses.length > 0) return "Email subjectAltNames are not allowed";
  if (req.ipAddresses.length > 0) return "IP subjectAltNames are not allowed";
  if (req.uris.length > 0) return "URI subjectAltNames are not allowed";
  if (!req.commonName.startsWith(NODE_USER_PREFIX)) return CN_NOT_NODE;
  if (!sameSet(KUBELET_CLIENT_USAGES, usages) && !sameSet(KUBELET_CLIENT_USAGES_NO_RSA, usages)) return `usages did not match ${goList(KUBELET_CLIENT_USAGES)}`;
  return undefined;
}

/** kubernetes.io/kube-apiserver-client: any subject and SANs; client auth, optionally the two signature usages. */
export function checkKubeAPIServerClient(_req: CertificateRequestInfo, usages: readonly string[]): string | undefined {
  let clientAuth = false;
  for (const u of usages) {
    if (u === "client auth") clientAuth = true;
    else if (u !== "digital signature" && u !== "key encipherment") return `invalid usage for client certificate: ${u}`;
  }
  return clientAuth ? undefined : "missing required usage for client certificate: client auth";
}

/** The check of a signer signed here, else undefined (the request is someone else's). */
export function checkFor(signerName: string | undefined): RequestCheck | undefined {
  switch (signerName) {
    case KUBELET_SERVING_SIGNER:
      return checkKubeletServing;
    case KUBE_APISERVER_CLIENT_KUBELET_SIGNER:
      return checkKubeletClient;
    case KUBE_APISERVER_CLIENT_SIGNER:
      return checkKubeAPIServerClient;
    default:
      return undefined;
  }
}

const MINUTE = 60_000;
/** Twice the backdate: a shorter certificate would be mostly in the past when issued. */
export const MIN_TTL_MS = 10 * MINUTE;
export const BACKDATE_MS = 5 * MINUTE;
/** Under this a certificate's end is not backdated (5 minutes is about 1% of 8 hours). */
export const SHORT_MS = 8 * 60 * MINUTE;
/** --cluster-signing-duration's default, 8760h. */
export const DEFAULT_SIGNING_DURATION_MS = 8760 * 60 * MINUTE;

/** spec.expirationSeconds honoured up to the signing duration, and at least 10 minutes. */
export function certificateTTL(expirationSeconds: number | undefined, maxMs: number): number {
  if (expirationSeconds === undefined) return maxMs;
  const requested = expirationSeconds * 1000;
  if (requested > maxMs) return maxMs;
  return Math.max(requested, MIN_TTL_MS);
}
