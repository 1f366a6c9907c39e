// A hand-written OpenAPI v3 fixture for the patch tests, shaped like the definitions upstream
// publishes for parts of Pod, Deployment, Service and ConfigMap: `allOf: [{$ref}]` wrappers
// carrying the x-kubernetes-* extensions, map-typed fields as `additionalProperties`, and one
// recursive definition. Only the tests import it.
import type { OpenAPIDocument, OpenAPISchemaObject } from "./schema.js";

const p = "io.k8s.api.core.v1.";
const meta = "io.k8s.apimachinery.pkg.apis.meta.v1.";

const str: OpenAPISchemaObject = { type: "string", default: "" };
const int: OpenAPISchemaObject = { type: "integer", format: "int32" };
const bool: OpenAPISchemaObject = { type: "boolean" };
// Upstream gives structs Go holds by value `default: {}`; pointers and list items are plain refs.
const ref = (name: string): OpenAPISchemaObject => ({ allOf: [{ $ref: `#/components/schemas/${name}` }] });
const byValue = (name: string): OpenAPISchemaObject => ({ allOf: [{ $ref: `#/components/schemas/${name}` }], default: {} });
const stringMap: OpenAPISchemaObject = { type: "object", additionalProperties: { type: "string", default: "" } };
const atomicStrings: OpenAPISchemaObject = { type: "array", items: { type: "string", default: "" }, "x-kubernetes-list-type": "atomic" };
const mergeList = (item: string, key: string, keys: string[] = [key], strategy = "merge"): OpenAPISchemaObject => ({
  type: "array",
  items: ref(item),
  "x-kubernetes-list-map-keys": keys,
  "x-kubernetes-list-type": "map",
  "x-kubernetes-patch-merge-key": key,
  "x-kubernetes-patch-strategy": strategy,
});
const obj = (properties: Record<string, OpenAPISchemaObject>, extra: Partial<OpenAPISchemaObject> = {}): OpenAPISchemaObject => ({
  type: "object",
  properties,
  ...extra,
});

export const openapi: OpenAPIDocument = {
  components: {
    schemas: {
      [`${meta}ObjectMeta`]: obj({
        name: { type: "string" },
        generateName: { type: "string" },
        namespace: { type: "string" },
        uid: { type: "string" },
        resourceVersion: { type: "string" },
        generation: { type: "integer", format: "int64" },
        creationTimestamp: ref(`${meta}Time`),
        labels: stringMap,
        annotations: stringMap,
        finalizers: {
          type: "array",
          items: { type: "string", default: "" },
          "x-kubernetes-list-type": "set",
          "x-kubernetes-patch-strategy": "merge",
        },
        ownerReferences: mergeList(`${meta}OwnerReference`, "uid"),
        managedFields: { type: "array", items: ref(`${meta}ManagedFieldsEntry`), "x-kubernetes-list-type": "atomic" },
      }),
      [`${meta}OwnerReference`]: obj(
        { apiVersion: str, kind: str, name: str, uid: str, controller: bool, blockOwnerDeletion: bool },
        { required: ["apiVersion", "kind", "name", "uid"], "x-kubernetes-map-type": "atomic" },
      ),
      [`${meta}ManagedFieldsEntry`]: obj({
        manager: { type: "string" },
        operation: { type: "string" },
        apiVersion: { type: "string" },
        time: ref(`${meta}Time`),
        fieldsType: { type: "string" },
        fieldsV1: ref(`${meta}FieldsV1`),
        subresource: { type: "string" },
      }),
      [`${meta}FieldsV1`]: { type: "object" },
      [`${meta}Time`]: { type: "string", format: "date-time" },
      [`${meta}LabelSelector`]: obj(
        {
          matchLabels: stringMap,
          matchExpressions: { type: "array", items: ref(`${meta}LabelSelectorRequirement`), "x-kubernetes-list-type": "atomic" },
        },
        { "x-kubernetes-map-type": "atomic" },
      ),
      [`${meta}LabelSelectorRequirement`]: obj({ key: str, operator: str, values: atomicStrings }),
      "io.k8s.apimachinery.pkg.util.intstr.IntOrString": { type: "string", format: "int-or-string" },
      "io.k8s.apimachinery.pkg.api.resource.Quantity": { type: "string" },

      [`${p}Pod`]: obj({
        apiVersion: { type: "string" },
        kind: { type: "string" },
        metadata: byValue(`${meta}ObjectMeta`),
        spec: byValue(`${p}PodSpec`),
        status: byValue(`${p}PodStatus`),
      }),
      [`${p}PodSpec`]: obj(
        {
          containers: mergeList(`${p}Container`, "name"),
          initContainers: mergeList(`${p}Container`, "name"),
          volumes: mergeList(`${p}Volume`, "name", ["name"], "merge,retainKeys"),
          imagePullSecrets: mergeList(`${p}LocalObjectReference`, "name"),
          tolerations: { type: "array", items: ref(`${p}Toleration`), "x-kubernetes-list-type": "atomic" },
          nodeSelector: { ...stringMap, "x-kubernetes-map-type": "atomic" },
          restartPolicy: { type: "string" },
          nodeName: { type: "string" },
          serviceAccountName: { type: "string" },
          terminationGracePeriodSeconds: { type: "integer", format: "int64" },
          dnsPolicy: { type: "string" },
          schedulerName: { type: "string" },
          securityContext: ref(`${p}PodSecurityContext`),
        },
        { required: ["containers"] },
      ),
      [`${p}Container`]: obj(
        {
          name: str,
          image: { type: "string" },
          command: atomicStrings,
          args: atomicStrings,
          ports: mergeList(`${p}ContainerPort`, "containerPort", ["containerPort", "protocol"]),
          env: mergeList(`${p}EnvVar`, "name"),
          volumeMounts: mergeList(`${p}VolumeMount`, "mountPath"),
          resources: byValue(`${p}ResourceRequirements`),
          imagePullPolicy: { type: "string" },
          terminationMessagePath: { type: "string" },
          terminationMessagePolicy: { type: "string" },
        },
        { required: ["name"] },
      ),
      [`${p}ContainerPort`]: obj(
        { name: { type: "string" }, containerPort: { ...int, default: 0 }, protocol: { type: "string", default: "TCP" }, hostPort: int },
        { required: ["containerPort"] },
      ),
      [`${p}EnvVar`]: obj({ name: str, value: { type: "string" }, valueFrom: ref(`${p}EnvVarSource`) }, { required: ["name"] }),
      [`${p}EnvVarSource`]: obj({ fieldRef: ref(`${p}ObjectFieldSelector`) }),
      [`${p}ObjectFieldSelector`]: obj({ apiVersion: { type: "string" }, fieldPath: str }, { "x-kubernetes-map-type": "atomic" }),
      [`${p}VolumeMount`]: obj({ name: str, mountPath: str, readOnly: bool }, { required: ["name", "mountPath"] }),
      [`${p}ResourceRequirements`]: obj({
        limits: { type: "object", additionalProperties: ref("io.k8s.apimachinery.pkg.api.resource.Quantity") },
        requests: { type: "object", additionalProperties: ref("io.k8s.apimachinery.pkg.api.resource.Quantity") },
      }),
      [`${p}Volume`]: obj({
        name: str,
        configMap: ref(`${p}ConfigMapVolumeSource`),
        emptyDir: ref(`${p}EmptyDirVolumeSource`),
        secret: ref(`${p}SecretVolumeSource`),
      }),
      [`${p}ConfigMapVolumeSource`]: obj({ name: { type: "string" }, defaultMode: int }),
      [`${p}EmptyDirVolumeSource`]: obj({ medium: { type: "string" } }),
      [`${p}SecretVolumeSource`]: obj({ secretName: { type: "string" }, defaultMode: int }),
      [`${p}PodSecurityContext`]: obj({ runAsUser: { type: "integer", format: "int64" }, runAsNonRoot: bool }),
      [`${p}LocalObjectReference`]: obj({ name: str }, { "x-kubernetes-map-type": "atomic" }),
      [`${p}Toleration`]: obj({ key: { type: "string" }, operator: { type: "string" }, value: { type: "string" }, effect: { type: "string" } }),
      [`${p}PodStatus`]: obj({
        phase: { type: "string" },
        podIP: { type: "string" },
        conditions: mergeList(`${p}PodCondition`, "type"),
      }),
      [`${p}PodCondition`]: obj({ type: str, status: str, reason: { type: "string" }, lastTransitionTime: ref(`${meta}Time`) }),

      [`${p}Service`]: obj({
        apiVersion: { type: "string" },
        kind: { type: "string" },
        metadata: byValue(`${meta}ObjectMeta`),
        spec: byValue(`${p}ServiceSpec`),
      }),
      [`${p}ServiceSpec`]: obj({
        ports: mergeList(`${p}ServicePort`, "port", ["port", "protocol"]),
        selector: { ...stringMap, "x-kubernetes-map-type": "atomic" },
        clusterIP: { type: "string" },
        clusterIPs: atomicStrings,
        type: { type: "string" },
        sessionAffinity: { type: "string" },
      }),
      [`${p}ServicePort`]: obj(
        {
          name: { type: "string" },
          protocol: { type: "string", default: "TCP" },
          port: { ...int, default: 0 },
          targetPort: ref("io.k8s.apimachinery.pkg.util.intstr.IntOrString"),
          nodePort: int,
        },
        { required: ["port"] },
      ),

      [`${p}ConfigMap`]: obj({
        apiVersion: { type: "string" },
        kind: { type: "string" },
        metadata: byValue(`${meta}ObjectMeta`),
        data: stringMap,
      }),

      "io.k8s.api.apps.v1.Deployment": obj({
        apiVersion: { type: "string" },
        kind: { type: "string" },
        metadata: byValue(`${meta}ObjectMeta`),
        spec: byValue("io.k8s.api.apps.v1.DeploymentSpec"),
        status: byValue("io.k8s.api.apps.v1.DeploymentStatus"),
      }),
      "io.k8s.api.apps.v1.DeploymentSpec": obj(
        {
          replicas: int,
          selector: ref(`${meta}LabelSelector`),
          template: byValue(`${p}PodTemplateSpec`),
          strategy: { ...byValue("io.k8s.api.apps.v1.DeploymentStrategy"), "x-kubernetes-patch-strategy": "retainKeys" },
          minReadySeconds: int,
          revisionHistoryLimit: int,
          paused: bool,
          progressDeadlineSeconds: int,
        },
        { required: ["selector", "template"] },
      ),
      "io.k8s.api.apps.v1.DeploymentStrategy": obj({
        type: { type: "string" },
        rollingUpdate: ref("io.k8s.api.apps.v1.RollingUpdateDeployment"),
      }),
      "io.k8s.api.apps.v1.RollingUpdateDeployment": obj({
        maxSurge: ref("io.k8s.apimachinery.pkg.util.intstr.IntOrString"),
        maxUnavailable: ref("io.k8s.apimachinery.pkg.util.intstr.IntOrString"),
      }),
      "io.k8s.api.apps.v1.DeploymentStatus": obj({
        replicas: int,
        readyReplicas: int,
        conditions: mergeList("io.k8s.api.apps.v1.DeploymentCondition", "type"),
      }),
      "io.k8s.api.apps.v1.DeploymentCondition": obj({ type: str, status: str, reason: { type: "string" } }),
      [`${p}PodTemplateSpec`]: obj({ metadata: byValue(`${meta}ObjectMeta`), spec: byValue(`${p}PodSpec`) }),

      // Recursive like JSONSchemaProps: reached through a plain $ref as well as allOf.
      "io.k8s.example.Node": obj({
        name: { type: "string" },
        children: { type: "array", items: { $ref: "#/components/schemas/io.k8s.example.Node" } },
        byName: { type: "object", additionalProperties: { $ref: "#/components/schemas/io.k8s.example.Node" } },
        anything: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
      }),
    },
  },
};

export const defs = {
  pod: `${p}Pod`,
  service: `${p}Service`,
  configMap: `${p}ConfigMap`,
  deployment: "io.k8s.api.apps.v1.Deployment",
  node: "io.k8s.example.Node",
} as const;
