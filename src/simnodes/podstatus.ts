// What a simulated kubelet reports for a pod, as a pure function of the pod, what the
// simulator decided for it (start time, address, whether it fails) and the time. A pod starts
// Running at once with every container running; containers turn ready after the readiness
// delay (or a readiness probe's initialDelaySeconds, if longer). A pod picked for failure
// crashes `failAfter` after that: with restartPolicy Never it ends Failed, otherwise its first
// container restarts once (restartCount 1, lastState terminated) and turns ready again. A
// Job's pod that is not picked for failure runs `jobPodRunTime` after turning ready and then
// ends Succeeded, every container exited 0 (kwok's default pod-complete stage).
import { createHash } from "node:crypto";
import type { Container, ContainerStatus, Pod, PodCondition, PodStatus } from "kubernetes-types/core/v1.js";
import type { OwnerReference } from "kubernetes-types/meta/v1.js";
import type { DeepReadonly } from "../client/objects.js";
import { jsonEqual } from "../util/json.js";
import { rfc3339 } from "../util/time.js";

export interface PodPlan {
  readonly uid: string;
  /** When the simulator started the pod (ms since the epoch). */
  readonly startedAt: number;
  readonly podIP: string;
  readonly hostIP: string;
  readonly fails: boolean;
}

export interface PodTiming {
  readonly readyDelayMs: number;
  readonly failAfterMs: number;
  /** How long a Job's pod runs after its containers turned ready before it completes. */
  readonly jobPodRunTimeMs: number;
}

export interface DesiredPodStatus {
  readonly status: PodStatus;
  /** When the desired status changes next, if it ever does. */
  readonly nextChangeAt: number | undefined;
}

/** A number in [0, 1) fixed by the pod's uid: whether it fails does not change across restarts of the simulator. */
export function uidFraction(uid: string): number {
  return createHash("sha256").update(uid).digest().readUInt32BE(0) / 2 ** 32;
}

function hex(...parts: string[]): string {
  return createHash("sha256").update(parts.join("/")).digest("hex");
}

/** Image IDs by image: a cluster runs few distinct images, and each one costs a SHA-256. */
const imageIDs = new Map<string, string>();

function imageID(image: string): string {
  const at = image.indexOf("@");
  if (at >= 0) return image;
  let id = imageIDs.get(image);
  if (id === undefined) {
    const slash = image.lastIndexOf("/");
    const colon = image.lastIndexOf(":");
    const repo = colon > slash ? image.slice(0, colon) : image;
    id = `${repo}@sha256:${hex("image", image)}`;
    if (imageIDs.size >= 1024) imageIDs.clear();
    imageIDs.set(image, id);
  }
  return id;
}

/** Container IDs by plan: every sync of a pod names the same containers again. */
const containerIDs = new WeakMap<PodPlan, Map<string, string>>();

function containerIDOf(plan: PodPlan, name: string, restarts: number): string {
  let m = containerIDs.get(plan);
  if (!m) containerIDs.set(plan, (m = new Map()));
  const k = `${restarts}/${name}`;
  let id = m.get(k);
  if (id === undefined) m.set(k, (id = `containerd://${hex(plan.uid, name, String(restarts))}`));
  return id;
}

function readyDelayOf(c: DeepReadonly<Container>, t: PodTiming): number {
  return Math.max(t.readyDelayMs, (c.readinessProbe?.initialDelaySeconds ?? 0) * 1000);
}

export function isTerminal(phase: string | undefined): boolean {
  return phase === "Succeeded" || phase === "Failed";
}

/** The pod's controller reference when it is a Job: kwok's pod-complete stage selects pods by it, not by any owner. */
export function jobControllerRef(pod: DeepReadonly<Pod>): DeepReadonly<OwnerReference> | undefined {
  return pod.metadata?.ownerReferences?.find((r) => r.controller === true && r.kind === "Job" && r.apiVersion === "batch/v1");
}

/** Whether the pod runs to completion: a Job controls it and its containers are not restarted once they exit (restartPolicy Never or OnFailure). */
export function runsToCompletion(pod: DeepReadonly<Pod>): boolean {
  return (pod.spec?.restartPolicy ?? "Always") !== "Always" && jobControllerRef(pod) !== undefined;
}

/** The status the pod should have at `now`. */
export function desiredPodStatus(pod: DeepReadonly<Pod>, plan: PodPlan, now: number, t: PodTiming): DesiredPodStatus {
  const spec = pod.spec;
  const containers = spec?.containers ?? [];
  const inits = spec?.initContainers ?? [];
  const sidecars = inits.filter((c) => c.restartPolicy === "Always");
  const maxDelay = Math.max(0, ...[...sidecars, ...containers].map((c) => readyDelayOf(c, t)));
  const crashAt = plan.fails ? plan.startedAt + maxDelay + t.failAfterMs : undefined;
  const crashed = crashAt !== undefined && now >= crashAt;
  const neverRestarts = (spec?.restartPolicy ?? "Always") === "Never";
  const failed = crashed && neverRestarts;
  // A failing pod fails (or restarts) instead: it never also completes.
  const completeAt = !plan.fails && runsToCompletion(pod) ? plan.startedAt + maxDelay + t.jobPodRunTimeMs : undefined;
  const completed = completeAt !== undefined && now >= completeAt;
  const changes: number[] = [];
  if (crashAt !== undefined && !crashed) changes.push(crashAt);
  if (completeAt !== undefined && !completed) changes.push(completeAt);

  const started = rfc3339(plan.startedAt);
  const containerID = (c: DeepReadonly<Container>, restarts: number): string => containerIDOf(plan, c.name, restarts);
  const base = (c: DeepReadonly<Container>): Pick<ContainerStatus, "name" | "image" | "imageID"> => ({ name: c.name, image: c.image ?? "", imageID: imageID(c.image ?? "") });

  // When each long-lived container turned (or turns) ready: the Ready conditions' transition is the last of them.
  const readyTimes: number[] = [];
  const exited = (c: DeepReadonly<Container>, exitCode: number, reason: string, at: number): ContainerStatus => ({
    ...base(c),
    containerID: containerID(c, 0),
    state: { terminated: { exitCode, reason, startedAt: started, finishedAt: rfc3339(at), containerID: containerID(c, 0) } },
    lastState: {},
    ready: false,
    restartCount: 0,
    started: false,
  });
  const longLivedStatus = (c: DeepReadonly<Container>): ContainerStatus => {
    const delay = readyDelayOf(c, t);
    if (failed) return exited(c, 1, "Error", crashAt);
    // Sidecars are stopped too once the regular containers completed.
    if (completed) return exited(c, 0, "Completed", completeAt);
    // The first regular container is the one that crashes and is restarted.
    if (crashed && c === containers[0]) {
      const readyAt = crashAt + delay;
      readyTimes.push(readyAt);
      if (now < readyAt) changes.push(readyAt);
      return {
        ...base(c),
        containerID: containerID(c, 1),
        state: { running: { startedAt: rfc3339(crashAt) } },
        lastState: { terminated: { exitCode: 1, reason: "Error", startedAt: started, finishedAt: rfc3339(crashAt), containerID: containerID(c, 0) } },
        ready: now >= readyAt,
        restartCount: 1,
        started: true,
      };
    }
    const readyAt = plan.startedAt + delay;
    readyTimes.push(readyAt);
    if (now < readyAt) changes.push(readyAt);
    return { ...base(c), containerID: containerID(c, 0), state: { running: { startedAt: started } }, lastState: {}, ready: now >= readyAt, restartCount: 0, started: true };
  };

  const initStatuses = inits.map((c) =>
    c.restartPolicy === "Always"
      ? longLivedStatus(c)
      : {
          ...base(c),
          containerID: containerID(c, 0),
          state: { terminated: { exitCode: 0, reason: "Completed", startedAt: started, finishedAt: started, containerID: containerID(c, 0) } },
          lastState: {},
          ready: true,
          restartCount: 0,
          started: false,
        },
  );
  const containerStatuses = containers.map((c) => longLivedStatus(c));

  const all = [...initStatuses.filter((_, i) => inits[i]!.restartPolicy === "Always"), ...containerStatuses];
  const unready = all.filter((s) => !s.ready).map((s) => s.name);
  const ready = unready.length === 0;
  const readyTransition = failed ? crashAt : completed ? completeAt : ready ? Math.max(plan.startedAt, ...readyTimes) : crashed ? crashAt : plan.startedAt;
  // A Succeeded pod's Ready and ContainersReady carry reason PodCompleted, as the kubelet's
  // GeneratePodReadyCondition and GenerateContainersReadyCondition write them.
  const ended = failed ? "PodFailed" : completed ? "PodCompleted" : undefined;
  const notReady = (type: string): PodCondition =>
    ended !== undefined
      ? { type, status: "False", lastTransitionTime: rfc3339(readyTransition), reason: ended }
      : { type, status: "False", lastTransitionTime: rfc3339(readyTransition), reason: "ContainersNotReady", message: `containers with unready status: [${unready.join(" ")}]` };
  const yes = (type: string, at: number): PodCondition => ({ type, status: "True", lastTransitionTime: rfc3339(at) });
  const conditions: PodCondition[] = [
    yes("PodReadyToStartContainers", plan.startedAt),
    yes("Initialized", plan.startedAt),
    ready && ended === undefined ? yes("Ready", readyTransition) : notReady("Ready"),
    ready && ended === undefined ? yes("ContainersReady", readyTransition) : notReady("ContainersReady"),
  ];
  if (!(pod.status?.conditions ?? []).some((c) => c.type === "PodScheduled")) conditions.push(yes("PodScheduled", plan.startedAt));

  const status: PodStatus = {
    phase: failed ? "Failed" : completed ? "Succeeded" : "Running",
    conditions,
    hostIP: plan.hostIP,
    hostIPs: [{ ip: plan.hostIP }],
    podIP: plan.podIP,
    podIPs: [{ ip: plan.podIP }],
    startTime: started,
    ...(initStatuses.length > 0 ? { initContainerStatuses: initStatuses } : {}),
    containerStatuses,
  };
  const future = changes.filter((c) => c > now);
  return { status, nextChangeAt: future.length > 0 ? Math.min(...future) : undefined };
}

/** Whether the pod was started before (by an earlier run of the simulator): its start time and address are kept. */
export function isRunningWithAddress(pod: DeepReadonly<Pod>): boolean {
  return pod.status?.phase === "Running" && !!pod.status.podIP && !!pod.status.startTime;
}

function sameCondition(a: DeepReadonly<PodCondition> | undefined, b: PodCondition): boolean {
  return !!a && a.status === b.status && (a.reason ?? "") === (b.reason ?? "") && (a.message ?? "") === (b.message ?? "");
}

/**
 * The strategic-merge patch body for pods/status that turns `current` into `desired`, or
 * undefined when nothing differs. Conditions merge by type, so only the ones that differ are
 * sent; one that someone else changed after our recorded transition (the node lifecycle
 * controller marking it not ready) transitions again now.
 */
export function statusPatch(current: DeepReadonly<PodStatus> | undefined, desired: PodStatus, now: number): Record<string, unknown> | undefined {
  const patch: Record<string, unknown> = {};
  const cur = (current ?? {}) as DeepReadonly<PodStatus>;
  for (const f of ["phase", "hostIP", "podIP", "startTime"] as const) if (cur[f] !== desired[f]) patch[f] = desired[f];
  for (const f of ["hostIPs", "podIPs", "containerStatuses", "initContainerStatuses"] as const) {
    if (desired[f] !== undefined && !jsonEqual(cur[f], desired[f])) patch[f] = desired[f];
  }
  const conditions: PodCondition[] = [];
  for (const want of desired.conditions ?? []) {
    const have = (cur.conditions ?? []).find((c) => c.type === want.type);
    if (sameCondition(have, want)) continue;
    const haveAt = have?.lastTransitionTime ? Date.parse(have.lastTransitionTime) : Number.NEGATIVE_INFINITY;
    const wantAt = want.lastTransitionTime ? Date.parse(want.lastTransitionTime) : Number.NEGATIVE_INFINITY;
    const next = have && have.status !== want.status && haveAt > wantAt ? { ...want, lastTransitionTime: rfc3339(now) } : want;
    // Conditions merge by type: a reason or message the new condition lacks must be deleted explicitly.
    conditions.push({ ...next, reason: next.reason ?? null, message: next.message ?? null } as unknown as PodCondition);
  }
  if (conditions.length > 0) patch["conditions"] = conditions;
  return Object.keys(patch).length > 0 ? patch : undefined;
}
