// The node side of the kubelet (upstream kubelet_node_status.go and nodelease): registers the
// Node, reports its status, keeps its Lease renewed, and tells the agent the pod CIDRs the
// control plane gave it.
//  - Registration creates the Node with labels, taints and a full first status; a Node of that
//    name that already exists (an earlier run, or created by hand) is adopted: our labels and
//    annotations are merged into it and its spec (podCIDRs, taints, unschedulable) is left to
//    whoever set it.
//  - Status is recomputed every statusUpdateIntervalMs (and at once on requestStatusUpdate)
//    and posted as a strategic merge patch of nodes/<name>/status when it changed in more than
//    heartbeats, or when the last post is 5 minutes old; the Lease is the heartbeat.
//  - The Node itself is watched (one object, by field selector), for podCIDRs and for the
//    status others wrote (the node lifecycle controller marking it Unknown).
import type { Node, NodeAddress, NodeSystemInfo, Taint } from "kubernetes-types/core/v1.js";
import { realClock, sleep, type Clock, type Timer } from "../../client/clock.js";
import { isAlreadyExists } from "../../client/errors.js";
import type { InvolvedObject } from "../../client/events.js";
import { SharedInformer } from "../../client/informer.js";
import type { DeepReadonly } from "../../client/objects.js";
import type { RestClient } from "../../client/rest.js";
import type { Logger } from "../../util/log.js";
import { VERSION } from "../../util/version.js";
import type { CriClient } from "../cri/client.js";
import { cpuCount, detectNodeIP, goArch, kernelVersion, readFsInfo, readHugepages, readMachineIds, readMeminfo, readOsImage } from "./host.js";
import { NODE_LEASE_NAMESPACE, NODE_STATUS_REPORT_MS } from "../../client/nodelease.js";
import { NodeLease } from "./lease.js";
import { desiredStatus, imagesOf, PressureTracker, stampHeartbeats, statusChanged, thresholdsMet, type Readiness, type Resources, type StatusInput } from "./status.js";
import { rfc3339 } from "../../util/time.js";
import { CodedError } from "../../util/errors.js";

export type { Readiness };

export type NodeAgentErrorCode = "NotStarted" | "Stopped" | "InvalidOptions";

export class NodeAgentError extends CodedError<NodeAgentErrorCode> {
  override readonly name = "NodeAgentError";
}

/** The runtime calls the node status needs (a CriClient has them). */
export type NodeRuntime = Pick<CriClient, "version" | "listImages">;

/** Where node events go (an EventRecorder is one). */
export interface NodeEventSink {
  event(obj: InvolvedObject, type: "Normal" | "Warning", reason: string, message: string): void;
}

export interface NodeAgentOptions {
  client: RestClient;
  nodeName: string;
  /** default: the IPv4 address of the interface holding the default route, else the first non-loopback one */
  nodeIP?: string;
  /** status.daemonEndpoints.kubeletEndpoint.Port */
  kubeletPort: number;
  /** merged over the standard labels (kubernetes.io/hostname, kubernetes.io/os|arch, beta.kubernetes.io/os|arch) */
  labels?: Record<string, string>;
  /** set on the Node when this agent creates it (upstream's --register-with-taints) */
  taints?: Taint[];
  /** nodeInfo.containerRuntimeVersion and status.images */
  cri: NodeRuntime;
  /** statfs of this dir gives ephemeral-storage capacity and DiskPressure */
  rootDir: string;
  /** the agent's own view of readiness (runtime up, pod network configured) */
  readiness: () => Readiness;
  events: NodeEventSink;
  log: Logger;
  /** default 40 */
  leaseDurationSeconds?: number;
  /** default 10 000 */
  renewIntervalMs?: number;
  /** default 10 000: status is recomputed this often, posted when changed or at least every 5 min */
  statusUpdateIntervalMs?: number;
  /** default 110 */
  maxPods?: number;
  clock?: Clock;
}

const STANDARD_ANNOTATIONS: Readonly<Record<string, string>> = Object.freeze({ "volumes.kubernetes.io/controller-managed-attach-detach": "true" });

function olderThan(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return false;
  return BigInt(a) < BigInt(b);
}

export class NodeAgent {
  readonly nodeIP: string;
  private readonly o: Required<Pick<NodeAgentOptions, "leaseDurationSeconds" | "renewIntervalMs" | "statusUpdateIntervalMs" | "maxPods">> & NodeAgentOptions;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly pressure = new PressureTracker();
  private readonly stopper = new AbortController();
  private informer: SharedInformer<Node> | undefined;
  private informerRun: Promise<void> | undefined;
  private lease: NodeLease | undefined;
  /** the newest Node we know: from the watch, or the answer to our last write */
  private latest: Node | undefined;
  private cidrWaiters = new Set<() => void>();
  private staticInfo: Omit<NodeSystemInfo, "containerRuntimeVersion"> | undefined;
  private runtimeVersion = "";
  private images: StatusInput["images"] = [];
  private lastReport = Number.NEGATIVE_INFINITY;
  private timer: Timer | undefined;
  private syncing: Promise<void> | undefined;
  private again = false;
  private started = false;
  private looping = false;
  private requested = false;

  constructor(o: NodeAgentOptions) {
    if (!o.nodeName) throw new NodeAgentError("InvalidOptions", "a node name is required");
    this.o = { leaseDurationSeconds: 40, renewIntervalMs: 10_000, statusUpdateIntervalMs: 10_000, maxPods: 110, ...o };
    for (const k of ["leaseDurationSeconds", "renewIntervalMs", "statusUpdateIntervalMs", "maxPods"] as const) {
      if (!(Number.isFinite(this.o[k]) && this.o[k] > 0)) throw new NodeAgentError("InvalidOptions", `${k} must be > 0, got ${this.o[k]}`);
    }
    this.nodeIP = o.nodeIP ?? detectNodeIP();
    this.log = o.log.child({ component: "node-status", node: o.nodeName });
    this.clock = o.clock ?? realClock;
  }

  private get nodes() {
    return this.o.client.forKind("v1", "Node");
  }

  /** upstream's nodeRef: events about the node carry its name as uid, which `kubectl describe node` looks for */
  private get ref(): InvolvedObject {
    return { apiVersion: "v1", kind: "Node", metadata: { name: this.o.nodeName, uid: this.o.nodeName } };
  }

  private recordStatusEvent(reason: string): void {
    this.o.events.event(this.ref, "Normal", reason, `Node ${this.o.nodeName} status is now: ${reason}`);
  }

  private labels(): Record<string, string> {
    const arch = goArch();
    return {
      "beta.kubernetes.io/arch": arch,
      "beta.kubernetes.io/os": "linux",
      "kubernetes.io/arch": arch,
      "kubernetes.io/hostname": this.o.nodeName,
      "kubernetes.io/os": "linux",
      ...this.o.labels,
    };
  }

  private addresses(): NodeAddress[] {
    // The Hostname address is the node name, as with k3s's --hostname-override=<node name>.
    return [
      { type: "InternalIP", address: this.nodeIP },
      { type: "Hostname", address: this.o.nodeName },
    ];
  }

  private async runtimeInfo(): Promise<void> {
    try {
      const v = await this.o.cri.version({ timeoutMs: 5_000 });
      this.runtimeVersion = `${v.runtimeName}://${v.runtimeVersion}`;
    } catch (err) {
      this.log.warn({ err }, "container runtime version unavailable; will ask again");
    }
    try {
      this.images = imagesOf(await this.o.cri.listImages(undefined, { timeoutMs: 10_000 }));
    } catch (err) {
      this.log.warn({ err }, "listing images failed; keeping the last list");
    }
  }

  private async statusInput(): Promise<StatusInput> {
    await this.runtimeInfo();
    const mem = readMeminfo();
    const fs = await readFsInfo(this.o.rootDir);
    const resources: Resources = { cpu: cpuCount(), memoryBytes: mem.totalBytes, ephemeralStorageBytes: fs.capacityBytes, pods: this.o.maxPods, hugepages: readHugepages() };
    const now = thresholdsMet({ memoryAvailableBytes: mem.availableBytes, nodefsAvailableBytes: fs.availableBytes, nodefsCapacityBytes: fs.capacityBytes, nodefsInodesFree: fs.inodesFree, nodefsInodes: fs.inodes });
    let readiness: Readiness;
    try {
      readiness = this.o.readiness();
    } catch (err) {
      readiness = { ready: false, reason: "KubeletNotReady", message: `readiness check failed: ${(err as Error).message}` };
    }
    this.staticInfo ??= {
      ...readMachineIds(),
      kernelVersion: kernelVersion(),
      osImage: readOsImage(),
      kubeletVersion: VERSION.gitVersion,
      kubeProxyVersion: VERSION.gitVersion,
      operatingSystem: "linux",
      architecture: goArch(),
    };
    return {
      resources,
      addresses: this.addresses(),
      nodeInfo: { ...this.staticInfo, containerRuntimeVersion: this.runtimeVersion },
      images: this.images,
      kubeletPort: this.o.kubeletPort,
      pressure: this.pressure.observe(now, this.clock.now()),
      readiness,
    };
  }

  /**
   * Registers the node, posts its first status, starts the watch, the lease and the status
   * loop. Registration is retried (100 ms doubling to 7 s, as upstream) until it succeeds or
   * stop() is called, which rejects with Stopped.
   */
  async start(): Promise<Node> {
    if (this.started) throw new NodeAgentError("InvalidOptions", "the node agent was already started");
    this.started = true;
    this.o.events.event(this.ref, "Normal", "Starting", "Starting kubelet.");
    for (let attempt = 0; ; attempt++) {
      try {
        await this.register();
        break;
      } catch (err) {
        const delay = Math.min(7_000, 100 * 2 ** attempt);
        this.log.warn({ err, retryMs: delay }, "unable to register the node with the API server; will retry");
        if (!(await sleep(this.clock, delay, this.stopper.signal))) throw new NodeAgentError("Stopped", "stopped before the node was registered");
      }
    }
    if (this.stopper.signal.aborted) throw new NodeAgentError("Stopped", "stopped while registering the node");
    this.startInformer();
    this.lease = new NodeLease({
      api: this.o.client.forKind("coordination.k8s.io/v1", "Lease").namespace(NODE_LEASE_NAMESPACE),
      nodeName: this.o.nodeName,
      nodeUid: () => this.latest?.metadata?.uid,
      durationSeconds: this.o.leaseDurationSeconds,
      renewIntervalMs: this.o.renewIntervalMs,
      log: this.log,
      clock: this.clock,
    });
    await this.lease.start();
    if (this.stopper.signal.aborted) {
      await this.lease.stop();
      throw new NodeAgentError("Stopped", "stopped while starting");
    }
    this.looping = true;
    this.schedule(this.requested ? 0 : this.o.statusUpdateIntervalMs);
    this.log.info({ nodeIP: this.nodeIP, uid: this.latest?.metadata?.uid }, "node registered");
    return structuredClone(this.latest!);
  }

  private async register(): Promise<void> {
    const input = await this.statusInput();
    const now = rfc3339(this.clock.now());
    const { status, events } = desiredStatus(undefined, input, now);
    const node: Node = {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: this.o.nodeName, labels: this.labels(), annotations: { ...STANDARD_ANNOTATIONS } },
      spec: this.o.taints?.length ? { taints: this.o.taints.map((t) => ({ ...t })) } : {},
      status: stampHeartbeats(status, now),
    };
    let created: Node;
    try {
      created = await this.nodes.create(node);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      await this.adopt();
      await this.syncStatus(true, input);
      return;
    }
    this.remember(created);
    this.lastReport = this.clock.now();
    for (const e of events) this.recordStatusEvent(e);
    this.log.info("created the node");
    // A server that drops status on create gets it through nodes/status.
    if (!created.status?.conditions?.length) await this.syncStatus(true, input);
  }

  /** An existing Node of our name: bring our labels and annotations into it, leave its spec alone. */
  private async adopt(): Promise<void> {
    const existing = await this.nodes.get(this.o.nodeName);
    this.remember(existing);
    const labels = this.labels();
    const missing = (want: Record<string, string>, have: Readonly<Record<string, string>> | undefined): Record<string, string> =>
      Object.fromEntries(Object.entries(want).filter(([k, v]) => have?.[k] !== v));
    const l = missing(labels, existing.metadata?.labels);
    const a = missing({ ...STANDARD_ANNOTATIONS }, existing.metadata?.annotations);
    if (Object.keys(l).length || Object.keys(a).length) {
      this.remember(await this.nodes.patch(this.o.nodeName, "merge", { metadata: { ...(Object.keys(l).length ? { labels: l } : {}), ...(Object.keys(a).length ? { annotations: a } : {}) } }));
    }
    this.log.info({ podCIDRs: existing.spec?.podCIDRs ?? [] }, "adopted the existing node");
  }

  private remember(node: Node | DeepReadonly<Node>): void {
    if (this.latest && olderThan(node.metadata?.resourceVersion, this.latest.metadata?.resourceVersion)) return;
    this.latest = node as Node;
    if ((node.spec?.podCIDRs?.length ?? 0) > 0 || node.spec?.podCIDR) {
      const waiters = [...this.cidrWaiters];
      this.cidrWaiters.clear();
      for (const w of waiters) w();
    }
  }

  private startInformer(): void {
    const inf = (this.informer = new SharedInformer<Node>({
      name: "nodes",
      lw: this.nodes,
      log: this.log,
      selectors: { fieldSelector: `metadata.name=${this.o.nodeName}` },
      omitManagedFields: true,
      clock: this.clock,
    }));
    inf.addEventHandler({
      onAdd: (n) => this.remember(n),
      onUpdate: (_old, n) => this.remember(n),
      onDelete: () => {
        // Upstream's kubelet does not register again until it restarts; it reports the failures.
        this.log.warn("the node was deleted from the API; status updates fail until the agent restarts");
        this.latest = undefined;
      },
    });
    this.informerRun = inf.run(this.stopper.signal);
  }

  /** spec.podCIDRs once the control plane (node IPAM) set them; rejects with Stopped when `signal` aborts or the agent stops. */
  async podCIDRs(signal?: AbortSignal): Promise<string[]> {
    const now = (): string[] | undefined => {
      const s = this.latest?.spec;
      if (s?.podCIDRs?.length) return [...s.podCIDRs];
      return s?.podCIDR ? [s.podCIDR] : undefined;
    };
    for (;;) {
      const have = now();
      if (have) return have;
      if (signal?.aborted || this.stopper.signal.aborted) throw new NodeAgentError("Stopped", "stopped while waiting for the node's podCIDRs");
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.cidrWaiters.delete(done);
          signal?.removeEventListener("abort", done);
          this.stopper.signal.removeEventListener("abort", done);
          resolve();
        };
        this.cidrWaiters.add(done);
        signal?.addEventListener("abort", done, { once: true });
        this.stopper.signal.addEventListener("abort", done, { once: true });
      });
    }
  }

  /** Recompute and post the status soon (the agent's readiness changed). */
  requestStatusUpdate(): void {
    if (this.stopper.signal.aborted) return;
    // Before the loop runs (during start), the loop's first round comes at once instead.
    if (!this.looping) {
      this.requested = true;
      return;
    }
    this.timer?.cancel();
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopper.signal.aborted) return;
    this.timer = this.clock.setTimer(ms, () => {
      this.timer = undefined;
      void this.runSync();
    });
  }

  /** One sync at a time; a request during a sync runs another right after it. */
  private async runSync(): Promise<void> {
    if (this.syncing) {
      this.again = true;
      return;
    }
    this.syncing = this.syncStatus(false).catch((err: unknown) => this.log.warn({ err }, "updating node status failed; will retry"));
    await this.syncing;
    this.syncing = undefined;
    if (this.again) {
      this.again = false;
      this.timer?.cancel();
      this.schedule(0);
    } else if (!this.timer) {
      this.schedule(this.o.statusUpdateIntervalMs);
    }
  }

  /** `gathered`: host and runtime facts just gathered (registration has them), else read now. */
  private async syncStatus(force: boolean, gathered?: StatusInput): Promise<void> {
    const current = this.latest ?? (await this.nodes.get(this.o.nodeName));
    this.remember(current);
    const input = gathered ?? (await this.statusInput());
    const at = this.clock.now();
    const now = rfc3339(at);
    const { status, events } = desiredStatus(current.status, input, now);
    if (!force && !statusChanged(current.status, status) && at - this.lastReport < NODE_STATUS_REPORT_MS) return;
    const updated = await this.nodes.patch(this.o.nodeName, "strategic", { status: stampHeartbeats(status, now) }, { subresource: "status" });
    this.lastReport = at;
    this.remember(updated);
    for (const e of events) this.recordStatusEvent(e);
    if (events.length) this.log.info({ events }, "node status changed");
  }

  /** Stops the status loop, the lease and the watch; the Node and its Lease stay (the lease lapses). */
  async stop(): Promise<void> {
    this.stopper.abort();
    this.timer?.cancel();
    this.timer = undefined;
    for (const w of [...this.cidrWaiters]) w();
    await this.syncing;
    await this.lease?.stop();
    await this.informerRun;
  }
}
