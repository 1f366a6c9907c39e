// What a request costs the API server in CPU: `npm run bench -- apicost [--pods N]`. One JSON
// object per line, per workload: the server process's CPU time per operation (utime + stime
// from /proc, every thread: the event loop, the SQLite writer thread, and the rest — V8's
// garbage-collection and compiler helpers), and operations per second. It says where a
// request's CPU goes, thread by thread; on a shared machine it moves between runs too (the pod
// workload by ±15 %), so compare code changes in alternating runs.
//
// The server runs as its own process (`k8ts server`, SQLite, no controllers, scheduler or
// node), this process is its client, 32 requests in flight (`--in-flight N`). Each workload runs once to warm up
// (V8 compiles the hot code in its first seconds) and once measured:
//  - get: GET of a namespace, answered from the watch cache: what every request pays (TLS,
//    HTTP, authentication, routing, metrics, the response). The baseline: the other workloads
//    are also given in GETs (perGet).
//  - lease: PUT of a Lease with a new renewTime, as a kubelet renews its node's Lease.
//  - pod: a pod's life as the density benchmark drives it — POST the pod (the ReplicaSet
//    controller), POST its binding (the scheduler), PATCH its status to Running and Ready (the
//    node) — with four watches of all pods open, as the controller-manager, the scheduler, the
//    node simulator and the density benchmark keep them: three writes and twelve watch events.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { Lease } from "kubernetes-types/coordination/v1.js";
import type { Pod } from "kubernetes-types/core/v1.js";
import { createClientFromKubeconfig, type RestClient, type Watch } from "../src/client/rest.js";
import { freePort } from "../src/testing/net.js";
import { K8tsProcess } from "../src/testing/process.js";
import { cpuByThread, threadCpuSeconds } from "../src/testing/proc.js";
import { WRITER_THREAD_NAME } from "../src/storage/sqlite/writer.js";

const arg = (name: string, fallback: number): number => Number(process.argv[process.argv.indexOf(name) + 1] || 0) || fallback;
const PODS = arg("--pods", 8000);
const IN_FLIGHT = arg("--in-flight", 32);
/** `--only lease|pod`: that workload alone (and get, the baseline). */
const ONLY = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : undefined;
const WATCHERS = 4;
const round = (n: number, d = 1): number => Math.round(n * 10 ** d) / 10 ** d;
const emit = (o: Record<string, unknown>): void => void process.stdout.write(JSON.stringify({ bench: "apicost", ...o }) + "\n");

/** `n` calls of `op` (given 0..n-1 and which of the IN_FLIGHT workers calls), IN_FLIGHT at a time. */
async function drive(n: number, op: (i: number, worker: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async (_, worker) => {
      while (next < n) await op(next++, worker);
    }),
  );
}

interface Cost {
  readonly ops: number;
  readonly opsPerSec: number;
  /** The server's CPU per operation, all threads. */
  readonly cpuUs: number;
  readonly mainThreadUs: number;
  readonly sqliteWriterUs: number;
  /** V8's garbage-collection and compiler helpers, and any other thread. */
  readonly otherThreadsUs: number;
}

/** The server's CPU per operation over `n` operations, after a warm-up of as many. */
async function measure(pid: number, n: number, op: (i: number, worker: number) => Promise<unknown>): Promise<Cost> {
  await drive(n, op);
  const before = threadCpuSeconds(pid);
  const started = performance.now();
  await drive(n, (i, worker) => op(n + i, worker));
  const seconds = (performance.now() - started) / 1000;
  const { main, named: writer, other } = cpuByThread(pid, before, threadCpuSeconds(pid), WRITER_THREAD_NAME);
  const us = (s: number): number => round((s * 1e6) / n);
  return { ops: n, opsPerSec: Math.round(n / seconds), cpuUs: us(main + writer + other), mainThreadUs: us(main), sqliteWriterUs: us(writer), otherThreadsUs: us(other) };
}

/** `cost` with its CPU in GETs too. */
function perGet<C extends Cost>(cost: C, get: Cost): C & { perGet: { cpu: number } } {
  return { ...cost, perGet: { cpu: round(cost.cpuUs / get.cpuUs, 2) } };
}

function renewed(lease: Lease, i: number): Lease {
  return { ...lease, spec: { ...lease.spec, renewTime: new Date(Date.now() + i).toISOString().replace("Z", "000Z") } };
}

function pod(): Pod {
  // What a Deployment's ReplicaSet creates (the density benchmark's pods).
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

/** A kubelet's renewal: one lease per worker, renewed by it alone. */
async function leaseCost(pid: number, client: RestClient): Promise<Cost> {
  const leases = client.forKind("coordination.k8s.io/v1", "Lease").namespace("kube-node-lease");
  const held: Lease[] = [];
  for (let i = 0; i < IN_FLIGHT; i++) held.push(await leases.create({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: `node-${i}` }, spec: { holderIdentity: `node-${i}`, leaseDurationSeconds: 40, renewTime: new Date().toISOString().replace("Z", "000Z") } }));
  return measure(pid, PODS * 3, async (i, worker) => {
    held[worker] = await leases.update(renewed(held[worker]!, i));
  });
}

/** A pod's life as the density benchmark drives it, with WATCHERS watches of all pods open. */
async function podCost(pid: number, client: RestClient, watches: Watch<Pod>[]): Promise<Cost & { watchEventsSeen: number }> {
  const pods = client.forKind("v1", "Pod").namespace("default");
  let events = 0;
  for (let w = 0; w < WATCHERS; w++) {
    const watch = await pods.watch({ resourceVersion: "0", omitManagedFields: true });
    watches.push(watch);
    void (async () => {
      for await (const _ of watch) events++;
    })().catch(() => undefined);
  }
  const cost = await measure(pid, PODS, async (i) => {
    const created = await pods.create(pod(), { omitManagedFields: true });
    const name = created.metadata!.name!;
    await pods.bind(name, `node-${i % 100}`);
    await pods.patch(name, "strategic", { status: runningStatus() }, { subresource: "status", omitManagedFields: true });
  });
  return { ...cost, watchEventsSeen: events };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "k8ts-apicost-"));
  const port = await freePort();
  const server = K8tsProcess.start("k8ts server", ["server", "--data-dir", dir, "--port", String(port), "--disable-agent", "--disable-addons", "--disable-controllers", "--disable-scheduler", "--log-level", "warn"]);
  const watches: Watch<Pod>[] = [];
  try {
    await server.ready("k8ts server ready", 60_000);
    const pid = server.child.pid!;
    const client = await createClientFromKubeconfig(join(dir, "admin.kubeconfig"), { qps: Infinity, maxSockets: IN_FLIGHT });
    const namespaces = client.forKind("v1", "Namespace");
    await client.forKind("v1", "ServiceAccount").namespace("default").create({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default" } });

    const get = await measure(pid, PODS * 3, () => namespaces.get("default"));
    emit({ workload: "get", ...get });

    if (!ONLY || ONLY === "lease") emit({ workload: "lease", ...perGet(await leaseCost(pid, client), get) });
    if (!ONLY || ONLY === "pod") emit({ workload: "pod", writes: 3, watchers: WATCHERS, inFlight: IN_FLIGHT, ...perGet(await podCost(pid, client, watches), get) });
    client.close();
  } finally {
    for (const w of watches) w.stop();
    await server.stop("SIGTERM", 20_000);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
