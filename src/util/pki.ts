// The cluster's X.509 material: a CA, the API server's serving certificate, the admin client
// certificate and the ServiceAccount token signing key. Certificates are built with
// @peculiar/x509 and signed through WebCrypto; keys are kept as PKCS#8 PEM so Go (kubectl),
// OpenSSL and Node all read them.
import { createPrivateKey, createPublicKey, randomBytes, webcrypto, X509Certificate as NodeX509 } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { hostname, networkInterfaces } from "node:os";
import { join } from "node:path";
import { isIP } from "node:net";
import * as x509 from "./x509.js";
import { writeFileAtomic } from "./atomic-write.js";

export type PkiErrorCode = "InvalidPEM" | "UnsupportedKey" | "Incomplete" | "InvalidArgument";

export class PkiError extends Error {
  override readonly name = "PkiError";
  constructor(readonly code: PkiErrorCode, message: string, readonly path?: string) {
    super(message);
  }
}

/** A certificate and its private key, both PEM. For a CA this is the signing pair. */
export interface CertAndKey {
  readonly certPem: string;
  readonly keyPem: string;
}

export type CertUsage = "server" | "client" | "both";

export interface IssueOptions {
  readonly commonName: string;
  /** Kubernetes reads O as the user's groups (e.g. `system:masters`). */
  readonly organizations?: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly usages: CertUsage;
  readonly validityDays: number;
}

export interface SubjectAltNames {
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
}

/** The first address of the default service CIDR 10.43.0.0/16: the `kubernetes` Service. */
export const DEFAULT_KUBERNETES_SERVICE_IP = "10.43.0.1";
export const ADMIN_USER = "kubernetes-admin";
export const ADMIN_GROUP = "system:masters";

const CA_VALIDITY_DAYS = 3650;
const LEAF_VALIDITY_DAYS = 365;
/** Leaf certificates are re-issued when they have less than this left. */
const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;
/** Back-dating tolerates clock skew between the machine that issues and the one that verifies. */
const BACKDATE_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 3600 * 1000;

const subtle = webcrypto.subtle;
// @peculiar/x509 types its provider as the DOM Crypto; Node's webcrypto is that object.
const provider = webcrypto as unknown as NonNullable<Parameters<typeof x509.X509CertificateGenerator.create>[1]>;

// ---------------------------------------------------------------------------------------------
// PEM

export function encodePem(label: string, der: Uint8Array | ArrayBuffer): string {
  const b64 = Buffer.from(der instanceof ArrayBuffer ? new Uint8Array(der) : der).toString("base64");
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

export interface PemBlock {
  readonly label: string;
  readonly der: Buffer;
}

/** Every PEM block in `text`, in order; text outside blocks is ignored as OpenSSL does. */
export function decodePem(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;
  for (const m of text.matchAll(re)) {
    const [, begin = "", body = "", end = ""] = m;
    if (begin !== end) throw new PkiError("InvalidPEM", `PEM block BEGIN ${begin} ends with END ${end}`);
    const compact = body.replace(/\s+/g, "");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) throw new PkiError("InvalidPEM", `PEM block ${begin} is not base64`);
    blocks.push({ label: begin, der: Buffer.from(compact, "base64") });
  }
  return blocks;
}

function firstBlock(text: string, accept: (label: string) => boolean, what: string): PemBlock {
  const block = decodePem(text).find((b) => accept(b.label));
  if (!block) throw new PkiError("InvalidPEM", `no ${what} PEM block found`);
  return block;
}

export function certificateFromPem(pem: string): x509.X509Certificate {
  return new x509.X509Certificate(firstBlock(pem, (l) => l === "CERTIFICATE", "CERTIFICATE").der);
}

// ---------------------------------------------------------------------------------------------
// Keys

export interface GeneratedKeyPair {
  /** PKCS#8 `PRIVATE KEY` */
  readonly privateKeyPem: string;
  /** SPKI `PUBLIC KEY` */
  readonly publicKeyPem: string;
}

/** A new ECDSA P-256 key pair. */
export async function generateKeyPair(): Promise<GeneratedKeyPair> {
  const pair = await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  return {
    privateKeyPem: encodePem("PRIVATE KEY", await subtle.exportKey("pkcs8", pair.privateKey)),
    publicKeyPem: encodePem("PUBLIC KEY", await subtle.exportKey("spki", pair.publicKey)),
  };
}

interface SigningKey {
  readonly privateKey: webcrypto.CryptoKey;
  readonly spki: Buffer;
  readonly algorithm: webcrypto.EcdsaParams | webcrypto.Algorithm;
}

/** Accepts PKCS#8, SEC1 (`EC PRIVATE KEY`) and PKCS#1 (`RSA PRIVATE KEY`), so a CA made by kubeadm or OpenSSL works too. */
async function importSigningKey(keyPem: string): Promise<SigningKey> {
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw new PkiError("InvalidPEM", `cannot parse private key: ${(err as Error).message}`);
  }
  const pkcs8 = key.export({ type: "pkcs8", format: "der" });
  const spki = createPublicKey(key).export({ type: "spki", format: "der" });
  if (key.asymmetricKeyType === "ec") {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const namedCurve = curve === "prime256v1" ? "P-256" : curve === "secp384r1" ? "P-384" : undefined;
    if (!namedCurve) throw new PkiError("UnsupportedKey", `unsupported EC curve ${curve ?? "unknown"}`);
    const privateKey = await subtle.importKey("pkcs8", pkcs8, { name: "ECDSA", namedCurve }, false, ["sign"]);
    return { privateKey, spki, algorithm: { name: "ECDSA", hash: namedCurve === "P-256" ? "SHA-256" : "SHA-384" } };
  }
  if (key.asymmetricKeyType === "rsa") {
    const algorithm = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
    const privateKey = await subtle.importKey("pkcs8", pkcs8, algorithm, false, ["sign"]);
    return { privateKey, spki, algorithm };
  }
  throw new PkiError("UnsupportedKey", `unsupported key type ${key.asymmetricKeyType ?? "unknown"}`);
}

// ---------------------------------------------------------------------------------------------
// Certificates

/** The AuthorityKeyIdentifier of what `ca` signs: the CA's SubjectKeyIdentifier, else one made from its key. */
async function authorityKeyIdentifier(caCert: x509.X509Certificate, caKey: SigningKey): Promise<x509.AuthorityKeyIdentifierExtension> {
  const caSki = caCert.getExtension(x509.SubjectKeyIdentifierExtension);
  return caSki ? new x509.AuthorityKeyIdentifierExtension(caSki.keyId, false) : x509.AuthorityKeyIdentifierExtension.create(caKey.spki, false, provider);
}

/** 128 random bits with the top bit clear: positive, and unique without coordination. */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return bytes.toString("hex");
}

function subjectName(commonName: string, organizations: readonly string[] = []): x509.JsonName {
  // One RDN per attribute, O before CN: the order Go's pkix.Name produces.
  return [...organizations.map((o) => ({ O: [o] })), { CN: [commonName] }];
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  if (!(days > 0)) throw new PkiError("InvalidArgument", `validityDays must be positive, got ${days}`);
  const now = Date.now();
  return { notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(now + days * DAY_MS) };
}

export async function createCA(commonName: string, validityDays = CA_VALIDITY_DAYS): Promise<CertAndKey> {
  const keys = await generateKeyPair();
  const signer = await importSigningKey(keys.privateKeyPem);
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerial(),
      subject: subjectName(commonName),
      issuer: subjectName(commonName),
      ...validity(validityDays),
      publicKey: signer.spki,
      signingKey: signer.privateKey,
      signingAlgorithm: signer.algorithm,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
        await x509.SubjectKeyIdentifierExtension.create(signer.spki, false, provider),
      ],
    },
    provider,
  );
  return { certPem: cert.toString("pem") + "\n", keyPem: keys.privateKeyPem };
}

export async function issueCertificate(ca: CertAndKey, opts: IssueOptions): Promise<CertAndKey> {
  const caCert = certificateFromPem(ca.certPem);
  const caKey = await importSigningKey(ca.keyPem);
  const keys = await generateKeyPair();
  const spki = firstBlock(keys.publicKeyPem, (l) => l === "PUBLIC KEY", "PUBLIC KEY").der;

  const ips = (opts.ipAddresses ?? []).map((ip) => {
    if (isIP(ip) === 0) throw new PkiError("InvalidArgument", `not an IP address: ${ip}`);
    return { type: "ip" as const, value: ip };
  });
  const names = [...(opts.dnsNames ?? []).map((d) => ({ type: "dns" as const, value: d })), ...ips];
  const eku = {
    server: [x509.ExtendedKeyUsage.serverAuth],
    client: [x509.ExtendedKeyUsage.clientAuth],
    both: [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
  }[opts.usages];
  const aki = await authorityKeyIdentifier(caCert, caKey);

  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerial(),
      subject: subjectName(opts.commonName, opts.organizations),
      issuer: caCert.subjectName,
      ...validity(opts.validityDays),
      publicKey: spki,
      signingKey: caKey.privateKey,
      signingAlgorithm: caKey.algorithm,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension(eku, false),
        await x509.SubjectKeyIdentifierExtension.create(spki, false, provider),
        aki,
        ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names, false)] : []),
      ],
    },
    provider,
  );
  return { certPem: cert.toString("pem") + "\n", keyPem: keys.privateKeyPem };
}

/** Lowercased DNS names and canonical IP text, so `::1` and `0:0:0:0:0:0:0:1` compare equal. */
export function canonicalIp(ip: string): string {
  return isIP(ip) === 6 ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip;
}

export function certificateSANs(certPem: string): SubjectAltNames {
  const san = certificateFromPem(certPem).getExtension(x509.SubjectAlternativeNameExtension);
  const items = san?.names.toJSON() ?? [];
  return {
    dnsNames: items.filter((n) => n.type === "dns").map((n) => n.value.toLowerCase()),
    ipAddresses: items.filter((n) => n.type === "ip").map((n) => canonicalIp(n.value)),
  };
}

/** True when `cert` was signed by `ca`'s key. */
export function isIssuedBy(certPem: string, caCertPem: string): boolean {
  const cert = new NodeX509(certPem);
  const ca = new NodeX509(caCertPem);
  return cert.checkIssued(ca) && cert.verify(ca.publicKey);
}

// ---------------------------------------------------------------------------------------------
// Certificate signing requests (the certificates.k8s.io signers)

/** What a signer checks in a PKCS#10 request, decoded as Go's crypto/x509 reads it. */
export interface CertificateRequestInfo {
  /** The last CN of the subject (Go keeps the last one). */
  readonly commonName: string;
  /** Every O of the subject, in order: Kubernetes reads them as the user's groups. */
  readonly organizations: readonly string[];
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly emailAddresses: readonly string[];
  readonly uris: readonly string[];
}

interface ParsedRequest {
  readonly info: CertificateRequestInfo;
  readonly request: x509.Pkcs10CertificateRequest;
}

/** General-name types Go's CertificateRequest carries; others (otherName, directoryName) are dropped as Go drops them. */
const KEPT_SAN_TYPES = new Set(["dns", "ip", "email", "url"]);

function parseRequest(csrPem: string): ParsedRequest {
  // As upstream's ParseCSR: the first PEM block is the request, whatever follows it.
  const block = decodePem(csrPem)[0];
  if (!block || block.label !== "CERTIFICATE REQUEST") throw new PkiError("InvalidPEM", "PEM block type must be CERTIFICATE REQUEST");
  let request: x509.Pkcs10CertificateRequest;
  try {
    request = new x509.Pkcs10CertificateRequest(block.der);
  } catch (err) {
    throw new PkiError("InvalidPEM", `cannot parse certificate request: ${(err as Error).message}`);
  }
  let commonName = "";
  const organizations: string[] = [];
  for (const rdn of request.subjectName.toJSON()) {
    for (const [type, values] of Object.entries(rdn)) {
      if (type === "CN") commonName = values.at(-1) ?? commonName;
      if (type === "O") organizations.push(...values);
    }
  }
  const san = request.extensions.find((e): e is x509.SubjectAlternativeNameExtension => e instanceof x509.SubjectAlternativeNameExtension);
  const names = san?.names.toJSON() ?? [];
  const of = (type: string): string[] => names.filter((n) => n.type === type).map((n) => n.value);
  return {
    request,
    info: { commonName, organizations, dnsNames: of("dns"), ipAddresses: of("ip"), emailAddresses: of("email"), uris: of("url") },
  };
}

export interface CertificateRequestOptions {
  readonly commonName: string;
  readonly organizations?: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
}

/** A new ECDSA P-256 key and a PEM request for it (what a kubelet or `kubectl certificate` user sends). */
export async function createCertificateRequest(opts: CertificateRequestOptions): Promise<{ readonly csrPem: string; readonly keyPem: string }> {
  const keys = await generateKeyPair();
  const signer = await importSigningKey(keys.privateKeyPem);
  const publicKey = await subtle.importKey("spki", firstBlock(keys.publicKeyPem, (l) => l === "PUBLIC KEY", "PUBLIC KEY").der, { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]);
  const names = [...(opts.dnsNames ?? []).map((d) => ({ type: "dns" as const, value: d })), ...(opts.ipAddresses ?? []).map((ip) => ({ type: "ip" as const, value: ip }))];
  const request = await x509.Pkcs10CertificateRequestGenerator.create(
    {
      name: subjectName(opts.commonName, opts.organizations),
      keys: { privateKey: signer.privateKey, publicKey },
      signingAlgorithm: signer.algorithm,
      extensions: names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names, false)] : [],
    },
    provider,
  );
  return { csrPem: request.toString("pem") + "\n", keyPem: keys.privateKeyPem };
}

/** The subject and SANs of a PEM certificate request (PkiError InvalidPEM when it is not one). */
export function parseCertificateRequest(csrPem: string): CertificateRequestInfo {
  return parseRequest(csrPem).info;
}

/** certificates.k8s.io key usages that are X.509 KeyUsage bits. */
const KEY_USAGE_BITS: Readonly<Record<string, number>> = {
  signing: x509.KeyUsageFlags.digitalSignature,
  "digital signature": x509.KeyUsageFlags.digitalSignature,
  "content commitment": x509.KeyUsageFlags.nonRepudiation,
  "key encipherment": x509.KeyUsageFlags.keyEncipherment,
  "key agreement": x509.KeyUsageFlags.keyAgreement,
  "data encipherment": x509.KeyUsageFlags.dataEncipherment,
  "cert sign": x509.KeyUsageFlags.keyCertSign,
  "crl sign": x509.KeyUsageFlags.cRLSign,
  "encipher only": x509.KeyUsageFlags.encipherOnly,
  "decipher only": x509.KeyUsageFlags.decipherOnly,
};

/**
 * certificates.k8s.io key usages that are extended key usages, in Go's ExtKeyUsage order: the
 * certificate lists them in that order, whatever the request's.
 */
const EXT_KEY_USAGES: readonly (readonly [usages: readonly string[], oid: string])[] = [
  [["any"], "2.5.29.37.0"],
  [["server auth"], x509.ExtendedKeyUsage.serverAuth],
  [["client auth"], x509.ExtendedKeyUsage.clientAuth],
  [["code signing"], x509.ExtendedKeyUsage.codeSigning],
  [["email protection", "s/mime"], x509.ExtendedKeyUsage.emailProtection],
  [["ipsec end system"], "1.3.6.1.5.5.7.3.5"],
  [["ipsec tunnel"], "1.3.6.1.5.5.7.3.6"],
  [["ipsec user"], "1.3.6.1.5.5.7.3.7"],
  [["timestamping"], x509.ExtendedKeyUsage.timeStamping],
  [["ocsp signing"], x509.ExtendedKeyUsage.ocspSigning],
  [["microsoft sgc"], "1.3.6.1.4.1.311.10.3.3"],
  [["netscape sgc"], "2.16.840.1.113730.4.1"],
];

export interface SignRequestOptions {
  /** certificates.k8s.io/v1 key usages (`spec.usages`); an unknown one refuses the request. */
  readonly usages: readonly string[];
  /** The certificate's lifetime; the signer's policy already applied (see the controller). */
  readonly ttlMs: number;
  /** NotBefore is this far before now (upstream's signer: 5 minutes). */
  readonly backdateMs?: number;
  /** Lifetimes under this are not shortened by the backdate (upstream's signer: 8 hours). */
  readonly shortMs?: number;
  /** Default Date.now(). */
  readonly now?: number;
}

/**
 * Signs a PEM PKCS#10 request with `ca` as upstream's local signer (PermissiveSigningPolicy)
 * does: the request's subject and SANs (DNS, IP, email, URI), its key, and nothing else from
 * its extensions; KeyUsage and ExtendedKeyUsage from `usages`; not a CA; a random 128-bit
 * serial. NotBefore is now − backdate; NotAfter is now + ttl − backdate (now + ttl for a short
 * lifetime, where the backdate would be a noticeable share), cut to the CA's own NotAfter.
 * Returns the certificate PEM. Throws PkiError InvalidArgument with upstream's messages.
 */
export async function signCertificateRequest(ca: CertAndKey, csrPem: string, opts: SignRequestOptions): Promise<string> {
  const { request } = parseRequest(csrPem);
  let signatureOk: boolean;
  try {
    signatureOk = await request.verify(provider);
  } catch (err) {
    throw new PkiError("InvalidArgument", `unable to verify certificate request signature: ${(err as Error).message}`);
  }
  if (!signatureOk) throw new PkiError("InvalidArgument", "unable to verify certificate request signature: the signature does not match the request's key");

  let keyUsage = 0;
  const ekus = new Set<string>();
  const unrecognized: string[] = [];
  for (const u of opts.usages) {
    const bit = KEY_USAGE_BITS[u];
    const eku = EXT_KEY_USAGES.find(([names]) => names.includes(u));
    if (bit !== undefined) keyUsage |= bit;
    else if (eku) ekus.add(eku[1]);
    else unrecognized.push(u);
  }
  if (unrecognized.length > 0) throw new PkiError("InvalidArgument", `unrecognized usage values: [${unrecognized.map((u) => JSON.stringify(u)).join(" ")}]`);
  const extKeyUsages = EXT_KEY_USAGES.map(([, oid]) => oid).filter((oid) => ekus.has(oid));

  const caCert = certificateFromPem(ca.certPem);
  const caKey = await importSigningKey(ca.keyPem);
  const now = opts.now ?? Date.now();
  const backdate = opts.backdateMs ?? BACKDATE_MS;
  const notBefore = now - backdate;
  let notAfter = opts.ttlMs < (opts.shortMs ?? 0) ? now + opts.ttlMs : now + opts.ttlMs - backdate;
  const caNotAfter = caCert.notAfter.getTime();
  if (notAfter >= caNotAfter) notAfter = caNotAfter;
  if (notBefore >= caNotAfter) throw new PkiError("InvalidArgument", `the signer has expired: NotAfter=${caCert.notAfter.toISOString()}`);
  if (now >= caNotAfter) throw new PkiError("InvalidArgument", `refusing to sign a certificate that expired in the past: NotAfter=${caCert.notAfter.toISOString()}`);

  const spki = request.publicKey.rawData;
  const names = (request.extensions.find((e): e is x509.SubjectAlternativeNameExtension => e instanceof x509.SubjectAlternativeNameExtension)?.names.toJSON() ?? []).filter((n) =>
    KEPT_SAN_TYPES.has(n.type),
  );
  const aki = await authorityKeyIdentifier(caCert, caKey);
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerial(),
      subject: request.subjectName,
      issuer: caCert.subjectName,
      notBefore: new Date(notBefore),
      notAfter: new Date(notAfter),
      publicKey: spki,
      signingKey: caKey.privateKey,
      signingAlgorithm: caKey.algorithm,
      extensions: [
        ...(keyUsage !== 0 ? [new x509.KeyUsagesExtension(keyUsage, true)] : []),
        ...(extKeyUsages.length > 0 ? [new x509.ExtendedKeyUsageExtension(extKeyUsages, false)] : []),
        new x509.BasicConstraintsExtension(false, undefined, true),
        aki,
        ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names, false)] : []),
      ],
    },
    provider,
  );
  return cert.toString("pem") + "\n";
}

/** Throws PkiError unless `ca` is a certificate and the private key of the same key pair. */
export function checkSigningPair(ca: CertAndKey): void {
  let cert: NodeX509;
  try {
    cert = new NodeX509(firstBlock(ca.certPem, (l) => l === "CERTIFICATE", "CERTIFICATE").der);
  } catch (err) {
    if (err instanceof PkiError) throw err;
    throw new PkiError("InvalidPEM", `cannot parse certificate: ${(err as Error).message}`);
  }
  let key;
  try {
    key = createPrivateKey(ca.keyPem);
  } catch (err) {
    throw new PkiError("InvalidPEM", `cannot parse private key: ${(err as Error).message}`);
  }
  if (!cert.checkPrivateKey(key)) throw new PkiError("InvalidArgument", "the private key does not match the certificate");
}

// ---------------------------------------------------------------------------------------------
// The cluster's PKI directory

export interface ClusterPKIOptions {
  /** Extra SANs for the serving certificate, beyond the defaults (see `servingSANs`). */
  readonly sans?: Partial<SubjectAltNames>;
}

export interface ClusterPKIPaths {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly adminCert: string;
  readonly adminKey: string;
  readonly serviceAccountKey: string;
  readonly serviceAccountPub: string;
}

export interface ClusterPKI {
  readonly paths: ClusterPKIPaths;
  readonly ca: CertAndKey;
  readonly server: CertAndKey;
  readonly admin: CertAndKey;
  readonly serviceAccount: GeneratedKeyPair;
  /** Files written by this call (empty when everything was loaded). */
  readonly written: readonly string[];
}

export function clusterPKIPaths(dataDir: string): ClusterPKIPaths {
  const dir = join(dataDir, "tls");
  return {
    dir,
    caCert: join(dir, "ca.crt"),
    caKey: join(dir, "ca.key"),
    serverCert: join(dir, "server.crt"),
    serverKey: join(dir, "server.key"),
    adminCert: join(dir, "admin.crt"),
    adminKey: join(dir, "admin.key"),
    serviceAccountKey: join(dir, "sa.key"),
    serviceAccountPub: join(dir, "sa.pub"),
  };
}

/**
 * The serving certificate's SANs: every name a client may dial the API server by — loopback,
 * this host's name and non-internal, non-link-local addresses, the in-cluster `kubernetes` Service names and
 * ClusterIP — plus `extra`.
 */
export function servingSANs(extra: Partial<SubjectAltNames> = {}): SubjectAltNames {
  const dns = new Set(["localhost", hostname(), "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"]);
  const ips = new Set(["127.0.0.1", "::1", DEFAULT_KUBERNETES_SERVICE_IP]);
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (!a.internal && !isLinkLocal(a.address)) ips.add(canonicalIp(a.address));
  }
  for (const d of extra.dnsNames ?? []) dns.add(d);
  for (const ip of extra.ipAddresses ?? []) ips.add(ip);
  return {
    dnsNames: [...dns].filter((d) => d !== "").map((d) => d.toLowerCase()),
    ipAddresses: [...ips].map(canonicalIp),
  };
}

/**
 * Creates the cluster PKI under `dataDir/tls` on first call and loads it on later ones. The CA
 * and the admin certificate are kept as long as they are valid; the serving certificate is
 * re-issued when a wanted SAN is missing from it (a new address, an extra name) or it nears
 * expiry. Private keys are written 0600.
 */
export async function ensureClusterPKI(dataDir: string, opts: ClusterPKIOptions = {}): Promise<ClusterPKI> {
  const paths = clusterPKIPaths(dataDir);
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  const written: string[] = [];
  const save = async (certPath: string, keyPath: string, pair: CertAndKey): Promise<void> => {
    await writeFileAtomic(keyPath, pair.keyPem, 0o600);
    await writeFileAtomic(certPath, pair.certPem, 0o644);
    written.push(keyPath, certPath);
  };

  let ca = await loadPair(paths.caCert, paths.caKey);
  const caIsNew = ca === undefined;
  if (!ca) {
    ca = await createCA(`k8ts-ca@${Math.floor(Date.now() / 1000)}`);
    await save(paths.caCert, paths.caKey, ca);
  }
  const usable = (pair: CertAndKey | undefined): pair is CertAndKey =>
    pair !== undefined && !caIsNew && isIssuedBy(pair.certPem, ca.certPem) && !nearExpiry(pair.certPem);

  const wanted = servingSANs(opts.sans);
  let server = await loadPair(paths.serverCert, paths.serverKey);
  if (!usable(server) || !coversSANs(certificateSANs(server.certPem), wanted)) {
    server = await issueCertificate(ca, { commonName: "kube-apiserver", ...wanted, usages: "server", validityDays: LEAF_VALIDITY_DAYS });
    await save(paths.serverCert, paths.serverKey, server);
  }

  let admin = await loadPair(paths.adminCert, paths.adminKey);
  if (!usable(admin)) {
    admin = await issueCertificate(ca, { commonName: ADMIN_USER, organizations: [ADMIN_GROUP], usages: "client", validityDays: LEAF_VALIDITY_DAYS });
    await save(paths.adminCert, paths.adminKey, admin);
  }

  let serviceAccount: GeneratedKeyPair;
  const saKey = await readOptional(paths.serviceAccountKey);
  if (saKey !== undefined) {
    serviceAccount = { privateKeyPem: saKey, publicKeyPem: createPublicKey(saKey).export({ type: "spki", format: "pem" }).toString() };
    if ((await readOptional(paths.serviceAccountPub)) !== serviceAccount.publicKeyPem) {
      await writeFileAtomic(paths.serviceAccountPub, serviceAccount.publicKeyPem, 0o644);
      written.push(paths.serviceAccountPub);
    }
  } else {
    serviceAccount = await generateKeyPair();
    await writeFileAtomic(paths.serviceAccountKey, serviceAccount.privateKeyPem, 0o600);
    await writeFileAtomic(paths.serviceAccountPub, serviceAccount.publicKeyPem, 0o644);
    written.push(paths.serviceAccountKey, paths.serviceAccountPub);
  }

  return { paths, ca, server, admin, serviceAccount, written };
}

/**
 * Link-local addresses are useless in a certificate (a client must add a zone to dial them) and
 * every pod's host-side veth has one: counting them would re-issue the cert on each restart.
 */
function isLinkLocal(ip: string): boolean {
  return /^169\.254\./.test(ip) || /^fe[89ab][0-9a-f]:/i.test(ip);
}

/** `have` names every DNS name and address of `want`. */
export function coversSANs(have: SubjectAltNames, want: SubjectAltNames): boolean {
  const dns = new Set(have.dnsNames);
  const ips = new Set(have.ipAddresses);
  return want.dnsNames.every((d) => dns.has(d)) && want.ipAddresses.every((ip) => ips.has(ip));
}

/** Less than 30 days left: time to issue a new one. */
export function nearExpiry(certPem: string): boolean {
  return new Date(new NodeX509(certPem).validTo).getTime() - Date.now() < RENEW_BEFORE_MS;
}

/** A file's text, or undefined when it does not exist (other errors throw). */
export async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** Both files, or neither; one without the other means someone removed a file by hand. */
async function loadPair(certPath: string, keyPath: string): Promise<CertAndKey | undefined> {
  const [certPem, keyPem] = await Promise.all([readOptional(certPath), readOptional(keyPath)]);
  if (certPem === undefined && keyPem === undefined) return undefined;
  if (certPem === undefined || keyPem === undefined) {
    const missing = certPem === undefined ? certPath : keyPath;
    throw new PkiError("Incomplete", `${missing} is missing while its pair exists; restore it or remove both`, missing);
  }
  return { certPem, keyPem };
}
