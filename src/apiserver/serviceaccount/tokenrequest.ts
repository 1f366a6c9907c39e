// POST /api/v1/namespaces/{ns}/serviceaccounts/{name}/token: the TokenRequest subresource
// (upstream pkg/registry/core/serviceaccount/storage/token.go). The request and the answer are
// authentication.k8s.io/v1 TokenRequests; nothing is stored.
import { FieldPath, invalid as invalidField, newInvalid, type FieldError } from "../../api/fielderrors.js";
import { checkKind, parseBody } from "../decode.js";
import { readBody, sendJSON, type HttpContext, type UserInfo } from "../http.js";
import type { KubeObject } from "../registry/types.js";
import * as status from "../status.js";
import { issueToken, type KubernetesClaims, type ObjectRef, type SigningKey } from "./jwt.js";
import type { ObjectLookup } from "./lookup.js";
import { rfc3339 } from "../../util/time.js";

export const TOKEN_REQUEST_API_VERSION = "authentication.k8s.io/v1";
/** SetDefaults_TokenRequestSpec. */
export const DEFAULT_EXPIRATION_SECONDS = 3600;
/** ValidateTokenRequest's bounds: 10 minutes to 2^32 seconds. */
export const MIN_EXPIRATION_SECONDS = 600;
export const MAX_EXPIRATION_SECONDS = 2 ** 32;

export interface TokenRequestDeps {
  readonly key: SigningKey;
  readonly issuer: string;
  /** Audiences of a request that names none (--api-audiences). */
  readonly audiences: readonly string[];
  /**
   * The objects a token is issued for and bound to. The server passes storeLookup, which
   * answers from the watch cache and goes to storage only for what the cache has not seen: a
   * just-created object is found, and one deleted moments ago may still get a token, which the
   * authenticator then refuses once its cache has caught up.
   */
  readonly serviceAccounts: ObjectLookup;
  readonly pods: ObjectLookup;
  readonly secrets: ObjectLookup;
  readonly now?: () => Date;
  /** Admission of the TokenRequest (a create of serviceaccounts/token): NodeRestriction holds a node to tokens for its own pods. */
  readonly admit?: (req: KubeObject, namespace: string, name: string, user: UserInfo) => Promise<void> | void;
}

interface BoundObjectRef {
  readonly kind: string;
  readonly apiVersion: string;
  readonly name: string;
  readonly uid: string;
}

interface TokenRequestSpec {
  readonly audiences: readonly string[];
  readonly expirationSeconds: number;
  readonly boundObjectRef: BoundObjectRef | null;
}

/** Serves the request when it is one for serviceaccounts/token; false when it is not. */
export async function serveTokenRequest(ctx: HttpContext, deps: TokenRequestDeps): Promise<boolean> {
  const info = ctx.info;
  if (!info.isResourceRequest || info.apiGroup !== "" || info.apiVersion !== "v1" || info.resource !== "serviceaccounts" || info.subresource !== "token") return false;
  if (info.verb !== "create" || info.namespace === "" || info.name === "") throw status.methodNotSupported({ group: "", resource: "serviceaccounts/token" }, info.verb);
  const raw = await readBody(ctx.req);
  const req = checkKind(parseBody(raw, ctx.req.headers["content-type"]).value, { apiVersion: TOKEN_REQUEST_API_VERSION, kind: "TokenRequest" });
  if (deps.admit && ctx.user) await deps.admit(req, info.namespace, info.name, ctx.user);
  const body = await createToken(req, info.namespace, info.name, deps);
  sendJSON(ctx, 201, body);
  return true;
}

/** The TokenRequest answered for `req` posted to the service account `namespace/name`. */
export async function createToken(req: KubeObject, namespace: string, name: string, deps: TokenRequestDeps): Promise<KubeObject> {
  const reqNamespace = req.metadata?.namespace;
  if (reqNamespace && reqNamespace !== namespace) throw status.badRequest("the namespace of the provided object does not match the namespace sent on the request");
  const spec = decodeSpec(req["spec"]);
  const sa = await deps.serviceAccounts.get(namespace, name);
  if (!sa) throw status.notFound({ group: "", resource: "serviceaccounts" }, name);
  const errs = validateSpec(spec);
  if (errs.length > 0) throw new status.StatusError(newInvalid({ group: "authentication.k8s.io", kind: "TokenRequest" }, "", errs).toStatus() as status.Status);

  const kubernetes: { -readonly [K in keyof KubernetesClaims]: KubernetesClaims[K] } = { namespace, serviceaccount: { name, uid: sa.metadata?.uid ?? "" } };
  const ref = spec.boundObjectRef;
  if (ref) {
    const bound = await boundObject(ref, namespace, name, deps);
    if (ref.kind === "Pod") kubernetes.pod = bound;
    else kubernetes.secret = bound;
  }
  const audiences = spec.audiences.length > 0 ? spec.audiences : deps.audiences;
  const now = (deps.now ?? (() => new Date()))();
  const issued = await issueToken(deps.key, { issuer: deps.issuer, audiences, issuedAt: now, expirationSeconds: spec.expirationSeconds, kubernetes });
  return {
    kind: "TokenRequest",
    apiVersion: TOKEN_REQUEST_API_VERSION,
    metadata: { name, namespace, creationTimestamp: rfc3339(now) },
    spec: { audiences: [...audiences], expirationSeconds: spec.expirationSeconds, boundObjectRef: ref },
    status: { token: issued.token, expirationTimestamp: rfc3339(issued.expiresAt) },
  };
}

async function boundObject(ref: BoundObjectRef, namespace: string, saName: string, deps: TokenRequestDeps): Promise<ObjectRef> {
  const [group, version] = ref.apiVersion.includes("/") ? ref.apiVersion.split("/", 2) : ["", ref.apiVersion];
  let obj: Readonly<KubeObject> | undefined;
  if (group === "" && ref.kind === "Pod") {
    obj = await get(deps.pods, namespace, ref.name, "pods");
    const podSA = (obj["spec"] as { serviceAccountName?: string } | undefined)?.serviceAccountName ?? "";
    if (podSA !== saName) throw status.badRequest(`cannot bind token for serviceaccount ${JSON.stringify(saName)} to pod running with different serviceaccount name.`);
  } else if (group === "" && ref.kind === "Secret") {
    obj = await get(deps.secrets, namespace, ref.name, "secrets");
  } else {
    // schema.GroupVersionKind.String(): "group/version, Kind=kind".
    throw status.badRequest(`cannot bind token to object of type ${group ?? ""}/${version ?? ""}, Kind=${ref.kind}`);
  }
  const uid = obj.metadata?.uid ?? "";
  if (ref.uid !== "" && ref.uid !== uid) {
    throw status.conflict({ group: "", resource: ref.kind }, ref.name, `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
  }
  return { name: ref.name, uid };
}

async function get(lookup: ObjectLookup, namespace: string, name: string, resource: string): Promise<Readonly<KubeObject>> {
  if (name === "") throw status.badRequest("resource name may not be empty");
  const obj = await lookup.get(namespace, name);
  if (!obj) throw status.notFound({ group: "", resource }, name);
  return obj;
}

/** Types as Go's decoder checks them (a wrong type is a 400), then upstream's defaults. */
function decodeSpec(raw: unknown): TokenRequestSpec {
  const bad = (field: string, want: string): never => {
    throw status.badRequest(`TokenRequest in version "v1" cannot be handled as a TokenRequest: json: cannot unmarshal into Go struct field TokenRequestSpec.spec.${field} of type ${want}`);
  };
  if (raw === undefined || raw === null) raw = {};
  if (typeof raw !== "object" || Array.isArray(raw)) bad("", "v1.TokenRequestSpec");
  const s = raw as Record<string, unknown>;
  let audiences: string[] = [];
  if (s["audiences"] !== undefined && s["audiences"] !== null) {
    if (!Array.isArray(s["audiences"]) || s["audiences"].some((a) => typeof a !== "string")) bad("audiences", "[]string");
    audiences = s["audiences"] as string[];
  }
  let expirationSeconds = DEFAULT_EXPIRATION_SECONDS;
  const exp = s["expirationSeconds"];
  if (exp !== undefined && exp !== null) {
    if (typeof exp !== "number" || !Number.isInteger(exp)) bad("expirationSeconds", "int64");
    expirationSeconds = exp as number;
  }
  let boundObjectRef: BoundObjectRef | null = null;
  const r = s["boundObjectRef"];
  if (r !== undefined && r !== null) {
    if (typeof r !== "object" || Array.isArray(r)) bad("boundObjectRef", "v1.BoundObjectReference");
    const o = r as Record<string, unknown>;
    const str = (k: string): string => {
      const v = o[k];
      if (v === undefined || v === null) return "";
      if (typeof v !== "string") bad(`boundObjectRef.${k}`, "string");
      return v as string;
    };
    boundObjectRef = { kind: str("kind"), apiVersion: str("apiVersion"), name: str("name"), uid: str("uid") };
  }
  return { audiences, expirationSeconds, boundObjectRef };
}

function validateSpec(spec: TokenRequestSpec): FieldError[] {
  const path = FieldPath.of("spec").child("expirationSeconds");
  const errs: FieldError[] = [];
  if (spec.expirationSeconds < MIN_EXPIRATION_SECONDS) errs.push(invalidField(path, spec.expirationSeconds, "may not specify a duration less than 10 minutes"));
  if (spec.expirationSeconds > MAX_EXPIRATION_SECONDS) errs.push(invalidField(path, spec.expirationSeconds, "may not specify a duration larger than 2^32 seconds"));
  return errs;
}
