// `k8ts controller-manager`: flags in, compiled options out, the manager in the foreground
// until SIGINT/SIGTERM. The flag definitions are in controller-manager.ts.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Level } from "pino";
import { parseGoDuration } from "../api/cron.js";
import { builtinControllers, compileControllerManagerOptions, ControllerManager, ControllerManagerError, type ControllerManagerOptions } from "../controllers/manager.js";
import { createLogger, type Logger } from "../util/log.js";

export interface ControllerManagerFlags {
  readonly kubeconfig: string;
  readonly controllers: string;
  readonly leaderElect: boolean | string;
  readonly leaderElectLeaseDuration: string;
  readonly leaderElectRenewDeadline: string;
  readonly leaderElectRetryPeriod: string;
  readonly leaderElectResourceNamespace: string;
  readonly leaderElectResourceName: string;
  readonly leaderElectResourceLock: string;
  readonly bindAddress: string;
  readonly securePort: string;
  readonly kubeApiQps: string;
  readonly kubeApiBurst: string;
  readonly concurrentDeploymentSyncs: string;
  readonly concurrentReplicasetSyncs: string;
  readonly concurrentRcSyncs: string;
  readonly concurrentGcSyncs: string;
  readonly concurrentNamespaceSyncs: string;
  readonly allocateNodeCidrs?: boolean | string;
  readonly clusterCidr?: string;
  readonly nodeCidrMaskSize?: string;
  readonly nodeCidrMaskSizeIpv4?: string;
  readonly nodeCidrMaskSizeIpv6?: string;
  readonly clusterSigningCertFile?: string;
  readonly clusterSigningKeyFile?: string;
  readonly clusterSigningDuration?: string;
  readonly useServiceAccountCredentials?: boolean | string;
  readonly logLevel: string;
}

function bool(v: boolean | string, flag: string): boolean {
  if (typeof v === "boolean") return v;
  if (/^(true|1|t)$/i.test(v)) return true;
  if (/^(false|0|f)$/i.test(v)) return false;
  throw new ControllerManagerError("InvalidOptions", `invalid argument ${JSON.stringify(v)} for ${flag}: strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`);
}

function duration(v: string, flag: string): number {
  try {
    return parseGoDuration(v);
  } catch (err) {
    throw new ControllerManagerError("InvalidOptions", `invalid argument ${JSON.stringify(v)} for ${flag}: ${(err as Error).message}`);
  }
}

function int(v: string, flag: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) throw new ControllerManagerError("InvalidOptions", `invalid argument ${JSON.stringify(v)} for ${flag}: not an integer`);
  return n;
}

function fileText(path: string, flag: string): string {
  try {
    return readFileSync(resolve(path), "utf8");
  } catch (err) {
    throw new ControllerManagerError("InvalidOptions", `${flag}: ${(err as Error).message}`, { cause: err });
  }
}

/** Flags → compiled options (throws ControllerManagerError on bad values). */
export function controllerManagerOptionsFromFlags(f: ControllerManagerFlags, log: Logger): ControllerManagerOptions {
  if (f.leaderElectResourceLock !== "leases") throw new ControllerManagerError("InvalidOptions", `--leader-elect-resource-lock: only "leases" is supported, got ${JSON.stringify(f.leaderElectResourceLock)}`);
  const port = int(f.securePort, "--secure-port");
  const known = new Set(builtinControllers().map((k) => k.name));
  const concurrency: Record<string, number> = {
    "deployment-controller": int(f.concurrentDeploymentSyncs, "--concurrent-deployment-syncs"),
    "replicaset-controller": int(f.concurrentReplicasetSyncs, "--concurrent-replicaset-syncs"),
    "replicationcontroller-controller": int(f.concurrentRcSyncs, "--concurrent-rc-syncs"),
    "garbage-collector-controller": int(f.concurrentGcSyncs, "--concurrent-gc-syncs"),
    "namespace-controller": int(f.concurrentNamespaceSyncs, "--concurrent-namespace-syncs"),
  };
  const workers = Object.fromEntries(Object.entries(concurrency).filter(([name]) => known.has(name)));
  return compileControllerManagerOptions({
    kubeconfig: resolve(f.kubeconfig),
    controllers: f.controllers.split(","),
    leaderElect: bool(f.leaderElect, "--leader-elect"),
    leaseDurationMs: duration(f.leaderElectLeaseDuration, "--leader-elect-lease-duration"),
    renewDeadlineMs: duration(f.leaderElectRenewDeadline, "--leader-elect-renew-deadline"),
    retryPeriodMs: duration(f.leaderElectRetryPeriod, "--leader-elect-retry-period"),
    leaseNamespace: f.leaderElectResourceNamespace,
    leaseName: f.leaderElectResourceName,
    // Upstream: --secure-port 0 turns serving off.
    serve: port === 0 ? false : { host: f.bindAddress, port },
    qps: Number(f.kubeApiQps),
    burst: int(f.kubeApiBurst, "--kube-api-burst"),
    workers,
    allocateNodeCIDRs: bool(f.allocateNodeCidrs ?? true, "--allocate-node-cidrs"),
    ...(f.clusterCidr !== undefined ? { clusterCIDR: f.clusterCidr } : {}),
    ...(f.nodeCidrMaskSize !== undefined ? { nodeCIDRMaskSize: int(f.nodeCidrMaskSize, "--node-cidr-mask-size") } : {}),
    // The per-family flags only matter for a dual-stack --cluster-cidr (as upstream).
    ...(f.clusterCidr?.includes(",") && f.nodeCidrMaskSizeIpv4 !== undefined ? { nodeCIDRMaskSizeIPv4: int(f.nodeCidrMaskSizeIpv4, "--node-cidr-mask-size-ipv4") } : {}),
    ...(f.clusterCidr?.includes(",") && f.nodeCidrMaskSizeIpv6 !== undefined ? { nodeCIDRMaskSizeIPv6: int(f.nodeCidrMaskSizeIpv6, "--node-cidr-mask-size-ipv6") } : {}),
    ...(f.clusterSigningCertFile ? { clusterSigningCert: fileText(f.clusterSigningCertFile, "--cluster-signing-cert-file") } : {}),
    ...(f.clusterSigningKeyFile ? { clusterSigningKey: fileText(f.clusterSigningKeyFile, "--cluster-signing-key-file") } : {}),
    clusterSigningDurationMs: duration(f.clusterSigningDuration ?? "8760h0m0s", "--cluster-signing-duration"),
    useServiceAccountCredentials: bool(f.useServiceAccountCredentials ?? false, "--use-service-account-credentials"),
    log,
  });
}

export async function runControllerManager(f: ControllerManagerFlags): Promise<void> {
  const log = createLogger(f.logLevel as Level);
  const manager = new ControllerManager(controllerManagerOptionsFromFlags(f, log));
  await manager.start();
  process.stdout.write(`k8ts controller-manager started (${manager.options.enabled.map((e) => e.controller.name).join(", ")})${manager.healthUrl ? `; health and metrics at ${manager.healthUrl}` : ""}\n`);
  await new Promise<void>((done) => {
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      manager.stop().then(done, (err: unknown) => {
        log.error({ err }, "stopping failed");
        done();
      });
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
