import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import {
  OpenAPIError,
  buildGroupVersionDocument,
  buildOpenAPIv3Root,
  groupVersionPath,
  openAPIDefinition,
  openAPIDefinitions,
  openAPIDefinitionsSource,
  openAPIv2Protobuf,
  openAPIv3ResponseHeaders,
  serializeOpenAPIDocument,
  type OpenAPIDocument,
  type OpenAPIResource,
  type SchemaObject,
} from "./index.js";
import { PatchMetaError, fieldPatchMeta, parsePatchMetaNotation, patchMetaEntries } from "./patchmeta.js";

const allVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
const refPrefix = "#/components/schemas/";

function resource(kind: string, plural: string, namespaced: boolean, pkg: string, subresources: string[] = []): OpenAPIResource {
  return {
    kind,
    plural,
    namespaced,
    definition: `${pkg}.${kind}`,
    listDefinition: `${pkg}.${kind}List`,
    verbs: allVerbs,
    subresources: subresources.map((name) => ({ name })),
  };
}

function def(name: string): SchemaObject {
  const d = openAPIDefinition(name);
  assert.ok(d !== undefined, `definition ${name} exists`);
  return d as SchemaObject;
}

function prop(defName: string, field: string): SchemaObject {
  const props = def(defName)["properties"] as Record<string, SchemaObject> | undefined;
  const p = props?.[field];
  assert.ok(p !== undefined, `${defName} has property ${field}`);
  return p;
}

function refsIn(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const x of node) refsIn(x, out);
  else if (node !== null && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (k === "$ref" && typeof v === "string") out.push(v);
      else refsIn(v, out);
    }
  }
  return out;
}

/** Every kind issue #3 serves, plus the ones its subresources and reviews use: [apiVersion, kind, definition prefix]. */
const servedKinds: ReadonlyArray<readonly [string, string, string]> = [
  ...["Namespace", "Pod", "Service", "Endpoints", "Node", "ConfigMap", "Secret", "ServiceAccount", "Event", "ReplicationController",
    "PersistentVolume", "PersistentVolumeClaim", "ResourceQuota", "LimitRange", "PodTemplate"].map((k) => ["v1", k, "io.k8s.api.core.v1"] as const),
  ...["Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "ControllerRevision"].map((k) => ["apps/v1", k, "io.k8s.api.apps.v1"] as const),
  ["batch/v1", "Job", "io.k8s.api.batch.v1"],
  ["batch/v1", "CronJob", "io.k8s.api.batch.v1"],
  ["coordination.k8s.io/v1", "Lease", "io.k8s.api.coordination.v1"],
  ["discovery.k8s.io/v1", "EndpointSlice", "io.k8s.api.discovery.v1"],
  ["events.k8s.io/v1", "Event", "io.k8s.api.events.v1"],
  ...["Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"].map((k) => ["rbac.authorization.k8s.io/v1", k, "io.k8s.api.rbac.v1"] as const),
  ["scheduling.k8s.io/v1", "PriorityClass", "io.k8s.api.scheduling.v1"],
  ["policy/v1", "PodDisruptionBudget", "io.k8s.api.policy.v1"],
  ["autoscaling/v1", "HorizontalPodAutoscaler", "io.k8s.api.autoscaling.v1"],
  ["autoscaling/v2", "HorizontalPodAutoscaler", "io.k8s.api.autoscaling.v2"],
  ...["Ingress", "NetworkPolicy", "IngressClass"].map((k) => ["networking.k8s.io/v1", k, "io.k8s.api.networking.v1"] as const),
  ["storage.k8s.io/v1", "StorageClass", "io.k8s.api.storage.v1"],
];

const singleKinds: ReadonlyArray<readonly [string, string, string]> = [
  ["v1", "Binding", "io.k8s.api.core.v1"],
  ["policy/v1", "Eviction", "io.k8s.api.policy.v1"],
  ["autoscaling/v1", "Scale", "io.k8s.api.autoscaling.v1"],
  ["authorization.k8s.io/v1", "SelfSubjectAccessReview", "io.k8s.api.authorization.v1"],
  ["authorization.k8s.io/v1", "SelfSubjectRulesReview", "io.k8s.api.authorization.v1"],
  ["authentication.k8s.io/v1", "SelfSubjectReview", "io.k8s.api.authentication.v1"],
  ["authentication.k8s.io/v1", "TokenRequest", "io.k8s.api.authentication.v1"],
  ["v1", "Status", "io.k8s.apimachinery.pkg.apis.meta.v1"],
  ["v1", "APIResourceList", "io.k8s.apimachinery.pkg.apis.meta.v1"],
  ["v1", "APIGroupList", "io.k8s.apimachinery.pkg.apis.meta.v1"],
  ["v1", "APIVersions", "io.k8s.apimachinery.pkg.apis.meta.v1"],
  ["v1", "DeleteOptions", "io.k8s.apimachinery.pkg.apis.meta.v1"],
  ["v1", "WatchEvent", "io.k8s.apimachinery.pkg.apis.meta.v1"],
];

function gvk(apiVersion: string, kind: string): { group: string; kind: string; version: string } {
  const i = apiVersion.indexOf("/");
  return i < 0 ? { group: "", kind, version: apiVersion } : { group: apiVersion.slice(0, i), kind, version: apiVersion.slice(i + 1) };
}

void describe("generated definitions", () => {
  void it("come from kubernetes-types", () => {
    assert.match(openAPIDefinitionsSource(), /^kubernetes-types@1\.\d+\.\d+$/);
    assert.ok(Object.keys(openAPIDefinitions()).length > 500);
  });

  void it("define every served kind and its list with description, type and group-version-kind", () => {
    for (const [apiVersion, kind, pkg] of [...servedKinds, ...servedKinds.map(([v, k, p]) => [v, `${k}List`, p] as const), ...singleKinds]) {
      const d = def(`${pkg}.${kind}`);
      assert.equal(d["type"], "object", kind);
      assert.ok(typeof d["description"] === "string" && d["description"].length > 10, `${pkg}.${kind} has a description`);
      const gvks = d["x-kubernetes-group-version-kind"];
      assert.ok(Array.isArray(gvks), `${pkg}.${kind} has x-kubernetes-group-version-kind`);
      assert.deepEqual(gvks[0], gvk(apiVersion, kind));
      if (kind !== "WatchEvent") {
        for (const field of ["apiVersion", "kind"]) assert.equal(prop(`${pkg}.${kind}`, field)["type"], "string");
      }
    }
  });

  void it("carry field descriptions from the doc comments, paragraphs and all", () => {
    assert.match(prop("io.k8s.api.core.v1.PodSpec", "containers")["description"] as string, /^List of containers belonging to the pod\./);
    assert.match(prop("io.k8s.api.apps.v1.DeploymentSpec", "paused")["description"] as string, /paused/);
    // Multi-line comments keep their paragraph breaks and tabs as upstream publishes them.
    assert.match(def("io.k8s.apimachinery.pkg.api.resource.Quantity")["description"] as string, /\n\n\t\(Note that <suffix> may be empty/);
    let described = 0;
    let total = 0;
    for (const [name, d] of Object.entries(openAPIDefinitions())) {
      if (!name.startsWith("io.k8s.api.")) continue;
      for (const p of Object.values((d["properties"] ?? {}) as Record<string, SchemaObject>)) {
        total++;
        if (typeof p["description"] === "string" && p["description"] !== "") described++;
      }
    }
    assert.ok(described / total > 0.99, `${described} of ${total} fields described`);
  });

  void it("resolve every $ref", () => {
    const defs = openAPIDefinitions();
    const refs = refsIn(defs);
    assert.ok(refs.length > 800);
    for (const r of refs) {
      assert.ok(r.startsWith(refPrefix), r);
      assert.ok(Object.prototype.hasOwnProperty.call(defs, r.slice(refPrefix.length)), `${r} resolves`);
    }
  });

  void it("publish upstream's v3 shapes for the types with custom JSON", () => {
    assert.deepEqual(
      { ...def("io.k8s.apimachinery.pkg.util.intstr.IntOrString"), description: undefined },
      { description: undefined, format: "int-or-string", oneOf: [{ type: "integer" }, { type: "string" }] },
    );
    assert.deepEqual(def("io.k8s.apimachinery.pkg.api.resource.Quantity")["oneOf"], [{ type: "string" }, { type: "number" }]);
    for (const t of ["Time", "MicroTime"]) {
      const d = def(`io.k8s.apimachinery.pkg.apis.meta.v1.${t}`);
      assert.equal(d["type"], "string");
      assert.equal(d["format"], "date-time");
    }
    assert.equal(def("io.k8s.apimachinery.pkg.runtime.RawExtension")["type"], "object");
  });

  void it("wrap references and give Go zero values as defaults, as kube-apiserver does", () => {
    const target = prop("io.k8s.api.core.v1.ServicePort", "targetPort");
    assert.deepEqual(target["allOf"], [{ $ref: `${refPrefix}io.k8s.apimachinery.pkg.util.intstr.IntOrString` }]);
    assert.equal(target["default"], undefined);
    assert.deepEqual(prop("io.k8s.api.apps.v1.Deployment", "metadata")["allOf"], [{ $ref: `${refPrefix}io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta` }]);
    assert.deepEqual(prop("io.k8s.api.apps.v1.Deployment", "metadata")["default"], {});
    assert.deepEqual(prop("io.k8s.api.apps.v1.DeploymentSpec", "template")["default"], {});
    // A required pointer field (upstream `*metav1.LabelSelector`) has no default.
    assert.equal(prop("io.k8s.api.apps.v1.DeploymentSpec", "selector")["default"], undefined);
    assert.deepEqual(prop("io.k8s.api.core.v1.PodSpec", "containers")["items"], {
      allOf: [{ $ref: `${refPrefix}io.k8s.api.core.v1.Container` }],
      default: {},
    });
    assert.deepEqual(prop("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "labels")["additionalProperties"], { default: "", type: "string" });
    assert.deepEqual(prop("io.k8s.api.core.v1.ResourceRequirements", "limits")["additionalProperties"], {
      $ref: `${refPrefix}io.k8s.apimachinery.pkg.api.resource.Quantity`,
    });
    assert.equal(prop("io.k8s.api.core.v1.Container", "name")["default"], "");
    assert.equal(prop("io.k8s.api.core.v1.ServicePort", "protocol")["default"], "TCP");
    assert.equal(prop("io.k8s.api.core.v1.Container", "image")["default"], undefined);
  });

  void it("type integers as int32 or int64 like the Go fields", () => {
    const int = (d: string, f: string): unknown => [prop(d, f)["type"], prop(d, f)["format"]];
    assert.deepEqual(int("io.k8s.api.apps.v1.DeploymentSpec", "replicas"), ["integer", "int32"]);
    assert.deepEqual(int("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "generation"), ["integer", "int64"]);
    assert.deepEqual(int("io.k8s.api.apps.v1.DeploymentStatus", "observedGeneration"), ["integer", "int64"]);
    assert.deepEqual(int("io.k8s.api.core.v1.PodSpec", "terminationGracePeriodSeconds"), ["integer", "int64"]);
    assert.deepEqual(int("io.k8s.api.core.v1.ContainerPort", "containerPort"), ["integer", "int32"]);
    assert.deepEqual(int("io.k8s.api.certificates.v1.CertificateSigningRequestSpec", "expirationSeconds"), ["integer", "int32"]);
    assert.deepEqual(int("io.k8s.api.core.v1.ServiceAccountTokenProjection", "expirationSeconds"), ["integer", "int64"]);
    assert.deepEqual(prop("io.k8s.api.core.v1.PodSecurityContext", "supplementalGroups")["items"], { default: 0, format: "int64", type: "integer" });
    assert.deepEqual(prop("io.k8s.api.core.v1.Secret", "data")["additionalProperties"], { format: "byte", type: "string" });
    for (const d of Object.values(openAPIDefinitions())) {
      for (const p of Object.values((d["properties"] ?? {}) as Record<string, SchemaObject>)) {
        if (p["type"] === "integer") assert.ok(p["format"] === "int32" || p["format"] === "int64");
      }
    }
  });

  void it("restore the fields kubernetes-types leaves out", () => {
    assert.equal(prop("io.k8s.api.authorization.v1.ResourceRule", "verbs")["type"], "array");
    assert.deepEqual(def("io.k8s.api.authorization.v1.ResourceRule")["required"], ["verbs"]);
    assert.equal(prop("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps", "x-kubernetes-preserve-unknown-fields")["type"], "boolean");
    assert.equal(prop("io.k8s.api.admissionregistration.v1.RuleWithOperations", "scope")["type"], "string");
  });

  void it("carry the patch and list extensions of the patch table", () => {
    const ext = (d: string, f: string): Record<string, unknown> =>
      Object.fromEntries(Object.entries(prop(d, f)).filter(([k]) => k.startsWith("x-kubernetes-")));
    assert.deepEqual(ext("io.k8s.api.core.v1.PodSpec", "containers"), {
      "x-kubernetes-list-map-keys": ["name"],
      "x-kubernetes-list-type": "map",
      "x-kubernetes-patch-merge-key": "name",
      "x-kubernetes-patch-strategy": "merge",
    });
    assert.deepEqual(ext("io.k8s.api.core.v1.Container", "ports"), {
      "x-kubernetes-list-map-keys": ["containerPort", "protocol"],
      "x-kubernetes-list-type": "map",
      "x-kubernetes-patch-merge-key": "containerPort",
      "x-kubernetes-patch-strategy": "merge",
    });
    assert.equal(ext("io.k8s.api.core.v1.PodSpec", "volumes")["x-kubernetes-patch-strategy"], "merge,retainKeys");
    assert.equal(ext("io.k8s.api.core.v1.Container", "env")["x-kubernetes-patch-merge-key"], "name");
    assert.equal(ext("io.k8s.api.core.v1.Container", "volumeMounts")["x-kubernetes-patch-merge-key"], "mountPath");
    assert.equal(ext("io.k8s.api.core.v1.PodSpec", "imagePullSecrets")["x-kubernetes-patch-merge-key"], "name");
    assert.equal(ext("io.k8s.api.core.v1.ServiceSpec", "ports")["x-kubernetes-patch-merge-key"], "port");
    assert.deepEqual(ext("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "finalizers"), { "x-kubernetes-list-type": "set", "x-kubernetes-patch-strategy": "merge" });
    assert.equal(ext("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "ownerReferences")["x-kubernetes-patch-merge-key"], "uid");
    assert.deepEqual(ext("io.k8s.api.apps.v1.DeploymentSpec", "strategy"), { "x-kubernetes-patch-strategy": "retainKeys" });
    for (const d of ["io.k8s.api.apps.v1.DeploymentStatus", "io.k8s.api.core.v1.PodStatus", "io.k8s.api.core.v1.NodeStatus", "io.k8s.api.policy.v1.PodDisruptionBudgetStatus", "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus"]) {
      assert.equal(ext(d, "conditions")["x-kubernetes-patch-merge-key"], "type", d);
    }
    assert.equal(ext("io.k8s.api.discovery.v1.EndpointSlice", "endpoints")["x-kubernetes-list-type"], "atomic");
    assert.equal(ext("io.k8s.api.rbac.v1.PolicyRule", "verbs")["x-kubernetes-list-type"], "atomic");
    assert.equal(def("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector")["x-kubernetes-map-type"], "atomic");
    assert.equal(def("io.k8s.api.rbac.v1.RoleRef")["x-kubernetes-map-type"], "atomic");
    // The generated file holds exactly what the table says, for every entry.
    for (const [defName, fields] of patchMetaEntries()) {
      for (const [field, meta] of fields) {
        const node = field === "." ? def(defName) : prop(defName, field);
        assert.equal(node["x-kubernetes-patch-strategy"], meta.patchStrategy, `${defName}.${field}`);
        assert.equal(node["x-kubernetes-patch-merge-key"], meta.patchMergeKey, `${defName}.${field}`);
        assert.equal(node["x-kubernetes-list-type"], meta.listType, `${defName}.${field}`);
        assert.deepEqual(node["x-kubernetes-list-map-keys"], meta.listMapKeys, `${defName}.${field}`);
        assert.equal(node["x-kubernetes-map-type"], meta.mapType, `${defName}.${field}`);
      }
    }
  });

  void it("match a fresh generation from kubernetes-types and the patch table", async () => {
    // The build writes the file; a stale one (patch table changed, generator not rerun) fails here.
    const script = new URL("../../../../scripts/gen-openapi.mjs", import.meta.url);
    const mod = (await import(script.href)) as { generate(): Promise<unknown> };
    const fresh = JSON.stringify(await mod.generate());
    const onDisk = readFileSync(new URL("../../../generated/openapi-definitions.json", import.meta.url), "utf8");
    assert.ok(fresh === onDisk, "dist/generated/openapi-definitions.json is current (run npm run build)");
  });
});

void describe("patch table", () => {
  void it("answers per field", () => {
    assert.deepEqual(fieldPatchMeta("io.k8s.api.core.v1.PodSpec", "volumes"), {
      patchStrategy: "merge,retainKeys",
      patchMergeKey: "name",
      listType: "map",
      listMapKeys: ["name"],
    });
    assert.equal(fieldPatchMeta("io.k8s.api.core.v1.PodSpec", "hostname"), undefined);
    assert.equal(fieldPatchMeta("io.k8s.api.core.v1.NoSuchThing", "x"), undefined);
  });

  void it("rejects notation it cannot read", () => {
    for (const bad of ["patch:mrege(name)", "list:map", "list:set(name)", "map:nested", "merge(name)", "patch:merge(name) list:"]) {
      assert.throws(() => parsePatchMetaNotation("T.f", bad), (e: unknown) => e instanceof PatchMetaError && e.code === "BadNotation", bad);
    }
  });
});

const coreResources: OpenAPIResource[] = [
  resource("Pod", "pods", true, "io.k8s.api.core.v1", ["status", "binding", "eviction", "log", "exec", "attach", "portforward", "proxy", "ephemeralcontainers"]),
  resource("Namespace", "namespaces", false, "io.k8s.api.core.v1", ["status", "finalize"]),
  resource("Service", "services", true, "io.k8s.api.core.v1", ["status", "proxy"]),
  resource("ServiceAccount", "serviceaccounts", true, "io.k8s.api.core.v1", ["token"]),
  resource("ReplicationController", "replicationcontrollers", true, "io.k8s.api.core.v1", ["status", "scale"]),
  { ...resource("Event", "events", true, "io.k8s.api.core.v1") },
];
const appsResources: OpenAPIResource[] = [
  resource("Deployment", "deployments", true, "io.k8s.api.apps.v1", ["status", "scale"]),
  resource("ReplicaSet", "replicasets", true, "io.k8s.api.apps.v1", ["status", "scale"]),
  resource("ControllerRevision", "controllerrevisions", true, "io.k8s.api.apps.v1"),
];

type Operation = SchemaObject & { parameters?: SchemaObject[]; requestBody?: { content: Record<string, unknown> } };

function operations(doc: OpenAPIDocument): Array<[string, string, Operation]> {
  const out: Array<[string, string, Operation]> = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) if (method !== "parameters") out.push([path, method, op as Operation]);
  }
  return out;
}

/** What cli-runtime's query_param_verifier_v3 decides: the first PATCH with the kind must take the parameter. */
function verifierFinds(doc: OpenAPIDocument, kind: { group: string; version: string; kind: string }, param: string): boolean {
  const patches = operations(doc).filter(([, m, op]) => m === "patch" && JSON.stringify(op["x-kubernetes-group-version-kind"]) === JSON.stringify({ group: kind.group, kind: kind.kind, version: kind.version }));
  assert.ok(patches.length > 0, `a PATCH operation for ${kind.kind}`);
  // Paths are a Go map there: any of them may come first, so all must agree.
  return patches.every(([, , op]) => (op.parameters ?? []).some((p) => p["name"] === param && p["in"] === "query"));
}

void describe("group-version documents", () => {
  const apps = buildGroupVersionDocument({ group: "apps", version: "v1" }, appsResources);
  const core = buildGroupVersionDocument({ group: "", version: "v1" }, coreResources);

  void it("are OpenAPI 3.0 documents whose every $ref resolves inside them", () => {
    for (const doc of [apps, core]) {
      assert.equal(doc.openapi, "3.0.0");
      assert.deepEqual(doc.info, { title: "Kubernetes", version: "unversioned" });
      for (const r of refsIn(doc)) {
        assert.ok(Object.prototype.hasOwnProperty.call(doc.components.schemas, r.slice(refPrefix.length)), `${r} is in components.schemas`);
      }
    }
    for (const name of ["io.k8s.api.apps.v1.Deployment", "io.k8s.api.apps.v1.DeploymentList", "io.k8s.api.autoscaling.v1.Scale", "io.k8s.api.core.v1.PodSpec",
      "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "io.k8s.apimachinery.pkg.apis.meta.v1.Status", "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
      "io.k8s.apimachinery.pkg.apis.meta.v1.Patch", "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent", "io.k8s.apimachinery.pkg.util.intstr.IntOrString"]) {
      assert.ok(name in apps.components.schemas, name);
    }
    // Only what the served kinds reach: nothing from unrelated groups.
    assert.ok(!Object.keys(apps.components.schemas).some((n) => n.startsWith("io.k8s.api.rbac.")));
  });

  void it("let kubectl's field-validation check find fieldValidation on every PATCH of each kind", () => {
    for (const r of appsResources) assert.ok(verifierFinds(apps, { group: "apps", version: "v1", kind: r.kind }, "fieldValidation"), r.kind);
    for (const r of coreResources) assert.ok(verifierFinds(core, { group: "", version: "v1", kind: r.kind }, "fieldValidation"), r.kind);
    assert.ok(verifierFinds(apps, { group: "autoscaling", version: "v1", kind: "Scale" }, "fieldValidation"));
  });

  void it("describe the Deployment PATCH as kube-apiserver does", () => {
    const op = apps.paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]?.["patch"] as Operation;
    assert.equal(op["operationId"], "patchAppsV1NamespacedDeployment");
    assert.equal(op["x-kubernetes-action"], "patch");
    assert.deepEqual(op["x-kubernetes-group-version-kind"], { group: "apps", kind: "Deployment", version: "v1" });
    assert.deepEqual((op.parameters ?? []).map((p) => p["name"]), ["dryRun", "fieldManager", "fieldValidation", "force"]);
    assert.deepEqual(Object.keys(op.requestBody?.content ?? {}), ["application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json"]);
    const status = apps.paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status"]?.["patch"] as Operation;
    assert.equal(status["operationId"], "patchAppsV1NamespacedDeploymentStatus");
    assert.deepEqual(status["x-kubernetes-group-version-kind"], { group: "apps", kind: "Deployment", version: "v1" });
    const scale = apps.paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]?.["put"] as Operation;
    assert.equal(scale["operationId"], "replaceAppsV1NamespacedDeploymentScale");
    assert.deepEqual(scale["x-kubernetes-group-version-kind"], { group: "autoscaling", kind: "Scale", version: "v1" });
  });

  void it("lay out the paths and operation ids of upstream", () => {
    const ids = new Map(operations(core).map(([path, method, op]) => [op["operationId"] as string, `${method} ${path}`]));
    const expected: Record<string, string> = {
      getCoreV1APIResources: "get /api/v1/",
      listCoreV1NamespacedPod: "get /api/v1/namespaces/{namespace}/pods",
      createCoreV1NamespacedPod: "post /api/v1/namespaces/{namespace}/pods",
      deleteCoreV1CollectionNamespacedPod: "delete /api/v1/namespaces/{namespace}/pods",
      listCoreV1PodForAllNamespaces: "get /api/v1/pods",
      readCoreV1NamespacedPod: "get /api/v1/namespaces/{namespace}/pods/{name}",
      replaceCoreV1NamespacedPod: "put /api/v1/namespaces/{namespace}/pods/{name}",
      deleteCoreV1NamespacedPod: "delete /api/v1/namespaces/{namespace}/pods/{name}",
      watchCoreV1NamespacedPodList: "get /api/v1/watch/namespaces/{namespace}/pods",
      watchCoreV1NamespacedPod: "get /api/v1/watch/namespaces/{namespace}/pods/{name}",
      watchCoreV1PodListForAllNamespaces: "get /api/v1/watch/pods",
      patchCoreV1NamespacedPodStatus: "patch /api/v1/namespaces/{namespace}/pods/{name}/status",
      createCoreV1NamespacedPodBinding: "post /api/v1/namespaces/{namespace}/pods/{name}/binding",
      createCoreV1NamespacedPodEviction: "post /api/v1/namespaces/{namespace}/pods/{name}/eviction",
      readCoreV1NamespacedPodLog: "get /api/v1/namespaces/{namespace}/pods/{name}/log",
      connectCoreV1GetNamespacedPodExec: "get /api/v1/namespaces/{namespace}/pods/{name}/exec",
      connectCoreV1PostNamespacedPodPortforward: "post /api/v1/namespaces/{namespace}/pods/{name}/portforward",
      connectCoreV1GetNamespacedServiceProxyWithPath: "get /api/v1/namespaces/{namespace}/services/{name}/proxy/{path}",
      patchCoreV1NamespacedPodEphemeralcontainers: "patch /api/v1/namespaces/{namespace}/pods/{name}/ephemeralcontainers",
      createCoreV1NamespacedServiceAccountToken: "post /api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
      listCoreV1Namespace: "get /api/v1/namespaces",
      readCoreV1Namespace: "get /api/v1/namespaces/{name}",
      patchCoreV1NamespaceStatus: "patch /api/v1/namespaces/{name}/status",
      replaceCoreV1NamespaceFinalize: "put /api/v1/namespaces/{name}/finalize",
      watchCoreV1NamespaceList: "get /api/v1/watch/namespaces",
      readCoreV1NamespacedReplicationControllerScale: "get /api/v1/namespaces/{namespace}/replicationcontrollers/{name}/scale",
    };
    for (const [id, where] of Object.entries(expected)) assert.equal(ids.get(id), where, id);
    // Parameters every operation of a path takes sit on the path, as upstream publishes them.
    const names = (ps: unknown): string[] => ((ps ?? []) as SchemaObject[]).map((p) => `${String(p["in"])}:${String(p["name"])}`);
    assert.ok(names(core.paths["/api/v1/pods"]?.["parameters"]).includes("query:limit"));
    assert.deepEqual(names((core.paths["/api/v1/pods"]?.["get"] as Operation).parameters), []);
    assert.deepEqual(names(core.paths["/api/v1/namespaces/{namespace}/pods/{name}/binding"]?.["parameters"]), [
      "query:dryRun", "query:fieldManager", "query:fieldValidation", "path:name", "path:namespace", "query:pretty",
    ]);
    assert.deepEqual(names(core.paths["/api/v1/namespaces/{namespace}/pods/{name}"]?.["parameters"]), ["path:name", "path:namespace", "query:pretty"]);
    const all = operations(core).map(([, , op]) => op["operationId"]);
    assert.equal(new Set(all).size, all.length, "operation ids are unique");
    // Cluster-scoped kinds have no all-namespaces list.
    assert.ok(!("/api/v1/namespaces/{namespace}/namespaces" in core.paths));
    const rbac = buildGroupVersionDocument({ group: "rbac.authorization.k8s.io", version: "v1" }, [resource("ClusterRole", "clusterroles", false, "io.k8s.api.rbac.v1")]);
    const op = rbac.paths["/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}"]?.["patch"] as Operation;
    assert.equal(op["operationId"], "patchRbacAuthorizationV1ClusterRole");
    assert.deepEqual(op["tags"], ["rbacAuthorization_v1"]);
  });

  void it("let kubectl explain find each kind through an operation and its schema", () => {
    // kubectl pkg/explain/v2 templates: GVK from an operation on the list or item path, then
    // the schema whose x-kubernetes-group-version-kind list contains exactly that object.
    for (const [doc, prefix, rs] of [[apps, "/apis/apps/v1", appsResources], [core, "/api/v1", coreResources]] as const) {
      for (const r of rs) {
        const path = r.namespaced ? `${prefix}/namespaces/{namespace}/${r.plural}` : `${prefix}/${r.plural}`;
        const found = doc.paths[path]?.["get"] as Operation | undefined;
        const opGVK = found?.["x-kubernetes-group-version-kind"];
        assert.ok(opGVK !== undefined, path);
        const schemas = Object.values(doc.components.schemas).filter((s) =>
          Array.isArray(s["x-kubernetes-group-version-kind"]) && s["x-kubernetes-group-version-kind"].some((g) => JSON.stringify(g) === JSON.stringify(opGVK)));
        assert.equal(schemas.length, 1, r.kind);
        assert.ok(schemas[0] === doc.components.schemas[r.definition]);
      }
    }
  });

  void it("list the document's group among the meta kinds' groups without touching the shared definitions", () => {
    const gvks = apps.components.schemas["io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"]?.["x-kubernetes-group-version-kind"];
    assert.deepEqual(gvks, [{ group: "", kind: "DeleteOptions", version: "v1" }, { group: "apps", kind: "DeleteOptions", version: "v1" }]);
    assert.deepEqual(def("io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions")["x-kubernetes-group-version-kind"], [{ group: "", kind: "DeleteOptions", version: "v1" }]);
  });

  void it("omit operations for verbs a resource does not serve", () => {
    // Create-only kinds have no list kind (there is no BindingList or SelfSubjectAccessReviewList).
    const doc = buildGroupVersionDocument({ group: "", version: "v1" }, [{ ...resource("Binding", "bindings", true, "io.k8s.api.core.v1"), verbs: ["create"] }]);
    assert.deepEqual(Object.keys(doc.paths), ["/api/v1/", "/api/v1/namespaces/{namespace}/bindings"]);
    assert.deepEqual(Object.keys(doc.paths["/api/v1/namespaces/{namespace}/bindings"] ?? {}), ["parameters", "post"]);
    const review = buildGroupVersionDocument({ group: "authorization.k8s.io", version: "v1" }, [
      { ...resource("SelfSubjectAccessReview", "selfsubjectaccessreviews", false, "io.k8s.api.authorization.v1"), verbs: ["create"] },
    ]);
    const post = review.paths["/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"]?.["post"] as Operation;
    assert.equal(post["operationId"], "createAuthorizationV1SelfSubjectAccessReview");
    assert.ok(!("io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions" in review.components.schemas));
  });

  void it("refuse unknown definitions and subresources with coded errors", () => {
    assert.throws(
      () => buildGroupVersionDocument({ group: "x.io", version: "v1" }, [resource("Widget", "widgets", true, "io.x.v1")]),
      (e: unknown) => e instanceof OpenAPIError && e.code === "UnknownDefinition",
    );
    assert.throws(
      () => buildGroupVersionDocument({ group: "apps", version: "v1" }, [resource("Deployment", "deployments", true, "io.k8s.api.apps.v1", ["rollback"])]),
      (e: unknown) => e instanceof OpenAPIError && e.code === "UnknownSubresource",
    );
  });

  void it("are deterministic", () => {
    const again = buildGroupVersionDocument({ group: "apps", version: "v1" }, appsResources);
    assert.equal(serializeOpenAPIDocument(again).hash, serializeOpenAPIDocument(apps).hash);
  });
});

void describe("serving", () => {
  const apps = buildGroupVersionDocument({ group: "apps", version: "v1" }, appsResources);

  void it("hashes the served bytes with SHA-512 in upper-case hex", () => {
    const { body, hash } = serializeOpenAPIDocument(apps);
    assert.deepEqual(JSON.parse(body.toString("utf8")), apps);
    assert.equal(hash, createHash("sha512").update(body).digest("hex").toUpperCase());
    assert.match(hash, /^[0-9A-F]{128}$/);
    const fewer = buildGroupVersionDocument({ group: "apps", version: "v1" }, appsResources.slice(0, 1));
    assert.notEqual(serializeOpenAPIDocument(fewer).hash, hash);
  });

  void it("builds the /openapi/v3 root client-go reads", () => {
    const gvs = [{ group: "apps", version: "v1" }, { group: "", version: "v1" }, { group: "rbac.authorization.k8s.io", version: "v1" }];
    assert.equal(groupVersionPath(gvs[0] as { group: string; version: string }), "apis/apps/v1");
    const root = buildOpenAPIv3Root(gvs, new Map([["api/v1", "AA"], ["apis/apps/v1", "BB"], ["apis/rbac.authorization.k8s.io/v1", "CC"]]));
    assert.deepEqual(root, {
      paths: {
        "api/v1": { serverRelativeURL: "/openapi/v3/api/v1?hash=AA" },
        "apis/apps/v1": { serverRelativeURL: "/openapi/v3/apis/apps/v1?hash=BB" },
        "apis/rbac.authorization.k8s.io/v1": { serverRelativeURL: "/openapi/v3/apis/rbac.authorization.k8s.io/v1?hash=CC" },
      },
    });
  });

  void it("answers a document request as kube-openapi does", () => {
    const gv = { group: "apps", version: "v1" };
    const now = new Date("2026-01-02T03:04:05Z");
    assert.deepEqual(openAPIv3ResponseHeaders(gv, "H1", "H0", now), { status: 301, headers: { Location: "/openapi/v3/apis/apps/v1?hash=H1", ETag: '"H1"' } });
    assert.deepEqual(openAPIv3ResponseHeaders(gv, "H1", undefined, now), { status: 200, headers: { "Content-Type": "application/json", ETag: '"H1"' } });
    assert.deepEqual(openAPIv3ResponseHeaders(gv, "H1", "H1", now), {
      status: 200,
      headers: { "Content-Type": "application/json", ETag: '"H1"', Vary: "Accept", "Cache-Control": "public, immutable", Expires: "Sat, 02 Jan 2027 03:04:05 GMT" },
    });
  });

  void it("encodes the /openapi/v2 stub as a protobuf openapi_v2.Document", () => {
    // Decode by hand: (field << 3 | 2), length, bytes.
    const fields = (b: Buffer): Map<number, Buffer> => {
      const out = new Map<number, Buffer>();
      for (let i = 0; i < b.length;) {
        const key = b[i++] as number;
        assert.equal(key & 7, 2, "length-delimited");
        const len = b[i++] as number;
        out.set(key >> 3, b.subarray(i, i + len));
        i += len;
      }
      return out;
    };
    const doc = fields(openAPIv2Protobuf());
    assert.equal(doc.get(1)?.toString(), "2.0");
    const info = fields(doc.get(2) as Buffer);
    assert.equal(info.get(1)?.toString(), "Kubernetes");
    assert.equal(info.get(2)?.toString(), "unversioned");
  });
});
