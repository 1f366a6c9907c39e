// Reviews, created, answered and never stored: `kubectl auth can-i` (SelfSubjectAccessReview,
// SelfSubjectRulesReview), `kubectl auth whoami` (SelfSubjectReview), and what webhook
// authenticators, authorizers and proxies ask: who a bearer token is (TokenReview), whether
// another user may do something (SubjectAccessReview, LocalSubjectAccessReview).
import type { AuthorizationAttributes, Authorizer, Decision } from "../filters/authorization.js";
import type { TokenAuthenticator, TokenUser, UserInfo } from "../authn/types.js";
import { FieldPath, invalid, type FieldError } from "../../api/fielderrors.js";
import { invalidFromFieldErrors } from "../rest/invalid.js";
import { readBody, sendJSON, type HttpContext } from "../http.js";
import { checkKind, parseBody, parseFieldValidation, validateFields, type SchemaChecker } from "../decode.js";
import { badRequest } from "../status.js";
import { schemaTargetOf, type VirtualResource } from "./virtual.js";
import { rfc3339 } from "../../util/time.js";
import { aggregateMessage } from "../../util/errors.js";
import type { RuleResolver } from "../rbac/resolver.js";

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

/** Whether a decoded field holds its zero value (what Go's DeepEqual with an empty ObjectMeta ignores). */
const isZero = (v: unknown): boolean => v === undefined || v === null || v === "" || v === 0 || v === false || (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.values(v).every(isZero));

/** A review's spec; readReview checked its JSON types against the kind's schema. */
function specOf(review: Record<string, unknown>): ReviewSpec {
  return (review["spec"] ?? {}) as ReviewSpec;
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
async function serveSubjectAccessReview(ctx: HttpContext, review: Record<string, unknown>, authorizer: Authorizer, local: boolean): Promise<void> {
  const kind = local ? "LocalSubjectAccessReview" : "SubjectAccessReview";
  const namespace = ctx.info.namespace;
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
async function serveTokenReview(ctx: HttpContext, review: Record<string, unknown>, tokens: readonly TokenAuthenticator[]): Promise<void> {
  const spec = (review["spec"] ?? {}) as { readonly token?: string; readonly audiences?: readonly string[] };
  const token = spec.token ?? "";
  if (token === "") throw badRequest("token is required for TokenReview in authentication.k8s.io");
  const audiences = spec.audiences ?? [];
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
    : { user: {}, ...(errors.length > 0 ? { error: aggregateMessage(errors) } : {}) };
  sendJSON(ctx, 201, { ...review, metadata: { creationTimestamp: null }, status });
}

/**
 * SelfSubjectRulesReview (`kubectl auth can-i --list`): the rules the user holds in the spec's
 * namespace, as upstream's RBAC rule resolver lists them: a rule with resources is a resource
 * rule, one with URLs a non-resource rule. A binding whose role is missing is reported in
 * evaluationError; as upstream's RBAC authorizer, it does not make the list `incomplete` (only
 * authorizers that cannot enumerate their rules, such as webhooks, say that). Without a
 * resolver (RBAC off) every user may do everything.
 */
function serveSelfSubjectRulesReview(ctx: HttpContext, review: Record<string, unknown>, user: UserInfo, rules: RuleResolver | undefined): void {
  const answer = { apiVersion: review["apiVersion"], kind: review["kind"], metadata: { creationTimestamp: null } };
  if (!rules) {
    sendJSON(ctx, 201, {
      ...answer,
      spec: review["spec"] ?? {},
      status: { resourceRules: [{ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }], nonResourceRules: [{ verbs: ["*"], nonResourceURLs: ["*"] }], incomplete: false },
    });
    return;
  }
  const namespace = (review["spec"] as { namespace?: string } | undefined)?.namespace ?? "";
  if (namespace === "") throw badRequest("no namespace on request");
  const held = rules.rulesFor(user, namespace);
  const resourceRules: Record<string, unknown>[] = [];
  const nonResourceRules: Record<string, unknown>[] = [];
  const nonEmpty = (k: string, v: readonly string[] | undefined): Record<string, readonly string[]> => (v && v.length > 0 ? { [k]: v } : {});
  for (const r of held.rules) {
    if ((r.resources ?? []).length > 0) resourceRules.push({ verbs: r.verbs, ...nonEmpty("apiGroups", r.apiGroups), ...nonEmpty("resources", r.resources), ...nonEmpty("resourceNames", r.resourceNames) });
    if ((r.nonResourceURLs ?? []).length > 0) nonResourceRules.push({ verbs: r.verbs, ...nonEmpty("nonResourceURLs", r.nonResourceURLs) });
  }
  const evaluationError = aggregateMessage(held.errors);
  // upstream answers a fresh review: the spec is not echoed.
  sendJSON(ctx, 201, { ...answer, spec: {}, status: { resourceRules, nonResourceRules, incomplete: false, ...(evaluationError ? { evaluationError } : {}) } });
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

/**
 * The request's review, decoded as every object the API reads: its kind and apiVersion checked,
 * its JSON types checked against the kind's schema (a wrong one is a 400), unknown fields
 * following `fieldValidation`.
 */
async function readReview(ctx: HttpContext, resource: VirtualResource, check: SchemaChecker): Promise<Record<string, unknown>> {
  const { value, duplicates } = parseBody(await readBody(ctx.req), ctx.req.headers["content-type"]);
  const target = schemaTargetOf(resource);
  const obj = checkKind(value, { apiVersion: `${resource.group}/${resource.version}`, kind: resource.kind });
  validateFields(target, obj, parseFieldValidation(ctx.url.searchParams.get("fieldValidation")), check, ctx.warnings, duplicates);
  return obj as Record<string, unknown>;
}

export interface ReviewDeps {
  readonly authorizer: Authorizer;
  /** Who answers a TokenReview, asked in turn (static tokens, ServiceAccount tokens). */
  readonly tokens: readonly TokenAuthenticator[];
  /** The kinds' schemas, which reviews are decoded against. */
  readonly checkSchema: SchemaChecker;
  /** The rules each user holds (SelfSubjectRulesReview); without it every user may do everything. */
  readonly rules?: RuleResolver;
}

/** Serves a review request if the path is one; false otherwise. */
export async function serveReview(ctx: HttpContext, { authorizer, tokens, checkSchema, rules }: ReviewDeps): Promise<boolean> {
  const i = ctx.info;
  if (!i.isResourceRequest || i.verb !== "create" || i.name !== "") return false;
  const resource = reviewResources.find((r) => r.group === i.apiGroup && r.version === i.apiVersion && r.plural === i.resource);
  // Of the reviews only LocalSubjectAccessReview is namespaced.
  if (!resource || (i.namespace !== "") !== resource.namespaced) return false;
  const review = await readReview(ctx, resource, checkSchema);
  const user = ctx.user!;
  switch (resource.kind) {
    case "SelfSubjectReview":
      sendJSON(ctx, 201, {
        ...review,
        metadata: { creationTimestamp: rfc3339(new Date()) },
        status: { userInfo: { username: user.username, ...(user.uid ? { uid: user.uid } : {}), groups: user.groups, ...(user.extra ? { extra: user.extra } : {}) } },
      });
      return true;
    case "TokenReview":
      await serveTokenReview(ctx, review, tokens);
      return true;
    case "SelfSubjectAccessReview": {
      const spec = specOf(review);
      throwInvalid("SelfSubjectAccessReview", validateAttributes(spec));
      sendJSON(ctx, 201, { ...review, metadata: { creationTimestamp: null }, status: statusOf(await authorizer.authorize(attributesOf(spec, user))) });
      return true;
    }
    case "SubjectAccessReview":
    case "LocalSubjectAccessReview":
      await serveSubjectAccessReview(ctx, review, authorizer, resource.namespaced);
      return true;
    case "SelfSubjectRulesReview":
      serveSelfSubjectRulesReview(ctx, review, user, rules);
      return true;
    default:
      return false;
  }
}
