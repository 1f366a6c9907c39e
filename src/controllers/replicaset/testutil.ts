// Builders and a harness for the workload controllers' unit tests: objects as a user and the
// API server would have written them, and a ReplicaSyncer over seeded caches and the
// recording fake.
import type { Pod, PodCondition, ReplicationController } from "kubernetes-types/core/v1.js";
import type { ReplicaSet, ReplicaSetStatus } from "kubernetes-types/apps/v1.js";
import type { LabelSelector } from "kubernetes-types/meta/v1.js";
import { FakeClock } from "../../client/clock.js";
import type { Indexer } from "../../client/informer.js";
import { createLogger } from "../../util/log.js";
import { FakeApi, RecordingEventSink, seedIndexer } from "../testing/index.js";
import { Expectations } from "./expectations.js";
import type { ReplicaKind, ReplicaObject } from "./kinds.js";
import { ReplicaSyncer, type ReplicaCaches } from "./sync.js";
import { POD_CONTROLLER_INDEX, claimablePods, podControllerIndexFunc } from "./podindex.js";
import { rfc3339 } from "../../util/time.js";

/** 2024-01-01T00:00:00Z: a fixed "now" so that ages and minReadySeconds are exact. */
export const T0 = Date.UTC(2024, 0, 1);

export function replicaSet(name: string, replicas: number, opts: { labels?: Record<string, string>; selector?: LabelSelector; uid?: string; minReadySeconds?: number; generation?: number; ns?: string; ownerUid?: string; status?: ReplicaSetStatus } = {}): ReplicaSet {
  const labels = opts.labels ?? { app: name };
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name,
      namespace: opts.ns ?? "ns",
      uid: opts.uid ?? `${name}-uid`,
      generation: opts.generation ?? 1,
      resourceVersion: "1",
      ...(opts.ownerUid ? { ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "d", uid: opts.ownerUid, controller: true, blockOwnerDeletion: true }] } : {}),
    },
    spec: {
      replicas,
      selector: opts.selector ?? { matchLabels: labels },
      ...(opts.minReadySeconds ? { minReadySeconds: opts.minReadySeconds } : {}),
      template: { metadata: { labels }, spec: { containers: [{ name: "c", image: "busybox" }] } },
    },
    status: opts.status ?? { replicas: 0 },
  };
}

export function replicationController(name: string, replicas: number, labels: Record<string, string> = { app: name }): ReplicationController {
  return {
    apiVersion: "v1",
    kind: "ReplicationController",
    metadata: { name, namespace: "ns", uid: `${name}-uid`, generation: 1, resourceVersion: "1" },
    spec: { replicas, selector: labels, template: { metadata: { labels }, spec: { containers: [{ name: "c", image: "busybox" }] } } },
    status: { replicas: 0 },
  };
}

export interface PodOpts {
  owner?: { kind?: string; name: string; uid: string; apiVersion?: string };
  labels?: Record<string, string>;
  node?: string;
  phase?: string;
  /** Ready since this time (ms). */
  readySince?: number;
  created?: number;
  restarts?: number;
  deleting?: boolean;
  uid?: string;
  ns?: string;
  annotations?: Record<string, string>;
  rv?: string;
}

export function pod(name: string, o: PodOpts = {}): Pod {
  const conditions: PodCondition[] = o.readySince !== undefined ? [{ type: "Ready", status: "True", lastTransitionTime: rfc3339(o.readySince) }] : [];
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: o.ns ?? "ns",
      uid: o.uid ?? `${name}-uid`,
      resourceVersion: o.rv ?? "1",
      labels: o.labels ?? {},
      creationTimestamp: rfc3339(o.created ?? T0 - 3600_000),
      ...(o.annotations ? { annotations: o.annotations } : {}),
      ...(o.deleting ? { deletionTimestamp: rfc3339(T0) } : {}),
      ...(o.owner
        ? { ownerReferences: [{ apiVersion: o.owner.apiVersion ?? "apps/v1", kind: o.owner.kind ?? "ReplicaSet", name: o.owner.name, uid: o.owner.uid, controller: true, blockOwnerDeletion: true }] }
        : {}),
    },
    spec: { containers: [{ name: "c", image: "busybox" }], ...(o.node ? { nodeName: o.node } : {}) },
    status: {
      phase: o.phase ?? (o.node ? "Running" : "Pending"),
      conditions,
      ...(o.restarts !== undefined ? { containerStatuses: [{ name: "c", image: "busybox", imageID: "", ready: true, restartCount: o.restarts }] } : {}),
    } as Pod["status"],
  };
}

/** A pod owned by the ReplicaSet, with its labels. */
export function ownedPod(name: string, rs: ReplicaSet | ReplicationController, o: PodOpts = {}): Pod {
  const kind = rs.kind ?? "ReplicaSet";
  return pod(name, { labels: { ...(rs.spec?.template?.metadata?.labels ?? {}) }, owner: { kind, apiVersion: rs.apiVersion ?? "apps/v1", name: rs.metadata!.name!, uid: rs.metadata!.uid! }, ...o });
}

export interface Harness {
  readonly api: FakeApi;
  readonly events: RecordingEventSink;
  readonly expectations: Expectations;
  readonly clock: FakeClock;
  readonly owners: Indexer<ReplicaObject>;
  readonly pods: Indexer<Pod>;
  readonly syncer: ReplicaSyncer;
  readonly caches: ReplicaCaches;
  /** enqueueAfter calls as [key, ms]. */
  readonly after: [string, number][];
}

export function harness(kind: ReplicaKind, owners: readonly ReplicaObject[], pods: readonly Pod[] = [], opts: { burstReplicas?: number } = {}): Harness {
  const api = new FakeApi({ clock: { now: () => clock.now() } });
  const clock = new FakeClock(T0);
  api.seed(kind.group, kind.plural, ...owners);
  api.seed("", "pods", ...pods);
  const ownerIdx = seedIndexer<ReplicaObject>(owners);
  const podIdx = seedIndexer<Pod>(pods, { [POD_CONTROLLER_INDEX]: podControllerIndexFunc });
  const caches: ReplicaCaches = {
    owner: (key) => ownerIdx.get(key),
    owners: (ns) => ownerIdx.byIndex("namespace", ns),
    pods: (ns) => podIdx.byIndex("namespace", ns),
    claimable: (ns, uid) => claimablePods(podIdx, ns, uid),
  };
  const events = new RecordingEventSink();
  const expectations = new Expectations(clock);
  const after: [string, number][] = [];
  const syncer = new ReplicaSyncer({
    kind,
    caches,
    api,
    events,
    expectations,
    clock,
    enqueueAfter: (k, ms) => after.push([k, ms]),
    log: createLogger("silent"),
    ...(opts.burstReplicas !== undefined ? { burstReplicas: opts.burstReplicas } : {}),
  });
  return { api, events, expectations, clock, owners: ownerIdx, pods: podIdx, syncer, caches, after };
}
