// Client certificates: the TLS server requests one (requestCert) but, like Go's
// RequestClientCert, does not fail the handshake on it (rejectUnauthorized: false), so a bad
// certificate becomes a 401 Status instead of a dropped connection. Node has verified the chain
// against the server's `ca` option by then; we read its verdict and map the subject:
// CN → username, every O → a group.
import { X509Certificate } from "node:crypto";
import { TLSSocket, type DetailedPeerCertificate } from "node:tls";
import { AuthenticationError, authenticatedUser, type Authenticator, type UserInfo } from "./types.js";

const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

export interface X509AuthenticatorOptions {
  /**
   * PEM bundle of the CAs whose client certificates name users. When the TLS server trusts
   * more CAs than these (a front proxy's, say), certificates from the others are rejected here.
   * Without it, any chain the TLS server verified is accepted.
   */
  readonly clientCA?: string;
}

export function x509Authenticator(opts: X509AuthenticatorOptions = {}): Authenticator {
  const clientCAs = opts.clientCA === undefined ? undefined : splitBundle(opts.clientCA).map((pem) => new X509Certificate(pem));
  // A connection's client certificate cannot change, and kubectl sends many requests over one.
  const verdicts = new WeakMap<TLSSocket, UserInfo | AuthenticationError | undefined>();
  return {
    authenticate(req) {
      const socket = req.socket;
      if (!(socket instanceof TLSSocket)) return Promise.resolve(undefined);
      let verdict: UserInfo | AuthenticationError | undefined;
      if (verdicts.has(socket)) verdict = verdicts.get(socket);
      else verdicts.set(socket, (verdict = check(socket, clientCAs)));
      return verdict instanceof AuthenticationError ? Promise.reject(verdict) : Promise.resolve(verdict);
    },
  };
}

function check(socket: TLSSocket, clientCAs: readonly X509Certificate[] | undefined): UserInfo | AuthenticationError | undefined {
  const peer = socket.getPeerCertificate(true);
  if (!peer.raw) return undefined;
  const fail = (why: string): AuthenticationError => new AuthenticationError("InvalidCertificate", `verifying certificate SN=${peer.serialNumber} failed: ${why}`);
  if (!socket.authorized) {
    const err = socket.authorizationError;
    return fail(err instanceof Error ? err.message : String(err));
  }
  // OpenSSL's client purpose check already covers this; Go's KeyUsages check is explicit, so is ours.
  if (peer.ext_key_usage && !peer.ext_key_usage.includes(CLIENT_AUTH)) return fail("not valid for client authentication");
  if (clientCAs && !issuedByOneOf(peer, clientCAs)) return fail("not issued by a client CA");
  return userFromSubject(peer.subject);
}

/**
 * Some certificate of the chain is a client CA or was signed by one. On a resumed TLS session
 * Node may report only the leaf, so a signature check stands beside the fingerprint match.
 */
function issuedByOneOf(leaf: DetailedPeerCertificate, cas: readonly X509Certificate[]): boolean {
  const seen = new Set<DetailedPeerCertificate>();
  for (let c: DetailedPeerCertificate | undefined = leaf; c?.raw && !seen.has(c); c = c.issuerCertificate) {
    seen.add(c);
    if (cas.some((ca) => ca.fingerprint256 === c?.fingerprint256)) return true;
    const cert = new X509Certificate(c.raw);
    if (cas.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey))) return true;
  }
  return false;
}

/** As upstream: a certificate with no CN names nobody (no opinion); that is not an error. */
function userFromSubject(subject: Record<string, unknown> | undefined): UserInfo | undefined {
  const values = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : typeof v === "string" ? [v] : []);
  const username = values(subject?.["CN"])[0];
  if (!username) return undefined;
  return authenticatedUser({ username, groups: values(subject?.["O"]) });
}

function splitBundle(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
}
