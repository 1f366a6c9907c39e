// The EndpointSlice controller (upstream pkg/controller/endpointslice): keeps the
// discovery.k8s.io/v1 EndpointSlices of every Service with a selector in step with the pods it
// selects — labelled kubernetes.io/service-name and managed-by endpointslice-controller.k8s.io,
// owned by the Service (the garbage collector removes them with it), conditions ready /
// serving / terminating per endpoint, at most 100 endpoints per slice. Services without a
// selector are left to the user. Syncs wait for the slice cache to show the controller's own
// writes before acting again (the tracker), so a lagging cache never makes duplicates.
import type { Node, Pod, Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import { runController } from "../../client/controller.js";
import { isForbidden, isNotFound, type ApiError } from "../../client/errors.js";
import type { Lister } from "../../client/informer.js";
import { DeletedFinalStateUnknown, finalStateOf, keyOf, splitKey, type DeepReadonly } from "../../client/objects.js";
import { WorkQueue } from "../../client/workqueue.js";
import { selectorFromSet } from "../../api/labels.js";
import type { Logger } from "../../util/log.js";
import type { Controller, ControllerContext, EventSink } from "../context.js";
import type { Api } from "../api.js";
import { podEndpointsChanged, serviceSelector, servicesSelecting, type RPod, type RService } from "../endpoints/index.js";
import { CONTROLLER_NAME, MANAGED_BY_LABEL, MAX_ENDPOINTS_PER_SLICE, reconcile } from "./reconciler.js";
import { EndpointSliceTracker, SERVICE_NAME_LABEL } from "./tracker.js";
import { CodedError } from "../../util/errors.js";

export const ENDPOINTSLICE_CONTROLLER = "endpointslice-controller";
/** Upstream's endpointSliceChangeMinSyncDelay: slice events are batched for a second. */
export const SLICE_CHANGE_SYNC_DELAY_MS = 1000;

export type EndpointSliceErrorCode = "StaleInformerCache" | "NodeNotFound";

/** Why a sync is retried: the cache lags this controller's writes, or a pod's node is unknown. */
export class EndpointSliceError extends CodedError<EndpointSliceErrorCode> {
  override readonly name = "EndpointSliceError";
}

export interface EndpointSliceControllerDeps {
  readonly api: Api;
  readonly services: Lister<Service>;
  readonly pods: Lister<Pod>;
  readonly slices: Lister<EndpointSlice>;
  readonly nodes: Lister<Node>;
  readonly events: EventSink;
  readonly log: Logger;
  readonly maxEndpointsPerSlice?: number;
  /** How long a sync waits for the slice cache to show this controller's writes before retrying later; default 1 s. */
  readonly staleCacheWaitMs?: number;
}

type RSlice = DeepReadonly<EndpointSlice>;

const managedByUs = (s: RSlice): boolean => s.metadata?.labels?.[MANAGED_BY_LABEL] === CONTROLLER_NAME;

export class EndpointSliceController {
  readonly queue = new WorkQueue<string>();
  readonly tracker = new EndpointSliceTracker();
  /** Syncs waiting for the slice cache to move. */
  private sliceWaiters: (() => void)[] = [];

  constructor(private readonly d: EndpointSliceControllerDeps) {}

  private sliceCacheMoved(): void {
    for (const w of this.sliceWaiters.splice(0)) w();
  }

  /** Resolves at the next slice event, or after `ms`, or when `signal` aborts. */
  private nextSliceEvent(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener("abort", done, { once: true });
      this.sliceWaiters.push(done);
    });
  }

  serviceChanged(svc: RService | DeletedFinalStateUnknown<Service>): void {
    this.queue.add(keyOf(svc instanceof DeletedFinalStateUnknown ? svc : (svc as DeepReadonly<Service>)));
  }

  private enqueueForPod(pod: RPod): void {
    for (const key of servicesSelecting(this.d.services.namespace(pod.metadata?.namespace ?? "").list(), pod.metadata?.labels)) this.queue.add(key);
  }

  podAdded(pod: RPod): void {
    this.enqueueForPod(pod);
  }

  podUpdated(old: RPod, cur: RPod): void {
    if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
    const { changed, labelsChanged } = podEndpointsChanged(old, cur);
    if (!changed) return;
    this.enqueueForPod(cur);
    if (labelsChanged) this.enqueueForPod(old);
  }

  podDeleted(pod: RPod | DeletedFinalStateUnknown<Pod>): void {
    this.enqueueForPod(finalStateOf(pod));
  }

  private enqueueForSlice(s: RSlice): void {
    const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (svc) this.queue.addAfter(`${s.metadata?.namespace ?? ""}/${svc}`, SLICE_CHANGE_SYNC_DELAY_MS);
  }

  /** A slice of ours that is not what we last wrote (someone else changed it) needs a sync. */
  sliceAdded(s: RSlice): void {
    this.sliceCacheMoved();
    if (managedByUs(s) && this.tracker.shouldSync(s)) this.enqueueForSlice(s);
  }

  sliceUpdated(old: RSlice, cur: RSlice): void {
    this.sliceCacheMoved();
    if (old.metadata?.labels?.[SERVICE_NAME_LABEL] !== cur.metadata?.labels?.[SERVICE_NAME_LABEL]) {
      this.enqueueForSlice(old);
      this.enqueueForSlice(cur);
      return;
    }
    if (managedByUs(old) !== managedByUs(cur) || (managedByUs(cur) && this.tracker.shouldSync(cur))) this.enqueueForSlice(cur);
  }

  sliceDeleted(obj: RSlice | DeletedFinalStateUnknown<EndpointSlice>): void {
    this.sliceCacheMoved();
    const s = finalStateOf(obj);
    if (managedByUs(s) && this.tracker.has(s) && !this.tracker.handleDeletion(s)) this.enqueueForSlice(s);
  }

  async sync(key: string, signal?: AbortSignal, log: Logger = this.d.log): Promise<void> {
    const { namespace, name } = splitKey(key);
    const svc = this.d.services.get(key);
    // A deleted service's slices go with it through their owner reference.
    if (!svc) {
      this.tracker.deleteService(namespace, name);
      return;
    }
    if (svc.spec?.type === "ExternalName") return;
    const selector = serviceSelector(svc);
    if (!selector) return;
    if (svc.metadata?.deletionTimestamp) return;

    const ours = selectorFromSet({ [SERVICE_NAME_LABEL]: name, [MANAGED_BY_LABEL]: CONTROLLER_NAME });
    const listSlices = (): RSlice[] => this.d.slices.namespace(namespace).list(ours).filter((s) => !s.metadata?.deletionTimestamp);
    let slices = listSlices();
    // Acting on a cache that does not show our last writes would redo them: wait for it (it
    // usually lags by milliseconds), and retry with backoff if it lags longer.
    const deadline = Date.now() + (this.d.staleCacheWaitMs ?? 1000);
    while (this.tracker.staleSlices(namespace, name, slices)) {
      const left = deadline - Date.now();
      if (left <= 0 || signal?.aborted) throw new EndpointSliceError("StaleInformerCache", `EndpointSlice informer cache is out of date for service ${key}`);
      await this.nextSliceEvent(left, signal);
      slices = listSlices();
    }
    const pods = this.d.pods.namespace(namespace).list(selector);

    const plan = reconcile({ service: svc, pods, existing: slices, node: (n) => this.d.nodes.get(n), maxEndpointsPerSlice: this.d.maxEndpointsPerSlice ?? MAX_ENDPOINTS_PER_SLICE });
    try {
      await this.apply(namespace, plan, log);
    } catch (err) {
      this.d.events.event(svc as Service, "Warning", "FailedToUpdateEndpointSlices", `Error updating Endpoint Slices for Service ${key}: ${(err as Error).message}`);
      throw err;
    }
    if (plan.podsOnMissingNodes.length > 0) {
      throw new EndpointSliceError("NodeNotFound", `skipping pods ${plan.podsOnMissingNodes.join(", ")} for service ${key}: their nodes are not found`);
    }
  }

  private async apply(namespace: string, plan: ReturnType<typeof reconcile>, log: Logger): Promise<void> {
    const api = this.d.api.resource<EndpointSlice>("discovery.k8s.io", "v1", "endpointslices").namespace(namespace);
    for (const s of plan.create) {
      try {
        this.tracker.update(await api.create(s));
      } catch (err) {
        // The namespace is going away: creates keep failing, nothing more to do.
        if (isForbidden(err) && ((err as ApiError).details?.causes ?? []).some((c) => c.reason === "NamespaceTerminating")) return;
        throw err;
      }
    }
    for (const s of plan.update) this.tracker.update(await api.update(s));
    for (const s of plan.delete) {
      try {
        await api.delete(s.metadata?.name ?? "");
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      this.tracker.expectDeletion(s);
    }
    if (plan.create.length + plan.update.length + plan.delete.length > 0) {
      log.debug({ created: plan.create.length, updated: plan.update.length, deleted: plan.delete.length }, "endpoint slices written");
    }
  }
}

export function endpointSliceController(ctx: ControllerContext): Controller {
  const services = ctx.informers.forKind("v1", "Service");
  const pods = ctx.informers.forKind("v1", "Pod");
  const slices = ctx.informers.forKind("discovery.k8s.io/v1", "EndpointSlice");
  const nodes = ctx.informers.forKind("v1", "Node");
  const log = ctx.log.child({ controller: ENDPOINTSLICE_CONTROLLER });
  const c = new EndpointSliceController({ api: ctx.client, services: services.lister, pods: pods.lister, slices: slices.lister, nodes: nodes.lister, events: ctx.events, log });
  services.addEventHandler({ onAdd: (s) => c.serviceChanged(s), onUpdate: (_o, s) => c.serviceChanged(s), onDelete: (s) => c.serviceChanged(s) });
  pods.addEventHandler({ onAdd: (p) => c.podAdded(p), onUpdate: (o, p) => c.podUpdated(o, p), onDelete: (p) => c.podDeleted(p) });
  slices.addEventHandler({ onAdd: (s) => c.sliceAdded(s), onUpdate: (o, s) => c.sliceUpdated(o, s), onDelete: (s) => c.sliceDeleted(s) });
  return {
    name: ENDPOINTSLICE_CONTROLLER,
    async run(signal, workers) {
      for (const inf of [services, pods, slices, nodes]) if (!(await inf.waitForSync(signal))) return;
      await runController({ name: ENDPOINTSLICE_CONTROLLER, queue: c.queue, workers, sync: (key, s, l) => c.sync(key, s, l), log: ctx.log, signal, metrics: ctx.metrics });
    },
  };
}
