// CertificateSubjectRestriction (upstream plugin/pkg/admission/certificates/subjectrestriction):
// a CertificateSigningRequest for the kubernetes.io/kube-apiserver-client signer may not ask for
// the system:masters group. A certificate in that group is cluster-admin that no RBAC binding
// grants and none can revoke; upstream refuses to let one be requested through the API at all.
import * as x509 from "../../util/x509.js";
import { admissionForbidden, type AdmissionPlugin } from "./types.js";

export const CERTIFICATE_SUBJECT_RESTRICTION_PLUGIN = "CertificateSubjectRestriction";
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
      if (a.operation !== "CREATE" || a.subresource !== "" || a.resource.group !== "certificates.k8s.io" || a.resource.plural !== "certificatesigningrequests") return;
      const spec = (a.object as { spec?: { signerName?: unknown; request?: unknown } } | undefined)?.spec;
      if (spec?.signerName !== SIGNER || typeof spec.request !== "string") return;
      const pem = Buffer.from(spec.request, "base64").toString("utf8");
      if (organizations(pem).includes("system:masters")) throw admissionForbidden(a, `use of ${SIGNER} signer with system:masters group is not allowed`);
    },
  };
}
