// API errors as metav1.Status (the only error shape kubectl and client libraries read). Every
// failure a handler can meet becomes one of these; anything else is a bug reported as 500 by
// the recovery filter.
import { isStorageError } from "../storage/errors.js";

export interface StatusCause {
  readonly reason?: string;
  readonly message?: string;
  readonly field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, unknown>;
  status: "Success" | "Failure";
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** The resource a message names: "pods", or "deployments.apps" for a named group. */
export interface QualifiedResource {
  readonly group: string;
  readonly resource: string;
}

export function qualified(r: QualifiedResource): string {
  return r.group === "" ? r.resource : `${r.resource}.${r.group}`;
}

export class StatusError extends Error {
  override readonly name = "StatusError";
  constructor(readonly status: Status) {
    super(status.message ?? status.reason ?? `status ${status.code}`);
  }
  get code(): number {
    return this.status.code;
  }
}

function failure(code: number, reason: string, message: string, details?: StatusDetails): StatusError {
  return new StatusError({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, ...(details ? { details } : {}), code });
}

function detailsOf(r: QualifiedResource, name: string): StatusDetails {
  return { name, ...(r.group ? { group: r.group } : {}), kind: r.resource };
}

export const notFound = (r: QualifiedResource, name: string): StatusError => failure(404, "NotFound", `${qualified(r)} "${name}" not found`, detailsOf(r, name));
export const alreadyExists = (r: QualifiedResource, name: string): StatusError =>
  failure(409, "AlreadyExists", `${qualified(r)} "${name}" already exists`, detailsOf(r, name));
export const conflict = (r: QualifiedResource, name: string, why: string): StatusError =>
  failure(409, "Conflict", `Operation cannot be fulfilled on ${qualified(r)} "${name}": ${why}`, detailsOf(r, name));
export const modifiedConflict = (r: QualifiedResource, name: string): StatusError =>
  conflict(r, name, "the object has been modified; please apply your changes to the latest version and try again");
export const badRequest = (message: string): StatusError => failure(400, "BadRequest", message);
export const unauthorized = (message = "Unauthorized"): StatusError => failure(401, "Unauthorized", message);
export const forbidden = (message: string, r?: QualifiedResource, name?: string): StatusError =>
  failure(403, "Forbidden", message, r ? detailsOf(r, name ?? "") : undefined);
export const methodNotSupported = (r: QualifiedResource, verb: string): StatusError =>
  failure(405, "MethodNotAllowed", `${verb} is not supported on resources of kind "${qualified(r)}"`, { ...(r.group ? { group: r.group } : {}), kind: r.resource });
export const notAcceptable = (message: string): StatusError => failure(406, "NotAcceptable", message);
export const unsupportedMediaType = (contentType: string): StatusError =>
  failure(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/apply-patch+yaml, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got ${contentType || "none"})`);
export const requestEntityTooLarge = (message: string): StatusError => failure(413, "RequestEntityTooLarge", message);
export const expired = (message: string): StatusError => failure(410, "Expired", message);
export const gone = (message: string): StatusError => failure(410, "Gone", message);
export const tooManyRequests = (message: string, retryAfterSeconds: number): StatusError => failure(429, "TooManyRequests", message, { retryAfterSeconds });
export const internalError = (message: string): StatusError => failure(500, "InternalError", `Internal error occurred: ${message}`, { causes: [{ message }] });
export const serviceUnavailable = (message: string): StatusError => failure(503, "ServiceUnavailable", message);
export const timeout = (message: string): StatusError => failure(504, "Timeout", message);

/**
 * 422 Invalid, as upstream's NewInvalid: `Kind "name" is invalid: <err>` for one error,
 * `Kind "name" is invalid: [<err>, <err>]` for several, one cause per field error.
 */
export function invalid(group: string, kind: string, name: string, errors: readonly { readonly text: string; readonly cause: StatusCause }[]): StatusError {
  const texts = errors.map((e) => e.text);
  const joined = texts.length === 1 ? texts[0] : `[${texts.join(", ")}]`;
  const what = group ? `${kind}.${group}` : kind;
  return failure(422, "Invalid", `${what} "${name}" is invalid: ${joined}`, {
    name,
    ...(group ? { group } : {}),
    kind,
    causes: errors.map((e) => e.cause),
  });
}

/** Maps a storage failure to the Status the API answers with. */
export function fromStorageError(err: unknown, r: QualifiedResource, name: string): StatusError | undefined {
  if (!isStorageError(err)) return undefined;
  switch (err.code) {
    case "NotFound":
      return notFound(r, name);
    case "AlreadyExists":
      return alreadyExists(r, name);
    case "Conflict":
      return modifiedConflict(r, name);
    case "Compacted":
      return expired(`too old resource version: ${err.message}`);
    case "Expired":
      return expired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.");
    case "Invalid":
      return badRequest(err.message);
    case "Unavailable":
      return serviceUnavailable(err.message);
  }
}

export function successStatus(details?: StatusDetails, code = 200): Status {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", ...(details ? { details } : {}), code };
}

/** What a delete that removed the object answers (upstream's finalizeDelete): its name, group, uid, and the resource as `kind`; no code. */
export function deletedStatus(r: QualifiedResource, name: string, uid: string | undefined): Omit<Status, "code"> {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: { name, ...(r.group ? { group: r.group } : {}), kind: r.resource, ...(uid ? { uid } : {}) } };
}
