// The service proxy of one node (kube-proxy): Services and EndpointSlices from informers, rules
// from them through the iptables or nftables backend. Events only mark the state dirty; a sync
// rebuilds the whole picture from the caches (level-triggered) and the backend writes only what
// differs from what it last wrote. Syncs are serialized and at least minSyncPeriodMs apart, so
// a burst of changes (a rollout) costs one write; every syncPeriodMs a sync runs regardless, and
// once an hour (or after any failure) a full one that rewrites everything and clears leftovers.
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import type { Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import { parseCIDRSloppy } from "../api/validation.js";
import { SharedInformerFactory, type EventHandler, type SharedInformer } from "../client/informer.js";
import type { RestClient } from "../client/rest.js";
import type { Logger } from "../util/log.js";
import type { Backend } from "./backend.js";
import { clearFlows, staleUdpFlows } from "./conntrack.js";
import { commandRunner, type CommandRunner } from "./exec.js";
import { IptablesBackend } from "./iptables/backend.js";
import { buildServicePorts, isIPv4, PROXY_LABEL_SELECTOR, ProxyError, type ProxyMode, type ServicePortInfo } from "./model.js";
import { IptablesNames, NftNames, checkChainPrefix } from "./names.js";
import { NftablesBackend } from "./nftables/backend.js";
import { applySysctls } from "./sysctl.js";
import { SyncLoop } from "./syncloop.js";

export interface ProxierOptions {
  readonly client: RestClient;
  readonly nodeName: string;
  readonly mode: ProxyMode;
  /** Addresses that accept NodePort traffic; empty: every local address. */
  readonly nodeIPs: readonly string[];
  /** The pods' CIDR: traffic from outside it to a cluster IP is masqueraded. */
  readonly clusterCIDR?: string;
  /** A sync at least this often, changes or not (default 30 s). */
  readonly syncPeriodMs?: number;
  /** Syncs at most this often; changes in between are coalesced (default 100 ms; upstream 1 s). */
  readonly minSyncPeriodMs?: number;
  /** The packet mark bit that asks for masquerade (default 14: 0x4000). */
  readonly masqueradeBit?: number;
  /** iptables chains are named `<prefix>-SERVICES`, ... (default "KUBE"). */
  readonly chainPrefix?: string;
  /** nftables table (family ip); default "k8ts", or the lower-cased chain prefix when one is given. */
  readonly nftTable?: string;
  /** Run iptables/nft inside this network namespace (`ip netns exec`): tests and benchmarks. */
  readonly netns?: string;
  /**
   * Set the sysctls the rules rely on: route_localnet (NodePorts on 127.0.0.1, iptables mode)
   * and bridge-nf-call-iptables (bridged pod traffic through netfilter). Default: true unless
   * `netns` is given (tests in namespaces leave the host's settings alone).
   */
  readonly sysctls?: boolean;
  readonly log: Logger;
}

export interface CompiledProxierOptions {
  readonly client: RestClient;
  readonly nodeName: string;
  readonly mode: ProxyMode;
  readonly nodeIPs: readonly string[];
  readonly clusterCIDR: string | undefined;
  readonly syncPeriodMs: number;
  readonly minSyncPeriodMs: number;
  readonly masqueradeMark: string;
  readonly chainPrefix: string;
  readonly nftTable: string;
  readonly netns: string | undefined;
  readonly sysctls: boolean;
  /** The conntrack tool is there to clear stale UDP flows. */
  readonly conntrack: boolean;
  readonly log: Logger;
}

export interface LastSync {
  readonly durationMs: number;
  /** Rules (and nftables map elements) written by the sync; 0 when nothing differed. */
  readonly rules: number;
  readonly mode: ProxyMode;
  /** Rules (and map elements) of the whole ruleset. */
  readonly totalRules: number;
  readonly full: boolean;
  readonly wrote: boolean;
  /** Of durationMs, the time iptables-restore / nft took. */
  readonly writeMs: number;
  /** Service ports programmed. */
  readonly services: number;
}

/** Upstream's FullSyncPeriod: a periodic full rewrite repairs anything changed behind our back. */
const FULL_SYNC_PERIOD_MS = 60 * 60 * 1000;
const RETRY_MIN_MS = 1000;

export function onPath(cmd: string): boolean {
  return (process.env["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(delimiter).some((d) => d !== "" && existsSync(join(d, cmd)));
}

export function nftTableFor(o: { readonly chainPrefix?: string; readonly nftTable?: string }): string {
  return o.nftTable ?? (o.chainPrefix !== undefined && o.chainPrefix !== "KUBE" ? o.chainPrefix.toLowerCase() : "k8ts");
}

export function compileProxierOptions(o: ProxierOptions): CompiledProxierOptions {
  const bad = (msg: string): never => {
    throw new ProxyError("InvalidOptions", msg);
  };
  if (o.mode !== "iptables" && o.mode !== "nftables") bad(`proxy mode ${JSON.stringify(o.mode)}: want iptables or nftables`);
  for (const ip of o.nodeIPs) if (!isIPv4(ip)) bad(`node IP ${JSON.stringify(ip)} is not an IPv4 address`);
  if (o.clusterCIDR !== undefined && parseCIDRSloppy(o.clusterCIDR)?.ip.length !== 4) bad(`cluster CIDR ${JSON.stringify(o.clusterCIDR)} is not an IPv4 CIDR`);
  const bit = o.masqueradeBit ?? 14;
  if (!Number.isInteger(bit) || bit < 0 || bit > 31) bad(`masquerade bit ${bit}: want 0-31`);
  const syncPeriodMs = o.syncPeriodMs ?? 30_000;
  const minSyncPeriodMs = o.minSyncPeriodMs ?? 100;
  if (!(syncPeriodMs > 0) || !(minSyncPeriodMs >= 0)) bad("sync periods must be positive");
  const chainPrefix = o.chainPrefix ?? "KUBE";
  checkChainPrefix(chainPrefix);
  const nftTable = nftTableFor(o);
  if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(nftTable)) bad(`nftables table ${JSON.stringify(nftTable)}: want letters, digits, _ or -`);
  return {
    client: o.client,
    nodeName: o.nodeName,
    mode: o.mode,
    nodeIPs: [...o.nodeIPs],
    clusterCIDR: o.clusterCIDR,
    syncPeriodMs,
    minSyncPeriodMs,
    masqueradeMark: `0x${(2 ** bit).toString(16)}`,
    chainPrefix,
    nftTable,
    netns: o.netns,
    sysctls: o.sysctls ?? o.netns === undefined,
    conntrack: onPath("conntrack"),
    log: o.log,
  };
}

export class Proxier {
  readonly options: CompiledProxierOptions;
  private readonly log: Logger;
  private readonly run: CommandRunner;
  private backend: Backend | undefined;
  private readonly ac = new AbortController();
  private factory: SharedInformerFactory | undefined;
  private services: SharedInformer<Service> | undefined;
  private slices: SharedInformer<EndpointSlice> | undefined;
  private readonly loop = new SyncLoop(
    () => this.nextDue(),
    () => this.syncOnce(this.forceFull || Date.now() >= this.nextFullAt),
  );
  private dirty = false;
  private forceFull = false;
  private lastStart = 0;
  private nextPeriodicAt = 0;
  private nextFullAt = 0;
  private notBefore = 0;
  private failures = 0;
  private started = false;
  private last: LastSync | undefined;
  private syncCount = 0;
  private synced: readonly ServicePortInfo[] = [];
  private conntrackWarned = false;
  private lastError: unknown;

  constructor(o: ProxierOptions) {
    this.options = compileProxierOptions(o);
    this.log = this.options.log.child({ component: "proxy", mode: this.options.mode });
    this.run = commandRunner(this.options.netns);
  }

  get lastSync(): LastSync | undefined {
    return this.last;
  }

  /** Syncs that completed (written or not): tests wait for the next one. */
  get syncs(): number {
    return this.syncCount;
  }

  /** Resolves after the first full sync; rejects (and stops) if it fails. */
  async start(): Promise<void> {
    if (this.started) throw new ProxyError("InvalidOptions", "proxier already started");
    this.started = true;
    const o = this.options;
    const localhostNodePorts = o.sysctls ? await applySysctls(o.mode, this.run, this.log) : false;
    this.backend =
      o.mode === "iptables"
        ? new IptablesBackend({ names: new IptablesNames(o.chainPrefix), clusterCIDR: o.clusterCIDR, masqueradeMark: o.masqueradeMark, nodeIPs: o.nodeIPs, localhostNodePorts }, this.run)
        : new NftablesBackend({ table: o.nftTable, names: new NftNames(), clusterCIDR: o.clusterCIDR, masqueradeMark: o.masqueradeMark, nodeIPs: o.nodeIPs }, this.run);

    // kube-proxy leaves services that name another proxy, and headless services' slices, alone.
    this.factory = new SharedInformerFactory({ client: o.client, log: this.log, selectors: { labelSelector: PROXY_LABEL_SELECTOR }, omitManagedFields: true });
    this.services = this.factory.forKind("v1", "Service");
    this.slices = this.factory.forKind("discovery.k8s.io/v1", "EndpointSlice");
    const handler: EventHandler<unknown> = {
      onAdd: () => this.requestSync(),
      // Informer resyncs deliver the same object: nothing changed.
      onUpdate: (a, b) => {
        if (a !== b) this.requestSync();
      },
      onDelete: () => this.requestSync(),
    };
    this.services.addEventHandler(handler);
    this.slices.addEventHandler(handler);
    this.factory.start(this.ac.signal);
    try {
      if (!(await this.factory.waitForCacheSync(this.ac.signal))) throw new ProxyError("NotStarted", "proxier stopped before its caches synced");
      await this.syncOnce(true);
      if (this.last === undefined) {
        const why = this.lastError instanceof Error ? this.lastError.message : String(this.lastError);
        throw new ProxyError("NotStarted", `the first ${o.mode} sync failed: ${why}`, { cause: this.lastError });
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.log.info({ mode: o.mode, rules: this.last.totalRules, ms: this.last.durationMs, services: this.last.services }, "proxy rules synced");
    this.loop.wake();
  }

  /** Stops syncing (rules stay in place, as upstream: traffic keeps flowing across a restart). */
  async stop(): Promise<void> {
    await this.loop.stop();
    this.ac.abort();
    await this.factory?.shutdown();
  }

  private requestSync(): void {
    this.dirty = true;
    // During start the first sync is awaited directly; the timer starts after it.
    if (this.last !== undefined) this.loop.wake();
  }

  /** The earliest sync due: changes (throttled), the periodic one, the hourly full one, deferred backend work. */
  private nextDue(): number {
    const due: number[] = [this.nextPeriodicAt, this.nextFullAt];
    if (this.dirty || this.forceFull) due.push(Math.max(this.lastStart + this.options.minSyncPeriodMs, this.notBefore));
    const deadline = this.backend?.nextDeadline();
    if (deadline !== undefined) due.push(Math.max(deadline, this.notBefore));
    return Math.min(...due);
  }

  /** One sync; never rejects: a failure is logged and retried (full) with backoff. */
  private async syncOnce(full: boolean): Promise<void> {
    const start = Date.now();
    this.dirty = false;
    this.forceFull = false;
    this.lastStart = start;
    this.nextPeriodicAt = start + this.options.syncPeriodMs;
    try {
      const ports = buildServicePorts(this.services!.lister.list(), this.slices!.lister.list(), this.options.nodeName);
      const r = await this.backend!.sync(ports, full);
      const flows = staleUdpFlows(this.synced, ports);
      this.synced = ports;
      if (flows.length > 0) {
        if (this.options.conntrack) await clearFlows(this.run, flows, this.log);
        else if (!this.conntrackWarned) {
          this.conntrackWarned = true;
          this.log.warn("the conntrack tool is not installed: UDP clients of a service may keep sending to a removed endpoint until their flow times out");
        }
      }
      const durationMs = Date.now() - start;
      if (r.full) this.nextFullAt = start + FULL_SYNC_PERIOD_MS;
      this.failures = 0;
      this.notBefore = 0;
      this.last = { durationMs, rules: r.rules, mode: this.options.mode, totalRules: r.totalRules, full: r.full, wrote: r.wrote, writeMs: Math.round(r.writeMs), services: ports.length };
      this.syncCount++;
      if (r.wrote) this.log.debug({ ms: durationMs, rules: r.rules, totalRules: r.totalRules, full: r.full, servicePorts: ports.length }, "proxy rules written");
    } catch (err) {
      this.lastError = err;
      this.failures++;
      const backoff = Math.min(this.options.syncPeriodMs, RETRY_MIN_MS * 2 ** Math.min(this.failures - 1, 10));
      this.notBefore = Date.now() + backoff;
      this.forceFull = true;
      this.log.error({ err, retryInMs: backoff }, "proxy sync failed");
    }
  }
}
