// The records the server answers from: canonical name → records, each name's records grouped
// by the object that produced them (a Service key), so that one Service's change replaces
// exactly its own records. A lookup is two map reads. Names under the cluster domain that
// have records below them but none of their own ("empty non-terminals", e.g.
// `default.svc.cluster.local`) exist too: they answer NOERROR without data, not NXDOMAIN
// (RFC 8020), so they are reference-counted from every name registered beneath them.
import { inZone } from "./names.js";
import type { Rdata } from "./wire.js";

/** canonical name → its records */
export type RecordSet = ReadonlyMap<string, readonly Rdata[]>;

const EMPTY: readonly Rdata[] = Object.freeze([]);

export class RecordStore {
  private readonly byName = new Map<string, Map<string, readonly Rdata[]>>();
  private readonly byOwner = new Map<string, RecordSet>();
  private readonly nonTerminals = new Map<string, number>();
  private changed = 0;

  /** `zone` is the cluster domain, canonical: names under it count their ancestors up to it. */
  constructor(private readonly zone: string) {}

  /** Replaces every record `owner` contributed with `records` (empty: removes the owner). */
  set(owner: string, records: RecordSet): void {
    const old = this.byOwner.get(owner);
    if (old) {
      for (const name of old.keys()) {
        const entry = this.byName.get(name);
        entry?.delete(owner);
        if (entry && entry.size === 0) this.byName.delete(name);
        this.countAncestors(name, -1);
      }
    }
    if (records.size === 0) this.byOwner.delete(owner);
    else {
      this.byOwner.set(owner, records);
      for (const [name, rds] of records) {
        let entry = this.byName.get(name);
        if (!entry) this.byName.set(name, (entry = new Map()));
        entry.set(owner, rds);
        this.countAncestors(name, 1);
      }
    }
    this.changed++;
  }

  /**
   * The records of a canonical name: undefined when the name does not exist, an empty list
   * for an empty non-terminal.
   */
  lookup(name: string): readonly Rdata[] | undefined {
    const entry = this.byName.get(name);
    if (entry === undefined) return this.nonTerminals.has(name) ? EMPTY : undefined;
    if (entry.size === 1) for (const rds of entry.values()) return rds;
    const all: Rdata[] = [];
    for (const rds of entry.values()) all.push(...rds);
    return all;
  }

  get owners(): number {
    return this.byOwner.size;
  }

  get names(): number {
    return this.byName.size;
  }

  /** Counts every change; the SOA serial is derived from when it last moved. */
  get generation(): number {
    return this.changed;
  }

  private countAncestors(name: string, delta: 1 | -1): void {
    if (!inZone(name, this.zone) || name === this.zone) return;
    let at = name.indexOf(".");
    while (at >= 0) {
      const parent = name.slice(at + 1);
      const n = (this.nonTerminals.get(parent) ?? 0) + delta;
      if (n <= 0) this.nonTerminals.delete(parent);
      else this.nonTerminals.set(parent, n);
      if (parent === this.zone) return;
      at = name.indexOf(".", at + 1);
    }
  }
}
