// The kubelet's TLS bootstrap (upstream pkg/kubelet/certificate/bootstrap and client-go's
// util/certificate/csr): a new private key, a CertificateSigningRequest for the node's client
// certificate (CN system:node:<name>, O system:nodes, signer
// kubernetes.io/kube-apiserver-client-kubelet) sent with the bootstrap credentials, then a
// watch on that one request until the certificate is issued or the request is denied/failed.
import { createHash, createPublicKey } from "node:crypto";
import type { CertificateSigningRequest, CertificateSigningRequestCondition } from "kubernetes-types/certificates/v1.js";
import type { ResourceClient, RestClient } from "../../client/rest.js";
import { isAlreadyExists } from "../../client/errors.js";
import { NODES_GROUP, nodeUserName } from "../../api/nodeidentity.js";
import { createCertificateRequest } from "../../util/pki.js";
import type { Logger } from "../../util/log.js";
import { BootstrapError } from "./errors.js";

export const KUBELET_CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client-kubelet";
/** The usages upstream's kubelet asks for with an ECDSA key ("key encipherment" is for RSA keys only). */
export const NODE_CLIENT_USAGES: readonly string[] = ["digital signature", "client auth"];
/** How long the node waits for its certificate; upstream's kubelet waits an hour. */
export const DEFAULT_APPROVAL_TIMEOUT_MS = 15 * 60_000;
/** After this long without a certificate, say that someone has to approve the request. */
export const DEFAULT_APPROVAL_HINT_MS = 30_000;

export interface RequestNodeCertificateOptions {
  /** A client with the bootstrap credentials (the token as bearer, the discovered CA). */
  readonly client: RestClient;
  readonly nodeName: string;
  readonly timeoutMs?: number;
  readonly hintAfterMs?: number;
  readonly signal?: AbortSignal;
  readonly log: Logger;
}

export interface IssuedNodeCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  /** The CertificateSigningRequest's name. */
  readonly csrName: string;
}

/**
 * Upstream's request name: `node-csr-` and a SHA-512/256 digest of the public key, subject and
 * usages, so a kubelet that restarts with the same key finds its earlier request.
 */
export function nodeCSRName(keyPem: string, commonName: string, organizations: readonly string[], usages: readonly string[]): string {
  const hash = createHash("sha512-256");
  const write = (data: Buffer | string): void => {
    hash.update(Buffer.from(data).toString("base64url"));
    hash.update("|");
  };
  write(createPublicKey(keyPem).export({ type: "spki", format: "der" }));
  write(commonName);
  for (const o of organizations) write(o);
  for (const u of usages) write(u);
  return `node-csr-${hash.digest("base64url")}`;
}

type Outcome = { readonly certPem: string } | { readonly failed: string } | undefined;

/** What one state of the request means to the waiting node (client-go's WaitForCertificate). */
export function csrOutcome(csr: CertificateSigningRequest, uid: string | undefined): Outcome {
  const name = csr.metadata?.name ?? "";
  if (uid !== undefined && csr.metadata?.uid !== uid) return { failed: `certificate signing request ${JSON.stringify(name)} changed UIDs` };
  const conditions: readonly CertificateSigningRequestCondition[] = csr.status?.conditions ?? [];
  let approved = false;
  for (const c of conditions) {
    if (c.type === "Denied") return { failed: `certificate signing request is denied, reason: ${c.reason ?? ""}, message: ${c.message ?? ""}` };
    if (c.type === "Failed") return { failed: `certificate signing request failed, reason: ${c.reason ?? ""}, message: ${c.message ?? ""}` };
    if (c.type === "Approved") approved = true;
  }
  if (approved && csr.status?.certificate) return { certPem: Buffer.from(csr.status.certificate, "base64").toString("utf8") };
  return undefined;
}

/** Creates the node's request and waits for its certificate; see the file's comment. */
export async function requestNodeCertificate(o: RequestNodeCertificateOptions): Promise<IssuedNodeCertificate> {
  const commonName = nodeUserName(o.nodeName);
  const organizations = [NODES_GROUP];
  const { csrPem, keyPem } = await createCertificateRequest({ commonName, organizations });
  const name = nodeCSRName(keyPem, commonName, organizations, NODE_CLIENT_USAGES);
  const csrs = o.client.forKind("certificates.k8s.io/v1", "CertificateSigningRequest");
  const request = Buffer.from(csrPem).toString("base64");
  let created: CertificateSigningRequest;
  try {
    created = await csrs.create({
      apiVersion: "certificates.k8s.io/v1",
      kind: "CertificateSigningRequest",
      metadata: { name },
      spec: { request, signerName: KUBELET_CLIENT_SIGNER, usages: [...NODE_CLIENT_USAGES] },
    });
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    // As client-go: an earlier request of ours (same key, so same name) is reused if it asks the same.
    created = await csrs.get(name);
    if (created.spec?.request !== request || created.spec.signerName !== KUBELET_CLIENT_SIGNER) throw new BootstrapError("Certificate", `retrieved csr is not compatible: ${name}`, { cause: err });
  }
  const uid = created.metadata?.uid;
  o.log.info({ csr: name, node: o.nodeName }, "waiting for the node's client certificate to be issued");

  const timeoutMs = o.timeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS;
  const hint = setTimeout(
    () => o.log.warn({ csr: name }, `the node's certificate signing request ${name} is not approved yet: an approver is needed (the csrapproving controller for bootstrap tokens, or: kubectl certificate approve ${name})`),
    o.hintAfterMs ?? DEFAULT_APPROVAL_HINT_MS,
  );
  hint.unref();
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = o.signal ? AbortSignal.any([o.signal, deadline]) : deadline;
  try {
    const certPem = await waitForCertificate(csrs, name, uid, created, signal);
    o.log.info({ csr: name, node: o.nodeName }, "the node's client certificate was issued");
    return { certPem, keyPem, csrName: name };
  } catch (err) {
    if (o.signal?.aborted) throw new BootstrapError("Aborted", `waiting for certificate signing request ${name} was interrupted`);
    if (deadline.aborted) throw new BootstrapError("Certificate", `timed out after ${Math.round(timeoutMs / 1000)} s waiting for certificate signing request ${name} to be approved and issued (kubectl certificate approve ${name})`);
    throw err;
  } finally {
    clearTimeout(hint);
  }
}

/** List-then-watch on the one request (watchtools.UntilWithSync), re-listing when a watch ends. */
async function waitForCertificate(
  csrs: ResourceClient<CertificateSigningRequest>,
  name: string,
  uid: string | undefined,
  first: CertificateSigningRequest,
  signal: AbortSignal,
): Promise<string> {
  const settle = (csr: CertificateSigningRequest): string | undefined => {
    const out = csrOutcome(csr, uid);
    if (out === undefined) return undefined;
    if ("failed" in out) throw new BootstrapError("Certificate", out.failed);
    return out.certPem;
  };
  const now = settle(first);
  if (now !== undefined) return now;
  const fieldSelector = `metadata.name=${name}`;
  for (;;) {
    const list = await csrs.list({ fieldSelector, signal });
    const current = list.items[0];
    if (!current) throw new BootstrapError("Certificate", `certificate signing request ${JSON.stringify(name)} was deleted`);
    const done = settle(current);
    if (done !== undefined) return done;
    const watch = await csrs.watch({ fieldSelector, resourceVersion: list.metadata.resourceVersion, timeoutSeconds: 300, signal });
    for await (const ev of watch) {
      if (ev.type === "DELETED") throw new BootstrapError("Certificate", `certificate signing request ${JSON.stringify(name)} was deleted`);
      if (ev.type !== "ADDED" && ev.type !== "MODIFIED") continue;
      const got = settle(ev.object);
      if (got !== undefined) {
        watch.stop();
        return got;
      }
    }
    if (signal.aborted) throw signal.reason;
  }
}
