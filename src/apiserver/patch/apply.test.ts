import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parse } from "yaml";
import { apply, lastAppliedAnnotation, sortedGoJSON, type ApplyOptions } from "./apply.js";
import { updateManagedFields, type ManagedFieldsEntry } from "./managedfields.js";
import { FieldSet, path } from "./fieldpath.js";
import { isPatchError, type PatchError } from "./errors.js";
import { schemaFromOpenAPI } from "./schema.js";
import type { JsonObject, JsonValue } from "./json.js";
import { defs, openapi } from "./testdata.js";

const deploymentSchema = schemaFromOpenAPI(openapi, defs.deployment);
const y = (s: string): JsonObject => parse(s) as JsonObject;

const opts = (manager: string, now: string, extra: Partial<ApplyOptions> = {}): ApplyOptions => ({
  manager,
  kind: "Deployment",
  apiVersion: "apps/v1",
  schema: deploymentSchema,
  now,
  resetFields: [path("status")],
  ...extra,
});

const config = (replicas: number, image: string, extra = ""): JsonObject =>
  y(`
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
  labels: {app: web}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: ${image}
${extra}`);

const entries = (o: JsonObject): ManagedFieldsEntry[] => ((o["metadata"] as JsonObject)["managedFields"] ?? []) as unknown as ManagedFieldsEntry[];
const owner = (o: JsonObject, manager: string): FieldSet => FieldSet.fromFieldsV1(entries(o).find((e) => e.manager === manager)?.fieldsV1 ?? {});
const stored = (o: JsonObject): JsonObject => {
  const c = structuredClone(o);
  (c["metadata"] as JsonObject)["uid"] = "uid-1";
  return c;
};
const spec = (o: JsonObject): JsonObject => o["spec"] as JsonObject;
const containers = (o: JsonObject): JsonObject[] => ((spec(o)["template"] as JsonObject)["spec"] as JsonObject)["containers"] as JsonObject[];

function conflictOf(fn: () => unknown): PatchError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(isPatchError(caught, "ApplyConflict"), `expected a conflict, got ${String(caught)}`);
  return caught;
}

void describe("server-side apply", () => {
  void it("creates an object owned by the applier", () => {
    const r = apply(undefined, config(2, "nginx:1.25"), opts("kubectl", "2024-05-01T10:00:00Z"));
    assert.ok(r.changed);
    assert.deepStrictEqual(entries(r.object), [
      {
        manager: "kubectl",
        operation: "Apply",
        apiVersion: "apps/v1",
        time: "2024-05-01T10:00:00Z",
        fieldsType: "FieldsV1",
        fieldsV1: {
          "f:metadata": { "f:labels": { "f:app": {} } },
          "f:spec": {
            "f:replicas": {},
            "f:selector": {},
            "f:template": {
              "f:metadata": { "f:labels": { "f:app": {} } },
              "f:spec": { "f:containers": { 'k:{"name":"nginx"}': { ".": {}, "f:image": {}, "f:name": {} } } },
            },
          },
        },
      },
    ]);
    assert.equal(spec(r.object)["replicas"], 2);
  });

  void it("re-applying the same configuration changes nothing, not even the time", () => {
    const first = stored(apply(undefined, config(2, "nginx:1.25"), opts("kubectl", "2024-05-01T10:00:00Z")).object);
    const again = apply(first, config(2, "nginx:1.25"), opts("kubectl", "2024-05-01T11:00:00Z"));
    assert.equal(again.changed, false);
    assert.deepStrictEqual(entries(again.object), entries(first));
  });

  void it("conflicts with the manager that set a field, in upstream's words", () => {
    const created = stored(apply(undefined, config(2, "nginx:1.25"), opts("kubectl", "2024-05-01T10:00:00Z")).object);
    const scaled = structuredClone(created);
    spec(scaled)["replicas"] = 5;
    const live = stored(updateManagedFields(created, scaled, { ...opts("kubectl-client-side-apply", "2024-05-01T10:01:00Z") }));
    const e = conflictOf(() => apply(live, config(3, "nginx:1.25"), opts("kubectl", "2024-05-01T10:02:00Z")));
    assert.equal(e.httpCode, 409);
    assert.equal(e.message, 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
    assert.deepStrictEqual(e.toStatus(), {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas',
      reason: "Conflict",
      details: { causes: [{ type: "FieldManagerConflict", message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: ".spec.replicas" }] },
      code: 409,
    });
    // Applying the value the other manager set is no conflict: the field becomes shared.
    const shared = apply(live, config(5, "nginx:1.25"), opts("kubectl", "2024-05-01T10:02:00Z"));
    assert.ok(owner(shared.object, "kubectl").has(path("spec", "replicas")));
    assert.ok(owner(shared.object, "kubectl-client-side-apply").has(path("spec", "replicas")));
  });

  void it("lists several conflicts grouped by manager", () => {
    const a = stored(apply(undefined, config(2, "nginx:1.25"), opts("team-a", "2024-05-01T10:00:00Z")).object);
    const e = conflictOf(() => apply(a, config(4, "nginx:1.26"), opts("team-b", "2024-05-01T10:01:00Z")));
    assert.equal(e.message, 'Apply failed with 2 conflicts: conflicts with "team-a":\n- .spec.replicas\n- .spec.template.spec.containers[name="nginx"].image');
    assert.deepStrictEqual(
      e.extra.causes?.map((c) => c.field),
      [".spec.replicas", '.spec.template.spec.containers[name="nginx"].image'],
    );
  });

  void it("force takes the fields over", () => {
    const a = stored(apply(undefined, config(2, "nginx:1.25"), opts("team-a", "2024-05-01T10:00:00Z")).object);
    const r = apply(a, config(4, "nginx:1.25"), opts("team-b", "2024-05-01T10:01:00Z", { force: true }));
    assert.equal(spec(r.object)["replicas"], 4);
    assert.ok(owner(r.object, "team-b").has(path("spec", "replicas")));
    assert.ok(!owner(r.object, "team-a").has(path("spec", "replicas")));
    assert.ok(owner(r.object, "team-a").has(path("spec", "selector")));
  });

  void it("removes fields the applier no longer sets, unless someone else owns them", () => {
    const withEnv = config(2, "nginx:1.25", "        env: [{name: A, value: '1'}, {name: B, value: '2'}]\n");
    const first = stored(apply(undefined, withEnv, opts("kubectl", "2024-05-01T10:00:00Z")).object);
    // A second applier also sets label tier and env B.
    const other = y(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {tier: fe}}
spec:
  template:
    spec:
      containers:
      - name: nginx
        env: [{name: B, value: '2'}]
`);
    const both = stored(apply(first, other, opts("other", "2024-05-01T10:01:00Z")).object);
    const next = apply(both, config(2, "nginx:1.25"), opts("kubectl", "2024-05-01T10:02:00Z"));
    assert.deepStrictEqual(containers(next.object)[0]?.["env"], [{ name: "B", value: "2" }]);
    assert.deepStrictEqual((next.object["metadata"] as JsonObject)["labels"], { app: "web", tier: "fe" });
    assert.ok(!owner(next.object, "kubectl").has([...path("spec", "template", "spec", "containers"), { kind: "key", fields: [["name", "nginx"]] }, { kind: "field", name: "env" }]));
  });

  void it("removes a container the applier dropped and keeps fields nobody applied", () => {
    const two = config(1, "nginx:1.25", "      - name: sidecar\n        image: busybox\n");
    const created = apply(undefined, two, opts("kubectl", "2024-05-01T10:00:00Z")).object;
    // Defaulting added a field nobody owns.
    spec(created)["revisionHistoryLimit"] = 10;
    const r = apply(stored(created), config(1, "nginx:1.25"), opts("kubectl", "2024-05-01T10:01:00Z"));
    assert.deepStrictEqual(
      containers(r.object).map((c) => c["name"]),
      ["nginx"],
    );
    assert.equal(spec(r.object)["revisionHistoryLimit"], 10);
  });

  void it("changes the strategy type and drops rollingUpdate when the applier owned it", () => {
    const ru = config(1, "nginx", "").valueOf() as JsonObject;
    spec(ru)["strategy"] = { type: "RollingUpdate", rollingUpdate: { maxSurge: 1 } };
    const created = stored(apply(undefined, ru, opts("kubectl", "2024-05-01T10:00:00Z")).object);
    const recreate = config(1, "nginx", "");
    spec(recreate)["strategy"] = { type: "Recreate" };
    const r = apply(created, recreate, opts("kubectl", "2024-05-01T10:01:00Z"));
    assert.deepStrictEqual(spec(r.object)["strategy"], { type: "Recreate" });
  });

  void it("conflicts with before-first-apply on an object nobody tracked", () => {
    const untracked = stored(config(2, "nginx:1.24"));
    const e = conflictOf(() => apply(untracked, config(3, "nginx:1.24"), opts("kubectl", "2024-05-01T10:00:00Z")));
    assert.equal(e.message, 'Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: .spec.replicas');
  });

  void it("lets kubectl take over what it set with client-side apply, and keeps the annotation current", () => {
    const csa = config(2, "nginx:1.24");
    const annotation = `${sortedGoJSON(csa as JsonValue)}\n`;
    (csa["metadata"] as JsonObject)["annotations"] = { [lastAppliedAnnotation]: annotation };
    const live = stored(updateManagedFields(undefined, csa, { ...opts("kubectl-client-side-apply", "2024-05-01T10:00:00Z") }));
    const r = apply(live, config(3, "nginx:1.25"), opts("kubectl", "2024-05-01T10:01:00Z"));
    assert.equal(spec(r.object)["replicas"], 3);
    assert.ok(owner(r.object, "kubectl").has(path("spec", "replicas")));
    assert.ok(!owner(r.object, "kubectl-client-side-apply").has(path("spec", "replicas")));
    const now = ((r.object["metadata"] as JsonObject)["annotations"] as JsonObject)[lastAppliedAnnotation];
    assert.equal(now, `${sortedGoJSON(config(3, "nginx:1.25") as JsonValue)}\n`);
    // Another manager does not get that pass.
    assert.ok(conflictOf(() => apply(live, config(3, "nginx:1.25"), opts("helm", "2024-05-01T10:01:00Z"))).message.startsWith("Apply failed with 2 conflicts"));
  });

  void it("still conflicts on fields someone changed after kubectl's client-side apply", () => {
    const csa = config(2, "nginx:1.24");
    (csa["metadata"] as JsonObject)["annotations"] = { [lastAppliedAnnotation]: `${sortedGoJSON(csa as JsonValue)}\n` };
    const created = stored(updateManagedFields(undefined, csa, opts("kubectl-client-side-apply", "2024-05-01T10:00:00Z")));
    const scaled = structuredClone(created);
    spec(scaled)["replicas"] = 7;
    const live = stored(updateManagedFields(created, scaled, opts("kubectl-scale", "2024-05-01T10:01:00Z")));
    const e = conflictOf(() => apply(live, config(3, "nginx:1.25"), opts("kubectl", "2024-05-01T10:02:00Z")));
    assert.equal(e.message, 'Apply failed with 1 conflict: conflict with "kubectl-scale" using apps/v1: .spec.replicas');
  });

  void it("never lets the applier own status on the main resource", () => {
    const withStatus = config(1, "nginx");
    withStatus["status"] = { replicas: 9 };
    const r = apply(undefined, withStatus, opts("kubectl", "2024-05-01T10:00:00Z"));
    assert.ok(!owner(r.object, "kubectl").has(path("status", "replicas")));
  });

  const bad: { name: string; body: unknown; code: string; httpCode: number; message: string }[] = [
    { name: "a body that is not an object", body: [1], code: "BadApply", httpCode: 400, message: "error decoding patch: json: cannot unmarshal array into Go value of type map[string]interface {}" },
    { name: "another kind", body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "web" } }, code: "BadApply", httpCode: 400, message: "invalid object type: /v1, Kind=ConfigMap" },
    {
      name: "managedFields in the body",
      body: { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", managedFields: [] } },
      code: "BadApply",
      httpCode: 400,
      message: "metadata.managedFields must be nil",
    },
    {
      name: "a field the schema does not declare",
      body: { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "default" }, spec: { replicaz: 1 } },
      code: "ApplyFailed",
      httpCode: 500,
      message: "failed to create typed patch object (default/web; apps/v1, Kind=Deployment): .spec.replicaz: field not declared in schema",
    },
    {
      name: "duplicate containers",
      body: { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web" }, spec: { template: { spec: { containers: [{ name: "a" }, { name: "a" }] } } } },
      code: "ApplyFailed",
      httpCode: 500,
      message: 'failed to create typed patch object (/web; apps/v1, Kind=Deployment): .spec.template.spec.containers: duplicate entries for key [name="a"]',
    },
  ];
  for (const c of bad) {
    void it(`rejects ${c.name}`, () => {
      assert.throws(
        () => apply(undefined, c.body, opts("kubectl", "2024-05-01T10:00:00Z")),
        (e: unknown) => isPatchError(e) && e.code === c.code && e.httpCode === c.httpCode && e.message === c.message,
      );
    });
  }

  void it("does not modify its inputs", () => {
    const live = stored(apply(undefined, config(2, "nginx:1.25"), opts("kubectl", "2024-05-01T10:00:00Z")).object);
    const body = config(3, "nginx:1.26");
    const before = JSON.stringify([live, body]);
    apply(live, body, opts("kubectl", "2024-05-01T10:01:00Z"));
    assert.equal(JSON.stringify([live, body]), before);
  });
});

void describe("sortedGoJSON", () => {
  void it("sorts keys and escapes like Go", () => {
    assert.equal(sortedGoJSON({ b: 1, a: { d: "<x>", c: [true, null] } }), '{"a":{"c":[true,null],"d":"\\u003cx\\u003e"},"b":1}');
  });
});
