// The network policy controller of one node: NetworkPolicies, Pods and Namespaces from
// informers, the node's filters from them (model.ts), one nftables table from the filters
// (nft.ts). Level-triggered like the Proxier: events mark the state dirty; a sync rebuilds the
// filters from the caches and writes the table when its text changed, at most every
// minSyncPeriodMs, and rewrites it every syncPeriodMs regardless (repairing anything changed
// behind its back). Stopping leaves the table in place, so pods stay filtered across a
// restart; `k8ts reset` (cleanupProxyRules) removes it.
import type { Namespace, Pod } from "kubernetes-types/core/v1.js";
import type { NetworkPolicy } from "kubernetes-types/networking/v1.js";
import { SharedInformerFactory, type SharedInformer } from "../../client/informer.js";
import type { DeepReadonly } from "../../client/objects.js";
import type { RestClient } from "../../client/rest.js";
import type { Logger } from "../../util/log.js";
import { commandRunner, type CommandRunner } from "../exec.js";
import { ProxyError } from "../model.js";
import { applySysctls } from "../sysctl.js";
import { SyncLoop } from "../syncloop.js";
import { buildNodeFilters } from "./model.js";
import { renderTable } from "./nft.js";

export interface NetworkPolicyControllerOptions {
  readonly client: RestClient;
  readonly nodeName: string;
  /** The nftables table (family ip); see netpolTableFor. */
  readonly table: string;
  /** Rewrite at least this often (default 60 s). */
  readonly syncPeriodMs?: number;
  /** Write at most this often; changes in between are coalesced (default 100 ms). */
  readonly minSyncPeriodMs?: number;
  /** Program the table inside this network namespace: tests. */
  readonly netns?: string;
  readonly log: Logger;
}

export interface NetworkPolicySync {
  readonly durationMs: number;
  /** The table was written (its text changed, or the periodic rewrite). */
  readonly wrote: boolean;
  /** Rules, set and map elements of the table. */
  readonly rules: number;
  /** Local pods isolated for ingress / egress. */
  readonly ingressPods: number;
  readonly egressPods: number;
}

const RETRY_MIN_MS = 1000;

/** The table of the policy filters next to kube-proxy's table `proxyTable` ("k8ts" → "k8ts-netpol"). */
export function netpolTableFor(proxyTable: string): string {
  return `${proxyTable}-netpol`;
}

/** What of a pod the filters read (model.ts): its address, labels, node, phase, deletion and container ports. */
function filterInputOf(p: DeepReadonly<Pod>): string {
  const ports = [...(p.spec?.containers ?? []), ...(p.spec?.initContainers ?? [])].map((c) => [c.restartPolicy, c.ports]);
  return JSON.stringify([p.metadata?.labels, p.metadata?.deletionTimestamp !== undefined, p.spec?.nodeName, p.spec?.hostNetwork, p.status?.phase, p.status?.podIP, p.status?.podIPs, ports]);
}

export class NetworkPolicyController {
  private readonly log: Logger;
  private readonly run: CommandRunner;
  private readonly syncPeriodMs: number;
  private readonly minSyncPeriodMs: number;
  private readonly ac = new AbortController();
  private factory: SharedInformerFactory | undefined;
  private pods: SharedInformer<Pod> | undefined;
  private namespaces: SharedInformer<Namespace> | undefined;
  private policies: SharedInformer<NetworkPolicy> | undefined;
  private readonly loop = new SyncLoop(
    () => this.nextDue(),
    () => this.syncOnce(),
  );
  private dirty = false;
  private lastStart = 0;
  private lastWriteAt = 0;
  private notBefore = 0;
  private failures = 0;
  private written: string | undefined;
  private last: NetworkPolicySync | undefined;
  private lastError: unknown;
  private syncCount = 0;

  constructor(private readonly o: NetworkPolicyControllerOptions) {
    if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(o.table)) throw new ProxyError("InvalidOptions", `nftables table ${JSON.stringify(o.table)}: want letters, digits, _ or -`);
    this.log = o.log.child({ component: "network-policy" });
    this.run = commandRunner(o.netns);
    this.syncPeriodMs = o.syncPeriodMs ?? 60_000;
    this.minSyncPeriodMs = o.minSyncPeriodMs ?? 100;
  }

  get lastSync(): NetworkPolicySync | undefined {
    return this.last;
  }

  /** Syncs completed (written or not): tests wait for the next one. */
  get syncs(): number {
    return this.syncCount;
  }

  /** Resolves after the first sync wrote the table; rejects (and stops) if it fails. */
  async start(): Promise<void> {
    // Pods on one bridge reach each other at layer 2; br_netfilter brings their packets to the forward hook.
    if (this.o.netns === undefined) await applySysctls("nftables", this.run, this.log);
    this.factory = new SharedInformerFactory({ client: this.o.client, log: this.log, omitManagedFields: true });
    this.pods = this.factory.forKind("v1", "Pod");
    this.namespaces = this.factory.forKind("v1", "Namespace");
    this.policies = this.factory.forKind("networking.k8s.io/v1", "NetworkPolicy");
    const handler = {
      onAdd: () => this.requestSync(),
      onUpdate: (a: unknown, b: unknown) => {
        if (a !== b) this.requestSync();
      },
      onDelete: () => this.requestSync(),
    };
    // Most pod updates are status the filters never read (conditions, container states): only what they read asks for a sync.
    this.pods.addEventHandler({
      ...handler,
      onUpdate: (a, b) => {
        if (a !== b && filterInputOf(a) !== filterInputOf(b)) this.requestSync();
      },
    });
    this.namespaces.addEventHandler(handler);
    this.policies.addEventHandler(handler);
    this.factory.start(this.ac.signal);
    try {
      if (!(await this.factory.waitForCacheSync(this.ac.signal))) throw new ProxyError("NotStarted", "network policy controller stopped before its caches synced");
      await this.syncOnce();
      if (this.last === undefined) {
        const why = this.lastError instanceof Error ? this.lastError.message : String(this.lastError);
        throw new ProxyError("NotStarted", `the first network policy sync failed: ${why}`, { cause: this.lastError });
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.log.info({ table: this.o.table, rules: this.last.rules, ingressPods: this.last.ingressPods, egressPods: this.last.egressPods }, "network policy rules synced");
    this.loop.wake();
  }

  /** Stops syncing; the table stays, so the pods stay filtered. */
  async stop(): Promise<void> {
    await this.loop.stop();
    this.ac.abort();
    await this.factory?.shutdown();
  }

  private requestSync(): void {
    this.dirty = true;
    if (this.last !== undefined) this.loop.wake();
  }

  /** Changes at most every minSyncPeriodMs, a rewrite every syncPeriodMs, retries after notBefore. */
  private nextDue(): number {
    let at = this.lastWriteAt + this.syncPeriodMs;
    if (this.dirty) at = Math.min(at, this.lastStart + this.minSyncPeriodMs);
    return Math.max(at, this.notBefore);
  }

  /** One sync; never rejects: a failure is logged and retried with backoff. */
  private async syncOnce(): Promise<void> {
    const start = Date.now();
    this.dirty = false;
    this.lastStart = start;
    try {
      const filters = buildNodeFilters({
        nodeName: this.o.nodeName,
        pods: this.pods!.lister.list(),
        namespaces: this.namespaces!.lister.list(),
        policies: this.policies!.lister.list(),
      });
      const { script, rules } = renderTable(this.o.table, filters);
      const periodic = start >= this.lastWriteAt + this.syncPeriodMs;
      const wrote = script !== this.written || periodic;
      if (wrote) {
        await this.run(["nft", "-f", "-"], script);
        this.written = script;
        this.lastWriteAt = start;
      }
      this.failures = 0;
      this.notBefore = 0;
      this.last = { durationMs: Date.now() - start, wrote, rules, ingressPods: filters.ingress.length, egressPods: filters.egress.length };
      this.syncCount++;
      if (wrote) this.log.debug(this.last, "network policy rules written");
    } catch (err) {
      this.lastError = err;
      this.failures++;
      this.written = undefined;
      const backoff = Math.min(this.syncPeriodMs, RETRY_MIN_MS * 2 ** Math.min(this.failures - 1, 10));
      this.notBefore = Date.now() + backoff;
      this.dirty = true;
      this.log.error({ err, retryInMs: backoff }, "network policy sync failed");
    }
  }
}
