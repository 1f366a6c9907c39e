// NodeUnschedulable: a cordoned node (spec.unschedulable) takes no new pods, unless the pod
// tolerates the node.kubernetes.io/unschedulable:NoSchedule taint that stands for it.
import { TAINT_NODE_UNSCHEDULABLE, tolerationsTolerateTaint } from "../framework/helpers.js";
import type { NodeInfo } from "../framework/nodeinfo.js";
import type { PodInfo } from "../framework/podinfo.js";
import { Code, Status, type ClusterEvent, type CycleState, type FilterPlugin } from "../framework/types.js";
import { NODE_UNSCHEDULABLE } from "./names.js";

export const ERR_REASON_UNSCHEDULABLE = "node(s) were unschedulable";

const UNSCHEDULABLE_TAINT = { key: TAINT_NODE_UNSCHEDULABLE, effect: "NoSchedule" } as const;
const REJECTED = new Status(Code.UnschedulableAndUnresolvable, [ERR_REASON_UNSCHEDULABLE], NODE_UNSCHEDULABLE);

export function toleratesUnschedulable(pod: PodInfo): boolean {
  return tolerationsTolerateTaint(pod.tolerations, UNSCHEDULABLE_TAINT);
}

export class NodeUnschedulable implements FilterPlugin {
  readonly name = NODE_UNSCHEDULABLE;
  readonly events: readonly ClusterEvent[] = ["NodeAdd", "NodeTaint"];

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    if (!node.unschedulable || toleratesUnschedulable(pod)) return null;
    return REJECTED;
  }
}
