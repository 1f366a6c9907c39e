// Cluster IPs from a service CIDR and node ports from the node port range, each value one
// storage key (keys.ts). A requested value is checked against the range and taken by
// creating its key; a random value is drawn from the upper band first and then the lower one,
// scanning from a random start and skipping values already taken, with a create that loses a
// race to another API server simply moving on to the next value (upstream's ipallocator and
// portallocator behaviour, including their error messages).
import { AllocationKeys, type ParentRef } from "./keys.js";
import { AllocatorError, formatIP, parseIP, randomBelow, type IPFamily, type PortRange, type ServiceCIDR } from "./ranges.js";
import type { Store } from "../../storage/interface.js";

export const IP_ADDRESS_PREFIX = "/registry/ipaddresses/";
export const NODE_PORT_PREFIX = "/registry/ranges/nodeports/";

/** Upstream's label values on IPAddress objects, so that a future IPAddress resource serves these keys as they are. */
export const IP_FAMILY_LABEL = "ipaddress.kubernetes.io/ip-family";
export const IP_MANAGED_BY_LABEL = "ipaddress.kubernetes.io/managed-by";
export const IP_ALLOCATOR_NAME = "ipallocator.k8s.io";

export function ipAddressKeys(store: Store, now?: () => Date): AllocationKeys {
  return new AllocationKeys({
    store,
    prefix: IP_ADDRESS_PREFIX,
    apiVersion: "networking.k8s.io/v1",
    kind: "IPAddress",
    labels: (name) => ({ [IP_FAMILY_LABEL]: parseIP(name)?.family ?? "IPv4", [IP_MANAGED_BY_LABEL]: IP_ALLOCATOR_NAME }),
    ...(now ? { now } : {}),
  });
}

export function nodePortKeys(store: Store, now?: () => Date): AllocationKeys {
  return new AllocationKeys({ store, prefix: NODE_PORT_PREFIX, ...(now ? { now } : {}) });
}

/**
 * Walks [lo, hi] from a random start, wrapping once, and returns the first value `take`
 * accepts (undefined when none does).
 */
async function scan(lo: bigint, hi: bigint, take: (v: bigint) => Promise<boolean>): Promise<bigint | undefined> {
  const n = hi - lo + 1n;
  if (n <= 0n) return undefined;
  const start = randomBelow(n);
  for (let i = 0n; i < n; i++) {
    const v = lo + ((start + i) % n);
    if (await take(v)) return v;
  }
  return undefined;
}

/** Cluster IPs of one service CIDR. */
export class IPAllocator {
  constructor(
    readonly cidr: ServiceCIDR,
    private readonly keys: AllocationKeys,
  ) {}

  get family(): IPFamily {
    return this.cidr.family;
  }

  /** The key name of an address of this range (its canonical text), or a NotInRange error. */
  private nameOf(ip: string): string {
    const p = parseIP(ip);
    if (!p || p.family !== this.cidr.family || !this.cidr.contains(p.value)) {
      throw new AllocatorError("NotInRange", `the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${this.cidr.toString()}`);
    }
    return formatIP(p.value, p.family);
  }

  contains(ip: string): boolean {
    const p = parseIP(ip);
    return p !== undefined && p.family === this.cidr.family && this.cidr.contains(p.value);
  }

  /** Takes the given address for `parent`. A dry run checks without taking. */
  async allocate(ip: string, parent: ParentRef, dryRun = false): Promise<void> {
    const name = this.nameOf(ip);
    const ok = dryRun ? !(await this.keys.exists(name)) : await this.keys.create(name, parent);
    if (!ok) throw new AllocatorError("Allocated", "provided IP is already allocated");
  }

  /** Takes a free address; a dry run only finds one. Throws Full. */
  async allocateNext(parent: ParentRef, dryRun = false): Promise<string> {
    const taken = await this.keys.taken();
    const take = async (v: bigint): Promise<boolean> => {
      const name = formatIP(v, this.cidr.family);
      if (taken.has(name)) return false;
      return dryRun || (await this.keys.create(name, parent));
    };
    const band = this.cidr.staticBand;
    const upper = await scan(this.cidr.first + band, this.cidr.last, take);
    const got = upper ?? (band > 0n ? await scan(this.cidr.first, this.cidr.first + band - 1n, take) : undefined);
    if (got === undefined) throw new AllocatorError("Full", "range is full");
    return formatIP(got, this.cidr.family);
  }

  /** Gives the address back if `parent` holds it; addresses outside the range are ignored, as upstream's Release. */
  async release(ip: string, parent: ParentRef): Promise<boolean> {
    if (!this.contains(ip)) return false;
    return this.keys.release(this.nameOf(ip), parent);
  }
}

/** Node ports of the node port range (one key per port number, whatever the protocol). */
export class PortAllocator {
  constructor(
    readonly range: PortRange,
    private readonly keys: AllocationKeys,
  ) {}

  private check(port: number): void {
    if (!this.range.contains(port)) throw new AllocatorError("NotInRange", `provided port is not in the valid range. The range of valid ports is ${this.range.toString()}`);
  }

  async allocate(port: number, parent: ParentRef, dryRun = false): Promise<void> {
    this.check(port);
    const name = String(port);
    const ok = dryRun ? !(await this.keys.exists(name)) : await this.keys.create(name, parent);
    if (!ok) throw new AllocatorError("Allocated", "provided port is already allocated");
  }

  /** Takes a free port; a dry run only finds one (not one of `exclude`, the ports it found before). Throws Full. */
  async allocateNext(parent: ParentRef, dryRun = false, exclude: ReadonlySet<number> = new Set()): Promise<number> {
    const taken = await this.keys.taken();
    const take = async (v: bigint): Promise<boolean> => {
      const name = String(v);
      if (taken.has(name) || exclude.has(Number(v))) return false;
      return dryRun || (await this.keys.create(name, parent));
    };
    const base = BigInt(this.range.base);
    const band = BigInt(this.range.staticBand);
    const upper = await scan(base + band, BigInt(this.range.max), take);
    const got = upper ?? (band > 0n ? await scan(base, base + band - 1n, take) : undefined);
    if (got === undefined) throw new AllocatorError("Full", "range is full");
    return Number(got);
  }

  async release(port: number, parent: ParentRef): Promise<boolean> {
    if (!this.range.contains(port)) return false;
    return this.keys.release(String(port), parent);
  }
}
