// The API server's client certificate for talking to kubelets (upstream's
// --kubelet-client-certificate): CN kube-apiserver-kubelet-client in system:masters, signed by the
// cluster CA, kept beside the other certificates and re-issued when the CA changed or it nears
// expiry. Kubelets trust the cluster CA for client certificates, so this is all they check.
import { join } from "node:path";
import { writeFileAtomic } from "../../util/atomic-write.js";
import { ADMIN_GROUP, isIssuedBy, issueCertificate, nearExpiry, readOptional, type CertAndKey } from "../../util/pki.js";

export const KUBELET_CLIENT_USER = "kube-apiserver-kubelet-client";

const VALIDITY_DAYS = 365;

export function kubeletClientCertPaths(tlsDir: string): { cert: string; key: string } {
  return { cert: join(tlsDir, "kubelet-client.crt"), key: join(tlsDir, "kubelet-client.key") };
}

/** Loads or creates `<tlsDir>/kubelet-client.{crt,key}`. */
export async function ensureKubeletClientCert(tlsDir: string, ca: CertAndKey): Promise<CertAndKey> {
  const paths = kubeletClientCertPaths(tlsDir);
  const [certPem, keyPem] = await Promise.all([readOptional(paths.cert), readOptional(paths.key)]);
  if (certPem !== undefined && keyPem !== undefined) {
    try {
      if (!nearExpiry(certPem) && isIssuedBy(certPem, ca.certPem)) return { certPem, keyPem };
    } catch {
      // unreadable: issue a new one below
    }
  }
  const pair = await issueCertificate(ca, { commonName: KUBELET_CLIENT_USER, organizations: [ADMIN_GROUP], usages: "client", validityDays: VALIDITY_DAYS });
  await writeFileAtomic(paths.key, pair.keyPem, 0o600);
  await writeFileAtomic(paths.cert, pair.certPem, 0o644);
  return pair;
}
