// Node and pod builders for the scheduler's tests: objects shaped as the API server returns
// them, frozen as informers hand them out.
import type { Container, Node, PersistentVolume, PersistentVolumeClaim, Pod, PodSpec, Taint, Toleration } from "kubernetes-types/core/v1.js";
import type { StorageClass } from "kubernetes-types/storage/v1.js";
import { deepFreeze } from "../client/objects.js";
import { SchedulerCache } from "./framework/cache.js";
import { staticHandle, type Handle, type NamespaceView } from "./framework/handle.js";
import type { RNode } from "./framework/nodeinfo.js";
import { newPodInfo, type PodInfo, type RPod } from "./framework/podinfo.js";
import type { RPV, RPVC, RStorageClass, VolumeLookup } from "./plugins/volumebinding.js";

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
  /** Volume and claim updates, in order; they succeed unless `failVolumeWrites` is set. */
  readonly volumeWrites: (PersistentVolume | PersistentVolumeClaim)[] = [];
  failVolumeWrites: Error | undefined;
  /** Where volume and claim updates land (as the API server would store them). */
  volumes: FakeVolumes | undefined;
  /** Called on every successful bind (tests feed the informer side with it). */
  onBind: ((namespace: string, name: string, node: string) => void) | undefined;
  onDelete: ((namespace: string, name: string) => void) | undefined;

  updatePersistentVolume(pv: PersistentVolume): Promise<PersistentVolume> {
    if (this.failVolumeWrites) return Promise.reject(this.failVolumeWrites);
    this.volumeWrites.push(pv);
    return Promise.resolve(this.volumes ? this.volumes.put(pv) : pv);
  }

  updatePersistentVolumeClaim(pvc: PersistentVolumeClaim): Promise<PersistentVolumeClaim> {
    if (this.failVolumeWrites) return Promise.reject(this.failVolumeWrites);
    this.volumeWrites.push(pvc);
    return Promise.resolve(this.volumes ? this.volumes.put(pvc) : pvc);
  }

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

// ---- storage ----------------------------------------------------------------------------------

export interface ClaimSpecInput {
  readonly namespace?: string;
  readonly storage?: string;
  readonly storageClassName?: string | null;
  readonly accessModes?: string[];
  /** Bound to this volume (spec.volumeName, phase Bound, bind-completed). */
  readonly boundTo?: string;
  readonly annotations?: Record<string, string>;
  readonly deleting?: boolean;
  readonly ownerUid?: string;
  readonly phase?: string;
}

export function makeClaim(name: string, s: ClaimSpecInput = {}): RPVC {
  const ns = s.namespace ?? "default";
  const pvc: PersistentVolumeClaim = {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: {
      name,
      namespace: ns,
      uid: `uid-pvc-${ns}-${name}`,
      resourceVersion: "1",
      annotations: { ...(s.boundTo ? { "pv.kubernetes.io/bind-completed": "yes" } : {}), ...s.annotations },
      ...(s.deleting ? { deletionTimestamp: "2024-01-01T00:01:00Z" } : {}),
      ...(s.ownerUid ? { ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: "owner", uid: s.ownerUid, controller: true }] } : {}),
    },
    spec: {
      accessModes: s.accessModes ?? ["ReadWriteOnce"],
      resources: { requests: { storage: s.storage ?? "1Gi" } },
      ...(s.storageClassName !== null ? { storageClassName: s.storageClassName ?? "wffc" } : {}),
      ...(s.boundTo ? { volumeName: s.boundTo } : {}),
    },
    status: { phase: s.phase ?? (s.boundTo ? "Bound" : "Pending") },
  };
  return deepFreeze(pvc);
}

export interface VolumeSpecInput {
  readonly storage?: string;
  readonly storageClassName?: string;
  readonly accessModes?: string[];
  /** Node affinity: kubernetes.io/hostname In [hosts]. */
  readonly hosts?: string[];
  readonly claimRef?: { namespace: string; name: string; uid?: string };
  readonly phase?: string;
  readonly labels?: Record<string, string>;
}

export function makeVolume(name: string, s: VolumeSpecInput = {}): RPV {
  const pv: PersistentVolume = {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name, uid: `uid-pv-${name}`, resourceVersion: "1", ...(s.labels ? { labels: s.labels } : {}) },
    spec: {
      capacity: { storage: s.storage ?? "1Gi" },
      accessModes: s.accessModes ?? ["ReadWriteOnce"],
      storageClassName: s.storageClassName ?? "wffc",
      hostPath: { path: `/data/${name}` },
      ...(s.hosts ? { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: s.hosts }] }] } } } : {}),
      ...(s.claimRef ? { claimRef: { kind: "PersistentVolumeClaim", apiVersion: "v1", ...s.claimRef } } : {}),
    },
    status: { phase: s.phase ?? (s.claimRef ? "Bound" : "Available") },
  };
  return deepFreeze(pv);
}

export function makeStorageClass(name: string, s: { provisioner?: string; mode?: "Immediate" | "WaitForFirstConsumer"; zones?: string[] } = {}): RStorageClass {
  const sc: StorageClass = {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name, resourceVersion: "1" },
    provisioner: s.provisioner ?? "k8ts.io/local-path",
    volumeBindingMode: s.mode ?? "WaitForFirstConsumer",
    reclaimPolicy: "Delete",
    ...(s.zones ? { allowedTopologies: [{ matchLabelExpressions: [{ key: "topology.kubernetes.io/zone", values: s.zones }] }] } : {}),
  };
  return deepFreeze(sc);
}

/** Claims, volumes and classes in memory, as an informer cache would hold them; `put` bumps resourceVersion. */
export class FakeVolumes implements VolumeLookup {
  readonly claims = new Map<string, RPVC>();
  readonly pvs = new Map<string, RPV>();
  readonly classes = new Map<string, RStorageClass>();
  private rv = 100;
  /** Called after every `put` (tests forward it to the scheduler's event handlers). */
  onChange: ((obj: RPV | RPVC, old: RPV | RPVC | undefined) => void) | undefined;

  constructor(objs: readonly (RPV | RPVC | RStorageClass)[] = []) {
    for (const o of objs) this.add(o);
  }

  add(o: RPV | RPVC | RStorageClass): void {
    if (o.kind === "PersistentVolumeClaim") this.claims.set(`${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`, o as RPVC);
    else if (o.kind === "PersistentVolume") this.pvs.set(o.metadata?.name ?? "", o as RPV);
    else this.classes.set(o.metadata?.name ?? "", o as RStorageClass);
  }

  /** Stores a new version (as an update through the API would) and returns it. */
  put<T extends PersistentVolume | PersistentVolumeClaim>(obj: T): T {
    const stored = deepFreeze({ ...structuredClone(obj), metadata: { ...structuredClone(obj.metadata), resourceVersion: String(++this.rv) } }) as T;
    const old = obj.kind === "PersistentVolumeClaim" ? this.claims.get(`${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""}`) : this.pvs.get(obj.metadata?.name ?? "");
    this.add(stored as RPV | RPVC);
    this.onChange?.(stored as RPV | RPVC, old);
    return stored;
  }

  claim(namespace: string, name: string): RPVC | undefined {
    return this.claims.get(`${namespace}/${name}`);
  }

  volume(name: string): RPV | undefined {
    return this.pvs.get(name);
  }

  volumes(): Iterable<RPV> {
    return this.pvs.values();
  }

  *volumesFor(namespace: string, claims: Iterable<string>): Iterable<RPV> {
    const names = new Set(claims);
    for (const pv of this.pvs.values()) {
      const ref = pv.spec?.claimRef;
      if (!ref?.name || (ref.namespace === namespace && names.has(ref.name))) yield pv;
    }
  }

  storageClass(name: string): RStorageClass | undefined {
    return this.classes.get(name);
  }
}
