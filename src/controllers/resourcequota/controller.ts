// The resource quota controller (upstream pkg/controller/resourcequota): keeps the status of
// every ResourceQuota — status.hard copied from spec.hard, status.used recounted from the
// namespace's objects — which the API server's ResourceQuota admission charges creates against
// (and which it requires to be set before it admits anything under the quota).
import type { ResourceQuota } from "kubernetes-types/core/v1.js";
import { usageOf, type CountedObject, type CountedResource } from "../../api/quota.js";
import { isConflict, isNotFound } from "../../client/errors.js";
import type { Lister } from "../../client/informer.js";
import { DeletedFinalStateUnknown, keyOf, splitKey, type DeepReadonly, type KubeObject } from "../../client/objects.js";
import { jsonEqual } from "../../util/json.js";
import type { Logger } from "../../util/log.js";
import type { Api } from "../api.js";
import { nextStatus, sameResourceList, type RQuota } from "./status.js";

export const RESOURCE_QUOTA_CONTROLLER = "resourcequota-controller";

/** Upstream's --resource-quota-sync-period: every quota is recounted this often, whatever happened. */
export const RESOURCE_QUOTA_RESYNC_MS = 5 * 60 * 1000;

/** `group/plural`, the key of a tracked resource's lister. */
export function resourceKey(r: Pick<CountedResource, "group" | "plural">): string {
  return `${r.group}/${r.plural}`;
}

export interface ResourceQuotaDeps {
  readonly api: Api;
  readonly quotas: Lister<ResourceQuota>;
  /** The lister of every COUNTED_RESOURCES entry, by resourceKey. */
  readonly objects: ReadonlyMap<string, Lister<KubeObject>>;
}

export class ResourceQuotaController {
  constructor(private readonly d: ResourceQuotaDeps) {}

  /** Recounts one quota and writes its status if it changed (upstream's syncResourceQuota). */
  async sync(key: string, log: Logger): Promise<void> {
    const { namespace, name } = splitKey(key);
    const quota = this.d.quotas.namespace(namespace).get(name);
    if (!quota) return;
    const status = nextStatus(quota, (r) => this.d.objects.get(resourceKey(r))?.namespace(namespace).list() ?? []);
    if (!status) return;
    const next = structuredClone(quota) as ResourceQuota;
    next.status = status;
    try {
      // Not retried here: a conflict goes back to the queue, which re-reads the cache.
      await this.d.api.resource<ResourceQuota>("", "v1", "resourcequotas").namespace(namespace).updateStatus(next);
    } catch (err) {
      if (isNotFound(err)) return;
      if (!isConflict(err)) log.error({ err, quota: key }, "failed to update resource quota status");
      throw err;
    }
    log.debug({ quota: key, used: status.used }, "updated resource quota status");
  }

  /**
   * The keys of the namespace's quotas that name something in `names`, which is worked out only
   * when the namespace has quotas (most have none, and their objects' events are most events).
   */
  quotaKeysFor(namespace: string, names: () => ReadonlySet<string>): string[] {
    const quotas = this.d.quotas.namespace(namespace).list();
    if (quotas.length === 0) return [];
    const wanted = names();
    return quotas.filter((q) => Object.keys(q.spec?.hard ?? {}).some((n) => wanted.has(n))).map((q) => keyOf(q as DeepReadonly<KubeObject>));
  }
}

type Obj = DeepReadonly<KubeObject>;

/** Maps informer events to quota keys (upstream's addQuota/updateQuota and replenishment handlers). */
export class ResourceQuotaEventHandlers {
  constructor(
    private readonly c: ResourceQuotaController,
    private readonly enqueue: (key: string) => void,
  ) {}

  quotaAdded(q: RQuota): void {
    this.enqueue(keyOf(q as Obj));
  }

  /**
   * A periodic resync (old === cur) or a changed spec recounts; a status-only change does not,
   * as upstream: the admission charges creates into status.used, and the objects' own events
   * bring the recount.
   */
  quotaUpdated(old: RQuota, cur: RQuota): void {
    if (old === cur || !jsonEqual(old.spec, cur.spec) || !sameResourceList(cur.status?.hard, cur.spec?.hard)) this.quotaAdded(cur);
  }

  /**
   * An object of a tracked resource was added, changed or deleted: every quota of its namespace
   * that names something the object counted for, before or after, is recounted. A pod that
   * ended counts for nothing, so the update that makes it Succeeded or Failed releases its share.
   */
  objectChanged(r: CountedResource, old: Obj | DeletedFinalStateUnknown<KubeObject> | undefined, cur: Obj | undefined): void {
    const objs = [old instanceof DeletedFinalStateUnknown ? old.obj : old, cur].filter((o): o is Obj => o !== undefined);
    const first = objs[0];
    if (!first) return;
    const countedFor = (): Set<string> => new Set(objs.flatMap((o) => [...usageOf(r.group, r.plural, o as unknown as CountedObject).keys()]));
    for (const k of this.c.quotaKeysFor(first.metadata?.namespace ?? "", countedFor)) this.enqueue(k);
  }
}
