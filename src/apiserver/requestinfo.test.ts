import { test } from "node:test";
import assert from "node:assert/strict";
import { parseRequestInfo } from "./requestinfo.js";

const cases: [string, string, Partial<ReturnType<typeof parseRequestInfo>>][] = [
  ["GET", "/api/v1/namespaces/default/pods", { verb: "list", resource: "pods", namespace: "default", name: "", apiGroup: "", apiVersion: "v1" }],
  ["GET", "/api/v1/namespaces/default/pods/web", { verb: "get", resource: "pods", namespace: "default", name: "web" }],
  ["GET", "/api/v1/namespaces/default/pods?watch=true", { verb: "watch", resource: "pods" }],
  // ?watch as upstream's codec reads booleans: only "0" and "false" (any case) are false.
  ["GET", "/api/v1/namespaces/default/pods?watch=True", { verb: "watch" }],
  ["GET", "/api/v1/namespaces/default/pods?watch=yes", { verb: "watch" }],
  ["GET", "/api/v1/namespaces/default/pods?watch=", { verb: "watch" }],
  ["GET", "/api/v1/namespaces/default/pods?watch=FALSE", { verb: "list" }],
  ["GET", "/api/v1/namespaces/default/pods?watch=0", { verb: "list" }],
  // Only a list becomes a watch: a named GET stays a get.
  ["GET", "/api/v1/namespaces/default/pods/web?watch=true", { verb: "get", name: "web" }],
  ["GET", "/api/v1/watch/namespaces/default/pods/web", { verb: "watch", resource: "pods", name: "web" }],
  ["GET", "/api/v1/pods", { verb: "list", resource: "pods", namespace: "" }],
  ["GET", "/api/v1/namespaces", { verb: "list", resource: "namespaces", namespace: "" }],
  ["GET", "/api/v1/namespaces/kube-system", { verb: "get", resource: "namespaces", namespace: "kube-system", name: "kube-system" }],
  ["PUT", "/api/v1/namespaces/x/finalize", { verb: "update", resource: "namespaces", name: "x", subresource: "finalize" }],
  ["PUT", "/api/v1/namespaces/x/status", { verb: "update", resource: "namespaces", name: "x", subresource: "status" }],
  ["PATCH", "/apis/apps/v1/namespaces/d/deployments/web/scale", { verb: "patch", apiGroup: "apps", resource: "deployments", name: "web", subresource: "scale" }],
  ["DELETE", "/apis/apps/v1/namespaces/d/deployments", { verb: "deletecollection", resource: "deployments" }],
  ["POST", "/api/v1/namespaces/d/pods/p/binding", { verb: "create", subresource: "binding", name: "p" }],
  ["GET", "/api/v1/nodes/n1/proxy/stats/summary", { verb: "get", resource: "nodes", subresource: "proxy", parts: ["stats", "summary"] }],
];

test("parseRequestInfo resource requests", () => {
  for (const [method, path, want] of cases) {
    const got = parseRequestInfo(method, new URL(path, "https://x"));
    assert.equal(got.isResourceRequest, true, path);
    for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k as keyof typeof got], v, `${method} ${path}: ${k}`);
  }
});

test("parseRequestInfo non-resource requests", () => {
  for (const path of ["/api", "/apis", "/apis/apps", "/api/v1", "/apis/apps/v1", "/healthz", "/version", "/openapi/v3"]) {
    const got = parseRequestInfo("GET", new URL(path, "https://x"));
    assert.equal(got.isResourceRequest, false, path);
    assert.equal(got.verb, "get");
  }
});
