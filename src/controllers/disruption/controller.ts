// The disruption controller (upstream pkg/controller/disruption): keeps the status of every
// PodDisruptionBudget — expectedPods, desiredHealthy, currentHealthy, disruptionsAllowed,
// disruptedPods, observedGeneration and the DisruptionAllowed condition — which the eviction
// subresource reads to approve or refuse an eviction. It also turns a pod's DisruptionTarget
// condition back to False when the eviction that set it never led to a deletion.
import type { ReplicationController, Pod } from "kubernetes-types/core/v1.js";
import type { Deployment, ReplicaSet, StatefulSet } from "kubernetes-types/apps/v1.js";
import type { OwnerReference } from "kubernetes-types/meta/v1.js";
import type { PodDisruptionBudget } from "kubernetes-types/policy/v1.js";
import { LabelSelectorError, labelSelectorAsSelector, type Selector } from "../../api/labels.js";
import type { Clock } from "../../client/clock.js";
import { isConflict, isNotFound } from "../../client/errors.js";
import type { Lister } from "../../client/informer.js";
import { DeletedFinalStateUnknown, keyOf, splitKey, type DeepReadonly, type KubeObject } from "../../client/objects.js";
import { splitApiVersion } from "../../client/resources.js";
import type { Logger } from "../../util/log.js";
import type { Api } from "../api.js";
import type { EventSink } from "../context.js";
import { controllerRefOf } from "../replicaset/podutil.js";
import {
  buildDisruptedPods,
  countHealthyPods,
  DisruptionError,
  expectedPodCount,
  failSafeStatus,
  nextStatus,
  type ControllerScale,
  type RPdb,
  type RPod,
  type ScaleFinder,
} from "./status.js";
import { rfc3339 } from "../../util/time.js";

export const DISRUPTION_CONTROLLER = "disruption-controller";

/** How long a DisruptionTarget condition may stay True on a pod that is not being deleted; upstream's stalePodDisruptionTimeout. */
export const STALE_POD_DISRUPTION_TIMEOUT_MS = 2 * 60 * 1000;

/** Set by the kubelet, which may take arbitrarily long to act: never stale. */
const TERMINATION_BY_KUBELET = "TerminationByKubelet";

export interface DisruptionListers {
  readonly pdbs: Lister<PodDisruptionBudget>;
  readonly pods: Lister<Pod>;
  readonly replicationControllers: Lister<ReplicationController>;
  readonly replicaSets: Lister<ReplicaSet>;
  readonly deployments: Lister<Deployment>;
  readonly statefulSets: Lister<StatefulSet>;
}

export interface DisruptionDeps {
  readonly api: Api;
  readonly listers: DisruptionListers;
  readonly events: EventSink;
  readonly clock: Clock;
  /** Puts a PDB key back in the queue after `ms` (the earliest disruptedPods entry running out). */
  readonly enqueueAfter: (key: string, ms: number) => void;
  /** Puts a pod key in the stale-condition queue after `ms`. */
  readonly enqueuePodAfter: (key: string, ms: number) => void;
}

function isRef(ref: DeepReadonly<OwnerReference>, kind: string, groups: readonly string[]): boolean {
  return ref.kind === kind && groups.includes(splitApiVersion(ref.apiVersion).group);
}

/**
 * The selector a PDB matches pods with, for mapping a pod to its PDBs (upstream's
 * GetPodPodDisruptionBudgets): an invalid, missing or empty selector matches no pod here.
 */
function pdbSelectsPod(pdb: RPdb, pod: RPod): boolean {
  let sel: Selector;
  try {
    sel = labelSelectorAsSelector(pdb.spec?.selector as Parameters<typeof labelSelectorAsSelector>[0]);
  } catch {
    return false;
  }
  return !sel.isEmpty() && sel.matches(pod.metadata?.labels);
}

export class DisruptionController {
  constructor(private readonly d: DisruptionDeps) {}

  // ---- event handlers: keys only -------------------------------------------------------

  /** The keys of the PDBs selecting the pod (upstream takes the first one; every one's status depends on it). */
  pdbKeysForPod(pod: RPod): string[] {
    if (!pod.metadata?.labels || Object.keys(pod.metadata.labels).length === 0) return [];
    return this.d.listers.pdbs
      .namespace(pod.metadata.namespace ?? "")
      .list()
      .filter((pdb) => pdbSelectsPod(pdb, pod))
      .map((pdb) => keyOf(pdb as DeepReadonly<KubeObject>));
  }

  /**
   * Upstream's MultiplePodDisruptionBudgets warning on a pod that several PDBs select: the
   * eviction API refuses to evict such a pod, so `kubectl drain` would wait on it forever.
   */
  warnIfMultiple(pod: RPod, keys: readonly string[]): void {
    if (keys.length < 2) return;
    const names = keys.map((k) => JSON.stringify(k.slice(k.indexOf("/") + 1))).join(", ");
    const msg = `Pod ${JSON.stringify(pod.metadata?.namespace ?? "")}/${JSON.stringify(pod.metadata?.name ?? "")} matches multiple PodDisruptionBudgets (${names}); the eviction API refuses to evict it.`;
    this.d.events.event(pod as unknown as Readonly<KubeObject>, "Warning", "MultiplePodDisruptionBudgets", msg);
  }

  /** Delay after which the pod's DisruptionTarget condition is stale, if it can become so. */
  staleConditionDelay(pod: RPod): number | undefined {
    if (pod.metadata?.deletionTimestamp) return undefined;
    const phase = pod.status?.phase;
    if (phase === "Succeeded" || phase === "Failed") return undefined;
    const cond = pod.status?.conditions?.find((c) => c.type === "DisruptionTarget");
    if (!cond || cond.status !== "True" || cond.reason === TERMINATION_BY_KUBELET) return undefined;
    const since = Date.parse(cond.lastTransitionTime ?? "") || 0;
    return Math.max(0, since + STALE_POD_DISRUPTION_TIMEOUT_MS - this.d.clock.now());
  }

  // ---- PDB sync ------------------------------------------------------------------------

  private scaleFinder(): ScaleFinder {
    const l = this.d.listers;
    const found = (o: DeepReadonly<KubeObject> | undefined, uid: string, replicas: number | undefined): ControllerScale | undefined =>
      o && o.metadata?.uid === uid ? { uid, scale: replicas ?? 1 } : undefined;
    return (ref, ns) => {
      if (isRef(ref, "ReplicationController", [""])) {
        const rc = l.replicationControllers.namespace(ns).get(ref.name);
        return found(rc as DeepReadonly<KubeObject> | undefined, ref.uid, rc?.spec?.replicas);
      }
      if (isRef(ref, "StatefulSet", ["apps"])) {
        const ss = l.statefulSets.namespace(ns).get(ref.name);
        return found(ss as DeepReadonly<KubeObject> | undefined, ref.uid, ss?.spec?.replicas);
      }
      if (!isRef(ref, "ReplicaSet", ["apps", "extensions"])) return undefined;
      const rs = l.replicaSets.namespace(ns).get(ref.name);
      if (!rs || rs.metadata?.uid !== ref.uid) return undefined;
      const owner = controllerRefOf(rs);
      // A Deployment's ReplicaSets come and go through rollouts: the Deployment's scale counts.
      if (owner && isRef(owner, "Deployment", ["apps", "extensions"])) {
        const dep = l.deployments.namespace(ns).get(owner.name);
        return found(dep as DeepReadonly<KubeObject> | undefined, owner.uid, dep?.spec?.replicas);
      }
      if (owner?.kind === "Deployment") return undefined;
      return { uid: ref.uid, scale: rs.spec?.replicas ?? 1 };
    };
  }

  /** Reconciles one PDB's status (upstream's sync): a status that cannot be computed allows no disruption. */
  async sync(key: string, log: Logger): Promise<void> {
    const { namespace, name } = splitKey(key);
    const pdb = this.d.listers.pdbs.namespace(namespace).get(name);
    if (!pdb) return;
    try {
      await this.trySync(pdb, log);
    } catch (err) {
      if (isConflict(err)) throw err;
      log.error({ err, pdb: key }, "failed to sync pdb");
      await this.writeStatus(pdb, failSafeStatus(pdb, err, this.d.clock.now()));
      // Unlike upstream, which stops here once the fail-safe status is written, retry with
      // backoff: the usual cause is a controller not yet in the cache when its pods are.
      throw err;
    }
  }

  private async trySync(pdb: RPdb, log: Logger): Promise<void> {
    const ref = pdb as unknown as Readonly<KubeObject>;
    let sel: Selector;
    try {
      sel = labelSelectorAsSelector(pdb.spec?.selector as Parameters<typeof labelSelectorAsSelector>[0]);
    } catch (err) {
      if (!(err instanceof LabelSelectorError)) throw err;
      this.d.events.event(ref, "Warning", "NoPods", `Failed to get pods: ${err.message}`);
      throw new DisruptionError("InvalidSelector", err.message, { cause: err });
    }
    const pods = this.d.listers.pods.namespace(pdb.metadata?.namespace ?? "").list(sel);
    if (pods.length === 0) this.d.events.event(ref, "Normal", "NoPods", "No matching pods found");

    let counts;
    try {
      counts = expectedPodCount(pdb, pods, this.scaleFinder());
    } catch (err) {
      this.d.events.event(ref, "Warning", "CalculateExpectedPodCountFailed", `Failed to calculate the number of expected pods: ${err instanceof Error ? err.message : String(err)}`);
      throw err;
    }
    if (counts.unmanagedPods.length > 0) {
      log.info({ pdb: keyOf(pdb as DeepReadonly<KubeObject>), pods: counts.unmanagedPods }, "found unmanaged pods associated with this PDB");
      this.d.events.event(
        ref,
        "Warning",
        "UnmanagedPods",
        `Pods selected by this PodDisruptionBudget (selector: ${sel.toString()}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.`,
      );
    }

    const now = this.d.clock.now();
    const { disruptedPods, recheckAt, expired } = buildDisruptedPods(pods, pdb, now);
    for (const p of expired) {
      const at = pdb.status?.disruptedPods?.[p.metadata?.name ?? ""] ?? "";
      log.info({ pod: keyOf(p as DeepReadonly<KubeObject>), pdb: keyOf(pdb as DeepReadonly<KubeObject>), at }, "pod was expected to be deleted but it was not; updating pdb");
      this.d.events.event(p as unknown as Readonly<KubeObject>, "Warning", "NotDeleted", `Pod was expected by PDB ${pdb.metadata?.namespace ?? ""}/${pdb.metadata?.name ?? ""} to be deleted but it wasn't`);
    }
    const currentHealthy = countHealthyPods(pods, disruptedPods, now);
    const status = nextStatus(pdb, { currentHealthy, desiredHealthy: counts.desiredHealthy, expectedCount: counts.expectedCount, disruptedPods }, now);
    if (status) await this.writeStatus(pdb, status);
    if (recheckAt !== undefined) this.d.enqueueAfter(keyOf(pdb as DeepReadonly<KubeObject>), recheckAt - now);
  }

  private async writeStatus(pdb: RPdb, status: PodDisruptionBudget["status"]): Promise<void> {
    const next = structuredClone(pdb) as PodDisruptionBudget;
    next.status = status;
    // Not retried here: a conflict or failure goes back to the queue, which re-reads the cache.
    await this.d.api.resource<PodDisruptionBudget>("policy", "v1", "poddisruptionbudgets").namespace(pdb.metadata?.namespace ?? "").updateStatus(next);
  }

  // ---- stale DisruptionTarget conditions -----------------------------------------------

  /** Upstream's syncStalePodDisruption: sets a stale DisruptionTarget condition to False. */
  async syncStalePod(key: string, log: Logger): Promise<void> {
    const { namespace, name } = splitKey(key);
    const pod = this.d.listers.pods.namespace(namespace).get(name);
    if (!pod) return;
    const wait = this.staleConditionDelay(pod);
    if (wait === undefined) return;
    if (wait > 0) {
      this.d.enqueuePodAfter(key, wait);
      return;
    }
    const body = {
      metadata: { resourceVersion: pod.metadata?.resourceVersion },
      status: { conditions: [{ type: "DisruptionTarget", status: "False", lastTransitionTime: rfc3339(this.d.clock.now()) }] },
    };
    try {
      await this.d.api.resource<Pod>("", "v1", "pods").namespace(namespace).patch(name, "strategic", body, { subresource: "status", fieldManager: "DisruptionController" });
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    log.info({ pod: key }, "reset stale DisruptionTarget condition to False");
  }
}

/** Maps informer events to keys (upstream's addPod/updatePod/deletePod/addDb/...). */
export class DisruptionEventHandlers {
  constructor(
    private readonly c: DisruptionController,
    private readonly enqueue: (key: string) => void,
    private readonly enqueuePodAfter: (key: string, ms: number) => void,
  ) {}

  pdbChanged(pdb: RPdb | DeletedFinalStateUnknown<PodDisruptionBudget>): void {
    this.enqueue(keyOf(pdb instanceof DeletedFinalStateUnknown ? pdb : (pdb as DeepReadonly<KubeObject>)));
  }

  podAdded(pod: RPod): void {
    const keys = this.c.pdbKeysForPod(pod);
    for (const k of keys) this.enqueue(k);
    this.c.warnIfMultiple(pod, keys);
    this.checkStale(pod);
  }

  podUpdated(old: RPod, cur: RPod): void {
    const keys = this.c.pdbKeysForPod(cur);
    // Both label sets: a PDB the pod left must recount as well as the one it joined.
    for (const k of new Set([...this.c.pdbKeysForPod(old), ...keys])) this.enqueue(k);
    this.c.warnIfMultiple(cur, keys);
    this.checkStale(cur);
  }

  podDeleted(obj: RPod | DeletedFinalStateUnknown<Pod>): void {
    const pod = obj instanceof DeletedFinalStateUnknown ? obj.obj : obj;
    for (const k of this.c.pdbKeysForPod(pod)) this.enqueue(k);
  }

  private checkStale(pod: RPod): void {
    const wait = this.c.staleConditionDelay(pod);
    if (wait !== undefined) this.enqueuePodAfter(keyOf(pod as DeepReadonly<KubeObject>), wait);
  }
}
