// Builders and a harness for the Deployment controller's unit tests: Deployments and their
// ReplicaSets as the API server and the controller would have left them, and a
// DeploymentSyncer over seeded caches and the recording fake.
import type { Deployment, DeploymentCondition, DeploymentSpec, DeploymentStatus, ReplicaSet, ReplicaSetCondition } from "kubernetes-types/apps/v1.js";
import type { Pod } from "kubernetes-types/core/v1.js";
import { FakeClock } from "../../client/clock.js";
import { createLogger } from "../../util/log.js";
import { FakeApi, RecordingEventSink, seedIndexer } from "../testing/index.js";
import { DeploymentSyncer, type DeploymentCaches } from "./sync.js";
import { DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION, POD_TEMPLATE_HASH_LABEL, REVISION_ANNOTATION, computeHash } from "./util.js";
import { rfc3339 } from "../../util/time.js";

export const T0 = Date.UTC(2024, 0, 1);

export interface DeploymentOpts {
  replicas?: number;
  image?: string;
  strategy?: DeploymentSpec["strategy"];
  paused?: boolean;
  progressDeadlineSeconds?: number | null;
  revisionHistoryLimit?: number;
  minReadySeconds?: number;
  generation?: number;
  annotations?: Record<string, string>;
  templateAnnotations?: Record<string, string>;
  status?: DeploymentStatus;
}

export function deployment(name: string, o: DeploymentOpts = {}): Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "ns", uid: `${name}-uid`, generation: o.generation ?? 1, resourceVersion: "10", ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec: {
      replicas: o.replicas ?? 3,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name }, ...(o.templateAnnotations ? { annotations: o.templateAnnotations } : {}) },
        spec: { containers: [{ name: "c", image: o.image ?? "img:1" }] },
      },
      strategy: o.strategy ?? { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } },
      ...(o.paused ? { paused: true } : {}),
      ...(o.progressDeadlineSeconds === null ? {} : { progressDeadlineSeconds: o.progressDeadlineSeconds ?? 600 }),
      revisionHistoryLimit: o.revisionHistoryLimit ?? 10,
      ...(o.minReadySeconds ? { minReadySeconds: o.minReadySeconds } : {}),
    },
    status: o.status ?? {},
  };
}

export interface RSOpts {
  /** The template's image; default the Deployment's. */
  image?: string;
  templateAnnotations?: Record<string, string>;
  replicas: number;
  available?: number;
  ready?: number;
  /** status.replicas; default spec.replicas. */
  actual?: number;
  revision?: number;
  /** Age in seconds before T0 (default 3600). */
  age?: number;
  /** desired-replicas annotation; default the Deployment's replicas. */
  desired?: number;
  max?: number;
  conditions?: ReplicaSetCondition[];
  owned?: boolean;
  annotations?: Record<string, string>;
}

/** A ReplicaSet of `d` (owned, hashed, annotated) with the given template image. */
export function rsOf(d: Deployment, o: RSOpts): ReplicaSet {
  const template = structuredClone(d.spec!.template);
  if (o.image) template.spec!.containers[0]!.image = o.image;
  if (o.templateAnnotations) template.metadata = { ...template.metadata, annotations: o.templateAnnotations };
  const hash = computeHash(template, undefined);
  template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, [POD_TEMPLATE_HASH_LABEL]: hash } };
  const name = `${d.metadata!.name!}-${hash}`;
  const want = d.spec!.replicas ?? 1;
  const actual = o.actual ?? o.replicas;
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name,
      namespace: "ns",
      uid: `${name}-uid`,
      generation: 1,
      resourceVersion: "5",
      creationTimestamp: rfc3339(T0 - (o.age ?? 3600) * 1000),
      labels: { ...template.metadata.labels },
      annotations: {
        [REVISION_ANNOTATION]: String(o.revision ?? 1),
        [DESIRED_REPLICAS_ANNOTATION]: String(o.desired ?? want),
        [MAX_REPLICAS_ANNOTATION]: String(o.max ?? want + 1),
        ...o.annotations,
      },
      ...(o.owned === false ? {} : { ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: d.metadata!.name!, uid: d.metadata!.uid!, controller: true, blockOwnerDeletion: true }] }),
    },
    spec: { replicas: o.replicas, selector: { matchLabels: { ...d.spec!.selector.matchLabels, [POD_TEMPLATE_HASH_LABEL]: hash } }, template },
    status: {
      replicas: actual,
      ...(o.ready ?? o.available ? { readyReplicas: o.ready ?? o.available } : {}),
      ...(o.available ? { availableReplicas: o.available } : {}),
      observedGeneration: 1,
      ...(o.conditions ? { conditions: o.conditions } : {}),
    },
  };
}

export function progressing(reason: string, status: "True" | "False" | "Unknown", updatedSecondsAgo: number): DeploymentCondition {
  const t = rfc3339(T0 - updatedSecondsAgo * 1000);
  return { type: "Progressing", status, reason, message: "m", lastUpdateTime: t, lastTransitionTime: t };
}

export interface DHarness {
  readonly api: FakeApi;
  readonly events: RecordingEventSink;
  readonly clock: FakeClock;
  readonly syncer: DeploymentSyncer;
  readonly after: [string, number][];
  readonly rateLimited: string[];
  /** Scaling events only, as "Scaled up replica set X from A to B". */
  scaling(): string[];
  /** The last status written for the Deployment. */
  lastStatus(): DeploymentStatus | undefined;
  /** spec.replicas written per ReplicaSet name by updates, in order. */
  scales(): [string, number][];
}

export function dharness(deployments: readonly Deployment[], rss: readonly ReplicaSet[] = [], pods: readonly Pod[] = []): DHarness {
  const clock = new FakeClock(T0);
  const api = new FakeApi({ clock });
  api.seed("apps", "deployments", ...deployments);
  api.seed("apps", "replicasets", ...rss);
  api.seed("", "pods", ...pods);
  const di = seedIndexer(deployments);
  const ri = seedIndexer(rss);
  const pi = seedIndexer(pods);
  const caches: DeploymentCaches = {
    deployment: (k) => di.get(k),
    deployments: (ns) => di.byIndex("namespace", ns),
    replicaSets: (ns) => ri.byIndex("namespace", ns),
    pods: (ns) => pi.byIndex("namespace", ns),
  };
  const events = new RecordingEventSink();
  const after: [string, number][] = [];
  const rateLimited: string[] = [];
  const syncer = new DeploymentSyncer({ caches, api, events, clock, log: createLogger("silent"), enqueueAfter: (k, ms) => after.push([k, ms]), enqueueRateLimited: (k) => rateLimited.push(k) });
  return {
    api,
    events,
    clock,
    syncer,
    after,
    rateLimited,
    scaling: () => events.events.filter((e) => e.reason === "ScalingReplicaSet").map((e) => e.message),
    lastStatus: () => (api.writes({ verb: "updateStatus", resource: "deployments" }).at(-1)?.object as Deployment | undefined)?.status,
    scales: () => api.writes({ verb: "update", resource: "replicasets" }).map((a) => [a.name, (a.object as ReplicaSet).spec?.replicas ?? 0]),
  };
}
