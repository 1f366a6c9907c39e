// The update path defaults a /status patch's object, which shares everything outside status
// with the watch cache's frozen copy of the stored object (rest/store.ts): defaulting an object
// that is already defaulted must write nothing, or the patch fails on the frozen part.
import { test } from "node:test";
import assert from "node:assert/strict";
import { freezeJson } from "../../util/freeze.js";
import type { KubeObject } from "../registry/types.js";
import { builtinResources } from "./index.js";

const podSpec = {
  containers: [
    {
      name: "c",
      image: "busybox",
      resources: { limits: { cpu: "1", memory: "1Gi" }, requests: { cpu: "500m" } },
      ports: [{ containerPort: 80 }],
      env: [{ name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }],
      readinessProbe: { httpGet: { path: "/", port: 80 } },
      livenessProbe: { exec: { command: ["true"] } },
    },
  ],
  initContainers: [{ name: "init", image: "busybox" }],
  volumes: [{ name: "cm", configMap: { name: "cm" } }, { name: "s", secret: { secretName: "s" } }, { name: "e", emptyDir: {} }],
  serviceAccountName: "default",
  tolerations: [{ key: "k", operator: "Exists" }],
};
const template = { metadata: { labels: { app: "a" } }, spec: podSpec };
const selector = { matchLabels: { app: "a" } };

// Bodies for the kinds whose defaults reach into nested parts; the others get an empty spec.
const bodies: Record<string, Record<string, unknown>> = {
  Pod: { spec: podSpec, status: { phase: "Running" } },
  Service: { spec: { type: "NodePort", ports: [{ port: 80, targetPort: 8080 }], selector: { app: "a" } }, status: {} },
  Deployment: { spec: { selector, template }, status: {} },
  ReplicaSet: { spec: { selector, template }, status: {} },
  StatefulSet: { spec: { selector, template, serviceName: "s" }, status: {} },
  DaemonSet: { spec: { selector, template }, status: {} },
  Job: { spec: { template: { spec: { ...podSpec, restartPolicy: "Never" } } }, status: {} },
  CronJob: { spec: { schedule: "* * * * *", jobTemplate: { spec: { template: { spec: { ...podSpec, restartPolicy: "Never" } } } } } },
  Node: { spec: {}, status: { capacity: { cpu: "2", memory: "1Gi" }, allocatable: { cpu: "2", memory: "1Gi" } } },
  PersistentVolumeClaim: { spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } }, status: {} },
};

void test("defaulting a defaulted object writes nothing, for every kind with defaults", () => {
  let checked = 0;
  for (const def of builtinResources()) {
    const defaults = def.strategy.defaults;
    if (!defaults) continue;
    const obj = structuredClone({
      apiVersion: def.group ? `${def.group}/${def.version}` : def.version,
      kind: def.kind,
      metadata: { name: "x", ...(def.namespaced ? { namespace: "default" } : {}), labels: { app: "a" } },
      ...(bodies[def.kind] ?? { spec: {} }),
    }) as KubeObject;
    defaults.call(def.strategy, obj);
    const stored = freezeJson(structuredClone(obj));
    assert.doesNotThrow(() => defaults.call(def.strategy, stored), `${def.group}/${def.kind}`);
    checked++;
  }
  assert.ok(checked > 10, `${checked} kinds with defaults`);
});
