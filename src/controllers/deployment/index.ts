// The Deployment controller.
import type { ControllerFactory } from "../context.js";
import { newDeploymentController } from "./controller.js";

export const deploymentController: ControllerFactory = (ctx) => newDeploymentController(ctx);

export { newDeploymentController, DeploymentEventHandlers, type DeploymentControllerOptions } from "./controller.js";
export { DeploymentSyncer, type DeploymentCaches, type DeploymentSyncDeps } from "./sync.js";
export { newRSNewReplicas, computeHash, safeEncodeString, REVISION_ANNOTATION, REVISION_HISTORY_ANNOTATION, DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION, POD_TEMPLATE_HASH_LABEL } from "./util.js";
