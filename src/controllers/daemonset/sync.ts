// One reconcile of a DaemonSet, as upstream's syncDaemonSet: read it and the nodes from the
// caches, construct its history (the current revision's hash labels new pods), claim its pods,
// then, unless earlier creates and deletes are still unobserved, create a pod on every node
// that should run one and has none and delete pods where none should run (manage), replace
// old pods per the update strategy, trim the history, and write the status. Reads come from
// listers; every write goes through the Api interface, so a unit test drives it with the
// recording fake.
import type { DaemonSet, DaemonSetStatus } from "kubernetes-types/apps/v1.js";
import type { Pod, PodSpec, PodTemplateSpec } from "kubernetes-types/core/v1.js";
import type { ObjectMeta } from "kubernetes-types/meta/v1.js";
import { LabelSelectorError, labelSelectorAsSelector, type Selector } from "../../api/labels.js";
import type { Clock } from "../../client/clock.js";
import { isConflict, isNamespaceTerminating, isNotFound } from "../../client/errors.js";
import { keyOf, type DeepReadonly, type KubeObject } from "../../client/objects.js";
import type { Logger } from "../../util/log.js";
import type { Api, ResourceApi } from "../api.js";
import type { EventSink } from "../context.js";
import { adoptPatch, claimObjects, controllerRefFor, releasePatch } from "../replicaset/claim.js";
import { WorkloadError } from "../replicaset/errors.js";
import type { Expectations } from "../replicaset/expectations.js";
import { isPodAvailable, isPodReady, type RPod } from "../replicaset/podutil.js";
import { slowStartBatch, SLOW_START_INITIAL_BATCH } from "../replicaset/sync.js";
import type { FailedPodsBackoff } from "./backoff.js";
import { CONTROLLER_REVISION_HASH_LABEL, type RRevision } from "../history/history.js";
import { nodeShouldRunDaemonPod, pinToNode, withDaemonTolerations, type RDaemonSet, type RNode } from "./nodes.js";
import { DaemonSetHistory } from "./revisions.js";
import { planRollingUpdate } from "./rolling.js";
import { calculateCounts, statusUpToDate, type DaemonSetCounts } from "./status.js";
import { DAEMONSET_API_VERSION, DAEMONSET_KIND, allowsSurge, byCreationAndPhase, dsOwner, isRollingUpdate, podsByNode, templateGeneration, TEMPLATE_GENERATION_LABEL } from "./util.js";

/** Upstream's BurstReplicas for DaemonSets: at most this many creates or deletes per sync. */
export const DS_BURST_REPLICAS = 250;

/** The read side: what the controller needs of its caches. */
export interface DaemonSetCaches {
  daemonSet(key: string): RDaemonSet | undefined;
  daemonSets(namespace?: string): readonly RDaemonSet[];
  nodes(): readonly RNode[];
  /** The pods of a namespace a DaemonSet with this uid may claim: its own and the orphans. */
  claimable(namespace: string, ownerUid: string): readonly RPod[];
  revisions(namespace: string): readonly RRevision[];
}

export interface DaemonSetSyncDeps {
  readonly caches: DaemonSetCaches;
  readonly api: Api;
  readonly events: EventSink;
  readonly expectations: Expectations;
  readonly backoff: FailedPodsBackoff;
  readonly clock: Clock;
  readonly enqueueAfter: (key: string, ms: number) => void;
  readonly log: Logger;
  readonly burstReplicas?: number;
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function podKey(p: RPod): string {
  return keyOf(p as DeepReadonly<KubeObject>);
}

/** A selector that selects everything: upstream refuses to act on it (it would claim every pod of the namespace). */
function selectsAll(ds: RDaemonSet): boolean {
  const s = ds.spec?.selector;
  return !!s && Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0;
}

export class DaemonSetSyncer {
  private readonly dsApi: ResourceApi<DaemonSet>;
  private readonly podApi: ResourceApi<Pod>;
  private readonly history: DaemonSetHistory;
  private readonly burst: number;

  constructor(private readonly d: DaemonSetSyncDeps) {
    this.dsApi = d.api.resource<DaemonSet>("apps", "v1", "daemonsets", { namespaced: true, kind: "DaemonSet" });
    this.podApi = d.api.resource<Pod>("", "v1", "pods", { namespaced: true, kind: "Pod" });
    this.history = new DaemonSetHistory({ api: d.api, log: d.log, revisions: (ns) => d.caches.revisions(ns), canAdopt: (ds) => this.canAdopt(ds) });
    this.burst = d.burstReplicas ?? DS_BURST_REPLICAS;
  }

  async sync(key: string, log: Logger = this.d.log): Promise<void> {
    const { caches, expectations } = this.d;
    const ds = caches.daemonSet(key);
    if (!ds) {
      expectations.delete(key);
      return;
    }
    this.d.backoff.gc(this.d.clock.now());
    const nodes = caches.nodes();
    if (selectsAll(ds)) {
      this.d.events.event(this.eventTarget(ds), "Warning", "SelectingAll", "This daemon set is selecting all pods. A non-empty selector is required.");
      return;
    }
    let selector: Selector;
    try {
      selector = labelSelectorAsSelector(ds.spec?.selector as Parameters<typeof labelSelectorAsSelector>[0]);
    } catch (err) {
      // An invalid selector will not fix itself by retrying; the next update re-queues it.
      if (err instanceof LabelSelectorError) {
        log.error({ err }, "cannot convert the selector");
        return;
      }
      throw err;
    }
    // Being deleted: whether its revisions still exist is unknown (the garbage collector may
    // have taken them before the pods), so neither pods nor status can be computed reliably.
    if (ds.metadata?.deletionTimestamp) return;

    const claimPods = (): Promise<RPod[]> => this.claimPods(ds, selector);
    const { cur, old } = await this.history.construct(ds, claimPods);
    const hash = cur.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? "";
    // Claimed once per sync: manage, the rolling update, the history cleanup and the status all
    // read the same cache upstream re-lists, and every write they make is covered by
    // expectations, so a second claim would see nothing new.
    const pods = await claimPods();
    const byNode = podsByNode(pods);

    if (!expectations.satisfied(key)) {
      // Only the status: observedGeneration is not raised for a generation not acted on.
      await this.updateStatus(key, ds, nodes, byNode, hash, false);
      return;
    }
    let err: unknown;
    try {
      await this.manage(key, ds, nodes, byNode, hash, log);
      if (expectations.satisfied(key) && isRollingUpdate(ds)) {
        const plan = planRollingUpdate(ds, nodes, byNode, hash, this.d.clock.now());
        if (plan.podsToDelete.length > 0 || plan.nodesToCreate.length > 0) log.debug({ deleting: plan.podsToDelete.length, creating: plan.nodesToCreate.length, maxSurge: plan.maxSurge, maxUnavailable: plan.maxUnavailable }, "rolling update");
        await this.syncNodes(key, ds, plan.podsToDelete, plan.nodesToCreate, hash);
      }
      await this.history.cleanup(ds, old, [...podsByNode(pods, true).values()].flat());
    } catch (e) {
      err = e;
    }
    try {
      await this.updateStatus(key, ds, nodes, byNode, hash, true);
    } catch (statusErr) {
      if (err === undefined) throw statusErr;
      log.error({ err: statusErr }, "failed to update status");
    }
    if (err !== undefined) throw err;
  }

  private async canAdopt(ds: RDaemonSet): Promise<void> {
    const fresh = await this.dsApi.namespace(ds.metadata?.namespace ?? "").get(ds.metadata?.name ?? "");
    const key = keyOf(ds as DeepReadonly<KubeObject>);
    if (fresh.metadata?.uid !== ds.metadata?.uid) throw new WorkloadError("CannotAdopt", `original DaemonSet ${key} is gone: got uid ${fresh.metadata?.uid ?? ""}, wanted ${ds.metadata?.uid ?? ""}`);
    if (fresh.metadata?.deletionTimestamp) throw new WorkloadError("CannotAdopt", `DaemonSet ${key} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
  }

  /** The pods the DaemonSet controls, adopting matching orphans and releasing its own it no longer selects (upstream getDaemonPods). */
  private async claimPods(ds: RDaemonSet, selector: Selector): Promise<RPod[]> {
    const ns = ds.metadata?.namespace ?? "";
    const owner = dsOwner(ds);
    const pods = this.podApi.namespace(ns);
    const { claimed, errors } = await claimObjects<Pod>(owner, selector, this.d.caches.claimable(ns, ds.metadata?.uid ?? ""), {
      canAdopt: () => this.canAdopt(ds),
      adopt: (p) => pods.patch(p.metadata?.name ?? "", "strategic", adoptPatch(owner, p.metadata?.uid ?? "")),
      release: (p) => pods.patch(p.metadata?.name ?? "", "strategic", releasePatch(ds.metadata?.uid ?? "", p.metadata?.uid ?? "")),
    });
    if (errors.length > 0) throw errors[0];
    return claimed;
  }

  /**
   * Creates a pod on each node that should run one and has none, deletes pods from nodes that
   * should not run one (and unbound pods aimed at nodes that no longer exist), failed pods
   * (with backoff) and surplus pods (upstream manage).
   */
  private async manage(key: string, ds: RDaemonSet, nodes: readonly RNode[], byNode: ReadonlyMap<string, readonly RPod[]>, hash: string, log: Logger): Promise<void> {
    const create: string[] = [];
    const remove: RPod[] = [];
    for (const node of nodes) {
      const r = this.podsShouldBeOnNode(key, node, byNode, ds, hash, log);
      create.push(...r.create);
      remove.push(...r.remove);
    }
    // A pod the scheduler has not bound, for a node that is gone, will never be bound, and pod
    // GC only collects pods of nodes that are gone once bound to them.
    const existing = new Set(nodes.map((n) => n.metadata?.name ?? ""));
    for (const [node, pods] of byNode) {
      if (existing.has(node)) continue;
      for (const p of pods) if (!p.spec?.nodeName) remove.push(p);
    }
    await this.syncNodes(key, ds, remove, create, hash);
  }

  /** What one node needs (upstream podsShouldBeOnNode): a pod created, some deleted, or nothing. */
  private podsShouldBeOnNode(key: string, node: RNode, byNode: ReadonlyMap<string, readonly RPod[]>, ds: RDaemonSet, hash: string, log: Logger): { create: string[]; remove: RPod[] } {
    const name = node.metadata?.name ?? "";
    const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, ds);
    const pods = byNode.get(name);
    const create: string[] = [];
    const remove: RPod[] = [];
    if (shouldRun && pods === undefined) {
      create.push(name);
      return { create, remove };
    }
    if (shouldContinueRunning) {
      const running: RPod[] = [];
      for (const p of pods ?? []) {
        if (p.metadata?.deletionTimestamp) continue;
        const phase = p.status?.phase;
        if (phase === "Failed") {
          // Where a kubelet keeps rejecting the pod, the controller must not fight it in a hot loop.
          const bkey = `${ds.metadata?.uid ?? ""}/${ds.status?.observedGeneration ?? 0}/${name}`;
          const now = this.d.clock.now();
          if (this.d.backoff.inBackoff(bkey, now)) {
            const delay = this.d.backoff.delay(bkey);
            log.debug({ pod: podKey(p), node: name, delayMs: delay }, "deleting the failed pod on the node is limited by backoff");
            this.d.enqueueAfter(key, delay);
            continue;
          }
          this.d.backoff.next(bkey, now);
          this.d.events.event(this.eventTarget(ds), "Warning", "FailedDaemonPod", `Found failed daemon pod ${p.metadata?.namespace ?? ""}/${p.metadata?.name ?? ""} on node ${name}, will try to kill it`);
          remove.push(p);
        } else if (phase === "Succeeded") {
          this.d.events.event(this.eventTarget(ds), "Normal", "SucceededDaemonPod", `Found succeeded daemon pod ${p.metadata?.namespace ?? ""}/${p.metadata?.name ?? ""} on node ${name}, will try to delete it`);
          remove.push(p);
        } else {
          running.push(p);
        }
      }
      running.sort(byCreationAndPhase);
      if (!allowsSurge(ds)) {
        // One pod per node: keep the oldest.
        remove.push(...running.slice(1));
        return { create, remove };
      }
      if (running.length <= 1) {
        // Surging needs at least one pod that is not being deleted on the node.
        if (running.length === 0 && shouldRun) create.push(name);
        return { create, remove };
      }
      // With surge, two pods may share a node only while the oldest new one is not yet
      // available and the oldest old one is ready; every other pod goes.
      let oldestNew: RPod | undefined;
      let oldestOld: RPod | undefined;
      for (const p of running) {
        const isNew = p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] === hash;
        if (isNew && !oldestNew) oldestNew = p;
        else if (!isNew && !oldestOld) oldestOld = p;
        else remove.push(p);
      }
      if (oldestNew && oldestOld && (!isPodReady(oldestOld) || isPodAvailable(oldestNew, ds.spec?.minReadySeconds ?? 0, this.d.clock.now()))) remove.push(oldestOld);
      return { create, remove };
    }
    // Should not be here at all: every pod on the node goes.
    for (const p of pods ?? []) if (!p.metadata?.deletionTimestamp) remove.push(p);
    return { create, remove };
  }

  /**
   * Deletes `remove` and creates a pod on each of `create` (upstream syncNodes): at most
   * burstReplicas of each, creates in slow-start batches, expectations set first so that the
   * next sync waits to see them. Failed or skipped writes are observed at once, as they never
   * will be through the informer.
   */
  private async syncNodes(key: string, ds: RDaemonSet, remove: readonly RPod[], create: readonly string[], hash: string): Promise<void> {
    const { expectations } = this.d;
    const creates = create.slice(0, this.burst);
    const deletes = remove.slice(0, this.burst);
    expectations.expect(key, creates.length, deletes.map(podKey));
    const errors: unknown[] = [];
    if (creates.length > 0) {
      const template = this.podTemplate(ds, hash);
      let next = 0;
      const { successes, error } = await slowStartBatch(creates.length, SLOW_START_INITIAL_BATCH, () => this.createPod(ds, template, creates[next++]!));
      for (let i = successes; i < creates.length; i++) expectations.creationObserved(key);
      if (error !== undefined) errors.push(error);
    }
    const results = await Promise.allSettled(deletes.map((p) => this.deletePod(ds, p)));
    results.forEach((r, i) => {
      if (r.status === "fulfilled") return;
      expectations.deletionObserved(key, podKey(deletes[i]!));
      if (!isNotFound(r.reason)) errors.push(r.reason);
    });
    if (errors.length > 0) throw errors[0];
  }

  /**
   * The template pods are made from (upstream CreatePodTemplate): the DaemonSet's, with the
   * daemon tolerations and the current revision's hash label (and the template generation,
   * for DaemonSets that still carry the deprecated annotation).
   */
  private podTemplate(ds: RDaemonSet, hash: string): PodTemplateSpec {
    const t = ds.spec?.template;
    const spec = structuredClone((t?.spec ?? { containers: [] }) as PodSpec);
    spec.tolerations = withDaemonTolerations(spec.tolerations, spec.hostNetwork === true);
    const labels: Record<string, string> = { ...(t?.metadata?.labels ?? {}) };
    const generation = templateGeneration(ds);
    if (generation !== undefined) labels[TEMPLATE_GENERATION_LABEL] = generation;
    if (hash !== "") labels[CONTROLLER_REVISION_HASH_LABEL] = hash;
    return { metadata: { ...(structuredClone(t?.metadata ?? {}) as ObjectMeta), labels }, spec };
  }

  private async createPod(ds: RDaemonSet, template: PodTemplateSpec, nodeName: string): Promise<void> {
    const m = template.metadata;
    const pod: Pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        generateName: `${ds.metadata?.name ?? ""}-`,
        namespace: ds.metadata?.namespace ?? "",
        labels: { ...(m?.labels ?? {}) },
        ...(m?.annotations ? { annotations: { ...m.annotations } } : {}),
        ...(m?.finalizers ? { finalizers: [...m.finalizers] } : {}),
        ownerReferences: [controllerRefFor(dsOwner(ds))],
      },
      // Pinned to the node through required node affinity, not spec.nodeName, so the scheduler
      // still checks resources and binds it (upstream ScheduleDaemonSetPods).
      spec: { ...template.spec!, affinity: pinToNode(template.spec?.affinity, nodeName) },
    };
    try {
      const created = await this.podApi.namespace(ds.metadata?.namespace ?? "").create(pod, { answer: "metadata" });
      this.d.events.event(this.eventTarget(ds), "Normal", "SuccessfulCreate", `Created pod: ${created.metadata?.name ?? ""}`);
    } catch (err) {
      // A terminating namespace refuses every create; nothing to report or retry.
      if (isNamespaceTerminating(err)) return;
      this.d.events.event(this.eventTarget(ds), "Warning", "FailedCreate", `Error creating: ${errMessage(err)}`);
      throw err;
    }
  }

  private async deletePod(ds: RDaemonSet, p: RPod): Promise<void> {
    const name = p.metadata?.name ?? "";
    try {
      await this.podApi.namespace(ds.metadata?.namespace ?? "").delete(name);
    } catch (err) {
      if (!isNotFound(err)) this.d.events.event(this.eventTarget(ds), "Warning", "FailedDelete", `Error deleting: ${errMessage(err)}`);
      throw err;
    }
    this.d.events.event(this.eventTarget(ds), "Normal", "SuccessfulDelete", `Deleted pod: ${name}`);
  }

  private eventTarget(ds: RDaemonSet): KubeObject {
    const m = ds.metadata;
    return { apiVersion: DAEMONSET_API_VERSION, kind: DAEMONSET_KIND, metadata: { name: m?.name, namespace: m?.namespace, uid: m?.uid, resourceVersion: m?.resourceVersion } };
  }

  /**
   * Writes the counts (upstream updateDaemonSetStatus/storeDaemonSetStatus) unless the status
   * already says them for this generation; a failed write is retried once on a fresh copy.
   * With minReadySeconds, ready pods turn available later without any event: look again then.
   */
  private async updateStatus(key: string, ds: RDaemonSet, nodes: readonly RNode[], byNode: ReadonlyMap<string, readonly RPod[]>, hash: string, observeGeneration: boolean): Promise<void> {
    const counts = calculateCounts(ds, nodes, byNode, hash, this.d.clock.now());
    const generation = ds.metadata?.generation;
    if (!statusUpToDate(ds.status, counts, generation)) await this.writeStatus(ds, counts, observeGeneration);
    const minReady = ds.spec?.minReadySeconds ?? 0;
    if (minReady > 0 && counts.numberReady !== counts.numberAvailable) this.d.enqueueAfter(key, minReady * 1000);
  }

  private async writeStatus(ds: RDaemonSet, counts: DaemonSetCounts, observeGeneration: boolean): Promise<void> {
    const api = this.dsApi.namespace(ds.metadata?.namespace ?? "");
    const withCounts = (status: DeepReadonly<DaemonSetStatus> | undefined): DaemonSetStatus => ({
      ...(structuredClone(status ?? {}) as DaemonSetStatus),
      ...counts,
      ...(observeGeneration && ds.metadata?.generation !== undefined ? { observedGeneration: ds.metadata.generation } : {}),
    });
    // Shallow: the write only serializes the object, so the cached spec is shared, not copied.
    const copy = { ...ds, status: withCounts(ds.status) } as DaemonSet;
    try {
      await api.updateStatus(copy);
    } catch (err) {
      const fresh = await api.get(ds.metadata?.name ?? "");
      if (fresh.metadata?.uid !== ds.metadata?.uid) throw err;
      await api.updateStatus({ ...fresh, status: withCounts(fresh.status) });
      if (!isConflict(err)) this.d.log.debug({ err }, "status write retried after a failure");
    }
  }
}
