import { after, before, describe, it, test } from "node:test";
import assert from "node:assert/strict";
import type { KubeObject, StrategyContext } from "../registry/types.js";
import { strategyDriver } from "../../testing/strategy.js";
import { startTestApiServer, type KubectlResult, type TestApiServer } from "../../testing/apiserver.js";
import { mutatingWebhookConfigurations as mwc, validatingWebhookConfigurations as vwc } from "./admissionregistration.js";
import { builtinResources } from "./index.js";

const now = new Date("2024-05-01T12:00:00Z");
const ctx: StrategyContext = { namespace: "", now, user: { username: "admin", groups: [] } };
const { create, update } = strategyDriver(ctx);

type Hook = Record<string, unknown>;

function hook(extra: Hook = {}): Hook {
  return {
    name: "check.example.com",
    clientConfig: { service: { namespace: "system", name: "webhook-service", path: "/validate" } },
    rules: [{ operations: ["CREATE", "UPDATE"], apiGroups: ["apps"], apiVersions: ["v1"], resources: ["deployments"] }],
    sideEffects: "None",
    admissionReviewVersions: ["v1"],
    ...extra,
  };
}

function config(webhooks: Hook[], name = "my-webhooks"): KubeObject {
  return { metadata: { name, resourceVersion: "1", creationTimestamp: "2024-05-01T11:00:00Z" }, webhooks };
}

/** The errors of creating one webhook with `extra` through `def` (validating unless said). */
function errsOf(extra: Hook, def = vwc): string[] {
  return create(def, config([hook(extra)]));
}

void test("v1 defaults: failure and match policy, selectors, timeout, reinvocation, rule scope, service port", () => {
  const m = config([hook()]);
  assert.deepEqual(create(mwc, m), []);
  const h = (m.webhooks as Hook[])[0]!;
  assert.equal(h.failurePolicy, "Fail");
  assert.equal(h.matchPolicy, "Equivalent");
  assert.deepEqual(h.namespaceSelector, {});
  assert.deepEqual(h.objectSelector, {});
  assert.equal(h.timeoutSeconds, 10);
  assert.equal(h.reinvocationPolicy, "Never");
  assert.equal((h.rules as Hook[])[0]!.scope, "*");
  assert.deepEqual(h.clientConfig, { service: { namespace: "system", name: "webhook-service", path: "/validate", port: 443 } });

  const v = config([hook({ failurePolicy: "Ignore", timeoutSeconds: 5, clientConfig: { url: "https://hook.example.com/v" } })]);
  assert.deepEqual(create(vwc, v), []);
  const vh = (v.webhooks as Hook[])[0]!;
  assert.equal(vh.failurePolicy, "Ignore", "a set value stays");
  assert.equal(vh.timeoutSeconds, 5);
  assert.equal("reinvocationPolicy" in vh, false, "validating webhooks have no reinvocation policy");
  // v1 has no defaults for these: they are required.
  assert.deepEqual(errsOf({ sideEffects: undefined, admissionReviewVersions: undefined }), [
    "webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun",
    "webhooks[0].admissionReviewVersions: Required value: must specify one of v1, v1beta1",
  ]);
});

void test("webhook names: fully qualified, at least three segments, unique", () => {
  const errs = create(vwc, config([hook({ name: "webhook.k8s.io" }), hook({ name: "k8s.io" }), hook({ name: "" }), hook({ name: "webhook.k8s.io" }), hook({ name: "Bad_Name.example.com" })]));
  assert.deepEqual(errs.slice(0, 3), [
    'webhooks[1].name: Invalid value: "k8s.io": should be a domain with at least three segments separated by dots',
    "webhooks[2].name: Required value",
    'webhooks[3].name: Duplicate value: "webhook.k8s.io"',
  ]);
  assert.match(errs[3]!, /^webhooks\[4\]\.name: Invalid value: "Bad_Name\.example\.com": a lowercase RFC 1123 subdomain must consist of/);
  assert.equal(errs.length, 4);
  assert.match(create(vwc, config([hook()], "Bad")).join("\n"), /^metadata\.name: Invalid value: "Bad": a lowercase RFC 1123 subdomain/);
});

void test("rules: operations, groups, versions, resources with subresources, scope", () => {
  const rule = (r: Hook): string[] => errsOf({ rules: [{ operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"], ...r }] });
  assert.deepEqual(rule({}), []);
  assert.deepEqual(rule({ operations: [] }), ["webhooks[0].rules[0].operations: Required value"]);
  assert.deepEqual(rule({ operations: ["*", "CREATE"] }), ['webhooks[0].rules[0].operations: Invalid value: []admissionregistration.OperationType{"*", "CREATE"}: if \'*\' is present, must not specify other operations']);
  assert.deepEqual(rule({ operations: ["GET"] }), ['webhooks[0].rules[0].operations[0]: Unsupported value: "GET": supported values: "*", "CONNECT", "CREATE", "DELETE", "UPDATE"']);
  assert.deepEqual(rule({ apiGroups: [] }), ["webhooks[0].rules[0].apiGroups: Required value"]);
  assert.deepEqual(rule({ apiGroups: ["*", "apps"] }), ['webhooks[0].rules[0].apiGroups: Invalid value: []string{"*", "apps"}: if \'*\' is present, must not specify other API groups']);
  assert.deepEqual(rule({ apiVersions: undefined }), ["webhooks[0].rules[0].apiVersions: Required value"]);
  assert.deepEqual(rule({ apiVersions: ["*", "v1"] }), ['webhooks[0].rules[0].apiVersions: Invalid value: []string{"*", "v1"}: if \'*\' is present, must not specify other API versions']);
  assert.deepEqual(rule({ apiVersions: ["v1", ""] }), ["webhooks[0].rules[0].apiVersions[1]: Required value"]);
  assert.deepEqual(rule({ resources: [] }), ["webhooks[0].rules[0].resources: Required value"]);
  assert.deepEqual(rule({ resources: ["pods", ""] }), ["webhooks[0].rules[0].resources[1]: Required value"]);
  for (const ok of [["*"], ["pods/status"], ["*/scale"], ["*/*"], ["pods", "pods/status", "pods/exec"], ["*", "*/scale"], ["pods/*", "deployments/scale"]]) assert.deepEqual(rule({ resources: ok }), [], ok.join(","));
  assert.deepEqual(rule({ resources: ["*/*", "pods"] }), ['webhooks[0].rules[0].resources: Invalid value: []string{"*/*", "pods"}: if \'*/*\' is present, must not specify other resources']);
  assert.deepEqual(rule({ resources: ["*", "pods"] }), ['webhooks[0].rules[0].resources: Invalid value: []string{"*", "pods"}: if \'*\' is present, must not specify other resources without subresources']);
  assert.deepEqual(rule({ resources: ["pods/*", "pods/status"] }), ['webhooks[0].rules[0].resources[1]: Invalid value: "pods/status": if \'pods/*\' is present, must not specify pods/status']);
  assert.deepEqual(rule({ resources: ["*/status", "pods/status"] }), ['webhooks[0].rules[0].resources[1]: Invalid value: "pods/status": if \'*/status\' is present, must not specify pods/status']);
  assert.deepEqual(rule({ scope: "Global" }), ['webhooks[0].rules[0].scope: Unsupported value: "Global": supported values: "*", "Cluster", "Namespaced"']);
  for (const scope of ["*", "Cluster", "Namespaced"]) assert.deepEqual(rule({ scope }), [], scope);
});

void test("clientConfig: exactly one of url and service; https URLs without user, query or fragment; service fields", () => {
  const cc = (clientConfig: unknown): string[] => errsOf({ clientConfig });
  const url = (u: string): string[] => cc({ url: u });
  const P = "webhooks[0].clientConfig";
  const form = "; desired format: https://host[/path]";
  assert.deepEqual(cc({}), [`${P}: Required value: exactly one of url or service is required`]);
  assert.deepEqual(cc({ url: "https://a.example.com", service: { namespace: "a", name: "b" } }), [`${P}: Required value: exactly one of url or service is required`]);
  assert.deepEqual(url("https://hook.example.com:8443/path/x"), []);
  assert.deepEqual(url("http://hook.example.com"), [`${P}.url: Invalid value: "http": 'https' is the only allowed URL scheme${form}`]);
  assert.deepEqual(url("https:///path"), [`${P}.url: Invalid value: "": host must be provided${form}`]);
  assert.deepEqual(url("https://user:pw@hook.example.com"), [`${P}.url: Invalid value: "user:pw": user information is not permitted in the URL`]);
  assert.deepEqual(url("https://hook.example.com/p?x=1"), [`${P}.url: Invalid value: "x=1": query parameters are not permitted in the URL`]);
  assert.deepEqual(url("https://hook.example.com/p#frag"), [`${P}.url: Invalid value: "frag": fragments are not permitted in the URL`]);
  assert.deepEqual(url("https://hook.example.com:port"), [`${P}.url: Required value: url must be a valid URL: parse "https://hook.example.com:port": invalid port ":port" after host${form}`]);
  assert.deepEqual(url("://x"), [`${P}.url: Required value: url must be a valid URL: parse "://x": missing protocol scheme${form}`]);
  assert.deepEqual(url("https://bad host/"), [`${P}.url: Required value: url must be a valid URL: parse "https://bad host/": invalid character " " in host name${form}`]);
  assert.deepEqual(url(""), [`${P}.url: Invalid value: "": 'https' is the only allowed URL scheme${form}`, `${P}.url: Invalid value: "": host must be provided${form}`]);

  const svc = (service: Hook): string[] => cc({ service: { namespace: "ns", name: "svc", port: 443, ...service } });
  assert.deepEqual(svc({}), []);
  assert.deepEqual(svc({ namespace: "", name: undefined }), [`${P}.service.name: Required value: service name is required`, `${P}.service.namespace: Required value: service namespace is required`]);
  assert.deepEqual(svc({ port: 0 }), [`${P}.service.port: Invalid value: 0: port is not valid: must be between 1 and 65535, inclusive`]);
  assert.deepEqual(svc({ port: 65536 }), [`${P}.service.port: Invalid value: 65536: port is not valid: must be between 1 and 65535, inclusive`]);
  for (const p of ["", "/", "/validate", "/a/b.c/", "/mutate-apps-v1-deployment"]) assert.deepEqual(svc({ path: p }), [], p);
  assert.deepEqual(svc({ path: "validate" }), [`${P}.service.path: Invalid value: "validate": must start with a '/'`]);
  assert.deepEqual(svc({ path: "//" }), [`${P}.service.path: Invalid value: "//": segment[0] may not be empty`]);
  assert.deepEqual(svc({ path: "/a//b" }), [`${P}.service.path: Invalid value: "/a//b": segment[1] may not be empty`]);
  assert.match(svc({ path: "/Validate" }).join("\n"), /^webhooks\[0\]\.clientConfig\.service\.path: Invalid value: "\/Validate": segment\[0\]: a lowercase RFC 1123 subdomain/);

  assert.deepEqual(cc({ url: "https://h.example.com", caBundle: Buffer.from("-----BEGIN CERTIFICATE-----\n").toString("base64") }), []);
  assert.deepEqual(cc({ url: "https://h.example.com", caBundle: "not base64!" }), [`${P}.caBundle: Invalid value: "<value omitted>": illegal base64 data at input byte 3`]);
});

void test("admissionReviewVersions, sideEffects, timeouts and the enums", () => {
  const H = "webhooks[0]";
  assert.deepEqual(errsOf({ admissionReviewVersions: ["v1beta1", "v1"] }), []);
  assert.deepEqual(errsOf({ admissionReviewVersions: ["v1", "v1"] }), [`${H}.admissionReviewVersions[1]: Invalid value: "v1": duplicate version`]);
  assert.deepEqual(errsOf({ admissionReviewVersions: ["v2"] }), [`${H}.admissionReviewVersions: Invalid value: []string{"v2"}: must include at least one of v1, v1beta1`]);
  assert.match(errsOf({ admissionReviewVersions: ["v1", "V2"] }).join("\n"), /^webhooks\[0\]\.admissionReviewVersions\[1\]: Invalid value: "V2": a DNS-1035 label must consist of/);
  assert.deepEqual(errsOf({ sideEffects: "NoneOnDryRun" }), []);
  assert.deepEqual(errsOf({ sideEffects: "Some" }), [`${H}.sideEffects: Unsupported value: "Some": supported values: "None", "NoneOnDryRun"`]);
  assert.deepEqual(errsOf({ sideEffects: "Unknown" }), [`${H}.sideEffects: Unsupported value: "Unknown": supported values: "None", "NoneOnDryRun"`]);
  assert.deepEqual(errsOf({ timeoutSeconds: 0 }), [`${H}.timeoutSeconds: Invalid value: 0: the timeout value must be between 1 and 30 seconds`]);
  assert.deepEqual(errsOf({ timeoutSeconds: 31 }), [`${H}.timeoutSeconds: Invalid value: 31: the timeout value must be between 1 and 30 seconds`]);
  assert.deepEqual(errsOf({ timeoutSeconds: 30 }), []);
  assert.deepEqual(errsOf({ failurePolicy: "Retry" }), [`${H}.failurePolicy: Unsupported value: "Retry": supported values: "Fail", "Ignore"`]);
  assert.deepEqual(errsOf({ matchPolicy: "Loose" }), [`${H}.matchPolicy: Unsupported value: "Loose": supported values: "Equivalent", "Exact"`]);
  assert.deepEqual(errsOf({ reinvocationPolicy: "Always" }, mwc), [`${H}.reinvocationPolicy: Unsupported value: "Always": supported values: "IfNeeded", "Never"`]);
  assert.deepEqual(errsOf({ reinvocationPolicy: "IfNeeded" }, mwc), []);
  assert.deepEqual(errsOf({ namespaceSelector: { matchExpressions: [{ key: "env", operator: "In", values: [] }] } }), [
    `${H}.namespaceSelector.matchExpressions[0].values: Required value: must be specified when \`operator\` is 'In' or 'NotIn'`,
  ]);
  assert.deepEqual(errsOf({ objectSelector: { matchExpressions: [{ key: "env", operator: "Near" }] } }), [`${H}.objectSelector.matchExpressions[0].operator: Invalid value: "Near": not a valid selector operator`]);
  assert.match(errsOf({ objectSelector: { matchLabels: { app: "bad value" } } }).join("\n"), /^webhooks\[0\]\.objectSelector\.matchLabels: Invalid value: "bad value": a valid label must be/);
});

void test("matchConditions: at most 64, named uniquely with qualified names, expressions compiling to bool without params", () => {
  const M = "webhooks[0].matchConditions";
  const mc = (...conds: Hook[]): Hook => ({ matchConditions: conds });
  for (const def of [vwc, mwc]) {
    assert.deepEqual(errsOf(mc({ name: "exclude-leases", expression: "!(request.resource.group == 'coordination.k8s.io')" }), def), []);
    assert.deepEqual(errsOf({ matchConditions: [] }, def), [], "an empty list asks for nothing");
  }
  assert.deepEqual(errsOf(mc({ name: "", expression: "  " })), [`${M}[0].expression: Required value`, `${M}[0].name: Required value`]);
  assert.deepEqual(errsOf(mc({ name: "a", expression: "true" }, { name: "a", expression: "false" })), [`${M}[1].name: Duplicate value: "a"`]);
  assert.match(errsOf(mc({ name: "-bad-", expression: "true" }))[0]!, /^webhooks\[0\]\.matchConditions\[0\]\.name: Invalid value: "-bad-": name part must consist of alphanumeric characters/);
  assert.deepEqual(errsOf(mc({ name: "n", expression: "1" })), [`${M}[0].expression: Invalid value: "1": must evaluate to a bool`]);
  const [syntax] = errsOf(mc({ name: "n", expression: " object.x == " }));
  assert.match(syntax!, /^webhooks\[0\]\.matchConditions\[0\]\.expression: Invalid value: "object\.x ==": compilation failed: ERROR: <input>:1:\d+: Syntax error/, "compiled trimmed, as upstream");
  const [params] = errsOf(mc({ name: "n", expression: "params.allowed" }));
  assert.match(params!, /^webhooks\[0\]\.matchConditions\[0\]\.expression: Invalid value: "params\.allowed": compilation failed: .*undeclared reference to 'params'/, "webhooks have no params");
  const many = Array.from({ length: 65 }, (_, i) => ({ name: `c${i}`, expression: "true" }));
  assert.deepEqual(errsOf({ matchConditions: many }), [`${M}: Too many: 65: must have at most 64 items`]);

  // An update compiles the conditions again only when some webhook's list changed.
  const stored = config([hook(mc({ name: "n", expression: "1" }))]);
  assert.deepEqual(update(vwc, config([hook({ ...mc({ name: "n", expression: "1" }), timeoutSeconds: 3 })]), stored), [], "stored conditions are kept as they are");
  assert.deepEqual(update(vwc, config([hook(mc({ name: "n", expression: "2" }))]), stored), [`${M}[0].expression: Invalid value: "2": must evaluate to a bool`]);
  const plain = config([hook()]);
  assert.deepEqual(create(vwc, plain), []);
  assert.equal(update(vwc, config([hook(mc({ name: "n", expression: "1" }))]), plain).length, 1, "nor added by an update");
});

void test("updates: checks relaxed for objects stored before they tightened; generation follows webhooks", () => {
  // Stored objects (e.g. from v1beta1 days) that no longer pass stay updatable in those respects.
  const legacy = config([hook({ sideEffects: "Unknown", admissionReviewVersions: ["v1beta2"] }), hook({ sideEffects: "Some", admissionReviewVersions: ["v1beta2"] })]);
  const next = config([hook({ sideEffects: "Unknown", admissionReviewVersions: ["v1beta2"], timeoutSeconds: 3 }), hook({ sideEffects: "Some", admissionReviewVersions: ["v1beta2"] })]);
  assert.deepEqual(update(vwc, next, legacy), []);
  assert.deepEqual(update(vwc, config([hook({ sideEffects: "Maybe" })]), legacy), ['webhooks[0].sideEffects: Unsupported value: "Maybe": supported values: "None", "NoneOnDryRun", "Some", "Unknown"']);
  // A conforming stored object keeps the strict rules.
  const good = config([hook()]);
  assert.deepEqual(update(vwc, config([hook({ sideEffects: "Some" })]), good), ['webhooks[0].sideEffects: Unsupported value: "Some": supported values: "None", "NoneOnDryRun"']);
  assert.deepEqual(update(vwc, config([hook(), hook()]), good), ['webhooks[1].name: Duplicate value: "check.example.com"']);
  const dup = config([hook(), hook()]);
  assert.deepEqual(update(vwc, config([hook(), hook(), hook()]), dup), [], "duplicates already stored stay allowed");
  const badLabel = config([hook({ objectSelector: { matchExpressions: [{ key: "k", operator: "In", values: ["bad value"] }] } })]);
  assert.deepEqual(update(vwc, config([hook({ objectSelector: { matchExpressions: [{ key: "k", operator: "In", values: ["bad value", "also bad"] }] } })]), badLabel), []);
  assert.deepEqual(update(vwc, config([hook()], "other"), good), ['metadata.name: Invalid value: "other": field is immutable']);

  for (const def of [vwc, mwc]) {
    assert.deepEqual(def.strategy.specFields, ["webhooks"], `${def.kind}: generation follows webhooks`);
    assert.deepEqual(def.strategy.statusFields, [], `${def.kind}: no status`);
  }
});

void test("table and discovery facts as upstream's", () => {
  for (const def of [mwc, vwc]) {
    assert.deepEqual(
      def.table!.columns.map((c) => [c.name, c.type]),
      [
        ["Name", "string"],
        ["Webhooks", "integer"],
        ["Age", "string"],
      ],
    );
    assert.deepEqual(def.table!.row(config([hook(), hook({ name: "b.example.com" })]), now), ["my-webhooks", 2, "60m"]);
    assert.deepEqual(def.table!.row(config([]), now), ["my-webhooks", 0, "60m"]);
    assert.equal(def.namespaced, false);
    assert.deepEqual(def.categories, ["api-extensions"]);
    assert.equal(def.group, "admissionregistration.k8s.io");
  }
  const order = builtinResources().map((d) => d.group);
  const at = order.indexOf("admissionregistration.k8s.io");
  assert.ok(order[at - 1] === "storage.k8s.io" && order[at + 4] === "apiextensions.k8s.io", "between storage and apiextensions, as /apis lists it");
});

void test("never throws on malformed bodies", () => {
  const junk: unknown[] = [null, 0, -1, "", "x", true, [], {}, [1, "a"], { a: 1 }, [null], [{}], 70000];
  let i = 0;
  for (const def of [mwc, vwc]) {
    for (const key of ["name", "clientConfig", "rules", "sideEffects", "admissionReviewVersions", "timeoutSeconds", "namespaceSelector", "objectSelector", "matchConditions", "failurePolicy", "reinvocationPolicy"]) {
      for (const v of junk) {
        const obj = config([hook({ [key]: v, ...(i++ % 2 ? { clientConfig: { service: v, url: undefined, caBundle: v } } : {}) })]);
        const old = config(i % 3 ? [hook({ [key]: v })] : (v as Hook[]));
        create(def, obj);
        update(def, structuredClone(obj), old);
        def.table!.row(obj, now);
      }
    }
    for (const webhooks of junk) {
      create(def, config(webhooks as Hook[]));
      def.table!.row(config(webhooks as Hook[]), now);
    }
  }
});

void describe("webhook configurations through a real API server and kubectl", () => {
  let s: TestApiServer;
  const k = (args: string[], stdin?: string): Promise<KubectlResult> => s.kubectl(args, stdin !== undefined ? { stdin } : {});
  const ok = (r: KubectlResult, what: string): string => {
    assert.equal(r.code, 0, `${what} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    s = await startTestApiServer();
  });
  after(async () => {
    await s?.stop();
  });

  // The rules name a group nothing else here uses, so the admission plugins that read these
  // objects never call the (absent) webhook during this suite.
  const manifest = (kind: string, name: string): string => `apiVersion: admissionregistration.k8s.io/v1
kind: ${kind}
metadata: {name: ${name}}
webhooks:
- name: check.widgets.example.com
  clientConfig: {service: {namespace: system, name: webhook-service, path: /check}}
  rules: [{operations: [CREATE], apiGroups: [widgets.example.com], apiVersions: [v1], resources: [widgets]}]
  sideEffects: None
  admissionReviewVersions: [v1]
- name: audit.widgets.example.com
  clientConfig: {url: "https://hooks.example.com/audit"}
  rules: [{operations: ["*"], apiGroups: [widgets.example.com], apiVersions: ["*"], resources: ["widgets/status"]}]
  failurePolicy: Ignore
  sideEffects: NoneOnDryRun
  admissionReviewVersions: [v1, v1beta1]
`;

  void it("lists both kinds in api-resources and the api-extensions category", async () => {
    const res = ok(await k(["api-resources", "--api-group=admissionregistration.k8s.io", "--no-headers"]), "api-resources");
    assert.match(res, /^mutatingwebhookconfigurations\s+admissionregistration\.k8s\.io\/v1\s+false\s+MutatingWebhookConfiguration$/m);
    assert.match(res, /^validatingwebhookconfigurations\s+admissionregistration\.k8s\.io\/v1\s+false\s+ValidatingWebhookConfiguration$/m);
    const ext = ok(await k(["api-resources", "--categories=api-extensions", "-o", "name"]), "api-resources --categories").split("\n");
    for (const r of ["mutatingwebhookconfigurations.admissionregistration.k8s.io", "validatingwebhookconfigurations.admissionregistration.k8s.io", "customresourcedefinitions.apiextensions.k8s.io"]) {
      assert.ok(ext.includes(r), `api-extensions lacks ${r}: ${ext.join(" ")}`);
    }
  });

  void it("creates them with defaults, prints the table and bumps generation when webhooks change", async () => {
    ok(await k(["apply", "-f", "-"], manifest("ValidatingWebhookConfiguration", "widgets") + "---\n" + manifest("MutatingWebhookConfiguration", "widgets")), "apply");
    const got = JSON.parse(ok(await k(["get", "mutatingwebhookconfiguration", "widgets", "-o", "json"]), "get -o json")) as { metadata: { generation: number }; webhooks: Hook[] };
    assert.equal(got.metadata.generation, 1);
    const [check, audit] = got.webhooks;
    assert.deepEqual([check!.failurePolicy, check!.matchPolicy, check!.timeoutSeconds, check!.reinvocationPolicy], ["Fail", "Equivalent", 10, "Never"]);
    assert.deepEqual(check!.clientConfig, { service: { namespace: "system", name: "webhook-service", path: "/check", port: 443 } });
    assert.deepEqual((audit!.rules as Hook[])[0]!.scope, "*");
    assert.equal(audit!.failurePolicy, "Ignore");

    const rows = ok(await k(["get", "validatingwebhookconfigurations"]), "get table").trimEnd().split("\n").map((l) => l.trim().split(/\s{2,}/));
    assert.deepEqual(rows[0], ["NAME", "WEBHOOKS", "AGE"]);
    assert.deepEqual(rows[1]!.slice(0, 2), ["widgets", "2"]);

    ok(await k(["label", "mutatingwebhookconfiguration", "widgets", "team=a"]), "label");
    const labelled = JSON.parse(ok(await k(["get", "mutatingwebhookconfiguration", "widgets", "-o", "json"]), "get")) as { metadata: { generation: number } };
    assert.equal(labelled.metadata.generation, 1, "metadata changes keep the generation");
    ok(await k(["patch", "mutatingwebhookconfiguration", "widgets", "--type=json", "-p", '[{"op":"replace","path":"/webhooks/0/timeoutSeconds","value":5}]']), "patch");
    const patched = JSON.parse(ok(await k(["get", "mutatingwebhookconfiguration", "widgets", "-o", "json"]), "get")) as { metadata: { generation: number } };
    assert.equal(patched.metadata.generation, 2);
  });

  void it("refuses invalid configurations with upstream's 422 messages", async () => {
    const bad = `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: bad}
webhooks:
- name: short.io
  clientConfig: {url: "http://hooks.example.com"}
  sideEffects: Some
  admissionReviewVersions: [v1]
  matchConditions: [{name: only-widgets, expression: "size(request.name)"}]
`;
    const r = await k(["apply", "-f", "-"], bad);
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /The ValidatingWebhookConfiguration "bad" is invalid/);
    assert.match(r.stderr, /webhooks\[0\]\.name: Invalid value: "short\.io": should be a domain with at least three segments separated by dots/);
    assert.match(r.stderr, /webhooks\[0\]\.sideEffects: Unsupported value: "Some": supported values: "None", "NoneOnDryRun"/);
    assert.match(r.stderr, /webhooks\[0\]\.clientConfig\.url: Invalid value: "http": 'https' is the only allowed URL scheme/);
    assert.match(r.stderr, /webhooks\[0\]\.matchConditions\[0\]\.expression: Invalid value: "size\(request\.name\)": must evaluate to a bool/);
  });

  void it("kubectl explain finds the webhooks' fields", async () => {
    const out = ok(await k(["explain", "validatingwebhookconfiguration.webhooks"]), "explain");
    assert.match(out, /GROUP:\s+admissionregistration\.k8s\.io/);
    assert.match(out, /admissionReviewVersions\s+<\[\]string> -required-/);
    assert.match(out, /sideEffects\s+<string> -required-/);
    const mut = ok(await k(["explain", "mutatingwebhookconfiguration.webhooks.reinvocationPolicy"]), "explain reinvocationPolicy");
    assert.match(mut, /reinvocationPolicy/);
  });
});
