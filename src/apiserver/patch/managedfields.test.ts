import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  decodeManagedFields,
  encodeManagedFields,
  formatTime,
  managerIdentifier,
  managerOrUserAgent,
  trackUpdate,
  updateManagedFields,
  validateFieldManager,
  type ManagedFieldsEntry,
  type ManagerState,
  type TrackOptions,
} from "./managedfields.js";
import { FieldSet, path } from "./fieldpath.js";
import { isPatchError } from "./errors.js";
import { schemaFromOpenAPI } from "./schema.js";
import type { JsonObject } from "./json.js";
import { defs, openapi } from "./testdata.js";

const deploymentSchema = schemaFromOpenAPI(openapi, defs.deployment);
const opts = (manager: string, now: string, extra: Partial<TrackOptions> = {}): TrackOptions => ({
  manager,
  apiVersion: "apps/v1",
  schema: deploymentSchema,
  now,
  resetFields: [path("status")],
  ...extra,
});

/** A Deployment as `kubectl create deployment nginx --image=nginx` leaves it after defaulting. */
function createdDeployment(): JsonObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "nginx", namespace: "default", labels: { app: "nginx" } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: "nginx" } },
      template: {
        metadata: { labels: { app: "nginx" } },
        spec: {
          containers: [{ name: "nginx", image: "nginx", resources: {}, terminationMessagePath: "/dev/termination-log", terminationMessagePolicy: "File", imagePullPolicy: "Always" }],
          restartPolicy: "Always",
          terminationGracePeriodSeconds: 30,
          dnsPolicy: "ClusterFirst",
          securityContext: {},
          schedulerName: "default-scheduler",
        },
      },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
    status: {},
  };
}

const entries = (o: JsonObject): ManagedFieldsEntry[] => ((o["metadata"] as JsonObject)["managedFields"] ?? []) as unknown as ManagedFieldsEntry[];
const stored = (o: JsonObject, uid = "uid-1"): JsonObject => {
  const c = structuredClone(o);
  (c["metadata"] as JsonObject)["uid"] = uid;
  return c;
};

void describe("updateManagedFields", () => {
  void it("records a create as upstream does (kubectl create deployment)", () => {
    const out = updateManagedFields(undefined, createdDeployment(), opts("kubectl-create", "2024-05-01T10:00:00.123Z"));
    assert.deepStrictEqual(entries(out), [
      {
        manager: "kubectl-create",
        operation: "Update",
        apiVersion: "apps/v1",
        time: "2024-05-01T10:00:00Z",
        fieldsType: "FieldsV1",
        fieldsV1: {
          "f:metadata": { "f:labels": { ".": {}, "f:app": {} } },
          "f:spec": {
            "f:progressDeadlineSeconds": {},
            "f:replicas": {},
            "f:revisionHistoryLimit": {},
            "f:selector": {},
            "f:strategy": { "f:rollingUpdate": { ".": {}, "f:maxSurge": {}, "f:maxUnavailable": {} }, "f:type": {} },
            "f:template": {
              "f:metadata": { "f:labels": { ".": {}, "f:app": {} } },
              "f:spec": {
                "f:containers": {
                  'k:{"name":"nginx"}': {
                    ".": {},
                    "f:image": {},
                    "f:imagePullPolicy": {},
                    "f:name": {},
                    "f:resources": {},
                    "f:terminationMessagePath": {},
                    "f:terminationMessagePolicy": {},
                  },
                },
                "f:dnsPolicy": {},
                "f:restartPolicy": {},
                "f:schedulerName": {},
                "f:securityContext": {},
                "f:terminationGracePeriodSeconds": {},
              },
            },
          },
        },
      },
    ]);
    // The input is untouched.
    assert.equal((createdDeployment()["metadata"] as JsonObject)["managedFields"], undefined);
  });

  void it("gives changed fields to the new manager and takes them from the old (kubectl edit)", () => {
    const live = stored(updateManagedFields(undefined, createdDeployment(), opts("kubectl-create", "2024-05-01T10:00:00Z")));
    const edited = structuredClone(live);
    const c = ((((edited["spec"] as JsonObject)["template"] as JsonObject)["spec"] as JsonObject)["containers"] as JsonObject[])[0] as JsonObject;
    c["image"] = "nginx:1.25";
    (edited["spec"] as JsonObject)["replicas"] = 3;
    const out = updateManagedFields(live, edited, opts("kubectl-edit", "2024-05-01T11:00:00Z"));
    const es = entries(out);
    assert.deepStrictEqual(
      es.map((e) => [e.manager, e.operation, e.time]),
      [
        ["kubectl-create", "Update", "2024-05-01T10:00:00Z"],
        ["kubectl-edit", "Update", "2024-05-01T11:00:00Z"],
      ],
    );
    assert.deepStrictEqual(es[1]?.fieldsV1, {
      "f:spec": { "f:replicas": {}, "f:template": { "f:spec": { "f:containers": { 'k:{"name":"nginx"}': { "f:image": {} } } } } },
    });
    const create = FieldSet.fromFieldsV1(es[0]?.fieldsV1);
    assert.ok(!create.has(path("spec", "replicas")));
    assert.ok(create.has(path("spec", "revisionHistoryLimit")));
  });

  void it("joins a manager's later writes into its entry and moves its time only when it took fields", () => {
    const live = stored(updateManagedFields(undefined, createdDeployment(), opts("kubectl-create", "2024-05-01T10:00:00Z")));
    const a = structuredClone(live);
    (a["spec"] as JsonObject)["replicas"] = 2;
    const afterA = stored(updateManagedFields(live, a, opts("kubectl-scale", "2024-05-01T10:05:00Z")));
    const b = structuredClone(afterA);
    (b["spec"] as JsonObject)["paused"] = true;
    const afterB = updateManagedFields(afterA, b, opts("kubectl-scale", "2024-05-01T10:06:00Z"));
    const scale = entries(afterB).find((e) => e.manager === "kubectl-scale");
    assert.equal(scale?.time, "2024-05-01T10:06:00Z");
    assert.deepStrictEqual(scale?.fieldsV1, { "f:spec": { "f:paused": {}, "f:replicas": {} } });
    // A write that changes nothing keeps the entry as it was.
    const same = updateManagedFields(stored(afterB), structuredClone(stored(afterB)), opts("kubectl-scale", "2024-05-01T12:00:00Z"));
    assert.equal(entries(same).find((e) => e.manager === "kubectl-scale")?.time, "2024-05-01T10:06:00Z");
  });

  void it("does not start tracking an existing object that has no managedFields", () => {
    const live = stored(createdDeployment());
    const next = structuredClone(live);
    (next["spec"] as JsonObject)["replicas"] = 5;
    assert.deepStrictEqual(entries(updateManagedFields(live, next, opts("kubectl-edit", "2024-05-01T10:00:00Z"))), []);
  });

  void it("resets managedFields when the request sends [] and keeps the live ones when it sends none", () => {
    const live = stored(updateManagedFields(undefined, createdDeployment(), opts("kubectl-create", "2024-05-01T10:00:00Z")));
    const reset = structuredClone(live);
    (reset["metadata"] as JsonObject)["managedFields"] = [];
    assert.deepStrictEqual(entries(updateManagedFields(live, reset, opts("x", "2024-05-01T11:00:00Z"))), []);
    const none = structuredClone(live);
    delete (none["metadata"] as JsonObject)["managedFields"];
    (none["spec"] as JsonObject)["minReadySeconds"] = 5;
    const out = updateManagedFields(live, none, opts("x", "2024-05-01T11:00:00Z"));
    assert.deepStrictEqual(
      entries(out).map((e) => e.manager),
      ["kubectl-create", "x"],
    );
  });

  void it("records status writes with their subresource and ignores managedFields the request sends", () => {
    const live = stored(updateManagedFields(undefined, createdDeployment(), opts("kubectl-create", "2024-05-01T10:00:00Z")));
    const next = structuredClone(live);
    next["status"] = { replicas: 1, readyReplicas: 1 };
    (next["metadata"] as JsonObject)["managedFields"] = [];
    const out = updateManagedFields(live, next, opts("kube-controller-manager", "2024-05-01T10:00:05Z", { subresource: "status", resetFields: [path("spec"), path("metadata", "labels")] }));
    const es = entries(out);
    assert.equal(es.length, 2);
    assert.deepStrictEqual(es[1], {
      manager: "kube-controller-manager",
      operation: "Update",
      apiVersion: "apps/v1",
      time: "2024-05-01T10:00:05Z",
      fieldsType: "FieldsV1",
      fieldsV1: { "f:status": { "f:readyReplicas": {}, "f:replicas": {} } },
      subresource: "status",
    });
  });

  void it("does not record reset fields (status on the main resource)", () => {
    const obj = createdDeployment();
    obj["status"] = { replicas: 3 };
    const out = updateManagedFields(undefined, obj, opts("kubectl-create", "2024-05-01T10:00:00Z"));
    assert.ok(!FieldSet.fromFieldsV1(entries(out)[0]?.fieldsV1).has(path("status", "replicas")));
  });

  void it("folds the oldest update managers into ancient-changes beyond ten", () => {
    let live = stored(updateManagedFields(undefined, createdDeployment(), opts("m00", "2024-05-01T10:00:00Z")));
    for (let i = 1; i <= 11; i++) {
      const next = structuredClone(live);
      ((next["metadata"] as JsonObject)["labels"] as JsonObject)[`l${i}`] = "x";
      live = stored(updateManagedFields(live, next, opts(`m${String(i).padStart(2, "0")}`, `2024-05-01T10:${String(i).padStart(2, "0")}:00Z`)));
    }
    const es = entries(live);
    assert.equal(es.length, 10);
    const ancient = es.find((e) => e.manager === "ancient-changes");
    assert.ok(ancient !== undefined);
    assert.equal(ancient.time, "2024-05-01T10:02:00Z");
    const set = FieldSet.fromFieldsV1(ancient.fieldsV1);
    for (const l of ["l1", "l2"]) assert.ok(set.has(path("metadata", "labels", l)), l);
    assert.ok(set.has(path("spec", "replicas")));
    assert.deepStrictEqual(
      es.filter((e) => e.manager !== "ancient-changes").map((e) => e.manager),
      ["m03", "m04", "m05", "m06", "m07", "m08", "m09", "m10", "m11"],
    );
  });

  void it("keeps the live entries when the object cannot be walked", () => {
    const live = stored(updateManagedFields(undefined, createdDeployment(), opts("kubectl-create", "2024-05-01T10:00:00Z")));
    const bad = structuredClone(live);
    ((((bad["spec"] as JsonObject)["template"] as JsonObject)["spec"] as JsonObject)["containers"] as unknown[]).push(null);
    assert.deepStrictEqual(entries(updateManagedFields(live, bad, opts("x", "2024-05-01T11:00:00Z"))), entries(live));
  });
});

void describe("managed fields encoding", () => {
  void it("sorts entries by operation, time, manager, apiVersion, subresource", () => {
    const raw: ManagedFieldsEntry[] = [
      { manager: "b", operation: "Update", apiVersion: "v1", time: "2024-01-01T00:00:02Z", fieldsType: "FieldsV1", fieldsV1: { "f:a": {} } },
      { manager: "a", operation: "Update", apiVersion: "v1", time: "2024-01-01T00:00:02Z", fieldsType: "FieldsV1", fieldsV1: { "f:b": {} } },
      { manager: "z", operation: "Apply", apiVersion: "v1", time: "2024-01-01T00:00:09Z", fieldsType: "FieldsV1", fieldsV1: { "f:c": {} } },
      { manager: "c", operation: "Update", apiVersion: "v1", time: "2024-01-01T00:00:01Z", fieldsType: "FieldsV1", fieldsV1: { "f:d": {} }, subresource: "status" },
    ];
    assert.deepStrictEqual(
      encodeManagedFields(decodeManagedFields(raw)).map((e) => e.manager),
      ["z", "c", "a", "b"],
    );
  });

  void it("identifies appliers without their apiVersion", () => {
    assert.equal(managerIdentifier({ manager: "kubectl", applied: true, apiVersion: "apps/v1", subresource: "" }), '{"manager":"kubectl","operation":"Apply"}');
    assert.equal(
      managerIdentifier({ manager: "kcm", applied: false, apiVersion: "apps/v1", subresource: "status" }),
      '{"manager":"kcm","operation":"Update","apiVersion":"apps/v1","subresource":"status"}',
    );
  });

  const bad: [unknown, string][] = [
    [[{ manager: "a", operation: "Patch", apiVersion: "v1", fieldsType: "FieldsV1" }], "operation must be `Apply` or `Update`"],
    [[{ manager: "a", operation: "Update", fieldsType: "FieldsV1" }], "apiVersion must not be empty"],
    [[{ manager: "a", operation: "Update", apiVersion: "v1" }], "missing fieldsType in managed fields entry 0"],
    [[{ manager: "a", operation: "Update", apiVersion: "v1", fieldsType: "FieldsV2" }], 'invalid fieldsType "FieldsV2" in managed fields entry 0'],
    [[{ manager: "a", operation: "Update", apiVersion: "v1", fieldsType: "FieldsV1", fieldsV1: { "f:a": 3 } }], "error decoding set"],
  ];
  for (const [raw, message] of bad) {
    void it(`rejects entries: ${message}`, () => {
      assert.throws(
        () => decodeManagedFields(raw),
        (e: unknown) => isPatchError(e, "ApplyFailed") && e.message.includes(message),
      );
    });
  }
});

void describe("managerOrUserAgent", () => {
  const cases: [string | undefined, string | undefined, string][] = [
    ["kubectl-edit", "kubectl/v1.32.0 (linux/amd64) kubernetes/70d3cc9", "kubectl-edit"],
    [undefined, "kubectl/v1.32.0 (linux/amd64) kubernetes/70d3cc9", "kubectl"],
    ["", "kube-controller-manager/v1.32.0 (linux/amd64) kubernetes/70d3cc9/system:serviceaccount:kube-system:deployment-controller", "kube-controller-manager"],
    [undefined, "node-fetch", "node-fetch"],
    [undefined, "bad\u0000agent\u0007/1", "badagent"],
    [undefined, undefined, ""],
    [undefined, "é".repeat(100), "é".repeat(64)],
  ];
  for (const [fm, ua, want] of cases) void it(`${String(fm)} / ${String(ua).slice(0, 30)} → ${want.slice(0, 20)}`, () => assert.equal(managerOrUserAgent(fm, ua), want));

  void it("validates fieldManager like upstream", () => {
    assert.deepStrictEqual(validateFieldManager("kubectl"), []);
    assert.equal(validateFieldManager("x".repeat(129)).length, 1);
    assert.match(validateFieldManager("a\tb")[0] ?? "", /invalid character U\+0009 \(at position 1\)/);
  });
});

void describe("managed fields tracking shortcuts", () => {
  const generated = (name: string): JsonObject => {
    const d = createdDeployment();
    const meta = d["metadata"] as JsonObject;
    meta["generateName"] = "nginx-";
    meta["name"] = name;
    return d;
  };
  /** What tracking records without any shortcut: the update step from nothing. */
  const uncached = (obj: JsonObject, o: TrackOptions): ManagedFieldsEntry[] => {
    const managed = new Map<string, ManagerState>();
    trackUpdate(managed, {}, structuredClone(obj), o.manager, o);
    return encodeManagedFields(managed);
  };

  void it("records creates of alike objects under generated names as one shared FieldsV1, the same as without sharing", () => {
    const a = entries(updateManagedFields(undefined, generated("nginx-abcde"), opts("kube-controller-manager", "2024-05-01T10:00:00Z")));
    const b = entries(updateManagedFields(undefined, generated("nginx-fghij"), opts("kube-controller-manager", "2024-05-01T10:00:01Z")));
    assert.equal(b[0]?.fieldsV1, a[0]?.fieldsV1);
    assert.equal(b[0]?.time, "2024-05-01T10:00:01Z");
    assert.deepStrictEqual(b, uncached(generated("nginx-fghij"), opts("kube-controller-manager", "2024-05-01T10:00:01Z")));
    assert.ok(FieldSet.fromFieldsV1(b[0]?.fieldsV1).has(path("metadata", "generateName")));
    // Another manager's create of the same object is that manager's entry.
    const c = entries(updateManagedFields(undefined, generated("nginx-klmno"), opts("other", "2024-05-01T10:00:02Z")));
    assert.deepStrictEqual(c.map((e) => [e.manager, e.time]), [["other", "2024-05-01T10:00:02Z"]]);
  });

  void it("tells creates apart by everything but the name: content, reset fields, schema", () => {
    const base = entries(updateManagedFields(undefined, generated("nginx-1"), opts("m", "2024-05-01T10:00:00Z")));
    const labelled = generated("nginx-2");
    ((labelled["metadata"] as JsonObject)["labels"] as JsonObject)["tier"] = "web";
    const withLabel = entries(updateManagedFields(undefined, labelled, opts("m", "2024-05-01T10:00:00Z")));
    assert.ok(FieldSet.fromFieldsV1(withLabel[0]?.fieldsV1).has(path("metadata", "labels", "tier")));
    assert.ok(!FieldSet.fromFieldsV1(base[0]?.fieldsV1).has(path("metadata", "labels", "tier")));

    const withStatus = (name: string): JsonObject => ({ ...generated(name), status: { replicas: 1 } });
    const reset = entries(updateManagedFields(undefined, withStatus("nginx-3"), opts("m", "2024-05-01T10:00:00Z")));
    const noReset = entries(updateManagedFields(undefined, withStatus("nginx-3"), opts("m", "2024-05-01T10:00:00Z", { resetFields: [] })));
    assert.ok(FieldSet.fromFieldsV1(noReset[0]?.fieldsV1).has(path("status", "replicas")));
    assert.ok(!FieldSet.fromFieldsV1(reset[0]?.fieldsV1).has(path("status", "replicas")));

    // Without a schema the containers list is atomic: owned whole, not item by item.
    const untyped = entries(updateManagedFields(undefined, generated("nginx-4"), opts("m", "2024-05-01T10:00:00Z", { schema: undefined })));
    const containers = path("spec", "template", "spec", "containers");
    assert.ok(FieldSet.fromFieldsV1(untyped[0]?.fieldsV1).has(containers));
    assert.ok(!FieldSet.fromFieldsV1(base[0]?.fieldsV1).has(containers));
    assert.deepStrictEqual(untyped, uncached(generated("nginx-4"), opts("m", "2024-05-01T10:00:00Z", { schema: undefined })));
  });

  void it("never owns a key whose value is undefined, as the stored JSON does not have it", () => {
    for (const name of ["nginx-u1", "nginx-u2"]) {
      const obj = generated(name);
      (obj["spec"] as JsonObject)["paused"] = undefined as unknown as JsonObject;
      const es = entries(updateManagedFields(undefined, obj, opts("m", "2024-05-01T10:00:00Z")));
      assert.ok(!FieldSet.fromFieldsV1(es[0]?.fieldsV1).has(path("spec", "paused")), name);
      assert.ok(FieldSet.fromFieldsV1(es[0]?.fieldsV1).has(path("spec", "replicas")), name);
    }
    const named = createdDeployment();
    (named["spec"] as JsonObject)["paused"] = undefined as unknown as JsonObject;
    assert.ok(!FieldSet.fromFieldsV1(entries(updateManagedFields(undefined, named, opts("m", "2024-05-01T10:00:00Z")))[0]?.fieldsV1).has(path("spec", "paused")));
  });

  void it("owns a field sent as null whose type has no zero value (a template's creationTimestamp), as before", () => {
    for (const obj of [createdDeployment(), generated("nginx-n1"), generated("nginx-n2")]) {
      ((((obj["spec"] as JsonObject)["template"] as JsonObject)["metadata"] as JsonObject)["creationTimestamp"] = null);
      const es = entries(updateManagedFields(undefined, obj, opts("m", "2024-05-01T10:00:00Z")));
      assert.ok(FieldSet.fromFieldsV1(es[0]?.fieldsV1).has(path("spec", "template", "metadata", "creationTimestamp")));
    }
  });

  void it("records nothing for a generated-name create that cannot be walked, every time", () => {
    for (const name of ["nginx-b1", "nginx-b2"]) {
      const bad = generated(name);
      ((((bad["spec"] as JsonObject)["template"] as JsonObject)["spec"] as JsonObject)["containers"] as unknown[]).push(null);
      assert.deepStrictEqual(entries(updateManagedFields(undefined, bad, opts("m", "2024-05-01T10:00:00Z"))), []);
    }
  });

  void it("keeps untouched managers' entries as they were, takes changed fields from the others, and drops empty ones", () => {
    const live = stored(updateManagedFields(undefined, createdDeployment(), opts("kubectl-create", "2024-05-01T10:00:00Z")));
    const a = structuredClone(live);
    ((a["metadata"] as JsonObject)["labels"] as JsonObject)["team"] = "x";
    const afterA = updateManagedFields(live, a, opts("labeller", "2024-05-01T10:01:00Z"));
    (afterA["metadata"] as JsonObject)["uid"] = "uid-1";
    const ghost: ManagedFieldsEntry = { manager: "ghost", operation: "Update", apiVersion: "apps/v1", time: "2024-05-01T10:00:30Z", fieldsType: "FieldsV1", fieldsV1: {} };
    (afterA["metadata"] as JsonObject)["managedFields"] = [...entries(afterA), ghost] as unknown as JsonObject[];
    const labeller = entries(afterA).find((e) => e.manager === "labeller");
    const b = { ...afterA, spec: { ...(afterA["spec"] as JsonObject), replicas: 4 } };
    const out = entries(updateManagedFields(afterA, b, opts("scaler", "2024-05-01T10:02:00Z")));
    assert.deepStrictEqual(out.map((e) => e.manager), ["kubectl-create", "labeller", "scaler"]);
    // The labeller owns nothing that changed: its entry is the one it had.
    assert.equal(out.find((e) => e.manager === "labeller")?.fieldsV1, labeller?.fieldsV1);
    assert.equal(out.find((e) => e.manager === "labeller")?.time, "2024-05-01T10:01:00Z");
    const creator = FieldSet.fromFieldsV1(out.find((e) => e.manager === "kubectl-create")?.fieldsV1);
    assert.ok(!creator.has(path("spec", "replicas")));
    assert.ok(creator.has(path("spec", "revisionHistoryLimit")));
  });

  void it("stamps each second's writes with that second", () => {
    assert.equal(formatTime(new Date("2024-05-01T10:00:00.900Z")), "2024-05-01T10:00:00Z");
    assert.equal(formatTime(new Date("2024-05-01T10:00:00.100Z")), "2024-05-01T10:00:00Z");
    assert.equal(formatTime(new Date("2024-05-01T10:00:01.000Z")), "2024-05-01T10:00:01Z");
    assert.equal(formatTime("2024-05-01T10:00:00Z"), "2024-05-01T10:00:00Z");
    assert.equal(formatTime(new Date("1969-12-31T23:59:59.500Z")), "1969-12-31T23:59:59Z");
    for (let i = 0; i < 2; i++) assert.throws(() => formatTime(new Date(Number.NaN)), RangeError);
  });
});

void describe("managed fields kept between writes", () => {
  void it("keeps the FieldsV1 object of a manager that rewrites only fields it owns, and encodes anew one that gains a field", () => {
    const live = stored(updateManagedFields(undefined, createdDeployment(), opts("kubectl-create", "2024-05-01T10:00:00Z")));
    const scaled = structuredClone(live);
    (scaled["spec"] as JsonObject)["replicas"] = 2;
    const afterScale = updateManagedFields(live, scaled, opts("scaler", "2024-05-01T10:01:00Z"));
    (afterScale["metadata"] as JsonObject)["uid"] = "uid-1";
    const first = entries(afterScale).find((e) => e.manager === "scaler");
    const again = { ...afterScale, spec: { ...(afterScale["spec"] as JsonObject), replicas: 3 } };
    const afterAgain = updateManagedFields(afterScale, again, opts("scaler", "2024-05-01T10:02:00Z"));
    const second = entries(afterAgain).find((e) => e.manager === "scaler");
    assert.equal(second?.fieldsV1, first?.fieldsV1);
    assert.equal(second?.time, "2024-05-01T10:02:00Z");
    assert.deepStrictEqual(second?.fieldsV1, { "f:spec": { "f:replicas": {} } });
    (afterAgain["metadata"] as JsonObject)["uid"] = "uid-1";
    const more = { ...afterAgain, spec: { ...(afterAgain["spec"] as JsonObject), replicas: 4, paused: true } };
    const third = entries(updateManagedFields(afterAgain, more, opts("scaler", "2024-05-01T10:03:00Z"))).find((e) => e.manager === "scaler");
    assert.notEqual(third?.fieldsV1, first?.fieldsV1);
    assert.deepStrictEqual(third?.fieldsV1, { "f:spec": { "f:paused": {}, "f:replicas": {} } });
    assert.deepStrictEqual(first?.fieldsV1, { "f:spec": { "f:replicas": {} } });
  });

  void it("compares sets by their paths", () => {
    const a = FieldSet.of(path("spec", "replicas"), path("spec", "paused"));
    assert.equal(a.sameAs(FieldSet.of(path("spec", "paused"), path("spec", "replicas"))), true);
    assert.equal(a.sameAs(FieldSet.of(path("spec", "paused"))), false);
    assert.equal(FieldSet.of(path("spec", "paused")).sameAs(a), false);
    assert.equal(a.sameAs(FieldSet.of(path("spec"), path("spec", "paused"), path("spec", "replicas"))), false);
  });
});
