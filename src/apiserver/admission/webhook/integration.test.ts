// The webhook plugins in a real API server: configurations written through the API, read
// from the watch cache, webhooks called over HTTPS on every matching write.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { networkInterfaces } from "node:os";
import { startTestApiServer, type TestApiServer } from "../../../testing/apiserver.js";
import { adminClient, type RawClient, type RawResponse } from "../../../testing/client.js";
import { freePort } from "../../../testing/net.js";
import { allow, patchAnswer, startWebhookServer, type WebhookServer } from "./testing.js";

const MWC = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations";
const VWC = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations";

/** Retries `probe` until it returns a value, for at most `ms` (the watch cache sees new configurations a moment after their write). */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function labelsOf(r: RawResponse): Record<string, string> {
  return (JSON.parse(r.body) as { metadata?: { labels?: Record<string, string> } }).metadata?.labels ?? {};
}

/** An IPv4 address of this machine outside loopback (EndpointSlice validation refuses 127.0.0.0/8), if it has one. */
function hostAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) if (i.family === "IPv4" && !i.internal && !i.address.startsWith("169.254.")) return i.address;
  return undefined;
}

void describe("admission webhooks through the API server", () => {
  let api: TestApiServer;
  let client: RawClient;
  let hooks: WebhookServer;
  const post = async (path: string, obj: unknown): Promise<RawResponse> => client.request("POST", path, JSON.stringify(obj), { "content-type": "application/json" });
  const created = async (path: string, obj: unknown): Promise<RawResponse> => {
    const r = await post(path, obj);
    assert.equal(r.status, 201, r.body);
    return r;
  };
  const configMap = (name: string, labels: Record<string, string> = {}): unknown => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, labels } });
  const webhook = (name: string, path: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    name,
    admissionReviewVersions: ["v1"],
    sideEffects: "None",
    clientConfig: { url: hooks.url(path), caBundle: hooks.caBundle },
    rules: [{ operations: ["CREATE", "UPDATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["configmaps", "pods"] }],
    ...extra,
  });
  /** Dry-run creates until the webhook's effect shows (its configuration is in the cache). */
  const untilLabelled = async (ns: string, labels: Record<string, string>, key: string): Promise<void> => {
    await eventually(`label ${key}`, async () => {
      const r = await post(`/api/v1/namespaces/${ns}/configmaps?dryRun=All`, configMap("probe", labels));
      return r.status === 201 && labelsOf(r)[key] !== undefined ? true : undefined;
    });
  };

  before(async () => {
    api = await startTestApiServer();
    client = adminClient(api.url, api.dataDir);
    // On every address: the service test's endpoint is this machine's own non-loopback address.
    hooks = await startWebhookServer(["hook.webhooks.svc"], "0.0.0.0");
    hooks.handle("/label", (req) => (req.object && (req.object["metadata"] as { labels?: object }).labels ? patchAnswer([{ op: "add", path: "/metadata/labels/injected", value: "yes" }]) : patchAnswer([{ op: "add", path: "/metadata/labels", value: { injected: "yes" } }])));
    hooks.handle("/deny-marked", (req) => {
      const labels = (req.object?.["metadata"] as { labels?: Record<string, string> } | undefined)?.labels ?? {};
      return labels["deny"] === "true" ? { response: { allowed: false, status: { code: 422, reason: "Invalid", message: "deny=true is not allowed here" } } } : { response: { allowed: true, warnings: ["checked by marked"] } };
    });
    hooks.handle("/deny-all", () => ({ response: { allowed: false, status: { message: "nothing passes" } } }));
    hooks.handle("/svc", () => patchAnswer([{ op: "add", path: "/metadata/labels/via", value: "service" }]));
  });
  after(async () => {
    client.close();
    await api.stop();
    await hooks.close();
  });

  void it("a mutating webhook labels new configmaps and pods", async () => {
    await created(MWC, { apiVersion: "admissionregistration.k8s.io/v1", kind: "MutatingWebhookConfiguration", metadata: { name: "labeler" }, webhooks: [webhook("label.example.com", "/label", { objectSelector: { matchLabels: { inject: "yes" } } })] });
    await untilLabelled("default", { inject: "yes" }, "injected");
    const cm = await created("/api/v1/namespaces/default/configmaps", configMap("cm1", { inject: "yes" }));
    assert.deepEqual(labelsOf(cm), { inject: "yes", injected: "yes" });
    const other = await created("/api/v1/namespaces/default/configmaps", configMap("cm2"));
    assert.deepEqual(labelsOf(other), {}, "the objectSelector leaves it alone");
    const pod = await created("/api/v1/namespaces/default/pods", { apiVersion: "v1", kind: "Pod", metadata: { name: "p1", labels: { inject: "yes" } }, spec: { containers: [{ name: "c", image: "nginx" }] } });
    assert.equal(labelsOf(pod)["injected"], "yes");
    const stored = await client.request("GET", "/api/v1/namespaces/default/configmaps/cm1");
    assert.equal(labelsOf(stored)["injected"], "yes");
  });

  void it("a validating webhook refuses with its code and message", async () => {
    await created(VWC, { apiVersion: "admissionregistration.k8s.io/v1", kind: "ValidatingWebhookConfiguration", metadata: { name: "marked" }, webhooks: [webhook("marked.example.com", "/deny-marked")] });
    const r = await eventually("the refusal", async () => {
      const res = await post("/api/v1/namespaces/default/configmaps?dryRun=All", configMap("bad", { deny: "true" }));
      return res.status === 422 ? res : undefined;
    });
    const status = JSON.parse(r.body) as { kind: string; reason: string; message: string; code: number };
    assert.equal(status.kind, "Status");
    assert.equal(status.reason, "Invalid");
    assert.equal(status.code, 422);
    assert.equal(status.message, 'configmaps "bad" is forbidden: admission webhook "marked.example.com" denied the request: deny=true is not allowed here');
    const good = await created("/api/v1/namespaces/default/configmaps", configMap("good"));
    // Its warnings reach the client as Warning headers.
    assert.deepEqual(good.headers["warning"], '299 - "checked by marked"');
    const del = await client.request("DELETE", `${VWC}/marked`);
    assert.equal(del.status, 200, del.body);
  });

  void it("a service reference is called through an EndpointSlice endpoint", { skip: hostAddress() === undefined ? "no non-loopback IPv4 address" : false }, async () => {
    const address = hostAddress()!;
    await created("/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "webhooks" } });
    await created("/api/v1/namespaces/webhooks/services", { apiVersion: "v1", kind: "Service", metadata: { name: "hook" }, spec: { ports: [{ name: "https", port: 443, targetPort: hooks.port }] } });
    await created("/apis/discovery.k8s.io/v1/namespaces/webhooks/endpointslices", {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { name: "hook-1", labels: { "kubernetes.io/service-name": "hook" } },
      addressType: "IPv4",
      ports: [{ name: "https", port: hooks.port, protocol: "TCP" }],
      endpoints: [{ addresses: [address], conditions: { ready: true } }],
    });
    await created(MWC, {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "MutatingWebhookConfiguration",
      metadata: { name: "by-service" },
      webhooks: [webhook("svc.example.com", "/svc", { clientConfig: { service: { namespace: "webhooks", name: "hook", path: "/svc" }, caBundle: hooks.caBundle }, objectSelector: { matchLabels: { route: "svc" } } })],
    });
    await untilLabelled("default", { route: "svc" }, "via");
    const cm = await created("/api/v1/namespaces/default/configmaps", configMap("via-svc", { route: "svc" }));
    assert.equal(labelsOf(cm)["via"], "service");
  });

  void it("failurePolicy: Ignore lets writes through a dead webhook, Fail answers 500; the configuration can still be deleted", async () => {
    const port = await freePort();
    const dead = { url: `https://127.0.0.1:${port}/dead`, caBundle: hooks.caBundle };
    await created(VWC, { apiVersion: "admissionregistration.k8s.io/v1", kind: "ValidatingWebhookConfiguration", metadata: { name: "dead" }, webhooks: [webhook("dead.example.com", "/dead", { clientConfig: dead, failurePolicy: "Ignore", namespaceSelector: { matchLabels: { dead: "yes" } } })] });
    await created("/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "deadzone", labels: { dead: "yes" } } });
    await created("/api/v1/namespaces/deadzone/configmaps", configMap("passes"));
    const put = await client.request(
      "PUT",
      `${VWC}/dead`,
      JSON.stringify({ apiVersion: "admissionregistration.k8s.io/v1", kind: "ValidatingWebhookConfiguration", metadata: { name: "dead" }, webhooks: [webhook("dead.example.com", "/dead", { clientConfig: dead, failurePolicy: "Fail", namespaceSelector: { matchLabels: { dead: "yes" } } })] }),
      { "content-type": "application/json" },
    );
    assert.equal(put.status, 200, put.body);
    const r = await eventually("the failure", async () => {
      const res = await post("/api/v1/namespaces/deadzone/configmaps", configMap("refused"));
      return res.status === 500 ? res : undefined;
    });
    const status = JSON.parse(r.body) as { reason: string; message: string };
    assert.equal(status.reason, "InternalError");
    assert.equal(status.message, `Internal error occurred: failed calling webhook "dead.example.com": failed to call webhook: Post "https://127.0.0.1:${port}/dead?timeout=10s": dial tcp 127.0.0.1:${port}: connect: connection refused`);
    // Other namespaces are not covered by its namespaceSelector.
    await created("/api/v1/namespaces/default/configmaps", configMap("elsewhere"));
    // A webhook covering everything does not guard webhook configurations themselves.
    await created(VWC, { apiVersion: "admissionregistration.k8s.io/v1", kind: "ValidatingWebhookConfiguration", metadata: { name: "deny-all" }, webhooks: [webhook("deny-all.example.com", "/deny-all", { rules: [{ operations: ["*"], apiGroups: ["*"], apiVersions: ["*"], resources: ["*/*"] }] })] });
    await eventually("deny-all in force", async () => {
      const res = await post("/api/v1/namespaces/default/configmaps?dryRun=All", configMap("x"));
      return res.status === 403 ? true : undefined;
    });
    for (const name of ["deny-all", "dead"]) {
      const del = await client.request("DELETE", `${VWC}/${name}`);
      assert.equal(del.status, 200, del.body);
    }
  });
  void it("deployments/scale writes meet webhooks on the Scale; a DELETE meets mutating and validating webhooks", async () => {
    hooks.handle("/scale-cap", (req) => {
      const replicas = (req.object?.["spec"] as { replicas?: number } | undefined)?.replicas ?? 0;
      return replicas > 3 ? patchAnswer([{ op: "replace", path: "/spec/replicas", value: 3 }]) : allow;
    });
    hooks.handle("/keep", (req) => (req.operation === "DELETE" && req.name === "kept" ? { response: { allowed: false, status: { message: "this one stays" } } } : allow));
    await created(MWC, {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "MutatingWebhookConfiguration",
      metadata: { name: "scale-cap" },
      webhooks: [
        webhook("scale-cap.example.com", "/scale-cap", { rules: [{ operations: ["UPDATE"], apiGroups: ["apps"], apiVersions: ["v1"], resources: ["deployments/scale"] }] }),
        webhook("keep.example.com", "/keep", { rules: [{ operations: ["DELETE"], apiGroups: [""], apiVersions: ["v1"], resources: ["configmaps"] }] }),
      ],
    });
    const labels = { app: "capped" };
    await created("/apis/apps/v1/namespaces/default/deployments", { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "capped" }, spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: "c", image: "nginx" }] } } } });
    const scaled = await eventually("the capped scale", async () => {
      const r = await client.request("PATCH", "/apis/apps/v1/namespaces/default/deployments/capped/scale", JSON.stringify({ spec: { replicas: 10 } }), { "content-type": "application/merge-patch+json" });
      assert.equal(r.status, 200, r.body);
      const replicas = (JSON.parse(r.body) as { spec: { replicas: number } }).spec.replicas;
      return replicas === 3 ? replicas : undefined;
    });
    assert.equal(scaled, 3);
    const seen = hooks.received.filter((x) => x.path === "/scale-cap").at(-1)!.request;
    assert.deepEqual(seen.kind, { group: "autoscaling", version: "v1", kind: "Scale" });
    assert.equal(seen.subResource, "scale");

    await created("/api/v1/namespaces/default/configmaps", configMap("kept"));
    const del = await client.request("DELETE", "/api/v1/namespaces/default/configmaps/kept");
    assert.equal(del.status, 403, del.body);
    assert.equal((JSON.parse(del.body) as { message: string }).message, 'configmaps "kept" is forbidden: admission webhook "keep.example.com" denied the request: this one stays');
    await created("/api/v1/namespaces/default/configmaps", configMap("gone"));
    assert.equal((await client.request("DELETE", "/api/v1/namespaces/default/configmaps/gone")).status, 200);
  });

  void it("matchPolicy Equivalent: a webhook for autoscaling/v2 sees an autoscaling/v1 HPA write as v2", async () => {
    hooks.handle("/hpa", (req) => {
      const metrics = (req.object?.["spec"] as { metrics?: unknown[] } | undefined)?.metrics;
      return { response: { allowed: false, status: { message: `saw ${String(req.object?.["apiVersion"])} with ${metrics?.length ?? 0} metric(s)` } } };
    });
    await created(VWC, {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: { name: "hpa-v2" },
      webhooks: [webhook("hpa.example.com", "/hpa", { rules: [{ operations: ["CREATE"], apiGroups: ["autoscaling"], apiVersions: ["v2"], resources: ["horizontalpodautoscalers"] }] })],
    });
    const hpa = { apiVersion: "autoscaling/v1", kind: "HorizontalPodAutoscaler", metadata: { name: "h" }, spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "capped" }, maxReplicas: 3, targetCPUUtilizationPercentage: 50 } };
    const r = await eventually("the v2 webhook", async () => {
      const res = await post("/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers?dryRun=All", hpa);
      return res.status === 403 ? res : undefined;
    });
    assert.match((JSON.parse(r.body) as { message: string }).message, /denied the request: saw autoscaling\/v2 with 1 metric\(s\)$/);
    const seen = hooks.received.filter((x) => x.path === "/hpa").at(-1)!.request as unknown as { kind: unknown; requestKind: unknown };
    assert.deepEqual(seen.kind, { group: "autoscaling", version: "v2", kind: "HorizontalPodAutoscaler" });
    assert.deepEqual(seen.requestKind, { group: "autoscaling", version: "v1", kind: "HorizontalPodAutoscaler" });
    assert.equal((await client.request("DELETE", `${VWC}/hpa-v2`)).status, 200);
  });
});
