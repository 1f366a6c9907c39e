// The envelope every Kubernetes protobuf body travels in: the 4 bytes `k8s\0`, then a
// runtime.Unknown whose typeMeta names the object's apiVersion and kind and whose raw bytes
// are the typed message. Upstream's decoder ignores contentEncoding and contentType, and so
// do we (we only report them).
import { ProtobufDecodeError } from "./errors.js";
import { WireReader, WireType, type Tag } from "./wire.js";

export const PROTOBUF_MAGIC: Uint8Array = Uint8Array.of(0x6b, 0x38, 0x73, 0x00);

export interface Envelope {
  readonly apiVersion: string;
  readonly kind: string;
  /** The typed message (a view into the body). */
  readonly raw: Uint8Array;
  readonly contentEncoding: string;
  readonly contentType: string;
}

export function hasProtobufMagic(body: Uint8Array): boolean {
  return body.length >= PROTOBUF_MAGIC.length && PROTOBUF_MAGIC.every((b, i) => body[i] === b);
}

/** Reads the envelope; the typed message inside is not looked at. */
export function decodeEnvelope(body: Uint8Array): Envelope {
  if (body.length === 0) throw new ProtobufDecodeError("Empty", "empty data");
  if (!hasProtobufMagic(body)) {
    throw new ProtobufDecodeError("BadMagic", "provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]");
  }
  if (body.length === PROTOBUF_MAGIC.length) throw new ProtobufDecodeError("Empty", "empty body");
  const r = new WireReader(body, PROTOBUF_MAGIC.length);
  let apiVersion = "";
  let kind = "";
  let raw: Uint8Array = new Uint8Array(0);
  let contentEncoding = "";
  let contentType = "";
  while (!r.done) {
    const tag = r.readTag();
    switch (tag.field) {
      case 1: {
        expectBytes(tag, "typeMeta");
        const tm = r.readMessage();
        while (!tm.done) {
          const t = tm.readTag();
          if (t.field === 1) {
            expectBytes(t, "typeMeta.apiVersion");
            apiVersion = tm.readString();
          } else if (t.field === 2) {
            expectBytes(t, "typeMeta.kind");
            kind = tm.readString();
          } else tm.skip(t);
        }
        break;
      }
      case 2:
        expectBytes(tag, "raw");
        raw = r.readBytes();
        break;
      case 3:
        expectBytes(tag, "contentEncoding");
        contentEncoding = r.readString();
        break;
      case 4:
        expectBytes(tag, "contentType");
        contentType = r.readString();
        break;
      default:
        r.skip(tag);
    }
  }
  return { apiVersion, kind, raw, contentEncoding, contentType };
}

function expectBytes(tag: Tag, name: string): void {
  if (tag.wire !== WireType.LengthDelimited) throw new ProtobufDecodeError("Malformed", `wrong wire type ${tag.wire} for field Unknown.${name}`);
}
