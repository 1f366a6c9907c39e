// The contracts between the kubelet's parts. The agent (agent.ts) wires them: the pod
// lifecycle (pods/) drives containers through CRI and asks the volume manager (volumes/) for
// each pod's mounts and the prober (probes/) for health; node status and the lease (node/)
// report the node; the kubelet server (server/) finds containers through the CRI labels
// below, never through another part's memory.
import { join } from "node:path";
import type { Pod } from "kubernetes-types/core/v1.js";

// Labels and annotations on CRI sandboxes and containers, the keys upstream's kubelet uses, so
// that `crictl` output reads as on any node and a restarted agent recognises its pods.
export const LABEL_POD_NAME = "io.kubernetes.pod.name";
export const LABEL_POD_NAMESPACE = "io.kubernetes.pod.namespace";
export const LABEL_POD_UID = "io.kubernetes.pod.uid";
export const LABEL_CONTAINER_NAME = "io.kubernetes.container.name";
/** on sandboxes: "k8ts" marks what this agent created (anything else in the runtime is left alone) */
export const LABEL_MANAGED_BY = "io.kubernetes.k8ts.managed";
export const ANNOTATION_CONTAINER_HASH = "io.kubernetes.container.hash";
export const ANNOTATION_RESTART_COUNT = "io.kubernetes.container.restartCount";
export const ANNOTATION_TERMINATION_MESSAGE_PATH = "io.kubernetes.container.terminationMessagePath";
export const ANNOTATION_TERMINATION_MESSAGE_POLICY = "io.kubernetes.container.terminationMessagePolicy";
export const ANNOTATION_POD_GRACE_PERIOD = "io.kubernetes.pod.terminationGracePeriod";
export const ANNOTATION_CONTAINER_PRESTOP_GRACE = "io.kubernetes.container.preStopHandler";

// Static pods (upstream's kubelet/types): where a pod came from, and the mirror pod marker.
export const ANNOTATION_CONFIG_SOURCE = "kubernetes.io/config.source";
export const ANNOTATION_CONFIG_HASH = "kubernetes.io/config.hash";
export const ANNOTATION_CONFIG_MIRROR = "kubernetes.io/config.mirror";
export const ANNOTATION_CONFIG_SEEN = "kubernetes.io/config.seen";
export type PodSource = "api" | "file" | "http";

export function podSource(pod: Pod): PodSource {
  const s = pod.metadata?.annotations?.[ANNOTATION_CONFIG_SOURCE];
  return s === "file" || s === "http" ? s : "api";
}

export function isStaticPod(pod: Pod): boolean {
  return podSource(pod) !== "api";
}

export function isMirrorPod(pod: Pod): boolean {
  return pod.metadata?.annotations?.[ANNOTATION_CONFIG_MIRROR] !== undefined;
}

/** The agent's directories; everything lives under one root so that `k8ts reset` can remove it. */
export interface KubeletPaths {
  /** <dataDir>/agent */
  readonly root: string;
  /** per-pod state: <root>/pods/<uid> */
  podDir(uid: string): string;
  /** <podDir>/volumes/<plugin>/<volume name>, e.g. plugin "kubernetes.io~configmap" */
  podVolumesDir(uid: string): string;
  /** <podDir>/etc-hosts: the hosts file mounted into each container */
  podEtcHosts(uid: string): string;
  /** <podDir>/containers/<container>/<restart>: where the termination log file lives */
  containerDir(uid: string, container: string): string;
  /** the CRI sandbox log directory: <root>/logs/pods/<ns>_<name>_<uid> */
  podLogDir(namespace: string, name: string, uid: string): string;
  /** relative to podLogDir, as CRI wants it: <container>/<restart>.log */
  containerLogPath(container: string, restartCount: number): string;
  readonly podsRoot: string;
  readonly logsRoot: string;
  /** the node-local provisioner's volumes: <root>/storage/pvc-<claim uid>_<namespace>_<claim name> */
  readonly storageRoot: string;
}

export function kubeletPaths(dataDir: string): KubeletPaths {
  const root = join(dataDir, "agent");
  const podsRoot = join(root, "pods");
  const logsRoot = join(root, "logs", "pods");
  return {
    root,
    podsRoot,
    logsRoot,
    storageRoot: join(root, "storage"),
    podDir: (uid) => join(podsRoot, uid),
    podVolumesDir: (uid) => join(podsRoot, uid, "volumes"),
    podEtcHosts: (uid) => join(podsRoot, uid, "etc-hosts"),
    containerDir: (uid, container) => join(podsRoot, uid, "containers", container),
    podLogDir: (ns, name, uid) => join(logsRoot, `${ns}_${name}_${uid}`),
    containerLogPath: (container, restart) => join(container, `${restart}.log`),
  };
}

/** Objects a pod refers to, read from the API (the agent's implementation caches and watches). */
export interface ObjectSource {
  /** undefined when the object does not exist; throws on any other failure */
  configMap(namespace: string, name: string): Promise<import("kubernetes-types/core/v1.js").ConfigMap | undefined>;
  secret(namespace: string, name: string): Promise<import("kubernetes-types/core/v1.js").Secret | undefined>;
  /**
   * The CRI handler of a RuntimeClass (its `handler`), for pods that name one in
   * spec.runtimeClassName; undefined when the class does not exist.
   */
  runtimeHandler(runtimeClassName: string): Promise<string | undefined>;
  /** Services of a namespace, for the pod's service environment variables (enableServiceLinks) */
  services(namespace: string): Promise<import("kubernetes-types/core/v1.js").Service[]>;
  /** The claim a pod's persistentVolumeClaim or ephemeral volume names; undefined when it does not exist. */
  persistentVolumeClaim(namespace: string, name: string): Promise<import("kubernetes-types/core/v1.js").PersistentVolumeClaim | undefined>;
  /** The volume a bound claim names; undefined when it does not exist. */
  persistentVolume(name: string): Promise<import("kubernetes-types/core/v1.js").PersistentVolume | undefined>;
  /** TokenRequest (serviceaccounts/token) bound to the pod, for projected serviceAccountToken sources */
  serviceAccountToken(
    namespace: string,
    serviceAccount: string,
    request: { readonly audiences: readonly string[]; readonly expirationSeconds: number; readonly podName: string; readonly podUid: string },
  ): Promise<{ readonly token: string; readonly expirationTimestamp: string }>;
}

/** A volume as the containers see it: a host path to bind-mount. */
export interface MountedVolume {
  readonly hostPath: string;
  /** the volume forces read-only (configMap, secret, downwardAPI, projected) */
  readonly readOnly: boolean;
}

/** Reason and message for the pod's FailedMount event. */
export class VolumeError extends Error {
  override readonly name = "VolumeError";
  constructor(
    readonly volume: string,
    readonly reason: "FailedMount" | "InvalidVolume",
    message: string,
  ) {
    super(message);
  }
}

export interface VolumeManager {
  /**
   * Creates the pod's volumes, or refreshes them (configMap/secret/downwardAPI/projected
   * contents are rewritten atomically when they changed); cheap when nothing changed, so the
   * pod lifecycle calls it on every sync. Throws VolumeError when a volume cannot be set up.
   */
  setUpPod(pod: Pod): Promise<Map<string, MountedVolume>>;
  /** Unmounts and removes everything setUpPod made for the pod. Idempotent. */
  tearDownPod(uid: string): Promise<void>;
  /** uids that have volume state on disk (to clean up pods deleted while the agent was down) */
  podsOnDisk(): string[];
}

/** A container the prober may watch: started by the pod lifecycle, identified by CRI id. */
export interface RunningContainer {
  readonly name: string;
  readonly containerId: string;
  /** ms since epoch */
  readonly startedAt: number;
}

export interface ProbeManager {
  /**
   * Called after every sync with the containers running now: starts probe workers for new
   * container ids, stops those whose container is gone. Probes target `podIP` (httpGet,
   * tcpSocket, grpc) or run in the container through CRI ExecSync (exec).
   */
  syncPod(pod: Pod, podIP: string | undefined, running: readonly RunningContainer[]): void;
  removePod(uid: string): void;
  /** readiness: true when there is no readiness probe (once started), else the last result */
  isReady(uid: string, containerId: string): boolean;
  /** startup: true when there is no startup probe or it has succeeded */
  isStarted(uid: string, containerId: string): boolean;
  /** the message when liveness or startup failed past its threshold: the container must be restarted */
  restartReason(uid: string, containerId: string): string | undefined;
  /** called (with the pod uid) when any result changes, so the pod is synced again */
  onChange(listener: (uid: string) => void): void;
  stop(): void;
}
