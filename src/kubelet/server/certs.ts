// The kubelet's serving certificate (port 10250): signed by the cluster CA when the agent holds
// its key (the agent embedded in `k8ts server`), otherwise self-signed the way upstream's kubelet
// does without --tls-cert-file (its own throwaway CA, the chain in kubelet.crt). The API server
// does not verify it (upstream's default without --kubelet-certificate-authority), other clients
// may. Kept across restarts while valid and naming every wanted address.
import { mkdir } from "node:fs/promises";
import { isIP } from "node:net";
import { join } from "node:path";
import { writeFileAtomic } from "../../util/atomic-write.js";
import { canonicalIp, certificateSANs, coversSANs, createCA, isIssuedBy, issueCertificate, nearExpiry, readOptional, type CertAndKey } from "../../util/pki.js";

const VALIDITY_DAYS = 365;

export interface KubeletServingCertOptions {
  /** where kubelet.crt and kubelet.key live (upstream: /var/lib/kubelet/pki) */
  dir: string;
  nodeName: string;
  /** the node's addresses (IPs or DNS names) clients dial */
  addresses: string[];
  /** the cluster CA's pair, PEM */
  ca?: { cert: string; key: string };
}

function wantedNames(o: KubeletServingCertOptions): { dnsNames: string[]; ipAddresses: string[] } {
  const all = [o.nodeName, "localhost", "127.0.0.1", ...o.addresses].filter((a) => a !== "");
  const ipAddresses = [...new Set(all.filter((a) => isIP(a) !== 0).map(canonicalIp))];
  const dnsNames = [...new Set(all.filter((a) => isIP(a) === 0).map((d) => d.toLowerCase()))];
  return { dnsNames, ipAddresses };
}

function stillGood(pair: CertAndKey, o: KubeletServingCertOptions): boolean {
  try {
    if (nearExpiry(pair.certPem)) return false;
    if (o.ca && !isIssuedBy(pair.certPem, o.ca.cert)) return false;
    return coversSANs(certificateSANs(pair.certPem), wantedNames(o));
  } catch {
    return false;
  }
}

/** the kubelet's serving cert: signed by the cluster CA when its key is given (embedded agent), else self-signed; reused across restarts when still valid and for the same names */
export async function ensureKubeletServingCert(o: KubeletServingCertOptions): Promise<{ cert: string; key: string }> {
  await mkdir(o.dir, { recursive: true, mode: 0o700 });
  const certPath = join(o.dir, "kubelet.crt");
  const keyPath = join(o.dir, "kubelet.key");
  const [certPem, keyPem] = await Promise.all([readOptional(certPath), readOptional(keyPath)]);
  if (certPem !== undefined && keyPem !== undefined && stillGood({ certPem, keyPem }, o)) return { cert: certPem, key: keyPem };

  const names = wantedNames(o);
  const now = Math.floor(Date.now() / 1000);
  let issued: CertAndKey;
  if (o.ca) {
    issued = await issueCertificate({ certPem: o.ca.cert, keyPem: o.ca.key }, { commonName: o.nodeName, ...names, usages: "server", validityDays: VALIDITY_DAYS });
  } else {
    const ownCA = await createCA(`${o.nodeName}-ca@${now}`, VALIDITY_DAYS);
    const leaf = await issueCertificate(ownCA, { commonName: `${o.nodeName}@${now}`, ...names, usages: "server", validityDays: VALIDITY_DAYS });
    issued = { certPem: leaf.certPem + ownCA.certPem, keyPem: leaf.keyPem };
  }
  await writeFileAtomic(keyPath, issued.keyPem, 0o600);
  await writeFileAtomic(certPath, issued.certPem, 0o644);
  return { cert: issued.certPem, key: issued.keyPem };
}
