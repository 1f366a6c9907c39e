// What every controller is built from, and the one shape they all have (STYLE.md 9): made by
// a factory from a context, `run(signal)` until the signal aborts. The controller-manager
// builds one context per process and starts the controllers it is told to run; controllers
// meet the rest of the system only through the API (the client and shared informers).
import type { Registry } from "prom-client";
import type { RestClient } from "../client/rest.js";
import type { SharedInformerFactory } from "../client/informer.js";
import type { ControllerMetrics } from "../client/controller.js";
import type { Logger } from "../util/log.js";
import type { KubeObject } from "../client/objects.js";

/** Records core/v1 Events about an object (the client library's recorder satisfies it). */
export interface EventSink {
  event(obj: Readonly<KubeObject>, type: "Normal" | "Warning", reason: string, message: string): void;
}

export interface ControllerContext {
  readonly client: RestClient;
  /** Shared by every controller of the process: one watch and one cache per resource. */
  readonly informers: SharedInformerFactory;
  readonly events: EventSink;
  readonly log: Logger;
  readonly metrics: ControllerMetrics;
  readonly registry: Registry;
}

export interface Controller {
  readonly name: string;
  /**
   * Registers informer handlers at construction; `run` waits for the caches it needs, runs
   * `workers` reconcile loops, and resolves once `signal` aborts and in-flight work is done.
   */
  run(signal: AbortSignal, workers: number): Promise<void>;
}

export type ControllerFactory = (ctx: ControllerContext) => Controller;
