// What to answer for one question, from the record store: authoritative answers for the
// cluster domain (NXDOMAIN with the zone's SOA for names that do not exist, NOERROR with the
// SOA for names that exist without the asked type), PTRs for the addresses the cluster owns,
// and "forward" for everything else — as CoreDNS's default Corefile (`kubernetes cluster.local
// in-addr.arpa ip6.arpa { pods insecure; fallthrough in-addr.arpa ip6.arpa }` + `forward .`).
import { addressRecord } from "./records.js";
import { canonicalName, inZone, ipFromDashed } from "./names.js";
import type { RecordStore } from "./store.js";
import { CLASS_ANY, CLASS_IN, RCODE, TYPE, type Rdata, type ResourceRecord } from "./wire.js";

export interface Question {
  /** as the client wrote it (answers echo its case) */
  readonly name: string;
  readonly type: number;
  readonly class: number;
}

export interface Answer {
  readonly kind: "answer";
  readonly rcode: number;
  readonly authoritative: boolean;
  readonly answers: ResourceRecord[];
  readonly authorities: ResourceRecord[];
  readonly additionals: ResourceRecord[];
}

/**
 * The answer so far ends in a CNAME to a name outside the cluster (an ExternalName Service):
 * the caller resolves `name`/`type` upstream and appends what it gets.
 */
export interface Chase {
  readonly kind: "chase";
  readonly answers: ResourceRecord[];
  readonly name: string;
  readonly type: number;
}

export type Resolution = Answer | Chase | { readonly kind: "forward" };

const FORWARD: Resolution = Object.freeze({ kind: "forward" });
const REVERSE_ZONES = ["in-addr.arpa", "ip6.arpa"] as const;
const MAX_CNAME_CHAIN = 8;
const TYPE_AXFR = 252;
const TYPE_IXFR = 251;

export interface ResolverOptions {
  readonly store: RecordStore;
  /** canonical cluster domain */
  readonly zone: string;
  readonly ttl: number;
  /** the SOA serial of the moment */
  readonly serial: () => number;
}

export class Resolver {
  private readonly store: RecordStore;
  private readonly zone: string;
  private readonly ttl: number;
  private readonly podSuffix: string;

  constructor(private readonly o: ResolverOptions) {
    this.store = o.store;
    this.zone = o.zone;
    this.ttl = o.ttl;
    this.podSuffix = `.pod.${o.zone}`;
  }

  resolve(q: Question): Resolution {
    const name = canonicalName(q.name);
    if (inZone(name, this.zone)) {
      if (q.class !== CLASS_IN && q.class !== CLASS_ANY) return answer(RCODE.REFUSED, false, [], []);
      // Zone transfers are not offered (CoreDNS's kubernetes plugin needs the transfer plugin for them).
      if (q.type === TYPE_AXFR || q.type === TYPE_IXFR) return answer(RCODE.REFUSED, false, [], []);
      return this.authoritative(q, name, this.zone);
    }
    const reverse = REVERSE_ZONES.find((z) => inZone(name, z));
    if (reverse === undefined) return FORWARD;
    // Only addresses the cluster owns are ours; any other reverse name goes upstream.
    const rds = this.store.lookup(name);
    if (rds === undefined || rds.length === 0 || (q.class !== CLASS_IN && q.class !== CLASS_ANY)) return FORWARD;
    return this.fromRecords(q, q.name, rds, reverse, []);
  }

  private authoritative(q: Question, name: string, zone: string): Resolution {
    if (name === zone && (q.type === TYPE.SOA || q.type === TYPE.ANY)) {
      const answers = [this.soa(q.name)];
      if (q.type === TYPE.ANY) for (const rd of this.store.lookup(name) ?? []) answers.push({ name: q.name, ttl: this.ttl, data: rd });
      return answer(RCODE.NOERROR, true, answers, []);
    }
    const rds = this.lookup(name);
    if (rds === undefined) return answer(RCODE.NXDOMAIN, true, [], [this.soa(zone)]);
    return this.fromRecords(q, q.name, rds, zone, []);
  }

  /** The store's records, or the synthesised ones: pod names and the fixed structure of the zone. */
  private lookup(name: string): readonly Rdata[] | undefined {
    const rds = this.store.lookup(name);
    if (rds !== undefined) return rds;
    if (name === this.zone || name === `svc.${this.zone}` || name === `pod.${this.zone}`) return [];
    if (!name.endsWith(this.podSuffix)) return undefined;
    // <a-b-c-d>.<ns>.pod.<zone>: any address, any namespace (CoreDNS "pods insecure").
    const labels = name.slice(0, -this.podSuffix.length).split(".");
    if (labels.length === 1) return [];
    if (labels.length !== 2) return undefined;
    const ip = ipFromDashed(labels[0]!);
    const rd = ip === undefined ? undefined : addressRecord(ip);
    return rd ? [rd] : undefined;
  }

  private fromRecords(q: Question, owner: string, rds: readonly Rdata[], zone: string, chain: ResourceRecord[]): Resolution {
    const cname = q.type === TYPE.CNAME || q.type === TYPE.ANY ? undefined : rds.find((rd) => rd.type === TYPE.CNAME);
    if (cname && cname.type === TYPE.CNAME) {
      chain.push({ name: owner, ttl: this.ttl, data: cname });
      const target = cname.target;
      if (!inZone(target, this.zone)) return { kind: "chase", answers: chain, name: target, type: q.type };
      if (chain.length >= MAX_CNAME_CHAIN) return answer(RCODE.SERVFAIL, true, chain, []);
      const next = this.lookup(target);
      // RFC 6604: the rcode is that of the last name in the chain.
      if (next === undefined) return answer(RCODE.NXDOMAIN, true, chain, [this.soa(this.zone)]);
      return this.fromRecords(q, target, next, this.zone, chain);
    }
    const answers = chain;
    const before = answers.length;
    let srvTargets: Set<string> | undefined;
    for (const rd of rds) {
      if (rd.type !== q.type && q.type !== TYPE.ANY) continue;
      answers.push({ name: owner, ttl: this.ttl, data: rd });
      if (rd.type === TYPE.SRV) (srvTargets ??= new Set()).add(rd.target);
    }
    if (answers.length === before) return answer(RCODE.NOERROR, true, answers, [this.soa(zone)]);
    const additionals: ResourceRecord[] = [];
    if (srvTargets) {
      // The spec allows the targets' addresses in the Additional section; resolvers use them.
      for (const t of srvTargets) {
        for (const rd of this.store.lookup(t) ?? []) if (rd.type === TYPE.A || rd.type === TYPE.AAAA) additionals.push({ name: t, ttl: this.ttl, data: rd });
      }
    }
    return { kind: "answer", rcode: RCODE.NOERROR, authoritative: true, answers, authorities: [], additionals };
  }

  /** The zone's SOA, as CoreDNS writes it: ns.dns.<zone>, hostmaster.<zone>, the TTL as minimum. */
  private soa(owner: string): ResourceRecord {
    const z = this.zone;
    return {
      name: owner,
      ttl: this.ttl,
      data: { type: TYPE.SOA, mname: `ns.dns.${z}`, rname: `hostmaster.${z}`, serial: this.o.serial(), refresh: 7200, retry: 1800, expire: 86400, minimum: this.ttl },
    };
  }
}

function answer(rcode: number, authoritative: boolean, answers: ResourceRecord[], authorities: ResourceRecord[]): Answer {
  return { kind: "answer", rcode, authoritative, answers, authorities, additionals: [] };
}
