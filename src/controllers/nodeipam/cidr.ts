// IPv4 and IPv6 prefixes as integers (BigInt, so one code path serves both families), and the
// cluster CIDR carved into equal node blocks with upstream's cidrset rules: blocks are handed
// out round-robin from just after the last one given (so a released block is not reused at
// once), a block is occupied by every node CIDR that overlaps it, and a cluster CIDR may hold
// at most 2^16 node blocks.

export type IpFamily = 4 | 6;

export interface Prefix {
  readonly family: IpFamily;
  /** the network address (host bits cleared) */
  readonly base: bigint;
  readonly bits: number;
}

export type CidrErrorCode = "InvalidCIDR" | "SubnetTooBig" | "MaskTooSmall" | "CIDRNotAvailable" | "OutOfRange";

export class CidrError extends Error {
  override readonly name = "CidrError";
  constructor(
    readonly code: CidrErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** upstream's clusterSubnetMaxDiff: a cluster CIDR is split into at most 2^16 node blocks */
export const MAX_SUBNET_BITS = 16;

function width(f: IpFamily): number {
  return f === 4 ? 32 : 128;
}

function parseIPv4(s: string): bigint | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255 || (p.length > 1 && p.startsWith("0"))) return undefined;
    n = (n << 8n) | BigInt(p);
  }
  return n;
}

function parseIPv6(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const groups = (h: string): number[] | undefined => {
    if (h === "") return [];
    const out: number[] = [];
    const items = h.split(":");
    for (let i = 0; i < items.length; i++) {
      const g = items[i]!;
      // An embedded IPv4 address may end the address (::ffff:1.2.3.4).
      if (i === items.length - 1 && g.includes(".")) {
        const v4 = parseIPv4(g);
        if (v4 === undefined) return undefined;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  let all: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return undefined;
    all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    all = head;
  }
  if (all.length !== 8) return undefined;
  return all.reduce((n, g) => (n << 16n) | BigInt(g), 0n);
}

export function parseIP(s: string): { readonly family: IpFamily; readonly value: bigint } | undefined {
  if (s.includes(":")) {
    const v = parseIPv6(s);
    return v === undefined ? undefined : { family: 6, value: v };
  }
  const v = parseIPv4(s);
  return v === undefined ? undefined : { family: 4, value: v };
}

/** RFC 5952 text: lower case, the longest run of two or more zero groups (the first on a tie) as `::`. */
export function formatIP(family: IpFamily, value: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 255n)).join(".");
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
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
