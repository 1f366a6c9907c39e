// `bin/k8ts <command>` as a child process of a test: its output kept for failure messages,
// ready when a line it prints appears, stopped (and waited for) on demand.
import { spawn, type ChildProcess } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { k8tsNodeArgs } from "../cli/node-flags.js";
import { until } from "./wait.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export { K8TS_BIN as K8TS_CLI } from "../cli/node-flags.js";

export class K8tsProcess {
  out = "";
  err = "";
  readonly exited: Promise<number | null>;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    child.stdout?.on("data", (c: Buffer) => (this.out += c.toString()));
    child.stderr?.on("data", (c: Buffer) => (this.err += c.toString()));
    this.exited = new Promise((r) => child.once("exit", (code) => r(code)));
  }

  /** Starts `k8ts ...args`; `name` is what failure messages call it. */
  static start(name: string, args: readonly string[]): K8tsProcess {
    return new K8tsProcess(name, spawn(process.execPath, k8tsNodeArgs(args), { cwd: root, stdio: ["ignore", "pipe", "pipe"] }));
  }

  /** Waits until the process printed `marker` on stdout; fails at once if it exits first. */
  async ready(marker: string, ms = 30_000): Promise<void> {
    await until(`${this.name} to be ready`, () => (this.out.includes(marker) ? true : this.child.exitCode !== null ? Promise.reject(new Error(`${this.name} exited: ${this.err}`)) : undefined), ms);
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
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
