// Protobuf wire-format reader. Kubernetes' generated.proto files are proto2 and use only
// varint (int32, int64, bool), length-delimited (string, bytes, messages, maps, packed
// repeats) and, in principle, fixed64 (double); no sint/zigzag, no enums, no groups. The
// reader still skips every wire type a conforming encoder may put in an unknown field, and
// bounds-checks every read so malformed input ends in a ProtobufDecodeError, never an
// exception of another kind or a loop that does not end.
import { ProtobufDecodeError } from "./errors.js";

export const WireType = {
  Varint: 0,
  Fixed64: 1,
  LengthDelimited: 2,
  StartGroup: 3,
  EndGroup: 4,
  Fixed32: 5,
} as const;

/** Field numbers are 29 bits wide. */
export const MAX_FIELD_NUMBER = 0x1fffffff;

/** Unknown groups nest; a body is tiny next to this, so hitting it means garbage. */
const MAX_GROUP_DEPTH = 100;

const TWO_32 = 4294967296;

export interface Tag {
  readonly field: number;
  readonly wire: number;
}

/**
 * Reads one message (or a slice of a larger buffer). Every read advances `pos` and never goes
 * past `end`. Byte results are views into the original buffer, not copies.
 */
export class WireReader {
  private readonly buf: Uint8Array;
  private dataView: DataView | undefined;
  pos: number;
  readonly end: number;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    if (start < 0 || end > buf.length || start > end) throw new ProtobufDecodeError("Truncated", "message bounds outside the buffer");
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /**
   * Reads a varint into its low and high 32-bit halves (as unsigned numbers). Up to 10 bytes; a
   * longer varint is rejected as upstream's generated code does ("integer overflow").
   */
  readVarintParts(): [lo: number, hi: number] {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtobufDecodeError("Truncated", "unexpected end of input inside a varint");
      const b = this.buf[this.pos++]!;
      const bits = b & 0x7f;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) {
        lo |= (bits & 0x0f) << 28;
        hi |= bits >>> 4;
      } else hi |= bits << (7 * i - 32);
      if (b < 0x80) return [lo >>> 0, hi >>> 0];
    }
    throw new ProtobufDecodeError("Malformed", "varint longer than 10 bytes (integer overflow)");
  }

  /** The full unsigned 64-bit value. */
  readUint64Big(): bigint {
    const [lo, hi] = this.readVarintParts();
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** Signed 64-bit value as a number; beyond ±2^53 it is rounded, exactly as JSON.parse rounds the same digits. */
  readInt64(): number {
    const [lo, hi] = this.readVarintParts();
    return (hi | 0) * TWO_32 + lo;
  }

  /** Signed 64-bit value, exact. */
  readInt64Big(): bigint {
    return BigInt.asIntN(64, this.readUint64Big());
  }

  /** int32 on the wire is a sign-extended varint; Go keeps the low 32 bits. */
  readInt32(): number {
    return this.readVarintParts()[0] | 0;
  }

  readUint32(): number {
    return this.readVarintParts()[0];
  }

  readBool(): boolean {
    const [lo, hi] = this.readVarintParts();
    return lo !== 0 || hi !== 0;
  }

  /** Made on first use: most messages have no fixed-width fields, and readers are made per message. */
  private get view(): DataView {
    return (this.dataView ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength));
  }

  readDouble(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  readFixed32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** A length-delimited payload (string, bytes, message, packed run) as a view. */
  readBytes(): Uint8Array {
    const [start, end] = this.readLengthDelimited();
    return this.buf.subarray(start, end);
  }

  /** A string field: UTF-8, with U+FFFD for invalid bytes as Go's JSON encoder writes them, a BOM kept. */
  readString(): string {
    const [start, end] = this.readLengthDelimited();
    return decodeUtf8(this.buf, start, end);
  }

  /** A length-delimited payload as [start, end) offsets into the buffer. */
  readLengthDelimited(): [start: number, end: number] {
    const [lo, hi] = this.readVarintParts();
    if (hi >= 0x80000000) throw new ProtobufDecodeError("Malformed", "negative length");
    const remaining = this.end - this.pos;
    if (hi !== 0 || lo > remaining) throw new ProtobufDecodeError("Truncated", `length ${hi !== 0 ? "over 4 GiB" : lo} exceeds the ${remaining} bytes left`);
    const start = this.pos;
    this.pos += lo;
    return [start, this.pos];
  }

  /** A sub-reader over the next length-delimited payload. */
  readMessage(): WireReader {
    const [start, end] = this.readLengthDelimited();
    return new WireReader(this.buf, start, end);
  }

  readTag(): Tag {
    const [lo, hi] = this.readVarintParts();
    const wire = lo & 7;
    const field = hi * 0x20000000 + (lo >>> 3);
    if (field === 0 || field > MAX_FIELD_NUMBER) throw new ProtobufDecodeError("Malformed", `illegal field number ${field}`);
    if (wire === WireType.EndGroup) throw new ProtobufDecodeError("Malformed", `end-group tag for field ${field} outside a group`);
    if (wire > 5) throw new ProtobufDecodeError("Malformed", `illegal wire type ${wire} for field ${field}`);
    return { field, wire };
  }

  /** Skips the value of a field just read by readTag (unknown fields are ignored, as upstream does). */
  skip(tag: Tag): void {
    if (tag.wire !== WireType.StartGroup) {
      this.skipValue(tag.wire);
      return;
    }
    // Groups are skipped without recursion: count nesting until the matching end tag.
    const open: number[] = [tag.field];
    while (open.length > 0) {
      const [lo, hi] = this.readVarintParts();
      const wire = lo & 7;
      const field = hi * 0x20000000 + (lo >>> 3);
      if (field === 0 || field > MAX_FIELD_NUMBER || wire > 5) throw new ProtobufDecodeError("Malformed", `illegal tag inside group ${open[open.length - 1]!}`);
      if (wire === WireType.EndGroup) {
        if (open.pop() !== field) throw new ProtobufDecodeError("Malformed", `end-group tag ${field} does not match its start`);
      } else if (wire === WireType.StartGroup) {
        if (open.length >= MAX_GROUP_DEPTH) throw new ProtobufDecodeError("TooDeep", "groups nested too deeply");
        open.push(field);
      } else this.skipValue(wire);
    }
  }

  private skipValue(wire: number): void {
    switch (wire) {
      case WireType.Varint:
        this.readVarintParts();
        return;
      case WireType.Fixed64:
        this.need(8);
        this.pos += 8;
        return;
      case WireType.LengthDelimited:
        this.readLengthDelimited();
        return;
      case WireType.Fixed32:
        this.need(4);
        this.pos += 4;
        return;
      default:
        throw new ProtobufDecodeError("Malformed", `cannot skip wire type ${wire}`);
    }
  }

  private need(n: number): void {
    if (this.end - this.pos < n) throw new ProtobufDecodeError("Truncated", `unexpected end of input: need ${n} bytes, ${this.end - this.pos} left`);
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/** TextDecoder costs a native call per string; most Kubernetes strings are short ASCII. */
export function decodeUtf8(buf: Uint8Array, start = 0, end = buf.length): string {
  if (end - start <= 64) {
    let s = "";
    for (let i = start; i < end; i++) {
      const b = buf[i]!;
      if (b >= 0x80) return utf8.decode(buf.subarray(start, end));
      s += String.fromCharCode(b);
    }
    return s;
  }
  return utf8.decode(buf.subarray(start, end));
}
