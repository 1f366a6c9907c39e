// The anonymous user. Put last in a union with failOnError, so that rejected credentials stay
// rejected and only requests with none become anonymous; the chain decides which paths allow it.
import { ANONYMOUS_USERNAME, UNAUTHENTICATED_GROUP, type Authenticator, type UserInfo } from "./types.js";

export const ANONYMOUS_USER: UserInfo = { username: ANONYMOUS_USERNAME, groups: [UNAUTHENTICATED_GROUP] };

export function anonymousAuthenticator(): Authenticator {
  return { authenticate: () => Promise.resolve(ANONYMOUS_USER) };
}
