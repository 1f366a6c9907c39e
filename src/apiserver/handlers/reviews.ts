// Self reviews: `kubectl auth can-i` (SelfSubjectAccessReview, SelfSubjectRulesReview) and
// `kubectl auth whoami` (SelfSubjectReview). They are created, answered and never stored.
import type { Authorizer } from "../filters/authorization.js";
import { readBody, sendJSON, type HttpContext } from "../http.js";
import { parseBody } from "../decode.js";
import { badRequest } from "../status.js";
import type { VirtualResource } from "./discovery.js";
import { rfc3339 } from "../../util/time.js";

export const reviewResources: readonly VirtualResource[] = [
  { group: "authentication.k8s.io", version: "v1", kind: "SelfSubjectReview", plural: "selfsubjectreviews", singular: "selfsubjectreview", namespaced: false, verbs: ["create"] },
  { group: "authorization.k8s.io", version: "v1", kind: "SelfSubjectAccessReview", plural: "selfsubjectaccessreviews", singular: "selfsubjectaccessreview", namespaced: false, verbs: ["create"] },
  { group: "authorization.k8s.io", version: "v1", kind: "SelfSubjectRulesReview", plural: "selfsubjectrulesreviews", singular: "selfsubjectrulesreview", namespaced: false, verbs: ["create"] },
];

interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

async function readReview(ctx: HttpContext, kind: string, apiVersion: string): Promise<Record<string, unknown>> {
  const { value } = parseBody(await readBody(ctx.req), ctx.req.headers["content-type"]);
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw badRequest(`the body of the request must be a ${kind} object`);
  const obj = value as Record<string, unknown>;
  if (obj["kind"] !== undefined && obj["kind"] !== kind) throw badRequest(`the kind in the data (${String(obj["kind"])}) does not match the expected kind (${kind})`);
  return { ...obj, kind, apiVersion };
}

/** Serves a review request if the path is one; false otherwise. */
export async function serveReview(ctx: HttpContext, authorizer: Authorizer): Promise<boolean> {
  const i = ctx.info;
  if (!i.isResourceRequest || i.verb !== "create" || i.name !== "" || i.namespace !== "") return false;
  const user = ctx.user!;
  if (i.apiGroup === "authentication.k8s.io" && i.apiVersion === "v1" && i.resource === "selfsubjectreviews") {
    const review = await readReview(ctx, "SelfSubjectReview", "authentication.k8s.io/v1");
    sendJSON(ctx, 201, {
      ...review,
      metadata: { creationTimestamp: rfc3339(new Date()) },
      status: { userInfo: { username: user.username, ...(user.uid ? { uid: user.uid } : {}), groups: user.groups, ...(user.extra ? { extra: user.extra } : {}) } },
    });
    return true;
  }
  if (i.apiGroup !== "authorization.k8s.io" || i.apiVersion !== "v1") return false;
  if (i.resource === "selfsubjectaccessreviews") {
    const review = await readReview(ctx, "SelfSubjectAccessReview", "authorization.k8s.io/v1");
    const spec = (review["spec"] ?? {}) as { resourceAttributes?: ResourceAttributes; nonResourceAttributes?: { path?: string; verb?: string } };
    if (!spec.resourceAttributes === !spec.nonResourceAttributes) {
      throw badRequest("SelfSubjectAccessReview spec must have exactly one of resourceAttributes or nonResourceAttributes");
    }
    const ra = spec.resourceAttributes;
    const decision = await authorizer.authorize(
      ra
        ? { user, verb: ra.verb ?? "", isResourceRequest: true, namespace: ra.namespace ?? "", apiGroup: ra.group ?? "", apiVersion: ra.version ?? "", resource: ra.resource ?? "", subresource: ra.subresource ?? "", name: ra.name ?? "", path: "" }
        : { user, verb: spec.nonResourceAttributes!.verb ?? "", isResourceRequest: false, namespace: "", apiGroup: "", apiVersion: "", resource: "", subresource: "", name: "", path: spec.nonResourceAttributes!.path ?? "" },
    );
    sendJSON(ctx, 201, { ...review, metadata: { creationTimestamp: null }, status: { allowed: decision.allowed, ...(decision.reason ? { reason: decision.reason } : {}) } });
    return true;
  }
  if (i.resource === "selfsubjectrulesreviews") {
    const review = await readReview(ctx, "SelfSubjectRulesReview", "authorization.k8s.io/v1");
    // Until RBAC enforces anything, an authenticated user may do everything.
    sendJSON(ctx, 201, {
      ...review,
      metadata: { creationTimestamp: null },
      status: { resourceRules: [{ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }], nonResourceRules: [{ verbs: ["*"], nonResourceURLs: ["*"] }], incomplete: false },
    });
    return true;
  }
  return false;
}
