// The one error type of the DNS server; callers branch on `code`, never on the message.
import { CodedError } from "../util/errors.js";

export type DnsErrorCode = "InvalidOptions" | "ListenFailed" | "Stopped";

export class DnsError extends CodedError<DnsErrorCode> {
  override readonly name = "DnsError";
}
