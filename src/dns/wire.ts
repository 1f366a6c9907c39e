// Encoding answers. dns-packet decodes queries well but writes every name in full; with name
// compression (RFC 1035 4.1.4) a 512-byte UDP reply holds 29 A records of
// web.default.svc.cluster.local instead of 10, and 8 headless SRV records instead of 4
// (measured against dns-packet's encoder). So replies are written here: one pass into a
// scratch buffer, names compressed against what is already in the message, and records that
// do not fit the client's size dropped (answers: with TC set so the client retries over TCP;
// additionals: silently, as RFC 2181 9 allows).

export const TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, ANY: 255 } as const;
export const CLASS_IN = 1;
export const CLASS_ANY = 255;

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

export type Rdata =
  | { readonly type: 1 | 28; readonly addr: Buffer }
  | { readonly type: 2 | 5 | 12; readonly target: string }
  | { readonly type: 33; readonly priority: number; readonly weight: number; readonly port: number; readonly target: string }
  | { readonly type: 16; readonly text: readonly string[] }
  | { readonly type: 6; readonly mname: string; readonly rname: string; readonly serial: number; readonly refresh: number; readonly retry: number; readonly expire: number; readonly minimum: number };

export interface ResourceRecord {
  readonly name: string;
  readonly ttl: number;
  readonly data: Rdata;
}

export interface ResponseSpec {
  readonly id: number;
  readonly opcode: number;
  readonly rcode: number;
  readonly authoritative: boolean;
  readonly recursionDesired: boolean;
  readonly checkingDisabled?: boolean;
  readonly question?: { readonly name: string; readonly type: number; readonly class: number };
  readonly answers?: readonly ResourceRecord[];
  readonly authorities?: readonly ResourceRecord[];
  readonly additionals?: readonly ResourceRecord[];
  /** set when the query carried an OPT record: the reply carries one too, advertising this size */
  readonly edns?: { readonly udpSize: number };
  /** set TC whatever fits (the answer exists but is too large for this transport) */
  readonly truncated?: boolean;
}

/** The message size a reply over UDP may have: 512, or the client's EDNS size (RFC 6891 6.2.5). */
export function udpLimit(ednsSize: number | undefined): number {
  if (ednsSize === undefined) return 512;
  return Math.min(65535, Math.max(512, ednsSize));
}

class Overflow extends Error {}

interface NameParts {
  readonly labels: readonly string[];
  /** suffixes[i]: labels i.. joined and lower-cased, the key names are compressed under */
  readonly suffixes: readonly string[];
}

/** One per server: encoding is synchronous, so a single scratch buffer serves every reply. */
export class WireWriter {
  private readonly buf = Buffer.allocUnsafe(65535);
  private pos = 0;
  private limit = 0;
  private names = new Map<string, number>();
  private added: string[] = [];
  private readonly partsCache = new Map<string, NameParts>();

  /** The reply, at most `limit` bytes (the message is cut as the module comment says). */
  encode(r: ResponseSpec, limit = 65535): Buffer {
    this.pos = 0;
    this.names = new Map();
    const optSize = r.edns ? 11 : 0;
    this.limit = Math.min(65535, limit) - optSize;
    let truncated = r.truncated ?? false;
    const b = this.buf;
    b.writeUInt16BE(r.id & 0xffff, 0);
    b.fill(0, 2, 12);
    this.pos = 12;
    let qd = 0;
    if (r.question) {
      this.name(r.question.name, true);
      this.u16(r.question.type);
      this.u16(r.question.class);
      qd = 1;
    }
    const section = (rrs: readonly ResourceRecord[] | undefined, cutIsTruncation: boolean): number => {
      let n = 0;
      if (truncated || !rrs) return 0;
      for (const rr of rrs) {
        if (!this.record(rr)) {
          if (cutIsTruncation) truncated = true;
          break;
        }
        n++;
      }
      return n;
    };
    const an = section(r.answers, true);
    const ns = section(r.authorities, true);
    let ar = section(r.additionals, false);
    if (r.edns) {
      this.limit += optSize;
      this.u8(0);
      this.u16(TYPE.OPT);
      this.u16(Math.min(65535, Math.max(512, r.edns.udpSize)));
      this.u32(0);
      this.u16(0);
      ar++;
    }
    let flags = 0x8000 | ((r.opcode & 0xf) << 11) | (r.rcode & 0xf) | 0x80;
    if (r.authoritative) flags |= 0x400;
    if (truncated) flags |= 0x200;
    if (r.recursionDesired) flags |= 0x100;
    if (r.checkingDisabled) flags |= 0x10;
    b.writeUInt16BE(flags, 2);
    b.writeUInt16BE(qd, 4);
    b.writeUInt16BE(an, 6);
    b.writeUInt16BE(ns, 8);
    b.writeUInt16BE(ar, 10);
    return Buffer.from(b.subarray(0, this.pos));
  }

  /** Writes one record; on overflow rolls back to where it started and returns false. */
  private record(rr: ResourceRecord): boolean {
    const start = this.pos;
    this.added = [];
    try {
      this.name(rr.name, true);
      this.u16(rr.data.type);
      this.u16(CLASS_IN);
      this.u32(rr.ttl >>> 0);
      const lenAt = this.pos;
      this.u16(0);
      const d = rr.data;
      switch (d.type) {
        case 1:
        case 28:
          this.bytes(d.addr);
          break;
        case 2:
        case 5:
        case 12:
          this.name(d.target, true);
          break;
        case 33:
          this.u16(d.priority);
          this.u16(d.weight);
          this.u16(d.port);
          // RFC 2782: the target is never compressed (it may still be pointed at later).
          this.name(d.target, false);
          break;
        case 16:
          for (const t of d.text) {
            const s = Buffer.from(t, "utf8");
            for (let i = 0; i < s.length || i === 0; i += 255) {
              const part = s.subarray(i, i + 255);
              this.u8(part.length);
              this.bytes(part);
            }
          }
          break;
        case 6:
          this.name(d.mname, true);
          this.name(d.rname, true);
          this.u32(d.serial >>> 0);
          this.u32(d.refresh);
          this.u32(d.retry);
          this.u32(d.expire);
          this.u32(d.minimum);
          break;
      }
      this.buf.writeUInt16BE(this.pos - lenAt - 2, lenAt);
      return true;
    } catch (err) {
      if (!(err instanceof Overflow)) throw err;
      this.pos = start;
      for (const k of this.added) this.names.delete(k);
      return false;
    }
  }

  private name(name: string, compress: boolean): void {
    const parts = this.nameParts(name);
    for (let i = 0; i < parts.labels.length; i++) {
      const suffix = parts.suffixes[i]!;
      const at = this.names.get(suffix);
      if (compress && at !== undefined) return this.u16(0xc000 | at);
      if (this.pos < 0x3fff && at === undefined) {
        this.names.set(suffix, this.pos);
        this.added.push(suffix);
      }
      const label = parts.labels[i]!;
      // Empty or over-long labels only come from objects no validation let through; cut them
      // rather than writing a message no client can parse.
      if (label.length === 0 || label.length > 63) throw new Overflow();
      this.room(1 + label.length);
      this.buf[this.pos] = label.length;
      this.buf.write(label, this.pos + 1, "latin1");
      this.pos += 1 + label.length;
    }
    this.u8(0);
  }

  /** Labels and lower-cased suffixes of a name; the same few names recur in every answer. */
  private nameParts(name: string): NameParts {
    let p = this.partsCache.get(name);
    if (p) return p;
    const n = name.endsWith(".") ? name.slice(0, -1) : name;
    const labels = n === "" ? [] : n.split(".");
    const lower = n.toLowerCase();
    const suffixes: string[] = [];
    let at = 0;
    for (const l of labels) {
      suffixes.push(lower.slice(at));
      at += l.length + 1;
    }
    p = { labels, suffixes };
    if (this.partsCache.size >= 10_000) this.partsCache.clear();
    this.partsCache.set(name, p);
    return p;
  }

  private room(n: number): void {
    if (this.pos + n > this.limit) throw new Overflow();
  }

  private u8(v: number): void {
    this.room(1);
    this.buf[this.pos++] = v;
  }

  private u16(v: number): void {
    this.room(2);
    this.buf.writeUInt16BE(v & 0xffff, this.pos);
    this.pos += 2;
  }

  private u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
  }

  private bytes(data: Buffer): void {
    this.room(data.length);
    data.copy(this.buf, this.pos);
    this.pos += data.length;
  }
}

/** A message as it travels over TCP: preceded by its length (RFC 1035 4.2.2). */
export function frame(msg: Buffer): Buffer {
  const len = Buffer.allocUnsafe(2);
  len.writeUInt16BE(msg.length);
  return Buffer.concat([len, msg]);
}

/** The id of a message (its first two bytes); -1 when it is too short to be one. */
export function messageId(msg: Buffer): number {
  return msg.length >= 2 ? msg.readUInt16BE(0) : -1;
}

/** A copy of `msg` with its id replaced. */
export function withId(msg: Buffer, id: number): Buffer {
  const out = Buffer.from(msg);
  out.writeUInt16BE(id & 0xffff, 0);
  return out;
}

export function isTruncated(msg: Buffer): boolean {
  return msg.length >= 4 && (msg[2]! & 0x02) !== 0;
}

export function rcodeOf(msg: Buffer): number {
  return msg.length >= 4 ? msg[3]! & 0x0f : -1;
}

// ---- reading queries ----------------------------------------------------------------------

/** A message that cannot be read as a DNS query; the server drops it. */
export class MalformedMessage extends Error {
  override readonly name = "MalformedMessage";
}

export interface ParsedQuery {
  readonly id: number;
  readonly opcode: number;
  readonly recursionDesired: boolean;
  readonly checkingDisabled: boolean;
  readonly questionCount: number;
  /** the first question; names keep the client's case */
  readonly question: { readonly name: string; readonly type: number; readonly class: number } | undefined;
  /** the OPT record's advertised UDP size and version, when there is one */
  readonly edns: { readonly udpSize: number; readonly version: number } | undefined;
}

/**
 * Reads the parts of a query the server acts on — header, first question, OPT — without
 * building objects for the rest. Throws MalformedMessage for anything that is not a query or
 * runs past its end.
 */
export function parseQuery(msg: Buffer): ParsedQuery {
  if (msg.length < 12) throw new MalformedMessage("shorter than a header");
  const flags = msg.readUInt16BE(2);
  if (flags & 0x8000) throw new MalformedMessage("a response, not a query");
  const qd = msg.readUInt16BE(4);
  const an = msg.readUInt16BE(6);
  const ns = msg.readUInt16BE(8);
  const ar = msg.readUInt16BE(10);
  let off = 12;
  let question: ParsedQuery["question"];
  for (let i = 0; i < qd; i++) {
    if (i === 0) {
      const [name, end] = readQuestionName(msg, off);
      if (end + 4 > msg.length) throw new MalformedMessage("question runs past the end");
      question = { name, type: msg.readUInt16BE(end), class: msg.readUInt16BE(end + 2) };
      off = end + 4;
    } else {
      off = skipName(msg, off) + 4;
      if (off > msg.length) throw new MalformedMessage("question runs past the end");
    }
  }
  let edns: ParsedQuery["edns"];
  for (let i = 0; i < an + ns + ar; i++) {
    off = skipName(msg, off);
    if (off + 10 > msg.length) throw new MalformedMessage("record runs past the end");
    const type = msg.readUInt16BE(off);
    const rdlen = msg.readUInt16BE(off + 8);
    if (i >= an + ns && type === TYPE.OPT) edns = { udpSize: msg.readUInt16BE(off + 2), version: msg[off + 5]! };
    off += 10 + rdlen;
    if (off > msg.length) throw new MalformedMessage("record data runs past the end");
  }
  return {
    id: msg.readUInt16BE(0),
    opcode: (flags >> 11) & 0xf,
    recursionDesired: (flags & 0x100) !== 0,
    checkingDisabled: (flags & 0x10) !== 0,
    questionCount: qd,
    question,
    edns,
  };
}

function readQuestionName(msg: Buffer, start: number): [string, number] {
  const labels: string[] = [];
  let off = start;
  let total = 0;
  for (;;) {
    if (off >= msg.length) throw new MalformedMessage("name runs past the end");
    const len = msg[off]!;
    if (len === 0) return [labels.join("."), off + 1];
    // The first name of a message has nothing before it to point at.
    if (len > 63) throw new MalformedMessage("compressed or invalid label in the question");
    if (off + 1 + len > msg.length) throw new MalformedMessage("label runs past the end");
    const label = msg.toString("latin1", off + 1, off + 1 + len);
    // A dot inside a label cannot be told apart from a separator in the names the cache keys.
    if (label.includes(".")) throw new MalformedMessage("dot inside a label");
    labels.push(label);
    total += len + 1;
    if (total > 254) throw new MalformedMessage("name longer than 255 bytes");
    off += len + 1;
  }
}

function skipName(msg: Buffer, start: number): number {
  let off = start;
  for (;;) {
    if (off >= msg.length) throw new MalformedMessage("name runs past the end");
    const len = msg[off]!;
    if (len === 0) return off + 1;
    if ((len & 0xc0) === 0xc0) {
      if (off + 2 > msg.length) throw new MalformedMessage("pointer runs past the end");
      return off + 2;
    }
    if (len > 63) throw new MalformedMessage("invalid label length");
    off += len + 1;
  }
}
