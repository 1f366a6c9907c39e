// Realistic bodies of every built-in kind with defaults, and upstream's defaults for each
// (SetDefaults_* of pkg/apis/<group>/<version>/defaults.go): resources/defaults.test.ts checks
// each defaulter against them, resources/status-writes.test.ts writes them over HTTP.
//
// Each body reaches every nested part its kind's defaulter touches.
import type { Json } from "../apiserver/resources/util.js";

/** In an expectation: the field must be unset. */
export const ABSENT = Symbol("absent");

export interface ResourceCase {
  /** The object as a client sends it, without apiVersion, kind and metadata.name/namespace. */
  readonly body: Json;
  /** What upstream's defaulting gives, in part. */
  readonly expect: Json;
  /** A part only this subresource writes, so the body is not one a create accepts. */
  readonly writtenBy?: string;
}

const container = {
  name: "c",
  image: "busybox",
  resources: { limits: { cpu: "1", memory: "1Gi" }, requests: { cpu: "500m" } },
  ports: [{ containerPort: 80 }],
  env: [
    { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
    { name: "MEM", valueFrom: { resourceFieldRef: { containerName: "c", resource: "limits.memory", divisor: "1024Ki" } } },
  ],
  readinessProbe: { httpGet: { port: 80 } },
  livenessProbe: { exec: { command: ["true"] } },
  startupProbe: { tcpSocket: { port: 80 }, failureThreshold: 30 },
  lifecycle: { preStop: { httpGet: { path: "/drain", port: 80 } }, postStart: { exec: { command: ["true"] } } },
};
const podSpec = {
  containers: [container],
  initContainers: [{ name: "init", image: "busybox:1.36", resources: { limits: { memory: "64Mi" } } }],
  volumes: [
    { name: "cm", configMap: { name: "cm" } },
    { name: "s", secret: { secretName: "s" } },
    { name: "e", emptyDir: { sizeLimit: "1024Mi" } },
    { name: "d", downwardAPI: { items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels" } }, { path: "cpu", resourceFieldRef: { containerName: "c", resource: "limits.cpu" } }] } },
    {
      name: "p",
      projected: {
        sources: [
          { serviceAccountToken: { path: "token", audience: "vault" } },
          { downwardAPI: { items: [{ path: "ns", fieldRef: { fieldPath: "metadata.namespace" } }] } },
          { configMap: { name: "cm" } },
        ],
      },
    },
    { name: "h", hostPath: { path: "/var/log" } },
    { name: "eph", ephemeral: { volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1024Mi" } } } } } },
  ],
  serviceAccountName: "default",
  tolerations: [{ key: "k", operator: "Exists" }],
};
// What SetDefaults_PodSpec and the defaulters of its parts give the spec above.
const podSpecDefaults = {
  dnsPolicy: "ClusterFirst",
  restartPolicy: "Always",
  securityContext: {},
  terminationGracePeriodSeconds: 30,
  schedulerName: "default-scheduler",
  serviceAccount: "default",
  containers: [
    {
      terminationMessagePath: "/dev/termination-log",
      terminationMessagePolicy: "File",
      imagePullPolicy: "Always",
      ports: [{ containerPort: 80, protocol: "TCP" }],
      env: [{ valueFrom: { fieldRef: { apiVersion: "v1" } } }, { valueFrom: { resourceFieldRef: { divisor: "1Mi" } } }],
      readinessProbe: { httpGet: { path: "/", scheme: "HTTP" }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 },
      livenessProbe: { timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 },
      startupProbe: { failureThreshold: 30, periodSeconds: 10 },
      lifecycle: { preStop: { httpGet: { path: "/drain", scheme: "HTTP" } } },
    },
  ],
  initContainers: [{ imagePullPolicy: "IfNotPresent", terminationMessagePath: "/dev/termination-log" }],
  volumes: [
    { configMap: { defaultMode: 0o644 } },
    { secret: { defaultMode: 0o644 } },
    { emptyDir: { sizeLimit: "1Gi" } },
    { downwardAPI: { defaultMode: 0o644, items: [{ fieldRef: { apiVersion: "v1" } }, { resourceFieldRef: { divisor: "0" } }] } },
    { projected: { defaultMode: 0o644, sources: [{ serviceAccountToken: { expirationSeconds: 3600 } }, { downwardAPI: { items: [{ fieldRef: { apiVersion: "v1" } }] } }, {}] } },
    { hostPath: { type: "" } },
    { ephemeral: { volumeClaimTemplate: { spec: { volumeMode: "Filesystem", resources: { requests: { storage: "1Gi" } } } } } },
  ],
};
const template = { metadata: { labels: { app: "a" } }, spec: podSpec };
const templateDefaults = { metadata: { creationTimestamp: null }, spec: podSpecDefaults };
const selector = { matchLabels: { app: "a" } };
const jobPodSpec = { ...podSpec, restartPolicy: "Never" };

// The in-tree volume sources a pod may still name, each with defaults of its own.
const legacyVolumes = {
  iscsi: { targetPortal: "10.0.0.1:3260", iqn: "iqn.2001-04.com.example:storage", lun: 0 },
  rbd: { monitors: ["10.0.0.1:6789"], image: "img" },
  azureDisk: { diskName: "d", diskURI: "https://example.blob.core.windows.net/vhds/d.vhd" },
  scaleIO: { gateway: "https://gw.example.com/api", system: "sys", secretRef: { name: "s" } },
};
const legacyVolumeDefaults = {
  iscsi: { iscsiInterface: "default" },
  rbd: { pool: "rbd", user: "admin", keyring: "/etc/ceph/keyring" },
  azureDisk: { cachingMode: "ReadWrite", fsType: "ext4", readOnly: false, kind: "Shared" },
  scaleIO: { storageMode: "ThinProvisioned", fsType: "xfs" },
};

const involved = { apiVersion: "v1", kind: "Pod", name: "p", namespace: "default", uid: "00000000-0000-0000-0000-000000000001" };
const bindingSubjects = [
  { kind: "User", name: "alice" },
  { kind: "Group", name: "devs" },
  { kind: "ServiceAccount", name: "sa", namespace: "default" },
];
// SetDefaults_Subject: rbac's group for users and groups; the core group "" for service
// accounts, which omitempty leaves off the wire.
const bindingSubjectDefaults = [{ apiGroup: "rbac.authorization.k8s.io" }, { apiGroup: "rbac.authorization.k8s.io" }, { apiGroup: ABSENT }];
const scaleTargetRef = { apiVersion: "apps/v1", kind: "Deployment", name: "a" };
const pvBase = { capacity: { storage: "10Gi" }, accessModes: ["ReadWriteOnce"] };
const pvDefaults = { spec: { persistentVolumeReclaimPolicy: "Retain", volumeMode: "Filesystem" }, status: { phase: "Pending" } };

// Keyed by apiVersion/kind. Kinds whose defaulter only touches top-level fields (StorageClass,
// PriorityClass, Secret, both Events) have a body too, so their defaults are checked.
const webhookBody = {
  name: "check.example.com",
  clientConfig: { service: { namespace: "system", name: "webhook-service", path: "/validate" } },
  rules: [{ operations: ["CREATE"], apiGroups: ["apps"], apiVersions: ["v1"], resources: ["deployments"] }],
  sideEffects: "None",
  admissionReviewVersions: ["v1"],
};

export const resourceCases: Readonly<Record<string, readonly ResourceCase[]>> = {
  "v1/Pod": [
    {
      body: {
        spec: {
          ...podSpec,
          hostNetwork: true,
          volumes: [...podSpec.volumes, ...Object.entries(legacyVolumes).map(([k, v]) => ({ name: k.toLowerCase(), [k]: v }))],
        },
        status: { phase: "Running" },
      },
      expect: {
        spec: {
          ...podSpecDefaults,
          enableServiceLinks: true,
          // SetDefaults_Pod: requests default to limits, host ports to container ports on the host network.
          containers: [{ ...podSpecDefaults.containers[0], resources: { requests: { cpu: "500m", memory: "1Gi" } }, ports: [{ protocol: "TCP", hostPort: 80 }] }],
          initContainers: [{ resources: { requests: { memory: "64Mi" } } }],
          volumes: [...podSpecDefaults.volumes, ...Object.entries(legacyVolumeDefaults).map(([k, d]) => ({ [k]: d }))],
        },
      },
    },
    {
      body: { spec: { ...podSpec, ephemeralContainers: [{ name: "debug", image: "busybox", targetContainerName: "c", ports: [{ containerPort: 8080 }] }] } },
      expect: { spec: { ephemeralContainers: [{ terminationMessagePolicy: "File", imagePullPolicy: "Always", ports: [{ protocol: "TCP" }] }] } },
      writtenBy: "ephemeralcontainers",
    },
  ],
  "v1/Service": [
    {
      body: {
        spec: {
          type: "LoadBalancer",
          sessionAffinity: "ClientIP",
          ports: [
            { name: "http", port: 80, targetPort: 8080 },
            { name: "dns", port: 53, protocol: "UDP" },
          ],
          selector: { app: "a" },
        },
        status: {},
      },
      expect: {
        spec: {
          sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
          ports: [
            { protocol: "TCP", targetPort: 8080 },
            { protocol: "UDP", targetPort: 53 },
          ],
          externalTrafficPolicy: "Cluster",
          internalTrafficPolicy: "Cluster",
          allocateLoadBalancerNodePorts: true,
        },
      },
    },
    { body: { spec: { ports: [{ port: 443 }], selector: { app: "a" } } }, expect: { spec: { type: "ClusterIP", sessionAffinity: "None", internalTrafficPolicy: "Cluster", externalTrafficPolicy: ABSENT, ports: [{ targetPort: 443 }] } } },
  ],
  "v1/Endpoints": [
    {
      body: { subsets: [{ addresses: [{ ip: "10.0.0.1" }], ports: [{ name: "http", port: 80 }, { name: "dns", port: 53, protocol: "UDP" }] }] },
      expect: { subsets: [{ ports: [{ protocol: "TCP" }, { protocol: "UDP" }] }] },
    },
  ],
  "v1/Event": [
    {
      body: { involvedObject: involved, reason: "Started", message: "Started container c", source: { component: "kubelet", host: "n1" }, type: "Normal", count: 1, firstTimestamp: "2024-01-01T00:00:00Z", lastTimestamp: "2024-01-01T00:00:00Z" },
      expect: { eventTime: null, reportingComponent: "", reportingInstance: "", source: { component: "kubelet" } },
    },
  ],
  "v1/LimitRange": [
    {
      body: {
        spec: {
          limits: [
            { type: "Container", max: { cpu: "2000m" }, min: { memory: "64Mi" }, default: { memory: "512Mi" } },
            { type: "Pod", max: { cpu: "4", memory: "8Gi" } },
            { type: "PersistentVolumeClaim", min: { storage: "1Gi" }, max: { storage: "10240Mi" } },
          ],
        },
      },
      // SetDefaults_LimitRangeItem: a default limit falls back to max, a default request to the
      // default limit, then to min; only for containers.
      expect: {
        spec: {
          limits: [
            { max: { cpu: "2" }, default: { memory: "512Mi", cpu: "2" }, defaultRequest: { memory: "512Mi", cpu: "2" } },
            { default: ABSENT, defaultRequest: ABSENT },
            { max: { storage: "10Gi" }, default: ABSENT },
          ],
        },
      },
    },
  ],
  "v1/Namespace": [{ body: { spec: { finalizers: ["kubernetes"] }, status: {} }, expect: { metadata: { labels: { "kubernetes.io/metadata.name": "x" } }, status: { phase: "Active" } } }],
  "v1/Node": [
    {
      body: { spec: { podCIDR: "10.244.0.0/24" }, status: { capacity: { cpu: "2", memory: "2048Mi", pods: "110" } } },
      expect: { status: { capacity: { memory: "2Gi" }, allocatable: { cpu: "2", memory: "2Gi", pods: "110" } } },
    },
  ],
  "v1/PersistentVolumeClaim": [
    {
      body: { spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1024Mi" } }, storageClassName: "standard" }, status: {} },
      expect: { spec: { volumeMode: "Filesystem", resources: { requests: { storage: "1Gi" } } }, status: { phase: "Pending" } },
    },
  ],
  // One volume source per persistent volume: a body for each source with defaults of its own.
  "v1/PersistentVolume": [
    { body: { spec: { ...pvBase, hostPath: { path: "/data" } }, status: {} }, expect: { ...pvDefaults, spec: { ...pvDefaults.spec, hostPath: { type: "" } } } },
    ...Object.entries(legacyVolumes).map(([k, v]): ResourceCase => ({
      body: { spec: { ...pvBase, persistentVolumeReclaimPolicy: "Delete", [k]: v }, status: {} },
      expect: { spec: { persistentVolumeReclaimPolicy: "Delete", [k]: legacyVolumeDefaults[k as keyof typeof legacyVolumeDefaults] } },
    })),
  ],
  "v1/ReplicationController": [
    {
      body: { spec: { template: { metadata: { labels: { app: "a", tier: "web" } }, spec: podSpec } }, status: {} },
      // SetDefaults_ReplicationController: selector and labels from the template's labels.
      expect: { metadata: { labels: { app: "a", tier: "web" } }, spec: { replicas: 1, selector: { app: "a", tier: "web" }, template: templateDefaults } },
    },
  ],
  "v1/PodTemplate": [
    {
      body: { template: { metadata: { labels: { app: "a" } }, spec: podSpec } },
      // SetDefaults_PodSpec and friends, through the template.
      expect: { template: templateDefaults },
    },
  ],
  "v1/ResourceQuota": [
    {
      body: { spec: { hard: { cpu: "4000m", "requests.memory": "8192Mi", pods: "10" }, scopes: ["NotBestEffort"] }, status: { hard: { cpu: "4000m" }, used: { cpu: "500m" } } },
      expect: { spec: { hard: { cpu: "4", "requests.memory": "8Gi", pods: "10" } }, status: { hard: { cpu: "4" }, used: { cpu: "500m" } } },
    },
  ],
  "v1/Secret": [
    {
      body: { data: { password: "czNjcjN0" }, stringData: { username: "admin" } },
      expect: { type: "Opaque", data: { password: "czNjcjN0", username: "YWRtaW4=" }, stringData: ABSENT },
    },
  ],
  "apps/v1/Deployment": [
    {
      body: { spec: { selector, template }, status: {} },
      expect: { spec: { replicas: 1, strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" } }, revisionHistoryLimit: 10, progressDeadlineSeconds: 600, template: templateDefaults } },
    },
  ],
  "apps/v1/ReplicaSet": [{ body: { spec: { selector, template }, status: {} }, expect: { spec: { replicas: 1, template: templateDefaults } } }],
  "apps/v1/StatefulSet": [
    {
      body: {
        spec: {
          selector,
          template,
          serviceName: "s",
          volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1024Mi" } } } }],
        },
        status: {},
      },
      expect: {
        spec: {
          replicas: 1,
          podManagementPolicy: "OrderedReady",
          updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 0 } },
          persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
          revisionHistoryLimit: 10,
          template: templateDefaults,
          volumeClaimTemplates: [
            {
              apiVersion: "v1",
              kind: "PersistentVolumeClaim",
              metadata: { creationTimestamp: null },
              spec: { volumeMode: "Filesystem", resources: { requests: { storage: "1Gi" } } },
              status: { phase: "Pending" },
            },
          ],
        },
      },
    },
  ],
  "apps/v1/DaemonSet": [
    {
      body: { spec: { selector, template }, status: {} },
      expect: { spec: { updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } }, revisionHistoryLimit: 10, template: templateDefaults } },
    },
  ],
  "events.k8s.io/v1/Event": [
    {
      body: {
        eventTime: "2024-01-01T00:00:00.000000Z",
        reportingController: "example.com/controller",
        reportingInstance: "controller-1",
        action: "Reconcile",
        reason: "Synced",
        regarding: involved,
        note: "synced",
        type: "Normal",
      },
      expect: { deprecatedSource: {}, deprecatedFirstTimestamp: null, deprecatedLastTimestamp: null, regarding: { name: "p" } },
    },
  ],
  "autoscaling/v2/HorizontalPodAutoscaler": [
    {
      body: {
        spec: {
          scaleTargetRef,
          maxReplicas: 10,
          metrics: [
            { type: "Resource", resource: { name: "memory", target: { type: "AverageValue", averageValue: "1024Mi" } } },
            { type: "Pods", pods: { metric: { name: "rps" }, target: { type: "AverageValue", averageValue: "1000m" } } },
          ],
          behavior: { scaleDown: { stabilizationWindowSeconds: 300 } },
        },
        status: { desiredReplicas: 0 },
      },
      // SetDefaults_HorizontalPodAutoscalerBehavior fills each rule set's unset fields from
      // upstream's scale-up and scale-down defaults; scale-down keeps no window default.
      expect: {
        spec: {
          minReplicas: 1,
          metrics: [{ resource: { target: { averageValue: "1Gi" } } }, { pods: { target: { averageValue: "1" } } }],
          behavior: {
            scaleUp: {
              stabilizationWindowSeconds: 0,
              selectPolicy: "Max",
              policies: [
                { type: "Pods", value: 4, periodSeconds: 15 },
                { type: "Percent", value: 100, periodSeconds: 15 },
              ],
            },
            scaleDown: { stabilizationWindowSeconds: 300, selectPolicy: "Max", policies: [{ type: "Percent", value: 100, periodSeconds: 15 }] },
          },
        },
      },
    },
    {
      body: { spec: { scaleTargetRef, maxReplicas: 5 } },
      expect: { spec: { minReplicas: 1, metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } }], behavior: ABSENT } },
    },
  ],
  // v1's defaulter sets spec.minReplicas alone.
  "autoscaling/v1/HorizontalPodAutoscaler": [{ body: { spec: { scaleTargetRef, maxReplicas: 5, targetCPUUtilizationPercentage: 50 } }, expect: { spec: { minReplicas: 1, targetCPUUtilizationPercentage: 50 } } }],
  "batch/v1/CronJob": [
    {
      body: { spec: { schedule: "*/5 * * * *", jobTemplate: { spec: { template: { spec: jobPodSpec } } } } },
      // SetDefaults_Job does not run on a cron job's job template, only the pod template's defaults.
      expect: {
        spec: {
          concurrencyPolicy: "Allow",
          suspend: false,
          successfulJobsHistoryLimit: 3,
          failedJobsHistoryLimit: 1,
          jobTemplate: { spec: { completions: ABSENT, backoffLimit: ABSENT, template: { spec: { ...podSpecDefaults, restartPolicy: "Never" } } } },
        },
      },
    },
  ],
  "batch/v1/Job": [
    {
      body: {
        spec: {
          podFailurePolicy: { rules: [{ action: "Ignore", onPodConditions: [{ type: "DisruptionTarget" }] }] },
          template: { metadata: { labels: { app: "a" } }, spec: jobPodSpec },
        },
        status: {},
      },
      expect: {
        metadata: { labels: { app: "a" } },
        spec: {
          completions: 1,
          parallelism: 1,
          backoffLimit: 6,
          completionMode: "NonIndexed",
          suspend: false,
          manualSelector: false,
          podReplacementPolicy: "Failed",
          podFailurePolicy: { rules: [{ onPodConditions: [{ status: "True" }] }] },
          template: { metadata: { creationTimestamp: null }, spec: { ...podSpecDefaults, restartPolicy: "Never" } },
        },
      },
    },
    {
      body: { spec: { parallelism: 3, backoffLimitPerIndex: 1, completions: 6, completionMode: "Indexed", template: { spec: jobPodSpec } } },
      expect: { spec: { parallelism: 3, backoffLimit: 2147483647, podReplacementPolicy: "TerminatingOrFailed" } },
    },
  ],
  "networking.k8s.io/v1/IngressClass": [
    {
      body: { spec: { controller: "example.com/ingress-controller", parameters: { apiGroup: "k8s.example.com", kind: "IngressParameters", name: "external-lb" } } },
      expect: { spec: { parameters: { scope: "Cluster" } } },
    },
  ],
  "networking.k8s.io/v1/NetworkPolicy": [
    {
      body: {
        spec: {
          podSelector: { matchLabels: { app: "a" } },
          ingress: [{ from: [{ podSelector: { matchLabels: { role: "frontend" } } }], ports: [{ port: 80 }, { protocol: "UDP", port: 53 }] }],
          egress: [{ to: [{ ipBlock: { cidr: "10.0.0.0/8" } }], ports: [{ protocol: "UDP", port: 53 }, { port: 5432, endPort: 5440 }] }],
        },
      },
      // SetDefaults_NetworkPolicy: Ingress always, Egress when there are egress rules.
      expect: {
        spec: {
          policyTypes: ["Ingress", "Egress"],
          ingress: [{ ports: [{ protocol: "TCP" }, { protocol: "UDP" }] }],
          egress: [{ ports: [{ protocol: "UDP" }, { protocol: "TCP" }] }],
        },
      },
    },
    { body: { spec: { podSelector: {}, ingress: [{ ports: [{ port: "http" }] }] } }, expect: { spec: { policyTypes: ["Ingress"], ingress: [{ ports: [{ protocol: "TCP" }] }] } } },
  ],
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": [
    {
      body: { roleRef: { kind: "ClusterRole", name: "view" }, subjects: bindingSubjects },
      expect: { roleRef: { apiGroup: "rbac.authorization.k8s.io" }, subjects: bindingSubjectDefaults },
    },
  ],
  "rbac.authorization.k8s.io/v1/RoleBinding": [
    {
      body: { roleRef: { kind: "Role", name: "r" }, subjects: bindingSubjects },
      expect: { roleRef: { apiGroup: "rbac.authorization.k8s.io" }, subjects: bindingSubjectDefaults },
    },
  ],
  "apiextensions.k8s.io/v1/CustomResourceDefinition": [
    {
      body: { metadata: { name: "crontabs.stable.example.com" }, spec: { group: "stable.example.com", scope: "Namespaced", names: { plural: "crontabs", kind: "CronTab" }, versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object" } } }] } },
      // SetDefaults_CustomResourceDefinitionSpec (v1).
      expect: { spec: { conversion: { strategy: "None" }, names: { singular: "crontab", listKind: "CronTabList" } } },
    },
  ],
  "storage.k8s.io/v1/StorageClass": [
    { body: { provisioner: "kubernetes.io/no-provisioner", parameters: { type: "local" } }, expect: { reclaimPolicy: "Delete", volumeBindingMode: "Immediate" } },
  ],
  "storage.k8s.io/v1/CSIDriver": [
    {
      body: { spec: { tokenRequests: [{ audience: "vault", expirationSeconds: 3600 }] } },
      // SetDefaults_CSIDriver.
      expect: { spec: { attachRequired: true, podInfoOnMount: false, storageCapacity: false, fsGroupPolicy: "ReadWriteOnceWithFSType", requiresRepublish: false, seLinuxMount: false, volumeLifecycleModes: ["Persistent"] } },
    },
  ],
  // Not a defaulter upstream: quantities come out of decoding canonical, which ours does here.
  "storage.k8s.io/v1/CSIStorageCapacity": [{ body: { storageClassName: "fast", capacity: "1024Mi", maximumVolumeSize: "0.5Gi", nodeTopology: { matchLabels: { "topology.example.com/zone": "a" } } }, expect: { capacity: "1Gi", maximumVolumeSize: "512Mi" } }],
  // SetDefaults_{Mutating,Validating}Webhook, SetDefaults_Rule, SetDefaults_ServiceReference (v1).
  "admissionregistration.k8s.io/v1/MutatingWebhookConfiguration": [
    {
      body: { webhooks: [webhookBody] },
      expect: {
        webhooks: [{ failurePolicy: "Fail", matchPolicy: "Equivalent", namespaceSelector: {}, objectSelector: {}, timeoutSeconds: 10, reinvocationPolicy: "Never", rules: [{ scope: "*" }], clientConfig: { service: { port: 443 } } }],
      },
    },
  ],
  "admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration": [
    {
      body: { webhooks: [webhookBody] },
      expect: {
        webhooks: [{ failurePolicy: "Fail", matchPolicy: "Equivalent", namespaceSelector: {}, objectSelector: {}, timeoutSeconds: 10, reinvocationPolicy: ABSENT, rules: [{ scope: "*" }], clientConfig: { service: { port: 443 } } }],
      },
    },
  ],
  // SetDefaults_ValidatingAdmissionPolicySpec, SetDefaults_MatchResources and SetDefaults_Rule (v1).
  "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy": [
    {
      body: {
        spec: {
          matchConstraints: {
            resourceRules: [{ operations: ["CREATE"], apiGroups: ["apps"], apiVersions: ["v1"], resources: ["deployments"] }],
            excludeResourceRules: [{ operations: ["CREATE"], apiGroups: ["apps"], apiVersions: ["v1"], resources: ["deployments"], resourceNames: ["kept"] }],
          },
          validations: [{ expression: "object.spec.replicas <= 5" }],
        },
      },
      expect: { spec: { failurePolicy: "Fail", matchConstraints: { matchPolicy: "Equivalent", namespaceSelector: {}, objectSelector: {}, resourceRules: [{ scope: "*" }], excludeResourceRules: [{ scope: "*" }] } } },
    },
  ],
  "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding": [
    {
      body: {
        spec: {
          policyName: "replica-limit",
          validationActions: ["Deny"],
          matchResources: { resourceRules: [{ operations: ["CREATE"], apiGroups: ["apps"], apiVersions: ["v1"], resources: ["deployments"] }] },
        },
      },
      expect: { spec: { matchResources: { matchPolicy: "Equivalent", namespaceSelector: {}, objectSelector: {}, resourceRules: [{ scope: "*" }] } } },
    },
  ],
  "scheduling.k8s.io/v1/PriorityClass": [{ body: { value: 1000, description: "batch" }, expect: { preemptionPolicy: "PreemptLowerPriority", globalDefault: ABSENT } }],
  // Not a defaulter upstream: quantities come out of decoding canonical, which ours does here.
  "node.k8s.io/v1/RuntimeClass": [{ body: { handler: "runc", overhead: { podFixed: { cpu: "0.1", memory: "1024Ki" } } }, expect: { overhead: { podFixed: { cpu: "100m", memory: "1Mi" } } } }],
  "discovery.k8s.io/v1/EndpointSlice": [
    {
      body: {
        addressType: "IPv4",
        endpoints: [{ addresses: ["10.0.0.1"], conditions: { ready: true }, nodeName: "n1" }],
        ports: [{ port: 80 }, { name: "dns", port: 53, protocol: "UDP" }],
      },
      // SetDefaults_EndpointPort: name "" and protocol TCP.
      expect: { ports: [{ name: "", protocol: "TCP" }, { name: "dns", protocol: "UDP" }], endpoints: [{ addresses: ["10.0.0.1"] }] },
    },
  ],
};
