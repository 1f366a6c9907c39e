// The `k8ts` command line: definitions only. Each command's work lives in its own module so it
// can be tested without argv (STYLE.md 11).
import { Command, CommanderError } from "commander";
import { registerSnapshotCommands } from "./snapshot.js";
import { registerServerCommand } from "./server.js";
import { registerControllerManagerCommand } from "./controller-manager.js";
import { registerUpCommands } from "./up.js";
import { registerImagesCommands } from "./images.js";
import { registerSimNodesCommand } from "./sim-nodes.js";
import { registerSchedulerCommand } from "./scheduler.js";
import { registerWhyCommand } from "./why.js";
import { registerAgentCommand } from "./agent.js";
import { registerDnsCommand } from "./dns.js";
import { registerProxyCommand } from "./proxy.js";
import { registerTokenCommands } from "./token.js";
import { VERSION } from "../util/version.js";

export function buildProgram(): Command {
  const program = new Command("k8ts")
    .description("A Kubernetes-compatible container orchestrator")
    .version(VERSION.gitVersion, "--version", "print the version")
    .showHelpAfterError()
    .exitOverride();
  registerUpCommands(program);
  registerServerCommand(program);
  registerAgentCommand(program);
  registerTokenCommands(program);
  registerDnsCommand(program);
  registerProxyCommand(program);
  registerControllerManagerCommand(program);
  registerSnapshotCommands(program);
  registerSimNodesCommand(program);
  registerSchedulerCommand(program);
  registerWhyCommand(program);
  registerImagesCommands(program);
  return program;
}

export async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode);
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`k8ts: ${message}\n`);
    process.exit(1);
  }
}
