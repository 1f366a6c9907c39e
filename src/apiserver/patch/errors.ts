// The one error type of the patch machinery. Each code fixes the HTTP status and metav1 Status
// reason upstream answers with (apiserver pkg/endpoints/handlers/patch.go), so the REST handler
// maps errors without reading messages.

export type PatchErrorCode =
  /** The body is not a patch document of the declared type (400 BadRequest). */
  | "BadPatch"
  /** A JSON patch has more operations than upstream's limit (413). */
  | "TooManyOperations"
  /** A JSON patch operation failed to apply: missing path, failed `test` (422 Invalid). */
  | "JSONPatchFailed"
  /** Strategic merge patch directive in a malformed shape (400 BadRequest). */
  | "BadStrategicDirective"
  /** Strategic merge patch content upstream rejects as 422 (lists of lists). */
  | "InvalidStrategicPatch"
  /**
   * Strategic merge patch failures upstream passes through as plain errors, which become
   * 500 with an empty reason (kubectl: `Error from server: map: ... does not contain declared
   * merge key: name`).
   */
  | "StrategicPatchFailed"
  /** Server-side apply found fields owned by other managers (409 Conflict). */
  | "ApplyConflict"
  /** A server-side apply request that cannot be applied as given (400). */
  | "BadApply"
  /**
   * Server-side apply failures upstream reports as plain errors (500, empty reason): an applied
   * object that does not fit the schema, duplicate list keys, undecodable managedFields.
   */
  | "ApplyFailed"
  /** A schema document handed to the patchers is unusable: a programming error (500). */
  | "SchemaError";

export type StatusReason = "" | "BadRequest" | "Invalid" | "Conflict" | "RequestEntityTooLarge" | "InternalError";

export interface StatusCause {
  readonly type?: string;
  readonly message?: string;
  readonly field?: string;
}

/** metav1.Status as the API server writes it. */
export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Failure";
  message: string;
  reason?: Exclude<StatusReason, "">;
  details?: { causes?: StatusCause[] };
  code: number;
}

const wire: Record<PatchErrorCode, { readonly code: number; readonly reason: StatusReason }> = {
  BadPatch: { code: 400, reason: "BadRequest" },
  TooManyOperations: { code: 413, reason: "RequestEntityTooLarge" },
  JSONPatchFailed: { code: 422, reason: "Invalid" },
  BadStrategicDirective: { code: 400, reason: "BadRequest" },
  InvalidStrategicPatch: { code: 422, reason: "Invalid" },
  StrategicPatchFailed: { code: 500, reason: "" },
  ApplyConflict: { code: 409, reason: "Conflict" },
  BadApply: { code: 400, reason: "BadRequest" },
  ApplyFailed: { code: 500, reason: "" },
  SchemaError: { code: 500, reason: "InternalError" },
};

// Upstream answers 422 for these with NewGenericServerResponse, whose message is this fixed text
// (the detail only reaches the server log).
const genericInvalid = "the server rejected our request due to an error in our request";

export class PatchError extends Error {
  override readonly name = "PatchError";
  /** HTTP status code. */
  readonly httpCode: number;
  readonly reason: StatusReason;
  constructor(
    readonly code: PatchErrorCode,
    message: string,
    readonly extra: {
      /** What actually went wrong when `message` is upstream's fixed text; for logs. */
      readonly detail?: string;
      readonly causes?: readonly StatusCause[];
    } = {},
  ) {
    super(message);
    this.httpCode = wire[code].code;
    this.reason = wire[code].reason;
  }

  /** The metav1.Status body upstream sends for this error. */
  toStatus(): Status {
    const s: Status = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: this.message, code: this.httpCode };
    if (this.reason !== "") s.reason = this.reason;
    if (this.extra.causes !== undefined) s.details = { causes: this.extra.causes.map((c) => ({ ...c })) };
    else if (this.code === "JSONPatchFailed" || this.code === "InvalidStrategicPatch") s.details = {};
    return s;
  }
}

export function isPatchError(err: unknown, code?: PatchErrorCode): err is PatchError {
  return err instanceof PatchError && (code === undefined || err.code === code);
}

export const badPatch = (message: string): PatchError => new PatchError("BadPatch", message);
export const badDirective = (message: string): PatchError => new PatchError("BadStrategicDirective", message);
export const strategicFailed = (message: string): PatchError => new PatchError("StrategicPatchFailed", message);
export const invalidStrategic = (detail: string): PatchError => new PatchError("InvalidStrategicPatch", genericInvalid, { detail });
export const jsonPatchFailed = (detail: string): PatchError => new PatchError("JSONPatchFailed", genericInvalid, { detail });
