// The admission plugins of CertificateSigningRequests (upstream plugin/pkg/admission/certificates):
//  - CertificateApproval: approving or denying a request (the /approval subresource) needs the
//    `approve` verb on the request's signer, as the resource `signers` of certificates.k8s.io
//    named `<signerName>` or `<domain>/*` — on top of RBAC's `update` on the subresource.
//  - CertificateSigning: setting or changing status.certificate (the /status subresource) needs
//    `sign` on the signer in the same way.
//  - CertificateSubjectRestriction: a request for the kubernetes.io/kube-apiserver-client
//    signer may not ask for the system:masters group. A certificate in that group is
//    cluster-admin that no RBAC binding grants and none can revoke; upstream refuses to let one
//    be requested through the API at all.
import * as x509 from "../../util/x509.js";
import type { Authorizer } from "../filters/authorization.js";
import { admissionForbidden, type AdmissionAttributes, type AdmissionPlugin } from "./types.js";

export const CERTIFICATE_APPROVAL_PLUGIN = "CertificateApproval";
export const CERTIFICATE_SIGNING_PLUGIN = "CertificateSigning";
export const CERTIFICATE_SUBJECT_RESTRICTION_PLUGIN = "CertificateSubjectRestriction";
const GROUP = "certificates.k8s.io";
const SIGNER = "kubernetes.io/kube-apiserver-client";

function organizations(pem: string): string[] {
  try {
    return new x509.Pkcs10CertificateRequest(pem).subjectName.getField("O");
  } catch {
    // Validation refuses a request that does not parse before this plugin runs.
    return [];
  }
}

export function certificateSubjectRestriction(): AdmissionPlugin {
  return {
    name: CERTIFICATE_SUBJECT_RESTRICTION_PLUGIN,
    validate(a) {
      if (a.operation !== "CREATE" || a.subresource !== "" || !isCSR(a)) return;
      const spec = (a.object as { spec?: { signerName?: unknown; request?: unknown } } | undefined)?.spec;
      if (spec?.signerName !== SIGNER || typeof spec.request !== "string") return;
      const pem = Buffer.from(spec.request, "base64").toString("utf8");
      if (organizations(pem).includes("system:masters")) throw admissionForbidden(a, `use of ${SIGNER} signer with system:masters group is not allowed`);
    },
  };
}

function isCSR(a: AdmissionAttributes): boolean {
  return a.resource.group === GROUP && a.resource.plural === "certificatesigningrequests";
}

interface CSRShape {
  spec?: { signerName?: unknown };
  status?: { certificate?: unknown };
}

/** Upstream's IsAuthorizedForSignerName: the verb on `signers` named the signer, else its `<domain>/*`. */
async function authorizedForSigner(authorizer: Authorizer, a: AdmissionAttributes, verb: string, signerName: string): Promise<boolean> {
  const attrs = (name: string) => ({ user: a.user, verb, isResourceRequest: true, namespace: "", apiGroup: GROUP, apiVersion: "*", resource: "signers", subresource: "", name, path: "" });
  if ((await authorizer.authorize(attrs(signerName))).allowed) return true;
  const slash = signerName.indexOf("/");
  return slash > 0 && (await authorizer.authorize(attrs(`${signerName.slice(0, slash)}/*`))).allowed;
}

/** `authorizer` is looked up per request: the server makes it after the admission chain. */
export function certificateApproval(authorizer: () => Authorizer): AdmissionPlugin {
  return {
    name: CERTIFICATE_APPROVAL_PLUGIN,
    async validate(a) {
      if (a.operation !== "UPDATE" || a.subresource !== "approval" || !isCSR(a)) return;
      const signer = (a.oldObject as CSRShape | undefined)?.spec?.signerName;
      if (typeof signer !== "string") return;
      if (!(await authorizedForSigner(authorizer(), a, "approve", signer))) throw admissionForbidden(a, `user not permitted to approve requests with signerName ${JSON.stringify(signer)}`);
    },
  };
}

export function certificateSigning(authorizer: () => Authorizer): AdmissionPlugin {
  return {
    name: CERTIFICATE_SIGNING_PLUGIN,
    async validate(a) {
      if (a.operation !== "UPDATE" || a.subresource !== "status" || !isCSR(a)) return;
      const old = a.oldObject as CSRShape | undefined;
      // Only a change of the certificate is signing; conditions alone are not.
      if ((a.object as CSRShape | undefined)?.status?.certificate === old?.status?.certificate) return;
      const signer = old?.spec?.signerName;
      if (typeof signer !== "string") return;
      if (!(await authorizedForSigner(authorizer(), a, "sign", signer))) throw admissionForbidden(a, `user not permitted to sign requests with signerName ${JSON.stringify(signer)}`);
    },
  };
}
