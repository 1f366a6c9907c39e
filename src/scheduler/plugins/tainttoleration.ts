// TaintToleration: a node's NoSchedule and NoExecute taints keep out pods that do not tolerate
// them (filter); PreferNoSchedule taints only make a node less attractive, by how many of them
// the pod does not tolerate (score, reversed so that fewer is better).
import { findUntoleratedTaint, tolerationsTolerateTaint, type RToleration } from "../framework/helpers.js";
import { NO_TAINT_SET, type NodeInfo } from "../framework/nodeinfo.js";
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
  /** Counts by the node's taint set id: equal taint lists give equal counts. */
  readonly counts: number[] = [];
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

function untoleratedStatus(node: NodeInfo, tolerations: readonly RToleration[]): Status | null {
  const taint = findUntoleratedTaint(node.taints, tolerations);
  if (!taint) return null;
  return new Status(Code.UnschedulableAndUnresolvable, [untoleratedTaintReason(taint.key, taint.value)], TAINT_TOLERATION);
}

export class TaintToleration implements FilterPlugin, PreScorePlugin, ScorePlugin {
  readonly name = TAINT_TOLERATION;
  readonly events: readonly ClusterEvent[] = ["NodeAdd", "NodeTaint"];

  /**
   * Filter verdicts of the last pod's tolerations, by taint set id. Nodes with equal taint lists
   * get the same verdict, and a scheduling cycle checks hundreds of nodes that mostly share one
   * list; tolerations are frozen informer data, so the array's identity stands for its content.
   */
  private verdictsFor: readonly RToleration[] | undefined;
  private verdicts: (Status | null)[] = [];

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    if (node.taints.length === 0) return null;
    const id = node.taintSetId;
    if (id === NO_TAINT_SET) return untoleratedStatus(node, pod.tolerations);
    if (pod.tolerations !== this.verdictsFor) {
      this.verdictsFor = pod.tolerations;
      this.verdicts = [];
    }
    let s = this.verdicts[id];
    if (s === undefined) this.verdicts[id] = s = untoleratedStatus(node, pod.tolerations);
    return s;
  }

  preScore(state: CycleState, pod: PodInfo): Status | null {
    // Only tolerations that can match a PreferNoSchedule taint matter for the score.
    state.write(PRE_SCORE_KEY, new PreScoreState(pod.tolerations.filter((t) => !t.effect || t.effect === "PreferNoSchedule")));
    return null;
  }

  score(state: CycleState, pod: PodInfo, node: NodeInfo): number {
    if (node.taints.length === 0) return 0;
    const s = state.read<PreScoreState>(PRE_SCORE_KEY);
    if (!s) return countIntolerablePreferNoSchedule(node, pod.tolerations);
    const id = node.taintSetId;
    if (id === NO_TAINT_SET) return countIntolerablePreferNoSchedule(node, s.tolerations);
    let n = s.counts[id];
    if (n === undefined) s.counts[id] = n = countIntolerablePreferNoSchedule(node, s.tolerations);
    return n;
  }

  normalizeScore(_state: CycleState, _pod: PodInfo, scores: Float64Array): void {
    defaultNormalizeScore(MAX_NODE_SCORE, true, scores);
  }
}
