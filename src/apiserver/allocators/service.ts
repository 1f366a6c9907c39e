// What a Service write allocates and releases (upstream pkg/registry/core/service/storage/
// alloc.go): cluster IPs per IP family, node ports for NodePort and LoadBalancer services (one
// node port per service port number, shared by its protocols), the health-check node port of
// a LoadBalancer with externalTrafficPolicy Local. Every allocation of one write forms a
// transaction: kept when the write lands, given back when it fails; values the write stops
// using are released only once it has landed. Deletion releases everything the Service held.
import { FieldError, FieldPath, invalid, OMIT_VALUE } from "../../api/fielderrors.js";
import type { Logger } from "../../util/log.js";
import type { Store } from "../../storage/interface.js";
import type { KubeObject } from "../registry/types.js";
import type { StatusError } from "../status.js";
import { invalidFromFieldErrors } from "../rest/invalid.js";
import type { RequestContext, WriteHooks } from "../rest/store.js";
import { IPAllocator, PortAllocator, ipAddressKeys, nodePortKeys } from "./allocator.js";
import { serviceRef, type AllocationKeys, type ParentRef } from "./keys.js";
import { familyOfIP, isAllocatorError, type IPFamily, type PortRange, type ServiceCIDR } from "./ranges.js";

/** The Service fields allocation reads and writes. */
export interface ServicePortFields {
  name?: string;
  protocol?: string;
  port?: number;
  nodePort?: number;
}

export interface ServiceSpecFields {
  type?: string;
  clusterIP?: string;
  clusterIPs?: string[];
  ipFamilies?: string[];
  ipFamilyPolicy?: string;
  ports?: ServicePortFields[];
  selector?: Record<string, string>;
  externalTrafficPolicy?: string;
  healthCheckNodePort?: number;
  allocateLoadBalancerNodePorts?: boolean;
}

function specOf(svc: KubeObject): ServiceSpecFields {
  const s = svc["spec"];
  if (s && typeof s === "object" && !Array.isArray(s)) return s as ServiceSpecFields;
  const spec: ServiceSpecFields = {};
  svc["spec"] = spec;
  return spec;
}

const needsClusterIP = (s: ServiceSpecFields): boolean => s.type !== "ExternalName";
const isHeadless = (s: ServiceSpecFields): boolean => (s.clusterIPs?.[0] ?? s.clusterIP) === "None";
const needsNodePorts = (s: ServiceSpecFields): boolean => s.type === "NodePort" || s.type === "LoadBalancer";
const needsHealthCheck = (s: ServiceSpecFields): boolean => s.type === "LoadBalancer" && s.externalTrafficPolicy === "Local";
/** LoadBalancers may opt out of node ports (allocateLoadBalancerNodePorts: false); requested ones are still honoured. */
const shouldAllocateNodePorts = (s: ServiceSpecFields): boolean => s.type === "NodePort" || (s.type === "LoadBalancer" && s.allocateLoadBalancerNodePorts !== false);

/** Node ports of spec.ports, each number once. */
export function nodePortsOf(s: ServiceSpecFields): number[] {
  return [...new Set((s.ports ?? []).map((p) => p.nodePort ?? 0).filter((n) => n !== 0))];
}

/** Allocated cluster IPs (none for headless and ExternalName services). */
export function clusterIPsOf(s: ServiceSpecFields): string[] {
  if (!needsClusterIP(s) || isHeadless(s)) return [];
  const ips = s.clusterIPs && s.clusterIPs.length > 0 ? s.clusterIPs : s.clusterIP ? [s.clusterIP] : [];
  return ips.filter((ip) => ip !== "" && ip !== "None");
}

const SPEC = FieldPath.of("spec");

/** Allocations of one write: undone if the write fails, releases deferred until it lands. */
export class AllocationTransaction {
  private readonly undo: (() => Promise<unknown>)[] = [];
  private readonly deferred: (() => Promise<unknown>)[] = [];
  private finished = false;

  constructor(private readonly log: Logger) {}

  onRevert(f: () => Promise<unknown>): void {
    this.undo.push(f);
  }

  onCommit(f: () => Promise<unknown>): void {
    this.deferred.push(f);
  }

  /** Keeps (success) or gives back what the write took. Failures are logged: the repair loop frees what leaks. */
  async finish(success: boolean): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    const work = success ? this.deferred : this.undo.reverse();
    for (const f of work) {
      try {
        await f();
      } catch (err) {
        this.log.warn({ err }, success ? "releasing a value the service no longer uses failed; the repair loop will" : "giving back an allocation of a failed write failed; the repair loop will");
      }
    }
  }
}

export interface ServiceAllocatorOptions {
  readonly store: Store;
  /** Primary first; two CIDRs of different families make the cluster dual-stack. */
  readonly serviceCIDRs: readonly ServiceCIDR[];
  readonly nodePortRange: PortRange;
  readonly log: Logger;
  readonly now?: () => Date;
}

export class ServiceAllocator {
  readonly ipKeys: AllocationKeys;
  readonly portKeys: AllocationKeys;
  readonly ips: ReadonlyMap<IPFamily, IPAllocator>;
  readonly ports: PortAllocator;
  private readonly log: Logger;

  constructor(readonly options: ServiceAllocatorOptions) {
    if (options.serviceCIDRs.length === 0) throw new RangeError("at least one service CIDR is required");
    this.log = options.log;
    this.ipKeys = ipAddressKeys(options.store, options.now);
    this.portKeys = nodePortKeys(options.store, options.now);
    this.ips = new Map(options.serviceCIDRs.map((c) => [c.family, new IPAllocator(c, this.ipKeys)]));
    this.ports = new PortAllocator(options.nodePortRange, this.portKeys);
  }

  get primaryCIDR(): ServiceCIDR {
    return this.options.serviceCIDRs[0]!;
  }

  /** The allocator of the range an address belongs to. */
  allocatorFor(ip: string): IPAllocator | undefined {
    const fam = familyOfIP(ip);
    const a = fam ? this.ips.get(fam) : undefined;
    return a?.contains(ip) ? a : undefined;
  }

  /** The services store's hooks: allocate before a create or update lands, release after a delete. */
  hooks(): WriteHooks {
    return {
      beginCreate: async (obj, ctx) => {
        const txn = await this.allocateCreate(obj, ctx.dryRun);
        return (ok) => txn.finish(ok);
      },
      beginUpdate: async (obj, old, ctx) => {
        const txn = await this.allocateUpdate(obj, old, ctx.dryRun);
        return (ok) => txn.finish(ok);
      },
      afterDelete: (obj: Readonly<KubeObject>, ctx: RequestContext) => (ctx.dryRun ? Promise.resolve() : this.releaseAll(obj)),
    };
  }

  private invalid(svc: KubeObject, errs: FieldError[]): StatusError {
    return invalidFromFieldErrors({ group: "", kind: "Service" }, svc.metadata?.name ?? "", errs);
  }

  private parentOf(svc: Readonly<KubeObject>): ParentRef {
    return serviceRef(svc.metadata?.namespace ?? "", svc.metadata?.name ?? "");
  }

  async allocateCreate(svc: KubeObject, dryRun: boolean): Promise<AllocationTransaction> {
    const spec = specOf(svc);
    const txn = new AllocationTransaction(this.log);
    try {
      if (needsClusterIP(spec)) {
        this.initIPFamilies(svc, spec);
        if (!isHeadless(spec)) await this.allocClusterIPs(svc, spec, 0, dryRun, txn);
      }
      if (needsNodePorts(spec)) await this.initNodePorts(svc, spec, dryRun, txn);
      if (needsHealthCheck(spec)) await this.allocHealthCheckNodePort(svc, spec, dryRun, txn);
    } catch (err) {
      await txn.finish(false);
      throw err;
    }
    return txn;
  }

  async allocateUpdate(svc: KubeObject, old: Readonly<KubeObject>, dryRun: boolean): Promise<AllocationTransaction> {
    const spec = specOf(svc);
    const oldSpec = (old["spec"] ?? {}) as Readonly<ServiceSpecFields>;
    const parent = this.parentOf(old);
    const txn = new AllocationTransaction(this.log);
    const release = (f: () => Promise<unknown>): void => {
      if (!dryRun) txn.onCommit(f);
    };
    try {
      // Cluster IPs: ExternalName → other types allocates; the reverse releases; dual-stack
      // upgrades allocate the secondary family, downgrades release it. A service stored
      // without cluster IPs (written before allocation existed) gets them now.
      if (needsClusterIP(spec)) {
        const hadIPs = clusterIPsOf(oldSpec);
        if (!needsClusterIP(oldSpec) || (hadIPs.length === 0 && !isHeadless(oldSpec) && !isHeadless(spec))) {
          this.initIPFamilies(svc, spec);
          if (!isHeadless(spec)) await this.allocClusterIPs(svc, spec, 0, dryRun, txn);
        } else if (!isHeadless(oldSpec)) {
          const oldFams = oldSpec.ipFamilies ?? [];
          const fams = spec.ipFamilies ?? [];
          if (oldFams.length === 1 && fams.length === 2) {
            this.initIPFamilies(svc, spec);
            await this.allocClusterIPs(svc, spec, 1, dryRun, txn);
          } else if (oldFams.length === 2 && fams.length === 1 && hadIPs[1] !== undefined) {
            const ip = hadIPs[1];
            release(() => this.releaseIP(ip, parent));
          }
        }
      } else {
        for (const ip of clusterIPsOf(oldSpec)) release(() => this.releaseIP(ip, parent));
      }

      const oldPorts = nodePortsOf(oldSpec);
      if (needsNodePorts(spec)) {
        await this.updateNodePorts(svc, spec, new Set(oldPorts), dryRun, txn);
        const now = new Set(nodePortsOf(spec));
        for (const p of oldPorts) if (!now.has(p)) release(() => this.ports.release(p, parent));
      } else {
        for (const p of oldPorts) release(() => this.ports.release(p, parent));
      }

      const hadHC = needsHealthCheck(oldSpec) ? (oldSpec.healthCheckNodePort ?? 0) : 0;
      if (needsHealthCheck(spec)) {
        const hc = spec.healthCheckNodePort ?? 0;
        if (!needsHealthCheck(oldSpec) || hadHC === 0) await this.allocHealthCheckNodePort(svc, spec, dryRun, txn);
        else if (hc !== hadHC) {
          throw this.invalid(svc, [invalid(SPEC.child("healthCheckNodePort"), hc, "cannot change healthCheckNodePort on loadBalancer service with externalTraffic=Local during update")]);
        }
      } else if (hadHC !== 0) {
        release(() => this.ports.release(hadHC, parent));
      }
    } catch (err) {
      await txn.finish(false);
      throw err;
    }
    return txn;
  }

  /** Gives back every cluster IP and node port the service holds. */
  async releaseAll(svc: Readonly<KubeObject>): Promise<void> {
    const spec = (svc["spec"] ?? {}) as Readonly<ServiceSpecFields>;
    const parent = this.parentOf(svc);
    const work: Promise<unknown>[] = [];
    for (const ip of clusterIPsOf(spec)) work.push(this.releaseIP(ip, parent));
    for (const p of nodePortsOf(spec)) work.push(this.ports.release(p, parent));
    if ((spec.healthCheckNodePort ?? 0) !== 0) work.push(this.ports.release(spec.healthCheckNodePort!, parent));
    const results = await Promise.allSettled(work);
    for (const r of results) {
      if (r.status === "rejected") this.log.warn({ err: r.reason as unknown, service: `${parent.namespace}/${parent.name}` }, "releasing an allocation of a deleted service failed; the repair loop will");
    }
  }

  private async releaseIP(ip: string, parent: ParentRef): Promise<boolean> {
    return (await this.allocatorFor(ip)?.release(ip, parent)) ?? false;
  }

  /**
   * Checks the requested families against the configured ranges and completes them for
   * dual-stack policies (the allocation half of upstream's initIPFamilyFields; defaulting of
   * ipFamilyPolicy and ipFamilies from clusterIPs happened in the strategy).
   */
  private initIPFamilies(svc: KubeObject, spec: ServiceSpecFields): void {
    // Headless services without a selector may name families the cluster has no range for.
    if (isHeadless(spec) && Object.keys(spec.selector ?? {}).length === 0) return;
    const errs: FieldError[] = [];
    const policy = spec.ipFamilyPolicy ?? "SingleStack";
    if (policy === "RequireDualStack" && this.ips.size < 2) errs.push(invalid(SPEC.child("ipFamilyPolicy"), policy, "this cluster is not configured for dual-stack services"));
    const ips = spec.clusterIPs ?? [];
    (spec.ipFamilies ?? []).forEach((fam, i) => {
      if (this.ips.has(fam as IPFamily)) return;
      const ip = ips[i];
      if (ip && ip !== "None" && familyOfIP(ip) === fam) errs.push(invalid(SPEC.child("clusterIPs").index(i), ips, `${fam} is not configured on this cluster`));
      else errs.push(invalid(SPEC.child("ipFamilies").index(i), fam, "not configured on this cluster"));
    });
    if (errs.length > 0) throw this.invalid(svc, errs);
    const fams = spec.ipFamilies && spec.ipFamilies.length > 0 ? spec.ipFamilies : [this.primaryCIDR.family];
    if (policy !== "SingleStack" && fams.length === 1 && this.ips.size === 2) fams.push(fams[0] === "IPv4" ? "IPv6" : "IPv4");
    spec.ipFamilies = fams;
  }

  /** Allocates clusterIPs[from..] for ipFamilies[from..]: the requested address where one is given, a free one otherwise. */
  private async allocClusterIPs(svc: KubeObject, spec: ServiceSpecFields, from: number, dryRun: boolean, txn: AllocationTransaction): Promise<void> {
    const parent = this.parentOf(svc);
    const fams = spec.ipFamilies ?? [this.primaryCIDR.family];
    const ips = [...(spec.clusterIPs ?? [])];
    while (ips.length < fams.length) ips.push("");
    for (let i = from; i < fams.length; i++) {
      const alloc = this.ips.get(fams[i] as IPFamily)!;
      const want = ips[i] ?? "";
      let got: string;
      try {
        if (want === "") got = await alloc.allocateNext(parent, dryRun);
        else {
          await alloc.allocate(want, parent, dryRun);
          got = want;
        }
      } catch (err) {
        if (!isAllocatorError(err)) throw err;
        // Upstream answers a full range with a 500; a 422 on the field says better what went wrong.
        if (want === "") throw this.invalid(svc, [invalid(SPEC.child("clusterIPs"), OMIT_VALUE, `failed to allocate a serviceIP: ${err.message}`)]);
        throw this.invalid(svc, [invalid(SPEC.child("clusterIPs"), ips, `failed to allocate IP ${want}: ${err.message}`)]);
      }
      if (!dryRun) txn.onRevert(() => alloc.release(got, parent));
      ips[i] = got;
    }
    spec.clusterIPs = ips;
    spec.clusterIP = ips[0]!;
  }

  private nodePortError(svc: KubeObject, i: number, port: number, err: unknown): unknown {
    if (!isAllocatorError(err)) return err;
    return this.invalid(svc, [invalid(SPEC.child("ports").index(i).child("nodePort"), port, err.message)]);
  }

  private fullError(svc: KubeObject, i: number, err: unknown): unknown {
    if (!isAllocatorError(err)) return err;
    return this.invalid(svc, [invalid(SPEC.child("ports").index(i).child("nodePort"), OMIT_VALUE, `failed to allocate a nodePort: ${err.message}`)]);
  }

  private async takePort(svc: KubeObject, i: number, port: number, dryRun: boolean, txn: AllocationTransaction): Promise<void> {
    const parent = this.parentOf(svc);
    try {
      await this.ports.allocate(port, parent, dryRun);
    } catch (err) {
      throw this.nodePortError(svc, i, port, err);
    }
    if (!dryRun) txn.onRevert(() => this.ports.release(port, parent));
  }

  private async nextPort(svc: KubeObject, i: number, dryRun: boolean, txn: AllocationTransaction, found: Set<number>): Promise<number> {
    const parent = this.parentOf(svc);
    let port: number;
    try {
      port = await this.ports.allocateNext(parent, dryRun, found);
    } catch (err) {
      throw this.fullError(svc, i, err);
    }
    found.add(port);
    if (!dryRun) txn.onRevert(() => this.ports.release(port, parent));
    return port;
  }

  /** Create: one node port per service port number, requested ones honoured (upstream initNodePorts). */
  private async initNodePorts(svc: KubeObject, spec: ServiceSpecFields, dryRun: boolean, txn: AllocationTransaction): Promise<void> {
    const ports = spec.ports ?? [];
    const byPort = new Map<number, number>();
    const found = new Set<number>();
    for (let i = 0; i < ports.length; i++) {
      const p = ports[i]!;
      if (!p.nodePort && !shouldAllocateNodePorts(spec)) continue;
      const num = p.port ?? 0;
      const prev = byPort.get(num);
      if (prev === undefined) {
        // A port number served over two protocols shares one node port; a later entry may name it.
        const requested = ports.slice(i).find((q) => q.port === num && (q.nodePort ?? 0) !== 0)?.nodePort ?? 0;
        if (requested !== 0) {
          await this.takePort(svc, i, requested, dryRun, txn);
          p.nodePort = requested;
        } else {
          p.nodePort = await this.nextPort(svc, i, dryRun, txn, found);
        }
        byPort.set(num, p.nodePort);
      } else if ((p.nodePort ?? 0) !== prev) {
        if (!p.nodePort) p.nodePort = prev;
        else await this.takePort(svc, i, p.nodePort, dryRun, txn);
      }
    }
  }

  /** Update: ports the service held stay its own; new requests are taken, missing ones allocated (upstream updateNodePorts). */
  private async updateNodePorts(svc: KubeObject, spec: ServiceSpecFields, held: ReadonlySet<number>, dryRun: boolean, txn: AllocationTransaction): Promise<void> {
    const ports = spec.ports ?? [];
    const taken = new Set<number>();
    const found = new Set<number>();
    for (let i = 0; i < ports.length; i++) {
      const p = ports[i]!;
      if (!p.nodePort && !shouldAllocateNodePorts(spec)) continue;
      if (p.nodePort) {
        if (!held.has(p.nodePort) && !taken.has(p.nodePort)) {
          await this.takePort(svc, i, p.nodePort, dryRun, txn);
          taken.add(p.nodePort);
        }
      } else {
        p.nodePort = await this.nextPort(svc, i, dryRun, txn, found);
      }
    }
  }

  private async allocHealthCheckNodePort(svc: KubeObject, spec: ServiceSpecFields, dryRun: boolean, txn: AllocationTransaction): Promise<void> {
    const parent = this.parentOf(svc);
    const path = SPEC.child("healthCheckNodePort");
    const requested = spec.healthCheckNodePort ?? 0;
    try {
      if (requested !== 0) await this.ports.allocate(requested, parent, dryRun);
      else spec.healthCheckNodePort = await this.ports.allocateNext(parent, dryRun, new Set(nodePortsOf(spec)));
    } catch (err) {
      if (!isAllocatorError(err)) throw err;
      if (requested !== 0) throw this.invalid(svc, [invalid(path, requested, `failed to allocate requested HealthCheck NodePort ${requested}: ${err.message}`)]);
      throw this.invalid(svc, [invalid(path, OMIT_VALUE, `failed to allocate a HealthCheck NodePort: ${err.message}`)]);
    }
    const port = spec.healthCheckNodePort!;
    if (!dryRun) txn.onRevert(() => this.ports.release(port, parent));
  }
}
