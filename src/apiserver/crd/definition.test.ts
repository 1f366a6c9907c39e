/* eslint-disable @typescript-eslint/no-explicit-any -- the fixtures are loose JSON, edited in place case by case */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { KubeObject } from "../registry/types.js";
import { customResourceDefinitions, defaultCRD, prepareCRDForDeletion, validateCRD, validateCRDUpdate, CLEANUP_FINALIZER } from "./definition.js";
import { customResourceDefinitionsOf, sortVersions } from "./customresource.js";
import { evaluate, parseJSONPath } from "./jsonpath.js";
import type { CustomResourceDefinition } from "kubernetes-types/apiextensions/v1.js";

function crd(mut: (c: Record<string, any>) => void = () => undefined): KubeObject {
  const c: Record<string, any> = {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: "crontabs.stable.example.com" },
    spec: {
      group: "stable.example.com",
      scope: "Namespaced",
      names: { plural: "crontabs", kind: "CronTab", shortNames: ["ct"] },
      versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", properties: { spec: { type: "object", properties: { replicas: { type: "integer" } } } } } } }],
    },
  };
  mut(c);
  defaultCRD(c as KubeObject);
  return c as KubeObject;
}

const messages = (obj: KubeObject): string[] => validateCRD(obj).map(String);

void test("a valid CRD, defaulted as upstream's v1 defaults do", () => {
  const c = crd();
  assert.deepEqual(messages(c), []);
  const spec = c["spec"] as Record<string, any>;
  assert.deepEqual(spec["conversion"], { strategy: "None" });
  assert.equal(spec["names"].singular, "crontab");
  assert.equal(spec["names"].listKind, "CronTabList");
});

void test("upstream's messages for names, group, scope and versions", () => {
  assert.deepEqual(messages(crd((c) => (c["metadata"].name = "cron.stable.example.com"))), ['metadata.name: Invalid value: "cron.stable.example.com": must be spec.names.plural+"."+spec.group']);
  assert.deepEqual(
    messages(
      crd((c) => {
        c["spec"].group = "example";
        c["metadata"].name = "crontabs.example";
      }),
    ),
    ['spec.group: Invalid value: "example": should be a domain with at least one dot'],
  );
  assert.deepEqual(messages(crd((c) => (c["spec"].scope = "Global"))), ['spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"']);
  assert.match(messages(crd((c) => (c["spec"].versions[0].storage = false)))[0]!, /^spec\.versions: Invalid value: .*: must have exactly one version marked as storage version$/);
  assert.deepEqual(messages(crd((c) => delete c["spec"].versions[0].schema)), ["spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required"]);
  assert.deepEqual(messages(crd((c) => (c["spec"].versions[0].name = "V1"))).length, 1);
  assert.match(messages(crd((c) => (c["spec"].versions[0].name = "V1")))[0]!, /^spec\.versions\[0\]\.name: Invalid value: "V1": a DNS-1035 label must consist of lower case alphanumeric characters/);
  assert.deepEqual(messages(crd((c) => (c["spec"].names.listKind = "CronTab"))), ['spec.names.listKind: Invalid value: "CronTab": kind and listKind may not be the same']);
  assert.match(messages(crd((c) => (c["spec"].names.shortNames = ["C T"])))[0]!, /^spec\.names\.shortNames\[0\]: Invalid value: "C T": a DNS-1035 label/);
  const twice = crd((c) => c["spec"].versions.push({ ...c["spec"].versions[0] }));
  assert.ok(messages(twice).some((m) => m.endsWith("must contain unique version names")));
  assert.ok(messages(twice).some((m) => m.endsWith("must have exactly one version marked as storage version")));
});

void test("conversion webhooks are refused with a clear message", () => {
  const c = crd((x) => (x["spec"].conversion = { strategy: "Webhook", webhook: { conversionReviewVersions: ["v1"], clientConfig: { url: "https://example.com/convert" } } }));
  assert.deepEqual(messages(c), ["spec.conversion.strategy: Forbidden: k8ts does not call conversion webhooks: only strategy None is supported (every served version must share one schema shape)"]);
});

void test("scope and kind are immutable once established, group and plural always", () => {
  const old = crd();
  (old as Record<string, any>)["status"] = { conditions: [{ type: "Established", status: "True" }], storedVersions: ["v1"] };
  old.metadata = { ...old.metadata, resourceVersion: "1", uid: "u" };
  const next = structuredClone(old) as Record<string, any>;
  next["spec"].scope = "Cluster";
  next["spec"].names.kind = "Cron";
  next["spec"].names.listKind = "CronList";
  assert.deepEqual(validateCRDUpdate(next as KubeObject, old).map(String), ['spec.scope: Invalid value: "Cluster": field is immutable', 'spec.names.kind: Invalid value: "Cron": field is immutable']);
  const stored = structuredClone(old) as Record<string, any>;
  stored["status"].storedVersions = ["v1", "v0"];
  assert.deepEqual(validateCRDUpdate(stored as KubeObject, old).map(String), ['status.storedVersions[1]: Invalid value: "v0": must appear in spec.versions']);
});

void test("create resets status and records the storage version; deletion adds the cleanup finalizer", () => {
  const c = crd();
  (c as Record<string, any>)["status"] = { acceptedNames: { plural: "x", kind: "X" } };
  customResourceDefinitions.strategy.prepareForCreate?.(c, { namespace: "", now: new Date(), user: { username: "a", groups: [] } });
  assert.deepEqual((c as Record<string, any>)["status"], { acceptedNames: { kind: "", plural: "" }, conditions: [], storedVersions: ["v1"] });
  assert.equal(customResourceDefinitions.strategy.deletionBlocked?.(c), true);
  prepareCRDForDeletion(c);
  assert.deepEqual(c.metadata?.finalizers, [CLEANUP_FINALIZER]);
  const terminating = ((c as Record<string, any>)["status"].conditions as { type: string; reason: string }[]).find((x) => x.type === "Terminating");
  assert.equal(terminating?.reason, "InstanceDeletionPending");
});

void test("served versions in upstream's priority order, each with the CRD's names and printer columns", () => {
  assert.deepEqual(sortVersions(["v1alpha1", "v2", "foo", "v1beta2", "v1", "v10beta1", "v1beta1"]), ["v2", "v1", "v10beta1", "v1beta2", "v1beta1", "v1alpha1", "foo"]);
  const c = crd((x) => {
    x["spec"].versions.push({ name: "v1beta1", served: true, storage: false, schema: x["spec"].versions[0].schema, additionalPrinterColumns: [{ name: "Replicas", type: "integer", jsonPath: ".spec.replicas" }] });
    x["spec"].versions.push({ name: "v1alpha1", served: false, storage: false, schema: x["spec"].versions[0].schema });
    x["status"] = { acceptedNames: x["spec"].names };
  }) as unknown as CustomResourceDefinition;
  const defs = customResourceDefinitionsOf(c);
  assert.deepEqual(defs.map((d) => d.version), ["v1", "v1beta1"]);
  assert.equal(defs[0]!.definition, "com.example.stable.v1.CronTab");
  assert.deepEqual(defs[0]!.shortNames, ["ct"]);
  // Stored once, in the storage version; read back in the version asked for.
  assert.deepEqual(defs[1]!.storage?.conversion.toStorage({ apiVersion: "stable.example.com/v1beta1", kind: "CronTab" }), { apiVersion: "stable.example.com/v1", kind: "CronTab" });
  assert.deepEqual(defs[1]!.storage?.conversion.fromStorage({ apiVersion: "stable.example.com/v1", kind: "CronTab" }), { apiVersion: "stable.example.com/v1beta1", kind: "CronTab" });
  const now = new Date("2024-01-01T01:00:00Z");
  const obj = { metadata: { name: "a", creationTimestamp: "2024-01-01T00:00:00Z" }, spec: { replicas: 3 } };
  assert.deepEqual(defs[0]!.table?.columns.map((col) => [col.name, col.type]), [["Name", "string"], ["Age", "date"]]);
  assert.deepEqual(defs[0]!.table?.row(obj, now), ["a", "60m"]);
  assert.deepEqual(defs[1]!.table?.row(obj, now), ["a", 3]);
  assert.deepEqual(defs[1]!.table?.row({ metadata: { name: "b" } }, now), ["b", null]);
});

void test("printer column JSONPaths", () => {
  const obj = { status: { conditions: [{ type: "Ready", status: "True" }, { type: "Synced", status: "False" }] }, spec: { list: [1, 2], "a.b": "dotted" } };
  const at = (p: string): unknown[] => evaluate(parseJSONPath(p), obj);
  assert.deepEqual(at('.status.conditions[?(@.type=="Synced")].status'), ["False"]);
  assert.deepEqual(at(".status.conditions[0].type"), ["Ready"]);
  assert.deepEqual(at(".spec.list[*]"), [1, 2]);
  assert.deepEqual(at(".spec['a.b']"), ["dotted"]);
  assert.deepEqual(at(".spec.missing"), []);
  assert.ok(parseJSONPath(".spec..x").error);
  assert.ok(parseJSONPath("spec").error);
});
