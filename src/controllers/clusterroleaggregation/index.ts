// The controller-manager's factory for ClusterRole aggregation ("clusterrole-aggregation-controller").
import { runController } from "../../client/controller.js";
import type { Controller, ControllerContext } from "../context.js";
import { CLUSTER_ROLE_AGGREGATION_CONTROLLER, CLUSTER_ROLE_AGGREGATION_WORKERS, ClusterRoleAggregationController } from "./controller.js";

export { CLUSTER_ROLE_AGGREGATION_CONTROLLER, CLUSTER_ROLE_AGGREGATION_WORKERS, ClusterRoleAggregationController };

export function clusterRoleAggregationController(ctx: ControllerContext): Controller {
  const clusterRoles = ctx.informers.forKind("rbac.authorization.k8s.io/v1", "ClusterRole");
  const log = ctx.log.child({ controller: CLUSTER_ROLE_AGGREGATION_CONTROLLER });
  const c = new ClusterRoleAggregationController({ api: ctx.client, clusterRoles: clusterRoles.lister, log });
  clusterRoles.addEventHandler({ onAdd: () => c.clusterRoleChanged(), onUpdate: () => c.clusterRoleChanged(), onDelete: () => c.clusterRoleChanged() });
  return {
    name: CLUSTER_ROLE_AGGREGATION_CONTROLLER,
    async run(signal, workers) {
      if (!(await clusterRoles.waitForSync(signal))) return;
      await runController({ name: CLUSTER_ROLE_AGGREGATION_CONTROLLER, queue: c.queue, workers, sync: (key, s, l) => c.sync(key, s, l), log: ctx.log, signal, metrics: ctx.metrics });
    },
  };
}
