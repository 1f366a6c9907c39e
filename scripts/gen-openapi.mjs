#!/usr/bin/env node
// Build step: turns the API types of the `kubernetes-types` package (.d.ts files whose doc
// comments are the upstream field documentation) into the OpenAPI v3 schemas the API server
// publishes, written to dist/generated/openapi-definitions.json as
//   { "source": "kubernetes-types@<version>", "definitions": { "<upstream name>": <schema> } }.
// Names and shapes follow what kube-apiserver serves under /openapi/v3: properties that name
// another definition are wrapped as `allOf: [{$ref}]`, non-pointer Go values carry the zero
// value as `default`, integers carry int32/int64. The d.ts files say `number` and `?`, not Go
// types, so the few facts they lose are restated in the tables below; the patch and list
// semantics come from src/api/openapi/patchmeta.ts (compiled by tsc before this runs).
//   node scripts/gen-openapi.mjs            (after `tsc -p .`)
import ts from "typescript";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";

const root = resolve(dirname(new URL(import.meta.url).pathname), "..");
const typesDir = join(root, "node_modules", "kubernetes-types");
const outFile = join(root, "dist", "generated", "openapi-definitions.json");
const patchMetaModule = join(root, "dist", "src", "api", "openapi", "patchmeta.js");

// ---- Facts the .d.ts files do not carry (Kubernetes 1.30 API types) -------------------------

/** Module of kubernetes-types (path without .d.ts) → prefix of the upstream definition names. */
const specialPrefixes = {
  "meta/v1": "io.k8s.apimachinery.pkg.apis.meta.v1",
  runtime: "io.k8s.apimachinery.pkg.runtime",
  "api/resource": "io.k8s.apimachinery.pkg.api.resource",
  version: "io.k8s.apimachinery.pkg.version",
  "apiextensions/v1": "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1",
};

const INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
const QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity";
const TIME = "io.k8s.apimachinery.pkg.apis.meta.v1.Time";
const MICRO_TIME = "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime";

/**
 * Definitions whose JSON form is not an object of fields (custom marshalling in Go). They are
 * never given a `default`, and upstream publishes fixed shapes for them.
 */
const scalarDefinitions = new Set([
  INT_OR_STRING,
  QUANTITY,
  TIME,
  MICRO_TIME,
  "io.k8s.apimachinery.pkg.runtime.RawExtension",
  "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1",
  "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON",
  "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray",
  "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool",
  "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray",
]);

/** IntOrString has no declaration of its own in kubernetes-types (fields say `number | string`). */
const intOrStringDescription =
  "IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  This allows you to have, for example, a JSON field that can accept a name or number.";

/** Integer fields that are int64 in Go; every other integer is int32. Keyed by field name. */
const int64Fields = new Set([
  "activeDeadlineSeconds", "deletionGracePeriodSeconds", "expirationSeconds", "fsGroup", "generation",
  "gracePeriodSeconds", "int", "ints", "maxItems", "maxLength", "maxProperties", "minItems", "minLength",
  "minProperties", "observedGeneration", "remainingItemCount", "revision", "runAsGroup", "runAsUser",
  "seconds", "sizeBytes", "startingDeadlineSeconds", "supplementalGroups", "terminationGracePeriodSeconds",
  "tolerationSeconds",
]);
/** Exceptions to int64Fields, keyed "Definition.field". */
const int32Exceptions = new Set(["io.k8s.api.certificates.v1.CertificateSigningRequestSpec.expirationSeconds"]);
/** float64 fields. */
const doubleFields = new Set(["maximum", "minimum", "multipleOf"].map((f) => `io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps.${f}`));
/** []byte fields (base64 strings), keyed by definition short name and field. */
const byteFields = new Set([
  "CertificateSigningRequestSpec.request", "CertificateSigningRequestStatus.certificate",
  "WebhookClientConfig.caBundle", "ConfigMap.binaryData", "Secret.data",
]);

// `default` follows Go's zero values: a field that is always serialized (not omitempty, not a
// pointer) publishes its zero value, and a struct held by value publishes `{}`. Required fields
// are non-pointer values, optional ones are pointers or omitempty, except as listed here.
/** Required fields that are pointers in Go (no default). */
const requiredPointers = new Set([
  "io.k8s.api.apps.v1.DaemonSetSpec.selector", "io.k8s.api.apps.v1.DeploymentSpec.selector",
  "io.k8s.api.apps.v1.ReplicaSetSpec.selector", "io.k8s.api.apps.v1.StatefulSetSpec.selector",
  "io.k8s.api.core.v1.ScaleIOPersistentVolumeSource.secretRef", "io.k8s.api.core.v1.ScaleIOVolumeSource.secretRef",
  "io.k8s.api.networking.v1alpha1.IPAddressSpec.parentRef",
  "io.k8s.api.admissionregistration.v1.MutatingWebhook.sideEffects",
  "io.k8s.api.admissionregistration.v1.ValidatingWebhook.sideEffects",
  "io.k8s.api.apiserverinternal.v1alpha1.StorageVersionCondition.message",
  "io.k8s.api.certificates.v1.CertificateSigningRequestSpec.request",
  "io.k8s.api.networking.v1.HTTPIngressPath.pathType",
  "io.k8s.api.networking.v1alpha1.ParentReference.name", "io.k8s.api.networking.v1alpha1.ParentReference.resource",
]);
/** Optional struct fields held by value in Go (default {}), besides every metadata/spec/status. */
const optionalStructValues = new Set([
  "io.k8s.api.apps.v1.DaemonSetSpec.updateStrategy", "io.k8s.api.apps.v1.DeploymentSpec.strategy",
  "io.k8s.api.apps.v1.ReplicaSetSpec.template", "io.k8s.api.apps.v1.StatefulSetSpec.updateStrategy",
  "io.k8s.api.core.v1.Container.resources", "io.k8s.api.core.v1.ContainerStatus.lastState",
  "io.k8s.api.core.v1.ContainerStatus.state", "io.k8s.api.core.v1.EphemeralContainer.resources",
  "io.k8s.api.core.v1.Event.source", "io.k8s.api.core.v1.NodeDaemonEndpoints.kubeletEndpoint",
  "io.k8s.api.core.v1.NodeStatus.daemonEndpoints", "io.k8s.api.core.v1.NodeStatus.nodeInfo",
  "io.k8s.api.core.v1.PersistentVolumeClaimSpec.resources", "io.k8s.api.core.v1.PodResourceClaim.source",
  "io.k8s.api.core.v1.PodTemplate.template", "io.k8s.api.core.v1.ServiceStatus.loadBalancer",
  "io.k8s.api.discovery.v1.Endpoint.conditions", "io.k8s.api.events.v1.Event.deprecatedSource",
  "io.k8s.api.events.v1.Event.regarding", "io.k8s.api.flowcontrol.v1.LimitedPriorityLevelConfiguration.limitResponse",
  "io.k8s.api.flowcontrol.v1beta3.LimitedPriorityLevelConfiguration.limitResponse",
  "io.k8s.api.networking.v1.IngressServiceBackend.port", "io.k8s.api.networking.v1.IngressStatus.loadBalancer",
]);
/** Optional fields with a declared default (`+default=` markers). */
const declaredDefaults = new Map([
  ["io.k8s.api.apps.v1.StatefulSetOrdinals.start", 0],
  ["io.k8s.api.apps.v1.StatefulSetStatus.availableReplicas", 0],
  ["io.k8s.api.core.v1.ContainerPort.protocol", "TCP"],
  ["io.k8s.api.core.v1.ServicePort.protocol", "TCP"],
  ...[
    "ConfigMapEnvSource", "ConfigMapKeySelector", "ConfigMapProjection", "ConfigMapVolumeSource", "LocalObjectReference",
    "NodeRuntimeHandler", "SecretEnvSource", "SecretKeySelector", "SecretProjection",
  ].map((d) => [`io.k8s.api.core.v1.${d}.name`, ""]),
  ["io.k8s.api.core.v1.Event.reportingComponent", ""],
  ["io.k8s.api.core.v1.Event.reportingInstance", ""],
  ["io.k8s.api.core.v1.GRPCAction.service", ""],
  ["io.k8s.api.core.v1.HostIP.ip", ""],
  ["io.k8s.api.core.v1.PodIP.ip", ""],
  ...["v1", "v1beta3"].flatMap((v) => [
    [`io.k8s.api.flowcontrol.${v}.FlowSchemaSpec.matchingPrecedence`, 0],
    [`io.k8s.api.flowcontrol.${v}.QueuingConfiguration.handSize`, 0],
    [`io.k8s.api.flowcontrol.${v}.QueuingConfiguration.queueLengthLimit`, 0],
    [`io.k8s.api.flowcontrol.${v}.QueuingConfiguration.queues`, 0],
  ]),
  ["io.k8s.api.flowcontrol.v1beta3.LimitedPriorityLevelConfiguration.nominalConcurrencyShares", 0],
]);

/** Meta types every group registers; upstream lists each group, we list core/v1. */
const coreMetaKinds = new Map([
  ["io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions", "DeleteOptions"],
  ["io.k8s.apimachinery.pkg.apis.meta.v1.Status", "Status"],
  ["io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent", "WatchEvent"],
]);

const stringList = (description) => ({ description, items: { default: "", type: "string" }, type: "array" });
const stringField = (description) => ({ description, type: "string" });
const boolField = (description) => ({ description, type: "boolean" });

/**
 * Fields that kubernetes-types 1.30 leaves out of its declarations: its generator drops the
 * x-kubernetes-* properties of JSONSchemaProps and the trailing fields of ResourceRule and of
 * admission's RuleWithOperations. The fields exist upstream, so the schemas must know them.
 */
const missingFields = {
  "io.k8s.api.authorization.v1.ResourceRule": {
    required: ["verbs"],
    properties: {
      resources: stringList('Resources is a list of resources this rule applies to.  "*" means all in the specified apiGroups.\n "*/foo" represents the subresource \'foo\' for all resources in the specified apiGroups.'),
      verbs: stringList('Verb is a list of kubernetes resource API verbs, like: get, list, watch, create, update, delete, proxy.  "*" means all.'),
    },
  },
  ...Object.fromEntries(
    ["v1.RuleWithOperations", "v1.NamedRuleWithOperations", "v1alpha1.NamedRuleWithOperations", "v1beta1.NamedRuleWithOperations"].map((d) => [
      `io.k8s.api.admissionregistration.${d}`,
      {
        properties: {
          resources: stringList("Resources is a list of resources this rule applies to. '*' means all resources, 'pods/*' all subresources of pods, '*/scale' the scale subresource of every resource, '*/*' everything. Required."),
          scope: stringField('scope specifies the scope of this rule: "Cluster" (cluster-scoped resources only; Namespace objects are cluster-scoped), "Namespaced" (namespaced resources only) or "*" (no restriction). Subresources match the scope of their parent resource. Default is "*".'),
        },
      },
    ]),
  ),
  "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps": {
    properties: {
      "x-kubernetes-embedded-resource": boolField("x-kubernetes-embedded-resource defines that the value is an embedded Kubernetes runtime.Object, with TypeMeta and ObjectMeta. The type must be object. kind, apiVersion and metadata are validated automatically."),
      "x-kubernetes-int-or-string": boolField("x-kubernetes-int-or-string specifies that this value is either an integer or a string. If this is true, an empty type is allowed and type as child of anyOf is permitted if following one of the patterns anyOf: [integer, string] or allOf: [anyOf: [integer, string], ...]."),
      "x-kubernetes-list-map-keys": { ...stringList('x-kubernetes-list-map-keys annotates an array with the x-kubernetes-list-type `map` by specifying the keys used as the index of the map. It may only be used on lists whose "x-kubernetes-list-type" is "map", and the keys must be scalar fields of the items.'), "x-kubernetes-list-type": "atomic" },
      "x-kubernetes-list-type": stringField("x-kubernetes-list-type annotates an array to further describe its topology: `atomic` (replaced as a whole), `set` (scalar items, each unique) or `map` (items identified by the x-kubernetes-list-map-keys). Defaults to atomic for arrays."),
      "x-kubernetes-map-type": stringField("x-kubernetes-map-type annotates an object to further describe its topology: `granular` (a map whose keys are independent, the default) or `atomic` (the object is replaced as a whole)."),
      "x-kubernetes-preserve-unknown-fields": boolField("x-kubernetes-preserve-unknown-fields stops the API server decoding step from pruning fields which are not specified in the validation schema. This affects fields recursively, but switches back to normal pruning behaviour if nested properties or additionalProperties are specified in the schema. This can either be true or undefined. False is forbidden."),
      "x-kubernetes-validations": {
        description: "x-kubernetes-validations describes a list of validation rules written in the CEL expression language.",
        items: { allOf: [{ $ref: "#/components/schemas/io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.ValidationRule" }], default: {} },
        type: "array",
        "x-kubernetes-list-map-keys": ["rule"],
        "x-kubernetes-list-type": "map",
        "x-kubernetes-patch-merge-key": "rule",
        "x-kubernetes-patch-strategy": "merge",
      },
    },
  },
};

// metrics.k8s.io/v1beta1 (NodeMetrics, PodMetrics: what `kubectl top` reads), which the API
// server serves from its kubelet scrapes; kubernetes-types has no metrics group, so the
// definitions are written here. They reuse the generated meta and Quantity definitions.
const metricsPrefix = "io.k8s.metrics.pkg.apis.metrics.v1beta1.";
const schemaRef = (name) => ({ allOf: [{ $ref: `#/components/schemas/${name}` }] });
const metaFields = (list) => ({
  apiVersion: stringField("APIVersion defines the versioned schema of this representation of an object."),
  kind: stringField("Kind is a string value representing the REST resource this object represents."),
  metadata: { ...schemaRef(`io.k8s.apimachinery.pkg.apis.meta.v1.${list ? "ListMeta" : "ObjectMeta"}`), default: {}, description: list ? "Standard list metadata." : "The node's or pod's name, namespace and labels; created when the answer was made." },
});
const usageField = (description) => ({ additionalProperties: schemaRef("io.k8s.apimachinery.pkg.api.resource.Quantity"), description, type: "object" });
const metricsGVK = (kind) => [{ group: "metrics.k8s.io", kind, version: "v1beta1" }];
const metricsListOf = (kind, what) => ({
  description: `${kind}List is a list of ${kind}.`,
  properties: { ...metaFields(true), items: { description: `The ${what} whose usage is known.`, items: { ...schemaRef(metricsPrefix + kind), default: {} }, type: "array" } },
  required: ["items"],
  type: "object",
  "x-kubernetes-group-version-kind": metricsGVK(`${kind}List`),
});
/** A NodeMetrics or PodMetrics: metadata, the two samples' window, and `usage`'s fields. */
const metricsOf = (kind, description, usage) => ({
  description,
  properties: {
    ...metaFields(false),
    timestamp: { ...schemaRef("io.k8s.apimachinery.pkg.apis.meta.v1.Time"), description: "When the later of the two samples was taken: the end of the window." },
    window: stringField("The time between the two samples the usage was computed from, as a duration (`15.01s`)."),
    ...usage,
  },
  required: ["timestamp", "window", ...Object.keys(usage)],
  type: "object",
  "x-kubernetes-group-version-kind": metricsGVK(kind),
});
const metricsDefinitions = {
  ContainerMetrics: {
    description: "The resource usage of one container.",
    properties: { name: stringField("The container's name, as the pod's spec names it."), usage: usageField("CPU (in cores) and memory (working set, in bytes) the container used over the window.") },
    required: ["name", "usage"],
    type: "object",
  },
  NodeMetrics: metricsOf("NodeMetrics", "The resource usage of a node: CPU and memory over a window ending at timestamp, from the last two samples of its kubelet.", {
    usage: usageField("CPU (in cores) and memory (working set, in bytes) the node used over the window."),
  }),
  NodeMetricsList: metricsListOf("NodeMetrics", "nodes"),
  PodMetrics: metricsOf("PodMetrics", "The resource usage of a pod, container by container, over a window ending at timestamp.", {
    containers: { description: "The usage of each of the pod's containers.", items: { ...schemaRef(`${metricsPrefix}ContainerMetrics`), default: {} }, type: "array" },
  }),
  PodMetricsList: metricsListOf("PodMetrics", "pods"),
};

function addMetricsDefinitions(definitions) {
  for (const [kind, schema] of Object.entries(metricsDefinitions)) definitions[metricsPrefix + kind] = schema;
}

function addMissingFields(definitions) {
  for (const [name, { properties, required }] of Object.entries(missingFields)) {
    const def = definitions[name];
    if (def?.properties === undefined) throw new GenError(name, "definition to supplement is missing");
    for (const [field, schema] of Object.entries(properties)) {
      if (def.properties[field] !== undefined) throw new GenError(name, `${field} is declared now: drop it from missingFields`);
      def.properties[field] = schema;
    }
    if (required !== undefined) def.required = [...(def.required ?? []), ...required];
  }
  for (const [name, kind] of coreMetaKinds) {
    definitions[name]["x-kubernetes-group-version-kind"] = [{ group: "", kind, version: "v1" }];
  }
}

// ---- Reading the declarations ---------------------------------------------------------------

class GenError extends Error {
  constructor(where, message) {
    super(`gen-openapi: ${where}: ${message}`);
    this.name = "GenError";
  }
}

function listDts(dir, out = []) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== "node_modules") listDts(p, out);
    } else if (name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

/** "core/v1" → "io.k8s.api.core.v1". */
function prefixOf(moduleId) {
  return specialPrefixes[moduleId] ?? `io.k8s.api.${moduleId.split("/").join(".")}`;
}

function moduleIdOf(file) {
  return relative(typesDir, file).slice(0, -".d.ts".length).split(sep).join("/");
}

/** The text of the doc comment just before `node`, with the comment markers removed. */
function docOf(sourceText, node) {
  const ranges = ts.getLeadingCommentRanges(sourceText, node.pos) ?? [];
  const last = ranges.filter((r) => sourceText.startsWith("/**", r.pos)).at(-1);
  if (last === undefined) return undefined;
  const body = sourceText.slice(last.pos + 3, last.end - 2);
  const lines = body.split("\n");
  if (lines.length === 1) return body.trim();
  // Multi-line form: "/**", " * text" lines, " */"; one space follows each star.
  return lines
    .slice(1, -1)
    .map((l) => l.replace(/^\s*\* ?/, ""))
    .join("\n");
}

function propertyName(name) {
  if (ts.isIdentifier(name) || ts.isStringLiteral(name)) return name.text;
  throw new GenError("property", `unsupported property name kind ${ts.SyntaxKind[name.kind]}`);
}

/** Every declaration of kubernetes-types: name → { kind, node, doc, source, prefix, imports }. */
function readDeclarations() {
  const decls = new Map();
  for (const file of listDts(typesDir)) {
    const moduleId = moduleIdOf(file);
    const text = readFileSync(file, "utf8");
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
    const prefix = prefixOf(moduleId);
    /** local name → full definition name */
    const scope = new Map();
    const local = [];
    for (const st of sf.statements) {
      if (ts.isImportDeclaration(st)) {
        const from = st.moduleSpecifier.text;
        const target = join(dirname(moduleId), from).split(sep).join("/");
        for (const el of st.importClause?.namedBindings?.elements ?? []) {
          scope.set(el.name.text, `${prefixOf(target)}.${(el.propertyName ?? el.name).text}`);
        }
      } else if (ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st)) {
        scope.set(st.name.text, `${prefix}.${st.name.text}`);
        local.push(st);
      }
    }
    for (const st of local) {
      const name = `${prefix}.${st.name.text}`;
      if (decls.has(name)) throw new GenError(name, "declared twice");
      decls.set(name, { name, node: st, doc: docOf(text, st), text, scope });
    }
  }
  return decls;
}

// ---- Building schemas -----------------------------------------------------------------------

const ref = (name) => `#/components/schemas/${name}`;

/** What a type node denotes: a definition reference, a primitive, an array or a map. */
function describeType(node, decl, where) {
  if (node.kind === ts.SyntaxKind.StringKeyword) return { t: "string" };
  if (node.kind === ts.SyntaxKind.NumberKeyword) return { t: "number" };
  if (node.kind === ts.SyntaxKind.BooleanKeyword) return { t: "boolean" };
  if (ts.isLiteralTypeNode(node) && ts.isStringLiteral(node.literal)) return { t: "string", literal: node.literal.text };
  if (ts.isUnionTypeNode(node)) {
    const kinds = node.types.map((x) => x.kind).sort();
    if (kinds.length === 2 && kinds.includes(ts.SyntaxKind.NumberKeyword) && kinds.includes(ts.SyntaxKind.StringKeyword)) {
      return { t: "ref", name: INT_OR_STRING };
    }
    throw new GenError(where, `unsupported union of ${kinds.map((k) => ts.SyntaxKind[k]).join(", ")}`);
  }
  if (ts.isArrayTypeNode(node)) return { t: "array", items: describeType(node.elementType, decl, where) };
  if (ts.isTypeReferenceNode(node)) {
    if (!ts.isIdentifier(node.typeName)) throw new GenError(where, "qualified type names are not supported");
    const id = node.typeName.text;
    if (id === "Array") {
      const arg = node.typeArguments?.[0];
      if (arg === undefined) throw new GenError(where, "Array without a type argument");
      return { t: "array", items: describeType(arg, decl, where) };
    }
    const target = decl.scope.get(id);
    if (target === undefined) throw new GenError(where, `unknown type ${id}`);
    return { t: "ref", name: target };
  }
  if (ts.isTypeLiteralNode(node)) {
    const index = node.members.find((m) => ts.isIndexSignatureDeclaration(m));
    if (index === undefined || node.members.length !== 1) throw new GenError(where, "unsupported object type literal");
    return { t: "map", values: describeType(index.type, decl, where) };
  }
  throw new GenError(where, `unsupported type node ${ts.SyntaxKind[node.kind]}`);
}

function integerSchema(defName, field) {
  const key = `${defName}.${field}`;
  if (doubleFields.has(key)) return { type: "number", format: "double" };
  const int64 = int64Fields.has(field) && !int32Exceptions.has(key);
  return { type: "integer", format: int64 ? "int64" : "int32" };
}

function primitiveSchema(desc, defName, field) {
  if (desc.t === "number") return integerSchema(defName, field);
  if (desc.t === "string" && byteFields.has(`${defName.split(".").at(-1)}.${field}`)) return { type: "string", format: "byte" };
  return { type: desc.t };
}

function zeroValue(schema) {
  if (schema.format === "byte") return undefined;
  if (schema.type === "string") return "";
  if (schema.type === "integer" || schema.type === "number") return 0;
  if (schema.type === "boolean") return false;
  return undefined;
}

/** The schema of a list item or map value: Go holds these by value, so they carry zero defaults. */
function elementSchema(desc, defName, field) {
  if (desc.t === "ref") {
    if (scalarDefinitions.has(desc.name)) return { $ref: ref(desc.name) };
    return { allOf: [{ $ref: ref(desc.name) }], default: {} };
  }
  if (desc.t === "array") return { type: "array", items: elementSchema(desc.items, defName, field) };
  if (desc.t === "map") return { type: "object", additionalProperties: elementSchema(desc.values, defName, field) };
  const s = primitiveSchema(desc, defName, field);
  const zero = zeroValue(s);
  return zero === undefined ? s : { ...s, default: zero };
}

function propertySchema(desc, defName, field, required, doc) {
  const key = `${defName}.${field}`;
  const described = (s) => (doc === undefined ? s : { ...s, description: doc });
  if (desc.t === "ref") {
    const byValue = !scalarDefinitions.has(desc.name) &&
      (required ? !requiredPointers.has(key) : field === "metadata" || field === "spec" || field === "status" || optionalStructValues.has(key));
    if (!byValue && doc === undefined) return { $ref: ref(desc.name) };
    return described({ allOf: [{ $ref: ref(desc.name) }], ...(byValue ? { default: {} } : {}) });
  }
  if (desc.t === "array") return described({ type: "array", items: elementSchema(desc.items, defName, field) });
  if (desc.t === "map") return described({ type: "object", additionalProperties: elementSchema(desc.values, defName, field) });
  const s = primitiveSchema(desc, defName, field);
  let dflt = declaredDefaults.get(key);
  if (dflt === undefined && required && !requiredPointers.has(key)) dflt = zeroValue(s);
  return described(dflt === undefined ? s : { ...s, default: dflt });
}

/** "apps/v1" → { group: "apps", version: "v1" }; "v1" → core. */
function groupVersionOf(apiVersion) {
  const i = apiVersion.indexOf("/");
  return i < 0 ? { group: "", version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

function interfaceSchema(decl) {
  const { name, node } = decl;
  const properties = {};
  const required = [];
  let apiVersion;
  let kind;
  for (const m of node.members) {
    if (!ts.isPropertySignature(m) || m.type === undefined) throw new GenError(name, "unsupported member");
    const field = propertyName(m.name);
    const where = `${name}.${field}`;
    const desc = describeType(m.type, decl, where);
    const isRequired = m.questionToken === undefined;
    if (isRequired) required.push(field);
    if (field === "apiVersion" && desc.literal !== undefined) apiVersion = desc.literal;
    if (field === "kind" && desc.literal !== undefined) kind = desc.literal;
    properties[field] = propertySchema(desc, name, field, isRequired, docOf(decl.text, m));
  }
  const schema = {};
  if (decl.doc !== undefined) schema.description = decl.doc;
  if (node.members.length === 0) {
    // Opaque JSON in Go (RawExtension, FieldsV1, Patch) is an object; apiextensions' JSON is any value.
    if (name !== "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON") schema.type = "object";
    return schema;
  }
  schema.properties = properties;
  if (required.length > 0) schema.required = required;
  schema.type = "object";
  if (apiVersion !== undefined && kind !== undefined) schema["x-kubernetes-group-version-kind"] = [{ ...groupVersionOf(apiVersion), kind }];
  return schema;
}

function aliasSchema(decl) {
  const described = (s) => (decl.doc === undefined ? s : { description: decl.doc, ...s });
  switch (decl.name) {
    case QUANTITY:
      // Upstream's v3 schema for Quantity (apimachinery OpenAPIV3OneOfTypes): a string or a number.
      return described({ oneOf: [{ type: "string" }, { type: "number" }] });
    case TIME:
    case MICRO_TIME:
      return described({ type: "string", format: "date-time" });
    default:
      if (ts.isUnionTypeNode(decl.node.type)) return described({});
      throw new GenError(decl.name, "unsupported type alias");
  }
}

/** Recursively sorts object keys, as upstream's JSON (Go maps) has them; arrays keep their order. */
function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== "object") return v;
  const out = {};
  for (const k of Object.keys(v).sort()) out[k] = sortKeys(v[k]);
  return out;
}

async function applyPatchMeta(definitions) {
  if (!existsSync(patchMetaModule)) {
    throw new GenError("patchmeta", `${relative(root, patchMetaModule)} is missing: run \`tsc -p .\` first`);
  }
  const { patchMetaEntries, patchMetaExtensions } = await import(pathToFileURL(patchMetaModule).href);
  for (const [defName, fields] of patchMetaEntries()) {
    const def = definitions[defName];
    if (def === undefined) throw new GenError("patchmeta", `no definition ${defName}`);
    for (const [field, meta] of fields) {
      const target = field === "." ? def : def.properties?.[field];
      if (target === undefined) throw new GenError("patchmeta", `${defName} has no field ${field}`);
      Object.assign(target, patchMetaExtensions(meta));
    }
  }
}

export async function generate() {
  const decls = readDeclarations();
  const definitions = {};
  for (const decl of decls.values()) {
    definitions[decl.name] = ts.isInterfaceDeclaration(decl.node) ? interfaceSchema(decl) : aliasSchema(decl);
  }
  definitions[INT_OR_STRING] = { description: intOrStringDescription, format: "int-or-string", oneOf: [{ type: "integer" }, { type: "string" }] };
  addMissingFields(definitions);
  addMetricsDefinitions(definitions);
  await applyPatchMeta(definitions);
  for (const d of Object.values(definitions)) checkRefs(d, definitions);
  const pkg = JSON.parse(readFileSync(join(typesDir, "package.json"), "utf8"));
  return sortKeys({ source: `kubernetes-types@${pkg.version}`, definitions });
}

function checkRefs(node, definitions) {
  if (Array.isArray(node)) for (const x of node) checkRefs(x, definitions);
  else if (node !== null && typeof node === "object") {
    if (typeof node.$ref === "string" && definitions[node.$ref.slice(ref("").length)] === undefined) {
      throw new GenError("refs", `dangling ${node.$ref}`);
    }
    for (const v of Object.values(node)) checkRefs(v, definitions);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const started = performance.now();
  const doc = await generate();
  mkdirSync(dirname(outFile), { recursive: true });
  const body = JSON.stringify(doc);
  writeFileSync(outFile, body);
  const ms = Math.round(performance.now() - started);
  console.error(`gen-openapi: ${Object.keys(doc.definitions).length} definitions, ${(body.length / 1024).toFixed(0)} KiB → ${relative(root, outFile)} in ${ms} ms`);
}
