// The CSR approving controller (upstream's csrapproving-controller, pkg/controller/certificates/
// approver): a kubelet's request for a client certificate (signer kubernetes.io/kube-apiserver-
// client-kubelet, subject system:node:<name> in system:nodes) is approved when whoever asked for
// it may: the requestor (spec.username, uid, groups, extra, as the API server recorded them) is
// asked about in a SubjectAccessReview for `create` on certificatesigningrequests/selfnodeclient
// (a node renewing its own certificate) or /nodeclient (a bootstrap token asking for a node's).
// That is how RBAC bindings decide who joins: kubeadm binds its token groups to nodeclient and
// system:nodes to selfnodeclient. The csrsigning-controller then signs the approved request.
// Requests not recognised, or whose requestor may not, are left for a person to approve.
import type { CertificateSigningRequest, CertificateSigningRequestCondition } from "kubernetes-types/certificates/v1.js";
import type { ResourceAttributes, SubjectAccessReview } from "kubernetes-types/authorization/v1.js";
import { isNotFound } from "../../client/errors.js";
import type { Lister } from "../../client/informer.js";
import type { DeepReadonly } from "../../client/objects.js";
import type { RestClient } from "../../client/rest.js";
import { WorkQueue } from "../../client/workqueue.js";
import { parseCertificateRequest, type CertificateRequestInfo } from "../../util/pki.js";
import type { Logger } from "../../util/log.js";
import { CodedError } from "../../util/errors.js";
import { checkKubeletClient, KUBE_APISERVER_CLIENT_KUBELET_SIGNER } from "./signer.js";

export const CSR_APPROVING_CONTROLLER = "csrapproving-controller";
/** The reason of the Approved condition this controller adds. */
export const AUTO_APPROVED = "AutoApproved";

type RCSR = DeepReadonly<CertificateSigningRequest>;

export type CSRApprovalErrorCode = "UnparsableRequest" | "NotApproved" | "ApprovalFailed";

/**
 * A sync to retry with backoff. NotApproved is upstream's "ignorable" error: the request stays
 * pending, and is looked at again in case the requestor is granted the permission meanwhile.
 */
export class CSRApprovalError extends CodedError<CSRApprovalErrorCode> {
  override readonly name = "CSRApprovalError";

  /** Upstream logs a request left pending at a debug level only, not as a failure. */
  get ignorable(): boolean {
    return this.code === "NotApproved";
  }
}

/** What the controller asks of the API: a SubjectAccessReview, and a write of the /approval subresource. */
export interface ApprovalApi {
  createSubjectAccessReview(review: SubjectAccessReview): Promise<SubjectAccessReview>;
  updateApproval(csr: CertificateSigningRequest): Promise<CertificateSigningRequest>;
}

export function approvalApi(client: RestClient): ApprovalApi {
  const reviews = client.resource<SubjectAccessReview>("authorization.k8s.io", "v1", "subjectaccessreviews", { namespaced: false, kind: "SubjectAccessReview" });
  const csrs = client.resource<CertificateSigningRequest>("certificates.k8s.io", "v1", "certificatesigningrequests", { namespaced: false, kind: "CertificateSigningRequest" });
  return {
    createSubjectAccessReview: (review) => reviews.create(review),
    updateApproval: (csr) => csrs.subresource<CertificateSigningRequest>("PUT", csr.metadata?.name ?? "", "approval", csr),
  };
}

/** A kind of request this controller approves: what it is, what the requestor must be allowed, what the condition says. */
export interface Recognizer {
  readonly recognize: (csr: RCSR, req: CertificateRequestInfo) => boolean;
  readonly permission: Readonly<ResourceAttributes> & { readonly subresource: string };
  readonly successMessage: string;
}

/** A kubelet's client certificate request: the kubelet signer, and a request its policy accepts (upstream's IsKubeletClientCSR). */
export function isNodeClientCert(csr: RCSR, req: CertificateRequestInfo): boolean {
  if (csr.spec?.signerName !== KUBE_APISERVER_CLIENT_KUBELET_SIGNER) return false;
  return checkKubeletClient(req, csr.spec.usages ?? []) === undefined;
}

/** A node client request made by the node it names (a certificate renewal). */
export function isSelfNodeClientCert(csr: RCSR, req: CertificateRequestInfo): boolean {
  if (csr.spec?.username !== req.commonName) return false;
  return isNodeClientCert(csr, req);
}

const permission = (subresource: string): Recognizer["permission"] => ({ group: "certificates.k8s.io", resource: "certificatesigningrequests", verb: "create", subresource });

/** Upstream's order: a self request is asked about as selfnodeclient first, then as nodeclient. */
export const RECOGNIZERS: readonly Recognizer[] = [
  { recognize: isSelfNodeClientCert, permission: permission("selfnodeclient"), successMessage: "Auto approving self kubelet client certificate after SubjectAccessReview." },
  { recognize: isNodeClientCert, permission: permission("nodeclient"), successMessage: "Auto approving kubelet client certificate after SubjectAccessReview." },
];

function hasCondition(csr: RCSR, type: string): boolean {
  return csr.status?.conditions?.some((c) => c.type === type) === true;
}

export interface CSRApprovingDeps {
  readonly api: ApprovalApi;
  readonly csrs: Lister<CertificateSigningRequest>;
  readonly log: Logger;
}

export class CSRApprovingController {
  readonly queue = new WorkQueue<string>();

  constructor(private readonly d: CSRApprovingDeps) {}

  csrChanged(csr: RCSR): void {
    if (csr.metadata?.name) this.queue.add(csr.metadata.name);
  }

  async sync(key: string, _signal?: AbortSignal, log: Logger = this.d.log): Promise<void> {
    const csr = this.d.csrs.get(key);
    // Issued, already decided (an Approved or Denied condition of any status), or refused by its signer.
    if (!csr || csr.status?.certificate || hasCondition(csr, "Approved") || hasCondition(csr, "Denied") || hasCondition(csr, "Failed")) return;
    // Cheap before parsing: only the kubelet client signer's requests are ever recognised.
    if (csr.spec?.signerName !== KUBE_APISERVER_CLIENT_KUBELET_SIGNER) return;
    let req: CertificateRequestInfo;
    try {
      req = parseCertificateRequest(Buffer.from(csr.spec.request ?? "", "base64").toString("utf8"));
    } catch (err) {
      throw new CSRApprovalError("UnparsableRequest", `unable to parse csr "${key}": ${(err as Error).message}`, { cause: err });
    }
    const tried: string[] = [];
    for (const r of RECOGNIZERS) {
      if (!r.recognize(csr, req)) continue;
      tried.push(r.permission.subresource);
      if (!(await this.authorize(csr, r.permission))) continue;
      const approved: CertificateSigningRequestCondition = { type: "Approved", status: "True", reason: AUTO_APPROVED, message: r.successMessage };
      const next = structuredClone(csr) as CertificateSigningRequest;
      next.status = { ...next.status, conditions: [...(next.status?.conditions ?? []), approved] };
      try {
        await this.d.api.updateApproval(next);
      } catch (err) {
        if (isNotFound(err)) return;
        throw new CSRApprovalError("ApprovalFailed", `error updating approval for csr: ${(err as Error).message}`, { cause: err });
      }
      log.info({ csr: key, username: csr.spec.username, as: r.permission.subresource }, "approved a certificate signing request");
      return;
    }
    if (tried.length > 0) throw new CSRApprovalError("NotApproved", `recognized csr "${key}" as [${tried.join(" ")}] but subject access review was not approved`);
  }

  /** Whether the requestor may `create` the subresource, as the API server's authorizer answers. */
  private async authorize(csr: RCSR, attrs: Recognizer["permission"]): Promise<boolean> {
    const s = csr.spec;
    const review: SubjectAccessReview = {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      metadata: {},
      spec: {
        ...(s?.username !== undefined ? { user: s.username } : {}),
        ...(s?.uid !== undefined ? { uid: s.uid } : {}),
        ...(s?.groups !== undefined ? { groups: [...s.groups] } : {}),
        ...(s?.extra !== undefined ? { extra: Object.fromEntries(Object.entries(s.extra).map(([k, v]) => [k, [...v]])) } : {}),
        resourceAttributes: { ...attrs },
      },
    };
    const answer = await this.d.api.createSubjectAccessReview(review);
    return answer.status?.allowed === true;
  }
}
