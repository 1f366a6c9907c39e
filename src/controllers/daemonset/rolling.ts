// The RollingUpdate strategy (upstream update.go rollingUpdate): which old pods to delete and on
// which nodes to start new pods so that at most maxUnavailable nodes lack an available daemon
// pod, or, with maxSurge, so that a new pod starts next to the old one and the old one goes
// only once the new one is available. Pure: the syncer carries out the plan with syncNodes.
import { isPodAvailable, type RPod } from "../replicaset/podutil.js";
import { nodeShouldRunDaemonPod, type RDaemonSet, type RNode } from "./nodes.js";
import { isPodUpdated, surgeCount, templateGeneration, unavailableCount } from "./util.js";

export interface RollingPlan {
  readonly podsToDelete: RPod[];
  readonly nodesToCreate: string[];
  /** The bounds the plan was made with (for logs and tests). */
  readonly maxSurge: number;
  readonly maxUnavailable: number;
}

/**
 * The up-to-date and the out-of-date pod of a node, ignoring pods being deleted (upstream
 * findUpdatedPodsOnNode); undefined when there are two of either, which the manage pass
 * resolves first.
 */
export function updatedPodsOnNode(pods: readonly RPod[], hash: string, generation: string | undefined): { newPod?: RPod; oldPod?: RPod } | undefined {
  let newPod: RPod | undefined;
  let oldPod: RPod | undefined;
  for (const p of pods) {
    if (p.metadata?.deletionTimestamp) continue;
    if (isPodUpdated(p, hash, generation)) {
      if (newPod) return undefined;
      newPod = p;
    } else {
      if (oldPod) return undefined;
      oldPod = p;
    }
  }
  return { ...(newPod ? { newPod } : {}), ...(oldPod ? { oldPod } : {}) };
}

/**
 * Upstream updatedDesiredNodeCounts: the number of nodes that should run a pod, and the surge
 * and unavailability bounds scaled to it (rounded up). Nodes that should run a pod but have
 * none are added to `byNode` with no pods, so they count as unavailable. A DaemonSet that
 * allows neither surge nor unavailability (the API server refuses that, but a percentage can
 * round to it) may have one unavailable node, or it could never progress.
 */
function desiredCounts(ds: RDaemonSet, nodes: readonly RNode[], byNode: Map<string, readonly RPod[]>): { desired: number; maxSurge: number; maxUnavailable: number } {
  let desired = 0;
  for (const node of nodes) {
    if (!nodeShouldRunDaemonPod(node, ds).shouldRun) continue;
    desired++;
    const name = node.metadata?.name ?? "";
    if (!byNode.has(name)) byNode.set(name, []);
  }
  let maxUnavailable = unavailableCount(ds, desired);
  const maxSurge = surgeCount(ds, desired);
  if (desired > 0 && maxUnavailable === 0 && maxSurge === 0) maxUnavailable = 1;
  return { desired, maxSurge, maxUnavailable };
}

export function planRollingUpdate(ds: RDaemonSet, nodes: readonly RNode[], podsOnNodes: ReadonlyMap<string, readonly RPod[]>, hash: string, now: number): RollingPlan {
  const byNode = new Map<string, readonly RPod[]>(podsOnNodes);
  const { desired, maxSurge, maxUnavailable } = desiredCounts(ds, nodes, byNode);
  const minReady = ds.spec?.minReadySeconds ?? 0;
  const generation = templateGeneration(ds);
  const available = (p: RPod): boolean => isPodAvailable(p, minReady, now);
  // Visit nodes in a fixed order, so that which candidates are taken first does not depend on
  // the order pods happened to arrive in the cache.
  const entries = [...byNode.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

  if (maxSurge === 0) {
    // Delete just enough old pods to stay within maxUnavailable; the manage pass then creates
    // new ones on those nodes.
    let numUnavailable = 0;
    const replacements: RPod[] = [];
    const candidates: RPod[] = [];
    for (const [, pods] of entries) {
      const found = updatedPodsOnNode(pods, hash, generation);
      if (!found) {
        numUnavailable++;
        continue;
      }
      const { newPod, oldPod } = found;
      if ((!oldPod && !newPod) || (oldPod && newPod)) {
        // Nothing yet, or both: the manage pass creates or deletes; count it as unavailable.
        numUnavailable++;
      } else if (newPod) {
        if (!available(newPod)) numUnavailable++;
      } else if (oldPod) {
        if (!available(oldPod)) {
          // An unavailable old pod costs nothing to replace.
          replacements.push(oldPod);
          numUnavailable++;
        } else if (numUnavailable < maxUnavailable) {
          candidates.push(oldPod);
        }
      }
    }
    const room = Math.min(Math.max(maxUnavailable - numUnavailable, 0), candidates.length);
    return { podsToDelete: [...replacements, ...candidates.slice(0, room)], nodesToCreate: [], maxSurge, maxUnavailable };
  }

  // Surging: start a new pod wherever the old one is unavailable, and on up to maxSurge more
  // nodes; delete an old pod once the new one beside it is available. Pods being deleted do not
  // count as unavailable, so an update progresses while nodes are down.
  const podsToDelete: RPod[] = [];
  const shouldNotRun: RPod[] = [];
  const allowedNew: string[] = [];
  const candidateNew: string[] = [];
  let numSurge = 0;
  let numAvailable = 0;
  const nodeByName = new Map(nodes.map((n) => [n.metadata?.name ?? "", n]));
  const shouldRun = (name: string): boolean => {
    const node = nodeByName.get(name);
    return node !== undefined && nodeShouldRunDaemonPod(node, ds).shouldRun;
  };
  for (const [nodeName, pods] of entries) {
    const found = updatedPodsOnNode(pods, hash, generation);
    if (!found) {
      numSurge++;
      continue;
    }
    const { newPod, oldPod } = found;
    if (oldPod) {
      if (available(oldPod)) numAvailable++;
    } else if (newPod && available(newPod)) numAvailable++;
    if (!oldPod) continue;
    if (!newPod) {
      if (!available(oldPod)) {
        if (!shouldRun(nodeName)) podsToDelete.push(oldPod);
        else allowedNew.push(nodeName);
        continue;
      }
      if (!shouldRun(nodeName)) {
        shouldNotRun.push(oldPod);
        continue;
      }
      if (numSurge >= maxSurge) continue;
      candidateNew.push(nodeName);
      continue;
    }
    // Already surged here: wait for the new pod, then retire the old one.
    if (!available(newPod)) {
      numSurge++;
      continue;
    }
    podsToDelete.push(oldPod);
  }
  // With surge the owner expects full availability: when the nodes a DaemonSet targets change,
  // an available pod on a node it leaves goes only as pods on the nodes it gains turn available.
  const deletable = Math.min(Math.max(numAvailable - desired, 0), shouldNotRun.length);
  podsToDelete.push(...shouldNotRun.slice(0, deletable));
  const room = Math.min(Math.max(maxSurge - numSurge, 0), candidateNew.length);
  return { podsToDelete, nodesToCreate: [...allowedNew, ...candidateNew.slice(0, room)], maxSurge, maxUnavailable };
}
