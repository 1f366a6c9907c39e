// `k8ts sim-nodes`: flags in, compiled options out, the simulator in the foreground until
// SIGINT/SIGTERM. The flag definitions are in sim-nodes.ts.
import { resolve } from "node:path";
import type { Level } from "pino";
import { parseGoDuration } from "../api/cron.js";
import { createClientFromKubeconfig } from "../client/rest.js";
import { SimNodesError } from "../simnodes/errors.js";
import { compileSimNodesOptions, defaultSimWorkers, simClientSockets, type SimNodesOptions } from "../simnodes/options.js";
import { SimNodes } from "../simnodes/simulator.js";
import { createLogger, type Logger } from "../util/log.js";
import type { RestClient } from "../client/rest.js";

export interface SimNodesFlags {
  readonly kubeconfig: string;
  readonly count: string;
  readonly cpu: string;
  readonly memory: string;
  readonly pods: string;
  readonly ephemeralStorage: string;
  readonly namePrefix: string;
  readonly readyDelay: string;
  readonly failRate: string;
  readonly failAfter: string;
  readonly jobPodRunTime: string;
  readonly immediateDeletion: boolean;
  readonly leaseDuration: string;
  readonly leaseRenewInterval: string;
  readonly nodeStatusReportFrequency: string;
  readonly deleteOnExit: boolean;
  readonly workers?: string;
  readonly kubeApiQps: string;
  readonly kubeApiBurst: string;
  readonly logLevel: string;
}

function duration(v: string, flag: string): number {
  try {
    return parseGoDuration(v);
  } catch (err) {
    throw new SimNodesError("InvalidOptions", `invalid argument ${JSON.stringify(v)} for ${flag}: ${(err as Error).message}`);
  }
}

function num(v: string, flag: string): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n)) throw new SimNodesError("InvalidOptions", `invalid argument ${JSON.stringify(v)} for ${flag}: not a number`);
  return n;
}

/** Flags → compiled options (throws SimNodesError on bad values). */
export function simNodesOptionsFromFlags(f: SimNodesFlags, client: RestClient, log: Logger): SimNodesOptions {
  return compileSimNodesOptions({
    client,
    count: num(f.count, "--count"),
    cpu: f.cpu,
    memory: f.memory,
    pods: num(f.pods, "--pods"),
    ephemeralStorage: f.ephemeralStorage,
    namePrefix: f.namePrefix,
    readyDelayMs: duration(f.readyDelay, "--ready-delay"),
    failRate: num(f.failRate, "--fail-rate"),
    failAfterMs: duration(f.failAfter, "--fail-after"),
    jobPodRunTimeMs: duration(f.jobPodRunTime, "--job-pod-run-time"),
    immediateDeletion: f.immediateDeletion,
    leaseDurationSeconds: num(f.leaseDuration, "--lease-duration"),
    renewIntervalMs: duration(f.leaseRenewInterval, "--lease-renew-interval"),
    statusReportMs: duration(f.nodeStatusReportFrequency, "--node-status-report-frequency"),
    deleteOnExit: f.deleteOnExit,
    ...(f.workers !== undefined ? { workers: num(f.workers, "--workers") } : {}),
    log,
  });
}

export async function runSimNodes(f: SimNodesFlags): Promise<void> {
  const log = createLogger(f.logLevel as Level);
  const qps = num(f.kubeApiQps, "--kube-api-qps");
  const workers = f.workers !== undefined ? num(f.workers, "--workers") : defaultSimWorkers(num(f.count, "--count"));
  const client = await createClientFromKubeconfig(resolve(f.kubeconfig), { component: "sim-nodes", qps: qps > 0 ? qps : Infinity, burst: num(f.kubeApiBurst, "--kube-api-burst"), maxSockets: simClientSockets(workers) });
  const sim = new SimNodes(simNodesOptionsFromFlags(f, client, log));
  let stopping = false;
  const stopped = new Promise<void>((done) => {
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      stopping = true;
      sim.stop().then(done, (err: unknown) => {
        log.error({ err }, "stopping failed");
        done();
      });
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  await sim.start();
  if (!stopping) process.stdout.write(`k8ts sim-nodes ready: ${sim.nodeNames.length} nodes (${sim.nodeNames[0] ?? ""}…${sim.nodeNames.at(-1) ?? ""})\n`);
  await stopped;
  client.close();
}
