import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { NamedRuleWithOperations, ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding, ValidatingAdmissionPolicySpec, ValidatingAdmissionPolicyBindingSpec } from "kubernetes-types/admissionregistration/v1.js";
import type { AdmissionAttributes } from "../types.js";
import type { KubeObject, ResourceDefinition } from "../../registry/types.js";
import { StatusError } from "../../status.js";
import { createLogger } from "../../../util/log.js";
import { validatingAdmissionPolicy, type PolicySource } from "./plugin.js";

const deploymentsDef = { group: "apps", version: "v1", plural: "deployments", kind: "Deployment", namespaced: true } as unknown as ResourceDefinition;
const configMapsDef = { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true } as unknown as ResourceDefinition;
const log = createLogger("silent");

function deployment(replicas: number, labels: Record<string, string> = {}, name = "web"): KubeObject {
  return { apiVersion: "apps/v1", kind: "Deployment", metadata: { name, namespace: "default", labels }, spec: { replicas } } as KubeObject;
}

function attrs(object: KubeObject | undefined, o: Partial<AdmissionAttributes> = {}): AdmissionAttributes & { warnings: string[] } {
  return { operation: "CREATE", resource: deploymentsDef, subresource: "", namespace: "default", name: object?.metadata?.name ?? "", object, oldObject: undefined, user: { username: "alice", groups: ["devs"] }, dryRun: false, warnings: [], ...o };
}

/** kubernetes-types leaves out the fields NamedRuleWithOperations inlines from v1.Rule. */
const named = (r: NamedRuleWithOperations & { resources?: string[] }): NamedRuleWithOperations => r;

const RULES = { resourceRules: [{ apiGroups: ["apps"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["deployments"] }] };

function policy(name: string, spec: Partial<ValidatingAdmissionPolicySpec>): ValidatingAdmissionPolicy {
  return { metadata: { name }, spec: { failurePolicy: "Fail", matchConstraints: RULES, ...spec } };
}

function binding(name: string, policyName: string, spec: Partial<ValidatingAdmissionPolicyBindingSpec> = {}): ValidatingAdmissionPolicyBinding {
  return { metadata: { name }, spec: { policyName, validationActions: ["Deny"], ...spec } };
}

function source(policies: ValidatingAdmissionPolicy[], bindings: ValidatingAdmissionPolicyBinding[], o: { configMaps?: KubeObject[]; namespaces?: Record<string, Record<string, string>> } = {}): PolicySource {
  const namespaces = o.namespaces ?? { default: { env: "test" } };
  return {
    policies: () => policies,
    bindings: () => bindings,
    namespaceLabels: (name) => Promise.resolve(namespaces[name]),
    namespace: (name) => Promise.resolve(namespaces[name] ? ({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels: namespaces[name] } } as KubeObject) : undefined),
    resourceOfKind: (apiVersion, kind) => (apiVersion === "v1" && kind === "ConfigMap" ? configMapsDef : undefined),
    list: (def, ns) => (def === configMapsDef ? (o.configMaps ?? []).filter((c) => ns === "" || c.metadata?.namespace === ns) : []),
  };
}

async function refusal(p: Promise<void>): Promise<StatusError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof StatusError) return err;
    throw err;
  }
  assert.fail("expected a refusal");
}

describe("ValidatingAdmissionPolicy plugin", () => {
  const maxReplicas = policy("max-replicas", { validations: [{ expression: "object.spec.replicas <= 5" }] });

  it("denies what a validation rejects, with upstream's message; lets the rest through", async () => {
    const plugin = validatingAdmissionPolicy(source([maxReplicas], [binding("b", "max-replicas")]), log);
    await plugin.validate!(attrs(deployment(3)));
    const err = await refusal(Promise.resolve(plugin.validate!(attrs(deployment(6)))));
    assert.equal(err.code, 403);
    assert.equal(err.status.message, `deployments.apps "web" is forbidden: ValidatingAdmissionPolicy 'max-replicas' with binding 'b' denied request: failed expression: object.spec.replicas <= 5`);
    // Not matched: another resource, another operation, no binding.
    await plugin.validate!(attrs({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "default" } } as KubeObject, { resource: configMapsDef }));
    await plugin.validate!(attrs(undefined, { operation: "DELETE", name: "web", oldObject: deployment(9) }));
    await validatingAdmissionPolicy(source([maxReplicas], []), log).validate!(attrs(deployment(6)));
  });

  it("message, messageExpression, reason; Warn and Audit actions", async () => {
    const p = policy("p", {
      validations: [
        { expression: "object.spec.replicas <= 5", messageExpression: "'replicas ' + string(object.spec.replicas) + ' > 5'", reason: "Invalid" },
        { expression: "has(object.metadata.labels) && 'team' in object.metadata.labels", message: "a team label is required" },
      ],
    });
    const deny = validatingAdmissionPolicy(source([p], [binding("b", "p")]), log);
    const err = await refusal(Promise.resolve(deny.validate!(attrs(deployment(7, { team: "x" })))));
    assert.equal(err.code, 422);
    assert.equal(err.status.reason, "Invalid");
    assert.equal(err.status.message, "ValidatingAdmissionPolicy 'p' with binding 'b' denied request: replicas 7 > 5");
    const noTeam = await refusal(Promise.resolve(deny.validate!(attrs(deployment(1)))));
    assert.match(noTeam.status.message!, /denied request: a team label is required$/);

    const warn = validatingAdmissionPolicy(source([p], [binding("w", "p", { validationActions: ["Warn", "Audit"] })]), log);
    const a = attrs(deployment(9));
    await warn.validate!(a);
    assert.deepEqual(a.warnings, [
      "Validation failed for ValidatingAdmissionPolicy 'p' with binding 'w': replicas 9 > 5",
      "Validation failed for ValidatingAdmissionPolicy 'p' with binding 'w': a team label is required",
    ]);
  });

  it("matchConstraints and the binding's matchResources: selectors, excludes, resourceNames", async () => {
    const p = policy("p", { matchConstraints: { ...RULES, excludeResourceRules: [named({ apiGroups: ["apps"], apiVersions: ["v1"], operations: ["*"], resources: ["deployments"], resourceNames: ["exempt"] })] }, validations: [{ expression: "false" }] });
    const src = source([p], [binding("b", "p", { matchResources: { namespaceSelector: { matchLabels: { env: "test" } }, objectSelector: { matchExpressions: [{ key: "skip", operator: "DoesNotExist" }] } } })], { namespaces: { default: { env: "test" }, prod: { env: "prod" } } });
    const plugin = validatingAdmissionPolicy(src, log);
    await refusal(Promise.resolve(plugin.validate!(attrs(deployment(1)))));
    await plugin.validate!(attrs(deployment(1, {}, "exempt")));
    await plugin.validate!(attrs(deployment(1, { skip: "yes" })));
    await plugin.validate!(attrs({ ...deployment(1), metadata: { name: "web", namespace: "prod" } } as KubeObject, { namespace: "prod" }));
  });

  it("matchConditions, variables, namespaceObject and request", async () => {
    const p = policy("p", {
      matchConditions: [{ name: "not-admin", expression: "request.userInfo.username != 'admin'" }],
      variables: [
        { name: "replicas", expression: "'overridden'" },
        { name: "replicas", expression: "object.spec.replicas" },
        { name: "limit", expression: "namespaceObject.metadata.labels.env == 'test' ? 2 : 10" },
      ],
      validations: [{ expression: "variables.replicas <= variables.limit", messageExpression: "'at most ' + string(variables.limit) + ' replicas in ' + namespaceObject.metadata.name" }],
    });
    const plugin = validatingAdmissionPolicy(source([p], [binding("b", "p")]), log);
    const err = await refusal(Promise.resolve(plugin.validate!(attrs(deployment(3)))));
    assert.match(err.status.message!, /denied request: at most 2 replicas in default$/);
    await plugin.validate!(attrs(deployment(3), { user: { username: "admin", groups: [] } }));
  });

  it("params: by name or selector, per binding namespace; none found denies unless Allow", async () => {
    const p = policy("p", { paramKind: { apiVersion: "v1", kind: "ConfigMap" }, validations: [{ expression: "object.spec.replicas <= int(params.data.max)", messageExpression: "'max is ' + params.data.max" }] });
    const cm = (name: string, max: string, labels: Record<string, string> = {}): KubeObject => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "default", labels }, data: { max } }) as KubeObject;
    const byName = validatingAdmissionPolicy(source([p], [binding("b", "p", { paramRef: { name: "limits", parameterNotFoundAction: "Deny" } })], { configMaps: [cm("limits", "4")] }), log);
    await byName.validate!(attrs(deployment(4)));
    assert.match((await refusal(Promise.resolve(byName.validate!(attrs(deployment(5)))))).status.message!, /denied request: max is 4$/);

    const bySelector = validatingAdmissionPolicy(source([p], [binding("b", "p", { paramRef: { selector: { matchLabels: { kind: "limit" } }, parameterNotFoundAction: "Deny" } })], { configMaps: [cm("a", "9", { kind: "limit" }), cm("b", "2", { kind: "limit" }), cm("c", "1")] }), log);
    assert.match((await refusal(Promise.resolve(bySelector.validate!(attrs(deployment(3)))))).status.message!, /max is 2$/, "every selected parameter must pass");

    const missing = (action: string) => validatingAdmissionPolicy(source([p], [binding("b", "p", { paramRef: { name: "nope", parameterNotFoundAction: action } })]), log);
    assert.match((await refusal(Promise.resolve(missing("Deny").validate!(attrs(deployment(1)))))).status.message!, /no params found for policy binding with `Deny` parameterNotFoundAction$/);
    await missing("Allow").validate!(attrs(deployment(1)));
  });

  it("failurePolicy: an expression that fails to run refuses (Fail) or is skipped (Ignore)", async () => {
    const spec = { validations: [{ expression: "object.spec.missing.deeper == 1" }] };
    const fail = validatingAdmissionPolicy(source([policy("p", spec)], [binding("b", "p")]), log);
    assert.match((await refusal(Promise.resolve(fail.validate!(attrs(deployment(1)))))).status.message!, /ValidatingAdmissionPolicy 'p' with binding 'b' denied request: .*missing/);
    await validatingAdmissionPolicy(source([policy("p", { ...spec, failurePolicy: "Ignore" })], [binding("b", "p")]), log).validate!(attrs(deployment(1)));
  });

  it("admissionregistration objects are exempt", async () => {
    const plugin = validatingAdmissionPolicy(source([policy("p", { matchConstraints: { resourceRules: [named({ apiGroups: ["*"], apiVersions: ["*"], operations: ["*"], resources: ["*"] })] }, validations: [{ expression: "false" }] })], [binding("b", "p")]), log);
    const vapDef = { group: "admissionregistration.k8s.io", version: "v1", plural: "validatingadmissionpolicies", kind: "ValidatingAdmissionPolicy", namespaced: false } as unknown as ResourceDefinition;
    await plugin.validate!(attrs({ apiVersion: "admissionregistration.k8s.io/v1", kind: "ValidatingAdmissionPolicy", metadata: { name: "x" } } as KubeObject, { resource: vapDef, namespace: "" }));
  });
});
