// NodeName: a pod that names its node fits only that node. The scheduler never sees such pods
// from the API (they are bound already), but the filter keeps the framework whole for callers
// that evaluate arbitrary pods, such as `k8ts why`.
import type { NodeInfo } from "../framework/nodeinfo.js";
import type { PodInfo } from "../framework/podinfo.js";
import { Code, Status, type ClusterEvent, type CycleState, type FilterPlugin } from "../framework/types.js";
import { NODE_NAME } from "./names.js";

export const ERR_REASON_NODE_NAME = "node(s) didn't match the requested node name";

const REJECTED = new Status(Code.UnschedulableAndUnresolvable, [ERR_REASON_NODE_NAME], NODE_NAME);

export class NodeName implements FilterPlugin {
  readonly name = NODE_NAME;
  readonly events: readonly ClusterEvent[] = ["NodeAdd"];

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    const want = pod.pod.spec?.nodeName;
    if (!want || want === node.name) return null;
    return REJECTED;
  }
}
