// The controller-manager's factory for the service load balancer ("service-lb-controller").
import { runController } from "../../client/controller.js";
import type { Controller, ControllerContext } from "../context.js";
import { SERVICE_LB_CONTROLLER, ServiceLBController } from "./controller.js";

export { SERVICE_LB_CONTROLLER, SERVICE_LB_EVENT_SOURCE, EXCLUDE_LB_LABEL } from "./controller.js";

export function serviceLBController(ctx: ControllerContext): Controller {
  const services = ctx.informers.forKind("v1", "Service");
  const nodes = ctx.informers.forKind("v1", "Node");
  const endpoints = ctx.informers.forKind("v1", "Endpoints");
  const log = ctx.log.child({ controller: SERVICE_LB_CONTROLLER });
  const c = new ServiceLBController({ api: ctx.client, services: services.lister, nodes: nodes.lister, endpoints: endpoints.lister, events: ctx.events, log });
  services.addEventHandler({
    onAdd: (svc) => c.serviceChanged(svc),
    onUpdate: (old, svc) => {
      if (old !== svc) c.serviceChanged(svc, old);
    },
    onDelete: (svc) => {
      if (!("obj" in svc)) c.serviceChanged(svc, svc);
      else c.enqueueAll();
    },
  });
  const nodesChanged = (): void => c.enqueueAll();
  nodes.addEventHandler({
    onAdd: nodesChanged,
    onUpdate: (old, node) => {
      // Heartbeats change only timestamps: nothing the load balancers read.
      const strip = (n: typeof node) => JSON.stringify([n.metadata?.labels, n.status?.addresses, n.status?.conditions?.map((x) => [x.type, x.status]), n.status?.daemonEndpoints]);
      if (old !== node && strip(old) !== strip(node)) nodesChanged();
    },
    onDelete: nodesChanged,
  });
  endpoints.addEventHandler({
    onUpdate: (_old, ep) => {
      if (ep.metadata?.namespace === "default" && ep.metadata.name === "kubernetes") c.enqueueAll();
    },
  });
  return {
    name: SERVICE_LB_CONTROLLER,
    async run(signal, workers) {
      for (const inf of [services, nodes, endpoints]) if (!(await inf.waitForSync(signal))) return;
      await runController({ name: SERVICE_LB_CONTROLLER, queue: c.queue, workers, sync: (key, s, l) => c.sync(key, s, l), log: ctx.log, signal, metrics: ctx.metrics });
    },
  };
}
