// The prober (upstream's prober manager and workers): one worker per container and probe type
// runs the probe on a timer and turns results into what the pod lifecycle asks — is the
// container started, is it ready, must it be restarted — telling it through onChange whenever
// one of those answers changes.
//
// Upstream's rules kept here: a startup probe, until it succeeds, holds back liveness and
// readiness; readiness starts false; a result counts only after failureThreshold (or
// successThreshold) equal results in a row; a liveness or startup failure puts the worker on
// hold until the container is replaced (a new container id); each failed attempt records an
// Unhealthy event on the pod; a probe that could not be performed at all (errored) is retried
// up to three times and otherwise discarded; during graceful deletion liveness and startup stop
// and count as passed, so a terminating container is not restarted.
import type { Container, Pod, Probe } from "kubernetes-types/core/v1.js";
import { realClock, type Clock, type Timer } from "../../client/clock.js";
import type { InvolvedObject } from "../../client/events.js";
import type { Logger } from "../../util/log.js";
import type { CriClient } from "../cri/client.js";
import type { ProbeManager, RunningContainer } from "../types.js";
import { CONTAINER_RUNTIME_PREFIX } from "../pods/status.js";
import { runHandler, type HandlerResult } from "./handlers.js";

export { runHandler, runLifecycleHook, resolvePort, expandCommand, REASON_FAILED_POST_START_HOOK, REASON_FAILED_PRE_STOP_HOOK, REASON_LIFECYCLE_HTTP_FALLBACK } from "./handlers.js";
export type { HandlerAction, HandlerOptions, HandlerResult, HandlerStatus, HandlerTarget, HookOptions, HookResult } from "./handlers.js";

export type ProbeType = "liveness" | "readiness" | "startup";

/** The event reasons upstream's prober records. */
export const REASON_UNHEALTHY = "Unhealthy";
export const REASON_PROBE_WARNING = "ProbeWarning";

/**
 * The pod as an event's involved object, pointing at one container through fieldPath
 * (`spec.containers{name}`), as upstream's container references do.
 */
export interface ContainerEventObject extends InvolvedObject {
  readonly apiVersion: "v1";
  readonly kind: "Pod";
  readonly fieldPath: string;
}

/** What the prober records events through; an EventRecorder is one. */
export interface ProbeEventSink {
  event(obj: ContainerEventObject, type: "Normal" | "Warning", reason: string, message: string): void;
}

export interface ProberOptions {
  /** for exec probes (ExecSync) */
  cri: Pick<CriClient, "execSync">;
  events: ProbeEventSink;
  log: Logger;
  clock?: Clock;
  /** for the jitter of first runs; default Math.random */
  random?: () => number;
  /**
   * How many milliseconds a second of periodSeconds and initialDelaySeconds lasts. Tests only
   * (default 1000): shortens waits without touching timeoutSeconds, which bounds real I/O.
   */
  secondMs?: number;
}

const TITLES: Record<ProbeType, string> = { liveness: "Liveness", readiness: "Readiness", startup: "Startup" };
const MAX_PROBE_RETRIES = 3;

interface CompiledProbe {
  readonly spec: Probe;
  readonly initialDelayMs: number;
  readonly periodMs: number;
  readonly timeoutMs: number;
  readonly successThreshold: number;
  readonly failureThreshold: number;
}

function positive(v: number | undefined, dflt: number): number {
  return v !== undefined && Number.isFinite(v) && v >= 1 ? Math.floor(v) : dflt;
}

/** The API's defaults (periodSeconds 10, timeoutSeconds 1, thresholds 1 and 3), for probes that were not defaulted. */
export function compileProbe(type: ProbeType, spec: Probe, secondMs = 1000): CompiledProbe {
  return {
    spec,
    initialDelayMs: Math.max(0, Math.floor(spec.initialDelaySeconds ?? 0)) * secondMs,
    periodMs: positive(spec.periodSeconds, 10) * secondMs,
    timeoutMs: positive(spec.timeoutSeconds, 1) * 1000,
    // Validation insists on 1 for liveness and startup; a stored object that slipped past is held to it.
    successThreshold: type === "readiness" ? positive(spec.successThreshold, 1) : 1,
    failureThreshold: positive(spec.failureThreshold, 3),
  };
}

interface PodEntry {
  pod: Pod;
  podIP: string | undefined;
  readonly containers: Map<string, Tracked>;
}

/** One running container and its probes' answers. */
class Tracked {
  started: boolean;
  /** readiness probe's last counted result */
  ready = false;
  restart: string | undefined;
  readonly workers = new Map<ProbeType, ProbeWorker>();

  constructor(
    readonly uid: string,
    readonly entry: PodEntry,
    readonly running: RunningContainer,
    readonly spec: Container,
    readonly fieldPath: string,
    hasStartupProbe: boolean,
  ) {
    this.started = !hasStartupProbe;
  }
}

export class Prober implements ProbeManager {
  private readonly cri: Pick<CriClient, "execSync">;
  private readonly events: ProbeEventSink;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly secondMs: number;
  private readonly startedAt: number;
  private readonly pods = new Map<string, PodEntry>();
  private readonly listeners: ((uid: string) => void)[] = [];
  private stopped = false;

  constructor(o: ProberOptions) {
    this.cri = o.cri;
    this.events = o.events;
    this.log = o.log.child({ component: "prober" });
    this.clock = o.clock ?? realClock;
    this.random = o.random ?? Math.random;
    this.secondMs = o.secondMs ?? 1000;
    this.startedAt = this.clock.now();
  }

  syncPod(pod: Pod, podIP: string | undefined, running: readonly RunningContainer[]): void {
    if (this.stopped) return;
    const uid = pod.metadata?.uid ?? "";
    let entry = this.pods.get(uid);
    if (!entry) {
      if (running.length === 0) return;
      entry = { pod, podIP, containers: new Map() };
      this.pods.set(uid, entry);
    }
    entry.pod = pod;
    entry.podIP = podIP;
    const wanted = new Set(running.map((c) => c.containerId));
    for (const [id, c] of entry.containers) {
      if (wanted.has(id)) continue;
      this.stopContainer(c);
      entry.containers.delete(id);
    }
    for (const r of running) {
      if (entry.containers.has(r.containerId)) continue;
      const c = this.track(uid, entry, r);
      if (c) entry.containers.set(r.containerId, c);
    }
    if (pod.metadata?.deletionTimestamp) for (const c of entry.containers.values()) this.quietShutdown(c);
    if (entry.containers.size === 0) this.pods.delete(uid);
  }

  removePod(uid: string): void {
    const entry = this.pods.get(uid);
    if (!entry) return;
    for (const c of entry.containers.values()) this.stopContainer(c);
    this.pods.delete(uid);
  }

  isReady(uid: string, containerId: string): boolean {
    const c = this.pods.get(uid)?.containers.get(containerId);
    if (!c || !c.started) return false;
    return c.workers.has("readiness") ? c.ready : true;
  }

  isStarted(uid: string, containerId: string): boolean {
    return this.pods.get(uid)?.containers.get(containerId)?.started ?? false;
  }

  restartReason(uid: string, containerId: string): string | undefined {
    return this.pods.get(uid)?.containers.get(containerId)?.restart;
  }

  onChange(listener: (uid: string) => void): void {
    this.listeners.push(listener);
  }

  stop(): void {
    this.stopped = true;
    for (const entry of this.pods.values()) for (const c of entry.containers.values()) this.stopContainer(c);
    this.pods.clear();
  }

  // ---- workers' side ----

  private track(uid: string, entry: PodEntry, r: RunningContainer): Tracked | undefined {
    const spec = entry.pod.spec;
    let container = spec?.containers.find((c) => c.name === r.name);
    let fieldPath = `spec.containers{${r.name}}`;
    if (!container) {
      // Sidecars (init containers with restartPolicy Always) are probed like containers.
      container = spec?.initContainers?.find((c) => c.name === r.name && c.restartPolicy === "Always");
      fieldPath = `spec.initContainers{${r.name}}`;
    }
    if (!container) return undefined;
    const c = new Tracked(uid, entry, r, container, fieldPath, container.startupProbe !== undefined);
    // A container this kubelet finds already running (it restarted, the container did not)
    // keeps what the pod's status last said of it until its probes run again. Upstream starts
    // such a container unready (kubernetes#78733, #100277), and its first readiness probe waits
    // up to a period (the restart jitter below): every Service lost the pod's endpoint for up to
    // periodSeconds at each kubelet restart — the cluster DNS for ~10 s after each `k8ts up`.
    // A probe that now fails corrects it as any failure does.
    const posted = [...(entry.pod.status?.containerStatuses ?? []), ...(entry.pod.status?.initContainerStatuses ?? [])].find((s) => s.name === r.name);
    if (posted?.containerID === CONTAINER_RUNTIME_PREFIX + r.containerId) {
      if (posted.started === true) c.started = true;
      if (posted.ready) c.ready = true;
    }
    const probes: [ProbeType, Probe | undefined][] = [
      ["startup", container.startupProbe],
      ["liveness", container.livenessProbe],
      ["readiness", container.readinessProbe],
    ];
    for (const [type, probe] of probes) {
      if (!probe) continue;
      const w = new ProbeWorker(this.workerContext(), type, compileProbe(type, probe, this.secondMs), c);
      c.workers.set(type, w);
      w.start(this.firstDelay(w.probe.periodMs));
    }
    return c;
  }

  /**
   * upstream: a kubelet that just started would probe everything at once, so workers created
   * within the first period after start wait a random part of a period first.
   */
  private firstDelay(periodMs: number): number {
    return periodMs > this.clock.now() - this.startedAt ? this.random() * periodMs : 0;
  }

  private stopContainer(c: Tracked): void {
    for (const w of c.workers.values()) w.stop();
  }

  /** Graceful deletion: liveness and startup stop and count as passed (no restart while terminating). */
  private quietShutdown(c: Tracked): void {
    let changed = false;
    for (const type of ["liveness", "startup"] as const) {
      const w = c.workers.get(type);
      if (!w || w.stopped) continue;
      w.stop();
      if (type === "startup" && !c.started) {
        c.started = true;
        changed = true;
      }
    }
    if (c.restart !== undefined) {
      c.restart = undefined;
      changed = true;
    }
    if (changed) {
      c.workers.get("readiness")?.trigger();
      this.notify(c.uid);
    }
  }

  private workerContext(): WorkerContext {
    return {
      clock: this.clock,
      log: this.log,
      probe: (w, signal) => this.probeOnce(w, signal),
      record: (w, result) => this.record(w, result),
    };
  }

  /** One probe, retried while it errors (upstream's runProbeWithRetries), with its events. */
  private async probeOnce(w: ProbeWorker, signal: AbortSignal): Promise<boolean | undefined> {
    const c = w.container;
    const target = { cri: this.cri, containerId: c.running.containerId, podIP: c.entry.podIP, container: c.spec };
    let r: HandlerResult | undefined;
    for (let i = 0; i < MAX_PROBE_RETRIES; i++) {
      r = await runHandler(w.probe.spec, target, w.probe.timeoutMs, { signal });
      if (r.status !== "error" || signal.aborted) break;
    }
    if (!r || signal.aborted) return undefined;
    const title = TITLES[w.type];
    switch (r.status) {
      case "success":
        return true;
      case "warning":
        this.event(c, REASON_PROBE_WARNING, `${title} probe warning: ${r.message}`);
        return true;
      case "failure":
        this.event(c, REASON_UNHEALTHY, `${title} probe failed: ${r.message}`);
        return false;
      case "error":
        this.log.debug({ pod: podKey(c.entry.pod), container: c.running.name, probe: w.type, err: r.message }, "probe errored");
        this.event(c, REASON_UNHEALTHY, `${title} probe errored and resulted in unknown state: ${r.message}`);
        return undefined;
    }
  }

  /** A result that passed its threshold. */
  private record(w: ProbeWorker, result: boolean): void {
    const c = w.container;
    const restartNote = c.entry.pod.spec?.restartPolicy === "Never" ? "" : ", will be restarted";
    let changed = false;
    if (w.type === "readiness") {
      changed = c.ready !== result;
      c.ready = result;
    } else if (!result) {
      // Liveness is checked before startup upstream; both cannot fail for one container anyway,
      // since liveness waits for startup to succeed.
      const message = `Container ${c.running.name} failed ${w.type} probe${restartNote}`;
      changed = c.restart !== message;
      c.restart = message;
    } else if (w.type === "startup" && !c.started) {
      c.started = true;
      changed = true;
      // upstream runs readiness at once when a container turns started (UpdatePodStatus).
      c.workers.get("readiness")?.trigger();
    }
    if (changed) {
      this.log.debug({ pod: podKey(c.entry.pod), container: c.running.name, probe: w.type, result }, "probe result changed");
      this.notify(c.uid);
    }
  }

  private event(c: Tracked, reason: string, message: string): void {
    const m = c.entry.pod.metadata ?? {};
    this.events.event(
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: m.name ?? "", ...(m.namespace ? { namespace: m.namespace } : {}), ...(m.uid ? { uid: m.uid } : {}), ...(m.resourceVersion ? { resourceVersion: m.resourceVersion } : {}) },
        fieldPath: c.fieldPath,
      },
      "Warning",
      reason,
      message,
    );
  }

  private notify(uid: string): void {
    for (const l of this.listeners) {
      try {
        l(uid);
      } catch (err) {
        this.log.error({ err, pod: uid }, "probe change listener failed");
      }
    }
  }
}

function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ""}/${pod.metadata?.name ?? ""}`;
}

interface WorkerContext {
  readonly clock: Clock;
  readonly log: Logger;
  /** true/false: a counted result; undefined: nothing to count (errored, or stopped meanwhile) */
  probe(w: ProbeWorker, signal: AbortSignal): Promise<boolean | undefined>;
  record(w: ProbeWorker, result: boolean): void;
}

/**
 * Probes one container with one probe on a timer. The next run is scheduled only when the
 * current one has finished, so a probe never overlaps itself; runs start a period apart (a slow
 * probe that overruns its period is followed at once by the next).
 */
class ProbeWorker {
  stopped = false;
  private timer: Timer | undefined;
  private running = false;
  private triggered = false;
  private lastResult: boolean | undefined;
  private resultRun = 0;
  /** after a counted liveness failure, or startup's counted result: nothing more until a new container */
  private onHold = false;
  private readonly abort = new AbortController();

  constructor(
    private readonly ctx: WorkerContext,
    readonly type: ProbeType,
    readonly probe: CompiledProbe,
    readonly container: Tracked,
  ) {}

  start(jitterMs: number): void {
    // The first run waits for initialDelaySeconds after the container started.
    const untilDelay = this.container.running.startedAt + this.probe.initialDelayMs - this.ctx.clock.now();
    this.schedule(Math.max(jitterMs, untilDelay));
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.abort.abort();
  }

  /** Run as soon as possible (after the current run, if one is under way). */
  trigger(): void {
    if (this.stopped || this.onHold) return;
    if (this.running) {
      this.triggered = true;
      return;
    }
    this.timer?.cancel();
    this.schedule(0);
  }

  private schedule(ms: number): void {
    this.timer = this.ctx.clock.setTimer(ms, () => {
      this.timer = undefined;
      void this.run();
    });
  }

  private async run(): Promise<void> {
    if (this.stopped) return;
    const startedAt = this.ctx.clock.now();
    const untilDelay = this.container.running.startedAt + this.probe.initialDelayMs - startedAt;
    if (untilDelay > 0) {
      this.schedule(untilDelay);
      return;
    }
    this.running = true;
    try {
      await this.once();
    } catch (err) {
      this.ctx.log.error({ err, container: this.container.running.name, probe: this.type }, "probe worker failed");
    } finally {
      this.running = false;
    }
    if (this.stopped || this.onHold) return;
    if (this.triggered) {
      this.triggered = false;
      this.schedule(0);
      return;
    }
    this.schedule(Math.max(0, startedAt + this.probe.periodMs - this.ctx.clock.now()));
  }

  private async once(): Promise<void> {
    const c = this.container;
    // Readiness and liveness wait for the startup probe; startup stops once it has counted.
    if (this.type === "startup" ? c.started : !c.started) return;
    const result = await this.ctx.probe(this, this.abort.signal);
    if (result === undefined || this.stopped) return;
    if (result === this.lastResult) this.resultRun++;
    else {
      this.lastResult = result;
      this.resultRun = 1;
    }
    if (result ? this.resultRun < this.probe.successThreshold : this.resultRun < this.probe.failureThreshold) return;
    this.ctx.record(this, result);
    if ((this.type === "liveness" && !result) || this.type === "startup") {
      this.onHold = true;
      this.resultRun = 0;
    }
  }
}
