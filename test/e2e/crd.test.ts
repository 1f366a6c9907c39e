// CustomResourceDefinitions end to end with the official kubectl against a real k8ts API
// server: the docs' CronTab example from CRD to custom resources and back to nothing.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kubectlRunner, startTestApiServer, type KubectlResult, type TestApiServer } from "../../src/testing/apiserver.js";

function ok(r: KubectlResult, what: string): string {
  assert.equal(r.code, 0, `${what} failed (${r.code}):\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

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
    ok(await k(["patch", "ct", "my-new-cron-object", "--type", "merge", "-p", '{"spec":{"image":"other"}}']), "merge patch");
    const obj = JSON.parse(ok(await k(["get", "ct", "my-new-cron-object", "-o", "json"]), "get")) as { metadata: { generation: number }; spec: { image: string } };
    assert.equal(obj.spec.image, "other");
    assert.equal(obj.metadata.generation, 2);
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
});
