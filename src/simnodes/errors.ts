// Errors of the node simulator, with stable codes (STYLE.md 8).
import { CodedError } from "../util/errors.js";

export type SimNodesErrorCode = "InvalidOptions" | "NoAddressSpace" | "NotStarted";

export class SimNodesError extends CodedError<SimNodesErrorCode> {
  override readonly name = "SimNodesError";
}
