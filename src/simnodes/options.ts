// Raw options of the node simulator become compiled options once, here (STYLE.md 10).
import type { RestClient } from "../client/rest.js";
import type { Clock } from "../client/clock.js";
import { realClock } from "../client/clock.js";
import { NODE_STATUS_REPORT_MS } from "../client/nodelease.js";
import { parseQuantity } from "../api/quantity.js";
import type { Logger } from "../util/log.js";
import { SimNodesError } from "./errors.js";

export interface SimNodesOptionsInput {
  readonly client: RestClient;
  readonly count: number;
  /** Capacity (= allocatable) of every node; defaults 32 CPUs, 256Gi, 110 pods, 1Ti ephemeral storage. */
  readonly cpu?: string;
  readonly memory?: string;
  readonly pods?: number;
  readonly ephemeralStorage?: string;
  /** Nodes are named `<prefix><index>`; default "sim-". */
  readonly namePrefix?: string;
  /** From Running to containers ready; default 1 s. */
  readonly readyDelayMs?: number;
  /** Fraction of pods that crash (restartPolicy Never: end Failed; otherwise restart once); default 0. */
  readonly failRate?: number;
  /** How long after turning ready a failing pod crashes; default 5 s. */
  readonly failAfterMs?: number;
  /** How long a Job's pod (restartPolicy Never or OnFailure) runs after turning ready before it Succeeds; default 1 s. */
  readonly jobPodRunTimeMs?: number;
  /** Finish a deleted pod at once instead of after its grace period; default false. */
  readonly immediateDeletion?: boolean;
  /** spec.leaseDurationSeconds of node leases; default 40 (the kubelet's). */
  readonly leaseDurationSeconds?: number;
  /** How often each lease is renewed; default 10 s (the kubelet's: a quarter of the duration). */
  readonly renewIntervalMs?: number;
  /** How often a node posts its status when nothing changed (the kubelet's nodeStatusReportFrequency); default 5 min. */
  readonly statusReportMs?: number;
  /** Delete the nodes (and their leases) when stopped; default false. */
  readonly deleteOnExit?: boolean;
  /** Pod starts (status writes) in flight at once; default defaultSimWorkers(count). */
  readonly workers?: number;
  /**
   * Node registrations in flight at once; default: as many as there are pod-start workers.
   * Registering that many at once opens the client's connections before the first pods arrive:
   * a node API server accepts about one new connection per event-loop turn (libuv 1.46), so
   * under load a pool that grows with the first burst of bound pods waits 1-2 s for its new
   * connections, and those pods' status writes with them.
   */
  readonly registerConcurrency?: number;
  readonly log: Logger;
  readonly clock?: Clock;
}

export interface SimNodesOptions {
  readonly client: RestClient;
  readonly count: number;
  readonly cpu: string;
  readonly memory: string;
  readonly pods: number;
  readonly ephemeralStorage: string;
  readonly namePrefix: string;
  readonly readyDelayMs: number;
  readonly failRate: number;
  readonly failAfterMs: number;
  readonly jobPodRunTimeMs: number;
  readonly immediateDeletion: boolean;
  readonly leaseDurationSeconds: number;
  readonly renewIntervalMs: number;
  readonly statusReportMs: number;
  readonly deleteOnExit: boolean;
  readonly workers: number;
  readonly registerConcurrency: number;
  readonly log: Logger;
  readonly clock: Clock;
}

/**
 * The most connections the simulator's client opens. Node's keep-alive agent keeps at most 256
 * idle sockets (http.Agent's default maxFreeSockets) and closes the rest whenever the load dips,
 * so a bigger pool is opened again, TLS handshake by handshake, at every rise. At 5000 nodes a
 * pool of 814 (512 workers) opened ~700 connections within 10 s of the first bindings, while
 * the API server was busiest: its accept queue (511) stayed full for 12 s, ~2,900 connection
 * attempts were dropped and retried by TCP after 1, 3, 7, 15, 31 s, and every status write or
 * lease renewal waiting on such a connection was that late — 1% of pods went Running 30-60 s
 * after their binding (startup p99 20-33 s), some leases expired and their nodes went Unknown.
 */
export const SIM_MAX_SOCKETS = 256;

/**
 * Pod starts in flight by default: one per 10 nodes, between 64 and 128. Real kubelets start
 * their pods independently, so a simulator of thousands of nodes with a fixed handful of
 * workers would hold pods back that the cluster had long bound (at 5000 nodes, 32 workers
 * started ~200 pods/s against the API server's answer times under load; at 1000 nodes, 50
 * workers left Running ~2000 pods behind the bindings). More than 128 (with the other lane and
 * the lease renewals) would need more connections than SIM_MAX_SOCKETS; they would only wait
 * in the client's queue, or in the API server's, without starting pods any sooner.
 */
export function defaultSimWorkers(count: number): number {
  return Math.min(128, Math.max(64, Math.ceil(count / 10)));
}

/** Connections the simulator's client needs: its pod workers (both lanes) and room for lease renewals, at most SIM_MAX_SOCKETS. */
export function simClientSockets(workers: number): number {
  return Math.min(SIM_MAX_SOCKETS, workers + Math.ceil(workers / 2) + 64);
}

const DNS_SUBDOMAIN_PREFIX = /^[a-z0-9]([-a-z0-9.]*)?$/;

export function compileSimNodesOptions(i: SimNodesOptionsInput): SimNodesOptions {
  const bad = (msg: string): never => {
    throw new SimNodesError("InvalidOptions", msg);
  };
  const int = (v: number, what: string, min: number): number => (Number.isSafeInteger(v) && v >= min ? v : bad(`${what} must be an integer >= ${min}, got ${v}`));
  const ms = (v: number, what: string): number => (Number.isFinite(v) && v >= 0 ? v : bad(`${what} must be a duration >= 0, got ${v}`));
  const quantity = (v: string, what: string): string => {
    try {
      if (parseQuantity(v).sign() <= 0) bad(`${what} must be positive, got ${JSON.stringify(v)}`);
    } catch (err) {
      if (err instanceof SimNodesError) throw err;
      bad(`${what}: ${JSON.stringify(v)} is not a quantity: ${(err as Error).message}`);
    }
    return v;
  };
  const namePrefix = i.namePrefix ?? "sim-";
  if (!DNS_SUBDOMAIN_PREFIX.test(namePrefix)) bad(`--name-prefix ${JSON.stringify(namePrefix)}: node names must be lower-case DNS subdomains`);
  const count = int(i.count, "--count", 0);
  if (namePrefix.length + String(Math.max(0, count - 1)).length > 253) bad("--name-prefix is too long for a node name");
  const failRate = i.failRate ?? 0;
  if (!(failRate >= 0 && failRate <= 1)) bad(`--fail-rate must be between 0 and 1, got ${failRate}`);
  const leaseDurationSeconds = int(i.leaseDurationSeconds ?? 40, "--lease-duration", 1);
  const renewIntervalMs = ms(i.renewIntervalMs ?? 10_000, "--lease-renew-interval");
  if (renewIntervalMs <= 0) bad("--lease-renew-interval must be > 0");
  const statusReportMs = ms(i.statusReportMs ?? NODE_STATUS_REPORT_MS, "--node-status-report-frequency");
  if (statusReportMs <= 0) bad("--node-status-report-frequency must be > 0");
  const workers = int(i.workers ?? defaultSimWorkers(count), "--workers", 1);
  return {
    client: i.client,
    count,
    cpu: quantity(i.cpu ?? "32", "--cpu"),
    memory: quantity(i.memory ?? "256Gi", "--memory"),
    pods: int(i.pods ?? 110, "--pods", 1),
    ephemeralStorage: quantity(i.ephemeralStorage ?? "1Ti", "--ephemeral-storage"),
    namePrefix,
    readyDelayMs: ms(i.readyDelayMs ?? 1000, "--ready-delay"),
    failRate,
    failAfterMs: ms(i.failAfterMs ?? 5000, "--fail-after"),
    jobPodRunTimeMs: ms(i.jobPodRunTimeMs ?? 1000, "--job-pod-run-time"),
    immediateDeletion: i.immediateDeletion ?? false,
    leaseDurationSeconds,
    renewIntervalMs,
    statusReportMs,
    deleteOnExit: i.deleteOnExit ?? false,
    workers,
    registerConcurrency: i.registerConcurrency === undefined ? workers : int(i.registerConcurrency, "--register-concurrency", 1),
    log: i.log,
    clock: i.clock ?? realClock,
  };
}
