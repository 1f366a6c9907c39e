// Running iptables/nft: one child process per call, input on stdin, inside a network namespace
// when asked (`ip netns exec NS ...`), so tests and benchmarks never touch the host's tables.
import { spawn } from "node:child_process";
import { ProxyError } from "./model.js";

export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `argv` (in `netns` when given); rejects with ProxyError CommandFailed on a non-zero exit. */
export type CommandRunner = (argv: readonly string[], stdin?: string) => Promise<CommandResult>;

export function commandRunner(netns: string | undefined): CommandRunner {
  return (argv, stdin) => run(netns ? ["ip", "netns", "exec", netns, ...argv] : argv, stdin);
}

function run(argv: readonly string[], stdin: string | undefined): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv;
    const child = spawn(cmd!, args, { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) => reject(new ProxyError("CommandFailed", `${argv.join(" ")}: ${e.message}`, { cause: e })));
    child.on("close", (code, signal) => {
      const stdout = Buffer.concat(out).toString("utf8");
      const stderr = Buffer.concat(err).toString("utf8");
      if (code === 0) resolve({ stdout, stderr });
      else reject(new ProxyError("CommandFailed", `${argv.join(" ")} exited with ${code ?? signal}: ${stderr.trim().slice(0, 2000)}`));
    });
    // A child that exits before reading all of stdin raises EPIPE here; its exit code tells the story.
    child.stdin.on("error", () => {});
    child.stdin.end(stdin ?? "");
  });
}
