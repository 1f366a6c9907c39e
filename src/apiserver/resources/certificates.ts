// certificates.k8s.io/v1 CertificateSigningRequests: a client asks a signer for a certificate.
// As upstream (pkg/registry/certificates/certificates/strategy.go, pkg/apis/certificates/
// validation/validation.go, the printer in pkg/printers/internalversion): the requestor's
// identity is recorded from the request, not from the body; spec never changes after create;
// approval (Approved/Denied conditions) goes through /approval and issuance (the certificate)
// through /status, so the two concerns stay apart and RBAC can grant them separately.
import { createPublicKey, verify, constants as cryptoConstants, type KeyObject } from "node:crypto";
import { duplicate, FieldPath, forbidden, GoRendered, invalid, notSupported, required, tooLong, type FieldError } from "../../api/fielderrors.js";
import { DNS1123_LABEL_MAX_LENGTH, DNS1123_SUBDOMAIN_MAX_LENGTH, isDNS1123Label, isDNS1123Subdomain } from "../../api/validation.js";
import * as x509 from "../../util/x509.js";
import type { KubeObject, ResourceDefinition, StrategyContext } from "../registry/types.js";
import { validateMeta, validateMetaUpdate } from "./common.js";
import { ageColumn, column, humanDuration, nameColumn, since } from "./print.js";
import { asNum, asObj, asStr, creationOf, jsonEqual, nameOf, objs, type Json } from "./util.js";

export const CERTIFICATES_GROUP = "certificates.k8s.io";

const SPEC = FieldPath.of("spec");
const CONDITIONS = FieldPath.of("status", "conditions");
const CERTIFICATE = FieldPath.of("status", "certificate");

const APPROVED = "Approved";
const DENIED = "Denied";
const FAILED = "Failed";
/** v1beta1's default signer: v1 refuses it, except on objects stored with it. */
const LEGACY_UNKNOWN_SIGNER = "kubernetes.io/legacy-unknown";

/** Upstream's allValidUsages, sorted as sets.List() returns them (the order of its message). */
export const KEY_USAGES: readonly string[] = [
  "any",
  "cert sign",
  "client auth",
  "code signing",
  "content commitment",
  "crl sign",
  "data encipherment",
  "decipher only",
  "digital signature",
  "email protection",
  "encipher only",
  "ipsec end system",
  "ipsec tunnel",
  "ipsec user",
  "key agreement",
  "key encipherment",
  "microsoft sgc",
  "netscape sgc",
  "ocsp signing",
  "s/mime",
  "server auth",
  "signing",
  "timestamping",
];

const ALL_STATUS_VALUES = ["False", "True", "Unknown"];
const TRUE_ONLY = ["True"];
/** Condition types whose status may only be True (and which updates may never remove). */
const TRUE_CONDITION_TYPES = new Set([APPROVED, DENIED, FAILED]);

// ---- bytes and PEM ------------------------------------------------------------------------------

/** A []byte field's value: JSON carries it as base64; undefined when unset (Go's nil). */
function bytesOf(v: unknown): Buffer | undefined {
  return typeof v === "string" ? Buffer.from(v, "base64") : undefined;
}

/** Go's %#v of a []byte, as field errors print the bad value. */
function goBytes(b: Buffer | undefined): GoRendered {
  if (b === undefined) return new GoRendered("[]byte(nil)");
  return new GoRendered(`[]byte{${[...b].map((x) => `0x${x.toString(16)}`).join(", ")}}`);
}

interface PemBlock {
  readonly type: string;
  readonly hasHeaders: boolean;
  readonly der: Buffer;
}

const PEM_BLOCK = /-----BEGIN ([^\r\n-]*)-----\r?\n([\s\S]*?)-----END \1-----/g;

/** The PEM blocks of `data` in order, as Go's pem.Decode finds them one after another. */
function pemBlocks(data: Buffer): PemBlock[] {
  const out: PemBlock[] = [];
  for (const m of data.toString("latin1").matchAll(PEM_BLOCK)) {
    const lines = (m[2] ?? "").split(/\r?\n/);
    // Headers ("Key: value" lines) come first and end at an empty line.
    const hasHeaders = (lines[0] ?? "").includes(":");
    const body = hasHeaders ? lines.slice(lines.findIndex((l) => l.trim() === "") + 1) : lines;
    const b64 = body.join("").replace(/\s+/g, "");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) break;
    out.push({ type: m[1] ?? "", hasHeaders, der: Buffer.from(b64, "base64") });
  }
  return out;
}

/** One DER element at `at`: where its contents start and where it ends. */
function derElement(der: Buffer, at: number): { readonly contentStart: number; readonly end: number } | undefined {
  if (at + 2 > der.length) return undefined;
  let len = der[at + 1]!;
  let contentStart = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || contentStart + n > der.length) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[contentStart + i]!;
    contentStart += n;
  }
  const end = contentStart + len;
  return end > der.length ? undefined : { contentStart, end };
}

/** The signed part (CertificationRequestInfo) and the signature bits of a PKCS#10 request. */
function signedParts(der: Buffer): { readonly tbs: Buffer; readonly signature: Buffer } | undefined {
  const outer = derElement(der, 0);
  if (!outer) return undefined;
  const info = derElement(der, outer.contentStart);
  if (!info) return undefined;
  const alg = derElement(der, info.end);
  if (!alg) return undefined;
  const sig = derElement(der, alg.end);
  // A BIT STRING: its first content byte counts the unused bits.
  if (!sig || der[alg.end] !== 0x03) return undefined;
  return { tbs: der.subarray(outer.contentStart, info.end), signature: der.subarray(sig.contentStart + 1, sig.end) };
}

/** Go's CertificateRequest.CheckSignature, synchronously (validation is synchronous). */
function checkSignature(req: x509.Pkcs10CertificateRequest, der: Buffer): string | undefined {
  const parts = signedParts(der);
  if (!parts) return "x509: malformed certificate request";
  const alg = req.signatureAlgorithm as { name?: string; hash?: { name?: string } };
  const hash = alg.hash?.name?.toLowerCase().replace("-", "");
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(req.publicKey.rawData), format: "der", type: "spki" });
  } catch {
    return "x509: cannot verify signature: algorithm unimplemented";
  }
  const attempt = (ok: () => boolean, failure: string): string | undefined => {
    try {
      return ok() ? undefined : failure;
    } catch {
      return failure;
    }
  };
  switch (alg.name) {
    case "RSASSA-PKCS1-v1_5":
      return hash ? attempt(() => verify(hash, parts.tbs, key, parts.signature), "crypto/rsa: verification error") : "x509: cannot verify signature: algorithm unimplemented";
    case "RSA-PSS":
      return hash
        ? attempt(() => verify(hash, parts.tbs, { key, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: cryptoConstants.RSA_PSS_SALTLEN_AUTO }, parts.signature), "crypto/rsa: verification error")
        : "x509: cannot verify signature: algorithm unimplemented";
    case "ECDSA":
      return hash ? attempt(() => verify(hash, parts.tbs, { key, dsaEncoding: "der" }, parts.signature), "x509: ECDSA verification failure") : "x509: cannot verify signature: algorithm unimplemented";
    case "Ed25519":
      return attempt(() => verify(null, parts.tbs, key, parts.signature), "x509: Ed25519 verification failure");
    default:
      return "x509: cannot verify signature: algorithm unimplemented";
  }
}

/**
 * What upstream's validateCSR says of spec.request: ParseCSR reads the first PEM block, which
 * must be a CERTIFICATE REQUEST that parses, and its signature must be the requestor key's.
 */
function requestProblem(request: Buffer | undefined): string | undefined {
  const block = request ? pemBlocks(request)[0] : undefined;
  if (!block || block.type !== "CERTIFICATE REQUEST") return "PEM block type must be CERTIFICATE REQUEST";
  let req: x509.Pkcs10CertificateRequest;
  try {
    req = new x509.Pkcs10CertificateRequest(block.der);
  } catch {
    return "asn1: structure error: malformed certificate request";
  }
  return checkSignature(req, block.der);
}

/** Upstream's validateCertificate: CERTIFICATE blocks only, without headers, each parsing. */
function certificateProblem(data: Buffer | undefined): string | undefined {
  if (!data || data.length === 0) return undefined;
  const blocks = pemBlocks(data);
  for (const b of blocks) {
    if (b.type !== "CERTIFICATE") return `only CERTIFICATE PEM blocks are allowed, found ${JSON.stringify(b.type)}`;
    if (b.hasHeaders) return "no PEM block headers are permitted";
    try {
      new x509.X509Certificate(b.der);
    } catch {
      return "x509: malformed certificate";
    }
  }
  return blocks.length === 0 ? "must contain at least one CERTIFICATE PEM block" : undefined;
}

// ---- validation ---------------------------------------------------------------------------------

interface Options {
  /** The Approved/Denied conditions may change (the /approval subresource). */
  readonly allowSettingApprovalConditions: boolean;
  /** status.certificate may be set (the /status subresource). */
  readonly allowSettingCertificate: boolean;
  // What a stored object already breaks stays tolerated on its updates (upstream's compatibility options).
  readonly allowBothApprovedAndDenied: boolean;
  readonly allowLegacySignerName: boolean;
  readonly allowDuplicateConditionTypes: boolean;
  readonly allowEmptyConditionType: boolean;
  readonly allowArbitraryCertificate: boolean;
  readonly allowUnknownUsages: boolean;
  readonly allowDuplicateUsages: boolean;
}

function specOf(obj: Readonly<KubeObject>): Json {
  return asObj(obj.spec) ?? {};
}

function statusOf(obj: Readonly<KubeObject>): Json {
  return asObj(obj.status) ?? {};
}

function conditionsOf(obj: Readonly<KubeObject>): Json[] {
  return objs(statusOf(obj).conditions);
}

function usagesOf(obj: Readonly<KubeObject>): string[] {
  const u = specOf(obj).usages;
  return Array.isArray(u) ? u.map((x) => (typeof x === "string" ? x : "")) : [];
}

function hasDuplicates(values: readonly string[]): boolean {
  return new Set(values).size !== values.length;
}

/** getValidationOptions: subresource abilities off, compatibility with what `old` already holds. */
function optionsFor(obj: KubeObject, old: KubeObject | undefined): Options {
  const oldTypes = old ? conditionsOf(old).map((c) => asStr(c.type) ?? "") : [];
  const oldCert = old ? bytesOf(statusOf(old).certificate) : undefined;
  const newCert = bytesOf(statusOf(obj).certificate);
  return {
    allowSettingApprovalConditions: false,
    allowSettingCertificate: false,
    allowBothApprovedAndDenied: oldTypes.includes(APPROVED) && oldTypes.includes(DENIED),
    allowLegacySignerName: old !== undefined && specOf(old).signerName === LEGACY_UNKNOWN_SIGNER,
    allowDuplicateConditionTypes: hasDuplicates(oldTypes),
    allowEmptyConditionType: oldTypes.includes(""),
    allowArbitraryCertificate: old !== undefined && (sameBytes(newCert, oldCert) || certificateProblem(oldCert) !== undefined),
    allowUnknownUsages: old !== undefined && usagesOf(old).some((u) => !KEY_USAGES.includes(u)),
    allowDuplicateUsages: old !== undefined && hasDuplicates(usagesOf(old)),
  };
}

function sameBytes(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return (a ?? Buffer.alloc(0)).equals(b ?? Buffer.alloc(0));
}

/** apivalidation.ValidateSignerName: `domain/path`, each part of DNS labels/subdomains. */
export function validateSignerName(signerName: string, path: FieldPath): FieldError[] {
  if (signerName.length === 0) return [required(path, "")];
  const segments = signerName.split("/");
  if (segments.length !== 2) return [invalid(path, signerName, "must be a fully qualified domain and path of the form 'example.com/signer-name'")];
  const [domain = "", rest = ""] = segments;
  const errs: FieldError[] = [];
  if (domain.length > DNS1123_SUBDOMAIN_MAX_LENGTH) errs.push(tooLong(path, DNS1123_SUBDOMAIN_MAX_LENGTH));
  const domainLabels = domain.split(".");
  // The first bad label says enough: later ones would repeat the same messages.
  for (const label of domainLabels) {
    const msgs = isDNS1123Label(label);
    if (msgs.length === 0) continue;
    for (const m of msgs) errs.push(invalid(path, domain, `validating label ${JSON.stringify(label)}: ${m}`));
    break;
  }
  if (domainLabels.length < 2) errs.push(invalid(path, domain, "should be a domain with at least two segments separated by dots"));
  for (const label of rest.split(".")) {
    const msgs = isDNS1123Subdomain(label);
    if (msgs.length === 0) continue;
    for (const m of msgs) errs.push(invalid(path, rest, `validating label ${JSON.stringify(label)}: ${m}`));
    break;
  }
  const maxLength = DNS1123_SUBDOMAIN_MAX_LENGTH + (DNS1123_SUBDOMAIN_MAX_LENGTH + DNS1123_LABEL_MAX_LENGTH + 1) + 1;
  if (signerName.length > maxLength) errs.push(tooLong(path, maxLength));
  return errs;
}

function validateConditions(obj: KubeObject, opts: Options): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  let approved = false;
  let denied = false;
  conditionsOf(obj).forEach((c, i) => {
    const p = CONDITIONS.index(i);
    const type = asStr(c.type) ?? "";
    const status = asStr(c.status) ?? "";
    if (!opts.allowEmptyConditionType && type === "") errs.push(required(p.child("type"), ""));
    const allowed = TRUE_CONDITION_TYPES.has(type) ? TRUE_ONLY : ALL_STATUS_VALUES;
    if (status === "") errs.push(required(p.child("status"), ""));
    else if (!allowed.includes(status)) errs.push(notSupported(p.child("status"), status, allowed));
    if (!opts.allowBothApprovedAndDenied) {
      if (type === APPROVED) {
        approved = true;
        if (denied) errs.push(invalid(p.child("type"), type, "Approved and Denied conditions are mutually exclusive"));
      } else if (type === DENIED) {
        denied = true;
        if (approved) errs.push(invalid(p.child("type"), type, "Approved and Denied conditions are mutually exclusive"));
      }
    }
    if (!opts.allowDuplicateConditionTypes) {
      if (seen.has(type)) errs.push(duplicate(p.child("type"), type));
      seen.add(type);
    }
  });
  return errs;
}

/** validateCertificateSigningRequest: metadata (any name), spec, conditions and certificate. */
function validateCSR(obj: KubeObject, opts: Options): FieldError[] {
  const errs = validateMeta(obj, false, () => []);
  const spec = specOf(obj);
  const request = bytesOf(spec.request);
  const problem = requestProblem(request);
  if (problem !== undefined) errs.push(invalid(SPEC.child("request"), goBytes(request), problem));
  const usages = usagesOf(obj);
  if (usages.length === 0) errs.push(required(SPEC.child("usages"), ""));
  if (!opts.allowUnknownUsages) {
    usages.forEach((u, i) => {
      if (!KEY_USAGES.includes(u)) errs.push(notSupported(SPEC.child("usages").index(i), u, KEY_USAGES));
    });
  }
  if (!opts.allowDuplicateUsages) {
    const seen = new Set<string>();
    usages.forEach((u, i) => {
      if (seen.has(u)) errs.push(duplicate(SPEC.child("usages").index(i), u));
      seen.add(u);
    });
  }
  const signerName = asStr(spec.signerName) ?? "";
  if (!opts.allowLegacySignerName && signerName === LEGACY_UNKNOWN_SIGNER) {
    errs.push(invalid(SPEC.child("signerName"), signerName, "the legacy signerName is not allowed via this API version"));
  } else {
    errs.push(...validateSignerName(signerName, SPEC.child("signerName")));
  }
  const expiration = asNum(spec.expirationSeconds);
  if (expiration !== undefined && expiration < 600) errs.push(invalid(SPEC.child("expirationSeconds"), expiration, "may not specify a duration less than 600 seconds (10 minutes)"));
  errs.push(...validateConditions(obj, opts));
  if (!opts.allowArbitraryCertificate) {
    const problemCert = certificateProblem(bytesOf(statusOf(obj).certificate));
    if (problemCert !== undefined) errs.push(invalid(CERTIFICATE, "<certificate data>", problemCert));
  }
  return errs;
}

function conditionsOfType(obj: KubeObject, type: string): Json[] {
  return conditionsOf(obj).filter((c) => c.type === type);
}

/** validateCertificateSigningRequestUpdate: the object's rules plus what an update may not do. */
function validateCSRUpdate(obj: KubeObject, old: KubeObject, opts: Options): FieldError[] {
  const errs = validateCSR(obj, opts);
  for (const type of [APPROVED, DENIED, FAILED]) {
    if (conditionsOfType(obj, type).length < conditionsOfType(old, type).length) {
      errs.push(forbidden(CONDITIONS, `updates may not remove a condition of type ${JSON.stringify(type)}`));
    }
  }
  if (!opts.allowSettingApprovalConditions) {
    for (const type of [APPROVED, DENIED]) {
      const before = conditionsOfType(old, type);
      const after = conditionsOfType(obj, type);
      if (after.length > before.length) errs.push(forbidden(CONDITIONS, `updates may not add a condition of type ${JSON.stringify(type)}`));
      else if (after.length === before.length && !jsonEqual(before, after)) {
        // Upstream appends a cmp.Diff of the two lists; this is the same information, line-wise.
        const diff = before.flatMap((b, i) => (jsonEqual(b, after[i]) ? [] : [`-\t${JSON.stringify(b)}`, `+\t${JSON.stringify(after[i])}`]));
        errs.push(forbidden(CONDITIONS, `updates may not modify a condition of type ${JSON.stringify(type)}\n${diff.join("\n")}`));
      }
    }
  }
  const newCert = bytesOf(statusOf(obj).certificate);
  const oldCert = bytesOf(statusOf(old).certificate);
  if (!sameBytes(newCert, oldCert)) {
    if (!opts.allowSettingCertificate) errs.push(forbidden(CERTIFICATE, "updates may not set certificate content"));
    else if ((oldCert?.length ?? 0) > 0) errs.push(forbidden(CERTIFICATE, "updates may not modify existing certificate content"));
  }
  return [...errs, ...validateMetaUpdate(obj, old)];
}

// ---- strategy -----------------------------------------------------------------------------------

/** PrepareForCreate: who asked is the request's user, whatever the body says; no status yet. */
function prepareForCreate(obj: KubeObject, ctx: StrategyContext): void {
  const spec = asObj(obj.spec);
  if (spec) {
    delete spec.username;
    delete spec.uid;
    delete spec.groups;
    delete spec.extra;
    const who = ctx.user;
    spec.username = who.username;
    if (who.uid) spec.uid = who.uid;
    if (who.groups.length > 0) spec.groups = [...who.groups];
    if (who.extra && Object.keys(who.extra).length > 0) spec.extra = structuredClone(who.extra) as Record<string, string[]>;
  }
  // Users cannot create pre-approved (or pre-issued) requests.
  obj.status = {};
}

/** populateConditionTimestamps: lastUpdateTime now when missing; lastTransitionTime kept from an equal old condition, else now. */
function withTimestamps(conditions: readonly Json[], old: KubeObject, now: string): Json[] {
  const previous = conditionsOf(old);
  return conditions.map((c) => {
    const out = { ...c };
    if (!asStr(out.lastUpdateTime)) out.lastUpdateTime = now;
    if (!asStr(out.lastTransitionTime)) {
      const same = previous.find((p) => p.type === out.type && p.status === out.status && asStr(p.lastTransitionTime));
      out.lastTransitionTime = same ? same.lastTransitionTime : now;
    }
    return out;
  });
}

function nowString(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The approval strategy: the request's conditions, everything else as stored. */
function prepareApproval(obj: KubeObject, old: KubeObject): KubeObject {
  const conditions = withTimestamps(conditionsOf(obj), old, nowString());
  const status: Json = { ...statusOf(old) };
  if (conditions.length > 0) status.conditions = conditions;
  else delete status.conditions;
  return { ...obj, spec: structuredClone(old.spec), status };
}

/**
 * The status strategy: spec as stored, and each Approved/Denied condition the stored one when
 * their number is unchanged (adding or removing them fails validation instead).
 */
function prepareStatus(obj: KubeObject, old: KubeObject): KubeObject {
  const conditions = conditionsOf(obj).map((c) => ({ ...c }));
  for (const type of [APPROVED, DENIED]) {
    const before = conditionsOf(old).filter((c) => c.type === type);
    const at = conditions.flatMap((c, i) => (c.type === type ? [i] : []));
    if (before.length === at.length) at.forEach((idx, n) => (conditions[idx] = structuredClone(before[n]!)));
  }
  const status: Json = { ...statusOf(obj) };
  const stamped = withTimestamps(conditions, old, nowString());
  if (stamped.length > 0) status.conditions = stamped;
  else delete status.conditions;
  return { ...obj, spec: structuredClone(old.spec), status };
}

// ---- table --------------------------------------------------------------------------------------

/** The printer's CONDITION: Denied, Approved or Pending, then ",Failed" and ",Issued". */
export function csrCondition(obj: Readonly<KubeObject>): string {
  const types = conditionsOf(obj).map((c) => c.type);
  let s = types.includes(DENIED) ? DENIED : types.includes(APPROVED) ? APPROVED : "Pending";
  if (types.includes(FAILED)) s += ",Failed";
  if ((bytesOf(statusOf(obj).certificate)?.length ?? 0) > 0) s += ",Issued";
  return s;
}

const SIGNER_NAME_DOC =
  'signerName indicates the requested signer, and is a qualified name.\n\nList/watch requests for CertificateSigningRequests can filter on this field using a "spec.signerName=NAME" fieldSelector.\n\nWell-known Kubernetes signers are:\n 1. "kubernetes.io/kube-apiserver-client": issues client certificates that can be used to authenticate to kube-apiserver.\n  Requests for this signer are never auto-approved by kube-controller-manager, can be issued by the "csrsigning" controller in kube-controller-manager.\n 2. "kubernetes.io/kube-apiserver-client-kubelet": issues client certificates that kubelets use to authenticate to kube-apiserver.\n  Requests for this signer can be auto-approved by the "csrapproving" controller in kube-controller-manager, and can be issued by the "csrsigning" controller in kube-controller-manager.\n 3. "kubernetes.io/kubelet-serving" issues serving certificates that kubelets use to serve TLS endpoints, which kube-apiserver can connect to securely.\n  Requests for this signer are never auto-approved by kube-controller-manager, and can be issued by the "csrsigning" controller in kube-controller-manager.\n\nMore details are available at https://k8s.io/docs/reference/access-authn-authz/certificate-signing-requests/#kubernetes-signers\n\nCustom signerNames can also be specified. The signer defines:\n 1. Trust distribution: how trust (CA bundles) are distributed.\n 2. Permitted subjects: and behavior when a disallowed subject is requested.\n 3. Required, permitted, or forbidden x509 extensions in the request (including whether subjectAltNames are allowed, which types, restrictions on allowed values) and behavior when a disallowed extension is requested.\n 4. Required, permitted, or forbidden key usages / extended key usages.\n 5. Expiration/certificate lifetime: whether it is fixed by the signer, configurable by the admin.\n 6. Whether or not requests for CA certificates are allowed.';
const EXPIRATION_SECONDS_DOC =
  "expirationSeconds is the requested duration of validity of the issued certificate. The certificate signer may issue a certificate with a different validity duration so a client must check the delta between the notBefore and and notAfter fields in the issued certificate to determine the actual duration.\n\nThe v1.22+ in-tree implementations of the well-known Kubernetes signers will honor this field as long as the requested duration is not greater than the maximum duration they will honor per the --cluster-signing-duration CLI flag to the Kubernetes controller manager.\n\nCertificate signers may not honor this field for various reasons:\n\n  1. Old signer that is unaware of the field (such as the in-tree\n     implementations prior to v1.22)\n  2. Signer whose configured maximum is shorter than the requested duration\n  3. Signer whose configured minimum is longer than the requested duration\n\nThe minimum valid value for expirationSeconds is 600, i.e. 10 minutes.";

export const certificateSigningRequests: ResourceDefinition = {
  group: CERTIFICATES_GROUP,
  version: "v1",
  kind: "CertificateSigningRequest",
  plural: "certificatesigningrequests",
  singular: "certificatesigningrequest",
  shortNames: ["csr"],
  namespaced: false,
  definition: "io.k8s.api.certificates.v1.CertificateSigningRequest",
  subresources: ["status", "approval"],
  strategy: {
    prepareForCreate,
    // Spec is fixed at create and status changes only through the subresources: a write to the
    // main resource changes metadata alone.
    prepareForUpdate: (obj, old) => {
      if (old.spec === undefined) delete obj.spec;
      else obj.spec = structuredClone(old.spec);
    },
    validate: (obj) => validateCSR(obj, optionsFor(obj, undefined)),
    validateUpdate: (obj, old) => validateCSRUpdate(obj, old, optionsFor(obj, old)),
    subresourceWrites: {
      approval: { prepare: prepareApproval, validate: (obj, old) => validateCSRUpdate(obj, old, { ...optionsFor(obj, old), allowSettingApprovalConditions: true }) },
      status: { prepare: prepareStatus, validate: (obj, old) => validateCSRUpdate(obj, old, { ...optionsFor(obj, old), allowSettingCertificate: true }) },
    },
    statusFields: ["status"],
    // Upstream keeps no metadata.generation for CSRs.
    specFields: [],
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
  },
  table: {
    columns: [
      nameColumn(),
      ageColumn,
      column("SignerName", "string", SIGNER_NAME_DOC),
      column("Requestor", "string", "Name of the user which made this request."),
      column("RequestedDuration", "string", EXPIRATION_SECONDS_DOC),
      column("Condition", "string", "State of the signing request."),
    ],
    row: (obj, now) => {
      const spec = specOf(obj);
      const signer = asStr(spec.signerName) ?? "";
      const seconds = asNum(spec.expirationSeconds);
      return [nameOf(obj), since(creationOf(obj), now), signer === "" ? "<none>" : signer, asStr(spec.username) ?? "", seconds === undefined ? "<none>" : humanDuration(seconds * 1000), csrCondition(obj)];
    },
  },
  selectableFields: (obj) => ({ "spec.signerName": asStr(specOf(obj).signerName) ?? "" }),
};

export const certificatesResources: readonly ResourceDefinition[] = [certificateSigningRequests];
