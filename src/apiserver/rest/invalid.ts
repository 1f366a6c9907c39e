// Field errors from validation → the 422 Status kubectl prints as
// `The Deployment "x" is invalid:` followed by one `field: message` line per cause.
import { FieldError, newInvalid } from "../../api/fielderrors.js";
import type { ResourceDefinition } from "../registry/types.js";
import { StatusError, type Status } from "../status.js";

export function invalidFromFieldErrors(def: Pick<ResourceDefinition, "group" | "kind">, name: string, errors: readonly unknown[]): StatusError {
  const fieldErrors = errors.map((e) => (e instanceof FieldError ? e : new FieldError("InternalError", "", null, String(e))));
  return new StatusError(newInvalid({ group: def.group, kind: def.kind }, name, fieldErrors).toStatus() as Status);
}
