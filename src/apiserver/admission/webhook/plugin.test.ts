import { after, before, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { MutatingWebhook, MutatingWebhookConfiguration, ValidatingWebhook, ValidatingWebhookConfiguration } from "kubernetes-types/admissionregistration/v1.js";
import type { Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import type { AdmissionAttributes, AdmissionOperation } from "../types.js";
import type { KubeObject, ResourceDefinition } from "../../registry/types.js";
import { StatusError } from "../../status.js";
import { createLogger } from "../../../util/log.js";
import { createCA } from "../../../util/pki.js";
import { mutatingWebhookAdmission, validatingWebhookAdmission, type WebhookSource } from "./plugin.js";
import type { Rule } from "./match.js";
import { allow, patchAnswer, startWebhookServer, type ReviewRequest, type WebhookServer } from "./testing.js";
import { freePort } from "../../../testing/net.js";

type ReviewRequestWithRequestKind = ReviewRequest & { requestKind: unknown; requestResource: unknown };

const podsDef = { group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true } as unknown as ResourceDefinition;
const configMapsDef = { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true } as unknown as ResourceDefinition;
const mwcDef = { group: "admissionregistration.k8s.io", version: "v1", plural: "mutatingwebhookconfigurations", kind: "MutatingWebhookConfiguration", namespaced: false } as unknown as ResourceDefinition;
const user = { username: "alice", groups: ["devs", "system:authenticated"] };
const log = createLogger("silent");

interface FakeSource extends WebhookSource {
  equivalents: NonNullable<WebhookSource["equivalents"]>;
  mutating: MutatingWebhookConfiguration[];
  validating: ValidatingWebhookConfiguration[];
  namespaces: Map<string, Record<string, string>>;
  services: Service[];
  slices: EndpointSlice[];
}

function fakeSource(): FakeSource {
  const s: FakeSource = {
    mutating: [],
    validating: [],
    namespaces: new Map([["default", { team: "a" }], ["other", { team: "b" }]]),
    services: [],
    slices: [],
    equivalents: () => [],
    mutatingWebhookConfigurations: () => s.mutating,
    validatingWebhookConfigurations: () => s.validating,
    namespaceLabels: (name) => Promise.resolve(s.namespaces.get(name)),
    service: (ns, name) => s.services.find((x) => x.metadata?.namespace === ns && x.metadata.name === name),
    endpointSlices: (ns, name) => s.slices.filter((x) => x.metadata?.namespace === ns && x.metadata.labels?.["kubernetes.io/service-name"] === name),
  };
  return s;
}

function attrs(o: Partial<AdmissionAttributes> & { object?: KubeObject | undefined }): AdmissionAttributes {
  return { operation: "CREATE", resource: podsDef, subresource: "", namespace: "default", name: "p", oldObject: undefined, user, dryRun: false, ...o, object: o.object };
}

function pod(labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "default", labels }, spec: { containers: [{ name: "c", image: "nginx" }] } } as KubeObject;
}

const allRules = [{ operations: ["*"], apiGroups: ["*"], apiVersions: ["*"], resources: ["*/*"] }];

function mhook(name: string, server: WebhookServer, path: string, extra: Partial<MutatingWebhook> = {}): MutatingWebhook {
  return { name, admissionReviewVersions: ["v1"], clientConfig: { url: server.url(path), caBundle: server.caBundle }, sideEffects: "None", failurePolicy: "Fail", rules: allRules, ...extra } as MutatingWebhook;
}

function vhook(name: string, server: WebhookServer, path: string, extra: Partial<ValidatingWebhook> = {}): ValidatingWebhook {
  return mhook(name, server, path, extra as Partial<MutatingWebhook>) as ValidatingWebhook;
}

async function rejection(p: Promise<void> | void): Promise<StatusError> {
  const err = await Promise.resolve(p).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof StatusError, `expected a StatusError, got ${String(err)}`);
  return err;
}

void describe("admission webhooks against a real HTTPS server", () => {
  let server: WebhookServer;
  let source: FakeSource;
  const mutating = (): ReturnType<typeof mutatingWebhookAdmission> => mutatingWebhookAdmission(source, log);
  const validating = (): ReturnType<typeof validatingWebhookAdmission> => validatingWebhookAdmission(source, log);

  before(async () => {
    server = await startWebhookServer(["hook.webhooks.svc"]);
  });
  after(async () => {
    await server.close();
  });
  beforeEach(() => {
    source = fakeSource();
    server.received.length = 0;
    server.handle("/allow", () => allow);
  });

  void it("a mutating webhook adds a label to pods and configmaps; the review carries the request", async () => {
    server.handle("/label", (req) => {
      const labels = (req.object?.["metadata"] as { labels?: object } | undefined)?.labels;
      return patchAnswer(labels ? [{ op: "add", path: "/metadata/labels/injected", value: "yes" }] : [{ op: "add", path: "/metadata/labels", value: { injected: "yes" } }]);
    });
    source.mutating = [{ metadata: { name: "labeler" }, webhooks: [mhook("label.example.com", server, "/label", { rules: [{ operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods", "configmaps"] }] as Rule[] as MutatingWebhook["rules"] })] }];
    const p = pod({ app: "web" });
    await mutating().admit!(attrs({ object: p }));
    assert.deepEqual(p.metadata?.labels, { app: "web", injected: "yes" });
    const cm: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm", namespace: "default" } };
    await mutating().admit!(attrs({ resource: configMapsDef, name: "cm", object: cm }));
    assert.deepEqual(cm.metadata?.labels, { injected: "yes" });

    assert.equal(server.received.length, 2);
    const first = server.received[0]!;
    assert.equal(first.query, "?timeout=10s");
    const r = first.request;
    assert.match(r.uid, /^[0-9a-f-]{36}$/);
    assert.deepEqual(r.kind, { group: "", version: "v1", kind: "Pod" });
    assert.deepEqual(r.resource, { group: "", version: "v1", resource: "pods" });
    assert.equal(r.operation, "CREATE");
    assert.equal(r.name, "p");
    assert.equal(r.namespace, "default");
    assert.deepEqual(r.userInfo, user);
    assert.equal(r.dryRun, false);
    assert.equal(r.oldObject, null);
    assert.deepEqual(r.options, { kind: "CreateOptions", apiVersion: "meta.k8s.io/v1" });
    assert.deepEqual((r.object?.["metadata"] as { labels: object }).labels, { app: "web" });
  });

  void it("a patch may not change the object's kind", async () => {
    server.handle("/rekind", () => patchAnswer([{ op: "replace", path: "/kind", value: "ConfigMap" }]));
    source.mutating = [{ metadata: { name: "bad" }, webhooks: [mhook("rekind.example.com", server, "/rekind")] }];
    const err = await rejection(mutating().admit!(attrs({ object: pod() })));
    assert.equal(err.code, 500);
  });

  void it("a validating webhook denies with its message and code; without a code, 403 Forbidden", async () => {
    server.handle("/deny", () => ({ response: { allowed: false, status: { code: 422, message: "labels are required", reason: "Invalid" } } }));
    server.handle("/deny-bare", () => ({ response: { allowed: false } }));
    source.validating = [{ metadata: { name: "deny" }, webhooks: [vhook("deny.example.com", server, "/deny")] }];
    let err = await rejection(validating().validate!(attrs({ object: pod() })));
    assert.equal(err.code, 422);
    assert.equal(err.status.reason, "Invalid");
    assert.equal(err.status.message, 'pods "p" is forbidden: admission webhook "deny.example.com" denied the request: labels are required');

    source.validating = [{ metadata: { name: "deny" }, webhooks: [vhook("bare.example.com", server, "/deny-bare")] }];
    err = await rejection(validating().validate!(attrs({ object: pod() })));
    assert.equal(err.code, 403);
    assert.equal(err.status.reason, "Forbidden");
    assert.equal(err.status.message, 'pods "p" is forbidden: admission webhook "bare.example.com" denied the request without explanation');
  });

  void it("validating webhooks are called in parallel", async () => {
    let arrived = 0;
    let release: () => void = () => undefined;
    const both = new Promise<void>((r) => (release = r));
    server.handle("/wait", async () => {
      if (++arrived === 2) release();
      // Each answers only once both requests are in: a sequential caller would time out.
      await both;
      return allow;
    });
    source.validating = [{ metadata: { name: "w" }, webhooks: [vhook("a.example.com", server, "/wait", { timeoutSeconds: 5 }), vhook("b.example.com", server, "/wait", { timeoutSeconds: 5 })] }];
    await validating().validate!(attrs({ object: pod() }));
    assert.equal(arrived, 2);
  });

  void it("rules: operations, resources and subresources, scope", async () => {
    source.validating = [
      {
        metadata: { name: "rules" },
        webhooks: [
          vhook("update-only", server, "/allow", { rules: [{ operations: ["UPDATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"] }] as Rule[] as ValidatingWebhook["rules"] }),
          vhook("status-only", server, "/allow", { rules: [{ operations: ["*"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods/status"] }] as Rule[] as ValidatingWebhook["rules"] }),
          vhook("any-status", server, "/allow", { rules: [{ operations: ["*"], apiGroups: ["*"], apiVersions: ["*"], resources: ["*/status"] }] as Rule[] as ValidatingWebhook["rules"] }),
          vhook("cluster-only", server, "/allow", { rules: [{ operations: ["*"], apiGroups: ["*"], apiVersions: ["*"], resources: ["*"], scope: "Cluster" }] as Rule[] as ValidatingWebhook["rules"] }),
          vhook("apps-only", server, "/allow", { rules: [{ operations: ["*"], apiGroups: ["apps"], apiVersions: ["*"], resources: ["*"] }] as Rule[] as ValidatingWebhook["rules"] }),
        ],
      },
    ];
    const called = async (op: AdmissionOperation, subresource = ""): Promise<string[]> => {
      server.received.length = 0;
      await validating().validate!(attrs({ operation: op, subresource, object: pod(), oldObject: op === "UPDATE" ? pod() : undefined }));
      return server.received.map((r) => r.request.operation + (r.request.subResource ? `/${r.request.subResource}` : "")).sort();
    };
    assert.deepEqual(await called("CREATE"), []);
    assert.deepEqual(await called("UPDATE"), ["UPDATE"]);
    assert.deepEqual(await called("UPDATE", "status"), ["UPDATE/status", "UPDATE/status"]);
  });

  void it("namespaceSelector and objectSelector", async () => {
    source.validating = [
      {
        metadata: { name: "selectors" },
        webhooks: [
          vhook("team-a", server, "/allow", { namespaceSelector: { matchLabels: { team: "a" } } }),
          vhook("not-team-a", server, "/allow", { namespaceSelector: { matchExpressions: [{ key: "team", operator: "NotIn", values: ["a"] }] } }),
          vhook("injectable", server, "/allow", { objectSelector: { matchLabels: { inject: "true" } } }),
        ],
      },
    ];
    const names = async (a: AdmissionAttributes): Promise<string[]> => {
      server.received.length = 0;
      await validating().validate!(a);
      return server.received.map((r) => r.request.namespace ?? r.request.name ?? "").sort();
    };
    assert.equal((await names(attrs({ object: pod() }))).length, 1, "team-a in default");
    assert.equal((await names(attrs({ namespace: "other", object: pod() }))).length, 1, "not-team-a in other");
    assert.equal((await names(attrs({ object: pod({ inject: "true" }) }))).length, 2, "team-a and injectable");
    // The old object's labels count too (an update that removes the label).
    assert.equal((await names(attrs({ operation: "UPDATE", object: pod(), oldObject: pod({ inject: "true" }) }))).length, 2);
    // A namespace being created is matched by its own labels.
    const nsDef = { group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false } as unknown as ResourceDefinition;
    const ns: KubeObject = { apiVersion: "v1", kind: "Namespace", metadata: { name: "fresh", labels: { team: "a" } } };
    assert.equal((await names(attrs({ resource: nsDef, namespace: "", name: "fresh", object: ns }))).length, 1);
    // Cluster-scoped objects always meet a namespace selector.
    const nodeDef = { group: "", version: "v1", plural: "nodes", kind: "Node", namespaced: false } as unknown as ResourceDefinition;
    assert.equal((await names(attrs({ resource: nodeDef, namespace: "", name: "n1", object: { apiVersion: "v1", kind: "Node", metadata: { name: "n1" } } }))).length, 2);
  });

  void it("requests for webhook configurations never go to webhooks", async () => {
    source.validating = [{ metadata: { name: "deny" }, webhooks: [vhook("deny-all", server, "/deny-all")] }];
    server.handle("/deny-all", () => ({ response: { allowed: false } }));
    await validating().validate!(attrs({ resource: mwcDef, namespace: "", name: "x", object: { apiVersion: "admissionregistration.k8s.io/v1", kind: "MutatingWebhookConfiguration", metadata: { name: "x" } } }));
    assert.equal(server.received.length, 0);
  });

  void it("a webhook that cannot be reached: Ignore skips it, Fail answers 500 as upstream", async () => {
    const port = await freePort();
    const down = { url: `https://127.0.0.1:${port}/down`, caBundle: server.caBundle };
    source.mutating = [{ metadata: { name: "down" }, webhooks: [mhook("down.example.com", server, "/x", { clientConfig: down, failurePolicy: "Ignore" })] }];
    const p = pod();
    await mutating().admit!(attrs({ object: p }));
    assert.deepEqual(p.metadata?.labels, {});

    source.mutating = [{ metadata: { name: "down" }, webhooks: [mhook("down.example.com", server, "/x", { clientConfig: down, failurePolicy: "Fail" })] }];
    const err = await rejection(mutating().admit!(attrs({ object: pod() })));
    assert.equal(err.code, 500);
    assert.equal(err.status.reason, "InternalError");
    assert.equal(
      err.status.message,
      `Internal error occurred: failed calling webhook "down.example.com": failed to call webhook: Post "https://127.0.0.1:${port}/down?timeout=10s": dial tcp 127.0.0.1:${port}: connect: connection refused`,
    );
  });

  void it("a slow webhook times out after timeoutSeconds", async () => {
    let release: () => void = () => undefined;
    const stuck = new Promise<void>((r) => (release = r));
    server.handle("/slow", async () => {
      await stuck;
      return allow;
    });
    source.validating = [{ metadata: { name: "slow" }, webhooks: [vhook("slow.example.com", server, "/slow", { timeoutSeconds: 1 })] }];
    const started = Date.now();
    const err = await rejection(validating().validate!(attrs({ object: pod() })));
    const took = Date.now() - started;
    release();
    assert.equal(err.code, 500);
    assert.match(err.status.message ?? "", /failed calling webhook "slow\.example\.com": failed to call webhook: Post "https:\/\/127\.0\.0\.1:\d+\/slow\?timeout=1s": context deadline exceeded/);
    assert.ok(took >= 900 && took < 5000, `took ${took} ms`);
  });

  void it("bad answers: uid mismatch, wrong kind, not JSON, a CA that did not sign the server", async () => {
    const other = await createCA("someone-else", 1);
    const cases: [Partial<ValidatingWebhook>, () => ReturnType<Parameters<WebhookServer["handle"]>[1]>, RegExp][] = [
      [{}, () => ({ response: { uid: "not-it", allowed: true } }), /received invalid webhook response: expected response\.uid="[0-9a-f-]+", got "not-it"/],
      [{}, () => ({ response: { allowed: true }, review: { apiVersion: "admission.k8s.io/v1beta1" } }), /expected webhook response of admission\.k8s\.io\/v1, Kind=AdmissionReview, got admission\.k8s\.io\/v1beta1, Kind=AdmissionReview/],
      [{}, () => ({ raw: "<html>" }), /failed to call webhook: Post .*couldn't decode the response/],
      [{}, () => ({ raw: "", status: 404 }), /the server responded with the status code 404/],
      [{ clientConfig: { url: server.url("/allow"), caBundle: Buffer.from(other.certPem).toString("base64") } }, () => allow, /x509: certificate signed by unknown authority/],
      [{ admissionReviewVersions: ["v1beta1"] }, () => allow, /does not accept known AdmissionReview versions/],
    ];
    for (const [extra, answer, want] of cases) {
      server.handle("/bad", answer);
      source.validating = [{ metadata: { name: "bad" }, webhooks: [vhook("bad.example.com", server, "/bad", extra)] }];
      const err = await rejection(validating().validate!(attrs({ object: pod() })));
      assert.equal(err.code, 500);
      assert.match(err.status.message ?? "", want);
      source.validating = [{ metadata: { name: "bad" }, webhooks: [vhook("bad.example.com", server, "/bad", { ...extra, failurePolicy: "Ignore" })] }];
      await validating().validate!(attrs({ object: pod() }));
    }
  });

  void it("matchConditions: a false one skips the webhook, all true call it, an error follows failurePolicy", async () => {
    server.handle("/deny", () => ({ response: { allowed: false, status: { message: "no" } } }));
    const conditions = [
      { name: "not-kube-system", expression: "request.namespace != 'kube-system'" },
      { name: "labelled", expression: "has(object.metadata.labels) && 'app' in object.metadata.labels" },
    ];
    source.validating = [{ metadata: { name: "cond" }, webhooks: [vhook("cond.example.com", server, "/deny", { matchConditions: conditions })] }];
    await validating().validate!(attrs({ object: pod() }));
    await validating().validate!(attrs({ object: pod({ app: "x" }), namespace: "kube-system" }));
    assert.equal(server.received.length, 0);
    await rejection(validating().validate!(attrs({ object: pod({ app: "x" }) })));
    assert.equal(server.received.length, 1);

    const broken = [{ name: "broken", expression: "object.spec.nothing.here == 1" }];
    source.validating = [{ metadata: { name: "cond" }, webhooks: [vhook("cond.example.com", server, "/allow", { matchConditions: broken })] }];
    const err = await rejection(validating().validate!(attrs({ object: pod() })));
    assert.equal(err.code, 500);
    assert.match(err.status.message ?? "", /^Internal error occurred: failed calling webhook "cond\.example\.com": failed to evaluate match condition "broken": /);
    source.validating = [{ metadata: { name: "cond" }, webhooks: [vhook("cond.example.com", server, "/allow", { matchConditions: broken, failurePolicy: "Ignore" })] }];
    await validating().validate!(attrs({ object: pod() }));
    assert.equal(server.received.length, 1);
  });

  void it("dryRun: only webhooks without side effects are called", async () => {
    source.validating = [{ metadata: { name: "dry" }, webhooks: [vhook("dry.example.com", server, "/allow", { sideEffects: "NoneOnDryRun" })] }];
    await validating().validate!(attrs({ object: pod(), dryRun: true }));
    assert.equal(server.received.length, 1);
    assert.equal(server.received[0]!.request.dryRun, true);
    assert.deepEqual(server.received[0]!.request.options, { kind: "CreateOptions", apiVersion: "meta.k8s.io/v1", dryRun: ["All"] });

    source.validating = [{ metadata: { name: "dry" }, webhooks: [vhook("effects.example.com", server, "/allow", { sideEffects: "Some", failurePolicy: "Ignore" })] }];
    const err = await rejection(validating().validate!(attrs({ object: pod(), dryRun: true })));
    assert.equal(err.code, 400);
    assert.equal(err.status.message, 'admission webhook "effects.example.com" does not support dry run');
    assert.equal(server.received.length, 1);
    // Without dryRun it is called.
    await validating().validate!(attrs({ object: pod() }));
    assert.equal(server.received.length, 2);
  });

  void it("reinvocationPolicy IfNeeded: called again once a later webhook changed the object", async () => {
    const add = (key: string) => (req: { object: Record<string, unknown> | null }) => {
      const labels = (req.object?.["metadata"] as { labels?: Record<string, string> }).labels ?? {};
      return labels[key] ? allow : patchAnswer([{ op: "add", path: `/metadata/labels/${key}`, value: "1" }]);
    };
    server.handle("/a", add("a"));
    server.handle("/b", add("b"));
    const run = async (policy: "IfNeeded" | "Never"): Promise<string[]> => {
      server.received.length = 0;
      source.mutating = [{ metadata: { name: "m" }, webhooks: [mhook("a.example.com", server, "/a", { reinvocationPolicy: policy }), mhook("b.example.com", server, "/b")] }];
      const p = pod();
      await mutating().admit!(attrs({ object: p }));
      assert.deepEqual(p.metadata?.labels, { a: "1", b: "1" });
      return server.received.map((r) => r.path);
    };
    assert.deepEqual(await run("IfNeeded"), ["/a", "/b", "/a"]);
    assert.deepEqual(await run("Never"), ["/a", "/b"]);
  });

  void it("configurations are called in name order, webhooks in their order", async () => {
    source.mutating = [
      { metadata: { name: "zz" }, webhooks: [mhook("z1", server, "/z1")] },
      { metadata: { name: "aa" }, webhooks: [mhook("a1", server, "/a1"), mhook("a2", server, "/a2")] },
    ];
    await mutating().admit!(attrs({ object: pod() }));
    assert.deepEqual(
      server.received.map((r) => r.path),
      ["/a1", "/a2", "/z1"],
    );
  });

  void it("a service reference goes to a ready endpoint of its EndpointSlices, TLS checked for <name>.<namespace>.svc", async () => {
    source.services = [{ metadata: { name: "hook", namespace: "webhooks" }, spec: { ports: [{ name: "https", port: 443, targetPort: server.port }] } }];
    source.slices = [
      {
        metadata: { name: "hook-abc", namespace: "webhooks", labels: { "kubernetes.io/service-name": "hook" } },
        addressType: "IPv4",
        ports: [{ name: "https", port: server.port }],
        endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true } }],
      },
    ];
    server.handle("/svc", () => patchAnswer([{ op: "add", path: "/metadata/labels/via", value: "service" }]));
    const svcHook = mhook("svc.example.com", server, "/svc", { clientConfig: { service: { namespace: "webhooks", name: "hook", path: "/svc" }, caBundle: server.caBundle } });
    source.mutating = [{ metadata: { name: "svc" }, webhooks: [svcHook] }];
    const p = pod();
    await mutating().admit!(attrs({ object: p }));
    assert.deepEqual(p.metadata?.labels, { via: "service" });

    // No ready endpoint: the call fails, as upstream.
    source.slices[0]!.endpoints[0]!.conditions = { ready: false };
    const err = await rejection(mutating().admit!(attrs({ object: pod() })));
    assert.equal(err.status.message, 'Internal error occurred: failed calling webhook "svc.example.com": failed to call webhook: Post "https://hook.webhooks.svc:443/svc?timeout=10s": no endpoints available for service "hook"');
  });
  void it("the scale subresource is shown as an autoscaling/v1 Scale; a patch of its replicas reaches the parent", async () => {
    const deployments = {
      group: "apps",
      version: "v1",
      plural: "deployments",
      kind: "Deployment",
      namespaced: true,
      scale: { specReplicasPath: ["spec", "replicas"], statusReplicasPath: ["status", "replicas"], selector: () => "app=web" },
    } as unknown as ResourceDefinition;
    server.handle("/scale", () => patchAnswer([{ op: "replace", path: "/spec/replicas", value: 5 }]));
    source.mutating = [{ metadata: { name: "scale" }, webhooks: [mhook("scale.example.com", server, "/scale", { rules: [{ operations: ["UPDATE"], apiGroups: ["apps"], apiVersions: ["v1"], resources: ["*/scale"] }] as Rule[] as MutatingWebhook["rules"] })] }];
    const dep = (replicas: number): KubeObject => ({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "default" }, spec: { replicas, template: {} }, status: { replicas: 2 } }) as KubeObject;
    const obj = dep(3);
    await mutatingWebhookAdmission(source, log).admit!(attrs({ operation: "UPDATE", resource: deployments, subresource: "scale", name: "web", object: obj, oldObject: dep(2) }));
    assert.equal((obj["spec"] as { replicas: number }).replicas, 5);
    const r = server.received[0]!.request;
    assert.deepEqual(r.kind, { group: "autoscaling", version: "v1", kind: "Scale" });
    assert.deepEqual(r.resource, { group: "apps", version: "v1", resource: "deployments" });
    assert.equal(r.subResource, "scale");
    assert.deepEqual(r.object?.["spec"], { replicas: 3 });
    assert.deepEqual(r.oldObject?.["status"], { replicas: 2, selector: "app=web" });
  });

  void it("DELETE: mutating webhooks are called (from the validating phase) with the old object; they may refuse, not patch", async () => {
    server.handle("/no-delete", (req) => (req.operation === "DELETE" ? { response: { allowed: false, status: { message: "keep it" } } } : allow));
    server.handle("/patch-delete", () => patchAnswer([{ op: "add", path: "/metadata/labels/x", value: "y" }]));
    const rules = [{ operations: ["DELETE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"] }] as Rule[] as MutatingWebhook["rules"];
    source.mutating = [{ metadata: { name: "del" }, webhooks: [mhook("no-delete.example.com", server, "/no-delete", { rules })] }];
    const plugin = mutatingWebhookAdmission(source, log);
    let err = await rejection(plugin.validate!(attrs({ operation: "DELETE", object: undefined, oldObject: pod() })));
    assert.equal(err.code, 403);
    assert.match(err.status.message ?? "", /admission webhook "no-delete\.example\.com" denied the request: keep it/);
    const r = server.received[0]!.request;
    assert.equal(r.object, null);
    assert.equal((r.oldObject?.["metadata"] as { name: string }).name, "p");
    assert.deepEqual(r.options, { kind: "DeleteOptions", apiVersion: "meta.k8s.io/v1" });
    // Not called again in the validating phase of other operations.
    server.received.length = 0;
    await plugin.validate!(attrs({ object: pod() }));
    assert.equal(server.received.length, 0);

    source.mutating = [{ metadata: { name: "del" }, webhooks: [mhook("patch-delete.example.com", server, "/patch-delete", { rules })] }];
    err = await rejection(plugin.validate!(attrs({ operation: "DELETE", object: undefined, oldObject: pod() })));
    assert.equal(err.status.message, 'Internal error occurred: admission webhook "patch-delete.example.com" attempted to modify the object, which is not supported for this operation');
  });
  void it("matchPolicy Equivalent: a webhook for another served version sees the object converted, and its patch comes back", async () => {
    const conversion = {
      toStorage: (o: KubeObject): KubeObject => ({ ...o, apiVersion: "example.com/v2", spec: { replicas: (o["spec"] as { size: number }).size } }),
      fromStorage: (o: KubeObject): KubeObject => ({ ...o, apiVersion: "example.com/v1", spec: { size: (o["spec"] as { replicas: number }).replicas } }),
    };
    const v2 = { group: "example.com", version: "v2", plural: "widgets", kind: "Widget", namespaced: true } as unknown as ResourceDefinition;
    const v1 = { group: "example.com", version: "v1", plural: "widgets", kind: "Widget", namespaced: true, storage: { group: "example.com", resource: "widgets", conversion } } as unknown as ResourceDefinition;
    source.equivalents = (def) => [v1, v2].filter((d) => d !== def);
    server.handle("/widgets", () => patchAnswer([{ op: "replace", path: "/spec/replicas", value: 7 }]));
    const rules = [{ operations: ["CREATE"], apiGroups: ["example.com"], apiVersions: ["v2"], resources: ["widgets"] }] as Rule[] as MutatingWebhook["rules"];
    source.mutating = [{ metadata: { name: "w" }, webhooks: [mhook("widgets.example.com", server, "/widgets", { rules })] }];
    const widget = (): KubeObject => ({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w1", namespace: "default" }, spec: { size: 2 } }) as KubeObject;
    const obj = widget();
    await mutating().admit!(attrs({ resource: v1, name: "w1", object: obj }));
    assert.deepEqual(obj, { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w1", namespace: "default" }, spec: { size: 7 } });
    const r = server.received[0]!.request as ReviewRequestWithRequestKind;
    assert.deepEqual(r.kind, { group: "example.com", version: "v2", kind: "Widget" });
    assert.deepEqual(r.resource, { group: "example.com", version: "v2", resource: "widgets" });
    assert.deepEqual(r.requestKind, { group: "example.com", version: "v1", kind: "Widget" });
    assert.deepEqual(r.requestResource, { group: "example.com", version: "v1", resource: "widgets" });
    assert.deepEqual(r.object?.["spec"], { replicas: 2 });

    // Exact: only the named version.
    server.received.length = 0;
    source.mutating = [{ metadata: { name: "w" }, webhooks: [mhook("widgets.example.com", server, "/widgets", { rules, matchPolicy: "Exact" })] }];
    await mutating().admit!(attrs({ resource: v1, name: "w1", object: widget() }));
    assert.equal(server.received.length, 0);
  });
});
