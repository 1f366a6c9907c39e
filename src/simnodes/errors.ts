// Errors of the node simulator, with stable codes (STYLE.md 8).
export type SimNodesErrorCode = "InvalidOptions" | "NoAddressSpace" | "NotStarted";

export class SimNodesError extends Error {
  override readonly name = "SimNodesError";
  constructor(
    readonly code: SimNodesErrorCode,
    message: string,
  ) {
    super(message);
  }
}
