// The node's status as upstream's kubelet computes it (pkg/kubelet/nodestatus setters), as pure
// functions of the host facts and the previous status:
//  - capacity from the machine; allocatable = capacity minus the hard eviction thresholds
//    (memory.available 100Mi, nodefs.available 10%) and the hugepages, no reservations;
//  - conditions MemoryPressure, DiskPressure, PIDPressure and Ready with upstream's reasons and
//    messages; lastTransitionTime moves only when a condition's status changes, and each such
//    change is an event "Node <name> status is now: <EventReason>" (Ready's first report is not);
//  - lastHeartbeatTime is set to the time of posting; a status that differs from the last one
//    only in heartbeats is not posted (the Lease is the heartbeat), except every 5 minutes.
import type { ContainerImage, NodeAddress, NodeCondition, NodeStatus, NodeSystemInfo } from "kubernetes-types/core/v1.js";
import { Quantity } from "../../api/quantity.js";

/** upstream's default --eviction-hard on Linux */
export const EVICTION_HARD = Object.freeze({ memoryAvailableBytes: 100 * 1024 * 1024, nodefsAvailable: 0.1, nodefsInodesFree: 0.05 });
/** upstream's --eviction-pressure-transition-period: a pressure condition stays True this long after the last observation */
export const PRESSURE_TRANSITION_MS = 5 * 60_000;
/** upstream's nodeStatusMaxImages and MaxNamesPerImageInNodeStatus */
export const MAX_IMAGES = 50;
export const MAX_NAMES_PER_IMAGE = 5;

export interface Resources {
  readonly cpu: number;
  readonly memoryBytes: number;
  readonly ephemeralStorageBytes: number;
  readonly pods: number;
  /** hugepages-2Mi etc. → bytes */
  readonly hugepages: ReadonlyMap<string, number>;
}

const binary = (n: number): Quantity => Quantity.fromInt(BigInt(Math.max(0, Math.floor(n))), "BinarySI");

export function capacityOf(r: Resources): Record<string, string> {
  const out: Record<string, string> = {
    cpu: Quantity.fromInt(BigInt(r.cpu), "DecimalSI").toString(),
    "ephemeral-storage": binary(r.ephemeralStorageBytes).toString(),
  };
  for (const [name, bytes] of [...r.hugepages].sort(([a], [b]) => (a < b ? -1 : 1))) out[name] = binary(bytes).toString();
  out["memory"] = binary(r.memoryBytes).toString();
  out["pods"] = Quantity.fromInt(BigInt(r.pods), "DecimalSI").toString();
  return out;
}

export function allocatableOf(r: Resources): Record<string, string> {
  const out = capacityOf(r);
  let hugepages = 0;
  for (const b of r.hugepages.values()) hugepages += b;
  const minus = (q: Quantity, by: Quantity): string => {
    const v = q.sub(by);
    return (v.sign() < 0 ? binary(0) : v).toString();
  };
  out["memory"] = minus(binary(r.memoryBytes), binary(EVICTION_HARD.memoryAvailableBytes + hugepages));
  out["ephemeral-storage"] = minus(binary(r.ephemeralStorageBytes), binary(r.ephemeralStorageBytes * EVICTION_HARD.nodefsAvailable));
  return out;
}

export interface PressureSignals {
  readonly memoryAvailableBytes: number;
  readonly nodefsAvailableBytes: number;
  readonly nodefsCapacityBytes: number;
  readonly nodefsInodesFree: number;
  readonly nodefsInodes: number;
}

export interface Pressure {
  readonly memory: boolean;
  readonly disk: boolean;
  readonly pid: boolean;
}

/** Which eviction thresholds the signals cross now (no pid.available threshold by default upstream). */
export function thresholdsMet(s: PressureSignals): Pressure {
  const memory = s.memoryAvailableBytes > 0 && s.memoryAvailableBytes < EVICTION_HARD.memoryAvailableBytes;
  const disk =
    (s.nodefsCapacityBytes > 0 && s.nodefsAvailableBytes < s.nodefsCapacityBytes * EVICTION_HARD.nodefsAvailable) ||
    (s.nodefsInodes > 0 && s.nodefsInodesFree < s.nodefsInodes * EVICTION_HARD.nodefsInodesFree);
  return { memory, disk, pid: false };
}

/**
 * Pressure as reported: a condition observed within the transition period stays True, so the
 * node does not flap around a threshold (upstream's eviction manager does the same).
 */
export class PressureTracker {
  private readonly lastSeen = new Map<keyof Pressure, number>();

  observe(now: Pressure, at: number): Pressure {
    const out: Record<keyof Pressure, boolean> = { memory: false, disk: false, pid: false };
    for (const k of ["memory", "disk", "pid"] as const) {
      if (now[k]) this.lastSeen.set(k, at);
      const seen = this.lastSeen.get(k);
      out[k] = seen !== undefined && at - seen < PRESSURE_TRANSITION_MS;
    }
    return out;
  }
}

export interface Readiness {
  readonly ready: boolean;
  readonly reason: string;
  readonly message: string;
}

interface ConditionSpec {
  readonly type: "MemoryPressure" | "DiskPressure" | "PIDPressure" | "Ready";
  readonly status: "True" | "False";
  readonly reason: string;
  readonly message: string;
  /** the event recorded when the condition changes to this status */
  readonly event: string;
}

function pressureCondition(type: "MemoryPressure" | "DiskPressure" | "PIDPressure", on: boolean): ConditionSpec {
  switch (type) {
    case "MemoryPressure":
      return on
        ? { type, status: "True", reason: "KubeletHasInsufficientMemory", message: "kubelet has insufficient memory available", event: "NodeHasInsufficientMemory" }
        : { type, status: "False", reason: "KubeletHasSufficientMemory", message: "kubelet has sufficient memory available", event: "NodeHasSufficientMemory" };
    case "DiskPressure":
      return on
        ? { type, status: "True", reason: "KubeletHasDiskPressure", message: "kubelet has disk pressure", event: "NodeHasDiskPressure" }
        : { type, status: "False", reason: "KubeletHasNoDiskPressure", message: "kubelet has no disk pressure", event: "NodeHasNoDiskPressure" };
    case "PIDPressure":
      return on
        ? { type, status: "True", reason: "KubeletHasInsufficientPID", message: "kubelet has insufficient PID available", event: "NodeHasInsufficientPID" }
        : { type, status: "False", reason: "KubeletHasSufficientPID", message: "kubelet has sufficient PID available", event: "NodeHasSufficientPID" };
  }
}

function readyCondition(r: Readiness): ConditionSpec {
  if (r.ready) return { type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is posting ready status", event: "NodeReady" };
  const reason = r.reason && r.reason !== "KubeletReady" ? r.reason : "KubeletNotReady";
  return { type: "Ready", status: "False", reason, message: r.message || "kubelet is not ready", event: "NodeNotReady" };
}

export const OWN_CONDITIONS = ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"] as const;

/**
 * The conditions this kubelet owns as they should be now, given the previous ones, and the
 * events their transitions call for. Heartbeats are left as they were (set when posting).
 */
export function computeConditions(previous: readonly NodeCondition[] | undefined, pressure: Pressure, readiness: Readiness, now: string): { conditions: NodeCondition[]; events: string[] } {
  const specs = [pressureCondition("MemoryPressure", pressure.memory), pressureCondition("DiskPressure", pressure.disk), pressureCondition("PIDPressure", pressure.pid), readyCondition(readiness)];
  const events: string[] = [];
  const conditions = specs.map((s): NodeCondition => {
    const old = previous?.find((c) => c.type === s.type);
    const changed = old?.status !== s.status;
    // Upstream records the pressure events on the first report too, but not Ready's.
    if (changed && (old !== undefined || s.type !== "Ready")) events.push(s.event);
    return {
      type: s.type,
      status: s.status,
      reason: s.reason,
      message: s.message,
      lastHeartbeatTime: old?.lastHeartbeatTime ?? now,
      lastTransitionTime: !changed && old?.lastTransitionTime ? old.lastTransitionTime : now,
    };
  });
  return { conditions, events };
}

export interface RuntimeImage {
  readonly repoTags: readonly string[];
  readonly repoDigests: readonly string[];
  readonly size: number | string;
}

/** status.images: biggest first, at most 50, each with its digests then tags, at most 5 names. */
export function imagesOf(list: readonly RuntimeImage[]): ContainerImage[] {
  return [...list]
    .map((i) => ({ names: [...i.repoDigests, ...i.repoTags].slice(0, MAX_NAMES_PER_IMAGE), sizeBytes: Number(i.size) }))
    .sort((a, b) => b.sizeBytes - a.sizeBytes)
    .slice(0, MAX_IMAGES);
}

export interface StatusInput {
  readonly resources: Resources;
  readonly addresses: readonly NodeAddress[];
  readonly nodeInfo: NodeSystemInfo;
  readonly images: readonly ContainerImage[];
  readonly kubeletPort: number;
  readonly pressure: Pressure;
  readonly readiness: Readiness;
}

/** The status fields this kubelet owns, computed from the previous status; and the events of the change. */
export function desiredStatus(previous: NodeStatus | undefined, input: StatusInput, now: string): { status: NodeStatus; events: string[] } {
  const { conditions, events } = computeConditions(previous?.conditions, input.pressure, input.readiness, now);
  return {
    status: {
      capacity: capacityOf(input.resources),
      allocatable: allocatableOf(input.resources),
      conditions,
      addresses: input.addresses.map((a) => ({ ...a })),
      daemonEndpoints: { kubeletEndpoint: { Port: input.kubeletPort } },
      nodeInfo: { ...input.nodeInfo },
      images: input.images.map((i) => ({ names: [...(i.names ?? [])], sizeBytes: i.sizeBytes ?? 0 })),
    },
    events,
  };
}

function withoutHeartbeats(conditions: readonly NodeCondition[] | undefined): unknown[] {
  return (conditions ?? [])
    .filter((c) => (OWN_CONDITIONS as readonly string[]).includes(c.type))
    .map(({ lastHeartbeatTime: _hb, ...rest }) => rest)
    .sort((a, b) => (a.type < b.type ? -1 : 1));
}

function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) =>
    val && typeof val === "object" && !Array.isArray(val)
      ? Object.fromEntries(
          Object.entries(val as Record<string, unknown>)
            .filter(([, x]) => x !== undefined)
            .sort(([a], [b]) => (a < b ? -1 : 1)),
        )
      : val,
  );
}

/**
 * Whether posting `desired` would change `current` in anything but heartbeats (upstream's
 * nodeStatusHasChanged). Only what the kubelet owns counts: capacity keys, address types and
 * conditions that others add (extended resources, an ExternalIP, NetworkUnavailable) do not.
 */
export function statusChanged(current: NodeStatus | undefined, desired: NodeStatus): boolean {
  if (!current) return true;
  const keys = <T>(m: Readonly<Record<string, T>> | undefined, like: Readonly<Record<string, T>> | undefined): Record<string, T | undefined> =>
    Object.fromEntries(Object.keys(like ?? {}).map((k) => [k, m?.[k]]));
  const types = new Set((desired.addresses ?? []).map((a) => a.type));
  const pick = (s: NodeStatus, like: NodeStatus): unknown => ({
    capacity: keys(s.capacity, like.capacity),
    allocatable: keys(s.allocatable, like.allocatable),
    addresses: (s.addresses ?? []).filter((a) => types.has(a.type)),
    daemonEndpoints: s.daemonEndpoints ?? {},
    nodeInfo: s.nodeInfo ?? {},
    images: s.images ?? [],
    conditions: withoutHeartbeats(s.conditions),
  });
  return canonical(pick(current, desired)) !== canonical(pick(desired, desired));
}

/** Sets every owned condition's heartbeat to `now`, as done when the status is posted. */
export function stampHeartbeats(status: NodeStatus, now: string): NodeStatus {
  return { ...status, conditions: (status.conditions ?? []).map((c) => ({ ...c, lastHeartbeatTime: now })) };
}
