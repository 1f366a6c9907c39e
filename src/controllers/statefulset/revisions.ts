// A StatefulSet's history (upstream stateful_set_control.go getStatefulSetRevisions and
// truncateHistory, stateful_set_utils.go getPatch/newRevision/ApplyRevision) over the shared
// ControllerRevision machinery. Unlike a DaemonSet's, a StatefulSet keeps two revisions in
// play: status.currentRevision (what pods below the partition, and pods being recreated
// during a rollout, are made from) and the update revision (the template as it is now). Pods
// carry the revision's *name* in controller-revision-hash, which is what status reports.
import type { ControllerRevision } from "kubernetes-types/apps/v1.js";
import type { PodTemplateSpec } from "kubernetes-types/core/v1.js";
import { labelSelectorAsSelector } from "../../api/labels.js";
import { isAlreadyExists, isNotFound } from "../../client/errors.js";
import type { DeepReadonly } from "../../client/objects.js";
import type { Api } from "../api.js";
import { claimObjects } from "../replicaset/claim.js";
import { controllerRefOf, type RPod } from "../replicaset/podutil.js";
import { RevisionWriter, byRevision, equalData, hashOf, newControllerRevision, revisionName, sortedCopy, CONTROLLER_REVISION_HASH_LABEL, type RRevision } from "../history/history.js";
import { podRevision, setOwner, type RSet } from "./util.js";

/**
 * What a revision holds (upstream getPatch): a strategic merge patch replacing spec.template,
 * which `kubectl rollout undo` applies to the set as is. Keys sorted, as Go writes a map.
 */
export function templatePatch(set: RSet): { spec: { template: Record<string, unknown> } } {
  const template = sortedCopy((set.spec?.template ?? {}) as Record<string, unknown>);
  return { spec: { template: { ...template, $patch: "replace" } } };
}

/** The pod template a revision records (upstream ApplyRevision, for the one field a revision restores). */
export function revisionTemplate(rev: RRevision): DeepReadonly<PodTemplateSpec> {
  const data = rev.data as { spec?: { template?: Record<string, unknown> } } | undefined;
  const { $patch: _replace, ...template } = data?.spec?.template ?? {};
  return template as DeepReadonly<PodTemplateSpec>;
}

/** The revision the set's current template would be recorded in, numbered `revision` (upstream newRevision). */
export function newRevision(set: RSet, revision: number, collisionCount: number): ControllerRevision {
  const data = templatePatch(set);
  return newControllerRevision({ owner: setOwner(set), templateLabels: set.spec?.template?.metadata?.labels, data, revision, hash: hashOf(data, collisionCount), ...(set.metadata?.annotations ? { annotations: set.metadata.annotations } : {}) });
}

export interface SetRevisions {
  readonly current: RRevision;
  readonly update: RRevision;
  readonly collisionCount: number;
}

export class StatefulSetHistory {
  constructor(
    private readonly api: Api,
    /** Every ControllerRevision of the namespace, from the cache. */
    private readonly revisions: (namespace: string) => readonly RRevision[],
  ) {}

  private writer(set: RSet): RevisionWriter {
    return new RevisionWriter(this.api, set.metadata?.namespace ?? "");
  }

  /** The set's revisions and the orphans its selector matches, oldest first (upstream ListRevisions). */
  list(set: RSet): RRevision[] {
    const selector = labelSelectorAsSelector(set.spec?.selector as Parameters<typeof labelSelectorAsSelector>[0]);
    const uid = set.metadata?.uid ?? "";
    return this.revisions(set.metadata?.namespace ?? "")
      .filter((r) => selector.matches(r.metadata?.labels))
      .filter((r) => {
        const ref = controllerRefOf(r);
        return ref === undefined || ref.uid === uid;
      })
      .sort(byRevision);
  }

  /** Adopts matching orphan revisions (upstream adoptOrphanRevisions); `canAdopt` re-reads the set live first. */
  async adoptOrphans(set: RSet, canAdopt: () => Promise<void>): Promise<void> {
    const orphans = this.list(set).filter((r) => controllerRefOf(r) === undefined);
    if (orphans.length === 0) return;
    const owner = setOwner(set);
    const w = this.writer(set);
    const selector = labelSelectorAsSelector(set.spec?.selector as Parameters<typeof labelSelectorAsSelector>[0]);
    const { errors } = await claimObjects<ControllerRevision>(owner, selector, orphans, { canAdopt, adopt: (r) => w.adopt(owner, r), release: (r) => w.release(set.metadata?.uid ?? "", r) });
    if (errors.length > 0) throw errors[0];
  }

  /**
   * The current and update revisions (upstream getStatefulSetRevisions). The update revision is
   * the newest one if it already holds the template; an older one that holds it is renumbered
   * past the newest (a rollback); otherwise it is created. The current revision is the one
   * status.currentRevision names, or the update revision when there is none yet.
   */
  async construct(set: RSet, revisions: readonly RRevision[]): Promise<SetRevisions> {
    let collisionCount = set.status?.collisionCount ?? 0;
    const next = (revisions[revisions.length - 1]?.revision ?? 0) + 1;
    const data = templatePatch(set);
    const equal = revisions.filter((r) => equalData(r.data, data));
    const last = revisions[revisions.length - 1];
    let update: RRevision;
    if (last !== undefined && equalData(last.data, data)) update = last;
    else if (equal.length > 0) update = await this.writer(set).setRevision(equal[equal.length - 1]!, next);
    else ({ revision: update, collisionCount } = await this.create(set, next, collisionCount));
    const current = revisions.find((r) => r.metadata?.name === set.status?.currentRevision) ?? update;
    return { current, update, collisionCount };
  }

  /**
   * Creates the revision (upstream history.CreateControllerRevision): on a name taken by a
   * revision of other data, the collision count is raised, which changes the hash and name,
   * until a free name (or our own revision, created by an earlier sync) is found.
   */
  private async create(set: RSet, revision: number, collisionCount: number): Promise<{ revision: RRevision; collisionCount: number }> {
    const w = this.writer(set);
    const rev = newRevision(set, revision, collisionCount);
    for (;;) {
      const hash = hashOf(rev.data, collisionCount);
      rev.metadata = { ...rev.metadata, name: revisionName(set.metadata?.name ?? "", hash), labels: { ...(rev.metadata?.labels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: hash } };
      try {
        return { revision: await w.create(rev), collisionCount };
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        const existing = await w.get(rev.metadata.name ?? "");
        if (equalData(existing.data, rev.data)) return { revision: existing, collisionCount };
        collisionCount++;
      }
    }
  }

  /**
   * Deletes the oldest revisions beyond spec.revisionHistoryLimit that are neither current,
   * nor the update revision, nor the revision of any pod (upstream truncateHistory).
   */
  async truncate(set: RSet, pods: readonly RPod[], revisions: readonly RRevision[], current: RRevision | undefined, update: RRevision | undefined): Promise<void> {
    const live = new Set<string>();
    if (current) live.add(current.metadata?.name ?? "");
    if (update) live.add(update.metadata?.name ?? "");
    for (const p of pods) live.add(podRevision(p));
    const history = revisions.filter((r) => !live.has(r.metadata?.name ?? ""));
    const limit = set.spec?.revisionHistoryLimit ?? 10;
    if (history.length <= limit) return;
    const w = this.writer(set);
    for (const r of history.slice(0, history.length - limit)) {
      try {
        await w.delete(r.metadata?.name ?? "");
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }
}
