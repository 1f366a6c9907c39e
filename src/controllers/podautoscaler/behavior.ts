// From the metrics' proposal to the replica count actually asked for, as upstream's
// normalizeDesiredReplicas / normalizeDesiredReplicasWithBehaviors (horizontal.go):
//  - stabilization: the recommendations of each HPA are remembered (in memory, as upstream);
//    a scale down goes no lower than the highest recommendation of the scale-down window
//    (default 300 s, --horizontal-pod-autoscaler-downscale-stabilization), a scale up no
//    higher than the lowest of the scale-up window (default 0 s);
//  - rate: with `behavior`, each policy allows a change per period counted from the scale
//    events of that period, and selectPolicy picks the largest (Max), smallest (Min) or no
//    (Disabled) change; without it the legacy limit applies: at most max(2 × current, 4);
//  - minReplicas/maxReplicas bound the result.
// Each step names its reason for the AbleToScale and ScalingLimited conditions.
import type { HPAScalingRules, HorizontalPodAutoscalerBehavior } from "kubernetes-types/autoscaling/v2.js";
import type { Clock } from "../../client/clock.js";
import type { DeepReadonly } from "../../client/objects.js";

export const DEFAULT_DOWNSCALE_STABILIZATION_SECONDS = 300;

export type SelectPolicy = "Max" | "Min" | "Disabled";

export interface ScalingPolicy {
  readonly type: "Pods" | "Percent";
  readonly value: number;
  readonly periodSeconds: number;
}

/** HPAScalingRules with every field set. */
export interface ScalingRules {
  readonly stabilizationWindowSeconds: number;
  readonly selectPolicy: SelectPolicy;
  readonly policies: readonly ScalingPolicy[];
}

export interface Behavior {
  readonly scaleUp: ScalingRules;
  readonly scaleDown: ScalingRules;
}

type RRules = DeepReadonly<HPAScalingRules> | undefined;

function rulesWith(r: RRules, defaults: ScalingRules): ScalingRules {
  return {
    stabilizationWindowSeconds: r?.stabilizationWindowSeconds ?? defaults.stabilizationWindowSeconds,
    selectPolicy: (r?.selectPolicy as SelectPolicy | undefined) ?? defaults.selectPolicy,
    policies: r?.policies ? r.policies.map((p) => ({ type: p.type as ScalingPolicy["type"], value: p.value, periodSeconds: p.periodSeconds })) : defaults.policies,
  };
}

/**
 * The behavior with upstream's defaults for what is unset (the API server fills the same,
 * except the scale-down window, which is the controller's flag): scale up by the larger of
 * 4 pods and 100 % per 15 s at once, scale down by 100 % per 15 s after a 300 s window.
 */
export function behaviorWithDefaults(b: DeepReadonly<HorizontalPodAutoscalerBehavior>, downscaleStabilizationSeconds = DEFAULT_DOWNSCALE_STABILIZATION_SECONDS): Behavior {
  return {
    scaleUp: rulesWith(b.scaleUp, {
      stabilizationWindowSeconds: 0,
      selectPolicy: "Max",
      policies: [
        { type: "Pods", value: 4, periodSeconds: 15 },
        { type: "Percent", value: 100, periodSeconds: 15 },
      ],
    }),
    scaleDown: rulesWith(b.scaleDown, { stabilizationWindowSeconds: downscaleStabilizationSeconds, selectPolicy: "Max", policies: [{ type: "Percent", value: 100, periodSeconds: 15 }] }),
  };
}

interface Recommendation {
  readonly recommendation: number;
  readonly timestamp: number;
}

/** One rescale, remembered for the policies' periods. */
export interface ScaleEvent {
  readonly replicaChange: number;
  readonly timestamp: number;
  outdated: boolean;
}

/** Why the count is what it is, for the AbleToScale (True) and ScalingLimited conditions. */
export interface Normalized {
  readonly replicas: number;
  readonly ableToScale: { readonly reason: string; readonly message: string };
  readonly scalingLimited: { readonly status: "True" | "False"; readonly reason: string; readonly message: string };
}

export interface NormalizeArgs {
  readonly key: string;
  /** The HPA's behavior as written (undefined: the legacy rules). */
  readonly behavior: DeepReadonly<HorizontalPodAutoscalerBehavior> | undefined;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly currentReplicas: number;
  readonly desiredReplicas: number;
}

const READY_FOR_NEW_SCALE = { reason: "ReadyForNewScale", message: "recommended size matches current size" };
const SCALE_DOWN_STABILIZED = { reason: "ScaleDownStabilized", message: "recent recommendations were higher than current one, applying the highest recent recommendation" };
const SCALE_UP_STABILIZED = { reason: "ScaleUpStabilized", message: "recent recommendations were lower than current one, applying the lowest recent recommendation" };
const WITHIN_RANGE = { reason: "DesiredWithinRange", message: "the desired count is within the acceptable range" };
const SCALE_UP_LIMIT = { reason: "ScaleUpLimit", message: "the desired replica count is increasing faster than the maximum scale rate" };
const SCALE_DOWN_LIMIT = { reason: "ScaleDownLimit", message: "the desired replica count is decreasing faster than the maximum scale rate" };
const TOO_MANY = { reason: "TooManyReplicas", message: "the desired replica count is more than the maximum replica count" };
const TOO_FEW = { reason: "TooFewReplicas", message: "the desired replica count is less than the minimum replica count" };

/** Legacy (no behavior) scale-up bound: upstream's calculateScaleUpLimit. */
export function legacyScaleUpLimit(currentReplicas: number): number {
  return Math.trunc(Math.max(2 * currentReplicas, 4));
}

/** The recommendation and scale-event history of every HPA, and the normalization that reads it. */
export class Recommender {
  private readonly recommendations = new Map<string, Recommendation[]>();
  private readonly scaleUpEvents = new Map<string, ScaleEvent[]>();
  private readonly scaleDownEvents = new Map<string, ScaleEvent[]>();

  constructor(
    private readonly clock: Pick<Clock, "now">,
    private readonly downscaleStabilizationSeconds = DEFAULT_DOWNSCALE_STABILIZATION_SECONDS,
  ) {}

  /** The first sync of an HPA recommends what it finds, so a scale down waits a whole window. */
  recordInitial(key: string, currentReplicas: number): void {
    if (!this.recommendations.has(key)) this.recommendations.set(key, [{ recommendation: currentReplicas, timestamp: this.clock.now() }]);
  }

  /** Drops the history of a deleted HPA. */
  forget(key: string): void {
    this.recommendations.delete(key);
    this.scaleUpEvents.delete(key);
    this.scaleDownEvents.delete(key);
  }

  normalize(a: NormalizeArgs): Normalized {
    return a.behavior === undefined ? this.normalizeLegacy(a) : this.normalizeWithBehavior(a, behaviorWithDefaults(a.behavior, this.downscaleStabilizationSeconds));
  }

  /** Remembers a rescale, for the policies' per-period budgets (only HPAs with a behavior use them). */
  recordScale(key: string, behavior: DeepReadonly<HorizontalPodAutoscalerBehavior> | undefined, prevReplicas: number, newReplicas: number): void {
    if (behavior === undefined) return;
    const b = behaviorWithDefaults(behavior, this.downscaleStabilizationSeconds);
    const up = newReplicas > prevReplicas;
    const rules = up ? b.scaleUp : b.scaleDown;
    const store = up ? this.scaleUpEvents : this.scaleDownEvents;
    let events = store.get(key);
    if (!events) store.set(key, (events = []));
    const now = this.clock.now();
    // Events older than the longest period are no longer read: reuse one slot for the new event.
    const longest = Math.max(0, ...rules.policies.map((p) => p.periodSeconds));
    const cutoff = now - longest * 1000;
    let oldIndex = -1;
    events.forEach((e, i) => {
      if (e.timestamp < cutoff) e.outdated = true;
      if (e.outdated) oldIndex = i;
    });
    const ev: ScaleEvent = { replicaChange: Math.abs(newReplicas - prevReplicas), timestamp: now, outdated: false };
    if (oldIndex >= 0) events[oldIndex] = ev;
    else events.push(ev);
  }

  /** Stores `rec` in place of the sample at `oldIndex` (too old to matter), or appends it. */
  private remember(key: string, rec: number, oldIndex: number): void {
    const list = this.recommendations.get(key) ?? [];
    const entry = { recommendation: rec, timestamp: this.clock.now() };
    if (oldIndex >= 0) list[oldIndex] = entry;
    else list.push(entry);
    this.recommendations.set(key, list);
  }

  private normalizeLegacy(a: NormalizeArgs): Normalized {
    const cutoff = this.clock.now() - this.downscaleStabilizationSeconds * 1000;
    let stabilized = a.desiredReplicas;
    let oldIndex = -1;
    (this.recommendations.get(a.key) ?? []).forEach((r, i) => {
      if (r.timestamp < cutoff) oldIndex = i;
      else if (r.recommendation > stabilized) stabilized = r.recommendation;
    });
    this.remember(a.key, a.desiredReplicas, oldIndex);
    const ableToScale = stabilized !== a.desiredReplicas ? SCALE_DOWN_STABILIZED : READY_FOR_NEW_SCALE;

    const upLimit = legacyScaleUpLimit(a.currentReplicas);
    const [maxAllowed, upper] = a.maxReplicas > upLimit ? [upLimit, SCALE_UP_LIMIT] : [a.maxReplicas, TOO_MANY];
    let replicas = stabilized;
    let why = WITHIN_RANGE;
    if (stabilized < a.minReplicas) [replicas, why] = [a.minReplicas, TOO_FEW];
    else if (stabilized > maxAllowed) [replicas, why] = [maxAllowed, upper];
    return { replicas, ableToScale, scalingLimited: { status: replicas === stabilized ? "False" : "True", ...why } };
  }

  private normalizeWithBehavior(a: NormalizeArgs, b: Behavior): Normalized {
    const now = this.clock.now();
    const upCutoff = now - b.scaleUp.stabilizationWindowSeconds * 1000;
    const downCutoff = now - b.scaleDown.stabilizationWindowSeconds * 1000;
    let upRecommendation = a.desiredReplicas;
    let downRecommendation = a.desiredReplicas;
    let oldIndex = -1;
    (this.recommendations.get(a.key) ?? []).forEach((r, i) => {
      if (r.timestamp > upCutoff) upRecommendation = Math.min(upRecommendation, r.recommendation);
      if (r.timestamp > downCutoff) downRecommendation = Math.max(downRecommendation, r.recommendation);
      if (r.timestamp < upCutoff && r.timestamp < downCutoff) oldIndex = i;
    });
    // Bring the current count within [lowest recent (up window), highest recent (down window)].
    let stabilized = a.currentReplicas;
    if (stabilized < upRecommendation) stabilized = upRecommendation;
    if (stabilized > downRecommendation) stabilized = downRecommendation;
    this.remember(a.key, a.desiredReplicas, oldIndex);
    const ableToScale = stabilized === a.desiredReplicas ? READY_FOR_NEW_SCALE : a.desiredReplicas >= a.currentReplicas ? SCALE_UP_STABILIZED : SCALE_DOWN_STABILIZED;

    let replicas = stabilized;
    let why = WITHIN_RANGE;
    const up = this.scaleUpEvents.get(a.key) ?? [];
    const down = this.scaleDownEvents.get(a.key) ?? [];
    if (stabilized > a.currentReplicas) {
      // A budget spent beyond the current count waits for old events to leave their period.
      const limit = Math.max(scaleUpLimit(a.currentReplicas, up, down, b.scaleUp, now), a.currentReplicas);
      const [maxAllowed, reason] = a.maxReplicas > limit ? [limit, SCALE_UP_LIMIT] : [a.maxReplicas, TOO_MANY];
      if (stabilized > maxAllowed) [replicas, why] = [maxAllowed, reason];
    } else if (stabilized < a.currentReplicas) {
      const limit = Math.min(scaleDownLimit(a.currentReplicas, up, down, b.scaleDown, now), a.currentReplicas);
      const [minAllowed, reason] = a.minReplicas < limit ? [limit, SCALE_DOWN_LIMIT] : [a.minReplicas, TOO_FEW];
      if (stabilized < minAllowed) [replicas, why] = [minAllowed, reason];
    }
    return { replicas, ableToScale, scalingLimited: { status: replicas === stabilized ? "False" : "True", ...why } };
  }
}

/** Replicas changed by the events of the last `periodSeconds`. */
function changeInPeriod(periodSeconds: number, events: readonly ScaleEvent[], now: number): number {
  const cutoff = now - periodSeconds * 1000;
  let sum = 0;
  for (const e of events) if (e.timestamp > cutoff) sum += e.replicaChange;
  return sum;
}

/** Upstream's calculateScaleUpLimitWithScalingRules: each policy counts from the replicas at its period's start. */
export function scaleUpLimit(current: number, up: readonly ScaleEvent[], down: readonly ScaleEvent[], rules: ScalingRules, now: number): number {
  if (rules.selectPolicy === "Disabled") return current;
  const pick = rules.selectPolicy === "Min" ? Math.min : Math.max;
  let result = rules.selectPolicy === "Min" ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
  for (const p of rules.policies) {
    const periodStart = current - changeInPeriod(p.periodSeconds, up, now) + changeInPeriod(p.periodSeconds, down, now);
    // Rounded up, or a small percentage of a small count would never add a pod.
    const proposed = p.type === "Pods" ? periodStart + p.value : Math.ceil(periodStart * (1 + p.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

/** Upstream's calculateScaleDownLimitWithBehaviors. */
export function scaleDownLimit(current: number, up: readonly ScaleEvent[], down: readonly ScaleEvent[], rules: ScalingRules, now: number): number {
  if (rules.selectPolicy === "Disabled") return current;
  const pick = rules.selectPolicy === "Min" ? Math.max : Math.min;
  let result = rules.selectPolicy === "Min" ? Number.MIN_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
  for (const p of rules.policies) {
    const periodStart = current - changeInPeriod(p.periodSeconds, up, now) + changeInPeriod(p.periodSeconds, down, now);
    const proposed = p.type === "Pods" ? periodStart - p.value : Math.trunc(periodStart * (1 - p.value / 100));
    result = pick(result, proposed);
  }
  return result;
}
