// The ClusterRole aggregation controller (upstream pkg/controller/clusterroleaggregation): a
// ClusterRole with an aggregationRule has as its rules those of the ClusterRoles its selectors
// match, which is how `admin`, `edit` and `view` grow when a CRD's installer labels a role
// `rbac.authorization.k8s.io/aggregate-to-view: "true"`. Keys are ClusterRole names.
import type { ClusterRole } from "kubernetes-types/rbac/v1.js";
import { ApiError, isNotFound } from "../../client/errors.js";
import type { Lister } from "../../client/informer.js";
import { WorkQueue } from "../../client/workqueue.js";
import type { Logger } from "../../util/log.js";
import type { Api, ResourceApi } from "../api.js";
import { aggregatedRules, ruleListsEqual } from "./aggregate.js";

export const CLUSTER_ROLE_AGGREGATION_CONTROLLER = "clusterrole-aggregation-controller";
/** kube-controller-manager starts it with 5 workers (no flag changes that). */
export const CLUSTER_ROLE_AGGREGATION_WORKERS = 5;
/** The field manager of the rules it applies, upstream's. */
export const FIELD_MANAGER = "clusterrole-aggregation-controller";

const RBAC_API_VERSION = "rbac.authorization.k8s.io/v1";

export interface ClusterRoleAggregationDeps {
  readonly api: Api;
  readonly clusterRoles: Lister<ClusterRole>;
  readonly log: Logger;
}

export class ClusterRoleAggregationController {
  readonly queue = new WorkQueue<string>();
  private readonly client: ResourceApi<ClusterRole>;

  constructor(private readonly d: ClusterRoleAggregationDeps) {
    this.client = d.api.resource<ClusterRole>("rbac.authorization.k8s.io", "v1", "clusterroles", { namespaced: false, kind: "ClusterRole" });
  }

  /**
   * Any ClusterRole added, changed or deleted may feed any aggregate (and which ones is not
   * known without evaluating every selector), so every aggregating ClusterRole is queued, as
   * upstream does; there are few ClusterRoles.
   */
  clusterRoleChanged(): void {
    for (const role of this.d.clusterRoles.list()) {
      if (role.aggregationRule && role.metadata?.name) this.queue.add(role.metadata.name);
    }
  }

  async sync(key: string, _signal?: AbortSignal, log: Logger = this.d.log): Promise<void> {
    const role = this.d.clusterRoles.get(key);
    if (!role?.aggregationRule) return;
    const rules = aggregatedRules(role.aggregationRule, key, this.d.clusterRoles.list());
    if (ruleListsEqual(rules, role.rules)) return;
    // Applied with force under our own field manager, as upstream: the controller then owns
    // `rules` (an atomic list), so a hand edit is overwritten, and an aggregate that gathers
    // nothing drops the rules it had gathered (upstream's apply configuration leaves `rules`
    // out when empty).
    const applied: ClusterRole = { apiVersion: RBAC_API_VERSION, kind: "ClusterRole", metadata: { name: key }, ...(rules.length > 0 ? { rules } : {}) };
    try {
      await this.client.patch(key, "apply", applied, { fieldManager: FIELD_MANAGER, force: true });
    } catch (err) {
      if (isNotFound(err)) return;
      if (!isUnsupportedMediaType(err)) throw err;
      // A server without server-side apply: an update conditional on what the cache saw
      // (a Conflict is retried from the newer cache).
      const next = structuredClone(role) as ClusterRole;
      if (rules.length > 0) next.rules = rules;
      else delete next.rules;
      try {
        await this.client.update(next, { fieldManager: FIELD_MANAGER });
      } catch (updateErr) {
        if (isNotFound(updateErr)) return;
        throw updateErr;
      }
    }
    log.info({ clusterRole: key, rules: rules.length }, "aggregated the rules of the selected cluster roles");
  }
}

/** 415: the server does not take `application/apply-patch+yaml`. */
function isUnsupportedMediaType(err: unknown): boolean {
  return err instanceof ApiError && err.code === 415;
}
