import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Node } from "kubernetes-types/core/v1.js";
import { Lister, type Indexer } from "../../client/informer.js";
import { createLogger } from "../../util/log.js";
import { FakeApi, RecordingEventSink, apiError, cacheDelete, cachePut, seedIndexer } from "../testing/index.js";
import { NodeIpamController, NodeIpamError, type NodeIpamOptions } from "./controller.js";
import { compileNodeIpamOptions, type NodeIpamOptionsInput } from "./index.js";

const log = createLogger("silent");

function node(name: string, podCIDRs: string[] = []): Node {
  return { apiVersion: "v1", kind: "Node", metadata: { name, uid: `uid-${name}` }, spec: podCIDRs.length ? { podCIDR: podCIDRs[0], podCIDRs } : {} };
}

class World {
  readonly api = new FakeApi();
  readonly nodes: Indexer<Node> = seedIndexer<Node>();
  readonly events = new RecordingEventSink();
  readonly c: NodeIpamController;

  constructor(existing: Node[] = [], o: NodeIpamOptionsInput = {}) {
    for (const n of existing) this.add(n);
    const options: NodeIpamOptions = compileNodeIpamOptions(o);
    this.c = new NodeIpamController({ api: this.api, nodes: new Lister(this.nodes), events: this.events, log, options });
  }

  add(n: Node): void {
    this.api.seed("", "nodes", n);
    cachePut(this.nodes, n);
  }

  /** What the API holds now becomes what the cache holds, as the informer would deliver it. */
  observe(name: string): void {
    const n = this.api.object<Node>("", "nodes", "", name);
    if (n) cachePut(this.nodes, n);
  }

  remove(name: string): void {
    cacheDelete(this.nodes, node(name));
  }

  cidrsOf(name: string): string[] {
    return this.api.object<Node>("", "nodes", "", name)?.spec?.podCIDRs ?? [];
  }

  /** Allocates for a new node the way the informer + queue would: sync, then the update arrives. */
  async join(name: string): Promise<string[]> {
    this.add(node(name));
    await this.c.sync(name);
    this.observe(name);
    return this.cidrsOf(name);
  }
}

void describe("NodeIpamController", () => {
  void it("gives a new node the first free /24 of 10.42.0.0/16 as spec.podCIDR and podCIDRs, and the next node another", async () => {
    const w = new World();
    assert.deepEqual(await w.join("a"), ["10.42.0.0/24"]);
    const patch = w.api.writes({ verb: "patch" })[0]!;
    assert.equal(patch.patchType, "strategic");
    assert.deepEqual(patch.patch, { spec: { podCIDR: "10.42.0.0/24", podCIDRs: ["10.42.0.0/24"] } });
    assert.equal(w.api.object<Node>("", "nodes", "", "a")?.spec?.podCIDR, "10.42.0.0/24");
    assert.deepEqual(await w.join("b"), ["10.42.1.0/24"]);
    // Synced again once its CIDRs are in the cache: nothing more to write.
    w.api.clear();
    await w.c.sync("a");
    assert.deepEqual(w.api.actions, []);
  });

  void it("rebuilds the used set from existing nodes before the first allocation and keeps their CIDRs, also foreign ones", async () => {
    const w = new World([node("old-0", ["10.42.0.0/24"]), node("old-1", ["10.42.1.0/24"]), node("sim", ["10.128.0.0/24"])]);
    await w.c.sync("old-0");
    await w.c.sync("sim");
    assert.deepEqual(w.api.writes(), []);
    assert.deepEqual(await w.join("new"), ["10.42.2.0/24"]);
  });

  void it("releases a deleted node's block; an exhausted range records CIDRNotAvailable and is retried", async () => {
    const w = new World([], { clusterCIDR: "10.42.0.0/23" });
    assert.deepEqual(await w.join("a"), ["10.42.0.0/24"]);
    assert.deepEqual(await w.join("b"), ["10.42.1.0/24"]);
    w.add(node("c"));
    await assert.rejects(w.c.sync("c"), (e: unknown) => e instanceof NodeIpamError && e.code === "CIDRNotAvailable");
    assert.deepEqual(w.events.lines(), ["Normal CIDRNotAvailable Node c status is now: CIDRNotAvailable"]);
    assert.equal(w.events.events[0]!.kind, "Node");
    assert.equal(w.events.events[0]!.uid, "uid-c");
    w.remove("a");
    await w.c.sync("a");
    await w.c.sync("c");
    w.observe("c");
    assert.deepEqual(w.cidrsOf("c"), ["10.42.0.0/24"]);
  });

  void it("keeps the block it reserved when the patch fails and uses it on the retry", async () => {
    const w = new World();
    w.add(node("a"));
    w.api.failOn({ verb: "patch", resource: "nodes" }, apiError(500, "InternalError", "etcd is away"), { times: 1 });
    await assert.rejects(w.c.sync("a"), /etcd is away/);
    assert.deepEqual(w.events.lines(), ["Normal CIDRAssignmentFailed Node a status is now: CIDRAssignmentFailed"]);
    // Someone else asks meanwhile: the reserved block is not theirs.
    assert.deepEqual(await w.join("b"), ["10.42.1.0/24"]);
    await w.c.sync("a");
    w.observe("a");
    assert.deepEqual(w.cidrsOf("a"), ["10.42.0.0/24"]);
  });

  void it("frees the reservation when the node is deleted while the patch is in flight", async () => {
    const w = new World([], { clusterCIDR: "10.42.0.0/24" });
    w.add(node("a"));
    w.api.failOn({ verb: "patch", resource: "nodes" }, apiError(404, "NotFound", 'nodes "a" not found'), { times: 1 });
    await w.c.sync("a");
    w.remove("a");
    assert.deepEqual(await w.join("b"), ["10.42.0.0/24"]);
  });

  void it("moves what a node holds when its CIDRs are set by someone else", async () => {
    const w = new World([], { clusterCIDR: "10.42.0.0/23" });
    w.add(node("a"));
    w.api.failOn({ verb: "patch", resource: "nodes" }, apiError(500, "InternalError"), { times: 1 });
    await assert.rejects(w.c.sync("a"));
    // An administrator set the node's CIDR by hand: our reservation (10.42.0.0/24) is freed.
    w.add(node("a", ["10.42.1.0/24"]));
    await w.c.sync("a");
    assert.deepEqual(await w.join("b"), ["10.42.0.0/24"]);
  });

  void it("gives a dual-stack node one block per family, the first family as spec.podCIDR", async () => {
    const w = new World([], { clusterCIDR: "10.42.0.0/16,fd00:42::/56" });
    assert.deepEqual(await w.join("a"), ["10.42.0.0/24", "fd00:42::/64"]);
    assert.equal(w.api.object<Node>("", "nodes", "", "a")?.spec?.podCIDR, "10.42.0.0/24");
    assert.deepEqual(await w.join("b"), ["10.42.1.0/24", "fd00:42:0:1::/64"]);
  });

  void it("compiles kube-controller-manager's flags", () => {
    assert.deepEqual(compileNodeIpamOptions(), { clusterCIDRs: ["10.42.0.0/16"], nodeCIDRMaskSizeIPv4: 24, nodeCIDRMaskSizeIPv6: 64 });
    assert.equal(compileNodeIpamOptions({ clusterCIDR: "10.0.0.0/8", nodeCIDRMaskSize: 20 }).nodeCIDRMaskSizeIPv4, 20);
    assert.equal(compileNodeIpamOptions({ clusterCIDR: "fd00::/48", nodeCIDRMaskSize: 56 }).nodeCIDRMaskSizeIPv6, 56);
    const invalid = (i: NodeIpamOptionsInput, re: RegExp): void => assert.throws(() => compileNodeIpamOptions(i), (e: unknown) => e instanceof NodeIpamError && e.code === "InvalidOptions" && re.test(e.message));
    invalid({ clusterCIDR: "10.42.0.0" }, /invalid CIDR/);
    invalid({ clusterCIDR: "10.42.0.0/16,10.43.0.0/16" }, /one IPv4 and one IPv6/);
    invalid({ clusterCIDR: "10.42.0.0/16,fd00::/56", nodeCIDRMaskSize: 24 }, /single-stack/);
    invalid({ clusterCIDR: "10.0.0.0/8", nodeCIDRMaskSize: 26 }, /more than 2\^16/);
    invalid({ clusterCIDR: "10.42.0.0/16", nodeCIDRMaskSize: 12 }, /larger than the cluster CIDR/);
  });
});
