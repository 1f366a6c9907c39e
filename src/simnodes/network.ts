// Fake addresses for simulated nodes and their pods. Every node gets a pod CIDR block from
// 10.128.0.0/9 (the first block no other node uses, as the node IPAM controller would hand
// out) and an InternalIP in 172.16.0.0/12 derived from that block, so two simulator processes
// in one cluster give out distinct addresses as long as they do not register at the same
// instant. Pods get addresses from their node's block.
import { SimNodesError } from "./errors.js";

const POD_RANGE_BASE = ipToInt("10.128.0.0");
const POD_RANGE_BITS = 23;
const HOST_RANGE_BASE = ipToInt("172.16.0.0");
const HOST_RANGE_SIZE = 2 ** 20;

export function ipToInt(ip: string): number {
  const parts = ip.split(".");
  if (parts.length !== 4) return Number.NaN;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return Number.NaN;
    n = n * 256 + Number(p);
  }
  return n;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** An IPv4 CIDR as [first address, size]; undefined for anything else (IPv6 blocks never collide with ours). */
export function parseCidr(cidr: string): { readonly base: number; readonly size: number } | undefined {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr);
  if (!m) return undefined;
  const ip = ipToInt(m[1]!);
  const bits = Number(m[2]);
  if (Number.isNaN(ip) || bits > 32) return undefined;
  const size = 2 ** (32 - bits);
  return { base: ip - (ip % size), size };
}

/** Host bits of a block that holds `maxPods` pods besides the network, gateway and broadcast addresses (at least a /24). */
export function blockHostBits(maxPods: number): number {
  return Math.max(8, Math.ceil(Math.log2(maxPods + 3)));
}

export interface NodeAddresses {
  readonly podCIDR: string;
  readonly internalIP: string;
}

/**
 * Hands out pod CIDR blocks of one size, skipping every range already in use. `used` are the
 * podCIDRs of the nodes that exist; blocks are taken lowest first.
 */
export class CidrAllocator {
  private readonly blockSize: number;
  private readonly taken: { base: number; end: number }[];
  private cursor = 0;

  constructor(hostBits: number, used: Iterable<string>) {
    this.blockSize = 2 ** hostBits;
    this.taken = [];
    for (const c of used) {
      const r = parseCidr(c);
      if (r) this.taken.push({ base: r.base, end: r.base + r.size });
    }
    this.taken.sort((a, b) => a.base - b.base);
  }

  /** The next free block and the node address that goes with it. */
  next(): NodeAddresses {
    const blocks = 2 ** POD_RANGE_BITS / this.blockSize;
    while (this.cursor < blocks) {
      const base = POD_RANGE_BASE + this.cursor * this.blockSize;
      this.cursor++;
      const end = base + this.blockSize;
      if (this.taken.some((t) => t.base < end && base < t.end)) continue;
      this.taken.push({ base, end });
      return { podCIDR: `${intToIp(base)}/${32 - Math.log2(this.blockSize)}`, internalIP: internalIPFor(base) };
    }
    throw new SimNodesError("NoAddressSpace", `no free pod CIDR block of ${this.blockSize} addresses left in 10.128.0.0/9`);
  }
}

/** The node address that belongs to a pod block: distinct blocks of at least 256 addresses give distinct addresses. */
export function internalIPFor(blockBase: number): string {
  const index = Math.floor((blockBase - POD_RANGE_BASE) / 256);
  return intToIp(HOST_RANGE_BASE + 1 + (index % (HOST_RANGE_SIZE - 2)));
}

/** Pod addresses of one node's block: the first host address is the gateway, the last the broadcast address. */
export class IpPool {
  private readonly base: number;
  private readonly size: number;
  private readonly used = new Set<number>();
  private cursor = 2;

  constructor(cidr: string) {
    const r = parseCidr(cidr);
    if (!r) throw new SimNodesError("InvalidOptions", `pod CIDR ${JSON.stringify(cidr)} is not an IPv4 CIDR`);
    this.base = r.base;
    this.size = r.size;
  }

  /** A free address, or undefined when the block is full. */
  allocate(): string | undefined {
    const hosts = this.size - 3;
    for (let tried = 0; tried < hosts; tried++) {
      const offset = this.cursor;
      this.cursor = this.cursor + 1 >= this.size - 1 ? 2 : this.cursor + 1;
      if (!this.used.has(offset)) {
        this.used.add(offset);
        return intToIp(this.base + offset);
      }
    }
    return undefined;
  }

  /** Marks an address given out before (by an earlier run) as taken; false if it is not in this block. */
  claim(ip: string): boolean {
    const offset = ipToInt(ip) - this.base;
    if (!(offset >= 0 && offset < this.size)) return false;
    this.used.add(offset);
    return true;
  }

  release(ip: string): void {
    const offset = ipToInt(ip) - this.base;
    this.used.delete(offset);
  }

  get inUse(): number {
    return this.used.size;
  }
}
