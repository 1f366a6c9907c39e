// Density benchmark: `npm run bench -- density [--nodes N] [--pods M] [--replicas R]
// [--nodes-per-namespace K] [--latency-pods L] [--latency-qps Q] [--timeout S] [--log-dir D]
// [--cpu-prof D]` (defaults 1000 nodes, 10000 pods, 100 replicas per Deployment, one namespace
// per 100 nodes, 200 latency pods at 10/s, 1800 s; no log files, no profiles).
//
// A fresh cluster of separate processes on the default SQLite store: `k8ts server` (without
// its embedded controllers and scheduler), `k8ts controller-manager` and `k8ts scheduler` with
// loose client throttles (at upstream's default 20 and 50 QPS the ReplicaSet controller's
// creates and the scheduler's bindings would be the whole measurement) and 25 ReplicaSet
// workers instead of 5 (five syncs in flight, each creating its 100 pods in slow-start batches
// that wait for their slowest create, made ~350 pods/s at 5000 nodes whatever the scheduler
// could do), and `k8ts sim-nodes --count N --ready-delay 0s` (a pod goes Running and Ready in
// one status write, as kwok's default stages and a kubelet for containers without readiness
// probes; a delay would add a second write per pod). The
// pods come from M/R Deployments created at once (the saturation phase, as clusterloader2's
// density test, which also spreads them over one namespace per 100 nodes); then L more pods,
// each its own one-replica Deployment created at Q per second on the full cluster (the latency
// phase). One JSON object per line:
//  - scheduling throughput: pods/s from the first to the last binding seen by the watch, and
//    the median and maximum over the 1 s windows of PodScheduled's transition time (which the
//    server stamps, in whole seconds);
//  - pod creation throughput (first appearances in the watch per second);
//  - pod startup latency: a pod's first appearance in the watch → Running seen by the watch,
//    p50/p99, per phase (creationTimestamp has one-second resolution, too coarse for a 1 s
//    target);
//  - mutating API latency p50/p99 over the run, from the server's
//    apiserver_request_duration_seconds histogram (POST/PUT/PATCH/DELETE, before/after diff);
//  - how fast the machine is today (bench/lib/machine.ts), before the cluster starts;
//  - peak RSS (VmHWM) and CPU seconds of each process from the first Deployment on, split into
//    its event loop, the server's SQLite writer thread and its other threads (V8's garbage
//    collection and compiler helpers); the store's size on disk.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { Deployment } from "kubernetes-types/apps/v1.js";
import type { Node, Pod } from "kubernetes-types/core/v1.js";
import { machineReference } from "./lib/machine.js";
import { SharedInformerFactory } from "../src/client/informer.js";
import type { DeepReadonly } from "../src/client/objects.js";
import { createClientFromKubeconfig, type RestClient } from "../src/client/rest.js";
import { adminClient } from "../src/testing/client.js";
import { createLogger } from "../src/util/log.js";
import { K8tsProcess } from "../src/testing/process.js";
import { cpuByThread, cpuSeconds, memoryMiB, threadCpuSeconds, type ThreadTimes } from "../src/testing/proc.js";
import { WRITER_THREAD_NAME } from "../src/storage/sqlite/writer.js";

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const NODES = arg("--nodes", 1000);
const PODS = arg("--pods", 10000);
const REPLICAS = Math.min(arg("--replicas", 100), PODS);
const TIMEOUT_S = arg("--timeout", 1800);
const LATENCY_PODS = arg("--latency-pods", 200);
const LATENCY_QPS = arg("--latency-qps", 10);
const NAMESPACES = Math.max(1, Math.ceil(NODES / arg("--nodes-per-namespace", 100)));
const strArg = (name: string): string | undefined => ((i) => (i >= 0 ? process.argv[i + 1] : undefined))(process.argv.indexOf(name));


/** What the harness reads of a pod: identity, labels, node, phase and conditions. */
function narrowPod(p: Pod): Pod {
  const m = p.metadata ?? {};
  return {
    metadata: { name: m.name, namespace: m.namespace, resourceVersion: m.resourceVersion, labels: m.labels },
    spec: { nodeName: p.spec?.nodeName, containers: [] },
    status: { phase: p.status?.phase, conditions: p.status?.conditions?.map((c) => ({ type: c.type, status: c.status, lastTransitionTime: c.lastTransitionTime })) },
  };
}

/** What the harness reads of a node: its name, labels and conditions. */
function narrowNode(n: Node): Node {
  return { metadata: { name: n.metadata?.name, resourceVersion: n.metadata?.resourceVersion, labels: n.metadata?.labels }, status: { conditions: n.status?.conditions?.map((c) => ({ type: c.type, status: c.status })) } };
}
/** With --log-dir D, each process's output is also written to D/<process>.log. */
const LOG_DIR = strArg("--log-dir");
if (LOG_DIR) mkdirSync(LOG_DIR, { recursive: true });
/** With --cpu-prof D, each process writes a V8 CPU profile to D/<process>.cpuprofile when it exits. */
const PROF_DIR = strArg("--cpu-prof");
const LOG_LEVEL = process.env["K8TS_BENCH_LOG"] ?? "warn";
/** Every pod of the benchmark carries this label; its namespaces are density-0, density-1, ... */
const BENCH_LABEL = "k8ts.bench/density";
const namespaceOf = (i: number): string => `density-${i % NAMESPACES}`;

const round = (n: number, d = 1): number => Math.round(n * 10 ** d) / 10 ** d;
const emit = (o: Record<string, unknown>): void => void process.stdout.write(JSON.stringify({ bench: "density", nodes: NODES, pods: PODS, ...o }) + "\n");
const progress = (msg: string): void => void process.stderr.write(`[density ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => done(port));
    });
    s.on("error", fail);
  });
}

async function until(what: string, probe: () => Promise<boolean> | boolean, ms: number, every = 100): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/** One of the cluster's processes, the end of its output kept for error reports. */
function startProc(name: string, args: readonly string[]): K8tsProcess {
  const file = name.replace(/^k8ts /, "");
  const prof = PROF_DIR ? ["--cpu-prof", "--cpu-prof-dir", PROF_DIR, "--cpu-prof-name", `${file}.cpuprofile`] : [];
  return K8tsProcess.start(name, args, { nodeFlags: ["--max-old-space-size=8192", ...prof], logFile: LOG_DIR ? join(LOG_DIR, `${file}.log`) : undefined, keepOutput: 100_000 });
}

/** Stops a process with SIGTERM, and SIGKILL if it is still there 20 s later. */
const stopProc = (p: K8tsProcess): Promise<number | null> => p.stop("SIGTERM", 20_000);

/** VmHWM in MiB and utime+stime in s, while the process lives. */
function usage(p: K8tsProcess): { peakRssMiB: number; cpuSeconds: number } | undefined {
  try {
    const pid = p.child.pid ?? -1;
    return { peakRssMiB: round(memoryMiB(pid, "VmHWM")), cpuSeconds: round(cpuSeconds(pid)) };
  } catch {
    return undefined;
  }
}

/** Each thread's CPU seconds, while the process lives. */
function threadTimes(p: K8tsProcess): ThreadTimes | undefined {
  try {
    return threadCpuSeconds(p.child.pid ?? -1);
  } catch {
    return undefined;
  }
}

/** Cumulative bucket counts (le → count) of a histogram. */
type Buckets = Map<number, number>;

/**
 * apiserver_request_duration_seconds for mutating verbs, by `VERB resource[/subresource]`. Every
 * write is observed there, so a kind's +Inf bucket is its request count.
 */
type WriteHistograms = Map<string, Buckets>;

/** `VERB resource[/subresource]` of a metric line's labels. */
function requestKind(line: string, verb: string): string {
  const res = /resource="([^"]*)"/.exec(line)?.[1] ?? "";
  const sub = /subresource="([^"]*)"/.exec(line)?.[1] ?? "";
  return `${verb} ${res}${sub ? `/${sub}` : ""}`;
}

async function mutatingHistograms(url: string, dataDir: string): Promise<WriteHistograms> {
  const c = adminClient(url, dataDir, { maxSockets: 1 });
  try {
    // A server that has fallen over must not hang the benchmark: no answer in 30 s, no figures.
    const r = await Promise.race([c.request("GET", "/metrics"), new Promise<never>((_, fail) => setTimeout(() => fail(new Error("no /metrics answer in 30 s")), 30_000).unref())]).catch((err: unknown) => {
      progress(String(err));
      return { status: 0, headers: {}, body: "" };
    });
    const out: WriteHistograms = new Map();
    for (const line of r.body.split("\n")) {
      if (!line.startsWith("apiserver_request_duration_seconds_bucket{")) continue;
      const verb = /verb="([A-Z]+)"/.exec(line)?.[1];
      if (verb !== "POST" && verb !== "PUT" && verb !== "PATCH" && verb !== "DELETE") continue;
      const le = /le="([^"]+)"/.exec(line)?.[1];
      const bound = le === "+Inf" ? Infinity : Number(le);
      const kind = requestKind(line, verb);
      const b = out.get(kind) ?? out.set(kind, new Map()).get(kind)!;
      b.set(bound, (b.get(bound) ?? 0) + Number(line.slice(line.lastIndexOf(" ") + 1)));
    }
    return out;
  } finally {
    c.close();
  }
}

/** Every kind's buckets added up. */
function allWrites(h: WriteHistograms): Buckets {
  const sum: Buckets = new Map();
  for (const b of h.values()) for (const [le, n] of b) sum.set(le, (sum.get(le) ?? 0) + n);
  return sum;
}

/** histogram_quantile over the difference of two snapshots (linear within a bucket). */
function quantile(before: Buckets, after: Buckets, q: number): { ms: number; count: number } {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const cum = bounds.map((b) => (after.get(b) ?? 0) - (before.get(b) ?? 0));
  const total = cum.at(-1) ?? 0;
  if (total === 0) return { ms: Number.NaN, count: 0 };
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (let i = 0; i < bounds.length; i++) {
    const b = bounds[i]!;
    if (cum[i]! >= rank) {
      if (b === Infinity) return { ms: prevBound * 1000, count: total };
      const inBucket = cum[i]! - prevCount;
      const frac = inBucket > 0 ? (rank - prevCount) / inBucket : 0;
      return { ms: round((prevBound + (b - prevBound) * frac) * 1000, 2), count: total };
    }
    prevBound = b;
    prevCount = cum[i]!;
  }
  return { ms: Number.NaN, count: total };
}

/** The busiest mutating requests between two snapshots, with their counts. */
function topWrites(before: WriteHistograms, after: WriteHistograms, n = 8): Record<string, number> {
  const diff = [...after].map(([k, b]) => [k, (b.get(Infinity) ?? 0) - (before.get(k)?.get(Infinity) ?? 0)] as const).filter(([, v]) => v > 0);
  return Object.fromEntries(diff.sort((a, b) => b[1] - a[1]).slice(0, n));
}

/** p99 (ms) of each of the busiest mutating requests between two snapshots. */
function topWritesP99(before: WriteHistograms, after: WriteHistograms): Record<string, number> {
  return Object.fromEntries(Object.keys(topWrites(before, after)).map((k) => [k, quantile(before.get(k) ?? new Map(), after.get(k)!, 0.99).ms]));
}

function dirSizeMiB(dir: string, match: (name: string) => boolean): number {
  let bytes = 0;
  for (const f of readdirSync(dir)) if (match(f)) bytes += statSync(join(dir, f)).size;
  return round(bytes / 2 ** 20);
}

function deployment(name: string, namespace: string, replicas: number): Deployment {
  const labels = { app: name };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels: { ...labels, [BENCH_LABEL]: "true" } },
        spec: {
          containers: [{ name: "app", image: "busybox:1.35", command: ["sleep", "infinity"], resources: { requests: { cpu: "10m", memory: "16Mi" } } }],
          tolerations: [{ key: "kwok.x-k8s.io/node", operator: "Exists", effect: "NoSchedule" }],
        },
      },
    },
  };
}

interface PodTimes {
  readonly latencyPhase: boolean;
  seen: number;
  scheduled?: number;
  /** PodScheduled's lastTransitionTime (the server stamps it on the binding; whole seconds). */
  boundAt?: number;
  running?: number;
  ready?: number;
  node?: string;
  /** resourceVersion when first seen (orders creations as the server did). */
  rv?: string;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), "k8ts-bench-density-"));
  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  const kubeconfig = join(dataDir, "admin.kubeconfig");
  const procs: K8tsProcess[] = [];
  let client: RestClient | undefined;
  const ac = new AbortController();
  let informers: SharedInformerFactory | undefined;
  // Interrupted: the cluster's processes go too (a second signal must not cut that short).
  let interrupting = false;
  const interrupted = (): void => {
    if (interrupting) return;
    interrupting = true;
    void Promise.all(procs.map(stopProc)).finally(() => {
      rmSync(dataDir, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.on("SIGINT", interrupted);
  process.on("SIGTERM", interrupted);
  try {
    // Before anything of the cluster runs: how fast this machine is today.
    emit({ metric: "machine", ...machineReference() });
    const server = startProc("k8ts server", ["server", "--data-dir", dataDir, "--port", String(port), "--disable-controllers", "--disable-scheduler", "--disable-agent", "--disable-addons", "--max-requests-inflight", "2000", "--max-mutating-requests-inflight", "1000", "--log-level", LOG_LEVEL]);
    procs.push(server);
    await server.ready("k8ts server ready", 60_000);
    const manager = startProc("k8ts controller-manager", ["controller-manager", "--kubeconfig", kubeconfig, "--secure-port", "0", "--leader-elect=false", "--kube-api-qps", "2000", "--kube-api-burst", "2000", "--concurrent-replicaset-syncs", "25", "--log-level", LOG_LEVEL]);
    const scheduler = startProc("k8ts scheduler", ["scheduler", "--kubeconfig", kubeconfig, "--secure-port", "0", "--leader-elect=false", "--kube-api-qps", "5000", "--kube-api-burst", "5000", "--log-level", LOG_LEVEL]);
    procs.push(manager, scheduler);
    await manager.ready("k8ts controller-manager started", 60_000);
    await scheduler.ready("k8ts scheduler started", 60_000);

    client = await createClientFromKubeconfig(kubeconfig, { qps: Infinity });
    for (let i = 0; i < NAMESPACES; i++) await client.forKind("v1", "Namespace").create({ metadata: { name: namespaceOf(i) } });
    // The harness shares the machine with what it measures: its caches keep only what it reads.
    informers = new SharedInformerFactory({ client, log: createLogger("info"), transform: (n) => narrowNode(n as Node), omitManagedFields: true });
    const nodes = informers.forKind("v1", "Node");
    const podsInf = new SharedInformerFactory({ client, log: createLogger("info"), selectors: { labelSelector: BENCH_LABEL }, transform: (p) => narrowPod(p as Pod), omitManagedFields: true }).forKind("v1", "Pod");

    const t0Nodes = performance.now();
    const sim = startProc("k8ts sim-nodes", ["sim-nodes", "--kubeconfig", kubeconfig, "--count", String(NODES), "--ready-delay", "0s", "--log-level", LOG_LEVEL]);
    procs.push(sim);
    informers.start(ac.signal);
    await sim.ready("k8ts sim-nodes ready", 600_000);
    const isReady = (n: DeepReadonly<Node>): boolean => n.metadata?.labels?.["type"] === "kwok" && (n.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
    await until(`${NODES} Ready nodes`, () => nodes.lister.list().filter(isReady).length >= NODES, 600_000, 500);
    emit({ metric: "nodes_registered", seconds: round((performance.now() - t0Nodes) / 1000) });

    const times = new Map<string, PodTimes>();
    let scheduledCount = 0;
    let runningCount = 0;
    let readyCount = 0;
    const observe = (p: DeepReadonly<Pod>): void => {
      const key = `${p.metadata?.namespace ?? ""}/${p.metadata?.name ?? ""}`;
      const now = performance.now();
      let t = times.get(key);
      if (!t) times.set(key, (t = { seen: now, latencyPhase: (p.metadata?.labels?.["app"] ?? "").startsWith("latency-"), ...(p.metadata?.resourceVersion ? { rv: p.metadata.resourceVersion } : {}) }));
      if (t.node === undefined && p.spec?.nodeName) t.node = p.spec.nodeName;
      const bound = (p.status?.conditions ?? []).find((c) => c.type === "PodScheduled" && c.status === "True");
      if (t.scheduled === undefined && bound) {
        t.scheduled = now;
        t.boundAt = Date.parse(bound.lastTransitionTime ?? "");
        scheduledCount++;
      }
      if (t.running === undefined && p.status?.phase === "Running") {
        t.running = now;
        runningCount++;
      }
      if (t.ready === undefined && (p.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True")) {
        t.ready = now;
        readyCount++;
      }
    };
    podsInf.addEventHandler({ onAdd: observe, onUpdate: (_o, p) => observe(p) });
    const podsRun = podsInf.run(ac.signal);
    await podsInf.waitForSync(ac.signal);

    const before = await mutatingHistograms(url, dataDir);
    const cpuBefore = new Map(procs.map((p) => [p.name, usage(p)?.cpuSeconds ?? 0]));
    const threadsBefore = new Map(procs.map((p) => [p.name, threadTimes(p)]));
    const t0 = performance.now();
    const deployments = client.forKind("apps/v1", "Deployment");
    const count = Math.ceil(PODS / REPLICAS);
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < count) {
          const i = next++;
          await deployments.namespace(namespaceOf(i)).create(deployment(`density-${i}`, namespaceOf(i), i === count - 1 ? PODS - REPLICAS * (count - 1) : REPLICAS));
        }
      }),
    );
    progress(`${count} deployments in ${NAMESPACES} namespaces created in ${round((performance.now() - t0) / 1000)} s`);
    let complete = true;
    let lastReport = performance.now();
    try {
      await until(
        `${PODS} pods Running`,
        () => {
          if (performance.now() - lastReport > 10_000) {
            lastReport = performance.now();
            progress(`pods seen ${times.size}, scheduled ${scheduledCount}, running ${runningCount}`);
            for (const p of procs) if (!p.running) throw new Error(`${p.name} died:\n${p.tail(2000)}`);
          }
          return runningCount >= PODS;
        },
        TIMEOUT_S * 1000,
        200,
      );
    } catch (err) {
      complete = false;
      progress(String(err));
    }
    const elapsed = (performance.now() - t0) / 1000;
    const after = await mutatingHistograms(url, dataDir);
    const saturation = [...times.values()];

    let latencyComplete = complete;
    let afterLatency = after;
    let latencyBase = after;
    if (complete && LATENCY_PODS > 0) {
      // As clusterloader2: latency pods go onto a cluster whose saturation pods are all up (Ready).
      await until(`${PODS} pods Ready`, () => readyCount >= PODS, TIMEOUT_S * 1000, 200).catch((err: unknown) => progress(String(err)));
      progress(`latency phase: ${LATENCY_PODS} one-replica Deployments at ${LATENCY_QPS}/s`);
      latencyBase = await mutatingHistograms(url, dataDir);
      const l0 = performance.now();
      for (let i = 0; i < LATENCY_PODS; i++) {
        const due = l0 + (i * 1000) / LATENCY_QPS;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        await deployments.namespace(namespaceOf(i)).create(deployment(`latency-${i}`, namespaceOf(i), 1));
      }
      try {
        await until(`${LATENCY_PODS} latency pods Running`, () => [...times.values()].filter((t) => t.latencyPhase && t.running !== undefined).length >= LATENCY_PODS, 300_000, 200);
      } catch (err) {
        latencyComplete = false;
        progress(String(err));
      }
      afterLatency = await mutatingHistograms(url, dataDir);
    }

    const seen = saturation.map((t) => t.seen).sort((a, b) => a - b);
    emit({ metric: "pod_creation_throughput", created: seen.length, seconds: round(((seen.at(-1) ?? 0) - (seen[0] ?? 0)) / 1000, 2), avgPodsPerSecond: round(seen.length / Math.max(0.001, ((seen.at(-1) ?? 0) - (seen[0] ?? 0)) / 1000)) });
    // Bindings per wall-clock second, from the PodScheduled transition times the server wrote:
    // a watch that falls behind and re-lists would otherwise see thousands "at once".
    const sched = saturation.flatMap((t) => (t.boundAt !== undefined && !Number.isNaN(t.boundAt) ? [t.boundAt] : [])).sort((a, b) => a - b);
    const first = sched[0] ?? 0;
    const last = sched.at(-1) ?? 0;
    const windows = new Array<number>(Math.round((last - first) / 1000) + 1).fill(0);
    for (const s of sched) windows[Math.round((s - first) / 1000)]!++;
    const sortedWindows = [...windows].sort((a, b) => a - b);
    // The average over the span in which the watch saw the bindings (millisecond clock): the
    // server's transition times have whole seconds, and counting their windows added up to a
    // second to the span (7 % at 10,000 pods). A watch that lags only lengthens this span.
    const observed = saturation.flatMap((t) => (t.scheduled !== undefined ? [t.scheduled] : [])).sort((a, b) => a - b);
    const span = Math.max(0.001, ((observed.at(-1) ?? 0) - (observed[0] ?? 0)) / 1000);
    emit({
      metric: "scheduling_throughput",
      complete,
      scheduled: sched.length,
      seconds: round(span, 2),
      avgPodsPerSecond: round(observed.length / span),
      windows: windows.length,
      p50PodsPerSecond: percentile(sortedWindows, 0.5),
      maxPodsPerSecond: sortedWindows.at(-1) ?? 0,
    });
    const latencies = (ts: readonly PodTimes[]): number[] => ts.flatMap((t) => (t.running !== undefined ? [t.running - t.seen] : [])).sort((a, b) => a - b);
    const startup = latencies(saturation);
    // Which side a slow start is on: waiting to be scheduled, or waiting for the (simulated) kubelet.
    const toSched = (ts: readonly PodTimes[]): number[] => ts.flatMap((t) => (t.scheduled !== undefined ? [t.scheduled - t.seen] : [])).sort((a, b) => a - b);
    const schedToRun = (ts: readonly PodTimes[]): number[] => ts.flatMap((t) => (t.scheduled !== undefined && t.running !== undefined ? [t.running - t.scheduled] : [])).sort((a, b) => a - b);
    const satToScheduled = toSched(saturation);
    const satToRunning = schedToRun(saturation);
    const slowest = saturation.filter((t) => t.running !== undefined).sort((a, b) => b.running! - b.seen - (a.running! - a.seen)).slice(0, Math.max(1, Math.ceil(startup.length / 100)));
    const slowSched = toSched(slowest);
    const slowRun = schedToRun(slowest);
    emit({
      metric: "pod_startup_latency",
      phase: "saturation",
      complete,
      running: startup.length,
      p50Ms: round(percentile(startup, 0.5)),
      p90Ms: round(percentile(startup, 0.9)),
      p99Ms: round(percentile(startup, 0.99)),
      totalSeconds: round(elapsed),
      scheduledP50Ms: round(percentile(satToScheduled, 0.5)),
      scheduledP99Ms: round(percentile(satToScheduled, 0.99)),
      scheduledToRunningP50Ms: round(percentile(satToRunning, 0.5)),
      scheduledToRunningP99Ms: round(percentile(satToRunning, 0.99)),
      slowest1pct: { pods: slowest.length, scheduledP50Ms: round(percentile(slowSched, 0.5)), scheduledToRunningP50Ms: round(percentile(slowRun, 0.5)) },
    });
    if (LOG_DIR) {
      // Per-pod timeline (ms from the first Deployment's creation) for digging into the tail.
      const rows = [...times].map(([k, t]) => [k, t.rv ?? "", round(t.seen - t0), t.scheduled === undefined ? null : round(t.scheduled - t0), t.boundAt ?? null, t.running === undefined ? null : round(t.running - t0), t.node ?? ""]);
      writeFileSync(join(LOG_DIR, "timeline.json"), JSON.stringify({ t0EpochMs: Math.round(performance.timeOrigin + t0), columns: ["pod", "rv", "seen", "scheduled", "boundAtEpochMs", "running", "node"], rows }));
    }
    if (LATENCY_PODS > 0 && complete) {
      const lt = [...times.values()].filter((t) => t.latencyPhase);
      const l = latencies(lt);
      // Where the time goes: waiting to be scheduled, then waiting for the (simulated) kubelet.
      const toScheduled = lt.flatMap((t) => (t.scheduled !== undefined ? [t.scheduled - t.seen] : [])).sort((a, b) => a - b);
      const toRunning = lt.flatMap((t) => (t.scheduled !== undefined && t.running !== undefined ? [t.running - t.scheduled] : [])).sort((a, b) => a - b);
      emit({
        metric: "pod_startup_latency",
        phase: "latency",
        podsPerSecond: LATENCY_QPS,
        complete: latencyComplete,
        running: l.length,
        p50Ms: round(percentile(l, 0.5)),
        p90Ms: round(percentile(l, 0.9)),
        p99Ms: round(percentile(l, 0.99)),
        scheduledP50Ms: round(percentile(toScheduled, 0.5)),
        scheduledP99Ms: round(percentile(toScheduled, 0.99)),
        scheduledToRunningP50Ms: round(percentile(toRunning, 0.5)),
        scheduledToRunningP99Ms: round(percentile(toRunning, 0.99)),
      });
    }
    const p50 = quantile(allWrites(before), allWrites(after), 0.5);
    const p99 = quantile(allWrites(before), allWrites(after), 0.99);
    emit({ metric: "mutating_api_latency", phase: "saturation", requests: p99.count, requestsPerSecond: round(p99.count / elapsed), p50Ms: p50.ms, p99Ms: p99.ms, top: topWrites(before, after), p99MsByRequest: topWritesP99(before, after) });
    if (afterLatency !== after) {
      const l50 = quantile(allWrites(latencyBase), allWrites(afterLatency), 0.5);
      const l99 = quantile(allWrites(latencyBase), allWrites(afterLatency), 0.99);
      emit({ metric: "mutating_api_latency", phase: "latency", requests: l99.count, p50Ms: l50.ms, p99Ms: l99.ms, top: topWrites(latencyBase, afterLatency), p99MsByRequest: topWritesP99(latencyBase, afterLatency) });
    }
    const own = process.cpuUsage();
    emit({
      metric: "processes",
      "density-bench": { peakRssMiB: round(process.resourceUsage().maxRSS / 1024), cpuSeconds: round((own.user + own.system) / 1e6) },
      ...Object.fromEntries(
        procs.map((p) => {
          const u = usage(p);
          const before = threadsBefore.get(p.name);
          const after = threadTimes(p);
          const split = before && after ? cpuByThread(p.child.pid ?? -1, before, after, WRITER_THREAD_NAME) : undefined;
          return [
            p.name.replace(/^k8ts /, ""),
            {
              peakRssMiB: u?.peakRssMiB ?? null,
              cpuSecondsDuringRun: u ? round(u.cpuSeconds - (cpuBefore.get(p.name) ?? 0)) : null,
              // Of which: the event loop, the SQLite writer (the server's), and V8's helpers and the rest.
              ...(split ? { eventLoopCpuSeconds: round(split.main), ...(split.named > 0 ? { sqliteWriterCpuSeconds: round(split.named) } : {}), otherThreadsCpuSeconds: round(split.other) } : {}),
            },
          ];
        }),
      ),
    });
    emit({ metric: "store_size", mib: dirSizeMiB(dataDir, (f) => f.startsWith("state.db")) });
    ac.abort();
    await podsRun;
  } finally {
    ac.abort();
    await informers?.shutdown();
    client?.close();
    for (const p of [...procs].reverse()) await stopProc(p);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
