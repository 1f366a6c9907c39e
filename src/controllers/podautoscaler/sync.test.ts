import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, HorizontalPodAutoscalerStatus, MetricSpec } from "kubernetes-types/autoscaling/v2.js";
import type { Pod } from "kubernetes-types/core/v1.js";
import { FakeClock } from "../../client/clock.js";
import { Lister } from "../../client/informer.js";
import { createLogger } from "../../util/log.js";
import { rfc3339 } from "../../util/time.js";
import { FakeApi, RecordingEventSink, cachePut, seedIndexer } from "../testing/index.js";
import { HPASyncer } from "./sync.js";
import { FakeScaleClient, SeededMetricsClient, podMetrics } from "./testing.js";

const T0 = Date.UTC(2024, 0, 1, 12);
const KEY = "ns/web";
const LABELS = { app: "web" };
const TARGET = { apiVersion: "apps/v1", kind: "Deployment", name: "web" };
const cpu50: MetricSpec = { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } } };

function hpa(spec: Partial<HorizontalPodAutoscalerSpec> = {}, status: HorizontalPodAutoscalerStatus = { desiredReplicas: 0 }): HorizontalPodAutoscaler {
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name: "web", namespace: "ns", uid: "hpa-uid", generation: 2, resourceVersion: "7" },
    spec: { scaleTargetRef: TARGET, minReplicas: 1, maxReplicas: 10, metrics: [cpu50], ...spec },
    status,
  };
}

function pod(name: string): Pod {
  return {
    metadata: { name, namespace: "ns", labels: LABELS },
    spec: { containers: [{ name: "app", image: "x", resources: { requests: { cpu: "1" } } }] },
    status: { phase: "Running", startTime: rfc3339(T0 - 600_000), conditions: [{ type: "Ready", status: "True", lastTransitionTime: rfc3339(T0 - 540_000) }] },
  };
}

/** An HPA over a Deployment at `replicas` with one pod per replica, each using `usage` cpu. */
function harness(h: HorizontalPodAutoscaler, replicas: number, usage: string | undefined) {
  const clock = new FakeClock(T0);
  const api = new FakeApi({ clock });
  api.seed("autoscaling", "horizontalpodautoscalers", h);
  const hpas = seedIndexer([h]);
  const pods = Array.from({ length: replicas }, (_, i) => pod(`web-${i}`));
  const podLister = new Lister(seedIndexer(pods));
  const scales = new FakeScaleClient();
  scales.seed("ns", TARGET, replicas, "app=web");
  const metrics = new SeededMetricsClient();
  if (usage !== undefined) metrics.set(...pods.map((p) => podMetrics("ns", p.metadata!.name!, LABELS, T0, { app: { cpu: usage } })));
  const events = new RecordingEventSink();
  const syncer = new HPASyncer({
    caches: { hpa: (k) => hpas.get(k), pods: (ns, sel) => podLister.namespace(ns).list(sel) },
    api,
    scales,
    metrics,
    events,
    clock,
    log: createLogger("silent"),
  });
  const status = (): HorizontalPodAutoscalerStatus | undefined => {
    const w = api.writes({ verb: "updateStatus" });
    return (w[w.length - 1]?.object as HorizontalPodAutoscaler | undefined)?.status;
  };
  const condition = (type: string) => {
    const c = status()?.conditions?.find((x) => x.type === type);
    return c && [c.status, c.reason, c.message];
  };
  /** The next sync's cache shows the HPA as the API now has it. */
  const refresh = (): void => void cachePut(hpas, api.object<HorizontalPodAutoscaler>("autoscaling", "horizontalpodautoscalers", "ns", "web")!);
  return { api, scales, metrics, events, syncer, status, condition, clock, refresh };
}

void describe("HPASyncer", () => {
  void it("scales the target up through its scale subresource and reports it", async () => {
    const h = harness(hpa(), 2, "900m");
    await h.syncer.sync(KEY);
    assert.deepEqual(h.scales.verbs(), ["get deployments ns/web", "update deployments ns/web → 4"], "90 % of a 50 % target: ceil(1.8 × 2)");
    assert.deepEqual(h.events.lines(), ["Normal SuccessfulRescale New size: 4; reason: cpu resource utilization (percentage of request) above target"]);
    assert.deepEqual(h.api.verbs(), ["updateStatus horizontalpodautoscalers/status ns/web"]);
    const s = h.status()!;
    assert.deepEqual(
      { ...s, conditions: undefined },
      {
        observedGeneration: 2,
        currentReplicas: 2,
        desiredReplicas: 4,
        lastScaleTime: rfc3339(T0),
        currentMetrics: [{ type: "Resource", resource: { name: "cpu", current: { averageUtilization: 90, averageValue: "900m" } } }],
        conditions: undefined,
      },
    );
    assert.deepEqual(h.condition("AbleToScale"), ["True", "SucceededRescale", "the HPA controller was able to update the target scale to 4"]);
    assert.deepEqual(h.condition("ScalingActive"), ["True", "ValidMetricFound", "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)"]);
    assert.deepEqual(h.condition("ScalingLimited"), ["False", "DesiredWithinRange", "the desired count is within the acceptable range"]);
  });

  void it("holds a scale down in the stabilization window, then says all metrics are below target", async () => {
    const h = harness(hpa(), 4, "100m");
    await h.syncer.sync(KEY);
    assert.deepEqual(h.scales.verbs(), ["get deployments ns/web"]);
    assert.deepEqual(h.condition("AbleToScale"), ["True", "ScaleDownStabilized", "recent recommendations were higher than current one, applying the highest recent recommendation"]);
    assert.equal(h.status()?.desiredReplicas, 4);
    h.clock.step(301_000);
    h.refresh();
    await h.syncer.sync(KEY);
    assert.deepEqual(h.scales.verbs().slice(-1), ["update deployments ns/web → 1"]);
    assert.deepEqual(h.events.lines(), ["Normal SuccessfulRescale New size: 1; reason: All metrics below target"]);
  });

  void it("clamps to maxReplicas with ScalingLimited TooManyReplicas", async () => {
    const h = harness(hpa({ maxReplicas: 3 }), 2, "1");
    await h.syncer.sync(KEY);
    assert.deepEqual(h.scales.verbs().slice(-1), ["update deployments ns/web → 3"]);
    assert.deepEqual(h.condition("ScalingLimited"), ["True", "TooManyReplicas", "the desired replica count is more than the maximum replica count"]);
  });

  void it("brings a target below minReplicas up without reading metrics", async () => {
    const h = harness(hpa({ minReplicas: 3 }), 1, undefined);
    await h.syncer.sync(KEY);
    assert.deepEqual(h.scales.verbs(), ["get deployments ns/web", "update deployments ns/web → 3"]);
    assert.deepEqual(h.events.lines(), ["Normal SuccessfulRescale New size: 3; reason: Current number of replicas below Spec.MinReplicas"]);
  });

  void it("applies ScaleDownLimit with ScalingLimited when a policy slows a scale down", async () => {
    const behavior = { scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: "Pods", value: 1, periodSeconds: 60 }] } };
    const h = harness(hpa({ behavior, minReplicas: 2 }), 6, "10m");
    await h.syncer.sync(KEY);
    assert.deepEqual(h.scales.verbs().slice(-1), ["update deployments ns/web → 5"]);
    assert.deepEqual(h.condition("ScalingLimited"), ["True", "ScaleDownLimit", "the desired replica count is decreasing faster than the maximum scale rate"]);
  });

  void it("does not scale a target at 0 replicas: ScalingActive False ScalingDisabled", async () => {
    const h = harness(hpa(), 0, undefined);
    await h.syncer.sync(KEY);
    assert.deepEqual(h.scales.verbs(), ["get deployments ns/web"]);
    assert.deepEqual(h.condition("ScalingActive"), ["False", "ScalingDisabled", "scaling is disabled since the replica count of the target is zero"]);
    assert.deepEqual(h.events.lines(), []);
    assert.equal(h.status()?.desiredReplicas, 0);
  });

  void it("reports a failed scale read: event, AbleToScale False FailedGetScale, error", async () => {
    const h = harness(hpa(), 2, "900m");
    h.scales.fail.get = new Error('deployments.apps "web" not found');
    await assert.rejects(h.syncer.sync(KEY), { message: 'failed to query scale subresource for Deployment/ns/web: deployments.apps "web" not found' });
    assert.deepEqual(h.events.lines(), ['Warning FailedGetScale deployments.apps "web" not found']);
    assert.deepEqual(h.condition("AbleToScale"), ["False", "FailedGetScale", 'the HPA controller was unable to get the target\'s current scale: deployments.apps "web" not found']);
  });

  void it("reports a failed rescale: FailedRescale, AbleToScale False FailedUpdateScale, replicas kept", async () => {
    const h = harness(hpa(), 2, "900m");
    h.scales.fail.update = new Error("conflict");
    await assert.rejects(h.syncer.sync(KEY), { message: "failed to rescale Deployment/ns/web: conflict" });
    assert.deepEqual(h.events.lines(), ["Warning FailedRescale New size: 4; reason: cpu resource utilization (percentage of request) above target; error: conflict"]);
    assert.deepEqual(h.condition("AbleToScale"), ["False", "FailedUpdateScale", "the HPA controller was unable to update the target scale: conflict"]);
    assert.deepEqual([h.status()?.currentReplicas, h.status()?.desiredReplicas, h.status()?.lastScaleTime], [2, 0, undefined]);
  });

  void it("reports missing metrics: FailedGetResourceMetric, FailedComputeMetricsReplicas, ScalingActive False", async () => {
    const h = harness(hpa(), 2, undefined);
    await assert.rejects(h.syncer.sync(KEY), /failed to compute desired number of replicas based on listed metrics for Deployment\/ns\/web/);
    const inner = "failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API";
    assert.deepEqual(h.events.lines(), [
      `Warning FailedGetResourceMetric ${inner}`,
      `Warning FailedComputeMetricsReplicas invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: ${inner}`,
    ]);
    assert.deepEqual(h.condition("ScalingActive"), ["False", "FailedGetResourceMetric", `the HPA was unable to compute the replica count: ${inner}`]);
    assert.deepEqual(h.status()?.currentMetrics, [{ type: "" }]);
    assert.deepEqual(h.scales.verbs(), ["get deployments ns/web"]);
  });

  void it("keeps the replicas of an HPA on a Pods metric: no custom metrics API", async () => {
    const pods: MetricSpec = { type: "Pods", pods: { metric: { name: "rps" }, target: { type: "AverageValue", averageValue: "10" } } };
    const h = harness(hpa({ metrics: [pods] }), 2, "900m");
    await assert.rejects(h.syncer.sync(KEY));
    const c = h.condition("ScalingActive")!;
    assert.deepEqual(c.slice(0, 2), ["False", "FailedGetPodsMetric"]);
    assert.match(String(c[2]), /custom metrics API \(custom\.metrics\.k8s\.io\) is not available/);
    assert.deepEqual(h.scales.verbs(), ["get deployments ns/web"]);
  });

  void it("scales on the metrics that work when another fails and they ask for more", async () => {
    const ext: MetricSpec = { type: "External", external: { metric: { name: "queue" }, target: { type: "Value", value: "10" } } };
    const h = harness(hpa({ metrics: [ext, cpu50] }), 2, "900m");
    await assert.rejects(h.syncer.sync(KEY), /invalid metrics \(1 invalid out of 2\)/);
    assert.deepEqual(h.scales.verbs().slice(-1), ["update deployments ns/web → 4"]);
    assert.deepEqual(h.status()?.currentMetrics?.[0], { type: "" });
  });

  void it("refuses a scale without a selector: InvalidSelector", async () => {
    const h = harness(hpa(), 2, "900m");
    h.scales.seed("ns", TARGET, 2, "");
    await assert.rejects(h.syncer.sync(KEY), /selector is required/);
    assert.deepEqual(h.condition("ScalingActive"), ["False", "InvalidSelector", "the HPA target's scale is missing a selector"]);
  });

  void it("writes no status when nothing changed, and forgets a deleted HPA", async () => {
    const h = harness(hpa(), 2, "520m");
    await h.syncer.sync(KEY);
    assert.equal(h.api.verbs().length, 1);
    const written = h.status()!;
    const again = harness(hpa({}, written), 2, "520m");
    await again.syncer.sync(KEY);
    assert.deepEqual(again.api.verbs(), [], "same status: no write");
    assert.equal(await again.syncer.sync("ns/gone"), "deleted");
  });
});
