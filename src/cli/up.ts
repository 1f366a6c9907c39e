// `k8ts up` / `k8ts down`: flag definitions and what they print; the work is in up-actions.ts.
import type { Command } from "commander";
import { defaultDataDir, DEFAULT_PORT } from "./defaults.js";
import { down, reset, up } from "./up-actions.js";

export function registerUpCommands(program: Command): void {
  program
    .command("up")
    .description("start a single-node cluster in the background (reusing its state) and merge a k8ts context into ~/.kube/config")
    .option("--data-dir <dir>", "state, certificates, kubeconfig and logs", defaultDataDir())
    .option("--port <port>", "API server HTTPS port", String(DEFAULT_PORT))
    .option("--bind-address <ip>", "API server address (all interfaces by default: pods reach it through the node's address)", "0.0.0.0")
    .option("--store <url>", "store URL (default sqlite://<data-dir>/state.db)")
    .option("--kubeconfig <file>", "kubeconfig to merge the k8ts context into (\"\" to skip)")
    .option("--node-name <name>", "name of the node (default: the host name, lowercased)")
    .option("--disable-agent", "start the control plane only, without a node")
    .action(async (f: { dataDir: string; port: string; bindAddress: string; store?: string; kubeconfig?: string; nodeName?: string; disableAgent?: boolean }) => {
      const r = await up({
        dataDir: f.dataDir,
        port: Number(f.port),
        bindAddress: f.bindAddress,
        ...(f.store ? { store: f.store } : {}),
        ...(f.kubeconfig !== undefined ? { kubeconfig: f.kubeconfig } : {}),
        ...(f.nodeName ? { nodeName: f.nodeName } : {}),
        ...(f.disableAgent ? { disableAgent: true } : {}),
      });
      const out = process.stdout;
      out.write(`k8ts is ${r.alreadyRunning ? "already running" : "up"} (pid ${r.pid}, ${(r.elapsedMs / 1000).toFixed(1)} s): API server ${r.url}\n`);
      out.write(`  kubeconfig: ${r.kubeconfig}\n`);
      if (r.mergedInto) out.write(`  context "k8ts" merged into ${r.mergedInto} and made current\n`);
      if (r.node) out.write(`  node: ${r.node} (Ready)\n`);
      if (r.dnsReady === true) out.write(`  cluster DNS: ready\n`);
      if (r.dnsReady === false) out.write(`  cluster DNS: not ready yet (kubectl get pods -n kube-system; names resolve once coredns is Running)\n`);
      out.write(`  log: ${r.log}\n`);
      out.write(`  another machine joins as a node with what \`bin/k8ts token create --print-join-command\` prints\n\n`);
      out.write(`Try:\n  kubectl get namespaces\n  kubectl create configmap hello --from-literal=greeting=hi\n  kubectl create deployment web --replicas=2 --image=busybox:1.35 -- httpd -f -p 8080 -h /etc\n  kubectl expose deployment web --port 80 --target-port 8080\n  kubectl get deployments,replicasets,pods,services -o wide\n  kubectl exec deployment/web -- wget -qO- http://web/hostname\n  kubectl expose deployment web --name web-lb --type LoadBalancer --port 8080    # EXTERNAL-IP: this node; curl http://<it>:8080/hostname\n  kubectl logs deployment/coredns -n kube-system\n  kubectl top pod -A\n\n`);
      if (!r.node) out.write(`This cluster has no node: pods stay Pending until one joins (\`k8ts token create --print-join-command\` prints the command for another machine; \`k8ts sim-nodes --kubeconfig ${r.kubeconfig} --count 3\` for simulated ones).\n`);
      out.write(`Stop it with: bin/k8ts down\n`);
    });
  program
    .command("down")
    .description("stop the cluster `k8ts up` started (state is kept)")
    .option("--data-dir <dir>", "state directory", defaultDataDir())
    .action(async (f: { dataDir: string }) => {
      const r = await down(f.dataDir);
      process.stdout.write(r.stopped ? `k8ts stopped (pid ${r.pid}); containers keep running until the next up adopts them or reset removes them\n` : "k8ts is not running\n");
    });
  program
    .command("reset")
    .description("stop the cluster and remove everything it made: containers, pod network, cgroups, and its state")
    .option("--data-dir <dir>", "state directory", defaultDataDir())
    .action(async (f: { dataDir: string }) => {
      await reset(f.dataDir);
      process.stdout.write(`k8ts reset: containers, pod network and ${f.dataDir} removed\n`);
    });
}
