import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ControllerRevision } from "kubernetes-types/apps/v1.js";
import { deepFreeze } from "../../client/objects.js";
import { CONTROLLER_REVISION_HASH_LABEL, byRevision, canonicalJson, equalData, findEqualRevisions, hashOf, maxRevision, newControllerRevision, revisionName, sortedCopy } from "./history.js";

const template = { metadata: { labels: { app: "agent" } }, spec: { containers: [{ name: "c", image: "agent:1" }] } };
const owner = { apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: "agent", namespace: "ns", uid: "ds-uid" } };

function rev(name: string, revision: number, data: unknown = {}, created = "2024-01-01T00:00:00Z"): ControllerRevision {
  return { metadata: { name, namespace: "ns", creationTimestamp: created }, revision, data: data as ControllerRevision["data"] };
}

void describe("hashOf", () => {
  void it("is stable, lowercase alphanumeric, blind to key order and empty members, and changes with the value", () => {
    const h = hashOf(template);
    assert.match(h, /^[a-z0-9]+$/);
    assert.equal(hashOf(structuredClone(template)), h);
    assert.equal(hashOf({ spec: template.spec, metadata: { ...template.metadata, creationTimestamp: null } }), h);
    assert.notEqual(hashOf({ ...template, spec: { containers: [{ name: "c", image: "agent:2" }] } }), h);
  });

  void it("changes with the collision count, so a name collision can be escaped", () => {
    const h = hashOf(template);
    assert.notEqual(hashOf(template, 0), h);
    assert.notEqual(hashOf(template, 1), hashOf(template, 0));
    assert.equal(hashOf(template, 1), hashOf(template, 1));
  });
});

void describe("newControllerRevision", () => {
  void it("names the revision <owner>-<hash>, labels it with the hash and the template labels, and points its controllerRef at the owner", () => {
    const r = newControllerRevision({ owner, templateLabels: { app: "agent" }, data: { spec: { template } }, revision: 3, hash: "abc12", annotations: { note: "x" } });
    assert.deepEqual(r.metadata, {
      name: "agent-abc12",
      namespace: "ns",
      labels: { app: "agent", [CONTROLLER_REVISION_HASH_LABEL]: "abc12" },
      annotations: { note: "x" },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "DaemonSet", name: "agent", uid: "ds-uid", controller: true, blockOwnerDeletion: true }],
    });
    assert.equal(r.revision, 3);
    assert.deepEqual(r.data, { spec: { template } });
  });

  void it("cuts a long owner name so the revision name stays valid", () => {
    assert.equal(revisionName("x".repeat(300), "h").length, 225);
  });
});

void describe("revision ordering and equality", () => {
  void it("sorts by revision, then creation, then name; the maximum of none is 0", () => {
    const revs = [rev("c", 2), rev("b", 1, {}, "2024-01-02T00:00:00Z"), rev("a", 1, {}, "2024-01-02T00:00:00Z"), rev("z", 1)].map((r) => deepFreeze(r));
    assert.deepEqual(
      [...revs].sort(byRevision).map((r) => r.metadata?.name),
      ["z", "a", "b", "c"],
    );
    assert.equal(maxRevision(revs), 2);
    assert.equal(maxRevision([]), 0);
  });

  void it("compares data by content", () => {
    const a = deepFreeze(rev("a", 1, { spec: { template: { b: 1, a: [1, 2] } } }));
    const b = deepFreeze(rev("b", 2, { spec: { template: { a: [1, 2], b: 1, c: null } } }));
    assert.ok(equalData(a.data, b.data));
    assert.ok(!equalData(a.data, { spec: { template: { a: [2, 1], b: 1 } } }));
    assert.deepEqual(
      findEqualRevisions([a, b], { spec: { template: { a: [1, 2], b: 1 } } }).map((r) => r.metadata?.name),
      ["a", "b"],
    );
    assert.equal(JSON.stringify(sortedCopy({ b: 1, a: { d: 1, c: 2 } })), '{"a":{"c":2,"d":1},"b":1}');
    assert.equal(canonicalJson({ b: [], a: 1 }), '{"a":1}');
  });
});
