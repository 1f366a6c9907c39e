// Builders and a harness for the StatefulSet controller's unit tests: objects as a user, the
// API server and the kubelet would have written them, and a StatefulSetSyncer over seeded
// caches and the recording fake (which holds the same objects, so deletes and updates of
// cached objects succeed as they would against a server).
import type { ControllerRevision, StatefulSet, StatefulSetSpec, StatefulSetStatus } from "kubernetes-types/apps/v1.js";
import type { PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1.js";
import type { OwnerReference } from "kubernetes-types/meta/v1.js";
import { FakeClock } from "../../client/clock.js";
import { deepFreeze } from "../../client/objects.js";
import { createLogger } from "../../util/log.js";
import { rfc3339 } from "../../util/time.js";
import { FakeApi, RecordingEventSink, seedIndexer } from "../testing/index.js";
import { POD_CONTROLLER_INDEX, claimablePods, podControllerIndexFunc } from "../replicaset/podindex.js";
import { newRevision, revisionTemplate } from "./revisions.js";
import { StatefulSetSyncer, type StatefulSetCaches } from "./sync.js";
import { claimsFor, newStatefulPod } from "./util.js";

/** 2024-01-01T00:00:00Z: a fixed "now" so that ages and minReadySeconds are exact. */
export const T0 = Date.UTC(2024, 0, 1);
export const KEY = "ns/web";
export const SET_UID = "sts-uid";

export function statefulSet(spec: Partial<StatefulSetSpec> = {}, o: { generation?: number; status?: StatefulSetStatus; image?: string } = {}): StatefulSet {
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "web", namespace: "ns", uid: SET_UID, generation: o.generation ?? 1, resourceVersion: "7" },
    spec: {
      replicas: 3,
      serviceName: "nginx",
      selector: { matchLabels: { app: "web" } },
      template: { metadata: { labels: { app: "web" } }, spec: { restartPolicy: "Always", containers: [{ name: "nginx", image: o.image ?? "nginx:1" }] } },
      volumeClaimTemplates: [{ apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "www" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } }],
      podManagementPolicy: "OrderedReady",
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 0 } },
      revisionHistoryLimit: 10,
      persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
      ...spec,
    },
    status: o.status ?? { replicas: 0 },
  };
}

/** The revision a set's current template is recorded in, as the controller writes it. */
export function revisionOf(set: StatefulSet, revision = 1): ControllerRevision {
  const r = newRevision(deepFreeze(structuredClone(set)), revision, set.status?.collisionCount ?? 0);
  return { ...r, metadata: { ...r.metadata, uid: `${r.metadata?.name ?? ""}-uid`, resourceVersion: "3", creationTimestamp: rfc3339(T0 - 3_600_000 + revision) } };
}

export function revName(set: StatefulSet): string {
  return revisionOf(set).metadata?.name ?? "";
}

export interface PodOpts {
  /** The revision it was made from (default: the set's current template's). */
  rev?: ControllerRevision;
  phase?: string;
  ready?: boolean;
  /** When it turned ready, ms before T0 (default an hour). */
  readyAgo?: number;
  deleting?: boolean;
}

/** A member pod as the controller made it and a kubelet runs it (Running and Ready unless told). */
export function pod(set: StatefulSet, ordinal: number, o: PodOpts = {}): Pod {
  const rev = o.rev ?? revisionOf(set);
  const p = newStatefulPod(deepFreeze(structuredClone(set)), revisionTemplate(deepFreeze(rev)), ordinal, rev.metadata?.name ?? "");
  const ready = o.ready ?? true;
  return {
    ...p,
    metadata: { ...p.metadata, uid: `web-${ordinal}-uid`, resourceVersion: "5", creationTimestamp: rfc3339(T0 - 7_200_000), ...(o.deleting ? { deletionTimestamp: rfc3339(T0) } : {}) },
    status: { phase: o.phase ?? "Running", conditions: [{ type: "Ready", status: ready ? "True" : "False", lastTransitionTime: rfc3339(T0 - (o.readyAgo ?? 3_600_000)) }] },
  };
}

/** The claims of an ordinal, as the controller created them and a binder bound them. */
export function claims(set: StatefulSet, ordinal: number, ownerReferences?: OwnerReference[]): PersistentVolumeClaim[] {
  return claimsFor(deepFreeze(structuredClone(set)), ordinal).map(({ claim }) => ({
    ...claim,
    metadata: { ...claim.metadata, uid: `${claim.metadata?.name ?? ""}-uid`, resourceVersion: "4", ...(ownerReferences ? { ownerReferences } : {}) },
    status: { phase: "Bound" },
  }));
}

export function harness(set: StatefulSet, o: { pods?: Pod[]; revisions?: ControllerRevision[]; claims?: PersistentVolumeClaim[] } = {}) {
  const clock = new FakeClock(T0);
  const api = new FakeApi({ clock });
  const pods = o.pods ?? [];
  const revisions = o.revisions ?? [];
  const pvcs = o.claims ?? [];
  api.seed("apps", "statefulsets", set);
  api.seed("", "pods", ...pods);
  api.seed("apps", "controllerrevisions", ...revisions);
  api.seed("", "persistentvolumeclaims", ...pvcs);
  const setIdx = seedIndexer([set]);
  const podIdx = seedIndexer(pods, { [POD_CONTROLLER_INDEX]: podControllerIndexFunc });
  const revIdx = seedIndexer(revisions);
  const pvcIdx = seedIndexer(pvcs);
  const caches: StatefulSetCaches = {
    statefulSet: (key) => setIdx.get(key),
    statefulSets: () => setIdx.list(),
    claimable: (ns, uid) => claimablePods(podIdx, ns, uid),
    revisions: () => revIdx.list(),
    claim: (ns, name) => pvcIdx.get(`${ns}/${name}`),
  };
  const events = new RecordingEventSink();
  const after: [string, number][] = [];
  const syncer = new StatefulSetSyncer({ caches, api, events, clock, enqueueAfter: (k, ms) => after.push([k, ms]), log: createLogger("silent") });
  return { api, clock, events, syncer, after };
}

/** The pods the sync created, by name, in order. */
export function created(api: FakeApi): string[] {
  return api.writes({ verb: "create", resource: "pods" }).map((a) => a.name);
}

export function deleted(api: FakeApi): string[] {
  return api.writes({ verb: "delete", resource: "pods" }).map((a) => a.name);
}

/** The last status written. */
export function lastStatus(api: FakeApi): StatefulSetStatus | undefined {
  const w = api.writes({ verb: "updateStatus" });
  return (w[w.length - 1]?.object as StatefulSet | undefined)?.status;
}
