import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, connect, type Socket } from "node:net";
import { constants, inflateSync } from "node:zlib";
import { until } from "../../testing/wait.js";
import { dataFrame, decodeHeaderPairs, FLAG_FIN, FrameParser, FrameType, SpdyClientSession, StoredHeaderEncoder, type SpdyFrame } from "./spdy.js";

function control(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8003, 0);
  head.writeUInt16BE(type, 2);
  head[4] = flags;
  head.writeUIntBE(payload.length, 5, 3);
  return Buffer.concat([head, payload]);
}

function u32(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v, i * 4));
  return b;
}

describe("SPDY framing", () => {
  it("parses control and data frames however the bytes are split", () => {
    const bytes = Buffer.concat([control(FrameType.Ping, 0, u32(2)), dataFrame(5, Buffer.from("hello"), FLAG_FIN), control(FrameType.GoAway, 0, u32(0, 0))]);
    for (const step of [1, 3, 7, bytes.length]) {
      const frames: SpdyFrame[] = [];
      const p = new FrameParser((f) => frames.push(f));
      for (let i = 0; i < bytes.length; i += step) p.push(bytes.subarray(i, i + step));
      assert.deepEqual(
        frames.map((f) => (f.kind === "data" ? ["data", f.streamId, f.flags, f.data.toString()] : ["control", f.type, f.payload.length])),
        [
          ["control", FrameType.Ping, 4],
          ["data", 5, FLAG_FIN, "hello"],
          ["control", FrameType.GoAway, 8],
        ],
      );
    }
  });

  it("header blocks are one zlib stream, each block complete on its own (ended by a sync flush)", () => {
    const enc = new StoredHeaderEncoder();
    const a = enc.encode({ streamType: "error" });
    const b = enc.encode({ streamtype: "stdin", port: "8080" });
    assert.deepEqual([...a.subarray(0, 2)], [0x78, 0x01]);
    assert.deepEqual([...a.subarray(-5)], [0, 0, 0, 0xff, 0xff]);
    assert.deepEqual([...b.subarray(-5)], [0, 0, 0, 0xff, 0xff]);
    const first = inflateSync(a, { finishFlush: constants.Z_SYNC_FLUSH });
    assert.deepEqual(decodeHeaderPairs(first), { streamtype: "error" });
    const both = inflateSync(Buffer.concat([a, b]), { finishFlush: constants.Z_SYNC_FLUSH });
    assert.deepEqual(decodeHeaderPairs(both.subarray(first.length)), { streamtype: "stdin", port: "8080" });
  });
});

describe("SPDY client session", () => {
  it("opens streams, holds data until the reply, answers pings, ends streams on FIN and RST, closes on GOAWAY", async (t) => {
    const server = createServer();
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    t.after(() => server.close());
    const accepted = once(server, "connection") as Promise<[Socket]>;
    const client = connect((server.address() as { port: number }).port, "127.0.0.1");
    await once(client, "connect");
    const [peer] = await accepted;
    t.after(() => peer.destroy());

    const seen: SpdyFrame[] = [];
    const parser = new FrameParser((f) => seen.push(f));
    peer.on("data", (d: Buffer) => parser.push(d));

    const session = new SpdyClientSession(client);
    const closed = once(session, "close");
    const s1 = session.openStream({ streamtype: "error" });
    const s3 = session.openStream({ streamtype: "stdin" });
    assert.deepEqual([s1.id, s3.id], [1, 3]);
    s3.write(Buffer.from("early"));
    s3.end();
    await until("both SYN_STREAMs", () => (seen.filter((f) => f.kind === "control" && f.type === FrameType.SynStream).length === 2 ? true : undefined));
    assert.ok(!seen.some((f) => f.kind === "data"), "nothing is sent on a stream before its reply");

    // The replies release the held data, FIN last.
    peer.write(Buffer.concat([control(FrameType.SynReply, 0, u32(1)), control(FrameType.SynReply, 0, u32(3))]));
    await until("stdin data and FIN", () => (seen.some((f) => f.kind === "data" && f.flags & FLAG_FIN) ? true : undefined));
    const data = seen.filter((f): f is Extract<SpdyFrame, { kind: "data" }> => f.kind === "data");
    assert.deepEqual(data.map((f) => [f.streamId, f.data.toString(), f.flags]), [[3, "early", 0], [3, "", FLAG_FIN]]);

    // A ping from the server (even id) comes back; data and FIN reach the stream.
    const got: string[] = [];
    s1.on("data", (d) => got.push(d.toString()));
    const s1End = once(s1, "end");
    peer.write(Buffer.concat([control(FrameType.Ping, 0, u32(2)), dataFrame(1, Buffer.from("status")), dataFrame(1, Buffer.alloc(0), FLAG_FIN)]));
    await s1End;
    assert.deepEqual(got, ["status"]);
    await until("the ping echoed", () => (seen.some((f) => f.kind === "control" && f.type === FrameType.Ping && f.payload.readUInt32BE(0) === 2) ? true : undefined));

    const s5 = session.openStream({ streamtype: "stdout" });
    const s5End = once(s5, "end");
    peer.write(control(FrameType.RstStream, 0, u32(5, 5)));
    await s5End;

    peer.write(control(FrameType.GoAway, 0, u32(0, 0)));
    const [err] = (await closed) as [Error | undefined];
    assert.equal(err, undefined);
    assert.ok(client.destroyed);
  });

  it("a protocol error closes the session with the error", async (t) => {
    const server = createServer();
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    t.after(() => server.close());
    const accepted = once(server, "connection") as Promise<[Socket]>;
    const client = connect((server.address() as { port: number }).port, "127.0.0.1");
    const [peer] = await accepted;
    t.after(() => peer.destroy());
    const session = new SpdyClientSession(client);
    const closed = once(session, "close");
    const bad = Buffer.alloc(8);
    bad.writeUInt16BE(0x8002, 0); // SPDY/2
    peer.write(bad);
    const [err] = (await closed) as [Error | undefined];
    assert.match(String(err), /unsupported SPDY version 2/);
  });
});
