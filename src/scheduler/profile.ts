// kube-scheduler's default profile: its plugins in upstream's order at every extension point
// and its score weights (TaintToleration 3, NodeAffinity 2, PodTopologySpread 2,
// InterPodAffinity 2, NodeResourcesFit 1, BalancedAllocation 1). Volume plugins and
// ImageLocality are left out: k8ts has no volume scheduling and tracks no node images.
import type { Logger } from "../util/log.js";
import type { EventSink, SchedulerApi } from "./api.js";
import { Framework, type Profile } from "./framework/framework.js";
import type { Handle } from "./framework/handle.js";
import type { Nominator } from "./framework/nominator.js";
import type { PodInfo } from "./framework/podinfo.js";
import { BalancedAllocation } from "./plugins/balancedallocation.js";
import { DefaultBinder } from "./plugins/defaultbinder.js";
import { DefaultPreemption, type RPDB } from "./plugins/defaultpreemption.js";
import { InterPodAffinity } from "./plugins/interpodaffinity.js";
import { NodeAffinity } from "./plugins/nodeaffinity.js";
import { NodeName } from "./plugins/nodename.js";
import { NodePorts } from "./plugins/nodeports.js";
import { NodeResourcesFit } from "./plugins/noderesourcesfit.js";
import { NodeUnschedulable } from "./plugins/nodeunschedulable.js";
import { PodTopologySpread } from "./plugins/podtopologyspread.js";
import { TaintToleration } from "./plugins/tainttoleration.js";

export const DEFAULT_SCHEDULER_NAME = "default-scheduler";

export interface FilterPlugins {
  readonly nodeUnschedulable: NodeUnschedulable;
  readonly nodeName: NodeName;
  readonly taintToleration: TaintToleration;
  readonly nodeAffinity: NodeAffinity;
  readonly nodePorts: NodePorts;
  readonly fit: NodeResourcesFit;
  readonly spread: PodTopologySpread;
  readonly interPodAffinity: InterPodAffinity;
}

export function filterPlugins(handle: Handle): FilterPlugins {
  return {
    nodeUnschedulable: new NodeUnschedulable(),
    nodeName: new NodeName(),
    taintToleration: new TaintToleration(),
    nodeAffinity: new NodeAffinity(),
    nodePorts: new NodePorts(),
    fit: new NodeResourcesFit(),
    spread: new PodTopologySpread(handle),
    interPodAffinity: new InterPodAffinity(handle),
  };
}

/** PreFilter and Filter only: what `k8ts why` runs. */
export function filterOnlyProfile(handle: Handle, schedulerName = DEFAULT_SCHEDULER_NAME): Profile {
  const p = filterPlugins(handle);
  return {
    schedulerName,
    preFilter: [p.nodeAffinity, p.nodePorts, p.spread, p.interPodAffinity],
    filter: [p.nodeUnschedulable, p.nodeName, p.taintToleration, p.nodeAffinity, p.nodePorts, p.fit, p.spread, p.interPodAffinity],
    postFilter: [],
    preScore: [],
    score: [],
    reserve: [],
    permit: [],
    bind: [],
  };
}

export interface DefaultProfileDeps {
  readonly schedulerName: string;
  readonly handle: Handle;
  readonly api: SchedulerApi;
  readonly events: EventSink;
  readonly nominator: Nominator;
  readonly pdbs: () => readonly RPDB[];
  readonly currentPod: (pod: PodInfo) => PodInfo | undefined;
  readonly log: Logger;
  readonly percentageOfNodesToScore?: number;
  readonly random?: () => number;
  readonly track?: (p: Promise<void>) => void;
}

export function defaultFramework(d: DefaultProfileDeps): Framework {
  const p = filterPlugins(d.handle);
  const balanced = new BalancedAllocation();
  // Preemption runs the profile's own filters; the framework exists only once the profile does.
  const ref: { fwk?: Framework } = {};
  const preemption = new DefaultPreemption({
    handle: d.handle,
    framework: () => ref.fwk!,
    nominator: d.nominator,
    pdbs: d.pdbs,
    currentPod: d.currentPod,
    api: d.api,
    events: d.events,
    log: d.log,
    schedulerName: d.schedulerName,
    ...(d.random ? { random: d.random } : {}),
    ...(d.track ? { track: d.track } : {}),
  });
  const profile: Profile = {
    schedulerName: d.schedulerName,
    preFilter: [p.nodeAffinity, p.nodePorts, p.spread, p.interPodAffinity],
    filter: [p.nodeUnschedulable, p.nodeName, p.taintToleration, p.nodeAffinity, p.nodePorts, p.fit, p.spread, p.interPodAffinity],
    postFilter: [preemption],
    preScore: [p.taintToleration, p.nodeAffinity, p.spread, p.interPodAffinity, balanced],
    score: [
      { plugin: p.taintToleration, weight: 3 },
      { plugin: p.nodeAffinity, weight: 2 },
      { plugin: p.fit, weight: 1 },
      { plugin: p.spread, weight: 2 },
      { plugin: p.interPodAffinity, weight: 2 },
      { plugin: balanced, weight: 1 },
    ],
    reserve: [],
    permit: [],
    bind: [new DefaultBinder(d.api)],
    ...(d.percentageOfNodesToScore !== undefined ? { percentageOfNodesToScore: d.percentageOfNodesToScore } : {}),
  };
  ref.fwk = new Framework(profile, d.nominator);
  return ref.fwk;
}
