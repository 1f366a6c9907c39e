// The API server workloads that `apicost` (CPU time from /proc) and `instructions` (instructions
// counted by valgrind) measure: the server's own `k8ts server` process with SQLite and nothing
// else running in it, and this process its client with a given number of requests in flight.
//  - get: GET of a namespace, answered from the watch cache: what every request pays (TLS,
//    HTTP, authentication, routing, metrics, the response). The baseline.
//  - lease: PUT of a Lease with a new renewTime, as a kubelet renews its node's Lease (one lease
//    per worker, renewed by it alone).
//  - pod: a pod's life as the density benchmark drives it — POST the pod (the ReplicaSet
//    controller), POST its binding (the scheduler), PATCH its status to Running and Ready (the
//    node) — with four watches of all pods open, as the controller-manager, the scheduler, the
//    node simulator and the density benchmark keep them: three writes and twelve watch events.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Lease } from "kubernetes-types/coordination/v1.js";
import type { Pod } from "kubernetes-types/core/v1.js";
import { createClientFromKubeconfig, type RestClient, type Watch } from "../../src/client/rest.js";
import { freePort } from "../../src/testing/net.js";
import { K8tsProcess, type K8tsProcessOptions } from "../../src/testing/process.js";

export const WORKLOADS = ["get", "lease", "pod"] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

/** The pod workload's watches of all pods, unless told otherwise. */
export const POD_WATCHERS = 4;

/** One operation of a workload: the i-th overall, called by worker `worker` of those in flight. */
export type Op = (i: number, worker: number) => Promise<unknown>;

/** `n` calls of `op` (given 0..n-1 and which of the `inFlight` workers calls), `inFlight` at a time. */
export async function drive(n: number, inFlight: number, op: Op): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async (_, worker) => {
      while (next < n) await op(next++, worker);
    }),
  );
}

/** A `k8ts server` of its own (SQLite; no agent, addons, controllers or scheduler) and an admin client with `inFlight` sockets. */
export interface BenchServer {
  readonly process: K8tsProcess;
  readonly client: RestClient;
  /** Stops the client and the server (SIGTERM, then waits for its exit) and removes its data. */
  stop(): Promise<void>;
}

export async function startBenchServer(inFlight: number, options: K8tsProcessOptions & { readonly readyTimeoutMs?: number } = {}): Promise<BenchServer> {
  const dir = mkdtempSync(join(tmpdir(), "k8ts-apibench-"));
  const port = await freePort();
  const server = K8tsProcess.start("k8ts server", ["server", "--data-dir", dir, "--port", String(port), "--disable-agent", "--disable-addons", "--disable-controllers", "--disable-scheduler", "--log-level", "warn"], options);
  const stop = async (): Promise<void> => {
    await server.stop("SIGTERM", 120_000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await server.ready("k8ts server ready", options.readyTimeoutMs ?? 60_000);
    const client = await createClientFromKubeconfig(join(dir, "admin.kubeconfig"), { qps: Infinity, maxSockets: inFlight });
    // The pods' ServiceAccount, as the controller-manager would make it.
    await client.forKind("v1", "ServiceAccount").namespace("default").create({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default" } });
    return {
      process: server,
      client,
      stop: async () => {
        client.close();
        await stop();
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A workload made ready on `client`: its operation, and what it keeps open until `close`. */
export interface Workload {
  readonly op: Op;
  /** Watch events the workload's watchers saw so far. */
  readonly events: () => number;
  readonly close: () => void;
}

export async function prepareWorkload(name: WorkloadName, client: RestClient, inFlight: number, watchers = POD_WATCHERS): Promise<Workload> {
  switch (name) {
    case "get": {
      const namespaces = client.forKind("v1", "Namespace");
      return { op: () => namespaces.get("default"), events: () => 0, close: () => undefined };
    }
    case "lease": {
      const leases = client.forKind("coordination.k8s.io/v1", "Lease").namespace("kube-node-lease");
      const held: Lease[] = [];
      for (let i = 0; i < inFlight; i++) held.push(await leases.create({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: `node-${i}` }, spec: { holderIdentity: `node-${i}`, leaseDurationSeconds: 40, renewTime: microTime(Date.now()) } }));
      const op: Op = async (i, worker) => {
        held[worker] = await leases.update(renewed(held[worker]!, i));
      };
      return { op, events: () => 0, close: () => undefined };
    }
    case "pod": {
      const pods = client.forKind("v1", "Pod").namespace("default");
      const watches: Watch<Pod>[] = [];
      let events = 0;
      for (let w = 0; w < watchers; w++) {
        const watch = await pods.watch({ resourceVersion: "0", omitManagedFields: true });
        watches.push(watch);
        void (async () => {
          for await (const _ of watch) events++;
        })().catch(() => undefined);
      }
      const op: Op = async (i) => {
        const created = await pods.create(pod(), { omitManagedFields: true });
        const name = created.metadata!.name!;
        await pods.bind(name, `node-${i % 100}`);
        await pods.patch(name, "strategic", { status: runningStatus() }, { subresource: "status", omitManagedFields: true });
      };
      return { op, events: () => events, close: () => watches.forEach((w) => w.stop()) };
    }
  }
}

const microTime = (ms: number): string => new Date(ms).toISOString().replace("Z", "000Z");

function renewed(lease: Lease, i: number): Lease {
  return { ...lease, spec: { ...lease.spec, renewTime: microTime(Date.now() + i) } };
}

/** What a Deployment's ReplicaSet creates (the density benchmark's pods). */
function pod(): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      generateName: "web-7d9c6b5f4-",
      labels: { app: "web", "pod-template-hash": "7d9c6b5f4" },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-7d9c6b5f4", uid: "3c0d4b52-7c5e-4b8f-9d3a-1f2e3d4c5b6a", controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      containers: [{ name: "c", image: "registry.k8s.io/pause:3.9", resources: { requests: { cpu: "10m", memory: "16Mi" } } }],
      tolerations: [{ key: "kwok.x-k8s.io/node", operator: "Exists", effect: "NoSchedule" }],
    },
  };
}

/** The status a node reports for a pod that runs and is ready. */
function runningStatus(): Record<string, unknown> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const cond = (type: string): Record<string, unknown> => ({ type, status: "True", lastTransitionTime: now, lastProbeTime: null });
  return {
    phase: "Running",
    hostIP: "10.0.0.1",
    podIP: "10.1.0.1",
    podIPs: [{ ip: "10.1.0.1" }],
    startTime: now,
    conditions: [cond("Initialized"), cond("Ready"), cond("ContainersReady")],
    containerStatuses: [{ name: "c", ready: true, started: true, restartCount: 0, image: "registry.k8s.io/pause:3.9", imageID: "sha256:3d3807", containerID: "sim://c", state: { running: { startedAt: now } }, lastState: {} }],
  };
}
