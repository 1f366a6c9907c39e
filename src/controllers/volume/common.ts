// What the volume controllers share (upstream pkg/controller/volume/common): the index of pods
// by the claims they use, so that "which pods use claim ns/x" reads one bucket instead of the
// namespace, and the pod-state predicates they judge use by.
import type { Pod } from "kubernetes-types/core/v1.js";
import type { IndexFunc, SharedInformer } from "../../client/informer.js";
import type { DeepReadonly } from "../../client/objects.js";
import { podClaims } from "../../api/persistentvolume.js";

/** Upstream's PodPVCIndex: pods by `namespace/claim` of every claim they use (ephemeral ones included). */
export const POD_PVC_INDEX = "pod-pvc-index";

export const podPVCIndexFunc: IndexFunc<Pod> = (pod) => {
  const ns = pod.metadata?.namespace ?? "";
  return podClaims(pod as Pod).map((c) => `${ns}/${c.claim}`);
};

/** Adds the index to the shared pod informer unless another volume controller did. */
export function addPodPVCIndex(pods: SharedInformer<Pod>): void {
  if (!pods.indexer.hasIndex(POD_PVC_INDEX)) pods.addIndexers({ [POD_PVC_INDEX]: podPVCIndexFunc });
}

/**
 * volumeutil.IsPodTerminated: the pod ran to an end, or is being deleted and every container
 * is terminated or waiting.
 */
export function isPodTerminated(pod: DeepReadonly<Pod>): boolean {
  const phase = pod.status?.phase;
  if (phase === "Failed" || phase === "Succeeded") return true;
  return pod.metadata?.deletionTimestamp !== undefined && (pod.status?.containerStatuses ?? []).every((s) => s.state?.terminated !== undefined || s.state?.waiting !== undefined);
}
