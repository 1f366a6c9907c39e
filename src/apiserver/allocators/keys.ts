// One storage key per allocated value (a cluster IP, a node port), holding the Service that
// owns it. Creating a key is the allocation: the store's create fails with AlreadyExists when
// the key is there, so API servers sharing one store can never hand out one value twice
// (upstream's IPAddress objects of the MultiCIDR allocator work the same way). Releasing is
// deleting the key, and only the owner's key is deleted.
import type { KeyValue, Store } from "../../storage/interface.js";
import { isStorageError } from "../../storage/errors.js";
import { rfc3339 } from "../../util/time.js";

/** Who holds an allocated value (networking.k8s.io/v1 ParentReference). */
export interface ParentRef {
  readonly group: string;
  readonly resource: string;
  readonly namespace: string;
  readonly name: string;
}

/** What a key holds: the shape of networking.k8s.io/v1 IPAddress, which node-port keys share. */
export interface AllocationRecord {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: { readonly name: string; readonly creationTimestamp: string; readonly labels?: Readonly<Record<string, string>> };
  readonly spec: { readonly parentRef: ParentRef };
}

export interface AllocationEntry {
  readonly name: string;
  readonly record: AllocationRecord | undefined;
  readonly kv: KeyValue;
}

export function serviceRef(namespace: string, name: string): ParentRef {
  return { group: "", resource: "services", namespace, name };
}

export function sameParent(a: ParentRef | undefined, b: ParentRef): boolean {
  return a !== undefined && a.group === b.group && a.resource === b.resource && a.namespace === b.namespace && a.name === b.name;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface AllocationKeysOptions {
  readonly store: Store;
  /** e.g. `/registry/ipaddresses/`. */
  readonly prefix: string;
  /** apiVersion, kind and labels of the records written. */
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly labels?: (name: string) => Record<string, string>;
  readonly now?: () => Date;
}

export class AllocationKeys {
  readonly prefix: string;

  constructor(private readonly o: AllocationKeysOptions) {
    this.prefix = o.prefix;
  }

  key(name: string): string {
    return this.prefix + name;
  }

  record(name: string, parent: ParentRef): AllocationRecord {
    const labels = this.o.labels?.(name);
    return {
      ...(this.o.apiVersion ? { apiVersion: this.o.apiVersion } : {}),
      ...(this.o.kind ? { kind: this.o.kind } : {}),
      metadata: { name, creationTimestamp: rfc3339(this.o.now?.() ?? new Date()), ...(labels ? { labels } : {}) },
      spec: { parentRef: parent },
    };
  }

  /** Takes `name` for `parent`: true if the key was created, false if it exists already. */
  async create(name: string, parent: ParentRef): Promise<boolean> {
    try {
      await this.o.store.create(this.key(name), encoder.encode(JSON.stringify(this.record(name, parent))));
      return true;
    } catch (err) {
      if (isStorageError(err, "AlreadyExists")) return false;
      throw err;
    }
  }

  async get(name: string): Promise<AllocationEntry | undefined> {
    const { kv } = await this.o.store.get(this.key(name));
    return kv ? { name, record: decodeRecord(kv), kv } : undefined;
  }

  async exists(name: string): Promise<boolean> {
    return (await this.o.store.get(this.key(name))).kv !== undefined;
  }

  private async listKVs(revision: number | undefined): Promise<{ readonly kvs: KeyValue[]; readonly revision: number }> {
    const kvs: KeyValue[] = [];
    let token: string | undefined;
    let rev = revision;
    do {
      const page = await this.o.store.list(this.prefix, { limit: 5000, ...(rev ? { revision: rev } : {}), ...(token ? { continue: token } : {}) });
      rev = page.revision;
      kvs.push(...page.kvs);
      token = page.continue;
    } while (token);
    return { kvs, revision: rev ?? 0 };
  }

  /** Every key, read at one revision (the given one, or the latest). */
  async list(revision?: number): Promise<{ readonly entries: AllocationEntry[]; readonly revision: number }> {
    const { kvs, revision: rev } = await this.listKVs(revision);
    return { entries: kvs.map((kv) => ({ name: kv.key.slice(this.prefix.length), record: decodeRecord(kv), kv })), revision: rev };
  }

  /** The names taken right now (the records are not decoded: allocation only needs the names). */
  async taken(): Promise<Set<string>> {
    return new Set((await this.listKVs(undefined)).kvs.map((kv) => kv.key.slice(this.prefix.length)));
  }

  /**
   * Gives `name` back if `parent` holds it (any holder when `parent` is undefined); true if a
   * key was deleted. A key changed since it was read is left alone: someone else owns it now.
   */
  async release(name: string, parent: ParentRef | undefined): Promise<boolean> {
    const entry = await this.get(name);
    if (!entry) return false;
    if (parent && !sameParent(entry.record?.spec.parentRef, parent)) return false;
    return this.deleteEntry(entry);
  }

  /** Deletes the key if it still has the revision it was read at. */
  async deleteEntry(entry: AllocationEntry): Promise<boolean> {
    try {
      await this.o.store.delete(entry.kv.key, entry.kv.modRevision);
      return true;
    } catch (err) {
      if (isStorageError(err, "NotFound") || isStorageError(err, "Conflict")) return false;
      throw err;
    }
  }
}

function decodeRecord(kv: KeyValue): AllocationRecord | undefined {
  try {
    const r = JSON.parse(decoder.decode(kv.value)) as Partial<AllocationRecord> | null;
    return r && typeof r === "object" && r.metadata && r.spec?.parentRef ? (r as AllocationRecord) : undefined;
  } catch {
    return undefined;
  }
}
