// Builders and a harness for the DaemonSet controller's unit tests: objects as a user and the
// API server would have written them, and a DaemonSetSyncer over seeded caches and the
// recording fake.
import type { ControllerRevision, DaemonSet, DaemonSetSpec, DaemonSetStatus } from "kubernetes-types/apps/v1.js";
import type { Node, NodeSpec, Pod, PodSpec } from "kubernetes-types/core/v1.js";
import { FakeClock } from "../../client/clock.js";
import { deepFreeze } from "../../client/objects.js";
import { createLogger } from "../../util/log.js";
import { rfc3339 } from "../../util/time.js";
import { FakeApi, RecordingEventSink, seedIndexer } from "../testing/index.js";
import { Expectations } from "../replicaset/expectations.js";
import { POD_CONTROLLER_INDEX, claimablePods, podControllerIndexFunc } from "../replicaset/podindex.js";
import { FailedPodsBackoff } from "./backoff.js";
import { CONTROLLER_REVISION_HASH_LABEL, newControllerRevision } from "../history/history.js";
import { pinToNode } from "./nodes.js";
import { templateHash, templatePatch } from "./revisions.js";
import { DaemonSetSyncer, type DaemonSetCaches } from "./sync.js";

/** 2024-01-01T00:00:00Z: a fixed "now" so that ages and minReadySeconds are exact. */
export const T0 = Date.UTC(2024, 0, 1);
export const KEY = "ns/agent";

export function daemonSet(spec: Partial<DaemonSetSpec> = {}, o: { generation?: number; status?: DaemonSetStatus; image?: string; podSpec?: Partial<PodSpec> } = {}): DaemonSet {
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: "agent", namespace: "ns", uid: "ds-uid", generation: o.generation ?? 1, resourceVersion: "7" },
    spec: {
      selector: { matchLabels: { app: "agent" } },
      template: { metadata: { labels: { app: "agent" } }, spec: { restartPolicy: "Always", containers: [{ name: "c", image: o.image ?? "agent:1" }], ...o.podSpec } },
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      revisionHistoryLimit: 10,
      ...spec,
    },
    status: o.status ?? { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 },
  };
}

export function node(name: string, o: { labels?: Record<string, string>; spec?: NodeSpec } = {}): Node {
  return { apiVersion: "v1", kind: "Node", metadata: { name, uid: `${name}-uid`, resourceVersion: "1", labels: { "kubernetes.io/hostname": name, ...o.labels } }, spec: o.spec ?? {} };
}

/** The revision a DaemonSet's current template is recorded in, as the controller writes it. */
export function revisionOf(ds: DaemonSet, revision = 1): ControllerRevision {
  const r = newControllerRevision({ owner: { apiVersion: "apps/v1", kind: "DaemonSet", metadata: ds.metadata }, templateLabels: ds.spec?.template.metadata?.labels, data: templatePatch(deepFreeze(ds)), revision, hash: templateHash(deepFreeze(ds)) });
  return { ...r, metadata: { ...r.metadata, uid: `${r.metadata?.name ?? ""}-uid`, resourceVersion: "3", creationTimestamp: rfc3339(T0 - 3_600_000 + revision) } };
}

export function hashOf(ds: DaemonSet): string {
  return templateHash(deepFreeze(ds));
}

export interface PodOpts {
  hash?: string;
  phase?: string;
  ready?: boolean;
  /** When it turned ready, ms before T0 (default an hour). */
  readyAgo?: number;
  /** Age at T0 in ms (default an hour). */
  age?: number;
  deleting?: boolean;
  /** Not bound yet: only the affinity names the node. */
  unbound?: boolean;
  owned?: boolean;
  labels?: Record<string, string>;
}

export function pod(name: string, nodeName: string, o: PodOpts = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: "ns",
      uid: `${name}-uid`,
      resourceVersion: "1",
      creationTimestamp: rfc3339(T0 - (o.age ?? 3_600_000)),
      labels: { app: "agent", ...(o.hash !== undefined ? { [CONTROLLER_REVISION_HASH_LABEL]: o.hash } : {}), ...o.labels },
      ...(o.deleting ? { deletionTimestamp: rfc3339(T0) } : {}),
      ...(o.owned === false ? {} : { ownerReferences: [{ apiVersion: "apps/v1", kind: "DaemonSet", name: "agent", uid: "ds-uid", controller: true, blockOwnerDeletion: true }] }),
    },
    spec: { ...(o.unbound ? {} : { nodeName }), affinity: pinToNode(undefined, nodeName), containers: [{ name: "c", image: "agent:1" }] },
    status: {
      phase: o.phase ?? "Running",
      conditions: [{ type: "Ready", status: o.ready === false ? "False" : "True", lastTransitionTime: rfc3339(T0 - (o.readyAgo ?? 3_600_000)) }],
    },
  };
}

export function harness(ds: DaemonSet, o: { nodes?: Node[]; pods?: Pod[]; revisions?: ControllerRevision[] } = {}) {
  const clock = new FakeClock(T0);
  const api = new FakeApi({ clock: { now: () => clock.now() } });
  api.seed("apps", "daemonsets", ds);
  api.seed("", "pods", ...(o.pods ?? []));
  api.seed("apps", "controllerrevisions", ...(o.revisions ?? []));
  const dss = seedIndexer<DaemonSet>([ds]);
  const nodes = seedIndexer<Node>(o.nodes ?? []);
  const pods = seedIndexer<Pod>(o.pods ?? [], { [POD_CONTROLLER_INDEX]: podControllerIndexFunc });
  const revs = seedIndexer<ControllerRevision>(o.revisions ?? []);
  const caches: DaemonSetCaches = {
    daemonSet: (k) => dss.get(k),
    daemonSets: () => dss.list(),
    nodes: () => nodes.list(),
    claimable: (ns, uid) => claimablePods(pods, ns, uid),
    revisions: (ns) => revs.list().filter((r) => r.metadata?.namespace === ns),
  };
  const events = new RecordingEventSink();
  const expectations = new Expectations(clock);
  const backoff = new FailedPodsBackoff(clock);
  const after: [string, number][] = [];
  const syncer = new DaemonSetSyncer({ caches, api, events, expectations, backoff, clock, enqueueAfter: (k, ms) => after.push([k, ms]), log: createLogger("silent") });
  return { api, clock, events, expectations, backoff, syncer, after };
}

export type Harness = ReturnType<typeof harness>;

/** The pods the sync created, by the node their affinity names. */
export function createdOn(api: FakeApi): string[] {
  return api
    .writes({ verb: "create", resource: "pods" })
    .map((a) => (a.object as Pod).spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.[0]?.matchFields?.[0]?.values?.[0] ?? "?")
    .sort();
}

export function deleted(api: FakeApi): string[] {
  return api
    .writes({ verb: "delete", resource: "pods" })
    .map((a) => a.name)
    .sort();
}

/** The last status written. */
export function lastStatus(api: FakeApi): DaemonSetStatus | undefined {
  const w = api.writes({ verb: "updateStatus" });
  return (w[w.length - 1]?.object as DaemonSet | undefined)?.status;
}
