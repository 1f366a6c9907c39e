import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { pods } from "../resources/core/pod.js";
import { services } from "../resources/core/service.js";
import type { KubeObject } from "../registry/types.js";
import { StatusError } from "../status.js";
import { selectionFilter } from "./selection.js";

const filter = (def: typeof pods, fieldSelector: string) => selectionFilter(def, new URLSearchParams({ fieldSelector }))!;

describe("selectionFilter", () => {
  it("refuses a selector that does not parse with upstream's message, said once", () => {
    const refusal = (q: Record<string, string>): string => {
      try {
        selectionFilter(pods, new URLSearchParams(q));
      } catch (err) {
        assert.ok(err instanceof StatusError);
        assert.equal(err.status.code, 400);
        return err.status.message ?? "";
      }
      return "accepted";
    };
    assert.equal(refusal({ labelSelector: "a in (b" }), "unable to parse requirement: found '', expected: ',' or ')'");
    assert.equal(refusal({ fieldSelector: "foo=bar" }), "field label not supported: foo");
  });

  it("judges each watcher's field selector on an object whose fields another filter computed first", () => {
    const bound: KubeObject = { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "ns" }, spec: { nodeName: "n1" }, status: { phase: "Running" } };
    const pending: KubeObject = { apiVersion: "v1", kind: "Pod", metadata: { name: "q", namespace: "ns" }, spec: {}, status: { phase: "Pending" } };
    const assigned = filter(pods, "spec.nodeName!=");
    const unassigned = filter(pods, "spec.nodeName=,status.phase!=Succeeded,status.phase!=Failed");
    const onN1 = filter(pods, "spec.nodeName=n1");
    assert.deepEqual([assigned(bound), unassigned(bound), onN1(bound)], [true, false, true]);
    assert.deepEqual([assigned(pending), unassigned(pending), onN1(pending)], [false, true, false]);
  });

  it("reads an object's fields as the kind whose filter asks declares them", () => {
    const obj: KubeObject = { apiVersion: "v1", kind: "Service", metadata: { name: "s", namespace: "ns" }, spec: { type: "NodePort", clusterIP: "10.0.0.1", nodeName: "x" } };
    assert.equal(filter(pods, "spec.nodeName=x")(obj), true);
    assert.equal(filter(services, "spec.type=NodePort")(obj), true, "the fields pods computed are not the Service's");
    assert.throws(() => filter(services, "spec.nodeName=x"), /field label not supported/);
  });
});
