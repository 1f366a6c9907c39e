// Forwarding names outside the cluster to the node's resolvers (CoreDNS's `forward .
// /etc/resolv.conf`, policy sequential): the client's query goes to the first upstream as it
// came (same protocol; over UDP a truncated answer is fetched again over TCP), a timeout or
// error moves on to the next upstream, and the answer goes back byte for byte with the
// client's id. UDP goes out through one socket per address family, with a fresh random id per
// query to match answers to queries.
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from "node:dgram";
import { connect } from "node:net";
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import type { Logger } from "../util/log.js";
import { DnsError } from "./errors.js";
import { frame, isTruncated, messageId, rcodeOf, withId } from "./wire.js";

export interface Upstream {
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
  /** `address:port` ([v6]:port), for logs and metrics */
  readonly label: string;
}

/** `1.2.3.4`, `1.2.3.4:53`, `::1`, `[::1]:5353`. */
export function parseUpstream(spec: string): Upstream {
  const s = spec.trim();
  let address = s;
  let port = 53;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracket) {
    address = bracket[1]!;
    if (bracket[2] !== undefined) port = Number(bracket[2]);
  } else if (/^[^:]+:\d+$/.test(s)) {
    const i = s.lastIndexOf(":");
    address = s.slice(0, i);
    port = Number(s.slice(i + 1));
  }
  const family = isIP(address);
  if (family === 0) throw new DnsError("InvalidOptions", `upstream ${JSON.stringify(spec)} is not an IP address (with an optional :port)`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new DnsError("InvalidOptions", `upstream ${JSON.stringify(spec)}: port out of range`);
  return { address, port, family: family as 4 | 6, label: family === 6 ? `[${address}]:${port}` : `${address}:${port}` };
}

/** The `nameserver` lines of a resolv.conf (a missing file has none). */
export function resolvConfNameservers(path = "/etc/resolv.conf"): string[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    // A zone index (fe80::1%eth0) cannot be used from a pod's network namespace anyway.
    if (m && isIP(m[1]!) && !m[1]!.includes("%")) out.push(m[1]!);
  }
  return out;
}

export type ForwardOutcome = number | "timeout" | "error";

export interface ForwarderOptions {
  readonly upstreams: readonly Upstream[];
  /** per upstream and attempt */
  readonly timeoutMs: number;
  readonly log: Logger;
  /** told about every attempt: the upstream's rcode, or why it gave none */
  readonly onAttempt?: (upstream: Upstream, outcome: ForwardOutcome, seconds: number) => void;
}

interface Pending {
  readonly upstream: Upstream;
  readonly resolve: (msg: Buffer | undefined) => void;
}

const MAX_TCP_MESSAGE = 65535;
/** Queries in flight at once; beyond it a query fails at once (CoreDNS's max_concurrent). */
const MAX_CONCURRENT = 1000;

export class Forwarder {
  private readonly sockets = new Map<4 | 6, UdpSocket>();
  private readonly pending = new Map<number, Pending>();
  private inFlight = 0;
  private closed = false;

  constructor(private readonly o: ForwarderOptions) {}

  get upstreams(): readonly Upstream[] {
    return this.o.upstreams;
  }

  /**
   * The first answer an upstream gives to `query` (a whole DNS message), with the query's id;
   * undefined when none answered in time (the caller answers SERVFAIL).
   */
  async forward(query: Buffer, proto: "udp" | "tcp"): Promise<Buffer | undefined> {
    if (this.closed || this.o.upstreams.length === 0 || this.inFlight >= MAX_CONCURRENT) return undefined;
    const id = messageId(query);
    if (id < 0) return undefined;
    this.inFlight++;
    try {
      for (const upstream of this.o.upstreams) {
        let answer: Buffer | undefined;
        if (proto === "tcp") answer = await this.attempt(upstream, query, "tcp");
        else {
          answer = await this.attempt(upstream, query, "udp");
          // The truncated answer still tells the client to retry over TCP if TCP fails here.
          if (answer !== undefined && isTruncated(answer)) answer = (await this.attempt(upstream, query, "tcp")) ?? answer;
        }
        if (answer !== undefined) return withId(answer, id);
        if (this.closed) return undefined;
      }
      return undefined;
    } finally {
      this.inFlight--;
    }
  }

  /** Stops every query in flight (they resolve undefined) and closes the sockets. */
  close(): void {
    this.closed = true;
    for (const p of this.pending.values()) p.resolve(undefined);
    this.pending.clear();
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
  }

  private async attempt(upstream: Upstream, query: Buffer, proto: "udp" | "tcp"): Promise<Buffer | undefined> {
    const t0 = process.hrtime.bigint();
    let outcome: ForwardOutcome = "timeout";
    try {
      const answer = proto === "udp" ? await this.udp(upstream, query) : await this.tcp(upstream, query);
      if (answer === "error") {
        outcome = "error";
        return undefined;
      }
      if (answer !== undefined) outcome = rcodeOf(answer);
      return answer;
    } finally {
      this.o.onAttempt?.(upstream, outcome, Number(process.hrtime.bigint() - t0) / 1e9);
    }
  }

  private socket(family: 4 | 6): UdpSocket {
    let s = this.sockets.get(family);
    if (s) return s;
    s = createSocket(family === 6 ? "udp6" : "udp4");
    s.on("message", (msg: Buffer, rinfo: RemoteInfo) => this.onUdpMessage(msg, rinfo));
    s.on("error", (err) => this.o.log.warn({ err }, "upstream UDP socket error"));
    s.unref();
    this.sockets.set(family, s);
    return s;
  }

  private onUdpMessage(msg: Buffer, rinfo: RemoteInfo): void {
    const id = messageId(msg);
    const p = this.pending.get(id);
    // Answers from anyone but the upstream asked, and anything that is not a response, are ignored.
    if (!p || rinfo.port !== p.upstream.port || !sameAddress(rinfo.address, p.upstream.address) || msg.length < 12 || (msg[2]! & 0x80) === 0) return;
    this.pending.delete(id);
    p.resolve(msg);
  }

  private udp(upstream: Upstream, query: Buffer): Promise<Buffer | undefined | "error"> {
    let id = 0;
    for (let tries = 0; ; tries++) {
      id = Math.floor(Math.random() * 65536);
      if (!this.pending.has(id)) break;
      if (tries > 100) return Promise.resolve("error");
    }
    const out = withId(query, id);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (this.pending.get(id)?.resolve === done) this.pending.delete(id);
        resolve(undefined);
      }, this.o.timeoutMs);
      const done = (msg: Buffer | undefined): void => {
        clearTimeout(timer);
        resolve(msg);
      };
      this.pending.set(id, { upstream, resolve: done });
      this.socket(upstream.family).send(out, upstream.port, upstream.address, (err) => {
        if (!err) return;
        this.o.log.debug({ err, upstream: upstream.label }, "sending to upstream failed");
        if (this.pending.get(id)?.resolve === done) this.pending.delete(id);
        clearTimeout(timer);
        resolve("error");
      });
    });
  }

  private tcp(upstream: Upstream, query: Buffer): Promise<Buffer | undefined | "error"> {
    return new Promise((resolve) => {
      const sock = connect({ host: upstream.address, port: upstream.port });
      let buf = Buffer.alloc(0);
      let settled = false;
      const finish = (v: Buffer | undefined | "error"): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        sock.destroy();
        resolve(v);
      };
      const timer = setTimeout(() => finish(undefined), this.o.timeoutMs);
      sock.on("connect", () => sock.write(frame(query)));
      sock.on("data", (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        if (buf.length < 2) return;
        const n = buf.readUInt16BE(0);
        if (n > MAX_TCP_MESSAGE) return finish("error");
        if (buf.length >= n + 2) {
          const msg = buf.subarray(2, n + 2);
          finish(msg.length >= 12 && (msg[2]! & 0x80) !== 0 && messageId(msg) === messageId(query) ? Buffer.from(msg) : "error");
        }
      });
      sock.on("error", () => finish("error"));
      sock.on("close", () => finish("error"));
      if (this.closed) finish(undefined);
    });
  }
}

function sameAddress(a: string, b: string): boolean {
  if (a === b) return true;
  // A v4 upstream answering on a dual-stack socket shows as ::ffff:a.b.c.d.
  return a.toLowerCase() === `::ffff:${b}` || b.toLowerCase() === `::ffff:${a}`;
}
