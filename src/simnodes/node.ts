// The Node object a simulated kubelet registers, and the conditions it keeps reporting. The
// labels, annotation and taint are kwok's: `type=kwok` and the NoSchedule taint
// `kwok.x-k8s.io/node=fake` keep real workloads off simulated nodes unless they tolerate it.
import { createHash } from "node:crypto";
import type { Node, NodeCondition, Taint } from "kubernetes-types/core/v1.js";
import type { DeepReadonly } from "../client/objects.js";
import type { NodeAddresses } from "./network.js";
import { rfc3339 } from "../util/time.js";
import { SIMULATED_NODE_ANNOTATION } from "../api/labels.js";

export const SIM_KUBELET_VERSION = "v1.32.0-k8ts-sim";
export const KWOK_TAINT: Readonly<Taint> = Object.freeze({ key: "kwok.x-k8s.io/node", value: "fake", effect: "NoSchedule" });

export interface NodeShape {
  readonly cpu: string;
  readonly memory: string;
  readonly pods: number;
  readonly ephemeralStorage: string;
}

/** The four conditions a healthy kubelet reports, with the kubelet's reasons and messages. */
const HEALTHY: readonly { type: string; status: "True" | "False"; reason: string; message: string }[] = [
  { type: "MemoryPressure", status: "False", reason: "KubeletHasSufficientMemory", message: "kubelet has sufficient memory available" },
  { type: "DiskPressure", status: "False", reason: "KubeletHasNoDiskPressure", message: "kubelet has no disk pressure" },
  { type: "PIDPressure", status: "False", reason: "KubeletHasSufficientPID", message: "kubelet has sufficient PID available" },
  { type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is posting ready status" },
];

export function healthyConditions(now: number): NodeCondition[] {
  const t = rfc3339(now);
  return HEALTHY.map((c) => ({ ...c, lastHeartbeatTime: t, lastTransitionTime: t }));
}

/**
 * What a healthy kubelet posts of its node's conditions now (a strategic merge patch merges
 * them by type): nothing while every condition is as it reports them and no report is `due`;
 * otherwise all four with this heartbeat, each keeping its transition time where its status
 * did not change (after the node lifecycle controller marked the node Unknown, say, the
 * conditions it changed get a new one).
 */
export function conditionReport(current: DeepReadonly<Node> | undefined, now: number, due: boolean): NodeCondition[] {
  const have = current?.status?.conditions ?? [];
  const find = (type: string) => have.find((x) => x.type === type);
  const differs = HEALTHY.some((want) => {
    const c = find(want.type);
    return !c || c.status !== want.status || c.reason !== want.reason;
  });
  if (!differs && !due) return [];
  const t = rfc3339(now);
  return HEALTHY.map((want) => {
    const c = find(want.type);
    return { ...want, lastHeartbeatTime: t, lastTransitionTime: c && c.status === want.status && c.lastTransitionTime ? c.lastTransitionTime : t };
  });
}

function stableId(name: string, what: string): string {
  return createHash("sha256").update(`${what}/${name}`).digest("hex");
}

function uuidOf(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function simNode(name: string, addr: NodeAddresses, shape: NodeShape, now: number): Node {
  const capacity = { cpu: shape.cpu, memory: shape.memory, pods: String(shape.pods), "ephemeral-storage": shape.ephemeralStorage };
  const machine = stableId(name, "machine");
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      labels: {
        type: "kwok",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": "amd64",
      },
      annotations: { [SIMULATED_NODE_ANNOTATION]: "fake", "node.alpha.kubernetes.io/ttl": "0" },
    },
    spec: { podCIDR: addr.podCIDR, podCIDRs: [addr.podCIDR], taints: [{ ...KWOK_TAINT }] },
    status: {
      capacity,
      allocatable: { ...capacity },
      conditions: healthyConditions(now),
      addresses: [
        { type: "InternalIP", address: addr.internalIP },
        { type: "Hostname", address: name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: machine.slice(0, 32),
        systemUUID: uuidOf(stableId(name, "system")),
        bootID: uuidOf(stableId(`${name}/${now}`, "boot")),
        kernelVersion: "6.1.0-k8ts-sim",
        osImage: "k8ts simulated node",
        containerRuntimeVersion: "sim://1.0.0",
        kubeletVersion: SIM_KUBELET_VERSION,
        kubeProxyVersion: SIM_KUBELET_VERSION,
        operatingSystem: "linux",
        architecture: "amd64",
      },
    },
  };
}

/** The addresses an existing node was given (by an earlier run), if it has both. */
export function addressesOf(node: DeepReadonly<Node>): NodeAddresses | undefined {
  const podCIDR = node.spec?.podCIDR;
  const internalIP = node.status?.addresses?.find((a) => a.type === "InternalIP")?.address;
  return podCIDR && internalIP ? { podCIDR, internalIP } : undefined;
}
