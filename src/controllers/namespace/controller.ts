// The namespace controller (upstream pkg/controller/namespace): a namespace being deleted
// (deletionTimestamp set, phase Terminating, `kubernetes` still in spec.finalizers) has its
// content deleted, its status conditions kept up to date while that happens, and once nothing
// is left the `kubernetes` finalizer removed through /finalize, which lets the API server
// delete it.
import type { Namespace } from "kubernetes-types/core/v1.js";
import { runController } from "../../client/controller.js";
import { isConflict, isNotFound } from "../../client/errors.js";
import type { Lister } from "../../client/informer.js";
import { DeletedFinalStateUnknown, type DeepReadonly } from "../../client/objects.js";
import { ItemExponentialFailureRateLimiter, WorkQueue } from "../../client/workqueue.js";
import type { Logger } from "../../util/log.js";
import type { Controller, ControllerContext } from "../context.js";
import { serverDiscovery, type Discover } from "../discovery.js";
import { updateConditions } from "./conditions.js";
import { NamespaceContentDeleter, type CollectionApi, type NamespaceApi } from "./deleter.js";
import { rfc3339 } from "../../util/time.js";

export const NAMESPACE_CONTROLLER = "namespace-controller";

/** The spec.finalizers token this controller owns. */
export const FINALIZER_KUBERNETES = "kubernetes";

export interface NamespaceControllerDeps {
  readonly api: NamespaceApi;
  readonly namespaces: Lister<Namespace>;
  readonly discover: Discover;
  readonly log: Logger;
  readonly now?: () => number;
}

/** Content of one pass could not all be deleted; the key is retried with backoff. */
export class NamespaceDeletionError extends Error {
  override readonly name = "NamespaceDeletionError";
  readonly code = "NamespaceContentDeletion";
  constructor(
    message: string,
    readonly errors: readonly Error[],
  ) {
    super(message);
  }
}

export class NamespaceController {
  /** Upstream: per-item backoff 5 ms → 60 s, no overall bucket. */
  readonly queue = new WorkQueue<string>({ rateLimiter: new ItemExponentialFailureRateLimiter<string>(5, 60_000) });
  private readonly deleter: NamespaceContentDeleter;
  private readonly now: () => number;

  constructor(private readonly d: NamespaceControllerDeps) {
    this.now = d.now ?? Date.now;
    this.deleter = new NamespaceContentDeleter(d.api, d.discover, this.now);
  }

  enqueue(ns: DeepReadonly<Namespace> | DeletedFinalStateUnknown<Namespace>): void {
    const obj = ns instanceof DeletedFinalStateUnknown ? ns.obj : ns;
    if (obj.metadata?.deletionTimestamp && obj.metadata.name) this.queue.add(obj.metadata.name);
  }

  private get namespaces(): CollectionApi<Namespace> {
    return this.d.api.resource<Namespace>("", "v1", "namespaces", { namespaced: false, kind: "Namespace" });
  }

  async sync(key: string, signal?: AbortSignal, log: Logger = this.d.log): Promise<void> {
    const cached = this.d.namespaces.get(key);
    if (!cached?.metadata?.deletionTimestamp) return;
    // Several writers touch a terminating namespace; decide on the live object, not the cache.
    let ns: Namespace;
    try {
      ns = await this.namespaces.get(key, signal ? { signal } : {});
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (!ns.metadata?.deletionTimestamp) return;
    if (ns.status?.phase !== "Terminating") {
      ns = await this.retryOnConflict(ns, (cur) => this.namespaces.updateStatus({ ...cur, status: { ...cur.status, phase: "Terminating" } }));
    }
    if (!(ns.spec?.finalizers ?? []).includes(FINALIZER_KUBERNETES)) return;

    const { estimate, outcome, errors } = await this.deleter.deleteAllContent(ns, signal);
    const conditions = updateConditions(ns.status?.conditions, outcome, rfc3339(this.now()));
    if (conditions) {
      try {
        ns = await this.namespaces.updateStatus({ ...ns, status: { ...ns.status, conditions } });
      } catch (err) {
        // The conditions are informative; a failed write must not hold the deletion up.
        log.warn({ err, namespace: key }, "could not update namespace conditions");
      }
    }
    if (errors.length > 0) throw new NamespaceDeletionError(errors.map((e) => e.message).join("; "), errors);
    if (estimate > 0) {
      log.debug({ namespace: key, estimateSeconds: estimate }, "content remains; checking again later");
      this.queue.addAfter(key, (Math.floor(estimate / 2) + 1) * 1000);
      return;
    }
    try {
      await this.retryOnConflict(ns, (cur) =>
        this.namespaces.subresource<Namespace>("PUT", key, "finalize", {
          ...cur,
          spec: { ...cur.spec, finalizers: (cur.spec?.finalizers ?? []).filter((f) => f !== FINALIZER_KUBERNETES) },
        }),
      );
      log.info({ namespace: key }, "namespace content deleted; finalized");
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** Runs `fn` on the namespace, re-reading it after each Conflict (upstream retryOnConflictError). */
  private async retryOnConflict(ns: Namespace, fn: (cur: Namespace) => Promise<Namespace>): Promise<Namespace> {
    let cur = ns;
    for (;;) {
      try {
        return await fn(cur);
      } catch (err) {
        if (!isConflict(err)) throw err;
        const latest = await this.namespaces.get(cur.metadata?.name ?? "");
        if (latest.metadata?.uid !== cur.metadata?.uid) throw new NamespaceDeletionError("namespace uid has changed across retries", []);
        cur = latest;
      }
    }
  }
}

export function namespaceController(ctx: ControllerContext): Controller {
  const namespaces = ctx.informers.forKind("v1", "Namespace");
  const c = new NamespaceController({ api: ctx.client, namespaces: namespaces.lister, discover: serverDiscovery(ctx.client), log: ctx.log.child({ controller: NAMESPACE_CONTROLLER }) });
  namespaces.addEventHandler({ onAdd: (ns) => c.enqueue(ns), onUpdate: (_old, ns) => c.enqueue(ns) }, { resyncPeriodMs: 5 * 60_000 });
  return {
    name: NAMESPACE_CONTROLLER,
    async run(signal, workers) {
      if (!(await namespaces.waitForSync(signal))) return;
      await runController({ name: NAMESPACE_CONTROLLER, queue: c.queue, workers, sync: (key, s, l) => c.sync(key, s, l), log: ctx.log, signal, metrics: ctx.metrics });
    },
  };
}
