// Field facts for the Kubernetes protobuf messages we decode, in our own notation, and the
// lookups the decoder uses. The facts (field numbers, wire types, JSON names, which Go fields
// are pointers or lack omitempty) are those of k8s.io/api and k8s.io/apimachinery v0.36.3's
// generated.proto files and Go struct tags; fields are only ever added upstream, never
// renumbered, so this decodes what kubectl 1.27-1.33 send.
//
// Notation. A message is its fields in Go declaration order (the order Go's JSON encoder
// writes them), joined by ", " (an entry may span several strings):
//   <number> <json name> <type><suffixes>
// type: str | bytes | bool | i32 | i64 | f64 | map<T> (string keys) | <Message>, where a
//   message name without a dot is in the package of the message naming it.
// suffixes: [] repeated; * a Go pointer (present means set, even to the zero value);
//   ! no omitempty (Go writes the zero value, or null for a nil slice, map or pointer);
//   ~ omitzero (Go leaves the zero value out, structs included).
// A field whose JSON name is "..." is embedded with json:",inline": its fields are written
//   into the parent object.
// A leading "@render" marks a message Go's JSON encoder writes as something other than an
//   object: @time (RFC 3339, seconds), @microtime (RFC 3339, microseconds), @duration (Go
//   duration string), @quantity (canonical quantity string), @intorstring (number or string),
//   @json (its raw bytes are JSON, or a nested protobuf object), @items (a named Go slice:
//   the array of its items).
// Top-level kinds: apiVersion -> [package, kinds...]; each kind is the message of that name.
import { CodedError } from "../../util/errors.js";

export type ScalarType = "str" | "bytes" | "bool" | "i32" | "i64" | "f64";
export type Render = "time" | "microtime" | "duration" | "quantity" | "intorstring" | "json" | "items";

export interface MessageRef {
  readonly message: string;
}

export type ValueType = ScalarType | MessageRef;

export interface FieldDef {
  readonly number: number;
  /** The JSON key; "" for an inline field. */
  readonly json: string;
  readonly inline: boolean;
  readonly shape: "single" | "repeated" | "map";
  /** The element type (for a map: the value type; keys are strings). */
  readonly type: ValueType;
  readonly pointer: boolean;
  /** No omitempty: Go writes the field even when it is zero or nil. */
  readonly always: boolean;
  readonly omitZero: boolean;
}

export interface MessageDef {
  readonly name: string;
  readonly render: Render | undefined;
  /** Go declaration order. */
  readonly fields: readonly FieldDef[];
  readonly byNumber: ReadonlyMap<number, FieldDef>;
}

export type SchemaErrorCode = "UnknownMessage" | "BadFact";

/** A fault in the fact table itself (a programming error, not a client's). */
export class SchemaError extends CodedError<SchemaErrorCode> {
  override readonly name = "SchemaError";
}

const SCALARS: ReadonlySet<string> = new Set(["str", "bytes", "bool", "i32", "i64", "f64"]);
const RENDERS: ReadonlySet<string> = new Set(["time", "microtime", "duration", "quantity", "intorstring", "json", "items"]);
const FIELD_RE = /^(\d+) (\.\.\.|[A-Za-z_$][\w$-]*) (map<([\w.]+)>|[\w.]+)(\[\])?([*!~]*)$/;

const parsed = new Map<string, MessageDef>();

/** The parsed facts for a message, e.g. "core.v1.PodSpec". */
export function messageDef(name: string): MessageDef {
  const cached = parsed.get(name);
  if (cached) return cached;
  const fact = Object.hasOwn(MESSAGES, name) ? MESSAGES[name] : undefined;
  if (fact === undefined) throw new SchemaError("UnknownMessage", `no field facts for message ${name}`);
  const def = parseMessage(name, fact.join(", "));
  parsed.set(name, def);
  return def;
}

function parseMessage(name: string, text: string): MessageDef {
  const pkg = name.slice(0, name.lastIndexOf("."));
  const parts = text.split(", ");
  let render: Render | undefined;
  if (parts[0]?.startsWith("@")) {
    const r = parts.shift()!.slice(1);
    if (!RENDERS.has(r)) throw new SchemaError("BadFact", `${name}: unknown rendering @${r}`);
    render = r as Render;
  }
  const fields: FieldDef[] = [];
  const byNumber = new Map<number, FieldDef>();
  for (const part of parts) {
    const m = FIELD_RE.exec(part);
    if (!m) throw new SchemaError("BadFact", `${name}: cannot read field "${part}"`);
    const isMap = m[4] !== undefined;
    const typeName = isMap ? m[4]! : m[3]!;
    const type: ValueType = SCALARS.has(typeName) ? (typeName as ScalarType) : { message: typeName.includes(".") ? typeName : `${pkg}.${typeName}` };
    const flags = m[6] ?? "";
    const field: FieldDef = {
      number: Number(m[1]),
      json: m[2] === "..." ? "" : m[2]!,
      inline: m[2] === "...",
      shape: isMap ? "map" : m[5] ? "repeated" : "single",
      type,
      pointer: flags.includes("*"),
      always: flags.includes("!"),
      omitZero: flags.includes("~"),
    };
    if (byNumber.has(field.number)) throw new SchemaError("BadFact", `${name}: field ${field.number} twice`);
    fields.push(field);
    byNumber.set(field.number, field);
  }
  return { name, render, fields, byNumber };
}

/** The message for a top-level kind, or undefined when the table does not cover it. */
export function messageForKind(apiVersion: string, kind: string): string | undefined {
  // Upstream registers DeleteOptions in every group version, so clients send it under any.
  if (kind === "DeleteOptions") return "meta.v1.DeleteOptions";
  return kindIndex().get(`${apiVersion}\u0000${kind}`);
}

/** Every top-level kind the table covers. */
export function coveredKinds(): Array<{ apiVersion: string; kind: string; message: string }> {
  return [...kindIndex()].map(([k, message]) => {
    const [apiVersion, kind] = k.split("\u0000") as [string, string];
    return { apiVersion, kind, message };
  });
}

/** Every message name in the table. */
export function messageNames(): string[] {
  return Object.keys(MESSAGES);
}

let kinds: Map<string, string> | undefined;
function kindIndex(): Map<string, string> {
  if (kinds) return kinds;
  kinds = new Map();
  for (const [apiVersion, [pkg, ...lists]] of Object.entries(KINDS)) {
    for (const kind of lists.join(" ").split(" ")) kinds.set(`${apiVersion}\u0000${kind}`, `${pkg}.${kind}`);
  }
  return kinds;
}

const KINDS: Readonly<Record<string, readonly [string, ...string[]]>> = {
  "admissionregistration.k8s.io/v1": [
    "admissionregistration.v1",
    "MutatingAdmissionPolicy MutatingAdmissionPolicyBinding MutatingWebhookConfiguration",
    "ValidatingAdmissionPolicy ValidatingAdmissionPolicyBinding ValidatingWebhookConfiguration",
  ],
  "apps/v1": ["apps.v1", "ControllerRevision DaemonSet Deployment ReplicaSet StatefulSet"],
  "authentication.k8s.io/v1": ["authentication.v1", "SelfSubjectReview TokenRequest TokenReview"],
  "authorization.k8s.io/v1": [
    "authorization.v1",
    "LocalSubjectAccessReview SelfSubjectAccessReview SelfSubjectRulesReview SubjectAccessReview",
  ],
  "autoscaling/v1": ["autoscaling.v1", "HorizontalPodAutoscaler Scale"],
  "autoscaling/v2": ["autoscaling.v2", "HorizontalPodAutoscaler"],
  "batch/v1": ["batch.v1", "CronJob Job"],
  "certificates.k8s.io/v1": ["certificates.v1", "CertificateSigningRequest"],
  "coordination.k8s.io/v1": ["coordination.v1", "Lease"],
  "v1": [
    "core.v1",
    "Binding ComponentStatus ConfigMap Endpoints Event LimitRange Namespace Node PersistentVolume",
    "PersistentVolumeClaim Pod PodTemplate ReplicationController ResourceQuota Secret Service",
    "ServiceAccount",
  ],
  "discovery.k8s.io/v1": ["discovery.v1", "EndpointSlice"],
  "events.k8s.io/v1": ["events.v1", "Event"],
  "flowcontrol.apiserver.k8s.io/v1": ["flowcontrol.v1", "FlowSchema PriorityLevelConfiguration"],
  "networking.k8s.io/v1": ["networking.v1", "IPAddress Ingress IngressClass NetworkPolicy ServiceCIDR"],
  "node.k8s.io/v1": ["node.v1", "RuntimeClass"],
  "policy/v1": ["policy.v1", "Eviction PodDisruptionBudget"],
  "rbac.authorization.k8s.io/v1": ["rbac.v1", "ClusterRole ClusterRoleBinding Role RoleBinding"],
  "scheduling.k8s.io/v1": ["scheduling.v1", "PriorityClass"],
  "storage.k8s.io/v1": ["storage.v1", "CSIDriver CSINode CSIStorageCapacity StorageClass VolumeAttachment VolumeAttributesClass"],
};

const MESSAGES: Readonly<Record<string, readonly string[]>> = {
  "admissionregistration.v1.ApplyConfiguration": ["1 expression str"],
  "admissionregistration.v1.AuditAnnotation": ["1 key str!, 2 valueExpression str!"],
  "admissionregistration.v1.ExpressionWarning": ["2 fieldRef str!, 3 warning str!"],
  "admissionregistration.v1.JSONPatch": ["1 expression str"],
  "admissionregistration.v1.MatchCondition": ["1 name str!, 2 expression str!"],
  "admissionregistration.v1.MatchResources": [
    "1 namespaceSelector meta.v1.LabelSelector*, 2 objectSelector meta.v1.LabelSelector*",
    "3 resourceRules NamedRuleWithOperations[], 4 excludeResourceRules NamedRuleWithOperations[], 7 matchPolicy str*",
  ],
  "admissionregistration.v1.MutatingAdmissionPolicy": ["1 metadata meta.v1.ObjectMeta, 2 spec MutatingAdmissionPolicySpec"],
  "admissionregistration.v1.MutatingAdmissionPolicyBinding": ["1 metadata meta.v1.ObjectMeta, 2 spec MutatingAdmissionPolicyBindingSpec"],
  "admissionregistration.v1.MutatingAdmissionPolicyBindingSpec": [
    "1 policyName str, 2 paramRef ParamRef*, 3 matchResources MatchResources*",
  ],
  "admissionregistration.v1.MutatingAdmissionPolicySpec": [
    "1 paramKind ParamKind*, 2 matchConstraints MatchResources*, 3 variables Variable[], 4 mutations Mutation[]",
    "5 failurePolicy str*, 6 matchConditions MatchCondition[], 7 reinvocationPolicy str",
  ],
  "admissionregistration.v1.MutatingWebhook": [
    "1 name str!, 2 clientConfig WebhookClientConfig!, 3 rules RuleWithOperations[], 4 failurePolicy str*",
    "9 matchPolicy str*, 5 namespaceSelector meta.v1.LabelSelector*, 11 objectSelector meta.v1.LabelSelector*",
    "6 sideEffects str*!, 7 timeoutSeconds i32*, 8 admissionReviewVersions str[]!, 10 reinvocationPolicy str*",
    "12 matchConditions MatchCondition[]",
  ],
  "admissionregistration.v1.MutatingWebhookConfiguration": ["1 metadata meta.v1.ObjectMeta, 2 webhooks MutatingWebhook[]"],
  "admissionregistration.v1.Mutation": ["2 patchType str!, 3 applyConfiguration ApplyConfiguration*, 4 jsonPatch JSONPatch*"],
  "admissionregistration.v1.NamedRuleWithOperations": ["1 resourceNames str[], 2 ... RuleWithOperations"],
  "admissionregistration.v1.ParamKind": ["1 apiVersion str, 2 kind str"],
  "admissionregistration.v1.ParamRef": ["1 name str, 2 namespace str, 3 selector meta.v1.LabelSelector*, 4 parameterNotFoundAction str*"],
  "admissionregistration.v1.Rule": ["1 apiGroups str[], 2 apiVersions str[], 3 resources str[], 4 scope str*"],
  "admissionregistration.v1.RuleWithOperations": ["1 operations str[], 2 ... Rule"],
  "admissionregistration.v1.ServiceReference": ["1 namespace str!, 2 name str!, 3 path str*, 4 port i32*"],
  "admissionregistration.v1.TypeChecking": ["1 expressionWarnings ExpressionWarning[]"],
  "admissionregistration.v1.ValidatingAdmissionPolicy": [
    "1 metadata meta.v1.ObjectMeta, 2 spec ValidatingAdmissionPolicySpec, 3 status ValidatingAdmissionPolicyStatus",
  ],
  "admissionregistration.v1.ValidatingAdmissionPolicyBinding": [
    "1 metadata meta.v1.ObjectMeta, 2 spec ValidatingAdmissionPolicyBindingSpec",
  ],
  "admissionregistration.v1.ValidatingAdmissionPolicyBindingSpec": [
    "1 policyName str, 2 paramRef ParamRef*, 3 matchResources MatchResources*, 4 validationActions str[]",
  ],
  "admissionregistration.v1.ValidatingAdmissionPolicySpec": [
    "1 paramKind ParamKind*, 2 matchConstraints MatchResources*, 3 validations Validation[], 4 failurePolicy str*",
    "5 auditAnnotations AuditAnnotation[], 6 matchConditions MatchCondition[], 7 variables Variable[]",
  ],
  "admissionregistration.v1.ValidatingAdmissionPolicyStatus": [
    "1 observedGeneration i64, 2 typeChecking TypeChecking*, 3 conditions meta.v1.Condition[]",
  ],
  "admissionregistration.v1.ValidatingWebhook": [
    "1 name str!, 2 clientConfig WebhookClientConfig!, 3 rules RuleWithOperations[], 4 failurePolicy str*",
    "9 matchPolicy str*, 5 namespaceSelector meta.v1.LabelSelector*, 10 objectSelector meta.v1.LabelSelector*",
    "6 sideEffects str*!, 7 timeoutSeconds i32*, 8 admissionReviewVersions str[]!, 11 matchConditions MatchCondition[]",
  ],
  "admissionregistration.v1.ValidatingWebhookConfiguration": ["1 metadata meta.v1.ObjectMeta, 2 webhooks ValidatingWebhook[]"],
  "admissionregistration.v1.Validation": ["1 expression str!, 2 message str, 3 reason str*, 4 messageExpression str"],
  "admissionregistration.v1.Variable": ["1 name str!, 2 expression str!"],
  "admissionregistration.v1.WebhookClientConfig": ["3 url str*, 1 service ServiceReference*, 2 caBundle bytes"],
  "apps.v1.ControllerRevision": ["1 metadata meta.v1.ObjectMeta, 2 data runtime.RawExtension, 3 revision i64!"],
  "apps.v1.DaemonSet": ["1 metadata meta.v1.ObjectMeta, 2 spec DaemonSetSpec, 3 status DaemonSetStatus"],
  "apps.v1.DaemonSetCondition": ["1 type str!, 2 status str!, 3 lastTransitionTime meta.v1.Time, 4 reason str, 5 message str"],
  "apps.v1.DaemonSetSpec": [
    "1 selector meta.v1.LabelSelector*!, 2 template core.v1.PodTemplateSpec!, 3 updateStrategy DaemonSetUpdateStrategy",
    "4 minReadySeconds i32, 6 revisionHistoryLimit i32*",
  ],
  "apps.v1.DaemonSetStatus": [
    "1 currentNumberScheduled i32!, 2 numberMisscheduled i32!, 3 desiredNumberScheduled i32!, 4 numberReady i32!",
    "5 observedGeneration i64, 6 updatedNumberScheduled i32, 7 numberAvailable i32, 8 numberUnavailable i32",
    "9 collisionCount i32*, 10 conditions DaemonSetCondition[]",
  ],
  "apps.v1.DaemonSetUpdateStrategy": ["1 type str, 2 rollingUpdate RollingUpdateDaemonSet*"],
  "apps.v1.Deployment": ["1 metadata meta.v1.ObjectMeta, 2 spec DeploymentSpec, 3 status DeploymentStatus"],
  "apps.v1.DeploymentCondition": [
    "1 type str!, 2 status str!, 6 lastUpdateTime meta.v1.Time, 7 lastTransitionTime meta.v1.Time, 4 reason str",
    "5 message str",
  ],
  "apps.v1.DeploymentSpec": [
    "1 replicas i32*, 2 selector meta.v1.LabelSelector*!, 3 template core.v1.PodTemplateSpec!",
    "4 strategy DeploymentStrategy, 5 minReadySeconds i32, 6 revisionHistoryLimit i32*, 7 paused bool",
    "9 progressDeadlineSeconds i32*",
  ],
  "apps.v1.DeploymentStatus": [
    "1 observedGeneration i64, 2 replicas i32, 3 updatedReplicas i32, 7 readyReplicas i32, 4 availableReplicas i32",
    "5 unavailableReplicas i32, 9 terminatingReplicas i32*, 6 conditions DeploymentCondition[], 8 collisionCount i32*",
  ],
  "apps.v1.DeploymentStrategy": ["1 type str, 2 rollingUpdate RollingUpdateDeployment*"],
  "apps.v1.ReplicaSet": ["1 metadata meta.v1.ObjectMeta, 2 spec ReplicaSetSpec, 3 status ReplicaSetStatus"],
  "apps.v1.ReplicaSetCondition": ["1 type str!, 2 status str!, 3 lastTransitionTime meta.v1.Time, 4 reason str, 5 message str"],
  "apps.v1.ReplicaSetSpec": [
    "1 replicas i32*, 4 minReadySeconds i32, 2 selector meta.v1.LabelSelector*!, 3 template core.v1.PodTemplateSpec",
  ],
  "apps.v1.ReplicaSetStatus": [
    "1 replicas i32!, 2 fullyLabeledReplicas i32, 4 readyReplicas i32, 5 availableReplicas i32, 7 terminatingReplicas i32*",
    "3 observedGeneration i64, 6 conditions ReplicaSetCondition[]",
  ],
  "apps.v1.RollingUpdateDaemonSet": ["1 maxUnavailable intstr.IntOrString*, 2 maxSurge intstr.IntOrString*"],
  "apps.v1.RollingUpdateDeployment": ["1 maxUnavailable intstr.IntOrString*, 2 maxSurge intstr.IntOrString*"],
  "apps.v1.RollingUpdateStatefulSetStrategy": ["1 partition i32*, 2 maxUnavailable intstr.IntOrString*"],
  "apps.v1.StatefulSet": ["1 metadata meta.v1.ObjectMeta, 2 spec StatefulSetSpec, 3 status StatefulSetStatus"],
  "apps.v1.StatefulSetCondition": ["1 type str!, 2 status str!, 3 lastTransitionTime meta.v1.Time, 4 reason str, 5 message str"],
  "apps.v1.StatefulSetOrdinals": ["1 start i32!"],
  "apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicy": ["1 whenDeleted str, 2 whenScaled str"],
  "apps.v1.StatefulSetSpec": [
    "1 replicas i32*, 2 selector meta.v1.LabelSelector*!, 3 template core.v1.PodTemplateSpec!",
    "4 volumeClaimTemplates core.v1.PersistentVolumeClaim[], 5 serviceName str!, 6 podManagementPolicy str",
    "7 updateStrategy StatefulSetUpdateStrategy, 8 revisionHistoryLimit i32*, 9 minReadySeconds i32",
    "10 persistentVolumeClaimRetentionPolicy StatefulSetPersistentVolumeClaimRetentionPolicy*",
    "11 ordinals StatefulSetOrdinals*",
  ],
  "apps.v1.StatefulSetStatus": [
    "1 observedGeneration i64, 2 replicas i32!, 3 readyReplicas i32, 4 currentReplicas i32, 5 updatedReplicas i32",
    "6 currentRevision str, 7 updateRevision str, 9 collisionCount i32*, 10 conditions StatefulSetCondition[]",
    "11 availableReplicas i32!",
  ],
  "apps.v1.StatefulSetUpdateStrategy": ["1 type str, 2 rollingUpdate RollingUpdateStatefulSetStrategy*"],
  "authentication.v1.BoundObjectReference": ["1 kind str, 2 apiVersion str, 3 name str, 4 uid str"],
  "authentication.v1.ExtraValue": ["@items, 1 items str[]"],
  "authentication.v1.SelfSubjectReview": ["1 metadata meta.v1.ObjectMeta, 2 status SelfSubjectReviewStatus"],
  "authentication.v1.SelfSubjectReviewStatus": ["1 userInfo UserInfo"],
  "authentication.v1.TokenRequest": ["1 metadata meta.v1.ObjectMeta, 2 spec TokenRequestSpec!, 3 status TokenRequestStatus"],
  "authentication.v1.TokenRequestSpec": ["1 audiences str[]!, 4 expirationSeconds i64*!, 3 boundObjectRef BoundObjectReference*!"],
  "authentication.v1.TokenRequestStatus": ["1 token str!, 2 expirationTimestamp meta.v1.Time!"],
  "authentication.v1.TokenReview": ["1 metadata meta.v1.ObjectMeta, 2 spec TokenReviewSpec!, 3 status TokenReviewStatus"],
  "authentication.v1.TokenReviewSpec": ["1 token str, 2 audiences str[]"],
  "authentication.v1.TokenReviewStatus": ["1 authenticated bool, 2 user UserInfo, 4 audiences str[], 3 error str"],
  "authentication.v1.UserInfo": ["1 username str, 2 uid str, 3 groups str[], 4 extra map<ExtraValue>"],
  "authorization.v1.ExtraValue": ["@items, 1 items str[]"],
  "authorization.v1.FieldSelectorAttributes": ["1 rawSelector str, 2 requirements meta.v1.FieldSelectorRequirement[]"],
  "authorization.v1.LabelSelectorAttributes": ["1 rawSelector str, 2 requirements meta.v1.LabelSelectorRequirement[]"],
  "authorization.v1.LocalSubjectAccessReview": [
    "1 metadata meta.v1.ObjectMeta, 2 spec SubjectAccessReviewSpec!, 3 status SubjectAccessReviewStatus",
  ],
  "authorization.v1.NonResourceAttributes": ["1 path str, 2 verb str"],
  "authorization.v1.NonResourceRule": ["1 verbs str[]!, 2 nonResourceURLs str[]"],
  "authorization.v1.ResourceAttributes": [
    "1 namespace str, 2 verb str, 3 group str, 4 version str, 5 resource str, 6 subresource str, 7 name str",
    "8 fieldSelector FieldSelectorAttributes*, 9 labelSelector LabelSelectorAttributes*",
  ],
  "authorization.v1.ResourceRule": ["1 verbs str[]!, 2 apiGroups str[], 3 resources str[], 4 resourceNames str[]"],
  "authorization.v1.SelfSubjectAccessReview": [
    "1 metadata meta.v1.ObjectMeta, 2 spec SelfSubjectAccessReviewSpec!, 3 status SubjectAccessReviewStatus",
  ],
  "authorization.v1.SelfSubjectAccessReviewSpec": [
    "1 resourceAttributes ResourceAttributes*, 2 nonResourceAttributes NonResourceAttributes*",
  ],
  "authorization.v1.SelfSubjectRulesReview": [
    "1 metadata meta.v1.ObjectMeta, 2 spec SelfSubjectRulesReviewSpec!, 3 status SubjectRulesReviewStatus",
  ],
  "authorization.v1.SelfSubjectRulesReviewSpec": ["1 namespace str"],
  "authorization.v1.SubjectAccessReview": [
    "1 metadata meta.v1.ObjectMeta, 2 spec SubjectAccessReviewSpec!, 3 status SubjectAccessReviewStatus",
  ],
  "authorization.v1.SubjectAccessReviewSpec": [
    "1 resourceAttributes ResourceAttributes*, 2 nonResourceAttributes NonResourceAttributes*, 3 user str, 4 groups str[]",
    "5 extra map<ExtraValue>, 6 uid str",
  ],
  "authorization.v1.SubjectAccessReviewStatus": ["1 allowed bool!, 4 denied bool, 2 reason str, 3 evaluationError str"],
  "authorization.v1.SubjectRulesReviewStatus": [
    "1 resourceRules ResourceRule[]!, 2 nonResourceRules NonResourceRule[]!, 3 incomplete bool!, 4 evaluationError str",
  ],
  "autoscaling.v1.CrossVersionObjectReference": ["1 kind str!, 2 name str!, 3 apiVersion str"],
  "autoscaling.v1.HorizontalPodAutoscaler": [
    "1 metadata meta.v1.ObjectMeta, 2 spec HorizontalPodAutoscalerSpec, 3 status HorizontalPodAutoscalerStatus",
  ],
  "autoscaling.v1.HorizontalPodAutoscalerSpec": [
    "1 scaleTargetRef CrossVersionObjectReference!, 2 minReplicas i32*, 3 maxReplicas i32!",
    "4 targetCPUUtilizationPercentage i32*",
  ],
  "autoscaling.v1.HorizontalPodAutoscalerStatus": [
    "1 observedGeneration i64*, 2 lastScaleTime meta.v1.Time*, 3 currentReplicas i32!, 4 desiredReplicas i32!",
    "5 currentCPUUtilizationPercentage i32*",
  ],
  "autoscaling.v1.Scale": ["1 metadata meta.v1.ObjectMeta, 2 spec ScaleSpec, 3 status ScaleStatus"],
  "autoscaling.v1.ScaleSpec": ["1 replicas i32"],
  "autoscaling.v1.ScaleStatus": ["1 replicas i32!, 2 selector str"],
  "autoscaling.v2.ContainerResourceMetricSource": ["1 name str!, 2 target MetricTarget!, 3 container str!"],
  "autoscaling.v2.ContainerResourceMetricStatus": ["1 name str!, 2 current MetricValueStatus!, 3 container str!"],
  "autoscaling.v2.CrossVersionObjectReference": ["1 kind str!, 2 name str!, 3 apiVersion str"],
  "autoscaling.v2.ExternalMetricSource": ["1 metric MetricIdentifier!, 2 target MetricTarget!"],
  "autoscaling.v2.ExternalMetricStatus": ["1 metric MetricIdentifier!, 2 current MetricValueStatus!"],
  "autoscaling.v2.HPAScalingPolicy": ["1 type str!, 2 value i32!, 3 periodSeconds i32!"],
  "autoscaling.v2.HPAScalingRules": [
    "3 stabilizationWindowSeconds i32*, 1 selectPolicy str*, 2 policies HPAScalingPolicy[], 4 tolerance resource.Quantity*",
  ],
  "autoscaling.v2.HorizontalPodAutoscaler": [
    "1 metadata meta.v1.ObjectMeta, 2 spec HorizontalPodAutoscalerSpec, 3 status HorizontalPodAutoscalerStatus",
  ],
  "autoscaling.v2.HorizontalPodAutoscalerBehavior": ["1 scaleUp HPAScalingRules*, 2 scaleDown HPAScalingRules*"],
  "autoscaling.v2.HorizontalPodAutoscalerCondition": [
    "1 type str!, 2 status str!, 3 lastTransitionTime meta.v1.Time, 4 reason str, 5 message str",
  ],
  "autoscaling.v2.HorizontalPodAutoscalerSpec": [
    "1 scaleTargetRef CrossVersionObjectReference!, 2 minReplicas i32*, 3 maxReplicas i32!, 4 metrics MetricSpec[]",
    "5 behavior HorizontalPodAutoscalerBehavior*",
  ],
  "autoscaling.v2.HorizontalPodAutoscalerStatus": [
    "1 observedGeneration i64*, 2 lastScaleTime meta.v1.Time*, 3 currentReplicas i32, 4 desiredReplicas i32!",
    "5 currentMetrics MetricStatus[]!, 6 conditions HorizontalPodAutoscalerCondition[]",
  ],
  "autoscaling.v2.MetricIdentifier": ["1 name str!, 2 selector meta.v1.LabelSelector*"],
  "autoscaling.v2.MetricSpec": [
    "1 type str!, 2 object ObjectMetricSource*, 3 pods PodsMetricSource*, 4 resource ResourceMetricSource*",
    "7 containerResource ContainerResourceMetricSource*, 5 external ExternalMetricSource*",
  ],
  "autoscaling.v2.MetricStatus": [
    "1 type str!, 2 object ObjectMetricStatus*, 3 pods PodsMetricStatus*, 4 resource ResourceMetricStatus*",
    "7 containerResource ContainerResourceMetricStatus*, 5 external ExternalMetricStatus*",
  ],
  "autoscaling.v2.MetricTarget": ["1 type str!, 2 value resource.Quantity*, 3 averageValue resource.Quantity*, 4 averageUtilization i32*"],
  "autoscaling.v2.MetricValueStatus": ["1 value resource.Quantity*, 2 averageValue resource.Quantity*, 3 averageUtilization i32*"],
  "autoscaling.v2.ObjectMetricSource": [
    "1 describedObject CrossVersionObjectReference!, 2 target MetricTarget!, 3 metric MetricIdentifier!",
  ],
  "autoscaling.v2.ObjectMetricStatus": [
    "1 metric MetricIdentifier!, 2 current MetricValueStatus!, 3 describedObject CrossVersionObjectReference!",
  ],
  "autoscaling.v2.PodsMetricSource": ["1 metric MetricIdentifier!, 2 target MetricTarget!"],
  "autoscaling.v2.PodsMetricStatus": ["1 metric MetricIdentifier!, 2 current MetricValueStatus!"],
  "autoscaling.v2.ResourceMetricSource": ["1 name str!, 2 target MetricTarget!"],
  "autoscaling.v2.ResourceMetricStatus": ["1 name str!, 2 current MetricValueStatus!"],
  "batch.v1.CronJob": ["1 metadata meta.v1.ObjectMeta, 2 spec CronJobSpec, 3 status CronJobStatus"],
  "batch.v1.CronJobSpec": [
    "1 schedule str!, 8 timeZone str*, 2 startingDeadlineSeconds i64*, 3 concurrencyPolicy str, 4 suspend bool*",
    "5 jobTemplate JobTemplateSpec!, 6 successfulJobsHistoryLimit i32*, 7 failedJobsHistoryLimit i32*",
  ],
  "batch.v1.CronJobStatus": ["1 active core.v1.ObjectReference[], 4 lastScheduleTime meta.v1.Time*, 5 lastSuccessfulTime meta.v1.Time*"],
  "batch.v1.Job": ["1 metadata meta.v1.ObjectMeta, 2 spec JobSpec, 3 status JobStatus"],
  "batch.v1.JobCondition": [
    "1 type str!, 2 status str!, 3 lastProbeTime meta.v1.Time, 4 lastTransitionTime meta.v1.Time, 5 reason str",
    "6 message str",
  ],
  "batch.v1.JobSpec": [
    "1 parallelism i32*, 2 completions i32*, 3 activeDeadlineSeconds i64*, 11 podFailurePolicy PodFailurePolicy*",
    "16 successPolicy SuccessPolicy*, 7 backoffLimit i32*, 12 backoffLimitPerIndex i32*, 13 maxFailedIndexes i32*",
    "4 selector meta.v1.LabelSelector*, 5 manualSelector bool*, 6 template core.v1.PodTemplateSpec!",
    "8 ttlSecondsAfterFinished i32*, 9 completionMode str*, 10 suspend bool*, 14 podReplacementPolicy str*",
    "15 managedBy str*",
  ],
  "batch.v1.JobStatus": [
    "1 conditions JobCondition[], 2 startTime meta.v1.Time*, 3 completionTime meta.v1.Time*, 4 active i32, 5 succeeded i32",
    "6 failed i32, 11 terminating i32*, 7 completedIndexes str, 10 failedIndexes str*",
    "8 uncountedTerminatedPods UncountedTerminatedPods*, 9 ready i32*",
  ],
  "batch.v1.JobTemplateSpec": ["1 metadata meta.v1.ObjectMeta, 2 spec JobSpec"],
  "batch.v1.PodFailurePolicy": ["1 rules PodFailurePolicyRule[]!"],
  "batch.v1.PodFailurePolicyOnExitCodesRequirement": ["1 containerName str*, 2 operator str!, 3 values i32[]!"],
  "batch.v1.PodFailurePolicyOnPodConditionsPattern": ["1 type str!, 2 status str!"],
  "batch.v1.PodFailurePolicyRule": [
    "1 action str!, 2 onExitCodes PodFailurePolicyOnExitCodesRequirement*",
    "3 onPodConditions PodFailurePolicyOnPodConditionsPattern[]",
  ],
  "batch.v1.SuccessPolicy": ["1 rules SuccessPolicyRule[]!"],
  "batch.v1.SuccessPolicyRule": ["1 succeededIndexes str*, 2 succeededCount i32*"],
  "batch.v1.UncountedTerminatedPods": ["1 succeeded str[], 2 failed str[]"],
  "certificates.v1.CertificateSigningRequest": [
    "1 metadata meta.v1.ObjectMeta, 2 spec CertificateSigningRequestSpec!, 3 status CertificateSigningRequestStatus",
  ],
  "certificates.v1.CertificateSigningRequestCondition": [
    "1 type str!, 6 status str!, 2 reason str, 3 message str, 4 lastUpdateTime meta.v1.Time",
    "5 lastTransitionTime meta.v1.Time",
  ],
  "certificates.v1.CertificateSigningRequestSpec": [
    "1 request bytes!, 7 signerName str!, 8 expirationSeconds i32*, 5 usages str[], 2 username str, 3 uid str",
    "4 groups str[], 6 extra map<ExtraValue>",
  ],
  "certificates.v1.CertificateSigningRequestStatus": ["1 conditions CertificateSigningRequestCondition[], 2 certificate bytes"],
  "certificates.v1.ExtraValue": ["@items, 1 items str[]"],
  "coordination.v1.Lease": ["1 metadata meta.v1.ObjectMeta, 2 spec LeaseSpec"],
  "coordination.v1.LeaseSpec": [
    "1 holderIdentity str*, 2 leaseDurationSeconds i32*, 3 acquireTime meta.v1.MicroTime*, 4 renewTime meta.v1.MicroTime*",
    "5 leaseTransitions i32*, 6 strategy str*, 7 preferredHolder str*",
  ],
  "core.v1.AWSElasticBlockStoreVolumeSource": ["1 volumeID str!, 2 fsType str, 3 partition i32, 4 readOnly bool"],
  "core.v1.Affinity": ["1 nodeAffinity NodeAffinity*, 2 podAffinity PodAffinity*, 3 podAntiAffinity PodAntiAffinity*"],
  "core.v1.AppArmorProfile": ["1 type str!, 2 localhostProfile str*"],
  "core.v1.AttachedVolume": ["1 name str!, 2 devicePath str!"],
  "core.v1.AzureDiskVolumeSource": ["1 diskName str!, 2 diskURI str!, 3 cachingMode str*, 4 fsType str*, 5 readOnly bool*, 6 kind str*"],
  "core.v1.AzureFilePersistentVolumeSource": ["1 secretName str!, 2 shareName str!, 3 readOnly bool, 4 secretNamespace str*!"],
  "core.v1.AzureFileVolumeSource": ["1 secretName str!, 2 shareName str!, 3 readOnly bool"],
  "core.v1.Binding": ["1 metadata meta.v1.ObjectMeta, 2 target ObjectReference!"],
  "core.v1.CSIPersistentVolumeSource": [
    "1 driver str!, 2 volumeHandle str!, 3 readOnly bool, 4 fsType str, 5 volumeAttributes map<str>",
    "6 controllerPublishSecretRef SecretReference*, 7 nodeStageSecretRef SecretReference*",
    "8 nodePublishSecretRef SecretReference*, 9 controllerExpandSecretRef SecretReference*",
    "10 nodeExpandSecretRef SecretReference*",
  ],
  "core.v1.CSIVolumeSource": [
    "1 driver str!, 2 readOnly bool*, 3 fsType str*, 4 volumeAttributes map<str>",
    "5 nodePublishSecretRef LocalObjectReference*",
  ],
  "core.v1.Capabilities": ["1 add str[], 2 drop str[]"],
  "core.v1.CephFSPersistentVolumeSource": [
    "1 monitors str[]!, 2 path str, 3 user str, 4 secretFile str, 5 secretRef SecretReference*, 6 readOnly bool",
  ],
  "core.v1.CephFSVolumeSource": [
    "1 monitors str[]!, 2 path str, 3 user str, 4 secretFile str, 5 secretRef LocalObjectReference*, 6 readOnly bool",
  ],
  "core.v1.CinderPersistentVolumeSource": ["1 volumeID str!, 2 fsType str, 3 readOnly bool, 4 secretRef SecretReference*"],
  "core.v1.CinderVolumeSource": ["1 volumeID str!, 2 fsType str, 3 readOnly bool, 4 secretRef LocalObjectReference*"],
  "core.v1.ClientIPConfig": ["1 timeoutSeconds i32*"],
  "core.v1.ClusterTrustBundleProjection": [
    "1 name str*, 2 signerName str*, 3 labelSelector meta.v1.LabelSelector*, 5 optional bool*, 4 path str!",
  ],
  "core.v1.ComponentCondition": ["1 type str!, 2 status str!, 3 message str, 4 error str"],
  "core.v1.ComponentStatus": ["1 metadata meta.v1.ObjectMeta, 2 conditions ComponentCondition[]"],
  "core.v1.ConfigMap": ["1 metadata meta.v1.ObjectMeta, 4 immutable bool*, 2 data map<str>, 3 binaryData map<bytes>"],
  "core.v1.ConfigMapEnvSource": ["1 ... LocalObjectReference, 2 optional bool*"],
  "core.v1.ConfigMapKeySelector": ["1 ... LocalObjectReference, 2 key str!, 3 optional bool*"],
  "core.v1.ConfigMapNodeConfigSource": ["1 namespace str!, 2 name str!, 3 uid str, 4 resourceVersion str, 5 kubeletConfigKey str!"],
  "core.v1.ConfigMapProjection": ["1 ... LocalObjectReference, 2 items KeyToPath[], 4 optional bool*"],
  "core.v1.ConfigMapVolumeSource": ["1 ... LocalObjectReference, 2 items KeyToPath[], 3 defaultMode i32*, 4 optional bool*"],
  "core.v1.Container": [
    "1 name str!, 2 image str, 3 command str[], 4 args str[], 5 workingDir str, 6 ports ContainerPort[]",
    "19 envFrom EnvFromSource[], 7 env EnvVar[], 8 resources ResourceRequirements, 23 resizePolicy ContainerResizePolicy[]",
    "24 restartPolicy str*, 25 restartPolicyRules ContainerRestartRule[], 9 volumeMounts VolumeMount[]",
    "21 volumeDevices VolumeDevice[], 10 livenessProbe Probe*, 11 readinessProbe Probe*, 22 startupProbe Probe*",
    "12 lifecycle Lifecycle*, 13 terminationMessagePath str, 20 terminationMessagePolicy str, 14 imagePullPolicy str",
    "15 securityContext SecurityContext*, 16 stdin bool, 17 stdinOnce bool, 18 tty bool",
  ],
  "core.v1.ContainerExtendedResourceRequest": ["1 containerName str!, 2 resourceName str!, 3 requestName str!"],
  "core.v1.ContainerImage": ["1 names str[]!, 2 sizeBytes i64"],
  "core.v1.ContainerPort": ["1 name str, 2 hostPort i32, 3 containerPort i32!, 4 protocol str, 5 hostIP str"],
  "core.v1.ContainerResizePolicy": ["1 resourceName str!, 2 restartPolicy str!"],
  "core.v1.ContainerRestartRule": ["1 action str, 2 exitCodes ContainerRestartRuleOnExitCodes*"],
  "core.v1.ContainerRestartRuleOnExitCodes": ["1 operator str, 2 values i32[]"],
  "core.v1.ContainerState": ["1 waiting ContainerStateWaiting*, 2 running ContainerStateRunning*, 3 terminated ContainerStateTerminated*"],
  "core.v1.ContainerStateRunning": ["1 startedAt meta.v1.Time"],
  "core.v1.ContainerStateTerminated": [
    "1 exitCode i32!, 2 signal i32, 3 reason str, 4 message str, 5 startedAt meta.v1.Time, 6 finishedAt meta.v1.Time",
    "7 containerID str",
  ],
  "core.v1.ContainerStateWaiting": ["1 reason str, 2 message str"],
  "core.v1.ContainerStatus": [
    "1 name str!, 2 state ContainerState, 3 lastState ContainerState, 4 ready bool!, 5 restartCount i32!, 6 image str!",
    "7 imageID str!, 8 containerID str, 9 started bool*, 10 allocatedResources map<resource.Quantity>",
    "11 resources ResourceRequirements*, 12 volumeMounts VolumeMountStatus[], 13 user ContainerUser*",
    "14 allocatedResourcesStatus ResourceStatus[], 15 stopSignal str*",
  ],
  "core.v1.ContainerUser": ["1 linux LinuxContainerUser*"],
  "core.v1.DaemonEndpoint": ["1 Port i32!"],
  "core.v1.DownwardAPIProjection": ["1 items DownwardAPIVolumeFile[]"],
  "core.v1.DownwardAPIVolumeFile": ["1 path str!, 2 fieldRef ObjectFieldSelector*, 3 resourceFieldRef ResourceFieldSelector*, 4 mode i32*"],
  "core.v1.DownwardAPIVolumeSource": ["1 items DownwardAPIVolumeFile[], 2 defaultMode i32*"],
  "core.v1.EmptyDirVolumeSource": ["1 medium str, 2 sizeLimit resource.Quantity*"],
  "core.v1.EndpointAddress": ["1 ip str!, 3 hostname str, 4 nodeName str*, 2 targetRef ObjectReference*"],
  "core.v1.EndpointPort": ["1 name str, 2 port i32!, 3 protocol str, 4 appProtocol str*"],
  "core.v1.EndpointSubset": ["1 addresses EndpointAddress[], 2 notReadyAddresses EndpointAddress[], 3 ports EndpointPort[]"],
  "core.v1.Endpoints": ["1 metadata meta.v1.ObjectMeta, 2 subsets EndpointSubset[]"],
  "core.v1.EnvFromSource": ["1 prefix str, 2 configMapRef ConfigMapEnvSource*, 3 secretRef SecretEnvSource*"],
  "core.v1.EnvVar": ["1 name str!, 2 value str, 3 valueFrom EnvVarSource*"],
  "core.v1.EnvVarSource": [
    "1 fieldRef ObjectFieldSelector*, 2 resourceFieldRef ResourceFieldSelector*, 3 configMapKeyRef ConfigMapKeySelector*",
    "4 secretKeyRef SecretKeySelector*, 5 fileKeyRef FileKeySelector*",
  ],
  "core.v1.EphemeralContainer": ["1 ... EphemeralContainerCommon, 2 targetContainerName str"],
  "core.v1.EphemeralContainerCommon": [
    "1 name str!, 2 image str, 3 command str[], 4 args str[], 5 workingDir str, 6 ports ContainerPort[]",
    "19 envFrom EnvFromSource[], 7 env EnvVar[], 8 resources ResourceRequirements, 23 resizePolicy ContainerResizePolicy[]",
    "24 restartPolicy str*, 25 restartPolicyRules ContainerRestartRule[], 9 volumeMounts VolumeMount[]",
    "21 volumeDevices VolumeDevice[], 10 livenessProbe Probe*, 11 readinessProbe Probe*, 22 startupProbe Probe*",
    "12 lifecycle Lifecycle*, 13 terminationMessagePath str, 20 terminationMessagePolicy str, 14 imagePullPolicy str",
    "15 securityContext SecurityContext*, 16 stdin bool, 17 stdinOnce bool, 18 tty bool",
  ],
  "core.v1.EphemeralVolumeSource": ["1 volumeClaimTemplate PersistentVolumeClaimTemplate*"],
  "core.v1.Event": [
    "1 metadata meta.v1.ObjectMeta!, 2 involvedObject ObjectReference!, 3 reason str, 4 message str, 5 source EventSource",
    "6 firstTimestamp meta.v1.Time, 7 lastTimestamp meta.v1.Time, 8 count i32, 9 type str, 10 eventTime meta.v1.MicroTime",
    "11 series EventSeries*, 12 action str, 13 related ObjectReference*, 14 reportingComponent str!",
    "15 reportingInstance str!",
  ],
  "core.v1.EventSeries": ["1 count i32, 2 lastObservedTime meta.v1.MicroTime"],
  "core.v1.EventSource": ["1 component str, 2 host str"],
  "core.v1.ExecAction": ["1 command str[]"],
  "core.v1.FCVolumeSource": ["1 targetWWNs str[], 2 lun i32*, 3 fsType str, 4 readOnly bool, 5 wwids str[]"],
  "core.v1.FileKeySelector": ["1 volumeName str!, 2 path str!, 3 key str!, 4 optional bool*"],
  "core.v1.FlexPersistentVolumeSource": ["1 driver str!, 2 fsType str, 3 secretRef SecretReference*, 4 readOnly bool, 5 options map<str>"],
  "core.v1.FlexVolumeSource": ["1 driver str!, 2 fsType str, 3 secretRef LocalObjectReference*, 4 readOnly bool, 5 options map<str>"],
  "core.v1.FlockerVolumeSource": ["1 datasetName str, 2 datasetUUID str"],
  "core.v1.GCEPersistentDiskVolumeSource": ["1 pdName str!, 2 fsType str, 3 partition i32, 4 readOnly bool"],
  "core.v1.GRPCAction": ["1 port i32!, 2 service str*!"],
  "core.v1.GitRepoVolumeSource": ["1 repository str!, 2 revision str, 3 directory str"],
  "core.v1.GlusterfsPersistentVolumeSource": ["1 endpoints str!, 2 path str!, 3 readOnly bool, 4 endpointsNamespace str*"],
  "core.v1.GlusterfsVolumeSource": ["1 endpoints str!, 2 path str!, 3 readOnly bool"],
  "core.v1.HTTPGetAction": ["1 path str, 2 port intstr.IntOrString!, 3 host str, 4 scheme str, 5 httpHeaders HTTPHeader[]"],
  "core.v1.HTTPHeader": ["1 name str!, 2 value str!"],
  "core.v1.HostAlias": ["1 ip str!, 2 hostnames str[]"],
  "core.v1.HostIP": ["1 ip str!"],
  "core.v1.HostPathVolumeSource": ["1 path str!, 2 type str*"],
  "core.v1.ISCSIPersistentVolumeSource": [
    "1 targetPortal str!, 2 iqn str!, 3 lun i32!, 4 iscsiInterface str, 5 fsType str, 6 readOnly bool, 7 portals str[]",
    "8 chapAuthDiscovery bool, 11 chapAuthSession bool, 10 secretRef SecretReference*, 12 initiatorName str*",
  ],
  "core.v1.ISCSIVolumeSource": [
    "1 targetPortal str!, 2 iqn str!, 3 lun i32!, 4 iscsiInterface str, 5 fsType str, 6 readOnly bool, 7 portals str[]",
    "8 chapAuthDiscovery bool, 11 chapAuthSession bool, 10 secretRef LocalObjectReference*, 12 initiatorName str*",
  ],
  "core.v1.ImageVolumeSource": ["1 reference str, 2 pullPolicy str"],
  "core.v1.ImageVolumeStatus": ["1 imageRef str"],
  "core.v1.KeyToPath": ["1 key str!, 2 path str!, 3 mode i32*"],
  "core.v1.Lifecycle": ["1 postStart LifecycleHandler*, 2 preStop LifecycleHandler*, 3 stopSignal str*"],
  "core.v1.LifecycleHandler": ["1 exec ExecAction*, 2 httpGet HTTPGetAction*, 3 tcpSocket TCPSocketAction*, 4 sleep SleepAction*"],
  "core.v1.LimitRange": ["1 metadata meta.v1.ObjectMeta, 2 spec LimitRangeSpec"],
  "core.v1.LimitRangeItem": [
    "1 type str!, 2 max map<resource.Quantity>, 3 min map<resource.Quantity>, 4 default map<resource.Quantity>",
    "5 defaultRequest map<resource.Quantity>, 6 maxLimitRequestRatio map<resource.Quantity>",
  ],
  "core.v1.LimitRangeSpec": ["1 limits LimitRangeItem[]!"],
  "core.v1.LinuxContainerUser": ["1 uid i64!, 2 gid i64!, 3 supplementalGroups i64[]"],
  "core.v1.LoadBalancerIngress": ["1 ip str, 2 hostname str, 3 ipMode str*, 4 ports PortStatus[]"],
  "core.v1.LoadBalancerStatus": ["1 ingress LoadBalancerIngress[]"],
  "core.v1.LocalObjectReference": ["1 name str"],
  "core.v1.LocalVolumeSource": ["1 path str!, 2 fsType str*"],
  "core.v1.ModifyVolumeStatus": ["1 targetVolumeAttributesClassName str, 2 status str!"],
  "core.v1.NFSVolumeSource": ["1 server str!, 2 path str!, 3 readOnly bool"],
  "core.v1.Namespace": ["1 metadata meta.v1.ObjectMeta, 2 spec NamespaceSpec, 3 status NamespaceStatus"],
  "core.v1.NamespaceCondition": ["1 type str!, 2 status str!, 4 lastTransitionTime meta.v1.Time, 5 reason str, 6 message str"],
  "core.v1.NamespaceSpec": ["1 finalizers str[]"],
  "core.v1.NamespaceStatus": ["1 phase str, 2 conditions NamespaceCondition[]"],
  "core.v1.Node": ["1 metadata meta.v1.ObjectMeta, 2 spec NodeSpec, 3 status NodeStatus"],
  "core.v1.NodeAddress": ["1 type str!, 2 address str!"],
  "core.v1.NodeAffinity": [
    "1 requiredDuringSchedulingIgnoredDuringExecution NodeSelector*",
    "2 preferredDuringSchedulingIgnoredDuringExecution PreferredSchedulingTerm[]",
  ],
  "core.v1.NodeAllocatableResourceClaimStatus": ["1 resourceClaimName str!, 2 containers str[], 3 resources map<resource.Quantity>!"],
  "core.v1.NodeCondition": [
    "1 type str!, 2 status str!, 3 lastHeartbeatTime meta.v1.Time, 4 lastTransitionTime meta.v1.Time, 5 reason str",
    "6 message str",
  ],
  "core.v1.NodeConfigSource": ["2 configMap ConfigMapNodeConfigSource*"],
  "core.v1.NodeConfigStatus": ["1 assigned NodeConfigSource*, 2 active NodeConfigSource*, 3 lastKnownGood NodeConfigSource*, 4 error str"],
  "core.v1.NodeDaemonEndpoints": ["1 kubeletEndpoint DaemonEndpoint"],
  "core.v1.NodeFeatures": ["1 supplementalGroupsPolicy bool*"],
  "core.v1.NodeRuntimeHandler": ["1 name str!, 2 features NodeRuntimeHandlerFeatures*"],
  "core.v1.NodeRuntimeHandlerFeatures": ["1 recursiveReadOnlyMounts bool*, 2 userNamespaces bool*"],
  "core.v1.NodeSelector": ["1 nodeSelectorTerms NodeSelectorTerm[]!"],
  "core.v1.NodeSelectorRequirement": ["1 key str!, 2 operator str!, 3 values str[]"],
  "core.v1.NodeSelectorTerm": ["1 matchExpressions NodeSelectorRequirement[], 2 matchFields NodeSelectorRequirement[]"],
  "core.v1.NodeSpec": [
    "1 podCIDR str, 7 podCIDRs str[], 3 providerID str, 4 unschedulable bool, 5 taints Taint[]",
    "6 configSource NodeConfigSource*, 2 externalID str",
  ],
  "core.v1.NodeStatus": [
    "1 capacity map<resource.Quantity>, 2 allocatable map<resource.Quantity>, 3 phase str, 4 conditions NodeCondition[]",
    "5 addresses NodeAddress[], 6 daemonEndpoints NodeDaemonEndpoints, 7 nodeInfo NodeSystemInfo, 8 images ContainerImage[]",
    "9 volumesInUse str[], 10 volumesAttached AttachedVolume[], 11 config NodeConfigStatus*",
    "12 runtimeHandlers NodeRuntimeHandler[], 13 features NodeFeatures*, 14 declaredFeatures str[]",
  ],
  "core.v1.NodeSwapStatus": ["1 capacity i64*"],
  "core.v1.NodeSystemInfo": [
    "1 machineID str!, 2 systemUUID str!, 3 bootID str!, 4 kernelVersion str!, 5 osImage str!",
    "6 containerRuntimeVersion str!, 7 kubeletVersion str!, 8 kubeProxyVersion str!, 9 operatingSystem str!",
    "10 architecture str!, 11 swap NodeSwapStatus*",
  ],
  "core.v1.ObjectFieldSelector": ["1 apiVersion str, 2 fieldPath str!"],
  "core.v1.ObjectReference": [
    "1 kind str, 2 namespace str, 3 name str, 4 uid str, 5 apiVersion str, 6 resourceVersion str, 7 fieldPath str",
  ],
  "core.v1.PersistentVolume": ["1 metadata meta.v1.ObjectMeta, 2 spec PersistentVolumeSpec, 3 status PersistentVolumeStatus"],
  "core.v1.PersistentVolumeClaim": [
    "1 metadata meta.v1.ObjectMeta, 2 spec PersistentVolumeClaimSpec, 3 status PersistentVolumeClaimStatus",
  ],
  "core.v1.PersistentVolumeClaimCondition": [
    "1 type str!, 2 status str!, 3 lastProbeTime meta.v1.Time, 4 lastTransitionTime meta.v1.Time, 5 reason str",
    "6 message str",
  ],
  "core.v1.PersistentVolumeClaimSpec": [
    "1 accessModes str[], 4 selector meta.v1.LabelSelector*, 2 resources VolumeResourceRequirements, 3 volumeName str",
    "5 storageClassName str*, 6 volumeMode str*, 7 dataSource TypedLocalObjectReference*",
    "8 dataSourceRef TypedObjectReference*, 9 volumeAttributesClassName str*",
  ],
  "core.v1.PersistentVolumeClaimStatus": [
    "1 phase str, 2 accessModes str[], 3 capacity map<resource.Quantity>, 4 conditions PersistentVolumeClaimCondition[]",
    "5 allocatedResources map<resource.Quantity>, 7 allocatedResourceStatuses map<str>",
    "8 currentVolumeAttributesClassName str*, 9 modifyVolumeStatus ModifyVolumeStatus*",
  ],
  "core.v1.PersistentVolumeClaimTemplate": ["1 metadata meta.v1.ObjectMeta, 2 spec PersistentVolumeClaimSpec!"],
  "core.v1.PersistentVolumeClaimVolumeSource": ["1 claimName str!, 2 readOnly bool"],
  "core.v1.PersistentVolumeSource": [
    "1 gcePersistentDisk GCEPersistentDiskVolumeSource*, 2 awsElasticBlockStore AWSElasticBlockStoreVolumeSource*",
    "3 hostPath HostPathVolumeSource*, 4 glusterfs GlusterfsPersistentVolumeSource*, 5 nfs NFSVolumeSource*",
    "6 rbd RBDPersistentVolumeSource*, 7 iscsi ISCSIPersistentVolumeSource*, 8 cinder CinderPersistentVolumeSource*",
    "9 cephfs CephFSPersistentVolumeSource*, 10 fc FCVolumeSource*, 11 flocker FlockerVolumeSource*",
    "12 flexVolume FlexPersistentVolumeSource*, 13 azureFile AzureFilePersistentVolumeSource*",
    "14 vsphereVolume VsphereVirtualDiskVolumeSource*, 15 quobyte QuobyteVolumeSource*, 16 azureDisk AzureDiskVolumeSource*",
    "17 photonPersistentDisk PhotonPersistentDiskVolumeSource*, 18 portworxVolume PortworxVolumeSource*",
    "19 scaleIO ScaleIOPersistentVolumeSource*, 20 local LocalVolumeSource*, 21 storageos StorageOSPersistentVolumeSource*",
    "22 csi CSIPersistentVolumeSource*",
  ],
  "core.v1.PersistentVolumeSpec": [
    "1 capacity map<resource.Quantity>, 2 ... PersistentVolumeSource, 3 accessModes str[], 4 claimRef ObjectReference*",
    "5 persistentVolumeReclaimPolicy str, 6 storageClassName str, 7 mountOptions str[], 8 volumeMode str*",
    "9 nodeAffinity VolumeNodeAffinity*, 10 volumeAttributesClassName str*",
  ],
  "core.v1.PersistentVolumeStatus": ["1 phase str, 2 message str, 3 reason str, 4 lastPhaseTransitionTime meta.v1.Time*"],
  "core.v1.PhotonPersistentDiskVolumeSource": ["1 pdID str!, 2 fsType str"],
  "core.v1.Pod": ["1 metadata meta.v1.ObjectMeta, 2 spec PodSpec, 3 status PodStatus"],
  "core.v1.PodAffinity": [
    "1 requiredDuringSchedulingIgnoredDuringExecution PodAffinityTerm[]",
    "2 preferredDuringSchedulingIgnoredDuringExecution WeightedPodAffinityTerm[]",
  ],
  "core.v1.PodAffinityTerm": [
    "1 labelSelector meta.v1.LabelSelector*, 2 namespaces str[], 3 topologyKey str!",
    "4 namespaceSelector meta.v1.LabelSelector*, 5 matchLabelKeys str[], 6 mismatchLabelKeys str[]",
  ],
  "core.v1.PodAntiAffinity": [
    "1 requiredDuringSchedulingIgnoredDuringExecution PodAffinityTerm[]",
    "2 preferredDuringSchedulingIgnoredDuringExecution WeightedPodAffinityTerm[]",
  ],
  "core.v1.PodCertificateProjection": [
    "1 signerName str, 2 keyType str, 3 maxExpirationSeconds i32*, 4 credentialBundlePath str, 5 keyPath str",
    "6 certificateChainPath str, 7 userAnnotations map<str>",
  ],
  "core.v1.PodCondition": [
    "1 type str!, 7 observedGeneration i64, 2 status str!, 3 lastProbeTime meta.v1.Time, 4 lastTransitionTime meta.v1.Time",
    "5 reason str, 6 message str",
  ],
  "core.v1.PodDNSConfig": ["1 nameservers str[], 2 searches str[], 3 options PodDNSConfigOption[]"],
  "core.v1.PodDNSConfigOption": ["1 name str, 2 value str*"],
  "core.v1.PodExtendedResourceClaimStatus": ["1 requestMappings ContainerExtendedResourceRequest[]!, 2 resourceClaimName str!"],
  "core.v1.PodIP": ["1 ip str!"],
  "core.v1.PodOS": ["1 name str!"],
  "core.v1.PodReadinessGate": ["1 conditionType str!"],
  "core.v1.PodResourceClaim": ["1 name str!, 3 resourceClaimName str*, 4 resourceClaimTemplateName str*"],
  "core.v1.PodResourceClaimStatus": ["1 name str!, 2 resourceClaimName str*"],
  "core.v1.PodSchedulingGate": ["1 name str!"],
  "core.v1.PodSchedulingGroup": ["1 podGroupName str*"],
  "core.v1.PodSecurityContext": [
    "1 seLinuxOptions SELinuxOptions*, 8 windowsOptions WindowsSecurityContextOptions*, 2 runAsUser i64*, 6 runAsGroup i64*",
    "3 runAsNonRoot bool*, 4 supplementalGroups i64[], 12 supplementalGroupsPolicy str*, 5 fsGroup i64*, 7 sysctls Sysctl[]",
    "9 fsGroupChangePolicy str*, 10 seccompProfile SeccompProfile*, 11 appArmorProfile AppArmorProfile*",
    "13 seLinuxChangePolicy str*",
  ],
  "core.v1.PodSpec": [
    "1 volumes Volume[], 20 initContainers Container[], 2 containers Container[]!",
    "34 ephemeralContainers EphemeralContainer[], 3 restartPolicy str, 4 terminationGracePeriodSeconds i64*",
    "5 activeDeadlineSeconds i64*, 6 dnsPolicy str, 7 nodeSelector map<str>, 8 serviceAccountName str, 9 serviceAccount str",
    "21 automountServiceAccountToken bool*, 10 nodeName str, 11 hostNetwork bool, 12 hostPID bool, 13 hostIPC bool",
    "27 shareProcessNamespace bool*, 14 securityContext PodSecurityContext*, 15 imagePullSecrets LocalObjectReference[]",
    "16 hostname str, 17 subdomain str, 18 affinity Affinity*, 19 schedulerName str, 22 tolerations Toleration[]",
    "23 hostAliases HostAlias[], 24 priorityClassName str, 25 priority i32*, 26 dnsConfig PodDNSConfig*",
    "28 readinessGates PodReadinessGate[], 29 runtimeClassName str*, 30 enableServiceLinks bool*, 31 preemptionPolicy str*",
    "32 overhead map<resource.Quantity>, 33 topologySpreadConstraints TopologySpreadConstraint[]",
    "35 setHostnameAsFQDN bool*, 36 os PodOS*, 37 hostUsers bool*, 38 schedulingGates PodSchedulingGate[]",
    "39 resourceClaims PodResourceClaim[], 40 resources ResourceRequirements*, 41 hostnameOverride str*",
    "43 schedulingGroup PodSchedulingGroup*",
  ],
  "core.v1.PodStatus": [
    "17 observedGeneration i64, 1 phase str, 2 conditions PodCondition[], 3 message str, 4 reason str",
    "11 nominatedNodeName str, 5 hostIP str, 16 hostIPs HostIP[], 6 podIP str, 12 podIPs PodIP[], 7 startTime meta.v1.Time*",
    "10 initContainerStatuses ContainerStatus[], 8 containerStatuses ContainerStatus[], 9 qosClass str",
    "13 ephemeralContainerStatuses ContainerStatus[], 14 resize str, 15 resourceClaimStatuses PodResourceClaimStatus[]",
    "18 extendedResourceClaimStatus PodExtendedResourceClaimStatus*, 19 allocatedResources map<resource.Quantity>",
    "20 resources ResourceRequirements*, 21 nodeAllocatableResourceClaimStatuses NodeAllocatableResourceClaimStatus[]",
  ],
  "core.v1.PodTemplate": ["1 metadata meta.v1.ObjectMeta, 2 template PodTemplateSpec"],
  "core.v1.PodTemplateSpec": ["1 metadata meta.v1.ObjectMeta, 2 spec PodSpec"],
  "core.v1.PortStatus": ["1 port i32!, 2 protocol str!, 3 error str*"],
  "core.v1.PortworxVolumeSource": ["1 volumeID str!, 2 fsType str, 3 readOnly bool"],
  "core.v1.PreferredSchedulingTerm": ["1 weight i32!, 2 preference NodeSelectorTerm!"],
  "core.v1.Probe": [
    "1 ... ProbeHandler, 2 initialDelaySeconds i32, 3 timeoutSeconds i32, 4 periodSeconds i32, 5 successThreshold i32",
    "6 failureThreshold i32, 7 terminationGracePeriodSeconds i64*",
  ],
  "core.v1.ProbeHandler": ["1 exec ExecAction*, 2 httpGet HTTPGetAction*, 3 tcpSocket TCPSocketAction*, 4 grpc GRPCAction*"],
  "core.v1.ProjectedVolumeSource": ["1 sources VolumeProjection[]!, 2 defaultMode i32*"],
  "core.v1.QuobyteVolumeSource": ["1 registry str!, 2 volume str!, 3 readOnly bool, 4 user str, 5 group str, 6 tenant str"],
  "core.v1.RBDPersistentVolumeSource": [
    "1 monitors str[]!, 2 image str!, 3 fsType str, 4 pool str, 5 user str, 6 keyring str, 7 secretRef SecretReference*",
    "8 readOnly bool",
  ],
  "core.v1.RBDVolumeSource": [
    "1 monitors str[]!, 2 image str!, 3 fsType str, 4 pool str, 5 user str, 6 keyring str",
    "7 secretRef LocalObjectReference*, 8 readOnly bool",
  ],
  "core.v1.ReplicationController": [
    "1 metadata meta.v1.ObjectMeta, 2 spec ReplicationControllerSpec, 3 status ReplicationControllerStatus",
  ],
  "core.v1.ReplicationControllerCondition": ["1 type str!, 2 status str!, 3 lastTransitionTime meta.v1.Time, 4 reason str, 5 message str"],
  "core.v1.ReplicationControllerSpec": ["1 replicas i32*, 4 minReadySeconds i32, 2 selector map<str>, 3 template PodTemplateSpec*"],
  "core.v1.ReplicationControllerStatus": [
    "1 replicas i32!, 2 fullyLabeledReplicas i32, 4 readyReplicas i32, 5 availableReplicas i32, 3 observedGeneration i64",
    "6 conditions ReplicationControllerCondition[]",
  ],
  "core.v1.ResourceClaim": ["1 name str!, 2 request str"],
  "core.v1.ResourceFieldSelector": ["1 containerName str, 2 resource str!, 3 divisor resource.Quantity"],
  "core.v1.ResourceHealth": ["1 resourceID str!, 2 health str, 6 message str*"],
  "core.v1.ResourceQuota": ["1 metadata meta.v1.ObjectMeta, 2 spec ResourceQuotaSpec, 3 status ResourceQuotaStatus"],
  "core.v1.ResourceQuotaSpec": ["1 hard map<resource.Quantity>, 2 scopes str[], 3 scopeSelector ScopeSelector*"],
  "core.v1.ResourceQuotaStatus": ["1 hard map<resource.Quantity>, 2 used map<resource.Quantity>"],
  "core.v1.ResourceRequirements": ["1 limits map<resource.Quantity>, 2 requests map<resource.Quantity>, 3 claims ResourceClaim[]"],
  "core.v1.ResourceStatus": ["1 name str!, 2 resources ResourceHealth[]"],
  "core.v1.SELinuxOptions": ["1 user str, 2 role str, 3 type str, 4 level str"],
  "core.v1.ScaleIOPersistentVolumeSource": [
    "1 gateway str!, 2 system str!, 3 secretRef SecretReference*!, 4 sslEnabled bool, 5 protectionDomain str",
    "6 storagePool str, 7 storageMode str, 8 volumeName str, 9 fsType str, 10 readOnly bool",
  ],
  "core.v1.ScaleIOVolumeSource": [
    "1 gateway str!, 2 system str!, 3 secretRef LocalObjectReference*!, 4 sslEnabled bool, 5 protectionDomain str",
    "6 storagePool str, 7 storageMode str, 8 volumeName str, 9 fsType str, 10 readOnly bool",
  ],
  "core.v1.ScopeSelector": ["1 matchExpressions ScopedResourceSelectorRequirement[]"],
  "core.v1.ScopedResourceSelectorRequirement": ["1 scopeName str!, 2 operator str!, 3 values str[]"],
  "core.v1.SeccompProfile": ["1 type str!, 2 localhostProfile str*"],
  "core.v1.Secret": ["1 metadata meta.v1.ObjectMeta, 5 immutable bool*, 2 data map<bytes>, 4 stringData map<str>, 3 type str"],
  "core.v1.SecretEnvSource": ["1 ... LocalObjectReference, 2 optional bool*"],
  "core.v1.SecretKeySelector": ["1 ... LocalObjectReference, 2 key str!, 3 optional bool*"],
  "core.v1.SecretProjection": ["1 ... LocalObjectReference, 2 items KeyToPath[], 4 optional bool*"],
  "core.v1.SecretReference": ["1 name str, 2 namespace str"],
  "core.v1.SecretVolumeSource": ["1 secretName str, 2 items KeyToPath[], 3 defaultMode i32*, 4 optional bool*"],
  "core.v1.SecurityContext": [
    "1 capabilities Capabilities*, 2 privileged bool*, 3 seLinuxOptions SELinuxOptions*",
    "10 windowsOptions WindowsSecurityContextOptions*, 4 runAsUser i64*, 8 runAsGroup i64*, 5 runAsNonRoot bool*",
    "6 readOnlyRootFilesystem bool*, 7 allowPrivilegeEscalation bool*, 9 procMount str*, 11 seccompProfile SeccompProfile*",
    "12 appArmorProfile AppArmorProfile*",
  ],
  "core.v1.Service": ["1 metadata meta.v1.ObjectMeta, 2 spec ServiceSpec, 3 status ServiceStatus"],
  "core.v1.ServiceAccount": [
    "1 metadata meta.v1.ObjectMeta, 2 secrets ObjectReference[], 3 imagePullSecrets LocalObjectReference[]",
    "4 automountServiceAccountToken bool*",
  ],
  "core.v1.ServiceAccountTokenProjection": ["1 audience str, 2 expirationSeconds i64*, 3 path str!"],
  "core.v1.ServicePort": ["1 name str, 2 protocol str, 6 appProtocol str*, 3 port i32!, 4 targetPort intstr.IntOrString, 5 nodePort i32"],
  "core.v1.ServiceSpec": [
    "1 ports ServicePort[], 2 selector map<str>, 3 clusterIP str, 18 clusterIPs str[], 4 type str, 5 externalIPs str[]",
    "7 sessionAffinity str, 8 loadBalancerIP str, 9 loadBalancerSourceRanges str[], 10 externalName str",
    "11 externalTrafficPolicy str, 12 healthCheckNodePort i32, 13 publishNotReadyAddresses bool",
    "14 sessionAffinityConfig SessionAffinityConfig*, 19 ipFamilies str[], 17 ipFamilyPolicy str*",
    "20 allocateLoadBalancerNodePorts bool*, 21 loadBalancerClass str*, 22 internalTrafficPolicy str*",
    "23 trafficDistribution str*",
  ],
  "core.v1.ServiceStatus": ["1 loadBalancer LoadBalancerStatus, 2 conditions meta.v1.Condition[]"],
  "core.v1.SessionAffinityConfig": ["1 clientIP ClientIPConfig*"],
  "core.v1.SleepAction": ["1 seconds i64!"],
  "core.v1.StorageOSPersistentVolumeSource": [
    "1 volumeName str, 2 volumeNamespace str, 3 fsType str, 4 readOnly bool, 5 secretRef ObjectReference*",
  ],
  "core.v1.StorageOSVolumeSource": [
    "1 volumeName str, 2 volumeNamespace str, 3 fsType str, 4 readOnly bool, 5 secretRef LocalObjectReference*",
  ],
  "core.v1.Sysctl": ["1 name str!, 2 value str!"],
  "core.v1.TCPSocketAction": ["1 port intstr.IntOrString!, 2 host str"],
  "core.v1.Taint": ["1 key str!, 2 value str, 3 effect str!, 4 timeAdded meta.v1.Time*"],
  "core.v1.Toleration": ["1 key str, 2 operator str, 3 value str, 4 effect str, 5 tolerationSeconds i64*"],
  "core.v1.TopologySelectorLabelRequirement": ["1 key str!, 2 values str[]!"],
  "core.v1.TopologySelectorTerm": ["1 matchLabelExpressions TopologySelectorLabelRequirement[]"],
  "core.v1.TopologySpreadConstraint": [
    "1 maxSkew i32!, 2 topologyKey str!, 3 whenUnsatisfiable str!, 4 labelSelector meta.v1.LabelSelector*",
    "5 minDomains i32*, 6 nodeAffinityPolicy str*, 7 nodeTaintsPolicy str*, 8 matchLabelKeys str[]",
  ],
  "core.v1.TypedLocalObjectReference": ["1 apiGroup str*!, 2 kind str!, 3 name str!"],
  "core.v1.TypedObjectReference": ["1 apiGroup str*!, 2 kind str!, 3 name str!, 4 namespace str*"],
  "core.v1.Volume": ["1 name str!, 2 ... VolumeSource"],
  "core.v1.VolumeDevice": ["1 name str!, 2 devicePath str!"],
  "core.v1.VolumeMount": [
    "1 name str!, 2 readOnly bool, 7 recursiveReadOnly str*, 3 mountPath str!, 4 subPath str, 5 mountPropagation str*",
    "6 subPathExpr str",
  ],
  "core.v1.VolumeMountStatus": ["1 name str!, 2 mountPath str!, 3 readOnly bool, 4 recursiveReadOnly str*, 5 volumeStatus VolumeStatus*"],
  "core.v1.VolumeNodeAffinity": ["1 required NodeSelector*"],
  "core.v1.VolumeProjection": [
    "1 secret SecretProjection*, 2 downwardAPI DownwardAPIProjection*, 3 configMap ConfigMapProjection*",
    "4 serviceAccountToken ServiceAccountTokenProjection*, 5 clusterTrustBundle ClusterTrustBundleProjection*",
    "6 podCertificate PodCertificateProjection*",
  ],
  "core.v1.VolumeResourceRequirements": ["1 limits map<resource.Quantity>, 2 requests map<resource.Quantity>"],
  "core.v1.VolumeSource": [
    "1 hostPath HostPathVolumeSource*, 2 emptyDir EmptyDirVolumeSource*, 3 gcePersistentDisk GCEPersistentDiskVolumeSource*",
    "4 awsElasticBlockStore AWSElasticBlockStoreVolumeSource*, 5 gitRepo GitRepoVolumeSource*, 6 secret SecretVolumeSource*",
    "7 nfs NFSVolumeSource*, 8 iscsi ISCSIVolumeSource*, 9 glusterfs GlusterfsVolumeSource*",
    "10 persistentVolumeClaim PersistentVolumeClaimVolumeSource*, 11 rbd RBDVolumeSource*, 12 flexVolume FlexVolumeSource*",
    "13 cinder CinderVolumeSource*, 14 cephfs CephFSVolumeSource*, 15 flocker FlockerVolumeSource*",
    "16 downwardAPI DownwardAPIVolumeSource*, 17 fc FCVolumeSource*, 18 azureFile AzureFileVolumeSource*",
    "19 configMap ConfigMapVolumeSource*, 20 vsphereVolume VsphereVirtualDiskVolumeSource*, 21 quobyte QuobyteVolumeSource*",
    "22 azureDisk AzureDiskVolumeSource*, 23 photonPersistentDisk PhotonPersistentDiskVolumeSource*",
    "26 projected ProjectedVolumeSource*, 24 portworxVolume PortworxVolumeSource*, 25 scaleIO ScaleIOVolumeSource*",
    "27 storageos StorageOSVolumeSource*, 28 csi CSIVolumeSource*, 29 ephemeral EphemeralVolumeSource*",
    "30 image ImageVolumeSource*",
  ],
  "core.v1.VolumeStatus": ["1 image ImageVolumeStatus*"],
  "core.v1.VsphereVirtualDiskVolumeSource": ["1 volumePath str!, 2 fsType str, 3 storagePolicyName str, 4 storagePolicyID str"],
  "core.v1.WeightedPodAffinityTerm": ["1 weight i32!, 2 podAffinityTerm PodAffinityTerm!"],
  "core.v1.WindowsSecurityContextOptions": [
    "1 gmsaCredentialSpecName str*, 2 gmsaCredentialSpec str*, 3 runAsUserName str*, 4 hostProcess bool*",
  ],
  "discovery.v1.Endpoint": [
    "1 addresses str[]!, 2 conditions EndpointConditions, 3 hostname str*, 4 targetRef core.v1.ObjectReference*",
    "5 deprecatedTopology map<str>, 6 nodeName str*, 7 zone str*, 8 hints EndpointHints*",
  ],
  "discovery.v1.EndpointConditions": ["1 ready bool*, 2 serving bool*, 3 terminating bool*"],
  "discovery.v1.EndpointHints": ["1 forZones ForZone[], 2 forNodes ForNode[]"],
  "discovery.v1.EndpointPort": ["1 name str*, 2 protocol str*, 3 port i32*, 4 appProtocol str*"],
  "discovery.v1.EndpointSlice": ["1 metadata meta.v1.ObjectMeta, 4 addressType str!, 2 endpoints Endpoint[]!, 3 ports EndpointPort[]!"],
  "discovery.v1.ForNode": ["1 name str!"],
  "discovery.v1.ForZone": ["1 name str!"],
  "events.v1.Event": [
    "1 metadata meta.v1.ObjectMeta!, 2 eventTime meta.v1.MicroTime!, 3 series EventSeries*, 4 reportingController str",
    "5 reportingInstance str, 6 action str, 7 reason str, 8 regarding core.v1.ObjectReference",
    "9 related core.v1.ObjectReference*, 10 note str, 11 type str, 12 deprecatedSource core.v1.EventSource",
    "13 deprecatedFirstTimestamp meta.v1.Time, 14 deprecatedLastTimestamp meta.v1.Time, 15 deprecatedCount i32",
  ],
  "events.v1.EventSeries": ["1 count i32!, 2 lastObservedTime meta.v1.MicroTime!"],
  "flowcontrol.v1.ExemptPriorityLevelConfiguration": ["1 nominalConcurrencyShares i32*, 2 lendablePercent i32*"],
  "flowcontrol.v1.FlowDistinguisherMethod": ["1 type str!"],
  "flowcontrol.v1.FlowSchema": ["1 metadata meta.v1.ObjectMeta, 2 spec FlowSchemaSpec, 3 status FlowSchemaStatus"],
  "flowcontrol.v1.FlowSchemaCondition": ["1 type str, 2 status str, 3 lastTransitionTime meta.v1.Time, 4 reason str, 5 message str"],
  "flowcontrol.v1.FlowSchemaSpec": [
    "1 priorityLevelConfiguration PriorityLevelConfigurationReference!, 2 matchingPrecedence i32!",
    "3 distinguisherMethod FlowDistinguisherMethod*, 4 rules PolicyRulesWithSubjects[]",
  ],
  "flowcontrol.v1.FlowSchemaStatus": ["1 conditions FlowSchemaCondition[]"],
  "flowcontrol.v1.GroupSubject": ["1 name str!"],
  "flowcontrol.v1.LimitResponse": ["1 type str!, 2 queuing QueuingConfiguration*"],
  "flowcontrol.v1.LimitedPriorityLevelConfiguration": [
    "1 nominalConcurrencyShares i32*!, 2 limitResponse LimitResponse, 3 lendablePercent i32*, 4 borrowingLimitPercent i32*",
  ],
  "flowcontrol.v1.NonResourcePolicyRule": ["1 verbs str[]!, 6 nonResourceURLs str[]!"],
  "flowcontrol.v1.PolicyRulesWithSubjects": [
    "1 subjects Subject[]!, 2 resourceRules ResourcePolicyRule[], 3 nonResourceRules NonResourcePolicyRule[]",
  ],
  "flowcontrol.v1.PriorityLevelConfiguration": [
    "1 metadata meta.v1.ObjectMeta, 2 spec PriorityLevelConfigurationSpec, 3 status PriorityLevelConfigurationStatus",
  ],
  "flowcontrol.v1.PriorityLevelConfigurationCondition": [
    "1 type str, 2 status str, 3 lastTransitionTime meta.v1.Time, 4 reason str, 5 message str",
  ],
  "flowcontrol.v1.PriorityLevelConfigurationReference": ["1 name str!"],
  "flowcontrol.v1.PriorityLevelConfigurationSpec": [
    "1 type str!, 2 limited LimitedPriorityLevelConfiguration*, 3 exempt ExemptPriorityLevelConfiguration*",
  ],
  "flowcontrol.v1.PriorityLevelConfigurationStatus": ["1 conditions PriorityLevelConfigurationCondition[]"],
  "flowcontrol.v1.QueuingConfiguration": ["1 queues i32!, 2 handSize i32!, 3 queueLengthLimit i32!"],
  "flowcontrol.v1.ResourcePolicyRule": ["1 verbs str[]!, 2 apiGroups str[]!, 3 resources str[]!, 4 clusterScope bool, 5 namespaces str[]!"],
  "flowcontrol.v1.ServiceAccountSubject": ["1 namespace str!, 2 name str!"],
  "flowcontrol.v1.Subject": ["1 kind str!, 2 user UserSubject*, 3 group GroupSubject*, 4 serviceAccount ServiceAccountSubject*"],
  "flowcontrol.v1.UserSubject": ["1 name str!"],
  "intstr.IntOrString": ["@intorstring, 1 type i64, 2 intVal i32, 3 strVal str"],
  "meta.v1.Condition": ["1 type str!, 2 status str!, 3 observedGeneration i64, 4 lastTransitionTime Time!, 5 reason str!, 6 message str!"],
  "meta.v1.DeleteOptions": [
    "1 gracePeriodSeconds i64*, 2 preconditions Preconditions*, 3 orphanDependents bool*, 4 propagationPolicy str*",
    "5 dryRun str[], 6 ignoreStoreReadErrorWithClusterBreakingPotential bool*",
  ],
  "meta.v1.Duration": ["@duration, 1 duration i64"],
  "meta.v1.FieldSelectorRequirement": ["1 key str!, 2 operator str!, 3 values str[]"],
  "meta.v1.FieldsV1": ["@json, 1 Raw bytes"],
  "meta.v1.LabelSelector": ["1 matchLabels map<str>, 2 matchExpressions LabelSelectorRequirement[]"],
  "meta.v1.LabelSelectorRequirement": ["1 key str!, 2 operator str!, 3 values str[]"],
  "meta.v1.ManagedFieldsEntry": [
    "1 manager str, 2 operation str, 3 apiVersion str, 4 time Time*, 6 fieldsType str, 7 fieldsV1 FieldsV1*",
    "8 subresource str",
  ],
  "meta.v1.MicroTime": ["@microtime, 1 seconds i64, 2 nanos i32"],
  "meta.v1.ObjectMeta": [
    "1 name str, 2 generateName str, 3 namespace str, 4 selfLink str, 5 uid str, 6 resourceVersion str, 7 generation i64",
    "8 creationTimestamp Time~, 9 deletionTimestamp Time*, 10 deletionGracePeriodSeconds i64*, 11 labels map<str>",
    "12 annotations map<str>, 13 ownerReferences OwnerReference[], 14 finalizers str[]",
    "17 managedFields ManagedFieldsEntry[]",
  ],
  "meta.v1.OwnerReference": ["5 apiVersion str!, 1 kind str!, 3 name str!, 4 uid str!, 6 controller bool*, 7 blockOwnerDeletion bool*"],
  "meta.v1.Preconditions": ["1 uid str*, 2 resourceVersion str*"],
  "meta.v1.Time": ["@time, 1 seconds i64, 2 nanos i32"],
  "networking.v1.HTTPIngressPath": ["1 path str, 3 pathType str*!, 2 backend IngressBackend!"],
  "networking.v1.HTTPIngressRuleValue": ["1 paths HTTPIngressPath[]!"],
  "networking.v1.IPAddress": ["1 metadata meta.v1.ObjectMeta, 2 spec IPAddressSpec"],
  "networking.v1.IPAddressSpec": ["1 parentRef ParentReference*"],
  "networking.v1.IPBlock": ["1 cidr str!, 2 except str[]"],
  "networking.v1.Ingress": ["1 metadata meta.v1.ObjectMeta, 2 spec IngressSpec, 3 status IngressStatus"],
  "networking.v1.IngressBackend": ["4 service IngressServiceBackend*, 3 resource core.v1.TypedLocalObjectReference*"],
  "networking.v1.IngressClass": ["1 metadata meta.v1.ObjectMeta, 2 spec IngressClassSpec"],
  "networking.v1.IngressClassParametersReference": ["1 apiGroup str*, 2 kind str!, 3 name str!, 4 scope str*!, 5 namespace str*"],
  "networking.v1.IngressClassSpec": ["1 controller str, 2 parameters IngressClassParametersReference*"],
  "networking.v1.IngressLoadBalancerIngress": ["1 ip str, 2 hostname str, 4 ports IngressPortStatus[]"],
  "networking.v1.IngressLoadBalancerStatus": ["1 ingress IngressLoadBalancerIngress[]"],
  "networking.v1.IngressPortStatus": ["1 port i32!, 2 protocol str!, 3 error str*"],
  "networking.v1.IngressRule": ["1 host str, 2 ... IngressRuleValue"],
  "networking.v1.IngressRuleValue": ["1 http HTTPIngressRuleValue*"],
  "networking.v1.IngressServiceBackend": ["1 name str!, 2 port ServiceBackendPort"],
  "networking.v1.IngressSpec": ["4 ingressClassName str*, 1 defaultBackend IngressBackend*, 2 tls IngressTLS[], 3 rules IngressRule[]"],
  "networking.v1.IngressStatus": ["1 loadBalancer IngressLoadBalancerStatus"],
  "networking.v1.IngressTLS": ["1 hosts str[], 2 secretName str"],
  "networking.v1.NetworkPolicy": ["1 metadata meta.v1.ObjectMeta, 2 spec NetworkPolicySpec"],
  "networking.v1.NetworkPolicyEgressRule": ["1 ports NetworkPolicyPort[], 2 to NetworkPolicyPeer[]"],
  "networking.v1.NetworkPolicyIngressRule": ["1 ports NetworkPolicyPort[], 2 from NetworkPolicyPeer[]"],
  "networking.v1.NetworkPolicyPeer": [
    "1 podSelector meta.v1.LabelSelector*, 2 namespaceSelector meta.v1.LabelSelector*, 3 ipBlock IPBlock*",
  ],
  "networking.v1.NetworkPolicyPort": ["1 protocol str*, 2 port intstr.IntOrString*, 3 endPort i32*"],
  "networking.v1.NetworkPolicySpec": [
    "1 podSelector meta.v1.LabelSelector!, 2 ingress NetworkPolicyIngressRule[], 3 egress NetworkPolicyEgressRule[]",
    "4 policyTypes str[]",
  ],
  "networking.v1.ParentReference": ["1 group str, 2 resource str, 3 namespace str, 4 name str"],
  "networking.v1.ServiceBackendPort": ["1 name str, 2 number i32"],
  "networking.v1.ServiceCIDR": ["1 metadata meta.v1.ObjectMeta, 2 spec ServiceCIDRSpec, 3 status ServiceCIDRStatus"],
  "networking.v1.ServiceCIDRSpec": ["1 cidrs str[]"],
  "networking.v1.ServiceCIDRStatus": ["1 conditions meta.v1.Condition[]"],
  "node.v1.Overhead": ["1 podFixed map<resource.Quantity>"],
  "node.v1.RuntimeClass": ["1 metadata meta.v1.ObjectMeta, 2 handler str!, 3 overhead Overhead*, 4 scheduling Scheduling*"],
  "node.v1.Scheduling": ["1 nodeSelector map<str>, 2 tolerations core.v1.Toleration[]"],
  "policy.v1.Eviction": ["1 metadata meta.v1.ObjectMeta, 2 deleteOptions meta.v1.DeleteOptions*"],
  "policy.v1.PodDisruptionBudget": ["1 metadata meta.v1.ObjectMeta, 2 spec PodDisruptionBudgetSpec, 3 status PodDisruptionBudgetStatus"],
  "policy.v1.PodDisruptionBudgetSpec": [
    "1 minAvailable intstr.IntOrString*, 2 selector meta.v1.LabelSelector*, 3 maxUnavailable intstr.IntOrString*",
    "4 unhealthyPodEvictionPolicy str*",
  ],
  "policy.v1.PodDisruptionBudgetStatus": [
    "1 observedGeneration i64, 2 disruptedPods map<meta.v1.Time>, 3 disruptionsAllowed i32!, 4 currentHealthy i32!",
    "5 desiredHealthy i32!, 6 expectedPods i32!, 7 conditions meta.v1.Condition[]",
  ],
  "rbac.v1.AggregationRule": ["1 clusterRoleSelectors meta.v1.LabelSelector[]"],
  "rbac.v1.ClusterRole": ["1 metadata meta.v1.ObjectMeta, 2 rules PolicyRule[]!, 3 aggregationRule AggregationRule*"],
  "rbac.v1.ClusterRoleBinding": ["1 metadata meta.v1.ObjectMeta, 2 subjects Subject[], 3 roleRef RoleRef!"],
  "rbac.v1.PolicyRule": ["1 verbs str[]!, 2 apiGroups str[], 3 resources str[], 4 resourceNames str[], 5 nonResourceURLs str[]"],
  "rbac.v1.Role": ["1 metadata meta.v1.ObjectMeta, 2 rules PolicyRule[]!"],
  "rbac.v1.RoleBinding": ["1 metadata meta.v1.ObjectMeta, 2 subjects Subject[], 3 roleRef RoleRef!"],
  "rbac.v1.RoleRef": ["1 apiGroup str!, 2 kind str!, 3 name str!"],
  "rbac.v1.Subject": ["1 kind str!, 2 apiGroup str, 3 name str!, 4 namespace str"],
  "resource.Quantity": ["@quantity, 1 string str"],
  "runtime.RawExtension": ["@json, 1 raw bytes"],
  "scheduling.v1.PriorityClass": [
    "1 metadata meta.v1.ObjectMeta, 2 value i32!, 3 globalDefault bool, 4 description str, 5 preemptionPolicy str*",
  ],
  "storage.v1.CSIDriver": ["1 metadata meta.v1.ObjectMeta, 2 spec CSIDriverSpec!"],
  "storage.v1.CSIDriverSpec": [
    "1 attachRequired bool*, 2 podInfoOnMount bool*, 3 volumeLifecycleModes str[], 4 storageCapacity bool*",
    "5 fsGroupPolicy str*, 6 tokenRequests TokenRequest[], 7 requiresRepublish bool*, 8 seLinuxMount bool*",
    "9 nodeAllocatableUpdatePeriodSeconds i64*, 10 serviceAccountTokenInSecrets bool*",
    "11 preventPodSchedulingIfMissing bool*",
  ],
  "storage.v1.CSINode": ["1 metadata meta.v1.ObjectMeta, 2 spec CSINodeSpec!"],
  "storage.v1.CSINodeDriver": ["1 name str!, 2 nodeID str!, 3 topologyKeys str[]!, 4 allocatable VolumeNodeResources*"],
  "storage.v1.CSINodeSpec": ["1 drivers CSINodeDriver[]!"],
  "storage.v1.CSIStorageCapacity": [
    "1 metadata meta.v1.ObjectMeta, 2 nodeTopology meta.v1.LabelSelector*, 3 storageClassName str!",
    "4 capacity resource.Quantity*, 5 maximumVolumeSize resource.Quantity*",
  ],
  "storage.v1.StorageClass": [
    "1 metadata meta.v1.ObjectMeta, 2 provisioner str!, 3 parameters map<str>, 4 reclaimPolicy str*, 5 mountOptions str[]",
    "6 allowVolumeExpansion bool*, 7 volumeBindingMode str*, 8 allowedTopologies core.v1.TopologySelectorTerm[]",
  ],
  "storage.v1.TokenRequest": ["1 audience str!, 2 expirationSeconds i64*"],
  "storage.v1.VolumeAttachment": ["1 metadata meta.v1.ObjectMeta, 2 spec VolumeAttachmentSpec!, 3 status VolumeAttachmentStatus"],
  "storage.v1.VolumeAttachmentSource": ["1 persistentVolumeName str*, 2 inlineVolumeSpec core.v1.PersistentVolumeSpec*"],
  "storage.v1.VolumeAttachmentSpec": ["1 attacher str!, 2 source VolumeAttachmentSource!, 3 nodeName str!"],
  "storage.v1.VolumeAttachmentStatus": [
    "1 attached bool!, 2 attachmentMetadata map<str>, 3 attachError VolumeError*, 4 detachError VolumeError*",
  ],
  "storage.v1.VolumeAttributesClass": ["1 metadata meta.v1.ObjectMeta, 2 driverName str!, 3 parameters map<str>"],
  "storage.v1.VolumeError": ["1 time meta.v1.Time, 2 message str, 3 errorCode i32*"],
  "storage.v1.VolumeNodeResources": ["1 count i32*"],
};
