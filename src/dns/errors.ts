// The one error type of the DNS server; callers branch on `code`, never on the message.
export type DnsErrorCode = "InvalidOptions" | "ListenFailed" | "Stopped";

export class DnsError extends Error {
  override readonly name = "DnsError";
  constructor(
    readonly code: DnsErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
