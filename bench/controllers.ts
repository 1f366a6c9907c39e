// Controller benchmark: `npm run bench -- controllers [--deployments N] [--replicas R]`.
// One JSON object per line, per client throttle setting of the controller-manager (upstream's
// default --kube-api-qps 20/--kube-api-burst 30, and a loose one):
//  - seconds from the first of 100 Deployment creates (10 replicas each) to all 1,000 Pod
//    objects existing;
//  - the controller-manager's CPU seconds over that interval and its peak RSS (VmHWM).
// The API server runs in this process on the default SQLite store in a temp dir; the
// controller-manager runs as its own process (`k8ts controller-manager`), measured through
// /proc/PID/stat and /proc/PID/status.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import type { Deployment } from "kubernetes-types/apps/v1.js";
import { ApiServer, compileApiServerOptions } from "../src/apiserver/server.js";
import { builtinResources } from "../src/apiserver/resources/index.js";
import { SharedInformerFactory } from "../src/client/informer.js";
import { createClientFromKubeconfig } from "../src/client/rest.js";
import { createLogger } from "../src/util/log.js";
import { k8tsNodeArgs } from "../src/cli/node-flags.js";
import { cpuSeconds, memoryMiB } from "../src/testing/proc.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const DEPLOYMENTS = arg("--deployments", 100);
const REPLICAS = arg("--replicas", 10);
const round = (n: number, d = 2): number => Math.round(n * 10 ** d) / 10 ** d;
const emit = (o: Record<string, unknown>): void => void process.stdout.write(JSON.stringify({ bench: "controllers", ...o }) + "\n");

const peakRssMiB = (pid: number): number => round(memoryMiB(pid, "VmHWM"), 1);

async function until(what: string, probe: () => Promise<boolean> | boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function deployment(i: number): Deployment {
  const labels = { app: `bench-${i}` };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: `bench-${i}`, namespace: "bench" },
    spec: { replicas: REPLICAS, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: "c", image: "busybox:1.35", command: ["sleep", "3600"] }] } } },
  };
}

async function run(label: string, managerArgs: readonly string[]): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), "k8ts-bench-controllers-"));
  const log = createLogger("silent");
  const server = new ApiServer(compileApiServerOptions({ dataDir, port: 0, resources: builtinResources(), log }));
  await server.start();
  let manager: ChildProcess | undefined;
  const client = await createClientFromKubeconfig(server.kubeconfigPath, { qps: Infinity, maxSockets: 32 });
  const ac = new AbortController();
  const informers = new SharedInformerFactory({ client, log, namespace: "bench" });
  try {
    await client.forKind("v1", "Namespace").create({ metadata: { name: "bench" } });
    manager = spawn(process.execPath, k8tsNodeArgs(["controller-manager", "--kubeconfig", server.kubeconfigPath, "--secure-port", "0", "--leader-elect=false", "--log-level", process.env["K8TS_BENCH_LOG"] ?? "silent", ...managerArgs]), {
      cwd: root,
      stdio: ["ignore", "ignore", "inherit"],
    });
    const pid = manager.pid!;
    // Ready: the serviceaccount controller has acted, so caches are synced and workers run.
    await until(
      "the controller-manager",
      () =>
        client
          .forKind("v1", "ServiceAccount")
          .namespace("bench")
          .get("default")
          .then(() => true, () => false),
      60_000,
    );
    const pods = informers.forKind("v1", "Pod");
    let count = 0;
    let allAt = 0;
    const target = DEPLOYMENTS * REPLICAS;
    pods.addEventHandler({
      onAdd: () => {
        count++;
        if (count >= target && allAt === 0) allAt = performance.now();
      },
    });
    informers.start(ac.signal);
    await pods.waitForSync(ac.signal);
    const cpu0 = cpuSeconds(pid);
    const t0 = performance.now();
    const deployments = client.forKind("apps/v1", "Deployment").namespace("bench");
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < DEPLOYMENTS) await deployments.create(deployment(next++));
      }),
    );
    const createdAt = performance.now();
    await until(`${target} pods`, () => allAt > 0, 600_000);
    const cpu1 = cpuSeconds(pid);
    emit({
      throttle: label,
      deployments: DEPLOYMENTS,
      replicas: REPLICAS,
      createSeconds: round((createdAt - t0) / 1000),
      podsExistSeconds: round((allAt - t0) / 1000),
      podsPerSecond: round(target / ((allAt - t0) / 1000), 1),
      managerCpuSeconds: round(cpu1 - cpu0),
      managerPeakRssMiB: peakRssMiB(pid),
    });
  } finally {
    ac.abort();
    await informers.shutdown();
    if (manager && manager.exitCode === null) {
      const exited = new Promise((r) => manager!.once("exit", r));
      manager.kill("SIGTERM");
      await exited;
    }
    client.close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await run("qps20-burst30 (upstream default)", []);
await run("qps1000-burst1000", ["--kube-api-qps", "1000", "--kube-api-burst", "1000"]);
