// The errors of joining a cluster with a bootstrap token. Messages are kubeadm's and client-go's
// own texts, so what a user searches for finds upstream's answers.
import { CodedError } from "../../util/errors.js";

export type BootstrapErrorCode =
  /** A flag that cannot work (malformed token or CA hash, a missing flag). */
  | "BadOption"
  /** cluster-info could not be read or has no signature for the token before the deadline. */
  | "Discovery"
  /** cluster-info is there but cannot be trusted (bad signature, CA not pinned, malformed). */
  | "Untrusted"
  /** The node's CertificateSigningRequest was denied, failed, deleted or not issued in time. */
  | "Certificate"
  /** The caller's signal aborted the join. */
  | "Aborted";

export class BootstrapError extends CodedError<BootstrapErrorCode> {
  override readonly name = "BootstrapError";
}
