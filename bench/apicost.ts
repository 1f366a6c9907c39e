// What a request costs the API server in CPU: `npm run bench -- apicost [--pods N]
// [--in-flight N] [--only lease|pod] [--cpu-prof DIR]`. One JSON object per line, per workload: the server
// process's CPU time per operation (utime + stime from /proc, every thread: the event loop, the
// SQLite writer thread, and the rest — V8's garbage-collection and compiler helpers), and
// operations per second. It says where a request's CPU goes, thread by thread; on a shared
// machine it moves between runs too (the pod workload by ±15 %, and by several times when the
// machine is busy), so compare code changes in alternating runs, or count instructions instead
// (`npm run bench -- instructions`).
//
// The workloads (bench/lib/apiworkloads.ts): get, the baseline (the others are also given in
// GETs, perGet), lease and pod; 32 requests in flight unless `--in-flight N`. Each runs once to
// warm up (V8 compiles the hot code in its first seconds) and once measured.
import { performance } from "node:perf_hooks";
import { cpuByThread, threadCpuSeconds } from "../src/testing/proc.js";
import { WRITER_THREAD_NAME } from "../src/storage/sqlite/writer.js";
import { drive, prepareWorkload, startBenchServer, POD_WATCHERS, type Op } from "./lib/apiworkloads.js";
import { machineReference } from "./lib/machine.js";

const arg = (name: string, fallback: number): number => Number(process.argv[process.argv.indexOf(name) + 1] || 0) || fallback;
const PODS = arg("--pods", 8000);
const IN_FLIGHT = arg("--in-flight", 32);
/** `--only lease|pod`: that workload alone (and get, the baseline). */
const ONLY = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : undefined;
/** `--cpu-prof DIR`: the server writes a V8 CPU profile of the whole run there when it stops. */
const CPU_PROF = process.argv.includes("--cpu-prof") ? process.argv[process.argv.indexOf("--cpu-prof") + 1] : undefined;
const round = (n: number, d = 1): number => Math.round(n * 10 ** d) / 10 ** d;
const emit = (o: Record<string, unknown>): void => void process.stdout.write(JSON.stringify({ bench: "apicost", ...o }) + "\n");

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
async function measure(pid: number, n: number, op: Op): Promise<Cost> {
  await drive(n, IN_FLIGHT, op);
  const before = threadCpuSeconds(pid);
  const started = performance.now();
  await drive(n, IN_FLIGHT, (i, worker) => op(n + i, worker));
  const seconds = (performance.now() - started) / 1000;
  const { main, named: writer, other } = cpuByThread(pid, before, threadCpuSeconds(pid), WRITER_THREAD_NAME);
  const us = (s: number): number => round((s * 1e6) / n);
  return { ops: n, opsPerSec: Math.round(n / seconds), cpuUs: us(main + writer + other), mainThreadUs: us(main), sqliteWriterUs: us(writer), otherThreadsUs: us(other) };
}

async function main(): Promise<void> {
  emit({ workload: "machine", ...machineReference() });
  const server = await startBenchServer(IN_FLIGHT, CPU_PROF ? { nodeFlags: ["--cpu-prof", "--cpu-prof-dir", CPU_PROF] } : {});
  try {
    const pid = server.process.child.pid!;
    const get = await measure(pid, PODS * 3, (await prepareWorkload("get", server.client, IN_FLIGHT)).op);
    emit({ workload: "get", ...get });
    const perGet = (c: Cost): { cpu: number } => ({ cpu: round(c.cpuUs / get.cpuUs, 2) });
    if (!ONLY || ONLY === "lease") {
      const lease = await measure(pid, PODS * 3, (await prepareWorkload("lease", server.client, IN_FLIGHT)).op);
      emit({ workload: "lease", ...lease, perGet: perGet(lease) });
    }
    if (!ONLY || ONLY === "pod") {
      const w = await prepareWorkload("pod", server.client, IN_FLIGHT);
      try {
        const life = await measure(pid, PODS, w.op);
        emit({ workload: "pod", writes: 3, watchers: POD_WATCHERS, inFlight: IN_FLIGHT, ...life, perGet: perGet(life), watchEventsSeen: w.events() });
      } finally {
        w.close();
      }
    }
  } finally {
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
