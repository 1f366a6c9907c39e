// A pod index by controller (upstream's PodControllerUIDIndex): a ReplicaSet's claim only ever
// looks at pods it controls and at orphans it might adopt, so reading just those two buckets
// instead of the whole namespace keeps a sync proportional to its own replicas, not to the
// namespace's pod count.
import type { Pod } from "kubernetes-types/core/v1.js";
import type { IndexFunc, Indexer, SharedInformer } from "../../client/informer.js";
import { controllerRefOf, type RPod } from "./podutil.js";

export const POD_CONTROLLER_INDEX = "podController";

/**
 * The bucket of pods in `namespace` whose controllerRef has uid `uid`. The namespace is part
 * of the value because an ownerReference never crosses namespaces: a pod elsewhere that names
 * the uid is not the owner's to claim.
 */
export function controlledBucket(namespace: string, uid: string): string {
  return `c/${namespace}/${uid}`;
}

/** The bucket of pods in `namespace` without a controllerRef. */
export function orphanBucket(namespace: string): string {
  return `o/${namespace}`;
}

/** Files each pod under exactly one bucket: its controller's, or its namespace's orphans. */
export const podControllerIndexFunc: IndexFunc<Pod> = (p) => {
  const ns = p.metadata?.namespace ?? "";
  const ref = controllerRefOf(p);
  return [ref ? controlledBucket(ns, ref.uid) : orphanBucket(ns)];
};

/** Adds the index to a (shared) pod informer unless another controller already did. */
export function ensurePodControllerIndex(pods: SharedInformer<Pod>): void {
  if (!pods.indexer.hasIndex(POD_CONTROLLER_INDEX)) pods.addIndexers({ [POD_CONTROLLER_INDEX]: podControllerIndexFunc });
}

/**
 * The pods an owner with uid `ownerUid` may claim: those it controls, then the orphans of its
 * namespace. Exactly the pods of the namespace for which claimObjects does anything other
 * than skip (it skips every pod another controller owns).
 */
export function claimablePods(pods: Indexer<Pod>, namespace: string, ownerUid: string): RPod[] {
  const owned = pods.byIndex(POD_CONTROLLER_INDEX, controlledBucket(namespace, ownerUid));
  const orphans = pods.byIndex(POD_CONTROLLER_INDEX, orphanBucket(namespace));
  return orphans.length === 0 ? owned : owned.concat(orphans);
}
