// The scheduler component (upstream cmd/kube-scheduler): one process, one scheduling profile,
// built like the controller-manager. With leader election on (the default) it schedules only
// while holding the Lease kube-system/kube-scheduler; losing it stops the term (informers,
// queue, recorder) and the process campaigns again from fresh caches. /healthz, /readyz and
// /metrics are served on a local port.
import { setMaxListeners } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1.js";
import type { StorageClass } from "kubernetes-types/storage/v1.js";
import type { PriorityClass } from "kubernetes-types/scheduling/v1.js";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { EventRecorder } from "../client/events.js";
import { SharedInformerFactory, type SharedInformer } from "../client/informer.js";
import { defaultIdentity, runLeaderElected } from "../client/leaderelection.js";
import { DeletedFinalStateUnknown, type DeepReadonly } from "../client/objects.js";
import { RestClient } from "../client/rest.js";
import { loadKubeconfig, type ClientConfig } from "../util/kubeconfig.js";
import type { Logger } from "../util/log.js";
import { restSchedulerApi } from "./api.js";
import type { RPod } from "./framework/podinfo.js";
import type { RPDB } from "./plugins/defaultpreemption.js";
import { claimRefIndexKey, type VolumeLookup } from "./plugins/volumebinding.js";
import { DEFAULT_SCHEDULER_NAME } from "./profile.js";
import { SchedulerCore } from "./scheduler.js";
import { CodedError } from "../util/errors.js";

export { SchedulerCore } from "./scheduler.js";

/** The PV informer's index by the claim a volume's claimRef names (VolumeBinding's candidates). */
const CLAIM_REF_INDEX = "claimRef";
export { DEFAULT_SCHEDULER_NAME } from "./profile.js";

export type SchedulerErrorCode = "InvalidOptions" | "NotStarted";

export class SchedulerError extends CodedError<SchedulerErrorCode> {
  override readonly name = "SchedulerError";
}

export interface SchedulerOptionsInput {
  /** Where to find the API server and credentials; or `clientConfig`. */
  readonly kubeconfig?: string;
  readonly clientConfig?: ClientConfig;
  /** Pods with this spec.schedulerName are ours; default "default-scheduler". */
  readonly schedulerName?: string;
  readonly leaderElect?: boolean;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  readonly leaseNamespace?: string;
  readonly leaseName?: string;
  readonly identity?: string;
  /** Where /healthz and /metrics are served; false: not served. Default 127.0.0.1:10259. */
  readonly serve?: { readonly host: string; readonly port: number } | false;
  /** Client throttle; upstream's defaults 50 / 100. */
  readonly qps?: number;
  readonly burst?: number;
  /** 0 (default): adaptive, as upstream. */
  readonly percentageOfNodesToScore?: number;
  readonly podInitialBackoffMs?: number;
  readonly podMaxBackoffMs?: number;
  readonly log: Logger;
}

export interface SchedulerOptions {
  readonly kubeconfig: string | undefined;
  readonly clientConfig: ClientConfig | undefined;
  readonly schedulerName: string;
  readonly leaderElect: boolean;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly leaseNamespace: string;
  readonly leaseName: string;
  readonly identity: string;
  readonly serve: { readonly host: string; readonly port: number } | false;
  readonly qps: number;
  readonly burst: number;
  readonly percentageOfNodesToScore: number;
  readonly podInitialBackoffMs: number;
  readonly podMaxBackoffMs: number;
  readonly log: Logger;
}

export function compileSchedulerOptions(i: SchedulerOptionsInput): SchedulerOptions {
  const bad = (msg: string): never => {
    throw new SchedulerError("InvalidOptions", msg);
  };
  if (!i.kubeconfig && !i.clientConfig) bad("a kubeconfig (or client config) is required");
  const leaseDurationMs = i.leaseDurationMs ?? 15_000;
  const renewDeadlineMs = i.renewDeadlineMs ?? 10_000;
  const retryPeriodMs = i.retryPeriodMs ?? 2_000;
  if (!(retryPeriodMs > 0)) bad("--leader-elect-retry-period must be greater than zero");
  if (!(leaseDurationMs > renewDeadlineMs)) bad("--leader-elect-lease-duration must be greater than --leader-elect-renew-deadline");
  if (!(renewDeadlineMs > 1.2 * retryPeriodMs)) bad("--leader-elect-renew-deadline must be greater than 1.2 × --leader-elect-retry-period");
  const serve = i.serve === undefined ? { host: "127.0.0.1", port: 10259 } : i.serve;
  if (serve && !(Number.isInteger(serve.port) && serve.port >= 0 && serve.port < 65536)) bad(`invalid port ${serve.port}`);
  const qps = i.qps ?? 50;
  const burst = i.burst ?? 100;
  if (!(qps > 0)) bad(`--kube-api-qps must be > 0, got ${qps}`);
  if (qps !== Infinity && !(Number.isInteger(burst) && burst >= 1)) bad(`--kube-api-burst must be a positive integer, got ${burst}`);
  const pct = i.percentageOfNodesToScore ?? 0;
  if (!(pct >= 0 && pct <= 100)) bad(`percentageOfNodesToScore must be 0..100, got ${pct}`);
  const initial = i.podInitialBackoffMs ?? 1000;
  const max = i.podMaxBackoffMs ?? 10_000;
  if (!(initial > 0) || !(max >= initial)) bad(`pod backoff must satisfy 0 < initial (${initial}) <= max (${max})`);
  return {
    kubeconfig: i.kubeconfig,
    clientConfig: i.clientConfig,
    schedulerName: i.schedulerName || DEFAULT_SCHEDULER_NAME,
    leaderElect: i.leaderElect ?? true,
    leaseDurationMs,
    renewDeadlineMs,
    retryPeriodMs,
    leaseNamespace: i.leaseNamespace ?? "kube-system",
    leaseName: i.leaseName ?? "kube-scheduler",
    identity: i.identity ?? defaultIdentity(),
    serve,
    qps,
    burst,
    percentageOfNodesToScore: pct,
    podInitialBackoffMs: initial,
    podMaxBackoffMs: max,
    log: i.log,
  };
}

/** spec.priority, else the PriorityClass named by the pod, else the global default class, else 0. */
function priorityResolver(classes: SharedInformer<PriorityClass>): (pod: RPod) => number {
  return (pod) => {
    if (pod.spec?.priority !== undefined) return pod.spec.priority;
    const name = pod.spec?.priorityClassName;
    if (name) return classes.lister.get(name)?.value ?? 0;
    for (const pc of classes.lister.list()) if (pc.globalDefault) return pc.value;
    return 0;
  };
}

export class Scheduler {
  readonly registry = new Registry();
  private readonly log: Logger;
  private readonly stopper = new AbortController();
  private readonly leaderGauge: Gauge;
  private readonly attempts: Counter;
  private readonly attemptSeconds: Histogram;
  private config: ClientConfig | undefined;
  private client: RestClient | undefined;
  private http: Server | undefined;
  private loop: Promise<void> | undefined;
  private current: SchedulerCore | undefined;
  private leading = false;
  private leadWaiters: (() => void)[] = [];

  constructor(readonly options: SchedulerOptions) {
    this.log = options.log.child({ component: "scheduler" });
    this.leaderGauge = new Gauge({ name: "leader_election_master_status", help: "1 while this instance is the leader, else 0.", labelNames: ["name"], registers: [this.registry] });
    this.leaderGauge.set({ name: options.leaseName }, 0);
    this.attempts = new Counter({ name: "scheduler_schedule_attempts_total", help: "Scheduling attempts by result.", labelNames: ["result", "profile"], registers: [this.registry] });
    this.attemptSeconds = new Histogram({
      name: "scheduler_scheduling_attempt_duration_seconds",
      help: "Scheduling attempt latency (scheduling cycle and, for scheduled pods, binding).",
      labelNames: ["result", "profile"],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
      registers: [this.registry],
    });
    const lengths = (): { active: number; backoff: number; unschedulable: number } => this.current?.queue.lengths ?? { active: 0, backoff: 0, unschedulable: 0 };
    new Gauge({
      name: "scheduler_pending_pods",
      help: "Pending pods by queue (active, backoff, unschedulable).",
      labelNames: ["queue"],
      registers: [this.registry],
      collect() {
        const l = lengths();
        this.set({ queue: "active" }, l.active);
        this.set({ queue: "backoff" }, l.backoff);
        this.set({ queue: "unschedulable" }, l.unschedulable);
      },
    });
  }

  /** Resolves once the health server listens and the campaign (or, without election, scheduling) started. */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.loop) throw new SchedulerError("InvalidOptions", "the scheduler was already started");
    const o = this.options;
    this.config = o.clientConfig ?? (await loadKubeconfig(o.kubeconfig!));
    this.client = this.newClient("leader-election");
    if (o.serve) this.http = await this.listen(o.serve.host, o.serve.port);
    signal?.addEventListener("abort", () => void this.stop().catch((err: unknown) => this.log.error({ err }, "stopping failed")), { once: true });
    this.log.info({ schedulerName: o.schedulerName, leaderElect: o.leaderElect, identity: o.identity, health: this.healthUrl }, "scheduler starting");
    this.loop = this.run(this.client).catch((err: unknown) => this.log.error({ err }, "scheduler loop failed"));
  }

  /** Stops scheduling (bindings in flight finish), releases the lease, closes the server and client. */
  async stop(): Promise<void> {
    this.stopper.abort();
    await this.loop;
    if (this.http) {
      const http = this.http;
      this.http = undefined;
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    }
    this.client?.close();
    for (const w of this.leadWaiters.splice(0)) w();
  }

  get healthUrl(): string | undefined {
    const a = this.http?.address() as AddressInfo | null | undefined;
    if (!a) return undefined;
    const host = a.family === "IPv6" ? `[${a.address}]` : a.address;
    return `http://${host}:${a.port}`;
  }

  isLeading(): boolean {
    return this.leading;
  }

  /** The scheduling core of the current term (undefined while not leading): for tests and benchmarks. */
  get core(): SchedulerCore | undefined {
    return this.current;
  }

  /** Resolves true once scheduling runs, false if stopped or `signal` aborts first. */
  waitUntilLeading(signal?: AbortSignal): Promise<boolean> {
    if (this.leading) return Promise.resolve(true);
    if (this.stopper.signal.aborted || signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = (): void => resolve(false);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.leadWaiters.push(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve(this.leading);
      });
    });
  }

  private newClient(name: string): RestClient {
    const o = this.options;
    return new RestClient({ config: this.config!, component: "scheduler", name, qps: o.qps, burst: o.burst });
  }

  private async run(client: RestClient): Promise<void> {
    const o = this.options;
    const signal = this.stopper.signal;
    setMaxListeners(0, signal);
    await runLeaderElected(
      { ...o, leases: client.forKind("coordination.k8s.io/v1", "Lease"), log: this.log, what: "scheduling" },
      (term) => this.lead(term),
      signal,
    );
  }

  /** One term: fresh informers, cache, queue and recorder, scheduling until `signal` aborts. */
  private async lead(signal: AbortSignal): Promise<void> {
    setMaxListeners(0, signal);
    const o = this.options;
    const log = this.log;
    const informerClient = this.newClient("shared-informers");
    const client = this.newClient("scheduler");
    // Caches drop managedFields (nothing here reads them), as upstream's components do.
    const informers = new SharedInformerFactory({ client: informerClient, log, omitManagedFields: true });
    // Pods' priorities are resolved (and cached) as the pods arrive: know the classes first.
    const classes = informers.forKind("scheduling.k8s.io/v1", "PriorityClass");
    informers.start(signal);
    const pods = informers.forKind("v1", "Pod");
    const nodes = informers.forKind("v1", "Node");
    const namespaces = informers.forKind("v1", "Namespace");
    const pdbs = informers.forKind("policy/v1", "PodDisruptionBudget");
    // VolumeBinding's view of storage (upstream's scheduler watches the same three).
    const claims = informers.forKind("v1", "PersistentVolumeClaim");
    const volumes = informers.forKind("v1", "PersistentVolume");
    const storageClasses = informers.forKind("storage.k8s.io/v1", "StorageClass");
    volumes.addIndexers({ [CLAIM_REF_INDEX]: (pv) => [claimRefIndexKey(pv)] });
    const volumeLookup: VolumeLookup = {
      claim: (ns, name) => claims.lister.get(`${ns}/${name}`),
      volume: (name) => volumes.lister.get(name),
      volumes: () => volumes.lister.list(),
      *volumesFor(ns, names) {
        yield* volumes.indexer.byIndex(CLAIM_REF_INDEX, "");
        for (const name of names) yield* volumes.indexer.byIndex(CLAIM_REF_INDEX, `${ns}/${name}`);
      },
      storageClass: (name) => storageClasses.lister.get(name),
    };
    // The recorder's default queue of 1000 is upstream's broadcaster queue: a burst of bindings
    // beyond it drops Scheduled events instead of writing them for minutes after the burst.
    const events = EventRecorder.forClient(client, { component: o.schedulerName, log });
    const core = new SchedulerCore({
      schedulerName: o.schedulerName,
      api: restSchedulerApi(client),
      events,
      log,
      lookupPod: (ns, name) => pods.lister.get(`${ns}/${name}`),
      pdbs: () => pdbs.lister.list() as readonly RPDB[],
      priorityOf: priorityResolver(classes),
      volumes: volumeLookup,
      percentageOfNodesToScore: o.percentageOfNodesToScore,
      initialBackoffMs: o.podInitialBackoffMs,
      maxBackoffMs: o.podMaxBackoffMs,
      onAttempt: (result, seconds) => {
        this.attempts.inc({ result, profile: o.schedulerName });
        this.attemptSeconds.observe({ result, profile: o.schedulerName }, seconds);
      },
    });
    const unwrap = <T>(obj: DeepReadonly<T> | DeletedFinalStateUnknown<T>): DeepReadonly<T> => (obj instanceof DeletedFinalStateUnknown ? obj.obj : obj);
    pods.addEventHandler({
      onAdd: (p) => core.onPodAdd(p as DeepReadonly<Pod>),
      onUpdate: (a, b) => core.onPodUpdate(a as DeepReadonly<Pod>, b as DeepReadonly<Pod>),
      onDelete: (p) => core.onPodDelete(unwrap<Pod>(p)),
    });
    nodes.addEventHandler({
      onAdd: (n) => core.onNodeAdd(n as DeepReadonly<Node>),
      onUpdate: (a, b) => core.onNodeUpdate(a as DeepReadonly<Node>, b as DeepReadonly<Node>),
      onDelete: (n) => core.onNodeDelete(unwrap<Node>(n)),
    });
    claims.addEventHandler({
      onAdd: (c) => core.onClaimAdd(c as DeepReadonly<PersistentVolumeClaim>),
      onUpdate: (a, b) => core.onClaimUpdate(a as DeepReadonly<PersistentVolumeClaim>, b as DeepReadonly<PersistentVolumeClaim>),
      onDelete: (c) => core.onClaimDelete(unwrap<PersistentVolumeClaim>(c)),
    });
    volumes.addEventHandler({
      onAdd: (v) => core.onVolumeAdd(v as DeepReadonly<PersistentVolume>),
      onUpdate: (a, b) => core.onVolumeUpdate(a as DeepReadonly<PersistentVolume>, b as DeepReadonly<PersistentVolume>),
      onDelete: (v) => core.onVolumeDelete(unwrap<PersistentVolume>(v)),
    });
    storageClasses.addEventHandler({
      onAdd: (c) => core.onStorageClassAdd(c as DeepReadonly<StorageClass>),
      onUpdate: (a, b) => core.onStorageClassUpdate(a as DeepReadonly<StorageClass>, b as DeepReadonly<StorageClass>),
    });
    const nsLabels = (n: DeepReadonly<Namespace>): Readonly<Record<string, string>> => n.metadata?.labels ?? {};
    namespaces.addEventHandler({
      onAdd: (n) => core.onNamespace(n.metadata?.name ?? "", nsLabels(n)),
      onUpdate: (_a, n) => core.onNamespace(n.metadata?.name ?? "", nsLabels(n)),
      onDelete: (n) => core.onNamespace(unwrap<Namespace>(n).metadata?.name ?? "", undefined, true),
    });
    this.current = core;
    try {
      if (!(await classes.waitForSync(signal))) return;
      informers.start(signal);
      if (!(await informers.waitForCacheSync(signal))) return;
      this.leading = true;
      this.leaderGauge.set({ name: o.leaseName }, 1);
      for (const w of this.leadWaiters.splice(0)) w();
      log.info({ nodes: core.cache.numNodes(), pending: core.queue.lengths }, "caches synced; scheduling");
      await core.run(signal);
    } finally {
      this.leading = false;
      this.current = undefined;
      this.leaderGauge.set({ name: o.leaseName }, 0);
      core.queue.close();
      await informers.shutdown();
      await events.shutdown();
      informerClient.close();
      client.close();
    }
  }

  private listen(host: string, port: number): Promise<Server> {
    const server = createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0];
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405).end();
        return;
      }
      if (path === "/healthz" || path === "/livez" || path === "/readyz") {
        res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" }).end("ok");
        return;
      }
      if (path === "/metrics") {
        this.registry.metrics().then(
          (text) => res.writeHead(200, { "Content-Type": this.registry.contentType }).end(text),
          (err: unknown) => res.writeHead(500).end(String(err)),
        );
        return;
      }
      res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("404 page not found\n");
    });
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve(server);
      });
    });
  }
}
