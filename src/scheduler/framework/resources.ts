// Compute resources as the scheduler counts them (upstream framework.Resource and
// k8s.io/component-helpers resource.PodRequests): CPU in millicores, memory and storage in
// bytes, extended resources as integers, all plain numbers so that a Filter is a handful of
// comparisons. Quantity strings repeat endlessly across pods ("100m", "128Mi"), so each
// distinct string is parsed once.
import type { Container, Pod, ResourceRequirements } from "kubernetes-types/core/v1.js";
import { parseQuantity } from "../../api/quantity.js";
import { sumPodResources, type ResourceSum } from "../../api/podresources.js";
import type { DeepReadonly } from "../../client/objects.js";

export const RESOURCE_CPU = "cpu";
export const RESOURCE_MEMORY = "memory";
export const RESOURCE_EPHEMERAL_STORAGE = "ephemeral-storage";
export const RESOURCE_PODS = "pods";

/** What the scheduler assumes a container without a CPU request uses, for scoring only (100m). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
/** The same for memory (200 MiB). */
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

type ResourceList = DeepReadonly<Record<string, string | number>>;

const parsed = new Map<string, number>();
const parsedMilli = new Map<string, number>();
const MEMO_LIMIT = 10_000;

function memo(cache: Map<string, number>, s: string, f: (q: ReturnType<typeof parseQuantity>) => bigint): number {
  let v = cache.get(s);
  if (v !== undefined) return v;
  try {
    v = Number(f(parseQuantity(s)));
  } catch {
    // The API server validated every quantity it stored; an unparsable one counts as zero.
    v = 0;
  }
  if (cache.size >= MEMO_LIMIT) cache.clear();
  cache.set(s, v);
  return v;
}

/** A quantity's value rounded up to an integer (upstream Quantity.Value()). */
export function quantityValue(q: string | number | undefined): number {
  if (q === undefined) return 0;
  return memo(parsed, String(q), (x) => x.value());
}

/** A quantity in thousandths, rounded up (upstream Quantity.MilliValue()). */
export function quantityMilliValue(q: string | number | undefined): number {
  if (q === undefined) return 0;
  return memo(parsedMilli, String(q), (x) => x.milliValue());
}

/**
 * Upstream's IsScalarResourceName: extended resources (a domain-qualified name outside
 * kubernetes.io), hugepages-*, and attachable-volumes-*.
 */
export function isScalarResourceName(name: string): boolean {
  if (name.startsWith("hugepages-") || name.startsWith("attachable-volumes-")) return true;
  return isExtendedResourceName(name);
}

/** A name with a domain that is not (a subdomain of) kubernetes.io, and not requests.* (quota). */
export function isExtendedResourceName(name: string): boolean {
  const slash = name.indexOf("/");
  if (slash <= 0) return false;
  const domain = name.slice(0, slash);
  if (domain === "kubernetes.io" || domain.endsWith(".kubernetes.io")) return false;
  return !name.startsWith("requests.");
}

export class Resource {
  milliCPU = 0;
  memory = 0;
  ephemeralStorage = 0;
  allowedPodNumber = 0;
  /** Extended resources, hugepages, attachable volumes; absent until one is seen. */
  scalar: Map<string, number> | undefined;

  static fromList(rl: ResourceList | undefined): Resource {
    const r = new Resource();
    r.addList(rl);
    return r;
  }

  addList(rl: ResourceList | undefined): void {
    if (!rl) return;
    for (const name in rl) {
      const q = rl[name];
      switch (name) {
        case RESOURCE_CPU:
          this.milliCPU += quantityMilliValue(q);
          break;
        case RESOURCE_MEMORY:
          this.memory += quantityValue(q);
          break;
        case RESOURCE_EPHEMERAL_STORAGE:
          this.ephemeralStorage += quantityValue(q);
          break;
        case RESOURCE_PODS:
          this.allowedPodNumber += quantityValue(q);
          break;
        default:
          if (isScalarResourceName(name)) this.addScalar(name, quantityValue(q));
      }
    }
  }

  getScalar(name: string): number {
    return this.scalar?.get(name) ?? 0;
  }

  addScalar(name: string, v: number): void {
    this.scalar ??= new Map();
    this.scalar.set(name, (this.scalar.get(name) ?? 0) + v);
  }

  /** Adds (or with sign -1 subtracts) another resource. */
  add(o: Resource, sign = 1): void {
    this.milliCPU += sign * o.milliCPU;
    this.memory += sign * o.memory;
    this.ephemeralStorage += sign * o.ephemeralStorage;
    this.allowedPodNumber += sign * o.allowedPodNumber;
    if (o.scalar) for (const [k, v] of o.scalar) this.addScalar(k, sign * v);
  }

  /** Per dimension, the larger of this and `o`. */
  max(o: Resource): void {
    this.milliCPU = Math.max(this.milliCPU, o.milliCPU);
    this.memory = Math.max(this.memory, o.memory);
    this.ephemeralStorage = Math.max(this.ephemeralStorage, o.ephemeralStorage);
    this.allowedPodNumber = Math.max(this.allowedPodNumber, o.allowedPodNumber);
    if (o.scalar) {
      this.scalar ??= new Map();
      for (const [k, v] of o.scalar) this.scalar.set(k, Math.max(this.scalar.get(k) ?? 0, v));
    }
  }

  clone(): Resource {
    const r = new Resource();
    r.milliCPU = this.milliCPU;
    r.memory = this.memory;
    r.ephemeralStorage = this.ephemeralStorage;
    r.allowedPodNumber = this.allowedPodNumber;
    if (this.scalar) r.scalar = new Map(this.scalar);
    return r;
  }

  isZero(): boolean {
    if (this.milliCPU !== 0 || this.memory !== 0 || this.ephemeralStorage !== 0) return false;
    if (this.scalar) for (const v of this.scalar.values()) if (v !== 0) return false;
    return true;
  }
}

type RContainer = DeepReadonly<Container>;

function containerRequests(c: RContainer, nonZero: boolean): Resource {
  const req = (c.resources as DeepReadonly<ResourceRequirements> | undefined)?.requests as ResourceList | undefined;
  const r = Resource.fromList(req);
  if (nonZero) {
    if (req?.[RESOURCE_CPU] === undefined) r.milliCPU = DEFAULT_MILLI_CPU_REQUEST;
    if (req?.[RESOURCE_MEMORY] === undefined) r.memory = DEFAULT_MEMORY_REQUEST;
  }
  return r;
}

/** Resources added up field by field. */
const RESOURCE_SUM: ResourceSum<Resource> = { zero: () => new Resource(), add: (to, r) => to.add(r), max: (to, r) => to.max(r) };

/**
 * What a pod asks of a node, as upstream's PodRequests: its containers, init containers and
 * sidecars as api/podresources.ts adds them up, plus spec.overhead. With `nonZero`, containers
 * that request no CPU or memory count as 100m / 200Mi — what the scoring plugins use so that
 * empty pods still spread.
 */
export function podRequests(pod: DeepReadonly<Pod>, nonZero = false): Resource {
  const spec = pod.spec;
  const reqs = sumPodResources(spec, (c) => containerRequests(c, nonZero), RESOURCE_SUM);
  if (spec?.overhead) reqs.addList(spec.overhead as ResourceList);
  return reqs;
}

/** The Resource of a node's status.allocatable. */
export function nodeAllocatable(allocatable: ResourceList | undefined): Resource {
  return Resource.fromList(allocatable);
}

/** "2", "500m": millicores for people. */
export function formatMilliCPU(m: number): string {
  return m % 1000 === 0 ? String(m / 1000) : `${m}m`;
}

/** Bytes in the largest binary unit that keeps it whole-ish ("1.5Gi", "512Mi", "100"). */
export function formatBytes(b: number): string {
  const units = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
  let v = b;
  let unit = "";
  for (const u of units) {
    if (Math.abs(v) < 1024) break;
    v /= 1024;
    unit = u;
  }
  const s = Number.isInteger(v) ? String(v) : v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2).replace(/\.?0+$/, "");
  return s + unit;
}
