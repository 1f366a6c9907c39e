import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { makeClaim, makeNode, makePod, makeStorageClass, makeVolume } from "./fixtures.js";
import { explain, formatWhy } from "./why.js";

describe("why", () => {
  const nodes = [
    makeNode("node-1", { cpu: "4", labels: { disk: "ssd" } }),
    makeNode("node-2", { cpu: "4" }),
    makeNode("node-3", { cpu: "8", taints: [{ key: "gpu", value: "true", effect: "NoSchedule" }] }),
    makeNode("node-4", { cpu: "8", unschedulable: true }),
  ];
  const bound = [makePod("busy-1", { cpu: "3500m", nodeName: "node-1" }), makePod("busy-2", { cpu: "3500m", nodeName: "node-2" })];

  it("explains each node in plain words with what would make the pod fit", () => {
    const r = explain({ pod: makePod("web", { cpu: "2" }), nodes, pods: bound });
    assert.equal(r.state, "pending");
    assert.equal(r.summary, "pod default/web fits none of the 4 node(s)");
    assert.equal(r.schedulerMessage, "0/4 nodes are available: 1 node(s) had untolerated taint {gpu: true}, 1 node(s) were unschedulable, 2 Insufficient cpu.");
    const text = formatWhy(r);
    assert.match(text, /^ {2}node-2: needs 1500m more CPU than is free \(requests 2, allocatable 4, in use 3\.5\) — free CPU or add a node with ≥ 2 CPU$/m);
    assert.match(text, /^ {2}node-3: has taint gpu=true:NoSchedule the pod does not tolerate — add a toleration for gpu=true:NoSchedule$/m);
    assert.match(text, /^ {2}node-4: is cordoned \(spec\.unschedulable\) — uncordon it \(kubectl uncordon node-4\)/m);
  });

  it("says when the room is being made by preemption", () => {
    const r = explain({
      pod: makePod("vip", { cpu: "4", nominatedNodeName: "node-1", spec: { nodeSelector: { "kubernetes.io/hostname": "node-1" } } }),
      nodes,
      pods: [makePod("victim", { cpu: "3500m", nodeName: "node-1", deleting: true })],
    });
    assert.match(r.summary, /it preempted pods on node-1 \(status\.nominatedNodeName\) and is waiting for them to go/);
    const text = formatWhy(r);
    assert.match(text, /node-1: needs 3500m more CPU than is free \(requests 4, allocatable 4, in use 3\.5, 3\.5 of it held by pods being deleted\)/);
    assert.match(text, /node-2: is not node-1, the host the pod's nodeSelector pins it to \(kubernetes\.io\/hostname=node-1\) — change or remove the pod's nodeSelector/);
  });

  it("does not repeat the cordon as an untolerated unschedulable taint", () => {
    const cordoned = makeNode("c", { unschedulable: true, taints: [{ key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" }] });
    const r = explain({ pod: makePod("p"), nodes: [cordoned], pods: [] });
    assert.deepEqual(r.nodes[0]!.findings.map((f) => f.plugin), ["NodeUnschedulable"]);
  });

  it("names every failing rule of a node, not only the first", () => {
    const r = explain({ pod: makePod("web", { cpu: "16", spec: { nodeSelector: { disk: "nvme" } } }), nodes, pods: bound });
    const n3 = r.nodes.find((n) => n.node === "node-3")!;
    assert.deepEqual(n3.findings.map((f) => f.plugin), ["TaintToleration", "NodeAffinity", "NodeResourcesFit"]);
    assert.match(n3.findings[1]!.why, /lacks label disk=nvme required by the pod's nodeSelector/);
    assert.match(n3.findings[2]!.why, /requests 16 CPU but the node has only 8 allocatable/);
  });

  it("says which nodes fit when some do", () => {
    const r = explain({ pod: makePod("small", { cpu: "100m" }), nodes, pods: bound });
    assert.match(r.summary, /fits 2 of 4 node\(s\) now/);
    assert.deepEqual(r.nodes.filter((n) => n.fits).map((n) => n.node), ["node-1", "node-2"]);
  });

  it("explains anti-affinity and spread in terms of topology domains", () => {
    const zoned = [makeNode("a", { labels: { zone: "a" } }), makeNode("b", { labels: { zone: "b" } })];
    const pods = [makePod("w1", { labels: { app: "w" }, nodeName: "a" }), makePod("w2", { labels: { app: "w" }, nodeName: "a" })];
    const pod = makePod("w3", {
      labels: { app: "w" },
      spec: {
        affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: "w" } }, topologyKey: "zone" }] } },
        topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "zone", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: { app: "w" } } }],
      },
    });
    const r = explain({ pod, nodes: zoned, pods });
    const a = r.nodes.find((n) => n.node === "a")!;
    assert.ok(a.findings.some((f) => /would make the skew 3 \(the emptiest domain has 0\), above maxSkew 1/.test(f.why)), JSON.stringify(a.findings));
    assert.ok(a.findings.some((f) => /already runs a pod the pod's anti-affinity excludes in its domain \(zone=a\)/.test(f.why)));
    assert.ok(r.nodes.find((n) => n.node === "b")!.fits);
  });

  it("has nothing to explain for bound, gated or foreign pods", () => {
    assert.equal(explain({ pod: makePod("p", { nodeName: "node-1" }), nodes, pods: [] }).state, "scheduled");
    assert.equal(explain({ pod: makePod("p", { spec: { schedulingGates: [{ name: "g" }] } }), nodes, pods: [] }).state, "gated");
    assert.equal(explain({ pod: makePod("p", { spec: { schedulerName: "other" } }), nodes, pods: [] }).state, "other-scheduler");
  });

  it("cuts long node lists and tallies the rest", () => {
    const many = Array.from({ length: 60 }, (_, i) => makeNode(`n${i}`, { cpu: "1" }));
    const text = formatWhy(explain({ pod: makePod("big", { cpu: "2" }), nodes: many, pods: [] }), 10);
    assert.match(text, /\.\.\. and 50 more node\(s\): 50 Insufficient cpu$/m);
  });

  describe("volumes", () => {
    const two = [makeNode("node-1"), makeNode("node-2")];
    const classes = [makeStorageClass("wffc"), makeStorageClass("local", { provisioner: "kubernetes.io/no-provisioner" }), makeStorageClass("immediate", { mode: "Immediate" })];
    const withClaim = (claim: string) => makePod("web-0", { spec: { volumes: [{ name: "data", persistentVolumeClaim: { claimName: claim } }] } });

    it("a missing claim", () => {
      const r = explain({ pod: withClaim("data-web-0"), nodes: two, pods: [], claims: [], storageClasses: classes });
      assert.equal(r.schedulerMessage, '0/2 nodes are available: persistentvolumeclaim "data-web-0" not found.');
      assert.match(formatWhy(r), /every node: its claim data-web-0 does not exist — create the PersistentVolumeClaim data-web-0 in namespace default/);
    });

    it("an unbound claim of a class that binds immediately", () => {
      const r = explain({ pod: withClaim("data-web-0"), nodes: two, pods: [], claims: [makeClaim("data-web-0", { storageClassName: "immediate" })], storageClasses: classes });
      assert.equal(r.podLevel?.reason, "pod has unbound immediate PersistentVolumeClaims");
      assert.equal(r.podLevel?.why, "its claim data-web-0 is not bound and its class immediate binds immediately");
      assert.equal(r.podLevel?.fix, "create a matching PersistentVolume (the PV controller binds it), or use a class that provisions");
      const missing = explain({ pod: withClaim("data-web-0"), nodes: two, pods: [], claims: [makeClaim("data-web-0", { storageClassName: "gold" })], storageClasses: classes });
      assert.equal(missing.podLevel?.why, "its claim data-web-0 names StorageClass gold, which does not exist");
    });

    it("a bound volume that only one node can mount", () => {
      const r = explain({
        pod: withClaim("data"),
        nodes: two,
        pods: [],
        claims: [makeClaim("data", { boundTo: "pv-x" })],
        volumes: [makeVolume("pv-x", { hosts: ["node-1"], claimRef: { namespace: "default", name: "data" } })],
        storageClasses: classes,
      });
      assert.deepEqual(r.nodes.map((n) => n.fits), [true, false]);
      assert.equal(r.nodes[1]!.findings[0]!.reason, "node(s) had volume node affinity conflict");
      assert.equal(r.nodes[1]!.findings[0]!.why, "the volume pv-x it uses (claim data) can only be mounted on nodes matching kubernetes.io/hostname In [node-1]");
    });

    it("no volume to bind and a class that does not provision", () => {
      const r = explain({ pod: withClaim("data"), nodes: two, pods: [], claims: [makeClaim("data", { storageClassName: "local", storage: "5Gi" })], volumes: [makeVolume("small", { storageClassName: "local" })], storageClasses: classes });
      assert.equal(r.schedulerMessage, "0/2 nodes are available: 2 node(s) didn't find available persistent volumes to bind.");
      assert.match(formatWhy(r), /node-1: no available PersistentVolume of class local fits its claim data here, and class local does not provision \(kubernetes\.io\/no-provisioner\) — create a PersistentVolume of class local with at least 5Gi/);
    });

    it("a ReadWriteOncePod claim another pod holds", () => {
      const solo = makeClaim("solo", { accessModes: ["ReadWriteOncePod"], boundTo: "pv-solo" });
      const pv = makeVolume("pv-solo", { accessModes: ["ReadWriteOncePod"], claimRef: { namespace: "default", name: "solo" } });
      const holder = makePod("holder", { nodeName: "node-1", spec: { volumes: [{ name: "d", persistentVolumeClaim: { claimName: "solo" } }] } });
      const r = explain({ pod: withClaim("solo"), nodes: two, pods: [holder], claims: [solo], volumes: [pv], storageClasses: classes });
      assert.equal(r.schedulerMessage, "0/2 nodes are available: 2 node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode.");
      assert.match(formatWhy(r), /node-2: its claim solo is ReadWriteOncePod and pod holder \(on node-1\) already uses it — delete pod holder/);
    });

    it("a claim waiting for its provisioner", () => {
      const r = explain({ pod: withClaim("data"), nodes: two, pods: [], claims: [makeClaim("data", { annotations: { "volume.kubernetes.io/selected-node": "node-2" } })], storageClasses: classes });
      assert.match(r.summary, /waits for its claim\(s\) to be provisioned and bound: data on node node-2/);
      assert.match(formatWhy(r), /node-1: its claim data is already being provisioned on node node-2/);
    });
  });
});
