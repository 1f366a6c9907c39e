// Errors raised by the workload controllers themselves (the API's own failures stay
// ApiErrors). Each carries a stable code so that callers and tests never match messages.
import { CodedError } from "../../util/errors.js";

export type WorkloadErrorCode =
  /** The owner may not adopt: its live copy is gone, replaced (other uid) or being deleted. */
  | "CannotAdopt"
  /** A template without labels: pods made from it could never be selected. */
  | "NoLabels"
  /** A selector that cannot be converted (an unknown operator, an invalid value). */
  | "InvalidSelector"
  /** A pod template hash collided with an existing ReplicaSet of different template. */
  | "HashCollision";

export class WorkloadError extends CodedError<WorkloadErrorCode> {
  override readonly name = "WorkloadError";
}

export function isWorkloadError(err: unknown, code?: WorkloadErrorCode): err is WorkloadError {
  return err instanceof WorkloadError && (code === undefined || err.code === code);
}
