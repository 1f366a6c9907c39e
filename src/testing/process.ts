// `bin/k8ts <command>` as a child process of a test or a benchmark: its output kept for failure
// messages (all of it, or the end of a long run's), copied to a log file if asked, ready when a
// line it prints appears, stopped (and waited for) on demand.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { k8tsNodeArgs } from "../cli/node-flags.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export { K8TS_BIN as K8TS_CLI } from "../cli/node-flags.js";

export interface K8tsProcessOptions {
  /** `node` flags before k8ts's own (a heap limit, `--cpu-prof`), read only when the process starts. */
  readonly nodeFlags?: readonly string[];
  /** A command that runs node, with its own arguments before node's (`["valgrind", "--tool=cachegrind"]`). */
  readonly wrapper?: readonly string[];
  /** Appends stdout and stderr, as they arrive, to this file. */
  readonly logFile?: string;
  /** Keeps the last keepOutput to 2 × keepOutput characters of stdout and of stderr instead of all (a long run's logs). */
  readonly keepOutput?: number;
}

export class K8tsProcess {
  out = "";
  err = "";
  readonly exited: Promise<number | null>;
  /** `ready` calls still waiting: each sees every stdout chunk (and where it starts) before a bounded `out` is cut. */
  private readonly waiting = new Set<(out: string, from: number) => void>();

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    { logFile, keepOutput = Infinity }: K8tsProcessOptions,
  ) {
    const file = logFile === undefined ? undefined : createWriteStream(logFile, { flags: "a" });
    // Cut only at twice the bound: one slice per keepOutput characters, not one per chunk.
    const trim = (s: string): string => (s.length > 2 * keepOutput ? s.slice(-keepOutput) : s);
    child.stdout?.setEncoding("utf8").on("data", (c: string) => {
      file?.write(c);
      const from = this.out.length;
      this.out += c;
      for (const w of this.waiting) w(this.out, from);
      this.out = trim(this.out);
    });
    child.stderr?.setEncoding("utf8").on("data", (c: string) => {
      file?.write(c);
      this.err = trim(this.err + c);
    });
    // "close", not "exit": output may still arrive after the process exited.
    child.once("close", () => file?.end());
    this.exited = new Promise((r) => child.once("exit", (code) => r(code)));
  }

  /** Starts `k8ts ...args`; `name` is what failure messages call it. */
  static start(name: string, args: readonly string[], options: K8tsProcessOptions = {}): K8tsProcess {
    const node = [process.execPath, ...(options.nodeFlags ?? []), ...k8tsNodeArgs(args)];
    const [command, ...rest] = [...(options.wrapper ?? []), ...node];
    const child = spawn(command!, rest, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    return new K8tsProcess(name, child, options);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The end of its stderr, where k8ts logs and node prints a crash. */
  tail(chars = 4000): string {
    return this.err.slice(-chars);
  }

  /**
   * Waits until the process printed `marker` on stdout; fails at once if it exits first. With
   * keepOutput, a marker printed before the call is found while it is among the kept output;
   * one printed while waiting is found whatever follows it.
   */
  async ready(marker: string, ms = 30_000): Promise<void> {
    if (this.out.includes(marker)) return;
    if (!this.running) throw new Error(`${this.name} exited: ${this.tail()}`);
    let found = (): void => {};
    const seen = (out: string, from: number): void => {
      if (out.includes(marker, Math.max(0, from - marker.length))) found();
    };
    let timer: NodeJS.Timeout | undefined;
    this.waiting.add(seen);
    try {
      await Promise.race([
        new Promise<void>((r) => (found = r)),
        this.exited.then(() => Promise.reject(new Error(`${this.name} exited: ${this.tail()}`))),
        new Promise<never>((_, fail) => (timer = setTimeout(() => fail(new Error(`timed out waiting for ${this.name} to be ready`)), ms))),
      ]);
    } finally {
      this.waiting.delete(seen);
      clearTimeout(timer);
    }
  }

  /** Sends `signal` and waits for the exit; with killAfterMs, SIGKILL if it has not exited by then. */
  async stop(signal: NodeJS.Signals = "SIGTERM", killAfterMs?: number): Promise<number | null> {
    if (!this.running) return this.exited;
    this.child.kill(signal);
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => this.child.kill("SIGKILL"), killAfterMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The processes a suite started, stopped together, the last started first. */
export class K8tsProcesses {
  private readonly all: K8tsProcess[] = [];

  /** Starts `k8ts ...args` and waits for `marker` on its stdout. */
  async start(name: string, args: readonly string[], marker: string): Promise<K8tsProcess> {
    const p = K8tsProcess.start(name, args);
    this.all.push(p);
    await p.ready(marker);
    return p;
  }

  /** `k8ts sim-nodes` with one node named `<prefix>0`, pods Running and Ready at once. */
  simNodes(kubeconfig: string, prefix: string, logLevel: string): Promise<K8tsProcess> {
    return this.start(`sim-nodes ${prefix}`, ["sim-nodes", "--kubeconfig", kubeconfig, "--count", "1", "--name-prefix", prefix, "--ready-delay", "0s", "--log-level", logLevel], "sim-nodes ready");
  }

  async stopAll(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    for (const p of this.all.splice(0).reverse()) await p.stop(signal);
  }
}
