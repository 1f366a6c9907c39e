// Kubeconfigs that carry a client certificate signed by the cluster CA, for a client the server
// vouches for without asking anyone: its own node (system:node:<name> in system:nodes) and its
// embedded scheduler (system:kube-scheduler), as kubeadm writes kubelet.conf and scheduler.conf.
// The kubeconfig embeds the server, the CA, the certificate and its key and is written 0600; an
// existing one is kept while it names this server, CA and user and stays valid long enough.
import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { buildKubeconfig, loadKubeconfig, writeKubeconfig, type ClientConfig } from "./kubeconfig.js";
import { certificateFromPem, isIssuedBy, issueCertificate, type CertAndKey } from "./pki.js";
import type { Logger } from "./log.js";

/** Who a client certificate says its holder is: the user (CN) and groups (O). */
export interface ClientIdentity {
  readonly commonName: string;
  readonly organizations: readonly string[];
}

export interface ClientCredentials {
  readonly server: string;
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

/** Written in the shape the kubelet's bootstrap writes (default-cluster, default-auth, default-context), which the official kubectl reads too. */
export async function writeClientKubeconfig(path: string, c: ClientCredentials): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeKubeconfig(
    path,
    buildKubeconfig({ clusterName: "default-cluster", server: c.server, caPem: c.caPem, userName: "default-auth", clientCertPem: c.certPem, clientKeyPem: c.keyPem, contextName: "default-context", namespace: "default" }),
  );
}

export interface UsableOptions {
  readonly identity: ClientIdentity;
  /** The certificate must stay valid at least this much longer. */
  readonly minValidMs: number;
  /** When given, the kubeconfig must name this server and this CA. */
  readonly server?: string;
  readonly caPem?: string;
  readonly now?: number;
}

/**
 * The kubeconfig at `path` when it can be used as it is: readable, with a CA and a client
 * certificate that the CA issued for this identity (its CN, and O including each of its
 * organizations), with a matching key, valid for at least `minValidMs` more (and naming `server`
 * and `caPem` when those are given); otherwise the reason it cannot.
 */
export async function usableClientKubeconfig(path: string, o: UsableOptions): Promise<{ readonly config: ClientConfig } | { readonly unusable: string }> {
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
  if (cn !== o.identity.commonName || !o.identity.organizations.every((g) => orgs.includes(g))) {
    const want = o.identity.organizations.length ? `${o.identity.commonName} in ${o.identity.organizations.join(", ")}` : o.identity.commonName;
    return { unusable: `${path}: the client certificate is for ${cn ?? "nobody"}, not ${want}` };
  }
  return { config };
}

const samePem = (a: string, b: string): boolean => a.replace(/\s+/g, "") === b.replace(/\s+/g, "");

/** The lifetime of certificates the server signs for its own clients; re-issued when less than RENEW_BEFORE_MS is left. */
const CERT_DAYS = 365;
const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;

/**
 * A kubeconfig at `path` for `identity`, its certificate signed with the cluster CA's key (the
 * server holds it: nothing to ask for): the existing one while usable, else a new one.
 */
export async function ensureSignedKubeconfig(o: { readonly path: string; readonly identity: ClientIdentity; readonly server: string; readonly ca: CertAndKey; readonly log: Logger }): Promise<string> {
  const existing = await usableClientKubeconfig(o.path, { identity: o.identity, minValidMs: RENEW_BEFORE_MS, server: o.server, caPem: o.ca.certPem });
  if ("config" in existing) return o.path;
  const pair = await issueCertificate(o.ca, { commonName: o.identity.commonName, organizations: [...o.identity.organizations], usages: "client", validityDays: CERT_DAYS });
  await writeClientKubeconfig(o.path, { server: o.server, caPem: o.ca.certPem, certPem: pair.certPem, keyPem: pair.keyPem });
  o.log.info({ kubeconfig: o.path, user: o.identity.commonName, reason: existing.unusable }, "issued a client certificate");
  return o.path;
}
