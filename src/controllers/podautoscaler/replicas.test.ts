import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.js";
import { parseSelector } from "../../api/labels.js";
import { FakeClock } from "../../client/clock.js";
import { rfc3339 } from "../../util/time.js";
import { seedLister } from "../testing/index.js";
import { ReplicaCalculator } from "./replicas.js";
import { SeededMetricsClient, podMetrics } from "./testing.js";

const T0 = Date.UTC(2024, 0, 1, 12);
const LABELS = { app: "web" };
const SEL = parseSelector("app=web");

interface PodOpts {
  cpu?: string;
  memory?: string;
  phase?: string;
  ready?: boolean;
  /** ms before T0 */
  startedAgo?: number;
  readySinceAgo?: number;
  sidecar?: { name: string; cpu: string };
}

function pod(name: string, o: PodOpts = {}): Pod {
  return {
    metadata: { name, namespace: "ns", labels: LABELS },
    spec: {
      containers: [{ name: "app", image: "x", resources: { requests: { cpu: o.cpu ?? "1", memory: o.memory ?? "100Mi" } } }],
      ...(o.sidecar ? { initContainers: [{ name: o.sidecar.name, image: "x", restartPolicy: "Always", resources: { requests: { cpu: o.sidecar.cpu, memory: "10Mi" } } }] } : {}),
    },
    status: {
      phase: o.phase ?? "Running",
      startTime: rfc3339(T0 - (o.startedAgo ?? 10 * 60_000)),
      conditions: [{ type: "Ready", status: o.ready === false ? "False" : "True", lastTransitionTime: rfc3339(T0 - (o.readySinceAgo ?? 9 * 60_000)) }],
    },
  };
}

function calc(pods: Pod[], ...metrics: [name: string, usage: Record<string, Record<string, string>>][]) {
  const lister = seedLister(pods);
  const m = new SeededMetricsClient();
  m.set(...metrics.map(([name, usage]) => podMetrics("ns", name, LABELS, T0, usage)));
  return new ReplicaCalculator(m, (ns, sel) => lister.namespace(ns).list(sel), new FakeClock(T0));
}

const cpu = (v: string) => ({ app: { cpu: v, memory: "50Mi" } });

void describe("ReplicaCalculator, utilization", () => {
  void it("scales up in proportion to the usage over the target", async () => {
    const c = calc([pod("a"), pod("b"), pod("c")], ["a", cpu("900m")], ["b", cpu("900m")], ["c", cpu("900m")]);
    assert.deepEqual(await c.resourceReplicas(3, 50, "cpu", "ns", SEL, ""), { replicas: 6, utilization: 90, rawUtilization: 900, timestamp: T0 });
  });

  void it("keeps the count within the tolerance, and scales down beyond it", async () => {
    const within = calc([pod("a"), pod("b"), pod("c")], ["a", cpu("530m")], ["b", cpu("530m")], ["c", cpu("530m")]);
    assert.equal((await within.resourceReplicas(3, 50, "cpu", "ns", SEL, "")).replicas, 3, "53 % of a 50 % target is within 10 %");
    const down = calc([pod("a"), pod("b"), pod("c")], ["a", cpu("200m")], ["b", cpu("200m")], ["c", cpu("200m")]);
    const p = await down.resourceReplicas(3, 50, "cpu", "ns", SEL, "");
    assert.deepEqual([p.replicas, p.utilization], [2, 20], "ceil(0.4 × 3)");
  });

  void it("counts a pod without metrics at 100 % of its request on a scale down", async () => {
    const c = calc([pod("a"), pod("b"), pod("c"), pod("d")], ["a", cpu("100m")], ["b", cpu("100m")], ["c", cpu("100m")]);
    const p = await c.resourceReplicas(4, 50, "cpu", "ns", SEL, "");
    assert.equal(p.replicas, 3, "(3 × 100m + 1000m) / 4000m = 32 % → ceil(0.64 × 4); without the assumption it would be 1");
    assert.equal(p.utilization, 10, "the reported utilization is the measured pods'");
  });

  void it("counts a pod without metrics at 0 % on a scale up", async () => {
    const c = calc([pod("a"), pod("b"), pod("c")], ["a", cpu("900m")], ["b", cpu("900m")]);
    assert.equal((await c.resourceReplicas(3, 50, "cpu", "ns", SEL, "")).replicas, 4, "1800m / 3000m = 60 % → ceil(1.2 × 3)");
  });

  void it("keeps the count when the assumed values turn the direction around", async () => {
    const c = calc([pod("a"), pod("b"), pod("c"), pod("d")], ["a", cpu("600m")]);
    assert.equal((await c.resourceReplicas(4, 50, "cpu", "ns", SEL, "")).replicas, 4, "60 % up, but 600m / 4000m is down");
  });

  void it("ignores unready pods on a scale down and counts them at 0 % on a scale up", async () => {
    const unready = pod("u", { ready: false, startedAgo: 60_000, readySinceAgo: 60_000 });
    const down = calc([pod("a"), pod("b"), unready], ["a", cpu("100m")], ["b", cpu("100m")], ["u", cpu("1")]);
    assert.equal((await down.resourceReplicas(3, 50, "cpu", "ns", SEL, "")).replicas, 1, "ceil(0.2 × 2): the unready pod's sample is dropped");
    const up = calc([pod("a"), pod("b"), unready], ["a", cpu("900m")], ["b", cpu("900m")], ["u", cpu("1")]);
    assert.equal((await up.resourceReplicas(3, 50, "cpu", "ns", SEL, "")).replicas, 4, "1800m / 3000m = 60 % → ceil(1.2 × 3)");
  });

  void it("holds back a cpu sample taken less than a window after readiness in the initialization period; pending pods are unready", async () => {
    const fresh = pod("f", { startedAgo: 2 * 60_000, readySinceAgo: 10_000 });
    const pending = pod("p", { phase: "Pending" });
    const c = calc([pod("a"), fresh, pending], ["a", cpu("100m")], ["f", cpu("2")], ["p", cpu("2")]);
    assert.equal((await c.resourceReplicas(3, 50, "cpu", "ns", SEL, "")).replicas, 1, "only a's 10 % counts");
    // Memory has no readiness rules: the fresh pod counts.
    const m = calc([pod("a"), fresh], ["a", { app: { cpu: "1m", memory: "100Mi" } }], ["f", { app: { cpu: "1m", memory: "100Mi" } }]);
    assert.equal((await m.resourceReplicas(2, 50, "memory", "ns", SEL, "")).replicas, 4);
  });

  void it("refuses when no pod has metrics or a container has no request", async () => {
    const none = calc([pod("a")]);
    await assert.rejects(none.resourceReplicas(1, 50, "cpu", "ns", SEL, ""), { message: "unable to get metrics for resource cpu: no metrics returned from resource metrics API" });
    const noReq = pod("a");
    delete noReq.spec!.containers[0]!.resources!.requests!["cpu"];
    await assert.rejects(calc([noReq], ["a", cpu("1")]).resourceReplicas(1, 50, "cpu", "ns", SEL, ""), { message: "missing request for cpu in container app of Pod a" });
    await assert.rejects(calc([], ["a", cpu("1")]).resourceReplicas(1, 50, "cpu", "ns", SEL, ""), { message: "no pods returned by selector while calculating replica count" });
  });

  void it("sums sidecar requests and usage for a Resource metric; ContainerResource reads one container", async () => {
    const pods = [pod("a", { sidecar: { name: "log", cpu: "1" } }), pod("b", { sidecar: { name: "log", cpu: "1" } })];
    const usage = { app: { cpu: "900m" }, log: { cpu: "100m" } };
    const whole = calc(pods, ["a", usage], ["b", usage]);
    assert.equal((await whole.resourceReplicas(2, 50, "cpu", "ns", SEL, "")).replicas, 2, "1000m of 2000m = 50 %");
    const app = calc(pods, ["a", usage], ["b", usage]);
    const p = await app.resourceReplicas(2, 50, "cpu", "ns", SEL, "app");
    assert.deepEqual([p.replicas, p.utilization, p.rawUtilization], [4, 90, 900]);
    await assert.rejects(calc(pods, ["a", usage]).resourceReplicas(2, 50, "cpu", "ns", SEL, "nope"), /container nope not present in metrics for pod ns\/a/);
  });
});

void describe("ReplicaCalculator, average value", () => {
  void it("scales on the pods' average usage against the target value", async () => {
    const c = calc([pod("a"), pod("b")], ["a", cpu("1")], ["b", cpu("1")]);
    assert.deepEqual(await c.rawResourceReplicas(2, 500, "cpu", "ns", SEL, ""), { replicas: 4, usage: 1000, timestamp: T0 });
    const mem = calc([pod("a"), pod("b")], ["a", { app: { cpu: "1m", memory: "50Mi" } }], ["b", { app: { cpu: "1m", memory: "50Mi" } }]);
    const target = 100 * 1024 * 1024 * 1000;
    assert.equal((await mem.rawResourceReplicas(2, target, "memory", "ns", SEL, "")).replicas, 1);
  });

  void it("counts a missing pod at exactly the target on a scale down", async () => {
    const c = calc([pod("a"), pod("b"), pod("c")], ["a", cpu("100m")]);
    assert.equal((await c.rawResourceReplicas(3, 500, "cpu", "ns", SEL, "")).replicas, 3, "(100 + 500 + 500) / 3 = 366 → ceil(0.73 × 3) = 3");
  });
});
