// Factories for the controller-manager: the node lifecycle controller (upstream
// "node-lifecycle-controller") and the taint-eviction controller ("taint-eviction-controller").
import type { Pod } from "kubernetes-types/core/v1.js";
import { realClock, type Clock } from "../../client/clock.js";
import { NODE_NAME_INDEX, nodeNameIndexFunc, type IndexFunc, type SharedInformer } from "../../client/informer.js";
import { DeletedFinalStateUnknown } from "../../client/objects.js";
import type { Controller, ControllerContext, ControllerFactory } from "../context.js";
import { DEFAULT_NODE_LIFECYCLE_OPTIONS, NODE_LIFECYCLE_CONTROLLER, NodeLifecycleController, NodeLifecycleError, type NodeLifecycleOptions } from "./controller.js";
import { TAINT_EVICTION_CONTROLLER, TaintEvictionController } from "./tainteviction.js";

export { NODE_LIFECYCLE_CONTROLLER, TAINT_EVICTION_CONTROLLER, DEFAULT_NODE_LIFECYCLE_OPTIONS, type NodeLifecycleOptions };

/** The pod informer with the node-name index both controllers (and pod GC) look pods up by. */
export function podsByNode(ctx: ControllerContext): SharedInformer<Pod> {
  const pods = ctx.informers.forKind("v1", "Pod");
  if (!pods.indexer.hasIndex(NODE_NAME_INDEX)) pods.addIndexers({ [NODE_NAME_INDEX]: nodeNameIndexFunc as unknown as IndexFunc<Pod> });
  return pods;
}

export function compileNodeLifecycleOptions(o: Partial<NodeLifecycleOptions> = {}): NodeLifecycleOptions {
  const c = { ...DEFAULT_NODE_LIFECYCLE_OPTIONS, ...o };
  for (const [k, v] of Object.entries(c)) {
    if (!(typeof v === "number" && Number.isFinite(v) && v >= 0)) throw new NodeLifecycleError("InvalidOptions", `${k} must be a number >= 0, got ${String(v)}`);
  }
  if (c.nodeMonitorPeriodMs <= 0) throw new NodeLifecycleError("InvalidOptions", "nodeMonitorPeriodMs must be > 0");
  if (c.unhealthyZoneThreshold > 1) throw new NodeLifecycleError("InvalidOptions", "unhealthyZoneThreshold must be at most 1");
  return c;
}

/** A node lifecycle controller factory with other than the default options (tests, flags). */
export function nodeLifecycleControllerFactory(options: Partial<NodeLifecycleOptions> = {}, clock: Clock = realClock): ControllerFactory {
  const compiled = compileNodeLifecycleOptions(options);
  return (ctx: ControllerContext): Controller => {
    const nodes = ctx.informers.forKind("v1", "Node");
    const leases = ctx.informers.forKind("coordination.k8s.io/v1", "Lease");
    const pods = podsByNode(ctx);
    const log = ctx.log.child({ controller: NODE_LIFECYCLE_CONTROLLER });
    const c = new NodeLifecycleController({ api: ctx.client, nodes: nodes.lister, leases: leases.lister, pods: pods.indexer, events: ctx.events, log, clock, options: compiled, metrics: ctx.metrics });
    nodes.addEventHandler({
      onAdd: (n) => c.nodeChanged(n),
      onUpdate: (_old, n) => c.nodeChanged(n),
      onDelete: (n) => c.nodeDeleted((n instanceof DeletedFinalStateUnknown ? n.obj : n).metadata?.name ?? ""),
    });
    pods.addEventHandler({ onAdd: (p) => c.podChanged(undefined, p), onUpdate: (old, p) => c.podChanged(old, p) });
    return {
      name: NODE_LIFECYCLE_CONTROLLER,
      async run(signal, workers) {
        for (const inf of [nodes, leases, pods] as const) if (!(await inf.waitForSync(signal))) return;
        await c.run(signal, workers);
      },
    };
  };
}

export const nodeLifecycleController: ControllerFactory = nodeLifecycleControllerFactory();

export function taintEvictionControllerFactory(clock: Clock = realClock): ControllerFactory {
  return (ctx: ControllerContext): Controller => {
    const nodes = ctx.informers.forKind("v1", "Node");
    const pods = podsByNode(ctx);
    const log = ctx.log.child({ controller: TAINT_EVICTION_CONTROLLER });
    const c = new TaintEvictionController({ api: ctx.client, nodes: nodes.lister, pods: pods.indexer, events: ctx.events, log, clock, metrics: ctx.metrics });
    pods.addEventHandler({
      onAdd: (p) => c.podChanged(undefined, p),
      onUpdate: (old, p) => c.podChanged(old, p),
      onDelete: (p) => c.podChanged(p instanceof DeletedFinalStateUnknown ? p.obj : p, undefined),
    });
    nodes.addEventHandler({
      onAdd: (n) => c.nodeChanged(undefined, n),
      onUpdate: (old, n) => c.nodeChanged(old, n),
      onDelete: (n) => c.nodeChanged(n instanceof DeletedFinalStateUnknown ? n.obj : n, undefined),
    });
    return {
      name: TAINT_EVICTION_CONTROLLER,
      async run(signal, workers) {
        for (const inf of [nodes, pods] as const) if (!(await inf.waitForSync(signal))) return;
        await c.run(signal, workers);
      },
    };
  };
}

export const taintEvictionController: ControllerFactory = taintEvictionControllerFactory();
