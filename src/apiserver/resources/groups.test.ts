import { test } from "node:test";
import assert from "node:assert/strict";
import type { KubeObject, StrategyContext } from "../registry/types.js";
import { hpaV1, hpaV1Conversion, hpaV2 } from "./autoscaling.js";
import { ingressClasses, ingresses, networkPolicies } from "./networking.js";
import { strategyDriver } from "../../testing/strategy.js";

const now = new Date("2024-05-01T12:00:00Z");
const ctx: StrategyContext = { namespace: "default", now, user: { username: "admin", groups: [] } };
const created = "2024-05-01T11:00:00Z";

function mk(extra: Record<string, unknown>, md: Record<string, unknown> = {}): KubeObject {
  return { metadata: { name: "x", namespace: "default", resourceVersion: "1", creationTimestamp: created, ...md }, ...extra };
}

function cluster(extra: Record<string, unknown>, name: string): KubeObject {
  return { metadata: { name, resourceVersion: "1", creationTimestamp: created }, ...extra };
}

const { create } = strategyDriver(ctx);

void test("ingresses, ingress classes, network policies", () => {
  const ing = mk({ spec: { ingressClassName: "nginx", rules: [{ host: "a.example.com", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "web", port: { number: 80 } } } }] } }], tls: [{ hosts: ["a.example.com"] }] } });
  assert.deepEqual(create(ingresses, ing), []);
  assert.deepEqual(ing.status, { loadBalancer: {} });
  assert.deepEqual(ingresses.table?.row(ing, now), ["x", "nginx", "a.example.com", "", "80, 443", "60m"]);
  assert.deepEqual(create(ingresses, mk({ spec: { rules: [{ http: { paths: [{ path: "/", backend: { service: { name: "web", port: { number: 80 } } } }] } }] } })), [
    "spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified",
  ]);
  const ic = cluster({ spec: { controller: "k8s.io/ingress-nginx" } }, "nginx");
  assert.deepEqual(create(ingressClasses, ic), []);
  assert.deepEqual(ingressClasses.table?.row(ic, now), ["nginx", "k8s.io/ingress-nginx", "<none>", "60m"]);
  const np = mk({ spec: { podSelector: { matchLabels: { app: "db" } }, egress: [{ ports: [{ port: 5432 }] }] } });
  assert.deepEqual(create(networkPolicies, np), []);
  assert.deepEqual((np.spec as Record<string, unknown>).policyTypes, ["Ingress", "Egress"]);
  assert.deepEqual(networkPolicies.table?.row(np, now), ["x", "app=db", "60m"]);
  const bad = mk({ spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: "10.0.0.0/16", except: ["10.1.0.0/24"] } }] }] } });
  assert.deepEqual(create(networkPolicies, bad), ['spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "10.1.0.0/24": must be a strict subset of `cidr`']);
});

void test("horizontal pod autoscalers: v2 defaults, v1 conversion both ways, table", () => {
  const v2 = mk({ spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" }, maxReplicas: 5 } });
  assert.deepEqual(create(hpaV2, v2), []);
  assert.deepEqual(v2.spec, {
    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
    maxReplicas: 5,
    minReplicas: 1,
    metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } }],
  });
  assert.deepEqual(v2.status, { desiredReplicas: 0 });
  assert.deepEqual(hpaV2.table?.row(v2, now), ["x", "Deployment/web", "cpu: <unknown>/80%", "1", 5, 0, "60m"]);

  const v1 = mk({ apiVersion: "autoscaling/v1", spec: { scaleTargetRef: { kind: "Deployment", name: "web" }, maxReplicas: 3, targetCPUUtilizationPercentage: 50 } });
  assert.deepEqual(create(hpaV1, v1), []);
  const stored = hpaV1Conversion.toStorage(v1);
  assert.deepEqual((stored.spec as Record<string, unknown>).metrics, [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } } }]);
  const back = hpaV1Conversion.fromStorage(stored);
  assert.equal((back.spec as Record<string, unknown>).targetCPUUtilizationPercentage, 50);
  assert.deepEqual(back.status, { currentReplicas: 0, desiredReplicas: 0 });

  // Metrics v1 cannot express survive a round trip through the annotation.
  const mem = structuredClone(v2);
  (mem.spec as { metrics: unknown[] }).metrics.push({ type: "Resource", resource: { name: "memory", target: { type: "AverageValue", averageValue: "100Mi" } } });
  const asV1 = hpaV1Conversion.fromStorage(mem);
  assert.equal((asV1.metadata as { annotations: Record<string, string> }).annotations["autoscaling.alpha.kubernetes.io/metrics"], '[{"type":"Resource","resource":{"name":"memory","targetAverageValue":"100Mi"}}]');
  assert.deepEqual((hpaV1Conversion.toStorage(asV1).spec as Record<string, unknown>).metrics, (mem.spec as Record<string, unknown>).metrics ? [
    { type: "Resource", resource: { name: "memory", target: { type: "AverageValue", averageValue: "100Mi" } } },
    { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } },
  ] : []);
  assert.deepEqual(create(hpaV2, mk({ spec: { scaleTargetRef: { kind: "Deployment", name: "web" }, minReplicas: 3, maxReplicas: 2 } })), ["spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`"]);
});
