import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ControllerRevision, StatefulSet } from "kubernetes-types/apps/v1.js";
import type { PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1.js";
import { CONTROLLER_REVISION_HASH_LABEL } from "../history/history.js";
import { KEY, SET_UID, claims, created, deleted, harness, lastStatus, pod, revName, revisionOf, statefulSet } from "./testutil.js";

const SET_REF = { apiVersion: "apps/v1", kind: "StatefulSet", name: "web", uid: SET_UID, controller: true, blockOwnerDeletion: true };

/** The set with a first revision on record as current and the status that says so. */
function rolledOut(spec: Parameters<typeof statefulSet>[0] = {}, image = "nginx:1"): { set: StatefulSet; rev: ControllerRevision } {
  const base = statefulSet(spec, { image });
  const rev = revisionOf(base);
  const name = rev.metadata?.name ?? "";
  const n = base.spec?.replicas ?? 1;
  base.status = { observedGeneration: 1, replicas: n, readyReplicas: n, availableReplicas: n, currentReplicas: n, updatedReplicas: n, currentRevision: name, updateRevision: name, collisionCount: 0 };
  return { set: base, rev };
}

void describe("StatefulSetSyncer: the pods it creates", () => {
  void it("records revision 1, creates the claim and then web-0 with its identity, storage, revision label and controllerRef, and waits", async () => {
    const set = statefulSet();
    const rev = revName(set);
    const h = harness(set);
    await h.syncer.sync(KEY);
    assert.deepEqual(h.api.verbs(), [`create controllerrevisions ns/${rev}`, "create persistentvolumeclaims ns/www-web-0", "create pods ns/web-0", "updateStatus statefulsets/status ns/web"]);
    const r = h.api.writes({ resource: "controllerrevisions" })[0]!.object as ControllerRevision;
    assert.equal(r.revision, 1);
    assert.deepEqual(r.metadata?.ownerReferences, [SET_REF]);
    const data = r.data as { spec: { template: Record<string, unknown> } };
    assert.deepEqual(Object.keys(data), ["spec"]);
    assert.deepEqual(Object.keys(data.spec), ["template"]);
    assert.equal(data.spec.template["$patch"], "replace");

    const claim = h.api.writes({ resource: "persistentvolumeclaims" })[0]!.object as PersistentVolumeClaim;
    assert.equal(claim.metadata?.name, "www-web-0");
    assert.deepEqual(claim.metadata?.labels, { app: "web" });
    assert.deepEqual(claim.spec, { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } });
    assert.equal(claim.metadata?.ownerReferences, undefined, "Retain/Retain: nothing collects it");

    const p = h.api.writes({ resource: "pods" })[0]!.object as Pod;
    assert.equal(p.metadata?.name, "web-0");
    assert.deepEqual(p.metadata?.labels, { app: "web", "statefulset.kubernetes.io/pod-name": "web-0", "apps.kubernetes.io/pod-index": "0", [CONTROLLER_REVISION_HASH_LABEL]: rev });
    assert.equal(p.spec?.hostname, "web-0");
    assert.equal(p.spec?.subdomain, "nginx");
    assert.deepEqual(p.spec?.volumes, [{ name: "www", persistentVolumeClaim: { claimName: "www-web-0", readOnly: false } }]);
    assert.deepEqual(p.metadata?.ownerReferences, [SET_REF]);
    assert.deepEqual(h.events.lines(), ["Normal SuccessfulCreate create Claim www-web-0 Pod web-0 in StatefulSet web success", "Normal SuccessfulCreate create Pod web-0 in StatefulSet web successful"]);
    assert.deepEqual(lastStatus(h.api), { observedGeneration: 1, currentRevision: rev, updateRevision: rev, collisionCount: 0, replicas: 0, readyReplicas: 0, availableReplicas: 0, currentReplicas: 0, updatedReplicas: 0 });
  });

  void it("numbers pods from spec.ordinals.start and replaces a template volume of a claim's name", async () => {
    const set = statefulSet({ replicas: 1, ordinals: { start: 5 } });
    set.spec!.template.spec!.volumes = [{ name: "www", emptyDir: {} }, { name: "config", configMap: { name: "cfg" } }];
    const h = harness(set);
    await h.syncer.sync(KEY);
    assert.deepEqual(created(h.api), ["web-5"]);
    const p = h.api.writes({ resource: "pods" })[0]!.object as Pod;
    assert.equal(p.metadata?.labels?.["apps.kubernetes.io/pod-index"], "5");
    assert.deepEqual(p.spec?.volumes, [
      { name: "www", persistentVolumeClaim: { claimName: "www-web-5", readOnly: false } },
      { name: "config", configMap: { name: "cfg" } },
    ]);
  });

  void it("does not create the pod when its claim cannot be created, and says why", async () => {
    const set = statefulSet({ replicas: 1 });
    const h = harness(set);
    h.api.failOn({ verb: "create", resource: "persistentvolumeclaims" }, new Error("quota exceeded"));
    await assert.rejects(h.syncer.sync(KEY), /failed to create PVC www-web-0: quota exceeded/);
    assert.deepEqual(created(h.api), []);
    assert.deepEqual(h.events.lines(), [
      "Warning FailedCreate create Claim www-web-0 for Pod web-0 in StatefulSet web failed error: quota exceeded",
      "Warning FailedCreate create Pod web-0 in StatefulSet web failed error: failed to create PVC www-web-0: quota exceeded",
    ]);
    assert.equal(h.api.verbs({ verb: "updateStatus" }).length, 1, "the status is written even so");
  });
});

void describe("StatefulSetSyncer: pod management policy", () => {
  void it("OrderedReady: waits while web-0 is not Running and Ready, then creates web-1 alone", async () => {
    const set = statefulSet();
    const rev = revisionOf(set);
    const pending = harness(set, { revisions: [rev], pods: [pod(set, 0, { phase: "Pending", ready: false })], claims: claims(set, 0) });
    await pending.syncer.sync(KEY);
    assert.deepEqual(created(pending.api), []);
    const notReady = harness(set, { revisions: [rev], pods: [pod(set, 0, { ready: false })], claims: claims(set, 0) });
    await notReady.syncer.sync(KEY);
    assert.deepEqual(created(notReady.api), []);
    const ready = harness(set, { revisions: [rev], pods: [pod(set, 0)], claims: claims(set, 0) });
    await ready.syncer.sync(KEY);
    assert.deepEqual(ready.api.verbs({ resource: "pods" }), ["create pods ns/web-1"]);
    assert.deepEqual(ready.api.verbs({ resource: "persistentvolumeclaims" }), ["create persistentvolumeclaims ns/www-web-1"]);
  });

  void it("OrderedReady with minReadySeconds: a ready pod must also be available; the set is looked at again later", async () => {
    const set = statefulSet({ minReadySeconds: 10 });
    const h = harness(set, { revisions: [revisionOf(set)], pods: [pod(set, 0, { readyAgo: 5_000 })], claims: claims(set, 0) });
    await h.syncer.sync(KEY);
    assert.deepEqual(created(h.api), []);
    assert.deepEqual(h.after, [[KEY, 10_000]]);
    assert.equal(lastStatus(h.api)?.readyReplicas, 1);
    assert.equal(lastStatus(h.api)?.availableReplicas, 0);
  });

  void it("Parallel: creates every missing pod at once, whatever the state of the others", async () => {
    const set = statefulSet({ replicas: 4, podManagementPolicy: "Parallel" });
    const h = harness(set, { revisions: [revisionOf(set)], pods: [pod(set, 1, { phase: "Pending", ready: false })], claims: claims(set, 1) });
    await h.syncer.sync(KEY);
    assert.deepEqual(created(h.api).sort(), ["web-0", "web-2", "web-3"]);
  });

  void it("scales down from the highest ordinal, one pod at a time, only while all others are healthy", async () => {
    const { set, rev } = rolledOut({ replicas: 2 });
    const four = [0, 1, 2, 3].map((i) => pod(set, i));
    const h = harness(set, { revisions: [rev], pods: four, claims: [0, 1, 2, 3].flatMap((i) => claims(set, i)) });
    await h.syncer.sync(KEY);
    assert.deepEqual(h.api.verbs({ resource: "pods" }), ["delete pods ns/web-3"]);
    assert.deepEqual(h.events.lines(), ["Normal SuccessfulDelete delete Pod web-3 in StatefulSet web successful"]);
    assert.deepEqual(h.api.verbs({ resource: "persistentvolumeclaims" }), [], "Retain: the claim stays");

    const terminating = harness(set, { revisions: [rev], pods: [four[0]!, four[1]!, four[2]!, pod(set, 3, { deleting: true })] });
    await terminating.syncer.sync(KEY);
    assert.deepEqual(deleted(terminating.api), [], "waits for web-3 to be gone before web-2");

    const unhealthy = harness(set, { revisions: [rev], pods: [four[0]!, pod(set, 1, { ready: false }), four[2]!, four[3]!] });
    await unhealthy.syncer.sync(KEY);
    assert.deepEqual(deleted(unhealthy.api), []);
  });

  void it("Parallel: deletes every pod beyond the replicas at once", async () => {
    const { set, rev } = rolledOut({ replicas: 1, podManagementPolicy: "Parallel" });
    const h = harness(set, { revisions: [rev], pods: [pod(set, 0), pod(set, 1, { ready: false }), pod(set, 2)] });
    await h.syncer.sync(KEY);
    assert.deepEqual(deleted(h.api).sort(), ["web-1", "web-2"]);
  });

  void it("deletes a failed pod, to be recreated under its name by the next sync", async () => {
    const { set, rev } = rolledOut();
    const h = harness(set, { revisions: [rev], pods: [pod(set, 0), pod(set, 1, { phase: "Failed", ready: false }), pod(set, 2)] });
    await h.syncer.sync(KEY);
    assert.deepEqual(h.api.verbs({ resource: "pods" }), ["delete pods ns/web-1"]);
    assert.deepEqual(h.events.lines(), ["Warning RecreatingFailedPod StatefulSet ns/web is recreating failed Pod web-1", "Normal SuccessfulDelete delete Pod web-1 in StatefulSet web successful"]);
    const next = harness(set, { revisions: [rev], pods: [pod(set, 0), pod(set, 2)], claims: [0, 1, 2].flatMap((i) => claims(set, i)) });
    await next.syncer.sync(KEY);
    assert.deepEqual(next.api.verbs({ resource: "pods" }), ["create pods ns/web-1"]);
    assert.deepEqual(next.api.verbs({ resource: "persistentvolumeclaims" }), [], "its claim is still there");
  });

  void it("fixes a pod whose identity label is wrong by updating it", async () => {
    const { set, rev } = rolledOut({ replicas: 1 });
    const p = pod(set, 0);
    p.metadata!.labels!["statefulset.kubernetes.io/pod-name"] = "other";
    const h = harness(set, { revisions: [rev], pods: [p], claims: claims(set, 0) });
    await h.syncer.sync(KEY);
    assert.deepEqual(h.api.verbs(), ["update pods ns/web-0"]);
    assert.equal((h.api.writes()[0]!.object as Pod).metadata?.labels?.["statefulset.kubernetes.io/pod-name"], "web-0");
    assert.deepEqual(h.events.lines(), ["Normal SuccessfulUpdate update Pod web-0 in StatefulSet web successful"]);
  });
});

/** The set after its template changed to `image`: its old revision still current. */
function changed(image: string, spec: Parameters<typeof statefulSet>[0] = {}): { set: StatefulSet; old: ControllerRevision; next: ControllerRevision } {
  const { set: before, rev: old } = rolledOut(spec);
  const set = statefulSet(spec, { image, generation: 2, status: before.status! });
  return { set, old, next: revisionOf(set, 2) };
}

void describe("StatefulSetSyncer: updates", () => {
  void it("RollingUpdate: records revision 2 and deletes the highest pod on the old one; the next sync recreates it from revision 2", async () => {
    const { set, old, next } = changed("nginx:2");
    const pods = [0, 1, 2].map((i) => pod(set, i, { rev: old }));
    const h = harness(set, { revisions: [old], pods, claims: [0, 1, 2].flatMap((i) => claims(set, i)) });
    await h.syncer.sync(KEY);
    const nextName = next.metadata?.name ?? "";
    assert.deepEqual(h.api.verbs(), [`create controllerrevisions ns/${nextName}`, "delete pods ns/web-2", "updateStatus statefulsets/status ns/web"]);
    assert.equal((h.api.writes()[0]!.object as ControllerRevision).revision, 2);
    assert.deepEqual(lastStatus(h.api), { observedGeneration: 2, currentRevision: old.metadata?.name, updateRevision: nextName, collisionCount: 0, replicas: 3, readyReplicas: 3, availableReplicas: 3, currentReplicas: 2, updatedReplicas: 0 });

    const recreate = harness(set, { revisions: [old, next], pods: pods.slice(0, 2), claims: [0, 1, 2].flatMap((i) => claims(set, i)) });
    await recreate.syncer.sync(KEY);
    assert.deepEqual(created(recreate.api), ["web-2"]);
    const p = recreate.api.writes({ resource: "pods" })[0]!.object as Pod;
    assert.equal(p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL], nextName);
    assert.equal(p.spec?.containers[0]?.image, "nginx:2");
  });

  void it("RollingUpdate: waits for the updated pod to be healthy, then moves down to the next one", async () => {
    const { set, old, next } = changed("nginx:2");
    const cl = [0, 1, 2].flatMap((i) => claims(set, i));
    const waiting = harness(set, { revisions: [old, next], pods: [pod(set, 0, { rev: old }), pod(set, 1, { rev: old }), pod(set, 2, { rev: next, ready: false })], claims: cl });
    await waiting.syncer.sync(KEY);
    assert.deepEqual(deleted(waiting.api), []);
    const moving = harness(set, { revisions: [old, next], pods: [pod(set, 0, { rev: old }), pod(set, 1, { rev: old }), pod(set, 2, { rev: next })], claims: cl });
    await moving.syncer.sync(KEY);
    assert.deepEqual(deleted(moving.api), ["web-1"]);
  });

  void it("RollingUpdate: once every pod is updated and ready, currentRevision becomes the update revision", async () => {
    const { set, old, next } = changed("nginx:2");
    const h = harness(set, { revisions: [old, next], pods: [0, 1, 2].map((i) => pod(set, i, { rev: next })), claims: [0, 1, 2].flatMap((i) => claims(set, i)) });
    await h.syncer.sync(KEY);
    assert.deepEqual(h.api.verbs(), ["updateStatus statefulsets/status ns/web"]);
    const nextName = next.metadata?.name ?? "";
    assert.deepEqual(lastStatus(h.api), { observedGeneration: 2, currentRevision: nextName, updateRevision: nextName, collisionCount: 0, replicas: 3, readyReplicas: 3, availableReplicas: 3, currentReplicas: 3, updatedReplicas: 3 });
  });

  void it("partition: pods below it keep the current revision, and a missing one is recreated from it", async () => {
    const { set, old, next } = changed("nginx:2", { updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 2 } } });
    const cl = [0, 1, 2].flatMap((i) => claims(set, i));
    const h = harness(set, { revisions: [old, next], pods: [pod(set, 0, { rev: old }), pod(set, 1, { rev: old }), pod(set, 2, { rev: next })], claims: cl });
    await h.syncer.sync(KEY);
    assert.deepEqual(deleted(h.api), []);
    assert.equal(lastStatus(h.api)?.updatedReplicas, 1);
    assert.equal(lastStatus(h.api)?.currentRevision, old.metadata?.name, "not complete: two pods are on the old revision");

    const missing = harness(set, { revisions: [old, next], pods: [pod(set, 1, { rev: old }), pod(set, 2, { rev: next })], claims: cl });
    await missing.syncer.sync(KEY);
    assert.deepEqual(created(missing.api), ["web-0"]);
    const p = missing.api.writes({ resource: "pods" })[0]!.object as Pod;
    assert.equal(p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL], old.metadata?.name);
    assert.equal(p.spec?.containers[0]?.image, "nginx:1");
  });

  void it("OnDelete: deletes nothing; a pod deleted by the user comes back on the update revision", async () => {
    const { set, old, next } = changed("nginx:2", { updateStrategy: { type: "OnDelete" } });
    const cl = [0, 1, 2].flatMap((i) => claims(set, i));
    const h = harness(set, { revisions: [old, next], pods: [0, 1, 2].map((i) => pod(set, i, { rev: old })), claims: cl });
    await h.syncer.sync(KEY);
    assert.deepEqual(h.api.verbs({ resource: "pods" }), []);
    const gone = harness(set, { revisions: [old, next], pods: [pod(set, 0, { rev: old }), pod(set, 2, { rev: old })], claims: cl });
    await gone.syncer.sync(KEY);
    assert.deepEqual(created(gone.api), ["web-1"]);
    assert.equal((gone.api.writes({ resource: "pods" })[0]!.object as Pod).spec?.containers[0]?.image, "nginx:2");
  });
});

void describe("StatefulSetSyncer: revisions", () => {
  void it("a rollback to an older template renumbers that revision instead of creating one", async () => {
    const { set: v1, rev: r1 } = rolledOut();
    const v2 = statefulSet({}, { image: "nginx:2" });
    const r2 = revisionOf(v2, 2);
    const set = statefulSet({}, { generation: 3, status: { ...v1.status!, currentRevision: r2.metadata?.name ?? "", updateRevision: r2.metadata?.name ?? "" } });
    const h = harness(set, { revisions: [r1, r2], pods: [0, 1, 2].map((i) => pod(set, i, { rev: r2 })), claims: [0, 1, 2].flatMap((i) => claims(set, i)) });
    await h.syncer.sync(KEY);
    const w = h.api.writes({ resource: "controllerrevisions" });
    assert.deepEqual(h.api.verbs({ resource: "controllerrevisions" }), [`update controllerrevisions ns/${r1.metadata?.name ?? ""}`]);
    assert.equal((w[0]!.object as ControllerRevision).revision, 3);
    assert.deepEqual(deleted(h.api), ["web-2"]);
  });

  void it("keeps revisionHistoryLimit old revisions besides the live ones, deleting the oldest", async () => {
    const revs = [1, 2, 3, 4].map((n) => revisionOf(statefulSet({}, { image: `nginx:${n}` }), n));
    const cur = revs[3]!.metadata?.name ?? "";
    const set = statefulSet({ revisionHistoryLimit: 1 }, { image: "nginx:4", status: { observedGeneration: 1, replicas: 3, readyReplicas: 3, availableReplicas: 3, currentReplicas: 3, updatedReplicas: 3, currentRevision: cur, updateRevision: cur, collisionCount: 0 } });
    const h = harness(set, { revisions: revs, pods: [0, 1, 2].map((i) => pod(set, i, { rev: revs[3]! })), claims: [0, 1, 2].flatMap((i) => claims(set, i)) });
    await h.syncer.sync(KEY);
    assert.deepEqual(h.api.verbs(), [`delete controllerrevisions ns/${revs[0]!.metadata?.name ?? ""}`, `delete controllerrevisions ns/${revs[1]!.metadata?.name ?? ""}`]);
  });

  void it("a revision name taken by another template raises collisionCount until the name is free", async () => {
    const set = statefulSet({ replicas: 1 });
    const squatter = { ...revisionOf(statefulSet({}, { image: "other" })), metadata: { ...revisionOf(set).metadata, uid: "squatter", ownerReferences: [] } } as ControllerRevision;
    const h = harness(set);
    h.api.seed("apps", "controllerrevisions", squatter);
    await h.syncer.sync(KEY);
    const creates = h.api.writes({ verb: "create", resource: "controllerrevisions" });
    assert.equal(creates.length, 2);
    assert.ok(creates[0]!.error, "the first name is taken");
    assert.equal(lastStatus(h.api)?.collisionCount, 1);
    assert.equal(lastStatus(h.api)?.updateRevision, creates[1]!.name);
    assert.equal((h.api.writes({ resource: "pods" })[0]!.object as Pod).metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL], creates[1]!.name);
  });
});

void describe("StatefulSetSyncer: status", () => {
  void it("counts created, ready, available, current and updated pods, and writes nothing when the status already says so", async () => {
    const { set, old, next } = changed("nginx:2", { minReadySeconds: 30 });
    const pods = [pod(set, 0, { rev: old }), pod(set, 1, { rev: old, readyAgo: 10_000 }), pod(set, 2, { rev: next, phase: "Pending", ready: false })];
    const h = harness(set, { revisions: [old, next], pods, claims: [0, 1, 2].flatMap((i) => claims(set, i)) });
    await h.syncer.sync(KEY);
    const s = lastStatus(h.api)!;
    assert.deepEqual(s, { observedGeneration: 2, currentRevision: old.metadata?.name, updateRevision: next.metadata?.name, collisionCount: 0, replicas: 3, readyReplicas: 2, availableReplicas: 1, currentReplicas: 2, updatedReplicas: 1 });
    assert.deepEqual(h.after, [[KEY, 30_000]]);

    const again = harness({ ...set, status: s }, { revisions: [old, next], pods, claims: [0, 1, 2].flatMap((i) => claims(set, i)) });
    await again.syncer.sync(KEY);
    assert.deepEqual(again.api.verbs(), []);
  });
});

void describe("StatefulSetSyncer: persistentVolumeClaimRetentionPolicy", () => {
  const POD_REF = (i: number): object => ({ apiVersion: "v1", kind: "Pod", name: `web-${i}`, uid: `web-${i}-uid`, controller: true, blockOwnerDeletion: true });
  const refsWritten = (h: ReturnType<typeof harness>): Record<string, unknown> =>
    Object.fromEntries(h.api.writes({ verb: "update", resource: "persistentvolumeclaims" }).map((a) => [a.name, (a.object as PersistentVolumeClaim).metadata?.ownerReferences]));

  void it("whenDeleted: Delete makes the set the claims' controller", async () => {
    const { set, rev } = rolledOut({ replicas: 2, persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete", whenScaled: "Retain" } });
    const h = harness(set, { revisions: [rev], pods: [pod(set, 0), pod(set, 1)], claims: [...claims(set, 0), ...claims(set, 1, [SET_REF])] });
    await h.syncer.sync(KEY);
    assert.deepEqual(refsWritten(h), { "www-web-0": [SET_REF] });
    assert.deepEqual(h.api.verbs({ resource: "pods" }), ["update pods ns/web-0"], "upstream writes the pod whose claims it fixed");
  });

  void it("whenScaled: Delete hands the claims of scaled-down ordinals to their pod before deleting it; Delete/Delete moves them off the set", async () => {
    const { set, rev } = rolledOut({ replicas: 1, persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete", whenScaled: "Delete" } });
    const h = harness(set, { revisions: [rev], pods: [pod(set, 0), pod(set, 1)], claims: [...claims(set, 0, [SET_REF]), ...claims(set, 1, [SET_REF])] });
    await h.syncer.sync(KEY);
    assert.deepEqual(refsWritten(h), { "www-web-1": [POD_REF(1)] });
    assert.deepEqual(deleted(h.api), ["web-1"]);
  });

  void it("Retain/Retain takes our references off a claim, and a claim still owned by an old pod holds the new pod back", async () => {
    const { set, rev } = rolledOut({ replicas: 1 });
    const h = harness(set, { revisions: [rev], pods: [pod(set, 0)], claims: claims(set, 0, [SET_REF]) });
    await h.syncer.sync(KEY);
    assert.deepEqual(refsWritten(h), { "www-web-0": [] });

    const scaled = rolledOut({ replicas: 2, persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Delete" } });
    const stale = harness(scaled.set, { revisions: [scaled.rev], pods: [pod(scaled.set, 0)], claims: [...claims(scaled.set, 0), ...claims(scaled.set, 1, [{ ...POD_REF(1), uid: "old-pod" } as never])] });
    await stale.syncer.sync(KEY);
    assert.deepEqual(created(stale.api), [], "waits for the garbage collector to take the old claim");
  });
});

void describe("StatefulSetSyncer: ownership", () => {
  void it("adopts orphan member pods and revisions its selector matches, and ignores a set that is gone", async () => {
    const { set, rev } = rolledOut({ replicas: 1 });
    const orphan = pod(set, 0);
    orphan.metadata!.ownerReferences = [];
    const orphanRev = { ...rev, metadata: { ...rev.metadata, ownerReferences: [] } };
    const h = harness(set, { revisions: [orphanRev], pods: [orphan], claims: claims(set, 0) });
    await h.syncer.sync(KEY);
    assert.deepEqual(h.api.verbs(), [`patch controllerrevisions ns/${rev.metadata?.name ?? ""}`, "patch pods ns/web-0"]);
    const gone = harness(set);
    await gone.syncer.sync("ns/other");
    assert.deepEqual(gone.api.verbs(), []);
  });

  void it("releases a pod it owns whose name stops being one of its members", async () => {
    const { set, rev } = rolledOut({ replicas: 1 });
    const renamed: Pod = { ...pod(set, 0), metadata: { ...pod(set, 0).metadata, name: "db-0", uid: "db-0-uid" } };
    const h = harness(set, { revisions: [rev], pods: [pod(set, 0), renamed], claims: claims(set, 0) });
    await h.syncer.sync(KEY);
    assert.deepEqual(h.api.verbs(), ["patch pods ns/db-0"]);
    assert.deepEqual(h.api.writes()[0]!.patch, { metadata: { ownerReferences: [{ $patch: "delete", uid: SET_UID }], uid: "db-0-uid" } });
  });

  void it("a set being deleted only has its status kept right: no pod is created or deleted", async () => {
    const { set, rev } = rolledOut({ replicas: 3 });
    const deleting = { ...set, metadata: { ...set.metadata, deletionTimestamp: "2024-01-01T00:00:00Z" } };
    const h = harness(deleting, { revisions: [rev], pods: [pod(set, 0)], claims: claims(set, 0) });
    await h.syncer.sync(KEY);
    assert.deepEqual(h.api.verbs(), ["updateStatus statefulsets/status ns/web"]);
    assert.equal(lastStatus(h.api)?.replicas, 1);
  });

  void it("does not claim a matching pod whose name is not one of its ordinals", async () => {
    const { set, rev } = rolledOut({ replicas: 1 });
    const stray: Pod = { ...pod(set, 0), metadata: { name: "stray", namespace: "ns", uid: "stray-uid", labels: { app: "web" } } };
    const h = harness(set, { revisions: [rev], pods: [pod(set, 0), stray], claims: claims(set, 0) });
    await h.syncer.sync(KEY);
    assert.deepEqual(h.api.verbs(), []);
  });
});
