// How fast the machine is right now, in two small fixed workloads a benchmark measures before
// its own: our development machines are shared and their speed changes by several times from
// one day to the next (docs/performance.md, eighth round), so throughput and CPU figures are
// read next to this reference of the same run.
//  - jsonPodRoundTripUs: JSON.parse(JSON.stringify(pod)) of a scheduled, running 3 KB pod,
//    the work every API write and watch event does most of (µs each, median of 5 rounds);
//  - writeSyscallUs: a 1-byte write(2) to /dev/null, the floor of every socket write (µs each,
//    median of 5 rounds).
import { closeSync, openSync, writeSync } from "node:fs";
import { performance } from "node:perf_hooks";

export interface MachineReference {
  readonly jsonPodRoundTripUs: number;
  readonly writeSyscallUs: number;
}

const POD = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name: "web-7d9c6b5f4-x2x9q",
    generateName: "web-7d9c6b5f4-",
    namespace: "density-0",
    uid: "3c0d4b52-7c5e-4b8f-9d3a-1f2e3d4c5b6a",
    resourceVersion: "123456",
    creationTimestamp: "2026-11-27T12:00:00Z",
    labels: { app: "web", "pod-template-hash": "7d9c6b5f4" },
    ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-7d9c6b5f4", uid: "9c0d4b52-7c5e-4b8f-9d3a-1f2e3d4c5b6a", controller: true, blockOwnerDeletion: true }],
    managedFields: [
      { manager: "kube-controller-manager", operation: "Update", apiVersion: "v1", time: "2026-11-27T12:00:00Z", fieldsType: "FieldsV1", fieldsV1: { "f:metadata": { "f:generateName": {}, "f:labels": { ".": {}, "f:app": {}, "f:pod-template-hash": {} }, "f:ownerReferences": { ".": {}, 'k:{"uid":"9c0d4b52-7c5e-4b8f-9d3a-1f2e3d4c5b6a"}': {} } }, "f:spec": { "f:containers": { 'k:{"name":"c"}': { ".": {}, "f:image": {}, "f:name": {}, "f:resources": { ".": {}, "f:requests": { ".": {}, "f:cpu": {}, "f:memory": {} } } } } } } },
      { manager: "kubelet", operation: "Update", apiVersion: "v1", time: "2026-11-27T12:00:01Z", fieldsType: "FieldsV1", subresource: "status", fieldsV1: { "f:status": { "f:conditions": { 'k:{"type":"Ready"}': { ".": {}, "f:lastProbeTime": {}, "f:lastTransitionTime": {}, "f:status": {}, "f:type": {} } }, "f:containerStatuses": {}, "f:hostIP": {}, "f:phase": {}, "f:podIP": {}, "f:podIPs": { ".": {}, 'k:{"ip":"10.128.0.2"}': { ".": {}, "f:ip": {} } }, "f:startTime": {} } } },
    ],
  },
  spec: {
    containers: [{ name: "c", image: "registry.k8s.io/pause:3.9", resources: { requests: { cpu: "10m", memory: "16Mi" } }, terminationMessagePath: "/dev/termination-log", terminationMessagePolicy: "File", imagePullPolicy: "IfNotPresent" }],
    restartPolicy: "Always",
    terminationGracePeriodSeconds: 30,
    dnsPolicy: "ClusterFirst",
    serviceAccountName: "default",
    nodeName: "sim-42",
    securityContext: {},
    schedulerName: "default-scheduler",
    tolerations: [
      { key: "kwok.x-k8s.io/node", operator: "Exists", effect: "NoSchedule" },
      { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
      { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
    ],
    priority: 0,
    enableServiceLinks: true,
    preemptionPolicy: "PreemptLowerPriority",
  },
  status: {
    phase: "Running",
    conditions: ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"].map((type) => ({ type, status: "True", lastProbeTime: null, lastTransitionTime: "2026-11-27T12:00:01Z" })),
    hostIP: "172.16.0.43",
    hostIPs: [{ ip: "172.16.0.43" }],
    podIP: "10.128.0.2",
    podIPs: [{ ip: "10.128.0.2" }],
    startTime: "2026-11-27T12:00:01Z",
    containerStatuses: [{ name: "c", state: { running: { startedAt: "2026-11-27T12:00:01Z" } }, lastState: {}, ready: true, restartCount: 0, image: "registry.k8s.io/pause:3.9", imageID: "registry.k8s.io/pause@sha256:0123", containerID: "containerd://0123", started: true }],
    qosClass: "Burstable",
  },
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Microseconds per call of `fn`, the median of five rounds of `n` calls. */
function timed(n: number, fn: () => void): number {
  const rounds: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    for (let i = 0; i < n; i++) fn();
    rounds.push(((performance.now() - t) * 1000) / n);
  }
  return Math.round(median(rounds) * 100) / 100;
}

export function machineReference(): MachineReference {
  let sink = 0;
  const jsonPodRoundTripUs = timed(2000, () => {
    sink += (JSON.parse(JSON.stringify(POD)) as typeof POD).metadata.name.length;
  });
  const fd = openSync("/dev/null", "w");
  let writeSyscallUs: number;
  try {
    writeSyscallUs = timed(20_000, () => {
      sink += writeSync(fd, "x");
    });
  } finally {
    closeSync(fd);
  }
  if (sink < 0) throw new Error("unreachable");
  return { jsonPodRoundTripUs, writeSyscallUs };
}
