// The node IPAM controller (upstream pkg/controller/nodeipam, its range allocator): every Node
// gets spec.podCIDR/podCIDRs, one block per cluster CIDR (one per IP family), from which its
// kubelet's CNI plugin hands out pod addresses. No two nodes get the same block; a node that
// already has CIDRs (set by an earlier run, by the node's own --pod-cidr, by a simulator) keeps
// them and its blocks count as used, also when they were never ours. The used set lives only
// in memory: it is rebuilt from the node cache before the first allocation, and a block is free
// again once its node is gone from the cache.
//
// Keys are node names. sync compares the cache with what the controller believes each node
// holds (`held`) and fixes the difference, so a missed event or a restart changes nothing.
import type { Node } from "kubernetes-types/core/v1.js";
import { runController, type ControllerMetrics } from "../../client/controller.js";
import { isNotFound } from "../../client/errors.js";
import type { Lister } from "../../client/informer.js";
import { DeletedFinalStateUnknown, type DeepReadonly, type KubeObject } from "../../client/objects.js";
import { WorkQueue } from "../../client/workqueue.js";
import type { Logger } from "../../util/log.js";
import type { Api } from "../api.js";
import type { EventSink } from "../context.js";
import { CidrError, CidrSet, parseCIDR } from "./cidr.js";
import { CodedError } from "../../util/errors.js";

export const NODE_IPAM_CONTROLLER = "node-ipam-controller";

export interface NodeIpamOptions {
  /** --cluster-cidr, split at commas: at most one CIDR per IP family. Default ["10.42.0.0/16"] (k3s's). */
  readonly clusterCIDRs: readonly string[];
  /** --node-cidr-mask-size-ipv4 (or --node-cidr-mask-size for an IPv4-only cluster); default 24. */
  readonly nodeCIDRMaskSizeIPv4: number;
  /** --node-cidr-mask-size-ipv6 (or --node-cidr-mask-size for an IPv6-only cluster); default 64. */
  readonly nodeCIDRMaskSizeIPv6: number;
}

export const DEFAULT_NODE_IPAM_OPTIONS: NodeIpamOptions = Object.freeze({ clusterCIDRs: Object.freeze(["10.42.0.0/16"]), nodeCIDRMaskSizeIPv4: 24, nodeCIDRMaskSizeIPv6: 64 });

export type NodeIpamErrorCode = "InvalidOptions" | "CIDRNotAvailable";

export class NodeIpamError extends CodedError<NodeIpamErrorCode> {
  override readonly name = "NodeIpamError";
}

export interface NodeIpamDeps {
  readonly api: Api;
  readonly nodes: Lister<Node>;
  readonly events: EventSink;
  readonly log: Logger;
  readonly options: NodeIpamOptions;
  readonly metrics?: ControllerMetrics;
}

/** The node's CIDRs as the API has them (podCIDRs, or the older single podCIDR). */
export function podCIDRsOf(node: DeepReadonly<Node>): readonly string[] {
  const list = node.spec?.podCIDRs ?? [];
  if (list.length > 0) return list;
  return node.spec?.podCIDR ? [node.spec.podCIDR] : [];
}

/** One allocator per cluster CIDR, each with its family's block size; throws CidrError on a mask that does not fit. */
export function cidrSetsFor(o: NodeIpamOptions): CidrSet[] {
  return o.clusterCIDRs.map((c) => new CidrSet(c, parseCIDR(c).family === 4 ? o.nodeCIDRMaskSizeIPv4 : o.nodeCIDRMaskSizeIPv6));
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export class NodeIpamController {
  readonly queue = new WorkQueue<string>();
  /** one allocator per cluster CIDR, in --cluster-cidr order (the first is the node's primary podCIDR) */
  readonly sets: readonly CidrSet[];
  /** What each node holds in our sets: its CIDRs as last seen, or blocks reserved for it whose patch has not been seen yet. */
  private readonly held = new Map<string, readonly string[]>();
  private initialized = false;

  constructor(private readonly d: NodeIpamDeps) {
    this.sets = cidrSetsFor(d.options);
  }

  nodeChanged(node: DeepReadonly<Node>): void {
    if (node.metadata?.name) this.queue.add(node.metadata.name);
  }

  nodeDeleted(node: DeepReadonly<Node> | DeletedFinalStateUnknown<Node>): void {
    const obj = node instanceof DeletedFinalStateUnknown ? node.obj : node;
    if (obj.metadata?.name) this.queue.add(obj.metadata.name);
  }

  /**
   * Marks the CIDRs of every cached node as used. Runs once the cache has synced and before the
   * first allocation, so that no block a node already has is handed out again after a restart.
   */
  initialize(): void {
    if (this.initialized) return;
    this.initialized = true;
    let nodes = 0;
    for (const node of this.d.nodes.list()) {
      const cidrs = podCIDRsOf(node);
      if (cidrs.length === 0) continue;
      this.hold(node.metadata?.name ?? "", cidrs);
      nodes++;
    }
    this.d.log.info({ nodes, used: this.sets.map((s) => `${s.allocated}/${s.capacity}`) }, "rebuilt the used node CIDRs from existing nodes");
  }

  /** Sets `held[name]` to `cidrs`, moving the occupancy in our sets from the old list to the new one. */
  private hold(name: string, cidrs: readonly string[]): void {
    const before = this.held.get(name) ?? [];
    if (sameList(before, cidrs)) return;
    this.releaseAll(before);
    for (const c of cidrs) {
      const set = this.sets.find((s) => s.contains(c));
      // A CIDR outside every cluster CIDR (given by hand or by another allocator) takes nothing of ours.
      if (!set) {
        this.d.log.debug({ node: name, cidr: c }, "node CIDR outside the cluster CIDRs; kept as it is");
        continue;
      }
      if (set.isUsed(c)) this.d.log.warn({ node: name, cidr: c }, "node CIDR overlaps a block another node holds");
      set.occupy(c);
    }
    if (cidrs.length === 0) this.held.delete(name);
    else this.held.set(name, cidrs);
  }

  private releaseAll(cidrs: readonly string[]): void {
    for (const c of cidrs) this.sets.find((s) => s.contains(c))?.release(c);
  }

  private ref(name: string, uid: string | undefined): KubeObject {
    return { apiVersion: "v1", kind: "Node", metadata: { name, ...(uid ? { uid } : {}) } };
  }

  /** One block from every set, or none (CIDRNotAvailable) when any set is exhausted. */
  private allocate(name: string): string[] {
    const got: string[] = [];
    for (const set of this.sets) {
      try {
        got.push(set.allocateNext());
      } catch (err) {
        for (const c of got) this.sets.find((s) => s.contains(c))?.release(c);
        if (err instanceof CidrError && err.code === "CIDRNotAvailable") throw new NodeIpamError("CIDRNotAvailable", `no free CIDR for node ${name}: ${err.message}`);
        throw err;
      }
    }
    return got;
  }

  async sync(name: string, _signal?: AbortSignal, log: Logger = this.d.log): Promise<void> {
    this.initialize();
    const node = this.d.nodes.get(name);
    if (!node) {
      // Gone: its blocks are free again (upstream's ReleaseCIDR on node delete).
      const had = this.held.get(name);
      if (!had) return;
      log.info({ node: name, cidrs: had }, "node deleted; releasing its CIDRs");
      this.hold(name, []);
      // Nodes waiting for a block (backing off ever longer on an exhausted range) try now.
      for (const n of this.d.nodes.list()) if (podCIDRsOf(n).length === 0 && n.metadata?.name && !this.held.has(n.metadata.name)) this.queue.add(n.metadata.name);
      return;
    }
    const cidrs = podCIDRsOf(node);
    if (cidrs.length > 0) {
      this.hold(name, cidrs);
      return;
    }
    // A reservation from an earlier attempt whose patch failed (or is not in the cache yet) is reused.
    let mine = this.held.get(name);
    if (!mine) {
      try {
        mine = this.allocate(name);
      } catch (err) {
        if (err instanceof NodeIpamError) this.d.events.event(this.ref(name, node.metadata?.uid), "Normal", "CIDRNotAvailable", `Node ${name} status is now: CIDRNotAvailable`);
        throw err;
      }
      this.held.set(name, mine);
    }
    try {
      await this.d.api.resource<Node>("", "v1", "nodes").patch(name, "strategic", { spec: { podCIDR: mine[0], podCIDRs: mine } });
      log.info({ node: name, podCIDRs: mine }, "set node pod CIDRs");
    } catch (err) {
      if (isNotFound(err)) {
        this.hold(name, []);
        return;
      }
      this.d.events.event(this.ref(name, node.metadata?.uid), "Normal", "CIDRAssignmentFailed", `Node ${name} status is now: CIDRAssignmentFailed`);
      throw err;
    }
  }

  async run(signal: AbortSignal, workers: number): Promise<void> {
    this.initialize();
    await runController({
      name: NODE_IPAM_CONTROLLER,
      queue: this.queue,
      workers,
      sync: (key, s, log) => this.sync(key, s, log),
      log: this.d.log,
      signal,
      ...(this.d.metrics ? { metrics: this.d.metrics } : {}),
    });
  }
}
