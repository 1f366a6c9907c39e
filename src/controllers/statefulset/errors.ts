// Errors the StatefulSet controller raises itself (the API's own failures stay ApiErrors),
// each with a stable code so callers and tests never match messages.
import { CodedError } from "../../util/errors.js";

export type StatefulSetErrorCode =
  /** A pod's claim exists but is being deleted: the pod must wait for it to go and be recreated. */
  | "ClaimTerminating"
  /** A pod's claim could not be created, so neither is the pod. */
  | "ClaimCreate";

export class StatefulSetError extends CodedError<StatefulSetErrorCode> {
  override readonly name = "StatefulSetError";
}

export function isStatefulSetError(err: unknown, code?: StatefulSetErrorCode): err is StatefulSetError {
  return err instanceof StatefulSetError && (code === undefined || err.code === code);
}
