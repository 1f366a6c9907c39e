// The ranges services draw from: a service CIDR (--service-cluster-ip-range) and the node
// port range (--service-node-port-range), with upstream's address arithmetic and its split
// into a lower "static" band and an upper "dynamic" band (KEP-3070 for IPs, KEP-3668 for node
// ports): random allocation prefers the upper band, so that addresses and ports users pick by
// hand from the lower band are unlikely to be taken already.
import { randomBytes } from "node:crypto";
import { parseCIDRSloppy } from "../../api/validation.js";
import { bytesToBigInt, formatIP, parseIP, type IPFamily } from "../../api/ip.js";
import { CodedError } from "../../util/errors.js";

export { familyOfIP, formatIP, parseIP, type IPFamily, type ParsedIP } from "../../api/ip.js";

export type AllocatorErrorCode = "Full" | "Allocated" | "NotInRange" | "InvalidRange";

/** An allocation that could not be made; messages are upstream's, as users read them in 422s. */
export class AllocatorError extends CodedError<AllocatorErrorCode> {
  override readonly name = "AllocatorError";
}

export function isAllocatorError(err: unknown, code?: AllocatorErrorCode): err is AllocatorError {
  return err instanceof AllocatorError && (code === undefined || err.code === code);
}


/** The canonical text of an address given as text; undefined if it does not parse. */
export function canonicalIP(s: string): string | undefined {
  const p = parseIP(s);
  return p ? formatIP(p.value, p.family) : undefined;
}

/** A uniformly random integer in [0, n). */
export function randomBelow(n: bigint): bigint {
  if (n <= 0n) throw new RangeError("randomBelow needs a positive bound");
  if (n <= BigInt(Number.MAX_SAFE_INTEGER)) return BigInt(Math.floor(Math.random() * Number(n)));
  const bytes = Math.ceil(n.toString(2).length / 8) + 8;
  // 64 extra random bits make the modulo bias negligible.
  return bytesToBigInt([...randomBytes(bytes)]) % n;
}

/** min(max(lo, size/step), hi), or 0 when the range is too small to split (upstream calculateRangeOffset). */
function bandOffset(size: bigint, lo: bigint, hi: bigint, step: bigint): bigint {
  if (size <= lo) return 0n;
  const offset = size / step;
  if (offset < lo) return lo;
  if (offset > hi) return hi;
  return offset;
}

/**
 * A service CIDR. Allocatable addresses run from the one after the network address to the one
 * before the broadcast address (IPv4) or to the last address (IPv6); the first `staticBand`
 * of them form the lower band.
 */
export class ServiceCIDR {
  readonly family: IPFamily;
  /** The masked network address. */
  readonly network: bigint;
  readonly prefixLength: number;
  readonly first: bigint;
  readonly last: bigint;
  /** Addresses in the lower (static) band, counted from `first`. */
  readonly staticBand: bigint;

  private constructor(family: IPFamily, network: bigint, prefixLength: number) {
    this.family = family;
    this.network = network;
    this.prefixLength = prefixLength;
    const width = family === "IPv4" ? 32 : 128;
    const hostBits = BigInt(width - prefixLength);
    const size = 1n << hostBits;
    const broadcast = network + size - 1n;
    this.first = network + 1n;
    this.last = family === "IPv4" ? broadcast - 1n : broadcast;
    this.staticBand = bandOffset(size, 16n, 256n, 16n);
  }

  /** Parses `10.43.0.0/16`; host bits are masked off. Throws AllocatorError InvalidRange. */
  static parse(text: string): ServiceCIDR {
    const c = parseCIDRSloppy(text.trim());
    if (!c) throw new AllocatorError("InvalidRange", `invalid service CIDR ${JSON.stringify(text)}: must be an address range such as 10.43.0.0/16`);
    const v4 = c.ip.length === 4;
    const family: IPFamily = v4 ? "IPv4" : "IPv6";
    const width = v4 ? 32 : 128;
    // IPv4 needs room for a network, a broadcast and one service; IPv6 ranges are capped at /64 as upstream's.
    if (v4 && c.bits > 30) throw new AllocatorError("InvalidRange", `service CIDR ${text} is too small: an IPv4 range must be /30 or larger`);
    if (!v4 && (c.bits < 64 || c.bits > 126)) throw new AllocatorError("InvalidRange", `service CIDR ${text}: an IPv6 range must be between /64 and /126`);
    const hostBits = BigInt(width - c.bits);
    const network = (bytesToBigInt(c.ip) >> hostBits) << hostBits;
    return new ServiceCIDR(family, network, c.bits);
  }

  /** Number of allocatable addresses. */
  get size(): bigint {
    return this.last - this.first + 1n;
  }

  contains(ip: bigint): boolean {
    return ip >= this.first && ip <= this.last;
  }

  /** network + n, as upstream's GetIndexedIP: 1 is the `kubernetes` Service, 10 is kube-dns. */
  indexedIP(n: number): string {
    return formatIP(this.network + BigInt(n), this.family);
  }

  toString(): string {
    return `${formatIP(this.network, this.family)}/${this.prefixLength}`;
  }
}

/** Parses upstream's --service-cluster-ip-range: one CIDR, or two of different families (dual stack, primary first). */
export function parseServiceCIDRs(text: string): ServiceCIDR[] {
  const parts = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (parts.length === 0 || parts.length > 2) throw new AllocatorError("InvalidRange", `--service-cluster-ip-range must be one CIDR or two of different IP families, got ${JSON.stringify(text)}`);
  const cidrs = parts.map((p) => ServiceCIDR.parse(p));
  if (cidrs.length === 2 && cidrs[0]!.family === cidrs[1]!.family) throw new AllocatorError("InvalidRange", `--service-cluster-ip-range: the two CIDRs must be of different IP families, got ${JSON.stringify(text)}`);
  return cidrs;
}

/** A port range `base-max` (inclusive), as upstream's net.PortRange. */
export class PortRange {
  /** Ports in the lower (static) band, counted from `base`. */
  readonly staticBand: number;

  constructor(
    readonly base: number,
    readonly max: number,
  ) {
    this.staticBand = Number(bandOffset(BigInt(this.size), 16n, 128n, 32n));
  }

  /** `30000-32767`, `30000+2767` (base plus offset) or a single port. Throws AllocatorError InvalidRange. */
  static parse(text: string): PortRange {
    const t = text.trim();
    const bad = (): never => {
      throw new AllocatorError("InvalidRange", `invalid port range ${JSON.stringify(text)}: must be like 30000-32767`);
    };
    const m = /^(\d+)(?:([-+])(\d+))?$/.exec(t);
    if (!m) return bad();
    const base = Number(m[1]);
    let max = base;
    if (m[2] === "-") max = Number(m[3]);
    else if (m[2] === "+") max = base + Number(m[3]);
    if (base < 1 || max > 65535 || max < base) bad();
    return new PortRange(base, max);
  }

  get size(): number {
    return this.max - this.base + 1;
  }

  contains(port: number): boolean {
    return Number.isInteger(port) && port >= this.base && port <= this.max;
  }

  toString(): string {
    return `${this.base}-${this.max}`;
  }
}
