// The controller-manager's factory for pod garbage collection ("pod-garbage-collector-controller").
import { realClock, type Clock } from "../../client/clock.js";
import type { Controller, ControllerContext, ControllerFactory } from "../context.js";
import { DEFAULT_POD_GC_OPTIONS, POD_GC_CONTROLLER, PodGCController, podGCMetrics, type PodGCOptions } from "./controller.js";
import { CodedError } from "../../util/errors.js";

export { POD_GC_CONTROLLER, DEFAULT_POD_GC_OPTIONS, type PodGCOptions };

export type PodGCErrorCode = "InvalidOptions";

export class PodGCError extends CodedError<PodGCErrorCode> {
  override readonly name = "PodGCError";
}

export function compilePodGCOptions(o: Partial<PodGCOptions> = {}): PodGCOptions {
  const c = { ...DEFAULT_POD_GC_OPTIONS, ...o };
  if (!(Number.isSafeInteger(c.terminatedPodThreshold) && c.terminatedPodThreshold >= 0)) throw new PodGCError("InvalidOptions", `terminatedPodThreshold must be an integer >= 0, got ${c.terminatedPodThreshold}`);
  if (!(c.gcCheckPeriodMs > 0)) throw new PodGCError("InvalidOptions", `gcCheckPeriodMs must be > 0, got ${c.gcCheckPeriodMs}`);
  if (!(c.quarantineMs >= 0)) throw new PodGCError("InvalidOptions", `quarantineMs must be >= 0, got ${c.quarantineMs}`);
  return c;
}

export function podGCControllerFactory(options: Partial<PodGCOptions> = {}, clock: Clock = realClock): ControllerFactory {
  const compiled = compilePodGCOptions(options);
  return (ctx: ControllerContext): Controller => {
    const pods = ctx.informers.forKind("v1", "Pod");
    const nodes = ctx.informers.forKind("v1", "Node");
    const log = ctx.log.child({ controller: POD_GC_CONTROLLER });
    const c = new PodGCController({ api: ctx.client, pods: pods.lister, nodes: nodes.lister, log, clock, options: compiled, metrics: podGCMetrics(ctx.registry) });
    return {
      name: POD_GC_CONTROLLER,
      async run(signal) {
        if (!(await pods.waitForSync(signal)) || !(await nodes.waitForSync(signal))) return;
        log.info("starting controller");
        await c.run(signal);
      },
    };
  };
}

export const podGCController: ControllerFactory = podGCControllerFactory();
