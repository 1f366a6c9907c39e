// What one sync must do to a running pod (upstream's computePodActions): replace the sandbox,
// kill containers, start the next init container, the containers that should run and the
// ephemeral containers never run yet. Pure: it reads the pod, the runtime's state and the
// prober's verdicts.
import type { Container, EphemeralContainer, Pod } from "kubernetes-types/core/v1.js";
import { containerHash } from "./container.js";
import type { ContainerRecord, PodRuntime } from "./runtime-state.js";
import { isSidecar, latestOf, shouldRestart } from "./status.js";

export interface KillAction {
  readonly container: ContainerRecord;
  /** the Killing event's message */
  readonly message: string;
}

export interface PodActions {
  /** stop every container and the sandbox (a new sandbox, or nothing left to run) */
  readonly killPod: boolean;
  readonly createSandbox: boolean;
  readonly sandboxAttempt: number;
  /** a sandbox existed and died: SandboxChanged */
  readonly sandboxChanged: boolean;
  readonly kill: readonly KillAction[];
  readonly startInit: Container | undefined;
  readonly start: readonly Container[];
  /** ephemeral containers to start (in the sandbox that exists: never with a new one) */
  readonly startEphemeral: readonly EphemeralContainer[];
  /** an init container failed and restartPolicy is Never: the pod has failed */
  readonly initFailed: boolean;
}

function succeeded(r: ContainerRecord | undefined): boolean {
  return r !== undefined && r.state === "CONTAINER_EXITED" && r.exitCode === 0;
}

/**
 * `restartReason`: why the prober wants a running container restarted (a failed liveness or
 * startup probe), if it does; `isStarted`: whether a running container has started (its
 * startup probe passed, or it has none), which a sidecar must before the next init container.
 */
export function computePodActions(pod: Pod, runtime: PodRuntime, restartReason: (containerId: string) => string | undefined, isStarted: (containerId: string) => boolean = () => true): PodActions {
  const spec = pod.spec ?? { containers: [] };
  const restartPolicy = spec.restartPolicy ?? "Always";
  const hostNetwork = spec.hostNetwork === true;
  const init = spec.initContainers ?? [];
  const containers = spec.containers ?? [];
  const none: PodActions = { killPod: false, createSandbox: false, sandboxAttempt: 0, sandboxChanged: false, kill: [], startInit: undefined, start: [], startEphemeral: [], initFailed: false };

  const sandbox = runtime.sandboxes[0];
  const ready = runtime.sandboxes.filter((s) => s.state === "SANDBOX_READY");
  const changed =
    sandbox !== undefined &&
    (sandbox.state !== "SANDBOX_READY" || ready.length > 1 || sandbox.hostNetwork !== hostNetwork || (!hostNetwork && sandbox.ips.length === 0));
  if (!sandbox || changed) {
    const attempt = sandbox ? sandbox.attempt + 1 : 0;
    // upstream: a restartPolicy Never pod whose containers ran is not started again in a new sandbox.
    if (changed && restartPolicy === "Never" && runtime.containers.length > 0) return { ...none, killPod: true };
    if (init.length > 0) return { ...none, killPod: changed, createSandbox: true, sandboxAttempt: attempt, sandboxChanged: changed, startInit: init[0] };
    const start = containers.filter((c) => !(restartPolicy === "OnFailure" && succeeded(latestOf(runtime, c.name))));
    if (start.length === 0) return { ...none, killPod: changed };
    return { ...none, killPod: changed, createSandbox: true, sandboxAttempt: attempt, sandboxChanged: changed, start };
  }

  // upstream: ephemeral containers start even while init containers run, and never again once
  // the runtime has one of that name (in any sandbox of the pod: a new sandbox does not rerun
  // them); a sync never kills one, and they count for nothing below.
  const startEphemeral = (spec.ephemeralContainers ?? []).filter((c) => latestOf(runtime, c.name) === undefined);
  const keepOn: PodActions = { ...none, startEphemeral };

  // Init containers run one at a time, in order, each to success, in every new sandbox; once
  // a regular container has been created in this sandbox the pod is initialized.
  const inSandbox = (name: string): ContainerRecord | undefined => runtime.containers.find((r) => r.name === name && r.sandboxId === sandbox.id);
  const initDone = containers.some((c) => inSandbox(c.name) !== undefined);
  if (!initDone) {
    for (const c of init) {
      const r = inSandbox(c.name);
      if (!r || r.state === "CONTAINER_CREATED" || r.state === "CONTAINER_UNKNOWN") return { ...keepOn, startInit: c };
      // A sidecar (upstream's restartable init container) runs on: the next init container
      // starts once it has started; it is restarted whenever it stops or fails its probes.
      if (isSidecar(c)) {
        if (r.state !== "CONTAINER_RUNNING") return { ...keepOn, startInit: c };
        const reason = restartReason(r.id);
        if (reason !== undefined) return { ...keepOn, kill: [{ container: r, message: reason }], startInit: c };
        if (isStarted(r.id)) continue;
        return keepOn;
      }
      if (r.state === "CONTAINER_RUNNING") return keepOn;
      if (r.exitCode === 0) continue;
      if (restartPolicy === "Never") return { ...none, killPod: true, initFailed: true };
      return { ...keepOn, startInit: c };
    }
  }

  const kill: KillAction[] = [];
  const start: Container[] = [];
  let keep = 0;
  for (const c of containers) {
    const r = latestOf(runtime, c.name);
    if (!r || r.state !== "CONTAINER_RUNNING") {
      if (shouldRestart(c, r, restartPolicy)) start.push(c);
      continue;
    }
    if (r.hash !== containerHash(c)) {
      kill.push({ container: r, message: `Container ${c.name} definition changed, will be restarted` });
      start.push(c);
      continue;
    }
    const reason = restartReason(r.id);
    if (reason !== undefined) {
      kill.push({ container: r, message: reason });
      if (restartPolicy !== "Never") start.push(c);
      continue;
    }
    keep++;
  }
  // Sidecars outlive nothing: when no container runs or is to run, the pod stops, them with it.
  if (keep === 0 && start.length === 0) return { ...none, killPod: true, kill };
  // Sidecars that stopped, changed or failed their probes start again, before the containers.
  const sidecars: Container[] = [];
  for (const c of init) {
    if (!isSidecar(c)) continue;
    const r = latestOf(runtime, c.name);
    if (!r || r.state !== "CONTAINER_RUNNING") {
      sidecars.push(c);
      continue;
    }
    const reason = r.hash !== containerHash(c) ? `Init container ${c.name} definition changed, will be restarted` : restartReason(r.id);
    if (reason !== undefined) {
      kill.push({ container: r, message: reason });
      sidecars.push(c);
    }
  }
  return { ...keepOn, kill, start: [...sidecars, ...start] };
}
