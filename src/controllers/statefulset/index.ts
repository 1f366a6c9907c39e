// The StatefulSet controller ("statefulset-controller"): pods with stable names, hostnames and
// claims, created, scaled and rolled in ordinal order (see sync.ts).
import type { ControllerFactory } from "../context.js";
import { newStatefulSetController } from "./controller.js";

export const statefulSetController: ControllerFactory = (ctx) => newStatefulSetController(ctx);

/** Upstream's --concurrent-statefulset-syncs default. */
export const STATEFULSET_WORKERS = 5;

export { STATEFULSET_CONTROLLER, StatefulSetEventHandlers, newStatefulSetController, type StatefulSetControllerOptions, type SyncingStatefulSetController } from "./controller.js";
export { StatefulSetSyncer, type StatefulSetCaches, type StatefulSetSyncDeps } from "./sync.js";
export { StatefulSetHistory, templatePatch, revisionTemplate, newRevision, type SetRevisions } from "./revisions.js";
export { computeStatus, completeRollingUpdate, statusChanged, type ReplicaCounts } from "./status.js";
export { isClaimOwnerUpToDate, claimOwnerRefs } from "./retention.js";
export { StatefulSetError, isStatefulSetError, type StatefulSetErrorCode } from "./errors.js";
export { POD_NAME_LABEL, POD_INDEX_LABEL, claimName, claimsFor, identityMatches, newStatefulPod, podName, storageMatches } from "./util.js";
