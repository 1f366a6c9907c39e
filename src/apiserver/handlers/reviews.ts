// Reviews, created, answered and never stored: `kubectl auth can-i` (SelfSubjectAccessReview,
// SelfSubjectRulesReview), `kubectl auth whoami` (SelfSubjectReview), and what webhook
// authenticators, authorizers and proxies ask: who a bearer token is (TokenReview), whether
// another user may do something (SubjectAccessReview, LocalSubjectAccessReview).
import type { AuthorizationAttributes, Authorizer, Decision } from "../filters/authorization.js";
import type { TokenAuthenticator, TokenUser, UserInfo } from "../authn/types.js";
import { FieldPath, invalid, type FieldError } from "../../api/fielderrors.js";
import { invalidFromFieldErrors } from "../rest/invalid.js";
import { readBody, sendJSON, type HttpContext } from "../http.js";
import { parseBody } from "../decode.js";
import { badRequest } from "../status.js";
import type { VirtualResource } from "./discovery.js";
import { rfc3339 } from "../../util/time.js";

export const reviewResources: readonly VirtualResource[] = [
  { group: "authentication.k8s.io", version: "v1", kind: "TokenReview", plural: "tokenreviews", singular: "tokenreview", namespaced: false, verbs: ["create"] },
  { group: "authentication.k8s.io", version: "v1", kind: "SelfSubjectReview", plural: "selfsubjectreviews", singular: "selfsubjectreview", namespaced: false, verbs: ["create"] },
  { group: "authorization.k8s.io", version: "v1", kind: "SelfSubjectAccessReview", plural: "selfsubjectaccessreviews", singular: "selfsubjectaccessreview", namespaced: false, verbs: ["create"] },
  { group: "authorization.k8s.io", version: "v1", kind: "SelfSubjectRulesReview", plural: "selfsubjectrulesreviews", singular: "selfsubjectrulesreview", namespaced: false, verbs: ["create"] },
  { group: "authorization.k8s.io", version: "v1", kind: "SubjectAccessReview", plural: "subjectaccessreviews", singular: "subjectaccessreview", namespaced: false, verbs: ["create"] },
  { group: "authorization.k8s.io", version: "v1", kind: "LocalSubjectAccessReview", plural: "localsubjectaccessreviews", singular: "localsubjectaccessreview", namespaced: true, verbs: ["create"] },
];

/** A review's spec: what to check (SubjectAccessReview's also for whom). */
interface ReviewSpec {
  readonly resourceAttributes?: ResourceAttributes;
  readonly nonResourceAttributes?: { readonly path?: string; readonly verb?: string };
  readonly user?: string;
  readonly uid?: string;
  readonly groups?: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

const SPEC = FieldPath.of("spec");

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");

/** A JSON type upstream's decoding into its Go types refuses: 400, worded as upstream's. */
function cannotHandle(kind: string, field: string, want: string): never {
  throw badRequest(`${kind} in version "v1" cannot be handled as a ${kind}: json: cannot unmarshal into Go struct field ${kind}.${field} of type ${want}`);
}

/** Whether a decoded field holds its zero value (what Go's DeepEqual with an empty ObjectMeta ignores). */
const isZero = (v: unknown): boolean => v === undefined || v === null || v === "" || v === 0 || v === false || (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.values(v).every(isZero));

/**
 * A review's spec, its JSON types checked as decoding into upstream's Go types checks them (a
 * wrong one is a 400 there too); absent and null parts are left out.
 */
function specOf(review: Record<string, unknown>): ReviewSpec {
  const kind = String(review["kind"]);
  const wrong = (field: string, want: string): never => cannotHandle(kind, field, want);
  const spec = review["spec"] ?? {};
  if (!isObject(spec)) return wrong("spec", "object");
  const out: { -readonly [K in keyof ReviewSpec]: ReviewSpec[K] } = {};
  const strings = (o: Record<string, unknown>, path: string, keys: readonly string[]): void => {
    for (const k of keys) if (o[k] !== undefined && o[k] !== null && typeof o[k] !== "string") wrong(`${path}.${k}`, "string");
  };
  strings(spec, "spec", ["user", "uid"]);
  if (typeof spec["user"] === "string") out.user = spec["user"];
  if (typeof spec["uid"] === "string") out.uid = spec["uid"];
  if (spec["groups"] !== undefined && spec["groups"] !== null) out.groups = isStrings(spec["groups"]) ? spec["groups"] : wrong("spec.groups", "[]string");
  const extra = spec["extra"];
  if (extra !== undefined && extra !== null) {
    if (!isObject(extra) || !Object.values(extra).every((v) => v === null || isStrings(v))) return wrong("spec.extra", "map[string][]string");
    out.extra = Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, (v as string[] | null) ?? []]));
  }
  for (const [key, fields] of [
    ["resourceAttributes", ["namespace", "verb", "group", "version", "resource", "subresource", "name"]],
    ["nonResourceAttributes", ["path", "verb"]],
  ] as const) {
    const attrs = spec[key];
    if (attrs === undefined || attrs === null) continue;
    if (!isObject(attrs)) return wrong(`spec.${key}`, "object");
    strings(attrs, `spec.${key}`, fields);
    out[key] = attrs;
  }
  return out;
}

/** upstream's Validate(Self)SubjectAccessReviewSpec: exactly one kind of attributes. */
function validateAttributes(spec: ReviewSpec): FieldError[] {
  if (spec.resourceAttributes && spec.nonResourceAttributes) return [invalid(SPEC.child("nonResourceAttributes"), spec.nonResourceAttributes, "cannot be specified in combination with resourceAttributes")];
  if (!spec.resourceAttributes && !spec.nonResourceAttributes) return [invalid(SPEC.child("resourceAttributes"), "null", "exactly one of nonResourceAttributes or resourceAttributes must be specified")];
  return [];
}

function throwInvalid(kind: string, errs: readonly FieldError[]): void {
  if (errs.length > 0) throw invalidFromFieldErrors({ group: "authorization.k8s.io", kind }, "", errs);
}

function attributesOf(spec: ReviewSpec, user: UserInfo): AuthorizationAttributes {
  const ra = spec.resourceAttributes;
  return ra
    ? { user, verb: ra.verb ?? "", isResourceRequest: true, namespace: ra.namespace ?? "", apiGroup: ra.group ?? "", apiVersion: ra.version ?? "", resource: ra.resource ?? "", subresource: ra.subresource ?? "", name: ra.name ?? "", path: "" }
    : { user, verb: spec.nonResourceAttributes?.verb ?? "", isResourceRequest: false, namespace: "", apiGroup: "", apiVersion: "", resource: "", subresource: "", name: "", path: spec.nonResourceAttributes?.path ?? "" };
}

function statusOf(decision: Decision): { allowed: boolean; reason?: string } {
  return { allowed: decision.allowed, ...(decision.reason ? { reason: decision.reason } : {}) };
}

/**
 * SubjectAccessReview (and LocalSubjectAccessReview, its namespaced form): may the user the
 * spec names do this? As upstream's: the metadata must be empty (but for the namespace of a
 * local one), a local review asks only about resources in its own namespace.
 */
async function serveSubjectAccessReview(ctx: HttpContext, authorizer: Authorizer, local: boolean): Promise<void> {
  const kind = local ? "LocalSubjectAccessReview" : "SubjectAccessReview";
  const namespace = ctx.info.namespace;
  const review = await readReview(ctx, kind, "authorization.k8s.io/v1");
  const spec = specOf(review);
  const errs = validateAttributes(spec);
  if (!spec.user && (spec.groups ?? []).length === 0) errs.push(invalid(SPEC.child("user"), spec.user ?? "", "at least one of user or group must be specified"));
  // What kubectl writes for an object made from YAML (`creationTimestamp: null`) is empty too.
  const { namespace: metaNamespace, managedFields: _managed, ...metadata } = (review["metadata"] ?? {}) as Record<string, unknown>;
  if (!isZero(metadata) || (!local && !isZero(metaNamespace))) errs.push(invalid(FieldPath.of("metadata"), review["metadata"], local ? "must be empty except for namespace" : "must be empty"));
  if (local && spec.nonResourceAttributes) errs.push(invalid(SPEC.child("nonResourceAttributes"), spec.nonResourceAttributes, "disallowed on this kind of request"));
  throwInvalid(kind, errs);
  if (local && (spec.resourceAttributes?.namespace ?? "") !== namespace) throw badRequest(`spec.resourceAttributes.namespace must match namespace: ${namespace}`);
  const user: UserInfo = { username: spec.user ?? "", ...(spec.uid ? { uid: spec.uid } : {}), groups: spec.groups ?? [], ...(spec.extra ? { extra: spec.extra } : {}) };
  const metaOut = local ? { namespace, creationTimestamp: null } : { creationTimestamp: null };
  sendJSON(ctx, 201, { ...review, metadata: metaOut, status: statusOf(await authorizer.authorize(attributesOf(spec, user))) });
}

/**
 * TokenReview: who a bearer token is, for the audiences the spec asks about (the server's own
 * when it names none), as upstream's: the first authenticator that knows the token answers;
 * a token nobody accepts gets `authenticated` unset and why in `status.error`.
 */
async function serveTokenReview(ctx: HttpContext, tokens: readonly TokenAuthenticator[]): Promise<void> {
  const review = await readReview(ctx, "TokenReview", "authentication.k8s.io/v1");
  const spec = review["spec"] ?? {};
  const wrong = (field: string, want: string): never => cannotHandle("TokenReview", field, want);
  if (!isObject(spec)) return wrong("spec", "object");
  if (spec["token"] !== undefined && spec["token"] !== null && typeof spec["token"] !== "string") return wrong("spec.token", "string");
  if (spec["audiences"] !== undefined && spec["audiences"] !== null && !isStrings(spec["audiences"])) return wrong("spec.audiences", "[]string");
  const token = typeof spec["token"] === "string" ? spec["token"] : "";
  if (token === "") throw badRequest("token is required for TokenReview in authentication.k8s.io");
  const audiences = isStrings(spec["audiences"]) ? spec["audiences"] : [];
  const errors: string[] = [];
  let found: TokenUser | undefined;
  for (const t of tokens) {
    try {
      found = await t.authenticateToken(token, audiences);
      if (found) break;
    } catch (err) {
      errors.push(err instanceof Error ? err.message : String(err));
    }
  }
  const status = found
    ? { authenticated: true, user: { username: found.user.username, ...(found.user.uid ? { uid: found.user.uid } : {}), groups: found.user.groups, ...(found.user.extra ? { extra: found.user.extra } : {}) }, audiences: found.audiences }
    : { user: {}, ...(errors.length > 0 ? { error: errors.length === 1 ? errors[0] : `[${errors.join(", ")}]` } : {}) };
  sendJSON(ctx, 201, { ...review, metadata: { creationTimestamp: null }, status });
}

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

export interface ReviewDeps {
  readonly authorizer: Authorizer;
  /** Who answers a TokenReview, asked in turn (static tokens, ServiceAccount tokens). */
  readonly tokens: readonly TokenAuthenticator[];
}

/** Serves a review request if the path is one; false otherwise. */
export async function serveReview(ctx: HttpContext, { authorizer, tokens }: ReviewDeps): Promise<boolean> {
  const i = ctx.info;
  if (!i.isResourceRequest || i.verb !== "create" || i.name !== "") return false;
  // Of the reviews only LocalSubjectAccessReview is namespaced.
  if ((i.namespace !== "") !== (i.resource === "localsubjectaccessreviews")) return false;
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
  if (i.apiGroup === "authentication.k8s.io" && i.apiVersion === "v1" && i.resource === "tokenreviews") {
    await serveTokenReview(ctx, tokens);
    return true;
  }
  if (i.apiGroup !== "authorization.k8s.io" || i.apiVersion !== "v1") return false;
  if (i.resource === "selfsubjectaccessreviews") {
    const review = await readReview(ctx, "SelfSubjectAccessReview", "authorization.k8s.io/v1");
    const spec = specOf(review);
    throwInvalid("SelfSubjectAccessReview", validateAttributes(spec));
    sendJSON(ctx, 201, { ...review, metadata: { creationTimestamp: null }, status: statusOf(await authorizer.authorize(attributesOf(spec, user))) });
    return true;
  }
  if (i.resource === "subjectaccessreviews" || i.resource === "localsubjectaccessreviews") {
    await serveSubjectAccessReview(ctx, authorizer, i.resource === "localsubjectaccessreviews");
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
