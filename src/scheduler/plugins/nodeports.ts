// NodePorts: a pod that asks for host ports fits only where none of them is taken (the same
// protocol and port on the same address, or on the wildcard address 0.0.0.0).
import type { NodeInfo } from "../framework/nodeinfo.js";
import type { HostPort, PodInfo } from "../framework/podinfo.js";
import { Code, Status, type ClusterEvent, type CycleState, type FilterPlugin, type PreFilterPlugin, type PreFilterResult } from "../framework/types.js";
import { NODE_PORTS } from "./names.js";

export const ERR_REASON_PORTS = "node(s) didn't have free ports for the requested pod ports";

const REJECTED = new Status(Code.Unschedulable, [ERR_REASON_PORTS], NODE_PORTS);

/** The host ports of `pod` already in use on `node`. */
export function conflictingPorts(pod: PodInfo, node: NodeInfo): HostPort[] {
  return pod.hostPorts.filter((p) => node.usedPorts.conflicts(p));
}

export class NodePorts implements PreFilterPlugin, FilterPlugin {
  readonly name = NODE_PORTS;
  readonly events: readonly ClusterEvent[] = ["AssignedPodDelete", "NodeAdd"];

  preFilter(_state: CycleState, pod: PodInfo): { result?: PreFilterResult; status: Status | null } {
    return { status: pod.hostPorts.length === 0 ? Status.skip(NODE_PORTS) : null };
  }

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    if (node.usedPorts.size === 0) return null;
    for (const p of pod.hostPorts) if (node.usedPorts.conflicts(p)) return REJECTED;
    return null;
  }
}
