import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ControllerRevision } from "kubernetes-types/apps/v1.js";
import type { Pod } from "kubernetes-types/core/v1.js";
import { CONTROLLER_REVISION_HASH_LABEL } from "../history/history.js";
import { KEY, createdOn, daemonSet, deleted, harness, hashOf, lastStatus, node, pod, revisionOf } from "./testutil.js";

const OLD = "oldhash";

void describe("DaemonSetSyncer: which nodes get a pod", () => {
  void it("honours the node selector, required node affinity and taints, counting the daemon tolerations (a cordoned node still gets one)", async () => {
    const ds = daemonSet(
      {},
      {
        podSpec: {
          nodeSelector: { role: "agent" },
          affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In", values: ["a", "b"] }] }] } } },
          tolerations: [{ key: "dedicated", operator: "Equal", value: "infra", effect: "NoSchedule" }],
        },
      },
    );
    const agent = (zone: string): Record<string, string> => ({ role: "agent", zone });
    const nodes = [
      node("n1", { labels: agent("a") }),
      node("n2", { labels: { role: "other", zone: "a" } }),
      node("n3", { labels: agent("c") }),
      node("n4", { labels: agent("a"), spec: { taints: [{ key: "foo", value: "bar", effect: "NoSchedule" }] } }),
      node("n5", { labels: agent("b"), spec: { unschedulable: true, taints: [{ key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" }] } }),
      node("n6", { labels: agent("a"), spec: { taints: [{ key: "dedicated", value: "infra", effect: "NoSchedule" }] } }),
      node("n7", { labels: agent("a"), spec: { taints: [{ key: "node.kubernetes.io/not-ready", effect: "NoExecute" }] } }),
      node("n8", { labels: agent("a"), spec: { taints: [{ key: "x", effect: "NoExecute" }] } }),
    ];
    const h = harness(ds, { nodes });
    await h.syncer.sync(KEY);
    assert.deepEqual(createdOn(h.api), ["n1", "n5", "n6", "n7"]);
    assert.deepEqual(
      h.events.lines(),
      h.api.writes({ verb: "create", resource: "pods" }).map((a) => `Normal SuccessfulCreate Created pod: ${a.name}`),
    );
    assert.deepEqual(lastStatus(h.api), { currentNumberScheduled: 0, desiredNumberScheduled: 4, numberMisscheduled: 0, numberReady: 0, updatedNumberScheduled: 0, numberAvailable: 0, numberUnavailable: 4, observedGeneration: 1 });
  });
});

void describe("DaemonSetSyncer: the pods it creates", () => {
  void it("records the template as revision 1, then creates a pod pinned to its node by matchFields, with the daemon tolerations, the hash label and a controllerRef", async () => {
    const ds = daemonSet(
      {},
      {
        podSpec: {
          hostNetwork: true,
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] }] },
              preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { matchExpressions: [{ key: "ssd", operator: "Exists" }] } }],
            },
            podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: { app: "other" } } }] },
          },
          tolerations: [{ key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 }],
        },
      },
    );
    const hash = hashOf(ds);
    const h = harness(ds, { nodes: [node("n1", { labels: { zone: "a" } })] });
    await h.syncer.sync(KEY);
    const pname = h.api.writes({ verb: "create", resource: "pods" })[0]?.name ?? "";
    assert.match(pname, /^agent-[a-z0-9]{5}$/);
    assert.deepEqual(h.api.verbs(), [`create controllerrevisions ns/agent-${hash}`, `create pods ns/${pname}`, "updateStatus daemonsets/status ns/agent"]);
    const rev = h.api.writes({ resource: "controllerrevisions" })[0]!.object as ControllerRevision;
    assert.equal(rev.revision, 1);
    assert.deepEqual(rev.metadata?.labels, { app: "agent", [CONTROLLER_REVISION_HASH_LABEL]: hash });
    assert.deepEqual(rev.metadata?.ownerReferences, [{ apiVersion: "apps/v1", kind: "DaemonSet", name: "agent", uid: "ds-uid", controller: true, blockOwnerDeletion: true }]);
    const data = rev.data as { spec: { template: Record<string, unknown> } };
    assert.deepEqual(Object.keys(data), ["spec"]);
    assert.equal(data.spec.template["$patch"], "replace");
    assert.deepEqual(data.spec.template["spec"], ds.spec?.template.spec);

    const p = h.api.writes({ verb: "create", resource: "pods" })[0]!.object as Pod;
    assert.equal(p.metadata?.generateName, "agent-");
    assert.deepEqual(p.metadata?.labels, { app: "agent", [CONTROLLER_REVISION_HASH_LABEL]: hash });
    assert.deepEqual(p.metadata?.ownerReferences, [{ apiVersion: "apps/v1", kind: "DaemonSet", name: "agent", uid: "ds-uid", controller: true, blockOwnerDeletion: true }]);
    assert.equal(p.spec?.nodeName, undefined, "the scheduler binds it");
    assert.deepEqual(p.spec?.affinity, {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: ["n1"] }] }] },
        preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { matchExpressions: [{ key: "ssd", operator: "Exists" }] } }],
      },
      podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: { app: "other" } } }] },
    });
    assert.deepEqual(p.spec?.tolerations, [
      { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" },
      { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" },
      { key: "node.kubernetes.io/disk-pressure", operator: "Exists", effect: "NoSchedule" },
      { key: "node.kubernetes.io/memory-pressure", operator: "Exists", effect: "NoSchedule" },
      { key: "node.kubernetes.io/pid-pressure", operator: "Exists", effect: "NoSchedule" },
      { key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" },
      { key: "node.kubernetes.io/network-unavailable", operator: "Exists", effect: "NoSchedule" },
    ]);
    assert.deepEqual(h.expectations.pending(KEY), { adds: 1, dels: 0 }, "waits to see its create");
  });

  void it("stops after the first failed batch and reports FailedCreate", async () => {
    const ds = daemonSet();
    const h = harness(ds, { nodes: ["n1", "n2", "n3", "n4"].map((n) => node(n)), revisions: [revisionOf(ds)] });
    h.api.failOn({ verb: "create", resource: "pods" }, new Error("quota exceeded"));
    await assert.rejects(h.syncer.sync(KEY), /quota exceeded/);
    assert.equal(h.api.writes({ verb: "create", resource: "pods" }).length, 1, "slow start: one create, not four");
    assert.deepEqual(h.events.lines(), ["Warning FailedCreate Error creating: quota exceeded"]);
    assert.ok(h.expectations.satisfied(KEY), "failed and skipped creates are not waited for");
  });
});

void describe("DaemonSetSyncer: pods that must go", () => {
  void it("deletes pods on nodes that may not run one, duplicates (keeping the oldest), and unbound pods aimed at nodes that are gone", async () => {
    const ds = daemonSet();
    const hash = hashOf(ds);
    const nodes = [node("n1"), node("n2", { spec: { taints: [{ key: "x", effect: "NoExecute" }] } }), node("n3", { spec: { taints: [{ key: "x", effect: "NoSchedule" }] } })];
    const pods = [pod("a-old", "n1", { hash, age: 7_200_000 }), pod("a-new", "n1", { hash }), pod("b", "n2", { hash }), pod("c", "n3", { hash }), pod("d", "gone", { hash, unbound: true })];
    const h = harness(ds, { nodes, pods, revisions: [revisionOf(ds)] });
    await h.syncer.sync(KEY);
    assert.deepEqual(deleted(h.api), ["a-new", "b", "d"], "n3's NoSchedule taint keeps a running pod");
    assert.deepEqual(createdOn(h.api), []);
    assert.deepEqual(h.events.lines().sort(), ["Normal SuccessfulDelete Deleted pod: a-new", "Normal SuccessfulDelete Deleted pod: b", "Normal SuccessfulDelete Deleted pod: d"]);
    const s = lastStatus(h.api);
    assert.equal(s?.desiredNumberScheduled, 1);
    assert.equal(s?.numberMisscheduled, 2, "n2 and n3 hold pods they should not get");
  });

  void it("deletes a failed pod with a FailedDaemonPod event, and backs off before deleting the next one on that node", async () => {
    const ds = daemonSet();
    const hash = hashOf(ds);
    const h = harness(ds, { nodes: [node("n1")], pods: [pod("f", "n1", { hash, phase: "Failed", ready: false })], revisions: [revisionOf(ds)] });
    await h.syncer.sync(KEY);
    assert.deepEqual(deleted(h.api), ["f"]);
    assert.deepEqual(createdOn(h.api), [], "the replacement comes once the deletion is seen");
    assert.deepEqual(h.events.lines(), ["Warning FailedDaemonPod Found failed daemon pod ns/f on node n1, will try to kill it", "Normal SuccessfulDelete Deleted pod: f"]);

    // The kubelet fails the replacement at once: the cache shows a failed pod again.
    h.expectations.delete(KEY);
    h.api.clear();
    h.events.clear();
    await h.syncer.sync(KEY);
    assert.deepEqual(deleted(h.api), [], "within the 1 s backoff");
    assert.deepEqual(h.after, [[KEY, 1000]]);

    h.clock.step(1000);
    await h.syncer.sync(KEY);
    assert.deepEqual(deleted(h.api), ["f"]);
    assert.equal(h.backoff.delay(`ds-uid/0/n1`), 2000, "the next wait doubles");
  });
});

void describe("DaemonSetSyncer: history", () => {
  void it("records a changed template as a new revision with a new hash and the next number", async () => {
    const old = daemonSet();
    const ds = daemonSet({}, { image: "agent:2", generation: 2 });
    const h = harness(ds, { nodes: [node("n1")], pods: [pod("p", "n1", { hash: hashOf(old) })], revisions: [revisionOf(old, 1)] });
    await h.syncer.sync(KEY);
    assert.notEqual(hashOf(ds), hashOf(old));
    const created = h.api.writes({ verb: "create", resource: "controllerrevisions" }).map((a) => a.object as ControllerRevision);
    assert.deepEqual(
      created.map((r) => [r.metadata?.name, r.revision]),
      [[`agent-${hashOf(ds)}`, 2]],
    );
    assert.deepEqual(deleted(h.api), ["p"], "the old pod is rolled");
  });

  void it("makes a template that returns to an old revision the newest revision again", async () => {
    const v1 = daemonSet();
    const v2 = daemonSet({}, { image: "agent:2" });
    const h = harness(v1, { nodes: [], revisions: [revisionOf(v1, 1), revisionOf(v2, 2)] });
    await h.syncer.sync(KEY);
    const w = h.api.writes({ resource: "controllerrevisions" });
    assert.deepEqual(
      w.map((a) => [a.verb, a.name, (a.object as ControllerRevision).revision]),
      [["update", `agent-${hashOf(v1)}`, 3]],
    );
  });

  void it("deletes the oldest revisions beyond revisionHistoryLimit, never the current one or one a pod still runs", async () => {
    const versions = [1, 2, 3, 4].map((i) => daemonSet({ revisionHistoryLimit: 1 }, { image: `agent:${i}` }));
    const ds = versions[3]!;
    const revisions = versions.map((v, i) => revisionOf(v, i + 1));
    const h = harness(ds, { nodes: [node("n1"), node("n2")], pods: [pod("p1", "n1", { hash: hashOf(versions[0]!) }), pod("p2", "n2", { hash: hashOf(ds) })], revisions });
    await h.syncer.sync(KEY);
    assert.deepEqual(
      h.api.writes({ verb: "delete", resource: "controllerrevisions" }).map((a) => a.name),
      [`agent-${hashOf(versions[1]!)}`, `agent-${hashOf(versions[2]!)}`],
    );
  });
});

void describe("DaemonSetSyncer: RollingUpdate", () => {
  const threeNodes = (o: { notReady?: string } = {}) => ({
    nodes: [node("n1"), node("n2"), node("n3")],
    pods: ["n1", "n2", "n3"].map((n) => pod(`p-${n}`, n, { hash: OLD, ready: o.notReady !== n })),
  });

  void it("deletes as many available old pods as maxUnavailable allows", async () => {
    const ds = daemonSet();
    const h = harness(ds, { ...threeNodes(), revisions: [revisionOf(ds)] });
    await h.syncer.sync(KEY);
    assert.deepEqual(deleted(h.api), ["p-n1"]);
    assert.deepEqual(createdOn(h.api), [], "manage creates the replacement once the deletion is seen");
  });

  void it("scales a percentage maxUnavailable by the desired number, rounding up", async () => {
    const ds = daemonSet({ updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "50%", maxSurge: 0 } } });
    const h = harness(ds, { ...threeNodes(), revisions: [revisionOf(ds)] });
    await h.syncer.sync(KEY);
    assert.deepEqual(deleted(h.api), ["p-n1", "p-n2"], "50% of 3 is 2");
  });

  void it("replaces an unavailable old pod first, and it uses up the budget", async () => {
    const ds = daemonSet();
    const h = harness(ds, { ...threeNodes({ notReady: "n3" }), revisions: [revisionOf(ds)] });
    await h.syncer.sync(KEY);
    assert.deepEqual(deleted(h.api), ["p-n3"]);
  });

  void it("with maxSurge starts a new pod beside an old one, on at most maxSurge nodes", async () => {
    const ds = daemonSet({ updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } });
    const h = harness(ds, { ...threeNodes(), revisions: [revisionOf(ds)] });
    await h.syncer.sync(KEY);
    assert.deepEqual(createdOn(h.api), ["n1"]);
    assert.deepEqual(deleted(h.api), []);
    const created = h.api.writes({ verb: "create", resource: "pods" })[0]!.object as Pod;
    assert.equal(created.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL], hashOf(ds));
  });

  void it("with maxSurge deletes the old pod once the new one is available, and waits while it is not", async () => {
    const ds = daemonSet({ minReadySeconds: 30, updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } });
    const hash = hashOf(ds);
    const base = threeNodes();
    const ready = harness(ds, { nodes: base.nodes, pods: [...base.pods, pod("new-n1", "n1", { hash, age: 60_000, readyAgo: 40_000 })], revisions: [revisionOf(ds)] });
    await ready.syncer.sync(KEY);
    assert.deepEqual(deleted(ready.api), ["p-n1"]);
    assert.deepEqual(createdOn(ready.api), []);

    const waiting = harness(ds, { nodes: base.nodes, pods: [...base.pods, pod("new-n1", "n1", { hash, age: 60_000, readyAgo: 10_000 })], revisions: [revisionOf(ds)] });
    await waiting.syncer.sync(KEY);
    assert.deepEqual(deleted(waiting.api), [], "ready for 10 s of the 30 s minReadySeconds");
    assert.deepEqual(createdOn(waiting.api), [], "the one surge slot is taken");
  });

  void it("with OnDelete replaces nothing, and a node without a pod gets the new template", async () => {
    const ds = daemonSet({ updateStrategy: { type: "OnDelete" } });
    const h = harness(ds, { nodes: [node("n1"), node("n2")], pods: [pod("p-n1", "n1", { hash: OLD })], revisions: [revisionOf(ds)] });
    await h.syncer.sync(KEY);
    assert.deepEqual(deleted(h.api), []);
    assert.deepEqual(createdOn(h.api), ["n2"]);
    assert.equal((h.api.writes({ verb: "create", resource: "pods" })[0]!.object as Pod).metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL], hashOf(ds));
  });
});

void describe("DaemonSetSyncer: status", () => {
  void it("counts the oldest pod of each node: ready, available after minReadySeconds, updated; raises observedGeneration", async () => {
    const ds = daemonSet({ minReadySeconds: 60, updateStrategy: { type: "OnDelete" } }, { generation: 2, status: { currentNumberScheduled: 3, desiredNumberScheduled: 3, numberMisscheduled: 0, numberReady: 0, observedGeneration: 1, collisionCount: 1 } });
    const hash = hashOf(ds);
    const pods = [pod("p1", "n1", { hash }), pod("p2", "n2", { hash, readyAgo: 10_000 }), pod("p3", "n3", { hash: OLD, ready: false })];
    const h = harness(ds, { nodes: [node("n1"), node("n2"), node("n3"), node("n4", { labels: {}, spec: { taints: [{ key: "x", effect: "NoSchedule" }] } })], pods, revisions: [revisionOf(ds)] });
    await h.syncer.sync(KEY);
    assert.deepEqual(h.api.verbs(), ["updateStatus daemonsets/status ns/agent"]);
    assert.deepEqual(lastStatus(h.api), {
      currentNumberScheduled: 3,
      desiredNumberScheduled: 3,
      numberMisscheduled: 0,
      numberReady: 2,
      updatedNumberScheduled: 2,
      numberAvailable: 1,
      numberUnavailable: 2,
      observedGeneration: 2,
      collisionCount: 1,
    });
    assert.deepEqual(h.after, [[KEY, 60_000]], "looks again when the ready pod may be available");
  });

  void it("writes nothing when the status already says it", async () => {
    const status = { currentNumberScheduled: 1, desiredNumberScheduled: 1, numberMisscheduled: 0, numberReady: 1, updatedNumberScheduled: 1, numberAvailable: 1, numberUnavailable: 0, observedGeneration: 1 };
    const ds = daemonSet({}, { status });
    const h = harness(ds, { nodes: [node("n1")], pods: [pod("p1", "n1", { hash: hashOf(ds) })], revisions: [revisionOf(ds)] });
    await h.syncer.sync(KEY);
    assert.deepEqual(h.api.verbs(), []);
  });

  void it("only writes the status, without raising observedGeneration, while its own writes are unobserved", async () => {
    const ds = daemonSet({}, { generation: 2 });
    const h = harness(ds, { nodes: [node("n1")], revisions: [revisionOf(ds)] });
    h.expectations.expectCreations(KEY, 1);
    await h.syncer.sync(KEY);
    assert.deepEqual(h.api.verbs(), ["updateStatus daemonsets/status ns/agent"]);
    assert.equal(lastStatus(h.api)?.observedGeneration, undefined);
    assert.equal(lastStatus(h.api)?.desiredNumberScheduled, 1);
  });
});
