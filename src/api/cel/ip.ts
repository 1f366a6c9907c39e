// Kubernetes' IP and CIDR libraries (apiserver/pkg/cel/library/ip.go, cidr.go): ip(), isIP,
// ip.isCanonical, family, isUnspecified, isLoopback, isLinkLocalMulticast, isLinkLocalUnicast,
// isGlobalUnicast, string(ip); cidr(), isCIDR, containsIP, containsCIDR, ip, masked,
// prefixLength, string(cidr). Parsing is strict as Go's net/netip (no leading zeros in IPv4
// octets), and upstream rejects zones and IPv4-mapped IPv6 addresses on top of it.
import { EvaluationError, type Environment } from "@marcbachmann/cel-js";
import { formatIP } from "../ip.js";
import { parses } from "./values.js";

/** An address (net.IP in CEL): its family and its value as a number. */
export class CelIP {
  constructor(
    readonly family: 4 | 6,
    readonly value: bigint,
  ) {}
  get bits(): number {
    return this.family === 4 ? 32 : 128;
  }
  toString(): string {
    return formatIP(this.value, this.family === 4 ? "IPv4" : "IPv6");
  }
  equals(o: CelIP): boolean {
    return this.family === o.family && this.value === o.value;
  }
}

/** A prefix (net.CIDR in CEL): the address as written (host bits may be set) and the prefix length. */
export class CelCIDR {
  constructor(
    readonly ip: CelIP,
    readonly prefix: number,
  ) {}
  masked(): CelCIDR {
    return new CelCIDR(new CelIP(this.ip.family, maskValue(this.ip, this.prefix)), this.prefix);
  }
  contains(ip: CelIP): boolean {
    return ip.family === this.ip.family && maskValue(ip, this.prefix) === maskValue(this.ip, this.prefix);
  }
  toString(): string {
    return `${this.ip.toString()}/${this.prefix}`;
  }
  equals(o: CelCIDR): boolean {
    return this.prefix === o.prefix && this.ip.equals(o.ip);
  }
}

function maskValue(ip: CelIP, prefix: number): bigint {
  const hostBits = BigInt(ip.bits - prefix);
  return (ip.value >> hostBits) << hostBits;
}

/** The parse error of net/netip, without Go's `(at "…")` detail. */
class AddrError extends Error {}

function parseIPv4(s: string): bigint {
  const fields = s.split(".");
  if (fields.length < 4) throw new AddrError("IPv4 address too short");
  if (fields.length > 4) throw new AddrError("IPv4 address too long");
  let v = 0n;
  for (const f of fields) {
    if (f === "") throw new AddrError("IPv4 field must have at least one digit");
    if (!/^[0-9]+$/.test(f)) throw new AddrError("unexpected character");
    if (f.length > 1 && f.startsWith("0")) throw new AddrError("IPv4 field has octet with leading zero");
    const n = Number(f);
    if (n > 255) throw new AddrError("IPv4 field has value >255");
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseIPv6(s: string): bigint {
  const halves = s.split("::");
  if (halves.length > 2) throw new AddrError("multiple :: in address");
  const groups = (part: string): bigint[] => {
    if (part === "") return [];
    const out: bigint[] = [];
    const fields = part.split(":");
    fields.forEach((f, i) => {
      if (i === fields.length - 1 && f.includes(".")) {
        const v4 = parseIPv4(f);
        out.push(v4 >> 16n, v4 & 0xffffn);
        return;
      }
      if (f === "") throw new AddrError("each colon-separated field must have at least one digit");
      if (!/^[0-9a-fA-F]+$/.test(f)) throw new AddrError("unexpected character");
      if (f.length > 4) throw new AddrError("IPv6 field has value >=2^16");
      out.push(BigInt(`0x${f}`));
    });
    return out;
  };
  const head = groups(halves[0] ?? "");
  const tail = halves.length === 2 ? groups(halves[1] ?? "") : [];
  const total = head.length + tail.length;
  if (halves.length === 1 && total < 8) throw new AddrError("IPv6 address too short");
  if (total > 8 || (halves.length === 2 && total > 7)) throw new AddrError("IPv6 address too long");
  const all = [...head, ...Array<bigint>(8 - total).fill(0n), ...tail];
  return all.reduce((v, g) => (v << 16n) | g, 0n);
}

/** netip.ParseAddr: an address and its zone (after `%`), or AddrError. */
function parseAddr(s: string): { ip: CelIP; zone: string } {
  if (s === "") throw new AddrError("unable to parse IP");
  for (const c of s) {
    if (c === ".") return { ip: new CelIP(4, parseIPv4(s)), zone: "" };
    if (c === ":") {
      const pct = s.indexOf("%");
      const zone = pct < 0 ? "" : s.slice(pct + 1);
      if (pct >= 0 && zone === "") throw new AddrError("zone must be a non-empty string");
      return { ip: new CelIP(6, parseIPv6(pct < 0 ? s : s.slice(0, pct))), zone };
    }
  }
  throw new AddrError("unable to parse IP");
}

function isIPv4Mapped(ip: CelIP): boolean {
  return ip.family === 6 && ip.value >> 32n === 0xffffn;
}

function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** Upstream's parseIPAddr: netip.ParseAddr, then no zone and no IPv4-mapped IPv6. */
function parseIPAddr(raw: string): CelIP {
  let parsed: { ip: CelIP; zone: string };
  try {
    parsed = parseAddr(raw);
  } catch (e) {
    if (!(e instanceof AddrError)) throw e;
    throw new EvaluationError(`IP Address ${goQuote(raw)} parse error during conversion from string: ParseAddr(${goQuote(raw)}): ${e.message}`);
  }
  if (parsed.zone !== "") throw new EvaluationError(`IP address ${goQuote(raw)} with zone value is not allowed`);
  if (isIPv4Mapped(parsed.ip)) throw new EvaluationError(`IPv4-mapped IPv6 address ${goQuote(raw)} is not allowed`);
  return parsed.ip;
}

/** Upstream's parseCIDR: netip.ParsePrefix, then no IPv4-mapped IPv6. */
function parseCIDR(raw: string): CelCIDR {
  const fail = (msg: string): never => {
    throw new EvaluationError(
      `network address parse error during conversion from string: network address parse error during conversion from string: netip.ParsePrefix(${goQuote(raw)}): ${msg}`,
    );
  };
  const slash = raw.lastIndexOf("/");
  if (slash < 0) fail("no '/'");
  const addr = raw.slice(0, slash);
  const bits = raw.slice(slash + 1);
  let parsed: { ip: CelIP; zone: string } | undefined;
  try {
    parsed = parseAddr(addr);
  } catch (e) {
    if (!(e instanceof AddrError)) throw e;
    fail(`ParseAddr(${goQuote(addr)}): ${e.message}`);
  }
  if (!parsed) return fail("unable to parse IP");
  if (parsed.zone !== "") fail("IPv6 zones cannot be present in a prefix");
  if (!/^(0|[1-9][0-9]*)$/.test(bits)) fail(`bad bits after slash: ${goQuote(bits)}`);
  const n = Number(bits);
  if (n > parsed.ip.bits) fail("prefix length out of range");
  if (isIPv4Mapped(parsed.ip)) throw new EvaluationError(`network address parse error during conversion from string: IPv4-mapped IPv6 address ${goQuote(raw)} is not allowed`);
  return new CelCIDR(parsed.ip, n);
}

function inPrefix(ip: CelIP, prefix: bigint, bits: number): boolean {
  return maskValue(ip, bits) === prefix << BigInt(ip.bits - bits);
}

function isLoopback(ip: CelIP): boolean {
  return ip.family === 4 ? inPrefix(ip, 127n, 8) : ip.value === 1n;
}
function isMulticast(ip: CelIP): boolean {
  return ip.family === 4 ? inPrefix(ip, 0xen, 4) : inPrefix(ip, 0xffn, 8);
}
function isLinkLocalMulticast(ip: CelIP): boolean {
  return ip.family === 4 ? inPrefix(ip, 0xe00000n, 24) : ((ip.value >> 112n) & 0xff0fn) === 0xff02n;
}
function isLinkLocalUnicast(ip: CelIP): boolean {
  return ip.family === 4 ? inPrefix(ip, 0xa9fen, 16) : inPrefix(ip, 0x3fan, 10);
}
function isGlobalUnicast(ip: CelIP): boolean {
  if (ip.family === 4 && (ip.value === 0n || ip.value === 0xffffffffn)) return false;
  return !(ip.family === 6 && ip.value === 0n) && !isLoopback(ip) && !isMulticast(ip) && !isLinkLocalUnicast(ip);
}

/** The `ip` namespace of `ip.isCanonical(s)`, a method call on the constant `ip`. */
class IPNamespace {}

const IP = "net.IP";
const CIDR = "net.CIDR";

export function registerIPLibraries(env: Environment): void {
  env.registerType(IP, { ctor: CelIP, fields: {} });
  env.registerType(CIDR, { ctor: CelCIDR, fields: {} });
  env.registerType("k8ts.IPNamespace", IPNamespace);
  env.registerConstant("ip", "k8ts.IPNamespace", new IPNamespace());

  env.registerFunction(`ip(string): ${IP}`, parseIPAddr);
  env.registerFunction("isIP(string): bool", (s: string) => parses(() => parseIPAddr(s)));
  env.registerFunction("k8ts.IPNamespace.isCanonical(string): bool", (_: unknown, s: string) => parseIPAddr(s).toString() === s);
  env.registerFunction(`string(${IP}): string`, (ip: CelIP) => ip.toString());
  env.registerFunction(`${IP}.family(): int`, (ip: CelIP) => BigInt(ip.family));
  env.registerFunction(`${IP}.isUnspecified(): bool`, (ip: CelIP) => ip.value === 0n);
  env.registerFunction(`${IP}.isLoopback(): bool`, isLoopback);
  env.registerFunction(`${IP}.isLinkLocalMulticast(): bool`, isLinkLocalMulticast);
  env.registerFunction(`${IP}.isLinkLocalUnicast(): bool`, isLinkLocalUnicast);
  env.registerFunction(`${IP}.isGlobalUnicast(): bool`, isGlobalUnicast);
  env.registerOperator(`${IP} == ${IP}`, (a: CelIP, b: CelIP) => a.equals(b));

  env.registerFunction(`cidr(string): ${CIDR}`, parseCIDR);
  env.registerFunction("isCIDR(string): bool", (s: string) => parses(() => parseCIDR(s)));
  env.registerFunction(`string(${CIDR}): string`, (c: CelCIDR) => c.toString());
  env.registerFunction(`${CIDR}.containsIP(${IP}): bool`, (c: CelCIDR, ip: CelIP) => c.contains(ip));
  env.registerFunction(`${CIDR}.containsIP(string): bool`, (c: CelCIDR, s: string) => c.contains(parseIPAddr(s)));
  const containsCIDR = (c: CelCIDR, o: CelCIDR): boolean => o.prefix >= c.prefix && c.contains(o.ip);
  env.registerFunction(`${CIDR}.containsCIDR(${CIDR}): bool`, containsCIDR);
  env.registerFunction(`${CIDR}.containsCIDR(string): bool`, (c: CelCIDR, s: string) => containsCIDR(c, parseCIDR(s)));
  env.registerFunction(`${CIDR}.ip(): ${IP}`, (c: CelCIDR) => c.ip);
  env.registerFunction(`${CIDR}.masked(): ${CIDR}`, (c: CelCIDR) => c.masked());
  env.registerFunction(`${CIDR}.prefixLength(): int`, (c: CelCIDR) => BigInt(c.prefix));
  env.registerOperator(`${CIDR} == ${CIDR}`, (a: CelCIDR, b: CelCIDR) => a.equals(b));
}
