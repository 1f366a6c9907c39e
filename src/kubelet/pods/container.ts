// A container as upstream's kubelet describes it to CRI (generateContainerConfig): command
// and args, env, mounts (volumes, /etc/hosts, the termination message file), cgroup
// resources, security context, labels and the annotations a restarted agent reads back.
import { createHash } from "node:crypto";
import { isAbsolute, join, normalize } from "node:path";
import type { Container, EnvVar, Pod } from "kubernetes-types/core/v1.js";
import { quantityOf } from "../../api/quantity.js";
import { podQOSClass } from "../../api/qos.js";
import type { ContainerConfig, Input, LinuxContainerResources, LinuxContainerSecurityContext, Mount, MountPropagation } from "../cri/client.js";
import {
  ANNOTATION_CONTAINER_HASH,
  ANNOTATION_CONTAINER_PRESTOP_GRACE,
  ANNOTATION_POD_GRACE_PERIOD,
  ANNOTATION_RESTART_COUNT,
  ANNOTATION_TERMINATION_MESSAGE_PATH,
  ANNOTATION_TERMINATION_MESSAGE_POLICY,
  LABEL_CONTAINER_NAME,
  LABEL_MANAGED_BY,
  LABEL_POD_NAME,
  LABEL_POD_NAMESPACE,
  LABEL_POD_UID,
  type MountedVolume,
} from "../types.js";
import { podDesc } from "../probes/format.js";
import { ContainerConfigError, expand, expandCommand } from "./env.js";
import { MANAGED_BY_VALUE, namespaceOptions } from "./sandbox.js";

export const DEFAULT_TERMINATION_MESSAGE_PATH = "/dev/termination-log";
export const DEFAULT_GRACE_SECONDS = 30;

/** spec.terminationGracePeriodSeconds, which the API server defaults (a pod from elsewhere may lack it). */
export function terminationGraceSeconds(pod: Pod): number {
  return pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
}

/** Upstream's API defaulting: `latest` or no tag (and no digest) pulls Always, anything else IfNotPresent. */
export function pullPolicy(c: Container): "Always" | "IfNotPresent" | "Never" {
  if (c.imagePullPolicy === "Always" || c.imagePullPolicy === "IfNotPresent" || c.imagePullPolicy === "Never") return c.imagePullPolicy;
  const image = c.image ?? "";
  if (image.includes("@")) return "IfNotPresent";
  const lastSlash = image.lastIndexOf("/");
  const colon = image.indexOf(":", lastSlash + 1);
  const tag = colon < 0 ? "" : image.slice(colon + 1);
  return tag === "" || tag === "latest" ? "Always" : "IfNotPresent";
}

function stable(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stable);
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined && x !== null) out[k] = stable(x);
    }
    return out;
  }
  return v;
}

/**
 * The hash stored on each container (ANNOTATION_CONTAINER_HASH): when the pod's spec of a
 * container changes (its image, say), the running one no longer matches and is replaced.
 * Resources are left out as upstream does (in-place resize must not restart containers).
 */
export function containerHash(c: Container): string {
  const { resources: _r, resizePolicy: _p, ...rest } = c as Container & { resizePolicy?: unknown };
  return createHash("sha256").update(JSON.stringify(stable(rest))).digest("hex").slice(0, 8);
}

// ---- resources (upstream kuberuntime_container_linux.go) ----

const MIN_SHARES = 2;
const MAX_SHARES = 262144;
const QUOTA_PERIOD = 100_000;
const MIN_QUOTA = 1000;

export function linuxResources(pod: Pod, c: Container, nodeMemoryBytes: number): Input<LinuxContainerResources> {
  const limits = c.resources?.limits ?? {};
  const requests = c.resources?.requests ?? {};
  const cpuReq = quantityOf(requests["cpu"]) ?? quantityOf(limits["cpu"]);
  const cpuLim = quantityOf(limits["cpu"]);
  const memLim = quantityOf(limits["memory"]);
  const memReq = quantityOf(requests["memory"]) ?? memLim;
  const milli = cpuReq ? Number(cpuReq.milliValue()) : 0;
  const shares = Math.min(MAX_SHARES, Math.max(MIN_SHARES, Math.floor((milli * 1024) / 1000)));
  const out: Input<LinuxContainerResources> = { cpuShares: shares };
  if (cpuLim) {
    out.cpuPeriod = QUOTA_PERIOD;
    out.cpuQuota = Math.max(MIN_QUOTA, Math.floor((Number(cpuLim.milliValue()) * QUOTA_PERIOD) / 1000));
  }
  if (memLim) out.memoryLimitInBytes = Number(memLim.value());
  // Upstream's OOM score policy (pkg/kubelet/qos/policy.go); containerd clamps what it cannot set.
  const qos = podQOSClass(pod.spec);
  if (qos === "Guaranteed") out.oomScoreAdj = -997;
  else if (qos === "BestEffort") out.oomScoreAdj = 1000;
  else {
    const req = memReq ? Number(memReq.value()) : 0;
    const adj = 1000 - Math.floor((1000 * req) / Math.max(1, nodeMemoryBytes));
    out.oomScoreAdj = Math.min(999, Math.max(2, adj));
  }
  return out;
}

// ---- security context (upstream securitycontext + kuberuntime_container_linux.go) ----

// What runtimes mask and make read-only in /proc and /sys unless privileged (securitycontext.DefaultMaskedPaths).
const DEFAULT_MASKED_PATHS = [
  "/proc/asound",
  "/proc/acpi",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/sys/firmware",
  "/sys/devices/virtual/powercap",
];
const DEFAULT_READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

export interface ImageUser {
  readonly uid: number | undefined;
  readonly username: string;
}

/** Refuses a container that must not run as root but would (upstream verifyRunAsNonRoot). */
export function verifyRunAsNonRoot(pod: Pod, c: Container, image: ImageUser): void {
  const psc = pod.spec?.securityContext;
  const csc = c.securityContext;
  const nonRoot = csc?.runAsNonRoot ?? psc?.runAsNonRoot;
  if (!nonRoot) return;
  const podName = podDesc(pod);
  const runAsUser = csc?.runAsUser ?? psc?.runAsUser;
  if (runAsUser !== undefined) {
    if (runAsUser === 0) throw new ContainerConfigError(`container's runAsUser breaks non-root policy (pod: "${podName}", container: ${c.name})`);
    return;
  }
  if (image.uid !== undefined) {
    if (image.uid === 0) throw new ContainerConfigError(`container has runAsNonRoot and image will run as root (pod: "${podName}", container: ${c.name})`);
    return;
  }
  if (image.username !== "") throw new ContainerConfigError(`container has runAsNonRoot and image has non-numeric user (${image.username}), cannot verify user is non-root (pod: "${podName}", container: ${c.name})`);
}

/**
 * `pidTarget`: the id of the container whose process namespace this one joins (an ephemeral
 * container's targetContainerName, upstream's NamespaceMode TARGET), so a debugger sees its
 * target's processes.
 */
export function securityContext(pod: Pod, c: Container, pidTarget?: string): Input<LinuxContainerSecurityContext> {
  const psc = pod.spec?.securityContext;
  const csc = c.securityContext;
  const privileged = csc?.privileged === true;
  const runAsUser = csc?.runAsUser ?? psc?.runAsUser;
  const runAsGroup = csc?.runAsGroup ?? psc?.runAsGroup;
  const ns = namespaceOptions(pod);
  return {
    privileged,
    namespaceOptions: pidTarget !== undefined ? { network: ns.network, pid: "TARGET", ipc: ns.ipc, targetId: pidTarget } : { network: ns.network, pid: ns.pid, ipc: ns.ipc },
    ...(runAsUser !== undefined ? { runAsUser: { value: runAsUser } } : {}),
    ...(runAsGroup !== undefined ? { runAsGroup: { value: runAsGroup } } : {}),
    readonlyRootfs: csc?.readOnlyRootFilesystem === true,
    supplementalGroups: [...(psc?.supplementalGroups ?? []), ...(psc?.fsGroup !== undefined ? [psc.fsGroup] : [])],
    noNewPrivs: csc?.allowPrivilegeEscalation === false && !privileged,
    ...(csc?.capabilities ? { capabilities: { addCapabilities: csc.capabilities.add ?? [], dropCapabilities: csc.capabilities.drop ?? [] } } : {}),
    ...(privileged || csc?.procMount === "Unmasked" ? {} : { maskedPaths: DEFAULT_MASKED_PATHS, readonlyPaths: DEFAULT_READONLY_PATHS }),
  };
}

// ---- mounts ----

const PROPAGATION: Record<string, MountPropagation> = {
  None: "PROPAGATION_PRIVATE",
  HostToContainer: "PROPAGATION_HOST_TO_CONTAINER",
  Bidirectional: "PROPAGATION_BIDIRECTIONAL",
};

export interface ExtraMounts {
  /** the pod's hosts file, mounted at /etc/hosts unless a volume is */
  readonly etcHosts: string | undefined;
  /** the host file behind terminationMessagePath */
  readonly terminationLog: string | undefined;
}

/** A subPath must stay inside its volume (upstream validation and kubelet checks). */
function checkSubPath(sub: string, volume: string, container: string): string {
  const n = normalize(sub);
  if (isAbsolute(sub) || n === ".." || n.startsWith("../")) throw new ContainerConfigError(`failed to prepare subPath for volumeMount "${volume}" of container "${container}": subPath ${JSON.stringify(sub)} must be a relative path inside the volume`);
  return n;
}

export function containerMounts(c: Container, volumes: ReadonlyMap<string, MountedVolume>, env: readonly EnvVar[], extra: ExtraMounts): Input<Mount>[] {
  const out: Input<Mount>[] = [];
  const envMap = new Map(env.map((e) => [e.name, e.value ?? ""]));
  for (const m of c.volumeMounts ?? []) {
    const vol = volumes.get(m.name);
    if (!vol) throw new ContainerConfigError(`cannot find volume "${m.name}" to mount into container "${c.name}"`);
    let hostPath = vol.hostPath;
    const sub = m.subPathExpr ? expand(m.subPathExpr, (n) => envMap.get(n)) : m.subPath;
    if (sub) hostPath = join(hostPath, checkSubPath(sub, m.name, c.name));
    out.push({
      containerPath: m.mountPath,
      hostPath,
      readonly: m.readOnly === true || vol.readOnly,
      propagation: PROPAGATION[m.mountPropagation ?? "None"] ?? "PROPAGATION_PRIVATE",
    });
  }
  if (extra.etcHosts && !out.some((m) => m.containerPath === "/etc/hosts")) out.push({ containerPath: "/etc/hosts", hostPath: extra.etcHosts });
  const tmp = c.terminationMessagePath ?? DEFAULT_TERMINATION_MESSAGE_PATH;
  if (extra.terminationLog && tmp) out.push({ containerPath: tmp, hostPath: extra.terminationLog });
  return out;
}

// ---- labels, annotations, the config ----

export function containerLabels(pod: Pod, c: Container): Record<string, string> {
  const m = pod.metadata ?? {};
  return {
    [LABEL_POD_NAME]: m.name ?? "",
    [LABEL_POD_NAMESPACE]: m.namespace ?? "default",
    [LABEL_POD_UID]: m.uid ?? "",
    [LABEL_CONTAINER_NAME]: c.name,
    [LABEL_MANAGED_BY]: MANAGED_BY_VALUE,
  };
}

export function containerAnnotations(pod: Pod, c: Container, restartCount: number): Record<string, string> {
  const a: Record<string, string> = {
    [ANNOTATION_CONTAINER_HASH]: containerHash(c),
    [ANNOTATION_RESTART_COUNT]: String(restartCount),
    [ANNOTATION_TERMINATION_MESSAGE_PATH]: c.terminationMessagePath ?? DEFAULT_TERMINATION_MESSAGE_PATH,
    [ANNOTATION_TERMINATION_MESSAGE_POLICY]: c.terminationMessagePolicy ?? "File",
    [ANNOTATION_POD_GRACE_PERIOD]: String(terminationGraceSeconds(pod)),
  };
  // Kept so that a pod deleted while the agent was down still gets its preStop hook.
  if (c.lifecycle?.preStop) a[ANNOTATION_CONTAINER_PRESTOP_GRACE] = JSON.stringify(c.lifecycle.preStop);
  if (c.ports?.length) a["io.kubernetes.container.ports"] = JSON.stringify(c.ports);
  return a;
}

export interface ContainerConfigInput {
  readonly pod: Pod;
  readonly container: Container;
  readonly restartCount: number;
  /** the image as the runtime resolved it (its id) */
  readonly imageRef: string;
  readonly env: readonly EnvVar[];
  readonly mounts: readonly Input<Mount>[];
  readonly logPath: string;
  readonly nodeMemoryBytes: number;
  /** an ephemeral container's target: the id of the container whose process namespace it joins */
  readonly pidTarget?: string;
}

export function containerConfig(i: ContainerConfigInput): Input<ContainerConfig> {
  const { pod, container: c } = i;
  const { command, args } = expandCommand(c, i.env);
  return {
    metadata: { name: c.name, attempt: i.restartCount },
    image: { image: i.imageRef, userSpecifiedImage: c.image ?? "" },
    command,
    args,
    workingDir: c.workingDir ?? "",
    envs: i.env.map((e) => ({ key: e.name, value: e.value ?? "" })),
    mounts: [...i.mounts],
    labels: containerLabels(pod, c),
    annotations: containerAnnotations(pod, c, i.restartCount),
    logPath: i.logPath,
    stdin: c.stdin === true,
    stdinOnce: c.stdinOnce === true,
    tty: c.tty === true,
    linux: { resources: linuxResources(pod, c, i.nodeMemoryBytes), securityContext: securityContext(pod, c, i.pidTarget) },
  };
}

/**
 * The pod as an event's involved object; with a container name, pointing at that container
 * (`spec.containers{name}`, `spec.initContainers{name}` or `spec.ephemeralContainers{name}`),
 * as upstream's kubelet reports.
 */
export function podRef(pod: Pod, container?: string): { apiVersion: string; kind: string; metadata: { name?: string; namespace?: string; uid?: string }; fieldPath?: string } {
  const ref = { apiVersion: "v1", kind: "Pod", metadata: { name: pod.metadata?.name, namespace: pod.metadata?.namespace, uid: pod.metadata?.uid } };
  if (container === undefined) return ref;
  const list = pod.spec?.initContainers?.some((c) => c.name === container) ? "initContainers" : pod.spec?.ephemeralContainers?.some((c) => c.name === container) ? "ephemeralContainers" : "containers";
  return { ...ref, fieldPath: `spec.${list}{${container}}` };
}
