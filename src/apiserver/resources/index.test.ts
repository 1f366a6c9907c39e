import { test } from "node:test";
import assert from "node:assert/strict";
import type { KubeObject, StrategyContext } from "../registry/types.js";
import { appsResources } from "./apps.js";
import { hpaV1, hpaV2 } from "./autoscaling.js";
import { eventsV1 } from "./core/event.js";
import { coreResources } from "./core/index.js";
import { builtinResources } from "./index.js";
import { networkingResources } from "./networking.js";

const ctx: StrategyContext = { namespace: "default", now: new Date("2024-05-01T12:00:00Z"), user: { username: "admin", groups: [] } };

void test("every resource of the brief is declared once, with upstream's discovery facts", () => {
  const defs = builtinResources();
  const key = (g: string, v: string, p: string): string => `${g || "core"}/${v}/${p}`;
  const seen = new Set(defs.map((d) => key(d.group, d.version, d.plural)));
  assert.equal(seen.size, defs.length, "no duplicates");
  const want: [string, string, string, string[], string[]][] = [
    ["", "v1", "pods", ["po"], ["all"]],
    ["", "v1", "services", ["svc"], ["all"]],
    ["", "v1", "namespaces", ["ns"], []],
    ["", "v1", "nodes", ["no"], []],
    ["", "v1", "configmaps", ["cm"], []],
    ["", "v1", "secrets", [], []],
    ["", "v1", "endpoints", ["ep"], []],
    ["", "v1", "serviceaccounts", ["sa"], []],
    ["", "v1", "events", ["ev"], []],
    ["", "v1", "replicationcontrollers", ["rc"], ["all"]],
    ["", "v1", "persistentvolumes", ["pv"], []],
    ["", "v1", "persistentvolumeclaims", ["pvc"], []],
    ["", "v1", "resourcequotas", ["quota"], []],
    ["", "v1", "limitranges", ["limits"], []],
    ["", "v1", "podtemplates", [], []],
    ["apps", "v1", "deployments", ["deploy"], ["all"]],
    ["apps", "v1", "replicasets", ["rs"], ["all"]],
    ["apps", "v1", "daemonsets", ["ds"], ["all"]],
    ["apps", "v1", "statefulsets", ["sts"], ["all"]],
    ["apps", "v1", "controllerrevisions", [], []],
    ["batch", "v1", "jobs", [], ["all"]],
    ["batch", "v1", "cronjobs", ["cj"], ["all"]],
    ["certificates.k8s.io", "v1", "certificatesigningrequests", ["csr"], []],
    ["coordination.k8s.io", "v1", "leases", [], []],
    ["discovery.k8s.io", "v1", "endpointslices", [], []],
    ["events.k8s.io", "v1", "events", ["ev"], []],
    ["rbac.authorization.k8s.io", "v1", "roles", [], []],
    ["rbac.authorization.k8s.io", "v1", "rolebindings", [], []],
    ["rbac.authorization.k8s.io", "v1", "clusterroles", [], []],
    ["rbac.authorization.k8s.io", "v1", "clusterrolebindings", [], []],
    ["scheduling.k8s.io", "v1", "priorityclasses", ["pc"], []],
    ["policy", "v1", "poddisruptionbudgets", ["pdb"], []],
    ["autoscaling", "v1", "horizontalpodautoscalers", ["hpa"], ["all"]],
    ["autoscaling", "v2", "horizontalpodautoscalers", ["hpa"], ["all"]],
    ["networking.k8s.io", "v1", "ingresses", ["ing"], []],
    ["networking.k8s.io", "v1", "networkpolicies", ["netpol"], []],
    ["networking.k8s.io", "v1", "ingressclasses", [], []],
    ["storage.k8s.io", "v1", "storageclasses", ["sc"], []],
    ["storage.k8s.io", "v1", "csidrivers", [], []],
    ["storage.k8s.io", "v1", "csinodes", [], []],
    ["storage.k8s.io", "v1", "volumeattachments", [], []],
    ["storage.k8s.io", "v1", "csistoragecapacities", [], []],
    ["node.k8s.io", "v1", "runtimeclasses", [], []],
    ["admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", [], ["api-extensions"]],
    ["admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations", [], ["api-extensions"]],
    ["admissionregistration.k8s.io", "v1", "validatingadmissionpolicies", [], ["api-extensions"]],
    ["admissionregistration.k8s.io", "v1", "validatingadmissionpolicybindings", [], ["api-extensions"]],
    ["apiextensions.k8s.io", "v1", "customresourcedefinitions", ["crd", "crds"], ["api-extensions"]],
  ];
  for (const [g, v, p, shortNames, categories] of want) {
    const d = defs.find((x) => x.group === g && x.version === v && x.plural === p);
    assert.ok(d, `${key(g, v, p)} declared`);
    assert.deepEqual([...(d.shortNames ?? [])], shortNames, `${p} short names`);
    assert.deepEqual([...(d.categories ?? [])], categories, `${p} categories`);
  }
  assert.equal(defs.length, want.length);
  const scaled = defs.filter((d) => d.subresources?.includes("scale")).map((d) => d.plural).sort();
  assert.deepEqual(scaled, ["deployments", "replicasets", "replicationcontrollers", "statefulsets"]);
  for (const d of defs) if (d.subresources?.includes("scale")) assert.ok(d.scale, `${d.plural} scale mapping`);
});

void test("the kinds whose delete answers the object are upstream's (ReturnDeletedObject); the rest answer a Status", () => {
  const returning = builtinResources()
    .filter((d) => d.returnsDeletedObject)
    .map((d) => d.plural)
    .sort();
  assert.deepEqual(returning, ["csidrivers", "csinodes", "namespaces", "persistentvolumeclaims", "persistentvolumes", "pods", "podtemplates", "serviceaccounts", "services", "storageclasses", "volumeattachments"]);
});

void test("every table has its name column and rows as wide as its columns", () => {
  for (const d of builtinResources()) {
    assert.ok(d.table, `${d.plural} has a table`);
    const names = d.table.columns.filter((c) => c.format === "name").map((c) => c.name);
    // Upstream formats VolumeAttachment's ATTACHER as a name too (kubectl decorates the first).
    assert.deepEqual(names, d.plural === "volumeattachments" ? ["Name", "Attacher"] : ["Name"], `${d.plural}: name columns`);
    const row = d.table.row({ apiVersion: d.group ? `${d.group}/${d.version}` : d.version, kind: d.kind, metadata: { name: "n", namespace: "default", creationTimestamp: "2024-05-01T11:00:00Z" } }, ctx.now);
    assert.equal(row.length, d.table.columns.length, `${d.plural}: row width`);
  }
});

/** Deterministic pseudo-random source, so a failure reproduces. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const junk: unknown[] = [null, 0, -1, 1.5, "", "x", "None", true, [], {}, [1, "a"], { a: 1 }, "100%", "25Mi", 70000];

function mutate(v: unknown, r: () => number, depth = 0): unknown {
  if (r() < 0.15 || depth > 6) return junk[Math.floor(r() * junk.length)];
  if (Array.isArray(v)) return v.map((x) => mutate(x, r, depth + 1));
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (r() > 0.05) out[k] = mutate(x, r, depth + 1);
    return out;
  }
  return v;
}

const seeds: Record<string, unknown> = {
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: "a" } },
    template: { metadata: { labels: { app: "a" } }, spec: { containers: [{ name: "c", image: "i", ports: [{ containerPort: 80 }], resources: { limits: { cpu: "1" } } }], volumes: [{ name: "v", emptyDir: {} }] } },
    containers: [{ name: "c", image: "i", env: [{ name: "A", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }] }],
    ports: [{ port: 80, targetPort: "http", nodePort: 30000 }],
    type: "NodePort",
    rules: [{ host: "h", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "s", port: { number: 1 } } } }] } }],
    metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } } }],
    scaleTargetRef: { kind: "Deployment", name: "d" },
    jobTemplate: { spec: { template: { spec: { containers: [{ name: "c", image: "i" }] } } } },
    schedule: "*/5 * * * *",
    capacity: { storage: "1Gi" },
    accessModes: ["ReadWriteOnce"],
    hard: { pods: "3" },
    limits: [{ type: "Container", max: { cpu: "1" } }],
  },
  status: { phase: "Running", replicas: 1, conditions: [{ type: "Ready", status: "True" }], containerStatuses: [{ name: "c", state: { waiting: { reason: "X" } } }] },
  data: { k: "dg==" },
  subsets: [{ addresses: [{ ip: "10.0.0.1" }], ports: [{ port: 1 }] }],
  endpoints: [{ addresses: ["10.0.0.1"] }],
  roleRef: { kind: "Role", name: "r" },
  subjects: [{ kind: "User", name: "u" }],
  rules: [{ verbs: ["get"] }],
  involvedObject: { kind: "Pod", name: "p" },
  regarding: { kind: "Pod", name: "p" },
};

void test("strategies, tables and conversions never throw on malformed objects", () => {
  const r = rng(42);
  const defs = [...coreResources, ...appsResources, eventsV1, hpaV1, hpaV2, ...networkingResources];
  for (let i = 0; i < 6000; i++) {
    const d = defs[i % defs.length]!;
    const body = mutate(seeds, r) as Record<string, unknown>;
    const obj: KubeObject = { ...body, metadata: { name: "n", namespace: d.namespaced ? "default" : undefined, resourceVersion: "1", creationTimestamp: "2024-05-01T11:00:00Z" } };
    const old: KubeObject = { ...(mutate(seeds, r) as Record<string, unknown>), metadata: { name: "n", namespace: d.namespaced ? "default" : undefined, resourceVersion: "1" } };
    try {
      d.strategy.defaults?.(obj);
      d.strategy.prepareForCreate?.(obj, ctx);
      d.strategy.validate?.(obj, ctx);
      d.strategy.prepareForUpdate?.(obj, old, ctx);
      d.strategy.validateUpdate?.(obj, old, ctx);
      d.strategy.validateStatusUpdate?.(obj, old, ctx);
      d.strategy.gracePeriodSeconds?.(obj, 5);
      d.table?.row(obj, ctx.now);
      d.selectableFields?.(obj);
      d.scale?.selector(obj);
      if (d.storage) d.storage.conversion.fromStorage(d.storage.conversion.toStorage(obj));
    } catch (e) {
      assert.fail(`${d.group}/${d.version}/${d.plural} threw on ${JSON.stringify(obj)}: ${String((e as Error).stack)}`);
    }
  }
});
