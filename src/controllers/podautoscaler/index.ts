// The horizontal pod autoscaler controller ("horizontal-pod-autoscaler-controller"): scales
// the targets of HorizontalPodAutoscalers from the pods' resource metrics (see sync.ts).
import type { ControllerFactory } from "../context.js";
import { newHorizontalPodAutoscalerController } from "./controller.js";

export const horizontalPodAutoscalerController: ControllerFactory = (ctx) => newHorizontalPodAutoscalerController(ctx);

export {
  FixedIntervalRateLimiter,
  HPA_CONTROLLER,
  HPA_DEFAULT_WORKERS,
  HPA_SYNC_PERIOD_MS,
  newHorizontalPodAutoscalerController,
  type HPAControllerOptions,
  type SyncingHPAController,
} from "./controller.js";
export { HPASyncer, setCondition, type HPACaches, type HPASyncDeps, type HPASyncOptions, type SyncOutcome } from "./sync.js";
export { Recommender, behaviorWithDefaults, type Behavior, type ScalingRules } from "./behavior.js";
export { ReplicaCalculator, DEFAULT_TOLERANCE, CPU_INITIALIZATION_PERIOD_MS, INITIAL_READINESS_DELAY_MS } from "./replicas.js";
export { RestMetricsClient, resourceMetric, type MetricsClient, type PodMetrics, type PodMetric } from "./metrics.js";
export { RestScaleClient, type ScaleClient, type ScaleTargetRef } from "./scale.js";
