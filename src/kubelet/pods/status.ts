// The pod status the kubelet reports, computed from the runtime's state (upstream's
// generateAPIPodStatus, convertToAPIContainerStatuses, getPhase and the status package's
// condition generators). Pure: everything it needs comes in through StatusInput.
import { isDeepStrictEqual } from "node:util";
import type { Container, ContainerState, ContainerStateTerminated, ContainerStatus, Pod, PodCondition, PodStatus } from "kubernetes-types/core/v1.js";
import { podQOSClass } from "../../api/qos.js";
import type { ContainerRecord, PodRuntime, SandboxRecord } from "./runtime-state.js";
import { rfc3339 } from "../../util/time.js";

export interface ContainerReason {
  readonly reason: string;
  readonly message: string;
}

export interface ProbeView {
  isReady(containerId: string): boolean;
  isStarted(containerId: string): boolean;
}

export interface StatusInput {
  readonly pod: Pod;
  readonly runtime: PodRuntime;
  /** why a container that should run is not running (last start attempt), by container name */
  readonly reasons: ReadonlyMap<string, ContainerReason>;
  readonly probes: ProbeView;
  readonly hostIPs: readonly string[];
  readonly now: number;
  /** the pod will run nothing more (deleted, or its phase is final) */
  readonly podIsTerminal: boolean;
  /** the status last reported (keeps startTime, lastTransitionTime, conditions of others) */
  readonly old: PodStatus | undefined;
}

export const CONTAINER_RUNTIME_PREFIX = "containerd://";

export function recordsOf(runtime: PodRuntime, name: string): ContainerRecord[] {
  return runtime.containers.filter((c) => c.name === name);
}

export function latestOf(runtime: PodRuntime, name: string): ContainerRecord | undefined {
  return runtime.containers.find((c) => c.name === name);
}

/** Whether a container that exited with `exitCode` is started again under `restartPolicy` (Always, OnFailure, Never). */
export function restartsAfterExit(restartPolicy: string, exitCode: number): boolean {
  return restartPolicy === "Always" || (restartPolicy === "OnFailure" && exitCode !== 0);
}

/** upstream ShouldContainerBeRestarted for a container that is not running */
export function shouldRestart(c: Container, latest: ContainerRecord | undefined, restartPolicy: string, podIsTerminal = false): boolean {
  if (podIsTerminal) return false;
  if (!latest || latest.state === "CONTAINER_CREATED" || latest.state === "CONTAINER_UNKNOWN") return true;
  if (latest.state === "CONTAINER_RUNNING") return false;
  return restartsAfterExit(restartPolicy, latest.exitCode);
}

/** the newest ready sandbox with its network, if the pod has one */
export function readySandbox(runtime: PodRuntime): SandboxRecord | undefined {
  const s = runtime.sandboxes[0];
  return s && s.state === "SANDBOX_READY" ? s : undefined;
}

function terminated(r: ContainerRecord): ContainerStateTerminated {
  const reason = r.reason || (r.exitCode === 0 ? "Completed" : "Error");
  return {
    exitCode: r.exitCode,
    reason,
    ...(r.message ? { message: r.message } : {}),
    ...(r.startedAt ? { startedAt: rfc3339(r.startedAt) } : {}),
    ...(r.finishedAt ? { finishedAt: rfc3339(r.finishedAt) } : {}),
    containerID: CONTAINER_RUNTIME_PREFIX + r.id,
  };
}

function stateOf(r: ContainerRecord): ContainerState {
  switch (r.state) {
    case "CONTAINER_RUNNING":
      return { running: { startedAt: rfc3339(r.startedAt || r.createdAt) } };
    case "CONTAINER_EXITED":
      return { terminated: terminated(r) };
    default:
      return { waiting: { reason: "ContainerCreating" } };
  }
}

export type ContainerKind = "init" | "regular" | "ephemeral";

/** A sidecar: an init container that keeps running beside the pod's containers (restartPolicy Always). */
export function isSidecar(c: { readonly restartPolicy?: string }): boolean {
  return c.restartPolicy === "Always";
}

/** The names of the pod's sidecars. */
function sidecarNames(pod: Pod): Set<string> {
  return new Set((pod.spec?.initContainers ?? []).filter(isSidecar).map((c) => c.name));
}

/**
 * Whether the kubelet starts an exited container of `kind` again, as upstream's
 * ShouldContainerBeRestarted reads it: a regular container by the pod's restartPolicy; an
 * init container until it succeeds (not at all in a pod that never restarts), a sidecar (an
 * init container that restarts Always) always; an ephemeral container never.
 */
export function containerRestartPolicy(kind: ContainerKind, c: { readonly restartPolicy?: string }, podPolicy = "Always"): string {
  if (kind === "ephemeral") return "Never";
  if (kind === "regular") return podPolicy;
  if (isSidecar(c)) return "Always";
  return podPolicy === "Never" ? "Never" : "OnFailure";
}

function containerStatuses(i: StatusInput, containers: readonly Container[], kind: ContainerKind): ContainerStatus[] {
  const isInit = kind === "init";
  const podPolicy = i.pod.spec?.restartPolicy ?? "Always";
  const hasInit = (i.pod.spec?.initContainers ?? []).length > 0;
  const oldList = (isInit ? i.old?.initContainerStatuses : kind === "ephemeral" ? i.old?.ephemeralContainerStatuses : i.old?.containerStatuses) ?? [];
  return containers.map((c) => {
    const [latest, previous] = recordsOf(i.runtime, c.name);
    const old = oldList.find((s) => s.name === c.name);
    let status: ContainerStatus;
    if (!latest) {
      status = {
        name: c.name,
        state: { waiting: { reason: hasInit ? "PodInitializing" : "ContainerCreating" } },
        lastState: old?.lastState ?? {},
        ready: false,
        restartCount: old?.restartCount ?? 0,
        image: c.image ?? "",
        imageID: "",
        started: false,
      };
    } else {
      const running = latest.state === "CONTAINER_RUNNING";
      // An ephemeral container has no probes: started once running, and never ready (upstream
      // leaves it out of readiness).
      const started = running && (kind === "ephemeral" || i.probes.isStarted(latest.id));
      let ready: boolean;
      // A sidecar is probed and ready as a container is; another init container is ready once it succeeded.
      if (isInit && !isSidecar(c)) ready = latest.state === "CONTAINER_EXITED" && latest.exitCode === 0;
      else if (kind === "ephemeral") ready = false;
      else ready = started && i.probes.isReady(latest.id);
      status = {
        name: c.name,
        state: stateOf(latest),
        lastState: previous && previous.state === "CONTAINER_EXITED" ? { terminated: terminated(previous) } : {},
        ready,
        restartCount: latest.restartCount,
        image: latest.image || (c.image ?? ""),
        imageID: latest.imageRef,
        containerID: CONTAINER_RUNTIME_PREFIX + latest.id,
        started,
      };
    }
    // A container that should run but could not be started says why (upstream's reason cache).
    const reason = i.reasons.get(c.name);
    if (reason && latest?.state !== "CONTAINER_RUNNING" && shouldRestart(c, latest, containerRestartPolicy(kind, c, podPolicy), i.podIsTerminal)) {
      if (status.state?.terminated) status.lastState = status.state;
      status.state = { waiting: { reason: reason.reason, ...(reason.message ? { message: reason.message } : {}) } };
    }
    return status;
  });
}

/**
 * upstream getPhase. Sidecars count apart from the other init containers: one not yet started
 * keeps the pod Pending, a running one keeps it Running, and a stopped one counts for nothing
 * (they are stopped once the pod's containers are done).
 */
export function podPhase(pod: Pod, init: readonly ContainerStatus[], regular: readonly ContainerStatus[], podIsTerminal: boolean): PodStatus["phase"] {
  const restartPolicy = pod.spec?.restartPolicy ?? "Always";
  const sidecars = sidecarNames(pod);
  let pendingInit = 0;
  let pendingSidecars = 0;
  let failedInit = 0;
  let unknown = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const s of init) {
    if (sidecars.has(s.name)) {
      if (s.state?.running) {
        if (!s.started) pendingSidecars++;
        running++;
      } else if (s.state?.terminated || s.lastState?.terminated) {
        // stopped: counts for nothing
      } else if (s.state?.waiting) {
        pendingSidecars++;
        waiting++;
      } else {
        pendingSidecars++;
        unknown++;
      }
      continue;
    }
    if (s.state?.running) pendingInit++;
    else if (s.state?.terminated) {
      if (s.state.terminated.exitCode !== 0) failedInit++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) {
        if (s.lastState.terminated.exitCode !== 0) failedInit++;
      } else pendingInit++;
    } else pendingInit++;
  }
  for (const s of regular) {
    if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    } else unknown++;
  }
  if (failedInit > 0 && restartPolicy === "Never") return "Failed";
  if (pendingInit > 0 || pendingSidecars > 0 || (failedInit > 0 && running === 0 && stopped === 0)) {
    if (podIsTerminal && failedInit > 0) return "Failed";
    return "Pending";
  }
  if (waiting > 0) return "Pending";
  if (running > 0 && unknown === 0) return "Running";
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (podIsTerminal) return stopped === succeeded ? "Succeeded" : "Failed";
    if (restartPolicy === "Always") return "Running";
    if (stopped === succeeded) return "Succeeded";
    if (restartPolicy === "Never") return "Failed";
    return "Running";
  }
  return "Pending";
}

/** The pod conditions the kubelet owns; any other (readiness gates, DisruptionTarget) is another component's. */
export const KUBELET_CONDITIONS: ReadonlySet<string> = new Set(["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]);

function list(names: readonly string[]): string {
  return `[${names.join(" ")}]`;
}

function condition(type: string, ok: boolean, reason?: string, message?: string): PodCondition {
  return { type, status: ok ? "True" : "False", ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
}

function conditions(i: StatusInput, phase: PodStatus["phase"], init: readonly ContainerStatus[], regular: readonly ContainerStatus[]): PodCondition[] {
  const pod = i.pod;
  const sandbox = readySandbox(i.runtime);
  const sandboxOK = sandbox !== undefined && (sandbox.hostNetwork || pod.spec?.hostNetwork === true || sandbox.ips.length > 0);
  const out: PodCondition[] = [condition("PodReadyToStartContainers", sandboxOK)];

  // Initialized: every init container has succeeded and every sidecar started (or regular
  // containers have run since).
  const sidecars = sidecarNames(pod);
  const regularRan = regular.some((s) => s.state?.running || s.state?.terminated || s.lastState?.terminated);
  const incomplete = init.filter((s) => (sidecars.has(s.name) ? !s.started : !(s.state?.terminated && s.state.terminated.exitCode === 0))).map((s) => s.name);
  // As upstream, a pod that completed was initialized, whatever its stopped sidecars say now.
  if (phase === "Succeeded") out.push(condition("Initialized", true, "PodCompleted"));
  else if (incomplete.length === 0 || regularRan) out.push(condition("Initialized", true));
  else out.push(condition("Initialized", false, "ContainersNotInitialized", `containers with incomplete status: ${list(incomplete)}`));

  // Sidecars' readiness counts with the containers'.
  const unready = [...init.filter((s) => sidecars.has(s.name)), ...regular].filter((s) => !s.ready).map((s) => s.name);
  let containersReady: PodCondition;
  if (phase === "Succeeded") containersReady = condition("ContainersReady", false, "PodCompleted");
  else if (unready.length) containersReady = condition("ContainersReady", false, "ContainersNotReady", `containers with unready status: ${list(unready)}`);
  else containersReady = condition("ContainersReady", true);

  let ready: PodCondition = { ...containersReady, type: "Ready" };
  if (ready.status === "True") {
    const gates = pod.spec?.readinessGates ?? [];
    const others = i.old?.conditions ?? [];
    const missing: string[] = [];
    const notTrue: string[] = [];
    for (const g of gates) {
      const c = others.find((x) => x.type === g.conditionType);
      if (!c) missing.push(g.conditionType);
      else if (c.status !== "True") notTrue.push(g.conditionType);
    }
    const msgs = [...missing.map((t) => `corresponding condition of pod readiness gate "${t}" does not exist.`), ...notTrue.map((t) => `the status of pod readiness gate "${t}" is not "True", but False`)];
    if (msgs.length) ready = condition("Ready", false, "ReadinessGatesNotReady", msgs.join(", "));
  }
  out.push(ready, containersReady);
  out.push(condition("PodScheduled", true));
  return out;
}

/** Keeps lastTransitionTime of conditions whose status did not change; conditions of others stay. */
function withTransitions(next: PodCondition[], old: readonly PodCondition[], now: number): PodCondition[] {
  const out = next.map((c): PodCondition => {
    const prev = old.find((o) => o.type === c.type);
    const since = prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : rfc3339(now);
    return { type: c.type, status: c.status, lastProbeTime: null as unknown as string, lastTransitionTime: since, ...(c.reason ? { reason: c.reason } : {}), ...(c.message ? { message: c.message } : {}) };
  });
  for (const o of old) if (!KUBELET_CONDITIONS.has(o.type)) out.push(o);
  return out;
}

export function computePodStatus(i: StatusInput): PodStatus {
  const spec = i.pod.spec;
  const init = containerStatuses(i, spec?.initContainers ?? [], "init");
  const regular = containerStatuses(i, spec?.containers ?? [], "regular");
  // Ephemeral containers say how they are, in spec order, but count for neither phase nor readiness.
  const ephemeral = containerStatuses(i, spec?.ephemeralContainers ?? [], "ephemeral");
  let phase = podPhase(i.pod, init, regular, i.podIsTerminal);
  const oldPhase = i.old?.phase;
  // A pod never leaves a final phase (upstream's status manager refuses the transition).
  if ((oldPhase === "Succeeded" || oldPhase === "Failed") && phase !== oldPhase) phase = oldPhase;
  const sandbox = readySandbox(i.runtime);
  let podIPs: string[];
  if (spec?.hostNetwork) podIPs = [...i.hostIPs];
  else if (sandbox) podIPs = [...sandbox.ips];
  else podIPs = (i.old?.podIPs ?? []).map((p) => p.ip ?? "").filter((ip) => ip !== "");
  const status: PodStatus = {
    phase,
    conditions: withTransitions(conditions(i, phase, init, regular), i.old?.conditions ?? [], i.now),
    hostIP: i.hostIPs[0] ?? "",
    hostIPs: i.hostIPs.map((ip) => ({ ip })),
    ...(podIPs.length ? { podIP: podIPs[0], podIPs: podIPs.map((ip) => ({ ip })) } : {}),
    startTime: i.old?.startTime ?? rfc3339(i.now),
    ...(init.length ? { initContainerStatuses: init } : {}),
    containerStatuses: regular,
    ...(ephemeral.length ? { ephemeralContainerStatuses: ephemeral } : {}),
    qosClass: podQOSClass(i.pod.spec),
  };
  if (i.old?.reason) status.reason = i.old.reason;
  if (i.old?.message) status.message = i.old.message;
  return status;
}

function stripUndefined(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripUndefined);
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = stripUndefined(x);
    return out;
  }
  return v;
}

/** Whether two statuses say the same (key order and absent-vs-undefined do not matter). */
export function sameStatus(a: PodStatus | undefined, b: PodStatus | undefined): boolean {
  return isDeepStrictEqual(stripUndefined(a ?? {}), stripUndefined(b ?? {}));
}
