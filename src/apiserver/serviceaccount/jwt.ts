// Bound ServiceAccount tokens as JWTs (upstream pkg/serviceaccount: Claims, the JWT token
// generator and authenticator): the signing key, the claims a TokenRequest puts in a token,
// and the checks that need nothing but the token itself (signature, issuer, audience, time).
// Whether the service account and the bound object still exist is the authenticator's part.
import { createHash, createPrivateKey, createPublicKey, randomUUID, type KeyObject } from "node:crypto";
import { SignJWT, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from "jose";
import { CodedError } from "../../util/errors.js";

const USERNAME_PREFIX = "system:serviceaccount:";

/** The `sub` of every ServiceAccount token, and the user name it authenticates as. */
export function serviceAccountUsername(namespace: string, name: string): string {
  return `${USERNAME_PREFIX}${namespace}:${name}`;
}

/** The service account a username names (system:serviceaccount:NS:NAME), or undefined (upstream's SplitUsername). */
export function splitServiceAccountUsername(username: string): { readonly namespace: string; readonly name: string } | undefined {
  if (!username.startsWith(USERNAME_PREFIX)) return undefined;
  const parts = username.slice(USERNAME_PREFIX.length).split(":");
  if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined;
  return { namespace: parts[0], name: parts[1] };
}

export type ServiceAccountTokenErrorCode = "UnsupportedKey" | "Malformed" | "InvalidSignature" | "Expired" | "NotYetValid" | "InvalidAudience" | "InvalidClaims" | "Invalidated";

export class ServiceAccountTokenError extends CodedError<ServiceAccountTokenErrorCode> {
  override readonly name = "ServiceAccountTokenError";
}

export interface SigningKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** JWS algorithm that fits the key: ES256/ES384/ES512 for EC keys, RS256 for RSA. */
  readonly alg: string;
  /** upstream's key id: unpadded base64url of the SHA-256 of the public key's DER (SPKI). */
  readonly kid: string;
}

const EC_ALGS: Readonly<Record<string, string>> = { prime256v1: "ES256", "P-256": "ES256", secp384r1: "ES384", "P-384": "ES384", secp521r1: "ES512", "P-521": "ES512" };

/** A PEM private key (PKCS#8, SEC1 or PKCS#1, as ensureClusterPKI or kubeadm write it) ready to sign. */
export function signingKeyFromPem(privateKeyPem: string): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(privateKeyPem);
  } catch (err) {
    throw new ServiceAccountTokenError("UnsupportedKey", `service account signing key: ${err instanceof Error ? err.message : String(err)}`);
  }
  const publicKey = createPublicKey(privateKey);
  let alg: string | undefined;
  if (privateKey.asymmetricKeyType === "rsa") alg = "RS256";
  else if (privateKey.asymmetricKeyType === "ec") alg = EC_ALGS[privateKey.asymmetricKeyDetails?.namedCurve ?? ""];
  if (!alg) throw new ServiceAccountTokenError("UnsupportedKey", `service account signing key: unsupported key type ${privateKey.asymmetricKeyType ?? "unknown"}`);
  const der = publicKey.export({ type: "spki", format: "der" });
  return { privateKey, publicKey, alg, kid: createHash("sha256").update(der).digest("base64url") };
}

export interface ObjectRef {
  readonly name: string;
  readonly uid: string;
}

/** The `kubernetes.io` private claim. */
export interface KubernetesClaims {
  readonly namespace: string;
  readonly serviceaccount: ObjectRef;
  readonly pod?: ObjectRef;
  readonly secret?: ObjectRef;
}

export interface TokenClaims {
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly issuedAt: Date;
  readonly expirationSeconds: number;
  readonly kubernetes: KubernetesClaims;
}

export interface IssuedToken {
  readonly token: string;
  readonly expiresAt: Date;
  readonly jti: string;
}

/** Signs a bound token: iss, sub, aud, iat, nbf, exp, jti and the `kubernetes.io` claim. */
export async function issueToken(key: SigningKey, c: TokenClaims): Promise<IssuedToken> {
  const iat = Math.floor(c.issuedAt.getTime() / 1000);
  const exp = iat + c.expirationSeconds;
  const jti = randomUUID();
  const k = c.kubernetes;
  const kubernetes = {
    namespace: k.namespace,
    ...(k.pod ? { pod: { name: k.pod.name, uid: k.pod.uid } } : {}),
    ...(k.secret ? { secret: { name: k.secret.name, uid: k.secret.uid } } : {}),
    serviceaccount: { name: k.serviceaccount.name, uid: k.serviceaccount.uid },
  };
  const token = await new SignJWT({ aud: [...c.audiences], "kubernetes.io": kubernetes })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT" })
    .setIssuer(c.issuer)
    .setSubject(serviceAccountUsername(k.namespace, k.serviceaccount.name))
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(exp)
    .setJti(jti)
    .sign(key.privateKey);
  return { token, expiresAt: new Date(exp * 1000), jti };
}

/** go-jose's DefaultLeeway, which upstream's validator uses for exp, nbf and iat. */
export const LEEWAY_SECONDS = 60;

export interface VerifyOptions {
  readonly issuer: string;
  /** The audiences this server accepts (--api-audiences); the token's must intersect them. */
  readonly audiences: readonly string[];
  /** Keys whose signatures are accepted (the signing key's public half first). */
  readonly keys: readonly KeyObject[];
  readonly now?: Date;
}

export interface VerifiedToken {
  readonly kubernetes: KubernetesClaims;
  readonly jti: string | undefined;
  /** The token's audiences that this server accepts. */
  readonly audiences: readonly string[];
}

/** Whether the token claims to come from `issuer`; other JWTs are another authenticator's business (no opinion). */
export function hasIssuer(token: string, issuer: string): boolean {
  if (token.split(".").length !== 3) return false;
  try {
    return decodeJwt(token).iss === issuer;
  } catch {
    return false;
  }
}

/**
 * Checks signature, issuer, time and audience, and the shape of the private claim. Throws a
 * ServiceAccountTokenError on any failure.
 */
export async function verifyToken(token: string, o: VerifyOptions): Promise<VerifiedToken> {
  let payload: JWTPayload | undefined;
  let lastError: unknown;
  let header: { alg?: string };
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw new ServiceAccountTokenError("Malformed", "token could not be parsed");
  }
  for (const key of o.keys) {
    try {
      // Leeway as upstream: exp, nbf and iat are judged with 60 s of tolerated clock skew.
      ({ payload } = await jwtVerify(token, key, { issuer: o.issuer, clockTolerance: LEEWAY_SECONDS, ...(o.now ? { currentDate: o.now } : {}), ...(header.alg ? { algorithms: [header.alg] } : {}) }));
      break;
    } catch (err) {
      lastError = err;
      // A bad signature may be another key's; every other failure is the token's own.
      if (!(err instanceof joseErrors.JWSSignatureVerificationFailed || err instanceof joseErrors.JOSEAlgNotAllowed || err instanceof joseErrors.JOSENotSupported || err instanceof TypeError)) break;
    }
  }
  if (!payload) throw translate(lastError);
  const auds = typeof payload.aud === "string" ? [payload.aud] : (payload.aud ?? []);
  const accepted = auds.filter((a) => o.audiences.includes(a));
  if (accepted.length === 0) throw new ServiceAccountTokenError("InvalidAudience", `token audiences ${JSON.stringify(auds)} is invalid for the target audiences ${JSON.stringify(o.audiences)}`);
  return { kubernetes: privateClaims(payload), jti: payload.jti, audiences: accepted };
}

function translate(err: unknown): ServiceAccountTokenError {
  if (err instanceof joseErrors.JWTExpired) return new ServiceAccountTokenError("Expired", "service account token has expired");
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === "nbf" || err.claim === "iat") return new ServiceAccountTokenError("NotYetValid", "service account token is not valid yet");
    return new ServiceAccountTokenError("InvalidClaims", `service account token claims could not be validated: ${err.message}`);
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed || err instanceof joseErrors.JOSEAlgNotAllowed || err instanceof joseErrors.JOSENotSupported || err instanceof TypeError) {
    return new ServiceAccountTokenError("InvalidSignature", "token could not be verified: invalid signature");
  }
  return new ServiceAccountTokenError("Malformed", "token could not be parsed");
}

function privateClaims(payload: JWTPayload): KubernetesClaims {
  const k = payload["kubernetes.io"] as Record<string, unknown> | undefined;
  const ref = (v: unknown): ObjectRef | undefined => {
    if (typeof v !== "object" || v === null) return undefined;
    const r = v as Record<string, unknown>;
    return typeof r["name"] === "string" && typeof r["uid"] === "string" ? { name: r["name"], uid: r["uid"] } : undefined;
  };
  const sa = ref(k?.["serviceaccount"]);
  if (!k || typeof k["namespace"] !== "string" || !sa) throw new ServiceAccountTokenError("InvalidClaims", "service account token claims could not be validated: missing kubernetes.io claims");
  const pod = ref(k["pod"]);
  const secret = ref(k["secret"]);
  if (payload.sub !== serviceAccountUsername(k["namespace"], sa.name)) throw new ServiceAccountTokenError("InvalidClaims", "service account token claims could not be validated: sub does not name the service account");
  return { namespace: k["namespace"], serviceaccount: sa, ...(pod ? { pod } : {}), ...(secret ? { secret } : {}) };
}
