// Static bearer tokens from a CSV file, as upstream's --token-auth-file:
//   token,user,uid[,"group1,group2"]
// Read once at start. Meant for tests and scripts; ServiceAccount tokens are a separate authenticator.
import { readFile } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { AuthenticationError, authenticatedUser, type Authenticator, type TokenAuthenticator, type UserInfo } from "./types.js";

export type TokenFileErrorCode = "InvalidTokenFile";

export class TokenFileError extends Error {
  override readonly name = "TokenFileError";
  readonly code: TokenFileErrorCode = "InvalidTokenFile";
  constructor(message: string, readonly path: string) {
    super(message);
  }
}

/**
 * The bearer token of `Authorization: Bearer <token>`, or undefined when there is none. Other
 * schemes are someone else's business (no opinion), as upstream's bearertoken authenticator.
 */
export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization?.trim();
  if (!header) return undefined;
  const [scheme, token] = header.split(" ", 3);
  if (scheme?.toLowerCase() !== "bearer" || !token) return undefined;
  return token;
}

/**
 * Static tokens, good for the API server's own audiences (`apiAudiences`) and no other: asked
 * about other audiences (a TokenReview's), a token is good only for those among the server's, as
 * upstream's audience-agnostic token authenticators.
 */
export function staticTokenAuthenticator(tokens: ReadonlyMap<string, UserInfo>, apiAudiences: readonly string[] = []): Authenticator & TokenAuthenticator {
  const lookup = (token: string): UserInfo => {
    const user = tokens.get(token);
    // A bearer token that nobody knows is a rejected credential, not an anonymous request.
    if (!user) throw new AuthenticationError("InvalidToken", "invalid bearer token");
    return authenticatedUser(user);
  };
  return {
    async authenticate(req) {
      const token = bearerToken(req);
      return token === undefined ? undefined : lookup(token);
    },
    async authenticateToken(token, audiences) {
      const user = lookup(token);
      const good = audiences.length === 0 ? apiAudiences : audiences.filter((a) => apiAudiences.includes(a));
      if (good.length === 0 && audiences.length > 0) throw new AuthenticationError("InvalidToken", `token audiences ${JSON.stringify(apiAudiences)} is invalid for the target audiences ${JSON.stringify(audiences)}`);
      return { user, audiences: good };
    },
  };
}

export async function tokenFileAuthenticator(path: string, apiAudiences: readonly string[] = []): Promise<Authenticator & TokenAuthenticator> {
  return staticTokenAuthenticator(parseTokenFile(await readFile(path, "utf8"), path), apiAudiences);
}

/** Rows with an empty token are skipped; a later duplicate token replaces an earlier one. */
export function parseTokenFile(text: string, path = "token file"): Map<string, UserInfo> {
  const tokens = new Map<string, UserInfo>();
  for (const [i, record] of parseCsv(text, path).entries()) {
    const [token = "", username = "", uid = "", groups] = record;
    if (record.length < 3) {
      throw new TokenFileError(`token file '${path}' must have at least 3 columns (token, user name, user uid), found ${record.length} on record ${i + 1}`, path);
    }
    if (token === "") continue;
    tokens.set(token, { username, ...(uid ? { uid } : {}), groups: groups ? groups.split(",").filter((g) => g !== "") : [] });
  }
  return tokens;
}

/** RFC 4180 records: quoted fields may hold commas, newlines and doubled quotes; blank lines are skipped. */
function parseCsv(text: string, path: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  let wasQuoted = false;
  const endField = (): void => {
    record.push(field);
    field = "";
    wasQuoted = false;
  };
  const endRecord = (): void => {
    endField();
    if (!(record.length === 1 && record[0] === "")) records.push(record);
    record = [];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') {
        field += '"';
        i++;
      } else quoted = false;
    } else if (c === '"') {
      if (field !== "" || wasQuoted) throw new TokenFileError(`${path}: bare " in unquoted field on record ${records.length + 1}`, path);
      quoted = wasQuoted = true;
    } else if (c === ",") endField();
    else if (c === "\n") endRecord();
    else if (c === "\r" && text[i + 1] === "\n") continue;
    else if (wasQuoted) throw new TokenFileError(`${path}: extraneous text after a quoted field on record ${records.length + 1}`, path);
    else field += c;
  }
  if (quoted) throw new TokenFileError(`${path}: unterminated quoted field`, path);
  if (field !== "" || record.length > 0 || wasQuoted) endRecord();
  return records;
}
