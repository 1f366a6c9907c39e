// x-kubernetes-validations end to end: an in-process API server and the official kubectl —
// rules refused at CRD time, custom resources refused by rules, transition rules on update,
// ratcheting warnings, and CRD-time warnings for rules k8ts cannot evaluate.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { kubernetesCelEnvironment } from "../../api/cel/environment.js";
import { startTestApiServer, type KubectlResult, type TestApiServer, succeeded as ok } from "../../testing/apiserver.js";
import { until } from "../../testing/wait.js";

function refused(r: KubectlResult, what: string): string {
  assert.notEqual(r.code, 0, `${what} should fail:\n${r.stdout}`);
  return r.stderr;
}

function crd(rules: string, extraRule = ""): string {
  return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: scalers.rules.example.com
spec:
  group: rules.example.com
  scope: Namespaced
  names: { plural: scalers, singular: scaler, kind: Scaler }
  versions:
    - name: v1
      served: true
      storage: true
      subresources: { status: {} }
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              x-kubernetes-validations:
${rules}${extraRule}
              properties:
                replicas: { type: integer }
                minReplicas: { type: integer }
                mode:
                  type: string
                  x-kubernetes-validations:
                    - rule: self == oldSelf
                      message: Value is immutable
                url: { type: string }
            status:
              type: object
              properties:
                ready: { type: integer }
`;
}

const goodRules = `                - rule: self.minReplicas <= self.replicas
                  message: replicas should be greater than or equal to minReplicas.
                - rule: self.replicas < 100
                  messageExpression: "'replicas ' + string(self.replicas) + ' is too many'"
`;

function scaler(spec: string): string {
  return `apiVersion: rules.example.com/v1
kind: Scaler
metadata: { name: web, namespace: default }
spec: ${spec}
`;
}

describe("CRD validation rules with kubectl", () => {
  let s: TestApiServer;
  const k = (args: string[], stdin?: string): Promise<KubectlResult> => s.kubectl(args, stdin !== undefined ? { stdin } : {});

  before(async () => {
    s = await startTestApiServer();
  });
  after(async () => {
    await s?.stop();
  });

  it("refuses a CRD whose rule does not compile", async () => {
    const err = refused(await k(["apply", "-f", "-"], crd(goodRules, "                - rule: self.replicas > 'x'\n")), "apply bad crd");
    assert.match(err, /spec\.versions\[0\]\.schema\.openAPIV3Schema\.properties\[spec\]\.x-kubernetes-validations\[2\]\.rule: Invalid value: apiextensions\.ValidationRule\{Rule:"self\.replicas > 'x'"/);
    assert.match(err, /compilation failed: ERROR: <input>:1:15: found no matching overload for '_>_' applied to '\(int, string\)'/);
  });

  it("accepts the CRD; a rule calling a library function k8ts lacks only warns", async () => {
    const urlMissing = !kubernetesCelEnvironment().clone().registerVariable("self", "string").check("isURL(self)").valid;
    const r = await k(["apply", "-f", "-"], crd(goodRules, "                - rule: \"!has(self.url) || isURL(self.url)\"\n"));
    ok(r, "apply crd");
    if (urlMissing) assert.match(r.stderr, /Warning: .*x-kubernetes-validations\[2\]\.rule: the rule "!has\(self\.url\) \|\| isURL\(self\.url\)" is not evaluated: k8ts does not have the CEL function isURL/);
    ok(await k(["wait", "--for", "condition=established", "--timeout=20s", "crd/scalers.rules.example.com"]), "wait");
  });

  it("refuses custom resources that break a rule, with upstream's messages", async () => {
    const err = refused(await k(["apply", "-f", "-"], scaler("{ replicas: 1, minReplicas: 2, mode: fast }")), "apply bad cr");
    assert.match(err, /The Scaler "web" is invalid: spec: Invalid value: "object": replicas should be greater than or equal to minReplicas\./);
    const err2 = refused(await k(["apply", "-f", "-"], scaler("{ replicas: 200, minReplicas: 2, mode: fast }")), "apply bad cr");
    assert.match(err2, /spec: Invalid value: "object": replicas 200 is too many/);
    ok(await k(["apply", "-f", "-"], scaler("{ replicas: 3, minReplicas: 2, mode: fast }")), "apply good cr");
  });

  it("transition rules run on update", async () => {
    const err = refused(await k(["patch", "scaler", "web", "--type=merge", "-p", '{"spec":{"mode":"slow"}}']), "patch mode");
    assert.match(err, /spec\.mode: Invalid value: "string": Value is immutable/);
    ok(await k(["patch", "scaler", "web", "--type=merge", "-p", '{"spec":{"replicas":4}}']), "patch replicas");
  });

  it("an unchanged value that breaks a newer rule is ratcheted: the write passes with a warning", async () => {
    const stricter = `                - rule: self.replicas % 2 == 1
                  message: replicas must be odd
`;
    ok(await k(["apply", "-f", "-"], crd(goodRules + stricter)), "apply stricter crd");
    // Custom resources are served with the new schema once the server has seen the CRD's change.
    let n = 0;
    await until("the ratcheting warning", async () => {
      const r = await k(["patch", "scaler", "web", "--type=merge", "-p", `{"metadata":{"labels":{"touch":"${++n}"}}}`]);
      ok(r, "patch labels");
      return /Warning: spec: Invalid value: "object": replicas must be odd/.test(r.stderr) ? true : undefined;
    });
    const err = refused(await k(["patch", "scaler", "web", "--type=merge", "-p", '{"spec":{"replicas":6}}']), "patch even");
    assert.match(err, /spec: Invalid value: "object": replicas must be odd/);
  });
});
