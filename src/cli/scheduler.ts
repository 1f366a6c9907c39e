// `k8ts scheduler`: kube-scheduler's flags (and its defaults) turned into compiled options, and
// the scheduler in the foreground until SIGINT/SIGTERM.
import { resolve } from "node:path";
import type { Command } from "commander";
import type { Level } from "pino";
import { parseGoDuration } from "../api/cron.js";
import { compileSchedulerOptions, Scheduler, SchedulerError, type SchedulerOptions } from "../scheduler/index.js";
import { createLogger, type Logger } from "../util/log.js";

export interface SchedulerFlags {
  readonly kubeconfig: string;
  readonly schedulerName: string;
  readonly leaderElect: boolean | string;
  readonly leaderElectLeaseDuration: string;
  readonly leaderElectRenewDeadline: string;
  readonly leaderElectRetryPeriod: string;
  readonly leaderElectResourceNamespace: string;
  readonly leaderElectResourceName: string;
  readonly bindAddress: string;
  readonly securePort: string;
  readonly kubeApiQps: string;
  readonly kubeApiBurst: string;
  readonly percentageOfNodesToScore: string;
  readonly podInitialBackoffSeconds: string;
  readonly podMaxBackoffSeconds: string;
  readonly logLevel: string;
}

function bad(msg: string): never {
  throw new SchedulerError("InvalidOptions", msg);
}

function bool(v: boolean | string, flag: string): boolean {
  if (typeof v === "boolean") return v;
  if (/^(true|1|t)$/i.test(v)) return true;
  if (/^(false|0|f)$/i.test(v)) return false;
  return bad(`invalid argument ${JSON.stringify(v)} for ${flag}: strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`);
}

function duration(v: string, flag: string): number {
  try {
    return parseGoDuration(v);
  } catch (err) {
    return bad(`invalid argument ${JSON.stringify(v)} for ${flag}: ${(err as Error).message}`);
  }
}

function num(v: string, flag: string, integer = false): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || (integer && !Number.isSafeInteger(n))) bad(`invalid argument ${JSON.stringify(v)} for ${flag}`);
  return n;
}

/** Flags → compiled options (throws SchedulerError on bad values). */
export function schedulerOptionsFromFlags(f: SchedulerFlags, log: Logger): SchedulerOptions {
  const port = num(f.securePort, "--secure-port", true);
  return compileSchedulerOptions({
    kubeconfig: resolve(f.kubeconfig),
    schedulerName: f.schedulerName,
    leaderElect: bool(f.leaderElect, "--leader-elect"),
    leaseDurationMs: duration(f.leaderElectLeaseDuration, "--leader-elect-lease-duration"),
    renewDeadlineMs: duration(f.leaderElectRenewDeadline, "--leader-elect-renew-deadline"),
    retryPeriodMs: duration(f.leaderElectRetryPeriod, "--leader-elect-retry-period"),
    leaseNamespace: f.leaderElectResourceNamespace,
    leaseName: f.leaderElectResourceName,
    serve: port === 0 ? false : { host: f.bindAddress, port },
    qps: num(f.kubeApiQps, "--kube-api-qps"),
    burst: num(f.kubeApiBurst, "--kube-api-burst", true),
    percentageOfNodesToScore: num(f.percentageOfNodesToScore, "--percentage-of-nodes-to-score"),
    podInitialBackoffMs: num(f.podInitialBackoffSeconds, "--pod-initial-backoff-seconds") * 1000,
    podMaxBackoffMs: num(f.podMaxBackoffSeconds, "--pod-max-backoff-seconds") * 1000,
    log,
  });
}

export async function runScheduler(f: SchedulerFlags): Promise<void> {
  const log = createLogger(f.logLevel as Level);
  const scheduler = new Scheduler(schedulerOptionsFromFlags(f, log));
  await scheduler.start();
  process.stdout.write(`k8ts scheduler started (${scheduler.options.schedulerName})${scheduler.healthUrl ? `; health and metrics at ${scheduler.healthUrl}` : ""}\n`);
  await new Promise<void>((done) => {
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      scheduler.stop().then(done, (err: unknown) => {
        log.error({ err }, "stopping failed");
        done();
      });
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

export function registerSchedulerCommand(program: Command): void {
  program
    .command("scheduler")
    .description("run the scheduler: bind pending pods to nodes that fit them")
    .requiredOption("--kubeconfig <file>", "kubeconfig with the credentials and server to use")
    .option("--scheduler-name <name>", "schedule pods whose spec.schedulerName is this", "default-scheduler")
    .option("--leader-elect [bool]", "schedule only while holding the leader lease (true/false)", true)
    .option("--leader-elect-lease-duration <duration>", "how long non-leaders wait after the last renewal before taking over", "15s")
    .option("--leader-elect-renew-deadline <duration>", "how long the leader tries to renew before it stops leading", "10s")
    .option("--leader-elect-retry-period <duration>", "wait between attempts to acquire or renew", "2s")
    .option("--leader-elect-resource-namespace <ns>", "namespace of the lease", "kube-system")
    .option("--leader-elect-resource-name <name>", "name of the lease", "kube-scheduler")
    .option("--bind-address <ip>", "address for /healthz and /metrics", "127.0.0.1")
    .option("--secure-port <port>", "port for /healthz and /metrics (plain HTTP); 0 disables", "10259")
    .option("--kube-api-qps <qps>", "requests per second to the API server", "50")
    .option("--kube-api-burst <n>", "burst of requests to the API server", "100")
    .option("--percentage-of-nodes-to-score <pct>", "share of nodes to find feasible before scoring; 0 adapts to cluster size", "0")
    .option("--pod-initial-backoff-seconds <s>", "backoff after a pod's first failed attempt", "1")
    .option("--pod-max-backoff-seconds <s>", "longest backoff between attempts", "10")
    .option("--log-level <level>", "trace, debug, info, warn, error or silent", "info")
    .action(async (flags: SchedulerFlags) => {
      await runScheduler(flags);
    });
}
