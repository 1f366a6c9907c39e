// kube-scheduler's default profile: its plugins in upstream's order at every extension point
// and its score weights (TaintToleration 3, NodeAffinity 2, PodTopologySpread 2,
// InterPodAffinity 2, NodeResourcesFit 1, BalancedAllocation 1). VolumeRestrictions (its
// ReadWriteOncePod rule) and VolumeBinding are in (VolumeBinding at PreFilter, Filter, Reserve and
// PreBind; its Score is behind an alpha gate upstream and left out); the volume-limit and zone
// plugins (CSI and cloud disks) and ImageLocality (k8ts tracks no node images) are left out.
import type { Clock } from "../client/clock.js";
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
import { VolumeRestrictions } from "./plugins/volumerestrictions.js";
import { NO_VOLUMES, VolumeBinding, type VolumeBindingDeps, type VolumeEvents, type VolumeLookup } from "./plugins/volumebinding.js";

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
  readonly volumeRestrictions: VolumeRestrictions;
  readonly volumeBinding: VolumeBinding;
}

export function filterPlugins(handle: Handle, volumes: Omit<VolumeBindingDeps, "handle"> = { volumes: NO_VOLUMES }): FilterPlugins {
  return {
    nodeUnschedulable: new NodeUnschedulable(),
    nodeName: new NodeName(),
    taintToleration: new TaintToleration(),
    nodeAffinity: new NodeAffinity(),
    nodePorts: new NodePorts(),
    fit: new NodeResourcesFit(),
    spread: new PodTopologySpread(handle),
    interPodAffinity: new InterPodAffinity(handle),
    volumeRestrictions: new VolumeRestrictions(handle, volumes.volumes),
    volumeBinding: new VolumeBinding({ ...volumes, handle }),
  };
}

/** PreFilter and Filter only: what `k8ts why` runs. */
export function filterOnlyProfile(handle: Handle, schedulerName = DEFAULT_SCHEDULER_NAME, volumes: VolumeLookup = NO_VOLUMES): Profile {
  const p = filterPlugins(handle, { volumes });
  return {
    schedulerName,
    preFilter: preFilterOrder(p),
    filter: filterOrder(p),
    postFilter: [],
    preScore: [],
    score: [],
    reserve: [],
    permit: [],
    bind: [],
  };
}

// Upstream's order: NodeAffinity, NodePorts, NodeResourcesFit, VolumeRestrictions, VolumeBinding,
// PodTopologySpread, InterPodAffinity (those of them that have the extension point).
function preFilterOrder(p: FilterPlugins): Profile["preFilter"] {
  return [p.nodeAffinity, p.nodePorts, p.volumeRestrictions, p.volumeBinding, p.spread, p.interPodAffinity];
}

function filterOrder(p: FilterPlugins): Profile["filter"] {
  return [p.nodeUnschedulable, p.nodeName, p.taintToleration, p.nodeAffinity, p.nodePorts, p.fit, p.volumeRestrictions, p.volumeBinding, p.spread, p.interPodAffinity];
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
  /** Claims, volumes and classes (the storage informers); default: none. */
  readonly volumes?: VolumeLookup;
  /** Claim and volume changes, which wake VolumeBinding's PreBind. */
  readonly volumeEvents?: VolumeEvents;
  readonly clock?: Clock;
}

export function defaultFramework(d: DefaultProfileDeps): Framework {
  const p = filterPlugins(d.handle, {
    volumes: d.volumes ?? NO_VOLUMES,
    api: d.api,
    currentPod: d.currentPod,
    log: d.log,
    ...(d.volumeEvents ? { events: d.volumeEvents } : {}),
    ...(d.clock ? { clock: d.clock } : {}),
  });
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
    preFilter: preFilterOrder(p),
    filter: filterOrder(p),
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
    reserve: [p.volumeBinding],
    permit: [],
    preBind: [p.volumeBinding],
    bind: [new DefaultBinder(d.api)],
    ...(d.percentageOfNodesToScore !== undefined ? { percentageOfNodesToScore: d.percentageOfNodesToScore } : {}),
  };
  ref.fwk = new Framework(profile, d.nominator);
  return ref.fwk;
}
