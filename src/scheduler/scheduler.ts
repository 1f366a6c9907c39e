// The scheduling cycle and the binding cycle (upstream pkg/scheduler/schedule_one.go), and the
// informer event handlers that keep the cache and the queue current (eventhandlers.go).
//
// scheduleOne: pop → PreFilter → Filter (stopping once percentageOfNodesToScore worth of nodes
// fit, starting where the previous cycle stopped) → PreScore/Score → highest total wins (ties
// at random) → assume the pod on that node in the cache → binding cycle in the background
// (Permit → PreBind → Bind through pods/binding); a failed PreBind or bind unreserves, forgets
// the assumption and requeues.
// The scheduling cycle is synchronous: the cache is its snapshot.
//
// When no node fits: PostFilter (preemption) may nominate a node; the pod goes back to the
// queue, gets PodScheduled=False/Unschedulable with upstream's message, and a FailedScheduling
// event says the same.
import { setMaxListeners } from "node:events";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import type { PodCondition } from "kubernetes-types/core/v1.js";
import type { Logger } from "../util/log.js";
import { realClock, type Clock } from "../client/clock.js";
import { rfc3339 } from "../util/time.js";
import type { EventSink, SchedulerApi } from "./api.js";
import { SchedulerCache } from "./framework/cache.js";
import { fitErrorMessage } from "./framework/fiterror.js";
import type { Framework } from "./framework/framework.js";
import type { Handle, NamespaceView } from "./framework/handle.js";
import type { Labels } from "./framework/helpers.js";
import type { NodeInfo, RNode } from "./framework/nodeinfo.js";
import { Nominator } from "./framework/nominator.js";
import { isTerminal, PodInfoCache, specPriority, withNodeName, type PodInfo, type PriorityResolver, type RPod } from "./framework/podinfo.js";
import { Code, CycleState, NodeToStatus, Status, type ClusterEvent } from "./framework/types.js";
import type { RPDB } from "./plugins/defaultpreemption.js";
import { nodeEventKey, podEventKey, podUsesClaim, VolumeEvents, volumeObjectEventKeys, type RPV, type RPVC, type RStorageClass, type VolumeLookup } from "./plugins/volumebinding.js";
import { defaultFramework, DEFAULT_SCHEDULER_NAME } from "./profile.js";
import { SchedulingQueue, type QueuedPodInfo } from "./queue.js";
import { labelsEqual } from "../api/labels.js";
import { jsonEqual } from "../util/json.js";

/** Below this many nodes, every node is checked. */
export const MIN_FEASIBLE_NODES_TO_FIND = 100;
/** The adaptive percentage never goes below this. */
export const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;

export const ERR_NO_NODES_AVAILABLE = "no nodes available to schedule pods";

/**
 * How many feasible nodes are enough (upstream numFeasibleNodesToFind): all of them below 100
 * nodes; else `percentage` of them, where 0 means adaptive: 50% − nodes/125, at least 5%, and
 * never fewer than 100 nodes.
 */
export function numFeasibleNodesToFind(percentage: number, numAllNodes: number): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND) return numAllNodes;
  let p = percentage;
  if (p <= 0) {
    p = 50 - Math.trunc(numAllNodes / 125);
    if (p < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND) p = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND;
  }
  const n = Math.trunc((numAllNodes * p) / 100);
  return n < MIN_FEASIBLE_NODES_TO_FIND ? MIN_FEASIBLE_NODES_TO_FIND : n;
}

/** Upstream truncates event notes to 1 kB. */
function truncateMessage(m: string): string {
  const max = 1024;
  return m.length <= max ? m : `${m.slice(0, max - 3)}...`;
}

export interface SchedulerCoreOptions {
  readonly schedulerName?: string;
  readonly api: SchedulerApi;
  readonly events: EventSink;
  readonly log: Logger;
  readonly clock?: Clock;
  readonly random?: () => number;
  /** 0 (default): adaptive. */
  readonly percentageOfNodesToScore?: number;
  /** The informer's current version of a pod. */
  readonly lookupPod: (namespace: string, name: string) => RPod | undefined;
  readonly namespaces?: () => Iterable<NamespaceView>;
  readonly pdbs?: () => readonly RPDB[];
  /** PersistentVolumeClaims, PersistentVolumes and StorageClasses (the storage informers); default: none. */
  readonly volumes?: VolumeLookup;
  /** Priority of pods without spec.priority (PriorityClass lookup). */
  readonly priorityOf?: PriorityResolver;
  /** Bindings in flight before the scheduling loop waits for one to finish. */
  readonly maxInFlightBindings?: number;
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly maxInUnschedulableMs?: number;
  /** Called after every attempt, for metrics. */
  readonly onAttempt?: (result: "scheduled" | "unschedulable" | "error", seconds: number) => void;
}

type ScheduleResult =
  | { readonly kind: "ok"; readonly host: string; readonly evaluated: number; readonly feasible: number }
  | { readonly kind: "fit"; readonly numAllNodes: number; readonly statuses: NodeToStatus; readonly preFilterMsg: string; readonly rejectedBy: Set<string> }
  | { readonly kind: "error"; readonly status: Status };

export interface SchedulerStats {
  scheduled: number;
  unschedulable: number;
  errors: number;
  bindFailures: number;
}

export class SchedulerCore {
  readonly schedulerName: string;
  readonly cache = new SchedulerCache();
  readonly nominator = new Nominator();
  readonly queue: SchedulingQueue;
  readonly framework: Framework;
  readonly podInfos: PodInfoCache;
  readonly stats: SchedulerStats = { scheduled: 0, unschedulable: 0, errors: 0, bindFailures: 0 };
  /** Claim and volume changes: wake the PreBinds waiting for volumes to be bound. */
  readonly volumeEvents = new VolumeEvents();
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly log: Logger;
  private nextStartNodeIndex = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly bindAbort = new AbortController();
  private slotWaiters: (() => void)[] = [];
  private readonly handle: Handle;
  private nsLabels = new Map<string, Labels>();

  constructor(private readonly o: SchedulerCoreOptions) {
    this.schedulerName = o.schedulerName ?? DEFAULT_SCHEDULER_NAME;
    this.clock = o.clock ?? realClock;
    this.random = o.random ?? Math.random;
    this.log = o.log;
    this.podInfos = new PodInfoCache(o.priorityOf ?? specPriority);
    // Every binding waiting in PreBind (volumes) listens for the stop.
    setMaxListeners(0, this.bindAbort.signal);
    const namespaces = o.namespaces;
    this.handle = {
      snapshot: this.cache,
      namespaceLabels: (ns) => this.nsLabels.get(ns),
      namespaces: namespaces ?? (() => [...this.nsLabels].map(([name, labels]) => ({ name, labels }))),
    };
    this.framework = defaultFramework({
      schedulerName: this.schedulerName,
      handle: this.handle,
      api: o.api,
      events: o.events,
      nominator: this.nominator,
      pdbs: o.pdbs ?? (() => []),
      currentPod: (pi) => {
        const p = o.lookupPod(pi.namespace, pi.name);
        return p ? this.podInfos.get(p) : undefined;
      },
      log: o.log,
      random: this.random,
      track: (p) => this.track(p),
      volumeEvents: this.volumeEvents,
      clock: this.clock,
      ...(o.volumes ? { volumes: o.volumes } : {}),
      ...(o.percentageOfNodesToScore !== undefined ? { percentageOfNodesToScore: o.percentageOfNodesToScore } : {}),
    });
    this.queue = new SchedulingQueue({
      podInfoOf: (p) => this.podInfos.get(p),
      pluginsInterestedIn: (ev) => this.framework.pluginsInterestedIn(ev),
      clock: this.clock,
      ...(o.initialBackoffMs !== undefined ? { initialBackoffMs: o.initialBackoffMs } : {}),
      ...(o.maxBackoffMs !== undefined ? { maxBackoffMs: o.maxBackoffMs } : {}),
      ...(o.maxInUnschedulableMs !== undefined ? { maxInUnschedulableMs: o.maxInUnschedulableMs } : {}),
    });
  }

  /** Where the next cycle starts looking (round robin over the node list). */
  get nextStartIndex(): number {
    return this.nextStartNodeIndex;
  }

  /** Whether this scheduler schedules `pod` (its schedulerName is ours). */
  responsibleFor(pod: RPod): boolean {
    return (pod.spec?.schedulerName || DEFAULT_SCHEDULER_NAME) === this.schedulerName;
  }

  // ---- event handlers (informers call these; they only update the cache and the queue) ------

  onPodAdd(pod: RPod): void {
    if (pod.spec?.nodeName) {
      if (isTerminal(pod)) return;
      const pi = this.podInfos.get(pod);
      this.nominator.delete(pi.uid);
      this.cache.addPod(pi);
      this.queue.delete(pi.key);
      this.queue.moveAllToActiveOrBackoff("AssignedPodAdd");
      return;
    }
    if (!this.responsibleFor(pod) || pod.metadata?.deletionTimestamp) return;
    const pi = this.podInfos.get(pod);
    this.trackNomination(pi);
    this.queue.add(pod);
  }

  onPodUpdate(oldPod: RPod, newPod: RPod): void {
    const wasAssigned = Boolean(oldPod.spec?.nodeName);
    const isAssigned = Boolean(newPod.spec?.nodeName);
    if (isAssigned) {
      const pi = this.podInfos.get(newPod);
      if (!wasAssigned) {
        // The binding (ours, confirmed now, or someone else's) was observed.
        this.onPodAdd(newPod);
        return;
      }
      if (isTerminal(newPod)) {
        if (this.cache.removePod(pi.uid)) this.queue.moveAllToActiveOrBackoff("AssignedPodDelete");
        return;
      }
      const old = this.cache.getPod(pi.uid);
      this.cache.updatePod(pi);
      if (old && !labelsEqual(old.labels, pi.labels)) this.queue.moveAllToActiveOrBackoff("AssignedPodUpdateLabel");
      if (old && scaledDown(old, pi)) this.queue.moveAllToActiveOrBackoff("AssignedPodScaleDown");
      return;
    }
    if (!this.responsibleFor(newPod)) return;
    const pi = this.podInfos.get(newPod);
    // An assumed pod is on its way to being bound; updates in between change nothing.
    if (this.cache.isAssumed(pi.uid)) return;
    if (newPod.metadata?.deletionTimestamp) {
      this.queue.delete(pi.key);
      this.nominator.delete(pi.uid);
      return;
    }
    this.trackNomination(pi);
    this.queue.update(oldPod, newPod);
  }

  onPodDelete(pod: RPod): void {
    const pi = this.podInfos.get(pod);
    if (pod.spec?.nodeName) {
      if (this.cache.removePod(pi.uid)) this.queue.moveAllToActiveOrBackoff("AssignedPodDelete");
      return;
    }
    this.queue.delete(pi.key);
    this.nominator.delete(pi.uid);
    // A pod whose volumes are being bound is gone: its PreBind stops waiting.
    this.volumeEvents.changed(podEventKey(pi.namespace, pi.name));
  }

  private trackNomination(pi: PodInfo): void {
    const nnn = pi.pod.status?.nominatedNodeName ?? "";
    if (nnn) this.nominator.set(pi, nnn);
    else if (this.nominator.nodeFor(pi.uid) !== undefined) this.nominator.set(pi, this.nominator.nodeFor(pi.uid)!);
  }

  onNodeAdd(node: RNode): void {
    this.cache.addNode(node);
    this.queue.moveAllToActiveOrBackoff("NodeAdd");
  }

  onNodeUpdate(oldNode: RNode, newNode: RNode): void {
    this.cache.updateNode(newNode);
    for (const ev of nodeEvents(oldNode, newNode)) this.queue.moveAllToActiveOrBackoff(ev);
  }

  onNodeDelete(node: RNode): void {
    this.cache.removeNode(node.metadata?.name ?? "");
    this.queue.moveAllToActiveOrBackoff("NodeDelete");
    this.volumeEvents.changed(nodeEventKey(node.metadata?.name ?? ""));
  }

  // Storage: claims requeue only the pods that use them (upstream's queueing hint); volumes and
  // classes requeue every pod VolumeBinding rejected. Every claim or volume change also wakes
  // the PreBinds waiting for their claims to be bound.

  onClaimAdd(pvc: RPVC): void {
    const ns = pvc.metadata?.namespace ?? "";
    const name = pvc.metadata?.name ?? "";
    this.queue.moveAllToActiveOrBackoff("PersistentVolumeClaimAdd", (q) => podUsesClaim(q.podInfo.pod, ns, name));
    this.volumeEvents.changed(...volumeObjectEventKeys(pvc));
  }

  onClaimUpdate(_old: RPVC, pvc: RPVC): void {
    const ns = pvc.metadata?.namespace ?? "";
    const name = pvc.metadata?.name ?? "";
    this.queue.moveAllToActiveOrBackoff("PersistentVolumeClaimUpdate", (q) => podUsesClaim(q.podInfo.pod, ns, name));
    this.volumeEvents.changed(...volumeObjectEventKeys(pvc));
  }

  onClaimDelete(pvc: RPVC): void {
    this.volumeEvents.changed(...volumeObjectEventKeys(pvc));
  }

  onVolumeAdd(pv: RPV): void {
    this.queue.moveAllToActiveOrBackoff("PersistentVolumeAdd");
    this.volumeEvents.changed(...volumeObjectEventKeys(pv));
  }

  onVolumeUpdate(_old: RPV, pv: RPV): void {
    this.queue.moveAllToActiveOrBackoff("PersistentVolumeUpdate");
    this.volumeEvents.changed(...volumeObjectEventKeys(pv));
  }

  onVolumeDelete(pv: RPV): void {
    this.volumeEvents.changed(...volumeObjectEventKeys(pv));
  }

  onStorageClassAdd(_sc: RStorageClass): void {
    this.queue.moveAllToActiveOrBackoff("StorageClassAdd");
  }

  /** Only allowedTopologies can change a class's verdict (its binding mode and provisioner are immutable). */
  onStorageClassUpdate(old: RStorageClass, sc: RStorageClass): void {
    if (!jsonEqual(old.allowedTopologies, sc.allowedTopologies)) this.queue.moveAllToActiveOrBackoff("StorageClassUpdate");
  }

  onNamespace(name: string, labels: Labels | undefined, deleted = false): void {
    const before = this.nsLabels.get(name);
    if (deleted || !labels) this.nsLabels.delete(name);
    else this.nsLabels.set(name, labels);
    if (!deleted && (!before || !labelsEqual(before, labels))) this.queue.moveAllToActiveOrBackoff("NamespaceLabel");
  }

  // ---- the loop ----------------------------------------------------------------------------

  /** Schedules until `signal` aborts, then waits for bindings in flight. */
  async run(signal: AbortSignal): Promise<void> {
    const stop = (): void => {
      this.queue.close();
      this.bindAbort.abort();
      for (const w of this.slotWaiters.splice(0)) w();
    };
    if (signal.aborted) stop();
    else signal.addEventListener("abort", stop, { once: true });
    let lastYield = performance.now();
    const maxInFlight = this.o.maxInFlightBindings ?? 2000;
    try {
      for (;;) {
        const q = await this.queue.pop();
        if (!q) break;
        try {
          this.scheduleOne(q);
        } catch (err) {
          this.log.error({ err, pod: q.key }, "scheduling cycle failed");
          this.stats.errors++;
          this.queue.addUnschedulableIfNotPresent(q, this.queue.schedulingCycle);
        }
        while (this.inFlight.size >= maxInFlight && !signal.aborted) await new Promise<void>((r) => this.slotWaiters.push(r));
        // Pops resolve at once while activeQ has pods: let watch events and bind answers in.
        if (performance.now() - lastYield > 5) {
          await yieldToEventLoop();
          lastYield = performance.now();
        }
      }
    } finally {
      signal.removeEventListener("abort", stop);
      await this.drain();
    }
  }

  /** Waits for bindings and preemptions in flight. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private track(p: Promise<void>): void {
    const tracked = p.catch((err: unknown) => this.log.error({ err }, "background scheduler work failed")).finally(() => {
      this.inFlight.delete(tracked);
      this.slotWaiters.shift()?.();
    });
    this.inFlight.add(tracked);
  }

  /** One scheduling cycle for one popped pod. Synchronous; binding continues in the background. */
  scheduleOne(q: QueuedPodInfo): void {
    const pod = q.podInfo;
    if (pod.terminating || this.cache.isAssumed(pod.uid)) return;
    const start = this.clock.now();
    const cycle = this.queue.schedulingCycle;
    const state = new CycleState();
    const result = this.schedulePod(state, pod);
    if (result.kind !== "ok") {
      this.handleFailure(state, q, result, cycle, start);
      return;
    }
    const assumed = withNodeName(pod, result.host);
    this.cache.assumePod(assumed);
    this.nominator.delete(pod.uid);
    const reserve = this.framework.runReserve(state, assumed, result.host);
    if (reserve) {
      this.framework.runUnreserve(state, assumed, result.host);
      this.cache.forgetPod(pod.uid);
      this.handleFailure(state, q, { kind: "error", status: reserve }, cycle, start);
      return;
    }
    this.track(this.bindingCycle(state, q, assumed, result.host, start));
  }

  private async bindingCycle(state: CycleState, q: QueuedPodInfo, assumed: PodInfo, host: string, start: number): Promise<void> {
    let status: Status | null;
    try {
      status = await this.framework.runPermit(state, assumed, host);
      if (!status) {
        const preBind = this.framework.runPreBind(state, assumed, host, this.bindAbort.signal);
        if (preBind) status = await preBind;
      }
      if (!status) status = await this.framework.runBind(state, assumed, host, this.bindAbort.signal);
    } catch (err) {
      status = Status.error(err);
    }
    if (!status) {
      this.cache.finishBinding(assumed.uid);
      this.stats.scheduled++;
      this.o.onAttempt?.("scheduled", (this.clock.now() - start) / 1000);
      this.o.events.event(assumed.pod, "Normal", "Scheduled", `Successfully assigned ${assumed.namespace}/${assumed.name} to ${host}`);
      return;
    }
    this.stats.bindFailures++;
    this.framework.runUnreserve(state, assumed, host);
    if (this.cache.forgetPod(assumed.uid)) {
      // The room it held is free again; another pod may fit now (but not this one, which is
      // not in the unschedulable set anyway).
      this.queue.moveAllToActiveOrBackoff("AssignedPodDelete", (other) => other.podInfo.uid !== assumed.uid);
    }
    if (this.bindAbort.signal.aborted) return;
    this.log.info({ pod: assumed.key, node: host, err: status.message() }, "binding failed; requeueing");
    this.handleFailure(state, q, { kind: "error", status }, this.queue.schedulingCycle, start);
  }

  /** Upstream's schedulePod: the node for the pod, or why there is none. */
  schedulePod(state: CycleState, pod: PodInfo): ScheduleResult {
    const all = this.cache.list();
    if (all.length === 0) return { kind: "fit", numAllNodes: 0, statuses: new NodeToStatus(), preFilterMsg: ERR_NO_NODES_AVAILABLE, rejectedBy: new Set() };
    const fwk = this.framework;
    const statuses = new NodeToStatus();
    const pre = fwk.runPreFilter(state, pod);
    if (pre.status) {
      if (!pre.status.isRejected()) return { kind: "error", status: pre.status };
      statuses.absent = pre.status;
      return { kind: "fit", numAllNodes: all.length, statuses, preFilterMsg: pre.status.message(), rejectedBy: new Set(pre.rejectedBy) };
    }
    const rejectedBy = new Set<string>();
    // A nominated node (from an earlier preemption) is likely the only one that fits: try it first.
    const nominated = pod.pod.status?.nominatedNodeName;
    if (nominated) {
      const ni = this.cache.get(nominated);
      if (ni) {
        const s = fwk.runFilterWithNominatedPods(state, pod, ni);
        if (s === null) return { kind: "ok", host: ni.name, evaluated: 1, feasible: 1 };
        if (s.code === Code.Error) return { kind: "error", status: s };
      }
    }
    let nodes: readonly NodeInfo[] = all;
    if (pre.result?.nodeNames) {
      nodes = [...pre.result.nodeNames].map((n) => this.cache.get(n)).filter((n): n is NodeInfo => n !== undefined);
      statuses.absent = new Status(Code.UnschedulableAndUnresolvable, [`node(s) didn't satisfy plugin(s) [${[...pre.narrowedBy].sort().join(" ")}]`]);
      for (const p of pre.narrowedBy) rejectedBy.add(p);
    }
    const feasible: NodeInfo[] = [];
    const n = nodes.length;
    const toFind = fwk.hasScorePlugins ? numFeasibleNodesToFind(fwk.profile.percentageOfNodesToScore ?? 0, n) : 1;
    const startAt = n === 0 ? 0 : this.nextStartNodeIndex % n;
    for (let i = 0; i < n && feasible.length < toFind; i++) {
      const ni = nodes[(startAt + i) % n]!;
      const s = fwk.runFilterWithNominatedPods(state, pod, ni);
      if (s === null) {
        feasible.push(ni);
        continue;
      }
      if (s.code === Code.Error) return { kind: "error", status: s };
      statuses.set(ni.name, s);
      if (s.plugin) rejectedBy.add(s.plugin);
    }
    const processed = feasible.length + statuses.size;
    this.nextStartNodeIndex = (this.nextStartNodeIndex + processed) % all.length;
    if (feasible.length === 0) return { kind: "fit", numAllNodes: all.length, statuses, preFilterMsg: "", rejectedBy };
    if (feasible.length === 1) return { kind: "ok", host: feasible[0]!.name, evaluated: 1 + statuses.size, feasible: 1 };
    const pre2 = fwk.runPreScore(state, pod, feasible);
    if (pre2) return { kind: "error", status: pre2 };
    const scores = fwk.runScore(state, pod, feasible);
    return { kind: "ok", host: this.selectHost(feasible, scores), evaluated: feasible.length + statuses.size, feasible: feasible.length };
  }

  /** The highest score; ties broken uniformly at random (reservoir sampling, as upstream). */
  private selectHost(nodes: readonly NodeInfo[], scores: Float64Array): string {
    let best = -Infinity;
    let chosen = 0;
    let ties = 0;
    for (let i = 0; i < nodes.length; i++) {
      const s = scores[i]!;
      if (s > best) {
        best = s;
        chosen = i;
        ties = 1;
      } else if (s === best) {
        ties++;
        if (Math.floor(this.random() * ties) === 0) chosen = i;
      }
    }
    return nodes[chosen]!.name;
  }

  private handleFailure(state: CycleState, q: QueuedPodInfo, result: Exclude<ScheduleResult, { kind: "ok" }>, cycle: number, start: number): void {
    const pod = q.podInfo;
    let message: string;
    let reason: "Unschedulable" | "SchedulerError";
    let nominated: string | undefined;
    if (result.kind === "fit") {
      reason = "Unschedulable";
      let postFilterMsg = "";
      if (result.numAllNodes > 0 && this.framework.profile.postFilter.length > 0) {
        const pf = this.framework.runPostFilter(state, pod, result.statuses);
        if (pf.status.code !== Code.Success) postFilterMsg = pf.status.message();
        nominated = pf.result?.nominatedNodeName;
      }
      message = result.numAllNodes === 0 ? ERR_NO_NODES_AVAILABLE : fitErrorMessage(result.numAllNodes, result.statuses, result.preFilterMsg, postFilterMsg);
      q.unschedulablePlugins = result.rejectedBy;
      this.stats.unschedulable++;
      this.o.onAttempt?.("unschedulable", (this.clock.now() - start) / 1000);
      this.log.debug({ pod: pod.key, reason: message }, "unable to schedule pod; waiting");
    } else {
      reason = "SchedulerError";
      message = result.status.message();
      q.unschedulablePlugins = new Set();
      this.stats.errors++;
      this.o.onAttempt?.("error", (this.clock.now() - start) / 1000);
      this.log.info({ pod: pod.key, err: message }, "error scheduling pod; retrying");
    }
    // Requeue the informer's current version. A pod that is gone, or was bound meanwhile (by
    // someone else, or by a bind whose answer was lost), is left alone: no requeue, and no
    // PodScheduled=False on a pod that is scheduled (upstream writes both regardless).
    const current = this.o.lookupPod(pod.namespace, pod.name);
    if (!current || current.spec?.nodeName || current.metadata?.uid !== pod.uid) {
      this.log.debug({ pod: pod.key, node: current?.spec?.nodeName }, "pod gone or bound meanwhile; not requeued");
      return;
    }
    q.podInfo = this.podInfos.get(current);
    this.queue.addUnschedulableIfNotPresent(q, cycle);
    if (nominated !== undefined) this.nominator.set(q.podInfo, nominated);
    this.o.events.event(current, "Warning", "FailedScheduling", truncateMessage(message));
    const patch = podSchedulingFailurePatch(current, reason, message, nominated, this.clock.now());
    if (patch) {
      this.track(
        this.o.api.patchPodStatus(pod.namespace, pod.name, patch).catch((err: unknown) => {
          this.log.debug({ err, pod: pod.key }, "could not update the pod's PodScheduled condition");
        }),
      );
    }
  }
}

/**
 * The pods/status patch for a failed attempt, or undefined when the pod already says exactly
 * this (upstream's updatePod: only a changed condition or nomination is written).
 */
export function podSchedulingFailurePatch(pod: RPod, reason: string, message: string, nominated: string | undefined, now: number): { conditions: PodCondition[]; nominatedNodeName?: string | null } | undefined {
  const existing = (pod.status?.conditions ?? []).find((c) => c.type === "PodScheduled");
  const conditionSame = existing?.status === "False" && existing.reason === reason && existing.message === message;
  const currentNominated = pod.status?.nominatedNodeName ?? "";
  const nominationChanges = nominated !== undefined && nominated !== currentNominated;
  if (conditionSame && !nominationChanges) return undefined;
  const condition: PodCondition = {
    type: "PodScheduled",
    status: "False",
    reason,
    message,
    lastProbeTime: null as unknown as string,
    lastTransitionTime: existing?.status === "False" && existing.lastTransitionTime ? existing.lastTransitionTime : rfc3339(now),
  };
  return { conditions: [condition], ...(nominationChanges ? { nominatedNodeName: nominated === "" ? null : nominated } : {}) };
}

function scaledDown(old: PodInfo, now: PodInfo): boolean {
  const a = old.requests;
  const b = now.requests;
  if (b.milliCPU < a.milliCPU || b.memory < a.memory || b.ephemeralStorage < a.ephemeralStorage) return true;
  if (a.scalar) for (const [k, v] of a.scalar) if (b.getScalar(k) < v) return true;
  return false;
}

/** The cluster events a node update amounts to. */
export function nodeEvents(oldNode: RNode, newNode: RNode): ClusterEvent[] {
  const out: ClusterEvent[] = [];
  if (!jsonEqual(oldNode.status?.allocatable, newNode.status?.allocatable)) out.push("NodeAllocatable");
  if (!labelsEqual(oldNode.metadata?.labels, newNode.metadata?.labels)) out.push("NodeLabel");
  if (!jsonEqual(oldNode.spec?.taints, newNode.spec?.taints) || (oldNode.spec?.unschedulable ?? false) !== (newNode.spec?.unschedulable ?? false)) out.push("NodeTaint");
  if (!jsonEqual(oldNode.status?.conditions?.map((c) => [c.type, c.status]), newNode.status?.conditions?.map((c) => [c.type, c.status]))) out.push("NodeCondition");
  return out;
}
