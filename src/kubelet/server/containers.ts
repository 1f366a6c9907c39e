// Finding a pod's sandbox and containers through CRI alone, by the labels every kubelet puts on
// them (types.ts), so the server answers for any container in the runtime — adopted after a
// restart, or started by an agent whose memory it does not share.
import type { Container, ContainerStatus, CriClient, PodSandbox } from "../cri/client.js";
import { LABEL_CONTAINER_NAME, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID } from "../types.js";

export type LookupErrorCode = "PodNotFound" | "ContainerNotFound" | "ContainerNotRunning" | "PreviousNotFound";

/** Why a pod or container could not be found; `httpStatus` is what the kubelet answers with. */
export class LookupError extends Error {
  override readonly name = "LookupError";
  constructor(
    readonly code: LookupErrorCode,
    message: string,
  ) {
    super(message);
  }
  get httpStatus(): number {
    return this.code === "PodNotFound" ? 404 : this.code === "ContainerNotRunning" ? 404 : 400;
  }
}

/** Newest first, ready ones before those that are not: a pod's current sandbox leads. */
function bySandboxPreference(a: PodSandbox, b: PodSandbox): number {
  const ra = a.state === "SANDBOX_READY" ? 1 : 0;
  const rb = b.state === "SANDBOX_READY" ? 1 : 0;
  if (ra !== rb) return rb - ra;
  return b.createdAt - a.createdAt;
}

/** The pod's sandboxes, the current one first; empty when the runtime has none. */
async function podSandboxes(cri: CriClient, namespace: string, name: string, uid?: string): Promise<PodSandbox[]> {
  const labelSelector: Record<string, string> = { [LABEL_POD_NAMESPACE]: namespace, [LABEL_POD_NAME]: name };
  if (uid) labelSelector[LABEL_POD_UID] = uid;
  const all = await cri.listPodSandbox({ labelSelector });
  return all.sort(bySandboxPreference);
}

/** The running sandbox of a pod (port-forward targets it). */
export async function currentSandbox(cri: CriClient, namespace: string, name: string, uid?: string): Promise<PodSandbox> {
  const sandboxes = await podSandboxes(cri, namespace, name, uid);
  const ready = sandboxes.find((s) => s.state === "SANDBOX_READY");
  if (!ready) throw new LookupError("PodNotFound", `pod "${name}" in namespace "${namespace}" has no running sandbox`);
  return ready;
}

function attemptOf(c: Container): number {
  return c.metadata?.attempt ?? 0;
}

/**
 * All instances of one container of the pod's current incarnation, newest attempt first (a pod
 * deleted and created again under the same name has a new uid: only the newest uid's count).
 */
async function containerAttempts(cri: CriClient, namespace: string, pod: string, container: string, uid?: string): Promise<Container[]> {
  const [current] = await podSandboxes(cri, namespace, pod, uid);
  if (!current) return [];
  const podUid = uid ?? current.labels[LABEL_POD_UID] ?? "";
  const found = await cri.listContainers({
    labelSelector: { [LABEL_POD_NAMESPACE]: namespace, [LABEL_POD_NAME]: pod, [LABEL_POD_UID]: podUid, [LABEL_CONTAINER_NAME]: container },
  });
  return found.sort((a, b) => attemptOf(b) - attemptOf(a) || b.createdAt - a.createdAt);
}

/** The container whose logs are served, and where its runtime writes them ("" when it does not say). */
export interface LogTarget {
  readonly id: string;
  readonly logPath: string;
}

/**
 * The container whose logs `kubectl logs` shows: the newest attempt; with `previous`, what
 * upstream reads from lastState.terminated. When the newest attempt has exited and the kubelet
 * will start it again (`restarts`, from the pod's restartPolicy and the exit), that newest
 * attempt is the last state (a crash-loop back-off); otherwise it is the current state and
 * `previous` is the newest older attempt that exited.
 */
export async function logContainer(
  cri: CriClient,
  namespace: string,
  pod: string,
  container: string,
  previous: boolean,
  restarts: (exitCode: number) => boolean,
): Promise<LogTarget> {
  // The log path is only in the container's status; one already read for its exit code serves.
  const target = async (c: Container, status?: ContainerStatus | null): Promise<LogTarget> => ({
    id: c.id,
    logPath: (status !== undefined ? status : (await cri.containerStatus(c.id)).status)?.logPath ?? "",
  });
  const attempts = await containerAttempts(cri, namespace, pod, container);
  const current = attempts[0];
  if (!current) throw new LookupError("ContainerNotFound", `container "${container}" in pod "${pod}" is waiting to start: ContainerCreating`);
  if (!previous) return target(current);
  if (current.state === "CONTAINER_EXITED") {
    const status = (await cri.containerStatus(current.id)).status;
    if (restarts(status?.exitCode ?? 0)) return target(current, status);
  }
  const prev = attempts.slice(1).find((c) => c.state === "CONTAINER_EXITED");
  if (!prev) throw new LookupError("PreviousNotFound", `previous terminated container "${container}" in pod "${pod}" not found`);
  return target(prev);
}

/** The running instance of a container (exec and attach need one). */
export async function runningContainer(cri: CriClient, namespace: string, pod: string, container: string, uid?: string): Promise<Container> {
  const attempts = await containerAttempts(cri, namespace, pod, container, uid);
  const running = attempts.find((c) => c.state === "CONTAINER_RUNNING");
  // Upstream's kubelet answers exactly this when the runtime has no running container by that name.
  if (!running) throw new LookupError("ContainerNotRunning", `container not found ("${container}")`);
  return running;
}
