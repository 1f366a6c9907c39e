// The status a DaemonSet should report (upstream updateDaemonSetStatus): pure, so it is tested
// without an API. Per node that should run a daemon pod, the oldest of its pods is the one
// counted as ready, available and up to date; `kubectl rollout status ds` reads
// updatedNumberScheduled and numberAvailable against desiredNumberScheduled.
import type { DaemonSetStatus } from "kubernetes-types/apps/v1.js";
import type { DeepReadonly } from "../../client/objects.js";
import { isPodAvailable, isPodReady, type RPod } from "../replicaset/podutil.js";
import { nodeShouldRunDaemonPod, type RDaemonSet, type RNode } from "./nodes.js";
import { byCreationAndPhase, isPodUpdated, templateGeneration } from "./util.js";

export interface DaemonSetCounts {
  desiredNumberScheduled: number;
  currentNumberScheduled: number;
  numberMisscheduled: number;
  numberReady: number;
  updatedNumberScheduled: number;
  numberAvailable: number;
  numberUnavailable: number;
}

export function calculateCounts(ds: RDaemonSet, nodes: readonly RNode[], byNode: ReadonlyMap<string, readonly RPod[]>, hash: string, now: number): DaemonSetCounts {
  const c: DaemonSetCounts = { desiredNumberScheduled: 0, currentNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0, updatedNumberScheduled: 0, numberAvailable: 0, numberUnavailable: 0 };
  const minReady = ds.spec?.minReadySeconds ?? 0;
  const generation = templateGeneration(ds);
  for (const node of nodes) {
    const pods = byNode.get(node.metadata?.name ?? "") ?? [];
    const scheduled = pods.length > 0;
    if (!nodeShouldRunDaemonPod(node, ds).shouldRun) {
      if (scheduled) c.numberMisscheduled++;
      continue;
    }
    c.desiredNumberScheduled++;
    if (!scheduled) continue;
    c.currentNumberScheduled++;
    const pod = [...pods].sort(byCreationAndPhase)[0]!;
    if (isPodReady(pod)) {
      c.numberReady++;
      if (isPodAvailable(pod, minReady, now)) c.numberAvailable++;
    }
    if (isPodUpdated(pod, hash, generation)) c.updatedNumberScheduled++;
  }
  c.numberUnavailable = c.desiredNumberScheduled - c.numberAvailable;
  return c;
}

/** Whether the stored status already says this, for the generation it describes (upstream storeDaemonSetStatus's early return). */
export function statusUpToDate(status: DeepReadonly<DaemonSetStatus> | undefined, c: DaemonSetCounts, generation: number | undefined): boolean {
  return (
    (status?.desiredNumberScheduled ?? 0) === c.desiredNumberScheduled &&
    (status?.currentNumberScheduled ?? 0) === c.currentNumberScheduled &&
    (status?.numberMisscheduled ?? 0) === c.numberMisscheduled &&
    (status?.numberReady ?? 0) === c.numberReady &&
    (status?.updatedNumberScheduled ?? 0) === c.updatedNumberScheduled &&
    (status?.numberAvailable ?? 0) === c.numberAvailable &&
    (status?.numberUnavailable ?? 0) === c.numberUnavailable &&
    (status?.observedGeneration ?? 0) >= (generation ?? 0)
  );
}
