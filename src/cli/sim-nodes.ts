// `k8ts sim-nodes`: flag definitions only; the work is in sim-nodes-action.ts.
import type { Command } from "commander";
import { runSimNodes, type SimNodesFlags } from "./sim-nodes-action.js";

export function registerSimNodesCommand(program: Command): void {
  program
    .command("sim-nodes")
    .description("simulate nodes: register N nodes, renew their leases and move pods bound to them through their life, without containers")
    .requiredOption("--kubeconfig <file>", "kubeconfig with the credentials and server to use")
    .option("--count <n>", "nodes to simulate", "1")
    .option("--cpu <quantity>", "CPU capacity of each node", "32")
    .option("--memory <quantity>", "memory capacity of each node", "256Gi")
    .option("--pods <n>", "pod capacity of each node", "110")
    .option("--ephemeral-storage <quantity>", "ephemeral-storage capacity of each node", "1Ti")
    .option("--name-prefix <prefix>", "nodes are named <prefix><index>", "sim-")
    .option("--ready-delay <duration>", "from Running to containers ready", "1s")
    .option("--fail-rate <fraction>", "fraction of pods that crash (restartPolicy Never: Failed; otherwise one restart)", "0")
    .option("--fail-after <duration>", "how long after turning ready a failing pod crashes", "5s")
    .option("--job-pod-run-time <duration>", "how long a Job's pod (restartPolicy Never or OnFailure) runs after turning ready before it Succeeds", "1s")
    .option("--immediate-deletion", "finish deleted pods at once instead of after their grace period", false)
    .option("--lease-duration <seconds>", "leaseDurationSeconds of the node leases", "40")
    .option("--lease-renew-interval <duration>", "how often each node lease is renewed", "10s")
    .option("--node-status-report-frequency <duration>", "how often each node posts its status when nothing changed (the kubelet's nodeStatusReportFrequency)", "5m")
    .option("--delete-on-exit", "delete the nodes and their leases on SIGINT/SIGTERM", false)
    .option("--workers <n>", "pod starts (status writes) in flight at once (default: one per 10 nodes, 64 to 128)")
    .option("--kube-api-qps <qps>", "requests per second to the API server (0: unthrottled)", "0")
    .option("--kube-api-burst <n>", "burst of requests to the API server", "1000")
    .option("--log-level <level>", "trace, debug, info, warn, error or silent", "info")
    .action(async (flags: SimNodesFlags) => {
      await runSimNodes(flags);
    });
}
