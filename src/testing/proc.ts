// What /proc says about a process the benchmarks started: CPU time (utime + stime) of the
// process or of each of its threads, and its memory.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second, the unit of /proc's CPU times. */
const TICKS = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

/** utime + stime in seconds from a /proc stat line. */
function statCpuSeconds(stat: string): number {
  // Fields after the parenthesized command name (which may hold spaces); utime and stime are fields 14 and 15.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(rest[11]) + Number(rest[12])) / TICKS;
}

/** CPU seconds (user + system) a process has used, all its threads together. */
export function cpuSeconds(pid: number): number {
  return statCpuSeconds(readFileSync(`/proc/${pid}/stat`, "utf8"));
}

/** Each thread of a process by thread id (the main thread's is the pid): its name and CPU seconds; threads that ended are missing. */
export function threadCpuSeconds(pid: number): ThreadTimes {
  const out = new Map<number, { name: string; seconds: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      out.set(Number(tid), { name: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")), seconds: statCpuSeconds(stat) });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

export type ThreadTimes = Map<number, { readonly name: string; readonly seconds: number }>;

/**
 * CPU seconds a process used between two threadCpuSeconds readings, by kind of thread: its
 * main thread (a node process's event loop), the threads named `named` (e.g. the SQLite
 * writer), and the rest (V8's garbage-collection and compiler helpers, libuv's pool).
 */
export function cpuByThread(pid: number, before: ThreadTimes, after: ThreadTimes, named: string): { readonly main: number; readonly named: number; readonly other: number } {
  let main = 0;
  let namedSeconds = 0;
  let other = 0;
  for (const [tid, t] of after) {
    const used = t.seconds - (before.get(tid)?.seconds ?? 0);
    if (tid === pid) main += used;
    else if (t.name === named) namedSeconds += used;
    else other += used;
  }
  return { main, named: namedSeconds, other };
}

/** A line of /proc/PID/status in MiB (VmHWM: peak resident, VmRSS: resident now). */
export function memoryMiB(pid: number, field: "VmHWM" | "VmRSS"): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}
