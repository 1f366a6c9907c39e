// The garbage collector as a controller: discovery says which resources can have owners or
// dependents (everything that can be listed, watched and deleted, events aside, as upstream);
// one shared informer per resource feeds the dependency graph; the attemptToDelete and
// attemptToOrphan queues run on the common reconcile runner. Discovery is repeated every
// 30 s (upstream's period) so resources added later (custom resources) are watched too.
import { runController } from "../../client/controller.js";
import { sleep, realClock, type Clock } from "../../client/clock.js";
import type { SharedInformer } from "../../client/informer.js";
import { DeletedFinalStateUnknown, type KubeObject } from "../../client/objects.js";
import { Backoff } from "../../client/backoff.js";
import type { Controller, ControllerContext, ControllerFactory } from "../context.js";
import { ResourceMapper, serverDiscovery, supportsVerbs, type ApiResource, type Discover } from "../discovery.js";
import { GarbageCollector } from "./collector.js";
import type { ObjectIdentity } from "./graph.js";

export const GARBAGE_COLLECTOR_CONTROLLER = "garbage-collector-controller";

/** Upstream's ignoredResources: events are never owners and never collected. */
const IGNORED = new Set(["|events", "events.k8s.io|events"]);

export interface GarbageCollectorControllerOptions {
  /** Default: the API server's discovery. */
  readonly discover?: Discover;
  /** How often discovery is repeated; default 30 s. */
  readonly resyncMs?: number;
  readonly clock?: Clock;
}

/** The resources the collector watches: listable, watchable, deletable, not ignored. */
export function monitorable(r: ApiResource): boolean {
  return supportsVerbs(r, "delete", "list", "watch") && !IGNORED.has(`${r.group}|${r.plural}`);
}

export function makeGarbageCollectorController(opts: GarbageCollectorControllerOptions = {}): ControllerFactory {
  return (ctx) => garbageCollectorControllerWith(ctx, opts);
}

export const garbageCollectorController: ControllerFactory = (ctx) => garbageCollectorControllerWith(ctx, {});

function garbageCollectorControllerWith(ctx: ControllerContext, opts: GarbageCollectorControllerOptions): Controller {
  const log = ctx.log.child({ controller: GARBAGE_COLLECTOR_CONTROLLER });
  const discover = opts.discover ?? serverDiscovery(ctx.client);
  const clock = opts.clock ?? realClock;
  let mapper = new ResourceMapper([]);
  const monitors = new Map<string, SharedInformer<KubeObject>>();
  const reportInvalid = (dep: ObjectIdentity, ownerUid: string): void => {
    const ref = gc.graph.nodes.get(dep.uid)?.owners.find((r) => r.uid === ownerUid);
    if (!ref) return;
    const obj: KubeObject = { apiVersion: dep.apiVersion, kind: dep.kind, metadata: { name: dep.name, namespace: dep.namespace, uid: dep.uid } };
    ctx.events.event(obj, "Warning", "OwnerRefInvalidNamespace", `ownerRef [${ref.apiVersion}/${ref.kind}, namespace: ${dep.namespace}, name: ${ref.name}, uid: ${ref.uid}] does not exist in namespace "${dep.namespace}"`);
  };
  const gc: GarbageCollector = new GarbageCollector({ api: ctx.client, mapper: () => mapper, log, reportInvalid });

  /** Reads discovery, refreshes the mapper and starts informers for resources not yet watched. */
  const syncMonitors = async (signal: AbortSignal): Promise<void> => {
    const d = await discover(signal);
    if (d.failed.size > 0) log.warn({ failed: Object.fromEntries(d.failed) }, "discovery failed for some group versions; collecting the rest");
    mapper = new ResourceMapper(d.all);
    let added = 0;
    for (const r of d.preferred) {
      const key = `${r.group}|${r.plural}`;
      if (!monitorable(r) || monitors.has(key)) continue;
      const inf = ctx.informers.informerFor(ctx.client.resource<KubeObject>(r.group, r.version, r.plural, { namespaced: r.namespaced, kind: r.kind }));
      inf.addEventHandler({
        onAdd: (obj) => gc.graph.observeUpsert(obj),
        onUpdate: (old, obj) => gc.graph.observeUpsert(obj, old),
        onDelete: (obj) => gc.graph.observeDelete(obj instanceof DeletedFinalStateUnknown ? obj.obj : obj),
      });
      monitors.set(key, inf);
      added++;
    }
    if (added > 0) {
      log.info({ added, monitored: monitors.size }, "watching resources for the dependency graph");
      ctx.informers.start(signal);
    }
  };

  return {
    name: GARBAGE_COLLECTOR_CONTROLLER,
    async run(signal, workers) {
      const backoff = new Backoff({ initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5, resetAfterMs: 120_000, clock, random: Math.random });
      for (;;) {
        try {
          await syncMonitors(signal);
          break;
        } catch (err) {
          if (signal.aborted) return;
          log.error({ err }, "discovery failed; retrying");
          if (!(await sleep(clock, backoff.next(), signal))) return;
        }
      }
      // Deciding before the graph holds everything could take a live owner for a missing one.
      const synced = await Promise.all([...monitors.values()].map((i) => i.waitForSync(signal)));
      if (!synced.every(Boolean)) return;
      log.info({ monitored: monitors.size, nodes: gc.graph.nodes.size }, "dependency graph synced");
      const rediscover = async (): Promise<void> => {
        while (await sleep(clock, opts.resyncMs ?? 30_000, signal)) {
          try {
            await syncMonitors(signal);
          } catch (err) {
            if (!signal.aborted) log.warn({ err }, "periodic discovery failed");
          }
        }
      };
      await Promise.all([
        runController({ name: GARBAGE_COLLECTOR_CONTROLLER, queue: gc.attemptToDelete, workers, sync: (k, s, l) => gc.syncDelete(k, s, l), log: ctx.log, signal, metrics: ctx.metrics }),
        runController({ name: `${GARBAGE_COLLECTOR_CONTROLLER}-orphan`, queue: gc.attemptToOrphan, workers, sync: (k, s, l) => gc.syncOrphan(k, s, l), log: ctx.log, signal, metrics: ctx.metrics }),
        rediscover(),
      ]);
    },
  };
}
