// The repair loop (upstream's ipallocator and portallocator repair controllers, and the
// IPAddress repair of the MultiCIDR allocator): at start and every few minutes, services and
// allocation keys are read at one revision and made to agree. A key whose service is gone, or
// no longer uses the value, is released once it is older than a grace period (a create in
// flight holds its key a moment before its Service is written); a value a service uses without
// a key gets one; a value two services claim, or one outside the configured ranges, is
// reported with a Warning event on the service. A service stored without the cluster IP or
// node ports its type needs (written before allocation existed) is updated so that it gets them.
import type { Logger } from "../../util/log.js";
import type { Store } from "../../storage/interface.js";
import type { KubeObject } from "../registry/types.js";
import type { RequestContext, ResourceStore } from "../rest/store.js";
import { clusterIPsOf, nodePortsOf, type ServiceAllocator, type ServiceSpecFields } from "./service.js";
import { sameParent, serviceRef, type AllocationEntry, type AllocationKeys, type ParentRef } from "./keys.js";
import { canonicalIP, familyOfIP } from "./ranges.js";

/** Upstream repairs every 3 minutes. */
export const DEFAULT_REPAIR_INTERVAL_MS = 3 * 60_000;
/** A key younger than this may belong to a create still in flight (upstream: the request timeout, 60 s). */
export const DEFAULT_ORPHAN_GRACE_MS = 60_000;

export type RepairEventSink = (svc: Readonly<KubeObject>, type: "Normal" | "Warning", reason: string, message: string) => Promise<void>;

export interface AllocationRepairOptions {
  readonly allocator: ServiceAllocator;
  readonly store: Store;
  /** Where services are stored, e.g. `/registry/services/`. */
  readonly servicesPrefix: string;
  readonly services: ResourceStore;
  readonly log: Logger;
  readonly events?: RepairEventSink;
  readonly graceMs?: number;
  readonly intervalMs?: number;
  readonly now?: () => Date;
}

export interface RepairResult {
  /** Key names released (`ip:10.43.0.7`, `port:30080`). */
  readonly released: string[];
  /** Key names created for services that used a value without one. */
  readonly recreated: string[];
  /** Services updated to get what their type needs (`ns/name`). */
  readonly allocated: string[];
  /** Orphan keys left for a later run because they are still young. */
  readonly pending: number;
}

const SYSTEM_CTX = (now: Date): RequestContext => ({ namespace: "", user: { username: "system:apiserver", groups: ["system:masters"] }, now, dryRun: false });

interface Claim {
  readonly kind: "ip" | "port";
  readonly name: string;
  readonly svc: Readonly<KubeObject>;
  readonly parent: ParentRef;
  readonly label: string;
}

export class AllocationRepair {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;
  private readonly graceMs: number;
  private readonly intervalMs: number;

  constructor(private readonly o: AllocationRepairOptions) {
    this.graceMs = o.graceMs ?? DEFAULT_ORPHAN_GRACE_MS;
    this.intervalMs = o.intervalMs ?? DEFAULT_REPAIR_INTERVAL_MS;
  }

  private now(): Date {
    return this.o.now?.() ?? new Date();
  }

  /** Runs every interval (and once more when young orphans come of age) until stop(). */
  start(): void {
    this.schedule(this.intervalMs);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.runOnce()
        .then((r) => this.schedule(r.pending > 0 ? Math.min(this.intervalMs, this.graceMs + 1000) : this.intervalMs))
        .catch((err: unknown) => {
          this.o.log.warn({ err }, "allocation repair failed; retrying at the next interval");
          this.schedule(this.intervalMs);
        });
    }, ms);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  private async event(svc: Readonly<KubeObject>, reason: string, message: string): Promise<void> {
    this.o.log.warn({ service: `${svc.metadata?.namespace ?? ""}/${svc.metadata?.name ?? ""}`, reason }, message);
    await this.o.events?.(svc, "Warning", reason, message).catch((err: unknown) => this.o.log.debug({ err }, "recording a repair event failed"));
  }

  async runOnce(): Promise<RepairResult> {
    const a = this.o.allocator;
    const revision = await this.o.store.currentRevision();
    const services = await this.listServices(revision);
    const ipKeys = new Map((await a.ipKeys.list(revision)).entries.map((e) => [e.name, e]));
    const portKeys = new Map((await a.portKeys.list(revision)).entries.map((e) => [e.name, e]));
    const result = { released: [] as string[], recreated: [] as string[], allocated: [] as string[], pending: 0 };

    // What every service uses; the first claimant of a value keeps it (the key decides below).
    const claims: Claim[] = [];
    const needsUpdate: Readonly<KubeObject>[] = [];
    for (const svc of services) {
      const spec = (svc["spec"] ?? {}) as ServiceSpecFields;
      const parent = serviceRef(svc.metadata?.namespace ?? "", svc.metadata?.name ?? "");
      if (lacksAllocation(spec)) needsUpdate.push(svc);
      for (const ip of clusterIPsOf(spec)) {
        const fam = familyOfIP(ip) ?? "IPv4";
        if (!a.allocatorFor(ip)) {
          await this.event(svc, "ClusterIPOutOfRange", `Cluster IP [${fam}]: ${ip} is not within any configured Service CIDR; please recreate service`);
          continue;
        }
        claims.push({ kind: "ip", name: canonicalIP(ip)!, svc, parent, label: `Cluster IP [${fam}]: ${ip}` });
      }
      const ports = nodePortsOf(spec);
      if (spec.type === "LoadBalancer" && spec.externalTrafficPolicy === "Local" && (spec.healthCheckNodePort ?? 0) !== 0) ports.push(spec.healthCheckNodePort!);
      for (const p of new Set(ports)) {
        if (!a.ports.range.contains(p)) {
          await this.event(svc, "PortOutOfRange", `Port ${p} is not within the port range ${a.ports.range.toString()}; please recreate service`);
          continue;
        }
        claims.push({ kind: "port", name: String(p), svc, parent, label: `Port ${p}` });
      }
    }

    const keysOf = (kind: Claim["kind"]): AllocationKeys => (kind === "ip" ? a.ipKeys : a.portKeys);
    const entriesOf = (kind: Claim["kind"]): Map<string, AllocationEntry> => (kind === "ip" ? ipKeys : portKeys);
    const claimants = new Map<string, Claim[]>();
    for (const c of claims) {
      const id = `${c.kind}:${c.name}`;
      claimants.set(id, [...(claimants.get(id) ?? []), c]);
    }
    // Of several services claiming one value, the one its key names keeps it.
    const owners = new Map<string, Claim>();
    for (const [id, cs] of claimants) {
      const first = cs[0]!;
      const holder = entriesOf(first.kind).get(first.name)?.record?.spec.parentRef;
      const owner = cs.find((c) => sameParent(holder, c.parent)) ?? first;
      owners.set(id, owner);
      for (const c of cs) {
        if (c !== owner) await this.event(c.svc, c.kind === "ip" ? "ClusterIPAlreadyAllocated" : "PortAlreadyAllocated", `${c.label} was assigned to multiple services; please recreate service`);
      }
    }

    // Keys nobody (or somebody else) uses: released once old enough.
    const now = this.now().getTime();
    for (const kind of ["ip", "port"] as const) {
      for (const [name, entry] of entriesOf(kind)) {
        const owner = owners.get(`${kind}:${name}`);
        if (owner && sameParent(entry.record?.spec.parentRef, owner.parent)) continue;
        const created = Date.parse(entry.record?.metadata.creationTimestamp ?? "");
        if (Number.isFinite(created) && now - created < this.graceMs) {
          result.pending++;
          continue;
        }
        if (await keysOf(kind).deleteEntry(entry)) {
          result.released.push(`${kind}:${name}`);
          entriesOf(kind).delete(name);
          this.o.log.info({ key: entry.kv.key, holder: entry.record?.spec.parentRef }, "released an allocation no service uses");
        }
      }
    }

    // Values in use without a key get one.
    for (const owner of owners.values()) {
      if (entriesOf(owner.kind).has(owner.name)) continue;
      if (!(await keysOf(owner.kind).create(owner.name, owner.parent))) continue;
      await this.event(owner.svc, owner.kind === "ip" ? "ClusterIPNotAllocated" : "PortNotAllocated", `${owner.label} is not allocated; repairing`);
      // The service may have gone since the snapshot: then the key must not outlive it.
      if (!(await this.stillUses(owner))) await keysOf(owner.kind).release(owner.name, owner.parent);
      else result.recreated.push(`${owner.kind}:${owner.name}`);
    }

    for (const svc of needsUpdate) {
      const ns = svc.metadata?.namespace ?? "";
      const name = svc.metadata?.name ?? "";
      try {
        // A write that changes nothing makes the services store's allocation hook fill in what is missing.
        await this.o.services.update(ns, name, (cur) => {
          if (!cur || cur.metadata?.uid !== svc.metadata?.uid) throw new RepairSkip();
          return cur;
        }, { ...SYSTEM_CTX(this.now()), namespace: ns });
        result.allocated.push(`${ns}/${name}`);
      } catch (err) {
        if (err instanceof RepairSkip) continue;
        await this.event(svc, "AllocationFailed", `allocating what a ${String((svc["spec"] as ServiceSpecFields | undefined)?.type ?? "")} service needs failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return result;
  }

  private async stillUses(c: Claim): Promise<boolean> {
    const svc = await this.o.services.get(c.parent.namespace, c.parent.name).catch(() => undefined);
    if (!svc || svc.metadata?.uid !== c.svc.metadata?.uid) return false;
    const spec = (svc["spec"] ?? {}) as ServiceSpecFields;
    if (c.kind === "ip") return clusterIPsOf(spec).some((ip) => canonicalIP(ip) === c.name);
    return nodePortsOf(spec).includes(Number(c.name)) || spec.healthCheckNodePort === Number(c.name);
  }

  private async listServices(revision: number): Promise<KubeObject[]> {
    const out: KubeObject[] = [];
    let token: string | undefined;
    const decoder = new TextDecoder();
    do {
      const page = await this.o.store.list(this.o.servicesPrefix, { revision, limit: 5000, ...(token ? { continue: token } : {}) });
      for (const kv of page.kvs) {
        try {
          out.push(JSON.parse(decoder.decode(kv.value)) as KubeObject);
        } catch (err) {
          this.o.log.warn({ err, key: kv.key }, "unreadable service in storage");
        }
      }
      token = page.continue;
    } while (token);
    return out;
  }
}

class RepairSkip extends Error {
  override readonly name = "RepairSkip";
}

/** The service's type needs a cluster IP or node ports it does not have. */
function lacksAllocation(spec: ServiceSpecFields): boolean {
  const headless = (spec.clusterIPs?.[0] ?? spec.clusterIP) === "None";
  if (spec.type !== "ExternalName" && !headless && clusterIPsOf(spec).length === 0) return true;
  const allocatePorts = spec.type === "NodePort" || (spec.type === "LoadBalancer" && spec.allocateLoadBalancerNodePorts !== false);
  if (allocatePorts && (spec.ports ?? []).some((p) => !p.nodePort)) return true;
  return spec.type === "LoadBalancer" && spec.externalTrafficPolicy === "Local" && !spec.healthCheckNodePort;
}
