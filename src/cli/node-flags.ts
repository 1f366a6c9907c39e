// V8 flags for k8ts's long-running processes, which V8 reads only when the process starts: they
// go on the node command line of every process k8ts, its tests and its benchmarks start
// (k8tsNodeArgs), and in bin/k8ts's #! line.
//
// A control-plane process allocates many short-lived objects per request and per watch event
// (parsed JSON, copies, responses). With V8's default young generation (16 MiB semi-spaces) a
// busy process collects it every few milliseconds, and objects that in-flight requests still
// hold survive two collections, get promoted, and are paid for again by full collections.
// 32 MiB semi-spaces (the space grows to that only when the process allocates that fast), on
// `npm run bench -- density` (1000 nodes / 10000 pods), two alternating pairs: CPU over the four
// processes 37.2 and 34.4 → 32.3 and 33.5 s, busiest-second throughput (p50 of 1 s windows) 698
// and 798 → 809 and 826 pods/s, peak RSS +0-45 MiB per process.
import { fileURLToPath } from "node:url";
export const COMPONENT_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=32"];

/** bin/k8ts, the one CLI (from dist/src/cli/). */
export const K8TS_BIN = fileURLToPath(new URL("../../../bin/k8ts", import.meta.url));

/** The arguments of `node` that run `k8ts <args>` as a long-running process: the flags, bin/k8ts, the args. */
export function k8tsNodeArgs(args: readonly string[]): string[] {
  return [...COMPONENT_NODE_FLAGS, K8TS_BIN, ...args];
}
