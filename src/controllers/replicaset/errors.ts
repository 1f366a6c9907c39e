// Errors raised by the workload controllers themselves (the API's own failures stay
// ApiErrors). Each carries a stable code so that callers and tests never match messages.
export type WorkloadErrorCode =
  /** The owner may not adopt: its live copy is gone, replaced (other uid) or being deleted. */
  | "CannotAdopt"
  /** A template without labels: pods made from it could never be selected. */
  | "NoLabels"
  /** A selector that cannot be converted (an unknown operator, an invalid value). */
  | "InvalidSelector"
  /** A pod template hash collided with an existing ReplicaSet of different template. */
  | "HashCollision";

export class WorkloadError extends Error {
  override readonly name = "WorkloadError";
  constructor(
    readonly code: WorkloadErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isWorkloadError(err: unknown, code?: WorkloadErrorCode): err is WorkloadError {
  return err instanceof WorkloadError && (code === undefined || err.code === code);
}
