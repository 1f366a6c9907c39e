// ValidatingAdmissionPolicies and their bindings as resources, with the official kubectl against
// a real API server: created from manifests with upstream's defaults, listed in upstream's table
// columns, refused with upstream's 422 messages (CEL compiled when written), found by explain.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startTestApiServer, succeeded as ok, type KubectlResult, type TestApiServer } from "../../src/testing/apiserver.js";

// The policy matches a group nothing in this suite writes, so any admission plugin reading
// these objects never judges a request here.
const POLICY = `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: widget-size}
spec:
  paramKind: {apiVersion: v1, kind: ConfigMap}
  matchConstraints:
    resourceRules:
    - {operations: [CREATE, UPDATE], apiGroups: [widgets.example.com], apiVersions: [v1], resources: [widgets]}
  matchConditions:
  - {name: not-system, expression: "!request.userInfo.username.startsWith('system:')"}
  variables:
  - {name: size, expression: "object.spec.size"}
  validations:
  - expression: "params == null || variables.size <= int(params.data.max)"
    messageExpression: "'size must be at most ' + params.data.max"
    reason: Forbidden
  auditAnnotations:
  - {key: size, valueExpression: "string(variables.size)"}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: widget-size-default}
spec:
  policyName: widget-size
  paramRef: {name: widget-limits, namespace: default, parameterNotFoundAction: Deny}
  validationActions: [Deny, Audit]
`;

const BAD = `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: bad-policy}
spec:
  failurePolicy: Retry
  matchConstraints: {}
  validations:
  - {expression: "object.spec.size", message: "two\\nlines", reason: Teapot}
  - {expression: "'not a bool'"}
  variables:
  - {name: my-var, expression: "1 +"}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: bad-binding}
spec:
  paramRef: {name: a, selector: {}, parameterNotFoundAction: Skip}
  validationActions: [Deny, Warn]
`;

void describe("ValidatingAdmissionPolicy resources with kubectl", () => {
  let s: TestApiServer;
  const k = (args: string[], stdin?: string): Promise<KubectlResult> => s.kubectl(args, stdin !== undefined ? { stdin } : {});

  before(async () => {
    s = await startTestApiServer();
  });
  after(async () => {
    await s?.stop();
  });

  void it("lists both kinds in api-resources and the api-extensions category", async () => {
    const res = ok(await k(["api-resources", "--api-group=admissionregistration.k8s.io", "--no-headers"]), "api-resources");
    assert.match(res, /^validatingadmissionpolicies\s+admissionregistration\.k8s\.io\/v1\s+false\s+ValidatingAdmissionPolicy$/m);
    assert.match(res, /^validatingadmissionpolicybindings\s+admissionregistration\.k8s\.io\/v1\s+false\s+ValidatingAdmissionPolicyBinding$/m);
    const ext = ok(await k(["api-resources", "--categories=api-extensions", "-o", "name"]), "api-resources --categories").split("\n");
    assert.ok(ext.includes("validatingadmissionpolicies.admissionregistration.k8s.io"), ext.join(" "));
  });

  void it("creates a policy and its binding with upstream's defaults and tables", async () => {
    const created = ok(await k(["create", "-f", "-"], POLICY), "create");
    assert.match(created, /validatingadmissionpolicy\.admissionregistration\.k8s\.io\/widget-size created/);
    assert.match(created, /validatingadmissionpolicybinding\.admissionregistration\.k8s\.io\/widget-size-default created/);

    const got = JSON.parse(ok(await k(["get", "validatingadmissionpolicy", "widget-size", "-o", "json"]), "get -o json")) as {
      metadata: { generation: number };
      spec: { failurePolicy: string; matchConstraints: Record<string, unknown> & { resourceRules: { scope: string }[] } };
    };
    assert.equal(got.metadata.generation, 1);
    assert.equal(got.spec.failurePolicy, "Fail");
    assert.equal(got.spec.matchConstraints.matchPolicy, "Equivalent");
    assert.deepEqual([got.spec.matchConstraints.namespaceSelector, got.spec.matchConstraints.objectSelector], [{}, {}]);
    assert.equal(got.spec.matchConstraints.resourceRules[0]!.scope, "*");

    const table = (out: string): string[][] => out.trimEnd().split("\n").map((l) => l.trim().split(/\s{2,}/));
    const policies = table(ok(await k(["get", "validatingadmissionpolicies"]), "get policies"));
    assert.deepEqual(policies[0], ["NAME", "VALIDATIONS", "PARAMKIND", "AGE"]);
    assert.deepEqual(policies[1]!.slice(0, 3), ["widget-size", "1", "v1/ConfigMap"]);
    const bindings = table(ok(await k(["get", "validatingadmissionpolicybindings"]), "get bindings"));
    assert.deepEqual(bindings[0], ["NAME", "POLICYNAME", "PARAMREF", "AGE"]);
    assert.deepEqual(bindings[1]!.slice(0, 3), ["widget-size-default", "widget-size", "default/widget-limits"]);

    ok(await k(["patch", "validatingadmissionpolicy", "widget-size", "--type=merge", "-p", '{"spec":{"failurePolicy":"Ignore"}}']), "patch");
    const patched = JSON.parse(ok(await k(["get", "validatingadmissionpolicy", "widget-size", "-o", "json"]), "get")) as { metadata: { generation: number } };
    assert.equal(patched.metadata.generation, 2, "a spec change bumps the generation");
  });

  void it("refuses invalid ones with upstream's 422 messages", async () => {
    const r = await k(["create", "-f", "-"], BAD);
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /ValidatingAdmissionPolicy\.admissionregistration\.k8s\.io "bad-policy" is invalid/);
    assert.match(r.stderr, /spec\.failurePolicy: Unsupported value: "Retry": supported values: "Fail", "Ignore"/);
    assert.match(r.stderr, /spec\.matchConstraints\.resourceRules: Required value/);
    assert.match(r.stderr, /spec\.variables\[0\]\.name: Invalid value: "my-var": name is not a valid CEL identifier/);
    assert.match(r.stderr, /spec\.variables\[0\]\.expression: Invalid value: "1 \+": compilation failed: ERROR: <input>:1:\d+: Syntax error/);
    assert.match(r.stderr, /spec\.validations\[0\]\.message: Invalid value: "two\\nlines": message must not contain line breaks/);
    assert.match(r.stderr, /spec\.validations\[0\]\.reason: Unsupported value: "Teapot": supported values: "Forbidden", "Invalid", "RequestEntityTooLarge"/);
    assert.match(r.stderr, /spec\.validations\[1\]\.expression: Invalid value: "'not a bool'": must evaluate to a bool/);
    assert.match(r.stderr, /ValidatingAdmissionPolicyBinding\.admissionregistration\.k8s\.io "bad-binding" is invalid/);
    assert.match(r.stderr, /spec\.policyName: Required value/);
    assert.match(r.stderr, /spec\.paramRef\.name: Forbidden: name and selector are mutually exclusive/);
    assert.match(r.stderr, /spec\.paramRef\.parameterNotFoundAction: Unsupported value: "Skip": supported values: "Deny", "Allow"/);
    assert.match(r.stderr, /spec\.validationActions: Invalid value: \[\]admissionregistration\.ValidationAction\{"Deny", "Warn"\}: must not contain both Deny and Warn/);
    const none = await k(["get", "validatingadmissionpolicy", "bad-policy"]);
    assert.notEqual(none.code, 0, "nothing was stored");
  });

  void it("kubectl explain finds the policy's fields", async () => {
    const out = ok(await k(["explain", "validatingadmissionpolicy.spec.validations"]), "explain");
    assert.match(out, /GROUP:\s+admissionregistration\.k8s\.io/);
    assert.match(out, /expression\s+<string> -required-/);
    const binding = ok(await k(["explain", "validatingadmissionpolicybinding.spec.paramRef"]), "explain binding");
    assert.match(binding, /parameterNotFoundAction/);
  });
});
