import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.js";
import type { ReplicaSet } from "kubernetes-types/apps/v1.js";
import { isConflict, isForbidden } from "../../client/errors.js";
import { conflictError, forbiddenError, notFoundError } from "../testing/index.js";
import { isWorkloadError } from "./errors.js";
import { REPLICATION_CONTROLLER, REPLICA_SET, type ReplicaStatus } from "./kinds.js";
import { slowStartBatch } from "./sync.js";
import { T0, harness, ownedPod, pod, replicaSet, replicationController } from "./testutil.js";
import { rfc3339 } from "../../util/time.js";

function statusWritten(h: ReturnType<typeof harness>): ReplicaStatus | undefined {
  const w = h.api.writes({ verb: "updateStatus" }).at(-1);
  return (w?.object as ReplicaSet | undefined)?.status as ReplicaStatus | undefined;
}

void describe("ReplicaSyncer: scaling up", () => {
  void it("creates the missing pods from the template with generateName and a controllerRef, then writes status", async () => {
    const rs = replicaSet("web", 3);
    rs.spec!.template!.metadata!.annotations = { note: "x" };
    const h = harness(REPLICA_SET, [rs]);
    await h.syncer.sync("ns/web");
    const creates = h.api.writes({ verb: "create", resource: "pods" });
    assert.equal(creates.length, 3);
    for (const c of creates) {
      const p = c.object as Pod;
      assert.equal(p.metadata?.generateName, "web-");
      assert.equal(p.metadata?.name, undefined);
      assert.deepEqual(p.metadata?.labels, { app: "web" });
      assert.deepEqual(p.metadata?.annotations, { note: "x" });
      assert.deepEqual(p.metadata?.ownerReferences, [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web", uid: "web-uid", controller: true, blockOwnerDeletion: true }]);
      assert.deepEqual(p.spec, rs.spec!.template!.spec);
      assert.match(c.name, /^web-[a-z0-9]{5}$/);
    }
    assert.deepEqual(h.events.lines().map((l) => l.replace(/web-\w{5}$/, "web-*")), ["Normal SuccessfulCreate Created pod: web-*", "Normal SuccessfulCreate Created pod: web-*", "Normal SuccessfulCreate Created pod: web-*"]);
    assert.deepEqual(statusWritten(h), { replicas: 0, observedGeneration: 1 });
    assert.deepEqual(h.api.verbs().at(-1), "updateStatus replicasets/status ns/web");
  });

  void it("does not create again while the creates are unobserved, and does once they are seen", async () => {
    const h = harness(REPLICA_SET, [replicaSet("web", 3)]);
    await h.syncer.sync("ns/web");
    assert.equal(h.api.writes({ verb: "create" }).length, 3);
    assert.deepEqual(h.expectations.pending("ns/web"), { adds: 3, dels: 0 });
    h.api.clear();
    await h.syncer.sync("ns/web");
    assert.deepEqual(h.api.writes({ verb: "create" }), [], "expectations hold back a second burst");
    for (let i = 0; i < 3; i++) h.expectations.creationObserved("ns/web");
    await h.syncer.sync("ns/web");
    assert.equal(h.api.writes({ verb: "create" }).length, 3, "the cache still has no pods, so it creates again");
  });

  void it("batches creates 1, 2, 4, … and stops after the first failing batch", async () => {
    const h = harness(REPLICA_SET, [replicaSet("web", 20)]);
    let n = 0;
    h.api.failOn({ verb: "create", resource: "pods" }, () => (++n === 5 ? forbiddenError("pods", "", "exceeded quota: q") : undefined));
    await assert.rejects(h.syncer.sync("ns/web"), isForbidden);
    // Batches of 1, 2 succeed; the batch of 4 has one failure; nothing after it is tried.
    assert.equal(h.api.writes({ verb: "create" }).length, 7);
    assert.equal(h.api.writes({ verb: "create" }).filter((a) => a.error === undefined).length, 6);
    assert.deepEqual(h.expectations.pending("ns/web"), { adds: 6, dels: 0 }, "only the successful creates are awaited");
    const st = statusWritten(h)!;
    assert.equal(st.conditions?.[0]?.type, "ReplicaFailure");
    assert.equal(st.conditions?.[0]?.reason, "FailedCreate");
    assert.match(st.conditions?.[0]?.message ?? "", /exceeded quota/);
    assert.ok(h.events.lines().includes('Warning FailedCreate Error creating: pods "" is forbidden: exceeded quota: q'));
  });

  void it("tries one create per sync when every create fails, and says why in status and events", async () => {
    const h = harness(REPLICA_SET, [replicaSet("web", 5)]);
    h.api.failOn({ verb: "create" }, forbiddenError("pods", "", "no"));
    await assert.rejects(h.syncer.sync("ns/web"), isForbidden);
    assert.equal(h.api.writes({ verb: "create" }).length, 1);
    assert.ok(h.expectations.satisfied("ns/web"), "a failed create is not awaited: the retry may create");
    assert.deepEqual(h.events.events.map((e) => [e.type, e.reason, e.kind, e.name]), [["Warning", "FailedCreate", "ReplicaSet", "web"]]);
  });

  void it("clears ReplicaFailure once pods can be created again", async () => {
    const rs = replicaSet("web", 1, { status: { replicas: 0, observedGeneration: 1, conditions: [{ type: "ReplicaFailure", status: "True", reason: "FailedCreate", message: "no" }] } });
    const h = harness(REPLICA_SET, [rs]);
    await h.syncer.sync("ns/web");
    assert.deepEqual(statusWritten(h), { replicas: 0, observedGeneration: 1 });
  });

  void it("ignores finished and terminating pods and replaces them", async () => {
    const rs = replicaSet("web", 3);
    const h = harness(REPLICA_SET, [rs], [ownedPod("a", rs, { phase: "Succeeded" }), ownedPod("b", rs, { phase: "Failed" }), ownedPod("c", rs, { deleting: true }), ownedPod("d", rs)]);
    await h.syncer.sync("ns/web");
    assert.equal(h.api.writes({ verb: "create" }).length, 2);
    assert.equal(statusWritten(h)?.replicas, 1);
  });

  void it("caps one sync at burstReplicas", async () => {
    const h = harness(REPLICA_SET, [replicaSet("web", 10)], [], { burstReplicas: 4 });
    await h.syncer.sync("ns/web");
    assert.equal(h.api.writes({ verb: "create" }).length, 4);
  });

  void it("refuses to create pods from a template without labels", async () => {
    const rs = replicaSet("web", 1, { selector: {} });
    rs.spec!.template!.metadata!.labels = {};
    const h = harness(REPLICA_SET, [rs]);
    await assert.rejects(h.syncer.sync("ns/web"), (e) => isWorkloadError(e, "NoLabels"));
    assert.deepEqual(h.api.writes({ verb: "create" }), []);
  });

  void it("does not scale a ReplicaSet that is being deleted, but still reports status", async () => {
    const rs = replicaSet("web", 3);
    (rs.metadata as { deletionTimestamp?: string }).deletionTimestamp = rfc3339(T0);
    const h = harness(REPLICA_SET, [rs], [ownedPod("a", rs)]);
    await h.syncer.sync("ns/web");
    assert.deepEqual(h.api.verbs(), ["updateStatus replicasets/status ns/web"]);
  });

  void it("treats a vanished ReplicaSet as done and drops its expectations", async () => {
    const h = harness(REPLICA_SET, []);
    h.expectations.expectCreations("ns/gone", 3);
    await h.syncer.sync("ns/gone");
    assert.deepEqual(h.api.actions, []);
    assert.equal(h.expectations.pending("ns/gone"), undefined);
  });
});

void describe("ReplicaSyncer: scaling down", () => {
  void it("deletes the pods ranked first: unassigned, then pending, then not ready", async () => {
    const rs = replicaSet("web", 2);
    const pods = [
      ownedPod("ready-old", rs, { node: "n1", readySince: T0 - 86400_000 }),
      ownedPod("unassigned", rs),
      ownedPod("ready-new", rs, { node: "n2", readySince: T0 - 10_000 }),
      ownedPod("pending-on-node", rs, { node: "n1", phase: "Pending" }),
      ownedPod("running-not-ready", rs, { node: "n2" }),
    ];
    const h = harness(REPLICA_SET, [rs], pods);
    await h.syncer.sync("ns/web");
    assert.deepEqual(h.api.verbs({ verb: "delete" }).sort(), ["delete pods ns/pending-on-node", "delete pods ns/running-not-ready", "delete pods ns/unassigned"]);
    assert.deepEqual(h.expectations.pending("ns/web"), { adds: 0, dels: 3 });
    assert.equal(h.events.events.filter((e) => e.reason === "SuccessfulDelete").length, 3);
  });

  void it("prefers the pod that has been ready for less time, then more restarts, then the newer one", async () => {
    const rs = replicaSet("web", 1);
    const h1 = harness(REPLICA_SET, [rs], [ownedPod("old", rs, { node: "n1", readySince: T0 - 86400_000 }), ownedPod("new", rs, { node: "n2", readySince: T0 - 60_000 })]);
    await h1.syncer.sync("ns/web");
    assert.deepEqual(h1.api.verbs({ verb: "delete" }), ["delete pods ns/new"]);
    const h2 = harness(REPLICA_SET, [rs], [ownedPod("calm", rs, { node: "n1", readySince: T0 - 60_000, restarts: 0 }), ownedPod("crashy", rs, { node: "n2", readySince: T0 - 60_000, restarts: 5 })]);
    await h2.syncer.sync("ns/web");
    assert.deepEqual(h2.api.verbs({ verb: "delete" }), ["delete pods ns/crashy"]);
    const h3 = harness(REPLICA_SET, [rs], [ownedPod("elder", rs, { created: T0 - 86400_000 }), ownedPod("younger", rs, { created: T0 - 60_000 })]);
    await h3.syncer.sync("ns/web");
    assert.deepEqual(h3.api.verbs({ verb: "delete" }), ["delete pods ns/younger"]);
  });

  void it("prefers pods doubled up on a node with pods of sibling ReplicaSets", async () => {
    const a = replicaSet("a", 1, { labels: { app: "x", v: "a" }, ownerUid: "dep" });
    const b = replicaSet("b", 1, { labels: { app: "x", v: "b" }, ownerUid: "dep" });
    const ready = T0 - 3600_000;
    const pods = [ownedPod("a1", a, { node: "n1", readySince: ready }), ownedPod("a2", a, { node: "n2", readySince: ready }), ownedPod("b1", b, { node: "n2", readySince: ready })];
    const h = harness(REPLICA_SET, [a, b], pods);
    await h.syncer.sync("ns/a");
    assert.deepEqual(h.api.verbs({ verb: "delete" }), ["delete pods ns/a2"]);
  });

  void it("takes a pod that is already gone as deleted, and reports other delete failures", async () => {
    const rs = replicaSet("web", 0);
    const h = harness(REPLICA_SET, [rs], [ownedPod("a", rs), ownedPod("b", rs)]);
    h.api.failOn({ verb: "delete", name: "a" }, notFoundError("pods", "a"));
    h.api.failOn({ verb: "delete", name: "b" }, conflictError("pods", "b"));
    await assert.rejects(h.syncer.sync("ns/web"), isConflict);
    assert.deepEqual(h.expectations.pending("ns/web"), { adds: 0, dels: 0 });
    assert.deepEqual(
      h.events.events.map((e) => e.reason),
      ["FailedDelete"],
    );
    assert.equal(statusWritten(h)?.conditions?.[0]?.reason, "FailedDelete");
  });
});

void describe("ReplicaSyncer: adoption and release", () => {
  void it("adopts a matching orphan with a strategic patch after a live check of the owner", async () => {
    const rs = replicaSet("web", 1);
    const h = harness(REPLICA_SET, [rs], [pod("orphan", { labels: { app: "web" } })]);
    await h.syncer.sync("ns/web");
    const reads = h.api.actions.filter((a) => a.verb === "get");
    assert.deepEqual(reads.map((a) => `${a.resource} ${a.name}`), ["replicasets web"]);
    const patches = h.api.writes({ verb: "patch" });
    assert.equal(patches.length, 1);
    assert.equal(patches[0]!.patchType, "strategic");
    assert.deepEqual(patches[0]!.patch, {
      metadata: { ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web", uid: "web-uid", controller: true, blockOwnerDeletion: true }], uid: "orphan-uid" },
    });
    assert.deepEqual(h.api.writes({ verb: "create" }), [], "the adopted pod counts");
    assert.equal(statusWritten(h)?.replicas, 1);
    assert.equal(h.api.object<Pod>("", "pods", "ns", "orphan")?.metadata?.ownerReferences?.[0]?.uid, "web-uid");
  });

  void it("adopts with set-based selectors (In, NotIn, Exists, DoesNotExist) and leaves the rest alone", async () => {
    const rs = replicaSet("web", 2, {
      labels: { app: "web", tier: "fe", track: "stable" },
      selector: {
        matchExpressions: [
          { key: "tier", operator: "In", values: ["fe", "edge"] },
          { key: "track", operator: "NotIn", values: ["canary"] },
          { key: "app", operator: "Exists" },
          { key: "legacy", operator: "DoesNotExist" },
        ],
      },
    });
    const pods = [
      pod("yes", { labels: { app: "a", tier: "edge" } }),
      pod("canary", { labels: { app: "a", tier: "fe", track: "canary" } }),
      pod("legacy", { labels: { app: "a", tier: "fe", legacy: "1" } }),
      pod("no-app", { labels: { tier: "fe" } }),
      pod("other-tier", { labels: { app: "a", tier: "be" } }),
      pod("yes2", { labels: { app: "b", tier: "fe", track: "stable" } }),
    ];
    const h = harness(REPLICA_SET, [rs], pods);
    await h.syncer.sync("ns/web");
    assert.deepEqual(h.api.verbs({ verb: "patch" }).sort(), ["patch pods ns/yes", "patch pods ns/yes2"]);
    assert.deepEqual(h.api.writes({ verb: "create" }), []);
  });

  void it("never adopts pods controlled by someone else, terminating pods, or pods of another namespace", async () => {
    const rs = replicaSet("web", 0, { status: { replicas: 0, observedGeneration: 1 } });
    const pods = [
      pod("theirs", { labels: { app: "web" }, owner: { name: "other", uid: "other-uid" } }),
      pod("dying", { labels: { app: "web" }, deleting: true }),
      pod("elsewhere", { labels: { app: "web" }, ns: "other" }),
    ];
    const h = harness(REPLICA_SET, [rs], pods);
    await h.syncer.sync("ns/web");
    assert.deepEqual(h.api.verbs(), []);
  });

  void it("releases an owned pod whose labels no longer match", async () => {
    const rs = replicaSet("web", 1);
    const stray = ownedPod("stray", rs, { labels: { app: "debug" } });
    const h = harness(REPLICA_SET, [rs], [stray, ownedPod("keep", rs)]);
    await h.syncer.sync("ns/web");
    const patches = h.api.writes({ verb: "patch" });
    assert.deepEqual(patches.map((p) => [p.name, p.patch]), [["stray", { metadata: { ownerReferences: [{ $patch: "delete", uid: "web-uid" }], uid: "stray-uid" } }]]);
    assert.deepEqual(h.api.writes({ verb: "create" }), []);
  });

  void it("does not adopt when the live ReplicaSet is another object than the cached one", async () => {
    const rs = replicaSet("web", 1);
    const h = harness(REPLICA_SET, [rs], [pod("orphan", { labels: { app: "web" } })]);
    h.api.seed("apps", "replicasets", { ...rs, metadata: { ...rs.metadata, uid: "new-uid" } });
    await assert.rejects(h.syncer.sync("ns/web"), (e) => isWorkloadError(e, "CannotAdopt"));
    assert.deepEqual(h.api.writes(), []);
  });
});

void describe("ReplicaSyncer: status", () => {
  void it("counts ready, available (minReadySeconds) and fully labeled pods, and asks to look again later", async () => {
    const rs = replicaSet("web", 3, { minReadySeconds: 30 });
    const pods = [
      ownedPod("avail", rs, { node: "n", readySince: T0 - 60_000 }),
      ownedPod("ready", rs, { node: "n", readySince: T0 - 10_000 }),
      ownedPod("extra-label", rs, { node: "n", readySince: T0 - 5_000, labels: { app: "web", more: "x" } }),
    ];
    pods[2]!.metadata!.labels = { app: "web", more: "x" };
    rs.spec!.template!.metadata!.labels = { app: "web", more: "x" };
    const h = harness(REPLICA_SET, [rs], pods);
    await h.syncer.sync("ns/web");
    assert.deepEqual(statusWritten(h), { replicas: 3, fullyLabeledReplicas: 1, readyReplicas: 3, availableReplicas: 1, observedGeneration: 1 });
    assert.deepEqual(h.after, [["ns/web", 30_000]]);
  });

  void it("writes nothing when the status is already current", async () => {
    const rs = replicaSet("web", 1, { status: { replicas: 1, fullyLabeledReplicas: 1, observedGeneration: 1 } });
    const h = harness(REPLICA_SET, [rs], [ownedPod("a", rs)]);
    await h.syncer.sync("ns/web");
    assert.deepEqual(h.api.verbs(), []);
  });

  void it("retries a conflicting status write once on a fresh copy", async () => {
    const rs = replicaSet("web", 1);
    const h = harness(REPLICA_SET, [rs], [ownedPod("a", rs)]);
    h.api.failOn({ verb: "updateStatus" }, conflictError("replicasets.apps", "web"), { times: 1 });
    await h.syncer.sync("ns/web");
    assert.deepEqual(h.api.verbs(), ["updateStatus replicasets/status ns/web", "updateStatus replicasets/status ns/web"]);
    assert.equal(h.api.object<ReplicaSet>("apps", "replicasets", "ns", "web")?.status?.replicas, 1);
  });
});

void describe("ReplicaSyncer over ReplicationControllers", () => {
  void it("creates pods owned by the RC with equality selectors and adopts matching orphans", async () => {
    const rc = replicationController("rc", 2, { app: "rc", env: "prod" });
    const h = harness(REPLICATION_CONTROLLER, [rc], [pod("orphan", { labels: { app: "rc", env: "prod", extra: "1" } }), pod("partial", { labels: { app: "rc" } })]);
    await h.syncer.sync("ns/rc");
    assert.deepEqual(h.api.verbs({ verb: "patch" }), ["patch pods ns/orphan"]);
    const creates = h.api.writes({ verb: "create" });
    assert.equal(creates.length, 1);
    assert.deepEqual((creates[0]!.object as Pod).metadata?.ownerReferences, [{ apiVersion: "v1", kind: "ReplicationController", name: "rc", uid: "rc-uid", controller: true, blockOwnerDeletion: true }]);
    assert.deepEqual(h.api.verbs().at(-1), "updateStatus replicationcontrollers/status ns/rc");
  });
});

void describe("slowStartBatch", () => {
  void it("runs batches of 1, 2, 4, … and reports successes", async () => {
    const sizes: number[] = [];
    let inFlight = 0;
    const r = await slowStartBatch(10, 1, async () => {
      inFlight++;
      sizes.push(inFlight);
      await Promise.resolve();
      inFlight--;
    });
    assert.deepEqual(r, { successes: 10 });
    assert.equal(Math.max(...sizes), 4, "the last batch holds the remaining 3 of 10 after 1+2+4");
  });
});
