// Bootstrap tokens as bearer tokens (upstream's plugin/pkg/auth/authenticator/token/bootstrap):
// `<id>.<secret>` is looked up as the Secret kube-system/bootstrap-token-<id> and, when that
// Secret is a live, unexpired bootstrap token of the same secret marked
// usage-bootstrap-authentication, the caller is system:bootstrap:<id> in system:bootstrappers
// and the token's extra groups. A joining node uses it once, to ask for its client certificate.
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import {
  BOOTSTRAP_TOKEN_KEYS,
  BOOTSTRAP_TOKEN_NAMESPACE,
  BOOTSTRAP_TOKEN_SECRET_TYPE,
  BOOTSTRAP_TOKEN_USAGE_PREFIX,
  bootstrapTokenFromSecret,
  bootstrapTokenSecretName,
  bootstrapTokenUser,
  isExpired,
  parseBootstrapToken,
} from "../../api/bootstraptoken.js";
import type { KubeObject } from "../registry/types.js";
import { bearerToken } from "./token.js";
import { AuthenticationError, authenticatedUser, type Authenticator, type TokenAuthenticator, type UserInfo } from "./types.js";

/** kube-system's Secret of that name as the server knows it now (the watch cache), or undefined. */
export type BootstrapSecretLookup = (name: string) => Readonly<KubeObject> | undefined;

/**
 * The bootstrap token authenticator. A bearer token not shaped like a bootstrap token is none of
 * its business (no opinion); one shaped like it that does not check out is rejected, so that the
 * request answers 401 instead of going on as anonymous (upstream's bearer-token wrapper turns the
 * plugin's "not found" into "invalid bearer token" the same way). Like the static tokens, it is
 * audience-agnostic: good for the API server's own audiences (`apiAudiences`) only.
 */
export function bootstrapTokenAuthenticator(secret: BootstrapSecretLookup, now: () => Date = () => new Date(), apiAudiences: readonly string[] = []): Authenticator & TokenAuthenticator {
  const lookup = (token: string): UserInfo | undefined => {
    const parts = parseBootstrapToken(token);
    if (!parts) return undefined;
    const name = bootstrapTokenSecretName(parts.id);
    const reject = (why: string): never => {
      throw new AuthenticationError("InvalidToken", `Bootstrap secret ${BOOTSTRAP_TOKEN_NAMESPACE}/${name} matching bearer token ${why}`);
    };
    const obj = secret(name);
    if (!obj) throw new AuthenticationError("InvalidToken", `No secret of name ${name} to match bootstrap bearer token`);
    if (obj.metadata?.deletionTimestamp) reject("is deleted and awaiting removal");
    if (obj["type"] !== BOOTSTRAP_TOKEN_SECRET_TYPE || obj["data"] === undefined) reject(`has invalid type, expected ${BOOTSTRAP_TOKEN_SECRET_TYPE}.`);
    const parsed = bootstrapTokenFromSecret(obj as Parameters<typeof bootstrapTokenFromSecret>[0]);
    if ("invalid" in parsed) return reject(`is invalid: ${parsed.invalid}`);
    // Both are 16 characters of [a-z0-9] by now; the comparison takes the same time either way.
    if (!timingSafeEqual(Buffer.from(parsed.secret), Buffer.from(parts.secret))) reject(`has invalid value for key ${BOOTSTRAP_TOKEN_KEYS.secret}.`);
    if (parsed.id !== parts.id) reject(`has invalid value for key ${BOOTSTRAP_TOKEN_KEYS.id}.`);
    if (isExpired(parsed, now())) reject(`expired at ${parsed.expiration?.toISOString() ?? ""}.`);
    if (!parsed.usages.includes("authentication")) reject(`not marked ${BOOTSTRAP_TOKEN_USAGE_PREFIX}authentication=true.`);
    return authenticatedUser(bootstrapTokenUser(parsed));
  };
  return {
    async authenticate(req: IncomingMessage) {
      const token = bearerToken(req);
      return token === undefined ? undefined : lookup(token);
    },
    async authenticateToken(token, audiences) {
      const user = lookup(token);
      if (!user) return undefined;
      const good = audiences.length === 0 ? apiAudiences : audiences.filter((a) => apiAudiences.includes(a));
      if (good.length === 0 && audiences.length > 0) throw new AuthenticationError("InvalidToken", `token audiences ${JSON.stringify(apiAudiences)} is invalid for the target audiences ${JSON.stringify(audiences)}`);
      return { user, audiences: good };
    },
  };
}
