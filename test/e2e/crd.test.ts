// CustomResourceDefinitions end to end with the official kubectl against a real k8ts API
// server: the docs' CronTab example from CRD to custom resources and back to nothing.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kubectlRunner, startTestApiServer, type Kubectl, type KubectlResult, type TestApiServer, succeeded as ok } from "../../src/testing/apiserver.js";
import { K8tsProcess } from "../../src/testing/process.js";
import { freePort } from "../../src/testing/net.js";
import { until } from "../../src/testing/wait.js";
import { ApiServer, compileApiServerOptions } from "../../src/apiserver/server.js";
import { builtinResources } from "../../src/apiserver/resources/index.js";
import { createLogger } from "../../src/util/log.js";

export const crontabCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              description: The desired schedule of a CronTab.
              properties:
                cronSpec:
                  type: string
                  description: The cron schedule, in cron format.
                image:
                  type: string
                  description: The image the job runs.
                replicas:
                  type: integer
                  minimum: 1
                  default: 1
            status:
              type: object
              properties:
                replicas:
                  type: integer
                labelSelector:
                  type: string
      subresources:
        status: {}
        scale:
          specReplicasPath: .spec.replicas
          statusReplicasPath: .status.replicas
          labelSelectorPath: .status.labelSelector
      additionalPrinterColumns:
        - name: Spec
          type: string
          description: The cron spec defining the interval a CronJob is run
          jsonPath: .spec.cronSpec
        - name: Replicas
          type: integer
          jsonPath: .spec.replicas
        - name: Age
          type: date
          jsonPath: .metadata.creationTimestamp
  scope: Namespaced
  names:
    plural: crontabs
    singular: crontab
    kind: CronTab
    shortNames:
    - ct
    categories:
    - all
`;

const crontab = `apiVersion: stable.example.com/v1
kind: CronTab
metadata:
  name: my-new-cron-object
  namespace: default
spec:
  cronSpec: "* * * * */5"
  image: my-awesome-cron-image
`;

describe("CustomResourceDefinitions with kubectl", () => {
  let s: TestApiServer;
  let dir: string;
  const k = (args: string[], stdin?: string): Promise<KubectlResult> => s.kubectl(args, stdin !== undefined ? { stdin } : {});

  before(async () => {
    s = await startTestApiServer();
    dir = mkdtempSync(join(tmpdir(), "k8ts-crd-"));
  });
  after(async () => {
    await s?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("creates the CRD, which becomes Established", async () => {
    ok(await k(["apply", "-f", "-"], crontabCRD), "apply crd");
    ok(await k(["wait", "--for", "condition=established", "--timeout=20s", "crd/crontabs.stable.example.com"]), "wait");
    const out = ok(await k(["get", "crd"]), "get crd");
    assert.match(out, /^NAME\s+CREATED AT\n/);
    assert.match(out, /crontabs\.stable\.example\.com\s+\d{4}-\d\d-\d\dT/);
    const crd = JSON.parse(ok(await k(["get", "crd", "crontabs.stable.example.com", "-o", "json"]), "get crd json")) as { status: { acceptedNames: { kind: string }; storedVersions: string[]; conditions: { type: string; status: string; reason: string }[] } };
    assert.equal(crd.status.acceptedNames.kind, "CronTab");
    assert.deepEqual(crd.status.storedVersions, ["v1"]);
    assert.deepEqual(
      crd.status.conditions.map((c) => [c.type, c.status, c.reason]),
      [
        ["NamesAccepted", "True", "NoConflicts"],
        ["Established", "True", "InitialNamesAccepted"],
      ],
    );
  });

  it("lists the resource in api-resources and explains it", async () => {
    const out = ok(await k(["api-resources", "--api-group=stable.example.com"]), "api-resources");
    assert.match(out, /crontabs\s+ct\s+stable\.example\.com\/v1\s+true\s+CronTab/);
    const explain = ok(await k(["explain", "crontab.spec"]), "explain");
    assert.match(explain, /The desired schedule of a CronTab/);
    assert.match(explain, /cronSpec\s+<string>/);
    assert.match(explain, /The cron schedule, in cron format/);
  });

  it("applies a CronTab and prints its columns", async () => {
    ok(await k(["apply", "-f", "-"], crontab), "apply cr");
    const out = ok(await k(["get", "ct"]), "get ct");
    assert.match(out, /^NAME\s+SPEC\s+REPLICAS\s+AGE\n/);
    assert.match(out, /my-new-cron-object\s+\* \* \* \* \*\/5\s+1\s+\d+s/);
    const obj = ok(await k(["get", "crontab", "my-new-cron-object", "-o", "yaml"]), "get -o yaml");
    assert.match(obj, /apiVersion: stable\.example\.com\/v1/);
    assert.match(obj, /replicas: 1/, "the schema's default is applied");
    assert.match(obj, /generation: 1/);
    // `kubectl get all` takes the category.
    assert.match(ok(await k(["get", "all", "-n", "default"]), "get all"), /crontab\.stable\.example\.com\/my-new-cron-object/);
  });

  it("applies a changed CronTab again (client-side apply sends a merge patch)", async () => {
    ok(await k(["apply", "-f", "-"], crontab.replace("my-awesome-cron-image", "second-image")), "apply again");
    assert.equal(ok(await k(["get", "ct", "my-new-cron-object", "-o", "jsonpath={.spec.image}"]), "get image"), "second-image");
    ok(await k(["apply", "-f", "-"], crontab), "apply back");
  });

  it("does not accept names another CRD of the group took: NamesAccepted False, not Established", async () => {
    const other = crontabCRD.replace("name: crontabs.stable.example.com", "name: crons.stable.example.com").replace("plural: crontabs", "plural: crons").replace("singular: crontab", "singular: cron").replace("kind: CronTab", "kind: Cron");
    ok(await k(["apply", "-f", "-"], other), "apply conflicting crd");
    const deadline = Date.now() + 10_000;
    let conditions: { type: string; status: string; reason: string; message: string }[] = [];
    while (Date.now() < deadline) {
      const got = JSON.parse(ok(await k(["get", "crd", "crons.stable.example.com", "-o", "json"]), "get")) as { status?: { conditions?: typeof conditions } };
      conditions = got.status?.conditions ?? [];
      if (conditions.some((c) => c.type === "NamesAccepted")) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(
      conditions.map((c) => [c.type, c.status, c.reason, c.message]),
      [
        ["NamesAccepted", "False", "ShortNamesConflict", '"ct" is already in use'],
        ["Established", "False", "NotAccepted", "not all names are accepted"],
      ],
    );
    ok(await k(["delete", "crd", "crons.stable.example.com"]), "delete conflicting crd");
  });

  it("accepts the names once the CRD holding them goes", async () => {
    const small = (plural: string, kind: string): string => `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ${plural}.names.example.com
spec:
  group: names.example.com
  scope: Cluster
  names: {plural: ${plural}, kind: ${kind}, shortNames: [dup]}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object}}
`;
    ok(await k(["apply", "-f", "-"], small("alphas", "Alpha")), "apply alphas");
    ok(await k(["wait", "--for", "condition=established", "--timeout=20s", "crd/alphas.names.example.com"]), "alphas established");
    ok(await k(["apply", "-f", "-"], small("betas", "Beta")), "apply betas");
    ok(await k(["wait", "--for", "condition=namesaccepted=false", "--timeout=20s", "crd/betas.names.example.com"]), "betas refused");
    ok(await k(["delete", "crd", "alphas.names.example.com"]), "delete alphas");
    ok(await k(["wait", "--for", "condition=established", "--timeout=20s", "crd/betas.names.example.com"]), "betas established");
    ok(await k(["delete", "crd", "betas.names.example.com"]), "delete betas");
  });

  it("refuses conversion webhooks with a 422", async () => {
    const webhook = crontabCRD.replace("  scope: Namespaced", "  conversion:\n    strategy: Webhook\n    webhook:\n      conversionReviewVersions: [v1]\n      clientConfig:\n        url: https://example.com/convert\n  scope: Namespaced").replace(/crontabs/g, "webhooks").replace(/crontab/g, "webhook").replace(/CronTab/g, "Webhook").replace("- ct", "- wh");
    const r = await k(["apply", "-f", "-"], webhook);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /The CustomResourceDefinition "webhooks\.stable\.example\.com" is invalid: spec\.conversion\.strategy: Forbidden: k8ts does not call conversion webhooks/);
  });

  it("refuses an invalid CronTab with the schema's message", async () => {
    const bad = crontab.replace("my-new-cron-object", "bad").replace('image: my-awesome-cron-image', "image: x\n  replicas: \"three\"");
    const r = await k(["apply", "-f", "-"], bad);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /The CronTab "bad" is invalid/);
    assert.match(r.stderr, /spec\.replicas/);
  });

  it("refuses unknown fields under kubectl's default strict validation", async () => {
    const unknown = crontab.replace("my-new-cron-object", "unknown").replace("image: my-awesome-cron-image", "image: x\n  foo: bar");
    const r = await k(["create", "-f", "-"], unknown);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /strict decoding error: unknown field "spec\.foo"/);
    // Ignore drops it silently.
    ok(await k(["create", "--validate=false", "-f", "-"], unknown), "create --validate=false");
    const got = ok(await k(["get", "ct", "unknown", "-o", "jsonpath={.spec}"]), "get unknown");
    assert.doesNotMatch(got, /foo/);
    ok(await k(["delete", "ct", "unknown"]), "delete unknown");
  });

  it("patches with merge patch, refuses strategic merge patch, and applies server-side", async () => {
    const before = JSON.parse(ok(await k(["get", "ct", "my-new-cron-object", "-o", "json"]), "get")) as { metadata: { generation: number } };
    ok(await k(["patch", "ct", "my-new-cron-object", "--type", "merge", "-p", '{"spec":{"image":"other"}}']), "merge patch");
    const obj = JSON.parse(ok(await k(["get", "ct", "my-new-cron-object", "-o", "json"]), "get")) as { metadata: { generation: number }; spec: { image: string } };
    assert.equal(obj.spec.image, "other");
    assert.equal(obj.metadata.generation, before.metadata.generation + 1, "a spec change bumps generation");
    // A label change does not.
    ok(await k(["label", "ct", "my-new-cron-object", "team=a"]), "label");
    const labelled = JSON.parse(ok(await k(["get", "ct", "my-new-cron-object", "-o", "json"]), "get")) as { metadata: { generation: number } };
    assert.equal(labelled.metadata.generation, obj.metadata.generation);
    const smp = await k(["patch", "ct", "my-new-cron-object", "--type", "strategic", "-p", '{"spec":{"image":"x"}}']);
    assert.notEqual(smp.code, 0);
    assert.match(smp.stderr, /the body of the request was in an unknown format - accepted media types include: application\/json-patch\+json, application\/merge-patch\+json, application\/apply-patch\+yaml/);
    ok(await k(["apply", "--server-side", "--force-conflicts", "-f", "-"], crontab.replace("my-awesome-cron-image", "ssa-image")), "apply --server-side");
    const ssa = JSON.parse(ok(await k(["get", "ct", "my-new-cron-object", "-o", "json", "--show-managed-fields"]), "get")) as { metadata: { managedFields?: { manager: string; operation: string }[] }; spec: { image: string } };
    assert.equal(ssa.spec.image, "ssa-image");
    assert.ok(ssa.metadata.managedFields?.some((m) => m.manager === "kubectl" && m.operation === "Apply"), JSON.stringify(ssa.metadata.managedFields));
  });

  it("writes status only through the status subresource, and scales", async () => {
    ok(await k(["patch", "ct", "my-new-cron-object", "--subresource=status", "--type", "merge", "-p", '{"status":{"replicas":1,"labelSelector":"app=cron"}}']), "status patch");
    const before = JSON.parse(ok(await k(["get", "ct", "my-new-cron-object", "-o", "json"]), "get")) as { metadata: { generation: number }; status: { replicas: number } };
    assert.equal(before.status.replicas, 1);
    // A status write leaves generation alone; a status in a main-resource write is ignored.
    ok(await k(["patch", "ct", "my-new-cron-object", "--type", "merge", "-p", '{"status":{"replicas":9}}']), "main patch of status");
    const mid = JSON.parse(ok(await k(["get", "ct", "my-new-cron-object", "-o", "json"]), "get")) as { metadata: { generation: number }; status: { replicas: number } };
    assert.equal(mid.status.replicas, 1);
    assert.equal(mid.metadata.generation, before.metadata.generation);
    ok(await k(["scale", "ct", "my-new-cron-object", "--replicas=3"]), "scale");
    const scaled = JSON.parse(ok(await k(["get", "ct", "my-new-cron-object", "-o", "json"]), "get")) as { spec: { replicas: number } };
    assert.equal(scaled.spec.replicas, 3);
    const scale = JSON.parse(ok(await k(["get", "--raw", "/apis/stable.example.com/v1/namespaces/default/crontabs/my-new-cron-object/scale"]), "get scale")) as { kind: string; spec: { replicas: number }; status: { selector: string } };
    assert.equal(scale.kind, "Scale");
    assert.equal(scale.spec.replicas, 3);
    assert.equal(scale.status.selector, "app=cron");
  });

  it("serves a second, deprecated version over the same objects", async () => {
    const v1beta1 = `    - name: v1beta1
      served: true
      storage: false
      deprecated: true
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
`;
    ok(await k(["apply", "-f", "-"], crontabCRD.replace("  scope: Namespaced", v1beta1 + "  scope: Namespaced")), "apply crd with v1beta1");
    await until(
      "v1beta1 is served",
      async () => ((await k(["get", "--raw", "/apis/stable.example.com/v1beta1"])).code === 0 ? true : undefined),
      10_000,
    );
    const r = await k(["get", "crontabs.v1beta1.stable.example.com", "my-new-cron-object", "-o", "jsonpath={.apiVersion} {.spec.cronSpec}"]);
    assert.equal(ok(r, "get v1beta1"), "stable.example.com/v1beta1 * * * * */5");
    assert.match(r.stderr, /Warning: stable\.example\.com\/v1beta1 CronTab is deprecated; use stable\.example\.com\/v1 CronTab/);
    // Still stored once, in v1.
    assert.equal(ok(await k(["get", "crontabs.v1.stable.example.com", "my-new-cron-object", "-o", "jsonpath={.apiVersion}"]), "get v1"), "stable.example.com/v1");
    const groups = JSON.parse(ok(await k(["get", "--raw", "/apis/stable.example.com"]), "group")) as { preferredVersion: { version: string }; versions: { version: string }[] };
    assert.deepEqual(groups.versions.map((v) => v.version), ["v1", "v1beta1"]);
    assert.equal(groups.preferredVersion.version, "v1");
  });

  it("drops unknown metadata fields as for any kind", async () => {
    const r = await k(["create", "-f", "-"], crontab.replace("name: my-new-cron-object", "name: meta\n  foo: bar"));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /strict decoding error: unknown field "metadata\.foo"/);
  });

  it("deleting the CRD deletes its custom resources, then the resource type is unknown", async () => {
    ok(await k(["delete", "crd", "crontabs.stable.example.com", "--timeout=30s"]), "delete crd");
    // kubectl's discovery cache still knows crontabs: the list is a 404.
    const stale = await k(["get", "ct"]);
    assert.notEqual(stale.code, 0);
    assert.match(stale.stderr, /the server could not find the requested resource/);
    // With fresh discovery the type is unknown.
    const fresh = kubectlRunner(s.kubeconfig, join(dir, "fresh-cache"), dir);
    const r = await fresh(["get", "ct"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /the server doesn't have a resource type "ct"/);
    assert.doesNotMatch(ok(await fresh(["api-resources"]), "api-resources"), /crontabs/);
    const raw = await k(["get", "--raw", "/apis/stable.example.com/v1/namespaces/default/crontabs"]);
    assert.notEqual(raw.code, 0);
  });

  it("a CRD being deleted waits for custom resources its finalizers hold, and takes no new ones", async () => {
    const widgets = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.stable.example.com
spec:
  group: stable.example.com
  scope: Cluster
  names: {plural: widgets, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`;
    const widget = (name: string, finalizer = ""): string => `apiVersion: stable.example.com/v1\nkind: Widget\nmetadata:\n  name: ${name}\n${finalizer ? `  finalizers: [${finalizer}]\n` : ""}`;
    ok(await k(["apply", "-f", "-"], widgets), "apply widgets crd");
    ok(await k(["wait", "--for", "condition=established", "--timeout=20s", "crd/widgets.stable.example.com"]), "established");
    ok(await k(["create", "-f", "-"], widget("held", "example.com/hold")), "create held widget");
    ok(await k(["create", "-f", "-"], widget("free")), "create free widget");
    ok(await k(["delete", "crd", "widgets.stable.example.com", "--wait=false"]), "delete crd");
    ok(await k(["wait", "--for", "jsonpath={.status.conditions[?(@.type==\"Terminating\")].reason}=InstanceDeletionCheck", "--timeout=20s", "crd/widgets.stable.example.com"]), "terminating, waiting for the held widget");
    assert.match(ok(await k(["get", "crd", "widgets.stable.example.com", "-o", "jsonpath={.metadata.finalizers}"]), "finalizers"), /customresourcecleanup\.apiextensions\.k8s\.io/);
    const refused = await k(["create", "-f", "-"], widget("late"));
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /create not allowed while custom resource definition is terminating/);
    assert.match(ok(await k(["get", "widgets", "-o", "name"]), "get widgets"), /^widget\.stable\.example\.com\/held\n$/);
    ok(await k(["patch", "widget", "held", "--type", "merge", "-p", '{"metadata":{"finalizers":null}}']), "release the held widget");
    ok(await k(["wait", "--for", "delete", "--timeout=20s", "crd/widgets.stable.example.com"]), "crd gone");
  });
});

// The same CRD with the oldest and newest kubectl k8ts supports, where installed: discovery,
// OpenAPI (explain and strict validation) and the printer columns.
for (const v of [
  { name: "1.27", binary: "/usr/lib/google-cloud-sdk/bin/kubectl.1.27" },
  { name: "1.33", binary: "/usr/lib/google-cloud-sdk/bin/kubectl.1.33" },
].filter((b) => existsSync(b.binary))) {
  describe(`CustomResourceDefinitions with kubectl ${v.name}`, () => {
    let s: TestApiServer;
    const k = (args: string[], stdin?: string): Promise<KubectlResult> => s.kubectl(args, { binary: v.binary, ...(stdin !== undefined ? { stdin } : {}) });
    before(async () => {
      s = await startTestApiServer();
    });
    after(async () => {
      await s?.stop();
    });

    it("establishes the CRD, serves, explains and validates its resources", async () => {
      ok(await k(["apply", "-f", "-"], crontabCRD), "apply crd");
      ok(await k(["wait", "--for", "condition=established", "--timeout=20s", "crd/crontabs.stable.example.com"]), "wait");
      assert.match(ok(await k(["api-resources", "--api-group=stable.example.com"]), "api-resources"), /crontabs\s+ct\s+stable\.example\.com\/v1\s+true\s+CronTab/);
      assert.match(ok(await k(["explain", "crontab.spec"]), "explain"), /The desired schedule of a CronTab/);
      ok(await k(["apply", "-f", "-"], crontab), "apply cr");
      assert.match(ok(await k(["get", "ct"]), "get ct"), /my-new-cron-object\s+\* \* \* \* \*\/5\s+1\s+\d+s/);
      const unknown = await k(["create", "-f", "-"], crontab.replace("my-new-cron-object", "unknown").replace("image: my-awesome-cron-image", "image: x\n  foo: bar"));
      assert.notEqual(unknown.code, 0);
      assert.match(unknown.stderr, /unknown field "spec\.foo"/);
      ok(await k(["scale", "ct", "my-new-cron-object", "--replicas=2"]), "scale");
      assert.equal(ok(await k(["get", "ct", "my-new-cron-object", "-o", "jsonpath={.spec.replicas}"]), "get replicas"), "2");
    });
  });
}

describe("CustomResourceDefinitions across a restart", () => {
  let dir: string;
  let server: ApiServer | undefined;
  const start = async (): Promise<ApiServer> => {
    const s = new ApiServer(compileApiServerOptions({ dataDir: join(dir, "data"), port: 0, resources: builtinResources(), log: createLogger("silent"), disableAdmissionPlugins: ["ServiceAccount"] }));
    server = s;
    await s.start();
    return s;
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "k8ts-crd-restart-"));
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves the CRDs in the store again, before reporting ready", async () => {
    const first = await start();
    const k1 = kubectlRunner(first.kubeconfigPath, join(dir, "cache1"), dir);
    ok(await k1(["apply", "-f", "-"], { stdin: crontabCRD }), "apply crd");
    ok(await k1(["wait", "--for", "condition=established", "--timeout=20s", "crd/crontabs.stable.example.com"]), "wait");
    ok(await k1(["apply", "-f", "-"], { stdin: crontab }), "apply cr");
    await first.stop();
    server = undefined;

    const second = await start();
    // A fresh discovery cache: what the restarted server serves from the moment start() returns.
    const k2 = kubectlRunner(second.kubeconfigPath, join(dir, "cache2"), dir);
    const out = ok(await k2(["get", "ct", "-n", "default"]), "get ct after restart");
    assert.match(out, /my-new-cron-object\s+\* \* \* \* \*\/5/);
    ok(await k2(["patch", "ct", "my-new-cron-object", "-n", "default", "--type", "merge", "-p", '{"spec":{"image":"after-restart"}}']), "patch after restart");
  });
});

describe("custom resources and the controllers", () => {
  let dir: string;
  let server: K8tsProcess | undefined;
  let k: Kubectl;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "k8ts-crd-controllers-"));
    const port = await freePort();
    server = K8tsProcess.start("k8ts server", ["server", "--data-dir", dir, "--port", String(port), "--store", "memory://", "--disable-agent", "--log-level", process.env["K8TS_TEST_LOG"] ?? "warn"]);
    await server.ready("k8ts server ready");
    k = kubectlRunner(join(dir, "admin.kubeconfig"), join(dir, "kubectl-cache"), dir, 120_000);
  });
  after(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("the namespace controller deletes custom resources of a deleted namespace, the garbage collector those whose owner is gone", async () => {
    ok(await k(["apply", "-f", "-"], { stdin: crontabCRD }), "apply crd");
    ok(await k(["wait", "--for", "condition=established", "--timeout=20s", "crd/crontabs.stable.example.com"]), "wait");
    ok(await k(["create", "namespace", "cron"]), "create ns");
    ok(await k(["apply", "-f", "-"], { stdin: crontab.replace("namespace: default", "namespace: cron") }), "apply cr");
    // A CronTab owned by a ConfigMap: the garbage collector deletes it with its owner.
    const owner = JSON.parse(ok(await k(["create", "configmap", "owner", "-n", "default", "-o", "json"]), "create owner")) as { metadata: { uid: string } };
    const owned = crontab.replace("name: my-new-cron-object", `name: owned\n  ownerReferences:\n  - apiVersion: v1\n    kind: ConfigMap\n    name: owner\n    uid: ${owner.metadata.uid}`);
    ok(await k(["apply", "-f", "-"], { stdin: owned }), "apply owned cr");
    ok(await k(["delete", "configmap", "owner", "-n", "default"]), "delete owner");
    ok(await k(["delete", "namespace", "cron", "--timeout=60s"]), "delete namespace");
    await until(
      "the owned CronTab is gone",
      async () => {
        const r = await k(["get", "ct", "owned", "-n", "default"]);
        return r.code !== 0 && /NotFound/.test(r.stderr) ? true : undefined;
      },
      60_000,
    );
    assert.match((await k(["get", "ct", "-A"])).stderr, /No resources found/);
  });
});
