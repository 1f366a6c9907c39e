// The node simulator (kwok's idea, our implementation): one process registers N Nodes, keeps
// their Leases renewed, and plays the kubelet for every pod bound to them — Running with an
// address from the node's block, ready after the readiness delay, failures injected, Jobs'
// pods completed, deletion finished after the grace period — without running any container.
//
// Everything is driven from two informers: all Nodes (to find free pod CIDRs and to see a
// node's conditions changed by someone else, e.g. the node lifecycle controller marking it
// Unknown) and all bound pods (`spec.nodeName!=`; one watch for every node of the process,
// filtered by node name here, since a field selector per node would mean N watches). Pod keys
// go through a work queue; each sync compares the cached status with what the kubelet would
// report now and patches the difference, so a restarted simulator converges again.
import type { Container, Node, Pod, PodStatus } from "kubernetes-types/core/v1.js";
import type { Lease } from "kubernetes-types/coordination/v1.js";
import { runController } from "../client/controller.js";
import { isAlreadyExists, isConflict, isNotFound } from "../client/errors.js";
import { sleep } from "../client/clock.js";
import { NODE_NAME_INDEX, SharedInformer, nodeNameIndexFunc, type IndexFunc } from "../client/informer.js";
import { DeletedFinalStateUnknown, keyOf, splitKey, type DeepReadonly, type KubeObject } from "../client/objects.js";
import type { ResourceClient } from "../client/rest.js";
import { WorkQueue } from "../client/workqueue.js";
import type { Logger } from "../util/log.js";
import { SimNodesError } from "./errors.js";
import { LeaseRenewer, NODE_LEASE_NAMESPACE } from "./leases.js";
import { CidrAllocator, IpPool, blockHostBits, type NodeAddresses } from "./network.js";
import { addressesOf, conditionReport, simNode } from "./node.js";
import type { SimNodesOptions } from "./options.js";
import { desiredPodStatus, isRunningWithAddress, isTerminal, jobControllerRef, statusPatch, uidFraction, type PodPlan } from "./podstatus.js";
import { jsonEqual } from "../util/json.js";

interface SimNode {
  readonly name: string;
  uid: string;
  readonly addr: NodeAddresses;
  readonly pool: IpPool;
  /** When the node's status is next posted unchanged (upstream's nodeStatusReportFrequency). */
  nextReport: number;
}

interface PodRecord extends PodPlan {
  readonly node: string;
  released: boolean;
  /** The status last written and the resourceVersion the server answered with. */
  written?: PodStatus;
  writtenRv?: string;
  /** When the status written at writtenRv stops being what the kubelet would report (undefined: never). */
  writtenUntil?: number;
}

/** Whether resourceVersion `a` is older than `b`; k8ts revisions are one global counter, anything else is never "older". */
function olderThan(a: string | undefined, b: string): boolean {
  return a !== undefined && /^\d+$/.test(a) && /^\d+$/.test(b) && BigInt(a) < BigInt(b);
}

export interface SimNodesStats {
  readonly nodes: number;
  readonly podsStarted: number;
  readonly podsRunning: number;
  readonly statusWrites: number;
  readonly podsDeleted: number;
  readonly writeFailures: number;
  readonly leaseRenewals: number;
  readonly leaseFailures: number;
}

/**
 * What the simulator keeps of a pod: a kubelet's view (identity, deletion, a Job controller
 * reference, the spec fields that shape its status, the whole status) for pods of its nodes,
 * and only identity and node for the others. One process caches every bound pod of the
 * cluster, so this is most of its memory.
 */
export function trimPod(p: Pod, ours: ReadonlySet<string>): Pod {
  const m = p.metadata ?? {};
  const meta = {
    name: m.name,
    namespace: m.namespace,
    uid: m.uid,
    resourceVersion: m.resourceVersion,
    ...(m.deletionTimestamp ? { deletionTimestamp: m.deletionTimestamp, deletionGracePeriodSeconds: m.deletionGracePeriodSeconds } : {}),
  };
  const spec = p.spec;
  if (!spec || !ours.has(spec.nodeName ?? "")) return { metadata: meta, spec: { nodeName: spec?.nodeName, containers: [] } };
  // A Job's pod runs to completion; no other owner reference shapes the status.
  const job = jobControllerRef(p);
  const container = (c: Container): Container => ({
    name: c.name,
    image: c.image,
    ...(c.restartPolicy ? { restartPolicy: c.restartPolicy } : {}),
    ...(c.readinessProbe?.initialDelaySeconds ? { readinessProbe: { initialDelaySeconds: c.readinessProbe.initialDelaySeconds } } : {}),
  });
  return {
    metadata: job ? { ...meta, ownerReferences: [{ apiVersion: job.apiVersion, kind: job.kind, name: job.name, uid: job.uid, controller: true }] } : meta,
    spec: {
      nodeName: spec.nodeName,
      containers: spec.containers.map(container),
      ...(spec.initContainers ? { initContainers: spec.initContainers.map(container) } : {}),
      ...(spec.restartPolicy ? { restartPolicy: spec.restartPolicy } : {}),
      ...(spec.hostNetwork ? { hostNetwork: true } : {}),
    },
    ...(p.status ? { status: p.status } : {}),
  };
}

/** What the simulator keeps of a node: identity, pod CIDRs, conditions and addresses. */
export function trimNode(n: Node): Node {
  const m = n.metadata ?? {};
  return {
    metadata: { name: m.name, uid: m.uid, resourceVersion: m.resourceVersion },
    spec: { ...(n.spec?.podCIDR ? { podCIDR: n.spec.podCIDR } : {}), ...(n.spec?.podCIDRs ? { podCIDRs: n.spec.podCIDRs } : {}) },
    status: { ...(n.status?.conditions ? { conditions: n.status.conditions } : {}), ...(n.status?.addresses ? { addresses: n.status.addresses } : {}) },
  };
}

async function inBatches<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

export class SimNodes {
  readonly nodeNames: readonly string[];
  private readonly names: ReadonlySet<string>;
  /** Each node's place in nodeNames. */
  private readonly nodeIndex: ReadonlyMap<string, number>;
  private readonly nodes = new Map<string, SimNode>();
  private readonly records = new Map<string, PodRecord>();
  /** When each terminating pod's grace period ends, counted from when we first saw it terminating (as the kubelet counts it). */
  private readonly finishAt = new Map<string, { readonly uid: string; readonly at: number }>();
  private readonly nodeInformer: SharedInformer<Node>;
  private readonly podInformer: SharedInformer<Pod>;
  /**
   * Two lanes of pod work. Starting a pod the simulator has not started yet (and finishing a
   * deletion) goes through `startQueue`; later transitions (readiness, crashes, retries) through
   * `podQueue`. Real kubelets work on their own pods independently, so a pod just bound to one
   * node must not wait behind thousands of readiness updates of other nodes' pods; the start
   * lane has its own workers. A per-key chain keeps the two lanes off the same pod at once.
   */
  private readonly startQueue = new WorkQueue<string>();
  private readonly podQueue = new WorkQueue<string>();
  private readonly busy = new Map<string, Promise<void>>();
  private readonly nodeQueue = new WorkQueue<string>();
  private readonly leases: LeaseRenewer;
  private readonly nodesApi: ResourceClient<Node>;
  private readonly podsApi: ResourceClient<Pod>;
  private readonly leasesApi: ResourceClient<Lease>;
  private readonly log: Logger;
  private readonly ac = new AbortController();
  private runs: Promise<void>[] = [];
  private started = false;
  private stopping: Promise<void> | undefined;
  private counters = { podsStarted: 0, statusWrites: 0, podsDeleted: 0, writeFailures: 0 };

  constructor(private readonly o: SimNodesOptions) {
    this.log = o.log.child({ component: "sim-nodes" });
    this.nodeNames = Array.from({ length: o.count }, (_, i) => `${o.namePrefix}${i}`);
    this.names = new Set(this.nodeNames);
    this.nodeIndex = new Map(this.nodeNames.map((n, i) => [n, i] as const));
    this.nodesApi = o.client.forKind("v1", "Node");
    this.podsApi = o.client.forKind("v1", "Pod");
    this.leasesApi = o.client.forKind("coordination.k8s.io/v1", "Lease").namespace(NODE_LEASE_NAMESPACE);
    // The trims drop managedFields: decoding them would be work thrown away.
    this.nodeInformer = new SharedInformer<Node>({ name: "nodes", lw: this.nodesApi, log: this.log, clock: o.clock, transform: trimNode, omitManagedFields: true });
    this.podInformer = new SharedInformer<Pod>({
      name: "pods",
      lw: this.podsApi,
      log: this.log,
      clock: o.clock,
      transform: (p) => trimPod(p, this.names),
      omitManagedFields: true,
      selectors: { fieldSelector: "spec.nodeName!=" },
      indexers: { [NODE_NAME_INDEX]: nodeNameIndexFunc as unknown as IndexFunc<Pod> },
    });
    const leases = this.leasesApi;
    const lean = { omitManagedFields: true } as const;
    const leaseApi = { get: (name: string) => leases.get(name, lean), create: (l: Lease) => leases.create(l, lean), update: (l: Lease) => leases.update(l, lean) };
    this.leases = new LeaseRenewer({ api: leaseApi, clock: o.clock, log: this.log, intervalMs: o.renewIntervalMs, durationSeconds: o.leaseDurationSeconds });
    this.podInformer.addEventHandler({
      onAdd: (p) => this.podChanged(p),
      onUpdate: (_old, p) => this.podChanged(p),
      onDelete: (p) => this.podChanged(p instanceof DeletedFinalStateUnknown ? p.obj : p),
    });
    this.nodeInformer.addEventHandler({
      onAdd: (n) => this.nodeChanged(n),
      onUpdate: (_old, n) => this.nodeChanged(n),
      onDelete: (n) => {
        const name = (n instanceof DeletedFinalStateUnknown ? n.obj : n).metadata?.name ?? "";
        if (this.nodes.has(name)) this.log.warn({ node: name }, "node object deleted; not registering it again");
      },
    });
  }

  private podChanged(pod: DeepReadonly<Pod> | Pod): void {
    if (!this.names.has(pod.spec?.nodeName ?? "")) return;
    const key = keyOf(pod as DeepReadonly<KubeObject>);
    const fresh = this.records.get(key)?.uid !== pod.metadata?.uid;
    (fresh || pod.metadata?.deletionTimestamp ? this.startQueue : this.podQueue).add(key);
  }

  private nodeChanged(node: DeepReadonly<Node> | Node): void {
    const name = node.metadata?.name ?? "";
    if (this.nodes.has(name)) this.nodeQueue.add(name);
  }

  /** Registers the nodes and starts playing their kubelets; resolves once every node is registered. */
  async start(): Promise<void> {
    if (this.started) throw new SimNodesError("InvalidOptions", "sim-nodes was already started");
    this.started = true;
    const signal = this.ac.signal;
    this.runs.push(this.nodeInformer.run(signal), this.podInformer.run(signal));
    if (!(await this.nodeInformer.waitForSync(signal)) || !(await this.podInformer.waitForSync(signal))) return;

    const existing = new Map(this.nodeInformer.lister.list().map((n) => [n.metadata?.name ?? "", n] as const));
    const cidrs = new CidrAllocator(
      blockHostBits(this.o.pods),
      [...existing.values()].flatMap((n) => n.spec?.podCIDRs ?? (n.spec?.podCIDR ? [n.spec.podCIDR] : [])),
    );
    const began = this.o.clock.now();
    await inBatches(this.nodeNames, this.o.registerConcurrency, async (name) => {
      if (signal.aborted) return;
      const old = existing.get(name);
      const addr = (old && addressesOf(old)) ?? cidrs.next();
      await this.register(name, addr, old, signal);
    });
    if (signal.aborted) return;
    this.log.info({ nodes: this.nodes.size, ms: this.o.clock.now() - began }, "nodes registered");

    this.runs.push(
      this.leases.run(signal),
      runController({ name: "sim-pod-starts", queue: this.startQueue, workers: this.o.workers, sync: (key) => this.exclusive(key), log: this.log, signal }),
      runController({ name: "sim-pods", queue: this.podQueue, workers: Math.max(1, Math.ceil(this.o.workers / 2)), sync: (key) => this.exclusive(key), log: this.log, signal }),
      runController({ name: "sim-nodes", queue: this.nodeQueue, workers: 4, sync: (key) => this.syncNode(key), log: this.log, signal }),
    );
    // Pods already bound to these nodes (from an earlier run) were seen before the nodes were known.
    for (const name of this.nodeNames) for (const p of this.podInformer.indexer.byIndex(NODE_NAME_INDEX, name)) this.startQueue.add(keyOf(p as DeepReadonly<KubeObject>));
    for (const name of this.nodes.keys()) this.nodeQueue.add(name);
  }

  private async register(name: string, addr: NodeAddresses, old: DeepReadonly<Node> | undefined, signal: AbortSignal): Promise<void> {
    let uid = old?.metadata?.uid;
    for (let attempt = 0; !uid; attempt++) {
      try {
        uid = (await this.nodesApi.create(simNode(name, addr, this.o, this.o.clock.now()), { signal })).metadata?.uid;
      } catch (err) {
        if (signal.aborted) return;
        if (isAlreadyExists(err)) {
          // AlreadyExists: registered by an earlier run between our list and now; take it over.
          uid = (await this.nodesApi.get(name, { signal })).metadata?.uid;
          continue;
        }
        if (attempt >= 5) throw err;
        this.log.warn({ err, node: name, attempt }, "registering node failed; retrying");
        if (!(await sleep(this.o.clock, 200 * 2 ** attempt, signal))) return;
      }
    }
    // The first unchanged report of node i comes (i+1)/N of the report interval from now, so
    // that thousands of nodes registered at once report evenly spread, as kubelets started at
    // different times do.
    const first = (this.o.statusReportMs * ((this.nodeIndex.get(name) ?? 0) + 1)) / this.nodeNames.length;
    this.nodes.set(name, { name, uid, addr, pool: new IpPool(addr.podCIDR), nextReport: this.o.clock.now() + first });
    await this.leases.register({ name, uid });
  }

  /**
   * Posts the node's conditions as a healthy kubelet does: when someone else changed them (the
   * node lifecycle controller marking the node Unknown, say) and, changed or not, every
   * statusReportMs (5 min, as upstream's kubelet), which keeps their heartbeat times as fresh as a real node's.
   */
  async syncNode(name: string): Promise<void> {
    const node = this.nodeInformer.lister.get(name);
    const sim = this.nodes.get(name);
    if (!sim) return;
    // Not in the cache: not seen yet (just registered), or deleted — and, as with the kubelet,
    // a deleted Node object is not registered again by a running simulator.
    if (!node) return;
    sim.uid = node.metadata?.uid ?? sim.uid;
    const now = this.o.clock.now();
    const report = conditionReport(node, now, now >= sim.nextReport);
    if (report.length > 0) {
      await this.nodesApi.patch(name, "strategic", { status: { conditions: report } }, { subresource: "status", omitManagedFields: true });
      sim.nextReport = now + this.o.statusReportMs;
    }
    this.nodeQueue.addAfter(name, sim.nextReport - now);
  }

  private release(key: string): void {
    const rec = this.records.get(key);
    if (!rec || rec.released) return;
    rec.released = true;
    this.nodes.get(rec.node)?.pool.release(rec.podIP);
  }

  private planFor(pod: DeepReadonly<Pod>, node: SimNode, now: number): PodRecord | undefined {
    const uid = pod.metadata?.uid ?? "";
    const fails = this.o.failRate > 0 && uidFraction(uid) < this.o.failRate;
    const hostIP = node.addr.internalIP;
    if (pod.spec?.hostNetwork) return { uid, node: node.name, startedAt: now, podIP: hostIP, hostIP, fails, released: true };
    if (isRunningWithAddress(pod)) {
      const podIP = pod.status!.podIP!;
      const claimed = node.pool.claim(podIP);
      return { uid, node: node.name, startedAt: Date.parse(pod.status!.startTime!), podIP, hostIP, fails, released: !claimed };
    }
    const podIP = node.pool.allocate();
    if (podIP === undefined) return undefined;
    this.counters.podsStarted++;
    return { uid, node: node.name, startedAt: now, podIP, hostIP, fails, released: false };
  }

  /** syncPod, never twice at once for one key (the two lanes may both hold it). */
  private async exclusive(key: string): Promise<void> {
    for (let running = this.busy.get(key); running; running = this.busy.get(key)) await running.catch(() => undefined);
    const p = this.syncPod(key);
    this.busy.set(key, p);
    try {
      await p;
    } finally {
      if (this.busy.get(key) === p) this.busy.delete(key);
    }
  }

  /** Plays the kubelet for one pod: the status it would report now, or finishing its deletion. */
  async syncPod(key: string): Promise<void> {
    const pod = this.podInformer.lister.get(key);
    const known = this.records.get(key);
    if (known && known.uid !== pod?.metadata?.uid) {
      this.release(key);
      this.records.delete(key);
    }
    if (!pod || this.finishAt.get(key)?.uid !== pod.metadata?.uid) this.finishAt.delete(key);
    if (!pod) return;
    const node = this.nodes.get(pod.spec?.nodeName ?? "");
    if (!node) return;
    const { namespace, name } = splitKey(key);
    const uid = pod.metadata?.uid ?? "";
    const now = this.o.clock.now();
    const pods = this.podsApi.namespace(namespace);

    if (pod.metadata?.deletionTimestamp) {
      let finish = this.finishAt.get(key);
      if (finish?.uid !== uid) {
        finish = { uid, at: now + (this.o.immediateDeletion ? 0 : (pod.metadata.deletionGracePeriodSeconds ?? 0) * 1000) };
        this.finishAt.set(key, finish);
      }
      const at = finish.at;
      if (now < at) {
        this.podQueue.addAfter(key, at - now);
        return;
      }
      try {
        await pods.delete(name, { gracePeriodSeconds: 0, preconditions: { uid } });
        this.counters.podsDeleted++;
      } catch (err) {
        // Gone already, or a new pod of the same name (its own events bring it here).
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
      this.release(key);
      return;
    }
    let rec = this.records.get(key);
    if (!rec) {
      // A pod that ended before we met it is left as it is.
      if (isTerminal(pod.status?.phase)) return;
      rec = this.planFor(pod, node, now);
      if (!rec) {
        this.log.warn({ pod: key, node: node.name }, "no free pod address on the node; pod stays pending");
        this.podQueue.addAfter(key, 10_000);
        return;
      }
      this.records.set(key, rec);
    }
    // The cache shows exactly what our last write made of the pod (the watch echoing it), and
    // the kubelet's report has not changed since: nothing to compare, nothing to schedule.
    if (rec.writtenRv !== undefined && pod.metadata?.resourceVersion === rec.writtenRv && (rec.writtenUntil === undefined || now < rec.writtenUntil)) {
      if (rec.writtenUntil !== undefined) this.podQueue.addAfter(key, rec.writtenUntil - now);
      return;
    }
    const desired = desiredPodStatus(pod, rec, now, this.o);
    // The cache has not caught up with our own last write yet: what it shows is older than
    // what we wrote, and writing the same status again would only cost the server a request.
    const lagging = rec.writtenRv !== undefined && olderThan(pod.metadata?.resourceVersion, rec.writtenRv) && jsonEqual(rec.written, desired.status);
    const patch = lagging ? undefined : statusPatch(pod.status, desired.status, now);
    if (patch) {
      try {
        // Only the answer's resourceVersion is read.
        const answer = await pods.patch(name, "strategic", { metadata: { uid }, status: patch }, { subresource: "status", answer: "metadata" });
        rec.written = desired.status;
        const rv = answer.metadata?.resourceVersion;
        if (rv !== undefined) rec.writtenRv = rv;
        else delete rec.writtenRv;
        if (desired.nextChangeAt !== undefined) rec.writtenUntil = desired.nextChangeAt;
        else delete rec.writtenUntil;
        this.counters.statusWrites++;
      } catch (err) {
        if (isNotFound(err)) return;
        this.counters.writeFailures++;
        throw err;
      }
    }
    if (isTerminal(desired.status.phase)) this.release(key);
    if (desired.nextChangeAt !== undefined) this.podQueue.addAfter(key, desired.nextChangeAt - now);
  }

  stats(): SimNodesStats {
    let running = 0;
    for (const r of this.records.values()) if (!r.released) running++;
    return { nodes: this.nodes.size, ...this.counters, podsRunning: running, leaseRenewals: this.leases.stats.renewals, leaseFailures: this.leases.stats.failures };
  }

  /** Stops heartbeats and pod work; with deleteOnExit, deletes the nodes and their leases. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.ac.abort();
      await Promise.all(this.runs);
      if (!this.o.deleteOnExit) return;
      const names = [...this.nodes.keys()];
      await inBatches(names, this.o.registerConcurrency, async (name) => {
        for (const api of [this.nodesApi, this.leasesApi] as const) {
          try {
            await api.delete(name);
          } catch (err) {
            if (!isNotFound(err)) this.log.warn({ err, node: name }, "deleting on exit failed");
          }
        }
      });
      this.log.info({ nodes: names.length }, "nodes deleted");
    })();
    return this.stopping;
  }
}
