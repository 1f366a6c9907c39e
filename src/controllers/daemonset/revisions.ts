// A DaemonSet's history (upstream update.go constructHistory, snapshot, dedupCurHistories,
// cleanupHistory) over the generic revision machinery of history.ts: the current revision is
// the one whose data is the DaemonSet's template patch; its hash labels the pods made from it.
import type { ControllerRevision, DaemonSet } from "kubernetes-types/apps/v1.js";
import { labelSelectorAsSelector } from "../../api/labels.js";
import { isAlreadyExists, isNotFound } from "../../client/errors.js";
import type { Logger } from "../../util/log.js";
import type { Api, ResourceApi } from "../api.js";
import { claimObjects } from "../replicaset/claim.js";
import { WorkloadError } from "../replicaset/errors.js";
import type { RPod } from "../replicaset/podutil.js";
import { CONTROLLER_REVISION_HASH_LABEL, RevisionWriter, byRevision, equalData, hashOf, maxRevision, newControllerRevision, revisionHash, sortedCopy, type RRevision } from "../history/history.js";
import type { RDaemonSet } from "./nodes.js";
import { dsOwner } from "./util.js";

/**
 * What a revision of a DaemonSet holds (upstream getPatch): a strategic merge patch that
 * replaces spec.template, so that `kubectl rollout undo` can apply it to the DaemonSet as is.
 * Keys are sorted, as Go's encoding of the map writes them.
 */
export function templatePatch(ds: RDaemonSet): { spec: { template: Record<string, unknown> } } {
  const template = sortedCopy((ds.spec?.template ?? {}) as Record<string, unknown>);
  return { spec: { template: { ...template, $patch: "replace" } } };
}

/** Whether a revision holds this DaemonSet's current template (upstream Match). */
export function isCurrentRevision(ds: RDaemonSet, rev: RRevision): boolean {
  return equalData(templatePatch(ds), rev.data);
}

/** The hash of the DaemonSet's template with its collision count: the current revision's name suffix and label. */
export function templateHash(ds: RDaemonSet): string {
  return hashOf(ds.spec?.template, ds.status?.collisionCount ?? undefined);
}

export interface HistoryDeps {
  readonly api: Api;
  readonly log: Logger;
  /** Every ControllerRevision of the namespace, from the cache. */
  readonly revisions: (namespace: string) => readonly RRevision[];
  /** Rejects when the DaemonSet may not adopt (its live copy is gone or being deleted). */
  readonly canAdopt: (ds: RDaemonSet) => Promise<void>;
}

export class DaemonSetHistory {
  private readonly dsApi: ResourceApi<DaemonSet>;
  private readonly podApi;

  constructor(private readonly d: HistoryDeps) {
    this.dsApi = d.api.resource<DaemonSet>("apps", "v1", "daemonsets", { namespaced: true, kind: "DaemonSet" });
    this.podApi = d.api.resource("", "v1", "pods", { namespaced: true, kind: "Pod" });
  }

  private writer(ds: RDaemonSet): RevisionWriter {
    return new RevisionWriter(this.d.api, ds.metadata?.namespace ?? "");
  }

  /** The revisions the DaemonSet controls, adopting orphans its selector matches and releasing its own that it no longer matches. */
  async controlled(ds: RDaemonSet): Promise<RRevision[]> {
    const selector = labelSelectorAsSelector(ds.spec?.selector as Parameters<typeof labelSelectorAsSelector>[0]);
    const owner = dsOwner(ds);
    const w = this.writer(ds);
    const { claimed, errors } = await claimObjects<ControllerRevision>(owner, selector, this.d.revisions(ds.metadata?.namespace ?? ""), {
      canAdopt: () => this.d.canAdopt(ds),
      adopt: (r) => w.adopt(owner, r),
      release: (r) => w.release(ds.metadata?.uid ?? "", r),
    });
    if (errors.length > 0) throw errors[0];
    return claimed;
  }

  /**
   * The current revision and the old ones (upstream constructHistory): labels revisions that
   * predate the hash label with their name, creates the current revision if none holds the
   * template, keeps only the newest if several do, and renumbers the current one past every old
   * one (a rollback to an old template makes it the newest revision again).
   */
  async construct(ds: RDaemonSet, claimPods: () => Promise<readonly RPod[]>): Promise<{ cur: RRevision; old: RRevision[] }> {
    const w = this.writer(ds);
    const current: RRevision[] = [];
    const old: RRevision[] = [];
    for (let rev of await this.controlled(ds)) {
      if (revisionHash(rev) === undefined) rev = await w.setHashLabel(rev, rev.metadata?.name ?? "");
      (isCurrentRevision(ds, rev) ? current : old).push(rev);
    }
    const next = maxRevision(old) + 1;
    if (current.length === 0) return { cur: await this.snapshot(ds, next), old };
    let cur = await this.dedup(ds, current, claimPods);
    if (cur.revision < next) cur = await w.setRevision(cur, next);
    return { cur, old };
  }

  /**
   * Creates the revision of the current template (upstream snapshot). A revision of that name
   * may exist already: ours from an earlier sync whose create the cache has not shown yet
   * (reused), or another template's whose hash collides. Then status.collisionCount is bumped,
   * which changes the hash, and the sync is retried; unless the count we hashed with is already
   * stale, in which case the retry alone picks up the new one.
   */
  private async snapshot(ds: RDaemonSet, revision: number): Promise<RRevision> {
    const hash = templateHash(ds);
    const rev = newControllerRevision({ owner: dsOwner(ds), templateLabels: ds.spec?.template?.metadata?.labels, data: templatePatch(ds), revision, hash, ...(ds.metadata?.annotations ? { annotations: ds.metadata.annotations } : {}) });
    const w = this.writer(ds);
    try {
      return await w.create(rev);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      const existing = await w.get(rev.metadata?.name ?? "");
      if (isCurrentRevision(ds, existing)) return existing;
      const api = this.dsApi.namespace(ds.metadata?.namespace ?? "");
      const fresh = await api.get(ds.metadata?.name ?? "");
      const seen = ds.status?.collisionCount ?? undefined;
      const live = fresh.status?.collisionCount ?? undefined;
      if (seen !== live) throw new WorkloadError("HashCollision", `found a stale collision count (${String(seen)}, expected ${String(live)}) of DaemonSet ${ds.metadata?.name ?? ""} while processing; will retry until it is updated`, { cause: err });
      const collisionCount = (live ?? 0) + 1;
      const status = { ...(fresh.status ?? { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 }), collisionCount };
      await api.updateStatus({ ...fresh, status });
      this.d.log.info({ daemonset: `${ds.metadata?.namespace ?? ""}/${ds.metadata?.name ?? ""}`, collisionCount }, "found a hash collision for DaemonSet; bumping collisionCount to resolve it");
      throw new WorkloadError("HashCollision", `revision ${rev.metadata?.name ?? ""} exists with another template`, { cause: err });
    }
  }

  /**
   * Several revisions hold the current template (upstream dedupCurHistories): keep the one with
   * the highest revision, relabel pods of the others to its hash, then delete the others.
   */
  private async dedup(ds: RDaemonSet, current: readonly RRevision[], claimPods: () => Promise<readonly RPod[]>): Promise<RRevision> {
    if (current.length === 1) return current[0]!;
    let keep = current[0]!;
    for (const r of current) if (r.revision >= keep.revision) keep = r;
    const keepHash = revisionHash(keep) ?? "";
    const ns = ds.metadata?.namespace ?? "";
    const w = this.writer(ds);
    for (const r of current) {
      if (r.metadata?.name === keep.metadata?.name) continue;
      for (const p of await claimPods()) {
        if (p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] === keepHash) continue;
        await this.podApi.namespace(ns).patch(p.metadata?.name ?? "", "strategic", { metadata: { labels: { [CONTROLLER_REVISION_HASH_LABEL]: keepHash } } });
      }
      await w.delete(r.metadata?.name ?? "");
    }
    return keep;
  }

  /**
   * Deletes the oldest old revisions beyond spec.revisionHistoryLimit (default 10), skipping any
   * that a live pod still carries the hash of (upstream cleanupHistory). The current revision
   * is never among `old`.
   */
  async cleanup(ds: RDaemonSet, old: readonly RRevision[], pods: readonly RPod[]): Promise<void> {
    let toKill = old.length - (ds.spec?.revisionHistoryLimit ?? 10);
    if (toKill <= 0) return;
    const live = new Set<string>();
    for (const p of pods) {
      const h = p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL];
      if (h) live.add(h);
    }
    const w = this.writer(ds);
    for (const rev of [...old].sort(byRevision)) {
      if (toKill <= 0) break;
      if (live.has(revisionHash(rev) ?? "")) continue;
      try {
        await w.delete(rev.metadata?.name ?? "");
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      toKill--;
    }
  }
}
