// One error type for every way a protobuf request body can fail to decode. The code is stable
// and chooses the HTTP status: a kind we have no field table for is 415 (the client may retry
// as JSON), a body that expands past its size allowance is 413, anything else is a malformed
// body, 400.

export type ProtobufDecodeErrorCode =
  /** The body is empty, or holds only the magic prefix (upstream: "empty data" / "empty body"). */
  | "Empty"
  /** The body does not start with the 4-byte `k8s\0` prefix. */
  | "BadMagic"
  /** A length or fixed-width value runs past the end of its message. */
  | "Truncated"
  /** Wire-level nonsense: bad tag, wrong wire type for a known field, varint over 64 bits, invalid value. */
  | "Malformed"
  /** The envelope names no kind or no apiVersion, and the caller gave no default. */
  | "MissingKind"
  /** The envelope names a kind our field tables do not cover. */
  | "UnknownKind"
  /** Objects nested inside objects beyond any depth a real client produces. */
  | "TooDeep"
  /** The body decodes to far more JSON values than its size allows (zero-valued structs amplify). */
  | "TooLarge";

export class ProtobufDecodeError extends Error {
  override readonly name = "ProtobufDecodeError";
  readonly code: ProtobufDecodeErrorCode;
  /** 415 for UnknownKind, 413 for TooLarge, 400 otherwise. */
  readonly httpStatus: 400 | 413 | 415;

  constructor(code: ProtobufDecodeErrorCode, message: string) {
    super(message);
    this.code = code;
    this.httpStatus = code === "UnknownKind" ? 415 : code === "TooLarge" ? 413 : 400;
  }
}
