import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Deployment, ReplicaSet } from "kubernetes-types/apps/v1.js";
import type { Pod } from "kubernetes-types/core/v1.js";
import { isForbidden } from "../../client/errors.js";
import { forbiddenError } from "../testing/index.js";
import { isWorkloadError } from "../replicaset/errors.js";
import { deployment, dharness, progressing, rsOf } from "./testutil.js";
import { CHANGE_CAUSE_ANNOTATION, LAST_APPLIED_ANNOTATION, POD_TEMPLATE_HASH_LABEL, REVISION_ANNOTATION, computeHash } from "./util.js";

void describe("DeploymentSyncer: a new Deployment", () => {
  void it("creates <name>-<hash> with the hash label, owner ref and revision annotations, and reports it", async () => {
    const d = deployment("web", { replicas: 3, annotations: { [CHANGE_CAUSE_ANNOTATION]: "first", [LAST_APPLIED_ANNOTATION]: "{}" } });
    const h = dharness([d]);
    await h.syncer.sync("ns/web");
    const hash = computeHash(d.spec!.template, undefined);
    const creates = h.api.writes({ verb: "create" });
    assert.equal(creates.length, 1);
    const rs = creates[0]!.object as ReplicaSet;
    assert.equal(rs.metadata?.name, `web-${hash}`);
    assert.deepEqual(rs.metadata?.labels, { app: "web", [POD_TEMPLATE_HASH_LABEL]: hash });
    assert.deepEqual(rs.spec?.selector, { matchLabels: { app: "web", [POD_TEMPLATE_HASH_LABEL]: hash } });
    assert.deepEqual(rs.spec?.template?.metadata?.labels, { app: "web", [POD_TEMPLATE_HASH_LABEL]: hash });
    assert.equal(rs.spec?.replicas, 3);
    assert.deepEqual(rs.metadata?.ownerReferences, [{ apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "web-uid", controller: true, blockOwnerDeletion: true }]);
    assert.deepEqual(rs.metadata?.annotations, {
      [CHANGE_CAUSE_ANNOTATION]: "first",
      [REVISION_ANNOTATION]: "1",
      "deployment.kubernetes.io/desired-replicas": "3",
      "deployment.kubernetes.io/max-replicas": "4",
    });
    assert.deepEqual(h.scaling(), [`Scaled up replica set web-${hash} from 0 to 3`]);
    const patch = h.api.writes({ verb: "patch", resource: "deployments" });
    assert.deepEqual(patch.map((p) => p.patch), [{ metadata: { resourceVersion: "10", annotations: { [REVISION_ANNOTATION]: "1" } } }]);
    const st = h.lastStatus()!;
    assert.equal(st.observedGeneration, 1);
    assert.equal(st.unavailableReplicas, 3);
    assert.deepEqual(
      st.conditions?.map((c) => [c.type, c.status, c.reason, c.message]),
      [
        ["Progressing", "True", "NewReplicaSetCreated", `Created new replica set "web-${hash}"`],
        ["Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability."],
      ],
    );
    assert.equal(h.api.object<Deployment>("apps", "deployments", "ns", "web")?.metadata?.annotations?.[REVISION_ANNOTATION], "1");
  });

  void it("warns and only observes the generation for a Deployment that selects everything", async () => {
    const d = deployment("web");
    d.spec!.selector = {};
    const h = dharness([d]);
    await h.syncer.sync("ns/web");
    assert.deepEqual(h.events.lines(), ["Warning SelectingAll This deployment is selecting all pods. A non-empty selector is required."]);
    assert.deepEqual(h.api.verbs(), ["updateStatus deployments/status ns/web"]);
  });

  void it("reports a ReplicaSet that cannot be created in Progressing and an event, and retries through the queue", async () => {
    const h = dharness([deployment("web")]);
    h.api.failOn({ verb: "create", resource: "replicasets" }, forbiddenError("replicasets", "web", "quota"));
    await assert.rejects(h.syncer.sync("ns/web"), isForbidden);
    const st = h.lastStatus()!;
    assert.equal(st.conditions?.[0]?.reason, "ReplicaSetCreateError");
    assert.equal(st.conditions?.[0]?.status, "False");
    assert.equal(h.events.events[0]?.reason, "ReplicaSetCreateError");
    assert.equal(h.events.events[0]?.type, "Warning");
  });

  void it("bumps collisionCount when a ReplicaSet of another template holds the name", async () => {
    const d = deployment("web");
    const hash = computeHash(d.spec!.template, undefined);
    const squatter = rsOf(deployment("web", { image: "other" }), { replicas: 0, owned: false });
    squatter.metadata!.name = `web-${hash}`;
    squatter.metadata!.labels = { unrelated: "1" };
    const h = dharness([d], [squatter]);
    await assert.rejects(h.syncer.sync("ns/web"), (e) => isWorkloadError(e, "HashCollision"));
    assert.equal(h.lastStatus()?.collisionCount, 1);
    const h2 = dharness([deployment("web", { status: { collisionCount: 1 } })], [squatter]);
    await h2.syncer.sync("ns/web");
    assert.equal((h2.api.writes({ verb: "create" })[0]!.object as ReplicaSet).metadata?.name, `web-${computeHash(d.spec!.template, 1)}`);
  });

  void it("adopts an orphan ReplicaSet that matches the selector instead of creating one", async () => {
    const d = deployment("web", { replicas: 2 });
    const orphan = rsOf(d, { replicas: 2, available: 2, owned: false });
    const h = dharness([d], [orphan]);
    await h.syncer.sync("ns/web");
    assert.deepEqual(h.api.verbs({ resource: "replicasets" }), [`patch replicasets ns/${orphan.metadata!.name!}`]);
    assert.equal((h.api.writes({ verb: "patch", resource: "replicasets" })[0]!.patch as { metadata: { ownerReferences: { uid: string }[] } }).metadata.ownerReferences[0]!.uid, "web-uid");
  });
});

void describe("DeploymentSyncer: rolling update", () => {
  const strategy = { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } };

  void it("first step: surges one new pod and takes one old pod down", async () => {
    const d = deployment("web", { replicas: 4, image: "img:2", strategy, status: { observedGeneration: 1, replicas: 4, availableReplicas: 4 } });
    const old = rsOf(d, { replicas: 4, available: 4, image: "img:1" });
    const h = dharness([d], [old]);
    await h.syncer.sync("ns/web");
    const fresh = h.api.writes({ verb: "create" })[0]!.object as ReplicaSet;
    assert.equal(fresh.metadata?.annotations?.[REVISION_ANNOTATION], "2");
    assert.deepEqual(h.scaling(), [`Scaled up replica set ${fresh.metadata!.name!} from 0 to 1`, `Scaled down replica set ${old.metadata!.name!} from 4 to 3`]);
  });

  void it("keeps the total within replicas + surge while the new pods are not available", async () => {
    const d = deployment("web", { replicas: 4, image: "img:2", strategy });
    const old = rsOf(d, { replicas: 3, available: 3, image: "img:1", revision: 1 });
    const fresh = rsOf(d, { replicas: 2, available: 0, revision: 2, age: 10 });
    const h = dharness([d], [old, fresh]);
    await h.syncer.sync("ns/web");
    // 5 pods, 3 must stay available, 2 new ones unavailable: nothing may move.
    assert.deepEqual(h.scales(), []);
  });

  void it("scales old down as new pods become available, and new up as room appears", async () => {
    const d = deployment("web", { replicas: 4, image: "img:2", strategy });
    const old = rsOf(d, { replicas: 2, available: 2, image: "img:1", revision: 1 });
    const fresh = rsOf(d, { replicas: 3, available: 2, revision: 2, age: 10 });
    const h = dharness([d], [old, fresh]);
    await h.syncer.sync("ns/web");
    assert.deepEqual(h.scales(), [[old.metadata!.name!, 1]]);
    const old2 = rsOf(d, { replicas: 1, available: 1, image: "img:1", revision: 1 });
    const fresh2 = rsOf(d, { replicas: 3, available: 3, revision: 2, age: 10 });
    const h2 = dharness([d], [old2, fresh2]);
    await h2.syncer.sync("ns/web");
    assert.deepEqual(h2.scales(), [[fresh2.metadata!.name!, 4]], "the new ReplicaSet grows first");
  });

  void it("removes unhealthy old replicas first, oldest ReplicaSet first", async () => {
    const d = deployment("web", { replicas: 4, image: "img:3", strategy });
    const oldest = rsOf(d, { replicas: 2, available: 0, image: "img:1", revision: 1, age: 7200 });
    const older = rsOf(d, { replicas: 2, available: 2, image: "img:2", revision: 2, age: 3600 });
    const fresh = rsOf(d, { replicas: 1, available: 0, revision: 3, age: 10 });
    const h = dharness([d], [oldest, older, fresh]);
    await h.syncer.sync("ns/web");
    // 5 pods − 3 minimum − 1 unavailable new = 1 may go: the unhealthy one.
    assert.deepEqual(h.scales(), [[oldest.metadata!.name!, 1]]);
  });

  void it("uses percentages: 10 replicas at 25%/25% surge 3 and leave 8 available", async () => {
    const d = deployment("web", { replicas: 10, image: "img:2" });
    const old = rsOf(d, { replicas: 10, available: 10, image: "img:1" });
    const h = dharness([d], [old]);
    await h.syncer.sync("ns/web");
    const fresh = h.api.writes({ verb: "create" })[0]!.object as ReplicaSet;
    assert.equal(fresh.spec?.replicas, 3);
    assert.deepEqual(h.scales(), [[old.metadata!.name!, 8]]);
  });

  void it("restarting (a template annotation) starts a new ReplicaSet", async () => {
    const d = deployment("web", { replicas: 2, templateAnnotations: { "kubectl.kubernetes.io/restartedAt": "2024-01-01T00:00:00Z" } });
    const old = rsOf(d, { replicas: 2, available: 2, templateAnnotations: {} });
    const h = dharness([d], [old]);
    await h.syncer.sync("ns/web");
    assert.equal(h.api.writes({ verb: "create" }).length, 1);
    assert.notEqual(h.api.writes({ verb: "create" })[0]!.name, old.metadata!.name);
  });

  void it("on completion cleans up revisions beyond revisionHistoryLimit, oldest first, only empty ones", async () => {
    const d = deployment("web", { replicas: 2, image: "img:5", revisionHistoryLimit: 2, status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2, readyReplicas: 2 } });
    const olds = [1, 2, 3, 4].map((r) => rsOf(d, { replicas: 0, image: `img:${r}`, revision: r, age: 10_000 - r }));
    olds[1]!.status!.replicas = 1;
    const fresh = rsOf(d, { replicas: 2, available: 2, revision: 5, age: 10 });
    const h = dharness([d], [...olds, fresh]);
    await h.syncer.sync("ns/web");
    assert.deepEqual(h.api.verbs({ verb: "delete" }), [`delete replicasets ns/${olds[0]!.metadata!.name!}`], "revision 2 still reports a pod");
  });

  void it("reports a completed rollout as NewReplicaSetAvailable and Available", async () => {
    const d = deployment("web", { replicas: 2, status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, conditions: [progressing("ReplicaSetUpdated", "True", 30)] } });
    const fresh = rsOf(d, { replicas: 2, available: 2 });
    const h = dharness([d], [fresh]);
    await h.syncer.sync("ns/web");
    const st = h.lastStatus()!;
    assert.deepEqual(
      { replicas: st.replicas, updatedReplicas: st.updatedReplicas, readyReplicas: st.readyReplicas, availableReplicas: st.availableReplicas, unavailableReplicas: st.unavailableReplicas },
      { replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2, unavailableReplicas: undefined },
    );
    const byType = Object.fromEntries(st.conditions!.map((c) => [c.type, c]));
    assert.equal(byType["Progressing"]?.reason, "NewReplicaSetAvailable");
    assert.equal(byType["Progressing"]?.message, `ReplicaSet "${fresh.metadata!.name!}" has successfully progressed.`);
    assert.equal(byType["Progressing"]?.lastTransitionTime, progressing("x", "True", 30).lastTransitionTime, "still True: the transition time stays");
    assert.equal(byType["Available"]?.reason, "MinimumReplicasAvailable");
  });
});

void describe("DeploymentSyncer: progress deadline", () => {
  void it("times out a rollout without progress for progressDeadlineSeconds", async () => {
    const d = deployment("web", { replicas: 2, progressDeadlineSeconds: 600, status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, conditions: [progressing("ReplicaSetUpdated", "True", 601)] } });
    const fresh = rsOf(d, { replicas: 2, available: 0 });
    const h = dharness([d], [fresh]);
    await h.syncer.sync("ns/web");
    const p = h.lastStatus()!.conditions!.find((c) => c.type === "Progressing")!;
    assert.deepEqual([p.status, p.reason, p.message], ["False", "ProgressDeadlineExceeded", `ReplicaSet "${fresh.metadata!.name!}" has timed out progressing.`]);
  });

  void it("asks to be looked at again when the deadline would pass", async () => {
    const d = deployment("web", { replicas: 2, progressDeadlineSeconds: 600, annotations: { [REVISION_ANNOTATION]: "1" }, status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, unavailableReplicas: 2, conditions: [progressing("ReplicaSetUpdated", "True", 100), { type: "Available", status: "False", reason: "MinimumReplicasUnavailable", message: "Deployment does not have minimum availability.", lastUpdateTime: "2023-12-31T23:00:00Z", lastTransitionTime: "2023-12-31T23:00:00Z" }] } });
    const fresh = rsOf(d, { replicas: 2, available: 0 });
    const h = dharness([d], [fresh]);
    await h.syncer.sync("ns/web");
    assert.deepEqual(h.api.verbs(), [], "nothing changed");
    assert.deepEqual(h.after, [["ns/web", 501_000]]);
  });

  void it("counts new ready pods as progress and refreshes lastUpdateTime", async () => {
    const d = deployment("web", { replicas: 2, status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, conditions: [progressing("ReplicaSetUpdated", "True", 500)] } });
    const fresh = rsOf(d, { replicas: 2, available: 1 });
    const h = dharness([d], [fresh]);
    await h.syncer.sync("ns/web");
    const p = h.lastStatus()!.conditions!.find((c) => c.type === "Progressing")!;
    assert.equal(p.lastUpdateTime, "2024-01-01T00:00:00Z");
    assert.equal(p.lastTransitionTime, progressing("x", "True", 500).lastTransitionTime);
  });

  void it("drops Progressing without a deadline and carries the new ReplicaSet's ReplicaFailure", async () => {
    const d = deployment("web", { replicas: 2, progressDeadlineSeconds: null, status: { conditions: [progressing("ReplicaSetUpdated", "True", 5)] } });
    const fresh = rsOf(d, { replicas: 2, actual: 0, conditions: [{ type: "ReplicaFailure", status: "True", reason: "FailedCreate", message: "pods is forbidden", lastTransitionTime: "2024-01-01T00:00:00Z" }] });
    const h = dharness([d], [fresh]);
    await h.syncer.sync("ns/web");
    const types = h.lastStatus()!.conditions!.map((c) => `${c.type}/${c.reason}`);
    assert.deepEqual(types, ["Available/MinimumReplicasUnavailable", "ReplicaFailure/FailedCreate"]);
  });
});

void describe("DeploymentSyncer: recreate", () => {
  const strategy = { type: "Recreate" };

  void it("scales the old ReplicaSets to 0 first and creates nothing yet", async () => {
    const d = deployment("web", { replicas: 3, image: "img:2", strategy });
    const old = rsOf(d, { replicas: 3, available: 3, image: "img:1" });
    const h = dharness([d], [old]);
    await h.syncer.sync("ns/web");
    assert.deepEqual(h.scales(), [[old.metadata!.name!, 0]]);
    assert.deepEqual(h.api.writes({ verb: "create" }), []);
  });

  void it("waits while old pods still run, then creates the new ReplicaSet at full size", async () => {
    const d = deployment("web", { replicas: 3, image: "img:2", strategy });
    const old = rsOf(d, { replicas: 0, actual: 0, image: "img:1" });
    const running: Pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "ns", uid: "p", labels: { ...old.spec!.template!.metadata!.labels }, ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: old.metadata!.name!, uid: old.metadata!.uid!, controller: true }] }, spec: { containers: [] }, status: { phase: "Running" } } as Pod;
    const h = dharness([d], [old], [running]);
    await h.syncer.sync("ns/web");
    assert.deepEqual(h.api.writes({ verb: "create" }), []);
    const done: Pod = { ...running, status: { phase: "Succeeded" } };
    const h2 = dharness([d], [old], [done]);
    await h2.syncer.sync("ns/web");
    const created = h2.api.writes({ verb: "create" })[0]!.object as ReplicaSet;
    assert.equal(created.spec?.replicas, 3);
    assert.deepEqual(h2.scaling(), [`Scaled up replica set ${created.metadata!.name!} from 0 to 3`]);
  });
});

void describe("DeploymentSyncer: rollback", () => {
  void it("reuses the old ReplicaSet with the template and gives it revision max+1, keeping its history", async () => {
    const d = deployment("web", { replicas: 2, image: "img:1" });
    const v1 = rsOf(d, { replicas: 0, image: "img:1", revision: 1, age: 7200 });
    const v2 = rsOf(d, { replicas: 2, available: 2, image: "img:2", revision: 2, age: 3600 });
    const h = dharness([d], [v1, v2]);
    await h.syncer.sync("ns/web");
    assert.deepEqual(h.api.writes({ verb: "create" }), []);
    const upd = h.api.writes({ verb: "update", resource: "replicasets" });
    assert.equal(upd[0]!.name, v1.metadata!.name);
    const ann = (upd[0]!.object as ReplicaSet).metadata!.annotations!;
    assert.equal(ann[REVISION_ANNOTATION], "3");
    assert.equal(ann["deployment.kubernetes.io/revision-history"], "1");
    // The next sync (the cache now has revision 3) scales it up.
    const v1b = rsOf(d, { replicas: 0, image: "img:1", revision: 3, age: 7200 });
    const h2 = dharness([d], [v1b, v2]);
    await h2.syncer.sync("ns/web");
    assert.deepEqual(h2.scaling(), [`Scaled up replica set ${v1.metadata!.name!} from 0 to 1`], "one step: surge first");
    assert.deepEqual(h2.api.writes({ verb: "patch" }).map((p) => (p.patch as { metadata: { annotations: Record<string, string> } }).metadata.annotations), [{ [REVISION_ANNOTATION]: "3" }]);
  });

  void it("honours the deprecated rollback annotation by copying the revision's template", async () => {
    const d = deployment("web", { replicas: 2, image: "img:2", annotations: { "deprecated.deployment.rollback.to": "0" } });
    const v1 = rsOf(d, { replicas: 0, image: "img:1", revision: 1, age: 7200, annotations: { [CHANGE_CAUSE_ANNOTATION]: "v1" } });
    const v2 = rsOf(d, { replicas: 2, available: 2, image: "img:2", revision: 2, age: 3600 });
    const h = dharness([d], [v1, v2]);
    await h.syncer.sync("ns/web");
    const upd = h.api.writes({ verb: "update", resource: "deployments" })[0]!.object as Deployment;
    assert.equal(upd.spec?.template.spec?.containers[0]?.image, "img:1");
    assert.equal(upd.spec?.template.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL], undefined);
    assert.equal(upd.metadata?.annotations?.["deprecated.deployment.rollback.to"], undefined);
    assert.equal(upd.metadata?.annotations?.[CHANGE_CAUSE_ANNOTATION], "v1");
    assert.ok(h.events.lines().includes('Normal DeploymentRollback Rolled back deployment "web" to revision 1'));
  });
});

void describe("DeploymentSyncer: pause, resume and scaling", () => {
  void it("while paused: no new ReplicaSet, Progressing Unknown/DeploymentPaused, but scaling works", async () => {
    const d = deployment("web", { replicas: 5, image: "img:2", paused: true });
    const old = rsOf(d, { replicas: 3, available: 3, image: "img:1", desired: 3 });
    const h = dharness([d], [old]);
    await h.syncer.sync("ns/web");
    assert.deepEqual(h.api.writes({ verb: "create" }), []);
    assert.deepEqual(h.scales(), [[old.metadata!.name!, 5]]);
    const st = h.api.writes({ verb: "updateStatus" })[0]!.object as Deployment;
    assert.deepEqual(st.status?.conditions?.map((c) => [c.type, c.status, c.reason]), [["Progressing", "Unknown", "DeploymentPaused"]]);
  });

  void it("on resume: Progressing Unknown/DeploymentResumed, then the rollout goes on", async () => {
    const d = deployment("web", { replicas: 3, image: "img:2", status: { conditions: [progressing("DeploymentPaused", "Unknown", 100)] } });
    const old = rsOf(d, { replicas: 3, available: 3, image: "img:1" });
    const h = dharness([d], [old]);
    await h.syncer.sync("ns/web");
    const first = h.api.writes({ verb: "updateStatus" })[0]!.object as Deployment;
    assert.equal(first.status?.conditions?.find((c) => c.type === "Progressing")?.reason, "DeploymentResumed");
    assert.equal(h.api.writes({ verb: "create" }).length, 1);
  });

  void it("resizes a rollout in progress proportionally (largest first, leftovers to it)", async () => {
    const strategy = { type: "RollingUpdate", rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } };
    const d = deployment("web", { replicas: 15, image: "img:2", strategy, status: { replicas: 13 } });
    const old = rsOf(d, { replicas: 8, available: 8, image: "img:1", desired: 10, max: 13, revision: 1 });
    const fresh = rsOf(d, { replicas: 5, available: 0, desired: 10, max: 13, revision: 2, age: 10 });
    const h = dharness([d], [old, fresh]);
    await h.syncer.sync("ns/web");
    assert.deepEqual(h.scales(), [
      [old.metadata!.name!, 11],
      [fresh.metadata!.name!, 7],
    ]);
    assert.deepEqual(h.scaling(), [`Scaled up replica set ${old.metadata!.name!} from 8 to 11`, `Scaled up replica set ${fresh.metadata!.name!} from 5 to 7`]);
    for (const [, rs] of h.api.writes({ verb: "update" }).entries()) assert.equal((rs.object as ReplicaSet).metadata?.annotations?.["deployment.kubernetes.io/desired-replicas"], "15");
  });

  void it("a deleting Deployment only gets its status", async () => {
    const d = deployment("web", { replicas: 3, image: "img:2" });
    (d.metadata as { deletionTimestamp?: string }).deletionTimestamp = "2024-01-01T00:00:00Z";
    const old = rsOf(d, { replicas: 3, available: 3, image: "img:1" });
    const h = dharness([d], [old]);
    await h.syncer.sync("ns/web");
    assert.deepEqual(h.api.verbs(), ["updateStatus deployments/status ns/web"]);
  });

  void it("a vanished Deployment is done", async () => {
    const h = dharness([]);
    await h.syncer.sync("ns/gone");
    assert.deepEqual(h.api.actions, []);
  });
});
