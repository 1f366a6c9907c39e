// The authentication stage's contract. An authenticator looks at one kind of credential; the
// chain asks them in turn (union) and the first that recognises the caller decides.
import type { IncomingMessage } from "node:http";

export interface UserInfo {
  readonly username: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

export interface Authenticator {
  /**
   * undefined: the request carries no credential this authenticator understands (no opinion).
   * Throws (preferably an AuthenticationError): the credential is there and is not valid → 401.
   */
  authenticate(req: IncomingMessage): Promise<UserInfo | undefined>;
}

/** Who a bearer token is, for the audiences it was checked against. */
export interface TokenUser {
  readonly user: UserInfo;
  /** The audiences the token is good for, of those asked about. */
  readonly audiences: readonly string[];
}

/**
 * A bearer token's authenticator asked directly with a token and the audiences it must be good
 * for (TokenReview), rather than through a request. Same contract as Authenticator: undefined
 * is no opinion, a throw rejects the token.
 */
export interface TokenAuthenticator {
  authenticateToken(token: string, audiences: readonly string[]): Promise<TokenUser | undefined>;
}

export type AuthenticationErrorCode = "InvalidCertificate" | "InvalidToken" | "Rejected";

export class AuthenticationError extends Error {
  override readonly name = "AuthenticationError";
  constructor(
    readonly code: AuthenticationErrorCode,
    message: string,
    /** On "Rejected" from a union: what each authenticator said. */
    readonly causes: readonly unknown[] = [],
  ) {
    super(message);
  }
}

export const AUTHENTICATED_GROUP = "system:authenticated";
export const UNAUTHENTICATED_GROUP = "system:unauthenticated";
export const ANONYMOUS_USERNAME = "system:anonymous";

/** Every authenticated user is in system:authenticated, which RBAC's default bindings name. */
export function authenticatedUser(user: UserInfo): UserInfo {
  return user.groups.includes(AUTHENTICATED_GROUP) ? user : { ...user, groups: [...user.groups, AUTHENTICATED_GROUP] };
}

export interface UnionOptions {
  /** Stop at the first authenticator that rejects, instead of asking the rest. */
  readonly failOnError?: boolean;
}

/**
 * Asks each authenticator in order; the first user found wins. As upstream's union: by default
 * a rejection does not stop the others (a token one authenticator does not know may be another's),
 * and only when nobody recognised the caller are the rejections raised.
 */
export function union(authenticators: readonly Authenticator[], opts: UnionOptions = {}): Authenticator {
  return {
    async authenticate(req) {
      const errors: unknown[] = [];
      for (const a of authenticators) {
        try {
          const user = await a.authenticate(req);
          if (user) return user;
        } catch (err) {
          if (opts.failOnError) throw err;
          errors.push(err);
        }
      }
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) {
        const message = errors.map((e) => (e instanceof Error ? e.message : String(e))).join("; ");
        throw new AuthenticationError("Rejected", `[${message}]`, errors);
      }
      return undefined;
    },
  };
}
