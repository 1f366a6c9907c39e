// Which fields of the built-in API types carry strategic-merge-patch and list/map semantics.
// kubernetes-types keeps the field docs but drops these, so they are stated here once. They are
// facts about the upstream Go types (struct tags `patchStrategy`/`patchMergeKey` and the markers
// `+listType`, `+listMapKey`, `+mapType`, `+structType`), as Kubernetes 1.30 publishes them in
// its OpenAPI documents as x-kubernetes-patch-strategy, x-kubernetes-patch-merge-key,
// x-kubernetes-list-type, x-kubernetes-list-map-keys and x-kubernetes-map-type.
//
// They matter beyond documentation: kubectl computes client-side `apply` patches from the
// OpenAPI v3 schema we serve (a list without a merge key is replaced whole), and the server's
// strategic merge patch and server-side apply read the same schema.
//
// Coverage: every group-version the API server serves, plus meta/v1 and the review types of
// authentication.k8s.io/v1 and authorization.k8s.io/v1.
//
// Notation, one string per field (space-separated tokens):
//   patch:<strategy>[(<mergeKey>)]   strategy: merge | retainKeys | merge,retainKeys | replace
//   list:atomic | list:set | list:map(<key>,<key>...)
//   map:atomic | map:granular
// The field name "." stands for the definition itself (a struct marked `+structType=atomic`).
import { CodedError } from "../../util/errors.js";

export type ListType = "atomic" | "set" | "map";
export type MapType = "atomic" | "granular";

export interface FieldPatchMeta {
  /** x-kubernetes-patch-strategy, e.g. "merge" or "merge,retainKeys". */
  readonly patchStrategy?: string;
  /** x-kubernetes-patch-merge-key. */
  readonly patchMergeKey?: string;
  /** x-kubernetes-list-type. */
  readonly listType?: ListType;
  /** x-kubernetes-list-map-keys (with listType "map"). */
  readonly listMapKeys?: readonly string[];
  /** x-kubernetes-map-type. */
  readonly mapType?: MapType;
}

export class PatchMetaError extends CodedError<"BadNotation"> {
  override readonly name = "PatchMetaError";
}

const table: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, string>>>>>> = {
  "io.k8s.apimachinery.pkg.apis.meta.v1": {
    APIGroup: { serverAddressByClientCIDRs: "list:atomic", versions: "list:atomic" },
    APIGroupList: { groups: "list:atomic" },
    APIResource: { categories: "list:atomic", shortNames: "list:atomic" },
    APIResourceList: { resources: "list:atomic" },
    APIVersions: { serverAddressByClientCIDRs: "list:atomic", versions: "list:atomic" },
    DeleteOptions: { dryRun: "list:atomic" },
    LabelSelector: { ".": "map:atomic", matchExpressions: "list:atomic" },
    LabelSelectorRequirement: { values: "list:atomic" },
    ObjectMeta: {
      finalizers: "patch:merge list:set",
      managedFields: "list:atomic",
      ownerReferences: "patch:merge(uid) list:map(uid)",
    },
    OwnerReference: { ".": "map:atomic" },
    // Upstream marks this struct field `+listType=atomic`; published as is.
    Status: { details: "list:atomic" },
    StatusDetails: { causes: "list:atomic" },
  },
  "io.k8s.api.core.v1": {
    Capabilities: { add: "list:atomic", drop: "list:atomic" },
    CephFSPersistentVolumeSource: { monitors: "list:atomic" },
    CephFSVolumeSource: { monitors: "list:atomic" },
    ComponentStatus: { conditions: "patch:merge(type) list:map(type)" },
    ConfigMapKeySelector: { ".": "map:atomic" },
    ConfigMapProjection: { items: "list:atomic" },
    ConfigMapVolumeSource: { items: "list:atomic" },
    Container: {
      args: "list:atomic",
      command: "list:atomic",
      env: "patch:merge(name) list:map(name)",
      envFrom: "list:atomic",
      ports: "patch:merge(containerPort) list:map(containerPort,protocol)",
      resizePolicy: "list:atomic",
      volumeDevices: "patch:merge(devicePath) list:map(devicePath)",
      volumeMounts: "patch:merge(mountPath) list:map(mountPath)",
    },
    ContainerImage: { names: "list:atomic" },
    ContainerStatus: { volumeMounts: "patch:merge(mountPath) list:map(mountPath)" },
    DownwardAPIProjection: { items: "list:atomic" },
    DownwardAPIVolumeSource: { items: "list:atomic" },
    EndpointAddress: { ".": "map:atomic" },
    EndpointPort: { ".": "map:atomic" },
    EndpointSubset: { addresses: "list:atomic", notReadyAddresses: "list:atomic", ports: "list:atomic" },
    Endpoints: { subsets: "list:atomic" },
    EphemeralContainer: {
      args: "list:atomic",
      command: "list:atomic",
      env: "patch:merge(name) list:map(name)",
      envFrom: "list:atomic",
      ports: "patch:merge(containerPort) list:map(containerPort,protocol)",
      resizePolicy: "list:atomic",
      volumeDevices: "patch:merge(devicePath) list:map(devicePath)",
      volumeMounts: "patch:merge(mountPath) list:map(mountPath)",
    },
    ExecAction: { command: "list:atomic" },
    FCVolumeSource: { targetWWNs: "list:atomic", wwids: "list:atomic" },
    HTTPGetAction: { httpHeaders: "list:atomic" },
    HostAlias: { hostnames: "list:atomic" },
    ISCSIPersistentVolumeSource: { portals: "list:atomic" },
    ISCSIVolumeSource: { portals: "list:atomic" },
    LimitRangeSpec: { limits: "list:atomic" },
    LoadBalancerIngress: { ports: "list:atomic" },
    LoadBalancerStatus: { ingress: "list:atomic" },
    LocalObjectReference: { ".": "map:atomic" },
    NamespaceSpec: { finalizers: "list:atomic" },
    NamespaceStatus: { conditions: "patch:merge(type) list:map(type)" },
    NodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: "list:atomic" },
    NodeSelector: { ".": "map:atomic", nodeSelectorTerms: "list:atomic" },
    NodeSelectorRequirement: { values: "list:atomic" },
    NodeSelectorTerm: { ".": "map:atomic", matchExpressions: "list:atomic", matchFields: "list:atomic" },
    NodeSpec: { podCIDRs: "patch:merge list:set", taints: "list:atomic" },
    NodeStatus: {
      addresses: "patch:merge(type) list:map(type)",
      conditions: "patch:merge(type) list:map(type)",
      images: "list:atomic",
      runtimeHandlers: "list:atomic",
      volumesAttached: "list:atomic",
      volumesInUse: "list:atomic",
    },
    ObjectFieldSelector: { ".": "map:atomic" },
    ObjectReference: { ".": "map:atomic" },
    PersistentVolumeClaimSpec: { accessModes: "list:atomic" },
    PersistentVolumeClaimStatus: {
      accessModes: "list:atomic",
      allocatedResourceStatuses: "map:granular",
      conditions: "patch:merge(type) list:map(type)",
    },
    PersistentVolumeSpec: {
      accessModes: "list:atomic",
      claimRef: "map:granular",
      mountOptions: "list:atomic",
    },
    PodAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: "list:atomic",
      requiredDuringSchedulingIgnoredDuringExecution: "list:atomic",
    },
    PodAffinityTerm: {
      matchLabelKeys: "list:atomic",
      mismatchLabelKeys: "list:atomic",
      namespaces: "list:atomic",
    },
    PodAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: "list:atomic",
      requiredDuringSchedulingIgnoredDuringExecution: "list:atomic",
    },
    PodDNSConfig: { nameservers: "list:atomic", options: "list:atomic", searches: "list:atomic" },
    PodSecurityContext: { supplementalGroups: "list:atomic", sysctls: "list:atomic" },
    PodSpec: {
      containers: "patch:merge(name) list:map(name)",
      ephemeralContainers: "patch:merge(name) list:map(name)",
      hostAliases: "patch:merge(ip) list:map(ip)",
      imagePullSecrets: "patch:merge(name) list:map(name)",
      initContainers: "patch:merge(name) list:map(name)",
      nodeSelector: "map:atomic",
      readinessGates: "list:atomic",
      resourceClaims: "patch:merge,retainKeys(name) list:map(name)",
      schedulingGates: "patch:merge(name) list:map(name)",
      tolerations: "list:atomic",
      topologySpreadConstraints: "patch:merge(topologyKey) list:map(topologyKey,whenUnsatisfiable)",
      volumes: "patch:merge,retainKeys(name) list:map(name)",
    },
    PodStatus: {
      conditions: "patch:merge(type) list:map(type)",
      containerStatuses: "list:atomic",
      ephemeralContainerStatuses: "list:atomic",
      hostIPs: "patch:merge(ip) list:atomic",
      initContainerStatuses: "list:atomic",
      podIPs: "patch:merge(ip) list:map(ip)",
      resourceClaimStatuses: "patch:merge,retainKeys(name) list:map(name)",
    },
    ProjectedVolumeSource: { sources: "list:atomic" },
    RBDPersistentVolumeSource: { monitors: "list:atomic" },
    RBDVolumeSource: { monitors: "list:atomic" },
    ReplicationControllerSpec: { selector: "map:atomic" },
    ReplicationControllerStatus: { conditions: "patch:merge(type) list:map(type)" },
    ResourceFieldSelector: { ".": "map:atomic" },
    ResourceQuotaSpec: { scopes: "list:atomic" },
    ResourceRequirements: { claims: "list:map(name)" },
    ScopeSelector: { ".": "map:atomic", matchExpressions: "list:atomic" },
    ScopedResourceSelectorRequirement: { values: "list:atomic" },
    SecretKeySelector: { ".": "map:atomic" },
    SecretProjection: { items: "list:atomic" },
    SecretReference: { ".": "map:atomic" },
    SecretVolumeSource: { items: "list:atomic" },
    ServiceAccount: { imagePullSecrets: "list:atomic", secrets: "patch:merge(name) list:map(name)" },
    ServiceSpec: {
      clusterIPs: "list:atomic",
      externalIPs: "list:atomic",
      ipFamilies: "list:atomic",
      loadBalancerSourceRanges: "list:atomic",
      ports: "patch:merge(port) list:map(port,protocol)",
      selector: "map:atomic",
    },
    ServiceStatus: { conditions: "patch:merge(type) list:map(type)" },
    TopologySelectorLabelRequirement: { values: "list:atomic" },
    TopologySelectorTerm: { ".": "map:atomic", matchLabelExpressions: "list:atomic" },
    TopologySpreadConstraint: { matchLabelKeys: "list:atomic" },
    TypedLocalObjectReference: { ".": "map:atomic" },
  },
  "io.k8s.api.apps.v1": {
    DaemonSetStatus: { conditions: "patch:merge(type) list:map(type)" },
    DeploymentSpec: { strategy: "patch:retainKeys" },
    DeploymentStatus: { conditions: "patch:merge(type) list:map(type)" },
    ReplicaSetStatus: { conditions: "patch:merge(type) list:map(type)" },
    StatefulSetSpec: { volumeClaimTemplates: "list:atomic" },
    StatefulSetStatus: { conditions: "patch:merge(type) list:map(type)" },
  },
  "io.k8s.api.batch.v1": {
    CronJobStatus: { active: "list:atomic" },
    JobStatus: { conditions: "patch:merge(type) list:atomic" },
    PodFailurePolicy: { rules: "list:atomic" },
    PodFailurePolicyOnExitCodesRequirement: { values: "list:set" },
    PodFailurePolicyRule: { onPodConditions: "list:atomic" },
    SuccessPolicy: { rules: "list:atomic" },
    UncountedTerminatedPods: { failed: "list:set", succeeded: "list:set" },
  },
  "io.k8s.api.discovery.v1": {
    Endpoint: { addresses: "list:set" },
    EndpointHints: { forZones: "list:atomic" },
    EndpointPort: { ".": "map:atomic" },
    EndpointSlice: { endpoints: "list:atomic", ports: "list:atomic" },
  },
  "io.k8s.api.rbac.v1": {
    AggregationRule: { clusterRoleSelectors: "list:atomic" },
    ClusterRole: { rules: "list:atomic" },
    ClusterRoleBinding: { subjects: "list:atomic" },
    PolicyRule: {
      apiGroups: "list:atomic",
      nonResourceURLs: "list:atomic",
      resourceNames: "list:atomic",
      resources: "list:atomic",
      verbs: "list:atomic",
    },
    Role: { rules: "list:atomic" },
    RoleBinding: { subjects: "list:atomic" },
    RoleRef: { ".": "map:atomic" },
    Subject: { ".": "map:atomic" },
  },
  "io.k8s.api.policy.v1": {
    PodDisruptionBudgetSpec: { selector: "patch:replace" },
    PodDisruptionBudgetStatus: { conditions: "patch:merge(type) list:map(type)" },
  },
  "io.k8s.api.autoscaling.v1": {
    CrossVersionObjectReference: { ".": "map:atomic" },
  },
  "io.k8s.api.autoscaling.v2": {
    HPAScalingRules: { policies: "list:atomic" },
    HorizontalPodAutoscalerSpec: { metrics: "list:atomic" },
    HorizontalPodAutoscalerStatus: {
      conditions: "patch:merge(type) list:map(type)",
      currentMetrics: "list:atomic",
    },
  },
  "io.k8s.api.networking.v1": {
    HTTPIngressRuleValue: { paths: "list:atomic" },
    IPBlock: { except: "list:atomic" },
    IngressLoadBalancerIngress: { ports: "list:atomic" },
    IngressLoadBalancerStatus: { ingress: "list:atomic" },
    IngressSpec: { rules: "list:atomic", tls: "list:atomic" },
    IngressTLS: { hosts: "list:atomic" },
    NetworkPolicyEgressRule: { ports: "list:atomic", to: "list:atomic" },
    NetworkPolicyIngressRule: { from: "list:atomic", ports: "list:atomic" },
    NetworkPolicySpec: { egress: "list:atomic", ingress: "list:atomic", policyTypes: "list:atomic" },
  },
  "io.k8s.api.storage.v1": {
    CSIDriverSpec: { tokenRequests: "list:atomic", volumeLifecycleModes: "list:set" },
    CSINodeDriver: { topologyKeys: "list:atomic" },
    CSINodeSpec: { drivers: "patch:merge(name) list:map(name)" },
    StorageClass: { allowedTopologies: "list:atomic", mountOptions: "list:atomic" },
  },
  "io.k8s.api.authentication.v1": {
    TokenRequestSpec: { audiences: "list:atomic" },
    TokenReviewSpec: { audiences: "list:atomic" },
    TokenReviewStatus: { audiences: "list:atomic" },
    UserInfo: { groups: "list:atomic" },
  },
  "io.k8s.api.authorization.v1": {
    NonResourceRule: { nonResourceURLs: "list:atomic", verbs: "list:atomic" },
    ResourceRule: {
      apiGroups: "list:atomic",
      resourceNames: "list:atomic",
      resources: "list:atomic",
      verbs: "list:atomic",
    },
    SubjectAccessReviewSpec: { groups: "list:atomic" },
    SubjectRulesReviewStatus: { nonResourceRules: "list:atomic", resourceRules: "list:atomic" },
  },
};

let parsed: ReadonlyMap<string, ReadonlyMap<string, FieldPatchMeta>> | undefined;

/** Reads one field's notation (see the top of this file); `where` names it in errors. */
export function parsePatchMetaNotation(where: string, text: string): FieldPatchMeta {
  const meta: { -readonly [K in keyof FieldPatchMeta]: FieldPatchMeta[K] } = {};
  for (const token of text.split(" ")) {
    const m = /^(patch|list|map):([A-Za-z,]+)(?:\(([A-Za-z,]+)\))?$/.exec(token);
    if (m === null) throw new PatchMetaError("BadNotation", `${where}: cannot read "${token}"`);
    const [, kind, value = "", args] = m;
    if (kind === "patch") {
      if (!["merge", "retainKeys", "merge,retainKeys", "replace"].includes(value)) {
        throw new PatchMetaError("BadNotation", `${where}: unknown patch strategy "${value}"`);
      }
      meta.patchStrategy = value;
      if (args !== undefined) meta.patchMergeKey = args;
    } else if (kind === "list") {
      if (value !== "atomic" && value !== "set" && value !== "map") {
        throw new PatchMetaError("BadNotation", `${where}: unknown list type "${value}"`);
      }
      if ((value === "map") !== (args !== undefined)) {
        throw new PatchMetaError("BadNotation", `${where}: list:map needs keys, other list types take none`);
      }
      meta.listType = value;
      if (args !== undefined) meta.listMapKeys = args.split(",");
    } else {
      if ((value !== "atomic" && value !== "granular") || args !== undefined) {
        throw new PatchMetaError("BadNotation", `${where}: unknown map type "${token}"`);
      }
      meta.mapType = value;
    }
  }
  return meta;
}

function parsedTable(): ReadonlyMap<string, ReadonlyMap<string, FieldPatchMeta>> {
  if (parsed !== undefined) return parsed;
  const out = new Map<string, Map<string, FieldPatchMeta>>();
  for (const [pkg, defs] of Object.entries(table)) {
    for (const [def, fields] of Object.entries(defs)) {
      const name = `${pkg}.${def}`;
      const m = new Map<string, FieldPatchMeta>();
      for (const [field, text] of Object.entries(fields)) m.set(field, parsePatchMetaNotation(`${name}.${field}`, text));
      out.set(name, m);
    }
  }
  parsed = out;
  return out;
}

/**
 * The patch/list/map semantics of one field of an OpenAPI definition
 * (`fieldPatchMeta("io.k8s.api.core.v1.PodSpec", "containers")`), or undefined when upstream
 * marks none: then a list is replaced whole by a strategic merge patch and a map is merged.
 */
export function fieldPatchMeta(definition: string, field: string): FieldPatchMeta | undefined {
  return parsedTable().get(definition)?.get(field);
}

/** x-kubernetes-map-type of a definition itself ("atomic" for structs replaced as a whole). */
export function definitionMapType(definition: string): MapType | undefined {
  return parsedTable().get(definition)?.get(".")?.mapType;
}

/** Every definition the table names, with its fields ("." for the definition itself). */
export function patchMetaEntries(): ReadonlyMap<string, ReadonlyMap<string, FieldPatchMeta>> {
  return parsedTable();
}

/** The OpenAPI vendor extensions that state `meta`, in the names upstream publishes. */
export function patchMetaExtensions(meta: FieldPatchMeta): Record<string, string | string[]> {
  const ext: Record<string, string | string[]> = {};
  if (meta.listMapKeys !== undefined) ext["x-kubernetes-list-map-keys"] = [...meta.listMapKeys];
  if (meta.listType !== undefined) ext["x-kubernetes-list-type"] = meta.listType;
  if (meta.mapType !== undefined) ext["x-kubernetes-map-type"] = meta.mapType;
  if (meta.patchMergeKey !== undefined) ext["x-kubernetes-patch-merge-key"] = meta.patchMergeKey;
  if (meta.patchStrategy !== undefined) ext["x-kubernetes-patch-strategy"] = meta.patchStrategy;
  return ext;
}
