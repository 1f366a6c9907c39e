// The controller-manager's factories for the certificates controllers: the CSR signer
// ("csrsigning-controller"), the kubelet client CSR approver ("csrapproving-controller") and the
// CSR cleaner ("certificatesigningrequest-cleaner-controller").
import { runController } from "../../client/controller.js";
import type { Controller, ControllerContext, ControllerFactory } from "../context.js";
import type { CertAndKey } from "../../util/pki.js";
import { CSR_SIGNING_CONTROLLER, CSRSigningController } from "./controller.js";
import { CSR_CLEANER_CONTROLLER, CSRCleaner } from "./cleaner.js";
import { approvalApi, CSR_APPROVING_CONTROLLER, CSRApprovingController } from "./approver.js";
import { DEFAULT_SIGNING_DURATION_MS } from "./signer.js";

export { CSR_SIGNING_CONTROLLER, CSRSigningController, CSRSigningError, SIGNER_VALIDATION_FAILURE, readyToSign } from "./controller.js";
export { CSR_CLEANER_CONTROLLER, CSRCleaner, cleanupDeadline } from "./cleaner.js";
export { AUTO_APPROVED, CSR_APPROVING_CONTROLLER, CSRApprovalError, CSRApprovingController, RECOGNIZERS, approvalApi, isNodeClientCert, isSelfNodeClientCert } from "./approver.js";
export { DEFAULT_SIGNING_DURATION_MS, SIGNED_HERE, certificateTTL } from "./signer.js";

/** Upstream starts each signer with 5 workers and has no flag for it. */
export const CSR_SIGNING_WORKERS = 5;
export const CSR_CLEANER_WORKERS = 1;
/** Upstream runs the approver with 5 workers too, with no flag for it. */
export const CSR_APPROVING_WORKERS = 5;

export interface CSRSigningOptions {
  /** --cluster-signing-cert-file / --cluster-signing-key-file contents; without a key nothing is signed. */
  readonly ca?: Partial<CertAndKey>;
  /** --cluster-signing-duration (default 8760h). */
  readonly durationMs?: number;
}

/**
 * The signer over the shared CSR informer. Without a CA key it logs that once and idles until
 * stopped, as a manager without signing files must still run its other controllers.
 */
export function csrSigningControllerFactory(o: CSRSigningOptions = {}): ControllerFactory {
  return (ctx: ControllerContext): Controller => {
    const log = ctx.log.child({ controller: CSR_SIGNING_CONTROLLER });
    const { certPem, keyPem } = o.ca ?? {};
    if (!certPem || !keyPem) {
      log.info("no cluster signing certificate and key given: certificate signing requests are not signed here");
      return {
        name: CSR_SIGNING_CONTROLLER,
        run: (signal) => new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener("abort", () => resolve(), { once: true }))),
      };
    }
    const csrs = ctx.informers.forKind("certificates.k8s.io/v1", "CertificateSigningRequest");
    const c = new CSRSigningController({ api: ctx.client, csrs: csrs.lister, ca: { certPem, keyPem }, durationMs: o.durationMs ?? DEFAULT_SIGNING_DURATION_MS, log });
    csrs.addEventHandler({ onAdd: (csr) => c.csrChanged(csr), onUpdate: (_old, csr) => c.csrChanged(csr) });
    return {
      name: CSR_SIGNING_CONTROLLER,
      async run(signal, workers) {
        if (!(await csrs.waitForSync(signal))) return;
        await runController({ name: CSR_SIGNING_CONTROLLER, queue: c.queue, workers, sync: (key, s, l) => c.sync(key, s, l), log: ctx.log, signal, metrics: ctx.metrics });
      },
    };
  };
}

export function csrCleanerController(ctx: ControllerContext): Controller {
  const csrs = ctx.informers.forKind("certificates.k8s.io/v1", "CertificateSigningRequest");
  const log = ctx.log.child({ controller: CSR_CLEANER_CONTROLLER });
  const c = new CSRCleaner({ api: ctx.client, csrs: csrs.lister, log });
  csrs.addEventHandler({ onAdd: (csr) => c.csrChanged(csr), onUpdate: (_old, csr) => c.csrChanged(csr) });
  return {
    name: CSR_CLEANER_CONTROLLER,
    async run(signal, workers) {
      if (!(await csrs.waitForSync(signal))) return;
      await runController({ name: CSR_CLEANER_CONTROLLER, queue: c.queue, workers, sync: (key, s, l) => c.sync(key, s, l), log: ctx.log, signal, metrics: ctx.metrics });
    },
  };
}

/** The approver over the shared CSR informer; it asks the API server's authorizer through SubjectAccessReviews. */
export function csrApprovingController(ctx: ControllerContext): Controller {
  const csrs = ctx.informers.forKind("certificates.k8s.io/v1", "CertificateSigningRequest");
  const log = ctx.log.child({ controller: CSR_APPROVING_CONTROLLER });
  const c = new CSRApprovingController({ api: approvalApi(ctx.client), csrs: csrs.lister, log });
  csrs.addEventHandler({ onAdd: (csr) => c.csrChanged(csr), onUpdate: (_old, csr) => c.csrChanged(csr) });
  return {
    name: CSR_APPROVING_CONTROLLER,
    async run(signal, workers) {
      if (!(await csrs.waitForSync(signal))) return;
      await runController({ name: CSR_APPROVING_CONTROLLER, queue: c.queue, workers, sync: (key, s, l) => c.sync(key, s, l), log: ctx.log, signal, metrics: ctx.metrics });
    },
  };
}
