// ControllerRevisions: the history DaemonSets and StatefulSets keep of their pod
// templates (upstream pkg/controller/history). A revision is an immutable snapshot (`data`)
// with an increasing `revision` number, named `<owner>-<hash>` and labelled with the hash, so
// that pods carrying `controller-revision-hash` can be matched to the revision they were made
// from. Nothing here knows about DaemonSets: the owner, the data and the hash input are
// parameters, so a StatefulSet controller can use the same machinery.
import type { ControllerRevision } from "kubernetes-types/apps/v1.js";
import type { Api, ResourceApi } from "../api.js";
import type { DeepReadonly } from "../../client/objects.js";
import { adoptPatch, controllerRefFor, releasePatch, type Owner } from "../replicaset/claim.js";
import { canonicalJson } from "../../util/json.js";

export { canonicalJson };

/** apps/v1 ControllerRevisionHashLabelKey (also DaemonSet's DefaultDaemonSetUniqueLabelKey). */
export const CONTROLLER_REVISION_HASH_LABEL = "controller-revision-hash";

export type RRevision = DeepReadonly<ControllerRevision>;


/** A deep copy with object keys in sorted order, as Go's json.Marshal writes a map. */
export function sortedCopy<T>(v: T | DeepReadonly<T>): T {
  if (Array.isArray(v)) return v.map((x: unknown) => sortedCopy(x)) as T;
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortedCopy((v as Record<string, unknown>)[k]);
    return out as T;
  }
  return v as T;
}

function fnv32a(bytes: Uint8Array, h = 0x811c9dc5): number {
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const SAFE_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789";

/**
 * The hash of a value (upstream controller.ComputeHash for a DaemonSet's template,
 * history.HashControllerRevision for a StatefulSet's revision data): FNV-32a of its canonical
 * JSON (upstream hashes Go's deep printing, so hashes differ from a real cluster's but are just
 * as stable), then the collision count when set, rendered as the decimal of the sum through
 * rand.SafeEncodeString: lowercase consonants and digits. A different collision count gives a
 * different hash, which is how a name collision with another revision is escaped.
 */
export function hashOf(value: unknown, collisionCount?: number): string {
  let h = fnv32a(new TextEncoder().encode(canonicalJson(value ?? {})));
  if (collisionCount !== undefined && collisionCount !== null) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv32a(b, h);
  }
  const s = String(h);
  let out = "";
  for (let i = 0; i < s.length; i++) out += SAFE_ALPHANUMS[s.charCodeAt(i) % SAFE_ALPHANUMS.length];
  return out;
}

/** `<prefix>-<hash>`, the prefix cut to 223 characters so the name stays a valid DNS subdomain (upstream ControllerRevisionName). */
export function revisionName(prefix: string, hash: string): string {
  return `${prefix.length > 223 ? prefix.slice(0, 223) : prefix}-${hash}`;
}

export interface NewRevision {
  readonly owner: Owner & { readonly metadata?: { readonly annotations?: Readonly<Record<string, string>> } };
  /** The owner's template labels; the hash label is added. */
  readonly templateLabels: Readonly<Record<string, string>> | undefined;
  readonly data: unknown;
  readonly revision: number;
  readonly hash: string;
  /** Copied onto the revision (a DaemonSet copies its own annotations). */
  readonly annotations?: Readonly<Record<string, string>>;
}

/** The ControllerRevision to create (upstream NewControllerRevision / the DaemonSet's snapshot). */
export function newControllerRevision(r: NewRevision): ControllerRevision {
  const name = revisionName(r.owner.metadata?.name ?? "", r.hash);
  return {
    apiVersion: "apps/v1",
    kind: "ControllerRevision",
    metadata: {
      name,
      namespace: r.owner.metadata?.namespace ?? "",
      labels: { ...(r.templateLabels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: r.hash },
      ...(r.annotations && Object.keys(r.annotations).length > 0 ? { annotations: { ...r.annotations } } : {}),
      ownerReferences: [controllerRefFor(r.owner)],
    },
    data: r.data as ControllerRevision["data"],
    revision: r.revision,
  };
}

/** Whether two revisions (or a revision and fresh data) hold the same snapshot (upstream EqualRevision compares data bytes). */
export function equalData(a: unknown, b: unknown): boolean {
  return canonicalJson(a ?? null) === canonicalJson(b ?? null);
}

/** The revisions among `revs` whose data equals `data` (upstream FindEqualRevisions). */
export function findEqualRevisions(revs: readonly RRevision[], data: unknown): RRevision[] {
  return revs.filter((r) => equalData(r.data, data));
}

/** Oldest first: by revision number, then creation time, then name (upstream SortControllerRevisions). */
export function byRevision(a: RRevision, b: RRevision): number {
  if (a.revision !== b.revision) return a.revision - b.revision;
  const ta = a.metadata?.creationTimestamp ?? "";
  const tb = b.metadata?.creationTimestamp ?? "";
  if (ta !== tb) return ta < tb ? -1 : 1;
  const na = a.metadata?.name ?? "";
  const nb = b.metadata?.name ?? "";
  return na < nb ? -1 : na > nb ? 1 : 0;
}

/** The highest revision number, 0 for none. */
export function maxRevision(revs: readonly RRevision[]): number {
  let max = 0;
  for (const r of revs) max = Math.max(max, r.revision);
  return max;
}

/** The hash a revision was labelled with (its name for revisions written before the label existed). */
export function revisionHash(r: RRevision): string | undefined {
  return r.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL];
}

/** The writes on ControllerRevisions of one namespace (upstream history.Interface, without the reads, which go through the cache). */
export class RevisionWriter {
  private readonly api: ResourceApi<ControllerRevision>;

  constructor(api: Api, namespace: string) {
    this.api = api.resource<ControllerRevision>("apps", "v1", "controllerrevisions", { namespaced: true, kind: "ControllerRevision" }).namespace(namespace);
  }

  create(rev: ControllerRevision): Promise<ControllerRevision> {
    return this.api.create(rev);
  }

  get(name: string): Promise<ControllerRevision> {
    return this.api.get(name);
  }

  /** Writes a copy of `rev` with another revision number (upstream UpdateControllerRevision). */
  setRevision(rev: RRevision, revision: number): Promise<ControllerRevision> {
    return this.api.update({ ...(structuredClone(rev) as ControllerRevision), revision });
  }

  /** Writes a copy of `rev` with the hash label set (revisions written before the label existed). */
  setHashLabel(rev: RRevision, hash: string): Promise<ControllerRevision> {
    const copy = structuredClone(rev) as ControllerRevision;
    copy.metadata = { ...copy.metadata, labels: { ...(copy.metadata?.labels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: hash } };
    return this.api.update(copy);
  }

  async delete(name: string): Promise<void> {
    await this.api.delete(name);
  }

  adopt(owner: Owner, rev: RRevision): Promise<ControllerRevision> {
    return this.api.patch(rev.metadata?.name ?? "", "strategic", adoptPatch(owner, rev.metadata?.uid ?? ""));
  }

  release(ownerUid: string, rev: RRevision): Promise<ControllerRevision> {
    return this.api.patch(rev.metadata?.name ?? "", "strategic", releasePatch(ownerUid, rev.metadata?.uid ?? ""));
  }
}

export type { Owner };
