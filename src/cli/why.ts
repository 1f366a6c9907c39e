// `k8ts why pod/NAME [-n NS]`: why a pending pod is not scheduled, node by node, and what would
// make it fit (src/scheduler/why.ts does the work).
import { homedir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { createClientFromKubeconfig } from "../client/rest.js";
import { explainFromApi, formatWhy } from "../scheduler/why.js";

export interface WhyFlags {
  readonly namespace: string;
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly schedulerName: string;
  readonly maxNodes: string;
  readonly output: string;
}

export class WhyUsageError extends Error {
  override readonly name = "WhyUsageError";
  readonly code = "InvalidArgument";
}

/** "pod/NAME", "pods/NAME", "po/NAME" or a bare NAME. */
export function parsePodRef(ref: string): string {
  const m = /^(?:(pods?|po)\/)?([^/]+)$/.exec(ref);
  if (!m?.[2]) throw new WhyUsageError(`expected pod/NAME, got ${JSON.stringify(ref)} (only pods can be explained)`);
  return m[2];
}

export async function runWhy(ref: string, f: WhyFlags, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const name = parsePodRef(ref);
  const kubeconfig = f.kubeconfig ?? process.env["KUBECONFIG"]?.split(":")[0] ?? join(homedir(), ".kube", "config");
  const client = await createClientFromKubeconfig(kubeconfig, { component: "why", qps: Infinity, ...(f.context ? { context: f.context } : {}) });
  try {
    const report = await explainFromApi(client, f.namespace, name, { schedulerName: f.schedulerName });
    if (f.output === "json") out.write(JSON.stringify(report, null, 2) + "\n");
    else out.write(formatWhy(report, Number(f.maxNodes) || 50));
  } finally {
    client.close();
  }
}

export function registerWhyCommand(program: Command): void {
  program
    .command("why")
    .description("explain why a pod is not scheduled: per node, what does not fit and what would make it fit")
    .argument("<pod>", "pod/NAME")
    .option("-n, --namespace <ns>", "the pod's namespace", "default")
    .option("--kubeconfig <file>", "kubeconfig to use (default $KUBECONFIG or ~/.kube/config)")
    .option("--context <name>", "kubeconfig context to use")
    .option("--scheduler-name <name>", "the scheduler whose rules to apply", "default-scheduler")
    .option("--max-nodes <n>", "nodes listed one by one before the rest are tallied", "50")
    .option("-o, --output <format>", "text or json", "text")
    .action(async (ref: string, flags: WhyFlags) => {
      await runWhy(ref, flags);
    });
}
