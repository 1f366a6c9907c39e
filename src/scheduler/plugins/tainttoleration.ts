// TaintToleration: a node's NoSchedule and NoExecute taints keep out pods that do not tolerate
// them (filter); PreferNoSchedule taints only make a node less attractive, by how many of them
// the pod does not tolerate (score, reversed so that fewer is better).
import { findUntoleratedTaint, tolerationsTolerateTaint, type RToleration } from "../framework/helpers.js";
import type { NodeInfo } from "../framework/nodeinfo.js";
import { defaultNormalizeScore } from "../framework/normalize.js";
import type { PodInfo } from "../framework/podinfo.js";
import { Code, MAX_NODE_SCORE, Status, type ClusterEvent, type CycleState, type FilterPlugin, type PreScorePlugin, type ScorePlugin, type StateData } from "../framework/types.js";
import { TAINT_TOLERATION } from "./names.js";

const PRE_SCORE_KEY = "PreScore" + TAINT_TOLERATION;

/** Upstream's reason text; the value is printed empty for a taint without one. */
export function untoleratedTaintReason(key: string, value: string | undefined): string {
  return `node(s) had untolerated taint {${key}: ${value ?? ""}}`;
}

class PreScoreState implements StateData {
  constructor(readonly tolerations: readonly RToleration[]) {}
  clone(): StateData {
    return this;
  }
}

export function countIntolerablePreferNoSchedule(node: NodeInfo, tolerations: readonly RToleration[]): number {
  let n = 0;
  for (const taint of node.taints) {
    if (taint.effect !== "PreferNoSchedule") continue;
    if (!tolerationsTolerateTaint(tolerations, taint)) n++;
  }
  return n;
}

export class TaintToleration implements FilterPlugin, PreScorePlugin, ScorePlugin {
  readonly name = TAINT_TOLERATION;
  readonly events: readonly ClusterEvent[] = ["NodeAdd", "NodeTaint"];

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    if (node.taints.length === 0) return null;
    const taint = findUntoleratedTaint(node.taints, pod.tolerations);
    if (!taint) return null;
    return new Status(Code.UnschedulableAndUnresolvable, [untoleratedTaintReason(taint.key, taint.value)], TAINT_TOLERATION);
  }

  preScore(state: CycleState, pod: PodInfo): Status | null {
    // Only tolerations that can match a PreferNoSchedule taint matter for the score.
    state.write(PRE_SCORE_KEY, new PreScoreState(pod.tolerations.filter((t) => !t.effect || t.effect === "PreferNoSchedule")));
    return null;
  }

  score(state: CycleState, pod: PodInfo, node: NodeInfo): number {
    if (node.taints.length === 0) return 0;
    const s = state.read<PreScoreState>(PRE_SCORE_KEY);
    return countIntolerablePreferNoSchedule(node, s?.tolerations ?? pod.tolerations);
  }

  normalizeScore(_state: CycleState, _pod: PodInfo, scores: Float64Array): void {
    defaultNormalizeScore(MAX_NODE_SCORE, true, scores);
  }
}
