import { test } from "node:test";
import assert from "node:assert/strict";
import type { KubeObject, StrategyContext } from "../registry/types.js";
import { controllerRevisions, daemonSets, deployments, replicaSets, statefulSets } from "./apps.js";
import { strategyDriver } from "../../testing/strategy.js";

const ctx: StrategyContext = { namespace: "default", now: new Date("2024-05-01T12:00:00Z"), user: { username: "admin", groups: [] } };
const now = new Date("2024-05-01T12:00:00Z");

function obj(kind: string, spec: Record<string, unknown>, extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: "apps/v1", kind, metadata: { name: "web", namespace: "default", resourceVersion: "1", creationTimestamp: "2024-05-01T11:00:00Z" }, spec, ...extra };
}

const template = { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "nginx", image: "nginx:1.25" }] } };

const { create } = strategyDriver(ctx);

void test("deployment defaults as upstream stores them", () => {
  const d = obj("Deployment", { selector: { matchLabels: { app: "web" } }, template: structuredClone(template) });
  assert.deepEqual(create(deployments, d), []);
  const spec = d.spec as Record<string, unknown>;
  assert.equal(spec.replicas, 1);
  assert.deepEqual(spec.strategy, { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" } });
  assert.equal(spec.revisionHistoryLimit, 10);
  assert.equal(spec.progressDeadlineSeconds, 600);
  const tmpl = spec.template as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
  assert.equal(tmpl.metadata.creationTimestamp, null);
  assert.equal(tmpl.spec.restartPolicy, "Always");
  assert.equal(tmpl.spec.enableServiceLinks, undefined, "enableServiceLinks is a Pod-only default");
  assert.deepEqual(d.status, {});
});

void test("deployment validation messages", () => {
  const mismatch = obj("Deployment", { selector: { matchLabels: { app: "other" } }, template: structuredClone(template) });
  assert.deepEqual(create(deployments, mismatch), ['spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`']);

  const zero = obj("Deployment", { replicas: -1, selector: { matchLabels: { app: "web" } }, template: structuredClone(template), strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } });
  assert.deepEqual(create(deployments, zero), [
    "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
    'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: may not be 0 when `maxSurge` is 0',
  ]);

  const noSelector = obj("Deployment", { template: structuredClone(template) });
  // A missing selector selects nothing, so upstream reports the template mismatch as well.
  assert.deepEqual(create(deployments, noSelector), [
    "spec.selector: Required value",
    'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
  ]);

  const empty = obj("Deployment", { selector: {}, template: structuredClone(template) });
  assert.deepEqual(create(deployments, empty), ["spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment"]);
});

void test("apps/v1 selectors are immutable", () => {
  const old = obj("Deployment", { selector: { matchLabels: { app: "web" } }, template: structuredClone(template) });
  create(deployments, old);
  const next = structuredClone(old);
  (next.spec as Record<string, unknown>).selector = { matchLabels: { app: "web2" } };
  ((next.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels).app = "web2";
  assert.deepEqual((deployments.strategy.validateUpdate?.(next, old, ctx) ?? []).map(String), [
    'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
  ]);
});

void test("deployment and replica set tables", () => {
  const d = obj("Deployment", { replicas: 3, selector: { matchLabels: { app: "web" } }, template: structuredClone(template) }, { status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 } });
  assert.deepEqual(deployments.table?.row(d, now), ["web", "2/3", 3, 2, "60m", "nginx", "nginx:1.25", "app=web"]);
  assert.deepEqual(
    deployments.table?.columns.map((c) => c.name),
    ["Name", "Ready", "Up-to-date", "Available", "Age", "Containers", "Images", "Selector"],
  );
  const rs = obj("ReplicaSet", { replicas: 3, selector: { matchLabels: { app: "web" } }, template: structuredClone(template) }, { status: { replicas: 3, readyReplicas: 1 } });
  assert.deepEqual(replicaSets.table?.row(rs, now), ["web", 3, 3, 1, "60m", "nginx", "nginx:1.25", "app=web"]);
  assert.deepEqual(replicaSets.selectableFields?.(rs), { "status.replicas": "3" });
  assert.equal(deployments.scale?.selector(d), "app=web");
});

void test("statefulset defaults, update rules and table", () => {
  const s = obj("StatefulSet", {
    selector: { matchLabels: { app: "web" } },
    serviceName: "web",
    template: structuredClone(template),
    volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1024Mi" } } } }],
  });
  assert.deepEqual(create(statefulSets, s), []);
  const spec = s.spec as Record<string, unknown>;
  assert.equal(spec.podManagementPolicy, "OrderedReady");
  assert.deepEqual(spec.updateStrategy, { type: "RollingUpdate", rollingUpdate: { partition: 0 } });
  assert.deepEqual(spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: "Retain", whenScaled: "Retain" });
  assert.deepEqual((spec.volumeClaimTemplates as unknown[])[0], {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: "data", creationTimestamp: null },
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, volumeMode: "Filesystem" },
    status: { phase: "Pending" },
  });
  const next = structuredClone(s);
  (next.spec as Record<string, unknown>).serviceName = "other";
  assert.deepEqual((statefulSets.strategy.validateUpdate?.(next, s, ctx) ?? []).map(String), [
    "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
  ]);
  s.status = { readyReplicas: 1 };
  assert.deepEqual(statefulSets.table?.row(s, now), ["web", "1/1", "60m", "nginx", "nginx:1.25"]);
});

void test("daemonset defaults and surge/unavailable rule", () => {
  const ds = obj("DaemonSet", { selector: { matchLabels: { app: "web" } }, template: structuredClone(template) });
  assert.deepEqual(create(daemonSets, ds), []);
  assert.deepEqual((ds.spec as Record<string, unknown>).updateStrategy, { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
  const both = obj("DaemonSet", { selector: { matchLabels: { app: "web" } }, template: structuredClone(template), updateStrategy: { rollingUpdate: { maxUnavailable: 1, maxSurge: 1 } } });
  assert.deepEqual(create(daemonSets, both), ['spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:0, IntVal:1, StrVal:""}: may not be set when maxUnavailable is non-zero']);
  ds.status = { desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 1, updatedNumberScheduled: 2, numberAvailable: 1 };
  assert.deepEqual(daemonSets.table?.row(ds, now), ["web", 2, 2, 1, 2, 1, "<none>", "60m", "nginx", "nginx:1.25", "app=web"]);
});

void test("controller revision table names its controller", () => {
  const cr: KubeObject = {
    metadata: { name: "web-5d4f", creationTimestamp: "2024-05-01T11:59:00Z", ownerReferences: [{ apiVersion: "apps/v1", kind: "StatefulSet", name: "web", uid: "u", controller: true }] },
    revision: 2,
    data: {},
  };
  assert.deepEqual(controllerRevisions.table?.row(cr, now), ["web-5d4f", "statefulset.apps/web", 2, "60s"]);
});

void test("a statefulset's containers may mount its claim templates: its pod spec is checked per pod, as upstream", () => {
  const mounting = { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "nginx", image: "nginx:1.25", volumeMounts: [{ name: "www", mountPath: "/usr/share/nginx/html" }] }] } };
  const s = obj("StatefulSet", {
    selector: { matchLabels: { app: "web" } },
    serviceName: "web",
    template: mounting,
    volumeClaimTemplates: [{ metadata: { name: "www" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } }],
  });
  assert.deepEqual(create(statefulSets, s), []);
  // A Deployment's template is a whole pod spec: the same mount names a volume that is not there.
  const d = obj("Deployment", { selector: { matchLabels: { app: "web" } }, template: structuredClone(mounting) });
  assert.deepEqual(create(deployments, d), ['spec.template.spec.containers[0].volumeMounts[0].name: Not found: "www"']);
  // The template's labels and annotations, and the selector match, are still checked.
  const bad = obj("StatefulSet", { selector: { matchLabels: { app: "web" } }, serviceName: "web", template: { metadata: { labels: { app: "other" } }, spec: { containers: [] } } });
  assert.deepEqual(create(statefulSets, bad), ['spec.template.metadata.labels: Invalid value: map[string]string{"app":"other"}: `selector` does not match template `labels`']);
});
