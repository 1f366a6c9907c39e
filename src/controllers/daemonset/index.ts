// The DaemonSet controller ("daemonset-controller"): one daemon pod per eligible node (see sync.ts).
import type { ControllerFactory } from "../context.js";
import { newDaemonSetController } from "./controller.js";

export const daemonSetController: ControllerFactory = (ctx) => newDaemonSetController(ctx);

/** Upstream's --concurrent-daemonset-syncs default. */
export const DAEMONSET_WORKERS = 2;

export { DAEMONSET_CONTROLLER, DaemonSetEventHandlers, newDaemonSetController, nodeUpdateIrrelevant, type DaemonSetControllerOptions, type SyncingDaemonSetController } from "./controller.js";
export { DaemonSetSyncer, DS_BURST_REPLICAS, type DaemonSetCaches, type DaemonSetSyncDeps } from "./sync.js";
export { nodeShouldRunDaemonPod, pinToNode, targetNodeName, withDaemonTolerations, daemonPodTolerations, type NodeFit } from "./nodes.js";
export { planRollingUpdate, type RollingPlan } from "./rolling.js";
export { calculateCounts, type DaemonSetCounts } from "./status.js";
export { FailedPodsBackoff } from "./backoff.js";
export { DaemonSetHistory, templatePatch, templateHash, isCurrentRevision } from "./revisions.js";
export { CONTROLLER_REVISION_HASH_LABEL, RevisionWriter, hashOf, revisionName, newControllerRevision, equalData, findEqualRevisions, byRevision, maxRevision, revisionHash, canonicalJson, type RRevision } from "../history/history.js";
