// Dynamic admission control end to end: the official kubectl applies Mutating- and
// ValidatingWebhookConfigurations against a real `k8ts server`, whose admission calls a real
// HTTPS webhook server run by this test (its CA in caBundle), as cert-manager's or an
// operator's webhook would be called.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kubectlRunner, type Kubectl, succeeded as ok } from "../../src/testing/apiserver.js";
import { K8tsProcess } from "../../src/testing/process.js";
import { freePort } from "../../src/testing/net.js";
import { until } from "../../src/testing/wait.js";
import { createCA, issueCertificate } from "../../src/util/pki.js";

interface AdmissionRequest {
  uid: string;
  operation: string;
  namespace?: string;
  dryRun?: boolean;
  userInfo: { username: string };
  object?: { kind: string; metadata: { name: string; labels?: Record<string, string> }; data?: Record<string, string> };
}

/** What the webhooks saw, for the assertions. */
const seen: AdmissionRequest[] = [];

/** A webhook server: /mutate labels what it sees, /validate refuses ConfigMaps with a key "forbidden". */
function answer(path: string, request: AdmissionRequest): Record<string, unknown> {
  seen.push(request);
  const base = { uid: request.uid, allowed: true };
  if (path === "/mutate") {
    const labels = request.object?.metadata.labels;
    const patch = labels ? [{ op: "add", path: "/metadata/labels/webhook.example.com~1seen", value: "true" }] : [{ op: "add", path: "/metadata/labels", value: { "webhook.example.com/seen": "true" } }];
    return { ...base, patchType: "JSONPatch", patch: Buffer.from(JSON.stringify(patch)).toString("base64") };
  }
  if (request.object?.data && "forbidden" in request.object.data) {
    return { uid: request.uid, allowed: false, status: { code: 403, message: 'the key "forbidden" is not allowed' } };
  }
  return { ...base, warnings: ["validated by the e2e webhook"] };
}

describe("admission webhooks with kubectl", () => {
  let dir: string;
  let server: K8tsProcess | undefined;
  let webhook: Server | undefined;
  let k: Kubectl;
  let caBundle: string;
  let webhookPort: number;

  const configs = (failurePolicy: "Fail" | "Ignore"): string => `apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: e2e-mutate
webhooks:
- name: mutate.webhook.example.com
  admissionReviewVersions: ["v1"]
  sideEffects: None
  failurePolicy: ${failurePolicy}
  timeoutSeconds: 5
  clientConfig:
    url: https://127.0.0.1:${webhookPort}/mutate
    caBundle: ${caBundle}
  namespaceSelector:
    matchLabels:
      webhooks: enabled
  rules:
  - operations: ["CREATE"]
    apiGroups: [""]
    apiVersions: ["v1"]
    resources: ["configmaps"]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: e2e-validate
webhooks:
- name: validate.webhook.example.com
  admissionReviewVersions: ["v1"]
  sideEffects: None
  failurePolicy: ${failurePolicy}
  timeoutSeconds: 5
  clientConfig:
    url: https://127.0.0.1:${webhookPort}/validate
    caBundle: ${caBundle}
  namespaceSelector:
    matchLabels:
      webhooks: enabled
  rules:
  - operations: ["CREATE", "UPDATE"]
    apiGroups: [""]
    apiVersions: ["v1"]
    resources: ["configmaps"]
`;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "k8ts-webhooks-"));
    const ca = await createCA("e2e-webhook-ca");
    const cert = await issueCertificate(ca, { commonName: "e2e-webhook", ipAddresses: ["127.0.0.1"], usages: "server", validityDays: 1 });
    caBundle = Buffer.from(ca.certPem).toString("base64");
    webhook = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const review = JSON.parse(Buffer.concat(chunks).toString()) as { request: AdmissionRequest };
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: answer(new URL(req.url ?? "/", "https://webhook").pathname, review.request) }));
      });
    });
    await new Promise<void>((resolve) => webhook!.listen(0, "127.0.0.1", resolve));
    webhookPort = (webhook.address() as AddressInfo).port;

    const port = await freePort();
    server = K8tsProcess.start("k8ts server", ["server", "--data-dir", dir, "--port", String(port), "--store", "memory://", "--disable-agent", "--disable-addons", "--log-level", process.env["K8TS_TEST_LOG"] ?? "warn"]);
    await server.ready("k8ts server ready");
    k = kubectlRunner(join(dir, "admin.kubeconfig"), join(dir, "kubectl-cache"), dir, 120_000);
    ok(await k(["create", "namespace", "hooked"]), "create ns");
    ok(await k(["label", "namespace", "hooked", "webhooks=enabled"]), "label ns");
    ok(await k(["apply", "-f", "-"], { stdin: configs("Fail") }), "apply webhook configurations");
  });
  after(async () => {
    await server?.stop();
    await new Promise<void>((resolve) => (webhook ? webhook.close(() => resolve()) : resolve()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("lists the configurations as upstream prints them", async () => {
    const out = ok(await k(["get", "validatingwebhookconfigurations"]), "get vwc");
    assert.match(out, /^NAME\s+WEBHOOKS\s+AGE\n/);
    assert.match(out, /^e2e-validate\s+1\s+\d+s/m);
    assert.match(ok(await k(["explain", "mutatingwebhookconfiguration.webhooks.reinvocationPolicy"]), "explain"), /reinvocationPolicy/);
  });

  it("mutates and validates what the rules and the namespace selector match", async () => {
    // The configurations reach the server's cache a moment after they are written.
    let lastTry = "";
    await until("the mutating webhook to label a new ConfigMap", async () => {
      const name = `probe-${seen.length}-${Date.now() % 100000}`;
      const r = await k(["create", "configmap", name, "--from-literal=k=v", "-n", "hooked", "-o", "jsonpath={.metadata.labels}"]);
      lastTry = `${r.code} ${r.stdout} ${r.stderr}`;
      return r.code === 0 && r.stdout.includes("webhook.example.com/seen") ? true : undefined;
    }).catch((err: unknown) => {
      throw new Error(`${String(err)}; last: ${lastTry}`);
    });
    const refused = await k(["create", "configmap", "bad", "--from-literal=forbidden=x", "-n", "hooked"]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /admission webhook "validate\.webhook\.example\.com" denied the request: the key "forbidden" is not allowed/);
    // The webhook saw who asked, and the operation.
    const last = seen.filter((r) => r.object?.metadata.name === "bad");
    assert.ok(last.length >= 1);
    assert.equal(last[0]!.operation, "CREATE");
    assert.equal(last[0]!.namespace, "hooked");
    assert.equal(last[0]!.userInfo.username, "kubernetes-admin");
    // Elsewhere the selector does not match: no label, no refusal.
    const free = ok(await k(["create", "configmap", "free", "--from-literal=forbidden=x", "-n", "default", "-o", "jsonpath={.metadata.labels}"]), "create in default");
    assert.doesNotMatch(free, /webhook\.example\.com/);
    // A validating webhook's warnings reach kubectl.
    const warned = await k(["create", "configmap", "warned", "--from-literal=a=b", "-n", "hooked"]);
    assert.equal(warned.code, 0, warned.stderr);
    assert.match(warned.stderr, /Warning: validated by the e2e webhook/);
  });

  it("calls the webhooks on a server-side dry run, telling them so", async () => {
    const before = seen.length;
    ok(await k(["create", "configmap", "dry", "--from-literal=a=b", "-n", "hooked", "--dry-run=server"]), "dry run");
    const calls = seen.slice(before).filter((r) => r.object?.metadata.name === "dry");
    assert.equal(calls.length, 2, JSON.stringify(calls));
    assert.ok(calls.every((r) => r.dryRun === true));
    assert.notEqual((await k(["get", "configmap", "dry", "-n", "hooked"])).code, 0);
  });

  it("fails closed when a Fail webhook cannot be reached, and lets requests through with Ignore", async () => {
    await new Promise<void>((resolve) => webhook!.close(() => resolve()));
    webhook = undefined;
    const down = await k(["create", "configmap", "down", "--from-literal=a=b", "-n", "hooked"]);
    assert.notEqual(down.code, 0);
    assert.match(down.stderr, /Internal error occurred: failed calling webhook "mutate\.webhook\.example\.com"/);
    ok(await k(["apply", "-f", "-"], { stdin: configs("Ignore") }), "apply Ignore");
    await until("a create to pass the unreachable Ignore webhooks", async () => ((await k(["create", "configmap", `ignored-${Date.now() % 100000}`, "--from-literal=a=b", "-n", "hooked"])).code === 0 ? true : undefined));
  });
});
