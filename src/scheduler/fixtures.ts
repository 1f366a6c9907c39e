// Node and pod builders for the scheduler's tests: objects shaped as the API server returns
// them, frozen as informers hand them out.
import type { Container, Node, Pod, PodSpec, Taint, Toleration } from "kubernetes-types/core/v1.js";
import { deepFreeze } from "../client/objects.js";
import { SchedulerCache } from "./framework/cache.js";
import { staticHandle, type Handle, type NamespaceView } from "./framework/handle.js";
import type { RNode } from "./framework/nodeinfo.js";
import { newPodInfo, type PodInfo, type RPod } from "./framework/podinfo.js";

export interface NodeSpec {
  readonly cpu?: string;
  readonly memory?: string;
  readonly pods?: number;
  readonly labels?: Record<string, string>;
  readonly taints?: Taint[];
  readonly unschedulable?: boolean;
  readonly extra?: Record<string, string>;
}

export function makeNode(name: string, s: NodeSpec = {}): RNode {
  const allocatable: Record<string, string> = { cpu: s.cpu ?? "4", memory: s.memory ?? "8Gi", pods: String(s.pods ?? 110), ...s.extra };
  const node: Node = {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, uid: `uid-node-${name}`, labels: { "kubernetes.io/hostname": name, ...s.labels } },
    spec: { ...(s.taints ? { taints: s.taints } : {}), ...(s.unschedulable ? { unschedulable: true } : {}) },
    status: { capacity: allocatable, allocatable },
  };
  return deepFreeze(node);
}

export interface PodSpecInput {
  readonly namespace?: string;
  readonly cpu?: string;
  readonly memory?: string;
  readonly extra?: Record<string, string>;
  readonly labels?: Record<string, string>;
  readonly nodeName?: string;
  readonly priority?: number;
  readonly tolerations?: Toleration[];
  readonly hostPorts?: number[];
  readonly spec?: Partial<PodSpec>;
  readonly initContainers?: Container[];
  readonly uid?: string;
  readonly creationTimestamp?: string;
  readonly deleting?: boolean;
  readonly nominatedNodeName?: string;
  readonly phase?: string;
}

export function makePod(name: string, s: PodSpecInput = {}): RPod {
  const requests: Record<string, string> = { ...(s.cpu ? { cpu: s.cpu } : {}), ...(s.memory ? { memory: s.memory } : {}), ...s.extra };
  const ns = s.namespace ?? "default";
  const pod: Pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: ns,
      uid: s.uid ?? `uid-${ns}-${name}`,
      labels: s.labels ?? {},
      creationTimestamp: s.creationTimestamp ?? "2024-01-01T00:00:00Z",
      resourceVersion: "1",
      ...(s.deleting ? { deletionTimestamp: "2024-01-01T00:01:00Z" } : {}),
    },
    spec: {
      containers: [
        {
          name: "c",
          image: "busybox",
          resources: Object.keys(requests).length ? { requests } : {},
          ...(s.hostPorts ? { ports: s.hostPorts.map((p) => ({ containerPort: p, hostPort: p, protocol: "TCP" })) } : {}),
        },
      ],
      ...(s.initContainers ? { initContainers: s.initContainers } : {}),
      ...(s.nodeName ? { nodeName: s.nodeName } : {}),
      ...(s.priority !== undefined ? { priority: s.priority } : {}),
      ...(s.tolerations ? { tolerations: s.tolerations } : {}),
      schedulerName: "default-scheduler",
      ...s.spec,
    },
    status: { phase: s.phase ?? "Pending", ...(s.nominatedNodeName ? { nominatedNodeName: s.nominatedNodeName } : {}) },
  };
  return deepFreeze(pod);
}

export function podInfo(name: string, s: PodSpecInput = {}): PodInfo {
  return newPodInfo(makePod(name, s));
}

/** A cache holding these nodes and bound pods, with a handle over it. */
export function cacheWith(nodes: readonly RNode[], pods: readonly RPod[] = [], namespaces: readonly NamespaceView[] = []): { cache: SchedulerCache; handle: Handle } {
  const cache = new SchedulerCache();
  for (const n of nodes) cache.addNode(n);
  for (const p of pods) cache.addPod(newPodInfo(p));
  return { cache, handle: staticHandle(cache, namespaces) };
}

export interface RecordedEvent {
  readonly object: string;
  readonly type: string;
  readonly reason: string;
  readonly message: string;
}

/** An EventSink that keeps what it is told. */
export class RecordingEvents {
  readonly events: RecordedEvent[] = [];
  event(obj: { readonly metadata?: { readonly namespace?: string; readonly name?: string } }, type: "Normal" | "Warning", reason: string, message: string): void {
    this.events.push({ object: `${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""}`, type, reason, message });
  }
}

/** A SchedulerApi that records calls; binds succeed unless `failBinds` names the pod. */
export class FakeSchedulerApi {
  readonly binds: { pod: string; node: string }[] = [];
  readonly statusPatches: { pod: string; patch: unknown }[] = [];
  readonly deletes: string[] = [];
  readonly failBinds = new Set<string>();
  /** Called on every successful bind (tests feed the informer side with it). */
  onBind: ((namespace: string, name: string, node: string) => void) | undefined;
  onDelete: ((namespace: string, name: string) => void) | undefined;

  bind(namespace: string, name: string, _uid: string | undefined, nodeName: string): Promise<void> {
    if (this.failBinds.has(`${namespace}/${name}`)) return Promise.reject(new Error(`binding ${namespace}/${name} refused`));
    this.binds.push({ pod: `${namespace}/${name}`, node: nodeName });
    this.onBind?.(namespace, name, nodeName);
    return Promise.resolve();
  }

  patchPodStatus(namespace: string, name: string, patch: unknown): Promise<void> {
    this.statusPatches.push({ pod: `${namespace}/${name}`, patch });
    return Promise.resolve();
  }

  deletePod(namespace: string, name: string): Promise<void> {
    this.deletes.push(`${namespace}/${name}`);
    this.onDelete?.(namespace, name);
    return Promise.resolve();
  }
}
