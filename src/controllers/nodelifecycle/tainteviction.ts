// The taint-eviction controller (upstream pkg/controller/tainteviction, run on its own since
// Kubernetes 1.29): a pod on a node with NoExecute taints is deleted at once if it does not
// tolerate them all, or when the shortest tolerationSeconds among the tolerations it uses runs
// out, counted from when the controller first saw it tainted; tolerations without seconds
// keep it forever. Taints going away (or the pod going) cancel the eviction. Before deleting,
// the pod gets the DisruptionTarget condition (reason DeletionByTaintManager).
import type { Node, Pod, Taint, Toleration } from "kubernetes-types/core/v1.js";
import type { Clock, Timer } from "../../client/clock.js";
import type { ControllerMetrics } from "../../client/controller.js";
import { runController } from "../../client/controller.js";
import { isNotFound } from "../../client/errors.js";
import { NODE_NAME_INDEX, type Indexer, type Lister } from "../../client/informer.js";
import { keyOf, splitKey, type DeepReadonly, type KubeObject } from "../../client/objects.js";
import { WorkQueue } from "../../client/workqueue.js";
import type { Logger } from "../../util/log.js";
import type { EventSink } from "../context.js";
import type { Api } from "../api.js";
import { jsonEqual } from "../../util/json.js";
import { matchingTolerations, minTolerationMs, noExecuteTaints } from "./taints.js";
import { rfc3339 } from "../../util/time.js";

export const TAINT_EVICTION_CONTROLLER = "taint-eviction-controller";

const DELETE_RETRIES = 5;

export interface TaintEvictionDeps {
  readonly api: Api;
  readonly nodes: Lister<Node>;
  /** The pod cache, with the node-name index. */
  readonly pods: Indexer<Pod>;
  readonly events: EventSink;
  readonly log: Logger;
  readonly clock: Clock;
  readonly metrics?: ControllerMetrics;
}

interface ScheduledEviction {
  readonly createdAt: number;
  readonly fireAt: number;
  timer: Timer | undefined;
  /** Set once the pod was deleted: the entry stays (so it is not deleted twice) until the pod goes. */
  done: boolean;
  running: Promise<void> | undefined;
}

/** Taint or toleration lists equal as upstream's Semantic.DeepEqual (a missing list is an empty one). */
function sameList(a: readonly unknown[] | undefined, b: readonly unknown[] | undefined): boolean {
  return jsonEqual(a ?? [], b ?? []);
}

export class TaintEvictionController {
  readonly nodeQueue = new WorkQueue<string>();
  /** Keys are `nodeName|namespace/name`: the node is part of the key so a pod is judged against the node it was bound to. */
  readonly podQueue = new WorkQueue<string>();
  private readonly taintedNodes = new Map<string, DeepReadonly<Taint>[]>();
  private readonly evictions = new Map<string, ScheduledEviction>();
  private stopped = false;

  constructor(private readonly d: TaintEvictionDeps) {}

  // ---- event handlers: keys only ----

  podChanged(old: DeepReadonly<Pod> | undefined, pod: DeepReadonly<Pod> | undefined): void {
    const any = pod ?? old;
    if (!any) return;
    if (old && pod && old.spec?.nodeName === pod.spec?.nodeName && sameList(old.spec?.tolerations, pod.spec?.tolerations)) return;
    this.podQueue.add(`${any.spec?.nodeName ?? ""}|${keyOf(any as DeepReadonly<KubeObject>)}`);
  }

  nodeChanged(old: DeepReadonly<Node> | undefined, node: DeepReadonly<Node> | undefined): void {
    const any = node ?? old;
    if (!any?.metadata?.name) return;
    if (old && node && sameList(noExecuteTaints(old), noExecuteTaints(node))) return;
    this.nodeQueue.add(any.metadata.name);
  }

  // ---- scheduled evictions ----

  private podRef(key: string): KubeObject {
    const { namespace, name } = splitKey(key);
    return { apiVersion: "v1", kind: "Pod", metadata: { name, namespace } };
  }

  /** Cancels a pending eviction; an event says so. Forgets a finished one silently. */
  private cancel(key: string): void {
    const e = this.evictions.get(key);
    if (!e) return;
    this.evictions.delete(key);
    if (e.done) return;
    e.timer?.cancel();
    this.d.events.event(this.podRef(key), "Normal", "TaintManagerEviction", `Cancelling deletion of Pod ${key}`);
  }

  private schedule(key: string, createdAt: number, fireAt: number): void {
    if (this.evictions.has(key)) return;
    const e: ScheduledEviction = { createdAt, fireAt, timer: undefined, done: false, running: undefined };
    this.evictions.set(key, e);
    e.timer = this.d.clock.setTimer(fireAt - this.d.clock.now(), () => {
      e.timer = undefined;
      if (this.stopped || this.evictions.get(key) !== e) return;
      e.running = this.evict(key, e);
    });
  }

  private async evict(key: string, e: ScheduledEviction): Promise<void> {
    this.d.log.info({ pod: key }, "deleting pod: NoExecute taint not tolerated");
    this.d.events.event(this.podRef(key), "Normal", "TaintManagerEviction", `Marking for deletion Pod ${key}`);
    let lastErr: unknown;
    for (let i = 0; i < DELETE_RETRIES; i++) {
      try {
        await this.addConditionAndDeletePod(key);
        e.done = true;
        return;
      } catch (err) {
        if (isNotFound(err)) {
          e.done = true;
          return;
        }
        lastErr = err;
        await new Promise<void>((r) => this.d.clock.setTimer(10, r));
      }
    }
    this.d.log.error({ err: lastErr, pod: key }, "evicting pod failed");
    // A failed eviction is dropped so that the next update of the pod or node schedules it again.
    if (this.evictions.get(key) === e) this.evictions.delete(key);
  }

  private async addConditionAndDeletePod(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const pods = this.d.api.resource<Pod>("", "v1", "pods").namespace(namespace);
    const pod = await pods.get(name);
    const has = (pod.status?.conditions ?? []).some((c) => c.type === "DisruptionTarget" && c.status === "True" && c.reason === "DeletionByTaintManager");
    if (!has) {
      const condition = { type: "DisruptionTarget", status: "True", reason: "DeletionByTaintManager", message: "Taint manager: deleting due to NoExecute taint", lastTransitionTime: rfc3339(this.d.clock.now()) };
      await pods.patch(name, "strategic", { metadata: { uid: pod.metadata?.uid }, status: { conditions: [condition] } }, { subresource: "status" });
    }
    await pods.delete(name, { preconditions: { uid: pod.metadata?.uid ?? "" } });
  }

  /** A scheduled eviction of the pod, if any: when it was decided and when it fires. */
  scheduled(key: string): { readonly createdAt: number; readonly fireAt: number; readonly done: boolean } | undefined {
    const e = this.evictions.get(key);
    return e && { createdAt: e.createdAt, fireAt: e.fireAt, done: e.done };
  }

  // ---- sync ----

  /** Upstream's processPodOnNode. */
  private processPodOnNode(key: string, tolerations: readonly DeepReadonly<Toleration>[] | undefined, taints: readonly DeepReadonly<Taint>[], now: number): void {
    if (taints.length === 0) {
      this.cancel(key);
      return;
    }
    const { all, used } = matchingTolerations(taints, tolerations ?? []);
    if (!all) {
      this.cancel(key);
      this.schedule(key, now, now);
      return;
    }
    const min = minTolerationMs(used);
    if (min < 0) {
      this.cancel(key);
      return;
    }
    let start = now;
    const existing = this.evictions.get(key);
    if (existing) {
      // An eviction decided earlier stands (upstream keeps the earlier start and its deadline).
      start = existing.createdAt;
      if (start + min < now + min) return;
      this.cancel(key);
    }
    this.schedule(key, start, start + min);
  }

  /** Upstream's handleNodeUpdate: (re)judges every pod on the node against its NoExecute taints. */
  syncNode(name: string): Promise<void> {
    const node = this.d.nodes.get(name);
    if (!node) {
      this.taintedNodes.delete(name);
      return Promise.resolve();
    }
    const taints = noExecuteTaints(node);
    if (taints.length === 0) this.taintedNodes.delete(name);
    else this.taintedNodes.set(name, taints);
    const pods = this.d.pods.byIndex(NODE_NAME_INDEX, name);
    if (taints.length === 0) {
      for (const p of pods) this.cancel(keyOf(p as DeepReadonly<KubeObject>));
      return Promise.resolve();
    }
    const now = this.d.clock.now();
    for (const p of pods) this.processPodOnNode(keyOf(p as DeepReadonly<KubeObject>), p.spec?.tolerations, taints, now);
    return Promise.resolve();
  }

  /** Upstream's handlePodUpdate; `item` is `nodeName|namespace/name`. */
  syncPod(item: string): Promise<void> {
    const bar = item.indexOf("|");
    const nodeName = item.slice(0, bar);
    const key = item.slice(bar + 1);
    const pod = this.d.pods.get(key);
    if (!pod) {
      this.cancel(key);
      return Promise.resolve();
    }
    if ((pod.spec?.nodeName ?? "") !== nodeName || nodeName === "") return Promise.resolve();
    const taints = this.taintedNodes.get(nodeName);
    if (!taints) return Promise.resolve();
    this.processPodOnNode(key, pod.spec?.tolerations, taints, this.d.clock.now());
    return Promise.resolve();
  }

  /** Node updates first, as upstream's workers prefer them: then pods see current taints. */
  async run(signal: AbortSignal, workers: number): Promise<void> {
    const metrics = this.d.metrics ? { metrics: this.d.metrics } : {};
    await Promise.all([
      runController({ name: TAINT_EVICTION_CONTROLLER, queue: this.nodeQueue, workers, sync: (k) => this.syncNode(k), log: this.d.log, signal, ...metrics }),
      runController({ name: `${TAINT_EVICTION_CONTROLLER}-pods`, queue: this.podQueue, workers, sync: (k) => this.syncPod(k), log: this.d.log, signal, ...metrics }),
    ]);
    this.stopped = true;
    for (const e of this.evictions.values()) e.timer?.cancel();
    await Promise.all([...this.evictions.values()].flatMap((e) => (e.running ? [e.running] : [])));
  }
}
