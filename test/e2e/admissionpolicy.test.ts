// ValidatingAdmissionPolicies end to end with the official kubectl: the documentation's
// examples (a replicas limit bound to a labelled namespace, a parameter ConfigMap, a Warn
// binding, a webhook filtered by matchConditions) against a real API server, and what kubectl
// prints when a policy refuses or warns.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { kubectlOk, startTestApiServer, type TestApiServer } from "../../src/testing/apiserver.js";

const POLICY = `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: demo-policy.example.com
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups:   ["apps"]
      apiVersions: ["v1"]
      operations:  ["CREATE", "UPDATE"]
      resources:   ["deployments"]
  validations:
  - expression: "object.spec.replicas <= 5"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: demo-binding-test.example.com
spec:
  policyName: demo-policy.example.com
  validationActions: [Deny]
  matchResources:
    namespaceSelector:
      matchLabels:
        environment: test
`;

const PARAMS = `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: replica-limit
spec:
  paramKind: {apiVersion: v1, kind: ConfigMap}
  matchConstraints:
    resourceRules:
    - {apiGroups: ["apps"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["deployments"]}
  variables:
  - {name: max, expression: "int(params.data.maxReplicas)"}
  validations:
  - expression: "object.spec.replicas <= variables.max"
    messageExpression: "'replicas must be no greater than ' + string(variables.max)"
    reason: Invalid
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: replica-limit-staging
spec:
  policyName: replica-limit
  validationActions: [Warn]
  paramRef: {name: replica-limit, namespace: staging, parameterNotFoundAction: Deny}
  matchResources:
    namespaceSelector:
      matchLabels: {kubernetes.io/metadata.name: staging}
`;

describe("ValidatingAdmissionPolicies with kubectl", { timeout: 120_000 }, () => {
  let s: TestApiServer;
  const kubectl = async (args: readonly string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> => s.kubectl(args, stdin === undefined ? {} : { stdin });
  const ok = (args: readonly string[], stdin?: string): Promise<string> => kubectlOk(s.kubectl, args, stdin);

  before(async () => {
    s = await startTestApiServer();
    await ok(["create", "namespace", "test"]);
    await ok(["label", "namespace", "test", "environment=test"]);
    await ok(["create", "namespace", "staging"]);
  });
  after(async () => {
    await s?.stop();
  });

  it("the documentation's replicas limit: refused in the bound namespace with upstream's message, allowed elsewhere", async () => {
    assert.match(await ok(["apply", "-f", "-"], POLICY), /validatingadmissionpolicy.admissionregistration.k8s.io\/demo-policy.example.com created\nvalidatingadmissionpolicybinding.admissionregistration.k8s.io\/demo-binding-test.example.com created/);
    const r = await kubectl(["create", "deployment", "nginx", "--image=nginx", "--replicas=6", "-n", "test"]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim(), `error: failed to create deployment: deployments.apps "nginx" is forbidden: ValidatingAdmissionPolicy 'demo-policy.example.com' with binding 'demo-binding-test.example.com' denied request: failed expression: object.spec.replicas <= 5`);
    await ok(["create", "deployment", "nginx", "--image=nginx", "--replicas=5", "-n", "test"]);
    const edit = await kubectl(["patch", "deployment", "nginx", "-n", "test", "-p", `{"spec":{"replicas":7}}`]);
    assert.match(edit.stderr, /denied request: failed expression: object\.spec\.replicas <= 5/, "an UPDATE is checked too");
    // As upstream: a rule for "deployments" does not cover the scale subresource ("deployments/scale" would).
    await ok(["scale", "deployment", "nginx", "--replicas=7", "-n", "test"]);
    await ok(["create", "deployment", "nginx", "--image=nginx", "--replicas=6", "-n", "default"]);
    assert.match(await ok(["get", "validatingadmissionpolicies"]), /^NAME\s+VALIDATIONS\s+PARAMKIND\s+AGE\ndemo-policy.example.com\s+1\s+<unset>\s+\d+s\n$/);
  });

  it("parameters from a ConfigMap, a variable, messageExpression, and a Warn binding that kubectl prints", async () => {
    await ok(["apply", "-f", "-"], PARAMS);
    const missing = await kubectl(["create", "deployment", "web", "--image=nginx", "--replicas=2", "-n", "staging"]);
    assert.match(missing.stderr, /ValidatingAdmissionPolicy 'replica-limit' with binding 'replica-limit-staging' denied request: failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction/);
    await ok(["create", "configmap", "replica-limit", "-n", "staging", "--from-literal=maxReplicas=3"]);
    const warned = await kubectl(["create", "deployment", "web", "--image=nginx", "--replicas=4", "-n", "staging"]);
    assert.equal(warned.code, 0, warned.stderr);
    assert.match(warned.stderr, /^Warning: Validation failed for ValidatingAdmissionPolicy 'replica-limit' with binding 'replica-limit-staging': replicas must be no greater than 3$/m);
  });

  it("a policy whose expression does not compile is refused with upstream's error", async () => {
    const bad = POLICY.split("---")[0]!.replace("demo-policy.example.com", "bad-policy").replace("object.spec.replicas <= 5", "object.spec.replicas <=");
    const r = await kubectl(["apply", "-f", "-"], bad);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /spec\.validations\[0\]\.expression: Invalid value: "object\.spec\.replicas <=": compilation failed: ERROR: <input>:1:/);
  });

  it("a webhook's matchConditions are accepted and checked", async () => {
    const hook = (expression: string): string => `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: conditional}
webhooks:
- name: conditional.example.com
  admissionReviewVersions: ["v1"]
  sideEffects: None
  failurePolicy: Fail
  clientConfig: {url: "https://127.0.0.1:1/never"}
  rules: [{apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["configmaps"]}]
  matchConditions:
  - name: only-webhook-labelled
    expression: "${expression}"
`;
    await ok(["apply", "-f", "-"], hook("has(object.metadata.labels) && 'webhook' in object.metadata.labels"));
    // The condition is false: the unreachable webhook is never called.
    await ok(["create", "configmap", "plain", "-n", "default"]);
    const bad = await kubectl(["apply", "-f", "-"], hook("object.metadata.labels.webhook =="));
    assert.match(bad.stderr, /webhooks\[0\]\.matchConditions\[0\]\.expression: Invalid value: .*compilation failed/);
    await ok(["delete", "validatingwebhookconfiguration", "conditional"]);
  });
});
