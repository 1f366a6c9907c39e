// ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding declarations: upstream's v1
// defaults, its validation's field paths and messages (CEL compiled on write), and its tables.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { KubeObject, StrategyContext } from "../registry/types.js";
import { strategyDriver } from "../../testing/strategy.js";
import { admissionRegistrationResources, validatingAdmissionPolicies as vap, validatingAdmissionPolicyBindings as vapb } from "./admissionregistration.js";

const now = new Date("2024-05-01T12:00:00Z");
const ctx: StrategyContext = { namespace: "", now, user: { username: "admin", groups: [] } };
const { create, update } = strategyDriver(ctx);

type Json = Record<string, unknown>;

const RULE = { operations: ["CREATE", "UPDATE"], apiGroups: ["apps"], apiVersions: ["v1"], resources: ["deployments"] };

function policy(spec: Json = {}, name = "replica-limit"): KubeObject {
  return {
    metadata: { name, resourceVersion: "1", creationTimestamp: "2024-05-01T11:00:00Z" },
    spec: { matchConstraints: { resourceRules: [RULE] }, validations: [{ expression: "object.spec.replicas <= 5" }], ...spec },
  };
}

function binding(spec: Json = {}, name = "replica-limit-binding"): KubeObject {
  return { metadata: { name, resourceVersion: "1", creationTimestamp: "2024-05-01T11:00:00Z" }, spec: { policyName: "replica-limit", validationActions: ["Deny"], ...spec } };
}

const policyErrs = (spec: Json): string[] => create(vap, policy(spec));
const bindingErrs = (spec: Json): string[] => create(vapb, binding(spec));

void test("policy defaults: failurePolicy Fail; matchConstraints' policy, selectors and rule scopes", () => {
  const p = policy({ matchConstraints: { resourceRules: [RULE], excludeResourceRules: [{ ...RULE, resourceNames: ["kept"] }] } });
  assert.deepEqual(create(vap, p), []);
  const spec = p.spec as Json;
  assert.equal(spec.failurePolicy, "Fail");
  assert.deepEqual(spec.matchConstraints, {
    matchPolicy: "Equivalent",
    namespaceSelector: {},
    objectSelector: {},
    resourceRules: [{ ...RULE, scope: "*" }],
    excludeResourceRules: [{ ...RULE, resourceNames: ["kept"], scope: "*" }],
  });
  assert.deepEqual(p.status, {}, "a client's status is dropped on create");

  const set = policy({ failurePolicy: "Ignore", matchConstraints: { matchPolicy: "Exact", resourceRules: [{ ...RULE, scope: "Namespaced" }] } });
  assert.deepEqual(create(vap, set), []);
  assert.equal((set.spec as Json).failurePolicy, "Ignore", "a set value stays");
  assert.deepEqual(((set.spec as Json).matchConstraints as Json).matchPolicy, "Exact");
  assert.equal((((set.spec as Json).matchConstraints as Json).resourceRules as Json[])[0]!.scope, "Namespaced");
});

void test("binding defaults: matchResources only when present", () => {
  const plain = binding();
  assert.deepEqual(create(vapb, plain), []);
  assert.equal("matchResources" in (plain.spec as Json), false);
  const scoped = binding({ matchResources: { namespaceSelector: { matchLabels: { env: "test" } }, resourceRules: [RULE] } });
  assert.deepEqual(create(vapb, scoped), []);
  assert.deepEqual((scoped.spec as Json).matchResources, {
    matchPolicy: "Equivalent",
    namespaceSelector: { matchLabels: { env: "test" } },
    objectSelector: {},
    resourceRules: [{ ...RULE, scope: "*" }],
  });
});

void test("policy: failurePolicy, paramKind, matchConstraints", () => {
  assert.deepEqual(policyErrs({ failurePolicy: "Retry" }), ['spec.failurePolicy: Unsupported value: "Retry": supported values: "Fail", "Ignore"']);
  assert.deepEqual(policyErrs({ paramKind: { apiVersion: "rules.example.com/v1", kind: "ReplicaLimit" } }), []);
  assert.deepEqual(policyErrs({ paramKind: { apiVersion: "v1", kind: "ConfigMap" } }), []);
  assert.deepEqual(policyErrs({ paramKind: {} }), ["spec.paramKind.apiVersion: Required value", "spec.paramKind.kind: Required value"]);
  assert.deepEqual(policyErrs({ paramKind: { apiVersion: "a/b/c", kind: "K" } }), ['spec.paramKind.apiVersion: Invalid value: "a/b/c": unexpected GroupVersion string: a/b/c']);
  assert.deepEqual(policyErrs({ paramKind: { apiVersion: "example.com/", kind: "K" } }), ['spec.paramKind.apiVersion: Invalid value: "example.com/": version must be specified']);
  assert.match(policyErrs({ paramKind: { apiVersion: "Example.com/v1", kind: "K" } })[0]!, /^spec\.paramKind\.apiVersion: Invalid value: "Example\.com": a lowercase RFC 1123 subdomain/);
  assert.match(policyErrs({ paramKind: { apiVersion: "example.com/V1", kind: "K" } })[0]!, /^spec\.paramKind\.apiVersion: Invalid value: "V1": a DNS-1035 label must consist of/);
  assert.match(policyErrs({ paramKind: { apiVersion: "v1", kind: "Replica_Limit" } })[0]!, /^spec\.paramKind\.kind: Invalid value: "Replica_Limit": may have mixed case, but should otherwise match: a DNS-1035 label/);

  assert.deepEqual(policyErrs({ matchConstraints: undefined }), ["spec.matchConstraints: Required value"]);
  assert.deepEqual(policyErrs({ matchConstraints: {} }), ["spec.matchConstraints.resourceRules: Required value"]);
  assert.deepEqual(policyErrs({ matchConstraints: { matchPolicy: "Loose", resourceRules: [RULE] } }), ['spec.matchConstraints.matchPolicy: Unsupported value: "Loose": supported values: "Equivalent", "Exact"']);
  const rule = (r: Json): string[] => policyErrs({ matchConstraints: { resourceRules: [{ ...RULE, ...r }] } });
  const R = "spec.matchConstraints.resourceRules[0]";
  assert.deepEqual(rule({ operations: [] }), [`${R}.operations: Required value`]);
  assert.deepEqual(rule({ operations: ["GET"] }), [`${R}.operations[0]: Unsupported value: "GET": supported values: "*", "CONNECT", "CREATE", "DELETE", "UPDATE"`]);
  assert.deepEqual(rule({ apiGroups: [], apiVersions: [] }), [`${R}.apiGroups: Required value`, `${R}.apiVersions: Required value`]);
  assert.deepEqual(rule({ resources: ["*", "pods"] }), [`${R}.resources: Invalid value: []string{"*", "pods"}: if '*' is present, must not specify other resources without subresources`]);
  assert.deepEqual(rule({ resources: ["deployments/*", "deployments/status"] }), [`${R}.resources[1]: Invalid value: "deployments/status": if 'deployments/*' is present, must not specify deployments/status`]);
  assert.deepEqual(rule({ scope: "Global" }), [`${R}.scope: Unsupported value: "Global": supported values: "*", "Cluster", "Namespaced"`]);
  assert.deepEqual(rule({ resourceNames: ["a", "a", "b/c"] }), [`${R}.resourceNames[1]: Duplicate value: "a"`, `${R}.resourceNames[2]: Invalid value: "b/c": may not contain '/'`]);
  assert.deepEqual(policyErrs({ matchConstraints: { resourceRules: [RULE], excludeResourceRules: [{ ...RULE, operations: [] }] } }), ["spec.matchConstraints.excludeResourceRules[0].operations: Required value"]);
  assert.deepEqual(policyErrs({ matchConstraints: { resourceRules: [RULE], objectSelector: { matchExpressions: [{ key: "k", operator: "Near" }] } } }), [
    'spec.matchConstraints.objectSelector.matchExpressions[0].operator: Invalid value: "Near": not a valid selector operator',
  ]);
  assert.match(policyErrs({ matchConstraints: { resourceRules: [RULE], namespaceSelector: { matchLabels: { env: "bad value" } } } })[0]!, /^spec\.matchConstraints\.namespaceSelector\.matchLabels: Invalid value: "bad value"/, "selectors are strict");
});

void test("policy: validations and auditAnnotations, their CEL compiled with params and variables", () => {
  const V = "spec.validations[0]";
  assert.deepEqual(policyErrs({ validations: [], auditAnnotations: [] }), [
    "spec.validations: Required value: validations or auditAnnotations must contain at least one item",
    "spec.auditAnnotations: Required value: validations or auditAnnotations must contain at least one item",
  ]);
  const one = (v: Json): string[] => policyErrs({ validations: [v] });
  assert.deepEqual(one({ expression: "params == null || object.spec.replicas <= params.max", messageExpression: "'at most ' + string(params.max)", message: "too many", reason: "Forbidden" }), []);
  assert.deepEqual(one({ expression: " " }), [`${V}.expression: Required value: expression is not specified`]);
  assert.deepEqual(one({ expression: "object.spec.replicas" }), []);
  assert.deepEqual(one({ expression: "'yes'" }), [`${V}.expression: Invalid value: "'yes'": must evaluate to a bool`]);
  assert.match(one({ expression: "object.spec.replicas <=" })[0]!, /^spec\.validations\[0\]\.expression: Invalid value: "object\.spec\.replicas <=": compilation failed: ERROR: <input>:1:\d+: Syntax error/);
  assert.match(one({ expression: "authorizer.group('') != null" })[0]!, /^spec\.validations\[0\]\.expression: Invalid value: .*compilation failed: k8ts does not offer the authorizer variable/);
  assert.deepEqual(one({ expression: "true", messageExpression: "  " }), [`${V}.messageExpression: Invalid value: "  ": must be non-empty if specified`]);
  assert.deepEqual(one({ expression: "true", messageExpression: "1" }), [`${V}.messageExpression: Invalid value: "1": must evaluate to a string`]);
  assert.deepEqual(one({ expression: "true", message: " " }), [`${V}.message: Invalid value: " ": message must be non-empty if specified`]);
  assert.deepEqual(one({ expression: "true", message: "two\nlines" }), [`${V}.message: Invalid value: "two\\nlines": message must not contain line breaks`]);
  assert.deepEqual(one({ expression: "true", reason: "Unauthorized" }), [`${V}.reason: Unsupported value: "Unauthorized": supported values: "Forbidden", "Invalid", "RequestEntityTooLarge"`]);

  const A = "spec.auditAnnotations";
  assert.deepEqual(policyErrs({ validations: [], auditAnnotations: [{ key: "replicas", valueExpression: "string(object.spec.replicas)" }] }), []);
  const ann = (...a: Json[]): string[] => policyErrs({ auditAnnotations: a });
  assert.deepEqual(ann({ key: "a", valueExpression: "'x'" }, { key: "a", valueExpression: "'y'" }), [`${A}[1].key: Duplicate value: "a"`]);
  assert.deepEqual(ann({ key: "a", valueExpression: "" }), [`${A}[0].valueExpression: Required value: valueExpression is not specified`]);
  assert.deepEqual(ann({ key: "a", valueExpression: "1" }), [`${A}[0].valueExpression: Invalid value: "1": must evaluate to a string`]);
  assert.deepEqual(ann({ key: "a", valueExpression: `'${"x".repeat(5200)}'` }), [`${A}[0].valueExpression: Required value: must not exceed 5120 bytes in length`]);
  assert.match(ann({ key: "bad key", valueExpression: "'x'" })[0]!, /^spec\.auditAnnotations\[0\]\.key: Invalid value: "replica-limit\/bad key": name part must consist of/);
  const many = Array.from({ length: 21 }, (_, i) => ({ key: `k${i}`, valueExpression: "'v'" }));
  const tooMany = ann(...many);
  assert.equal(tooMany.length, 1);
  assert.match(tooMany[0]!, /^spec\.auditAnnotations: Invalid value: \[\]admissionregistration\.AuditAnnotation\{admissionregistration\.AuditAnnotation\{Key:"k0", ValueExpression:"'v'"\}, .*: must not have more than 20 auditAnnotations$/);
});

void test("policy: variables and matchConditions", () => {
  const vars = (...v: Json[]): string[] => policyErrs({ variables: v, validations: [{ expression: "variables.replicas <= 5" }] });
  assert.deepEqual(vars({ name: "replicas", expression: "object.spec.replicas" }, { name: "twice", expression: "variables.replicas * 2" }), []);
  assert.deepEqual(vars({ name: "", expression: "" }), ["spec.variables[0].name: Required value: name is not specified", "spec.variables[0].expression: Required value: expression is not specified"]);
  assert.deepEqual(vars({ name: "in", expression: "1" }), ['spec.variables[0].name: Invalid value: "in": name is not a valid CEL identifier']);
  assert.deepEqual(vars({ name: "my-var", expression: "1" }), ['spec.variables[0].name: Invalid value: "my-var": name is not a valid CEL identifier']);
  assert.match(vars({ name: "v", expression: "1 + 'a'" })[0]!, /^spec\.variables\[0\]\.expression: Invalid value: "1 \+ 'a'": compilation failed: ERROR: <input>:1:3: found no matching overload for '_\+_'/);

  const M = "spec.matchConditions";
  const mc = (...c: Json[]): string[] => policyErrs({ matchConditions: c });
  assert.deepEqual(mc({ name: "not-system", expression: "!request.userInfo.username.startsWith('system:')" }, { name: "with-params", expression: "params == null || namespaceObject != null" }), []);
  assert.deepEqual(mc({ name: "a", expression: "true" }, { name: "a", expression: "true" }), [`${M}[1].name: Duplicate value: "a"`]);
  assert.deepEqual(mc({ name: "a", expression: "'x'" }), [`${M}[0].expression: Invalid value: "'x'": must evaluate to a bool`]);
  assert.match(mc({ name: "a", expression: "variables.x" })[0]!, /^spec\.matchConditions\[0\]\.expression: Invalid value: "variables\.x": compilation failed: .*undeclared reference to 'variables'/, "conditions run before variables exist");
  assert.deepEqual(mc({ name: "", expression: "" }), [`${M}[0].expression: Required value`, `${M}[0].name: Required value`]);
});

void test("policy updates: stored match conditions are kept unless they or paramKind change; status has its own checks", () => {
  const stored = policy({ matchConditions: [{ name: "c", expression: "1" }] });
  assert.deepEqual(update(vap, policy({ matchConditions: [{ name: "c", expression: "1" }], validations: [{ expression: "false" }] }), stored), []);
  assert.deepEqual(update(vap, policy({ matchConditions: [{ name: "c", expression: "2" }] }), stored), ['spec.matchConditions[0].expression: Invalid value: "2": must evaluate to a bool']);
  assert.equal(update(vap, policy({ matchConditions: [{ name: "c", expression: "1" }], paramKind: { apiVersion: "v1", kind: "ConfigMap" } }), stored).length, 1);
  assert.deepEqual(update(vap, policy({ validations: [{ expression: "'x'" }] }), policy()), ['spec.validations[0].expression: Invalid value: "\'x\'": must evaluate to a bool']);
  assert.deepEqual(update(vap, policy({}, "renamed"), policy()), ['metadata.name: Invalid value: "renamed": field is immutable']);

  const withStatus = (status: Json): KubeObject => ({ ...policy(), status });
  const validateStatus = vap.strategy.validateStatusUpdate!;
  assert.deepEqual(validateStatus(withStatus({ observedGeneration: 1, typeChecking: { expressionWarnings: [{ fieldRef: "spec.validations[0].expression", warning: "no type" }] } }), policy(), ctx).map(String), []);
  assert.deepEqual(validateStatus(withStatus({ typeChecking: { expressionWarnings: [{}] } }), policy(), ctx).map(String), [
    "status.typeChecking.expressionWarnings[0].warning: Required value",
    "status.typeChecking.expressionWarnings[0].fieldRef: Required value",
  ]);
  assert.match(validateStatus(withStatus({ conditions: [{ type: "Ready", status: "Maybe" }] }), policy(), ctx).map(String).join("\n"), /status\.conditions\[0\]\.status: Unsupported value: "Maybe"/);
  assert.deepEqual(vap.strategy.statusFields, ["status"]);
  assert.deepEqual(vap.strategy.specFields, ["spec"], "generation follows the spec");
});

void test("binding: policyName, paramRef, matchResources, validationActions", () => {
  assert.deepEqual(bindingErrs({ policyName: "" }), ["spec.policyName: Required value"]);
  assert.match(bindingErrs({ policyName: "Bad_Name" })[0]!, /^spec\.policyName: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);

  const P = "spec.paramRef";
  assert.deepEqual(bindingErrs({ paramRef: { name: "limits", namespace: "default", parameterNotFoundAction: "Deny" } }), []);
  assert.deepEqual(bindingErrs({ paramRef: { selector: { matchLabels: { tier: "gold" } }, parameterNotFoundAction: "Allow" } }), []);
  assert.deepEqual(bindingErrs({ paramRef: {} }), [`${P}: Required value: one of name or selector must be specified`, `${P}.parameterNotFoundAction: Required value`]);
  assert.deepEqual(bindingErrs({ paramRef: { name: "a", selector: {}, parameterNotFoundAction: "Deny" } }), [
    `${P}.name: Forbidden: name and selector are mutually exclusive`,
    `${P}.selector: Forbidden: name and selector are mutually exclusive`,
  ]);
  assert.deepEqual(bindingErrs({ paramRef: { name: "..", parameterNotFoundAction: "Skip" } }), [
    `${P}.name: Invalid value: "..": may not be '..'`,
    `${P}.parameterNotFoundAction: Unsupported value: "Skip": supported values: "Deny", "Allow"`,
  ]);

  // Upstream names this path "matchResouces"; kubectl users see that spelling.
  assert.deepEqual(bindingErrs({ matchResources: { matchPolicy: "Loose" } }), ['spec.matchResouces.matchPolicy: Unsupported value: "Loose": supported values: "Equivalent", "Exact"']);
  assert.deepEqual(bindingErrs({ matchResources: { resourceRules: [{ ...RULE, apiGroups: [] }] } }), ["spec.matchResouces.resourceRules[0].apiGroups: Required value"]);

  const VA = "spec.validationActions";
  assert.deepEqual(bindingErrs({ validationActions: ["Warn", "Audit"] }), []);
  assert.deepEqual(bindingErrs({ validationActions: undefined }), [`${VA}: Required value: at least one validation action is required`]);
  assert.deepEqual(bindingErrs({ validationActions: ["Block"] }), [`${VA}[0]: Unsupported value: "Block": supported values: "Audit", "Deny", "Warn"`]);
  assert.deepEqual(bindingErrs({ validationActions: ["Audit", "Audit"] }), [`${VA}[1]: Duplicate value: "Audit"`]);
  assert.deepEqual(bindingErrs({ validationActions: ["Deny", "Warn"] }), [
    `${VA}: Invalid value: []admissionregistration.ValidationAction{"Deny", "Warn"}: must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)`,
  ]);
  assert.deepEqual(update(vapb, binding({ validationActions: [] }), binding()), [`${VA}: Required value: at least one validation action is required`]);
  assert.deepEqual(vapb.strategy.statusFields, [], "no status");
  assert.deepEqual(vapb.strategy.specFields, ["spec"]);
});

void test("tables as upstream's printers", () => {
  assert.deepEqual(
    vap.table!.columns.map((c) => [c.name, c.type, c.description]),
    [
      ["Name", "string", vap.table!.columns[0]!.description],
      ["Validations", "integer", "Validations indicates the number of validation rules defined in this configuration"],
      ["ParamKind", "string", "ParamKind specifies the kind of resources used to parameterize this policy"],
      ["Age", "string", vap.table!.columns[3]!.description],
    ],
  );
  assert.deepEqual(vap.table!.row(policy(), now), ["replica-limit", 1, "<unset>", "60m"]);
  assert.deepEqual(vap.table!.row(policy({ validations: [], paramKind: { apiVersion: "rules.example.com/v1", kind: "ReplicaLimit" } }), now), ["replica-limit", 0, "rules.example.com/v1/ReplicaLimit", "60m"]);

  assert.deepEqual(
    vapb.table!.columns.map((c) => [c.name, c.type]),
    [
      ["Name", "string"],
      ["PolicyName", "string"],
      ["ParamRef", "string"],
      ["Age", "string"],
    ],
  );
  assert.equal(vapb.table!.columns[1]!.description, "PolicyName indicates the policy definition which the policy binding binded to");
  assert.equal(vapb.table!.columns[2]!.description, "ParamRef indicates the param resource which sets the configration param");
  const row = (spec: Json): unknown[] => vapb.table!.row(binding(spec), now);
  assert.deepEqual(row({}), ["replica-limit-binding", "replica-limit", "<unset>", "60m"]);
  assert.deepEqual(row({ paramRef: { name: "limits", namespace: "default" } }), ["replica-limit-binding", "replica-limit", "default/limits", "60m"]);
  assert.deepEqual(row({ paramRef: { name: "limits" } }), ["replica-limit-binding", "replica-limit", "*/limits", "60m"]);
  assert.deepEqual(row({ paramRef: { selector: { matchLabels: { z: "1", a: "2" }, matchExpressions: [{ key: "tier", operator: "In", values: ["gold", "silver"] }] } } }), [
    "replica-limit-binding",
    "replica-limit",
    "&LabelSelector{MatchLabels:map[string]string{a: 2,z: 1,},MatchExpressions:[]LabelSelectorRequirement{LabelSelectorRequirement{Key:tier,Operator:In,Values:[gold silver],},},}",
    "60m",
  ]);
  assert.deepEqual(row({ paramRef: { selector: {} } })[2], "&LabelSelector{MatchLabels:map[string]string{},MatchExpressions:[]LabelSelectorRequirement{},}");

  for (const def of [vap, vapb]) {
    assert.equal(def.namespaced, false);
    assert.deepEqual(def.categories, ["api-extensions"]);
    assert.ok(admissionRegistrationResources.includes(def));
  }
  assert.deepEqual(vap.subresources, ["status"]);
});

void test("never throws on malformed bodies", () => {
  const junk: unknown[] = [null, 0, "", "x", true, [], {}, [1, "a"], { a: 1 }, [null], [{}]];
  const policyKeys = ["failurePolicy", "paramKind", "matchConstraints", "matchConditions", "variables", "validations", "auditAnnotations"];
  const bindingKeys = ["policyName", "paramRef", "matchResources", "validationActions"];
  for (const v of junk) {
    for (const key of policyKeys) {
      const obj = policy({ [key]: v });
      create(vap, obj);
      update(vap, structuredClone(obj), policy({ [key]: v }));
      vap.table!.row(obj, now);
    }
    for (const key of bindingKeys) {
      const obj = binding({ [key]: v, paramRef: { selector: v, name: v, parameterNotFoundAction: v } });
      create(vapb, obj);
      vapb.table!.row(obj, now);
    }
    create(vap, { metadata: { name: "p" }, spec: v } as KubeObject);
    create(vapb, { metadata: { name: "b" }, spec: v } as KubeObject);
    vapb.table!.row({ metadata: { name: "b" }, spec: { paramRef: { selector: { matchLabels: v, matchExpressions: v } } } } as KubeObject, now);
  }
});
