// Errors of the client library. A server's answer that is not a success becomes one ApiError
// carrying the metav1.Status it sent (or one synthesized from the HTTP code, as client-go does
// for bodies that are not a Status); failures on our side of the wire are ClientErrors with a
// stable code. Callers test them with the predicates below, never by matching messages.
import type { Status, StatusDetails } from "kubernetes-types/meta/v1.js";

export type { Status, StatusDetails };

/** The metav1.StatusReason values the predicates know; others may appear on the wire. */
export type StatusReason =
  | "Unauthorized"
  | "Forbidden"
  | "NotFound"
  | "AlreadyExists"
  | "Conflict"
  | "Gone"
  | "Invalid"
  | "ServerTimeout"
  | "Timeout"
  | "TooManyRequests"
  | "BadRequest"
  | "MethodNotAllowed"
  | "NotAcceptable"
  | "RequestEntityTooLarge"
  | "UnsupportedMediaType"
  | "InternalError"
  | "Expired"
  | "ServiceUnavailable";

const knownReasons = new Set<string>([
  "Unauthorized", "Forbidden", "NotFound", "AlreadyExists", "Conflict", "Gone", "Invalid", "ServerTimeout", "Timeout",
  "TooManyRequests", "BadRequest", "MethodNotAllowed", "NotAcceptable", "RequestEntityTooLarge", "UnsupportedMediaType",
  "InternalError", "Expired", "ServiceUnavailable",
]);

const reasonByCode: Readonly<Record<number, StatusReason>> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  406: "NotAcceptable",
  409: "Conflict",
  410: "Gone",
  413: "RequestEntityTooLarge",
  415: "UnsupportedMediaType",
  422: "Invalid",
  429: "TooManyRequests",
  500: "InternalError",
  503: "ServiceUnavailable",
  504: "Timeout",
};

/** A failure the API server reported (any non-2xx answer, or an ERROR watch event). */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: Readonly<Status>,
    /** From the Retry-After header or status.details.retryAfterSeconds. */
    readonly retryAfterSeconds?: number,
  ) {
    super(status.message || status.reason || `the server responded with status ${status.code ?? 0}`);
  }

  /** The HTTP code. */
  get code(): number {
    return this.status.code ?? 0;
  }

  /** The Status reason ("" when the server gave none). */
  get reason(): string {
    return this.status.reason ?? "";
  }

  get details(): Readonly<StatusDetails> | undefined {
    return this.status.details;
  }

  /** An ApiError for an answer whose body is not a metav1.Status (proxies, plain-text errors). */
  static fromResponse(code: number, body: string, retryAfterSeconds?: number): ApiError {
    const parsed = parseStatus(body);
    if (parsed) return new ApiError({ ...parsed, code: parsed.code || code }, retryAfterSeconds ?? parsed.details?.retryAfterSeconds);
    const reason = reasonByCode[code] ?? (code >= 500 ? "InternalError" : "");
    const text = body.trim();
    const message = text ? text.slice(0, 1024) : `the server responded with status ${code}`;
    return new ApiError({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, ...(reason ? { reason } : {}), code }, retryAfterSeconds);
  }
}

function parseStatus(body: string): Status | undefined {
  if (!body.startsWith("{")) return undefined;
  try {
    const v = JSON.parse(body) as unknown;
    if (typeof v === "object" && v !== null && (v as { kind?: unknown }).kind === "Status") return v as Status;
  } catch {}
  return undefined;
}

export type ClientErrorCode =
  /** A request needed a namespace and had none (namespaced resource, unscoped client). */
  | "NamespaceRequired"
  /** No resource is known for a group/version/kind or plural. */
  | "UnknownResource"
  /** A cache key that is not `name` or `namespace/name`. */
  | "InvalidKey"
  /** The server's answer could not be decoded. */
  | "Decode"
  /** The connection failed (refused, reset, TLS) before a complete answer arrived. */
  | "Transport"
  /** The request took longer than its timeout. */
  | "Timeout"
  /** Options that cannot work (e.g. a lease duration shorter than its renew deadline). */
  | "InvalidOptions";

export class ClientError extends Error {
  override readonly name = "ClientError";
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isClientError(err: unknown, code?: ClientErrorCode): err is ClientError {
  return err instanceof ClientError && (code === undefined || err.code === code);
}

/** client-go's rule: the reason decides; an unknown reason falls back to the HTTP code. */
function matches(err: unknown, reason: StatusReason, code: number): boolean {
  if (!(err instanceof ApiError)) return false;
  if (err.reason === reason) return true;
  return !knownReasons.has(err.reason) && err.code === code;
}

/** The Status carries a cause with this reason (e.g. NamespaceTerminating on a 403). */
export function hasStatusCause(err: unknown, reason: string): boolean {
  return err instanceof ApiError && ((err.details as { causes?: { reason?: string }[] } | undefined)?.causes ?? []).some((c) => c.reason === reason);
}

/** A create refused because its namespace is being deleted (403 with cause NamespaceTerminating). */
export const isNamespaceTerminating = (err: unknown): boolean => hasStatusCause(err, "NamespaceTerminating");

export const isNotFound = (err: unknown): boolean => matches(err, "NotFound", 404);
export const isAlreadyExists = (err: unknown): boolean => matches(err, "AlreadyExists", 409);
export const isConflict = (err: unknown): boolean => matches(err, "Conflict", 409);
export const isInvalid = (err: unknown): boolean => matches(err, "Invalid", 422);
export const isForbidden = (err: unknown): boolean => matches(err, "Forbidden", 403);
export const isUnauthorized = (err: unknown): boolean => matches(err, "Unauthorized", 401);
export const isBadRequest = (err: unknown): boolean => matches(err, "BadRequest", 400);
export const isMethodNotSupported = (err: unknown): boolean => matches(err, "MethodNotAllowed", 405);
export const isTooManyRequests = (err: unknown): boolean => matches(err, "TooManyRequests", 429);
export const isServiceUnavailable = (err: unknown): boolean => matches(err, "ServiceUnavailable", 503);
export const isInternalError = (err: unknown): boolean => matches(err, "InternalError", 500);
export const isTimeout = (err: unknown): boolean => matches(err, "Timeout", 504);
/** reason Gone (or an unreasoned 410): the requested history is no longer available. */
export const isGone = (err: unknown): boolean => matches(err, "Gone", 410);
/** reason Expired: a watch or continue token older than the server's history (upstream's IsResourceExpired). */
export const isExpired = (err: unknown): boolean => err instanceof ApiError && err.reason === "Expired";
/** Either flavour of 410: the caller must re-list. */
export const isGoneOrExpired = (err: unknown): boolean => isGone(err) || isExpired(err);
