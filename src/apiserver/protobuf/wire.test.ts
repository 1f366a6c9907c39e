import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ProtobufDecodeError, type ProtobufDecodeErrorCode } from "./errors.js";
import { decodeUtf8, WireReader, WireType } from "./wire.js";
import { WireWriter } from "./writer.js";

function reader(build: (w: WireWriter) => unknown): WireReader {
  const w = new WireWriter();
  build(w);
  return new WireReader(w.finish());
}

function fails(code: ProtobufDecodeErrorCode, fn: () => unknown): void {
  assert.throws(fn, (err: unknown) => err instanceof ProtobufDecodeError && err.code === code);
}

void describe("WireReader varints", () => {
  void it("reads unsigned values across the 32-bit boundary", () => {
    for (const v of [0n, 1n, 127n, 128n, 300n, 0x7fffffffn, 0xffffffffn, 0x100000000n, 2n ** 53n - 1n, 2n ** 63n, 2n ** 64n - 1n]) {
      assert.equal(reader((w) => w.varint(v)).readUint64Big(), v);
    }
  });

  void it("reads sign-extended int32 and int64 as Go does", () => {
    const r = reader((w) => w.varint(-1).varint(-2147483648).varint(2147483647).varint(-5n).varint(-(2n ** 63n)).varint(2n ** 32n + 7n));
    assert.equal(r.readInt32(), -1);
    assert.equal(r.readInt32(), -2147483648);
    assert.equal(r.readInt32(), 2147483647);
    assert.equal(r.readInt64(), -5);
    assert.equal(r.readInt64Big(), -(2n ** 63n));
    // int32 keeps the low 32 bits of a wider varint, as Go's int32(v) conversion does.
    assert.equal(r.readInt32(), 7);
    assert.ok(r.done);
  });

  void it("reads int64 exactly up to 2^53 and rounds beyond like JSON.parse", () => {
    assert.equal(reader((w) => w.varint(2n ** 53n - 1n)).readInt64(), Number.MAX_SAFE_INTEGER);
    assert.equal(reader((w) => w.varint(-(2n ** 53n) + 1n)).readInt64(), -Number.MAX_SAFE_INTEGER);
    assert.equal(reader((w) => w.varint(2n ** 62n + 1n)).readInt64(), JSON.parse((2n ** 62n + 1n).toString()) as number);
  });

  void it("treats any non-zero varint as true", () => {
    const r = reader((w) => w.varint(0).varint(1).varint(2n ** 40n));
    assert.equal(r.readBool(), false);
    assert.equal(r.readBool(), true);
    assert.equal(r.readBool(), true);
  });

  void it("rejects varints longer than 10 bytes and truncated ones", () => {
    fails("Malformed", () => new WireReader(Uint8Array.from([...Array<number>(10).fill(0xff), 0x01])).readVarintParts());
    fails("Truncated", () => new WireReader(Uint8Array.of(0x80, 0x80)).readVarintParts());
    fails("Truncated", () => new WireReader(new Uint8Array(0)).readVarintParts());
  });
});

void describe("WireReader length-delimited values", () => {
  void it("returns views bounded by the declared length", () => {
    const r = reader((w) => w.bytes(1, [1, 2, 3]).string(2, "hé"));
    assert.deepEqual(r.readTag(), { field: 1, wire: WireType.LengthDelimited });
    assert.deepEqual([...r.readBytes()], [1, 2, 3]);
    r.readTag();
    assert.equal(new TextDecoder().decode(r.readBytes()), "hé");
    assert.ok(r.done);
  });

  void it("rejects lengths past the end, huge lengths and negative lengths", () => {
    fails("Truncated", () => new WireReader(Uint8Array.of(0x05, 1, 2)).readBytes());
    fails("Truncated", () => reader((w) => w.varint(2n ** 40n).raw([1, 2, 3])).readBytes());
    fails("Truncated", () => reader((w) => w.varint(0xffffffffn)).readBytes());
    fails("Malformed", () => reader((w) => w.varint(-1)).readBytes());
  });

  void it("confines a sub-reader to its message", () => {
    const r = reader((w) => w.message(1, (m) => m.int(1, 5)).int(2, 9));
    r.readTag();
    const sub = r.readMessage();
    assert.deepEqual(sub.readTag(), { field: 1, wire: WireType.Varint });
    assert.equal(sub.readInt32(), 5);
    assert.ok(sub.done);
    fails("Truncated", () => sub.readVarintParts());
    r.readTag();
    assert.equal(r.readInt32(), 9);
  });

  void it("reads doubles and rejects short fixed-width values", () => {
    const r = reader((w) => w.double(1, 1.5));
    r.readTag();
    assert.equal(r.readDouble(), 1.5);
    fails("Truncated", () => new WireReader(Uint8Array.of(1, 2, 3)).readDouble());
    fails("Truncated", () => new WireReader(Uint8Array.of(1, 2, 3)).readFixed32());
  });
});

void describe("WireReader tags and skipping", () => {
  void it("rejects field number 0, illegal wire types and stray end-group tags", () => {
    fails("Malformed", () => new WireReader(Uint8Array.of(0x00)).readTag());
    fails("Malformed", () => new WireReader(Uint8Array.of(0x0e)).readTag());
    fails("Malformed", () => new WireReader(Uint8Array.of(0x0f)).readTag());
    fails("Malformed", () => new WireReader(Uint8Array.of(0x0c)).readTag());
    fails("Malformed", () => reader((w) => w.varint(2n ** 35n)).readTag());
  });

  void it("reads the largest field number", () => {
    assert.deepEqual(reader((w) => w.tag(0x1fffffff, WireType.Fixed32)).readTag(), { field: 0x1fffffff, wire: WireType.Fixed32 });
  });

  void it("skips every wire type, groups included", () => {
    const r = reader((w) =>
      w
        .int(1, -1)
        .double(2, 3)
        .tag(3, WireType.Fixed32)
        .raw([1, 2, 3, 4])
        .string(4, "skip me")
        .tag(5, WireType.StartGroup)
        .int(1, 1)
        .tag(6, WireType.StartGroup)
        .string(2, "x")
        .tag(6, WireType.EndGroup)
        .tag(5, WireType.EndGroup)
        .int(7, 42),
    );
    for (let i = 0; i < 5; i++) r.skip(r.readTag());
    assert.deepEqual(r.readTag(), { field: 7, wire: WireType.Varint });
    assert.equal(r.readInt32(), 42);
    assert.ok(r.done);
  });

  void it("rejects mismatched, unterminated and absurdly deep groups", () => {
    const mismatched = reader((w) => w.tag(5, WireType.StartGroup).tag(6, WireType.EndGroup));
    fails("Malformed", () => mismatched.skip(mismatched.readTag()));
    const open = reader((w) => w.tag(5, WireType.StartGroup).int(1, 1));
    fails("Truncated", () => open.skip(open.readTag()));
    const deep = reader((w) => {
      for (let i = 0; i < 200; i++) w.tag(1, WireType.StartGroup);
    });
    fails("TooDeep", () => deep.skip(deep.readTag()));
  });

  void it("refuses bounds outside the buffer", () => {
    fails("Truncated", () => new WireReader(new Uint8Array(4), 2, 8));
  });
});

void describe("decodeUtf8", () => {
  void it("decodes short and long strings alike, replacing invalid bytes and keeping a BOM", () => {
    const enc = new TextEncoder();
    for (const s of ["", "a", "x".repeat(64), "y".repeat(65), "héllo", "\ufeffbom", "日本語".repeat(30), "z".repeat(63) + "é"]) {
      assert.equal(decodeUtf8(enc.encode(s)), s);
    }
    assert.equal(decodeUtf8(Uint8Array.of(0x61, 0xff, 0x62)), "a\ufffdb");
    assert.equal(decodeUtf8(Uint8Array.from([...Array<number>(70).fill(0x61), 0xc3])), "a".repeat(70) + "\ufffd");
    assert.equal(decodeUtf8(enc.encode("__abc__"), 2, 5), "abc");
  });
});
