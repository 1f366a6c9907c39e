// The CSR signing controller (upstream's csrsigning-controller, pkg/controller/certificates/
// signer): a CertificateSigningRequest for one of the kubernetes.io signers this cluster signs
// for, once Approved (and not Denied or Failed), is checked as that signer's policy demands and
// either given `status.certificate`, signed by the cluster signing CA, or marked Failed with
// reason SignerValidationFailure. Requests for other signers are someone else's to sign. Keys
// are CSR names (the resource is cluster-scoped). Upstream records no events here; neither do we.
import type { CertificateSigningRequest, CertificateSigningRequestCondition } from "kubernetes-types/certificates/v1.js";
import { isNotFound } from "../../client/errors.js";
import type { Lister } from "../../client/informer.js";
import type { DeepReadonly } from "../../client/objects.js";
import { WorkQueue } from "../../client/workqueue.js";
import { parseCertificateRequest, signCertificateRequest, type CertAndKey } from "../../util/pki.js";
import type { Logger } from "../../util/log.js";
import { CodedError } from "../../util/errors.js";
import { rfc3339 } from "../../util/time.js";
import type { Api } from "../api.js";
import { BACKDATE_MS, certificateTTL, checkFor, SHORT_MS } from "./signer.js";

export const CSR_SIGNING_CONTROLLER = "csrsigning-controller";
export const SIGNER_VALIDATION_FAILURE = "SignerValidationFailure";

type RCSR = DeepReadonly<CertificateSigningRequest>;

export type CSRSigningErrorCode = "UnparsableRequest" | "SigningFailed";

/** A sync that failed in a way a retry may mend (a CA being replaced, a store hiccup). */
export class CSRSigningError extends CodedError<CSRSigningErrorCode> {
  override readonly name = "CSRSigningError";
}

export interface CSRSigningDeps {
  readonly api: Api;
  readonly csrs: Lister<CertificateSigningRequest>;
  /** The cluster signing CA. */
  readonly ca: CertAndKey;
  /** --cluster-signing-duration: the longest certificate signed. */
  readonly durationMs: number;
  readonly log: Logger;
  readonly now?: () => number;
}

function hasTrue(csr: RCSR, type: string): boolean {
  return csr.status?.conditions?.some((c) => c.type === type && c.status === "True") === true;
}

/** Approved and not Denied (upstream's IsCertificateRequestApproved), and not Failed. */
export function readyToSign(csr: RCSR): boolean {
  return hasTrue(csr, "Approved") && !hasTrue(csr, "Denied") && !hasTrue(csr, "Failed");
}

export class CSRSigningController {
  readonly queue = new WorkQueue<string>();

  constructor(private readonly d: CSRSigningDeps) {}

  csrChanged(csr: RCSR): void {
    if (csr.metadata?.name) this.queue.add(csr.metadata.name);
  }

  async sync(key: string, _signal?: AbortSignal, log: Logger = this.d.log): Promise<void> {
    const csr = this.d.csrs.get(key);
    if (!csr || csr.status?.certificate || !readyToSign(csr)) return;
    const check = checkFor(csr.spec?.signerName);
    if (!check) return;
    const requestPem = Buffer.from(csr.spec?.request ?? "", "base64").toString("utf8");
    let message: string | undefined;
    try {
      message = check(parseCertificateRequest(requestPem), csr.spec?.usages ?? []);
    } catch (err) {
      // The API server parses the request on create, so this is a broken store or codec; retry as upstream.
      throw new CSRSigningError("UnparsableRequest", `unable to parse csr "${key}": ${(err as Error).message}`, { cause: err });
    }
    const next = structuredClone(csr) as CertificateSigningRequest;
    const now = this.d.now?.() ?? Date.now();
    if (message !== undefined) {
      const failed: CertificateSigningRequestCondition = { type: "Failed", status: "True", reason: SIGNER_VALIDATION_FAILURE, message, lastUpdateTime: rfc3339(now) };
      next.status = { ...next.status, conditions: [...(next.status?.conditions ?? []), failed] };
      if (!(await this.write(next))) return;
      log.info({ csr: key, signer: csr.spec?.signerName, reason: message }, "refused a certificate signing request");
      return;
    }
    let certPem: string;
    try {
      const ttlMs = certificateTTL(csr.spec?.expirationSeconds, this.d.durationMs);
      certPem = await signCertificateRequest(this.d.ca, requestPem, { usages: csr.spec?.usages ?? [], ttlMs, backdateMs: BACKDATE_MS, shortMs: SHORT_MS, now });
    } catch (err) {
      throw new CSRSigningError("SigningFailed", `error auto signing csr: ${(err as Error).message}`, { cause: err });
    }
    next.status = { ...next.status, certificate: Buffer.from(certPem).toString("base64") };
    if (await this.write(next)) log.info({ csr: key, signer: csr.spec?.signerName }, "signed a certificate signing request");
  }

  /**
   * updateStatus; false when the request is gone (nothing left to do). A Conflict is thrown:
   * the retry reads the newer request from the cache, which may be signed or denied by then.
   */
  private async write(csr: CertificateSigningRequest): Promise<boolean> {
    try {
      await this.d.api.resource<CertificateSigningRequest>("certificates.k8s.io", "v1", "certificatesigningrequests").updateStatus(csr);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }
}
