// The one reconcile runner (STYLE.md 5): every controller hands it a queue and a sync
// function, and gets the same worker loop — errors and rejections caught, retried through the
// queue's rate limiter, success forgotten, each key `done`, outcomes counted, a child logger
// per reconcile. Controllers never write their own loop.
import type { Logger } from "../util/log.js";
import { Counter, Histogram, type Registry } from "prom-client";
import { ApiError, isAlreadyExists, isConflict } from "./errors.js";
import type { WorkQueue } from "./workqueue.js";

export { keyOf, splitKey } from "./objects.js";

export type ReconcileResult = "success" | "error";

export interface ControllerMetrics {
  /** One reconcile of `controller` ended with `result` after `seconds`. */
  observe(controller: string, result: ReconcileResult, seconds: number): void;
}

/**
 * Reconcile metrics in a prom-client registry: `k8ts_controller_reconcile_total{controller,result}`
 * and `k8ts_controller_reconcile_duration_seconds{controller}`. Create once per registry.
 */
export function newControllerMetrics(registry: Registry): ControllerMetrics {
  const total = new Counter({ name: "k8ts_controller_reconcile_total", help: "Reconciles per controller and result.", labelNames: ["controller", "result"], registers: [registry] });
  const duration = new Histogram({
    name: "k8ts_controller_reconcile_duration_seconds",
    help: "Time per reconcile.",
    labelNames: ["controller"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  return {
    observe(controller, result, seconds) {
      total.inc({ controller, result });
      duration.observe({ controller }, seconds);
    },
  };
}

/**
 * Retries after which a failing key is logged as an error: a few failures in a row are what
 * controllers meet in ordinary work (a write racing another writer, a cache a moment behind),
 * and upstream's controllers log those at a debug level too, keeping errors for keys that go
 * on failing (the deployment controller after 15 retries).
 */
export const ERROR_AFTER_REQUEUES = 5;

/**
 * How a failed reconcile is logged. A 409 (Conflict: the object changed since it was read;
 * AlreadyExists: the cache had not seen an object yet) is optimistic concurrency doing its job:
 * debug, and so is an error its controller marks `ignorable` (expected, e.g. a node's CSR waiting
 * for a person to approve it; upstream's certificates IgnorableError, logged at V(4)). Other
 * failures warn, and are errors once the key has failed ERROR_AFTER_REQUEUES times in a row. An
 * API error is logged by its Status (what the server said); anything else keeps its stack, since
 * it is likely a bug.
 */
const isIgnorable = (err: unknown): boolean => typeof err === "object" && err !== null && (err as { ignorable?: unknown }).ignorable === true;

function logFailure(log: Logger, err: unknown, requeues: number): void {
  const fields = err instanceof ApiError ? { error: err.message, code: err.code, reason: err.reason, requeues } : { err, requeues };
  if (isConflict(err) || isAlreadyExists(err)) log.debug(fields, "reconcile raced another write; will retry");
  else if (isIgnorable(err)) log.debug(fields, "reconcile not done yet; will retry");
  else if (requeues >= ERROR_AFTER_REQUEUES) log.error(fields, "reconcile failed; will retry");
  else log.warn(fields, "reconcile failed; will retry");
}

export interface RunControllerOptions {
  /** Names the controller in logs and metrics. */
  readonly name: string;
  readonly queue: WorkQueue<string>;
  /** Keys reconciled concurrently (never the same key twice: the queue guarantees it). */
  readonly workers: number;
  /**
   * Makes the world match the object named by `key`. Resolve when done; throw (or reject) to
   * have the key retried with backoff. `signal` aborts when the controller stops; `log` is a
   * child logger carrying `{ controller, key }`.
   */
  readonly sync: (key: string, signal: AbortSignal, log: Logger) => Promise<void>;
  readonly log: Logger;
  /** Stops the controller: the queue is shut down and in-flight reconciles finish. */
  readonly signal: AbortSignal;
  readonly metrics?: ControllerMetrics;
}

/**
 * Runs `workers` reconcile loops until `signal` aborts, then shuts the queue down and resolves
 * once every in-flight reconcile has returned. Never rejects.
 */
export async function runController(opts: RunControllerOptions): Promise<void> {
  const { name, queue, sync, signal, metrics } = opts;
  // A logger that names its controller already (one controller running several queues) gets
  // the queue's name under its own key: a second "controller" member would repeat the key in
  // every JSON line.
  const log = opts.log.child("controller" in opts.log.bindings() ? { queue: name } : { controller: name });
  const stop = (): void => queue.shutDown();
  if (signal.aborted) stop();
  else signal.addEventListener("abort", stop, { once: true });

  const worker = async (): Promise<void> => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      // The queue hands out its backlog even after shutdown (client-go's contract); a stopping
      // controller leaves it for whoever leads next instead of working through it.
      if (signal.aborted) {
        queue.done(key);
        return;
      }
      const started = performance.now();
      let result: ReconcileResult = "success";
      const keyLog = log.child({ key });
      try {
        await sync(key, signal, keyLog);
        queue.forget(key);
      } catch (err) {
        result = "error";
        if (signal.aborted) {
          keyLog.debug({ err }, "reconcile ended by shutdown");
        } else {
          logFailure(keyLog, err, queue.numRequeues(key));
          queue.addRateLimited(key);
        }
      } finally {
        queue.done(key);
      }
      metrics?.observe(name, result, (performance.now() - started) / 1000);
    }
  };

  log.info({ workers: opts.workers }, "starting controller");
  try {
    await Promise.all(Array.from({ length: Math.max(1, opts.workers) }, () => worker()));
  } finally {
    signal.removeEventListener("abort", stop);
    log.info("controller stopped");
  }
}
