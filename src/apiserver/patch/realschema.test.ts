// The patchers against the OpenAPI definitions the server really publishes (src/api/openapi),
// so a drift in the generated extensions (merge keys, list types, defaults) shows up here.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { openAPIDefinitions } from "../../api/openapi/index.js";
import { schemaFromOpenAPI, type OpenAPIDocument, type OpenAPISchemaObject, type PatchSchema } from "./schema.js";
import { applyStrategicMergePatch } from "./strategic.js";
import { apply } from "./apply.js";
import { updateManagedFields, type ManagedFieldsEntry } from "./managedfields.js";
import { path } from "./fieldpath.js";
import type { JsonObject } from "./json.js";

const doc = (): OpenAPIDocument => ({ components: { schemas: openAPIDefinitions() as unknown as Record<string, OpenAPISchemaObject> } });
const schema = (name: string): PatchSchema => schemaFromOpenAPI(doc(), name);
const entries = (o: JsonObject): ManagedFieldsEntry[] => ((o["metadata"] as JsonObject)["managedFields"] ?? []) as unknown as ManagedFieldsEntry[];

void describe("patch machinery on the served OpenAPI definitions", () => {
  void it("tracks `kubectl create deployment` exactly as upstream shows it", () => {
    const obj: JsonObject = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "nginx", namespace: "default", labels: { app: "nginx" } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: "nginx" } },
        template: {
          metadata: { labels: { app: "nginx" } },
          spec: {
            containers: [{ name: "nginx", image: "nginx", resources: {}, terminationMessagePath: "/dev/termination-log", terminationMessagePolicy: "File", imagePullPolicy: "Always" }],
            restartPolicy: "Always",
            terminationGracePeriodSeconds: 30,
            dnsPolicy: "ClusterFirst",
            securityContext: {},
            schedulerName: "default-scheduler",
          },
        },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" } },
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
      },
      status: {},
    };
    const out = updateManagedFields(undefined, obj, { manager: "kubectl-create", apiVersion: "apps/v1", schema: schema("io.k8s.api.apps.v1.Deployment"), now: "2024-05-01T10:00:00Z", resetFields: [path("status")] });
    assert.deepStrictEqual(entries(out)[0]?.fieldsV1, {
      "f:metadata": { "f:labels": { ".": {}, "f:app": {} } },
      "f:spec": {
        "f:progressDeadlineSeconds": {},
        "f:replicas": {},
        "f:revisionHistoryLimit": {},
        "f:selector": {},
        "f:strategy": { "f:rollingUpdate": { ".": {}, "f:maxSurge": {}, "f:maxUnavailable": {} }, "f:type": {} },
        "f:template": {
          "f:metadata": { "f:labels": { ".": {}, "f:app": {} } },
          "f:spec": {
            "f:containers": {
              'k:{"name":"nginx"}': {
                ".": {},
                "f:image": {},
                "f:imagePullPolicy": {},
                "f:name": {},
                "f:resources": {},
                "f:terminationMessagePath": {},
                "f:terminationMessagePolicy": {},
              },
            },
            "f:dnsPolicy": {},
            "f:restartPolicy": {},
            "f:schedulerName": {},
            "f:securityContext": {},
            "f:terminationGracePeriodSeconds": {},
          },
        },
      },
    });
  });

  void it("applies kubectl's three-way patch to a Pod (one image among two, env var removed)", () => {
    const live: JsonObject = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p" },
      spec: {
        containers: [
          { name: "a", image: "a:1", env: [{ name: "X", value: "1" }, { name: "Y", value: "2" }] },
          { name: "b", image: "b:1" },
        ],
        volumes: [{ name: "v", emptyDir: {} }],
      },
    };
    const patch = {
      spec: {
        "$setElementOrder/containers": [{ name: "a" }, { name: "b" }],
        containers: [{ name: "a", "$setElementOrder/env": [{ name: "X" }], env: [{ $patch: "delete", name: "Y" }] }, { name: "b", image: "b:2" }],
        volumes: [{ $retainKeys: ["configMap", "name"], name: "v", configMap: { name: "cm" } }],
      },
    };
    assert.deepStrictEqual(applyStrategicMergePatch(live, patch, schema("io.k8s.api.core.v1.Pod"))["spec"], {
      containers: [
        { name: "a", image: "a:1", env: [{ name: "X", value: "1" }] },
        { name: "b", image: "b:2" },
      ],
      volumes: [{ name: "v", configMap: { name: "cm" } }],
    });
  });

  void it("switches a Deployment to Recreate with $retainKeys", () => {
    const live = { spec: { strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%" } }, replicas: 1 } };
    const out = applyStrategicMergePatch(live, { spec: { strategy: { $retainKeys: ["type"], type: "Recreate", rollingUpdate: null } } }, schema("io.k8s.api.apps.v1.Deployment"));
    assert.deepStrictEqual(out, { spec: { strategy: { type: "Recreate" }, replicas: 1 } });
  });

  void it("keys Service ports by port and protocol in server-side apply", () => {
    const svc = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: "default" },
      spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] },
    };
    const r = apply(undefined, svc, { manager: "kubectl", kind: "Service", apiVersion: "v1", schema: schema("io.k8s.api.core.v1.Service"), now: "2024-05-01T10:00:00Z", resetFields: [path("status")] });
    assert.deepStrictEqual(entries(r.object)[0]?.fieldsV1, {
      "f:spec": { "f:ports": { 'k:{"port":80,"protocol":"TCP"}': { ".": {}, "f:port": {}, "f:targetPort": {} } }, "f:selector": {} },
    });
  });

  void it("merges container ports by containerPort in a strategic merge patch", () => {
    const live = { spec: { containers: [{ name: "w", ports: [{ containerPort: 80, protocol: "TCP" }] }] } };
    const out = applyStrategicMergePatch(live, { spec: { containers: [{ name: "w", ports: [{ containerPort: 443 }] }] } }, schema("io.k8s.api.core.v1.Pod"));
    assert.deepStrictEqual(out, { spec: { containers: [{ name: "w", ports: [{ containerPort: 443 }, { containerPort: 80, protocol: "TCP" }] }] } });
  });
});
