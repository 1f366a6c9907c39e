// The CSR cleaner (upstream's csrcleaner, pkg/controller/certificates/cleaner): requests pile
// up as kubelets renew, so they are deleted once done with — Approved and issued, Denied or
// Failed for over an hour (from the condition's lastUpdateTime), Pending (no conditions) for
// over a day from creation, or issued with a certificate that has expired. Upstream lists every
// request hourly; here each request is synced when it changes and again when its deadline
// comes (at most an hour later, so a far deadline never overflows a timer). Keys are CSR names.
import type { CertificateSigningRequest } from "kubernetes-types/certificates/v1.js";
import { isNotFound } from "../../client/errors.js";
import type { Lister } from "../../client/informer.js";
import type { DeepReadonly } from "../../client/objects.js";
import { WorkQueue } from "../../client/workqueue.js";
import { certificateFromPem } from "../../util/pki.js";
import type { Logger } from "../../util/log.js";
import { timeOf } from "../../util/time.js";
import type { Api } from "../api.js";

export const CSR_CLEANER_CONTROLLER = "certificatesigningrequest-cleaner-controller";

const HOUR = 3600_000;
export const APPROVED_EXPIRATION_MS = HOUR;
export const DENIED_EXPIRATION_MS = HOUR;
export const PENDING_EXPIRATION_MS = 24 * HOUR;
/** Upstream's polling interval: the longest wait before a request is looked at again. */
const RECHECK_MS = HOUR;

type RCSR = DeepReadonly<CertificateSigningRequest>;

/** When the certificate in status stops being valid, or undefined (none, or not a certificate). */
function certificateNotAfter(csr: RCSR): number | undefined {
  if (!csr.status?.certificate) return undefined;
  try {
    return certificateFromPem(Buffer.from(csr.status.certificate, "base64").toString("utf8")).notAfter.getTime();
  } catch {
    return undefined;
  }
}

/**
 * The instant after which the request is deleted, or undefined when no rule will ever apply
 * (e.g. approved but never issued). Upstream's rules: a deadline counts only from a time that
 * is set, and is passed strictly after it.
 */
export function cleanupDeadline(csr: RCSR): number | undefined {
  const deadlines: number[] = [];
  const conditions = csr.status?.conditions ?? [];
  const issued = Boolean(csr.status?.certificate);
  for (const c of conditions) {
    const at = timeOf(c.lastUpdateTime);
    if (at === undefined) continue;
    if (c.type === "Approved" && issued) deadlines.push(at + APPROVED_EXPIRATION_MS);
    if (c.type === "Denied" || c.type === "Failed") deadlines.push(at + DENIED_EXPIRATION_MS);
  }
  if (conditions.length === 0) {
    const created = timeOf(csr.metadata?.creationTimestamp);
    if (created !== undefined) deadlines.push(created + PENDING_EXPIRATION_MS);
  }
  if (issued && conditions.some((c) => c.type === "Approved")) {
    const notAfter = certificateNotAfter(csr);
    if (notAfter !== undefined) deadlines.push(notAfter);
  }
  return deadlines.length > 0 ? Math.min(...deadlines) : undefined;
}

export interface CSRCleanerDeps {
  readonly api: Api;
  readonly csrs: Lister<CertificateSigningRequest>;
  readonly log: Logger;
  readonly now?: () => number;
}

export class CSRCleaner {
  readonly queue = new WorkQueue<string>();

  constructor(private readonly d: CSRCleanerDeps) {}

  csrChanged(csr: RCSR): void {
    if (csr.metadata?.name) this.queue.add(csr.metadata.name);
  }

  async sync(key: string, _signal?: AbortSignal, log: Logger = this.d.log): Promise<void> {
    const csr = this.d.csrs.get(key);
    if (!csr) return;
    const deadline = cleanupDeadline(csr);
    if (deadline === undefined) return;
    const now = this.d.now?.() ?? Date.now();
    if (now <= deadline) {
      this.queue.addAfter(key, Math.min(deadline - now + 1, RECHECK_MS));
      return;
    }
    // The UID precondition: a request deleted and made again under the name is a new one.
    const uid = csr.metadata?.uid;
    try {
      await this.d.api.resource<CertificateSigningRequest>("certificates.k8s.io", "v1", "certificatesigningrequests").delete(key, uid ? { preconditions: { uid } } : {});
      log.info({ csr: key }, "deleted an old certificate signing request");
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
