// Helpers for tests and benchmarks of the DNS server: a client that asks over UDP or TCP, and a
// scripted upstream resolver on loopback.
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { once } from "node:events";
import { connect, createServer, type Server } from "node:net";
import dnsPacket from "dns-packet";
import { frame } from "./wire.js";

export interface AskOptions {
  readonly proto?: "udp" | "tcp";
  readonly id?: number;
  /** adds an OPT record advertising this UDP size */
  readonly ednsSize?: number;
  readonly timeoutMs?: number;
  readonly host?: string;
}

export function encodeQuery(name: string, type: dnsPacket.RecordType, o: AskOptions = {}): Buffer {
  return dnsPacket.encode({
    type: "query",
    id: o.id ?? Math.floor(Math.random() * 65536),
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name, class: "IN" }],
    ...(o.ednsSize !== undefined ? { additionals: [{ type: "OPT", name: ".", udpPayloadSize: o.ednsSize, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] } : {}),
  });
}

/** Sends one raw message and returns the raw reply (rejects on timeout). */
export async function exchange(port: number, msg: Buffer, o: AskOptions = {}): Promise<Buffer> {
  const host = o.host ?? "127.0.0.1";
  const timeoutMs = o.timeoutMs ?? 5000;
  if ((o.proto ?? "udp") === "udp") {
    const sock = createSocket(host.includes(":") ? "udp6" : "udp4");
    try {
      const got = once(sock, "message", { signal: AbortSignal.timeout(timeoutMs) }) as Promise<[Buffer]>;
      sock.send(msg, port, host);
      const [reply] = await got;
      return reply;
    } finally {
      sock.close();
    }
  }
  return new Promise<Buffer>((resolve, reject) => {
    const sock = connect({ host, port });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no TCP answer within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on("connect", () => sock.write(frame(msg)));
    sock.on("data", (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= 2 && buf.length >= buf.readUInt16BE(0) + 2) {
        clearTimeout(timer);
        sock.destroy();
        resolve(buf.subarray(2, buf.readUInt16BE(0) + 2));
      }
    });
    sock.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    sock.on("close", () => {
      clearTimeout(timer);
      reject(new Error("connection closed without an answer"));
    });
  });
}

/** Asks `name`/`type` and decodes the reply. */
export async function ask(port: number, name: string, type: dnsPacket.RecordType, o: AskOptions = {}): Promise<dnsPacket.DecodedPacket & { rcode: string; raw: Buffer }> {
  const raw = await exchange(port, encodeQuery(name, type, o), o);
  const decoded = dnsPacket.decode(raw) as dnsPacket.DecodedPacket & { rcode: string };
  return Object.assign(decoded, { raw });
}

export interface FakeUpstream {
  readonly port: number;
  /** every question it was asked, as `proto name type` */
  readonly asked: string[];
  close(): Promise<void>;
}

/**
 * A resolver on 127.0.0.1 (UDP and TCP on one port) that answers with `answer(name, type, proto)`:
 * the records to return, "drop" to stay silent, or "truncate" to answer over UDP with TC set.
 */
export async function startFakeUpstream(answer: (name: string, type: string, proto: "udp" | "tcp") => dnsPacket.Answer[] | "drop" | "truncate" | "nxdomain"): Promise<FakeUpstream> {
  const asked: string[] = [];
  const reply = (msg: Buffer, proto: "udp" | "tcp"): Buffer | undefined => {
    const q = dnsPacket.decode(msg);
    const question = q.questions?.[0];
    if (!question) return undefined;
    asked.push(`${proto} ${question.name} ${question.type}`);
    const a = answer(question.name, question.type, proto);
    if (a === "drop") return undefined;
    const base = { type: "response" as const, id: q.id ?? 0, questions: q.questions ?? [] };
    if (a === "truncate") return dnsPacket.encode({ ...base, flags: dnsPacket.TRUNCATED_RESPONSE | dnsPacket.RECURSION_AVAILABLE });
    if (a === "nxdomain") return dnsPacket.encode({ ...base, flags: dnsPacket.RECURSION_AVAILABLE | 3 });
    return dnsPacket.encode({ ...base, flags: dnsPacket.RECURSION_AVAILABLE, answers: a });
  };
  let udp: UdpSocket | undefined;
  let tcp: Server | undefined;
  for (let attempt = 0; ; attempt++) {
    udp = createSocket("udp4");
    udp.bind(0, "127.0.0.1");
    await once(udp, "listening");
    const port = udp.address().port;
    tcp = createServer((sock) => {
      let buf = Buffer.alloc(0);
      sock.on("data", (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        while (buf.length >= 2 && buf.length >= buf.readUInt16BE(0) + 2) {
          const msg = buf.subarray(2, buf.readUInt16BE(0) + 2);
          buf = buf.subarray(buf.readUInt16BE(0) + 2);
          const r = reply(msg, "tcp");
          if (r) sock.write(frame(r));
        }
      });
      sock.on("error", () => sock.destroy());
    });
    try {
      tcp.listen(port, "127.0.0.1");
      await once(tcp, "listening");
      break;
    } catch (err) {
      udp.close();
      if (attempt > 20) throw err;
    }
  }
  const u = udp;
  const t = tcp;
  u.on("message", (msg, rinfo) => {
    const r = reply(msg, "udp");
    if (r) u.send(r, rinfo.port, rinfo.address);
  });
  return {
    port: u.address().port,
    asked,
    async close() {
      u.close();
      t.close();
      await once(t, "close").catch(() => undefined);
    },
  };
}
