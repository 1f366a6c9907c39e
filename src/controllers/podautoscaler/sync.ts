// One reconcile of a HorizontalPodAutoscaler, as upstream's reconcileAutoscaler
// (pkg/controller/podautoscaler/horizontal.go, 1.32):
//  1. read the target's scale subresource (AbleToScale False FailedGetScale when it fails);
//  2. a target at 0 replicas has autoscaling disabled (ScalingActive False ScalingDisabled);
//     one outside [minReplicas, maxReplicas] is brought back inside; otherwise
//  3. every metric proposes a count (only Resource and ContainerResource metrics can be read
//     here: there is no custom or external metrics API), the largest wins, and the
//     stabilization and rate rules (behavior.ts) normalize it;
//  4. a different count is written to the scale subresource (SuccessfulRescale), and the
//     status (replicas, current metrics, conditions, lastScaleTime) only when it changed.
// Errors are returned after the status is written; the controller requeues every HPA every
// 15 s whatever the outcome (upstream's resync), so nothing retries faster than that.
import { isDeepStrictEqual } from "node:util";
import type { Scale } from "kubernetes-types/autoscaling/v1.js";
import type {
  HorizontalPodAutoscaler,
  HorizontalPodAutoscalerStatus,
  MetricSpec,
  MetricStatus,
  MetricTarget,
  MetricValueStatus,
} from "kubernetes-types/autoscaling/v2.js";
import { parseSelector, type Selector } from "../../api/labels.js";
import { Quantity } from "../../api/quantity.js";
import type { Clock } from "../../client/clock.js";
import { isNotFound } from "../../client/errors.js";
import { mutableCopy, type DeepReadonly } from "../../client/objects.js";
import { rfc3339 } from "../../util/time.js";
import type { Logger } from "../../util/log.js";
import type { Api, ResourceApi } from "../api.js";
import type { EventSink } from "../context.js";
import type { RPod } from "../replicaset/podutil.js";
import { Recommender } from "./behavior.js";
import { messageOf, type MetricsClient } from "./metrics.js";
import { ReplicaCalculator, type ReplicaCalculatorOptions } from "./replicas.js";
import type { ScaleClient } from "./scale.js";

export type RHPA = DeepReadonly<HorizontalPodAutoscaler>;

type ConditionType = "AbleToScale" | "ScalingActive" | "ScalingLimited";
type ConditionStatus = "True" | "False";

/** The read side: HPAs and pods from the informers' caches. */
export interface HPACaches {
  hpa(key: string): RHPA | undefined;
  /** Pods of `namespace` whose labels `selector` matches. */
  pods(namespace: string, selector: Selector): readonly RPod[];
}

export interface HPASyncOptions extends ReplicaCalculatorOptions {
  /** --horizontal-pod-autoscaler-downscale-stabilization, in seconds (default 300). */
  readonly downscaleStabilizationSeconds?: number;
}

export interface HPASyncDeps {
  readonly caches: HPACaches;
  /** Status writes go through it. */
  readonly api: Api;
  readonly scales: ScaleClient;
  readonly metrics: MetricsClient;
  readonly events: EventSink;
  readonly clock: Clock;
  readonly log: Logger;
  readonly options?: HPASyncOptions;
}

/** What sync did with the key: the controller requeues every key still there. */
export type SyncOutcome = "deleted" | "reconciled";

/**
 * Sets a condition the way upstream's setConditionInList does: reason and message always,
 * lastTransitionTime only when the status changes (or the condition is new).
 */
export function setCondition(status: HorizontalPodAutoscalerStatus, type: ConditionType, s: ConditionStatus, reason: string, message: string, now: number): void {
  const conditions = (status.conditions ??= []);
  let c = conditions.find((x) => x.type === type);
  if (!c) {
    c = { type, status: s, reason, message, lastTransitionTime: rfc3339(now) };
    conditions.push(c);
    return;
  }
  if (c.status !== s) c.lastTransitionTime = rfc3339(now);
  c.status = s;
  c.reason = reason;
  c.message = message;
}

const milliQuantity = (milli: number): string => Quantity.fromMilli(BigInt(milli), "DecimalSI").toString();

/** A failed metric: the ScalingActive condition it would set (its event is already sent) and the error. */
class MetricError extends Error {
  constructor(
    readonly condition: { readonly reason: string; readonly message: string },
    message: string,
  ) {
    super(message);
  }
}

interface MetricProposal {
  readonly replicas: number;
  readonly metricName: string;
  readonly status: MetricStatus;
}

const CUSTOM_METRICS_UNAVAILABLE = "unable to fetch metrics from custom metrics API: the custom metrics API (custom.metrics.k8s.io) is not available";
const EXTERNAL_METRICS_UNAVAILABLE = "unable to fetch metrics from external metrics API: the external metrics API (external.metrics.k8s.io) is not available";

export class HPASyncer {
  private readonly calc: ReplicaCalculator;
  readonly recommender: Recommender;
  /** The selector each HPA last found on its target, to refuse pods claimed by two HPAs. */
  private readonly selectors = new Map<string, { readonly namespace: string; readonly selector: Selector }>();
  private readonly hpaApi: ResourceApi<HorizontalPodAutoscaler>;

  constructor(private readonly d: HPASyncDeps) {
    this.calc = new ReplicaCalculator(d.metrics, (ns, sel) => d.caches.pods(ns, sel), d.clock, d.options ?? {});
    this.recommender = new Recommender(d.clock, d.options?.downscaleStabilizationSeconds);
    this.hpaApi = d.api.resource<HorizontalPodAutoscaler>("autoscaling", "v2", "horizontalpodautoscalers", { namespaced: true, kind: "HorizontalPodAutoscaler" });
  }

  /** Drops what is remembered about an HPA (upstream does so when its key is found gone). */
  forget(key: string): void {
    this.recommender.forget(key);
    this.selectors.delete(key);
  }

  async sync(key: string): Promise<SyncOutcome> {
    const shared = this.d.caches.hpa(key);
    if (!shared) {
      this.forget(key);
      return "deleted";
    }
    await this.reconcile(key, shared);
    return "reconciled";
  }

  private event(hpa: RHPA, type: "Normal" | "Warning", reason: string, message: string): void {
    this.d.events.event(hpa as HorizontalPodAutoscaler, type, reason, message);
  }

  private cond(hpa: HorizontalPodAutoscaler, type: ConditionType, s: ConditionStatus, reason: string, message: string): void {
    setCondition((hpa.status ??= { desiredReplicas: 0 }), type, s, reason, message, this.d.clock.now());
  }

  private async reconcile(key: string, shared: RHPA): Promise<void> {
    const hpa = mutableCopy<HorizontalPodAutoscaler>(shared);
    hpa.status ??= { desiredReplicas: 0 };
    const original = structuredClone(hpa.status);
    const spec = hpa.spec!;
    const ns = hpa.metadata?.namespace ?? "";
    const ref = spec.scaleTargetRef;
    const reference = `${ref.kind}/${ns}/${ref.name}`;

    let scale: Scale;
    try {
      scale = await this.d.scales.get(ns, ref);
    } catch (err) {
      this.event(hpa, "Warning", "FailedGetScale", messageOf(err));
      this.cond(hpa, "AbleToScale", "False", "FailedGetScale", `the HPA controller was unable to get the target's current scale: ${messageOf(err)}`);
      await this.updateStatusIfNeeded(original, hpa);
      throw new Error(`failed to query scale subresource for ${reference}: ${messageOf(err)}`, { cause: err });
    }
    this.cond(hpa, "AbleToScale", "True", "SucceededGetScale", "the HPA controller was able to get the target's current scale");
    const currentReplicas = scale.spec?.replicas ?? 0;
    this.recommender.recordInitial(key, currentReplicas);

    const minReplicas = spec.minReplicas ?? 1;
    let desiredReplicas = 0;
    let rescaleReason = "";
    let rescale = true;
    let metricStatuses: MetricStatus[] | undefined;
    let retErr: Error | undefined;

    if (currentReplicas === 0 && minReplicas !== 0) {
      rescale = false;
      this.cond(hpa, "ScalingActive", "False", "ScalingDisabled", "scaling is disabled since the replica count of the target is zero");
    } else if (currentReplicas > spec.maxReplicas) {
      rescaleReason = "Current number of replicas above Spec.MaxReplicas";
      desiredReplicas = spec.maxReplicas;
    } else if (currentReplicas < minReplicas) {
      rescaleReason = "Current number of replicas below Spec.MinReplicas";
      desiredReplicas = minReplicas;
    } else {
      const computed = await this.computeReplicasForMetrics(key, hpa, scale);
      metricStatuses = computed.statuses;
      if (computed.replicas === -1) {
        this.setStatus(hpa, currentReplicas, hpa.status.desiredReplicas, metricStatuses, false);
        await this.updateStatusIfNeeded(original, hpa).catch((err: unknown) => this.d.log.error({ err }, "failed to update the HPA's status"));
        const msg = messageOf(computed.error);
        this.event(hpa, "Warning", "FailedComputeMetricsReplicas", msg);
        throw new Error(`failed to compute desired number of replicas based on listed metrics for ${reference}: ${msg}`, { cause: computed.error });
      }
      // Some metrics failed but the others ask for at least the current count: scale on those, report the error after.
      retErr = computed.error;
      let rescaleMetric = "";
      if (computed.replicas > desiredReplicas) {
        desiredReplicas = computed.replicas;
        rescaleMetric = computed.metricName;
      }
      if (desiredReplicas > currentReplicas) rescaleReason = `${rescaleMetric} above target`;
      if (desiredReplicas < currentReplicas) rescaleReason = "All metrics below target";
      const n = this.recommender.normalize({ key, behavior: spec.behavior, minReplicas, maxReplicas: spec.maxReplicas, currentReplicas, desiredReplicas });
      this.cond(hpa, "AbleToScale", "True", n.ableToScale.reason, n.ableToScale.message);
      this.cond(hpa, "ScalingLimited", n.scalingLimited.status, n.scalingLimited.reason, n.scalingLimited.message);
      desiredReplicas = n.replicas;
      rescale = desiredReplicas !== currentReplicas;
    }

    if (rescale) {
      const next: Scale = { ...scale, spec: { ...scale.spec, replicas: desiredReplicas } };
      try {
        await this.d.scales.update(ns, ref, next);
      } catch (err) {
        this.event(hpa, "Warning", "FailedRescale", `New size: ${desiredReplicas}; reason: ${rescaleReason}; error: ${messageOf(err)}`);
        this.cond(hpa, "AbleToScale", "False", "FailedUpdateScale", `the HPA controller was unable to update the target scale: ${messageOf(err)}`);
        this.setStatus(hpa, currentReplicas, hpa.status.desiredReplicas, metricStatuses, false);
        await this.updateStatusIfNeeded(original, hpa).catch((e: unknown) => this.d.log.error({ err: e }, "failed to update the HPA's status"));
        throw new Error(`failed to rescale ${reference}: ${messageOf(err)}`, { cause: err });
      }
      this.cond(hpa, "AbleToScale", "True", "SucceededRescale", `the HPA controller was able to update the target scale to ${desiredReplicas}`);
      this.event(hpa, "Normal", "SuccessfulRescale", `New size: ${desiredReplicas}; reason: ${rescaleReason}`);
      this.recommender.recordScale(key, spec.behavior, currentReplicas, desiredReplicas);
      this.d.log.info({ hpa: key, from: currentReplicas, to: desiredReplicas, reason: rescaleReason }, "successful rescale");
    } else {
      desiredReplicas = currentReplicas;
    }

    this.setStatus(hpa, currentReplicas, desiredReplicas, metricStatuses, rescale);
    await this.updateStatusIfNeeded(original, hpa);
    if (retErr) throw retErr;
  }

  /** Upstream's setStatus: counters and metrics replaced, conditions and lastScaleTime kept unless it scaled. */
  private setStatus(hpa: HorizontalPodAutoscaler, currentReplicas: number, desiredReplicas: number, metrics: MetricStatus[] | undefined, rescaled: boolean): void {
    const old = hpa.status ?? { desiredReplicas: 0 };
    const status: HorizontalPodAutoscalerStatus = { desiredReplicas };
    if (hpa.metadata?.generation !== undefined) status.observedGeneration = hpa.metadata.generation;
    const lastScaleTime = rescaled ? rfc3339(this.d.clock.now()) : old.lastScaleTime;
    if (lastScaleTime !== undefined) status.lastScaleTime = lastScaleTime;
    if (currentReplicas !== 0) status.currentReplicas = currentReplicas;
    if (metrics && metrics.length > 0) status.currentMetrics = metrics;
    if (old.conditions) status.conditions = old.conditions;
    hpa.status = status;
  }

  private async updateStatusIfNeeded(original: HorizontalPodAutoscalerStatus, hpa: HorizontalPodAutoscaler): Promise<void> {
    if (isDeepStrictEqual(original, hpa.status)) return;
    try {
      await this.hpaApi.namespace(hpa.metadata?.namespace ?? "").updateStatus(hpa, { answer: "metadata" });
    } catch (err) {
      if (isNotFound(err)) return;
      this.event(hpa, "Warning", "FailedUpdateStatus", messageOf(err));
      throw new Error(`failed to update status for ${hpa.metadata?.name ?? ""}: ${messageOf(err)}`, { cause: err });
    }
  }

  /** Upstream's validateAndParseSelector; sets ScalingActive False and throws when the selector is unusable. */
  private selectorOf(key: string, hpa: HorizontalPodAutoscaler, selector: string): Selector {
    const ns = hpa.metadata?.namespace ?? "";
    if (selector === "") {
      this.event(hpa, "Warning", "SelectorRequired", "selector is required");
      this.cond(hpa, "ScalingActive", "False", "InvalidSelector", "the HPA target's scale is missing a selector");
      throw new Error("selector is required");
    }
    let parsed: Selector;
    try {
      parsed = parseSelector(selector);
    } catch (err) {
      const msg = `couldn't convert selector into a corresponding internal selector object: ${messageOf(err)}`;
      this.event(hpa, "Warning", "InvalidSelector", msg);
      this.cond(hpa, "ScalingActive", "False", "InvalidSelector", msg);
      throw new Error(msg, { cause: err });
    }
    this.selectors.set(key, { namespace: ns, selector: parsed });
    const controlling = new Set<string>();
    for (const pod of this.d.caches.pods(ns, parsed)) {
      for (const [k, s] of this.selectors) if (s.namespace === ns && s.selector.matches(pod.metadata?.labels)) controlling.add(k);
    }
    if (controlling.size > 1) {
      const msg = `pods by selector ${selector} are controlled by multiple HPAs: [${[...controlling].sort().join(" ")}]`;
      this.event(hpa, "Warning", "AmbiguousSelector", msg);
      this.cond(hpa, "ScalingActive", "False", "AmbiguousSelector", msg);
      throw new Error(msg);
    }
    return parsed;
  }

  /** Upstream's computeReplicasForMetrics: the largest proposal; -1 when none is usable, or some failed and the rest would scale down. */
  private async computeReplicasForMetrics(key: string, hpa: HorizontalPodAutoscaler, scale: Scale): Promise<{ replicas: number; metricName: string; statuses?: MetricStatus[]; error?: Error }> {
    let selector: Selector;
    try {
      selector = this.selectorOf(key, hpa, scale.status?.selector ?? "");
    } catch (err) {
      return { replicas: -1, metricName: "", error: err as Error };
    }
    const specReplicas = scale.spec?.replicas ?? 0;
    const specs = hpa.spec?.metrics ?? [];
    // A metric that fails keeps an empty entry, as upstream's zero MetricStatus.
    const statuses: MetricStatus[] = specs.map(() => ({ type: "" }));
    let replicas = 0;
    let metricName = "";
    let invalid = 0;
    let first: MetricError | undefined;
    for (const [i, spec] of specs.entries()) {
      try {
        const p = await this.computeReplicasForMetric(hpa, spec, specReplicas, selector);
        statuses[i] = p.status;
        if (replicas === 0 || p.replicas > replicas) {
          replicas = p.replicas;
          metricName = p.metricName;
        }
      } catch (err) {
        if (!(err instanceof MetricError)) throw err;
        first ??= err;
        invalid++;
      }
    }
    const error = first ? new Error(`invalid metrics (${invalid} invalid out of ${specs.length}), first error is: ${first.message}`, { cause: first }) : undefined;
    if (invalid >= specs.length || (invalid > 0 && replicas < specReplicas)) {
      if (first) this.cond(hpa, "ScalingActive", "False", first.condition.reason, first.condition.message);
      return { replicas: -1, metricName: "", statuses, ...(error ? { error } : { error: new Error("no metrics to compute a replica count from") }) };
    }
    this.cond(hpa, "ScalingActive", "True", "ValidMetricFound", `the HPA was able to successfully calculate a replica count from ${metricName}`);
    return { replicas, metricName, statuses, ...(error ? { error } : {}) };
  }

  /** A failed metric: its warning event now, its condition for computeReplicasForMetrics to pick. */
  private failed(hpa: HorizontalPodAutoscaler, reason: string, inner: string, outer: string): MetricError {
    this.event(hpa, "Warning", reason, inner);
    return new MetricError({ reason, message: `the HPA was unable to compute the replica count: ${inner}` }, outer);
  }

  private async computeReplicasForMetric(hpa: HorizontalPodAutoscaler, spec: MetricSpec, specReplicas: number, selector: Selector): Promise<MetricProposal> {
    const ns = hpa.metadata?.namespace ?? "";
    switch (spec.type) {
      case "Resource": {
        const r = spec.resource!;
        try {
          const { replicas, current, metricName } = await this.resourceProposal(specReplicas, r.target, r.name, ns, "", selector, false);
          return { replicas, metricName, status: { type: "Resource", resource: { name: r.name, current } } };
        } catch (err) {
          throw this.failed(hpa, "FailedGetResourceMetric", messageOf(err), `failed to get ${r.name} resource metric value: ${messageOf(err)}`);
        }
      }
      case "ContainerResource": {
        const r = spec.containerResource!;
        try {
          const { replicas, current, metricName } = await this.resourceProposal(specReplicas, r.target, r.name, ns, r.container, selector, true);
          return { replicas, metricName, status: { type: "ContainerResource", containerResource: { name: r.name, container: r.container, current } } };
        } catch (err) {
          throw this.failed(hpa, "FailedGetContainerResourceMetric", messageOf(err), `failed to get ${r.container} container metric value: ${messageOf(err)}`);
        }
      }
      case "Pods": {
        const inner = `unable to get metric ${spec.pods?.metric.name ?? ""}: ${CUSTOM_METRICS_UNAVAILABLE}`;
        throw this.failed(hpa, "FailedGetPodsMetric", inner, `failed to get pods metric value: ${inner}`);
      }
      case "Object": {
        const o = spec.object;
        const inner = `unable to get metric ${o?.metric.name ?? ""}: ${o?.describedObject.kind ?? ""} on ${ns} ${o?.describedObject.name ?? ""}: ${CUSTOM_METRICS_UNAVAILABLE}`;
        throw this.failed(hpa, "FailedGetObjectMetric", inner, `failed to get object metric value: ${inner}`);
      }
      case "External": {
        const name = spec.external?.metric.name ?? "";
        const inner = `unable to get external metric ${ns}/${name}: ${EXTERNAL_METRICS_UNAVAILABLE}`;
        throw this.failed(hpa, "FailedGetExternalMetric", inner, `failed to get ${name} external metric value: ${inner}`);
      }
      default: {
        const msg = `unknown metric source type "${spec.type}"`;
        throw this.failed(hpa, "InvalidMetricSourceType", msg, msg);
      }
    }
  }

  /** Upstream's computeStatusForResourceMetricGeneric: AverageValue first, else AverageUtilization. */
  private async resourceProposal(
    specReplicas: number,
    target: MetricTarget,
    resource: string,
    ns: string,
    container: string,
    selector: Selector,
    isContainer: boolean,
  ): Promise<{ replicas: number; current: MetricValueStatus; metricName: string }> {
    if (target.averageValue !== undefined) {
      const targetMilli = Number(Quantity.parse(String(target.averageValue)).milliValue());
      let p;
      try {
        p = await this.calc.rawResourceReplicas(specReplicas, targetMilli, resource, ns, selector, container);
      } catch (err) {
        throw new Error(`failed to get ${resource} usage: ${messageOf(err)}`, { cause: err });
      }
      return { replicas: p.replicas, current: { averageValue: milliQuantity(p.usage) }, metricName: `${resource} resource` };
    }
    if (target.averageUtilization === undefined) throw new Error("invalid resource metric source: neither an average utilization target nor an average value (usage) target was set");
    let p;
    try {
      p = await this.calc.resourceReplicas(specReplicas, target.averageUtilization, resource, ns, selector, container);
    } catch (err) {
      throw new Error(`failed to get ${resource} utilization: ${messageOf(err)}`, { cause: err });
    }
    return {
      replicas: p.replicas,
      current: { averageUtilization: p.utilization, averageValue: milliQuantity(p.rawUtilization) },
      metricName: `${resource}${isContainer ? " container" : ""} resource utilization (percentage of request)`,
    };
  }
}

