// The ServiceAccount token authenticator (upstream's JWT token authenticator with its bound
// token validator): a bearer JWT from our issuer, correctly signed, unexpired, for one of our
// audiences, whose service account — and bound pod or secret — still exist as the same
// objects. Tokens from other issuers get no opinion, so other authenticators may know them.
import type { KeyObject } from "node:crypto";
import { bearerToken } from "../authn/token.js";
import { AuthenticationError, authenticatedUser, type Authenticator, type TokenAuthenticator, type TokenUser } from "../authn/types.js";
import type { KubeObject } from "../registry/types.js";
import { hasIssuer, LEEWAY_SECONDS, ServiceAccountTokenError, serviceAccountUsername, verifyToken, type ObjectRef } from "./jwt.js";
import type { ObjectLookup } from "./lookup.js";

export const SERVICE_ACCOUNTS_GROUP = "system:serviceaccounts";
/** The user's extra keys upstream sets for a pod-bound token. */
export const EXTRA_POD_NAME = "authentication.kubernetes.io/pod-name";
export const EXTRA_POD_UID = "authentication.kubernetes.io/pod-uid";
export const EXTRA_CREDENTIAL_ID = "authentication.kubernetes.io/credential-id";

export interface ServiceAccountAuthenticatorOptions {
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly keys: readonly KeyObject[];
  readonly serviceAccounts: ObjectLookup;
  readonly pods: ObjectLookup;
  readonly secrets: ObjectLookup;
  readonly now?: () => Date;
  /** How long a good token is taken as good without a new check; default TOKEN_SUCCESS_CACHE_MS, 0: every time. */
  readonly successCacheMs?: number;
}

/**
 * How long a token found good is taken as good without checking it again (upstream's API server
 * caches token authentication for 10 s: --authentication-token-success-cache-ttl's default):
 * a controller or a pod sends the same token with every request, and each check is a signature
 * verification and two lookups.
 */
export const TOKEN_SUCCESS_CACHE_MS = 10_000;
const TOKEN_CACHE_SIZE = 4096;

/** A verified JWT's expiry in ms (its payload's `exp`). */
function expiresAt(token: string): number {
  const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as { exp?: unknown };
  return typeof payload.exp === "number" ? payload.exp * 1000 : 0;
}

export function serviceAccountTokenAuthenticator(o: ServiceAccountAuthenticatorOptions): Authenticator & TokenAuthenticator {
  const now = o.now ?? (() => new Date());
  // Successes only, keyed by audiences and token, oldest evicted first; failures are checked every time.
  const cacheMs = o.successCacheMs ?? TOKEN_SUCCESS_CACHE_MS;
  const good = new Map<string, { readonly user: TokenUser; readonly until: number }>();
  /** Asked about no audience in particular, a token must be good for the server's own. */
  const check = async (token: string, audiences: readonly string[]): Promise<TokenUser | undefined> => {
    if (!hasIssuer(token, o.issuer)) return undefined;
    const at = now();
    const key = `${audiences.join(",")}\u0000${token}`;
    const hit = cacheMs > 0 ? good.get(key) : undefined;
    if (hit && hit.until > at.getTime()) return hit.user;
    try {
      const user = await authenticateToken(token, audiences.length > 0 ? audiences : o.audiences, o, at);
      if (cacheMs > 0) {
        good.delete(key);
        if (good.size >= TOKEN_CACHE_SIZE) good.delete(good.keys().next().value!);
        // Never longer than the check itself would accept it (its expiry, with the clock-skew leeway).
        good.set(key, { user, until: Math.min(at.getTime() + cacheMs, expiresAt(token) + LEEWAY_SECONDS * 1000) });
      }
      return user;
    } catch (err) {
      if (err instanceof ServiceAccountTokenError) throw new AuthenticationError("InvalidToken", err.message);
      throw err;
    }
  };
  return {
    async authenticate(req) {
      const token = bearerToken(req);
      return token === undefined ? undefined : (await check(token, o.audiences))?.user;
    },
    authenticateToken: check,
  };
}

async function authenticateToken(token: string, audiences: readonly string[], o: ServiceAccountAuthenticatorOptions, at: Date): Promise<TokenUser> {
  const { kubernetes: k, jti, audiences: accepted } = await verifyToken(token, { issuer: o.issuer, audiences, keys: o.keys, now: at });
  const ns = k.namespace;
  // Objects deleted more than the leeway ago no longer vouch for the token (upstream).
  const deletedTooLongAgo = (obj: Readonly<KubeObject>): boolean => {
    const ts = obj.metadata?.deletionTimestamp;
    return ts !== undefined && ts !== null && Date.parse(ts) < at.getTime() - LEEWAY_SECONDS * 1000;
  };
  const sa = await o.serviceAccounts.get(ns, k.serviceaccount.name, k.serviceaccount.uid);
  if (!sa) throw new ServiceAccountTokenError("Invalidated", `serviceaccounts "${k.serviceaccount.name}" not found`);
  if (deletedTooLongAgo(sa)) throw new ServiceAccountTokenError("Invalidated", `service account ${ns}/${k.serviceaccount.name} has been deleted`);
  if (sa.metadata?.uid !== k.serviceaccount.uid) throw new ServiceAccountTokenError("Invalidated", `service account UID (${sa.metadata?.uid ?? ""}) does not match claim (${k.serviceaccount.uid})`);
  const bound = async (lookup: ObjectLookup, ref: ObjectRef, what: string): Promise<void> => {
    const obj = await lookup.get(ns, ref.name, ref.uid);
    if (!obj || deletedTooLongAgo(obj)) throw new ServiceAccountTokenError("Invalidated", "service account token has been invalidated");
    if (obj.metadata?.uid !== ref.uid) throw new ServiceAccountTokenError("Invalidated", `${what} UID (${obj.metadata?.uid ?? ""}) does not match service account ${what} ref claim (${ref.uid})`);
  };
  if (k.secret) await bound(o.secrets, k.secret, "secret");
  if (k.pod) await bound(o.pods, k.pod, "pod");
  const extra: Record<string, string[]> = {};
  if (k.pod) {
    extra[EXTRA_POD_NAME] = [k.pod.name];
    extra[EXTRA_POD_UID] = [k.pod.uid];
  }
  if (jti) extra[EXTRA_CREDENTIAL_ID] = [`JTI=${jti}`];
  const user = authenticatedUser({
    username: serviceAccountUsername(ns, k.serviceaccount.name),
    uid: k.serviceaccount.uid,
    groups: [SERVICE_ACCOUNTS_GROUP, `${SERVICE_ACCOUNTS_GROUP}:${ns}`],
    ...(Object.keys(extra).length > 0 ? { extra } : {}),
  });
  return { user, audiences: accepted };
}
