// NodeResourcesBalancedAllocation: prefers nodes where, after placing the pod, CPU and memory
// would be used in equal shares (1 − the standard deviation of the used fractions), so that no
// node runs out of one resource while the other lies idle. Counts real requests (no 100m/200Mi
// defaults), and skips pods that request nothing (upstream #129138: they would all pile onto
// the same node).
import type { NodeInfo } from "../framework/nodeinfo.js";
import type { PodInfo } from "../framework/podinfo.js";
import { MAX_NODE_SCORE, Status, type CycleState, type PreScorePlugin, type ScorePlugin } from "../framework/types.js";
import { NODE_RESOURCES_BALANCED_ALLOCATION } from "./names.js";

/** Upstream's balancedResourceScorer over (requested, allocatable) pairs. */
export function balancedScore(requested: readonly number[], allocatable: readonly number[]): number {
  const fractions: number[] = [];
  let total = 0;
  for (let i = 0; i < requested.length; i++) {
    const a = allocatable[i]!;
    if (a === 0) continue;
    const f = Math.min(1, requested[i]! / a);
    total += f;
    fractions.push(f);
  }
  let std = 0;
  if (fractions.length === 2) {
    std = Math.abs((fractions[0]! - fractions[1]!) / 2);
  } else if (fractions.length > 2) {
    const mean = total / fractions.length;
    let sum = 0;
    for (const f of fractions) sum += (f - mean) * (f - mean);
    std = Math.sqrt(sum / fractions.length);
  }
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
}

/** balancedScore over exactly two resources, without arrays: it runs for every feasible node of every pod. */
export function balancedScore2(requested0: number, allocatable0: number, requested1: number, allocatable1: number): number {
  if (allocatable0 === 0 || allocatable1 === 0) return MAX_NODE_SCORE;
  const f0 = Math.min(1, requested0 / allocatable0);
  const f1 = Math.min(1, requested1 / allocatable1);
  return Math.trunc((1 - Math.abs((f0 - f1) / 2)) * MAX_NODE_SCORE);
}

export class BalancedAllocation implements PreScorePlugin, ScorePlugin {
  readonly name = NODE_RESOURCES_BALANCED_ALLOCATION;

  preScore(_state: CycleState, pod: PodInfo): Status | null {
    if (pod.requests.milliCPU === 0 && pod.requests.memory === 0) return Status.skip(this.name);
    return null;
  }

  score(_state: CycleState, pod: PodInfo, node: NodeInfo): number {
    const a = node.allocatable;
    const r = node.requested;
    return balancedScore2(r.milliCPU + pod.requests.milliCPU, a.milliCPU, r.memory + pod.requests.memory, a.memory);
  }
}
