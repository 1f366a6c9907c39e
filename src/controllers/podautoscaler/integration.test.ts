// The HPA controller against a real API server: it reads a Deployment's scale subresource,
// writes spec.replicas through it, and its status write passes the server's validation.
// Simulated nodes report no usage, so the test seeds the pods' metrics; the controller runs on
// a fake clock that the test steps past each 15 s requeue.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Deployment } from "kubernetes-types/apps/v1.js";
import type { HorizontalPodAutoscaler } from "kubernetes-types/autoscaling/v2.js";
import type { Pod } from "kubernetes-types/core/v1.js";
import { FakeClock } from "../../client/clock.js";
import { type RestClient } from "../../client/rest.js";
import { until } from "../../testing/wait.js";
import { rfc3339 } from "../../util/time.js";
import { runControllersAgainstApiServer, type ControllersAgainstApiServer } from "../../testing/controllers.js";
import { HPA_SYNC_PERIOD_MS, newHorizontalPodAutoscalerController } from "./index.js";
import { SeededMetricsClient, podMetrics } from "./testing.js";

const LABELS = { app: "web" };

void describe("HPA controller against an API server", () => {
  let h: ControllersAgainstApiServer;
  let client: RestClient;
  const clock = new FakeClock(Date.now());
  const metrics = new SeededMetricsClient();

  before(async () => {
    h = await runControllersAgainstApiServer((ctx) => [[newHorizontalPodAutoscalerController(ctx, { clock, metrics }), 2]]);
    client = h.client;
  });

  after(() => h?.stop());

  void it("scales a Deployment up through its scale subresource and records a valid status", async () => {
    const deployments = client.forKind("apps/v1", "Deployment").namespace("default");
    const pods = client.forKind("v1", "Pod").namespace("default");
    const hpas = client.forKind("autoscaling/v2", "HorizontalPodAutoscaler").namespace("default");
    await deployments.create({
      metadata: { name: "web" },
      spec: { replicas: 2, selector: { matchLabels: LABELS }, template: { metadata: { labels: LABELS }, spec: { containers: [{ name: "app", image: "nginx" }] } } },
    } as Deployment);
    const now = clock.now();
    for (const name of ["web-a", "web-b"]) {
      const p = await pods.create({ metadata: { name, labels: LABELS }, spec: { containers: [{ name: "app", image: "nginx", resources: { requests: { cpu: "500m" } } }] } } as Pod);
      await pods.updateStatus({
        ...p,
        status: { phase: "Running", startTime: rfc3339(now - 600_000), conditions: [{ type: "Ready", status: "True", lastTransitionTime: rfc3339(now - 540_000) }] },
      });
    }
    metrics.set(podMetrics("default", "web-a", LABELS, now, { app: { cpu: "400m" } }), podMetrics("default", "web-b", LABELS, now, { app: { cpu: "400m" } }));
    await hpas.create({
      metadata: { name: "web" },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
        maxReplicas: 5,
        metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 40 } } }],
      },
    } as HorizontalPodAutoscaler);

    // Every poll moves the controller past one requeue period.
    const scaled = await until("the Deployment scaled", async () => {
      clock.step(HPA_SYNC_PERIOD_MS);
      const d = await deployments.get("web");
      return d.spec?.replicas !== 2 ? d : undefined;
    });
    assert.equal(scaled.spec?.replicas, 4, "80 % of a 40 % target: ceil(2 × 2)");
    const status = await until("the status", async () => {
      const s = (await hpas.get("web")).status;
      return s?.desiredReplicas === 4 ? s : undefined;
    });
    assert.equal(status.currentReplicas, 2);
    assert.ok(status.lastScaleTime);
    assert.deepEqual(status.currentMetrics, [{ type: "Resource", resource: { name: "cpu", current: { averageUtilization: 80, averageValue: "400m" } } }]);
    assert.deepEqual(
      status.conditions?.map((c) => [c.type, c.status, c.reason]),
      [
        ["AbleToScale", "True", "SucceededRescale"],
        ["ScalingActive", "True", "ValidMetricFound"],
        ["ScalingLimited", "False", "DesiredWithinRange"],
      ],
    );
    assert.deepEqual(h.events.lines(), ["Normal SuccessfulRescale New size: 4; reason: cpu resource utilization (percentage of request) above target"]);
  });
});
