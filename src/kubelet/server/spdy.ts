// A minimal SPDY/3.1 client session: just what the kubelet needs to drive a remote-command
// session (exec/attach, protocol v4.channel.k8s.io) on the runtime's streaming server, which
// speaks SPDY through moby/spdystream (see streaming.ts for why we bridge to it at all).
//
// Wire format (SPDY draft 3): control frames start with the bit 0x8000|version, a 16-bit type,
// 8 flag bits and a 24-bit length; data frames with a 31-bit stream id, 8 flag bits and a
// 24-bit length. Header blocks (SYN_STREAM, SYN_REPLY, HEADERS) are one zlib stream per
// direction and connection. We never need to read the peer's headers (the streaming server's
// replies carry nothing we act on), so received header blocks stay opaque; the blocks we send
// are zlib *stored* blocks, each ended by a sync flush's empty block (no compression, valid
// for any inflater whatever dictionary it preloads), which keeps the encoder synchronous and
// free of state but the stream's first two bytes. spdystream enforces no flow control windows, so none is kept here either.
import { EventEmitter } from "node:events";
import type { Duplex } from "node:stream";

export const SPDY_VERSION = 3;

export const FrameType = {
  SynStream: 1,
  SynReply: 2,
  RstStream: 3,
  Settings: 4,
  Ping: 6,
  GoAway: 7,
  Headers: 8,
  WindowUpdate: 9,
} as const;

export const FLAG_FIN = 0x01;
/** RST_STREAM status for a stream this side will not take */
const RST_REFUSED_STREAM = 3;

/** Largest payload we put in one data frame (the protocol allows 2^24-1). */
const MAX_DATA_CHUNK = 32 * 1024;
/** A peer that announces a frame bigger than this is broken or hostile. */
const MAX_FRAME_BYTES = 16 * 1024 * 1024;

export type SpdyFrame =
  | { readonly kind: "data"; readonly streamId: number; readonly flags: number; readonly data: Buffer }
  | { readonly kind: "control"; readonly type: number; readonly flags: number; readonly payload: Buffer };

export class SpdyProtocolError extends Error {
  override readonly name = "SpdyProtocolError";
  readonly code = "SpdyProtocolError";
}

/** Splits a byte stream into frames; feed it chunks, it calls `onFrame` for each complete frame. */
export class FrameParser {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly onFrame: (f: SpdyFrame) => void) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= 8) {
      const length = this.buf.readUIntBE(5, 3);
      if (length > MAX_FRAME_BYTES) throw new SpdyProtocolError(`frame of ${length} bytes exceeds the limit`);
      if (this.buf.length < 8 + length) return;
      const flags = this.buf[4]!;
      const payload = this.buf.subarray(8, 8 + length);
      const first = this.buf.readUInt32BE(0);
      this.buf = this.buf.subarray(8 + length);
      if (first & 0x80000000) {
        const version = (first >>> 16) & 0x7fff;
        if (version !== SPDY_VERSION) throw new SpdyProtocolError(`unsupported SPDY version ${version}`);
        this.onFrame({ kind: "control", type: first & 0xffff, flags, payload });
      } else {
        this.onFrame({ kind: "data", streamId: first & 0x7fffffff, flags, data: payload });
      }
    }
  }
}

function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  head.writeUInt16BE(type, 2);
  head[4] = flags;
  head.writeUIntBE(payload.length, 5, 3);
  return Buffer.concat([head, payload]);
}

export function dataFrame(streamId: number, data: Buffer, flags = 0): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head[4] = flags;
  head.writeUIntBE(data.length, 5, 3);
  return Buffer.concat([head, data]);
}

/** The uncompressed name/value block: count, then length-prefixed names and values. */
export function encodeHeaderPairs(headers: Readonly<Record<string, string>>): Buffer {
  const parts: Buffer[] = [];
  const entries = Object.entries(headers);
  const count = Buffer.alloc(4);
  count.writeUInt32BE(entries.length);
  parts.push(count);
  for (const [name, value] of entries) {
    for (const s of [name.toLowerCase(), value]) {
      const b = Buffer.from(s, "utf8");
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length);
      parts.push(len, b);
    }
  }
  return Buffer.concat(parts);
}

/** Decodes a block made by encodeHeaderPairs (after decompression). */
export function decodeHeaderPairs(block: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let off = 0;
  const need = (n: number): void => {
    if (off + n > block.length) throw new SpdyProtocolError("truncated header block");
  };
  need(4);
  const count = block.readUInt32BE(off);
  off += 4;
  for (let i = 0; i < count; i++) {
    const read = (): string => {
      need(4);
      const len = block.readUInt32BE(off);
      off += 4;
      need(len);
      const s = block.subarray(off, off + len).toString("utf8");
      off += len;
      return s;
    };
    const name = read();
    out[name] = read();
  }
  return out;
}

/**
 * One direction's header compression context, producing stored (uncompressed) deflate blocks:
 * the first block carries the zlib stream header, none is ever final, so the peer's single
 * inflater reads every block as the continuation of one stream.
 */
export class StoredHeaderEncoder {
  private started = false;

  encode(headers: Readonly<Record<string, string>>): Buffer {
    const raw = encodeHeaderPairs(headers);
    const parts: Buffer[] = [];
    if (!this.started) {
      // CMF 0x78 (deflate, 32 KiB window), FLG 0x01: no preset dictionary, check bits valid.
      parts.push(Buffer.from([0x78, 0x01]));
      this.started = true;
    }
    for (let off = 0; off < raw.length || off === 0; off += 0xffff) {
      const piece = raw.subarray(off, Math.min(raw.length, off + 0xffff));
      const head = Buffer.alloc(5);
      head[0] = 0x00; // BFINAL=0, BTYPE=00 (stored), padded to the byte boundary
      head.writeUInt16LE(piece.length, 1);
      head.writeUInt16LE(~piece.length & 0xffff, 3);
      parts.push(head, piece);
      if (raw.length === 0) break;
    }
    // An empty stored block, as zlib's Z_SYNC_FLUSH ends a block: Go's inflater hands out a
    // stored block's bytes only when it reaches the next block header, and must find that
    // header inside this frame (past the frame's end it would hit EOF and stay broken).
    parts.push(Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]));
    return Buffer.concat(parts);
  }
}

export interface SpdyStreamEvents {
  data: [Buffer];
  /** the peer finished sending (FIN) or reset the stream */
  end: [];
}

/** A stream this side opened. Writes before the peer's SYN_REPLY are held back, as spdystream drops data on unreplied streams. */
export class SpdyStream extends EventEmitter<SpdyStreamEvents> {
  replied = false;
  remoteEnded = false;
  localEnded = false;
  private pending: { data: Buffer; fin: boolean }[] = [];

  constructor(
    readonly id: number,
    private readonly session: SpdyClientSession,
  ) {
    super();
  }

  write(data: Buffer): void {
    if (this.localEnded || data.length === 0) return;
    if (!this.replied) this.pending.push({ data, fin: false });
    else this.session.sendData(this.id, data, false);
  }

  /** Half-closes: sends FIN (after anything still held back). */
  end(): void {
    if (this.localEnded) return;
    this.localEnded = true;
    if (!this.replied) this.pending.push({ data: Buffer.alloc(0), fin: true });
    else this.session.sendData(this.id, Buffer.alloc(0), true);
  }

  /** @internal */
  onReply(): void {
    if (this.replied) return;
    this.replied = true;
    for (const p of this.pending) this.session.sendData(this.id, p.data, p.fin);
    this.pending = [];
  }

  /** @internal */
  onRemoteEnd(): void {
    if (this.remoteEnded) return;
    this.remoteEnded = true;
    this.emit("end");
  }
}

export interface SpdySessionEvents {
  /** the connection is over: GOAWAY, socket closed, or a protocol error (then with the error) */
  close: [Error | undefined];
}

/**
 * The client end of a SPDY session on an already-upgraded socket. Streams are opened with
 * `openStream(headers)`; the peer's PINGs are answered; GOAWAY or the socket's end closes it.
 */
export class SpdyClientSession extends EventEmitter<SpdySessionEvents> {
  private nextStreamId = 1;
  private readonly streams = new Map<number, SpdyStream>();
  private readonly encoder = new StoredHeaderEncoder();
  private readonly parser: FrameParser;
  private closed = false;

  constructor(private readonly socket: Duplex, initial?: Buffer) {
    super();
    this.parser = new FrameParser((f) => this.onFrame(f));
    socket.on("data", (chunk: Buffer) => this.feed(chunk));
    socket.on("end", () => this.close());
    socket.on("close", () => this.close());
    socket.on("error", (err) => this.close(err));
    if (initial && initial.length > 0) this.feed(initial);
  }

  private feed(chunk: Buffer): void {
    try {
      this.parser.push(chunk);
    } catch (err) {
      this.close(err as Error);
    }
  }

  openStream(headers: Readonly<Record<string, string>>): SpdyStream {
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const stream = new SpdyStream(id, this);
    this.streams.set(id, stream);
    const head = Buffer.alloc(10);
    head.writeUInt32BE(id, 0);
    head.writeUInt32BE(0, 4); // associated-to stream
    head[8] = 0; // priority 0 (highest) in the top three bits
    head[9] = 0; // credential slot
    this.write(controlFrame(FrameType.SynStream, 0, Buffer.concat([head, this.encoder.encode(headers)])));
    return stream;
  }

  /** @internal */
  sendData(streamId: number, data: Buffer, fin: boolean): void {
    if (data.length === 0) {
      if (fin) this.write(dataFrame(streamId, data, FLAG_FIN));
      return;
    }
    for (let off = 0; off < data.length; off += MAX_DATA_CHUNK) {
      const last = off + MAX_DATA_CHUNK >= data.length;
      this.write(dataFrame(streamId, data.subarray(off, off + MAX_DATA_CHUNK), last && fin ? FLAG_FIN : 0));
    }
  }

  private resetStream(streamId: number, status: number): void {
    const p = Buffer.alloc(8);
    p.writeUInt32BE(streamId & 0x7fffffff, 0);
    p.writeUInt32BE(status, 4);
    this.write(controlFrame(FrameType.RstStream, 0, p));
  }

  private write(buf: Buffer): void {
    if (this.closed || this.socket.destroyed) return;
    this.socket.write(buf);
  }

  /** Bytes waiting in the socket's buffer (for backpressure on the side that feeds us). */
  get bufferedBytes(): number {
    return this.socket.writableLength;
  }

  private onFrame(f: SpdyFrame): void {
    if (f.kind === "data") {
      const s = this.streams.get(f.streamId);
      if (!s) return;
      if (f.data.length > 0) s.emit("data", f.data);
      if (f.flags & FLAG_FIN) s.onRemoteEnd();
      return;
    }
    const p = f.payload;
    switch (f.type) {
      case FrameType.SynReply: {
        if (p.length < 4) throw new SpdyProtocolError("short SYN_REPLY");
        const s = this.streams.get(p.readUInt32BE(0) & 0x7fffffff);
        if (!s) return;
        s.onReply();
        if (f.flags & FLAG_FIN) s.onRemoteEnd();
        return;
      }
      case FrameType.RstStream: {
        if (p.length < 8) throw new SpdyProtocolError("short RST_STREAM");
        const s = this.streams.get(p.readUInt32BE(0) & 0x7fffffff);
        if (!s) return;
        s.localEnded = true;
        s.onRemoteEnd();
        return;
      }
      case FrameType.Headers: {
        if (p.length < 4) throw new SpdyProtocolError("short HEADERS");
        if (f.flags & FLAG_FIN) this.streams.get(p.readUInt32BE(0) & 0x7fffffff)?.onRemoteEnd();
        return;
      }
      case FrameType.Ping:
        // Our ids are odd; an even id is the peer's, to be echoed back.
        if (p.length >= 4 && p.readUInt32BE(0) % 2 === 0) this.write(controlFrame(FrameType.Ping, 0, p.subarray(0, 4)));
        return;
      case FrameType.GoAway:
        this.close();
        return;
      case FrameType.SynStream: {
        // A server-initiated stream is not part of the remote-command protocol: refuse it.
        if (p.length >= 4) this.resetStream(p.readUInt32BE(0) & 0x7fffffff, RST_REFUSED_STREAM);
        return;
      }
      default:
        // SETTINGS, WINDOW_UPDATE and anything unknown carry nothing we act on.
        return;
    }
  }

  close(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams.values()) s.onRemoteEnd();
    this.socket.destroy();
    this.emit("close", err);
  }
}
