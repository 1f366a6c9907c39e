// Pod garbage collection (upstream pkg/controller/podgc). Every gcCheckPeriod it
//  - deletes the oldest terminated pods (Succeeded or Failed; evicted ones first) beyond
//    --terminated-pod-gc-threshold;
//  - force-deletes terminating pods on nodes that are not Ready and carry the
//    `node.kubernetes.io/out-of-service` taint (an administrator's word that the node is gone,
//    so its kubelet will never finish them);
//  - force-deletes pods bound to nodes that no longer exist: a node missing from the cache is
//    quarantined for 40 s and then looked up with a live GET, so a node the cache has not seen
//    yet is not mistaken for a deleted one;
//  - force-deletes terminating pods that were never scheduled.
// A pod that is not yet terminal is first patched to phase Failed (with a DisruptionTarget
// condition for orphans), so that controllers see it failed even if the delete never lands.
import type { Node, Pod, PodCondition } from "kubernetes-types/core/v1.js";
import { Counter, type Registry } from "prom-client";
import { sleep, type Clock } from "../../client/clock.js";
import { isNotFound } from "../../client/errors.js";
import type { Lister } from "../../client/informer.js";
import type { DeepReadonly } from "../../client/objects.js";
import type { Logger } from "../../util/log.js";
import type { Api } from "../api.js";
import { rfc3339 } from "../../util/time.js";

export const POD_GC_CONTROLLER = "pod-garbage-collector-controller";
export const TAINT_NODE_OUT_OF_SERVICE = "node.kubernetes.io/out-of-service";

export interface PodGCOptions {
  /** --terminated-pod-gc-threshold: terminated pods kept before the oldest go; 0 disables; default 12500. */
  readonly terminatedPodThreshold: number;
  /** How often a pass runs; upstream's 20 s. */
  readonly gcCheckPeriodMs: number;
  /** How long a node missing from the cache waits before a live lookup; upstream's 40 s. */
  readonly quarantineMs: number;
}

export const DEFAULT_POD_GC_OPTIONS: PodGCOptions = Object.freeze({ terminatedPodThreshold: 12_500, gcCheckPeriodMs: 20_000, quarantineMs: 40_000 });

export type PodGCReason = "PodGCReasonTerminated" | "PodGCReasonTerminatingOutOfService" | "PodGCReasonOrphaned" | "PodGCReasonTerminatingUnscheduled";

export interface PodGCMetrics {
  deleted(namespace: string, reason: PodGCReason): void;
  failed(namespace: string, reason: PodGCReason): void;
}

/** Upstream's pod_gc_collector_force_delete_pods_total and ..._pod_errors_total; shared across terms of leadership. */
export function podGCMetrics(registry: Registry): PodGCMetrics {
  const counter = (name: string, help: string): Counter =>
    (registry.getSingleMetric(name) as Counter | undefined) ?? new Counter({ name, help, labelNames: ["namespace", "reason"], registers: [registry] });
  const ok = counter("pod_gc_collector_force_delete_pods_total", "Number of pods that are being forcefully deleted since the Pod GC Controller started.");
  const bad = counter("pod_gc_collector_force_delete_pod_errors_total", "Number of errors encountered when forcefully deleting the pods since the Pod GC Controller started.");
  return {
    deleted: (namespace, reason) => ok.inc({ namespace, reason }),
    failed: (namespace, reason) => bad.inc({ namespace, reason }),
  };
}

export interface PodGCDeps {
  readonly api: Api;
  readonly pods: Lister<Pod>;
  readonly nodes: Lister<Node>;
  readonly log: Logger;
  readonly clock: Clock;
  readonly options: PodGCOptions;
  readonly metrics?: PodGCMetrics;
}

type CachedPod = DeepReadonly<Pod>;

function isTerminated(pod: CachedPod): boolean {
  const phase = pod.status?.phase ?? "";
  return phase !== "Pending" && phase !== "Running" && phase !== "Unknown";
}

function isEvicted(pod: CachedPod): boolean {
  return pod.status?.phase === "Failed" && pod.status.reason === "Evicted";
}

/** Upstream's byEvictionAndCreationTimestamp: evicted pods first, then oldest first, names breaking ties. */
export function byEvictionAndCreation(a: CachedPod, b: CachedPod): number {
  const ea = isEvicted(a);
  const eb = isEvicted(b);
  if (ea !== eb) return ea ? -1 : 1;
  const ta = Date.parse(a.metadata?.creationTimestamp ?? "") || 0;
  const tb = Date.parse(b.metadata?.creationTimestamp ?? "") || 0;
  if (ta !== tb) return ta - tb;
  const na = a.metadata?.name ?? "";
  const nb = b.metadata?.name ?? "";
  return na < nb ? -1 : na > nb ? 1 : 0;
}

async function parallel<T>(items: readonly T[], workers: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(workers, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

const DELETE_WORKERS = 16;

export class PodGCController {
  /** Nodes missing from the cache → when they may be looked up (upstream's delaying nodeQueue). */
  private readonly quarantine = new Map<string, number>();

  constructor(private readonly d: PodGCDeps) {}

  /** One pass, as upstream's gc(). */
  async gc(): Promise<void> {
    const pods = this.d.pods.list();
    const nodes = this.d.nodes.list();
    if (this.d.options.terminatedPodThreshold > 0) await this.gcTerminated(pods);
    await this.gcTerminating(pods);
    await this.gcOrphaned(pods, nodes);
    await this.gcUnscheduledTerminating(pods);
  }

  private async gcTerminated(pods: readonly CachedPod[]): Promise<void> {
    const terminated = pods.filter(isTerminated);
    const excess = terminated.length - this.d.options.terminatedPodThreshold;
    if (excess <= 0) return;
    this.d.log.info({ pods: excess }, "garbage collecting terminated pods");
    const victims = [...terminated].sort(byEvictionAndCreation).slice(0, excess);
    await parallel(victims, DELETE_WORKERS, (p) => this.forceDelete(p, "PodGCReasonTerminated"));
  }

  private async gcTerminating(pods: readonly CachedPod[]): Promise<void> {
    const victims: CachedPod[] = [];
    for (const pod of pods) {
      if (!pod.metadata?.deletionTimestamp) continue;
      const node = this.d.nodes.get(pod.spec?.nodeName ?? "");
      if (!node) continue;
      const ready = (node.status?.conditions ?? []).find((c) => c.type === "Ready")?.status === "True";
      if (!ready && (node.spec?.taints ?? []).some((t) => t.key === TAINT_NODE_OUT_OF_SERVICE)) victims.push(pod);
    }
    if (victims.length === 0) return;
    this.d.log.info({ pods: victims.length }, "garbage collecting terminating pods on out-of-service nodes");
    await parallel(victims.sort(byEvictionAndCreation), DELETE_WORKERS, (p) => this.forceDelete(p, "PodGCReasonTerminatingOutOfService"));
  }

  private async gcOrphaned(pods: readonly CachedPod[], nodes: readonly DeepReadonly<Node>[]): Promise<void> {
    const existing = new Set(nodes.map((n) => n.metadata?.name ?? ""));
    const now = this.d.clock.now();
    for (const pod of pods) {
      const name = pod.spec?.nodeName ?? "";
      if (name !== "" && !existing.has(name) && !this.quarantine.has(name)) this.quarantine.set(name, now + this.d.options.quarantineMs);
    }
    const deleted = new Set<string>();
    for (const [name, at] of [...this.quarantine]) {
      if (at > now) continue;
      this.quarantine.delete(name);
      if (existing.has(name)) continue;
      try {
        await this.d.api.resource<Node>("", "v1", "nodes").get(name);
      } catch (err) {
        if (isNotFound(err)) deleted.add(name);
        // Any other failure: the node is quarantined again by the next pass if still missing.
        else this.d.log.error({ err, node: name }, "error while getting node");
      }
    }
    if (deleted.size === 0) return;
    const condition: PodCondition = { type: "DisruptionTarget", status: "True", reason: "DeletionByPodGC", message: "PodGC: node no longer exists" };
    for (const pod of pods) {
      if (!deleted.has(pod.spec?.nodeName ?? "")) continue;
      this.d.log.info({ pod: `${pod.metadata?.namespace ?? ""}/${pod.metadata?.name ?? ""}`, node: pod.spec?.nodeName }, "found orphaned pod assigned to a deleted node; deleting");
      await this.forceDelete(pod, "PodGCReasonOrphaned", condition);
    }
  }

  private async gcUnscheduledTerminating(pods: readonly CachedPod[]): Promise<void> {
    for (const pod of pods) {
      if (!pod.metadata?.deletionTimestamp || (pod.spec?.nodeName ?? "") !== "") continue;
      await this.forceDelete(pod, "PodGCReasonTerminatingUnscheduled");
    }
  }

  /** Upstream's markFailedAndDeletePodWithCondition; failures are logged and counted, never thrown. */
  private async forceDelete(pod: CachedPod, reason: PodGCReason, condition?: PodCondition): Promise<void> {
    const ns = pod.metadata?.namespace ?? "";
    const name = pod.metadata?.name ?? "";
    const uid = pod.metadata?.uid ?? "";
    const pods = this.d.api.resource<Pod>("", "v1", "pods").namespace(ns);
    this.d.log.info({ pod: `${ns}/${name}`, reason }, "PodGC is force deleting pod");
    try {
      const phase = pod.status?.phase;
      if (phase !== "Succeeded" && phase !== "Failed") {
        const status: Record<string, unknown> = { phase: "Failed" };
        if (condition) {
          const at = rfc3339(this.d.clock.now());
          status["conditions"] = [{ ...condition, lastTransitionTime: at }];
        }
        await pods.patch(name, "strategic", { metadata: { uid }, status }, { subresource: "status" });
      }
      await pods.delete(name, { gracePeriodSeconds: 0, ...(uid ? { preconditions: { uid } } : {}) });
      this.d.metrics?.deleted(ns, reason);
    } catch (err) {
      if (isNotFound(err)) return;
      this.d.metrics?.failed(ns, reason);
      this.d.log.error({ err, pod: `${ns}/${name}`, reason }, "force deleting pod failed");
    }
  }

  /** A pass every gcCheckPeriod until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    do {
      try {
        await this.gc();
      } catch (err) {
        this.d.log.error({ err }, "pod garbage collection pass failed");
      }
    } while (await sleep(this.d.clock, this.d.options.gcCheckPeriodMs, signal));
  }
}
