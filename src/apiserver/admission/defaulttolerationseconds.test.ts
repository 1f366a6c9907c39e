import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Pod, Toleration } from "kubernetes-types/core/v1.js";
import { defaultTolerationSeconds } from "./defaulttolerationseconds.js";
import type { AdmissionAttributes, AdmissionOperation } from "./types.js";
import type { ResourceDefinition } from "../registry/types.js";
import { startTestApiServer } from "../../testing/apiserver.js";
import { adminClient } from "../../testing/client.js";

const podsDef = { group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true } as unknown as ResourceDefinition;
const user = { username: "admin", groups: ["system:masters"] };

function attrs(pod: Pod, operation: AdmissionOperation = "CREATE", subresource = "", resource: ResourceDefinition = podsDef): AdmissionAttributes {
  return { operation, resource, subresource, namespace: "ns", name: "p", object: pod as AdmissionAttributes["object"], oldObject: undefined, user, dryRun: false };
}

function admitted(tolerations: Toleration[] | undefined, operation: AdmissionOperation = "CREATE", subresource = ""): Toleration[] | undefined {
  const pod: Pod = { metadata: { name: "p" }, spec: { containers: [], ...(tolerations ? { tolerations } : {}) } };
  void defaultTolerationSeconds().admit!(attrs(pod, operation, subresource));
  return pod.spec!.tolerations;
}

const notReady: Toleration = { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 };
const unreachable: Toleration = { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 };

void describe("DefaultTolerationSeconds", () => {
  void it("adds both tolerations, bounded by 300 s, to a pod with none", () => {
    assert.deepEqual(admitted(undefined), [notReady, unreachable]);
    assert.deepEqual(admitted(undefined, "UPDATE"), [notReady, unreachable]);
  });

  void it("keeps the pod's own toleration for either taint and adds only the missing one", () => {
    const own: Toleration = { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 0 };
    assert.deepEqual(admitted([own]), [own, notReady]);
    const noEffect: Toleration = { key: "node.kubernetes.io/not-ready", operator: "Exists" };
    assert.deepEqual(admitted([noEffect]), [noEffect, unreachable]);
  });

  void it("treats an empty key (tolerate everything) as tolerating both", () => {
    const all: Toleration = { operator: "Exists" };
    assert.deepEqual(admitted([all]), [all]);
    const allNoExecute: Toleration = { operator: "Exists", effect: "NoExecute" };
    assert.deepEqual(admitted([allNoExecute]), [allNoExecute]);
  });

  void it("does not count a toleration of another effect", () => {
    const noSchedule: Toleration = { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoSchedule" };
    assert.deepEqual(admitted([noSchedule]), [noSchedule, notReady, unreachable]);
  });

  void it("leaves subresources, deletes and other resources alone", () => {
    assert.equal(admitted(undefined, "UPDATE", "status"), undefined);
    assert.equal(admitted(undefined, "UPDATE", "binding"), undefined);
    const pod: Pod = { spec: { containers: [] } };
    void defaultTolerationSeconds().admit!(attrs(pod, "CREATE", "", { ...podsDef, plural: "podtemplates" } as ResourceDefinition));
    assert.equal(pod.spec!.tolerations, undefined);
  });

  void it("honours configured durations", () => {
    const pod: Pod = { spec: { containers: [] } };
    void defaultTolerationSeconds({ notReadySeconds: 10, unreachableSeconds: 20 }).admit!(attrs(pod));
    assert.deepEqual(pod.spec!.tolerations!.map((t) => t.tolerationSeconds), [10, 20]);
  });

  void it("is on in the API server: a created pod carries the default tolerations", async () => {
    const srv = await startTestApiServer();
    const c = adminClient(srv.url, srv.dataDir);
    try {
      const body = { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "busybox" }], tolerations: [{ key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 0 }] } };
      const r = await c.request("POST", "/api/v1/namespaces/default/pods", JSON.stringify(body));
      assert.equal(r.status, 201, r.body);
      const pod = JSON.parse(r.body) as Pod;
      assert.deepEqual(pod.spec?.tolerations, [body.spec.tolerations[0], notReady]);
    } finally {
      c.close();
      await srv.stop();
    }
  });
});
