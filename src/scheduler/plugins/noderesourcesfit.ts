// NodeResourcesFit: the pod's requests (containers summed, init containers' peak, overhead)
// must fit in what the node's allocatable leaves after the pods already there, and the node
// must have room for one more pod (filter). Its score is LeastAllocated: nodes with more CPU and
// memory left after placing the pod score higher, so pods spread out.
import type { NodeInfo } from "../framework/nodeinfo.js";
import type { PodInfo } from "../framework/podinfo.js";
import { RESOURCE_CPU, RESOURCE_EPHEMERAL_STORAGE, RESOURCE_MEMORY, RESOURCE_PODS, isExtendedResourceName } from "../framework/resources.js";
import { Code, MAX_NODE_SCORE, Status, type ClusterEvent, type CycleState, type FilterPlugin, type ScorePlugin } from "../framework/types.js";
import { NODE_RESOURCES_FIT } from "./names.js";

/** Upstream's noderesources.InsufficientResource. */
export interface InsufficientResource {
  readonly resourceName: string;
  readonly reason: string;
  /** What the pod asks for (1 for pods). */
  readonly requested: number;
  /** What the pods already on the node hold. */
  readonly used: number;
  /** The node's allocatable. */
  readonly capacity: number;
}

export interface FitOptions {
  /** Extended resources the scheduler does not check (upstream ignoredResources). */
  readonly ignoredResources?: ReadonlySet<string>;
  /** Extended resource groups (the part before "/") it does not check. */
  readonly ignoredResourceGroups?: ReadonlySet<string>;
}

/** Every reason `pod` does not fit on `node`; empty when it fits. */
export function fitsRequest(pod: PodInfo, node: NodeInfo, opts: FitOptions = {}): InsufficientResource[] {
  const out: InsufficientResource[] = [];
  const alloc = node.allocatable;
  const used = node.requested;
  if (node.pods.length + 1 > alloc.allowedPodNumber) {
    out.push({ resourceName: RESOURCE_PODS, reason: "Too many pods", requested: 1, used: node.pods.length, capacity: alloc.allowedPodNumber });
  }
  const req = pod.requests;
  if (req.isZero()) return out;
  if (req.milliCPU > 0 && req.milliCPU > alloc.milliCPU - used.milliCPU) {
    out.push({ resourceName: RESOURCE_CPU, reason: "Insufficient cpu", requested: req.milliCPU, used: used.milliCPU, capacity: alloc.milliCPU });
  }
  if (req.memory > 0 && req.memory > alloc.memory - used.memory) {
    out.push({ resourceName: RESOURCE_MEMORY, reason: "Insufficient memory", requested: req.memory, used: used.memory, capacity: alloc.memory });
  }
  if (req.ephemeralStorage > 0 && req.ephemeralStorage > alloc.ephemeralStorage - used.ephemeralStorage) {
    out.push({ resourceName: RESOURCE_EPHEMERAL_STORAGE, reason: "Insufficient ephemeral-storage", requested: req.ephemeralStorage, used: used.ephemeralStorage, capacity: alloc.ephemeralStorage });
  }
  if (req.scalar) {
    for (const [name, q] of req.scalar) {
      if (q === 0) continue;
      if (isExtendedResourceName(name) && (opts.ignoredResources?.has(name) || opts.ignoredResourceGroups?.has(name.split("/")[0]!))) continue;
      const a = alloc.getScalar(name);
      const u = used.getScalar(name);
      if (q > a - u) out.push({ resourceName: name, reason: `Insufficient ${name}`, requested: q, used: u, capacity: a });
    }
  }
  return out;
}

/** Upstream's leastRequestedScore: the share left free, 0..100, integer. */
export function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.trunc(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

/** LeastAllocated over CPU and memory with weight 1 each (upstream's default scoring strategy). */
export function leastAllocatedScore(pod: PodInfo, node: NodeInfo): number {
  let total = 0;
  let weights = 0;
  const alloc = node.allocatable;
  if (alloc.milliCPU !== 0) {
    total += leastRequestedScore(node.nonZeroRequested.milliCPU + pod.nonZeroRequests.milliCPU, alloc.milliCPU);
    weights++;
  }
  if (alloc.memory !== 0) {
    total += leastRequestedScore(node.nonZeroRequested.memory + pod.nonZeroRequests.memory, alloc.memory);
    weights++;
  }
  return weights === 0 ? 0 : Math.trunc(total / weights);
}

export class NodeResourcesFit implements FilterPlugin, ScorePlugin {
  readonly name = NODE_RESOURCES_FIT;
  readonly events: readonly ClusterEvent[] = ["AssignedPodDelete", "AssignedPodScaleDown", "NodeAdd", "NodeAllocatable"];

  constructor(private readonly opts: FitOptions = {}) {}

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    // The common case decided without allocating: room for the pod and every request.
    const alloc = node.allocatable;
    const used = node.requested;
    const req = pod.requests;
    if (
      node.pods.length < alloc.allowedPodNumber &&
      req.milliCPU <= alloc.milliCPU - used.milliCPU &&
      req.memory <= alloc.memory - used.memory &&
      req.ephemeralStorage <= alloc.ephemeralStorage - used.ephemeralStorage &&
      req.scalar === undefined
    ) {
      return null;
    }
    const insufficient = fitsRequest(pod, node, this.opts);
    if (insufficient.length === 0) return null;
    return new Status(
      Code.Unschedulable,
      insufficient.map((r) => r.reason),
      NODE_RESOURCES_FIT,
    );
  }

  score(_state: CycleState, pod: PodInfo, node: NodeInfo): number {
    return leastAllocatedScore(pod, node);
  }
}
