// The node lifecycle controller (upstream pkg/controller/nodelifecycle): it watches Nodes and
// their Leases in kube-node-lease and
//  - marks a node whose kubelet stopped renewing its lease (and posting status) for the grace
//    period Unknown: Ready, MemoryPressure, DiskPressure and PIDPressure become Unknown with
//    reason NodeStatusUnknown, and the pods on it NotReady;
//  - puts the `node.kubernetes.io/unreachable` (Ready Unknown) or `not-ready` (Ready False)
//    NoExecute taint on such nodes through a rate-limited queue per zone, and takes it off when
//    the node is Ready again; the taint-eviction controller then evicts the pods that do not
//    tolerate the taint (long enough). When every zone has lost all of its nodes the controller
//    assumes its own connectivity is at fault and taints nothing (upstream's "master disruption
//    mode"); a zone that lost most of its nodes is tainted slowly or not at all;
//  - keeps the NoSchedule taints that mirror node conditions (TaintNodesByCondition) and
//    spec.unschedulable in step with them.
// Upstream's structure is kept: a monitor pass over all nodes every nodeMonitorPeriod, a
// tainting pass every 100 ms, a queue of nodes for NoSchedule taints and a queue of pods newly
// bound to not-ready nodes.
import type { Lease } from "kubernetes-types/coordination/v1.js";
import type { Node, NodeCondition, Pod, Taint } from "kubernetes-types/core/v1.js";
import { sleep, type Clock } from "../../client/clock.js";
import { runController } from "../../client/controller.js";
import { isConflict, isNotFound } from "../../client/errors.js";
import { NODE_LEASE_NAMESPACE } from "../../client/nodelease.js";
import { NODE_NAME_INDEX, type Indexer, type Lister } from "../../client/informer.js";
import { keyOf, mutableCopy, type DeepReadonly, type KubeObject } from "../../client/objects.js";
import { WorkQueue } from "../../client/workqueue.js";
import type { Logger } from "../../util/log.js";
import type { ControllerMetrics } from "../../client/controller.js";
import type { EventSink } from "../context.js";
import type { Api } from "../api.js";
import { RateLimitedTimedQueue } from "./ratelimitedqueue.js";
import {
  NOT_READY_NO_EXECUTE,
  UNREACHABLE_NO_EXECUTE,
  conditionNoScheduleTaints,
  isControllerNoScheduleTaint,
  sameTaint,
  swapTaints,
  taintExists,
  zoneKey,
} from "./taints.js";
import { rfc3339 } from "../../util/time.js";
import { readyConditionOf } from "../../api/conditions.js";
import { CodedError } from "../../util/errors.js";

export const NODE_LIFECYCLE_CONTROLLER = "node-lifecycle-controller";

/** kube-controller-manager's flags of the same names, in ms where they are durations. */
export interface NodeLifecycleOptions {
  /** --node-monitor-period: how often node health is checked; default 5 s. */
  readonly nodeMonitorPeriodMs: number;
  /** --node-monitor-grace-period: a lease not renewed for this long makes the node Unknown; default 40 s. */
  readonly nodeMonitorGracePeriodMs: number;
  /** --node-startup-grace-period: the same for a node that never posted a Ready condition; default 60 s. */
  readonly nodeStartupGracePeriodMs: number;
  /** --node-eviction-rate: nodes tainted per second in a healthy zone; default 0.1. */
  readonly evictionLimiterQPS: number;
  /** --secondary-node-eviction-rate: the same in a large, partially disrupted zone; default 0.01. */
  readonly secondaryEvictionLimiterQPS: number;
  /** --large-cluster-size-threshold; default 50. */
  readonly largeClusterThreshold: number;
  /** --unhealthy-zone-threshold: fraction of not-ready nodes (at least 3) that makes a zone partially disrupted; default 0.55. */
  readonly unhealthyZoneThreshold: number;
}

export const DEFAULT_NODE_LIFECYCLE_OPTIONS: NodeLifecycleOptions = Object.freeze({
  nodeMonitorPeriodMs: 5_000,
  nodeMonitorGracePeriodMs: 40_000,
  nodeStartupGracePeriodMs: 60_000,
  evictionLimiterQPS: 0.1,
  secondaryEvictionLimiterQPS: 0.01,
  largeClusterThreshold: 50,
  unhealthyZoneThreshold: 0.55,
});

/** Upstream's scheduler.NodeEvictionPeriod: how often the tainting queues are drained. */
const NO_EXECUTE_TAINTING_PERIOD_MS = 100;
const NODE_UPDATE_WORKERS = 8;
const HEALTH_UPDATE_RETRIES = 5;

export type ZoneState = "Initial" | "Normal" | "FullDisruption" | "PartialDisruption";

interface NodeHealth {
  /** The Ready condition as last seen: the cached object itself, which nothing changes in place. */
  readonly ready: DeepReadonly<NodeCondition> | undefined;
  readonly probeTimestamp: number;
  readonly readyTransitionTimestamp: number;
  readonly leaseRenewTime: string | undefined;
}

export interface NodeLifecycleDeps {
  readonly api: Api;
  readonly nodes: Lister<Node>;
  readonly leases: Lister<Lease>;
  /** The pod cache, with the node-name index. */
  readonly pods: Indexer<Pod>;
  readonly events: EventSink;
  readonly log: Logger;
  readonly clock: Clock;
  readonly options: NodeLifecycleOptions;
  readonly metrics?: ControllerMetrics;
}

function timeOf(s: string | undefined): number {
  const t = s ? Date.parse(s) : Number.NaN;
  return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
}

function sameCondition(a: DeepReadonly<NodeCondition> | undefined, b: DeepReadonly<NodeCondition> | undefined): boolean {
  if (!a || !b) return a === b;
  return a.type === b.type && a.status === b.status && (a.reason ?? "") === (b.reason ?? "") && (a.message ?? "") === (b.message ?? "") && (a.lastHeartbeatTime ?? "") === (b.lastHeartbeatTime ?? "") && (a.lastTransitionTime ?? "") === (b.lastTransitionTime ?? "");
}

/** Upstream's ComputeZoneState: how many nodes are not Ready and what that makes the zone. */
export function computeZoneState(conditions: readonly (DeepReadonly<NodeCondition> | undefined)[], unhealthyZoneThreshold: number): { readonly notReady: number; readonly state: ZoneState } {
  let ready = 0;
  let notReady = 0;
  for (const c of conditions) if (c?.status === "True") ready++;
  else notReady++;
  if (ready === 0 && notReady > 0) return { notReady, state: "FullDisruption" };
  if (notReady > 2 && notReady / (notReady + ready) >= unhealthyZoneThreshold) return { notReady, state: "PartialDisruption" };
  return { notReady, state: "Normal" };
}

async function parallel<T>(items: readonly T[], workers: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(workers, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

export class NodeLifecycleController {
  /** Nodes whose conditions or spec changed: their NoSchedule taints are brought in step. */
  readonly nodeQueue = new WorkQueue<string>();
  /** Pods newly bound to a node: marked not ready if the node is not. */
  readonly podQueue = new WorkQueue<string>();
  private readonly health = new Map<string, NodeHealth>();
  private readonly known = new Map<string, DeepReadonly<Node>>();
  private readonly zoneStates = new Map<string, ZoneState>();
  private readonly tainters = new Map<string, RateLimitedTimedQueue>();
  private readonly nodesToRetry = new Set<string>();
  private readonly o: NodeLifecycleOptions;

  constructor(private readonly d: NodeLifecycleDeps) {
    this.o = d.options;
  }

  private nodesApi() {
    return this.d.api.resource<Node>("", "v1", "nodes");
  }

  // ---- event handlers: keys only ----

  nodeChanged(node: DeepReadonly<Node>): void {
    if (node.metadata?.name) this.nodeQueue.add(node.metadata.name);
  }

  nodeDeleted(name: string): void {
    this.nodesToRetry.delete(name);
  }

  podChanged(old: DeepReadonly<Pod> | undefined, pod: DeepReadonly<Pod>): void {
    const node = pod.spec?.nodeName ?? "";
    if (node !== "" && (!old || old.spec?.nodeName !== node)) this.podQueue.add(keyOf(pod as DeepReadonly<KubeObject>));
  }

  // ---- node health ----

  private nodeRef(node: DeepReadonly<Node> | Node): KubeObject {
    return { apiVersion: "v1", kind: "Node", metadata: { name: node.metadata?.name ?? "", uid: node.metadata?.uid ?? "" } };
  }

  private tainter(zone: string): RateLimitedTimedQueue {
    let q = this.tainters.get(zone);
    if (!q) {
      q = new RateLimitedTimedQueue(this.o.evictionLimiterQPS, this.d.clock);
      this.tainters.set(zone, q);
      this.zoneStates.set(zone, "Initial");
      this.d.log.info({ zone }, "initializing eviction state for zone");
    }
    return q;
  }

  /**
   * Upstream's tryUpdateNodeHealth: records when the node last showed signs of life (a new
   * heartbeat in its Ready condition or a renewed lease) and, past the grace period, writes
   * its conditions as Unknown. Returns the Ready condition as the kubelet last reported it
   * (`observed`) and as it is now (`current`), and the node as last written.
   */
  async tryUpdateNodeHealth(node: DeepReadonly<Node> | Node): Promise<{ readonly observed: NodeCondition; readonly current: DeepReadonly<NodeCondition> | undefined; readonly node: DeepReadonly<Node> | Node }> {
    const name = node.metadata?.name ?? "";
    const now = this.d.clock.now();
    const created = timeOf(node.metadata?.creationTimestamp);
    let current: DeepReadonly<NodeCondition> | undefined = node.status?.conditions?.find((c) => c.type === "Ready");
    let health = this.health.get(name);
    let observed: NodeCondition;
    let grace: number;
    if (!current) {
      // Never posted: pretend an Unknown condition from the node's creation.
      observed = { type: "Ready", status: "Unknown", lastHeartbeatTime: node.metadata?.creationTimestamp ?? "", lastTransitionTime: node.metadata?.creationTimestamp ?? "" };
      grace = this.o.nodeStartupGracePeriodMs;
      health = health ? { ...health, ready: undefined } : { ready: undefined, probeTimestamp: created, readyTransitionTimestamp: created, leaseRenewTime: undefined };
    } else {
      observed = { ...current } as NodeCondition;
      grace = this.o.nodeMonitorGracePeriodMs;
    }
    const saved = health?.ready;
    if (!health) {
      this.d.log.info({ node: name }, "missing timestamp for node; assuming now");
      health = { ready: current, probeTimestamp: now, readyTransitionTimestamp: now, leaseRenewTime: undefined };
    } else if (!saved && current) {
      health = { ready: current, probeTimestamp: now, readyTransitionTimestamp: now, leaseRenewTime: health.leaseRenewTime };
    } else if (saved && !current) {
      this.d.log.error({ node: name }, "ReadyCondition was removed from the status of the node");
      health = { ready: undefined, probeTimestamp: now, readyTransitionTimestamp: now, leaseRenewTime: health.leaseRenewTime };
    } else if (saved && current && saved.lastHeartbeatTime !== current.lastHeartbeatTime) {
      const transition = saved.lastTransitionTime !== current.lastTransitionTime ? now : health.readyTransitionTimestamp;
      health = { ready: current, probeTimestamp: now, readyTransitionTimestamp: transition, leaseRenewTime: health.leaseRenewTime };
    }
    // A renewed lease is a sign of life even when the kubelet posts no status.
    const lease = this.d.leases.get(`${NODE_LEASE_NAMESPACE}/${name}`);
    const renewed = lease?.spec?.renewTime;
    if (renewed && (health.leaseRenewTime === undefined || timeOf(health.leaseRenewTime) < timeOf(renewed))) {
      health = { ...health, leaseRenewTime: renewed, probeTimestamp: now };
    }
    this.health.set(name, health);

    if (now > health.probeTimestamp + grace) {
      // Only a node that went quiet is changed: copy it here rather than every node on every pass.
      const copy = mutableCopy<Node>(node as DeepReadonly<Node>);
      const writable = copy as { status?: { conditions?: NodeCondition[] } };
      writable.status ??= {};
      const conditions = (writable.status.conditions ??= []);
      const nowStr = rfc3339(now);
      for (const type of ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"]) {
        const c = conditions.find((x) => x.type === type);
        if (!c) {
          conditions.push({ type, status: "Unknown", reason: "NodeStatusNeverUpdated", message: "Kubelet never posted node status.", lastHeartbeatTime: node.metadata?.creationTimestamp ?? nowStr, lastTransitionTime: nowStr });
        } else if (c.status !== "Unknown") {
          Object.assign(c, { status: "Unknown", reason: "NodeStatusUnknown", message: "Kubelet stopped posting node status.", lastTransitionTime: nowStr });
        }
      }
      current = conditions.find((x) => x.type === "Ready");
      if (!sameCondition(current, observed)) {
        this.d.log.info({ node: name, sinceProbeMs: now - health.probeTimestamp }, "node stopped posting status; marking it Unknown");
        const written = await this.nodesApi().updateStatus(copy);
        this.health.set(name, { ready: current && (structuredClone(current) as NodeCondition), probeTimestamp: health.probeTimestamp, readyTransitionTimestamp: now, leaseRenewTime: renewed ?? health.leaseRenewTime });
        return { observed, current, node: written };
      }
      return { observed, current, node: copy };
    }
    return { observed, current, node };
  }

  /** Upstream's monitorNodeHealth: one pass over every node. */
  async monitorNodeHealth(): Promise<void> {
    const nodes = this.d.nodes.list();
    const seen = new Set<string>();
    for (const node of nodes) {
      const name = node.metadata?.name ?? "";
      seen.add(name);
      if (this.known.has(name)) {
        this.tainter(zoneKey(node));
        continue;
      }
      this.d.log.info({ node: name }, "controller observed a new node");
      this.d.events.event(this.nodeRef(node), "Normal", "RegisteredNode", `Registered Node ${name} in Controller`);
      this.known.set(name, node);
      this.tainter(zoneKey(node));
      await this.markNodeAsReachable(node).catch((err: unknown) => this.d.log.error({ err, node: name }, "failed to remove taints from node"));
    }
    for (const [name, node] of [...this.known]) {
      if (seen.has(name)) continue;
      this.d.log.info({ node: name }, "controller observed a node deletion");
      this.d.events.event(this.nodeRef(node), "Normal", "RemovingNode", `Removing Node ${name} from Controller`);
      this.known.delete(name);
      this.health.delete(name);
    }

    const zoneConditions = new Map<string, (DeepReadonly<NodeCondition> | undefined)[]>();
    await parallel(nodes, NODE_UPDATE_WORKERS, async (cached) => {
      const name = cached.metadata?.name ?? "";
      let node: DeepReadonly<Node> | Node = cached;
      let result: Awaited<ReturnType<NodeLifecycleController["tryUpdateNodeHealth"]>> | undefined;
      for (let attempt = 0; attempt < HEALTH_UPDATE_RETRIES && !result; attempt++) {
        try {
          result = await this.tryUpdateNodeHealth(node);
        } catch (err) {
          this.d.log.warn({ err, node: name }, "updating node health failed; re-reading the node");
          try {
            node = await this.nodesApi().get(name);
          } catch (getErr) {
            if (!isNotFound(getErr)) this.d.log.error({ err: getErr, node: name }, "failed while getting a node to retry updating its health");
            return;
          }
        }
      }
      if (!result) {
        this.d.log.error({ node: name }, "updating the health of the node failed; no pods will be evicted");
        return;
      }
      node = result.node;
      if (node.metadata?.labels?.["node.kubernetes.io/exclude-disruption"] === undefined) {
        const zone = zoneKey(node);
        const list = zoneConditions.get(zone) ?? [];
        list.push(result.current);
        zoneConditions.set(zone, list);
      }
      if (result.current) {
        await this.processTaintBaseEviction(node, result.observed);
        const needsRetry = this.nodesToRetry.has(name);
        const becameNotReady = result.current.status !== "True" && result.observed.status === "True";
        if (becameNotReady) this.d.events.event(this.nodeRef(node), "Normal", "NodeNotReady", `Node ${name} status is now: NodeNotReady`);
        if (becameNotReady || (needsRetry && result.observed.status !== "True")) {
          try {
            await this.markPodsNotReady(this.d.pods.byIndex(NODE_NAME_INDEX, name), name);
          } catch (err) {
            this.d.log.error({ err, node: name }, "unable to mark all pods NotReady on node; queuing for retry");
            this.nodesToRetry.add(name);
            return;
          }
        }
      }
      this.nodesToRetry.delete(name);
    });
    await this.handleDisruption(zoneConditions, nodes);
  }

  private async processTaintBaseEviction(node: DeepReadonly<Node> | Node, observed: NodeCondition): Promise<void> {
    const taints = node.spec?.taints;
    switch (observed.status) {
      case "False":
        if (taintExists(taints, UNREACHABLE_NO_EXECUTE)) {
          if (!(await this.swapNodeControllerTaint(node, [NOT_READY_NO_EXECUTE], [UNREACHABLE_NO_EXECUTE]))) this.d.log.error({ node: node.metadata?.name }, "failed to swap the unreachable taint for not-ready; will try again");
        } else this.markNodeForTainting(node, "False");
        break;
      case "Unknown":
        if (taintExists(taints, NOT_READY_NO_EXECUTE)) {
          if (!(await this.swapNodeControllerTaint(node, [UNREACHABLE_NO_EXECUTE], [NOT_READY_NO_EXECUTE]))) this.d.log.error({ node: node.metadata?.name }, "failed to swap the not-ready taint for unreachable; will try again");
        } else this.markNodeForTainting(node, "Unknown");
        break;
      case "True":
        try {
          if (await this.markNodeAsReachable(node)) this.d.log.info({ node: node.metadata?.name }, "node is healthy again; removed its NoExecute taints");
        } catch (err) {
          this.d.log.error({ err, node: node.metadata?.name }, "failed to remove taints from node; will retry");
        }
        break;
    }
  }

  private markNodeForTainting(node: DeepReadonly<Node>, status: "False" | "Unknown"): boolean {
    const name = node.metadata?.name ?? "";
    const q = this.tainter(zoneKey(node));
    const has = status === "False" ? taintExists(node.spec?.taints, NOT_READY_NO_EXECUTE) : taintExists(node.spec?.taints, UNREACHABLE_NO_EXECUTE);
    if (!has) q.remove(name);
    return q.add(name, node.metadata?.uid ?? "");
  }

  /** Takes the NoExecute taints off; true if the node was waiting to be tainted. */
  private async markNodeAsReachable(node: DeepReadonly<Node> | Node): Promise<boolean> {
    if (taintExists(node.spec?.taints, UNREACHABLE_NO_EXECUTE) || taintExists(node.spec?.taints, NOT_READY_NO_EXECUTE)) {
      if (!(await this.swapNodeControllerTaint(node, [], [UNREACHABLE_NO_EXECUTE, NOT_READY_NO_EXECUTE]))) {
        throw new NodeLifecycleError("TaintUpdateFailed", `failed to remove NoExecute taints from node ${node.metadata?.name ?? ""}`);
      }
    }
    return this.tainter(zoneKey(node)).remove(node.metadata?.name ?? "");
  }

  /**
   * Adds and removes taints on a node (upstream's SwapNodeControllerTaint): a merge patch of
   * spec.taints conditional on the resourceVersion, re-read and retried on Conflict.
   */
  async swapNodeControllerTaint(node: DeepReadonly<Node> | Node, add: readonly Readonly<Taint>[], remove: readonly Readonly<Taint>[]): Promise<boolean> {
    const name = node.metadata?.name ?? "";
    let base: DeepReadonly<Node> | Node = node;
    for (let attempt = 0; attempt < HEALTH_UPDATE_RETRIES; attempt++) {
      if (attempt > 0) {
        try {
          base = await this.nodesApi().get(name);
        } catch (err) {
          if (!isNotFound(err)) this.d.log.error({ err, node: name }, "failed to read node to update its taints");
          return false;
        }
      }
      const next = swapTaints(base.spec?.taints, add, remove, rfc3339(this.d.clock.now()));
      if (!next) return true;
      try {
        await this.nodesApi().patch(name, "merge", { metadata: { resourceVersion: base.metadata?.resourceVersion }, spec: { taints: next.length > 0 ? next : null } });
        this.d.log.info({ node: name, add: add.map((t) => `${t.key}:${t.effect}`), remove: remove.filter((r) => taintExists(base.spec?.taints, r)).map((t) => `${t.key}:${t.effect}`) }, "updated node taints");
        return true;
      } catch (err) {
        if (isConflict(err)) continue;
        if (!isNotFound(err)) this.d.log.error({ err, node: name }, "failed to update node taints");
        return false;
      }
    }
    return false;
  }

  /** Upstream's MarkPodsNotReady: the Ready condition of each pod on the node turns False. */
  async markPodsNotReady(pods: readonly DeepReadonly<Pod>[], nodeName: string): Promise<void> {
    const failures: unknown[] = [];
    const nowStr = rfc3339(this.d.clock.now());
    for (const pod of pods) {
      if (pod.spec?.nodeName !== nodeName) continue;
      const ready = (pod.status?.conditions ?? []).find((c) => c.type === "Ready");
      if (!ready || ready.status === "False") continue;
      const ns = pod.metadata?.namespace ?? "";
      const name = pod.metadata?.name ?? "";
      try {
        await this.d.api
          .resource<Pod>("", "v1", "pods")
          .namespace(ns)
          .patch(name, "strategic", { metadata: { uid: pod.metadata?.uid }, status: { conditions: [{ type: "Ready", status: "False", lastTransitionTime: nowStr }] } }, { subresource: "status" });
        this.d.events.event({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: ns, uid: pod.metadata?.uid ?? "" } }, "Warning", "NodeNotReady", "Node is not ready");
      } catch (err) {
        if (isNotFound(err)) continue;
        failures.push(err);
      }
    }
    if (failures.length > 0) throw new NodeLifecycleError("PodUpdateFailed", `marking ${failures.length} pod(s) on node ${nodeName} not ready failed`, { cause: failures[0] });
  }

  /** Upstream's doNoExecuteTaintingPass: drains each zone's tainting queue at the zone's rate. */
  async doNoExecuteTaintingPass(): Promise<void> {
    for (const q of [...this.tainters.values()]) {
      await q.try(async (v) => {
        const node = this.d.nodes.get(v.value);
        if (!node) return { done: true };
        const ready = readyConditionOf(node);
        if (!ready) return { done: false, retryAfterMs: 50 };
        // Unreachable and not-ready mirror Ready's status, so they exclude each other.
        let add: Readonly<Taint>;
        let opposite: Readonly<Taint>;
        if (ready.status === "False") [add, opposite] = [NOT_READY_NO_EXECUTE, UNREACHABLE_NO_EXECUTE];
        else if (ready.status === "Unknown") [add, opposite] = [UNREACHABLE_NO_EXECUTE, NOT_READY_NO_EXECUTE];
        else return { done: true };
        return { done: await this.swapNodeControllerTaint(node, [add], [opposite]) };
      });
    }
  }

  private limiterFor(state: ZoneState, size: number): number {
    switch (state) {
      case "PartialDisruption":
        return size > this.o.largeClusterThreshold ? this.o.secondaryEvictionLimiterQPS : 0;
      default:
        return this.o.evictionLimiterQPS;
    }
  }

  /** Upstream's handleDisruption: eviction rates per zone from how many of its nodes are not ready. */
  private async handleDisruption(zoneConditions: ReadonlyMap<string, (DeepReadonly<NodeCondition> | undefined)[]>, nodes: readonly DeepReadonly<Node>[]): Promise<void> {
    const newStates = new Map<string, ZoneState>();
    let allAreFullyDisrupted = true;
    for (const [zone, conds] of zoneConditions) {
      const { state } = computeZoneState(conds, this.o.unhealthyZoneThreshold);
      if (state !== "FullDisruption") allAreFullyDisrupted = false;
      newStates.set(zone, state);
      if (!this.zoneStates.has(zone)) this.zoneStates.set(zone, "Initial");
    }
    let allWasFullyDisrupted = true;
    for (const [zone, state] of [...this.zoneStates]) {
      if (!zoneConditions.has(zone)) {
        this.zoneStates.delete(zone);
        continue;
      }
      if (state !== "FullDisruption") {
        allWasFullyDisrupted = false;
        break;
      }
    }
    if (allAreFullyDisrupted && allWasFullyDisrupted) return;
    if (allAreFullyDisrupted) {
      this.d.log.info("every node is not ready: assuming the control plane lost them and entering master disruption mode (no NoExecute taints)");
      for (const n of nodes) await this.markNodeAsReachable(n).catch((err: unknown) => this.d.log.error({ err, node: n.metadata?.name }, "failed to remove taints from node"));
      for (const zone of this.zoneStates.keys()) {
        this.tainter(zone).swapLimiter(0);
        this.zoneStates.set(zone, "FullDisruption");
      }
      return;
    }
    if (allWasFullyDisrupted) {
      this.d.log.info("some nodes are ready again: exiting master disruption mode");
      const now = this.d.clock.now();
      for (const n of nodes) {
        const name = n.metadata?.name ?? "";
        const h = this.health.get(name);
        if (h) this.health.set(name, { ...h, probeTimestamp: now, readyTransitionTimestamp: now });
      }
      for (const zone of this.zoneStates.keys()) {
        const state = newStates.get(zone) ?? "Normal";
        this.tainter(zone).swapLimiter(this.limiterFor(state, zoneConditions.get(zone)?.length ?? 0));
        this.zoneStates.set(zone, state);
      }
      return;
    }
    for (const [zone, state] of [...this.zoneStates]) {
      const next = newStates.get(zone);
      if (next === undefined || next === state) continue;
      this.d.log.info({ zone, state: next }, "zone is now in a new state");
      this.tainter(zone).swapLimiter(this.limiterFor(next, zoneConditions.get(zone)?.length ?? 0));
      this.zoneStates.set(zone, next);
    }
  }

  zoneState(zone: string): ZoneState | undefined {
    return this.zoneStates.get(zone);
  }

  /** Whether the node waits in its zone's tainting queue. */
  isQueuedForTainting(node: DeepReadonly<Node>): boolean {
    return this.tainters.get(zoneKey(node))?.has(node.metadata?.name ?? "") ?? false;
  }

  // ---- queues ----

  /** Upstream's doNoScheduleTaintingPass: NoSchedule taints that mirror the node's conditions. */
  async syncNoScheduleTaints(name: string): Promise<void> {
    const node = this.d.nodes.get(name);
    if (!node) return;
    const want = conditionNoScheduleTaints(node);
    const have = (node.spec?.taints ?? []).filter((t) => isControllerNoScheduleTaint(t));
    const add = want.filter((t) => !have.some((h) => sameTaint(h, t)));
    const remove = have.filter((h) => !want.some((t) => sameTaint(h, t)));
    if (add.length === 0 && remove.length === 0) return;
    if (!(await this.swapNodeControllerTaint(node, add, remove as Taint[]))) throw new NodeLifecycleError("TaintUpdateFailed", `failed to swap NoSchedule taints of node ${name}`);
  }

  /** Upstream's processPod: a pod bound to a node that is not Ready is marked not ready too. */
  async syncPod(key: string): Promise<void> {
    const pod = this.d.pods.get(key);
    if (!pod) return;
    const nodeName = pod.spec?.nodeName ?? "";
    const health = this.health.get(nodeName);
    if (!health) return;
    if (!this.d.nodes.get(nodeName)) throw new NodeLifecycleError("NodeNotCached", `node ${nodeName} of pod ${key} is not in the cache yet`);
    if (!health.ready) return;
    if (health.ready.status !== "True") await this.markPodsNotReady([pod], nodeName);
  }

  /** Runs the passes and queues until `signal` aborts. */
  async run(signal: AbortSignal, workers: number): Promise<void> {
    const loop = async (name: string, periodMs: number, pass: () => Promise<void>): Promise<void> => {
      do {
        try {
          await pass();
        } catch (err) {
          this.d.log.error({ err, pass: name }, "pass failed");
        }
      } while (await sleep(this.d.clock, periodMs, signal));
    };
    await Promise.all([
      runController({ name: NODE_LIFECYCLE_CONTROLLER, queue: this.nodeQueue, workers, sync: (key) => this.syncNoScheduleTaints(key), log: this.d.log, signal, ...(this.d.metrics ? { metrics: this.d.metrics } : {}) }),
      runController({ name: `${NODE_LIFECYCLE_CONTROLLER}-pods`, queue: this.podQueue, workers: Math.max(1, Math.min(workers, 4)), sync: (key) => this.syncPod(key), log: this.d.log, signal, ...(this.d.metrics ? { metrics: this.d.metrics } : {}) }),
      loop("noExecuteTainting", NO_EXECUTE_TAINTING_PERIOD_MS, () => this.doNoExecuteTaintingPass()),
      loop("monitorNodeHealth", this.o.nodeMonitorPeriodMs, () => this.monitorNodeHealth()),
    ]);
  }
}

export type NodeLifecycleErrorCode = "TaintUpdateFailed" | "PodUpdateFailed" | "NodeNotCached" | "InvalidOptions";

export class NodeLifecycleError extends CodedError<NodeLifecycleErrorCode> {
  override readonly name = "NodeLifecycleError";
}
