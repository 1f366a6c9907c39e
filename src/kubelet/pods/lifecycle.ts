// The pod lifecycle (upstream's pod workers + kuberuntime SyncPod + PLEG): one worker per pod,
// whose syncs never overlap, all pods in parallel. A sync reads what the runtime has of the
// pod, decides (actions.ts), acts through CRI, reads again and reports the status. Syncs are
// triggered by the pod changing, by the runtime changing (a relist of CRI every second), by a
// back-off running out, by a probe result and by a periodic resync; never by polling a pod.
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rm, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Container, EphemeralContainer, LifecycleHandler, Pod, PodStatus } from "kubernetes-types/core/v1.js";
import { Backoff as RetryBackoff } from "../../client/backoff.js";
import type { EventRecorder } from "../../client/events.js";
import type { RestClient } from "../../client/rest.js";
import { ItemExponentialFailureRateLimiter } from "../../client/workqueue.js";
import { writeFileAtomic } from "../../util/atomic-write.js";
import type { Logger } from "../../util/log.js";
import type { CriClient, Input, PodSandboxConfig } from "../cri/client.js";
import { isCriError } from "../cri/client.js";
import { goDuration, podDesc } from "../probes/format.js";
import { runLifecycleHook } from "../probes/handlers.js";
import {
  ANNOTATION_CONTAINER_PRESTOP_GRACE,
  ANNOTATION_POD_GRACE_PERIOD,
  isStaticPod,
  LABEL_MANAGED_BY,
  LABEL_POD_NAME,
  LABEL_POD_NAMESPACE,
  LABEL_POD_UID,
  VolumeError,
  type KubeletPaths,
  type MountedVolume,
  type ObjectSource,
  type ProbeManager,
  type RunningContainer,
  type VolumeManager,
} from "../types.js";
import { computePodActions } from "./actions.js";
import { Backoff, DEFAULT_BACKOFF, type BackoffPolicy } from "./backoff.js";
import { containerConfig, containerHash, containerMounts, DEFAULT_GRACE_SECONDS, podRef, terminationGraceSeconds, verifyRunAsNonRoot } from "./container.js";
import { ContainerConfigError, containerEnv } from "./env.js";
import { hostAllocatable, type NodeAllocatable } from "../volumes/downward.js";
import { ImagePuller, ImagePullError, NO_BUILTIN_IMAGES, type BuiltinImages } from "./images.js";
import { removePodCgroups, removeUnclaimedPodCgroups } from "./cgroups.js";
import { EMPTY_RUNTIME, RuntimeReader, type ContainerRecord, type PodRuntime, type SandboxRecord } from "./runtime-state.js";
import { hostNetworkHostsFile, managedHostsFile, MANAGED_BY_VALUE, parseResolvConf, podHostname, sandboxConfig, type ResolvConf } from "./sandbox.js";
import { computePodStatus, isSidecar, KUBELET_CONDITIONS, latestOf, readySandbox, type ContainerReason } from "./status.js";
import { podKey, StatusWriter } from "./status-writer.js";
import { podContainer } from "../../api/containers.js";

export interface PodLifecycleOptions {
  /** status.hostIP / hostIPs */
  nodeIP: string;
  cri: CriClient;
  /** pods/status patches and the final pod delete */
  client: RestClient;
  events: EventRecorder;
  paths: KubeletPaths;
  volumes: VolumeManager;
  probes: ProbeManager;
  /** configMapKeyRef/secretKeyRef/envFrom and service link env vars */
  objects: ObjectSource;
  /** ClusterFirst nameservers; empty → behave as dnsPolicy Default */
  clusterDNS: readonly string[];
  clusterDomain: string;
  /** pod cgroups go under <parent>/pod<uid> */
  cgroupParent: string;
  log: Logger;
  /** every pod is synced again this often (default 10 s) */
  resyncIntervalMs?: number;
  /** crash-loop and image-pull back-off (default 10 s doubling to 5 min); tests shorten it */
  backoff?: BackoffPolicy;
  /** how often CRI is relisted to notice container exits (default 1 s) */
  relistIntervalMs?: number;
  /** the host's resolver config, for dnsPolicy Default (default /etc/resolv.conf) */
  resolvConfPath?: string;
  /** the node's hosts file, for host-network pods (default /etc/hosts) */
  hostsPath?: string;
  /** images the node builds itself, which pods wait for instead of pulling (default: none) */
  builtinImages?: BuiltinImages;
}

interface CompiledOptions extends Required<Omit<PodLifecycleOptions, "backoff">> {
  backoff: BackoffPolicy;
}

function compile(o: PodLifecycleOptions): CompiledOptions {
  return {
    resyncIntervalMs: 10_000,
    relistIntervalMs: 1000,
    resolvConfPath: "/etc/resolv.conf",
    hostsPath: "/etc/hosts",
    builtinImages: NO_BUILTIN_IMAGES,
    ...o,
    backoff: o.backoff ?? DEFAULT_BACKOFF,
    cgroupParent: o.cgroupParent.replace(/\/+$/, ""),
  };
}

// upstream's minimumGracePeriodInSeconds: a container always gets this long to stop.
const MIN_GRACE_SECONDS = 2;

interface Worker {
  readonly uid: string;
  pod: Pod;
  /** the pod is gone from its source: clean everything up, then forget the worker */
  removed: boolean;
  /** a sync is running (its loop picks up `dirty`) */
  syncing: boolean;
  dirty: boolean;
  timer: NodeJS.Timeout | undefined;
  timerAt: number;
  /** earliest time a back-off ends, collected during a sync */
  wakeAt: number;
  /** why containers that should run are not running, by name (upstream's reason cache) */
  readonly reasons: Map<string, ContainerReason>;
  /** the status last computed */
  status: PodStatus | undefined;
  runtime: PodRuntime;
  /** the pod will run nothing more (final phase, failed init, deadline) */
  terminal: boolean;
  /** for a final phase decided here: reason and message of the pod status */
  failure: { reason: string; message: string } | undefined;
  /** deleted pod: final status written and the object deleted */
  finished: boolean;
  /** refused at admission (status written once, never run) */
  rejected: boolean;
  /** the delay before retrying a failed sync */
  readonly syncRetry: RetryBackoff;
  /** the delay before retrying a container that failed to be created or started, by name */
  readonly startRetries: ItemExponentialFailureRateLimiter<string>;
  etcHosts: string | undefined;
  /** what update() last saw of the pod besides its status, to skip status-only updates */
  specKey: string;
}

/** A sync that could not finish for a reason already reported; retried later without noise. */
class RetryLater extends Error {
  override readonly name = "RetryLater";
}

/**
 * What of a pod a sync depends on: its metadata and spec, a final phase another component set,
 * and the conditions others own (readiness gates). Our own status writes change none of it.
 */
function specKey(pod: Pod): string {
  const { resourceVersion: _rv, managedFields: _mf, ...meta } = pod.metadata ?? {};
  const phase = isFinal(pod.status?.phase) ? pod.status?.phase : undefined;
  const foreign = (pod.status?.conditions ?? []).filter((c) => !KUBELET_CONDITIONS.has(c.type)).map((c) => [c.type, c.status]);
  return JSON.stringify([meta, pod.spec, phase, foreign]);
}

function isFinal(phase: string | undefined): boolean {
  return phase === "Succeeded" || phase === "Failed";
}

function errText(err: unknown): string {
  return isCriError(err) ? err.details : err instanceof Error ? err.message : String(err);
}

function hostPorts(pod: Pod): { protocol: string; port: number; ip: string }[] {
  const out: { protocol: string; port: number; ip: string }[] = [];
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) for (const p of c.ports ?? []) if (p.hostPort) out.push({ protocol: p.protocol ?? "TCP", port: p.hostPort, ip: p.hostIP ?? "" });
  return out;
}

function portsConflict(a: ReturnType<typeof hostPorts>, b: ReturnType<typeof hostPorts>): boolean {
  const wild = (ip: string): boolean => ip === "" || ip === "0.0.0.0" || ip === "::";
  return a.some((x) => b.some((y) => x.protocol === y.protocol && x.port === y.port && (wild(x.ip) || wild(y.ip) || x.ip === y.ip)));
}

export class PodLifecycle {
  private readonly o: CompiledOptions;
  private readonly log: Logger;
  private readonly workers = new Map<string, Worker>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly reader: RuntimeReader;
  private readonly crashBackoff: Backoff;
  private readonly images: ImagePuller;
  private readonly writer: StatusWriter;
  private readonly node: NodeAllocatable;
  private readonly stopping = new AbortController();
  private relistTimer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private relisting = false;
  private lastRelist = new Map<string, string>();
  private started = false;
  private stopped = false;
  /** uids removed lately: a late update for one must not start the pod again */
  private readonly removedUids = new Set<string>();

  constructor(o: PodLifecycleOptions) {
    this.o = compile(o);
    this.log = o.log.child({ component: "pod-lifecycle" });
    this.reader = new RuntimeReader(o.cri);
    this.crashBackoff = new Backoff(this.o.backoff);
    this.images = new ImagePuller(o.cri, o.events, o.objects, new Backoff(this.o.backoff), this.o.builtinImages);
    this.writer = new StatusWriter(o.client, this.log);
    this.node = hostAllocatable(o.paths.root);
  }

  // ---- the public surface ----

  async start(initial: readonly Pod[]): Promise<void> {
    if (this.started) return;
    this.started = true;
    const keep = new Set(initial.map((p) => p.metadata?.uid ?? ""));
    const sandboxes = await this.o.cri.listPodSandbox({ labelSelector: { [LABEL_MANAGED_BY]: MANAGED_BY_VALUE } });
    const orphans = new Map<string, Pod>();
    for (const s of sandboxes) {
      const uid = s.labels[LABEL_POD_UID] ?? s.metadata?.uid ?? "";
      if (!uid || keep.has(uid) || orphans.has(uid)) continue;
      orphans.set(uid, { metadata: { uid, name: s.labels[LABEL_POD_NAME] ?? s.metadata?.name, namespace: s.labels[LABEL_POD_NAMESPACE] ?? s.metadata?.namespace }, spec: { containers: [] } });
    }
    for (const uid of this.o.volumes.podsOnDisk()) if (!keep.has(uid) && !orphans.has(uid)) orphans.set(uid, { metadata: { uid }, spec: { containers: [] } });
    // A pod removed while no kubelet ran can have left nothing but its cgroup.
    await removeUnclaimedPodCgroups(this.o.cgroupParent, (uid) => keep.has(uid) || orphans.has(uid));
    for (const [uid, pod] of orphans) {
      this.log.info({ uid, pod: podKey(pod) }, "removing a pod that is no longer bound to this node");
      const w = this.newWorker(pod);
      w.removed = true;
      this.schedule(w);
    }
    for (const pod of initial) this.accept(pod, true);
    this.relistTimer = setInterval(() => this.relist(), this.o.relistIntervalMs);
    this.relistTimer.unref();
    this.resyncTimer = setInterval(() => {
      for (const w of this.workers.values()) this.schedule(w);
    }, this.o.resyncIntervalMs);
    this.resyncTimer.unref();
  }

  update(pod: Pod): void {
    this.accept(pod, false);
  }

  /** `adopted`: the pod ran here before this agent started, so it was admitted back then. */
  private accept(pod: Pod, adopted: boolean): void {
    if (this.stopped) return;
    const uid = pod.metadata?.uid;
    if (!uid) return;
    let w = this.workers.get(uid);
    if (w?.removed || this.removedUids.has(uid)) return;
    const key = specKey(pod);
    if (!w) {
      w = this.newWorker(pod);
      if (!adopted && !isFinal(pod.status?.phase)) this.admit(w);
    } else {
      w.pod = pod;
      // Our own status writes come back as updates; only a change besides status needs a sync.
      if (w.specKey === key) return;
    }
    w.specKey = key;
    this.schedule(w);
  }

  remove(uid: string): void {
    if (this.stopped) return;
    const w = this.workers.get(uid);
    if (!w) return;
    w.removed = true;
    this.schedule(w);
  }

  pods(): Pod[] {
    const out: Pod[] = [];
    for (const w of this.workers.values()) {
      if (w.removed || w.rejected) continue;
      out.push({ ...w.pod, status: w.status ?? w.pod.status ?? {} });
    }
    return out;
  }

  resync(uid: string): void {
    const w = this.workers.get(uid);
    if (w) this.schedule(w);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopping.abort();
    clearInterval(this.relistTimer);
    clearInterval(this.resyncTimer);
    for (const w of this.workers.values()) clearTimeout(w.timer);
    // A sync waiting out a long grace period is not worth holding the agent's shutdown for.
    const drained = Promise.all([...this.inflight]);
    await Promise.race([drained, new Promise((r) => setTimeout(r, 5000).unref())]);
    await this.writer.stop();
  }

  /** Resolves when no sync runs and no status write is pending (tests and benchmarks). */
  async idle(): Promise<void> {
    while (this.inflight.size) await Promise.all([...this.inflight]);
    await this.writer.idle();
  }

  // ---- workers ----

  private newWorker(pod: Pod): Worker {
    const uid = pod.metadata?.uid ?? "";
    const w: Worker = {
      uid,
      pod,
      removed: false,
      syncing: false,
      dirty: false,
      timer: undefined,
      timerAt: 0,
      wakeAt: Infinity,
      reasons: new Map(),
      status: undefined,
      runtime: EMPTY_RUNTIME,
      terminal: false,
      failure: undefined,
      finished: false,
      rejected: false,
      // Retries start at a tenth of the crash back-off's first step (1 s) and grow to that step
      // (10 s), upstream's pod worker retry period: a missing configMap is often created a
      // moment later.
      syncRetry: new RetryBackoff({ initialMs: this.o.backoff.initialMs / 10, maxMs: this.o.backoff.initialMs }),
      startRetries: new ItemExponentialFailureRateLimiter(this.o.backoff.initialMs / 10, this.o.backoff.initialMs),
      etcHosts: undefined,
      specKey: "",
    };
    this.workers.set(uid, w);
    return w;
  }

  /** upstream's admission: a host port another pod here already holds is refused (NodePorts). */
  private admit(w: Worker): void {
    const mine = hostPorts(w.pod);
    if (mine.length === 0) return;
    for (const other of this.workers.values()) {
      if (other === w || other.removed || other.rejected || other.terminal || other.pod.metadata?.deletionTimestamp) continue;
      if (!portsConflict(mine, hostPorts(other.pod))) continue;
      const message = "Pod was rejected: Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports";
      w.rejected = true;
      w.terminal = true;
      this.o.events.event(podRef(w.pod), "Warning", "NodePorts", message);
      const status: PodStatus = { ...(w.pod.status ?? {}), phase: "Failed", reason: "NodePorts", message };
      w.status = status;
      this.writer.set(w.pod, status);
      return;
    }
  }

  private schedule(w: Worker, delayMs = 0): void {
    if (this.stopped) return;
    if (delayMs > 0) {
      const at = Date.now() + delayMs;
      if (w.timer && w.timerAt <= at) return;
      clearTimeout(w.timer);
      w.timerAt = at;
      w.timer = setTimeout(() => {
        w.timer = undefined;
        this.schedule(w);
      }, delayMs);
      w.timer.unref();
      return;
    }
    if (w.syncing) {
      w.dirty = true;
      return;
    }
    w.syncing = true;
    w.dirty = true;
    const run = (async () => {
      while (w.dirty && !this.stopped) {
        w.dirty = false;
        w.wakeAt = Infinity;
        try {
          await this.sync(w);
          w.syncRetry.reset();
        } catch (err) {
          if (!(err instanceof RetryLater)) this.log.warn({ pod: podKey(w.pod), err: errText(err) }, "pod sync failed; will retry");
          w.wakeAt = Math.min(w.wakeAt, Date.now() + w.syncRetry.next());
        }
        if (w.wakeAt !== Infinity && !w.dirty && this.workers.get(w.uid) === w) this.schedule(w, Math.max(1, w.wakeAt - Date.now()));
      }
      w.syncing = false;
    })();
    this.inflight.add(run);
    void run.finally(() => this.inflight.delete(run));
  }

  private wakeIn(w: Worker, ms: number): void {
    w.wakeAt = Math.min(w.wakeAt, Date.now() + Math.max(1, ms));
  }

  /** upstream's PLEG: a relist of CRI notices containers and sandboxes that changed state. */
  private relist(): void {
    if (this.relisting || this.stopped) return;
    this.relisting = true;
    const signal = this.stopping.signal;
    void (async () => {
      try {
        const [containers, sandboxes] = await Promise.all([this.o.cri.listContainers(undefined, { signal, timeoutMs: 10_000 }), this.o.cri.listPodSandbox(undefined, { signal, timeoutMs: 10_000 })]);
        const now = new Map<string, string>();
        const uidOf = new Map<string, string>();
        for (const c of containers) {
          now.set(c.id, c.state);
          uidOf.set(c.id, c.labels[LABEL_POD_UID] ?? "");
        }
        for (const s of sandboxes) {
          now.set(s.id, s.state);
          uidOf.set(s.id, s.labels[LABEL_POD_UID] ?? "");
        }
        const changed = new Set<string>();
        for (const [id, state] of now) if (this.lastRelist.get(id) !== state) changed.add(uidOf.get(id) ?? "");
        for (const id of this.lastRelist.keys()) if (!now.has(id)) changed.add(this.relistUid.get(id) ?? "");
        this.lastRelist = now;
        this.relistUid = uidOf;
        for (const uid of changed) {
          const w = this.workers.get(uid);
          if (w) this.schedule(w);
        }
      } catch (err) {
        if (!this.stopped) this.log.warn({ err: errText(err) }, "relisting the runtime failed");
      } finally {
        this.relisting = false;
      }
    })();
  }
  private relistUid = new Map<string, string>();

  // ---- one sync ----

  private async sync(w: Worker): Promise<void> {
    if (w.removed) return this.syncRemoved(w);
    if (w.rejected || w.finished) return;
    const pod = w.pod;
    const t0 = performance.now();
    let runtime = (w.runtime = await this.reader.read(w.uid));
    const tRead = performance.now();
    const deleting = pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null;
    this.checkDeadline(w);
    if (deleting || w.terminal || isFinal(pod.status?.phase)) return this.syncTerminating(w, runtime, deleting);

    // Tell the API the pod is being worked on before the first (slow) steps. The prober hears of
    // the running containers first: after a kubelet restart this is the first status of
    // containers it has not seen yet, and it would report them unready and not started.
    this.syncProbes(w, runtime);
    this.report(w, runtime, false);

    let volumes: Map<string, MountedVolume>;
    try {
      volumes = await this.o.volumes.setUpPod(pod);
    } catch (err) {
      if (!(err instanceof VolumeError)) throw err;
      this.o.events.event(podRef(pod), "Warning", err.reason, err.message);
      throw new RetryLater(err.message);
    }

    const actions = computePodActions(
      pod,
      runtime,
      (id) => this.o.probes.restartReason(w.uid, id),
      (id) => this.o.probes.isStarted(w.uid, id),
    );
    const grace = terminationGraceSeconds(pod);
    if (actions.killPod) {
      if (actions.sandboxChanged) this.o.events.event(podRef(pod), "Normal", "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.");
      await this.killAll(pod, runtime, grace);
      if (actions.initFailed) w.terminal = true;
    } else {
      await Promise.all(actions.kill.map((k) => this.killContainer(pod, k.container, grace, k.message, this.podIP(pod, runtime))));
    }

    const tVolumes = performance.now();
    let sandbox: SandboxRecord | undefined = actions.killPod ? undefined : readySandbox(runtime);
    if (actions.createSandbox) this.hostResolv = await this.resolvConf();
    const config = this.sandboxConfig(pod, actions.createSandbox ? actions.sandboxAttempt : (sandbox?.attempt ?? 0));
    if (actions.createSandbox) sandbox = await this.createSandbox(w, config);
    const tSandbox = performance.now();
    if (sandbox && (actions.startInit || actions.start.length || actions.startEphemeral.length)) {
      await this.ensureEtcHosts(w, sandbox);
      const facts = { podIPs: pod.spec?.hostNetwork ? [this.o.nodeIP] : [...sandbox.ips], hostIPs: [this.o.nodeIP] };
      const ctx = { sandbox, config, volumes, facts, runtime };
      // upstream's SyncPod order: ephemeral containers, then the next init container, then the rest.
      for (const c of actions.startEphemeral) await this.startContainer(w, c, ctx, true);
      if (actions.startInit) await this.startContainer(w, actions.startInit, ctx);
      for (const c of actions.start) await this.startContainer(w, c, ctx);
    }

    const tStart = performance.now();
    const acted = actions.killPod || actions.kill.length > 0 || actions.createSandbox || actions.startInit !== undefined || actions.start.length > 0 || actions.startEphemeral.length > 0;
    // When this sync changed nothing, the first read still stands: a change since then was seen
    // by the relist, which has marked the worker dirty for another sync.
    if (acted) runtime = w.runtime = await this.reader.read(w.uid);
    // The prober learns of new containers first: one without a readiness probe is ready in the
    // same status that first reports it running.
    this.syncProbes(w, runtime);
    const status = this.report(w, runtime, false);
    if (actions.createSandbox || actions.start.length || actions.startInit || actions.startEphemeral.length) {
      const ms = (a: number, b: number): number => Math.round(b - a);
      this.log.debug({ pod: podKey(pod), read: ms(t0, tRead), volumes: ms(tRead, tVolumes), sandbox: ms(tVolumes, tSandbox), containers: ms(tSandbox, tStart), status: ms(tStart, performance.now()) }, "pod synced (ms per step)");
    }
    this.checkDeadline(w);
    if (isFinal(status.phase) || w.terminal) {
      // The pod has run its course: stop its sandbox (its containers stay for their logs).
      w.terminal = true;
      this.schedule(w);
    }
    await this.collectGarbage(w, runtime);
  }

  /** activeDeadlineSeconds: a pod running longer than that fails (upstream's activeDeadlineHandler). */
  private checkDeadline(w: Worker): void {
    const deadline = w.pod.spec?.activeDeadlineSeconds;
    const startTime = (w.status ?? w.pod.status)?.startTime;
    if (deadline === undefined || !startTime || w.terminal) return;
    const left = Date.parse(startTime) + deadline * 1000 - Date.now();
    if (left > 0) {
      this.wakeIn(w, left);
      return;
    }
    const message = "Pod was active on the node longer than the specified deadline";
    this.o.events.event(podRef(w.pod), "Normal", "DeadlineExceeded", message);
    w.terminal = true;
    w.failure = { reason: "DeadlineExceeded", message };
  }

  private statusBase(w: Worker): PodStatus | undefined {
    const ours = w.status ?? this.writer.current(w.uid) ?? w.pod.status;
    if (!ours) return undefined;
    // Conditions others own (readiness gates, DisruptionTarget) come from the API's copy.
    const foreign = (w.pod.status?.conditions ?? []).filter((c) => !KUBELET_CONDITIONS.has(c.type));
    return { ...ours, conditions: [...(ours.conditions ?? []).filter((c) => KUBELET_CONDITIONS.has(c.type)), ...foreign] };
  }

  private computeStatus(w: Worker, runtime: PodRuntime, podIsTerminal: boolean): PodStatus {
    const status = computePodStatus({
      pod: w.pod,
      runtime,
      reasons: w.reasons,
      probes: { isReady: (id) => this.o.probes.isReady(w.uid, id), isStarted: (id) => this.o.probes.isStarted(w.uid, id) },
      hostIPs: [this.o.nodeIP],
      now: Date.now(),
      podIsTerminal,
      old: this.statusBase(w),
    });
    if (w.failure) {
      status.phase = "Failed";
      status.reason = w.failure.reason;
      status.message = w.failure.message;
    }
    return status;
  }

  private report(w: Worker, runtime: PodRuntime, podIsTerminal: boolean): PodStatus {
    const status = this.computeStatus(w, runtime, podIsTerminal);
    w.status = status;
    this.writer.set(w.pod, status);
    return status;
  }

  private podIP(pod: Pod, runtime: PodRuntime): string | undefined {
    return pod.spec?.hostNetwork ? this.o.nodeIP : readySandbox(runtime)?.ips[0];
  }

  private syncProbes(w: Worker, runtime: PodRuntime): void {
    const running: RunningContainer[] = [];
    const names = new Set([...(w.pod.spec?.containers ?? []), ...(w.pod.spec?.initContainers ?? [])].map((c) => c.name));
    for (const name of names) {
      const r = runtime.containers.find((c) => c.name === name);
      if (r && r.state === "CONTAINER_RUNNING") running.push({ name, containerId: r.id, startedAt: r.startedAt || r.createdAt });
    }
    this.o.probes.syncPod(w.pod, this.podIP(w.pod, runtime), running);
  }

  /** A deleted or finished pod: stop what runs, report the final status, delete the object. */
  private async syncTerminating(w: Worker, runtime: PodRuntime, deleting: boolean): Promise<void> {
    const pod = w.pod;
    w.terminal = true;
    const grace = (deleting ? pod.metadata?.deletionGracePeriodSeconds : undefined) ?? terminationGraceSeconds(pod);
    const live = runtime.containers.some((c) => c.state === "CONTAINER_RUNNING" || c.state === "CONTAINER_CREATED") || runtime.sandboxes.some((s) => s.state === "SANDBOX_READY");
    if (live) {
      await this.killAll(pod, runtime, grace);
      runtime = w.runtime = await this.reader.read(w.uid);
    }
    this.o.probes.syncPod(pod, undefined, []);
    const status = this.computeStatus(w, runtime, true);
    w.status = status;
    if (deleting && !isStaticPod(pod)) {
      await this.writer.finish(pod, status);
      w.finished = true;
      return;
    }
    this.writer.set(pod, status);
  }

  /** The pod is gone from its source: stop and remove everything it had on this node. */
  private async syncRemoved(w: Worker): Promise<void> {
    const pod = w.pod;
    const runtime = await this.reader.read(w.uid);
    if (runtime.containers.some((c) => c.state === "CONTAINER_RUNNING") || runtime.sandboxes.some((s) => s.state === "SANDBOX_READY")) {
      const grace = pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds;
      await this.killAll(pod, runtime, grace);
    }
    this.o.probes.removePod(w.uid);
    for (const s of runtime.sandboxes) {
      try {
        await this.o.cri.removePodSandbox(s.id);
      } catch (err) {
        if (!isCriError(err, "NotFound")) throw err;
      }
    }
    // Containers left outside a sandbox (should not happen, but a crashed create can leave one).
    for (const c of runtime.containers) await this.o.cri.removeContainer(c.id).catch(() => undefined);
    this.reader.forget([...runtime.sandboxes.map((s) => s.id), ...runtime.containers.map((c) => c.id)]);
    await this.o.volumes.tearDownPod(w.uid);
    const names = new Set<string>();
    if (pod.metadata?.name) names.add(`${pod.metadata.namespace ?? "default"}\u0000${pod.metadata.name}`);
    for (const s of runtime.sandboxes) names.add(`${s.labels[LABEL_POD_NAMESPACE] ?? ""}\u0000${s.labels[LABEL_POD_NAME] ?? ""}`);
    for (const n of names) {
      const [ns = "", name = ""] = n.split("\u0000");
      if (name) await rm(this.o.paths.podLogDir(ns, name, w.uid), { recursive: true, force: true });
    }
    await this.removePodDir(w.uid);
    await removePodCgroups(this.o.cgroupParent, w.uid);
    this.crashBackoff.forgetPrefix(`${w.uid}/`);
    this.images.forgetPod(w.uid);
    this.writer.forget(w.uid);
    clearTimeout(w.timer);
    this.workers.delete(w.uid);
    this.removedUids.add(w.uid);
    if (this.removedUids.size > 1000) this.removedUids.delete(this.removedUids.values().next().value!);
  }

  /** Removes what this part wrote under the pod dir; the dir itself only once it is empty. */
  private async removePodDir(uid: string): Promise<void> {
    const dir = this.o.paths.podDir(uid);
    await rm(this.o.paths.podEtcHosts(uid), { force: true });
    await rm(join(dir, "containers"), { recursive: true, force: true });
    // Never recursive beyond our files: a volume left mounted would take its host data with it.
    await rmdir(this.o.paths.podVolumesDir(uid)).catch(() => undefined);
    await rmdir(dir).catch(() => undefined);
  }

  // ---- sandbox ----

  private resolvConf(): Promise<ResolvConf> {
    return readFile(this.o.resolvConfPath, "utf8").then(parseResolvConf, () => ({ servers: [], searches: [], options: [] }));
  }

  private hostResolv: ResolvConf = { servers: [], searches: [], options: [] };

  private sandboxConfig(pod: Pod, attempt: number): Input<PodSandboxConfig> {
    const m = pod.metadata ?? {};
    return sandboxConfig(pod, attempt, {
      clusterDNS: this.o.clusterDNS,
      clusterDomain: this.o.clusterDomain,
      host: this.hostResolv,
      cgroupParent: this.o.cgroupParent,
      logDirectory: this.o.paths.podLogDir(m.namespace ?? "default", m.name ?? "", m.uid ?? ""),
    });
  }

  /** The CRI handler of the pod's RuntimeClass ("" for the runtime's default), as the kubelet's RuntimeClass manager resolves it. */
  private async runtimeHandlerOf(pod: Pod): Promise<string> {
    const name = pod.spec?.runtimeClassName;
    if (!name) return "";
    const handler = await this.o.objects.runtimeHandler(name);
    if (handler === undefined) throw new Error(`runtimeclass.node.k8s.io "${name}" not found`);
    return handler;
  }

  private async createSandbox(w: Worker, config: Input<PodSandboxConfig>): Promise<SandboxRecord> {
    const pod = w.pod;
    await mkdir(config.logDirectory ?? "", { recursive: true });
    let id: string;
    try {
      id = await this.o.cri.runPodSandbox(config, await this.runtimeHandlerOf(pod));
    } catch (err) {
      const message = `Failed to create pod sandbox: ${errText(err)}`;
      this.o.events.event(podRef(pod), "Warning", "FailedCreatePodSandBox", message);
      throw new RetryLater(message);
    }
    // Through the reader, so that the sync's next read finds the address cached.
    const { ips } = await this.reader.sandboxNetwork(id);
    const hostNetwork = pod.spec?.hostNetwork === true;
    if (!hostNetwork && ips.length === 0) {
      const message = "Failed to create pod sandbox: the pod got no IP address";
      this.o.events.event(podRef(pod), "Warning", "FailedCreatePodSandBox", message);
      throw new RetryLater(message);
    }
    w.etcHosts = undefined;
    return { id, state: "SANDBOX_READY", createdAt: Date.now(), attempt: config.metadata?.attempt ?? 0, ips, hostNetwork, labels: config.labels as Record<string, string> };
  }

  private async ensureEtcHosts(w: Worker, sandbox: SandboxRecord): Promise<void> {
    const pod = w.pod;
    let content: string;
    if (pod.spec?.hostNetwork) content = hostNetworkHostsFile(pod, await readFile(this.o.hostsPath, "utf8").catch(() => ""));
    else content = managedHostsFile(pod, sandbox.ips, podHostname(pod, this.o.clusterDomain));
    if (content === w.etcHosts) return;
    await mkdir(this.o.paths.podDir(w.uid), { recursive: true });
    await writeFileAtomic(this.o.paths.podEtcHosts(w.uid), content, 0o644);
    w.etcHosts = content;
  }

  // ---- containers ----

  /**
   * Pulls, creates and starts one container (upstream's startContainer). An ephemeral one
   * (`ephemeral`) is only started while the runtime has none of it, so no crash back-off
   * applies; it runs no hooks, and with a targetContainerName it joins that container's
   * process namespace.
   */
  private async startContainer(
    w: Worker,
    c: Container | EphemeralContainer,
    ctx: { sandbox: SandboxRecord; config: Input<PodSandboxConfig>; volumes: Map<string, MountedVolume>; facts: { podIPs: string[]; hostIPs: string[] }; runtime: PodRuntime },
    ephemeral = false,
  ): Promise<void> {
    const pod = w.pod;
    const ref = podRef(pod, c.name);
    const latest = latestOf(ctx.runtime, c.name);
    // upstream's doBackOff: measured from when the last dead instance finished, per spec hash
    // (a changed container starts afresh).
    const lastExited = ctx.runtime.containers.find((r) => r.name === c.name && r.state === "CONTAINER_EXITED");
    const key = `${w.uid}/${c.name}/${containerHash(c)}`;
    if (lastExited) {
      const left = this.crashBackoff.remainingSince(key, lastExited.finishedAt || Date.now());
      if (left > 0) {
        this.o.events.event(ref, "Warning", "BackOff", `Back-off restarting failed container ${c.name} in pod ${podDesc(pod)}`);
        w.reasons.set(c.name, { reason: "CrashLoopBackOff", message: `back-off ${goDuration(this.crashBackoff.get(key))} restarting failed container=${c.name} pod=${podDesc(pod)}` });
        this.wakeIn(w, left);
        return;
      }
      this.crashBackoff.next(key, lastExited.finishedAt || Date.now());
    }
    const fail = (reason: string, message: string): void => {
      w.reasons.set(c.name, { reason, message });
      this.o.events.event(ref, "Warning", "Failed", `Error: ${message}`);
      this.wakeIn(w, w.startRetries.when(c.name));
    };

    let image;
    try {
      image = await this.images.ensure(pod, c, ctx.config);
    } catch (err) {
      if (!(err instanceof ImagePullError)) throw err;
      w.reasons.set(c.name, { reason: err.reason, message: err.message });
      this.o.events.event(ref, "Warning", "Failed", `Error: ${err.reason}`);
      // The next try comes when the pull back-off allows one.
      this.wakeIn(w, err.reason === "ImagePullBackOff" || err.reason === "ErrImagePull" ? Math.max(1, this.images.backoffLeft(pod, c)) : this.o.backoff.initialMs);
      return;
    }

    const restartCount = latest ? latest.restartCount + 1 : await this.restartCountFromLogs(pod, c.name);
    // upstream's getTargetID: the target's newest instance; none yet is a config error, and
    // the next sync tries again (the ephemeral container was not created).
    const targetName = ephemeral ? (c as EphemeralContainer).targetContainerName : undefined;
    let pidTarget: string | undefined;
    if (targetName) {
      pidTarget = latestOf(ctx.runtime, targetName)?.id;
      if (pidTarget === undefined) {
        fail("CreateContainerConfigError", `unable to find target container ${targetName}`);
        return;
      }
    }
    let config;
    try {
      const env = await containerEnv(pod, c, {
        objects: this.o.objects,
        facts: ctx.facts,
        node: this.node,
        onInvalidNames: (names) => this.o.events.event(ref, "Warning", "InvalidEnvironmentVariableNames", `Keys [${names.join(", ")}] from the EnvFrom configMap ${pod.metadata?.namespace ?? ""}/${c.envFrom?.find((f) => f.configMapRef)?.configMapRef?.name ?? ""} were skipped since they are considered invalid environment variable names.`),
      });
      verifyRunAsNonRoot(pod, c, image.user);
      const containerDir = this.o.paths.containerDir(w.uid, c.name);
      await mkdir(containerDir, { recursive: true });
      const terminationLog = join(containerDir, randomBytes(4).toString("hex"));
      await writeFile(terminationLog, "", { mode: 0o666 });
      const logDir = this.o.paths.podLogDir(pod.metadata?.namespace ?? "default", pod.metadata?.name ?? "", w.uid);
      await mkdir(join(logDir, c.name), { recursive: true });
      const mounts = containerMounts(c, ctx.volumes, env, { etcHosts: w.etcHosts !== undefined ? this.o.paths.podEtcHosts(w.uid) : undefined, terminationLog });
      config = containerConfig({ pod, container: c, restartCount, imageRef: image.ref, env, mounts, logPath: this.o.paths.containerLogPath(c.name, restartCount), nodeMemoryBytes: Number(this.node["memory"]?.value() ?? 0n), pidTarget });
    } catch (err) {
      if (!(err instanceof ContainerConfigError)) throw err;
      fail("CreateContainerConfigError", err.message);
      return;
    }

    let id: string;
    try {
      id = await this.o.cri.createContainer(ctx.sandbox.id, config, ctx.config);
    } catch (err) {
      fail("CreateContainerError", errText(err));
      return;
    }
    this.o.events.event(ref, "Normal", "Created", `Created container: ${c.name}`);
    try {
      await this.o.cri.startContainer(id);
    } catch (err) {
      fail("RunContainerError", errText(err).replaceAll(id, c.name));
      return;
    }
    this.o.events.event(ref, "Normal", "Started", `Started container ${c.name}`);
    w.reasons.delete(c.name);
    w.startRetries.forget(c.name);

    // Validation forbids lifecycle hooks on ephemeral containers; this makes sure none runs.
    const postStart = ephemeral ? undefined : c.lifecycle?.postStart;
    if (postStart) {
      const podIP = pod.spec?.hostNetwork ? this.o.nodeIP : ctx.sandbox.ips[0];
      const r = await runLifecycleHook(postStart, { cri: this.o.cri, containerId: id, podIP, container: c }, pod, { signal: this.stopping.signal, events: this.o.events });
      if (!r.ok) {
        this.o.events.event(ref, "Warning", "FailedPostStartHook", r.message);
        const grace = terminationGraceSeconds(pod);
        await this.stopContainer(id, grace);
        w.reasons.set(c.name, { reason: "PostStartHookError", message: r.message });
      }
    }
  }

  /** upstream's calcRestartCountByLogDir: after the runtime lost a container, logs keep counting. */
  private async restartCountFromLogs(pod: Pod, name: string): Promise<number> {
    const dir = join(this.o.paths.podLogDir(pod.metadata?.namespace ?? "default", pod.metadata?.name ?? "", pod.metadata?.uid ?? ""), name);
    let max = 0;
    for (const f of await readdir(dir).catch(() => [] as string[])) {
      const m = /^(\d+)\.log/.exec(f);
      if (m) max = Math.max(max, Number(m[1]) + 1);
    }
    return max;
  }

  private async stopContainer(id: string, graceSeconds: number): Promise<void> {
    try {
      await this.o.cri.stopContainer(id, Math.max(MIN_GRACE_SECONDS, Math.ceil(graceSeconds)));
    } catch (err) {
      if (!isCriError(err, "NotFound")) throw err;
    }
  }

  /** preStop hook (counted in the grace period), then StopContainer with what is left of it. */
  private async killContainer(pod: Pod, r: ContainerRecord, graceSeconds: number | undefined, message: string, podIP: string | undefined): Promise<void> {
    const spec = podContainer(pod.spec, r.name);
    let grace = graceSeconds ?? Number(r.annotations[ANNOTATION_POD_GRACE_PERIOD] ?? DEFAULT_GRACE_SECONDS);
    if (!Number.isFinite(grace)) grace = DEFAULT_GRACE_SECONDS;
    if (pod.metadata?.name) this.o.events.event(podRef(pod, r.name), "Normal", "Killing", message);
    let preStop: LifecycleHandler | undefined = spec?.lifecycle?.preStop;
    if (!preStop && r.annotations[ANNOTATION_CONTAINER_PRESTOP_GRACE]) {
      try {
        preStop = JSON.parse(r.annotations[ANNOTATION_CONTAINER_PRESTOP_GRACE]) as LifecycleHandler;
      } catch {
        preStop = undefined;
      }
    }
    if (preStop && r.state === "CONTAINER_RUNNING" && grace > 0) {
      const t0 = Date.now();
      const container: Container = spec ?? { name: r.name };
      const res = await runLifecycleHook(preStop, { cri: this.o.cri, containerId: r.id, podIP, container }, pod, { signal: AbortSignal.any([AbortSignal.timeout(grace * 1000), this.stopping.signal]), events: this.o.events });
      if (!res.ok && pod.metadata?.name) this.o.events.event(podRef(pod, r.name), "Warning", "FailedPreStopHook", res.message);
      grace -= (Date.now() - t0) / 1000;
    }
    await this.stopContainer(r.id, grace);
  }

  /** Kills every running container (in parallel), then stops the pod's ready sandboxes. */
  private async killAll(pod: Pod, runtime: PodRuntime, graceSeconds: number | undefined): Promise<void> {
    const live = runtime.containers.filter((c) => c.state === "CONTAINER_RUNNING" || c.state === "CONTAINER_CREATED");
    const podIP = this.podIP(pod, runtime);
    const stop = (c: ContainerRecord): Promise<void> => (c.state === "CONTAINER_RUNNING" ? this.killContainer(pod, c, graceSeconds, `Stopping container ${c.name}`, podIP) : this.stopContainer(c.id, 0));
    // As upstream: the containers first, together; then the sidecars, the last started first.
    const sidecars = (pod.spec?.initContainers ?? []).filter(isSidecar).map((c) => c.name);
    await Promise.all(live.filter((c) => !sidecars.includes(c.name)).map(stop));
    for (const name of sidecars.reverse()) await Promise.all(live.filter((c) => c.name === name).map(stop));
    for (const s of runtime.sandboxes) {
      if (s.state !== "SANDBOX_READY") continue;
      try {
        await this.o.cri.stopPodSandbox(s.id);
      } catch (err) {
        if (!isCriError(err, "NotFound")) throw err;
      }
    }
  }

  /**
   * Keeps the newest instance of each container and the newest dead one (for `logs
   * --previous`); removes older instances and sandboxes that nothing is left in.
   */
  private async collectGarbage(w: Worker, runtime: PodRuntime): Promise<void> {
    const doomed: ContainerRecord[] = [];
    const byName = new Map<string, ContainerRecord[]>();
    for (const c of runtime.containers) byName.set(c.name, [...(byName.get(c.name) ?? []), c]);
    for (const list of byName.values()) {
      const [newest, ...older] = list;
      let keptDead = newest?.state === "CONTAINER_EXITED";
      for (const c of older) {
        if (!keptDead && c.state === "CONTAINER_EXITED") {
          keptDead = true;
          continue;
        }
        if (c.state === "CONTAINER_EXITED" || c.state === "CONTAINER_CREATED") doomed.push(c);
      }
    }
    for (const c of doomed) {
      await this.o.cri.removeContainer(c.id).catch((err: unknown) => this.log.debug({ pod: podKey(w.pod), err: errText(err) }, "removing an old container failed"));
    }
    const left = new Set(runtime.containers.filter((c) => !doomed.includes(c)).map((c) => c.sandboxId));
    const oldSandboxes = runtime.sandboxes.slice(1).filter((s) => s.state !== "SANDBOX_READY" && !left.has(s.id));
    for (const s of oldSandboxes) await this.o.cri.removePodSandbox(s.id).catch(() => undefined);
    this.reader.forget([...doomed.map((c) => c.id), ...oldSandboxes.map((s) => s.id)]);
  }
}

