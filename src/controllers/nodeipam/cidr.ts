// IPv4 and IPv6 prefixes as integers (BigInt, so one code path serves both families), and the
// cluster CIDR carved into equal node blocks with upstream's cidrset rules: blocks are handed
// out round-robin from just after the last one given (so a released block is not reused at
// once), a block is occupied by every node CIDR that overlaps it, and a cluster CIDR may hold
// at most 2^16 node blocks.

import { formatIP as formatAnyIP, parseIP as parseAnyIP } from "../../api/ip.js";
import { CodedError } from "../../util/errors.js";

export type IpFamily = 4 | 6;

export interface Prefix {
  readonly family: IpFamily;
  /** the network address (host bits cleared) */
  readonly base: bigint;
  readonly bits: number;
}

export type CidrErrorCode = "InvalidCIDR" | "SubnetTooBig" | "MaskTooSmall" | "CIDRNotAvailable" | "OutOfRange";

export class CidrError extends CodedError<CidrErrorCode> {
  override readonly name = "CidrError";
}

/** upstream's clusterSubnetMaxDiff: a cluster CIDR is split into at most 2^16 node blocks */
export const MAX_SUBNET_BITS = 16;

function width(f: IpFamily): number {
  return f === 4 ? 32 : 128;
}

export function parseIP(s: string): { readonly family: IpFamily; readonly value: bigint } | undefined {
  const p = parseAnyIP(s);
  if (!p) return undefined;
  // Written as IPv6 (::ffff:a.b.c.d), a prefix length counts 128 bits: keep it an IPv6 value.
  if (p.family === "IPv4" && s.includes(":")) return { family: 6, value: (0xffffn << 32n) | p.value };
  return { family: p.family === "IPv4" ? 4 : 6, value: p.value };
}

/** RFC 5952 text, as Go prints addresses. */
export function formatIP(family: IpFamily, value: bigint): string {
  return formatAnyIP(value, family === 4 ? "IPv4" : "IPv6");
}

/** A CIDR as its network; host bits set in the input are cleared (as Go's net.ParseCIDR does). */
export function parseCIDR(s: string): Prefix {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s.trim());
  const ip = m ? parseIP(m[1]!) : undefined;
  const bits = m ? Number(m[2]) : Number.NaN;
  if (!ip || !(bits >= 0 && bits <= width(ip.family))) throw new CidrError("InvalidCIDR", `invalid CIDR address: ${s}`);
  const hostBits = BigInt(width(ip.family) - bits);
  return { family: ip.family, base: (ip.value >> hostBits) << hostBits, bits };
}

export function formatCIDR(p: Prefix): string {
  return `${formatIP(p.family, p.base)}/${p.bits}`;
}

function size(p: Prefix): bigint {
  return 1n << BigInt(width(p.family) - p.bits);
}

/** Whether two prefixes share an address. */
export function overlaps(a: Prefix, b: Prefix): boolean {
  return a.family === b.family && a.base < b.base + size(b) && b.base < a.base + size(a);
}

/**
 * One cluster CIDR cut into node blocks of `maskSize` bits. Occupancy is counted per block, so
 * that two nodes wrongly given overlapping CIDRs do not free a block still in use when one goes.
 */
export class CidrSet {
  readonly cluster: Prefix;
  readonly maskSize: number;
  /** how many node blocks the cluster CIDR holds */
  readonly capacity: number;
  private readonly used = new Map<number, number>();
  private next = 0;

  constructor(clusterCIDR: string, maskSize: number) {
    this.cluster = parseCIDR(clusterCIDR);
    const w = width(this.cluster.family);
    if (!(Number.isInteger(maskSize) && maskSize <= w)) throw new CidrError("InvalidCIDR", `node CIDR mask size ${maskSize} is not valid for ${clusterCIDR}`);
    if (maskSize < this.cluster.bits) throw new CidrError("MaskTooSmall", `node CIDR mask size /${maskSize} is larger than the cluster CIDR ${clusterCIDR}`);
    if (maskSize - this.cluster.bits > MAX_SUBNET_BITS) {
      throw new CidrError("SubnetTooBig", `node CIDR mask size /${maskSize} splits ${clusterCIDR} into more than 2^${MAX_SUBNET_BITS} blocks; use a smaller mask or a smaller cluster CIDR`);
    }
    this.maskSize = maskSize;
    this.capacity = 2 ** (maskSize - this.cluster.bits);
  }

  get family(): IpFamily {
    return this.cluster.family;
  }

  /** blocks in use */
  get allocated(): number {
    return this.used.size;
  }

  private blockCIDR(index: number): string {
    const shift = BigInt(width(this.family) - this.maskSize);
    return formatCIDR({ family: this.family, base: this.cluster.base + (BigInt(index) << shift), bits: this.maskSize });
  }

  /** The next free block after the last one handed out, wrapping around; throws CIDRNotAvailable when none is left. */
  allocateNext(): string {
    for (let i = 0; i < this.capacity; i++) {
      const index = (this.next + i) % this.capacity;
      if (this.used.has(index)) continue;
      this.used.set(index, 1);
      this.next = (index + 1) % this.capacity;
      return this.blockCIDR(index);
    }
    throw new CidrError("CIDRNotAvailable", `no free node CIDR of /${this.maskSize} left in ${formatCIDR(this.cluster)}`);
  }

  /** Indexes of the blocks `cidr` overlaps; OutOfRange when it is not (wholly or partly) inside the cluster CIDR. */
  private blocksOf(cidr: string): [number, number] {
    const p = parseCIDR(cidr);
    if (!overlaps(p, this.cluster)) throw new CidrError("OutOfRange", `${cidr} is not in the cluster CIDR ${formatCIDR(this.cluster)}`);
    const shift = BigInt(width(this.family) - this.maskSize);
    const lo = p.base > this.cluster.base ? p.base : this.cluster.base;
    const pEnd = p.base + size(p) - 1n;
    const cEnd = this.cluster.base + size(this.cluster) - 1n;
    const hi = pEnd < cEnd ? pEnd : cEnd;
    return [Number((lo - this.cluster.base) >> shift), Number((hi - this.cluster.base) >> shift)];
  }

  /** Marks every block `cidr` overlaps as used (a node's CIDR given out earlier, or by someone else). */
  occupy(cidr: string): void {
    const [first, last] = this.blocksOf(cidr);
    for (let i = first; i <= last; i++) this.used.set(i, (this.used.get(i) ?? 0) + 1);
  }

  release(cidr: string): void {
    const [first, last] = this.blocksOf(cidr);
    for (let i = first; i <= last; i++) {
      const n = (this.used.get(i) ?? 0) - 1;
      if (n > 0) this.used.set(i, n);
      else this.used.delete(i);
    }
  }

  /** Whether `cidr` is of this set's family and inside its cluster CIDR. */
  contains(cidr: string): boolean {
    try {
      const p = parseCIDR(cidr);
      return overlaps(p, this.cluster);
    } catch {
      return false;
    }
  }

  isUsed(cidr: string): boolean {
    const [first, last] = this.blocksOf(cidr);
    for (let i = first; i <= last; i++) if (this.used.has(i)) return true;
    return false;
  }
}
