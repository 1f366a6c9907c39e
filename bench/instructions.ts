// Instructions the API server executes per request: `npm run bench -- instructions
// [--workloads get,lease,pod] [--in-flight N] [--watchers N] [--scale F]`. The same workloads as `apicost`
// (bench/lib/apiworkloads.ts), counted by valgrind (cachegrind without its cache simulation)
// over the whole server process, every thread: the event loop, the SQLite writer, V8's
// garbage-collection and compiler helpers. Where CPU time moves with whatever else the machine
// does (by tens of percent from minute to minute, by several times on a busy day), an
// instruction count of the same code and inputs moves by about 1 %: this is the figure to
// compare code changes with. It is not time: a cache miss or a system call costs more than its
// few instructions, so confirm a change that matters with `apicost` or `density` too.
//
// Per workload, two servers run side by side under valgrind (one core each), one given `small`
// operations and the other `large` (×4); the difference of their totals over the difference of
// operations is the count per operation, so the start, the first compiles and the shutdown
// cancel out. One JSON line per workload. Under valgrind the server runs ~50× slower: the whole
// run takes several minutes.
import { spawnSync } from "node:child_process";
import { drive, prepareWorkload, startBenchServer, POD_WATCHERS, WORKLOADS, type WorkloadName } from "./lib/apiworkloads.js";

const value = (name: string): string | undefined => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const IN_FLIGHT = Number(value("--in-flight") ?? 32);
const SCALE = Number(value("--scale") ?? 1);
/** Watches of all pods open during the pod workload (4: the density benchmark's). */
const WATCHERS = Number(value("--watchers") ?? POD_WATCHERS);
const workloads = (value("--workloads") ?? WORKLOADS.join(",")).split(",") as WorkloadName[];
/** Operations of the smaller run; the larger does four times as many. */
const SMALL: Record<WorkloadName, number> = { get: 1000, lease: 1000, pod: 200 };
const VALGRIND = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null", "--smc-check=all-non-file", "--fair-sched=yes"];
const emit = (o: Record<string, unknown>): void => void process.stdout.write(JSON.stringify({ bench: "instructions", ...o }) + "\n");

/** The server's instructions, start to exit, with `n` operations of `name` in between. */
async function countedRun(name: WorkloadName, n: number): Promise<number> {
  const server = await startBenchServer(IN_FLIGHT, { wrapper: VALGRIND, readyTimeoutMs: 600_000 });
  let stopped = false;
  try {
    const w = await prepareWorkload(name, server.client, IN_FLIGHT, WATCHERS);
    await drive(n, IN_FLIGHT, w.op);
    w.close();
    await server.stop();
    stopped = true;
    const m = /I\s+refs:\s+([\d,]+)/.exec(server.process.err);
    if (!m) throw new Error(`valgrind printed no instruction count:\n${server.process.tail()}`);
    return Number(m[1]!.replaceAll(",", ""));
  } finally {
    if (!stopped) await server.stop();
  }
}

async function main(): Promise<void> {
  if (spawnSync("valgrind", ["--version"]).status !== 0) {
    console.error("instructions: valgrind is not installed (apt-get install valgrind)");
    process.exit(1);
  }
  for (const name of workloads) {
    if (!WORKLOADS.includes(name)) throw new Error(`unknown workload ${JSON.stringify(name)}; known: ${WORKLOADS.join(", ")}`);
    const small = Math.max(1, Math.round(SMALL[name] * SCALE));
    const large = 4 * small;
    const [a, b] = await Promise.all([countedRun(name, small), countedRun(name, large)]);
    emit({ workload: name, inFlight: IN_FLIGHT, ...(name === "pod" ? { watchers: WATCHERS } : {}), ops: [small, large], instructions: [a, b], millionsPerOp: Math.round((b - a) / (large - small) / 1e4) / 100 });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
