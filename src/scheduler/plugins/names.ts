// Plugin names as upstream spells them: they appear in logs, metrics and unschedulable-plugin
// sets, and users know them from kube-scheduler configuration.
export const NODE_UNSCHEDULABLE = "NodeUnschedulable";
export const NODE_NAME = "NodeName";
export const TAINT_TOLERATION = "TaintToleration";
export const NODE_AFFINITY = "NodeAffinity";
export const NODE_PORTS = "NodePorts";
export const NODE_RESOURCES_FIT = "NodeResourcesFit";
export const NODE_RESOURCES_BALANCED_ALLOCATION = "NodeResourcesBalancedAllocation";
export const INTER_POD_AFFINITY = "InterPodAffinity";
export const POD_TOPOLOGY_SPREAD = "PodTopologySpread";
export const DEFAULT_PREEMPTION = "DefaultPreemption";
export const DEFAULT_BINDER = "DefaultBinder";
export const VOLUME_RESTRICTIONS = "VolumeRestrictions";
export const VOLUME_BINDING = "VolumeBinding";
