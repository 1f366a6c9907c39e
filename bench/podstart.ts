// Pod start benchmark: `npm run bench -- podstart [--pods 30]`.
// A fresh single-node cluster (`k8ts server` with its embedded agent, containerd, runc, CNI;
// the built-in busybox image present). Prints JSON lines:
//  - baseline: a raw `runc run` of /bin/true from the same busybox files, measured in this run;
//  - podstart: N pods created at once through the API (scheduled, then started by the node),
//    create → Running as observed by a watch, p50/p99/max;
//  - idle: RSS of the server process (API server, controllers, scheduler, agent) and of its
//    containerd, once the node is idle;
//  - up: the time from starting `k8ts server` on existing state to the node Ready (what
//    `npm run up` waits for once packages are installed and state is present).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { Pod } from "kubernetes-types/core/v1.js";
import { startTestCluster } from "../src/testing/cluster.js";
import { measureRawRunc, runtimeSkipReason } from "../src/testing/runtime.js";
import { until } from "../src/testing/wait.js";

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const PODS = arg("--pods", 30);
const round = (n: number, d = 1): number => Math.round(n * 10 ** d) / 10 ** d;
const emit = (o: Record<string, unknown>): void => void process.stdout.write(JSON.stringify({ bench: "podstart", ...o }) + "\n");

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

function rssMiB(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? round(Number(m[1]) / 1024) : Number.NaN;
}

async function main(): Promise<void> {
  const skip = runtimeSkipReason();
  if (skip) {
    emit({ skipped: skip });
    return;
  }
  const raw = await measureRawRunc(5);
  emit({ phase: "baseline", what: "raw runc run of /bin/true", medianMs: round(raw.medianMs), runsMs: raw.runsMs.map((x) => round(x)) });

  const c = await startTestCluster();
  const stopOnSignal = (): void => void c.stop().finally(() => process.exit(130));
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);
  try {
    const pods = c.client.forKind("v1", "Pod").namespace("default");
    // One pod first: the image and the pod network are warm for the measured batch, as on a node that already ran something.
    await pods.create({ apiVersion: "v1", kind: "Pod", metadata: { name: "warmup" }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: "c", image: "busybox:1.35", command: ["sleep", "3600"] }] } } as Pod);
    await until("warmup running", async () => ((await pods.get("warmup")) as Pod).status?.phase === "Running" || undefined, 60_000, 50);

    const created = new Map<string, number>();
    const running = new Map<string, number>();
    const watch = await pods.watch({ labelSelector: "bench=podstart" });
    const watching = (async () => {
      for await (const ev of watch) {
        if (ev.type === "ERROR" || ev.type === "BOOKMARK") continue;
        const p = ev.object as Pod;
        const name = p.metadata?.name ?? "";
        if (p.status?.phase === "Running" && !running.has(name)) running.set(name, performance.now());
        if (running.size === PODS) break;
      }
    })();
    await Promise.all(
      Array.from({ length: PODS }, async (_, i) => {
        const name = `pod-${i}`;
        created.set(name, performance.now());
        await pods.create({ apiVersion: "v1", kind: "Pod", metadata: { name, labels: { bench: "podstart" } }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: "c", image: "busybox:1.35", command: ["sleep", "3600"] }] } } as Pod);
      }),
    );
    await until(`${PODS} pods Running`, () => (running.size >= PODS ? true : undefined), 180_000, 50);
    watch.stop();
    await watching.catch(() => undefined);
    const lat = [...running].map(([n, t]) => t - created.get(n)!).sort((a, b) => a - b);
    emit({ phase: "podstart", pods: PODS, p50Ms: round(quantile(lat, 0.5)), p99Ms: round(quantile(lat, 0.99)), maxMs: round(lat[lat.length - 1]!), baselineRuncMedianMs: round(raw.medianMs), ratioP50: round(quantile(lat, 0.5) / raw.medianMs, 2), targetP50Ms: 300, targetP99Ms: 1000 });

    await pods.deleteCollection({ labelSelector: "bench=podstart" }).catch(() => undefined);
    await pods.delete("warmup").catch(() => undefined);
    await until("pods gone", async () => ((await pods.list()).items.length === 0 ? true : undefined), 120_000, 200);
    // Idle: nothing scheduled, a few heartbeats passed.
    await new Promise((r) => setTimeout(r, 5000));
    const containerdPid = Number(readFileSync(join(c.dataDir, "agent", "containerd", "containerd.pid"), "utf8").trim());
    const server = rssMiB(c.pid());
    const containerd = rssMiB(containerdPid);
    emit({ phase: "idle", serverRssMiB: server, containerdRssMiB: containerd, totalMiB: round(server + containerd), targetMiB: 150 });

    const r = await c.restart();
    emit({ phase: "up", what: "k8ts server started on existing state → node Ready", ms: round(r.startMs), stopMs: round(r.stopMs), targetMs: 3000 });
  } finally {
    await c.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`podstart: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
