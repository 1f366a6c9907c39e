import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.js";
import { isConflict, isForbidden, isNotFound } from "../../client/errors.js";
import { FakeApi, forbiddenError } from "./fake.js";
import { seedIndexer } from "./listers.js";
import type { Api } from "../api.js";
import type { RestClient } from "../../client/rest.js";
import { RecordingEventSink } from "./events.js";

void describe("FakeApi", () => {
  void it("records writes in order and applies them to its store", async () => {
    const api = new FakeApi();
    const pods = api.resource<Pod>("", "v1", "pods").namespace("ns");
    const a = await pods.create({ metadata: { generateName: "web-", labels: { app: "web" } } });
    assert.match(a.metadata!.name!, /^web-[a-z0-9]{5}$/);
    assert.equal(a.metadata!.namespace, "ns");
    assert.ok(a.metadata!.uid);
    assert.equal(a.kind, "Pod");
    const b = await pods.create({ metadata: { generateName: "web-" } });
    assert.notEqual(a.metadata!.name, b.metadata!.name);
    await pods.delete(b.metadata!.name!);
    assert.deepEqual(api.verbs(), [`create pods ns/${a.metadata!.name}`, `create pods ns/${b.metadata!.name}`, `delete pods ns/${b.metadata!.name}`]);
    assert.deepEqual(api.objects("", "pods").map((p) => p.metadata?.name), [a.metadata!.name]);
  });

  void it("refuses a stale update with Conflict and keeps status out of main-resource updates", async () => {
    const api = new FakeApi();
    api.seed("", "pods", { metadata: { name: "p", namespace: "ns", resourceVersion: "5" }, spec: { containers: [] }, status: { phase: "Pending" } } as Pod);
    const pods = api.resource<Pod>("", "v1", "pods");
    await assert.rejects(pods.update({ metadata: { name: "p", namespace: "ns", resourceVersion: "4" } }), isConflict);
    const u = await pods.update({ metadata: { name: "p", namespace: "ns", resourceVersion: "5" }, spec: { containers: [] }, status: { phase: "Running" } });
    assert.equal(u.status?.phase, "Pending");
    const s = await pods.updateStatus({ ...u, status: { phase: "Running" } });
    assert.equal(s.status?.phase, "Running");
    assert.equal(api.writes()[0]!.error !== undefined, true);
    assert.deepEqual(api.verbs(), ["update pods ns/p", "update pods ns/p", "updateStatus pods/status ns/p"]);
  });

  void it("fails matching calls as told, a given number of times, and records them", async () => {
    const api = new FakeApi();
    api.failOn({ verb: "create", resource: "pods" }, forbiddenError("pods", "", "exceeded quota"), { times: 1 });
    const pods = api.resource<Pod>("", "v1", "pods").namespace("ns");
    await assert.rejects(pods.create({ metadata: { name: "a" } }), isForbidden);
    await pods.create({ metadata: { name: "a" } });
    assert.equal(api.writes().length, 2);
    assert.ok(isForbidden(api.writes()[0]!.error));
    assert.equal(api.writes()[1]!.error, undefined);
    await assert.rejects(pods.get("missing"), isNotFound);
  });

  void it("applies strategic patches to ownerReferences by uid, with uid preconditions", async () => {
    const api = new FakeApi();
    api.seed("", "pods", { metadata: { name: "p", namespace: "ns", uid: "pod-1", ownerReferences: [{ apiVersion: "v1", kind: "X", name: "x", uid: "x1" }] } });
    const pods = api.resource<Pod>("", "v1", "pods").namespace("ns");
    const owner = { apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "rs1", controller: true, blockOwnerDeletion: true };
    let p = await pods.patch("p", "strategic", { metadata: { ownerReferences: [owner], uid: "pod-1" } });
    assert.deepEqual(p.metadata?.ownerReferences?.map((r) => r.uid), ["x1", "rs1"]);
    p = await pods.patch("p", "strategic", { metadata: { ownerReferences: [{ $patch: "delete", uid: "rs1" }], uid: "pod-1" } });
    assert.deepEqual(p.metadata?.ownerReferences?.map((r) => r.uid), ["x1"]);
    await assert.rejects(pods.patch("p", "strategic", { metadata: { uid: "other" } }), isConflict);
    p = await pods.patch("p", "merge", { metadata: { labels: { a: "b" } } });
    assert.deepEqual(p.metadata?.labels, { a: "b" });
    p = await pods.patch("p", "json", [{ op: "add", path: "/metadata/finalizers", value: ["f"] }]);
    const d = await pods.delete("p");
    assert.ok((d as Pod).metadata?.deletionTimestamp, "finalizers hold the object with a deletionTimestamp");
  });
});

void describe("seedIndexer", () => {
  void it("serves frozen copies through the standard indexes", () => {
    const pod: Pod = { metadata: { name: "p", namespace: "ns", ownerReferences: [{ apiVersion: "v1", kind: "X", name: "x", uid: "o1" }] }, spec: { containers: [], nodeName: "n1" } };
    const idx = seedIndexer([pod]);
    const got = idx.byIndex("ownerUid", "o1");
    assert.equal(got.length, 1);
    assert.equal(idx.byIndex("nodeName", "n1").length, 1);
    assert.ok(Object.isFrozen(got[0]!.metadata));
    assert.notEqual(got[0], pod);
  });
});

void describe("RecordingEventSink", () => {
  void it("prints events as Type Reason Message", () => {
    const ev = new RecordingEventSink();
    ev.event({ kind: "Deployment", metadata: { name: "d", namespace: "ns" } }, "Normal", "ScalingReplicaSet", "Scaled up replica set d-1 from 0 to 3");
    assert.deepEqual(ev.lines(), ["Normal ScalingReplicaSet Scaled up replica set d-1 from 0 to 3"]);
  });
});

// The real client must satisfy the interface controllers are written against.
type Satisfies<A, B extends A> = B;
export type RestClientIsAnApi = Satisfies<Api, RestClient>;
