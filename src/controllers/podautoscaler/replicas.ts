// Upstream's ReplicaCalculator for resource metrics (pkg/controller/podautoscaler/
// replica_calculator.go): the replica count that brings the pods' average usage to the
// target, with its rules for pods the metrics cannot be trusted for:
//  - deleted and failed pods are ignored; pending pods count as unready;
//  - for cpu, a pod is unready if it has no Ready condition or start time, or, within the
//    5 min initialization period after it started, if it is not ready or its sample was taken
//    less than one window after its readiness last changed; after that period only a pod that
//    is unready and was never ready (its condition changed within 30 s of its start) is;
//  - pods without a sample (missing) count as using 100 % of their request (at least the
//    target) on a scale down and 0 % on a scale up; unready pods are left out unless the
//    ready pods ask for a scale up, then they count as 0 %;
//  - a change within the tolerance (10 %), or one that those assumptions would turn around,
//    keeps the current count.
// Values are in milli-units, and integer arithmetic truncates, as upstream's int64 does.
import type { Selector } from "../../api/labels.js";
import { Quantity } from "../../api/quantity.js";
import type { Clock } from "../../client/clock.js";
import { podReadyCondition, timeOf, type RPod } from "../replicaset/podutil.js";
import { messageOf, resourceMetric, type MetricsClient, type PodMetricsInfo } from "./metrics.js";

/** Upstream's --horizontal-pod-autoscaler-tolerance default. */
export const DEFAULT_TOLERANCE = 0.1;
/** --horizontal-pod-autoscaler-cpu-initialization-period. */
export const CPU_INITIALIZATION_PERIOD_MS = 5 * 60_000;
/** --horizontal-pod-autoscaler-initial-readiness-delay. */
export const INITIAL_READINESS_DELAY_MS = 30_000;

export interface ReplicaCalculatorOptions {
  readonly tolerance?: number;
  readonly cpuInitializationPeriodMs?: number;
  readonly delayOfInitialReadinessStatusMs?: number;
}

export interface PodGroups {
  readonly readyPodCount: number;
  readonly unready: ReadonlySet<string>;
  readonly missing: ReadonlySet<string>;
  readonly ignored: ReadonlySet<string>;
}

/** Upstream's groupPods. */
export function groupPods(pods: readonly RPod[], metrics: PodMetricsInfo, resource: string, cpuInitializationPeriodMs: number, delayOfInitialReadinessStatusMs: number, now: number): PodGroups {
  let readyPodCount = 0;
  const unready = new Set<string>();
  const missing = new Set<string>();
  const ignored = new Set<string>();
  for (const pod of pods) {
    const name = pod.metadata?.name ?? "";
    if (pod.metadata?.deletionTimestamp || pod.status?.phase === "Failed") {
      ignored.add(name);
      continue;
    }
    if (pod.status?.phase === "Pending") {
      unready.add(name);
      continue;
    }
    const metric = metrics.get(name);
    if (!metric) {
      missing.add(name);
      continue;
    }
    if (resource === "cpu") {
      const cond = podReadyCondition(pod);
      const started = timeOf(pod.status?.startTime);
      let isUnready: boolean;
      if (!cond || started === undefined) {
        isUnready = true;
      } else {
        const transition = timeOf(cond.lastTransitionTime) ?? 0;
        if (started + cpuInitializationPeriodMs > now) {
          isUnready = cond.status === "False" || metric.timestamp < transition + metric.windowMs;
        } else {
          isUnready = cond.status === "False" && started + delayOfInitialReadinessStatusMs > transition;
        }
      }
      if (isUnready) {
        unready.add(name);
        continue;
      }
    }
    readyPodCount++;
  }
  return { readyPodCount, unready, missing, ignored };
}

/**
 * Per pod, the summed request for `resource` of its containers (or of the named one), counting
 * restartable init containers (sidecars) too. A container without the request is an error.
 */
export function podRequests(pods: readonly RPod[], container: string, resource: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const pod of pods) {
    const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === "Always")];
    let sum = 0;
    for (const c of containers) {
      if (container !== "" && container !== c.name) continue;
      const req = c.resources?.requests?.[resource];
      if (req === undefined) throw new Error(`missing request for ${resource} in container ${c.name} of Pod ${pod.metadata?.name ?? ""}`);
      sum += Number(Quantity.parse(String(req)).milliValue());
    }
    out.set(pod.metadata?.name ?? "", sum);
  }
  return out;
}

/** Upstream's GetResourceUtilizationRatio: usage over requests of the pods that have both, as a whole percentage. */
export function utilizationRatio(metrics: PodMetricsInfo, requests: ReadonlyMap<string, number>, targetUtilization: number): { ratio: number; utilization: number; rawAverage: number } {
  let metricsTotal = 0;
  let requestsTotal = 0;
  let n = 0;
  for (const [name, m] of metrics) {
    const req = requests.get(name);
    if (req === undefined) continue;
    metricsTotal += m.value;
    requestsTotal += req;
    n++;
  }
  if (requestsTotal === 0) throw new Error("no metrics returned matched known pods");
  const utilization = Math.trunc((metricsTotal * 100) / requestsTotal);
  return { ratio: utilization / targetUtilization, utilization, rawAverage: Math.trunc(metricsTotal / n) };
}

/** Upstream's GetMetricUsageRatio: the pods' average usage over the target average. */
export function usageRatio(metrics: PodMetricsInfo, targetUsage: number): { ratio: number; usage: number } {
  let total = 0;
  for (const m of metrics.values()) total += m.value;
  const usage = Math.trunc(total / metrics.size);
  return { ratio: usage / targetUsage, usage };
}

export interface UtilizationProposal {
  readonly replicas: number;
  /** Percent of the request, truncated. */
  readonly utilization: number;
  /** The ready pods' average usage, in milli-units. */
  readonly rawUtilization: number;
  readonly timestamp: number;
}

export interface AverageValueProposal {
  readonly replicas: number;
  /** The ready pods' average usage, in milli-units. */
  readonly usage: number;
  readonly timestamp: number;
}

export class ReplicaCalculator {
  private readonly tolerance: number;
  private readonly cpuInitializationPeriodMs: number;
  private readonly delayOfInitialReadinessStatusMs: number;

  constructor(
    private readonly metricsClient: MetricsClient,
    /** The pods of a namespace that a selector matches, from the pod cache. */
    private readonly pods: (namespace: string, selector: Selector) => readonly RPod[],
    private readonly clock: Pick<Clock, "now">,
    opts: ReplicaCalculatorOptions = {},
  ) {
    this.tolerance = opts.tolerance ?? DEFAULT_TOLERANCE;
    this.cpuInitializationPeriodMs = opts.cpuInitializationPeriodMs ?? CPU_INITIALIZATION_PERIOD_MS;
    this.delayOfInitialReadinessStatusMs = opts.delayOfInitialReadinessStatusMs ?? INITIAL_READINESS_DELAY_MS;
  }

  private async fetch(resource: string, namespace: string, selector: Selector, container: string): Promise<{ metrics: PodMetricsInfo; timestamp: number }> {
    try {
      return await resourceMetric(this.metricsClient, resource, namespace, selector.toString(), container);
    } catch (err) {
      throw new Error(`unable to get metrics for resource ${resource}: ${messageOf(err)}`, { cause: err });
    }
  }

  private groups(namespace: string, selector: Selector, metrics: PodMetricsInfo, resource: string): { pods: readonly RPod[]; g: PodGroups } {
    const pods = this.pods(namespace, selector);
    if (pods.length === 0) throw new Error("no pods returned by selector while calculating replica count");
    const g = groupPods(pods, metrics, resource, this.cpuInitializationPeriodMs, this.delayOfInitialReadinessStatusMs, this.clock.now());
    for (const name of g.ignored) metrics.delete(name);
    for (const name of g.unready) metrics.delete(name);
    if (metrics.size === 0) throw new Error("did not receive metrics for targeted pods (pods might be unready)");
    return { pods, g };
  }

  /**
   * The proposal from the ready pods alone when none is missing or held back; otherwise from a
   * second pass once missing pods (`fill`, told which way the first pass pointed) and unready
   * ones have their assumed values.
   */
  private decide(currentReplicas: number, ratio: number, readyPodCount: number, g: PodGroups, metrics: PodMetricsInfo, fill: (direction: "down" | "up" | "even") => void, recompute: () => number): number {
    const scaleUpWithUnready = g.unready.size > 0 && ratio > 1.0;
    if (!scaleUpWithUnready && g.missing.size === 0) {
      if (Math.abs(1.0 - ratio) <= this.tolerance) return currentReplicas;
      return Math.ceil(ratio * readyPodCount);
    }
    if (g.missing.size > 0) fill(ratio < 1.0 ? "down" : ratio > 1.0 ? "up" : "even");
    if (scaleUpWithUnready) for (const name of g.unready) metrics.set(name, { timestamp: 0, windowMs: 0, value: 0 });
    const newRatio = recompute();
    if (Math.abs(1.0 - newRatio) <= this.tolerance || (ratio < 1.0 && newRatio > 1.0) || (ratio > 1.0 && newRatio < 1.0)) return currentReplicas;
    const newReplicas = Math.ceil(newRatio * metrics.size);
    if ((newRatio < 1.0 && newReplicas > currentReplicas) || (newRatio > 1.0 && newReplicas < currentReplicas)) return currentReplicas;
    return newReplicas;
  }

  /** Upstream's GetResourceReplicas: a target average utilization (percent of request). */
  async resourceReplicas(currentReplicas: number, targetUtilization: number, resource: string, namespace: string, selector: Selector, container: string): Promise<UtilizationProposal> {
    const { metrics, timestamp } = await this.fetch(resource, namespace, selector, container);
    const { pods, g } = this.groups(namespace, selector, metrics, resource);
    const requests = podRequests(pods, container, resource);
    const { ratio, utilization, rawAverage } = utilizationRatio(metrics, requests, targetUtilization);
    const replicas = this.decide(
      currentReplicas,
      ratio,
      g.readyPodCount,
      g,
      metrics,
      (dir) => {
        // On a scale down a missing pod is taken to use all of its request, or the target when that is higher.
        if (dir === "even") return;
        const fallback = Math.max(100, targetUtilization);
        for (const name of g.missing) metrics.set(name, { timestamp: 0, windowMs: 0, value: dir === "down" ? Math.trunc(((requests.get(name) ?? 0) * fallback) / 100) : 0 });
      },
      () => utilizationRatio(metrics, requests, targetUtilization).ratio,
    );
    return { replicas, utilization, rawUtilization: rawAverage, timestamp };
  }

  /** Upstream's GetRawResourceReplicas: a target average value per pod, in milli-units. */
  async rawResourceReplicas(currentReplicas: number, targetUsage: number, resource: string, namespace: string, selector: Selector, container: string): Promise<AverageValueProposal> {
    const { metrics, timestamp } = await this.fetch(resource, namespace, selector, container);
    const { g } = this.groups(namespace, selector, metrics, resource);
    const { ratio, usage } = usageRatio(metrics, targetUsage);
    const replicas = this.decide(
      currentReplicas,
      ratio,
      g.readyPodCount,
      g,
      metrics,
      // On a scale down a missing pod is taken to use exactly the target; otherwise nothing.
      (dir) => {
        for (const name of g.missing) metrics.set(name, { timestamp: 0, windowMs: 0, value: dir === "down" ? targetUsage : 0 });
      },
      () => usageRatio(metrics, targetUsage).ratio,
    );
    return { replicas, usage, timestamp };
  }
}
