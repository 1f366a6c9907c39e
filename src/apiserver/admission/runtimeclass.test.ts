import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Pod, Toleration } from "kubernetes-types/core/v1.js";
import type { RuntimeClass } from "kubernetes-types/node/v1.js";
import { mergeTolerations, runtimeClassAdmission, toleratesSuperset } from "./runtimeclass.js";
import type { AdmissionAttributes, AdmissionOperation } from "./types.js";
import type { KubeObject, ResourceDefinition } from "../registry/types.js";
import { StatusError } from "../status.js";
import { startTestApiServer, type TestApiServer } from "../../testing/apiserver.js";

const podsDef = { group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true } as unknown as ResourceDefinition;
const user = { username: "admin", groups: ["system:masters"] };

function attrs(pod: Pod, operation: AdmissionOperation = "CREATE", subresource = ""): AdmissionAttributes {
  return { operation, resource: podsDef, subresource, namespace: "ns", name: "p", object: pod as AdmissionAttributes["object"], oldObject: undefined, user, dryRun: false };
}

const classes: Record<string, RuntimeClass> = {
  plain: { handler: "runc" },
  heavy: { handler: "runc", overhead: { podFixed: { cpu: "250m", memory: "64Mi" } } },
  sandboxed: {
    handler: "runc",
    scheduling: { nodeSelector: { sandbox: "yes" }, tolerations: [{ key: "sandbox", operator: "Exists", effect: "NoSchedule" }] },
  },
  gone: { metadata: { name: "gone", deletionTimestamp: "2026-01-01T00:00:00Z" }, handler: "runc" },
};
const plugin = runtimeClassAdmission((name) => Promise.resolve(classes[name] as KubeObject | undefined));

async function admitted(spec: Pod["spec"], operation: AdmissionOperation = "CREATE"): Promise<Pod["spec"]> {
  const pod: Pod = { metadata: { name: "p" }, spec: { containers: [], ...spec } };
  await plugin.admit!(attrs(pod, operation));
  await plugin.validate!(attrs(pod, operation));
  return pod.spec;
}

async function refused(spec: Pod["spec"]): Promise<string> {
  const err = await admitted(spec).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof StatusError, "refused");
  assert.equal(err.status.code, 403);
  return err.status.message ?? "";
}

void describe("RuntimeClass admission", () => {
  void it("gives a pod its class's overhead, and leaves pods of classes without one alone", async () => {
    assert.deepEqual((await admitted({ containers: [], runtimeClassName: "heavy" }))!.overhead, { cpu: "250m", memory: "64Mi" });
    assert.deepEqual(await admitted({ containers: [], runtimeClassName: "plain" }), { containers: [], runtimeClassName: "plain" });
    // The same overhead, written otherwise, is the same.
    assert.deepEqual((await admitted({ containers: [], runtimeClassName: "heavy", overhead: { cpu: "0.25", memory: "65536Ki" } }))!.overhead, { cpu: "250m", memory: "64Mi" });
  });

  void it("refuses a missing class, an overhead that is not the class's, and an overhead without a class that defines one", async () => {
    assert.equal(await refused({ containers: [], runtimeClassName: "nope" }), 'pods "p" is forbidden: pod rejected: RuntimeClass "nope" not found');
    assert.equal(await refused({ containers: [], runtimeClassName: "gone" }), 'pods "p" is forbidden: pod rejected: RuntimeClass "gone" not found');
    assert.equal(await refused({ containers: [], runtimeClassName: "heavy", overhead: { cpu: "1" } }), "pods \"p\" is forbidden: pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead");
    assert.equal(await refused({ containers: [], overhead: { cpu: "1" } }), 'pods "p" is forbidden: pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead');
    assert.equal(await refused({ containers: [], runtimeClassName: "plain", overhead: { cpu: "1" } }), 'pods "p" is forbidden: pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead');
  });

  void it("merges the class's node selector and tolerations, refusing a conflicting selector", async () => {
    const spec = await admitted({ containers: [], runtimeClassName: "sandboxed", nodeSelector: { zone: "a" }, tolerations: [{ key: "other", operator: "Exists" }] });
    assert.deepEqual(spec!.nodeSelector, { zone: "a", sandbox: "yes" });
    assert.deepEqual(spec!.tolerations, [{ key: "other", operator: "Exists" }, { key: "sandbox", operator: "Exists", effect: "NoSchedule" }]);
    // A pod toleration that covers the class's keeps it from being added twice.
    const covered = await admitted({ containers: [], runtimeClassName: "sandboxed", tolerations: [{ key: "sandbox", operator: "Exists" }] });
    assert.deepEqual(covered!.tolerations, [{ key: "sandbox", operator: "Exists" }]);
    assert.equal(await refused({ containers: [], runtimeClassName: "sandboxed", nodeSelector: { sandbox: "no" } }), 'pods "p" is forbidden: conflict: runtimeClass.scheduling.nodeSelector[sandbox] = yes; pod.spec.nodeSelector[sandbox] = no');
  });

  void it("looks at pod creates only", async () => {
    for (const op of ["UPDATE", "DELETE"] as const) assert.deepEqual(await admitted({ containers: [], runtimeClassName: "nope", overhead: { cpu: "1" } }, op), { containers: [], runtimeClassName: "nope", overhead: { cpu: "1" } });
    const pod: Pod = { metadata: { name: "p" }, spec: { containers: [], runtimeClassName: "nope" } };
    await plugin.admit!(attrs(pod, "CREATE", "status"));
  });

  void it("merges tolerations as upstream's MergeTolerations: a covered one dropped, equal ones once", () => {
    const t = (o: Toleration): Toleration => o;
    assert.ok(toleratesSuperset(t({ operator: "Exists" }), t({ key: "a", operator: "Equal", value: "x", effect: "NoSchedule" })));
    assert.ok(toleratesSuperset(t({ key: "a", operator: "Exists" }), t({ key: "a", operator: "Equal", value: "x" })));
    assert.ok(!toleratesSuperset(t({ key: "a", operator: "Equal", value: "x" }), t({ key: "a", operator: "Equal", value: "y" })));
    assert.ok(!toleratesSuperset(t({ key: "a", operator: "Exists", effect: "NoSchedule" }), t({ key: "a", operator: "Exists", effect: "NoExecute" })));
    assert.ok(!toleratesSuperset(t({ key: "a", operator: "Exists", effect: "NoExecute", tolerationSeconds: 10 }), t({ key: "a", operator: "Exists", effect: "NoExecute", tolerationSeconds: 20 })));
    assert.ok(toleratesSuperset(t({ key: "a", operator: "Exists", effect: "NoExecute", tolerationSeconds: 20 }), t({ key: "a", operator: "Exists", effect: "NoExecute", tolerationSeconds: 10 })));
    const a = t({ key: "a", operator: "Equal", value: "x" });
    const all = t({ key: "a", operator: "Exists" });
    assert.deepEqual(mergeTolerations([a], [all]), [all]);
    assert.deepEqual(mergeTolerations([a, a], []), [a]);
    assert.deepEqual(mergeTolerations([], []), []);
  });
});

void describe("RuntimeClasses through the API server", () => {
  let api: TestApiServer;
  before(async () => {
    api = await startTestApiServer();
  });
  after(async () => {
    await api?.stop();
  });

  void it("kubectl creates, lists and validates classes, and a pod naming one gets its overhead and scheduling", async () => {
    const created = await api.kubectl(["apply", "-f", "-"], {
      stdin: `apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: kata}
handler: runc
overhead:
  podFixed: {cpu: "0.1", memory: 32Mi}
scheduling:
  nodeSelector: {runtime: kata}
`,
    });
    assert.equal(created.code, 0, created.stderr);
    // Stored canonical, as upstream stores quantities.
    assert.equal((await api.kubectl(["get", "runtimeclass", "kata", "-o", "jsonpath={.overhead.podFixed.cpu}"])).stdout, "100m");
    const listed = await api.kubectl(["get", "runtimeclasses"]);
    assert.match(listed.stdout, /^NAME\s+HANDLER\s+AGE\nkata\s+runc\s+\d+s\n$/);
    const resources = await api.kubectl(["api-resources", "--api-group=node.k8s.io", "--no-headers"]);
    assert.match(resources.stdout, /^runtimeclasses\s+node\.k8s\.io\/v1\s+false\s+RuntimeClass$/m);

    const bad = await api.kubectl(["create", "-f", "-"], { stdin: `{"apiVersion":"node.k8s.io/v1","kind":"RuntimeClass","metadata":{"name":"bad"},"handler":"Not_A_Label","overhead":{"podFixed":{"cpu":"-1"}}}` });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /The RuntimeClass "bad" is invalid: \n\* handler: Invalid value: "Not_A_Label": a lowercase RFC 1123 label must consist of/);
    assert.match(bad.stderr, /overhead.limits\[cpu\]: Invalid value: "-1": must be greater than or equal to 0/);
    const changed = await api.kubectl(["patch", "runtimeclass", "kata", "--type=merge", "-p", '{"handler":"crun"}']);
    assert.notEqual(changed.code, 0);
    assert.match(changed.stderr, /handler: Invalid value: "crun": field is immutable/);

    const pod = await api.kubectl(["run", "k", "--image=busybox:1.35", "--overrides", '{"spec":{"runtimeClassName":"kata"}}', "-o", "jsonpath={.spec.overhead} {.spec.nodeSelector}"]);
    assert.equal(pod.code, 0, pod.stderr);
    assert.equal(pod.stdout, '{"cpu":"100m","memory":"32Mi"} {"runtime":"kata"}');
    const missing = await api.kubectl(["run", "m", "--image=busybox:1.35", "--overrides", '{"spec":{"runtimeClassName":"nope"}}']);
    assert.match(missing.stderr, /Error from server \(Forbidden\): pods "m" is forbidden: pod rejected: RuntimeClass "nope" not found/);
  });
});
