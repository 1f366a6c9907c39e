// Bootstrap tokens (upstream's k8s.io/cluster-bootstrap, documented in "Authenticating with
// Bootstrap Tokens"): a token `<id>.<secret>` (6 and 16 characters of [a-z0-9]) lives in the
// Secret `kube-system/bootstrap-token-<id>` of type `bootstrap.kubernetes.io/token`. With the
// usage `authentication` the API server takes it as the user `system:bootstrap:<id>` in
// `system:bootstrappers` (and the token's extra groups); with `signing` the bootstrap signer signs
// the `kube-public/cluster-info` ConfigMap with it (a detached JWS, HS256 keyed by the token's
// secret), so a joining node that knows the token can trust the CA it finds there.
import { createHash, createHmac, randomInt, timingSafeEqual, X509Certificate } from "node:crypto";

export const BOOTSTRAP_TOKEN_SECRET_TYPE = "bootstrap.kubernetes.io/token";
export const BOOTSTRAP_TOKEN_SECRET_PREFIX = "bootstrap-token-";
export const BOOTSTRAP_TOKEN_NAMESPACE = "kube-system";

/** The keys of a bootstrap token Secret's data. */
export const BOOTSTRAP_TOKEN_KEYS = {
  id: "token-id",
  secret: "token-secret",
  expiration: "expiration",
  description: "description",
  extraGroups: "auth-extra-groups",
} as const;
/** `usage-bootstrap-<usage>: "true"` */
export const BOOTSTRAP_TOKEN_USAGE_PREFIX = "usage-bootstrap-";
export const BOOTSTRAP_TOKEN_USAGES = ["authentication", "signing"] as const;
export type BootstrapTokenUsage = (typeof BOOTSTRAP_TOKEN_USAGES)[number];

export const BOOTSTRAP_USER_PREFIX = "system:bootstrap:";
export const BOOTSTRAPPERS_GROUP = "system:bootstrappers";
/** The group k8ts's join tokens add (kubeadm's is system:bootstrappers:kubeadm:default-node-token); the node-joining bindings name it. */
export const DEFAULT_NODE_TOKEN_GROUP = "system:bootstrappers:k8ts:default-node-token";
/** Extra groups must match this (upstream's BootstrapGroupPattern). */
export const BOOTSTRAP_GROUP_PATTERN = /^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/;

export const CLUSTER_INFO_NAMESPACE = "kube-public";
export const CLUSTER_INFO_NAME = "cluster-info";
/** cluster-info's key holding a kubeconfig with the cluster's server and CA (no credentials). */
export const CLUSTER_INFO_KUBECONFIG_KEY = "kubeconfig";
/** cluster-info's key prefix of each signing token's signature: `jws-kubeconfig-<id>`. */
export const CLUSTER_INFO_JWS_PREFIX = "jws-kubeconfig-";

const ID_RE = /^[a-z0-9]{6}$/;
const TOKEN_RE = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;

export interface TokenParts {
  readonly id: string;
  readonly secret: string;
}

/** `<id>.<secret>` → its parts, or undefined when the text is not a bootstrap token. */
export function parseBootstrapToken(token: string): TokenParts | undefined {
  const m = TOKEN_RE.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

export function isValidTokenId(id: string): boolean {
  return ID_RE.test(id);
}

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
const randomChars = (n: number): string => Array.from({ length: n }, () => ALPHABET[randomInt(ALPHABET.length)]).join("");

/** A new random token. */
export function generateBootstrapToken(): TokenParts & { readonly token: string } {
  const id = randomChars(6);
  const secret = randomChars(16);
  return { id, secret, token: `${id}.${secret}` };
}

export const bootstrapTokenSecretName = (id: string): string => BOOTSTRAP_TOKEN_SECRET_PREFIX + id;

/** A token Secret's data as given to `stringData` (or decoded from `data`). */
export type BootstrapTokenData = Readonly<Record<string, string>>;

/** What a bootstrap token Secret says, once checked. */
export interface BootstrapToken extends TokenParts {
  /** undefined: it never expires. */
  readonly expiration?: Date;
  readonly description?: string;
  readonly usages: readonly BootstrapTokenUsage[];
  readonly extraGroups: readonly string[];
}

/** The Secret's data decoded (`data` is base64, `stringData` is not normally stored but is accepted). */
export function bootstrapTokenData(secret: { readonly data?: Readonly<Record<string, string>>; readonly stringData?: Readonly<Record<string, string>> }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(secret.data ?? {})) out[k] = Buffer.from(v, "base64").toString("utf8");
  for (const [k, v] of Object.entries(secret.stringData ?? {})) out[k] = v;
  return out;
}

/**
 * A bootstrap token Secret → the token, or a reason it is not a usable one (wrong type or name,
 * missing or malformed id/secret, a bad expiration or extra group). Expiry is not judged here:
 * see `isExpired`.
 */
export function bootstrapTokenFromSecret(secret: {
  readonly type?: string;
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  readonly data?: Readonly<Record<string, string>>;
  readonly stringData?: Readonly<Record<string, string>>;
}): BootstrapToken | { readonly invalid: string } {
  if (secret.type !== BOOTSTRAP_TOKEN_SECRET_TYPE) return { invalid: `type is ${JSON.stringify(secret.type ?? "")}, want ${BOOTSTRAP_TOKEN_SECRET_TYPE}` };
  const data = bootstrapTokenData(secret);
  const id = data[BOOTSTRAP_TOKEN_KEYS.id] ?? "";
  const tokenSecret = data[BOOTSTRAP_TOKEN_KEYS.secret] ?? "";
  if (!isValidTokenId(id)) return { invalid: `${BOOTSTRAP_TOKEN_KEYS.id} ${JSON.stringify(id)} is not [a-z0-9]{6}` };
  if (!/^[a-z0-9]{16}$/.test(tokenSecret)) return { invalid: `${BOOTSTRAP_TOKEN_KEYS.secret} is not [a-z0-9]{16}` };
  if (secret.metadata?.name !== bootstrapTokenSecretName(id)) return { invalid: `the Secret's name must be ${bootstrapTokenSecretName(id)}` };
  let expiration: Date | undefined;
  const exp = data[BOOTSTRAP_TOKEN_KEYS.expiration];
  if (exp !== undefined && exp !== "") {
    expiration = new Date(exp);
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(exp) || Number.isNaN(expiration.getTime())) return { invalid: `${BOOTSTRAP_TOKEN_KEYS.expiration} ${JSON.stringify(exp)} is not an RFC 3339 time` };
  }
  // As upstream: each comma-separated piece must match the pattern as it is (no spaces, no empties).
  const groupsText = data[BOOTSTRAP_TOKEN_KEYS.extraGroups] ?? "";
  const extraGroups = groupsText === "" ? [] : groupsText.split(",");
  for (const g of extraGroups) if (!BOOTSTRAP_GROUP_PATTERN.test(g)) return { invalid: `${BOOTSTRAP_TOKEN_KEYS.extraGroups}: ${JSON.stringify(g)} does not match ${BOOTSTRAP_GROUP_PATTERN.source}` };
  const usages = BOOTSTRAP_TOKEN_USAGES.filter((u) => data[BOOTSTRAP_TOKEN_USAGE_PREFIX + u] === "true");
  const description = data[BOOTSTRAP_TOKEN_KEYS.description];
  return { id, secret: tokenSecret, ...(expiration ? { expiration } : {}), ...(description ? { description } : {}), usages, extraGroups };
}

export const isExpired = (token: BootstrapToken, now: Date): boolean => token.expiration !== undefined && token.expiration.getTime() <= now.getTime();

/** The user a token authenticates as (without system:authenticated, which the chain adds). */
export function bootstrapTokenUser(token: BootstrapToken): { readonly username: string; readonly groups: readonly string[] } {
  // Upstream's GetGroups: deduplicated and sorted.
  return { username: BOOTSTRAP_USER_PREFIX + token.id, groups: [...new Set([BOOTSTRAPPERS_GROUP, ...token.extraGroups])].sort() };
}

/** The data of a new token's Secret, for `stringData`. */
export function bootstrapTokenSecretData(t: TokenParts & { readonly expiration?: Date; readonly description?: string; readonly usages: readonly BootstrapTokenUsage[]; readonly extraGroups: readonly string[] }): Record<string, string> {
  return {
    [BOOTSTRAP_TOKEN_KEYS.id]: t.id,
    [BOOTSTRAP_TOKEN_KEYS.secret]: t.secret,
    ...(t.description ? { [BOOTSTRAP_TOKEN_KEYS.description]: t.description } : {}),
    ...(t.expiration ? { [BOOTSTRAP_TOKEN_KEYS.expiration]: t.expiration.toISOString().replace(/\.\d{3}Z$/, "Z") } : {}),
    ...Object.fromEntries(t.usages.map((u) => [BOOTSTRAP_TOKEN_USAGE_PREFIX + u, "true"])),
    ...(t.extraGroups.length ? { [BOOTSTRAP_TOKEN_KEYS.extraGroups]: t.extraGroups.join(",") } : {}),
  };
}

// ---- the detached JWS of cluster-info ---------------------------------------------------------

const b64url = (b: Buffer | string): string => Buffer.from(b).toString("base64url");

/**
 * The detached JWS (`<protected header>..<signature>`, RFC 7515 appendix F) of `content`, HS256
 * keyed by the token's secret, with the token's id as `kid`: what the bootstrap signer writes as
 * `jws-kubeconfig-<id>`.
 */
export function signDetached(content: string, token: TokenParts): string {
  const header = b64url(JSON.stringify({ alg: "HS256", kid: token.id }));
  const signature = createHmac("sha256", token.secret).update(`${header}.${b64url(content)}`).digest("base64url");
  return `${header}..${signature}`;
}

/** Whether `jws` is a detached HS256 signature of `content` by this token (header alg and kid must be HS256 and the token's id, as upstream signs them). */
export function verifyDetached(content: string, jws: string, token: TokenParts): boolean {
  const parts = jws.split(".");
  if (parts.length !== 3 || parts[1] !== "") return false;
  const [header, , signature] = parts as [string, string, string];
  let h: { alg?: unknown; kid?: unknown };
  try {
    h = JSON.parse(Buffer.from(header, "base64url").toString("utf8")) as { alg?: unknown; kid?: unknown };
  } catch {
    return false;
  }
  if (h.alg !== "HS256" || h.kid !== token.id) return false;
  const want = createHmac("sha256", token.secret).update(`${header}.${b64url(content)}`).digest();
  const got = Buffer.from(signature, "base64url");
  return got.length === want.length && timingSafeEqual(got, want);
}

/**
 * kubeadm's `--discovery-token-ca-cert-hash`: `sha256:<hex>` of the CA certificate's
 * SubjectPublicKeyInfo (DER), which a joining node compares with the CA cluster-info offers.
 */
export function caCertHash(caPem: string): string {
  const spki = new X509Certificate(caPem).publicKey.export({ type: "spki", format: "der" });
  return `sha256:${createHash("sha256").update(spki).digest("hex")}`;
}
