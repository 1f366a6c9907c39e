// A minimal protobuf writer: the tests build request bodies field by field with it, from the
// field numbers upstream publishes, independently of our schema table.
import { WireType } from "./wire.js";
import { PROTOBUF_MAGIC } from "./envelope.js";

export class WireWriter {
  private chunks: number[] = [];

  /** Raw bytes, for hand-made malformed input. */
  raw(bytes: ArrayLike<number>): this {
    for (let i = 0; i < bytes.length; i++) this.chunks.push(bytes[i]! & 0xff);
    return this;
  }

  varint(v: number | bigint): this {
    let x = BigInt.asUintN(64, BigInt(v));
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x !== 0n) b |= 0x80;
      this.chunks.push(b);
    } while (x !== 0n);
    return this;
  }

  tag(field: number, wire: number): this {
    return this.varint(BigInt(field) * 8n + BigInt(wire));
  }

  /** int32, int64 and bool fields (negative numbers sign-extend to 10 bytes, as Go writes them). */
  int(field: number, v: number | bigint | boolean): this {
    return this.tag(field, WireType.Varint).varint(typeof v === "boolean" ? (v ? 1 : 0) : v);
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  bytes(field: number, b: ArrayLike<number>): this {
    return this.tag(field, WireType.LengthDelimited).varint(b.length).raw(b);
  }

  double(field: number, v: number): this {
    const dv = new DataView(new ArrayBuffer(8));
    dv.setFloat64(0, v, true);
    return this.tag(field, WireType.Fixed64).raw(new Uint8Array(dv.buffer));
  }

  /** A nested message built by `build`. */
  message(field: number, build: (w: WireWriter) => unknown): this {
    const inner = new WireWriter();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  /** One map<string, string> entry. */
  mapEntry(field: number, key: string, value: string): this {
    return this.message(field, (e) => e.string(1, key).string(2, value));
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

/** Wraps a typed message in the Kubernetes envelope: magic, then runtime.Unknown. */
export function encodeEnvelope(apiVersion: string, kind: string, raw: Uint8Array, extra: { contentEncoding?: string; contentType?: string } = {}): Uint8Array {
  const w = new WireWriter().raw(PROTOBUF_MAGIC);
  w.message(1, (tm) => tm.string(1, apiVersion).string(2, kind));
  w.bytes(2, raw);
  w.string(3, extra.contentEncoding ?? "");
  w.string(4, extra.contentType ?? "");
  return w.finish();
}
